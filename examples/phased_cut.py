"""
A phased cut against the April peak held
========================================

A phased cut against the status quo: the US tariff on China from 145% to 30%, and China's on the
US from 125% to 10%, in three 90-day steps.

The status quo holds both sides at their April 2025 peak (the bundled ``april-peak`` scenario). Both
run on the same months, so the gap between the lines is what the phased cut is worth.

Run: ``python examples/phased_cut.py`` (writes ``phased_cut.png`` in the current folder).
"""

import dataclasses
import warnings

import matplotlib.pyplot as plt

import tradesim

cut = tradesim.load_scenario("phased-cut")
status_quo = dataclasses.replace(tradesim.load_scenario("april-peak"), start=cut.start, end=cut.end,
                                 frequency=cut.frequency, reference=cut.reference)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # the run's notes are in result.notes
    phased = tradesim.simulate(None, cut)
    held = tradesim.simulate(None, status_quo)

pairs = [("CHN", "USA"), ("USA", "CHN")]
fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
phased.plot.trade_path("tariff", pairs, against=held, ax=left)
phased.plot.trade_path("imports", pairs, against=held, ax=right)
left.set_title("Tariff: phased cut (solid) against the April peak held (dashed)")
right.set_title("Imports: phased cut (solid) against the April peak held (dashed)")
fig.savefig("phased_cut.png", dpi=120)

# Trade gained over the two years: monthly annual rates times each month's share of a year.
gap = phased.compare(held).set_index(["date", "exporter", "importer"])["imports_usd_diff"]
years = ((phased.period_ends - phased.dates).days / 365.25).to_numpy()
for exporter, importer in pairs:
    total = (gap.xs((exporter, importer), level=["exporter", "importer"]).to_numpy() * years).sum() / 1e9
    print(f"{importer} imports from {exporter}, 2025-26: {total:+,.0f} bn USD against the held peak")
print("wrote phased_cut.png")
