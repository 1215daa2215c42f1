"""
General-equilibrium welfare at the peak and after the truce
===========================================================

Real income across countries in general equilibrium at the April 2025 peak of the US-China tariff
war, and after the Geneva truce.

The GE model needs each economy's spending on its own goods, which trade data lack. The bundled
``demo-2024`` baseline carries them imputed on its diagonal (GDP less goods exports, see
``tradesim.data`` and ``baseline.provenance["domestic"]``). This example sums its chapters into one
sector; tariffs are evaluated by chapter and averaged with 2024 trade weights.

Run: ``python examples/ge_welfare.py`` (writes ``ge_welfare.png`` in the current folder).
"""

import warnings

import matplotlib.pyplot as plt

import tradesim

chapters = tradesim.load_baseline("demo-2024")
goods = {chapter: "goods" for chapter in chapters.products}  # every chapter into one sector
baseline = chapters.aggregate(products=goods)
print("domestic sales:", baseline.provenance["domestic"][:60], "...")

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
