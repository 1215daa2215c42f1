"""Invariants of the data model, over random baselines."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tradesim import Baseline

COUNTRIES = ("CHN", "DEU", "MEX", "USA", "VNM")
PRODUCTS = ("0101", "1201", "2709", "8471", "8542", "854231", "9503")


@st.composite
def baselines(draw):
    nc = draw(st.integers(2, len(COUNTRIES)))
    npr = draw(st.integers(1, len(PRODUCTS)))
    shape = (npr, nc, nc)
    values = st.one_of(st.just(0.0), st.floats(1e-3, 1e12, allow_nan=False))
    flows = draw(arrays(np.float64, shape, elements=values))
    tariffs = draw(arrays(np.float64, shape, elements=st.floats(0, 20)))
    return Baseline(COUNTRIES[:nc], PRODUCTS[:npr], flows, tariffs=tariffs)


@settings(max_examples=60, deadline=None)
@given(baselines(), st.sampled_from(["chapter", "section"]))
def test_aggregation_keeps_every_pair_total(b, level):
    agg = b.aggregate(products=level)
    np.testing.assert_allclose(agg.flows.sum(axis=0), b.flows.sum(axis=0), rtol=1e-12, atol=1e-9)
    # Aggregated tariffs stay within the range of the tariffs they average.
    assert agg.tariffs.min() >= b.tariffs.min() - 1e-12 and agg.tariffs.max() <= b.tariffs.max() + 1e-12


@settings(max_examples=60, deadline=None)
@given(baselines())
def test_frame_round_trip_is_exact(b):
    back = Baseline.from_frame(b.to_frame(), tariff="tariff", countries=list(b.countries), products=list(b.products))
    assert np.array_equal(back.flows, b.flows)
    kept = (b.flows > 0) | (b.tariffs > 0)
    assert np.array_equal(back.tariffs, np.where(kept, b.tariffs, 0.0))


@settings(max_examples=40, deadline=None)
@given(baselines(), st.data())
def test_country_grouping_keeps_world_total_and_external_trade(b, data):
    members = data.draw(st.sets(st.sampled_from(b.countries), min_size=1, max_size=len(b.countries)))
    agg = b.aggregate(countries={c: "EU27" for c in members})
    assert np.isclose(agg.flows.sum(), b.flows.sum(), rtol=1e-12)
    outsiders = [c for c in b.countries if c not in members]
    for c in outsiders:
        i = b.country_index(c)
        assert np.isclose(agg.flows[:, agg.country_index(c)].sum(), b.flows[:, i].sum(), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(baselines(), st.sampled_from(["chapter", "section", None]), st.data())
def test_aggregating_a_baseline_on_its_cells_gives_the_dense_sums(b, level, data):
    """The sparse layout sums its cells by group (`Baseline.aggregate`) to the dense sums' numbers: flows,
    flow-weighted tariffs (the plain mean where a group has no trade, unlisted cells at zero), flags."""
    imputed = data.draw(arrays(bool, b.flows.shape))
    b = Baseline(b.countries, b.products, b.flows, tariffs=b.tariffs, imputed=imputed)
    groups = data.draw(st.dictionaries(st.sampled_from(list(b.countries)), st.sampled_from(["AAA", "BBB"])))
    dense = b.aggregate(products=level, countries=groups or None)
    cells = b.with_layout("sparse").aggregate(products=level, countries=groups or None).with_layout("dense")
    assert (cells.products, cells.exporters, cells.importers) == (dense.products, dense.exporters, dense.importers)
    np.testing.assert_allclose(cells.flows, dense.flows, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cells.tariffs, dense.tariffs, rtol=1e-12, atol=1e-12)
    assert np.array_equal(cells.imputed, dense.imputed)
