"""
Quick start: the bundled baseline and the April 2025 peak
=========================================================

Load the bundled 2024 baseline, look at US-China trade, and simulate the April 2025 peak of the
tariff war against the tariffs at the end of 2024.

Run: ``python examples/quickstart.py`` (writes ``quickstart.png`` in the current folder).
"""

import warnings

import tradesim
import tradesim.codes

base = tradesim.load_baseline("demo-2024")
print(base)
print(f"US imports from China: {base.trade('CHN', 'USA') / 1e9:.1f} bn USD")
print(f"US exports to China:   {base.trade('USA', 'CHN') / 1e9:.1f} bn USD")

# The five largest HS sections of US imports from China, in USD bn.
sections = base.aggregate(products="section")
k = sections.country_index
top = sorted(zip(sections.flows[:, k("CHN"), k("USA")], sections.products), reverse=True)[:5]
for value, section in top:
    print(f"  section {section:<5} {tradesim.codes.SECTIONS[section][0]:<45} {value / 1e9:6.1f}")

# The tariffs of the bundled schedule at the end of 2024 and at the April 2025 peak, long-run elasticities.
schedule = tradesim.load_schedule("us-china-2025")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # chapter data: measures cover some chapters in part
    result = tradesim.simulate(base, (schedule, "2024-12-31"), (schedule, "2025-04-14"), domestic=False,
                               fine_values="fine-values-2024")  # tariff-line values for the law's lists
pairs = result.summary("pair").set_index(["exporter", "importer"])
print(f"US imports from China at the April peak: {pairs.loc[('CHN', 'USA'), 'value_change_pct']:+.1f}% "
      f"(tariff {pairs.loc[('CHN', 'USA'), 'tariff_pct']:.0f}%)")

ax = result.plot.trade_change(importer="USA", figsize=(8, 5))
ax.figure.savefig("quickstart.png", dpi=120)
print("wrote quickstart.png")
