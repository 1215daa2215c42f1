"""Write the small sample files in ``examples/data/`` from the bundled, measured 2024 US trade data.

    python scripts/build_example_data.py          # writes the samples
    python scripts/build_example_data.py --check  # exits 1 if a committed sample differs

The samples are what the README's reader snippets open: a tidy table of flows
(``flows.csv``), a CEPII BACI year file with its country-code file
(``BACI_HS17_Y2023_V202501.csv``, ``country_codes_V202501.csv``) and a UN
Comtrade Plus file (``comtrade_2023.csv``). Every value is a US Census figure
for 2024 taken from the bundled data:

- US imports for consumption by partner and HS chapter
  (``tradesim/data/facts_us_imports_2024.csv``) for ``flows.csv`` and the
  Comtrade sample, with the partner World summed over every partner of
  ``tradesim/data/us-imports-2024.csv.gz``;
- US imports for consumption by HTS8 line summed to HS6
  (``tradesim/data/us-imports-2024.csv.gz``), and US exports to China by HS6 of
  goods on China's March 2025 lists (rows marked ``measured`` in
  ``tradesim/data/fine-values-2024.csv.gz``), for the BACI sample.

The BACI and Comtrade samples copy those sources' layouts only: their values are
Census data, not BACI or Comtrade downloads, and their year columns say 2023 to
match the file names although the values are for 2024 (examples/data/README.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tradesim" / "data"
OUT = ROOT / "examples" / "data"

#: BACI's numeric country codes (ISO 3166 numeric for these economies) and ISO codes.
BACI_COUNTRIES = pd.DataFrame(
    [(124, "Canada", "CA", "CAN"), (156, "China", "CN", "CHN"), (392, "Japan", "JP", "JPN"),
     (410, "Rep. of Korea", "KR", "KOR"), (484, "Mexico", "MX", "MEX"), (704, "Viet Nam", "VN", "VNM"),
     (842, "USA", "US", "USA")],
    columns=["country_code", "country_name", "country_iso2", "country_iso3"],
)
#: HS6 subheadings that read the same in HS 2017 (BACI HS17) and HS 2022 (the 2024 HTS).
BACI_IMPORTS = ["847130", "854231", "870323", "940360", "950300", "640399"]
BACI_EXPORTERS = ["CHN", "VNM", "MEX", "JPN", "KOR", "CAN"]
BACI_US_EXPORTS = ["100790", "100590", "100199", "020230", "020329"]  # sorghum, maize, wheat, beef, pork
FLOW_EXPORTERS = ["CHN", "VNM", "MEX", "CAN"]
CHAPTERS = {"61": "Apparel, knitted", "62": "Apparel, not knitted", "64": "Footwear", "84": "Machinery and computers",
            "85": "Electrical machinery and electronics", "87": "Vehicles and parts", "94": "Furniture and lighting",
            "95": "Toys, games and sports goods"}
COMTRADE_PARTNERS = {"CHN": (156, "China"), "VNM": (704, "Viet Nam"), "MEX": (484, "Mexico"), "JPN": (392, "Japan")}
COMTRADE_CHAPTERS = ["84", "85", "87", "94", "95"]


def flows(facts: pd.DataFrame) -> pd.DataFrame:
    """US imports by chapter from four partners: exporter, importer, product, value_usd."""
    rows = facts[facts["exporter"].isin(FLOW_EXPORTERS) & facts["chapter"].isin(list(CHAPTERS))]
    return rows.rename(columns={"chapter": "product"})[["exporter", "importer", "product", "value_usd"]]


def baci(us: pd.DataFrame, fine: pd.DataFrame) -> pd.DataFrame:
    """A BACI year file (t, i, j, k, v in thousands of USD, q): US imports by HS6 and US exports to China."""
    hs6 = us[us["exporter"].isin(BACI_EXPORTERS) & (us["product"].str.len() == 8)]
    hs6 = hs6.assign(k=hs6["product"].str[:6])
    imports = hs6[hs6["k"].isin(BACI_IMPORTS)].groupby(["exporter", "k"], as_index=False)["value"].sum()
    imports["importer"] = "USA"
    exports = fine[(fine["importer"] == "CHN") & fine["product"].isin(BACI_US_EXPORTS)
                   & fine["source"].str.startswith("measured:")]
    exports = exports.rename(columns={"product": "k"})[["exporter", "importer", "k", "value"]]
    rows = pd.concat([imports, exports], ignore_index=True)
    rows = rows[rows["value"] > 0]
    code = BACI_COUNTRIES.set_index("country_iso3")["country_code"]
    return pd.DataFrame({
        "t": 2023,
        "i": rows["exporter"].map(code).to_numpy(),
        "j": rows["importer"].map(code).to_numpy(),
        "k": rows["k"].to_numpy(),
        "v": (rows["value"] / 1000).map("{:.3f}".format).to_numpy(),
        "q": "NA",
    }).sort_values(["i", "j", "k"], kind="stable")


def comtrade(facts: pd.DataFrame, us: pd.DataFrame) -> pd.DataFrame:
    """A Comtrade Plus file: US-reported imports by HS chapter from four partners and the World, with totals."""
    partners = facts[facts["exporter"].isin(list(COMTRADE_PARTNERS))]
    world = us.assign(chapter=us["product"].str[:2]).groupby("chapter", as_index=False)["value"].sum()
    world = world.assign(exporter="W00").rename(columns={"value": "value_usd"})
    cells = pd.concat([partners, world], ignore_index=True)[["exporter", "chapter", "value_usd"]]
    totals = cells.groupby("exporter", as_index=False, sort=False)["value_usd"].sum().assign(chapter="TOTAL")
    cells = pd.concat([cells[cells["chapter"].isin(COMTRADE_CHAPTERS)], totals], ignore_index=True)
    order = {c: k for k, c in enumerate([*COMTRADE_PARTNERS, "W00"])}
    cells = cells.assign(_o=cells["exporter"].map(order)).sort_values(["_o", "chapter"], kind="stable")
    names = {**{iso: n for iso, (_, n) in COMTRADE_PARTNERS.items()}, "W00": "World"}
    numbers = {**{iso: c for iso, (c, _) in COMTRADE_PARTNERS.items()}, "W00": 0}
    total = cells["chapter"] == "TOTAL"
    return pd.DataFrame({
        "typeCode": "C", "freqCode": "A", "refPeriodId": 20230101, "refYear": 2023, "refMonth": 52, "period": 2023,
        "reporterCode": 842, "reporterISO": "USA", "reporterDesc": "USA", "flowCode": "M", "flowDesc": "Import",
        "partnerCode": cells["exporter"].map(numbers), "partnerISO": cells["exporter"],
        "partnerDesc": cells["exporter"].map(names), "partner2Code": 0, "partner2ISO": "W00", "partner2Desc": "World",
        "classificationCode": "H6", "cmdCode": cells["chapter"],
        "cmdDesc": cells["chapter"].map(CHAPTERS).fillna("All commodities"), "aggrLevel": (~total) * 2,
        "isLeaf": False, "customsCode": "C00", "customsDesc": "TOTAL CPC", "mosCode": 0, "motCode": 0,
        "motDesc": "TOTAL MOT", "primaryValue": cells["value_usd"].astype("int64"), "isReported": True,
        "isAggregate": True,
    })


def build() -> dict[str, str]:
    """File name -> CSV text of every sample."""
    facts = pd.read_csv(DATA / "facts_us_imports_2024.csv", dtype={"chapter": str})
    us = pd.read_csv(DATA / "us-imports-2024.csv.gz", dtype={"product": str})
    fine = pd.read_csv(DATA / "fine-values-2024.csv.gz", dtype={"product": str})
    frames = {
        "flows.csv": flows(facts),
        "BACI_HS17_Y2023_V202501.csv": baci(us, fine),
        "country_codes_V202501.csv": BACI_COUNTRIES,
        "comtrade_2023.csv": comtrade(facts, us),
    }
    return {name: frame.to_csv(index=False, lineterminator="\n") for name, frame in frames.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed samples instead of writing")
    args = parser.parse_args(argv)
    texts = build()
    if args.check:
        stale = [n for n, t in texts.items() if not (OUT / n).is_file() or (OUT / n).read_text("utf-8") != t]
        for n in stale:
            print(f"examples/data/{n} differs from a fresh build", file=sys.stderr)
        print("examples/data is up to date" if not stale else "run python scripts/build_example_data.py")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (OUT / name).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote examples/data/{name} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
