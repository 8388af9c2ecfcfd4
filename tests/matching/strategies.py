"""Hypothesis strategies for small random cohorts, and a brute-force optimum to check ``assign`` against."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from portal.matching import TIMES, MentorSlot, Person, Weights, is_allowed, score_pair

VALUES = ("curiosity", "kindness", "craft", "courage")
INTERESTS = ("design", "data", "writing", "arts", "finance")
EXPERIENCES = ("career_change", "relocation", "parenting")
SKILLS = ("negotiation", "delegation", "feedback", "focus")
FORMATS = ("in_person", "video", "walk", "written")
STARTS = ("written_intro", "short_call", "no_preference", None)
PERSPECTIVES = ("like_me", "different", "no_preference", None)


def subsets(keys: tuple[str, ...], most: int) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(keys), max_size=most)


# Built once: making strategies afresh for every example costs more than running the example.
answers = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["Asha Rao", "Ben", "Chen Wei", ""]),
        "team_id": st.integers(0, 2),
        "values": subsets(VALUES, 3),
        "interests": subsets(INTERESTS, 5),
        "experiences": subsets(EXPERIENCES, 3),
        "skills_grow": subsets(SKILLS, 4),
        "skills_offer": subsets(SKILLS, 4),
        # Now and then someone wants written mentoring only, a hard constraint.
        "formats": st.tuples(st.integers(0, 9), subsets(FORMATS, 4)).map(
            lambda drawn: frozenset({"written"}) if drawn[0] == 0 else drawn[1]
        ),
        "time": st.sampled_from((*TIMES, None)),
        "start": st.sampled_from(STARTS),
        "perspective": st.sampled_from(PERSPECTIVES),
        "excluded": st.frozensets(st.integers(1, 10), max_size=2),
    }
)


def people(ids: st.SearchStrategy[int]) -> st.SearchStrategy[Person]:
    """A person with random answers from small vocabularies, so that overlaps and ties are common."""
    return st.builds(lambda id, fields: Person(id=id, **fields), ids, answers)


weights = st.one_of(
    st.just(Weights()),
    st.builds(
        Weights,
        values=st.integers(0, 40),
        interests=st.integers(0, 40),
        experiences=st.integers(0, 40),
        skills=st.integers(0, 40),
        logistics=st.integers(0, 40),
        perspective=st.integers(1, 40),
    ),
    st.builds(
        Weights,
        values=st.floats(0, 10),
        interests=st.floats(0, 10),
        experiences=st.floats(0, 10),
        skills=st.floats(0.1, 10),
        logistics=st.floats(0, 10),
        perspective=st.floats(0, 10),
    ),
)


_capacity = st.sampled_from((0, 1, 1, 2, 2, 3))


def _sizes(most: int) -> st.SearchStrategy[int]:
    # Hypothesis favours (and shrinks towards) the first element: make that a full-sized cohort.
    return st.sampled_from((*range(most, 0, -1), *range(most, most // 2, -1), 0))


_paused = st.sampled_from([False, False, False, True])


@dataclass
class Cohort:
    mentees: list[Person]
    mentors: list[MentorSlot]
    forbidden: frozenset[tuple[int, int]]
    weights: Weights


def _shift_team(mentor: Person) -> Person:
    # Hypothesis often draws the same team for everyone; shifting mentors by one keeps such cohorts
    # matchable, while random draws still put a third of the pairs in one team.
    return replace(mentor, team_id=(mentor.team_id + 1) % 3)


@st.composite
def cohorts(draw: st.DrawFn, max_mentees: int = 6, max_mentors: int = 4) -> Cohort:
    """Up to 6 mentees (ids 1-6) and 4 mentors (ids 4-10, so someone can be both), capacity 0-3."""
    # Sizes drawn first and weighted towards full cohorts, where mentees compete for seats; empty
    # cohorts still come up.
    mentee_ids = draw(st.permutations(range(1, 7)))[: draw(_sizes(max_mentees))]
    mentor_ids = draw(st.permutations(range(4, 11)))[: draw(_sizes(max_mentors))]
    mentees = [Person(id=i, **draw(answers)) for i in mentee_ids]
    mentors = [
        MentorSlot(_shift_team(Person(id=i, **draw(answers))), free_slots=draw(_capacity), paused=draw(_paused))
        for i in mentor_ids
    ]
    pairs = [(a, b) for a in mentee_ids for b in mentor_ids]
    forbidden = draw(st.frozensets(st.sampled_from(pairs), max_size=3)) if pairs else frozenset()
    return Cohort(mentees, mentors, forbidden, draw(weights))


def brute_force_best(cohort: Cohort, wanted: dict[int, int] | None = None) -> int:
    """The largest total of (score + 1) over every feasible assignment, by trying them all.

    ``wanted`` maps a mentee id to how many mentors they would like (1 when absent); a mentee gets
    each mentor at most once. The search remembers each (mentee, seats left) state, so two-sided
    capacities stay quick at these sizes.
    """
    mentees, slots = cohort.mentees, cohort.mentors
    wanted = wanted or {}
    gain = [
        [
            score_pair(mentee, slot.person, cohort.weights).score + 1
            if is_allowed(mentee, slot.person, forbidden=cohort.forbidden)
            else None
            for slot in slots
        ]
        for mentee in mentees
    ]
    room = tuple(0 if slot.paused else max(0, slot.free_slots) for slot in slots)

    @functools.cache
    def best(i: int, room: tuple[int, ...]) -> int:
        if i == len(mentees):
            return 0
        allowed = [j for j, value in enumerate(gain[i]) if value is not None and room[j] > 0]
        found = 0
        for size in range(min(wanted.get(mentees[i].id, 1), len(allowed)) + 1):
            for chosen in itertools.combinations(allowed, size):
                left = tuple(seats - (j in chosen) for j, seats in enumerate(room))
                found = max(found, sum(gain[i][j] for j in chosen) + best(i + 1, left))
        return found

    return best(0, room)
