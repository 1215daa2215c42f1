"""Tariff law as data: product lists, measures and schedules.

A `TariffSchedule` is a set of `Measure` layers and the `ProductList` objects they
name. Each measure says who imposes it (``importer``), on whom (``exporters``, or
all but ``except_exporters``), on what (``products``: HS prefixes or list names,
minus the ``exclude`` lists), at what ad valorem rate, from ``start`` until
``end``, and how it combines with the others.

Stacking rules, applied to each product line, exporter and importer:

1. A measure *applies* where it is in force (``start <= date < end``), covers the
   exporter and the product, and no ``exclude`` list covers the product
   (otherwise the product is *exempted*).
2. A measure that names measures or groups in ``replaces`` displaces them where
   it applies: the anti-stacking rule (a car paying the Section 232 auto duty
   pays neither the steel duty nor the reciprocal duty). Displacement depends only
   on where the replacing measure applies, so it does not depend on the order of
   measures, and ``replaces`` may not form a cycle.
3. Measures that share a ``group`` take the largest of their rates; everything
   else adds up.

Coverage finer than the products (HS8 exemption lines over HS2 trade) makes a
measure cover a *share* of a product. The schedule is then evaluated on finer
lines (atoms) and averaged back to the products with weights:

* exact value shares when finer trade values are given (``fine_values``);
* otherwise, the fallback: each HS 2022 six-digit subheading under the product
  weighs the same (a simple average over subheadings, as WITS reports beside its
  trade-weighted average), and a national line finer than six digits counts as
  its whole subheading.

A `TradesimWarning` says which of the two was used and for how many products.

A measure may also cover a stated share of its products (``coverage``), for lists
whose lines are not known; that share is taken as independent of other measures'
coverage when they replace or group with it.

Rates are fractions (0.25 is 25%). Dates are days; ``end`` is the first day on
which a measure no longer applies (legal texts say "until 12:01 am on" that day).
"""

from __future__ import annotations

import datetime as _dt
import graphlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from .codes import COUNTRY_GROUPS, _country_problem, _hs_problem, _prefix_mask, hs_subheadings
from .errors import InputError, TradesimWarning

__all__ = ["ProductList", "Measure", "TariffSchedule", "effective_rate", "MAX_RATE", "KINDS"]

#: Highest ad valorem rate accepted (2,000%), as a fraction.
MAX_RATE = 20.0
#: Layer kinds: additional duties, and most-favoured-nation base rates.
KINDS = ("additional", "mfn")


class _FieldErrors(InputError):
    """An `InputError` that also lists each problem with the field it concerns."""

    def __init__(self, fields: list[tuple[str, str]], *, source: str | None = None, key: str | None = None):
        self.fields = fields
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in fields), source=source, key=key)


def to_date(value: object, *, key: str = "date") -> _dt.date:
    """A day from an ISO string, `datetime.date`, `datetime`, numpy or pandas timestamp."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if value is None or pd.isna(stamp) or (isinstance(value, str) and len(value.strip()) < 8):
        raise InputError(f"{value!r} is not a date: expected YYYY-MM-DD", key=key)
    return stamp.date()


def _codes_problem(codes: Sequence[object]) -> str | None:
    bad = [p for c in dict.fromkeys(codes) if (p := _hs_problem(c))]
    if bad:
        return "; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")
    return None


def _is_code(text: object) -> bool:
    return isinstance(text, str) and text.isdigit()


# ---------------------------------------------------------------------------
# Product lists
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductList:
    """A named set of HS codes; a code covers every finer code that starts with it.

    Parameters
    ----------
    name : str
        Name that measures use to refer to the list; it may not start with a digit.
    codes : sequence of str
        HS codes of 2 to 10 digits (``"8471"``, ``"85171300"``). Duplicates are dropped.
    description, source, notes : str
        What the list is, where it comes from, and caveats.

    Examples
    --------
    >>> ProductList("electronics", ["8471", "85171300"]).covers(["847130", "8517", "9503"]).tolist()
    [True, False, False]
    """

    name: str
    codes: tuple[str, ...]
    description: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.name, str) or not self.name.strip() or self.name[0].isdigit():
            # measures tell list names from HS codes by the first character
            problems.append(("name", f"{self.name!r} is not a list name: expected text that does not start with a digit"))
        codes = (self.codes,) if isinstance(self.codes, str) else tuple(self.codes)
        if not codes:
            problems.append(("codes", "the list is empty: expected at least one HS code"))
        elif p := _codes_problem(codes):
            problems.append(("codes", p))
        if problems:
            raise _FieldErrors(problems, key=f"product list {self.name!r}")
        object.__setattr__(self, "codes", tuple(dict.fromkeys(codes)))

    def __len__(self) -> int:
        return len(self.codes)

    def covers(self, products: Iterable[str]) -> np.ndarray:
        """Boolean mask ``[product]`` of the products that the list covers in full."""
        return _prefix_mask(np.asarray(list(products), dtype=str), self.codes)

    @classmethod
    def from_csv(
        cls, path, name: str | None = None, *, column: str = "hs_code", description: str = "", source: str | None = None
    ) -> ProductList:
        """Read a list from a CSV file with one HS code per row.

        Dots and spaces inside codes are removed (``8517.13.00`` is ``85171300``);
        anything else that is not a code is an error naming its line.

        Parameters
        ----------
        path : str or Path
            The CSV file.
        name : str, optional
            Defaults to the file name without suffix.
        column : str
            Column with the codes.
        """
        from .io._common import read_table, require_columns

        path = Path(path)
        frame = read_table(path, dtype=str)
        require_columns(frame, [column], str(path), "a product list")
        codes = frame[column].fillna("").str.replace(r"[.\s]", "", regex=True)
        bad = [(line, raw, p) for line, raw, code in zip(codes.index, frame[column], codes) if (p := _hs_problem(code))]
        if bad:
            shown = "; ".join(f"line {line}: {p}" for line, _, p in bad[:5])
            more = f"; ... and {len(bad) - 5} more" if len(bad) > 5 else ""
            raise InputError(shown + more, source=str(path), key=f"column {column!r}")
        return cls(name or path.stem, tuple(codes), description=description, source=source or str(path))


# ---------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------


def _tuple(value) -> tuple:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class Measure:
    """One layer of tariff law.

    Parameters
    ----------
    name : str
        Unique within a schedule.
    importer : str
        ISO 3166 alpha-3 code (or a group such as ``EU27``) of the country imposing it.
    rate : float
        Ad valorem rate as a fraction (``1.25`` is 125%), from 0 to 20.
    start : date or str
        First day in force.
    end : date or str, optional
        First day no longer in force; None for open-ended.
    authority : str
        Legal instrument (``"IEEPA; EO 14266"``).
    exporters : sequence of str, optional
        Exporters covered; None for all (the importer itself is never covered).
    except_exporters : sequence of str
        Exporters left out when ``exporters`` is None.
    products : sequence of str, optional
        HS prefixes and/or names of product lists; None for all products.
    exclude : sequence of str
        Names of product lists (or HS prefixes) exempted from the measure.
    replaces : sequence of str
        Names of measures or groups that do not apply where this one applies.
    group : str, optional
        Measures in one group take the maximum of their rates instead of the sum.
    kind : {"additional", "mfn"}
        ``"mfn"`` marks most-favoured-nation base rates.
    product_rates : mapping of str to float, optional
        Rates (fractions) for particular HS prefixes; the longest matching prefix
        wins, and ``rate`` holds elsewhere. Their codes are covered too.
    coverage : float
        Share of the trade under ``products`` that the measure covers (0 to 1), for
        lists whose lines are not known; 1 by default.
    announced : date or str, optional
        Day the measure was made public, when before ``start``: importers can buy ahead
        in between (see `tradesim.dynamics`).
    layer : str, optional
        The layer of tariff law the measure belongs to (``"Section 301"``), for tables and
        plots that stack layers; see `layer_name`.
    source, notes : str
        Citation and caveats.

    Examples
    --------
    >>> m = Measure("fentanyl", "USA", 0.20, "2025-03-04", exporters=["CHN", "HKG"])
    >>> m.in_force("2025-04-14")
    True
    """

    name: str
    importer: str
    rate: float
    start: _dt.date
    end: _dt.date | None = None
    authority: str = ""
    exporters: tuple[str, ...] | None = None
    except_exporters: tuple[str, ...] = ()
    products: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    group: str | None = None
    kind: str = "additional"
    product_rates: Mapping[str, float] | None = None
    coverage: float = 1.0
    announced: _dt.date | None = None
    layer: str | None = None
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        put = object.__setattr__
        if not isinstance(self.name, str) or not self.name.strip():
            problems.append(("name", f"{self.name!r} is not a measure name: expected non-empty text"))
        if p := _country_problem(self.importer, COUNTRY_GROUPS):
            problems.append(("importer", p))
        for fld in ("start", "end", "announced"):
            value = getattr(self, fld)
            if value is None and fld != "start":
                continue
            try:
                put(self, fld, to_date(value, key=fld))
            except InputError as err:
                problems.append((fld, err.message))
        if isinstance(self.start, _dt.date) and isinstance(self.end, _dt.date) and self.end <= self.start:
            problems.append(("end", f"end {self.end} is not after start {self.start}"))
        if isinstance(self.start, _dt.date) and isinstance(self.announced, _dt.date) and self.announced > self.start:
            problems.append(("announced", f"announced {self.announced} is after start {self.start}"))
        problems += _rate_problems("rate", self.rate)
        if self.exporters is not None:
            put(self, "exporters", _tuple(self.exporters))
        put(self, "except_exporters", _tuple(self.except_exporters))
        for fld in ("exporters", "except_exporters"):
            bad = [p for c in dict.fromkeys(getattr(self, fld) or ()) if (p := _country_problem(c, COUNTRY_GROUPS))]
            if bad:
                problems.append((fld, "; ".join(bad)))
        if self.exporters is not None and self.except_exporters:
            problems.append(("except_exporters", "give either exporters or except_exporters, not both"))
        if self.exporters is not None and not self.exporters:
            problems.append(("exporters", "empty list: leave it out to cover all exporters"))
        if self.products is not None:
            put(self, "products", _tuple(self.products))
            if not self.products:
                problems.append(("products", "empty list: leave it out to cover all products"))
        put(self, "exclude", _tuple(self.exclude))
        put(self, "replaces", _tuple(self.replaces))
        for fld in ("products", "exclude"):
            codes = [c for c in getattr(self, fld) or () if not isinstance(c, str) or c[:1].isdigit()]
            if p := _codes_problem(codes):
                problems.append((fld, p))
        if self.name in self.replaces:
            problems.append(("replaces", f"measure {self.name!r} cannot replace itself"))
        if self.kind not in KINDS:
            problems.append(("kind", f"{self.kind!r} is not a layer kind: expected one of {list(KINDS)}"))
        if self.product_rates is not None:
            rates = dict(self.product_rates)
            if p := _codes_problem(list(rates)):
                problems.append(("product_rates", p))
            for code, r in rates.items():
                problems += [(f"product_rates.{code}", m) for _, m in _rate_problems("rate", r)]
            put(self, "product_rates", MappingProxyType({k: float(v) for k, v in rates.items()}))
        if not isinstance(self.coverage, int | float) or isinstance(self.coverage, bool) or not 0 < self.coverage <= 1:
            problems.append(("coverage", f"{self.coverage!r} is not a share: expected a number above 0 and at most 1"))
        if problems:
            raise _FieldErrors(problems, key=f"measure {self.name!r}")
        put(self, "rate", float(self.rate))
        put(self, "coverage", float(self.coverage))

    @property
    def layer_name(self) -> str:
        """`layer` when given, else the group, else the name without a phase step's ``@day``."""
        return self.layer or self.group or self.name.split("@")[0]

    def in_force(self, date) -> bool:
        """True when ``start <= date < end``."""
        d = to_date(date)
        return self.start <= d and (self.end is None or d < self.end)

    def _exporter_mask(self, exporters: np.ndarray) -> np.ndarray:
        mask = np.isin(exporters, self.exporters) if self.exporters is not None else ~np.isin(exporters, self.except_exporters)
        return mask & (exporters != self.importer)

    def _rates(self, atoms: np.ndarray) -> np.ndarray:
        """Rate per atom ``[atom]``: the longest matching prefix in ``product_rates``, else ``rate``.

        An atom coarser than some ``product_rates`` codes (and matched by no prefix)
        takes the mean rate of those finer lines.
        """
        out = np.full(atoms.shape, self.rate)
        if not self.product_rates:
            return out
        table = pd.Series(dict(self.product_rates))
        code_len = table.index.str.len()
        lengths = np.char.str_len(atoms)
        for n in np.unique(lengths):
            finer = table[code_len > n]
            if len(finer):
                hit = finer.groupby(finer.index.str[:n]).mean().reindex(atoms).to_numpy()
                ok = (lengths == n) & ~np.isnan(hit)
                out[ok] = hit[ok]
        for n in sorted(set(code_len)):  # longer prefixes overwrite shorter ones
            hit = table[code_len == n].reindex(atoms.astype(f"<U{n}")).to_numpy()
            ok = (lengths >= n) & ~np.isnan(hit)
            out[ok] = hit[ok]
        return out


def _rate_problems(fld: str, rate) -> list[tuple[str, str]]:
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not np.isfinite(rate):
        return [(fld, f"{rate!r} is not a number")]
    if rate < 0:
        return [(fld, f"rate {rate:g} is negative: expected 0 to {MAX_RATE:g} (0% to 2,000%)")]
    if rate > MAX_RATE:
        return [(fld, f"rate {rate:g} is above {MAX_RATE:g} (2,000%): rates are fractions, 0.25 is 25%")]
    return []


# ---------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------


def _schedule_problems(measures: Sequence[Measure], lists: Sequence[ProductList]) -> list[tuple[str, int, str, str]]:
    """Cross-references: (table, position, field, message) for every problem found."""
    out: list[tuple[str, int, str, str]] = []
    list_names: dict[str, int] = {}
    for i, pl in enumerate(lists):
        if pl.name in list_names:
            out.append(("product_lists", i, "name", f"list {pl.name!r} is defined twice (also product_lists[{list_names[pl.name]}])"))
        list_names.setdefault(pl.name, i)
    names: dict[str, int] = {}
    for i, m in enumerate(measures):
        if m.name in names:
            out.append(("measures", i, "name", f"measure {m.name!r} is defined twice (also measures[{names[m.name]}])"))
        names.setdefault(m.name, i)
    groups = {m.group for m in measures if m.group}
    for i, m in enumerate(measures):
        for fld in ("products", "exclude"):
            for ref in getattr(m, fld) or ():
                if not _is_code(ref) and ref not in list_names:
                    out.append(("measures", i, fld, f"unknown product list {ref!r}; defined lists: {sorted(list_names) or 'none'}"))
        for ref in m.replaces:
            if ref not in names and ref not in groups:
                out.append(("measures", i, "replaces", f"unknown measure or group {ref!r}"))
        if m.group and m.group in names:
            out.append(("measures", i, "group", f"group {m.group!r} has the name of a measure; names must differ"))
    graph = graphlib.TopologicalSorter()
    members: dict[str, list[str]] = {}
    for m in measures:
        if m.group:
            members.setdefault(m.group, []).append(m.name)
    for m in measures:
        targets = [t for ref in m.replaces for t in members.get(ref, [ref])]
        graph.add(m.name, *[t for t in targets if t != m.name])
    try:
        graph.prepare()
    except graphlib.CycleError as err:
        cycle = err.args[1]
        i = names.get(cycle[0], 0)
        out.append(("measures", i, "replaces", "replaces forms a cycle: " + " -> ".join(cycle)))
    return out


@dataclass(frozen=True)
class _Plan:
    """Products broken into atoms, and how to average atoms back to products."""

    products: np.ndarray  # [product]
    atoms: np.ndarray  # [atom]; equal to products when nothing is split
    parent: np.ndarray | None  # [atom] index of the product; None when atoms are the products
    weights: np.ndarray | None  # [atom] or [atom, exporter, importer]


@dataclass(frozen=True)
class TariffSchedule:
    """A set of measures and the product lists they refer to.

    Parameters
    ----------
    measures : sequence of Measure
    product_lists : sequence of ProductList
    name, description, source : str
        Identification; ``source`` is the file it was read from.

    Examples
    --------
    >>> s = TariffSchedule([Measure("a", "USA", 0.25, "2025-01-01", exporters=["CHN"])])
    >>> s.rate("2025-06-01", "9503", "CHN", "USA")
    0.25
    """

    measures: tuple[Measure, ...]
    product_lists: Mapping[str, ProductList] = field(default_factory=dict)
    name: str = ""
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        measures = tuple(self.measures)
        lists = list(self.product_lists.values()) if isinstance(self.product_lists, Mapping) else list(self.product_lists)
        bad = [m for m in measures if not isinstance(m, Measure)] + [p for p in lists if not isinstance(p, ProductList)]
        if bad:
            raise InputError(f"expected Measure and ProductList objects, got {type(bad[0]).__name__}", key="schedule")
        problems = _schedule_problems(measures, lists)
        if problems:
            raise _FieldErrors([(f"{t}[{i}].{f}", m) for t, i, f, m in problems], source=self.source or None)
        object.__setattr__(self, "measures", measures)
        object.__setattr__(self, "product_lists", MappingProxyType({p.name: p for p in lists}))
        members: dict[str, list[int]] = {}
        for i, m in enumerate(measures):
            if m.group:
                members.setdefault(m.group, []).append(i)
        object.__setattr__(self, "_members", members)
        object.__setattr__(self, "_code_cache", {})

    def __repr__(self) -> str:
        return (
            f"TariffSchedule({self.name or 'unnamed'!r}: {len(self.measures)} measures, "
            f"{len(self.product_lists)} product lists)"
        )

    # -- lookups ---------------------------------------------------------------

    @classmethod
    def from_file(cls, path) -> TariffSchedule:
        """Read a schedule from a TOML file (see `tradesim.io.schedule`)."""
        from .io.schedule import read_schedule

        return read_schedule(path)

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise InputError(f"no measure {name!r} in the schedule; measures: {[m.name for m in self.measures]}", key="measure")

    def in_force(self, date) -> list[str]:
        """Names of the measures in force on `date`."""
        d = to_date(date)
        return [m.name for m in self.measures if m.in_force(d)]

    def change_dates(self) -> list[_dt.date]:
        """Sorted days on which some measure starts or ends: the rates are constant between them."""
        return sorted({m.start for m in self.measures} | {m.end for m in self.measures if m.end})

    def to_frame(self) -> pd.DataFrame:
        """One row per measure: name, kind, authority, importer, exporters, products, rate_pct, dates."""
        rows = [
            {
                "measure": m.name,
                "kind": m.kind,
                "authority": m.authority,
                "importer": m.importer,
                "exporters": "all" if m.exporters is None else " ".join(m.exporters),
                "except_exporters": " ".join(m.except_exporters),
                "products": "all" if m.products is None else " ".join(m.products),
                "exclude": " ".join(m.exclude),
                "rate_pct": 100 * m.rate,
                "by_product": bool(m.product_rates),
                "coverage_pct": 100 * m.coverage,
                "announced": m.announced,
                "start": m.start,
                "end": m.end,
                "replaces": " ".join(m.replaces),
                "group": m.group or "",
                "layer": m.layer_name,
            }
            for m in self.measures
        ]
        return pd.DataFrame(rows)

    def _codes(self, refs: Iterable[str]) -> list[str]:
        """HS codes of a mix of codes and list names."""
        out: list[str] = []
        for r in refs:
            out += [r] if _is_code(r) else list(self.product_lists[r].codes)
        return out

    def _codes_of(self, importers: np.ndarray) -> list[str]:
        """HS codes that the measures of `importers` use: only these can split a product."""
        key = tuple(sorted(set(importers.tolist())))
        if key not in self._code_cache:
            self._code_cache[key] = self._all_codes([m for m in self.measures if m.importer in key])
        return self._code_cache[key]

    def _all_codes(self, measures) -> list[str]:
        codes: set[str] = set()
        for m in measures:
            codes.update(self._codes(m.products or ()))
            codes.update(self._codes(m.exclude))
            codes.update(m.product_rates or ())
        return sorted(codes)

    # -- evaluation ------------------------------------------------------------

    def _plan(self, products: np.ndarray, exporters: np.ndarray, importers: np.ndarray, fine_values) -> _Plan:
        """Split products that the schedule's codes cover only in part into atoms with weights."""
        codes = self._codes_of(importers)
        lengths = np.char.str_len(products) if products.size else np.zeros(0, int)
        split = np.zeros(products.shape, dtype=bool)
        for n in np.unique(lengths):
            finer = {c[:n] for c in codes if len(c) > n}
            if finer:
                split |= (lengths == n) & np.isin(products, list(finer))
        if not split.any():
            return _Plan(products, products, None, None)
        pairs = (exporters.size, importers.size)
        fine = _fine_table(fine_values, exporters, importers)
        pair_weights = fine is not None and fine[1].ndim == 3

        def equal(n: int) -> np.ndarray:  # equal weights, per pair when the given weights are per pair
            return np.ones((n,) + (pairs if pair_weights else ()))

        todo = np.flatnonzero(split)
        parts = [(np.flatnonzero(~split), products[~split], equal(int((~split).sum())))]
        n_exact = 0
        if fine is not None:
            fcodes, fw = fine
            parent, idx = _expand(fcodes, products[todo])
            finer = np.char.str_len(fcodes[idx]) > np.char.str_len(products[todo][parent])
            parent, idx = parent[finer], idx[finer]
            mass = np.bincount(parent, weights=fw[idx].reshape(idx.size, -1).sum(axis=1), minlength=todo.size)
            exact = mass[parent] > 0
            parts.append((todo[parent[exact]], fcodes[idx[exact]], fw[idx[exact]]))
            n_exact = int((mass > 0).sum())
            todo = todo[mass <= 0]
        if todo.size:
            # Fallback: equal weights on the HS 2022 subheadings; a product of 6+ digits stays whole.
            short = np.char.str_len(products[todo]) < 6
            subs = hs_subheadings()
            parent, idx = _expand(subs, products[todo[short]])
            covered = np.bincount(parent, minlength=int(short.sum())) > 0
            whole = np.concatenate([todo[~short], todo[short][~covered]])
            parts.append((todo[short][parent], subs[idx], equal(idx.size)))
            parts.append((whole, products[whole], equal(whole.size)))
        _warn_split(products[split], n_exact, int(split.sum()) - n_exact)
        parent = np.concatenate([p[0] for p in parts])
        return _Plan(
            products,
            np.concatenate([p[1].astype(str) for p in parts]),
            parent,
            np.concatenate([p[2] for p in parts]),
        )

    def _layers(self, date: _dt.date, atoms: np.ndarray, exporters: np.ndarray, importer: str) -> list[dict]:
        """Per measure of `importer`: in force, the masks and shares on ``[atom, exporter]``.

        Keys: ``measure``, ``active``, ``selected`` [atom] (products before exclusions),
        ``exempt`` [atom], ``exporter`` [exporter], ``eligible`` [atom, exporter] (coverage
        whatever the date), ``share`` (the same, zero when not in force), ``applied`` [atom, exporter] (share after replacement),
        ``rate`` [atom], ``contribution`` [atom, exporter] (after group maxima) and
        ``outweighed`` [atom, exporter] (applied but beaten within its group).
        """
        return self._stack(self._masks(atoms, exporters, importer), date)

    def _masks(self, atoms: np.ndarray, exporters: np.ndarray, importer: str) -> list[dict]:
        """The date-independent part of `_layers`: what each measure of `importer` covers and at what rate."""
        out = []
        for m in (m for m in self.measures if m.importer == importer):
            selected = np.ones(atoms.shape, bool) if m.products is None else _prefix_mask(atoms, self._codes(m.products), finer=True)
            if m.product_rates and m.products is not None:
                selected |= _prefix_mask(atoms, list(m.product_rates), finer=True)
            exempt = selected & _prefix_mask(atoms, self._codes(m.exclude), finer=True) if m.exclude else np.zeros(atoms.shape, bool)
            exp = m._exporter_mask(exporters)
            eligible = ((selected & ~exempt)[:, None] & exp[None, :]) * m.coverage
            out.append(dict(measure=m, selected=selected, exempt=exempt, exporter=exp, eligible=eligible,
                            rate=m._rates(atoms)))
        return out

    def _stack(self, masks: list[dict], date: _dt.date) -> list[dict]:
        """Apply dates, replacement and group maxima to the masks of `_masks`."""
        layers = []
        for static in masks:
            active = static["measure"].in_force(date)
            layers.append(dict(static, active=active,
                               share=static["eligible"] if active else np.zeros_like(static["eligible"])))
        by_name = {layer["measure"].name: layer for layer in layers}
        members: dict[str, list[str]] = {}
        for layer in layers:
            if layer["measure"].group:
                members.setdefault(layer["measure"].group, []).append(layer["measure"].name)
        displaced: dict[str, list[str]] = {}
        for layer in layers:
            for ref in layer["measure"].replaces:
                for target in members.get(ref, [ref]):
                    displaced.setdefault(target, []).append(layer["measure"].name)
        for layer in layers:
            keep = np.ones_like(layer["share"])
            for other in displaced.get(layer["measure"].name, []):
                if other in by_name:
                    keep *= 1.0 - by_name[other]["share"]
            layer["applied"] = layer["share"] * keep
            layer["contribution"] = layer["applied"] * layer["rate"][:, None]
            layer["outweighed"] = np.zeros(layer["share"].shape, bool)
        for names in members.values():
            group = [by_name[n] for n in names]
            stack = np.stack([g["contribution"] for g in group])
            winner = stack.argmax(axis=0)
            for pos, g in enumerate(group):
                lost = (winner != pos) & (g["applied"] > 0)
                g["outweighed"] = lost
                g["contribution"] = np.where(lost, 0.0, g["contribution"])
        return layers

    def rates(
        self,
        date,
        products: Iterable[str],
        exporters: Iterable[str],
        importers: Iterable[str],
        *,
        fine_values=None,
        kinds: Iterable[str] | None = None,
        layers: Iterable[str] | None = None,
    ) -> np.ndarray:
        """Total ad valorem rate of every product, exporter and importer on `date`.

        Parameters
        ----------
        date : date or str
            The day.
        products : iterable of str
            HS codes of any length, shape ``[product]``.
        exporters, importers : iterable of str
            Country codes, shapes ``[exporter]`` and ``[importer]``.
        fine_values : pandas.Series, pandas.DataFrame or Baseline, optional
            Trade values at a finer product level, for exact shares where a measure
            covers a product only in part: a Series indexed by HS code; a frame with
            columns ``product``, ``value`` and optionally ``exporter`` and
            ``importer``; or a finer `Baseline`. Without it, the subheading-count
            fallback applies (see the module notes).
        kinds : iterable of str, optional
            Sum only layers of these kinds (``"mfn"``, ``"additional"``).
        layers : iterable of str, optional
            Sum only these measures or groups (stacking still sees all measures).

        Returns
        -------
        numpy.ndarray of float64, shape ``[product, exporter, importer]``
            Fractions (1.45 is 145%).

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> s.rates("2025-03-01", ["9503"], ["CHN", "VNM"], ["USA"])[:, :, 0].tolist()
        [[0.1, 0.0]]
        """
        d = to_date(date)
        prods, exps, imps = _labels(products, "products"), _labels(exporters, "exporters"), _labels(importers, "importers")
        plan = self._plan(prods, exps, imps, fine_values)
        keep = self._keep(kinds, layers)
        return self._evaluate([d], plan, exps, imps, keep)[0]

    def rates_path(self, dates, products: Iterable[str], exporters: Iterable[str], importers: Iterable[str], *,
                   fine_values=None) -> np.ndarray:
        """`rates` on several dates at once, sharing the work that does not depend on the date.

        Returns
        -------
        numpy.ndarray of float64, shape ``[date, product, exporter, importer]``
            Fractions.

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> s.rates_path(["2025-01-01", "2025-03-01"], ["9503"], ["CHN"], ["USA"]).ravel().tolist()
        [0.0, 0.1]
        """
        days = [to_date(d) for d in dates]
        prods, exps, imps = _labels(products, "products"), _labels(exporters, "exporters"), _labels(importers, "importers")
        plan = self._plan(prods, exps, imps, fine_values)
        return self._evaluate(days, plan, exps, imps, self._keep(None, None))

    def layer_rates(self, dates, products: Iterable[str], exporter: str, importer: str, *,
                    fine_values=None) -> pd.DataFrame:
        """Each measure's part of the rate on one pair's products, on each date.

        The parts are what `explain` calls contributions: after exemptions, replacement and
        group maxima, so over the measures of a date and product they sum to `rates`.

        Parameters
        ----------
        dates : iterable of date or str
        products : iterable of str
            HS codes, shape ``[product]``.
        exporter, importer : str
            Country codes.
        fine_values : optional
            As in `rates`.

        Returns
        -------
        pandas.DataFrame
            One row per date, measure of `importer` and product: ``date``, ``measure``,
            ``layer`` (`Measure.layer_name`), ``product`` and ``rate`` (fraction).

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"], layer="IEEPA"),
        ...                     Measure("b", "USA", 0.25, "2025-03-01", products=["72"])])
        >>> s.layer_rates(["2025-03-01"], ["72", "95"], "CHN", "USA")["rate"].tolist()
        [0.1, 0.1, 0.25, 0.0]
        """
        days = [to_date(d) for d in dates]
        prods, exps, imps = _labels(products, "products"), _labels([exporter], "exporter"), _labels([importer], "importer")
        plan = self._plan(prods, exps, imps, fine_values)
        masks = self._masks(plan.atoms, exps, importer)
        parts = np.zeros((len(days), len(masks), prods.size))
        for t, day in enumerate(days):  # dates, not products
            layers = self._stack(masks, day)
            atoms = np.stack([layer["contribution"][:, 0] * layer["active"] for layer in layers], axis=1) if layers \
                else np.zeros((plan.atoms.size, 0))
            parts[t] = _aggregate(atoms[:, :, None], plan)[:, :, 0].T
        measures = [m["measure"] for m in masks]
        t, m, k = np.indices(parts.shape).reshape(3, -1)
        return pd.DataFrame({
            "date": np.asarray(days, dtype=object)[t],
            "measure": np.asarray([x.name for x in measures], dtype=object)[m],
            "layer": np.asarray([x.layer_name for x in measures], dtype=object)[m],
            "product": prods[k],
            "rate": parts.ravel(),
        })

    def _evaluate(self, days, plan: _Plan, exps: np.ndarray, imps: np.ndarray, keep) -> np.ndarray:
        """Rates ``[date, product, exporter, importer]``; the masks are built once for all dates."""
        imposing = {m.importer for m in self.measures}
        masks = {j: self._masks(plan.atoms, exps, imp) for j, imp in enumerate(imps) if imp in imposing}
        out = np.zeros((len(days), plan.products.size, exps.size, imps.size))
        totals = {}  # an importer's rates depend on the date only through which of its measures are in force
        for t, day in enumerate(days):  # dates, not products
            # without split products the atoms are the products: fill the output in place
            atoms = out[t] if plan.parent is None else np.zeros((plan.atoms.size, exps.size, imps.size))
            for j, layers in masks.items():
                key = (j, tuple(layer["measure"].in_force(day) for layer in layers))
                if key not in totals:
                    total = np.zeros((plan.atoms.size, exps.size))
                    for layer in self._stack(layers, day):
                        if layer["active"] and keep(layer["measure"]):
                            total += layer["contribution"]
                    totals[key] = total
                atoms[:, :, j] = totals[key]
            if plan.parent is not None:
                out[t] = _aggregate(atoms, plan)
        return out

    def _keep(self, kinds, layers):
        kinds = None if kinds is None else set(_tuple(kinds))
        if kinds is not None and not kinds <= set(KINDS):
            raise InputError(f"unknown layer kinds {sorted(kinds - set(KINDS))}: expected {list(KINDS)}", key="kinds")
        names = None if layers is None else set(_tuple(layers))
        if names is not None:
            known = {m.name for m in self.measures} | set(self._members)
            if names - known:
                raise InputError(f"unknown measures or groups {sorted(names - known)}", key="layers")

        def keep(m: Measure) -> bool:
            return (kinds is None or m.kind in kinds) and (names is None or m.name in names or m.group in names)

        return keep

    def rate(self, date, product: str, exporter: str, importer: str, *, fine_values=None, **kw) -> float:
        """Total ad valorem rate (fraction) of one product from `exporter` into `importer` on `date`."""
        return float(self.rates(date, [product], [exporter], [importer], fine_values=fine_values, **kw)[0, 0, 0])

    def explain(self, date, product: str, exporter: str, importer: str, *, fine_values=None) -> pd.DataFrame:
        """Every measure of `importer` and what it did to one product on `date`, with the total.

        Returns
        -------
        pandas.DataFrame
            One row per measure and outcome, then a ``total`` row. Columns:
            ``measure``, ``kind``, ``authority``, ``group``, ``status`` (``applied``,
            ``replaced by ...``, ``exempted by ...``, ``outweighed in group ...``,
            ``product not covered``, ``exporter not covered``, ``not in force``),
            ``share`` (of the product's trade, 0-1), ``rate_pct`` (statutory rate),
            ``contribution_pct`` (percentage points added to the total), ``start``, ``end``.
        """
        d = to_date(date)
        prods, exps, imps = _labels([product], "product"), _labels([exporter], "exporter"), _labels([importer], "importer")
        plan = self._plan(prods, exps, imps, fine_values)
        w = np.ones(plan.atoms.size) if plan.weights is None else plan.weights.reshape(plan.atoms.size, -1)[:, 0]
        w = w / w.sum() if w.sum() > 0 else np.full(w.shape, 1 / w.size)
        layers = self._layers(d, plan.atoms, exps, importer)
        rows = []
        for layer in layers:
            m = layer["measure"]
            base = dict(measure=m.name, kind=m.kind, authority=m.authority, group=m.group or "", start=m.start, end=m.end)

            def row(status, mask_share, rate=None, contribution=0.0):
                share = float(w @ mask_share)
                if rate is None:
                    rate = float(w @ (mask_share * layer["rate"]) / share) if share > 0 else float(np.mean(layer["rate"]))
                rows.append(dict(base, status=status, share=share, rate_pct=100 * rate, contribution_pct=100 * contribution))

            if not layer["exporter"][0]:
                row("exporter not covered", np.ones(plan.atoms.size))
                continue
            if not layer["active"]:
                if layer["selected"].any():
                    row("not in force", layer["selected"].astype(float))
                else:
                    row("product not covered", np.ones(plan.atoms.size))
                continue
            applied, share = layer["applied"][:, 0], layer["share"][:, 0]
            lost = layer["outweighed"][:, 0]
            won = np.where(lost, 0.0, applied)
            if won.any():
                row("applied", won, contribution=float(w @ layer["contribution"][:, 0]))
            if lost.any():
                row(f"outweighed in group {m.group}", np.where(lost, applied, 0.0))
            if (share - applied > 1e-15).any():
                rivals = [
                    o["measure"].name for o in layers
                    if o is not layer and (m.name in o["measure"].replaces or (m.group and m.group in o["measure"].replaces))
                    and o["active"] and (o["share"][:, 0] * share > 0).any()
                ]
                row("replaced by " + ", ".join(rivals), share - applied)
            exempt = layer["exempt"] & layer["exporter"][0]
            if exempt.any():
                lists = [r for r in m.exclude if (_prefix_mask(plan.atoms, self._codes([r]), finer=True) & exempt).any()]
                row("exempted by " + ", ".join(lists), exempt.astype(float))
            uncovered = (~layer["selected"]).astype(float) + layer["selected"] * (~layer["exempt"]) * (1 - m.coverage)
            if (uncovered > 0).any():
                row("product not covered", uncovered)
        atoms_total = sum((layer["contribution"] for layer in layers if layer["active"]), np.zeros((plan.atoms.size, 1)))
        total = 100 * float(_aggregate(atoms_total[:, :, None], plan)[0, 0, 0])
        rows.append(dict(measure="total", kind="", authority="", group="", status="", share=1.0, rate_pct=np.nan,
                         contribution_pct=total, start=None, end=None))
        cols = ["measure", "kind", "authority", "group", "status", "share", "rate_pct", "contribution_pct", "start", "end"]
        return pd.DataFrame(rows, columns=cols)

def _labels(values, key: str) -> np.ndarray:
    values = [values] if isinstance(values, str) else list(values)
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InputError(f"{bad[0]!r} is a {type(bad[0]).__name__}: expected codes as strings", key=key)
    if key.startswith("product"):
        if p := _codes_problem(values):
            raise InputError(p, key=key)
    else:
        bad = [p for c in dict.fromkeys(values) if (p := _country_problem(c, COUNTRY_GROUPS))]
        if bad:
            raise InputError("; ".join(bad), key=key)
    return np.asarray(values, dtype=str)


def _fine_table(fine_values, exporters: np.ndarray, importers: np.ndarray):
    """(codes [fine], weights [fine] or [fine, exporter, importer]) from the forms `rates` accepts."""
    from .baseline import Baseline

    if fine_values is None:
        return None
    if isinstance(fine_values, Baseline):
        ei = [fine_values.countries.index(c) if c in fine_values.countries else -1 for c in exporters]
        ij = [fine_values.countries.index(c) if c in fine_values.countries else -1 for c in importers]
        w = fine_values.flows[:, ei][:, :, ij] * (np.asarray(ei) >= 0)[None, :, None] * (np.asarray(ij) >= 0)[None, None, :]
        return np.asarray(fine_values.products, dtype=str), w
    if isinstance(fine_values, pd.Series):
        frame = pd.DataFrame({"product": fine_values.index.astype(str), "value": fine_values.to_numpy()})
    elif isinstance(fine_values, pd.DataFrame):
        frame = fine_values
    else:
        raise InputError(
            f"fine_values is a {type(fine_values).__name__}: expected a pandas Series, a DataFrame or a Baseline",
            key="fine_values",
        )
    missing = [c for c in ("product", "value") if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing}; it has {list(frame.columns)}", key="fine_values")
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame.index[values.isna() | (values < 0)]
    if len(bad):
        raise InputError(f"value {frame['value'][bad[0]]!r} at row {bad[0]} is not a number >= 0", key="fine_values")
    if p := _codes_problem(list(frame["product"])):
        raise InputError(p, key="fine_values.product")
    if "exporter" in frame.columns and "importer" in frame.columns:
        codes, f_idx = np.unique(frame["product"].to_numpy(str), return_inverse=True)
        e_idx = pd.Index(exporters).get_indexer(frame["exporter"])
        i_idx = pd.Index(importers).get_indexer(frame["importer"])
        ok = (e_idx >= 0) & (i_idx >= 0)
        w = np.zeros((codes.size, exporters.size, importers.size))
        np.add.at(w, (f_idx[ok], e_idx[ok], i_idx[ok]), values.to_numpy()[ok])
        return codes, w
    grouped = values.groupby(frame["product"].astype(str)).sum()
    return grouped.index.to_numpy(str), grouped.to_numpy(float)


def _expand(sorted_codes: np.ndarray, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (prefix index, code index) pairs where a code starts with a prefix, without loops.

    `sorted_codes` must be sorted; the codes under a prefix form one contiguous run
    from ``prefix`` to ``prefix + "A"`` ("A" sorts after every digit).
    """
    lo = np.searchsorted(sorted_codes, prefixes, side="left")
    hi = np.searchsorted(sorted_codes, np.char.add(prefixes.astype(str), "A"), side="left")
    counts = hi - lo
    parent = np.repeat(np.arange(prefixes.size), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return parent, np.repeat(lo, counts) + offsets


def _warn_split(products: np.ndarray, n_exact: int, n_count: int) -> None:
    shown = ", ".join(repr(str(p)) for p in products[:5]) + (", ..." if products.size > 5 else "")
    parts = []
    if n_exact:
        parts.append(f"the finer trade values given (fine_values) for {n_exact}")
    if n_count:
        parts.append(
            f"equal weights on their HS 2022 subheadings for {n_count} (the fallback: a national line counts "
            "as its whole subheading; pass fine_values for exact value shares)"
        )
    warnings.warn(
        f"measures cover {products.size} product(s) only in part ({shown}); shares of their trade come from "
        + " and ".join(parts),
        TradesimWarning,
        stacklevel=4,
    )


def _sum_by(parent: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Rows of `values` ``[atom, ...]`` summed into ``[n, ...]`` by `parent`, as one sparse product
    (``np.add.at`` does the same an element at a time, ten times slower)."""
    from scipy import sparse

    atoms = parent.size
    total = sparse.csr_matrix((np.ones(atoms), (parent, np.arange(atoms))), shape=(n, atoms))
    return np.asarray(total @ values.reshape(atoms, -1)).reshape((n,) + values.shape[1:])


def _aggregate(values: np.ndarray, plan: _Plan) -> np.ndarray:
    """Average atoms ``[atom, exporter, importer]`` back to products with the plan's weights."""
    if plan.parent is None:
        return values
    w = plan.weights if plan.weights.ndim == 3 else plan.weights[:, None, None]
    n = plan.products.size
    num = _sum_by(plan.parent, values * w, n)
    den = _sum_by(plan.parent, np.asarray(w, dtype=float), n)
    if den.ndim == 3 and (den == 0).any():
        # A pair with no finer trade in a product: average its atoms with equal weights.
        eq_num = _sum_by(plan.parent, values, n)
        count = np.bincount(plan.parent, minlength=n)[:, None, None]
        return np.where(den > 0, num / np.where(den > 0, den, 1), eq_num / count)
    return num / den


def effective_rate(
    schedule: TariffSchedule,
    baseline,
    date,
    importer: str,
    exporter: str | Iterable[str] | None = None,
    *,
    fine_values=None,
    kinds: Iterable[str] | None = None,
) -> float:
    """Trade-weighted statutory rate of `importer` on `date`: the trackers' pre-substitution rate.

    ``sum(rate * flows) / sum(flows)`` over the baseline's products and the chosen
    exporters, with baseline flows as weights (no substitution).

    Parameters
    ----------
    schedule : TariffSchedule
    baseline : Baseline
        Its flows ``[product, exporter, importer]`` are the weights.
    date : date or str
    importer : str
    exporter : str or iterable of str, optional
        One or several exporters; all but the importer itself when None.
    fine_values, kinds
        As in `TariffSchedule.rates`.

    Returns
    -------
    float
        A fraction (0.2 is 20%).

    Examples
    --------
    >>> from tradesim import load_baseline
    >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
    >>> round(effective_rate(s, load_baseline("demo-2024"), "2025-03-01", "USA", "CHN"), 3)
    0.1
    """
    from .codes import validate_country

    validate_country(importer, groups=baseline.groups, key="importer")
    if importer not in baseline.countries:
        raise InputError(f"importer {importer!r} is not in the baseline; it has {list(baseline.countries)}", key="importer")
    if exporter is None:
        exporters = [c for c in baseline.countries if c != importer]
    else:
        exporters = _tuple(exporter)
        missing = [c for c in exporters if c not in baseline.countries]
        if missing:
            raise InputError(f"exporters {missing} are not in the baseline; it has {list(baseline.countries)}", key="exporter")
    j = baseline.countries.index(importer)
    idx = [baseline.countries.index(c) for c in exporters]
    flows = baseline.flows[:, idx, j]
    if flows.sum() <= 0:
        raise InputError(f"no baseline trade from {list(exporters)} into {importer} to weight by", key="exporter")
    rates = schedule.rates(date, baseline.products, exporters, [importer], fine_values=fine_values, kinds=kinds)[:, :, 0]
    return float((rates * flows).sum() / flows.sum())
