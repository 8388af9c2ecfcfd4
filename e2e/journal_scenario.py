"""Build a pair with one goal in the live server's database and print it as JSON.

Run by the journal journey (``run_python("journal_scenario.py", tag)``) with the server's environment. Each
call makes a mentor and a mentee of its own (named after ``tag``), paired a month ago in the current cycle,
which it creates when there is none.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scenario import ensure_current_cycle  # noqa: E402  (e2e/ is this script's folder)

from portal import create_app  # noqa: E402
from portal.accounts.services import get_or_create_team  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Goal, Pairing, Role, User  # noqa: E402
from portal.models.base import utcnow  # noqa: E402
from portal.passwords import hash_password  # noqa: E402

PASSWORD = "a gentle morning swim 42"


def person(tag: str, name: str, team: str) -> User:
    user = User(
        email=f"{name.split()[0].lower()}.{tag}@example.com",
        display_name=f"{name} {tag.upper()}",
        team=get_or_create_team(f"{team} {tag}"),
        password_hash=hash_password(PASSWORD),
        role=Role.PARTICIPANT,
        onboarded_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        mentor = person(tag, "Asha Rao", "Design")
        mentee = person(tag, "Priya Shah", "Data")
        pairing = Pairing(
            cycle_id=cycle.id,
            mentor_id=mentor.id,
            mentee_id=mentee.id,
            source="request",
            created_at=utcnow() - timedelta(days=30),
        )
        db.session.add(pairing)
        db.session.flush()
        goal = Goal(
            pairing_id=pairing.id,
            title=f"Negotiate calmly {tag}",
            outcome="Vendor negotiations end with an agreement both sides feel good about.",
            measure="After each negotiation, a note on whether I kept my position calmly.",
            target="3 of the next 4 negotiations",
            due_on=cycle.starts_on + timedelta(days=60),
            project="The cloud contract renewal",
            created_by_id=mentee.id,
        )
        db.session.add(goal)
        db.session.commit()
        print(
            json.dumps(
                {
                    "password": PASSWORD,
                    "pairing_id": pairing.id,
                    "goal": goal.title,
                    "mentor": {"email": mentor.email, "name": mentor.display_name},
                    "mentee": {"email": mentee.email, "name": mentee.display_name},
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
