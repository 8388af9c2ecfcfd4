"""Time and memory of matching on synthetic cohorts: bulk assignment, a greedy baseline, recommendations.

For each size (1,000 / 5,000 / 10,000 mentees over 300 / 1,500 / 3,000 mentors with room for 1 to 4
mentees each; 40 teams of uneven size, skewed popularity of choices, missing answers, 3% of mentors
paused, some exclusions and ended pairs) it prints the seconds for scoring plus optimal assignment
(and for scoring alone), the peak memory of the process
that did it (each size runs in a fresh process, so the peaks are its own), how many mentees were
matched and the total score, next to the total a greedy baseline reaches (each mentee in id order takes
their best mentor with room). Then the latency of ``recommend`` for one mentee against 3,000 mentors,
both from a list of slots and from a ``MentorIndex`` built once. Not a test: it prints and never fails.

    .venv/bin/python benchmarks/matching.py [--sizes small,medium,large] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from portal.matching import MentorIndex, MentorSlot, Person, Weights, assign, recommend  # noqa: E402
from portal.matching.scoring import MenteeColumns, MentorRows, gain_matrix  # noqa: E402
from portal.onboarding.questions import DEFAULT_CHOICES  # noqa: E402

SIZES = {"small": (1_000, 300), "medium": (5_000, 1_500), "large": (10_000, 3_000)}
TEAMS = 40


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


def greedy_total(mentees: list[Person], mentors: list[MentorSlot], forbidden: frozenset) -> tuple[int, int]:
    """Each mentee in id order takes their best-scoring allowed mentor with room left."""
    open_slots = [slot for slot in mentors if slot.open_slots > 0]
    rows = MentorRows([slot.person for slot in open_slots])
    gains = gain_matrix(rows, MenteeColumns(mentees, rows), Weights(), forbidden=forbidden)
    room = [slot.open_slots for slot in open_slots]
    gains = gains.astype("int16")
    total = matched = 0
    for column in range(len(mentees)):
        scores = gains[:, column]
        best = int(scores.argmax())
        if scores[best] < 0:
            continue
        total += int(scores[best])
        matched += 1
        room[best] -= 1
        if room[best] == 0:
            gains[best, :] = -1
    return matched, total


def run_size(name: str, seed: int) -> dict:
    n_mentees, n_mentors = SIZES[name]
    mentees, mentors, forbidden = Cohort(seed).build(n_mentees, n_mentors)
    seats = sum(slot.open_slots for slot in mentors)
    stages: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        stages.setdefault(stage, time.perf_counter())

    start = time.perf_counter()
    result = assign(mentees, mentors, forbidden=forbidden, progress=progress)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    greedy_matched, greedy = greedy_total(mentees, mentors, forbidden)
    return {
        "size": name,
        "mentees": n_mentees,
        "mentors": n_mentors,
        "seats": seats,
        "seconds": elapsed,
        "scoring_seconds": stages["assigning"] - start,
        "peak_mb": peak_mb,
        "matched": len(result.matches),
        "total": result.total_score,
        "greedy_matched": greedy_matched,
        "greedy_total": greedy,
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

    def summary(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), statistics.quantiles(values, n=20)[18]

    return {"build_ms": build_ms, **{kind: summary(values) for kind, values in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    parser.add_argument("--recommend", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.size:
        print(json.dumps(run_size(args.size, args.seed)))
        return
    if args.recommend:
        print(json.dumps(run_recommend(args.seed)))
        return

    def child(*flags: str) -> dict:
        # A fresh interpreter per measurement: ru_maxrss is the peak of the whole process.
        output = subprocess.run(
            [sys.executable, __file__, "--seed", str(args.seed), *flags],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(output.stdout)

    print("Bulk assignment: scoring + optimal assignment (one fresh process per size)")
    columns = ("mentees", "mentors", "seats", "seconds", "scoring", "peak MB", "matched", "total")
    greedy = ("greedy matched", "greedy total", "optimal gain")
    print(" ".join(f"{c:>8}" for c in columns), " ".join(f"{c:>14}" for c in greedy))
    for name in args.sizes.split(","):
        r = child("--size", name)
        gain = (r["total"] - r["greedy_total"]) / max(1, r["greedy_total"]) * 100
        cells = (
            f"{r['mentees']:,}",
            f"{r['mentors']:,}",
            f"{r['seats']:,}",
            f"{r['seconds']:.2f}",
            f"{r['scoring_seconds']:.2f}",
            f"{r['peak_mb']:.0f}",
            f"{r['matched']:,}",
            f"{r['total']:,}",
        )
        baseline = (f"{r['greedy_matched']:,}", f"{r['greedy_total']:,}", f"+{gain:.1f}%")
        print(" ".join(f"{c:>8}" for c in cells), " ".join(f"{c:>14}" for c in baseline))
    r = child("--recommend")
    print()
    print("recommend() for one mentee against 3,000 mentors, 200 mentees (milliseconds)")
    print(f"  from a list of MentorSlot:  median {r['list'][0]:.1f}  p95 {r['list'][1]:.1f}")
    print(
        f"  from a MentorIndex:         median {r['index'][0]:.1f}  p95 {r['index'][1]:.1f}"
        f"  (built once in {r['build_ms']:.0f} ms)"
    )


if __name__ == "__main__":
    main()
