"""How long the three-way merge of shared notes takes at the notes' size limit (printed, never failing).

.venv/bin/python benchmarks/notes_merge.py
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.journals.services import NOTES_MAX, merge_notes  # noqa: E402


def main() -> None:
    rng = random.Random(1)
    lines = NOTES_MAX // 50
    base = [f"line {i}: " + "x" * 40 for i in range(lines)]
    for edits in (5, 20, 100):
        theirs, mine = list(base), list(base)
        for i in rng.sample(range(lines), edits):
            theirs[i] += " (theirs)"
        for i in rng.sample(range(lines), edits):
            mine[i] += " (mine)"
        texts = ["\n".join(x) for x in (base, theirs, mine)]
        runs = 10
        start = time.perf_counter()
        for _ in range(runs):
            merged = merge_notes(*texts)
        took = (time.perf_counter() - start) / runs * 1000
        print(f"{len(texts[0]):,} characters, {lines} lines, {edits} edits each side: "
              f"{took:.1f} ms per merge, {merged.conflicts} conflicts marked")  # fmt: skip


if __name__ == "__main__":
    main()
