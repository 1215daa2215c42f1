r"""The hat-algebra model without input-output links on the cells that trade.

`tradesim.models._hat` states the equations on dense ``[s, i, j]`` arrays. Here the same
`_hat.Direct` system (unknowns: the ``n`` log wages) runs on the cells of a sparse baseline
(`tradesim.data.layout.Cells`, sectors on the product axis), every pair array ``[m, cell]``:

- sums over exporters or importers are sums by segment (`segment_sum`, ``numpy.bincount``);
- the Jacobian's ``sum_{s, j} theta[s] flows'[s, i, j] pi'[s, l, j]`` is a sparse matrix (rows
  the countries, columns the ``sector x importer`` markets) times a dense one, by blocks of
  markets (`Grid.cross`): work ``cells x countries``;
- the rest of a Jacobian is ``n x n`` arithmetic.

So a residual costs a few passes over the cells and nothing is ``sectors x n x n``: a world of
5,000 HS6 sectors and 200 economies, 11 million of whose 200 million cells trade, is solved in
about 1.5 GB, where each dense array would take 1.6 GB. The numbers are those of `_hat.Direct`
on the dense tensor (tests compare them to the solver's tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ..data.layout import Cells
from ._hat import TINY, Direct, Economy, new_deficit, normalised_rows, pick
from ._pe_cells import segment_sum

__all__ = ["CellDirect", "CellEconomy", "Grid"]

_CROSS_BLOCK = 2**22  # values of a dense block of `Grid.cross` (32 MB)


class Grid:
    """Where each cell sits, and the keys that the sums go by; made once per solve.

    Not an array, so that `Economy.take` hands it to every batch member unchanged.

    Attributes
    ----------
    S, n : int
        Sectors and countries.
    sector, exporter, importer : numpy.ndarray of int, ``[cell]``
    sector_exporter, sector_importer : numpy.ndarray of int, ``[cell]``
        Each cell's position in a raveled ``[s, i]`` or ``[s, j]`` array.
    """

    def __init__(self, cells: Cells):
        self.S, self.n = cells.shape[0], cells.shape[1]
        self.size = cells.size
        self.sector, self.exporter, self.importer = cells.product, cells.exporter, cells.importer
        self.sector_exporter = self.sector * self.n + self.exporter
        self.sector_importer = self.sector * self.n + self.importer
        # `cross` takes the cells market by market (the columns of a compressed sparse column matrix)
        self._by_market = np.argsort(self.sector_importer, kind="stable")
        self._market_ptr = np.searchsorted(self.sector_importer[self._by_market], np.arange(self.S * self.n + 1))
        self._layout = None

    def gather(self, values: np.ndarray, key: np.ndarray) -> np.ndarray:
        """``[m, s, n]`` (or ``[m, size]``) values at each cell's `key`, ``[m, cell]``."""
        return values.reshape(values.shape[0], -1)[:, key]

    def max(self, values: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
        """Largest of `values` ``[m, cell]`` by `key`, ``[m, size]``; ``-inf`` where a key has no cell."""
        m = values.shape[0]
        top = np.full(m * size, -np.inf)
        np.maximum.at(top, (np.arange(m)[:, None] * size + key).ravel(), values.ravel())
        return top.reshape(m, size)

    def cross(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``out[m, i, l] = sum_{s, j} a[m, (s, i, j)] b[m, (s, l, j)]`` for values ``[m, cell]``.

        A sparse matrix of `a` (rows: member x country; columns: member x market, block-diagonal)
        times `b` as a dense ``[member x market, country]`` matrix, a block of markets at a time so
        that each dense block stays near `_CROSS_BLOCK` values: work ``cells x countries``, in
        compiled loops (a third of the time of a product of two sparse matrices on a BACI-sized
        world, where a market has 11 sources on average).
        """
        m, n = a.shape[0], self.n
        ptr, rows, slots = self._cross_layout(m)
        order = self._by_market
        left = sparse.csc_matrix((a[:, order].ravel(), rows, ptr), shape=(m * n, m * self.S * n))
        values = b[:, order].ravel()
        out = np.zeros((m * n, n))
        step = max(1, min(_CROSS_BLOCK // n, m * self.S * n))
        block = np.zeros(step * n)  # one buffer for every block (fresh memory is slow), zero but where it is set
        for lo in range(0, m * self.S * n, step):  # blocks of markets bound memory; each is one compiled product
            hi = min(lo + step, m * self.S * n)
            at = slice(ptr[lo], ptr[hi])
            put = slots[at] - lo * n
            block[put] = values[at]
            out += left[:, lo:hi] @ block[:(hi - lo) * n].reshape(hi - lo, n)
            block[put] = 0.0
        return out.reshape(m, n, n)

    def _cross_layout(self, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For `cross` with `m` members: the column pointers and row of each cell of its sparse matrix, and
        each cell's slot in the raveled dense ``[member x market, country]`` matrix; made once per `m`."""
        if self._layout is None or self._layout[0] != m:
            n, markets = self.n, self.S * self.n
            members = np.arange(m)[:, None]
            index = np.int32 if max(m * markets * n, m * self.size) < 2**31 else np.int64  # scipy's own choice
            ptr = np.concatenate([[0], (members * self.size + self._market_ptr[1:]).ravel()]).astype(index)
            source = self.exporter[self._by_market]
            rows = (members * n + source).ravel().astype(index)
            slots = ((members * markets + self.sector_importer[self._by_market]) * n + source).ravel()
            self._layout = (m, (ptr, rows, slots))
        return self._layout[1]


@dataclass
class CellEconomy(Economy):
    """`_hat.Economy` on the cells that trade, with a leading batch axis of 1 (shared) or ``B``.

    The pair arrays (`log_pi`, `log_kappa`, `g`, `t0`) are ``[b, cell]`` (``[b, 1]`` where they
    do not vary), `present` is ``[b, s, j]``; the others are as in `Economy`; `gamma` is None
    (no input-output links).

    Attributes
    ----------
    grid : Grid
        Where the cells sit.
    """

    grid: Grid = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.S, self.grid.n

    def on_pairs(self, a: np.ndarray) -> np.ndarray:
        """Sector values ``[b, s]`` at each cell, ``[b, cell]``."""
        return a[:, self.grid.sector]


class CellDirect(Direct):
    """`_hat.Direct` on a `CellEconomy`: the same unknowns, residuals and Jacobian.

    The new shares factor as in `Direct`: ``pi'[s, i, j] = a[s, i, j] e[s, i] / col[s, j]`` with
    ``a = pi kappa**-theta`` scaled by its market's largest term (computed once), ``e =
    w_hat**-theta[s]`` and ``col`` the market sums, so a state takes an exponential of ``[s, i]``
    only; markets whose sum would underflow (extreme wages) go through a log-sum-exp by market.
    """

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a, log_top)``: the share terms ``[b, cell]``, each market's scaled by its largest, and the
        log of that largest ``[b, s, j]``; made on first use."""
        if self._scaled is None:
            c, G = self.c, self.c.grid
            z = c.log_pi - c.on_pairs(c.theta) * c.log_kappa if c.log_kappa.any() else c.log_pi.copy()
            top = G.max(z, G.sector_importer, G.S * G.n)
            top[~np.isfinite(top)] = 0.0
            np.exp(np.subtract(z, G.gather(top, G.sector_importer), out=z), out=z)  # at most 1
            self._scaled = (z, top.reshape(-1, G.S, G.n))
        return self._scaled

    def _shares(self, c: CellEconomy, x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New shares ``[m, cell]`` and log sector price indices ``[m, s, j]`` of members `idx` at wages `x`."""
        a, top = self._factors()
        G, (S, n) = c.grid, c.shape
        th = c.theta[:, :, None]  # [m, s, 1]
        low = x.min(axis=1, keepdims=True)[:, :, None]  # [m, 1, 1]: e <= 1, as theta > 0
        e = np.exp(-th * (x[:, None, :] - low))  # [m, s, i]
        pi = pick(a, idx) * G.gather(e, G.sector_exporter)
        col = segment_sum(pi, G.sector_importer, S * n).reshape(-1, S, n)
        if not ((col > TINY) | ~c.present).all():  # a market's terms underflow: shift by market
            return _lse_shares(c, x)
        col = np.where(c.present, col, 1.0)
        pi /= G.gather(col, G.sector_importer)
        log_P = np.where(c.present, -(np.log(col) + pick(top, idx) - th * low) / th, 0.0)
        return pi, log_P

    def _state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        c = self.c.take(idx)
        G, (S, n), m = c.grid, c.shape, x.shape[0]
        va_new = np.exp(x) * c.va
        pi, log_P = self._shares(c, x, idx)
        gpi = c.g * pi
        phi = segment_sum(gpi, G.sector_importer, S * n).reshape(m, S, n)  # factory-gate share of sector spending
        psi = (c.alpha * phi).sum(axis=1)  # [m, j]
        d_new, _ = new_deficit(c.va, c.deficit, c.closure, va_new, jac=False)
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN outside the domain, as in `Direct`
            spend = np.where(va_new + d_new > 0, (va_new + d_new) / psi, np.nan)
        sector_spend = c.alpha * spend[:, None, :]
        flows = gpi * G.gather(sector_spend, G.sector_importer)
        return dict(c=c, x=x, log_cost=np.broadcast_to(x[:, None, :], (m, S, n)), va_new=va_new, pi=pi, gpi=gpi,
                    phi=phi, psi=psi, d_new=d_new, spend=spend, flows=flows, log_P=log_P, sector_spend=sector_spend,
                    revenue=(1 - psi) * spend)

    def market(self, st: dict) -> np.ndarray:
        G = st["c"].grid
        return segment_sum(st["flows"], G.exporter, G.n) / st["va_new"] - 1

    def jacobian(self, x: np.ndarray, idx: np.ndarray, drop=None) -> np.ndarray:
        """The square Jacobian and its rows (`_hat.normalised_rows`); `drop` picks the market left out.

        The terms of `Direct.jacobian`, each summed over the cells.
        """
        st = self.state(x, idx)
        c, pi, flows, va_new = st["c"], st["pi"], st["flows"], st["va_new"]
        G, n = c.grid, c.grid.n
        th = c.on_pairs(c.theta)  # [m, cell]
        alpha = G.gather(c.alpha, G.sector_importer)
        diag = (np.arange(n), np.arange(n))
        _, d_n = new_deficit(c.va, c.deficit, c.closure, va_new, jac=True)
        # d Psi[j] / d u[l] = -sum_s alpha theta pi'[s, l, j] (g[s, l, j] - Phi[s, j])
        d_psi = -segment_sum(pi * (c.g - G.gather(st["phi"], G.sector_importer)) * (alpha * th),
                       G.importer * n + G.exporter, n * n).reshape(-1, n, n)
        d_n[:, diag[0], diag[1]] += va_new
        d_spend = (d_n - st["spend"][:, :, None] * d_psi) / st["psi"][:, :, None]
        J = np.matmul(segment_sum(st["gpi"] * alpha, G.exporter * n + G.importer, n * n).reshape(-1, n, n), d_spend)
        J += G.cross(th * flows, pi)
        J[:, diag[0], diag[1]] -= segment_sum((th + 1) * flows, G.exporter, n)
        J /= va_new[:, :, None]
        return normalised_rows(J, va_new, drop)


def _lse_shares(c: CellEconomy, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_hat._shares` on cells: shares ``[m, cell]`` and log sector price indices ``[m, s, j]`` at wages
    `x` ``[m, i]`` by a log-sum-exp over each market, shifted by its largest term."""
    G, (S, n) = c.grid, c.shape
    z = c.log_pi - c.on_pairs(c.theta) * (c.log_kappa + x[:, G.exporter])
    top = G.max(z, G.sector_importer, S * n)
    top[~np.isfinite(top)] = 0.0
    e = np.exp(z - G.gather(top, G.sector_importer))
    col = segment_sum(e, G.sector_importer, S * n)
    with np.errstate(divide="ignore"):
        lse = (np.log(col) + top).reshape(-1, S, n)
    log_P = np.where(c.present, -lse / c.theta[:, :, None], 0.0)
    col[col == 0] = 1.0
    return e / G.gather(col, G.sector_importer), log_P
