"""Tariff revenue on every pair, shared by the solutions of all models."""

from __future__ import annotations

import numpy as np

__all__ = ["PairRevenue"]


class PairRevenue:
    """Mixin for a solution with ``flows``, ``flows_after``, ``tariff_before`` and ``tariff_after``."""

    @property
    def revenue(self) -> np.ndarray:
        """Tariff revenue after the change, ``t1 * flows_after``, USD, like `flows_after`."""
        return self.tariff_after * self.flows_after

    @property
    def revenue_before(self) -> np.ndarray:
        """Tariff revenue at the baseline, ``t0 * flows``, USD, like `flows`."""
        return self.tariff_before * self.flows
