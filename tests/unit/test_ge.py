"""The general-equilibrium core against ACR, an independent nested solver, invariants and bad input."""

import numpy as np
import pytest
from scipy.optimize import root

from tradesim.errors import ConvergenceError, InputError
from tradesim.models import _hat, ge


def world(rng, n, sectors=None, domestic=20.0):
    """Random flows with large domestic sales; unbalanced trade (deficits) unless made symmetric."""
    shape = (n, n) if sectors is None else (sectors, n, n)
    f = rng.lognormal(0, 1, shape)
    diag = np.arange(n)
    f[..., diag, diag] *= domestic
    return f


def tariffs(rng, shape, high=0.5):
    t = rng.uniform(0, high, shape)
    n = shape[-1]
    t[..., np.arange(n), np.arange(n)] = 0
    return t


def links(rng, f):
    """Value-added and input shares that leave final demand positive for flows `f` [s, i, j]."""
    S, n, _ = f.shape
    spend = f.sum(axis=1)
    output = f.sum(axis=2)
    u = rng.uniform(0.3, 0.7, (S, n))
    phi = 0.9 * (spend.sum(axis=0) / (0.7 * output.sum(axis=0))).min()
    gamma = phi * (spend / spend.sum(axis=0))[:, None, :] * u[None]
    return 1 - gamma.sum(axis=0), gamma


def foreign(rng, shape, low, high):
    """Random trade-cost changes on international pairs only (ACR needs unchanged domestic costs)."""
    d = rng.uniform(low, high, shape)
    n = shape[-1]
    d[..., np.arange(n), np.arange(n)] = 1.0
    return d


def domestic_share(f):
    return np.einsum("...jj->...j", f) / f.sum(axis=-2)


# --------------------------------------------------------------------------- closed forms


def test_acr_one_sector_random_data_with_deficits():
    rng = np.random.default_rng(3)
    for n, theta in ((5, 4.0), (30, 8.28), (12, 2.0)):
        f = world(rng, n)
        d_hat = foreign(rng, (n, n), 0.7, 1.4)
        sol = ge.solve(f, d_hat, theta=theta)
        lam_hat = domestic_share(sol.flows_after) / domestic_share(f)
        np.testing.assert_allclose(sol.welfare, lam_hat ** (-1 / theta), rtol=1e-10)
        assert np.abs(sol.deficit_before).max() > 0.01 * f.sum() / n  # the data are unbalanced


def test_autarky_loses_lambda_to_the_one_over_theta():
    rng = np.random.default_rng(4)
    a = world(rng, 8)
    f = a + a.T  # balanced trade: autarky needs no deficits
    d_hat = np.where(np.eye(8, dtype=bool), 1.0, np.inf)
    sol = ge.solve(f, d_hat, theta=5.0)
    np.testing.assert_allclose(sol.welfare, domestic_share(f) ** (1 / 5.0), rtol=1e-10)
    assert (sol.flows_after[~np.eye(8, dtype=bool)] == 0).all()


def test_acr_many_sectors_without_links_is_the_product_of_sector_terms():
    rng = np.random.default_rng(5)
    f = world(rng, 6, sectors=4)
    theta = np.array([2.0, 4.0, 6.0, 12.0])
    sol = ge.solve_sectors(f, foreign(rng, f.shape, 0.8, 1.3), theta=theta)
    alpha = f.sum(axis=1) / f.sum(axis=(0, 1))
    lam_hat = domestic_share(sol.flows_after) / domestic_share(f)
    np.testing.assert_allclose(sol.welfare, np.prod(lam_hat ** (-alpha / theta[:, None]), axis=0), rtol=1e-10)


def test_one_sector_is_solve_sectors_with_one_sector():
    rng = np.random.default_rng(6)
    f = world(rng, 7)
    t1 = tariffs(rng, f.shape)
    a = ge.solve(f, None, None, t1, theta=5.0)
    b = ge.solve_sectors(f[None], None, None, t1[None], theta=5.0)
    np.testing.assert_allclose(a.welfare, b.welfare, rtol=1e-12)
    np.testing.assert_allclose(a.flows_after, b.flows_after[0], rtol=1e-12)


# --------------------------------------------------------------------------- independent solver


def nested_reference(f, t0, t1, d_hat, theta, beta, gamma):
    """Caliendo-Parro with fixed deficits, solved the textbook way, loops and all.

    For given wages: iterate the price indices to their fixed point, then solve the linear
    system for sector spending; `scipy.optimize.root` clears the labour markets.
    """
    S, n, _ = f.shape
    E = (f * (1 + t0)).sum(axis=1)
    pi = f * (1 + t0) / E[:, None, :]
    Y = f.sum(axis=2)
    VA = (beta * Y).sum(axis=0)
    inter = np.einsum("skj,kj->sj", gamma, Y)
    alpha = (E - inter) / (E - inter).sum(axis=0)
    D = f.sum(axis=(0, 1)) - f.sum(axis=(0, 2))
    kappa = d_hat * (1 + t1) / (1 + t0)

    def given(w):
        P = np.ones((S, n))
        for _ in range(2000):
            c = w**beta * np.exp(np.einsum("ksi,ki->si", gamma, np.log(P)))
            new = np.einsum("sij,sij->sj", pi, (kappa * c[:, :, None]) ** -theta[:, None, None]) ** (-1 / theta[:, None])
            if np.abs(new / P - 1).max() < 1e-15:
                break
            P = new
        c = w**beta * np.exp(np.einsum("ksi,ki->si", gamma, np.log(P)))
        pi_new = pi * (kappa * c[:, :, None] / P[:, None, :]) ** -theta[:, None, None]
        A = np.eye(S * n)
        b = np.zeros(S * n)
        world_gdp = (w * VA).sum() / VA.sum()
        for s in range(S):
            for j in range(n):
                row = s * n + j
                b[row] = alpha[s, j] * (w[j] * VA[j] + D[j] * world_gdp)
                for k in range(S):  # intermediate demand: gamma[s, k, j] * Y'[k, j]
                    for dest in range(n):
                        A[row, k * n + dest] -= gamma[s, k, j] * pi_new[k, j, dest] / (1 + t1[k, j, dest])
                for sec in range(S):  # final demand out of tariff revenue
                    for src in range(n):
                        A[row, sec * n + j] -= alpha[s, j] * pi_new[sec, src, j] * t1[sec, src, j] / (1 + t1[sec, src, j])
        Enew = np.linalg.solve(A, b).reshape(S, n)
        Ynew = np.einsum("sij,sj->si", pi_new / (1 + t1), Enew)
        return P, pi_new, Enew, Ynew

    def excess(v):
        w = np.exp(v)
        _, _, _, Ynew = given(w)
        out = (beta * Ynew).sum(axis=0) / (w * VA) - 1
        out[-1] = np.log((w * VA).sum() / VA.sum())
        return out

    sol = root(excess, np.zeros(n), tol=1e-14)
    assert np.abs(excess(sol.x)).max() < 1e-12, sol.message
    w = np.exp(sol.x)
    P, pi_new, Enew, Ynew = given(w)
    revenue = np.einsum("sij,sj->j", pi_new * t1 / (1 + t1), Enew)
    price = np.exp((alpha * np.log(P)).sum(axis=0))
    welfare = (w * VA + revenue) / (VA + (f * t0).sum(axis=(0, 1))) / price
    return w, price, welfare


def test_links_and_tariffs_match_a_nested_fixed_point_solver():
    rng = np.random.default_rng(7)
    f = world(rng, 5, sectors=3, domestic=10.0)
    beta, gamma = links(rng, f)
    t0, t1 = tariffs(rng, f.shape, 0.2), tariffs(rng, f.shape, 0.8)
    d_hat = rng.uniform(0.8, 1.2, f.shape)
    theta = np.array([3.0, 5.0, 9.0])
    sol = ge.solve_sectors(f, d_hat, t0, t1, theta=theta, value_added=beta, io=gamma)
    w, price, welfare = nested_reference(f, t0, t1, d_hat, theta, beta, gamma)
    np.testing.assert_allclose(sol.wage, w, rtol=1e-9)
    np.testing.assert_allclose(sol.price_index, price, rtol=1e-9)
    np.testing.assert_allclose(sol.welfare, welfare, rtol=1e-9)
    assert sol.max_residual <= 1e-12


def test_nested_solver_without_links_matches_too():
    rng = np.random.default_rng(8)
    f = world(rng, 4, sectors=2)
    t1 = tariffs(rng, f.shape, 1.0)
    theta = np.array([4.0, 7.0])
    sol = ge.solve_sectors(f, None, None, t1, theta=theta)
    w, price, welfare = nested_reference(f, np.zeros_like(f), t1, np.ones_like(f), theta, np.ones((2, 4)),
                                         np.zeros((2, 2, 4)))
    np.testing.assert_allclose(sol.wage, w, rtol=1e-9)
    np.testing.assert_allclose(sol.welfare, welfare, rtol=1e-9)


@pytest.mark.parametrize("closure", ["fixed", "share"])
@pytest.mark.parametrize("linked", [False, True])
def test_analytic_jacobians_match_finite_differences(closure, linked):
    rng = np.random.default_rng(9)
    S, n = 3, 4
    f = world(rng, n, sectors=S)
    beta, gamma = links(rng, f) if linked else (None, None)
    names = ge._Names(None, n)
    b, g = ge._production(beta, gamma, S, n, names)
    t0, t1 = tariffs(rng, f.shape, 0.3)[None], tariffs(rng, f.shape)[None]
    economy = ge._economy(f[None], t0, t1, rng.uniform(0.8, 1.2, (1, S, n, n)), np.array([[3.0, 5.0, 8.0]]),
                          b, g, closure, names)
    system = (_hat.Linked if linked else _hat.Direct)(economy)
    N = n * (1 + 2 * S) if linked else n
    x = rng.normal(0, 0.1, (1, N))
    if linked:
        x[:, n + S * n:] += 1
    idx = np.array([0])
    J, rows = system.jacobian(x, idx)
    h = 1e-6
    numeric = np.stack([(system.residual(x + h * e, idx)[0] - system.residual(x - h * e, idx)[0]) / (2 * h)
                        for e in np.eye(N)], axis=1)  # every equation, the normalisation last
    assert numeric.shape == (N + 1, N) and rows.shape == (1, N)
    left_out = np.setdiff1d(np.arange(N + 1), rows[0])
    assert left_out.size == 1 and left_out[0] < n
    np.testing.assert_allclose(J[0], numeric[rows[0]], atol=1e-8)


def test_many_sector_shares_by_factors_are_the_log_sum_exp_shares():
    # Direct factors the new shares sector by sector (an exponential of [s, i] per state); they must be the
    # log-sum-exp shares of `_hat._shares`, with prohibitive pairs, a sector a country does not buy, draws of
    # theta, and wages so far apart that a column underflows (then the log-sum-exp itself is used)
    rng = np.random.default_rng(23)
    S, n = 4, 6
    f = world(rng, n, sectors=S)
    f[2, :, 3] = 0.0  # country 3 buys nothing of sector 2
    d_hat = rng.uniform(0.8, 1.3, (1, S, n, n))
    d_hat[0, 1, 0, 4] = np.inf  # prohibitive
    theta = rng.uniform(2.0, 9.0, (3, S))
    economy = ge._economy(f[None], tariffs(rng, f.shape, 0.3)[None], tariffs(rng, f.shape)[None], d_hat, theta,
                          np.ones((1, S, n)), None, "fixed", ge._Names(None, n))
    system = _hat.Direct(economy)
    idx = np.arange(3)
    for x in (rng.normal(0, 0.3, (3, n)), np.array([[0.0] + [150.0] * (n - 1)] * 3)):
        c = economy.take(idx)
        with np.errstate(all="ignore"):
            expected_pi, expected_log_p = _hat._shares(c, np.broadcast_to(x[:, None, :], (3, S, n)))
            pi, log_p = system._shares(c, x, idx)
        np.testing.assert_allclose(pi, expected_pi, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(log_p, expected_log_p, rtol=1e-12, atol=1e-12)
        assert (pi[:, 2, :, 3] == 0).all() and (log_p[:, 2, 3] == 0).all() and (pi[:, 1, 0, 4] == 0).all()
    # the state of the last point evaluated is kept for the Jacobian at it, and only for it
    x = rng.normal(0, 0.3, (3, n))
    first = system.state(x, idx)
    assert system.state(x.copy(), idx) is first
    assert system.state(x + 1e-9, idx) is not first and system.state(x[:2], idx[:2]) is not first


def one_sector_economy(rng, n, closure, draws=1, extreme=False):
    """A random one-sector economy for `ge._run` and the systems: zeros, prohibitive pairs, tariffs, theta draws."""
    f = world(rng, n)
    off = ~np.eye(n, dtype=bool)
    f[off & (rng.random((n, n)) < 0.2)] = 0  # some pairs do not trade
    f[0, 1] = f[1, 0] = 1.0  # but every country does, both ways
    t0 = tariffs(rng, (n, n), 0.3) * (rng.random() < 0.5)
    t1 = tariffs(rng, (n, n), 20.0 if extreme else 1.0)
    d_hat = foreign(rng, (n, n), 0.6, 1.5)
    d_hat[off & (rng.random((n, n)) < 0.1)] = np.inf  # prohibitive
    theta = rng.uniform(2.0, 8.0 if extreme else 10.0, (draws, 1))
    return ge._economy(f[None, None], t0[None, None], t1[None, None], d_hat[None, None], theta, np.ones((1, 1, n)),
                       None, closure, ge._Names(None, n))


def by_residual(J, rows):
    """Jacobian rows keyed by the residual each is the derivative of, ``[m, N + 1, N]`` (NaN where left out)."""
    m, N = rows.shape
    out = np.full((m, N + 1, J.shape[2]), np.nan)
    np.put_along_axis(out, rows[:, :, None], J, axis=1)
    return out


@pytest.mark.parametrize("closure", ["fixed", "share"])
def test_one_sector_system_is_the_general_one_in_fewer_operations(closure):
    rng = np.random.default_rng(20)
    for _ in range(12):
        n = int(rng.integers(2, 25))
        economy = one_sector_economy(rng, n, closure, draws=3)
        fast, general = _hat.OneSector(economy), _hat.Direct(economy)
        idx = np.arange(3)
        x = rng.normal(0, 0.3, (3, n))
        F = fast.residual(x, idx)
        np.testing.assert_allclose(F, general.residual(x, idx), rtol=1e-11, atol=1e-12)
        J, rows = fast.jacobian(x, idx)  # at the point just evaluated: its kept state
        Jg, rows_g = general.jacobian(x, idx)
        assert sorted(rows[0]) == sorted(rows_g[0])  # the same equations, in another order
        np.testing.assert_allclose(by_residual(J, rows), by_residual(Jg, rows_g), rtol=1e-10, atol=1e-10)
        some = np.array([0, 2])  # members of the last point evaluated, and a point not evaluated last
        for y in (x[some], x[some] + 0.05):
            np.testing.assert_allclose(by_residual(*fast.jacobian(y, some)), by_residual(*general.jacobian(y, some)),
                                       rtol=1e-10, atol=1e-10)
        h = 1e-6
        numeric = np.stack([(fast.residual(x[:1] + h * e, idx[:1])[0] - fast.residual(x[:1] - h * e, idx[:1])[0])
                            / (2 * h) for e in np.eye(n)], axis=1)
        J, rows = fast.jacobian(x[:1], idx[:1])
        np.testing.assert_allclose(J[0], numeric[rows[0]], rtol=1e-6, atol=1e-7)
        a, b = fast.state(x, idx), general.state(x, idx)
        for key in ("flows", "log_P", "revenue", "d_new", "va_new"):
            np.testing.assert_allclose(a[key], b[key], rtol=1e-11, atol=1e-12 * np.nanmax(np.abs(b[key])), err_msg=key)


def test_one_sector_system_keeps_exact_shares_when_wages_are_far_apart():
    rng = np.random.default_rng(21)
    n = 5
    economy = one_sector_economy(rng, n, "fixed")
    fast, general = _hat.OneSector(economy), _hat.Direct(economy)
    x = np.array([[0.0, 150.0, 150.0, 150.0, 150.0]])  # w_hat**-theta underflows for all but country 0
    idx = np.array([0])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(fast.residual(x, idx), general.residual(x, idx), rtol=1e-12)
        np.testing.assert_allclose(fast.state(x, idx)["log_P"], general.state(x, idx)["log_P"], rtol=1e-12)


@pytest.mark.parametrize("closure", ["fixed", "share"])
def test_one_sector_fast_path_solves_like_the_general_path(closure):
    rng = np.random.default_rng(22)
    for k in range(8):
        n, draws = int(rng.integers(2, 30)), int(rng.integers(1, 4))
        economy = one_sector_economy(rng, n, closure, draws, extreme=k % 4 == 3)  # some need the path
        names = ge._Names(None, n)
        try:
            general = ge._run(_hat.Direct, economy, draws, 1e-12, 200, names)[0]
        except ConvergenceError:  # no equilibrium: the fast path must say so as well
            with pytest.raises(ConvergenceError):
                ge._run(_hat.OneSector, economy, draws, 1e-12, 200, names)
            continue
        fast, _, residual = ge._run(_hat.OneSector, economy, draws, 1e-12, 200, names)
        assert residual <= 1e-12
        np.testing.assert_allclose(np.exp(fast["x"]), np.exp(general["x"]), rtol=1e-10)
        np.testing.assert_allclose(fast["log_P"], general["log_P"], rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(fast["flows"], general["flows"], rtol=1e-10, atol=1e-10 * general["flows"].max())
    # and through the public function: one sector is two identical sectors of half its size (the general path)
    f = world(rng, 12)
    t1 = tariffs(rng, f.shape)
    one = ge.solve(f, foreign(rng, f.shape, 0.8, 1.2), None, t1, theta=5.0, deficits=closure)
    two = ge.solve_sectors(np.stack([f, f]) / 2, one.trade_cost_change, None, t1, theta=5.0, deficits=closure)
    np.testing.assert_allclose(one.welfare, two.welfare, rtol=1e-10)
    np.testing.assert_allclose(one.wage, two.wage, rtol=1e-10)
    np.testing.assert_allclose(one.flows_after, two.flows_after.sum(axis=0), rtol=1e-10)


# --------------------------------------------------------------------------- accounting and options


def test_markets_clear_and_income_equals_spending_less_deficit():
    rng = np.random.default_rng(10)
    f = world(rng, 9)
    t0, t1 = tariffs(rng, f.shape, 0.2), tariffs(rng, f.shape, 1.5)
    for closure in ("fixed", "share"):
        sol = ge.solve(f, None, t0, t1, theta=4.0, deficits=closure)
        output = sol.wage * f.sum(axis=1)
        np.testing.assert_allclose(sol.flows_after.sum(axis=1), output, rtol=1e-12)
        spending = (sol.flows_after * (1 + t1)).sum(axis=0)
        np.testing.assert_allclose(spending, sol.income_after + sol.deficit_after, rtol=1e-12)
        np.testing.assert_allclose(sol.income_after - output, (sol.flows_after * t1).sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(sol.country_table()["revenue_after_usd"], sol.revenue.sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(sol.quantity * sol.wage[:, None] * f, sol.flows_after, rtol=1e-12)
        assert abs(sol.deficit_after.sum()) <= 1e-9 * f.sum()


def test_share_closure_keeps_deficit_to_gdp_up_to_a_common_shift():
    rng = np.random.default_rng(11)
    f = world(rng, 6)
    sol = ge.solve(f, rng.uniform(0.6, 1.0, f.shape), theta=6.0, deficits="share")
    gdp0, gdp1 = f.sum(axis=1), sol.wage * f.sum(axis=1)
    shift = sol.deficit_after / gdp1 - sol.deficit_before / gdp0
    np.testing.assert_allclose(shift, shift[0], atol=1e-13)
    fixed = ge.solve(f, rng.uniform(0.6, 1.0, f.shape), theta=6.0, deficits="fixed")
    np.testing.assert_allclose(fixed.deficit_after, fixed.deficit_before, rtol=1e-12)


def test_numeraire_scales_nominal_results_and_leaves_real_ones():
    rng = np.random.default_rng(12)
    f = world(rng, 5)
    t1 = tariffs(rng, f.shape)
    codes = ["AAA", "BBB", "CCC", "DDD", "EEE"]
    base = ge.solve(f, None, None, t1, countries=codes)
    assert abs(base.wage @ f.sum(axis=1) / f.sum() - 1) < 1e-12  # world GDP unchanged
    for numeraire, attr in ((("price_index", "CCC"), "price_index"), (("wage", 4), "wage")):
        sol = ge.solve(f, None, None, t1, numeraire=numeraire, countries=codes)
        k = {"CCC": 2, 4: 4}[numeraire[1]]
        assert getattr(sol, attr)[k] == pytest.approx(1, abs=1e-14)
        scale = getattr(base, attr)[k]
        np.testing.assert_allclose(sol.welfare, base.welfare, rtol=1e-12)
        np.testing.assert_allclose(sol.wage * scale, base.wage, rtol=1e-12)
        np.testing.assert_allclose(sol.flows_after * scale, base.flows_after, rtol=1e-12)


def test_theta_draws_solve_like_one_at_a_time():
    rng = np.random.default_rng(13)
    f = world(rng, 6)
    t1 = tariffs(rng, f.shape)
    thetas = np.array([2.0, 4.0, 9.0])
    batch = ge.solve(f, None, None, t1, theta=thetas)
    assert batch.welfare.shape == (3, 6) and batch.flows_after.shape == (3, 6, 6)
    for d, theta in enumerate(thetas):
        one = ge.solve(f, None, None, t1, theta=theta)
        np.testing.assert_allclose(batch.welfare[d], one.welfare, rtol=1e-12)
    stacked = ge.solve(np.stack([f, 2 * f]), None, None, t1, theta=4.0)  # draws of the data
    np.testing.assert_allclose(stacked.welfare[0], stacked.welfare[1], rtol=1e-12)  # scale-free


def test_sector_draws_with_links():
    rng = np.random.default_rng(14)
    f = world(rng, 4, sectors=2)
    beta, gamma = links(rng, f)
    t1 = tariffs(rng, f.shape)
    thetas = np.array([[3.0, 5.0], [6.0, 2.0]])
    batch = ge.solve_sectors(f, None, None, t1, theta=thetas, value_added=beta, io=gamma)
    for d in range(2):
        one = ge.solve_sectors(f, None, None, t1, theta=thetas[d], value_added=beta, io=gamma)
        np.testing.assert_allclose(batch.sector_price_index[d], one.sector_price_index, rtol=1e-11)


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_named():
    rng = np.random.default_rng(15)
    f = world(rng, 4)
    codes = ["USA", "CHN", "MEX", "NPL"]
    g = f.copy()
    g[3] = 0
    with pytest.raises(InputError, match="'NPL' sells nothing"):
        ge.solve(g, countries=codes)
    g = f.copy()
    g[:, 1] = 0
    with pytest.raises(InputError, match="'CHN' buys nothing"):
        ge.solve(g, countries=codes)
    g = f * (1 - np.eye(4))
    with pytest.raises(InputError, match="country index 0 has no domestic sales"):
        ge.solve(g)
    with pytest.raises(InputError, match="negative"):
        ge.solve(-f)
    with pytest.raises(InputError, match="shape"):
        ge.solve(f[:, :3])
    with pytest.raises(InputError, match="broadcasts"):
        ge.solve(f, trade_cost_change=np.ones(3))
    with pytest.raises(InputError, match="diagonal"):
        ge.solve(f, tariff_after=np.full((4, 4), 0.1))
    with pytest.raises(InputError, match="theta"):
        ge.solve(f, theta=0.0)
    with pytest.raises(InputError, match="'fixed' or 'share'"):
        ge.solve(f, deficits="floating")
    with pytest.raises(InputError, match="'ZZZ' is unknown"):
        ge.solve(f, numeraire=("wage", "ZZZ"), countries=codes)
    with pytest.raises(InputError, match="NaN"):
        ge.solve(np.where(np.eye(4, dtype=bool), np.nan, f))


def test_bad_production_shares_are_named():
    rng = np.random.default_rng(16)
    f = world(rng, 3, sectors=2)
    beta, gamma = links(rng, f)
    bad = gamma.copy()
    bad[0, 1, 2] += 0.1
    with pytest.raises(InputError, match="sector 1, country 'C'"):
        ge.solve_sectors(f, value_added=beta, io=bad, countries=["A", "B", "C"])
    heavy = gamma * 0 + 0.45  # inputs worth 90% of output in both sectors
    with pytest.raises(InputError, match="exceeds its spending"):
        ge.solve_sectors(f * np.eye(3) + 0.01 * f, value_added=np.full((2, 3), 0.1), io=heavy)


def test_unconverged_solve_raises():
    rng = np.random.default_rng(17)
    f = world(rng, 6)
    with pytest.raises(ConvergenceError) as err:
        ge.solve(f, None, None, tariffs(rng, f.shape, 5.0), theta=8.0, max_iter=1)
    assert err.value.iterations == 1 and err.value.residual > err.value.tol


def test_extreme_tariffs_are_solved_along_the_path_from_the_baseline():
    rng = np.random.default_rng(18)
    a = world(rng, 6)
    f = a + a.T
    t1 = tariffs(rng, f.shape, 20.0)  # up to 2,000%, the most a schedule allows
    sol = ge.solve(f, None, None, t1, theta=8.0, deficits="share")
    assert sol.max_residual <= 1e-12 and sol.iterations > 8  # more than Newton from the baseline needs
    np.testing.assert_allclose(sol.flows_after.sum(axis=1), sol.wage * f.sum(axis=1), rtol=1e-12)


def test_fixed_deficits_that_cannot_be_earned_raise_and_name_the_way_out():
    f = np.array([[50.0, 40.0, 40.0], [5.0, 60.0, 10.0], [5.0, 10.0, 60.0]])  # country 0: surplus of 60% of GDP
    t1 = np.zeros_like(f)
    t1[0, 1:] = 20.0  # its exports pay 2,000%
    with pytest.raises(ConvergenceError, match="deficits='share'"):
        ge.solve(f, None, None, t1, theta=4.0, deficits="fixed")
    sol = ge.solve(f, None, None, t1, theta=4.0, deficits="share")
    assert sol.max_residual <= 1e-12 and sol.welfare[0] < 1


def test_bad_solver_options_are_named_for_both_models():
    from tradesim.models import pe

    f = world(np.random.default_rng(19), 3)
    for solve in (lambda **kw: ge.solve(f, **kw),
                  lambda **kw: pe.solve(f[None], np.zeros((1, 3, 3)), np.zeros((1, 3, 3)), 2.0, 1.0, np.inf, **kw)):
        with pytest.raises(InputError, match="positive") as err:
            solve(tol=0.0)
        assert err.value.key == "tol"
        with pytest.raises(InputError, match="at least 1") as err:
            solve(max_iter=0)
        assert err.value.key == "max_iter"


@pytest.mark.parametrize("numeraire", [None, ("price_index", 0), ("wage", 2)])
def test_welfare_splits_into_real_factor_income_and_real_revenue_whatever_the_numeraire(numeraire):
    rng = np.random.default_rng(11)
    f = world(rng, 5)
    t1 = tariffs(rng, (5, 5))
    countries = ["USA", "CHN", "MEX", "VNM", "DEU"]
    num = None if numeraire is None else (numeraire[0], countries[numeraire[1]])
    table = ge.solve(f, tariff_after=t1, theta=4.0, countries=countries, numeraire=num).country_table()
    parts = table["welfare_factor_income_usd"] + table["welfare_revenue_usd"]
    np.testing.assert_allclose(parts, table["welfare_usd"], rtol=1e-9, atol=1e-6)
    # real values: the same under every numeraire
    ref = ge.solve(f, tariff_after=t1, theta=4.0, countries=countries).country_table()
    np.testing.assert_allclose(table["welfare_revenue_usd"], ref["welfare_revenue_usd"], rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(table["welfare_factor_income_usd"], ref["welfare_factor_income_usd"], rtol=1e-8,
                               atol=1e-6)
    # revenue starts at zero here, so its real part is the new revenue deflated
    sol = ge.solve(f, tariff_after=t1, theta=4.0, countries=countries, numeraire=num)
    np.testing.assert_allclose(table["welfare_revenue_usd"], sol.revenue.sum(axis=0) / sol.price_index, rtol=1e-12)
