"""The partial-equilibrium core against closed forms, first-order results and bad input."""

import numpy as np
import pytest
from scipy.integrate import quad

from tradesim.errors import ConvergenceError, InputError
from tradesim.models.pe import smart, solve


def one_importer(rng, n_sources=4, n_products=3):
    """Flows into importer 0 only (no domestic sales), baseline tariffs and a random change."""
    n = n_sources + 1
    flows = np.zeros((n_products, n, n))
    flows[:, 1:, 0] = rng.lognormal(3, 1, (n_products, n_sources))
    t0 = np.zeros_like(flows)
    t0[:, 1:, 0] = rng.uniform(0, 0.3, (n_products, n_sources))
    t1 = t0.copy()
    t1[:, 1:, 0] = rng.uniform(0, 2.0, (n_products, n_sources))
    return flows, t0, t1


def ces_closed_form(flows, t0, t1, sigma, eta):
    """q-hat into importer 0 with fixed exporter prices, straight from the CES formulas."""
    v = flows[:, 1:, 0]
    s = v * (1 + t0[:, 1:, 0])
    s = s / s.sum(axis=1, keepdims=True)
    tau = (1 + t1[:, 1:, 0]) / (1 + t0[:, 1:, 0])
    if sigma == 1:
        P = np.exp((s * np.log(tau)).sum(axis=1, keepdims=True))
    else:
        P = (s * tau ** (1 - sigma)).sum(axis=1, keepdims=True) ** (1 / (1 - sigma))
    return (tau / P) ** (-sigma) * P ** (-eta), P[:, 0]


@pytest.mark.parametrize("sigma", [0.5, 1.0, 4.0, 20.0])
@pytest.mark.parametrize("eta", [0.0, 1.0, 3.0])
def test_infinite_supply_one_importer_is_the_ces_closed_form(sigma, eta):
    flows, t0, t1 = one_importer(np.random.default_rng(1))
    sol = solve(flows, t0, t1, sigma, eta, np.inf, domestic=False)
    q, P = ces_closed_form(flows, t0, t1, sigma, eta)
    np.testing.assert_allclose(sol.quantity[:, 1:, 0], q, rtol=1e-12)
    np.testing.assert_allclose(sol.price_index[:, 0], P, rtol=1e-12)
    np.testing.assert_array_equal(sol.exporter_price, 1.0)
    np.testing.assert_allclose(sol.pass_through[:, 1:, 0], 1.0, rtol=1e-12)


def test_sigma_and_eta_of_one_are_the_limits_of_nearby_values():
    flows, t0, t1 = one_importer(np.random.default_rng(2))
    at_one = solve(flows, t0, t1, 1.0, 1.0, 2.0, domestic=False)
    for delta in (1e-9, -1e-9):
        near = solve(flows, t0, t1, 1.0 + delta, 1.0 + delta, 2.0, domestic=False)
        np.testing.assert_allclose(near.quantity, at_one.quantity, rtol=1e-7)
        np.testing.assert_allclose(near.consumer_surplus, at_one.consumer_surplus, rtol=1e-7)


def test_pass_through_of_a_sole_supplier_is_epsilon_over_epsilon_plus_eta():
    # one source, one market: p**eps = (p tau)**-eta, so dlog pb / dlog tau = eps / (eps + eta)
    flows = np.zeros((3, 2, 2))
    flows[:, 0, 1] = 100.0
    t0 = np.zeros_like(flows)
    t1 = t0.copy()
    t1[:, 0, 1] = [0.1, 1.45, 20.0]
    eps, eta = 0.7, 2.5
    sol = solve(flows, t0, t1, 3.0, eta, eps, domestic=False)
    np.testing.assert_allclose(sol.pass_through[:, 0, 1], eps / (eps + eta), rtol=1e-9)


@pytest.mark.parametrize("eta", [0.0, 0.4, 1.0, 2.7])
def test_consumer_surplus_is_the_area_under_composite_demand(eta):
    flows, t0, t1 = one_importer(np.random.default_rng(3), n_products=2)
    sol = solve(flows, t0, t1, 3.0, eta, np.inf, domestic=False)
    expenditure = (flows * (1 + t0)).sum(axis=1)[:, 0]
    for k in range(2):
        area, _ = quad(lambda P: expenditure[k] * P ** (-eta), 1.0, sol.price_index[k, 0])
        assert sol.consumer_surplus[k, 0] == pytest.approx(-area, rel=1e-9)


def test_producer_surplus_is_the_area_left_of_supply():
    flows, t0, t1 = one_importer(np.random.default_rng(4), n_products=2)
    eps = 1.7
    sol = solve(flows, t0, t1, 3.0, 1.2, eps, domestic=False)
    sales = flows.sum(axis=2)
    for k in range(2):
        for i in range(1, flows.shape[1]):
            area, _ = quad(lambda p: sales[k, i] * p**eps, 1.0, sol.exporter_price[k, i])
            assert sol.producer_surplus[k, i] == pytest.approx(area, rel=1e-9)


def test_markets_clear_and_welfare_adds_up():
    rng = np.random.default_rng(5)
    K, n = 20, 6
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < 0.7)
    t0 = rng.uniform(0, 0.5, (K, n, n)) * ~np.eye(n, dtype=bool)
    t1 = rng.uniform(0, 3, (K, n, n)) * ~np.eye(n, dtype=bool)
    eps = rng.uniform(0.1, 5, (K, n))
    sol = solve(flows, t0, t1, rng.uniform(0.5, 20, (K, n)), rng.uniform(0, 5, (K, n)), eps)
    demand = (flows * sol.quantity).sum(axis=2)
    supply = flows.sum(axis=2) * sol.exporter_price**eps
    np.testing.assert_allclose(demand, supply, rtol=1e-9)
    assert sol.max_residual <= 1e-10
    revenue = (t1 * sol.flows_after).sum(axis=1) - (t0 * flows).sum(axis=1)
    np.testing.assert_allclose(sol.revenue_change, revenue)
    np.testing.assert_allclose(sol.welfare, sol.consumer_surplus + sol.producer_surplus + revenue)
    np.testing.assert_allclose(sol.flows_after, flows * sol.exporter_price[:, :, None] * sol.quantity)


def test_the_domestic_substitute_gains_when_every_import_is_taxed():
    flows = np.array([[[80.0, 20.0], [30.0, 120.0]]])
    tariff = np.array([[[0.0, 0.5], [0.5, 0.0]]])
    sol = solve(flows, np.zeros_like(flows), tariff, 3.0, 0.5, np.inf)
    assert sol.quantity[0, 0, 0] > 1 and sol.quantity[0, 1, 1] > 1
    assert sol.quantity[0, 0, 1] < 1 and sol.quantity[0, 1, 0] < 1
    # without the diagonal only imports are modelled and the diagonal is held fixed
    imports_only = solve(flows, np.zeros_like(flows), tariff, 3.0, 0.5, np.inf, domestic=False)
    assert imports_only.flows_after[0, 0, 0] == 80.0
    assert imports_only.quantity[0, 0, 1] == pytest.approx(1.5 ** -0.5)


def test_linear_error_falls_with_the_square_of_the_shock():
    rng = np.random.default_rng(6)
    K, n = 10, 5
    flows = rng.lognormal(3, 1, (K, n, n))
    t0 = rng.uniform(0, 0.3, (K, n, n)) * ~np.eye(n, dtype=bool)
    direction = rng.uniform(0, 1, (K, n, n)) * ~np.eye(n, dtype=bool)
    errors = []
    for h in (0.1, 0.01, 0.001):
        args = (flows, t0, t0 + h * direction, 3.0, 1.5, 2.0)
        exact, linear = solve(*args), solve(*args, method="linear")
        errors.append(np.abs(exact.quantity - linear.quantity).max())
    assert errors[0] / errors[1] > 50 and errors[1] / errors[2] > 50


def test_linear_is_the_gsim_first_order_system():
    # one sole supplier with elastic supply: dp = -eta dtau / (eps + eta), dq = -eta (dp + dtau)
    flows = np.zeros((1, 2, 2))
    flows[0, 0, 1] = 100.0
    t1 = np.zeros_like(flows)
    t1[0, 0, 1] = 0.2
    sol = solve(flows, np.zeros_like(flows), t1, 3.0, 2.0, 0.5, domestic=False, method="linear")
    dp = -2.0 * 0.2 / 2.5
    assert sol.exporter_price[0, 0] == pytest.approx(1 + dp)
    assert sol.quantity[0, 0, 1] == pytest.approx(1 - 2.0 * (dp + 0.2))
    assert sol.iterations == 0 and sol.method == "linear"
    assert sol.max_residual > 0  # the exact equations do not hold at the linear answer


def test_smart_matches_the_wits_formulas():
    M = np.array([[100.0, 60.0, 40.0]])
    t0 = np.array([[0.1, 0.1, 0.1]])
    t1 = np.array([[0.0, 0.1, 0.1]])
    sigma, eta = 1.5, 1.2
    r = smart(M, t0, t1, sigma, eta)
    np.testing.assert_allclose(r.trade_creation, [[eta * 100 * 0.1 / 1.1, 0, 0]])
    fall = 1 - 1 / 1.1  # the beneficiary's price relative to the unchanged rest
    gain = 100 * 100 * sigma * fall / (100 + 100 + 100 * sigma * fall)
    np.testing.assert_allclose(r.trade_diversion, [[gain, -gain * 0.6, -gain * 0.4]])
    assert r.trade_diversion.sum() == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(r.revenue_after, t1 * (M + r.trade_total))
    np.testing.assert_allclose(r.welfare, (t0 + t1) / 2 * r.trade_total)


def test_exact_model_gives_smart_creation_and_diversion_to_first_order():
    M = np.array([100.0, 50.0, 30.0, 20.0])
    flows = np.zeros((1, 5, 5))
    flows[0, 1:, 0] = M
    gaps = []
    for h in (1e-2, 1e-3):
        t0 = np.zeros_like(flows)
        t0[0, 1:, 0] = 0.1
        t1 = t0.copy()
        t1[0, 1, 0] -= h
        exact = solve(flows, t0, t1, 1.5, 1.0, np.inf, domestic=False)
        wits = smart(M[None], t0[0, 1:, 0][None], t1[0, 1:, 0][None], 1.5, 1.0)
        scale = np.abs(wits.trade_diversion).max()
        gaps.append(max(
            abs(exact.creation_by_importer[0, 0] - wits.trade_creation.sum()) / wits.trade_creation.sum(),
            np.abs(exact.trade_diversion[0, 1:, 0] - wits.trade_diversion[0]).max() / scale,
        ))
        assert exact.diversion_by_importer[0, 0] == pytest.approx(exact.trade_diversion[0, 1, 0])
    assert gaps[1] < 0.02 and gaps[0] / gaps[1] > 5  # the gap is proportional to the shock


def test_draw_axis_equals_separate_solves():
    flows, t0, t1 = one_importer(np.random.default_rng(7))
    sigmas = np.array([0.8, 2.0, 6.0])
    together = solve(flows, t0, t1, sigmas[:, None, None], 1.0, 1.5, domestic=False)
    assert together.quantity.shape == (3, *flows.shape)
    for d, s in enumerate(sigmas):
        alone = solve(flows, t0, t1, s, 1.0, 1.5, domestic=False)
        np.testing.assert_allclose(together.quantity[d], alone.quantity, rtol=1e-10)
        np.testing.assert_allclose(together.welfare[d], alone.welfare, rtol=1e-9, atol=1e-9)


def test_extreme_corners_converge():
    rng = np.random.default_rng(8)
    K, n = 60, 6
    flows = rng.lognormal(3, 2, (K, n, n)) * (rng.random((K, n, n)) < 0.6)
    t1 = rng.choice([0.0, 20.0], (K, n, n)) * ~np.eye(n, dtype=bool)
    for sigma, eta, eps in [(0.5, 5.0, 0.1), (20.0, 0.0, 0.1), (20.0, 5.0, np.inf), (0.5, 0.0, 1e6)]:
        sol = solve(flows, np.zeros_like(t1), t1, sigma, eta, eps)
        assert sol.max_residual <= 1e-10
        assert np.isfinite(sol.welfare).all()


def test_convergence_error_carries_diagnostics():
    rng = np.random.default_rng(9)
    flows = rng.lognormal(3, 2, (5, 4, 4))
    t1 = np.full(flows.shape, 20.0) * ~np.eye(4, dtype=bool)
    with pytest.raises(ConvergenceError) as err:
        solve(flows, np.zeros_like(t1), t1, 0.5, 5.0, 0.1, max_iter=1)
    assert err.value.residual > err.value.tol == 1e-10
    assert err.value.iterations == 1
    assert "did not converge in 1 Newton iterations" in str(err.value)


def test_a_tolerance_below_rounding_error_is_reported_not_met_silently():
    flows, t0, t1 = one_importer(np.random.default_rng(10))
    with pytest.raises(ConvergenceError, match="rounding error") as err:
        solve(flows, t0, t1, 3.0, 1.0, 0.5, domestic=False, tol=1e-300)
    assert 0 < err.value.residual < 1e-12


def test_a_product_without_trade_stays_put():
    flows = np.zeros((2, 3, 3))
    flows[1] = [[5, 1, 2], [3, 4, 1], [2, 2, 6]]
    t1 = np.full(flows.shape, 0.5) * ~np.eye(3, dtype=bool)
    sol = solve(flows, np.zeros_like(t1), t1, 2.0, 1.0, 1.0)
    np.testing.assert_array_equal(sol.quantity[0], 1.0)
    np.testing.assert_array_equal(sol.welfare[0], 0.0)


# ------------------------------------------------------------------ bad input


def base_args(K=2, n=3):
    flows = np.ones((K, n, n))
    zeros = np.zeros_like(flows)
    return dict(flows=flows, tariff_before=zeros, tariff_after=zeros, sigma=2.0, eta=1.0, epsilon=1.0)


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"tariff_after": np.zeros((2, 3, 4))}, "tariff_after", "(2, 3, 4)"),
        ({"flows": np.ones((2, 3))}, "flows", "(2, 3)"),
        ({"flows": -np.ones((2, 3, 3))}, "flows", "negative"),
        ({"flows": np.full((2, 3, 3), np.nan)}, "flows", "NaN"),
        ({"tariff_before": np.full((2, 3, 3), np.nan)}, "tariff_before", "NaN"),
        ({"tariff_after": np.full((2, 3, 3), 25.0)}, "tariff_after", "from 0 to 20"),
        ({"sigma": 0.0}, "sigma", "> 0"),
        ({"sigma": -1.0}, "sigma", "> 0"),
        ({"sigma": np.nan}, "sigma", "NaN"),
        ({"eta": -0.1}, "eta", ">= 0"),
        ({"epsilon": 0.0}, "epsilon", "> 0"),
        ({"sigma": np.ones(5)}, "sigma", "(5,)"),
        ({"sigma": np.ones((4, 1, 1)), "eta": np.ones((3, 1, 1))}, "sigma/eta", "sigma has 4, eta has 3"),
    ],
)
def test_bad_input_names_the_argument_and_the_shapes(change, key, words):
    args = base_args()
    args.update(change)
    with pytest.raises(InputError) as err:
        solve(**args, domestic=False)
    assert err.value.key == key
    assert words in err.value.message


def test_domestic_needs_the_diagonal():
    args = base_args()
    args["flows"] = np.ones((2, 3, 3)) * ~np.eye(3, dtype=bool)
    with pytest.raises(InputError, match="domestic=False"):
        solve(**args)
    args = base_args()
    args["tariff_after"] = np.full((2, 3, 3), 0.1)
    with pytest.raises(InputError, match="own sales"):
        solve(**args)


def test_smart_rejects_mismatched_shapes():
    with pytest.raises(InputError, match=r"\(1, 3\), \(1, 2\)"):
        smart([[1.0, 2.0, 3.0]], [[0.0, 0.0]], [[0.0, 0.0, 0.0]], 1.5, 1.0)


def test_log_sum_exp_is_exact_far_outside_the_range_of_exp():
    from scipy.special import logsumexp

    from tradesim.models.pe import _softmax

    z = np.array([[[800.0, 1.0], [799.0, -np.inf]], [[-900.0, -np.inf], [-901.0, -np.inf]]])
    present = np.array([[[True, True]], [[True, False]]])
    lse, shares = _softmax(z.copy(), axis=1, present=present)
    with np.errstate(divide="ignore"):
        expected = logsumexp(z, axis=1, keepdims=True)
    np.testing.assert_allclose(lse, expected, rtol=1e-14)
    np.testing.assert_allclose(shares[0, :, 0], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)], rtol=1e-14)
    np.testing.assert_array_equal(shares[1, :, 1], 0.0)
