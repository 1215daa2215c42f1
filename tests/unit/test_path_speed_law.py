"""The law's faster steps (issue 22) give what the straightforward ones give: code matching on integers, the
atoms' partition, sparse fine values, the stacking rules on the elements and cells they reach, alike cells
stacked once, integer rows numbered without a sort, a fine-values table read once, a law's references read
once."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from tradesim import Measure, TariffSchedule
from tradesim.law import stacking
from tradesim.law.atoms import Atoms, fine_rows, fine_table, member_rows, partition, row_ids
from tradesim.law.compile import _as_ints, compile_law, match_codes


def _codes(rng, n, lengths=(2, 4, 6, 8, 10)):
    digits = rng.integers(0, 10, (n, max(lengths)))
    digits[:, :2] = rng.integers(0, 3, (n, 2))  # few chapters, so that codes nest
    return np.array(["".join(map(str, row[:rng.choice(lengths)])) for row in digits])


def test_codes_read_as_integers_are_their_numbers():
    codes = np.array(["0101", "85", "8542310000", "01012100", "99"])
    assert _as_ints(codes).tolist() == codes.astype(np.int64).tolist()
    assert _as_ints(np.array([], dtype=str)).shape == (0,)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_match_codes_finds_every_prefix_pair_either_way(seed):
    rng = np.random.default_rng(seed)
    codes, atoms = _codes(rng, 60), np.unique(_codes(rng, 80))
    ci, ai = match_codes(codes, atoms)
    got = set(zip(ci.tolist(), ai.tolist()))
    want = {(c, a) for c, code in enumerate(codes) for a, atom in enumerate(atoms)
            if atom.startswith(code) or code.startswith(atom)}
    assert got == want and len(got) == ci.size  # each pair once


def test_partition_is_numpys_unique_on_rows():
    rng = np.random.default_rng(3)
    parent = np.sort(rng.integers(0, 5, 40))
    signature = rng.integers(0, 3, (40, 2)).astype(float)
    atoms = Atoms(np.array(["01", "02", "03", "04", "05"]), np.array([f"{i:04d}" for i in range(40)]), parent,
                  np.ones(40))
    part_of_atom, part_parent, first = partition(atoms, signature)
    _, want_first, want_inverse = np.unique(np.column_stack([parent.astype(float), signature]), axis=0,
                                            return_index=True, return_inverse=True)
    assert part_of_atom.tolist() == want_inverse.ravel().tolist()
    assert first.tolist() == want_first.tolist() and part_parent.tolist() == parent[want_first].tolist()


def test_fine_values_by_pair_are_the_dense_sums_of_their_rows():
    frame = pd.DataFrame({"product": ["850110", "850120", "850110", "010121", "850110"],
                          "exporter": ["CHN", "CHN", "CHN", "MEX", "XXX"],
                          "importer": ["USA", "USA", "USA", "USA", "USA"],
                          "value": [1.0, 2.0, 3.5, 4.0, 9.0]})
    codes, weights = fine_table(frame, np.array(["CHN", "MEX"]), np.array(["USA", "CAN"]))
    dense = weights.toarray().reshape(len(codes), 2, 2)
    assert codes.tolist() == ["010121", "850110", "850120"]
    assert dense[1, 0, 0] == 4.5 and dense[2, 0, 0] == 2.0 and dense[0, 1, 0] == 4.0  # XXX's row is not a pair
    assert dense.sum() == 10.5


def _law():
    """Groups, replacement on part of the value, a floor, a halt, partial coverage and rates by line."""
    return TariffSchedule([
        Measure("mfn", "USA", 0.05, "2024-01-01", kind="mfn"),
        Measure("a", "USA", 0.25, "2025-02-01", exporters=["CHN"], products=["85"], group="g"),
        Measure("b", "USA", 0.30, "2025-03-01", exporters=["CHN", "VNM"], products=["8501", "03"], group="g"),
        Measure("c", "USA", 0.50, "2025-04-01", products=["85"], replaces=("g",), value_share=0.4),
        Measure("d", "USA", 0.10, "2025-05-01", exporters=["MEX"], coverage=0.5, replaces=("mfn",)),
        Measure("f", "USA", 0.15, "2025-06-01", exporters=["JPN"], rule="floor"),
        Measure("h", "USA", 0.0, "2025-07-01", exporters=["VNM"], products=["850120"], rule="halt"),
        Measure("r", "USA", 0.2, "2025-03-01", exporters=["CHN"], products=["85"],
                line_rates={("CHN", "850110"): 0.35}),
    ])


def test_stacking_on_the_elements_it_reaches_is_stacking_cell_by_cell():
    s = _law()
    products, exporters = ["850110", "850120", "0301", "8542"], ["CHN", "VNM", "MEX", "JPN"]
    days = ["2024-06-01", "2025-02-15", "2025-03-15", "2025-04-15", "2025-05-15", "2025-06-15", "2025-07-15"]
    path = s.rates_path(days, products, exporters, ["USA"])  # [date, product, exporter, importer]
    for t, day in enumerate(days):  # each cell on its own: the rules on one cell and day
        for k, p in enumerate(products):
            for i, e in enumerate(exporters):
                assert path[t, k, i, 0] == pytest.approx(s.rates(day, [p], [e], ["USA"])[0, 0, 0], rel=1e-12)


def test_distinct_keys_and_elements_of_measures():
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 50, 30)
    for size in (50, 10_000):  # a mask, or a sort
        n, at = stacking._distinct(keys, size)
        distinct, inverse = np.unique(keys, return_inverse=True)
        assert n == distinct.size and at.tolist() == inverse.ravel().tolist()
    s = stacking.Stack(law=None, active=np.zeros((0, 0)))
    s.extra["runs"] = (np.array([0, 2, 1, 2]), np.array([0, 3, 5, 9]), np.array([3, 2, 4, 1]))
    s.measure = np.repeat([0, 2, 1, 2], [3, 2, 4, 1])
    for mask in ([True, False, True], [False, True, False], [False, False, False]):
        assert stacking._elements_of(s, np.array(mask)).tolist() == np.flatnonzero(np.array(mask)[s.measure]).tolist()


DAYS = ["2024-06-01", "2025-02-15", "2025-03-15", "2025-04-15", "2025-05-15", "2025-06-15", "2025-07-15"]
ATOMS = np.array(["850110", "850120", "850190", "8502", "0301", "0302", "8542", "9503"])
EXPORTERS = np.array(["CHN", "VNM", "MEX", "JPN", "DEU", "KOR"])


def test_alike_cells_are_stacked_once_and_total_as_every_cell():
    law = _law().compiled("USA", ATOMS, EXPORTERS)
    active = law.active(DAYS)
    of_cell, sub = stacking.alike_cells(law)
    assert sub.n_cells < law.n_cells and of_cell.shape == (law.n_cells,)
    plain = stacking.evaluate(law, active, alike=False)
    assert np.array_equal(stacking.evaluate(law, active), plain)  # exactly: the rules act on a cell's own elements
    assert np.isinf(plain).any()  # the halt is among them
    keep = np.array([m.kind == "mfn" for m in law.measures])
    assert np.array_equal(stacking.evaluate(law, active, keep), stacking.evaluate(law, active, keep, alike=False))


def test_a_hash_collision_leaves_the_law_whole(monkeypatch):
    law = _law().compiled("USA", ATOMS, EXPORTERS)
    monkeypatch.setattr(stacking, "_mix", lambda x: np.zeros_like(x))  # every cell collides
    assert stacking.alike_cells(law) is None
    active = law.active(DAYS)
    assert np.array_equal(stacking.evaluate(law, active), stacking.evaluate(law, active, alike=False))


@pytest.mark.parametrize("span", [3, 10**9])
def test_rows_of_integers_are_numbered_as_numpys_unique(span):
    rng = np.random.default_rng(span)
    columns = (rng.integers(-2, 3, 500), rng.integers(0, span, 500))
    ids, first = row_ids(*columns)
    _, want_first, want_ids = np.unique(np.column_stack(columns), axis=0, return_index=True, return_inverse=True)
    assert ids.tolist() == want_ids.ravel().tolist() and first.tolist() == want_first.tolist()


def _fine():
    return pd.DataFrame({
        "product": ["85011000", "85012000", "85011000", "03011100", "85011000", "85012000", "95030000"],
        "exporter": ["ROW", "ROW", "ROW", "MEX", "XXX", "ROW", "ROW"],
        "importer": ["USA", "USA", "USA", "USA", "USA", "CAN", "USA"],
        "member": ["CHE", " NOR", "CHE", None, "", "CHE", "NOR"],
        "value": [1.0, 2.0, 3.5, 4.0, 9.0, 5.0, 0.0],
    })


def test_a_table_read_once_gives_the_same_weights_and_members():
    frame = _fine()
    exporters, importers = np.array(["ROW", "MEX"]), np.array(["USA", "CAN"])
    rows = fine_rows(frame, exporters, importers)
    codes, weights = fine_table(frame, exporters, importers)
    codes_, weights_ = fine_table(frame, exporters, importers, rows)
    assert codes.tolist() == codes_.tolist() and (weights != weights_).nnz == 0
    atoms = np.array(["850110", "850120", "0301", "9503"])
    plain = member_rows(frame, atoms, exporters, importers)
    shared = member_rows(frame, atoms, exporters, importers, rows, checked=True)
    assert plain.codes.tolist() == shared.codes.tolist() == ["CHE", "NOR"]
    for f in dataclasses.fields(plain):
        assert np.array_equal(getattr(plain, f.name), getattr(shared, f.name)), f.name


def test_references_read_once_compile_the_same_law():
    s = _law()
    measures = [m for m in s.measures if m.importer == "USA"]
    plain = compile_law(measures, dict(s.product_lists), ATOMS, EXPORTERS, s._members)
    for _ in range(2):  # the second reads the schedule's references
        law = s.compiled("USA", ATOMS, EXPORTERS)
        for f in dataclasses.fields(plain):
            a, b = getattr(plain, f.name), getattr(law, f.name)
            assert (np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b), f.name
