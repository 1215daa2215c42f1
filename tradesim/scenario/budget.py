"""The size of a scenario run, estimated before any work: periods, pieces, regimes, memory and time.

A scenario that cannot fit (a daily grid over a thousand years, a phase of thousands of steps on
a large baseline) should be refused at once with what to change, not die an hour later
allocating a tensor. `estimate` counts what a run will hold from the scenario's dates and
schedule and the baseline's axes only (no law is evaluated, no period grid is built), and
`check` compares the memory with a limit.

What is counted
---------------
``C = products x exporters x importers`` cells, of which ``T`` have baseline trade. Where the law
lists lines finer than the products, it cuts products into parts (covered and uncovered lines
apart) and the run works on parts: `count_parts` bounds them from the finer lines without
evaluating the law, ``P`` parts of products and ``Q`` traded cells ``(part, exporter,
importer)`` (on demo-2024 with fine-values-2024: 11,090 and 2.8 million, where tariffs-2025
has 10,683 and 2.7 million and us-china-2025 3,813 and 0.95 million). In 8-byte numbers, a
run holds:

- the law and the plan: ``(400 + 4 x regimes) x T + 0.5 x regimes x Q`` (the rates of every
  regime on the cells the law reaches, the stacking's work arrays, the plan's arrays on parts);
- the path: ``periods x (16 x T + C)`` (the moving cells' values per period, and the results
  ``[time, product, exporter, importer]``);
- general equilibrium: 4 arrays ``[regime, part, exporter, importer]``, ``4 x regimes x P x
  exporters x importers`` (`MODEL_ARRAYS`: its solves on every cell of parts), counted with the
  law (``Estimate.law_bytes``: what fewer regimes or parts shrink, not fewer periods).

They add up (the plan is kept while the path is built). Draws add a chunk of draws
(`CHUNK_BYTES`) and ``draws x periods x (2 x exporters x importers + 8 x countries)`` numbers (the
ensemble's sums by pair and country), twice over while they are gathered. The factors were fitted
(2026-11-27, rounded) on `tracemalloc` peaks of runs of the bundled scenarios, each in a fresh
process (``ru_maxrss`` is the resident peak of that process, 210-260 MiB of it the interpreter,
the packages and the baseline before the run; ratio: the estimate over the `tracemalloc` peak).
Every row was measured again (the phase row excepted) after GE paths began to read their solves
a chunk at a time and to form products chunk by chunk, which cut their peaks by a third to almost
three quarters; the factors were kept: lowering them would let tariffs-2025, whose cells mostly move,
through at under half its need in PE, and GE's estimate counts the parts the law can cut
products into at most (11,090 for us-china-2025 with fine values), not the 3,816 it does:

================== ===== =============== ================ ============ ======= ======== =========== ======== =====
scenario           model baseline        fine values      to, grid     regimes estimate tracemalloc resident ratio
================== ===== =============== ================ ============ ======= ======== =========== ======== =====
us-china-2025      pe    demo-2024       fine-values-2024 2026 monthly 36      567 MiB  219 MiB     481 MiB  2.59
us-china-2025      pe    demo-2024       --               2026 monthly 36      376 MiB  179 MiB     405 MiB  2.10
april-peak         pe    demo-2024       fine-values-2024 2025 monthly 25      402 MiB  203 MiB     452 MiB  1.98
truce-lapse        pe    demo-2024       fine-values-2024 2027 monthly 36      605 MiB  231 MiB     526 MiB  2.62
us-china-2025      pe    demo-2024       fine-values-2024 2026 weekly  36      825 MiB  389 MiB     705 MiB  2.12
us-china-2025      pe    demo-2024       fine-values-2024 2025 daily   30      1.5 GiB  1013 MiB    1.4 GiB  1.57
phase of 400 steps pe    demo-2024       fine-values-2024 2027 monthly 406     4.8 GiB  2.2 GiB     2.6 GiB  2.20
tariffs-2025       pe    us-imports-2024 us-imports-2024  2025-09      32      772 MiB  443 MiB     819 MiB  1.74
tariffs-2025       pe    us-imports-2024 us-imports-2024  2026 monthly 45      1.1 GiB  844 MiB     1.3 GiB  1.37
tariffs-2025       pe    demo-2024       fine-values-2024 2026 monthly 45      671 MiB  776 MiB     1.1 GiB  0.86
tariffs-2025       pe    demo-2024       --               2026 monthly 45      432 MiB  562 MiB     904 MiB  0.77
us-china-2025      ge    demo-2024       fine-values-2024 2025-06      20      2.0 GiB  876 MiB     1.1 GiB  2.35
us-china-2025      ge    demo-2024       fine-values-2024 2026 monthly 36      3.6 GiB  1.3 GiB     1.6 GiB  2.70
us-china-2025      ge    demo-2024       fine-values-2024 2026 weekly  36      3.9 GiB  1.4 GiB     1.7 GiB  2.68
us-china-2025      ge    demo-2024       --               2026 monthly 36      1.9 GiB  987 MiB     1.2 GiB  1.98
tariffs-2025       ge    demo-2024       fine-values-2024 2025-05      19      1.9 GiB  2.1 GiB     2.4 GiB  0.91
tariffs-2025       ge    demo-2024       fine-values-2024 2026 monthly 45      4.5 GiB  4.4 GiB     4.7 GiB  1.01
tariffs-2025       ge    demo-2024       --               2026 monthly 45      2.3 GiB  2.1 GiB     2.4 GiB  1.10
================== ===== =============== ================ ============ ======= ======== =========== ======== =====

The estimate is between 0.77 and 2.7 times the `tracemalloc` peak (0.48 to 2.3 times the resident
one): high where the law cuts products into fewer parts than they have lines (us-china-2025 has
a third of the bound), where most cells of a moving market keep their tariff (they share one
path), or where hundreds of regimes share the same cut, low where the law reaches
most cells of most parts (tariffs-2025 in PE). Before
the parts were counted, tariffs-2025 in general equilibrium was estimated at 0.3 GiB (0.05 of
its peak). The time is rougher (a factor of 2 either way on the 2-core machine it was fitted
on): it is there to tell seconds from hours.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass

from functools import lru_cache

import numpy as np
import pandas as pd

from ..codes import hs_subheadings
from ..data import Baseline
from ..data.bundled import load_fine_values
from ..errors import InputError
from .dynamics import FREQUENCIES
from .scenario import Scenario

__all__ = ["Estimate", "check", "count_parts", "estimate", "memory_limit", "format_bytes", "count_periods"]

#: Numbers (8 bytes each) kept by the law and the plan: per traded cell, per traded cell and regime, and per
#: traded cell of parts (`count_parts`) and regime.
LAW_FIXED, LAW_PER_REGIME, LAW_PER_PART_REGIME = 400, 4, 0.5
#: Numbers per period kept along the path: per traded cell, and per cell of the dense results.
PATH_PER_TRADED, PATH_PER_CELL = 16, 1
#: Arrays ``[regime, part, exporter, importer]`` of 8-byte numbers that a model's solves hold at once (the
#: models that solve every cell of parts for every regime: general equilibrium).
MODEL_ARRAYS = {"ge": 4}
#: Memory a chunk of draws' per-pair arrays may take, bytes: sets the ensemble's default chunk size
#: (`tradesim.ensemble.run`). Measured on 1,000 draws of us-china-2025 (2 cores, 2026-11-27): chunks of 4 to 9
#: draws (about 11 MiB each) ran 8% faster than chunks of 12 (128 MiB), whose largest arrays pass glibc's
#: 32 MiB ceiling for reusing freed memory and are mapped, and written the first time, afresh in every chunk.
CHUNK_BYTES = 2**26
#: Bytes per row of the full cell table (``--cells``): value, four coded coordinates, variable and unit.
CELL_ROW_BYTES = 40
#: Seconds: fixed; per traded cell and regime (the law and the solves); per traded cell of parts and regime
#: (the law on parts); per traded cell and period and per cell and period (the path); per traded cell, regime
#: and draw (an ensemble's draws, in the closed form of the default elasticities: 1,000 draws of us-china-2025
#: in 7 s; a finite export supply elasticity takes ~15x).
SECONDS_FIXED, SECONDS_LAW, SECONDS_PARTS, SECONDS_PERIOD, SECONDS_CELL_PERIOD, SECONDS_DRAW = (
    0.2, 4.5e-7, 1e-8, 2e-7, 7e-8, 1e-8)
#: Seconds per cell of ``[regime, part, exporter, importer]`` of a model in `MODEL_ARRAYS` (its solves).
MODEL_SECONDS = {"ge": 2e-7}
#: Share of physical memory a run may take by default, and the limit when that is unknown.
MEMORY_SHARE, MEMORY_FALLBACK = 0.6, 8 * 2**30


@dataclass(frozen=True)
class Estimate:
    """What a scenario run will hold and roughly how long it takes (see the module notes).

    Attributes
    ----------
    scenario, source : str
        The scenario's name and file.
    start, end : datetime.date
    frequency : str
    periods : int
        Periods of the date grid.
    pieces : int
        Periods cut at the days the tariffs change (one model solve each, at most).
    regimes : int
        Tariff regimes: the reference tariffs and one per change of the law in the range.
    measures : int
        Measures of the schedule, phase steps counted one each.
    phase_steps : int
        Steps of the scenario's phases (each a measure and, in the range, a regime).
    products, exporters, importers : int
        The baseline's axes.
    traded : int
        Cells with baseline trade.
    draws : int or None
        Draws of an ensemble run.
    cell_table : bool
        Whether the full table of cells is counted.
    law_bytes, path_bytes, bytes : int
        Memory of what grows with the regimes (the law's evaluation, the plan, a model's arrays
        by regime), of what grows with the periods (the model's path), and the peak (bytes).
    seconds : float
        Rough run time.
    sparse : bool
        Whether the baseline is stored on its cells that trade (`Baseline.layout`).
    parts, traded_parts : int
        Parts the law cuts products into, and cells ``(part, exporter, importer)`` with trade: bounds
        from the finer lines, without evaluating the law (`count_parts`; 0 in estimates made before them).
    model : str
        The model the estimate is for.
    """

    scenario: str
    source: str
    start: dt.date
    end: dt.date
    frequency: str
    periods: int
    pieces: int
    regimes: int
    measures: int
    phase_steps: int
    products: int
    exporters: int
    importers: int
    traded: int
    draws: int | None
    cell_table: bool
    law_bytes: int
    path_bytes: int
    bytes: int
    seconds: float
    sparse: bool = False
    parts: int = 0
    traded_parts: int = 0
    model: str = ""

    @property
    def cells(self) -> int:
        """``products x exporters x importers``."""
        return self.products * self.exporters * self.importers

    def describe(self) -> str:
        """One line: the counts, the memory and the time.

        Examples
        --------
        >>> import warnings; warnings.simplefilter("ignore")
        >>> from tradesim.scenario import load_scenario
        >>> s = load_scenario("april-peak")
        >>> print(estimate(s, s.load_baseline()).describe())  # doctest: +ELLIPSIS
        12 monthly periods, ... pieces, ... tariff regimes, ... measures; 98 products x 16 exporters x 16 importers (24,568 cells with trade; products cut into at most 11,090 parts); memory about ... MiB, time about ... s
        """
        draws = f", {self.draws:,} draws" if self.draws else ""
        cut = f"; products cut into at most {self.parts:,} parts" if self.parts > self.products else ""
        return (f"{self.periods:,} {self.frequency} periods, {self.pieces:,} pieces, {self.regimes:,} tariff regimes, "
                f"{self.measures:,} measures{draws}; {self.products:,} products x {self.exporters:,} exporters x "
                f"{self.importers:,} importers ({self.traded:,} cells with trade{cut}); memory about "
                f"{format_bytes(self.bytes)}, time about {_format_seconds(self.seconds)}")

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict:
        """The fields as plain values (dates as ISO text), for a run's record."""
        out = asdict(self)
        out.update(start=self.start.isoformat(), end=self.end.isoformat())
        return out


def estimate(scenario: Scenario, baseline: Baseline, *, draws: int | None = None,
             cell_table: bool = False, model_cells: int | None = None, model: str | None = None,
             fine_values=None) -> Estimate:
    """Estimate the size of a run of `scenario` on `baseline` without doing any of it.

    Counts the periods by calendar arithmetic, the change days of the schedule in the range,
    the baseline's cells and the parts the law can cut products into (`count_parts`); no law is
    evaluated and no date grid is built, so a scenario of a million periods is estimated in
    milliseconds.

    Parameters
    ----------
    scenario : Scenario
    baseline : Baseline
        Its axes and which cells trade (for the reference day, its year when the scenario
        gives no ``reference``).
    draws : int, optional
        Draws of an ensemble run (`tradesim.ensemble.run`).
    cell_table : bool
        Count the full table of cells (``to_frame(level="cell")``, ``tradesim run --cells``).
    model_cells : int, optional
        Cells of the model's arrays when they are not the baseline's ``products x exporters x
        importers`` (a plan that splits products into parts the law treats alike); counted
        for the path's memory and time.
    model : str, optional
        The model that runs (``tradesim run --model``, ``simulate(..., model=)``); the
        scenario's when None. General equilibrium holds ``[regime, part, exporter, importer]``
        arrays (`MODEL_ARRAYS`).
    fine_values : optional
        The fine values the run uses when not the scenario's (as `tradesim.simulate` takes them).

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from tradesim.scenario import load_scenario
    >>> s = load_scenario("us-china-2025")
    >>> e = estimate(s, s.load_baseline())
    >>> e.periods, e.parts, e.traded_parts  # 98 chapters cut into at most 11,090 parts by their lines
    (24, 11090, 2827256)
    >>> e.regimes > 1 and e.pieces >= e.periods and e.bytes < 2**30
    True
    >>> estimate(s, s.load_baseline(), model="ge").bytes > 4 * e.bytes  # [regime, part, exporter, importer]
    True
    """
    if not isinstance(scenario, Scenario):
        raise InputError(f"expected a Scenario, got {type(scenario).__name__}", key="scenario")
    if not isinstance(baseline, Baseline):
        raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
    start, end, freq = scenario.start, scenario.end, scenario.frequency
    periods = count_periods(start, end, freq)
    last = _next_anchor(end, freq)  # the end of the last period
    ref = scenario.reference_date(baseline)
    changes = [d for d in scenario.schedule.change_dates() if ref < d < last]
    regimes = 1 + len(changes)
    cuts = {d for d in changes if start < d}
    if scenario.dynamics.front_loading > 0:  # announcement and payback days cut periods too
        payback = dt.timedelta(days=round(scenario.dynamics.payback_months * 365.25 / 12))
        early: dict[dt.date, dt.date] = {}  # per change day, the earliest announcement (as the plan takes it)
        for m in scenario.schedule.measures:
            if m.announced and m.start in cuts and ref < m.announced < m.start:
                early[m.start] = min(early.get(m.start, m.announced), m.announced)
        for day, announced in early.items():
            cuts |= {announced, day + payback}
    pieces = periods + sum(1 for d in cuts if start < d < last and not _is_anchor(d, freq))
    measures = len(scenario.schedule.measures)
    k, i, j = len(baseline.products), len(baseline.exporters), len(baseline.importers)
    cells = k * i * j if model_cells is None else int(model_cells)
    # a sparse baseline counts its cells without building its dense flows
    traded = int(np.count_nonzero(baseline.sparse_flows.values if baseline.layout == "sparse" else baseline.flows))
    parts, traded_parts = count_parts(scenario, baseline, fine_values)
    model = scenario.model if model is None else model
    dense = regimes * parts * i * j  # cells of a model's [regime, part, exporter, importer] arrays
    # a model's arrays by regime count with the law: fewer regimes or parts, not periods, shrink them
    law = 8 * (traded * (LAW_FIXED + LAW_PER_REGIME * regimes) + LAW_PER_PART_REGIME * traded_parts * regimes
               + MODEL_ARRAYS.get(model, 0) * dense)
    path = 8 * periods * (PATH_PER_TRADED * traded + PATH_PER_CELL * cells)
    solves = MODEL_SECONDS.get(model, 0.0) * dense
    seconds = (SECONDS_FIXED + SECONDS_LAW * traded * regimes + SECONDS_PARTS * traded_parts * regimes + solves
               + periods * (SECONDS_PERIOD * traded + SECONDS_CELL_PERIOD * cells))
    if draws:
        countries = len(set(baseline.exporters) | set(baseline.importers))
        path += CHUNK_BYTES + 2 * 8 * draws * periods * (2 * i * j + 8 * countries)
        seconds += draws * (SECONDS_DRAW * traded * regimes + solves)  # a model's solves again for each draw
    if cell_table:
        path += CELL_ROW_BYTES * 8 * periods * traded
        seconds += 1e-6 * 8 * periods * traded  # writing it
    return Estimate(
        scenario=scenario.name, source=scenario.source, start=start, end=end, frequency=freq, periods=periods,
        pieces=pieces, regimes=regimes, measures=measures,
        phase_steps=sum(len(p.steps) for p in scenario.phases), products=k, exporters=i, importers=j, traded=traded,
        draws=draws, cell_table=bool(cell_table), law_bytes=int(law), path_bytes=int(path), bytes=int(law + path), seconds=float(seconds),
        sparse=baseline.layout == "sparse", parts=parts, traded_parts=traded_parts, model=model)


def count_parts(scenario: Scenario, baseline: Baseline, fine_values=None) -> tuple[int, int]:
    """Bound the parts the law cuts products into, without evaluating it.

    The law cuts a product into parts only where its measures use finer codes than the product
    (`tradesim.law.TariffSchedule.codes_of`), and then along the product's finer lines: those of
    the fine values (every line of the table under the product, whichever pair it is for), or
    the HS 2022 subheadings under it when the table has none (`tradesim.law.atoms`). A part
    gathers lines of equal law, so a product has at most as many parts as lines. Each part
    holds the product's trade on every pair that has it (a pair without finer values shares
    it out equally), so the traded cells of parts are the product's traded cells times its
    parts.

    Parameters
    ----------
    scenario : Scenario
    baseline : Baseline
    fine_values : optional
        As `tradesim.simulate` takes them: a bundled name or path, a table, a Series or a
        Baseline; the scenario's own (``Scenario.fine_values``) when None.

    Returns
    -------
    parts : int
        Parts of products, at most (the length of the ``part`` axis of ``[part, exporter,
        importer]`` tensors); the number of products when the law cuts nothing.
    traded : int
        Cells ``(part, exporter, importer)`` with trade, at most.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from tradesim.scenario import load_scenario
    >>> s = load_scenario("tariffs-2025").on_baseline("demo-2024", "fine-values-2024")
    >>> count_parts(s, s.load_baseline())
    (11090, 2827256)
    """
    products = np.asarray(baseline.products, dtype=str)
    n_pairs = len(baseline.exporters) * len(baseline.importers)
    if baseline.layout == "sparse":  # its cells with trade, without building its dense flows
        flows = baseline.sparse_flows
        traded = np.bincount(flows.cells.index[flows.values != 0] // n_pairs, minlength=products.size)
    else:
        traded = np.count_nonzero(baseline.flows.reshape(products.size, -1), axis=1)
    if fine_values is None:
        fine_values = scenario.fine_values
    lines = _lines_under(products, _fine_codes(fine_values))
    short = (lines == 0) & (np.char.str_len(products) < 6)  # no finer values: the subheadings under it
    if short.any():  # (the HS table is read on first use)
        lines[short] = _lines_under(products[short], hs_subheadings())
    parts = np.where(_cut(products, scenario.schedule.codes_of(baseline.importers)), np.maximum(lines, 1), 1)
    return int(parts.sum()), int(traded @ parts)


def _cut(products: np.ndarray, codes) -> np.ndarray:
    """``[product]`` bool: whether some of `codes` is finer than the product and under it."""
    codes = np.asarray(codes, dtype=str)
    out = np.zeros(products.shape, bool)
    if not (products.size and codes.size):
        return out
    lengths, code_lengths = np.char.str_len(products), np.char.str_len(codes)
    for n in np.unique(lengths):  # a few code lengths
        finer = np.unique(codes[code_lengths > n].astype(f"<U{n}"))  # cut to the product's length
        out |= (lengths == n) & np.isin(products, finer)
    return out


def _lines_under(products: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``[product]``: how many of the sorted, distinct `codes` are finer than each product and under it."""
    if not (products.size and codes.size):
        return np.zeros(products.size, np.int64)
    # the codes under a prefix are the run from the prefix to prefix + "A" ("A" sorts after every digit)
    lo = np.searchsorted(codes, products, side="left")
    hi = np.searchsorted(codes, np.char.add(products, "A"), side="left")
    same = (lo < codes.size) & (codes[np.minimum(lo, codes.size - 1)] == products)  # the product's own code
    return (hi - lo - same).astype(np.int64)


def _fine_codes(fine_values) -> np.ndarray:
    """The sorted, distinct product codes of fine values (empty for None); by name or path, read once."""
    if fine_values is None:
        return np.zeros(0, dtype=str)
    if isinstance(fine_values, (str, os.PathLike)):
        ref = os.fspath(fine_values)
        try:  # a file changed since it was read is read again
            stat = os.stat(ref)
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:  # a bundled name
            stamp = None
        return _fine_codes_of(ref, stamp)
    if isinstance(fine_values, Baseline):
        return np.unique(np.asarray(fine_values.products, dtype=str))
    if isinstance(fine_values, pd.Series):
        return np.unique(fine_values.index.astype(str))
    if isinstance(fine_values, pd.DataFrame) and "product" in fine_values.columns:
        return np.unique(pd.unique(fine_values["product"]).astype(str))  # hashing first: few codes, many rows
    return np.zeros(0, dtype=str)  # the run will say what is wrong with them


@lru_cache(maxsize=8)
def _fine_codes_of(ref: str, stamp) -> np.ndarray:
    """`_fine_codes` of bundled fine values or a file (`stamp`: its modification time and size)."""
    codes = _fine_codes(load_fine_values(ref))
    codes.setflags(write=False)  # shared by every caller
    return codes


def check(estimate: Estimate, limit_bytes: int | None = None) -> Estimate:
    """Refuse a run whose memory estimate is above `limit_bytes`; returns the estimate when it fits.

    Parameters
    ----------
    estimate : Estimate
        From `estimate` (``check(estimate(scenario, baseline))``).
    limit_bytes : int, optional
        The most memory the run may take; `memory_limit()` (60% of the machine's physical
        memory, or 8 GiB when that is unknown) when None; ``math.inf`` checks nothing.

    Raises
    ------
    InputError
        With the estimate, what drives it and what to change: fewer periods or phase steps,
        a coarser frequency, a shorter range.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from tradesim.scenario import load_scenario
    >>> s = load_scenario("april-peak")
    >>> e = check(estimate(s, s.load_baseline()))
    >>> check(e, limit_bytes=2**20)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    tradesim.errors.InputError: ...april-peak.toml: scenario.end: scenario 'april-peak' would need about ... of memory, more than ...
    """
    if limit_bytes is not None and math.isinf(limit_bytes):  # no limit
        return estimate
    limit = memory_limit() if limit_bytes is None else int(limit_bytes)
    if estimate.bytes <= limit:
        return estimate
    e = estimate
    grid = e.path_bytes >= e.law_bytes  # the date grid drives the memory, not the regimes
    if grid:
        key = "scenario.frequency"
        coarser = {"daily": "weekly or monthly", "weekly": "monthly", "monthly": "quarterly",
                   "quarterly": "annual"}.get(e.frequency)
        todo = (f"shorten the range ({e.start} to {e.end}: {e.periods:,} {e.frequency} periods)"
                + (f", use a coarser frequency ({coarser})" if coarser else "")
                + (f", fewer draws ({e.draws:,})" if e.draws else "")
                + (", or leave out the full cell table" if e.cell_table else ""))
    else:
        key = "phases" if 2 * e.phase_steps >= e.regimes else "scenario.end"
        todo = (f"use fewer phase steps ({e.phase_steps:,}) or measures ({e.measures:,}) in the range, "
                f"a shorter range ({e.start} to {e.end}: {e.regimes:,} tariff regimes), or a baseline with fewer "
                f"products" + (f" (or fine values at fewer lines: the law may cut its products into up to "
                               f"{e.parts:,} parts)" if e.parts > e.products else ""))
    if e.sparse:
        todo += ("; this baseline is stored on its cells that trade, and a scenario's path stays on them only where "
                 "every market clears by itself (PE with perfectly elastic export supply, epsilon = inf: the path "
                 "then runs on the importers whose law the scenario holds); otherwise its plan and results are "
                 "[time, product, exporter, importer] tensors. A single change, simulate(baseline, (schedule, day), "
                 "(schedule, day)), stays on the cells with any model that takes them; for a path of such a model, "
                 "sum the baseline to coarser products first (baseline.aggregate(products=\"chapter\"), which "
                 "works on the cells)")
    why = "" if limit_bytes is not None else f" ({100 * MEMORY_SHARE:.0f}% of this machine's memory)"
    raise InputError(f"scenario {e.scenario!r} would need about {format_bytes(e.bytes)} of memory, more than the "
                     f"limit of {format_bytes(limit)}{why}: {e.describe()}; to run it, {todo}",
                     source=e.source or None, key=key)


def memory_limit() -> int:
    """Default memory limit of a run: 60% of physical memory (``os.sysconf``), or 8 GiB if unknown.

    Examples
    --------
    >>> memory_limit() > 0
    True
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return MEMORY_FALLBACK
    return int(MEMORY_SHARE * total) if total > 0 else MEMORY_FALLBACK


def format_bytes(n: float) -> str:
    """Bytes in binary units.

    Examples
    --------
    >>> format_bytes(3 * 2**30), format_bytes(1536)
    ('3.0 GiB', '1.5 KiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _format_seconds(s: float) -> str:
    if s < 10:
        return f"{s:,.1f} s"
    if s < 90:
        return f"{s:,.0f} s"
    if s < 5400:
        return f"{s / 60:,.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:,.1f} h"
    return f"{s / 86400:,.0f} days"


# --------------------------------------------------------------------------- calendar arithmetic


def count_periods(start: dt.date, end: dt.date, frequency: str) -> int:
    """Number of periods of `tradesim.scenario.dynamics.periods` (start, then each anchor up to end), by arithmetic.

    Examples
    --------
    >>> count_periods(dt.date(2025, 1, 15), dt.date(2025, 3, 31), "monthly")
    3
    >>> count_periods(dt.date(1025, 3, 1), dt.date(2026, 12, 31), "daily")
    365914
    """
    if frequency not in FREQUENCIES:
        raise InputError(f"{frequency!r} is not a frequency: expected one of {list(FREQUENCIES)}", key="frequency")
    if end < start:
        return 0
    if frequency == "daily":
        return (end - start).days + 1
    if frequency == "weekly":  # Mondays in (start, end]; day 1 of the proleptic calendar is a Monday
        return 1 + (end.toordinal() - 1) // 7 - (start.toordinal() - 1) // 7
    months = {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
    return 1 + _block(end, months) - _block(start, months)


def _block(day: dt.date, months: int) -> int:
    """Index of the month, quarter or year that `day` is in."""
    return (day.year * 12 + day.month - 1) // months


def _is_anchor(day: dt.date, frequency: str) -> bool:
    """Whether a period starts on `day` (for days after the scenario's start)."""
    if frequency == "daily":
        return True
    if frequency == "weekly":
        return day.weekday() == 0
    months = {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
    return day.day == 1 and (day.month - 1) % months == 0


def _next_anchor(day: dt.date, frequency: str) -> dt.date:
    """The first period start after `day` (the end of the period that holds `day`)."""
    try:
        if frequency == "daily":
            return day + dt.timedelta(days=1)
        if frequency == "weekly":
            return day + dt.timedelta(days=7 - day.weekday())
    except OverflowError:
        return dt.date.max
    months = {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
    index = (_block(day, months) + 1) * months
    year, month = divmod(index, 12)
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month + 1, 1)
