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
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import pandas as pd

from ..errors import InputError, TradesimWarning
from ..files import read_table, row_labels
from .baseline import Baseline
from .readers import check_values, pad_codes, resolve_countries, restrict_countries

__all__ = ["read_comtrade"]

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
    },
}
_REQUIRED = ("period", "flow", "reporter", "partner", "product", "value")
# Legacy files code flows as numbers.
_LEGACY_FLOWS = {"1": "M", "2": "X", "3": "RX", "4": "RM"}
_WORLD = {"W00", "WLD"}
# Values meaning "all" in the breakdown columns; blank also means no breakdown.
_TOTALS = {"partner2": {"0", "W00", ""}, "customs": {"C00", ""}, "transport": {"0", ""}}


def _layout(frame: pd.DataFrame, src: str) -> dict[str, str]:
    for name, cols in _LAYOUTS.items():
        if all(cols[c] in frame.columns for c in _REQUIRED):
            return {k: v for k, v in cols.items() if v in frame.columns}
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
    countries, rest, unknown, country_map
        As in `tradesim.io.read_baci`.

    Returns
    -------
    Baseline
        Flows in USD as reported; no domestic sales.

    Raises
    ------
    InputError
        Unknown layout, missing file, non-ISO codes (unless mapped), non-numeric or
        negative values, duplicate rows, several periods without `period`, mixed
        product levels without `product_level`.
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
    table = resolve_countries(
        table, ("exporter", "importer"), source=src, unknown=unknown, country_map=country_map, value="value"
    )
    table = restrict_countries(table, ("exporter", "importer"), countries, rest)
    table = table.groupby(["exporter", "importer", "product"], as_index=False, sort=False)["value"].sum()
    if set_aside:
        warnings.warn(
            f"{src}: rows set aside (not trade of flow {flow} at HS{use}): "
            + ", ".join(f"{n} {why}" for why, n in set_aside.items()),
            TradesimWarning,
            stacklevel=2,
        )
    year = str(period or frame["period"].iloc[0])[:4]
    return Baseline.from_frame(
        table,
        year=int(year) if year.isdigit() else None,
        domestic=False,
        source=src,
        provenance={
            "source": "UN Comtrade",
            "file": src,
            "flow": f"{flow} ({'imports, reported by the importer' if flow == 'M' else 'exports, reported by the exporter'})",
            "units": "USD as reported (imports CIF, exports FOB)",
            "set aside": "; ".join(f"{n} rows: {why}" for why, n in set_aside.items()) or "none",
        },
    )
