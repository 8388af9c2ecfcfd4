"""The assignment step on its own: the best set of pairs for any scores, with a proof that it is the best.

The problem
-----------
Rows are mentors and columns are mentees. Each allowed pair (row, column) has a whole score >= 0; a pair
is allowed when its score is at least ``min_score`` and it is not forbidden (-1 in a dense matrix marks
a pair the hard rules never allow). Mentor ``r`` takes at most ``row_capacity[r]`` mentees, mentee ``c``
at most ``column_capacity[c]`` mentors (a career mentor and a skill mentor is a real request), and a
pair is made at most once. ``solve`` returns a set of pairs with the largest total of (score + 1): the
extra point means that one more pair always beats leaving someone out, then the scores decide.

The proof
---------
This is a bipartite b-matching, and its linear programme has a dual: a number ``u[c] >= 0`` per mentee
and ``v[r] >= 0`` per mentor (plus one per pair, which the check below eliminates). The chosen pairs
are optimal when (``g`` = score + 1):

1. every allowed pair that is not chosen has ``u[c] + v[r] >= g``;
2. every chosen pair has ``u[c] + v[r] <= g``;
3. ``u[c] > 0`` only for mentees who got all the mentors they wanted, ``v[r] > 0`` only for full mentors.

Then sum(g over chosen) = sum(capacity x potential) + sum((g - u - v) over chosen), the value of a
feasible dual solution, which bounds every assignment from above (weak duality); so none does better.
``Certificate.verify`` checks these three conditions over every allowed pair, dense or listed, with
integers only: it does not trust the solver.

How
---
A shortlist (each mentee's best mentors and each mentor's best mentees, gathered while scoring; or,
for a dense matrix given alone, ``initial_shortlist``) goes to OR-Tools' ``SimpleMinCostFlow`` as a
circulation hub -> mentee -> mentor -> hub, where the hub stands for source and sink at once and
nobody has to be matched. The potentials come from shortest paths in the residual network of that
flow. Checking them over every allowed pair finds the pairs the shortlist missed that could still
improve the total; those and the pairs just short of violating (while there are many, each row's and
each column's few best) are added and the flow is solved again, until the check passes. Each re-solve
keeps only the pairs the current flow uses and those whose reduced cost is near zero (a much smaller
network). OR-Tools takes no starting flow, so a re-solve is given the residual network of the last
flow instead, every arc at its reduced cost for the last potentials: all of it costs at least 0 but
the pairs just added, so the solver starts next to the answer. Each check is one pass over the whole
matrix in int16, a block of rows at a time (``_dense_violations``): a few plain array operations per
cell, no sorting. The check is exact, so the answer is optimal whatever the shortlist was; a good
shortlist only saves rounds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

# Rows of a dense matrix checked at a time: a few megabytes of int32 scratch whatever the cohort.
_CHECK_CELLS = 1 << 20
# How close to violating a pair may be and still join the shortlist (see _dense_violations), at most
# this many pairs per person; beyond that, each row's and each column's this many most violated pairs.
# Since re-solves start from the last flow, a margin of 3 took as many rounds as 5 on six seeds of the
# benchmark's large cohort and five of its two-sided one, with smaller re-solves: solve took 7% less
# CPU time on average (less on five of the six large seeds).
_MARGIN = 3
_BUDGET = 10
_DEPTH = 3
# Distance of a node no path reaches (far from overflowing when costs are added to it).
_UNREACHED = np.iinfo(np.int64).max // 4
# A re-solve keeps the shortlisted pairs whose reduced cost is at most this (see solve). Pricing never
# brings back a pair that is still listed, so this is the whole margin for them. On six seeds of the
# benchmark's large cohort, before re-solves started from the last flow, a margin and a prune of 5 took
# three rounds each, with a last flow a fifth smaller than 6 and 4; 4 and 4, or 3 for either, took a
# fourth round on some seeds (since, a prune of 3 with a margin of 5 still did on one seed of three).
_PRUNE = 5
# A row's shortlist threshold comes from every this many-th column (see Shortlist).
_SAMPLE = 8
# Without scarce seats, the first shortlist is each row's and each column's _PER_SIDE best pairs by an
# estimate that uses each person's level, about their _LEVEL-th best score (see _by_estimate).
_LEVEL = 8
_PER_SIDE = 12


@dataclass(frozen=True)
class Candidates:
    """Scores as lists: pair k is (rows[k], columns[k]) with score scores[k]; unlisted pairs are not allowed."""

    rows: np.ndarray
    columns: np.ndarray
    scores: np.ndarray

    @classmethod
    def of(cls, triples: Iterable[tuple[int, int, int]]) -> Candidates:
        """Candidates from (row, column, score) triples. Raises nothing."""
        found = np.array(list(triples), dtype=np.int64).reshape(-1, 3)
        return cls(found[:, 0].astype(np.intp), found[:, 1].astype(np.intp), found[:, 2])


@dataclass
class Certificate:
    """Dual potentials that prove an assignment optimal: one per mentee (``u``) and one per mentor (``v``)."""

    u: np.ndarray
    v: np.ndarray

    def violations(
        self,
        scores: np.ndarray | Candidates,
        rows: np.ndarray,
        columns: np.ndarray,
        row_capacity: np.ndarray,
        column_capacity: np.ndarray,
        *,
        min_score: int = 0,
        limit: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Allowed pairs not chosen that fail condition 1 (with ``limit``, at most that many; without,
        also the pairs just short of failing, for a shortlist), and whether everything else holds: the
        chosen pairs are distinct, allowed and within every capacity, and conditions 2 and 3.
        Raises nothing.
        """
        u, v = self.u.astype(np.int64), self.v.astype(np.int64)
        row_load = np.bincount(rows, minlength=len(row_capacity))
        column_load = np.bincount(columns, minlength=len(column_capacity))
        chosen_gain = _scores_at(scores, rows, columns).astype(np.int64) + 1
        width = max(1, len(u))
        rest = bool(
            len(_distinct(rows.astype(np.int64) * width + columns)) == len(rows)
            and (row_load <= row_capacity).all()
            and (column_load <= column_capacity).all()
            and (u >= 0).all()
            and (v >= 0).all()
            and ((u == 0) | (column_load == column_capacity)).all()
            and ((v == 0) | (row_load == row_capacity)).all()
            and (u[columns] + v[rows] <= chosen_gain).all()
            and (chosen_gain - 1 >= min_score).all()
        )
        if isinstance(scores, Candidates):
            gain = scores.scores.astype(np.int64) + 1
            bad = (gain > u[scores.columns] + v[scores.rows]) & (scores.scores >= min_score)
            bad &= ~_member(scores.rows, scores.columns, rows, columns, len(u))
            found = np.flatnonzero(bad)[:limit]
            return scores.rows[found], scores.columns[found], rest
        return (*_dense_violations(scores, rows, columns, u, v, min_score, limit), rest)

    def verify(self, scores, rows, columns, row_capacity, column_capacity, *, min_score: int = 0) -> bool:
        """Whether the chosen pairs (rows[k], columns[k]) are provably optimal. Raises nothing."""
        bad_rows, _, rest = self.violations(
            scores, rows, columns, row_capacity, column_capacity, min_score=min_score, limit=1
        )
        return rest and len(bad_rows) == 0


@dataclass
class Solution:
    """Chosen pairs as parallel arrays (mentor rows, mentee columns), their total gain and the proof."""

    rows: np.ndarray
    columns: np.ndarray
    total_gain: int
    certificate: Certificate
    rounds: int = 1
    shortlist_size: int = 0
    stats: dict[str, float] = field(default_factory=dict)


def _distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys. (numpy 2's hashing ``np.unique`` measured ten times slower here.)"""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def _cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the true cells of a C-contiguous 2-d mask. Raises nothing.

    The same as ``np.nonzero``, which measured ten times slower in two dimensions than on the flat view.
    """
    found = np.flatnonzero(mask)
    return found // mask.shape[1], found % mask.shape[1]


def _scores_at(scores: np.ndarray | Candidates, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    if isinstance(scores, Candidates):
        n_columns = int(max(scores.columns.max(initial=-1), columns.max(initial=-1))) + 1
        keys = scores.rows.astype(np.int64) * n_columns + scores.columns
        order = np.argsort(keys, kind="stable")
        wanted = rows.astype(np.int64) * n_columns + columns
        at = np.searchsorted(keys[order], wanted)
        at = np.minimum(at, max(0, len(order) - 1))
        found = np.full(len(wanted), -1, dtype=np.int64)
        if len(order):
            hit = keys[order][at] == wanted
            found[hit] = scores.scores[order][at][hit]
        return found
    return scores[rows, columns]


def _member(rows: np.ndarray, columns: np.ndarray, in_rows: np.ndarray, in_columns: np.ndarray, n: int):
    """Whether each (rows[k], columns[k]) is among the pairs (in_rows, in_columns)."""
    n = max(n, int(columns.max(initial=-1)) + 1, int(in_columns.max(initial=-1)) + 1)
    return np.isin(rows.astype(np.int64) * n + columns, in_rows.astype(np.int64) * n + in_columns)


def _dense_violations(
    scores: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
    u,
    v,
    min_score: int,
    limit: int | None,
    margin: int = _MARGIN,
    budget: int | None = None,
    floored: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs to add to the shortlist, from one pass over a dense matrix, a block of rows at a time.

    Every allowed pair outside (rows, columns) whose slack score - (u + v) is at least -``margin``
    (violators have slack >= 0): the potentials move a little between rounds, so the pairs just short
    of violating now are the likely violators of the next round. When there are more than ``budget``
    of those (early rounds, with rough potentials), only the ``_DEPTH`` pairs of largest slack of each
    row and of each column (several each: measured to save rounds over one each). None at all when
    nothing violates. With ``limit``, at most that many violators, and the scan stops at the first
    block that has one. ``floored`` says that every pair not allowed already holds a value below
    -``margin`` (``_allowed_only``), which saves the scan a few operations per cell. The pairs (rows,
    columns), the chosen ones for a check and every listed one for pricing, are set aside in place for
    the scan and put back before returning.
    """
    n_rows, n_columns = scores.shape
    empty = np.empty(0, dtype=np.intp)
    if n_rows == 0 or n_columns == 0:
        return empty, empty
    if budget is None:
        budget = _BUDGET * (n_rows + n_columns)
    saved = scores[rows, columns].copy()
    scores[rows, columns] = -(margin + 1)
    try:
        step = max(1, _CHECK_CELLS // n_columns)
        # int8 scores (the portal's) fit int16 slack; wider scores get int32.
        kind = np.int16 if scores.dtype.itemsize == 1 else np.int32
        slack = np.empty((step, n_columns), dtype=kind)
        mask = np.empty((step, n_columns), dtype=bool)
        allowed = None if floored else np.empty((step, n_columns), dtype=scores.dtype)
        u_k, v_k = u.astype(kind), v.astype(kind)
        # Candidates as (rows, columns, slack): every near pair while they fit the budget, then only
        # each row's and each column's few most violated pairs of every later block.
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        near, held, violated = 0, 0, False
        for lo in range(0, n_rows, step):
            hi = min(n_rows, lo + step)
            block, d, m = scores[lo:hi], slack[: hi - lo], mask[: hi - lo]
            if allowed is not None:
                block = _floor(block, min_score, -(margin + 1), allowed[: hi - lo], m)
            np.subtract(block, u_k[None, :], out=d, dtype=kind)
            np.subtract(d, v_k[lo:hi, None], out=d)
            if limit is not None:
                np.greater_equal(d, 0, out=m)
                if m.any():
                    found_rows, found_columns = _cells(m)
                    return (found_rows[:limit] + lo).astype(np.intp), found_columns[:limit].astype(np.intp)
                continue
            np.greater_equal(d, -margin, out=m)
            found_rows, found_columns = _cells(m)
            values = d[found_rows, found_columns]
            violated = violated or bool((values >= 0).any())
            near += len(values)
            found.append((found_rows + lo, found_columns, values))
            held += len(values)
            if held > 4 * budget:
                # Far over budget (very rough potentials): keep memory bounded by narrowing the pairs
                # so far to each row's and each column's few best, which the end narrows again.
                found = [_narrowed(*(np.concatenate([part[k] for part in found]) for k in range(3)))]
                held = len(found[0][0])
    finally:
        scores[rows, columns] = saved
    if not violated:
        return empty, empty
    found_rows, found_columns, values = (np.concatenate([part[k] for part in found]) for k in range(3))
    if near <= budget:
        return found_rows.astype(np.intp), found_columns.astype(np.intp)
    # Over budget: each row's and each column's few most violated pairs among the candidates.
    found_rows, found_columns, _ = _narrowed(found_rows, found_columns, values)
    return found_rows.astype(np.intp), found_columns.astype(np.intp)


def _narrowed(rows: np.ndarray, columns: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """The distinct pairs among each row's and each column's ``_DEPTH`` largest values. Raises nothing."""
    picked = np.zeros(len(values), dtype=bool)
    picked[_best_few(rows, values)] = True
    picked[_best_few(columns, values)] = True
    return rows[picked], columns[picked], values[picked]


def _best_few(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Indexes of the ``_DEPTH`` largest values of each group (ties by position). Raises nothing."""
    if len(values) == 0:
        return np.empty(0, dtype=np.intp)
    # One stable sort of group x span + (top - value): the order of a lexsort on both, measured a
    # third faster.
    wide = values.astype(np.int64)
    top = int(wide.max())
    order = np.argsort(groups.astype(np.int64) * (top - int(wide.min()) + 1) + (top - wide), kind="stable")
    sorted_groups = groups[order]
    starts = np.concatenate([[True], sorted_groups[1:] != sorted_groups[:-1]])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    return order[np.arange(len(order)) - first < _DEPTH]


def _floor(block: np.ndarray, min_score: int, floor: int, out: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Into ``out``: ``block`` with every value below ``min_score`` (at least 0) replaced by ``floor``.

    Plain arithmetic (block x ok + floor x (1 - ok)): numpy's masked assignments (``copyto`` with
    ``where``, ``putmask``, ``np.where``) measured some thirty times slower on int8. Raises nothing.
    """
    np.greater_equal(block, max(0, min_score), out=ok)
    np.multiply(block, ok, out=out)
    low = ok.view(np.int8) if out.dtype.itemsize == 1 else ok.astype(out.dtype)
    # floor x (1 - ok) = floor - floor x ok, without another scratch array.
    np.add(out, floor, out=out)
    np.subtract(out, np.multiply(low, floor, dtype=out.dtype), out=out)
    return out


def _allowed_only(scores: np.ndarray, min_score: int, forbidden: np.ndarray, *, in_place: bool = False) -> np.ndarray:
    """A dense matrix with every pair that is not allowed at ``-(_MARGIN + 1)``: a copy, or with
    ``in_place`` the matrix itself when it is int8. Raises nothing.
    """
    kind = np.int8 if scores.dtype.itemsize == 1 and scores.dtype.kind == "i" else np.int32
    work = scores if in_place and scores.dtype == kind else np.empty(scores.shape, dtype=kind)
    n_rows, n_columns = scores.shape
    step = max(1, _CHECK_CELLS // max(1, n_columns))
    ok = np.empty((min(step, n_rows), n_columns), dtype=bool)
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        _floor(scores[lo:hi], min_score, -(_MARGIN + 1), work[lo:hi], ok[: hi - lo])
    if len(forbidden):
        work[forbidden[:, 0], forbidden[:, 1]] = -(_MARGIN + 1)
    return work


def _potentials(
    n_rows: int,
    n_columns: int,
    pair_rows: np.ndarray,
    pair_columns: np.ndarray,
    gain: np.ndarray,
    chosen: np.ndarray,
    row_load: np.ndarray,
    column_load: np.ndarray,
    row_capacity: np.ndarray,
    column_capacity: np.ndarray,
    top: int,
) -> Certificate:
    """Potentials from shortest paths in the residual network of an optimal flow on the listed pairs.

    Nodes: mentees 0..C-1, mentors C..C+R-1, and one hub standing for both source and sink (their
    potentials are equal once anything flows, and nothing is lost merging them when nothing does).
    The distances from a virtual root joined to every node satisfy d(head) <= d(tail) + cost on every
    residual arc, which is exactly the reduced-cost condition (``_distances`` finds them). Raises nothing.
    """
    hub = n_columns + n_rows
    mentor = n_columns + pair_rows
    tails = [
        np.where(chosen, mentor, pair_columns),  # unchosen: mentee -> mentor (cost -g); chosen: backwards (+g)
        np.full(int((column_load < column_capacity).sum()), hub),
        np.flatnonzero(column_load > 0),
        n_columns + np.flatnonzero(row_load < row_capacity),
        np.full(int((row_load > 0).sum()), hub),
    ]
    heads = [
        np.where(chosen, pair_columns, mentor),
        np.flatnonzero(column_load < column_capacity),
        np.full(int((column_load > 0).sum()), hub),
        np.full(int((row_load < row_capacity).sum()), hub),
        n_columns + np.flatnonzero(row_load > 0),
    ]
    costs = [np.where(chosen, gain, -gain)] + [np.zeros(len(t), dtype=np.int64) for t in tails[1:]]
    tail = np.concatenate(tails).astype(np.intp)
    head = np.concatenate(heads).astype(np.intp)
    cost = np.concatenate(costs).astype(np.int64)
    # Of all the potentials that fit the flow, take the ones that favour the scarce side: when mentors
    # have fewer seats than mentees want, mentors' potentials as high as they can be (distances to the
    # hub), otherwise mentees' (distances from it). Pairs outside the shortlist then pass the check
    # far more often, which is what keeps the number of rounds small.
    scarce_mentors = int(row_capacity.sum()) < int(column_capacity.sum())
    source, target = (head, tail) if scarce_mentors else (tail, head)
    distance = _distances(hub + 1, hub, source, target, cost)
    # Only people with no listed pair at all are out of reach: potential 0, like the hub.
    distance[distance >= _UNREACHED // 2] = 0
    if scarce_mentors:
        u, v = np.maximum(0, -distance[:n_columns]), np.maximum(0, distance[n_columns:hub])
    else:
        u, v = np.maximum(0, distance[:n_columns]), np.maximum(0, -distance[n_columns:hub])
    # Someone with no room at all is "full" already: a potential above any gain rules their pairs out.
    u[column_capacity == 0] = top
    v[row_capacity == 0] = top
    return Certificate(u=u, v=v)


def _distances(n: int, root: int, source: np.ndarray, target: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Shortest distances from ``root`` over arcs source -> target (no negative cycle), ``_UNREACHED`` if none.

    Bellman-Ford that relaxes only the arcs out of the nodes whose distance fell in the last step: after
    an optimal flow most distances settle within a few steps, so this does a few times the work of one
    sweep over every arc instead of one sweep per step. Raises RuntimeError on a negative cycle (which
    an optimal flow's residual network cannot have).
    """
    order = np.argsort(source, kind="stable")
    source, target, cost = source[order], target[order], cost[order]
    first = np.searchsorted(source, np.arange(n + 1))
    distance = np.full(n, _UNREACHED, dtype=np.int64)
    distance[root] = 0
    frontier = np.array([root], dtype=np.intp)
    for _ in range(n + 1):
        starts = first[frontier]
        counts = first[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return distance
        # The out-arcs of every frontier node, as one array of arc indexes.
        arcs = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        heads = target[arcs]
        reached = distance[source[arcs]] + cost[arcs]
        better = reached < distance[heads]
        if not better.any():
            return distance
        heads, reached = heads[better], reached[better]
        np.minimum.at(distance, heads, reached)
        frontier = _distinct(heads)
    raise RuntimeError("The residual network has a negative cycle.")


def _min_cost_flow(
    n_rows: int,
    n_columns: int,
    pair_rows: np.ndarray,
    pair_columns: np.ndarray,
    gain: np.ndarray,
    row_capacity: np.ndarray,
    column_capacity: np.ndarray,
    prices: Certificate | None = None,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Which listed pairs an optimal flow uses (a boolean per pair). Raises RuntimeError if OR-Tools fails.

    Only the people with a listed pair become nodes: a re-solve's pruned shortlist leaves many out,
    and the solver's time grows with the nodes as well as the arcs. Source and sink are one hub node
    and every supply is zero: the pairs are a min-cost circulation through the hub, hub -> mentee ->
    mentor -> hub, where a cycle is one more pair. (The bypass that lets people go unmatched is then
    a loop on the hub, and needs no arc: the flow through a mentee or a mentor is bounded by their
    capacity, which is all the bypass ever bounded.)

    ``start`` (a boolean per pair) is a flow to start from, such as the last round's on the pairs it
    kept: OR-Tools takes no starting flow, so the network it is given is the residual network of that
    flow, in which each pair the flow uses is an arc back from mentor to mentee, and the answer is the
    change to make. With ``prices`` (the last round's potentials), every arc costs its reduced cost:
    mentee c -> mentor r costs u[c] + v[r] - g, hub -> c costs -u[c] and r -> hub -v[r] (and their
    reverses the opposite). Around any cycle these differ from the plain costs by nothing (each node's
    potential enters once in and once out), so the optimal circulations are the same. But the
    potentials fit the last flow, so every arc of its residual network costs at least 0 and only the
    pairs pricing added cost less: the start is nearly optimal. On the benchmark's large cohort that
    made the re-solves about a quarter faster than from no flow at the same prices (not more: the
    solver's cost scaling starts again from the largest cost, which is probably why).
    """
    mentees, mentee_node = _compact(pair_columns, n_columns)
    mentors, mentor_node = _compact(pair_rows, n_rows)
    n_mentees, n_mentors = len(mentees), len(mentors)
    hub = n_mentees + n_mentors
    used = np.zeros(len(pair_rows), dtype=bool) if start is None else start
    mentee_load = np.bincount(mentee_node[used], minlength=n_mentees)
    mentor_load = np.bincount(mentor_node[used], minlength=n_mentors)
    pair_cost = -gain.astype(np.int64)
    mentee_cost, mentor_cost = np.zeros(n_mentees, dtype=np.int64), np.zeros(n_mentors, dtype=np.int64)
    if prices is not None:
        u, v = prices.u.astype(np.int64), prices.v.astype(np.int64)
        pair_cost += u[pair_columns] + v[pair_rows]
        mentee_cost -= u[mentees]
        mentor_cost -= v[mentors]
    mentee_at, mentor_at = np.arange(n_mentees), n_mentees + np.arange(n_mentors)
    room_left, wanted_left = row_capacity[mentors] - mentor_load, column_capacity[mentees] - mentee_load
    # Each arc as (tail, head, capacity, cost): the residual arcs of the start, those with room only.
    arcs = [
        (
            np.where(used, n_mentees + mentor_node, mentee_node),
            np.where(used, mentee_node, n_mentees + mentor_node),
            np.ones(len(used), dtype=np.int64),
            np.where(used, -pair_cost, pair_cost),
        ),
        (np.full(n_mentees, hub), mentee_at, wanted_left, mentee_cost),
        (mentee_at, np.full(n_mentees, hub), mentee_load, -mentee_cost),
        (mentor_at, np.full(n_mentors, hub), room_left, mentor_cost),
        (np.full(n_mentors, hub), mentor_at, mentor_load, -mentor_cost),
    ]
    flow = min_cost_flow.SimpleMinCostFlow()
    # Every pair's arc has room 1, so the first batch is one arc per pair, in order.
    handles = []
    for tails, heads, capacities, costs in arcs:
        keep = capacities > 0
        handles.append(
            flow.add_arcs_with_capacity_and_unit_cost(
                tails[keep].astype(np.int32),
                heads[keep].astype(np.int32),
                capacities[keep].astype(np.int64),
                costs[keep].astype(np.int64),
            )
        )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"The min-cost flow solver stopped with status {status}.")
    changed = flow.flows(np.asarray(handles[0], dtype=np.int32)) > 0
    return used != changed


def _compact(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids among ``ids`` (each below ``n``), sorted, and each id's position among them."""
    present = np.zeros(n, dtype=bool)
    present[ids] = True
    distinct = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return distinct, position[ids]


class _Listed:
    """The pairs on the shortlist, as parallel arrays. Raises nothing.

    Pricing sets every listed pair aside (an optimal flow on the list leaves none of them violating),
    so the pairs it adds are never listed already and a batch is simply appended: no membership test,
    and no bit per pair of a dense matrix to clear and set. Only a first shortlist given by the caller
    may repeat a pair, and that is deduplicated once.
    """

    def __init__(self, rows: np.ndarray, columns: np.ndarray, width: int) -> None:
        self.width = max(1, width)
        keys = rows.astype(np.int64) * self.width + columns
        # A Shortlist's pairs come in order, each once: one look instead of a sort.
        if not (keys[1:] > keys[:-1]).all():
            keys = _distinct(keys)
        self.rows, self.columns = (keys // self.width).astype(np.intp), (keys % self.width).astype(np.intp)

    def add(self, rows: np.ndarray, columns: np.ndarray) -> None:
        """Append pairs that are not listed yet (each at most once)."""
        self.rows = np.concatenate([self.rows, rows.astype(np.intp)])
        self.columns = np.concatenate([self.columns, columns.astype(np.intp)])

    def keep(self, wanted: np.ndarray) -> None:
        """Keep only the pairs where ``wanted`` is true (a bool per pair, in order)."""
        self.rows, self.columns = self.rows[wanted], self.columns[wanted]

    def __len__(self) -> int:
        return len(self.rows)


def _price(
    scores: np.ndarray | Candidates, rows: np.ndarray, columns: np.ndarray, u: np.ndarray, v: np.ndarray, min_score: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs to add to the shortlist, none of them listed (``rows``, ``columns``) already: none at all when
    no pair off the list violates the potentials.
    """
    if not isinstance(scores, Candidates):
        return _dense_violations(scores, rows, columns, u, v, min_score, None, margin=_MARGIN, floored=True)
    slack = scores.scores.astype(np.int64) - u[scores.columns] - v[scores.rows]
    near = np.flatnonzero(slack >= -_MARGIN)
    near = near[~_member(scores.rows[near], scores.columns[near], rows, columns, len(u))]
    if not (slack[near] >= 0).any():
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    budget = _BUDGET * (len(u) + len(v))
    if len(near) > budget:
        near = near[np.argsort(-slack[near], kind="stable")[:budget]]
    return scores.rows[near].astype(np.intp), scores.columns[near].astype(np.intp)


def solve(
    scores: np.ndarray | Candidates,
    *,
    row_capacity: Iterable[int],
    column_capacity: Iterable[int] | None = None,
    min_score: int = 0,
    forbidden: Iterable[tuple[int, int]] = (),
    shortlist: tuple[np.ndarray, np.ndarray] | None = None,
    max_rounds: int = 50,
    overwrite_scores: bool = False,
) -> Solution:
    """The optimal pairs for these scores (see the module notes), with a certificate that proves it.

    ``scores`` is a dense mentors x mentees integer matrix (-1 where the hard rules forbid a pair) or
    ``Candidates``; ``row_capacity`` is each mentor's room, ``column_capacity`` each mentee's number of
    mentors wanted (1 by default); ``forbidden`` lists (row, column) pairs never to make; ``shortlist``
    (rows, columns) is where to start for a dense matrix (``initial_shortlist`` when not given);
    ``overwrite_scores`` lets it mark the pairs that are not allowed in an int8 dense matrix itself,
    instead of in a copy as large (the allowed pairs keep their scores; the others are left below -1).
    Raises ValueError for capacities of the wrong length or below zero, RuntimeError when the proof
    still fails after ``max_rounds`` widenings (which would be a bug).
    """
    listed = isinstance(scores, Candidates)
    rows_cap = np.asarray(list(row_capacity), dtype=np.int64)
    if listed:
        n_rows = max(int(scores.rows.max(initial=-1)) + 1, len(rows_cap))
        n_columns = int(scores.columns.max(initial=-1)) + 1
    else:
        n_rows, n_columns = scores.shape
    if column_capacity is None:
        columns_cap = np.ones(n_columns, dtype=np.int64)
    else:
        columns_cap = np.asarray(list(column_capacity), dtype=np.int64)
        n_columns = max(n_columns, len(columns_cap)) if listed else n_columns
    if len(rows_cap) != n_rows or len(columns_cap) != n_columns:
        raise ValueError("There must be one capacity per mentor and one per mentee.")
    if (rows_cap < 0).any() or (columns_cap < 0).any():
        raise ValueError("Capacities cannot be negative.")
    min_score = max(0, int(min_score))
    stats: dict[str, float] = {"flow": 0.0, "potentials": 0.0, "pricing": 0.0}

    forbidden = np.array(list(forbidden), dtype=np.intp).reshape(-1, 2)
    if listed:
        keep = scores.scores >= min_score
        if len(forbidden):
            keep &= ~_member(scores.rows, scores.columns, forbidden[:, 0], forbidden[:, 1], n_columns)
        scores = Candidates(
            scores.rows[keep].astype(np.intp), scores.columns[keep].astype(np.intp), scores.scores[keep]
        )
        pair_rows, pair_columns = scores.rows, scores.columns
    else:
        scores = _allowed_only(scores, min_score, forbidden, in_place=overwrite_scores)
        if shortlist is None:
            shortlist = initial_shortlist(scores, rows_cap, column_capacity=columns_cap, min_score=min_score)
        pair_rows, pair_columns = shortlist
        keep = scores[pair_rows, pair_columns] >= min_score
        pair_rows, pair_columns = pair_rows[keep].astype(np.intp), pair_columns[keep].astype(np.intp)
    # Above any gain: the potential of someone with no room (see _potentials).
    if listed:
        top = int(scores.scores.max(initial=0)) + 2
    else:
        top = 129 if scores.dtype == np.int8 else int(scores.max(initial=0)) + 2
    listed_pairs = _Listed(pair_rows, pair_columns, n_columns)

    certificate, start = None, None
    for round_number in range(1, max_rounds + 1):
        pair_rows, pair_columns = listed_pairs.rows, listed_pairs.columns
        gain = _scores_at(scores, pair_rows, pair_columns).astype(np.int64) + 1
        started = time.perf_counter()
        chosen = _min_cost_flow(
            n_rows, n_columns, pair_rows, pair_columns, gain, rows_cap, columns_cap, certificate, start
        )
        rows, columns = pair_rows[chosen], pair_columns[chosen]
        row_load = np.bincount(rows, minlength=n_rows)
        column_load = np.bincount(columns, minlength=n_columns)
        stats["flow"] += time.perf_counter() - started
        started = time.perf_counter()
        certificate = _potentials(
            n_rows, n_columns, pair_rows, pair_columns, gain, chosen, row_load, column_load, rows_cap, columns_cap, top
        )
        stats["potentials"] += time.perf_counter() - started
        started = time.perf_counter()
        add_rows, add_columns = _price(scores, pair_rows, pair_columns, certificate.u, certificate.v, min_score)
        stats["pricing"] += time.perf_counter() - started
        reduced = certificate.u[pair_columns] + certificate.v[pair_rows] - gain
        if len(add_rows) == 0:
            # Pricing looked only off the list: the pairs on it pass by construction of the potentials,
            # and are checked here all the same, so that the proof covers every allowed pair.
            if (reduced[~chosen] < 0).any():
                raise RuntimeError("The potentials do not fit the flow they came from.")
            return Solution(
                rows=rows,
                columns=columns,
                total_gain=int(gain[chosen].sum()),
                certificate=certificate,
                rounds=round_number,
                shortlist_size=len(listed_pairs),
                stats=stats,
            )
        # Re-solve warm: the next flow needs the pairs the current one uses and those near them, not
        # the pairs the potentials show to be far from useful. Dropping those keeps each re-solve small;
        # should one be needed after all, the next pricing brings it back, and the proof covers all.
        kept = chosen | (reduced <= _PRUNE)
        listed_pairs.keep(kept)
        listed_pairs.add(add_rows, add_columns)
        # The current flow stays feasible on the kept pairs (it uses none of the dropped ones): the
        # next solve starts from it.
        start = np.concatenate([chosen[kept], np.zeros(len(add_rows), dtype=bool)])
    raise RuntimeError("The assignment could not be proved optimal.")


class Shortlist:
    """Each mentee's best mentors and each mentor's best mentees, gathered block by block while scoring.

    ``add`` takes the scores of mentor rows lo..hi (a block still in cache); ``pairs`` gives (rows,
    columns) once every block is in. A column keeps the pairs within ``spread`` of its best score (found
    against the best so far, then trimmed against the final best); a row keeps about its ``per_row`` best
    columns: every pair at least its threshold, the ``per_row``-th best score of every ``_SAMPLE``-th
    column (a partial sort of a sample costs an eighth of one of the whole row, and ties or the sample's
    luck only make the list a little longer or shorter). Pairs below ``min_score`` never enter.

    Why rows matter most: when seats are scarce, a mentor's potential is about the gain of the best
    mentee they cannot take, so every mentor needs enough of their own best mentees on the list for
    the first flow to price them right. On the benchmark's large cohort, 30 per row and a spread of 1
    measured three rounds where each column's best within 3 and each row's capacity + 2 best took four
    with a first flow as large, on three seeds. When seats are not scarce a deep list only makes the
    flows larger, so ``per_row`` defaults to 30 when the rows offer fewer seats than the columns want
    (``column_capacity``, one each when not given) and 8 otherwise (``initial_shortlist`` does better
    there by estimate, given the whole matrix). Raises nothing.
    """

    def __init__(
        self,
        n_columns: int,
        row_capacity: np.ndarray,
        *,
        column_capacity: np.ndarray | None = None,
        min_score: int = 0,
        spread: int = 1,
        per_row: int | None = None,
    ) -> None:
        if per_row is None:
            wanted = n_columns if column_capacity is None else int(np.sum(column_capacity))
            per_row = 30 if int(np.sum(row_capacity)) < wanted else 8
        self.best = np.full(n_columns, -1, dtype=np.int16)
        self.threshold = np.full(len(row_capacity), np.iinfo(np.int16).max, dtype=np.int16)
        self.min_score, self.spread = max(0, min_score), spread
        # Sample only when a row is long enough for the sample to hold several times per_row / _SAMPLE.
        self.step = _SAMPLE if n_columns >= 4 * _SAMPLE * per_row else 1
        self.rank = max(1, -(-per_row // self.step))
        self.parts: list[np.ndarray] = []
        self.n_columns = n_columns

    def add(self, lo: int, block: np.ndarray) -> None:
        """Take in the scores of rows lo..lo + len(block). Raises nothing."""
        if block.size == 0:
            return
        np.maximum(self.best, block.max(axis=0), out=self.best)
        sample = block[:, :: self.step]
        at = sample.shape[1] - min(self.rank, sample.shape[1])
        # In int16: numpy's partition measured a fifth faster on it than on int8 here.
        threshold = np.maximum(np.partition(sample.astype(np.int16), at, axis=1)[:, at], self.min_score)
        self.threshold[lo : lo + len(block)] = threshold
        floor = np.maximum(self.best - self.spread, self.min_score)
        top = np.iinfo(block.dtype).max
        if self.min_score > top:
            return
        # Compared in the block's own type (the bounds fit it): mixing types would widen the block.
        mask = block >= np.minimum(floor, top).astype(block.dtype)[None, :]
        mask |= block >= np.minimum(threshold, top).astype(block.dtype)[:, None]
        rows, columns = _cells(mask)
        self.parts.append((rows + lo).astype(np.int64) * self.n_columns + columns)

    def pairs(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The shortlist as (rows, columns), trimmed against each column's final best. Raises nothing."""
        if not self.parts:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
        # Column picks were made against the best so far: keep those within reach of the final best.
        # Each block's keys are distinct and blocks do not overlap, so there is nothing to deduplicate.
        keys = np.concatenate(self.parts)
        rows, columns = (keys // self.n_columns).astype(np.intp), (keys % self.n_columns).astype(np.intp)
        found = scores[rows, columns]
        keep = found >= np.maximum(self.best[columns] - self.spread, self.min_score)
        keep |= found >= self.threshold[rows]
        return rows[keep], columns[keep]


def initial_shortlist(
    scores: np.ndarray, row_capacity: np.ndarray, *, column_capacity: np.ndarray | None = None, min_score: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Where to start for a dense matrix in which every pair that is not allowed is below ``min_score``.

    When the rows offer fewer seats than the columns want (``column_capacity``, one each when not
    given), the pairs a ``Shortlist`` fed the whole matrix keeps; otherwise each row's and each column's
    ``_PER_SIDE`` best pairs by an estimate of their reduced cost (``_by_estimate``). Raises nothing.
    """
    n_rows, n_columns = scores.shape
    wanted = n_columns if column_capacity is None else int(np.sum(column_capacity))
    if int(np.sum(row_capacity)) < wanted or n_rows == 0 or n_columns == 0:
        shortlist = Shortlist(n_columns, row_capacity, column_capacity=column_capacity, min_score=min_score)
        step = max(1, _CHECK_CELLS // max(1, n_columns))
        for lo in range(0, n_rows, step):
            shortlist.add(lo, scores[lo : lo + step])
        return shortlist.pairs(scores)
    return _by_estimate(scores, min_score)


def _by_estimate(scores: np.ndarray, min_score: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's and each column's ``_PER_SIDE`` best allowed pairs by 5 x score - 4 x (row's level +
    column's level), where a person's level is about the ``_LEVEL``-th best of their scores. Raises nothing.

    Why: a pair is worth listing when its reduced cost u + v - (score + 1) is small, and when neither
    side's seats are scarce, a person's potential grows with how good their best few pairs are: the
    pairs worth listing are those that stand out from both people's levels, not a row's best scores,
    which are often with people in demand on the other side. On the benchmark's two-sided cohort (five
    seeds) these lists took two rounds where each row's 8 best and each column's best within 1 took
    four; 4/5 of the levels took fewer rounds than 1/2 of them, and 12 per side was as steady as 8 or
    10 and no slower (6 took three rounds on some seeds). When seats are scarce the scarce side's
    potentials set the price and the others' stay small whatever their scores, so columns' levels
    mislead: there a ``Shortlist`` measured fewer rounds.
    """
    # int8 scores (the portal's) fit int16 estimates; wider scores get int64.
    kind = np.int16 if scores.dtype.itemsize == 1 else np.int64
    levels = []
    for matrix in (scores, scores.T):
        level = np.empty(matrix.shape[0], dtype=kind)
        for lo, block in _row_blocks(matrix):
            # A sample of each line is enough for a level: it only orders the pairs.
            step = max(1, min(_SAMPLE, block.shape[1] // (16 * _LEVEL)))
            level[lo : lo + len(block)] = _kth_largest(block[:, ::step], -(-_LEVEL // step))
        levels.append(level)
    parts = []
    for matrix, (own, other), transposed in ((scores, levels, False), (scores.T, levels[::-1], True)):
        for lo, block in _row_blocks(matrix):
            estimate = np.multiply(block, 5, dtype=kind)
            estimate -= 4 * own[lo : lo + len(block), None]
            estimate -= 4 * other[None, :]
            keep = estimate >= _kth_largest(estimate, _PER_SIDE)[:, None]
            keep &= block >= min_score
            rows, columns = _cells(keep)
            rows += lo
            parts.append((columns, rows) if transposed else (rows, columns))
    # A pair both sides picked is listed twice here; solve deduplicates a first shortlist once.
    rows, columns = (np.concatenate([part[k] for part in parts]).astype(np.intp) for k in range(2))
    return rows, columns


def _row_blocks(matrix: np.ndarray):
    """(first row, block) for blocks of about ``_CHECK_CELLS`` cells, each a C-contiguous copy when
    ``matrix`` is a transposed view (so that each line of a block lies along memory). Raises nothing.
    """
    n_rows, n_columns = matrix.shape
    step = max(1, _CHECK_CELLS // max(1, n_columns))
    for lo in range(0, n_rows, step):
        yield lo, np.ascontiguousarray(matrix[lo : lo + step])


def _kth_largest(lines: np.ndarray, rank: int) -> np.ndarray:
    """Each row's ``rank``-th largest value (its smallest when it is shorter). Raises nothing."""
    at = lines.shape[1] - min(rank, lines.shape[1])
    return np.partition(lines, at, axis=1)[:, at]
