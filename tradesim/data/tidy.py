"""Reader for tidy tables of flows: one row per exporter, importer and product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..codes import COUNTRY_GROUPS, hs_revision_label
from ..files import read_table, require_columns
from .baseline import Baseline
from .notes import warn_user
from .readers import resolve_countries

__all__ = ["read_flows", "TIDY_COLUMNS"]

#: The columns of a tidy table of flows, by their default names.
TIDY_COLUMNS = ("exporter", "importer", "product", "value")


def read_flows(
    path,
    *,
    exporter: str = "exporter",
    importer: str = "importer",
    product: str = "product",
    value: str = "value",
    tariff: str | None = None,
    imputed: str | None = None,
    year: int | None = None,
    countries: Sequence[str] | None = None,
    products: Sequence[str] | None = None,
    domestic: bool | None = None,
    groups: Mapping[str, str] | None = None,
    exporters: Sequence[str] | None = None,
    importers: Sequence[str] | None = None,
    country_format: str = "auto",
    country_map: Mapping[str, str] | None = None,
    hs_revision: str | None = None,
) -> Baseline:
    """Read a tidy CSV or Parquet file of flows into a `Baseline`.

    Parameters
    ----------
    path : path-like
        ``.csv`` (optionally compressed) or ``.parquet``.
    exporter, importer, product, value : str
        Column names; values in USD. Product codes are read as text so that
        leading zeros survive; in Parquet they must be stored as strings.
    tariff, imputed : str, optional
        Columns with baseline tariffs (fractions) and imputation flags.
    year, countries, products, domestic, groups, exporters, importers
        As in `Baseline.from_frame` (`exporters` and `importers` give a rectangular baseline).
    country_format : {"auto", "iso3"}
        ``"auto"`` (default) converts country names, ISO alpha-2 and ISO numeric codes in the
        exporter and importer columns to alpha-3 and reports each conversion (see
        `tradesim.codes.convert_countries`); ``"iso3"`` takes alpha-3 codes and groups only.
    country_map : mapping of str to str, optional
        Labels to rename before that, as written in the file (``{"Korea": "KOR"}``).
    hs_revision : str, optional
        The HS revision of the product codes (``"HS2017"``, ``"H5"``); recorded as
        ``provenance["hs_revision"]``, ``"unknown"`` when not given.

    Raises
    ------
    InputError
        Naming the file, the line and the value: missing file or column, unknown or
        ambiguous country (``"Korea"``, with the countries it matches), unknown HS code,
        NaN or negative value, duplicate rows.

    Warns
    -----
    TradesimWarning
        Once, listing each country label converted and its code.

    Examples
    --------
    >>> b = read_flows("flows.csv", value="value_usd")  # doctest: +SKIP
    >>> b = read_flows("imports.csv", exporter="partner", importer="reporter",
    ...                hs_revision="HS2017")  # doctest: +SKIP
    """
    columns = [c for c in (exporter, importer, product, value, tariff, imputed) if c]
    text = {exporter: str, importer: str, product: str}
    frame = read_table(path, dtype=text)
    require_columns(frame, columns, str(path), "a table of flows")
    if imputed and pd.api.types.is_string_dtype(frame[imputed]):
        frame[imputed] = frame[imputed].str.strip().str.lower().map({"true": True, "false": False, "1": True, "0": False})
    # Countries are converted here (once, reported once); from_frame then sees alpha-3 codes only.
    frame, notes, done = resolve_countries(frame, (exporter, importer), source=str(path), unknown=None,
                                           country_map=country_map, value=value, country_format=country_format,
                                           groups=COUNTRY_GROUPS if groups is None else groups)
    baseline = Baseline.from_frame(
        frame,
        exporter=exporter,
        importer=importer,
        product=product,
        value=value,
        tariff=tariff,
        imputed=imputed,
        year=year,
        countries=list(countries) if countries is not None else None,
        products=list(products) if products is not None else None,
        domestic=domestic,
        groups=groups,
        exporters=list(exporters) if exporters is not None else None,
        importers=list(importers) if importers is not None else None,
        source=str(path),
        provenance={"source": str(path), "file": str(path), "layout": "tidy",
                    "hs_revision": "unknown" if hs_revision is None else hs_revision_label(hs_revision), **done},
        country_format="iso3",
    )
    if notes:
        warn_user(f"{path}: " + "; ".join(notes))
    return baseline
