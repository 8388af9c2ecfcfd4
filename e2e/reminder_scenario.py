"""Plan a meeting of a pair half an hour from now, run the meeting reminders once, and print who was reminded.

Run by the preferences journey (``run_python("reminder_scenario.py", pairing_id)``) with the server's
environment, as the queue's periodic job would.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.clock import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Meeting, MeetingStatus, Notification, Pairing, User  # noqa: E402
from portal.notifications.reminders import send_meeting_reminders  # noqa: E402


def main(pairing_id: int) -> None:
    app = create_app()
    with app.app_context():
        pairing = db.session.get(Pairing, pairing_id)
        starts = (utcnow() + timedelta(minutes=30)).replace(second=0, microsecond=0)
        db.session.add(Meeting(pairing_id=pairing.id, status=MeetingStatus.PLANNED, starts_at=starts, format="video"))
        db.session.flush()
        send_meeting_reminders(utcnow())
        db.session.commit()
        reminded = {}
        for user_id in (pairing.mentor_id, pairing.mentee_id):
            messages = db.session.scalars(select(Notification.message).where(Notification.user_id == user_id)).all()
            reminded[db.session.get(User, user_id).email] = sum("starts in an hour" in m for m in messages)
        print(json.dumps(reminded))


if __name__ == "__main__":
    main(int(sys.argv[1]))
