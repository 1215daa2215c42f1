"""Measuring: wall time over repeats, peak memory, the memory-streaming floor, the table and scaling fits."""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["Row", "fit_exponent", "peak_mb", "stream_floor", "table", "timed"]


@dataclass
class Row:
    """One line of the table.

    Attributes
    ----------
    case : str
    products, countries, draws : int
        The size: products (or sectors, or tariff lines) x countries x elasticity draws.
    median_s, low_s, high_s : float
        Median, fastest and slowest wall time over `repeats` calls, seconds.
    repeats : int
    peak_mb : float
        Peak memory the call allocates (tracemalloc, so numpy arrays included), MiB; NaN
        where the work runs in other processes.
    pairs : int
        Product-pair cells of the output per call (times draws): ``pairs / median_s`` is the
        throughput.
    reference : str
        What the reference is (and how far its answer is from ours, where it has one).
    ref_s : float or None
        The reference's wall time in the same run (None when it is not available).
    floor_s : float
        Time to read every input once through memory (`stream_floor`).
    target : str
        The performance target, if the case has one.
    """

    case: str
    products: int
    countries: int
    draws: int
    median_s: float
    low_s: float
    high_s: float
    repeats: int
    peak_mb: float
    pairs: int
    reference: str
    ref_s: float | None
    floor_s: float
    target: str = ""

    @property
    def size(self) -> str:
        return f"{self.products}x{self.countries}x{self.draws}"

    @property
    def throughput(self) -> float:
        """Pairs solved per second."""
        return self.pairs / self.median_s

    @property
    def ratio(self) -> float:
        """Median time over the reference's (below 1: faster than the reference)."""
        return self.median_s / self.ref_s if self.ref_s else math.nan

    @property
    def over_floor(self) -> float:
        """Median time over the floor of streaming the inputs once."""
        return self.median_s / self.floor_s if self.floor_s else math.nan

    def to_dict(self) -> dict:
        return {**asdict(self), "size": self.size, "throughput": self.throughput, "ratio": self.ratio,
                "over_floor": self.over_floor}


def timed(fn, repeats: int, warm: bool = True) -> tuple[float, float, float]:
    """Median, fastest and slowest wall time of `fn()` over `repeats` calls, seconds.

    One untimed call first (`warm`), as a session would have made: imports, caches and page
    faults of first use are not the steady cost.
    """
    if warm:
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def peak_mb(fn) -> float:
    """Peak memory allocated while `fn()` runs, MiB (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def stream_floor(*arrays, repeats: int = 5) -> float:
    """The fastest of `repeats` passes that read every byte of `arrays` once (a sum of each).

    No computation on the same inputs can beat this by much: it is the memory-bandwidth floor.
    """
    arrays = [np.asarray(a) for a in arrays if np.size(a) > 1]
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for a in arrays:
            np.add.reduce(a, axis=None)
        best = min(best, time.perf_counter() - t0)
    return best


def fit_exponent(sizes, seconds) -> float:
    """Slope of log(time) on log(size) by least squares: time grows like size ** slope."""
    sizes, seconds = np.asarray(sizes, float), np.asarray(seconds, float)
    if sizes.size < 2 or np.unique(sizes).size < 2:
        return math.nan
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def _num(x: float | None, fmt: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


COLUMNS = ("case", "size", "median s", "spread s", "peak MB", "pairs/s", "ref s", "x ref", "floor s", "x floor")


def table(rows: list[Row]) -> str:
    """The table as text: one line per row, then each row's reference and target below it."""
    cells = [[r.case, r.size, _num(r.median_s, ".4g"), f"{r.low_s:.3g}-{r.high_s:.3g}", _num(r.peak_mb, ".1f"),
              _num(r.throughput, ".3g"), _num(r.ref_s, ".4g"), _num(r.ratio, ".3g"), _num(r.floor_s, ".2g"),
              _num(r.over_floor, ".3g")] for r in rows]
    widths = [max(len(c), *(len(row[k]) for row in cells)) for k, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) if k < 2 else c.rjust(w) for k, (c, w) in enumerate(zip(COLUMNS, widths)))
    out = [line, "-" * len(line)]
    for row in cells:
        out.append("  ".join(c.ljust(w) if k < 2 else c.rjust(w) for k, (c, w) in enumerate(zip(row, widths))))
    out.append("")
    out.append("size: products (or sectors, or tariff lines) x countries x draws; spread: fastest-slowest of the repeats;")
    out.append("pairs/s: product-pair cells of the output (times draws) per second; x ref and x floor: the median over")
    out.append("the reference's time and over the time to read the inputs once. References and targets:")
    for r in rows:
        out.append(f"  {r.case} {r.size}: {r.reference}" + (f"; target {r.target}" if r.target else ""))
    return "\n".join(out)
