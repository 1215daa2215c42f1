"""How a ``[product, exporter, importer]`` tensor is stored: every cell (dense), or the cells that trade.

Real bilateral trade at tariff-line detail is mostly zeros: a CEPII BACI year has about 11
million non-zero flows among 5,000 HS6 products x 230 x 230 economies (265 million cells). A
`SparseTensor` keeps the listed cells only, as one sorted vector of their positions in the
dense tensor (`Cells`) and one vector of values, so memory grows with the cells that trade.

Cells are sorted by product, then exporter, then importer (the order of ``numpy.ravel`` on the
dense tensor). Each product's cells are then one contiguous run (a chunk of products is a slice),
and within a product each exporter's cells are contiguous too: the rows of a compressed sparse
row matrix ``[product x exporter, product x importer]``, which the partial-equilibrium solver
multiplies with (`tradesim.models.pe`).

`choose_layout` picks the layout of a new baseline: dense for small tensors, where whole-array
arithmetic is fastest, sparse when the dense tensor would be large and mostly zeros.

Examples
--------
>>> import numpy as np
>>> dense = np.zeros((2, 3, 3)); dense[0, 1, 2] = 5.0; dense[1, 0, 0] = 2.0
>>> t = SparseTensor.from_dense(dense)
>>> t.cells.size, t.values.tolist()
(2, [5.0, 2.0])
>>> bool(np.array_equal(t.toarray(), dense))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import InputError

__all__ = ["Cells", "SparseTensor", "available_memory", "check_sparse", "choose_layout", "dense_bytes", "placer", "LAYOUTS",
           "SPARSE_ABOVE", "SPARSE_BELOW"]

LAYOUTS = ("auto", "dense", "sparse")
#: Dense tensors with more cells than this are stored sparse when few of their cells trade (`choose_layout`).
SPARSE_ABOVE = 2**22
#: ... when at most this share of their cells is listed.
SPARSE_BELOW = 0.25


def dense_bytes(shape, itemsize: int = 8) -> int:
    """Bytes of one dense array of `shape` (float64 by default)."""
    return int(np.prod(shape, dtype=np.float64)) * itemsize


def choose_layout(shape, n_cells: int, layout: str = "auto") -> str:
    """``"dense"`` or ``"sparse"`` for a tensor of `shape` with `n_cells` listed cells.

    ``"auto"``: sparse when the dense tensor has more than `SPARSE_ABOVE` cells (4 million, 32
    MiB of float64) and at most `SPARSE_BELOW` of them (a quarter) are listed; dense otherwise,
    where whole-array arithmetic beats indexing.

    Examples
    --------
    >>> choose_layout((96, 16, 16), 10_000)
    'dense'
    >>> choose_layout((5000, 230, 230), 11_000_000)
    'sparse'
    """
    if layout not in LAYOUTS:
        raise InputError(f"unknown layout {layout!r}; expected one of {LAYOUTS}", key="layout")
    if layout != "auto":
        return layout
    total = float(np.prod(shape, dtype=np.float64))
    return "sparse" if total > SPARSE_ABOVE and n_cells <= SPARSE_BELOW * total else "dense"


@dataclass(frozen=True, eq=False)
class Cells:
    """Listed cells of a ``[product, exporter, importer]`` tensor.

    Attributes
    ----------
    shape : tuple of int
        ``(product, exporter, importer)`` of the dense tensor.
    index : numpy.ndarray of int64, ``[cell]``
        Each cell's position in the raveled dense tensor, strictly increasing.
    """

    shape: tuple
    index: np.ndarray

    def __post_init__(self):
        shape = tuple(int(s) for s in self.shape)
        index = np.asarray(self.index, dtype=np.int64)
        if len(shape) != 3 or index.ndim != 1:
            raise InputError(f"cells need a 3-axis shape and a 1-axis index, got {shape} and {index.shape}",
                             key="cells")
        if index.size and (index[0] < 0 or index[-1] >= np.prod(shape, dtype=np.int64)
                           or (np.diff(index) <= 0).any()):
            raise InputError("cell positions must be strictly increasing and inside the tensor", key="cells")
        index.setflags(write=False)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "index", index)

    @classmethod
    def from_coords(cls, product, exporter, importer, shape) -> tuple[Cells, np.ndarray]:
        """Cells at ``(product, exporter, importer)`` positions in any order, and the order that sorts them.

        Returns the cells and ``order``: ``values[order]`` puts values given in the coordinates'
        order in the cells' order. Raises `InputError` for a cell listed twice.
        """
        K, n, m = (int(s) for s in shape)
        flat = (np.asarray(product, np.int64) * n + np.asarray(exporter, np.int64)) * m + np.asarray(importer, np.int64)
        order = np.argsort(flat, kind="stable")
        flat = flat[order]
        if flat.size and (np.diff(flat) == 0).any():
            raise InputError("a cell is listed twice; expected one value per product, exporter and importer",
                             key="cells")
        return cls((K, n, m), flat), order

    @classmethod
    def from_mask(cls, mask: np.ndarray) -> Cells:
        """The cells where `mask` ``[product, exporter, importer]`` is true."""
        mask = np.asarray(mask)
        return cls(mask.shape, np.flatnonzero(mask))

    @property
    def size(self) -> int:
        return int(self.index.size)

    @property
    def density(self) -> float:
        """Share of the dense tensor's cells that are listed."""
        total = float(np.prod(self.shape, dtype=np.float64))
        return self.size / total if total else 0.0

    @cached_property
    def product(self) -> np.ndarray:
        """``[cell]`` product positions."""
        return (self.index // (self.shape[1] * self.shape[2])).astype(np.intp)

    @cached_property
    def exporter(self) -> np.ndarray:
        """``[cell]`` exporter positions."""
        return ((self.index // self.shape[2]) % self.shape[1]).astype(np.intp)

    @cached_property
    def importer(self) -> np.ndarray:
        """``[cell]`` importer positions."""
        return (self.index % self.shape[2]).astype(np.intp)

    @cached_property
    def bounds(self) -> np.ndarray:
        """``[product + 1]``: product ``k``'s cells are ``bounds[k]:bounds[k + 1]``."""
        K, n, m = self.shape
        return np.searchsorted(self.index, np.arange(K + 1, dtype=np.int64) * (n * m))

    def chunks(self, max_cells: int) -> list[tuple[int, int]]:
        """Ranges of products ``(lo, hi)`` with at most `max_cells` cells each (or one product when it has more)."""
        K = self.shape[0]
        bounds = self.bounds
        out, lo = [], 0
        while lo < K:
            hi = int(np.searchsorted(bounds, bounds[lo] + max_cells, side="right")) - 1
            hi = min(K, max(hi, lo + 1))
            out.append((lo, hi))
            lo = hi
        return out

    def products(self, lo: int, hi: int) -> Cells:
        """The cells of products ``lo`` to ``hi - 1``, on a tensor of ``hi - lo`` products."""
        K, n, m = self.shape
        a, b = self.bounds[lo], self.bounds[hi]
        return Cells((hi - lo, n, m), self.index[a:b] - lo * n * m)

    def gather(self, dense: np.ndarray) -> np.ndarray:
        """Values of `dense` ``[..., product, exporter, importer]`` at the cells, ``[..., cell]``."""
        dense = np.asarray(dense)
        if dense.shape[-3:] != self.shape:
            raise InputError(f"has shape {dense.shape}; expected [..., product, exporter, importer] ending in "
                             f"{self.shape}", key="array")
        return dense.reshape(*dense.shape[:-3], -1)[..., self.index]

    def scatter(self, values: np.ndarray, fill=0.0, dtype=None) -> np.ndarray:
        """The dense tensor ``[..., product, exporter, importer]`` with `values` ``[..., cell]`` at the cells."""
        values = np.asarray(values)
        out = np.full((*values.shape[:-1], int(np.prod(self.shape))), fill, dtype=dtype or values.dtype)
        out[..., self.index] = values
        return out.reshape(*values.shape[:-1], *self.shape)

    def by_pair(self, values: np.ndarray) -> np.ndarray:
        """Values ``[..., cell]`` summed over products: ``[..., exporter, importer]`` (zero for pairs without cells).

        Each pair adds its cells in product order, as a dense sum over the product axis does.

        Examples
        --------
        >>> cells, _ = Cells.from_coords([0, 1, 1], [0, 0, 1], [1, 1, 0], (2, 2, 2))
        >>> cells.by_pair(np.array([1.0, 2.0, 4.0])).tolist()
        [[0.0, 3.0], [4.0, 0.0]]
        """
        K, n, m = self.shape
        values = np.asarray(values)
        lead = values.shape[:-1]
        rows = int(np.prod(lead, dtype=np.int64))
        pair = self.index % (n * m)
        at = pair if not lead else ((np.arange(rows) * (n * m))[:, None] + pair).ravel()
        out = np.bincount(at, weights=values.reshape(-1), minlength=rows * n * m)
        return out.reshape(*lead, n, m)

    def locate(self, other: Cells) -> np.ndarray:
        """For each of `other`'s cells, its position among these cells, or -1 where it is not one of them."""
        if other.shape != self.shape:
            raise InputError(f"cells of shape {other.shape} do not fit a tensor of shape {self.shape}", key="cells")
        pos = np.searchsorted(self.index, other.index)
        pos = np.minimum(pos, max(self.size - 1, 0))
        found = self.size > 0
        hit = (self.index[pos] == other.index) if found else np.zeros(other.size, bool)
        return np.where(hit, pos, -1)

    def nbytes(self) -> int:
        return int(self.index.nbytes)


@dataclass(frozen=True, eq=False)
class SparseTensor:
    """A ``[product, exporter, importer]`` tensor stored on its listed cells; zero (or False) elsewhere.

    Attributes
    ----------
    cells : Cells
    values : numpy.ndarray, ``[cell]``
        float64 (USD, fractions) or bool (flags).

    Examples
    --------
    >>> cells, order = Cells.from_coords([1, 0], [0, 2], [1, 1], (2, 3, 2))
    >>> t = SparseTensor(cells, np.array([7.0, 3.0])[order])
    >>> t.shape, float(t.toarray()[1, 0, 1]), float(t.sum())
    ((2, 3, 2), 7.0, 10.0)
    """

    cells: Cells
    values: np.ndarray

    def __post_init__(self):
        values = np.asarray(self.values)
        if values.shape != (self.cells.size,):
            raise InputError(f"has {values.shape} values for {self.cells.size} cells", key="values")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_dense(cls, dense: np.ndarray, cells: Cells | None = None) -> SparseTensor:
        """The non-zero cells of `dense` (or its values at `cells`)."""
        dense = np.asarray(dense)
        cells = Cells.from_mask(dense != 0) if cells is None else cells
        return cls(cells, cells.gather(dense))

    @property
    def shape(self) -> tuple:
        return self.cells.shape

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def layout(self) -> str:
        return "sparse"

    def toarray(self) -> np.ndarray:
        """The dense tensor."""
        return self.cells.scatter(self.values, fill=False if self.values.dtype == bool else 0.0)

    def __array__(self, dtype=None, copy=None):
        a = self.toarray()
        return a if dtype is None else a.astype(dtype)

    def sum(self) -> float:
        return float(self.values.sum())

    def on(self, cells: Cells) -> np.ndarray:
        """Values at `cells` (another list of cells of the same tensor), zero where this tensor has none."""
        if cells is self.cells:
            return self.values
        pos = self.cells.locate(cells)
        zero = False if self.values.dtype == bool else 0.0
        return np.where(pos >= 0, self.values[np.maximum(pos, 0)] if self.values.size else zero, zero)

    def products(self, lo: int, hi: int) -> SparseTensor:
        """Products ``lo`` to ``hi - 1``."""
        a, b = self.cells.bounds[lo], self.cells.bounds[hi]
        return SparseTensor(self.cells.products(lo, hi), self.values[a:b])

    def nbytes(self) -> int:
        return self.cells.nbytes() + int(self.values.nbytes)


def placer(product, exporter, importer, shape, layout: str = "auto"):
    """A function that puts values given at ``(product, exporter, importer)`` positions into a tensor.

    The tensor is dense or a `SparseTensor` on those cells, as `choose_layout` decides for their
    number (or as `layout` says). Positions must be distinct.

    Examples
    --------
    >>> place = placer([0, 1], [1, 0], [0, 0], (2, 2, 1))
    >>> place(np.array([3.0, 4.0]))[:, :, 0].tolist()
    [[0.0, 3.0], [4.0, 0.0]]
    """
    if choose_layout(shape, len(product), layout) == "dense":
        def place(values):
            values = np.asarray(values)
            out = np.zeros(shape, dtype=values.dtype)
            out[product, exporter, importer] = values
            return out
    else:
        cells, order = Cells.from_coords(product, exporter, importer, shape)

        def place(values):
            return SparseTensor(cells, np.asarray(values)[order])
    return place


def check_fits(need: int, what: str, instead: str, key: str) -> None:
    """`InputError` when `need` bytes for `what` are more than half the memory free now (no check where that is
    unknown); the message says what to do `instead`."""
    free = available_memory()
    if free and need > free // 2:
        raise InputError(f"{what} would take {need / 2**30:.1f} GiB of the {free / 2**30:.1f} GiB free: {instead}",
                         key=key)


def available_memory() -> int:
    """Bytes of memory the system can give without swapping (``MemAvailable``), or 0 where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _named(cells: Cells, where: np.ndarray, labels, limit: int = 5) -> str:
    """The first cells of `where` (positions among `cells`) as product/exporter->importer."""
    products, exporters, importers = labels
    shown = [f"{products[cells.product[c]]}/{exporters[cells.exporter[c]]}->{importers[cells.importer[c]]}"
             for c in where[:limit]]
    more = f" and {where.size - limit} more" if where.size > limit else ""
    return ", ".join(shown) + more


def check_sparse(flows: SparseTensor, tariffs, imputed, labels, max_rate: float):
    """A sparse baseline's arrays checked as `tradesim.data.Baseline` checks dense ones.

    `tariffs` and `imputed` may be dense arrays or `SparseTensor` s of the same shape; they are
    returned as `SparseTensor` s (tariffs on their non-zero cells, flags on their true cells).
    """
    shape = tuple(len(a) for a in labels)
    if flows.shape != shape:
        raise InputError(f"flows has shape {flows.shape}, expected [product, exporter, importer] = {shape}",
                         key="flows")
    values = np.asarray(flows.values)
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        raise InputError(f"flows has dtype {values.dtype}, expected real numbers", key="flows")
    values = values.astype(np.float64)
    if values.size and not (np.min(values) >= 0 and np.max(values) < np.inf):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InputError(f"flows has NaN or infinite values at {_named(flows.cells, bad, labels)}; "
                             "expected finite USD values (write 0 for no trade)", key="flows")
        raise InputError(f"flows has negative values at {_named(flows.cells, np.flatnonzero(values < 0), labels)}; "
                         "expected values >= 0", key="flows")
    flows = SparseTensor(flows.cells, values)
    if tariffs is not None:
        if not isinstance(tariffs, SparseTensor):
            tariffs = np.asarray(tariffs, dtype=np.float64)
            if tariffs.shape != shape:
                raise InputError(f"tariffs has shape {tariffs.shape}, expected {shape} like flows", key="tariffs")
            tariffs = SparseTensor.from_dense(tariffs)
        t = np.asarray(tariffs.values, dtype=np.float64)
        if tariffs.shape != shape:
            raise InputError(f"tariffs has shape {tariffs.shape}, expected {shape} like flows", key="tariffs")
        bad = np.flatnonzero(~np.isfinite(t) | (t < 0) | (t > max_rate))
        if bad.size:
            raise InputError(f"tariffs out of range at {_named(tariffs.cells, bad, labels)}; "
                             f"expected finite fractions from 0 to {max_rate:g} (2,000%)", key="tariffs")
        tariffs = SparseTensor(tariffs.cells, t)
    if imputed is not None:
        if not isinstance(imputed, SparseTensor):
            imputed = np.asarray(imputed)
            if imputed.shape != shape or imputed.dtype != bool:
                raise InputError(f"imputed must be a bool array of shape {shape}, got {imputed.dtype} {imputed.shape}",
                                 key="imputed")
            imputed = SparseTensor.from_dense(imputed)
        if imputed.shape != shape or imputed.values.dtype != bool:
            raise InputError(f"imputed must be bool values of shape {shape}, got {imputed.values.dtype} "
                             f"{imputed.shape}", key="imputed")
    return flows, tariffs, imputed
