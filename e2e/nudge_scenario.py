"""People for the nudge journey, in the live server's database, printed as JSON; and a way to end a pause.

Run by the e2e tests with the server's environment:
- ``run_python("nudge_scenario.py", "people", tag)`` makes a director, a colleague and a quiet person (with
  an account, not enrolled, questionnaire not started), all named after ``tag``;
- ``run_python("nudge_scenario.py", "end-pause", email)`` moves that person's "not now" into the past, as if
  the months had gone by.
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
from portal.models import NudgePreference, Role, User  # noqa: E402
from portal.passwords import hash_password  # noqa: E402

PASSWORD = "a gentle morning swim 42"


def person(tag: str, name: str, team: str, *, role: Role = Role.PARTICIPANT) -> User:
    user = User(
        email=f"{name.split()[0].lower()}.{tag}@example.com",
        display_name=f"{name} {tag.upper()}",
        team=get_or_create_team(f"{team} {tag}"),
        password_hash=hash_password(PASSWORD),
        role=role,
    )
    db.session.add(user)
    return user


def people(tag: str) -> None:
    made = {
        "director": person(tag, "Dana Whitfield", "People", role=Role.DIRECTOR),
        "colleague": person(tag, "Sam Okafor", "Design"),
        "quiet": person(tag, "Quinn Hale", "Support"),
    }
    db.session.commit()
    print(
        json.dumps(
            {
                "tag": tag,
                "password": PASSWORD,
                **{key: {"email": u.email, "name": u.display_name} for key, u in made.items()},
            }
        )
    )


def end_pause(email: str) -> None:
    user = db.session.scalar(db.select(User).where(User.email == email))
    preference = db.session.get(NudgePreference, user.id)
    preference.snoozed_until = today() - timedelta(days=1)
    db.session.commit()
    print(json.dumps({"snoozed_until": preference.snoozed_until.isoformat()}))


def main(command: str, argument: str) -> None:
    app = create_app()
    with app.app_context():
        {"people": people, "end-pause": end_pause}[command](argument)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
