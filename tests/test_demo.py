"""Demo data for `make run`: a believable organisation in motion."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Role, Team, User
from portal.onboarding.services import progress_for
from tests.factories import make_user


def test_seed_demo_builds_an_organisation_and_says_how_to_sign_in(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", "demo password phrase"])
    assert result.exit_code == 0, result.output
    assert "director@example.com" in result.output
    assert "demo password phrase" in result.output
    people = db.session.scalars(select(User)).all()
    assert len(people) == 80
    assert db.session.scalar(select(func.count()).select_from(Team)) == 8
    assert [p.email for p in people if p.role == Role.DIRECTOR] == ["director@example.com"]
    progress = [progress_for(p) for p in people if p.role == Role.PARTICIPANT]
    finished = sum(p.finished for p in progress)
    halfway = sum(p.started and not p.finished for p in progress)
    untouched = sum(not p.started for p in progress)
    assert finished >= 20 and halfway >= 10 and untouched >= 5
    # The goal form offers the director's objectives, not only "None".
    from portal.models import Objective

    assert db.session.scalar(select(func.count()).select_from(Objective).where(Objective.is_active)) >= 3


def test_seed_demo_leaves_a_database_with_people_alone(app):
    make_user()
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "already has accounts" in result.output
    relaxed = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert relaxed.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
