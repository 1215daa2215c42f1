"""Reader for tidy tables of flows: one row per exporter, importer and product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from ..files import read_table, require_columns
from .baseline import Baseline

__all__ = ["read_flows"]


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

    Raises
    ------
    InputError
        Naming the file, the line and the value: missing file or column, unknown
        country or HS code, NaN or negative value, duplicate rows.

    Examples
    --------
    >>> b = read_flows("flows.csv", value="value_usd")  # doctest: +SKIP
    """
    columns = [c for c in (exporter, importer, product, value, tariff, imputed) if c]
    text = {exporter: str, importer: str, product: str}
    frame = read_table(path, dtype=text)
    require_columns(frame, columns, str(path), "a table of flows")
    if imputed and pd.api.types.is_string_dtype(frame[imputed]):
        frame[imputed] = frame[imputed].str.strip().str.lower().map({"true": True, "false": False, "1": True, "0": False})
    return Baseline.from_frame(
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
        provenance={"source": str(path)},
    )
