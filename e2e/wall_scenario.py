"""Build a celebration-wall scenario in the live server's database and print it as JSON.

Run by the e2e tests (``run_python("wall_scenario.py", tag)``) with the server's environment: a pair whose
mentee has a milestone proposal waiting (made through the wall's own service, as the goals page does), a
colleague, a director, and 25 posts in a team of their own so the endless scroll has an older page to load.
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
from portal.celebrations.services import propose_celebration  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Celebration, Pairing, Role, User  # noqa: E402
from portal.models.base import utcnow  # noqa: E402
from portal.passwords import hash_password  # noqa: E402

PASSWORD = "a gentle morning swim 42"


def person(tag: str, name: str, team: str, *, director: bool = False) -> User:
    user = User(
        email=f"{name.split()[0].lower()}.wall{tag}@example.com",
        display_name=f"{name} {tag.upper()}",
        team=get_or_create_team(f"{team} {tag}"),
        password_hash=hash_password(PASSWORD),
        role=Role.DIRECTOR if director else Role.PARTICIPANT,
        onboarded_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    return user


def main(tag: str) -> None:
    app = create_app()
    with app.app_context():
        cycle = ensure_current_cycle()
        mentee = person(tag, "Priya Shah", "Data")
        mentor = person(tag, "Asha Rao", "Design")
        colleague = person(tag, "Ben Okafor", "Sales")
        director = person(tag, "Dana Whitfield", "People", director=True)
        writer = person(tag, "Mei Tanaka", "Support")
        pairing = Pairing(cycle_id=cycle.id, mentor_id=mentor.id, mentee_id=mentee.id, source="request")
        db.session.add(pairing)
        db.session.flush()
        proposal = propose_celebration(
            mentee,
            kind="milestone",
            text="I reached a milestone: led the vendor call",
            pairing_id=pairing.id,
            skill_key="negotiation",
        )
        now = utcnow()
        for number in range(25):
            db.session.add(
                Celebration(
                    kind="milestone",
                    status="published",
                    audience="everyone",
                    subject_id=writer.id,
                    author_id=writer.id,
                    text=f"Wall story {number + 1:02d} from {tag}",
                    skill_key="focus",
                    cycle_id=cycle.id,
                    team_id=writer.team_id,
                    published_at=now - timedelta(hours=number + 1),
                )
            )
        db.session.commit()
        people = {"mentee": mentee, "mentor": mentor, "colleague": colleague, "director": director, "writer": writer}
        print(
            json.dumps(
                {
                    "password": PASSWORD,
                    "tag": tag,
                    "proposal_id": proposal.id,
                    "writer_team_id": writer.team_id,
                    **{key: {"email": u.email, "name": u.display_name} for key, u in people.items()},
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1])
