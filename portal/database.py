"""Database engine set-up: SQLite tuned for a multi-threaded server; PostgreSQL with few round trips per request."""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from flask import g, has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "30000"))
# PostgreSQL's synchronous_commit for the portal's connections, when set. By default a commit waits for the disk
# (the server's own setting, normally "on"): a PostgreSQL deployment is expected to keep every answered write.
# "off" answers once the commit is in PostgreSQL's log buffer, the durability SQLite has here (WAL with
# synchronous=NORMAL): a crash of the machine may undo the last fraction of a second of commits, and never
# corrupts or half-applies one; a busy server's writes then stop holding a thread while the disk catches up.
POSTGRES_SYNCHRONOUS_COMMIT = os.environ.get("POSTGRES_SYNCHRONOUS_COMMIT", "")

# Requests that only read open ordinary (deferred) transactions so readers never queue behind writers.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _wants_immediate() -> bool:
    """True unless this transaction belongs to a read-only HTTP request (or one that reads first)."""
    if not has_request_context():
        return True
    if g.get("read_first", False) and not g.get("writing", False):
        return False
    return request.method not in READ_ONLY_METHODS or g.get("writing", False)


def read_first() -> None:
    """Let a POST whose slow part only reads (signing in: the deliberately slow password check) open an
    ordinary transaction, so that it never holds SQLite's write lock while it thinks; every other writer
    would queue behind it and, past the busy timeout, fail with "database is locked".
    Call ``begin_writing`` before writing anything in such a request."""
    g.read_first = True


def begin_writing() -> None:
    """Let a GET request that must write (lazy expiry, say) do so safely.

    Ends the current read transaction so the next one starts with BEGIN IMMEDIATE on SQLite.
    """
    from portal.extensions import db

    g.writing = True
    db.session.commit()


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        if type(dbapi_connection).__module__.startswith("psycopg"):
            _postgresql_on_connect(dbapi_connection)
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise defer it).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Writers queue for the lock (BEGIN IMMEDIATE); under a heavy crowd on a busy machine the queue can be
    # long, and past this wait a request fails with "database is locked".
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgresql_on_connect(dbapi_connection) -> None:
    dbapi_connection.cursor_factory = _lazily_described_cursor()
    # Under load a write's commit waits for the disk (1.5 ms on a quiet machine, far more on a busy one) while
    # holding one of the worker's few threads; a deployment may choose not to wait.
    if not POSTGRES_SYNCHRONOUS_COMMIT:
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SELECT set_config('synchronous_commit', %s, false)", (POSTGRES_SYNCHRONOUS_COMMIT,))
    dbapi_connection.autocommit = autocommit


class _Description(Sequence):
    """A psycopg cursor's ``description``, whose Column objects are made when one is first read."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor, result):
        self._cursor, self._result, self._columns = cursor, result, None

    def _load(self) -> list:
        if self._columns is None:
            import psycopg

            if self._cursor.pgresult is not self._result:
                raise psycopg.InterfaceError("this description belongs to a result the cursor has moved on from")
            self._columns = psycopg.Cursor.description.fget(self._cursor)
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index):
        return self._load()[index]

    def __iter__(self):
        return iter(self._load())

    def __repr__(self) -> str:
        return repr(self._load())


@functools.cache
def _lazily_described_cursor():
    """psycopg's cursor, with a ``description`` that costs nothing until a column of it is read.

    SQLAlchemy reads ``cursor.description`` after every statement, but once a statement's result columns are
    known (its cached compiled form) it only checks that the description is not None. psycopg builds a Column
    object for every column each time, in Python (10 to 20 for an ORM row): about a third of psycopg's own
    time per statement in a profile of the load benchmark's pages.
    """
    import psycopg

    class LazilyDescribedCursor(psycopg.Cursor):
        __slots__ = ()

        @property
        def description(self):
            result = self.pgresult
            if result is None or not result.nfields:
                return super().description
            return _Description(self, result)

    return LazilyDescribedCursor


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        # A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY when another
        # writer got there first (the busy timeout does not help); taking the write lock up front makes
        # writers queue instead, so two writers never deadlock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_immediate() else "BEGIN")
    elif conn.dialect.name == "postgresql":
        _postgresql_reads_without_begin(conn)


# Set on a pooled PostgreSQL connection while this module has switched it to autocommit for a request's reads.
AUTOCOMMIT_READS = "autocommit_reads"


def _postgresql_reads_without_begin(conn) -> None:
    """Let a request's SELECTs run outside a transaction until it writes, so a read pays no BEGIN and no COMMIT.

    Each costs a round trip of its own on PostgreSQL (psycopg sends BEGIN before the first query), a fifth of
    a page's round trips. Under READ COMMITTED every statement takes its own snapshot anyway, so a request reads
    exactly what it would inside a transaction, and a plain SELECT holds no lock that a transaction would keep.
    The first statement that is not a plain SELECT switches the connection back (``_write_in_a_transaction``),
    so whatever a request writes is one transaction that commits or rolls back as a whole.

    A form that ends up writing nothing (a save refused because the notes moved on, a validation error) then
    has nothing to roll back. That matters beyond the round trip: psycopg forgets every statement it prepared
    on a connection at each ROLLBACK (and sends DEALLOCATE ALL), so when such forms rolled back, about half of
    the load benchmark's statements were parsed and planned afresh instead of running prepared.
    """
    record, raw = conn.connection, conn.connection.dbapi_connection
    in_request = has_request_context()
    if in_request and not raw.autocommit:
        raw.autocommit = True
        record.info[AUTOCOMMIT_READS] = True
    elif not in_request and record.info.pop(AUTOCOMMIT_READS, False):
        raw.autocommit = False


@event.listens_for(Engine, "before_cursor_execute")
def _write_in_a_transaction(conn, cursor, statement, parameters, context, executemany):
    if not conn.connection.info.get(AUTOCOMMIT_READS) or _only_reads(statement):
        return
    # Between two autocommitted statements the connection is idle, so it may leave autocommit here: psycopg
    # sends BEGIN before this statement, and the session's commit or rollback ends the transaction.
    conn.connection.info.pop(AUTOCOMMIT_READS)
    conn.connection.dbapi_connection.autocommit = False


# Row locks, and advisory locks (a transaction-level one taken in autocommit would be let go at once).
ROW_LOCK = re.compile(r"\sFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY\s+SHARE)\b|pg_advisory", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _only_reads(statement: str) -> bool:
    """True for a SELECT that takes no row locks (a CTE may hide a write, so WITH does not count).

    Kept per statement: the portal's statements are a few hundred compiled strings, each run again and again,
    and the search reads the whole statement."""
    return statement.lstrip()[:6].upper() == "SELECT" and not ROW_LOCK.search(statement)


# A pooled connection idle longer than this is checked with a round trip before use (a restarted server or a
# firewall may have dropped it); one in steady use is not, so a busy server pays no extra round trip per request.
PING_AFTER_IDLE_SECONDS = 10.0


@event.listens_for(Pool, "checkin")
def _remember_checkin(dbapi_connection, connection_record):
    connection_record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_when_idle(dbapi_connection, connection_record, connection_proxy):
    if isinstance(dbapi_connection, sqlite3.Connection):
        return
    checked_in_at = connection_record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    autocommit = dbapi_connection.autocommit
    try:
        dbapi_connection.autocommit = True  # a bare SELECT 1, without opening a transaction
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.autocommit = autocommit
    except Exception as error:
        # The pool drops this connection and checks out a fresh one.
        raise exc.DisconnectionError() from error


# PostgreSQL takes at most 65,535 parameters in one statement (psycopg refuses more before sending), and SQLite
# builds may allow as few as 32,766: a list of ids that grows with the organisation (every unmatched mentee, every
# person a reminder goes to) is sent in batches of this many.
IN_BATCH = 10_000

T = TypeVar("T")


def batches(values: Iterable[T], size: int = IN_BATCH) -> Iterator[list[T]]:
    """``values`` without repeats, sorted, in lists of at most ``size``, for ``IN`` lists of any length.

    Raises TypeError when the values cannot be sorted together."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]


def conflict_insert(model, bind):
    """``INSERT INTO`` ``model``'s table in the form of ``bind``'s database (a Connection or an Engine), which
    takes an ``ON CONFLICT`` clause: PostgreSQL's or SQLite's, the two the portal runs on."""
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return (postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert)(model)


def insert_or_update(model, key: dict, values: dict):
    """The row of ``model`` with ``key``, inserted with ``values`` or, when it exists, updated to them.

    One statement (``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING``), so it is safe when the same request
    arrives twice at once: the database lets one insert and the other update the row it made, as it would have a
    moment later. ``key`` must be the columns of a unique constraint of ``model``. Only the columns in ``values``
    change on update: a column the ORM sets on change (``updated_at``) must be named there.
    """
    from portal.extensions import db

    statement = (
        conflict_insert(model, db.session.get_bind())
        .values(**key, **values)
        .on_conflict_do_update(index_elements=list(key), set_=values)
        .returning(model)
    )
    # populate_existing: a row this session already holds takes the values just written.
    return db.session.scalars(statement, execution_options={"populate_existing": True}).one()
