"""Time, memory and exactness of matching on synthetic cohorts; each figure is the median of fresh processes.

Sizes (40 teams of uneven size, skewed popularity of choices, missing answers, 3% of mentors paused, some
exclusions and ended pairs, the cycle's default minimum score of 30):

- ``large``: 10,000 mentees over 3,000 mentors with room for 1 to 4 each. Timed: ``assign`` end to end
  (scoring, assignment and reasons), with its peak memory; its total is compared with the optimum of an
  independent exact solver (scipy's ``linear_sum_assignment`` on one row per free seat, run once in a
  process of its own).
- ``cohort``: 1,000 mentees over 1,000 mentors, capacity 3 on both sides (each mentee wants 3 mentors).
  Timed: the assignment alone (``solve`` on the scores); its certificate is checked over every pair.

Then ``recommend`` for one mentee against 3,000 mentors, and updating the mentor index after one mentor
changes versus building it again. Each size runs in ``--runs`` fresh processes (5 by default) and the
median is printed with the machine's load average at the time: the machine may be shared, so figures
taken while it is busy are slower than the code is. Not a test: it prints and never fails.

    .venv/bin/python benchmarks/matching.py [--sizes large,cohort] [--runs 5] [--seed 7] [--against DIR]

``--against DIR`` also measures the checkout in DIR (say ``/work/main``) with the same data, alternating
run by run, so that a before and an after share the machine's load.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

# ``--code DIR`` (given to child processes by ``--against``) measures another checkout's portal package.
_CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else str(Path(__file__).resolve().parents[1])
sys.path.insert(0, _CODE)

from portal.matching import MentorIndex, MentorSlot, Person, Weights, assign, recommend, solve  # noqa: E402
from portal.matching.scoring import MenteeColumns, MentorRows, gain_matrix  # noqa: E402
from portal.onboarding.questions import DEFAULT_CHOICES  # noqa: E402

SIZES = {"small": (1_000, 300), "medium": (5_000, 1_500), "large": (10_000, 3_000), "cohort": (1_000, 1_000)}
TEAMS = 40
MIN_SCORE = 30


def _keys(list_name: str) -> list[str]:
    return [key for key, _ in DEFAULT_CHOICES[list_name]]


def _popularity(keys: list[str], rng: random.Random) -> list[float]:
    # Zipf-like: a few choices (say "curiosity", "communication") are far more common than the rest.
    order = keys[:]
    rng.shuffle(order)
    weight = {key: 1 / (rank + 1) ** 1.1 for rank, key in enumerate(order)}
    return [weight[key] for key in keys]


class Cohort:
    """A synthetic organisation's answers, with skewed popularity, missing answers and 40 uneven teams."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lists = {name: _keys(name) for name in ("values", "interests", "experiences", "skills", "formats")}
        self.weights = {name: _popularity(keys, self.rng) for name, keys in self.lists.items()}
        self.weights["formats"] = [3, 5, 2, 1.5]  # in person, video, walk, written
        self.team_weights = [1 / (n + 3) for n in range(TEAMS)]

    def _pick(self, list_name: str, most: int, missing: float) -> frozenset[str]:
        rng = self.rng
        if rng.random() < missing:
            return frozenset()
        count = rng.randint(1, most)
        keys, weights = self.lists[list_name], self.weights[list_name]
        chosen: set[str] = set()
        while len(chosen) < min(count, len(keys)):
            chosen.add(rng.choices(keys, weights)[0])
        return frozenset(chosen)

    def person(self, person_id: int, *, mentor: bool) -> Person:
        rng = self.rng
        formats = self._pick("formats", 3, 0.1)
        if not mentor and rng.random() < 0.04:
            formats = frozenset({"written"})
        return Person(
            id=person_id,
            name=f"Person {person_id}",
            team_id=rng.choices(range(TEAMS), self.team_weights)[0],
            values=self._pick("values", 3, 0.1),
            interests=self._pick("interests", 8, 0.15),
            experiences=self._pick("experiences", 6, 0.3),
            skills_grow=frozenset() if mentor else self._pick("skills", 5, 0.1),
            skills_offer=self._pick("skills", 5, 0.05) if mentor else frozenset(),
            formats=formats,
            time=rng.choices(["30m", "1h", "90m", "2h", None], [3, 4, 2, 1, 2])[0],
            start=rng.choices(["written_intro", "short_call", "no_preference", None], [2, 3, 3, 2])[0],
            perspective=rng.choices(["like_me", "different", "no_preference", None], [2, 3, 4, 2])[0],
            # Someone they must not be paired with, such as a manager in another team.
            excluded=frozenset({rng.randint(1, 1_000_000)}) if rng.random() < 0.05 else frozenset(),
        )

    def build(self, n_mentees: int, n_mentors: int) -> tuple[list[Person], list[MentorSlot], frozenset]:
        mentees = [self.person(n, mentor=False) for n in range(1, n_mentees + 1)]
        mentors = [
            MentorSlot(
                self.person(1_000_000 + n, mentor=True),
                free_slots=self.rng.randint(1, 4),
                paused=self.rng.random() < 0.03,
            )
            for n in range(1, n_mentors + 1)
        ]
        forbidden = frozenset(
            (self.rng.choice(mentees).id, self.rng.choice(mentors).person.id) for _ in range(n_mentees // 50)
        )
        return mentees, mentors, forbidden


def _scores(mentees, mentors, forbidden):
    open_slots = sorted((slot for slot in mentors if slot.open_slots > 0), key=lambda slot: slot.person.id)
    rows = MentorRows([slot.person for slot in open_slots])
    people = sorted(mentees, key=lambda person: person.id)
    gains = gain_matrix(rows, MenteeColumns(people, rows), Weights(), forbidden=forbidden)
    return gains, np.array([slot.open_slots for slot in open_slots])


def _settle() -> None:
    """A full garbage collection before the clock starts.

    Building a synthetic cohort leaves some hundred thousand new objects (people and their sets) that
    the collector has not yet looked at; whatever runs next pays for that look, a full collection of
    0.1 to 0.5 s that lands inside matching or not depending on where the allocation counters stand.
    timeit switches the collector off for the same reason; here it stays on, so collections that
    matching's own allocations cause are still counted.
    """
    gc.collect()


def run_large(name: str, seed: int) -> dict:
    n_mentees, n_mentors = SIZES[name]
    mentees, mentors, forbidden = Cohort(seed).build(n_mentees, n_mentors)
    stages: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        if stage == "assigning" and fraction >= 0.9:
            stages.setdefault("reasons", time.perf_counter())
        stages.setdefault(stage, time.perf_counter())

    _settle()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    result = assign(mentees, mentors, forbidden=forbidden, min_score=MIN_SCORE, progress=progress)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load": load,
        "seconds": elapsed,
        "scoring": stages["assigning"] - start,
        "assignment": stages["reasons"] - stages["assigning"],
        "reasons": start + elapsed - stages["reasons"],
        "peak_mb": peak_mb,
        "seats": sum(slot.open_slots for slot in mentors),
        "matched": len(result.matches),
        "total": result.total_score,
        "gain": sum(match.score + 1 for match in result.matches),
    }


def exact_large(name: str, seed: int) -> dict:
    """The optimum by scipy's Hungarian-type solver, one row per free seat: independent of the engine."""
    from scipy.optimize import linear_sum_assignment

    n_mentees, n_mentors = SIZES[name]
    mentees, mentors, forbidden = Cohort(seed).build(n_mentees, n_mentors)
    gains, room = _scores(mentees, mentors, forbidden)
    seat_rows = np.repeat(np.arange(len(room)), room)
    # -(score + 1) for pairs allowed at the floor, 0 ("leave out") for the rest.
    cost = np.where(gains >= MIN_SCORE, -(gains.astype(np.float64) + 1), 0.0)[seat_rows]
    rows, columns = linear_sum_assignment(cost)
    return {"gain": int(round(-cost[rows, columns].sum()))}


def run_cohort(seed: int) -> dict:
    n_mentees, n_mentors = SIZES["cohort"]
    cohort = Cohort(seed)
    mentees = [cohort.person(n, mentor=False) for n in range(1, n_mentees + 1)]
    mentors = [MentorSlot(cohort.person(1_000_000 + n, mentor=True), free_slots=3) for n in range(1, n_mentors + 1)]
    gains, room = _scores(mentees, mentors, frozenset())
    wanted = np.full(n_mentees, 3)
    _settle()
    load = os.getloadavg()[0]
    start = time.perf_counter()
    solution = solve(gains, row_capacity=room, column_capacity=wanted, min_score=MIN_SCORE)
    elapsed = time.perf_counter() - start
    proved = solution.certificate.verify(gains, solution.rows, solution.columns, room, wanted, min_score=MIN_SCORE)
    return {
        "load": load,
        "seconds": elapsed,
        "pairs": len(solution.rows),
        "gain": solution.total_gain,
        "rounds": solution.rounds,
        "proved": proved,
    }


def run_recommend(seed: int, runs: int = 200) -> dict:
    mentees, mentors, forbidden = Cohort(seed).build(runs, 3_000)
    timings: dict[str, list[float]] = {"list": [], "index": []}
    start = time.perf_counter()
    index = MentorIndex(mentors)
    build_ms = (time.perf_counter() - start) * 1000
    for mentee in mentees:
        for kind, source in (("list", mentors), ("index", index)):
            start = time.perf_counter()
            recommend(mentee, source, forbidden=forbidden, skip=(1_000_001, 1_000_002))
            timings[kind].append((time.perf_counter() - start) * 1000)
    changed = MentorSlot(Cohort(seed + 1).person(index.slots[10].person.id, mentor=True), free_slots=2)
    # Answers that stay within the keys mentors already use update one row in place.
    changed = MentorSlot(
        replace(changed.person, **{k: getattr(index.slots[11].person, k) for k in ("values", "interests")}),
        free_slots=2,
    )
    start = time.perf_counter()
    index.updated([changed])
    update_ms = (time.perf_counter() - start) * 1000

    def summary(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), statistics.quantiles(values, n=20)[18]

    return {
        "build_ms": build_ms,
        "update_ms": update_ms,
        **{kind: summary(values) for kind, values in timings.items()},
    }


def _loads(runs: list[dict]) -> str:
    return ", ".join(f"{run['load']:.1f}" for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="large,cohort")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    parser.add_argument("--against", help="another checkout to measure alternately, such as /work/main")
    args = parser.parse_args()
    if args.child:
        kind, _, name = args.child.partition(":")
        if kind == "assign":
            result = run_large(name, args.seed)
        elif kind == "exact":
            result = exact_large(name, args.seed)
        elif kind == "cohort":
            result = run_cohort(args.seed)
        else:
            result = run_recommend(args.seed)
        print(json.dumps(result))
        return

    def child(what: str, code: str = _CODE) -> dict:
        # A fresh interpreter per measurement: ru_maxrss is the peak of the whole process.
        output = subprocess.run(
            [sys.executable, __file__, "--seed", str(args.seed), "--child", what, "--code", code],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(output.stdout)

    codes = {_CODE: "this checkout"} | ({args.against: args.against} if args.against else {})

    def alternating(what: str) -> dict[str, list[dict]]:
        runs: dict[str, list[dict]] = {code: [] for code in codes}
        for _ in range(args.runs):
            for code in codes:
                runs[code].append(child(what, code))
        return runs

    def median(runs: list[dict], key: str) -> float:
        return statistics.median(run[key] for run in runs)

    print(f"{os.cpu_count()} cores; load average now {os.getloadavg()[0]:.1f}. Medians of {args.runs} fresh processes.")
    for name in args.sizes.split(","):
        if name == "cohort":
            print()
            print("1,000 mentees x 1,000 mentors, capacity 3 on both sides: the assignment alone")
            for code, runs in alternating("cohort").items():
                print(f"  {codes[code]}: loads at each run: {_loads(runs)}")
                print(
                    f"    {median(runs, 'seconds'):.3f} s (fastest {min(r['seconds'] for r in runs):.3f}), "
                    f"{runs[0]['pairs']:,} pairs, {runs[0]['rounds']} rounds, "
                    f"proved optimal over every pair: {all(r['proved'] for r in runs)}"
                )
            continue
        n_mentees, n_mentors = SIZES[name]
        measured = alternating(f"assign:{name}")
        exact = child(f"exact:{name}")
        print()
        seats = measured[_CODE][0]["seats"]
        print(f"{n_mentees:,} mentees x {n_mentors:,} mentors ({seats:,} seats), minimum score {MIN_SCORE}:")
        print("  scoring, assignment and reasons (assign end to end)")
        for code, runs in measured.items():
            print(f"  {codes[code]}: loads at each run: {_loads(runs)}")
            print(
                f"    {median(runs, 'seconds'):.2f} s (fastest {min(r['seconds'] for r in runs):.2f}): "
                f"scoring {median(runs, 'scoring'):.2f}, assignment {median(runs, 'assignment'):.2f}, "
                f"reasons {median(runs, 'reasons'):.2f}; peak {median(runs, 'peak_mb'):.0f} MB"
            )
            same = all(r["gain"] == exact["gain"] for r in runs)
            print(
                f"    {runs[0]['matched']:,} matched, total score {runs[0]['total']:,}; total of (score + 1) "
                f"{runs[0]['gain']:,}, exact solver {exact['gain']:,}: {'equal' if same else 'DIFFERENT'}"
            )
    r = child("recommend")
    print()
    print("recommend() for one mentee against 3,000 mentors, 200 mentees (milliseconds)")
    print(f"  from a list of MentorSlot:  median {r['list'][0]:.1f}  p95 {r['list'][1]:.1f}")
    print(
        f"  from a MentorIndex:         median {r['index'][0]:.1f}  p95 {r['index'][1]:.1f}"
        f"  (built in {r['build_ms']:.0f} ms; one mentor's row updated in {r['update_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
