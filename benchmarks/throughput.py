"""Throughput of the portal's heaviest pages under gunicorn, as a ratio to a bare "hello" of the same app.

Builds the benchmark's large organisation (the builders of ``pages.py``: 5,000 people, 2,000 pairings with 60,000
meetings, a pair with 300 meetings and 50 goals, a wall of 200,000 posts and 1,000,000 reactions), starts
``gunicorn -w 2`` on 127.0.0.1, and runs ``wrk`` (8 connections, signed in, brotli accepted) against hello and each
page in turn, for three rounds. Prints requests per second, latency percentiles and each page's ratio to hello in
the same round, then stops the server. Not a test: it prints figures and never fails a build.

    .venv/bin/python benchmarks/throughput.py [--duration 20] [--rounds 3] [--keep /tmp/org.sqlite3]
    DATABASE_URL=postgresql://postgres@127.0.0.1/bench .venv/bin/python benchmarks/throughput.py

With ``DATABASE_URL`` the schema of that database is dropped and rebuilt. ``--keep FILE`` builds the organisation
once and reuses it on later runs: on SQLite FILE is the database; with ``DATABASE_URL`` the database stays as it is
and FILE only remembers the pages.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SECRET = "benchmark-only"


def build_organisation(args) -> dict:
    """Build the organisation and return, for each page, its URL and the id of the person who reads it."""
    from pages import add_goals, build, build_journals, build_wall

    started = time.perf_counter()
    ids, _, _ = build(args.people, args.notifications)
    pairing_id, mentor_id, _ = build_journals(ids, args.pairings, args.meetings)
    mentee_id = add_goals(pairing_id, 50)
    build_wall(ids, args.wall_posts, args.wall_reactions)
    print(
        f"built {args.people} people, {args.pairings} pairings with {args.meetings} meetings, a pair with 300 "
        f"meetings and 50 goals, {args.wall_posts} wall posts with {args.wall_reactions} reactions "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return {
        "hello": ["/bench-hello", mentee_id],
        "wall, first page": ["/celebrations/", ids[len(ids) // 3]],
        "home (mentee, 50 goals, 300 meetings)": ["/", mentee_id],
        "journal timeline (300 meetings)": [f"/journals/pairings/{pairing_id}", mentor_id],
        "goals page (50 goals)": [f"/goals/pairings/{pairing_id}", mentor_id],
    }


def session_cookie(app, user_id: int) -> str:
    """A signed-in session cookie for ``user_id``, as a browser holds it after its first page (with the session's
    CSRF token: without one every request would make a new token and set a new cookie)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:0"
        session["_fresh"] = True
        session["csrf_token"] = secrets.token_hex(20)
    return client.get_cookie("session").value


def prepare(args) -> tuple[dict, dict]:
    """The database (built or reused) and the pages with their cookies; returns (pages, server environment)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from portal import create_app
    from portal.extensions import db

    instance = tempfile.mkdtemp(prefix="portal-throughput-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{args.keep or Path(instance) / 'bench.sqlite3'}"
    saved = Path(f"{args.keep}.pages.json") if args.keep else None
    env = {**os.environ, "PORTAL_INSTANCE_PATH": instance, "SECRET_KEY": SECRET, "DATABASE_URL": url}
    os.environ.update(env)
    app = create_app({"MAIL_SEND_INLINE": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        if saved and saved.exists():
            pages = json.loads(saved.read_text())
            print(f"reusing the organisation in {args.keep}")
        else:
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade(revision="heads")
            pages = build_organisation(args)  # its builders vacuum and analyse PostgreSQL as they go
            if saved:
                saved.write_text(json.dumps(pages))
        db.session.remove()
        db.engine.dispose()
    pages = {label: {"path": path, "cookie": session_cookie(app, user)} for label, (path, user) in pages.items()}
    return pages, env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str, cookie: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Cookie": f"session={cookie}", "Accept-Encoding": "br"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start_server(env: dict, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}",
        "--pythonpath", str(ROOT / "benchmarks"), "--log-level", "warning", "hello_wsgi:app",
    ]  # fmt: skip
    sys.stdout.flush()
    server = subprocess.Popen(command, cwd=ROOT, env={**env, "PYTHONPATH": str(ROOT)})
    for _ in range(300):
        try:
            if get(port, "/healthz", "") == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    stop(server)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def workers_cpu_seconds(master: int) -> float:
    """User and system CPU time used so far by the gunicorn workers of ``master`` (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(port: int, path: str, cookie: str, args) -> dict:
    """One wrk run: requests per second and latency percentiles in ms; fails loudly on any error response."""
    command = [
        args.wrk, "-t", "2", "-c", str(args.connections), "-d", f"{args.duration}s", "--timeout", "30s", "--latency",
        "-H", f"Cookie: session={cookie}", "-H", "Accept-Encoding: br", f"http://127.0.0.1:{port}{path}",
    ]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode:
        raise SystemExit(f"wrk failed on {path}: {finished.stderr or finished.stdout}")
    output = finished.stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", output)
    if bad:
        raise SystemExit(f"{path}: {bad.group(0)} under load\n{output}")
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
    }
    for percent in ("50", "90", "99"):
        value, unit = re.search(rf"\s{percent}%\s+([\d.]+)(us|ms|s)\b", output).groups()
        result[f"p{percent}"] = float(value) * UNITS[unit]
    return result


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--notifications", type=int, default=40)
    parser.add_argument("--pairings", type=int, default=2000)
    parser.add_argument("--meetings", type=int, default=60_000)
    parser.add_argument("--wall-posts", type=int, default=200_000)
    parser.add_argument("--wall-reactions", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per page and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", help="build the organisation once and reuse it (see above)")
    parser.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = parser.parse_args()
    if not os.path.exists(args.wrk):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk; `make throughput` does it as root)")

    # Stopped from outside (Ctrl-C or SIGTERM), still stop the server below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    pages, env = prepare(args)
    database = env["DATABASE_URL"].split(":")[0]
    server, port = start_server(env, args.workers, args.threads)
    try:
        for label, page in pages.items():
            status = get(port, page["path"], page["cookie"])
            if status != 200:
                raise SystemExit(f"{label}: {page['path']} answered {status}")
        print(
            f"\ngunicorn -w {args.workers} --threads {args.threads} on {database}; wrk -c {args.connections}, "
            f"{args.duration} s per page, signed in, brotli; load average before: {load_average()}"
        )
        # CPU ms/req: the workers' CPU time per request, which the machine's other load barely moves; "cpu ratio"
        # is hello's CPU per request over the page's (what the req/s ratio would be on an idle machine).
        print(
            f"{'round':<7}{'page':<40}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'/ hello':>9}"
            f"{'CPU ms/r':>9}{'cpu ratio':>10}"
        )
        ratios: dict[str, list[float]] = {}
        cpu_ratios: dict[str, list[float]] = {}
        for round_number in range(1, args.rounds + 1):
            hello = None
            for label, page in pages.items():
                cpu_before = workers_cpu_seconds(server.pid)
                result = run_wrk(port, page["path"], page["cookie"], args)
                if not result["requests"]:
                    raise SystemExit(f"{label}: no request finished in {args.duration} s; try a longer --duration")
                cpu_ms = result["cpu"] = (workers_cpu_seconds(server.pid) - cpu_before) * 1000 / result["requests"]
                hello = hello or result
                ratio = result["rps"] / hello["rps"]
                ratios.setdefault(label, []).append(ratio)
                cpu_ratios.setdefault(label, []).append(hello["cpu"] / cpu_ms)
                print(
                    f"{round_number:<7}{label:<40}{result['rps']:>9.0f}{result['p50']:>9.1f}{result['p90']:>9.1f}"
                    f"{result['p99']:>9.1f}{ratio:>9.2f}{cpu_ms:>9.2f}{cpu_ratios[label][-1]:>9.2f}",
                    flush=True,
                )
        print(f"load average after: {load_average()}")
        print("median ratio to hello: " + ", ".join(f"{k} {sorted(v)[len(v) // 2]:.2f}" for k, v in ratios.items()))
        print("median CPU ratio: " + ", ".join(f"{k} {sorted(v)[len(v) // 2]:.2f}" for k, v in cpu_ratios.items()))
    finally:
        stop(server)


if __name__ == "__main__":
    main()
