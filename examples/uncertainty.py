"""
Uncertainty bands from elasticity draws
=======================================

The 2025-26 US-China path under 1,000 draws of the elasticities.

`tradesim.ensemble.run` draws the long-run substitution elasticity sigma and the composite demand
elasticity eta from their priors (``tradesim.priors().describe()`` lists them, with the papers
behind them) and solves every month of the scenario for all draws at once. The fans show the
5-95th and 25-75th percentiles and the median of each month.

Run: ``python examples/uncertainty.py`` (writes ``uncertainty.png`` in the current folder; about
15 s on two cores: each draw's path covers every tariff line the law tells apart, in closed form).
"""

import warnings

import matplotlib.pyplot as plt

import tradesim

with warnings.catch_warnings():
    warnings.simplefilter("ignore", tradesim.TradesimWarning)  # the run's notes are in result.notes
    result = tradesim.ensemble.run(None, "us-china-2025", draws=1000, seed=2025)

fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), layout="constrained")
result.plot.fan("value_change", ("CHN", "USA"), ax=left)
result.plot.fan("welfare", "USA", ax=right)
fig.savefig("uncertainty.png", dpi=120)

q = result.quantiles([0.05, 0.5, 0.95], pairs=[("CHN", "USA")], variables=["imports_usd"])
april = q[q["date"] == "2025-04-01"].iloc[0]
print(f"US imports from China in April 2025: median {april['p50'] / 1e9:.0f} bn USD a year, "
      f"90% band {april['p5'] / 1e9:.0f} to {april['p95'] / 1e9:.0f} ({result.n_draws} draws)")
print("wrote uncertainty.png")
