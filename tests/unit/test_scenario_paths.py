"""Issue 24, item 4: every path in a scenario file resolves beside the file that names it (never in the current
folder), so a file validates the same from any folder; an error in an inherited value names the file that
inherits it and the parent file and line it came from."""

import os
import textwrap
import warnings

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
