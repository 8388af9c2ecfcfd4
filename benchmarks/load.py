"""A crowd on the portal: many people at once against gunicorn, then a check that no answered write was lost.

Seeds a scratch database (a temporary SQLite file, or a new PostgreSQL database next to --database-url that is
dropped afterwards), starts gunicorn on 127.0.0.1 with several workers, and lets --users people sign in and
use the portal for --duration seconds with a realistic mix: home, the wall, the journal, shared notes saved with
their version (partners write the same notes, so conflicts happen), goal edits, milestone and action-item ticks
and reactions. Every answered write is recorded; at the end the database is checked against them.

Prints requests, req/s, p50/p95/p99, the CPU each request cost gunicorn, the PostgreSQL backends and this client
(with the load average: the three share the machine), 5xx, "database is locked" lines in the server log, and lost
writes.
Bounded in time (--duration) and count (--max-requests); it only ever talks to 127.0.0.1.

    .venv/bin/python benchmarks/load.py                        # 100 users, 5 minutes, SQLite
    .venv/bin/python benchmarks/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/wt_x \\
        --redis-url redis://127.0.0.1:6379/7 --duration 20 --users 20 --check
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "a calm benchmark sentence"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


@contextmanager
def scratch_database(url: str | None, folder: Path):
    """A database nobody else uses: a SQLite file in ``folder``, or a new PostgreSQL database, dropped after."""
    if not url or not url.startswith("postgresql"):
        yield f"sqlite:///{folder / 'load.sqlite3'}"
        return
    from sqlalchemy import create_engine, make_url, text

    name = f"portal_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # make_url keeps a query such as ?host=/var/run/postgresql (PostgreSQL's Unix socket) as it was.
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class World:
    """What the seeded people may touch: their pairing's meeting, goal, milestones, action item, and the posts."""

    people: list[dict] = field(default_factory=list)  # email, meeting, goal (mentee only), milestones, action
    posts: list[int] = field(default_factory=list)


def seed(url: str, users: int, instance: Path) -> World:
    """Build the schema with the real migrations and a pairing for every two people, each with a goal."""
    from datetime import timedelta

    from flask_migrate import upgrade

    from portal import create_app
    from portal.clock import today, utcnow
    from portal.extensions import db
    from portal.models import (
        ActionItem,
        Celebration,
        CelebrationAudience,
        CelebrationKind,
        CelebrationStatus,
        Choice,
        Cycle,
        Goal,
        GoalSkill,
        Meeting,
        MeetingStatus,
        Milestone,
        Pairing,
        Role,
        Team,
        User,
    )
    from portal.passwords import hash_password

    os.environ["PORTAL_INSTANCE_PATH"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "load", "MAIL_SEND_INLINE": False})
    world = World()
    with app.app_context():
        upgrade(revision="heads")
        day, now = today(), utcnow()
        cycle = Cycle(name="Load", enrolment_opens_on=day - timedelta(days=10), enrolment_closes_on=day,
                      matching_opens_on=day - timedelta(days=5), matching_closes_on=day,
                      starts_on=day - timedelta(days=1), ends_on=day + timedelta(days=200), request_expiry_days=7,
                      default_capacity=2, is_current=True, weights={})  # fmt: skip
        teams = [Team(name="Load A"), Team(name="Load B")]
        db.session.add_all([cycle, *teams])
        db.session.flush()
        hashed = hash_password(PASSWORD)
        people = [
            User(
                email=f"load{n}@example.com",
                display_name=f"Load {n}",
                team_id=teams[n % 2].id,
                password_hash=hashed,
                role=Role.PARTICIPANT,
                onboarded_at=now,
            )  # fmt: skip
            for n in range(users)
        ]
        db.session.add_all(people)
        db.session.flush()
        skill = db.session.query(Choice).filter_by(list_name="skills").first()
        for mentor, mentee in zip(people[0::2], people[1::2], strict=False):
            pairing = Pairing(cycle_id=cycle.id, mentor_id=mentor.id, mentee_id=mentee.id, source="request")
            db.session.add(pairing)
            db.session.flush()
            meeting = Meeting(pairing_id=pairing.id, status=MeetingStatus.HELD, starts_at=now - timedelta(days=2),
                              duration_minutes=45, format="video", held_on=day - timedelta(days=2), notes="",
                              notes_version=0)  # fmt: skip
            goal = Goal(pairing_id=pairing.id, title="Speak up in reviews", outcome="o", measure="m", target="t",
                        due_on=day + timedelta(days=60), project="p", created_by_id=mentee.id)  # fmt: skip
            db.session.add_all([meeting, goal])
            db.session.flush()
            db.session.add(GoalSkill(goal_id=goal.id, choice_id=skill.id))
            milestones = [Milestone(goal_id=goal.id, title=f"Step {n}", position=n) for n in range(3)]
            action = ActionItem(pairing_id=pairing.id, meeting_id=meeting.id, owner_id=mentee.id, title="Read",
                                created_by_id=mentee.id)  # fmt: skip
            post = Celebration(kind=CelebrationKind.MILESTONE, status=CelebrationStatus.PUBLISHED,
                               audience=CelebrationAudience.EVERYONE, subject_id=mentee.id, author_id=mentee.id,
                               text="A first step", team_id=mentee.team_id, published_at=now)  # fmt: skip
            db.session.add_all([*milestones, action, post])
            db.session.flush()
            world.posts.append(post.id)
            world.people.append({"email": mentor.email, "meeting": meeting.id})
            world.people.append({"email": mentee.email, "meeting": meeting.id, "goal": goal.id,
                                 "milestones": [m.id for m in milestones], "action": action.id})  # fmt: skip
        db.session.commit()
        from pages import settle

        settle()  # PostgreSQL vacuumed and analysed, as autovacuum would soon after this bulk load
        db.session.remove()
        db.engine.dispose()
    return world


@dataclass
class Record:
    """What the crowd saw: timings, statuses, and every write the server answered with success."""

    timings: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    notes: list[tuple[int, int, str]] = field(default_factory=list)  # meeting, new version, text
    goals: list[tuple[int, int, str]] = field(default_factory=list)  # goal, new version, title
    ticks: dict = field(default_factory=dict)  # ("milestone"|"action", id) -> last answered state
    reactions: dict = field(default_factory=dict)  # (user email, post) -> last answered state (given or not)
    reactions_answered: int = 0
    errors: Counter = field(default_factory=Counter)


async def person(base: str, me: dict, world: World, record: Record, clock: dict, budget: list[int], rng,
                 think: float, gate: asyncio.Semaphore, ready: asyncio.Event) -> None:  # fmt: skip
    import httpx

    # No keep-alive: a connection the server closes as it is reused would lose an answer, and an unanswered
    # write cannot be checked.
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False, limits=limits) as client:

        async def call(method: str, url: str, **kwargs):
            if budget[0] <= 0:
                raise TimeoutError
            budget[0] -= 1
            started = time.perf_counter()
            try:
                response = await client.request(method, url, **kwargs)
            except httpx.HTTPError as error:
                record.errors[type(error).__name__] += 1
                return None
            record.timings.append(time.perf_counter() - started)
            record.statuses[response.status_code] += 1
            return response

        def token(response) -> str:
            match = TOKEN.search(response.text) if response is not None else None
            return (match.group(1) or match.group(2)) if match else ""

        async def sign_in() -> str:
            """Sign in through the form; the CSRF token of the new session, or "" when refused."""
            page = await call("GET", "/accounts/sign-in")
            data = {"email": me["email"], "password": PASSWORD, "csrf_token": token(page)}
            signed = await call("POST", "/accounts/sign-in", data=data)
            if signed is None or signed.status_code != 303:
                record.errors["sign-in refused"] += 1
                return ""
            return token(await call("GET", "/"))

        # Everyone signs in before the clock starts (the password check is slow on purpose), a few at a time.
        async with gate:
            csrf = await sign_in()
        if not csrf:
            return
        await ready.wait()
        meeting, n = me["meeting"], 0
        try:
            while time.monotonic() < clock["deadline"]:
                n += 1
                action = rng.choices(
                    ["home", "wall", "journal", "notes", "goal", "tick", "react", "again"],
                    [30, 30, 20, 30, 20, 20, 20, 1],
                )[0]
                if action == "again":  # sign out and in again: the old session ends on the server
                    await call("POST", "/accounts/sign-out", data={"csrf_token": csrf})
                    csrf = await sign_in()
                    if not csrf:
                        return
                elif action == "home":
                    await call("GET", "/")
                elif action == "wall":
                    await call("GET", "/celebrations/")
                elif action == "journal":
                    await call("GET", f"/journals/meetings/{meeting}")
                elif action == "notes":
                    shown = await call("GET", f"/journals/meetings/{meeting}")
                    found = VERSION.search(shown.text) if shown is not None else None
                    if found:
                        version, text = int(found.group(1)), f"{me['email']} wrote this, save {n}"
                        saved = await call("POST", f"/journals/meetings/{meeting}/notes",
                                           data={"notes": text, "version": version, "csrf_token": csrf})  # fmt: skip
                        if saved is not None and saved.status_code == 303:
                            record.notes.append((meeting, version + 1, text))
                elif action == "goal" and "goal" in me:
                    shown = await call("GET", f"/goals/{me['goal']}/edit")
                    found = VERSION.search(shown.text) if shown is not None else None
                    if found:
                        version, title = int(found.group(1)), f"Speak up, edit {n}"
                        from datetime import date, timedelta

                        saved = await call(
                            "POST", f"/goals/{me['goal']}/edit",
                            data={"title": title, "outcome": "o", "measure": "m", "target": "t", "project": "p",
                                  "due_on": (date.today() + timedelta(days=50)).isoformat(),
                                  "skills": "negotiation", "objective_id": "", "version": version,
                                  "csrf_token": csrf},
                        )  # fmt: skip
                        if saved is not None and saved.status_code == 303:
                            record.goals.append((me["goal"], version + 1, title))
                elif action == "tick" and "goal" in me:
                    kind, target = rng.choice([("milestone", m) for m in me["milestones"]] + [("action", me["action"])])
                    done = rng.choice(["1", "0"])
                    url = (
                        f"/goals/milestones/{target}/toggle"
                        if kind == "milestone"
                        else f"/journals/actions/{target}/toggle"
                    )
                    ticked = await call("POST", url, data={"done": done, "csrf_token": csrf})
                    if ticked is not None and ticked.status_code == 303:
                        record.ticks[(kind, target)] = done == "1"
                elif action == "react":
                    post, on = rng.choice(world.posts), rng.choice(["1", "0"])
                    reacted = await call(
                        "POST", f"/celebrations/{post}/react", data={"kind": "clap", "on": on, "csrf_token": csrf}
                    )
                    if reacted is not None and reacted.status_code == 303:
                        record.reactions[(me["email"], post)] = on == "1"
                        record.reactions_answered += 1
                await asyncio.sleep(rng.uniform(0, think))
        except TimeoutError:
            return


def lost_writes(url: str, record: Record) -> list[str]:
    """Every answered write the database does not show (or shows twice): an empty list when none was lost."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    lost: list[str] = []
    with engine.connect() as connection:
        for label, table, column, version_column, rows in (
            ("notes", "meetings", "notes", "notes_version", record.notes),
            ("goal", "goals", "title", "version", record.goals),
        ):
            by_id: dict[int, list[tuple[int, str]]] = defaultdict(list)
            for row_id, version, value in rows:
                by_id[row_id].append((version, value))
            for row_id, saves in by_id.items():
                versions = [version for version, _ in saves]
                if len(set(versions)) != len(versions):
                    lost.append(f"{label} {row_id}: two saves were answered for one version")
                stored_version, stored = connection.execute(
                    text(f"SELECT {version_column}, {column} FROM {table} WHERE id = :id"), {"id": row_id}
                ).one()
                newest_version, newest = max(saves)
                if stored_version != newest_version or stored != newest:
                    lost.append(
                        f"{label} {row_id}: saved {newest_version} {newest!r}, stored {stored_version} {stored!r}"
                    )
        for (kind, row_id), done in record.ticks.items():
            table = "milestones" if kind == "milestone" else "action_items"
            stored = connection.execute(text(f"SELECT done_at FROM {table} WHERE id = :id"), {"id": row_id}).scalar()
            if (stored is not None) != done:
                lost.append(f"{kind} {row_id}: answered {'done' if done else 'not done'}, stored the other")
        drift = connection.execute(
            text(
                "SELECT c.id, c.clap_count, (SELECT count(*) FROM celebration_reactions r "
                "WHERE r.celebration_id = c.id AND r.kind = 'clap') FROM celebrations c"
            )
        ).all()
        lost += [f"post {post}: count {count}, rows {rows}" for post, count, rows in drift if count != rows]
        reacted = {
            (email, post)
            for email, post in connection.execute(
                text(
                    "SELECT u.email, r.celebration_id FROM celebration_reactions r JOIN users u ON u.id = r.user_id "
                    "WHERE r.kind = 'clap'"
                )
            )
        }
        for (email, post), given in record.reactions.items():
            if ((email, post) in reacted) != given:
                lost.append(f"reaction of {email} on post {post}: answered {'given' if given else 'taken back'}")
    engine.dispose()
    return lost


def cpu_seconds(pids) -> float:
    """User plus system CPU seconds the processes ``pids`` have used so far (Linux /proc; 0 for one gone)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def server_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master and its workers."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                children.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return [server.pid, *children]


def database_pids(url: str) -> list[int]:
    """The PostgreSQL backends serving the scratch database (none for SQLite, which runs inside gunicorn)."""
    if not url.startswith("postgresql"):
        return []
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalars()
        pids = list(pids)
    engine.dispose()
    return pids


class CpuMeter:
    """CPU seconds spent by the web server, the database server and this client between ``start`` and ``stop``."""

    def __init__(self, server: subprocess.Popen, url: str):
        self.server, self.url = server, url
        self.used = {"gunicorn": 0.0, "postgres": 0.0, "client": 0.0}

    def _now(self) -> dict:
        return {
            "gunicorn": cpu_seconds(server_pids(self.server)),
            "postgres": cpu_seconds(database_pids(self.url)),
            "client": time.process_time(),
        }

    def start(self) -> None:
        self.begun = self._now()

    def stop(self) -> None:
        # Backends that connected during the run count from zero; the load average is the machine's, all of it.
        ended = self._now()
        self.used = {name: ended[name] - self.begun[name] for name in ended}
        self.load = os.getloadavg()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(
    url: str, redis_url: str | None, workers: int, threads: int, instance: Path, log: Path
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "load-benchmark",
        "PORTAL_INSTANCE_PATH": str(instance),
        "PORTAL_ENV": "development",
        "MAIL_SEND_INLINE": "0",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
               "-b", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import httpx

    for _ in range(200):
        try:
            if httpx.get(base + "/accounts/sign-in", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start; see " + str(log))


async def crowd(base: str, world: World, users: int, duration: float, max_requests: int, think: float, meter=None):
    """Sign everyone in, then let them act for ``duration`` seconds; (record of the timed part, its seconds)."""
    record, budget, clock = Record(), [max_requests], {"deadline": 0.0}
    gate, ready = asyncio.Semaphore(8), asyncio.Event()
    rng = random.Random(7)
    people = [
        asyncio.create_task(
            person(base, me, world, record, clock, budget, random.Random(rng.random()), think, gate, ready)
        )  # fmt: skip
        for me in world.people[:users]
    ]
    while sum(record.statuses.values()) < 3 * users and not record.errors and any(not p.done() for p in people):
        await asyncio.sleep(0.1)
    signed_in = Record(timings=list(record.timings), statuses=Counter(record.statuses), errors=Counter(record.errors))
    record.timings.clear()
    record.statuses.clear()
    if meter:
        meter.start()
    started = time.monotonic()
    clock["deadline"] = started + duration
    ready.set()
    await asyncio.gather(*people)
    elapsed = time.monotonic() - started
    if meter:
        meter.stop()
    return record, elapsed, signed_in


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--max-requests", type=int, default=500_000)
    parser.add_argument("--think", type=float, default=1.0, help="most seconds a person pauses between actions")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("LOAD_DATABASE_URL"),
        help="a PostgreSQL URL: a scratch database is made beside it (default: SQLite)",
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL"), help="rate-limit storage")
    parser.add_argument("--check", action="store_true", help="exit 1 on any 5xx, lost write or locked database")
    args = parser.parse_args()
    users = args.users + args.users % 2
    with tempfile.TemporaryDirectory() as folder, scratch_database(args.database_url, Path(folder)) as url:
        instance = Path(folder) / "instance"
        instance.mkdir()
        world = seed(url, users, instance)
        log = Path(folder) / "gunicorn.log"
        server, base = serve(url, args.redis_url, args.workers, args.threads, instance, log)
        meter = CpuMeter(server, url)
        try:
            record, elapsed, signed_in = asyncio.run(
                crowd(base, world, users, args.duration, args.max_requests, args.think, meter)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        server_log = log.read_text(errors="replace")
        locked = server_log.count("database is locked")
        lost = lost_writes(url, record)
    total = len(record.timings)
    errors_5xx = sum(count for status, count in record.statuses.items() if status >= 500)
    kind = ("PostgreSQL" if url.startswith("postgresql") else "SQLite") + (" + Redis" if args.redis_url else "")
    print(f"load: {kind}, gunicorn -w {args.workers} --threads {args.threads}, {users} people, {args.duration:.0f} s")
    sign_ins = len(signed_in.timings) // 3
    print(f"  first {sign_ins} sign-ins (untimed warm-up): p50 {1000 * percentile(signed_in.timings, 0.5):.0f} ms")
    print(f"  requests {total}, {total / elapsed:.1f} req/s")
    if total:
        p50, p95, p99 = (1000 * percentile(record.timings, share) for share in (0.5, 0.95, 0.99))
        print(f"  p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")
    if total:
        shares = ", ".join(f"{name} {1000 * seconds / total:.1f}" for name, seconds in meter.used.items())
        busy = sum(meter.used.values()) / elapsed
        print(f"  CPU ms per request: {shares} (these three busy {busy:.2f} of {os.cpu_count()} cores)")
    print(f"  load average {' '.join(f'{value:.1f}' for value in meter.load)} at the end")
    print(f"  statuses {dict(sorted(record.statuses.items()))}, client errors {dict(record.errors)}")
    writes = len(record.notes) + len(record.goals) + len(record.ticks) + record.reactions_answered
    print(f"  answered writes {writes}: notes {len(record.notes)}, goals {len(record.goals)}, "
          f"ticked rows {len(record.ticks)}, reactions {record.reactions_answered}")  # fmt: skip
    print(f"  5xx {errors_5xx}, lost writes {len(lost)}, 'database is locked' {locked}")
    for line in lost[:10]:
        print("   lost:", line)
    if errors_5xx or locked:
        # The first server-side errors in full: where they happened matters more than how many there were.
        blocks = server_log.split("Traceback (most recent call last):")[1:3]
        print("\n".join("Traceback:" + block[-2500:] for block in blocks))
    bad = errors_5xx or lost or locked or record.errors.get("sign-in refused")
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
