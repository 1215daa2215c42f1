"""Helpers shared by the trade-data readers: checking values and codes, resolving country codes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..codes import COUNTRY_GROUPS, convert_countries, describe_conversions
from ..errors import InputError
from ..files import row_labels


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
    columns: tuple[str, ...],
    *,
    source: str,
    unknown: str = "error",
    country_map: Mapping[str, str] | None = None,
    value: str | None = None,
    names: Mapping[str, str] | None = None,
    country_format: str = "auto",
    groups: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Turn the country columns of a table into ISO 3166 alpha-3 codes, saying what was done.

    In order: `country_map` renames labels as written in the file (``{"S19": "TWN"}``,
    ``{"Korea": "KOR"}``); `tradesim.codes.convert_countries` converts names, ISO alpha-2 and
    ISO numeric codes (``country_format="auto"``); then labels that convert to no country are
    dealt with by `unknown`: ``"error"`` raises an `InputError` listing each label with its name
    (from `names`), lines, trade value and close matches; ``"ROW"`` folds them into ``ROW``;
    None raises without offering ``ROW`` (for readers that cannot sum folded rows). A
    label that matches two countries (``"Korea"``) is always an `InputError`: it is never
    guessed, nor folded into ``ROW``.

    Returns
    -------
    frame : pandas.DataFrame
        A copy with the columns converted.
    notes : list of str
        What was converted and folded, for the reader's one warning.
    provenance : dict of str to str
        ``country_conversion`` and ``folded_into_ROW`` entries, when something was done.
    """
    if unknown not in ("error", "ROW", None):
        raise InputError(f"unknown={unknown!r}: expected 'error' or 'ROW'", key="unknown")
    groups = COUNTRY_GROUPS if groups is None else groups
    frame = frame.copy()
    if country_map:
        for col in columns:
            frame[col] = frame[col].replace(dict(country_map))
    table = convert_countries(pd.unique(pd.concat([frame[c] for c in columns]).dropna()), groups=groups,
                              country_format=country_format)
    for col in columns:
        blank = frame.index[frame[col].isna() | (frame[col].astype(str).str.strip() == "")]
        if len(blank):
            namibia = (" (a blank may be Namibia's ISO alpha-2 code NA, which CSV readers take for a missing "
                       "value: write NAM)") if (table["how"] == "ISO alpha-2").any() else ""
            raise InputError(f"blank {col} code in {row_labels(blank, frame.index)}{namibia}", source=source,
                             key=f"column {col!r}")
    failed = table[table["code"].isna()]
    if len(failed):
        amounts = pd.to_numeric(frame[value], errors="coerce") if value else None

        def describe(labels) -> str:
            out = []
            for label in labels:  # the distinct failed labels only, to name their lines and values
                rows = frame.index[np.logical_or.reduce([frame[c].to_numpy() == label for c in columns])]
                named = f" ({names[label]})" if names and label in names else ""
                usd = f"{amounts[rows].sum():,.0f} USD in " if amounts is not None else ""
                out.append(f"{label!r}{named}: {usd}{row_labels(rows, frame.index)}{table.at[label, 'hint']}")
            return "; ".join(out)

        ambiguous = failed.index[failed["candidates"].map(len) > 0]
        if len(ambiguous):
            raise InputError(
                f"country labels that match more than one country: {describe(ambiguous)}. Say which with "
                "country_map={label: 'ISO3'}",
                source=source,
                key=f"column {columns[0]!r}" if len(columns) == 1 else None,
            )
        if unknown != "ROW":
            fold = " or fold them into ROW with unknown='ROW'" if unknown else ""
            raise InputError(
                f"country codes that convert to no ISO 3166 country: {describe(failed.index)}. Map them with "
                f"country_map={{code: 'ISO3'}}{fold}",
                source=source,
                key=f"column {columns[0]!r}" if len(columns) == 1 else None,
            )
        folded = describe(failed.index)
    else:
        folded = ""
    codes = table["code"].where(table["code"].notna(), "ROW")
    converted = table["how"] != ""
    if converted.any() or folded:
        for col in columns:
            frame[col] = frame[col].map(codes)
    notes, provenance = [], {}
    if converted.any():
        said = describe_conversions(table)
        notes.append(f"country labels converted to ISO 3166 alpha-3: {said}")
        provenance["country_conversion"] = said
    if folded:
        notes.append(f"folded into ROW: {folded}")
        provenance["folded_into_ROW"] = folded
    return frame, notes, provenance


def restrict_countries(frame: pd.DataFrame, columns: tuple[str, str], countries, rest: str) -> pd.DataFrame:
    """Keep the listed countries and fold every other one into the group `rest` (``ROW``)."""
    if countries is None:
        return frame
    frame = frame.copy()
    for col in columns:
        frame.loc[~frame[col].isin(countries), col] = rest
    return frame


