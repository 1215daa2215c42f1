"""The result of one change of tariffs (`tradesim.simulate` with tariffs before and after)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Baseline
from ..elasticities import Elasticities
from ..errors import InputError
from .base import NOISE, Result, positions

__all__ = ["SimulationResult", "pair_values", "country_values"]


def pair_values(base: np.ndarray, after: np.ndarray, volume: np.ndarray, t0: np.ndarray, t1: np.ndarray,
                rev0: np.ndarray, rev1: np.ndarray) -> dict[str, np.ndarray]:
    """The pair variables from arrays ``[..., product, exporter, importer]`` summed over products.

    `base`, `t0` and `rev0` are the baseline's flows, tariffs (fractions) and revenue; `after`,
    `volume` (at baseline prices), `t1` and `rev1` the same after the change. Tariffs are
    weighted with baseline flows (the trackers' pre-substitution rate).
    """
    b = base.sum(axis=-3)
    a = after.sum(axis=-3)
    r1 = rev1.sum(axis=-3)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(b > 0, 100 * (a / np.where(b > 0, b, 1) - 1), np.nan)
        change = np.where(np.abs(change) < 100 * NOISE, 0.0, change)
        vol = np.where(b > 0, 100 * (volume.sum(axis=-3) / np.where(b > 0, b, 1) - 1), np.nan)
        vol = np.where(np.abs(vol) < 100 * NOISE, 0.0, vol)
        return {
            "imports_usd": a,
            "imports_baseline_usd": b,
            "value_change_pct": change,
            "volume_change_pct": vol,
            "tariff_pct": 100 * (t1 * base).sum(axis=-3) / np.where(b > 0, b, np.nan),
            "tariff_baseline_pct": 100 * (t0 * base).sum(axis=-3) / np.where(b > 0, b, np.nan),
            "effective_tariff_pct": 100 * r1 / np.where(a > 0, a, np.nan),
            "revenue_usd": r1,
            "revenue_baseline_usd": rev0.sum(axis=-3),
        }


def country_values(baseline: Baseline, base: np.ndarray, after: np.ndarray) -> dict[str, np.ndarray]:
    """Each country's imports and exports ``[..., country]`` (its own sales excluded) from pair arrays
    ``[..., exporter, importer]`` before (`base`) and after."""
    countries = pd.Index(baseline.countries)
    ex = countries.get_indexer(list(baseline.exporters))
    im = countries.get_indexer(list(baseline.importers))
    own = baseline.domestic_mask
    n = len(countries)

    def by(a: np.ndarray, axis: int, idx: np.ndarray) -> np.ndarray:
        summed = np.where(own, 0.0, a).sum(axis=axis)  # [..., exporter] or [..., importer]
        out = np.zeros((*summed.shape[:-1], n))
        out[..., idx] = summed  # each country once on an axis
        return out

    return {"imports_usd": by(after, -2, im), "imports_baseline_usd": by(base, -2, im),
            "exports_usd": by(after, -1, ex), "exports_baseline_usd": by(base, -1, ex)}


@dataclass(frozen=True, repr=False)
class SimulationResult(Result):
    """The outcome of `tradesim.simulate` for one change of tariffs.

    Attributes
    ----------
    baseline : Baseline
        Gives the coordinates: ``products``, ``exporters``, ``importers`` and ``countries``.
    model : str
        Registered model name.
    solution : object
        The model's solution (`tradesim.models.pe.PESolution` for ``"pe"``,
        `tradesim.models.ge.GESolution` for ``"ge"``); pair arrays
        ``[draw?, product, exporter, importer]``, and a ``country_table()`` of its outputs per
        country.
    tariff_before, tariff_after : numpy.ndarray, ``[product, exporter, importer]``
        Fractions.
    elasticities : Elasticities
    notes : tuple of str
        Choices made for this run that a reader should know (for example that the domestic
        substitute was not modelled).

    Notes
    -----
    With an elasticity draw axis, `summary` and `effective_rate` report the mean over draws;
    `to_frame` and `to_xarray` keep every draw.
    """

    baseline: Baseline
    model: str
    solution: object
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    elasticities: Elasticities
    notes: tuple[str, ...] = ()

    KIND = "solve"

    def __repr__(self) -> str:
        b = self.baseline
        draws = f", {self.n_draws} draws" if self.n_draws else ""
        return (f"SimulationResult(model {self.model!r}: {len(b.products)} products x {len(b.exporters)} exporters x "
                f"{len(b.importers)} importers{draws})")

    @property
    def n_draws(self) -> int | None:
        """Number of elasticity draws, or None without a draw axis."""
        return self.solution.flows_after.shape[0] if getattr(self.solution, "draws", False) else None

    @property
    def leading(self) -> dict[str, np.ndarray]:
        return {"draw": np.arange(self.n_draws)} if self.n_draws else {}

    @property
    def country_values(self) -> dict[str, np.ndarray]:
        """The model's outputs per country, ``[draw?, country]`` (see the model's registry entry)."""
        return self._below_rounding(self.solution.country_table())

    def arrays(self, level: str) -> dict[str, np.ndarray]:
        b, sol = self.baseline, self.solution
        if level == "cell":
            return {
                "imports_usd": sol.flows_after, "imports_baseline_usd": b.flows,
                "quantity_ratio": sol.quantity, "buyer_price_ratio": sol.buyer_price,
                "tariff_pct": 100 * self.tariff_after, "tariff_baseline_pct": 100 * self.tariff_before,
                "revenue_usd": sol.revenue, "revenue_baseline_usd": sol.revenue_before,
            }
        if level == "pair":
            return pair_values(b.flows, sol.flows_after, b.flows * sol.quantity, self.tariff_before,
                               self.tariff_after, sol.revenue_before, sol.revenue)
        self._check_level(level)
        out = country_values(b, b.flows.sum(axis=0), sol.flows_after.sum(axis=-3))
        out.update(self.country_values)
        return out

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) if self.n_draws else a

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
        b = self.baseline
        (j,) = positions(b.importers, importer, "importer")
        idx = [i for i, c in enumerate(b.exporters) if c != importer] if exporter is None else \
            positions(b.exporters, exporter, "exporter")
        w = b.flows if weights == "pre" else self._mean(self.solution.flows_after)
        w = w[:, idx, j]
        total = w.sum()
        if total <= 0:
            raise InputError(f"no {weights}-change trade into {importer} from these exporters to weight by",
                             key="exporter")
        return float((self.tariff_after[:, idx, j] * w).sum() / total)

    def summary(self, by: str = "pair") -> pd.DataFrame:
        """Headline changes, summed over products (means over draws).

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: one row per exporter and importer with baseline trade, with the pair
            variables (`variables("pair")`): imports before and after (USD), their change in
            value and in volume (percent), tariffs before and after (percent, baseline weights),
            the effective tariff (revenue over imports) and revenue (USD). ``"country"``:
            imports and exports before and after (USD), then the model's outputs (for ``"pe"``
            the import price index change, consumer and producer surplus, the revenue change
            and welfare; for ``"ge"`` real income, wages, the consumer price index and welfare).

        Returns
        -------
        pandas.DataFrame
        """
        if by == "pair":
            b = self.baseline
            values = {k: self._mean(v) if np.ndim(v) == 3 else v for k, v in self.arrays("pair").items()}
            base = b.flows.sum(axis=0)
            i, j = np.nonzero((base > 0) & ~b.domestic_mask)
            frame = pd.DataFrame({"exporter": np.asarray(b.exporters)[i], "importer": np.asarray(b.importers)[j]})
            order = ["imports_baseline_usd", "imports_usd", "value_change_pct", "volume_change_pct",
                     "tariff_baseline_pct", "tariff_pct", "effective_tariff_pct", "revenue_baseline_usd",
                     "revenue_usd"]
            for name in order:
                frame[name] = np.asarray(values[name])[i, j]
            return frame
        if by == "country":
            values = self.arrays("country")
            frame = pd.DataFrame({name: self._mean(np.asarray(v)) if np.ndim(v) == 2 else np.asarray(v)
                                  for name, v in values.items()}, index=pd.Index(self.baseline.countries, name="country"))
            return frame
        raise InputError(f"by is {by!r}; expected 'pair' or 'country'", key="by")

    def _card(self) -> list[tuple[str, str]]:
        return [("change", "one change of tariffs")] + super()._card()
