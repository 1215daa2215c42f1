"""Products split into atoms where the law is finer than the data, and averaged back with weights.

A measure whose lists are finer than a product (HS8 exemption lines over HS2 trade) covers only a
share of it. The law is then evaluated on finer lines, the *atoms*, and averaged back to the
products with weights:

* exact value shares when finer trade values are given (``fine_values``);
* otherwise, the fallback: each HS 2022 six-digit subheading under the product weighs the same
  (a simple average over subheadings, as WITS reports beside its trade-weighted average), and a
  national line finer than six digits counts as its whole subheading.

A `TradesimWarning` says which of the two was used and for how many products.

Fine values may also name the *members* of an aggregate exporter (a ``member`` column on rows of
``ROW`` or a group): `split` then carries the members' values by atom (`Atoms.members`), and the
law expands the exporter axis by them as it expands products into atoms (`tradesim.law.members`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import sparse

from ..codes import COUNTRY_GROUPS, country_problem, hs_problem, hs_problem_mask, hs_subheadings
from ..data.bundled import load_fine_values, member_column, members_problem
from ..kept import table_kept
from ..errors import InputError, TradesimWarning
from ..files import warn_at_caller
from .members import Members

__all__ = ["Atoms", "FineRows", "Parts", "split", "aggregate", "aggregate_cells", "expand", "fine_rows", "labels",
           "codes_problem", "member_rows", "partition", "row_ids", "halt_mean", "indexer", "member_ids"]


@dataclass(frozen=True)
class Atoms:
    """Products broken into atoms, and how to average atoms back to products.

    Attributes
    ----------
    products : numpy.ndarray of str, ``[product]``
    atoms : numpy.ndarray of str, ``[atom]``
        Equal to `products` when nothing is split.
    parent : numpy.ndarray of int or None, ``[atom]``
        Index of each atom's product; None when the atoms are the products.
    weights : numpy.ndarray or None, ``[atom]`` or ``[atom, exporter, importer]``
        Weights of the atoms within their product.
    split_products : numpy.ndarray of str
        Products that measures cover only in part.
    n_exact, n_fallback : int
        How many of them take exact value shares and how many the subheading fallback.
    fallback : numpy.ndarray of int
        Positions of the products that take the fallback.
    n_whole : int
        Of those, the lines of six digits or more, which count whole (a list naming some of their
        finer national lines covers all of them).
    members : Members or None
        Values of the members of aggregate exporters by atom, when the fine values name them
        (a ``member`` column): the law then evaluates each member and weights them by value
        (`tradesim.law.members`).
    """

    products: np.ndarray
    atoms: np.ndarray
    parent: np.ndarray | None
    weights: np.ndarray | None
    split_products: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    n_exact: int = 0
    n_fallback: int = 0
    fallback: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    n_whole: int = 0
    members: Members | None = None

    def fallback_cells(self, n_exporters: int, n_importers: int) -> np.ndarray:
        """``[product, exporter, importer]`` bool: split products whose shares come from the fallback
        (no finer trade values for the pair), where the law meets them in part."""
        out = np.zeros((self.products.size, n_exporters, n_importers), bool)
        if self.parent is None:
            return out
        split = np.isin(self.products, self.split_products)
        if self.weights.ndim == 3:
            mass = _sum_by(self.parent, self.weights, self.products.size)  # weights >= 0: a zero sum is no weight
            exact = np.zeros(self.products.size, bool)
            exact[np.unique(self.parent[np.char.str_len(self.atoms) > np.char.str_len(self.products[self.parent])])] = True
            return split[:, None, None] & ((mass <= 0) | ~exact[:, None, None])
        fallback = np.zeros(self.products.size, bool)
        fallback[self.fallback] = True
        return np.broadcast_to((split & fallback)[:, None, None], out.shape).copy()

    def warn(self, stacklevel: int | None = None) -> None:
        """Say which weights split products that measures cover only in part (a `TradesimWarning`).

        The warning points at the user's line that called into tradesim (`tradesim.files.warn_at_caller`),
        once per call of a public function; `stacklevel` is accepted for older callers and not used.
        """
        if not self.split_products.size:
            return
        products = self.split_products
        shown = ", ".join(repr(str(p)) for p in products[:5]) + (", ..." if products.size > 5 else "")
        parts = []
        if self.n_exact:
            parts.append(f"the finer trade values given (fine_values) for {self.n_exact}")
        if self.n_fallback - self.n_whole:
            parts.append(
                f"equal weights on their HS 2022 subheadings for {self.n_fallback - self.n_whole} (the fallback: a "
                "national line counts as its whole subheading; pass fine_values for exact value shares)"
            )
        if self.n_whole:
            parts.append(f"the whole line for {self.n_whole} of six digits or more (a list that names some of their "
                         "finer national lines covers the line: no trade values finer than them are given)")
        warn_at_caller(f"measures cover {products.size} product(s) only in part ({shown}); shares of their trade "
                       "come from " + " and ".join(parts), TradesimWarning)


@dataclass(frozen=True)
class Parts:
    """Products cut into parts that the law treats alike on every date: the cells a model solves.

    A product that measures cover in part (some of its lines listed, others not) would be wrong as
    one cell with the value-weighted mean rate: the loss from a tariff is convex in the rate, so
    the mean understates it. Its atoms with the same rate for every exporter, importer and date
    form one part; the model solves parts, and results add them back to products.

    Attributes
    ----------
    products : numpy.ndarray of str, ``[product]``
    parent : numpy.ndarray of int, ``[part]``
        Each part's product; parts of a product are consecutive.
    share : numpy.ndarray, ``[part, exporter, importer]``
        Each part's share of its product's trade for the pair (the atoms' weights; they add to
        one over a product's parts).
    rates : numpy.ndarray, ``[date, part, exporter, importer]``, or ``[date, cell]`` with `cells`
        Fractions.
    cells : numpy.ndarray of int, ``[cell]``, optional
        When given, `rates` are on these cells only: increasing positions in the flattened
        ``[part, exporter, importer]`` tensor, every other cell being 0 on every date (the law's
        cells with trade; see `dense_rates`).

    Examples
    --------
    >>> p = Parts(np.array(["85"]), np.array([0, 0]), np.full((2, 1, 1), 0.5), np.array([[[[0.25]], [[0.0]]]]))
    >>> p.expand(np.array([[[100.0]]])).ravel().tolist(), p.collapse(p.rates[0] * 1.0).ravel().tolist()
    ([50.0, 50.0], [0.25])
    """

    products: np.ndarray
    parent: np.ndarray
    share: np.ndarray
    rates: np.ndarray
    cells: np.ndarray | None = None

    def dense_rates(self) -> np.ndarray:
        """`rates` on the whole ``[date, part, exporter, importer]`` tensor."""
        if self.cells is None:
            return self.rates
        out = np.zeros((self.rates.shape[0], *self.share.shape))
        out.reshape(self.rates.shape[0], -1)[:, self.cells] = self.rates
        return out

    @property
    def n_split(self) -> int:
        """How many products are cut into more than one part."""
        return int((np.bincount(self.parent, minlength=self.products.size) > 1).sum())

    @property
    def trivial(self) -> bool:
        """Whether every part is a whole product (nothing was cut)."""
        return self.parent.size == self.products.size

    def expand(self, values: np.ndarray) -> np.ndarray:
        """Product values ``[product, exporter, importer]`` (USD) split into parts by their shares."""
        return values[self.parent] * self.share

    def collapse(self, values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Part values ``[..., part, exporter, importer]`` back on products: sums, or with `weights`
        (``[part, exporter, importer]``) weighted means (a pair without weight takes the plain mean)."""
        values = np.asarray(values, dtype=float)
        if self.trivial:
            return values
        if weights is not None and np.isinf(values).any():  # halted parts: the mean over the rest (`halt_mean`)
            return halt_mean(lambda v: self.collapse(v, weights), values)
        if weights is None:
            return _sum_by_axis(self.parent, values, self.products.size)
        w = np.broadcast_to(weights, values.shape[-3:])
        num = _sum_by_axis(self.parent, values * w, self.products.size)
        den = _sum_by_axis(self.parent, w, self.products.size)
        plain = _sum_by_axis(self.parent, values, self.products.size) / np.bincount(
            self.parent, minlength=self.products.size)[:, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), plain)


def _sum_by_axis(parent: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """`values` ``[..., part, i, j]`` summed over parts into ``[..., n, i, j]`` by `parent`."""
    moved = np.moveaxis(values, -3, 0)
    return np.moveaxis(_sum_by(parent, moved, n), 0, -3)


def partition(atoms: Atoms, signature: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group atoms of the same product with the same `signature` (``[atom, m]``, equal for equal law).

    Returns
    -------
    part_of_atom : numpy.ndarray of int, ``[atom]``
    parent : numpy.ndarray of int, ``[part]``
        Parts ordered by product.
    representative : numpy.ndarray of int, ``[part]``
        One atom of each part.
    """
    parent_of_atom = np.arange(atoms.atoms.size) if atoms.parent is None else atoms.parent
    # the distinct rows (product, signature) and each one's first atom
    part_of_atom, first = row_ids(parent_of_atom.astype(float),
                                  *np.asarray(signature, float).reshape(parent_of_atom.size, -1).T)
    return part_of_atom, parent_of_atom[first], first


def row_ids(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids of the distinct rows of `columns` (each ``[row]``), numbered in their lexicographic order, and
    each id's first row: ``np.unique(np.column_stack(columns), axis=0, return_inverse=True, return_index=True)``
    by one stable `numpy.lexsort`, without sorting rows as records.

    Examples
    --------
    >>> ids, first = row_ids(np.array([2, 1, 2]), np.array([0, 5, 0]))
    >>> ids.tolist(), first.tolist()
    ([1, 0, 1], [1, 0])
    """
    dense = _dense_ids(columns)
    if dense is not None:
        return dense
    order = np.lexsort(columns[::-1])  # the first column is the primary key
    new = np.zeros(order.size, bool)
    new[:1] = True
    for c in columns:  # a few key columns
        new[1:] |= c[order][1:] != c[order][:-1]
    ids = np.empty(order.size, np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids, order[new]


def _dense_ids(columns: tuple) -> tuple[np.ndarray, np.ndarray] | None:
    """`row_ids` of integer columns whose keys span few values next to the rows: a mark per key and a count,
    no sort. None for other columns."""
    n = columns[0].size if columns else 0
    if not n or not all(np.asarray(c).dtype.kind in "iu" for c in columns):
        return None
    lows = [int(c.min()) for c in columns]
    spans = [int(c.max()) - lo + 1 for c, lo in zip(columns, lows)]
    if float(np.prod(spans, dtype=float)) > 4 * n + 1024:
        return None
    key = np.zeros(n, np.int64)
    for c, lo, span in zip(columns, lows, spans):  # a few key columns, mixed radix: the order is lexicographic
        key = key * span + (c - lo)
    present = np.zeros(int(np.prod(spans)), bool)
    present[key] = True
    ids = (np.cumsum(present) - 1)[key]
    first = np.full(int(present.sum()), n, np.int64)
    np.minimum.at(first, ids, np.arange(n))  # each id's first row
    return ids, first


def part_shares(atoms: Atoms, part_of_atom: np.ndarray, parent: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``[part, exporter, importer]``: each part's share of its product's trade, from the atoms' weights.

    A pair without weight in a product (no finer trade for it) shares by the count of atoms.
    """
    n_parts = parent.size
    if atoms.parent is None:
        return np.ones((n_parts, *shape))
    w = atoms.weights if atoms.weights.ndim == 3 else np.broadcast_to(atoms.weights[:, None, None],
                                                                      (atoms.weights.size, *shape))
    by_part = _sum_by(part_of_atom, np.asarray(w, dtype=float), n_parts)
    by_product = _sum_by(parent, by_part, atoms.products.size)[parent]
    count = np.bincount(part_of_atom, minlength=n_parts).astype(float)
    equal = (count / np.bincount(atoms.parent, minlength=atoms.products.size)[parent])[:, None, None]
    out = np.broadcast_to(equal, by_part.shape).copy()  # the count's share, then the weights' where they are
    np.divide(by_part, by_product, out=out, where=by_product > 0)
    return out


def codes_problem(codes) -> str | None:
    """What is wrong with some HS codes (the first five), or None."""
    if isinstance(codes, np.ndarray) and codes.dtype.kind == "U":  # a table's codes: checked once per table
        return _array_codes_problem(codes.dtype.str, codes.tobytes())
    return _codes_problem(codes)


@lru_cache(maxsize=4)
def _array_codes_problem(dtype: str, text: bytes) -> str | None:
    """`codes_problem` of the array of codes of `dtype` whose bytes are `text`."""
    return _codes_problem(np.frombuffer(text, dtype=dtype))


def _codes_problem(codes) -> str | None:
    """`codes_problem` of any iterable of codes."""
    codes = list(dict.fromkeys(codes))
    flagged = np.flatnonzero(hs_problem_mask(codes))  # at once; the messages for the flagged ones only
    bad = [hs_problem(codes[i]) for i in flagged]
    if bad:
        return "; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")
    return None


def labels(values, key: str) -> np.ndarray:
    """Codes given to `rates` and friends as a checked string array (`InputError` naming the bad ones)."""
    values = [values] if isinstance(values, str) else list(values)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InputError(f"{bad[0]!r} is a {type(bad[0]).__name__}: expected codes as strings", key=key)
    if key.startswith("product"):
        if p := codes_problem(values):
            raise InputError(p, key=key)
    else:
        bad = [p for c in dict.fromkeys(values) if (p := country_problem(c, COUNTRY_GROUPS))]
        if bad:
            raise InputError("; ".join(bad), key=key)
    return np.asarray(values, dtype=str)


def expand(sorted_codes: np.ndarray, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (prefix index, code index) pairs where a code starts with a prefix, without loops.

    `sorted_codes` must be sorted; the codes under a prefix form one contiguous run from
    ``prefix`` to ``prefix + "A"`` ("A" sorts after every digit).
    """
    lo = np.searchsorted(sorted_codes, prefixes, side="left")
    hi = np.searchsorted(sorted_codes, np.char.add(prefixes.astype(str), "A"), side="left")
    counts = hi - lo
    parent = np.repeat(np.arange(prefixes.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return parent, np.repeat(lo, counts) + offsets


@dataclass(frozen=True)
class FineRows:
    """A fine-values table read once by its distinct values, for `split` and a scenario run to share.

    Reading is not checking: `fine_table` checks the values and codes where it uses them, as it
    does on the table itself.

    Attributes
    ----------
    product : numpy.ndarray of str, ``[code]``
        The distinct HS codes, in the order they first appear.
    row_code : numpy.ndarray of int, ``[row]``
        Each row's position in `product`.
    value : pandas.Series, ``[row]``
        The values as numbers (NaN where not one).
    exporter, importer : numpy.ndarray of int, ``[row]``, or None
        Positions on the exporter and importer axes it was read for (-1 where absent); None
        without both columns.
    member_names : numpy.ndarray of str or None
        The distinct members (`member_ids`); None without the column.
    row_member : numpy.ndarray of int, ``[row]``, or None
        Each row's position in `member_names`.
    """

    product: np.ndarray
    row_code: np.ndarray
    value: pd.Series
    exporter: np.ndarray | None
    importer: np.ndarray | None
    member_names: np.ndarray | None
    row_member: np.ndarray | None


def fine_rows(fine_values, exporters: np.ndarray, importers: np.ndarray) -> FineRows | None:
    """A fine-values table (with ``product`` and ``value`` columns) read once for the axes `exporters`
    and `importers` (`FineRows`); None for other fine values."""
    if not isinstance(fine_values, pd.DataFrame) or not {"product", "value"} <= set(fine_values.columns):
        return None
    # a table of the same content read for the same axes before: its rows kept (`table_kept`), with a value
    # column of its own
    rows = table_kept(fine_values, ("fine_rows", _axis_key(exporters), _axis_key(importers)),
                      lambda: _fine_rows(fine_values, exporters, importers))
    return dataclasses.replace(rows, value=rows.value.copy())


def _fine_rows(fine_values: pd.DataFrame, exporters: np.ndarray, importers: np.ndarray) -> FineRows:
    """`fine_rows` of a table, read."""
    # the distinct codes by hashing (no sort of every row's text), in the order they first appear, and each
    # row's code among them
    row_code, product = pd.factorize(fine_values["product"], use_na_sentinel=False)
    product = np.asarray(product, dtype=str)  # one conversion: iterating an Arrow-backed column is slow
    e_idx = i_idx = None
    if "exporter" in fine_values.columns and "importer" in fine_values.columns:
        e_idx, i_idx = (indexer(np.asarray(axis), fine_values[c]) for axis, c in ((exporters, "exporter"),
                                                                                  (importers, "importer")))
    names, row_member = member_ids(fine_values) if "member" in fine_values.columns else (None, None)
    value = pd.to_numeric(fine_values["value"], errors="coerce").copy()  # its own: never the table's column
    return FineRows(product, row_code, value, e_idx, i_idx, names, row_member)


def _axis_key(labels) -> tuple:
    """An axis of country codes as a key (`table_kept`)."""
    return tuple(np.asarray(labels, dtype=str).tolist())


def fine_table(fine_values, exporters: np.ndarray, importers: np.ndarray, rows: FineRows | None = None):
    """(codes ``[fine]``, weights) from the forms `split` accepts.

    The weights are ``[fine]``, or by pair: ``[fine, exporter, importer]`` from a Baseline, and from a table
    by exporter and importer a `scipy.sparse.csr_matrix` ``[fine, exporter x importer]`` (a table names few of
    the pairs). Codes from a table are sorted. `rows` is the table already read (`fine_rows`), if it is one.
    """
    if fine_values is None:
        return None
    if isinstance(fine_values, (str, os.PathLike)):  # a bundled name or a file, as scenario files give them
        fine_values = load_fine_values(fine_values)
    # a Baseline, duck-typed by its class (asking the object for `flows` would make a sparse one's dense tensor)
    if hasattr(type(fine_values), "sparse_flows") and hasattr(fine_values, "exporters"):
        ei = pd.Index(fine_values.exporters).get_indexer(exporters)
        ij = pd.Index(fine_values.importers).get_indexer(importers)
        if getattr(fine_values, "layout", "dense") == "sparse":  # on its cells, as a table by pair: never dense
            return np.asarray(fine_values.products, dtype=str), _cells_table(fine_values.sparse_flows, ei, ij)
        w = fine_values.flows[:, ei][:, :, ij] * (ei >= 0)[None, :, None] * (ij >= 0)[None, None, :]
        return np.asarray(fine_values.products, dtype=str), w
    if isinstance(fine_values, pd.Series):
        frame = pd.DataFrame({"product": fine_values.index.astype(str), "value": fine_values.to_numpy()})
    elif isinstance(fine_values, pd.DataFrame):
        frame = fine_values
    else:
        raise InputError(
            f"fine_values is a {type(fine_values).__name__}: expected a pandas Series, a DataFrame, a Baseline, "
            "or the name or path of a fine-values table",
            key="fine_values",
        )
    # a table of the same content read for the same axes before: its weights kept (`table_kept`; read-only)
    return table_kept(frame, ("fine_table", _axis_key(exporters), _axis_key(importers)),
                      lambda: _frame_table(frame, exporters, importers, rows))


def _cells_table(flows, ei: np.ndarray, ij: np.ndarray):
    """`fine_table`'s weights ``[fine, exporter x importer]`` (a `scipy.sparse.csr_matrix`) from the flows of
    a baseline stored on its cells (`tradesim.data.layout.SparseTensor`), on the axes that `ei` and `ij` give
    (each axis label's position among the baseline's exporters and importers, -1 where it has none)."""
    cells = flows.cells
    to_e, to_i = np.full(cells.shape[1], -1), np.full(cells.shape[2], -1)
    to_e[ei[ei >= 0]], to_i[ij[ij >= 0]] = np.flatnonzero(ei >= 0), np.flatnonzero(ij >= 0)
    e, i = to_e[cells.exporter], to_i[cells.importer]
    ok = (e >= 0) & (i >= 0)
    return sparse.csr_matrix((flows.values[ok], (cells.product[ok], e[ok] * ij.size + i[ok])),
                             shape=(cells.shape[0], ei.size * ij.size))


def _frame_table(frame: pd.DataFrame, exporters: np.ndarray, importers: np.ndarray, rows: FineRows | None):
    """`fine_table` of a table (with ``product`` and ``value`` columns, checked here), read."""
    if rows is None:
        missing = [c for c in ("product", "value") if c not in frame.columns]
        if missing:
            raise InputError(f"missing columns {missing}; it has {list(frame.columns)}", key="fine_values")
        rows = fine_rows(frame, exporters, importers)
    values = rows.value
    bad = frame.index[values.isna() | (values < 0)]
    if len(bad):
        raise InputError(f"value {frame['value'][bad[0]]!r} at row {bad[0]} is not a number >= 0", key="fine_values")
    product, row_code = rows.product, rows.row_code
    if p := codes_problem(product):
        raise InputError(p, key="fine_values.product")
    if rows.exporter is not None:
        order = np.argsort(product, kind="stable")  # the codes sorted, and each row's place among them
        codes, rank = product[order], np.empty(order.size, np.int64)
        rank[order] = np.arange(order.size)
        e_idx, i_idx = rows.exporter, rows.importer
        ok = (e_idx >= 0) & (i_idx >= 0)
        shape = (codes.size, exporters.size * importers.size)
        # rows of a cell add up (duplicates summed), the pairs the table names only
        return codes, sparse.csr_matrix((values.to_numpy(float)[ok], (rank[row_code[ok]],
                                                                      e_idx[ok] * importers.size + i_idx[ok])), shape)
    grouped = values.groupby(product[row_code]).sum()
    return grouped.index.to_numpy(str), grouped.to_numpy(float)


def member_rows(fine_values, atoms: np.ndarray, exporters: np.ndarray, importers: np.ndarray,
                rows: FineRows | None = None, checked: bool = False) -> Members | None:
    """The members of aggregate exporters that a fine-values table names (its ``member`` column), on `atoms`.

    None for fine values without members (a Series, a Baseline, a table without the column or with
    it empty). `rows` is the table already read (`fine_rows`); `checked`, that its member column is
    known to pass `tradesim.data.bundled.members_problem` (a scenario run checks it first).
    """
    if not isinstance(fine_values, pd.DataFrame) or "member" not in fine_values.columns:
        return None
    if not {"exporter", "importer"} <= set(fine_values.columns):
        return None
    if not checked and (p := members_problem(fine_values)):
        raise InputError(p, key="fine_values.member")
    if rows is not None:  # the rows of members a table of the same content had on these axes, kept (`table_kept`)
        named = table_kept(fine_values, ("member_rows", _axis_key(exporters), _axis_key(importers)),
                           lambda: _named_rows(rows))
        return None if named is None else Members.from_coded(atoms, rows.product, *named)
    member = member_column(fine_values)
    named = member != ""
    if not named.any():
        return None
    table = fine_values[named]
    return Members.from_rows(atoms, table["product"].to_numpy(str), indexer(exporters, table["exporter"]),
                             indexer(importers, table["importer"]), member[named].astype(str),
                             pd.to_numeric(table["value"], errors="coerce").fillna(0.0).to_numpy(float))


def _named_rows(rows: FineRows) -> tuple | None:
    """The rows of a table read (`fine_rows`) that `Members.from_coded` keeps: a member named, on the axes, with
    value; as its arguments after the atoms and codes. None where no row names a member."""
    names, row_member = rows.member_names, rows.row_member
    named = names[row_member] != ""
    if not named.any():
        return None
    value = rows.value.fillna(0.0).to_numpy(float)
    at = np.flatnonzero(named & (rows.exporter >= 0) & (rows.importer >= 0) & (value > 0))
    return rows.row_code[at], rows.exporter[at], rows.importer[at], names, row_member[at], value[at]


def indexer(axis: np.ndarray, column: pd.Series) -> np.ndarray:
    """``[row]``: each row's position on `axis` (-1 where absent), looked up once per distinct value."""
    row_value, distinct = pd.factorize(column, use_na_sentinel=False)
    return np.append(pd.Index(axis).get_indexer(distinct), -1)[row_value]


def member_ids(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(names, row_member)``: the distinct texts of `tradesim.data.bundled.member_column` (sorted, ``""``
    for blank) and each row's position among them, read through the column's distinct values rather
    than its rows' text."""
    codes, distinct = pd.factorize(frame["member"], use_na_sentinel=True)  # -1: missing
    text = np.array([str(c).strip() for c in distinct] + [""], dtype=object)  # as `member_column` reads them
    names, of_distinct = np.unique(text.astype(str), return_inverse=True)
    return names, of_distinct.ravel()[codes]


def split(products: np.ndarray, codes: list[str], exporters: np.ndarray, importers: np.ndarray,
          fine_values, members_checked: bool = False, rows: FineRows | None = None) -> Atoms:
    """Split the products that `codes` (the law's codes) cover only in part into atoms with weights.

    Parameters
    ----------
    products : numpy.ndarray of str, ``[product]``
    codes : list of str
        Every HS code the measures use (lists, exclusions, rates by product).
    exporters, importers : numpy.ndarray of str
    fine_values : optional
        See `tradesim.law.TariffSchedule.rates`.
    members_checked : bool
        The fine values' member column is known to pass `tradesim.data.bundled.members_problem`
        (not checked again).
    rows : FineRows, optional
        `fine_values` already read (`fine_rows`) for `exporters` and `importers`.
    """
    lengths = np.char.str_len(products) if products.size else np.zeros(0, int)
    codes = np.asarray(codes, dtype=str)
    code_lengths = np.char.str_len(codes) if codes.size else np.zeros(0, int)
    split_ = np.zeros(products.shape, dtype=bool)
    for n in np.unique(lengths):  # a few code lengths
        finer = np.unique(codes[code_lengths > n].astype(f"<U{n}"))  # the law's codes cut to the product's length
        if finer.size:
            split_ |= (lengths == n) & np.isin(products, finer)
    if isinstance(fine_values, (str, os.PathLike)):  # a bundled name or a file, as scenario files give them
        fine_values = load_fine_values(fine_values)
    if isinstance(fine_values, pd.DataFrame):  # a table of the same content cut so before: its atoms, kept
        key = ("split", tuple(products.tolist()), _axis_key(exporters), _axis_key(importers), split_.tobytes(),
               bool(members_checked))
        cut = table_kept(fine_values, key, lambda: _cut(products, split_, exporters, importers, fine_values,
                                                        members_checked, rows))
    else:
        cut = _cut(products, split_, exporters, importers, fine_values, members_checked, rows)
    if cut.parent is None:
        return Atoms(products, products, None, None, members=cut.members)
    # equal weights (per pair when the given weights are per pair), the given ones written in place: one array,
    # made afresh by every call (the atoms' weights are the callers' own)
    weights = np.empty((cut.parent.size,) + ((exporters.size, importers.size) if cut.pair_weights else ()))
    lo = 0
    for n, w in cut.given:  # a few kinds of atoms, each of its rows written once
        if w is not None and sparse.issparse(w):  # densified straight into its rows (`toarray` adds to `out`)
            out = weights[lo:lo + n].reshape(w.shape)
            out[:] = 0.0
            w.toarray(out=out)
        elif w is not None:
            weights[lo:lo + n] = w
        else:
            weights[lo:lo + n] = 1.0
        lo += n
    return Atoms(products, cut.atoms, cut.parent, weights, products[split_], cut.n_exact,
                 int(split_.sum()) - cut.n_exact, cut.fallback, cut.n_whole, cut.members)


@dataclass(frozen=True)
class _Cut:
    """What `split` reads from the fine values for the products it cuts: all of `Atoms` but the weights, and the
    weights given (``(atoms, weights or None)`` for each kind of atoms, in order; None: equal weights)."""

    parent: np.ndarray | None
    atoms: np.ndarray | None
    given: tuple
    pair_weights: bool
    n_exact: int
    fallback: np.ndarray | None
    n_whole: int
    members: Members | None


def _cut(products: np.ndarray, split_: np.ndarray, exporters: np.ndarray, importers: np.ndarray, fine_values,
         members_checked: bool, rows: FineRows | None) -> _Cut:
    """`split`'s reading of the fine values for the products marked in `split_` (``[product]`` bool: the law's
    codes are finer than them)."""
    if rows is None:  # a table is read once, for its weights and its members
        rows = fine_rows(fine_values, exporters, importers)
    if not split_.any():
        return _Cut(None, None, (), False, 0, None, 0,
                    member_rows(fine_values, products, exporters, importers, rows, members_checked))
    fine = fine_table(fine_values, exporters, importers, rows)
    pair_weights = fine is not None and (sparse.issparse(fine[1]) or fine[1].ndim == 3)

    todo = np.flatnonzero(split_)
    parts = [(np.flatnonzero(~split_), products[~split_], None)]  # None: equal weights
    n_exact = 0
    if fine is not None:
        fcodes, fw = fine
        if (fcodes[1:] < fcodes[:-1]).any():
            order = np.argsort(fcodes, kind="stable")
            fcodes, fw = fcodes[order], fw[order]
        parent, idx = expand(fcodes, products[todo])
        finer = np.char.str_len(fcodes[idx]) > np.char.str_len(products[todo][parent])
        parent, idx = parent[finer], idx[finer]
        if sparse.issparse(fw):  # the rows wanted only, as [fine, exporter, importer]
            mass = np.bincount(parent, weights=np.asarray(fw[idx].sum(axis=1)).ravel(), minlength=todo.size)
        else:
            mass = np.bincount(parent, weights=fw[idx].sum(axis=tuple(range(1, fw.ndim))), minlength=todo.size)
        exact = mass[parent] > 0
        parts.append((todo[parent[exact]], fcodes[idx[exact]], fw[idx[exact]]))
        n_exact = int((mass > 0).sum())
        todo = todo[mass <= 0]
    if todo.size:
        # Fallback: equal weights on the HS 2022 subheadings; a product of 6+ digits stays whole.
        short = np.char.str_len(products[todo]) < 6
        subs = hs_subheadings()
        parent, idx = expand(subs, products[todo[short]])
        covered = np.bincount(parent, minlength=int(short.sum())) > 0
        whole = np.concatenate([todo[~short], todo[short][~covered]])
        parts.append((todo[short][parent], subs[idx], None))
        parts.append((whole, products[whole], None))
        n_whole = int(whole.size)
    else:
        n_whole = 0
    parent = np.concatenate([p[0] for p in parts])
    atom_codes = np.concatenate([p[1].astype(str) for p in parts])
    return _Cut(parent, atom_codes, tuple((p[0].size, p[2]) for p in parts), pair_weights, n_exact, todo, n_whole,
                member_rows(fine_values, atom_codes, exporters, importers, rows, members_checked))


def halt_mean(mean, values: np.ndarray) -> np.ndarray:
    """``mean(values)`` for a weighted `mean` (linear, its weights summing to one), where values may be
    ``inf`` (halted trade, `tradesim.law.stacking`): the mean over the weight that is not halted (halted
    trade pays no duty), ``inf`` where all the weight is halted, never NaN.

    A mean over products, lines or members cannot hold a halted part: `TariffSchedule.rates` warns where
    a product is halted in part, and `TariffSchedule.parts_path` keeps halted lines apart.

    Examples
    --------
    >>> halt_mean(lambda v: v @ np.array([0.5, 0.5, 0.0]), np.array([[0.1, 0.3, np.inf], [0.1, np.inf, 0.0],
    ...                                                               [np.inf, np.inf, 0.0]]))
    array([0.2, 0.1, inf])
    """
    stop = np.isinf(values)
    if not stop.any():
        return mean(values)
    halted = np.asarray(mean(stop.astype(float)), dtype=float)
    open_ = np.asarray(mean((~stop).astype(float)), dtype=float)
    paid = np.asarray(mean(np.where(stop, 0.0, values)), dtype=float)  # 0 where nothing has weight
    tiny = 1e-12 * (open_ + halted)
    with np.errstate(invalid="ignore", divide="ignore"):  # the open weight's mean, on the whole weight's scale
        scaled = paid * (open_ + halted) / np.where(open_ > tiny, open_, 1.0)
    return np.where(open_ > tiny, scaled, np.where(halted > 0, np.inf, paid))


def _sum_by(parent: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Rows of `values` ``[atom, ...]`` summed into ``[n, ...]`` by `parent`, as one sparse product
    (``np.add.at`` does the same an element at a time, ten times slower)."""
    atoms = parent.size
    total = sparse.csr_matrix((np.ones(atoms), (parent, np.arange(atoms))), shape=(n, atoms))
    return np.asarray(total @ values.reshape(atoms, -1)).reshape((n,) + values.shape[1:])


def aggregate(values: np.ndarray, atoms: Atoms, importer: int = 0) -> np.ndarray:
    """Average atoms back to products with the atoms' weights.

    Parameters
    ----------
    values : numpy.ndarray, ``[..., atom, exporter]``
        Values for one importer (leading axes, such as regimes, are kept).
    atoms : Atoms
    importer : int
        The importer's position, for weights given per pair.

    Returns
    -------
    numpy.ndarray, ``[..., product, exporter]``
        Over the atoms not halted where some are (``inf``), ``inf`` where all are (`halt_mean`).
    """
    if atoms.parent is None:
        return values
    if np.isinf(values).any():  # halted atoms: the mean over the others (`halt_mean`)
        return halt_mean(lambda v: aggregate(v, atoms, importer), values)
    lead, (A, E) = values.shape[:-2], values.shape[-2:]
    w = atoms.weights[:, :, importer] if atoms.weights.ndim == 3 else np.broadcast_to(atoms.weights[:, None], (A, E))
    n = atoms.products.size
    flat = np.moveaxis(values.reshape(-1, A, E), 0, 1).reshape(A, -1)  # [atom, lead x exporter]
    wide = np.broadcast_to(w[:, None, :], (A, flat.shape[1] // E, E)).reshape(A, -1)
    num = _sum_by(atoms.parent, flat * wide, n)
    den = _sum_by(atoms.parent, np.asarray(w, dtype=float), n)  # [product, exporter]
    den_wide = np.broadcast_to(den[:, None, :], (n, flat.shape[1] // E, E)).reshape(n, -1)
    if (den == 0).any():
        # a pair with no finer trade in a product: average its atoms with equal weights
        eq_num = _sum_by(atoms.parent, flat, n)
        count = np.bincount(atoms.parent, minlength=n)[:, None]
        out = np.where(den_wide > 0, num / np.where(den_wide > 0, den_wide, 1), eq_num / count)
    else:
        out = num / den_wide
    return np.moveaxis(out.reshape(n, -1, E), 1, 0).reshape(*lead, n, E)


def aggregate_cells(values: np.ndarray, atoms: Atoms, cell_atom: np.ndarray, cell_exporter: np.ndarray,
                    n_exporters: int, importer: int = 0) -> np.ndarray:
    """Average values on some cells back to products: the sparse form of `aggregate`.

    Parameters
    ----------
    values : numpy.ndarray, ``[..., cell]``
        Values on the cells ``(cell_atom, cell_exporter)`` (other cells count as 0).
    atoms : Atoms
    cell_atom, cell_exporter : numpy.ndarray of int, ``[cell]``
    n_exporters : int
    importer : int
        The importer's position, for weights given per pair.

    Returns
    -------
    numpy.ndarray, ``[..., product, exporter]``
        Weighted means over each product's atoms (over those not halted: `halt_mean`); work grows
        with the cells, not the grid.
    """
    lead = values.shape[:-1]
    flat = values.reshape(-1, values.shape[-1])  # [lead, cell]
    n = atoms.products.size
    if atoms.parent is None:
        out = np.zeros((flat.shape[0], n * n_exporters))
        out[:, cell_atom * n_exporters + cell_exporter] = flat
        return out.reshape(*lead, n, n_exporters)
    w = atoms.weights[cell_atom, cell_exporter, importer] if atoms.weights.ndim == 3 else atoms.weights[cell_atom]
    target = atoms.parent[cell_atom] * n_exporters + cell_exporter
    den = np.bincount(target, weights=w, minlength=n * n_exporters)
    count = np.bincount(target, minlength=n * n_exporters)
    # a pair with no finer trade in a product: its atoms weigh the same
    weight = np.where(den[target] > 0, w / np.where(den[target] > 0, den[target], 1), 1.0 / np.maximum(count[target], 1))
    P = sparse.csr_matrix((weight, (target, np.arange(target.size))), shape=(n * n_exporters, target.size))
    return halt_mean(lambda v: np.asarray(P @ v.T).T, flat).reshape(*lead, n, n_exporters)
