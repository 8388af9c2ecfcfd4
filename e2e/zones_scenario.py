"""Build a pair in two time zones in the live server's database and print it as JSON.

Run by the time zone journey (``run_python("zones_scenario.py", tag)``) with the server's environment: Ana (the
mentee) has never chosen a zone, so she reads the organisation's until she picks Berlin; Sam (her mentor) lives
in New York. Paired a month ago in the current cycle, which is created when there is none.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from journal_scenario import PASSWORD, person  # noqa: E402  (e2e/ is this script's folder)
from scenario import ensure_current_cycle  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Pairing  # noqa: E402
from portal.models.base import utcnow  # noqa: E402


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        mentor = person(tag, "Sam Lee", "Finance")
        mentor.timezone = "America/New_York"
        mentee = person(tag, "Ana Berg", "Design")
        pairing = Pairing(
            cycle_id=cycle.id,
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            source="request",
            created_at=utcnow() - timedelta(days=30),
        )
        db.session.add(pairing)
        db.session.commit()
        print(
            json.dumps(
                {
                    "password": PASSWORD,
                    "pairing_id": pairing.id,
                    "mentor": {"email": mentor.email, "name": mentor.display_name},
                    "mentee": {"email": mentee.email, "name": mentee.display_name},
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
