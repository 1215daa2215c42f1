"""One importer's law compiled, once, into the cells each measure reaches: the input of the stacking rules.

A real schedule has about a hundred measures over some ten thousand tariff lines and fifty
partners, and each measure reaches a small part of that grid. The law of an importer is
therefore compiled into *entries*, one per measure and cell (atom x exporter) it covers, with
what it charges there; the stacking rules (`tradesim.law.stacking`) then run on the entries of
the measures in force, for every tariff regime, without a loop over measures, lines or partners.
Work and memory grow with the entries, not with measures x lines x partners.

Lookups by HS prefix (lists, exclusions, rates, value shares and qualifying shares by line) are
joins on integer keys, one per code length, never a loop over codes, lines or partners. The
loop over an importer's measures gathers their references (list names, tables) into those joins.

A law and its references are kept for later calls on inputs of the same content
(`tradesim.kept.kept`): a scenario loaded again, or a copy of its schedule, compiles nothing,
while a changed measure, list, axis or set of cells compiles afresh. Each measure's and list's
content is read into a key once (both are frozen).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..kept import Key, array_key, kept, kept_key, mask_key
from .checks import is_code
from .lists import ProductList
from .measure import Measure

__all__ = ["Compiled", "References", "codes_used", "compile_law", "match_codes", "references"]


@dataclass(frozen=True)
class Compiled:
    """An importer's measures on `atoms` x `exporters`, whatever the date.

    Measures are in schedule order (of this importer). Entries are sorted by measure;
    ``offsets[m]:offsets[m + 1]`` are measure ``m``'s.

    Attributes
    ----------
    measures : tuple of Measure, ``[measure]``
    n_atoms, n_exporters : int
    cell_atom, cell_exporter : numpy.ndarray of int, ``[cell]``
        The cells evaluated: every atom and exporter, or those the caller asked for (the cells
        with trade), in atom-major order; with ``reached``, only those of them some measure
        reaches (the others are 0 on every date).
    m : numpy.ndarray of int, ``[entry]``
    cell : numpy.ndarray of int, ``[entry]``
        Position in the cells.
    cover : numpy.ndarray, ``[entry]``
        The share of the cell's trade the measure reaches when in force: covered, not exempt,
        times ``coverage``, times one minus the qualifying share. Exempt cells have 0.
    exempt : numpy.ndarray of bool, ``[entry]``
        The product is exempted by one of the measure's ``exclude`` lists.
    qualifying : numpy.ndarray, ``[entry]``
        The share that qualifies for an exemption.
    charge : numpy.ndarray, ``[entry]``
        Rate times value share, a fraction.
    value_share : numpy.ndarray, ``[entry]``
    offsets : numpy.ndarray of int, ``[measure + 1]``
    start, end : numpy.ndarray of datetime64[D], ``[measure]``
        ``end`` is the first day not in force (far in the future for open-ended measures).
    exporter : numpy.ndarray of bool, ``[measure, exporter]``
    selected_m, selected_atom : numpy.ndarray of int
        The (measure, atom) pairs whose product the measure names, for any exporter.
    displaced_by : numpy.ndarray of bool, ``[measure r, measure m]``
        ``r`` displaces ``m`` where ``r`` applies.
    group : numpy.ndarray of int, ``[measure]``
        Group number, -1 for none.
    mfn, floor, halt : numpy.ndarray of bool, ``[measure]``
        MFN layers, all-in floors and halts (``rule = "halt"``).
    """

    measures: tuple[Measure, ...]
    n_atoms: int
    n_exporters: int
    cell_atom: np.ndarray
    cell_exporter: np.ndarray
    m: np.ndarray
    cell: np.ndarray
    cover: np.ndarray
    exempt: np.ndarray
    qualifying: np.ndarray
    charge: np.ndarray
    value_share: np.ndarray
    offsets: np.ndarray
    start: np.ndarray
    end: np.ndarray
    exporter: np.ndarray
    selected_m: np.ndarray
    selected_atom: np.ndarray
    displaced_by: np.ndarray
    group: np.ndarray
    mfn: np.ndarray
    floor: np.ndarray
    halt: np.ndarray

    def __len__(self) -> int:
        return len(self.measures)

    @property
    def n_cells(self) -> int:
        return self.cell_atom.size

    def dense(self, values: np.ndarray) -> np.ndarray:
        """Values ``[..., cell]`` on the full grid ``[..., atom, exporter]`` (zero where not evaluated)."""
        out = np.zeros((*values.shape[:-1], self.n_atoms, self.n_exporters))
        out[..., self.cell_atom, self.cell_exporter] = values
        return out

    def active(self, days) -> np.ndarray:
        """``[date, measure]`` bool: which measures are in force on each day."""
        d = np.asarray(days, dtype="datetime64[D]")[:, None]
        return (self.start[None] <= d) & (d < self.end[None])


# --------------------------------------------------------------------------- code matching


def _as_ints(codes: np.ndarray) -> np.ndarray:
    """HS codes (text of digits) as integers (``"0101"`` -> 101), read from the text's code points: one step per
    character position, several times faster than parsing each code (``codes.astype(np.int64)``)."""
    codes = np.ascontiguousarray(codes, dtype=str)
    if not codes.size or not codes.dtype.itemsize:
        return np.zeros(codes.shape, np.int64)
    points = codes.reshape(-1).view(np.uint32).reshape(codes.size, -1)  # UCS4, padded with zeros
    out = np.zeros(codes.size, np.int64)
    for k in range(points.shape[1]):  # a few character positions, not the codes
        digit = points[:, k]
        out = np.where(digit > 0, out * 10 + (digit.astype(np.int64) - 48), out)
    return out.reshape(codes.shape)


def match_codes(codes: np.ndarray, atoms: np.ndarray, atom_ints: np.ndarray | None = None,
                code_ints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All (code index, atom index) pairs where an atom starts with a code, or a code starts with an atom.

    The second case is the whole-line rule: an atom coarser than a code counts as covered (atoms
    are split where finer trade values are known, so it arises only where they are not). Codes
    and atoms are read as integers once; the atoms are sorted once and every code's atoms found by
    two binary searches (and one per atom length for the coarser atoms), never a loop over codes
    or atoms. Pairs come in no particular order. `atom_ints` and `code_ints` are the atoms and codes
    as integers (``"0101"`` -> 101), when already known.
    """
    codes = np.asarray(codes, dtype=str)
    atoms = np.asarray(atoms, dtype=str)
    if not codes.size or not atoms.size:
        return np.zeros(0, int), np.zeros(0, int)
    code_len, atom_len = np.char.str_len(codes), np.char.str_len(atoms)
    code_int = _as_ints(codes) if code_ints is None else code_ints
    atom_int = _as_ints(atoms) if atom_ints is None else atom_ints
    # atoms at least as long as a code that start with it: padded with zeros to the longest length, the atoms
    # that start with a code of n digits are those as long in [code, code + one in its n-th digit)
    top = int(max(code_len.max(), atom_len.max()))
    scale = np.int64(10) ** (top - np.arange(top + 1, dtype=np.int64))
    padded = atom_int * scale[atom_len]
    order = np.argsort(padded, kind="stable")
    keys = padded[order]
    low = code_int * scale[code_len]
    lo = np.searchsorted(keys, low, side="left")
    counts = np.searchsorted(keys, low + scale[code_len], side="left") - lo
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ci, ai = np.repeat(np.arange(codes.size), counts), order[np.repeat(lo, counts) + offsets]
    long = atom_len[ai] >= code_len[ci]  # a shorter atom padded into the range is a case of the second kind
    pairs = [(ci[long], ai[long])]
    for n in np.unique(atom_len):  # atoms coarser than a code: the code's first n digits equal the atom
        longer = np.flatnonzero(code_len > n)
        if not longer.size:
            continue
        same = np.flatnonzero(atom_len == n)
        korder = np.argsort(atom_int[same], kind="stable")
        keys = atom_int[same][korder]
        truncated = _leading(code_int[longer], code_len[longer], int(n))
        pos = np.minimum(np.searchsorted(keys, truncated), same.size - 1)
        ok = keys[pos] == truncated
        pairs.append((longer[ok], same[korder[pos[ok]]]))
    ci = np.concatenate([p[0] for p in pairs])
    ai = np.concatenate([p[1] for p in pairs])
    return ci, ai


class _Prefixes:
    """Each atom's prefixes of every length as integers (``"0101"`` -> 101), computed once per atom."""

    def __init__(self, atoms: np.ndarray, whole: np.ndarray | None = None):
        self.atoms = atoms
        self.length = np.char.str_len(atoms) if atoms.size else np.zeros(0, int)
        if whole is None:  # the text read once
            whole = _as_ints(atoms)
        self._whole = whole
        self._ints: dict[int, np.ndarray] = {}

    def of_length(self, n: int) -> np.ndarray:
        """``[atom]``: the first `n` digits as an integer (-1 for atoms shorter than `n`)."""
        if n not in self._ints:
            self._ints[n] = np.where(self.length >= n, _leading(self._whole, self.length, n), -1)
        return self._ints[n]


def _leading(whole: np.ndarray, length: np.ndarray, n: int) -> np.ndarray:
    """The first `n` digits of codes as integers, from the codes as integers (`whole`) and their `length`s
    (``>= n``): ``"01012100"`` -> 101 for ``n = 4``, the same as reading the cut text."""
    return whole // 10 ** np.maximum(length - n, 0)


def _prefix_values(keys_lead: np.ndarray, prefixes: _Prefixes, atom_idx: np.ndarray, table_lead: np.ndarray,
                   table_codes: np.ndarray, table_values: np.ndarray, table_ints: np.ndarray | None = None) -> np.ndarray:
    """Value of the longest matching prefix in a table, for each (lead key, atom) query; NaN where none.

    ``keys_lead`` and ``table_lead`` are integer keys of whatever the table is by besides the code
    (measure, or measure and exporter). An atom coarser than the table's codes (matched by no
    prefix) takes the mean of the finer codes' values. One join per code length, on the queries
    whose lead key is in the table only. `table_ints` is the table's codes as integers, when known.
    """
    out = np.full(keys_lead.size, np.nan)
    if not table_codes.size or not keys_lead.size:
        return out
    rows = np.flatnonzero(np.isin(keys_lead, table_lead, kind="table"))  # keys span measures x 4096: a lookup
    if not rows.size:
        return out
    lead, atom = keys_lead[rows].astype(np.int64), atom_idx[rows]
    q_len = prefixes.length[atom]
    t_len = np.char.str_len(table_codes)
    t_whole = _as_ints(table_codes) if table_ints is None else table_ints  # prefixes by integer division
    base = np.int64(10) ** 11  # codes have at most 10 digits: a prefix read as a number stays below this
    # coarser atoms first, then prefixes from short to long: longer prefixes overwrite shorter ones
    for n in np.unique(q_len):
        finer = np.flatnonzero(t_len > n)
        if not finer.size:
            continue
        at = np.flatnonzero(q_len == n)
        qkey = lead[at] * base + prefixes.of_length(int(n))[atom[at]]
        tkey = table_lead[finer].astype(np.int64) * base + _leading(t_whole[finer], t_len[finer], int(n))
        if at.size < finer.size:  # the means of the prefixes some query asks for only (a few coarser atoms
            hit = _contains(np.unique(qkey), tkey)  # among many codes), each over its codes in table order, as all
            finer, tkey = finer[hit], tkey[hit]
            if not finer.size:
                continue
        ukeys, inverse = np.unique(tkey, return_inverse=True)
        means = np.bincount(inverse, weights=table_values[finer]) / np.bincount(inverse)
        _assign(out, rows[at], qkey, ukeys, means)
    for n in np.unique(t_len):
        at = np.flatnonzero(q_len >= n)
        if not at.size:
            continue
        sel = np.flatnonzero(t_len == n)
        tkey = table_lead[sel].astype(np.int64) * base + t_whole[sel]
        order = np.argsort(tkey, kind="stable")
        _assign(out, rows[at], lead[at] * base + prefixes.of_length(int(n))[atom[at]], tkey[order],
                table_values[sel][order])
    return out


def _by_prefix(values: np.ndarray, keys_lead: np.ndarray, prefixes: _Prefixes, atom_idx: np.ndarray,
               table: tuple) -> np.ndarray:
    """`values` ``[query]`` where the table (columns of `_code_table` or `_line_table` with the codes as integers)
    has no prefix of the query's atom, and the table's value (`_prefix_values`) where it has; `values` itself
    for an empty table."""
    if not table[1].size:
        return values
    found = _prefix_values(keys_lead, prefixes, atom_idx, *table)
    return np.where(np.isnan(found), values, found)


def _assign(out: np.ndarray, rows: np.ndarray, qkey: np.ndarray, sorted_keys: np.ndarray, values: np.ndarray):
    pos = np.searchsorted(sorted_keys, qkey)
    pos = np.minimum(pos, sorted_keys.size - 1)
    hit = sorted_keys[pos] == qkey
    out[rows[hit]] = values[pos[hit]]


# --------------------------------------------------------------------------- keys of the inputs

#: Each measure's and list's content as a key (`_content_key`), by the object's identity: ``{id: (object, key)}``.
_CONTENT_KEYS: dict = {}
_CONTENT_KEYS_LOCK = threading.Lock()
_KEEP_CONTENT_KEYS = 4096


def _value_key(value):
    """A field's value as a key of its content: floats bit for bit (``-0.0`` is not ``0.0``), tables as their
    keys and values in order, and each value's type (``1`` is not ``1.0``)."""
    if isinstance(value, float):
        return float, value.hex()
    if isinstance(value, Mapping):
        keys, values = tuple(value.keys()), list(value.values())
        if all(type(v) is float for v in values):  # the checked tables: floats, read at once
            return Mapping, keys, np.array(values, dtype=np.float64).tobytes()
        return Mapping, keys, tuple(map(_value_key, values))
    if isinstance(value, tuple):
        if set(map(type, value)) <= {str}:  # codes and names (thousands in a list): texts are their own content
            return tuple, str, value
        return tuple, tuple(map(_value_key, value))
    return type(value), value


def _content_key(obj: Measure | ProductList) -> tuple[Key, tuple[str, ...]]:
    """A measure's or a list's fields as a `Key` of their content (`_value_key`), and the names of the lists a
    measure refers to. Read once per object: both are frozen, and a measure's tables are read-only copies of its
    own (`tradesim.law.fields.check_fields`); raises TypeError for a value that is not content (mutable)."""
    with _CONTENT_KEYS_LOCK:
        found = _CONTENT_KEYS.get(id(obj))
    if found is not None and found[0] is obj:  # the entry holds the object: its id is its own
        return found[1]
    key = Key((type(obj), *(_value_key(getattr(obj, f.name)) for f in dataclasses.fields(obj))))
    names = () if not isinstance(obj, Measure) else \
        tuple(r for r in (*(obj.products or ()), *obj.exclude) if not is_code(r))
    with _CONTENT_KEYS_LOCK:
        if len(_CONTENT_KEYS) >= _KEEP_CONTENT_KEYS:
            _CONTENT_KEYS.clear()
        _CONTENT_KEYS[id(obj)] = obj, (key, names)
    return key, names


def _measures_key(measures: list[Measure], lists: dict[str, ProductList]) -> Key | None:
    """Measures and the lists they name, as a key of their content (None where they cannot be read as one)."""
    try:
        keys, names = zip(*map(_content_key, measures)) if measures else ((), ())
        return Key((keys, tuple((name, _content_key(lists[name])[0]) for name in sorted(set().union(*names)))))
    except (KeyError, TypeError):  # an unknown list or a value that is not content: read afresh (and raise there)
        return None


def _references_key(measures: list[Measure], lists: dict[str, ProductList], exporters: np.ndarray) -> Key | None:
    """What `references` reads, as a key of its content (None where it cannot be read as one: nothing kept)."""
    key = _measures_key(measures, lists)
    return None if key is None else Key((key, array_key(np.asarray(exporters, dtype=str))))


def codes_used(measures, lists: dict[str, ProductList], importers) -> tuple[str, ...]:
    """The HS codes that the measures of `importers` use, sorted: only these can split a product into atoms.

    The codes of their ``products`` and ``exclude`` (each list's codes for a list's name), and of
    their tables by code and by line. Kept for later calls on measures and lists of the same content
    (`tradesim.kept.kept`): a scenario loaded again, or a copy of its schedule, reads them once.
    """
    wanted = set(importers)
    chosen = [m for m in measures if m.importer in wanted]
    return kept("codes", _measures_key(chosen, lists), lambda: _codes_used(chosen, lists), keep=8)


def _codes_used(measures: list[Measure], lists: dict[str, ProductList]) -> tuple[str, ...]:
    codes: set[str] = set()
    named: set[str] = set()  # lists named by several measures: their codes read once
    for m in measures:  # each measure's references and tables, a set update each
        for r in (*(m.products or ()), *m.exclude):
            if is_code(r):
                codes.add(r)
            else:
                named.add(r)
        for table in (m.product_rates, m.value_shares):
            codes.update(table or ())
        for table in (m.line_rates, m.qualifying_lines):
            codes.update(c for _, c in (table or ()))
    for name in named:
        codes.update(lists[name].codes)
    return tuple(sorted(codes))


# --------------------------------------------------------------------------- compiling


def _refs(refs, lists: dict[str, ProductList], exporters: np.ndarray, codes: list, exps: list,
          read: dict[str, np.ndarray]) -> None:
    """The (code, exporter or -1) rows of a measure's product references, appended to `codes` and `exps` as
    arrays, in the order of `refs` (a run of codes as one array, each list as one array per exporter). `read`
    holds the lists' codes as arrays, each list read once (many measures name the same lists)."""
    plain: list[str] = []

    def flush():
        if plain:
            codes.append(np.asarray(plain, dtype=str))
            exps.append(np.full(len(plain), -1, np.int64))
            plain.clear()

    for r in refs:
        if is_code(r):
            plain.append(r)
            continue
        flush()
        pl = lists[r]
        if r not in read:
            read[r] = np.asarray(pl.codes, dtype=str)
        listed = read[r]
        if pl.code_exporters is not None:
            e = _positions(exporters, pl.code_exporters)
            keep = e >= 0
            codes.append(listed[keep])
            exps.append(e[keep].astype(np.int64))
        elif pl.exporters is not None:
            for e in _positions(exporters, pl.exporters):
                if e >= 0:
                    codes.append(listed)
                    exps.append(np.full(listed.size, e, np.int64))
        else:
            codes.append(listed)
            exps.append(np.full(listed.size, -1, np.int64))
    flush()


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`numpy.nonzero` of a 2-D mask, from its flat positions: the same arrays, a few times faster."""
    if not mask.shape[1]:
        return np.nonzero(mask)
    return np.divmod(np.flatnonzero(mask), mask.shape[1])


def _contains(sorted_keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``[query]`` bool: whether each query is among `sorted_keys` (one binary search each)."""
    if not sorted_keys.size:
        return np.zeros(queries.size, bool)
    pos = np.minimum(np.searchsorted(sorted_keys, queries), sorted_keys.size - 1)
    return sorted_keys[pos] == queries


def _positions(axis: np.ndarray, labels) -> np.ndarray:
    """``[label]``: each label's position on `axis` (-1 where absent), by one binary search each."""
    axis = np.asarray(axis, dtype=str)
    labels = np.asarray(list(labels) if not isinstance(labels, np.ndarray) else labels, dtype=str)
    if not axis.size or not labels.size:
        return np.full(labels.size, -1, dtype=int)
    order = np.argsort(axis, kind="stable")
    at = np.minimum(np.searchsorted(axis, labels, sorter=order), axis.size - 1)
    return np.where(axis[order[at]] == labels, order[at], -1)


def _code_table(measures: list[Measure], field: str, keys: list | None = None):
    """Columns (lead key, code, value) of the HS code -> value tables of the measures (for any exporter);
    `keys`, each measure's table's codes as an array where already read."""
    leads, codes, values = [], [], []
    for i, m in enumerate(measures):  # one table per measure, each read as arrays
        table = getattr(m, field)
        if not table:
            continue
        leads.append(np.full(len(table), i * 4096, np.int64))
        codes.append(np.array(list(table.keys()), dtype=str) if keys is None or keys[i] is None else keys[i])
        values.append(np.fromiter(table.values(), float, len(table)))
    if not leads:
        return np.zeros(0, np.int64), np.zeros(0, dtype="<U10"), np.zeros(0)
    return np.concatenate(leads), np.concatenate(codes), np.concatenate(values)


def _line_table(measures: list[Measure], field: str, exporters: np.ndarray):
    """Columns (lead key, code, value) of the (exporter, HS code) -> value tables of the measures."""
    leads, codes, values = [], [], []
    for i, m in enumerate(measures):  # one table per measure, each read as arrays
        table = getattr(m, field)
        if not table:
            continue
        keys = np.array(list(table.keys()), dtype=str).reshape(-1, 2)
        pos = _positions(exporters, keys[:, 0])
        ok = pos >= 0
        leads.append(i * 4096 + pos[ok] + 1)
        codes.append(keys[ok, 1])
        values.append(np.fromiter(table.values(), float, len(table))[ok])
    if not leads:
        return np.zeros(0, np.int64), np.zeros(0, dtype="<U10"), np.zeros(0)
    return np.concatenate(leads).astype(np.int64), np.concatenate(codes), np.concatenate(values)


@dataclass(frozen=True)
class References:
    """An importer's measures read against an exporter axis: what `compile_law` needs that no atom changes.

    A schedule keeps it per importer and exporter axis (`TariffSchedule.compiled`), so that a run
    compiling the law on new atoms does not gather the measures' references again.

    Attributes
    ----------
    selected, excluded : tuple of numpy.ndarray
        ``(measure, code, exporter or -1, code as an integer)`` rows of the measures' product
        references and exemptions.
    all_products : numpy.ndarray of bool, ``[measure]``
    exporter : numpy.ndarray of bool, ``[measure, exporter]``
    product_rates, value_shares, line_rates, qualifying_lines : tuple of numpy.ndarray
        ``(lead key, code, value, code as an integer)`` columns of the tables by code (`_code_table`,
        `_line_table`).
    by_exporter, q_exporter : numpy.ndarray, ``[measure, exporter]``
        Rates by exporter (NaN where none) and qualifying shares by exporter.
    """

    selected: tuple
    excluded: tuple
    all_products: np.ndarray
    exporter: np.ndarray
    product_rates: tuple
    value_shares: tuple
    line_rates: tuple
    qualifying_lines: tuple
    by_exporter: np.ndarray
    q_exporter: np.ndarray


def references(measures: list[Measure], lists: dict[str, ProductList], exporters: np.ndarray) -> References:
    """The `References` of `measures` (an importer's, in schedule order) on `exporters`.

    Kept for later calls on measures, lists and exporters of the same content (`tradesim.kept.kept`):
    a scenario loaded again, or a copy of its schedule, reads the same law. Read-only."""
    measures = list(measures)
    return kept("references", _references_key(measures, lists, exporters),
                lambda: _references(measures, lists, exporters))


def _references(measures: list[Measure], lists: dict[str, ProductList], exporters: np.ndarray) -> References:
    exporters = np.asarray(exporters, dtype=str)
    M, E = len(measures), exporters.size
    sel, exc = ([], [], []), ([], [], [])  # (measure, code, exporter) arrays of each measure's references
    rate_codes: list = [None] * M  # each measure's codes with rates (in `product_rates`' order), read once
    all_products = np.zeros(M, bool)
    read: dict[str, np.ndarray] = {}  # each list's codes as an array
    for i, m in enumerate(measures):  # gathering references; the matching (`compile_law`) is one join
        if m.product_rates:  # its keys are HS codes (checked), selected after the products
            rate_codes[i] = np.array(list(m.product_rates.keys()), dtype=str)
        n = len(sel[1])
        if m.products is None:
            all_products[i] = True
        else:
            _refs(m.products, lists, exporters, sel[1], sel[2], read)
            if rate_codes[i] is not None:
                sel[1].append(rate_codes[i])
                sel[2].append(np.full(rate_codes[i].size, -1, np.int64))
        sel[0].extend(np.full(c.size, i, np.int64) for c in sel[1][n:])
        n = len(exc[1])
        _refs(m.exclude, lists, exporters, exc[1], exc[2], read)
        exc[0].extend(np.full(c.size, i, np.int64) for c in exc[1][n:])
    exporter = np.stack([m.exporter_mask(exporters) for m in measures]) if M else np.zeros((0, E), bool)
    by_exporter = np.full((M, E), np.nan)
    q_exporter = np.zeros((M, E))
    for i, m in enumerate(measures):  # a table by exporter per measure, each read as arrays
        if m.exporter_rates:
            pos = _positions(exporters, m.exporter_rates)
            by_exporter[i, pos[pos >= 0]] = np.array(list(m.exporter_rates.values()))[pos >= 0]
        if m.qualifying:
            pos = _positions(exporters, m.qualifying)
            q_exporter[i, pos[pos >= 0]] = np.array(list(m.qualifying.values()))[pos >= 0]

    def rows(table):
        ms, codes, exps = (np.concatenate(x) if x else np.zeros(0, t) for x, t in zip(table, (np.int64, str, np.int64)))
        return ms, codes, exps, _as_ints(codes)

    def with_ints(table):  # the codes read as integers once
        return (*table, _as_ints(table[1]))

    return References(rows(sel), rows(exc), all_products, exporter,
                      with_ints(_code_table(measures, "product_rates", rate_codes)),
                      with_ints(_code_table(measures, "value_shares")),
                      with_ints(_line_table(measures, "line_rates", exporters)),
                      with_ints(_line_table(measures, "qualifying_lines", exporters)), by_exporter, q_exporter)


def compile_law(measures: list[Measure], lists: dict[str, ProductList], atoms: np.ndarray, exporters: np.ndarray,
                members: dict[str, list[str]], cells: np.ndarray | None = None, reached: bool = False,
                refs: References | None = None) -> Compiled:
    """Compile an importer's measures on `atoms` x `exporters` into entries (see `Compiled`).

    The law is kept for later calls on inputs of the same content (`tradesim.kept.kept`; with
    `refs`, only when they are the ones `references` keeps for them): a scenario loaded again, or a
    copy of its schedule, compiles the same law. Its arrays are read-only then.

    Parameters
    ----------
    measures : list of Measure
        The importer's measures, in schedule order, with their dates resolved.
    lists : dict of str to ProductList
    atoms, exporters : numpy.ndarray of str
    members : dict of str to list of str
        Each group's members, to resolve ``replaces`` on groups.
    cells : numpy.ndarray of bool, ``[atom, exporter]``, optional
        Evaluate only these cells (those with trade); all when None. Work and memory grow with
        the cells evaluated, not with atoms x exporters.
    reached : bool
        Keep only the cells that some measure reaches: for callers that need the nonzero rates
        only, not every cell's (averages over atoms need every cell's weight).
    refs : References, optional
        `references` of `measures` on `exporters`, when already read.
    """
    measures = list(measures)
    key = _references_key(measures, lists, exporters)
    if key is not None and refs is not None and kept_key("references", refs) != key:
        key = None  # references of the caller's own: not known to be these inputs'
    if key is not None:  # (members that cannot be read as a key: compiled afresh, as `kept` does)
        replaced = sorted({r for m in measures for r in m.replaces if r in members})  # the groups it reads
        key = (key, array_key(np.asarray(atoms, dtype=str)), tuple((r, tuple(members[r])) for r in replaced),
               None if cells is None else mask_key(cells), bool(reached))
    return kept("law", key, lambda: _compile_law(measures, lists, atoms, exporters, members, cells, reached, refs))


def _compile_law(measures: list[Measure], lists: dict[str, ProductList], atoms: np.ndarray, exporters: np.ndarray,
                 members: dict[str, list[str]], cells: np.ndarray | None, reached: bool,
                 refs: References | None) -> Compiled:
    atoms = np.asarray(atoms, dtype=str)
    exporters = np.asarray(exporters, dtype=str)
    M, A, E = len(measures), atoms.size, exporters.size
    if E >= 4095:
        raise ValueError("more than 4,094 exporters")  # the lead keys of the lookup tables

    if refs is None:
        refs = references(measures, lists, exporters)
    all_products, exporter = refs.all_products, refs.exporter
    if reached:  # a cell whose exporter no measure covers is reached by none: it is not evaluated at all
        covered = exporter.any(axis=0)
        if not covered.all():
            cells = (np.ones((A, E), bool) if cells is None else np.asarray(cells, bool)) & covered

    atom_ints = _as_ints(atoms)  # the atoms' text read once

    def pairs(table):
        ms, codes, exps, ints = table
        ci, ai = match_codes(codes, atoms, atom_ints, ints) if ms.size else (np.zeros(0, int), np.zeros(0, int))
        return ms[ci], ai.astype(np.int64), exps[ci]

    s_m, s_a, s_e = pairs(refs.selected)
    x_m, x_a, x_e = pairs(refs.excluded)
    # the cells evaluated: all of the grid, or those asked for (the cells with trade)
    if cells is None:
        cell_atom, cell_exporter = np.divmod(np.arange(A * E), E)
    else:
        cell_atom, cell_exporter = _nonzero(np.asarray(cells, bool))
    position = np.full(A * E, -1)
    position[cell_atom * E + cell_exporter] = np.arange(cell_atom.size)
    # selections for every exporter: a [measure, atom] mask (measures x atoms is small)
    every = s_e < 0
    chosen = np.zeros((M, A), bool)
    chosen[s_m[every], s_a[every]] = True
    chosen[all_products] = True
    sel_m, sel_a = _nonzero(chosen)
    # a measure reaches a cell where it names the atom and covers the exporter: each (measure, atom) it names
    # times each exporter it covers, where that cell is evaluated. Entries as keys measure x cells + cell, in
    # measure-major order with cells ascending (cells are atom-major): work grows with the entries, not with
    # measures x cells.
    n_cells = cell_atom.size
    cover_m, cover_e = np.nonzero(exporter)  # measure-major
    n_cover = np.bincount(cover_m, minlength=M)
    reps = n_cover[sel_m]
    within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    e = cover_e[np.repeat((np.cumsum(n_cover) - n_cover)[sel_m], reps) + within]
    pos = position[np.repeat(sel_a, reps) * E + e]
    keys = np.repeat(sel_m, reps)[pos >= 0] * n_cells + pos[pos >= 0]
    some = ~every & exporter[s_m, np.maximum(s_e, 0)]  # lists for some exporters only
    pos = position[s_a[some] * E + s_e[some]]
    if (pos >= 0).any():
        extra = np.unique(s_m[some][pos >= 0] * n_cells + pos[pos >= 0])
        if keys.size < 2 or bool((keys[1:] > keys[:-1]).all()):  # sorted, each once (as built): merge the few
            new = extra[~_contains(keys, extra)]  # others in, rather than hash the many again (np.union1d)
            keys = np.insert(keys, np.searchsorted(keys, new), new)
        else:
            keys = np.union1d(keys, extra)  # sorted, each once
    em, cell = np.divmod(keys, n_cells) if n_cells else (keys, keys)
    if reached:  # a cell no measure reaches is 0 on every date
        keep = np.zeros(n_cells, bool)
        keep[cell] = True
        cell = (np.cumsum(keep) - 1)[cell]
        cell_atom, cell_exporter = cell_atom[keep], cell_exporter[keep]
        position = np.full(A * E, -1)
        position[cell_atom * E + cell_exporter] = np.arange(cell_atom.size)
    ea, ee = cell_atom[cell], cell_exporter[cell]
    # exemptions: for every exporter ([measure, atom] mask) or some (a [measure, cell] mask)
    x_every = x_e < 0
    dropped = np.zeros((M, A), bool)
    dropped[x_m[x_every], x_a[x_every]] = True
    exempt = dropped.reshape(-1).take(em * A + ea)  # by flat positions: faster than by two indices
    pos = position[x_a[~x_every] * E + x_e[~x_every]]
    if (pos >= 0).any():
        specific = np.unique(x_m[~x_every][pos >= 0] * cell_atom.size + pos[pos >= 0])
        exempt |= _contains(specific, em * cell_atom.size + cell)

    # -- rates, value shares and qualifying shares by prefix, exporter and measure: one join each
    prefixes = _Prefixes(atoms, atom_ints)
    lead_me = em * 4096 + (ee + 1)  # measure and exporter
    lead_m = em * 4096  # measure, any exporter
    rate = np.array([m.rate for m in measures], dtype=float)[em]
    rate = _by_prefix(rate, lead_m, prefixes, ea, refs.product_rates)
    if not np.isnan(refs.by_exporter).all():  # rates by exporter (most measures have none)
        per_exporter = refs.by_exporter[em, ee]
        rate = np.where(np.isnan(per_exporter), rate, per_exporter)
    rate = _by_prefix(rate, lead_me, prefixes, ea, refs.line_rates)

    value_share = np.array([m.value_share for m in measures], dtype=float)[em]
    value_share = _by_prefix(value_share, lead_m, prefixes, ea, refs.value_shares)

    qualifying = refs.q_exporter[em, ee] if refs.q_exporter.any() else np.zeros(em.size)
    qualifying = _by_prefix(qualifying, lead_me, prefixes, ea, refs.qualifying_lines)

    coverage = np.array([m.coverage for m in measures])[em]
    cover = np.where(exempt, 0.0, coverage * (1.0 - qualifying))

    position = {m.name: i for i, m in enumerate(measures)}
    displaced_by = np.zeros((M, M), bool)
    for r, m in enumerate(measures):
        for ref in m.replaces:
            for target in members.get(ref, [ref]):
                if target in position:
                    displaced_by[r, position[target]] = True
    groups = list(dict.fromkeys(m.group for m in measures if m.group))
    far = np.datetime64("9999-12-31")
    return Compiled(
        measures=tuple(measures), n_atoms=A, n_exporters=E, cell_atom=cell_atom, cell_exporter=cell_exporter,
        m=em, cell=cell, cover=cover, exempt=exempt,
        qualifying=qualifying, charge=rate * value_share, value_share=value_share,
        offsets=np.searchsorted(em, np.arange(M + 1)),
        start=np.array([m.start for m in measures], dtype="datetime64[D]"),
        end=np.array([far if m.end is None else np.datetime64(m.end, "D") for m in measures], dtype="datetime64[D]"),
        exporter=exporter, selected_m=sel_m, selected_atom=sel_a, displaced_by=displaced_by,
        group=np.array([groups.index(m.group) if m.group else -1 for m in measures], dtype=int),
        mfn=np.array([m.kind == "mfn" for m in measures], bool),
        floor=np.array([m.rule == "floor" for m in measures], bool),
        halt=np.array([m.rule == "halt" for m in measures], bool),
    )
