"""A scenario's first run: an importer's law, its references and its totals are kept by the content of their
inputs (`tradesim.kept.kept`), so a copy of a schedule (or a scenario loaded again) compiles nothing; they are
the same, bit for bit, as computed afresh, and a changed input is never served a kept value."""

import dataclasses
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

import tradesim
from tradesim import kept
from tradesim.law import Measure, ProductList, compile as law_compile, stacking
from tradesim.law.compile import codes_used, compile_law, references
from tradesim.law.members import Expansion

ATOMS = np.array(["850110", "850120", "030111", "030119", "9503", "8502"])
EXPORTERS = np.array(["CHN", "MEX", "VNM", "DEU"])


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    """Each test starts with nothing kept (and leaves the session's kept results alone)."""
    monkeypatch.setattr(kept, "_KEPT_BY_KEY", {})
    monkeypatch.setattr(law_compile, "_CONTENT_KEYS", {})


@contextmanager
def _afresh(monkeypatch):
    """Nothing kept inside: every call computes."""
    with monkeypatch.context() as m:
        m.setattr(law_compile, "kept", lambda kind, key, compute, keep=4: compute())
        m.setattr(stacking, "kept", lambda kind, key, compute, keep=4: compute())
        yield


def _measures(**changes):
    lists = {"toys": ProductList("toys", ("9503",)), "fish": ProductList("fish", ("0301",), exporters=("VNM",))}
    measures = [
        Measure("mfn", "USA", 0.02, "2020-01-01", kind="mfn", product_rates={"8501": 0.03, "850120": 0.05}),
        Measure("a", "USA", 0.25, "2025-02-04", exporters=["CHN"], products=["850110", "03"], exclude=["030111"]),
        Measure("b", "USA", 0.1, "2025-03-01", exporters=["MEX"], products=["toys"], value_shares={"9503": 0.5},
                replaces=["a"]),
        Measure("c", "USA", 0.3, "2025-03-01", products=["fish", "8502"], group="g"),
        Measure("d", "USA", 0.2, "2025-04-01", products=["85"], group="g"),
        Measure("e", "USA", 0.15, "2025-04-01", products=["0301", "850120"], exporters=["VNM", "DEU"], replaces=["g"]),
    ]
    for name, change in changes.items():
        if name in lists:
            lists[name] = dataclasses.replace(lists[name], **change)
        else:
            at = next(i for i, m in enumerate(measures) if m.name == name)
            measures[at] = dataclasses.replace(measures[at], **change)
    return measures, lists


def _same(a, b, path=""):
    """Equal, bit for bit (arrays, dataclasses, tuples)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, Measure):
        for f in dataclasses.fields(a):
            _same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, tuple) and a and isinstance(a[0], np.ndarray):
        assert len(a) == len(b), path
        for k, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{k}]")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.tobytes() == b.tobytes(), path
    else:
        assert a == b, path


def _law(measures, lists, cells=None, atoms=ATOMS, members=None, reached=True):
    refs = references(measures, lists, EXPORTERS)
    return compile_law(measures, lists, atoms, EXPORTERS, members or {"g": ["c", "d"]}, cells, reached, refs)


def test_a_law_compiled_again_is_the_kept_one_and_the_same_as_afresh(monkeypatch):
    cells = np.random.default_rng(3).random((ATOMS.size, EXPORTERS.size)) < 0.7
    with _afresh(monkeypatch):
        want = _law(*_measures(), cells)
    first = _law(*_measures(), cells)
    again = _law(*_measures(), cells.copy())  # equal measures and lists, other objects: the kept law
    assert again is first
    _same(first, want)
    assert not first.cover.flags.writeable  # shared: read-only
    active = first.active(np.array(["2025-01-01", "2025-03-15", "2025-05-01"], dtype="datetime64[D]"))
    with _afresh(monkeypatch):
        totals = stacking.evaluate(want, active)
    kept_totals = stacking.evaluate(first, active)
    assert stacking.evaluate(again, active.copy()) is kept_totals and not kept_totals.flags.writeable
    _same(kept_totals, totals)


@pytest.mark.parametrize("change", [
    {"a": {"rate": 0.3}},
    {"mfn": {"product_rates": {"8501": 0.03, "850120": 0.06}}},
    {"mfn": {"product_rates": {"850120": 0.05, "8501": 0.03}}},  # the same table in another order
    {"b": {"exporters": ["MEX", "VNM"]}},
    {"b": {"value_shares": {"9503": 0.25}}},
    {"a": {"exclude": ["030119"]}},
    {"toys": {"codes": ("9503", "8501")}},
    {"fish": {"exporters": ("CHN",)}},
    {"d": {"rate": 0.0}},
    {"c": {"group": None}},
])
def test_a_changed_measure_or_list_is_compiled_afresh(change, monkeypatch):
    cells = np.ones((ATOMS.size, EXPORTERS.size), bool)
    first = _law(*_measures(), cells)
    measures, lists = _measures(**change)
    with _afresh(monkeypatch):
        want = _law(measures, lists, cells)
    got = _law(measures, lists, cells)
    assert got is not first
    _same(got, want)
    assert _law(*_measures(), cells) is first  # the first is still kept


@pytest.mark.parametrize("change", ["minus zero", "cells", "fewer cells", "atoms", "members", "reached"])
def test_minus_zero_is_not_zero_and_other_axes_cells_and_members_are_compiled_afresh(change, monkeypatch):
    measures, lists = _measures(d={"rate": 0.0})
    cells = np.ones((ATOMS.size, EXPORTERS.size), bool)
    fewer = cells.copy()
    fewer[0, 0] = False
    args = {"minus zero": (_measures(d={"rate": -0.0})[0], lists), "cells": (measures, lists, cells),
            "fewer cells": (measures, lists, fewer), "atoms": (measures, lists, None, ATOMS[:-1]),
            "members": (measures, lists, None, ATOMS, {"g": ["c"]}),
            "reached": (measures, lists, None, ATOMS, None, False)}[change]
    first = _law(measures, lists, None if change != "fewer cells" else cells)
    got = _law(*args)
    assert got is not first  # ("minus zero": equal as numbers, not bit for bit)
    with _afresh(monkeypatch):
        _same(got, _law(*args))
    assert _law(measures, lists, None if change != "fewer cells" else cells) is first


def test_references_of_the_callers_own_compile_a_law_not_kept(monkeypatch):
    measures, lists = _measures()
    kept_refs = references(measures, lists, EXPORTERS)
    assert references(*_measures(), EXPORTERS) is kept_refs
    with _afresh(monkeypatch):
        own = references(measures, lists, EXPORTERS)
    assert own is not kept_refs
    law = compile_law(measures, lists, ATOMS, EXPORTERS, {}, None, False, own)
    assert kept.kept_key("law", law) is None
    assert compile_law(measures, lists, ATOMS, EXPORTERS, {}, None, False, own) is not law
    assert compile_law(measures, lists, ATOMS, EXPORTERS, {}, None, False, kept_refs) is \
        compile_law(measures, lists, ATOMS, EXPORTERS, {}, None, False)


def test_totals_of_other_regimes_or_measures_kept_are_computed_afresh(monkeypatch):
    law = _law(*_measures())
    days = np.array(["2025-01-01", "2025-03-15", "2025-05-01"], dtype="datetime64[D]")
    active = law.active(days)
    first = stacking.evaluate(law, active)
    other = stacking.evaluate(law, active[1:])
    keep = np.ones(len(law), bool)
    keep[0] = False
    summed = stacking.evaluate(law, active, keep)
    with _afresh(monkeypatch):
        _same(other, stacking.evaluate(law, active[1:]))
        _same(summed, stacking.evaluate(law, active, keep))
        _same(first, stacking.evaluate(law, active))
    assert not np.array_equal(first, summed)
    sub = dataclasses.replace(law, charge=law.charge * 2)  # another law, equal to no kept one
    assert kept.kept_key("law", sub) is None and stacking.evaluate(sub, active) is not first


def test_kept_keeps_by_key_within_its_bounds_and_nothing_of_a_failed_compute(monkeypatch):
    calls = []

    def compute(value):
        def run():
            calls.append(value)
            return np.full(3, value)
        return run

    a = kept.kept("x", ("a",), compute(1.0), keep=2)
    assert kept.kept("x", ("a",), compute(2.0), keep=2) is a and calls == [1.0]
    assert kept.kept_key("x", a) == kept.Key(("a",)) and kept.kept_key("x", a.copy()) is None
    kept.kept("x", ("b",), compute(2.0), keep=2)
    kept.kept("x", ("c",), compute(3.0), keep=2)  # "a" goes: two kept
    assert kept.kept_key("x", a) is None and kept.kept("x", ("a",), compute(4.0), keep=2)[0] == 4.0
    kept.kept("x", None, compute(5.0))
    kept.kept("x", None, compute(5.0))
    assert calls.count(5.0) == 2  # no key: computed every time

    def fails():
        raise ValueError("bad")

    for _ in range(2):
        with pytest.raises(ValueError):
            kept.kept("x", ("d",), fails)
    monkeypatch.setattr(kept, "_KEEP_BYTES", 8)
    big = kept.kept("x", ("e",), compute(6.0))
    assert big.flags.writeable and kept.kept_key("x", big) is None  # too large to keep


def test_a_first_run_with_nothing_kept_gives_the_numbers_of_a_run_served_from_the_kept():
    warnings.simplefilter("ignore")
    scenario = tradesim.load_scenario("us-china-2025")
    b = scenario.load_baseline()

    def first():
        fresh = dataclasses.replace(scenario, schedule=dataclasses.replace(scenario.schedule))
        return tradesim.simulate(b, fresh, domestic=False).to_xarray()

    cold = first()  # nothing kept (the fixture): compiled
    assert kept._KEPT_BY_KEY.get("law")
    served = first()
    for name in cold.data_vars:
        assert np.array_equal(cold[name].values, served[name].values, equal_nan=True), name


def test_a_fold_asked_again_is_the_kept_one_and_other_cells_are_folded_afresh():
    def expansion():
        return Expansion(np.array(["ROW", "CHN", "CHE", "NOR"]), np.ones((2, 4), bool), 2, np.array([0, 0, 1]),
                         np.array([0, 0, 0]), np.array([2, 3, 2]), np.array([1.0, 2.0, 3.0]))

    def same(a, b):
        _same(a[0], b[0])
        _same(a[1], b[1])
        assert (a[2] != b[2]).nnz == 0 and a[2].shape == b[2].shape

    ex = expansion()
    cell_atom, cell_source = np.divmod(np.arange(8), 4)
    first = ex.fold(cell_atom, cell_source)
    assert ex.fold(cell_atom.copy(), cell_source.copy()) is first and not first[2].data.flags.writeable
    same(first, expansion().fold(cell_atom, cell_source))
    fewer = np.arange(8) != 7  # the last cell not in the law
    other = ex.fold(cell_atom[fewer], cell_source[fewer])
    same(other, expansion().fold(cell_atom[fewer], cell_source[fewer]))
    assert other[2].shape != first[2].shape
    same(ex.fold(cell_atom, cell_source), first)


def _codes_measure_by_measure(schedule, importers) -> list[str]:
    """The codes the measures of `importers` use, read plainly: each measure's references (`TariffSchedule.codes`
    expands list names) and tables, one measure at a time."""
    codes: set[str] = set()
    for m in schedule.measures:
        if m.importer in importers:
            codes.update(schedule.codes(m.products or ()))
            codes.update(schedule.codes(m.exclude))
            for table in (m.product_rates, m.value_shares):
                codes.update(table or ())
            for table in (m.line_rates, m.qualifying_lines):
                codes.update(c for _, c in (table or ()))
    return sorted(codes)


@pytest.mark.parametrize("name", ["us-china-2025", "tariffs-2025"])
def test_the_codes_used_are_the_schedules_and_read_once(name):
    schedule = tradesim.load_scenario(name).schedule
    importers = schedule.importers()
    for imps in (importers, importers[:1]):
        want = _codes_measure_by_measure(schedule, set(imps))
        got = codes_used(schedule.measures, schedule.product_lists, imps)
        assert list(got) == want and dataclasses.replace(schedule).codes_of(imps) == want
        again = dataclasses.replace(schedule)
        assert codes_used(again.measures, again.product_lists, list(reversed(imps))) is got


def test_codes_used_by_changed_measures_or_lists_are_read_afresh():
    measures, lists = _measures()
    first = codes_used(measures, lists, ["USA"])
    assert "9503" in first and "8502" in first and "030111" in first
    assert codes_used(*_measures(), ["USA"]) is first
    for changed in (_measures(toys={"codes": ("9503", "850130")}), _measures(a={"exclude": ["030119"]}),
                    _measures(mfn={"product_rates": {"8501": 0.03, "85012010": 0.05}})):
        got = codes_used(*changed, ["USA"])
        assert got != first and list(got) == sorted(set(got))
    assert codes_used(measures, lists, ["CHN"]) == ()


def test_forget_makes_the_next_run_compile_its_law_again(monkeypatch):
    scenario = tradesim.load_scenario("us-china-2025")
    baseline = scenario.load_baseline()
    calls = []
    original = kept.kept

    def counting(kind, key, compute, keep=4):  # counts the computations `kept` does not find
        return original(kind, key, lambda: (calls.append(kind), compute())[1], keep)

    monkeypatch.setattr(law_compile, "kept", counting)

    def fresh_run():
        fresh = dataclasses.replace(scenario, schedule=dataclasses.replace(scenario.schedule))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tradesim.simulate(baseline, fresh, domestic=False)

    first = fresh_run()
    compiled = calls.count("law")
    again = fresh_run()
    assert compiled > 0 and calls.count("law") == compiled  # loaded again: nothing compiled
    kept.forget()
    assert not kept._KEPT_BY_KEY
    third = fresh_run()
    assert calls.count("law") == 2 * compiled  # forgotten: compiled again
    for a in (again, third):
        np.testing.assert_array_equal(a.flows, first.flows)


def test_a_scenario_on_a_bundled_baselines_values_keeps_its_law_for_its_next_run(monkeypatch):
    """tariffs-2025 takes its fine values from the bundled baseline us-imports-2024, which no run changes:
    its law on the parts is kept for its next run on the same baseline (the same numbers, bit for bit);
    fine values the caller passes, even the same name, are read afresh."""
    from tradesim.scenario import plan as plan_module

    scenario = tradesim.load_scenario("tariffs-2025")
    scenario = dataclasses.replace(scenario, end=scenario.start + (scenario.end - scenario.start) / 8)
    baseline = scenario.load_baseline()
    keeps = []
    original = plan_module._scenario_law
    monkeypatch.setattr(plan_module, "_scenario_law", lambda *a, **k: (keeps.append(k["keep"]), original(*a, **k))[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = tradesim.simulate(baseline, scenario).to_xarray()
        again = tradesim.simulate(baseline, scenario).to_xarray()
        assert keeps == [True]  # the second run compiled nothing
        passed = tradesim.simulate(baseline, scenario, fine_values="us-imports-2024").to_xarray()
    assert keeps == [True, False]
    for name in first.data_vars:
        assert np.array_equal(first[name].values, again[name].values, equal_nan=True), name
        assert np.array_equal(first[name].values, passed[name].values, equal_nan=True), name


def test_a_repeat_of_the_last_run_takes_its_plan_and_other_options_or_objects_make_their_own():
    """The plan of a run (law, parts, markets and what the run formed of them) is kept for a repeat on the very
    same baseline and scenario with the same model and options: the same numbers, bit for bit, with other
    elasticities too; other options, another scenario object of the same content, or `forget`, plan afresh."""
    from tradesim.scenario.plan import compile_plan

    scenario = tradesim.load_scenario("us-china-2025")
    baseline = scenario.load_baseline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(baseline, scenario, "pe", None, {"domestic": False})
        assert compile_plan(baseline, scenario, "pe", None, {"domestic": False}) is plan
        assert compile_plan(baseline, scenario, "pe", None, {"domestic": False, "tol": 1e-10}) is not plan
        first = tradesim.simulate(baseline, scenario, domestic=False)
        served = compile_plan(baseline, scenario, "pe", None, {"domestic": False})
        assert served.memo("problem_cells", lambda p: None) is not None  # what the run formed, kept with it
        again = tradesim.simulate(baseline, scenario, domestic=False)
        other = tradesim.simulate(baseline, scenario, domestic=False, elasticities={"sigma": 3.0})
        copy = dataclasses.replace(scenario)
        assert compile_plan(baseline, copy, "pe", None, {"domestic": False}) is not served
        fresh = tradesim.simulate(baseline, copy, domestic=False, elasticities={"sigma": 3.0})
        kept.forget()
        assert compile_plan(baseline, scenario, "pe", None, {"domestic": False}) is not served
    for name in ("flows", "quantity", "buyer_price", "revenue", "tariff"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
        assert np.array_equal(getattr(other, name), getattr(fresh, name)), name
    assert not np.array_equal(first.flows, other.flows)
    assert not served.flows.flags.writeable  # shared by the runs
    # the tariffs depend on the law alone: the runs of a plan share them, read-only
    assert again.tariff is other.tariff and again.tariff_reference is other.tariff_reference
    assert not (again.tariff.flags.writeable or again.tariff_reference.flags.writeable)
    assert fresh.tariff is not other.tariff


def test_keep_last_holds_one_value_per_kind_for_the_very_objects_and_an_equal_key():
    class Thing:
        pass

    a, b = Thing(), Thing()
    kept.keep_last("test", (a, b), ("pe", {"tol": 1e-9}), "value")
    assert kept.last("test", (a, b), ("pe", {"tol": 1e-9})) == "value"
    assert kept.last("test", (b, a), ("pe", {"tol": 1e-9})) is None  # the objects, in order
    assert kept.last("test", (a, Thing()), ("pe", {"tol": 1e-9})) is None
    assert kept.last("test", (a, b), ("pe", {"tol": 1e-8})) is None
    assert kept.last("other", (a, b), ("pe", {"tol": 1e-9})) is None
    kept.keep_last("test", (a, b), {"array": np.zeros(2)}, "arrays")
    assert kept.last("test", (a, b), {"array": np.zeros(2)}) is None  # not comparable as a whole: not the same
    kept.keep_last("test", (a, b), None, "again")
    del b  # held weakly: an object let go matches nothing
    assert all(kept.last("test", (a, o), None) is None for o in (Thing(), a))
    kept.keep_last("test", (a,), None, "one")
    kept.forget()
    assert kept.last("test", (a,), None) is None


def test_a_plan_keeps_what_its_runs_form_only_up_to_a_size():
    """`Plan.memo` with `most_bytes`: a value whose arrays take more is formed again by each run rather than
    held with the plan between them (a large plan's runs would otherwise hold hundreds of MB after use)."""
    from tradesim.scenario.plan import compile_plan

    scenario = tradesim.load_scenario("april-peak")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(scenario.load_baseline(), scenario, "pe", None, {"domestic": False})
    calls = []

    def build(p):
        calls.append(1)
        return {"a": np.zeros(1000), "b": (np.zeros(24, np.int32), None)}

    assert kept.nbytes(build(plan)) == 8000 + 96
    calls.clear()
    plan.memo("big", build, most_bytes=8095)
    plan.memo("big", build, most_bytes=8095)
    assert len(calls) == 2  # formed each time, never kept
    plan.memo("small", build, most_bytes=8096)
    plan.memo("small", build, most_bytes=8096)
    assert len(calls) == 3 and plan.memo("small", lambda p: None) is not None
