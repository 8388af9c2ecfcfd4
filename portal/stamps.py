"""Change stamps: figures computed over whole tables, kept until one of those tables changes.

A module that reads whole tables (the impact report) names them with ``watch``. From then on every statement
that writes one of them (an ORM flush, a Core ``insert``/``update``/``delete``, raw SQL) is noticed on its
connection, and when the session commits, the table's row in ``data_stamps`` goes up by one in that same
transaction. ``read(tables)`` reads those counts in one small query.

Why this is enough for a kept figure to be never stale after a change:

- The stamp rises in the transaction that wrote the data, so no reader can see the new rows with the old stamp
  or the old rows with the new stamp (SQLite has one writer at a time; on PostgreSQL both commit at once).
- ``Kept`` reads the stamps before it computes, so a figure kept under a stamp was computed from data at least
  as new as that stamp; any later commit to a watched table raises the stamp, and the next reader computes anew.
- The stamp's rows are taken last, just before COMMIT, in name order: a transaction holds them only while it
  commits and never waits for another lock after taking them, so they cannot deadlock with anything.

Not seen: writes outside the portal's SQLAlchemy sessions (psql, a restored backup), a write hidden in a
statement that starts with ``WITH`` (the portal has none), and rows that a database ``ON DELETE CASCADE`` removes
from a watched table when its parent table is not watched (a test checks that every such parent is watched).
``Kept`` therefore also forgets what it keeps after ``KEPT_SECONDS``.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from portal.database import conflict_insert
from portal.models import DataStamp

WATCHED: set[str] = set()

# Written tables waiting for their stamps, on the connection that wrote them (its info lives with the pooled
# DBAPI connection, so a rollback must clear it); the session's connections, to stamp at commit.
_PENDING = "stamps_pending"
_CONNECTIONS = "stamps_connections"

_WRITE = re.compile(
    r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE
)


_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


def watch(*tables: str) -> None:
    """Stamp every committed change to these tables from now on (call at import time)."""
    WATCHED.update(tables)


_STAMPS = select(DataStamp.name, DataStamp.version).where(DataStamp.name.in_(bindparam("names", expanding=True)))


def read(tables: Iterable[str]) -> dict[str, int]:
    """How many committed transactions have written each of these tables (one query); a table never written
    since the stamps began is left out. A stamp only ever grows while the data stays."""
    from portal.extensions import db

    return dict(db.session.execute(_STAMPS, {"names": sorted(tables)}).all())


def stamp(tables: Iterable[str]) -> int:
    """The stamps of these tables added up: it changes whenever one of them does (one query)."""
    return sum(read(tables).values())


@event.listens_for(Engine, "after_cursor_execute")
def _notice_writes(conn: Connection, cursor, statement: str, parameters, context, executemany) -> None:
    if statement.lstrip()[:6].upper() == "SELECT":
        return
    found = _WRITE.match(statement)
    if not found or found.group(1).lower() not in WATCHED:
        return
    inserts = found.group(0).lstrip()[:6].upper() == "INSERT"
    if cursor.rowcount == 0 and not inserts and not _RETURNING.search(statement):
        # A conditional UPDATE or DELETE that matched nothing (a save refused because the row moved on, a tick
        # sent twice) changed nothing, so nothing kept from the table goes stale. An INSERT is always counted (an
        # ON CONFLICT that inserted nothing only costs a kept figure), and so is a statement with RETURNING,
        # whose rows SQLite counts only as they are fetched.
        return
    conn.info.setdefault(_PENDING, set()).add(found.group(1).lower())


@event.listens_for(Engine, "rollback")
@event.listens_for(Engine, "commit")
def _forget_at_the_end(conn: Connection) -> None:
    # Rolled back: the writes are undone, and so is the need to stamp them (a rolled-back savepoint keeps them:
    # stamping a change that did not happen only costs a kept figure). Committed: the session stamped them just
    # before; anything left was written outside a session (a migration), and must not be stamped later with
    # another transaction's writes. KEPT_SECONDS bounds what that misses.
    conn.info.pop(_PENDING, None)


@event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, transaction, connection: Connection) -> None:
    connections = session.info.setdefault(_CONNECTIONS, [])
    if connection not in connections:  # a savepoint begins on its parent's connection
        connections.append(connection)


@event.listens_for(Session, "before_commit")
def _stamp_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction stamps everything when it commits
    # The commit's own final flush comes after this event: flush now so that its writes are stamped too. It may
    # be the transaction's first statement (an attribute set on a loaded object, and nothing read since).
    session.flush()
    for connection in session.info.get(_CONNECTIONS, ()):
        tables = None if connection.closed else connection.info.get(_PENDING)
        if tables:
            _raise(connection, sorted(tables))


@event.listens_for(Session, "after_commit")
def _stamped(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released: its writes wait for the outer transaction's stamps
    # Usually the connection's own commit has cleared them already; not when the session's transaction was a
    # savepoint of a longer one (as in the tests), after which its writes are stamped all the same.
    for connection in session.info.pop(_CONNECTIONS, []):
        if not connection.closed:
            connection.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_connections(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


def _raise(connection: Connection, tables: list[str]) -> None:
    """Raise the stamps of these tables by one, making the rows that are missing (one statement)."""
    statement = conflict_insert(DataStamp, connection).values([{"name": name, "version": 1} for name in tables])
    connection.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"version": DataStamp.version + 1})
    )


# What ``Kept`` keeps is at most this old, whatever the stamps say (see the module's docstring).
KEPT_SECONDS = 600


class Kept:
    """Results kept per process under the stamps of the tables they were computed from.

    ``get(key, compute)`` reads the stamps (one query, or none when the caller read them already), then answers
    what was computed for ``key`` at those stamps, or computes it. Keep only plain values (no ORM objects: they
    belong to one session), and never change them.
    """

    def __init__(self, *tables: str, size: int = 16) -> None:
        watch(*tables)
        self.tables = tuple(sorted(tables))
        self.size = size
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        _all_kept.append(self)

    def get(self, key: Hashable, compute: Callable[[], object], stamps: dict[str, int] | None = None):
        """The value of ``compute()`` for ``key`` at the tables' current stamps.

        ``stamps`` is what ``read`` answered for these tables (and maybe more) earlier in this request, when
        several kept values are asked for at once; otherwise they are read here (one query). A transaction that
        has written one of the tables and not committed yet sees rows that no stamp stands for: it computes
        afresh and keeps nothing.
        """
        from portal.extensions import db

        stamps = read(self.tables) if stamps is None else stamps  # reading flushed the session's writes
        if not self.tables_written_here(db.session.connection()).isdisjoint(self.tables):
            return compute()
        full = (tuple(stamps.get(table, 0) for table in self.tables), key)
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(full)
        if found is not None and found[0] > now:
            return found[1]
        value = compute()
        with self._lock:
            self._kept[full] = (now + KEPT_SECONDS, value)
            self._kept.move_to_end(full)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value

    @staticmethod
    def tables_written_here(connection: Connection) -> set[str]:
        """The watched tables this connection's transaction has written and not stamped yet."""
        return connection.info.get(_PENDING, set())

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_all_kept: list = []  # every Kept, and the stores given to keep_until_forgotten


def keep_until_forgotten(store: dict) -> dict:
    """Let ``forget_all`` empty this store of values kept under stamps outside ``Kept``; returns the store."""
    _all_kept.append(store)
    return store


def forget_all() -> None:
    """Forget every kept result (the tests roll their data back, and the stamps with it)."""
    for kept in _all_kept:
        kept.clear()
