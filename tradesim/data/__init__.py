"""Bundled baselines and the fact tables they are built from (see README.md in this folder)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

import pandas as pd

from ..baseline import Baseline
from ..errors import InputError

__all__ = ["list_baselines", "load_baseline", "list_schedules", "load_schedule", "gdp_2024"]


def _catalogue() -> dict:
    with resources.files(__name__).joinpath("baselines.toml").open("rb") as fh:
        return tomllib.load(fh)


def list_baselines() -> pd.DataFrame:
    """Bundled baselines: name, year, number of countries and description."""
    rows = [
        {"name": name, "year": meta["year"], "countries": len(meta["countries"]), "description": meta["description"]}
        for name, meta in _catalogue().items()
    ]
    return pd.DataFrame(rows).set_index("name")


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
        With ``imputed`` marking every cell not taken from statistics for that
        pair and product, and ``provenance`` naming the sources and the build script.

    Examples
    --------
    >>> b = load_baseline("demo-2024")
    >>> round(b.trade("CHN", "USA") / 1e9, 1)
    438.9
    """
    catalogue = _catalogue()
    if name not in catalogue:
        raise InputError(f"no bundled baseline {name!r}; bundled: {sorted(catalogue)}", key="baseline")
    meta = catalogue[name]
    with resources.files(__name__).joinpath(meta["file"]).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype={"exporter": str, "importer": str, "product": str})
    frame["imputed"] = frame["imputed"].astype(bool)
    products = [f"{c:02d}" for c in range(1, 98) if c != 77]
    provenance = {
        "name": name,
        "description": meta["description"],
        "sources": "; ".join(meta["sources"]),
        "built_by": meta["built_by"],
        "methods": ", ".join(sorted(frame["method"].unique())),
    }
    return Baseline.from_frame(
        frame,
        imputed="imputed",
        countries=meta["countries"],
        products=sorted(set(products) | set(frame["product"])),
        year=meta["year"],
        domestic=meta["domestic"],
        provenance=provenance,
        source=f"tradesim/data/{meta['file']}",
    )


def _facts(name: str) -> pd.DataFrame:
    with resources.files(__name__).joinpath(name).open("r", encoding="utf-8") as fh:
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


def _schedule_files() -> dict[str, object]:
    folder = resources.files(__name__).joinpath("schedules")
    return {f.name[: -len(".toml")]: f for f in folder.iterdir() if f.name.endswith(".toml")}


def list_schedules() -> pd.DataFrame:
    """Bundled tariff schedules: name, number of measures and description."""
    rows = []
    for name, file in sorted(_schedule_files().items()):
        with file.open("rb") as fh:
            data = tomllib.load(fh)
        meta = data.get("schedule", {})
        rows.append({"name": name, "measures": len(data.get("measures", [])), "description": meta.get("description", "")})
    return pd.DataFrame(rows, columns=["name", "measures", "description"]).set_index("name")


@lru_cache(maxsize=8)
def load_schedule(name: str):
    """Load a bundled tariff schedule by name (see `list_schedules`), e.g. ``"us-china-2025"``.

    Returns
    -------
    TariffSchedule

    Examples
    --------
    >>> s = load_schedule("us-china-2025")
    >>> round(100 * s.rate("2025-04-14", "950300", "CHN", "USA"))
    145
    """
    from ..io.schedule import read_schedule

    files = _schedule_files()
    if name not in files:
        raise InputError(f"no bundled schedule {name!r}; bundled: {sorted(files)}", key="schedule")
    with resources.as_file(files[name]) as path:
        return read_schedule(path)
