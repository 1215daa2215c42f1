"""General-equilibrium welfare across countries at the April 2025 peak, and after the Geneva truce.

The GE model needs each economy's spending on its own goods, which trade data lack. This example
builds a one-sector baseline: the bundled chapter flows summed over products, with domestic sales
set to GDP less goods exports (IMF GDP; the rest of the world's GDP is imputed, see
`tradesim.data.gdp_2024`). Tariffs are evaluated by chapter and averaged with 2024 trade weights.

Run: python examples/ge_welfare.py  (writes ge_welfare.png)
"""

import warnings

import matplotlib.pyplot as plt

import tradesim
from tradesim.data import gdp_2024

chapters = tradesim.load_baseline("demo-2024")
goods = {chapter: "goods" for chapter in chapters.products}  # every chapter into one sector
one_sector = chapters.aggregate(products=goods)
gdp = gdp_2024()["value_usd"]
exports = dict(zip(one_sector.countries, one_sector.flows[0].sum(axis=1)))
baseline = one_sector.with_domestic({c: gdp[c] - exports[c] for c in one_sector.countries},
                                    method="GDP 2024 (IMF; ROW imputed) less goods exports")

schedule = tradesim.load_schedule("us-china-2025")
days = ["2024-12-31", "2025-04-14", "2025-06-01"]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # chapter data: measures cover some chapters in part
    by_chapter = schedule.rates_path(days, chapters.products, chapters.countries, chapters.countries)
reference, peak, truce = chapters.aggregate_rates(by_chapter, products=goods)  # [day, 1, exporter, importer]

results = {label: tradesim.simulate(baseline, reference, after, model="ge")
           for label, after in (("April 2025 peak", peak), ("after the Geneva truce", truce))}

fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained", sharex=True)
for ax, (label, result) in zip(axes, results.items()):
    result.plot.welfare(ax=ax)
    ax.set_title(f"Welfare by country (GE), {label}")
fig.savefig("ge_welfare.png", dpi=120)

for label, result in results.items():
    table = result.summary("country")
    print(f"{label}: real income " + ", ".join(f"{c} {table.loc[c, 'real_income_change_pct']:+.2f}%"
                                              for c in ("USA", "CHN", "VNM", "MEX")))
print("wrote ge_welfare.png")
