"""Simulation results: the model's arrays with their coordinates, and tidy tables of them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .baseline import Baseline
from .elasticities import Elasticities
from .errors import InputError

__all__ = ["SimulationResult"]

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
    def n_draws(self) -> int | None:
        """Number of elasticity draws, or None without a draw axis."""
        return self.solution.flows_after.shape[0] if getattr(self.solution, "draws", False) else None

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) if self.n_draws else a

    def _countries(self, codes, key: str) -> list[int]:
        codes = [codes] if isinstance(codes, str) else list(codes)
        missing = [c for c in codes if c not in self.baseline.countries]
        if missing:
            raise InputError(f"{missing} not in the baseline; it has {list(self.baseline.countries)}", key=key)
        return [self.baseline.countries.index(c) for c in codes]

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
