"""Build the IEEPA, Section 122, China and Canada lists of the bundled ``tariffs-2025`` schedule.

The script writes the product lists and data files that ``ieepa.toml``, ``china.toml`` and ``canada.toml`` in
``tradesim/law/schedules/tariffs-2025/`` name, from the project's reference compilation (the ``shared/reference``
folder that sits beside the checkout), and checks the files it cannot rebuild.

Usage::

    python scripts/build_tariffs_2025_ieepa.py [REFERENCE] [--check]

Parameters
----------
REFERENCE : path, optional
    The ``shared/reference`` folder (default ``../shared/reference`` relative to the repository root).
--check : flag
    Rebuild everything in memory and compare with the committed files instead of writing them. Exit status 1
    lists every file that differs or is missing.

Returns
-------
int
    The exit status: 0 when everything was written (or, with ``--check``, matches), 1 when a committed file
    differs from its rebuild.

Raises
------
BuildError
    A source or output row is malformed or does not nest in the HS; the message names file, row and value.

Notes
-----
Outputs, under ``tradesim/law/schedules/tariffs-2025/``:

``lists/ieepa_*.csv``
    US lists: the reciprocal-duty exemptions in the state of each amendment (Annex II of EO 14257 on
    2025-04-05 and after the update of 2025-09-08, the electronics memo of 2025-04-11, the farm-goods order
    EO 14360), the IEEPA informational-materials exemption, the Canada and Mexico energy and potash lines of
    the fentanyl duties, the floor carve-outs of the EU, Japan, Korea and Switzerland/Liechtenstein deals, the
    Brazil order's exempt lines, the Section 122 exemptions, and the CAFTA-DR textile shares that qualify for
    the Section 122 exemption (``exporter, hs_code, share_pct``, measured from 2024 duties and MFN rates).
``lists/cn_*.csv``
    China's lists: the targeted duties of 10 February and 10 March 2025 and the April 2025 waivers.

Every list file is checked row by row: a code must be 2 to 10 digits, and its HS2, HS4 or HS6 prefix must exist
in the Harmonized System as the HTSUS 2025 basic edition spells it (national lines finer than six digits are
not compared, since China's and Canada's national lines differ from the HTSUS below six digits). A failure
names the file, the row and the value. The hand-compiled Canada lists (``lists/ca_*.csv``, transcribed from
Finance Canada's list) cannot be rebuilt from the reference folder and are only checked. The country-rate
tables written inline in ``ieepa.toml`` (Annex I of EO 14257 and the rates of EO 14326) are compared with the
reference tables mapped to ISO alpha-3 codes, where the legal text (HTSUS 2026 Rev.6, Chapter 99, U.S. note
2(v)(xviii)) overrides the White House chart that the reference file transcribes. The hand-written
``checks_ieepa.csv`` and ``trackers.csv`` are checked for their columns, ISO dates, numbers, codes, layer labels
and verification grades.

Deterministic: rows are sorted by code (and exporter), percentages are rounded to one decimal, and nothing
depends on the clock. Pandas operations are vectorised; the only loops run over the handful of files.
"""

from __future__ import annotations

import argparse
import io
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tradesim" / "law" / "schedules" / "tariffs-2025"
LISTS = OUT / "lists"
COLUMNS = ["hs_code", "description", "verification", "source"]

YALE = "repo Budget-Lab-Yale/tariff-rate-tracker @8315fffd697c (MIT)"
TWT = "repo tradewartracker/trade-war-redux-2025 @726c5958e1e4 (MIT)"
HTS_REV6 = "HTSUS 2026 Rev.6 Ch.99 subch. III U.S. note 2"

EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL",
        "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE")
CAFTA_DR = ("CRI", "DOM", "SLV", "GTM", "HND", "NIC")

#: Names in the reference tables that the Census mapping spells differently.
NAME_ALIASES = {"brunei": "BRN", "côte d'ivoire": "CIV", "democratic republic of the congo": "COD",
                "myanmar (burma)": "MMR", "turkey": "TUR", "south africa": "ZAF", "european union": "EU"}

#: Annex I rates where EO 14257's legal annex (HTSUS note 2(v)(xviii)) differs from the White House chart that
#: tradewartracker/reciprocal-tariffs-annex-I.csv transcribes; China is 84 (EO 14259), not the chart's 104.
ANNEX_I_LEGAL = {"BIH": 35, "BWA": 37, "CMR": 11, "FLK": 41, "IND": 26, "MWI": 17, "MMR": 44, "NOR": 15,
                 "PAK": 29, "PHL": 17, "SRB": 37, "ZAF": 30, "KOR": 25, "CHE": 31, "THA": 36, "VUT": 22, "NIC": 18,
                 "CHN": 84}


#: China's March 2025 lines whose first six digits are not an HS 2022 subheading (and one listed twice): left
#: out of the lists, since they cannot nest in the HS tree (checked: the build fails if this set changes).
CN_NON_NESTING = {"03032100", "03032200", "03076100", "03076900", "03083110", "03083190", "03083900",
                  "03090010", "03090020"}


class BuildError(SystemExit):
    """A problem in a source or output file, reported with file, row and value."""


def digits(codes: pd.Series) -> pd.Series:
    """Codes as digit strings: dots, spaces and quotes removed."""
    return codes.astype(str).str.replace(r"[.\s\"']", "", regex=True)


def read_csv(path: Path, **kw) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kw)


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------


def hs_prefixes(reference: Path) -> set[str]:
    """HS2, HS4 and HS6 codes of the HTSUS 2025 basic edition (the Harmonized System as of 2025)."""
    hts = read_csv(reference / "us_law_2025" / "usitc_hts_2025_basic_edition.csv", encoding="utf-8-sig")
    code = digits(hts["HTS Number"])
    code = code[code.str.fullmatch(r"\d{4,10}")]
    return set(code.str[:2]) | set(code.str[:4]) | set(code[code.str.len() >= 6].str[:6])


def problems(frame: pd.DataFrame, name: str, hs: set[str], column: str = "hs_code",
             unique: bool = True) -> list[str]:
    """Rows whose code is malformed, does not nest in the HS or (if `unique`) repeats (file, row, value)."""
    code = frame[column].astype(str)
    bad_form = ~code.str.fullmatch(r"\d{2,10}")
    head = code.str[: 6].where(code.str.len() >= 6, code)
    bad_nest = ~bad_form & ~head.isin(hs)
    out = [f"{name}: row {i + 2}: {column}={v!r}: not 2-10 digits" for i, v in code[bad_form].items()]
    out += [f"{name}: row {i + 2}: {column}={v!r}: HS prefix {head[i]!r} is not in the Harmonized System"
            for i, v in code[bad_nest].items()]
    if not unique:
        return out
    dup = frame.duplicated([c for c in ("exporter", column) if c in frame.columns], keep=False)
    out += [f"{name}: row {i + 2}: {column}={v!r}: duplicate" for i, v in code[dup].items()]
    return out


# ---------------------------------------------------------------------------
# US lists
# ---------------------------------------------------------------------------


def _reference_list(ref: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = ref[ref["list"] == name]
    if rows.empty:
        raise BuildError(f"exemptions.csv: list {name!r} not found")
    return rows[COLUMNS].copy()


def _second_source(frame: pd.DataFrame, other: pd.Series, what: str) -> pd.DataFrame:
    """Upgrade one-source rows that a second, independent list confirms at HTS8; note the match in `source`."""
    hit = frame["hs_code"].str[:8].isin(set(other.str[:8]))
    frame.loc[hit, "source"] = frame.loc[hit, "source"] + " | " + what
    up = hit & ~frame["verification"].str.startswith("two_sources")
    frame.loc[up, "verification"] = "two_sources (" + what.split(" path ")[0] + " confirms the line)"
    return frame


def us_lists(reference: Path) -> dict[str, pd.DataFrame]:
    """The US lists, from reference exemptions.csv and the us_law_2025 copies of the trackers' lists."""
    law = reference / "us_law_2025"
    ref = read_csv(reference / "exemptions.csv")
    twt_orig = digits(read_csv(law / "tradewartracker" / "annex-II-exemptions.csv")["HTSUS"])
    twt_nov = digits(read_csv(law / "tradewartracker" / "annex-II-exemptions-nov14.csv")["HTSUS"])
    twt_elec = digits(read_csv(law / "tradewartracker" / "consumer_electronics_EO14257_apr11.csv")["HTSUS"])
    out: dict[str, pd.DataFrame] = {}

    annex = _reference_list(ref, "US_reciprocal_annexII_2025-04-02")
    out["ieepa_annex_ii_2025_04_05"] = _second_source(
        annex.copy(), twt_orig, f"{TWT} path annex-II-exemptions.csv (HTS10, first published list)")

    kept = annex[annex["verification"].str.startswith("two_sources")]  # still in HTS 2026 Rev.6: kept on Sep 8
    added = pd.concat([_reference_list(ref, "US_reciprocal_annexII_added_2025-09-08"),
                       _reference_list(ref, "US_reciprocal_annexII_later_addition")])
    added = _second_source(added, twt_nov, f"{TWT} path annex-II-exemptions-nov14.csv")
    out["ieepa_annex_ii_2025_09_08"] = pd.concat([kept, added])

    elec = _reference_list(ref, "US_reciprocal_electronics_memo_2025-04-11")
    elec["source"] = elec["source"] + f" | {TWT} path consumer_electronics_EO14257_apr11.csv ("  \
        + elec["hs_code"].map(lambda c: str(int(twt_elec.str.startswith(c).sum()))) + " HTS10 lines)"
    out["ieepa_electronics_2025_04_05"] = elec

    farm = _reference_list(ref, "US_reciprocal_ag_EO14360_2025-11-13")
    out["ieepa_farm_2025_11_13"] = _second_source(farm, twt_nov, f"{TWT} path annex-II-exemptions-nov14.csv")

    yale_ex = digits(read_csv(law / "yale" / "ieepa_exempt_products.csv")["hts10"])
    info = yale_ex[yale_ex.str[:2].isin(["49", "97"])]
    out["ieepa_informational_materials"] = pd.DataFrame({
        "hs_code": info.str[:8].drop_duplicates(),
        "description": "informational materials (50 USC 1702(b)(3): publications, artworks) exempt from all IEEPA"
                       " duties (HTS 9903.01.22/.31/.80/.89, 9903.03.11 for Section 122)",
        "verification": "one_source (the Yale tracker's reading of the Berman amendment as chapters 49 and 97)",
        "source": f"{YALE} path resources/ieepa_exempt_products.csv"})

    carve = read_csv(law / "yale" / "fentanyl_carveout_products.csv")
    carve["hs_code"] = digits(carve["hts8"])
    label = {"energy_ca": "energy, energy resources or critical minerals of Canada (HTS 9903.01.13, 10%)",
             "potash_ca": "potash of Canada (HTS 9903.01.15, 10%)",
             "potash_mx": "potash of Mexico (HTS 9903.01.05, 10%)"}
    carve["description"] = carve["category"].map(label)
    carve["verification"] = "one_source (Tariff-ETRs list of U.S. note 2 subdivisions, via the Yale tracker)"
    carve["source"] = YALE + " path resources/fentanyl_carveout_products.csv, heading " + carve["ch99_code"]
    can = carve[carve["category"].isin(["energy_ca", "potash_ca"])].drop_duplicates("hs_code")
    out["ieepa_fentanyl_energy_potash_can"] = can[COLUMNS]
    out["ieepa_fentanyl_potash_mex"] = carve[carve["category"] == "potash_mx"][COLUMNS]

    floor = read_csv(law / "yale" / "floor_exempt_products.csv")
    floor["hs_code"] = digits(floor["hts8"])
    what = {"ptaap": "unavailable natural resources, generic-drug inputs and other PTAAP articles",
            "civil_aircraft": "civil aircraft, engines, parts and simulators (General Note 6)",
            "pharma": "non-patented articles for pharmaceutical use (generic drugs and inputs)",
            "particular": "particular articles (essential oils for religious use)"}
    floor["description"] = floor["category"].map(what) + " (heading " + floor["ch99_code"] + ")"
    floor["verification"] = "one_source (list parsed from HTSUS Ch.99 notes by the Yale tracker)"
    floor["source"] = YALE + " path resources/floor_exempt_products.csv; " + HTS_REV6 + " (v)(xx)-(xxv), 35(b)"
    for group, name in (("eu", "eu"), ("japan", "jpn"), ("korea", "kor"), ("swiss", "che_lie")):
        part = floor[floor["country_group"] == group].drop_duplicates("hs_code")
        out[f"ieepa_floor_carveouts_{name}"] = part[COLUMNS]

    brazil = read_csv(law / "yale" / "country_eo_exempt_products.csv", comment="#")
    brazil["hs_code"] = digits(brazil["hts10"])
    brazil = brazil[brazil["hs_code"].str[:2] < "98"]  # 9903.xx rows name exempt categories, not lines
    brazil["description"] = brazil["note"]
    brazil["verification"] = "one_source (annexes of EO 14323 and of the order of 2025-11-20, via the Yale tracker)"
    brazil["source"] = YALE + " path resources/country_eo_exempt_products.csv (" + brazil["source"] + ")"
    first = brazil[brazil["effective_date_start"] == "2025-08-06"].drop_duplicates("hs_code")
    out["ieepa_brazil_exempt_2025_08_06"] = first[COLUMNS]
    out["ieepa_brazil_exempt_2025_11_13"] = brazil.drop_duplicates("hs_code")[COLUMNS]

    s122_twt = digits(read_csv(law / "tradewartracker" / "section122-product-exemptions.csv")["hts_code"])
    s122_yale = digits(read_csv(law / "yale" / "s122_exempt_products.csv")["hts8"])
    s122 = pd.DataFrame({"hs_code": pd.concat([s122_yale, s122_twt]).drop_duplicates()})
    in_twt, in_yale = s122["hs_code"].isin(set(s122_twt)), s122["hs_code"].isin(set(s122_yale))
    cases = [in_twt & in_yale, in_yale]  # otherwise tradewartracker only
    yale_src = f"{YALE} path resources/s122_exempt_products.csv"
    twt_src = f"{TWT} path section122-product-exemptions.csv"
    s122["description"] = np.select(
        cases, ["exempt from the Section 122 surcharge (HTS 9903.03.03, U.S. note 2(aa)(ii))",
                "civil aircraft and parts exempt from Section 122 (HTS 9903.03.05, note 2(aa)(iv))"],
        "exempt from the Section 122 surcharge (tradewartracker only)")
    s122["verification"] = np.select(cases, ["two_sources (Yale tracker and tradewartracker lists agree)",
                                             "one_source (Yale tracker only; the aircraft list of note 2(aa)(iv))"],
                                     "one_source (tradewartracker only)")
    s122["source"] = np.select(cases, [f"{yale_src} | {twt_src}", yale_src], twt_src)
    out["ieepa_s122_exempt"] = s122
    return out


def cafta_qualifying(reference: Path) -> pd.DataFrame:
    """Share of CAFTA-DR textile and apparel imports (HS 50-63) entered duty-free, by exporter and HTS8 line.

    Measured from 2024 Census duties: a line's share that paid no duty is ``1 - duty / (imports * MFN)`` for lines
    with an ad valorem MFN rate above zero (clipped to 0-1); lines with a free, specific or compound MFN rate take
    the exporter's value-weighted share over its ad valorem lines.
    """
    names = read_csv(reference / "us_law_2025" / "tradewartracker" / "CensusCountryMapping_FRBAtl_short.csv")
    iso = dict(zip(names["CTY_CODE"], names["ISO3"]))
    trade = pd.read_csv(reference / "us_trade_2024" / "us_imports_2024_by_partner_hs8.csv.gz",
                        dtype={"CTY_CODE": str, "HS8": str})
    trade["exporter"] = trade["CTY_CODE"].map(iso)
    trade = trade[trade["exporter"].isin(CAFTA_DR) & trade["HS8"].str[:2].between("50", "63") & (trade["imports"] > 0)]
    hts = read_csv(reference / "us_law_2025" / "usitc_hts_2025_basic_edition.csv", encoding="utf-8-sig")
    hts["HS8"] = digits(hts["HTS Number"])
    hts = hts[hts["HS8"].str.len() == 8].drop_duplicates("HS8")
    general = hts["General Rate of Duty"].str.strip()
    hts["mfn"] = pd.to_numeric(general.str.extract(r"^(\d+(?:\.\d+)?)%$")[0], errors="coerce") / 100
    trade = trade.merge(hts[["HS8", "mfn"]], on="HS8", how="left")
    av = trade["mfn"] > 0
    trade["share"] = np.where(av, (1 - trade["duty"] / (trade["imports"] * trade["mfn"])).clip(0, 1), np.nan)
    weights = trade[av].assign(w=lambda d: d["imports"] * d["share"]).groupby("exporter")[["w", "imports"]].sum()
    fallback = (weights["w"] / weights["imports"]).rename("fallback")
    trade = trade.join(fallback, on="exporter")
    trade["share"] = trade["share"].fillna(trade["fallback"])
    out = pd.DataFrame({"exporter": trade["exporter"], "hs_code": trade["HS8"],
                        "share_pct": (100 * trade["share"]).round(1)})
    out["source"] = np.where(av, "measured: 1 - 2024 duty / (2024 imports x MFN), Census via us_trade_2024",
                             "imputed: exporter's value-weighted share over its ad valorem textile lines")
    return out.sort_values(["exporter", "hs_code"]).reset_index(drop=True)


# ---------------------------------------------------------------------------
# China lists
# ---------------------------------------------------------------------------


def cn_lists(reference: Path, hs: set[str]) -> dict[str, pd.DataFrame]:
    """China's targeted lists of February and March 2025 and the April 2025 waivers."""
    twt = reference / "us_law_2025" / "tradewartracker"
    out: dict[str, pd.DataFrame] = {}
    for pct in (15, 10):
        raw = read_csv(twt / f"china-{pct}-percent-030425.csv", header=None, names=["item", "code", "description"])
        raw["code"] = digits(raw["code"]).str.zfill(8)  # leading zeros dropped in the source: 2071100 is 02071100
        odd = set(raw["code"][~raw["code"].str[:6].isin(hs)])
        if not odd <= CN_NON_NESTING:
            raise BuildError(f"china-{pct}-percent-030425.csv: codes not nesting in the HS: {sorted(odd)}")
        raw = raw[~raw["code"].isin(CN_NON_NESTING)].drop_duplicates("code")
        out[f"cn_mar2025_{pct}pct"] = pd.DataFrame({
            "hs_code": raw["code"], "description": "item " + raw["item"] + ": " + raw["description"],
            "verification": "one_source (China's 8-digit national lines as transcribed by tradewartracker;"
                            " the lists and rates are two_sources in reference tariff_events_2025.csv)",
            "source": f"{TWT} path china-{pct}-percent-030425.csv; Customs Tariff Commission Announcement"
                      " No.2 of 2025"})
    coal = ["27011100", "27011210", "27011290", "27011900", "27012000", "27021000", "27022000", "27111100"]
    if not all(c in (reference / "us_law_2025" / "README.md").read_text(encoding="utf-8") for c in coal):
        raise BuildError("us_law_2025/README.md: the February 2025 coal and LNG codes are no longer listed")
    out["cn_feb2025_15pct"] = pd.DataFrame({
        "hs_code": coal, "description": ["coal and lignite, coke (15%)"] * 7 + ["liquefied natural gas (15%)"],
        "verification": "one_source (codes as listed in shared/reference/us_law_2025/README.md; the measure is"
                        " two_sources in tariff_events_2025.csv)",
        "source": "Customs Tariff Commission announcement of 2025-02-04 as listed in shared/reference/us_law_2025/"
                  "README.md"})
    ten = {"2709": "crude petroleum oils (8-digit line 27090000)",
           "8432": "agricultural machinery for soil preparation (HS mapping inferred)",
           "8433": "harvesting and threshing machinery (HS mapping inferred)",
           "870324": "cars, spark ignition, over 3,000 cc (large displacement; inferred)",
           "870333": "cars, diesel, over 2,500 cc (large displacement; inferred)",
           "870421": "pickup trucks, diesel, not over 5 t (inferred)",
           "870431": "pickup trucks, spark ignition, not over 5 t (inferred)"}
    out["cn_feb2025_10pct"] = pd.DataFrame({
        "hs_code": list(ten), "description": list(ten.values()),
        "verification": ["two_sources (crude oil named in both sources of tariff_events_2025.csv)"]
                        + ["unverified (HS mapping inferred from the product names; the announcement's annex"
                           " was not found)"] * 6,
        "source": "Customs Tariff Commission announcement of 2025-02-04; reference tariff_events_2025.csv row"
                  " 2025-02-10 (10% list)"})
    ref = read_csv(reference / "exemptions.csv")
    cn = ref[ref["list"] == "CN_retaliation_exemptions_2025-04"]
    cn = cn[~cn["description"].str.contains("NOT exempt") & ~cn["hs_code"].str.startswith("SUMMARY")]
    codes = cn["hs_code"].str.findall(r"\d{2,10}")  # "8411 / 8803 (inferred; ...)" -> 8411, 8803
    waivers = cn.assign(hs_code=codes).explode("hs_code").dropna(subset=["hs_code"])
    moved = waivers["hs_code"] == "8803"  # aircraft parts: heading 8803 became 8807 in HS 2022
    waivers.loc[moved, "hs_code"] = "8807"
    waivers.loc[moved, "description"] = waivers.loc[moved, "description"] + " [8803 in the source = 8807 in HS 2022]"
    out["cn_exemptions_2025_04"] = waivers[COLUMNS]
    return out


# ---------------------------------------------------------------------------
# Country tables in ieepa.toml
# ---------------------------------------------------------------------------


def _iso(names: pd.Series, mapping: pd.DataFrame) -> pd.Series:
    key = names.str.lower().str.replace("`", "'").str.strip()
    table = dict(zip(mapping["country"].str.lower().str.replace("`", "'"), mapping["ISO3"])) | NAME_ALIASES
    iso = key.map(table)
    if iso.isna().any():
        raise BuildError(f"country names without an ISO alpha-3 code: {sorted(names[iso.isna()])}")
    return iso


def reference_rates(reference: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Annex I rates (legal text) and the rates of 7 August 2025, by ISO alpha-3 code (EU expanded to members)."""
    twt = reference / "us_law_2025" / "tradewartracker"
    mapping = read_csv(twt / "CensusCountryMapping_FRBAtl_short.csv")
    annex = read_csv(twt / "reciprocal-tariffs-annex-I.csv")
    annex["iso"] = _iso(annex["CTY_NAME"], mapping)
    annex["rate"] = annex["iso"].map(ANNEX_I_LEGAL).fillna(annex["tariff_rate"].astype(float))
    annex = annex[~annex["iso"].isin(["CAN", "MEX"])]  # the chart's CAN/MEX "rates" are not Annex I rates
    aug = read_csv(twt / "clean-august-7-tariffs.csv")
    raw = read_csv(twt / "august-7-tariffs-raw.csv")
    if not np.allclose(aug["rtariff-aug"].astype(float), raw.iloc[:, 1].str.rstrip("%").astype(float)):
        raise BuildError("clean-august-7-tariffs.csv and august-7-tariffs-raw.csv disagree")
    aug["iso"] = _iso(aug["country_name"], mapping)

    def expand(frame: pd.DataFrame, col: str) -> dict[str, float]:
        table = dict(zip(frame["iso"], frame[col].astype(float)))
        if "EU" in table:
            rate = table.pop("EU")
            table |= {c: rate for c in (*EU27, "EU27")}
        if "CHN" in table:
            table |= {"HKG": table["CHN"], "MAC": table["CHN"]}
        return table

    return expand(annex, "rate"), expand(aug, "rtariff-aug")


def check_toml_tables(reference: Path) -> list[str]:
    """Differences between the inline country tables of ieepa.toml and the reference tables."""
    path = OUT / "ieepa.toml"
    if not path.is_file():
        return [f"{path.name}: missing"]
    measures = {m["name"]: m for m in tomllib.loads(path.read_text(encoding="utf-8")).get("measures", [])}
    annex, aug = reference_rates(reference)
    floors = {"JPN", "KOR", "CHE", "LIE"}  # rates of 15 that became floors (their own measures)
    want = {"us_ieepa_recip_annex_i_2025_04_09": annex,
            "us_ieepa_recip_country_2025_08_07": {k: v for k, v in aug.items() if k not in {"JPN"}},
            "us_ieepa_recip_country_2025_11_14": {k: v for k, v in aug.items() if k not in floors}}
    found = []
    for name, table in want.items():
        got = {k: float(v) for k, v in measures.get(name, {}).get("exporter_rates_pct", {}).items()}
        if got != table:
            diff = sorted(set(got.items()) ^ set(table.items()))
            found.append(f"ieepa.toml: measures.{name}.exporter_rates_pct differs from the reference: {diff[:8]}")
    return found


GRADES = ("two_sources", "one_source", "unverified")
LAYERS = ("MFN", "Section 301", "Section 232", "IEEPA fentanyl", "IEEPA reciprocal", "Section 122", "Section 201",
          "Retaliation")
TABLES = {"checks_ieepa.csv": ["date", "hs_code", "exporter", "importer", "layer", "expected_pct", "source",
                               "verification", "note"],
          "trackers.csv": ["publisher", "date", "series", "partner", "value_pct", "definition", "source",
                           "verification"]}


def check_tables(hs: set[str]) -> list[str]:
    """Problems in the hand-written regression checks and tracker numbers (file, row, value)."""
    found = []
    for name, columns in TABLES.items():
        path = OUT / name
        if not path.is_file():
            found.append(f"{name}: missing")
            continue
        frame = read_csv(path)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            found.append(f"{name}: missing columns {missing}")
            continue
        rows = pd.Series(frame.index + 2, index=frame.index)  # file line numbers (header is line 1)
        value = "expected_pct" if "expected_pct" in frame else "value_pct"
        bad = {"verification": ~frame["verification"].str.split(" ").str[0].isin(GRADES),
               value: pd.to_numeric(frame[value], errors="coerce").isna()}
        if name == "checks_ieepa.csv":
            bad["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce").isna()
            bad["layer"] = ~frame["layer"].isin(LAYERS)
            bad["exporter"] = ~frame["exporter"].str.fullmatch(r"[A-Z]{3}|EU27")
            bad["importer"] = ~frame["importer"].str.fullmatch(r"[A-Z]{3}")
        else:
            bad["date"] = ~frame["date"].str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?")
        for column, mask in bad.items():
            found += [f"{name}: row {r}: {column}={v!r}: bad value"
                      for r, v in zip(rows[mask], frame.loc[mask, column])]
        if name == "checks_ieepa.csv":
            found += problems(frame, name, hs, unique=False)
    return found


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------


def build(reference: Path, hs: set[str]) -> dict[str, pd.DataFrame]:
    """All generated files, by file name under ``lists/``."""
    tables = us_lists(reference) | cn_lists(reference, hs)
    frames = {f"{name}.csv": frame.sort_values("hs_code").reset_index(drop=True) for name, frame in tables.items()}
    frames["ieepa_s122_cafta_textile_qualifying.csv"] = cafta_qualifying(reference)
    return frames


def to_text(frame: pd.DataFrame) -> str:
    text = io.StringIO()
    frame.to_csv(text, index=False, lineterminator="\n")
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path, nargs="?", default=ROOT.parent / "shared" / "reference")
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    hs = hs_prefixes(args.reference)
    frames = build(args.reference, hs)
    found: list[str] = []
    for name, frame in frames.items():
        found += problems(frame, name, hs)
    for path in sorted(LISTS.glob("ca_*.csv")):  # hand-compiled: checked, not rebuilt
        found += problems(read_csv(path), path.name, hs)
    found += check_tables(hs)
    if found:
        raise BuildError("\n".join(found))
    differ = []
    for name, frame in frames.items():
        path = LISTS / name
        text = to_text(frame)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                differ.append(name)
        else:
            LISTS.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"{name}: {len(frame)} rows")
    differ += check_toml_tables(args.reference)
    if differ:
        print("differ from the reference:\n  " + "\n  ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
