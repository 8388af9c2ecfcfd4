"""Test fixtures: one app per run, every test inside a transaction that is rolled back.

The database is SQLite in a temporary folder, or the PostgreSQL named by TEST_DATABASE_URL (with ``-n 2``,
one beside it per worker). Either way the schema is built by the real migrations, so the tests also prove that
they work.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from portal import create_app
from portal.extensions import db, limiter
from portal.fragments import cache as fragment_cache
from portal.queue import huey
from portal.stamps import forget_all as forget_kept


def pytest_configure(config):
    """Give each xdist worker (``pytest -n 2``) a PostgreSQL database and a Redis database of its own.

    Each worker drops and rebuilds its database's schema and resets the rate limits in its Redis database, so
    two workers sharing either would undo each other's state mid-test. A single process keeps the URLs as given.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return
    index = int(worker[2:])
    database = os.environ.get("TEST_DATABASE_URL", "")
    if database.startswith("postgresql"):
        os.environ["TEST_DATABASE_URL"] = _database_beside(database, f"_{worker}")
    redis = os.environ.get("TEST_REDIS_URL", "")
    if redis:
        # Counting down from the given number (15 by default in CI): Redis has databases 0 to 15.
        base, _, number = redis.rpartition("/")
        os.environ["TEST_REDIS_URL"] = f"{base}/{(int(number or 0) - index) % 16}"


def _database_beside(url: str, suffix: str) -> str:
    """The URL of a PostgreSQL database named as ``url``'s plus ``suffix``, created when it does not exist."""
    from sqlalchemy import create_engine, make_url

    given = make_url(url)
    name = f"{given.database}{suffix}"
    admin = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return given.set(database=name).render_as_string(hide_password=False)


class IsolatedClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The tests hold an app context open (for the rolled-back session), and Flask reuses it for requests;
    in production each request has its own, so nothing (a cached CSRF token, the signed-in user) may
    leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        g.__dict__.clear()
        # Each real request starts with an empty identity map; so do these (nothing unsaved is lost).
        db.session.flush()
        db.session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{instance / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "tests-only-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SERVER": "",
            # With TEST_REDIS_URL the rate limits live in Redis, as in production.
            "RATELIMIT_STORAGE_URI": os.environ.get("TEST_REDIS_URL", "memory://"),
            # The report's shared figures too; otherwise files in the instance folder, as `make run` keeps them.
            "KEPT_STORE_URL": os.environ.get("TEST_REDIS_URL", ""),
        }
    )
    app.test_client_class = IsolatedClient
    # Jobs run at once, in the caller's transaction: a matching run is computed when its request ends.
    huey.immediate = True
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # The test database belongs to the tests: start from an empty schema every run.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(revision="heads")
        db.session.remove()
    return app


@pytest.fixture(autouse=True)
def _rollback(app):
    """Run each test inside one outer transaction and roll it back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        app.extensions["original_session"] = original
        # Commits inside the test only release a savepoint; the outer transaction undoes everything.
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        limiter.reset()
        fragment_cache.clear()  # rendered fragments of rows that this rollback is about to undo
        forget_kept()  # figures kept under stamps that the rollback takes back
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client) -> str:
    """The CSRF token of the client's session, read from a page like a browser would."""
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert match, "no CSRF token on the home page"
    return match.group(1)


def post(client, url: str, data: dict | None = None, *, htmx: bool = False, **kwargs):
    """POST a form with its CSRF token, as the browser would; ``htmx`` adds htmx's headers."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    headers = kwargs.pop("headers", {})
    if htmx:
        headers = {"HX-Request": "true", **headers}
    return client.post(url, data=data, headers=headers, **kwargs)


def login_as(client, user) -> None:
    """Sign the client in as ``user`` without going through the form."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block: ``with count_queries() as counted: ...; counted[0]``."""
    counted = [0]
    engine = db.engine

    def bump(conn, cursor, statement, *args):
        # Savepoints are the test harness's own bookkeeping, not the page's queries.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            counted[0] += 1

    event.listen(engine, "after_cursor_execute", bump)
    try:
        yield counted
    finally:
        event.remove(engine, "after_cursor_execute", bump)


@contextmanager
def limiter_kept():
    """Build other apps inside the block without taking the tests' rate limiter with them.

    ``limiter.init_app`` rebinds the one shared limiter (enabled or not, its storage) to the newest app.
    """
    saved = {name: getattr(limiter, name) for name in ("enabled", "_storage", "_limiter")}
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(limiter, name, value)
