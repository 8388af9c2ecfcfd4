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

A ``Kept`` given a name also keeps its values in a store every process of the portal shares (Redis, or files in
the instance folder), under the same stamps: a restarted or newly forked worker, or the queue's worker, finds what
another process counted instead of counting it again. The queue's ``recount_kept`` job counts the report anew
every five minutes within ``recounting()``, so that a director's first visit after a restart, after the ten
minutes, or at a new day finds it counted. ``share`` and ``shared`` keep other values there the same way (the
mentor index keeps each whole build).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cachelib import BaseCache, FileSystemCache, RedisCache, SimpleCache
from flask import Flask, current_app, has_app_context
from sqlalchemy import bindparam, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from portal.database import conflict_insert
from portal.models import DataStamp

log = logging.getLogger(__name__)

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

    ``shared``, a name: the values are also kept in the store every process shares (``init_app``), so they must
    pickle, and ``key`` must read the same in every process (ids, dates, strings).
    """

    def __init__(self, *tables: str, size: int = 16, shared: str | None = None) -> None:
        watch(*tables)
        self.tables = tuple(sorted(tables))
        self.size = size
        self.shared = shared
        self._kept: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        _all_kept.append(self)

    def get(self, key: Hashable, compute: Callable[[], object], stamps: dict[str, int] | None = None):
        """The value of ``compute()`` for ``key`` at the tables' current stamps.

        ``stamps`` is what ``read`` answered for these tables (and maybe more) earlier in this request, when
        several kept values are asked for at once; otherwise they are read here (one query). A transaction that
        has written one of the tables and not committed yet sees rows that no stamp stands for: it computes
        afresh and keeps nothing. Within ``recounting()`` the value is computed afresh and kept.
        """
        from portal.extensions import db

        stamps = read(self.tables) if stamps is None else stamps  # reading flushed the session's writes
        if not self.tables_written_here(db.session.connection()).isdisjoint(self.tables):
            return compute()
        current = tuple(stamps.get(table, 0) for table in self.tables)
        full = (current, key)
        now = time.monotonic()
        if not recounting_now():
            with self._lock:
                found = self._kept.get(full)
            if found is not None and found[0] > now:
                return found[1]
            stored = self._from_store(key, current)
            if stored is not None:
                counted_at, value = stored
                self._keep(full, now + KEPT_SECONDS - (time.time() - counted_at), value)
                return value
        counted_at = time.time()
        value = compute()
        self._keep(full, now + KEPT_SECONDS, value)
        self._to_store(key, current, counted_at, value)
        return value

    def _keep(self, full: tuple, until: float, value) -> None:
        with self._lock:
            self._kept[full] = (until, value)
            self._kept.move_to_end(full)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def _from_store(self, key: Hashable, current: tuple) -> tuple[float, object] | None:
        """(when it was counted, the value) from the shared store, if it was counted at these stamps less than
        KEPT_SECONDS ago; None otherwise."""
        if self.shared is None:
            return None
        found = shared(self.shared, key)
        if found is None or found[1][0] != current:
            return None
        return found[0], found[1][1]

    def _to_store(self, key: Hashable, current: tuple, counted_at: float, value) -> None:
        # One entry per key, the newest counted wins: an older process writing over a newer count only costs the
        # next reader a count, as the stamps then differ.
        if self.shared is not None:
            share(self.shared, key, (current, value), counted_at=counted_at)

    @staticmethod
    def tables_written_here(connection: Connection) -> set[str]:
        """The watched tables this connection's transaction has written and not stamped yet."""
        return connection.info.get(_PENDING, set())

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


_RECOUNTING = contextvars.ContextVar("kept_recounting", default=False)


def recounting_now() -> bool:
    """True within ``recounting()``: whatever is kept is to be computed afresh."""
    return _RECOUNTING.get()


@contextmanager
def recounting() -> Iterator[None]:
    """Within this block every ``Kept`` computes afresh and keeps what it computed, here and in the shared store
    (the job that recounts the report uses it: what it keeps is new for another ``KEPT_SECONDS``)."""
    token = _RECOUNTING.set(True)
    try:
        yield
    finally:
        _RECOUNTING.reset(token)


@functools.cache
def _code_digest() -> str:
    """A digest of the portal's code, read once per process."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _store() -> BaseCache:
    return current_app.extensions["kept_store"]


def _store_key(name: str, key: Hashable) -> str:
    # The code's digest: a value pickled by another release of the portal is never read back.
    return f"{name}:{_code_digest()}:{hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()}"


def share(name: str, key: Hashable, value, *, counted_at: float | None = None) -> None:
    """Keep ``value`` (it must pickle) for every process under ``name`` and ``key`` (which must read the same in
    every process: ids, dates, strings) for KEPT_SECONDS from ``counted_at`` (a ``time.time()``, by default now).
    A store that cannot be written is passed by."""
    try:
        _store().set(_store_key(name, key), (counted_at or time.time(), value), timeout=KEPT_SECONDS)
    except Exception:
        log.warning("could not keep %s in the shared store", name, exc_info=True)


def shared(name: str, key: Hashable) -> tuple[float, object] | None:
    """(when it was counted, the value) that ``share`` kept less than KEPT_SECONDS ago, or None, also when the
    store cannot be read (the caller then counts for itself)."""
    try:
        found = _store().get(_store_key(name, key))
    except Exception:
        log.warning("could not read %s from the shared store", name, exc_info=True)
        return None
    if not found or not 0 <= time.time() - found[0] < KEPT_SECONDS:
        return None
    return found


def make_store(url: str, instance_path: str) -> BaseCache:
    """The store every process shares: ``redis://...``; ``memory://`` (this process only, for one process);
    anything else (empty) files in the instance folder's ``kept`` directory, for one machine."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis

        # A store that does not answer within half a second is passed by: the page counts for itself.
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        return RedisCache(host=client, key_prefix="portal:kept:", default_timeout=KEPT_SECONDS)
    if url.startswith("memory://"):
        return SimpleCache(default_timeout=KEPT_SECONDS)
    folder = Path(instance_path) / "kept"
    return FileSystemCache(str(folder), threshold=2000, default_timeout=KEPT_SECONDS, mode=0o600)


def init_app(app: Flask) -> None:
    """Open the shared store that ``KEPT_STORE_URL`` names."""
    app.extensions["kept_store"] = make_store(app.config.get("KEPT_STORE_URL", ""), app.instance_path)


_all_kept: list = []  # every Kept, and the stores given to keep_until_forgotten


def keep_until_forgotten(store: dict) -> dict:
    """Let ``forget_all`` empty this store of values kept under stamps outside ``Kept``; returns the store."""
    _all_kept.append(store)
    return store


def forget_here() -> None:
    """Forget every result this process keeps (as a restart does); the shared store keeps its own."""
    for kept in _all_kept:
        kept.clear()


def forget_all() -> None:
    """Forget every kept result, in this process and, within an application context, in the shared store (the
    tests roll their data back, and the stamps with it)."""
    forget_here()
    if has_app_context() and "kept_store" in current_app.extensions:
        _store().clear()
