"""A single change of tariffs on a sparse baseline stays on its cells that trade (issue 22).

Tariffs come from the schedule evaluated at the cells, or from arrays read at them; the model solves
on them; the result's tables sum them. The numbers are those of the same baseline stored dense,
and memory grows with the cells, not with products x exporters x importers.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import InputError, read_baci
from tradesim.codes import hs_subheadings
from tradesim.data.layout import SparseTensor, dense_bytes
from tradesim.errors import TradesimWarning

pycountry = pytest.importorskip("pycountry")

# the partners of the bundled schedule's measures, then as many other economies as asked for
NAMED = ("USA", "CHN", "CAN", "MEX", "DEU", "JPN", "VNM", "KOR", "IND", "BRA")


def write_baci(folder, n_products: int, n_countries: int, density: float, seed: int = 0):
    """A BACI-layout year file (``t,i,j,k,v,q``, thousands of USD) of random HS6 trade, and its code file.

    Products are `n_products` HS6 subheadings drawn from every chapter; each ordered pair of
    distinct economies trades a product with probability `density` (BACI has no domestic sales).
    """
    rng = np.random.default_rng(seed)
    others = sorted(c.alpha_3 for c in pycountry.countries if c.alpha_3 not in NAMED)
    iso = sorted([*NAMED, *others[:n_countries - len(NAMED)]])
    codes = 4 * np.arange(1, len(iso) + 1)  # BACI's own numeric codes
    (folder / "country_codes_V202401.csv").write_text(
        "country_code,country_name,country_iso2,country_iso3\n"
        + "".join(f"{c},Country {a},XX,{a}\n" for c, a in zip(codes, iso)))
    products = np.sort(rng.choice(hs_subheadings(), n_products, replace=False))
    shape = (n_products, len(iso), len(iso))
    flat = np.unique(rng.integers(0, int(np.prod(shape)), int(density * np.prod(shape))))
    k, i, j = np.unravel_index(flat, shape)
    keep = i != j
    k, i, j = k[keep], i[keep], j[keep]
    v = np.round(rng.lognormal(3, 2, k.size), 3) + 0.001
    path = folder / "BACI_HS17_Y2022_V202401.csv"
    pd.DataFrame({"t": 2022, "i": codes[i], "j": codes[j], "k": products[k], "v": v, "q": np.round(v / 7, 3)}).to_csv(
        path, index=False)
    return path


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)  # the law's notes on lines finer than HS6
        return fn(*args, **kwargs)


def small_law():
    """A few layers: an MFN base, a duty with exemptions, one that replaces it, two retaliations."""
    Measure = tradesim.Measure
    return tradesim.TariffSchedule([
        Measure("us-mfn", "USA", 0.03, "2000-01-01", kind="mfn"),
        Measure("us-china", "USA", 0.5, "2025-02-04", exporters=["CHN"], exclude=["27", "8542"]),
        Measure("us-steel", "USA", 0.25, "2025-03-12", products=["72", "73"], replaces=["us-china"]),
        Measure("china-us", "CHN", 0.15, "2025-03-10", exporters=["USA"], products=["01", "02", "10", "12"]),
        Measure("canada-us", "CAN", 0.25, "2025-03-04", exporters=["USA"]),
    ])


@pytest.fixture(scope="module")
def read(tmp_path_factory):
    path = write_baci(tmp_path_factory.mktemp("baci"), n_products=150, n_countries=30, density=0.08, seed=1)
    dense = quiet(read_baci, path)
    assert dense.layout == "dense" and dense.with_layout("sparse").equals(dense)
    return dense


@pytest.fixture
def small(read):
    """The same BACI file read dense and stored on its cells (a fresh one: its dense `flows` not yet made)."""
    return read, read.with_layout("sparse")


def assert_frames_close(a: pd.DataFrame, b: pd.DataFrame, rtol: float = 1e-9):
    assert list(a.columns) == list(b.columns) and len(a) == len(b) and len(a) > 0
    assert a.index.equals(b.index)
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and not isinstance(x.dtype, pd.CategoricalDtype):
            np.testing.assert_allclose(x.to_numpy(float), y.to_numpy(float), rtol=rtol, atol=0, equal_nan=True,
                                       err_msg=col)
        else:
            assert x.astype(str).tolist() == y.astype(str).tolist(), col


@pytest.mark.parametrize("run", [dict(), dict(elasticities={"epsilon": 3.0}), dict(method="linear")],
                         ids=["inf-supply", "finite-supply", "linear"])
def test_a_schedule_change_on_the_cells_gives_the_dense_numbers(small, run):
    dense, sparse = small
    law = tradesim.load_schedule("tariffs-2025")
    change = ((law, "2024-12-31"), (law, "2025-06-01"))
    d = quiet(tradesim.simulate, dense, *change, domestic=False, **run)
    s = quiet(tradesim.simulate, sparse, *change, domestic=False, **run)
    cells = s.on_cells("cell")
    assert d.on_cells("cell") is None and cells is sparse.sparse_flows.cells  # solved on the baseline's cells
    assert isinstance(s.tariff_after, SparseTensor) and s.solution.flows_after.shape == (cells.size,)
    assert "flows" not in vars(sparse)  # its dense flows were never made
    for by in ("pair", "country"):
        assert_frames_close(s.summary(by), d.summary(by))
    for level in ("cell", "pair", "country"):
        assert_frames_close(s.to_frame(level=level), d.to_frame(level=level))
    assert_frames_close(s.to_frame(level="pair", nonzero=False), d.to_frame(level="pair", nonzero=False))
    assert_frames_close(s.to_frame(level="cell", pairs=[("CHN", "USA"), ("USA", "CAN")]),
                        d.to_frame(level="cell", pairs=[("CHN", "USA"), ("USA", "CAN")]))
    for importer, exporter in (("USA", "CHN"), ("USA", None), ("CAN", ["USA", "MEX"]), ("CHN", "USA")):
        for weights in ("pre", "post"):
            assert s.effective_rate(importer, exporter, weights=weights) == pytest.approx(
                d.effective_rate(importer, exporter, weights=weights), rel=1e-9)
    assert s.effective_rate("USA", "CHN") > 0.3  # the 2025 duties on China reach these cells
    assert "flows" not in vars(sparse)  # not by the tables either
    xs, xd = s.to_xarray(level="pair"), d.to_xarray(level="pair")
    for name in xd.data_vars:
        np.testing.assert_allclose(xs[name].values, xd[name].values, rtol=1e-9, equal_nan=True, err_msg=name)


def test_tariff_arrays_are_read_at_the_cells(small):
    dense, sparse = small
    rng = np.random.default_rng(5)
    trade = dense.flows > 0
    before = np.where(trade, rng.uniform(0, 0.2, trade.shape), 0.0)
    after = before.copy()
    after[:, dense.exporters.index("CHN"), dense.importers.index("USA")] += 0.6
    run = dict(elasticities={"sigma": 4.0, "epsilon": 2.5}, domestic=False)
    d = tradesim.simulate(dense, before, after, **run)
    # a dense array, the same with tariffs where nothing trades (they meet no trade), and SparseTensors
    noise = np.where(trade, 0.0, rng.uniform(0, 5, trade.shape))
    as_dense = tradesim.simulate(sparse, before + noise, after + noise, **run)
    as_cells = tradesim.simulate(sparse, SparseTensor.from_dense(before), SparseTensor.from_dense(after), **run)
    for s in (as_dense, as_cells):
        assert s.on_cells("cell") is not None
        assert_frames_close(s.summary("pair"), d.summary("pair"))
        assert_frames_close(s.summary("country"), d.summary("country"))
        assert_frames_close(s.to_frame(level="cell"), d.to_frame(level="cell"))
    # a SparseTensor on a dense baseline is its dense tensor
    assert_frames_close(tradesim.simulate(dense, SparseTensor.from_dense(before), after, **run).summary("pair"),
                        d.summary("pair"))


def test_draws_and_general_equilibrium_on_a_sparse_baseline(monkeypatch):
    demo = tradesim.load_baseline("demo-2024")
    sparse = demo.with_layout("sparse")
    law = small_law()
    change = ((law, "2024-12-31"), (law, "2025-06-01"))
    sigma = np.random.default_rng(3).uniform(2, 6, (3, len(demo.products), 1))  # [draw, product, importer]
    for run in (dict(domestic=False, elasticities={"sigma": sigma}), dict(model="ge")):
        d = quiet(tradesim.simulate, demo, *change, **run)
        s = quiet(tradesim.simulate, sparse, *change, **run)
        assert s.on_cells("cell") is sparse.sparse_flows.cells  # general equilibrium too solves on the cells
        for by in ("pair", "country"):
            assert_frames_close(s.summary(by), d.summary(by))
        assert_frames_close(s.to_frame(level="cell"), d.to_frame(level="cell"))
        assert s.effective_rate("USA", "CHN", weights="post") == pytest.approx(
            d.effective_rate("USA", "CHN", weights="post"), rel=1e-9)
    pytest.importorskip("xarray")
    s = quiet(tradesim.simulate, sparse, *change, domestic=False)
    d = quiet(tradesim.simulate, demo, *change, domestic=False)
    xs, xd = s.to_xarray(level="cell"), d.to_xarray(level="cell")
    trade = demo.flows > 0
    for name in xd.data_vars:  # the same where there is trade; nothing is known of the other cells on cells
        np.testing.assert_allclose(xs[name].values[trade], xd[name].values[trade], rtol=1e-9, err_msg=name)
    monkeypatch.setattr("tradesim.data.layout.available_memory", lambda: 2**20)
    with pytest.raises(InputError, match=r"level: the result is on the baseline's [\d,]+ cells that trade; its 8 "
                                         r"variables on the whole .* grid would take .* use to_frame\(level='cell'\)"):
        s.to_xarray(level="cell")
    assert s.to_xarray(level="pair").sizes["exporter"] == len(demo.exporters)  # small aggregates need no grid


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_tariff_arrays_of_the_wrong_shape_are_refused_naming_the_key_and_both_shapes(small, layout):
    b = small[0] if layout == "dense" else small[1]
    shape = (len(b.products), len(b.exporters), len(b.importers))
    right = np.zeros(shape)
    wrong = np.zeros((shape[0], shape[1], shape[2] + 1))
    expected = rf"expected \[product, exporter, importer\] = \({shape[0]}, {shape[1]}, {shape[2]}\)"
    with pytest.raises(InputError, match=rf"^after: has shape \({shape[0]}, {shape[1]}, {shape[2] + 1}\); {expected}"):
        tradesim.simulate(b, right, wrong, domestic=False)
    with pytest.raises(InputError, match=rf"^before: has shape \({shape[1]}, {shape[2]}\); {expected}"):
        tradesim.simulate(b, right[0], right, domestic=False)
    with pytest.raises(InputError, match=rf"^before: has shape \({shape[0]}, {shape[1]}, {shape[2] + 1}\); "
                                         rf"{expected}"):
        tradesim.simulate(b, SparseTensor.from_dense(wrong + 0.1), right, domestic=False)


def test_a_schedule_reads_only_the_cells_asked_for(small):
    dense, sparse = small
    law = tradesim.load_schedule("tariffs-2025")
    labels = (dense.products, dense.exporters, dense.importers)
    cells = sparse.sparse_flows.cells
    for date in ("2024-12-31", "2025-06-01"):
        whole = quiet(law.rates, date, *labels)
        on = quiet(law.rates, date, *labels, cells=cells)
        assert on.shape == (cells.size,) and np.array_equal(on, cells.gather(whole))
    with pytest.raises(InputError, match=r"cells: is \(1, 2, 3\); expected Cells of a \[product, exporter, "
                                         r"importer\] = "):
        law.rates("2025-06-01", *labels, cells=type(cells)((1, 2, 3), [0]))
    with pytest.raises(InputError, match="cells: is ndarray; expected Cells"):
        law.rates("2025-06-01", *labels, cells=dense.flows > 0)


def test_a_whole_world_like_baseline_runs_in_the_memory_of_its_cells(tmp_path):
    """read_baci at HS6 for every economy, nothing summed, then a schedule change and its tables.

    The run may hold arrays of one value per cell that trades (tariffs before and after, the
    solution's quantities, flows after, revenue), per product and country (the solver's prices,
    price indices, surpluses and their iterates) and per pair of countries (the tables), each a
    few dozen times; never one of product x exporter x importer. On this baseline one dense
    tensor is 251 times the cells' bytes; the single-change path made about nine of them before
    it stayed on the cells (a peak of 10.3 dense tensors, 1.3 GiB, against 25 MiB since, measured on a
    file of these dimensions).
    """
    path = write_baci(tmp_path, n_products=300, n_countries=240, density=0.002, seed=2)
    b = quiet(read_baci, path)
    flows = b.sparse_flows
    K, n, m = flows.shape
    assert b.layout == "sparse" and n == m == 240 and K == 300  # every economy, every HS6 line, as read
    dense = dense_bytes(flows.shape)
    cell_bytes = flows.nbytes()  # 16 bytes a cell: its position and its value
    assert dense >= 50 * cell_bytes
    # a small law, so that what is measured is the run's and not the compiled tables of a large schedule
    # (compiling the bundled tariffs-2025 for the US takes tens of MiB of its own, whatever the baseline)
    law = small_law()
    change = ((law, "2024-12-31"), (law, "2025-06-01"))

    def run():
        r = quiet(tradesim.simulate, b, *change, elasticities={"epsilon": 3.0})  # domestic inferred from the cells
        tables = (r.summary("pair"), r.summary("country"), r.effective_rate("USA", "CHN"), r.to_frame(),
                  r.to_frame(level="cell", pairs=[("CHN", "USA")]))
        return r, tables

    run()  # once first, so that tables loaded once per process (HS codes, country names) do not count
    tracemalloc.start()
    try:
        r, tables = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.on_cells("cell") is flows.cells and "flows" not in vars(b)  # the dense flows were never made
    total = flows.values.sum() / 1e9
    assert not b.has_domestic_sales and repr(b) == (f"Baseline(year={b.year}, 300 products x 240 countries, total "
                                                    f"{total:,.1f} bn USD, domestic=False)")
    assert "flows" not in vars(b)  # nor by what a user asks of the baseline
    assert len(tables[0]) > 0 and tables[1].loc["USA", "consumer_surplus_usd"] < 0 and tables[2] > 0.3
    allowance = 20 * cell_bytes + 20 * 8 * K * (n + m) + 30 * 8 * n * m  # 45 MiB here (measured: 24 MiB)
    assert peak < allowance, f"peak {peak / 2**20:.1f} MiB for {flows.cells.size:,} cells"
    assert peak < dense / 3, f"peak {peak / 2**20:.1f} MiB against {dense / 2**20:.1f} MiB for one dense tensor"


def test_general_equilibrium_on_a_baci_file_with_domestic_sales_added_stays_on_its_cells(small):
    dense, sparse = small
    flows = sparse.sparse_flows
    K, n = len(sparse.products), len(sparse.countries)
    # BACI has no domestic sales; GE needs them: twice each product and country's exports, plus USD 1m
    sales = 2 * np.bincount(flows.cells.product * n + flows.cells.exporter, flows.values, K * n).reshape(K, n) + 1e6
    change = ((small_law(), "2024-12-31"), (small_law(), "2025-06-01"))
    with pytest.raises(InputError, match="has no domestic sales on the diagonal"):
        quiet(tradesim.simulate, sparse, *change, model="ge")
    d, s = dense.with_domestic(sales, method="test"), sparse.with_domestic(sales, method="test")
    assert s.layout == "sparse" and "flows" not in vars(s)
    rd, rs = quiet(tradesim.simulate, d, *change, model="ge"), quiet(tradesim.simulate, s, *change, model="ge")
    assert rs.on_cells("cell") is s.sparse_flows.cells and "flows" not in vars(s)
    for by in ("pair", "country"):
        assert_frames_close(rs.summary(by), rd.summary(by), rtol=1e-8)
    assert rs.summary("country").loc["CHN", "welfare_usd"] < 0
