"""The rule kinds of 2025 law: all-in floors, value-share bases, qualifying shares, lists for some
exporters, rates by exporter and measures that follow another's dates; each against a hand
calculation, with properties, explain and the errors a schedule file can hold."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim import InputError, Measure, ProductList, ScenarioError, TariffSchedule
from tradesim.law import RULES, field_table

D = "2025-09-01"


def M(name, rate, **kw):
    kw.setdefault("exporters", ["DEU", "JPN"])
    return Measure(name, "USA", rate, kw.pop("start", "2025-01-01"), **kw)


MFN = M("mfn", 0.0, exporters=None, kind="mfn", product_rates={"8703": 0.025, "6109": 0.165, "8471": 0.0})


def test_an_all_in_floor_tops_mfn_up_to_its_rate_or_adds_nothing():
    s = TariffSchedule([MFN, M("eu_floor", 0.15, rule="floor")])
    assert s.rate(D, "870323", "DEU", "USA") == pytest.approx(0.15)  # 2.5% MFN + 12.5 points
    assert s.rate(D, "610910", "DEU", "USA") == pytest.approx(0.165)  # MFN above the floor: nothing added
    assert s.rate(D, "847130", "DEU", "USA") == pytest.approx(0.15)  # MFN free: the whole floor
    assert s.rate(D, "870323", "VNM", "USA") == pytest.approx(0.025)  # not covered
    ex = s.explain(D, "870323", "DEU", "USA").set_index("measure")
    assert ex.loc["eu_floor", "status"] == "floored at 15% over MFN 2.5%"
    assert ex.loc["eu_floor", "contribution_pct"] == pytest.approx(12.5)


def test_a_floor_with_preferences_tops_up_only_the_mfn_actually_paid():
    # half of Korea's trade in a line enters under KORUS (no MFN): the floor tops up both halves
    mfn = M("mfn", 0.04, exporters=None, kind="mfn", qualifying={"KOR": 0.5})
    s = TariffSchedule([mfn, M("kor_floor", 0.15, exporters=["KOR"], rule="floor")])
    assert s.rate(D, "870323", "KOR", "USA") == pytest.approx(0.15 + 0.0 * 0.5)  # 2% MFN + 13 points = 15%


def test_a_value_share_charges_the_metal_content_only_and_displaces_only_there():
    recip = M("recip", 0.10, exporters=None, group="ieepa_reciprocal")
    s232 = M("s232_deriv", 0.50, exporters=None, products=["8807"], value_shares={"8807": 0.3},
             replaces=["ieepa_reciprocal"])
    s = TariffSchedule([recip, s232])
    # 50% on 30% of the value, and the reciprocal 10% on the other 70%
    assert s.rate(D, "880730", "GBR", "USA") == pytest.approx(0.5 * 0.3 + 0.1 * 0.7)
    ex = s.explain(D, "880730", "GBR", "USA").set_index("measure")
    assert ex.loc["s232_deriv", "status"] == "applied on 30% of value"
    assert ex.loc["s232_deriv", "rate_pct"] == pytest.approx(50)
    assert s.rate(D, "950300", "GBR", "USA") == pytest.approx(0.10)


def test_a_qualifying_share_reaches_only_the_trade_that_does_not_qualify():
    fent = M("fent", 0.25, exporters=["CAN", "MEX"], qualifying={"CAN": 0.4},
             qualifying_lines={("CAN", "8703"): 0.9, ("MEX", "87"): 0.6})
    s = TariffSchedule([fent])
    assert s.rate(D, "950300", "CAN", "USA") == pytest.approx(0.25 * 0.6)  # the exporter's share
    assert s.rate(D, "870323", "CAN", "USA") == pytest.approx(0.25 * 0.1)  # its line overrides it
    assert s.rate(D, "870323", "MEX", "USA") == pytest.approx(0.25 * 0.4)  # by chapter
    assert s.rate(D, "950300", "MEX", "USA") == pytest.approx(0.25)
    ex = s.explain(D, "870323", "CAN", "USA").set_index("status")
    assert ex.loc["qualifies for an exemption (qualifying share)", "share"] == pytest.approx(0.9)


def test_lists_for_some_exporters_and_rates_by_exporter():
    carve = ProductList("eu_carveout", ["3004"], exporters=["DEU"])
    recip = M("recip", 0.10, exporters=None, exporter_rates={"VNM": 0.20, "CHE": 0.39}, exclude=["eu_carveout"])
    s = TariffSchedule([recip], [carve])
    rates = s.rates(D, ["300490", "950300"], ["DEU", "JPN", "VNM", "CHE"], ["USA"])[:, :, 0]
    np.testing.assert_allclose(rates, [[0.0, 0.10, 0.20, 0.39], [0.10, 0.10, 0.20, 0.39]])
    owned = ProductList("per_country", ["3004", "8703"], code_exporters=["DEU", "JPN"])
    s2 = TariffSchedule([M("x", 0.1, exporters=None, exclude=["per_country"])], [owned])
    r = s2.rates(D, ["300490", "870323"], ["DEU", "JPN"], ["USA"])[:, :, 0]
    np.testing.assert_allclose(r, [[0.0, 0.1], [0.1, 0.0]])


def test_a_measure_follows_another_measures_dates():
    a = M("a", 0.1, start="2025-04-05", end="2025-08-07")
    b = M("b", 0.05, start=None, follows="a", exporters=["VNM"])
    s = TariffSchedule([a, b])
    assert s.measure("b").start == dt.date(2025, 4, 5) and s.measure("b").end == dt.date(2025, 8, 7)
    assert s.rate("2025-05-01", "9503", "VNM", "USA") == pytest.approx(0.05)
    assert s.rate("2025-09-01", "9503", "VNM", "USA") == 0.0


def test_every_rule_reads_fields_of_the_one_field_table():
    names = [r.name for r in RULES]
    assert names == ["in_force", "cover", "qualify", "replace", "charge", "floor", "group", "halt"]
    table = field_table().set_index("field")
    assert {r for rules in table["rule"] for r in rules.split()} == set(names)  # "floor halt": both read `rule`
    for rule in RULES:
        assert rule.fields, rule.name
    assert table.loc["value_shares", "file key"] == "value_shares_pct or value_shares_file"
    assert table.loc["qualifying_lines", "file key"] == "qualifying_file"


# --------------------------------------------------------------------------- properties

rates = st.floats(0, 3)
shares = st.floats(0, 1)


@settings(max_examples=60, deadline=None)
@given(mfn=rates, floor=rates, extra=rates)
def test_a_floor_never_lowers_a_total(mfn, floor, extra):
    base = [M("mfn", mfn, exporters=None, kind="mfn"), M("s301", extra, exporters=["DEU"])]
    without = TariffSchedule(base).rate(D, "8703", "DEU", "USA")
    with_floor = TariffSchedule(base + [M("f", floor, rule="floor")]).rate(D, "8703", "DEU", "USA")
    assert with_floor >= without - 1e-12
    assert with_floor == pytest.approx(max(mfn, floor) + extra)


@settings(max_examples=60, deadline=None)
@given(rate=rates, other=rates)
def test_a_value_share_of_one_is_the_plain_duty(rate, other):
    plain = TariffSchedule([M("o", other, group="g"), M("x", rate, replaces=["g"])])
    shared = TariffSchedule([M("o", other, group="g"), M("x", rate, replaces=["g"], value_share=1.0)])
    assert shared.rate(D, "7208", "DEU", "USA") == pytest.approx(plain.rate(D, "7208", "DEU", "USA")) == \
        pytest.approx(rate)


@settings(max_examples=60, deadline=None)
@given(rate=rates, q=shares)
def test_qualifying_shares_scale_the_duty_and_one_exempts_everything(rate, q):
    s = TariffSchedule([M("x", rate, qualifying={"DEU": q})])
    assert s.rate(D, "7208", "DEU", "USA") == pytest.approx(rate * (1 - q))
    assert TariffSchedule([M("x", rate, qualifying={"DEU": 1.0})]).rate(D, "7208", "DEU", "USA") == 0.0


# --------------------------------------------------------------------------- bad input


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_bad_values_of_the_new_keys_are_all_reported_with_file_line_and_key(tmp_path):
    (tmp_path / "q.csv").write_text("exporter,hs_code,share_pct\nCAN,8703,120\nCAN,87A3,10\n")
    path = write(tmp_path, """
[[measures]]
name = "floor"
importer = "USA"
rate_pct = -5
rule = "floor"
start = 2025-08-07

[[measures]]
name = "deriv"
importer = "USA"
rate_pct = 50
value_share_pct = 130
start = 2025-06-04

[[measures]]
name = "fent"
importer = "USA"
rate_pct = 25
qualifying_pct = { CAN = 40, XXX = 10 }
qualifying_file = "q.csv"
start = 2025-03-07

[[measures]]
name = "recip"
importer = "USA"
rate_pct = 10
exporter_rates_pct = { VNM = 20, ZZZ = 30 }
rule = "sometimes"
follows = "nowhere"
start = 2025-04-05
""")
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    found = {p.key: p for p in err.value.problems}
    assert {"measures[0].rate_pct", "measures[1].value_share_pct", "measures[2].qualifying_pct",
            "measures[2].qualifying_file", "measures[3].exporter_rates_pct", "measures[3].rule",
            "measures[3].follows"} <= set(found)
    assert "-5% is outside 0%" in str(found["measures[0].rate_pct"])
    assert "1.3 is not a share" in str(found["measures[1].value_share_pct"])
    assert "unknown country code 'XXX'" in str(found["measures[2].qualifying_pct"])
    assert "line 2: share_pct '120'" in str(found["measures[2].qualifying_file"]) and \
        "line 3: HS code '87A3'" in str(found["measures[2].qualifying_file"])
    assert "unknown country code 'ZZZ'" in str(found["measures[3].exporter_rates_pct"])
    assert "'sometimes' is not one of ['add', 'floor', 'halt']" in str(found["measures[3].rule"])
    assert all(p.line for p in err.value.problems)


def test_a_floor_that_replaces_the_mfn_it_is_measured_against_is_refused():
    with pytest.raises(InputError, match="a floor is measured against the MFN layers, so it cannot replace 'mfn'"):
        TariffSchedule([MFN, M("f", 0.15, rule="floor", replaces=["mfn"])])
    with pytest.raises(InputError, match="give either follows or start/end"):
        TariffSchedule([M("a", 0.1), M("b", 0.1, follows="a", start="2024-01-01")])
    with pytest.raises(InputError, match="follows forms a cycle"):
        TariffSchedule([M("a", 0.1, start=None, follows="b"), M("b", 0.1, start=None, follows="a")])


def test_a_list_file_with_a_bad_code_names_its_line(tmp_path):
    (tmp_path / "l.csv").write_text("hs_code,exporter\n8703,DEU\n870,DEU\n")
    path = write(tmp_path, '[[product_lists]]\nname = "l"\nfile = "l.csv"\n')
    with pytest.raises(ScenarioError, match=r"l.csv: column 'hs_code': line 3: HS code '870' has 3 digits"):
        TariffSchedule.from_file(path)
