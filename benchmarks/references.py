"""Plain references the fast code is measured and tested against: one scipy call per problem."""

from __future__ import annotations

import numpy as np

__all__ = ["scipy_pe"]


def scipy_pe(flows, t0, t1, sigma, eta, epsilon) -> tuple[np.ndarray, float]:
    """The PE model solved product by product: scipy.optimize.root (hybr) on each product's log market clearing.

    Parameters
    ----------
    flows, t0, t1 : numpy.ndarray, ``[product, exporter, importer]``
        Baseline flows (USD, domestic sales a source) and tariffs before and after (fractions).
    sigma, eta : numpy.ndarray, ``[product, 1]``
    epsilon : numpy.ndarray, ``[product, exporter]``

    Returns
    -------
    prices : numpy.ndarray, ``[product, exporter]``
        Exporter price ratios.
    residual : float
        The largest market-clearing residual scipy stopped at (log units).
    """
    from scipy.optimize import root

    out, worst = np.ones(flows.shape[:2]), 0.0
    for k in range(flows.shape[0]):  # the per-product loop the batched solver replaces
        v, sg, et, ep = flows[k], sigma[k, 0], eta[k, 0], epsilon[k]
        share = v * (1 + t0[k])
        share = share / share.sum(axis=0)
        tau = (1 + t1[k]) / (1 + t0[k])
        sales = v.sum(axis=1)

        def residual(x):
            pb = np.exp(x)[:, None] * tau
            P = (share * pb ** (1 - sg)).sum(axis=0) ** (1 / (1 - sg))
            q = (pb / P) ** (-sg) * P ** (-et)
            return np.log((v * q).sum(axis=1) / sales) - ep * x

        sol = root(residual, np.zeros(len(sales)), method="hybr", tol=1e-12)
        out[k], worst = np.exp(sol.x), max(worst, float(np.abs(sol.fun).max()))
    return out, worst
