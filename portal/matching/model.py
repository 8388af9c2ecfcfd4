"""The values matching works with: people, mentors' capacity, weights, matches and their fit bands."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

#: list name -> {choice key -> label shown to people}; list names "values", "interests", "experiences",
#: "skills" and "formats".
Labels = Mapping[str, Mapping[str, str]]

_SET_FIELDS = ("values", "interests", "experiences", "skills_grow", "skills_offer", "formats", "excluded")


@dataclass(frozen=True)
class Person:
    """One person's questionnaire answers, as matching sees them. Every answer is optional."""

    id: int
    name: str
    team_id: int
    values: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    experiences: frozenset[str] = frozenset()
    skills_grow: frozenset[str] = frozenset()
    skills_offer: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset()
    time: str | None = None
    start: str | None = None
    perspective: str | None = None
    excluded: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        # Callers often hold lists or sets; set algebra and hashing need frozensets.
        for name in _SET_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(value or ()))


@dataclass(frozen=True)
class MentorSlot:
    """A mentor as matching sees them: how many more mentees they can take, and whether they paused.

    A negative ``free_slots`` (a mentor over a capacity that was lowered) counts as full.
    """

    person: Person
    free_slots: int
    paused: bool = False

    @property
    def open_slots(self) -> int:
        """The number of new mentees this mentor can take now: 0 when paused or full."""
        return 0 if self.paused else max(0, int(self.free_slots))


@dataclass(frozen=True)
class Weights:
    """How much each part of the fit counts. Each is >= 0 and they need not add up to 100.

    Raises ValueError when a weight is negative or not a finite number, or when all are zero.
    """

    values: float = 25
    interests: float = 15
    experiences: float = 15
    skills: float = 25
    logistics: float = 10  # compatible time and meeting formats
    perspective: float = 10

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"The weight for {item.name} must be a number.")
            if value < 0:
                raise ValueError(f"The weight for {item.name} cannot be negative.")
        if not any(getattr(self, item.name) for item in fields(self)):
            raise ValueError("At least one weight must be more than zero.")

    def as_dict(self) -> dict[str, float]:
        """The weights by name, in the order the director sees them. Raises nothing."""
        return {item.name: float(getattr(self, item.name)) for item in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Weights:
        """Weights from a mapping such as a saved setting or a form; missing names keep their default.

        Unknown names are ignored. Raises ValueError when a value is not a number, is negative, or when
        all the weights are zero.
        """
        values: dict[str, float] = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            raw = data[item.name]
            if isinstance(raw, bool):
                raise ValueError(f"The weight for {item.name} must be a number.")
            try:
                values[item.name] = float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"The weight for {item.name} must be a number.") from None
        return cls(**values)

    def ordered(self) -> tuple[float, ...]:
        """The weights as a tuple in the fixed component order of the scoring. Raises nothing."""
        return tuple(float(getattr(self, item.name)) for item in fields(self))


@dataclass(frozen=True)
class Match:
    """A scored mentee-mentor pair: the score (0 to 100) and up to three plain reasons, best first."""

    mentee_id: int
    mentor_id: int
    score: int
    reasons: tuple[str, ...] = ()


@dataclass
class Assignment:
    """The outcome of bulk matching: the chosen pairs, and why each remaining mentee has no mentor."""

    matches: list[Match] = field(default_factory=list)
    unmatched: dict[int, str] = field(default_factory=dict)
    # The dual potentials proving the matches optimal (``portal.matching.flow.Certificate``).
    certificate: Any = field(default=None, compare=False, repr=False)

    @property
    def total_score(self) -> int:
        """The sum of the chosen pairs' scores. Raises nothing."""
        return sum(match.score for match in self.matches)


def band(score: int) -> str:
    """The words shown to participants instead of a score: "Strong fit", "Good fit" or "Possible fit".

    70 and above is a strong fit, 45 and above a good fit. Raises nothing.
    """
    if score >= 70:
        return "Strong fit"
    if score >= 45:
        return "Good fit"
    return "Possible fit"
