"""Bulk matching: the best possible set of pairs for a whole cohort, and why anyone is left without one.

What "best" means
-----------------
Among all sets of pairs that respect every hard constraint (``is_allowed``) and every mentor's room
(at most ``free_slots`` new mentees each, none for paused mentors, at most one mentor per mentee),
``assign`` returns one with the largest total of (score + 1) over its pairs. The extra point per pair
means that adding a pair always beats leaving a mentee out, even when the pair scores 0; otherwise the
total score decides. The answer is exact, not a heuristic, and the same input gives the same output in
any order.

How
---
Each mentor is expanded into as many identical slots as they have room, and the problem becomes a
rectangular assignment problem (``scipy.optimize.linear_sum_assignment``) on a slots x mentees
matrix whose cells are -(score + 1) for allowed pairs and 0 for the rest. Taking a 0 cell means
"leave this slot or mentee unmatched", which is why no dummy rows or columns are needed and why the
optimum over full assignments is the optimum over all matchings. Two exact reductions keep the matrix
small: mentees who cannot be paired with anyone who has room are left out, and a mentor never gets
more slots than the number of mentees they could be paired with.

Scores come from the vectorised path of ``portal.matching.scoring`` as an int8 mentors x mentees
matrix; only the float64 cost matrix is large (8 bytes per seat per mentee). On the 2-core machine
this was tuned on, 10,000 mentees over 3,000 mentors (7,242 seats) take about 4 s and peak under
0.8 GB (see ``benchmarks/matching.py``).
"""

from __future__ import annotations

import mmap
from collections import Counter
from collections.abc import Callable, Collection, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from portal.matching.model import Assignment, Labels, MentorSlot, Person, Weights
from portal.matching.scoring import (
    _WRITTEN_ONLY,
    WRITTEN,
    MenteeColumns,
    MentorRows,
    explain,
    gain_matrix,
    scaled_weights,
)

NO_ROOM = "No mentors have room left in this cycle"
OWN_TEAM = "Every mentor with room is in their own team"
NO_WRITTEN = "No mentor with room outside their team offers written mentoring"
ALL_EXCLUDED = "Every mentor with room outside their team is someone they cannot be paired with"
NO_ROOM_OUTSIDE_TEAM = "No mentor outside their team has room left"
ALL_SUITABLE_FULL = "Every mentor they can be paired with is full"


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
    mentee: Person, can_pair: bool, open_mentors: _RoomOutside, open_written: _RoomOutside, left: _RoomOutside
) -> str:
    if open_mentors.total == 0:
        return NO_ROOM
    if not can_pair:
        if open_mentors.outside(mentee) == 0:
            return OWN_TEAM
        if mentee.formats == _WRITTEN_ONLY and open_written.outside(mentee) == 0:
            return NO_WRITTEN
        return ALL_EXCLUDED
    # An optimal assignment leaves nobody out while a mentor they can be paired with has room,
    # so everyone suitable is full; say whether anyone outside their team is left at all.
    return NO_ROOM_OUTSIDE_TEAM if left.outside(mentee) == 0 else ALL_SUITABLE_FULL


def _prefaulted(shape: tuple[int, int]) -> np.ndarray:
    """An uninitialised float64 array whose memory the kernel maps in one go (MAP_POPULATE, Linux).

    Touching a fresh 600 MB matrix page by page measured 0.5-1.5 s on the 2-core virtual machine this
    was tuned on; mapping it up front took about 0.2 s. Small arrays, and systems without the flag,
    get a plain ``np.empty``.
    """
    size = shape[0] * shape[1] * 8
    populate = getattr(mmap, "MAP_POPULATE", None)
    if populate is None or size < (64 << 20):
        return np.empty(shape, dtype=np.float64)
    buffer = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return np.frombuffer(buffer, dtype=np.float64).reshape(shape)


def _cost_matrix(gains: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """The float64 cost matrix for ``linear_sum_assignment`` with no more rows than columns.

    Returns (cost, the mentor row of each slot, the gains column of each mentee position, whether rows
    are slots). Built directly in the layout scipy works on, so scipy makes no copy of its own.
    """
    slot_mentor = np.repeat(np.arange(len(capacity)), capacity)
    # -(score + 1) for allowed pairs; the -1 of a pair that is not allowed becomes exactly 0.
    negative = np.negative(gains, dtype=np.int8)
    np.subtract(negative, 1, out=negative)
    # Mentees with the best possible fit first: the solver then finds short augmenting paths sooner
    # (about 10% faster on the benchmark cohorts). Any order gives an optimum; a fixed one keeps the
    # answer deterministic.
    mentee_order = np.argsort(negative.min(axis=0), kind="stable")
    negative = negative[:, mentee_order]
    n_slots, n_mentees = len(slot_mentor), gains.shape[1]
    if n_slots <= n_mentees:
        cost = _prefaulted((n_slots, n_mentees))
        # A few hundred rows at a time: the int8 gather stays small and the writes stay sequential.
        step = max(1, (1 << 21) // max(1, n_mentees))
        for start in range(0, n_slots, step):
            np.copyto(cost[start : start + step], negative[slot_mentor[start : start + step]])
        return cost, slot_mentor, mentee_order, True
    cost = _prefaulted((n_mentees, n_slots))
    # mode="clip" (the indexes are all valid) lets numpy write straight into ``cost`` without a buffer.
    np.take(negative.T.astype(np.float64), slot_mentor, axis=1, out=cost, mode="clip")
    return cost, slot_mentor, mentee_order, False


def assign(
    mentees: Sequence[Person],
    mentors: Sequence[MentorSlot],
    *,
    weights: Weights = Weights(),
    labels: Labels | None = None,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    progress: Callable[[str, float], None] | None = None,
) -> Assignment:
    """Match a whole cohort at once, optimally (see the module notes), with reasons for every pair.

    Returns an ``Assignment``: the pairs in mentee id order, and for each mentee left out a plain
    reason. ``progress`` is told ("scoring", fraction) and ("assigning", fraction) along the way.
    Raises ValueError when mentees, or mentors, repeat a person id.
    """
    _unique(mentees, "mentee")
    _unique([slot.person for slot in mentors], "mentor")

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    # Sorting by id makes the matrices, and so the answer, independent of the input order.
    people = sorted(mentees, key=lambda person: person.id)
    slots = sorted((slot for slot in mentors if slot.open_slots > 0), key=lambda slot: slot.person.id)
    report("scoring", 0.0)
    rows = MentorRows([slot.person for slot in slots])
    columns = MenteeColumns(people, rows)
    gains = gain_matrix(
        rows, columns, weights, forbidden=forbidden, progress=lambda fraction: report("scoring", fraction)
    )
    report("assigning", 0.0)
    allowed = gains >= 0
    allowed_mentors = allowed.sum(axis=1)
    can_pair = allowed.any(axis=0) if len(slots) else np.zeros(len(people), dtype=bool)
    del allowed
    kept_mentees = np.flatnonzero(can_pair)
    capacity = np.minimum([slot.open_slots for slot in slots], allowed_mentors).astype(np.intp)
    kept_mentors = np.flatnonzero(capacity > 0)
    pairs: list[tuple[int, int]] = []
    if len(kept_mentees) and len(kept_mentors):
        if len(kept_mentees) < len(people) or len(kept_mentors) < len(slots):
            sub = gains[np.ix_(kept_mentors, kept_mentees)]
        else:
            sub = gains
        cost, slot_mentor, mentee_order, slots_are_rows = _cost_matrix(sub, capacity[kept_mentors])
        del sub
        report("assigning", 0.2)
        row_index, column_index = linear_sum_assignment(cost)
        chosen = cost[row_index, column_index] < 0
        del cost
        slot_index, mentee_index = (row_index, column_index) if slots_are_rows else (column_index, row_index)
        pairs = [
            (int(kept_mentees[mentee_order[mentee]]), int(kept_mentors[slot_mentor[slot]]))
            for slot, mentee in zip(slot_index[chosen], mentee_index[chosen], strict=True)
        ]
    report("assigning", 0.9)

    scaled = scaled_weights(weights)
    pairs.sort()
    matches = [
        explain(people[mentee], rows.people[mentor], scaled, labels, int(gains[mentor, mentee]))
        for mentee, mentor in pairs
    ]
    taken = Counter(mentor for _, mentor in pairs)
    open_counts = [slot.open_slots for slot in slots]
    open_mentors = _RoomOutside(rows.people, [1] * len(slots))
    open_written = _RoomOutside(rows.people, [int(WRITTEN in slot.person.formats) for slot in slots])
    left = _RoomOutside(rows.people, [open_counts[row] - taken[row] for row in range(len(slots))])
    matched = {mentee for mentee, _ in pairs}
    unmatched = {
        person.id: _unmatched_reason(person, bool(can_pair[column]), open_mentors, open_written, left)
        for column, person in enumerate(people)
        if column not in matched
    }
    report("assigning", 1.0)
    return Assignment(matches=matches, unmatched=unmatched)
