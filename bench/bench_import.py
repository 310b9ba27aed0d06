"""Time to import task collections (parse, extract, merge, write) into a fresh rules tree.

Usage: python bench/bench_import.py [SHARED_DIR]   (default: ../shared next to the repo)

Prints the median of several runs of
- the five seeds, each as its own campaign (as the committed rules/ were made), then re-imported
  over the written tree;
- a 10-collection edition: the ten task collections of SHARED/collections imported as one campaign
  (`bot rules import A.md … J.md --campaign X`), with the two RFC lists given on the same command.
The bar is "well under a second" for each.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.rules.importer import run_import

SEEDS = {
    "000": ("hackathon-4th-framework", {}),
    "003": ("hackathon-5th-framework", {"number_from": 201, "repos": ["PaddlePaddle/Paddle"]}),
    "004": ("hackathon-7th-suite", {}),
    "002": ("hackathon-7th-camp", {}),
    "001": ("hackathon-8th-camp", {}),
}
RUNS = 5


def _ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {min(xs) * 1000:.0f} ms)"


def main() -> None:
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared"
    seeds = shared / "seeds"
    collections = sorted(p for p in (shared / "collections").glob("*/*.md"))
    tasks_files = [p for p in collections if "rfc" not in p.name.lower()]
    times, reimport, edition = [], [], []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            for prefix, (slug, kw) in SEEDS.items():
                (path,) = seeds.glob(prefix + "_*")
                run_import([path], slug, out, **kw)
            t1 = time.perf_counter()
            for prefix, (slug, kw) in SEEDS.items():
                (path,) = seeds.glob(prefix + "_*")
                run_import([path], slug, out, **kw)
            t2 = time.perf_counter()
            report = run_import(collections, "edition", out)
            t3 = time.perf_counter()
        times.append(t1 - t0)
        reimport.append(t2 - t1)
        edition.append(t3 - t2)
    print(f"import of all five seeds: {_ms(times)} over {RUNS} runs")
    print(f"re-import over the written tree: {_ms(reimport)}")
    print(
        f"a {len(tasks_files)}-collection edition ({report.tasks} tasks, {len(collections) - len(tasks_files)} RFC lists) as one campaign: {_ms(edition)}"
    )


if __name__ == "__main__":
    main()
