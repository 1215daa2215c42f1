"""A scenario's path on a sparse baseline stays on its cells that trade (issue 22).

Where every market clears by itself (PE with perfectly elastic export supply), the path runs on
the importers whose law the scenario holds, on their cells; every other importer's markets keep
their baseline. The numbers are those of the same baseline stored dense, on every bundled
scenario; the dense tensors of the whole baseline are never built.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.codes import hs_subheadings
from tradesim.data.layout import Cells, SparseTensor
from tradesim.errors import TradesimWarning
from tradesim.scenario import budget
from tradesim.simulate import path_estimate

LEVELS = ("pair", "country")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        return fn(*args, **kwargs)


def same_arrays(dense, sparse, level: str) -> None:
    a, b = dense.arrays(level), sparse.arrays(level)
    assert set(a) == set(b)
    for name in a:
        x, y = np.broadcast_arrays(np.asarray(a[name], float), np.asarray(b[name], float))
        np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-6, equal_nan=True, err_msg=f"{level} {name}")


def same_cells(dense, sparse) -> None:
    """The sparse result's cells hold the dense result's values at those cells."""
    cells = sparse.cells
    a, b = dense.arrays("cell"), sparse.arrays("cell")
    assert set(a) == set(b)
    for name in a:
        want = cells.gather(np.asarray(a[name], float))  # [date?, cell]
        got = np.asarray(b[name], float)
        np.testing.assert_allclose(*np.broadcast_arrays(got, want), rtol=1e-9, atol=1e-6, err_msg=f"cell {name}")


@pytest.fixture(scope="module")
def bundled_baselines():
    demo = tradesim.load_baseline("demo-2024")
    us = tradesim.load_baseline("us-imports-2024")
    return {"demo-2024": (demo, demo.with_layout("sparse")), "us-imports-2024": (us, us.with_layout("sparse"))}


@pytest.mark.parametrize("name", list(tradesim.list_scenarios().index))
def test_every_bundled_scenario_gives_the_same_numbers_on_a_sparse_baseline(name, bundled_baselines):
    scenario = tradesim.load_scenario(name)
    dense, sparse = bundled_baselines[scenario.baseline]
    a = quiet(tradesim.simulate, dense, scenario)
    b = quiet(tradesim.simulate, sparse, scenario)
    assert a.cells is None and b.cells is not None and b.baseline is sparse
    imposing = [c for c in sparse.importers if c in scenario.schedule.importers()]
    assert sorted(np.unique(np.asarray(sparse.importers)[b.cells.importer])) == sorted(imposing)
    for level in LEVELS:
        same_arrays(a, b, level)
    same_cells(a, b)
    assert b.changed_pairs() == a.changed_pairs()
    pd.testing.assert_frame_equal(b.summary("pair"), a.summary("pair"), rtol=1e-9)
    pd.testing.assert_frame_equal(b.summary("country"), a.summary("country"), rtol=1e-9, atol=1e-6)
    for importer in ("USA", *[c for c in sparse.importers if c not in imposing][:1]):
        pd.testing.assert_series_equal(b.effective_rate(importer), a.effective_rate(importer), rtol=1e-9)
    assert "flows" not in vars(sparse)  # the sparse baseline's dense flows were never built
    assert any("whose law the scenario holds" in n for n in b.notes)


def small_world(seed: int = 3, n_products: int = 120, density: float = 0.12) -> tradesim.Baseline:
    """A sparse world of HS6 trade among the partners of the bundled law and a few others (no domestic sales)."""
    rng = np.random.default_rng(seed)
    countries = ("BRA", "CAN", "CHN", "DEU", "IND", "JPN", "KOR", "MEX", "USA", "VNM", "ZAF", "AUS")
    products = tuple(np.sort(rng.choice(hs_subheadings(), n_products, replace=False)))
    shape = (len(products), len(countries), len(countries))
    flat = np.unique(rng.integers(0, int(np.prod(shape)), int(density * np.prod(shape))))
    k, i, j = np.unravel_index(flat, shape)
    keep = i != j
    cells, order = Cells.from_coords(k[keep], i[keep], j[keep], shape)
    values = rng.lognormal(15, 2, cells.size)[order]
    return tradesim.Baseline(None, products, SparseTensor(cells, values), year=2024, exporters=countries,
                             importers=countries)


@pytest.fixture(scope="module")
def world():
    sparse = small_world()
    assert sparse.layout == "sparse"
    return sparse, tradesim.Baseline(None, sparse.products, sparse.sparse_flows.toarray(), year=2024,
                                     exporters=sparse.exporters, importers=sparse.importers)


def test_a_world_path_runs_on_the_importers_whose_law_moves(world):
    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    a = quiet(tradesim.simulate, dense, scenario)
    b = quiet(tradesim.simulate, sparse, scenario)
    assert set(np.asarray(sparse.importers)[np.unique(b.cells.importer)]) == {"USA", "CHN", "CAN"}
    assert b.flows.shape == (len(b.dates), b.cells.size) and b.tariff.shape == (len(b.dates), b.cells.size)
    for level in LEVELS:
        same_arrays(a, b, level)
    same_cells(a, b)
    # the importers left out keep their baseline on every date: untaxed, unchanged, no welfare change
    pairs = b.arrays("pair")
    still = [sparse.importers.index(c) for c in ("DEU", "JPN", "BRA")]
    base = b.arrays("pair")["imports_baseline_usd"]
    np.testing.assert_array_equal(pairs["imports_usd"][:, :, still], np.broadcast_to(base[:, still],
                                                                                    (len(b.dates), *base[:, still].shape)))
    countries = b.summary("country").set_index(["date", "country"])
    assert (countries.loc[(slice(None), "DEU"), "welfare_usd"] == 0).all()
    assert (countries.loc[(slice(None), "DEU"), "import_price_index_change_pct"] == 0).all()
    assert (countries.loc[(slice(None), "USA"), "welfare_usd"].iloc[6:] < 0).all()
    assert "flows" not in vars(sparse)


def test_models_that_link_markets_run_on_every_cell_with_the_same_numbers(world):
    _, dense = world
    sparse = small_world()  # its own: the run builds its dense flows
    scenario = tradesim.load_scenario("tariffs-2025")
    for kwargs in ({"elasticities": {"epsilon": 4.0}},):  # exporters' prices link an exporter's markets
        a = quiet(tradesim.simulate, dense, scenario, **kwargs)
        b = quiet(tradesim.simulate, sparse, scenario, **kwargs)
        assert b.cells is None  # every market solved: its arrays have every cell
        for level in LEVELS:
            same_arrays(a, b, level)


def test_the_size_estimate_is_of_the_path_on_the_cells(world):
    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    on_cells = quiet(path_estimate, scenario, sparse)
    whole = quiet(path_estimate, scenario, dense)
    assert on_cells.importers == 3 and whole.importers == len(dense.importers)
    assert on_cells.path_bytes < whole.path_bytes / 3
    # a model that links markets is estimated on every cell
    assert quiet(path_estimate, scenario, sparse, elasticities={"epsilon": 4.0}).importers == len(dense.importers)


def test_tables_and_figures_of_a_path_on_cells_are_those_of_the_dense_one(world):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tradesim.plot import trade_path
    from tradesim.plot._common import snapshot

    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    a = quiet(tradesim.simulate, dense, scenario)
    b = quiet(tradesim.simulate, sparse, scenario)
    pairs = a.changed_pairs()[:3]
    for variable in ("imports", "revenue", "tariff", "value_change"):
        left, right = trade_path(a, variable, pairs), trade_path(b, variable, pairs)
        for x, y in zip(left.get_lines(), right.get_lines()):
            np.testing.assert_allclose(np.asarray(y.get_ydata(), float), np.asarray(x.get_ydata(), float),
                                       rtol=1e-9, atol=1e-9)
        plt.close("all")
    from tradesim.plot import tariff_timeline

    for exporter, importer in pairs[:2]:  # the layers by the pair's products, from the sparse baseline's cells
        left, right = tariff_timeline(a, exporter, importer), tariff_timeline(b, exporter, importer)
        for x, y in zip(left.collections, right.collections):
            np.testing.assert_allclose(y.get_paths()[0].vertices, x.get_paths()[0].vertices, rtol=1e-9)
        plt.close("all")
    for date in (None, "mean", "2025-05-01"):
        s, t = snapshot(a, date), snapshot(b, date)
        for field in ("before", "after", "tariff_before", "tariff_after"):
            np.testing.assert_allclose(getattr(t, field), getattr(s, field), rtol=1e-9, atol=1e-6)
    frame = b.to_frame(["imports_usd"], level="cell")
    assert len(frame) == len(b.dates) * b.cells.size  # one row per date and cell of the importers it ran on


def test_labelled_cells_of_a_path_on_cells_are_those_of_the_dense_one(world):
    pytest.importorskip("xarray")
    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    a = quiet(tradesim.simulate, dense, scenario)
    b = quiet(tradesim.simulate, sparse, scenario)
    names = ["imports_usd", "imports_baseline_usd", "tariff_pct", "quantity_ratio", "revenue_usd"]
    xa, xb = a.to_xarray(names, level="cell"), b.to_xarray(names, level="cell")
    for name in names:  # the importers left out at their baseline, untaxed
        np.testing.assert_allclose(xb[name].values, xa[name].values, rtol=1e-9, atol=1e-6, err_msg=name)


def test_an_ensemble_on_a_sparse_world_runs_on_the_importers_whose_law_moves(world):
    from tradesim import ensemble

    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    a = quiet(ensemble.run, dense, scenario, draws=6, seed=4)
    b = quiet(ensemble.run, sparse, scenario, draws=6, seed=4)
    assert b.baseline is sparse and any("whose law the scenario holds" in n for n in b.notes)
    for level in LEVELS:
        same_arrays(a, b, level)
    pd.testing.assert_frame_equal(b.quantiles(pairs=[("CHN", "USA"), ("USA", "DEU")]),
                                  a.quantiles(pairs=[("CHN", "USA"), ("USA", "DEU")]), rtol=1e-9)
    assert "flows" not in vars(sparse)
    e, whole = quiet(ensemble.estimate, scenario, sparse, draws=6), quiet(budget.estimate, scenario, dense, draws=6)
    assert e.importers == 3 and e.bytes < whole.bytes  # the run's: the importers whose law moves


def test_elasticity_draws_and_own_sales_on_a_sparse_baseline(bundled_baselines):
    dense, sparse = bundled_baselines["demo-2024"]
    sigma = np.array([1.5, 2.0, 3.0])[:, None, None]
    for kwargs in ({"elasticities": {"sigma": sigma}}, {"domestic": True}):
        a = quiet(tradesim.simulate, dense, "april-peak", **kwargs)
        b = quiet(tradesim.simulate, sparse, "april-peak", **kwargs)
        assert b.cells is not None and b.n_draws == a.n_draws
        for level in LEVELS:
            same_arrays(a, b, level)
        pd.testing.assert_series_equal(b.effective_rate("USA", weights="post"), a.effective_rate("USA", weights="post"),
                                       rtol=1e-9)


def test_a_world_summed_to_chapters_runs_a_linked_path_with_its_cells_as_fine_values(world):
    """A path of a model that links markets (PE with a finite export supply elasticity) runs on the world
    summed to chapters, the law cutting chapters by the world's own HS6 values on its cells: the numbers of the
    same run with the dense world as fine values, and the world's dense tensor never made."""
    sparse, dense = world
    scenario = tradesim.load_scenario("tariffs-2025")
    chapters = sparse.aggregate(products="chapter")
    a = quiet(tradesim.simulate, chapters, scenario, fine_values=sparse, elasticities={"epsilon": 2.0})
    b = quiet(tradesim.simulate, chapters, scenario, fine_values=dense, elasticities={"epsilon": 2.0})
    assert "flows" not in vars(sparse)
    assert any("exact value shares from the finer trade values" in n for n in a.notes)
    for name in ("flows", "revenue", "quantity", "buyer_price", "tariff"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-6, err_msg=name)
    pd.testing.assert_frame_equal(a.summary("country"), b.summary("country"), rtol=1e-9, atol=1e-6)


def test_the_trackers_tables_read_a_world_on_its_cells(world):
    """`rate_table` and `effective_rate` weight by the flows into one importer, read from the cells: the dense
    world's numbers, and its dense tensor never made."""
    from tradesim.law import effective_rate

    sparse, dense = world
    law = tradesim.load_scenario("tariffs-2025").schedule
    for by in ("partner", "section"):
        a = quiet(law.rate_table, sparse, "USA", "2025-01-01", "2025-12-31", by=by)
        b = quiet(law.rate_table, dense, "USA", "2025-01-01", "2025-12-31", by=by)
        pd.testing.assert_frame_equal(a, b, rtol=1e-12)
    for exporter in (None, "CHN", ["MEX", "CAN"]):
        assert quiet(effective_rate, law, sparse, "2025-06-01", "USA", exporter) == \
            pytest.approx(quiet(effective_rate, law, dense, "2025-06-01", "USA", exporter), rel=1e-12)
    assert sparse.trade("CHN", "USA", "85") == pytest.approx(dense.trade("CHN", "USA", "85"), rel=1e-12)
    assert "flows" not in vars(sparse)


def test_a_repeat_on_a_sparse_baseline_takes_the_last_cut_and_its_plan(world):
    """The cut of a sparse baseline to the importers whose law moves is kept for the next run on the very same
    baseline, so a repeat finds the law and plan kept for that cut (matched by identity), as on a dense
    baseline: the same numbers, bit for bit; another baseline object cuts afresh."""
    from tradesim import kept
    from tradesim.scenario.cut import path_baseline

    sparse, _ = world
    scenario = tradesim.load_scenario("tariffs-2025")
    params = {"sigma": 2.75, "eta": 1.0, "epsilon": np.inf}
    cut = path_baseline(sparse, scenario, "pe", params)
    assert path_baseline(sparse, scenario, "pe", params) is cut and cut is not sparse
    first = quiet(tradesim.simulate, sparse, scenario)
    plan = kept.last("plan", (cut, scenario), kept._LAST["plan"][1])
    assert plan is not None  # the run planned on the kept cut, and kept its plan for the next
    again = quiet(tradesim.simulate, sparse, scenario)
    for name in ("flows", "revenue", "quantity", "buyer_price"):
        assert np.array_equal(getattr(again, name), getattr(first, name)), name
    other = sparse.with_layout("dense").with_layout("sparse")
    assert path_baseline(other, scenario, "pe", params) is not cut


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_imports_of_refuses_positions_out_of_range(world, layout):
    sparse, dense = world
    b = sparse if layout == "sparse" else dense
    with pytest.raises(tradesim.InputError, match=r"importers 0 to 11 and exporters 0 to 11.*importer_index"):
        b.imports_of(12, [0])
    with pytest.raises(tradesim.InputError, match="exporters \\[-1\\] are out of range"):
        b.imports_of(0, [-1])
