"""The fast ways of running a scenario path give the numbers of the plain way, on random laws.

A path whose markets clear each by itself (PE with perfectly elastic export supply) solves each
distinct market problem once rather than every regime in full (`tradesim.scenario.plan.Markets`),
sums by pair in closed form for ensembles (`tradesim.simulate._elastic_pairs`), and on a sparse
baseline runs on the importers whose law moves. Each must agree with the plain way on any law:
additive duties, floors, groups, anti-stacking, rates by product, halts, lines finer than the
products, announcements that buy ahead, and every kind of dynamics. Random laws found three bugs
when these tests were written: a halt made every version of its market look alike, a law reaching
no traded cell crashed on a sparse baseline, and a law halting every source was refused by index.
"""

import datetime as dt
import importlib
import warnings
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tradesim
from tradesim import InputError, Measure, TariffSchedule
from tradesim.scenario import Scenario
from tradesim.scenario.dynamics import Dynamics
from tradesim.scenario.plan import compile_plan

sim = importlib.import_module("tradesim.simulate")  # the module (``tradesim.simulate`` is also the function)

COUNTRIES = ["USA", "CHN", "MEX", "VNM"]
PRODUCTS = ["0101", "7208", "8542", "9503"]
# selectors at the products' level, above it and below it (which cut products into parts)
CODES = ["01", "0101", "72", "7208", "720810", "85", "8542", "854231", "9503", "950300"]
DAY0 = dt.date(2025, 1, 1)


def _baseline() -> tradesim.Baseline:
    """Four products among four economies, without domestic sales; about one flow in seven missing."""
    rng = np.random.default_rng(11)
    frame = pd.DataFrame([(p, e, i) for p in PRODUCTS for e in COUNTRIES for i in COUNTRIES if e != i],
                         columns=["product", "exporter", "importer"])
    frame["value"] = rng.lognormal(20, 1.5, len(frame))
    return tradesim.Baseline.from_frame(frame[rng.random(len(frame)) < 0.85], year=2024, domestic=False,
                                        countries=COUNTRIES)


BASELINE = _baseline()


@st.composite
def laws(draw):
    """A random law of two importers: duties (on a share of the value or of the trade, by product, replacing
    an earlier one), a floor, grouped duties, halts, with or without an end and an announcement a month
    ahead."""
    measures = []
    for k in range(draw(st.integers(1, 6))):
        start = DAY0 + dt.timedelta(days=draw(st.integers(0, 10)) * 30)
        end = draw(st.one_of(st.none(), st.integers(1, 6).map(lambda m, s=start: s + dt.timedelta(days=30 * m))))
        importer = draw(st.sampled_from(["USA", "CHN"]))
        exporters = draw(st.one_of(st.none(), st.lists(st.sampled_from([c for c in COUNTRIES if c != importer]),
                                                       min_size=1, max_size=2, unique=True)))
        products = draw(st.one_of(st.none(), st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True)))
        announced = start - dt.timedelta(days=30) if draw(st.booleans()) and start > DAY0 else None
        kind = draw(st.sampled_from(["add", "add", "add", "floor", "group", "halt", "share", "replace", "by product"]))
        if kind == "halt":
            # halted lines, never a whole market: a market needs a source left
            measures.append(Measure(f"m{k}", importer, start=start, end=end, rule="halt", announced=announced,
                                    exporters=exporters or [c for c in COUNTRIES if c != importer][:1],
                                    products=[draw(st.sampled_from(["720810", "854231", "950300"]))]))
            continue
        rate = draw(st.sampled_from([0.05, 0.1, 0.25, 0.5, 1.25]))
        earlier = [m.name for m in measures if m.importer == importer and m.rule != "halt"]
        measures.append(Measure(f"m{k}", importer, rate, start, end=end, exporters=exporters, products=products,
                                announced=announced, rule="floor" if kind == "floor" else "add",
                                group="g" if kind == "group" else None,
                                # anti-stacking: where both apply, this one only
                                replaces=tuple(earlier[-1:]) if kind == "replace" else (),
                                product_rates={"85": 2 * rate, "720810": 0.0} if kind == "by product" else None,
                                # on half the value (metal content), on a part of the trade (coverage)
                                value_share=0.5 if kind == "share" else 1.0,
                                coverage=draw(st.sampled_from([1.0, 0.5])) if kind == "share" else 1.0))
    return TariffSchedule(measures)


def _scenario(law, front_loading: float, dynamics: dict | None = None) -> Scenario:
    return Scenario(name="random", description="", baseline="unused", schedule=law, start=DAY0,
                    end=dt.date(2025, 12, 31), reference=dt.date(2024, 12, 31),
                    dynamics=Dynamics(front_loading=front_loading, **(dynamics or {})))


#: The default partial adjustment (drawn twice as often) and the other dynamics.
dynamics = st.sampled_from([{}, {}, {"adjustment": "elasticity"}, {"adjustment": "none"}, {"persistence": 0.25},
                            {"half_life_months": 6.0}])


def _run(fn, *args, **kw):
    """``fn(*args, **kw)``, or the InputError it raises (both ways must refuse alike)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kw)
        except InputError as e:
            return e


def _close(a, b, what):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, what
    finite = np.isfinite(b)
    scale = np.abs(b[finite]).max() if finite.any() else 0.0
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * scale, equal_nan=True, err_msg=what)


def _same_result(fast, slow):
    if isinstance(slow, InputError):
        assert isinstance(fast, InputError) and str(fast) == str(slow)
        return
    assert not isinstance(fast, InputError), fast
    for name in ("flows", "revenue", "quantity", "buyer_price", "tariff"):
        _close(getattr(fast, name), getattr(slow, name), name)
    assert fast.country_values.keys() == slow.country_values.keys()
    for name, a in fast.country_values.items():
        _close(a, slow.country_values[name], name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(law=laws(), front_loading=st.sampled_from([0.0, 0.8]), dyn=dynamics)
def test_solving_each_market_problem_once_equals_solving_every_regime(law, front_loading, dyn):
    s = _scenario(law, front_loading, dyn)
    _same_result(_run(tradesim.simulate, BASELINE, s), _slow(s))


def _slow(s):
    """The path of `s` on the baseline with every regime solved in full."""
    with mock.patch.object(sim, "independent_markets", lambda plan, params: False):
        return _run(tradesim.simulate, BASELINE, s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(law=laws(), front_loading=st.sampled_from([0.0, 0.8]), seed=st.integers(0, 2**16))
def test_the_closed_form_sums_by_pair_equal_the_market_path_for_draws(law, front_loading, seed):
    s = _scenario(law, front_loading)
    plan = _run(compile_plan, BASELINE, s, "pe", None, {"domestic": False})
    if isinstance(plan, InputError):
        return  # the law is refused before any path (both ways share the plan)
    drawn = tradesim.elasticities.priors().sample(BASELINE.products, 3, seed, parameters=plan.spec.parameter_names)
    params = {k: v[..., None] for k, v in drawn.items()}  # [draw, product, 1]
    fast = _run(sim.run_plan, plan, params, by_pair=True, draws=True)
    with mock.patch.object(sim, "_elastic_pairs", lambda *a, **k: None):
        slow = _run(sim.run_plan, plan, params, by_pair=True, draws=True)
    if isinstance(slow, InputError):
        assert isinstance(fast, InputError) and str(fast) == str(slow)
        return
    for name in ("flows", "revenue"):
        _close(fast[name], slow[name], name)
    for name, a in fast["country"].items():
        _close(a, slow["country"][name], name)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(law=laws(), front_loading=st.sampled_from([0.0, 0.8]), dyn=dynamics)
def test_a_sparse_baseline_gives_the_dense_numbers_on_its_cells(law, front_loading, dyn):
    s = _scenario(law, front_loading, dyn)
    sparse = BASELINE.with_layout("sparse")
    dense = _run(tradesim.simulate, BASELINE, s)
    cut = _run(tradesim.simulate, sparse, s)
    if isinstance(dense, InputError):
        assert isinstance(cut, InputError) and str(cut) == str(dense)
        return
    assert cut.cells is not None
    for name in ("flows", "revenue", "quantity", "buyer_price", "tariff"):
        want = cut.cells.gather(np.asarray(getattr(dense, name), float))
        _close(getattr(cut, name), want, name)
    pd.testing.assert_frame_equal(cut.summary("country"), dense.summary("country"), rtol=1e-9, atol=1e-6)


def _with_home_sales() -> tradesim.Baseline:
    """`BASELINE` with each economy's sales at home (general equilibrium needs them): twice its exports."""
    frame = BASELINE.to_frame()
    exports = frame.groupby(["product", "exporter"], observed=True)["value"].sum()
    home = pd.DataFrame({"product": exports.index.get_level_values(0).astype(str),
                         "exporter": exports.index.get_level_values(1).astype(str),
                         "value": 2 * exports.to_numpy()})
    home["importer"] = home["exporter"]
    rows = pd.concat([frame[["product", "exporter", "importer", "value"]].astype({"product": str, "exporter": str,
                                                                                 "importer": str}), home])
    return tradesim.Baseline.from_frame(rows, year=2024, countries=COUNTRIES)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(law=laws(), model=st.sampled_from(["ge", "pe-finite"]), dyn=dynamics)
def test_a_model_that_links_markets_gives_the_dense_numbers_on_a_sparse_baseline(law, model, dyn):
    """A path of general equilibrium or of PE with a finite export supply elasticity (no market clears by
    itself) on a baseline stored on its cells: the numbers of the same baseline stored dense."""
    s = _scenario(law, 0.8, dyn)
    dense = _with_home_sales()
    kw = {"model": "ge"} if model == "ge" else {"elasticities": {"epsilon": 2.0}, "domestic": True}
    a = _run(tradesim.simulate, dense, s, **kw)
    b = _run(tradesim.simulate, dense.with_layout("sparse"), s, **kw)
    if isinstance(a, InputError):
        assert isinstance(b, InputError) and str(b) == str(a)
        return
    assert b.cells is None  # such a path plans on every cell
    for name in ("flows", "revenue", "quantity", "buyer_price", "tariff"):
        _close(getattr(b, name), getattr(a, name), name)
    for name, v in a.country_values.items():
        _close(b.country_values[name], v, name)
