"""Write ``examples/data/wits_tariffs_usa_2025.csv``: a WITS tariff query export (layout sample) of US MFN rates.

    python scripts/build_wits_sample.py          # writes the sample
    python scripts/build_wits_sample.py --check  # exits 1 if the committed sample differs

**A layout sample, not a WITS download.** The file has the columns of the CSV that WITS exports
for a tariff query (Advanced Query or Quick Search, "Tariff" results; the column headings are
those of the WITS online help, "Tariffs - Result": Selected Nomen, Native Nomen, Reporter,
Reporter Name, Product, Product Name, Partner, Partner Name, Tariff Year, Trade Year, DutyType,
Simple Average, Weighted Average, Minimum Rate, Maximum Rate, Nbr of Total Lines, Nbr of NA
Lines, Imports Value in 1000 USD), computed as WITS defines them from public US sources:

- the rates are the general (column 1, MFN) rates of the Harmonized Tariff Schedule of the
  United States, 2025 basic edition (USITC; US government work, public domain), as tradesim
  bundles them in ``tradesim/law/schedules/tariffs-2025/mfn/us_mfn_rates.csv``. Only the lines
  with an ad valorem or free rate count (``statutory_*``); lines with specific or compound
  duties are counted in ``Nbr of NA Lines`` and left out of the averages, as WITS does for
  rates without an ad valorem equivalent ("TRAINS raw data"); a subheading with no ad valorem
  line has blank averages;
- ``Simple Average`` is the mean over the subheading's tariff lines; ``Weighted Average`` weighs
  each 8-digit line by US imports for consumption in 2024 (Census, customs value, from
  ``tradesim/data/us-imports-2024.csv.gz``, which covers 49 countries and the EU27 at HTS8);
  ``Imports Value in 1000 USD`` is the subheading's total of those imports;
- product names are short labels in our own words; the ``Total`` row averages every line of
  the schedule (a product group, which the reader sets aside).

Values differ from WITS's own, which come from the US notification to UNCTAD TRAINS for the
year and weight by Comtrade imports.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RATES = ROOT / "tradesim" / "law" / "schedules" / "tariffs-2025" / "mfn" / "us_mfn_rates.csv"
IMPORTS = ROOT / "tradesim" / "data" / "us-imports-2024.csv.gz"
OUT = ROOT / "examples" / "data" / "wits_tariffs_usa_2025.csv"

#: HS 2022 subheadings in the sample, with short names of our own.
PRODUCTS = {
    "020230": "Frozen boneless beef", "100590": "Maize, other than seed", "220421": "Wine in containers of 2 l or less",
    "401110": "New tyres for cars", "611020": "Cotton jerseys and pullovers, knitted", "620462": "Women's cotton trousers",
    "640399": "Leather footwear, other", "847130": "Portable computers", "854231": "Processors and controllers",
    "870323": "Cars, 1,500-3,000 cc spark ignition", "870899": "Motor vehicle parts, other", "940360": "Wooden furniture, other",
    "950300": "Toys",
}


def build() -> str:
    rates = pd.read_csv(RATES, dtype={"hs_code": str})
    rates["hs6"] = rates["hs_code"].str[:6]
    rates["hts8"] = rates["hs_code"].str[:8]
    rates["ad_valorem"] = rates["method"].str.startswith("statutory")
    us = pd.read_csv(IMPORTS, dtype={"product": str}, usecols=["product", "value"])
    imports = us[us["product"].str.len() == 8].groupby("product")["value"].sum()

    def summarise(lines: pd.DataFrame) -> dict:
        valued = lines[lines["ad_valorem"]]
        hts8 = valued.groupby("hts8")["rate_pct"].mean()
        weights = imports.reindex(hts8.index).fillna(0.0)
        weighted = (hts8 * weights).sum() / weights.sum() if weights.sum() > 0 else None
        return {
            "Simple Average": round(valued["rate_pct"].mean(), 2) if len(valued) else None,
            "Weighted Average": None if weighted is None else round(weighted, 2),
            "Minimum Rate": valued["rate_pct"].min() if len(valued) else None,
            "Maximum Rate": valued["rate_pct"].max() if len(valued) else None,
            "Nbr of Total Lines": len(lines),
            "Nbr of NA Lines": int((~lines["ad_valorem"]).sum()),
            "Imports Value in 1000 USD": round(imports.reindex(lines["hts8"].unique()).fillna(0).sum() / 1000, 3),
        }

    rows = []
    for code, name in PRODUCTS.items():  # thirteen sample rows
        rows.append({"Product": code, "Product Name": name, **summarise(rates[rates["hs6"] == code])})
    rows.append({"Product": "Total", "Product Name": "All products", **summarise(rates)})
    table = pd.DataFrame(rows)
    front = {"Selected Nomen": "HS", "Native Nomen": "H6", "Reporter": "USA", "Reporter Name": "United States"}
    after = {"Partner": "WLD", "Partner Name": "World", "Tariff Year": 2025, "Trade Year": 2024, "DutyType": "MFN"}
    table = pd.concat([pd.DataFrame(front, index=table.index), table[["Product", "Product Name"]],
                       pd.DataFrame(after, index=table.index), table.drop(columns=["Product", "Product Name"])],
                      axis=1)
    return table.to_csv(index=False, lineterminator="\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    text = build()
    if args.check:
        same = OUT.is_file() and OUT.read_text() == text
        print(f"{OUT.relative_to(ROOT)}: {'up to date' if same else 'differs'}")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
