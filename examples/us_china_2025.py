"""
The 2025-26 US-China tariff path and China's exemptions
=======================================================

The 2025-26 US-China tariff path, and what China's quiet exemptions were worth.

Left: the layers of US tariffs on Chinese goods, day by day, and the effective rate on the trade
that continued. Right: China's imports from the US on the actual path (with its April 2025
waivers for ethane, chips, medicines and aircraft parts) against the same path without them.

Run: ``python examples/us_china_2025.py`` (writes ``us_china_2025.png`` in the current folder).
"""

import warnings

import matplotlib.pyplot as plt

import tradesim

with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # the run's notes are in result.notes
    actual = tradesim.simulate(None, "us-china-2025")
    no_waivers = tradesim.simulate(None, "china-exemptions")
    # the scenario it is read against (us-china-2025) on its dates, which end in Dec 2025
    actual_2025 = tradesim.simulate(None, no_waivers.scenario.counterfactual())

fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
actual.plot.tariff_timeline("CHN", "USA", ax=left)
tradesim.plot.trade_path(actual_2025, "imports", [("USA", "CHN")], against=no_waivers, ax=right)
right.set_title("China's imports from the US\nwith its waivers (solid) and without them (dashed)")
fig.savefig("us_china_2025.png", dpi=120)

gap = actual_2025.compare(no_waivers).set_index(["date", "exporter", "importer"])
april = gap.loc[("2025-04-01", "USA", "CHN"), "imports_usd_diff"] / 1e9
print(f"China's waivers kept {april:.1f} bn USD a year of US goods flowing in April 2025")
print("wrote us_china_2025.png")
