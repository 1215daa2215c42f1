"""Build the bundled table of measured 2024 US imports by partner and product.

Writes two files into ``tradesim/data/``:

``us-imports-2024.csv.gz``
    US imports for consumption in 2024, one row per exporter and product with
    trade, columns ``exporter, importer, product, value, duty, imputed, method``
    (gzip with a fixed header, so that the same input gives the same bytes).
``facts_us_imports_2024.csv``
    The same data summed to HS chapters for the 14 partners of the bundled
    ``demo-2024`` baseline and for the rest of the world as ``demo-2024`` defines
    it (every other partner). ``scripts/build_demo_2024.py`` reads it, so that
    the demo baseline can be rebuilt without ``shared/reference``.

Usage::

    python scripts/build_us_imports_2024.py            # writes both files
    python scripts/build_us_imports_2024.py --check    # exits 1 if a committed file differs
    python scripts/build_us_imports_2024.py --reference PATH/TO/shared/reference

Inputs
------
All under ``shared/reference`` (by default the folder beside the repository):

- ``us_trade_2024/us_imports_2024_by_partner_hs2.csv``: imports for consumption
  (Census ``CON_VAL``) and calculated duty (``CAL_DUT``) in USD for 225
  partners and the EU aggregate (Census code ``0003``), by HS chapter.
- ``us_trade_2024/us_imports_2024_by_partner_hs8.csv.gz``: the same at HTS
  8-digit detail for 50 countries and the EU aggregate.
- ``us_law_2025/yale/policy_params.yaml``: the Census codes of the 27 EU members
  (``eu27_codes``).
- ``us_law_2025/tradewartracker/CensusCountryMapping_FRBAtl_short.csv``: an
  independent Census-code to ISO alpha-3 table, used only to cross-check.

Census data are US government works in the public domain; the files were
compiled by ``tradewartracker/trade-war-redux-2025`` (MIT; notice in
``tradesim/data/LICENSES/``).

Steps
-----
1. Read both files as text and check every row: four-digit Census codes,
   two- or eight-digit product codes, values present, numeric, non-negative and
   whole dollars, one name per Census code, no partner and product twice. Any
   problem stops the build with the file, the line and the value.
2. Map Census country names to ISO 3166 alpha-3 codes with ``pycountry`` (names
   compared without accents and with "ST" read as "SAINT"), plus the explicit
   table `CENSUS_NAMES` for names the library does not know. Every code must
   resolve and agree with the cross-check table where that has the code.
3. Check the data against themselves: the EU aggregate equals the sum of its 27
   members in every chapter (imports and duty), and every partner's HTS8 rows
   sum exactly to its HS2 rows in every chapter.
4. Exporters: each country of the HTS8 file by its ISO code, except EU members
   (Slovakia, code 4359, is there both alone and inside the aggregate), which
   are counted inside ``EU27`` only; ``EU27`` from the aggregate's HTS8 rows;
   ``ROW``, the sum of every other partner of the HS2 file (measured at HS2
   only, so its products are chapter codes). A prefix selector such as ``"85"``
   therefore sums HTS8 and chapter rows correctly. Chapters 98 and 99 (US
   special classification provisions, not HS chapters) are kept as they are in
   the data.
5. Rows with zero imports cannot give a duty rate. Those with positive duty
   would be set aside and counted (there are none in these files); those with
   zero duty hold no trade and are left out. Both counts are printed and must
   match the ``set_aside`` note of the catalogue entry in ``baselines.toml``.
6. Check the published figures (USD bn, to 0.05): total 3,251.2, China 429.4,
   Mexico 503.4, Canada 411.7, Vietnam 141.4, EU27 597.5; China's collected
   duty rate 10.87% (to 0.01 point).

Every value is measured: ``imputed`` is false on every row and ``method`` is
"Census imports for consumption".
"""

from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pycountry
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tradesim" / "data"
OUT = DATA / "us-imports-2024.csv.gz"
FACTS = DATA / "facts_us_imports_2024.csv"
CATALOGUE = DATA / "baselines.toml"
NAME = "us-imports-2024"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"

HS2_FILE = Path("us_trade_2024") / "us_imports_2024_by_partner_hs2.csv"
HS8_FILE = Path("us_trade_2024") / "us_imports_2024_by_partner_hs8.csv.gz"
EU_FILE = Path("us_law_2025") / "yale" / "policy_params.yaml"
CROSSCHECK_FILE = Path("us_law_2025") / "tradewartracker" / "CensusCountryMapping_FRBAtl_short.csv"

EU_AGGREGATE = "0003"
METHOD = "Census imports for consumption"
SOURCE = "US Census Bureau, imports for consumption and calculated duty, 2024, via tradewartracker/trade-war-redux-2025"

#: The partners of the bundled demo-2024 baseline (scripts/build_demo_2024.py, COUNTRIES without USA and ROW).
DEMO_PARTNERS = ["CHN", "CAN", "MEX", "JPN", "KOR", "TWN", "VNM", "IND", "DEU", "GBR", "BRA", "AUS", "THA", "MYS"]

#: Census names that pycountry does not resolve, with their ISO 3166 alpha-3 code. Only these; every
#: other name must resolve through the library. An entry that the library also resolves must agree.
CENSUS_NAMES = {
    "KOREA, SOUTH": "KOR",  # Republic of Korea; Census puts the qualifier last
    "BURMA": "MMR",  # Census keeps the former English name of Myanmar
    "RUSSIA": "RUS",  # ISO: Russian Federation
    "TURKEY": "TUR",  # ISO short name Türkiye since 2022
    "MACEDONIA": "MKD",  # North Macedonia since 2019
    "BRUNEI": "BRN",  # ISO: Brunei Darussalam
    "MACAU": "MAC",  # ISO spelling Macao
    "MICRONESIA": "FSM",  # Micronesia, Federated States of
    "VATICAN CITY": "VAT",  # ISO: Holy See (Vatican City State)
    "SINT MAARTEN": "SXM",  # ISO: Sint Maarten (Dutch part)
    "FALKLAND ISLANDS (ISLAS MALVINAS)": "FLK",  # ISO: Falkland Islands (Malvinas)
    "SVALBARD, JAN MAYEN ISLAND": "SJM",  # ISO: Svalbard and Jan Mayen
    "PITCAIRN ISLANDS": "PCN",  # ISO: Pitcairn
    "ST HELENA": "SHN",  # ISO: Saint Helena, Ascension and Tristan da Cunha
    "DEMOCRATIC REPUBLIC OF THE CONGO": "COD",  # ISO: Congo, The Democratic Republic of the
    # Census records the two Palestinian territories separately (5082, 5083); ISO has one code for
    # both. They fall in ROW, where sharing a code is harmless; a named exporter may not share one.
    "GAZA STRIP ADMINISTERED BY ISRAEL": "PSE",
    "WEST BANK ADMINISTERED BY ISRAEL": "PSE",
}

#: Published check figures (shared/reference/us_trade_2024/README.md), USD bn, to 0.05.
CHECK_TOTALS_BN = {None: 3251.2, "CHN": 429.4, "MEX": 503.4, "CAN": 411.7, "VNM": 141.4, "EU27": 597.5}
CHECK_CHINA_RATE_PCT = 10.87

# Counts that the inputs are documented to have; a different count means a different input file.
EXPECTED_PARTNERS_HS2 = 225
EXPECTED_COUNTRIES_HS8 = 50
EXPECTED_ROW_PARTNERS = 149


class BuildError(Exception):
    """A problem with the inputs or a failed check; the message names the file, the row and the value."""


# ---------------------------------------------------------------------------
# Reading and checking the inputs
# ---------------------------------------------------------------------------


def _lines(index: pd.Index) -> str:
    """File line numbers of rows (header is line 1), the first few of them."""
    lines = [int(i) + 2 for i in index[:5]]
    more = f" and {len(index) - 5} more" if len(index) > 5 else ""
    return f"line {lines[0]}" if len(index) == 1 else f"lines {', '.join(map(str, lines))}{more}"


def _check_pattern(path: Path, frame: pd.DataFrame, column: str, pattern: str, expected: str) -> None:
    bad = ~frame[column].fillna("").str.fullmatch(pattern)
    if bad.any():
        first = frame.index[bad.to_numpy()][0]
        raise BuildError(
            f"{path}: {_lines(frame.index[bad.to_numpy()])}: column {column!r} = {frame.at[first, column]!r}, "
            f"expected {expected}"
        )


def _check_values(path: Path, frame: pd.DataFrame, column: str) -> pd.Series:
    """Whole, non-negative USD values of `column` as int64; raise naming the first bad row otherwise."""
    text = frame[column]
    number = pd.to_numeric(text, errors="coerce")
    for bad, what in (
        (number.isna(), "a number"),
        (number < 0, "a non-negative value"),
        (number.notna() & (number != number.round()), "whole US dollars"),
    ):
        if bad.any():
            rows = frame.index[bad.to_numpy()]
            raise BuildError(f"{path}: {_lines(rows)}: column {column!r} = {text[rows[0]]!r}, expected {what}")
    return number.astype("int64")


def read_census(path: Path, product: str, value: str, duty: str) -> pd.DataFrame:
    """Read a Census partner-by-product file and check every row.

    Parameters
    ----------
    path : Path
        ``us_imports_2024_by_partner_hs2.csv`` or ``..._hs8.csv.gz``.
    product, value, duty : str
        Names of the product-code, imports and duty columns in that file.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (Census country code), ``name``, ``product``, ``value``
        and ``duty`` (int64 USD), indexed by row number in the file (line - 2).

    Raises
    ------
    BuildError
        Missing file or column, a malformed code, a missing, non-numeric, negative
        or fractional value, a partner and product listed twice, or a Census code
        with two names (or a name with two codes).
    """
    if not path.is_file():
        raise BuildError(f"{path}: file not found (pass --reference with the folder holding shared/reference)")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("CTY_CODE", "CTY_NAME", product, value, duty) if c not in frame.columns]
    if missing:
        raise BuildError(f"{path}: missing columns {missing}; found {list(frame.columns)}")
    digits = 2 if product == "HS2" else 8
    _check_pattern(path, frame, "CTY_CODE", r"\d{4}", "a four-digit Census country code")
    _check_pattern(path, frame, product, rf"\d{{{digits}}}", f"a {digits}-digit product code")
    _check_pattern(path, frame, "CTY_NAME", r"\S.*\S", "a country name")
    out = pd.DataFrame(
        {
            "code": frame["CTY_CODE"],
            "name": frame["CTY_NAME"],
            "product": frame[product],
            "value": _check_values(path, frame, value),
            "duty": _check_values(path, frame, duty),
        }
    )
    twice = out.duplicated(["code", "product"], keep=False)
    if twice.any():
        rows = out.index[twice.to_numpy()]
        r = out.loc[rows[0]]
        raise BuildError(
            f"{path}: {_lines(rows)}: partner {r['code']} ({r['name']}) and product {r['product']} appear twice"
        )
    pairs = out[["code", "name"]].drop_duplicates()
    for col, other in (("code", "name"), ("name", "code")):
        several = pairs[pairs.duplicated(col, keep=False)]
        if len(several):
            first = several.iloc[0][col]
            rows = out.index[(out[col] == first).to_numpy()]
            found = sorted(several[several[col] == first][other])
            raise BuildError(f"{path}: {_lines(rows)}: {col} {first!r} has several {other}s {found}")
    return out


def read_eu27(path: Path) -> dict[str, str]:
    """Census codes of the 27 EU members from the ``eu27_codes`` table of ``policy_params.yaml``."""
    if not path.is_file():
        raise BuildError(f"{path}: file not found")
    table = yaml.safe_load(path.read_text(encoding="utf-8")).get("eu27_codes") or {}
    codes = {str(k): str(v) for k, v in table.items()}
    if len(codes) != 27 or not all(re.fullmatch(r"\d{4}", c) for c in codes):
        raise BuildError(f"{path}: eu27_codes has {len(codes)} entries {sorted(codes)}, expected 27 four-digit codes")
    return codes


# ---------------------------------------------------------------------------
# Census names to ISO 3166 alpha-3
# ---------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Upper case without accents: 'Curaçao' -> 'CURACAO'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper().strip()


def _pycountry_index() -> dict[str, str]:
    """Folded ISO 3166 names (short, official and common) -> alpha-3."""
    index: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if hasattr(c, attr):
                index.setdefault(_fold(getattr(c, attr)), set()).add(c.alpha_3)
    return {name: codes.pop() for name, codes in index.items() if len(codes) == 1}


def iso_codes(names: pd.DataFrame, source: Path, crosscheck: Path) -> pd.Series:
    """ISO alpha-3 code of every Census country code.

    Parameters
    ----------
    names : pandas.DataFrame
        Columns ``code`` and ``name`` (Census), one row per partner, indexed by
        the row number of the partner's first row in `source`.
    source : Path
        The file the names come from, for error messages.
    crosscheck : Path
        ``CensusCountryMapping_FRBAtl_short.csv`` (``CTY_CODE, ISO3, country``).

    Returns
    -------
    pandas.Series
        ISO alpha-3 indexed by Census code.

    Raises
    ------
    BuildError
        A name neither pycountry nor `CENSUS_NAMES` resolves, an explicit entry
        that contradicts the library, or a code on which the cross-check table
        disagrees.
    """
    index = _pycountry_index()
    folded = names["name"].map(_fold)
    library = folded.map(index).fillna(folded.str.replace(r"^ST ", "SAINT ", regex=True).map(index))
    explicit = names["name"].map(CENSUS_NAMES)
    clash = library.notna() & explicit.notna() & (library != explicit)
    if clash.any():
        r = names[clash].iloc[0]
        raise BuildError(
            f"{source}: {_lines(names.index[clash.to_numpy()][:1])}: CENSUS_NAMES maps {r['name']!r} to {CENSUS_NAMES[r['name']]}, "
            f"but pycountry gives {library[clash].iloc[0]}"
        )
    iso = library.fillna(explicit)
    if iso.isna().any():
        r = names[iso.isna()].iloc[0]
        raise BuildError(
            f"{source}: {_lines(names.index[iso.isna().to_numpy()][:1])}: column 'CTY_NAME' = {r['name']!r} "
            f"(Census code {r['code']}) has no ISO 3166 code: pycountry does not know the name; "
            "add it to CENSUS_NAMES in scripts/build_us_imports_2024.py"
        )
    iso.index = names["code"].to_numpy()
    table = pd.read_csv(crosscheck, dtype=str, keep_default_na=False).set_index("CTY_CODE")["ISO3"]
    common = iso.index.intersection(table.index)
    differ = common[(iso[common] != table[common]).to_numpy()]
    if len(differ):
        c = differ[0]
        raise BuildError(f"{crosscheck}: Census code {c} is {table[c]} there, but its name maps to {iso[c]} here")
    return iso


# ---------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------


@dataclass
class Build:
    """What one run produces: the table, the demo facts, the exporter order and the set-aside counts."""

    table: pd.DataFrame
    facts: pd.DataFrame
    exporters: list[str]
    set_aside: str
    counts: dict[str, int]


def _chapter_sums(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(chapter=frame["product"].str[:2]).groupby(["code", "chapter"])[["value", "duty"]].sum()


def check_eu_aggregate(hs2: pd.DataFrame, eu: dict[str, str], path: Path) -> None:
    """The EU aggregate equals the sum of its 27 members in every chapter (imports and duty), to the dollar."""
    absent = sorted(set(eu) - set(hs2["code"]))
    if absent:
        raise BuildError(f"{path}: EU members {absent} ({[eu[c] for c in absent]}) have no rows")
    members = hs2[hs2["code"].isin(list(eu))].groupby("product")[["value", "duty"]].sum()
    aggregate = hs2[hs2["code"] == EU_AGGREGATE].set_index("product")[["value", "duty"]]
    both = aggregate.merge(members, how="outer", left_index=True, right_index=True, suffixes=("", "_members")).fillna(0)
    gap = (both[["value", "duty"]].to_numpy() - both[["value_members", "duty_members"]].to_numpy())
    off = abs(gap).max(axis=1) > 1  # values are whole dollars: allow one dollar of rounding
    if off.any():
        ch = both.index[off][0]
        raise BuildError(
            f"{path}: chapter {ch}: EU aggregate (code {EU_AGGREGATE}) imports {both.at[ch, 'value']:,.0f}, duty "
            f"{both.at[ch, 'duty']:,.0f}; its 27 members sum to {both.at[ch, 'value_members']:,.0f} and "
            f"{both.at[ch, 'duty_members']:,.0f}"
        )


def check_hs8_against_hs2(hs8: pd.DataFrame, hs2: pd.DataFrame, path8: Path) -> None:
    """Every partner of the HTS8 file has, per chapter, the same imports and duty as in the HS2 file."""
    fine = _chapter_sums(hs8)
    coarse = hs2[hs2["code"].isin(hs8["code"].unique())].set_index(["code", "product"])[["value", "duty"]]
    coarse.index.names = ["code", "chapter"]
    both = fine.merge(coarse, how="outer", left_index=True, right_index=True, suffixes=("", "_hs2")).fillna(0)
    off = (both["value"] != both["value_hs2"]) | (both["duty"] != both["duty_hs2"])
    if off.any():
        code, ch = both.index[off.to_numpy()][0]
        r = both.loc[(code, ch)]
        raise BuildError(
            f"{path8}: partner {code}, chapter {ch}: HTS8 rows sum to imports {r['value']:,.0f} and duty "
            f"{r['duty']:,.0f}, the HS2 file has {r['value_hs2']:,.0f} and {r['duty_hs2']:,.0f}"
        )


def build(reference: Path) -> Build:
    """Read, check and assemble the table; see the module docstring for the steps."""
    path2, path8 = reference / HS2_FILE, reference / HS8_FILE
    hs2 = read_census(path2, "HS2", "imports_2024_usd", "calc_duty_2024_usd")
    hs8 = read_census(path8, "HS8", "imports", "duty")
    eu = read_eu27(reference / EU_FILE)

    partners = hs2[["code", "name"]].drop_duplicates()  # indexed by each partner's first row
    countries = partners[partners["code"] != EU_AGGREGATE]
    if len(countries) != EXPECTED_PARTNERS_HS2:
        raise BuildError(
            f"{path2}: {len(countries)} partners besides the EU aggregate, expected {EXPECTED_PARTNERS_HS2}"
        )
    iso = iso_codes(countries, path2, reference / CROSSCHECK_FILE)
    names8 = hs8[["code", "name"]].drop_duplicates()
    unknown = names8[~names8["code"].isin(partners["code"])]
    if len(unknown):
        raise BuildError(f"{path8}: partner {unknown.iloc[0]['code']} {unknown.iloc[0]['name']!r} is not in {path2}")
    renamed = names8.merge(partners, on="code", suffixes=("", "_hs2")).query("name != name_hs2")
    if len(renamed):
        r = renamed.iloc[0]
        raise BuildError(f"{path8}: partner {r['code']} is {r['name']!r} here and {r['name_hs2']!r} in {path2}")

    check_eu_aggregate(hs2, eu, path2)
    check_hs8_against_hs2(hs8, hs2, path8)

    # Exporters measured at HTS8: the countries of the HTS8 file that are not EU members, and EU27.
    codes8 = [c for c in names8["code"] if c != EU_AGGREGATE]
    if len(codes8) != EXPECTED_COUNTRIES_HS8 or EU_AGGREGATE not in set(names8["code"]):
        raise BuildError(f"{path8}: expected {EXPECTED_COUNTRIES_HS8} countries and the EU aggregate ({EU_AGGREGATE}), "
                         f"found {len(codes8)} countries and partners {sorted(set(names8['code']) - set(codes8))}")
    in_eu = [c for c in codes8 if c in eu]  # Slovakia (4359): counted inside EU27 only
    named = [c for c in codes8 if c not in eu]
    shared = iso[named][iso[named].duplicated(keep=False)]
    if len(shared):
        raise BuildError(
            f"{path8}: Census codes {sorted(shared.index)} all map to {shared.iloc[0]}: a partner counted twice"
        )
    clash = [c for c in iso.index if c not in named and iso[c] in set(iso[named])]
    if clash:
        raise BuildError(f"{path2}: Census code {clash[0]} maps to {iso[clash[0]]}, already a named exporter")
    row_codes = [c for c in iso.index if c not in named and c not in eu]
    if len(row_codes) != EXPECTED_ROW_PARTNERS:
        raise BuildError(f"{path2}: {len(row_codes)} partners fall in ROW, expected {EXPECTED_ROW_PARTNERS}")

    fine = hs8[hs8["code"].isin(named + [EU_AGGREGATE])].copy()
    fine["exporter"] = fine["code"].map(iso).fillna("EU27")
    coarse = hs2[hs2["code"].isin(row_codes)].copy()
    coarse["exporter"] = "ROW"
    rows = pd.concat([fine, coarse], ignore_index=True)

    # Zero imports: with positive duty the rate is undefined (set aside); with zero duty there is no trade.
    zero = rows["value"] == 0
    duty_only = zero & (rows["duty"] > 0)
    counts = {
        "duty_only_rows": int(duty_only.sum()),
        "duty_only_usd": int(rows.loc[duty_only, "duty"].sum()),
        "zero_hs8_file": int((hs8["value"] == 0).sum()),
        "zero_hs8_file_duty": int(((hs8["value"] == 0) & (hs8["duty"] > 0)).sum()),
        "empty_hs8_rows": int((zero & ~duty_only & (rows["exporter"] != "ROW")).sum()),
        "empty_hs2_rows": int((zero & ~duty_only & (rows["exporter"] == "ROW")).sum()),
        "eu_alone_rows": int(hs8["code"].isin(in_eu).sum()),
        "eu_alone_usd": int(hs8.loc[hs8["code"].isin(in_eu), "value"].sum()),
    }
    kept = rows[~zero]
    table = kept.groupby(["exporter", "product"], as_index=False, sort=False)[["value", "duty"]].sum()

    # Exporter order: the countries by 2024 imports, largest first, then EU27 and ROW.
    totals = table.groupby("exporter")["value"].sum()
    ordered = totals.drop(["EU27", "ROW"]).sort_values(ascending=False, kind="stable").index.tolist()
    exporters = ordered + ["EU27", "ROW"]
    table["exporter"] = pd.Categorical(table["exporter"], categories=exporters, ordered=True)
    table = table.sort_values(["exporter", "product"], kind="stable").reset_index(drop=True)
    table["exporter"] = table["exporter"].astype(str)
    table.insert(1, "importer", "USA")
    table["imputed"] = False
    table["method"] = METHOD
    table = table[["exporter", "importer", "product", "value", "duty", "imputed", "method"]]

    check_totals(table)
    facts = demo_facts(hs2, iso)
    return Build(table, facts, exporters, set_aside_note(counts, in_eu, iso), counts)


def check_totals(table: pd.DataFrame) -> None:
    """The published check figures hold (USD bn to 0.05; China's duty rate to 0.01 point)."""
    for exporter, target in CHECK_TOTALS_BN.items():
        got = (table["value"] if exporter is None else table.loc[table["exporter"] == exporter, "value"]).sum() / 1e9
        if abs(got - target) > 0.05:
            raise BuildError(f"US imports from {exporter or 'all partners'}: {got:,.3f}bn, expected {target:,.1f}bn")
    china = table[table["exporter"] == "CHN"]
    rate = 100 * china["duty"].sum() / china["value"].sum()
    if abs(rate - CHECK_CHINA_RATE_PCT) > 0.01:
        raise BuildError(f"China's collected duty rate is {rate:.3f}%, expected {CHECK_CHINA_RATE_PCT}%")


def demo_facts(hs2: pd.DataFrame, iso: pd.Series) -> pd.DataFrame:
    """US imports by chapter from the 14 demo-2024 partners and from every other partner (ROW), Census HS2."""
    countries = hs2[hs2["code"] != EU_AGGREGATE].copy()
    countries["iso"] = countries["code"].map(iso)
    missing = sorted(set(DEMO_PARTNERS) - set(countries["iso"]))
    if missing:
        raise BuildError(f"demo-2024 partners {missing} are not in the HS2 file")
    own = countries["iso"].isin(DEMO_PARTNERS)
    countries["exporter"] = countries["iso"].where(own, "ROW")
    n_row = countries.loc[~own, "code"].nunique()
    facts = countries.groupby(["exporter", "product"], as_index=False)[["value", "duty"]].sum()
    facts = facts[facts["value"] > 0]
    order = pd.Categorical(facts["exporter"], categories=DEMO_PARTNERS + ["ROW"], ordered=True)
    facts = facts.assign(_o=order).sort_values(["_o", "product"]).drop(columns="_o").reset_index(drop=True)
    return pd.DataFrame(
        {
            "exporter": facts["exporter"],
            "importer": "USA",
            "chapter": facts["product"],
            "value_usd": facts["value"],
            "duty_usd": facts["duty"],
            "basis": "imports for consumption",
            "source": facts["exporter"].map({"ROW": f"{SOURCE}; sum of the {n_row} other partners"}).fillna(SOURCE),
            "verification": "one_source",
        }
    )


def set_aside_note(counts: dict[str, int], in_eu: list[str], iso: pd.Series) -> str:
    """The sentence recorded as ``set_aside`` in baselines.toml; the build checks that the two agree."""
    eu_alone = ", ".join(f"{iso[c]} (Census {c})" for c in in_eu)
    return (
        f"{counts['duty_only_rows']} records with zero imports and positive duty "
        f"(USD {counts['duty_only_usd']:,} of duty) set aside. "
        f"The HTS8 file's {counts['zero_hs8_file']} records with zero imports have zero duty too "
        f"({counts['zero_hs8_file_duty']} with duty): {counts['empty_hs8_rows']} of them belong to the exporters "
        f"here and, with {counts['empty_hs2_rows']} HS2 records of ROW partners, hold no trade and are left out. "
        f"{eu_alone}: its own {counts['eu_alone_rows']:,} HTS8 rows (USD {counts['eu_alone_usd']:,}) are counted "
        "inside EU27 only."
    )


# ---------------------------------------------------------------------------
# Writing and checking
# ---------------------------------------------------------------------------


def csv_text(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def gzip_bytes(text: str) -> bytes:
    """Gzip with no file name and mtime 0 in the header, so equal text gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def first_difference(old: str, new: str) -> str:
    a, b = old.splitlines(), new.splitlines()
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"line {k + 1}: committed {x!r}, fresh build {y!r}"
    return f"committed file has {len(a)} lines, fresh build {len(b)}"


def compare(path: Path, fresh: bytes, compressed: bool) -> str | None:
    """None if `path` holds exactly `fresh`, else a message saying where they differ."""
    if not path.is_file():
        return f"{path} does not exist"
    old = path.read_bytes()
    if old == fresh:
        return None
    if compressed:
        try:
            old_text = gzip.decompress(old).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return f"{path} is not a readable gzip file ({exc})"
        new_text = gzip.decompress(fresh).decode("utf-8")
        if old_text == new_text:
            return f"{path}: same rows but different gzip bytes (another zlib, or written without mtime 0)"
        return f"{path} differs from a fresh build at {first_difference(old_text, new_text)}"
    return f"{path} differs from a fresh build at {first_difference(old.decode('utf-8'), fresh.decode('utf-8'))}"


def check_catalogue(result: Build) -> list[str]:
    """Problems with the catalogue entry: its exporters and set_aside must be those of the build."""
    with CATALOGUE.open("rb") as fh:
        entry = tomllib.load(fh).get(NAME)
    if entry is None:
        return [f"{CATALOGUE}: no [{NAME}] entry"]
    problems = []
    if entry.get("exporters") != result.exporters:
        problems.append(f"{CATALOGUE}: [{NAME}] exporters should be {result.exporters}")
    if entry.get("set_aside") != result.set_aside:
        problems.append(f"{CATALOGUE}: [{NAME}] set_aside should be {result.set_aside!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead of writing")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help=f"the shared/reference folder (default {DEFAULT_REFERENCE})")
    args = parser.parse_args(argv)
    try:
        result = build(args.reference)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    c = result.counts
    print(f"set aside: {c['duty_only_rows']} records with zero imports and positive duty "
          f"(USD {c['duty_only_usd']:,} of duty); no trade (zero imports and duty), left out: "
          f"{c['empty_hs8_rows']} HTS8 and {c['empty_hs2_rows']} HS2 records (the HTS8 file has "
          f"{c['zero_hs8_file']} zero-import records, {c['zero_hs8_file_duty']} of them with duty); counted inside "
          f"EU27 only: {c['eu_alone_rows']:,} HTS8 rows of EU members listed alone")
    outputs = [(OUT, gzip_bytes(csv_text(result.table)), True),
               (FACTS, csv_text(result.facts).encode("utf-8"), False)]
    problems = check_catalogue(result)
    if args.check:
        problems += [m for path, data, gz in outputs if (m := compare(path, data, gz))]
        for p in problems:
            print(p, file=sys.stderr)
        if problems:
            print("run python scripts/build_us_imports_2024.py to rebuild", file=sys.stderr)
            return 1
        print(f"{OUT.name} and {FACTS.name} are up to date")
        return 0
    for path, data, _ in outputs:
        path.write_bytes(data)
    t = result.table
    print(f"wrote {OUT} ({len(t):,} rows, {len(result.exporters)} exporters, USD {t['value'].sum() / 1e9:,.1f}bn) "
          f"and {FACTS} ({len(result.facts)} rows)")
    for p in problems:
        print(f"warning: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
