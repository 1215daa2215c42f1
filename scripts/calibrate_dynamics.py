"""Fit the default trade elasticity and adjustment half-life to the 2025 US-China monthly path.

    python scripts/calibrate_dynamics.py [--quick]

The bundled scenario ``us-china-2025`` (the 2025-26 US-China measures on ``demo-2024``) is run
with partial adjustment for a grid of long-run elasticities ``sigma`` and half-lives, everything
else at its default. Each month's model flow (an annual rate) over the 2024 baseline is compared
with the month's year-on-year change in the Census series (``facts_us_china_monthly.csv``) for
April to December 2025, in both directions: the months after the first large rise, when tariffs
dominate. January to March are left out: imports from China rose ahead of the tariffs (+16% in
January) and US exports fell 9-18% before any retaliation. The fit minimises the sum of squared
differences in log points; the script prints the grid, the minimum, and the annual 2025 changes
at the minimum beside the actual ones (-29.7% and -25.8%).

The data alone leave a ridge (a higher sigma with a slower half-life fits about as well), so the
defaults come from the fit with the estimate of Fajgelbaum, Goldberg, Kennedy and Khandelwal
(2020), sigma = 2.53 with standard error 0.26, as a normal prior: the objective is
``SSE / (2 s2) + (sigma - 2.53)**2 / (2 * 0.26**2)``, with ``s2`` the residual variance of the
least-squares fit (its sum of squares over the months less two parameters).
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings
from importlib import resources

import numpy as np
import pandas as pd

import tradesim
from tradesim.scenario import dynamics
from tradesim.scenario.plan import compile_plan
from tradesim.simulate import parameters_for, run_plan

MONTHS = slice(3, 12)  # April to December 2025
FGKK_SIGMA, FGKK_SE = 2.53, 0.26  # Fajgelbaum, Goldberg, Kennedy and Khandelwal (2020)


def actual() -> dict[tuple[str, str], np.ndarray]:
    """Month-on-same-month-of-2024 ratios for 2025, by (exporter, importer)."""
    with resources.files("tradesim.data").joinpath("facts_us_china_monthly.csv").open() as fh:
        f = pd.read_csv(fh)
    out = {}
    for (e, i), g in f.groupby(["exporter", "importer"]):
        v = g.set_index("month")["value_usd"]
        out[(e, i)] = np.array([v[f"2025-{m:02d}"] / v[f"2024-{m:02d}"] for m in range(1, 13)])
    return out


def model_path(scenario, baseline, sigma: float, half_life: float) -> dict[tuple[str, str], np.ndarray]:
    """Monthly flows of 2025 over the baseline, by pair, for one sigma and half-life."""
    s = dataclasses.replace(scenario, dynamics=dataclasses.replace(scenario.dynamics, adjustment="partial",
                                                                   half_life_months=half_life))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(baseline, s, "pe", None, {})
    out = run_plan(plan, parameters_for(plan.spec, tradesim.Elasticities.defaults().with_values(sigma=sigma),
                                        baseline), keep=("flows",), by_pair=True)
    flows = out["flows"]  # [time, i, j]
    ex, im = list(baseline.exporters), list(baseline.importers)
    res = {}
    for e, i in (("CHN", "USA"), ("USA", "CHN")):
        a, b = ex.index(e), im.index(i)
        res[(e, i)] = flows[:12, a, b] / baseline.flows[:, a, b].sum()
    return res


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a coarse grid")
    args = parser.parse_args(argv)
    scenario = tradesim.load_scenario("us-china-2025")
    baseline = scenario.load_baseline()
    target = actual()
    sigmas = np.arange(2.0, 3.51, 0.5 if args.quick else 0.125)
    halves = [1.0, 2.0, 3.0] if args.quick else [1.0, 1.5, 2.0, 2.5, 3.0, 4.0]
    rows = []
    for sigma in sigmas:
        for half in halves:
            m = model_path(scenario, baseline, float(sigma), half)
            sse = sum(float(((np.log(m[k]) - np.log(target[k]))[MONTHS] ** 2).sum()) for k in target)
            rows.append({"sigma": sigma, "half_life_months": half, "sse": sse,
                         "imports_2025_pct": 100 * (m[("CHN", "USA")].mean() - 1),
                         "exports_2025_pct": 100 * (m[("USA", "CHN")].mean() - 1)})
    table = pd.DataFrame(rows)
    n = 2 * len(range(12)[MONTHS])
    s2 = table["sse"].min() / (n - 2)
    table["objective"] = table["sse"] / (2 * s2) + (table["sigma"] - FGKK_SIGMA) ** 2 / (2 * FGKK_SE**2)
    pd.set_option("display.width", 120)
    print(table.round(3).to_string(index=False))
    for label, column in (("least squares", "sse"), ("with the FGKK prior (the defaults)", "objective")):
        best = table.loc[table[column].idxmin()]
        print(f"\n{label}: sigma = {best.sigma:g}, half-life = {best.half_life_months:g} months "
              f"(sum of squares {best.sse:.4f}); 2025 imports from China {best.imports_2025_pct:.1f}% (actual "
              f"{100 * (target[('CHN', 'USA')].mean() - 1):.1f}% as a mean of monthly ratios, -29.7% in annual "
              f"totals), exports {best.exports_2025_pct:.1f}% (actual {100 * (target[('USA', 'CHN')].mean() - 1):.1f}%,"
              " -25.8% in annual totals)")


if __name__ == "__main__":
    main()
