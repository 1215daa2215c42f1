"""Issue 24, item 3: a size estimate before any work (periods, pieces, regimes, measures, memory, time), runs that
cannot fit refused up front with what to change, and phases whose cost is linear in their steps."""

import dataclasses
import datetime as dt
import re
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import tradesim
from tradesim import InputError, kept
from tradesim.cli import main
from tradesim.scenario import budget, dynamics, load_scenario
from tradesim.scenario.plan import compile_plan


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo():
    return tradesim.load_baseline("demo-2024")


# --------------------------------------------------------------------------- counting without building


@settings(max_examples=300, deadline=None)
@given(start=st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)), days=st.integers(0, 3000),
       frequency=st.sampled_from(sorted(dynamics.FREQUENCIES)))
def test_count_periods_matches_the_grid(start, days, frequency):
    end = start + dt.timedelta(days=days)
    starts, ends = dynamics.periods(start, end, frequency)
    assert budget.count_periods(start, end, frequency) == len(starts)
    assert budget._next_anchor(end, frequency) == ends[-1].date()


def test_a_million_periods_are_counted_at_once():
    assert budget.count_periods(dt.date(1025, 3, 1), dt.date(2026, 12, 31), "daily") == 365_914
    assert budget.count_periods(dt.date(1, 1, 1), dt.date(9999, 12, 31), "daily") == 3_652_059


@pytest.mark.parametrize("name", ["april-peak", "us-china-2025", "phased-cut", "truce-lapse"])
@pytest.mark.parametrize("frequency", ["monthly", "weekly", "quarterly"])
def test_the_estimate_counts_what_the_plan_builds(name, frequency, demo):
    scenario = dataclasses.replace(load_scenario(name), frequency=frequency)
    e = budget.estimate(scenario, demo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(demo, scenario, scenario.model, None, {})
    assert (e.periods, e.pieces, e.regimes) == (len(scenario.periods()[0]), len(plan.parts.start),
                                               len(plan.regime_days))
    assert e.measures == len(scenario.schedule.measures)
    assert (e.products, e.exporters, e.importers) == demo.flows.shape
    assert e.traded == int((demo.flows > 0).sum())
    assert 0 < e.law_bytes and 0 < e.path_bytes and e.bytes == e.law_bytes + e.path_bytes
    assert 0 < e.seconds < 600


@pytest.mark.parametrize("name, model, baseline, fine_values, end", [
    ("us-china-2025", "pe", None, None, None),  # demo-2024 with fine-values-2024
    ("us-china-2025", "pe", "demo-2024", None, None),  # without fine values: the law cuts chapters by subheadings
    ("tariffs-2025", "pe", None, None, dt.date(2025, 9, 30)),  # us-imports-2024, at tariff lines
    ("tariffs-2025", "pe", "demo-2024", "fine-values-2024", dt.date(2025, 9, 30)),  # ~10,000 parts of chapters
    ("us-china-2025", "ge", None, None, dt.date(2025, 6, 30)),  # [regime, part, exporter, importer] arrays
])
def test_the_estimate_is_near_the_measured_peak(name, model, baseline, fine_values, end):
    """The memory estimate against the peak `tracemalloc` measures for the same run: the factors were fitted on
    such peaks, and a run must be neither refused for a tenth of a machine nor let through at half its need."""
    import tracemalloc

    scenario = load_scenario(name)
    if baseline is not None:
        scenario = scenario.on_baseline(baseline, fine_values)
    if end is not None:
        scenario = dataclasses.replace(scenario, end=end)
    baseline = scenario.load_baseline()
    e = budget.estimate(scenario, baseline, model=model)
    assert e.model == model
    kept.forget(tables=True)  # a first run, as the factors were fitted on (nothing read or compiled before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            tradesim.simulate(baseline, scenario, model=model)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # high up to 3x where most cells of a moving market keep their tariff and share one path (us-china-2025), which
    # counting parts and regimes cannot see; erring high is the safe side (see the table in tradesim.scenario.budget)
    assert 0.5 < e.bytes / peak < 3.2, (e.describe(), peak)


def test_the_estimate_is_cheap_and_grows_with_the_grid(demo):
    s = load_scenario("us-china-2025")
    monthly = budget.estimate(s, demo)
    daily = budget.estimate(dataclasses.replace(s, frequency="daily"), demo)
    ancient = budget.estimate(dataclasses.replace(s, start=dt.date(1025, 3, 1), reference=dt.date(1025, 1, 1),
                                                  frequency="daily"), demo)
    assert monthly.bytes < daily.bytes < ancient.bytes
    assert ancient.periods == 365_914 and ancient.bytes > 100 * 2**30  # the run that died allocating 67 GiB
    draws = budget.estimate(s, demo, draws=1000)
    assert draws.draws == 1000 and draws.seconds > monthly.seconds
    cells = budget.estimate(s, demo, cell_table=True)
    assert cells.bytes >= monthly.bytes and cells.cell_table
    assert budget.estimate(s, demo, model_cells=2 * demo.flows.size).path_bytes > monthly.path_bytes
    record = monthly.to_dict()
    assert record["start"] == "2025-01-01" and record["periods"] == 24


def test_check_refuses_with_the_estimate_and_what_to_change(demo):
    s = dataclasses.replace(load_scenario("us-china-2025"), start=dt.date(1025, 3, 1), reference=dt.date(1025, 1, 1),
                            frequency="daily")
    e = budget.estimate(s, demo)
    with pytest.raises(InputError) as info:
        budget.check(e, limit_bytes=8 * 2**30)
    err = info.value
    assert err.key == "scenario.frequency" and err.source == s.source
    assert "365,914 daily periods" in err.message and "more than the limit of 8.0 GiB" in err.message
    assert "shorten the range (1025-03-01 to 2026-12-31" in err.message
    assert "coarser frequency (weekly or monthly)" in err.message
    assert budget.check(budget.estimate(load_scenario("april-peak"), demo)) is not None  # fits: returned


def test_check_names_phases_when_regimes_drive_the_memory(demo, tmp_path):
    path = write(tmp_path, "steps.toml", PHASED.format(steps=400))
    e = budget.estimate(load_scenario(path), demo)
    assert e.phase_steps == 400 and e.regimes > 400
    with pytest.raises(InputError, match=r"use fewer phase steps \(400\)") as info:
        budget.check(e, limit_bytes=e.law_bytes - 1)
    assert info.value.key == "phases"


def test_the_default_limit(monkeypatch):
    assert budget.memory_limit() > 0
    import os

    monkeypatch.setattr(os, "sysconf", lambda name: 1000 if name == "SC_PAGE_SIZE" else 2**20)
    assert budget.memory_limit() == int(0.6 * 1000 * 2**20)

    def unknown(name):
        raise ValueError(name)

    monkeypatch.setattr(os, "sysconf", unknown)
    assert budget.memory_limit() == 8 * 2**30


def test_check_takes_what_estimate_returns(demo):
    s = load_scenario("april-peak")
    assert budget.check(budget.estimate(s, demo)).scenario == "april-peak"


# --------------------------------------------------------------------------- the command line


def test_validate_prints_the_estimate_and_refuses_what_cannot_fit(tmp_path, capsys):
    assert main(["validate", "april-peak"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok: ")
    assert re.match(r"estimate: 12 monthly periods, \d+ pieces, \d+ tariff regimes, .*cut into at most 11,090 parts",
                    out[1])
    old = write(tmp_path, "old.toml", '[scenario]\nextends = "us-china-2025"\nstart = 1025-03-01\n'
                                      'reference = 1025-01-01\nfrequency = "daily"\n')
    assert main(["validate", str(old)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {old}: scenario.frequency: scenario 'old' would need about ")
    assert "365,914 daily periods" in err and "coarser frequency" in err and "Traceback" not in err
    assert main(["validate", "april-peak", "--max-memory", "1M"]) == 2
    assert "more than the limit of 1.0 MiB" in capsys.readouterr().err
    assert main(["validate", "april-peak", "--max-memory", "lots"]) == 2
    assert "--max-memory: 'lots' is not a size" in capsys.readouterr().err


def test_run_refuses_before_any_work(tmp_path, capsys, monkeypatch):
    old = write(tmp_path, "old.toml", '[scenario]\nextends = "us-china-2025"\nstart = 1025-03-01\n'
                                      'reference = 1025-01-01\nfrequency = "daily"\n')
    calls = []
    module = sys.modules["tradesim.simulate"]
    monkeypatch.setattr(module, "simulate", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(tradesim.ensemble, "run", lambda *a, **k: calls.append(a))
    for extra in ([], ["--draws", "10"]):
        assert main(["run", str(old), "--out", str(tmp_path / "o"), *extra]) == 2
        assert "would need about" in capsys.readouterr().err
    assert calls == [] and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- phases: linear work

PHASED = """
[scenario]
extends = "us-china-2025"
end = 2027-12-31

[[measures]]
name = "ph"
importer = "USA"
exporters = ["CHN"]
rate_pct = 50
start = 2025-01-05

[[phases]]
measure = "ph"
to_pct = 10
steps = {steps}
every = "1 day"
start = 2025-02-01
"""


def _count(monkeypatch, tmp_path, steps: int) -> dict:
    """Measures made and schedules built while reading a scenario with a phase of `steps` steps."""
    from tradesim.law import measure as measure_module
    from tradesim.scenario import file as file_module

    counts = {"measures": 0, "schedules": 0}
    post_init = measure_module.Measure.__post_init__

    def counted(self):
        counts["measures"] += 1
        post_init(self)

    schedule_class = file_module.TariffSchedule

    def schedule(*args, **kwargs):
        counts["schedules"] += 1
        return schedule_class(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(measure_module.Measure, "__post_init__", counted)
        m.setattr(file_module, "TariffSchedule", schedule)
        scenario = load_scenario(write(tmp_path, f"p{steps}.toml", PHASED.format(steps=steps)))
    counts["steps"] = sum(1 for x in scenario.schedule.measures if x.name.startswith("ph@"))
    counts["total"] = len(scenario.schedule.measures)
    return counts


def test_a_phase_makes_one_measure_per_step_and_the_work_is_linear(monkeypatch, tmp_path):
    c = {n: _count(monkeypatch, tmp_path, n) for n in (50, 100, 200, 400)}
    for n, found in c.items():
        assert found["steps"] == n  # one measure per step
        assert found["total"] == c[50]["total"] + (n - 50)
    # the schedules built do not grow with the steps; the measures made grow by the same amount per step
    assert len({found["schedules"] for found in c.values()}) == 1
    per_step = [(c[b]["measures"] - c[a]["measures"]) / (b - a) for a, b in ((50, 100), (100, 200), (200, 400))]
    assert per_step[0] == per_step[1] == per_step[2] and per_step[0] <= 4


def test_apply_phases_copies_each_measure_once(monkeypatch):
    from tradesim.scenario import phases

    m = tradesim.Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])
    other = tradesim.Measure("y", "USA", 0.1, "2025-01-01", exporters=["VNM"])
    made = []
    replace = phases.dataclasses.replace

    class Counting:
        @staticmethod
        def replace(obj, **changes):
            made.append(type(obj).__name__)
            return replace(obj, **changes)

    monkeypatch.setattr(phases, "dataclasses", Counting)
    for n in (10, 100, 1000):
        made.clear()
        p = phases.Phase("x", to_rate=0.1, count=n, first=dt.date(2025, 2, 1), every=pd.DateOffset(days=1))
        out, applied, problems = phases.apply_phases((m, other), (p,))
        assert not problems and len(out) == n + 2
        assert made.count("Measure") == n + 1  # the measure cut at the first step, and one per step
        last = dt.date(2025, 2, 1) + dt.timedelta(days=n - 1)
        assert out[-1] is other  # untouched: not copied
        assert out[-2].name == f"x@{last}" and np.isclose(out[-2].rate, 0.1)


def test_a_sparse_baseline_is_estimated_from_its_cells():
    import warnings

    import tradesim
    from tradesim.scenario import budget

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        s = tradesim.load_scenario("us-china-2025")
    dense = s.load_baseline()
    sparse = dense.with_layout("sparse")
    assert dataclasses.replace(budget.estimate(s, sparse), sparse=False) == budget.estimate(s, dense)
    assert budget.estimate(s, sparse).traded == int((dense.flows > 0).sum())
    assert "flows" not in vars(sparse)  # its dense flows were not built to count them


def test_python_runs_refuse_what_cannot_fit_before_any_work(monkeypatch):
    # the same estimate as the command line's, in simulate and ensemble.run; math.inf checks nothing
    import math

    calls = []
    monkeypatch.setattr(sys.modules["tradesim.simulate"], "_simulate_path", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(tradesim.ensemble, "compile_plan", lambda *a, **k: calls.append(a))
    s = load_scenario("us-china-2025")
    with pytest.raises(InputError, match=r"would need about .* more than the limit of 1.0 MiB.*fine values at fewer "
                                         r"lines") as err:
        tradesim.simulate(None, s, max_memory=2**20)
    assert err.value.key == "scenario.end" and err.value.source == s.source  # its regimes on ~11,000 parts
    with pytest.raises(InputError, match=r"more than the limit of 100.0 MiB.*1,000 draws"):
        tradesim.ensemble.run(None, s, draws=1000, max_memory=100 * 2**20)
    assert calls == []  # nothing ran
    tradesim.simulate(None, s, max_memory=math.inf)
    assert len(calls) == 1


def test_a_sparse_baseline_too_large_for_a_path_says_when_the_path_stays_on_its_cells():
    sparse = tradesim.load_baseline("demo-2024").with_layout("sparse")
    e = budget.estimate(load_scenario("us-china-2025"), sparse)
    assert e.sparse and not budget.estimate(load_scenario("us-china-2025"), sparse.with_layout("dense")).sparse
    with pytest.raises(InputError, match=r"stored on its cells that trade, and a scenario's path stays on them only "
                                         r"where every market clears by itself \(PE with perfectly elastic export "
                                         r"supply.*simulate\(baseline, \(schedule, day\), \(schedule, day\)\)"):
        budget.check(e, limit_bytes=2**20)


# --------------------------------------------------------------------------- parts the law cuts products into


def _small_world():
    """Three economies at three HS chapters; the US law lists lines of chapters 85 and 01."""
    countries, products = ("CHN", "USA", "ROW"), ("01", "84", "85")
    flows = np.zeros((3, 3, 3))
    flows[2, 0, 1] = flows[2, 2, 1] = flows[2, 0, 0] = 10.0  # 85: CHN->USA, ROW->USA, CHN at home
    flows[1, 0, 1] = flows[1, 1, 0] = 5.0  # 84: not cut (the law names no line of it)
    flows[0, 2, 1] = 1.0  # 01: cut, with no fine values under it
    baseline = tradesim.Baseline(countries, products, flows, year=2024)
    schedule = tradesim.TariffSchedule([
        tradesim.Measure("a", "USA", 0.25, "2025-02-04", products=["850110"]),
        tradesim.Measure("b", "USA", 0.10, "2025-03-04", products=["010121"]),
        tradesim.Measure("c", "USA", 0.10, "2025-03-04", products=["84"]),
    ])
    fine = pd.DataFrame({
        "exporter": ["CHN", "ROW", "ROW", "CHN", "CHN", "CHN"],
        "importer": ["USA", "USA", "USA", "USA", "USA", "CHN"],
        "member": ["", "VNM", "MEX", "", "", ""],
        "product": ["850110", "850120", "850110", "8501", "847130", "85"],
        "value": [5.0, 3.0, 2.0, 1.0, 4.0, 7.0],
    })
    scenario = dataclasses.replace(load_scenario("us-china-2025"), schedule=schedule, fine_values=None,
                                   phases=(), start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30))
    return scenario, baseline, fine


def test_the_part_count_by_hand():
    scenario, baseline, fine = _small_world()
    parts, traded = budget.count_parts(scenario, baseline, fine)
    # 85: its lines 850110, 850120, 8501 (the table's "85" is the product itself) -> 3 parts, on 3 traded cells;
    # 84: the law names no finer line -> 1 part, 2 cells; 01: no fine values -> its HS 2022 subheadings, 1 cell
    subheadings = tradesim.codes.hs_subheadings("01").size
    assert subheadings == 34
    assert (parts, traded) == (3 + 1 + subheadings, 3 * 3 + 2 + subheadings)
    # the law's real parts are no more
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        real = scenario.schedule.parts_path(["2025-01-01", "2025-06-30"], baseline.products, baseline.exporters,
                                            baseline.importers, fine_values=fine, cells=baseline.flows > 0)
    assert real.parent.size <= parts and int((real.expand(baseline.flows) > 0).sum()) <= traded
    # without fine values, each cut chapter counts its subheadings; a law that cuts nothing leaves the products
    assert budget.count_parts(scenario, baseline)[0] == tradesim.codes.hs_subheadings("85").size + 1 + subheadings
    whole = dataclasses.replace(scenario, schedule=tradesim.TariffSchedule([scenario.schedule.measures[2]]))
    assert budget.count_parts(whole, baseline, fine) == (3, int((baseline.flows > 0).sum()))
    e = budget.estimate(scenario, baseline, fine_values=fine)
    assert (e.parts, e.traded_parts) == (parts, traded) and "cut into at most 38 parts" in e.describe()


def test_the_part_count_is_near_the_law_s_and_cheap():
    import time

    scenario = load_scenario("tariffs-2025").on_baseline("demo-2024", "fine-values-2024")
    baseline = scenario.load_baseline()
    budget.count_parts(scenario, baseline)  # the fine values' codes read once
    began = time.perf_counter()
    parts, traded = budget.count_parts(scenario, baseline)
    assert time.perf_counter() - began < 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = compile_plan(baseline, scenario, "pe", None, {})
    real_parts, real_traded = plan.split.parent.size, int((plan.flows > 0).sum())
    assert real_parts > 10 * len(baseline.products)  # the law cuts chapters into ~10,000 parts
    assert real_parts <= parts <= 1.2 * real_parts
    assert real_traded <= traded <= 1.2 * real_traded
