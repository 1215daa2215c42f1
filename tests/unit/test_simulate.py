"""simulate(), SimulationResult and Elasticities: the orchestration around the models."""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import Baseline, Elasticities, InputError, Measure, TariffSchedule, TradesimWarning, simulate
import tradesim.models.ge
from tradesim.models import MODELS, get_model


@pytest.fixture(scope="module")
def demo():
    return tradesim.load_baseline("demo-2024")


@pytest.fixture(scope="module")
def imports_only(demo):
    """demo-2024 without its imputed domestic sales."""
    frame = demo.to_frame()
    frame = frame[frame["exporter"] != frame["importer"]]
    return Baseline.from_frame(frame, countries=list(demo.countries), products=list(demo.products), year=2024)


@pytest.fixture(scope="module")
def us_china(demo):
    schedule = tradesim.load_schedule("us-china-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)  # coverage fallback notice
        return simulate(demo, (schedule, "2025-01-01"), (schedule, "2025-04-15"), domestic=False), schedule


def test_pre_substitution_rate_agrees_with_the_tariff_layer(demo, us_china):
    result, schedule = us_china
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        expected = tradesim.effective_rate(schedule, demo, "2025-04-15", "USA", "CHN")
    assert result.effective_rate("USA", "CHN") == pytest.approx(expected, rel=1e-12)


def test_post_substitution_rate_is_lower_after_a_targeted_rise(demo):
    schedule = TariffSchedule([Measure("x", "USA", 1.0, "2025-01-01", exporters=["CHN"])])
    r = simulate(demo, (schedule, "2024-12-01"), (schedule, "2025-01-01"), domestic=False)
    pre, post = r.effective_rate("USA"), r.effective_rate("USA", weights="post")
    china_share_pre = demo.trade("CHN", "USA") / sum(demo.trade(c, "USA") for c in demo.countries if c != "USA")
    assert pre == pytest.approx(china_share_pre)  # 100% on China's share, 0 elsewhere
    assert 0 < post < pre
    with pytest.raises(InputError, match="'pre' or 'post'"):
        r.effective_rate("USA", weights="after")


def test_summaries_add_up(demo, us_china):
    result, _ = us_china
    pairs = result.summary("pair")
    row = pairs[(pairs.exporter == "CHN") & (pairs.importer == "USA")].iloc[0]
    assert row.imports_baseline_usd == pytest.approx(demo.trade("CHN", "USA"))
    assert row.imports_usd < row.imports_baseline_usd
    assert row.tariff_pct > row.tariff_baseline_pct
    countries = result.summary("country")
    parts = countries[["consumer_surplus_usd", "producer_surplus_usd", "revenue_change_usd"]].sum(axis=1)
    np.testing.assert_allclose(countries["welfare_usd"], parts)
    assert countries.loc["USA", "import_price_index_change_pct"] > 0
    # perfectly elastic supply (the default): no producer surplus anywhere
    assert (countries["producer_surplus_usd"] == 0).all()
    assert countries["imports_baseline_usd"].sum() == pytest.approx(pairs["imports_baseline_usd"].sum())


def test_to_frame_is_long_and_complete(demo, us_china):
    result, _ = us_china
    frame = result.to_frame(["imports_baseline_usd", "quantity_ratio"], level="cell")
    assert list(frame.columns) == ["product", "exporter", "importer", "variable", "value", "unit"]
    assert all(isinstance(frame[c].dtype, pd.CategoricalDtype) for c in ("product", "exporter", "variable", "unit"))
    assert len(frame) == 2 * int((demo.flows > 0).sum())
    assert set(zip(frame["variable"], frame["unit"])) == {("imports_baseline_usd", "USD"), ("quantity_ratio", "ratio")}
    wide = frame.pivot_table(index=["product", "exporter", "importer"], columns="variable", values="value",
                             observed=True)
    assert wide["imports_baseline_usd"].sum() == pytest.approx(demo.flows.sum())
    k, i, j = demo.products.index("85"), demo.countries.index("CHN"), demo.countries.index("USA")
    assert wide.loc[("85", "CHN", "USA"), "quantity_ratio"] == pytest.approx(result.solution.quantity[k, i, j])
    with pytest.raises(InputError, match="unknown variables"):
        result.to_frame(["welfare_usd"], level="cell")
    countries = result.to_frame("welfare_usd", level="country")
    assert list(countries.columns) == ["country", "variable", "value", "unit"] and len(countries) == 16


def test_elasticity_draws_give_a_draw_axis_and_mean_summaries(demo):
    schedule = TariffSchedule([Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    sigma = np.array([1.5, 2.0, 3.0])[:, None, None]
    r = simulate(demo, (schedule, "2024-12-01"), (schedule, "2025-01-01"), elasticities={"sigma": sigma},
                 domestic=False)
    assert r.n_draws == 3
    assert r.solution.quantity.shape == (3, *demo.flows.shape)
    means = r.summary("country")["welfare_usd"]
    # the means of the draws; rounding error of the sums (1e-5 USD here) is shown as zero
    np.testing.assert_allclose(means, r.solution.welfare.sum(axis=1).mean(axis=0), atol=1e-12 * demo.flows.sum())
    assert set(r.to_frame(["quantity_ratio"], level="cell")["draw"]) == {0, 1, 2}


def test_missing_domestic_sales_is_said_not_guessed(demo, imports_only):
    zeros = np.zeros(demo.flows.shape)
    with pytest.warns(TradesimWarning, match="domestic substitute is not modelled"):
        r = simulate(demo, zeros, zeros)  # demo-2024's domestic sales are imputed for GE: PE leaves them out
    assert any("imputed for general equilibrium and off by default" in note for note in r.notes)
    with pytest.warns(TradesimWarning, match=r"not modelled \(the baseline has no domestic sales\)"):
        simulate(imports_only, zeros, zeros)
    with pytest.raises(InputError, match="domestic=False"):
        simulate(imports_only, zeros, zeros, domestic=True)


def test_bad_arguments(demo):
    zeros = np.zeros(demo.flows.shape)
    schedule = TariffSchedule([Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    with pytest.raises(InputError, match="unknown model 'cge'"):
        simulate(demo, zeros, zeros, model="cge")
    with pytest.raises(InputError, match="without a date") as err:
        simulate(demo, schedule, zeros)
    assert err.value.key == "before"
    with pytest.raises(InputError, match=r"\(2, 2\)") as err:
        simulate(demo, zeros, np.zeros((2, 2)))
    assert err.value.key == "after"
    with pytest.raises(InputError, match="unknown parameters"):
        simulate(demo, zeros, zeros, elasticities={"kappa": 4})
    with pytest.raises(InputError, match="Baseline"):
        simulate(demo.flows, zeros, zeros)


def test_the_registry_runs_a_new_model_without_edits_elsewhere(demo):
    calls = {}

    def fake(flows, tariff_before, tariff_after, *, sigma):  # takes no `domestic`: none is passed
        calls["sigma"] = sigma
        return get_model("pe").solve(flows, tariff_before, tariff_after, sigma, 1.0, np.inf, domestic=False)

    spec = get_model("pe")
    tradesim.models.register(tradesim.models.ModelSpec(
        "fake", fake, spec.parameters[:1], spec.outputs, spec.welfare, "test double", trade_elasticity="sigma",
        parameter_ndim=2))
    try:
        zeros = np.zeros(demo.flows.shape)
        r = simulate(demo, zeros, zeros, model="fake", elasticities={"sigma": 3.0})
        assert calls["sigma"] == 3.0 and r.model == "fake" and not any("domestic" in n for n in r.notes)
    finally:
        MODELS.pop("fake")


# ------------------------------------------------------------------ elasticities


def test_defaults_cite_verified_sources_only():
    table = Elasticities.table()
    assert set(table["parameter"]) == {"sigma", "eta", "epsilon"}
    assert not table["verification"].str.contains("unverified").any()
    e = Elasticities.defaults()
    # one trade elasticity: GE's theta is sigma - 1
    assert (e.sigma, e.eta, e.epsilon, e.theta) == (2.75, 1.0, np.inf, 1.75)
    assert "Fajgelbaum" in e.sources["sigma"] and "Cobb-Douglas" in e.sources["eta"]
    assert "Boehm" in Elasticities.defaults("short").sources["sigma"]
    assert Elasticities.defaults("short").sigma == 0.76
    assert e.with_values(eta=0.5).describe().loc["eta", "source"] == "user"


def test_mappings_resolve_by_longest_prefix():
    e = Elasticities(sigma={"*": 2.0, "87": 4.0, "8703": 6.0})
    np.testing.assert_array_equal(e.values_for("sigma", ["01", "87", "8701", "870321"]), [2.0, 4.0, 4.0, 6.0])
    with pytest.raises(InputError, match=r"no value for products \['01'\]"):
        Elasticities(sigma={"87": 4.0}).values_for("sigma", ["01", "87"])


@pytest.mark.parametrize(
    ("kwargs", "key", "words"),
    [
        ({"sigma": 0}, "sigma", "> 0"),
        ({"sigma": np.inf}, "sigma", "finite"),
        ({"eta": -1}, "eta", ">= 0"),
        ({"epsilon": "fast"}, "epsilon", "expected a number"),
        ({"sigma": {"8x": 2.0}}, "sigma", "HS digit strings"),
        ({"sigma": {"87": -2.0}}, "sigma", "['87']"),
        ({"sigma": np.array([1.0, np.nan])}, "sigma", "NaN"),
        ({"theta": 0}, "theta", "is 0.0; expected a number > 0 (theta = sigma - 1"),
        ({"theta": {"*": 4.0, "87": -1.0}}, "theta", "is -1.0; expected a number > 0"),
        ({"theta": 4.0, "sigma": 5.0}, "theta", "both sigma and theta are given"),
    ],
)
def test_bad_elasticities(kwargs, key, words):
    with pytest.raises(InputError) as err:
        Elasticities(**kwargs)
    assert err.value.key == key and words in err.value.message
    with pytest.raises(InputError, match="horizon"):
        Elasticities.defaults("medium")
    assert isinstance(Elasticities.table(), pd.DataFrame)


# ------------------------------------------------------------------ general equilibrium


def test_theta_is_sigma_less_one_everywhere():
    e = Elasticities(theta={"*": 4.0, "87": 1.5})
    assert e.sigma == {"*": 5.0, "87": 2.5} and e.theta == {"*": 4.0, "87": 1.5}
    np.testing.assert_array_equal(e.values_for("theta", ["01", "8703"]), [4.0, 1.5])
    assert Elasticities.defaults().with_values(theta=3.0).sigma == 4.0
    assert Elasticities(theta=np.array([1.0, 2.0])).sigma.tolist() == [2.0, 3.0]


def test_general_equilibrium_rejects_sigma_of_one_or_less(random_baseline):
    b = random_baseline
    flows = b.flows.copy()
    idx = np.arange(len(b.countries))
    flows[:, idx, idx] = 20 * flows.sum(axis=1).mean()
    base = Baseline(b.countries, b.products, flows, year=2024)
    with pytest.raises(InputError, match=r"sigma: is 0.9; general equilibrium needs sigma > 1 \(its trade elasticity "
                                         r"theta = sigma - 1 must be positive\)"):
        simulate(base, np.zeros(flows.shape), np.full(flows.shape, 0.1), model="ge", elasticities={"sigma": 0.9})


def test_ge_through_simulate(random_baseline):
    b = random_baseline
    flows = b.flows.copy()
    idx = np.arange(len(b.countries))
    flows[:, idx, idx] = 20 * flows.sum(axis=1).mean()  # domestic sales on the diagonal
    base = Baseline(b.countries, b.products, flows, year=2024)
    t0 = np.zeros(flows.shape)
    t1 = t0.copy()
    usa, chn = base.countries.index("USA"), base.countries.index("CHN")
    t1[:, chn, usa] = 1.45
    r = simulate(base, t0, t1, model="ge", elasticities={"theta": 5.0})
    sol = r.solution
    assert r.model == "ge" and sol.max_residual <= 1e-12
    direct = tradesim.models.ge.solve_sectors(flows, None, t0, t1, theta=5.0)
    np.testing.assert_allclose(sol.welfare, direct.welfare, rtol=1e-12)
    table = r.summary("country")
    np.testing.assert_allclose(table["real_income_change_pct"], 100 * (sol.welfare - 1))
    assert table.loc["USA", "revenue_after_usd"] > 0 == table.loc["USA", "revenue_before_usd"]  # GE outputs
    share = lambda f: f[:, chn, usa].sum() / f[:, :, usa].sum()  # noqa: E731
    assert share(sol.flows_after) < share(flows)
    pairs = r.summary("pair").set_index(["exporter", "importer"])
    assert pairs.loc[("CHN", "USA"), "volume_change_pct"] < -50
    assert r.effective_rate("USA", "CHN") == pytest.approx(1.45)


def test_ge_needs_domestic_sales(imports_only):
    zeros = np.zeros(imports_only.flows.shape)
    with pytest.raises(InputError, match="no domestic sales"):
        simulate(imports_only, zeros, zeros, model="ge")


def test_outputs_declare_how_they_move_on_a_path():
    from tradesim.models import ModelSpec, Output, get_model, register

    with pytest.raises(ValueError, match="timing 'soon'"):
        Output("x_usd", "USD", "x", timing="soon")
    pe = get_model("pe")
    two_rest = tuple(Output(o.name, o.unit, o.meaning, timing="rest" if o.name in pe.welfare else o.timing)
                     for o in pe.outputs)
    with pytest.raises(ValueError, match="timing 'rest'"):
        register(ModelSpec("two-rest", pe.solve, pe.parameters, two_rest, pe.welfare, "", trade_elasticity="sigma"))
    timing = {o.name: o.timing for o in pe.outputs}
    assert timing == {"import_price_index_change_pct": "price", "consumer_surplus_usd": "rest",
                      "producer_surplus_usd": "price", "revenue_change_usd": "revenue_change", "welfare_usd": "quantity"}
