"""The size of a scenario run, estimated before any work: periods, pieces, regimes, memory and time.

A scenario that cannot fit (a daily grid over a thousand years, a phase of thousands of steps on
a large baseline) should be refused at once with what to change, not die an hour later
allocating a tensor. `estimate` counts what a run will hold from the scenario's dates and
schedule and the baseline's axes only (no law is evaluated, no period grid is built), and
`check` compares the memory with a limit.

What is counted
---------------
``C = products x exporters x importers`` cells, of which ``T`` have baseline trade. In 8-byte
numbers, a run holds:

- the law and the plan: about ``200 + 16 x regimes`` numbers per traded cell (the rates of
  every regime on the cells the law reaches, the parts of products that measures cover in part,
  the stacking's work arrays and the plan's arrays on parts);
- the path: ``periods x (28 x T + 3 x C)`` numbers (the moving cells' values per period, and the
  results ``[time, product, exporter, importer]``).

The two add up (the plan is kept while the path is built). Draws add a chunk of draws
(`CHUNK_BYTES`) and ``draws x periods x (2 x exporters x importers + 8 x countries)`` numbers (the
ensemble's sums by pair and country), twice over while they are gathered. The factors were fitted
on `tracemalloc` peaks of the bundled scenarios (2026-11-27: 14 scenario files, monthly, weekly,
quarterly and daily grids, phases of 100 and 400 steps; PE), rounded up: the estimate is between
0.67 and 2.5 times what was measured, high for baselines at tariff lines (where a traded cell is
one part) and low for a run whose hundreds of regimes each cut chapters into many parts. The
time is rougher (a factor of 2 either way on the 2-core machine it was fitted on): it is there
to tell seconds from hours.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import asdict, dataclass

import numpy as np

from ..data import Baseline
from ..errors import InputError
from .dynamics import FREQUENCIES
from .scenario import Scenario

__all__ = ["Estimate", "check", "estimate", "memory_limit", "format_bytes", "count_periods"]

#: Numbers (8 bytes each) per traded cell kept by the law and the plan: fixed, and per regime.
LAW_FIXED, LAW_PER_REGIME = 200, 16
#: Numbers per period kept along the path: per traded cell, and per cell of the dense results.
PATH_PER_TRADED, PATH_PER_CELL = 28, 3
#: Memory of one chunk of draws (as `tradesim.ensemble.CHUNK_BYTES`, which sizes the chunks).
CHUNK_BYTES = 2**27
#: Bytes per row of the full cell table (``--cells``): value, four coded coordinates, variable and unit.
CELL_ROW_BYTES = 40
#: Seconds: fixed; per traded cell and regime (the law and the solves); per traded cell and period and
#: per cell and period (the path); per traded cell, regime and draw (an ensemble's draws, in the closed form of
#: the default elasticities: 1,000 draws of us-china-2025 in 7 s; a finite export supply elasticity takes ~15x).
SECONDS_FIXED, SECONDS_LAW, SECONDS_PERIOD, SECONDS_CELL_PERIOD, SECONDS_DRAW = 0.2, 4.5e-7, 2e-7, 7e-8, 1e-8
#: How much slower a solve of a model is than a PE solve of the same size (rough).
MODEL_FACTOR = {"ge": 3.0}
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
        Memory of the law's evaluation, of the model's path, and the peak (bytes).
    seconds : float
        Rough run time.
    sparse : bool
        Whether the baseline is stored on its cells that trade (`Baseline.layout`).
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
        12 monthly periods, 45 pieces, 19 tariff regimes, 67 measures; 98 products x 16 exporters x 16 importers (24,568 cells with trade); memory about ... MiB, time about ... s
        """
        draws = f", {self.draws:,} draws" if self.draws else ""
        return (f"{self.periods:,} {self.frequency} periods, {self.pieces:,} pieces, {self.regimes:,} tariff regimes, "
                f"{self.measures:,} measures{draws}; {self.products:,} products x {self.exporters:,} exporters x "
                f"{self.importers:,} importers ({self.traded:,} cells with trade); memory about "
                f"{format_bytes(self.bytes)}, time about {_format_seconds(self.seconds)}")

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict:
        """The fields as plain values (dates as ISO text), for a run's record."""
        out = asdict(self)
        out.update(start=self.start.isoformat(), end=self.end.isoformat())
        return out


def estimate(scenario: Scenario, baseline: Baseline, *, draws: int | None = None,
             cell_table: bool = False, model_cells: int | None = None) -> Estimate:
    """Estimate the size of a run of `scenario` on `baseline` without doing any of it.

    Counts the periods by calendar arithmetic, the change days of the schedule in the range,
    and the baseline's cells; no law is evaluated and no date grid is built, so a scenario of
    a million periods is estimated in microseconds.

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

    Returns
    -------
    Estimate

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from tradesim.scenario import load_scenario
    >>> s = load_scenario("us-china-2025")
    >>> e = estimate(s, s.load_baseline())
    >>> e.periods, e.regimes, e.pieces, e.measures
    (24, 30, 78, 73)
    >>> e.bytes < 2**30
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
    law = 8 * traded * (LAW_FIXED + LAW_PER_REGIME * regimes)
    path = 8 * periods * (PATH_PER_TRADED * traded + PATH_PER_CELL * cells)
    factor = MODEL_FACTOR.get(scenario.model, 1.0)  # the solves are a share of the law's term
    seconds = (SECONDS_FIXED + factor * SECONDS_LAW * traded * regimes
               + periods * (SECONDS_PERIOD * traded + SECONDS_CELL_PERIOD * cells))
    if draws:
        countries = len(set(baseline.exporters) | set(baseline.importers))
        path += CHUNK_BYTES + 2 * 8 * draws * periods * (2 * i * j + 8 * countries)
        seconds += draws * factor * SECONDS_DRAW * traded * regimes
    if cell_table:
        path += CELL_ROW_BYTES * 8 * periods * traded
        seconds += 1e-6 * 8 * periods * traded  # writing it
    return Estimate(
        scenario=scenario.name, source=scenario.source, start=start, end=end, frequency=freq, periods=periods,
        pieces=pieces, regimes=regimes, measures=measures,
        phase_steps=sum(len(p.steps) for p in scenario.phases), products=k, exporters=i, importers=j, traded=traded,
        draws=draws, cell_table=bool(cell_table), law_bytes=int(law), path_bytes=int(path), bytes=int(law + path), seconds=float(seconds),
        sparse=baseline.layout == "sparse")


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
                f"products")
    if e.sparse:
        todo += ("; this baseline is stored on its cells that trade, and a scenario's path is not (its plan and "
                 "results are [time, product, exporter, importer] tensors): a single change, simulate(baseline, "
                 "(schedule, day), (schedule, day)), stays on the cells")
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
