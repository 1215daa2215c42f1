"""Halts (``rule = "halt"``): an import ban or halted purchases. The law's rate on a halted cell is
``inf`` wherever it returns per-cell rates; averages over trade leave halted trade out and say how
much it was; explain says why; the bundled tariffs-2025 carries China's 2025 purchase halts."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradesim
from tradesim import InputError, Measure, ScenarioError, TariffSchedule, TradesimWarning
from tradesim.data.baseline import Baseline
from tradesim.law import effective_rate

D = "2025-06-01"
MFN = Measure("mfn", "CHN", 0.03, "2024-01-01", kind="mfn", product_rates={"27": 0.0})
DUTY = Measure("duty", "CHN", 0.10, "2025-03-10", exporters=["USA"], products=["12", "27"])
SOY = Measure("soy_halt", "CHN", start="2025-05-01", end="2025-10-30", rule="halt", exporters=["USA"],
              products=["1201"], exclude=["120110"])
BASE = [MFN, DUTY]


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return f(*args, **kw)


def H(**kw):
    """A halt of US soybeans into China with some fields changed."""
    return Measure("h", "CHN", **{"start": "2025-05-01", "rule": "halt", "exporters": ["USA"], "products": ["1201"],
                                  **kw})


# --------------------------------------------------------------------------- rates


def test_a_halt_is_inf_on_exactly_its_cells_and_leaves_the_others_alone():
    products, exporters = ["120190", "120110", "1202", "2709"], ["USA", "BRA"]
    halted = TariffSchedule([*BASE, SOY]).rates(D, products, exporters, ["CHN"])[:, :, 0]
    plain = TariffSchedule(BASE).rates(D, products, exporters, ["CHN"])[:, :, 0]
    where = np.zeros(halted.shape, bool)
    where[0, 0] = True  # US soybeans other than seed (120110 is excluded), not Brazil's
    assert np.isposinf(halted[where]).all()
    assert np.array_equal(halted[~where], plain[~where]) and np.isfinite(halted[~where]).all()
    assert not np.isnan(halted).any()


@pytest.mark.parametrize("day", ["2025-04-30", "2025-10-30", "2025-12-01"])
def test_a_halt_out_of_its_dates_changes_nothing(day):
    s, plain = TariffSchedule([*BASE, SOY]), TariffSchedule(BASE)
    assert s.rate(day, "120190", "USA", "CHN") == plain.rate(day, "120190", "USA", "CHN") == pytest.approx(0.13)


def test_rates_path_cells_and_layers_carry_inf_and_never_nan():
    s = TariffSchedule([*BASE, SOY])
    path = s.rates_path(["2025-04-01", D, "2025-11-01"], ["120190"], ["USA", "BRA"], ["CHN"])
    assert path[:, 0, 0, 0].tolist() == [pytest.approx(0.13), np.inf, pytest.approx(0.13)]
    assert path[:, 0, 1, 0].tolist() == [pytest.approx(0.03)] * 3
    on, _ = tradesim.data.layout.Cells.from_coords([0, 0], [0, 1], [0, 0], (1, 2, 1))
    assert s.rates(D, ["120190"], ["USA", "BRA"], ["CHN"], cells=on).tolist() == [np.inf, pytest.approx(0.03)]
    # layers: over the trade not halted (none here), with the halted share
    layers = s.layer_rates([D], ["120190"], "USA", "CHN").set_index("measure")
    assert layers["rate"].isna().all() and (layers["halted"] == 1.0).all()
    # only the layers asked for: without the halt, the rate of the others
    assert s.rate(D, "120190", "USA", "CHN", kinds=["mfn"]) == pytest.approx(0.03)
    assert s.rate(D, "120190", "USA", "CHN", layers=["duty"]) == pytest.approx(0.10)
    assert s.rate(D, "120190", "USA", "CHN", layers=["soy_halt"]) == np.inf


def test_a_halt_overrides_floors_groups_and_replacements_without_nan():
    s = TariffSchedule([MFN, Measure("a", "CHN", 0.34, "2025-01-01", exporters=["USA"], group="g"),
                        Measure("b", "CHN", 1.25, "2025-01-01", exporters=["USA"], group="g"),
                        Measure("fl", "CHN", 0.15, "2025-01-01", exporters=["USA"], rule="floor"),
                        Measure("r", "CHN", 0.05, "2025-01-01", exporters=["USA"], replaces=["g"]), SOY])
    rates = s.rates(D, ["120190", "2709"], ["USA"], ["CHN"]).ravel()
    assert rates[0] == np.inf and np.isfinite(rates[1])


def test_a_halted_line_inside_a_chapter_is_a_part_of_its_own():
    fine = pd.Series({"120190": 90.0, "120740": 10.0})  # the chapter's trade: soybeans 90, sesame 10
    s = TariffSchedule([*BASE, SOY])
    parts = s.parts_path(["2025-04-01", D], ["12"], ["USA"], ["CHN"], fine_values=fine, warn=False)
    assert parts.parent.tolist() == [0, 0]
    share, rates = parts.share[:, 0, 0], parts.rates[:, :, 0, 0]
    halted = np.isinf(rates[1])
    assert halted.sum() == 1 and share[halted] == pytest.approx([0.9])
    assert rates[1, ~halted] == pytest.approx([0.13]) and np.isfinite(rates[0]).all()
    # the chapter as one cell cannot hold the halt: the mean over the trade not halted, with a warning
    with pytest.warns(TradesimWarning, match=r"1 product\(s\) are halted in part \(12 from USA to CHN: 90% halted"):
        assert s.rate(D, "12", "USA", "CHN", fine_values=fine) == pytest.approx(0.13)
    # a halted line without trade (weight 0) does not halt its chapter
    none = pd.Series({"120190": 0.0, "120740": 10.0})
    assert quiet(s.rate, D, "12", "USA", "CHN", fine_values=none) == pytest.approx(0.13)
    # each layer's part over the trade not halted (the sesame), and the halted share
    layers = quiet(s.layer_rates, [D, "2025-04-01"], ["12"], "USA", "CHN", fine_values=fine).set_index(
        ["date", "measure"])
    june, april = layers.xs(pd.Timestamp(D).date()), layers.xs(pd.Timestamp("2025-04-01").date())
    assert june["rate"].to_dict() == pytest.approx({"mfn": 0.03, "duty": 0.10, "soy_halt": 0.0})
    assert june["halted"].tolist() == pytest.approx([0.9] * 3) and (april["halted"] == 0).all()
    assert april["rate"].sum() == pytest.approx(quiet(s.rate, "2025-04-01", "12", "USA", "CHN", fine_values=fine))
    # collapsing the parts with their trade as weights gives the mean over the parts not halted, never NaN
    assert parts.collapse(parts.rates[1], parts.share)[0, 0, 0] == pytest.approx(0.13)


def test_halts_on_different_dates_are_different_parts():
    s = TariffSchedule([*BASE, SOY, Measure("other", "CHN", start="2025-07-01", rule="halt", exporters=["USA"],
                                            products=["120740"])])
    fine = pd.Series({"120190": 90.0, "120740": 10.0, "120810": 5.0})
    parts = s.parts_path([D, "2025-08-01"], ["12"], ["USA"], ["CHN"], fine_values=fine, warn=False)
    assert parts.parent.size == 3  # soybeans, sesame and the rest: halted on different days
    assert np.isinf(parts.rates[1, :, 0, 0]).sum() == 2 and np.isinf(parts.rates[0, :, 0, 0]).sum() == 1


def test_a_halt_reaches_the_members_of_an_aggregate_by_their_values():
    s = TariffSchedule([Measure("all", "USA", 0.20, "2025-01-01"),
                        Measure("ban", "USA", start="2025-01-01", rule="halt", exporters=["CHE"], products=["85"])])
    fine = pd.DataFrame({"exporter": ["ROW", "ROW"], "importer": "USA", "member": ["CHE", "SGP"],
                         "product": ["85011000", "85011000"], "value": [30.0, 70.0]})
    with pytest.warns(TradesimWarning, match="85 from ROW to USA: 30% halted"):  # CHE's 30% of ROW's trade stops
        assert s.rate(D, "85", "ROW", "USA", fine_values=fine) == pytest.approx(0.20)  # SGP's rate
    only_sgp = fine.assign(value=[0.0, 70.0])
    assert quiet(s.rate, D, "85", "ROW", "USA", fine_values=only_sgp) == pytest.approx(0.20)


# --------------------------------------------------------------------------- averages


PRODUCTS = ["1201", "2709", "8703"]
# [product, exporter]: US soybeans 60, crude 30, cars 10; Brazil's soybeans 100
FLOWS = np.array([[60.0, 100.0], [30.0, 0.0], [10.0, 0.0]])


def baseline(flows=FLOWS):
    return Baseline(exporters=["USA", "BRA"], importers=["CHN"], products=PRODUCTS, flows=flows[:, :, None])


def test_averages_leave_halted_trade_out_and_report_its_share():
    s = TariffSchedule([*BASE, Measure("h", "CHN", start="2025-05-01", rule="halt", exporters=["USA"],
                                       products=["1201"])])
    b = baseline()
    # US trade not halted: crude 30 at 0%+0% (MFN 0 on 27; the duty is on 12 and 27: 10%) and cars 10 at 3%
    us = (30 * 0.10 + 10 * 0.03) / 40
    assert effective_rate(s, b, D, "CHN", "USA") == pytest.approx(us)
    everyone = (30 * 0.10 + 10 * 0.03 + 100 * 0.03) / 140
    assert effective_rate(s, b, D, "CHN") == pytest.approx(everyone)
    table = s.rate_table(b, "CHN", "2025-04-01", "2025-06-01")
    assert table.loc["2025-05-01", "USA"] == pytest.approx(100 * us)
    assert table.loc["2025-05-01", "BRA"] == pytest.approx(3.0)
    assert table.loc["2025-05-01", "all"] == pytest.approx(100 * everyone)
    assert table.loc["2025-05-01", "halted_pct"] == pytest.approx(100 * 60 / 200)
    assert table.loc["2025-04-01", "halted_pct"] == 0.0
    assert table.loc["2025-04-01", "USA"] == pytest.approx(100 * (60 * 0.13 + 30 * 0.10 + 10 * 0.03) / 100)
    layers = s.rate_table(b, "CHN", "2025-04-01", "2025-06-01", by="authority")
    assert layers.loc["2025-05-01", ["mfn", "duty", "h"]].sum() == pytest.approx(layers.loc["2025-05-01", "all"])
    assert layers.loc["2025-05-01", "h"] == 0.0 and layers.loc["2025-05-01", "halted_pct"] == pytest.approx(30.0)
    sections = s.rate_table(b, "CHN", "2025-04-01", "2025-06-01", by="section")
    assert np.isfinite(sections.drop(columns="halted_pct").to_numpy()).all()
    assert not layers.isna().any().any() and not table.isna().any().any()


def test_when_all_trade_is_halted_the_average_is_nan_and_the_halted_share_100():
    s = TariffSchedule([*BASE, Measure("ban", "CHN", start="2025-05-01", rule="halt")])
    b = baseline()
    assert np.isnan(effective_rate(s, b, D, "CHN", "USA"))
    table = s.rate_table(b, "CHN", "2025-04-01", "2025-06-01")
    assert np.isnan(table.loc["2025-05-01", "all"]) and table.loc["2025-05-01", "halted_pct"] == pytest.approx(100)
    assert np.isnan(table.loc["2025-05-01", ["USA", "BRA"]]).all()
    assert np.isfinite(table.loc["2025-04-01", "all"])


def test_effective_rate_leaves_out_only_the_halted_part_of_a_product():
    s = TariffSchedule([*BASE, Measure("h", "CHN", start="2025-05-01", rule="halt", exporters=["USA"],
                                       products=["120190"])])
    b = Baseline(exporters=["USA"], importers=["CHN"], products=["12", "8703"], flows=np.array([[[100.0]], [[10.0]]]))
    fine = pd.Series({"120190": 90.0, "120740": 10.0})
    # of chapter 12's 100, 90 halted; the sesame 10 at 13% and the cars 10 at 3%
    assert quiet(effective_rate, s, b, D, "CHN", "USA", fine_values=fine) == pytest.approx((10 * 0.13 + 10 * 0.03) / 20)
    table = s.rate_table(b, "CHN", "2025-04-01", "2025-06-01", fine_values=fine)
    assert table.loc["2025-05-01", "halted_pct"] == pytest.approx(100 * 90 / 110)
    assert table.loc["2025-05-01", "USA"] == pytest.approx(100 * (10 * 0.13 + 10 * 0.03) / 20)


# --------------------------------------------------------------------------- explain and tables


def test_explain_shows_the_halt_and_an_infinite_total():
    s = TariffSchedule([*BASE, SOY])
    ex = s.explain(D, "120190", "USA", "CHN").set_index("measure")
    assert ex.loc["soy_halt", "status"] == "halted: trade stops"
    assert ex.loc["soy_halt", "rate_pct"] == np.inf and ex.loc["soy_halt", "contribution_pct"] == np.inf
    assert ex.loc["duty", "status"] == "applied" and ex.loc["duty", "contribution_pct"] == pytest.approx(10)
    assert ex.loc["total", "contribution_pct"] == np.inf
    seed = s.explain(D, "120110", "USA", "CHN").set_index("measure")
    assert seed.loc["soy_halt", "status"] == "exempted by 120110"
    assert seed.loc["total", "contribution_pct"] == pytest.approx(13)
    after = s.explain("2025-11-01", "120190", "USA", "CHN").set_index("measure")
    assert after.loc["soy_halt", "status"] == "not in force" and after.loc["total", "contribution_pct"] == \
        pytest.approx(13)
    brazil = s.explain(D, "120190", "BRA", "CHN").set_index("measure")
    assert brazil.loc["soy_halt", "status"] == "exporter not covered"


def test_explain_on_a_chapter_halted_in_part():
    s = TariffSchedule([*BASE, SOY])
    fine = pd.Series({"120190": 90.0, "120740": 10.0})
    ex = quiet(s.explain, D, "12", "USA", "CHN", fine_values=fine)
    rows = ex[ex.measure == "soy_halt"].set_index("status")
    assert rows.loc["halted: trade stops", "share"] == pytest.approx(0.9)
    assert rows.loc["product not covered", "share"] == pytest.approx(0.1)
    assert ex.set_index("measure").loc["total", "contribution_pct"] == pytest.approx(13)  # on the sesame


def test_to_frame_and_the_field_table_show_the_halt():
    frame = TariffSchedule([*BASE, SOY]).to_frame().set_index("measure")
    assert frame.loc["soy_halt", "rule"] == "halt"
    rule = tradesim.law.field_table().set_index("field").loc["rule"]
    assert "halt" in rule["allowed"] and "infinite" in rule["meaning"] and "halt" in rule["rule"].split()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("field, value, words", [
    ("rate", 0.1, "no rate"),
    ("product_rates", {"1201": 0.1}, "no rates by product"),
    ("exporter_rates", {"USA": 0.1}, "no rates by exporter"),
    ("line_rates", {("USA", "1201"): 0.1}, "no rates by line"),
    ("coverage", 0.5, "expected 1"),
    ("value_share", 0.5, "expected 1"),
    ("value_shares", {"1201": 0.5}, "value shares"),
    ("qualifying", {"USA": 0.5}, "qualifying"),
    ("qualifying_lines", {("USA", "1201"): 0.5}, "qualifying"),
    ("group", "g", "group"),
    ("kind", "mfn", "'additional'"),
    ("replaces", ["other"], "replaces none"),
])
def test_every_field_a_halt_cannot_have_is_an_input_error_naming_it(field, value, words):
    with pytest.raises(InputError) as err:
        H(**{field: value})
    assert err.value.fields[0][0] == field
    message = str(err.value)
    assert "'h'" in message and words in message and f"{field}:" in message


def test_no_measure_replaces_a_halt():
    with pytest.raises(InputError, match="'h' is a halt"):
        TariffSchedule([H(), Measure("r", "CHN", 0.1, "2025-01-01", replaces=["h"])])


def test_a_schedule_file_reads_a_halt_and_rejects_one_with_a_rate(tmp_path):
    halt = """
[[measures]]
name = "soy_halt"
importer = "CHN"
exporters = ["USA"]
products = ["1201"]
rule = "halt"
start = 2025-05-01
end = 2025-10-30
"""
    good = tmp_path / "good.toml"
    good.write_text(halt)
    s = TariffSchedule.from_file(good)
    assert s.measure("soy_halt").rule == "halt" and s.rate(D, "120190", "USA", "CHN") == np.inf
    bad = tmp_path / "bad.toml"
    bad.write_text(halt + "rate_pct = 10\ncoverage_pct = 50\n")
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(bad)
    found = {p.key: p for p in err.value.problems}
    assert set(found) == {"measures[0].rate_pct", "measures[0].coverage_pct"}
    assert "halt 'soy_halt'" in str(found["measures[0].rate_pct"]) and "bad.toml" in str(err.value)


# --------------------------------------------------------------------------- the bundled schedule


@pytest.fixture(scope="module")
def law():
    return tradesim.load_schedule("tariffs-2025")


def test_the_bundled_schedule_halts_us_soybeans_from_may_to_busan(law):
    def rate(day, exporter="USA"):
        return quiet(law.rate, day, "120190", exporter, "CHN")

    assert rate("2025-05-01") == rate("2025-07-01") == rate("2025-10-29") == np.inf
    assert rate("2025-04-30") < np.inf
    assert rate("2025-11-15") == pytest.approx(0.13)  # 3% MFN + 10% after Busan
    assert rate("2025-07-01", "BRA") == pytest.approx(0.03)


def test_the_bundled_halts_are_graded_and_cited_and_the_us_china_view_keeps_them(law):
    halts = [m for m in law.measures if m.rule == "halt"]
    assert {m.name for m in halts} >= {"cn_halt_lng", "cn_halt_crude", "cn_halt_coal", "cn_halt_soybeans"}
    assert all(m.importer == "CHN" and m.exporters == ("USA",) and m.layer == "Purchase halt" for m in halts)
    assert all(m.source and m.authority and "Grade:" in m.notes for m in halts)
    view = tradesim.load_schedule("us-china-2025")
    assert {m.name for m in view.measures if m.rule == "halt"} == {m.name for m in halts}
    assert view.rate("2025-07-01", "2709", "USA", "CHN") == np.inf
    assert view.rate("2025-07-01", "2710", "USA", "CHN") < np.inf


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(rates=st.lists(st.floats(0, 3), min_size=3, max_size=3), start=st.integers(0, 300), days=st.integers(1, 300),
       exporters=st.lists(st.sampled_from(["USA", "BRA", "ARG"]), min_size=1, max_size=3, unique=True),
       products=st.lists(st.sampled_from(["12", "1201", "120190", "27", "2709", "8703"]), min_size=1, max_size=3,
                         unique=True),
       exclude=st.lists(st.sampled_from(["120190", "2709"]), max_size=1))
def test_adding_a_halt_never_changes_a_cell_it_does_not_stop(rates, start, days, exporters, products, exclude):
    base = [Measure("mfn", "CHN", rates[0], "2024-01-01", kind="mfn"),
            Measure("a", "CHN", rates[1], "2025-02-01", exporters=["USA"], group="g"),
            Measure("b", "CHN", rates[2], "2025-03-01", products=["12"], group="g")]
    first = pd.Timestamp("2025-01-01") + pd.Timedelta(days=start)
    halt = Measure("h", "CHN", start=first.date(), end=(first + pd.Timedelta(days=days)).date(), rule="halt",
                   exporters=exporters, products=products, exclude=exclude)
    dates = ["2025-01-15", "2025-04-01", "2025-08-01", "2026-02-01"]
    lines, exps = ["120190", "120110", "270900", "870323"], ["USA", "BRA", "ARG"]
    plain = TariffSchedule(base).rates_path(dates, lines, exps, ["CHN"])
    halted = TariffSchedule([*base, halt]).rates_path(dates, lines, exps, ["CHN"])
    stopped = np.isinf(halted)
    assert not np.isnan(halted).any()
    assert np.array_equal(halted[~stopped], plain[~stopped])
    in_force = np.array([halt.in_force(d) for d in dates])
    assert not stopped[~in_force].any()
    assert stopped[:, :, [e not in exporters for e in exps]].sum() == 0
