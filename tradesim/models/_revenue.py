"""Tariff revenue on every pair, shared by the solutions of all models.

A halted pair (an import ban or halted purchases) has an infinite tariff and no trade after:
it collects nothing, where ``inf * 0`` would give NaN (`charged`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["PairRevenue", "charged"]


def charged(t: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``t * values``, the duty on `values` at rates `t`, with nothing charged where `t` is a halt (``inf``).

    `values` must be zero where `t` is infinite (no trade passes a halt); `t` and `values` broadcast.
    """
    t, values = np.asarray(t, dtype=float), np.asarray(values, dtype=float)
    return np.multiply(t, values, where=np.isfinite(t), out=np.zeros(np.broadcast_shapes(t.shape, values.shape)))


class PairRevenue:
    """Mixin for a solution with ``flows``, ``flows_after``, ``tariff_before`` and ``tariff_after``."""

    @property
    def revenue(self) -> np.ndarray:
        """Tariff revenue after the change, ``t1 * flows_after``, USD, like `flows_after` (0 on halted pairs)."""
        return charged(self.tariff_after, self.flows_after)

    @property
    def revenue_before(self) -> np.ndarray:
        """Tariff revenue at the baseline, ``t0 * flows``, USD, like `flows`."""
        return self.tariff_before * self.flows
