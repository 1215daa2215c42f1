"""General equilibrium on the cells that trade (issue 22): the dense solver's numbers, from sums over cells.

`ge.solve_sectors` given a `SparseTensor` solves the system without input-output links on its
cells (`tradesim.models._hat_cells`). Every number must be the dense solve's on the same flows, to
the solver's tolerance: country results, sector price indices, flows, quantities and prices on the
cells, through the path from the baseline where Newton alone fails, and for draws; and memory
must grow with the cells, not with sectors x countries x countries.
"""

import tracemalloc
import warnings

import numpy as np
import pytest

import tradesim
from tradesim.data.layout import Cells, SparseTensor, dense_bytes
from tradesim.errors import ConvergenceError, InputError, TradesimWarning
from tradesim.models import _hat, _hat_cells, ge

COUNTRY = ("welfare", "wage", "price_index", "income_before", "income_after", "deficit_before", "deficit_after")


def sparse_world(rng, S, n, density=0.3, domestic=20.0):
    """Flows ``[S, n, n]`` where a share `density` of the foreign cells trade, domestic sales on the diagonal."""
    f = rng.lognormal(0, 1, (S, n, n)) * (rng.random((S, n, n)) < density)
    d = np.arange(n)
    f[:, d, d] = domestic * rng.lognormal(0, 0.5, (S, n))
    return f


def foreign(rng, shape, high):
    t = rng.uniform(0, high, shape)
    n = shape[-1]
    t[..., np.arange(n), np.arange(n)] = 0
    return t


def assert_same(dense, cells, rtol=1e-9):
    """`cells` (a solution on cells) holds `dense`'s numbers."""
    assert cells.cells is not None and dense.cells is None
    for name in COUNTRY + ("sector_price_index", "unit_cost"):
        np.testing.assert_allclose(getattr(cells, name), getattr(dense, name), rtol=rtol, err_msg=name)
    on = cells.cells
    for name in ("flows_after", "quantity", "buyer_price", "revenue", "revenue_before", "flows", "tariff_after"):
        np.testing.assert_allclose(getattr(cells, name), on.gather(getattr(dense, name)), rtol=rtol, atol=1e-12,
                                   err_msg=name)
    a, b = dense.country_table(), cells.country_table()
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=rtol, atol=1e-9 * np.abs(a["welfare_usd"]).max() + 1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("options", [{}, {"deficits": "share"}, {"numeraire": ("price_index", 2)},
                                     {"numeraire": ("wage", 1), "deficits": "share"}])
def test_the_cells_give_the_dense_numbers(seed, options):
    rng = np.random.default_rng([7, seed])
    S, n = 6, 7
    f = sparse_world(rng, S, n)
    t0, t1 = foreign(rng, f.shape, 0.1), foreign(rng, f.shape, 0.8)
    d_hat = foreign(rng, f.shape, 0.3) + 0.9
    theta = rng.uniform(2.0, 9.0, S)
    dense = ge.solve_sectors(f, d_hat, t0, t1, theta, **options)
    cells = ge.solve_sectors(SparseTensor.from_dense(f), d_hat, t0, t1, theta, **options)
    assert_same(dense, cells)
    assert cells.max_residual <= 1e-12 and cells.iterations == dense.iterations  # the same Newton steps


def test_draws_of_theta_and_halted_cells_on_the_cells():
    rng = np.random.default_rng(3)
    S, n = 5, 6
    f = sparse_world(rng, S, n, density=0.5)
    t1 = foreign(rng, f.shape, 0.5)
    hit = np.argwhere(f[0] > 0)
    i, j = next((a, b) for a, b in hit if a != b)
    t1[0, i, j] = np.inf  # a halt: that cell's trade stops and collects nothing
    theta = rng.uniform(2.0, 8.0, (4, S))
    dense = ge.solve_sectors(f, None, None, t1, theta)
    cells = ge.solve_sectors(SparseTensor.from_dense(f), None, None, t1, theta)
    assert cells.welfare.shape == (4, n) and cells.flows_after.shape == (4, cells.cells.size)
    assert_same(dense, cells)
    at = np.flatnonzero((cells.cells.product == 0) & (cells.cells.exporter == i) & (cells.cells.importer == j))
    assert (cells.flows_after[:, at] == 0).all() and (cells.revenue[:, at] == 0).all()


def test_hard_shocks_take_the_path_on_the_cells_too():
    # Newton from the baseline fails on these (2,000% tariffs, high theta); continuation finds the
    # equilibrium, or no method does: the cells must do exactly what the dense solver does
    rng = np.random.default_rng(11)
    went = 0
    for k in range(12):
        f = sparse_world(rng, 2, 4, density=0.7, domestic=float(rng.uniform(1, 5)))
        t1 = foreign(rng, f.shape, 20.0)
        theta, closure = float(rng.uniform(8, 20)), ("fixed", "share")[k % 2]
        try:
            dense = ge.solve_sectors(f, None, None, t1, theta, deficits=closure)
        except ConvergenceError as err:
            with pytest.raises(ConvergenceError) as there:
                ge.solve_sectors(SparseTensor.from_dense(f), None, None, t1, theta, deficits=closure)
            # the same verdict and methods; a long path's step count may differ by rounding
            assert str(there.value).split(". Largest")[0] == str(err).split(". Largest")[0]
            continue
        cells = ge.solve_sectors(SparseTensor.from_dense(f), None, None, t1, theta, deficits=closure)
        assert_same(dense, cells, rtol=1e-8)
        went += dense.iterations > ge._DIRECT_ITER
    assert went >= 1  # the sweep reaches the path


def test_the_jacobian_on_the_cells_is_the_derivative():
    rng = np.random.default_rng(5)
    S, n = 4, 5
    f = sparse_world(rng, S, n, density=0.4)
    sol = ge.solve_sectors(SparseTensor.from_dense(f), None, None, foreign(rng, f.shape, 0.6), rng.uniform(2, 6, S),
                           deficits="share")
    assert sol.cells is not None
    flows = SparseTensor.from_dense(f)
    economy = ge._cell_economy(flows.values, np.zeros(1), flows.cells.gather(foreign(rng, f.shape, 0.6)),
                               np.ones(1), rng.uniform(2, 6, (1, S)), flows.cells, "share")
    system = _hat_cells.CellDirect(economy)
    x = rng.normal(0, 0.05, (1, n))
    idx = np.array([0])
    J, rows = system.jacobian(x, idx)
    h = 1e-6
    numeric = np.empty((1, n + 1, n))
    for l in range(n):  # central differences, one unknown at a time (a test, not a hot path)
        e = np.zeros((1, n))
        e[0, l] = h
        numeric[:, :, l] = (_hat_cells.CellDirect(economy).residual(x + e, idx)
                            - _hat_cells.CellDirect(economy).residual(x - e, idx)) / (2 * h)
    np.testing.assert_allclose(J[0], numeric[0, rows[0]], rtol=1e-6, atol=1e-8)
    # and it is the dense system's Jacobian at the same point
    dense = ge._economy(f[None], np.zeros((1, 1, 1, 1)), flows.cells.scatter(economy.g[0] ** -1 - 1)[None],
                        np.ones((1, 1, 1, 1)), economy.theta, np.ones((1, S, n)), None, "share", ge._Names(None, n))
    np.testing.assert_allclose(J, _hat.Direct(dense).jacobian(x, idx)[0], rtol=1e-10, atol=1e-13)


def test_tariffs_are_read_at_the_cells_in_every_form():
    rng = np.random.default_rng(2)
    S, n = 3, 5
    f = sparse_world(rng, S, n)
    flows = SparseTensor.from_dense(f)
    t1 = foreign(rng, f.shape, 0.5)
    want = ge.solve_sectors(f, None, None, t1, 4.0).welfare
    per_sector = np.array([0.1, 0.2, 0.3])[:, None, None] * ~np.eye(n, dtype=bool)
    for given in (SparseTensor.from_dense(t1), flows.cells.gather(t1), t1):
        np.testing.assert_allclose(ge.solve_sectors(flows, None, None, given, 4.0).welfare, want, rtol=1e-12)
    np.testing.assert_allclose(ge.solve_sectors(flows, None, None, per_sector, 4.0).welfare,
                               ge.solve_sectors(f, None, None, per_sector, 4.0).welfare, rtol=1e-12)


def test_bad_input_on_the_cells_is_named():
    rng = np.random.default_rng(4)
    S, n = 3, 4
    f = sparse_world(rng, S, n, density=0.6)
    flows = SparseTensor.from_dense(f)
    cells = flows.cells
    negative = flows.values.copy()
    first = int(np.flatnonzero(cells.exporter != cells.importer)[0])
    negative[first] = -1.0
    with pytest.raises(InputError, match=r"negative or infinite values at index \(") as err:
        ge.solve_sectors(SparseTensor(cells, negative), None, None, None, 4.0)
    where = (int(cells.product[first]), int(cells.exporter[first]), int(cells.importer[first]))
    assert str(where) in str(err.value) and err.value.key == "flows"
    no_home = f.copy()
    no_home[:, 2, 2] = 0.0
    with pytest.raises(InputError, match="country 'C' has no domestic sales"):
        ge.solve_sectors(SparseTensor.from_dense(no_home), None, None, None, 4.0, countries=list("ABCD"))
    own = np.zeros_like(f)
    own[1, 3, 3] = 0.1
    with pytest.raises(InputError, match=r"nonzero on the diagonal at index \(1, 3, 3\)"):
        ge.solve_sectors(flows, None, None, own, 4.0)
    too_high = cells.gather(foreign(rng, f.shape, 0.2))
    too_high[first] = 25.0
    with pytest.raises(InputError, match=r"has 25.0 at index .*expected fractions from 0 to 20"):
        ge.solve_sectors(flows, None, too_high, None, 4.0)
    with pytest.raises(InputError, match=r"expected a shape that broadcasts to flows \(3, 4, 4\), or one value per "
                                         r"cell of flows"):
        ge.solve_sectors(flows, None, None, np.zeros(7), 4.0)
    with pytest.raises(InputError, match="expected square"):
        ge.solve_sectors(SparseTensor.from_dense(np.ones((2, 3, 4))), None, None, None, 4.0)


def test_links_make_the_flows_dense():
    rng = np.random.default_rng(8)
    S, n = 3, 4
    f = sparse_world(rng, S, n, density=1.0)
    beta = np.full((S, n), 0.6)
    io = np.full((S, S, n), 0.4 / S)
    t1 = foreign(rng, f.shape, 0.3)
    sol = ge.solve_sectors(SparseTensor.from_dense(f), None, None, t1, 4.0, value_added=beta, io=io)
    assert sol.cells is None
    np.testing.assert_allclose(sol.welfare, ge.solve_sectors(f, None, None, t1, 4.0, value_added=beta, io=io).welfare,
                               rtol=1e-12)


def test_memory_grows_with_the_cells():
    # 1,500 sectors x 90 countries: each dense [s, i, j] array is 97 MB; 1% of the foreign cells trade
    rng = np.random.default_rng(9)
    S, n, k = 1500, 90, 120_000
    flat = np.unique(rng.integers(0, S * n * n, k))
    own = (np.arange(S)[:, None] * n * n + np.arange(n) * (n + 1)).ravel()
    cells = Cells((S, n, n), np.union1d(flat, own))
    flows = SparseTensor(cells, rng.lognormal(0, 1, cells.size) * np.where(cells.exporter == cells.importer, 30, 1))
    t1 = np.where(cells.exporter == cells.importer, 0.0, 0.25 * (cells.exporter == 0))
    tracemalloc.start()
    try:
        sol = ge.solve_sectors(flows, None, None, t1, 4.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sol.max_residual <= 1e-12 and (sol.welfare[1:] > 1).any()  # the tariff diverts trade to others
    assert peak < dense_bytes((S, n, n))  # less than one dense array, where the dense solve holds a dozen


def test_simulate_runs_general_equilibrium_on_a_sparse_baselines_cells():
    demo = tradesim.load_baseline("demo-2024")
    sparse = demo.with_layout("sparse")
    law = tradesim.load_schedule("us-china-2025")
    change = ((law, "2024-12-31"), (law, "2025-04-15"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        d = tradesim.simulate(demo, *change, model="ge")
        s = tradesim.simulate(sparse, *change, model="ge")
    assert s.on_cells("cell") is sparse.sparse_flows.cells and "flows" not in vars(sparse)
    for by in ("pair", "country"):
        a, b = d.summary(by), s.summary(by)
        assert a.index.equals(b.index) and list(a.columns) == list(b.columns)
        a, b = a.select_dtypes("number"), b.select_dtypes("number")
        assert len(a.columns) >= 4
        np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=1e-9, atol=1e-3)
    assert s.effective_rate("USA", "CHN") == pytest.approx(d.effective_rate("USA", "CHN"), rel=1e-12)
    assert s.summary("country").loc["CHN", "welfare_usd"] < 0  # the peak's duties cost China


def test_with_domestic_keeps_a_sparse_baseline_on_its_cells():
    demo = tradesim.load_baseline("demo-2024")
    rng = np.random.default_rng(0)
    sales = rng.lognormal(20, 1, (len(demo.products), len(demo.countries)))
    sales[0, :3] = 0.0
    dense = demo.with_domestic(sales, method="test")
    sparse = demo.with_layout("sparse").with_domestic(sales, method="test")
    assert sparse.layout == "sparse" and "flows" not in vars(sparse)  # made without a dense tensor
    assert sparse.equals(dense) and sparse.provenance["domestic"] == "test"
