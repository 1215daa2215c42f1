"""Scenario files: every key, extends, remove, phases, and every problem reported at once with file, line and key."""

import datetime as dt
import textwrap

import pytest

from tradesim import ScenarioError
from tradesim.scenario.dynamics import Dynamics
from tradesim.scenario import load_scenario

BASE = """
[scenario]
name = "base"
description = "two measures"
baseline = "demo-2024"
start = 2025-01-01
end = 2025-12-31
frequency = "monthly"
model = "pe"
sources = ["a source"]

[elasticities]
sigma = 3.0
epsilon = inf

[dynamics]
adjustment = "partial"
half_life_months = 6

[[product_lists]]
name = "el"
codes = ["8471"]

[[measures]]
name = "us_on_cn"
importer = "USA"
exporters = ["CHN"]
exclude = ["el"]
rate_pct = 125
start = 2025-04-10
end = 2025-12-01
announced = 2025-04-09

[[measures]]
name = "cn_on_us"
importer = "CHN"
exporters = ["USA"]
rate_pct = 125
start = 2025-04-12
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [(p.source, p.key, p.message) for p in (info.value.problems or [info.value])]


def test_reads_every_key(tmp_path):
    s = load_scenario(write(tmp_path, "base.toml", BASE))
    assert (s.name, s.baseline, s.start, s.end, s.model) == ("base", "demo-2024", dt.date(2025, 1, 1),
                                                             dt.date(2025, 12, 31), "pe")
    assert s.elasticities.sigma == 3.0 and s.elasticities.epsilon == float("inf")
    assert s.elasticities.sources["sigma"] == "user"
    assert s.dynamics == Dynamics(adjustment="partial", half_life_months=6)
    assert [m.name for m in s.schedule.measures] == ["us_on_cn", "cn_on_us"]
    assert s.schedule.measure("us_on_cn").announced == dt.date(2025, 4, 9)
    assert s.schedule.rate("2025-05-01", "9503", "CHN", "USA") == pytest.approx(1.25)
    assert s.schedule.rate("2025-05-01", "847130", "CHN", "USA") == 0.0
    assert s.sources == ("a source",) and s.extends == ()


def test_extends_overrides_keys_removes_and_adds(tmp_path):
    write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", """
        [scenario]
        extends = "base.toml"
        description = "a variant"
        end = 2026-06-30
        sources = ["another"]

        [elasticities]
        eta = 2.0

        [[measures]]
        name = "us_on_cn"
        rate_pct = 30
        exclude = []

        [[measures]]
        name = "new_one"
        importer = "USA"
        exporters = ["VNM"]
        rate_pct = 46
        start = 2025-04-09

        [remove]
        measures = ["cn_on_us"]
        """)
    s = load_scenario(child)
    assert s.name == "child" and s.extends == ("base.toml",) and s.description == "a variant"
    assert s.end == dt.date(2026, 6, 30) and s.start == dt.date(2025, 1, 1)
    assert (s.elasticities.sigma, s.elasticities.eta) == (3.0, 2.0)
    assert s.dynamics.adjustment == "partial"
    us = s.schedule.measure("us_on_cn")
    assert (us.rate, us.exclude, us.end) == (0.30, (), dt.date(2025, 12, 1))  # end kept from the parent
    assert [m.name for m in s.schedule.measures] == ["us_on_cn", "new_one"]
    assert s.sources == ("a source", "another")


def test_phases_split_a_measure_into_steps(tmp_path):
    write(tmp_path, "base.toml", BASE)
    s = load_scenario(write(tmp_path, "cut.toml", """
        [scenario]
        extends = "base.toml"

        [[phases]]
        measure = "us_on_cn"
        to_pct = 30
        steps = 3
        every = "1 month"
        start = 2025-06-01

        [[phases]]
        measure = "cn_on_us"
        path = [{ date = 2025-05-14, rate_pct = 10 }, { date = 2025-09-01, rate_pct = 34 }]
        """))
    rate = lambda d: round(100 * s.schedule.rate(d, "9503", "CHN", "USA"), 6)  # noqa: E731
    assert [rate(d) for d in ["2025-05-31", "2025-06-01", "2025-07-01", "2025-08-01", "2025-11-30", "2025-12-01"]] == \
        pytest.approx([125, 93.333333, 61.666667, 30, 30, 0])
    back = lambda d: round(100 * s.schedule.rate(d, "1201", "USA", "CHN"), 6)  # noqa: E731
    assert [back(d) for d in ["2025-05-13", "2025-05-14", "2025-09-01", "2026-03-01"]] == [125, 10, 34, 34]
    assert [str(d) for d, _ in s.phases[0].steps] == ["2025-06-01", "2025-07-01", "2025-08-01"]
    assert "us_on_cn@2025-07-01" in [m.name for m in s.schedule.measures]


def test_a_measure_that_replaces_a_phased_one_replaces_its_steps(tmp_path):
    s = load_scenario(write(tmp_path, "s.toml", BASE + """
        [[measures]]
        name = "autos"
        importer = "USA"
        exporters = ["CHN"]
        products = ["8703"]
        rate_pct = 25
        start = 2025-01-01
        replaces = ["us_on_cn"]

        [[phases]]
        measure = "us_on_cn"
        to_pct = 50
        steps = 1
        start = 2025-06-01
        """))
    assert s.schedule.rate("2025-07-01", "8703", "CHN", "USA") == pytest.approx(0.25)
    assert s.schedule.rate("2025-07-01", "9503", "CHN", "USA") == pytest.approx(0.50)


def test_every_problem_is_reported_with_file_line_and_key(tmp_path):
    path = write(tmp_path, "bad.toml", """
        [scenario]
        baseline = "demo-2024"
        start = 2025-06-01
        end = 2025-01-01
        frequency = "fortnightly"
        colour = "red"

        [elasticities]
        sigma = -1

        [dynamics]
        adjustment = "fast"

        [[measures]]
        name = "m"
        importer = "FRA"
        exporters = ["CHN"]
        rate_pct = 25
        start = 2025-02-01

        [[phases]]
        measure = "nope"
        to_pct = 10
        steps = 2
        every = "90 days"
        start = 2025-03-01

        [[phases]]
        measure = "m"
        to_pct = 10
        steps = 0
        start = 2025-03-01

        [[phases]]
        measure = "m"
        path = [{ date = 2025-09-01, rate_pct = 10 }, { date = 2025-08-01, rate_pct = 5 }]
        """)
    found = problems(path)
    keys = {key for _, key, _ in found}
    assert {"scenario.end", "scenario.frequency", "scenario.colour", "elasticities.sigma", "dynamics.adjustment",
            "measures[0].importer", "phases[0].measure", "phases[1].steps", "phases[2].path"} <= keys
    assert all(src.startswith(str(path)) for src, _, _ in found)
    text = path.read_text().splitlines()
    lines = {p.key: p.line for p in ScenarioErrorList(path)}
    assert text[lines["scenario.frequency"] - 1].startswith("frequency")
    assert text[lines["phases[1].steps"] - 1].startswith("steps = 0")
    messages = {key: msg for _, key, msg in found}
    assert "not on the importer axis of baseline 'demo-2024'" in messages["measures[0].importer"]
    assert "dates out of order" in messages["phases[2].path"]
    assert "did you mean" in messages["scenario.colour"] or "expected one of" in messages["scenario.colour"]


def ScenarioErrorList(path):  # noqa: N802 (a helper that reads like the error type)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_problems_in_a_parent_name_the_parent_file(tmp_path):
    write(tmp_path, "base.toml", BASE.replace("rate_pct = 125\nstart = 2025-04-12", "rate_pct = 5000\nstart = 2025-04-12"))
    child = write(tmp_path, "child.toml", '[scenario]\nextends = "base.toml"\n\n[[measures]]\nname = "us_on_cn"\nrate_pct = -3\n')
    found = problems(child)
    assert (str(tmp_path / "child.toml") + ":6", "measures[0].rate_pct") in [(s, k) for s, k, _ in found]
    assert any(s.startswith(str(tmp_path / "base.toml")) and k == "measures[1].rate_pct" for s, k, _ in found)


@pytest.mark.parametrize("extends, message", [("nowhere", "no bundled scenario or file 'nowhere'"),
                                              ("self.toml", "extends itself")])
def test_extends_unknown_or_itself(tmp_path, extends, message):
    path = write(tmp_path, "self.toml", f'[scenario]\nextends = "{extends}"\n')
    ((src, key, msg),) = problems(path)
    assert key == "scenario.extends" and message in msg and src == f"{path}:2"


def test_a_cycle_of_extends_is_reported(tmp_path):
    write(tmp_path, "a.toml", '[scenario]\nextends = "b.toml"\n')
    write(tmp_path, "b.toml", '[scenario]\nextends = "a.toml"\n')
    ((_, key, msg),) = problems(tmp_path / "a.toml")
    assert key == "scenario.extends" and "a.toml -> b.toml -> a.toml" in msg


def test_missing_and_malformed_files(tmp_path):
    ((src, _, msg),) = problems(tmp_path / "missing.toml")
    assert "no bundled scenario or file" in msg
    bad = write(tmp_path, "broken.toml", '[scenario]\nname = "x\n')
    ((src, _, msg),) = problems(bad)
    assert src == f"{bad}:2" and "TOML syntax error" in msg


def test_phase_on_a_removed_measure_and_a_step_after_the_end(tmp_path):
    write(tmp_path, "base.toml", BASE)
    path = write(tmp_path, "c.toml", """
        [scenario]
        extends = "base.toml"

        [remove]
        measures = ["cn_on_us", "ghost"]

        [[phases]]
        measure = "cn_on_us"
        path = [{ date = 2025-06-01, rate_pct = 10 }]

        [[phases]]
        measure = "us_on_cn"
        path = [{ date = 2026-06-01, rate_pct = 10 }]
        """)
    found = {key: msg for _, key, msg in problems(path)}
    assert "no inherited measure 'ghost'" in found["remove.measures"]
    assert "no measure 'cn_on_us' to phase" in found["phases[0].measure"]
    assert "not before the measure's end 2025-12-01" in found["phases[1].path"]


def test_required_keys_and_a_missing_baseline_file(tmp_path):
    found = {key: msg for _, key, msg in problems(write(tmp_path, "e.toml", '[scenario]\nbaseline = "flows.csv"\n'))}
    assert "no bundled baseline 'flows.csv' and no file" in found["scenario.baseline"]
    assert "missing keys ['start', 'end']" in found["scenario"]


def test_the_documented_example_is_valid(tmp_path):
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "scenarios.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```toml\n(.*?)```", doc, flags=re.S)
    s = load_scenario(write(tmp_path, "my-cut.toml", example))
    assert s.name == "my-cut" and s.extends == ("april-peak", "us-china-2025")
    assert s.dynamics.front_loading == 1.0 and s.elasticities.values_for("sigma", ["8703", "01"]).tolist() == [3.0, 2.75]
    assert s.schedule.rate("2025-09-10", "950300", "CHN", "USA") == pytest.approx(0.20 + 0.48333333 + 0.10)
    assert s.schedule.rate("2025-11-20", "950300", "CHN", "USA") == pytest.approx(0.10 + 0.10 + 0.10)  # last step
    assert "us_s232_buses_10" not in [m.name for m in s.schedule.measures]
    assert (s.fine_values, s.world_baseline, s.world_fine_values) == ("fine-values-2024", "demo-2024",
                                                                      "fine-values-2024")


def test_a_model_needing_every_country_on_both_axes_runs_on_the_scenarios_world_baseline():
    import tradesim

    s = tradesim.load_scenario("liberation-day")  # on US imports; read against tariffs-2025
    assert (s.world_baseline, s.world_fine_values) == ("demo-2024", "fine-values-2024")
    us = s.load_baseline()
    assert s.for_model("pe", us) == (s, us, None)  # PE takes the rectangle as it is
    world, baseline, note = s.for_model("ge", us)
    assert (world.baseline, world.fine_values, baseline.square, len(baseline.countries)) == (
        "demo-2024", "fine-values-2024", True, 16)
    assert (world.against.baseline, world.against.fine_values) == ("demo-2024", "fine-values-2024")
    assert world.schedule is s.schedule and world.phases == s.phases  # the same law and path
    assert note == ("model 'ge' needs every country on both axes: this run is on demo-2024 (16 economies, 98 "
                    "products), the scenario's world baseline, not on us-imports-2024 (51 exporters, 1 importer(s))")
    # a square baseline, or a scenario that names no world baseline, runs where it is
    demo = tradesim.load_scenario("us-china-2025")
    assert demo.world_baseline is None and demo.for_model("ge", baseline)[2] is None
