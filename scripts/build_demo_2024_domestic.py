"""Build the domestic sales of the bundled baseline ``demo-2024`` (its diagonal), for general equilibrium.

    python scripts/build_demo_2024_domestic.py          # rewrites tradesim/data/demo-2024-domestic.csv
    python scripts/build_demo_2024_domestic.py --check  # exits 1 if the committed file differs

General equilibrium needs what each economy buys from itself; trade data do not have it, and
gross output by economy was not found (shared/reference/trade_baseline/README.md). Every cell of
this file is imputed by one documented rule, from files in the repository only:

1. Domestic sales of economy ``j`` = GDP of ``j`` in 2024 less ``j``'s exports in ``demo-2024``
   (``demo-2024.csv``, the row of ``j`` off the diagonal). GDP: IMF figures for the 15 economies
   (``facts_gdp_2024.csv``); ROW: world GDP less the 15 (``tradesim.data.gdp_2024``, which
   takes world GDP in 2024 as the geometric mean of the IMF's 2023 estimate and 2025
   projection, ``facts_world_gdp.csv``). GDP stands for the value of what an economy produces,
   as in the one-sector calibration of Dekle, Eaton and Kortum (2008), so each economy's sales
   (domestic plus exports) add up to its GDP. Yotov et al. (2016, chapter 2) use gross output
   less exports where gross output is known; GDP counts services and leaves out intermediate
   inputs, so the domestic shares of spending are those of the whole economy (the US buys
   10.7% of what it spends from abroad here), higher than goods-only ones.
2. Split over HS chapters 01-97 in proportion to ``j``'s imports of each chapter in
   ``demo-2024``: every chapter has the same import share of ``j``'s spending. Chapters 98 and
   99 (US special classification provisions, in US imports only) get none.
3. Whole dollars, each economy's chapters adding up to its rounded total exactly (largest
   remainder).

ROW's domestic sales hold its trade with itself too, which ``demo-2024`` leaves out. The file
has a row for every domestic cell of ``demo-2024`` (16 economies x 98 products, zeros
included, so that every cell of the diagonal is flagged ``imputed``); ``method`` is
``gdp_less_exports+import_mix``.

References
----------
Dekle, R., Eaton, J. and Kortum, S. (2008). Global rebalancing with gravity: measuring the
burden of adjustment. IMF Staff Papers 55(3), 511-540.
Yotov, Y. V., Piermartini, R., Monteiro, J.-A. and Larch, M. (2016). An Advanced Guide to Trade
Policy Analysis: The Structural Gravity Model. WTO and UNCTAD.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from build_demo_2024 import round_preserving_sum  # the same whole-dollar rounding as the trade cells

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tradesim" / "data"
TRADE = DATA / "demo-2024.csv"
OUT = DATA / "demo-2024-domestic.csv"
CHAPTERS = [f"{c:02d}" for c in range(1, 98) if c != 77]
SPECIAL = ["98", "99"]  # US special classification provisions: products of demo-2024, with no domestic sales
METHOD = "gdp_less_exports+import_mix"


def domestic_totals(trade: pd.DataFrame, gdp: pd.Series) -> pd.DataFrame:
    """Per economy: GDP, exports in `trade` and domestic sales (GDP - exports, whole dollars), USD."""
    exports = trade[trade.exporter != trade.importer].groupby("exporter")["value"].sum()
    countries = list(dict.fromkeys(trade["exporter"]))
    missing = sorted(set(countries) - set(gdp.index))
    if missing:
        raise SystemExit(f"{DATA / 'facts_gdp_2024.csv'}: no GDP for {missing}; every economy of demo-2024 needs one")
    table = pd.DataFrame({"gdp_usd": gdp.reindex(countries).astype(float),
                          "exports_usd": exports.reindex(countries, fill_value=0).astype(float)})
    table["domestic_usd"] = (table["gdp_usd"] - table["exports_usd"]).round()
    short = table[table["domestic_usd"] <= 0]
    if len(short):
        raise SystemExit(f"exports exceed GDP for {list(short.index)}: GDP - exports must be positive")
    return table


def build() -> pd.DataFrame:
    sys.path.insert(0, str(ROOT))  # the package in this checkout, not an installed one
    try:
        from tradesim.data import gdp_2024
    finally:
        sys.path.pop(0)
    trade = pd.read_csv(TRADE, dtype={"exporter": str, "importer": str, "product": str})
    totals = domestic_totals(trade, gdp_2024()["value_usd"])
    imports = (trade[(trade.exporter != trade.importer) & trade["product"].isin(CHAPTERS)]
               .groupby(["importer", "product"])["value"].sum().unstack("product")
               .reindex(index=totals.index, columns=CHAPTERS, fill_value=0).fillna(0.0))
    frames = []
    for country, row in totals.iterrows():
        weights = imports.loc[country].to_numpy(float)
        cells = round_preserving_sum(row["domestic_usd"] * weights / weights.sum(), int(row["domestic_usd"]))
        frames.append(pd.DataFrame({"exporter": country, "importer": country, "product": CHAPTERS + SPECIAL,
                                    "value": np.append(cells, [0, 0]).astype("int64"), "imputed": True,
                                    "method": METHOD}))
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    frame = build()
    if args.check:
        committed = pd.read_csv(OUT, dtype={"product": str})
        same = committed.equals(frame)
        print(f"{OUT.name} is up to date" if same else f"{OUT.name} differs from a fresh build")
        return 0 if same else 1
    frame.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(frame)} cells, {frame.value.sum() / 1e12:.3f} tn USD)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
