"""Matching mentees with mentors: scoring a pair, suggestions for one mentee, and optimal bulk matching.

Pure Python, numpy and OR-Tools: nothing here knows about Flask, the database or the rest of the portal,
so the web layer turns its records into ``Person`` and ``MentorSlot`` values and calls:

- ``score_pair`` and ``is_allowed`` for one pair, ``band`` for the words shown instead of a score,
  ``reasons_for`` for the reasons phrased for the mentee, the mentor or the director;
- ``recommend`` for the best few mentors for one mentee (optionally with a ``MentorIndex`` built once);
- ``assign`` for the best set of pairs for a whole cohort, with reasons for anyone left out;
- ``solve`` for the assignment step alone: any scores (dense or ``Candidates``), capacities on both
  sides, forbidden pairs and a minimum score, returning the pairs and a ``Certificate`` of optimality.

The scoring formula and its weights are documented in ``portal.matching.scoring``; what "optimal"
means for bulk matching is documented in ``portal.matching.assignment``.
"""

from portal.matching.assignment import (
    ALL_EXCLUDED,
    ALL_SUITABLE_FULL,
    NO_GOOD_FIT,
    NO_ROOM,
    NO_ROOM_OUTSIDE_TEAM,
    NO_WRITTEN,
    OWN_TEAM,
    assign,
)
from portal.matching.flow import Candidates, Certificate, Solution, solve
from portal.matching.model import Assignment, Labels, Match, MentorSlot, Person, Weights, band
from portal.matching.recommendation import MentorIndex, recommend
from portal.matching.scoring import COMPONENTS, TIMES, is_allowed, reasons_for, score_matrix, score_pair

__all__ = [
    "ALL_EXCLUDED",
    "ALL_SUITABLE_FULL",
    "COMPONENTS",
    "NO_GOOD_FIT",
    "NO_ROOM",
    "NO_ROOM_OUTSIDE_TEAM",
    "NO_WRITTEN",
    "OWN_TEAM",
    "TIMES",
    "Assignment",
    "Candidates",
    "Certificate",
    "Labels",
    "Match",
    "MentorIndex",
    "MentorSlot",
    "Person",
    "Solution",
    "Weights",
    "assign",
    "band",
    "is_allowed",
    "reasons_for",
    "recommend",
    "score_matrix",
    "score_pair",
    "solve",
]
