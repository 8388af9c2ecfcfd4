"""Build a finished cycle for the impact journey in the live server's database and print it as JSON.

Run by the impact journey (``run_python("impact_scenario.py", tag)``) with the server's environment. Each call
makes a cycle of its own ("Done <TAG>", ended yesterday) with five ended pairings: four mentees answered the
retrospective already (each recommends the program with a 10), the fifth (the participant of the journey) has
not; plus a director.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.accounts.services import get_or_create_team  # noqa: E402
from portal.clock import today, utcnow  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import (  # noqa: E402
    Cycle,
    Enrolment,
    EnrolmentRole,
    Goal,
    GoalStatus,
    Pairing,
    PairingEnd,
    PairingStatus,
    Retrospective,
    Role,
    User,
)
from portal.onboarding.questions import QUESTION_BY_KEY  # noqa: E402
from portal.onboarding.services import save_answer, seed_choices  # noqa: E402
from portal.passwords import hash_password  # noqa: E402

PASSWORD = "a gentle morning swim 42"


def person(tag: str, name: str, team: str, role: Role = Role.PARTICIPANT) -> User:
    user = User(
        email=f"{name.replace(' ', '.').lower()}.{tag}@example.com",
        display_name=f"{name} {tag.upper()}",
        team=get_or_create_team(f"{team} {tag}"),
        password_hash=hash_password(PASSWORD),
        role=role,
        onboarded_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        seed_choices()
        day = today()
        cycle = Cycle(
            name=f"Done {tag.upper()}",
            enrolment_opens_on=day - timedelta(days=220),
            enrolment_closes_on=day - timedelta(days=210),
            matching_opens_on=day - timedelta(days=209),
            matching_closes_on=day - timedelta(days=201),
            starts_on=day - timedelta(days=200),
            ends_on=day - timedelta(days=1),
            weights={},
        )
        db.session.add(cycle)
        db.session.flush()
        director = person(tag, "Dana Director", "People", Role.DIRECTOR)
        names = ["Ines", "Omar", "Lena", "Kofi", "Mira"]
        participant = None
        for n, first in enumerate(names):
            mentee = person(tag, f"{first} Mentee", "Data")
            mentor = person(tag, f"{first} Mentor", "Design")
            for user, role in ((mentee, EnrolmentRole.MENTEE), (mentor, EnrolmentRole.MENTOR)):
                db.session.add(Enrolment(cycle_id=cycle.id, user_id=user.id, role=role))
            pairing = Pairing(
                cycle_id=cycle.id,
                mentor_id=mentor.id,
                mentee_id=mentee.id,
                source="request",
                created_at=utcnow() - timedelta(days=190),
            )
            db.session.add(pairing)
            db.session.flush()
            if n < 4:
                db.session.add(
                    Retrospective(
                        pairing_id=pairing.id,
                        cycle_id=cycle.id,
                        user_id=mentee.id,
                        role="mentee",
                        recommend=10,
                        went_well=f"Good conversations {n}",
                        answered_at=utcnow(),
                    )
                )
            else:
                participant = mentee
                save_answer(mentee, QUESTION_BY_KEY["skills_grow"], values=["communication"])
                goal = Goal(
                    pairing_id=pairing.id,
                    title=f"Present the roadmap {tag}",
                    outcome="o",
                    measure="m",
                    target="t",
                    due_on=day - timedelta(days=20),
                    project="The roadmap",
                    status=GoalStatus.ACHIEVED,
                    closed_at=utcnow() - timedelta(days=21),
                    created_by_id=mentee.id,
                )
                db.session.add(goal)
                # Written while the pairing runs: an ended pairing's goals are read only.
                db.session.flush()
                participant_pairing = pairing
            pairing.status, pairing.end_kind, pairing.ended_at = PairingStatus.ENDED, PairingEnd.COMPLETED, utcnow()
        db.session.commit()
        print(
            json.dumps(
                {
                    "password": PASSWORD,
                    "cycle": {"id": cycle.id, "name": cycle.name},
                    "director": director.email,
                    "participant": {"email": participant.email, "name": participant.display_name},
                    "pairing_id": participant_pairing.id,
                    "goal": goal.title,
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
