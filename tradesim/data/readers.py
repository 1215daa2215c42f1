"""Helpers shared by the trade-data readers: checking values and codes, resolving country codes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..files import row_labels
from ..codes import COUNTRY_GROUPS, country_problem
from ..errors import InputError, TradesimWarning


def check_values(values: pd.Series, source: str, column: str) -> np.ndarray:
    """Numeric, finite and non-negative values, or an `InputError` naming the lines."""
    num = pd.to_numeric(values, errors="coerce")
    bad = values.index[num.isna() | ~np.isfinite(num.fillna(0)) | (num < 0)]
    if len(bad):
        raise InputError(
            f"value {values[bad[0]]!r} is not a number >= 0 ({row_labels(bad, values.index)}); "
            "blank, NaN or negative trade values are not accepted",
            source=source,
            key=f"column {column!r}",
        )
    return num.to_numpy(np.float64)


def pad_codes(codes: pd.Series, digits: int, source: str, column: str) -> pd.Series:
    """Restore leading zeros that spreadsheets strip from HS codes (``10121`` -> ``"010121"``).

    The number of digits must be known (BACI is always HS6; Comtrade states the
    level), so padding restores the code exactly rather than guessing.
    """
    text = codes.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    bad = text.index[~text.str.fullmatch(r"\d+")]
    if len(bad):
        raise InputError(
            f"product code {codes[bad[0]]!r} is not a number ({row_labels(bad, codes.index)})",
            source=source,
            key=f"column {column!r}",
        )
    too_long = text.index[text.str.len() > digits]
    if len(too_long):
        raise InputError(
            f"product code {text[too_long[0]]!r} has more than {digits} digits ({row_labels(too_long, codes.index)})",
            source=source,
            key=f"column {column!r}",
        )
    return text.str.zfill(digits)


def resolve_countries(
    frame: pd.DataFrame,
    columns: tuple[str, str],
    *,
    source: str,
    unknown: str,
    country_map: Mapping[str, str] | None,
    value: str,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Apply `country_map`, then deal with codes that are not ISO 3166 alpha-3.

    ``unknown="error"`` raises an `InputError` listing each code with its name,
    lines and trade value; ``unknown="ROW"`` folds them into ``ROW`` and warns
    with the same list, so nothing moves silently.
    """
    if unknown not in ("error", "ROW"):
        raise InputError(f"unknown={unknown!r}: expected 'error' or 'ROW'", key="unknown")
    frame = frame.copy()
    if country_map:
        for col in columns:
            frame[col] = frame[col].replace(dict(country_map))
    codes = pd.unique(pd.concat([frame[c] for c in columns]))
    bad = [c for c in codes if country_problem(c, COUNTRY_GROUPS)]
    if not bad:
        return frame
    described = []
    for code in bad:
        rows = frame.index[(frame[columns[0]] == code) | (frame[columns[1]] == code)]
        total = frame.loc[rows, value].sum()
        label = f" ({names[code]})" if names and code in names else ""
        described.append(f"{code!r}{label}: {total:,.0f} USD in {row_labels(rows, frame.index)}")
    listing = "; ".join(described)
    if unknown == "error":
        raise InputError(
            f"codes that are not ISO 3166 alpha-3 countries: {listing}. Map them with "
            "country_map={code: 'ISO3'} or fold them into ROW with unknown='ROW'",
            source=source,
        )
    warnings.warn(f"{source}: folded into ROW: {listing}", TradesimWarning, stacklevel=3)
    for col in columns:
        frame.loc[frame[col].isin(bad), col] = "ROW"
    return frame


def restrict_countries(frame: pd.DataFrame, columns: tuple[str, str], countries, rest: str) -> pd.DataFrame:
    """Keep the listed countries and fold every other one into the group `rest` (``ROW``)."""
    if countries is None:
        return frame
    frame = frame.copy()
    for col in columns:
        frame.loc[~frame[col].isin(countries), col] = rest
    return frame


