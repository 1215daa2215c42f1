"""The scenario path's faster steps (issue 22) give what the straightforward ones give: the plan's weights and
means formed once, tariffs read on the law's cells, one path for flows and quantities, the kernel's weights
given once."""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.ensemble import moving_cells
from tradesim.scenario.dynamics import adjustment_weights, partial_adjustment
from tradesim.scenario.plan import compile_plan


@pytest.fixture(scope="module")
def china(us_china):
    s, b = us_china
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return s, b, compile_plan(b, s, "pe", None, {"domestic": False})


def test_plan_means_on_products_are_the_parts_means(china):
    _, _, plan = china
    rng = np.random.default_rng(0)
    values = rng.random(plan.flows.shape)
    assert np.allclose(plan.collapse(values), plan.split.collapse(values), rtol=1e-12, atol=0)
    for kind, w in (("flows", plan.flows), ("spending", plan.flows * (1 + plan.t0))):
        assert np.allclose(plan.collapse(values, kind), plan.split.collapse(values, w), rtol=1e-12, atol=0)
        assert np.allclose(plan.weights(kind, on_products=True), plan.split.collapse(w), rtol=1e-12, atol=0)
    assert plan.collapse(np.broadcast_to(1.0, plan.flows.shape), "flows").min() == 1.0  # a mean of ones is one


def test_tariffs_on_cells_are_the_dense_tariffs(china):
    _, _, plan = china
    rates = plan.rates.reshape(plan.n_regimes, -1)
    cells = np.random.default_rng(1).integers(0, plan.flows.size, 500)
    assert np.array_equal(plan.rates_on(cells), rates[:, cells])
    regime = np.random.default_rng(2).integers(0, plan.n_regimes, 500)
    assert np.array_equal(plan.rates_on(cells, regime), rates[regime, cells])
    moving = ((rates != rates[0]).any(axis=0) & (plan.flows.reshape(-1) > 0)).sum()
    assert moving_cells(plan) == moving


def test_a_paths_quantities_are_its_flows_over_the_baselines(china):
    s, b, plan = china
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = tradesim.simulate(b, s, domestic=False)
    trade = b.flows > 0
    assert np.allclose((r.quantity * b.flows)[:, trade], r.flows[:, trade], rtol=1e-9, atol=0)
    assert np.array_equal(r.tariff_reference, plan.collapse(plan.t0, "flows"))
    # halted trade (China's purchase halts) is left out of the means over parts and days
    rates, open_share = plan.period_rates(open_share=True)
    share = plan.collapse(open_share, "flows")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = plan.collapse(np.where(open_share > 0, rates, 0.0) * open_share, "flows") / share
    mean = np.where(share > 0, mean, np.inf)  # all of a cell halted: the law's rate
    assert np.allclose(r.tariff, mean, rtol=1e-12, atol=1e-15)
    assert np.allclose(r.halted, 1 - share, rtol=0, atol=1e-12) and r.halted.max() > 0


def test_partial_adjustment_with_its_weights_given_once():
    rng = np.random.default_rng(3)
    targets = np.exp(rng.normal(size=(4, 6)))
    starts = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-04-10", "2025-07-01"])
    times = pd.date_range("2025-01-15", periods=12, freq="MS")
    w = adjustment_weights(starts, times, 1.5)
    assert w.shape == (12, 3) and (w[0] == 0).all()
    got = partial_adjustment(targets, starts, times, 1.5, log=True, weights=w)
    assert np.array_equal(got, partial_adjustment(targets, starts, times, 1.5, log=True))
    assert np.allclose(got[:, 0], partial_adjustment(targets[:, :1], starts, times, 1.5, log=True)[:, 0])
