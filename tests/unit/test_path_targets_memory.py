"""A path's full solves are read chunk by chunk, not copied, and freed before the products are formed.

Under partial adjustment with full solves (GE, or PE whose markets are not independent) every solve's
outputs on the cells the path moves were copied into ``[key, cell]`` arrays: under GE, where every
cell with trade moves, that doubled the solves' memory, and the copy's first writes cost more than the
path itself. `_Solves` reads them where the path asks for a chunk of cells; the last chunk's views no
longer keep them alive into the products' phase.
"""

import dataclasses
import datetime as dt
import sys
import warnings
import weakref

import numpy as np
import pytest

import tradesim

simulate_module = sys.modules["tradesim.simulate"]
_Solves = simulate_module._Solves


def memory_of(a: np.ndarray) -> weakref.ref:
    """A weak reference to the array that owns `a`'s memory (a view's dies before its memory does)."""
    while a.base is not None:
        a = a.base
    return weakref.ref(a)


@pytest.fixture(scope="module")
def small_ge():
    """geneva-truce over its first half year on five economies of its baseline (with their domestic sales)."""
    scenario = tradesim.load_scenario("geneva-truce")
    scenario = dataclasses.replace(scenario, end=dt.date(2025, 6, 30))
    five = ["USA", "CHN", "CAN", "MEX", "ROW"]
    return scenario, scenario.load_baseline().restrict(exporters=five, importers=five)


def test_solves_read_at_their_cells_equal_a_stacked_copy():
    rng = np.random.default_rng(7)
    arrays = [rng.random((3, 50)) for _ in range(4)]  # [key] of [draw, n]
    at = np.sort(rng.choice(50, 20, replace=False))
    copy = np.stack(arrays)[..., at]  # [key, draw, cell]
    values = _Solves(arrays, at)
    assert values.shape == copy.shape == (4, 3, 20)
    for index in (slice(0, 7), slice(7, None), slice(0, 0), np.array([5, 0, 19])):
        np.testing.assert_array_equal(values[..., index], copy[..., index])
    order = rng.permutation(20)
    np.testing.assert_array_equal(values.reordered(order)[..., slice(None)], copy[..., order])
    with pytest.raises(TypeError):
        values[0]


def test_scaled_compares_solve_by_solve():
    rng = np.random.default_rng(8)
    q = [rng.random(30) for _ in range(3)]
    scale = rng.random(30) + 1
    at = np.arange(0, 30, 2)
    flows = [scale * a for a in q]
    assert simulate_module._scaled(_Solves(flows, at), _Solves(q, at), scale[at])
    flows[2] = flows[2].copy()
    flows[2][at[3]] *= 1 + 1e-12
    assert not simulate_module._scaled(_Solves(flows, at), _Solves(q, at), scale[at])
    assert simulate_module._scaled(np.stack(q)[:, at] * scale[at], np.stack(q)[:, at], scale[at])


def targets_alive_at_products(monkeypatch, make_targets: str, check, run) -> tuple[int, int]:
    """Run `run()` with `simulate_module.<make_targets>` watched: `check(args, targets)` sees the targets it
    makes, and the arrays that own their values' memory are counted when `_country_path` is called (once
    the path's chunks are done, before the products' arrays). Returns ``(arrays, still alive)``."""
    seen = {}
    make, country_path = getattr(simulate_module, make_targets), simulate_module._country_path

    def spy_targets(*args, **kwargs):
        shown = {k: dict(v) for k, v in args[1].items()} if make_targets == "_cell_targets" else None
        targets = make(*args, **kwargs)
        check(args[0], shown, targets)
        seen["refs"] = [memory_of(a) for v in targets.values.values()
                        for a in (v.arrays[1:] if isinstance(v, _Solves) else [v])]
        return targets

    def spy_country(*args, **kwargs):
        seen["alive"] = sum(r() is not None for r in seen["refs"])
        return country_path(*args, **kwargs)

    monkeypatch.setattr(simulate_module, make_targets, spy_targets)
    monkeypatch.setattr(simulate_module, "_country_path", spy_country)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    return len(seen["refs"]), seen["alive"]


def test_a_ge_path_holds_no_copy_of_its_solves_and_frees_them_before_the_products(monkeypatch, small_ge):
    scenario, baseline = small_ge

    def check(plan, solved, targets):  # the values are the solves' own arrays (flows of every key but the first)
        held = targets.values["flows"]
        assert isinstance(held, _Solves)
        assert all(np.shares_memory(solved[k]["flows"], a) for k, a in zip(plan.keys[1:], held.arrays[1:]))

    count, alive = targets_alive_at_products(monkeypatch, "_cell_targets", check,
                                             lambda: tradesim.simulate(baseline, scenario, model="ge"))
    assert count and alive == 0


def test_a_pe_paths_targets_are_freed_before_the_products(monkeypatch):
    scenario = tradesim.load_scenario("liberation-day")  # no halts: the chunks are views
    baseline = scenario.load_baseline()
    count, alive = targets_alive_at_products(monkeypatch, "_market_targets", lambda *a: None,
                                             lambda: tradesim.simulate(baseline, scenario, domestic=False))
    assert count == 3 and alive == 0


def test_chunks_by_product_cell_cover_the_cells_and_keep_each_product_cells_parts_together():
    rng = np.random.default_rng(9)
    parent = np.repeat(np.arange(12), rng.integers(1, 6, 12))  # [part]: parts ordered by product

    class Plan:  # what _path_chunks reads of a plan
        flows = np.zeros((parent.size, 3, 4))
        split = tradesim.law.atoms.Parts(np.arange(12).astype(str), parent, None, None)

    cells = np.sort(rng.choice(Plan.flows.size, 150, replace=False))
    product_cell = parent[cells // 12] * 12 + cells % 12
    parts_of = np.bincount(product_cell)
    for step in (1, 7, 40, 1000):
        order, slices = simulate_module._path_chunks(Plan, cells, step, by_product=True)
        order = np.arange(cells.size) if order is None else order
        assert slices[0].start == 0 and slices[-1].stop == cells.size
        assert all(a.stop == b.start for a, b in zip(slices, slices[1:]))
        chunks = [order[c] for c in slices]
        every = np.concatenate(chunks)
        assert np.array_equal(np.sort(every), np.arange(cells.size))  # each cell once
        # grouped by product cell, increasing, each product cell's parts in their order
        assert (np.diff(product_cell[every]) >= 0).all()
        assert all((np.diff(every[product_cell[every] == c]) > 0).all() for c in np.unique(product_cell))
        for c in chunks:  # a product cell's parts are in one chunk, which is cut near `step`
            held, count = np.unique(product_cell[c], return_counts=True)
            assert np.array_equal(count, parts_of[held])
            assert c.size < step + parts_of.max()
    order, plain = simulate_module._path_chunks(Plan, cells, 7)
    assert order is None and [(c.start, c.stop) for c in plain] == [(lo, lo + 7) for lo in range(0, 150, 7)]


@pytest.mark.parametrize("elements", [2**21, 2**14])  # one chunk or many, products cut across none
def test_products_formed_chunk_by_chunk_are_the_collapse_of_the_parts_path(monkeypatch, small_ge, elements):
    monkeypatch.setattr(simulate_module, "_PATH_ELEMENTS", elements)
    scenario, baseline = small_ge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = simulate_module.compile_plan(baseline, scenario, "ge", None, {})
    assert not plan.split.trivial
    params = simulate_module.parameters_for(plan.spec, scenario.elasticities, baseline)

    def run(products):
        return simulate_module.run_plan(plan, params, products=products)

    on_parts, on_products = run(False), run(True)
    for name in ("flows", "revenue", "quantity", "buyer_price"):
        want = plan.collapse(on_parts[name], simulate_module._COLLAPSE[name])
        np.testing.assert_allclose(on_products[name], want, rtol=1e-12, atol=1e-6, err_msg=name)
    for name, values in on_parts["country"].items():
        np.testing.assert_allclose(on_products["country"][name], values, rtol=1e-12, atol=1e-3, err_msg=name)


def test_a_ge_paths_sums_by_pair_read_from_the_solves_are_the_sums_of_its_pair_outputs(small_ge):
    scenario, baseline = small_ge
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = simulate_module.compile_plan(baseline, scenario, "ge", None, {})
    params = simulate_module.parameters_for(plan.spec, scenario.elasticities, baseline)
    on_parts = simulate_module.run_plan(plan, params)
    by_pair = simulate_module.run_plan(plan, params, by_pair=True)  # the cells in pair order (`_Solves.reordered`)
    for name in ("flows", "revenue"):
        np.testing.assert_allclose(by_pair[name], on_parts[name].sum(axis=-3), rtol=1e-12, atol=1e-3, err_msg=name)
    for name, values in on_parts["country"].items():
        np.testing.assert_allclose(by_pair["country"][name], values, rtol=1e-12, atol=1e-3, err_msg=name)
