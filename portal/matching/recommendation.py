"""Suggestions for one mentee: the best-fitting mentors who can take them, best first."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence

import numpy as np

from portal.matching.model import Labels, Match, MentorSlot, Person, Weights
from portal.matching.scoring import MenteeColumns, MentorRows, explain, gain_matrix, scaled_weights


class MentorIndex:
    """The mentors who can take a mentee now, encoded once for many ``recommend`` calls.

    Paused and full mentors are left out. The index is a snapshot: build a new one when mentors'
    answers, capacity or pauses change. Raises ValueError when two slots share a person id.
    """

    def __init__(self, mentors: Sequence[MentorSlot]) -> None:
        ids = [slot.person.id for slot in mentors]
        if len(set(ids)) != len(ids):
            raise ValueError("Each mentor may appear only once.")
        # Sorted by id, so ties in score come out by mentor id with a stable sort.
        self.slots = sorted((slot for slot in mentors if slot.open_slots > 0), key=lambda slot: slot.person.id)
        self.rows = MentorRows([slot.person for slot in self.slots])

    def __len__(self) -> int:
        return len(self.slots)

    def updated(self, slots: Sequence[MentorSlot], *, removed: Collection[int] = ()) -> MentorIndex:
        """A new index with these mentors' slots changed (or added) and the ``removed`` ids taken out.

        When every changed mentor keeps their place and their answers fit the current encoding, only
        their rows are re-encoded; otherwise the index is re-encoded from the slots it holds, which
        still reads nothing from anywhere. This index is left as it was. Raises ValueError when the
        slots repeat a person id.
        """
        ids = [slot.person.id for slot in slots]
        if len(set(ids)) != len(ids):
            raise ValueError("Each mentor may appear only once.")
        changed = {slot.person.id: slot for slot in slots}
        gone = set(removed) | {mentor_id for mentor_id, slot in changed.items() if slot.open_slots == 0}
        rows = self.rows.position
        in_place = not (gone & rows.keys()) and all(
            mentor_id in rows and self.rows.fits(slot.person)
            for mentor_id, slot in changed.items()
            if mentor_id not in gone
        )
        if in_place:
            new = copy.copy(self)
            new.slots = [changed.get(slot.person.id, slot) for slot in self.slots]
            new.rows = self.rows.with_rows({rows[i][0]: slot.person for i, slot in changed.items() if i not in gone})
            return new
        kept = [slot for slot in self.slots if slot.person.id not in gone and slot.person.id not in changed]
        return MentorIndex(kept + [slot for slot in changed.values() if slot.person.id not in gone])


def recommend(
    mentee: Person,
    mentors: Sequence[MentorSlot] | MentorIndex,
    *,
    weights: Weights = Weights(),
    labels: Labels | None = None,
    limit: int = 5,
    forbidden: Collection[tuple[int, int]] = frozenset(),
    skip: Collection[int] = (),
) -> list[Match]:
    """The ``limit`` best mentors for ``mentee``, best score first, ties by mentor id, with reasons.

    Only mentors the pair rules allow (``is_allowed``), who are not paused, have a free slot and are
    not in ``skip`` (hidden, or already asked) are considered. ``mentors`` is a list of slots, or a
    ``MentorIndex`` built once from them when many mentees are served from the same list.
    Raises ValueError when ``limit`` is negative, or when the slots repeat a person id.
    """
    if limit < 0:
        raise ValueError("The limit cannot be negative.")
    index = mentors if isinstance(mentors, MentorIndex) else MentorIndex(mentors)
    if limit == 0 or len(index) == 0:
        return []
    rows = index.rows
    gains = gain_matrix(rows, MenteeColumns([mentee], rows), weights, forbidden=forbidden)[:, 0]
    if skip:
        gains[[row for mentor_id in skip for row in rows.position.get(mentor_id, ())]] = -1
    candidates = np.flatnonzero(gains >= 0)
    # Rows are in id order and the sort is stable, so equal scores stay in id order.
    best = candidates[np.argsort(-gains[candidates].astype(np.int16), kind="stable")[:limit]]
    scaled = scaled_weights(weights)
    return [explain(mentee, rows.people[row], scaled, labels, int(gains[row])) for row in best]
