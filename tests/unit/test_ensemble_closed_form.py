"""The closed-form path by pair (`tradesim.simulate.run_plan` with ``by_pair=True`` where export supply is
perfectly elastic) gives the general path's numbers: the batched market solves and partial adjustment on cells."""

import dataclasses
import importlib
import warnings

import numpy as np
import pytest

import tradesim
from tradesim import InputError, TariffSchedule
from tradesim.elasticities import priors
from tradesim.models import pe
from tradesim.scenario.dynamics import Dynamics
from tradesim.scenario.plan import compile_plan

sim = importlib.import_module("tradesim.simulate")  # the module (``tradesim.simulate`` is also the function)


@pytest.fixture(scope="module")
def scenario():
    s = tradesim.load_scenario("us-china-2025")
    return s, s.load_baseline()


def _plan(scenario, **options):
    s, b = scenario
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile_plan(b, s, "pe", None, {"domestic": False, **options})


def _draws(plan, baseline, n, seed=3):
    drawn = priors().sample(baseline.products, n, seed, parameters=plan.spec.parameter_names)
    return {k: v[..., None] for k, v in drawn.items()}  # [draw, product, 1]


def _general(monkeypatch, plan, params, draws=True):
    with monkeypatch.context() as m:
        m.setattr(sim, "_elastic_pairs", lambda *a, **k: None)
        return sim.run_plan(plan, params, by_pair=True, draws=draws)


def _same(got, want):
    """Equal to 1e-10 relative; values that are cancellation noise (below 1e-10 of their array's largest,
    such as a revenue change of 1e-4 USD where nothing moved) to 1e-10 of that largest value."""
    for name in ("flows", "revenue"):
        assert got[name].shape == want[name].shape
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-10 * np.abs(want[name]).max())
    assert got["country"].keys() == want["country"].keys()
    for name, a in want["country"].items():
        scale = np.nanmax(np.abs(a)) if np.isfinite(a).any() else 0.0
        np.testing.assert_allclose(got["country"][name], a, rtol=1e-10, atol=1e-10 * scale, equal_nan=True)


def test_the_closed_form_gives_the_general_paths_numbers_for_every_draw(scenario, monkeypatch):
    plan = _plan(scenario)
    params = _draws(plan, scenario[1], 20)
    assert sim.closed_form_bytes(plan, params) > 0
    got = sim.run_plan(plan, params, by_pair=True, draws=True)
    assert got["flows"].shape == (24, 20, 16, 16)
    _same(got, _general(monkeypatch, plan, params))


def test_a_draw_is_the_same_alone_and_in_a_chunk(scenario):
    plan = _plan(scenario)
    params = _draws(plan, scenario[1], 6)
    chunk = sim.run_plan(plan, params, by_pair=True, draws=True)
    alone = sim.run_plan(plan, {k: v[4:5] for k, v in params.items()}, by_pair=True, draws=True)
    np.testing.assert_allclose(alone["flows"][:, 0], chunk["flows"][:, 4], rtol=1e-12)
    np.testing.assert_allclose(alone["revenue"][:, 0], chunk["revenue"][:, 4], rtol=1e-12,
                               atol=1e-12 * np.abs(chunk["revenue"]).max())


def test_without_a_draw_axis_and_with_the_sparse_sums(scenario, monkeypatch):
    """One set of elasticities without a draw axis; and the markets summed by a sparse product where padding
    them by importer would cost too much, their paths gathered where the cells' markets are not a few runs."""
    monkeypatch.setattr(sim, "_MOST_PADDING", 0.0)
    monkeypatch.setattr(sim, "_FEW_RUNS", 0)  # and the cells' market paths gathered
    plan = _plan(scenario)
    s, b = scenario
    point = sim.parameters_for(plan.spec, s.elasticities, b)
    got = sim.run_plan(plan, point, by_pair=True)
    assert not plan.memo("elastic_pairs", None).padded and plan.memo("elastic_pairs", None).slot_runs is None
    assert got["flows"].shape == (24, 16, 16)
    _same(got, _general(monkeypatch, plan, point, draws=False))


def test_sigma_near_one_and_persistence_take_the_general_path(scenario, monkeypatch):
    s, b = scenario
    # China's purchase halts need sigma > 1 in their markets (a CES buyer cannot do without a source otherwise)
    halted = _plan(scenario)
    near_one = _draws(halted, b, 3)
    near_one["sigma"] = np.full_like(near_one["sigma"], 1.0005)
    with pytest.raises(InputError, match="halts trade .*a halt needs sigma > 1"):
        sim.run_plan(halted, near_one, by_pair=True, draws=True)
    plain = dataclasses.replace(s, schedule=TariffSchedule([m for m in s.schedule.measures if m.rule != "halt"],
                                                           list(s.schedule.product_lists.values())))
    plan = _plan((plain, b))
    params = _draws(plan, b, 3)
    params["sigma"] = np.full_like(params["sigma"], 1.0005)
    assert sim.closed_form_bytes(plan, params) is None
    assert sim._elastic_pairs(plan, plan.expand_parameters(params), True) is None
    out = sim.run_plan(plan, params, by_pair=True, draws=True)  # still runs, on the solver
    assert np.isfinite(out["flows"]).all()
    lasting = dataclasses.replace(plan, dyn=Dynamics(persistence=0.3))
    assert sim.closed_form_bytes(lasting, _draws(plan, scenario[1], 2)) is None


def test_fixed_price_markets_are_the_solvers_markets():
    rng = np.random.default_rng(5)
    K, n = 40, 6
    flows = rng.random((K, n, 1)) * (rng.random((K, n, 1)) < 0.8) * 100
    flows[:, 0] += 1.0  # every market trades
    t0 = rng.random((K, n, 1)) * 0.3
    t1 = np.where(rng.random((K, n, 1)) < 0.3, t0 + rng.random((K, n, 1)), t0)
    sigma, eta = np.array([2.5, 4.0]), np.array([0.7, 1.3])
    sol = pe.solve(flows, t0, t1, sigma[:, None, None], eta[:, None, None], np.inf, domestic=False,
                   home=np.array([-1]))
    k, i = np.nonzero(flows[..., 0] > 0)
    spend = flows[k, i, 0] * (1 + t0[k, i, 0])
    moved = t1[k, i, 0] != t0[k, i, 0]
    out = pe.fixed_price_markets(np.bincount(k, spend, K), np.bincount(k[~moved], spend[~moved], K), k[moved],
                                 spend[moved], np.log1p(t1[k, i, 0][moved]) - np.log1p(t0[k, i, 0][moved]),
                                 np.repeat(sigma[:, None], K, 1), np.repeat(eta[:, None], K, 1))
    np.testing.assert_allclose(np.exp(out["log_price_index"]), sol.price_index[..., 0], rtol=1e-12)
    np.testing.assert_allclose(out["consumer_surplus"], sol.consumer_surplus[..., 0], rtol=1e-10, atol=1e-9)
    tau = (1 + t1[k, i, 0]) / (1 + t0[k, i, 0])
    q = tau ** -sigma[:, None] * np.exp(out["log_shifter"][:, k])
    np.testing.assert_allclose(q, sol.quantity[:, k, i, 0], rtol=1e-12)
    assert pe.fixed_price_markets(np.ones(1), np.ones(1), np.zeros(0, int), np.zeros(0), np.zeros(0),
                                  np.array([[1.0002]]), np.array([[1.0]])) is None


def test_sigma_by_product_gives_the_general_paths_numbers(scenario, monkeypatch):
    plan = _plan(scenario)
    params = _draws(plan, scenario[1], 4)
    spread = np.random.default_rng(0).uniform(0.7, 1.4, params["sigma"].shape[1])
    params["sigma"] = params["sigma"] * spread[None, :, None]  # a sigma of its own per product and draw
    _same(sim.run_plan(plan, params, by_pair=True, draws=True), _general(monkeypatch, plan, params))


def test_buying_ahead_on_a_span_of_cells_is_buying_ahead_on_the_rising_cells(scenario):
    """`_front_load` reads mostly rising cells as a slice of their span (without quantities): the same flows as
    on the rising cells alone (with quantities, which take that way)."""
    plan = _plan(scenario)
    st = plan.memo("elastic_pairs", sim._ElasticSetup)
    rng = np.random.default_rng(1)
    flows = rng.uniform(1.0, 1e6, st.cell_flows.size) * rng.uniform(0.9, 1.1, (len(plan.regime), 3, 1))
    # [piece, draw, cell]: a path's flows, USD
    span, alone = flows.copy(), {"flows": flows.copy(), "quantity": np.ones_like(flows)}
    args = (plan, st.cell_rates)
    sim._front_load({"flows": span}, *args)
    sim._front_load(alone, *args)
    assert not np.array_equal(span, flows)
    np.testing.assert_array_equal(span, alone["flows"])
