"""Yotov et al. (2016), chapter 2, application 1, "Trade without borders", end to end.

Estimate PPML gravity with exporter and importer fixed effects on 2006 manufacturing trade
among 69 economies, take the fitted flows as the baseline, remove the international border,
solve the full-endowment general equilibrium with sigma = 7 (theta = 6) and Germany's
consumer price index as the numeraire, and compare with the guide's published changes
(shared/validation/yotov2016, README there).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradesim.models import ge

pytest.importorskip("statsmodels", reason="gravity estimation needs the optional statsmodels (tradesim[gravity])")
from tradesim.models.gravity import ppml  # noqa: E402

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "validation" / "yotov2016"
pytestmark = pytest.mark.skipif(not (FOLDER / "1_TradeWithoutBorder.dta").is_file(),
                                reason="shared/validation/yotov2016 is not beside this checkout")


@pytest.fixture(scope="module")
def fit():
    return ppml(pd.read_stata(FOLDER / "1_TradeWithoutBorder.dta"), ["ln_DIST", "CNTG", "INTL_BRDR"])


@pytest.fixture(scope="module")
def published():
    prod = pd.read_stata(FOLDER / "1_TradeWithoutBorder_FULL_PROD.dta").set_index("country")
    cons = pd.read_stata(FOLDER / "1_TradeWithoutBorder_FULL_CONS.dta").set_index("country")
    real_gdp = 100 * ((1 + prod["change_price_FULL"] / 100) / (1 + cons["change_IMR_FULL"] / 100) - 1)
    return pd.DataFrame({"real_gdp": real_gdp, "price": prod["change_price_FULL"]})


def solve(fit, deficits):
    codes = ["DEU" if c == "ZZZ" else c for c in fit.countries]  # the data code Germany ZZZ to sort it last
    d_hat = fit.trade_cost_change({"INTL_BRDR": 0.0}, theta=6.0)
    sol = ge.solve(fit.flows(), d_hat, theta=6.0, deficits=deficits, numeraire=("price_index", "DEU"),
                   countries=codes)
    return codes, sol


def test_ppml_estimates_are_the_guides(fit):
    # the guide's PPML column for this application: -0.791 (distance), 0.674 (contiguity), -2.474 (border)
    np.testing.assert_allclose(fit.coefficients[["ln_DIST", "CNTG", "INTL_BRDR"]], [-0.791, 0.674, -2.474],
                               atol=1e-3)


def test_real_gdp_changes_match_the_guide_within_one_point(fit, published):
    codes, sol = solve(fit, "share")  # the guide's closure: expenditure a fixed multiple of output
    ours = pd.Series(100 * (sol.welfare - 1), index=codes)
    gap = (ours - published["real_gdp"].reindex(codes)).abs()
    assert len(codes) == 69 and gap.notna().all()
    assert gap.max() < 1.0, gap.sort_values().tail()
    # the headline: everyone gains, from about 9% (Singapore) to about 72% (Nepal)
    assert ours.idxmin() == "SGP" and ours.idxmax() == "NPL" and 8 < ours.min() < 10 and 70 < ours.max() < 74
    prices = pd.Series(100 * (sol.wage - 1), index=codes) - published["price"].reindex(codes)
    assert prices.abs().max() < 1.0
    assert sol.max_residual <= 1e-12  # our markets clear; the gap is the guide's own iteration


def test_fixed_deficits_stay_close_to_the_guide(fit, published):
    codes, sol = solve(fit, "fixed")
    ours = pd.Series(100 * (sol.welfare - 1), index=codes)
    gap = (ours - published["real_gdp"].reindex(codes)).abs()
    assert gap.max() < 2.0
    assert np.corrcoef(ours, published["real_gdp"].reindex(codes))[0, 1] > 0.999
