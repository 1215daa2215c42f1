"""Transcribe the facts behind the demo-2024 baseline from shared/reference into tradesim/data/.

Run once by a developer who has the project's shared/ folder beside the checkout:

    python scripts/transcribe_reference.py ../shared/reference

It copies rows (values, sources, verification grades) for the economies of the
demo baseline, converts ISO-2 codes to ISO-3 and writes the fact tables that
`scripts/build_demo_2024.py` reads. The fact tables are committed; this script
documents where each of their rows came from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pycountry

DATA = Path(__file__).resolve().parents[1] / "tradesim" / "data"
ECONOMIES = ["USA", "CHN", "CAN", "MEX", "JPN", "KOR", "TWN", "VNM", "IND", "DEU", "GBR", "BRA", "AUS", "THA", "MYS"]
# First-release (February 2025) Census values, which the reference files give in the notes of the
# revised rows (CN, MX, CA) and in bilateral_trade_2024.csv (CN); they match the initial-release US
# world totals, so we prefer them where they exist.
INITIAL_RELEASE = {("USA", "CHN"): 143.5e9, ("CHN", "USA"): 438.9e9, ("USA", "MEX"): 334.0e9,
                   ("MEX", "USA"): 505.9e9, ("USA", "CAN"): 348.5e9, ("CAN", "USA"): 412.7e9}


def iso3(code: str) -> str:
    return {"WORLD": "WORLD"}.get(code) or pycountry.countries.get(alpha_2=code).alpha_3


def main(reference: Path) -> None:
    base = reference / "trade_baseline"
    totals = pd.read_csv(base / "trade_totals.csv")
    rows = []
    for r in totals.itertuples():
        if r.product_level != "total" or r.partner in ("EU", "ASEAN"):
            continue
        rep, par = iso3(r.reporter), iso3(r.partner)
        if par not in ECONOMIES + ["WORLD"]:
            continue
        if (rep, r.year) not in (("USA", 2024), ("CHN", 2023), ("CHN", 2024)):
            continue
        exporter, importer = (rep, par) if r.flow == "export" else (par, rep)
        value, vintage = r.value_usd, "revised Census vintage (fetched 2026)" if rep == "USA" else "China customs"
        if (exporter, importer) in INITIAL_RELEASE and rep == "USA":
            value, vintage = INITIAL_RELEASE[exporter, importer], "initial Census release (Feb 2025)"
        elif par == "WORLD":
            vintage = "initial Census release (Feb 2025)"
        rows.append(dict(exporter=exporter, importer=importer, reporter=rep, year=r.year, value_usd=round(value),
                         vintage=vintage, source=r.source, verification=r.verification,
                         notes="" if pd.isna(r.notes) else r.notes))
    pd.DataFrame(rows).to_csv(DATA / "facts_trade_totals.csv", index=False)

    chapters = pd.read_csv(base / "us_partner_by_chapter_2024_air_container.csv", dtype={"product_code": str})
    chapters = chapters[(chapters.product_level == "chapter") & (chapters.year == 2024)]
    out = pd.DataFrame({
        "exporter": [("USA" if f == "export" else iso3(p)) for f, p in zip(chapters.flow, chapters.partner)],
        "importer": [(iso3(p) if f == "export" else "USA") for f, p in zip(chapters.flow, chapters.partner)],
        "chapter": chapters.product_code, "value_usd": chapters.value_usd, "basis": "air + containerised vessel only",
        "source": chapters.source, "verification": chapters.verification,
    })
    out.to_csv(DATA / "facts_us_chapters_2024.csv", index=False)

    items = pd.read_csv(reference / "bilateral_trade_2024.csv", dtype={"code": str})
    items = items[items.hs_level.isin(["HS4", "category"]) & (items.period.astype(str) == "2024")]
    # Chapter of each product fact; the HS4 codes are the reference's own inferences from item names.
    chapter = {"AG_GRAINS": "10", "AG_MEAT": "02"}
    pairs = [(p, r) if f == "imports" else (r, p) for r, p, f in zip(items.reporter, items.partner, items.flow)]
    out = pd.DataFrame({
        "exporter": [iso3(e) for e, _ in pairs],
        "importer": [iso3(i) for _, i in pairs],
        "reporter": [iso3(r) for r in items.reporter],
        "code": items.code, "chapter": [chapter.get(c, c[:2]) for c in items.code],
        "description": items.description, "value_usd": items.value_usd.round().astype("int64"),
        "source": items.source, "verification": items.verification,
    })
    out.to_csv(DATA / "facts_product_items_2024.csv", index=False)

    gdp = pd.read_csv(base / "gdp_2024.csv")
    gdp = gdp.assign(country=[iso3(c) for c in gdp.economy])
    gdp = gdp[gdp.country.isin(ECONOMIES)][["country", "year", "value_usd", "vintage", "source", "verification", "notes"]]
    gdp.to_csv(DATA / "facts_gdp_2024.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference"))
