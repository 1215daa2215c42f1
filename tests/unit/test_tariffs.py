"""Unit tests for the tariff law layer: one rule per test, numbers from closed forms."""

import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

from tradesim import Baseline, InputError, Measure, ProductList, TariffSchedule, effective_rate
from tradesim.codes import hs_subheadings
from tradesim.errors import TradesimWarning
from tradesim.files import parse_date as to_date


def M(name, rate, start="2025-01-01", **kw):
    kw.setdefault("importer", "USA")
    kw.setdefault("exporters", ["CHN"])
    return Measure(name, kw.pop("importer"), rate, start, **kw)


def test_product_list_covers_finer_codes_only():
    pl = ProductList("el", ["8471", "85171300"])
    assert pl.covers(["847130", "8471", "84", "8517", "85171300", "8517130010"]).tolist() == [
        True, True, False, False, True, True
    ]


def test_product_list_rejects_bad_input():
    with pytest.raises(InputError, match="characters other than digits"):
        ProductList("x", ["85A1"])
    with pytest.raises(InputError, match="empty"):
        ProductList("x", [])
    with pytest.raises(InputError, match="not a list name"):
        ProductList("8471", ["8471"])
    with pytest.raises(InputError, match="does not start with a digit"):
        ProductList("2025_list", ["8471"])


def test_product_list_from_csv_strips_dots_and_names_bad_lines(tmp_path):
    good = tmp_path / "el.csv"
    good.write_text("hs_code,description\n8517.13.00,phones\n8471,computers\n")
    pl = ProductList.from_csv(good)
    assert pl.name == "el" and pl.codes == ("85171300", "8471")
    bad = tmp_path / "bad.csv"
    bad.write_text("hs_code\n8471\nabc\n\n851\n")
    with pytest.raises(InputError) as err:
        ProductList.from_csv(bad)
    assert "line 3" in str(err.value) and "'abc'" in str(err.value) and "line 4" in str(err.value)
    assert str(bad) in str(err.value)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(rate=-0.1), "negative"),
        (dict(rate=20.5), "above 20"),
        (dict(end="2024-12-31"), "not after start"),
        (dict(importer="US"), "did you mean USA"),
        (dict(exporters=["XXX"]), "unknown country code 'XXX'"),
        (dict(exporters=None, except_exporters=["CHN"], products=["85A1"]), "characters other than digits"),
        (dict(kind="retaliation"), "not one of \\['additional', 'mfn'\\]"),
        (dict(coverage=1.5), "not a share"),
        (dict(start="2025-02-30"), "not a date"),
        (dict(replaces=["a"]), "cannot replace itself"),
    ],
)
def test_measure_rejects_bad_fields(kw, match):
    args = dict(name="a", importer="USA", rate=0.1, start="2025-01-01", exporters=["CHN"]) | kw
    with pytest.raises(InputError, match=match) as err:
        Measure(**args)
    assert "measure 'a'" in str(err.value)


def test_measure_reports_all_problems_at_once():
    with pytest.raises(InputError) as err:
        Measure("a", "US", -1, "2025-01-01", end="2024-01-01", exporters=["XXX"])
    text = str(err.value)
    assert all(s in text for s in ("importer:", "rate:", "end:", "exporters:"))


def test_dates_start_inclusive_end_exclusive():
    m = M("a", 0.1, "2025-04-10", end="2025-05-14")
    assert not m.in_force("2025-04-09")
    assert m.in_force("2025-04-10") and m.in_force(dt.date(2025, 5, 13))
    assert not m.in_force(pd.Timestamp("2025-05-14"))
    assert to_date(np.datetime64("2025-04-10")) == dt.date(2025, 4, 10)
    with pytest.raises(InputError, match="not a date"):
        to_date("2025")


def test_layers_add_up_and_importer_never_taxes_itself():
    s = TariffSchedule([M("a", 0.10), M("b", 0.25, exporters=None, except_exporters=["VNM"])])
    r = s.rates("2025-06-01", ["9503"], ["CHN", "VNM", "USA", "MEX"], ["USA"])[0, :, 0]
    assert r.tolist() == [0.35, 0.0, 0.0, 0.25]


def test_group_takes_the_maximum():
    s = TariffSchedule([M("a", 0.25, group="g"), M("b", 0.5, group="g", products=["85"]), M("c", 0.1)])
    r = s.rates("2025-06-01", ["8542", "9503"], ["CHN"], ["USA"])[:, 0, 0]
    np.testing.assert_allclose(r, [0.6, 0.35])


def test_replaces_names_measures_and_groups():
    s = TariffSchedule(
        [
            M("recip_a", 1.25, group="recip", end="2025-05-14"),
            M("recip_b", 0.10, group="recip", start="2025-05-14"),
            M("steel", 0.25, products=["72"], replaces=["recip"]),
            M("autos", 0.25, products=["8703"], replaces=["steel", "recip"]),
            M("fent", 0.20),
        ]
    )
    prods = ["7208", "8703", "9503"]
    np.testing.assert_allclose(s.rates("2025-04-14", prods, ["CHN"], ["USA"])[:, 0, 0], [0.45, 0.45, 1.45])
    np.testing.assert_allclose(s.rates("2025-06-01", prods, ["CHN"], ["USA"])[:, 0, 0], [0.45, 0.45, 0.30])


def test_exclusion_exempts_and_explain_says_why():
    s = TariffSchedule([M("recip", 1.25, exclude=["el"]), M("fent", 0.2)], [ProductList("el", ["8471"])])
    assert s.rate("2025-06-01", "847130", "CHN", "USA") == pytest.approx(0.2)
    table = s.explain("2025-06-01", "847130", "CHN", "USA")
    row = table[table.measure == "recip"].iloc[0]
    assert row.status == "exempted by el" and row.contribution_pct == 0 and row.share == 1
    assert table.iloc[-1].measure == "total" and table.iloc[-1].contribution_pct == pytest.approx(20)


def test_explain_lists_out_of_date_replaced_and_outweighed_measures():
    s = TariffSchedule(
        [
            M("old", 0.1, end="2025-03-01"),
            M("recip", 1.25, group="r"),
            M("s301a", 0.25, group="s301"),
            M("s301b", 0.5, group="s301"),
            M("steel", 0.25, products=["72"], replaces=["r"]),
        ]
    )
    table = s.explain("2025-06-01", "7208", "CHN", "USA").set_index("measure")
    assert table.loc["old", "status"] == "not in force"
    assert table.loc["recip", "status"] == "replaced by steel"
    assert table.loc["s301a", "status"] == "outweighed in group s301"
    assert table.loc["s301b", "status"] == "applied"
    assert table.loc["total", "contribution_pct"] == pytest.approx(75)
    assert table["contribution_pct"].iloc[:-1].sum() == pytest.approx(75)


def test_product_rates_longest_prefix_wins():
    s = TariffSchedule([M("mfn", 0.0, kind="mfn", exporters=None, product_rates={"87": 0.02, "8703": 0.025, "870380": 0.0})])
    r = s.rates("2025-06-01", ["870323", "870380", "8708", "9503"], ["CHN"], ["USA"])[:, 0, 0]
    np.testing.assert_allclose(r, [0.025, 0.0, 0.02, 0.0])


def test_kinds_and_layers_filter_the_sum_not_the_stacking():
    s = TariffSchedule(
        [
            M("mfn", 0.025, kind="mfn", exporters=None),
            M("recip", 1.25, group="r"),
            M("steel", 0.25, products=["72"], replaces=["r"]),
        ]
    )
    args = ("2025-06-01", ["7208", "9503"], ["CHN"], ["USA"])
    np.testing.assert_allclose(s.rates(*args, kinds="mfn")[:, 0, 0], [0.025, 0.025])
    np.testing.assert_allclose(s.rates(*args, kinds=["additional"])[:, 0, 0], [0.25, 1.25])
    np.testing.assert_allclose(s.rates(*args, layers=["r"])[:, 0, 0], [0.0, 1.25])  # still replaced on steel
    with pytest.raises(InputError, match="unknown layer kinds"):
        s.rates(*args, kinds=["retaliation"])
    with pytest.raises(InputError, match="unknown measures or groups"):
        s.rates(*args, layers=["nope"])


def test_coverage_share_combines_as_independent():
    s = TariffSchedule([M("lists", 0.25, coverage=0.4), M("strategic", 0.5, products=["85"], coverage=0.5, replaces=["lists"])])
    r = s.rates("2025-06-01", ["8542", "9503"], ["CHN"], ["USA"])[:, 0, 0]
    np.testing.assert_allclose(r, [0.5 * 0.5 + 0.4 * (1 - 0.5) * 0.25, 0.4 * 0.25])


def test_partial_coverage_fallback_uses_subheading_counts():
    s = TariffSchedule([M("recip", 1.25, exclude=["el"])], [ProductList("el", ["847130", "85171300"])])
    n84, n85 = hs_subheadings("84").size, hs_subheadings("85").size
    with pytest.warns(TradesimWarning, match="equal weights on their HS 2022 subheadings for 2"):
        r = s.rates("2025-06-01", ["84", "85", "9503"], ["CHN"], ["USA"])[:, 0, 0]
    np.testing.assert_allclose(r, [1.25 * (1 - 1 / n84), 1.25 * (1 - 1 / n85), 1.25])
    # a six-digit product under a national line counts as covered in full
    with pytest.warns(TradesimWarning):
        assert s.rate("2025-06-01", "851713", "CHN", "USA") == 0.0


def test_partial_coverage_exact_with_fine_values():
    s = TariffSchedule([M("recip", 1.25, exclude=["el"]), M("fent", 0.2)], [ProductList("el", ["847130"])])
    fine = pd.Series({"847130": 30.0, "847141": 10.0, "847150": 60.0, "850760": 5.0})
    with pytest.warns(TradesimWarning, match=r"finer trade values given \(fine_values\) for 1"):
        r = s.rates("2025-06-01", ["84", "9503"], ["CHN"], ["USA"], fine_values=fine)[:, 0, 0]
    np.testing.assert_allclose(r, [0.2 + 1.25 * 0.7, 1.45])
    with pytest.warns(TradesimWarning):
        table = s.explain("2025-06-01", "84", "CHN", "USA", fine_values=fine).set_index("status")
    assert table.loc["exempted by el", "share"] == pytest.approx(0.3)
    assert table.loc["applied"].set_index("measure").loc["recip", "contribution_pct"] == pytest.approx(87.5)


def test_fine_values_by_pair_and_as_baseline():
    s = TariffSchedule([M("recip", 1.0, exporters=None, exclude=["el"])], [ProductList("el", ["847130"])])
    frame = pd.DataFrame(
        {"product": ["847130", "847150", "847130", "847150"], "exporter": ["CHN", "CHN", "VNM", "VNM"],
         "importer": ["USA"] * 4, "value": [75.0, 25.0, 10.0, 90.0]}
    )
    with pytest.warns(TradesimWarning):
        r = s.rates("2025-06-01", ["84"], ["CHN", "VNM", "MEX"], ["USA"], fine_values=frame)[0, :, 0]
    n84 = hs_subheadings("84").size
    # MEX has no finer trade: its two atoms (847130, 847150) weigh the same
    np.testing.assert_allclose(r, [0.25, 0.9, 0.5])
    fine_base = Baseline.from_frame(frame, year=2024)
    with pytest.warns(TradesimWarning):
        r2 = s.rates("2025-06-01", ["84"], ["CHN", "VNM"], ["USA"], fine_values=fine_base)[0, :, 0]
    np.testing.assert_allclose(r2, [0.25, 0.9])
    assert n84 > 2
    with pytest.raises(InputError, match="fine_values"):
        s.rates("2025-06-01", ["84"], ["CHN"], ["USA"], fine_values=[1, 2])


def test_rates_shape_and_bad_labels():
    s = TariffSchedule([M("a", 0.1)])
    assert s.rates("2025-06-01", ["01", "02", "03"], ["CHN", "USA"], ["USA", "CHN", "MEX", "ROW"]).shape == (3, 2, 4)
    with pytest.raises(InputError, match="did you mean USA"):
        s.rates("2025-06-01", ["01"], ["CHN"], ["US"])
    with pytest.raises(InputError, match="characters other than digits"):
        s.rate("2025-06-01", "85x", "CHN", "USA")
    with pytest.raises(InputError, match="expected codes as strings"):
        s.rates("2025-06-01", [8471], ["CHN"], ["USA"])


@pytest.mark.parametrize(
    "measures, lists, match",
    [
        ([M("a", 0.1), M("a", 0.2)], [], r"measures\[1\].name: measure 'a' is defined twice"),
        ([M("a", 0.1, exclude=["nolist"])], [], r"measures\[0\].exclude: unknown product list 'nolist'"),
        ([M("a", 0.1, products=["el", "85"])], [], r"unknown product list 'el'"),
        ([M("a", 0.1, replaces=["b"])], [], r"unknown measure or group 'b'"),
        ([M("a", 0.1, replaces=["b"]), M("b", 0.1, replaces=["c"]), M("c", 0.1, replaces=["a"])], [], "cycle: a -> "),
        ([M("a", 0.1, replaces=["g"]), M("b", 0.1, group="g", replaces=["a"])], [], "cycle"),
        ([M("a", 0.1, group="a2"), M("a2", 0.1)], [], "has the name of a measure"),
        ([M("a", 0.1)], [ProductList("l", ["01"]), ProductList("l", ["02"])], "list 'l' is defined twice"),
    ],
)
def test_schedule_cross_reference_errors(measures, lists, match):
    with pytest.raises(InputError, match=match):
        TariffSchedule(measures, lists)


def test_change_dates_and_in_force():
    s = TariffSchedule([M("a", 0.1, "2025-02-04", end="2025-03-04"), M("b", 0.2, "2025-03-04")])
    assert s.change_dates() == [dt.date(2025, 2, 4), dt.date(2025, 3, 4)]
    assert s.in_force("2025-03-04") == ["b"]
    assert s.to_frame().set_index("measure").loc["b", "rate_pct"] == pytest.approx(20)


def test_effective_rate_is_trade_weighted(small):
    # small: CHN->USA 8542 100, 9503 50; VNM->USA 8542 20; USA->USA 1201 500 (domestic, ignored)
    s = TariffSchedule([M("a", 1.0, products=["9503"]), M("b", 0.1, exporters=None, products=["8542"])])
    assert effective_rate(s, small, "2025-06-01", "USA", "CHN") == pytest.approx((50 * 1.0 + 100 * 0.1) / 150)
    assert effective_rate(s, small, "2025-06-01", "USA") == pytest.approx((50 + 10 + 2) / 170)
    assert effective_rate(s, small, "2024-06-01", "USA") == 0.0
    with pytest.raises(InputError, match="'MEX' is not in this baseline"):
        effective_rate(s, small, "2025-06-01", "MEX")
    with pytest.raises(InputError, match="no baseline trade"):
        effective_rate(s, small, "2025-06-01", "VNM", "USA")


def test_no_warning_when_coverage_is_not_finer_than_products():
    s = TariffSchedule([M("a", 0.1, exclude=["l"])], [ProductList("l", ["85"])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert s.rates("2025-06-01", ["8542", "9503"], ["CHN"], ["USA"])[:, 0, 0].tolist() == [0.0, 0.1]


def test_layer_name_falls_back_to_group_then_name_without_the_step():
    assert M("a", 0.1, layer="Section 301", group="g").layer_name == "Section 301"
    assert M("a", 0.1, group="g").layer_name == "g"
    assert M("recip@2025-06-01", 0.1).layer_name == "recip"


def test_layer_rates_sum_to_rates_on_every_date_for_the_bundled_schedule():
    import tradesim

    b = tradesim.load_baseline("demo-2024")
    s = tradesim.load_schedule("us-china-2025")
    days = ["2024-12-31", "2025-04-12", "2025-06-01", "2026-03-01"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        parts = s.layer_rates(days, b.products, "CHN", "USA")
        total = s.rates_path(days, b.products, b.countries, b.countries)[:, :, 1, 0]
    summed = parts.groupby(["date", "product"], sort=False)["rate"].sum().to_numpy().reshape(len(days), -1)
    np.testing.assert_allclose(summed, total, atol=1e-12)
    assert set(parts["measure"]) == {m.name for m in s.measures if m.importer == "USA"}
    # the April peak: 125% reciprocal on every chapter (coverage < 1 only where exemptions apply)
    peak = parts[(parts["date"] == dt.date(2025, 4, 12)) & (parts["layer"] == "IEEPA reciprocal")]
    assert peak["rate"].max() == pytest.approx(1.25)
    assert parts.loc[parts["date"] == dt.date(2024, 12, 31), "layer"].isin(
        ["MFN", "Section 301", "Section 232", "IEEPA fentanyl", "IEEPA reciprocal", "Section 122"]).all()


def test_layer_rates_sees_replacement_and_group_maxima():
    s = TariffSchedule([M("base", 0.25, products=["72"]), M("auto", 0.25, products=["8703"], replaces=["base", "g"]),
                        M("g1", 0.10, group="g"), M("g2", 0.30, group="g", products=["72"])])
    parts = s.layer_rates(["2025-02-01"], ["72", "8703", "95"], "CHN", "USA").set_index(["measure", "product"])["rate"]
    assert parts[("base", "72")] == 0.25 and parts[("auto", "8703")] == 0.25
    assert parts[("g1", "8703")] == 0.0  # replaced by auto
    assert parts[("g1", "72")] == 0.0 and parts[("g2", "72")] == 0.30  # the group's maximum
    assert parts[("g1", "95")] == 0.10


def test_fine_values_no_finer_than_the_products_fall_back_to_subheadings():
    # the baseline itself as fine values, at chapters: nothing finer is known, so the fallback weights apply
    import warnings

    import tradesim

    s = tradesim.TariffSchedule([tradesim.Measure("a", "USA", 0.25, "2025-02-04", products=["850110"])])
    base = tradesim.load_baseline("demo-2024")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        own = s.rates("2025-03-01", base.products, base.exporters, base.importers, fine_values=base)
        none = s.rates("2025-03-01", base.products, base.exporters, base.importers)
    np.testing.assert_array_equal(own, none)
    k = base.products.index("85")
    assert own[k, 1, 0] == pytest.approx(0.25 / len([c for c in tradesim.codes.hs_subheadings() if c.startswith("85")]))


def test_fine_values_by_name_and_rate_tables_on_the_baselines_own_lines():
    import tradesim

    s = tradesim.load_schedule("us-china-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        by_name = s.rate("2025-04-20", "85", "CHN", "USA", fine_values="fine-values-2024")
        loaded = s.rate("2025-04-20", "85", "CHN", "USA", fine_values=tradesim.data.load_fine_values("fine-values-2024"))
        assert by_name == loaded
        # rate_table takes the baseline's own lines by default, as `tradesim rates` does
        us = tradesim.load_baseline("us-imports-2024").restrict(exporters=["CHN", "VNM", "ROW"])
        law = tradesim.load_schedule("tariffs-2025")
        default = law.rate_table(us, "USA", "2025-04-20", "2025-04-20")
        given = law.rate_table(us, "USA", "2025-04-20", "2025-04-20", fine_values=us)
    pd.testing.assert_frame_equal(default, given)
