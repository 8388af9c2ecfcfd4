"""Properties of matching on small random cohorts: optimal, within every rule, deterministic, consistent."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import lil_array

from portal.matching import (
    TIMES,
    MentorIndex,
    MentorSlot,
    Person,
    Weights,
    assign,
    is_allowed,
    reasons_for,
    recommend,
    score_matrix,
    score_pair,
)
from tests.matching.strategies import (
    EXPERIENCES,
    FORMATS,
    INTERESTS,
    PERSPECTIVES,
    SKILLS,
    STARTS,
    VALUES,
    Cohort,
    brute_force_best,
    cohorts,
    people,
    weights,
)

fast = settings(deadline=None, max_examples=150)


def _internal_total(result) -> int:
    return sum(match.score + 1 for match in result.matches)


@fast
@given(cohorts())
def test_assignment_is_optimal_and_keeps_every_rule(cohort: Cohort):
    result = assign(cohort.mentees, cohort.mentors, weights=cohort.weights, forbidden=cohort.forbidden)

    assert _internal_total(result) == brute_force_best(cohort)
    mentees = {person.id: person for person in cohort.mentees}
    slots = {slot.person.id: slot for slot in cohort.mentors}
    matched = [match.mentee_id for match in result.matches]
    assert len(matched) == len(set(matched)), "a mentee was matched twice"
    assert set(matched) | set(result.unmatched) == set(mentees)
    assert not set(matched) & set(result.unmatched)
    for match in result.matches:
        mentee, slot = mentees[match.mentee_id], slots[match.mentor_id]
        assert is_allowed(mentee, slot.person, forbidden=cohort.forbidden)
        assert match.score == score_pair(mentee, slot.person, cohort.weights).score
        # The reasons come from components worked out for all pairs at once; they must read as one pair's.
        assert match.reasons == reasons_for(mentee, slot.person, cohort.weights)
        assert len(match.reasons) <= 3 and all(match.reasons)
    for mentor_id, count in Counter(match.mentor_id for match in result.matches).items():
        slot = slots[mentor_id]
        assert not slot.paused
        assert count <= slot.free_slots
    assert all(reason for reason in result.unmatched.values())


@fast
@given(cohorts(), st.randoms(use_true_random=False))
def test_the_same_cohort_in_any_order_gives_the_same_assignment(cohort: Cohort, rng: random.Random):
    first = assign(cohort.mentees, cohort.mentors, weights=cohort.weights, forbidden=cohort.forbidden)
    mentees, mentors = cohort.mentees[:], cohort.mentors[:]
    rng.shuffle(mentees)
    rng.shuffle(mentors)
    again = assign(mentees, mentors, weights=cohort.weights, forbidden=cohort.forbidden)
    assert again == first
    assert assign(cohort.mentees, cohort.mentors, weights=cohort.weights, forbidden=cohort.forbidden) == first


@settings(fast, max_examples=300)
@given(
    st.lists(people(st.integers(1, 10)), min_size=1, max_size=5),
    st.lists(people(st.integers(1, 10)), min_size=1, max_size=5),
    weights,
    st.frozensets(st.tuples(st.integers(1, 10), st.integers(1, 10)), max_size=4),
)
def test_scalar_and_vectorised_scores_agree_exactly(mentees, mentors, weights, forbidden):
    matrix = score_matrix(mentees, mentors, weights, forbidden=forbidden)
    for i, mentee in enumerate(mentees):
        for j, mentor in enumerate(mentors):
            expected = score_pair(mentee, mentor, weights).score
            if not is_allowed(mentee, mentor, forbidden=forbidden):
                expected = -1
            assert matrix[i, j] == expected, (mentee, mentor)
            assert 0 <= score_pair(mentee, mentor, weights).score <= 100


@fast
@given(
    cohorts(max_mentors=6),
    st.integers(0, 6),
    st.frozensets(st.integers(4, 10), max_size=2),
    st.booleans(),
)
def test_recommend_lists_the_best_allowed_mentors_with_room(cohort: Cohort, limit, skip, use_index):
    if not cohort.mentees:
        return
    mentee = cohort.mentees[0]
    source = MentorIndex(cohort.mentors) if use_index else cohort.mentors
    found = recommend(mentee, source, weights=cohort.weights, limit=limit, forbidden=cohort.forbidden, skip=skip)

    candidates = [
        score_pair(mentee, slot.person, cohort.weights)
        for slot in cohort.mentors
        if not slot.paused
        and slot.free_slots > 0
        and slot.person.id not in skip
        and is_allowed(mentee, slot.person, forbidden=cohort.forbidden)
    ]
    expected = sorted(candidates, key=lambda match: (-match.score, match.mentor_id))[:limit]
    assert found == expected
    assert len(found) <= limit


def _random_cohort(seed: int, n_mentees: int, n_mentors: int) -> Cohort:
    rng = random.Random(seed)

    def pick(keys: tuple[str, ...], most: int) -> frozenset[str]:
        return frozenset(rng.sample(keys, rng.randint(0, most)))

    def someone(person_id: int) -> Person:
        return Person(
            id=person_id,
            name=f"Person {person_id}",
            team_id=rng.randrange(5),
            values=pick(VALUES, 3),
            interests=pick(INTERESTS, 4),
            experiences=pick(EXPERIENCES, 2),
            skills_grow=pick(SKILLS, 3),
            skills_offer=pick(SKILLS, 3),
            formats=pick(FORMATS, 2),
            time=rng.choice((*TIMES, None)),
            start=rng.choice(STARTS),
            perspective=rng.choice(PERSPECTIVES),
            excluded=frozenset({rng.randrange(n_mentees + n_mentors)}),
        )

    mentees = [someone(n) for n in range(n_mentees)]
    mentors = [
        MentorSlot(someone(n_mentees + n), free_slots=rng.randint(0, 4), paused=rng.random() < 0.1)
        for n in range(n_mentors)
    ]
    forbidden = frozenset((rng.randrange(n_mentees), n_mentees + rng.randrange(n_mentors)) for _ in range(20))
    return Cohort(mentees, mentors, forbidden, Weights())


@pytest.mark.parametrize(
    ("seed", "n_mentees", "n_mentors", "most_wanted", "min_score"),
    [
        (1, 120, 30, 1, 0),
        (2, 40, 35, 1, 0),
        (3, 90, 45, 1, 30),
        (4, 90, 45, 3, 0),
        (5, 60, 60, 3, 30),
        (6, 150, 20, 2, 0),
    ],
)
def test_assignment_matches_a_linear_programme_on_larger_cohorts(seed, n_mentees, n_mentors, most_wanted, min_score):
    # Too big to try every assignment; the b-matching LP has integral optima, so HiGHS gives the optimum.
    # most_wanted > 1 is the two-sided case: each mentee wants up to that many mentors, each once.
    cohort = _random_cohort(seed, n_mentees, n_mentors)
    rng = random.Random(seed)
    wanted = {mentee.id: rng.randint(0, most_wanted) for mentee in cohort.mentees}
    pairs = [
        (i, j, score + 1)
        for i, mentee in enumerate(cohort.mentees)
        for j, slot in enumerate(cohort.mentors)
        if slot.open_slots > 0
        and is_allowed(mentee, slot.person, forbidden=cohort.forbidden)
        and (score := score_pair(mentee, slot.person).score) >= min_score
    ]
    constraints = lil_array((n_mentees + n_mentors, len(pairs)))
    for k, (i, j, _) in enumerate(pairs):
        constraints[i, k] = 1
        constraints[n_mentees + j, k] = 1
    room = [wanted[mentee.id] for mentee in cohort.mentees] + [slot.open_slots for slot in cohort.mentors]
    optimum = linprog(
        [-gain for _, _, gain in pairs], A_ub=constraints.tocsr(), b_ub=room, bounds=(0, 1), method="highs"
    )

    result = assign(cohort.mentees, cohort.mentors, forbidden=cohort.forbidden, min_score=min_score, wanted=wanted)

    assert _internal_total(result) == round(-optimum.fun)
    made = [(match.mentee_id, match.mentor_id) for match in result.matches]
    assert len(made) == len(set(made)), "a pair was made twice"
    for mentee_id, count in Counter(mentee for mentee, _ in made).items():
        assert count <= wanted[mentee_id]
    slots = {slot.person.id: slot for slot in cohort.mentors}
    for mentor_id, count in Counter(mentor for _, mentor in made).items():
        assert count <= slots[mentor_id].open_slots
    assert {mentee for mentee, _ in made} | set(result.unmatched) == {mentee.id for mentee in cohort.mentees}


@fast
@given(cohorts(), st.data())
def test_mentees_wanting_several_mentors_get_the_optimum_with_each_mentor_once(cohort: Cohort, data):
    wanted = {mentee.id: data.draw(st.integers(0, 3)) for mentee in cohort.mentees}

    result = assign(cohort.mentees, cohort.mentors, weights=cohort.weights, forbidden=cohort.forbidden, wanted=wanted)

    assert _internal_total(result) == brute_force_best(cohort, wanted)
    made = [(match.mentee_id, match.mentor_id) for match in result.matches]
    assert len(made) == len(set(made)), "a mentee got the same mentor twice"
    mentees = {person.id: person for person in cohort.mentees}
    slots = {slot.person.id: slot for slot in cohort.mentors}
    for match in result.matches:
        assert is_allowed(mentees[match.mentee_id], slots[match.mentor_id].person, forbidden=cohort.forbidden)
        assert match.score == score_pair(mentees[match.mentee_id], slots[match.mentor_id].person, cohort.weights).score
    for mentee_id, count in Counter(mentee for mentee, _ in made).items():
        assert count <= wanted[mentee_id]
    for mentor_id, count in Counter(mentor for _, mentor in made).items():
        assert count <= slots[mentor_id].open_slots
    assert {mentee for mentee, _ in made} | set(result.unmatched) == set(mentees)
    assert not {mentee for mentee, _ in made} & set(result.unmatched)


@fast
@given(cohorts(max_mentors=6), st.data())
def test_an_index_updated_one_mentor_at_a_time_recommends_like_a_fresh_one(cohort: Cohort, data):
    if not cohort.mentees or not cohort.mentors:
        return
    index = MentorIndex(cohort.mentors)
    before = [recommend(m, index, weights=cohort.weights, limit=6) for m in cohort.mentees]
    changed_slot = data.draw(st.sampled_from(cohort.mentors))
    # New answers for one mentor (same person), sometimes with new room or paused, sometimes new keys.
    fresh = data.draw(people(st.just(changed_slot.person.id)))
    changed = MentorSlot(fresh, free_slots=data.draw(st.integers(0, 3)), paused=data.draw(st.booleans()))
    slots = [changed if slot.person.id == fresh.id else slot for slot in cohort.mentors]

    updated = index.updated([changed])

    for mentee in cohort.mentees:
        expected = recommend(mentee, MentorIndex(slots), weights=cohort.weights, limit=6)
        assert recommend(mentee, updated, weights=cohort.weights, limit=6) == expected
    # The old index is untouched: someone may still be reading it.
    assert [recommend(m, index, weights=cohort.weights, limit=6) for m in cohort.mentees] == before


def test_updating_a_mentor_whose_answers_fit_re_encodes_only_their_row():
    a = Person(id=1, name="A", team_id=1, values={"curiosity", "kindness"}, skills_offer={"focus"})
    b = Person(id=2, name="B", team_id=2, values={"craft"}, skills_offer={"feedback"})
    mentee = Person(id=3, name="C", team_id=3, skills_grow={"feedback"})
    index = MentorIndex([MentorSlot(a, 1), MentorSlot(b, 1)])
    assert recommend(mentee, index)[0].mentor_id == 2

    a_now = Person(id=1, name="A", team_id=1, values={"kindness"}, skills_offer={"feedback", "focus"})
    updated = index.updated([MentorSlot(a_now, 1)])

    assert updated.rows.people[1] is b and updated.rows.vocabularies is index.rows.vocabularies
    assert recommend(mentee, updated)[0].mentor_id == 1
    assert recommend(mentee, index)[0].mentor_id == 2


def test_removing_a_mentor_from_an_index():
    a = Person(id=1, name="A", team_id=1)
    b = Person(id=2, name="B", team_id=2)
    index = MentorIndex([MentorSlot(a, 1), MentorSlot(b, 1)])
    assert [m.mentor_id for m in recommend(Person(id=3, name="C", team_id=3), index.updated([], removed=[1]))] == [2]
