"""Time to import all five seed collections (parse, extract, merge, write) into a fresh tree.

Usage: python bench/bench_import.py [SEEDS_DIR]   (default: ../shared/seeds next to the repo)
Prints the median of several runs; the bar is "well under a second".
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


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "seeds"
    if not root.is_dir():
        root = Path("/work/shared/seeds")
    times, reimport = [], []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            for prefix, (slug, kw) in SEEDS.items():
                (path,) = root.glob(prefix + "_*")
                run_import([path], slug, out, **kw)
            t1 = time.perf_counter()
            for prefix, (slug, kw) in SEEDS.items():
                (path,) = root.glob(prefix + "_*")
                run_import([path], slug, out, **kw)
            t2 = time.perf_counter()
        times.append(t1 - t0)
        reimport.append(t2 - t1)
    print(f"import of all five seeds: median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f} ms) over {len(times)} runs")
    print(f"re-import over the written tree: median {statistics.median(reimport) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
