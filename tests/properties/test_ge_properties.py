"""Invariants of the general-equilibrium model: theta 0.5-20, tariffs up to 300% (2025 peaked at 145%)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim.models import ge

THETA = st.floats(0.5, 20.0)
CLOSURE = st.sampled_from(["fixed", "share"])


def economy(seed, S=2, n=5, max_rate=3.0, links=False):
    """Random sparse flows with domestic sales, tariffs, and (optionally) input-output shares."""
    rng = np.random.default_rng(seed)
    off = ~np.eye(n, dtype=bool)
    f = rng.lognormal(2, 1.5, (S, n, n)) * (rng.random((S, n, n)) < 0.7)
    # trade roughly balanced, as in the data (deficits of a few percent of GDP): a symmetric
    # pattern with noise; fixed deficits far larger than that can leave no equilibrium
    f = (f + f.swapaxes(1, 2)) / 2 * rng.uniform(0.8, 1.25, f.shape)
    f[:, np.arange(n), np.arange(n)] += rng.lognormal(4, 1, (S, n))
    t0 = rng.uniform(0, 0.5, f.shape) * off
    t1 = rng.uniform(0, max_rate, f.shape) * (rng.random(f.shape) < 0.5) * off
    beta = gamma = None
    if links:
        spend, output = f.sum(axis=1), f.sum(axis=2)
        u = rng.uniform(0.2, 0.6, (S, n))
        phi = 0.9 * (spend.sum(axis=0) / (0.6 * output.sum(axis=0))).min()
        gamma = phi * (spend / spend.sum(axis=0))[:, None, :] * u[None]
        beta = 1 - gamma.sum(axis=0)
    return f, t0, t1, beta, gamma


settings.register_profile("ge", max_examples=40, deadline=None)


@settings(settings.get_profile("ge"))
@given(st.integers(0, 2**31), THETA, CLOSURE, st.booleans())
def test_no_change_gives_no_change(seed, theta, closure, links):
    f, t0, _, beta, gamma = economy(seed, links=links)
    sol = ge.solve_sectors(f, None, t0, t0, theta=theta, deficits=closure, value_added=beta, io=gamma)
    np.testing.assert_allclose(sol.wage, 1.0, rtol=1e-11)
    np.testing.assert_allclose(sol.welfare, 1.0, rtol=1e-11)
    np.testing.assert_allclose(sol.flows_after, f, rtol=1e-10, atol=1e-12 * f.sum())


@settings(settings.get_profile("ge"))
@given(st.integers(0, 2**31), THETA, CLOSURE, st.booleans())
def test_markets_clear_and_income_is_spending_less_deficit(seed, theta, closure, links):
    f, t0, t1, beta, gamma = economy(seed, links=links)
    sol = ge.solve_sectors(f, None, t0, t1, theta=theta, deficits=closure, value_added=beta, io=gamma)
    assert sol.max_residual <= 1e-12
    b = np.ones(f.shape[::2]) if beta is None else beta  # [s, i]
    value_added = (b * sol.flows_after.sum(axis=2)).sum(axis=0)
    np.testing.assert_allclose(value_added, sol.wage * (b * f.sum(axis=2)).sum(axis=0), rtol=1e-10)
    spending = (sol.flows_after * (1 + t1)).sum(axis=1)  # [s, j]
    inter = 0 if gamma is None else np.einsum("skj,kj->sj", gamma, sol.flows_after.sum(axis=2))
    np.testing.assert_allclose((spending - inter).sum(axis=0), sol.income_after + sol.deficit_after, rtol=1e-10)
    assert abs(sol.deficit_after.sum()) <= 1e-9 * f.sum()


@settings(settings.get_profile("ge"))
@given(st.integers(0, 2**31), THETA, CLOSURE, st.floats(1.0, 1e3))
def test_homogeneous_of_degree_zero_in_prices(seed, theta, closure, scale):
    f, t0, t1, _, _ = economy(seed, S=1)
    world = ge.solve(f[0], None, t0[0], t1[0], theta=theta, deficits=closure)
    wage = ge.solve(f[0], None, t0[0], t1[0], theta=theta, deficits=closure, numeraire=("wage", 1))
    scaled = ge.solve(scale * f[0], None, t0[0], t1[0], theta=theta, deficits=closure)  # units of account
    np.testing.assert_allclose(wage.welfare, world.welfare, rtol=1e-10)
    np.testing.assert_allclose(wage.wage * world.wage[1], world.wage, rtol=1e-10)
    np.testing.assert_allclose(scaled.welfare, world.welfare, rtol=1e-10)
    np.testing.assert_allclose(scaled.flows_after, scale * world.flows_after, rtol=1e-10)


@settings(settings.get_profile("ge"))
@given(st.integers(0, 2**31), THETA, st.floats(0.05, 20.0), st.integers(0, 4), st.integers(0, 3))
def test_a_tariff_cuts_the_importers_share_from_its_target(seed, theta, rate, importer, k):
    f, _, _, _, _ = economy(seed, S=1)
    f = f[0]
    target = [c for c in range(5) if c != importer][k]
    f[target, importer] += 1.0  # some trade to tax
    t1 = np.zeros_like(f)
    t1[target, importer] = rate
    sol = ge.solve(f, None, None, t1, theta=theta)
    share = lambda x: x[target, importer] / x[:, importer].sum()  # noqa: E731
    assert share(sol.flows_after) < share(f)
