"""Scenarios: a tariff path over a date grid, with its baseline, model, elasticities and dynamics.

A `Scenario` is read from a TOML file by `load_scenario` (the format is in ``docs/scenarios.md``
and `tradesim.io.scenario`). Phased changes (`Phase`) become measures of the schedule: a measure
cut in three steps is split into four measures, one per rate, so `TariffSchedule.explain` shows
which step applied on a day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .dynamics import Dynamics, periods
from .elasticities import Elasticities
from .errors import InputError
from .tariffs import Measure, TariffSchedule

__all__ = ["Phase", "Scenario", "apply_phases", "list_scenarios", "load_scenario"]


@dataclass(frozen=True)
class Phase:
    """A stepwise change of one measure's rate: explicit dated steps, or equal steps.

    Parameters
    ----------
    measure : str
        Name of the measure whose rate changes.
    steps : tuple of (date, float)
        Explicit steps: the day of each and the rate (fraction) from that day, in date order.
    to_rate : float, optional
        Equal steps instead: the rate (fraction) after the last one,
    count : int
        in this many steps,
    first : date, optional
        the first on this day,
    every : pandas.DateOffset, optional
        and the others this far apart,
    from_rate : float, optional
        starting from this rate (the measure's own rate when None).
    announced : date, optional
        Day the steps were made public.
    source, notes : str

    Examples
    --------
    >>> p = Phase("x", to_rate=0.10, count=3, first=dt.date(2025, 6, 1), every=pd.DateOffset(days=90))
    >>> [(str(d), round(r, 2)) for d, r in p.steps_from(1.45)]
    [('2025-06-01', 1.0), ('2025-08-30', 0.55), ('2025-11-28', 0.1)]
    """

    measure: str
    steps: tuple[tuple[dt.date, float], ...] = ()
    to_rate: float | None = None
    count: int = 1
    first: dt.date | None = None
    every: pd.DateOffset | None = None
    from_rate: float | None = None
    announced: dt.date | None = None
    source: str = ""
    notes: str = ""

    def steps_from(self, rate: float) -> tuple[tuple[dt.date, float], ...]:
        """The dated steps, for a measure whose rate is `rate` (fraction) before them."""
        if self.steps:
            return self.steps
        start = rate if self.from_rate is None else self.from_rate
        every = self.every or pd.DateOffset(days=0)
        days = [(pd.Timestamp(self.first) + k * every).date() for k in range(self.count)]
        return tuple((d, start + (self.to_rate - start) * (k + 1) / self.count) for k, d in enumerate(days))


def step_name(measure: str, day: dt.date) -> str:
    """Name of the measure that holds a phase's step from `day`."""
    return f"{measure}@{day.isoformat()}"


def apply_phases(measures: tuple[Measure, ...], phases: tuple[Phase, ...]) -> tuple[tuple[Measure, ...], tuple, list]:
    """Split each phased measure into one measure per rate.

    The measure keeps its name and ends on the first step; step ``k`` is a copy named
    ``"<measure>@<day>"`` in force until the next step (the last until the measure's own end).
    Measures that replace a phased measure replace its steps too.

    Returns
    -------
    measures : tuple of Measure
    phases : tuple of Phase
        The phases that applied, with their dated steps.
    problems : list of (phase index, key, message)
        Phases on unknown measures, on measures with rates by product, or with steps outside
        the measure's dates; such phases are left out.
    """
    by_name = {m.name: m for m in measures}
    problems: list[tuple[int, str, str]] = []
    split: dict[str, list[Measure]] = {}
    done: list[Phase] = []
    for i, phase in enumerate(phases):
        m = by_name.get(phase.measure)
        if m is None:
            problems.append((i, "measure", f"no measure {phase.measure!r} to phase; measures: {sorted(by_name)}"))
            continue
        if phase.measure in split:
            problems.append((i, "measure", f"measure {phase.measure!r} is phased twice; give all steps in one phase"))
            continue
        if m.product_rates:
            problems.append((i, "measure", f"measure {m.name!r} has rates by product; a phase needs one rate_pct"))
            continue
        steps = phase.steps_from(m.rate)
        days = [d for d, _ in steps]
        key = "path" if phase.steps else "start"
        if days[0] <= m.start:
            problems.append((i, key, f"first step {days[0]} is not after the measure's start {m.start}"))
            continue
        if m.end is not None and days[-1] >= m.end:
            problems.append((i, key, f"last step {days[-1]} is not before the measure's end {m.end}"))
            continue
        announced = phase.announced or m.announced
        pieces = [dataclasses.replace(m, end=days[0])]
        for k, (day, rate) in enumerate(steps):
            pieces.append(dataclasses.replace(
                m, name=step_name(m.name, day), rate=rate, start=day, end=days[k + 1] if k + 1 < len(days) else m.end,
                announced=announced if announced and announced <= day else None,
                notes=f"phase step {k + 1} of {len(days)}" + (f"; {phase.source}" if phase.source else "")))
        split[m.name] = pieces
        done.append(dataclasses.replace(phase, steps=steps))
    out = []
    for m in measures:
        extra = tuple(p.name for r in m.replaces if r in split for p in split[r][1:])
        replaces = m.replaces + extra
        out += [dataclasses.replace(p, replaces=replaces) for p in split.get(m.name, [m])]
    return tuple(out), tuple(done), problems


@dataclass(frozen=True)
class Scenario:
    """A tariff path over a date grid and how to run it.

    Attributes
    ----------
    name, description : str
    baseline : str
        Bundled baseline name or path of a tidy CSV/Parquet file.
    schedule : TariffSchedule
        Every measure, phases applied.
    start, end : datetime.date
        First and last day of the path; periods start from `start` at `frequency`.
    frequency : str
        ``"monthly"`` and the others of `tradesim.dynamics.FREQUENCIES`.
    reference : datetime.date or None
        Day whose tariffs the baseline's flows reflect; None for Dec 31 of the baseline year.
    model : str
        A registered model (``"pe"`` or ``"ge"``).
    elasticities : Elasticities
        Long-run values; `dynamics` scales the trade elasticity in the short run.
    dynamics : Dynamics
    phases : tuple of Phase
        The phased changes (already applied to `schedule`), for display.
    compare_to : str or None
        A scenario (bundled name or path) this one is read against.
    extends : tuple of str
        Files this one extends, nearest first.
    sources : tuple of str
    notes : str
    source : str
        The file it was read from.
    """

    name: str
    description: str
    baseline: str
    schedule: TariffSchedule
    start: dt.date
    end: dt.date
    frequency: str = "monthly"
    reference: dt.date | None = None
    model: str = "pe"
    elasticities: Elasticities = field(default_factory=Elasticities.defaults)
    dynamics: Dynamics = field(default_factory=Dynamics)
    phases: tuple[Phase, ...] = ()
    compare_to: str | None = None
    extends: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""
    source: str = ""

    def __repr__(self) -> str:
        return (f"Scenario({self.name!r}: {self.start} to {self.end} {self.frequency}, {len(self.schedule.measures)} "
                f"measures, model {self.model!r}, baseline {self.baseline!r})")

    def counterfactual(self) -> Scenario | None:
        """The `compare_to` scenario on this one's dates (start, end, frequency and reference), or None."""
        if self.compare_to is None:
            return None
        other = load_scenario(self.compare_to)
        return dataclasses.replace(other, start=self.start, end=self.end, frequency=self.frequency,
                                   reference=self.reference)

    def load_baseline(self):
        """The baseline named by the scenario (bundled, or read from its file)."""
        from .data import list_baselines, load_baseline
        from .io import read_flows

        if self.baseline in list_baselines().index:
            return load_baseline(self.baseline)
        return read_flows(self.baseline)

    def reference_date(self, baseline) -> dt.date:
        """`reference`, or Dec 31 of the baseline's year."""
        if self.reference is not None:
            return self.reference
        if baseline.year is None:
            raise InputError("the baseline has no year; give scenario.reference, the day whose tariffs its flows "
                             "reflect", source=self.source or None, key="scenario.reference")
        return dt.date(int(baseline.year), 12, 31)

    def periods(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        """Starts and ends of the periods ``[time]`` (see `tradesim.dynamics.periods`)."""
        return periods(self.start, self.end, self.frequency)

    def headline_rates(self, baseline, pairs=None, *, fine_values=None) -> pd.DataFrame:
        """Trade-weighted tariff (percent, baseline flows as weights) per pair and period, from the schedule alone.

        Parameters
        ----------
        baseline : Baseline
        pairs : iterable of (exporter, importer), optional
            The pairs with trade whose rate changes in the scenario when None.

        Returns
        -------
        pandas.DataFrame
            Index: the periods' start days; one column per pair, named ``"CHN->USA"``.
            A period's value is the mean over its days.
        """
        from .dynamics import pieces

        starts, ends = self.periods()
        days, rates = self.regimes(baseline, fine_values=fine_values)
        parts = pieces(starts, ends, days[1:])
        regime = regime_of(days, parts.start)
        flows = baseline.flows
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (rates * flows).sum(axis=1) / flows.sum(axis=0)  # [regime, i, j]
        c = list(baseline.countries)
        if pairs is None:
            moved = (np.abs(rates - rates[0]).max(axis=0) > 0).any(axis=0) & (flows.sum(axis=0) > 0)
            pairs = [(c[i], c[j]) for i, j in zip(*np.nonzero(moved))]
        missing = sorted({x for p in pairs for x in p} - set(c))
        if missing:
            raise InputError(f"{missing} not in the baseline; it has {c}", key="pairs")
        cols = {f"{e}->{m}": parts.to_periods(weighted[regime][:, c.index(e), c.index(m)]) * 100 for e, m in pairs}
        return pd.DataFrame(cols, index=starts.rename("date"))

    def regimes(self, baseline, *, fine_values=None) -> tuple[list[dt.date], np.ndarray]:
        """The days the tariffs change and the tariffs from each.

        Returns
        -------
        days : list of date, ``[regime]``
            The reference day, then every change of the schedule up to the end of the last period.
        rates : numpy.ndarray, ``[regime, product, exporter, importer]``
            Fractions; ``rates[0]`` are the tariffs the baseline's flows reflect.
        """
        ref = self.reference_date(baseline)
        last = self.periods()[1][-1].date()
        days = [ref, *(d for d in self.schedule.change_dates() if ref < d < last)]
        return days, self.schedule.rates_path(days, baseline.products, baseline.countries, baseline.countries,
                                              fine_values=fine_values)

    def timeline(self) -> pd.DataFrame:
        """Measures in force at some time in ``[start, end]``, by start day: name, importer, exporters, rate, dates."""
        frame = self.schedule.to_frame()
        live = (frame["start"] <= self.end) & frame["end"].map(lambda e: e is None or e > self.start)
        cols = ["measure", "importer", "exporters", "products", "rate_pct", "announced", "start", "end", "authority"]
        return frame.loc[live, cols].sort_values(["start", "importer", "measure"], kind="stable").reset_index(drop=True)


def regime_of(days: list[dt.date], when: pd.DatetimeIndex) -> np.ndarray:
    """Index of the regime (see `Scenario.regimes`) in force at each of `when`."""
    return np.searchsorted(np.array(days, dtype="datetime64[D]"), when.values.astype("datetime64[D]"), side="right") - 1


def _bundled() -> dict[str, object]:
    try:
        folder = resources.files("tradesim.scenarios")  # installed: scenarios/ is mapped into the package
    except ModuleNotFoundError:
        # imported from a source checkout that is not installed (python -m benchmarks in the repository):
        # the files are in scenarios/ beside the package
        folder = Path(__file__).resolve().parents[1] / "scenarios"
    return {f.name[: -len(".toml")]: f for f in folder.iterdir() if f.name.endswith(".toml")}


def list_scenarios() -> pd.DataFrame:
    """Bundled scenarios: name, what they extend and their description."""
    import tomllib

    rows = []
    for name, file in sorted(_bundled().items()):
        with file.open("rb") as fh:
            meta = tomllib.load(fh).get("scenario", {})
        rows.append({"name": name, "extends": meta.get("extends", ""), "description": meta.get("description", "")})
    return pd.DataFrame(rows, columns=["name", "extends", "description"]).set_index("name")


def scenario_path(ref: str, relative_to: Path | None = None) -> Path | None:
    """The file of a bundled scenario name or a path (relative to `relative_to`), or None if neither exists."""
    bundled = _bundled()
    looks_like_path = ref.endswith(".toml") or "/" in ref or "\\" in ref
    if not looks_like_path and ref in bundled:
        with resources.as_file(bundled[ref]) as p:
            return Path(p)
    path = Path(ref)
    if not path.is_absolute() and relative_to is not None and (relative_to / path).is_file():
        return (relative_to / path).resolve()
    return path.resolve() if path.is_file() else None


def load_scenario(name_or_path) -> Scenario:
    """Read and check a scenario: a bundled name (see `list_scenarios`) or the path of a TOML file.

    Raises
    ------
    ScenarioError
        With every problem found (``problems``), each naming the file, the line and the key path.

    Examples
    --------
    >>> s = load_scenario("phased-cut")
    >>> s.extends, s.model
    (('us-china-2025',), 'pe')
    """
    from .io.scenario import read_scenario

    return read_scenario(name_or_path)
