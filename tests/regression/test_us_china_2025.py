"""The bundled us-china-2025 schedule (the CHN-USA pair of tariffs-2025) against the published
headline rates of 2025-26.

Headlines (shared/reference/README.md, tariff_events_2025.csv; two sources each): the US IEEPA
layer on Chinese goods was 10% from Feb 4 2025, 20% from Mar 4, 30% from Apr 5, 104% from Apr 9,
145% from Apr 10, 30% from May 14 (Geneva), 20% from Nov 10 and 0 once collection stopped on
Feb 24 2026, when a 10% Section 122 surcharge began. China's duty on US goods was 84% from Apr 10,
125% from Apr 12 and 10% from May 14. Exemptions remove only the reciprocal part; Section 232
goods do not pay the reciprocal duty; cars under Section 232 autos do not pay the metals duty.
Rates include MFN (zero on the toys, electronics and steel used here).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.errors import TradesimWarning

IEEPA = ["ieepa_fentanyl", "ieepa_reciprocal"]
STEPS = ["2025-02-04", "2025-03-04", "2025-04-05", "2025-04-09", "2025-04-10", "2025-05-14", "2025-11-10", "2026-02-24"]
HEADLINE = [10, 20, 30, 104, 145, 30, 20, 0]
FENTANYL = [10, 20, 20, 20, 20, 20, 10, 0]


@pytest.fixture(scope="module")
def regime():
    return tradesim.load_schedule("us-china-2025")


def ieepa(regime, date, product):
    return 100 * regime.rate(date, product, "CHN", "USA", layers=IEEPA)


@pytest.mark.parametrize("date, headline", list(zip(STEPS, HEADLINE)))
def test_plain_product_pays_the_headline(regime, date, headline):
    # toys: no Section 301 (List 4B suspended), no Section 232, no exemption
    assert ieepa(regime, date, "950300") == pytest.approx(headline)
    s122 = 10 if date == "2026-02-24" else 0
    assert 100 * regime.rate(date, "950300", "CHN", "USA") == pytest.approx(headline + s122)


def test_the_day_before_each_step_has_the_previous_rate(regime):
    before = [pd.Timestamp(d) - pd.Timedelta(days=1) for d in STEPS]
    assert [ieepa(regime, d, "950300") for d in before] == pytest.approx([0] + HEADLINE[:-1])


@pytest.mark.parametrize("date, fentanyl", list(zip(STEPS, FENTANYL)))
def test_exempted_electronics_pay_only_the_fentanyl_duty(regime, date, fentanyl):
    assert 100 * regime.rate(date, "85171300", "CHN", "USA") == pytest.approx(fentanyl)  # smartphones
    # laptops too, but for the part of their subheading that are auto-part computers (Section 232 from May 3)
    assert 100 * regime.rate(date, "847130", "CHN", "USA", layers=IEEPA) == pytest.approx(fentanyl)
    # the memo of Apr 11 applied from Apr 5
    if date in ("2025-04-05", "2025-04-10"):
        table = regime.explain(date, "847130", "CHN", "USA").set_index("measure")
        recip = table[table.group == "ieepa_reciprocal"]
        assert (recip[recip.status != "not in force"].status == "exempted by ieepa_electronics_2025_04_05").all()


@pytest.mark.parametrize(
    "date, s232, s301", [("2025-04-14", 25, 25), ("2025-06-04", 50, 25), ("2025-11-10", 50, 25), ("2026-02-24", 50, 25)]
)
def test_steel_pays_section_232_not_the_reciprocal_duty(regime, date, s232, s301):
    idx = STEPS.index(date) if date in STEPS else 4
    table = regime.explain(date, "720851", "CHN", "USA").set_index("measure")
    applied = table[table.status == "applied"]["contribution_pct"]
    assert applied.filter(like="us_s232").sum() == pytest.approx(s232)
    assert applied.filter(like="us_s301").sum() == pytest.approx(s301)
    assert ieepa(regime, date, "720851") == pytest.approx(FENTANYL[idx])
    live = table[table.group.isin(["ieepa_reciprocal", "s122"]) & (table.status != "not in force")]
    assert live.status.str.startswith("replaced by us_s232").all()


def test_cars_pay_the_auto_duty_and_neither_steel_nor_reciprocal(regime):
    table = regime.explain("2025-04-14", "870323", "CHN", "USA").set_index("measure")
    assert table.loc["us_s232_autos_25", "status"] == "applied"
    assert table.loc["us_s232_autos_25", "contribution_pct"] == pytest.approx(25)
    assert table.loc["us_ieepa_recip_pause_china_125", "status"] == "replaced by us_s232_autos_25"
    assert table.loc["us_ieepa_fentanyl_chn_20", "contribution_pct"] == pytest.approx(20)
    assert table.loc["us_mfn", "contribution_pct"] == pytest.approx(2.5)  # HTS 8703.23.01: 2.5%
    assert table.loc["total", "contribution_pct"] == pytest.approx(2.5 + 25 + 25 + 20)  # Section 301 List 1
    assert ieepa(regime, "2025-04-14", "870323") == pytest.approx(20)
    before = 100 * regime.rate("2025-04-02", "870323", "CHN", "USA", layers=["s232_autos"])
    assert before == 0  # the auto duty began on Apr 3


@pytest.mark.parametrize("date, rate", [("2025-04-09", 0), ("2025-04-10", 84), ("2025-04-12", 125), ("2025-05-14", 10), ("2026-02-24", 10)])
def test_china_counter_duty_and_its_exemptions(regime, date, rate):
    counter = ["cn_retaliation"]
    assert 100 * regime.rate(date, "9503", "USA", "CHN", layers=counter) == pytest.approx(rate)
    assert 100 * regime.rate(date, "29011010", "USA", "CHN", layers=counter) == pytest.approx(10 if rate == 10 else 0)
    # memory chips stayed at 125%; processors were waived
    assert 100 * regime.rate(date, "854232", "USA", "CHN", layers=counter) == pytest.approx(rate)
    assert 100 * regime.rate(date, "854231", "USA", "CHN", layers=counter) == pytest.approx(10 if rate == 10 else 0)
    # the total adds China's MFN and what remains of its 2018-19 retaliation, unchanged through 2025
    rest = 100 * regime.rate("2025-01-01", "9503", "USA", "CHN")
    assert rest > 0 and 100 * regime.rate(date, "9503", "USA", "CHN") == pytest.approx(rest + rate)


def test_chinas_farm_duties_end_on_nov_10(regime):
    # soybeans other than seed (the March list names 120190, not seed soybeans 120110)
    farm = ["cn_counter_2025_03_10_15", "cn_counter_2025_03_10_10", "cn_retaliation"]
    assert 100 * regime.rate("2025-04-14", "120190", "USA", "CHN", layers=farm) == pytest.approx(135)
    assert 100 * regime.rate("2025-11-09", "120190", "USA", "CHN", layers=farm) == pytest.approx(20)
    assert 100 * regime.rate("2025-11-10", "120190", "USA", "CHN", layers=farm) == pytest.approx(10)
    # soybeans' 3% MFN; the 2018-19 retaliation was waived for them (China's exclusion process)
    assert 100 * regime.rate("2025-11-10", "120190", "USA", "CHN") == pytest.approx(13)


def test_bundled_lists_have_the_published_sizes(regime):
    sizes = {name: len(pl) for name, pl in regime.product_lists.items()}
    assert sizes["ieepa_annex_ii_2025_04_05"] == 1039
    assert sizes["ieepa_annex_ii_2025_09_08"] == 797 + 37 + 2
    assert sizes["ieepa_electronics_2025_04_05"] == 20
    assert sizes["ieepa_farm_2025_11_13"] == 237
    assert "854232" not in regime.product_lists["cn_exemptions_2025_04"].codes


def test_the_view_is_the_whole_law_on_the_pair(regime):
    whole = tradesim.load_schedule("tariffs-2025")
    products = ["950300", "847130", "720851", "870323", "1201", "29011010", "854232", "0303"]
    dates = ["2025-01-01", "2025-04-12", "2025-08-07", "2025-11-14", "2026-03-01", "2026-11-10"]
    for e, i in (("CHN", "USA"), ("USA", "CHN")):
        for d in dates:
            ours = regime.rates(d, products, [e], [i])
            assert ours == pytest.approx(whole.rates(d, products, [e], [i]), abs=1e-12)
    # and nothing on anyone else
    assert regime.rates("2025-04-12", products, ["VNM", "CHN"], ["USA"])[:, 0, 0] == pytest.approx(0)
    assert {m.importer for m in regime.measures} == {"USA", "CHN"}
    assert regime.as_of == whole.as_of and regime.version == whole.version


def test_every_measure_cites_a_source(regime):
    assert all(m.source for m in regime.measures)
    assert all(pl.source for pl in regime.product_lists.values())


def test_effective_rate_on_demo_baseline_follows_the_headline(regime):
    base = tradesim.load_baseline("demo-2024")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        path = [tradesim.effective_rate(regime, base, d, "USA", "CHN", kinds="additional") for d in STEPS]
    # the trade-weighted rate moves with the headline: up to Apr 10, down after
    assert np.all(np.diff(path[:5]) > 0) and np.all(np.diff(path[4:]) < 0)
    # exemptions and Section 232 keep it below the Apr 10 headline plus Section 301
    assert path[4] < 1.45 + 0.25


def test_rates_on_the_bundled_baseline_against_piie(regime):
    # China's tariff on US goods: PIIE (Bown) about 21% before 2025 and 32.6% after Geneva, MFN and the 2018-19
    # retaliation included (tariffs-2025/trackers.csv). Within 3 points, as for the whole schedule; the US side
    # differs from PIIE's by the weights (see test_tariffs_2025.py) and is checked against Census there.
    base = tradesim.load_baseline("demo-2024")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        rate = {d: 100 * tradesim.effective_rate(regime, base, d, "CHN", "USA", fine_values="fine-values-2024")
                for d in ("2025-01-20", "2025-05-14")}
    assert rate["2025-01-20"] == pytest.approx(21.2, abs=3)
    assert rate["2025-05-14"] == pytest.approx(32.6, abs=3)
