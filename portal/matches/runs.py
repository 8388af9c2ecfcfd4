"""The director's "Match the rest": propose an optimal assignment, review it, then publish it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.database import batches
from portal.errors import Conflict, NotFound
from portal.extensions import db
from portal.matches import cohort
from portal.matching import assign, is_allowed, score_pair
from portal.models import (
    Cycle,
    Enrolment,
    EnrolmentRole,
    MatchingRun,
    MentorRequest,
    Pairing,
    PairingStatus,
    ProposedPair,
    RequestStatus,
    RunStatus,
    User,
)
from portal.notifications.services import notify

log = logging.getLogger(__name__)

WAITING_REASON = "Waiting for an answer to a request they sent themselves"
# A proposed pair scoring less than this above the run's minimum is flagged for a second look.
NEAR_FLOOR = 10


def close_to_floor(run: MatchingRun, pair: ProposedPair) -> bool:
    """Whether a proposed pair scores within NEAR_FLOOR points of the run's minimum score. Raises nothing."""
    return pair.score < run.min_score + NEAR_FLOOR


# A worker writes a heartbeat at least this often while it computes; a quieter run lost its worker.
STALE_AFTER = timedelta(minutes=5)
STOPPED = "The worker computing this run stopped before it finished"


def start_run(cycle: Cycle, director: User, *, now: datetime | None = None) -> MatchingRun:
    """Start a run for the cycle, computed by the queue's worker once this transaction commits.

    Idempotent: while a run of the cycle is still working (a double click, a second tab, two starts at once)
    that run is returned instead of a new one. A run whose worker stopped is marked failed first. Raises nothing.
    """
    now = now or utcnow()
    running = db.session.scalars(
        select(MatchingRun)
        .where(MatchingRun.cycle_id == cycle.id, MatchingRun.status == RunStatus.RUNNING)
        .order_by(MatchingRun.id.desc())
    ).all()
    for run in running:
        if not is_stalled(run, now):
            return run
        _fail(run, STOPPED, now)
    try:
        # Two starts at once both see no running run; the one-running-run-per-cycle index lets one in.
        with db.session.begin_nested():
            run = MatchingRun(cycle_id=cycle.id, created_by_id=director.id, created_at=now)
            db.session.add(run)
            db.session.flush()
    except IntegrityError:
        return db.session.scalars(
            select(MatchingRun).where(MatchingRun.cycle_id == cycle.id, MatchingRun.status == RunStatus.RUNNING)
        ).one()
    from portal.queue import after_commit, compute_matching_run

    after_commit(compute_matching_run, run.id)
    return run


def is_stalled(run: MatchingRun, now: datetime) -> bool:
    """True for a running run that no worker has touched for a while (never picked up, or its worker died)."""
    last = run.heartbeat_at or run.created_at
    return run.status == RunStatus.RUNNING and last < now - STALE_AFTER


def _fail(run: MatchingRun, message: str, now: datetime) -> None:
    run.status, run.error, run.finished_at = RunStatus.FAILED, message[:300], now


def retry_run(run: MatchingRun, director: User, *, now: datetime) -> MatchingRun:
    """Start the run again as a new one; a stalled run is marked failed first.

    Raises Conflict while the run is still working or once it finished.
    """
    if run.status == RunStatus.RUNNING and is_stalled(run, now):
        _fail(run, STOPPED, now)
    if run.status != RunStatus.FAILED:
        raise Conflict("This run did not fail, so there is nothing to try again.")
    return start_run(db.session.get(Cycle, run.cycle_id), director, now=now)


def recover_stalled_runs(now: datetime) -> int:
    """Runs lost by a worker: a run never picked up is enqueued again; one whose worker died is marked failed.

    Return how many runs were recovered either way. Safe to run often: computing claims a run only once.
    """
    from portal.queue import after_commit, compute_matching_run

    recovered = 0
    for run in db.session.scalars(select(MatchingRun).where(MatchingRun.status == RunStatus.RUNNING)).all():
        if not is_stalled(run, now):
            continue
        recovered += 1
        if run.heartbeat_at is None:
            after_commit(compute_matching_run, run.id)
        else:
            _fail(run, STOPPED, now)
            log.warning("matching run %s lost its worker; marked failed", run.id)
    db.session.flush()
    return recovered


def compute_claimed_run(run_id: int) -> None:
    """Claim the run (once: a duplicate job finds it taken) and compute it; record a failure on the run."""
    claimed = db.session.execute(
        update(MatchingRun)
        .where(
            MatchingRun.id == run_id,
            MatchingRun.status == RunStatus.RUNNING,
            MatchingRun.heartbeat_at.is_(None),
        )
        .values(heartbeat_at=utcnow(), stage="starting")
    ).rowcount
    db.session.commit()
    if not claimed:
        return
    try:
        compute_run(run_id)
    except Exception as error:
        log.exception("matching run %s failed", run_id)
        db.session.rollback()
        _fail(db.session.get(MatchingRun, run_id), f"{type(error).__name__}: {error}", utcnow())
        db.session.commit()
        raise


def _unmatched_mentees(cycle: Cycle) -> tuple[list[int], list[int]]:
    """(mentees to match, mentees waiting on their own open request) among those without a mentor."""
    mentees = set(
        db.session.scalars(
            select(Enrolment.user_id).where(
                Enrolment.cycle_id == cycle.id,
                Enrolment.role.in_([EnrolmentRole.MENTEE, EnrolmentRole.BOTH]),
            )
        )
    )
    paired = set(
        db.session.scalars(
            select(Pairing.mentee_id).where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
        )
    )
    waiting = set(
        db.session.scalars(
            select(MentorRequest.mentee_id).where(
                MentorRequest.cycle_id == cycle.id, MentorRequest.status == RequestStatus.OPEN
            )
        )
    )
    free = mentees - paired
    return sorted(free - waiting), sorted(free & waiting)


def compute_run(run_id: int) -> None:
    """Read the cohort, find the optimal assignment and store it as proposed pairs.

    No pair scores under the cycle's minimum score (kept on the run): a mentee with no better pair is
    left unmatched with the reason "No mentor fits well yet".

    Reads in one short transaction, computes outside any transaction (so SQLite writers are not held
    up for seconds), then writes the result in another; progress is committed as it goes.
    """
    run = db.session.get(MatchingRun, run_id)
    cycle = db.session.get(Cycle, run.cycle_id)
    to_match, waiting = _unmatched_mentees(cycle)
    mentees = cohort.people(to_match)
    slots = cohort.mentor_slots(cycle)
    forbidden = cohort.forbidden_pairs(cycle)
    weights, labels = cohort.weights_for(cycle), cohort.labels()
    run.stage, run.progress, run.min_score, run.heartbeat_at = "scoring", 0.05, cycle.min_score, utcnow()
    db.session.commit()

    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        # Committing every call would slow big runs; a few updates are enough for a progress bar.
        overall = (0.1 + 0.5 * fraction) if stage == "scoring" else (0.6 + 0.35 * fraction)
        if overall - last[0] >= 0.1:
            last[0] = overall
            db.session.execute(
                MatchingRun.__table__.update()
                .where(MatchingRun.id == run_id)
                .values(stage=stage, progress=overall, heartbeat_at=utcnow())
            )
            db.session.commit()

    result = assign(
        [mentees[i] for i in to_match if i in mentees],
        slots,
        weights=weights,
        labels=labels,
        forbidden=forbidden,
        min_score=run.min_score,
        progress=progress,
    )
    run = db.session.get(MatchingRun, run_id)
    db.session.add_all(
        ProposedPair(
            run_id=run.id,
            mentee_id=match.mentee_id,
            mentor_id=match.mentor_id,
            score=match.score,
            reasons=list(match.reasons),
        )
        for match in result.matches
    )
    run.unmatched = [
        {"mentee_id": mentee_id, "reason": reason} for mentee_id, reason in sorted(result.unmatched.items())
    ] + [{"mentee_id": mentee_id, "reason": WAITING_REASON} for mentee_id in waiting]
    run.status, run.stage, run.progress = RunStatus.READY, "ready", 1.0
    run.finished_at = utcnow()
    db.session.commit()


def get_run(run_id: int) -> MatchingRun:
    """The run with this id. Raises NotFound when there is none."""
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        raise NotFound()
    return run


def proposed_pairs(run: MatchingRun) -> list[ProposedPair]:
    """The run's proposed pairs with both people and their teams, best score first."""
    return list(
        db.session.scalars(
            select(ProposedPair)
            .options(
                joinedload(ProposedPair.mentee).joinedload(User.team),
                joinedload(ProposedPair.mentor).joinedload(User.team),
            )
            .where(ProposedPair.run_id == run.id)
            .order_by(ProposedPair.dropped, ProposedPair.score.desc(), ProposedPair.id)
        ).unique()
    )


def unmatched_people(run: MatchingRun) -> list[tuple[User, str]]:
    """The mentees the run could not match, with the reason, in one query (one per ``IN_BATCH`` mentees)."""
    reasons = {item["mentee_id"]: item["reason"] for item in run.unmatched}
    users = [user for chunk in batches(reasons) for user in db.session.scalars(select(User).where(User.id.in_(chunk)))]
    return sorted(((u, reasons[u.id]) for u in users), key=lambda pair: pair[0].display_name)


def _editable_pair(run: MatchingRun, pair_id: int) -> ProposedPair:
    if run.status != RunStatus.READY:
        raise Conflict("This proposal can no longer be changed.")
    pair = db.session.get(ProposedPair, pair_id)
    if pair is None or pair.run_id != run.id:
        raise NotFound()
    return pair


def set_dropped(run: MatchingRun, pair_id: int, dropped: bool) -> ProposedPair:
    """Drop a proposed pair from the run, or bring it back. Raises Conflict once published."""
    pair = _editable_pair(run, pair_id)
    pair.dropped = dropped
    db.session.flush()
    return pair


def swap_mentors(run: MatchingRun, first_id: int, second_id: int) -> tuple[ProposedPair, ProposedPair]:
    """Exchange the mentors of two proposed pairs, rescoring both.

    Raises Conflict when the swap would break a hard constraint (same team, an ended pair ...) or when
    both pairs are the same; NotFound for a pair of another run.
    """
    first, second = _editable_pair(run, first_id), _editable_pair(run, second_id)
    if first.id == second.id:
        raise Conflict("Please choose two different pairs to swap.")
    cycle = db.session.get(Cycle, run.cycle_id)
    persons = cohort.people([first.mentee_id, first.mentor_id, second.mentee_id, second.mentor_id])
    forbidden = cohort.forbidden_pairs(cycle)
    new_first = (persons[first.mentee_id], persons[second.mentor_id])
    new_second = (persons[second.mentee_id], persons[first.mentor_id])
    for mentee, mentor in (new_first, new_second):
        if not is_allowed(mentee, mentor, forbidden=forbidden):
            raise Conflict(
                f"{mentee.name} and {mentor.name} cannot be paired (same team, an ended pairing, "
                "or formats that do not fit)."
            )
    weights, labels = cohort.weights_for(cycle), cohort.labels()
    for pair, (mentee, mentor) in ((first, new_first), (second, new_second)):
        match = score_pair(mentee, mentor, weights, labels)
        pair.mentor_id, pair.score, pair.reasons = mentor.id, match.score, list(match.reasons)
    db.session.flush()
    return first, second


def publish_run(run: MatchingRun, *, now: datetime) -> tuple[int, list[str]]:
    """Create pairings for the kept pairs and tell both people; return (created, skipped explanations).

    A pair is skipped, and said so, when the mentee found a mentor meanwhile or the mentor filled up.
    Raises Conflict when the run is not ready.
    """
    if run.status != RunStatus.READY:
        raise Conflict("Only a finished proposal can be published, and only once.")
    pairs = proposed_pairs(run)
    if all(pair.dropped for pair in pairs):
        raise Conflict("There are no pairs to publish in this proposal.")
    cycle = db.session.get(Cycle, run.cycle_id)
    capacities = dict(
        db.session.execute(select(Enrolment.user_id, Enrolment.capacity).where(Enrolment.cycle_id == cycle.id)).all()
    )
    loads = cohort.active_loads(cycle)
    paired = set(
        db.session.scalars(
            select(Pairing.mentee_id).where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
        )
    )
    created, skipped = 0, []
    for pair in pairs:
        if pair.dropped:
            continue
        if pair.mentee_id in paired:
            skipped.append(f"{pair.mentee.display_name} found a mentor meanwhile.")
            continue
        if loads.get(pair.mentor_id, 0) >= capacities.get(pair.mentor_id, 0):
            skipped.append(f"{pair.mentor.display_name} has no room left.")
            continue
        db.session.add(
            Pairing(
                cycle_id=cycle.id,
                mentor_id=pair.mentor_id,
                mentee_id=pair.mentee_id,
                source="director",
                score=pair.score,
                reasons=list(pair.reasons),
                created_at=now,
            )
        )
        loads[pair.mentor_id] = loads.get(pair.mentor_id, 0) + 1
        paired.add(pair.mentee_id)
        created += 1
        notify(
            pair.mentee,
            f"The program director has matched you with {pair.mentor.display_name}. Your home page shows why you fit.",
            endpoint="main.home",
            email_subject="You have a mentor",
            kind="pairings",
        )
        notify(
            pair.mentor,
            f"The program director has matched you with {pair.mentee.display_name} as their mentor.",
            endpoint="main.home",
            email_subject="You have a new mentee",
            kind="pairings",
        )
    run.status, run.published_at = RunStatus.PUBLISHED, now
    db.session.flush()
    return created, skipped
