"""Pair health: the rules that say whether a pairing is on track, with their reasons in plain words.

The rules are pure functions of a pair's facts (dates, counts, check-in answers) and the cycle's thresholds,
so they run without a page and are tested one by one. ``facts_for`` reads the facts of many pairs in a fixed
number of queries. Nothing here reads journal text: the director sees metadata only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import cache

from sqlalchemy import Date, Select, String, bindparam, func, select, type_coerce

from portal.dates import format_day
from portal.extensions import db
from portal.models import (
    CheckIn,
    Fit,
    Goal,
    GoalStatus,
    Milestone,
    Pairing,
    PairingActivity,
    SupportSettings,
)


@dataclass(frozen=True)
class Thresholds:
    """A cycle's settings for health, check-ins and catch-up notes (the defaults when it has none)."""

    quiet_warning_weeks: int = 5
    overdue_milestones: int = 2
    too_early_days: int = 21
    first_check_in_days: int = 3
    first_check_in_max_days: int = 14
    pulse_weeks: int = 6
    quiet_weeks: int = 4
    note_spacing_weeks: int = 3

    @classmethod
    def of(cls, row: SupportSettings | None) -> Thresholds:
        if row is None:
            return cls()
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls) if getattr(row, f.name) is not None})


def thresholds_for(cycle_id: int) -> Thresholds:
    """The cycle's thresholds, or the defaults when the director has not changed them (one query)."""
    return Thresholds.of(db.session.get(SupportSettings, cycle_id))


@dataclass(frozen=True, slots=True)
class Answer:
    """One check-in row, as much of it as health and the director need."""

    user_id: int
    round: int
    fit: Fit | None
    score: int | None
    answered: bool
    skipped: bool


@dataclass(slots=True)
class PairFacts:
    """What health is judged on: dates and counts, never journal text."""

    pairing_id: int
    created_on: date
    first_held_on: date | None = None
    last_held_on: date | None = None
    held_count: int = 0
    overdue_milestones: int = 0
    open_help: int = 0
    paused_until: date | None = None
    # From each partner's first check-in and latest pulse (worked out by the database for many pairs at once).
    said_not_a_fit: bool = False
    lowest_latest_pulse: int | None = None
    # Every check-in row, read only where a person's rounds are needed (their home, one pair's page).
    answers: list[Answer] = field(default_factory=list)
    # Each partner's latest answered first check-in and pulse, by (user id, is a pulse): worked out once per
    # pair, on first use (the board asks thousands of times; ``cached_property`` takes a lock on each call).
    _latest: dict[tuple[int, bool], Answer] | None = field(default=None, repr=False, compare=False)

    def latest(self, user_id: int, *, pulse: bool) -> Answer | None:
        """The person's latest answered first check-in (``pulse`` False) or pulse."""
        return self._latest_answers().get((user_id, pulse))

    def _latest_answers(self) -> dict[tuple[int, bool], Answer]:
        found = self._latest
        if found is None:
            found = {}
            for a in self.answers:
                if a.answered:
                    key = (a.user_id, a.round > 0)
                    if key not in found or found[key].round < a.round:
                        found[key] = a
            self._latest = found
        return found


class HealthState(enum.StrEnum):
    NEEDS_CHECK_IN = "needs_check_in"
    TOO_EARLY = "too_early"
    ON_TRACK = "on_track"
    PAUSED = "paused"


LABELS = {
    HealthState.NEEDS_CHECK_IN: "Might need a check-in",
    HealthState.TOO_EARLY: "Too early to tell",
    HealthState.ON_TRACK: "On track",
    HealthState.PAUSED: "Paused",
}
# Sorted by need: the pairs that may need help first.
ORDER = [HealthState.NEEDS_CHECK_IN, HealthState.TOO_EARLY, HealthState.ON_TRACK, HealthState.PAUSED]
FITS = {fit.value: fit for fit in Fit}
NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine"}


@dataclass(frozen=True)
class Health:
    state: HealthState
    reasons: tuple[str, ...]

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def need(self) -> tuple[int, int]:
        """Sort key: state first, then more reasons first."""
        return (ORDER.index(self.state), -len(self.reasons))


# --- the rules, one by one ------------------------------------------------------------------------


def rule_quiet(facts: PairFacts, t: Thresholds, today: date) -> str | None:
    """No meeting logged for the cycle's warning period (counted from the pairing's start if none yet)."""
    since = facts.last_held_on or facts.created_on
    weeks = (today - since).days // 7
    if weeks >= t.quiet_warning_weeks:
        return f"No meeting logged in {weeks} weeks"
    return None


def rule_overdue_milestones(facts: PairFacts, t: Thresholds, today: date) -> str | None:
    """At least the threshold's number of milestones past their date and not ticked."""
    count = facts.overdue_milestones
    if count >= t.overdue_milestones:
        return f"{NUMBERS.get(count, str(count))} milestone{'s' if count != 1 else ''} overdue"
    return None


def rule_not_a_fit(facts: PairFacts, t: Thresholds, today: date) -> str | None:
    """A partner's first check-in said "Not a good fit" (the board never says which partner)."""
    if facts.said_not_a_fit:
        return "A partner answered Not a good fit"
    return None


def rule_low_pulse(facts: PairFacts, t: Thresholds, today: date) -> str | None:
    """A partner's latest pulse was 1 or 2 out of 5 (the lower of the two partners' latest is named)."""
    score = facts.lowest_latest_pulse
    if score is not None and score <= 2:
        return f"A partner's latest pulse was {score} of 5"
    return None


def rule_open_help(facts: PairFacts, t: Thresholds, today: date) -> str | None:
    """Someone of the pair has a question for the director that is not resolved yet."""
    if facts.open_help:
        return "A question for the director is open"
    return None


RULES = (rule_quiet, rule_overdue_milestones, rule_not_a_fit, rule_low_pulse, rule_open_help)


def health_of(facts: PairFacts, t: Thresholds, today: date) -> Health:
    """The pair's health state with its reasons in plain words.

    A paused pair is "Paused" and raises no warning; any rule that fires makes it "Might need a check-in";
    a young pair without a meeting is "Too early to tell"; otherwise "On track".
    """
    if facts.paused_until is not None and facts.paused_until > today:
        return Health(HealthState.PAUSED, (f"Paused until {format_day(facts.paused_until)}",))
    reasons = tuple(reason for rule in RULES if (reason := rule(facts, t, today)))
    if reasons:
        return Health(HealthState.NEEDS_CHECK_IN, reasons)
    age = (today - facts.created_on).days
    if facts.held_count == 0 and age < t.too_early_days:
        return Health(HealthState.TOO_EARLY, (f"Paired {age} days ago, no meeting logged yet",))
    if facts.last_held_on is not None:
        days = (today - facts.last_held_on).days
        return Health(HealthState.ON_TRACK, (f"Last met {days} days ago" if days != 1 else "Last met yesterday",))
    return Health(HealthState.ON_TRACK, ())


# --- check-in rounds ------------------------------------------------------------------------------


def first_check_in_on(facts: PairFacts, t: Thresholds) -> date:
    """A few days after the first held meeting, or a fixed time after pairing, whichever comes first."""
    latest = facts.created_on + timedelta(days=t.first_check_in_max_days)
    if facts.first_held_on is not None:
        return min(latest, facts.first_held_on + timedelta(days=t.first_check_in_days))
    return latest


def current_round(facts: PairFacts, t: Thresholds, today: date) -> int | None:
    """The check-in round open today (0 is the first question, then a pulse every ``pulse_weeks``), or None."""
    first = first_check_in_on(facts, t)
    if today < first:
        return None
    return (today - first).days // (7 * t.pulse_weeks)


def due_round(facts: PairFacts, t: Thresholds, today: date, user_id: int) -> int | None:
    """The round waiting for this person on their home page: open, not answered, not skipped, not paused."""
    if facts.paused_until is not None and facts.paused_until > today:
        return None
    found = current_round(facts, t, today)
    if found is None:
        return None
    if any(a.user_id == user_id and a.round == found and (a.answered or a.skipped) for a in facts.answers):
        return None
    return found


# --- reading the facts ----------------------------------------------------------------------------


def facts_for(pairings: list[Pairing], today: date) -> dict[int, PairFacts]:
    """The facts of these pairings with their check-in rows, by pairing id, in two queries whatever their
    number."""
    if not pairings:
        return {}
    facts = {p.id: PairFacts(pairing_id=p.id, created_on=utc_day(p.created_at)) for p in pairings}
    _fill(facts, _facts_by_id(), {"pairing_ids": list(facts), "today": today})
    add_answers(facts)
    return facts


def pairs_with_facts(chosen, today: date) -> list[tuple[int, str | datetime, int, int, PairFacts]]:
    """The pairings the condition ``chosen`` selects, as (id, start as stored, mentor id, mentee id, facts), in one
    query whatever their number: plain rows, no ORM object and no check-in rows (``add_answers`` reads those for
    the few pairs shown)."""
    statement = _facts_select(chosen, type_coerce(Pairing.created_at, String), Pairing.mentor_id, Pairing.mentee_id)
    found = []
    for row in db.session.connection().execute(statement, {"today": today}).all():
        facts = PairFacts(pairing_id=row[0], created_on=utc_day(row[9]))
        _put(facts, row, today)
        found.append((row[0], row[9], row[10], row[11], facts))
    return found


@cache
def _facts_by_id() -> Select:
    """``_facts_select`` for a list of pairings, built once: building it cost more than running it on a home
    page."""
    return _facts_select(Pairing.id.in_(bindparam("pairing_ids", expanding=True)))


def _facts_select(chosen, *columns) -> Select:
    """Every fact but the check-in rows of the pairings ``chosen`` selects, one row per pair, then ``columns``
    (the ``today`` parameter says which milestones are overdue). Meetings, open questions, pauses, "Not a good
    fit" and the pulse are kept per pair as they change (``portal.journals.activity``); overdue milestones depend
    on the day, so they are counted here, grouped in the database."""
    today = bindparam("today", type_=Date)
    overdue = (
        select(Goal.pairing_id, func.count().label("count"))
        .join(Milestone, Milestone.goal_id == Goal.id)
        .where(
            Goal.pairing_id.in_(select(Pairing.id).where(chosen).scalar_subquery()),
            Goal.status == GoalStatus.ACTIVE,
            Milestone.done_at.is_(None),
            Milestone.due_on < today,
        )
        .group_by(Goal.pairing_id)
        .subquery()
    )
    return (
        select(
            Pairing.id,
            PairingActivity.held_meetings,
            PairingActivity.first_held_on,
            PairingActivity.last_held_on,
            overdue.c.count,
            PairingActivity.open_help,
            PairingActivity.paused_until,
            PairingActivity.said_not_a_fit,
            PairingActivity.lowest_latest_pulse,
            *columns,
        )
        .select_from(Pairing)
        .outerjoin(PairingActivity, PairingActivity.pairing_id == Pairing.id)
        .outerjoin(overdue, overdue.c.pairing_id == Pairing.id)
        .where(chosen)
    )


def _fill(facts: dict[int, PairFacts], statement: Select, params: dict) -> None:
    """Put what ``statement`` (a ``_facts_select``) reads into the facts of the pairs it names."""
    for row in db.session.connection().execute(statement, params).all():
        found = facts.get(row[0])
        if found is not None:
            _put(found, row, params["today"])


def _put(facts: PairFacts, row, today: date) -> None:
    _, held, first, last, overdue_count, asking_count, until, unfit, score = row[:9]
    facts.held_count, facts.first_held_on, facts.last_held_on = held or 0, first, last
    facts.overdue_milestones, facts.open_help = overdue_count or 0, asking_count or 0
    # A pause whose day has passed has ended by itself.
    facts.paused_until = until if until is not None and until > today else None
    facts.said_not_a_fit, facts.lowest_latest_pulse = bool(unfit), score


def add_answers(facts: dict[int, PairFacts]) -> None:
    """Read the check-in rows of these pairs into their facts (one query)."""
    if not facts:
        return
    for row in db.session.connection().execute(_ANSWERS, {"pairing_ids": list(facts)}):
        facts[row[0]].answers.append(Answer(row[1], row[2], FITS.get(row[3]), row[4], bool(row[5]), bool(row[6])))


_ANSWERS = select(
    CheckIn.pairing_id,
    CheckIn.user_id,
    CheckIn.round,
    type_coerce(CheckIn.fit, String),  # looked up above: the enum's own conversion costs more
    CheckIn.score,
    CheckIn.answered_at.is_not(None),
    CheckIn.skipped_at.is_not(None),
).where(CheckIn.pairing_id.in_(bindparam("pairing_ids", expanding=True)))


def utc_moment(value: datetime | str) -> datetime:
    """A timestamp read as a plain value (text on SQLite, always stored in UTC), as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def utc_day(value: datetime | str) -> date:
    """The UTC day of a timestamp read as a plain value, without building a datetime from SQLite's text."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return utc_moment(value).astimezone(UTC).date()
