"""Build the US base-law fragment of the bundled tariff schedule ``tariffs-2025``.

Writes ``tradesim/law/schedules/tariffs-2025/us_base.toml`` and the CSV files it names: the US MFN
(column 1 general) and column 2 rates by HTS line with ad valorem equivalents, the preferences
partners actually used in 2024, the USMCA claim shares, the Section 301 lists on goods of China, and
the Section 232 product scopes with their metal-content and USMCA shares. ``checks_base.csv`` and
the US-base section of ``README.md`` in the same folder are written by hand; the script checks the
codes of ``checks_base.csv``. The build is deterministic: ``--check`` rebuilds everything in memory
and compares it byte for byte with the committed files.

Usage::

    python scripts/build_tariffs_2025_base.py              # write the files
    python scripts/build_tariffs_2025_base.py --check      # exit 1 naming any committed file that differs
    python scripts/build_tariffs_2025_base.py --report     # print counts and the sanity checks
    python scripts/build_tariffs_2025_base.py --reference PATH/TO/shared/reference --yale-mirror PATH

Parameters
----------
--reference : path
    The project's ``shared/reference`` folder (default: ``../shared/reference`` beside the
    repository, else ``/work/shared/reference``).
--yale-mirror : path
    A git mirror of ``Budget-Lab-Yale/tariff-rate-tracker``. Its files that are not copied into
    ``shared/reference/us_law_2025/yale`` (USITC DataWeb USMCA claim shares, CBO metal-content
    buckets, the text of the HTSUS 2026 Rev.6 chapter 99 notes) are read at the pinned commit
    `YALE_COMMIT` with ``git show``; nothing in the mirror is changed.
--check, --report : flags
    Compare instead of writing; print counts and sanity checks.

Returns
-------
int
    Exit status of `main`: 0 on success, 1 when ``--check`` finds a file that differs, 2 on a
    `BuildError` (a malformed or non-nesting HTS code, a rate outside 0-2,000%, a share outside
    0-100%, a missing input), printed with its file, row and value.

Notes
-----
Inputs, all under ``shared/reference`` unless said otherwise:

- ``us_law_2025/usitc_hts_2025_basic_edition.csv``: HTSUS 2025 basic edition (USITC, public
  domain): general (MFN), special and column 2 rates by line.
- ``us_trade_2024/us_imports_2024_by_partner_hs8.csv.gz``: 2024 imports for consumption and
  calculated duty by HTS8 for 50 countries and the EU aggregate (Census, public domain, compiled
  by tradewartracker/trade-war-redux-2025, MIT).
- ``us_law_2025/tradewartracker/CensusCountryMapping_FRBAtl_short.csv``: Census codes to ISO alpha-3.
- ``us_law_2025/yale/``: Section 301 lists and Section 232 scopes (Budget-Lab-Yale
  tariff-rate-tracker, MIT); from the mirror: ``resources/usmca_product_shares_*.csv``,
  ``resources/cbo/*.csv`` and ``data/us_notes/chapter99_2026_rev_6.txt``.

MFN ad valorem equivalents. "Free" is 0 and a plain "N%" is N. A rate with a specific part
(cents per kg, per litre, each...) is converted with the 2024 duties measured on that line: duty
over customs value for a pool of partners with no preference and no other duty on the line
(`POOL_EXCLUDED`, plus partners whose duties on ad valorem lines fall below `POOL_MIN_RATIO` of the
written rates; Japan only on lines without US-Japan agreement rates). The plain ad valorem part of
a compound rate is kept exactly: AVE = av + max(0, measured - av). Lines without pooled trade fall
back, in order, to China's 2024 rate less the Section 301 rate of the line; the specific amount over
a unit value implied by measured lines with the same unit in the same HS6, HS4 or chapter; the
median rate of the line's HS6, HS4 or chapter. Column ``method`` says which applied.

Preferences used. For each partner with trade-agreement or programme preferences, and for every
partner on lines with erga omnes special rates (civil aircraft "C", pharmaceuticals "K", dye
intermediates "L"), the share of 2024 trade that did not pay MFN is
100 x (1 - measured rate / MFN rate), clipped to [0, 100] (0 where the measured rate exceeds MFN).
As measured, not as eligible.

USMCA claims. USITC DataWeb imports claimed under SPI "S"/"S+" by HTS10 and country, as compiled
by the Yale tracker: 2024 shares, and 2025 monthly claimed and total values; summed (2025) or
value-weighted with 2025 values (2024 shares) to HTS8; lines without data take their HS6, HS4 or
country share.

Metal content. CBO buckets as compiled by the Yale tracker: 75% for high-content and 25% for
low-content steel and aluminium derivatives, 90% for copper articles; 50% (the Tax Policy
Center's flat share) for derivatives in neither bucket.

Licences. HTSUS and Census data are US government works (public domain). Files derived from
Budget-Lab-Yale/tariff-rate-tracker (MIT, Copyright (c) The Budget Lab at Yale) and
tradewartracker/trade-war-redux-2025 (MIT) keep their notices, copied into
``tariffs-2025/LICENSES/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tradesim" / "law" / "schedules" / "tariffs-2025"
YALE_REPO = "Budget-Lab-Yale/tariff-rate-tracker"
YALE_COMMIT = "8315fffd697c42559141ed5f8bf7c8fa3da47ae8"
TWT_REPO = "tradewartracker/trade-war-redux-2025"
TWT_COMMIT = "726c5958e1e43eb08ac076a1e602ae3149164b03"
AS_OF = dt.date(2026, 5, 1)
VERSION = "2026.1"

HTS_FILE = "us_law_2025/usitc_hts_2025_basic_edition.csv"
HS8_FILE = "us_trade_2024/us_imports_2024_by_partner_hs8.csv.gz"
CTY_FILE = "us_law_2025/tradewartracker/CensusCountryMapping_FRBAtl_short.csv"
YALE_DIR = "us_law_2025/yale"

MAX_RATE = 2000.0
EU_AGGREGATE = "0003"
#: ISO codes of the 27 EU members (Census codes in yale/policy_params.yaml ``eu27_codes``).
EU27 = ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL", "ITA",
        "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE")
EU = ("EU27",) + EU27
CAN_MEX = ("CAN", "MEX")
COLUMN2 = ("BLR", "CUB", "PRK", "RUS")

#: Partners of the HTS8 file with preferences in 2024, and the special-rate codes of their programmes.
PROGRAMMES = {
    "CAN": "USMCA (S, S+)", "MEX": "USMCA (S, S+)", "KOR": "KORUS (KR)", "AUS": "US-Australia FTA (AU)",
    "CHL": "US-Chile FTA (CL)", "COL": "US-Colombia TPA (CO)", "PER": "US-Peru TPA (PE)", "ISR": "US-Israel FTA (IL)",
    "SGP": "US-Singapore FTA (SG)", "CRI": "CAFTA-DR (P, P+)", "DOM": "CAFTA-DR (P, P+)", "GTM": "CAFTA-DR (P, P+)",
    "HND": "CAFTA-DR (P, P+)", "NIC": "CAFTA-DR (P, P+)", "SLV": "CAFTA-DR (P, P+)", "ZAF": "AGOA (D)",
    "NGA": "AGOA (D)", "AGO": "AGOA (D)", "TTO": "CBERA/CBTPA (E, R)", "EGY": "Qualifying Industrial Zones (IL)",
    "JPN": "US-Japan Trade Agreement (JP)",
}
#: Partners left out of the AVE pool, and why.
POOL_EXCLUDED = {
    "CHN": "Section 301 duties in 2024",
    "RUS": "column 2 rates since 2022",
    "SVK": "counted inside the EU aggregate",
    **{c: PROGRAMMES[c].split(" (")[0] + " preferences" for c in PROGRAMMES if c != "JPN"},
}
#: Special-rate codes open to every origin (Agreement on Trade in Civil Aircraft, pharmaceuticals, dye intermediates).
ERGA_OMNES = ("C", "K", "L")

REF_MIRROR = "/work/.mirror/Budget-Lab-Yale+tariff-rate-tracker/repo"


class BuildError(Exception):
    """A problem in an input or output, with the file, row and value."""


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


@dataclass
class Sources:
    """Where the inputs are: the shared reference folder and a mirror of the Yale repository."""

    reference: Path
    mirror: Path | None

    def ref(self, name: str) -> Path:
        path = self.reference / name
        if not path.is_file():
            raise BuildError(f"{path}: input file not found")
        return path

    def yale_text(self, path: str) -> str:
        """A file of the Yale repository: from ``shared/reference/us_law_2025/yale`` if copied there, else the mirror."""
        local = self.reference / YALE_DIR / Path(path).name
        if local.is_file() and path.startswith("resources/"):
            return local.read_text(encoding="utf-8")
        if self.mirror is None:
            raise BuildError(f"{YALE_REPO}:{path} is not in {self.reference / YALE_DIR}; pass --yale-mirror")
        done = subprocess.run(["git", "-C", str(self.mirror), "show", f"{YALE_COMMIT}:{path}"],
                              capture_output=True, check=False)
        if done.returncode:
            raise BuildError(f"{self.mirror}: cannot read {YALE_COMMIT}:{path}: {done.stderr.decode().strip()}")
        return done.stdout.decode("utf-8", errors="replace")

    def yale_csv(self, path: str, **kw) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(self.yale_text(path)), dtype=str, keep_default_na=False, **kw)


def _digits(series: pd.Series) -> pd.Series:
    return series.astype(str).str.replace(r"[.\s]", "", regex=True)


def read_hts(src: Sources) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The HTSUS lines that carry a general rate in chapters 1-97, and every numbered line (for nesting checks).

    Returns
    -------
    lines : DataFrame
        ``code`` (8 or 10 digits), ``hs8``, ``general``, ``special``, ``column2``, ``description``, one row per line.
    numbered : DataFrame
        ``code`` of every numbered line (4, 6, 8 or 10 digits).
    """
    path = src.ref(HTS_FILE)
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    raw["row"] = np.arange(len(raw)) + 2
    raw["code"] = _digits(raw["HTS Number"])
    numbered = raw[raw["code"] != ""]
    bad = numbered[~numbered["code"].str.fullmatch(r"\d{4}|\d{6}|\d{8}|\d{10}")]
    if len(bad):
        r = bad.iloc[0]
        raise BuildError(f"{path}: row {r['row']}: malformed HTS number {r['HTS Number']!r}")
    clean = {c: raw[c].str.replace(r"\s+", " ", regex=True).str.strip()
             for c in ("General Rate of Duty", "Special Rate of Duty", "Column 2 Rate of Duty", "Description")}
    lines = pd.DataFrame({"code": raw["code"], "general": clean["General Rate of Duty"],
                          "special": clean["Special Rate of Duty"], "column2": clean["Column 2 Rate of Duty"],
                          "description": clean["Description"], "row": raw["row"]})
    lines = lines[(lines["general"] != "") & lines["code"].str.len().isin([8, 10]) & (lines["code"].str[:2] < "98")]
    lines = lines.assign(hs8=lines["code"].str[:8]).reset_index(drop=True)
    twice = lines[lines["hs8"].duplicated(keep=False)]
    if len(twice):
        r = twice.iloc[0]
        raise BuildError(f"{path}: row {r['row']}: HTS8 {r['hs8']} carries more than one general rate")
    # A rate printed on a 10-digit line must be the only statistical line of its HTS8 (so it is the HTS8's rate).
    tens = numbered[numbered["code"].str.len() == 10]
    siblings = tens.groupby(tens["code"].str[:8]).size()
    at10 = lines[lines["code"].str.len() == 10]
    shared = at10[siblings.reindex(at10["hs8"]).to_numpy() > 1]
    if len(shared):
        r = shared.iloc[0]
        raise BuildError(f"{path}: row {r['row']}: rate on {r['code']} but its HTS8 has other statistical lines")
    return lines, numbered[["code"]].drop_duplicates().reset_index(drop=True)


def read_trade(src: Sources) -> pd.DataFrame:
    """2024 imports and duties by exporter (ISO alpha-3, ``EU27`` for the aggregate) and HTS8; Slovakia alone dropped."""
    path = src.ref(HS8_FILE)
    raw = pd.read_csv(path, dtype={"CTY_CODE": str, "HS8": str})
    raw["row"] = np.arange(len(raw)) + 2
    bad = raw[~raw["HS8"].str.fullmatch(r"\d{8}") | ~raw["CTY_CODE"].str.fullmatch(r"\d{4}")
              | raw[["imports", "duty"]].isna().any(axis=1) | (raw[["imports", "duty"]] < 0).any(axis=1)]
    if len(bad):
        r = bad.iloc[0]
        raise BuildError(f"{path}: row {r['row']}: bad record {r.drop('row').to_dict()}")
    iso = pd.read_csv(src.ref(CTY_FILE), dtype=str).dropna(subset=["CTY_CODE"]).set_index("CTY_CODE")["ISO3"]
    raw["exporter"] = raw["CTY_CODE"].map(iso)
    raw.loc[raw["CTY_CODE"] == EU_AGGREGATE, "exporter"] = "EU27"
    missing = raw[raw["exporter"].isna()]
    if len(missing):
        r = missing.iloc[0]
        raise BuildError(f"{path}: row {r['row']}: Census code {r['CTY_CODE']} has no ISO code in {CTY_FILE}")
    trade = raw[raw["exporter"] != "SVK"]
    return trade.groupby(["exporter", "HS8"], as_index=False)[["imports", "duty"]].sum().rename(columns={"HS8": "hs8"})


# ---------------------------------------------------------------------------------------------
# Rates of duty as text
# ---------------------------------------------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?(?:\s+\d/\d)?"


def _number(text: pd.Series) -> pd.Series:
    """Numbers such as ``"6.8"`` or ``"33 1/3"`` as floats."""
    parts = text.str.extract(r"^(\d+(?:\.\d+)?)(?:\s+(\d)/(\d))?$")
    whole = pd.to_numeric(parts[0], errors="coerce")
    frac = pd.to_numeric(parts[1], errors="coerce") / pd.to_numeric(parts[2], errors="coerce")
    return whole + frac.fillna(0.0)


def parse_rates(text: pd.Series) -> pd.DataFrame:
    """Split rate-of-duty texts into their parts.

    Parameters
    ----------
    text : Series of str
        Texts such as ``"Free"``, ``"6.8%"``, ``"1.5¢/kg + 3%"``, ``"$1.035/kg"``.

    Returns
    -------
    DataFrame, indexed like `text`
        ``kind`` ("free", "ad_valorem", "specific", "compound" or "other"), ``av_pct`` (the plain ad
        valorem part, 0 if none), ``amount_usd`` and ``unit`` (the specific part when it is a single
        amount per unit, else NaN/""), ``n_specific``.

    Examples
    --------
    >>> parse_rates(pd.Series(["Free", "6.8%", "1.5¢/kg + 3%"]))["kind"].tolist()
    ['free', 'ad_valorem', 'compound']
    """
    t = text.fillna("").str.replace("\u00a0", " ").str.replace(r"\s+", " ", regex=True).str.strip()
    comp = t.str.split(r"\s*\+\s*", regex=True).explode()
    comp = comp[comp.fillna("") != ""]
    av = _number(comp.str.extract(rf"^({_NUM})\s*%$")[0])
    spec = comp.str.extract(rf"^(?:\$({_NUM})|({_NUM})\s*¢)\s*(?:/\s*(.+)|(each))$")
    amount = _number(spec[0]).fillna(_number(spec[1]) / 100.0)
    unit = (spec[2].fillna(spec[3]).fillna("").str.lower().str.replace(r"\s+", "", regex=True)
            .str.replace(r"less.*$", "", regex=True).str.rstrip("."))
    parts = pd.DataFrame({"av": av, "amount": amount.where(spec[0].notna() | spec[1].notna()), "unit": unit})
    parts["is_av"] = parts["av"].notna()
    parts["is_spec"] = parts["amount"].notna()
    parts["is_other"] = ~parts["is_av"] & ~parts["is_spec"]
    g = parts.groupby(level=0)
    out = pd.DataFrame(index=t.index)
    out["av_pct"] = g["av"].sum().reindex(t.index).fillna(0.0)
    out["n_av"] = g["is_av"].sum().reindex(t.index).fillna(0).astype(int)
    out["n_specific"] = g["is_spec"].sum().reindex(t.index).fillna(0).astype(int)
    out["n_other"] = g["is_other"].sum().reindex(t.index).fillna(0).astype(int)
    single = parts[parts["is_spec"]].groupby(level=0).first()
    out["amount_usd"] = single["amount"].reindex(t.index)
    out["unit"] = single["unit"].reindex(t.index).fillna("")
    free = t.str.fullmatch("Free", case=False)
    out["kind"] = np.select(
        [free, (out["n_other"] == 0) & (out["n_specific"] == 0) & (out["n_av"] == 1),
         (out["n_other"] == 0) & (out["n_specific"] >= 1) & (out["n_av"] == 0),
         (out["n_other"] == 0) & (out["n_specific"] >= 1) & (out["n_av"] >= 1)],
        ["free", "ad_valorem", "specific", "compound"], "other")
    several = out["n_specific"] != 1
    out.loc[several, "amount_usd"] = np.nan
    out.loc[several, "unit"] = ""
    return out


# ---------------------------------------------------------------------------------------------
# Section 301 lists (read early: China's 2024 duties less Section 301 are one AVE fallback)
# ---------------------------------------------------------------------------------------------

#: Yale list name -> (measure suffix, HTS heading, rate %, start, end, description).
S301_LISTS = {
    "1": ("list_1", "9903.88.01", 25.0, "2018-07-06", None, "List 1 (USD 34bn action)"),
    "2": ("list_2", "9903.88.02", 25.0, "2018-08-23", None, "List 2 (USD 16bn action)"),
    "3": ("list_3", "9903.88.03", 25.0, "2019-05-10", None, "List 3 (USD 200bn action), 25% since 2019"),
    "3_addl": ("list_3_additional", "9903.88.04", 25.0, "2019-05-10", None, "List 3 lines under heading 9903.88.04"),
    "4A": ("list_4a", "9903.88.15", 7.5, "2020-02-14", None, "List 4A, 7.5% since the Phase One deal"),
}


def read_s301(src: Sources) -> pd.DataFrame:
    """Yale's Section 301 lists: ``hs_code, list, ch99_code`` (HTS8 codes)."""
    frame = src.yale_csv("resources/s301_product_lists.csv").rename(columns={"hts8": "hs_code"})
    return frame.drop_duplicates().reset_index(drop=True)


def s301_rate_2024(s301: pd.DataFrame) -> pd.Series:
    """Section 301 rate (%) on Chinese goods by HTS8 for most of 2024 (lists 1-4A; lines of the 2024 review: NaN)."""
    rates = s301["list"].map({k: v[2] for k, v in S301_LISTS.items()})
    best = rates.groupby(s301["hs_code"]).max()
    review = s301.loc[s301["list"].str.startswith(("biden", "cranes")), "hs_code"]
    best[best.index.isin(review)] = np.nan
    return best


# ---------------------------------------------------------------------------------------------
# MFN and column 2 rates with ad valorem equivalents
# ---------------------------------------------------------------------------------------------

HIERARCHY = (("hs6", 6), ("hs4", 4), ("hs2", 2))


#: A partner joins the AVE pool only if its 2024 duties on ad valorem lines reach this share of the written rates.
POOL_MIN_RATIO = 0.9


def pool_screen(lines: pd.DataFrame, parsed: pd.DataFrame, trade: pd.DataFrame) -> pd.Series:
    """Each partner's 2024 duties over the duties its trade would owe at the written ad valorem rates.

    Only plain ad valorem lines with a positive rate, outside erga omnes special rates (C, K, L) and the
    2024 Section 232 and Section 201 lines, count. A ratio well below 1 means duty-free entries on
    dutiable lines: preferences, or former GSP beneficiaries whose GSP-flagged entries carry no
    calculated duty in the Census data although GSP lapsed at the end of 2020.
    """
    av = (parsed["kind"] == "ad_valorem") & (parsed["av_pct"] > 0) & ~_has_code(lines["special"], ERGA_OMNES)
    rate = pd.Series(parsed.loc[av, "av_pct"].to_numpy(), index=lines.loc[av, "hs8"])
    t = trade[trade["hs8"].isin(rate.index) & ~trade["hs8"].str.startswith(OTHER_2024) & (trade["imports"] > 0)]
    owed = t["imports"] * rate.reindex(t["hs8"]).to_numpy() / 100.0
    sums = pd.DataFrame({"duty": t["duty"], "owed": owed, "exporter": t["exporter"]}).groupby("exporter").sum()
    return (sums["duty"] / sums["owed"]).rename("ratio")


def pool_partners(lines: pd.DataFrame, parsed: pd.DataFrame, trade: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """Partners of the AVE pool, and those left out with the reason."""
    ratio = pool_screen(lines, parsed, trade)
    out = {k: v for k, v in POOL_EXCLUDED.items() if k in set(trade["exporter"]) | {"SVK"}}
    for exporter, r in ratio.items():
        if exporter not in out and r < POOL_MIN_RATIO:
            out[exporter] = f"2024 duties {r:.0%} of the written ad valorem rates (former GSP beneficiary)"
    return sorted(set(trade["exporter"]) - set(out)), out


def _pool_sums(lines: pd.DataFrame, trade: pd.DataFrame, partners: list[str]) -> pd.DataFrame:
    """Imports, duty and the partners that traded, per HTS8, over the AVE pool."""
    jp_lines = set(lines.loc[lines["special"].str.contains(r"\bJP\b"), "hs8"])
    pooled = trade[trade["exporter"].isin(partners)]
    pooled = pooled[~((pooled["exporter"] == "JPN") & pooled["hs8"].isin(jp_lines))]
    pooled = pooled[pooled["imports"] > 0]
    sums = pooled.groupby("hs8")[["imports", "duty"]].sum()
    sums["partners"] = pooled.sort_values("exporter").groupby("hs8")["exporter"].agg(" ".join)
    return sums


def _unit_values(known: pd.DataFrame, todo: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Specific-duty AVE (%) for `todo` from the median unit value of `known` lines with the same unit.

    A measured line with a single specific amount ``a`` (USD per unit) and a measured specific
    part ``s`` (% of value) implies a unit value ``a / s``. Each line in `todo` takes the median
    unit value of its HS6, else HS4, else chapter, for its unit.
    """
    uv = known["amount_usd"] / (known["spec_pct"] / 100.0)
    ave = pd.Series(np.nan, index=todo.index)
    level = pd.Series("", index=todo.index)
    for name, n in HIERARCHY:
        med = uv.groupby([known["code"].str[:n], known["unit"]]).median()
        key = pd.MultiIndex.from_arrays([todo["code"].str[:n], todo["unit"]])
        found = pd.Series(med.reindex(key).to_numpy(), index=todo.index)
        fill = ave.isna() & found.notna() & (todo["unit"] != "")
        ave[fill] = todo.loc[fill, "amount_usd"] / found[fill] * 100.0
        level[fill] = name
    return ave, level


def _sibling_median(rates: pd.Series, codes: pd.Series, todo: pd.Index) -> tuple[pd.Series, pd.Series]:
    """Median of known `rates` in the HS6, else HS4, else chapter of each line in `todo`."""
    known = rates.notna()
    out = pd.Series(np.nan, index=todo)
    level = pd.Series("", index=todo)
    for name, n in HIERARCHY:
        med = rates[known].groupby(codes[known].str[:n]).median()
        found = pd.Series(med.reindex(codes[todo].str[:n]).to_numpy(), index=todo)
        fill = out.isna() & found.notna()
        out[fill] = found[fill]
        level[fill] = name
    return out, level


def mfn_rates(lines: pd.DataFrame, trade: pd.DataFrame, s301_2024: pd.Series) -> pd.DataFrame:
    """MFN rate (%) per HTS line, ad valorem as written or as an ad valorem equivalent; see the module docstring.

    Returns
    -------
    DataFrame
        ``hs_code, hs8, rate_pct, method, rate_text, av_part_pct, basis_imports_usd, basis_partners`` and the
        parsed specific part (``amount_usd``, ``unit``), one row per HTSUS line of chapters 1-97.
    """
    p = parse_rates(lines["general"])
    out = pd.concat([lines[["code", "hs8", "general", "special"]], p], axis=1)
    out["rate_pct"] = np.where(out["kind"].isin(["free", "ad_valorem"]), out["av_pct"], np.nan)
    out["method"] = np.where(out["kind"] == "free", "statutory_free",
                             np.where(out["kind"] == "ad_valorem", "statutory_ad_valorem", ""))
    out["basis_imports_usd"] = np.nan
    out["basis_partners"] = ""
    todo = out["rate_pct"].isna()

    partners, _ = pool_partners(lines, p, trade)
    pool = _pool_sums(lines, trade, partners).reindex(out["hs8"])
    pool.index = out.index
    measured = (pool["duty"] / pool["imports"] * 100.0).where((pool["imports"] > 0) & (pool["duty"] > 0))
    use = todo & measured.notna()
    out.loc[use, "rate_pct"] = out.loc[use, "av_pct"] + (measured[use] - out.loc[use, "av_pct"]).clip(lower=0)
    out.loc[use, "method"] = "ave_duties_pool"
    out.loc[use, "basis_imports_usd"] = pool.loc[use, "imports"]
    out.loc[use, "basis_partners"] = pool.loc[use, "partners"]

    cn = trade[(trade["exporter"] == "CHN") & (trade["imports"] > 0) & (trade["duty"] > 0)].set_index("hs8")
    # Lines of the 2024 review tranches (NaN in s301_2024) are left out: their Section 301 rate changed in 2024.
    review = cn.index.isin(s301_2024.index[s301_2024.isna()])
    cn_rate = (cn["duty"] / cn["imports"] * 100.0 - s301_2024.reindex(cn.index).fillna(0.0)).where(~review)
    cn_net = pd.Series(cn_rate.reindex(out["hs8"]).to_numpy(), index=out.index)
    use = out["rate_pct"].isna() & (cn_net > 0)
    out.loc[use, "rate_pct"] = out.loc[use, "av_pct"] + (cn_net[use] - out.loc[use, "av_pct"]).clip(lower=0)
    out.loc[use, "method"] = "ave_duties_china_less_s301"
    out.loc[use, "basis_imports_usd"] = cn.loc[out.loc[use, "hs8"], "imports"].to_numpy()
    out.loc[use, "basis_partners"] = "CHN"

    out["spec_pct"] = out["rate_pct"] - out["av_pct"]
    known = out[out["method"].str.startswith("ave_") & out["amount_usd"].notna() & (out["spec_pct"] > 0)]
    todo = out[out["rate_pct"].isna() & out["amount_usd"].notna() & out["kind"].isin(["specific", "compound"])]
    ave, level = _unit_values(known, todo)
    fill = ave.notna()
    out.loc[fill[fill].index, "rate_pct"] = todo.loc[fill, "av_pct"] + ave[fill]
    out.loc[fill[fill].index, "method"] = "fallback_unit_value_" + level[fill]

    rest = out.index[out["rate_pct"].isna()]
    med, level = _sibling_median(out["rate_pct"], out["code"], rest)
    out.loc[rest, "rate_pct"] = np.maximum(med, out.loc[rest, "av_pct"])
    out.loc[rest, "method"] = "fallback_median_" + level
    if out["rate_pct"].isna().any():
        r = out[out["rate_pct"].isna()].iloc[0]
        raise BuildError(f"{HTS_FILE}: no rate for {r['code']} ({r['general']!r})")
    out["spec_pct"] = out["rate_pct"] - out["av_pct"]
    return out.rename(columns={"code": "hs_code", "general": "rate_text"})


def column2_rates(lines: pd.DataFrame, mfn: pd.DataFrame, trade: pd.DataFrame) -> pd.DataFrame:
    """Column 2 rate (%) per HTS line for Belarus, Cuba, North Korea and Russia.

    Ad valorem and free rates as written. Specific parts: Russia's own 2024 duties on the line
    (Russia paid column 2 rates in 2024; metal chapters 72, 73 and 76 are left out because of its
    200% Section 232 aluminium duty); else the line's column 2 amount over the unit value implied
    by its measured MFN AVE (same unit); else unit values of measured lines, else sibling medians.
    """
    text = lines["column2"].replace({"Free, under bond": "Free"})
    p = parse_rates(text)
    out = pd.concat([lines[["code", "hs8"]], text.rename("rate_text"), p], axis=1)
    out["rate_pct"] = np.where(out["kind"].isin(["free", "ad_valorem"]), out["av_pct"], np.nan)
    out["method"] = np.where(out["kind"] == "free", "statutory_free",
                             np.where(out["kind"] == "ad_valorem", "statutory_ad_valorem", ""))
    ru = trade[(trade["exporter"] == "RUS") & (trade["imports"] > 0) & (trade["duty"] > 0)
               & ~trade["hs8"].str[:2].isin(["72", "73", "76"])].set_index("hs8")
    ru_rate = pd.Series((ru["duty"] / ru["imports"] * 100.0).reindex(out["hs8"]).to_numpy(), index=out.index)
    use = out["rate_pct"].isna() & ru_rate.notna()
    out.loc[use, "rate_pct"] = out.loc[use, "av_pct"] + (ru_rate[use] - out.loc[use, "av_pct"]).clip(lower=0)
    out.loc[use, "method"] = "ave_duties_rus_2024"

    m = mfn  # same index as `lines`
    same_unit = (out["unit"] != "") & (out["unit"] == m["unit"]) & m["amount_usd"].notna() & (m["spec_pct"] > 0)
    use = out["rate_pct"].isna() & same_unit & m["method"].str.startswith("ave_")
    out.loc[use, "rate_pct"] = out.loc[use, "av_pct"] + m.loc[use, "spec_pct"] * out.loc[use, "amount_usd"] / m.loc[use, "amount_usd"]
    out.loc[use, "method"] = "ave_mfn_unit_value"

    known = m[m["method"].str.startswith("ave_") & m["amount_usd"].notna() & (m["spec_pct"] > 0)]
    todo = out[out["rate_pct"].isna() & out["amount_usd"].notna() & out["kind"].isin(["specific", "compound"])]
    ave, level = _unit_values(known.rename(columns={"hs_code": "code"}), todo)
    fill = ave.notna()
    out.loc[fill[fill].index, "rate_pct"] = todo.loc[fill, "av_pct"] + ave[fill]
    out.loc[fill[fill].index, "method"] = "fallback_unit_value_" + level[fill]
    rest = out.index[out["rate_pct"].isna()]
    med, level = _sibling_median(out["rate_pct"], out["code"], rest)
    out.loc[rest, "rate_pct"] = np.maximum(med, out.loc[rest, "av_pct"])
    out.loc[rest, "method"] = "fallback_median_" + level
    if out["rate_pct"].isna().any():
        r = out[out["rate_pct"].isna()].iloc[0]
        raise BuildError(f"{HTS_FILE}: no column 2 rate for {r['code']} ({r['rate_text']!r})")
    return out.rename(columns={"code": "hs_code"})


# ---------------------------------------------------------------------------------------------
# Preferences actually used, and USMCA claims
# ---------------------------------------------------------------------------------------------


def _has_code(special: pd.Series, codes: tuple[str, ...]) -> pd.Series:
    """True where a special-rate text lists one of `codes` between parentheses, e.g. ``Free (A,C,KR)``."""
    pattern = r"[(,]\s*(?:" + "|".join(re.escape(c) for c in codes) + r")\s*[,)]"
    return special.str.contains(pattern, regex=True)


def _with_eu_members(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of exporter ``EU27`` repeated for each of the 27 members (baselines may hold either)."""
    eu = frame[frame["exporter"] == "EU27"]
    members = pd.concat([eu.assign(exporter=c) for c in EU27], ignore_index=True)
    return pd.concat([frame, members], ignore_index=True)


PREF_MIN_PCT = 0.5


def preference_shares(mfn: pd.DataFrame, trade: pd.DataFrame) -> pd.DataFrame:
    """Share (%) of each partner's 2024 trade in a line that did not pay MFN, as measured; see the module docstring.

    Returns
    -------
    DataFrame
        ``exporter, hs_code (HTS8), share_pct, mfn_pct, measured_pct, programme, source``; rows with a
        share of at least `PREF_MIN_PCT` only (lines and exporters not listed pay the full MFN rate).
    """
    by8 = mfn.set_index("hs8")
    t = trade[(trade["imports"] > 0) & ~trade["exporter"].isin(["CHN", "RUS"])].copy()
    t["mfn_pct"] = by8["rate_pct"].reindex(t["hs8"]).to_numpy()
    t["special"] = by8["special"].reindex(t["hs8"]).fillna("").to_numpy()
    t = t[t["mfn_pct"] > 0]
    erga = _has_code(t["special"], ERGA_OMNES)
    jp = _has_code(t["special"], ("JP",))
    programme = t["exporter"].isin(PROGRAMMES) & ((t["exporter"] != "JPN") | jp)
    t = t[programme | erga].copy()
    t["measured_pct"] = t["duty"] / t["imports"] * 100.0
    t["share_pct"] = (100.0 * (1.0 - t["measured_pct"] / t["mfn_pct"])).clip(0.0, 100.0).round(2)
    t["programme"] = np.where(programme[t.index], t["exporter"].map(PROGRAMMES).fillna(""),
                              "erga omnes (C, K or L)")
    t["source"] = "Census 2024 duty/imports (reference us_trade_2024 HS8 file)"
    # Shares under PREF_MIN_PCT are duty rounding noise (a line that paid MFN to the cent shows 0.0x%).
    t = t[t["share_pct"] >= PREF_MIN_PCT].rename(columns={"hs8": "hs_code"})
    cols = ["exporter", "hs_code", "share_pct", "mfn_pct", "measured_pct", "programme", "source"]
    t["mfn_pct"] = t["mfn_pct"].round(3)
    t["measured_pct"] = t["measured_pct"].round(3)
    out = _with_eu_members(t[cols])
    return out.sort_values(["exporter", "hs_code"], kind="stable").reset_index(drop=True)


USMCA_CTY = {"1220": "CAN", "2010": "MEX"}


@dataclass
class Usmca:
    """USMCA claim shares (%) by exporter and HTS8 for three periods, and their diagnostics."""

    y2024: pd.DataFrame
    mar_jun_2025: pd.DataFrame
    h2_2025: pd.DataFrame
    monthly: pd.DataFrame  # exporter, month, share_pct (trade-weighted)
    dropped_codes: int


def _usmca_fill(shares: pd.DataFrame, lines: pd.Index, period: str) -> pd.DataFrame:
    """Shares by exporter and HTS8 on every line of `lines`, filling gaps with HS6, HS4 or country shares.

    `shares` has ``exporter, hs8, share, weight``; aggregate shares are weighted means.
    """
    rows = []
    for exporter in CAN_MEX:
        s = shares[shares["exporter"] == exporter].set_index("hs8")
        frame = pd.DataFrame(index=pd.Index(lines).union(s.index).rename("hs8"))
        frame["share"] = s["share"].reindex(frame.index)
        frame["method"] = np.where(frame["share"].notna(), "dataweb_hs8", "")
        w = s["weight"].where(s["weight"] > 0, 0.0)
        for name, n in (("hs6", 6), ("hs4", 4)):
            num = (s["share"] * w).groupby(s.index.str[:n]).sum()
            den = w.groupby(s.index.str[:n]).sum()
            agg = (num / den).where(den > 0)
            found = pd.Series(agg.reindex(frame.index.str[:n]).to_numpy(), index=frame.index)
            fill = frame["share"].isna() & found.notna()
            frame.loc[fill, "share"] = found[fill]
            frame.loc[fill, "method"] = "fallback_" + name
        total = (s["share"] * w).sum() / w.sum()
        fill = frame["share"].isna()
        frame.loc[fill, "share"] = total
        frame.loc[fill, "method"] = "fallback_country"
        rows.append(frame.reset_index().assign(exporter=exporter))
    out = pd.concat(rows, ignore_index=True)
    out["share_pct"] = (100.0 * out["share"]).clip(0.0, 100.0).round(2)
    out["source"] = f"USITC DataWeb SPI S/S+, {period} (Yale usmca_product_shares @{YALE_COMMIT[:12]})"
    return out.rename(columns={"hs8": "hs_code"})[["exporter", "hs_code", "share_pct", "method", "source"]]


def usmca_shares(src: Sources, trade: pd.DataFrame, known8: set[str]) -> Usmca:
    """USMCA claim shares of imports from Canada and Mexico by HTS8: 2024, March-June 2025, July-December 2025.

    2024: DataWeb shares by HTS10 (no values in the file) weighted to HTS8 with 2025 HTS10 values.
    2025: claimed value over total value summed over the months. Lines with 2024 trade from Canada
    or Mexico and no DataWeb data take their HS6, HS4 or country share.
    """
    months = []
    for m in range(1, 13):
        f = src.yale_csv(f"resources/usmca_product_shares_2025_{m:02d}.csv")
        months.append(f.assign(month=m))
    monthly = pd.concat(months, ignore_index=True)
    for col in ("total_value", "usmca_value"):
        monthly[col] = pd.to_numeric(monthly[col])
    monthly["exporter"] = monthly["cty_code"].map(USMCA_CTY)
    monthly["hs8"] = monthly["hts10"].str[:8]
    y24 = src.yale_csv("resources/usmca_product_shares_2024.csv")
    y24["exporter"] = y24["cty_code"].map(USMCA_CTY)
    y24["hs8"] = y24["hts10"].str[:8]
    y24["share"] = pd.to_numeric(y24["usmca_share"])
    for frame, name in ((monthly, "2025 monthly"), (y24, "2024")):
        bad = frame[~frame["hts10"].str.fullmatch(r"\d{10}") | frame["exporter"].isna()]
        if len(bad):
            raise BuildError(f"{YALE_REPO} usmca_product_shares {name}: row {bad.index[0] + 2}: {bad.iloc[0].to_dict()}")
    seen = pd.Index(pd.concat([monthly["hs8"], y24["hs8"]]).unique())
    dropped = seen[~seen.isin(known8)]
    monthly = monthly[monthly["hs8"].isin(known8)]
    y24 = y24[y24["hs8"].isin(known8)]

    w10 = monthly.groupby(["exporter", "hts10"])["total_value"].sum()
    y24["weight"] = w10.reindex(pd.MultiIndex.from_frame(y24[["exporter", "hts10"]])).fillna(0.0).to_numpy()
    # HTS8 share: value-weighted over HTS10 where weights exist, else the plain mean.
    y24["ws"] = y24["share"] * y24["weight"]
    g = y24.groupby(["exporter", "hs8"])
    s24 = (g["ws"].sum() / g["weight"].sum()).where(g["weight"].sum() > 0, g["share"].mean())
    s24 = pd.DataFrame({"share": s24, "weight": g["weight"].sum()}).reset_index()

    def period(months_in: range) -> pd.DataFrame:
        sub = monthly[monthly["month"].isin(months_in)]
        g = sub.groupby(["exporter", "hs8"])[["usmca_value", "total_value"]].sum()
        g = g[g["total_value"] > 0]
        return pd.DataFrame({"share": g["usmca_value"] / g["total_value"], "weight": g["total_value"]}).reset_index()

    lines = pd.Index(trade.loc[trade["exporter"].isin(CAN_MEX) & (trade["imports"] > 0), "hs8"].unique())
    lines = lines[lines.isin(known8)]
    agg = monthly.groupby(["exporter", "month"])[["usmca_value", "total_value"]].sum()
    agg = (100.0 * agg["usmca_value"] / agg["total_value"]).rename("share_pct").reset_index()
    return Usmca(
        y2024=_usmca_fill(s24, lines, "2024"),
        mar_jun_2025=_usmca_fill(period(range(3, 7)), lines, "2025-03..06"),
        h2_2025=_usmca_fill(period(range(7, 13)), lines, "2025-07..12"),
        monthly=agg, dropped_codes=len(dropped))


# ---------------------------------------------------------------------------------------------
# Section 301 files
# ---------------------------------------------------------------------------------------------

S301_SOURCE = f"{YALE_REPO} resources/s301_product_lists.csv @{YALE_COMMIT[:12]}"
CH99_NOTES = "data/us_notes/chapter99_2026_rev_6.txt"
CH99_SOURCE = f"HTSUS 2026 Rev.6 chapter 99 subchapter III U.S. notes, text mirrored in {YALE_REPO} {CH99_NOTES} @{YALE_COMMIT[:12]}"

#: Four-year-review tranches: name -> (Yale list or explicit codes, HTS heading, rate %, start, end, what).
S301_REVIEW = {
    "review_2024_25": ("biden_25", "9903.91.01", 25.0, "2024-09-27", None,
                       "steel and aluminium products, critical minerals, lithium-ion EV batteries, battery parts"),
    "review_2024_50": ("biden_50", "9903.91.02", 50.0, "2024-09-27", None, "solar cells and modules"),
    "review_2024_100": ("biden_100", "9903.91.03", 100.0, "2024-09-27", None,
                        "electric vehicles (8703.60-.90, 8702 electric buses), syringes and needles"),
    "review_2025_facemasks_25": (("6307909870",), "9903.91.04", 25.0, "2025-01-01", "2026-01-01",
                                 "disposable textile facemasks"),
    "review_2025_50": ("biden_50_jan25", "9903.91.05", 50.0, "2025-01-01", None,
                       "semiconductors (8541, 8542), polysilicon (2804.61) and wafers (3818)"),
    "review_2025_tungsten_25": ("biden_25_jan25", "9903.91.11", 25.0, "2025-01-01", None, "tungsten products"),
    "review_2026_25": (("25041010", "25041050", "25049000", "85051100", "85076000"), "9903.91.06", 25.0,
                       "2026-01-01", None, "natural graphite, permanent magnets, lithium-ion non-EV batteries"),
    "review_2026_50": (("6307909842", "6307909844", "6307909850", "6307909870", "6307909875"), "9903.91.07", 50.0,
                       "2026-01-01", None, "respirators and facemasks of textiles"),
    "review_2026_100": (("40151210",), "9903.91.08", 100.0, "2026-01-01", None, "medical and surgical gloves of rubber"),
    "enteral_syringes_2026_100": (("9018310080",), "9903.91.03 (exception 9903.91.10 ended)", 100.0, "2026-01-01", None,
                                  "enteral syringes, excluded from the 2024 100% until 2026-01-01 (heading 9903.91.10)"),
    "cranes_2024_25": ("cranes_301", "9903.92.10", 25.0, "2024-09-27", None, "ship-to-shore gantry cranes"),
}
#: Section 301 shipbuilding action (2025), suspended until 2026-11-10: additive to the lists above.
S301_SHIPS = {
    "ships_cranes_100": (("84261900",), "9903.91.14", 100.0, "2026-11-10",
                         "ship-to-shore gantry cranes of China or with Chinese components (additional to 9903.92.10)"),
    "ships_chassis_100": (("8716390090", "87169030", "87169050"), "9903.91.12", 100.0, "2026-11-10",
                          "intermodal chassis, subassemblies and parts"),
}


def s301_exclusions(src: Sources, known: set[str]) -> pd.DataFrame:
    """The 178 Section 301 exclusions in force to 2026-11-09 (U.S. note 20(vvv) and (www)), one row per code named.

    Returns
    -------
    DataFrame
        ``hs_code`` (HTS10), ``list`` (the list whose duty is excluded), ``item`` (number in the note),
        ``whole_line`` (True when the exclusion is the whole statistical line, False when it covers only a
        described product within it), ``description``.
    """
    text = src.yale_text(CH99_NOTES)
    start, end = text.index("\n(vvv)"), text.index("(21) (a)")
    junk = r"(?m)^\s*(Harmonized Tariff Schedule of the United States.*|Annotated for Statistical Reporting Purposes|XXII|99 - III - \d+|U\.S\. Notes \(con\.\))\s*$"
    body = re.sub(r"\s+", " ", re.sub(junk, " ", text[start:end]))
    heads = re.split(r"\((?:vvv\) \(i|ii|iii|iv|www)\) The U\.S\. Trade Representative", body)[1:]
    lists = ["1", "2", "3", "4A", "2"]
    if len(heads) != len(lists):
        raise BuildError(f"{CH99_SOURCE}: expected {len(lists)} exclusion subdivisions, found {len(heads)}")
    frames = []
    for part, lst in zip(heads, lists):
        items = pd.Series(re.split(r"\((\d{1,3})\) ", part.split(":", 1)[1]))
        frame = pd.DataFrame({"item": items.iloc[1::2].to_numpy(), "description": items.iloc[2::2].str.strip().to_numpy()})
        frames.append(frame.assign(list=lst, heading="9903.88.70" if part is heads[-1] else "9903.88.69"))
    items = pd.concat(frames, ignore_index=True)
    if len(items) != 178:
        raise BuildError(f"{CH99_SOURCE}: {len(items)} exclusions parsed, expected 178")
    items["whole_line"] = items["description"].str.fullmatch(r"\d{4}\.\d{2}\.\d{4}")
    codes = items["description"].str.findall(r"\d{4}\.\d{2}\.\d{4}").explode().dropna()
    out = items.loc[codes.index].assign(hs_code=_digits(codes).to_numpy())
    # Older statistical numbers quoted for earlier years are no longer lines: keep those of the 2025 HTSUS, or,
    # for an item none of whose numbers is a 2025 line, the last number it quotes (2026 lines nest in 2025 HTS8s).
    exact = out["hs_code"].isin(known)
    has_exact = exact.groupby(level=0).transform("any")
    last = ~out.index.duplicated(keep="last")
    out = out[exact | (~has_exact & last & out["hs_code"].str[:8].isin(known))]
    out["source"] = CH99_SOURCE
    return out[["hs_code", "list", "heading", "item", "whole_line", "description", "source"]].reset_index(drop=True)


def s301_files(s301: pd.DataFrame, exclusions: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One product file per Section 301 list and review tranche, and the exclusion file."""
    files = {}
    for key, (suffix, heading, *_rest) in S301_LISTS.items():
        rows = s301[s301["list"] == key]
        files[f"s301/{suffix}.csv"] = pd.DataFrame({"hs_code": rows["hs_code"], "heading": heading, "source": S301_SOURCE})
    for name, (codes, heading, *_rest) in {**S301_REVIEW, **{k: (v[0], v[1]) for k, v in S301_SHIPS.items()}}.items():
        if isinstance(codes, str):
            rows = s301.loc[s301["list"] == codes, "hs_code"]
            if codes == "biden_jan26":
                raise BuildError("use explicit codes for the 2026 tranches")
            frame = pd.DataFrame({"hs_code": rows, "heading": heading, "source": S301_SOURCE + " | " + CH99_SOURCE})
        else:
            frame = pd.DataFrame({"hs_code": list(codes), "heading": heading, "source": CH99_SOURCE + " note 31"})
        files[f"s301/{name}.csv"] = frame
    whole = exclusions[exclusions["whole_line"]]
    files["s301/exclusions_whole_lines.csv"] = whole[["hs_code", "list", "heading", "item", "source"]]
    files["s301/exclusions_all_items.csv"] = exclusions
    return {k: v.sort_values("hs_code", kind="stable").reset_index(drop=True) for k, v in files.items()}


# ---------------------------------------------------------------------------------------------
# Section 232 files
# ---------------------------------------------------------------------------------------------

YALE_SOURCE = f"{YALE_REPO} @{YALE_COMMIT[:12]}"
#: Steel articles (Proclamation 9705, cl. 1; the same list opens Annex I-A of the April 2026 proclamation).
STEEL_ARTICLES = (["72%02d" % h for h in range(6, 16)]
                  + ["72161000", "72162100", "72162200", "72163100", "72163200", "72163300", "72164000", "72165000",
                     "72169900"]
                  + ["72%02d" % h for h in range(17, 30)] + ["730110", "730210", "730240", "730290", "7304", "7305", "7306"])
#: Aluminium articles (Proclamation 9704; Annex I-A of April 2026): unwrought, bars, wire, plate, foil, tubes, castings.
ALUMINIUM_ARTICLES = ["7601", "7604", "7605", "7606", "7607", "7608", "7609", "7616995160", "7616995170"]
#: Chapter 76 from 12 March 2025 (aluminium articles and their chapter 76 derivatives; not scrap 7602 or powders 7603).
ALUMINIUM_CH76 = ["7601"] + ["76%02d" % h for h in range(4, 17)]
#: Derivatives of Proclamation 9980 (January 2020): nails, stranded wire, bumper and body stampings.
STEEL_2020_DERIVATIVES = ["73170030", "73170055", "73170065", "87081030", "87082921"]
ALUMINIUM_2020_DERIVATIVES = ["7614", "8708103050", "8708292160"]
#: U.S. note 33(b): passenger vehicles and light trucks (Proclamation 10908).
AUTOS = ["87032201", "87032301", "87032401", "87033101", "87033201", "87033301", "87034000", "87035000", "87036000",
         "87037000", "87038000", "87039001", "87042101", "87043101", "87044100", "87045100", "87046000"]
AUTOS_8703 = [c for c in AUTOS if c.startswith("8703")]
#: U.S. note 38(b) and (c): medium and heavy-duty vehicles; buses (Proclamation 10984).
MHD_VEHICLES = ["87012100", "87012200", "87012300", "87012400", "87012900", "87041010", "87041050", "87042211",
                "87042251", "87042301", "87043201", "87044200", "87044300", "87045200", "87046000", "87049001",
                "87054000", "8705900080", "87060003", "8706000520", "8706000575", "87060025", "87060050", "87091100",
                "87091900"]
BUSES = ["87021031", "87021061", "87022031", "87022061", "87023031", "87023061", "87024031", "87024061", "87029031",
         "87029061"]
#: U.S. note 37(b), (d), (f): softwood timber and lumber; upholstered wooden seats; kitchen cabinets and vanities.
SOFTWOOD = ["44031100", "44032101", "44032201", "44032301", "44032401", "44032501", "44032601", "44039901",
            "44061100", "44069100", "44071100", "44071200", "44071300", "44071400", "44071900"]
UPHOLSTERED = ["9401614011", "9401614031", "9401616011", "9401616031"]
CABINETS = ["9403409060", "9403608093", "9403910080"]
#: Part lines whose HTS heading is general-purpose (jacks, cranes, bearings, shafts, motors, batteries, switchboards,
#: rangefinders): only the parts of passenger vehicles, light trucks or trucks pay (U.S. note 33(h)(ii), 38); the
#: share is unknown and taken as GENERAL_PURPOSE_PCT. Computers (8471) are listed whole: COMPUTERS_PCT.
GENERAL_PURPOSE = ("8425", "8426", "8431", "8482", "8483", "8501", "8507", "8537", "9015")
GENERAL_PURPOSE_PCT = 25.0
COMPUTERS = ("8471",)
COMPUTERS_PCT = 1.0
#: U.S. content share of USMCA-qualifying vehicles (Yale ``auto_rebate.us_auto_content_share``, after Tariff-ETRs).
US_CONTENT_PCT = 40.0
CBO_SHARES = {"high": 75.0, "low": 25.0, "copper": 90.0}
FLAT_SHARE = 50.0


def _cbo(src: Sources) -> pd.DataFrame:
    """CBO metal-content buckets by HTS10: ``hts10, bucket``."""
    frames = [src.yale_csv(f"resources/cbo/{f}.csv").assign(bucket=b)
              for f, b in (("alst_deriv_h", "high"), ("alst_deriv_l", "low"), ("copper", "copper"))]
    return pd.concat(frames, ignore_index=True).rename(columns={"I_COMMODITY": "hts10"})


def content_shares(codes: pd.Series, cbo: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
    """Metal-content share (%) per code: mean CBO bucket share of its HTS10 lines, else the flat 50%."""
    c = cbo[cbo["bucket"].isin(kinds)]
    share = c["bucket"].map(CBO_SHARES)
    out = pd.DataFrame({"hs_code": codes.to_numpy()})
    n = out["hs_code"].str.len()
    found = pd.Series(np.nan, index=out.index)
    bucket = pd.Series("", index=out.index)
    for width in sorted(n.unique()):
        by = share.groupby(c["hts10"].str[:width])
        mean = by.mean()
        names = c.groupby(c["hts10"].str[:width])["bucket"].agg(lambda s: "/".join(sorted(set(s))))
        sel = n == width
        found[sel] = mean.reindex(out.loc[sel, "hs_code"]).to_numpy()
        bucket[sel] = names.reindex(out.loc[sel, "hs_code"]).fillna("").to_numpy()
    out["share_pct"] = found.fillna(FLAT_SHARE).round(1)
    out["bucket"] = np.where(found.notna(), "CBO " + bucket, "flat 50% (TPC; not in CBO buckets)")
    return out


def s232_files(src: Sources, usmca: Usmca, trade: pd.DataFrame, mfn: pd.DataFrame) -> tuple[dict, dict]:
    """Section 232 product files with their content and USMCA shares, and figures for the notes."""
    files: dict[str, pd.DataFrame] = {}
    facts: dict = {}
    cbo = _cbo(src)
    deriv = src.yale_csv("resources/s232_derivative_products.csv").rename(columns={"hts_prefix": "hs_code"})
    deriv["effective_date"] = deriv["effective_date"].replace("", "2025-03-12")
    outside = ~deriv["hs_code"].str[:2].isin(["72", "73", "76"])
    facts["derivatives_in_metal_chapters"] = int((~outside).sum())
    deriv = deriv[outside]
    for (kind, date), rows in deriv.groupby(["derivative_type", "effective_date"]):
        shares = content_shares(rows["hs_code"].drop_duplicates(), cbo, ("high", "low"))
        shares["heading"] = rows.drop_duplicates("hs_code")["ch99_code"].to_numpy()
        shares["source"] = f"{YALE_SOURCE} resources/s232_derivative_products.csv; content: CBO buckets in resources/cbo/"
        name = f"s232/{'steel' if kind == 'steel' else 'aluminium'}_derivatives_{date.replace('-', '_')}.csv"
        files[name] = shares
        facts[name] = shares["bucket"].str.startswith("CBO").sum(), len(shares)
    copper = src.yale_csv("resources/s232_copper_products.csv").rename(columns={"hts10": "hs_code"})
    shares = content_shares(copper["hs_code"], cbo, ("copper",))
    shares["heading"] = copper["ch99_code"].to_numpy()
    shares["source"] = f"{YALE_SOURCE} resources/s232_copper_products.csv (U.S. note 36(b)); content: CBO copper bucket"
    files["s232/copper.csv"] = shares

    def plain(path: str, name: str, codes: pd.Series) -> None:
        files[name] = pd.DataFrame({"hs_code": codes.to_numpy(), "source": f"{YALE_SOURCE} {path}"})

    for path, stem in (("resources/s232_auto_parts.txt", "s232/auto_parts"), ("resources/s232_mhd_parts.txt", "s232/mhd_parts")):
        codes = pd.Series(src.yale_text(path).split()).drop_duplicates()
        computers = codes.str.startswith(COMPUTERS)
        general = codes.str.startswith(GENERAL_PURPOSE)
        plain(path, stem + ".csv", codes[~computers & ~general])
        plain(path, stem + "_general_purpose.csv", codes[general])
        if computers.any():
            plain(path, stem + "_computers.csv", codes[computers])
    annex = src.yale_csv("resources/s232_annex_products.csv").rename(columns={"hts_prefix": "hs_code"})
    base = pd.DataFrame({"hs_code": STEEL_ARTICLES + ALUMINIUM_ARTICLES, "annex": "1a",
                         "metal_type": ["steel"] * len(STEEL_ARTICLES) + ["aluminum"] * len(ALUMINIUM_ARTICLES),
                         "source": "Annex I-A (articles of steel and aluminium), text in " + YALE_SOURCE + " docs/s232/annexes_text.txt"})
    annex["source"] = f"{YALE_SOURCE} resources/s232_annex_products.csv"
    annex = pd.concat([base, annex[["hs_code", "annex", "metal_type", "source"]]], ignore_index=True)
    for key, rows in annex.groupby(["annex", annex["metal_type"] == "copper"]):
        tier, is_copper = key
        if tier == "2":
            name = "s232/annex_2_removed.csv"
        else:
            name = f"s232/annex_{tier}{'_copper' if is_copper else ''}.csv"
        files[name] = pd.concat([files.get(name, pd.DataFrame()), rows], ignore_index=True).drop_duplicates("hs_code")

    # USMCA: vehicles pay on non-US content only; the exempt share of a line is q x US content.
    h2 = usmca.h2_2025.set_index(["exporter", "hs_code"])["share_pct"]
    veh = pd.MultiIndex.from_product([CAN_MEX, list(dict.fromkeys(AUTOS + MHD_VEHICLES))],
                                     names=["exporter", "hs_code"]).to_frame(index=False)
    key = pd.MultiIndex.from_arrays([veh["exporter"], veh["hs_code"].str[:8]])
    veh["usmca_claim_pct"] = h2.reindex(key).to_numpy()
    country = usmca.h2_2025.groupby("exporter")["share_pct"].median()
    veh["usmca_claim_pct"] = veh["usmca_claim_pct"].fillna(veh["exporter"].map(country))
    veh["share_pct"] = (veh["usmca_claim_pct"] * US_CONTENT_PCT / 100.0).round(2)
    veh["source"] = (f"USMCA claims July-December 2025 (usmca_qualifying_2025.csv) x {US_CONTENT_PCT:g}% U.S. content "
                     f"({YALE_SOURCE} config/policy_params.yaml auto_rebate.us_auto_content_share)")
    files["s232/usmca_vehicles_us_content.csv"] = veh[["exporter", "hs_code", "share_pct", "usmca_claim_pct", "source"]]

    # 2018 regime: share of each partner's 2024 trade in the covered lines that did not pay the duty, as measured.
    by8 = mfn.set_index("hs8")["rate_pct"]
    t = trade[trade["imports"] > 0].copy()
    t["mfn"] = by8.reindex(t["hs8"]).fillna(0.0).to_numpy()
    for metal, codes, rate in (("steel", STEEL_ARTICLES, 25.0), ("aluminium", ALUMINIUM_ARTICLES, 10.0)):
        sel = t[t["hs8"].str.startswith(tuple(c[:8] for c in codes))]
        g = sel.groupby("exporter")[["imports", "duty"]].sum()
        g["extra"] = (g["duty"] - sel.assign(x=sel["imports"] * sel["mfn"] / 100.0).groupby("exporter")["x"].sum()) / g["imports"] * 100.0
        g["exempt_pct"] = (100.0 * (1.0 - g["extra"] / rate)).clip(0.0, 100.0).round(0)
        facts[f"2018_{metal}"] = g
    ordered = {k: v if k.endswith("usmca_vehicles_us_content.csv") else
               v.sort_values("hs_code", kind="stable").reset_index(drop=True) for k, v in files.items()}
    return ordered, facts


# ---------------------------------------------------------------------------------------------
# TOML
# ---------------------------------------------------------------------------------------------


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date,)):
        return value.isoformat()
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            raise BuildError(f"not a finite number: {value!r}")
        return str(int(v)) if v.is_integer() else repr(round(v, 6))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        items = [_toml_value(v) for v in value]
        one = "[" + ", ".join(items) + "]"
        if len(one) <= 100:
            return one
        lines, line = [], ""
        for item in items:
            if line and len(line) + len(item) + 2 > 100:
                lines.append(line.rstrip())
                line = ""
            line += item + ", "
        lines.append(line.rstrip())
        return "[\n  " + "\n  ".join(lines) + "\n]"
    raise BuildError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def toml_text(header: str, schedule: dict, lists: list[dict], measures: list[dict]) -> str:
    """The schedule fragment as TOML text; a ``_comment`` entry becomes comment lines above its table."""
    out = [header.rstrip() + "\n"]

    def table(kind: str, entry: dict) -> None:
        comment = entry.get("_comment")
        if comment:
            out.append("\n".join("# " + line if line else "#" for line in comment.splitlines()) + "\n")
        if not any(not k.startswith("_") for k in entry):
            return
        out.append(f"[{kind}]" if kind == "schedule" else f"[[{kind}]]")
        order = {"schedule": SCHEDULE_ORDER, "product_lists": LIST_ORDER}.get(kind, KEY_ORDER)
        out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in _ordered(entry, order).items()
                   if not k.startswith("_") and v is not None)
        out.append("")

    table("schedule", schedule)
    for entry in lists:
        table("product_lists", entry)
    for entry in measures:
        table("measures", entry)
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# The schedule fragment
# ---------------------------------------------------------------------------------------------


def _d(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _counts(series: pd.Series) -> str:
    vc = series.value_counts()
    return ", ".join(f"{n:,} {k}" for k, n in vc.items())


EVENTS = "reference tariff_events_2025.csv"
#: Groups of the IEEPA fragment that Section 232 goods do not pay (HTSUS 2026 Rev.6 ch. 99 U.S. note 2 and notes 16, 19,
#: 33, 37-39; EO 14289): the reciprocal duty, the Brazil and India orders, the Canada and Mexico IEEPA duties, Section 122.
R232 = ["ieepa_reciprocal", "ieepa_country_orders", "ieepa_fentanyl_ca_mx", "s122"]


def _pct_table(codes: tuple[str, ...], value: float) -> dict:
    return {c: float(value) for c in codes}


@dataclass
class Build:
    """Everything the script derives; ``files`` maps paths under the output folder to their text."""

    files: dict[str, str] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)


def _measure(name: str, layer: str, authority: str, **fields) -> dict:
    entry = {"_comment": fields.pop("_comment", None), "name": name, "layer": layer, "authority": authority,
             "importer": "USA"}
    entry.update(fields)
    return entry


KEY_ORDER = ["name", "layer", "authority", "kind", "importer", "exporters", "except_exporters", "products", "exclude",
             "rule", "rate_pct", "exporter_rates_pct", "rates_file", "value_share_pct", "value_shares_file",
             "qualifying_pct", "qualifying_file", "coverage_pct", "start", "end", "follows", "announced", "replaces",
             "group", "source", "notes"]


LIST_ORDER = ["name", "description", "exporters", "codes", "file", "source", "notes"]
SCHEDULE_ORDER = ["name", "description", "as_of", "version", "licence", "sources", "notes"]


def _ordered(entry: dict, order: list[str] = KEY_ORDER) -> dict:
    known = {k: entry[k] for k in order if k in entry}
    rest = {k: v for k, v in entry.items() if k not in known}
    return {**{k: v for k, v in rest.items() if k.startswith("_")}, **known,
            **{k: v for k, v in rest.items() if not k.startswith("_")}}



def _list(name: str, description: str, source: str, *, codes=None, file=None, notes=None, exporters=None) -> dict:
    entry = {"name": name, "description": description}
    if codes is not None:
        entry["codes"] = list(codes)
    if file is not None:
        entry["file"] = file
    if exporters is not None:
        entry["exporters"] = list(exporters)
    entry["source"] = source
    if notes:
        entry["notes"] = notes
    return entry


def product_lists(b: Build) -> list[dict]:
    """The ``[[product_lists]]`` of the fragment."""
    f = b.facts
    lists = [
        _list("us_s301_exclusions_2025", "Section 301 exclusions in force to 2026-11-09 that cover whole HTS10 lines "
              f"({f['excl_whole']} of the 178 extended exclusions)", CH99_SOURCE + " note 20(vvv), (www)",
              file="s301/exclusions_whole_lines.csv",
              notes=(f"The other {178 - f['excl_whole_items']} exclusions cover a described product within a line "
                     "(listed in s301/exclusions_all_items.csv, not applied: their share of the line is unknown). "
                     "Verification: two_sources for the count of 178 (reference exemptions.csv category row; HTS text), "
                     "one_source for the line numbers (HTS text).")),
    ]
    lists[0]["_comment"] = ("---------------------------------------------------------------------------------\n"
                            "Product lists\n"
                            "---------------------------------------------------------------------------------")
    for key, (suffix, heading, rate, start, _end, what) in S301_LISTS.items():
        lists.append(_list(f"us_s301_{suffix}", f"Section 301 {what}: {f['n_' + suffix]:,} HTS8 lines (heading {heading})",
                           S301_SOURCE, file=f"s301/{suffix}.csv"))
    for name, (codes, heading, rate, start, end, what) in S301_REVIEW.items():
        lists.append(_list(f"us_s301_{name}", f"Section 301 four-year review, heading {heading}: {what}",
                           S301_SOURCE + " | " + CH99_SOURCE + " note 31" if isinstance(codes, str) else CH99_SOURCE + " note 31",
                           file=f"s301/{name}.csv"))
    for name, (codes, heading, rate, start, what) in S301_SHIPS.items():
        lists.append(_list(f"us_s301_{name}", f"Section 301 shipbuilding action, heading {heading}: {what}",
                           CH99_SOURCE + " note 31(k), (l)", file=f"s301/{name}.csv"))
    y = YALE_SOURCE
    lists += [
        _list("us_s232_steel_articles", "Steel articles of Proclamation 9705: HTS 7206-7229 (7216 in part), 7301.10, "
              "7302.10/.40/.90, 7304-7306", "Proclamation 9705 cl. 1; Annex I-A of the April 2026 metals proclamation "
              f"(text in {y} docs/s232/annexes_text.txt)", codes=STEEL_ARTICLES,
              notes="Verification: two_sources (2018 definition and the 2026 Annex I-A list agree). Pig iron, ferroalloys, "
                    "scrap and granules (7201-7205) are not steel articles; the Yale tracker's chapter-wide scope includes them."),
        _list("us_s232_steel_2020_derivatives", "Steel derivatives of Proclamation 9980 (2020): nails, tacks, staples; "
              "bumper and body stampings of motor vehicles", "Proclamation 9980 (January 24, 2020)", codes=STEEL_2020_DERIVATIVES,
              notes="Verification: unverified (lines from the compiler's memory of Proclamation 9980)."),
        _list("us_s232_aluminium_articles", "Aluminium articles of Proclamation 9704: unwrought (7601), bars and profiles, "
              "wire, plate and sheet, foil, tubes, fittings (7604-7609), castings and forgings (7616.99.51.60/.70)",
              "Proclamation 9704; Annex I-A of the April 2026 metals proclamation; HTSUS U.S. note 19(g)",
              codes=ALUMINIUM_ARTICLES, notes="Verification: two_sources."),
        _list("us_s232_aluminium_2020_derivatives", "Aluminium derivatives of Proclamation 9980 (2020): stranded wire, "
              "bumper and body stampings", "Proclamation 9980 (January 24, 2020)", codes=ALUMINIUM_2020_DERIVATIVES,
              notes="Verification: unverified (compiler's memory)."),
        _list("us_s232_aluminium_ch76", "Chapter 76 except scrap (7602) and powders (7603): aluminium articles and the "
              "chapter 76 derivatives added on 12 March 2025", f"Proclamation 10895; {y} config/policy_params.yaml "
              "section_232_chapters (chapter 76); Annex I-A/I-B of April 2026", codes=ALUMINIUM_CH76,
              notes="Verification: one_source for the chapter-wide derivative scope (Yale tracker), which the 2026 annexes "
                    "confirm for most chapter 76 headings."),
        _list("us_s232_steel_ch73", "Chapter 73: steel articles of 7301-7306 and the chapter 73 derivatives added on 12 "
              "March 2025", f"Proclamation 10896; {y} config/policy_params.yaml section_232_chapters", codes=["73"],
              notes="Verification: one_source (Yale tracker treats chapter 73 as a whole; the 2026 annexes list 171 "
                    "chapter 73 lines in tiers I-A/I-B and 4 among the lines removed from scope)."),
    ]
    for path in sorted(k for k in b.frames if k.startswith("s232/") and "derivatives_" in k):
        kind = "steel" if "steel" in path else "aluminium"
        date = "-".join(path[:-4].split("_")[-3:])
        n = len(b.frames[path])
        name = "us_s232_" + Path(path).stem
        lists.append(_list(name, f"{kind.capitalize()} derivatives outside chapters 72, 73 and 76 in force from {date} "
                           f"({n} HTS8 lines), with their metal-content share", f"{y} resources/s232_derivative_products.csv "
                           "(U.S. notes 16 and 19; inclusions of FR 2025-15819 for 2025-08-18)", file=path,
                           notes="Verification: one_source for the lines (Yale tracker from the HTSUS notes and the Federal "
                                 "Register); content shares from CBO buckets (one_source)."))
    lists += [
        _list("us_s232_copper", "Copper semi-finished products and copper-intensive derivatives (80 HTS8 lines)",
              f"{y} resources/s232_copper_products.csv (U.S. note 36(b))", file="s232/copper.csv",
              notes="Verification: one_source for the lines; content share 90% from the CBO copper bucket (one_source)."),
        _list("us_s232_annex_1a", "April 2026 metals Annex I-A (50% on full value): steel and aluminium articles and close "
              "derivatives", f"{y} resources/s232_annex_products.csv and docs/s232/annexes_text.txt", file="s232/annex_1a.csv",
              notes="Verification: one_source (Yale's transcription of the annexes)."),
        _list("us_s232_annex_1a_copper", "April 2026 Annex I-A copper articles (50% on full value)",
              f"{y} resources/s232_annex_products.csv", file="s232/annex_1a_copper.csv", notes="Verification: one_source."),
        _list("us_s232_annex_1b", "April 2026 Annex I-B (25% on full value): downstream steel and aluminium articles",
              f"{y} resources/s232_annex_products.csv", file="s232/annex_1b.csv", notes="Verification: one_source."),
        _list("us_s232_annex_1b_copper", "April 2026 Annex I-B copper articles (25% on full value)",
              f"{y} resources/s232_annex_products.csv", file="s232/annex_1b_copper.csv", notes="Verification: one_source."),
        _list("us_s232_annex_3", "April 2026 Annex III: steel and aluminium derivatives at a reduced 15% until 2027-12-31",
              f"{y} resources/s232_annex_products.csv; config/policy_params.yaml section_232_annexes",
              file="s232/annex_3.csv", notes="Verification: one_source."),
        _list("us_s232_autos", "Passenger vehicles and light trucks (U.S. note 33(b))", f"{CH99_SOURCE} note 33(b); "
              f"{y} config/policy_params.yaml section_232_headings autos_*", codes=AUTOS,
              notes="Verification: two_sources (HTS note and Yale tracker) except 8704.60.00 (HTS note only)."),
        _list("us_s232_autos_8703", "Passenger vehicles of heading 8703 (the UK quota covers these, not light trucks)",
              CH99_SOURCE + " note 33(b); CBP guidance on the UK quota (Cole International, June 2025)", codes=AUTOS_8703),
        _list("us_s232_auto_parts", "Automobile parts of Proclamation 10908 Annex I (U.S. note 33(g)) whose lines are "
              "vehicle parts", f"{y} resources/s232_auto_parts.txt (CBP Automobile Parts HTS List of 2025-05-01); "
              f"{CH99_SOURCE} note 33(g)", file="s232/auto_parts.csv",
              notes="Verification: two_sources (CBP list via Yale; HTS note 33(g)). Parts added through the 2025 "
                    "inclusion process are not compiled."),
        _list("us_s232_auto_parts_general_purpose", "Lines of the auto-parts list with general-purpose headings (jacks, "
              "vehicle-mounted cranes, bearings, transmission shafts, electric motors, batteries, switchboards, "
              "rangefinders)", f"{y} resources/s232_auto_parts.txt; {CH99_SOURCE} note 33(g), (h)",
              file="s232/auto_parts_general_purpose.csv",
              notes="Only parts of passenger vehicles and light trucks pay; other goods of these lines enter under "
                    "9903.94.06 without the duty (note 33(h)(ii))."),
        _list("us_s232_auto_parts_computers", "Heading 8471 (computers), listed whole in note 33(g)",
              f"{CH99_SOURCE} note 33(g); {y} resources/s232_auto_parts.txt", file="s232/auto_parts_computers.csv",
              notes="Only vehicle computers pay (note 33(h)(ii))."),
        _list("us_s232_mhd_vehicles", "Medium and heavy-duty vehicles (U.S. note 38(b))", f"{CH99_SOURCE} note 38(b); "
              f"{y} config/policy_params.yaml mhd_vehicles", codes=MHD_VEHICLES, notes="Verification: two_sources."),
        _list("us_s232_mhd_parts", "Medium and heavy-duty vehicle parts (U.S. note 38(i)) whose lines are vehicle parts",
              f"{y} resources/s232_mhd_parts.txt; {CH99_SOURCE} note 38(i)", file="s232/mhd_parts.csv",
              notes="Verification: two_sources."),
        _list("us_s232_mhd_parts_general_purpose", "Lines of the truck-parts list with general-purpose headings",
              f"{y} resources/s232_mhd_parts.txt; {CH99_SOURCE} note 38(i)", file="s232/mhd_parts_general_purpose.csv",
              notes="Only parts of medium and heavy-duty vehicles pay (note 38(h), (l))."),
        _list("us_s232_buses", "Buses (U.S. note 38(c))", f"{CH99_SOURCE} note 38(c); {y} config/policy_params.yaml buses",
              codes=BUSES, notes="Verification: one_source for the ten lines (the Yale tracker takes all of heading 8702)."),
        _list("us_s232_softwood", "Softwood timber and lumber (U.S. note 37(b))", f"{CH99_SOURCE} note 37(b); {y} "
              "config/policy_params.yaml softwood", codes=SOFTWOOD, notes="Verification: two_sources."),
        _list("us_s232_upholstered_furniture", "Upholstered wooden seats (U.S. note 37(d))", f"{CH99_SOURCE} note 37(d); {y} "
              "config/policy_params.yaml wood_furniture", codes=UPHOLSTERED, notes="Verification: two_sources."),
        _list("us_s232_kitchen_cabinets", "Kitchen cabinets, vanities and their parts (U.S. note 37(f))",
              f"{CH99_SOURCE} note 37(f); {y} config/policy_params.yaml kitchen_cabinets", codes=CABINETS,
              notes="Verification: two_sources."),
    ]
    return lists


def measures(b: Build) -> list[dict]:
    """The ``[[measures]]`` of the fragment."""
    f = b.facts
    out: list[dict] = []
    mfn, col2 = b.frames["mfn/us_mfn_rates.csv"], b.frames["mfn/us_column2_rates.csv"]
    line = "---------------------------------------------------------------------------------"
    out.append(_measure(
        "us_mfn", "MFN", "HTSUS 2025 basic edition, column 1 general rates (normal trade relations)", kind="mfn",
        _comment=f"{line}\nMFN and column 2 rates\n{line}",
        exporters="all", except_exporters=list(COLUMN2), products="all", rate_pct=0.0,
        rates_file="mfn/us_mfn_rates.csv", qualifying_file="mfn/us_preferences_2024.csv", start=_d("2024-01-01"),
        source=f"reference {HTS_FILE} (General Rate of Duty, one row per HTS line of chapters 1-97); AVEs and "
               f"preference shares from reference {HS8_FILE}",
        notes=(f"verification: two_sources for the statutory rates (HTSUS; pooled 2024 duties match the written ad valorem "
               f"rate within 0.1 point on {f['av_match']:.0%} of ad valorem lines with pooled trade), one_source for the "
               f"AVEs (Census duties). {len(mfn):,} lines: {_counts(mfn['method'])}. AVE pool (partners with no "
               f"preference and no other duty on the line in 2024): {f['pool']}; Japan only on lines without US-Japan "
               "Trade Agreement rates. A rate printed on a 10-digit line is that HTS8's only statistical line, written "
               "at 10 digits. qualifying_file: the share of each partner's 2024 trade in a line that did not pay MFN "
               f"(FTA, AGOA, CBERA/CBTPA, QIZ, US-Japan agreement; civil-aircraft, pharmaceutical and dye-intermediate "
               f"treatment for every partner), as measured in 2024, not as eligible: {f['pref_rows']:,} rows for "
               f"{f['pref_exporters']} exporters (EU27 rows repeated for the 27 members). Approximations: preference use "
               "held at its 2024 level; China's civil-aircraft use not measured (its duties include Section 301); chapters "
               "98 and 99 carry no rate here; the 2026 basic edition (changes few lines) is not compiled; GSP lapsed in 2021 "
               "and is not modelled. In force from 2024-01-01 so that a scenario's reference day (2024-12-31) carries "
               "MFN: the 2025 rates stand for 2024's too (the 2025 basic edition changed few lines).")))
    out.append(_measure(
        "us_column2", "MFN", "HTSUS column 2 rates (general note 3(b)); Suspending Normal Trade Relations with Russia "
        "and Belarus Act (Pub. L. 117-110, 2022)", kind="mfn", exporters=list(COLUMN2), products="all", rate_pct=0.0,
        rates_file="mfn/us_column2_rates.csv", start=_d("2024-01-01"),
        source=f"reference {HTS_FILE} (Column 2 Rate of Duty); Russia's 2024 duties from reference {HS8_FILE}",
        notes=(f"verification: two_sources for the statutory rates (HTSUS), unverified for the date Russia and Belarus "
               f"moved to column 2 (April 2022, compiler's memory). {len(col2):,} lines: {_counts(col2['method'])}. "
               "Column 2 specific rates are converted with Russia's own 2024 duties where it traded the line outside "
               "chapters 72, 73 and 76 (its 200% aluminium duty), else with the unit value implied by the line's MFN AVE "
               "(same unit), else fallbacks as for MFN. Cuba and North Korea have no measured trade.")))

    s301_common = dict(exporters=["CHN"], group="s301")
    out.append({"_comment": (f"{line}\nSection 301: goods of China (Hong Kong is a separate origin for Section 301 and is "
                             "not covered)\nMembers of group s301 take the maximum: a line listed in several lists "
                             "(HTS10 subsets of one HTS8)\npays the highest list rate once, and a four-year-review rate "
                             f"replaces the list rate on its lines.\n{line}")})
    for key, (suffix, heading, rate, start, _end, what) in S301_LISTS.items():
        common = dict(authority=f"Section 301 (Trade Act of 1974), {what}; HTS heading {heading}", **s301_common,
                      products=[f"us_s301_{suffix}"], rate_pct=rate,
                      source=f"{S301_SOURCE}; rate {EVENTS} and {YALE_SOURCE} config/policy_params.yaml section_301_rates")
        grade = "unverified for the 2019-05-10 start (rate two_sources)" if key.startswith("3") else "two_sources"
        out.append(_measure(f"us_s301_{suffix}", "Section 301", **common, exclude=["us_s301_exclusions_2025"],
                            start=_d(start), end=_d("2026-11-10"),
                            notes=(f"verification: {grade}; lines one_source (Yale list" + (
                                       f"; an independent compilation agrees on {f['agree_' + key]}" if key != "3_addl" else "")
                                   + f"). {f['n_' + suffix]:,} HTS8 lines. The whole-line exclusions "
                                   "(heading 9903.88.69) apply until 2026-11-09."
                                   + (" All 11 lines of List 3 additional (9903.88.04) are also List 3 lines: the group "
                                      "maximum charges them once." if key == "3_addl" else ""))))
        out.append(_measure(f"us_s301_{suffix}_from_2026_11_10", "Section 301", **common, start=_d("2026-11-10"),
                            notes=(f"verification: as us_s301_{suffix}. The same list without the exclusions, which "
                                   "expire after 2026-11-09 unless extended again.")))
    for name, (codes, heading, rate, start, end, what) in S301_REVIEW.items():
        entry = _measure(f"us_s301_{name}", "Section 301", f"Section 301 four-year review (USTR notice of Sep 13 2024, 89 FR "
                         f"76581); HTS heading {heading}", **s301_common, products=[f"us_s301_{name}"], rate_pct=rate,
                         start=_d(start), end=_d(end),
                         source=f"{CH99_SOURCE} note 31; {EVENTS} rows 2024-09-27, 2025-01-01, 2026-01-01",
                         notes=(f"verification: two_sources for rates and dates, one_source for the lines. {what}. The rate "
                                "replaces the list rate on these lines (group maximum)."))
        if name == "review_2024_100":
            entry["exclude"] = ["9018310080"]
            entry["notes"] += " Enteral syringes (9018.31.0080) were excluded until 2026-01-01 (heading 9903.91.10)."
        if name == "cranes_2024_25":
            entry["notes"] += (" Only ship-to-shore gantry cranes of 8426.19.00 are covered; the whole HTS8 is listed "
                               "(overstates the rate on other overhead cranes of the line).")
        out.append(entry)
    out.append({"_comment": "Section 301 shipbuilding action (USTR, April 2025): its cargo-handling duties were suspended for "
                            "one year in November 2025;\nthe HTSUS 2026 Rev.6 dates them from 2026-11-10. Additive to the "
                            "lists above (heading 9903.91.14 stacks on 9903.92.10)."})
    for name, (codes, heading, rate, start, what) in S301_SHIPS.items():
        out.append(_measure(f"us_s301_{name}", "Section 301", f"Section 301 (shipbuilding, maritime and logistics), HTS "
                            f"heading {heading}", exporters=["CHN"], products=[f"us_s301_{name}"], rate_pct=rate,
                            start=_d(start), source=f"{CH99_SOURCE} note 31(k), (l)",
                            notes=(f"verification: one_source (HTS text). {what}. The whole HTS8 or HTS10 lines are listed; "
                                   "only the described goods are covered (overstated for other goods of the lines). "
                                   "Cranes of other origins with Chinese components, and Chinese-owned makers, are not "
                                   "modelled. Whether any of these duties was collected before the November 2025 "
                                   "suspension (the Yale tracker dates a cranes revision 2025-10-15) is not verified; "
                                   "not modelled.")))
    out += s232_measures(b)
    return out


def s232_measures(b: Build) -> list[dict]:
    """Section 232 measures: metals, autos and parts, trucks and buses, copper, wood products, semiconductors."""
    f = b.facts
    line = "---------------------------------------------------------------------------------"
    y = YALE_SOURCE
    out: list[dict] = [{"_comment": (
        f"{line}\nSection 232 (Trade Expansion Act of 1962). Every Section 232 measure displaces, where it applies, the "
        "IEEPA reciprocal duty,\nthe Brazil and India orders, the Canada and Mexico IEEPA duties and the Section 122 "
        "surcharge; China's IEEPA duty\nstacks. Autos, parts, trucks and buses also displace the metals duties (EO 14289, "
        "U.S. notes 33 and 38).\nGroups: s232_metals (steel, aluminium, derivatives, copper), s232_autos (autos, parts, "
        "trucks, buses),\ns232_other (wood products, semiconductors); members of a group take the maximum.\n"
        f"{line}")}]
    eu_steel, eu_alu = f["trq_steel"], f["trq_alu"]
    out.append(_measure(
        "us_s232_steel_2018", "Section 232", "Proclamations 9705 (2018) and 9980 (2020); country arrangements",
        exporters="all", except_exporters=["ARG", "AUS", "BRA", "CAN", "KOR", "MEX", "UKR"],
        products=["us_s232_steel_articles", "us_s232_steel_2020_derivatives"], rate_pct=25.0,
        qualifying_pct={**_pct_table(EU, eu_steel["EU27"]), "GBR": eu_steel["GBR"], "JPN": eu_steel["JPN"]},
        start=_d("2018-03-23"), end=_d("2025-03-12"), replaces=R232, group="s232_metals",
        source=f"{EVENTS} row 2025-03-12 (country exemptions ended); {y} config/policy_params.yaml "
               "section_232_country_exemptions; 2024 duties in reference " + HS8_FILE,
        notes=("verification: one_source for the exemptions (Yale tracker; the 2024 duties confirm near-zero payment by "
               "Canada, Mexico, Australia, Argentina, Brazil and Korea). Quota countries (Argentina, Brazil, Korea) are "
               "treated as exempt (absolute quotas); Ukraine's suspension as in force. The EU, Japan and UK tariff-rate "
               "quotas are modelled as the share of their 2024 trade in these lines that paid no Section 232 duty "
               f"(qualifying_pct: EU {eu_steel['EU27']:g}%, Japan {eu_steel['JPN']:g}%, UK {eu_steel['GBR']:g}%), as measured. "
               "Commerce product exclusions granted to other partners are not modelled (they pay the full rate).")))
    out.append(_measure(
        "us_s232_aluminium_2018", "Section 232", "Proclamations 9704 (2018) and 9980 (2020); country arrangements",
        exporters="all", except_exporters=["ARG", "AUS", "CAN", "MEX"],
        products=["us_s232_aluminium_articles", "us_s232_aluminium_2020_derivatives"], rate_pct=10.0,
        qualifying_pct={**_pct_table(EU, eu_alu["EU27"]), "GBR": eu_alu["GBR"]},
        start=_d("2018-03-23"), end=_d("2025-03-12"), replaces=R232, group="s232_metals",
        source=f"{EVENTS} row 2025-03-12; {y} config/policy_params.yaml section_232_country_exemptions; 2024 duties in "
               f"reference {HS8_FILE}",
        notes=("verification: one_source. The EU and UK tariff-rate quotas: share of 2024 trade that paid no duty "
               f"(EU {eu_alu['EU27']:g}%, UK {eu_alu['GBR']:g}%). Japan, Korea and Brazil had no aluminium arrangement "
               f"(compiler's knowledge; the Yale tracker exempts them): they pay 10% here, although the 2024 duties "
               f"suggest Korea and Brazil paid little (measured duty-free shares {f['alu_kor']:g}% and {f['alu_bra']:g}%). "
               "Russia pays 200% (us_s232_aluminium_rus_200, group maximum).")))
    out.append(_measure(
        "us_s232_aluminium_rus_200", "Section 232", "Proclamation 10522 (February 24, 2023)", exporters=["RUS"],
        products=["us_s232_aluminium_ch76"], rate_pct=200.0, start=_d("2023-03-10"), replaces=R232, group="s232_metals",
        source=f"{y} config/policy_params.yaml section_232_country_exemptions and section_232_annexes.country_surcharges",
        notes=("verification: one_source (Yale tracker), the start date unverified (compiler's memory). Kept through the "
               "April 2026 annexes (group maximum with them). Aluminium derivatives of Russia and Russian-smelted "
               "aluminium in other countries' goods are not modelled.")))

    def metals(name, authority, products, rate, start, end, source, notes, uk=None, shares=None, share_default=None):
        entry = _measure(name, "Section 232", authority, exporters="all", products=products, rate_pct=rate,
                         start=_d(start), end=_d(end), replaces=R232, group="s232_metals", source=source, notes=notes)
        if uk is not None:
            entry["exporter_rates_pct"] = {"GBR": uk}
        if shares:
            entry["value_shares_file"] = shares
            entry["value_share_pct"] = share_default
        return [entry]

    p10896 = "Proclamations 10895 (aluminium) and 10896 (steel) of February 10, 2025"
    p10947 = "Proclamation 10947 of June 3, 2025"
    src25 = f"{EVENTS} row 2025-03-12 (two_sources)"
    src50 = f"{EVENTS} row 2025-06-04 (rate two_sources, date one_source); {y} docs/policy_timing.md"
    uk_note = (" The UK stays at 25% (exporter_rates_pct; Proclamation 10947 cl. on the UK Economic Prosperity Deal; "
               "its metals quota was never implemented).")
    content_note = ("The duty is charged on the metal content (value_shares_file, CBO buckets: high 75%, low 25%; "
                    "lines in neither bucket take value_share_pct = 50, the Tax Policy Center's flat share). "
                    "Legally the reciprocal duty still applies to the non-metal content; replaces here removes it from "
                    "the whole cell (see README).")
    out += metals("us_s232_steel_25", f"{p10896} (all countries, no exemptions)", ["us_s232_steel_articles", "us_s232_steel_ch73"],
                  25.0, "2025-03-12", "2025-06-04", src25,
                  "verification: two_sources. Steel articles and chapter 73 derivatives on full value (their steel content "
                  "is taken as 100%). Derivatives outside chapter 73 before 2025-08-18 are not compiled (only aluminium "
                  "ones are).")
    out += metals("us_s232_steel_50", p10947, ["us_s232_steel_articles", "us_s232_steel_ch73"], 50.0, "2025-06-04",
                  "2026-04-06", src50, "verification: two_sources for the rate, one_source for the date." + uk_note, uk=25.0)
    out += metals("us_s232_aluminium_25", f"{p10896}; aluminium raised from 10% to 25%", ["us_s232_aluminium_ch76"], 25.0,
                  "2025-03-12", "2025-06-04", src25, "verification: two_sources. Chapter 76 on full value (U.S. note 19: "
                  "the duty is on the aluminium content, taken as 100% for chapter 76 goods).")
    out += metals("us_s232_aluminium_50", p10947, ["us_s232_aluminium_ch76"], 50.0, "2025-06-04", "2026-04-06", src50,
                  "verification: two_sources for the rate, one_source for the date." + uk_note, uk=25.0)
    d03 = "us_s232_aluminium_derivatives_2025_03_12"
    out += metals(d03 + "_25", p10896 + ", Annex (aluminium derivatives)", [d03], 25.0, "2025-03-12", "2025-06-04",
                  src25 + f"; lines {y} resources/s232_derivative_products.csv", "verification: one_source for the lines. "
                  + content_note, shares=f"s232/aluminium_derivatives_2025_03_12.csv", share_default=FLAT_SHARE)
    out += metals(d03 + "_50", p10947, [d03], 50.0, "2025-06-04", "2026-04-06", src50,
                  "verification: one_source. " + content_note + uk_note, uk=25.0,
                  shares="s232/aluminium_derivatives_2025_03_12.csv", share_default=FLAT_SHARE)
    for kind in ("aluminium", "steel"):
        n = f"us_s232_{kind}_derivatives_2025_08_18"
        out += metals(n + "_50", "Section 232 inclusions process (BIS, 90 FR 40326, FR Doc 2025-15819) under "
                      + p10947, [n], 50.0, "2025-08-18", "2026-04-06", f"{y} resources/s232_derivative_products.csv "
                      "(effective_date 2025-08-18); revision_dates.csv rev_19-rev_21",
                      "verification: one_source (407 inclusions; date from the Yale list). " + content_note + uk_note,
                      uk=25.0, shares=f"s232/{kind}_derivatives_2025_08_18.csv", share_default=FLAT_SHARE)
    out += metals("us_s232_copper_50", "Proclamation 10962 of July 30, 2025 (copper)", ["us_s232_copper"], 50.0,
                  "2025-08-01", "2026-04-06", f"{EVENTS} row 2025-08-01 (two_sources); {y} resources/s232_copper_products.csv",
                  "verification: two_sources for rate and date, one_source for the lines. 50% on the copper content "
                  "(value_shares_file: 90%, CBO copper bucket). No UK or deal rate. " + content_note.split(". ", 2)[-1],
                  shares="s232/copper.csv", share_default=90.0)
    annex_src = (f"{y} config/policy_params.yaml section_232_annexes, resources/s232_annex_products.csv, "
                 "docs/s232/annexes_text.txt; revision_dates.csv 2026_rev_5")
    annex_note = ("verification: one_source (Yale's transcription; corrected by HTS 2026 Rev.7, retroactive to April 6). "
                  "Charged on full customs value; a line in several annex lists pays once. Not modelled: the 10% rate "
                  "for articles made with US-melted metal, the 15% metal-weight de minimis, the motorcycle-parts "
                  "exemption, the zero-metal-content carve-out (9903.82.01).")
    out += metals("us_s232_metals_annex_1a_50", "Proclamation of April 2026 restructuring the metals duties, Annex I-A",
                  ["us_s232_annex_1a"], 50.0, "2026-04-06", None, annex_src, annex_note + " UK 25%.", uk=25.0)
    out += metals("us_s232_copper_annex_1a_50", "April 2026 metals proclamation, Annex I-A (copper)",
                  ["us_s232_annex_1a_copper"], 50.0, "2026-04-06", None, annex_src, annex_note + " No UK rate for copper.")
    out += metals("us_s232_metals_annex_1b_25", "April 2026 metals proclamation, Annex I-B", ["us_s232_annex_1b"], 25.0,
                  "2026-04-06", None, annex_src, annex_note + " UK 15%.", uk=15.0)
    out += metals("us_s232_copper_annex_1b_25", "April 2026 metals proclamation, Annex I-B (copper)",
                  ["us_s232_annex_1b_copper"], 25.0, "2026-04-06", None, annex_src, annex_note)
    out += metals("us_s232_metals_annex_3_15", "April 2026 metals proclamation, Annex III (temporary reduction)",
                  ["us_s232_annex_3"], 15.0, "2026-04-06", "2028-01-01", annex_src,
                  annex_note + " The reduced rate is taken as an additional 15% (the Yale tracker reads it as a 15% "
                  "floor): unverified.")

    # Autos, parts, trucks and buses.
    out.append({"_comment": "Autos and parts (Proclamation 10908), trucks and buses (Proclamation 10984): group s232_autos. "
                            "They displace the\nmetals duties (EO 14289; U.S. notes 33 and 38)."})
    rep_autos = ["s232_metals"] + R232
    autos = _measure("us_s232_autos_25", "Section 232", "Proclamation 10908 of March 26, 2025 (automobiles)",
                     exporters="all", products=["us_s232_autos"], rate_pct=25.0, start=_d("2025-04-03"),
                     announced=_d("2025-03-26"), replaces=rep_autos, group="s232_autos",
                     source=f"{EVENTS} row 2025-04-03 (two_sources); {CH99_SOURCE} note 33(b)-(d)",
                     notes=("verification: two_sources. USMCA-qualifying vehicles pay only on their non-US content (note "
                            "33(d)): for Canada and Mexico the exempt share of a line (qualifying_file) is its July-December 2025 USMCA "
                            f"claim share times a {US_CONTENT_PCT:g}% US content (Yale/Tariff-ETRs parameter; one_source); "
                            "approximation: the Commerce approval process is taken as in force from the start. The EU, "
                            "Japan, Korea and UK deal measures replace this one from their dates. Not modelled: the "
                            "US-assembly offset (3.75% of MSRP against parts duties), vehicles 25+ years old."))
    autos["qualifying_file"] = "s232/usmca_vehicles_us_content.csv"
    out.append(_ordered(autos))
    parts = _measure("us_s232_auto_parts_25", "Section 232", "Proclamation 10908 (automobile parts, Annex I)",
                     exporters="all", products=["us_s232_auto_parts"], rate_pct=25.0, start=_d("2025-05-03"),
                     announced=_d("2025-03-26"), replaces=rep_autos, group="s232_autos",
                     source=f"{EVENTS} row 2025-05-03 (two_sources); {y} resources/s232_auto_parts.txt",
                     notes=("verification: two_sources for rate and date, one_source for the lines. USMCA-qualifying "
                            "parts are exempt: qualifying_file (usmca_qualifying_2025.csv) takes the July-December 2025 USMCA claim "
                            "share of each line from Canada and Mexico as exempt. Not modelled: the US-assembly offset, the "
                            "EU/Japan/Korea parts certified for US production (note 33(r), 2026)."))
    parts["qualifying_file"] = "usmca_qualifying_2025.csv"
    out.append(_ordered(parts))
    for suffix, lst, pct, what in (("general_purpose", "us_s232_auto_parts_general_purpose", GENERAL_PURPOSE_PCT,
                                    "general-purpose headings"),
                                   ("computers", "us_s232_auto_parts_computers", COMPUTERS_PCT, "computers (8471)")):
        extra = dict(parts, name=f"us_s232_auto_parts_{suffix}_25", products=[lst], coverage_pct=pct, follows=parts["name"],
                     notes=(f"verification: two_sources for the lines (note 33(g)), unverified for coverage_pct. Lines of "
                            f"the parts list with {what}: only parts of passenger vehicles and light trucks pay, so the "
                            f"measure reaches {pct:g}% of the lines' trade (an order-of-magnitude assumption; no data on "
                            "end use). USMCA as for us_s232_auto_parts_25. The EU, Japan and Korea deal floors do not "
                            "cover these lines here: their covered share pays 25% (overstated by 10 points)."))
        for k in ("start", "announced", "_comment"):
            extra.pop(k, None)
        out.append(_ordered(extra))
    for name, who, start, src in (
            ("us_s232_autos_parts_eu_15", list(EU), "2025-08-01", "Commerce/USTR notice implementing the US-EU framework "
             "(September 25, 2025; retroactive to 2025-08-01): Mondaq, Butzel and Channel NewsAsia reports"),
            ("us_s232_autos_parts_jpn_15", ["JPN"], "2025-09-16", "EO 14345 (September 4, 2025) and the Commerce notice of "
             "2025-09-16 (90 FR 44638); CBP CSMS 66242844 (Carmichael, C.H. Robinson, NNR summaries)"),
            ("us_s232_autos_parts_kor_15", ["KOR"], "2025-11-01", "USTR/Commerce notice of December 4, 2025 (retroactive to "
             "2025-11-01): Korea Herald, Thompson Hine, Korea JoongAng Daily")):
        out.append(_measure(name, "Section 232", "Section 232 autos as modified by the " + name.split("_")[-2].upper()
                            + " deal: 15% all-in, or MFN if higher", exporters=who, products=["us_s232_autos",
                            "us_s232_auto_parts"], rule="floor", rate_pct=15.0, start=_d(start),
                            replaces=["us_s232_autos_25", "us_s232_auto_parts_25", "us_s232_mhd_vehicles_25",
                                      "us_s232_mhd_parts_25", "s232_metals"] + R232, source=src,
                            notes=("verification: two_sources (dates and rates). All-in floor: the layer adds max(0, 15 - "
                                   "MFN). It replaces the 25% auto and parts measures and, like them, the metals and "
                                   "reciprocal duties. It also replaces the truck measures on the lines the lists share "
                                   f"(8704.60.00 and {b.facts['parts_overlap']} of the {b.facts['n_auto_parts']} auto-part "
                                   "codes are also truck or truck-part lines, whose use is not known): approximation, "
                                   "since truck parts of these partners pay 25% (no deal rate for trucks).")))
    out.append(_measure("us_s232_autos_gbr_7_5", "Section 232", "EO 14309 of June 16, 2025 (US-UK Economic Prosperity "
                        "Deal): 7.5% + 2.5% MFN = 10% within a 100,000-vehicle annual quota", exporters=["GBR"],
                        products=["us_s232_autos_8703"], rate_pct=7.5, start=_d("2025-06-30"),
                        replaces=["us_s232_autos_25", "s232_metals"] + R232,
                        source="UPI (2025-06-30) and Cole International / CBP guidance on EO 14309; Barnes & Thornburg",
                        notes=("verification: two_sources. The quota (65,205 cars for the rest of 2025, then 100,000 a "
                               "year: HTS note 33(i)) roughly equals the UK's shipments (101,000 in 2024, SMMT): all UK "
                               "passenger cars are taken as in quota. Light trucks (8704) and UK parts (10% only for parts "
                               "of UK-built cars) keep 25%.")))
    mhd = _measure("us_s232_mhd_vehicles_25", "Section 232", "Proclamation 10984 of October 17, 2025 (medium and "
                   "heavy-duty vehicles)", exporters="all", products=["us_s232_mhd_vehicles"], rate_pct=25.0,
                   start=_d("2025-11-01"), announced=_d("2025-10-17"), replaces=rep_autos, group="s232_autos",
                   source=f"{EVENTS} row 2025-11-01 (one_source); {CH99_SOURCE} note 38 and heading 9903.74.01",
                   notes=("verification: two_sources (HTS heading text and Yale timing document). USMCA-qualifying "
                          f"vehicles pay on non-US content (note 38(d)): exempt share = USMCA claims x {US_CONTENT_PCT:g}% "
                          "as for autos (one_source). 8704.60.00 is also in the autos list: the group maximum charges "
                          "25% once."))
    mhd["qualifying_file"] = "s232/usmca_vehicles_us_content.csv"
    out.append(_ordered(mhd))
    mhdp = _measure("us_s232_mhd_parts_25", "Section 232", "Proclamation 10984 (medium and heavy-duty vehicle parts)",
                    exporters="all", products=["us_s232_mhd_parts"], rate_pct=25.0, start=_d("2025-11-01"),
                    announced=_d("2025-10-17"), replaces=rep_autos, group="s232_autos",
                    source=f"{EVENTS} row 2025-11-01; {CH99_SOURCE} heading 9903.74.08 and note 38(i)",
                    notes=("verification: two_sources for the rate, one_source for the date. USMCA-qualifying parts "
                           "exempt (qualifying_file usmca_qualifying_2025.csv). Lines shared with the auto parts list pay 25% once "
                           "(group maximum)."))
    mhdp["qualifying_file"] = "usmca_qualifying_2025.csv"
    out.append(_ordered(mhdp))
    extra = dict(mhdp, name="us_s232_mhd_parts_general_purpose_25", products=["us_s232_mhd_parts_general_purpose"],
                 coverage_pct=GENERAL_PURPOSE_PCT, follows=mhdp["name"],
                 notes=("verification: two_sources for the lines, unverified for coverage_pct. General-purpose lines of "
                        f"the truck-parts list: only truck parts pay; the measure reaches {GENERAL_PURPOSE_PCT:g}% of their "
                        "trade (assumption)."))
    for k in ("start", "announced"):
        extra.pop(k, None)
    out.append(_ordered(extra))
    out.append(_measure("us_s232_buses_10", "Section 232", "Proclamation 10984 (buses), HTS heading 9903.74.02",
                        exporters="all", products=["us_s232_buses"], rate_pct=10.0, start=_d("2025-11-01"),
                        announced=_d("2025-10-17"), replaces=rep_autos, group="s232_autos",
                        source=f"{CH99_SOURCE} heading 9903.74.02 (10%) and note 38(c); {EVENTS} row 2025-11-01",
                        notes=("verification: two_sources for 10% (HTS heading text; the reference row had it "
                               "unverified). No USMCA treatment for buses. The Canada and Mexico IEEPA duties are "
                               "displaced as for the other Section 232 measures, although note 38(a) names only medium "
                               "and heavy-duty vehicles: approximation.")))

    # Wood products, semiconductors.
    out.append({"_comment": "Timber, lumber and wood products (Proclamation 10976), semiconductors: group s232_other."})
    wood_src = f"{EVENTS} rows 2025-10-14 (two_sources); {CH99_SOURCE} note 37 and headings 9903.76.01-.23"
    out.append(_measure("us_s232_softwood_10", "Section 232", "Proclamation 10976 of September 29, 2025 (softwood timber "
                        "and lumber)", exporters="all", products=["us_s232_softwood"], rate_pct=10.0,
                        start=_d("2025-10-14"), announced=_d("2025-09-29"), replaces=R232, group="s232_other",
                        source=wood_src, notes=("verification: two_sources. All countries incl. Canada (its lumber "
                                                "anti-dumping and countervailing duties are not tariffs here).")))
    for name, lst, what in (("us_s232_upholstered_furniture_25", "us_s232_upholstered_furniture", "upholstered wooden furniture"),
                            ("us_s232_kitchen_cabinets_25", "us_s232_kitchen_cabinets", "kitchen cabinets and vanities")):
        out.append(_measure(name, "Section 232", f"Proclamation 10976 ({what})", exporters="all",
                            except_exporters=["GBR", "JPN"] + list(EU), products=[lst], rate_pct=25.0,
                            start=_d("2025-10-14"), announced=_d("2025-09-29"), replaces=R232, group="s232_other",
                            source=wood_src + "; delay of the 2026 increases: Furniture Today, Econotimes and other reports "
                                              "of the proclamation of 2025-12-31",
                            notes=("verification: two_sources. The increases scheduled for 2026-01-01 (30% furniture, 50% "
                                   "cabinets and vanities) were delayed to 2027-01-01 by the proclamation of 2025-12-31 "
                                   "(two_sources) and are not in this schedule. Korea pays 25% until its 15% cap of "
                                   "2025-11-14.")))
    wood = ["us_s232_upholstered_furniture", "us_s232_kitchen_cabinets"]
    out.append(_measure("us_s232_wood_gbr_10", "Section 232", "Proclamation 10976, HTS heading 9903.76.20 (UK)",
                        exporters=["GBR"], products=wood, rate_pct=10.0, start=_d("2025-10-14"), replaces=R232,
                        group="s232_other", source=wood_src, notes="verification: two_sources (HTS heading and reports)."))
    out.append(_measure("us_s232_wood_eu_jpn_15", "Section 232", "Proclamation 10976, HTS headings 9903.76.21-.22 (15% in "
                        "lieu of other duties, EU and Japan)", exporters=["JPN"] + list(EU), products=wood,
                        rule="floor", rate_pct=15.0, start=_d("2025-10-14"), replaces=R232, source=wood_src,
                        notes="verification: two_sources. All-in 15% (floor rule; MFN on these lines is 0)."))
    out.append(_measure("us_s232_wood_kor_15", "Section 232", "USTR/Commerce notice implementing the Korea deal, HTS "
                        "heading 9903.76.23", exporters=["KOR"], products=wood, rule="floor", rate_pct=15.0,
                        start=_d("2025-11-14"), replaces=["us_s232_upholstered_furniture_25", "us_s232_kitchen_cabinets_25"]
                        + R232, source=wood_src + "; Korea Herald and Thompson Hine on the notice of 2025-12-04",
                        notes="verification: two_sources. All-in 15% from 2025-11-14 (floor rule)."))
    out.append(_measure("us_s232_semiconductors_25", "Section 232", "Proclamation of January 14, 2026 (semiconductors), "
                        "HTS heading 9903.79.01 and U.S. note 39", exporters="all", products=["8471804000"],
                        rate_pct=25.0, start=_d("2026-01-16"), replaces=["s232_autos", "s232_metals"] + R232,
                        group="s232_other",
                        source=f"{y} resources/s232_semi_products.csv, resources/semi_qualifying_shares.csv, "
                               "docs/assumptions.md section 16; revision_dates.csv 2026_rev_1",
                        notes=("verification: one_source (Yale tracker). The duty covers only advanced accelerators "
                               "passing a performance gate, within 8471.50, 8471.80 and 8473.30; following the Yale "
                               "calibration only 8471.80.4000 (accelerator cards) is taken as covered, and wholly (an "
                               "upper bound). End-use exemptions (data centres, R&D...) are not modelled. Semiconductor "
                               "articles do not stack with the auto, truck and metals duties (note 39(a)): replaces "
                               "s232_autos (8471 is in the auto-parts list) and s232_metals.")))
    return out


def header(b: Build) -> str:
    f = b.facts
    return f"""\
# tariffs-2025 / us_base.toml: the US base law for every partner, 2025-01-01 to 2026-12-31.
# GENERATED by scripts/build_tariffs_2025_base.py from shared/reference; do not edit by hand (--check compares).
# Included by the main tariffs-2025 schedule beside the IEEPA / Section 122 / China / Canada fragment.
#
# Scope
# * US MFN (column 1 general) rates for every HTSUS line of chapters 1-97, with the preferences partners actually used
#   in 2024; column 2 rates for Belarus, Cuba, North Korea and Russia.
# * Section 301 on goods of China: Lists 1, 2, 3, 3 additional and 4A, the 2024 four-year-review increases of
#   2024-09-27, 2025-01-01 and 2026-01-01, ship-to-shore cranes, the shipbuilding action from 2026-11-10, and the
#   whole-line exclusions in force to 2026-11-09. List 4B was suspended in 2019 and is not a measure. Hong Kong is a
#   separate origin for Section 301 and is not covered.
# * Section 232: steel and aluminium (2018 regime to 2025-03-11; 25% from 2025-03-12; 50% from 2025-06-04, UK 25%;
#   derivatives and their inclusion round of 2025-08-18 on metal content; the April 2026 annexes), Russian aluminium
#   200%, copper (2025-08-01), autos (2025-04-03) and parts (2025-05-03) with USMCA treatment and the EU, Japan, Korea
#   and UK deals, medium and heavy-duty vehicles and parts and buses (2025-11-01), softwood lumber, upholstered furniture
#   and kitchen cabinets (2025-10-14) with the UK, EU, Japan and Korea rates, semiconductors (2026-01-16).
#
# Conventions
# * Rates in percent; `end` is the first day not in force; `announced` is the signing date where before `start`.
# * Codes are HTSUS digits; a code covers every finer line. A rate printed on a 10-digit line (the only statistical line
#   of its HTS8) is written at 10 digits.
# * Every measure names its instrument (`authority`), its sources (`source`: reference file and row, or the primary
#   document) and starts its `notes` with a verification grade as in shared/reference/README.md (two_sources,
#   one_source, unverified), then says what is approximated.
# * Groups defined here: s301, s232_metals, s232_autos, s232_other (members take the maximum). Groups named here but
#   defined in ieepa.toml: ieepa_reciprocal, ieepa_country_orders, ieepa_fentanyl_ca_mx (Canada and Mexico), s122.
#   Every Section 232 measure replaces those four (Section 232 goods pay neither the reciprocal duty, the Brazil and
#   India orders, the Canada/Mexico IEEPA duties nor Section 122); China's IEEPA duty (group ieepa_fentanyl) stacks.
#   Autos, parts, trucks and buses also replace s232_metals (EO 14289).
# * USMCA shares: usmca_qualifying.csv (2024 claims), usmca_qualifying_2025_mar_jun.csv (March-June 2025) and
#   usmca_qualifying_2025.csv (July-December 2025, used by the Section 232 measures here). See README.md.
#
# Approximations (each measure's notes say more)
# * MFN: {f['n_ave']} specific or compound lines use ad valorem equivalents measured from 2024 duties; {f['n_fallback']}
#   lines without such trade use fallbacks (unit values or medians of neighbouring lines), flagged in mfn/us_mfn_rates.csv.
# * Preferences are as used in 2024 (share of trade that paid no MFN), not as eligible, and held constant.
# * Section 301: lists are HTS8 (some are HTS10 subsets); a line in several lists pays the highest rate once (group
#   s301). Exclusions described by product ({178 - f['excl_whole_items']} of 178) are not applied. Cranes and chassis are whole lines.
# * Section 232 metal content: CBO buckets (75% / 25%; copper 90%), else 50%; chapters 72, 73 and 76 at 100%. Steel
#   derivatives outside chapter 73 before 2025-08-18 and auto-part inclusions are not compiled. The reciprocal duty on
#   the non-metal content of derivatives is not restored (engine replaces whole cells).
# * EO 14289 put the Canada/Mexico IEEPA duty above the metals duties from 2025-03-04 until Proclamation 10947; here
#   the metals duties displace it throughout (same 25% on metal articles; differs on derivatives).
# * USMCA vehicles: exempt share = USMCA claims x {US_CONTENT_PCT:g}% US content. UK cars: all within the 100,000 quota.
# * Auto and truck parts on general-purpose lines (bearings, motors, batteries, switchboards...) reach an assumed 25%
#   of the lines' trade, computers (8471, listed whole) 1%: only vehicle parts pay (note 33(h)); no end-use data.
# * 2018 regime: quota countries exempt; EU, Japan and UK tariff-rate quotas as the duty-free share of 2024 trade.
# * Not modelled: the US-assembly offset for parts, Section 232 product exclusions, civil-aircraft exemptions from the
#   metals duties under the UK, EU, Japan and Korea deals, Section 201 safeguards, anti-dumping and countervailing duties,
#   the 35% column 2 increase on listed Russian goods of 2022 (Proclamation 10420), de minimis, the 2027 furniture and
#   cabinet increases.
"""


def schedule_table(b: Build) -> dict:
    return {
        "name": "tariffs-2025-us-base",
        "description": "US base law for every partner, 2025-2026: MFN with preferences used, column 2, Section 301 on "
                       "China, Section 232 (metals, copper, autos and parts, trucks and buses, wood products, semiconductors)",
        "as_of": AS_OF, "version": VERSION,
        "licence": ("Derived from the HTSUS and Census data (US government works, public domain) and from files of "
                    f"{YALE_REPO} and {TWT_REPO} (MIT); their notices are in tariffs-2025/LICENSES/ (copy them to "
                    "tradesim/data/LICENSES/ when bundling)."),
        "sources": [
            f"USITC HTSUS 2025 basic edition (reference {HTS_FILE})",
            f"Census 2024 imports for consumption and calculated duty by HTS8 (reference {HS8_FILE}, compiled by {TWT_REPO} "
            f"@{TWT_COMMIT[:12]})",
            f"{YALE_REPO} @{YALE_COMMIT[:12]}: Section 301 lists, Section 232 scopes, policy parameters, USITC DataWeb "
            "USMCA claims, CBO metal-content buckets, HTSUS 2026 Rev.6 chapter 99 notes",
            f"{EVENTS}; exemptions.csv",
            "Federal Register and trade-press reports named in each measure's source",
        ],
        "notes": "See the header comment, README.md and each measure's notes.",
    }


# ---------------------------------------------------------------------------------------------
# Assembly, checks, report
# ---------------------------------------------------------------------------------------------


def _csv(frame: pd.DataFrame) -> str:
    text = io.StringIO()
    frame.to_csv(text, index=False, lineterminator="\n", float_format=None)
    return text.getvalue()


def _round(frame: pd.DataFrame, columns: dict[str, int]) -> pd.DataFrame:
    frame = frame.copy()
    for col, nd in columns.items():
        frame[col] = frame[col].astype(float).round(nd)
    return frame


def build(src: Sources) -> Build:
    """Derive every output file; see the module docstring."""
    b = Build()
    lines, numbered = read_hts(src)
    trade = read_trade(src)
    s301 = read_s301(src)
    b.frames["_lines"], b.frames["_numbered"], b.frames["_trade"] = lines, numbered, trade
    # Yale's lists keep some pre-2022 HTS8 numbers that are no longer lines (no 2024 trade under them): set aside.
    gone = ~s301["hs_code"].isin(_prefixes(numbered["code"]))
    b.facts["s301_gone"] = s301[gone & (s301["list"] != "4B")].groupby("list")["hs_code"].apply(list).to_dict()
    s301 = s301[~gone].reset_index(drop=True)

    b.facts["s301_2024"] = s301_rate_2024(s301)
    mfn = mfn_rates(lines, trade, b.facts["s301_2024"])
    mfn["source"] = np.where(mfn["method"].str.startswith("statutory"), "HTSUS 2025", "HTSUS 2025; AVE from Census 2024 duties")
    b.frames["_mfn"] = mfn
    b.frames["mfn/us_mfn_rates.csv"] = _round(mfn[["hs_code", "rate_pct", "method", "rate_text", "basis_imports_usd",
                                                   "basis_partners", "source"]], {"rate_pct": 3, "basis_imports_usd": 0})
    col2 = column2_rates(lines, mfn, trade)
    col2["source"] = np.where(col2["method"].str.startswith("statutory"), "HTSUS 2025", "HTSUS 2025; AVE from Census 2024 duties")
    b.frames["mfn/us_column2_rates.csv"] = _round(col2[["hs_code", "rate_pct", "method", "rate_text", "source"]],
                                                  {"rate_pct": 3})
    prefs = preference_shares(mfn, trade)
    b.frames["mfn/us_preferences_2024.csv"] = prefs

    usmca = usmca_shares(src, trade, set(lines["hs8"]))
    b.frames["usmca_qualifying.csv"] = usmca.y2024
    b.frames["usmca_qualifying_2025_mar_jun.csv"] = usmca.mar_jun_2025
    b.frames["usmca_qualifying_2025.csv"] = usmca.h2_2025
    b.facts["usmca"] = usmca

    exclusions = s301_exclusions(src, set(numbered["code"]))
    for k, v in s301_files(s301, exclusions).items():
        b.frames[k] = v
    s232, facts232 = s232_files(src, usmca, trade, mfn)
    b.frames.update(s232)

    # Facts for the notes.
    f = b.facts
    partners, left_out = pool_partners(lines, parse_rates(lines["general"]), trade)
    pool = _pool_sums(lines, trade, partners).reindex(mfn["hs8"])
    pool.index = mfn.index
    av = mfn["method"].str.startswith("statutory") & (pool["imports"] > 0)
    f["av_match"] = float(((pool["duty"] / pool["imports"] * 100 - mfn["rate_pct"]).abs()[av] < 0.1).mean())
    f["pool"] = ", ".join(partners) + " (" + str(len(partners)) + " partners; left out: " + "; ".join(
        f"{k} ({v})" for k, v in sorted(left_out.items())) + ")"
    f["pref_rows"], f["pref_exporters"] = len(prefs), prefs["exporter"].nunique()
    f["n_ave"] = int(mfn["method"].str.startswith("ave_").sum())
    f["n_fallback"] = int(mfn["method"].str.startswith("fallback").sum())
    agree = {"1": "856/860", "2": "283/287", "3": "5,906/6,190", "4A": "2,958/2,967", "3_addl": "-"}
    for key, (suffix, *_rest) in S301_LISTS.items():
        f["n_" + suffix] = int((s301["list"] == key).sum())
        f["agree_" + key] = agree[key]
    f["excl_whole"] = int(exclusions["whole_line"].sum())
    f["excl_whole_items"] = int(exclusions.loc[exclusions["whole_line"], ["list", "item"]].drop_duplicates().shape[0])
    st, al = facts232["2018_steel"]["exempt_pct"], facts232["2018_aluminium"]["exempt_pct"]
    f["trq_steel"] = {k: float(st[k]) for k in ("EU27", "JPN", "GBR")}
    f["trq_alu"] = {k: float(al[k]) for k in ("EU27", "GBR")}
    f["alu_kor"], f["alu_bra"] = float(al["KOR"]), float(al["BRA"])
    f["facts232"] = facts232
    parts, trucks = b.frames["s232/auto_parts.csv"]["hs_code"], b.frames["s232/mhd_parts.csv"]["hs_code"]
    within = pd.concat([parts.str[:n].isin(set(trucks)) for n in (4, 6, 8, 10)], axis=1).any(axis=1)
    f["n_auto_parts"] = len(parts)
    f["parts_overlap"] = int((parts.isin(_prefixes(trucks)) | within).sum())

    # Text files.
    for path, frame in b.frames.items():
        if not path.startswith("_"):
            b.files[path] = _csv(frame)
    b.files["us_base.toml"] = toml_text(header(b), schedule_table(b), product_lists(b), measures(b))
    for name, path in (("LICENSES/LICENSE-Budget-Lab-Yale-tariff-rate-tracker.txt", f"{YALE_DIR}/LICENSE"),
                       ("LICENSES/LICENSE-tradewartracker-trade-war-redux-2025.txt", "us_law_2025/tradewartracker/LICENSE")):
        b.files[name] = src.ref(path).read_text(encoding="utf-8")
    check(b, src)
    return b


def _prefixes(codes: pd.Series) -> set[str]:
    """Every code and each of its even-length prefixes (chapter, heading, subheading, HTS8)."""
    codes = pd.Series(codes, dtype=str)
    parts = pd.concat([codes[codes.str.len() >= n].str[:n] for n in (2, 4, 6, 8, 10)])
    return set(parts.unique())


def check(b: Build, src: Sources) -> None:
    """Stop with file, row and value on a malformed or non-nesting code, a rate outside 0-2,000% or a share outside 0-100%."""
    numbered = b.frames["_numbered"]["code"]
    known = _prefixes(numbered)
    eights = set(numbered[numbered.str.len() == 8]) | set(numbered[numbered.str.len() == 10].str[:8])
    b.facts["nest_hts8_only"] = {}

    def codes_ok(where: str, codes: pd.Series) -> None:
        codes = codes.astype(str)
        bad = ~codes.str.fullmatch(r"\d{2}(\d{2}){0,4}")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise BuildError(f"{where}: row {i + 2}: malformed HTS code {codes.iloc[i]!r}")
        inside = codes.isin(known)
        loose = ~inside & (codes.str.len() == 10) & codes.str[:8].isin(eights)
        if (~inside & ~loose).any():
            i = int(np.flatnonzero((~inside & ~loose).to_numpy())[0])
            raise BuildError(f"{where}: row {i + 2}: HTS code {codes.iloc[i]!r} does not nest under an HTSUS 2025 line")
        if loose.any():
            b.facts["nest_hts8_only"][where] = sorted(codes[loose].unique())

    for path, frame in b.frames.items():
        if path.startswith("_"):
            continue
        if "hs_code" in frame.columns:
            codes_ok(path, frame["hs_code"])
        for col, top in (("rate_pct", MAX_RATE), ("share_pct", 100.0)):
            if col in frame.columns:
                v = frame[col].astype(float)
                bad = v.isna() | (v < 0) | (v > top)
                if bad.any():
                    i = int(np.flatnonzero(bad.to_numpy())[0])
                    raise BuildError(f"{path}: row {i + 2}: {col} = {v.iloc[i]!r} outside 0-{top:g}")
        if "exporter" in frame.columns:
            bad = ~frame["exporter"].str.fullmatch(r"[A-Z]{3}|EU27")
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise BuildError(f"{path}: row {i + 2}: exporter {frame['exporter'].iloc[i]!r} is not ISO alpha-3")
    for entry in product_lists(b):
        if "codes" in entry:
            codes_ok(f"us_base.toml product list {entry['name']}", pd.Series(entry["codes"]))
    for entry in measures(b):
        inline = [p for k in ("products", "exclude") if isinstance(entry.get(k), list) for p in entry[k] if p[:1].isdigit()]
        if inline:
            codes_ok(f"us_base.toml measure {entry['name']}", pd.Series(inline))
        if "rate_pct" in entry and not 0 <= entry["rate_pct"] <= MAX_RATE:
            raise BuildError(f"us_base.toml measure {entry['name']}: rate_pct {entry['rate_pct']} outside 0-2000")
    checks = OUT / "checks_base.csv"
    if checks.is_file():
        frame = pd.read_csv(checks, dtype=str, keep_default_na=False)
        codes_ok(str(checks), frame["hs_code"])


#: 2024 lines under Section 232 (2018 steel and aluminium articles and the 2020 derivatives) and Section 201 (solar).
OTHER_2024 = tuple(c[:8] for c in STEEL_ARTICLES + STEEL_2020_DERIVATIVES + ALUMINIUM_ARTICLES + ALUMINIUM_2020_DERIVATIVES) \
    + ("854142", "854143")


def report(b: Build) -> str:
    """Counts and sanity checks, as text."""
    f = b.facts
    mfn, trade, prefs = b.frames["_mfn"], b.frames["_trade"], b.frames["mfn/us_preferences_2024.csv"]
    out = []
    p = out.append
    p("MFN lines by method:\n  " + _counts(mfn["method"]).replace(", ", "\n  "))
    col2 = b.frames["mfn/us_column2_rates.csv"]
    p("Column 2 lines by method:\n  " + _counts(col2["method"]).replace(", ", "\n  "))
    p(f"MFN AVE pool: {f['pool']}")
    p(f"Ad valorem lines whose pooled 2024 duty rate is within 0.1 point of the written rate: {f['av_match']:.1%}")
    p(f"Preference rows: {f['pref_rows']:,} for {f['pref_exporters']} exporters (incl. EU members)")
    t = trade[trade["imports"] > 0].copy()
    t["mfn"] = mfn.set_index("hs8")["rate_pct"].reindex(t["hs8"]).fillna(0.0).to_numpy()
    pref = prefs.set_index(["exporter", "hs_code"])["share_pct"]
    t["pref"] = pref.reindex(pd.MultiIndex.from_frame(t[["exporter", "hs8"]])).fillna(0.0).to_numpy()
    t["model"] = t["imports"] * t["mfn"] * (1 - t["pref"] / 100) / 100
    t["statutory"] = t["imports"] * t["mfn"] / 100
    tot = t[["imports", "duty", "model", "statutory"]].sum()
    p("\nSanity: 2024 trade-weighted rates over the HTS8 file (49 countries + EU27, USD "
      f"{tot['imports'] / 1e9:,.1f}bn)")
    p(f"  MFN as written (no preferences):           {100 * tot['statutory'] / tot['imports']:.2f}%")
    p(f"  MFN with preferences used (this schedule):  {100 * tot['model'] / tot['imports']:.2f}%")
    p(f"  measured 2024 duties collected (all):       {100 * tot['duty'] / tot['imports']:.2f}%")
    sub = t[(t["exporter"] != "CHN") & (t["exporter"] != "RUS") & ~t["hs8"].str.startswith(OTHER_2024)
            & (t["hs8"].str[:2] < "98")]
    s = sub[["imports", "duty", "model"]].sum()
    p(f"  like for like, excluding China (Section 301), Russia (column 2), 2024 Section 232/201 lines and chapters 98-99 "
      f"(USD {s['imports'] / 1e9:,.1f}bn):")
    p(f"    modelled {100 * s['model'] / s['imports']:.2f}%   measured {100 * s['duty'] / s['imports']:.2f}%")
    withcn = t[(t["exporter"] != "RUS") & ~t["hs8"].str.startswith(OTHER_2024) & (t["hs8"].str[:2] < "98")].copy()
    cn = withcn["exporter"] == "CHN"
    s301 = f["s301_2024"].reindex(withcn.loc[cn, "hs8"]).fillna(0.0).to_numpy()
    withcn.loc[cn, "duty"] = (withcn.loc[cn, "duty"] - withcn.loc[cn, "imports"] * s301 / 100).clip(lower=0)
    w = withcn[["imports", "duty", "model"]].sum()
    p(f"  with China, its duties less its Section 301 list rates (USD {w['imports'] / 1e9:,.1f}bn): modelled "
      f"{100 * w['model'] / w['imports']:.2f}%   measured {100 * w['duty'] / w['imports']:.2f}%")
    g = sub.groupby("exporter")[["imports", "duty", "model"]].sum().sort_values("imports", ascending=False).head(15)
    p("    by partner (modelled / measured, %): " + "; ".join(
        f"{e} {100 * r.model / r.imports:.2f}/{100 * r.duty / r.imports:.2f}" for e, r in g.iterrows()))
    u: Usmca = f["usmca"]
    for name, frame in (("2024", u.y2024), ("Mar-Jun 2025", u.mar_jun_2025), ("Jul-Dec 2025", u.h2_2025)):
        m = t[t["exporter"].isin(CAN_MEX)].merge(frame, left_on=["exporter", "hs8"], right_on=["exporter", "hs_code"])
        agg = m.groupby("exporter").apply(lambda d: np.average(d["share_pct"], weights=d["imports"]), include_groups=False)
        p(f"USMCA claim share {name}, weighted by 2024 imports: " + ", ".join(f"{k} {v:.1f}%" for k, v in agg.items())
          + f"; lines by method: {_counts(frame['method'])}")
    p("USMCA monthly 2025 (DataWeb, % of value): " + "; ".join(
        f"{r.exporter} {r.month:02d}: {r.share_pct:.1f}" for r in u.monthly.itertuples()))
    d = prefs[prefs["exporter"].isin(CAN_MEX)].merge(u.y2024, on=["exporter", "hs_code"], suffixes=("_duty", "_dw"))
    d = d.merge(t[["exporter", "hs8", "imports"]], left_on=["exporter", "hs_code"], right_on=["exporter", "hs8"])
    close = (d["share_pct_duty"] - d["share_pct_dw"]).abs() <= 10
    p(f"USMCA 2024 claims vs duty-based preference shares on MFN>0 lines: {close.mean():.0%} of {len(d):,} pairs within 10 "
      f"points ({np.average(close, weights=d['imports']):.0%} by value)")
    p(f"DataWeb codes not in the HTSUS 2025 dropped: {u.dropped_codes}")
    p("Section 301 files: " + ", ".join(f"{Path(k).stem} {len(v):,}" for k, v in b.frames.items() if k.startswith("s301/")))
    p("Section 232 files: " + ", ".join(f"{Path(k).stem} {len(v):,}" for k, v in b.frames.items() if k.startswith("s232/")))
    p("2018 regime, measured duty-free share of 2024 trade (partners over USD 50m): steel " + ", ".join(
        f"{k} {v:g}" for k, v in f["facts232"]["2018_steel"].query("imports > 5e7")["exempt_pct"].items()))
    p("  aluminium " + ", ".join(f"{k} {v:g}" for k, v in f["facts232"]["2018_aluminium"].query("imports > 5e7")["exempt_pct"].items()))
    if f["nest_hts8_only"]:
        p("Codes that nest under an HTSUS 2025 HTS8 but are not 2025 statistical lines: " + "; ".join(
            f"{k}: {' '.join(v)}" for k, v in f["nest_hts8_only"].items()))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_ref = ROOT.parent / "shared" / "reference"
    parser.add_argument("--reference", type=Path, default=default_ref if default_ref.is_dir() else Path("/work/shared/reference"))
    parser.add_argument("--yale-mirror", type=Path, default=Path(REF_MIRROR) if Path(REF_MIRROR).is_dir() else None)
    parser.add_argument("--check", action="store_true", help="compare with the committed files; exit 1 if any differs")
    parser.add_argument("--report", action="store_true", help="print counts and sanity checks")
    args = parser.parse_args(argv)
    try:
        b = build(Sources(args.reference, args.yale_mirror))
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.report:
        print(report(b))
    if args.check:
        differ = [p for p, text in b.files.items()
                  if not (OUT / p).is_file() or (OUT / p).read_text(encoding="utf-8") != text]
        # Only this script's folders are checked for stale files: the folder is shared with the IEEPA fragment.
        stale = [str(p.relative_to(OUT)) for d in ("mfn", "s301", "s232") for p in (OUT / d).rglob("*")
                 if p.is_file() and str(p.relative_to(OUT)) not in b.files]
        for p in differ:
            print(f"differs: {OUT.relative_to(ROOT) / p}")
        for p in stale:
            print(f"not produced by the build: {OUT.relative_to(ROOT) / p}")
        return 1 if differ or stale else 0
    if not args.report:
        for path, text in sorted(b.files.items()):
            target = OUT / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        print(f"wrote {len(b.files)} files under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
