"""The result of one change of tariffs (`tradesim.simulate` with tariffs before and after)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Baseline
from ..data.layout import Cells, SparseTensor
from ..elasticities import Elasticities
from ..errors import InputError
from .base import NOISE, Result, baseline_pairs, positions

__all__ = ["SimulationResult", "pair_values", "country_values"]


def pair_values(base: np.ndarray, after: np.ndarray, volume: np.ndarray, t0: np.ndarray, t1: np.ndarray,
                rev0: np.ndarray, rev1: np.ndarray, by_pair=None, halted=None) -> dict[str, np.ndarray]:
    """The pair variables ``[..., exporter, importer]`` from arrays ``[..., product, exporter, importer]``
    summed over products, or from arrays ``[..., cell]`` summed by `by_pair` (`Cells.by_pair` of their cells).

    `base`, `t0` and `rev0` are the baseline's flows, tariffs (fractions) and revenue; `after`,
    `volume` (at baseline prices), `t1` and `rev1` the same after the change. Tariffs are
    weighted with baseline flows (the trackers' pre-substitution rate). `halted`, like `t1`, is
    the share of each cell's trade that is halted (None: none): the tariff after is then the
    mean over the rest (``inf`` where all is halted), and ``halted_pct`` the halted share of the
    pair's baseline trade.
    """
    total = (lambda x: x.sum(axis=-3)) if by_pair is None else by_pair
    b = total(base)
    a = total(after)
    r1 = total(rev1)
    extra = {}
    if halted is not None:  # halted trade pays no tariff: the rate after is the mean over the rest
        open_base = base * (1 - halted)
        with np.errstate(invalid="ignore", divide="ignore"):
            open_total = total(open_base)
            paid = np.where(open_total > 0, total(np.where(open_base > 0, t1, 0.0) * open_base)
                            / np.where(open_total > 0, open_total, 1.0), np.where(b > 0, np.inf, np.nan))
            extra["halted_pct"] = 100 * total(base * halted) / np.where(b > 0, b, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = np.where(b > 0, 100 * (a / np.where(b > 0, b, 1) - 1), np.nan)
        change = np.where(np.abs(change) < 100 * NOISE, 0.0, change)
        vol = np.where(b > 0, 100 * (total(volume) / np.where(b > 0, b, 1) - 1), np.nan)
        vol = np.where(np.abs(vol) < 100 * NOISE, 0.0, vol)
        return {
            "imports_usd": a,
            "imports_baseline_usd": b,
            "value_change_pct": change,
            "volume_change_pct": vol,
            # a halt (inf) where nothing trades weighs nothing: not inf x 0
            "tariff_pct": 100 * (paid if halted is not None else
                                 total(np.where(base > 0, t1, 0.0) * base) / np.where(b > 0, b, np.nan)),
            "tariff_baseline_pct": 100 * total(t0 * base) / np.where(b > 0, b, np.nan),
            "effective_tariff_pct": 100 * r1 / np.where(a > 0, a, np.nan),
            "revenue_usd": r1,
            "revenue_baseline_usd": total(rev0),
            **extra,
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


def _on(tariff, cells: Cells) -> np.ndarray:
    """`tariff` (a `SparseTensor`, a dense ``[product, exporter, importer]`` tensor or a ``[cell]`` vector)
    on `cells`, ``[cell]``."""
    if isinstance(tariff, SparseTensor):
        return tariff.on(cells)
    tariff = np.asarray(tariff)
    return cells.gather(tariff) if tariff.ndim == 3 else tariff


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
        ``[draw?, product, exporter, importer]`` (``[draw?, cell]`` on the ``cells`` of a sparse
        baseline, `on_cells`), and a ``country_table()`` of its outputs per country.
    tariff_before, tariff_after : numpy.ndarray or SparseTensor, ``[product, exporter, importer]``
        Fractions; a `tradesim.data.layout.SparseTensor` on the solution's cells when it has them.
    elasticities : Elasticities
    notes : tuple of str
        Choices made for this run that a reader should know (for example that the domestic
        substitute was not modelled).

    Notes
    -----
    With an elasticity draw axis, `summary` and `effective_rate` report the mean over draws;
    `to_frame` and `to_xarray` keep every draw.

    On a sparse baseline's cells (``on_cells("cell")``, a model solved on
    ``baseline.sparse_flows``), the tables are sums over the cells: `summary`, `effective_rate`
    and `to_frame` hold ``[exporter, importer]`` and per-country arrays at most, and
    ``to_frame(level="cell")`` has a row per listed cell. ``to_xarray(level="cell")`` is the
    dense grid, for small baselines.
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

    def on_cells(self, level: str):
        """The solution's cells (`tradesim.data.layout.Cells`) at level ``"cell"`` of a run on a sparse
        baseline's cells; None otherwise."""
        return getattr(self.solution, "cells", None) if level == "cell" else None

    def inputs(self) -> tuple:
        """``(cells, flows, tariff_before, tariff_after)``: the baseline's flows (USD) and the tariffs
        (fractions) on the solution's cells, ``[cell]`` each; or dense ``[product, exporter, importer]``
        with cells None."""
        cells = self.on_cells("cell")
        if cells is None:
            return None, self.baseline.flows, self.tariff_before, self.tariff_after
        return (cells, self.baseline.sparse_flows.on(cells), _on(self.tariff_before, cells),
                _on(self.tariff_after, cells))

    @property
    def halted(self) -> np.ndarray | None:
        """Where trade is halted after the change (a tariff of ``inf``: an import ban or halted purchases),
        1.0 there and 0.0 elsewhere, like `tariff_after` on the solution's cells; None where no cell that
        trades is halted."""
        _, flows, _, t1 = self.inputs()
        stop = np.isposinf(t1)
        return stop.astype(float) if (stop & (flows > 0)).any() else None  # a halt without trade halts nothing

    @property
    def country_values(self) -> dict[str, np.ndarray]:
        """The model's outputs per country, ``[draw?, country]`` (see the model's registry entry)."""
        return self._below_rounding(self.solution.country_table())

    def arrays(self, level: str) -> dict[str, np.ndarray]:
        b, sol = self.baseline, self.solution
        self._check_level(level)
        cells, flows, t0, t1 = self.inputs()
        halted = self.halted
        if level == "cell":
            out = {
                "imports_usd": sol.flows_after, "imports_baseline_usd": flows,
                "quantity_ratio": sol.quantity, "buyer_price_ratio": sol.buyer_price,
                "tariff_pct": 100 * t1, "tariff_baseline_pct": 100 * t0,
                "revenue_usd": sol.revenue, "revenue_baseline_usd": sol.revenue_before,
            }
            if halted is not None:  # a halted cell's rate and buyer price are inf: nothing is bought at any price
                out["halted_pct"] = 100 * halted
            return out
        if level == "pair":
            return pair_values(flows, sol.flows_after, flows * sol.quantity, t0, t1, sol.revenue_before, sol.revenue,
                               by_pair=None if cells is None else cells.by_pair, halted=halted)
        if cells is None:
            out = country_values(b, flows.sum(axis=0), sol.flows_after.sum(axis=-3))
        else:  # [exporter, importer] sums of the cells
            out = country_values(b, baseline_pairs(b), cells.by_pair(sol.flows_after))
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
        cells, flows, _, t1 = self.inputs()
        w = flows if weights == "pre" else self._mean(self.solution.flows_after)
        w = np.where(np.isposinf(t1), 0.0, w)  # halted trade pays nothing: left out
        if cells is None:
            w, t1 = w[:, idx, j], t1[:, idx, j]
        else:  # the importer's cells from these exporters
            chosen = np.zeros(len(b.exporters), bool)
            chosen[idx] = True
            mine = (cells.importer == j) & chosen[cells.exporter]
            w, t1 = w[mine], t1[mine]
        total = w.sum()
        if total <= 0:
            raise InputError(f"no {weights}-change trade into {importer} from these exporters to weight by "
                             "(that is not halted)", key="exporter")
        return float((np.where(w > 0, t1, 0.0) * w).sum() / total)

    def summary(self, by: str = "pair") -> pd.DataFrame:
        """Headline changes, summed over products (means over draws).

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: one row per exporter and importer with baseline trade, with the pair
            variables (`variables("pair")`): imports before and after (USD), their change in
            value and in volume (percent), tariffs before and after (percent, baseline weights),
            the effective tariff (revenue over imports) and revenue (USD), and where some trade
            is halted, the halted share of baseline trade (``halted_pct``; the tariff after is
            then the mean over the rest). ``"country"``:
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
            base = baseline_pairs(b)
            i, j = np.nonzero((base > 0) & ~b.domestic_mask)
            frame = pd.DataFrame({"exporter": np.asarray(b.exporters)[i], "importer": np.asarray(b.importers)[j]})
            order = ["imports_baseline_usd", "imports_usd", "value_change_pct", "volume_change_pct",
                     "tariff_baseline_pct", "tariff_pct", "effective_tariff_pct", "revenue_baseline_usd",
                     "revenue_usd"] + (["halted_pct"] if "halted_pct" in values else [])
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
