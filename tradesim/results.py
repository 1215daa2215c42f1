"""Simulation results: the model's arrays with their coordinates, and tidy tables of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .baseline import Baseline
from .elasticities import Elasticities
from .errors import InputError

__all__ = ["EnsembleResult", "ScenarioResult", "SimulationResult"]

# per-pair variables of to_frame(): name -> (attribute or callable, unit)
_PAIR_VARIABLES = {
    "flows_before": "USD, tariff-exclusive, baseline prices",
    "flows_after": "USD, tariff-exclusive, new exporter prices",
    "quantity": "ratio to baseline",
    "buyer_price": "ratio to baseline, tariff-inclusive",
    "tariff_before": "fraction",
    "tariff_after": "fraction",
    "revenue_before": "USD",
    "revenue_after": "USD",
}


def _positions(baseline: Baseline, codes, key: str) -> list[int]:
    """Positions of country codes in the baseline; `InputError` naming those it lacks."""
    codes = [codes] if isinstance(codes, str) else list(codes)
    missing = [c for c in codes if c not in baseline.countries]
    if missing:
        raise InputError(f"{missing} not in the baseline; it has {list(baseline.countries)}", key=key)
    return [baseline.countries.index(c) for c in codes]


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of `tradesim.simulate`.

    Attributes
    ----------
    baseline : Baseline
        Gives the coordinates: ``baseline.products`` and ``baseline.countries``.
    model : str
        Registered model name.
    solution : object
        The model's solution (`tradesim.models.pe.PESolution` for ``"pe"``,
        `tradesim.models.ge.GESolution` for ``"ge"``); pair arrays
        ``[draw?, product, exporter, importer]``, and a ``country_table()`` of headline
        results per country.
    tariff_before, tariff_after : numpy.ndarray, ``[product, exporter, importer]``
        Fractions.
    elasticities : Elasticities
    notes : tuple of str
        Choices made for this run that a reader should know (for example that the domestic
        substitute was not modelled).

    Notes
    -----
    With an elasticity draw axis, `summary` and `effective_rate` report the mean over draws.
    """

    baseline: Baseline
    model: str
    solution: object
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    elasticities: Elasticities
    notes: tuple[str, ...] = ()

    # ------------------------------------------------------------------ helpers

    @property
    def plot(self):
        """Plots of this result: ``result.plot.NAME(...)`` calls ``tradesim.plot.NAME(result, ...)``."""
        from .plot import PlotAccessor

        return PlotAccessor(self)

    @property
    def n_draws(self) -> int | None:
        """Number of elasticity draws, or None without a draw axis."""
        return self.solution.flows_after.shape[0] if getattr(self.solution, "draws", False) else None

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) if self.n_draws else a

    def _countries(self, codes, key: str) -> list[int]:
        return _positions(self.baseline, codes, key)

    # ------------------------------------------------------------------ tables

    def effective_rate(self, importer: str, exporter: str | Iterable[str] | None = None, *,
                       weights: str = "pre") -> float:
        """Trade-weighted tariff of `importer` after the change, as the tariff trackers define it.

        Parameters
        ----------
        importer : str
        exporter : str or iterable of str, optional
            All but the importer itself when None.
        weights : {"pre", "post"}
            ``"pre"``: baseline flows as weights (before substitution). ``"post"``: flows after
            the change at new prices (after substitution; lower when buyers move away from
            the most taxed goods).

        Returns
        -------
        float
            A fraction.
        """
        if weights not in ("pre", "post"):
            raise InputError(f"weights is {weights!r}; expected 'pre' or 'post'", key="weights")
        (j,) = self._countries(importer, "importer")
        if exporter is None:
            idx = [i for i in range(len(self.baseline.countries)) if i != j]
        else:
            idx = self._countries(exporter, "exporter")
        w = self.baseline.flows if weights == "pre" else self._mean(self.solution.flows_after)
        w = w[:, idx, j]
        total = w.sum()
        if total <= 0:
            raise InputError(f"no {weights}-change trade into {importer} from these exporters to weight by",
                             key="exporter")
        return float((self.tariff_after[:, idx, j] * w).sum() / total)

    def summary(self, by: str = "pair") -> pd.DataFrame:
        """Headline changes, summed over products.

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: one row per exporter and importer with baseline trade: import values
            before and after (USD), their change in value and in volume at baseline prices
            (percent), pre-substitution tariffs before and after (percent) and tariff revenue
            (USD). ``"country"``: imports and exports before and after (USD), then the
            model's headline columns: for ``"pe"`` the change in the expenditure-weighted
            price index (percent), consumer and producer surplus, the change in tariff revenue
            and welfare (USD); for ``"ge"`` the change in real income, wages and the consumer
            price index (percent) and tariff revenue before and after (USD).

        Returns
        -------
        pandas.DataFrame
        """
        if by == "pair":
            return self._summary_pairs()
        if by == "country":
            return self._summary_countries()
        raise InputError(f"by is {by!r}; expected 'pair' or 'country'", key="by")

    def _summary_pairs(self) -> pd.DataFrame:
        b, sol = self.baseline, self.solution
        before = b.flows.sum(axis=0)
        after = self._mean(sol.flows_after).sum(axis=0)
        volume = (b.flows * self._mean(sol.quantity)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            t0 = (self.tariff_before * b.flows).sum(axis=0) / before
            t1 = (self.tariff_after * b.flows).sum(axis=0) / before
        i, j = np.nonzero((before > 0) & ~np.eye(len(b.countries), dtype=bool))
        countries = np.asarray(b.countries)
        return pd.DataFrame({
            "exporter": countries[i],
            "importer": countries[j],
            "imports_before_usd": before[i, j],
            "imports_after_usd": after[i, j],
            "value_change_pct": 100 * (after[i, j] / before[i, j] - 1),
            "volume_change_pct": 100 * (volume[i, j] / before[i, j] - 1),
            "tariff_before_pct": 100 * t0[i, j],
            "tariff_after_pct": 100 * t1[i, j],
            "revenue_before_usd": sol.revenue_before.sum(axis=0)[i, j],
            "revenue_after_usd": self._mean(sol.revenue).sum(axis=0)[i, j],
        })

    def _summary_countries(self) -> pd.DataFrame:
        b, sol = self.baseline, self.solution
        off = ~np.eye(len(b.countries), dtype=bool)
        before = b.flows * off
        after = self._mean(sol.flows_after) * off
        table = {
            "country": list(b.countries),
            "imports_before_usd": before.sum(axis=(0, 1)),
            "imports_after_usd": after.sum(axis=(0, 1)),
            "exports_before_usd": before.sum(axis=(0, 2)),
            "exports_after_usd": after.sum(axis=(0, 2)),
        }
        # the model's own headline columns (PE: surplus and welfare in USD; GE: real income in percent)
        table.update({name: self._mean(a) for name, a in sol.country_table().items()})
        return pd.DataFrame(table).set_index("country")

    def to_frame(self, variables: Iterable[str] | None = None, *, nonzero: bool = True) -> pd.DataFrame:
        """Long table: ``[draw,] product, exporter, importer, variable, value``.

        Parameters
        ----------
        variables : iterable of str, optional
            Some of ``flows_before``, ``flows_after``, ``quantity``, ``buyer_price``,
            ``tariff_before``, ``tariff_after``, ``revenue_before``, ``revenue_after``
            (all by default). Units are listed in `VARIABLES`.
        nonzero : bool
            Keep only cells with baseline trade.
        """
        names = list(_PAIR_VARIABLES) if variables is None else list(variables)
        unknown = [v for v in names if v not in _PAIR_VARIABLES]
        if unknown:
            raise InputError(f"unknown variables {unknown}; expected some of {list(_PAIR_VARIABLES)}",
                             key="variables")
        b, sol = self.baseline, self.solution
        D = self.n_draws or 1
        arrays = {
            "flows_before": b.flows,
            "flows_after": sol.flows_after,
            "quantity": sol.quantity,
            "buyer_price": sol.buyer_price,
            "tariff_before": self.tariff_before,
            "tariff_after": self.tariff_after,
            "revenue_before": sol.revenue_before,
            "revenue_after": sol.revenue,
        }
        shape = (D, *b.flows.shape)
        keep = np.broadcast_to(b.flows > 0 if nonzero else np.ones(b.flows.shape, bool), shape)
        d, k, i, j = np.nonzero(keep)
        countries, products = np.asarray(b.countries), np.asarray(b.products)
        frames = []
        for name in names:  # one vectorised gather per variable
            a = np.broadcast_to(arrays[name] if arrays[name].ndim == 4 else arrays[name][None], shape)
            frames.append(pd.DataFrame({
                "draw": d, "product": products[k], "exporter": countries[i], "importer": countries[j],
                "variable": name, "value": a[d, k, i, j],
            }))
        out = pd.concat(frames, ignore_index=True)
        return out if self.n_draws else out.drop(columns="draw")

    VARIABLES = _PAIR_VARIABLES


# per-pair variables of ScenarioResult.to_frame(): name -> unit
_PATH_PAIR_VARIABLES = {
    "flows": "USD per year, tariff-exclusive, at the period's prices (annual rate; mean over the period)",
    "tariff": "fraction (statutory rate, mean over the period's days)",
    "revenue": "USD per year (tariff revenue, annual rate)",
    "quantity": "ratio to baseline",
    "buyer_price": "ratio to baseline, tariff-inclusive",
}


@dataclass(frozen=True)
class ScenarioResult:
    """The outcome of `tradesim.simulate` on a `Scenario`: the model's results on each period.

    Values of a period are means over its days (tariffs change within a month), and flows and
    revenue are annual rates, so the mean over a year's monthly values is that year's total.

    Attributes
    ----------
    scenario : Scenario
    baseline : Baseline
    model : str
    dates, period_ends : pandas.DatetimeIndex, ``[time]``
        Each period is ``[dates[t], period_ends[t])``.
    tariff : numpy.ndarray, ``[time, product, exporter, importer]``
        Fractions.
    tariff_reference : numpy.ndarray, ``[product, exporter, importer]``
        Tariffs the baseline's flows reflect (the scenario's reference day).
    flows, revenue : numpy.ndarray, ``[draw?, time, product, exporter, importer]``
        USD per year.
    quantity, buyer_price : numpy.ndarray, ``[draw?, time, product, exporter, importer]``
        Ratios to the baseline.
    countries : dict of str to numpy.ndarray, ``[draw?, time, country]``
        The model's headline results per country (`country_table` of its solution), for
        example ``welfare_usd``.
    elasticity_multiplier : numpy.ndarray, ``[time]``
        Factor on the trade elasticity (see `tradesim.dynamics`).
    elasticities : Elasticities
    shock_start : datetime.date or None
        First day the tariffs differed from the reference tariffs.
    notes : tuple of str
    """

    scenario: object
    baseline: Baseline
    model: str
    dates: pd.DatetimeIndex
    period_ends: pd.DatetimeIndex
    tariff: np.ndarray
    tariff_reference: np.ndarray
    flows: np.ndarray
    quantity: np.ndarray
    buyer_price: np.ndarray
    revenue: np.ndarray
    countries: dict
    elasticity_multiplier: np.ndarray
    elasticities: Elasticities
    shock_start: object = None
    notes: tuple[str, ...] = ()

    VARIABLES = {**_PATH_PAIR_VARIABLES, "welfare": "USD per year, per country (in importer)"}

    def __repr__(self) -> str:
        return (f"ScenarioResult({self.scenario.name!r}, model {self.model!r}: {len(self.dates)} periods from "
                f"{self.dates[0].date()}, {len(self.baseline.products)} products x {len(self.baseline.countries)} "
                f"countries{f', {self.n_draws} draws' if self.n_draws else ''})")

    @property
    def plot(self):
        """Plots of this result: ``result.plot.NAME(...)`` calls ``tradesim.plot.NAME(result, ...)``."""
        from .plot import PlotAccessor

        return PlotAccessor(self)

    @property
    def n_draws(self) -> int | None:
        """Number of elasticity draws, or None without a draw axis."""
        return self.flows.shape[0] if self.flows.ndim == 5 else None

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) if self.n_draws else a

    def _index(self, codes, key: str) -> list[int]:
        return _positions(self.baseline, codes, key)

    def changed_pairs(self) -> list[tuple[str, str]]:
        """``(exporter, importer)`` pairs with trade whose tariff differs from the reference on some date."""
        moved = (np.abs(self.tariff - self.tariff_reference).max(axis=0) > 0) & (self.baseline.flows > 0)
        i, j = np.nonzero(moved.any(axis=0))
        c = self.baseline.countries
        return [(c[a], c[b]) for a, b in zip(i, j)]

    def effective_rate(self, importer: str, exporter=None, *, weights: str = "pre") -> pd.Series:
        """Trade-weighted tariff of `importer` on each date (fraction), as the trackers define it.

        Parameters
        ----------
        importer : str
        exporter : str or iterable of str, optional
            All but the importer when None.
        weights : {"pre", "post"}
            Baseline flows (before substitution) or the period's flows (after).
        """
        if weights not in ("pre", "post"):
            raise InputError(f"weights is {weights!r}; expected 'pre' or 'post'", key="weights")
        (j,) = self._index(importer, "importer")
        idx = [i for i in range(len(self.baseline.countries)) if i != j] if exporter is None else \
            self._index(exporter, "exporter")
        w = self.baseline.flows[None] if weights == "pre" else self._mean(self.flows)
        w = np.broadcast_to(w, self.tariff.shape)[:, :, idx, j]
        total = w.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = (self.tariff[:, :, idx, j] * w).sum(axis=(1, 2)) / total
        return pd.Series(rate, index=self.dates, name=f"{importer} effective rate ({weights})")

    def summary(self, by: str = "pair", pairs=None) -> pd.DataFrame:
        """The path of headline numbers, one row per date and pair (or country).

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: imports (USD per year) and their change from the baseline in value and
            in volume (percent), the trade-weighted tariff before substitution (percent) and
            tariff revenue (USD per year). ``"country"``: imports and exports (USD per year)
            and the model's headline columns (for PE, surplus, revenue change and welfare in
            USD per year; for GE, real income, wage and prices in percent and welfare in USD).
        pairs : iterable of (exporter, importer), optional
            With ``by="pair"``; the pairs whose tariffs change (`changed_pairs`) when None.
        """
        if by == "pair":
            return self._pair_path(self.changed_pairs() if pairs is None else list(pairs))
        if by == "country":
            return self._country_path()
        raise InputError(f"by is {by!r}; expected 'pair' or 'country'", key="by")

    def _pair_path(self, pairs) -> pd.DataFrame:
        b = self.baseline
        rows = []
        flows, qty, rev = self._mean(self.flows), self._mean(self.quantity), self._mean(self.revenue)
        for exporter, importer in pairs:  # a handful of headline pairs
            (i,), (j,) = self._index(exporter, "exporter"), self._index(importer, "importer")
            base = b.flows[:, i, j]
            total = base.sum()
            if total <= 0:
                raise InputError(f"no baseline trade from {exporter} to {importer}", key="pairs")
            after = flows[:, :, i, j].sum(axis=1)
            volume = (qty[:, :, i, j] * base).sum(axis=1)
            rows.append(pd.DataFrame({
                "date": self.dates, "exporter": exporter, "importer": importer,
                "imports_usd": after, "value_change_pct": 100 * (after / total - 1),
                "volume_change_pct": 100 * (volume / total - 1),
                "tariff_pct": 100 * (self.tariff[:, :, i, j] * base).sum(axis=1) / total,
                "revenue_usd": rev[:, :, i, j].sum(axis=1),
            }))
        cols = ["date", "exporter", "importer", "imports_usd", "value_change_pct", "volume_change_pct", "tariff_pct",
                "revenue_usd"]
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)

    def _country_path(self) -> pd.DataFrame:
        n = len(self.baseline.countries)
        off = ~np.eye(n, dtype=bool)
        flows = self._mean(self.flows) * off
        T = len(self.dates)
        table = {
            "date": np.repeat(self.dates, n), "country": np.tile(self.baseline.countries, T),
            "imports_usd": flows.sum(axis=(1, 2)).ravel(), "exports_usd": flows.sum(axis=(1, 3)).ravel(),
        }
        table.update({name: self._mean(a).ravel() for name, a in self.countries.items()})
        return pd.DataFrame(table)

    def to_frame(self, variables=None, *, nonzero: bool = True) -> pd.DataFrame:
        """Long, tidy table: ``[draw,] date, exporter, importer, product, variable, value``.

        Parameters
        ----------
        variables : iterable of str, optional
            Some of `VARIABLES` (all by default): ``flows``, ``tariff``, ``revenue``,
            ``quantity``, ``buyer_price`` per pair and product, and ``welfare`` per country
            (the country in ``importer``; ``exporter`` and ``product`` empty).
        nonzero : bool
            Keep only pairs and products with baseline trade.
        """
        names = list(self.VARIABLES) if variables is None else list(variables)
        unknown = [v for v in names if v not in self.VARIABLES]
        if unknown:
            raise InputError(f"unknown variables {unknown}; expected some of {list(self.VARIABLES)}", key="variables")
        b = self.baseline
        D, T = self.n_draws or 1, len(self.dates)
        countries, products = np.asarray(b.countries), np.asarray(b.products)
        keep = b.flows > 0 if nonzero else np.ones(b.flows.shape, bool)
        k, i, j = np.nonzero(keep)
        frames = []
        for name in names:
            if name == "welfare":
                a = np.broadcast_to(self.countries["welfare_usd"], (D, T, len(countries)))
                d, t, c = np.indices(a.shape).reshape(3, -1)
                frames.append(pd.DataFrame({"draw": d, "date": self.dates[t], "exporter": None, "importer": countries[c],
                                            "product": None, "variable": name, "value": a.ravel()}))
                continue
            a = getattr(self, name)
            a = np.broadcast_to(a if a.ndim == 5 else a[None], (D, T, *b.flows.shape))[:, :, k, i, j]  # [D, T, cell]
            d, t, cell = np.indices(a.shape).reshape(3, -1)
            frames.append(pd.DataFrame({"draw": d, "date": self.dates[t], "exporter": countries[i[cell]],
                                        "importer": countries[j[cell]], "product": products[k[cell]],
                                        "variable": name, "value": a.ravel()}))
        out = pd.concat(frames, ignore_index=True)
        return out if self.n_draws else out.drop(columns="draw")

    def compare(self, other: ScenarioResult, by: str = "pair") -> pd.DataFrame:
        """This path against `other` on the same baseline and dates: both values and the difference.

        Returns
        -------
        pandas.DataFrame
            The `summary` columns of each, suffixed ``_this`` and ``_other``, and ``_diff``
            (this minus other) for every number.
        """
        if not isinstance(other, ScenarioResult):
            raise InputError(f"expected a ScenarioResult, got {type(other).__name__}", key="other")
        if not self.baseline.equals(other.baseline):
            raise InputError("the results are on different baselines", key="other")
        if not self.dates.equals(other.dates):
            raise InputError(f"the results have different dates: {self.dates[0].date()} to {self.dates[-1].date()} "
                             f"against {other.dates[0].date()} to {other.dates[-1].date()}", key="other")
        keys = ["date", "exporter", "importer"] if by == "pair" else ["date", "country"]
        pairs = sorted(set(self.changed_pairs()) | set(other.changed_pairs())) if by == "pair" else None
        a = self.summary(by, pairs) if by == "pair" else self.summary(by)
        o = other.summary(by, pairs) if by == "pair" else other.summary(by)
        out = a.merge(o, on=keys, suffixes=("_this", "_other"))
        for col in a.columns.difference(keys):
            out[f"{col}_diff"] = out[f"{col}_this"] - out[f"{col}_other"]
        return out


# per-pair variables of EnsembleResult: name -> unit
_ENSEMBLE_PAIR_VARIABLES = {
    "imports_usd": "USD per year, tariff-exclusive, summed over products (annual rate; mean over the period)",
    "value_change_pct": "percent change of imports_usd from the baseline",
    "revenue_usd": "USD per year of tariff revenue",
    "tariff_pct": "percent, trade-weighted with baseline flows (before substitution; the same in every draw)",
    "effective_tariff_pct": "percent, revenue over imports (weighted with the draw's flows, after substitution)",
}


@dataclass(frozen=True)
class EnsembleResult:
    """A scenario's path under many draws of the elasticities (`tradesim.ensemble.run`).

    Arrays hold only the draws that converged; `draws` says which they are.

    Attributes
    ----------
    scenario : Scenario
    baseline : Baseline
    model : str
    dates, period_ends : pandas.DatetimeIndex, ``[time]``
    draws : numpy.ndarray of int, ``[draw]``
        Numbers of the draws kept (rows of `parameters`).
    flows, revenue : numpy.ndarray, ``[draw, time, exporter, importer]``
        Imports (tariff-exclusive) and tariff revenue summed over products, USD per year.
    countries : dict of str to numpy.ndarray, ``[draw, time, country]``
        The model's per-country results, for example ``welfare_usd``.
    tariff : numpy.ndarray, ``[time, exporter, importer]``
        Trade-weighted rate with baseline flows (fractions; the same in every draw).
    tariff_reference : numpy.ndarray, ``[exporter, importer]``
        The same for the reference tariffs.
    parameters : pandas.DataFrame
        Every requested draw's values (index ``draw``), one column per drawn parameter and
        product group (``sigma``, or ``theta[Auto]`` for priors by group).
    failures : pandas.DataFrame
        Draws that did not converge: ``draw``, ``error``, ``iterations``, ``residual``, ``tol`` and
        their parameters. Empty when all converged.
    requested : int
    seed, engine, chunk : as given to `run` (chunk: the size used)
    priors : Priors
    notes : tuple of str
    """

    scenario: object
    baseline: Baseline
    model: str
    dates: pd.DatetimeIndex
    period_ends: pd.DatetimeIndex
    draws: np.ndarray
    flows: np.ndarray
    revenue: np.ndarray
    countries: dict
    tariff: np.ndarray
    tariff_reference: np.ndarray
    parameters: pd.DataFrame
    failures: pd.DataFrame
    requested: int
    seed: object = 0
    engine: str = "numpy"
    chunk: int = 0
    priors: object = None
    notes: tuple[str, ...] = ()

    PAIR_VARIABLES = _ENSEMBLE_PAIR_VARIABLES

    def __repr__(self) -> str:
        return (f"EnsembleResult({self.scenario.name!r}, model {self.model!r}: {self.n_draws} of {self.requested} "
                f"draws, {len(self.dates)} periods from {self.dates[0].date()}, {len(self.baseline.countries)} "
                f"countries)")

    @property
    def n_draws(self) -> int:
        """Number of draws kept (converged)."""
        return len(self.draws)

    @property
    def failed(self) -> tuple[int, ...]:
        """Numbers of the draws that did not converge."""
        return tuple(int(d) for d in self.failures["draw"])

    @property
    def plot(self):
        """Plots of this result (``fan``): ``result.plot.fan(...)``."""
        from .plot import PlotAccessor

        return PlotAccessor(self)

    def pair_values(self, variable: str) -> np.ndarray:
        """A pair variable (`PAIR_VARIABLES`) for every draw, ``[draw, time, exporter, importer]``."""
        if variable not in self.PAIR_VARIABLES:
            raise InputError(f"unknown variable {variable!r}; expected one of {list(self.PAIR_VARIABLES)}",
                             key="variable")
        base = self.baseline.flows.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):  # pairs without trade give NaN
            if variable == "imports_usd":
                return self.flows
            if variable == "revenue_usd":
                return self.revenue
            if variable == "value_change_pct":
                return 100 * (self.flows / np.where(base > 0, base, np.nan) - 1)
            if variable == "tariff_pct":
                return np.broadcast_to(100 * np.where(base > 0, self.tariff, np.nan), self.flows.shape)
            return 100 * self.revenue / np.where(self.flows > 0, self.flows, np.nan)

    def to_frame(self, by: str = "pair", variables=None, pairs=None) -> pd.DataFrame:
        """Every draw, long and tidy.

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: ``draw, date, exporter, importer, variable, value`` for the pairs with
            baseline trade. ``"country"``: ``draw, date, country, variable, value`` for the
            model's per-country results.
        variables : iterable of str, optional
            Some of `PAIR_VARIABLES` (pairs) or of `countries` (countries); all by default.
        pairs : iterable of (exporter, importer), optional
            Pairs to keep (with ``by="pair"``); every pair with trade by default.
        """
        arrays, labels = self._cells(by, variables, pairs)
        frames = []
        for name, a in arrays.items():  # a: [draw, time, cell]
            d, t, c = np.indices(a.shape).reshape(3, -1)
            frames.append(pd.DataFrame({"draw": self.draws[d], "date": self.dates[t],
                                        **{k: v[c] for k, v in labels.items()}, "variable": name, "value": a.ravel()}))
        return pd.concat(frames, ignore_index=True)

    def quantiles(self, q=(0.05, 0.5, 0.95), by: str = "pair", variables=None, pairs=None) -> pd.DataFrame:
        """Quantiles over the draws, with the mean: one row per date, pair (or country) and variable.

        Parameters
        ----------
        q : sequence of float
            Levels in [0, 1]; columns ``p5``, ``p50``, ``p95`` (percent, as in ``p2.5``).
        by, variables, pairs
            As in `to_frame`.

        Returns
        -------
        pandas.DataFrame
            ``date, exporter, importer`` (or ``country``), ``variable``, ``mean`` and one column
            per level. Quantiles are of each draw's value, so a ratio's quantile is the
            quantile of the draws' ratios.
        """
        return self._quantile_frame(*self._cells(by, variables, pairs), q)

    def compare(self, other: EnsembleResult, q=(0.05, 0.5, 0.95), by: str = "pair", variables=None,
                pairs=None) -> pd.DataFrame:
        """Quantiles over the draws of this path minus `other`, draw by draw.

        Both ensembles must have drawn the same elasticities (the same priors and seed: common
        random numbers), so each draw's difference isolates the change of tariffs, and the bands
        are those of the difference, not the difference of the bands. Draws that failed in
        either are left out.

        Parameters
        ----------
        other : EnsembleResult
            On the same baseline and dates (for a scenario's `compare_to`, run
            ``scenario.counterfactual()`` with the same seed).
        q, by, variables, pairs
            As in `quantiles`.

        Returns
        -------
        pandas.DataFrame
            As `quantiles`, in each variable's units (percentage points for ``*_pct``).
        """
        if not isinstance(other, EnsembleResult):
            raise InputError(f"expected an EnsembleResult, got {type(other).__name__}", key="other")
        if not self.baseline.equals(other.baseline):
            raise InputError("the ensembles are on different baselines", key="other")
        if not self.dates.equals(other.dates):
            raise InputError("the ensembles have different dates", key="other")
        common = np.intersect1d(self.draws, other.draws)
        mine, theirs = self.parameters.loc[common], other.parameters.reindex(columns=self.parameters.columns)
        if list(self.parameters.columns) != list(other.parameters.columns) or \
                not np.array_equal(mine.to_numpy(), theirs.loc[common].to_numpy()):
            raise InputError("the ensembles drew different elasticities; run both with the same priors and seed",
                             key="other")
        rows, other_rows = np.searchsorted(self.draws, common), np.searchsorted(other.draws, common)
        arrays, labels = self._cells(by, variables, pairs)
        others, _ = other._cells(by, variables, pairs)
        return self._quantile_frame({name: a[rows] - others[name][other_rows] for name, a in arrays.items()},
                                    labels, q)

    def _quantile_frame(self, arrays: dict, labels: dict, q) -> pd.DataFrame:
        """Mean and quantiles over the draw axis of each ``[draw, time, cell]`` array, one row per date and cell."""
        levels = np.atleast_1d(np.asarray(q, dtype=float))
        if levels.ndim != 1 or not levels.size or np.isnan(levels).any() or (levels < 0).any() or (levels > 1).any():
            raise InputError(f"q is {q!r}; expected levels in [0, 1]", key="q")
        frames = []
        for name, a in arrays.items():
            t, c = np.indices(a.shape[1:]).reshape(2, -1)
            frame = pd.DataFrame({"date": self.dates[t], **{k: v[c] for k, v in labels.items()}, "variable": name,
                                  "mean": a.mean(axis=0).ravel()})
            frame[[f"p{100 * v:g}" for v in levels]] = np.quantile(a, levels, axis=0).reshape(len(levels), -1).T
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _cells(self, by: str, variables, pairs) -> tuple[dict, dict]:
        """The variables asked for as ``{name: [draw, time, cell]}``, and the labels of the cells."""
        countries = np.asarray(self.baseline.countries)
        if by == "country":
            names = self._names(variables, list(self.countries), "country variable")
            return {name: self.countries[name] for name in names}, {"country": countries}
        if by != "pair":
            raise InputError(f"by is {by!r}; expected 'pair' or 'country'", key="by")
        names = self._names(variables, list(self.PAIR_VARIABLES), "pair variable")
        i, j = self._pairs(pairs)
        return {name: self.pair_values(name)[:, :, i, j] for name in names}, {"exporter": countries[i],
                                                                              "importer": countries[j]}

    def _names(self, variables, known: list, what: str) -> list:
        names = known if variables is None else [variables] if isinstance(variables, str) else list(variables)
        unknown = [v for v in names if v not in known]
        if unknown:
            raise InputError(f"unknown {what}s {unknown}; expected some of {known}", key="variables")
        return names

    def _pairs(self, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Exporter and importer positions of `pairs` (every pair with baseline trade when None)."""
        base = self.baseline.flows.sum(axis=0)
        if pairs is None:
            return np.nonzero(base > 0)
        pairs = list(pairs)
        bad = [p for p in pairs if isinstance(p, str) or len(p) != 2]
        if bad:
            raise InputError(f"{bad[:3]} are not (exporter, importer) pairs", key="pairs")
        i = np.asarray(_positions(self.baseline, [p[0] for p in pairs], "pairs"), dtype=int)
        j = np.asarray(_positions(self.baseline, [p[1] for p in pairs], "pairs"), dtype=int)
        none = [pairs[n] for n in np.flatnonzero(base[i, j] <= 0)]
        if none:
            raise InputError(f"no baseline trade for {none[:5]}", key="pairs")
        return i, j
