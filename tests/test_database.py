"""The database set-up: SQLite tuned for a threaded server, migrations matching the models, health."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from portal.extensions import db


def test_the_migrations_build_exactly_what_the_models_describe():
    context = MigrationContext.configure(db.session.connection())
    assert compare_metadata(context, db.metadata) == []


def test_the_choice_lists_come_seeded_by_the_migration():
    count = db.session.execute(text("SELECT count(*) FROM choices WHERE list_name = 'skills'")).scalar()
    assert count >= 10


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_two_sqlite_writers_that_read_first_never_deadlock(tmp_path):
    # Read-then-write in a deferred transaction fails at once with "database is locked" when two
    # writers interleave; BEGIN IMMEDIATE makes them queue instead.
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors = []

    def writer():
        try:
            for _ in range(40):
                with engine.begin() as connection:
                    n = connection.exec_driver_sql("SELECT n FROM counter").scalar()
                    connection.exec_driver_sql("UPDATE counter SET n = ?", (n + 1,))
        except OperationalError as error:  # pragma: no cover - the failure this test guards against
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 160  # no lost update
    engine.dispose()


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_fails_when_the_database_does_not(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503


@pytest.mark.parametrize("url", ["postgres://u@h/d", "postgresql://u@h/d"])
def test_postgres_urls_use_psycopg_3(monkeypatch, tmp_path, url):
    from portal.config import from_environment

    monkeypatch.setenv("DATABASE_URL", url)
    assert from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/d"


def test_the_development_secret_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    from portal.config import from_environment

    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = from_environment(str(tmp_path))["SECRET_KEY"]
    assert len(first) >= 32
    assert from_environment(str(tmp_path))["SECRET_KEY"] == first
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert from_environment(str(tmp_path))["SECRET_KEY"] == "from-the-environment"


class _Record:
    def __init__(self, idle_seconds=None):
        import time

        self.info = {} if idle_seconds is None else {"checked_in_at": time.monotonic() - idle_seconds}


class _Connection:
    def __init__(self, fails=False):
        self.autocommit, self.fails, self.sent = False, fails, []

    def execute(self, statement):
        if self.fails:
            raise OSError("server closed the connection")
        self.sent.append((statement, self.autocommit))


def test_a_connection_in_steady_use_costs_no_extra_round_trip_but_an_idle_one_is_checked():
    from portal.database import _ping_when_idle

    busy, fresh, idle = _Connection(), _Connection(), _Connection()
    _ping_when_idle(busy, _Record(idle_seconds=0.5), None)
    _ping_when_idle(fresh, _Record(), None)
    _ping_when_idle(idle, _Record(idle_seconds=60), None)
    assert busy.sent == [] and fresh.sent == []
    assert idle.sent == [("SELECT 1", True)] and idle.autocommit is False  # no transaction left open


def test_an_idle_connection_that_went_away_is_replaced_not_used():
    from sqlalchemy.exc import DisconnectionError

    from portal.database import _ping_when_idle

    with pytest.raises(DisconnectionError):
        _ping_when_idle(_Connection(fails=True), _Record(idle_seconds=60), None)


@pytest.fixture
def postgresql_connection(app):
    """A connection of its own to the PostgreSQL test database, with an empty temporary table ``t``."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (run with TEST_DATABASE_URL)")
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        with connection.begin():
            connection.exec_driver_sql("CREATE TEMPORARY TABLE t (n INTEGER)")
        yield connection
    engine.dispose()


def _in_a_transaction(connection) -> bool:
    from psycopg.pq import TransactionStatus

    return connection.connection.dbapi_connection.info.transaction_status != TransactionStatus.IDLE


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_what_a_request_reads_on_postgresql_pays_no_begin_and_no_commit(app, postgresql_connection, method):
    with app.test_request_context("/", method=method), postgresql_connection.begin():
        assert postgresql_connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        assert not _in_a_transaction(postgresql_connection)


def test_a_form_that_writes_nothing_on_postgresql_keeps_the_statements_psycopg_prepared(app, postgresql_connection):
    # psycopg forgets (and deallocates) every prepared statement of a connection at a ROLLBACK; a refused form,
    # rolled back by the edge, must not cost the next requests their prepared statements.
    postgresql_connection.connection.dbapi_connection.prepare_threshold = 0
    with app.test_request_context("/", method="POST"):
        transaction = postgresql_connection.begin()
        postgresql_connection.exec_driver_sql("SELECT count(*) FROM t")
        transaction.rollback()
    prepared = postgresql_connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").scalars()
    assert "SELECT count(*) FROM t" in list(prepared)


@pytest.mark.parametrize(
    ("method", "statement"),
    [
        ("POST", "INSERT INTO t VALUES (1)"),
        ("GET", "SELECT n FROM t FOR UPDATE"),
        ("GET", "SELECT pg_advisory_xact_lock(42)"),
        ("GET", "INSERT INTO t VALUES (1)"),
    ],
)
def test_writes_and_row_locks_on_postgresql_run_inside_a_transaction(app, postgresql_connection, method, statement):
    with app.test_request_context("/", method=method), postgresql_connection.begin():
        postgresql_connection.exec_driver_sql(statement)
        assert _in_a_transaction(postgresql_connection)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_what_a_request_writes_on_postgresql_still_rolls_back_as_a_whole(app, postgresql_connection, method):
    with app.test_request_context("/", method=method):
        transaction = postgresql_connection.begin()
        postgresql_connection.exec_driver_sql("SELECT count(*) FROM t")
        postgresql_connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        postgresql_connection.exec_driver_sql("INSERT INTO t VALUES (2)")
        transaction.rollback()
    with postgresql_connection.begin():  # outside a request: an ordinary transaction again
        assert postgresql_connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        assert _in_a_transaction(postgresql_connection)


def test_postgresql_commits_wait_for_the_disk_unless_the_deployment_says_not_to(
    app, postgresql_connection, monkeypatch
):
    import portal.database

    assert postgresql_connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    # POSTGRES_SYNCHRONOUS_COMMIT=off: the durability SQLite has with WAL and synchronous=NORMAL.
    monkeypatch.setattr(portal.database, "POSTGRES_SYNCHRONOUS_COMMIT", "off")
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    finally:
        engine.dispose()


def test_result_columns_on_postgresql_still_have_their_names_and_types(postgresql_connection):
    # psycopg's description is built only when read (portal.database); a statement SQLAlchemy has not seen
    # before reads it for the column names.
    result = postgresql_connection.exec_driver_sql("SELECT 1 AS one, 'two' AS two, now() AS three")
    assert list(result.keys()) == ["one", "two", "three"]
    description = result.cursor.description
    assert [column.name for column in description] == ["one", "two", "three"]
    assert len(description) == 3 and description[1].type_code == 25  # text


def test_a_statement_run_before_makes_psycopg_build_no_column_objects(postgresql_connection, monkeypatch):
    import psycopg
    from sqlalchemy import column, select, table

    made, original = [], psycopg.Column.__init__

    def counted(self, *args):
        made.append(args)
        original(self, *args)

    monkeypatch.setattr(psycopg.Column, "__init__", counted)
    for _ in range(2):
        made.clear()
        assert postgresql_connection.execute(select(column("n")).select_from(table("t"))).all() == []
    assert made == []  # the second time: SQLAlchemy knows the result's columns and reads none of them


BACKFILL = """
import json
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, select
from portal import create_app
from portal.extensions import db
from portal.models import MeetingStatus, PairingActivity
from tests.factories import make_cycle, make_meeting, make_pairing

app = create_app()
with app.app_context():
    upgrade(revision="heads")
    cycle = make_cycle()
    busy, cancelled_only, quiet = (make_pairing(cycle=cycle) for _ in range(3))
    make_meeting(busy)
    make_meeting(busy, status="cancelled", days_from_now=-3)
    make_meeting(busy, status="planned", days_from_now=5, reschedules=2)
    make_meeting(cancelled_only, status="cancelled", days_from_now=-2)
    downgrade(revision="f3matchidx0012")
    # As before the counts were kept: a pair whose meetings were never held had no activity row.
    db.session.execute(delete(PairingActivity.__table__).where(PairingActivity.pairing_id == cancelled_only.id))
    db.session.commit()
    upgrade(revision="heads")
    rows = db.session.execute(select(PairingActivity.pairing_id, PairingActivity.held_meetings,
        PairingActivity.cancelled_meetings, PairingActivity.moved_meetings)).all()
    names = {busy.id: "busy", cancelled_only.id: "cancelled only", quiet.id: "quiet"}
    print(json.dumps({names[row[0]]: list(row[1:]) for row in rows}))
"""


def test_the_upgrade_counts_the_cancelled_and_moved_meetings_already_there(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "migration-tests",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'backfill.sqlite3'}", "KEPT_STORE_URL": "memory://"}  # fmt: skip
    env.pop("REDIS_URL", None)
    done = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", BACKFILL], cwd=Path(__file__).parents[1], env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # held, cancelled, moved: each pair reads as it did before the upgrade, and a pair with no meeting has no row.
    assert counts == {"busy": [1, 1, 1], "cancelled only": [0, 1, 0]}
