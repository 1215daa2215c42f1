"""Halted trade (an import ban or halted purchases, a tariff of ``inf``) in the models, the scenario
path and the results: against the CES closed form, the limit of a prohibitive tariff, the general
path, and hand calculations of the tables."""

import dataclasses
import datetime as dt
import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import InputError, Measure, TariffSchedule
from tradesim.data import load_fine_values
from tradesim.data.layout import SparseTensor
from tradesim.models import charged, ge, pe
from tradesim.scenario import load_scenario
from tradesim.scenario.plan import compile_plan, open_mean
from tradesim.simulate import _shadow, parameters_for, run_plan

RNG = np.random.default_rng(7)
K, N = 3, 4
FLOWS = RNG.uniform(1, 100, (K, N, N))
T0 = np.where(np.eye(N, dtype=bool), 0.0, 0.05) * np.ones((K, 1, 1))
T1 = T0.copy()
T1[:, 0, 1] = np.inf  # exporter 0 halted in importer 1, every product
T1[0, 2, 3] = np.inf
T1[:, 3, 1] = 0.4
PROHIBITIVE = np.where(np.isinf(T1), 20.0, T1)  # the largest rate the model takes


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("epsilon", [np.inf, 3.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_a_pe_halt_is_the_limit_of_a_prohibitive_tariff(epsilon, sparse):
    # sigma 9: a 2,000% tariff leaves 21**-9 ~ 1e-12 of the trade, so the two agree to ~1e-10
    flows = SparseTensor.from_dense(FLOWS) if sparse else FLOWS
    take = (lambda a: flows.cells.gather(a)) if sparse else (lambda a: a)
    halt = pe.solve(flows, take(T0), take(T1), sigma=9.0, eta=1.2, epsilon=epsilon)
    wall = pe.solve(flows, take(T0), take(PROHIBITIVE), sigma=9.0, eta=1.2, epsilon=epsilon)
    halt, wall = halt.dense(), wall.dense()
    assert np.all(halt.quantity[np.isinf(T1)] == 0.0)
    assert np.all(halt.revenue[np.isinf(T1)] == 0.0)
    for name in ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare"):
        a, b = getattr(halt, name), getattr(wall, name)
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8 * np.abs(b).max(), err_msg=name)
    np.testing.assert_allclose(halt.revenue_change, wall.revenue_change, atol=1e-6)


def test_a_pe_halt_removes_the_variety_from_the_ces_price_index():
    sigma, eta = 3.0, 0.8
    sol = pe.solve(FLOWS, T0, T1, sigma=sigma, eta=eta, epsilon=np.inf)
    k, j = 1, 1
    spend = FLOWS[k, :, j] * (1 + T0[k, :, j])
    s = spend / spend.sum()
    tau = (1 + T1[k, :, j]) / (1 + T0[k, :, j])
    open_ = np.isfinite(tau)
    P = (s[open_] * tau[open_] ** (1 - sigma)).sum() ** (1 / (1 - sigma))
    assert sol.price_index[k, j] == pytest.approx(P, rel=1e-12)
    q = np.where(open_, np.where(open_, tau, 1.0) ** -sigma * P ** (sigma - eta), 0.0)
    np.testing.assert_allclose(sol.quantity[k, :, j], q, rtol=1e-12)
    # consumer surplus: the area under composite demand E0 P**-eta from 1 to P
    cs = -spend.sum() * (P ** (1 - eta) - 1) / (1 - eta)
    assert sol.consumer_surplus[k, j] == pytest.approx(cs, rel=1e-12)


def test_the_newton_path_with_sigma_by_importer_halts_too():
    sigma = np.ones((K, 1)) * np.linspace(3, 9, N)  # by importer: the dense Newton solver
    sol = pe.solve(FLOWS, T0, T1, sigma=sigma, eta=1.2, epsilon=2.0)
    assert sol.max_residual <= 1e-10
    assert np.all(sol.quantity[np.isinf(T1)] == 0.0) and np.isfinite(sol.welfare).all()
    assert np.isnan(sol.pass_through[np.isinf(T1)]).all()


@pytest.mark.parametrize("sigma", [1.0, 0.5, 1.0005])
def test_a_halt_needs_sigma_above_one(sigma):
    with pytest.raises(InputError, match=r"tariff_after: halts trade .* sigma is .*a halt needs sigma > 1"):
        pe.solve(FLOWS, T0, T1, sigma=sigma, eta=1.2, epsilon=2.0)


def test_a_halt_needs_a_source_left():
    t1 = T1.copy()
    t1[1, :, 1] = np.inf
    t1[1, 1, 1] = 0.0  # only the domestic source, which is not modelled
    with pytest.raises(InputError, match="product index 1, exporter index 0, importer index 1.*another source"):
        pe.solve(FLOWS, T0, t1, sigma=3.0, eta=1.2, epsilon=2.0, domestic=False)


def test_halts_refused_where_they_have_no_answer():
    with pytest.raises(InputError, match="linear .*GSIM.* no answer for a halt"):
        pe.solve(FLOWS, T0, T1, sigma=3.0, eta=1.2, epsilon=2.0, method="linear")
    with pytest.raises(InputError, match=r"tariff_before: has .*inf.* expected fractions from 0 to 20$"):
        pe.solve(FLOWS, T1, T0, sigma=3.0, eta=1.2, epsilon=2.0)
    with pytest.raises(InputError, match="tariff_after: .*SMART's formulas are first order"):
        pe.smart([[100.0, 100.0]], [[0.1, 0.1]], [[np.inf, 0.1]], sigma=1.5, eta=1.0)
    with pytest.raises(InputError, match=r"tariff_after: has .*-inf.* or inf \(trade halted\)"):
        pe.solve(FLOWS, T0, -T1, sigma=3.0, eta=1.2, epsilon=2.0)


def test_a_ge_halt_is_a_prohibitive_trade_cost_that_collects_nothing():
    f = RNG.uniform(1, 10, (N, N)) + np.diag(np.full(N, 60.0))
    t0 = np.where(np.eye(N, dtype=bool), 0.0, 0.05)
    t1 = t0.copy()
    t1[0, 1], t1[2, 3] = np.inf, 0.3
    halt = ge.solve(f, tariff_before=t0, tariff_after=t1, theta=4.0)
    cost = np.ones((N, N))
    cost[0, 1] = np.inf
    wall = ge.solve(f, trade_cost_change=cost, tariff_before=t0, tariff_after=np.where(np.isinf(t1), t0, t1),
                    theta=4.0)
    np.testing.assert_allclose(halt.welfare, wall.welfare, rtol=1e-13)
    assert halt.flows_after[0, 1] == 0.0 and halt.revenue[0, 1] == 0.0
    np.testing.assert_allclose(halt.country_table()["revenue_after_usd"], wall.country_table()["revenue_after_usd"])


def test_charged_takes_nothing_where_trade_is_halted():
    assert charged(np.array([0.1, np.inf, 0.0]), np.array([10.0, 0.0, 5.0])).tolist() == [1.0, 0.0, 0.0]


def test_shadow_carries_the_last_open_target_through_a_halt():
    values = np.arange(12.0).reshape(4, 1, 3)  # [key, draw, cell]
    halted = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]], bool)
    out = _shadow(values, halted)
    assert out[:, 0, 0].tolist() == [0.0, 0.0, 0.0, 9.0]
    assert out[:, 0, 1].tolist() == [1.0, 4.0, 7.0, 10.0]
    assert out[:, 0, 2].tolist() == [2.0, 5.0, 5.0, 5.0]
    assert _shadow(values, np.zeros((4, 3), bool)) is values


def test_open_mean_leaves_halted_days_out():
    weights = np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75], [0.0, 1.0, 0.0]])  # [time, regime]
    rates = np.array([[0.1, 0.2], [np.inf, 0.2], [0.3, np.inf]])  # [regime, cell]
    mean, share = open_mean(weights, rates)
    np.testing.assert_allclose(share, [[0.5, 1.0], [0.75, 0.25], [0.0, 1.0]])
    assert mean[0].tolist() == pytest.approx([0.1, 0.2]) and mean[1].tolist() == pytest.approx([0.3, 0.2])
    assert mean[2, 0] == np.inf and mean[2, 1] == pytest.approx(0.2)  # open on no day: the law's rate


# --------------------------------------------------------------------------- scenario path

# toys (9503) from China, a part of chapter 95 by the fine values of US imports: no bundled halt reaches them
HALT = Measure("test_halt", "USA", 0.0, "2025-05-15", end="2025-10-30", exporters=["CHN"], products=["9503"],
               rule="halt")


@pytest.fixture(scope="module")
def halted_scenario():
    s = load_scenario("us-china-2025")
    return dataclasses.replace(s, schedule=TariffSchedule([*s.schedule.measures, HALT],
                                                          list(s.schedule.product_lists.values())))


@pytest.fixture(scope="module")
def halted_path(halted_scenario):
    return _quiet(tradesim.simulate, None, halted_scenario)


def test_a_halted_cell_trades_nothing_while_halted_and_resumes_after(halted_path, halted_scenario):
    r = halted_path
    b = r.baseline
    k = list(b.products).index("95")
    i, j = list(b.exporters).index("CHN"), list(b.importers).index("USA")
    fine = load_fine_values("fine-values-2024")
    fine = fine[(fine.exporter == "CHN") & (fine.importer == "USA")]
    value = fine.set_index("product")["value"]
    toys = value[value.index.str.startswith("9503")].sum() / value[value.index.str.startswith("95")].sum()
    halted = r.halted[:, k, i, j]
    dates = r.dates.strftime("%Y-%m").tolist()
    # the halted share of the chapter is the toys' share of its trade times the share of the month's days
    for month, days in (("2025-04", 0), ("2025-05", 17 / 31), ("2025-07", 1), ("2025-10", 29 / 31), ("2025-11", 0)):
        assert halted[dates.index(month)] == pytest.approx(toys * days, abs=1e-12), month
    # the chapter loses at least the toys in July, and they come back once the halt ends
    flows = r.flows[:, k, i, j]
    assert flows[dates.index("2025-07")] <= (1 - toys) * b.flows[k, i, j]
    assert flows[dates.index("2025-12")] > flows[dates.index("2025-07")] + 0.5 * toys * b.flows[k, i, j]
    assert np.isfinite(r.revenue).all() and np.isfinite(r.flows).all()
    pairs = r.summary("pair")
    row = pairs[(pairs.exporter == "CHN") & (pairs.importer == "USA")].set_index("date")
    share = (b.flows[:, i, j] * r.halted[:, :, i, j]).sum(axis=1) / b.flows[:, i, j].sum()
    np.testing.assert_allclose(row["halted_pct"].to_numpy(), 100 * share, rtol=1e-12)
    assert np.isfinite(row["tariff_pct"]).all() and np.isfinite(r.effective_rate("USA", "CHN")).all()


def test_the_closed_form_path_equals_the_general_path_with_halts(halted_scenario, monkeypatch):
    sim = importlib.import_module("tradesim.simulate")  # the module (``tradesim.simulate`` is also the function)
    b = halted_scenario.load_baseline()
    plan = _quiet(compile_plan, b, halted_scenario, "pe", load_fine_values(halted_scenario.fine_values),
                  {"domestic": False})
    params = parameters_for(plan.spec, halted_scenario.elasticities, b)
    fast = _quiet(run_plan, plan, params, by_pair=True)
    monkeypatch.setattr(sim, "_elastic_pairs", lambda *a, **k: None)
    slow = _quiet(run_plan, plan, params, by_pair=True)
    for name in ("flows", "revenue"):
        np.testing.assert_allclose(fast[name], slow[name], rtol=1e-10, atol=1e-6, err_msg=name)
    for name, a in fast["country"].items():
        np.testing.assert_allclose(a, slow["country"][name], rtol=1e-9, atol=1e-3, err_msg=name)


def test_a_market_whose_other_tariffs_change_during_a_halt_is_a_new_problem(monkeypatch):
    """A market's versions are told apart by their tariffs: two with the same halt and different tariffs on
    the other sources are two problems (a halt once projected every version with it alike, so Mexico's rise
    during China's halt was solved with Mexico's old tariff). The market path equals every regime solved."""
    sim = importlib.import_module("tradesim.simulate")
    b = tradesim.Baseline.from_frame(
        pd.DataFrame([(p, e, i, v) for p, v0 in (("01", 3e9), ("02", 5e9)) for e, i, v in
                      (("CHN", "USA", v0), ("MEX", "USA", v0 / 3), ("USA", "CHN", v0 / 2), ("MEX", "CHN", v0 / 4))],
                     columns=["product", "exporter", "importer", "value"]), year=2024, domestic=False)
    law = TariffSchedule([Measure("h", "USA", start="2025-04-01", end="2025-06-01", rule="halt", exporters=["CHN"],
                                  products=["01"]),
                          Measure("m", "USA", 0.4, "2025-04-15", exporters=["MEX"])])
    s = tradesim.Scenario(name="t", description="", baseline="unused", schedule=law, start=dt.date(2025, 1, 1),
                          end=dt.date(2025, 8, 31), reference=dt.date(2024, 12, 31))
    markets = _quiet(tradesim.simulate, b, s)
    monkeypatch.setattr(sim, "independent_markets", lambda plan, params: False)
    every = _quiet(tradesim.simulate, b, s)
    np.testing.assert_allclose(markets.flows, every.flows, rtol=1e-10, atol=1e-3)
    halt_only = _quiet(tradesim.simulate, b, dataclasses.replace(s, schedule=TariffSchedule(law.measures[:1])))
    k, i, j = 0, list(b.exporters).index("MEX"), list(b.importers).index("USA")
    may = list(markets.dates.strftime("%Y-%m")).index("2025-05")
    assert markets.flows[may, k, i, j] < 0.95 * halt_only.flows[may, k, i, j]  # Mexico's rise bites during the halt


def test_a_single_change_reports_the_halted_share_and_the_tariff_on_the_rest():
    b = tradesim.load_baseline("demo-2024")
    t0 = np.zeros(b.flows.shape)
    t1 = t0.copy()
    i, j = list(b.exporters).index("USA"), list(b.importers).index("CHN")
    k12, k27 = list(b.products).index("12"), list(b.products).index("27")
    t1[:, i, j] = 0.2
    t1[k12, i, j] = np.inf
    r = _quiet(tradesim.simulate, b, t0, t1, domestic=False)
    row = r.summary("pair").set_index(["exporter", "importer"]).loc[("USA", "CHN")]
    base = b.flows[:, i, j]
    assert row["halted_pct"] == pytest.approx(100 * base[k12] / base.sum())
    assert row["tariff_pct"] == pytest.approx(20.0)  # the mean over the trade that is not halted
    assert r.effective_rate("CHN", "USA") == pytest.approx(0.2)
    assert r.solution.flows_after[k12, i, j] == 0.0 and r.solution.revenue[k12, i, j] == 0.0
    assert row["revenue_usd"] == pytest.approx((0.2 * r.solution.flows_after[:, i, j]).sum() - 0.2 * 0.0)
    assert r.solution.flows_after[k27, i, j] > 0


@pytest.mark.parametrize("method", ["exact", "linear"])
def test_a_halt_where_nothing_trades_changes_nothing(method):
    flows = FLOWS.copy()
    flows[:, 0, 1] = 0.0  # the halted cells trade nothing
    plain = T0.copy()
    plain[:, 3, 1] = 0.4
    t1 = plain.copy()
    t1[:, 0, 1] = np.inf
    a = _quiet(pe.solve, flows, T0, t1, sigma=3.0, eta=1.2, epsilon=2.0, method=method)
    b = _quiet(pe.solve, flows, T0, plain, sigma=3.0, eta=1.2, epsilon=2.0, method=method)
    np.testing.assert_allclose(a.welfare, b.welfare, rtol=1e-12)
    np.testing.assert_allclose(a.flows_after, b.flows_after, rtol=1e-12)
    assert np.isfinite(a.revenue).all()


def test_a_ge_path_with_halts_trades_nothing_on_the_halted_lines(halted_scenario):
    r = _quiet(tradesim.simulate, None, dataclasses.replace(halted_scenario, end=dt.date(2025, 8, 31)), model="ge")
    assert np.isfinite(r.flows).all() and np.isfinite(r.revenue).all()
    assert all(np.isfinite(v).all() for v in r.country_values.values())
    b = r.baseline
    k = list(b.products).index("27")  # China's halts of US crude and coal from June, LNG from March
    i, j = list(b.exporters).index("USA"), list(b.importers).index("CHN")
    july = list(r.dates.strftime("%Y-%m")).index("2025-07")
    assert r.halted[july, k, i, j] > 0.9
    assert r.flows[july, k, i, j] <= (1 - r.halted[july, k, i, j]) * b.flows[k, i, j]


@pytest.mark.parametrize("adjustment", ["none", "elasticity"])
def test_the_other_adjustments_halt_alike(halted_scenario, adjustment):
    s = dataclasses.replace(halted_scenario, end=dt.date(2025, 8, 31),
                            dynamics=dataclasses.replace(halted_scenario.dynamics, adjustment=adjustment))
    r = _quiet(tradesim.simulate, None, s)
    for name in ("flows", "quantity", "buyer_price", "revenue"):
        assert np.isfinite(getattr(r, name)).all(), name
    b = r.baseline
    k = list(b.products).index("95")
    i, j = list(b.exporters).index("CHN"), list(b.importers).index("USA")
    july = list(r.dates.strftime("%Y-%m")).index("2025-07")
    toys = r.halted[july, k, i, j]
    assert 0 < toys < 1 and r.flows[july, k, i, j] <= (1 - toys) * b.flows[k, i, j]


def test_a_scenario_file_halts_trade_and_refuses_a_halt_with_a_rate(tmp_path):
    text = """[scenario]
name = "toys-halted"
extends = "us-china-2025"
description = "US imports of toys from China halted"
end = 2025-08-31

[[measures]]
name = "us_halt_toys"
importer = "USA"
exporters = ["CHN"]
products = ["9503"]
rule = "halt"
start = 2025-05-15
source = "a test"
"""
    path = tmp_path / "toys.toml"
    path.write_text(text)
    s = load_scenario(str(path))
    assert s.schedule.measure("us_halt_toys").rule == "halt"
    r = _quiet(tradesim.simulate, None, s)
    b = r.baseline
    k, i, j = list(b.products).index("95"), list(b.exporters).index("CHN"), list(b.importers).index("USA")
    assert r.halted[-1, k, i, j] > 0 and r.revenue[-1, k, i, j] < r.revenue[3, k, i, j]
    path.write_text(text.replace('rule = "halt"', 'rule = "halt"\nrate_pct = 5'))
    with pytest.raises(InputError, match=r"toys.toml:13: measures\[0\].rate_pct: .*a halt has no rate"):
        load_scenario(str(path))


def test_a_law_that_halts_every_source_of_a_market_is_refused_by_name_before_any_solve(monkeypatch):
    """Every way of running a path refuses alike, naming the product, the importer, the day and the sources
    (once the fast path named a problem's index, which is no index of the user's)."""
    sim = importlib.import_module("tradesim.simulate")
    b = tradesim.Baseline.from_frame(
        pd.DataFrame([("7208", "CHN", "USA", 3e9), ("7208", "MEX", "USA", 1e9), ("8542", "CHN", "USA", 2e9),
                      ("8542", "USA", "CHN", 2e9)], columns=["product", "exporter", "importer", "value"]),
        year=2024, domestic=False)
    law = TariffSchedule([Measure("h1", "USA", start="2025-03-01", rule="halt", exporters=["CHN"], products=["72"]),
                          Measure("h2", "USA", start="2025-05-01", end="2025-07-01", rule="halt", exporters=["MEX"],
                                  products=["7208"])])
    s = tradesim.Scenario(name="t", description="", baseline="unused", schedule=law, start=dt.date(2025, 1, 1),
                          end=dt.date(2025, 8, 31), reference=dt.date(2024, 12, 31))
    words = r"on 2025-05-01 the law halts every source of USA's imports of 7208 \(CHN, MEX\); a halt needs another"
    for baseline in (b, b.with_layout("sparse")):
        with pytest.raises(InputError, match=words):
            _quiet(tradesim.simulate, baseline, s)
    monkeypatch.setattr(sim, "independent_markets", lambda plan, params: False)
    with pytest.raises(InputError, match=words):
        _quiet(tradesim.simulate, b, s)
    # a halt that leaves a source runs, and the halted source trades nothing
    spared = dataclasses.replace(s, schedule=TariffSchedule(law.measures[:1]))
    r = _quiet(tradesim.simulate, b, spared)
    may = list(r.dates.strftime("%Y-%m")).index("2025-05")
    k, j = list(b.products).index("7208"), list(b.importers).index("USA")
    assert r.flows[may, k, list(b.exporters).index("CHN"), j] == 0 and r.flows[may, k, :, j].sum() > 0
