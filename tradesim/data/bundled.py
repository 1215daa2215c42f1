"""Bundled baselines and the fact tables they are built from (see README.md in this folder)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

import pandas as pd

from .baseline import Baseline
from ..errors import InputError
from ..files import read_table

__all__ = ["list_baselines", "load_baseline", "gdp_2024"]


def _catalogue() -> dict:
    with resources.files(__package__).joinpath("baselines.toml").open("rb") as fh:
        return tomllib.load(fh)


def list_baselines() -> pd.DataFrame:
    """Bundled baselines: name, year, exporters, importers, as-of date, version, licence and description."""
    rows = []
    for name, meta in _catalogue().items():
        exporters, importers = _axes(meta)
        rows.append({"name": name, "year": meta["year"], "exporters": len(exporters), "importers": len(importers),
                     "as_of": str(meta.get("as_of", "")), "version": meta.get("version", ""),
                     "licence": meta.get("licence", ""), "description": meta["description"]})
    return pd.DataFrame(rows).set_index("name")


def _axes(meta: dict) -> tuple[list[str], list[str]]:
    if "countries" in meta:
        return list(meta["countries"]), list(meta["countries"])
    return list(meta["exporters"]), list(meta["importers"])


def baseline_axes(ref: str) -> tuple[list[str], list[str]]:
    """Exporters and importers of a bundled baseline (from its catalogue) or of a tidy file (its two
    country columns only), without loading the flows."""
    catalogue = _catalogue()
    if ref in catalogue:
        return _axes(catalogue[ref])
    frame = read_table(ref, dtype=str, usecols=["exporter", "importer"])
    return sorted(pd.unique(frame["exporter"])), sorted(pd.unique(frame["importer"]))


def provenance(name: str) -> dict[str, str]:
    """Where a bundled baseline comes from: sources, build script, as-of date, version and licence."""
    catalogue = _catalogue()
    if name not in catalogue:
        raise InputError(f"no bundled baseline {name!r}; bundled: {sorted(catalogue)}", key="baseline")
    meta = catalogue[name]
    out = {"name": name, "description": meta["description"], "sources": "; ".join(meta["sources"]),
           "built_by": meta["built_by"]}
    for key in ("as_of", "version", "licence", "set_aside"):
        if key in meta:
            out[key] = str(meta[key])
    return out


@lru_cache(maxsize=8)
def load_baseline(name: str) -> Baseline:
    """Load a bundled baseline by name (see `list_baselines`).

    Parameters
    ----------
    name : str
        For example ``"demo-2024"``.

    Returns
    -------
    Baseline
        With ``imputed`` marking every cell not taken from statistics for that pair and
        product, and ``provenance`` naming the sources, the build script, the as-of date,
        the version and the licence.

    Examples
    --------
    >>> b = load_baseline("demo-2024")
    >>> round(b.trade("CHN", "USA") / 1e9, 1)
    429.4
    """
    catalogue = _catalogue()
    if name not in catalogue:
        raise InputError(f"no bundled baseline {name!r}; bundled: {sorted(catalogue)}", key="baseline")
    meta = catalogue[name]
    with resources.files(__package__).joinpath(meta["file"]).open("rb") as fh:
        frame = pd.read_csv(fh, dtype={"exporter": str, "importer": str, "product": str},
                            compression="gzip" if meta["file"].endswith(".gz") else None)
    frame["imputed"] = frame["imputed"].astype(bool)
    products = sorted(set(frame["product"]))
    if meta.get("all_chapters"):
        products = sorted(set(products) | {f"{c:02d}" for c in range(1, 98) if c != 77})
    exporters, importers = _axes(meta)
    info = provenance(name)
    info["methods"] = ", ".join(sorted(frame["method"].unique()))
    square = "countries" in meta
    return Baseline.from_frame(
        frame,
        imputed="imputed",
        countries=exporters if square else None,
        exporters=None if square else exporters,
        importers=None if square else importers,
        products=products,
        year=meta["year"],
        domestic=meta["domestic"],
        provenance=info,
        source=f"tradesim/data/{meta['file']}",
    )


def _facts(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


def gdp_2024() -> pd.DataFrame:
    """GDP in 2024 of the bundled baselines' economies and of the rest of the world (ROW), USD.

    The 15 economies are IMF figures (`facts_gdp_2024.csv`, graded one source). ROW is
    imputed: world GDP in 2024, taken as the geometric mean of the IMF's 2023 estimate and
    2025 projection (`facts_world_gdp.csv`; the table found gives no 2024 value), less the 15.

    Returns
    -------
    pandas.DataFrame
        Indexed by country code: ``value_usd``, ``imputed`` (bool) and ``source``.

    Examples
    --------
    >>> g = gdp_2024()
    >>> round(float(g.loc["USA", "value_usd"]) / 1e12, 2), bool(g.loc["ROW", "imputed"])
    (29.17, True)
    """
    named = _facts("facts_gdp_2024.csv").set_index("country")
    world = _facts("facts_world_gdp.csv").set_index("year")["value_usd"].astype(float)
    world_2024 = float((world[2023] * world[2025]) ** 0.5)
    out = pd.DataFrame({"value_usd": named["value_usd"].astype(float), "imputed": False,
                        "source": named["vintage"]})
    out.loc["ROW"] = [world_2024 - out["value_usd"].sum(), True,
                      "imputed: IMF world GDP (geometric mean of the Oct-2025 WEO 2023 estimate and 2025 projection) "
                      "less the economies above"]
    out.index.name = "country"
    return out
