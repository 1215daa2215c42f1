"""Flows stored by the cells that trade: the layout, sparse baselines, and PE on them.

Sparse and dense give the same numbers (to rounding) on the baselines of the bundled scenarios and
on seeded random problems; the solver on cells gives Newton's numbers to the tolerance.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import InputError
from tradesim.data import baseline as baseline_module
from tradesim.data.layout import Cells, SparseTensor, choose_layout
from tradesim.models import pe

PAIR_FIELDS = ("quantity", "flows_after", "buyer_price", "revenue", "trade_creation", "trade_diversion")
PROBLEM_FIELDS = ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare")


def random_problem(seed, K=40, n=7, m=None, density=0.4, domestic=True):
    """Flows with many zeros (domestic sales on the diagonal when square), tariffs and a change."""
    rng = np.random.default_rng(seed)
    m = n if m is None else m
    flows = rng.lognormal(3, 2, (K, n, m)) * (rng.random((K, n, m)) < density)
    own = np.eye(n, m, dtype=bool) if m == n else np.zeros((n, m), bool)
    if domestic:
        flows[:, own] = 10 * rng.lognormal(3, 1, (K, int(own.sum())))
    t0 = rng.uniform(0, 0.2, flows.shape) * ~own
    t1 = t0 + rng.choice([0.0, 0.25, 1.45], flows.shape) * ~own
    return flows, t0, t1


def assert_same(sparse_sol, dense_sol, rtol=1e-12):
    """A sparse solution equals a dense one to rounding: per-problem arrays, the pair arrays on the cells and
    the country table (each to `rtol` of its largest value: sums in another order round differently)."""
    cells = sparse_sol.cells

    def close(a, b, name):
        b = np.asarray(b)
        finite = np.abs(b[np.isfinite(b)])  # a halt's inf is compared as inf, not taken as the scale
        scale = finite.max() if finite.size else 1.0
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=name)

    for name in PROBLEM_FIELDS:
        close(getattr(sparse_sol, name), getattr(dense_sol, name), name)
    for name in PAIR_FIELDS:
        close(getattr(sparse_sol, name), cells.gather(getattr(dense_sol, name)), name)
    for name, a in sparse_sol.country_table().items():
        close(a, dense_sol.country_table()[name], name)
    close(sparse_sol.revenue_change, dense_sol.revenue_change, "revenue_change")
    close(sparse_sol.diversion_by_importer, dense_sol.diversion_by_importer, "diversion_by_importer")


# --------------------------------------------------------------------------- the layout


def test_cells_and_sparse_tensors_round_trip():
    rng = np.random.default_rng(0)
    dense = rng.random((6, 4, 3)) * (rng.random((6, 4, 3)) < 0.3)
    t = SparseTensor.from_dense(dense)
    np.testing.assert_array_equal(t.toarray(), dense)
    assert t.cells.size == int((dense != 0).sum()) and t.sum() == pytest.approx(dense.sum())
    k, i, j = np.nonzero(dense)
    np.testing.assert_array_equal(t.cells.product, k)
    np.testing.assert_array_equal(t.cells.exporter, i)
    np.testing.assert_array_equal(t.cells.importer, j)
    part = t.products(2, 5)
    np.testing.assert_array_equal(part.toarray(), dense[2:5])
    chunks = t.cells.chunks(max_cells=5)
    assert chunks[0][0] == 0 and chunks[-1][1] == 6 and all(a < b for a, b in chunks)
    other = SparseTensor.from_dense(dense * (rng.random(dense.shape) < 0.5) + (dense == 0) * 0.5)
    np.testing.assert_array_equal(t.on(other.cells), other.cells.gather(dense))


def test_cells_listed_twice_are_refused():
    with pytest.raises(InputError, match="listed twice"):
        Cells.from_coords([0, 0], [1, 1], [2, 2], (1, 3, 3))


def test_the_layout_is_dense_when_small_and_sparse_when_large_and_empty():
    assert choose_layout((98, 16, 16), 20_000) == "dense"
    assert choose_layout((5000, 230, 230), 11_000_000) == "sparse"
    assert choose_layout((5000, 230, 230), 200_000_000) == "dense"  # mostly full
    assert choose_layout((2, 2, 2), 1, "sparse") == "sparse"
    with pytest.raises(InputError, match="layout"):
        choose_layout((2, 2, 2), 1, "blocked")


# --------------------------------------------------------------------------- sparse baselines


@pytest.mark.parametrize("name", ["demo-2024", "us-imports-2024"])
def test_a_bundled_baseline_is_the_same_in_either_layout(name):
    dense = tradesim.load_baseline(name)
    sparse = dense.with_layout("sparse")
    assert sparse.layout == "sparse" and dense.layout == "dense"
    assert sparse.equals(dense) and dense.equals(sparse)
    pd.testing.assert_frame_equal(sparse.to_frame(), dense.to_frame())
    back = sparse.with_layout("dense")
    assert back.layout == "dense" and back.equals(dense)
    assert sparse.domestic == dense.domestic
    assert sparse.sparse_flows.cells.size == int((dense.flows > 0).sum())


def test_from_frame_stores_a_large_empty_tensor_on_its_cells():
    rng = np.random.default_rng(1)
    from tradesim.codes import hs_subheadings

    products = list(rng.choice(hs_subheadings(), 3000, replace=False))
    countries = ["CHN", "DEU", "FRA", "IND", "JPN", "MEX", "USA", "VNM"]
    rows = 20_000
    frame = pd.DataFrame({"exporter": rng.choice(countries, rows), "importer": rng.choice(countries, rows),
                          "product": rng.choice(products, rows), "value": rng.lognormal(10, 2, rows)})
    frame = frame.drop_duplicates(["exporter", "importer", "product"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = tradesim.Baseline.from_frame(frame, layout="sparse")
        dense = tradesim.Baseline.from_frame(frame, layout="dense")
    assert sparse.layout == "sparse" and sparse.equals(dense)
    assert repr(sparse) == repr(dense)


def test_sparse_baselines_check_their_values():
    cells, order = Cells.from_coords([0, 1], [0, 1], [1, 0], (2, 2, 2))
    with pytest.raises(InputError, match="negative"):
        tradesim.Baseline(["CHN", "USA"], ["01", "02"], SparseTensor(cells, np.array([1.0, -2.0])))
    with pytest.raises(InputError, match="NaN"):
        tradesim.Baseline(["CHN", "USA"], ["01", "02"], SparseTensor(cells, np.array([1.0, np.nan])))
    with pytest.raises(InputError, match="out of range"):
        tradesim.Baseline(["CHN", "USA"], ["01", "02"], SparseTensor(cells, np.array([1.0, 2.0])),
                          tariffs=SparseTensor(cells, np.array([0.1, 25.0])))


# --------------------------------------------------------------------------- PE on cells


@pytest.fixture(scope="module")
def scenario_changes():
    """For each baseline a bundled scenario runs on: its reference tariffs and every regime of its path."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("us-china-2025", "tariffs-2025"):
            scenario = tradesim.load_scenario(name)
            baseline = scenario.load_baseline()
            _, rates = scenario.regimes(baseline)
            e = scenario.elasticities
            out[name] = (baseline, rates, {k: e.values_for(k, baseline.products) for k in ("sigma", "eta")})
    return out


@pytest.mark.parametrize("name", ["us-china-2025", "tariffs-2025"])
@pytest.mark.parametrize("epsilon", [np.inf, 2.5])
def test_pe_on_cells_equals_dense_on_the_bundled_scenarios(scenario_changes, name, epsilon):
    baseline, rates, params = scenario_changes[name]
    home = baseline.home
    peak = rates[int(np.argmax([(r * baseline.flows).sum() for r in rates]))]
    for after in (peak, rates[-1]):
        dense = pe.solve(baseline.flows, rates[0], after, params["sigma"], params["eta"], epsilon, domestic=False,
                         home=home)
        sparse = pe.solve(baseline.sparse_flows, rates[0], after, params["sigma"], params["eta"], epsilon,
                          domestic=False, home=home)
        assert sparse.cells is not None and sparse.quantity.shape == (sparse.cells.size,)
        assert_same(sparse, dense)
        np.testing.assert_allclose(sparse.dense().quantity, dense.quantity, rtol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_pe_on_cells_equals_dense_on_random_problems(seed):
    flows, t0, t1 = random_problem(seed)
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.5, 8.0, (3, flows.shape[0], 1))  # draws
    eta = rng.uniform(0.0, 2.0, (flows.shape[0], 1))
    epsilon = rng.uniform(0.3, 5.0, (flows.shape[0], flows.shape[1]))
    epsilon[:, 0] = np.inf
    for domestic in (True, False):
        dense = pe.solve(flows, t0, t1, sigma, eta, epsilon, domestic=domestic)
        sparse = pe.solve(SparseTensor.from_dense(flows), SparseTensor.from_dense(t0), t1, sigma, eta, epsilon,
                          domestic=domestic)
        assert sparse.quantity.shape == (3, sparse.cells.size)
        assert_same(sparse, dense)


def test_a_rectangle_on_cells_equals_dense():
    flows, t0, t1 = random_problem(5, K=60, n=9, m=2, density=0.5, domestic=False)
    home = np.array([-1, 3])
    t0[:, 3, 1] = t1[:, 3, 1] = 0.0
    dense = pe.solve(flows, t0, t1, 3.0, 1.0, 1.5, domestic=False, home=home)
    sparse = pe.solve(SparseTensor.from_dense(flows), t0, t1, 3.0, 1.0, 1.5, domestic=False, home=home)
    assert_same(sparse, dense)


@pytest.mark.parametrize("seed", range(3))
def test_the_fixed_point_on_cells_gives_newtons_numbers(seed, monkeypatch):
    flows, t0, t1 = random_problem(10 + seed, K=30, n=6)
    rng = np.random.default_rng(seed)
    args = (flows, t0, t1, rng.uniform(1.2, 8.0, (30, 1)), rng.uniform(0.0, 1.5, (30, 1)),
            rng.uniform(0.3, 5.0, (30, 6)))
    cells = pe.solve(*args)
    monkeypatch.setattr(pe, "_CELL_SOLVER", False)
    newton = pe.solve(*args)
    assert cells.max_residual <= 1e-10 and newton.max_residual <= 1e-10
    # both meet the tolerance on log excess demand, so prices agree to about tol / (sigma + epsilon)
    np.testing.assert_allclose(cells.exporter_price, newton.exporter_price, rtol=1e-9)
    np.testing.assert_allclose(cells.quantity, newton.quantity, rtol=1e-8)
    scale = np.abs(newton.welfare).max()
    np.testing.assert_allclose(cells.welfare, newton.welfare, rtol=0, atol=1e-8 * scale)


def test_problems_the_fixed_point_cannot_solve_go_to_newton():
    # strong complementarity with very inelastic supply and 2,000% tariffs: the plain iteration diverges
    rng = np.random.default_rng(8)
    K, n = 30, 6
    flows = rng.lognormal(3, 2, (K, n, n)) * (rng.random((K, n, n)) < 0.6)
    t1 = rng.choice([0.0, 20.0], (K, n, n)) * ~np.eye(n, dtype=bool)
    sparse = pe.solve(SparseTensor.from_dense(flows), np.zeros_like(t1), t1, 0.5, 5.0, 0.1)
    dense = pe.solve(flows, np.zeros_like(t1), t1, 0.5, 5.0, 0.1)
    assert sparse.max_residual <= 1e-10
    assert_same(sparse, dense, rtol=1e-9)


def test_sparse_input_is_checked_like_dense():
    flows, t0, t1 = random_problem(3, K=4, n=3)
    sparse = SparseTensor.from_dense(flows)
    with pytest.raises(InputError) as err:
        pe.solve(sparse, t0, np.full(flows.shape, 25.0), 2.0, 1.0, 1.0, domestic=False)
    assert err.value.key == "tariff_after" and "from 0 to 20" in err.value.message
    with pytest.raises(InputError) as err:
        pe.solve(sparse, t0[:, :2], t1, 2.0, 1.0, 1.0, domestic=False)
    assert err.value.key == "tariff_before"
    with pytest.raises(InputError, match="own sales"):
        pe.solve(sparse, t0 + 0.1, t1, 2.0, 1.0, 1.0)


def _aggregated_alike(dense, sparse, **kw):
    """`aggregate` of a baseline on its cells equals the dense one's: flows summed in another order (to
    rounding), flow-weighted tariffs (the plain mean where a group has no trade), flags, labels."""
    a, b = dense.aggregate(**kw), sparse.aggregate(**kw)
    assert "flows" not in vars(sparse)  # the dense tensors were never made
    d = b.with_layout("dense")
    assert (a.products, a.exporters, a.importers, a.groups, a.domestic) == \
        (d.products, d.exporters, d.importers, d.groups, d.domestic)
    np.testing.assert_allclose(d.flows, a.flows, rtol=1e-13)
    if a.tariffs is None:
        assert d.tariffs is None and d.imputed is None and a.imputed is None
    else:
        np.testing.assert_allclose(d.tariffs, a.tariffs, rtol=1e-13, atol=1e-15)
        assert np.array_equal(d.imputed, a.imputed)
    assert a.provenance["aggregation"] == d.provenance["aggregation"]
    return b


@pytest.mark.parametrize("kw", [dict(products="chapter"), dict(products="section"),
                                dict(countries={"MEX": "NAFTA", "USA": "NAFTA"}),
                                dict(products="chapter", countries={"CHN": "ASIA", "VNM": "ASIA"})],
                         ids=["chapter", "section", "group", "both"])
def test_aggregate_on_the_cells_equals_the_dense_sums(random_baseline, kw, monkeypatch):
    rng = np.random.default_rng(5)
    tariffs = np.where(rng.random(random_baseline.flows.shape) < 0.4, 0.0, random_baseline.tariffs)  # unlisted
    dense = tradesim.Baseline(random_baseline.countries, random_baseline.products, random_baseline.flows,
                              tariffs=tariffs, year=2024, imputed=random_baseline.imputed)
    assert _aggregated_alike(dense, dense.with_layout("sparse"), **kw).layout == "dense"  # small: dense
    # a large result stays on its cells
    monkeypatch.setattr(baseline_module, "choose_layout", lambda shape, n, layout="auto": "sparse")
    assert _aggregated_alike(dense, dense.with_layout("sparse"), **kw).layout == "sparse"


def test_a_world_on_its_cells_aggregates_to_chapters_without_its_dense_tensor():
    """HS6 trade among 12 economies (a BACI-like world, no domestic sales) summed to chapters: the totals by
    pair are kept, and the result is what the dense sums give."""
    rng = np.random.default_rng(8)
    countries = ("BRA", "CAN", "CHN", "DEU", "IND", "JPN", "KOR", "MEX", "USA", "VNM", "ZAF", "AUS")
    products = tuple(np.sort(rng.choice(tradesim.codes.hs_subheadings(), 400, replace=False)))
    shape = (len(products), len(countries), len(countries))
    flat = np.unique(rng.integers(0, int(np.prod(shape)), 6000))
    k, i, j = np.unravel_index(flat, shape)
    cells, order = Cells.from_coords(k[i != j], i[i != j], j[i != j], shape)
    world = tradesim.Baseline(None, products, SparseTensor(cells, rng.lognormal(15, 2, cells.size)[order]),
                              year=2024, exporters=countries, importers=countries)
    dense = world.with_layout("dense")
    chapters = _aggregated_alike(dense, world, products="chapter")
    assert "flows" not in vars(world)
    np.testing.assert_allclose(chapters.flows.sum(axis=0), world.sparse_flows.cells.by_pair(world.sparse_flows.values),
                               rtol=1e-12)
