"""Behaviour checked against the world: one trade elasticity for PE and GE, the 2018-19 and 2025 episodes,
partial adjustment by hand, products cut where the law cuts them, and what the welfare tables say.

Published numbers and their tolerances:

* Fajgelbaum, Goldberg, Kennedy and Khandelwal (2020, QJE): imports of the varieties the 2018 tariffs
  targeted fell 31.5% within a year, on a tariff rise from 2.6% to 16.6%. Their elasticity has a
  standard error of 0.26 on 2.53, a tenth of it: on a log tariff change of 0.128 that is 3.3 points,
  so the model must be within 4 points.
* US imports from China in 2025, -29.7% (Census annual totals; facts_trade_totals.csv and the monthly
  series in facts_us_china_monthly.csv): within 5 points (the issue's target).
* US exports to China, -25.8% for the year (-29.7% in April-December against the same months of 2024):
  the year within the issue's 5 points, and April-December within two standard errors of the months'
  mean (6.8 points). The law holds China's documented purchase halts of 2025 (LNG from March, crude and
  coal from June, soybeans May to October, Boeing deliveries April to June: `rule = "halt"` in
  tariffs-2025/china.toml, chosen and dated by the sources, not fitted), and the tariffs.
* US exports to China outside the four chapters where sources document halted Chinese purchases (cereals,
  oilseeds, energy, cotton; `HALTED`): -13.0% in 2025 (Census by chapter, facts_us_exports_china_chapters.csv),
  within the issue's 5 points. The four chapters fell 72%; the halts close most of the gap the tariffs
  leave there.
"""

import dataclasses
import datetime as dt
import math
import warnings
from importlib import resources

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import Baseline, Measure, TariffSchedule, ensemble
from tradesim.scenario import Scenario, load_scenario
from tradesim.scenario.dynamics import Dynamics

E = tradesim.Elasticities.defaults()


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return f(*args, **kw)


def scenario(measures, lists=(), **kw):
    base = dict(name="t", description="", baseline="unused", schedule=TariffSchedule(measures, lists),
                start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), reference=dt.date(2024, 12, 31))
    return Scenario(**{**base, **kw})


def rectangle(products, flows: dict) -> Baseline:
    """US imports: ``flows`` maps (product, exporter) to USD."""
    frame = pd.DataFrame([(p, e, "USA", v) for (p, e), v in flows.items()],
                         columns=["product", "exporter", "importer", "value"])
    return Baseline.from_frame(frame, year=2024, domestic=False, products=list(products),
                               exporters=sorted({e for _, e in flows}), importers=["USA"])


# --------------------------------------------------------------------------- one trade elasticity


def test_pe_and_ge_give_the_same_trade_response_to_a_small_shock():
    # Fifty economies of one size, each buying a fiftieth of its goods from each (itself included): a
    # 0.1% tariff on one pair. PE (infinite supply, Cobb-Douglas composite, eta = 1) and GE (theta =
    # sigma - 1) agree up to the general-equilibrium terms (wages, tariff income), which are of the order
    # of the pair's share of spending, 2%. (In a world of near-autarkies, wages move much more.)
    n = 50
    countries = _codes(n)
    flows = np.full((1, n, n), 10e9)
    base = Baseline(countries, ["01"], flows, year=2024)
    t0 = np.zeros(flows.shape)
    t1 = t0.copy()
    t1[0, 1, 0] = 0.001
    pe = quiet(tradesim.simulate, base, t0, t1, model="pe", elasticities={"eta": 1.0})
    ge = quiet(tradesim.simulate, base, t0, t1, model="ge")
    d = math.log1p(0.001)

    def elasticity(r):
        return math.log(r.solution.flows_after[0, 1, 0] / flows[0, 1, 0]) / d

    share = 1 / n
    closed_form = -E.sigma + (E.sigma - 1) * share  # CES with eta = 1, tariff-exclusive flows
    assert elasticity(pe) == pytest.approx(closed_form, rel=1e-4)
    assert elasticity(ge) == pytest.approx(elasticity(pe), abs=2 * E.sigma * share)
    # GE's theta is the tariff-inclusive elasticity: giving it sigma instead misses by about one
    wrong = quiet(tradesim.simulate, base, t0, t1, model="ge", elasticities={"theta": E.sigma})
    assert abs(elasticity(wrong) - elasticity(pe)) > 0.8


def _codes(n: int) -> list[str]:
    """`n` ISO alpha-3 codes."""
    import pycountry

    return sorted(c.alpha_3 for c in pycountry.countries)[:n]


# --------------------------------------------------------------------------- the 2018-19 tariffs


def test_targeted_imports_fall_as_fajgelbaum_et_al_found_within_a_year():
    # 2.6% -> 16.6% on China's varieties of a product; FGKK compare targeted with untargeted varieties of
    # the same product, which takes out the product's price index: ln(q_CHN / q_other) = -sigma(h) dln tau
    b = rectangle(["01"], {("01", "CHN"): 30e9, ("01", "MEX"): 70e9})
    mfn = Measure("mfn", "USA", 0.026, "2017-01-01", kind="mfn")
    s301 = Measure("s301", "USA", 0.14, "2025-01-01", exporters=["CHN"])
    r = quiet(tradesim.simulate, b, scenario([mfn, s301], end=dt.date(2025, 12, 31)))
    december = r.quantity[11, 0, :, 0]  # the twelfth month
    relative = december[list(b.exporters).index("CHN")] / december[list(b.exporters).index("MEX")]
    assert 100 * (relative - 1) == pytest.approx(-31.5, abs=4.0)
    # prices: complete pass-through to duty-inclusive prices (Amiti, Redding and Weinstein 2019)
    assert r.buyer_price[11, 0, list(b.exporters).index("CHN"), 0] == pytest.approx(1.166 / 1.026, rel=1e-12)


# --------------------------------------------------------------------------- the 2025 episode


def monthly_facts() -> pd.DataFrame:
    with resources.files("tradesim.data").joinpath("facts_us_china_monthly.csv").open() as fh:
        f = pd.read_csv(fh)
    return f.pivot_table(index="month", columns="exporter", values="value_usd")


@pytest.fixture(scope="module")
def backcast():
    return quiet(tradesim.simulate, None, "us-china-2025")


def monthly_change(r, exporter, importer) -> np.ndarray:
    """The model's 2025 months over the baseline, percent."""
    i, j = list(r.baseline.exporters).index(exporter), list(r.baseline.importers).index(importer)
    return 100 * (r.flows[:12, :, i, j].sum(axis=1) / r.baseline.flows[:, i, j].sum() - 1)


def test_the_2025_backcast_matches_us_imports_from_china_within_five_points(backcast):
    facts = monthly_facts()
    actual = 100 * (facts.loc["2025-01":"2025-12", "CHN"].sum() / facts.loc["2024-01":"2024-12", "CHN"].sum() - 1)
    assert actual == pytest.approx(-29.7, abs=0.05)
    model = monthly_change(backcast, "CHN", "USA").mean()
    assert model == pytest.approx(actual, abs=5.0)


def test_the_2025_us_exports_to_china_that_the_model_is_checked_against():
    facts = monthly_facts()
    ratio = facts.loc["2025-04":"2025-12", "USA"].to_numpy() / facts.loc["2024-04":"2024-12", "USA"].to_numpy()
    assert 100 * (ratio.mean() - 1) == pytest.approx(-29.7, abs=0.05)
    # the months swing by 10 points around their mean (soybean seasons, aircraft deliveries): two standard
    # errors of the nine months' mean, 6.8 points, is what the data can tell apart
    assert 2 * 100 * ratio.std(ddof=1) / math.sqrt(ratio.size) == pytest.approx(6.8, abs=0.1)
    year = 100 * (facts.loc["2025-01":"2025-12", "USA"].sum() / facts.loc["2024-01":"2024-12", "USA"].sum() - 1)
    assert year == pytest.approx(-25.8, abs=0.05)
    q1 = 100 * (facts.loc["2025-01":"2025-03", "USA"].sum() / facts.loc["2024-01":"2024-03", "USA"].sum() - 1)
    assert q1 == pytest.approx(-13.5, abs=0.1)


def test_the_2025_backcast_matches_us_exports_to_china_after_the_april_escalation(backcast):
    facts = monthly_facts()
    ratio = facts.loc["2025-04":"2025-12", "USA"].to_numpy() / facts.loc["2024-04":"2024-12", "USA"].to_numpy()
    two_se = 2 * 100 * ratio.std(ddof=1) / math.sqrt(ratio.size)
    model = monthly_change(backcast, "USA", "CHN")
    assert model[3:12].mean() == pytest.approx(100 * (ratio.mean() - 1), abs=two_se)  # -30.7 against -29.7


def test_the_2025_backcast_matches_us_exports_to_china_for_the_year_within_five_points(backcast):
    facts = monthly_facts()
    actual = 100 * (facts.loc["2025-01":"2025-12", "USA"].sum() / facts.loc["2024-01":"2024-12", "USA"].sum() - 1)
    model = monthly_change(backcast, "USA", "CHN").mean()
    assert model == pytest.approx(actual, abs=5.0)  # -23.2 against -25.8


#: Chapters in which sources document that Chinese buyers stopped buying US goods in 2025 beyond what the tariffs
#: priced in (research notes of issue 21; chosen by that evidence, not by their fall: copper scrap (74, -73%) and ores
#: (26, -71%) fell as far and stay in): soybeans, no purchases May to October (two sources); energy, China's LNG
#: imports from the US zero from March, crude from June, coal after May (China NBS; two sources); sorghum, corn and
#: wheat, -95% to -99% (one source, secondary); cotton, -79% to -89% (one source, secondary).
HALTED = ("10", "12", "27", "52")


def chapter_facts() -> pd.DataFrame:
    with resources.files("tradesim.data").joinpath("facts_us_exports_china_chapters.csv").open() as fh:
        return pd.read_csv(fh, dtype={"chapter": str}).set_index("chapter")


def test_outside_the_documented_purchase_halts_us_exports_to_china_fall_as_the_tariffs_say(backcast):
    facts = chapter_facts()
    chapters = facts.drop(index="total")
    assert chapters[["value_2024_usd", "value_2025_usd"]].sum().tolist() == facts.loc["total", ["value_2024_usd",
                                                                                               "value_2025_usd"]].tolist()
    halted = chapters.index.isin(HALTED)

    def change(rows):
        return 100 * (rows["value_2025_usd"].sum() / rows["value_2024_usd"].sum() - 1)

    assert change(chapters) == pytest.approx(-25.9, abs=0.05)
    assert change(chapters[~halted]) == pytest.approx(-13.0, abs=0.05)  # USD 111.8bn to 97.3bn
    assert change(chapters[halted]) == pytest.approx(-71.7, abs=0.05)  # USD 31.7bn to 9.0bn

    r = backcast
    i, j = list(r.baseline.exporters).index("USA"), list(r.baseline.importers).index("CHN")
    base, year = r.baseline.flows[:, i, j], r.flows[:12, :, i, j].mean(axis=0)  # [product], USD a year
    in_halt = np.isin(np.asarray(r.baseline.products), HALTED)
    model_rest = 100 * (year[~in_halt].sum() / base[~in_halt].sum() - 1)
    # where tariffs are what changed, the model is within the 5 points of Census
    assert model_rest == pytest.approx(change(chapters[~halted]), abs=5.0)
    # in the four chapters the documented halts close most of the gap that the tariffs alone leave (about
    # -17% against -72%); what is left is cereals and cotton, which no source shows halted
    model_halted = 100 * (year[in_halt].sum() / base[in_halt].sum() - 1)
    tariffs = quiet(tradesim.simulate, None, without_halts(load_scenario("us-china-2025")))
    t_year = tariffs.flows[:12, :, i, j].mean(axis=0)
    tariffs_only = 100 * (t_year[in_halt].sum() / base[in_halt].sum() - 1)
    assert -25 < tariffs_only < -10
    closed = (tariffs_only - model_halted) / (tariffs_only - change(chapters[halted]))
    assert 0.5 < closed < 1.0  # 0.67: -17% to -54% against -72%
    assert 100 * (t_year[~in_halt].sum() / base[~in_halt].sum() - 1) == pytest.approx(model_rest, abs=0.5)


def without_halts(s):
    """`s` with its schedule's purchase halts left out: the tariffs alone."""
    law = s.schedule
    return dataclasses.replace(s, schedule=TariffSchedule([m for m in law.measures if m.rule != "halt"],
                                                          list(law.product_lists.values())))


def test_the_2025_backcast_of_us_exports_to_china_before_and_after(backcast):
    # what the law explains: next to nothing before the retaliation of Feb 10 and the LNG halt of March (the
    # Q1 slump of -13.5% is not tariff-driven), a fall of a quarter to a third after the escalation
    model = monthly_change(backcast, "USA", "CHN")
    assert model[:3].mean() > -1
    assert -35 < model[3:12].mean() < -25 and -28 < model.mean() < -18


def test_after_geneva_imports_do_not_recover_half_of_the_fall_within_two_months(backcast):
    # China's exports to the US stayed about 25-45% down for the rest of 2025 (Census and China's customs)
    m = monthly_change(backcast, "CHN", "USA")
    trough = m[3:5].min()  # April-May, the 145% weeks
    july = m[6]  # two months after the cut of May 14
    assert (july - trough) / -trough <= 0.5
    assert m[5:12].max() < -30  # and stays down, as the data did (-35% to -46%)


def test_the_actual_fall_is_inside_the_default_ensembles_90_percent_band():
    r = quiet(ensemble.run, None, "us-china-2025", draws=40, seed=2025)
    for exporter, importer, actual in (("CHN", "USA", -29.7), ("USA", "CHN", -25.8)):
        i, j = list(r.baseline.exporters).index(exporter), list(r.baseline.importers).index(importer)
        base = r.baseline.flows[:, i, j].sum()
        yearly = 100 * (r.flows[:, :12, i, j].mean(axis=1) / base - 1)  # [draw]
        low, high = np.quantile(yearly, [0.05, 0.95])
        assert low <= actual <= high, (exporter, importer)  # [-34.4, -24.9] and [-26.4, -21.3]
        assert high - low < 15  # and the band says something


# --------------------------------------------------------------------------- partial adjustment by hand


def test_partial_adjustment_moves_prices_and_revenue_at_once_and_welfare_with_the_quantities():
    f_c, f_m, t = 40e9, 60e9, 0.5
    b = rectangle(["01"], {("01", "CHN"): f_c, ("01", "MEX"): f_m})
    half = 2.0
    sc = scenario([Measure("x", "USA", t, "2025-01-01", exporters=["CHN"])], frequency="daily",
                  end=dt.date(2025, 3, 31), dynamics=Dynamics(half_life_months=half, front_loading=0))
    r = quiet(tradesim.simulate, b, sc)
    sigma, eta = E.sigma, E.eta
    # the long-run equilibrium by hand: CES index with expenditure shares, eta = 1
    s = f_c / (f_c + f_m)
    tau = 1 + t
    P = (s * tau ** (1 - sigma) + (1 - s)) ** (1 / (1 - sigma))
    q_c, q_m = tau ** -sigma * P ** (sigma - eta), P ** (sigma - eta)
    cs_star = -(f_c + f_m) * math.log(P)
    rev_star = t * f_c * q_c
    w_star = cs_star + rev_star
    usa = list(r.baseline.countries).index("USA")
    for day in (1, 30, 89):
        h = (day + 0.5) / 365.25
        w = 1 - 2 ** (-12 * h / half)
        qc, qm = q_c**w, q_m**w
        assert r.quantity[day, 0, 0, 0] == pytest.approx(qc, rel=1e-9)
        assert r.quantity[day, 0, 1, 0] == pytest.approx(qm, rel=1e-9)  # Mexico's gain phases in alike
        assert r.buyer_price[day, 0, 0, 0] == pytest.approx(tau, rel=1e-12)  # at once
        values = {k: v[day, usa] for k, v in r.country_values.items()}
        assert values["import_price_index_change_pct"] == pytest.approx(100 * (P - 1), rel=1e-9)  # at once
        assert values["revenue_change_usd"] == pytest.approx(t * f_c * qc, rel=1e-9)  # current tariffs, flows
        assert values["welfare_usd"] == pytest.approx(w * w_star, rel=1e-9)  # the deadweight loss phases in
        assert values["consumer_surplus_usd"] == pytest.approx(w * w_star - t * f_c * qc, rel=1e-9)
        # and the pair table shows the same revenue
        assert r.revenue[day, 0, 0, 0] == pytest.approx(t * f_c * qc, rel=1e-9)
    # the first day is a transfer: buyers pay the tariff on what they bought before
    first = {k: v[0, usa] for k, v in r.country_values.items()}
    assert first["consumer_surplus_usd"] == pytest.approx(-t * f_c, rel=0.01)


def test_a_share_of_a_fall_persists_after_the_tariff_is_removed():
    b = rectangle(["01"], {("01", "CHN"): 40e9, ("01", "MEX"): 60e9})
    on_off = [Measure("x", "USA", 1.0, "2025-01-01", end="2025-07-01", exporters=["CHN"])]
    kw = dict(end=dt.date(2030, 12, 31), frequency="annual")
    free = quiet(tradesim.simulate, b, scenario(on_off, dynamics=Dynamics(front_loading=0), **kw))
    sticky = quiet(tradesim.simulate, b, scenario(on_off, dynamics=Dynamics(front_loading=0, persistence=0.25), **kw))
    peak = quiet(tradesim.simulate, b, np.zeros(b.flows.shape), np.where(b.flows > 0, 1.0, 0.0) *
                 (np.asarray(b.exporters) == "CHN")[None, :, None]).solution.quantity[0, 0, 0]
    assert free.quantity[-1, 0, 0, 0] == pytest.approx(1.0, abs=1e-6)  # all of it comes back
    assert sticky.quantity[-1, 0, 0, 0] == pytest.approx(peak**0.25, rel=1e-6)  # a quarter of the fall stays
    # flows keep the same share of their fall as quantities (export prices do not move): USD, not ratios,
    # used to escape persistence, whose falls were measured from 1 USD
    np.testing.assert_allclose(sticky.flows, sticky.quantity * b.flows, rtol=1e-9)
    assert sticky.flows[-1, 0, 0, 0] == pytest.approx(40e9 * peak**0.25, rel=1e-6)


# --------------------------------------------------------------------------- products cut where the law cuts


def test_a_tariff_on_half_a_product_costs_what_it_costs_on_its_own_lines():
    # 25% on half of a product's trade (its covered lines), against the blended 12.5% on all of it:
    # the loss is convex in the rate, so blending understates it
    fine = pd.Series({"850110": 50e9, "850120": 50e9})
    b = rectangle(["8501"], {("8501", "CHN"): 100e9, ("8501", "MEX"): 50e9})
    m = Measure("x", "USA", 0.25, "2025-01-01", exporters=["CHN"], products=["850110"])
    sc = scenario([m], dynamics=Dynamics(adjustment="none"))
    split = quiet(tradesim.simulate, b, sc, fine_values=fine)
    usa = list(split.baseline.countries).index("USA")
    loss_split = split.country_values["welfare_usd"][0, usa]
    # the same as two products on their own
    two = rectangle(["850110", "850120"], {("850110", "CHN"): 50e9, ("850120", "CHN"): 50e9,
                                           ("850110", "MEX"): 25e9, ("850120", "MEX"): 25e9})
    t = np.zeros(two.flows.shape)
    t[0, list(two.exporters).index("CHN"), 0] = 0.25
    apart = quiet(tradesim.simulate, two, np.zeros_like(t), t).summary("country").loc["USA", "welfare_usd"]
    assert loss_split == pytest.approx(apart, rel=1e-10)
    # blended: 12.5% on the whole product
    t = np.zeros(b.flows.shape)
    t[0, list(b.exporters).index("CHN"), 0] = 0.125
    blended = quiet(tradesim.simulate, b, np.zeros_like(t), t).summary("country").loc["USA", "welfare_usd"]
    assert loss_split < blended < 0 and loss_split / blended > 1.3
    assert any("solved as 2 parts" in n for n in split.notes)
    # results are on products: flows add up, the tariff is the value-weighted rate
    assert split.tariff[0, 0, list(b.exporters).index("CHN"), 0] == pytest.approx(0.125)
    assert split.flows.shape == (12, 1, 2, 1)


# --------------------------------------------------------------------------- what the tables say


def test_results_say_what_is_zero_by_assumption_and_what_the_price_index_measures(backcast):
    notes = " ".join(backcast.notes)
    assert "zero by assumption" in notes and "not a consumer price index" in notes
    table = backcast.summary("country")
    bystanders = table[~table["country"].isin(["USA", "CHN"])]
    assert (bystanders["welfare_usd"] == 0).all()  # rounding error shows as zero, not as 1e-5
    assert "import_price_index_change_pct" in table.columns and "price_index_change_pct" not in table.columns


def test_diversion_on_tariff_lines_follows_each_partners_product_mix():
    # On chapters every bystander of a product gains the same share (nested CES); on measured HTS8 lines a
    # partner gains where it sells what China sold: Vietnam (furniture, electronics) far more than Canada
    b = tradesim.load_baseline("us-imports-2024")
    t1 = np.zeros(b.flows.shape)
    t1[:, list(b.exporters).index("CHN"), 0] = 0.5
    r = quiet(tradesim.simulate, b, np.zeros_like(t1), t1)
    change = r.summary("pair").set_index("exporter")["value_change_pct"]
    assert change["CHN"] < -40
    # ROW is measured by chapter in this baseline, so its cells are other products than the partners' lines:
    # it neither competes with China's lines nor gains from their tariff
    assert change["ROW"] == 0
    bystanders = change.drop(["CHN", "ROW"])
    assert (bystanders > 0).all()
    assert change["VNM"] > 3 * change["CAN"] and bystanders.max() > 5 * bystanders.min()
