"""The job queue: jobs that fail are retried then kept for the director, matching runs that lose their worker,
and (with TEST_REDIS_URL) one pass through a real huey consumer on Redis.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.matches import runs
from portal.models import FailedJob, MatchingRun, RunStatus
from portal.queue import enqueue_ready, huey, job
from tests.conftest import login_as, post
from tests.factories import make_cycle, make_director, make_user
from tests.test_notifications import Inbox, free_port

ROOT = Path(__file__).resolve().parent.parent
CALLS = []


@job("test_always_fails", retries=2)
def always_fails(label: str) -> None:
    CALLS.append(label)
    raise RuntimeError(f"the mail server refused {label}")


@pytest.fixture
def queue():
    huey.flush()
    CALLS.clear()
    yield huey
    huey.flush()


def test_a_job_that_raises_is_retried_with_back_off_then_kept_for_the_director(client, queue):
    always_fails("outbox")
    assert CALLS == ["outbox"]
    assert db.session.scalars(select(FailedJob)).all() == []  # retries are left: nothing to show yet
    delays = []
    for _ in range(5):
        due = queue.read_schedule(datetime(2100, 1, 1))  # takes the retries off the schedule
        if not due:
            break
        (task,) = due
        delays.append(task.retry_delay)
        task.eta = None  # as if its time had come
        queue.execute(task)
    assert CALLS == ["outbox"] * 3 and delays == [60, 120]  # 30 s, then 60 s, then 120 s: backing off
    (failed,) = db.session.scalars(select(FailedJob)).all()
    assert failed.task == "test_always_fails" and failed.arguments == ["outbox"]
    assert "the mail server refused outbox" in failed.error

    login_as(client, make_director())
    page = client.get("/notifications/jobs").get_data(as_text=True)
    assert "test always fails" in page and "the mail server refused outbox" in page
    assert post(client, f"/notifications/jobs/{failed.id}/retry").status_code == 303
    assert CALLS == ["outbox"] * 4  # enqueued again once the request committed
    assert post(client, f"/notifications/jobs/{failed.id}/retry").status_code == 303
    assert CALLS == ["outbox"] * 4  # a second press enqueues nothing more


def test_only_the_director_sees_failed_jobs(client):
    login_as(client, make_user())
    assert client.get("/notifications/jobs").status_code == 403


def test_starting_a_run_twice_while_it_works_leads_to_the_same_run():
    cycle, director = make_cycle(), make_director()
    first = runs.start_run(cycle, director)
    second = runs.start_run(cycle, director)
    assert first.id == second.id


def _running(cycle, director, *, minutes_ago: int, heartbeat: bool) -> MatchingRun:
    then = utcnow() - timedelta(minutes=minutes_ago)
    run = MatchingRun(cycle_id=cycle.id, created_by_id=director.id, created_at=then)
    run.heartbeat_at = then if heartbeat else None
    db.session.add(run)
    db.session.commit()
    return run


def test_a_run_whose_worker_died_is_marked_failed_and_can_be_tried_again(client):
    cycle, director = make_cycle(), make_director()
    run = _running(cycle, director, minutes_ago=10, heartbeat=True)
    login_as(client, director)
    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)
    assert "seems to have stopped" in page and "Try the run again" in page
    assert runs.recover_stalled_runs(utcnow()) == 1
    db.session.refresh(run)
    assert run.status == RunStatus.FAILED and "stopped before it finished" in run.error
    assert runs.start_run(cycle, director).id != run.id  # a dead run does not block a new one
    db.session.rollback()
    response = post(client, f"/matches/runs/{run.id}/retry")
    assert response.status_code == 303
    new_run = db.session.scalars(select(MatchingRun).order_by(MatchingRun.id.desc())).first()
    assert new_run.id != run.id and new_run.status == RunStatus.READY
    assert post(client, f"/matches/runs/{new_run.id}/retry").status_code == 409  # nothing failed to retry


def test_a_run_never_picked_up_is_enqueued_again_and_computed_once():
    cycle, director = make_cycle(), make_director()
    run = _running(cycle, director, minutes_ago=10, heartbeat=False)
    # Another cycle's run, still working (one running run per cycle is the database's rule).
    fresh = _running(make_cycle(name="Autumn", current=False), director, minutes_ago=0, heartbeat=True)
    assert runs.recover_stalled_runs(utcnow()) == 1
    db.session.commit()
    enqueue_ready()
    db.session.refresh(run)
    db.session.refresh(fresh)
    assert run.status == RunStatus.READY and fresh.status == RunStatus.RUNNING
    runs.compute_claimed_run(run.id)  # a duplicate job finds the run taken and does nothing
    assert db.session.get(MatchingRun, run.id).status == RunStatus.READY


# --- a real consumer on Redis ------------------------------------------------------------------------

SETUP = """
import json
from datetime import datetime, timedelta
from flask_migrate import upgrade
from portal import create_app
from portal.clock import utcnow
from portal.extensions import db
from portal.models import MatchingRun
from portal.notifications.services import notify
from portal.queue import send_mail, watch_matching_runs
from tests.factories import make_cycle, make_director, make_user

app = create_app()
with app.app_context():
    upgrade(revision="heads")
    cycle, director = make_cycle(), make_director()
    notify(make_user(email="noor@example.com"), "Hello from the queue.", email_subject="Queued")
    long_ago = utcnow() - timedelta(minutes=10)
    lost = MatchingRun(cycle_id=cycle.id, created_by_id=director.id, created_at=long_ago)
    # One running run per cycle (the database's rule): the second lost run belongs to another cycle.
    other = make_cycle(name="Autumn", current=False)
    dead = MatchingRun(cycle_id=other.id, created_by_id=director.id, created_at=long_ago, heartbeat_at=long_ago)
    db.session.add_all([lost, dead])
    db.session.commit()
    send_mail()
    watch_matching_runs()
    print(json.dumps({"lost": lost.id, "dead": dead.id}))
"""


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL is not set")
def test_a_real_consumer_on_redis_sends_mail_and_recovers_runs_a_killed_worker_left(tmp_path):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    database = tmp_path / "queue.sqlite3"
    name = f"portal-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "queue-tests",
        "REDIS_URL": os.environ["TEST_REDIS_URL"],
        "PORTAL_QUEUE_NAME": name,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
    }
    consumer = None
    try:
        setup = subprocess.run(  # noqa: S603  (our own interpreter and script)
            [sys.executable, "-c", SETUP], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert setup.returncode == 0, setup.stderr
        ids = json.loads(setup.stdout.strip().splitlines()[-1])
        command = [str(Path(sys.executable).parent / "huey_consumer"), "portal.queue.huey", "-w", "2", "-m", "0.2"]
        consumer = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        def statuses():
            with sqlite3.connect(database) as connection:
                return dict(connection.execute("SELECT id, status FROM matching_runs").fetchall())

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if inbox.messages and statuses() == {ids["lost"]: "ready", ids["dead"]: "failed"}:
                break
            time.sleep(0.25)
        assert [m["To"] for m in inbox.messages] == ["noor@example.com"]
        assert statuses() == {ids["lost"]: "ready", ids["dead"]: "failed"}
    finally:
        if consumer is not None:
            consumer.terminate()
            consumer.wait(timeout=20)
        smtp.stop()
        from huey import RedisHuey

        RedisHuey(name, url=os.environ["TEST_REDIS_URL"]).flush()
