"""Plotting helpers for results.

Each helper takes ``ax=None`` (a new figure when None) and ``figsize`` (not with `ax`),
returns the Axes, never calls ``plt.show()`` and imports matplotlib only when called.
Colours are colour-blind safe: the Okabe-Ito palette for categories and ColorBrewer's
red-blue for diverging scales. Every figure carries a source note under its x-axis label.

Over time (`ScenarioResult`): `tariff_timeline`, `trade_path`, `fan` (which also takes an
`EnsembleResult`).
At one time (`SimulationResult`, or a `ScenarioResult` at a date): `trade_change`,
`diversion`, `heatmap`, `welfare`.
Of the law alone: `rate_series` draws a table of trade-weighted rates over time
(`TariffSchedule.rate_table`).
"""

from __future__ import annotations

from ._common import PALETTE
from .paths import fan, rate_series, tariff_timeline, trade_path
from .snapshots import diversion, heatmap, trade_change, welfare

from ..results import EnsembleResult, ScenarioResult, SimulationResult

__all__ = ["PALETTE", "PlotAccessor", "diversion", "fan", "heatmap", "rate_series", "tariff_timeline", "trade_change",
           "trade_path", "welfare"]

#: The plots each result type can draw.
PLOTS = {
    SimulationResult: (trade_change, diversion, heatmap, welfare),
    ScenarioResult: (tariff_timeline, trade_path, fan, trade_change, diversion, heatmap, welfare),
    EnsembleResult: (fan,),
}


class PlotAccessor:
    """``result.plot.NAME(...)`` is ``tradesim.plot.NAME(result, ...)``, for the plots the result's type can draw.

    Examples
    --------
    >>> sorted(name for name in dir(PlotAccessor(EnsembleResult.__new__(EnsembleResult))))
    ['fan']
    """

    def __init__(self, result):
        self._result = result
        self._helpers = {f.__name__: f for kind, fs in PLOTS.items() if isinstance(result, kind) for f in fs}

    def __getattr__(self, attr):
        helpers = self.__dict__.get("_helpers", {})
        if attr not in helpers:
            raise AttributeError(f"no plot {attr!r} for a {type(self.__dict__.get('_result')).__name__}; "
                                 f"plots: {sorted(helpers)}")
        helper = helpers[attr]

        def bound(*args, **kwargs):
            return helper(self._result, *args, **kwargs)

        bound.__name__, bound.__doc__ = attr, helper.__doc__
        return bound

    def __dir__(self):
        return sorted(self._helpers)

    def __repr__(self) -> str:
        return f"<plots of {type(self._result).__name__}: {', '.join(sorted(self._helpers))}>"


def _plots(result) -> PlotAccessor:
    """Plots of this result: ``result.plot.NAME(...)`` calls ``tradesim.plot.NAME(result, ...)``."""
    return PlotAccessor(result)


# Results do not import plot/: the accessor is attached here, when tradesim.plot is imported
# (``import tradesim`` does).
for _kind in PLOTS:
    _kind.plot = property(_plots)
