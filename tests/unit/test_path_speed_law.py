"""The law's faster steps (issue 22) give what the straightforward ones give: code matching on integers, the
atoms' partition, sparse fine values, and the stacking rules on the elements and cells they reach."""

import numpy as np
import pandas as pd
import pytest

from tradesim import Measure, TariffSchedule
from tradesim.law import stacking
from tradesim.law.atoms import Atoms, fine_table, partition
from tradesim.law.compile import _as_ints, match_codes


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
    """A law with groups, replacements (also on part of the value), a floor and partial coverage."""
    measures = [
        Measure("mfn", "USA", 0.05, "2024-01-01", kind="mfn"),
        Measure("a", "USA", 0.25, "2025-02-01", exporters=["CHN"], products=["85"], group="g"),
        Measure("b", "USA", 0.30, "2025-03-01", exporters=["CHN", "VNM"], products=["8501", "03"], group="g"),
        Measure("c", "USA", 0.50, "2025-04-01", products=["85"], replaces=("g",), value_share=0.4),
        Measure("d", "USA", 0.10, "2025-05-01", exporters=["MEX"], coverage=0.5, replaces=("mfn",)),
        Measure("f", "USA", 0.15, "2025-06-01", exporters=["JPN"], rule="floor"),
    ]
    return TariffSchedule(measures)


def test_stacking_on_the_elements_it_reaches_is_stacking_cell_by_cell():
    s = _law()
    products, exporters = ["850110", "850120", "0301", "8542"], ["CHN", "VNM", "MEX", "JPN"]
    days = ["2024-06-01", "2025-02-15", "2025-03-15", "2025-04-15", "2025-05-15", "2025-06-15"]
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
