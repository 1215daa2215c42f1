"""Scenarios: a tariff path over a date grid, with its baseline, model, elasticities and dynamics.

A `Scenario` is read from a TOML file by `tradesim.scenario.load_scenario` (the format is in
``docs/scenarios.md`` and `tradesim.scenario.file`). It compiles to a plan
(`tradesim.scenario.plan`): periods x tariff regimes x elasticity multipliers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import Baseline, open_baseline
from ..data.bundled import load_fine_values
from ..elasticities import Elasticities
from ..errors import InputError
from ..law import TariffSchedule
from ..models import get_model
from .dynamics import Dynamics, periods, pieces
from .phases import Phase

__all__ = ["Scenario", "regime_of"]


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
        ``"monthly"`` and the others of `tradesim.scenario.dynamics.FREQUENCIES`.
    reference : datetime.date or None
        Day whose tariffs the baseline's flows reflect; None for Dec 31 of the baseline year.
    model : str
        A registered model (``"pe"`` or ``"ge"``).
    elasticities : Elasticities
        Long-run values; `dynamics` scales the trade elasticity in the short run.
    dynamics : Dynamics
    phases : tuple of Phase
        The phased changes (already applied to `schedule`), for display.
    fine_values : str or None
        Trade values finer than the baseline's products for the law's shares: a bundled name
        (`tradesim.data.list_fine_values`) or the path of a file (absolute once read).
    world_baseline, world_fine_values : str or None
        A baseline with every country on both axes (and fine values for its products) that
        models needing one (general equilibrium) run on when `baseline` is a rectangle, such as
        US imports only (`for_model`).
    compare_to : str or None
        A scenario (bundled name or path) this one is read against.
    against : Scenario or None
        That scenario, read and checked with this one.
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
    fine_values: str | None = None
    world_baseline: str | None = None
    world_fine_values: str | None = None
    elasticities: Elasticities = field(default_factory=Elasticities.defaults)
    dynamics: Dynamics = field(default_factory=Dynamics)
    phases: tuple[Phase, ...] = ()
    compare_to: str | None = None
    against: Scenario | None = None
    extends: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""
    source: str = ""

    def __repr__(self) -> str:
        return (f"Scenario({self.name!r}: {self.start} to {self.end} {self.frequency}, {len(self.schedule.measures)} "
                f"measures, model {self.model!r}, baseline {self.baseline!r})")

    def counterfactual(self) -> Scenario | None:
        """The `compare_to` scenario on this one's dates (start, end, frequency and reference), or None."""
        if self.against is None:
            return None
        return dataclasses.replace(self.against, start=self.start, end=self.end, frequency=self.frequency,
                                   reference=self.reference)

    def on_baseline(self, baseline: str, fine_values: str | None = None) -> Scenario:
        """The same scenario (and its counterfactual) run on another baseline.

        Parameters
        ----------
        baseline : str
            Bundled baseline name or path of a file of flows.
        fine_values : str, optional
            Fine values for the new baseline's products. The scenario's own are dropped: they
            split the products of the baseline it was written for.
        """
        against = None if self.against is None else self.against.on_baseline(baseline, fine_values)
        return dataclasses.replace(self, baseline=baseline, fine_values=fine_values, against=against)

    def for_model(self, model: str, baseline: Baseline) -> tuple[Scenario, Baseline, str | None]:
        """The scenario and baseline that `model` runs on, and a note when they are not these.

        A model that needs every country on both axes (``ModelSpec.square``: general
        equilibrium) runs on `world_baseline` (with `world_fine_values`) when `baseline` is a
        rectangle and the scenario names one; otherwise nothing changes (and the model says
        what it needs).

        Parameters
        ----------
        model : str
            A registered model.
        baseline : Baseline
            The scenario's baseline, loaded.
        """
        if not (get_model(model).square and not baseline.square and self.world_baseline):
            return self, baseline, None
        world = self.on_baseline(self.world_baseline, self.world_fine_values)
        loaded = world.load_baseline()
        note = (f"model {model!r} needs every country on both axes: this run is on {self.world_baseline} "
                f"({len(loaded.exporters)} economies, {len(loaded.products)} products), the scenario's world baseline, "
                f"not on {self.baseline} ({len(baseline.exporters)} exporters, {len(baseline.importers)} importer(s))")
        return world, loaded, note

    def load_baseline(self) -> Baseline:
        """The baseline named by the scenario: bundled, or read from its file by `tradesim.data.open_baseline`
        (tidy, BACI or Comtrade layouts)."""
        return open_baseline(self.baseline)

    def load_fine_values(self):
        """The scenario's finer trade values (see `tradesim.data.load_fine_values`), or None."""
        return None if self.fine_values is None else load_fine_values(self.fine_values)

    def reference_date(self, baseline) -> dt.date:
        """`reference`, or Dec 31 of the baseline's year."""
        if self.reference is not None:
            return self.reference
        if baseline.year is None:
            raise InputError("the baseline has no year; give scenario.reference, the day whose tariffs its flows "
                             "reflect", source=self.source or None, key="scenario.reference")
        return dt.date(int(baseline.year), 12, 31)

    def periods(self) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
        """Starts and ends of the periods ``[time]`` (see `tradesim.scenario.dynamics.periods`)."""
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
        starts, ends = self.periods()
        days, rates = self.regimes(baseline, fine_values=fine_values)
        parts = pieces(starts, ends, days[1:])
        regime = regime_of(days, parts.start)
        flows = baseline.flows
        with np.errstate(invalid="ignore", divide="ignore"):
            weighted = (rates * flows).sum(axis=1) / flows.sum(axis=0)  # [regime, i, j]
        ex, im = list(baseline.exporters), list(baseline.importers)
        if pairs is None:
            moved = (np.abs(rates - rates[0]).max(axis=0) > 0).any(axis=0) & (flows.sum(axis=0) > 0)
            pairs = [(ex[i], im[j]) for i, j in zip(*np.nonzero(moved))]
        missing = sorted({p[0] for p in pairs} - set(ex)) + sorted({p[1] for p in pairs} - set(im))
        if missing:
            raise InputError(f"{missing} not in the baseline; its exporters are {ex} and its importers {im}",
                             key="pairs")
        cols = {f"{e}->{m}": parts.to_periods(weighted[regime][:, ex.index(e), im.index(m)]) * 100 for e, m in pairs}
        return pd.DataFrame(cols, index=starts.rename("date"))

    def regime_days(self, baseline) -> list[dt.date]:
        """The reference day, then every day the schedule changes up to the end of the last period."""
        ref = self.reference_date(baseline)
        last = self.periods()[1][-1].date()
        return [ref, *(d for d in self.schedule.change_dates() if ref < d < last)]

    def regimes(self, baseline, *, fine_values=None, warn: bool = True) -> tuple[list[dt.date], np.ndarray]:
        """The days the tariffs change and the tariffs from each.

        Returns
        -------
        days : list of date, ``[regime]``
            The reference day, then every change of the schedule up to the end of the last period.
        rates : numpy.ndarray, ``[regime, product, exporter, importer]``
            Fractions; ``rates[0]`` are the tariffs the baseline's flows reflect. The law is
            evaluated on the cells with baseline trade (the others carry no tariff: no model
            reads them), so the work grows with the trade that exists.
        """
        days = self.regime_days(baseline)
        if fine_values is None:
            fine_values = self.load_fine_values()
        return days, self.schedule.rates_path(days, baseline.products, baseline.exporters, baseline.importers,
                                              fine_values=fine_values, cells=baseline.flows > 0, warn=warn)

    def parts(self, baseline, *, fine_values=None, warn: bool = True, atoms=None):
        """`regimes` on the parts of products that the law treats alike (`TariffSchedule.parts_path`;
        `atoms`, the schedule's split of the baseline's products when the caller has it).

        Returns
        -------
        days : list of date, ``[regime]``
        parts : tradesim.law.atoms.Parts
            ``rates`` is ``[regime, part, exporter, importer]``.
        """
        days = self.regime_days(baseline)
        if fine_values is None:
            fine_values = self.load_fine_values()
        return days, self.schedule.parts_path(days, baseline.products, baseline.exporters, baseline.importers,
                                              fine_values=fine_values, cells=baseline.flows > 0, warn=warn,
                                              atoms=atoms)

    def timeline(self) -> pd.DataFrame:
        """Measures in force at some time in ``[start, end]``, by start day: name, importer, exporters, rate, dates."""
        frame = self.schedule.to_frame()
        live = (frame["start"] <= self.end) & frame["end"].map(lambda e: e is None or e > self.start)
        cols = ["measure", "importer", "exporters", "products", "rate_pct", "announced", "start", "end", "authority"]
        return frame.loc[live, cols].sort_values(["start", "importer", "measure"], kind="stable").reset_index(drop=True)


def regime_of(days: list[dt.date], when: pd.DatetimeIndex) -> np.ndarray:
    """Index of the regime (see `Scenario.regimes`) in force at each of `when`."""
    return np.searchsorted(np.array(days, dtype="datetime64[D]"), when.values.astype("datetime64[D]"), side="right") - 1


