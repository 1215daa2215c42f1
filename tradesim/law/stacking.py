"""How measures combine: the stacking rules, run on the entries of the measures in force.

An importer's law is compiled into entries, one per measure and cell (atom x exporter) it
reaches (`tradesim.law.compile`). For each tariff regime (a set of measures in force; the dates on
which the same set is in force share it) the rules run, in this order, on the entries of the
measures in force; each reads the fields of `tradesim.law.fields.MEASURE_FIELDS` whose ``rule``
names it:

``in_force``  a measure applies from ``start`` until the day before ``end`` (``follows``: the
              dates of another measure).
``cover``     it covers the exporter (``exporters`` or all but ``except_exporters``, never the
              importer) and the product (``products`` less the ``exclude`` lists, which may be
              lists for some exporters only), on a share ``coverage`` of the trade.
``qualify``   it reaches only the share of an exporter's trade in a line that does not qualify
              for an exemption (``qualifying``, ``qualifying_lines``: USMCA).
``replace``   a measure that ``replaces`` others (measures or groups) displaces them where it
              applies: on the share ``s`` it covers, theirs is multiplied by ``1 - s``. A measure
              charged on a share ``v`` of the good's value (metal content) displaces them on that
              share only: theirs is multiplied by ``1 - s v``, so the rest of the value still pays
              them (the Section 232 derivative rule). Displacement depends only on where the
              displacing measure applies, so the order of measures does not matter; ``replaces``
              may not form a cycle.
``charge``    the contribution is the applied share times the rate (by line, by exporter, or by
              both) times the share of value charged (``value_share``: metal content).
``floor``     an all-in floor (``rule = "floor"``) adds ``max(0, rate - MFN)`` on its share, MFN
              being the sum of the contributions of the ``kind = "mfn"`` layers in the cell.
``group``     measures that share a ``group`` take the largest contribution; the others are
              *outweighed* (ties go to the measure listed first).
``halt``      a halt (``rule = "halt"``: an import ban, halted purchases) in force stops the trade
              of the cells it covers: its contribution there is ``inf``, and so is the total,
              whatever the other measures add (their contributions are still computed, for
              `tradesim.law.explain`). It runs last, so floors and groups never see it; it is
              never replaced and never in a group (`tradesim.law.measure.Measure` checks).

The total of a cell is the sum of the contributions (``inf`` on a halted cell, never NaN). `RULES`
lists the rules with the fields they read: a new kind of rule is one entry there and its field in
the field table.

Shares are independent across measures: a measure covering 40% of a product's trade (a
``coverage`` of 0.4) and one displacing it on 50% leave it 20%.

Every rule is vectorised over the entries of all regimes at once; regimes are taken in chunks
only to bound memory (`evaluate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..kept import kept, kept_key, mask_key
from .compile import Compiled
from .fields import MEASURE_FIELDS

__all__ = ["RULES", "Rule", "Stack", "alike_cells", "stack", "evaluate", "weighted"]

#: Elements of the dense ``[regime, cell]`` arrays of one chunk, and entries gathered per chunk (each gathered
#: entry holds about 0.2 kB of working arrays while it is stacked: 2**21 keeps a chunk near 400 MB).
_CELLS_PER_CHUNK = 2**23
_ENTRIES_PER_CHUNK = 2**21


@dataclass
class Stack:
    """The rules' arrays for some regimes: one element per entry of a measure in force in a regime.

    Attributes
    ----------
    law : Compiled
    active : numpy.ndarray of bool, ``[regime, measure]``
    regime, entry, measure : numpy.ndarray of int, ``[k]``
        The regime, the compiled entry and the measure of each element.
    key : numpy.ndarray of int, ``[k]``
        ``regime * cells + cell``: elements of one regime and cell share a key.
    share, applied, contribution : numpy.ndarray, ``[k]``
        The share reached in force, after replacement, and the percentage points added.
        A halt's contribution is ``inf`` where it applies.
    floored : numpy.ndarray, ``[k]``
        A floor's contribution (zero for other measures).
    outweighed : numpy.ndarray of bool, ``[k]``
    """

    law: Compiled
    active: np.ndarray
    regime: np.ndarray = None
    entry: np.ndarray = None
    measure: np.ndarray = None
    key: np.ndarray = None
    share: np.ndarray = None
    applied: np.ndarray = None
    contribution: np.ndarray = None
    floored: np.ndarray = None
    outweighed: np.ndarray = None
    extra: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        """Cells of all regimes: the length of dense ``[regime x cell]`` arrays."""
        return self.active.shape[0] * self.law.n_cells

    def total(self, keep: np.ndarray | None = None) -> np.ndarray:
        """``[regime, cell]``: the sum of the contributions (of the measures `keep` marks); ``inf`` where a halt
        (that `keep` marks) applies."""
        c = self.contribution if keep is None else np.where(keep[self.measure], self.contribution, 0.0)  # not inf*0
        out = np.bincount(self.key, weights=c, minlength=self.size)
        return out.reshape(self.active.shape[0], self.law.n_cells)

    def halted(self) -> np.ndarray:
        """``[k]`` bool: the elements on a cell (of their regime) that a halt stops."""
        on = np.zeros(self.size, bool)
        on[self.key[np.isinf(self.contribution)]] = True
        return on[self.key]


@dataclass(frozen=True)
class Rule:
    """A stacking rule: its name, what it does, and the function that applies it to a `Stack`."""

    name: str
    meaning: str
    apply: Callable[[Stack], None]

    @property
    def fields(self) -> tuple[str, ...]:
        """The measure fields this rule reads (from the field table)."""
        return tuple(f.name for f in MEASURE_FIELDS if self.name in f.rule.split())


# --------------------------------------------------------------------------- the rules


def _in_force(s: Stack) -> None:
    """Gather the entries of the measures in force in each regime."""
    L = s.law
    u, m = np.nonzero(s.active)
    counts = L.offsets[m + 1] - L.offsets[m]
    s.regime = np.repeat(u, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    s.entry = np.repeat(L.offsets[m], counts) + within
    s.measure = np.repeat(m, counts)
    s.key = s.regime.astype(np.int64) * L.n_cells + L.cell[s.entry]
    # each (regime, measure in force) is a run of elements: its measure, first element and length, so that the
    # rules find a measure's elements without a pass over all of them
    s.extra["runs"] = (m, np.cumsum(counts) - counts, counts)


def _elements_of(s: Stack, measures: np.ndarray) -> np.ndarray:
    """``[k]``: the elements (increasing) of the measures marked in `measures` (``[measure]`` bool), from the
    runs of `_in_force`: work grows with those elements."""
    m, first, counts = s.extra["runs"]
    take = measures[m]
    first, counts = first[take], counts[take]
    return np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())


def _distinct(keys: np.ndarray, size: int) -> tuple[int, np.ndarray]:
    """``(n, at)``: how many distinct `keys` (``< size``) there are and each key's number among them, numbered
    in increasing order. A mask of `size` where it is small next to the keys, a sort where it is not."""
    if size <= 8 * keys.size:
        present = np.zeros(size, bool)
        present[keys] = True
        number = np.cumsum(present, dtype=np.int32 if size < 2**31 else np.int64) - 1
        return int(number[-1]) + 1 if size else 0, number[keys]
    distinct, at = np.unique(keys, return_inverse=True)
    return distinct.size, at.ravel()


def _cover(s: Stack) -> None:
    s.share = s.law.cover[s.entry]  # covered, not exempt, times coverage and one minus the qualifying share


def _qualify(s: Stack) -> None:
    pass  # folded into the compiled cover (it does not depend on the date); kept for the order and its fields


def _replace(s: Stack) -> None:
    L = s.law
    s.applied = s.share
    if not L.displaced_by.any():
        return
    # measures displaced by the same set of measures share one product of (1 - s v) per cell
    sets, cls = np.unique(L.displaced_by.T, axis=0, return_inverse=True)
    cls = cls.ravel()  # each measure's set of displacing measures
    keep = np.ones(s.share.size)
    for k, replacers in enumerate(sets):  # a handful of distinct sets of displacing measures
        if not replacers.any():
            continue
        targets = _elements_of(s, cls == k)
        if not targets.size:
            continue
        by = _elements_of(s, replacers)
        by = by[s.share[by] > 0]
        sv = s.share[by] * L.value_share[s.entry[by]]  # displaced on the value they charge
        # sums over the cells (keys) that the displacing measures and their targets reach: work grows with
        # their elements, not with regimes x cells
        n, at = _distinct(np.concatenate([s.key[by], s.key[targets]]), s.size)
        full = np.bincount(at[:by.size], weights=(sv >= 1.0), minlength=n)
        with np.errstate(divide="ignore"):
            log = np.bincount(at[:by.size], weights=np.where(sv < 1.0, np.log1p(-np.minimum(sv, 1.0)), 0.0),
                              minlength=n)
        t = at[by.size:]
        keep[targets] = np.where(full[t] > 0, 0.0, np.exp(log[t]))
    s.applied = s.share * keep


def _charge(s: Stack) -> None:
    s.contribution = s.applied * s.law.charge[s.entry]
    s.floored = np.zeros_like(s.contribution)


def _floor(s: Stack) -> None:
    L = s.law
    floors = _elements_of(s, L.floor)
    if not floors.size:
        return
    mfn = _elements_of(s, L.mfn)
    # the MFN layers' total on the cells (keys) of the floors in force: over every cell where the MFN layers
    # reach most of them, else over the cells they and the floors reach (work grows with their elements)
    if 8 * mfn.size >= s.size:
        base = np.bincount(s.key[mfn], weights=s.contribution[mfn], minlength=s.size)[s.key[floors]]
    else:
        n, at = _distinct(np.concatenate([s.key[mfn], s.key[floors]]), s.size)
        base = np.bincount(at[:mfn.size], weights=s.contribution[mfn], minlength=n)[at[mfn.size:]]
    s.floored[floors] = s.applied[floors] * np.maximum(L.charge[s.entry[floors]] - base, 0.0)
    s.contribution[floors] = s.floored[floors]


def _group(s: Stack) -> None:
    L = s.law
    s.outweighed = np.zeros(s.contribution.size, bool)
    for group in range(int(L.group.max(initial=-1)) + 1):  # a few groups
        idx = _elements_of(s, L.group == group)
        # the group's cells (keys) in force: work grows with its elements, not with regimes x cells
        n, at = _distinct(s.key[idx], s.size)
        if n == idx.size:
            continue  # no cell has two members in force: nothing to compare
        c = s.contribution[idx]
        best = np.full(n, -np.inf)
        np.maximum.at(best, at, c)
        at_max = c >= best[at]
        first = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first, at, np.where(at_max, s.measure[idx], np.iinfo(np.int64).max))
        won = at_max & (s.measure[idx] == first[at])
        s.outweighed[idx] = ~won & (s.applied[idx] > 0)
        s.contribution[idx] = np.where(won, c, 0.0)


def _halt(s: Stack) -> None:
    halts = _elements_of(s, s.law.halt)
    if halts.size:  # a halt's charge is 0: its contribution is inf where it applies (never replaced)
        s.contribution[halts[s.applied[halts] > 0]] = np.inf


RULES: tuple[Rule, ...] = (
    Rule("in_force", "a measure applies from start until the day before end", _in_force),
    Rule("cover", "on the exporters and products it covers, less its exempt lists, times coverage", _cover),
    Rule("qualify", "not on the share of trade that qualifies for an exemption (USMCA)", _qualify),
    Rule("replace", "where it applies, it displaces the measures and groups it replaces (on the value it charges)",
         _replace),
    Rule("charge", "its contribution is the applied share times the rate times the share of value charged", _charge),
    Rule("floor", "an all-in floor adds max(0, rate - MFN), MFN being the kind='mfn' layers' total", _floor),
    Rule("group", "members of a group take the largest contribution", _group),
    Rule("halt", "where a halt applies, the trade stops: the total is inf", _halt),
)


def stack(law: Compiled, active: np.ndarray) -> Stack:
    """Apply every rule of `RULES` for the regimes ``active`` ``[regime, measure]`` (bool), at once."""
    s = Stack(law, np.asarray(active, bool).reshape(-1, len(law)))
    for rule in RULES:
        rule.apply(s)
    return s


def _chunks(law: Compiled, active: np.ndarray):
    """Bounds of the chunks of regimes stacked together (to bound the dense arrays and the entries)."""
    cells = law.n_cells
    entries = active.astype(np.int64) @ np.diff(law.offsets)  # gathered entries per regime
    lo = 0
    while lo < active.shape[0]:
        hi = lo + 1
        while hi < active.shape[0] and (hi - lo + 1) * cells <= _CELLS_PER_CHUNK and \
                entries[lo:hi + 1].sum() <= _ENTRIES_PER_CHUNK:
            hi += 1
        yield lo, hi
        lo = hi


def weighted(law: Compiled, active: np.ndarray, weight: np.ndarray, group_of_cell: np.ndarray | None,
             group_of_measure: np.ndarray | None, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sums of the contributions by group, over the trade not halted, and the halted weight.

    Each element adds ``contribution x weight[cell]`` to its group: the cell's group
    (`group_of_cell`, ``[cell]``) or its measure's (`group_of_measure`, ``[measure]``: the layer
    of law). Cells that a halt stops add nothing (their rate is infinite: an average over trade
    leaves them out and reports their weight). No dense ``[regime, cell]`` array of totals is
    formed beyond a chunk.

    Returns
    -------
    sums : numpy.ndarray, ``[regime, group]``
        Weight times rate (fraction), summed over the cells not halted.
    halted : numpy.ndarray, ``[regime, group]``
        The weight of the halted cells, by the cells' group (with `group_of_measure`, the halted
        weight of the regime, in every group's column).
    """
    active = np.asarray(active, bool)
    out = np.zeros((active.shape[0], n_groups))
    halted = np.zeros((active.shape[0], n_groups))
    for lo, hi in _chunks(law, active):
        s = stack(law, active[lo:hi])
        g = group_of_measure[s.measure] if group_of_measure is not None else group_of_cell[law.cell[s.entry]]
        w = weight[law.cell[s.entry]]
        if law.halt.any():  # the halted cells' elements leave the sums; their weight, counted once per cell
            stop = s.halted()
            cells = np.zeros(s.size)
            cells[s.key[stop]] = weight[law.cell[s.entry[stop]]]
            by_cell = cells.reshape(hi - lo, law.n_cells)
            if group_of_measure is not None:
                halted[lo:hi] = by_cell.sum(axis=1)[:, None]
            else:
                rows = np.repeat(np.arange(hi - lo), law.n_cells) * n_groups + np.tile(group_of_cell, hi - lo)
                halted[lo:hi] = np.bincount(rows, weights=by_cell.ravel(),
                                            minlength=(hi - lo) * n_groups).reshape(hi - lo, n_groups)
            c = np.where(stop, 0.0, s.contribution)  # no inf x 0
        else:
            c = s.contribution
        out[lo:hi] = np.bincount(s.regime * n_groups + g, weights=c * w,
                                 minlength=(hi - lo) * n_groups).reshape(hi - lo, n_groups)
    return out, halted


def evaluate(law: Compiled, active: np.ndarray, keep: np.ndarray | None = None, alike: bool = True) -> np.ndarray:
    """Totals ``[regime, cell]`` for the regimes ``active`` ``[regime, measure]`` (`Compiled.dense` puts
    them on the ``[atom, exporter]`` grid); ``inf`` on the cells a halt stops (never NaN).

    Cells that the law treats alike (the same measures with the same cover, value share and charge;
    many atoms and exporters are) are stacked once (`alike_cells`), and regimes together, in chunks
    that bound the dense ``[regime, cell]`` arrays and the gathered entries (a loop over chunks, not
    over regimes or measures). The totals of a law that `compile_law` keeps are kept with it, for the
    same regimes and `keep` (`tradesim.kept.kept`: a scenario's first runs stack the same law on the
    same regimes); they are read-only then.

    Parameters
    ----------
    keep : numpy.ndarray of bool, ``[measure]``, optional
        Sum only these measures' contributions (stacking still sees all).
    alike : bool
        Look for alike cells (False: the cells are known to differ).
    """
    active = np.asarray(active, bool)
    law_key = kept_key("law", law)
    if law_key is None:
        return _evaluate(law, active, keep, alike)
    key = (law_key, mask_key(active), None if keep is None else mask_key(keep), alike)
    return kept("totals", key, lambda: _evaluate(law, active, keep, alike), keep=8)


def _evaluate(law: Compiled, active: np.ndarray, keep: np.ndarray | None, alike: bool) -> np.ndarray:
    """`evaluate`, computed."""
    found = alike_cells(law) if alike else None
    if found is not None:  # the rules act on each cell's own elements: alike cells have equal totals
        of_cell, sub = found
        return evaluate(sub, active, keep, alike=False)[:, of_cell]
    out = np.zeros((active.shape[0], law.n_cells))
    for lo, hi in _chunks(law, active):
        out[lo:hi] = stack(law, active[lo:hi]).total(keep)
    return out


def _mix(x: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (splitmix64) on unsigned integers: equal inputs give equal outputs, others scatter."""
    x = x ^ (x >> np.uint64(30))  # a new array: the rest works in place on it
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def alike_cells(law: Compiled) -> tuple[np.ndarray, Compiled] | None:
    """The law on one cell of each set of cells it treats alike, or None where that saves little.

    Two cells are alike when they have entries of the same measures with the same ``cover``,
    ``value_share`` and ``charge`` (all the rules read of a cell; `explain` reads more and does
    not come here). Cells are grouped by a hash of their entries, and every cell's entries are
    then compared with its group's first cell's, so the grouping is exact (a chance collision of
    hashes only leaves the law whole).

    Returns
    -------
    of_cell : numpy.ndarray of int, ``[cell]``
        Each cell's position among the kept cells.
    law : Compiled
        The law on the kept cells (the first of each group), its entries still sorted by measure.
    """
    n, entries = law.n_cells, law.m.size
    if n < 2 or not entries:
        return None
    bits = [np.ascontiguousarray(v, dtype=np.float64).view(np.uint64) for v in (law.cover, law.value_share,
                                                                              law.charge)]
    salt = _mix(np.arange(1, len(law) + 1, dtype=np.uint64))  # each measure's own
    h = _mix(salt[law.m] ^ bits[0] ^ _mix(bits[1] ^ _mix(bits[2])))
    by_cell = np.zeros(n, np.uint64)
    np.add.at(by_cell, law.cell, h)  # a sum over the cell's entries: their order does not matter
    count = np.bincount(law.cell, minlength=n)
    distinct, first, of_cell = np.unique(by_cell, return_index=True, return_inverse=True)
    if 4 * distinct.size > 3 * n:  # few alike: not worth a second law
        return None
    of_cell = of_cell.ravel()
    # exact: every entry has its match (same measure and values) on its group's first cell, and the counts agree
    rep = first[of_cell]
    if (count != count[rep]).any():
        return None
    first_of = np.zeros(n, bool)
    first_of[first] = True
    take = first_of[law.cell]
    number = np.cumsum(first_of) - 1  # a kept cell's position among the kept
    if len(law) * distinct.size <= _CELLS_PER_CHUNK // 2:  # each kept entry's position by (measure, kept cell)
        where = np.full(len(law) * distinct.size, -1, np.int32 if entries < 2**31 else np.int64)
        # flat positions: a gather by one index, some times faster than by two
        where[law.m[take].astype(np.int64) * distinct.size + number[law.cell[take]]] = np.flatnonzero(take)
        at = where.take(law.m.astype(np.int64) * distinct.size + number[rep[law.cell]])
        found = at >= 0
    else:  # one binary search per entry among the keys (measure, cell), increasing as entries are
        key = law.m.astype(np.int64) * n + law.cell
        query = law.m.astype(np.int64) * n + rep[law.cell]
        at = np.minimum(np.searchsorted(key, query), entries - 1)
        found = key[at] == query
    if not (found.all() and all((b[at] == b).all() for b in bits)):
        return None
    m = law.m[take]
    sub = dataclasses.replace(
        law, cell_atom=law.cell_atom[first_of], cell_exporter=law.cell_exporter[first_of], m=m,
        cell=number[law.cell[take]], cover=law.cover[take], exempt=law.exempt[take],
        qualifying=law.qualifying[take], charge=law.charge[take], value_share=law.value_share[take],
        offsets=np.searchsorted(m, np.arange(len(law) + 1)))
    return number[rep], sub
