"""Bundled scenarios: each validates and runs on the bundled baseline; the 2025 path has the published
headline rates on its key dates, and the main effects have the expected sign and rough size.

Headlines (shared/reference/tariff_events_2025.csv, two sources each): the US IEEPA duties on Chinese
goods were 20% from Mar 4 2025, 145% from Apr 10, 30% from May 14 (Geneva), 20% from Nov 10 and
gone from Feb 24 2026, when a 10% Section 122 surcharge began. China's duty was 125% from Apr 12
and 10% from May 14. US imports from China fell by about a third in spring 2025 (Census; the
April-May 2025 monthly values were 20-40% below a year earlier) and recovered partly after Geneva.
"""

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.models import charged
from tradesim.scenario import list_scenarios, load_scenario

BUNDLED = list(list_scenarios().index)


@lru_cache(maxsize=None)
def result(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(None, load_scenario(name))


def imports(name, exporter="CHN", importer="USA"):
    s = result(name).summary("pair", [(exporter, importer)])
    return s.set_index(s["date"].dt.strftime("%Y-%m"))["value_change_pct"]


def test_all_twelve_are_bundled():
    assert set(BUNDLED) == {"us-china-2025", "april-peak", "geneva-truce", "phased-cut", "escalation",
                            "china-exemptions", "auto-stacking-relief", "truce-lapse",
                            "tariffs-2025", "liberation-day", "no-deals", "ieepa-upheld"}


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_scenario_validates_cites_and_runs(name):
    scenario = load_scenario(name)
    assert scenario.description and (scenario.sources or scenario.extends)
    r = result(name)
    assert r.flows.shape == (len(r.dates), *r.baseline.flows.shape)
    assert np.isfinite(r.flows).all() and (r.flows >= 0).all()
    assert (r.tariff >= 0).all()
    # revenue is the tariff on the flows (exactly so in a month without a change of tariffs), for the
    # products the law treats as a whole; a product cut into parts pays each part's rate on its trade
    july = r.dates.get_loc(pd.Timestamp("2025-07-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        parts = scenario.parts(r.baseline)[1]
    whole = np.bincount(parts.parent, minlength=len(r.baseline.products)) == 1
    # (a product whose trade is all halted has the rate inf and pays nothing)
    assert r.revenue[july][whole] == pytest.approx(charged(r.tariff[july], r.flows[july])[whole], rel=1e-12, abs=1e-6)
    assert (r.revenue[july][~whole] >= 0).all()
    # nothing happens before the first change of tariffs (the US-China path's is on Feb 4 2025; the
    # whole regime's on Jan 1 2025, the Section 301 review's increases)
    first = r.dates.get_loc(pd.Timestamp("2025-01-01"))
    if r.baseline.provenance.get("name") == "demo-2024":
        assert np.abs(r.tariff[first] - r.tariff_reference).max() < 0.2
    else:
        moved = np.abs(r.tariff[first] - r.tariff_reference) > 0
        assert set(np.asarray(r.baseline.exporters)[np.nonzero(moved)[1]]) <= {"CHN"}
    if scenario.compare_to:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", tradesim.TradesimWarning)
            other = tradesim.simulate(r.baseline, scenario.counterfactual())
        table = r.compare(other)
        assert set(table["date"]) == set(r.dates)
        assert {"imports_usd_diff", "tariff_pct_diff"} <= set(table.columns)


@pytest.mark.parametrize("day, us_headline, cn_headline", [
    ("2025-03-15", 20, 0), ("2025-04-20", 145, 125), ("2025-06-15", 30, 10), ("2025-11-20", 20, 10),
    ("2026-03-01", 10, 10),
])
def test_us_china_2025_headline_rates_on_key_dates(day, us_headline, cn_headline):
    s = load_scenario("us-china-2025").schedule
    # a toy pays the IEEPA layers (and Section 122 from Feb 24 2026) and nothing else (its MFN rate is zero)
    assert 100 * s.rate(day, "950300", "CHN", "USA") == pytest.approx(us_headline)
    # China's counter-duty on top of its MFN rate and what remains of its 2018-19 retaliation
    assert 100 * s.rate(day, "9503", "USA", "CHN", layers=["cn_retaliation"]) == pytest.approx(cn_headline)


def test_period_tariffs_are_the_day_weighted_mean_of_the_schedule():
    r = result("us-china-2025")
    b, s = r.baseline, r.scenario.schedule
    april = r.dates.get_loc(pd.Timestamp("2025-04-01"))
    days = pd.date_range("2025-04-01", "2025-04-30")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)  # the subheading fallback, as in the run
        fine = r.scenario.load_fine_values()  # the scenario's finer trade values
        daily = np.mean([s.rates(d, b.products, b.countries, b.countries, fine_values=fine) for d in days], axis=0)
    traded = b.flows > 0  # the law is evaluated where there is trade; no model reads the other cells
    # where no halt reaches: the day-weighted mean of the daily rates; where one does (China's halts of US LNG
    # from March 1 and Boeing aircraft from April 15 in part of chapters 27 and 88), halted trade is left out
    clear = traded & (r.halted[april] == 0)
    assert r.tariff[april][clear] == pytest.approx(daily[clear], abs=1e-12)
    assert (r.tariff[april][~traded] == 0).all()
    assert sorted(b.products[k] for k in np.nonzero(traded & (r.halted[april] > 0))[0]) == ["27", "88"]
    assert np.isfinite(r.tariff[april][traded]).all()  # no product is halted whole in April


def test_us_imports_from_china_fall_in_april_and_may_and_stay_down_after_geneva():
    # Census: April -19.7%, May -41.4%, then -35% to -46% to the end of 2025 (facts_us_china_monthly.csv).
    # April within 6 points: the model front-loads the week between the announcement of Apr 2 and the duty
    # of Apr 9-10, and partial adjustment spreads the fall of the peak's three weeks into May
    us = imports("us-china-2025")
    cn = imports("us-china-2025", "USA", "CHN")
    assert us["2025-04"] == pytest.approx(-19.7, abs=6) and -50 < us["2025-05"] < -35
    # June to October inside the range of the Census months (-35% to -46%): no rebound after Geneva
    assert all(-46 <= us[m] <= -35 for m in ("2025-06", "2025-07", "2025-08", "2025-09", "2025-10"))
    assert -45 < cn["2025-05"] < -20 and cn["2025-04"] > cn["2025-05"]
    assert us["2025-01"] > -2  # before the fentanyl duty, almost nothing
    # after the Supreme Court ruling US rates fall, and imports come closer to the baseline
    assert us["2026-09"] > us["2025-10"]


def test_geneva_truce_raised_trade_against_the_april_peak():
    table = result("geneva-truce").compare(result("april-peak"))
    table = table.set_index([table["date"].dt.strftime("%Y-%m"), "exporter"])
    # the same tariffs until April; the two laws cut a few products into different parts (Geneva's annexes),
    # which moves March by a hundred-thousandth
    base = tradesim.load_baseline("demo-2024")
    china = base.flows[:, base.country_index("CHN"), base.country_index("USA")].sum()
    assert abs(table.loc[("2025-03", "CHN"), "imports_usd_diff"]) < 1e-4 * china
    gain = table.loc[("2025-07", "CHN"), "imports_usd_diff"] / 1e9
    assert 60 < gain < 250  # USD bn per year more US imports from China with the truce
    assert table.loc[("2025-07", "USA"), "imports_usd_diff"] > 0


def test_phased_cut_lies_between_the_peak_and_the_one_day_cut():
    peak, phased, actual = imports("april-peak"), imports("phased-cut"), imports("us-china-2025")
    for month in ["2025-06", "2025-09"]:
        assert peak[month] < phased[month] < actual[month]
    # the last step is on Nov 10 2025; trade catches up with the one-day cut within a year
    assert phased["2026-09"] == pytest.approx(actual["2026-09"], abs=1.5)


def test_escalation_cuts_trade_below_the_peak_from_june():
    esc, peak = imports("escalation"), imports("april-peak")
    assert esc["2025-04"] == pytest.approx(peak["2025-04"], abs=0.01)
    assert esc["2025-05"] > peak["2025-05"]  # buying ahead of the June rise, announced on May 20
    assert esc["2025-07"] < peak["2025-07"] - 3


def test_china_exemptions_saved_us_exports_while_the_high_duties_applied():
    without, actual = imports("china-exemptions", "USA", "CHN"), imports("us-china-2025", "USA", "CHN")
    assert without["2025-03"] == pytest.approx(actual["2025-03"])
    assert without["2025-05"] < actual["2025-05"] - 2
    # after the truce the gap closes as trade recovers (it does not close at once: quantities adjust)
    assert abs(without["2025-12"] - actual["2025-12"]) < abs(without["2025-05"] - actual["2025-05"]) / 4


def test_auto_stacking_relief_matters_for_vehicles_only():
    off, on = result("auto-stacking-relief"), result("us-china-2025")
    b = on.baseline
    k, i, j = b.products.index("87"), b.country_index("CHN"), b.country_index("USA")
    july = on.dates.get_loc(pd.Timestamp("2025-07-01"))
    assert off.tariff[july, k, i, j] > on.tariff[july, k, i, j]
    assert off.flows[july, k, i, j] < on.flows[july, k, i, j]
    toys = b.products.index("95")
    assert off.tariff[july, toys, i, j] == pytest.approx(on.tariff[july, toys, i, j])


def test_truce_lapse_changes_nothing_before_november_2026():
    lapse, actual = imports("truce-lapse", "USA", "CHN"), imports("us-china-2025", "USA", "CHN")
    assert lapse["2026-10"] == pytest.approx(actual["2026-10"])
    assert lapse["2026-12"] < actual["2026-12"] - 3


def test_to_frame_is_tidy_with_documented_variables():
    r = result("geneva-truce")
    frame = r.to_frame(level="cell")
    assert list(frame.columns) == ["date", "product", "exporter", "importer", "variable", "value", "unit"]
    assert set(frame["variable"]) == {"imports_usd", "imports_baseline_usd", "tariff_pct", "tariff_baseline_pct",
                                      "revenue_usd", "revenue_baseline_usd", "quantity_ratio", "buyer_price_ratio",
                                      "halted_pct"}  # China's purchase halts
    flows = frame[frame["variable"] == "imports_usd"]
    june = flows[(flows["date"] == "2025-06-01") & (flows["exporter"] == "CHN") & (flows["importer"] == "USA")]
    assert june["value"].sum() == pytest.approx(r.summary("pair", [("CHN", "USA")]).iloc[5]["imports_usd"])
    pairs = r.to_frame("imports_usd")  # level "pair": summed over products
    assert pairs.loc[(pairs["date"] == "2025-06-01") & (pairs["exporter"] == "CHN") & (pairs["importer"] == "USA"),
                     "value"].item() == pytest.approx(june["value"].sum())
    welfare = r.to_frame("welfare_usd", level="country")
    assert len(welfare) == len(r.dates) * len(r.baseline.countries) and set(welfare["unit"]) == {"USD"}
    with pytest.raises(tradesim.InputError, match="unknown variables"):
        r.to_frame(["gdp"])
