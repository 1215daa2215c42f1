"""The baseline: who ships how much of what to whom, before any policy change.

A `Baseline` holds the flow tensor ``flows[k, i, j]``: the value in USD (at baseline prices,
tariff-exclusive customs value) of product ``k`` shipped from exporter ``i`` to importer ``j``.
Exporters and importers are two axes with their own country lists (US imports from 52 partners
are ``[k, 52, 1]``); domestic sales sit where a country is on both axes, when they are known
(`Baseline.has_domestic_sales`). Whether partial equilibrium takes them as a source by default
is a separate flag (``domestic``): a baseline may carry imputed domestic sales for general
equilibrium and still leave them out of PE. An optional tensor of the same shape holds baseline ad valorem tariffs as
fractions, and an optional boolean tensor marks cells whose values were imputed rather than
published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..codes import (
    CHAPTER_SECTION,
    COUNTRY_GROUPS,
    convert_countries,
    country_name,
    describe_conversions,
    hs_problem,
    hs_revision_label,
    select_products,
    validate_countries,
    validate_products,
)
from ..errors import InputError
from ..files import row_labels
from .layout import Cells, SparseTensor, check_fits, check_sparse, choose_layout, dense_bytes, placer
from .notes import warn_user

__all__ = ["Baseline", "MAX_RATE"]

#: Highest ad valorem rate accepted anywhere (2,000%), as a fraction.
MAX_RATE = 20.0


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


def _cells(mask: np.ndarray, products, exporters, importers, limit: int = 5) -> str:
    """Name the first offending cells of a [k, i, j] mask as product/exporter->importer."""
    k, i, j = np.nonzero(mask)
    shown = [f"{products[a]}/{exporters[b]}->{importers[c]}" for a, b, c in zip(k[:limit], i[:limit], j[:limit])]
    more = f" and {len(k) - limit} more" if len(k) > limit else ""
    return ", ".join(shown) + more


@dataclass(frozen=True, eq=False, init=False)
class Baseline:
    """Baseline trade flows by product, exporter and importer.

    Exporters and importers are two axes with their own country lists: US imports from 52
    partners are ``[product, 52, 1]``. Domestic sales sit in the cells where a country is on
    both axes (the diagonal of a square baseline).

    Parameters
    ----------
    countries : tuple of str, optional
        ISO 3166 alpha-3 codes or dataset groups (``ROW``) of a square baseline: the same list
        on both axes. Give `exporters` and `importers` instead for a rectangle.
    products : tuple of str
        HS codes (digit strings) or, after aggregation, group labels such as HS section
        numerals, shape ``[product]``.
    flows : numpy.ndarray of float64, shape ``[product, exporter, importer]``
        Values in USD per year, tariff-exclusive. Non-negative and finite.
    tariffs : numpy.ndarray of float64, optional, same shape as `flows`
        Baseline ad valorem tariffs as fractions (0.25 means 25%), from 0 to 20.
    year : int, optional
        Reference year of the flows.
    provenance : mapping of str to str
        Where the numbers came from and how they were processed (``as_of``, ``version``,
        ``sources``, ``licence``... for bundled baselines).
    imputed : numpy.ndarray of bool, optional, same shape as `flows`
        True where a cell was imputed rather than published.
    domestic : bool, optional
        Whether models that can do without domestic sales (PE's domestic substitute) use the
        domestic cells by default. Inferred as "some domestic cell is positive" when not given.
        A baseline whose domestic sales are imputed for general equilibrium may say False
        (``demo-2024``): PE then models imports only unless asked (``domestic=True``), while
        general equilibrium, which always needs them, uses the cells whatever the flag
        (`has_domestic_sales`).
    groups : mapping of str to str
        Country groups this dataset defines, besides ISO codes.
    exporters, importers : tuple of str, optional
        The two country axes of a rectangular baseline, shapes ``[exporter]`` and ``[importer]``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"exporter": ["CHN", "USA"], "importer": ["USA", "CHN"],
    ...                    "product": ["85", "12"], "value": [1e9, 2e8]})
    >>> b = Baseline.from_frame(df, year=2024)
    >>> b.flows.shape
    (2, 2, 2)
    >>> r = Baseline.from_frame(df[df.importer == "USA"], exporters=["CHN"], importers=["USA"])
    >>> r.flows.shape, r.square
    ((1, 1, 1), False)
    """

    exporters: tuple[str, ...]
    importers: tuple[str, ...]
    products: tuple[str, ...]
    flows: np.ndarray
    tariffs: np.ndarray | None
    year: int | None
    provenance: Mapping[str, str]
    imputed: np.ndarray | None
    domestic: bool
    groups: Mapping[str, str]

    def __init__(self, countries=None, products=(), flows=None, tariffs=None, year=None, provenance=None,
                 imputed=None, domestic=None, groups=None, *, exporters=None, importers=None):
        if countries is not None and (exporters is not None or importers is not None):
            raise InputError("give countries (a square baseline) or exporters and importers, not both",
                             key="countries")
        if countries is None and (exporters is None or importers is None):
            raise InputError("give countries (a square baseline) or both exporters and importers", key="countries")
        exporters = tuple(countries if countries is not None else exporters)
        importers = tuple(countries if countries is not None else importers)
        products = tuple(products)
        groups = MappingProxyType(dict(COUNTRY_GROUPS if groups is None else groups))
        for name, labels in (("exporters", exporters), ("importers", importers)):
            validate_countries(labels, groups=groups, key=name)
        for name, labels in (("exporters", exporters), ("importers", importers), ("products", products)):
            dup = sorted(c for c, n in Counter(labels).items() if n > 1)
            if dup:
                raise InputError(f"duplicate labels {dup}; each must appear once", key=name)
        bad = [p for p in products if not isinstance(p, str) or not p]
        if bad:
            raise InputError(f"product labels must be non-empty strings, got {bad[:5]}", key="products")
        validate_products([p for p in products if p.isdigit()], key="products")
        if isinstance(flows, SparseTensor):  # stored on the cells that trade (tradesim.data.layout)
            self._set_cells(exporters, importers, products, flows, tariffs, imputed, year, provenance, domestic, groups)
            return

        flows = np.asarray(flows if flows is not None else np.zeros((len(products), len(exporters), len(importers))))
        expected = (len(products), len(exporters), len(importers))
        if flows.ndim != 3 or flows.shape != expected:
            raise InputError(
                f"flows has shape {flows.shape}, expected [product, exporter, importer] = {expected}", key="flows"
            )
        if not np.issubdtype(flows.dtype, np.number) or np.issubdtype(flows.dtype, np.complexfloating):
            raise InputError(f"flows has dtype {flows.dtype}, expected real numbers", key="flows")
        flows = flows.astype(np.float64)
        labels = (products, exporters, importers)
        if not np.isfinite(flows).all():
            raise InputError(
                f"flows has NaN or infinite values at {_cells(~np.isfinite(flows), *labels)}; "
                "expected finite USD values (write 0 for no trade)",
                key="flows",
            )
        if (flows < 0).any():
            raise InputError(f"flows has negative values at {_cells(flows < 0, *labels)}; expected values >= 0",
                             key="flows")
        if tariffs is not None:
            tariffs = np.asarray(tariffs, dtype=np.float64)
            if tariffs.shape != flows.shape:
                raise InputError(f"tariffs has shape {tariffs.shape}, expected {flows.shape} like flows", key="tariffs")
            bad = ~np.isfinite(tariffs) | (tariffs < 0) | (tariffs > MAX_RATE)
            if bad.any():
                raise InputError(
                    f"tariffs out of range at {_cells(bad, *labels)}; "
                    f"expected finite fractions from 0 to {MAX_RATE:g} (2,000%)",
                    key="tariffs",
                )
            tariffs = _readonly(tariffs)
        if imputed is not None:
            imputed = np.asarray(imputed)
            if imputed.shape != flows.shape or imputed.dtype != bool:
                raise InputError(
                    f"imputed must be a bool array of shape {flows.shape}, got {imputed.dtype} {imputed.shape}",
                    key="imputed",
                )
            imputed = _readonly(imputed)
        home = _home(exporters, importers)
        if domestic is None:
            domestic = bool((flows[:, home[home >= 0], np.flatnonzero(home >= 0)] > 0).any())

        set_ = object.__setattr__
        set_(self, "exporters", exporters)
        set_(self, "importers", importers)
        set_(self, "products", products)
        set_(self, "flows", _readonly(flows))
        set_(self, "tariffs", tariffs)
        set_(self, "imputed", imputed)
        set_(self, "domestic", bool(domestic))
        set_(self, "groups", groups)
        set_(self, "provenance", MappingProxyType(dict(provenance or {})))
        set_(self, "year", None if year is None else int(year))

    # ------------------------------------------------------------------ access

    def __repr__(self) -> str:
        shape = (f"{len(self.countries)} countries" if self.square else
                 f"{len(self.exporters)} exporters x {len(self.importers)} importers")
        stored = self.__dict__.get("_sparse")
        if stored is not None:  # from the cells, without building the dense flows
            cells, values = stored["flows"].cells, stored["flows"].values
            total, own = float(values.sum()), float(values[cells.exporter == self.home[cells.importer]].sum())
        else:
            total, own = float(self.flows.sum()), float(self.flows[:, self.domestic_mask].sum())
        if not self.has_domestic_sales:
            return (f"Baseline(year={self.year}, {len(self.products)} products x {shape}, "
                    f"total {total / 1e9:,.1f} bn USD, domestic={self.domestic})")
        return (f"Baseline(year={self.year}, {len(self.products)} products x {shape}, "
                f"trade {(total - own) / 1e9:,.1f} bn USD, domestic sales {own / 1e9:,.1f} bn USD, "
                f"domestic={self.domestic})")

    @property
    def square(self) -> bool:
        """Whether both axes hold the same countries in the same order."""
        return self.exporters == self.importers

    @property
    def countries(self) -> tuple[str, ...]:
        """Every country on either axis: the exporters, then the importers that are not exporters."""
        return tuple(dict.fromkeys(self.exporters + self.importers))

    @property
    def home(self) -> np.ndarray:
        """``[importer]``: the position of each importer on the exporter axis (its domestic source), or -1."""
        return _home(self.exporters, self.importers)

    @property
    def has_domestic_sales(self) -> bool:
        """Whether some cell where a country sells to itself is positive (what general equilibrium needs).

        Unlike `domestic`, this says what the flows hold, not whether partial equilibrium uses it
        by default: ``demo-2024`` has imputed domestic sales and ``domestic=False``.
        """
        home = self.home
        stored = self.__dict__.get("_sparse")
        if stored is not None:  # from the cells: a sparse baseline never builds its dense flows for this
            cells, values = stored["flows"].cells, stored["flows"].values
            return bool(((cells.exporter == home[cells.importer]) & (values > 0)).any())
        return bool((self.flows[:, home[home >= 0], np.flatnonzero(home >= 0)] > 0).any())

    @property
    def domestic_mask(self) -> np.ndarray:
        """``[exporter, importer]`` bool: the cells where a country sells to itself."""
        return np.asarray(self.exporters)[:, None] == np.asarray(self.importers)[None, :]

    def country_index(self, code: str) -> int:
        """Position of a country on the exporter and importer axes of a square baseline."""
        if not self.square:
            raise InputError("the baseline is rectangular: use exporter_index or importer_index", key="country")
        return self.exporter_index(code)

    def exporter_index(self, code: str) -> int:
        """Position of a country on the exporter axis."""
        return self._index(code, self.exporters, "exporter")

    def importer_index(self, code: str) -> int:
        """Position of a country on the importer axis."""
        return self._index(code, self.importers, "importer")

    def _index(self, code: str, axis: tuple, name: str) -> int:
        try:
            return axis.index(code)
        except ValueError:
            validate_countries([code], groups=self.groups, key=name)  # raises with suggestions if unknown
            raise InputError(f"{name} {code!r} is not in this baseline; its {name}s are {list(axis)}",
                             key=name) from None

    def trade(self, exporter: str, importer: str, products: str | list[str] | None = None) -> float:
        """Total value in USD shipped from `exporter` to `importer`.

        Parameters
        ----------
        products : str or list of str, optional
            HS prefixes to restrict to (``"85"`` selects all of chapter 85).
        """
        i, j = self.exporter_index(exporter), self.importer_index(importer)
        column = self.imports_of(j, [i])[:, 0]
        if products is not None:
            column = column[select_products(self.products, [products] if isinstance(products, str) else products)]
        return float(column.sum())

    def imports_of(self, importer: int, exporters) -> np.ndarray:
        """The flows into importer position `importer` from exporter positions `exporters` by product,
        ``[product, exporter]`` USD (`flows[:, exporters, importer]`), from the cells when the baseline is
        stored on them (its dense tensor is not made).

        Examples
        --------
        >>> from tradesim import load_baseline
        >>> demo = load_baseline("demo-2024")
        >>> j, i = demo.importer_index("USA"), demo.exporter_index("CHN")
        >>> bool((demo.with_layout("sparse").imports_of(j, [i]) == demo.flows[:, [i], j]).all())
        True
        """
        exporters = np.asarray(exporters, dtype=np.int64)
        n, m = len(self.exporters), len(self.importers)
        if not 0 <= int(importer) < m or ((exporters < 0) | (exporters >= n)).any():
            raise InputError(f"positions importer {importer} and exporters {exporters.tolist()} are out of range: "
                             f"expected importers 0 to {m - 1} and exporters 0 to {n - 1} (importer_index and "
                             "exporter_index give them from codes)", key="imports_of")
        stored = self.__dict__.get("_sparse")
        if stored is None:
            return self.flows[:, exporters, importer]
        flows = stored["flows"]
        cells = flows.cells
        column = np.full(len(self.exporters), -1)
        column[exporters] = np.arange(exporters.size)
        mine = (cells.importer == importer) & (column[cells.exporter] >= 0)
        out = np.zeros((len(self.products), exporters.size))
        out[cells.product[mine], column[cells.exporter[mine]]] = flows.values[mine]
        return out

    def equals(self, other: Baseline) -> bool:
        """True when labels and all arrays are identical."""

        def same(a, b):
            return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))

        return (
            isinstance(other, Baseline)
            and self.exporters == other.exporters
            and self.importers == other.importers
            and self.products == other.products
            and same(self.flows, other.flows)
            and same(self.tariffs, other.tariffs)
            and same(self.imputed, other.imputed)
            and self.domestic == other.domestic
            and self.year == other.year
        )

    def restrict(self, *, exporters=None, importers=None) -> Baseline:
        """The same flows on fewer (or reordered) exporters and importers: a rectangle of this baseline.

        Domestic sales stay where a country stays on both axes. `domestic` is inferred from them
        when it was True and stays False when it was False (a cut of ``demo-2024`` does not make
        PE use its imputed domestic sales).

        Examples
        --------
        >>> from tradesim import load_baseline
        >>> us = load_baseline("demo-2024").restrict(importers=["USA"])
        >>> us.flows.shape[1:], round(us.trade("CHN", "USA") / 1e9, 1) > 400
        ((16, 1), True)
        """
        ex = list(self.exporters if exporters is None else exporters)
        im = list(self.importers if importers is None else importers)
        i = [self.exporter_index(c) for c in ex]
        j = [self.importer_index(c) for c in im]
        stored = self.__dict__.get("_sparse")

        def cut(a):
            if a is None:
                return None
            if stored is None:
                return a[:, i][:, :, j]
            return _cut_cells(a, np.asarray(i, dtype=np.int64), np.asarray(j, dtype=np.int64))

        if stored is not None:  # a sparse baseline stays on its cells: no dense tensor of the whole
            return Baseline(None, self.products, cut(stored["flows"]), cut(stored["tariffs"]), self.year,
                            self.provenance, cut(stored["imputed"]), None if self.domestic else False, self.groups,
                            exporters=tuple(ex), importers=tuple(im))

        # a cut keeps domestic sales where it keeps a country on both axes; it never turns on their use by default
        return Baseline(None, self.products, cut(self.flows), cut(self.tariffs), self.year, self.provenance,
                        cut(self.imputed), None if self.domestic else False, self.groups, exporters=tuple(ex),
                        importers=tuple(im))

    # ------------------------------------------------------------------ layout

    @property
    def layout(self) -> str:
        """``"dense"`` (every cell stored) or ``"sparse"`` (the cells that trade: `tradesim.data.layout`).

        A sparse baseline's `flows`, `tariffs` and `imputed` are dense tensors made when first
        read (an `InputError` when one would not fit in half the free memory): use
        `sparse_flows` and `sparse_tariffs`, which models take as they are.
        """
        return "sparse" if "_sparse" in self.__dict__ else "dense"

    @property
    def sparse_flows(self) -> SparseTensor:
        """The flows on the cells that trade (`tradesim.data.layout.SparseTensor`), in either layout."""
        stored = self.__dict__.get("_sparse")
        return stored["flows"] if stored is not None else SparseTensor.from_dense(self.flows)

    @property
    def sparse_tariffs(self) -> SparseTensor | None:
        """The baseline tariffs on their non-zero cells, or None when the baseline has none."""
        stored = self.__dict__.get("_sparse")
        if stored is not None:
            return stored["tariffs"]
        return None if self.tariffs is None else SparseTensor.from_dense(self.tariffs)

    def with_layout(self, layout: str) -> Baseline:
        """The same baseline stored ``"dense"`` or ``"sparse"``; `equals` holds between the two.

        Examples
        --------
        >>> from tradesim import load_baseline
        >>> demo = load_baseline("demo-2024")
        >>> demo.layout, demo.with_layout("sparse").layout, demo.with_layout("sparse").equals(demo)
        ('dense', 'sparse', True)
        """
        if layout not in ("dense", "sparse"):
            raise InputError(f"unknown layout {layout!r}; expected 'dense' or 'sparse'", key="layout")
        if layout == self.layout:
            return self
        stored = self.__dict__.get("_sparse")
        if layout == "sparse":
            flows, tariffs = self.sparse_flows, self.sparse_tariffs
            imputed = None if self.imputed is None else SparseTensor.from_dense(self.imputed)
        else:
            flows, tariffs, imputed = (None if stored[k] is None else stored[k].toarray()
                                       for k in ("flows", "tariffs", "imputed"))
        return Baseline(None, self.products, flows, tariffs, self.year, self.provenance, imputed, self.domestic,
                        self.groups, exporters=self.exporters, importers=self.importers)

    def _set_cells(self, exporters, importers, products, flows, tariffs, imputed, year, provenance, domestic, groups):
        """`__init__` for a baseline stored on its cells (the labels are checked)."""
        flows, tariffs, imputed = check_sparse(flows, tariffs, imputed, (products, exporters, importers), MAX_RATE)
        if domestic is None:
            cells = flows.cells
            home = _home(exporters, importers)
            domestic = bool(((cells.exporter == home[cells.importer]) & (flows.values > 0)).any())
        set_ = object.__setattr__
        for name, value in (("exporters", exporters), ("importers", importers), ("products", products),
                            ("domestic", bool(domestic)), ("groups", groups), ("year", None if year is None else int(year)),
                            ("provenance", MappingProxyType(dict(provenance or {})))):
            set_(self, name, value)
        set_(self, "_sparse", {"flows": flows, "tariffs": tariffs, "imputed": imputed})

    def __getattr__(self, name: str):
        # only for what is not set: the dense tensors of a sparse baseline, made when first read
        stored = self.__dict__.get("_sparse")
        if stored is None or name not in stored:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = stored[name]
        if value is not None:
            check_fits(dense_bytes(value.shape, value.values.itemsize),
                       f"this baseline is stored on its {value.cells.size:,} cells that trade; its dense {name} "
                       f"{value.shape}", f"use sparse_{name if name != 'imputed' else 'flows'} (models take it as it "
                       "is)", key=name)
            value = value.toarray()
            value.setflags(write=False)
        object.__setattr__(self, name, value)
        return value

    def _cells_frame(self) -> pd.DataFrame:
        """`to_frame` of a sparse baseline, from its cells only."""
        stored = self.__dict__["_sparse"]
        flows, tariffs, imputed = stored["flows"], stored["tariffs"], stored["imputed"]
        index = flows.cells.index[flows.values > 0]
        if tariffs is not None:
            index = np.union1d(index, tariffs.cells.index[tariffs.values > 0])
        cells = type(flows.cells)(flows.shape, index)
        frame = pd.DataFrame({
            "exporter": np.asarray(self.exporters, dtype=object)[cells.exporter],
            "importer": np.asarray(self.importers, dtype=object)[cells.importer],
            "product": np.asarray(self.products, dtype=object)[cells.product],
            "value": flows.on(cells),
        })
        if tariffs is not None:
            frame["tariff"] = tariffs.on(cells)
        if imputed is not None:
            frame["imputed"] = imputed.on(cells)
        return frame

    # ------------------------------------------------------------- conversion

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        exporter: str = "exporter",
        importer: str = "importer",
        product: str = "product",
        value: str = "value",
        tariff: str | None = None,
        imputed: str | None = None,
        countries: list[str] | None = None,
        products: list[str] | None = None,
        year: int | None = None,
        provenance: Mapping[str, str] | None = None,
        domestic: bool | None = None,
        groups: Mapping[str, str] | None = None,
        hs: bool = True,
        source: str | None = None,
        exporters: list[str] | None = None,
        importers: list[str] | None = None,
        country_format: str = "iso3",
        hs_revision: str | None = None,
        layout: str = "auto",
    ) -> Baseline:
        """Build a baseline from a tidy table with one row per product, exporter and importer.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per cell. Cells without a row are zero.
        exporter, importer, product, value : str
            Column names. Values are in USD; product codes must be digit strings.
        tariff : str, optional
            Column with baseline ad valorem tariffs as fractions.
        imputed : str, optional
            Boolean column marking imputed cells.
        countries, products : list of str, optional
            Order of the axes; they may list labels with no rows. By default the baseline is
            square over every country with a row, sorted with groups (``ROW``) last, and
            products are sorted.
        exporters, importers : list of str, optional
            The two axes of a rectangular baseline instead of `countries` (either may be given
            alone; the other axis is then every country with a row in its column).
        year, provenance, domestic, groups
            As in `Baseline`.
        hs : bool
            Require product labels to be HS codes (default). Set False for group labels.
        source : str, optional
            Name of the file the frame came from, for error messages.
        country_format : {"iso3", "auto"}
            How the exporter and importer columns are read. ``"iso3"`` (default, for frames
            built in code) accepts alpha-3 codes and groups only, and an error on a name or
            other code suggests the alpha-3 code. ``"auto"`` (the default of the file readers)
            converts country names (``"Viet Nam"``, ``"Korea, Republic of"``, ``"United
            States"``), ISO alpha-2 (``"VN"``) and ISO numeric codes (``"704"``) to alpha-3 with
            `tradesim.codes.convert_countries`, lists each conversion in one `TradesimWarning`
            and in ``provenance["country_conversion"]``; a label that matches two countries
            (``"Korea"``) or none is an `InputError`.
        hs_revision : str, optional
            The HS revision of the product codes (``"HS2017"``, ``"H5"``), recorded in
            ``provenance["hs_revision"]`` (see `tradesim.data.hs_revision`).
        layout : {"auto", "dense", "sparse"}
            How the tensors are stored (`layout`): ``"auto"`` keeps the rows' cells only when
            the dense tensor would be large and mostly empty (`tradesim.data.layout.choose_layout`).

        Raises
        ------
        InputError
            For a missing column, an unknown or ambiguous country, an unknown HS code, a NaN,
            non-numeric or negative value, or duplicate rows, naming the rows.

        Warns
        -----
        TradesimWarning
            Once, listing the country labels converted, when some were.

        Examples
        --------
        >>> import pandas as pd, warnings
        >>> df = pd.DataFrame({"exporter": ["Viet Nam", "CN"], "importer": ["United States", "840"],
        ...                    "product": ["8542", "8542"], "value": [2e9, 5e9]})
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     b = Baseline.from_frame(df, country_format="auto", hs_revision="HS2022")
        >>> b.countries
        ('CHN', 'USA', 'VNM')
        >>> b.provenance["country_conversion"]
        "'840' -> USA (ISO numeric), 'CN' -> CHN (ISO alpha-2), 'United States' -> USA (name), 'Viet Nam' -> VNM (name)"
        """
        source = source or "frame"
        groups = dict(COUNTRY_GROUPS if groups is None else groups)
        needed = [c for c in (exporter, importer, product, value, tariff, imputed) if c is not None]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(f"missing columns {missing}; the table has {list(frame.columns)}", source=source)

        df = frame[needed]
        if df.index.has_duplicates:
            df = df.reset_index(drop=True)

        def row(labels) -> str:
            return row_labels(labels, df.index)

        for col in (exporter, importer, product):
            blank = df.index[df[col].isna() | (df[col].astype(str).str.strip() == "")]
            if len(blank):
                raise InputError(f"blank {col} code in {row(blank)}", source=source, key=f"column {col!r}")
        table = convert_countries(pd.unique(pd.concat([df[exporter], df[importer]])), groups=groups,
                                  country_format=country_format)
        failed = table[table["code"].isna()]
        for col in (exporter, importer):
            unknown = [c for c in pd.unique(df[col]) if c in failed.index]
            if unknown:
                message = "; ".join(failed.at[c, "problem"] for c in unknown[:10])
                bad = df.index[df[col].isin(unknown)]
                raise InputError(f"{message} ({row(bad)})", source=source, key=f"column {col!r}")
        conversion = None
        if (table["how"] != "").any():
            conversion = describe_conversions(table)
            df = df.assign(**{col: df[col].map(table["code"]) for col in (exporter, importer)})
        codes = df[product]
        # infer_dtype scans in C; the per-row check runs only to name the offending rows.
        if pd.api.types.infer_dtype(codes, skipna=False) != "string":
            bad = df.index[~codes.map(lambda c: isinstance(c, str)).to_numpy(bool)]
            raise InputError(
                f"product codes must be text, but {row(bad)} hold numbers such as {codes[bad[0]]!r}; "
                "read the column as text (dtype=str) so codes keep their leading zeros",
                source=source,
                key=f"column {product!r}",
            )
        if hs:
            unknown = [c for c in codes.unique() if hs_problem(c)]
            if unknown:
                message = "; ".join(hs_problem(c) for c in unknown[:10])
                bad = df.index[codes.isin(unknown)]
                raise InputError(f"{message} ({row(bad)})", source=source, key=f"column {product!r}")

        numeric = {}
        for col, kind in ((value, "USD value"), (tariff, "tariff fraction")):
            if col is None:
                continue
            num = pd.to_numeric(df[col], errors="coerce")
            nonnum = df.index[num.isna() & df[col].notna()]
            if len(nonnum):
                raise InputError(
                    f"non-numeric {kind} {df[col][nonnum[0]]!r} in {row(nonnum)}", source=source, key=f"column {col!r}"
                )
            if num.isna().any():
                raise InputError(
                    f"missing (NaN) {kind} in {row(df.index[num.isna()])}; write 0 for no trade",
                    source=source,
                    key=f"column {col!r}",
                )
            bad = df.index[~np.isfinite(num) | (num < 0) | ((num > MAX_RATE) if col == tariff else False)]
            if len(bad):
                limit = "from 0 to 20 (2,000%)" if col == tariff else ">= 0"
                raise InputError(
                    f"{kind} {float(num[bad[0]])!r} out of range in {row(bad)}; expected {limit}",
                    source=source,
                    key=f"column {col!r}",
                )
            numeric[col] = num.to_numpy(np.float64)

        dup = df.duplicated([exporter, importer, product], keep=False)
        if dup.any():
            first = df[dup].iloc[0]
            raise InputError(
                f"duplicate rows for product {first[product]!r} from {first[exporter]!r} to {first[importer]!r} "
                f"({row(df.index[dup])}); expected one row per product, exporter and importer "
                "(sum them first if they are parts of one flow)",
                source=source,
            )

        def order(present) -> list[str]:
            return sorted(present, key=lambda c: (c in groups, c))

        def check(axis, column, what) -> None:
            absent = sorted(set(pd.unique(df[column])) - set(axis))
            if absent:
                raise InputError(f"{what} {absent} have rows but are not in the given {what} order", source=source)

        if countries is not None and (exporters is not None or importers is not None):
            raise InputError("give countries (square) or exporters/importers (a rectangle), not both", source=source)
        if exporters is None and importers is None:
            if countries is None:
                countries = order(pd.unique(pd.concat([df[exporter], df[importer]])))
            check(countries, exporter, "countries")
            check(countries, importer, "countries")
            exporters = importers = list(countries)
        else:
            exporters = order(pd.unique(df[exporter])) if exporters is None else list(exporters)
            importers = order(pd.unique(df[importer])) if importers is None else list(importers)
            check(exporters, exporter, "exporters")
            check(importers, importer, "importers")
        if products is None:
            products = sorted(pd.unique(codes))
        else:
            absent = sorted(set(codes) - set(products))
            if absent:
                raise InputError(f"products {absent[:10]} have rows but are not in the given product order", source=source)

        k = pd.Categorical(codes, categories=products).codes
        i = pd.Categorical(df[exporter], categories=exporters).codes
        j = pd.Categorical(df[importer], categories=importers).codes
        shape = (len(products), len(exporters), len(importers))
        place = placer(k, i, j, shape, layout)  # a dense tensor, or the rows' cells of a large sparse one
        flows = place(numeric[value])
        tariffs = None
        if tariff is not None:
            tariffs = place(numeric[tariff])
        imputed_arr = None
        if imputed is not None:
            flags = df[imputed]
            if not flags.isin([True, False, 0, 1]).all():
                bad = df.index[~flags.isin([True, False, 0, 1])]
                raise InputError(f"imputed flags must be true/false, {row(bad)}", source=source, key=f"column {imputed!r}")
            imputed_arr = place(flags.astype(bool).to_numpy())
        provenance = dict(provenance or {"source": source})
        if hs_revision is not None:
            provenance["hs_revision"] = hs_revision_label(hs_revision)
        if conversion:
            provenance["country_conversion"] = conversion
        out = cls(
            None,
            products=tuple(products),
            exporters=tuple(exporters),
            importers=tuple(importers),
            flows=flows,
            tariffs=tariffs,
            year=year,
            provenance=provenance,
            imputed=imputed_arr,
            domestic=domestic,
            groups=groups,
        )
        if conversion:
            warn_user(f"{source}: country labels converted to ISO 3166 alpha-3: {conversion}")
        return out

    def to_frame(self, *, nonzero: bool = True) -> pd.DataFrame:
        """Tidy table with columns ``exporter, importer, product, value`` (USD).

        Adds ``tariff`` (fraction) and ``imputed`` (bool) when the baseline has
        them. With ``nonzero=True`` (default) cells with zero flow are left out
        unless they carry a tariff; `from_frame` reads the result back exactly.
        """
        if self.layout == "sparse" and nonzero:
            return self._cells_frame()
        k, i, j = np.indices(self.flows.shape).reshape(3, -1)
        frame = pd.DataFrame(
            {
                "exporter": np.asarray(self.exporters, dtype=object)[i],
                "importer": np.asarray(self.importers, dtype=object)[j],
                "product": np.asarray(self.products, dtype=object)[k],
                "value": self.flows.ravel(),
            }
        )
        keep = frame["value"].to_numpy() > 0
        if self.tariffs is not None:
            frame["tariff"] = self.tariffs.ravel()
            keep |= self.tariffs.ravel() > 0
        if self.imputed is not None:
            frame["imputed"] = self.imputed.ravel()
        if nonzero:
            frame = frame[keep].reset_index(drop=True)
        return frame

    # ------------------------------------------------------------ aggregation

    def aggregate(
        self,
        products: str | Mapping[str, str] | None = None,
        countries: Mapping[str, str] | None = None,
    ) -> Baseline:
        """Sum flows into coarser products and country groups; totals are kept.

        Parameters
        ----------
        products : {"chapter", "section"} or mapping of str to str, optional
            ``"chapter"``: two-digit HS chapters; ``"section"``: HS section numerals
            (``"XVI"``); a mapping from HS prefixes to labels, each product going to
            the label of its longest matching prefix. Every product must be covered.
        countries : mapping of str to str, optional
            Country code -> group code (``{"DEU": "EU27", "FRA": "EU27"}``).
            Countries not in the mapping keep their own code.

        Returns
        -------
        Baseline
            Flows summed; tariffs averaged with the flows as weights (a simple mean
            where the aggregated cell has no trade); a cell is imputed if any part
            of it with trade (or any part, when it has none) was imputed. Trade
            among members of a group lands on the group's diagonal. A baseline
            stored on its cells that trade is summed on them, never made dense (a
            BACI year at HS6, 10 million cells, to chapters in a few seconds and a
            few hundred MB), and the result is dense or on its cells as its size
            warrants (`tradesim.data.layout.choose_layout`).
        """
        prod_labels = self._product_groups(products)
        groups = dict(self.groups)
        if countries is not None:
            unknown = sorted(set(countries) - set(self.countries))
            if unknown:
                raise InputError(f"countries {unknown} are not in this baseline", key="countries")
            for label in set(countries.values()):
                try:
                    validate_countries([label], groups=groups)
                except InputError:
                    groups[label] = f"group defined by aggregation: {sorted(c for c, g in countries.items() if g == label)}"
        if self.layout == "sparse":  # on the cells, never the dense tensors (a whole world at HS6 to chapters)
            flows, tariffs, imputed, new_products, new_exporters, new_importers = \
                self._aggregate_cells(prod_labels, countries)
        else:
            agg, new_products, new_exporters, new_importers = self._aggregator(prod_labels, countries)
            flows = agg(self.flows)
            tariffs = None if self.tariffs is None else self._mean_rates(self.tariffs, agg)
            imputed = None
            if self.imputed is not None:
                any_traded = agg((self.imputed & (self.flows > 0)).astype(float)) > 0
                any_cell = agg(self.imputed.astype(float)) > 0
                imputed = np.where(flows > 0, any_traded, any_cell)
        note = f"aggregated: products={products if isinstance(products, str) or products is None else 'mapping'}"
        if countries:
            note += f", countries={dict(countries)}"
        prov = dict(self.provenance)
        prov["aggregation"] = "; ".join(filter(None, [prov.get("aggregation"), note]))
        return Baseline(None, tuple(new_products), flows, tariffs, self.year, prov, imputed, self.domestic, groups,
                        exporters=tuple(new_exporters), importers=tuple(new_importers))

    def _aggregator(self, prod_labels: list[str], countries: Mapping[str, str] | None):
        """A function summing ``[k, i, j]`` arrays into the groups, and the new axes' labels."""
        def onehot(labels: list[str]) -> tuple[np.ndarray, list[str]]:
            new = list(dict.fromkeys(labels))
            return (np.asarray(labels)[None, :] == np.asarray(new)[:, None]).astype(float), new

        mapping = countries or {}
        P, new_products = onehot(prod_labels)
        X, new_exporters = onehot([mapping.get(c, c) for c in self.exporters])
        M, new_importers = onehot([mapping.get(c, c) for c in self.importers])
        return (lambda x: np.einsum("Kk,Ii,Jj,kij->KIJ", P, X, M, x, optimize=True)), new_products, new_exporters, \
            new_importers

    def _aggregate_cells(self, prod_labels: list[str], countries: Mapping[str, str] | None) -> tuple:
        """`aggregate`'s flows, tariffs and flags of a baseline stored on its cells, summed by group with
        work and memory that grow with its listed cells; the new baseline is dense or on its cells as
        `tradesim.data.layout.choose_layout` picks for its size. The numbers are those of the dense sums:
        flow-weighted mean tariffs, the plain mean over every cell of a group (listed or not) where the
        group has no trade, and the dense sums' flags."""
        mapping = countries or {}

        def index(labels: list[str]) -> tuple[np.ndarray, list[str]]:
            new = list(dict.fromkeys(labels))
            position = {label: g for g, label in enumerate(new)}
            return np.array([position[label] for label in labels], dtype=np.int64), new

        P, new_products = index(prod_labels)
        X, new_exporters = index([mapping.get(c, c) for c in self.exporters])
        M, new_importers = index([mapping.get(c, c) for c in self.importers])
        shape = (len(new_products), len(new_exporters), len(new_importers))
        size = int(np.prod(shape))

        def group(cells) -> np.ndarray:  # each cell's aggregated cell, flattened
            return (P[cells.product] * shape[1] + X[cells.exporter]) * shape[2] + M[cells.importer]

        stored = self.__dict__["_sparse"]
        flows, tariffs, imputed = stored["flows"], stored["tariffs"], stored["imputed"]
        at = group(flows.cells)
        listed = np.unique(at)  # the aggregated cells with a listed flow (increasing: the cells' order)
        place = np.searchsorted(listed, at)
        summed = np.bincount(place, weights=flows.values, minlength=listed.size)
        layout = choose_layout(shape, listed.size)

        def out(on: np.ndarray, values: np.ndarray):  # values at aggregated cells `on` (increasing)
            if layout == "dense":
                full = np.zeros(size, dtype=values.dtype)
                full[on] = values
                return full.reshape(shape)
            return SparseTensor(Cells(shape, on), values)

        new_tariffs = new_imputed = None
        if tariffs is not None:
            # a group's flow-weighted mean where it trades; elsewhere the plain mean over all its cells
            # (unlisted ones at zero), as the dense sums take it
            t_at = group(tariffs.cells)
            on = np.union1d(listed, t_at)
            weighted = np.bincount(np.searchsorted(on, at), weights=flows.values * tariffs.on(flows.cells),
                                   minlength=on.size)
            plain = np.bincount(np.searchsorted(on, t_at), weights=tariffs.values, minlength=on.size)
            k, i, j = np.unravel_index(on, shape)
            members = (np.bincount(P, minlength=shape[0])[k] * np.bincount(X, minlength=shape[1])[i]
                       * np.bincount(M, minlength=shape[2])[j])
            traded = np.zeros(on.size)
            traded[np.searchsorted(on, listed)] = summed
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(traded > 0, weighted / np.where(traded > 0, traded, 1.0), plain / members)
            # a mean lies within its inputs' range (unlisted cells at zero): the last-bit rounding clipped
            values, every = tariffs.values, tariffs.cells.size == int(np.prod(flows.shape))
            rate = np.clip(rate, values.min() if every and values.size else 0.0, values.max(initial=0.0))
            keep = rate != 0
            new_tariffs = out(on[keep], rate[keep])
        if imputed is not None:
            # flagged where a traded member is (a group that trades), or any member (one that does not)
            i_at = group(imputed.cells)
            flagged = i_at[imputed.values]
            on_trade = i_at[imputed.values & (flows.on(imputed.cells) > 0)]
            trades = np.isin(flagged, listed[summed > 0])
            on = np.unique(np.concatenate([on_trade, flagged[~trades]]))
            new_imputed = out(on, np.ones(on.size, bool))
        return (out(listed, summed), new_tariffs, new_imputed, new_products, new_exporters, new_importers)

    def _mean_rates(self, rates: np.ndarray, agg) -> np.ndarray:
        """Flow-weighted means of `rates` ``[..., k, i, j]`` within the cells that `agg` sums."""
        flows = agg(self.flows)
        weighted = np.stack([agg(r) for r in (self.flows * rates).reshape(-1, *self.flows.shape)])
        simple = np.stack([agg(r) for r in rates.reshape(-1, *self.flows.shape)]) / agg(np.ones_like(self.flows))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(flows > 0, weighted / np.where(flows > 0, flows, 1), simple)
        # A mean lies within its inputs' range; clip the last-bit rounding (20 * w / w > 20).
        out = np.clip(out, rates.min(), rates.max())
        return out.reshape(*rates.shape[:-3], *flows.shape)

    def aggregate_rates(
        self,
        rates,
        products: str | Mapping[str, str] | None = None,
        countries: Mapping[str, str] | None = None,
    ) -> np.ndarray:
        """Average tariffs into the products and groups of `aggregate`, weighted by this baseline's flows.

        Use it to run a coarser model (a one-sector GE, say) on tariffs evaluated at
        this baseline's detail.

        Parameters
        ----------
        rates : array_like, ``[..., product, exporter, importer]``
            Fractions on this baseline's coordinates; leading axes (draws, dates) are kept.
        products, countries
            As in `aggregate`.

        Returns
        -------
        numpy.ndarray, ``[..., product group, exporter group, importer group]``
            Means weighted by baseline flows; a simple mean where the cell has no trade.

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"exporter": ["CHN", "CHN"], "importer": ["USA", "USA"],
        ...                    "product": ["85", "95"], "value": [3e9, 1e9]})
        >>> b = Baseline.from_frame(df)
        >>> t = np.zeros(b.flows.shape); t[:, 0, 1] = [0.1, 0.5]
        >>> round(float(b.aggregate_rates(t, products={"85": "goods", "95": "goods"})[0, 0, 1]), 3)
        0.2
        """
        rates = np.asarray(rates, dtype=float)
        if rates.shape[-3:] != self.flows.shape:
            raise InputError(f"rates has shape {rates.shape}, expected [..., product, exporter, importer] ending in "
                             f"{self.flows.shape}", key="rates")
        agg = self._aggregator(self._product_groups(products), countries)[0]
        return self._mean_rates(rates, agg)

    def with_domestic(self, sales, *, method: str) -> Baseline:
        """This baseline with domestic sales on its diagonal (``domestic=True``), marked imputed.

        Parameters
        ----------
        sales : mapping of str to float, pandas.Series or array_like ``[product, country]``
            USD per year, non-negative; a mapping or Series (by country code) needs a
            baseline with one product.
        method : str
            How the sales were made, recorded in ``provenance["domestic"]``.

        Returns
        -------
        Baseline

        Examples
        --------
        >>> import pandas as pd
        >>> df = pd.DataFrame({"exporter": ["CHN"], "importer": ["USA"], "product": ["85"], "value": [1e9]})
        >>> b = Baseline.from_frame(df).with_domestic({"CHN": 5e9, "USA": 8e9}, method="example")
        >>> b.domestic, float(b.flows[0, 1, 1])
        (True, 8000000000.0)
        """
        if not self.square:
            raise InputError("domestic sales sit where a country is on both axes: give a square baseline "
                             f"(this one has {len(self.exporters)} exporters and {len(self.importers)} importers)",
                             key="sales")
        n = len(self.countries)
        if isinstance(sales, Mapping | pd.Series):
            if len(self.products) != 1:
                raise InputError(f"sales by country need a baseline with one product; this one has "
                                 f"{len(self.products)}: give an array [product, country]", key="sales")
            given = dict(sales)
            missing = [c for c in self.countries if c not in given]
            extra = sorted(set(given) - set(self.countries))
            if missing or extra:
                raise InputError(f"sales must cover each country once: missing {missing}, not in the baseline {extra}",
                                 key="sales")
            sales = np.array([[given[c] for c in self.countries]], dtype=float)
        sales = np.asarray(sales, dtype=float)
        if sales.shape != (len(self.products), n):
            raise InputError(f"sales has shape {sales.shape}, expected [product, country] = {(len(self.products), n)}",
                             key="sales")
        bad = ~np.isfinite(sales) | (sales < 0)
        if bad.any():
            k, i = np.nonzero(bad)
            cells = ", ".join(f"{self.products[a]}/{self.countries[b]}={sales[a, b]:g}" for a, b in zip(k[:5], i[:5]))
            raise InputError(f"domestic sales must be finite and >= 0: {cells}", key="sales")
        provenance = {**self.provenance, "domestic": method}
        if self.layout == "sparse":
            return self._with_domestic_cells(sales, provenance)
        flows = np.array(self.flows)
        flows[:, np.arange(n), np.arange(n)] = sales
        imputed = np.zeros(flows.shape, bool) if self.imputed is None else np.array(self.imputed)
        imputed[:, np.arange(n), np.arange(n)] = True
        return Baseline(self.countries, self.products, flows, self.tariffs, self.year, provenance, imputed, True,
                        self.groups)

    def _with_domestic_cells(self, sales: np.ndarray, provenance: dict) -> Baseline:
        """`with_domestic` of a sparse baseline: its cells off the diagonal, and `sales` ``[product, country]``
        on every diagonal cell (listed even where zero, flagged imputed as in the dense layout), without
        building a dense tensor."""
        stored = self.__dict__["_sparse"]
        cells = stored["flows"].cells
        n = cells.shape[1]
        off = cells.exporter != cells.importer
        k, i = np.indices(sales.shape).reshape(2, -1)
        index = np.concatenate([cells.index[off], (k * n + i) * n + i])
        order = np.argsort(index, kind="stable")
        new = Cells(cells.shape, index[order])
        flows = SparseTensor(new, np.concatenate([stored["flows"].values[off], sales[k, i]])[order])
        flags = np.zeros(off.sum(), bool) if stored["imputed"] is None else stored["imputed"].on(cells)[off]
        imputed = SparseTensor(new, np.concatenate([flags, np.ones(k.size, bool)])[order])
        return Baseline(None, self.products, flows, stored["tariffs"], self.year, provenance, imputed, True,
                        self.groups, exporters=self.exporters, importers=self.importers)

    def _product_groups(self, products) -> list[str]:
        if products is None:
            return list(self.products)
        nonhs = [p for p in self.products if not p.isdigit()]
        if nonhs:
            raise InputError(f"products {nonhs[:5]} are not HS codes and cannot be regrouped by HS", key="products")
        if products == "chapter":
            return [p[:2] for p in self.products]
        if products == "section":
            return [CHAPTER_SECTION[p[:2]] for p in self.products]
        if isinstance(products, str):
            raise InputError(f"unknown product aggregation {products!r}; expected 'chapter', 'section' or a mapping")
        validate_products(list(products), key="products mapping")
        labels = np.full(len(self.products), None, dtype=object)
        # Shorter prefixes first, so the longest matching prefix is assigned last and wins.
        for prefix in sorted(products, key=len):
            labels[select_products(self.products, [prefix])] = str(products[prefix])
        uncovered = [p for p, label in zip(self.products, labels) if label is None]
        if uncovered:
            raise InputError(
                f"products {uncovered[:10]} are covered by no prefix of the mapping; map every product",
                key="products mapping",
            )
        return labels.tolist()

    # ---------------------------------------------------------------- summary

    def summary(self) -> pd.DataFrame:
        """Per-country totals in USD billions: exports, imports, balance, domestic sales, imputed share.

        ``exports`` and ``imports`` exclude the diagonal; ``domestic_bn`` (when the baseline has
        domestic sales, used by default or not) is the diagonal. ``imputed_pct`` is the
        share of the country's exports and imports (by value) in imputed cells.
        """
        pair = self.flows.sum(axis=0)  # [exporter, importer]
        dom = self.domestic_mask
        off = np.where(dom, 0.0, pair)
        countries = self.countries
        ex = pd.Index(countries).get_indexer(list(self.exporters))
        im = pd.Index(countries).get_indexer(list(self.importers))
        exports = np.bincount(ex, weights=off.sum(axis=1), minlength=len(countries))
        imports = np.bincount(im, weights=off.sum(axis=0), minlength=len(countries))
        table = pd.DataFrame(
            {
                "name": [country_name(c) if c not in self.groups else self.groups[c] for c in countries],
                "exports_bn": exports / 1e9,
                "imports_bn": imports / 1e9,
                "balance_bn": (exports - imports) / 1e9,
            },
            index=pd.Index(countries, name="country"),
        )
        if self.has_domestic_sales:
            table["domestic_bn"] = np.bincount(im, weights=np.where(dom, pair, 0.0).sum(axis=0),
                                               minlength=len(countries)) / 1e9
        if self.imputed is not None:
            imp = np.where(dom, 0.0, np.where(self.imputed, self.flows, 0.0).sum(axis=0))
            both = np.bincount(ex, weights=imp.sum(axis=1), minlength=len(countries)) + \
                np.bincount(im, weights=imp.sum(axis=0), minlength=len(countries))
            with np.errstate(invalid="ignore"):
                table["imputed_pct"] = 100 * both / (exports + imports)
        return table


def _cut_cells(tensor: SparseTensor, exporters: np.ndarray, importers: np.ndarray) -> SparseTensor:
    """`tensor`'s cells on the chosen `exporters` and `importers` (positions, in their new order)."""
    K, n, m = tensor.shape
    new_i = np.full(n, -1, np.int64)
    new_i[exporters] = np.arange(exporters.size)
    new_j = np.full(m, -1, np.int64)
    new_j[importers] = np.arange(importers.size)
    cells = tensor.cells
    i, j = new_i[cells.exporter], new_j[cells.importer]
    keep = (i >= 0) & (j >= 0)
    out, order = Cells.from_coords(cells.product[keep], i[keep], j[keep], (K, exporters.size, importers.size))
    return SparseTensor(out, tensor.values[keep][order])


def _home(exporters, importers) -> np.ndarray:
    """Position of each importer on the exporter axis, or -1 where it is not an exporter."""
    return pd.Index(exporters).get_indexer(list(importers))
