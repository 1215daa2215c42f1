"""The result of an ensemble: a scenario's path under many draws of the elasticities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Baseline
from ..errors import InputError
from .base import Result, baseline_pairs, pair_positions

__all__ = ["EnsembleResult"]


# per-pair variables of EnsembleResult: name -> unit
_ENSEMBLE_PAIR_VARIABLES = {
    "imports_usd": "USD per year, tariff-exclusive, summed over products (annual rate; mean over the period)",
    "value_change_pct": "percent change of imports_usd from the baseline",
    "revenue_usd": "USD per year of tariff revenue",
    "tariff_pct": "percent, trade-weighted with baseline flows (before substitution; the same in every draw), over "
                  "the trade that is not halted",
    "effective_tariff_pct": "percent, revenue over imports (weighted with the draw's flows, after substitution)",
}


@dataclass(frozen=True, repr=False)
class EnsembleResult(Result):
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
    country_values : dict of str to numpy.ndarray, ``[draw, time, country]``
        The model's per-country outputs, for example ``welfare_usd``.
    tariff : numpy.ndarray, ``[time, exporter, importer]``
        Trade-weighted rate with baseline flows (fractions; the same in every draw), over the trade that is
        not halted (``inf`` where all of a pair's is).
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
    country_values: dict
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
    LEVELS = ("pair", "country")
    KIND = "ensemble"

    def __repr__(self) -> str:
        b = self.baseline
        return (f"EnsembleResult({self.scenario.name!r}, model {self.model!r}: {self.n_draws} of {self.requested} "
                f"draws, {len(self.dates)} periods from {self.dates[0].date()}, {len(b.exporters)} exporters x "
                f"{len(b.importers)} importers)")

    @property
    def leading(self) -> dict[str, np.ndarray]:
        return {"draw": np.asarray(self.draws), "date": np.asarray(self.dates)}

    def arrays(self, level: str) -> dict[str, np.ndarray]:
        self._check_level(level)
        if level == "pair":
            return {name: self.pair_values(name) for name in self.PAIR_VARIABLES}
        return self._below_rounding(self.country_values)

    def _card(self) -> list[tuple[str, str]]:
        s = self.scenario
        return [("scenario", f"{s.name}: {s.description}" if s.description else s.name),
                ("draws", f"{self.n_draws} of {self.requested} converged (seed {self.seed}, engine {self.engine})"),
                ("periods", f"{len(self.dates)} {s.frequency} from {self.dates[0].date()}")] + \
            [line for line in super()._card() if line[0] != "draws"]

    @property
    def n_draws(self) -> int:
        """Number of draws kept (converged)."""
        return len(self.draws)

    @property
    def failed(self) -> tuple[int, ...]:
        """Numbers of the draws that did not converge."""
        return tuple(int(d) for d in self.failures["draw"])

    def pair_values(self, variable: str) -> np.ndarray:
        """A pair variable (`PAIR_VARIABLES`) for every draw, ``[draw, time, exporter, importer]``."""
        if variable not in self.PAIR_VARIABLES:
            raise InputError(f"unknown variable {variable!r}; expected one of {list(self.PAIR_VARIABLES)}",
                             key="variable")
        base = baseline_pairs(self.baseline)
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

    def quantiles(self, q=(0.05, 0.5, 0.95), level: str = "pair", variables=None, pairs=None) -> pd.DataFrame:
        """Quantiles over the draws, with the mean: one row per date, pair (or country) and variable.

        Parameters
        ----------
        q : sequence of float
            Levels in [0, 1]; columns ``p5``, ``p50``, ``p95`` (percent, as in ``p2.5``).
        level : {"pair", "country"}
        variables, pairs
            As in `to_frame`.

        Returns
        -------
        pandas.DataFrame
            ``date, exporter, importer`` (or ``country``), ``variable``, ``mean`` and one column
            per level. Quantiles are of each draw's value, so a ratio's quantile is the
            quantile of the draws' ratios.
        """
        return self._quantile_frame(*self._cells(level, variables, pairs), q)

    def compare(self, other: EnsembleResult, q=(0.05, 0.5, 0.95), level: str = "pair", variables=None,
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
        q, level, variables, pairs
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
        arrays, labels = self._cells(level, variables, pairs)
        others, _ = other._cells(level, variables, pairs)
        # the same draw on the same cells, computed in another order (chunks, engines), differs by rounding only
        diffs = self._below_rounding({name: a[rows] - others[name][other_rows] for name, a in arrays.items()})
        return self._quantile_frame(diffs, labels, q)

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

    def _cells(self, level: str, variables, pairs) -> tuple[dict, dict]:
        """The variables asked for as ``{name: [draw, time, cell]}``, and the labels of the cells."""
        b = self.baseline
        if level == "country":
            names = self._names(variables, list(self.country_values), "country variable")
            return {name: self.country_values[name] for name in names}, {"country": np.asarray(b.countries)}
        self._check_level(level)
        names = self._names(variables, list(self.PAIR_VARIABLES), "pair variable")
        i, j = self._pairs(pairs)
        return {name: self.pair_values(name)[:, :, i, j] for name in names}, {
            "exporter": np.asarray(b.exporters)[i], "importer": np.asarray(b.importers)[j]}

    def _names(self, variables, known: list, what: str) -> list:
        names = known if variables is None else [variables] if isinstance(variables, str) else list(variables)
        unknown = [v for v in names if v not in known]
        if unknown:
            raise InputError(f"unknown {what}s {unknown}; expected some of {known}", key="variables")
        return names

    def _pairs(self, pairs) -> tuple[np.ndarray, np.ndarray]:
        """Exporter and importer positions of `pairs` (every pair with baseline trade when None)."""
        base = baseline_pairs(self.baseline)
        if pairs is None:
            return np.nonzero(base > 0)
        pairs = list(pairs)
        i, j = pair_positions(self.baseline, pairs)
        none = [pairs[n] for n in np.flatnonzero(base[i, j] <= 0)]
        if none:
            raise InputError(f"no baseline trade for {none[:5]}", key="pairs")
        return i, j
