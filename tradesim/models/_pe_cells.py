r"""The partial-equilibrium model on the cells that trade: an accelerated fixed point on sparse matrices.

`tradesim.models.pe` states the model. Where the elasticity of substitution ``sigma`` of a
problem (one product under one elasticity draw) is the same for every importer and not within
``1e-3`` of one, the exporter price ``p[i]`` enters every cell through ``p[i]**(1 - sigma)`` and
``p[i]**-sigma``, so the model's sums over sources and over markets are two sparse matrix-vector
products with constant matrices (rows: a problem's exporters; columns: its importers)::

    T[j] = sum_i c0[i,j] p[i]**(1 - sigma) / E0[j]     c0 = spend tau**(1 - sigma)    P[j] = T[j]**(1 / (1 - sigma))
    D[i] = p[i]**-sigma sum_j c1[i,j] G[j] / X[i]      c1 = v tau**-sigma             G[j] = P[j]**(sigma - eta[j])

(``spend = v (1 + t0)``; dividing the sums by baseline spending ``E0`` and sales ``X`` costs a
pass over importers and exporters, where dividing every cell would cost a pass over the cells;
and ``tau**-sigma = 1`` wherever the tariff does not change, so powers are taken only where it
does). Market clearing ``D[i] = p[i]**epsilon[i]`` is, in logs, ``F[i] = log(D'[i]) - (sigma +
epsilon[i]) x[i] = 0`` with ``x = log p`` and ``D' = p**sigma D``. The fixed-point map is the
Jacobi-Newton step ``g(x) = x + F(x) / d`` with ``d`` the diagonal of ``-dF/dx``, taken once at
the start (a third product with the same pattern; see `_Chunk.diagonal`): the diagonal at the
start serves as well as the current one, and costs one product per solve instead of one per
step. Anderson acceleration (depth `DEPTH`, one least-squares problem per problem, batched)
makes it converge in 10 to 15 evaluations where the plain iteration needs hundreds. An
evaluation costs two matrix-vector products over the cells and elementwise work over the
problem's exporters and importers: time and memory grow with the cells that trade, and no
``exporter x exporter`` Jacobian is formed. Problems converge after different numbers of
steps; when half of those being solved are done, the open ones move to a smaller chunk, so
the last steps cost what the open problems cost.

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

from ._revenue import charged

__all__ = ["CellMarkets", "DEPTH", "MAX_ANDERSON", "cell_ranges", "segment_sum", "solve_cells"]

DEPTH = 6  # Anderson history
MAX_ANDERSON = 60  # steps before a problem goes to the dense Newton solver
_COMPACT = 0.5  # when the open problems are this share of those being solved, the rest move to a smaller chunk
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
    """The model cells and their values, read chunk by chunk (`_Chunk` derives everything else).

    Nothing is computed over all cells here: each chunk reads its own cells and builds its
    constants, so that work runs on every core, chunk by chunk, and stays in cache. The cells
    are listed (`cells`, values ``[cell]``), or found chunk by chunk in dense tensors: where
    flows are positive, except the ``(exporter, importer)`` cells in `drop`. On dense tensors a
    chunk finds its cells in its own block of products while that block is in cache, and no
    list of every cell is built.

    Attributes
    ----------
    shape : tuple of int
        ``(product, exporter, importer)``.
    cells : tradesim.data.layout.Cells or None
        The listed model cells, ordered (product, exporter, importer); None on dense tensors.
    v, t0, t1 : ndarray
        Flows (USD) and tariffs (fractions): ``[cell]`` on listed cells, or the dense ``[product,
        exporter, importer]`` tensors.
    drop : tuple of ndarray or None
        On dense tensors, the ``(exporter, importer)`` cells that are not modelled.
    """

    def __init__(self, shape, v, t0, t1, cells=None, drop=None):
        self.shape = tuple(shape)
        self.cells = cells
        self.v, self.t0, self.t1 = v, t0, t1
        self.drop = drop

    def counts(self, products: np.ndarray) -> np.ndarray:
        """The work of each of `products`, in cells: those it has, or on dense tensors its block (all of it is read)."""
        K, n, m = self.shape
        if self.cells is None:
            return np.full(products.size, n * m)
        return np.diff(self.cells.bounds)[products]

    def take(self, problems: np.ndarray):
        """The cells of `problems` (``b = draw * K + product``, ascending), one problem after another.

        Returns
        -------
        index : ndarray of int, ``[chunk cell]``
            Positions in the chunk's ``[problem, exporter, importer]`` block.
        counts : ndarray of int, ``[problem]``
            Cells per problem.
        row_counts : ndarray of int, ``[problem * exporter]``
            Cells per problem and exporter.
        values : tuple of ndarray
            ``v, t0, t1`` on the cells.
        at : slice or ndarray
            Listed cells: the cells' positions among `cells` (int, or a slice). Dense tensors: the
            block's mask ``[problem, exporter, importer]``, True on the cells.
        """
        K, n, m = self.shape
        P = problems.size
        k = problems % K
        consecutive = bool(P) and problems[-1] - problems[0] == P - 1 and k[-1] - k[0] == P - 1
        if self.cells is None:
            block = slice(k[0], k[-1] + 1) if consecutive else k  # a view, or a copy of the products' blocks
            v = self.v[block]
            mask = v > 0
            if self.drop is not None:
                mask[:, self.drop[0], self.drop[1]] = False
            # cells per problem and exporter: a pass over the block's mask (a byte per cell), not over the cells
            row_counts = np.einsum("ij->i", mask.reshape(P * n, m).view(np.uint8), dtype=np.int64)
            index = np.flatnonzero(mask)
            counts = row_counts.reshape(P, n).sum(axis=1)
            values = tuple(np.take(a.reshape(-1), index) for a in (v, self.t0[block], self.t1[block]))
            return index, counts, row_counts, values, mask
        bounds = self.cells.bounds
        if consecutive:  # one draw, consecutive products: one slice
            at = slice(bounds[k[0]], bounds[k[-1] + 1])
            counts = np.diff(bounds[k[0]:k[-1] + 2])
            index = self.cells.index[at] - k[0] * (n * m)
        else:
            at, counts = cell_ranges(bounds, k)
            index = np.repeat(np.arange(P) * (n * m), counts) + self.cells.index[at] % (n * m)
        values = tuple(a[at] if consecutive else np.take(a, at) for a in (self.v, self.t0, self.t1))
        return index, counts, None, values, at


class _Chunk:
    """Problems ``b = draw * K + product`` of one chunk as sparse matrices and the elasticities.

    Rows are ``problem * n + exporter`` and columns ``problem * m + importer`` (``[problem x
    exporter]`` and ``[problem x importer]`` vectors). ``C1`` holds ``c1 = v tau**-sigma`` and
    ``C0T`` (the transposed pattern) ``c0 = spend tau**(1 - sigma)``, ``spend = v (1 + t0)``: the
    shares of `tradesim.models.pe` without their divisors, ``sales`` ``X`` ``[P, n]`` and ``buys``
    ``E0`` ``[P, m]``, which divide the products instead (a pass over exporters and importers,
    not over cells). Most tariffs do not change, and there ``tau**-sigma = 1``: the powers are
    taken only on the cells whose tariff moved (``moved``, with ``r = tau**-sigma`` there). For
    the results, ``revenue_before`` ``[P, m]`` sums ``t0 v`` and ``t1c1`` holds ``t1 c1`` per cell
    (0 where trade is halted): both come from the baseline pass that gives ``spend``, and the
    chunk keeps no copy of the tariffs.
    """

    def __init__(self, mk: CellMarkets, problems: np.ndarray, sigma: np.ndarray, eta: np.ndarray, eps: np.ndarray):
        K, n, m = mk.shape
        P = problems.size
        k = problems % K
        self.P, self.n, self.m = P, n, m
        self.problems, self.k = problems, k
        dtype = _index_dtype(P * n * m)  # int32 arithmetic where it fits: several times faster than int64
        index, counts, row_counts, (v, t0, t1), at = mk.take(problems)
        # dense tensors: the cells' places in the block, where `block_quantity` writes; listed cells: `at`
        self.index, self.idx = (index, None) if mk.cells is None else (None, at)
        index = index.astype(dtype)  # positions in this chunk's [P, n, m]
        rows = index // dtype(m)  # problem * n + exporter
        self.cols = index - (rows - rows // dtype(n)) * dtype(m)  # problem * m + importer
        if row_counts is None:
            row_counts = np.bincount(rows, minlength=P * n)
        del rows
        indptr = np.concatenate([[0], np.cumsum(row_counts)]).astype(dtype)
        self.counts, self.indptr = counts, indptr
        self.sigma = sigma  # [P]
        self.eta = eta  # [P, m]
        self.eps = eps  # [P, n]
        self.moved = np.flatnonzero(t1 != t0)
        # the chunk's own copies: c1 and c0 are v and spend changed in place (a slice of listed cells is a view)
        if self.moved.size and not v.flags.owndata:
            v = v.copy()
        tv = t0 * v  # baseline tariff revenue, then (below) revenue at the new rates on the baseline volumes
        spend = tv + v  # v (1 + t0)
        shape = (P * n, P * m)
        ones = np.ones(P * max(n, m))
        self.sales = (sparse.csr_matrix((v, self.cols, indptr), shape=shape) @ ones[:P * m]).reshape(P, n)
        self.buys = self.column_sums(spend, ones)
        self.revenue_before = self.column_sums(tv, ones)  # [P, m]: sum_i t0 v
        s_moved = sigma[index[self.moved] // dtype(n * m)]
        del index
        log_tau = np.log1p(t1[self.moved]) - np.log1p(t0[self.moved])  # inf where trade is halted
        self.r = np.exp(-s_moved * log_tau)  # tau**-sigma on the moved cells (0 where halted)
        self.c1 = v
        self.c0 = spend
        self.c1[self.moved] *= self.r
        self.c0[self.moved] *= np.exp((1 - s_moved) * log_tau)  # tau**(1 - sigma), 0 where halted (sigma > 1)
        # t1 c1: the duty at the new rates per unit of G p**(1 - sigma), t0 v where the tariff did not move
        tv[self.moved] = charged(t1[self.moved], self.c1[self.moved])
        self.t1c1 = tv
        self.C1 = sparse.csr_matrix((self.c1, self.cols, indptr), shape=shape)
        self.C0T = sparse.csc_matrix((self.c0, self.cols, indptr), shape=shape[::-1])
        self.has_sales = self.sales > 0
        self.has_buys = self.buys > 0
        self.free = self.has_sales & np.isfinite(eps)
        self.a = 1.0 - sigma  # [P]
        self.slope = sigma[:, None] - eta  # [P, m]: d log G / d log P
        self.own = sigma[:, None] + np.where(self.free, eps, 0.0)  # [P, n]: -dF[i]/dx[i] at fixed price indices
        self.sales_or_1 = np.where(self.has_sales, self.sales, 1.0)
        self.buys_or_1 = np.where(self.has_buys, self.buys, 1.0)
        self._masks()

    def quantity(self, x: np.ndarray, G: np.ndarray) -> np.ndarray:
        """``q = p**-sigma tau**-sigma G`` ``[chunk cell]`` at log exporter prices `x` ``[P, n]`` and `G` ``[P, m]``."""
        with np.errstate(over="ignore", invalid="ignore"):
            q = np.repeat(np.exp(-self.sigma[:, None] * x).reshape(-1), np.diff(self.indptr))  # cells in row order
            q *= np.take(G.reshape(-1), self.cols)
            q[self.moved] *= self.r
        return q

    def block_quantity(self, x: np.ndarray, G: np.ndarray, out: np.ndarray) -> None:
        """`quantity` written into the chunk's ``[P, n, m]`` block `out` (dense tensors), 1 where no cell trades."""
        out.fill(1.0)
        out.reshape(-1)[self.index] = self.quantity(x, G)

    def _masks(self):
        """Where `evaluate` overwrites its values (None where it has nothing to overwrite)."""
        self.no_sales, self.no_buys, self.fixed = (None if a.all() else ~a for a in (self.has_sales, self.has_buys,
                                                                                     self.free))

    def subset(self, keep: np.ndarray) -> _Chunk:
        """What `evaluate` and `diagonal` need, for problems `keep` (positions in this chunk) only."""
        P, n, m = keep.size, self.n, self.m
        idx, counts = cell_ranges(np.concatenate([[0], np.cumsum(self.counts)]), keep)
        shift = np.repeat((keep - np.arange(P)).astype(self.cols.dtype) * m, counts)  # problems move down by this
        sub = object.__new__(type(self))
        sub.P, sub.n, sub.m, sub.counts = P, n, m, counts
        sub.cols = np.take(self.cols, idx)
        sub.cols -= shift
        sub.c0, sub.c1 = np.take(self.c0, idx), np.take(self.c1, idx)
        row_counts = np.diff(self.indptr).reshape(self.P, n)[keep].reshape(-1)
        sub.indptr = np.concatenate([[0], np.cumsum(row_counts)]).astype(self.indptr.dtype)
        sub.C1 = sparse.csr_matrix((sub.c1, sub.cols, sub.indptr), shape=(P * n, P * m))
        sub.C0T = sparse.csc_matrix((sub.c0, sub.cols, sub.indptr), shape=(P * m, P * n))
        for name in ("a", "slope", "own", "free", "has_sales", "has_buys", "sales_or_1", "buys_or_1"):
            setattr(sub, name, getattr(self, name)[keep])
        sub._masks()
        return sub

    def column_sums(self, values: np.ndarray, by: np.ndarray) -> np.ndarray:
        """``[P, m]``: sums over exporters of chunk cell `values` times ``by[P, n]`` of the cell's exporter (ones
        for plain sums; a longer vector is cut)."""
        shape = (self.P * self.m, self.P * self.n)
        return (sparse.csc_matrix((values, self.cols, self.indptr), shape=shape) @ by.reshape(-1)[:shape[1]]).reshape(
            self.P, self.m)

    def evaluate(self, x: np.ndarray):
        """Log excess demand ``F`` ``[P, n]`` at log exporter prices `x`, log price indices ``[P, m]``, ``G``
        ``[P, m]``, and the pieces `diagonal` needs (``A``, ``T``, ``D'``)."""
        P, n, m = self.P, self.n, self.m
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # in place where it can: fewer temporaries
            A = np.multiply(self.a[:, None], x)
            np.exp(A, out=A)
            T = (self.C0T @ A.reshape(-1)).reshape(P, m)
            T /= self.buys_or_1
            if self.no_buys is not None:
                T[self.no_buys] = 1.0
            log_P = np.log(T)
            log_P /= self.a[:, None]
            G = np.multiply(self.slope, log_P)
            np.exp(G, out=G)
            Dp = (self.C1 @ G.reshape(-1)).reshape(P, n)
            Dp /= self.sales_or_1
            if self.no_sales is not None:
                Dp[self.no_sales] = 1.0
            F = np.log(Dp)
            F -= self.own * x
            if self.fixed is not None:
                F[self.fixed] = 0.0
        return F, log_P, G, (A, T, Dp)

    def diagonal(self, G, parts) -> np.ndarray:
        """``-dF[i]/dx[i]`` ``[P, n]`` at the point `evaluate` gave `G` and `parts` for.

        ``-dF[i]/dx[i] = sigma + epsilon[i] - sum_j omega[i,j] (sigma - eta[j]) S[i,j]`` (the module
        notes of `tradesim.models.pe`) is positive, and ``omega[i,j] S[i,j] = A[i] c0 c1 G[j] /
        (D'[i] T[j])``: a third product with the same pattern, taken once per solve (at the start,
        and where a step is rejected): the fixed-point map divides by it, and the diagonal at the
        start serves as well as the current one (the acceleration corrects the rest).
        """
        A, T, Dp = parts
        P, n, m = self.P, self.n, self.m
        C01 = sparse.csr_matrix((self.c0 * self.c1, self.cols, self.indptr), shape=(P * n, P * m))
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            cross = (C01 @ (self.slope * G / (T * self.buys_or_1)).reshape(-1)).reshape(P, n) * A / (
                Dp * self.sales_or_1)
            return np.where(self.free, self.own - cross, 1.0)


def _gram_solve(g: np.ndarray, b: np.ndarray, ridge: bool = False) -> np.ndarray:
    """Solve ``g[:, :, p] y[:, p] = b[:, p]`` for every problem ``p``; `g` ``[h, h, P]`` symmetric positive definite.

    Gaussian elimination without pivoting (stable on a positive definite matrix), with the
    problems on the last axis: a loop over the ``h <= DEPTH`` history columns, not over
    problems, several times faster than batched LAPACK calls on ``6 x 6`` systems. `b` rides
    along as the last column of the eliminated matrix (one update per column, not two). With
    `ridge`, ``_REG`` times the trace is added to the diagonal first (one where the trace is
    zero: an empty history). A pivot that rounding made zero or negative gives a non-finite or
    far step, which `_anderson` rejects (a plain step instead, the history cleared).
    """
    h, P = b.shape
    a = np.empty((h, h + 1, P))
    a[:, :h] = g
    a[:, h] = b
    if ridge:
        diag = np.arange(h)
        scale = np.einsum("hhp->p", g)
        a[diag, diag] += _REG * scale + (scale == 0)
    for k in range(h - 1):
        lk = a[k + 1:, k] / a[k, k]
        a[k + 1:, k + 1:] -= lk[:, None] * a[k, k + 1:][None]
    y = np.empty((h, P))
    y[h - 1] = a[h - 1, h] / a[h - 1, h - 1]
    for k in range(h - 2, -1, -1):
        y[k] = (a[k, h] - np.einsum("hp,hp->p", a[k, k + 1:h], y[k + 1:])) / a[k, k]
    return y


def _anderson(ch: _Chunk, tol: float, max_iter: int):
    """Anderson-accelerated fixed point on every problem of `ch`; returns x, F, log P, G, steps, unsolved mask.

    The map is ``g(x) = x + F(x) / d``, ``d`` the diagonal of ``-dF/dx`` at the start (a Jacobi-Newton
    step). The history of differences is kept ``[DEPTH, problem, exporter]`` with its Gram matrix
    ``[DEPTH, DEPTH, problem]`` updated one column per step (a ring), so a step costs one evaluation
    and ``O(DEPTH)`` passes over ``[problem, exporter]``; problems on the last axis make every
    operation on the history one contiguous pass. Problems converge after different numbers of
    steps: when half of those being solved are done, the rest move to a smaller chunk
    (`_Chunk.subset`), so the last steps cost what the problems still open cost.
    """
    P, n = ch.P, ch.n
    x = np.zeros((P, n))
    F, log_P, G, parts = ch.evaluate(x)
    res = np.abs(F).max(axis=1, initial=0.0)
    active = res > tol
    if not active.any():
        return x, F, log_P, G, 0, ~np.isfinite(res)
    out = [x.copy(), F, log_P, G]  # every problem's values, written as problems leave the working set
    at = np.arange(P)  # the working problems' positions in `ch`
    d = ch.diagonal(G, parts)
    f = F / d
    dX = np.zeros((DEPTH, P, n))  # x differences plus f differences: what the step subtracts
    dF = np.zeros((DEPTH, P, n))
    gram = np.zeros((DEPTH, DEPTH, P))
    steps = 0
    best = res.copy()
    while steps < max_iter:
        open_ = np.count_nonzero(active)
        if not open_:
            break
        if open_ <= _COMPACT * active.size and active.size > 64:  # leave the converged problems behind
            done, keep = np.flatnonzero(~active), np.flatnonzero(active)
            for a, values in zip(out, (x, F, log_P, G)):
                a[at[done]] = values[done]
            ch, at = ch.subset(keep), at[keep]
            x, F, f, d, best, log_P, G = (a[keep] for a in (x, F, f, d, best, log_P, G))
            dX, dF, gram = dX[:, keep], dF[:, keep], gram[..., keep]
            active = np.ones(keep.size, bool)
        steps += 1
        h = min(steps - 1, DEPTH)
        x_new = x + f
        if h:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a bad pivot: a step rejected below
                gamma = _gram_solve(gram[:h, :h], np.einsum("hpn,pn->hp", dF[:h], f), ridge=True)
                x_new -= np.einsum("hp,hpn->pn", gamma, dX[:h])
        idle = None if open_ == active.size else ~active
        if idle is not None:
            x_new[idle] = x[idle]
        F_new, log_P_new, G_new, parts = ch.evaluate(x_new)
        res_new = np.abs(F_new).max(axis=1, initial=0.0)
        # a step off the domain or far uphill: back to a plain step from the point before, history cleared
        bad = active & (~np.isfinite(res_new) | (res_new > 1e3 * np.maximum(best, tol)))
        any_bad = bad.any()
        if any_bad:
            x_new[bad] = x[bad] + f[bad]
            F_new, log_P_new, G_new, parts = ch.evaluate(x_new)  # the others' values do not change
            res_new = np.abs(F_new).max(axis=1, initial=0.0)
            d[bad] = ch.diagonal(G_new, parts)[bad]  # a new map there: its history restarts from this point
            dX[:, bad] = 0.0
            dF[:, bad] = 0.0
            gram[..., bad] = 0.0
        f_new = F_new / d
        col = (steps - 1) % DEPTH  # a ring: the least squares do not depend on the columns' order
        df = dF[col]
        np.subtract(f_new, f, out=df)
        dx = dX[col]
        np.subtract(x_new, x, out=dx)
        dx += df
        if any_bad or idle is not None:
            held = bad if idle is None else bad | idle
            df[held] = 0.0
            dx[held] = 0.0
        row = np.einsum("hpn,pn->hp", dF, df)
        gram[col] = row
        gram[:, col] = row
        x, F, f, log_P, G, res = x_new, F_new, f_new, log_P_new, G_new, res_new
        best = np.fmin(best, res)  # a residual that is not a number leaves the best as it was
        active &= ~(res <= tol)
    for a, values in zip(out, (x, F, log_P, G)):
        a[at] = values
    unsolved = np.zeros(P, bool)
    unsolved[at] = active | ~np.isfinite(res)
    return *out, steps, unsolved


def solve_cells(mk: CellMarkets, problems: np.ndarray, sigma, eta, eps, tol: float, max_iter: int):
    """Solve `problems` (``b = draw * K + product``) on the cells.

    Parameters
    ----------
    sigma : ``[P]``; eta : ``[P, importer]``; eps : ``[P, exporter]``
        Each problem's elasticities (sigma the same for all its importers).

    Returns
    -------
    dict
        ``x`` ``[P, n]`` (log exporter prices), ``log_P`` and ``G = P**(sigma - eta)`` ``[P, m]``, the
        ``chunk`` (a `_Chunk`: its quantities by `_Chunk.quantity` or `_Chunk.block_quantity`, its
        ``idx``, ``counts`` per problem and ``column_sums``), ``steps``, ``residual`` (per problem) and
        ``unsolved`` ``[P]`` bool.
    """
    ch = _Chunk(mk, problems, sigma, eta, eps)
    if ch.free.any():
        x, F, log_P, G, steps, unsolved = _anderson(ch, tol, min(max_iter, MAX_ANDERSON))
    else:  # every exporter price fixed: one pass, closed form per cell
        x = np.zeros((ch.P, ch.n))
        F, log_P, G, _ = ch.evaluate(x)
        steps, unsolved = 0, np.zeros(ch.P, bool)
    return {"x": x, "log_P": log_P, "G": G, "chunk": ch, "steps": steps,
            "residual": np.abs(F).max(axis=1, initial=0.0), "unsolved": unsolved}
