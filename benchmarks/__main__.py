"""Benchmark harness: prints one table with each case's time and a reference measured in the same run.

    python -m benchmarks [--quick] [--only NAME]

Cases so far:
  load_demo   tradesim.load_baseline("demo-2024") from disk (target: under 1 s), against the
              floor of reading the same CSV with pandas and nothing else.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from importlib import resources


def _time(fn, repeats: int) -> tuple[float, float, float]:
    """Median and spread (min, max) of wall time in seconds over `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def _peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def case_load_demo(repeats: int) -> dict:
    import pandas as pd

    import tradesim
    from tradesim.data import load_baseline

    def load():
        return load_baseline.__wrapped__("demo-2024")  # bypass the cache: read from disk each time

    def floor():
        with resources.files("tradesim.data").joinpath("demo-2024.csv").open() as fh:
            return pd.read_csv(fh, dtype={"product": str})

    load()  # warm imports (pycountry tables) once, as a session would
    med, lo, hi = _time(load, repeats)
    ref, _, _ = _time(floor, repeats)
    b = tradesim.load_baseline("demo-2024")
    return {
        "case": "load_demo",
        "size": f"{len(b.products)}x{len(b.countries)}x1",
        "median_s": med,
        "spread_s": f"{lo:.3f}-{hi:.3f}",
        "peak_mb": _peak_mb(load),
        "reference": "pandas.read_csv of the file",
        "ref_s": ref,
        "ratio": med / ref,
        "target": "< 1 s",
    }


CASES = {"load_demo": case_load_demo}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", choices=sorted(CASES), help="run one case")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    rows = [CASES[name](repeats) for name in ([args.only] if args.only else CASES)]
    header = f"{'case':<12} {'size':<10} {'median s':>9} {'spread s':>13} {'peak MB':>8} {'ref s':>8} {'ratio':>6}  target / reference"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:<12} {r['size']:<10} {r['median_s']:>9.3f} {r['spread_s']:>13} {r['peak_mb']:>8.1f} "
            f"{r['ref_s']:>8.3f} {r['ratio']:>6.1f}  {r['target']} / {r['reference']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
