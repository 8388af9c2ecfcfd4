"""People for the enrolment journey: one with questionnaire answers and one without, neither enrolled.

Run by the e2e tests (``run_python("walk_scenario.py", tag)``); prints the people and the cycle as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from e2e.scenario import PASSWORD, ensure_current_cycle, person  # noqa: E402
from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        ready = person(tag, "mentee", "Rosa Lind", "Legal", values=["curiosity"], participation=["mentee"])
        blank = person(tag, "mentee", "Theo Grant", "Facilities")
        db.session.commit()
        print(json.dumps({
            "cycle": cycle.name, "cycle_id": cycle.id, "password": PASSWORD,
            "ready": {"email": ready.email, "name": ready.display_name},
            "blank": {"email": blank.email, "name": blank.display_name},
        }))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
