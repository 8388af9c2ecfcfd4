"""Build a matching scenario in the live server's database and print it as JSON.

Run by the e2e tests (``run_python("scenario.py", tag)``) with the server's environment. Each call makes
people of its own (named after ``tag``) in the one current cycle, which it creates the first time.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.accounts.services import get_or_create_team  # noqa: E402
from portal.clock import today  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Enrolment, EnrolmentRole, Role, User  # noqa: E402
from portal.onboarding.questions import QUESTION_BY_KEY  # noqa: E402
from portal.onboarding.services import save_answer  # noqa: E402
from portal.passwords import hash_password  # noqa: E402
from portal.programs.services import CycleInput, create_cycle, current_cycle  # noqa: E402

PASSWORD = "a gentle morning swim 42"


def person(tag: str, role: str, name: str, team: str, capacity: int = 1, **answers) -> User:
    user = User(
        email=f"{name.split()[0].lower()}.{tag}@example.com",
        display_name=f"{name} {tag.upper()}",
        team=get_or_create_team(f"{team} {tag}"),
        password_hash=hash_password(PASSWORD),
        role=Role.DIRECTOR if role == "director" else Role.PARTICIPANT,
    )
    db.session.add(user)
    db.session.flush()
    for key, values in answers.items():
        save_answer(user, QUESTION_BY_KEY[key], values=values)
    return user


def ensure_current_cycle():
    """The current cycle, created the first time ("E2E season", matching open) and shared by every scenario."""
    cycle = current_cycle()
    if cycle is None:
        day = today()
        cycle = create_cycle(
            CycleInput(
                name="E2E season",
                enrolment_opens_on=day - timedelta(days=10),
                enrolment_closes_on=day + timedelta(days=5),
                matching_opens_on=day - timedelta(days=5),
                matching_closes_on=day + timedelta(days=20),
                starts_on=day + timedelta(days=21),
                ends_on=day + timedelta(days=200),
                is_current=True,
            )
        )
    return cycle


def main(tag: str, paired: bool = False) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        shared = {"values": ["curiosity", "kindness"], "formats": ["video"], "time": ["1h"]}
        people = {
            "mentor": person(tag, "mentor", "Asha Rao", "Design", skills_offer=["negotiation"], **shared),
            "mentee": person(tag, "mentee", "Priya Shah", "Data", skills_grow=["negotiation"], **shared),
            "mentor2": person(tag, "mentor", "Ben Okafor", "Sales", capacity=2, skills_offer=["delegation"]),
            "mentee2": person(tag, "mentee", "Kofi Mensah", "Finance", skills_grow=["delegation"]),
            "mentee3": person(tag, "mentee", "Mei Tanaka", "Support", skills_grow=["confidence"]),
            "director": person(tag, "director", "Dana Whitfield", "People"),
        }
        for key, user in people.items():
            role = {"mentor": EnrolmentRole.MENTOR, "mentor2": EnrolmentRole.MENTOR}.get(key, EnrolmentRole.MENTEE)
            if key != "director":
                capacity = 2 if key == "mentor2" else 1
                db.session.add(Enrolment(cycle_id=cycle.id, user_id=user.id, role=role, capacity=capacity))
        pairing_id = None
        if paired:
            from portal.models import Pairing

            pairing = Pairing(
                cycle_id=cycle.id, mentor_id=people["mentor"].id, mentee_id=people["mentee"].id, source="request"
            )
            db.session.add(pairing)
            db.session.flush()
            pairing_id = pairing.id
        db.session.commit()
        print(
            json.dumps(
                {
                    "cycle_id": cycle.id,
                    "pairing_id": pairing_id,
                    "password": PASSWORD,
                    **{key: {"email": u.email, "name": u.display_name} for key, u in people.items()},
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1], paired="paired" in sys.argv[2:])
