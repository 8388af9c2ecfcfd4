"""The director's "Pairs that may need help": every active pair of a cycle, by health, metadata only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased, joinedload

from portal.extensions import db
from portal.models import Cycle, Pairing, PairingStatus, Team, User
from portal.support.health import (
    ORDER,
    Health,
    HealthState,
    PairFacts,
    facts_for_query,
    health_of,
    thresholds_for,
)

PAGE_SIZE = 50


@dataclass
class BoardRow:
    pairing: Pairing
    facts: PairFacts
    health: Health

    def first_answers(self) -> list[str]:
        """The pair's first check-in answers, without saying whose (the detail page says)."""
        from portal.support.services import FIT_LABELS

        return [FIT_LABELS[a.fit] for a in self.facts.answers if a.answered and a.round == 0 and a.fit]

    def latest_pulses(self) -> list[int]:
        found = []
        for user_id in (self.pairing.mentor_id, self.pairing.mentee_id):
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

    A fixed number of queries whatever the number of pairs (the pairs, five kinds of facts, the settings).
    """
    mentor, mentee = aliased(User), aliased(User)
    chosen = (
        select(Pairing.id)
        .join(mentor, mentor.id == Pairing.mentor_id)
        .join(mentee, mentee.id == Pairing.mentee_id)
        .where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
    )
    if team_id is not None:
        chosen = chosen.where((mentor.team_id == team_id) | (mentee.team_id == team_id))
    pairings = list(
        db.session.scalars(
            select(Pairing)
            .options(
                joinedload(Pairing.mentor, innerjoin=True).joinedload(User.team, innerjoin=True),
                joinedload(Pairing.mentee, innerjoin=True).joinedload(User.team, innerjoin=True),
            )
            .where(Pairing.id.in_(chosen))
        ).unique()
    )
    facts = facts_for_query(pairings, chosen, today)
    t = thresholds_for(cycle.id)
    rows = [BoardRow(p, facts[p.id], health_of(facts[p.id], t, today)) for p in pairings]
    counts = {s: 0 for s in ORDER}
    for row in rows:
        counts[row.health.state] += 1
    wanted = HealthState(state) if state in {s.value for s in HealthState} else None
    if wanted is not None:
        rows = [row for row in rows if row.health.state == wanted]
    rows.sort(key=lambda row: (*row.health.need, row.facts.last_held_on or row.facts.created_on, row.pairing.id))
    total = len(rows)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return Board(rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], counts, total, page, pages)


def teams() -> list[Team]:
    """Every team, by name, for the board's filter."""
    return list(db.session.scalars(select(Team).order_by(Team.name)))
