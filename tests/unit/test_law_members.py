"""Members of aggregate exporters: fine values with a ``member`` column make the law reach the countries
inside ``ROW`` (or a group), and the aggregate's rate is its members' rates weighted by their values."""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.data.bundled import load_fine_values
from tradesim.law import Measure, TariffSchedule
from tradesim.scenario.plan import _missing_exporters

DAY = "2025-06-01"


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return f(*args, **kw)


def table(rows):
    """Fine values from (exporter, member, product, value) rows into the USA."""
    e, m, p, v = zip(*rows)
    return pd.DataFrame({"exporter": e, "importer": "USA", "member": m, "product": p, "value": np.asarray(v, float)})


# A measure of 10% on CHE only, and one of 20% on everyone: ROW's members are CHE (30) and SGP (70).
TEN_AND_TWENTY = TariffSchedule([Measure("che", "USA", 0.10, "2025-01-01", exporters=["CHE"]),
                                 Measure("all", "USA", 0.20, "2025-01-01")])
ONE_LINE = table([("ROW", "CHE", "85011000", 30), ("ROW", "SGP", "85011000", 70), ("CHN", "", "85011000", 5)])


def test_aggregate_rate_is_the_members_value_weighted_mean_on_an_unsplit_product():
    # no measure names a line: product 85 is not split, and ROW's rate is 0.3 * 30% + 0.7 * 20%
    rates = TEN_AND_TWENTY.rates(DAY, ["85"], ["ROW", "CHN"], ["USA"], fine_values=ONE_LINE)[:, :, 0]
    assert rates[0, 0] == pytest.approx(0.3 * 0.30 + 0.7 * 0.20, abs=1e-15)  # 0.23
    assert rates[0, 1] == pytest.approx(0.20, abs=1e-15)  # CHN has no members: its own rate


def test_aggregate_rate_on_a_split_product_weights_members_within_lines():
    # the CHE measure lists one line: 85 is split into its lines; the line covered takes the members' mean,
    # the other (where CHE and SGP weigh the same) 20%, and the product their value-weighted mean
    law = TariffSchedule([Measure("che", "USA", 0.10, "2025-01-01", exporters=["CHE"], products=["85011000"]),
                          Measure("all", "USA", 0.20, "2025-01-01")])
    fine = pd.concat([ONE_LINE, table([("ROW", "CHE", "85021000", 50), ("ROW", "SGP", "85021000", 50)])])
    rates = quiet(law.rates, DAY, ["85"], ["ROW", "CHN"], ["USA"], fine_values=fine)[:, :, 0]
    assert rates[0, 0] == pytest.approx(0.5 * 0.23 + 0.5 * 0.20, abs=1e-15)
    parts = law.parts_path([DAY], ["85"], ["ROW", "CHN"], ["USA"], fine_values=fine, warn=False)
    assert sorted(parts.rates[0, :, 0, 0].round(12).tolist()) == [0.2, 0.23]  # the lines kept apart
    flows = np.array([[[200.0], [5.0]]])
    assert parts.collapse(parts.rates[0], parts.expand(flows))[0, 0, 0] == pytest.approx(rates[0, 0], abs=1e-15)


def test_members_on_a_line_the_law_covers_in_part_and_by_member_tables():
    # HS10 lines under one HTS8 line: the members' values stay on the HTS8 atom (the whole-line rule); a
    # rate by (exporter, line) and a qualifying share of one member apply to that member's value only
    law = TariffSchedule([
        Measure("lines", "USA", 0.10, "2025-01-01", exporters=["CHE", "SGP"], products=["8501100010"],
                line_rates={("CHE", "85011000"): 0.50}),
        Measure("all", "USA", 0.20, "2025-01-01", qualifying={"SGP": 0.5}),
    ])
    rates = quiet(law.rates, DAY, ["85011000"], ["ROW"], ["USA"], fine_values=ONE_LINE)[:, :, 0]
    che, sgp = 0.50 + 0.20, 0.10 + 0.5 * 0.20
    assert rates[0, 0] == pytest.approx(0.3 * che + 0.7 * sgp, abs=1e-14)
    # the same members and law on the members' own rows agree
    direct = quiet(law.rates, DAY, ["85011000"], ["CHE", "SGP"], ["USA"])[0, :, 0]
    assert rates[0, 0] == pytest.approx(0.3 * direct[0] + 0.7 * direct[1], abs=1e-14)


def test_without_members_rates_are_unchanged():
    plain = ONE_LINE.drop(columns="member")
    blank = ONE_LINE.assign(member="")
    for law in (TEN_AND_TWENTY, TariffSchedule([Measure("che", "USA", 0.10, "2025-01-01", exporters=["CHE"],
                                                        products=["85011000"])])):
        a = quiet(law.rates, DAY, ["85", "84"], ["ROW", "CHN"], ["USA"], fine_values=plain)
        b = quiet(law.rates, DAY, ["85", "84"], ["ROW", "CHN"], ["USA"], fine_values=blank)
        c = quiet(law.rates, DAY, ["85", "84"], ["ROW", "CHN"], ["USA"])
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert TEN_AND_TWENTY.rate(DAY, "85", "ROW", "USA", fine_values=plain) == 0.20


def test_members_reach_every_evaluation_alike():
    law = TariffSchedule([Measure("che", "USA", 0.10, "2025-03-01", exporters=["CHE"], products=["85011000"]),
                          Measure("base", "USA", 0.20, "2025-01-01", except_exporters=["SGP"])])
    fine = pd.concat([ONE_LINE, table([("ROW", "CHE", "85021000", 50), ("ROW", "ROW", "85021000", 50),
                                       ("ROW", "CHE", "84011000", 1)])])
    products, exporters = ["85", "84"], ["ROW", "CHN"]
    dense = quiet(law.rates, DAY, products, exporters, ["USA"], fine_values=fine)
    on = tradesim.data.layout.Cells.from_coords([0, 0, 1], [0, 1, 0], [0, 0, 0], dense.shape)[0]
    cells = quiet(law.rates, DAY, products, exporters, ["USA"], fine_values=fine, cells=on)
    assert np.array_equal(cells, dense[[0, 0, 1], [0, 1, 0], [0, 0, 0]])
    path = law.rates_path(["2025-02-01", DAY], products, exporters, ["USA"], fine_values=fine, warn=False)
    assert np.array_equal(path[1], dense)
    assert path[0, 0, 0, 0] == pytest.approx((30 * 0.2 + 50 * 0.2 + 50 * 0.2) / 200, abs=1e-15)  # SGP exempt
    base = tradesim.Baseline.from_frame(pd.DataFrame({"exporter": ["ROW", "CHN", "ROW"], "importer": "USA",
                                                      "product": ["85", "85", "84"], "value": [200.0, 5.0, 1.0]}),
                                        year=2024)
    table_ = quiet(law.rate_table, base, "USA", "2025-02-01", "2025-12-31", fine_values=fine)
    assert table_.index[-1] == pd.Timestamp("2025-03-01")  # the last change: DAY's rates
    assert table_["ROW"].iloc[-1] == pytest.approx(100 * (200 * dense[0, 0, 0] + dense[1, 0, 0]) / 201, abs=1e-12)
    layers = quiet(law.rate_table, base, "USA", "2025-02-01", "2025-12-31", by="authority", fine_values=fine)
    assert layers[["che", "base"]].iloc[-1].sum() == pytest.approx(table_["all"].iloc[-1], abs=1e-12)


def test_a_member_code_that_is_also_an_exporter_is_evaluated_once_as_that_exporter():
    fine = table([("ROW", "CHE", "85011000", 30), ("ROW", "CHN", "85011000", 70)])
    law = TariffSchedule([Measure("chn", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    rates = law.rates(DAY, ["85"], ["CHN", "ROW"], ["USA"], fine_values=fine)[:, :, 0]
    assert rates.tolist() == [[0.5, pytest.approx(0.35, abs=1e-15)]]


@pytest.mark.parametrize("text, match", [
    ("exporter,importer,member,product,value\nROW,USA,XXX,85011000,5\n",
     r"fv.csv: column 'member': member 'XXX': unknown country code 'XXX'.*\(line 2\)"),
    ("exporter,importer,member,product,value\nROW,USA,,85,5\nCHN,USA,CHE,85011000,5\n",
     r"fv.csv: column 'member': member 'CHE' on exporter 'CHN' \(line 3\): members are allowed only where the "
     r"exporter is an aggregate"),
    ("product,value,member\n85011000,5,CHE\n", r"fv.csv: column 'member': a member column needs exporter"),
    ("exporter,importer,member,product,value\nROW,USA,CHE,85,5\nEU27,USA, EU27 ,85011000,5\n",
     r"fv.csv: column 'member': member 'EU27' is its own exporter \(line 3\): a group's members are countries"),
])
def test_bad_member_values_name_the_file_row_and_value(tmp_path, text, match):
    (tmp_path / "fv.csv").write_text(text)
    with pytest.raises(tradesim.InputError, match=match):
        load_fine_values(str(tmp_path / "fv.csv"))


def test_bad_members_given_in_python_are_refused():
    bad = ONE_LINE.assign(member=["CHE", "SGP", "CHE"])  # a member of CHN, which is no aggregate
    with pytest.raises(tradesim.InputError, match=r"fine_values.member: member 'CHE' on exporter 'CHN' \(row 3\)"):
        TEN_AND_TWENTY.rates(DAY, ["85"], ["ROW", "CHN"], ["USA"], fine_values=bad)
    problem = tradesim.data.bundled.fine_values_problem(ONE_LINE.assign(member=["CHE", "QQQ", ""]), ["85"])
    assert "member 'QQQ'" in problem and "row 2" in problem


def test_old_files_without_the_column_still_load(tmp_path):
    (tmp_path / "fv.csv").write_text("exporter,importer,product,value\nROW,USA,85011000,5\n")
    frame = load_fine_values(str(tmp_path / "fv.csv"))
    assert "member" not in frame.columns and frame["value"].tolist() == [5.0]


def test_the_bundled_fine_values_give_rows_members_summing_to_demo_2024():
    fine = load_fine_values("fine-values-2024")
    demo = tradesim.load_baseline("demo-2024")
    row = fine[(fine.exporter == "ROW") & (fine.importer == "USA")]
    assert (row.member != "").all() and (fine.loc[fine.exporter != "ROW", "member"] == "").all()
    assert {"EU27", "CHE", "SGP", "IDN", "ZAF", "ROW"} <= set(row.member)
    chapters = row.groupby(row["product"].str[:2])["value"].sum()
    i, j = demo.exporter_index("ROW"), demo.importer_index("USA")
    expected = pd.Series(demo.flows[:, i, j], index=list(demo.products))
    assert (chapters.reindex(expected.index, fill_value=0) == expected).all()


def test_the_note_names_only_exporters_that_no_member_reaches():
    law = TariffSchedule([Measure("eu", "USA", 0.1, "2025-01-01", exporters=["FRA", "EU27"]),
                          Measure("x", "USA", 0.1, "2025-01-01", exporters=["CHE", "LIE"])])
    frame = pd.DataFrame({"exporter": ["ROW", "CHN"], "importer": ["USA", "USA"], "product": ["85", "85"],
                          "value": [1.0, 1.0]})
    base = tradesim.Baseline.from_frame(frame, year=2024)
    old = _missing_exporters(law, base)
    assert "CHE, EU27, FRA, LIE" in old[0]
    fine = table([("ROW", "CHE", "85011000", 1), ("ROW", "EU27", "85011000", 1)])
    note = _missing_exporters(law, base, fine)
    assert note and ": LIE;" in note[0] and "members of its aggregate exporters" in note[0]


def test_explain_splits_an_aggregate_by_member_and_totals_its_rate():
    law = TariffSchedule([Measure("che", "USA", 0.10, "2025-03-01", exporters=["CHE"], products=["85011000"]),
                          Measure("base", "USA", 0.20, "2025-01-01", except_exporters=["SGP"])])
    fine = pd.concat([ONE_LINE, table([("ROW", "CHE", "85021000", 50), ("ROW", "ROW", "85021000", 50)])])
    e = quiet(law.explain, DAY, "85", "ROW", "USA", fine_values=fine).set_index(["measure", "status"])
    # lines weigh 1/2 each; CHE is 30% of the first and 50% of the second, SGP 70% of the first
    assert e.loc[("che", "applied"), "share"] == pytest.approx(0.15)
    assert e.loc[("che", "product not covered"), "share"] == pytest.approx(0.25)
    assert e.loc[("che", "members not covered"), "share"] == pytest.approx(0.60)
    assert e.loc[("base", "members not covered"), "share"] == pytest.approx(0.35)  # SGP is excepted
    assert e.loc[("total", ""), "contribution_pct"] == pytest.approx(
        100 * quiet(law.rate, DAY, "85", "ROW", "USA", fine_values=fine), abs=1e-12)
    assert e.loc[("total", ""), "contribution_pct"] == pytest.approx(0.5 * (0.3 * 30 + 0) + 0.5 * 20, abs=1e-12)


def test_layer_rates_of_an_aggregate_add_up_to_its_rate():
    law = TariffSchedule([Measure("che", "USA", 0.10, "2025-03-01", exporters=["CHE"], products=["85011000"]),
                          Measure("base", "USA", 0.20, "2025-01-01", except_exporters=["SGP"])])
    fine = pd.concat([ONE_LINE, table([("ROW", "CHE", "85021000", 50), ("ROW", "ROW", "85021000", 50)])])
    layers = quiet(law.layer_rates, ["2025-02-01", DAY], ["85", "84"], "ROW", "USA", fine_values=fine)
    sums = layers.groupby(["date", "product"])["rate"].sum()
    for day in ("2025-02-01", DAY):
        for product in ("85", "84"):
            assert sums[(pd.Timestamp(day).date(), product)] == pytest.approx(
                quiet(law.rate, day, product, "ROW", "USA", fine_values=fine), abs=1e-15)
    assert sums[(pd.Timestamp(DAY).date(), "85")] == pytest.approx(0.145, abs=1e-15)
