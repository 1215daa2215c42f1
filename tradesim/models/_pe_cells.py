r"""The partial-equilibrium model on the cells that trade: an accelerated fixed point on sparse matrices.

`tradesim.models.pe` states the model. Where the elasticity of substitution ``sigma`` of a
problem (one product under one elasticity draw) is the same for every importer and not within
``1e-3`` of one, the exporter price ``p[i]`` enters every cell through ``p[i]**(1 - sigma)`` and
``p[i]**-sigma``, so the model's sums over sources and over markets are two sparse matrix-vector
products with constant matrices (rows: a problem's exporters; columns: its importers)::

    T[j] = sum_i c0[i,j] p[i]**(1 - sigma)      c0 = s tau**(1 - sigma)     P[j] = T[j]**(1 / (1 - sigma))
    D[i] = p[i]**-sigma sum_j c1[i,j] G[j]       c1 = w tau**-sigma          G[j] = P[j]**(sigma - eta[j])

and market clearing ``D[i] = p[i]**epsilon[i]`` is, in logs, ``F[i] = log(sum_j c1 G) -
(sigma + epsilon[i]) x[i] = 0`` with ``x = log p``. Each exporter's own equation, with the
price indices held, is solved by ``x[i] = log(sum_j c1 G) / (sigma + epsilon[i])``: the
fixed-point map ``g``. Its Jacobian is ``(sigma - eta) / (sigma + epsilon)`` times a row-stochastic
matrix, so the plain iteration contracts whenever ``eta < 2 sigma + epsilon``; Anderson
acceleration (depth `DEPTH`, one least-squares problem per problem, batched) makes it converge in
10 to 20 evaluations where the plain iteration needs hundreds. An evaluation costs two
matrix-vector products over the cells and elementwise work over the problem's exporters and
importers: time and memory grow with the cells that trade, and no ``exporter x exporter``
Jacobian is formed.

The stopping rule is the dense solver's: ``max |F| <= tol``, ``F`` the log excess demand. A
problem that does not converge in `MAX_ANDERSON` steps (strong complementarity, ``eta >>
sigma``, with very inelastic supply) is left to the dense Newton solver with continuation,
which `tradesim.models.pe` runs on it.

References
----------
Walker, H. F. and P. Ni (2011). Anderson acceleration for fixed-point iterations. SIAM Journal
on Numerical Analysis 49(4), 1715-1735.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["CellMarkets", "DEPTH", "MAX_ANDERSON", "cell_ranges", "segment_sum", "solve_cells"]

DEPTH = 6  # Anderson history
MAX_ANDERSON = 60  # steps before a problem goes to the dense Newton solver
_REG = 1e-13  # Tikhonov term of Anderson's least squares, relative to its scale


def segment_sum(values: np.ndarray, segment: np.ndarray, size: int) -> np.ndarray:
    """Sums of `values` ``[..., cell]`` by `segment` ``[cell]`` into ``[..., size]``."""
    lead = values.shape[:-1]
    if not lead:
        return np.bincount(segment, weights=values, minlength=size)
    rows = int(np.prod(lead))
    offset = (np.arange(rows) * size)[:, None] + segment[None, :]
    return np.bincount(offset.ravel(), weights=values.reshape(rows, -1).ravel(), minlength=rows * size).reshape(
        *lead, size)


def cell_ranges(bounds: np.ndarray, products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells of `products` one after another (positions among all cells) and each product's count.

    `bounds` ``[product + 1]`` are the products' first cells (`tradesim.data.layout.Cells.bounds`).
    """
    lo, hi = bounds[products], bounds[products + 1]
    counts = hi - lo
    if products.size and (np.diff(products) == 1).all():  # consecutive products: one slice
        return np.arange(lo[0], hi[-1]), counts
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.repeat(lo - starts, counts) + np.arange(counts.sum()), counts


def _index_dtype(size: int):
    return np.int32 if size < 2**31 - 1 else np.int64


class CellMarkets:
    """Per-cell constants of the model cells, computed once for every draw and chunk.

    Attributes are ``[cell]`` arrays in the cells' order (product, exporter, importer): the
    cell's row ``product * n + exporter`` and column ``product * m + importer`` of the sparse
    matrices, ``indptr`` ``[K n + 1]`` (each row's first cell), and ``sales`` ``[product,
    exporter]`` and ``buys`` ``[product, importer]`` (``X`` and ``E0`` of `tradesim.models.pe`).
    """

    def __init__(self, cells, v, t0, t1):
        K, n, m = cells.shape
        self.shape = (K, n, m)
        self.cells = cells
        row = cells.index // m  # product * n + exporter
        k = row // n
        dtype = _index_dtype(K * max(n, m))
        self.row = row.astype(dtype)
        self.col = (cells.index - row * m + k * m).astype(dtype)  # product * m + importer
        self.indptr = np.searchsorted(row, np.arange(K * n + 1)).astype(dtype)
        self.v, self.t0, self.t1 = v, t0, t1
        spend = v * (1 + t0)
        self.sales = self.row_sums(v, K).reshape(K, n)
        self.buys = self.column_sums(spend, K).reshape(K, m)
        self.s = spend / self.buys.reshape(-1)[self.col]
        self.w = v / self.sales.reshape(-1)[self.row]
        self.tau = (1 + t1) / (1 + t0)
        self.log_tau = np.log(self.tau)
        self.bounds = cells.bounds

    def _matrix(self, values, K):
        n, m = self.shape[1:]
        return sparse.csr_matrix((values, self.col, self.indptr), shape=(K * n, K * m))

    def row_sums(self, values, K):
        """``[K n]``: sums over each (product, exporter)'s cells."""
        return self._matrix(values, K) @ np.ones(K * self.shape[2])

    def column_sums(self, values, K):
        """``[K m]``: sums over each (product, importer)'s cells."""
        return self._matrix(values, K).T @ np.ones(K * self.shape[1])


class _Chunk:
    """Problems ``b = draw * K + product`` of one chunk as sparse matrices and the elasticities.

    ``C1`` ``[problem x exporter, problem x importer]`` holds ``c1``, ``C0T`` (the transposed
    pattern) ``c0`` and ``C01`` their product; vectors are ``[problem x exporter]`` or
    ``[problem x importer]``.
    """

    def __init__(self, mk: CellMarkets, problems: np.ndarray, sigma: np.ndarray, eta: np.ndarray, eps: np.ndarray):
        K, n, m = mk.shape
        P = problems.size
        k = problems % K
        self.P, self.n, self.m = P, n, m
        self.problems, self.k = problems, k
        if P and problems[-1] - problems[0] == P - 1 and k[-1] - k[0] == P - 1:  # one draw, consecutive products
            lo, hi = mk.bounds[k[0]], mk.bounds[k[-1] + 1]
            idx = slice(lo, hi)
            counts = np.diff(mk.bounds[k[0]:k[-1] + 2])
            self.rows = mk.row[idx] - k[0] * n
            self.cols = mk.col[idx] - k[0] * m
            indptr = mk.indptr[k[0] * n:(k[-1] + 1) * n + 1] - mk.indptr[k[0] * n]
        else:
            idx, counts = cell_ranges(mk.bounds, k)
            local = np.repeat(np.arange(P, dtype=mk.row.dtype), counts)
            self.rows = local * n + (mk.row[idx] - mk.row.dtype.type(n) * (mk.row[idx] // n))
            self.cols = local * m + (mk.col[idx] - mk.col.dtype.type(m) * (mk.col[idx] // m))
            indptr = np.concatenate([[0], np.cumsum(np.bincount(self.rows, minlength=P * n))]).astype(mk.row.dtype)
        self.idx, self.counts = idx, counts
        self.sigma = sigma  # [P]
        self.eta = eta  # [P, m]
        self.eps = eps  # [P, n]
        self.r = np.exp(np.repeat(-sigma, counts) * mk.log_tau[idx])  # tau**-sigma
        c1 = mk.w[idx] * self.r
        c0 = mk.s[idx] * self.r * mk.tau[idx]
        shape = (P * n, P * m)
        self.C1 = sparse.csr_matrix((c1, self.cols, indptr), shape=shape)
        self.C0T = sparse.csc_matrix((c0, self.cols, indptr), shape=shape[::-1])
        self.C01 = sparse.csr_matrix((c0 * c1, self.cols, indptr), shape=shape)
        self.indptr = indptr
        self.sales = mk.sales[k]  # [P, n]
        self.buys = mk.buys[k]  # [P, m]
        self.has_sales = self.sales > 0
        self.has_buys = self.buys > 0
        self.free = self.has_sales & np.isfinite(eps)
        self.a = 1.0 - sigma  # [P]
        self.own = sigma[:, None] + np.where(self.free, eps, 0.0)  # [P, n]: -dF[i]/dx[i] at fixed price indices

    def column_sums(self, values: np.ndarray) -> np.ndarray:
        """``[P, m]``: sums of chunk cell `values` over each problem's importer."""
        shape = (self.P * self.m, self.P * self.n)
        return (sparse.csc_matrix((values, self.cols, self.indptr), shape=shape) @ np.ones(shape[1])).reshape(
            self.P, self.m)

    def evaluate(self, x: np.ndarray):
        """Log excess demand ``F`` ``[P, n]`` at log exporter prices `x`, log price indices ``[P, m]``, ``G``
        ``[P, m]`` and the fixed-point step ``-F / (dF[i]/dx[i])`` ``[P, n]``.

        ``-dF[i]/dx[i] = sigma + epsilon[i] - sum_j omega[i,j] (sigma - eta[j]) S[i,j]`` (the module
        notes of `tradesim.models.pe`) is positive, and ``omega[i,j] S[i,j] = A[i] c0 c1 G[j] /
        (D'[i] T[j])``: a third product with the same pattern.
        """
        P, n, m = self.P, self.n, self.m
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            A = np.exp(self.a[:, None] * x)
            T = (self.C0T @ A.reshape(-1)).reshape(P, m)
            T = np.where(self.has_buys, T, 1.0)
            log_P = np.where(self.has_buys, np.log(T) / self.a[:, None], 0.0)
            slope = self.sigma[:, None] - self.eta
            G = np.exp(slope * log_P)
            Dp = (self.C1 @ G.reshape(-1)).reshape(P, n)
            Dp = np.where(self.has_sales, Dp, 1.0)
            F = np.where(self.free, np.log(Dp) - self.own * x, 0.0)
            cross = (self.C01 @ (slope * G / T).reshape(-1)).reshape(P, n) * A / Dp
            step = np.where(self.free, F / (self.own - cross), 0.0)
        return F, log_P, G, step


def _anderson(ch: _Chunk, tol: float, max_iter: int):
    """Anderson-accelerated fixed point on every problem of `ch`; returns x, F, log P, G, steps, unsolved mask.

    The history of differences is kept ``[problem, DEPTH, exporter]`` with its Gram matrix
    updated one column per step (a ring), so a step costs one evaluation and ``O(DEPTH)``
    vector operations per problem.
    """
    P, n = ch.P, ch.n
    x = np.zeros((P, n))
    F, log_P, G, f = ch.evaluate(x)
    res = np.abs(F).max(axis=1, initial=0.0)
    active = res > tol
    if not active.any():
        return x, F, log_P, G, 0, ~np.isfinite(res)
    dX = np.zeros((P, DEPTH, n))
    dF = np.zeros((P, DEPTH, n))
    gram = np.zeros((P, DEPTH, DEPTH))
    steps = 0
    best = res.copy()
    while active.any() and steps < max_iter:
        steps += 1
        h = min(steps - 1, DEPTH)
        step = f
        if h:
            g = gram[:, :h, :h]
            scale = np.einsum("phh->p", g)
            g = g + (_REG * scale + (scale == 0))[:, None, None] * np.eye(h)
            gamma = np.linalg.solve(g, np.einsum("phn,pn->ph", dF[:, :h], f)[..., None])[..., 0]
            step = f - np.einsum("phn,ph->pn", dX[:, :h] + dF[:, :h], gamma)
        x_new = np.where(active[:, None], x + step, x)
        F_new, log_P_new, G_new, f_new = ch.evaluate(x_new)
        res_new = np.abs(F_new).max(axis=1, initial=0.0)
        # a step off the domain or far uphill: back to a plain step from the point before, history cleared
        bad = active & (~np.isfinite(res_new) | (res_new > 1e3 * np.maximum(best, tol)))
        if bad.any():
            x_new[bad] = x[bad] + f[bad]
            F_new, log_P_new, G_new, f_new = ch.evaluate(x_new)  # the others' values do not change
            res_new = np.abs(F_new).max(axis=1, initial=0.0)
            dX[bad] = 0.0
            dF[bad] = 0.0
            gram[bad] = 0.0
        col = (steps - 1) % DEPTH  # a ring: the least squares do not depend on the columns' order
        dX[:, col] = x_new - x
        dF[:, col] = np.where(active[:, None], f_new - f, 0.0)
        row = np.einsum("pn,phn->ph", dF[:, col], dF)
        gram[:, col, :] = row
        gram[:, :, col] = row
        x, F, f, log_P, G, res = x_new, F_new, f_new, log_P_new, G_new, res_new
        best = np.minimum(best, np.where(np.isfinite(res), res, np.inf))
        active &= ~(res <= tol)
    return x, F, log_P, G, steps, active | ~np.isfinite(res)


def solve_cells(mk: CellMarkets, problems: np.ndarray, sigma, eta, eps, tol: float, max_iter: int):
    """Solve `problems` (``b = draw * K + product``) on the cells.

    Parameters
    ----------
    sigma : ``[P]``; eta : ``[P, importer]``; eps : ``[P, exporter]``
        Each problem's elasticities (sigma the same for all its importers).

    Returns
    -------
    dict
        ``x`` ``[P, n]`` (log exporter prices), ``log_P`` ``[P, m]``, ``q`` ``[chunk cell]``, the
        ``chunk`` (its ``idx``: the chunk cells' positions among the model cells, ``counts`` per
        problem, ``rows`` and ``column_sums``), ``steps``, ``residual`` (per problem) and
        ``unsolved`` ``[P]`` bool.
    """
    ch = _Chunk(mk, problems, sigma, eta, eps)
    if ch.free.any():
        x, F, log_P, G, steps, unsolved = _anderson(ch, tol, min(max_iter, MAX_ANDERSON))
    else:  # every exporter price fixed: one pass, closed form per cell
        x = np.zeros((ch.P, ch.n))
        F, log_P, G, _ = ch.evaluate(x)
        steps, unsolved = 0, np.zeros(ch.P, bool)
    # q = p**-sigma tau**-sigma P**(sigma - eta), per cell
    with np.errstate(over="ignore", invalid="ignore"):
        q = ch.r * np.exp(-ch.sigma[:, None] * x).reshape(-1)[ch.rows] * G.reshape(-1)[ch.cols]
    return {"x": x, "log_P": log_P, "q": q, "chunk": ch, "steps": steps,
            "residual": np.abs(F).max(axis=1, initial=0.0), "unsolved": unsolved}
