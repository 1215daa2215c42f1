"""The scenario path's shortcuts give what the straightforward steps give: cells whose tariff never moves
follow one path per market, the law's sums on its cells only, and the law compiled once per schedule."""

import dataclasses
import warnings

import numpy as np
import pytest

from tradesim.law.atoms import codes_problem
from tradesim.scenario.plan import compile_plan
from tradesim.simulate import _market_targets, _partial, parameters_for


def _plan(s, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile_plan(b, s, "pe", None, {"domestic": False})


@pytest.mark.parametrize("persistence", [0.0, 0.3])
@pytest.mark.parametrize("products", [True, False])
def test_shared_paths_are_every_cells_own(us_china, persistence, products):
    s, b = us_china
    s = dataclasses.replace(s, dynamics=dataclasses.replace(s.dynamics, persistence=persistence))
    plan = _plan(s, b)
    params = plan.expand_parameters(parameters_for(plan.spec, s.elasticities, b))
    keep = ("flows", "quantity", "buyer_price")
    shared = _market_targets(plan, params, keep, False, share=True)
    assert shared.paths.size < shared.cells.size / 3  # most cells of a moving market are third countries'
    got = _partial(plan, shared, False, products)
    want = _partial(plan, _market_targets(plan, params, keep, False), False, products)
    for name in ("flows", "quantity", "buyer_price", "revenue"):
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=0)
    for name, values in want["country"].items():  # sums of USD billions taken in another order: 1e-3 USD apart
        np.testing.assert_allclose(got["country"][name], values, rtol=1e-12, atol=1e-3)


def test_law_sums_on_its_cells_are_the_dense_sums(us_china):
    plan = _plan(*us_china)
    charges = plan.t0 * plan.flows
    np.testing.assert_allclose(plan.collapse_law(plan.reference_charges), plan.collapse(charges), rtol=1e-12, atol=0)
    np.testing.assert_allclose(plan.weights("spending", on_products=True), plan.collapse(plan.flows * (1 + plan.t0)),
                               rtol=1e-12, atol=0)
    rates = plan.rates.reshape(plan.n_regimes, -1)
    cells = np.random.default_rng(4).integers(0, plan.flows.size, 2000)
    assert np.array_equal(plan.rates_move(cells), (rates[:, cells] != rates[0, cells]).any(axis=0))
    some = np.array([0, 3, 5])
    assert np.array_equal(plan.rates_move(cells, some), (rates[some][:, cells] != rates[0, cells]).any(axis=0))


def test_the_law_is_compiled_once_for_the_same_inputs(us_china):
    s, b = us_china
    first = _plan(s, b)
    laws = {k: v[1] for k, v in s.schedule._cache.items() if k[0] == "compiled"}
    again = _plan(s, b)
    assert laws and all(s.schedule._cache[k][1] is law for k, law in laws.items())  # kept, not compiled again
    assert np.array_equal(first.split.rates, again.split.rates) and np.array_equal(first.split.cells, again.split.cells)
    fewer = b.restrict(exporters=list(b.exporters)[:-1])
    other = _plan(s, fewer)  # other cells: compiled again
    assert any(s.schedule._cache[k][1] is not law for k, law in laws.items())
    s.schedule._cache.clear()
    fresh = _plan(s, fewer)
    assert np.array_equal(other.split.rates, fresh.split.rates) and np.array_equal(other.split.cells, fresh.split.cells)


def test_codes_problem_is_the_same_read_again():
    codes = np.array(["0101", "12", "850110", "9a01", "01011"])
    assert codes_problem(codes) == codes_problem(list(codes)) == codes_problem(codes.copy())  # the same as unread
    assert codes_problem(np.array(["0101", "850110"])) is None


def test_a_scenarios_law_is_read_once_per_baseline(us_china):
    s, b = us_china
    first, again = _plan(s, b), _plan(s, b)
    assert again.split is first.split and not first.split.rates.flags.writeable  # kept, and shared read-only
    variant = dataclasses.replace(s, dynamics=dataclasses.replace(s.dynamics, persistence=0.3))
    other = _plan(variant, b)  # another scenario: its law read again, the same
    assert other.split is not first.split
    assert np.array_equal(other.split.rates, first.split.rates) and np.array_equal(other.split.cells, first.split.cells)
    assert other.notes == first.notes
