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
from portal.models import Enrolment, EnrolmentRole, MentorRequest, Pairing
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
        with scratch_database(tmp_path) as url:
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
