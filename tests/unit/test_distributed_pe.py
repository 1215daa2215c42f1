"""Partial equilibrium on dask.distributed (chunks of products as tasks), and BACI files too large for this machine.

The Dask runs use an in-process cluster of two workers, so the tests stay fast; every number is
compared with the local solve bit for bit.
"""

import gzip
import warnings

import numpy as np
import pytest

import tradesim
from tradesim import InputError, read_baci
from tradesim.codes import hs_subheadings
from tradesim.data.baci import READ_BYTES_PER_ROW, RUN_BYTES_PER_CELL, baci_rows, check_baci_memory
from tradesim.data.layout import SparseTensor
from tradesim.errors import ConvergenceError, TradesimWarning
from tradesim.models import distributed as dpe
from tradesim.models import pe

distributed = pytest.importorskip("distributed")

SOLVED = ("exporter_price", "price_index", "quantity", "consumer_surplus", "producer_surplus", "welfare")


@pytest.fixture(scope="module")
def client():
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0") as c:
        yield c


def world(seed: int, K: int = 120, n: int = 14, density: float = 0.3, domestic: bool = True):
    """A sparse world ``[product, exporter, importer]`` with domestic sales, MFN-like tariffs and one escalation."""
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < density)
    diag = np.arange(n)
    flows[:, diag, diag] = 5 * flows.sum(axis=1) + 1.0 if domestic else 0.0
    t0 = np.where(flows > 0, rng.uniform(0, 0.2, flows.shape), 0.0)
    t0[:, diag, diag] = 0.0
    t1 = t0.copy()
    t1[:, 0, 1] += np.where(flows[:, 0, 1] > 0, 1.2, 0.0)  # one escalation, on cells that trade
    t1[:, 3, 2] += np.where(flows[:, 3, 2] > 0, 0.3, 0.0)
    return flows, t0, t1, rng


def assert_same(local, on_dask):
    for name in SOLVED:
        a, b = getattr(local, name), getattr(on_dask, name)
        assert a.shape == b.shape, name
        assert np.array_equal(a, b), f"{name}: largest gap {np.abs(a - b).max():.3g}"
    assert (local.iterations, local.max_residual, local.draws) == (on_dask.iterations, on_dask.max_residual,
                                                                   on_dask.draws)
    assert np.array_equal(local.flows_after, on_dask.flows_after)
    for name in ("consumer_surplus_usd", "revenue_change_usd", "welfare_usd"):
        assert np.array_equal(local.country_table()[name], on_dask.country_table()[name])


@pytest.mark.parametrize("case", ["inf-supply", "finite-supply", "sigma-by-importer", "draws", "dense", "linear",
                                  "imports-only"])
def test_dask_gives_the_local_numbers_bit_for_bit(client, case):
    flows, t0, t1, rng = world(seed=len(case), domestic=case != "imports-only")
    K, n = flows.shape[:2]
    sigma, eta, epsilon = rng.uniform(1.5, 8, K), rng.uniform(0.3, 1.5, K), rng.uniform(0.5, 5, (K, n))
    options = {"domestic": case != "imports-only"}
    if case == "inf-supply":
        epsilon = np.inf
    elif case == "sigma-by-importer":  # the Newton path on dense blocks
        sigma = rng.uniform(1.5, 8, (K, n))
    elif case == "draws":
        sigma, eta, epsilon = rng.uniform(1.5, 8, (3, K, 1)), 1.0, rng.uniform(0.5, 5, (3, K, n))
    elif case == "linear":
        options["method"] = "linear"
    data = flows if case == "dense" else SparseTensor.from_dense(flows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)  # the linear solve's note on large shocks
        local = pe.solve(data, t0, t1, sigma, eta, epsilon, **options)
        for chunk_cells in (300, 2_000, None):  # many tasks, a few, one
            assert_same(local, dpe.solve(data, t0, t1, sigma, eta, epsilon, client=client, chunk_cells=chunk_cells,
                                         **options))


def test_products_are_split_into_ranges_of_about_equal_cells():
    counts = np.random.default_rng(0).integers(0, 50, 1000)
    ranges = dpe.split_products(counts, 8)
    assert ranges[0][0] == 0 and ranges[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # consecutive, every product once
    cells = [counts[lo:hi].sum() for lo, hi in ranges]
    assert len(ranges) == 8 and max(cells) < 1.1 * counts.sum() / 8 + counts.max()
    assert dpe.split_products(np.array([], int), 4) == []


class NoCluster:
    """A client that fails the test if any work reaches it."""

    def __getattr__(self, name):
        raise AssertionError(f"work reached the cluster ({name}) before the input was checked")


def test_bad_input_is_refused_before_any_work_with_whole_tensor_positions():
    flows, t0, t1, _ = world(seed=1)
    bad = flows.copy()
    bad[97, 4, 5] = -1.0
    with pytest.raises(InputError, match=r"flows: has negative or infinite values at index \(97, 4, 5\)"):
        dpe.solve(SparseTensor.from_dense(bad), t0, t1, 4.0, 1.0, 2.0, client=NoCluster())
    with pytest.raises(InputError, match=r"sigma: has 0\.0 at index \(0, 0, 0\); expected values > 0"):
        dpe.solve(flows, t0, t1, 0.0, 1.0, 2.0, client=NoCluster())
    with pytest.raises(InputError, match="unknown method 'newton'"):
        dpe.solve(flows, t0, t1, 4.0, 1.0, 2.0, method="newton", client=NoCluster())
    with pytest.raises(InputError, match=r"chunk_cells: is 0; expected a whole number of cells >= 1"):
        dpe.solve(flows, t0, t1, 4.0, 1.0, 2.0, chunk_cells=0, client=NoCluster())


def test_a_chunk_that_does_not_converge_names_its_products(client):
    flows, t0, t1, rng = world(seed=2)
    K, n = flows.shape[:2]
    with pytest.raises(ConvergenceError, match=r"in the task of products \d+ to \d+") as err:
        dpe.solve(SparseTensor.from_dense(flows), t0, t1, rng.uniform(2, 8, (K, n)), 1.0, 1.0, max_iter=1,
                  client=client, chunk_cells=500)
    assert err.value.iterations >= 1 and err.value.residual > err.value.tol


def test_the_local_warning_comes_once_with_the_count_over_every_task(client):
    flows, t0, t1, _ = world(seed=3)
    big = np.where(flows > 0, 15.0, 0.0) * ~np.eye(flows.shape[1], dtype=bool)  # 1,500% on every import
    args = (SparseTensor.from_dense(flows), t0, big, 6.0, 1.0, 2.0)
    with pytest.warns(TradesimWarning, match=r"linear \(GSIM\)") as local:
        negatives = pe.solve(*args, method="linear").negatives
    with pytest.warns(TradesimWarning, match=r"linear \(GSIM\)") as on_dask:
        dpe.solve(*args, method="linear", client=client, chunk_cells=300)
    assert negatives > 0 and [str(w.message) for w in on_dask] == [str(w.message) for w in local]
    assert on_dask[0].filename == local[0].filename == __file__  # at the caller's line, not in a worker


def test_simulate_takes_a_client_and_gives_the_local_result(client):
    demo = tradesim.load_baseline("demo-2024")
    law = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    run = dict(elasticities={"epsilon": 3.0}, domestic=False)
    local = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-01-01"), **run)
    on_dask = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-01-01"), client=client, chunk_cells=100, **run)
    assert on_dask.to_frame().equals(local.to_frame())
    assert on_dask.summary("country").equals(local.summary("country"))
    with pytest.raises(InputError, match="chunk_cells: is 100 without a client"):
        tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-01-01"), chunk_cells=100, **run)


def test_a_scenario_path_on_dask_gives_the_local_path(client):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)  # the law's notes on the bundled baseline
        local = tradesim.simulate(None, "us-china-2025", domestic=False)
        on_dask = tradesim.simulate(None, "us-china-2025", domestic=False, client=client, chunk_cells=2_000)
    assert on_dask.to_frame().equals(local.to_frame())


# --------------------------------------------------------------------------- BACI files


def write_baci(folder, n_products: int = 150, n_countries: int = 40, density: float = 0.05, seed: int = 0,
               rows: int | None = None):
    """A BACI-layout year file (``t,i,j,k,v,q``, thousands of USD) and its country-code file, in `folder`."""
    import pycountry

    rng = np.random.default_rng(seed)
    iso = sorted({"CHN", "USA", *sorted(c.alpha_3 for c in pycountry.countries)[:n_countries - 2]})
    codes = 4 * np.arange(1, n_countries + 1)  # BACI's own numeric codes
    (folder / "country_codes_V202401.csv").write_text(
        "country_code,country_name,country_iso2,country_iso3\n"
        + "".join(f"{c},Country {a},XX,{a}\n" for c, a in zip(codes, iso)))
    products = hs_subheadings()[:n_products]
    k, i, j = np.nonzero(rng.random((n_products, n_countries, n_countries)) < density)
    keep = i != j  # BACI has no domestic sales
    k, i, j = k[keep][:rows], i[keep][:rows], j[keep][:rows]
    v = np.round(rng.lognormal(3, 2, k.size), 3)
    path = folder / "BACI_HS17_Y2022_V202401.csv"
    path.write_text("t,i,j,k,v,q\n" + "".join(f"2022,{codes[a]},{codes[b]},{products[p]},{x},{x / 7:.3f}\n"
                                              for p, a, b, x in zip(k, i, j, v)))
    return path, iso, products


def test_read_baci_at_hs6_then_simulate_locally_and_on_dask_give_the_same_numbers(tmp_path, client):
    path, iso, products = write_baci(tmp_path)
    for layout in ("dense", "sparse"):
        b = read_baci(path) if layout == "dense" else read_baci(path).with_layout("sparse")
        assert b.products == tuple(products) and b.countries == tuple(iso)  # HS6, every economy, nothing summed
        rates = np.where(b.flows > 0, 0.05, 0.0)
        after = rates.copy()
        after[:, iso.index("CHN"), iso.index("USA")] *= 11  # 5% to 55% on one pair
        run = dict(elasticities={"sigma": 4.0, "epsilon": 2.5}, domestic=False)
        local = tradesim.simulate(b, rates, after, **run)
        on_dask = tradesim.simulate(b, rates, after, client=client, chunk_cells=400, **run)
        assert on_dask.to_frame().equals(local.to_frame())
        assert local.summary("country").loc["USA", "consumer_surplus_usd"] < 0
        # the model on the cells that trade, as for the whole world
        cells = b.sparse_flows
        args = (cells, cells.cells.gather(rates), cells.cells.gather(after), 4.0, 1.0, 2.5)
        assert_same(pe.solve(*args, domestic=False),
                    dpe.solve(*args, domestic=False, client=client, chunk_cells=400))


def test_rows_of_a_baci_file_are_estimated_from_its_size(tmp_path):
    path, *_ = write_baci(tmp_path, n_products=400, n_countries=60, density=0.1)
    with path.open() as f:
        rows = sum(1 for _ in f) - 1
    assert rows > 100_000  # more than the sample that is read
    size, estimate = baci_rows(path)
    assert size == path.stat().st_size and abs(estimate - rows) < 0.02 * rows
    packed = tmp_path / "BACI_HS17_Y2022_V202401.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    assert abs(baci_rows(packed)[1] - rows) < 0.05 * rows
    small, *_ = write_baci(tmp_path / "..", n_products=3, n_countries=5, density=0.5, seed=1)
    with small.open() as f:
        assert baci_rows(small)[1] == sum(1 for _ in f) - 1  # read whole: counted exactly


def test_a_baci_file_too_large_for_memory_is_refused_before_reading(tmp_path):
    path, *_ = write_baci(tmp_path, rows=2_000)
    path.write_text(path.read_text() + "2022,not,a,row\n")  # reading would fail: the check comes first
    need = 2_001 * (READ_BYTES_PER_ROW + RUN_BYTES_PER_CELL)
    limit = 2_001 * (READ_BYTES_PER_ROW + RUN_BYTES_PER_CELL // 2)  # enough for the reading, not for a run here
    with pytest.raises(InputError) as err:
        read_baci(path, memory_limit=limit)
    msg = str(err.value)
    assert str(path) in msg and "memory:" in msg
    assert f"this BACI file is {path.stat().st_size / 2**20:.1f} MiB (about 2,001 rows)" in msg  # its size
    assert "and a PE run on its cells here about" in msg and "more than the" in msg  # the estimate
    assert "engine='dask'" in msg and "client=distributed.Client(...)" in msg  # the Dask option
    # the run on Dask leaves only the reading here: this limit is enough for it, so the reading starts
    with pytest.raises(InputError, match=r"country code .not. is not in the BACI country-code file \(line 2002\)"):
        read_baci(path, memory_limit=limit, engine="dask")
    with pytest.raises(InputError, match="even the reading does not fit"):
        read_baci(path, memory_limit=1000)
    with pytest.raises(InputError, match=r"unknown engine 'spark'; expected one of \('local', 'dask'\)"):
        read_baci(path, engine="spark")
    assert check_baci_memory(path, memory_limit=need * 2) == pytest.approx(need, rel=0.05)
