"""The job queue: background work runs on huey, never on threads inside web workers.

Storage is a SQLite file in the instance folder (no extra server), or Redis when ``REDIS_URL`` is set. Run
a worker with ``huey_consumer portal.queue.huey`` (``make run`` starts one beside the web server). Each job
runs inside an application context and commits once at the end, like a request. A job that raises is
logged and retried with a growing delay; when its retries are used up it is kept in ``failed_jobs`` for
the director (``/notifications/jobs``), who can try it again. Tests switch ``huey.immediate`` on, so jobs
run at once, in the caller's transaction.
"""

from __future__ import annotations

import logging
import os
from functools import wraps

from flask import Flask, has_app_context
from huey import RedisHuey, SqliteHuey, crontab
from huey.signals import SIGNAL_ERROR
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

log = logging.getLogger(__name__)

RETRIES = 5
RETRY_DELAY = 30  # seconds, doubled after each failed try: 30 s, 1 min, 2 min, 4 min, 8 min


def _make_huey():
    name = os.environ.get("PORTAL_QUEUE_NAME", "portal")
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return RedisHuey(name, url=redis_url, utc=True)
    # The same instance folder create_app uses, found without building an app at import time.
    instance = Flask("portal", instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None).instance_path
    os.makedirs(instance, exist_ok=True)
    return SqliteHuey(name, filename=os.path.join(instance, "queue.sqlite3"), utc=True)


huey = _make_huey()

# Every job by name, so a failed one can be enqueued again from the director's page.
JOBS: dict = {}

_worker_app = None


def worker_app():
    """The application a worker process runs its jobs in, built once."""
    global _worker_app
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    return _worker_app


def _in_app(function):
    @wraps(function)
    def run(*args, **kwargs):
        if has_app_context():
            # Immediate mode (tests), or a job called directly: the caller owns the transaction.
            result = function(*args, **kwargs)
            db.session.flush()
            return result
        with worker_app().app_context():
            try:
                result = function(*args, **kwargs)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            finally:
                enqueue_ready()
                db.session.remove()
            return result

    return run


def job(name: str, *, retries: int = RETRIES):
    """Make ``function`` a queued job: calling it enqueues it; ``.call_local`` runs it here and now."""

    def decorate(function):
        task = huey.task(retries=retries, retry_delay=RETRY_DELAY, retry_backoff=2, name=name)(_in_app(function))
        JOBS[name] = task
        return task

    return decorate


def periodic(name: str, schedule):
    """Make ``function`` a job that also runs on ``schedule`` (a huey ``crontab``) in the worker."""

    def decorate(function):
        task = huey.periodic_task(schedule, retries=0, name=name)(_in_app(function))
        JOBS[name] = task
        return task

    return decorate


# --- enqueue only what was committed ------------------------------------------------------------------


def after_commit(task, *args) -> None:
    """Enqueue ``task(*args)`` once the current transaction commits, so the worker sees what it needs.

    Nothing is enqueued when the transaction rolls back; the same call twice enqueues once.
    """
    pending = db.session.info.setdefault("jobs_after_commit", [])
    if (task, args) not in pending:
        pending.append((task, args))


@event.listens_for(Session, "after_commit")
def _commit_releases_jobs(session) -> None:
    pending = session.info.pop("jobs_after_commit", None)
    if pending:
        ready = session.info.setdefault("jobs_ready", [])
        ready.extend(item for item in pending if item not in ready)


@event.listens_for(Session, "after_soft_rollback")
def _rollback_drops_jobs(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop("jobs_after_commit", None)


def enqueue_ready() -> None:
    """Enqueue the jobs whose transaction has committed (called at the end of a request or a job)."""
    ready = db.session.info.pop("jobs_ready", None) if db.session.registry.has() else None
    for task, args in ready or ():
        try:
            task(*args)
        except Exception:  # the periodic jobs pick the work up later; the request must still answer
            log.exception("could not enqueue %s", getattr(task, "name", task))


def register_queue(app: Flask) -> None:
    """Enqueue committed jobs when each request ends."""

    @app.teardown_request
    def enqueue_after_request(error):
        if error is None:
            enqueue_ready()


# --- failures ----------------------------------------------------------------------------------------


@huey.signal(SIGNAL_ERROR)
def _keep_failure(signal, task, exc=None):
    if task.retries:
        return  # huey tries again later, with a longer delay
    from portal.models import FailedJob

    def record():
        from sqlalchemy import select

        from portal.clock import utcnow

        arguments, error = list(task.args or ()), f"{type(exc).__name__}: {exc}"[:500]
        # A periodic job failing every minute is one problem to look at, not hundreds of rows.
        same = db.session.scalars(
            select(FailedJob).where(FailedJob.task == task.name, FailedJob.retried_at.is_(None))
        ).all()
        existing = next((row for row in same if row.arguments == arguments), None)
        if existing is not None:
            existing.error, existing.failed_at = error, utcnow()
        else:
            db.session.add(FailedJob(task=task.name, arguments=arguments, error=error))

    if has_app_context():
        record()
        db.session.flush()
        return
    with worker_app().app_context():
        try:
            record()
            db.session.commit()
        except Exception:
            log.exception("could not record the failure of %s", task.name)
            db.session.rollback()
        finally:
            db.session.remove()


# --- the jobs ----------------------------------------------------------------------------------------


@periodic("send_mail", crontab(minute="*"))
def send_mail() -> tuple[int, int]:
    """Send what waits in the outbox (also enqueued right after a request that queued mail)."""
    from portal.notifications.services import deliver_pending

    return deliver_pending(limit=200)


@periodic("expire_requests", crontab(minute="*/10"))
def expire_requests() -> tuple[int, int]:
    """Remind mentors of requests about to run out, and close the ones that did (telling their mentees)."""
    from portal.clock import utcnow
    from portal.matches.services import expire_due_requests
    from portal.notifications.reminders import send_request_reminders

    now = utcnow()
    return send_request_reminders(now), expire_due_requests(now)


@periodic("meeting_reminders", crontab(minute="*/5"))
def meeting_reminders() -> int:
    """The day-before reminder in each person's morning, and the hour-before one."""
    from portal.clock import utcnow
    from portal.notifications.reminders import send_meeting_reminders

    return send_meeting_reminders(utcnow())


@periodic("weekly_digest", crontab(minute="7"))
def weekly_digest() -> int:
    """Each person's weekly digest, on their day, in their morning, when there is something to say."""
    from portal.clock import utcnow
    from portal.notifications.reminders import send_digests

    return send_digests(utcnow())


@periodic("catch_up_notes", crontab(hour="6", minute="20"))
def catch_up_notes() -> int:
    """The back-up plan's kind catch-up note to pairs that have been quiet (idempotent, at most every 3 weeks)."""
    from portal.clock import today
    from portal.support.jobs import send_catch_up_notes

    return send_catch_up_notes(today=today())


@periodic("close_finished_cycles", crontab(hour="0", minute="15"))
def close_finished_cycles() -> int:
    """End the active pairings of cycles whose end date has passed, as completed, and offer the retrospective."""
    from portal.clock import today
    from portal.reports.jobs import close_finished_cycles as close

    return close(on=today())


@periodic("recount_kept", crontab(minute="*/5"))
def recount_kept() -> tuple[int, int]:
    """Count the impact report and build "Mentors who fit you" afresh for every process, so that nobody waits
    for them after a restart, a new day or the ten minutes anything kept lasts (``portal.stamps``). Returns the
    reports counted and the indexes built."""
    from sqlalchemy import select

    from portal.matches.cohort import mentor_index
    from portal.models import Cycle
    from portal.reports.services import recount_reports
    from portal.stamps import recounting

    with recounting():
        cycle = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True)))
        if cycle is not None:
            mentor_index(cycle)
        return recount_reports(), int(cycle is not None)


@job("compute_matching_run", retries=0)
def compute_matching_run(run_id: int) -> None:
    """Compute a director's matching run; a run that raises is marked failed (with a retry button)."""
    from portal.matches.runs import compute_claimed_run

    compute_claimed_run(run_id)


@periodic("watch_matching_runs", crontab(minute="*"))
def watch_matching_runs() -> int:
    """Find runs whose worker stopped: start the ones never picked up, mark the others failed."""
    from portal.clock import utcnow
    from portal.matches.runs import recover_stalled_runs

    return recover_stalled_runs(utcnow())


def retry_failed(failed) -> None:
    """Enqueue a failed job once more (after the current transaction commits). Raises KeyError for an unknown job."""
    after_commit(JOBS[failed.task], *failed.arguments)
