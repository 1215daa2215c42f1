"""The fast PE path on its two layouts: dense blocks where a problem trades in a good share of its cells, sparse
matrices elsewhere, with the same numbers from dense tensors and from listed cells."""

import numpy as np
import pytest

from tradesim.data.layout import SparseTensor
from tradesim.models import _pe_cells, pe


def _mixed(seed, K=120, n=12):
    """Flows where every third product trades in few of its cells (sparse) and the others in most (dense)."""
    rng = np.random.default_rng(seed)
    share = np.where(np.arange(K) % 3 == 0, 0.05, 0.6)[:, None, None]
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < share)
    flows[:, np.arange(n), np.arange(n)] = 3 * flows.sum(axis=1) + 1.0
    off = ~np.eye(n, dtype=bool)
    t0 = rng.uniform(0, 0.15, flows.shape) * off
    t1 = t0.copy()
    t1[:, 0, 1] += 1.45
    t1[:, 1, 0] += 1.25
    halt = (np.arange(K) % 3 > 0) & (np.arange(K) % 4 == 1) & (flows[:, 2, 3] > 0)  # on dense products: others sell
    t1[halt, 2, 3] = np.inf
    rng2 = np.random.default_rng(seed + 1)
    elasticities = rng2.uniform(1.5, 8.0, (2, K, 1)), rng2.uniform(0.3, 1.5, (K, 1)), rng2.uniform(0.5, 5.0, (K, n))
    return flows, t0, t1, elasticities


@pytest.mark.parametrize("domestic", [True, False])
def test_a_chunk_of_both_layouts_gives_the_same_numbers_from_dense_tensors_and_listed_cells(domestic):
    flows, t0, t1, elasticities = _mixed(0)
    K, n, _ = flows.shape
    model = pe._ModelCells(flows, t0, t1, None, domestic, np.arange(n))
    dense = model.markets.dense(np.arange(K), model.markets.block(np.arange(K)))
    assert dense.any() and not dense.all()  # both layouts in the same chunk
    cells = SparseTensor.from_dense(flows).cells
    listed = pe._ModelCells(cells.gather(flows), cells.gather(t0), cells.gather(t1), cells, domestic, np.arange(n))
    np.testing.assert_array_equal(listed.markets.dense(np.arange(K)), dense)
    on_dense = pe.solve(flows, t0, t1, *elasticities, domestic=domestic)
    on_cells = pe.solve(SparseTensor.from_dense(flows), t0, t1, *elasticities, domestic=domestic)
    assert on_dense.max_residual <= 1e-10 and on_cells.max_residual <= 1e-10
    for name in ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare"):
        np.testing.assert_array_equal(getattr(on_dense, name), getattr(on_cells, name), err_msg=name)
    np.testing.assert_array_equal(on_dense.quantity, on_cells.dense().quantity)


def test_the_two_layouts_solve_the_same_problems_to_the_tolerance(monkeypatch):
    flows, t0, t1, elasticities = _mixed(1)
    solved = {}
    for layout, share in (("blocks", 0.0), ("cells", 2.0)):
        monkeypatch.setattr(_pe_cells, "_DENSE", share)  # every problem on one layout
        solved[layout] = pe.solve(flows, t0, t1, *elasticities)
    monkeypatch.setattr(pe, "_CELL_SOLVER", False)
    newton = pe.solve(flows, t0, t1, *elasticities)
    for sol in solved.values():
        assert sol.max_residual <= 1e-10
        np.testing.assert_allclose(sol.exporter_price, newton.exporter_price, rtol=1e-9)
        np.testing.assert_allclose(sol.quantity, newton.quantity, rtol=1e-8)
        np.testing.assert_allclose(sol.welfare, newton.welfare, rtol=1e-8, atol=1e-3)
    np.testing.assert_allclose(solved["blocks"].quantity, solved["cells"].quantity, rtol=1e-9)
    assert (solved["blocks"].quantity[:, flows == 0] == 1).all()  # 1 where nothing trades, on the blocks too


def test_the_small_least_squares_with_the_ridge_and_an_empty_history():
    rng = np.random.default_rng(3)
    for h in range(1, _pe_cells.DEPTH + 1):
        a = rng.normal(size=(40, h, 30))
        g = np.einsum("phn,pgn->phg", a, a)
        b = rng.normal(size=(40, h))
        want = np.linalg.solve(g + _pe_cells._REG * np.trace(g, axis1=1, axis2=2)[:, None, None] * np.eye(h),
                               b[..., None])[..., 0]
        got = _pe_cells._gram_solve(np.moveaxis(g, 0, -1), b.T, ridge=True).T
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
    # a history that a rejected step cleared: no step from it
    np.testing.assert_array_equal(_pe_cells._gram_solve(np.zeros((3, 3, 4)), np.zeros((3, 4)), ridge=True), 0.0)
