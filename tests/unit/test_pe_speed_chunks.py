"""The fast PE path in pieces: chunks found in dense tensors, draws across chunks, the small least squares, and
its two layouts (dense blocks where a problem trades in a good share of its cells, sparse matrices elsewhere);
its one-reduction range check and its revenue from sums in cache, against independent answers (the two-reduction
check, scipy.optimize.root on each product's market clearing, the welfare identity)."""

import sys
from pathlib import Path

import numpy as np
import pytest

from tradesim.data.layout import SparseTensor
from tradesim.models import _pe_cells, pe

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.references import scipy_pe  # noqa: E402  (the benchmarks are a folder of the repository)


def _problem(seed, K=200, n=20, share=0.45):
    """Flows where a `share` of the cells trade (by product where an array ``[K, 1, 1]``), and two tariff rises."""
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(3, 1.5, (K, n, n)) * (rng.random((K, n, n)) < share)
    flows[:, np.arange(n), np.arange(n)] = 3 * flows.sum(axis=1) + 1.0
    off = ~np.eye(n, dtype=bool)
    t0 = rng.uniform(0, 0.15, flows.shape) * off
    t1 = t0.copy()
    t1[:, 0, 1] += 1.45
    t1[:, 1, 0] += 1.25
    return flows, t0, t1


def _elastic_problem(seed, K=40, n=12):
    """`_problem` with half the cells trading, and elasticities by product (sigma, eta) and exporter (epsilon)."""
    flows, t0, t1 = _problem(seed, K, n, share=0.5)
    rng = np.random.default_rng(seed + 100)
    return (flows, t0, t1, rng.uniform(1.5, 8.0, (K, 1)), rng.uniform(0.3, 1.5, (K, 1)),
            rng.uniform(0.5, 5.0, (K, n)))


@pytest.mark.parametrize("domestic", [True, False])
def test_dense_input_in_many_chunks_equals_listed_cells_and_newton(domestic, monkeypatch):
    # small chunks: every chunk finds its own cells in its block, and some chunks cross from one draw to the next
    monkeypatch.setattr(pe, "_BLOCK_CHUNK", 2**16)
    flows, t0, t1 = _problem(1)
    K, n, _ = flows.shape
    rng = np.random.default_rng(2)
    sigma = rng.uniform(1.5, 8.0, (3, K, 1))
    eta = rng.uniform(0.3, 1.5, (K, 1))
    epsilon = rng.uniform(0.5, 5.0, (K, n))
    ids = np.arange(3 * K)
    model = pe._ModelCells(flows, t0, t1, None, domestic, np.arange(n))
    chunks = model.chunks(ids, n)
    assert len(chunks) > 2 and any(np.unique(c // K).size > 1 for c in chunks)
    dense = pe.solve(flows, t0, t1, sigma, eta, epsilon, domestic=domestic)
    cells = pe.solve(SparseTensor.from_dense(flows), t0, t1, sigma, eta, epsilon, domestic=domestic)
    assert dense.max_residual <= 1e-10 and cells.max_residual <= 1e-10
    for name in ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare"):
        np.testing.assert_allclose(getattr(dense, name), getattr(cells, name), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(dense.quantity, cells.dense().quantity, rtol=1e-12)
    monkeypatch.setattr(pe, "_CELL_SOLVER", False)
    newton = pe.solve(flows, t0, t1, sigma, eta, epsilon, domestic=domestic)
    np.testing.assert_allclose(dense.exporter_price, newton.exporter_price, rtol=1e-9)
    np.testing.assert_allclose(dense.quantity, newton.quantity, rtol=1e-8)


def test_a_chunk_finds_the_cells_that_trade_in_its_block():
    flows, t0, t1 = _problem(3, K=12, n=5)
    flows[4] = 0.0  # a product with no trade at all
    markets = _pe_cells.CellMarkets(flows.shape, flows, t0, t1, drop=(np.arange(5), np.arange(5)))
    problems = np.array([2, 3, 4, 5, 9])  # not consecutive: the blocks are copied
    index, counts, row_counts, (v, a0, a1), at = markets.take(problems)
    mask = flows[problems % 12] > 0
    mask[:, np.arange(5), np.arange(5)] = False
    np.testing.assert_array_equal(index, np.flatnonzero(mask))
    np.testing.assert_array_equal(counts, mask.sum(axis=(1, 2)))
    np.testing.assert_array_equal(row_counts, mask.sum(axis=2).ravel())
    np.testing.assert_array_equal(v, flows[problems % 12][mask])
    np.testing.assert_array_equal(a1, t1[problems % 12][mask])
    np.testing.assert_array_equal(at, mask)  # the block's mask: where a chunk writes its quantities
    out = np.zeros((problems.size, 5, 5))
    out.reshape(-1)[index] = v
    np.testing.assert_array_equal(out, np.where(mask, flows[problems], 0.0))


def test_the_small_least_squares_agree_with_lapack():
    rng = np.random.default_rng(0)
    for h in range(1, _pe_cells.DEPTH + 1):
        a = rng.normal(size=(50, h, 9))
        g = np.einsum("phn,pgn->phg", a, a) + 1e-3 * np.eye(h)
        b = rng.normal(size=(50, h))
        want = np.linalg.solve(g, b[..., None])[..., 0]
        got = _pe_cells._gram_solve(np.moveaxis(g, 0, -1), b.T).T
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _chunked(monkeypatch, K=2400, n=12):
    """A problem that the dense solver takes in several chunks, each checking its own products' values."""
    monkeypatch.setattr(pe, "_BLOCK_CHUNK", 2**16)
    flows, t0, t1 = _problem(5, K=K, n=n)
    rng = np.random.default_rng(6)
    elasticities = rng.uniform(1.5, 8.0, (K, 1)), rng.uniform(0.3, 1.5, (K, 1)), rng.uniform(0.5, 5.0, (K, n))
    assert len(pe._ModelCells(flows, t0, t1, None, True, np.arange(n)).chunks(np.arange(K), n)) > 4
    return flows, t0, t1, elasticities


@pytest.mark.parametrize("where, value, message", [
    ("flows", np.nan, r"flows.*NaN at index \(2000, 3, 4\)"),
    ("flows", -1.0, r"negative or infinite values at index \(2000, 3, 4\)"),
    ("tariff_before", -0.5, r"has .*-0\.5\)? at index \(2000, 3, 4\)"),
    ("tariff_after", np.nan, r"NaN at index \(2000, 3, 4\)"),
    ("tariff_after", 25.0, r"has .*25\.0\)? at index \(2000, 3, 4\)"),
    ("tariff_before", 0.1, r"nonzero on a domestic cell"),
])
def test_a_chunk_that_finds_bad_values_gives_the_error_of_the_whole_check(monkeypatch, where, value, message):
    flows, t0, t1, elasticities = _chunked(monkeypatch)
    arrays = {"flows": flows, "tariff_before": t0, "tariff_after": t1}
    arrays[where][2000, 3, 3 if message.startswith("nonzero") else 4] = value
    with pytest.raises(pe.InputError, match=message):
        pe.solve(flows, t0, t1, *elasticities)
    # the checks keep their order: the flows' error before an elasticity's
    if where == "flows":
        with pytest.raises(pe.InputError, match="flows"):
            pe.solve(flows, t0, t1, -1.0, *elasticities[1:])


def test_no_domestic_sales_in_any_chunk_is_refused(monkeypatch):
    flows, t0, t1, elasticities = _chunked(monkeypatch)
    flows[:, np.arange(12), np.arange(12)] = 0.0
    with pytest.raises(pe.InputError, match="domestic=False"):
        pe.solve(flows, t0, t1, *elasticities)


def test_a_halt_in_one_chunk_is_checked_and_solved_as_on_listed_cells(monkeypatch):
    flows, t0, t1, elasticities = _chunked(monkeypatch)
    halted = (flows[:, 5, 6] > 0) & (np.arange(flows.shape[0]) >= 2000)  # the products of the last chunk or two
    t1[halted, 5, 6] = np.inf
    elasticities = (elasticities[0] + 1.0,) + elasticities[1:]  # sigma > 1 where a halt applies
    dense = pe.solve(flows, t0, t1, *elasticities)
    cells = pe.solve(SparseTensor.from_dense(flows), t0, t1, *elasticities)
    assert dense.max_residual <= 1e-10
    np.testing.assert_allclose(dense.exporter_price, cells.exporter_price, rtol=1e-12)
    np.testing.assert_allclose(dense.welfare, cells.welfare, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(dense.quantity, cells.dense().quantity, rtol=1e-12)
    assert (dense.quantity[halted, 5, 6] == 0).all()
    t1[halted.argmax(), 5, 6] = np.inf  # a halt with sigma <= 1 is refused, naming the cell
    with pytest.raises(pe.InputError, match="halts trade"):
        pe.solve(flows, t0, t1, 0.5, *elasticities[1:])


# --------------------------------------------------------------------------- dense blocks and sparse cells


def _mixed(seed, K=120, n=12):
    """Flows where every third product trades in few of its cells (sparse) and the others in most (dense)."""
    flows, t0, t1 = _problem(seed, K, n, share=np.where(np.arange(K) % 3 == 0, 0.05, 0.6)[:, None, None])
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


# --------------------------------------------------------------------------- a chunk read in parts


@pytest.mark.parametrize("domestic", [True, False])
def test_a_chunk_read_in_parts_gives_the_numbers_of_listed_cells(domestic, monkeypatch):
    # parts of a few products: the constants, the check and the quantities are made part by part
    monkeypatch.setattr(_pe_cells, "_PART", 3 * 144 + 5)
    flows, t0, t1, elasticities = _mixed(4)
    flows[:, :, :] = np.where(flows > 0, flows, 1.0)  # every product dense: each chunk built while it is read
    on_dense = pe.solve(flows, t0, t1, *elasticities, domestic=domestic)
    on_cells = pe.solve(SparseTensor.from_dense(flows), t0, t1, *elasticities, domestic=domestic)
    for name in ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare"):
        np.testing.assert_array_equal(getattr(on_dense, name), getattr(on_cells, name), err_msg=name)
    np.testing.assert_array_equal(on_dense.quantity, on_cells.dense().quantity)


@pytest.mark.parametrize("domestic", [True, False])
def test_a_sparse_product_in_a_later_part_sends_the_chunk_to_both_layouts(domestic, monkeypatch):
    monkeypatch.setattr(_pe_cells, "_PART", 4 * 144)
    flows, t0, t1, elasticities = _mixed(5)
    K, n, _ = flows.shape
    dense_rows = np.arange(K) % 3 > 0
    flows[:, :, :] = np.where(dense_rows[:, None, None] & (flows == 0), 1.0, flows)
    flows[:40] = np.where(flows[:40] > 0, flows[:40], 1.0)  # the first parts dense, a sparse product after them
    markets = pe._ModelCells(flows, t0, t1, None, domestic, np.arange(n)).markets
    read = markets.read(np.arange(K))
    assert read.work is None and markets.dense(np.arange(K), read)[:40].all()
    np.testing.assert_array_equal(read.mask, markets.block(np.arange(K))[3])
    on_dense = pe.solve(flows, t0, t1, *elasticities, domestic=domestic)
    on_cells = pe.solve(SparseTensor.from_dense(flows), t0, t1, *elasticities, domestic=domestic)
    for name in ("exporter_price", "price_index", "consumer_surplus", "producer_surplus", "welfare"):
        np.testing.assert_array_equal(getattr(on_dense, name), getattr(on_cells, name), err_msg=name)
    np.testing.assert_array_equal(on_dense.quantity, on_cells.dense().quantity)


@pytest.mark.parametrize("where, value, message", [
    ("flows", np.inf, r"negative or infinite values at index \(2300, 3, 4\)"),
    ("tariff_after", -1.0, r"has .*-1\.0\)? at index \(2300, 3, 4\)"),
    ("tariff_before", np.nan, r"NaN at index \(2300, 3, 4\)"),
])
def test_bad_values_in_a_later_part_of_a_chunk_are_found_before_it_is_solved(monkeypatch, where, value, message):
    flows, t0, t1, elasticities = _chunked(monkeypatch)
    monkeypatch.setattr(_pe_cells, "_PART", 50 * 144)  # several parts per chunk: the bad one is not the first
    arrays = {"flows": flows, "tariff_before": t0, "tariff_after": t1}
    arrays[where][2300, 3, 4] = value
    seen = []
    check = pe._values_ok
    monkeypatch.setattr(pe, "_values_ok", lambda *a: seen.append(a[0].shape[0]) or check(*a))
    with pytest.raises(pe.InputError, match=message):
        pe.solve(flows, t0, t1, *elasticities)
    assert max(seen) <= 50 and len(seen) > 5  # checked part by part


# --------------------------------------------------------------------------- the accelerated fixed point's bookkeeping


def _chunk(seed, K=150, n=10, share=0.5):
    """A chunk of random problems on dense blocks, with elasticities drawn per problem."""
    flows, t0, t1 = _problem(seed, K=K, n=n, share=share)
    rng = np.random.default_rng(seed + 100)
    sigma, eta, eps = rng.uniform(1.5, 8.0, K), rng.uniform(0.3, 1.5, (K, n)), rng.uniform(0.5, 5.0, (K, n))
    markets = pe._ModelCells(flows, t0, t1, None, True, np.arange(n)).markets
    return lambda: _pe_cells._Blocks(markets, np.arange(K), sigma, eta, eps)


def _reference_anderson(ch, tol, steps):
    """Anderson on the map ``x + F / d`` written plainly: the history as lists (the newest `DEPTH` differences), the
    Gram matrix and its right side computed afresh at every step and solved by LAPACK; a problem stops where it
    meets `tol`."""
    P, n = ch.P, ch.n
    x = np.zeros((P, n))
    F, _, G, parts = ch.evaluate(x)
    d = ch.diagonal(G, parts)
    f = F / d
    open_ = np.abs(F).max(axis=1) > tol
    dX, dF = [], []
    for _ in range(steps):
        x_new = x + f
        if dF:
            A, B = np.stack(dF, axis=1), np.stack(dX, axis=1)  # [P, h, n]
            gram = np.einsum("phn,pgn->phg", A, A)
            trace = np.trace(gram, axis1=1, axis2=2)[:, None, None]
            gram += (_pe_cells._REG * trace + (trace == 0)) * np.eye(len(dF))  # (a problem held: no history)
            gamma = np.linalg.solve(gram, np.einsum("phn,pn->ph", A, f)[..., None])[..., 0]
            x_new -= np.einsum("ph,phn->pn", gamma, B)
        x_new[~open_] = x[~open_]
        F_new = ch.evaluate(x_new)[0]
        f_new = F_new / d
        held = ~open_[:, None]
        dF.append(np.where(held, 0.0, f_new - f))
        dX.append(np.where(held, 0.0, x_new - x + f_new - f))
        dF, dX = dF[-_pe_cells.DEPTH:], dX[-_pe_cells.DEPTH:]
        x, f = x_new, f_new
        open_ &= ~(np.abs(F_new).max(axis=1) <= tol)
    return x


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_kept_gram_matrix_and_right_side_give_the_steps_of_the_plain_least_squares(seed):
    # the ring, the Gram row from the kept right side (dF.f_new - dF.f) and the compaction of converged problems
    # take the same steps as the least squares formed afresh, step by step, to rounding
    make = _chunk(seed)
    for steps in range(1, 11):
        x = _pe_cells._anderson(make(), 1e-10, steps)[0]
        want = _reference_anderson(make(), 1e-10, steps)
        np.testing.assert_allclose(x, want, rtol=0, atol=1e-12, err_msg=f"after {steps} steps")


def test_the_row_maxima_are_those_of_numpy():
    rng = np.random.default_rng(4)
    F = rng.normal(size=(37, 11))
    F[3, 4], F[5, 0] = np.nan, -np.inf
    np.testing.assert_array_equal(_pe_cells._max_abs(F), np.abs(F).max(axis=1, initial=0.0))
    np.testing.assert_array_equal(_pe_cells._max_abs(np.zeros((4, 0))), np.zeros(4))


@pytest.mark.parametrize("domestic", [True, False])
def test_the_diagonal_sums_made_part_by_part_are_those_of_the_whole_block(monkeypatch, domestic):
    # c0 c1 is not kept by the chunk: made a part at a time, the sums are those of the whole product, to the bit
    monkeypatch.setattr(_pe_cells, "_PART", 7 * 100 + 3)  # several parts, the last one short
    flows, t0, t1 = _problem(8, K=30, n=10)
    K, n, _ = flows.shape
    rng = np.random.default_rng(9)
    markets = pe._ModelCells(flows, t0, t1, None, domestic, np.arange(n)).markets
    ch = _pe_cells._Blocks(markets, np.arange(K), rng.uniform(1.5, 8.0, K), rng.uniform(0.3, 1.5, (K, n)),
                           rng.uniform(0.5, 5, (K, n)))
    w = rng.uniform(-1, 1, (K, n))
    np.testing.assert_array_equal(ch.cross_sums(w), np.matmul(ch.c0 * ch.c1, w[:, :, None])[..., 0])
    sub = ch.subset(np.array([1, 4, 5, 17, 29]))
    np.testing.assert_array_equal(sub.cross_sums(w[[1, 4, 5, 17, 29]]), ch.cross_sums(w)[[1, 4, 5, 17, 29]])


def test_solutions_meet_the_equations_as_a_tightly_solved_fixed_point_does():
    # the fixed point at the default tolerance against the same problems solved to 1e-13: prices, quantities and
    # welfare within what the tolerance allows
    flows, t0, t1 = _problem(10, K=150, n=15)
    rng = np.random.default_rng(11)
    elasticities = rng.uniform(1.5, 8.0, (150, 1)), rng.uniform(0.3, 1.5, (150, 1)), rng.uniform(0.5, 5.0, (150, 15))
    sol = pe.solve(flows, t0, t1, *elasticities)
    tight = pe.solve(flows, t0, t1, *elasticities, tol=1e-13)
    assert sol.max_residual <= 1e-10 and tight.max_residual <= 1e-13
    np.testing.assert_allclose(sol.exporter_price, tight.exporter_price, rtol=1e-10)
    np.testing.assert_allclose(sol.price_index, tight.price_index, rtol=1e-10)
    np.testing.assert_allclose(sol.quantity, tight.quantity, rtol=1e-9)
    scale = (flows * (1 + t0)).sum(axis=1).max()
    np.testing.assert_allclose(sol.welfare, tight.welfare, rtol=0, atol=1e-9 * scale)


def test_one_reduction_check_agrees_with_the_two_reduction_check():
    rng = np.random.default_rng(0)
    specials = [np.nan, -np.nan, np.inf, -np.inf, -1e-300, 5e-324, 20.0, np.nextafter(20.0, 21.0), 1e308, 0.0]
    for trial in range(400):
        a = rng.uniform(0, 20, rng.integers(0, 50))
        if a.size and trial % 2:
            a[rng.integers(0, a.size)] = specials[trial // 2 % len(specials)]
        for high in (pe.MAX_RATE, pe._LARGEST):
            assert pe._up_to(a, high) == pe._within(a, 0.0, high), (a, high)
    # not contiguous, or not float64: the two-reduction check itself
    b = rng.uniform(0, 20, (6, 8))
    assert pe._up_to(b[:, ::2], pe.MAX_RATE) and pe._up_to(b.astype(np.float32), pe.MAX_RATE)
    # -0.0 is in range, but refused by the one-reduction check (its sign bit): the caller's full check decides
    assert pe._within(np.array([-0.0]), 0.0, pe.MAX_RATE) and not pe._up_to(np.array([-0.0]), pe.MAX_RATE)


def test_prices_match_scipy_per_product():
    flows, t0, t1, sigma, eta, epsilon = _elastic_problem(3)
    sol = pe.solve(flows, t0, t1, sigma, eta, epsilon)
    assert sol.max_residual <= 1e-10
    want, stop = scipy_pe(flows, t0, t1, sigma, eta, epsilon)
    assert stop < 1e-12  # (hybr may stop "not making progress" at rounding level)
    np.testing.assert_allclose(sol.exporter_price, want, rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", ["tariff_before", "flows"])
def test_negative_zero_takes_the_full_check_and_solves_the_same(name):
    # -0.0 fails the one-reduction check of a chunk's part: the inputs are checked whole and the chunk solved again
    flows, t0, t1, sigma, eta, epsilon = _elastic_problem(4)
    args = {"flows": flows, "tariff_before": t0}
    signed = args[name].copy()
    zero = np.argwhere(signed == 0.0)[5]
    signed[tuple(zero)] = -0.0
    assert np.signbit(signed).any()
    plain = pe.solve(flows, t0, t1, sigma, eta, epsilon)
    args[name] = signed
    got = pe.solve(args["flows"], args["tariff_before"], t1, sigma, eta, epsilon)
    np.testing.assert_array_equal(got.exporter_price, plain.exporter_price)
    np.testing.assert_array_equal(got.quantity, plain.quantity)
    want, stop = scipy_pe(flows, t0, t1, sigma, eta, epsilon)
    assert stop < 1e-12  # (hybr may stop "not making progress" at rounding level)
    np.testing.assert_allclose(got.exporter_price, want, rtol=1e-9, atol=0)


@pytest.mark.parametrize("domestic", [True, False])
def test_revenue_in_welfare_matches_the_pair_arrays(domestic):
    # the fast path takes the new revenue as T' - sum_i c1 p**(1 - sigma) (c0 = c1 (1 + t1) cell by cell); the pair
    # arrays give it as sum_i t1 flows_after, cell by cell: welfare must be consumer + producer surplus + that change
    flows, t0, t1, sigma, eta, epsilon = _elastic_problem(5)
    t1 = t1.copy()
    t1[:, 2, 3] = np.inf  # a halt: no duty where nothing passes
    sol = pe.solve(flows, t0, t1, sigma + 1.0, eta, epsilon, domestic=domestic)
    assert sol.max_residual <= 1e-10
    want = sol.consumer_surplus + sol.revenue_change + sol.producer_surplus  # square: country c is exporter and importer c
    scale = (flows * (1 + t0)).sum(axis=1).max()
    np.testing.assert_allclose(sol.welfare, want, rtol=1e-9, atol=1e-12 * scale)
    assert np.abs(sol.revenue_change).max() > 1e-3 * scale  # the check is not empty
