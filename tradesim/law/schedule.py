"""Tariff schedules: a set of measures and product lists, evaluated into rates on any date.

A `TariffSchedule` is a set of `Measure` layers and the `ProductList` objects they name. Its
`rates` are the ``[product, exporter, importer]`` totals on a date: products are split into
atoms where the law is finer than them (`tradesim.law.atoms`), every measure of an importer is
stacked by the rules of `tradesim.law.stacking`, and the atoms are averaged back to the
products. `explain` says what every measure did to one product and pair.

Rates are fractions (0.25 is 25%). Dates are days; ``end`` is the first day on which a measure
no longer applies (legal texts say "until 12:01 am on" that day).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import sparse

from ..data.layout import Cells
from ..errors import InputError, TradesimWarning
from ..files import parse_date, warn_at_caller
from ..kept import freeze, mask_key
from . import stacking
from .atoms import Atoms, Parts, aggregate, aggregate_cells, halt_mean, labels, part_shares, partition, split
from .compile import Compiled, codes_used, compile_law, references
from .checks import is_code, resolved_dates, schedule_problems
from .explain import explain
from .fields import KINDS, MEASURE_FIELDS, FieldErrors, to_text
from .file import read_parts
from .lists import ProductList
from .measure import Measure

__all__ = ["TariffSchedule", "effective_rate", "read_schedule"]

#: Bytes of an importer's compiled law, and of its totals, that a schedule keeps for runs on the same inputs.
_KEEP_BYTES = 2**26


@dataclass(frozen=True)
class TariffSchedule:
    """A set of measures and the product lists they refer to.

    Parameters
    ----------
    measures : sequence of Measure
    product_lists : sequence or mapping of ProductList
    name, description, source : str
        Identification; ``source`` is the file it was read from.
    as_of : date, optional
        The day its facts were compiled.
    version, licence, notes : str
    sources : tuple of str
        Citations.

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
    as_of: _dt.date | None = None
    version: str = ""
    licence: str = ""
    sources: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        measures = tuple(self.measures)
        lists = list(self.product_lists.values()) if isinstance(self.product_lists, Mapping) else list(self.product_lists)
        bad = [m for m in measures if not isinstance(m, Measure)] + [p for p in lists if not isinstance(p, ProductList)]
        if bad:
            raise InputError(f"expected Measure and ProductList objects, got {type(bad[0]).__name__}", key="schedule")
        problems = schedule_problems(measures, lists)
        if problems:
            raise FieldErrors([(f"{t}[{i}].{f}", m) for t, i, f, m in problems], source=self.source or None)
        by_name = {m.name: m for m in measures}
        measures = tuple(dataclasses.replace(m, start=s, end=e) if m.follows else m
                         for m in measures for s, e in [resolved_dates(m, by_name)])
        put = object.__setattr__
        put(self, "measures", measures)
        put(self, "product_lists", MappingProxyType({p.name: p for p in lists}))
        put(self, "sources", tuple(self.sources))
        if self.as_of is not None:
            put(self, "as_of", parse_date(self.as_of, key="as_of"))
        members: dict[str, list[str]] = {}
        for m in measures:
            if m.group:
                members.setdefault(m.group, []).append(m.name)
        put(self, "_members", members)
        put(self, "_cache", {})

    def __repr__(self) -> str:
        return (f"TariffSchedule({self.name or 'unnamed'!r}: {len(self.measures)} measures, "
                f"{len(self.product_lists)} product lists)")

    @property
    def provenance(self) -> dict[str, str]:
        """Name, version, as-of date, source file, sources and licence, for results to carry."""
        return {"schedule": self.name, "version": self.version, "as_of": str(self.as_of or ""),
                "file": self.source, "sources": "; ".join(self.sources), "licence": self.licence}

    # -- lookups ---------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path) -> TariffSchedule:
        """Read a schedule from a TOML file and the files it includes (the format: `tradesim.law.file`).

        A file with ``view_of`` and ``pairs`` in its ``[schedule]`` table is the `view` of the
        schedule file it names on those pairs.

        Raises
        ------
        ScenarioError
            Listing every problem (``problems``), each with its file, line and key path.
        """
        return cls._from_file(path, ())

    @classmethod
    def _from_file(cls, path, seen: tuple) -> TariffSchedule:
        measures, lists, info = read_parts(path)
        view = info.pop("view", None)
        if view is None:
            return cls(measures, lists, **info)
        viewed, pairs = view
        seen = (*seen, Path(path).resolve())
        if viewed in seen:
            raise InputError(f"views form a circle: {' -> '.join(p.name for p in (*seen, viewed))}",
                             source=str(path), key="schedule.view_of")
        return cls._from_file(viewed, seen).view(pairs, **info)

    def measure(self, name: str) -> Measure:
        """The measure called `name`."""
        for m in self.measures:
            if m.name == name:
                return m
        raise InputError(f"no measure {name!r} in the schedule; measures: {[m.name for m in self.measures]}",
                         key="measure")

    def in_force(self, date) -> list[str]:
        """Names of the measures in force on `date`."""
        d = parse_date(date)
        return [m.name for m in self.measures if m.in_force(d)]

    def change_dates(self) -> list[_dt.date]:
        """Sorted days on which some measure starts or ends: the rates are constant between them."""
        return sorted({m.start for m in self.measures} | {m.end for m in self.measures if m.end})

    def importers(self) -> list[str]:
        """Countries that impose some measure."""
        return list(dict.fromkeys(m.importer for m in self.measures))

    def to_frame(self) -> pd.DataFrame:
        """One row per measure and one column per field (`tradesim.law.fields.MEASURE_FIELDS`).

        Rates and shares are in percent (columns ending ``_pct``); lists of codes are joined
        with spaces; tables of rates by product or exporter are counted.
        """
        rows = []
        for m in self.measures:
            row = {}
            for f in MEASURE_FIELDS:
                column = "measure" if f.name == "name" else (f"{f.name}_pct" if f.scale == 100 and f.type in
                                                             ("rate", "share") else f.name)
                row[column] = to_text(f, getattr(m, f.name))
            row["layer"] = m.layer_name
            rows.append(row)
        return pd.DataFrame(rows)

    def codes(self, refs: Iterable[str]) -> list[str]:
        """HS codes of a mix of codes and list names."""
        out: list[str] = []
        for r in refs:
            out += [r] if is_code(r) else list(self.product_lists[r].codes)
        return out

    def codes_of(self, importers: Iterable[str]) -> list[str]:
        """HS codes that the measures of `importers` use: only these can split a product."""
        key = ("codes", tuple(sorted(set(importers))))
        if key not in self._cache:  # read once for measures and lists of the same content (`codes_used`)
            self._cache[key] = list(codes_used(self.measures, self.product_lists, key[1]))
        return self._cache[key]

    # -- evaluation ------------------------------------------------------------------------

    def atoms(self, products, exporters, importers, fine_values=None, *, members_checked: bool = False,
              fine_rows=None) -> Atoms:
        """The products split where the law of `importers` is finer than them (see `tradesim.law.atoms`).

        `members_checked` says that the fine values' member column is known to pass
        `tradesim.data.bundled.members_problem` (as `compile_plan` checks it), so it is not checked
        again; `fine_rows` is `fine_values` already read for these exporters and importers
        (`tradesim.law.atoms.fine_rows`)."""
        prods, exps, imps = (labels(products, "products"), labels(exporters, "exporters"),
                             labels(importers, "importers"))
        return split(prods, self.codes_of(imps), exps, imps, fine_values, members_checked, fine_rows)

    def compiled(self, importer: str, atoms: np.ndarray, exporters: np.ndarray, cells=None,
                 reached: bool = False) -> Compiled:
        """`importer`'s measures compiled on `atoms` x `exporters` (see `tradesim.law.compile`).

        `cells` (``[atom, exporter]`` bool) restricts them to some cells (those with trade);
        `reached`, to those that some measure reaches."""
        measures = [m for m in self.measures if m.importer == importer]
        lists = dict(self.product_lists)
        names = tuple(np.asarray(exporters, dtype=str).tolist())
        # the measures' references on this exporter axis do not depend on the atoms: read once per schedule
        key = ("references", importer, names)
        if key not in self._cache:
            self._cache[key] = references(measures, lists, exporters)
        # the importer's last law, kept for runs on the same atoms, exporters and cells (repeats and variants of a
        # scenario): compiling is most of the law's work, and one law per importer bounds the memory kept
        atoms = np.asarray(atoms, dtype=str)
        inputs = (atoms.dtype.str, atoms.shape, atoms.tobytes(), names, reached,
                  None if cells is None else mask_key(cells))
        last = self._cache.get(("compiled", importer))
        if last is not None and last[0] == inputs:
            return last[1]
        law = compile_law(measures, lists, atoms, exporters, self._members, cells, reached, self._cache[key])
        self._cache.pop(("compiled", importer), None)
        if sum(a.nbytes for a in vars(law).values() if isinstance(a, np.ndarray)) <= _KEEP_BYTES:
            self._cache[("compiled", importer)] = [inputs, law, None]  # the law, and its last totals (`_totals`)
        return law

    def _totals(self, importer: str, law: Compiled, active: np.ndarray) -> np.ndarray:
        """`stacking.evaluate` of `law` on the regimes `active` ``[regime, measure]``; the last totals of
        the importer's last law (`compiled`) are kept with it (read-only), for runs on the same days."""
        last = self._cache.get(("compiled", importer))
        key = mask_key(active)
        if last is not None and last[1] is law and last[2] is not None and last[2][0] == key:
            return last[2][1]
        totals = stacking.evaluate(law, active)
        if last is not None and last[1] is law and totals.nbytes <= _KEEP_BYTES:
            last[2] = key, freeze(totals)  # shared by the runs that read it
        return totals

    def _law(self, importer: str, j: int, atoms: Atoms, exps: np.ndarray, wanted=None, reached: bool = False):
        """`importer`'s law on `atoms`, with the members of aggregate exporters where the fine values name them.

        Returns
        -------
        law : Compiled
            On ``atoms x exporters``, or on ``atoms x (exporters and member codes)`` with members.
        cell_atom, cell_exporter : numpy.ndarray of int, ``[cell]``
            The cells that `fold` gives rates on.
        fold : callable
            Totals ``[..., law cell]`` to ``[..., cell]``: the identity without members, else each
            aggregate's cell as its members' value-weighted mean (`tradesim.law.members`).
        average : scipy.sparse matrix or None
            ``[cell, law cell]``, the matrix of `fold` (None without members).
        """
        ex = None if atoms.members is None else atoms.members.expansion(j, exps, atoms.atoms.size, wanted)
        if ex is None:
            law = self.compiled(importer, atoms.atoms, exps, wanted, reached)
            return law, law.cell_atom, law.cell_exporter, (lambda totals: totals), None
        law = self.compiled(importer, atoms.atoms, ex.sources, ex.wanted, reached)
        cell_atom, cell_exporter, average = ex.fold(law.cell_atom, law.cell_exporter)

        def fold(totals: np.ndarray) -> np.ndarray:  # inf where a halted member has value
            lead = totals.shape[:-1]
            flat = totals.reshape(-1, totals.shape[-1])
            return halt_mean(lambda v: np.asarray((average @ v.T).T), flat).reshape(*lead, average.shape[0])

        return law, cell_atom, cell_exporter, fold, average

    def _keep(self, kinds, layers) -> np.ndarray | None:
        """A filter on measures by kind or name/group (None: keep all), checked."""
        kinds = None if kinds is None else set((kinds,) if isinstance(kinds, str) else kinds)
        if kinds is not None and not kinds <= set(KINDS):
            raise InputError(f"unknown layer kinds {sorted(kinds - set(KINDS))}: expected {list(KINDS)}", key="kinds")
        names = None if layers is None else set((layers,) if isinstance(layers, str) else layers)
        if names is not None:
            known = {m.name for m in self.measures} | set(self._members)
            if names - known:
                raise InputError(f"unknown measures or groups {sorted(names - known)}", key="layers")
        if kinds is None and names is None:
            return None
        return lambda m: (kinds is None or m.kind in kinds) and (names is None or m.name in names or m.group in names)

    def _evaluate(self, days, atoms: Atoms, exps: np.ndarray, imps: np.ndarray, keep=None, cells=None,
                  warn: bool = False) -> np.ndarray:
        """Rates ``[date, product, exporter, importer]``: each importer's law is compiled once, on the
        cells asked for, and its regimes (the distinct sets of measures in force) are stacked at once.
        With `warn`, a product halted in part is named in a warning (`_warn_halted`)."""
        out = np.zeros((len(days), atoms.products.size, exps.size, imps.size))
        partly = []  # (importer, [regime, product, exporter] halted share, which regime on each date)
        imposing = set(self.importers())
        for j, importer in enumerate(imps):  # the few countries that impose measures
            if importer not in imposing:
                continue
            wanted = None
            if cells is not None:
                wanted = cells[:, :, j] if atoms.parent is None else cells[atoms.parent, :, j]
                if not wanted.any():
                    continue
            law, cell_atom, cell_exporter, fold, _ = self._law(importer, j, atoms, exps, wanted)
            regimes, which = np.unique(law.active(days), axis=0, return_inverse=True)
            mask = None if keep is None else np.array([keep(m) for m in law.measures], bool)
            raw = stacking.evaluate(law, regimes, mask)  # [regime, law cell]: members apart
            totals = fold(raw)  # [regime, cell]
            out[:, :, :, j] = aggregate_cells(totals, atoms, cell_atom, cell_exporter, exps.size, j)[which.ravel()]
            if warn and np.isinf(raw).any():
                share = aggregate_cells(fold(np.isinf(raw).astype(float)), atoms, cell_atom, cell_exporter,
                                        exps.size, j)
                partly.append((j, share, which.ravel()))
        if partly:
            _warn_halted(partly, atoms, exps, imps, days)
        return out

    def rates(self, date, products: Iterable[str], exporters: Iterable[str], importers: Iterable[str], *,
              fine_values=None, kinds: Iterable[str] | None = None, layers: Iterable[str] | None = None,
              cells: Cells | None = None) -> np.ndarray:
        """Total ad valorem rate of every product, exporter and importer on `date`.

        Parameters
        ----------
        date : date or str
            The day (``YYYY-MM-DD``).
        products : iterable of str
            HS codes of any length, shape ``[product]``.
        exporters, importers : iterable of str
            Country codes, shapes ``[exporter]`` and ``[importer]``.
        fine_values : pandas.Series, pandas.DataFrame or Baseline, optional
            Trade values at a finer product level, for exact shares where a measure covers a
            product only in part: a Series indexed by HS code; a frame with columns
            ``product``, ``value`` and optionally ``exporter`` and ``importer``; or a finer
            `Baseline`. Without it, the subheading-count fallback applies (see
            `tradesim.law.atoms`). A frame may also have a ``member`` column naming, on rows of
            an aggregate exporter (``ROW``, a group), the country inside it whose value the row
            gives: the law then evaluates each member as itself and the aggregate's rate is the
            members' rates weighted by their values (`tradesim.law.members`).
        kinds : iterable of str, optional
            Sum only layers of these kinds (``"mfn"``, ``"additional"``).
        layers : iterable of str, optional
            Sum only these measures or groups (stacking still sees all measures). With `kinds`
            or `layers`, a halt stops trade (``inf``) only when it is among the layers kept.
        cells : tradesim.data.layout.Cells, optional
            Evaluate only these cells of the ``[product, exporter, importer]`` tensor (a sparse
            baseline's cells that trade, ``baseline.sparse_flows.cells``) and return their rates
            alone: time and memory then grow with the cells, and no dense tensor is formed. The
            rate of a cell does not depend on which other cells are asked for.

        Returns
        -------
        numpy.ndarray of float64, shape ``[product, exporter, importer]``, or ``[cell]`` with `cells`
            Fractions (1.45 is 145%); ``inf`` where a halt (``rule = "halt"``) stops all the trade.
            A product halted in part (a halted line inside it) takes the mean over its trade not
            halted, with a warning: a rate by product cannot hold the halt, which `parts_path` and
            scenarios keep apart.

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> s.rates("2025-03-01", ["9503"], ["CHN", "VNM"], ["USA"])[:, :, 0].tolist()
        [[0.1, 0.0]]
        >>> on, _ = Cells.from_coords([0], [0], [0], (1, 2, 1))  # product 0 from CHN to USA only
        >>> s.rates("2025-03-01", ["9503"], ["CHN", "VNM"], ["USA"], cells=on).tolist()
        [0.1]
        """
        d = parse_date(date)
        keep = self._keep(kinds, layers)
        atoms = self.atoms(products, exporters, importers, fine_values)
        exps, imps = labels(exporters, "exporters"), labels(importers, "importers")
        if cells is not None:
            shape = (atoms.products.size, exps.size, imps.size)
            if not isinstance(cells, Cells) or cells.shape != shape:
                got = cells.shape if isinstance(cells, Cells) else type(cells).__name__
                raise InputError(f"is {got}; expected Cells of a [product, exporter, importer] = {shape} tensor",
                                 key="cells")
        atoms.warn(stacklevel=2)
        if cells is not None:
            return self._on_cells(d, atoms, exps, imps, cells, keep)
        return self._evaluate([d], atoms, exps, imps, keep, warn=True)[0]

    def _on_cells(self, day, atoms: Atoms, exps: np.ndarray, imps: np.ndarray, cells: Cells, keep) -> np.ndarray:
        """`_evaluate` on one day at `cells` only, ``[cell]``: each imposing importer's law is compiled on
        its own cells' products and exporters (``[product, exporter]`` at most, never the whole tensor)."""
        out = np.zeros(cells.size)
        partly = []
        K, n, m = cells.shape
        # the cells grouped by importer once (they are sorted by product first)
        order = np.argsort(cells.importer, kind="stable")
        start = np.searchsorted(cells.importer[order], np.arange(m + 1))
        imposing = np.flatnonzero(np.isin(imps, self.importers()))
        for j in imposing[start[imposing + 1] > start[imposing]]:  # the few countries that impose measures
            mine = order[start[j]:start[j + 1]]
            k, i = cells.product[mine], cells.exporter[mine]
            wanted = np.zeros((K, n), bool)
            wanted[k, i] = True
            law, cell_atom, cell_exporter, fold, _ = self._law(
                imps[j], j, atoms, exps, wanted if atoms.parent is None else wanted[atoms.parent])
            regimes, which = np.unique(law.active([day]), axis=0, return_inverse=True)
            mask = None if keep is None else np.array([keep(measure) for measure in law.measures], bool)
            raw = stacking.evaluate(law, regimes, mask)  # [regime, law cell]: members apart
            totals = fold(raw)  # [regime, cell]
            rate = aggregate_cells(totals, atoms, cell_atom, cell_exporter, n, j)[which.ravel()[0]]  # [k, i]
            out[mine] = rate[k, i]
            if np.isinf(raw).any():
                share = aggregate_cells(fold(np.isinf(raw).astype(float)), atoms, cell_atom, cell_exporter, n, j)
                shown = np.zeros_like(share[:1])
                shown[0, k, i] = share[which.ravel()[0]][k, i]  # the cells asked for only
                partly.append((j, shown, np.zeros(1, int)))
        if partly:
            _warn_halted(partly, atoms, exps, imps, [day])
        return out

    def rates_path(self, dates, products: Iterable[str], exporters: Iterable[str], importers: Iterable[str], *,
                   fine_values=None, warn: bool = True, cells=None) -> np.ndarray:
        """`rates` on several dates at once, sharing the work that does not depend on the date.

        Parameters
        ----------
        dates : iterable of date or str
        products, exporters, importers, fine_values
            As in `rates`.
        warn : bool
            Say which weights split products that measures cover only in part.
        cells : numpy.ndarray of bool, ``[product, exporter, importer]``, optional
            Evaluate only these cells (the cells with trade: time and memory then grow with
            them); the others are 0.

        Returns
        -------
        numpy.ndarray of float64, shape ``[date, product, exporter, importer]``
            Fractions; ``inf`` where a halt stops all the trade, as in `rates`.

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> s.rates_path(["2025-01-01", "2025-03-01"], ["9503"], ["CHN"], ["USA"]).ravel().tolist()
        [0.0, 0.1]
        """
        days = [parse_date(d) for d in dates]
        atoms = self.atoms(products, exporters, importers, fine_values)
        if warn:
            atoms.warn(stacklevel=2)
        exps, imps = labels(exporters, "exporters"), labels(importers, "importers")
        if cells is not None:
            cells = np.asarray(cells, bool)
            if cells.shape != (atoms.products.size, exps.size, imps.size):
                raise InputError(f"cells has shape {cells.shape}; expected [product, exporter, importer] = "
                                 f"{(atoms.products.size, exps.size, imps.size)}", key="cells")
        return self._evaluate(days, atoms, exps, imps, cells=cells, warn=warn)

    def parts_path(self, dates, products: Iterable[str], exporters: Iterable[str], importers: Iterable[str], *,
                   fine_values=None, warn: bool = True, cells=None, atoms: Atoms | None = None,
                   on_cells: bool = False) -> Parts:
        """`rates_path` on the parts of products that the law treats alike, for models to solve.

        A product that measures cover only in part is cut into parts: its atoms (finer lines,
        see `tradesim.law.atoms`) with the same rate for every exporter, importer and date form
        one part, with their share of the product's trade.
        Products the law treats as a whole stay one part. The cut follows the whole schedule,
        not `dates`, so a longer or shorter run cuts products the same way; variants of a
        scenario whose laws differ may cut a product differently, and then differ slightly (by
        how the lines' exporter mixes differ) even on days when their tariffs are the same.
        Parameters as in `rates_path`; `atoms`, when given, is `atoms` of the same products,
        exporters, importers and fine values, already split (it is not split again). With
        `on_cells`, the rates are given on the cells the law reaches only (`Parts.cells`), so
        that no ``[date, part, exporter, importer]`` tensor is formed.

        Returns
        -------
        Parts
            ``rates`` is ``[date, part, exporter, importer]`` (``[date, cell]`` with `on_cells`);
            ``Parts.collapse`` with the parts' trade as weights gives back `rates_path`. A part
            that a halt stops is ``inf`` (lines halted on different days are different parts).

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.25, "2025-02-04", products=["850110"])])
        >>> p = s.parts_path(["2025-03-01"], ["8501"], ["CHN"], ["USA"], warn=False)
        >>> p.parent.tolist(), p.rates[0, :, 0, 0].tolist()  # covered and uncovered subheadings apart
        ([0, 0], [0.0, 0.25])
        """
        days = [parse_date(d) for d in dates]
        # the days that cut products: before the first change and every change of the schedule
        changes = self.change_dates()
        cut_days = sorted({*changes, *(d - _dt.timedelta(days=1) for d in changes[:1])}) or days
        if atoms is None:
            atoms = self.atoms(products, exporters, importers, fine_values)
        if warn:
            atoms.warn(stacklevel=2)
        exps, imps = labels(exporters, "exporters"), labels(importers, "importers")
        shape = (exps.size, imps.size)
        if cells is not None:
            cells = np.asarray(cells, bool)
            if cells.shape != (atoms.products.size, *shape):
                raise InputError(f"cells has shape {cells.shape}; expected [product, exporter, importer] = "
                                 f"{(atoms.products.size, *shape)}", key="cells")
        if atoms.parent is None:  # nothing cut: a part is a product
            rates = self._evaluate(days, atoms, exps, imps, cells=cells)
            whole = Parts(atoms.products, np.arange(atoms.products.size), np.ones((atoms.products.size, *shape)), rates)
            if not on_cells:
                return whole
            on = np.flatnonzero((rates.reshape(len(days), -1) != 0).any(axis=0))
            return dataclasses.replace(whole, rates=rates.reshape(len(days), -1)[:, on], cells=on)
        laws = []  # (importer, law, totals [regime, cell], which [date])
        imposing = set(self.importers())
        for j, importer in enumerate(imps):
            if importer not in imposing:
                continue
            wanted = None if cells is None else cells[atoms.parent, :, j]
            if wanted is not None and not wanted.any():
                continue
            law, cell_atom, cell_exporter, fold, _ = self._law(importer, j, atoms, exps, wanted,
                                                               reached=True)  # the rates that can be nonzero
            regimes, which = np.unique(law.active([*days, *cut_days]), axis=0, return_inverse=True)
            laws.append((j, (cell_atom, cell_exporter), fold(self._totals(importer, law, regimes)), which.ravel()))
        # Atoms with equal law have equal projections of their rates over (change day, exporter, importer)
        # on random weights: two projections, seeded, so a chance collision of unequal atoms is negligible.
        rng = np.random.default_rng(20250402)
        signature = np.zeros((atoms.atoms.size, 2))
        for j, law, totals, which in laws:
            weights = rng.random((2, len(cut_days), exps.size))
            by_regime = np.zeros((2, totals.shape[0], exps.size))
            np.add.at(by_regime, (slice(None), which[len(days):]), weights)
            halted = np.isinf(totals)
            if halted.any():  # a halt as a rate no measure gives (rates are >= 0), so halts on other days differ
                totals = np.where(halted, -1.0, totals)
            for m in range(2):
                contribution = (totals * by_regime[m][:, law[1]]).sum(axis=0)
                signature[:, m] += np.bincount(law[0], weights=contribution, minlength=atoms.atoms.size)
        part_of_atom, parent, representative = partition(atoms, signature)
        is_rep = np.zeros(atoms.atoms.size, bool)
        is_rep[representative] = True
        on, rates = [np.zeros(0, np.int64)], [np.zeros((len(days), 0))]  # the parts' cells the law reaches
        for j, law, totals, which in laws:
            cell_atom, cell_exporter = law
            take = is_rep[cell_atom]  # one atom per part: each (part, exporter, importer) once
            on.append((part_of_atom[cell_atom[take]] * exps.size + cell_exporter[take]) * imps.size + j)
            rates.append(totals[:, take][which[:len(days)]])
        on = np.concatenate(on)
        order = np.argsort(on, kind="stable")
        out = Parts(atoms.products, parent, part_shares(atoms, part_of_atom, parent, shape),
                    np.concatenate(rates, axis=1)[:, order], on[order])
        return out if on_cells else dataclasses.replace(out, rates=out.dense_rates(), cells=None)

    def rate_table(self, baseline, importer: str, start=None, end=None, *, by: str = "partner",
                   fine_values=None) -> pd.DataFrame:
        """Trade-weighted rates of `importer` at every date its law changes: the trackers' table.

        Statutory rates in force, weighted by the baseline's imports (before substitution), as
        `effective_rate` computes them for one date.

        Parameters
        ----------
        baseline : Baseline
            Its imports into `importer` are the weights.
        importer : str
        start, end : date or str, optional
            The first and last day of the table; the table has a row on `start` and on every day
            the importer's law changes up to `end` (by default the baseline's year end to the
            last change).
        by : {"partner", "section", "authority"}
            Columns: each exporter's rate (and ``"all"``), each HS section's (and ``"all"``), or
            each layer of law's contribution in points (`Measure.layer_name`: MFN, Section 301...;
            they add up to ``"all"``).
        fine_values : optional
            As in `rates`; by default the baseline itself, so that a baseline at tariff-line
            detail (us-imports-2024) weights its own lines, as ``tradesim rates`` does.

        Returns
        -------
        pandas.DataFrame
            Index ``date``; percent. Trade that a halt stops (``rule = "halt"``: its rate is
            infinite) is left out of every average, which is over the trade not halted;
            ``halted_pct`` is the halted share of the importer's trade (percent of the baseline's
            imports). A column whose trade is all halted is NaN (``halted_pct`` 100 when all is).

        Examples
        --------
        >>> from tradesim import load_baseline
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> t = s.rate_table(load_baseline("demo-2024"), "USA", "2025-01-01", "2025-12-31")
        >>> round(float(t.loc[t.index[-1], "CHN"]), 2), round(float(t["all"].iloc[-1]), 2)
        (10.0, 1.32)
        """
        if by not in ("partner", "section", "authority"):
            raise InputError(f"by is {by!r}; expected 'partner', 'section' or 'authority'", key="by")
        j = baseline.importer_index(importer)
        first = parse_date(start) if start is not None else _dt.date(int(baseline.year or 2024), 12, 31)
        changes = [d for d in self.change_dates() if d > first and (end is None or d <= parse_date(end))]
        days = [first, *changes]
        exps = np.asarray([c for c in baseline.exporters if c != importer])
        e_idx = np.asarray([baseline.exporter_index(c) for c in exps], dtype=int)
        flows = baseline.imports_of(j, e_idx)  # [product, exporter]
        atoms = self.atoms(baseline.products, exps, [importer], baseline if fine_values is None else fine_values)
        atoms.warn(stacklevel=2)
        parent = np.arange(atoms.products.size) if atoms.parent is None else atoms.parent
        law, a, e, fold, average = self._law(importer, 0, atoms, exps, flows[parent] > 0)
        # each cell's weight: its product's flow times the atom's share of the product for the pair
        if atoms.parent is None:
            share = np.ones(a.size)
        else:
            w = atoms.weights[a, e, 0] if atoms.weights.ndim == 3 else atoms.weights[a]
            key = parent[a] * exps.size + e
            den = np.bincount(key, weights=w, minlength=atoms.products.size * exps.size)
            count = np.bincount(key, minlength=atoms.products.size * exps.size)
            share = np.where(den[key] > 0, w / np.where(den[key] > 0, den[key], 1), 1 / np.maximum(count[key], 1))
        weight = flows[parent[a], e] * share
        if by == "partner":
            labels = list(exps)
            cell_group, measure_group = e, None
            totals = flows.sum(axis=0)
        elif by == "section":
            from ..codes import hs_section

            sections = np.asarray([hs_section(p) for p in atoms.products])
            labels = list(dict.fromkeys(sections))
            of_product = pd.Index(labels).get_indexer(sections)
            cell_group, measure_group = of_product[parent[a]], None
            totals = np.bincount(of_product, weights=flows.sum(axis=1), minlength=len(labels))
        else:
            labels = list(dict.fromkeys(m.layer_name for m in law.measures))
            cell_group, measure_group = None, pd.Index(labels).get_indexer([m.layer_name for m in law.measures])
            totals = np.full(len(labels), flows.sum())
        regimes, which = np.unique(law.active(days), axis=0, return_inverse=True)
        if average is None:
            sums, halted = stacking.weighted(law, regimes, weight, cell_group, measure_group, len(labels))
        elif measure_group is not None:  # the members' cells weigh their share of their aggregate's weight
            sums, halted = stacking.weighted(law, regimes, np.asarray(average.T @ weight).ravel(), None,
                                             measure_group, len(labels))
        else:  # the aggregates' rates first (a member's cell may serve several aggregates), then the groups
            totals_ = stacking.evaluate(law, regimes)  # [regime, law cell]
            stop = np.isinf(totals_)
            # the members not halted at their rates, and the halted members' share of each aggregate's value
            rates, stopped = fold(np.where(stop, 0.0, totals_)), fold(stop.astype(float))  # [regime, cell]
            by_group = sparse.csr_matrix((weight, (cell_group, np.arange(weight.size))),
                                         shape=(len(labels), weight.size))  # [group, cell]
            sums, halted = np.asarray(by_group @ rates.T).T, np.asarray(by_group @ stopped.T).T
        sums, halted = sums[which.ravel()], halted[which.ravel()]
        halted_all = halted[:, 0] if measure_group is not None else halted.sum(axis=1)
        # averages over the trade not halted (a layer's points too, so that they add up to "all"); a group
        # halted in full (to rounding) has no average
        moving, moving_all = totals - halted, flows.sum() - halted_all
        with np.errstate(invalid="ignore", divide="ignore"):
            table = pd.DataFrame(100 * sums / np.where(moving > 1e-9 * totals, moving, np.nan), columns=labels,
                                 index=pd.DatetimeIndex(days, name="date"))
            table["all"] = 100 * sums.sum(axis=1) / np.where(moving_all > 1e-9 * flows.sum(), moving_all, np.nan)
        table["halted_pct"] = 100 * halted_all / flows.sum()
        return table

    def rate(self, date, product: str, exporter: str, importer: str, *, fine_values=None, **kw) -> float:
        """Total ad valorem rate (fraction) of one product from `exporter` into `importer` on `date`."""
        return float(self.rates(date, [product], [exporter], [importer], fine_values=fine_values, **kw)[0, 0, 0])

    def layer_rates(self, dates, products: Iterable[str], exporter: str, importer: str, *,
                    fine_values=None) -> pd.DataFrame:
        """Each measure's part of the rate on one pair's products, on each date.

        The parts are what `explain` calls contributions: after exemptions, replacement, floors
        and group maxima, so over the measures of a date and product they sum to `rates`.

        Trade that a halt stops (``rule = "halt"``) is left out: the parts are averages over the
        product's trade not halted (a halt's own part is 0), and ``halted`` says what share of
        the product's trade is halted. Where ``halted`` is below 1 the parts sum to `rates` (the
        mean over the trade not halted); where it is 1 `rates` is ``inf`` and every part is NaN
        (no trade to average).

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
            ``layer`` (`Measure.layer_name`), ``product``, ``rate`` (fraction) and ``halted``
            (share of the product's trade that a halt stops, 0-1).

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"], layer="IEEPA"),
        ...                     Measure("b", "USA", 0.25, "2025-03-01", products=["72"])])
        >>> s.layer_rates(["2025-03-01"], ["72", "95"], "CHN", "USA")["rate"].tolist()
        [0.1, 0.1, 0.25, 0.0]
        """
        days = [parse_date(d) for d in dates]
        exps = labels([exporter], "exporter")
        atoms = self.atoms(products, exps, [importer], fine_values)
        atoms.warn(stacklevel=2)
        law, cell_atom, _, fold, _ = self._law(importer, 0, atoms, exps)
        measures = law.measures
        s = stacking.stack(law, law.active(days))
        # the halted cells: their elements add nothing, and the cells count as halted trade (a last "measure")
        stop = s.halted()
        contribution = np.where(stop, 0.0, s.contribution)
        halted = np.zeros(len(days) * law.n_cells)
        halted[s.key[stop]] = 1.0
        # each element's contribution by (date, measure, cell), members folded into their aggregate's cells
        # (every atom's own: one exporter), then by (date, atom, measure): the measure plays the exporter axis
        cells = np.bincount((s.regime * len(measures) + s.measure) * law.n_cells + law.cell[s.entry],
                            weights=contribution, minlength=len(days) * len(measures) * law.n_cells)
        cells = np.concatenate([cells.reshape(len(days), len(measures), law.n_cells),
                                halted.reshape(len(days), 1, law.n_cells)], axis=1)
        cells = fold(cells)  # [date, measure and halted, cell]
        by_atom = np.zeros((len(days), len(measures) + 1, atoms.atoms.size))
        by_atom[:, :, cell_atom] = cells
        parts = aggregate(np.swapaxes(by_atom, 1, 2), _one_exporter(atoms), 0)  # [date, product, measure + 1]
        share = parts[:, :, -1:]
        with np.errstate(invalid="ignore", divide="ignore"):  # over the trade not halted
            parts = np.where(share > 0, parts[:, :, :-1] / np.where(share < 1 - 1e-12, 1 - share, np.nan),
                             parts[:, :, :-1])
        t, m, k = np.indices((len(days), len(measures), atoms.products.size)).reshape(3, -1)
        return pd.DataFrame({
            "date": np.asarray(days, dtype=object)[t],
            "measure": np.asarray([x.name for x in measures], dtype=object)[m],
            "layer": np.asarray([x.layer_name for x in measures], dtype=object)[m],
            "product": atoms.products[k],
            "rate": parts[t, k, m],
            "halted": share[t, k, 0],
        })

    def explain(self, date, product: str, exporter: str, importer: str, *, fine_values=None) -> pd.DataFrame:
        """Every measure of `importer` and what it did to one product on `date`, with the total.

        Returns
        -------
        pandas.DataFrame
            One row per measure and outcome, then a ``total`` row. Columns: ``measure``,
            ``kind``, ``authority``, ``group``, ``status`` (``applied``, ``applied on N% of
            value``, ``floored at R% over MFN M%``, ``replaced by ...``, ``exempted by ...``,
            ``qualifies for an exemption``, ``outweighed in group ...``, ``halted: trade
            stops``, ``product not covered``, ``exporter not covered``, ``not in force``),
            ``share`` (of the product's trade, 0-1), ``rate_pct`` (statutory rate),
            ``contribution_pct`` (percentage points added to the total), ``start``, ``end``. A
            halt that applies has ``rate_pct`` and ``contribution_pct`` ``inf``, and so has the
            total; the other measures' rows still show what they would add.

        Examples
        --------
        >>> s = TariffSchedule([Measure("a", "USA", 0.1, "2025-02-04", exporters=["CHN"])])
        >>> s.explain("2025-03-01", "9503", "CHN", "USA")[["measure", "status", "contribution_pct"]].values.tolist()
        [['a', 'applied', 10.0], ['total', '', 10.0]]
        """
        return explain(self, parse_date(date), product, exporter, importer, fine_values)

    def view(self, pairs: Iterable[tuple[str, str]], *, keep: Iterable[str] = (), **info) -> TariffSchedule:
        """The law on some (exporter, importer) pairs only: every measure that reaches one of
        them, narrowed to its exporters there; other trade keeps no measure at all.

        The rates of a view equal the schedule's on its pairs. A measure narrowed to one exporter
        takes that exporter's rate as its `rate` (so that phases and overrides of a scenario act
        on it); displacements (`replaces`) of measures that reach none of the pairs are dropped,
        as they could not apply there.

        Parameters
        ----------
        pairs : iterable of (exporter, importer)
            Country codes as the schedule writes them.
        keep : iterable of str
            Measures kept as they are, wherever they reach (a scenario's own measures on a view).
        **info
            `TariffSchedule` fields of the view (name, description, source, notes, ...); the
            others (as-of date, version, licence, sources) are the schedule's.

        Raises
        ------
        InputError
            A pair that is not two different codes, or that no measure reaches.

        Examples
        --------
        >>> s = TariffSchedule([Measure("r", "USA", 0.1, "2025-04-05", exporter_rates={"CHN": 1.25})])
        >>> v = s.view([("CHN", "USA")])
        >>> v.measures[0].exporters, v.measures[0].rate, v.rate("2025-05-01", "9503", "VNM", "USA")
        (('CHN',), 1.25, 0.0)
        """
        pairs = list(pairs)
        bad = [p for p in pairs if not (isinstance(p, (tuple, list)) and len(p) == 2
                                        and all(isinstance(c, str) and c for c in p) and p[0] != p[1])]
        if bad or not pairs:
            raise InputError(f"pairs {bad or pairs!r}: expected a non-empty list of (exporter, importer) pairs of "
                             f"two different country codes", key="pairs", source=info.get("source") or None)
        exporters_of: dict[str, list[str]] = {}
        for exporter, importer in pairs:
            exporters_of.setdefault(importer, []).append(exporter)
        kept, keep = [], set(keep)
        for m in self.measures:
            candidates = np.asarray(exporters_of.get(m.importer, []), dtype=object)
            exps = tuple(candidates[m.exporter_mask(candidates)]) if len(candidates) else ()
            if exps or m.name in keep:
                kept.append((m, None if m.name in keep else exps))
        reached = {(e, m.importer) for m, exps in kept for e in exps or ()}
        missing = [tuple(p) for p in pairs if tuple(p) not in reached]
        if missing:
            raise InputError(f"no measure of schedule {self.name!r} reaches the pairs {missing} (exporter, importer); "
                             f"importers with measures: {self.importers()}", key="pairs",
                             source=info.get("source") or None)
        names = {m.name for m, _ in kept} | {m.group for m, _ in kept if m.group}
        measures = [_narrowed(m, exps, names) if exps is not None else
                    dataclasses.replace(m, replaces=tuple(r for r in m.replaces if r in names)) for m, exps in kept]
        fields = {"name": f"{self.name} ({', '.join(f'{e}->{i}' for e, i in pairs)})", "as_of": self.as_of,
                  "version": self.version, "licence": self.licence, "sources": self.sources, "notes": self.notes,
                  "description": self.description, "source": self.source, **info}
        return TariffSchedule(measures, self.product_lists, **fields)


def _warn_halted(partly: list, atoms: Atoms, exps: np.ndarray, imps: np.ndarray, days) -> None:
    """Warn that rates by product leave out the halted part of products halted in part.

    `partly` holds, per importer with halts, its position, the halted share ``[regime, product,
    exporter]`` and the regime of each of `days`."""
    count, shown = 0, []
    for j, share, which in partly:  # the few importers with halts
        used, first_day = np.unique(which, return_index=True)  # the regimes of `days`, in order of their first day
        part = (share[used] > 1e-12) & (share[used] < 1 - 1e-12)  # halted in part: all halted is inf, exact
        r, k, i = np.nonzero(part)  # [regime, product, exporter], regimes first
        cell, at = np.unique(k * exps.size + i, return_index=True)  # each product cell once, at its first regime
        count += cell.size
        shown += [f"{atoms.products[k[a]]} from {exps[i[a]]} to {imps[j]}: {100 * share[used[r[a]], k[a], i[a]]:.3g}% "
                  f"halted on {days[first_day[r[a]]]}" for a in np.sort(at)[:5 - len(shown)]]
    if not count:
        return
    warn_at_caller(
        f"{count} product(s) are halted in part ({'; '.join(shown)}{'; ...' if count > 5 else ''}): a rate by "
        "product is the mean over the trade not halted and cannot hold the halt; a scenario (`simulate(None, "
        "scenario)`) or `parts_path` keeps halted lines apart", TradesimWarning)


def _narrowed(m: Measure, exporters: tuple[str, ...], names: set) -> Measure:
    """`m` on `exporters` only, with its by-exporter fields cut to them (see `TariffSchedule.view`)."""
    keep = set(exporters)
    rate, by_exporter = m.rate, m.exporter_rates
    if by_exporter is not None:
        by_exporter = {e: r for e, r in by_exporter.items() if e in keep} or None
        if by_exporter is not None and len(exporters) == 1:
            rate, by_exporter = by_exporter[exporters[0]], None
    lines = {k: v for k, v in (m.line_rates or {}).items() if k[0] in keep} or None
    qualifying = {e: v for e, v in (m.qualifying or {}).items() if e in keep} or None
    qualifying_lines = {k: v for k, v in (m.qualifying_lines or {}).items() if k[0] in keep} or None
    # follows: the dates are already resolved, and the measure followed may not reach these pairs
    return dataclasses.replace(m, exporters=exporters, except_exporters=(), rate=rate, exporter_rates=by_exporter,
                               line_rates=lines, qualifying=qualifying, qualifying_lines=qualifying_lines,
                               replaces=tuple(r for r in m.replaces if r in names), follows=None)


def _one_exporter(atoms: Atoms) -> Atoms:
    """The atoms with the weights of their first exporter and importer, for values of one pair."""
    if atoms.weights is None or atoms.weights.ndim == 1:
        return atoms
    return dataclasses.replace(atoms, weights=atoms.weights[:, 0, 0])


def read_schedule(path) -> TariffSchedule:
    """Read a tariff schedule from a TOML file (`TariffSchedule.from_file`)."""
    return TariffSchedule.from_file(path)


def effective_rate(schedule: TariffSchedule, baseline, date, importer: str, exporter=None, *, fine_values=None,
                   kinds: Iterable[str] | None = None) -> float:
    """Trade-weighted statutory rate of `importer` on `date`: the trackers' pre-substitution rate.

    ``sum(rate * flows) / sum(flows)`` over the baseline's products and the chosen exporters,
    with baseline flows as weights (no substitution).

    Trade that a halt stops (``rule = "halt"``, an infinite rate) is left out: the average is
    over the trade not halted, and NaN when all of it is halted (`TariffSchedule.rate_table`
    reports the halted share, ``halted_pct``). A product halted in part (a halted line inside
    it, split with `fine_values`) leaves out its halted part only; with `kinds`, the part rates
    by kind are not at hand, and such a product counts at `rates`' mean over its trade not
    halted, with all its trade as weight (a warning says so).

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
    j = baseline.importer_index(importer)
    if exporter is None:
        exporters = [c for c in baseline.exporters if c != importer]
    else:
        exporters = [exporter] if isinstance(exporter, str) else list(exporter)
    idx = [baseline.exporter_index(c) for c in exporters]
    flows = baseline.imports_of(j, idx)  # [product, exporter]
    if flows.sum() <= 0:
        raise InputError(f"no baseline trade from {list(exporters)} into {importer} to weight by", key="exporter")
    if kinds is None and any(m.rule == "halt" for m in schedule.measures):
        # the parts of the products, with their shares of each product's trade: halted lines apart
        parts = schedule.parts_path([date], baseline.products, exporters, [importer], fine_values=fine_values,
                                    warn=False)
        flows, rates = parts.expand(flows[:, :, None])[:, :, 0], parts.rates[0, :, :, 0]  # [part, exporter]
    else:
        rates = schedule.rates(date, baseline.products, exporters, [importer], fine_values=fine_values,
                               kinds=kinds)[:, :, 0]
    halted = np.isinf(rates)
    if not halted.any():
        return float((rates * flows).sum() / flows.sum())
    moving = np.where(halted, 0.0, flows)
    if moving.sum() <= 1e-9 * flows.sum():  # all of it halted: no rate to average
        return float("nan")
    return float((np.where(halted, 0.0, rates) * moving).sum() / moving.sum())
