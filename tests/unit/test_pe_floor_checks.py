"""The PE solve's cheaper range check (one reduction per array) and its leaner fixed point, against independent
answers: the two-reduction check, and scipy.optimize.root on each product's market clearing."""

import numpy as np
import pytest
from scipy.optimize import root

from tradesim.models import pe


def _problem(seed, K=40, n=12):
    """Dense flows with domestic sales, tariffs up to 15% and a two-way escalation, elasticities by product."""
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < 0.5)
    flows[:, np.arange(n), np.arange(n)] = 3 * flows.sum(axis=1) + 1.0
    off = ~np.eye(n, dtype=bool)
    t0 = rng.uniform(0, 0.15, flows.shape) * off
    t1 = t0.copy()
    t1[:, 0, 1] += 1.45
    t1[:, 1, 0] += 1.25
    sigma = rng.uniform(1.5, 8.0, (K, 1))
    eta = rng.uniform(0.3, 1.5, (K, 1))
    epsilon = rng.uniform(0.5, 5.0, (K, n))
    return flows, t0, t1, sigma, eta, epsilon


def _scipy_prices(flows, t0, t1, sigma, eta, epsilon):
    """Exporter prices ``[product, exporter]``: scipy.optimize.root on each product's log market clearing (the
    model as `tradesim.models.pe` states it, domestic sales a source)."""
    out = np.ones(flows.shape[:2])
    for k in range(flows.shape[0]):
        v, sg, et, ep = flows[k], sigma[k, 0], eta[k, 0], epsilon[k]
        share = v * (1 + t0[k])
        share = share / share.sum(axis=0)
        tau = (1 + t1[k]) / (1 + t0[k])
        sales = v.sum(axis=1)

        def residual(x):
            pb = np.exp(x)[:, None] * tau
            P = (share * pb ** (1 - sg)).sum(axis=0) ** (1 / (1 - sg))
            q = (pb / P) ** (-sg) * P ** (-et)
            return np.log((v * q).sum(axis=1) / sales) - ep * x

        sol = root(residual, np.zeros(len(sales)), method="hybr", tol=1e-12)
        assert np.abs(residual(sol.x)).max() < 1e-12  # (hybr may stop "not making progress" at rounding level)
        out[k] = np.exp(sol.x)
    return out


def test_one_reduction_check_agrees_with_the_two_reduction_check():
    rng = np.random.default_rng(0)
    specials = [np.nan, -np.nan, np.inf, -np.inf, -1e-300, 5e-324, 20.0, np.nextafter(20.0, 21.0), 1e308, 0.0]
    for trial in range(400):
        a = rng.uniform(0, 20, rng.integers(0, 50))
        if a.size and trial % 2:
            a[rng.integers(0, a.size)] = specials[trial // 2 % len(specials)]
        for high in (pe.MAX_RATE, pe._LARGEST):
            assert pe._up_to(a, high) == pe._within(a, 0.0, high), (a, high)
    # not contiguous, or not float64: the two-reduction check itself
    b = rng.uniform(0, 20, (6, 8))
    assert pe._up_to(b[:, ::2], pe.MAX_RATE) and pe._up_to(b.astype(np.float32), pe.MAX_RATE)
    # -0.0 is in range, but refused by the one-reduction check (its sign bit): the caller's full check decides
    assert pe._within(np.array([-0.0]), 0.0, pe.MAX_RATE) and not pe._up_to(np.array([-0.0]), pe.MAX_RATE)


def test_prices_match_scipy_per_product():
    flows, t0, t1, sigma, eta, epsilon = _problem(3)
    sol = pe.solve(flows, t0, t1, sigma, eta, epsilon)
    assert sol.max_residual <= 1e-10
    want = _scipy_prices(flows, t0, t1, sigma, eta, epsilon)
    np.testing.assert_allclose(sol.exporter_price, want, rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", ["tariff_before", "flows"])
def test_negative_zero_takes_the_full_check_and_solves_the_same(name):
    # -0.0 fails the one-reduction check of a chunk's part: the inputs are checked whole and the chunk solved again
    flows, t0, t1, sigma, eta, epsilon = _problem(4)
    args = {"flows": flows, "tariff_before": t0}
    signed = args[name].copy()
    zero = np.argwhere(signed == 0.0)[5]
    signed[tuple(zero)] = -0.0
    assert np.signbit(signed).any()
    plain = pe.solve(flows, t0, t1, sigma, eta, epsilon)
    args[name] = signed
    got = pe.solve(args["flows"], args["tariff_before"], t1, sigma, eta, epsilon)
    np.testing.assert_array_equal(got.exporter_price, plain.exporter_price)
    np.testing.assert_array_equal(got.quantity, plain.quantity)
    want = _scipy_prices(flows, t0, t1, sigma, eta, epsilon)
    np.testing.assert_allclose(got.exporter_price, want, rtol=1e-9, atol=0)


@pytest.mark.parametrize("domestic", [True, False])
def test_revenue_in_welfare_matches_the_pair_arrays(domestic):
    # the fast path takes the new revenue as T' - sum_i c1 p**(1 - sigma) (c0 = c1 (1 + t1) cell by cell); the pair
    # arrays give it as sum_i t1 flows_after, cell by cell: welfare must be consumer + producer surplus + that change
    flows, t0, t1, sigma, eta, epsilon = _problem(5)
    t1 = t1.copy()
    t1[:, 2, 3] = np.inf  # a halt: no duty where nothing passes
    sol = pe.solve(flows, t0, t1, sigma + 1.0, eta, epsilon, domestic=domestic)
    assert sol.max_residual <= 1e-10
    want = sol.consumer_surplus + sol.revenue_change + sol.producer_surplus  # square: country c is exporter and importer c
    scale = (flows * (1 + t0)).sum(axis=1).max()
    np.testing.assert_allclose(sol.welfare, want, rtol=1e-9, atol=1e-12 * scale)
    assert np.abs(sol.revenue_change).max() > 1e-3 * scale  # the check is not empty
