"""Bundled baselines and the fact tables they are built from (see README.md in this folder)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from .baseline import Baseline
from ..codes import COUNTRY_GROUPS, country_problem, hs_problem
from ..errors import InputError
from ..files import read_table, require_columns, row_labels
from ..kept import table_kept

__all__ = ["list_baselines", "list_fine_values", "load_baseline", "load_fine_values", "gdp_2024", "member_column",
           "members_problem"]

#: Bundled tables of trade values finer than a bundled baseline's products (for the law's shares).
FINE_VALUES = {"fine-values-2024": ("fine-values-2024.csv.gz",
                                    "demo-2024's US imports at HTS8 and China's imports from the US on the "
                                    "lines of its 2025 lists, USD 2024 (see the data README)")}


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
    country columns only, as written), without loading the flows.

    `tradesim.data.baseline_axes` takes every layout that `tradesim.data.open_baseline` opens (BACI and
    Comtrade files, tidy files with country names) and reader options; use it for new code."""
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
    for key in ("as_of", "version", "licence", "set_aside", "hs_revision"):
        if key in meta:
            out[key] = str(meta[key])
    if "domestic_file" in meta:  # the key with_domestic writes, so both kinds of domestic sales say how they were made
        out["domestic"] = f"{meta['domestic_method']} ({meta['domestic_file']}, built by {meta['domestic_built_by']})"
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
        product, ``provenance`` naming the sources, the build script, the as-of date, the
        version and the licence, and, where the file has duties collected (us-imports-2024),
        ``tariffs``: the measured applied rate of each cell (duties over value, so preferences
        as actually used). A baseline whose catalogue entry names a ``domestic_file``
        (demo-2024) has domestic sales on its diagonal, imputed and flagged, with the method in
        ``provenance["domestic"]``; its ``domestic`` flag is the catalogue's (False for
        demo-2024: PE models imports only unless asked, general equilibrium uses the diagonal).

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
    frame = pd.concat([_read_cells(meta[key]) for key in ("file", "domestic_file") if key in meta],
                      ignore_index=True)
    frame["imputed"] = frame["imputed"].astype(bool)
    tariff = None
    if "duty" in frame.columns:  # the measured applied rate: duties collected over value, preferences included
        frame["tariff"] = frame["duty"] / frame["value"]
        tariff = "tariff"
    products = sorted(set(frame["product"]))
    if meta.get("all_chapters"):
        products = sorted(set(products) | {f"{c:02d}" for c in range(1, 98) if c != 77})
    exporters, importers = _axes(meta)
    info = provenance(name)
    info["methods"] = ", ".join(sorted(frame["method"].unique()))
    info["layout"] = "bundled"
    square = "countries" in meta
    return Baseline.from_frame(
        frame,
        imputed="imputed",
        tariff=tariff,
        countries=exporters if square else None,
        exporters=None if square else exporters,
        importers=None if square else importers,
        products=products,
        year=meta["year"],
        domestic=meta["domestic"],
        provenance=info,
        source=f"tradesim/data/{meta['file']}",
    )


def _read_cells(name: str) -> pd.DataFrame:
    """A bundled tidy file of cells (plain or gzip CSV)."""
    with resources.files(__package__).joinpath(name).open("rb") as fh:
        return pd.read_csv(fh, dtype={"exporter": str, "importer": str, "product": str},
                           compression="gzip" if name.endswith(".gz") else None)


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


def list_fine_values() -> pd.DataFrame:
    """Bundled tables of finer trade values, and the bundled baselines that can serve as such."""
    rows = [{"name": k, "kind": "table", "description": d} for k, (_, d) in FINE_VALUES.items()]
    rows += [{"name": k, "kind": "baseline", "description": v["description"]} for k, v in _catalogue().items()]
    return pd.DataFrame(rows).set_index("name")


def is_bundled_fine_values(ref) -> bool:
    """Whether `ref` names bundled fine values (a table of `FINE_VALUES` or a bundled baseline, see
    `list_fine_values`): data that do not change within a session, so that what is computed from them
    can be kept for the next run."""
    return isinstance(ref, str) and (ref in FINE_VALUES or ref in _catalogue())


@lru_cache(maxsize=4)
def _bundled_fine_values(name: str) -> pd.DataFrame:
    """A bundled fine-values table, read once per session (scenario runs and ensembles read it every run)."""
    with resources.files(__package__).joinpath(FINE_VALUES[name][0]).open("rb") as fh:
        frame = pd.read_csv(fh, dtype={"product": str, "exporter": str, "importer": str, "member": str},
                            compression="gzip", usecols=lambda c: c != "source", keep_default_na=False)
    if "member" in frame.columns:
        frame["member"] = frame["member"].str.strip()
    return frame


def load_fine_values(ref: str, *, relative_to=None):
    """Finer trade values for the law's shares: a bundled table, a bundled baseline, or a file.

    Parameters
    ----------
    ref : str
        A name of `list_fine_values` (a baseline name gives the baseline itself) or the path
        of a tidy CSV or Parquet file with columns ``product`` (HS code), ``value`` (USD) and
        optionally ``exporter``, ``importer`` and ``member``. A ``member`` names a country (or
        group) inside an aggregate exporter (``ROW``, ``EU27``) whose values the row gives: the
        law then evaluates each member and weights them by value (`tradesim.law.members`); it
        is blank on ordinary rows, and allowed only where the exporter is an aggregate.
    relative_to : path-like, optional
        The folder a relative path is resolved in (that of the scenario file naming it).

    Returns
    -------
    pandas.DataFrame or Baseline

    Raises
    ------
    InputError
        For a missing file or column, a code that is not HS, a negative, blank or non-numeric
        value, an unknown country code, or a member on a row whose exporter is not an aggregate,
        naming the file, the line and the value.
    """
    from pathlib import Path


    if ref in FINE_VALUES:
        return _bundled_fine_values(ref).copy()  # a copy: the caller may change it, the cache must not
    if ref in _catalogue():
        return load_baseline(ref)
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = Path(relative_to) / path
    frame = read_table(path, dtype=str)
    require_columns(frame, ["product", "value"], str(path), "fine values")
    bad = frame.index[frame["product"].isna() | frame["product"].map(lambda c: hs_problem(c) is not None)]
    if len(bad):
        raise InputError(f"{hs_problem(frame['product'][bad[0]]) or 'blank HS code'} ({row_labels(bad, frame.index)})",
                         source=str(path), key="column 'product'")
    value = pd.to_numeric(frame["value"], errors="coerce")
    bad = frame.index[value.isna() | (value < 0)]
    if len(bad):
        raw = frame["value"][bad[0]]
        shown = "blank" if pd.isna(raw) or not str(raw).strip() else repr(str(raw))
        raise InputError(f"value {shown} is not a number >= 0 ({row_labels(bad, frame.index)})",
                         source=str(path), key="column 'value'")
    for col in ("exporter", "importer"):
        if col in frame.columns:
            unknown = [c for c in frame[col].dropna().unique() if country_problem(c, COUNTRY_GROUPS)]
            if unknown:
                rows = frame.index[frame[col].isin(unknown)]
                raise InputError(f"{country_problem(unknown[0], COUNTRY_GROUPS)} ({row_labels(rows, frame.index)})",
                                 source=str(path), key=f"column {col!r}")
    if "member" in frame.columns:
        frame["member"] = member_column(frame)
        if problem := members_problem(frame):
            raise InputError(problem, source=str(path), key="column 'member'")
    return frame.assign(value=value)


def member_column(frame: pd.DataFrame) -> np.ndarray | None:
    """Each row's ``member`` of a fine-values table, stripped text (``""`` where blank or missing), or None
    without the column. Read through its distinct values (a few dozen codes over many rows)."""
    coded = _members(frame)
    return None if coded is None else coded[0][coded[1]]


def _members(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """``(text, row)``: the ``member`` column's distinct values as stripped text (``""`` last, for missing)
    and each row's position among them; None without the column."""
    if not isinstance(frame, pd.DataFrame) or "member" not in frame.columns:
        return None
    codes, distinct = pd.factorize(frame["member"], use_na_sentinel=True)  # -1: missing, the appended ""
    return np.array([str(c).strip() for c in distinct] + [""], dtype=object), codes


def members_problem(frame: pd.DataFrame) -> str | None:
    """What is wrong with the ``member`` column of a fine-values table, naming the row and the value, or None.

    A member must be a country code or a group (`tradesim.codes.COUNTRY_GROUPS`), other than its
    exporter, on a row whose exporter is an aggregate (a group such as ``ROW`` or ``EU27``);
    blank (empty or missing) on ordinary rows. A table without the column has no problem.
    """
    coded = _members(frame)
    if coded is None:
        return None
    text, member = coded  # checked on the distinct values, rows found by their positions (no text per row)
    named = (text != "")[member]
    if not named.any():
        return None
    if "exporter" not in frame.columns or "importer" not in frame.columns:
        return "a member column needs exporter and importer columns: a member belongs to an aggregate exporter"
    raw = frame["member"]
    used = np.zeros(text.size, bool)
    used[member[named]] = True
    bad = [int(k) for k in np.flatnonzero(used) if country_problem(text[k], COUNTRY_GROUPS)]
    if bad:
        at = np.flatnonzero(np.isin(member, bad) & named)
        rows = frame.index[at]
        return (f"member {raw[rows[0]]!r}: {country_problem(text[member[at[0]]], COUNTRY_GROUPS)} "
                f"({row_labels(rows, frame.index)}); expected a country code or a group")
    codes, distinct = pd.factorize(frame["exporter"], use_na_sentinel=False)
    distinct = np.asarray(distinct, dtype=str)
    not_aggregate = named & ~np.isin(distinct, list(COUNTRY_GROUPS))[codes]
    if not_aggregate.any():
        rows = frame.index[not_aggregate]
        return (f"member {raw[rows[0]]!r} on exporter {str(distinct[codes[np.flatnonzero(not_aggregate)[0]]])!r} "
                f"({row_labels(rows, frame.index)}): members are allowed only where the exporter is an aggregate "
                f"({', '.join(COUNTRY_GROUPS)}); leave member blank on other rows")
    # a member that is its own exporter: the member's text as an exporter position, compared by position
    as_exporter = pd.Index(distinct).get_indexer(text.astype(str))  # -1: not an exporter
    same = named & (as_exporter[member] == codes) & (distinct != "ROW")[codes]
    if same.any():
        rows = frame.index[same]
        return (f"member {raw[rows[0]]!r} is its own exporter ({row_labels(rows, frame.index)}): "
                "a group's members are countries")
    return None


def fine_values_problem(fine, products, source: str = "fine_values") -> str | None:
    """What is wrong with fine values for a baseline's products: codes that nest under none of them.

    A table's answer is kept for later checks of a table of the same content on the same products
    (`table_kept`): a scenario's runs check the same bundled table on the same baseline."""
    if fine is None or not isinstance(fine, pd.DataFrame):
        return None
    prods = tuple(str(p) for p in products)
    return table_kept(fine, ("fine_values_problem", prods), lambda: _fine_values_problem(fine, prods))


def _fine_values_problem(fine: pd.DataFrame, products: tuple) -> str | None:
    """`fine_values_problem` of a table, computed."""
    if (problem := members_problem(fine)) is not None:
        return problem
    codes = np.asarray(pd.unique(np.asarray(pd.unique(fine["product"]), dtype=str)), dtype=str)  # distinct, then text
    prods = np.asarray(list(products), dtype=str)
    lengths = np.char.str_len(prods)
    nests = np.zeros(codes.size, bool)
    for n in np.unique(lengths):  # one test per product code length
        nests |= np.isin(codes.astype(f"<U{n}"), prods[lengths == n]) & (np.char.str_len(codes) >= n)
    if nests.all():
        return None
    shown = ", ".join(repr(str(c)) for c in codes[~nests][:5])
    return (f"{int((~nests).sum())} product codes nest under none of the baseline's products (for example {shown}); "
            "fine values must be finer codes of the baseline's products")
