"""Ensembles over elasticity draws: closed forms, agreement with single runs, engines, chunks and failures."""

import datetime as dt
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import tradesim
from tradesim import ConvergenceError, InputError, Measure, TariffSchedule, ensemble
from tradesim.scenario.dynamics import Dynamics
from tradesim.results import EnsembleResult
from tradesim.scenario import Scenario

COUNTRIES = ["USA", "CHN", "MEX"]


def small_baseline(domestic=False):
    rng = np.random.default_rng(7)
    flows = rng.uniform(1, 10, size=(3, 3, 3)) * 1e9
    frame = pd.DataFrame([(p, e, i, flows[k, a, b]) for k, p in enumerate(["01", "02", "03"])
                          for a, e in enumerate(COUNTRIES) for b, i in enumerate(COUNTRIES)
                          if a != b or domestic], columns=["product", "exporter", "importer", "value"])
    return tradesim.Baseline.from_frame(frame, year=2024, domestic=domestic, countries=COUNTRIES)


def scenario(measures, **kw):
    base = dict(name="t", description="", baseline="unused", schedule=TariffSchedule(measures),
                start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30), reference=dt.date(2024, 12, 31))
    return Scenario(**{**base, **kw})


def run(*args, **kw):
    kw.setdefault("domestic", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return ensemble.run(*args, **kw)


def single(baseline, sc, **elasticities):
    """The same scenario on the point engine with one draw's elasticities."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(baseline, sc, elasticities=elasticities)


PATH = [Measure("a", "USA", 0.25, "2025-02-10", exporters=["CHN"]),
        Measure("b", "USA", 1.0, "2025-04-09", end="2025-05-14", exporters=["CHN"]),
        Measure("c", "CHN", 0.5, "2025-03-04", exporters=["USA"])]


def test_a_uniform_tariff_gives_the_closed_form_for_every_draw_and_its_distribution():
    # a 50% tariff on all of one importer's sources with infinite supply: the price index rises by
    # 1.5, so every source sells 1.5 ** -eta of its value, whatever sigma
    sc = scenario([Measure("x", "USA", 0.5, "2025-01-01")], dynamics=Dynamics(adjustment="none"))
    b = small_baseline()
    n = 2000
    r = run(b, sc, draws=n, seed=11)
    eta = r.parameters["eta"].to_numpy()
    ratio = r.flows[:, 0, 1, 0] / b.flows[:, 1, 0].sum()
    np.testing.assert_allclose(ratio, 1.5 ** -eta, rtol=1e-12)
    # the draws' quantiles match the analytic ones: eta is log-normal (median 1, log sd 0.35) and the
    # ratio falls in eta, so its p-quantile is at eta's (1 - p)-quantile; the band is four standard
    # errors of an order statistic
    q = r.quantiles([0.05, 0.5, 0.95], pairs=[("CHN", "USA")], variables=["value_change_pct"])
    first = q[q["date"] == r.dates[0]].iloc[0]
    for p, column in ((0.05, "p5"), (0.5, "p50"), (0.95, "p95")):
        se = 4 * np.sqrt(p * (1 - p) / n)
        ends = [100 * (1.5 ** -(1.0 * np.exp(0.35 * stats.norm.ppf(1 - p + s))) - 1) for s in (-se, se)]
        assert min(ends) <= first[column] <= max(ends)
    assert stats.kstest(eta, stats.lognorm(s=0.35, scale=1.0).cdf).pvalue > 0.01


def test_quantiles_are_the_quantiles_of_each_draws_value():
    # with sigma = eta the price index drops out: the taxed source sells 1.5 ** -sigma, the others as before
    sigma = np.linspace(0.5, 6.0, 41)
    sc = scenario([Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])], dynamics=Dynamics(adjustment="none"))
    b = small_baseline()
    r = run(b, sc, draws=41, priors={"sigma": sigma, "eta": sigma})
    levels = [0.1, 0.25, 0.5, 0.9]
    q = r.quantiles(levels, pairs=[("CHN", "USA"), ("MEX", "USA")], variables=["value_change_pct"])
    jan = q[q["date"] == r.dates[0]].set_index("exporter")
    want = np.quantile(100 * (1.5 ** -sigma - 1), levels)
    np.testing.assert_allclose(jan.loc["CHN", ["p10", "p25", "p50", "p90"]].astype(float), want, rtol=1e-10)
    np.testing.assert_allclose(jan.loc["MEX", ["p10", "p50", "p90"]].astype(float), 0.0, atol=1e-9)
    assert jan.loc["CHN", "mean"] == pytest.approx(np.mean(100 * (1.5 ** -sigma - 1)), rel=1e-10)


@pytest.mark.parametrize("dynamics", [Dynamics(adjustment="elasticity", front_loading=0), Dynamics(front_loading=0),
                                      Dynamics(front_loading=1.0)], ids=["elasticity", "partial", "front-loading"])
def test_every_draw_equals_a_single_run_with_its_elasticities(dynamics):
    measures = PATH if not dynamics.front_loading else [
        Measure("a", "USA", 0.6, "2025-03-01", exporters=["CHN"], announced="2025-02-01")]
    sc = scenario(measures, dynamics=dynamics)
    b = small_baseline()
    r = run(b, sc, draws=12, seed=4)
    assert r.n_draws == 12 and r.failed == ()
    for d in (0, 7):
        one = single(b, sc, sigma=r.parameters.loc[d, "sigma"], eta=r.parameters.loc[d, "eta"])
        np.testing.assert_allclose(r.flows[d], one.flows.sum(axis=1), rtol=1e-12)
        np.testing.assert_allclose(r.revenue[d], one.revenue.sum(axis=1), rtol=1e-12, atol=1e-3)
        for name, values in one.country_values.items():
            np.testing.assert_allclose(r.country_values[name][d], values, rtol=1e-10, atol=1e-3)
    # the baseline-weighted tariff is the point run's headline rate
    summary = one.summary("pair", [("CHN", "USA")])
    np.testing.assert_allclose(100 * r.tariff[:, 1, 0], summary["tariff_pct"], rtol=1e-12)


def test_general_equilibrium_draws_its_trade_elasticity():
    b = small_baseline(domestic=True)
    sc = scenario(PATH, model="ge", dynamics=Dynamics(adjustment="none"))
    r = ensemble.run(b, sc, draws=6, seed=2)
    assert list(r.parameters.columns) == ["sigma"]  # theta = sigma - 1
    d = 4
    one = single(b, sc, theta=r.parameters.loc[d, "sigma"] - 1)
    np.testing.assert_allclose(r.country_values["welfare_usd"][d], one.country_values["welfare_usd"], rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(r.flows[d], one.flows.sum(axis=1), rtol=1e-10)
    assert len(set(np.round(r.country_values["welfare_usd"][:, 3, 0], 3))) == 6  # each draw its own answer


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c:
        with distributed.Client(c) as client:
            yield client


def test_same_seed_same_numbers_on_every_engine_and_chunk_size(cluster):
    sc = scenario(PATH)  # the elasticity clock: a solve for every piece after the first year too
    b = small_baseline()
    whole = run(b, sc, draws=30, seed=5)
    assert whole.chunk == 30
    others = [run(b, sc, draws=30, seed=5, chunk=7), run(b, sc, draws=30, seed=5, chunk=1),
              run(b, sc, draws=30, seed=5, engine="dask", client=cluster, chunk=4),
              run(b, sc, draws=30, seed=5, engine="dask", client=cluster)]
    for other in others:
        np.testing.assert_array_equal(other.draws, whole.draws)
        np.testing.assert_array_equal(other.flows, whole.flows)
        np.testing.assert_array_equal(other.revenue, whole.revenue)
        for name in whole.country_values:
            np.testing.assert_array_equal(other.country_values[name], whole.country_values[name])
    assert others[3].chunk == 4  # by default a quarter of the draws per worker: 30 / 8, rounded up
    assert not np.array_equal(run(b, sc, draws=30, seed=6).flows, whole.flows)
    fresh = run(b, sc, draws=5, seed=None)
    np.testing.assert_array_equal(run(b, sc, draws=5, seed=fresh.seed).flows, fresh.flows)  # repeatable


def test_the_dask_engine_starts_and_stops_its_own_cluster():
    pytest.importorskip("distributed")
    sc = scenario(PATH)
    b = small_baseline()
    mine = run(b, sc, draws=8, seed=1, engine="dask")
    np.testing.assert_array_equal(mine.flows, run(b, sc, draws=8, seed=1).flows)
    assert mine.engine == "dask"


def test_without_dask_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(InputError, match=r'pip install "tradesim\[dask\]"'):
        run(small_baseline(), scenario(PATH), draws=4, engine="dask")


def failing_run(max_failed):
    # with supply elasticity 1 and a 300% tariff, Newton needs more than 3 steps when sigma is 40
    sigma = np.full(10, 2.0)
    sigma[[3, 7]] = 40.0
    sc = scenario([Measure("x", "USA", 3.0, "2025-02-01", exporters=["CHN"])], dynamics=Dynamics(adjustment="none"))
    return ensemble.run(small_baseline(), sc, draws=10, priors={"sigma": sigma, "eta": 1.0, "epsilon": 1.0},
                        max_iter=3, max_failed=max_failed, chunk=4, domestic=False)


def test_draws_that_fail_are_reported_with_their_parameters_and_the_rest_kept():
    with pytest.warns(tradesim.TradesimWarning, match=r"2 of 10 draws did not converge .*draws 3, 7"):
        r = failing_run(0.2)
    assert r.failed == (3, 7) and r.n_draws == 8 and 3 not in r.draws and r.flows.shape[0] == 8
    assert r.failures["sigma"].tolist() == [40.0, 40.0]
    assert r.failures["error"].str.contains("did not converge in 3 Newton iterations").all()
    assert (r.failures["residual"] > r.failures["tol"]).all()
    # the draws kept are not disturbed by the failures in their chunk (draws 0-3 and 4-7)
    sc = scenario([Measure("x", "USA", 3.0, "2025-02-01", exporters=["CHN"])], dynamics=Dynamics(adjustment="none"))
    one = single(small_baseline(), sc, sigma=2.0, eta=1.0, epsilon=1.0)
    for row in range(8):
        np.testing.assert_allclose(r.flows[row], one.flows.sum(axis=1), rtol=1e-9)


def test_too_many_failed_draws_raise():
    with pytest.raises(ConvergenceError, match=r"2 of 10 draws failed, more than max_failed=0.1 .*draw 3 with sigma = 40") as err:
        failing_run(0.1)
    assert err.value.draws == (3, 7) and err.value.iterations == 3


def test_frames_and_quantiles_agree():
    b = small_baseline()
    r = run(b, scenario(PATH), draws=9, seed=3)
    frame = r.to_frame(variables=["imports_usd", "effective_tariff_pct"])
    pairs = int((b.flows.sum(axis=0) > 0).sum())
    assert len(frame) == 2 * 9 * len(r.dates) * pairs
    assert set(frame["draw"]) == set(range(9))
    q = r.quantiles([0.5], variables=["imports_usd"])
    median = frame[frame["variable"] == "imports_usd"].groupby(["date", "exporter", "importer"])["value"].median()
    merged = q.set_index(["date", "exporter", "importer"])["p50"]
    np.testing.assert_allclose(merged.sort_index(), median.sort_index(), rtol=1e-12)
    eff = frame[(frame["variable"] == "effective_tariff_pct") & (frame["exporter"] == "CHN")
                & (frame["importer"] == "USA")]
    np.testing.assert_allclose(eff["value"], 100 * (r.revenue[:, :, 1, 0] / r.flows[:, :, 1, 0]).ravel(), rtol=1e-12)
    countries = r.quantiles(level="country", variables="welfare_usd")
    usa = countries[countries["country"] == "USA"]
    np.testing.assert_allclose(usa["p95"], np.quantile(r.country_values["welfare_usd"][:, :, 0], 0.95, axis=0))
    assert len(r.to_frame(["welfare_usd"], level="country")) == 9 * len(r.dates) * 3
    assert repr(r).startswith("EnsembleResult('t', model 'pe': 9 of 9 draws")


def test_a_fan_of_an_ensemble_draws_its_quantiles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = run(small_baseline(), scenario(PATH), draws=21, seed=8)
    ax = r.plot.fan("value_change", ("CHN", "USA"), quantiles=(0.1, 0.5, 0.9))
    q = r.quantiles([0.1, 0.5, 0.9], pairs=[("CHN", "USA")], variables=["value_change_pct"])
    median = ax.get_lines()[0].get_ydata()[:-1]
    np.testing.assert_allclose(median, q["p50"], rtol=1e-12)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(q["p10"].min()) and band.max() == pytest.approx(q["p90"].max())
    with pytest.raises(InputError, match="no baseline trade"):
        tradesim.plot.fan(r, "imports", ("USA", "USA"))
    plt.close("all")


def test_scenario_elasticities_are_kept_unless_a_prior_is_given():
    sc = scenario(PATH, elasticities=tradesim.Elasticities.defaults().with_values(sigma=3.0))
    r = run(small_baseline(), sc, draws=5)
    assert list(r.parameters.columns) == ["eta"] and any("the scenario sets sigma" in n for n in r.notes)
    one = single(small_baseline(), sc, sigma=3.0, eta=r.parameters.loc[2, "eta"])
    np.testing.assert_allclose(r.flows[2], one.flows.sum(axis=1), rtol=1e-12)
    drawn = run(small_baseline(), sc, draws=5, priors={"sigma": stats.uniform(1, 4)})
    assert list(drawn.parameters.columns) == ["sigma", "eta"]


def test_bad_arguments_are_reported():
    b, sc = small_baseline(), scenario(PATH)
    for kw, match in (({"engine": "spark"}, "unknown engine 'spark'"), ({"draws": 0}, "whole number of draws"),
                      ({"chunk": 0}, "whole number of draws"), ({"client": object()}, "pass engine='dask'"),
                      ({"max_failed": 1.0}, r"share in \[0, 1\)"), ({"priors": 3}, "expected Priors or a mapping")):
        with pytest.raises(InputError, match=match):
            run(b, sc, **{"draws": 3, **kw})
    with pytest.raises(InputError, match="expected a Scenario"):
        run(b, 42, draws=3)
    r = run(b, sc, draws=3)
    with pytest.raises(InputError, match="unknown pair variables"):
        r.quantiles(variables=["welfare"])
    with pytest.raises(InputError, match=r"not in the baseline"):
        r.quantiles(pairs=[("CHN", "DEU")])
    with pytest.raises(InputError, match=r"q is"):
        r.quantiles([1.5])
    assert isinstance(r, EnsembleResult)


def test_compare_gives_bands_of_the_per_draw_difference():
    # same draws (sigma = eta, so the taxed source sells 1.5 ** -sigma of its value) against no tariff
    sigma = np.linspace(0.5, 6.0, 41)
    b = small_baseline()
    taxed = scenario([Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])], dynamics=Dynamics(adjustment="none"))
    untaxed = scenario([Measure("x", "USA", 0.5, "2030-01-01", exporters=["CHN"])],
                       dynamics=Dynamics(adjustment="none"))
    priors = {"sigma": sigma, "eta": sigma}
    a, z = run(b, taxed, draws=41, priors=priors), run(b, untaxed, draws=41, priors=priors)
    diff = a.compare(z, [0.1, 0.5, 0.9], pairs=[("CHN", "USA")], variables=["imports_usd"])
    base = b.flows[:, 1, 0].sum()
    want = np.quantile(base * (1.5 ** -sigma - 1), [0.1, 0.5, 0.9])
    np.testing.assert_allclose(diff.loc[0, ["p10", "p50", "p90"]].astype(float), want, rtol=1e-10)
    # the other source is untouched when sigma = eta, draw by draw
    other = a.compare(z, pairs=[("MEX", "USA")], variables=["imports_usd", "value_change_pct"])
    np.testing.assert_allclose(other[["mean", "p5", "p95"]], 0.0, atol=1e-3)
    np.testing.assert_allclose(a.compare(a, level="country")[["p5", "p50", "p95"]], 0.0)
    with pytest.raises(InputError, match="drew different elasticities"):
        a.compare(run(b, untaxed, draws=41, seed=3))
    with pytest.raises(InputError, match="expected an EnsembleResult"):
        a.compare(single(b, taxed))
