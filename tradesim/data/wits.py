"""Reader for tariff downloads from WITS (World Integrated Trade Solution) and UNCTAD TRAINS, to make MFN
layers of the tariff law.

Two layouts are read, told apart by their columns (names are matched without regard to case,
spaces or underscores):

- the **tariff query** export of WITS (Advanced Query or Quick Search, "Tariff" results as CSV):
  ``Selected Nomen, Native Nomen, Reporter, Reporter Name, Product, Product Name, Partner,
  Partner Name, Tariff Year, Trade Year, Trade Source, DutyType, Simple Average, Weighted
  Average, Standard Deviation, Minimum Rate, Maximum Rate, Nbr of Total Lines, ...,
  Imports Value in 1000 USD, ...``: one row per reporter, partner, product, year and duty type
  (``MFN`` applied, ``PRF`` preferential, ``AHS`` effectively applied, ``BND`` bound), rates in
  percent;
- the **bulk TRAINS** files of WITS (``AVEMFN_H5_USA_2019_U2/JobID-..._....CSV``, and
  ``AVEPref``): ``NomenCode, Reporter_ISO_N, Year, ProductCode, [Partner,] Sum_Of_Rates,
  Min_Rate, Max_Rate, SimpleAverage, Nbr_NA_Lines, ..., TotalNoOfLines, EstCode``: MFN applied
  rates (with ad valorem equivalents) by HS6 product, or preferential ones by partner.

`read_wits_tariffs` returns one row per importer, product, duty type, partner and year; products
are HS6 codes or national tariff lines as digit strings, leading zeros restored. What the law
needs for an MFN layer is a ``hs_code, rate_pct`` file (`wits_mfn_rates_file`) named by a measure
of ``kind = "mfn"`` with ``rates_file``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import HS_REVISIONS, hs_revision_label, validate_country
from ..errors import InputError
from ..files import read_table, row_labels
from .baseline import MAX_RATE
from .notes import warn_user
from .readers import resolve_countries

__all__ = ["read_wits_tariffs", "wits_mfn_rates_file", "WITS_COLUMNS", "WITS_COUNTRY_MAP"]

#: tradesim name -> the column names (normalised: lower case, letters and digits only) of each layout.
WITS_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "query": {
        "reporter": ("reporter", "reportername"),
        "partner": ("partner", "partnername"),
        "product": ("product",),
        "year": ("tariffyear",),
        "duty_type": ("dutytype",),
        "simple": ("simpleaverage",),
        "weighted": ("weightedaverage",),
        "nomen": ("nativenomen", "selectednomen"),
    },
    "bulk": {
        "reporter": ("reporterison", "reporter"),
        "partner": ("partner",),
        "product": ("productcode",),
        "year": ("year",),
        "simple": ("simpleaverage",),
        "nomen": ("nomencode",),
    },
}
_REQUIRED = {"query": ("reporter", "product", "year", "duty_type", "simple"),
             "bulk": ("reporter", "product", "year", "simple")}
#: WITS' codes and names for the European Union as a reporter: its common external tariff is the EU27's.
WITS_COUNTRY_MAP: dict[str, str] = {"EUN": "EU27", "918": "EU27", "European Union": "EU27"}
_DUTY_TYPES = ("MFN", "PRF", "AHS", "BND")
_WORLD = ("WLD", "000", "0", "World", "")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _columns(frame: pd.DataFrame, src: str) -> tuple[str, dict[str, str]]:
    """The layout of a WITS file and its column for each tradesim name."""
    by_norm = {_norm(c): c for c in frame.columns}
    for layout, names in WITS_COLUMNS.items():
        found = {k: next((by_norm[n] for n in alts if n in by_norm), None) for k, alts in names.items()}
        if all(found[k] for k in _REQUIRED[layout]):
            return layout, {k: v for k, v in found.items() if v}
    raise InputError(
        f"not a WITS/TRAINS tariff file: its columns are {list(frame.columns)}; expected a WITS tariff query export "
        "(Reporter, Product, Tariff Year, DutyType, Simple Average, Weighted Average, Native Nomen, ...) or a bulk "
        "TRAINS file (NomenCode, Reporter_ISO_N, Year, ProductCode, SimpleAverage, ...)",
        source=src,
    )


def read_wits_tariffs(
    path,
    *,
    duty_type: str | None = "MFN",
    rate: str = "simple",
    year: int | None = None,
    importers=None,
    country_map: Mapping[str, str] | None = None,
    country_format: str = "auto",
    hs_revision: str | None = None,
) -> pd.DataFrame:
    """Read a WITS/TRAINS tariff download into a table of rates by importer and product.

    Parameters
    ----------
    path : path-like
        A CSV (optionally compressed) or Parquet file in the WITS tariff query layout or the
        bulk TRAINS layout (see the module's docstring).
    duty_type : {"MFN", "PRF", "AHS", "BND"} or None
        Rows to keep: MFN applied rates by default; None keeps every type. Bulk files without
        a partner column are MFN; with one (``AVEPref``), PRF.
    rate : {"simple", "weighted"} or str
        The rate column: ``"simple"`` (the simple average over the product's tariff lines,
        WITS' ``Simple Average``), ``"weighted"`` (``Weighted Average``, by imports; query
        layout only), or the name of another column.
    year : int, optional
        Tariff year to keep; by default every year in the file.
    importers : sequence of str, optional
        Importers to keep (ISO3 codes or groups, after conversion).
    country_map : mapping of str to str, optional
        Renames of reporter codes or names, applied before conversion. ``EUN``, ``918`` and
        "European Union" read as ``EU27`` unless mapped otherwise (`WITS_COUNTRY_MAP`).
    country_format : {"auto", "iso3"}
        ``"auto"`` converts reporter names, ISO alpha-2 and numeric codes (``Reporter_ISO_N``
        is numeric), reporting each conversion (see `tradesim.codes.convert_countries`).
    hs_revision : str, optional
        The HS revision of the products, when the file has no nomenclature column
        (``Native Nomen``, ``NomenCode``); checked against it when it has one.

    Returns
    -------
    pandas.DataFrame
        Columns ``importer`` (ISO3 or group), ``hs_code`` (digit string: HS6 or a national
        line), ``rate_pct`` (percent, ad valorem), ``duty_type``, ``year`` (int), ``partner``
        (as in the file; ``WLD`` for MFN rates) and ``hs_revision`` (``"HS2022"``...,
        ``"unknown"``), sorted. ``attrs`` holds ``source``, ``layout``, ``rate`` and
        ``set_aside`` and, when some were, ``country_conversion``.

    Raises
    ------
    InputError
        Naming the file, the line and the value: an unknown layout (listing the columns seen),
        a rate that is not a number, negative or above 2,000%, a product code that is not
        digits, a year that is not a year, an unknown or ambiguous reporter, two rows for the
        same importer, product, duty type, partner and year.

    Warns
    -----
    TradesimWarning
        Once: rows set aside (other duty types or years, product groups such as ``Total``,
        rows without an ad valorem rate: specific duties with no equivalent) and reporters
        converted.

    Examples
    --------
    >>> t = read_wits_tariffs("examples/data/wits_tariffs_usa_2025.csv")  # doctest: +SKIP
    >>> t.head(2)  # doctest: +SKIP
      importer hs_code  rate_pct duty_type  year partner hs_revision
    0      USA  020230     10.52       MFN  2025     WLD      HS2022
    """
    src = str(path)
    if duty_type is not None and duty_type not in _DUTY_TYPES:
        raise InputError(f"duty_type={duty_type!r}: expected one of {list(_DUTY_TYPES)} or None", key="duty_type")
    frame = read_table(path, dtype=str)
    layout, cols = _columns(frame, src)
    by_norm = {_norm(c): c for c in frame.columns}
    if rate in ("simple", "weighted"):
        if rate not in cols:
            raise InputError(f"rate={rate!r}: the file has no {rate} average column; its columns are "
                             f"{list(frame.columns)}", source=src, key="rate")
        rate_col = cols[rate]
    elif rate in frame.columns or _norm(rate) in by_norm:
        rate_col = rate if rate in frame.columns else by_norm[_norm(rate)]
    else:
        raise InputError(f"rate={rate!r}: expected 'simple', 'weighted' or a column of the file {list(frame.columns)}",
                         source=src, key="rate")
    text = frame.apply(lambda c: c.fillna("").str.strip() if pd.api.types.is_string_dtype(c) else c)
    table = pd.DataFrame({
        "importer": text[cols["reporter"]],
        "product": text[cols["product"]],
        "year": text[cols["year"]],
        "rate": text[rate_col],
        "partner": text[cols["partner"]] if "partner" in cols else "WLD",
        "duty_type": (text[cols["duty_type"]].str.upper() if "duty_type" in cols
                      else ("PRF" if "partner" in cols else "MFN")),
        "nomen": text[cols["nomen"]].str.upper() if "nomen" in cols else "",
    }, index=frame.index)
    table.loc[table["partner"].isin(_WORLD) & (table["duty_type"] == "MFN"), "partner"] = "WLD"
    set_aside: dict[str, int] = {}

    def keep(mask, why: str) -> None:
        nonlocal table
        mask = np.asarray(mask, bool)
        if (~mask).any():
            set_aside[why] = set_aside.get(why, 0) + int((~mask).sum())
            table = table[mask]

    bad = table.index[~table["year"].str.fullmatch(r"\d{4}")]
    if len(bad):
        raise InputError(f"year {table['year'][bad[0]]!r} is not a year ({row_labels(bad, table.index)})",
                         source=src, key=f"column {cols['year']!r}")
    table["year"] = table["year"].astype(int)
    years = sorted(pd.unique(table["year"]).tolist())
    if year is not None:
        if int(year) not in years:
            raise InputError(f"no rows for year {year}; the file holds {years}", source=src, key="year")
        keep(table["year"] == int(year), "other years")
    if duty_type is not None:
        unknown = sorted(set(table["duty_type"]) - set(_DUTY_TYPES))
        if unknown:
            rows = table.index[table["duty_type"].isin(unknown)]
            raise InputError(f"duty type {unknown[0]!r} is not one of {list(_DUTY_TYPES)} "
                             f"({row_labels(rows, table.index)})", source=src, key=f"column {cols.get('duty_type')!r}")
        keep(table["duty_type"] == duty_type, f"duty types other than {duty_type}")
    keep(table["product"].str.fullmatch(r"\d+"), "product groups (not tariff lines or HS codes)")
    keep(table["rate"] != "", "without an ad valorem rate (specific duties with no equivalent)")
    if table.empty:
        raise InputError(f"no rows left; set aside: {set_aside}", source=src)

    value = pd.to_numeric(table["rate"], errors="coerce")
    bad = table.index[value.isna() | ~np.isfinite(value.fillna(0)) | (value < 0) | (value > 100 * MAX_RATE)]
    if len(bad):
        raise InputError(f"rate {table['rate'][bad[0]]!r} is not a percentage from 0 to {100 * MAX_RATE:,.0f} "
                         f"({row_labels(bad, table.index)})", source=src, key=f"column {rate_col!r}")
    # Leading zeros lost in a spreadsheet: HS codes and national lines have an even number of digits.
    product = table["product"].where(table["product"].str.len() % 2 == 0, "0" + table["product"])
    long = table.index[product.str.len() > 12]
    if len(long):
        raise InputError(f"product code {table['product'][long[0]]!r} is longer than a tariff line "
                         f"({row_labels(long, table.index)})", source=src, key=f"column {cols['product']!r}")

    revision = _revision(table, hs_revision, src, cols.get("nomen"))
    mapping = {**WITS_COUNTRY_MAP, **dict(country_map or {})}
    resolved, notes, done = resolve_countries(table[["importer"]], ("importer",), source=src, unknown=None,
                                              country_map=mapping, country_format=country_format)
    eu = sorted(set(pd.unique(table["importer"])) & (set(WITS_COUNTRY_MAP) - set(country_map or {})))
    if eu:
        notes.append(f"reporters {eu} read as EU27 (the EU's common external tariff)")
        done["eu"] = f"{eu} read as EU27"
    out = pd.DataFrame({
        "importer": resolved["importer"],
        "hs_code": product,
        "rate_pct": value.astype(float),
        "duty_type": table["duty_type"],
        "year": table["year"],
        "partner": table["partner"],
        "hs_revision": revision,
    }, index=table.index)
    if importers is not None:
        keep_mask = out["importer"].isin(list(importers))
        if not keep_mask.any():
            raise InputError(f"none of the importers {list(importers)} is in the file; it has "
                             f"{sorted(pd.unique(out['importer']))}", source=src, key="importers")
        set_aside["other importers"] = int((~keep_mask).sum())
        out = out[keep_mask]
    keys = ["importer", "hs_code", "duty_type", "partner", "year"]
    dup = out.index[out.duplicated(keys, keep=False)]
    if len(dup):
        first = out.loc[dup[0]]
        raise InputError(f"two rows for {first['importer']} {first['duty_type']} {first['hs_code']} from "
                         f"{first['partner']} in {first['year']} ({row_labels(dup, out.index)})", source=src)
    out = out.sort_values(keys).reset_index(drop=True)
    set_aside = {k: n for k, n in set_aside.items() if n}
    said = ", ".join(f"{n} {why}" for why, n in set_aside.items())
    if said:
        notes.insert(0, f"rows set aside: {said}")
    out.attrs = {"source": src, "layout": layout, "rate": rate_col, "set_aside": said or "none", **done}
    if notes:
        warn_user(f"{src}: " + "; ".join(notes))
    return out


def _revision(table: pd.DataFrame, given: str | None, src: str, column: str | None) -> pd.Series:
    """The HS revision of each row: from the nomenclature column (H0-H6), checked against `given`."""
    stated = None if given is None else hs_revision_label(given)
    known = {v: k for k, v in HS_REVISIONS.items()}
    named = table["nomen"].map(known)
    other = table.index[(table["nomen"] != "") & named.isna() & ~table["nomen"].isin(["HS"])]
    if len(other):
        raise InputError(f"nomenclature {table['nomen'][other[0]]!r} is not an HS revision (H0-H6) "
                         f"({row_labels(other, table.index)}): tariffs in other nomenclatures cannot make an MFN layer",
                         source=src, key=f"column {column!r}")
    if stated is not None:
        clash = table.index[named.notna() & (named != stated)]
        if len(clash):
            raise InputError(f"hs_revision={given!r}, but the file says {table['nomen'][clash[0]]} "
                             f"({named[clash[0]]}) ({row_labels(clash, table.index)})", source=src, key="hs_revision")
    return named.fillna(stated or "unknown")


def wits_mfn_rates_file(frame: pd.DataFrame, importer: str, path, *, year: int | None = None,
                        duty_type: str = "MFN") -> Path:
    """Write one importer's rates from `read_wits_tariffs` as the ``hs_code,rate_pct`` file an MFN measure reads.

    A schedule file then names it in a measure of ``kind = "mfn"``::

        [[measures]]
        name = "eu_mfn"
        kind = "mfn"
        importer = "EU27"
        rates_file = "eu_mfn_rates.csv"

    Parameters
    ----------
    frame : pandas.DataFrame
        The table `read_wits_tariffs` returns.
    importer : str
        ISO3 code or group (``"EU27"``).
    path : path-like
        The CSV file to write (its folder must exist; nothing else is written).
    year : int, optional
        The tariff year, required when the importer has several.
    duty_type : str
        The rows to write (``"MFN"``).

    Returns
    -------
    pathlib.Path
        The file written: ``hs_code,rate_pct``, one row per product, sorted.

    Raises
    ------
    InputError
        When the importer or year has no rows (listing those that have), when it has several
        years and `year` is not given, or when a product has two rates.

    Warns
    -----
    TradesimWarning
        When the rows are not in HS 2022, the revision of tradesim's product lists.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"importer": ["USA", "USA"], "hs_code": ["870323", "950300"], "rate_pct": [2.5, 0.0],
    ...                   "duty_type": "MFN", "year": 2025, "partner": "WLD", "hs_revision": "HS2022"})
    >>> p = wits_mfn_rates_file(t, "USA", "us_mfn.csv")  # doctest: +SKIP
    >>> open(p).read()  # doctest: +SKIP
    'hs_code,rate_pct\\n870323,2.5\\n950300,0.0\\n'
    """
    validate_country(importer, key="importer")
    needed = {"importer", "hs_code", "rate_pct", "duty_type", "year"}
    if not needed <= set(frame.columns):
        raise InputError(f"the table lacks columns {sorted(needed - set(frame.columns))}: pass what "
                         "read_wits_tariffs returns", key="frame")
    rows = frame[(frame["importer"] == importer) & (frame["duty_type"] == duty_type)]
    if rows.empty:
        have = sorted(pd.unique(frame.loc[frame["duty_type"] == duty_type, "importer"]))
        raise InputError(f"no {duty_type} rates for {importer}; the table has them for {have}", key="importer")
    years = sorted(pd.unique(rows["year"]).tolist())
    if year is None and len(years) > 1:
        raise InputError(f"{importer} has {duty_type} rates for years {years}; pass year=", key="year")
    if year is not None:
        if int(year) not in years:
            raise InputError(f"no {duty_type} rates for {importer} in {year}; it has {years}", key="year")
        rows = rows[rows["year"] == int(year)]
    dup = rows["hs_code"].duplicated(keep=False)
    if dup.any():
        raise InputError(f"product {rows['hs_code'][dup].iloc[0]!r} has {int(dup.sum())} rates for {importer} "
                         "(several partners?): keep one row per product", key="frame")
    if "hs_revision" in rows.columns:
        other = sorted(set(rows["hs_revision"]) - {"HS2022"})
        if other:
            warn_user(f"{importer}'s {duty_type} rates are in {', '.join(other)}, and tradesim's product lists and "
                      "baselines are in HS2022: codes that changed between revisions will match the wrong goods or "
                      "none")
    out = rows[["hs_code", "rate_pct"]].sort_values("hs_code")
    path = Path(path)
    out.to_csv(path, index=False, lineterminator="\n")
    return path
