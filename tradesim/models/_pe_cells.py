r"""The partial-equilibrium model on the cells that trade: an accelerated fixed point on sparse or dense matrices.

`tradesim.models.pe` states the model. Where the elasticity of substitution ``sigma`` of a
problem (one product under one elasticity draw) is the same for every importer and not within
``1e-3`` of one, the exporter price ``p[i]`` enters every cell through ``p[i]**(1 - sigma)`` and
``p[i]**-sigma``, so the model's sums over sources and over markets are two matrix-vector products
with constant matrices (rows: a problem's exporters; columns: its importers)::

    T[j] = sum_i c0[i,j] p[i]**(1 - sigma) / E0[j]     c0 = spend tau**(1 - sigma)    P[j] = T[j]**(1 / (1 - sigma))
    D[i] = p[i]**-sigma sum_j c1[i,j] G[j] / X[i]      c1 = v tau**-sigma             G[j] = P[j]**(sigma - eta[j])

(``spend = v (1 + t0)``; dividing the sums by baseline spending ``E0`` and sales ``X`` costs a
pass over importers and exporters, where dividing every cell would cost a pass over the cells;
``tau**-sigma = 1`` wherever the tariff does not change, so powers are taken only where it does;
and ``G = T**((sigma - eta) / (1 - sigma))`` is one power). Market clearing ``D[i] =
p[i]**epsilon[i]`` is, in logs, ``F[i] = log(D'[i]) - (sigma + epsilon[i]) x[i] = 0`` with ``x =
log p`` and ``D' = p**sigma D``. The fixed-point map is the
Jacobi-Newton step ``g(x) = x + F(x) / d`` with ``d`` the diagonal of ``-dF/dx``, taken once at
the start (a third product with the same pattern; see `_Chunk.diagonal`): the diagonal at the
start serves as well as the current one, and costs one product per solve instead of one per
step. Anderson acceleration (depth `DEPTH`, one least-squares problem per problem, batched)
makes it converge in 10 to 15 evaluations where the plain iteration needs hundreds. An
evaluation costs two matrix-vector products over the cells and elementwise work over the
problem's exporters and importers: time and memory grow with the cells that trade, and no
``exporter x exporter`` Jacobian is formed. A problem whose cells are at least `_DENSE` of its
``exporter x importer`` block has dense blocks (`_Blocks`), multiplied as batched matrix products
in BLAS at a fraction of a sparse product's cost per cell; the others have sparse matrices
(`_Cells`). Problems converge after different numbers of steps; when half of those being solved
are done, the open ones move to a smaller chunk, so the last steps cost what the open problems
cost.

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

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ._revenue import charged

__all__ = ["CellMarkets", "DEPTH", "MAX_ANDERSON", "cell_ranges", "segment_sum", "solve_cells"]

DEPTH = 6  # Anderson history
MAX_ANDERSON = 60  # steps before a problem goes to the dense Newton solver
_COMPACT = 0.5  # when the open problems are this share of those being solved, the rest move to a smaller chunk
_DENSE = 0.15  # share of a problem's block that trades from which it is solved on dense blocks (`_Blocks`)
_REG = 1e-13  # Tikhonov term of Anderson's least squares, relative to its scale
_PART = 2**17  # dense tensors: cells of a part of a chunk that `CellMarkets.read` checks and copies while in cache


def segment_sum(values: np.ndarray, segment: np.ndarray, size: int) -> np.ndarray:
    """Sums of `values` ``[..., cell]`` by `segment` ``[cell]`` into ``[..., size]``."""
    lead = values.shape[:-1]
    if not lead:
        return np.bincount(segment, weights=values, minlength=size)
    rows = int(np.prod(lead))
    if rows == 1:  # no offsets by row to make
        return np.bincount(segment, weights=values.reshape(-1), minlength=size).reshape(*lead, size)
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


@dataclass
class _Read:
    """What `CellMarkets.read` found in the blocks of a chunk's problems (dense tensors).

    ``mask`` ``[P, n, m]`` (the model cells) and ``counts`` ``[P]`` (cells per problem); ``work`` is
    `_Blocks.work` with ``c1`` and ``c0`` filled, or None where some problem is not solved
    on dense blocks, and then the rest are None: ``sales`` ``[P, n]``, ``buys`` and
    ``revenue_before`` ``[P, m]``, and the model cells whose tariff moved (``moved``, positions in the
    blocks, ascending) with their ``t0m`` and ``t1m``.
    """

    mask: np.ndarray
    counts: np.ndarray
    work: np.ndarray | None = None
    sales: np.ndarray | None = None
    buys: np.ndarray | None = None
    revenue_before: np.ndarray | None = None
    moved: np.ndarray | None = None
    t0m: np.ndarray | None = None
    t1m: np.ndarray | None = None


class CellMarkets:
    """The model cells and their values, read chunk by chunk (`_Cells` and `_Blocks` derive everything else).

    Nothing is computed over all cells here: each chunk reads its own cells and builds its
    constants, so that work runs on every core, chunk by chunk, and stays in cache. The cells
    are listed (`cells`, values ``[cell]``), or found chunk by chunk in dense tensors: where
    flows are positive, except the ``(exporter, importer)`` cells in `drop`. On dense tensors a
    chunk reads its own block of products in parts that stay in cache (`read`): each part is
    checked, its model cells found and the constants of `_Blocks` made from it in one pass
    through memory, and no list of every cell is built.

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
        """The work of each of `products`, in cells: those it has, or its block where that is read whole (dense
        tensors) or solved whole (`dense`)."""
        K, n, m = self.shape
        if self.cells is None:
            return np.full(products.size, n * m)
        cells = np.diff(self.cells.bounds)[products]
        return np.where(cells >= _DENSE * (n * m), n * m, cells)

    def _rows(self, problems: np.ndarray):
        """Dense tensors: where the blocks of `problems` (ascending) are on the product axis: a slice where they are
        consecutive products (views), else the products (copies)."""
        K = self.shape[0]
        P = problems.size
        k = problems % K
        consecutive = bool(P) and problems[-1] - problems[0] == P - 1 and k[-1] - k[0] == P - 1
        return slice(k[0], k[-1] + 1) if consecutive else k

    def block(self, problems: np.ndarray, mask=None):
        """Dense tensors: ``v, t0, t1`` on the blocks ``[problem, exporter, importer]`` of `problems` (``b = draw * K
        + product``, ascending; views where the products are consecutive) and the mask of the model cells (`mask`
        when given: `read` found it)."""
        rows = self._rows(problems)
        v = self.v[rows]
        if mask is None:
            mask = v > 0
            if self.drop is not None:
                mask[:, self.drop[0], self.drop[1]] = False
        return v, self.t0[rows], self.t1[rows], mask

    def read(self, problems: np.ndarray, check=None, blocks: bool = False) -> _Read | None:
        """Dense tensors: one pass through the blocks of `problems`, a part of `_PART` cells at a time.

        Each part is read from memory once: `check` (when given) sees its ``v, t0, t1`` first, then
        its mask of model cells and their count per problem are taken and, while every problem so
        far is solved on dense blocks (`dense`; every problem with `blocks`), the constants of
        `_Blocks` are made from it while it is in cache. None, and nothing more read, where `check`
        returns False.
        """
        K, n, m = self.shape
        P, nm = problems.size, n * m
        rows = self._rows(problems)
        r = _Read(mask=np.empty((P, n, m), bool), counts=np.empty(P, np.int64))
        mask, counts = r.mask, r.counts
        least = _DENSE * nm
        count_type = np.uint16 if nm < 2**16 else np.int64  # a narrow sum is several times faster
        build = True
        work = np.empty((2, P, n, m))  # `_Blocks.work`: nothing is written where a problem is not dense
        c1, c0 = work
        sales, buys, before = np.empty((P, n)), np.empty((P, m)), np.empty((P, m))
        moved, t0m, t1m = [], [], []
        ones = np.ones(n)
        drop = self.drop
        step = max(1, _PART // nm)
        tv = np.empty((min(step, P), n, m))  # t0 v of a part: summed while in cache, never stored for the chunk
        for a in range(0, P, step):
            b = min(P, a + step)
            part = slice(rows.start + a, rows.start + b) if isinstance(rows, slice) else rows[a:b]
            v, t0, t1 = self.v[part], self.t0[part], self.t1[part]
            if check is not None and not check(v, t0, t1):
                return None
            ms = mask[a:b]
            np.greater(v, 0, out=ms)
            if drop is not None:
                ms[:, drop[0], drop[1]] = False
            counts[a:b] = ms.reshape(b - a, nm).view(np.uint8).sum(axis=1, dtype=count_type)
            build = build and (blocks or bool((counts[a:b] >= least).all()))
            if not build:
                continue
            # the constants of `_Blocks` (see there), on this part
            c1p, c0p, tvp = c1[a:b], c0[a:b], tv[:b - a]
            np.copyto(c1p, v)
            if drop is not None:
                c1p[:, drop[0], drop[1]] = 0.0
            np.multiply(t0, c1p, out=tvp)  # baseline tariff revenue
            np.add(tvp, c1p, out=c0p)  # spend = v (1 + t0)
            on = np.flatnonzero(t1 != t0)
            on = on[ms.reshape(-1)[on]]  # on the model cells only
            t0m.append(t0.reshape(-1)[on])
            t1m.append(t1.reshape(-1)[on])
            moved.append(on + a * nm)
            np.einsum("pij->pi", c1p, out=sales[a:b])
            np.matmul(ones, c0p, out=buys[a:b])  # a batched product: each problem's sums come out the same in any chunk
            np.matmul(ones, tvp, out=before[a:b])
        if build:
            r.work, r.sales, r.buys, r.revenue_before = work, sales, buys, before
            r.moved = np.concatenate(moved) if moved else np.zeros(0, np.int64)
            r.t0m = np.concatenate(t0m) if t0m else np.zeros(0)
            r.t1m = np.concatenate(t1m) if t1m else np.zeros(0)
        return r

    def dense(self, problems: np.ndarray, block=None) -> np.ndarray:
        """``[problem]`` bool: whether each of `problems` trades in at least `_DENSE` of its block's cells, and so is
        solved on dense blocks (`_Blocks`): the same answer on listed cells and on dense tensors (their `block`)."""
        K, n, m = self.shape
        if self.cells is None:
            cells = block.counts if isinstance(block, _Read) else \
                np.einsum("pc->p", block[3].reshape(problems.size, -1).view(np.uint8), dtype=np.int64)
        else:
            cells = np.diff(self.cells.bounds)[problems % K]
        return cells >= _DENSE * (n * m)

    def take(self, problems: np.ndarray, block=None):
        """The cells of `problems` (``b = draw * K + product``, ascending), one problem after another.

        On dense tensors they are found in `block` (as `block` gives it; read here when None).

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
        if self.cells is None:
            v, t0, t1, mask = self.block(problems) if block is None else block
            # cells per problem and exporter: a pass over the block's mask (a byte per cell), not over the cells
            row_counts = np.einsum("ij->i", mask.reshape(P * n, m).view(np.uint8), dtype=np.int64)
            index = np.flatnonzero(mask)
            counts = row_counts.reshape(P, n).sum(axis=1)
            values = tuple(np.take(a.reshape(-1), index) for a in (v, t0, t1))
            return index, counts, row_counts, values, mask
        bounds = self.cells.bounds
        if bool(P) and problems[-1] - problems[0] == P - 1 and k[-1] - k[0] == P - 1:  # one draw, one slice
            at = slice(bounds[k[0]], bounds[k[-1] + 1])
            counts = np.diff(bounds[k[0]:k[-1] + 2])
            index = self.cells.index[at] - k[0] * (n * m)
            values = tuple(a[at] for a in (self.v, self.t0, self.t1))
        else:
            at, counts = cell_ranges(bounds, k)
            index = np.repeat(np.arange(P) * (n * m), counts) + self.cells.index[at] % (n * m)
            values = tuple(np.take(a, at) for a in (self.v, self.t0, self.t1))
        return index, counts, None, values, at


class _Chunk:
    """Problems ``b = draw * K + product`` of one chunk: their constants, the model's residual and its diagonal.

    A problem's sums over cells are three products with its matrices (rows: exporters, columns:
    importers) that the two layouts, `_Cells` (sparse) and `_Blocks` (dense), compute:
    `importer_sums` ``T'[j] = sum_i c0[i,j] A[i]``, `exporter_sums` ``D'[i] = sum_j c1[i,j]
    G[j]`` and `cross_sums` ``sum_j c0[i,j] c1[i,j] w[j]``, with ``c1 = v tau**-sigma`` and ``c0
    = spend tau**(1 - sigma)``, ``spend = v (1 + t0)``: the shares of `tradesim.models.pe` without
    their divisors, ``sales`` ``X`` ``[P, n]`` and ``buys`` ``E0`` ``[P, m]``, which divide the sums
    instead (a pass over exporters and importers, not over cells). Most tariffs do not change,
    and there ``tau**-sigma = 1``: the powers are taken only on the cells whose tariff moved
    (``moved``, with ``r = tau**-sigma`` there). For the results, ``revenue_before`` ``[P, m]``
    sums ``t0 v`` (from the baseline pass that gives ``spend``; the chunk keeps no copy of the
    tariffs) and `duty` gives the new revenue.
    """

    #: The per-problem arrays that `evaluate` and `diagonal` read, kept by `subset` for the problems still open.
    _KEPT = ("a", "power", "own", "free", "has_sales", "has_buys", "sales_or_1", "buys_or_1")

    def _constants(self, sigma, eta, eps, log_tau, sigma_moved):
        """The per-problem arrays from the elasticities (``[P]``, ``[P, m]``, ``[P, n]``) and ``sales`` and ``buys``,
        and ``r`` on the moved cells from their ``log tau`` and sigma; returns ``tau**(1 - sigma)`` there."""
        self.sigma = sigma  # [P]
        self.r = np.exp(-sigma_moved * log_tau)  # tau**-sigma on the moved cells (0 where halted)
        self.has_sales = self.sales > 0
        self.has_buys = self.buys > 0
        self.free = self.has_sales & np.isfinite(eps)
        self.a = 1.0 - sigma  # [P]
        self.power = (sigma[:, None] - eta) / self.a[:, None]  # [P, m]: G = T**power, (sigma - eta) / (1 - sigma)
        self.own = sigma[:, None] + np.where(self.free, eps, 0.0)  # [P, n]: -dF[i]/dx[i] at fixed price indices
        self.sales_or_1 = np.where(self.has_sales, self.sales, 1.0)
        self.buys_or_1 = np.where(self.has_buys, self.buys, 1.0)
        self._masks()
        return np.exp((1 - sigma_moved) * log_tau)  # tau**(1 - sigma), 0 where halted (sigma > 1)

    def _masks(self):
        """Where `evaluate` overwrites its values (None where it has nothing to overwrite)."""
        self.no_sales, self.no_buys, self.fixed = (None if a.all() else ~a for a in (self.has_sales, self.has_buys,
                                                                                     self.free))

    def _subset(self, keep: np.ndarray) -> _Chunk:
        """A chunk of the same layout with the per-problem arrays of problems `keep` (its matrices are the caller's)."""
        sub = object.__new__(type(self))
        sub.P, sub.n, sub.m = keep.size, self.n, self.m
        for name in self._KEPT:
            setattr(sub, name, getattr(self, name)[keep])
        sub._masks()
        return sub

    def evaluate(self, x: np.ndarray):
        """Log excess demand ``F`` ``[P, n]`` at log exporter prices `x`, the price indices' ``T = P**(1 - sigma)``
        and ``G = P**(sigma - eta)`` ``[P, m]``, and the pieces `diagonal` needs (``A``, ``T``, ``D'``)."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return self._evaluate(x)

    def _evaluate(self, x: np.ndarray):
        """`evaluate` without its `numpy.errstate` (the caller's, once for many evaluations)."""
        A = np.multiply(self.a[:, None], x)  # in place where it can: fewer temporaries
        np.exp(A, out=A)
        T = self.importer_sums(A)
        T /= self.buys_or_1
        if self.no_buys is not None:
            T[self.no_buys] = 1.0
        G = np.power(T, self.power)
        Dp = self.exporter_sums(G)
        Dp /= self.sales_or_1
        if self.no_sales is not None:
            Dp[self.no_sales] = 1.0
        F = np.log(Dp)
        F -= self.own * x
        if self.fixed is not None:
            F[self.fixed] = 0.0
        return F, T, G, (A, T, Dp)

    def duty(self, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """``sum_i t1[i,j] c1[i,j] p[i]**(1 - sigma)`` ``[P, m]``, at log exporter prices `x` ``[P, n]`` and the
        ``T`` ``[P, m]`` that `evaluate` gave there: times ``G``, the tariff revenue at the new rates, USD (nothing
        where trade is halted)."""
        with np.errstate(over="ignore", invalid="ignore"):  # only where unsolved: the dense solver writes those again
            return self.column_sums(self.t1c1, np.exp(self.a[:, None] * x))

    def diagonal(self, G, parts) -> np.ndarray:
        """``-dF[i]/dx[i]`` ``[P, n]`` at the point `evaluate` gave `G` and `parts` for.

        ``-dF[i]/dx[i] = sigma + epsilon[i] - sum_j omega[i,j] (sigma - eta[j]) S[i,j]`` (the module
        notes of `tradesim.models.pe`) is positive, and ``omega[i,j] S[i,j] = A[i] c0 c1 G[j] /
        (D'[i] T[j])``: a third product with the same pattern, taken once per solve (at the start,
        and where a step is rejected): the fixed-point map divides by it, and the diagonal at the
        start serves as well as the current one (the acceleration corrects the rest).
        """
        A, T, Dp = parts
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            w = self.power * self.a[:, None] * G / (T * self.buys_or_1)  # (sigma - eta) G / T'
            cross = self.cross_sums(w) * A / (Dp * self.sales_or_1)
            return np.where(self.free, self.own - cross, 1.0)


class _Cells(_Chunk):
    """A chunk on the cells that trade: its matrices sparse.

    Rows are ``problem * n + exporter`` and columns ``problem * m + importer`` (``[problem x
    exporter]`` and ``[problem x importer]`` vectors): ``C1`` holds ``c1`` and ``C0T`` (the
    transposed pattern) ``c0``.
    """

    def __init__(self, mk: CellMarkets, problems: np.ndarray, sigma: np.ndarray, eta: np.ndarray, eps: np.ndarray,
                 block=None):
        K, n, m = mk.shape
        self.P, self.n, self.m = P, n, m = problems.size, n, m
        dtype = _index_dtype(P * n * m)  # int32 arithmetic where it fits: several times faster than int64
        index, counts, row_counts, (v, t0, t1), at = mk.take(problems, block)
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
        log_tau = np.log1p(t1[self.moved]) - np.log1p(t0[self.moved])  # inf where trade is halted
        grow = self._constants(sigma, eta, eps, log_tau, sigma[index[self.moved] // dtype(n * m)])
        self.c1, self.c0 = v, spend
        self.c1[self.moved] *= self.r
        self.c0[self.moved] *= grow
        # t1 c1: the duty at the new rates per unit of G p**(1 - sigma), t0 v where the tariff did not move
        tv[self.moved] = charged(t1[self.moved], self.c1[self.moved])
        self.t1c1 = tv
        self._matrices()

    def _matrices(self):
        """``C1`` and ``C0T`` from ``c1``, ``c0`` and the pattern."""
        shape = (self.P * self.n, self.P * self.m)
        self.C1 = sparse.csr_matrix((self.c1, self.cols, self.indptr), shape=shape)
        self.C0T = sparse.csc_matrix((self.c0, self.cols, self.indptr), shape=shape[::-1])

    def importer_sums(self, A: np.ndarray) -> np.ndarray:
        """``sum_i c0[i,j] A[i]`` ``[P, m]`` for `A` ``[P, n]``."""
        return (self.C0T @ A.reshape(-1)).reshape(self.P, self.m)

    def exporter_sums(self, G: np.ndarray) -> np.ndarray:
        """``sum_j c1[i,j] G[j]`` ``[P, n]`` for `G` ``[P, m]``."""
        return (self.C1 @ G.reshape(-1)).reshape(self.P, self.n)

    def cross_sums(self, w: np.ndarray) -> np.ndarray:
        """``sum_j c0[i,j] c1[i,j] w[j]`` ``[P, n]`` for `w` ``[P, m]``."""
        C01 = sparse.csr_matrix((self.c0 * self.c1, self.cols, self.indptr), shape=(self.P * self.n, self.P * self.m))
        return (C01 @ w.reshape(-1)).reshape(self.P, self.n)

    def column_sums(self, values: np.ndarray, by: np.ndarray) -> np.ndarray:
        """``[P, m]``: sums over exporters of chunk cell `values` times ``by[P, n]`` of the cell's exporter (ones
        for plain sums; a longer vector is cut)."""
        shape = (self.P * self.m, self.P * self.n)
        return (sparse.csc_matrix((values, self.cols, self.indptr), shape=shape) @ by.reshape(-1)[:shape[1]]).reshape(
            self.P, self.m)

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

    def subset(self, keep: np.ndarray) -> _Cells:
        """What `evaluate` and `diagonal` need, for problems `keep` (positions in this chunk) only."""
        P, m = keep.size, self.m
        idx, counts = cell_ranges(np.concatenate([[0], np.cumsum(self.counts)]), keep)
        shift = np.repeat((keep - np.arange(P)).astype(self.cols.dtype) * m, counts)  # problems move down by this
        sub = self._subset(keep)
        sub.counts = counts
        sub.cols = np.take(self.cols, idx)
        sub.cols -= shift
        sub.c0, sub.c1 = np.take(self.c0, idx), np.take(self.c1, idx)
        row_counts = np.diff(self.indptr).reshape(self.P, self.n)[keep].reshape(-1)
        sub.indptr = np.concatenate([[0], np.cumsum(row_counts)]).astype(self.indptr.dtype)
        sub._matrices()
        return sub


class _Blocks(_Chunk):
    """A chunk on dense ``[problem, exporter, importer]`` blocks, 0 where no model cell is.

    From a fifth or so of a block's cells trading up (`_DENSE`; a trade-shaped world has a third
    or more), products with the blocks beat sparse ones: no index is read, and they run as
    batched matrix products in BLAS. Dense input is copied part by part (`CellMarkets.read`); listed cells are put
    in zero blocks, so that a problem's numbers are the same from either (and in any chunk: the
    products are problem by problem). ``c1`` and ``c0`` are one allocation: the chunks of a thread
    then reuse the same memory, where two would go back to the system and fault in anew. ``c0 c1``
    is not kept: `cross_sums` makes it a part at a time when the diagonal needs it. Nor is ``t1
    c1`` (a third block, written once and read once at the end, from memory): ``c0 = c1 (1 + t1)``
    cell by cell (``spend tau**(1 - sigma) = v tau**-sigma (1 + t0) tau``), so `duty` takes ``sum_i
    t1 c1 p**(1 - sigma)`` as ``T' - sum_i c1 p**(1 - sigma)``, from ``T`` and a product with ``c1``.
    """

    def __init__(self, mk: CellMarkets, problems: np.ndarray, sigma: np.ndarray, eta: np.ndarray, eps: np.ndarray,
                 block=None):
        self.P, self.n, self.m = P, n, m = problems.size, *mk.shape[1:]
        ones = np.ones(n)  # (a batched product: each problem's sums come out the same in any chunk)
        if mk.cells is None:  # dense tensors: `CellMarkets.read` made c1 and c0, a part at a time
            r = block if isinstance(block, _Read) and block.work is not None else mk.read(problems, blocks=True)
            self.work, self.mask = r.work, r.mask
            self.sales, self.buys, self.revenue_before = r.sales, r.buys, r.revenue_before
            moved, t0m, t1m = r.moved, r.t0m, r.t1m
            c1, c0 = self.work
        else:  # listed cells: `quantity` gives their values, `idx` and `counts` say where they go
            self.work = np.empty((2, P, n, m))
            c1, c0 = self.work
            tv = np.zeros((P, n, m))
            index, self.counts, _, (v, t0, t1), self.idx = mk.take(problems)
            self.index = index
            c1.fill(0.0)
            c1.reshape(-1)[index] = v
            tv.reshape(-1)[index] = t0 * v
            on = np.flatnonzero(t1 != t0)
            moved, t0m, t1m = index[on], t0[on], t1[on]
            np.add(tv, c1, out=c0)  # spend = v (1 + t0)
            self.sales = np.einsum("pij->pi", c1)
            self.buys = np.matmul(ones, c0)
            self.revenue_before = np.matmul(ones, tv)
        self.moved = moved
        grow = self._constants(sigma, eta, eps, np.log1p(t1m) - np.log1p(t0m), sigma[moved // (n * m)])
        c1f, c0f = c1.reshape(-1), c0.reshape(-1)
        c1f[moved] *= self.r
        c0f[moved] *= grow
        self.c1, self.c0 = c1, c0

    def importer_sums(self, A: np.ndarray) -> np.ndarray:
        """``sum_i c0[i,j] A[i]`` ``[P, m]`` for `A` ``[P, n]``."""
        return np.matmul(A[:, None, :], self.c0)[:, 0]

    def exporter_sums(self, G: np.ndarray) -> np.ndarray:
        """``sum_j c1[i,j] G[j]`` ``[P, n]`` for `G` ``[P, m]``."""
        return np.matmul(self.c1, G[:, :, None])[..., 0]

    def duty(self, x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """`_Chunk.duty`, as ``T' - sum_i c1[i,j] p[i]**(1 - sigma)`` with ``T' = T E0`` (see the class notes).

        ``c1`` is still in cache from the solve, where ``t1 c1`` would be read from memory. (The
        difference rounds to ``1e-16`` of ``T'``, spending at the baseline: below a cent on a
        trillion dollars.)
        """
        with np.errstate(over="ignore", invalid="ignore"):  # only where unsolved: the dense solver writes those again
            paid = np.multiply(T, self.buys)  # T' (0 where a market buys nothing: T is 1 there)
            paid -= self.column_sums(self.c1, np.exp(self.a[:, None] * x))
        return paid

    def cross_sums(self, w: np.ndarray) -> np.ndarray:
        """``sum_j c0[i,j] c1[i,j] w[j]`` ``[P, n]`` for `w` ``[P, m]``.

        ``c0 c1`` is made when asked (once per solve, after the first evaluation has brought ``c0`` and
        ``c1`` into cache), a part of `_PART` cells at a time in a scratch block that stays in cache: not
        stored by `CellMarkets.read`, which saves a pass through memory and a block per chunk.
        """
        P, n, m = self.c0.shape
        step = max(1, _PART // (n * m))
        scratch = np.empty((min(step, P), n, m))
        out = np.empty((P, n))
        for a in range(0, P, step):
            b = min(P, a + step)
            c01 = np.multiply(self.c0[a:b], self.c1[a:b], out=scratch[:b - a])
            np.matmul(c01, w[a:b, :, None], out=out[a:b, :, None])
        return out

    def column_sums(self, values: np.ndarray, by: np.ndarray) -> np.ndarray:
        """``[P, m]``: sums over exporters of block `values` ``[P, n, m]`` times ``by[P, n]``."""
        return np.matmul(by[:, None, :], values)[:, 0]

    def _all_quantities(self, x: np.ndarray, G: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``q = p**-sigma tau**-sigma G`` on every cell of the blocks, written into `out` ``[P, n, m]`` (returned
        flat)."""
        flat = out.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            np.multiply(np.exp(-self.sigma[:, None] * x)[:, :, None], G[:, None, :], out=out)
            flat[self.moved] *= self.r
        return flat

    def quantity(self, x: np.ndarray, G: np.ndarray) -> np.ndarray:
        """``q`` ``[chunk cell]`` on listed cells, at log exporter prices `x` ``[P, n]`` and `G` ``[P, m]``."""
        return self._all_quantities(x, G, np.empty(self.c1.shape))[self.index]

    def block_quantity(self, x: np.ndarray, G: np.ndarray, out: np.ndarray) -> None:
        """``q`` written into the chunk's ``[P, n, m]`` block `out` (dense input), 1 where no cell trades.

        A part of `_PART` cells at a time, each written once and then kept in cache: ``q * mask +
        ~mask`` is ``q`` on the model cells and 1 elsewhere (``q`` is finite where a problem is
        solved; the others are written again by the dense solver).
        """
        P, n, m = out.shape
        step = max(1, _PART // (n * m))
        empty = np.empty((min(step, P), n, m), bool)
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(-self.sigma[:, None] * x)
            for a in range(0, P, step):
                b = min(P, a + step)
                part, mask, no = out[a:b], self.mask[a:b], empty[:b - a]
                np.multiply(p[a:b, :, None], G[a:b, None, :], out=part)
                np.logical_not(mask, out=no)
                np.multiply(part, mask.view(np.uint8), out=part)  # (bytes cast to float faster than bools)
                np.add(part, no.view(np.uint8), out=part)
            out.reshape(-1)[self.moved] *= self.r

    def subset(self, keep: np.ndarray) -> _Blocks:
        """What `evaluate` and `diagonal` need, for problems `keep` (positions in this chunk) only."""
        sub = self._subset(keep)
        sub.c0, sub.c1 = self.c0[keep], self.c1[keep]
        return sub


def _gram_solve(g: np.ndarray, b: np.ndarray, ridge: bool = False) -> np.ndarray:
    """Solve ``g[:, :, p] y[:, p] = b[:, p]`` for every problem ``p``; `g` ``[h, h, P]`` symmetric positive definite.

    Gaussian elimination without pivoting (stable on a positive definite matrix), with the
    problems on the last axis: a loop over the ``h <= DEPTH`` history columns, not over
    problems, several times faster than batched LAPACK calls on ``6 x 6`` systems. `b` rides
    along as the last column of the eliminated matrix (one update per column, not two), and each
    pivot row is divided by its pivot as it is reached, so that a step of the back substitution
    is one dot product and one subtraction. With `ridge`, ``_REG`` times the trace is added to the
    diagonal first (one where the trace is zero: an empty history). A pivot that rounding made
    zero or negative gives a non-finite or far step, which `_anderson` rejects (a plain step
    instead, the history cleared).
    """
    h, P = b.shape
    a = np.empty((h, h + 1, P))
    a[:, :h] = g
    a[:, h] = b
    if ridge:
        diag = a.reshape(-1, P)[::h + 2]  # every (h + 2)-th row of the flattened matrices: their diagonals
        scale = diag.sum(axis=0)
        diag += _REG * scale + (scale == 0)
    for k in range(h - 1):
        a[k, k + 1:] /= a[k, k]
        a[k + 1:, k + 1:] -= a[k + 1:, k, None] * a[k, k + 1:]
    a[h - 1, h] /= a[h - 1, h - 1]  # the last pivot: nothing below it to eliminate
    y = a[:, h]  # back substitution in place: y[k] = a[k, h] - sum_j a[k, j] y[j] over j > k
    for k in range(h - 2, -1, -1):
        y[k] -= np.einsum("hp,hp->p", a[k, k + 1:h], y[k + 1:])
    return y


def _dots(history: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``[h, P]``: the dot products of `history` ``[h, P, n]`` with `v` ``[P, n]``, problem by problem.

    A batched matrix product (BLAS) over the history's problems axis: faster than `np.einsum` here.
    """
    return np.matmul(history.transpose(1, 0, 2), v[:, :, None])[..., 0].T


def _combine(weights: np.ndarray, history: np.ndarray) -> np.ndarray:
    """``[P, n]``: the sums over ``h`` of `weights` ``[h, P]`` times `history` ``[h, P, n]`` (as `_dots`)."""
    return np.matmul(weights.T[:, None, :], history.transpose(1, 0, 2))[:, 0]


def _max_abs(F: np.ndarray) -> np.ndarray:
    """``max |F|`` over each row of `F` ``[P, n]`` (0 for an empty row; NaN where a row has NaN).

    Taken on a transposed copy: a reduction over the leading axis is one vectorised pass, where
    one over each short row costs a call of the inner loop per row (twice the time).
    """
    return np.abs(F.T, out=np.empty(F.shape[::-1])).max(axis=0, initial=0.0)


def _anderson(ch: _Chunk, tol: float, max_iter: int):
    """Anderson-accelerated fixed point on every problem of `ch`; returns x, F, T, G, steps, unsolved mask.

    The map is ``g(x) = x + F(x) / d``, ``d`` the diagonal of ``-dF/dx`` at the start (a Jacobi-Newton
    step). The history of differences is kept ``[DEPTH, problem, exporter]`` with its Gram matrix
    ``[DEPTH, DEPTH, problem]`` updated one column per step (a ring), so a step costs one evaluation
    and ``O(DEPTH)`` passes over ``[problem, exporter]``; problems on the last axis make every
    operation on the history one contiguous pass. The right side of the least squares, ``rhs[s] =
    dF[s] . f``, is kept over the whole ring, and the new Gram row comes from it: ``dF[s] . df =
    dF[s] . f_new - dF[s] . f`` for the columns ``s`` that stay (one product with the history per
    step, not two), ``df . df`` for the new one. Problems converge after different numbers of
    steps: when half of those being solved are done, the rest move to a smaller chunk
    (`_Chunk.subset`), so the last steps cost what the problems still open cost.
    """
    P, n = ch.P, ch.n
    x = np.zeros((P, n))
    F, T, G, parts = ch.evaluate(x)
    res = _max_abs(F)
    active = res > tol
    if not active.any():
        return x, F, T, G, 0, ~np.isfinite(res)
    out = [x.copy(), F, T, G]  # every problem's values, written as problems leave the working set
    at = np.arange(P)  # the working problems' positions in `ch`
    d = ch.diagonal(G, parts)
    f = F / d
    dX = np.zeros((DEPTH, P, n))  # x differences plus f differences: what the step subtracts
    dF = np.zeros((DEPTH, P, n))
    gram = np.zeros((DEPTH, DEPTH, P))
    rhs = np.zeros((DEPTH, P))  # dF . f at the current point, every column of the ring
    steps = 0
    best = res.copy()
    # one error state for every step (entering one costs as much as a small operation): a bad pivot or a step off the
    # domain gives values that are not finite, and a step rejected below
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while steps < max_iter:
            open_ = np.count_nonzero(active)
            if not open_:
                break
            if open_ <= _COMPACT * active.size and active.size > 64:  # leave the converged problems behind
                done, keep = np.flatnonzero(~active), np.flatnonzero(active)
                for a, values in zip(out, (x, F, T, G)):
                    a[at[done]] = values[done]
                ch, at = ch.subset(keep), at[keep]
                x, F, f, d, best, T, G = (a[keep] for a in (x, F, f, d, best, T, G))
                dX, dF, gram, rhs = dX[:, keep], dF[:, keep], gram[..., keep], rhs[:, keep]
                active = np.ones(keep.size, bool)
            steps += 1
            h = min(steps - 1, DEPTH)
            x_new = x + f
            comb = None
            if h:
                gamma = _gram_solve(gram[:h, :h], rhs[:h], ridge=True)
                comb = _combine(gamma, dX[:h])
                x_new -= comb
            idle = None if open_ == active.size else ~active
            if idle is not None:
                x_new[idle] = x[idle]
            F_new, T_new, G_new, parts = ch._evaluate(x_new)
            res_new = _max_abs(F_new)
            # a step off the domain (NaN or inf) or far uphill: back to a plain step from the point before, history
            # cleared
            bad = active & ~(res_new <= 1e3 * np.maximum(best, tol))
            any_bad = bad.any()
            if any_bad:
                x_new[bad] = x[bad] + f[bad]
                F_new, T_new, G_new, parts = ch._evaluate(x_new)  # the others' values do not change
                res_new = _max_abs(F_new)
                d[bad] = ch.diagonal(G_new, parts)[bad]  # a new map there: its history restarts from this point
                dX[:, bad] = 0.0
                dF[:, bad] = 0.0
                gram[..., bad] = 0.0
            f_new = F_new / d
            col = (steps - 1) % DEPTH  # a ring: the least squares do not depend on the columns' order
            df = dF[col]
            np.subtract(f_new, f, out=df)
            # dx + df with dx = x_new - x = f - comb, the step taken: f_new - comb (rows held below are cleared)
            dx = dX[col]
            if comb is None:
                np.copyto(dx, f_new)
            else:
                np.subtract(f_new, comb, out=dx)
            held = None
            if any_bad or idle is not None:
                held = bad if idle is None else bad | idle
                df[held] = 0.0
                dx[held] = 0.0
            rhs_new = _dots(dF, f_new)
            row = rhs_new - rhs  # dF[s] . df for the columns that stay
            row[col] = np.einsum("pn,pn->p", df, df)
            if held is not None:
                row[:, held] = 0.0  # (a cleared history: nothing; one held still: df = 0)
            gram[col] = row
            gram[:, col] = row
            x, F, f, T, G, res, rhs = x_new, F_new, f_new, T_new, G_new, res_new, rhs_new
            best = np.fmin(best, res)  # a residual that is not a number leaves the best as it was
            active &= ~(res <= tol)
    for a, values in zip(out, (x, F, T, G)):
        a[at] = values
    unsolved = np.zeros(P, bool)
    unsolved[at] = active | ~np.isfinite(res)
    return *out, steps, unsolved


def solve_cells(mk: CellMarkets, problems: np.ndarray, sigma, eta, eps, tol: float, max_iter: int,
                check=None) -> list[dict] | None:
    """Solve `problems` (``b = draw * K + product``) on the cells, on dense blocks or sparse matrices
    (`CellMarkets.dense`).

    Parameters
    ----------
    sigma : ``[P]``; eta : ``[P, importer]``; eps : ``[P, exporter]``
        Each problem's elasticities (sigma the same for all its importers).
    check : callable, optional
        Dense tensors: ``check(v, t0, t1)`` on each part of the problems' blocks before anything
        else reads it (`CellMarkets.read`); where it returns False nothing is solved.

    Returns
    -------
    list of dict or None
        None where `check` returned False. Otherwise
        One for each layout some problems take: ``at``, their positions in `problems`; ``x``
        ``[p, n]`` (log exporter prices), ``log_P``, ``T = P**(1 - sigma)`` and ``G = P**(sigma -
        eta)`` ``[p, m]``, the ``chunk`` (a `_Chunk`: its quantities by ``block_quantity`` on dense
        input, by ``quantity`` on listed cells with its ``idx`` and ``counts`` per problem; the new
        tariff revenue by ``duty``),
        ``steps``, ``residual`` (per problem) and ``unsolved`` ``[p]`` bool.
    """
    block = None
    if mk.cells is None:  # dense tensors: read once (`CellMarkets.read`), checked by `check` on the way
        block = mk.read(problems, check)
        if block is None:
            return None
    dense = mk.dense(problems, block)
    if block is not None and block.work is None:  # not every problem on dense blocks: `take` finds the cells in these
        block = mk.block(problems, block.mask)
    parts = []
    for layout, at in ((_Blocks, np.flatnonzero(dense)), (_Cells, np.flatnonzero(~dense))):
        if not at.size:
            continue
        ch = layout(mk, problems[at], sigma[at], eta[at], eps[at], block if at.size == problems.size else None)
        if ch.free.any():
            x, F, T, G, steps, unsolved = _anderson(ch, tol, min(max_iter, MAX_ANDERSON))
        else:  # every exporter price fixed: one pass, closed form per cell
            x = np.zeros((ch.P, ch.n))
            F, T, G, _ = ch.evaluate(x)
            steps, unsolved = 0, np.zeros(ch.P, bool)
        with np.errstate(divide="ignore", invalid="ignore"):  # only where unsolved: the dense solver writes those again
            log_P = np.log(T) / ch.a[:, None]
        parts.append({"at": at, "x": x, "log_P": log_P, "T": T, "G": G, "chunk": ch, "steps": steps,
                      "residual": _max_abs(F), "unsolved": unsolved})
    return parts
