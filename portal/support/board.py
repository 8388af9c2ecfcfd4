"""The director's "Pairs that may need help": every active pair of a cycle, by health, metadata only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select

from portal.extensions import db
from portal.models import Cycle, Pairing, PairingStatus, Team, User
from portal.support.health import (
    ORDER,
    Health,
    HealthState,
    PairFacts,
    add_answers,
    health_of,
    pairs_with_facts,
    thresholds_for,
    utc_moment,
)

PAGE_SIZE = 50


@dataclass
class Person:
    id: int
    name: str
    team: str


@dataclass
class BoardRow:
    pairing_id: int
    created_at: datetime | str  # as stored until the row is shown
    mentor_id: int
    mentee_id: int
    facts: PairFacts
    health: Health
    mentor: Person | None = None
    mentee: Person | None = None

    def first_answers(self) -> list[str]:
        """The pair's first check-in answers, without saying whose (the pair's page says)."""
        from portal.support.services import FIT_LABELS

        return [FIT_LABELS[a.fit] for a in self.facts.answers if a.answered and a.round == 0 and a.fit]

    def latest_pulses(self) -> list[int]:
        found = []
        for user_id in (self.mentor_id, self.mentee_id):
            pulse = self.facts.latest(user_id, pulse=True)
            if pulse is not None and pulse.score is not None:
                found.append(pulse.score)
        return found


@dataclass
class Board:
    rows: list[BoardRow]
    counts: dict[HealthState, int]
    total: int
    page: int
    pages: int


def board(cycle: Cycle, *, state: str | None, team_id: int | None, page: int, today: date) -> Board:
    """The cycle's active pairs sorted by need, filtered by health state and by either partner's team.

    A fixed number of queries whatever the number of pairs or meetings (the pairs, their facts in one query,
    the settings, then the check-ins and names of the fifty shown). Pairs are read as plain rows: thousands of
    ORM objects would cost more than every query together.
    """
    rows = _judged(cycle, team_id=team_id, today=today)
    counts = _count(rows)
    wanted = HealthState(state) if state in {s.value for s in HealthState} else None
    if wanted is not None:
        rows = [row for row in rows if row.health.state == wanted]
    rows.sort(key=lambda row: (*row.health.need, row.facts.last_held_on or row.facts.created_on, row.pairing_id))
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    add_answers({row.pairing_id: row.facts for row in shown})
    people = _people({uid for row in shown for uid in (row.mentor_id, row.mentee_id)})
    for row in shown:
        row.mentor, row.mentee = people.get(row.mentor_id), people.get(row.mentee_id)
        row.created_at = utc_moment(row.created_at)
    return Board(shown, counts, total, page, pages)


def health_counts(cycle: Cycle, *, today: date) -> dict[HealthState, int]:
    """How many of the cycle's active pairs are in each health state, as the board counts them (the board's
    queries, without the names)."""
    return _count(_judged(cycle, team_id=None, today=today))


def _judged(cycle: Cycle, *, team_id: int | None, today: date) -> list[BoardRow]:
    """The cycle's active pairs (of one team, when asked), each with its facts and health."""
    chosen = and_(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
    if team_id is not None:
        team = select(User.id).where(User.team_id == team_id)
        chosen = and_(chosen, Pairing.mentor_id.in_(team) | Pairing.mentee_id.in_(team))
    t = thresholds_for(cycle.id)
    # The start stays as stored: turning thousands into aware datetimes cost more than the query; only the
    # page's fifty need one (``board`` parses theirs).
    return [
        BoardRow(pairing_id, created, mentor_id, mentee_id, facts, health_of(facts, t, today))
        for pairing_id, created, mentor_id, mentee_id, facts in pairs_with_facts(chosen, today)
    ]


def _count(rows: list[BoardRow]) -> dict[HealthState, int]:
    counts = {s: 0 for s in ORDER}
    for row in rows:
        counts[row.health.state] += 1
    return counts


def _people(ids: set[int]) -> dict[int, Person]:
    if not ids:
        return {}
    found = db.session.execute(
        select(User.id, User.display_name, Team.name).join(Team, Team.id == User.team_id).where(User.id.in_(ids))
    )
    return {user_id: Person(user_id, name, team) for user_id, name, team in found}


def teams() -> list[Team]:
    """Every team, by name, for the board's filter."""
    return list(db.session.scalars(select(Team).order_by(Team.name)))
