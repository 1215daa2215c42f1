"""Reader for UN Comtrade bulk CSV files (Comtrade Plus layout, and the legacy layout).

Comtrade rows are reported by a country about its trade with a partner. The
reader turns reporter and partner into exporter and importer by the flow:
imports (``M``) are flows from the partner to the reporter, exports (``X``)
from the reporter to the partner. Values are in USD (imports usually CIF,
exports FOB, as reported).

Rows that would double count are set aside, counted and reported in a warning
and in the provenance: other flows than the one asked for, partner "World",
commodity "TOTAL", and breakdowns by second partner, customs procedure or mode
of transport (only their totals are kept).

The HS revision comes from the classification column (``classificationCode`` in
Comtrade Plus, ``Classification`` in the legacy layout: ``H5`` is HS 2017, ``H6``
HS 2022) and is recorded in the baseline's provenance (``hs_revision``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..codes import HS_REVISIONS, hs_revision_label
from ..errors import InputError
from ..files import read_table, row_labels
from .baseline import Baseline
from .notes import warn_user
from .readers import check_values, pad_codes, resolve_countries, restrict_countries

__all__ = ["read_comtrade", "COMTRADE_LAYOUTS", "comtrade_layout"]

# tradesim name -> (Comtrade Plus column, legacy bulk column)
_LAYOUTS = {
    "plus": {
        "period": "period",
        "flow": "flowCode",
        "reporter": "reporterISO",
        "partner": "partnerISO",
        "product": "cmdCode",
        "level": "aggrLevel",
        "value": "primaryValue",
        "partner2": "partner2Code",
        "customs": "customsCode",
        "transport": "motCode",
        "classification": "classificationCode",
    },
    "legacy": {
        "period": "Period",
        "flow": "Trade Flow Code",
        "reporter": "Reporter ISO",
        "partner": "Partner ISO",
        "product": "Commodity Code",
        "level": "Aggregate Level",
        "value": "Trade Value (US$)",
        "partner2": "2nd Partner Code",
        "customs": "Customs Proc. Code",
        "transport": "Mode of Transport Code",
        "classification": "Classification",
    },
}
#: The column names of the two Comtrade layouts (tradesim name -> Comtrade's), for `tradesim.data.open_baseline`.
COMTRADE_LAYOUTS = _LAYOUTS
_REQUIRED = ("period", "flow", "reporter", "partner", "product", "value")
# Legacy files code flows as numbers.
_LEGACY_FLOWS = {"1": "M", "2": "X", "3": "RX", "4": "RM"}
_WORLD = {"W00", "WLD"}
# Values meaning "all" in the breakdown columns; blank also means no breakdown.
_TOTALS = {"partner2": {"0", "W00", ""}, "customs": {"C00", ""}, "transport": {"0", ""}}


def comtrade_layout(columns) -> str | None:
    """``"plus"`` or ``"legacy"`` when `columns` hold the required columns of that Comtrade layout, else None."""
    for name, cols in _LAYOUTS.items():
        if all(cols[c] in set(columns) for c in _REQUIRED):
            return name
    return None


def _layout(frame: pd.DataFrame, src: str) -> dict[str, str]:
    name = comtrade_layout(frame.columns)
    if name:
        return {k: v for k, v in _LAYOUTS[name].items() if v in frame.columns}
    raise InputError(
        "not a UN Comtrade bulk file: expected the Comtrade Plus columns "
        f"{[_LAYOUTS['plus'][c] for c in _REQUIRED]} or the legacy columns "
        f"{[_LAYOUTS['legacy'][c] for c in _REQUIRED]}; found {list(frame.columns)}",
        source=src,
    )


def read_comtrade(
    path,
    *,
    flow: str = "M",
    period: str | int | None = None,
    product_level: int | None = None,
    countries: Sequence[str] | None = None,
    rest: str = "ROW",
    unknown: str = "error",
    country_map: Mapping[str, str] | None = None,
    hs_revision: str | None = None,
    country_format: str = "auto",
) -> Baseline:
    """Read a UN Comtrade bulk CSV into a `Baseline` (values in USD).

    Parameters
    ----------
    path : path-like
        Comtrade Plus bulk or API CSV (``reporterISO, partnerISO, flowCode, cmdCode,
        aggrLevel, primaryValue, ...``) or a legacy bulk CSV (``Reporter ISO, Partner
        ISO, Trade Flow Code, Commodity Code, Trade Value (US$), ...``).
    flow : {"M", "X"}
        Use imports (the reporter is the importer) or exports (the reporter is the exporter).
    period : str or int, optional
        Period to keep (``2023`` or ``202301``) when the file holds several.
    product_level : {2, 4, 6}, optional
        HS digits. Rows at that level are used when present; otherwise the finest
        level in the file is summed to it. Required when the file mixes levels.
    countries, rest, unknown, country_map, country_format
        As in `tradesim.data.read_baci`; names, ISO alpha-2 and numeric codes in the
        reporter and partner columns are converted with ``country_format="auto"``.
    hs_revision : str, optional
        The HS revision (``"HS2017"``, ``"H5"``). Read from the classification column by
        default; required when the file has none, or only ``HS`` ("as reported", each
        reporter's own revision); ``"unknown"`` reads the file without one.

    Returns
    -------
    Baseline
        Flows in USD as reported; no domestic sales. The provenance records
        ``hs_revision``, the rows set aside and the country codes converted.

    Raises
    ------
    InputError
        Unknown layout, missing file, non-ISO codes (unless mapped), non-numeric or
        negative values, duplicate rows, several periods without `period`, mixed
        product levels without `product_level`, rows in several HS revisions, an HS
        revision that the file does not give and `hs_revision` does not state (or
        contradicts).

    Warns
    -----
    TradesimWarning
        Once: the rows set aside, the country codes converted and those folded into ``ROW``.

    Examples
    --------
    >>> b = read_comtrade("examples/data/comtrade_2023.csv", flow="M")  # doctest: +SKIP
    >>> b.provenance["hs_revision"]  # doctest: +SKIP
    'HS2022'
    """
    src = str(path)
    if flow not in ("M", "X"):
        raise InputError(f"flow={flow!r}: expected 'M' (imports) or 'X' (exports)", key="flow")
    if product_level not in (None, 2, 4, 6):
        raise InputError(f"product_level={product_level!r}: expected 2, 4 or 6", key="product_level")
    frame = read_table(path, dtype=str, usecols=None)
    cols = _layout(frame, src)
    frame = frame[list(cols.values())].rename(columns={v: k for k, v in cols.items()})
    frame = frame.apply(lambda col: col.fillna("").str.strip())
    if "level" not in cols:
        frame["level"] = ""
    set_aside: dict[str, int] = {}

    def keep(mask: pd.Series, why: str) -> None:
        nonlocal frame
        dropped = int((~mask).sum())
        if dropped:
            set_aside[why] = set_aside.get(why, 0) + dropped
            frame = frame[mask]

    periods = sorted(frame["period"].unique())
    if period is None and len(periods) > 1:
        raise InputError(f"the file holds periods {periods}; pass period= to pick one", source=src)
    if period is not None:
        if str(period) not in periods:
            raise InputError(f"no rows for period {period}; the file holds {periods}", source=src)
        keep(frame["period"] == str(period), "other periods")
    if cols["flow"] == "Trade Flow Code":
        frame["flow"] = frame["flow"].map(_LEGACY_FLOWS).fillna(frame["flow"])
    keep(frame["flow"] == flow, "other flows than " + flow)
    keep(~frame["partner"].isin(_WORLD) & ~frame["reporter"].isin(_WORLD), "partner World")
    keep(frame["product"].str.upper() != "TOTAL", "commodity TOTAL")
    for dim, totals in _TOTALS.items():
        if dim in frame.columns:
            keep(frame[dim].isin(totals), f"breakdowns by {dim}")

    levels = sorted({int(x) for x in frame["level"] if x.isdigit()})
    if any(not x.isdigit() for x in frame["level"]):
        lengths = frame["product"].str.len()
        bad = frame.index[(lengths % 2 == 1) | (lengths > 6)]
        if len(bad):
            raise InputError(
                f"product code {frame['product'][bad[0]]!r} has lost its leading zero and the file has no "
                f"aggregation level column to restore it ({row_labels(bad, frame.index)})",
                source=src,
            )
        frame["level"] = lengths.astype(str)
        levels = sorted(set(lengths))
    if product_level is None:
        if len(levels) > 1:
            raise InputError(f"the file mixes product levels {levels}; pass product_level= to pick one", source=src)
        product_level = levels[0] if levels else 6
        use = product_level
    else:
        finer = [lv for lv in levels if lv >= product_level]
        if not finer:
            raise InputError(f"no rows at HS{product_level} or finer; the file has levels {levels}", source=src)
        use = product_level if product_level in levels else max(finer)
    keep(frame["level"] == str(use), f"product levels other than HS{use}")
    if frame.empty:
        raise InputError(f"no rows left after selecting flow {flow}; set aside: {set_aside}", source=src)

    revision = _revision(frame, hs_revision, src, cols.get("classification"))
    exporter, importer = ("partner", "reporter") if flow == "M" else ("reporter", "partner")
    dup = frame.index[frame.duplicated(["reporter", "partner", "product"], keep=False)]
    if len(dup):
        raise InputError(f"duplicate reporter, partner and product ({row_labels(dup, frame.index)})", source=src)
    table = pd.DataFrame(
        {
            "exporter": frame[exporter],
            "importer": frame[importer],
            "product": pad_codes(frame["product"], use, src, cols["product"]).str[:product_level],
            "value": check_values(frame["value"], src, cols["value"]),
        },
        index=frame.index,
    )
    table, notes, done = resolve_countries(
        table, ("exporter", "importer"), source=src, unknown=unknown, country_map=country_map, value="value",
        country_format=country_format,
    )
    table = restrict_countries(table, ("exporter", "importer"), countries, rest)
    table = table.groupby(["exporter", "importer", "product"], as_index=False, sort=False)["value"].sum()
    if set_aside:
        notes.insert(0, f"rows set aside (not trade of flow {flow} at HS{use}): "
                     + ", ".join(f"{n} {why}" for why, n in set_aside.items()))
    year = str(period or frame["period"].iloc[0])[:4]
    baseline = Baseline.from_frame(
        table,
        year=int(year) if year.isdigit() else None,
        domestic=False,
        source=src,
        provenance={
            "source": "UN Comtrade",
            "file": src,
            "layout": "comtrade",
            "flow": f"{flow} ({'imports, reported by the importer' if flow == 'M' else 'exports, reported by the exporter'})",
            "units": "USD as reported (imports CIF, exports FOB)",
            "set aside": "; ".join(f"{n} rows: {why}" for why, n in set_aside.items()) or "none",
            "hs_revision": revision,
            **done,
        },
    )
    if notes:
        warn_user(f"{src}: " + "; ".join(notes))
    return baseline


def _revision(frame: pd.DataFrame, given: str | None, src: str, column: str | None) -> str:
    """The HS revision of the rows kept: from the classification column, checked against `given`."""
    stated = None if given is None else hs_revision_label(given)
    found = pd.unique(frame["classification"]) if "classification" in frame.columns else []
    known = {v: k for k, v in HS_REVISIONS.items()}
    named = [known[c] for c in found if c in known]
    if len(named) > 1:
        lines = "; ".join(f"{c} ({known[c]}) in {row_labels(frame.index[frame['classification'] == c], frame.index)}"
                          for c in found if c in known)
        raise InputError(f"the rows mix HS revisions: {lines}; read each revision from a file of its own "
                         "(and convert with tradesim.data.to_hs2022)", source=src, key=f"column {column!r}")
    other = [c for c in found if c not in known]
    if named and other:
        rows = frame.index[frame["classification"].isin(other)]
        raise InputError(f"rows in classification {other} ({row_labels(rows, frame.index)}) beside rows in "
                         f"{found[0]} ({named[0]}): read them from a file of their own", source=src,
                         key=f"column {column!r}")
    if named:
        if stated not in (None, named[0]):
            raise InputError(f"hs_revision={given!r}, but the file's classification is {found[0]} ({named[0]})",
                             source=src, key="hs_revision")
        return named[0]
    if stated:
        return stated
    why = (f"its classification column holds {list(found)} (HS as reported: each reporter's own revision)"
           if len(found) else "it has no classification column (classificationCode or Classification)")
    raise InputError(f"cannot tell the HS revision of this Comtrade file: {why}; pass hs_revision='HS2017' "
                     "(or the revision the data are in), or hs_revision='unknown' to read it without one",
                     source=src, key="hs_revision")
