"""Bulk matching: the best possible set of pairs for a whole cohort, and why anyone is left without one.

What "best" means
-----------------
Among all sets of pairs that respect every hard constraint (``is_allowed``), the cycle's minimum score
(a pair scoring less is never proposed), every mentor's room (at most ``free_slots`` new mentees each,
none for paused mentors) and every mentee's wish (one mentor, or up to ``wanted[id]``), ``assign``
returns one with the largest total of (score + 1) over its pairs. The extra point per pair means that
adding a pair always beats leaving a mentee out, even when the pair scores 0; otherwise the total score
decides. The answer is exact, not a heuristic, comes with a proof (``Assignment.certificate``, see
``portal.matching.flow``), and the same input gives the same output in any order.

How
---
Scoring (``portal.matching.scoring``) fills an int8 mentors x mentees matrix a block of mentors at a
time and hands each block to a ``Shortlist`` while it is still in cache; ``portal.matching.flow.solve``
then runs a min-cost flow on the shortlist and widens it until the optimality check passes over every
allowed pair. Only the int8 matrix is as large as the cohort: 30 MB for 10,000 mentees over 3,000
mentors (see ``benchmarks/matching.py`` for time and memory).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np

from portal.matching.flow import Shortlist, solve
from portal.matching.model import Assignment, Labels, MentorSlot, Person, Weights
from portal.matching.scoring import (
    _WRITTEN_ONLY,
    WRITTEN,
    MenteeColumns,
    MentorRows,
    explain,
    gain_matrix,
    pair_parts,
    scaled_weights,
)

NO_ROOM = "No mentors have room left in this cycle"
OWN_TEAM = "Every mentor with room is in their own team"
NO_WRITTEN = "No mentor with room outside their team offers written mentoring"
ALL_EXCLUDED = "Every mentor with room outside their team is someone they cannot be paired with"
NO_ROOM_OUTSIDE_TEAM = "No mentor outside their team has room left"
ALL_SUITABLE_FULL = "Every mentor they can be paired with is full"
NO_GOOD_FIT = "No mentor fits well yet"


def _unique(people: Sequence[Person], what: str) -> None:
    ids = [person.id for person in people]
    if len(set(ids)) != len(ids):
        raise ValueError(f"Each {what} may appear only once.")


class _RoomOutside:
    """How many mentors (or seats) outside a given team are counted, without scanning every mentor."""

    def __init__(self, people: Sequence[Person], counts: Sequence[int]) -> None:
        self.total = sum(counts)
        self.by_team: Counter[int] = Counter()
        self.by_id: dict[int, tuple[int, int]] = {}
        for person, count in zip(people, counts, strict=True):
            self.by_team[person.team_id] += count
            self.by_id[person.id] = (person.team_id, count)

    def outside(self, person: Person) -> int:
        found = self.total - self.by_team[person.team_id]
        team, count = self.by_id.get(person.id, (person.team_id, 0))
        # A mentee who is also a mentor (recorded in another team) still cannot mentor themselves.
        return found - count if team != person.team_id else found


def _unmatched_reason(
    mentee: Person,
    best: int,
    min_score: int,
    open_mentors: _RoomOutside,
    open_written: _RoomOutside,
    left: _RoomOutside,
) -> str:
    if open_mentors.total == 0:
        return NO_ROOM
    if best < 0:
        if open_mentors.outside(mentee) == 0:
            return OWN_TEAM
        if mentee.formats == _WRITTEN_ONLY and open_written.outside(mentee) == 0:
            return NO_WRITTEN
        return ALL_EXCLUDED
    if best < min_score:
        # Better no match than a poor one: the director can lower the cycle's minimum score.
        return NO_GOOD_FIT
    # An optimal assignment leaves nobody out while a mentor they can be paired with has room,
    # so everyone suitable is full; say whether anyone outside their team is left at all.
    return NO_ROOM_OUTSIDE_TEAM if left.outside(mentee) == 0 else ALL_SUITABLE_FULL


def assign(
    mentees: Sequence[Person],
    mentors: Sequence[MentorSlot],
    *,
    weights: Weights = Weights(),
    labels: Labels | None = None,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    min_score: int = 0,
    wanted: Mapping[int, int] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> Assignment:
    """Match a whole cohort at once, optimally (see the module notes), with reasons for every pair.

    Returns an ``Assignment``: the pairs in (mentee id, mentor id) order, the proof of optimality, and for
    each mentee left with no mentor a plain reason. ``min_score`` is the cycle's floor (0 to 100);
    ``wanted`` maps a mentee id to how many mentors they would like (1 when absent). ``progress`` is told
    ("scoring", fraction) and ("assigning", fraction) along the way. Raises ValueError when mentees, or
    mentors, repeat a person id, or when a mentee wants a negative number of mentors.
    """
    _unique(mentees, "mentee")
    _unique([slot.person for slot in mentors], "mentor")
    wanted = wanted or {}
    if any(count < 0 for count in wanted.values()):
        raise ValueError("A mentee cannot want fewer than no mentors.")

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    # Sorting by id makes the matrices, and so the answer, independent of the input order.
    people = sorted(mentees, key=lambda person: person.id)
    slots = sorted((slot for slot in mentors if slot.open_slots > 0), key=lambda slot: slot.person.id)
    room = np.array([slot.open_slots for slot in slots], dtype=np.int64)
    report("scoring", 0.0)
    rows = MentorRows([slot.person for slot in slots])
    columns = MenteeColumns(people, rows)
    wanted_counts = np.array([wanted.get(person.id, 1) for person in people], dtype=np.int64)
    shortlist = Shortlist(len(people), room, column_capacity=wanted_counts, min_score=min_score)
    gains = gain_matrix(
        rows,
        columns,
        weights,
        forbidden=forbidden,
        progress=lambda fraction: report("scoring", fraction),
        shortlist=shortlist,
    )
    report("assigning", 0.0)
    # The best allowed score of each mentee, for the reasons of those left out: taken before solve
    # marks the pairs below the floor in the matrix itself, which saves a copy of the whole matrix.
    best = gains.max(axis=0, initial=-1) if len(slots) else np.full(len(people), -1)
    solution = solve(
        gains,
        row_capacity=room,
        column_capacity=wanted_counts,
        min_score=min_score,
        shortlist=shortlist.pairs(gains),
        overwrite_scores=True,
    )
    report("assigning", 0.9)

    scaled = scaled_weights(weights)
    # In (mentee, mentor) order, sorted as arrays: a tuple per pair would only feed the garbage collector.
    order = np.lexsort((solution.rows, solution.columns))
    pair_columns, pair_rows = solution.columns[order], solution.rows[order]
    pair_scores = gains[pair_rows, pair_columns].tolist()
    values, adds = pair_parts(rows, pair_rows, columns, pair_columns, weights)
    mentor_people, mentee_people = rows.people, people
    matches = [
        explain(mentee_people[mentee], mentor_people[mentor], scaled, labels, score, parts)
        for mentee, mentor, score, parts in zip(
            pair_columns.tolist(), pair_rows.tolist(), pair_scores, zip(values, adds, strict=True), strict=True
        )
    ]
    taken = np.bincount(pair_rows, minlength=len(slots))
    open_mentors = _RoomOutside(rows.people, [1] * len(slots))
    open_written = _RoomOutside(rows.people, [int(WRITTEN in slot.person.formats) for slot in slots])
    left = _RoomOutside(rows.people, (room - taken).tolist())
    matched = np.zeros(len(people), dtype=bool)
    matched[pair_columns] = True
    alone = np.flatnonzero(~matched)
    # The best allowed score of each mentee left out tells "nobody allowed" from "nobody good enough".
    unmatched = {
        people[column].id: _unmatched_reason(people[column], int(score), min_score, open_mentors, open_written, left)
        for column, score in zip(alone.tolist(), best[alone].tolist(), strict=True)
    }
    report("assigning", 1.0)
    return Assignment(matches=matches, unmatched=unmatched, certificate=solution.certificate)
