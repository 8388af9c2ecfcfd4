"""The assignment step alone: any scores, capacities on both sides, a floor, and a proof checked independently."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from portal.matching import NO_GOOD_FIT, Candidates, MentorSlot, Person, assign, flow, solve
from portal.matching.flow import Shortlist

fast = settings(deadline=None, max_examples=150)


def exact_optimum(scores, row_capacity, column_capacity, min_score=0, forbidden=()):
    """The largest total of (score + 1), by HiGHS's mixed-integer solver: an independent exact oracle."""
    scores = np.asarray(scores)
    pairs = [
        (r, c)
        for r, c in itertools.product(range(scores.shape[0]), range(scores.shape[1]))
        if scores[r, c] >= max(0, min_score) and (r, c) not in set(forbidden)
    ]
    if not pairs:
        return 0
    n_rows, n_columns = scores.shape
    data, i, j = [], [], []
    for k, (r, c) in enumerate(pairs):
        data += [1, 1]
        i += [r, n_rows + c]
        j += [k, k]
    a = coo_array((data, (i, j)), shape=(n_rows + n_columns, len(pairs)))
    gains = np.array([scores[r, c] + 1 for r, c in pairs], dtype=float)
    capacity = np.concatenate([row_capacity, column_capacity]).astype(float)
    found = milp(
        -gains,
        constraints=LinearConstraint(a, 0, capacity),
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
    )
    assert found.success
    return round(-found.fun)


@st.composite
def problems(draw, most_rows=6, most_columns=7):
    n_rows, n_columns = draw(st.integers(0, most_rows)), draw(st.integers(0, most_columns))
    cells = st.one_of(st.just(-1), st.integers(0, 100), st.sampled_from([30, 31, 50]))
    scores = np.array([[draw(cells) for _ in range(n_columns)] for _ in range(n_rows)], dtype=np.int8).reshape(
        n_rows, n_columns
    )
    row_capacity = [draw(st.integers(0, 3)) for _ in range(n_rows)]
    column_capacity = [draw(st.integers(0, 3)) for _ in range(n_columns)]
    all_pairs = list(itertools.product(range(n_rows), range(n_columns)))
    forbidden = draw(st.frozensets(st.sampled_from(all_pairs), max_size=4)) if all_pairs else frozenset()
    min_score = draw(st.sampled_from([0, 0, 30, 60]))
    return scores, row_capacity, column_capacity, sorted(forbidden), min_score


def _check_feasible(solution, scores, row_capacity, column_capacity, min_score, forbidden):
    pairs = list(zip(solution.rows.tolist(), solution.columns.tolist(), strict=True))
    assert len(pairs) == len(set(pairs)), "a pair was made twice"
    for r, c in pairs:
        assert scores[r, c] >= min_score and scores[r, c] >= 0
        assert (r, c) not in set(forbidden)
    assert (np.bincount(solution.rows, minlength=len(row_capacity)) <= row_capacity).all()
    assert (np.bincount(solution.columns, minlength=len(column_capacity)) <= column_capacity).all()
    assert solution.total_gain == sum(int(scores[r, c]) + 1 for r, c in pairs)


def _assert_exact_and_proved(solution, scores, row_capacity, column_capacity, min_score, forbidden):
    """The solution is feasible, its total is the exact optimum, and its certificate holds over every allowed pair."""
    _check_feasible(solution, scores, row_capacity, column_capacity, min_score, forbidden)
    assert solution.total_gain == exact_optimum(scores, row_capacity, column_capacity, min_score, forbidden)
    allowed = scores.copy()
    if forbidden:
        allowed[tuple(np.array(forbidden).T)] = -1
    assert solution.certificate.verify(
        allowed, solution.rows, solution.columns, np.array(row_capacity), np.array(column_capacity), min_score=min_score
    )


@fast
@given(problems())
def test_two_sided_capacities_reach_the_exact_optimum_with_a_proof(problem):
    scores, row_capacity, column_capacity, forbidden, min_score = problem

    solution = solve(
        scores,
        row_capacity=row_capacity,
        column_capacity=column_capacity,
        min_score=min_score,
        forbidden=forbidden,
    )

    _assert_exact_and_proved(solution, scores, row_capacity, column_capacity, min_score, forbidden)


@fast
@given(problems())
def test_candidate_lists_give_the_same_total_as_the_dense_matrix(problem):
    scores, row_capacity, column_capacity, forbidden, min_score = problem
    listed = Candidates.of(
        (r, c, int(scores[r, c])) for r, c in itertools.product(*map(range, scores.shape)) if scores[r, c] >= 0
    )

    dense = solve(scores, row_capacity=row_capacity, column_capacity=column_capacity, min_score=min_score)
    sparse = solve(listed, row_capacity=row_capacity, column_capacity=column_capacity, min_score=min_score)

    assert sparse.total_gain == dense.total_gain
    assert sparse.certificate.verify(
        listed, sparse.rows, sparse.columns, np.array(row_capacity), np.array(column_capacity), min_score=min_score
    )


def test_a_shortlist_that_misses_the_best_pairs_is_widened_until_the_proof_holds():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 101, size=(40, 120)).astype(np.int8)
    row_capacity = rng.integers(1, 4, size=40)
    column_capacity = rng.integers(1, 3, size=120)
    # Start from each column's worst pair: nothing optimal is in it.
    poor = (scores.argmin(axis=0), np.arange(120))

    solution = solve(scores, row_capacity=row_capacity, column_capacity=column_capacity, shortlist=poor)

    assert solution.rounds > 1
    assert solution.total_gain == exact_optimum(scores, row_capacity, column_capacity)
    assert solution.certificate.verify(scores, solution.rows, solution.columns, row_capacity, column_capacity)


@fast
@given(problems(most_rows=5, most_columns=6), st.randoms(use_true_random=False))
def test_re_solves_from_the_last_flow_reach_the_exact_optimum_on_two_sided_capacities(problem, rng):
    scores, row_capacity, column_capacity, forbidden, min_score = problem
    # A random start, often poor: the rounds after the first start from the last flow and its prices.
    cells = list(itertools.product(*map(range, scores.shape)))
    start = rng.sample(cells, k=min(len(cells), rng.randint(0, 4)))
    shortlist = (np.array([r for r, _ in start], dtype=np.intp), np.array([c for _, c in start], dtype=np.intp))

    solution = solve(
        scores,
        row_capacity=row_capacity,
        column_capacity=column_capacity,
        min_score=min_score,
        forbidden=forbidden,
        shortlist=shortlist,
    )

    _assert_exact_and_proved(solution, scores, row_capacity, column_capacity, min_score, forbidden)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_two_sided_cohort_is_proved_optimal_in_two_rounds(seed):
    # Scores with people in more and less demand on both sides, as in a real cohort.
    rng = np.random.default_rng(seed)
    demand = rng.normal(0, 12, (120, 1)) + rng.normal(0, 12, (1, 120))
    scores = np.clip(demand + rng.normal(50, 10, (120, 120)), -1, 100).astype(np.int8)
    capacity = np.full(120, 3)

    solution = solve(scores, row_capacity=capacity, column_capacity=capacity, min_score=30)

    assert solution.rounds <= 2
    assert solution.total_gain == exact_optimum(scores, capacity, capacity, 30)
    assert solution.certificate.verify(scores, solution.rows, solution.columns, capacity, capacity, min_score=30)


@pytest.mark.parametrize("budget", [10, 300, 10_000])
def test_pricing_over_budget_adds_each_row_s_and_each_column_s_most_violated_pairs(monkeypatch, budget):
    # Blocks of a few rows, so that columns are narrowed across blocks (and memory bounded mid-scan).
    monkeypatch.setattr(flow, "_CHECK_CELLS", 3 * 60)
    rng = np.random.default_rng(budget)
    scores = rng.integers(0, 40, size=(25, 60)).astype(np.int8)
    scores[rng.random(scores.shape) < 0.1] = -(flow._MARGIN + 1)  # not allowed, as solve marks them
    u, v = rng.integers(0, 20, size=60), rng.integers(0, 20, size=25)
    listed = (np.array([0, 1, 2]), np.array([5, 6, 7]))
    slack = scores.astype(int) - u[None, :] - v[:, None]
    near = slack >= -flow._MARGIN
    near[listed] = False
    assert (slack[near] >= 0).any() and near.sum() > 10

    rows, columns = flow._dense_violations(scores, *listed, u, v, 0, None, budget=budget, floored=True)

    added = np.zeros_like(near)
    added[rows, columns] = True
    assert len(rows) == added.sum(), "a pair was added twice"
    assert not (added & ~near).any()
    if near.sum() <= budget:
        assert (added == near).all()
        return
    lines = [*zip(slack, near, added, strict=True), *zip(slack.T, near.T, added.T, strict=True)]
    for line_slack, line_near, line_added in lines:
        best = np.sort(line_slack[line_near])[::-1][: flow._DEPTH]
        assert (np.sort(line_slack[line_added])[::-1][: flow._DEPTH] == best).all()

    # Nothing else: each pair added is among its row's or its column's few best.
    def kth(values, axis):
        ranked = np.sort(np.where(near, values, -999), axis=axis)
        return np.take(ranked, -flow._DEPTH, axis=axis)

    among = (slack >= kth(slack, 1)[:, None]) | (slack >= kth(slack, 0)[None, :])
    assert not (added & ~among).any()


@pytest.mark.parametrize("n_columns", [50, 2_000])
def test_the_shortlist_gathered_block_by_block_keeps_each_side_s_best_pairs(n_columns):
    rng = np.random.default_rng(n_columns)
    scores = rng.integers(-1, 101, size=(37, n_columns)).astype(np.int8)
    shortlist = Shortlist(n_columns, np.full(37, 2), min_score=30, spread=1, per_row=30)
    for lo in (0, 5, 6, 20):  # uneven blocks, as the scoring hands them over
        shortlist.add(lo, scores[lo : {0: 5, 5: 6, 6: 20, 20: 37}[lo]])

    rows, columns = shortlist.pairs(scores)

    listed = set(zip(rows.tolist(), columns.tolist(), strict=True))
    assert len(listed) == len(rows)
    assert (scores[rows, columns] >= 30).all()
    best = scores.max(axis=0)
    for c in range(n_columns):
        wanted = np.flatnonzero(scores[:, c] >= max(30, best[c] - 1))
        assert {(r, c) for r in wanted.tolist()} <= listed
    for r in range(37):
        order = np.argsort(-scores[r], kind="stable")
        # A row's threshold comes from a sample of its columns: its best few are always in.
        assert (r, int(order[0])) in listed
        assert sum(1 for c in range(n_columns) if (r, c) in listed) >= min(5, int((scores[r] >= 30).sum()))


def test_overwriting_the_scores_gives_the_same_answer_and_keeps_every_allowed_score():
    rng = np.random.default_rng(11)
    scores = rng.integers(-1, 101, size=(30, 90)).astype(np.int8)
    row_capacity = rng.integers(0, 4, size=30)
    forbidden = [(0, 0), (3, 7)]
    kept = scores.copy()

    copied = solve(kept, row_capacity=row_capacity, min_score=30, forbidden=forbidden)
    assert (kept[kept < 30] >= -1).all(), "the default leaves the caller's matrix alone"
    overwritten = solve(scores, row_capacity=row_capacity, min_score=30, forbidden=forbidden, overwrite_scores=True)

    assert overwritten.total_gain == copied.total_gain == exact_optimum(kept, row_capacity, np.ones(90), 30, forbidden)
    allowed = kept >= 30
    allowed[0, 0] = allowed[3, 7] = False
    assert (scores[allowed] == kept[allowed]).all()
    assert (scores[~allowed] < -1).all()


def test_a_certificate_that_does_not_fit_is_refused():
    scores = np.array([[50, 10], [10, 50]], dtype=np.int8)
    good = solve(scores, row_capacity=[1, 1])
    assert good.total_gain == 102
    capacity = np.array([1, 1])
    assert good.certificate.verify(scores, good.rows, good.columns, capacity, capacity)
    # The crossed pairs are worse; the same potentials cannot prove them optimal.
    crossed_rows, crossed_columns = np.array([0, 1]), np.array([1, 0])
    assert not good.certificate.verify(scores, crossed_rows, crossed_columns, capacity, capacity)
    # Nor can a pair made twice, or a mentor over capacity, pass for optimal.
    assert not good.certificate.verify(scores, np.array([0, 0]), np.array([0, 0]), capacity, np.array([2, 1]))
    assert not good.certificate.verify(scores, np.array([0, 0]), np.array([0, 1]), capacity, capacity)
    # Nor do lowered potentials prove the best pairs: an unchosen pair now looks better than it is allowed to.
    good.certificate.u[:] = 0
    good.certificate.v[:] = 0
    assert not good.certificate.verify(scores, good.rows, good.columns, capacity, capacity)


def test_a_mentee_may_want_two_mentors_and_gets_each_once():
    scores = np.array([[80], [70], [60]], dtype=np.int8)

    solution = solve(scores, row_capacity=[3, 3, 3], column_capacity=[2])

    assert sorted(solution.rows.tolist()) == [0, 1]
    assert solution.columns.tolist() == [0, 0]


def test_pairs_below_the_minimum_score_are_never_made():
    scores = np.array([[29, 30]], dtype=np.int8)

    solution = solve(scores, row_capacity=[2], min_score=30)

    assert solution.columns.tolist() == [1]


def test_capacities_must_fit_the_scores():
    with pytest.raises(ValueError):
        solve(np.zeros((2, 2), dtype=np.int8), row_capacity=[1])
    with pytest.raises(ValueError):
        solve(np.zeros((1, 2), dtype=np.int8), row_capacity=[-1])


def _person(id: int, team_id: int, **answers) -> Person:
    return Person(id=id, name=f"Person {id}", team_id=team_id, **answers)


def test_a_mentee_below_the_cycles_floor_is_left_out_with_a_kind_reason():
    fits = _person(1, 1, values={"curiosity"}, skills_grow={"focus"})
    poor = _person(2, 1, values={"kindness"}, skills_grow={"delegation"}, formats={"walk"})
    mentor = _person(9, 2, values={"curiosity"}, skills_offer={"focus"}, formats={"video"})
    slots = [MentorSlot(mentor, free_slots=2)]

    anything_goes = assign([fits, poor], slots)
    with_floor = assign([fits, poor], slots, min_score=30)

    assert {match.mentee_id for match in anything_goes.matches} == {1, 2}
    assert [match.mentee_id for match in with_floor.matches] == [1]
    assert with_floor.unmatched == {2: NO_GOOD_FIT}
    assert NO_GOOD_FIT == "No mentor fits well yet"


def test_assign_lets_a_mentee_want_more_than_one_mentor():
    mentee = _person(1, 1, skills_grow={"focus", "feedback"})
    mentors = [MentorSlot(_person(10 + n, 2, skills_offer={"focus"}), free_slots=1) for n in range(3)]

    result = assign([mentee], mentors, wanted={1: 2})

    chosen = [match.mentor_id for match in result.matches]
    assert [match.mentee_id for match in result.matches] == [1, 1]
    assert len(set(chosen)) == 2 and set(chosen) <= {10, 11, 12}
    assert result.unmatched == {}
