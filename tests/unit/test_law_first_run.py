"""A scenario's first run: what is read from a fine-values table is kept for tables of the same content
(`tradesim.kept.table_kept`), never for a changed or different table; the law compiles to the
same entries however its cells are pruned; a first run gives the tariffs of a repeat, bit for bit."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import tradesim
from tradesim import kept
from tradesim.data import bundled
from tradesim.errors import InputError
from tradesim.law import Measure, TariffSchedule
from tradesim.law.atoms import fine_rows, fine_table, member_rows, split
from tradesim.law.compile import compile_law

EXPORTERS, IMPORTERS = np.array(["ROW", "MEX", "CHN"]), np.array(["USA", "CAN"])
PRODUCTS = np.array(["8501", "0301", "9503"])
CODES = ["850110", "03011100"]


def _table(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "product": ["85011000", "85012000", "85011000", "03011100", "03019900", "85012000", "95030000"],
        "exporter": ["ROW", "ROW", "CHN", "MEX", "ROW", "ROW", "CHN"],
        "importer": ["USA", "USA", "USA", "USA", "USA", "CAN", "USA"],
        "member": ["CHE", "NOR", "", "", "CHE", "CHE", ""],
        "value": [1.0, 2.0, 3.5, 4.0, 9.0, 5.0, 7.0],
    })
    for column, (row, value) in changes.items():
        frame.loc[row, column] = value
    return frame


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    """Each test starts with nothing kept (and leaves the session's kept tables alone)."""
    monkeypatch.setattr(kept, "_KEPT_TABLES", [])


def _split(frame, checked=False):
    return split(PRODUCTS, CODES, EXPORTERS, IMPORTERS, frame, checked)


def _same(a, b, path=""):
    """Equal, bit for bit (arrays, sparse matrices, Series, dataclasses, tuples)."""
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{k}]")
    elif sparse.issparse(a):
        _same(a.toarray(), b.toarray(), path)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), path
    else:
        assert a == b, path


def _computed(frame, monkeypatch):
    """What the readers give on `frame` with nothing kept (every call computes)."""
    with monkeypatch.context() as m:
        m.setattr(bundled, "table_kept", lambda table, key, compute: compute())
        m.setattr(tradesim.law.atoms, "table_kept", lambda table, key, compute: compute())
        rows = fine_rows(frame, EXPORTERS, IMPORTERS)
        return (rows, fine_table(frame, EXPORTERS, IMPORTERS, rows), _split(frame),
                bundled.fine_values_problem(frame, PRODUCTS))


def test_a_table_read_again_gives_the_same_and_is_read_once(monkeypatch):
    want = _computed(_table(), monkeypatch)
    calls = []
    reader = tradesim.law.atoms._fine_rows
    monkeypatch.setattr(tradesim.law.atoms, "_fine_rows", lambda *a: calls.append(1) or reader(*a))
    for _ in range(3):  # a copy each time, as load_fine_values gives
        frame = _table()
        rows = fine_rows(frame, EXPORTERS, IMPORTERS)
        got = (rows, fine_table(frame, EXPORTERS, IMPORTERS, rows), _split(frame),
               bundled.fine_values_problem(frame, PRODUCTS))
        _same(want, got)
    assert len(calls) == 1


def test_the_bundled_table_is_kept_across_its_copies():
    first = bundled.load_fine_values("fine-values-2024")
    second = bundled.load_fine_values("fine-values-2024")
    assert first is not second
    a = fine_rows(first, EXPORTERS, IMPORTERS)
    b = fine_rows(second, EXPORTERS, IMPORTERS)
    assert a.row_code is b.row_code  # kept: read once
    assert len(kept._KEPT_TABLES) == 1


@pytest.mark.parametrize("change", [
    {"value": (2, 3.25)},
    {"value": (2, -0.0)},  # equal as numbers, not bit for bit
    {"product": (1, "85019000")},
    {"exporter": (2, "MEX")},
    {"member": (0, "NOR")},
])
def test_a_changed_table_is_read_afresh(change, monkeypatch):
    _split(_table())
    fine_rows(_table(), EXPORTERS, IMPORTERS)
    changed = _table(**change)
    want = _computed(changed, monkeypatch)
    rows = fine_rows(changed, EXPORTERS, IMPORTERS)
    _same(want, (rows, fine_table(changed, EXPORTERS, IMPORTERS, rows), _split(changed),
                 bundled.fine_values_problem(changed, PRODUCTS)))


def test_other_columns_index_or_dtypes_are_other_tables(monkeypatch):
    base = _table()
    fine_rows(base, EXPORTERS, IMPORTERS)
    for other in (base[["value", "product", "exporter", "importer", "member"]], base.set_axis(range(1, 8)),
                  base.assign(value=base["value"].astype("float32")), base.assign(extra=1)):
        want = _computed(other, monkeypatch)
        _same(want[0], fine_rows(other, EXPORTERS, IMPORTERS))
        _same(want[2], _split(other))


def test_changing_the_callers_table_or_results_never_reaches_the_kept_ones():
    frame = _table()
    rows = fine_rows(frame, EXPORTERS, IMPORTERS)
    atoms = _split(frame)
    frame.loc[0, "value"] = 1000.0  # the caller's table changes in place: now another table
    rows.value.iloc[1] = 77.0  # the caller's own column
    atoms.weights[:] = 3.0  # the caller's own weights
    again = _table()
    assert fine_rows(again, EXPORTERS, IMPORTERS).value.tolist() == again["value"].tolist()
    assert not np.all(_split(again).weights == 3.0)
    assert fine_rows(frame, EXPORTERS, IMPORTERS).value.iloc[0] == 1000.0
    with pytest.raises(ValueError):  # what is kept and shared is read-only
        rows.row_code[0] = 5


def test_bad_tables_raise_every_time():
    fine_rows(_table(), EXPORTERS, IMPORTERS)
    _split(_table())
    for _ in range(2):
        with pytest.raises(InputError, match="at row 2 is not a number >= 0"):
            _split(_table(value=(2, -1.0)))
        with pytest.raises(InputError, match="QQQ"):
            _split(_table(member=(0, "QQQ")))
        with pytest.raises(InputError, match="QQQ"):
            member_rows(_table(member=(0, "QQQ")), PRODUCTS, EXPORTERS, IMPORTERS)
        problem = bundled.fine_values_problem(_table(member=(0, "QQQ")), PRODUCTS)
        assert problem is not None and "QQQ" in problem
        assert "nest under none" in bundled.fine_values_problem(_table(), ["85", "95"])
    # a table split unchecked raises though the same table was once split with its members checked
    bad = _table(member=(0, "QQQ"))
    _split(bad, checked=True)
    with pytest.raises(InputError, match="QQQ"):
        _split(bad)


def test_what_is_kept_is_bounded(monkeypatch):
    monkeypatch.setattr(kept, "_KEEP_RESULTS", 3)
    for k in range(5):
        fine_rows(_table(value=(0, float(k + 10))), EXPORTERS, IMPORTERS)
    assert len(kept._KEPT_TABLES) == kept._KEEP_TABLES
    frame = _table()
    for k in range(6):
        fine_rows(frame, EXPORTERS[: k % 3 + 1], IMPORTERS[: k // 3 + 1])
    assert all(len(kept) <= 3 for _, kept in kept._KEPT_TABLES)
    monkeypatch.setattr(kept, "_KEEP_ALL", 0)  # nothing fits: nothing is kept, the answers are the same
    rows = fine_rows(_table(value=(3, 1.5)), EXPORTERS, IMPORTERS)
    assert rows.value.iloc[3] == 1.5
    assert sum(len(kept) for _, kept in kept._KEPT_TABLES) == 0


def test_a_table_larger_than_a_result_is_read_every_time(monkeypatch):
    frame = _table()
    monkeypatch.setattr(kept, "_KEEP_BYTES", kept._table_bytes(frame) - 1)  # no snapshot of it is kept
    calls = []
    for _ in range(2):
        assert kept.table_kept(frame, ("x",), lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2 and not kept._KEPT_TABLES
    monkeypatch.setattr(kept, "_KEEP_BYTES", kept._table_bytes(frame))  # at the limit: kept
    for _ in range(2):
        kept.table_kept(frame, ("x",), lambda: calls.append(1) or 7)
    assert len(calls) == 3 and len(kept._KEPT_TABLES) == 1


def test_tables_of_python_objects_are_read_every_time():
    frame = _table().astype({"product": object})
    calls = []
    kept.table_kept(frame, ("x",), lambda: calls.append(1))
    kept.table_kept(frame, ("x",), lambda: calls.append(1))
    assert len(calls) == 2 and not kept._KEPT_TABLES


def _schedule():
    return TariffSchedule([
        Measure("mfn", "USA", 0.02, "2020-01-01", kind="mfn", product_rates={"8501": 0.03, "850120": 0.05}),
        Measure("a", "USA", 0.25, "2025-02-04", exporters=["CHN"], products=["850110", "03"], exclude=["030111"]),
        Measure("b", "USA", 0.1, "2025-03-01", exporters=["MEX"], products=["9503"],
                value_shares={"9503": 0.5}),
    ])


@pytest.mark.parametrize("with_cells", [False, True])
def test_the_cells_the_law_reaches_are_those_of_the_whole_law(with_cells):
    s = _schedule()
    atoms = np.array(["850110", "850120", "030111", "030119", "9503", "8502"])
    exporters = np.array(["CHN", "MEX", "VNM", "DEU"])
    cells = np.random.default_rng(3).random((atoms.size, exporters.size)) < 0.7 if with_cells else None
    measures, lists = list(s.measures), dict(s.product_lists)
    whole = compile_law(measures, lists, atoms, exporters, {}, cells)
    law = compile_law(measures, lists, atoms, exporters, {}, cells, reached=True)
    reached = np.unique(whole.cell)
    assert law.cell_atom.tolist() == whole.cell_atom[reached].tolist()
    assert law.cell_exporter.tolist() == whole.cell_exporter[reached].tolist()
    assert law.cell.tolist() == np.searchsorted(reached, whole.cell).tolist()
    for name in ("m", "cover", "exempt", "qualifying", "charge", "value_share", "offsets"):
        assert getattr(law, name).tobytes() == getattr(whole, name).tobytes(), name


def test_a_first_run_gives_the_tariffs_and_results_of_a_repeat():
    warnings.simplefilter("ignore")
    scenario = tradesim.load_scenario("us-china-2025")
    b = scenario.load_baseline()
    repeat = tradesim.simulate(b, scenario, domestic=False)
    runs = [tradesim.simulate(b, dataclasses.replace(scenario, schedule=dataclasses.replace(scenario.schedule)),
                              domestic=False) for _ in range(2)]
    want = repeat.to_xarray()
    for run in runs:
        got = run.to_xarray()
        for name in want.data_vars:
            assert np.array_equal(want[name].values, got[name].values, equal_nan=True), name


def test_members_expand_the_same_when_asked_again_and_afresh_for_other_cells():
    frame = _table()
    atoms = _split(frame)
    members = atoms.members
    wanted = np.ones((atoms.atoms.size, EXPORTERS.size), bool)
    first = members.expansion(0, EXPORTERS, atoms.atoms.size, wanted)
    assert members.expansion(0, EXPORTERS, atoms.atoms.size, wanted.copy()) is first
    fresh = type(members)(*(getattr(members, f.name) for f in dataclasses.fields(members)))
    _same(fresh.expansion(0, EXPORTERS, atoms.atoms.size, wanted), first)
    fewer = wanted.copy()
    fewer[:, 0] = False  # no ROW cell asked for: no member counts
    assert members.expansion(0, EXPORTERS, atoms.atoms.size, fewer) is None
    _same(members.expansion(0, EXPORTERS, atoms.atoms.size, wanted), first)
    law_cells = np.nonzero(first.wanted)
    _same(first.fold(*law_cells), fresh.expansion(0, EXPORTERS, atoms.atoms.size, wanted).fold(*law_cells))


def test_row_labels_equal_as_numbers_are_other_tables(monkeypatch):
    bad = _table(member=(0, "QQQ"))
    labelled = [bad.set_axis(np.arange(7.0)), bad.set_axis(np.r_[-0.0, np.arange(1.0, 7.0)])]
    want = [bundled._fine_values_problem(t, tuple(PRODUCTS)) for t in labelled]
    assert want[0] != want[1]  # the row is named by its label
    assert [bundled.fine_values_problem(t, PRODUCTS) for t in labelled] == want


def test_bundled_fine_values_are_the_names_list_fine_values_gives():
    names = list(bundled.list_fine_values().index)
    assert {"fine-values-2024", "demo-2024", "us-imports-2024"} <= set(names)
    assert all(bundled.is_bundled_fine_values(name) for name in names)
    for other in ("fine-values-2023", "us-imports-2024.csv", "data/fine.csv", "", None, 2024):
        assert not bundled.is_bundled_fine_values(other), other
