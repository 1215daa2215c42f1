"""Issue 24, item 4: every path in a scenario file resolves beside the file that names it (never in the current
folder), so a file validates the same from any folder; an error in an inherited value names the file that
inherits it and the parent file and line it came from."""

import os
import textwrap
import warnings

import numpy as np
import pytest

import tradesim
from tradesim import ScenarioError
from tradesim.cli import main
from tradesim.law import LIST_FIELDS, MEASURE_FIELDS
from tradesim.scenario import load_scenario
from tradesim.scenario.file import FILE_KEYS, scenario_files


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def project(folder, *, months: int, rate: int, decoy: bool = False):
    """A scenario (child extends parent, read against other) and every file its keys name."""
    write(folder, "flows.csv", "exporter,importer,product,value\nCHN,USA,9503,1000000000\nUSA,CHN,8542,500000000\n"
                               "VNM,USA,9503,200000000\n" + ("VNM,USA,8542,100\n" if decoy else ""))
    write(folder, "fv.csv", "product,value\n950300,1000000000\n854231,500000000\n")
    write(folder, "list.csv", "hs_code\n9503\n" if not decoy else "hs_code\n8542\n")
    write(folder, "rates.csv", f"hs_code,rate_pct\n9503,{rate}\n")
    write(folder, "sched.toml", f"""
        [[measures]]
        name = "base_duty"
        importer = "USA"
        exporters = ["CHN"]
        rate_pct = {rate}
        start = 2025-01-15
        """)
    write(folder, "parent.toml", f"""
        [scenario]
        name = "parent"
        baseline = "flows.csv"
        schedule = "sched.toml"
        start = 2025-01-01
        end = 2025-{months:02d}-28
        reference = 2024-12-31

        [[product_lists]]
        name = "toys"
        file = "list.csv"

        [[measures]]
        name = "toy_duty"
        importer = "USA"
        exporters = ["VNM"]
        products = ["toys"]
        rates_file = "rates.csv"
        start = 2025-02-01
        """)
    write(folder, "other.toml", '[scenario]\nname = "other"\nextends = "parent.toml"\n\n[remove]\nmeasures = ["toy_duty"]\n')
    return write(folder, "child.toml", '[scenario]\nname = "child"\nextends = "parent.toml"\ncompare_to = "other.toml"\n'
                                       'fine_values = "fv.csv"\n')


def summary(scenario):
    return (scenario.name, scenario.extends, scenario.baseline, scenario.fine_values, scenario.compare_to,
            scenario.start, scenario.end, len(scenario.periods()[0]),
            [(m.name, m.importer, m.exporters, m.products, m.rate, m.product_rates and dict(m.product_rates), m.start)
             for m in scenario.schedule.measures],
            {n: pl.codes for n, pl in scenario.schedule.product_lists.items()},
            scenario.against and [m.name for m in scenario.against.schedule.measures])


def test_every_path_resolves_beside_the_file_that_names_it(tmp_path, monkeypatch, capsys):
    home = tmp_path / "project"
    child = project(home, months=2, rate=25)
    project(tmp_path / "elsewhere", months=10, rate=99, decoy=True)  # same names, other content: never read
    seen, printed = [], []
    for cwd in (home, tmp_path / "elsewhere", tmp_path):
        monkeypatch.chdir(cwd)
        seen.append(summary(load_scenario(child)))
        assert main(["validate", str(child)]) == 0
        printed.append(capsys.readouterr().out)
    assert seen[0] == seen[1] == seen[2]
    assert printed[0] == printed[1] == printed[2]
    name, extends, baseline, fine, compare, start, end, periods, measures, lists, against = seen[0]
    assert periods == 2 and str(end) == "2025-02-28"
    assert baseline == str(home / "flows.csv") and fine == str(home / "fv.csv") and compare == str(home / "other.toml")
    assert lists["toys"] == ("9503",)
    assert any(m[0] == "toy_duty" and m[3] == ("toys",) and m[5] == {"9503": 0.25} for m in measures)
    assert any(m[0] == "base_duty" and m[4] == 0.25 for m in measures)
    assert "toy_duty" not in against


def test_a_path_missing_beside_the_file_is_not_looked_up_in_the_current_folder(tmp_path, monkeypatch):
    home = tmp_path / "project"
    child = project(home, months=2, rate=25)
    project(tmp_path / "cwd", months=10, rate=99)
    monkeypatch.chdir(tmp_path / "cwd")
    for name in ("parent.toml", "flows.csv", "other.toml", "fv.csv", "sched.toml", "list.csv", "rates.csv"):
        moved = home / name
        text = moved.read_bytes()
        moved.unlink()
        with pytest.raises(ScenarioError) as info:
            load_scenario(child)
        said = "\n".join(str(p) for p in (info.value.problems or [info.value]))
        assert str(home / name) in said or repr(name) in said, (name, said)
        assert str(tmp_path / "cwd" / name) not in said
        moved.write_bytes(text)
    assert load_scenario(child).name == "child"


def test_every_file_key_of_the_field_tables_is_resolved():
    keys = {k for f in (*MEASURE_FIELDS, *LIST_FIELDS) for k in f.file_keys if k == "file" or k.endswith("_file")}
    assert set(FILE_KEYS) == keys and {"file", "rates_file", "value_shares_file", "qualifying_file"} <= keys


def test_scenario_files_lists_what_the_scenario_is_read_from(tmp_path, monkeypatch):
    home = tmp_path / "project"
    child = project(home, months=2, rate=25)
    monkeypatch.chdir(tmp_path)
    roles = {(role, path.name) for role, path in scenario_files(child)}
    assert roles >= {("scenario", "child.toml"), ("extends", "parent.toml"), ("schedule", "sched.toml"),
                     ("baseline", "flows.csv"), ("fine_values", "fv.csv"), ("table", "list.csv"),
                     ("table", "rates.csv"), ("compare_to scenario", "other.toml")}
    assert all(path.is_absolute() and path.parent == home for _, path in scenario_files(child))
    bundled = [(role, p.name) for role, p in scenario_files("phased-cut")]
    assert bundled == [("scenario", "phased-cut.toml"), ("extends", "us-china-2025.toml"),
                       ("schedule", "us-china-2025.toml")]


# --------------------------------------------------------------------------- inherited values


def test_an_error_in_an_inherited_value_names_the_child_and_the_parent_line(tmp_path, capsys):
    parent = write(tmp_path, "parent.toml", """
        [scenario]
        name = "parent"
        baseline = "demo-2024"
        start = 2025-01-01
        end = 2025-12-31

        [[measures]]
        name = "eu_on_us"
        importer = "FRA"
        exporters = ["USA"]
        rate_pct = 5000
        start = 2025-06-01
        """)
    child = write(tmp_path, "child.toml", '[scenario]\nname = "child"\nextends = "parent.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    found = {p.key: p for p in info.value.problems}
    rate = found["measures[0].rate_pct"]
    assert rate.source == f"{parent}:11" and rate.line == 11
    assert f"(a value that {child} inherits from this file)" in rate.message
    assert main(["validate", str(child)]) == 2
    err = capsys.readouterr().err
    assert f"error: {parent}:11: measures[0].rate_pct: " in err and f"a value that {child} inherits" in err


def test_a_value_that_becomes_wrong_in_the_child_names_both_files(tmp_path, capsys):
    """The parent's measure is right on its own baseline; the child's baseline lacks its importer."""
    write(tmp_path, "flows.csv", "exporter,importer,product,value\nUSA,FRA,8703,1000000\n")
    parent = write(tmp_path, "parent.toml", """
        [scenario]
        baseline = "flows.csv"
        start = 2025-01-01
        end = 2025-12-31
        reference = 2024-12-31

        [[measures]]
        name = "eu_on_us"
        importer = "FRA"
        exporters = ["USA"]
        rate_pct = 25
        start = 2025-06-01
        """)
    assert load_scenario(parent).baseline.endswith("flows.csv")
    child = write(tmp_path, "child.toml", '[scenario]\nextends = "parent.toml"\nbaseline = "demo-2024"\n')
    assert main(["validate", str(child)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {parent}:9: measures[0].importer: importer 'FRA' is not on the importer axis of "
                          f"baseline 'demo-2024'")
    assert f"(a value that {child} inherits from this file)" in err


def test_an_error_in_the_childs_own_value_names_only_the_child(tmp_path):
    write(tmp_path, "parent.toml", '[scenario]\nbaseline = "demo-2024"\nstart = 2025-01-01\nend = 2025-12-31\n')
    child = write(tmp_path, "child.toml", '[scenario]\nextends = "parent.toml"\nend = 2024-01-01\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (problem,) = info.value.problems
    assert problem.source == f"{child}:3" and "inherits" not in problem.message


def test_a_value_the_child_changes_in_an_inherited_measure_is_reported_in_the_child(tmp_path):
    write(tmp_path, "parent.toml", """
        [scenario]
        baseline = "demo-2024"
        start = 2025-01-01
        end = 2025-12-31

        [[measures]]
        name = "x"
        importer = "USA"
        rate_pct = 5
        start = 2025-06-01
        """)
    child = write(tmp_path, "child.toml", '[scenario]\nextends = "parent.toml"\n\n[[measures]]\nname = "x"\n'
                                          'rate_pct = -3\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    (problem,) = info.value.problems
    assert problem.source == f"{child}:6" and problem.key == "measures[0].rate_pct"
    assert "inherits" not in problem.message


def test_the_simulation_does_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    home = tmp_path / "project"
    child = project(home, months=2, rate=25)
    project(tmp_path / "elsewhere", months=10, rate=99, decoy=True)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cwd in (home, tmp_path / "elsewhere"):
            monkeypatch.chdir(cwd)
            results.append(tradesim.simulate(None, load_scenario(child), domestic=False).summary("pair"))
    assert results[0].equals(results[1])
    assert os.path.samefile(os.getcwd(), tmp_path / "elsewhere")


# Issue 22 ("scale"): the fast scenario path (each distinct market problem solved once, unmoved markets not at all,
# products built from parts only where the path moves them) gives the numbers of the straightforward one.


def _us_china_plan(domestic):
    from tradesim.scenario.plan import compile_plan
    from tradesim.simulate import parameters_for

    scenario = load_scenario("us-china-2025")
    baseline = scenario.load_baseline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(baseline, scenario, "pe", None, {"domestic": domestic})
    return plan, parameters_for(plan.spec, scenario.elasticities, baseline)


def _both_ways(monkeypatch, plan, params, **kwargs):
    """`run_plan` by market problems, then by full solves of every regime (the straightforward way)."""
    import importlib

    simulate = importlib.import_module("tradesim.simulate")
    assert simulate.independent_markets(plan, params)
    fast = simulate.run_plan(plan, params, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(simulate, "independent_markets", lambda plan, params: False)
        slow = simulate.run_plan(plan, params, **kwargs)
    return fast, slow


def _assert_same(fast, slow):
    assert fast.keys() == slow.keys() and fast["country"].keys() == slow["country"].keys()
    for name in fast:
        pairs = fast[name].items() if name == "country" else [(name, fast[name])]
        for key, a in pairs:
            b = slow["country"][key] if name == "country" else slow[name]
            assert a.shape == b.shape, key
            scale = np.nanmax(np.abs(b)) if b.size else 0.0
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12 * scale, err_msg=key)


@pytest.mark.parametrize("domestic", [False, True])
def test_solving_each_market_problem_once_equals_solving_every_regime(monkeypatch, domestic):
    plan, params = _us_china_plan(domestic)
    markets = plan.markets
    # the dedupe is real: fewer problems than the moving markets times the solves, and not every market moves
    assert markets.problem_market.size < len(plan.keys) * markets.size
    assert markets.size < plan.flows.shape[0] * plan.flows.shape[2]
    fast, slow = _both_ways(monkeypatch, plan, params)  # pair outputs on parts
    _assert_same(fast, slow)
    fast, slow = _both_ways(monkeypatch, plan, params, products=True)  # on products, built from the moving parts
    _assert_same(fast, slow)
    assert fast["flows"].shape[1] == len(plan.split.products)


def test_market_problems_with_draws_by_pair_equal_every_regime_solved(monkeypatch):
    plan, params = _us_china_plan(False)
    rng = np.random.default_rng(3)
    drawn = {**params, "sigma": rng.uniform(1.5, 4.0, (5, plan.split.products.size, 1)),
             "eta": rng.uniform(0.5, 2.0, (5, 1, 1))}  # some per product, some for all
    fast, slow = _both_ways(monkeypatch, plan, drawn, by_pair=True, draws=True)
    _assert_same(fast, slow)
    one, _ = _both_ways(monkeypatch, plan, {k: v[:1] if np.ndim(v) == 3 else v for k, v in drawn.items()},
                        by_pair=True, draws=True)  # a draw axis of length one is kept
    assert one["flows"].shape[1] == 1
    np.testing.assert_allclose(one["flows"][:, 0], fast["flows"][:, 0], rtol=1e-12)


def test_markets_are_not_independent_with_finite_export_supply_or_in_general_equilibrium():
    import dataclasses

    from tradesim.models import get_model
    from tradesim.simulate import independent_markets

    plan, params = _us_china_plan(False)
    assert independent_markets(plan, params)
    assert not independent_markets(plan, {**params, "epsilon": 5.0})  # an exporter's markets share its price
    ge = dataclasses.replace(plan, spec=get_model("ge"))
    assert not independent_markets(ge, {"sigma": params["sigma"]})


def test_plan_collapse_equals_the_parts_collapse():
    plan, _ = _us_china_plan(False)
    assert not plan.split.trivial
    values = np.random.default_rng(0).random((3, *plan.flows.shape))
    for weights, w in ((None, None), ("flows", plan.flows), ("spending", plan.flows * (1 + plan.t0))):
        np.testing.assert_allclose(plan.collapse(values, weights), plan.split.collapse(values, w), rtol=1e-12)
