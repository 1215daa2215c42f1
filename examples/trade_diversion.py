"""
Trade diversion at the April 2025 peak
======================================

Who replaces China in US imports at the April 2025 peak of the tariff war?

A single comparison (end of 2024 against 14 April 2025) with the long-run elasticities: left, the
change of US imports by partner; right, the import shares of the US by source before and after.

Run: ``python examples/trade_diversion.py`` (writes ``trade_diversion.png`` in the current folder).
"""

import warnings

import matplotlib.pyplot as plt

import tradesim

base = tradesim.load_baseline("demo-2024")
schedule = tradesim.load_schedule("us-china-2025")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # chapter data: measures cover some chapters in part
    peak = tradesim.simulate(base, (schedule, "2024-12-31"), (schedule, "2025-04-14"), domestic=False)

fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5), layout="constrained")
peak.plot.trade_change(importer="USA", ax=left)
peak.plot.diversion("USA", ax=right)
fig.savefig("trade_diversion.png", dpi=120)

table = peak.summary("pair")
us = table[table.importer == "USA"].set_index("exporter")
lost = us.loc["CHN", "imports_usd"] - us.loc["CHN", "imports_baseline_usd"]
gained = (us.imports_usd - us.imports_baseline_usd).drop("CHN")
print(f"US imports from China: {lost / 1e9:+.1f} bn USD; from everyone else: {gained.sum() / 1e9:+.1f} bn USD")
print(f"largest gainers: {', '.join(f'{c} {v / 1e9:+.1f}' for c, v in gained.nlargest(3).items())} (bn USD)")
print("wrote trade_diversion.png")
