"""The result of a scenario: the model's results on each period of its date grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Baseline
from ..data.layout import Cells
from ..elasticities import Elasticities
from ..errors import InputError
from .base import Result, baseline_pairs, pair_positions, positions
from .single import country_values, pair_values

__all__ = ["ScenarioResult"]


@dataclass(frozen=True, repr=False)
class ScenarioResult(Result):
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
        Fractions: over a product's parts and a period's days, the mean on the trade that is not
        halted (``inf`` where all of it is).
    tariff_reference : numpy.ndarray, ``[product, exporter, importer]``
        Tariffs the baseline's flows reflect (the scenario's reference day). These tariffs (and
        `halted`) depend on the scenario's law alone: the results of repeated runs share them,
        read-only.
    flows, revenue : numpy.ndarray, ``[draw?, time, product, exporter, importer]``
        USD per year.
    quantity, buyer_price : numpy.ndarray, ``[draw?, time, product, exporter, importer]``
        Ratios to the baseline.
    country_values : dict of str to numpy.ndarray, ``[draw?, time, country]``
        The model's outputs per country (its registry entry's outputs), for example
        ``welfare_usd``.
    elasticity_multiplier : numpy.ndarray, ``[time]``
        Factor on the trade elasticity (see `tradesim.scenario.dynamics`).
    elasticities : Elasticities
    shock_start : datetime.date or None
        First day the tariffs differed from the reference tariffs.
    notes : tuple of str
    halted : numpy.ndarray, ``[time, product, exporter, importer]``, or None
        Share of each cell's baseline flows and of the period's days whose trade is halted (an
        import ban or halted purchases: a measure with ``rule = "halt"``), from 0 to 1; None where
        nothing is halted.
    cells : tradesim.data.layout.Cells or None
        On a sparse baseline (``baseline.layout == "sparse"``) whose markets clear each by itself
        (PE with perfectly elastic export supply), the cells that trade of the importers whose
        law the scenario holds: then the arrays above have one ``cell`` axis in place of
        ``product, exporter, importer`` (``tariff`` ``[time, cell]``, ``flows`` ``[draw?, time,
        cell]``, ...), and every other cell keeps its baseline flows, at a tariff of zero, on the
        whole path. None: the arrays have every cell.
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
    country_values: dict
    elasticity_multiplier: np.ndarray
    elasticities: Elasticities
    shock_start: object = None
    notes: tuple[str, ...] = ()
    halted: np.ndarray | None = None
    cells: Cells | None = None

    KIND = "path"

    def __repr__(self) -> str:
        b = self.baseline
        return (f"ScenarioResult({self.scenario.name!r}, model {self.model!r}: {len(self.dates)} periods from "
                f"{self.dates[0].date()}, {len(b.products)} products x {len(b.exporters)} exporters x "
                f"{len(b.importers)} importers{f', {self.n_draws} draws' if self.n_draws else ''})")

    @property
    def n_draws(self) -> int | None:
        """Number of elasticity draws, or None without a draw axis."""
        return self.flows.shape[0] if self.flows.ndim == (5 if self.cells is None else 3) else None

    @property
    def leading(self) -> dict[str, np.ndarray]:
        out = {"draw": np.arange(self.n_draws)} if self.n_draws else {}
        out["date"] = np.asarray(self.dates)
        return out

    def _mean(self, a: np.ndarray) -> np.ndarray:
        return a.mean(axis=0) if self.n_draws else a

    def on_cells(self, level: str):
        """`cells` at level ``"cell"`` of a path on a sparse baseline's cells; None otherwise."""
        return self.cells if level == "cell" else None

    def _inputs(self) -> tuple:
        """``(flows, tariff_reference)``: the baseline's flows (USD) and reference tariffs (fractions) on the
        arrays' cells, ``[cell]`` (on `cells`) or ``[product, exporter, importer]``."""
        b = self.baseline
        return (b.flows if self.cells is None else b.sparse_flows.on(self.cells)), self.tariff_reference

    def arrays(self, level: str) -> dict[str, np.ndarray]:
        b = self.baseline
        flows, t0 = self._inputs()
        t1 = self.tariff
        rev0 = t0 * flows
        if level == "cell":
            out = {
                "imports_usd": self.flows, "imports_baseline_usd": flows[None],
                "quantity_ratio": self.quantity, "buyer_price_ratio": self.buyer_price,
                "tariff_pct": 100 * t1, "tariff_baseline_pct": 100 * t0[None],
                "revenue_usd": self.revenue, "revenue_baseline_usd": rev0[None],
            }
            if self.halted is not None:
                out["halted_pct"] = 100 * self.halted
            return out
        if level == "pair":
            by_pair = None if self.cells is None else self.cells.by_pair
            out = pair_values(flows, self.flows, flows * self.quantity, t0, t1, rev0, self.revenue, by_pair=by_pair,
                              halted=self.halted)
            return out if self.cells is None else self._with_still_pairs(out)
        self._check_level(level)
        if self.cells is None:
            out = country_values(b, b.flows.sum(axis=0), self.flows.sum(axis=-3))
        else:  # the cells' sums by pair, and the baseline's where the path left an importer out
            base = baseline_pairs(b)
            out = country_values(b, base, np.where(self._still(), base, self.cells.by_pair(self.flows)))
        out.update(self._below_rounding(self.country_values))
        return out

    def _still(self) -> np.ndarray:
        """``[importer]``: the importers without `cells` (on a sparse baseline), whose trade keeps its baseline."""
        still = np.ones(len(self.baseline.importers), bool)
        still[self.cells.importer] = False
        return still

    def _with_still_pairs(self, values: dict) -> dict:
        """Pair variables on `cells` completed with the pairs of the importers they leave out: baseline flows
        at a tariff of zero on every date."""
        base = baseline_pairs(self.baseline)
        zero = np.zeros_like(base)
        rest = pair_values(base, base, base, zero, zero, zero, zero, by_pair=lambda a: a,
                           halted=None if self.halted is None else zero)
        still = self._still()
        return {name: np.where(still, rest[name], a) for name, a in values.items()}

    def _scatter(self, cells, name: str, values: np.ndarray) -> np.ndarray:
        # the cells left out of the path keep their baseline flows, at a tariff of zero
        if name not in ("imports_usd", "imports_baseline_usd"):
            return super()._scatter(cells, name, values)
        out = np.empty((*values.shape[:-1], int(np.prod(cells.shape))))
        out[...] = self.baseline.sparse_flows.toarray().reshape(-1)
        out[..., cells.index] = values
        return out.reshape(*values.shape[:-1], *cells.shape)

    def changed_pairs(self) -> list[tuple[str, str]]:
        """``(exporter, importer)`` pairs with trade whose tariff differs from the reference on some date."""
        moved = np.abs(self.tariff - self.tariff_reference).max(axis=0) > 0
        if self.halted is not None:  # halted in part at an unchanged rate on the rest: it moved too
            moved |= (self.halted > 0).any(axis=0)
        flows, _ = self._inputs()
        moved &= flows > 0
        if self.cells is None:
            i, j = np.nonzero(moved.any(axis=0))
        else:  # the pairs of the cells that moved, in the order of a dense result's
            pairs = np.unique(self.cells.exporter[moved] * len(self.baseline.importers) + self.cells.importer[moved])
            i, j = np.divmod(pairs, len(self.baseline.importers))
        return [(self.baseline.exporters[a], self.baseline.importers[c]) for a, c in zip(i, j)]

    def effective_rate(self, importer: str, exporter=None, *, weights: str = "pre") -> pd.Series:
        """Trade-weighted tariff of `importer` on each date (fraction), as the trackers define it.

        Parameters
        ----------
        importer : str
        exporter : str or iterable of str, optional
            All but the importer when None.
        weights : {"pre", "post"}
            Baseline flows (before substitution) or the period's flows (after). Halted trade (`halted`)
            pays nothing and is left out; the rate is ``inf`` where all of it is halted.
        """
        if weights not in ("pre", "post"):
            raise InputError(f"weights is {weights!r}; expected 'pre' or 'post'", key="weights")
        b = self.baseline
        (j,) = positions(b.importers, importer, "importer")
        idx = [i for i, c in enumerate(b.exporters) if c != importer] if exporter is None else \
            positions(b.exporters, exporter, "exporter")
        flows, _ = self._inputs()
        w = flows[None] if weights == "pre" else self._mean(self.flows)
        if self.cells is None:
            def pick(a):  # [time, product, chosen exporter]
                return a[..., idx, j]
        else:  # the importer's cells from these exporters
            chosen = np.zeros(len(b.exporters), bool)
            chosen[idx] = True
            mine = (self.cells.importer == j) & chosen[self.cells.exporter]
            if not mine.any() and self._still()[j]:  # left out of the path: its trade untaxed on every date
                total = baseline_pairs(b)[idx, j].sum()
                return pd.Series(np.where(total > 0, 0.0, np.nan), index=self.dates,
                                 name=f"{importer} effective rate ({weights})")

            def pick(a):  # [time, chosen cell]
                return a[..., mine]
        w = pick(np.broadcast_to(w, self.tariff.shape))
        tariff = pick(self.tariff)
        if self.halted is not None and weights == "pre":  # halted trade pays nothing: left out
            w = w * (1 - pick(self.halted))
        axes = tuple(range(1, w.ndim))
        total = w.sum(axis=axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = (np.where(w > 0, tariff, 0.0) * w).sum(axis=axes) / total
        if self.halted is not None:  # all of it halted: the law's rate, inf
            rate = np.where(total > 0, rate, np.inf)
        return pd.Series(rate, index=self.dates, name=f"{importer} effective rate ({weights})")

    def summary(self, by: str = "pair", pairs=None) -> pd.DataFrame:
        """The path of headline numbers, one row per date and pair (or country); means over draws.

        Parameters
        ----------
        by : {"pair", "country"}
            ``"pair"``: imports (USD per year) at the baseline and on the date, their change in
            value and in volume (percent), the trade-weighted tariff before substitution at the
            baseline and on the date and the effective tariff after it (percent), and tariff
            revenue at the baseline and on the date (USD per year): the columns of
            `SimulationResult.summary`, with ``date``. ``"country"``: imports and exports (USD per year)
            and the model's outputs.
        pairs : iterable of (exporter, importer), optional
            With ``by="pair"``; the pairs whose tariffs change (`changed_pairs`) when None.
        """
        if by == "pair":
            pairs = self.changed_pairs() if pairs is None else list(pairs)
            # the columns and order of SimulationResult.summary("pair"), with a date
            cols = ["date", "exporter", "importer", "imports_baseline_usd", "imports_usd", "value_change_pct",
                    "volume_change_pct", "tariff_baseline_pct", "tariff_pct", "effective_tariff_pct",
                    "revenue_baseline_usd", "revenue_usd"] + (["halted_pct"] if self.halted is not None else [])
            if not pairs:
                return pd.DataFrame(columns=cols)
            i, j = pair_positions(self.baseline, pairs)
            none = [pairs[n] for n in np.flatnonzero(baseline_pairs(self.baseline)[i, j] <= 0)]
            if none:
                raise InputError(f"no baseline trade for {none[:5]}", key="pairs")
            values = self.arrays("pair")
            T, P = len(self.dates), len(pairs)
            frame = {"date": np.repeat(self.dates, P), "exporter": np.tile([p[0] for p in pairs], T),
                     "importer": np.tile([p[1] for p in pairs], T)}
            shape = (T, len(self.baseline.exporters), len(self.baseline.importers))
            for name in cols[3:]:
                a = np.asarray(values[name])
                a = np.broadcast_to(self._mean(a) if a.ndim == 4 else a, shape)
                frame[name] = a[:, i, j].ravel()
            out = pd.DataFrame(frame)
            # one pair after another, in date order, as the tables print them
            order = np.lexsort((np.repeat(np.arange(T), P), np.tile(np.arange(P), T)))
            return out.iloc[order].reset_index(drop=True)
        if by == "country":
            values = self.arrays("country")
            n, T = len(self.baseline.countries), len(self.dates)
            table = {"date": np.repeat(self.dates, n), "country": np.tile(self.baseline.countries, T)}
            for name, a in values.items():
                a = np.asarray(a)
                table[name] = np.broadcast_to(self._mean(a) if a.ndim == 3 else a, (T, n)).ravel()
            return pd.DataFrame(table)
        raise InputError(f"by is {by!r}; expected 'pair' or 'country'", key="by")

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

    def _card(self) -> list[tuple[str, str]]:
        s = self.scenario
        return [("scenario", f"{s.name}: {s.description}" if s.description else s.name),
                ("periods", f"{len(self.dates)} {s.frequency} from {self.dates[0].date()} to "
                            f"{(self.period_ends[-1] - pd.Timedelta(days=1)).date()}")] + super()._card()
