"""Plotting helpers for results.

Each helper takes ``ax=None`` (a new figure when None) and ``figsize`` (not with `ax`),
returns the Axes, never calls ``plt.show()`` and imports matplotlib only when called.
Colours are colour-blind safe: the Okabe-Ito palette for categories and ColorBrewer's
red-blue for diverging scales. Every figure carries a source note under its x-axis label.

Over time (`ScenarioResult`): `tariff_timeline`, `trade_path`, `fan` (which also takes an
`EnsembleResult`).
At one time (`SimulationResult`, or a `ScenarioResult` at a date): `trade_change`,
`diversion`, `heatmap`, `welfare`.
"""

from __future__ import annotations

from ._common import PALETTE
from .paths import fan, tariff_timeline, trade_path
from .snapshots import diversion, heatmap, trade_change, welfare

__all__ = ["PALETTE", "PlotAccessor", "diversion", "fan", "heatmap", "tariff_timeline", "trade_change", "trade_path",
           "welfare"]

_HELPERS = {f.__name__: f for f in (tariff_timeline, trade_path, fan, trade_change, diversion, heatmap, welfare)}


class PlotAccessor:
    """``result.plot.NAME(...)`` is ``tradesim.plot.NAME(result, ...)``.

    Examples
    --------
    >>> sorted(name for name in dir(PlotAccessor(None)) if not name.startswith("_"))[:3]
    ['diversion', 'fan', 'heatmap']
    """

    def __init__(self, result):
        self._result = result

    def __getattr__(self, attr):
        if attr not in _HELPERS:
            raise AttributeError(f"no plot {attr!r}; plots: {sorted(_HELPERS)}")
        helper = _HELPERS[attr]

        def bound(*args, **kwargs):
            return helper(self._result, *args, **kwargs)

        bound.__name__, bound.__doc__ = attr, helper.__doc__
        return bound

    def __dir__(self):
        return sorted(_HELPERS)

    def __repr__(self) -> str:
        return f"<plots of {type(self._result).__name__}: {', '.join(sorted(_HELPERS))}>"
