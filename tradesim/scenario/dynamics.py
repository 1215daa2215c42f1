"""Time paths: the date grid, how fast trade adjusts to tariffs, and buying ahead of announced tariffs.

A scenario runs on periods (months by default). Tariffs change on given days, so each period is cut
into pieces on which the tariffs are constant; the model runs on each piece, and a period's value is
the mean over its pieces weighted by their length. Flows are annual rates (USD per year), so the mean
over the twelve months of a year is that year's trade.

How trade adjusts (`Dynamics.adjustment`):

``"partial"`` (the default)
    The model's long-run equilibrium is solved for each tariff regime ``r`` (starting on ``s_r``);
    log flows and quantities move towards each new equilibrium with the weight
    ``w(h) = 1 - 2 ** (-h / half_life)``:

    .. math:: \\ln x(t) = \\sum_r w(t - s_r) (\\ln x^*_r - \\ln x^*_{r-1})

    Prices move at once: buyer prices and price indexes are the current regime's (complete
    pass-through; Amiti, Redding and Weinstein 2019), and tariff revenue is the current tariffs on
    the path's flows. Welfare moves towards each regime's with the quantities' weights, and the
    remaining part (consumer surplus in PE) is welfare less the others: the first month after a rise
    is a transfer from buyers to the treasury, and the deadweight loss phases in with the
    quantities (`tradesim.models.registry.Output.timing`).

    With ``persistence`` ``p > 0``, a share ``p`` of every fall does not come back when tariffs are
    cut (`persistent`). The default 0 is the average finding over 596 reversals of trade
    agreements (Ait Benasser 2025: flows after a reversal are indistinguishable from flows never
    liberalised); US sugar duties 1890-1930 (Irwin 2014), the 2011 lapse of the GSP (Hakobyan
    2020) and the partial relief of the Section 301 exclusions (Swenson 2025) point to some
    persistence after long or deep episodes, without a published share.
``"elasticity"``
    Each piece is an equilibrium of the model with its trade elasticity (``sigma``) scaled by
    ``m(h)`` below, and ``eta`` by the same factor (`ModelSpec.short_run`): with ``sigma`` alone
    scaled, ``sigma < eta`` in the short run would make every other source lose from a tariff on
    one (gross complements), against the rise of third countries' exports to the US after the
    2018-19 tariffs (Fajgelbaum, Goldberg, Kennedy, Khandelwal and Taglioni 2024).

    .. math:: m(h) = s + (1 - s)\\,\\mathrm{clip}\\left(\\frac{h - h_s}{h_l - h_s}, 0, 1\\right)

    where ``h`` is the time in years since the tariffs first moved away from the reference tariffs,
    ``s = short_run_share`` (0.38 = 0.76 / 2.0), ``h_s = short_run_years`` (1) and
    ``h_l = long_run_years`` (7): Boehm, Levchenko and Pandalai-Nayar (2023) estimate an
    elasticity of 0.76 one year after an MFN tariff change and about 2 in the long run, reached
    after 7 to 10 years. Each piece has no memory: when tariffs return to the reference, trade
    returns at once. The clock is one for the whole scenario.
``"none"``
    The long-run equilibrium at every date.

The defaults are calibrated to the tariff wars, not to MFN changes. Partial adjustment with a
half-life of 1.5 months and ``sigma`` 2.75 (`tradesim.Elasticities`) fit the 2025 US-China monthly
path (``scripts/calibrate_dynamics.py``: least squares on April-December 2025 against the same
months of 2024, both directions, with Fajgelbaum, Goldberg, Kennedy and Khandelwal's 2.53 as a
prior; refitted on the all-layer us-china-2025 of tariffs-2025, which moved the half-life from 2 to
1.5 months): US imports from China -28.2% in 2025 as a mean of monthly ratios (actual -28.4%), no rebound after the Geneva cut (the
months after it stayed near -40%, as in the data), and a one-year elasticity of 2.7, as their
-31.5% for targeted imports implies (2.96). Boehm, Levchenko and Pandalai-Nayar's slower path
fits small MFN changes: use ``adjustment = "elasticity"`` with ``sigma`` 2.

Anticipation (`Dynamics.front_loading`, 1 by default): where a tariff rise was announced on day
``a`` before it took effect on day ``e``, the import rate of the goods it hits rises in ``[a, e)`` by
the share ``front_loading * ln((1 + t_e) / (1 + t_a))``, and the volume bought ahead is taken back in
equal parts over ``payback_months`` (3) from ``e``: trade moves in time, its total does not change.
Only flows, quantities and tariff revenue are moved; welfare is not. The default 1 is what US
imports of Chinese EV batteries did between the announcement (May 14 2024) and the start (Sep 27)
of the rise from 7.5% to 25%: +15% on a log tariff change of 0.15 (Cook, Dzholos and Matschke,
Federal Reserve Bank of Kansas City Economic Bulletin, January 2025); US imports from China in
January 2025, ahead of the first IEEPA duties, imply about 1.3 (Census).

References
----------
Ait Benasser, Y. (2025). Evaluating the symmetry of trade policy: evidence from liberalization
reversals. Journal of Economic Asymmetries 31.
Amiti, M., Redding, S. J., and Weinstein, D. E. (2019). The impact of the 2018 tariffs on prices and
welfare. Journal of Economic Perspectives 33(4), 187-210.
Boehm, C. E., Levchenko, A. A., and Pandalai-Nayar, N. (2023). The Long and Short (Run) of Trade
Elasticities. American Economic Review 113(4), 861-905.
Fajgelbaum, P., Goldberg, P. K., Kennedy, P. J., Khandelwal, A. K., and Taglioni, D. (2024). The
US-China Trade War and Global Reallocations. American Economic Review: Insights 6(2), 295-312.
Fajgelbaum, P. D., Goldberg, P. K., Kennedy, P. J., and Khandelwal, A. K. (2020). The Return to
Protectionism. Quarterly Journal of Economics 135(1), 1-55.
Hakobyan, S. (2020). GSP expiration and declining exports from developing countries. Canadian
Journal of Economics 53(3), 1132-1161.
Irwin, D. A. (2014). Tariff incidence: evidence from U.S. sugar duties, 1890-1930. NBER Working
Paper 20635.
Swenson, D. L. (2025). US tariff exclusions and imports from China. Asian Economic Papers 24(1), 1-25.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "Dynamics",
    "FREQUENCIES",
    "periods",
    "pieces",
    "elasticity_multiplier",
    "adjustment_weight",
    "adjustment_weights",
    "partial_adjustment",
    "BLP_SHORT_RUN_SHARE",
    "BLP_HALF_LIFE_MONTHS",
]

#: Frequency names of scenario files and their pandas offsets (periods start on the anchor).
FREQUENCIES = {"daily": "D", "weekly": "W-MON", "monthly": "MS", "quarterly": "QS", "annual": "YS"}
ADJUSTMENTS = ("elasticity", "partial", "none")
_YEAR = 365.25

#: Short-run over long-run trade elasticity, 0.76 / 2.0 (Boehm, Levchenko and Pandalai-Nayar 2023).
BLP_SHORT_RUN_SHARE = 0.76 / 2.0
#: The half-life (months) at which partial adjustment reaches that share after one year.
BLP_HALF_LIFE_MONTHS = 12 * math.log(2) / -math.log(1 - BLP_SHORT_RUN_SHARE)


@dataclass(frozen=True)
class Dynamics:
    """How trade adjusts over time (see the module notes).

    Parameters
    ----------
    adjustment : {"elasticity", "partial", "none"}
    short_run_share : float
        Trade elasticity at ``short_run_years`` as a share of the long-run one (0 to 1).
    short_run_years, long_run_years : float
        Horizons of the short-run and long-run elasticities, years.
    half_life_months : float
        Half-life of partial adjustment, months.
    front_loading : float
        Rise of the import rate before an announced tariff rise, per unit of the log tariff
        change (0: no anticipation).
    payback_months : float
        Months over which the volume bought ahead is taken back.
    persistence : float
        Under partial adjustment, the share of a fall in trade that does not come back when
        tariffs are cut (0 to 1; 0: recovery mirrors the fall).

    Examples
    --------
    >>> d = Dynamics()
    >>> d.adjustment, d.half_life_months, d.front_loading, d.persistence
    ('partial', 1.5, 1.0, 0.0)
    """

    adjustment: str = "partial"
    short_run_share: float = BLP_SHORT_RUN_SHARE
    short_run_years: float = 1.0
    long_run_years: float = 7.0
    half_life_months: float = 1.5
    front_loading: float = 1.0
    payback_months: float = 3.0
    persistence: float = 0.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            key, message = problems[0]
            raise InputError(message, key=f"dynamics.{key}")

    def problems(self) -> list[tuple[str, str]]:
        """``(key, message)`` for every bad value (used by the scenario reader to report all at once)."""
        out = []
        if self.adjustment not in ADJUSTMENTS:
            out.append(("adjustment", f"{self.adjustment!r} is not an adjustment: expected one of {list(ADJUSTMENTS)}"))
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name != "adjustment" and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
                out.append((f.name, f"{v!r} is not a number"))
        if out:
            return out
        if not 0 < self.short_run_share <= 1:
            out.append(("short_run_share", f"is {self.short_run_share}; expected a share in (0, 1]"))
        if not 0 <= self.short_run_years < self.long_run_years:
            out.append(("long_run_years", f"is {self.long_run_years}; expected more than short_run_years "
                                          f"({self.short_run_years}), which must be 0 or more"))
        for name in ("half_life_months", "payback_months"):
            if getattr(self, name) <= 0:
                out.append((name, f"is {getattr(self, name)}; expected a number of months > 0"))
        if self.front_loading < 0:
            out.append(("front_loading", f"is {self.front_loading}; expected 0 or more"))
        if not 0 <= self.persistence <= 1:
            out.append(("persistence", f"is {self.persistence}; expected a share in [0, 1]"))
        elif self.persistence > 0 and self.adjustment != "partial":
            out.append(("persistence", f"is {self.persistence} with adjustment {self.adjustment!r}: persistence "
                                       "needs adjustment = 'partial' (the other adjustments have no memory)"))
        return out


def periods(start, end, frequency: str = "monthly") -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Periods of a scenario: the first starts on `start`, the others on each anchor up to `end`.

    Parameters
    ----------
    start, end : date or str
    frequency : str
        One of `FREQUENCIES`.

    Returns
    -------
    starts, ends : pandas.DatetimeIndex, ``[time]``
        Each period is ``[start, end)``; the last runs to the anchor after `end`'s period start.

    Examples
    --------
    >>> s, e = periods("2025-01-15", "2025-03-31")
    >>> [str(d.date()) for d in s], str(e[-1].date())
    (['2025-01-15', '2025-02-01', '2025-03-01'], '2025-04-01')
    """
    if frequency not in FREQUENCIES:
        raise InputError(f"{frequency!r} is not a frequency: expected one of {list(FREQUENCIES)}", key="frequency")
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if end < start:
        raise InputError(f"end {end.date()} is before start {start.date()}", key="end")
    offset = pd.tseries.frequencies.to_offset(FREQUENCIES[frequency])
    anchors = pd.date_range(start, end, freq=offset)
    starts = pd.DatetimeIndex([start]).append(anchors[anchors > start])
    ends = starts[1:].append(pd.DatetimeIndex([starts[-1] + offset]))
    return starts, ends


@dataclass(frozen=True)
class Pieces:
    """Periods cut where anything changes.

    Attributes
    ----------
    start, end : pandas.DatetimeIndex, ``[piece]``
    period : numpy.ndarray of int, ``[piece]``
        The period each piece belongs to.
    weight : numpy.ndarray, ``[piece]``
        Its share of the period's length; the weights of a period sum to one.
    """

    start: pd.DatetimeIndex
    end: pd.DatetimeIndex
    period: np.ndarray
    weight: np.ndarray

    @property
    def middle(self) -> pd.DatetimeIndex:
        return self.start + (self.end - self.start) / 2

    def to_periods(self, values: np.ndarray, axis: int = 0) -> np.ndarray:
        """Length-weighted mean over the pieces of each period, along `axis` (``[piece]`` -> ``[time]``)."""
        values = np.moveaxis(np.asarray(values, dtype=float), axis, 0)
        n = int(self.period.max()) + 1 if self.period.size else 0
        out = np.zeros((n, *values.shape[1:]))
        w = self.weight.reshape((-1,) + (1,) * (values.ndim - 1))
        np.add.at(out, self.period, values * w)
        return np.moveaxis(out, 0, axis)


def pieces(starts: pd.DatetimeIndex, ends: pd.DatetimeIndex, cuts=()) -> Pieces:
    """Cut periods ``[starts, ends)`` at the days in `cuts` (days outside the periods are ignored).

    Examples
    --------
    >>> s, e = periods("2025-04-01", "2025-04-30")
    >>> p = pieces(s, e, ["2025-04-10"])
    >>> p.weight.round(3).tolist()
    [0.3, 0.7]
    """
    cuts = pd.DatetimeIndex([pd.Timestamp(c) for c in cuts])
    bounds = starts.append(ends).append(cuts[(cuts > starts[0]) & (cuts < ends[-1])]).unique().sort_values()
    p_start, p_end = bounds[:-1], bounds[1:]
    period = np.searchsorted(starts.values, p_start.values, side="right") - 1
    length = (p_end - p_start) / pd.Timedelta(days=1)
    period_length = (ends - starts) / pd.Timedelta(days=1)
    return Pieces(p_start, p_end, period, np.asarray(length, float) / np.asarray(period_length, float)[period])


def years_between(later, earlier) -> np.ndarray:
    """``later - earlier`` in years of 365.25 days."""
    return _years(later) - _years([earlier])[0]


def _years(dates) -> np.ndarray:
    return pd.DatetimeIndex(dates).values.astype("datetime64[s]").astype(float) / 86400 / _YEAR


def elasticity_multiplier(h_years, dynamics: Dynamics) -> np.ndarray:
    """The factor ``m(h)`` on the trade elasticity ``h`` years after the tariffs first moved.

    Examples
    --------
    >>> elasticity_multiplier([0.5, 1.0, 4.0, 7.0, 20.0], Dynamics("elasticity", short_run_share=0.4)).round(2).tolist()
    [0.4, 0.4, 0.7, 1.0, 1.0]
    """
    d = dynamics
    if d.adjustment != "elasticity":
        return np.ones(np.shape(h_years))
    ramp = np.clip((np.asarray(h_years, float) - d.short_run_years) / (d.long_run_years - d.short_run_years), 0, 1)
    return d.short_run_share + (1 - d.short_run_share) * ramp


def adjustment_weight(h_years, half_life_months: float) -> np.ndarray:
    """Share of the way to a new equilibrium ``h`` years after it began: ``1 - 2**(-h / half_life)``.

    Zero for ``h <= 0``.

    Examples
    --------
    >>> adjustment_weight([0.0, 1.0, 2.0], 12.0).tolist()
    [0.0, 0.5, 0.75]
    """
    h = np.clip(np.asarray(h_years, float), 0, None)
    return 1 - 2.0 ** (-12 * h / half_life_months)


def persistent(log_targets: np.ndarray, persistence: float) -> np.ndarray:
    """Log targets ``[regime, ...]`` where a share `persistence` of every fall does not come back.

    A cell's lowest log target so far (the baseline, 0, included) marks its fall; when a later
    target recovers part of it, only ``1 - persistence`` of the recovery counts. Cells that never
    fell (bystanders gaining from diversion) are unchanged.

    Examples
    --------
    >>> persistent(np.log([1.0, 0.5, 1.0]), 0.25).round(4).tolist()  # a quarter of the fall stays
    [0.0, -0.6931, -0.1733]
    """
    if persistence == 0 or not len(log_targets):
        return log_targets
    fallen = np.minimum(log_targets, 0.0)
    low = np.minimum.accumulate(fallen, axis=0)
    return log_targets - persistence * (fallen - low)


def adjustment_weights(regime_start, times, half_life_months: float) -> np.ndarray:
    """``[time, regime - 1]``: the share of the way each regime's move (the first regime's excepted) has gone at
    each of `times` (`adjustment_weight` of the years since the regime began).

    Examples
    --------
    >>> w = adjustment_weights(["2025-01-01", "2025-01-01"], ["2025-01-01", "2026-01-01"], 12 * 365 / 365.25)
    >>> w.round(6).tolist()
    [[0.0], [0.5]]
    """
    h = _years(times)[:, None] - _years(pd.DatetimeIndex(regime_start)[1:])[None, :]
    return adjustment_weight(h, half_life_months)


def partial_adjustment(targets: np.ndarray, regime_start, times, half_life_months: float, *, log: bool,
                       persistence: float = 0.0, weights: np.ndarray | None = None) -> np.ndarray:
    """Values at `times` that move towards each regime's target with a half-life.

    Parameters
    ----------
    targets : numpy.ndarray, ``[regime, ...]``
        Equilibrium values of each regime, the first being the starting point (weight one).
    regime_start : sequence of dates, ``[regime]``
        Day each regime began (the first is ignored).
    times : sequence of dates, ``[time]``
    half_life_months : float
    log : bool
        Move in logs (positive quantities) or in levels (USD amounts).
    persistence : float
        Share of a fall that does not come back when the target recovers (`persistent`; logs only).
        Falls are measured from the first regime's value, so flows in USD and quantities relative to
        the baseline keep the same share.
    weights : numpy.ndarray, ``[time, regime - 1]``, optional
        `adjustment_weights` of `regime_start`, `times` and `half_life_months`, when already known
        (a path computed in chunks forms them once).

    Returns
    -------
    numpy.ndarray, ``[time, ...]``

    Examples
    --------
    >>> partial_adjustment(np.array([0.0, 10.0]), ["2025-01-01", "2025-01-01"], ["2025-01-01", "2026-01-01"],
    ...                    12 * 365 / 365.25, log=False).round(6).tolist()
    [0.0, 5.0]
    """
    targets = np.asarray(targets, float)
    if log:  # falls are measured from the first regime's values (the baseline's), whatever their unit
        x = np.log(targets)
        x = x[0] + persistent(x - x[0], persistence) if persistence else x
    else:
        x = targets
    steps = np.diff(x, axis=0)  # [regime - 1, ...]: the move each regime starts
    w = adjustment_weights(regime_start, times, half_life_months) if weights is None else weights
    if not len(steps):
        out = np.broadcast_to(x[0], (len(times), *x.shape[1:]))
        return np.exp(out) if log else out
    out = np.tensordot(w, steps, axes=(1, 0))  # a new array: the start added and exponentiated in place
    out += x[0]
    return np.exp(out, out=out) if log else out
