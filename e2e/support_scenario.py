"""Build a back-up plan scenario in the live server's database and print it as JSON.

Run by the back-up plan journey (``run_python("support_scenario.py", tag)``): a mentee paired three weeks
ago (so the first check-in is waiting) with a mentor, another mentor with room who fits the mentee, and the
program director, all named after ``tag``, in the shared current cycle.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenario import PASSWORD, ensure_current_cycle, person  # noqa: E402  (e2e/ is this script's folder)

from portal import create_app  # noqa: E402
from portal.clock import utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Enrolment, EnrolmentRole, Meeting, MeetingStatus, Pairing  # noqa: E402


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        shared = {"values": ["curiosity", "kindness"], "formats": ["video"], "time": ["1h"]}
        people = {
            "mentor": person(tag, "mentor", "Asha Rao", "Design", skills_offer=["negotiation"], **shared),
            "mentee": person(tag, "mentee", "Priya Shah", "Data", skills_grow=["negotiation"], **shared),
            "new_mentor": person(tag, "mentor", "Fen Fresh", "Legal", skills_offer=["negotiation"], **shared),
            "director": person(tag, "director", "Dana Whitfield", "People"),
        }
        for key, role in (("mentor", "mentor"), ("mentee", "mentee"), ("new_mentor", "mentor")):
            db.session.add(Enrolment(cycle_id=cycle.id, user_id=people[key].id, role=EnrolmentRole(role), capacity=1))
        pairing = Pairing(
            cycle_id=cycle.id,
            mentor_id=people["mentor"].id,
            mentee_id=people["mentee"].id,
            source="request",
            created_at=utcnow() - timedelta(days=21),
        )
        db.session.add(pairing)
        db.session.flush()
        held = utcnow() - timedelta(days=15)
        db.session.add(
            Meeting(pairing_id=pairing.id, status=MeetingStatus.HELD, starts_at=held, held_on=held.date(),
                    format="video", topics=f"Getting started {tag}", notes=f"Our first notes {tag}", notes_version=1)
        )  # fmt: skip
        db.session.commit()
        print(
            json.dumps(
                {
                    "password": PASSWORD,
                    "pairing_id": pairing.id,
                    **{k: {"id": u.id, "email": u.email, "name": u.display_name} for k, u in people.items()},
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
