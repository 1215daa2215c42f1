import numpy as np
import pandas as pd
import pytest

from tradesim import Baseline, InputError


def test_from_frame_builds_the_tensor(small):
    assert small.countries == ("CHN", "USA", "VNM")
    assert small.products == ("1201", "8542", "9503")
    k, i, j = small.products.index("8542"), small.country_index("CHN"), small.country_index("USA")
    assert small.flows[k, i, j] == 100.0
    assert small.flows.dtype == np.float64
    assert small.flows.sum() == 710.0
    assert small.domestic is True  # a diagonal cell was given
    assert small.trade("CHN", "USA") == 150.0
    assert small.trade("CHN", "USA", products="85") == 100.0


def test_baseline_is_immutable(small):
    with pytest.raises(ValueError):
        small.flows[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        small.year = 2025


def test_round_trip_through_frame(random_baseline):
    back = Baseline.from_frame(
        random_baseline.to_frame(),
        tariff="tariff",
        imputed="imputed",
        countries=list(random_baseline.countries),
        products=list(random_baseline.products),
        year=2024,
    )
    assert np.array_equal(back.flows, random_baseline.flows)
    # Cells with neither trade nor tariff are left out of to_frame, so their flags read back as False.
    kept = (random_baseline.flows > 0) | (random_baseline.tariffs > 0)
    assert np.array_equal(back.imputed, random_baseline.imputed & kept)
    assert np.array_equal(back.tariffs, random_baseline.tariffs)


def test_to_frame_columns_and_units(small):
    frame = small.to_frame()
    assert list(frame.columns) == ["exporter", "importer", "product", "value"]
    assert len(frame) == 6 and frame["value"].sum() == 710.0


def test_aggregate_to_chapter_and_section_keeps_totals(random_baseline):
    by_chapter = random_baseline.aggregate(products="chapter")
    assert by_chapter.products == ("01", "12", "84", "85", "95")
    assert by_chapter.flows.sum() == pytest.approx(random_baseline.flows.sum(), rel=1e-14)
    # Each pair keeps its total.
    np.testing.assert_allclose(by_chapter.flows.sum(0), random_baseline.flows.sum(0), rtol=1e-13)
    by_section = random_baseline.aggregate(products="section")
    assert by_section.products == ("I", "II", "XVI", "XX")
    assert by_section.flows[by_section.products.index("XVI")].sum() == pytest.approx(
        random_baseline.flows[3:6].sum(), rel=1e-13
    )


def test_aggregate_tariffs_are_trade_weighted():
    flows = np.zeros((2, 2, 2))
    flows[:, 0, 1] = [300.0, 100.0]
    tariffs = np.zeros((2, 2, 2))
    tariffs[:, 0, 1] = [0.10, 0.50]
    tariffs[:, 1, 0] = [0.2, 0.4]  # no trade: simple mean
    b = Baseline(("CHN", "USA"), ("8541", "8542"), flows, tariffs=tariffs)
    agg = b.aggregate(products="chapter")
    assert agg.tariffs[0, 0, 1] == pytest.approx((300 * 0.10 + 100 * 0.50) / 400)
    assert agg.tariffs[0, 1, 0] == pytest.approx(0.3)


def test_aggregate_countries_moves_intra_group_trade_to_the_diagonal(random_baseline):
    agg = random_baseline.aggregate(countries={"MEX": "NAFTA", "USA": "NAFTA"})
    assert agg.countries == ("CHN", "DEU", "NAFTA", "VNM", "ROW")
    assert "NAFTA" in agg.groups
    f = random_baseline.flows
    m, u = random_baseline.country_index("MEX"), random_baseline.country_index("USA")
    g = agg.country_index("NAFTA")
    assert agg.flows[:, g, g].sum() == pytest.approx(f[:, [m, u]][:, :, [m, u]].sum(), rel=1e-13)
    assert agg.flows.sum() == pytest.approx(f.sum(), rel=1e-14)


def test_aggregate_mapping_uses_longest_prefix(random_baseline):
    agg = random_baseline.aggregate(products={"01": "animals", "12": "soy", "84": "machines", "85": "electronics",
                                              "854231": "chips", "95": "toys"})
    assert agg.products == ("animals", "soy", "machines", "electronics", "chips", "toys")
    assert agg.flows[agg.products.index("chips")].sum() == pytest.approx(random_baseline.flows[5].sum())


def test_aggregate_rejects_uncovered_products_and_unknown_names(random_baseline):
    with pytest.raises(InputError, match=r"\['1201'"):
        random_baseline.aggregate(products={"01": "a", "84": "b", "85": "c", "95": "d"})
    with pytest.raises(InputError, match="unknown product aggregation 'hs4'"):
        random_baseline.aggregate(products="hs4")
    with pytest.raises(InputError, match=r"\['FRA'\] are not in this baseline"):
        random_baseline.aggregate(countries={"FRA": "EU27"})


def test_imputed_flags_survive_aggregation():
    flows = np.ones((2, 2, 2))
    imputed = np.zeros((2, 2, 2), dtype=bool)
    imputed[1, 0, 1] = True
    agg = Baseline(("CHN", "USA"), ("8541", "8542"), flows, imputed=imputed).aggregate(products="chapter")
    assert agg.imputed[0, 0, 1] and not agg.imputed[0, 1, 0]


def test_summary_numbers(small):
    s = small.summary()
    assert s.loc["CHN", "exports_bn"] == pytest.approx(160e-9)
    assert s.loc["USA", "imports_bn"] == pytest.approx(170e-9)
    assert s.loc["USA", "domestic_bn"] == pytest.approx(500e-9)
    assert s.loc["USA", "balance_bn"] == pytest.approx((30 - 170) * 1e-9)


# ---- bad input: each names the value, where it is and what was expected ----


def test_missing_column(small_frame):
    with pytest.raises(InputError, match=r"missing columns \['value_usd'\]"):
        Baseline.from_frame(small_frame, value="value_usd")


def test_unknown_country_names_rows_and_suggests(small_frame):
    small_frame.loc[3, "exporter"] = "VN"
    with pytest.raises(InputError) as err:
        Baseline.from_frame(small_frame, source="flows.csv")
    msg = str(err.value)
    assert "flows.csv" in msg and "'VN'" in msg and "row 4" in msg and "VNM" in msg and "column 'exporter'" in msg


def test_hs_code_with_letters(small_frame):
    small_frame.loc[1, "product"] = "95O3"
    with pytest.raises(InputError, match=r"'95O3' has characters other than digits \(row 2\)"):
        Baseline.from_frame(small_frame)


def test_numeric_product_codes_are_refused(small_frame):
    small_frame["product"] = [8542, 9503, 1201, 8542, 8542, 1201]
    with pytest.raises(InputError, match="leading zeros"):
        Baseline.from_frame(small_frame)


@pytest.mark.parametrize(
    "value, fragment",
    [(np.nan, r"missing \(NaN\) USD value in row 3"), (-5.0, "out of range in row 3; expected >= 0"),
     ("lots", "non-numeric USD value 'lots' in row 3"), (np.inf, "out of range in row 3")],
)
def test_bad_values(small_frame, value, fragment):
    small_frame["value"] = small_frame["value"].astype(object)
    small_frame.loc[2, "value"] = value
    with pytest.raises(InputError, match=fragment):
        Baseline.from_frame(small_frame)


def test_duplicate_rows(small_frame):
    frame = pd.concat([small_frame, small_frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match=r"duplicate rows for product '8542' from 'CHN' to 'USA' \(rows 1, 7\)"):
        Baseline.from_frame(frame)


def test_tariff_above_2000_percent(small_frame):
    small_frame["tariff"] = [0.1, 0.2, 0.3, 25.0, 0.0, 0.0]
    with pytest.raises(InputError, match="tariff fraction 25.0 out of range in row 4; expected from 0 to 20"):
        Baseline.from_frame(small_frame, tariff="tariff")


def test_country_order_must_cover_the_rows(small_frame):
    with pytest.raises(InputError, match=r"countries \['VNM'\] have rows"):
        Baseline.from_frame(small_frame, countries=["USA", "CHN"])


@pytest.mark.parametrize(
    "shape, fragment",
    [((2, 3, 2), "non-square|expected"), ((3, 3, 3), r"expected \[product, exporter, importer\] = \(2, 3, 3\)"),
     ((2, 3), "expected")],
)
def test_mismatched_arrays(shape, fragment):
    with pytest.raises(InputError, match=fragment):
        Baseline(("CHN", "USA", "VNM"), ("8471", "8542"), np.ones(shape))


def test_direct_construction_checks_values_and_labels():
    good = np.ones((1, 2, 2))
    bad = good.copy()
    bad[0, 1, 0] = np.nan
    with pytest.raises(InputError, match=r"NaN or infinite values at 8542/USA->CHN"):
        Baseline(("CHN", "USA"), ("8542",), bad)
    neg = good.copy()
    neg[0, 0, 1] = -1.0
    with pytest.raises(InputError, match=r"negative values at 8542/CHN->USA; expected values >= 0"):
        Baseline(("CHN", "USA"), ("8542",), neg)
    with pytest.raises(InputError, match=r"duplicate labels \['CHN'\]"):
        Baseline(("CHN", "CHN"), ("8542",), good)
    with pytest.raises(InputError, match="unknown country code 'XXX'"):
        Baseline(("CHN", "XXX"), ("8542",), good)
    with pytest.raises(InputError, match=r"tariffs has shape \(2, 2, 2\)"):
        Baseline(("CHN", "USA"), ("8542",), good, tariffs=np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match="tariffs out of range at 8542/CHN->CHN"):
        Baseline(("CHN", "USA"), ("8542",), good, tariffs=np.full((1, 2, 2), -0.1))


def test_country_index_unknown(small):
    with pytest.raises(InputError, match="'DEU' is not in this baseline"):
        small.country_index("DEU")
    with pytest.raises(InputError, match="did you mean USA"):
        small.country_index("US")


def test_aggregate_rates_weights_by_flows_and_agrees_with_aggregate(random_baseline):
    b = random_baseline
    mapping = {"01": "animals", "12": "seeds", "84": "machines", "85": "machines", "95": "toys"}
    # the baseline's own tariffs: the same means as aggregate() computes
    np.testing.assert_allclose(b.aggregate_rates(b.tariffs, products=mapping), b.aggregate(products=mapping).tariffs)
    # by hand for one cell, with a leading (date) axis kept
    rates = np.stack([b.tariffs, 2 * b.tariffs])
    out = b.aggregate_rates(rates, products=mapping, countries={"MEX": "NAM", "USA": "NAM"})
    assert out.shape == (2, 4, 5, 5)
    k = [b.products.index(p) for p in ("8471", "8542", "854231")]
    i, j = b.country_index("CHN"), [b.country_index("MEX"), b.country_index("USA")]
    w = b.flows[np.ix_(k, [i], j)]
    expected = (w * b.tariffs[np.ix_(k, [i], j)]).sum() / w.sum()
    assert out[1, 2, 0, 2] == pytest.approx(2 * expected, rel=1e-12)  # machines, CHN, NAM (MEX and USA)
    with pytest.raises(InputError, match=r"rates has shape \(3,\)"):
        b.aggregate_rates(np.zeros(3))


def test_with_domestic_fills_the_diagonal_and_marks_it_imputed(small):
    one = small.aggregate(products={"12": "goods", "85": "goods", "95": "goods"})
    b = one.with_domestic({"CHN": 5.0, "USA": 7.0, "VNM": 0.0}, method="test rule")
    assert b.domestic and b.provenance["domestic"] == "test rule"
    assert np.diag(b.flows[0]).tolist() == [5.0, 7.0, 0.0]
    assert b.imputed[0].diagonal().all() and not b.imputed[0][~np.eye(3, dtype=bool)].any()
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_array_equal(b.flows[0][off], one.flows[0][off])  # trade untouched
    with pytest.raises(InputError, match=r"missing \['VNM'\], not in the baseline \['MEX'\]"):
        one.with_domestic({"CHN": 5.0, "USA": 7.0, "MEX": 1.0}, method="x")
    with pytest.raises(InputError, match="one product"):
        small.with_domestic({"CHN": 5.0, "USA": 7.0, "VNM": 0.0}, method="x")
    with pytest.raises(InputError, match="goods/USA=-1"):
        one.with_domestic(np.array([[5.0, -1.0, 0.0]]), method="x")


def test_gdp_2024_imputes_the_rest_of_the_world_from_the_world_total():
    from tradesim.data import gdp_2024

    g = gdp_2024()
    assert list(g.index[:-1]) == list(g.index[g.index != "ROW"]) and g.index[-1] == "ROW"
    assert not g["imputed"][:-1].any() and g.loc["ROW", "imputed"]
    world_2024 = (106.94e12 * 117.17e12) ** 0.5  # IMF WEO Oct 2025: 2023 estimate and 2025 projection
    assert g["value_usd"].sum() == pytest.approx(world_2024, rel=1e-12)
    assert g.loc["CHN", "value_usd"] == 18.27e12
    assert set(g.index) == set(tradesim_demo_countries())


def tradesim_demo_countries():
    import tradesim

    return tradesim.load_baseline("demo-2024").countries


def test_a_sparse_baseline_describes_itself_from_its_cells():
    # demo-2024 has imputed domestic sales: the description splits them from trade, the same in both layouts
    import tradesim

    dense = tradesim.load_baseline("demo-2024")
    sparse = dense.with_layout("sparse")
    assert repr(sparse) == repr(dense) and "domestic sales" in repr(dense)
    assert sparse.has_domestic_sales and dense.has_domestic_sales
    assert "flows" not in vars(sparse)  # neither built its dense flows
