"""Uncertainty bands: US imports from China on the 2025-26 path when the elasticities are uncertain.

Trade elasticities are estimated with wide error: this draws the long-run substitution elasticity
sigma from a lognormal around the default 2.0 (90% of draws between about 1.1 and 3.6) and keeps
eta at the default's share of it (1.3 / 2.0), so every draw has the same short-run path shape.
The fan shows the 5-95th and 25-75th percentiles and the median of each month.

Run: python examples/uncertainty.py  (writes uncertainty.png)
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

import tradesim

DRAWS = 24  # kept small so the example runs in seconds; the ensemble engine scales this up
rng = np.random.default_rng(2025)
sigma = rng.lognormal(mean=np.log(2.0), sigma=0.35, size=DRAWS)
draws = tradesim.Elasticities.defaults().with_values(
    sigma=sigma[:, None, None], eta=(0.65 * sigma)[:, None, None])  # [draw, product, importer]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # the run's notes are in result.notes
    result = tradesim.simulate(None, "us-china-2025", elasticities=draws)

fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
result.plot.fan("imports", ("CHN", "USA"), ax=left)
result.plot.fan("welfare", "USA", ax=right)
fig.savefig("uncertainty.png", dpi=120)

april = result.dates.get_loc(np.datetime64("2025-04-01"))
imports = result.flows[:, april, :, 1, 0].sum(axis=1) / 1e9  # [draw], USD bn per year
low, mid, high = np.quantile(imports, [0.05, 0.5, 0.95])
print(f"US imports from China in April 2025: median {mid:.0f} bn USD a year, 90% band {low:.0f} to {high:.0f}")
print("wrote uncertainty.png")
