"""Invariants of the partial-equilibrium model over the documented parameter ranges."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim.models.pe import solve

# sigma 0.5-20, eta 0-5, epsilon 0.1-inf, tariffs 0-2,000%
SIGMA = st.floats(0.5, 20.0)
ETA = st.floats(0.0, 5.0)
EPSILON = st.one_of(st.floats(0.1, 50.0), st.just(np.inf))


def market(seed, K=3, n=4, domestic=True, max_rate=20.0):
    """Random sparse flows (seeded) with random baseline and new tariffs."""
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < 0.7)
    off = ~np.eye(n, dtype=bool)
    if domestic:
        flows[:, np.arange(n), np.arange(n)] += rng.lognormal(4, 1, (K, n))
    t0 = rng.uniform(0, 0.5, (K, n, n)) * off
    t1 = rng.uniform(0, max_rate, (K, n, n)) * (rng.random((K, n, n)) < 0.5) * off
    return flows, t0, t1


settings.register_profile("pe", max_examples=60, deadline=None)
settings.load_profile("pe")


@given(st.integers(0, 2**31), SIGMA, ETA, EPSILON)
def test_no_tariff_change_gives_no_change(seed, sigma, eta, eps):
    flows, t0, _ = market(seed)
    sol = solve(flows, t0, t0, sigma, eta, eps)
    np.testing.assert_allclose(sol.quantity, 1.0, rtol=1e-12)
    np.testing.assert_allclose(sol.exporter_price, 1.0, rtol=1e-12)
    np.testing.assert_allclose(sol.welfare, 0.0, atol=1e-9 * flows.sum())


@given(st.integers(0, 2**31), SIGMA, ETA, EPSILON, st.floats(0.0, 20.0))
def test_raising_one_tariff_never_raises_that_pairs_quantity(seed, sigma, eta, eps, rise):
    flows, t0, t1 = market(seed, max_rate=2.0)
    base = solve(flows, t0, t1, sigma, eta, eps)
    k, i, j = 0, 1, 2
    flows[k, i, j] += 10.0  # make sure the pair trades
    base = solve(flows, t0, t1, sigma, eta, eps)
    higher = t1.copy()
    higher[k, i, j] = min(20.0, t1[k, i, j] + rise)
    raised = solve(flows, t0, higher, sigma, eta, eps)
    assert raised.quantity[k, i, j] <= base.quantity[k, i, j] * (1 + 1e-9)


@given(st.integers(0, 2**31), SIGMA, ETA, st.floats(0.1, 50.0), st.booleans())
def test_market_clearing_holds_at_the_solution(seed, sigma, eta, eps, domestic):
    flows, t0, t1 = market(seed, domestic=domestic)
    sol = solve(flows, t0, t1, sigma, eta, eps, domestic=domestic)
    v = flows if domestic else flows * ~np.eye(flows.shape[1], dtype=bool)
    demand = (v * sol.quantity).sum(axis=2)
    supply = v.sum(axis=2) * sol.exporter_price**eps
    np.testing.assert_allclose(demand, supply, rtol=1e-9)


@given(st.integers(0, 2**31), SIGMA, ETA, EPSILON)
def test_results_do_not_depend_on_the_order_of_countries_or_products(seed, sigma, eta, eps):
    flows, t0, t1 = market(seed)
    rng = np.random.default_rng(seed + 1)
    pk, pc = rng.permutation(flows.shape[0]), rng.permutation(flows.shape[1])

    def shuffle(a):
        return a[pk][:, pc][:, :, pc]

    sol = solve(flows, t0, t1, sigma, eta, eps)
    perm = solve(shuffle(flows), shuffle(t0), shuffle(t1), sigma, eta, eps)
    # quantities are ratios to the baseline's; the solver's tolerance (1e-10) bounds their error in absolute terms
    np.testing.assert_allclose(perm.quantity, shuffle(sol.quantity), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(perm.welfare, sol.welfare[pk][:, pc], rtol=1e-8, atol=1e-8 * flows.sum())


@given(st.integers(0, 2**31), SIGMA, ETA, EPSILON)
def test_a_product_whose_every_pair_is_exempt_does_not_move(seed, sigma, eta, eps):
    flows, t0, t1 = market(seed)
    t1[1] = t0[1]  # product 1: every pair exempt from the change
    sol = solve(flows, t0, t1, sigma, eta, eps)
    np.testing.assert_allclose(sol.quantity[1], 1.0, rtol=1e-12)
    np.testing.assert_allclose(sol.welfare[1], 0.0, atol=1e-9 * flows.sum())
