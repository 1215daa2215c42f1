r"""Partial equilibrium: a multi-market Armington model, solved exactly for every product at once.

The model (one product; every product and every elasticity draw is an independent copy)
----------------------------------------------------------------------------------------
Hats are ratios of new to baseline values. Quantities are measured so that every baseline
exporter price is 1, hence a baseline quantity equals its baseline value ``flows[i, j]``
(USD, tariff-exclusive). For importer ``j`` and source ``i`` (the domestic source ``i = j``
is included when ``domestic=True``)::

    tau[i,j] = (1 + t1[i,j]) / (1 + t0[i,j])                     tariff factor
    pb[i,j]  = p[i] * tau[i,j]                                   buyer price
    s[i,j]   = flows[i,j] (1 + t0[i,j]) / sum_l flows[l,j] (1 + t0[l,j])
                                                                 baseline expenditure share
    P[j]     = (sum_i s[i,j] pb[i,j]**(1 - sigma[j]))**(1 / (1 - sigma[j]))
                                                                 CES price index
               (sigma = 1: log P[j] = sum_i s[i,j] log pb[i,j])
    Q[j]     = P[j]**(-eta[j])                                   composite demand
    q[i,j]   = (pb[i,j] / P[j])**(-sigma[j]) * Q[j]              bilateral demand
    X[i] p[i]**epsilon[i] = sum_j flows[i,j] q[i,j]               market clearing, X[i] = sum_j flows[i,j]

``epsilon[i] = inf`` fixes ``p[i] = 1`` (perfectly elastic export supply).

Solution method
---------------
The unknowns are ``x[i] = log p[i]``, one per exporter with positive sales and finite
``epsilon``. The residual is the log excess demand::

    F[i](x) = log(sum_j w[i,j] q[i,j](x)) - epsilon[i] x[i],     w[i,j] = flows[i,j] / X[i]

and its Jacobian is analytic::

    dF[i]/dx[l] = -delta[i,l] (sum_j omega[i,j] sigma[j] + epsilon[i])
                  + sum_j omega[i,j] (sigma[j] - eta[j]) S[l,j]

with ``omega[i,j]`` exporter ``i``'s new sales shares and ``S[l,j]`` importer ``j``'s new
expenditure shares. Newton's method runs on all products and draws together as batched
``n x n`` linear solves, with a backtracking line search on ``|F|**2`` (Armijo). Where the
line search stalls (strong complementarity, ``eta >> sigma``, with very inelastic supply and
tariffs of several hundred percent), the problem is solved along the path ``tau**lam``,
``lam`` from 0 to 1, in steps that halve on failure, each starting from the last solution.
Everything is evaluated in logs (log-sum-exp), so tariffs of 2,000% with ``sigma = 20``
neither overflow nor underflow. The solve stops when ``max |F| <= tol`` (a relative excess
demand) and raises `ConvergenceError` otherwise. Problems are processed in chunks that fit
in cache, one thread per core.

``method="linear"`` solves the first-order (GSIM) version of the same equations in
proportional changes, ``dpb = dp + dtau``, ``dP = sum_i s dpb``,
``dq = -sigma (dpb - dP) - eta dP`` and ``sum_j w dq = epsilon dp``: one linear system per
product (Francois and Hall 2003).

Welfare (USD, changes from the baseline)
----------------------------------------
- Consumer surplus of importer ``j``: the exact area to the left of the composite demand
  curve ``Q = E0 P**(-eta)`` between ``P = 1`` and ``P-hat``, ``E0`` being baseline
  expenditure at tariff-inclusive prices::

      dCS[j] = -E0[j] (P[j]**(1 - eta) - 1) / (1 - eta)          (eta = 1: -E0 log P)

- Producer surplus of exporter ``i``: the area to the left of the supply curve
  ``X p**epsilon``::

      dPS[i] = X[i] (p[i]**(1 + epsilon) - 1) / (1 + epsilon)    (epsilon = inf: 0)

- Tariff revenue of importer ``j``: ``sum_i t1 p q flows - sum_i t0 flows``.

Welfare of a country is the sum of the three, the country being importer for consumer
surplus and revenue and exporter for producer surplus.

Trade creation and diversion (imports only, volumes at baseline prices, USD)
----------------------------------------------------------------------------
With ``M[j] = sum_{i != j} flows[i,j]`` and ``M-hat[j] = sum_{i != j} flows q / M[j]``::

    creation[i,j]  = flows[i,j] (M-hat[j] - 1)            sums over i to the change in imports
    diversion[i,j] = flows[i,j] (q[i,j] - M-hat[j])       sums over i to zero

To first order the importer's total creation equals SMART's summed trade creation and each
partner's diversion equals SMART's trade diversion (see `smart`). SMART attributes all of
the creation to the partners whose tariff changed; the CES demand system spreads it over
every source in proportion to its baseline imports.

References
----------
Francois, J. and H. K. Hall (2003). Global simulation analysis of industry-level trade
policy. World Bank, GSIM technical paper.
Jammes, O. and M. Olarreaga (2005). Explaining SMART and GSIM. World Bank.
Laird, S. and A. Yeats (1986). The UNCTAD trade policy simulation model. UNCTAD
Discussion Paper 19.
"""

from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..data.baseline import MAX_RATE
from ..data.layout import Cells, SparseTensor
from ..errors import ConvergenceError, InputError, TradesimWarning
from ..files import warn_at_caller
from ._lse import softmax as _softmax
from ._newton import solve_linear as _solve_linear
from ._newton import check_options, newton
from ._pe_cells import CellMarkets, cell_ranges, segment_sum, solve_cells
from ._revenue import PairRevenue, charged

__all__ = ["NEAR_ONE", "PESolution", "SmartResult", "check_halts", "check_inputs", "fixed_price_markets",
           "linear_warning", "smart", "solve"]

_TINY = 1e-7  # |1 - sigma| or |1 - eta| below this uses the series expansion of the limit
_NEAR_ONE = 1e-3  # |1 - sigma| below this computes the price index without cancellation
#: ``|1 - sigma|`` below which `solve` computes the price index without cancellation (and
#: `fixed_price_markets` declines).
NEAR_ONE = _NEAR_ONE
_CHUNK_CELLS = 2**17  # [i, j] cells per chunk: about 2 MB a working array, so a chunk stays in cache
_CELL_CHUNK = 2**20  # cells that trade per chunk of the sparse solver: a few tens of MB of working arrays
_BLOCK_CHUNK = 2**19  # on dense input, [product, i, j] cells of a chunk's blocks: its matrices stay in cache between
# steps (5,000 x 40 with 40% of cells trading: twice this costs a third more time, half of it no less)
_BLOCK = 2**16  # values per block of the range checks: 512 KiB, within a core's cache
_LARGEST = float(np.finfo(np.float64).max)  # the largest finite value: flows up to it are finite
_CELL_SOLVER = True  # False: every problem by Newton on dense blocks (the tests compare the two)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PESolution(PairRevenue):
    """Solution of the partial-equilibrium model.

    Every array has an optional leading ``draw`` axis, present when any elasticity had one.
    Exporters and importers are the axes of `flows`; ``home[j]`` is importer ``j``'s position on
    the exporter axis (its domestic source), or -1. The country axis of `welfare` is every
    exporter, then every importer that is not an exporter (the diagonal of a square problem).
    The solved arrays are stored; the pair arrays derived from them (`buyer_price`, `flows_after`,
    `revenue`, `pass_through`, `trade_creation`, `trade_diversion`) are computed when read.

    On a sparse problem (`flows` given as a `tradesim.data.layout.SparseTensor`), `cells` lists
    the cells and every pair array is ``[draw?, cell]`` instead of ``[draw?, product, exporter,
    importer]``: the cells that trade, in the order of `cells` (`dense` gives the tensors).

    Attributes
    ----------
    flows, tariff_before, tariff_after : ndarray, ``[product, exporter, importer]`` (or ``[cell]``)
        The inputs (USD; fractions).
    exporter_price : ndarray, ``[draw?, product, exporter]``
        ``p-hat``, the exporter (factory-gate) price relative to the baseline.
    price_index : ndarray, ``[draw?, product, importer]``
        ``P-hat``, the CES price index relative to the baseline.
    quantity : ndarray, ``[draw?, product, exporter, importer]`` (or ``[draw?, cell]``)
        ``q-hat``, quantity relative to the baseline (1 where there is no trade, and on the
        diagonal when it is not modelled).
    consumer_surplus : ndarray, ``[draw?, product, importer]``
        Change in consumer surplus, USD.
    producer_surplus : ndarray, ``[draw?, product, exporter]``
        Change in producer surplus, USD.
    welfare : ndarray, ``[draw?, product, country]``
        Consumer surplus + producer surplus + change in tariff revenue, USD, a country being
        importer for the first and last and exporter for the second.
    iterations : int
        Newton iterations of the slowest problem, continuation steps included, or steps of the
        accelerated fixed point (0 for ``method="linear"``).
    max_residual : float
        Largest ``|log(demand / supply)|`` over all exporters, products and draws (for
        ``method="linear"``: of the exact equations at the linear answer).
    method : str
        ``"exact"`` or ``"linear"``.
    domestic : bool
        Whether domestic sales were a source of supply.
    draws : bool
        Whether the arrays have a leading draw axis.
    home : ndarray of int, ``[importer]``
        Each importer's position on the exporter axis, or -1.
    cells : tradesim.data.layout.Cells or None
        The cells of the pair arrays on a sparse problem; None on a dense one.
    negatives : int
        Negative prices or quantities of the linear (GSIM) solution (0 for ``method="exact"``).
    """

    flows: np.ndarray
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    exporter_price: np.ndarray
    price_index: np.ndarray
    quantity: np.ndarray
    consumer_surplus: np.ndarray
    producer_surplus: np.ndarray
    welfare: np.ndarray
    iterations: int
    max_residual: float
    method: str
    domestic: bool
    draws: bool = False
    home: np.ndarray = None
    cells: Cells | None = None
    negatives: int = 0

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(product, exporter, importer)``."""
        return self.cells.shape if self.cells is not None else self.flows.shape

    @property
    def own(self) -> np.ndarray:
        """``[exporter, importer]`` bool: the domestic cells (a country's sales to itself)."""
        return _own(self.home, self.shape[1])

    @property
    def countries(self) -> np.ndarray:
        """For each position on the country axis, ``(axis, index)``: 0 for an exporter, 1 for an importer."""
        n = self.shape[1]
        extra = np.flatnonzero(self.home < 0)
        return np.concatenate([np.arange(n), n + np.arange(extra.size)])

    def _to_countries(self, by_importer: np.ndarray | None, by_exporter: np.ndarray | None) -> np.ndarray:
        """Per-country values ``[..., country]`` from values by importer and by exporter (summed where both)."""
        return _to_countries(by_importer, by_exporter, self.home, self.shape[1])

    # pair arrays in either layout: [..., k, i, j] dense, [..., cell] on cells
    def _own_pairs(self) -> np.ndarray:
        if self.cells is None:
            return self.own
        return self.cells.exporter == self.home[self.cells.importer]

    def _exporter_pairs(self, a: np.ndarray) -> np.ndarray:
        """Values ``[..., product, exporter]`` on the pairs."""
        return a[..., :, None] if self.cells is None else a[..., self.cells.product, self.cells.exporter]

    def _importer_pairs(self, a: np.ndarray) -> np.ndarray:
        """Values ``[..., product, importer]`` on the pairs (kept axes: ``[..., k, 1, j]`` dense)."""
        return a[..., None, :] if self.cells is None else a[..., self.cells.product, self.cells.importer]

    def _sum_exporters(self, pairs: np.ndarray) -> np.ndarray:
        """Pair values summed over exporters, ``[..., product, importer]``."""
        if self.cells is None:
            return pairs.sum(axis=-2)
        K, _, m = self.shape
        return segment_sum(pairs, self.cells.product * m + self.cells.importer, K * m).reshape(*pairs.shape[:-1], K, m)

    def dense(self) -> PESolution:
        """This solution with its pair arrays as ``[draw?, product, exporter, importer]`` tensors."""
        if self.cells is None:
            return self
        c = self.cells
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields.update(flows=c.scatter(self.flows), tariff_before=c.scatter(self.tariff_before),
                      tariff_after=c.scatter(self.tariff_after), quantity=c.scatter(self.quantity, fill=1.0),
                      cells=None)
        return PESolution(**fields)

    @property
    def buyer_price(self) -> np.ndarray:
        """``p-hat * (1 + t1) / (1 + t0)``, tariff-inclusive price relative to the baseline, ``[draw?, k, i, j]``."""
        return self._exporter_pairs(self.exporter_price) * ((1 + self.tariff_after) / (1 + self.tariff_before))

    @cached_property  # revenue and the country table read it too
    def flows_after(self) -> np.ndarray:
        """``flows * p-hat * q-hat``: value at new exporter prices, USD, tariff-exclusive, ``[draw?, k, i, j]``.

        Without ``domestic`` the diagonal is not modelled and is reported unchanged.
        """
        after = self.flows * self._exporter_pairs(self.exporter_price) * self.quantity
        if not self.domestic:
            after = np.where(self._own_pairs(), self.flows, after)
        return after

    @property
    def revenue_change(self) -> np.ndarray:
        """Change in tariff revenue by importer, USD, ``[draw?, product, importer]``."""
        return self._sum_exporters(self.revenue) - self._sum_exporters(self.revenue_before)

    @property
    def pass_through(self) -> np.ndarray:
        """``log(buyer_price) / log((1 + t1) / (1 + t0))``, ``[draw?, k, i, j]``; NaN where the tariff did not change
        or trade is halted."""
        log_tau = np.log((1 + self.tariff_after) / (1 + self.tariff_before))
        log_tau[(log_tau == 0) | np.isinf(log_tau)] = np.nan
        return 1 + self._exporter_pairs(np.log(self.exporter_price)) / log_tau

    def _imports(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = self.flows * ~self._own_pairs()
        m_after = m * self.quantity
        total = self._sum_exporters(m)
        with np.errstate(invalid="ignore", divide="ignore"):
            m_hat = np.where(total > 0, self._sum_exporters(m_after) / np.where(total > 0, total, 1.0), 1.0)
        return m, m_after, self._importer_pairs(m_hat)

    @property
    def trade_creation(self) -> np.ndarray:
        """``flows * (M-hat - 1)``: import volume at baseline prices, USD, ``[draw?, k, i, j]``; see the module docstring."""
        m, _, m_hat = self._imports()
        return m * (m_hat - 1)

    @property
    def trade_diversion(self) -> np.ndarray:
        """``flows * (q-hat - M-hat)``: import volume at baseline prices, USD, ``[draw?, k, i, j]``; sums to zero over exporters."""
        m, m_after, m_hat = self._imports()
        return m_after - m * m_hat

    @property
    def creation_by_importer(self) -> np.ndarray:
        """Change in each importer's import volume at baseline prices, USD, ``[draw?, product, importer]``."""
        return self._sum_exporters(self.trade_creation)

    def country_table(self) -> dict[str, np.ndarray]:
        """Headline results per country, ``[draw?, country]`` each, summed over products.

        ``import_price_index_change_pct`` weights each product's CES price index by the
        importer's baseline spending on it (tariff-inclusive): an index of the prices buyers pay
        for imports, duty included, not of consumer prices (imports are a small share of what
        consumers buy, and retail margins absorb part). With `domestic`, the index covers the
        importer's domestic sales of the products too. It is NaN for a country that is only an
        exporter here. Surpluses and revenue are zero where a
        country has no side in the model (an exporter's consumer surplus in a rectangle).
        """
        weights = self._sum_exporters((self.flows if self.domestic else self.flows * ~self._own_pairs())
                                      * (1 + self.tariff_before))
        with np.errstate(invalid="ignore", divide="ignore"):
            price = (weights * (self.price_index - 1)).sum(axis=-2) / weights.sum(axis=-2)
        price_c = self._to_countries(100 * price, None)
        importers = self._to_countries(np.ones(self.shape[-1]), None) > 0
        return {
            "import_price_index_change_pct": np.where(importers, price_c, np.nan),
            "consumer_surplus_usd": self._to_countries(self.consumer_surplus.sum(axis=-2), None),
            "producer_surplus_usd": self._to_countries(None, self.producer_surplus.sum(axis=-2)),
            "revenue_change_usd": self._to_countries(self.revenue_change.sum(axis=-2), None),
            "welfare_usd": self.welfare.sum(axis=-2),
        }

    @property
    def diversion_by_importer(self) -> np.ndarray:
        """Import volume each importer moves between sources, USD, ``[draw?, product, importer]``.

        The sum of the positive diversions (equal to minus the sum of the negative ones).
        """
        return self._sum_exporters(np.clip(self.trade_diversion, 0.0, None))


@dataclass(frozen=True)
class SmartResult:
    """WITS-SMART effects for one importer, in USD, arrays ``[..., product, exporter]``.

    Attributes
    ----------
    trade_creation : ndarray
        ``-eta * M * (t1 - t0) / (1 + t0)``.
    trade_diversion : ndarray
        Substitution between partners; sums to zero over exporters.
    trade_total : ndarray
        ``trade_creation + trade_diversion``.
    revenue_before, revenue_after : ndarray
        ``t0 * M`` and ``t1 * (M + trade_total)``.
    welfare : ndarray
        ``(t0 + t1) / 2 * trade_total``: the trapezoid under the tariff wedge, which is
        WITS's ``0.5 * dt * dM`` when the tariff starts or ends at zero.
    """

    trade_creation: np.ndarray
    trade_diversion: np.ndarray
    trade_total: np.ndarray
    revenue_before: np.ndarray
    revenue_after: np.ndarray
    welfare: np.ndarray


# --------------------------------------------------------------------------- input checks


def _own(home: np.ndarray, n_exporters: int) -> np.ndarray:
    """``[exporter, importer]`` bool: where importer ``j`` buys from itself (exporter ``home[j]``)."""
    own = np.zeros((n_exporters, home.size), bool)
    j = np.flatnonzero(home >= 0)
    own[home[j], j] = True
    return own


def _to_countries(by_importer, by_exporter, home: np.ndarray, n_exporters: int) -> np.ndarray:
    """Values ``[..., country]`` on the country axis (exporters, then importers that are not exporters)."""
    extra = np.flatnonzero(home < 0)
    position = home.copy()
    position[extra] = n_exporters + np.arange(extra.size)
    lead = (by_importer if by_importer is not None else by_exporter).shape[:-1]
    out = np.zeros((*lead, n_exporters + extra.size))
    if by_exporter is not None:
        out[..., :n_exporters] += by_exporter
    if by_importer is not None:
        out[..., position] += by_importer  # positions are distinct: each importer has its own country
    return out


def _array(name: str, value, *, ndim: int | None = None, nan: bool = True) -> np.ndarray:
    """`value` as float64 (no copy when it is one), refused when NaN unless `nan` (the caller's range check
    finds NaN then: `_refuse_nan`)."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers, got {type(value).__name__}: {exc}", key=name) from None
    if ndim is not None and a.ndim != ndim:
        raise InputError(f"has shape {a.shape}; expected {ndim} axes [product, exporter, importer]", key=name)
    if nan and a.size and np.isnan(np.min(a)):  # min propagates NaN: one pass and no temporary array
        _refuse_nan(name, a)
    return a


def _refuse_nan(name: str, a: np.ndarray, cells: Cells | None = None) -> None:
    """Raise `InputError` naming the first NaN of `a`, if it has one."""
    if np.isnan(a).any():
        raise InputError(f"contains NaN at {_first_at(np.isnan(a), cells)}; expected numbers", key=name)


def _within(a: np.ndarray, low: float, high: float, *, finite: bool = False) -> bool:
    """Whether every value of `a` lies in ``[low, high]`` (below `high` when `finite`): one pass, no temporaries.

    False where `a` has NaN (min and max propagate it). A large array is read in blocks that fit in
    cache, each block's max taken while its min left it there: one pass through memory, not two.
    """
    if not a.size:
        return True
    flat = a.reshape(-1) if a.flags.c_contiguous else None
    if flat is None or flat.size <= _BLOCK:
        lo, hi = np.min(a), np.max(a)
        return bool(lo >= low and (hi < high if finite else hi <= high))
    for start in range(0, flat.size, _BLOCK):  # a loop over blocks of memory, to stay in cache
        block = flat[start:start + _BLOCK]
        lo, hi = np.min(block), np.max(block)
        if not (lo >= low and (hi < high if finite else hi <= high)):
            return False
    return True


def _values(name: str, value, shape, cells: Cells | None) -> np.ndarray:
    """A ``[product, exporter, importer]`` argument as a dense array, or as values on `cells` (a sparse problem).

    On cells it may be a `SparseTensor` (of any cells: its values are read at these), a dense
    tensor (read at the cells) or a ``[cell]`` vector. NaN is left to the caller's range check.
    """
    if cells is None:
        if isinstance(value, SparseTensor):
            value = value.toarray()
        a = _array(name, value, ndim=3, nan=False)
        if a.shape != shape:
            raise InputError(f"has shape {a.shape}; expected {shape} like flows", key=name)
        return a
    if isinstance(value, SparseTensor):
        if value.shape != shape:
            raise InputError(f"has shape {value.shape}; expected {shape} like flows", key=name)
        return _array(name, value.on(cells), nan=False)
    a = np.asarray(value)
    if a.ndim == 3:
        if a.shape != shape:
            raise InputError(f"has shape {a.shape}; expected {shape} like flows", key=name)
        a = cells.gather(a)
    elif a.shape != (cells.size,):
        raise InputError(f"has shape {a.shape}; expected {shape} like flows, or one value per cell of flows "
                         f"({cells.size})", key=name)
    return _array(name, a, nan=False)


def _first_at(mask: np.ndarray, cells: Cells | None) -> str:
    """`_first` in ``(product, exporter, importer)`` positions, also for values on cells."""
    if cells is None:
        return _first(mask)
    hits = np.flatnonzero(mask)
    shown = ", ".join(str((int(cells.product[c]), int(cells.exporter[c]), int(cells.importer[c]))) for c in hits[:3])
    more = f" and {hits.size - 3} more" if hits.size > 3 else ""
    return f"index {shown}{more}"


def _first(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    shown = ", ".join(str(tuple(int(v) for v in row)) for row in idx[:3])
    more = f" and {len(idx) - 3} more" if len(idx) > 3 else ""
    return f"index {shown}{more}"


def _elasticity(name: str, value, n_products: int, n_countries: int, *, low: float, strict: bool,
                allow_inf: bool) -> np.ndarray:
    """Return `value` as ``[draw, product, country]`` (draw of length 1 when absent).

    Accepted shapes: ``()``, ``(product,)``, ``(product, country)`` and, with a leading draw
    axis, ``(draw, product, country)``; any axis may have length 1 to broadcast.
    """
    a = _array(name, value)
    shapes = {0: (), 1: (n_products,), 2: (n_products, n_countries), 3: (None, n_products, n_countries)}
    if a.ndim not in shapes:
        raise InputError(
            f"has shape {a.shape}; expected (), (product,), (product, country) or (draw, product, country) "
            f"with product={n_products}, country={n_countries}",
            key=name,
        )
    want = shapes[a.ndim]
    if any(w is not None and s not in (1, w) for s, w in zip(a.shape, want)):
        raise InputError(
            f"has shape {a.shape}; expected {tuple('draw' if w is None else w for w in want)} "
            f"(product={n_products}, country={n_countries}; 1 broadcasts)",
            key=name,
        )
    a = a.reshape((1,) * (3 - a.ndim) + a.shape) if a.ndim != 1 else a.reshape(1, -1, 1)
    bad = ~(a > low) if strict else ~(a >= low)
    if not allow_inf:
        bad |= np.isinf(a)
    if bad.any():
        bound = f"{'>' if strict else '>='} {low:g}" + ("" if allow_inf else " and finite")
        raise InputError(f"has {float(a[bad].ravel()[0])!r} at {_first(bad)}; expected values {bound}", key=name)
    return a


def check_inputs(flows, tariff_before, tariff_after, sigma, eta, epsilon, *, domestic: bool = True, home=None):
    """The inputs of `solve` checked as it checks them, and in the shapes it solves them in.

    For engines that solve the products in parts (`tradesim.models.distributed`): bad input is
    refused before any work, naming positions in the whole tensor, not in a part.

    Returns
    -------
    flows, tariff_before, tariff_after : ndarray
        ``[product, exporter, importer]``, or ``[cell]`` on the cells of a sparse `flows`.
    sigma, eta, epsilon : ndarray, ``[draw, product, country]``
        Axes of length 1 broadcast (the draw axis is 1 without draws).
    home : ndarray of int, ``[importer]``
    cells : Cells or None
        The cells of a sparse `flows`.

    Raises
    ------
    InputError
        As `solve`.
    """
    flows, t0, t1, sig, et, eps, _, home, cells = _check_inputs(flows, tariff_before, tariff_after, sigma, eta,
                                                                epsilon, domestic, home)
    return flows, t0, t1, sig, et, eps, home, cells


def _check_inputs(flows, tariff_before, tariff_after, sigma, eta, epsilon, domestic, home, values: bool = True):
    """The inputs checked: dense tensors, or values on the cells of a sparse `flows` (then `cells` is not None).

    Without `values` the checks that read every value of the dense tensors are left out (their
    ranges, halts, the domestic cells): the caller runs them (`_values_ok`), and runs this again
    with them where they fail, so that the error is the one this gives.
    """
    cells = flows.cells if isinstance(flows, SparseTensor) else None
    values = values or cells is not None
    # NaN fails the range checks below, which then name it: each big array is read twice, not three times
    flows = _array("flows", flows, ndim=3, nan=False) if cells is None else _array("flows", flows.values, nan=False)
    shape = flows.shape if cells is None else cells.shape
    K, n, n2 = shape
    if home is None:
        if n != n2:
            raise InputError(f"has shape {shape}, a rectangle: pass home (each importer's position on the "
                             "exporter axis, -1 where it is not an exporter)", key="flows")
        home = np.arange(n)
    home = np.asarray(home)
    if home.shape != (n2,) or not np.issubdtype(home.dtype, np.integer) or (home >= n).any() or (home < -1).any() \
            or len(set(home[home >= 0].tolist())) < int((home >= 0).sum()):
        raise InputError(f"is {home!r}; expected one position per importer ({n2}) on the exporter axis (0 to "
                         f"{n - 1}, each once) or -1", key="home")
    if values and not _within(flows, 0.0, np.inf, finite=True):
        _refuse_nan("flows", flows, cells)
        raise InputError(f"has negative or infinite values at {_first_at(~(flows >= 0) | np.isinf(flows), cells)}; "
                         "expected finite USD values >= 0", key="flows")
    tariffs, halts = [], False
    for name, t in (("tariff_before", tariff_before), ("tariff_after", tariff_after)):
        t = _values(name, t, shape, cells)
        if values and not _within(t, 0.0, MAX_RATE):
            _refuse_nan(name, t, cells)
            after = name == "tariff_after"  # a halt (inf) may come after, not at the baseline
            bad = ~((t >= 0) & ((t <= MAX_RATE) | (after & np.isposinf(t))))
            if bad.any():
                raise InputError(f"has {float(t[bad][0])!r} at {_first_at(bad, cells)}; expected fractions from 0 to "
                                 f"{MAX_RATE:g}" + (" or inf (trade halted)" if after else ""), key=name)
            halts = True
        tariffs.append(t)
    t0, t1 = tariffs
    own = _own(home, n)
    if domestic and values:
        own_values = (lambda a: a[:, own]) if cells is None else \
            (lambda a, mask=cells.exporter == home[cells.importer]: a[mask])
        if K and not (own_values(flows) > 0).any():
            raise InputError(
                "has no domestic sales (flows[k, i, i], where a country sells to itself), which the domestic "
                "substitute needs; add them (gross output minus exports) or pass domestic=False to model imports only",
                key="flows",
            )
        for name, t in (("tariff_before", t0), ("tariff_after", t1)):
            td = own_values(t)
            if (td != 0).any():
                raise InputError(f"is nonzero on a domestic cell at {_first(td != 0)}; "
                                 "a country does not levy tariffs on its own sales", key=name)
    sig = _elasticity("sigma", sigma, K, n2, low=0.0, strict=True, allow_inf=False)
    et = _elasticity("eta", eta, K, n2, low=0.0, strict=False, allow_inf=False)
    eps = _elasticity("epsilon", epsilon, K, n, low=0.0, strict=True, allow_inf=True)
    draws = {name: a.shape[0] for name, a in (("sigma", sig), ("eta", et), ("epsilon", eps)) if a.shape[0] != 1}
    if len(set(draws.values())) > 1:
        raise InputError(
            "draw axes differ in length: " + ", ".join(f"{k} has {v}" for k, v in draws.items())
            + "; give every elasticity with draws the same number of draws",
            key="/".join(draws),
        )
    if halts:
        check_halts(flows, t1, sig, cells, home, domestic)
    return flows, t0, t1, sig, et, eps, bool(draws), home, cells


def _up_to(a: np.ndarray, high: float) -> bool:
    """Whether every value of `a` lies in ``[0, high]`` (`high` > 0 and finite), as `_within`.

    On a contiguous float64 array this is one reduction, not two: read as unsigned integers, the
    bit patterns of ``+0.0`` up to ``+inf`` and then NaN keep the order of the values, and every
    negative value (its sign bit set) comes after them, so the largest pattern is at most
    `high`'s exactly when every value is in range. ``-0.0`` is refused too (a false alarm: the
    caller's full check then accepts it).
    """
    if a.dtype != np.float64 or not a.flags.c_contiguous:
        return _within(a, 0.0, high)
    return not a.size or bool(np.max(a.reshape(-1).view(np.uint64)) <= np.float64(high).view(np.uint64))


def _values_ok(flows, t0, t1, home, domestic) -> tuple[bool, bool]:
    """The checks `_check_inputs` leaves out without `values`, on dense ``[product, exporter, importer]`` tensors
    (all the products, or some of them).

    Returns
    -------
    ok : bool
        Whether flows are finite and >= 0, tariffs from 0 to `MAX_RATE` (no halt) and, with
        `domestic`, zero on the domestic cells (False also where a value is ``-0.0``: `_up_to`;
        the callers' full check then decides).
    sells : bool
        Whether some domestic cell has flows (True without `domestic`).
    """
    ok = _up_to(flows, _LARGEST) and _up_to(t0, MAX_RATE) and _up_to(t1, MAX_RATE)
    if not (ok and domestic):
        return ok, True
    j = np.flatnonzero(home >= 0)
    i = home[j]
    return not (t0[:, i, j].any() or t1[:, i, j].any()), bool((flows[:, i, j] > 0).any())


def check_halts(flows, t1, sigma, cells, home, domestic) -> None:
    """Refuse halts (``t1 = inf``) that leave a market without a finite answer.

    A CES buyer does without a halted source at a finite cost only when ``sigma > 1`` (with
    ``sigma <= 1`` its price index is infinite) and when some source that trades is left; close
    to one the cost is too large to compute, so ``sigma`` must be at least ``1 + NEAR_ONE``.

    Parameters
    ----------
    flows, t1 : numpy.ndarray
        ``[product, exporter, importer]``, or ``[cell]`` on `cells`.
    sigma : numpy.ndarray, ``[draw, product or 1, importer or 1]``
    cells : Cells or None
    home : numpy.ndarray of int, ``[importer]``
    domestic : bool
        Whether the domestic cells are sources.

    Raises
    ------
    InputError
        Naming the first halted cell of a market that fails, with its ``sigma``.
    """
    K, n, m = flows.shape if cells is None else cells.shape
    stop = np.isposinf(t1) & (flows > 0)
    if cells is None:
        k, i, j = np.nonzero(stop)
        own = _own(home, n)
        source = (flows > 0) & ~np.isposinf(t1) & (True if domestic else ~own)
        left = source.any(axis=1)[k, j]
    else:
        k, i, j = (a[stop] for a in (cells.product, cells.exporter, cells.importer))
        own = cells.exporter == home[cells.importer]
        source = (flows > 0) & ~np.isposinf(t1) & (True if domestic else ~own)
        market = cells.product * m + cells.importer
        left = np.bincount(market[source], minlength=K * m)[k * m + j] > 0
    sig = np.broadcast_to(sigma, (sigma.shape[0], K, m))[:, k, j].min(axis=0, initial=np.inf)  # [halted cell]
    for bad, why in ((sig < 1 + _NEAR_ONE, "sigma > 1 in its market (a CES buyer cannot do without a source "
                      f"when sigma <= 1); sigma is at least {1 + _NEAR_ONE:g} where a halt applies"),
                     (~left, "another source that trades in its market (the price index is infinite when every "
                      "source is halted)")):
        if bad.any():
            a = int(np.flatnonzero(bad)[0])
            raise InputError(f"halts trade (inf) at product index {k[a]}, exporter index {i[a]}, importer index "
                             f"{j[a]}, where sigma is {sig[a]:g}; a halt needs {why}", key="tariff_after")


# --------------------------------------------------------------------------- helpers


def _log_ratio(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``(exp(a z) - 1) / a``, with its limit ``z`` as ``a -> 0``."""
    small = np.abs(a) < _TINY
    with np.errstate(over="ignore", invalid="ignore"):
        if not small.any():  # the usual case: no limit to take
            out = np.expm1(np.multiply(a, z))
            out /= a
            return out
        a_safe = np.where(small, 1.0, a)
        return np.where(small, z * (1 + a * z / 2), np.expm1(a * z) / a_safe)


class _Markets:
    """Per-product constants of the model, computed once for every draw and chunk ``[K, ...]``."""

    def __init__(self, flows, t0, t1, domestic, home):
        K, n, m = flows.shape
        self.shape = (K, n, m)
        self.own = _own(home, n)
        v = flows if domestic else flows * ~self.own
        expend = v * (1 + t0)
        sales = v.sum(axis=2)  # X[i]
        buys = expend.sum(axis=1)  # E0[j]
        with np.errstate(divide="ignore", invalid="ignore"):
            self.log_s = np.log(expend / np.where(buys > 0, buys, 1.0)[:, None, :])
            self.log_w = np.log(v / np.where(sales > 0, sales, 1.0)[:, :, None])
        self.log_tau = np.log((1 + t1) / (1 + t0))
        self.t0, self.t1, self.v, self.full, self.sales, self.buys = t0, t1, v, flows, sales, buys


class _Problem:
    """The constants of a chunk of problems (a problem is one product under one elasticity draw).

    Problems are numbered ``b = draw * K + product`` over the whole batch; `index` lists this
    chunk's. Arrays are ``[C, ...]`` with ``C = len(index)``.
    """

    _FIELDS = ("log_s", "log_w", "log_tau", "sigma", "eta", "eps", "has_sales", "has_buys", "free", "index")

    def __init__(self, markets: _Markets, sig, eta, eps, index, products=None):
        D = max(sig.shape[0], eta.shape[0], eps.shape[0])
        K, n, m = markets.shape
        self.shape = (D, K, n, m)
        self.own = markets.own
        self.index = index
        self.products = np.arange(K) if products is None else products  # the batch's products (for messages)
        d, k = np.divmod(index, K)
        for name in ("t0", "t1", "v", "full", "sales", "buys", "log_s", "log_w", "log_tau"):
            setattr(self, name, getattr(markets, name)[k])  # a gather: the logs are taken once per product
        # elasticities [C, 1, importer] and [C, exporter]
        self.sigma = np.broadcast_to(sig, (D, K, m))[d, k][:, None, :]
        self.eta = np.broadcast_to(eta, (D, K, m))[d, k][:, None, :]
        self.eps = np.broadcast_to(eps, (D, K, n))[d, k]
        self.has_sales = self.sales > 0
        self.has_buys = (self.buys > 0)[:, None, :]
        self.free = self.has_sales & np.isfinite(self.eps)

    def __len__(self):
        return len(self.index)

    def subset(self, idx):
        """The solver's constants for problems `idx` of this chunk (fancy indexing copies only these)."""
        if len(idx) == len(self) and (np.diff(idx) == 1).all():
            return self
        sub = object.__new__(_Problem)
        sub.shape, sub.own, sub.products = self.shape, self.own, self.products
        for name in self._FIELDS:
            setattr(sub, name, getattr(self, name)[idx])
        return sub


def _demand(pr, x):
    """Demand at log exporter prices `x` [B, exporter].

    Returns log buyer prices ``y`` [B, i, j], log price indices [B, 1, j], new expenditure
    shares ``S`` [B, i, j] and log quantity-hats [B, i, j].
    """
    y = x[:, :, None] + pr.log_tau
    a = 1.0 - pr.sigma
    ay = a * y
    L, S = _softmax(ay + pr.log_s, axis=1, present=pr.has_buys)
    near = np.abs(a) < _NEAR_ONE
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # trial points far out may overflow
        log_P = L / np.where(near, 1.0, a)
        if near.any():
            # log(sum s e^(a y)) / a loses log(sum s) = O(rounding) / a near sigma = 1; this form does not
            s = np.exp(pr.log_s)
            log_P = np.where(near, np.log1p(np.sum(s * np.expm1(ay), axis=1, keepdims=True)) / a, log_P)
            small = np.abs(a) < _TINY  # sigma = 1: the Cobb-Douglas limit, to second order in (1 - sigma)
            if small.any():
                y0 = np.where(s > 0, y, 0.0)
                mean = np.sum(s * y0, axis=1, keepdims=True)
                var = np.sum(s * y0 * y0, axis=1, keepdims=True) - mean**2
                log_P = np.where(small, mean + a * var / 2, log_P)
    log_P = np.where(pr.has_buys, log_P, 0.0)
    log_q = (pr.sigma - pr.eta) * log_P - pr.sigma * y
    return y, log_P, S, log_q


def _evaluate(pr, x):
    """Log excess demand F [B, exporter], new sales shares omega and expenditure shares S [B, i, j]."""
    _, _, S, log_q = _demand(pr, x)
    log_q += pr.log_w
    log_D, omega = _softmax(log_q, axis=2, present=pr.has_sales[:, :, None])
    log_D = np.where(pr.has_sales, log_D[:, :, 0], 0.0)
    with np.errstate(invalid="ignore"):
        F = np.where(pr.free, log_D - np.where(pr.free, pr.eps, 0.0) * x, x)
    return F, omega, S


def _jacobian(pr, omega, S):
    """``dF/dx`` [B, exporter, exporter]; identity rows for exporters whose price is fixed."""
    J = np.matmul(omega * (pr.sigma - pr.eta), np.swapaxes(S, 1, 2))
    n = J.shape[-1]
    J[:, np.arange(n), np.arange(n)] -= (omega * pr.sigma).sum(axis=2) + np.where(pr.free, pr.eps, 0.0)
    J = np.where(pr.free[:, :, None], J, np.eye(n))
    return J


def _newton_from(pr, x, tol, max_iter):
    """Damped Newton (`tradesim.models._newton.newton`) from `x` for every problem in `pr`; never raises.

    The Jacobian needs the shares that the residual at the same point computed: each residual
    call keeps them with its point, and the Jacobian reuses the rows whose point is unchanged
    (the accepted trial points), so a Newton step evaluates demand once, not twice.
    """
    B, n = x.shape
    m = pr.shape[-1]
    seen = np.full((B, n), np.nan)  # the point each problem's kept shares belong to
    omega, S = np.empty((B, n, m)), np.empty((B, n, m))

    def residual(x, idx):
        F, om, s = _evaluate(pr.subset(idx), x)
        seen[idx], omega[idx], S[idx] = x, om, s
        return F

    def jacobian(x, idx):
        if not np.array_equal(seen[idx], x):  # not where the shares were kept: evaluate anew
            residual(x, idx)
        return _jacobian(pr.subset(idx), omega[idx], S[idx])

    return newton(residual, jacobian, x, tol=tol, max_iter=max_iter)


def _newton(pr, tol, max_iter):
    """Solve every problem, continuing from smaller shocks where Newton alone fails.

    Problems that Newton does not solve from the baseline are solved along the path
    ``tau**lam`` from ``lam = 0`` (the baseline, solved by ``x = 0``) to ``lam = 1``: each
    step starts from the last solution and is halved when it fails, so the iterate
    tracks the equilibrium. The path is only needed in corners (strong complementarity,
    ``eta >> sigma``, with very inelastic supply and tariffs of several hundred percent).
    """
    B, n = pr.free.shape
    x = np.zeros((B, n))
    if not pr.free.any():  # every exporter price fixed (infinite supply): x = 0 solves F = x exactly
        return x, 0, 0.0
    lam_done = np.zeros(B)
    lam_try = np.ones(B)
    iterations = np.zeros(B, dtype=int)
    residual = np.zeros(B)
    todo = np.arange(B)
    while todo.size:
        budget = max_iter - int(iterations[todo].max())
        if budget <= 0:
            raise _unsolved(pr, x, lam_done, todo, f"did not converge in {max_iter} Newton iterations",
                            max_iter, tol)
        sub = pr.subset(todo)
        sub.log_tau = sub.log_tau * lam_try[todo, None, None]
        xt, Ft, ok, it = _newton_from(sub, x[todo].copy(), tol, budget)
        iterations[todo] += it
        good, bad = todo[ok], todo[~ok]
        x[good] = xt[ok]
        residual[good] = np.abs(Ft[ok]).max(axis=1, initial=0.0)
        width = lam_try[good] - lam_done[good]
        lam_done[good] = lam_try[good]
        lam_try[good] = np.minimum(1.0, lam_done[good] + 2 * width)
        lam_try[bad] = (lam_done[bad] + lam_try[bad]) / 2
        stuck = bad[lam_try[bad] - lam_done[bad] < 1e-6]
        if stuck.size:
            raise _unsolved(pr, x, lam_done, stuck, "have no solution reachable from the baseline",
                            int(iterations.max()), tol)
        todo = np.flatnonzero(lam_done < 1.0)
    worst = float(residual.max(initial=0.0))
    if worst > tol:  # only where rounding error stopped Newton short of the tolerance
        raise ConvergenceError(
            f"market clearing misses the tolerance at the solution ({_where(pr, int(residual.argmax()))}); "
            "rounding error dominates: check for extreme flows or elasticities",
            iterations=int(iterations.max()), residual=worst, tol=tol, draws=_draws(pr, residual > tol),
        )
    return x, int(iterations.max(initial=0)), worst


def _unsolved(pr, x, lam_done, idx, why, iterations, tol) -> ConvergenceError:
    """The error for problems `idx`: how many, the first one, how far along the shock it got, its residual."""
    F = _evaluate(pr.subset(idx), x[idx])[0]
    first = int(idx[0])
    return ConvergenceError(
        f"{idx.size} of {len(pr)} problems {why} "
        f"(first: {_where(pr, first)}, shock solved up to {lam_done[first]:.6f} of the way)",
        iterations=iterations, residual=float(np.abs(F).max()), tol=tol, draws=_draws(pr, idx),
    )


def _draws(pr, which) -> np.ndarray:
    """Draw numbers of this chunk's problems `which` (indices or a mask)."""
    return np.unique(np.asarray(pr.index)[which] // pr.shape[1])


def _where(pr, b):
    D, K = pr.shape[:2]
    d, k = divmod(int(pr.index[b]), K)
    k = int(pr.products[k])
    return f"draw {d}, product index {k}" if D > 1 else f"product index {k}"


# --------------------------------------------------------------------------- solvers


def solve(
    flows,
    tariff_before,
    tariff_after,
    sigma,
    eta,
    epsilon,
    *,
    domestic: bool = True,
    home=None,
    method: str = "exact",
    tol: float = 1e-10,
    max_iter: int = 100,
    warn: bool = True,
) -> PESolution:
    """Solve the multi-market Armington model for every product (and elasticity draw) at once.

    Parameters
    ----------
    flows : array_like ``[product, exporter, importer]`` or SparseTensor
        Baseline values, USD per year, tariff-exclusive. Exporters and importers may differ
        (a rectangle: US imports from 51 partners are ``[product, 51, 1]``); domestic sales sit
        where a country is on both axes (the diagonal of a square). A
        `tradesim.data.layout.SparseTensor` (the cells that trade, `Baseline.sparse_flows`)
        makes the problem sparse: time and memory then grow with its cells, and the solution's
        pair arrays are on them (`PESolution.cells`).
    tariff_before, tariff_after : array_like, ``[product, exporter, importer]``
        Ad valorem rates as fractions, 0 to 20. With a sparse `flows`, also a `SparseTensor` or
        one value per cell of `flows`. ``inf`` in `tariff_after` halts the cell's trade (an
        import ban or halted purchases): its quantity goes to zero, it collects no revenue, and
        its market's price index is the CES index without it. A halt needs ``sigma > 1`` (at
        least ``1 + NEAR_ONE``) in its market and another source left, and ``method="exact"``.
    sigma : array_like
        Elasticity of substitution between sources (> 0), shape ``()``, ``[product]``,
        ``[product, importer]`` or with a leading draw axis ``[draw, product, importer]``.
    eta : array_like
        Elasticity of composite demand (>= 0); shapes as `sigma`.
    epsilon : array_like
        Export supply elasticity (> 0, ``inf`` allowed), shapes as `sigma` with the last
        axis the exporter.
    domestic : bool
        Include domestic sales as a source. Needs some domestic cell that is not zero. With
        False the domestic cells are ignored and reported unchanged.
    home : array_like of int, ``[importer]``, optional
        Each importer's position on the exporter axis (its domestic source), -1 where it is not
        an exporter. Needed for a rectangle; the diagonal of a square by default.
    method : {"exact", "linear"}
        The nonlinear equations, solved exactly, or their GSIM linearisation.
    tol : float
        Stopping tolerance on ``max |log excess demand|`` (relative excess demand).
    max_iter : int
        Most Newton iterations for any problem, continuation steps included.
    warn : bool
        Warn when the linear solution has negative prices or quantities (`PESolution.negatives`
        counts them either way; an engine that solves in parts warns once for all of them).

    Returns
    -------
    PESolution

    Raises
    ------
    InputError
        For shapes that do not match, negative or NaN values, ``sigma <= 0``, ``eta < 0``,
        ``epsilon <= 0``, draw axes of different lengths, or a halt the model cannot answer
        (`check_halts`).
    ConvergenceError
        When the solver does not reach `tol`.

    Notes
    -----
    With ``epsilon = inf`` for every exporter (the default elasticities) exporter prices do not
    move and the solution is closed-form per cell. Otherwise the problems whose ``sigma`` is
    the same for all importers (and not within ``1e-3`` of one) are solved on the cells that
    trade by an Anderson-accelerated fixed point (`tradesim.models._pe_cells`): two
    matrix-vector products per step (with dense blocks where a product trades in a good share of
    its cells, sparse matrices elsewhere), no ``exporter x exporter`` system. The others, and any
    that fixed point does not solve in 60 steps, go to Newton's method with continuation on
    dense ``[exporter, importer]`` blocks (see the module notes). Both stop on the same
    residual, so the numbers agree to `tol`.

    Examples
    --------
    A 10% tariff on one of two equal suppliers, perfectly elastic supply:

    >>> import numpy as np
    >>> flows = np.array([[[0, 0, 50], [0, 0, 50], [0, 0, 0]]], dtype=float)
    >>> t1 = np.zeros_like(flows); t1[0, 0, 2] = 0.1
    >>> sol = solve(flows, np.zeros_like(flows), t1, sigma=4, eta=1, epsilon=np.inf, domestic=False)
    >>> P = ((1.1**-3 + 1) / 2) ** (-1 / 3)  # CES index with equal shares
    >>> bool(np.isclose(sol.quantity[0, 0, 2], (1.1 / P) ** -4 * P**-1))
    True
    >>> round(float(sol.quantity[0, 0, 2]), 4)
    0.78
    """
    if method not in ("exact", "linear"):
        raise InputError(f"unknown method {method!r}; expected 'exact' or 'linear'", key="method")
    check_options(tol, max_iter)
    # on dense tensors the checks that read every value wait (`_values_ok`): each chunk then checks its products,
    # a part at a time as the solver first reads them (`CellMarkets.read`), where a check of the whole would read
    # them from memory once more
    args = (flows, tariff_before, tariff_after, sigma, eta, epsilon, domestic, home)
    lazy = method == "exact" and not isinstance(flows, SparseTensor)
    try:
        checked = _check_inputs(*args, values=not lazy)
    except InputError:
        if not lazy:
            raise
        checked = None
    if checked is None:  # out of the except clause: the error has no other one as its context
        checked = _check_inputs(*args)  # raises the error the whole check gives first
    flows, t0, t1, sig, et, eps, has_draws, home, cells = checked
    if method == "linear" and (np.isposinf(t1) & (flows > 0)).any():  # a halt where nothing trades changes nothing
        raise InputError("halts trade (inf); the linear (GSIM) approximation has no answer for a halt: use "
                         "method='exact'", key="tariff_after")
    D = max(sig.shape[0], et.shape[0], eps.shape[0])
    K, n, m = flows.shape if cells is None else cells.shape
    B = D * K
    c = n + int((home < 0).sum())
    sizes = {"exporter": (n,), "importer": (m,), "country": (c,)}
    out = {name: np.empty((B, *sizes[axes])) for name, axes in _OUTPUTS.items() if axes != "pair"}
    # dense: each problem's block is filled by the task that solves it, on its core
    out["quantity"] = np.empty((B, n, m)) if cells is None else np.ones((D, cells.size))
    model = _ModelCells(flows, t0, t1, cells, domestic, home)
    elasticities = (np.broadcast_to(sig, (D, K, m)), np.broadcast_to(et, (D, K, m)), np.broadcast_to(eps, (D, K, n)))

    fast = np.zeros(B, bool)
    if method == "exact" and _CELL_SOLVER:  # sigma the same for every importer of a problem, and not near one
        s0 = elasticities[0][..., 0]
        fast = ((elasticities[0] == s0[..., None]).all(axis=-1) & (np.abs(1 - s0) >= _NEAR_ONE)).ravel()

    by_chunk = lazy and D == 1 and bool(fast.all())  # every product in exactly one chunk: each checks its own
    if lazy and not by_chunk:
        ok, sells = _values_ok(flows, t0, t1, home, domestic)
        if not (ok and (sells or not K)):
            _check_inputs(*args)  # raises its error, or finds halts that the model answers (`check_halts`)

    def fast_work(ids, check=by_chunk):
        """Solve problems `ids` on the cells; check their values when `check`, part by part before the solver
        uses them, and return them as ``recheck`` where that fails, unsolved."""
        sells = []

        def values_ok(v, a0, a1):  # a part of the products' blocks, checked as the solver first reads it
            ok, some = _values_ok(v, a0, a1, home, domestic)
            sells.append(some)
            return ok

        parts = solve_cells(model.markets, ids, elasticities[0][ids // K, ids % K, 0],
                            elasticities[1][ids // K, ids % K], elasticities[2][ids // K, ids % K], tol, max_iter,
                            check=values_ok if check else None)
        if parts is None:
            return 0, 0.0, 0, ids[:0], ids, True
        steps, residual, unsolved = 0, 0.0, []
        for r in parts:
            part = ids[r["at"]]  # the problems of one layout (dense blocks or sparse)
            model.write(out, part, r, elasticities, home)
            done = ~r["unsolved"]
            steps, residual = max(steps, r["steps"]), max(residual, float(r["residual"][done].max(initial=0.0)))
            unsolved.append(part[r["unsolved"]])
        return steps, residual, 0, np.concatenate(unsolved), None, any(sells) or not check

    runs = _run(fast_work, model.chunks(np.flatnonzero(fast), n))
    if by_chunk:
        recheck = [r[4] for r in runs if r[4] is not None]
        if recheck or (K and not any(r[5] for r in runs)):
            _check_inputs(*args)  # raises its error, or finds halts that the model answers (`check_halts`)
            runs = [r for r in runs if r[4] is None] + _run(lambda ids: fast_work(ids, False), recheck)
    rest = np.sort(np.concatenate([np.flatnonzero(~fast)] + [r[3] for r in runs]))

    def dense_work(task):
        markets, products, idx = task
        pr = _Problem(markets, *(_take_products(a, products, K) for a in (sig, et, eps)), idx, products)
        p_hat, P_hat, q_hat, iterations, residual, bad = _solve_chunk(pr, method, tol, max_iter)
        ids = (idx // products.size) * K + products[idx % products.size]
        outcomes = _outcomes(pr, p_hat, P_hat, q_hat, domestic, home)
        for name, a in outcomes.items():
            if name != "quantity":
                out[name][ids] = a
        model.write_dense_quantity(out["quantity"], ids, outcomes["quantity"])
        return iterations, residual, bad, None

    runs += _run(dense_work, model.dense_tasks(rest, D, np.isfinite(eps).any()))
    bad = sum(r[2] for r in runs)
    if bad and warn:
        warn_at_caller(linear_warning(bad), TradesimWarning)  # at the user's line, however deep the call

    def shaped(a, lead=(D, K)):
        a = a.reshape(*lead, *a.shape[1:])
        return a if has_draws else a[0]

    quantity = out.pop("quantity")
    return PESolution(
        flows=flows,
        tariff_before=t0,
        tariff_after=t1,
        quantity=shaped(quantity) if cells is None else (quantity if has_draws else quantity[0]),
        **{name: shaped(a) for name, a in out.items()},
        iterations=max((r[0] for r in runs), default=0),
        max_residual=max((r[1] for r in runs), default=0.0),
        method=method,
        domestic=bool(domestic),
        draws=has_draws,
        home=home,
        cells=cells,
        negatives=int(bad),
    )


def fixed_price_markets(buys, fixed_spend, moved_market, moved_spend, moved_log_tau, sigma, eta) -> dict | None:
    """Markets of the model with perfectly elastic export supply (``epsilon = inf``), in closed form.

    Exporters' prices do not move, so each market (one importer's demand for one product) clears
    by itself: ``P = (sum_i s[i] tau[i]**(1 - sigma))**(1 / (1 - sigma))``, ``q[i] = tau[i]**-sigma
    P**(sigma - eta)`` (the module notes). Only the cells whose tariff changes (``tau != 1``) are
    passed: the others add their baseline spending to the sum as they are. The numbers are those of
    `solve` on the same markets, to rounding. Work grows with the moved cells and the markets.

    Parameters
    ----------
    buys : numpy.ndarray, ``[market]``
        Baseline spending of each market at tariff-inclusive prices, ``E0``, USD (> 0).
    fixed_spend : numpy.ndarray, ``[market]``
        The part of it on cells whose tariff does not change, USD.
    moved_market : numpy.ndarray of int, ``[cell]``
        The market of each cell whose tariff changes.
    moved_spend : numpy.ndarray, ``[cell]``
        Their baseline spending, ``flows * (1 + t0)``, USD.
    moved_log_tau : numpy.ndarray, ``[cell]``
        ``log((1 + t1) / (1 + t0))``.
    sigma, eta : numpy.ndarray, ``[draw, market]``
        Elasticities (``sigma > 0``, ``eta >= 0``).

    Returns
    -------
    dict or None
        ``"log_price_index"`` (``log P``), ``"log_shifter"`` (``log G``, ``G = P**(sigma - eta)``, a
        quantity being ``tau**-sigma G``) and ``"consumer_surplus"`` (USD), each ``[draw, market]``;
        None where some ``sigma`` is within ``1e-3`` of one (where `solve` avoids the cancellation
        of this form) or an elasticity is out of its range (`solve` says which).

    Examples
    --------
    >>> import numpy as np
    >>> out = fixed_price_markets(np.array([100.0]), np.array([50.0]), np.array([0]), np.array([50.0]),
    ...                           np.log([1.1]), np.array([[4.0]]), np.array([[1.0]]))
    >>> P = ((1.1**-3 + 1) / 2) ** (-1 / 3)
    >>> bool(np.isclose(np.exp(out["log_price_index"][0, 0]), P))
    True
    """
    sigma, eta = np.asarray(sigma, float), np.asarray(eta, float)
    a = 1.0 - sigma
    if not (np.isfinite(sigma).all() and (sigma > 0).all() and np.isfinite(eta).all() and (eta >= 0).all()) or \
            (np.abs(a) < _NEAR_ONE).any():
        return None
    D, P = sigma.shape
    # sum_i spend tau**(1 - sigma): the moved cells' terms added to the others' spending
    terms = moved_spend * np.exp(a[:, moved_market] * moved_log_tau)  # [draw, cell]
    total = segment_sum(terms, moved_market, P)
    total += fixed_spend
    has_buys = buys > 0
    total /= np.where(has_buys, buys, 1.0)
    total[:, ~has_buys] = 1.0
    log_P = np.log(total, out=total)
    log_P /= a
    with np.errstate(over="ignore", invalid="ignore"):
        cs = -buys * _log_ratio(log_P, 1 - eta)
    return {"log_price_index": log_P, "log_shifter": (sigma - eta) * log_P, "consumer_surplus": cs}


def linear_warning(negatives: int) -> str:
    """The warning `solve` gives when the linear (GSIM) solution has `negatives` negative prices or quantities."""
    return (f"the linear (GSIM) approximation gives {negatives} negative prices or quantities: the shock is too "
            "large for a first-order solution; use method='exact'")


def _run(work, tasks: list) -> list:
    """``work(task)`` for every task, on every core when there are several (numpy releases the GIL)."""
    if len(tasks) <= 1:
        return [work(t) for t in tasks]
    with ThreadPoolExecutor(min(os.cpu_count() or 1, len(tasks))) as pool:
        return list(pool.map(work, tasks))


def _take_products(a: np.ndarray, products: np.ndarray, K: int) -> np.ndarray:
    """An elasticity ``[draw, product or 1, country]`` on `products` only."""
    return a[:, products] if a.shape[1] == K and K > 1 else a


class _ModelCells:
    """The cells the model solves (flows > 0; without the domestic cells when they are not modelled),
    their constants, and where each solved chunk's results go."""

    def __init__(self, flows, t0, t1, cells, domestic, home):
        self.dense_input = cells is None
        self.flows, self.t0, self.t1, self.cells, self.domestic, self.home = flows, t0, t1, cells, domestic, home
        K, n, m = self.shape = flows.shape if cells is None else cells.shape
        own_j = np.flatnonzero(home >= 0)
        if cells is None:
            self.position = None
            # each chunk finds its cells (flows > 0, without the domestic cells when not modelled) in its block
            drop = None if domestic else (home[own_j], own_j)
            self.markets = CellMarkets(self.shape, flows, t0, t1, drop=drop)
            fixed = None  # the revenue change of the domestic cells when not modelled: `_fixed_revenue`, by chunk
        else:
            own = cells.exporter == home[cells.importer]
            keep = (flows > 0) & (True if domestic else ~own)
            self.position = np.flatnonzero(keep)  # each model cell's place among the cells
            model = Cells(self.shape, cells.index[self.position])
            held = (flows > 0) & ~keep
            fixed = segment_sum((t1[held] - t0[held]) * flows[held], (cells.product * m + cells.importer)[held],
                                K * m).reshape(K, m)
            self.markets = CellMarkets(self.shape, flows[keep], t0[keep], t1[keep], cells=model)
        self.fixed_revenue = fixed

    def chunks(self, ids: np.ndarray, n: int) -> list[np.ndarray]:
        """`ids` (problems) in chunks of at most `_CELL_CHUNK` cells (`_BLOCK_CHUNK` on dense input), at least one per
        core when large."""
        if not ids.size:
            return []
        K = self.shape[0]
        counts = self.markets.counts(ids % K)
        total = int(counts.sum())
        cores = os.cpu_count() or 1
        size = _BLOCK_CHUNK if self.dense_input else _CELL_CHUNK
        parts = cores * -(-total // (cores * size))  # a multiple of the cores: no core waits on the last chunk
        target = max(2**16, -(-total // max(parts, 1)))
        most = max(1, 2**21 // (n * 6))  # problems per chunk: the fixed point keeps [problem, exporter, 6] arrays
        edges = (np.cumsum(counts) - counts) // target  # by each problem's first cell: parts of `target` cells
        cuts = np.flatnonzero(np.diff(edges)) + 1
        parts = np.split(ids, cuts)
        return [p[a:a + most] for p in parts for a in range(0, p.size, most)]

    def write(self, out: dict, ids: np.ndarray, r: dict, elasticities, home) -> None:
        """Store the results of problems `ids` solved on the cells (`solve_cells`)."""
        ch = r["chunk"]
        K, n, m = self.shape
        d, k = np.divmod(ids, K)
        x, log_P, G = r["x"], r["log_P"], r["G"]
        eta, eps = elasticities[1][d, k], elasticities[2][d, k]
        p_hat = np.exp(x)
        # sum_i t1 v p q = G[j] sum_i t1 c1 p**(1 - sigma), c1 = v tau**-sigma: no [cell] array of new values
        with np.errstate(over="ignore", invalid="ignore"):  # only where unsolved: the dense solver writes those again
            revenue = G * ch.duty(x, r["T"])
        d_rev = revenue - ch.revenue_before
        if not self.domestic:
            d_rev += self._fixed_revenue(k)
        finite = np.isfinite(eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            cs = -ch.buys * _log_ratio(log_P, 1 - eta)
            ps = ch.sales * _log_ratio(x, 1 + np.where(finite, eps, 0.0))
        ps = np.where(finite & ch.has_sales, ps, 0.0)
        rows = slice(ids[0], ids[-1] + 1) if ids[-1] - ids[0] == ids.size - 1 else ids  # consecutive: a view
        out["exporter_price"][rows] = p_hat
        out["price_index"][rows] = np.exp(log_P)
        out["consumer_surplus"][rows] = cs
        out["producer_surplus"][rows] = ps
        out["welfare"][rows] = _to_countries(cs + d_rev, ps, home, n)
        if self.dense_input:  # each problem's [exporter, importer] block, 1 where nothing trades
            if isinstance(rows, slice):
                ch.block_quantity(x, G, out["quantity"][rows])
            else:
                block = np.empty((ids.size, n, m))
                ch.block_quantity(x, G, block)
                out["quantity"][ids] = block
        else:
            draw = np.repeat(d, ch.counts) if d.any() else 0  # one draw: no [cell] array of zeros
            out["quantity"][draw, self.position[ch.idx]] = ch.quantity(x, G)

    def _fixed_revenue(self, k: np.ndarray) -> np.ndarray:
        """``[product, importer]``: the revenue change of the cells left as they are, for products `k`."""
        if not self.dense_input:
            return self.fixed_revenue[k]
        # the domestic cells (not modelled) of these products only: a chunk reads its own block
        j = np.flatnonzero(self.home >= 0)
        i = self.home[j]
        fixed = np.zeros((k.size, self.shape[2]))
        fixed[:, j] = (self.t1[k[:, None], i, j] - self.t0[k[:, None], i, j]) * self.flows[k[:, None], i, j]
        return fixed

    def dense_tasks(self, ids: np.ndarray, D: int, any_finite: bool) -> list:
        """Tasks for Newton on dense blocks: ``(markets of some products, those products, problems)``."""
        if not ids.size:
            return []
        K, n, m = self.shape
        products = np.unique(ids % K)
        per = max(1, 2**21 // (n * m))  # products whose dense blocks are built at once
        newton_cells = n * max(n, m) if any_finite else n * m
        size = max(1, _CHUNK_CELLS // newton_cells)  # problems per task, small enough to stay in cache
        tasks = []
        for a in range(0, products.size, per):
            chunk = products[a:a + per]
            markets = _Markets(*self._dense(chunk), self.domestic, self.home)
            local = np.full(K, -1)
            local[chunk] = np.arange(chunk.size)
            mine = ids[local[ids % K] >= 0]
            idx = (mine // K) * chunk.size + local[mine % K]
            tasks += [(markets, chunk, idx[b:b + size]) for b in range(0, idx.size, size)]
        return tasks

    def _dense(self, products: np.ndarray):
        """Flows and tariffs of `products` as dense ``[product, exporter, importer]`` blocks."""
        if self.dense_input:
            return self.flows[products], self.t0[products], self.t1[products]
        K, n, m = self.shape
        c = self.cells
        idx, counts = cell_ranges(c.bounds, products)
        where = np.repeat(np.arange(products.size), counts) * (n * m) + (c.index[idx] % (n * m))
        blocks = []
        for a in (self.flows, self.t0, self.t1):
            block = np.zeros(products.size * n * m)
            block[where] = a[idx]
            blocks.append(block.reshape(products.size, n, m))
        return blocks

    def write_dense_quantity(self, quantity: np.ndarray, ids: np.ndarray, q_hat: np.ndarray) -> None:
        """Store quantities ``[problem, exporter, importer]`` of problems `ids` solved on dense blocks."""
        if self.dense_input:
            quantity[ids] = q_hat
            return
        K, n, m = self.shape
        c = self.cells
        d, k = np.divmod(ids, K)
        idx, counts = cell_ranges(c.bounds, k)
        row = np.repeat(np.arange(ids.size), counts)
        quantity[np.repeat(d, counts), idx] = q_hat.reshape(ids.size, -1)[row, c.index[idx] % (n * m)]


def _linear(pr):
    """GSIM: the first-order system in proportional changes, one linear solve per problem."""
    s = np.exp(pr.log_s)
    w = np.exp(pr.log_w)
    dtau = np.expm1(pr.log_tau)
    dtau[np.isinf(dtau)] = 0.0  # a halt where nothing trades (`solve` refuses the others) changes nothing
    # demand response to the tariffs alone, at unchanged exporter prices
    dP_tau = np.sum(s * dtau, axis=1, keepdims=True)
    dq_tau = -pr.sigma * dtau + (pr.sigma - pr.eta) * dP_tau
    rhs = -np.sum(w * dq_tau, axis=2)
    A = np.matmul(w * (pr.sigma - pr.eta), np.swapaxes(s, 1, 2))
    n = A.shape[-1]
    A[:, np.arange(n), np.arange(n)] -= (w * pr.sigma).sum(axis=2) + np.where(pr.free, pr.eps, 0.0)
    fixed = ~pr.free
    A = np.where(fixed[:, :, None], 0.0, A)
    b, i = np.nonzero(fixed)
    A[b, i, i] = 1.0
    rhs = np.where(fixed, 0.0, rhs)
    dp = _solve_linear(A, rhs)
    dpb = dp[:, :, None] + dtau
    dP = np.sum(s * dpb, axis=1, keepdims=True)
    dq = -pr.sigma * (dpb - dP) - pr.eta * dP
    p_hat, P_hat, q_hat = 1 + dp, 1 + dP[:, 0, :], 1 + dq
    return p_hat, P_hat, q_hat


_OUTPUTS = {  # name: its axes after [draw x product]
    "exporter_price": "exporter", "price_index": "importer", "quantity": "pair",
    "consumer_surplus": "importer", "producer_surplus": "exporter", "welfare": "country",
}


def _solve_chunk(pr, method, tol, max_iter):
    """Solve one chunk; returns the hats, iterations, residual and the count of negative linear answers."""
    if method == "exact":
        x, iterations, residual = _newton(pr, tol, max_iter)
        _, log_P, _, log_q = _demand(pr, x)
        return np.exp(x), np.exp(log_P[:, 0, :]), np.exp(log_q), iterations, residual, 0
    p_hat, P_hat, q_hat = _linear(pr)
    bad = int((p_hat <= 0).sum() + (P_hat <= 0).sum() + ((q_hat < 0) & np.isfinite(pr.log_w)).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        F = _evaluate(pr, np.log(p_hat))[0]  # the exact equations' residual at the linear answer
    return p_hat, P_hat, q_hat, 0, float(np.abs(F).max(initial=0.0)), bad


def _outcomes(pr, p_hat, P_hat, q_hat, domestic, home):
    """The stored arrays of a chunk from its hats (see `PESolution`)."""
    q_hat = np.where(pr.v > 0, q_hat, 1.0)
    flows_after = pr.v * p_hat[:, :, None] * q_hat
    if not domestic:  # the domestic cells are not modelled: hold them fixed
        flows_after = np.where(pr.own, pr.full, flows_after)
    d_rev = charged(pr.t1, flows_after).sum(axis=1) - (pr.t0 * pr.full).sum(axis=1)
    finite = np.isfinite(pr.eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        cs = -pr.buys * _log_ratio(np.log(P_hat), 1 - pr.eta[:, 0, :])
        ps = pr.sales * _log_ratio(np.log(p_hat), 1 + np.where(finite, pr.eps, 0.0))
    ps = np.where(finite & pr.has_sales, ps, 0.0)
    welfare = _to_countries(cs + d_rev, ps, home, p_hat.shape[-1])
    return {"exporter_price": p_hat, "price_index": P_hat, "quantity": q_hat,
            "consumer_surplus": cs, "producer_surplus": ps, "welfare": welfare}


def smart(imports, tariff_before, tariff_after, sigma, eta) -> SmartResult:
    """WITS-SMART: one importer, perfectly elastic export supply, Laird–Yeats formulas.

    Parameters
    ----------
    imports : array_like, ``[..., product, exporter]``
        The importer's baseline imports, USD (SMART treats values as quantities at world
        price 1).
    tariff_before, tariff_after : array_like, same shape as `imports`
        Ad valorem rates as fractions.
    sigma : array_like
        Substitution elasticity between partners (> 0), broadcasting against ``[..., product]``.
    eta : array_like
        Import demand elasticity as a positive number (SMART's is negative), same shapes.

    Returns
    -------
    SmartResult

    Notes
    -----
    Trade creation of partner ``i`` is ``-eta M[i] dt[i] / (1 + t0[i])``. Trade diversion
    compares each partner's tariff factor ``(1 + t1) / (1 + t0)`` with the import-weighted
    factor of all the other partners, ``r[i] = f[i] / f_rest[i] - 1``. A partner whose
    relative price falls gains::

        M[i] M_rest[i] sigma |r[i]| / (M[i] + M_rest[i] + M[i] sigma |r[i]|)

    (the Laird–Yeats formula, bounded by ``M_rest``), and the partners whose relative price
    does not fall lose the total gain in proportion to their imports, so diversion sums to
    zero over partners. With one beneficiary group this is exactly WITS's calculation;
    with several distinct changes it is first-order exact when the losers face a common
    change.

    Examples
    --------
    Cutting one partner's 10% tariff to zero, the other partner unchanged:

    >>> r = smart([[100.0, 100.0]], [[0.1, 0.1]], [[0.0, 0.1]], sigma=1.5, eta=1.0)
    >>> round(float(r.trade_creation[0, 0]), 3)  # -1.0 * 100 * (-0.1) / 1.1
    9.091
    >>> float(r.trade_diversion.sum())
    0.0
    """
    M = _array("imports", imports)
    t0 = _array("tariff_before", tariff_before)
    t1 = _array("tariff_after", tariff_after)
    if M.ndim < 2 or t0.shape != M.shape or t1.shape != M.shape:
        raise InputError(
            f"imports, tariff_before and tariff_after have shapes {M.shape}, {t0.shape}, {t1.shape}; "
            "expected one shape [..., product, exporter]",
            key="imports",
        )
    if (M < 0).any() or np.isinf(M).any():
        raise InputError(f"has negative or infinite values at {_first((M < 0) | np.isinf(M))}", key="imports")
    for name, t in (("tariff_before", t0), ("tariff_after", t1)):
        bad = ~((t >= 0) & (t <= MAX_RATE))
        if bad.any():
            raise InputError(f"has {float(t[bad][0])!r} at {_first(bad)}; expected fractions from 0 to {MAX_RATE:g} "
                             "(SMART's formulas are first order: a halt, inf, has no answer in them)", key=name)
    sig = _array("sigma", sigma)[..., None]
    et = _array("eta", eta)[..., None]
    if (sig <= 0).any() or (et < 0).any():
        raise InputError("sigma must be > 0 and eta >= 0", key="sigma" if (sig <= 0).any() else "eta")

    f = (1 + t1) / (1 + t0)
    creation = -et * M * (t1 - t0) / (1 + t0)
    total = M.sum(axis=-1, keepdims=True)
    rest = total - M
    f_rest = np.where(rest > 0, ((M * f).sum(axis=-1, keepdims=True) - M * f) / np.where(rest > 0, rest, 1.0), 1.0)
    r = f / f_rest - 1
    fall = np.clip(-r, 0.0, None)
    gain = M * rest * sig * fall / (total + M * sig * fall)
    gain = np.where((rest > 0) & (M > 0), gain, 0.0)
    losers = (r >= 0) & (M > 0)
    loser_M = np.where(losers, M, 0.0)
    pool = loser_M.sum(axis=-1, keepdims=True)
    loss = gain.sum(axis=-1, keepdims=True) * loser_M / np.where(pool > 0, pool, 1.0)
    diversion = np.where(losers, -loss, gain)
    trade_total = creation + diversion
    return SmartResult(
        trade_creation=creation,
        trade_diversion=diversion,
        trade_total=trade_total,
        revenue_before=t0 * M,
        revenue_after=t1 * (M + trade_total),
        welfare=(t0 + t1) / 2 * trade_total,
    )
