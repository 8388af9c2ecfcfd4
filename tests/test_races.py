"""Two people acting at the same moment, on a real database with real threads.

These tests build an app of their own on a database of their own (a fresh SQLite file, or a scratch
PostgreSQL database when TEST_DATABASE_URL points at PostgreSQL), because the rest of the suite runs
inside one rolled-back transaction, where nothing can happen concurrently.
"""

from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from portal import create_app
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Enrolment, EnrolmentRole, MentorRequest, OutboxEmail, Pairing, PendingRegistration, User
from tests.conftest import limiter_kept
from tests.factories import make_cycle, make_user


@contextmanager
def scratch_database(tmp_path):
    """A database URL nobody else uses, removed afterwards."""
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'race.sqlite3'}"
        return
    name = f"portal_race_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def race_app(app, tmp_path):
    """A second app on its own database, with the real (not rolled-back) session while it runs."""
    rolled_back = db.session
    db.session = app.extensions["original_session"]
    try:
        with limiter_kept(), scratch_database(tmp_path) as url:
            other = create_app(
                {
                    "TESTING": True,
                    "SECRET_KEY": "race-tests",
                    "SQLALCHEMY_DATABASE_URI": url,
                    "WTF_CSRF_ENABLED": False,
                    "MAIL_SEND_INLINE": False,
                    "RATELIMIT_ENABLED": False,
                }
            )
            with other.app_context():
                upgrade(revision="heads")
                db.session.remove()
            yield other
            with other.app_context():
                db.session.remove()
                db.engine.dispose()
    finally:
        db.session = rolled_back


def test_two_accepts_racing_for_the_last_seat_leave_one_pairing(race_app):
    with race_app.app_context():
        cycle = make_cycle()
        mentor = make_user(team="Design")
        mentees = [make_user(team="Data"), make_user(team="Sales")]
        db.session.add(Enrolment(cycle_id=cycle.id, user_id=mentor.id, role=EnrolmentRole.MENTOR, capacity=1))
        requests = []
        for person in mentees:
            db.session.add(Enrolment(cycle_id=cycle.id, user_id=person.id, role=EnrolmentRole.MENTEE))
            request = MentorRequest(
                cycle_id=cycle.id,
                mentee_id=person.id,
                mentor_id=mentor.id,
                note="Hello",
                rhythm="monthly",
                expires_at=utcnow().replace(year=utcnow().year + 1),
            )
            db.session.add(request)
            requests.append(request)
        db.session.commit()
        mentor_login = mentor.get_id()
        request_ids = [r.id for r in requests]
        db.session.remove()

    barrier = threading.Barrier(len(request_ids))
    statuses = []

    def accept(request_id: int) -> None:
        client = race_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = mentor_login
        barrier.wait()
        response = client.post(f"/matches/requests/{request_id}/accept", data={"accept-message": "Yes"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=accept, args=(request_id,)) for request_id in request_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [303, 409]
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pairing)) == 1
        db.session.remove()


def fire(app, login: str, url: str, data: dict | list[dict], *, times: int = 8) -> list[int]:
    """POST ``data`` to ``url`` from ``times`` clients signed in as ``login``, all at once; the sorted statuses."""
    bodies = data if isinstance(data, list) else [data] * times
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def one(body: dict) -> None:
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = login
        barrier.wait()
        statuses.append(client.post(url, data=body).status_code)

    threads = [threading.Thread(target=one, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


def _pair_with_goal():
    """A pairing with one goal and one milestone, committed; (mentee login, mentor login, goal id, milestone id)."""
    from datetime import timedelta

    from portal.clock import today
    from portal.goals.services import GoalInput, add_milestone, create_goal
    from tests.factories import make_pairing

    pairing = make_pairing()
    mentee = db.session.get(User, pairing.mentee_id)
    mentor = db.session.get(User, pairing.mentor_id)
    goal = create_goal(
        pairing,
        mentee,
        GoalInput(
            title="Speak up",
            outcome="o",
            measure="m",
            target="t",
            due_on=today() + timedelta(days=30),
            project="p",
            skills=["negotiation"],
        ),  # fmt: skip
        today=today(),
    )
    milestone = add_milestone(goal, pairing, mentee, title="First step", due_on=None, today=today())
    db.session.commit()
    return mentee.get_id(), mentor.get_id(), goal.id, milestone.id


def test_eight_saves_of_one_goal_version_keep_exactly_one(race_app):
    from datetime import timedelta

    from portal.clock import today
    from portal.models import Goal

    with race_app.app_context():
        mentee_login, _, goal_id, _ = _pair_with_goal()
        db.session.remove()
    due = (today() + timedelta(days=40)).isoformat()
    bodies = [
        {
            "title": f"Edit {n}",
            "outcome": "o",
            "measure": "m",
            "target": "t",
            "due_on": due,
            "project": "p",
            "skills": "negotiation",
            "objective_id": "",
            "version": "1",
        }  # fmt: skip
        for n in range(8)
    ]
    statuses = fire(race_app, mentee_login, f"/goals/{goal_id}/edit", bodies)
    assert statuses == [303] + [409] * 7
    with race_app.app_context():
        goal = db.session.get(Goal, goal_id)
        # One save landed and every other one was refused: nothing was silently overwritten.
        assert goal.version == 2 and goal.title.startswith("Edit ")
        db.session.remove()


def test_eight_ticks_of_one_milestone_mark_it_done_once(race_app):
    from portal.models import Celebration, Milestone

    with race_app.app_context():
        _, mentor_login, _, milestone_id = _pair_with_goal()
        db.session.remove()
    statuses = fire(race_app, mentor_login, f"/goals/milestones/{milestone_id}/toggle", {"done": "1"})
    assert statuses == [303] * 8
    with race_app.app_context():
        assert db.session.get(Milestone, milestone_id).done_at is not None
        assert db.session.scalar(select(func.count()).select_from(Celebration)) == 1
        db.session.remove()


def test_eight_ticks_of_one_action_item_leave_it_done(race_app):
    from portal.models import ActionItem
    from tests.factories import make_meeting, make_pairing

    with race_app.app_context():
        pairing = make_pairing()
        meeting = make_meeting(pairing)
        item = ActionItem(pairing_id=pairing.id, meeting_id=meeting.id, owner_id=pairing.mentee_id, title="Read",
                          created_by_id=pairing.mentee_id)  # fmt: skip
        db.session.add(item)
        db.session.commit()
        login, item_id = db.session.get(User, pairing.mentee_id).get_id(), item.id
        db.session.remove()
    assert fire(race_app, login, f"/journals/actions/{item_id}/toggle", {"done": "1"}) == [303] * 8
    with race_app.app_context():
        assert db.session.get(ActionItem, item_id).done_at is not None
        db.session.remove()


def test_one_reaction_given_or_taken_back_from_eight_tabs_at_once_counts_once(race_app):
    from portal.models import Celebration, CelebrationReaction
    from tests.factories import make_post

    with race_app.app_context():
        person = make_user()
        post_id, login = make_post(person).id, person.get_id()
        db.session.remove()
    for wanted, expected in (("1", 1), ("0", 0), ("1", 1)):
        statuses = fire(race_app, login, f"/celebrations/{post_id}/react", {"kind": "sparkle", "on": wanted})
        assert statuses == [303] * 8  # every tab is told it happened, as it did, once
        with race_app.app_context():
            rows = db.session.scalar(
                select(func.count()).select_from(CelebrationReaction).where(CelebrationReaction.kind == "sparkle")
            )
            assert rows == expected
            assert db.session.get(Celebration, post_id).sparkle_count == expected
            db.session.remove()


# --- double submits that meet a unique constraint answer as if they happened once ----------------------------


def test_two_mentors_accepting_one_mentees_two_requests_make_one_pairing(race_app):
    with race_app.app_context():
        cycle = make_cycle()
        mentee = make_user(team="Data")
        mentors = [make_user(team="Design"), make_user(team="Sales")]
        db.session.add(Enrolment(cycle_id=cycle.id, user_id=mentee.id, role=EnrolmentRole.MENTEE))
        requests = []
        for mentor in mentors:
            db.session.add(Enrolment(cycle_id=cycle.id, user_id=mentor.id, role=EnrolmentRole.MENTOR, capacity=2))
            request = MentorRequest(cycle_id=cycle.id, mentee_id=mentee.id, mentor_id=mentor.id, note="Hello",
                                    rhythm="monthly", expires_at=utcnow().replace(year=utcnow().year + 1))  # fmt: skip
            db.session.add(request)
            requests.append(request)
        db.session.commit()
        jobs = [(mentor.get_id(), request.id) for mentor, request in zip(mentors, requests, strict=True)]
        db.session.remove()
    barrier = threading.Barrier(2)
    statuses = []

    def accept(login, request_id):
        client = race_app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = login
        barrier.wait()
        statuses.append(client.post(f"/matches/requests/{request_id}/accept", data={"accept-message": "Yes"}))

    threads = [threading.Thread(target=accept, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(response.status_code for response in statuses)
    assert codes[0] == 303 and codes[1] in (303, 403, 409), codes
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Pairing)) == 1
        db.session.remove()


def test_marking_one_mentor_eight_times_at_once_keeps_one_mark(race_app):
    from portal.models import MentorMark

    with race_app.app_context():
        cycle = make_cycle()
        mentee, mentor = make_user(team="Data"), make_user(team="Design")
        db.session.add(Enrolment(cycle_id=cycle.id, user_id=mentee.id, role=EnrolmentRole.MENTEE))
        db.session.add(Enrolment(cycle_id=cycle.id, user_id=mentor.id, role=EnrolmentRole.MENTOR, capacity=2))
        db.session.commit()
        login, mentor_id = mentee.get_id(), mentor.id
        db.session.remove()
    assert fire(race_app, login, f"/matches/mentors/{mentor_id}/mark", {"kind": "saved"}) == [303] * 8
    with race_app.app_context():
        assert db.session.scalars(select(MentorMark.kind)).all() == ["saved"]
        db.session.remove()


def test_registering_one_email_four_times_at_once_answers_each_and_emails_once(race_app):
    form = {"display_name": "Asha", "email": "asha@example.com", "team": "A brand new team",
            "password": "a quiet walk by the sea"}  # fmt: skip
    barrier = threading.Barrier(4)
    statuses = []

    def register():
        client = race_app.test_client()
        barrier.wait()
        statuses.append(client.post("/accounts/register", data=form).status_code)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [303] * 4, statuses
    with race_app.app_context():
        # One pending registration and one email; the account comes with the emailed link.
        assert db.session.scalar(select(func.count()).select_from(PendingRegistration)) == 1
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()


def test_applying_one_roster_import_twice_at_once_applies_it_once(race_app):
    from portal.models import RosterEntry, RosterImport
    from portal.nudges.roster import preview_upload
    from tests.factories import make_director

    with race_app.app_context():
        director = make_director()
        upload = preview_upload(director, filename="r.csv", data=b"name,email,team\nAna,ana@example.com,Support\n")
        db.session.commit()
        login, import_id = director.get_id(), upload.id
        db.session.remove()
    statuses = fire(race_app, login, f"/nudges/roster/{import_id}/apply", {}, times=4)
    assert statuses == [303, 409, 409, 409]
    with race_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RosterEntry)) == 1
        assert db.session.get(RosterImport, import_id).applied_at is not None
        db.session.remove()


def test_starting_match_the_rest_eight_times_at_once_leaves_one_running_run(race_app):
    from portal.matches import runs
    from portal.models import Cycle, MatchingRun
    from portal.models.matches import RunStatus
    from tests.factories import make_director

    with race_app.app_context():
        cycle_id, director_id = make_cycle().id, make_director().id
        db.session.remove()
    barrier = threading.Barrier(8)
    outcomes = []

    def start():
        with race_app.app_context():
            barrier.wait()
            try:
                run = runs.start_run(db.session.get(Cycle, cycle_id), db.session.get(User, director_id))
                db.session.commit()
                outcomes.append(run.id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Every click answers with the one run, as if the director had clicked once.
    assert len(outcomes) == 8 and len(set(outcomes)) == 1
    with race_app.app_context():
        running = select(func.count()).select_from(MatchingRun).where(MatchingRun.status == RunStatus.RUNNING)
        assert db.session.scalar(running) == 1
        db.session.remove()


# --- the sweep: every POST route fired eight times at once ---------------------------------------------------


def _consistent() -> list[str]:
    """What no sequence of requests, run one after another, could ever leave behind; empty when all holds."""
    from portal.models import Celebration, CelebrationReaction, MatchingRun, Meeting
    from portal.models.matches import PairingStatus, RunStatus

    problems = []
    for kind in ("clap", "heart", "sparkle"):
        column = getattr(Celebration, f"{kind}_count")
        rows = (
            select(func.count())
            .select_from(CelebrationReaction)
            .where(CelebrationReaction.celebration_id == Celebration.id, CelebrationReaction.kind == kind)
            .scalar_subquery()
        )
        drift = db.session.execute(select(Celebration.id, column, rows).where(column != rows)).all()
        problems += [f"post {post}: {kind} count {count}, rows {real}" for post, count, real in drift]
    doubled = db.session.execute(
        select(Pairing.cycle_id, Pairing.mentee_id)
        .where(Pairing.status == PairingStatus.ACTIVE)
        .group_by(Pairing.cycle_id, Pairing.mentee_id)
        .having(func.count() > 1)
    ).all()
    problems += [f"mentee {mentee} has two active pairings in cycle {cycle}" for cycle, mentee in doubled]
    running = db.session.execute(
        select(MatchingRun.cycle_id)
        .where(MatchingRun.status == RunStatus.RUNNING)
        .group_by(MatchingRun.cycle_id)
        .having(func.count() > 1)
    ).all()
    problems += [f"cycle {cycle} has two running runs" for (cycle,) in running]
    over = db.session.execute(
        select(Enrolment.user_id)
        .join(Pairing, (Pairing.mentor_id == Enrolment.user_id) & (Pairing.cycle_id == Enrolment.cycle_id))
        .where(Pairing.status == PairingStatus.ACTIVE)
        .group_by(Enrolment.user_id, Enrolment.capacity)
        .having(func.count() > Enrolment.capacity)
    ).all()
    problems += [f"mentor {mentor} is over capacity" for (mentor,) in over]
    negative = db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.notes_version < 0))
    problems += ["a negative notes version"] * negative
    return problems


def test_every_post_route_fired_eight_times_at_once_leaves_a_sequential_state(race_app):
    """No 5xx, and nothing that one or more sequential runs could not have produced (counts, pairs, runs)."""
    from datetime import timedelta

    from flask import url_for

    from portal.clock import today
    from portal.models import ActionItem, Goal, Meeting
    from tests.factories import make_director, make_meeting, make_post

    with race_app.app_context():
        director = make_director()
        mentee_login, mentor_login, goal_id, milestone_id = _pair_with_goal()
        goal = db.session.get(Goal, goal_id)
        meeting = make_meeting(db.session.get(Pairing, goal.pairing_id))
        mentee_id = db.session.get(Pairing, goal.pairing_id).mentee_id
        item = ActionItem(pairing_id=goal.pairing_id, meeting_id=meeting.id, owner_id=mentee_id, title="Read",
                          created_by_id=mentee_id)  # fmt: skip
        db.session.add(item)
        db.session.commit()
        post_id = make_post(db.session.get(User, mentee_id)).id
        args = {
            "key": "values", "user_id": mentee_id, "cycle_id": db.session.get(Pairing, goal.pairing_id).cycle_id,
            "mentor_id": db.session.get(Pairing, goal.pairing_id).mentor_id, "request_id": 1, "run_id": 1,
            "nudge_id": 1, "import_id": 1, "token": "not-a-real-token", "pair_id": 1,
            "pairing_id": goal.pairing_id, "goal_id": goal_id, "milestone_id": milestone_id, "objective_id": 1,
            "post_id": post_id, "meeting_id": meeting.id, "action_id": item.id, "help_id": 1, "job_id": 1,
            "list_name": "skills", "choice_id": 1,
        }  # fmt: skip
        director_id, meeting_id = director.id, meeting.id
        rules = [
            rule
            for rule in race_app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.endpoint.startswith("accounts.")
        ]
        db.session.remove()
    day = today()
    form = {
        "title": "Sweep", "outcome": "o", "measure": "m", "target": "t", "project": "p", "skills": "negotiation",
        "due_on": (day + timedelta(days=30)).isoformat(), "objective_id": "", "version": "1", "notes": "Shared",
        "reflection": "r", "kind": "clap", "done": "1", "comment": "c", "reason": "r",
        "on": (day + timedelta(days=3)).isoformat(), "at": "09:00", "held_on": day.isoformat(),
        "duration_minutes": "30", "format": "video", "owner_id": str(mentee_id), "status": "achieved",
        "message": "m", "text": "Well done", "choice": "more", "months": "3", "milestone_title": "Step",
        "accept-message": "Yes", "note": "Hello", "rhythm": "monthly", "capacity": "2", "role": "mentee",
        "level": "team", "name": "Sweep", "values": "kindness", "audience": "everyone",
    }  # fmt: skip
    failures = []
    for rule in rules:
        with race_app.app_context():
            director_login = db.session.get(User, director_id).get_id()
            people = {"director": director_login, "mentee": mentee_login, "mentor": mentor_login}
            with race_app.test_request_context():
                url = url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
            view = race_app.view_functions[rule.endpoint]
            db.session.remove()
        login = people["director"] if view.access_rule == "director" else people["mentee"]
        statuses = fire(race_app, login, url, form)
        failures += [(url, status) for status in statuses if status >= 500]
        with race_app.app_context():
            failures += [(url, problem) for problem in _consistent()]
            db.session.remove()
    assert failures == []
    with race_app.app_context():
        # Eight saves of the shared notes against version 1 (after the sweep's first save): never two at once.
        assert db.session.get(Meeting, meeting_id).notes_version <= 2
        db.session.remove()


def test_eight_meetings_logged_at_once_are_all_counted_for_the_board(race_app):
    from datetime import UTC, timedelta

    from portal.clock import today
    from portal.models import Meeting, MeetingStatus, PairingActivity
    from tests.factories import make_pairing

    with race_app.app_context():
        pairing = make_pairing(days_ago=30)
        pairing_id, login = pairing.id, db.session.get(User, pairing.mentee_id).get_id()
    bodies = [
        {"held_on": (today() - timedelta(days=n + 1)).isoformat(), "duration_minutes": "30", "format": "video"}
        for n in range(8)
    ]
    assert fire(race_app, login, f"/journals/pairings/{pairing_id}/meetings/log", bodies) == [303] * 8
    with race_app.app_context():
        held = select(func.count(), func.min(Meeting.starts_at), func.max(Meeting.starts_at)).where(
            Meeting.pairing_id == pairing_id, Meeting.status == MeetingStatus.HELD
        )
        count, first, last = db.session.execute(held).one()
        row = db.session.get(PairingActivity, pairing_id)
        assert count == 8
        first, last = first.astimezone(UTC).date(), last.astimezone(UTC).date()
        assert (row.held_meetings, row.first_held_on, row.last_held_on) == (8, first, last)


def test_eight_questions_asked_at_once_are_all_counted_for_the_board(race_app):
    from portal.models import PairingActivity
    from tests.factories import make_pairing

    with race_app.app_context():
        pairing = make_pairing(days_ago=30)
        pairing_id, login = pairing.id, db.session.get(User, pairing.mentee_id).get_id()
    body = {"pairing_id": str(pairing_id), "topic": "fit", "body": "Could we talk?"}
    assert fire(race_app, login, "/support/ask", body) == [303] * 8
    with race_app.app_context():
        assert db.session.get(PairingActivity, pairing_id).open_help == 8
        db.session.remove()
