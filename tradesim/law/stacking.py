"""How measures combine: the stacking rules, applied to all of an importer's measures at once.

The law of one importer is evaluated on arrays ``[regime, measure, atom, exporter]``: a regime is
a set of measures in force (the dates on which the same set is in force share it), an atom a
product line (see `tradesim.law.atoms`). The rules run in this order; each reads the fields of
`tradesim.law.fields.MEASURE_FIELDS` whose ``rule`` names it:

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
              them (the Section 232 derivative rule).
              Displacement depends only on where the displacing measure applies, so the order of
              measures does not matter; ``replaces`` may not form a cycle.
``charge``    the contribution is the applied share times the rate (by line, by exporter, or by
              both) times the share of value charged (``value_share``: metal content).
``floor``     an all-in floor (``rule = "floor"``) adds ``max(0, rate - MFN)``, MFN being the sum
              of the contributions of the ``kind = "mfn"`` layers on that atom and exporter.
``group``     measures that share a ``group`` take the largest contribution; the others are
              *outweighed*.

The total is the sum of the contributions. `RULES` lists the rules with the fields they read;
a new kind of rule is one entry there (and its field in the field table).

Shares are independent across measures: a measure covering 40% of a product's trade (a
``coverage`` of 0.4) and one displacing it on 50% leave it 20%.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .fields import MEASURE_FIELDS
from .lists import ProductList
from .measure import Measure

__all__ = ["RULES", "Rule", "Layers", "Stack", "build", "stack"]

_TINY = 1e-300  # displaced shares below this are zero


@dataclass(frozen=True)
class Layers:
    """What each measure of one importer covers and charges, whatever the date.

    Measures are ordered so that the members of a group are contiguous (`order` maps back to
    the schedule's order). Arrays are ``[measure, atom, exporter]`` unless said otherwise.
    """

    measures: tuple[Measure, ...]
    order: np.ndarray  # [measure] position in the schedule's list of this importer's measures
    selected: np.ndarray  # [measure, atom] bool: products before exclusions
    exempt: np.ndarray  # bool: excluded by a list
    exporter: np.ndarray  # [measure, exporter] bool
    qualifying: np.ndarray  # share of trade that qualifies and does not pay
    cover: np.ndarray  # share reached whatever the date: selected, not exempt, exporter, coverage, not qualifying
    charge: np.ndarray  # rate times value share, fraction
    value_share: np.ndarray  # [measure, atom]
    displaced_by: np.ndarray  # [measure r, measure m] bool: r displaces m
    group: np.ndarray  # [measure] group number, -1 for none
    group_start: np.ndarray  # [group] first measure of each group
    mfn: np.ndarray  # [measure] bool
    floor: np.ndarray  # [measure] bool

    def __len__(self) -> int:
        return len(self.measures)


@dataclass
class Stack:
    """The rules' intermediate arrays for some regimes, ``[regime, measure, atom, exporter]``."""

    layers: Layers
    active: np.ndarray  # [regime, measure] bool
    share: np.ndarray = None  # covered share in force
    applied: np.ndarray = None  # after replacement
    contribution: np.ndarray = None  # after charge, floors and group maxima
    floored: np.ndarray = None  # floor contribution before group maxima (floor measures only)
    outweighed: np.ndarray = None  # bool: applied but beaten within its group
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> np.ndarray:
        """``[regime, atom, exporter]``: the sum of the contributions."""
        return self.contribution.sum(axis=1)


@dataclass(frozen=True)
class Rule:
    """A stacking rule: its name, what it does, and the function that applies it to a `Stack`."""

    name: str
    meaning: str
    apply: Callable[[Stack], None]

    @property
    def fields(self) -> tuple[str, ...]:
        """The measure fields this rule reads (from the field table)."""
        return tuple(f.name for f in MEASURE_FIELDS if f.rule == self.name)


# --------------------------------------------------------------------------- the rules


def _in_force(s: Stack) -> None:
    s.share = s.active[:, :, None, None].astype(float)


def _cover(s: Stack) -> None:
    s.share = s.share * s.layers.cover[None]


def _qualify(s: Stack) -> None:
    pass  # folded into `Layers.cover` (it does not depend on the date); kept for the order and its fields


def _replace(s: Stack) -> None:
    L = s.layers
    if not L.displaced_by.any():
        s.applied = s.share
        return
    r = np.flatnonzero(L.displaced_by.any(axis=1))  # the measures that displace others
    D = L.displaced_by[r].astype(float)  # [r, m]
    sr = s.share[:, r] * L.value_share[None, r, :, None]  # displaced on the value they charge
    full = np.einsum("rm,trae->tmae", D, (sr >= 1.0).astype(float))  # displacements of the whole share
    with np.errstate(divide="ignore"):
        log_keep = np.einsum("rm,trae->tmae", D, np.log1p(-np.minimum(sr, 1.0 - 1e-16)) * (sr < 1.0))
    keep = np.where(full > 0, 0.0, np.exp(log_keep))
    s.applied = s.share * keep


def _charge(s: Stack) -> None:
    s.contribution = s.applied * s.layers.charge[None]


def _floor(s: Stack) -> None:
    L = s.layers
    if not L.floor.any():
        return
    base = s.contribution[:, L.mfn].sum(axis=1, keepdims=True)  # [t, 1, a, e]: the MFN layers' total
    f = np.flatnonzero(L.floor)
    s.floored = np.zeros_like(s.contribution)
    s.floored[:, f] = s.applied[:, f] * np.maximum(L.charge[None, f] - base, 0.0)
    s.contribution[:, f] = s.floored[:, f]


def _group(s: Stack) -> None:
    L = s.layers
    s.outweighed = np.zeros(s.contribution.shape, bool)
    if not L.group_start.size:
        return
    members = np.flatnonzero(L.group >= 0)  # contiguous runs, one per group
    c = s.contribution[:, members]
    starts = L.group_start - members[0]
    g = L.group[members]  # group of each member
    best = np.maximum.reduceat(c, starts, axis=1)  # [t, g, a, e]
    at_max = c >= best[:, g]
    # the first member at the maximum wins (ties go to the earlier measure)
    position = np.arange(len(members)).reshape(1, -1, 1, 1)
    first = np.minimum.reduceat(np.where(at_max, position, len(members)), starts, axis=1)
    won = at_max & (position == first[:, g])
    s.outweighed[:, members] = ~won & (s.applied[:, members] > 0)
    s.contribution[:, members] = np.where(won, c, 0.0)


RULES: tuple[Rule, ...] = (
    Rule("in_force", "a measure applies from start until the day before end", _in_force),
    Rule("cover", "on the exporters and products it covers, less its exempt lists, times coverage", _cover),
    Rule("qualify", "not on the share of trade that qualifies for an exemption (USMCA)", _qualify),
    Rule("replace", "where it applies, it displaces the measures and groups it replaces", _replace),
    Rule("charge", "its contribution is the applied share times the rate times the share of value charged", _charge),
    Rule("floor", "an all-in floor adds max(0, rate - MFN), MFN being the kind='mfn' layers' total", _floor),
    Rule("group", "members of a group take the largest contribution", _group),
)


def stack(layers: Layers, active: np.ndarray) -> Stack:
    """Apply every rule of `RULES` for the regimes ``active`` ``[regime, measure]`` (bool)."""
    s = Stack(layers, np.asarray(active, bool).reshape(-1, len(layers)))
    for rule in RULES:
        rule.apply(s)
    return s


# --------------------------------------------------------------------------- building the layers


def build(measures: list[Measure], lists: dict[str, ProductList], atoms: np.ndarray, exporters: np.ndarray,
          names: dict[str, list[str]]) -> Layers:
    """The date-independent arrays of one importer's measures on `atoms` and `exporters`.

    Parameters
    ----------
    measures : list of Measure
        The importer's measures, in schedule order.
    lists : dict of str to ProductList
    atoms, exporters : numpy.ndarray of str
    names : dict of str to list of str
        For each group name, its members' names (to resolve ``replaces`` on groups).
    """
    from ..codes import prefix_mask

    groups = list(dict.fromkeys(m.group for m in measures if m.group))
    rank = [groups.index(m.group) if m.group else len(groups) for m in measures]
    order = np.argsort(rank, kind="stable")  # group members contiguous, groups first
    ms = tuple(measures[i] for i in order)
    M, A, E = len(ms), atoms.size, exporters.size

    def product_mask(refs) -> np.ndarray:
        """``[atom, exporter]`` covered by HS prefixes and lists (lists may be for some exporters)."""
        codes = [r for r in refs if r[:1].isdigit()]
        out = np.broadcast_to(prefix_mask(atoms, codes, finer=True)[:, None], (A, E)).copy()
        for r in refs:
            if not r[:1].isdigit():
                out |= lists[r].mask(atoms, exporters)
        return out

    selected = np.ones((M, A), bool)
    exempt = np.zeros((M, A, E), bool)
    exporter = np.zeros((M, E), bool)
    qualifying = np.zeros((M, A, E))
    charge = np.zeros((M, A, E))
    value_share = np.ones((M, A))
    for n, m in enumerate(ms):  # building once per importer; the dated evaluation is vectorised
        if m.products is not None:
            sel = product_mask(m.products).any(axis=1)  # product lists select for every exporter
            if m.product_rates:
                sel |= prefix_mask(atoms, list(m.product_rates), finer=True)
            selected[n] = sel
        if m.exclude:
            exempt[n] = product_mask(m.exclude) & selected[n][:, None]
        exporter[n] = m.exporter_mask(exporters)
        q = m.qualifying_for(atoms, exporters)
        if q is not None:
            qualifying[n] = q
        value_share[n] = m.value_shares_for(atoms)
        charge[n] = m.rates_for(atoms, exporters) * value_share[n][:, None]
    coverage = np.array([m.coverage for m in ms])
    cover = (selected[:, :, None] & ~exempt & exporter[:, None, :]) * coverage[:, None, None] * (1 - qualifying)

    position = {m.name: i for i, m in enumerate(ms)}
    displaced_by = np.zeros((M, M), bool)
    for r, m in enumerate(ms):
        for ref in m.replaces:
            for target in names.get(ref, [ref]):
                if target in position:
                    displaced_by[r, position[target]] = True
    group = np.array([groups.index(m.group) if m.group else -1 for m in ms], dtype=int)
    group_start = np.array([int(np.flatnonzero(group == g)[0]) for g in range(len(groups))], dtype=int)
    return Layers(
        measures=ms, order=order, selected=selected, exempt=exempt, exporter=exporter, qualifying=qualifying,
        cover=cover, charge=charge, value_share=value_share, displaced_by=displaced_by, group=group,
        group_start=group_start, mfn=np.array([m.kind == "mfn" for m in ms], bool),
        floor=np.array([m.rule == "floor" for m in ms], bool),
    )
