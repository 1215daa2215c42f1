"""Issue 24, bad input: every case is a clear error (exit status 2 on stderr, InputError/ScenarioError in Python)
naming the file, key and value, with no traceback and no output folder left behind."""

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import tradesim
from tradesim import InputError, ScenarioError
from tradesim.cli import main
from tradesim.files import load_toml, parse_date, read_table

EXE = Path(sys.executable).parent / "tradesim"


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding=encoding)
    return path


def fails(argv, capsys, *expected):
    """main(argv) exits 2 with one or more `error:` lines on stderr that hold every expected text."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    for text in expected:
        assert text in captured.err, captured.err
    return captured.err


# --------------------------------------------------------------------------- a failing run leaves nothing


def test_a_failing_run_creates_no_output_folder(tmp_path, capsys):
    out = tmp_path / "results"
    fails(["run", "nosuch", "--out", str(out)], capsys, "no bundled scenario or file 'nosuch'")
    bad = write(tmp_path, "bad.toml", '[scenario]\nextends = "us-china-2025"\nend = 2024-06-01\n')
    fails(["run", str(bad), "--out", str(out)], capsys, f"{bad}:3: scenario.end")
    fails(["run", "april-peak", "--out", str(out), "--seed", "-1", "--draws", "2"], capsys, "--seed")
    fails(["run", "april-peak", "--out", str(out / "deeper"), "--max-memory", "1M"], capsys, "would need about")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# --------------------------------------------------------------------------- files that are not what they say


def test_a_scenario_file_that_is_not_utf8(tmp_path, capsys):
    path = write(tmp_path, "latin.toml", b'[scenario]\nname = "caf\xe9"\nextends = "us-china-2025"\n')
    fails(["validate", str(path)], capsys, f"error: {path}:2: the file is not UTF-8 text (byte 0xe9 at offset 22)")
    fails(["run", str(path), "--out", str(tmp_path / "o")], capsys, "not UTF-8")
    assert not (tmp_path / "o").exists()
    with pytest.raises(ScenarioError, match="not UTF-8") as info:
        tradesim.load_scenario(path)
    assert info.value.line == 2
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_toml(path)


def test_a_schedule_file_that_is_not_utf8(tmp_path, capsys):
    schedule = write(tmp_path, "s.toml", b'[[measures]]\nname = "caf\xe9"\nimporter = "USA"\nrate_pct = 5\n'
                                         b'start = 2025-01-01\n')
    fails(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", "2025-04-14",
           "--schedule", str(schedule)], capsys, f"{schedule}:2", "not UTF-8")
    scenario = write(tmp_path, "sc.toml", '[scenario]\nextends = "us-china-2025"\nschedule = "s.toml"\n')
    fails(["validate", str(scenario)], capsys, f"{schedule}:2", "not UTF-8")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        tradesim.TariffSchedule.from_file(schedule)


@pytest.mark.parametrize("content", [b"", b"PAR1 this is not a parquet file PAR1"], ids=["empty", "corrupt"])
def test_an_empty_or_corrupt_parquet_file(tmp_path, capsys, content):
    pytest.importorskip("pyarrow")
    path = write(tmp_path, "flows.parquet", content)
    fails(["baseline", str(path)], capsys, f"error: {path}", "cannot read the file as Parquet")
    scenario = write(tmp_path, "s.toml", '[scenario]\nextends = "us-china-2025"\nbaseline = "flows.parquet"\n')
    fails(["validate", str(scenario)], capsys, "scenario.baseline", str(path), "Parquet")
    fails(["run", str(scenario), "--out", str(tmp_path / "o")], capsys, "Parquet")
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="cannot read the file as Parquet") as info:
        read_table(path)
    assert info.value.source == str(path)


def test_a_csv_with_a_header_and_no_rows_is_not_a_baseline(tmp_path, capsys):
    path = write(tmp_path, "flows.csv", "exporter,importer,product,value\n")
    fails(["baseline", str(path)], capsys, f"error: {path}: no rows")
    scenario = write(tmp_path, "s.toml", '[scenario]\nextends = "us-china-2025"\nbaseline = "flows.csv"\n')
    fails(["validate", str(scenario)], capsys, f"{scenario}:3: scenario.baseline", f"{path}: no rows")
    fails(["run", str(scenario), "--out", str(tmp_path / "o")], capsys, "no rows")
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="no rows") as info:
        tradesim.read_flows(path)
    assert str(path) in str(info.value)
    with pytest.raises(InputError, match="no rows"):
        read_table(path)


# --------------------------------------------------------------------------- values


def test_a_negative_seed(capsys):
    err = fails(["run", "april-peak", "--draws", "2", "--seed", "-1"], capsys)
    assert err == "error: --seed: -1 is not a seed: expected a whole number 0 or more\n"


def test_a_compare_to_name_with_a_nul_byte_fails_at_validation(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, "nul.toml", '[scenario]\nextends = "us-china-2025"\ncompare_to = "a\\u0000b"\n')
    err = fails(["validate", str(path)], capsys, f"{path}:3: scenario.compare_to", r"'a\x00b'")
    assert "\\\\x00" not in err  # shown once escaped, not twice
    # and `run` refuses before any model runs
    module = sys.modules["tradesim.simulate"]

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(module, "simulate", no_model)
    fails(["run", str(path), "--out", str(tmp_path / "o")], capsys, "scenario.compare_to")
    assert not (tmp_path / "o").exists()
    with pytest.raises(ScenarioError, match="compare_to"):
        tradesim.load_scenario(path)


def test_two_measures_of_one_name_in_one_file(tmp_path, capsys):
    path = write(tmp_path, "twice.toml", """
        [scenario]
        extends = "us-china-2025"

        [[measures]]
        name = "x"
        importer = "USA"
        exporters = ["CHN"]
        products = ["9503"]
        rate_pct = 5
        start = 2025-06-01

        [[measures]]
        name = "x"
        importer = "USA"
        exporters = ["CHN"]
        rate_pct = 7
        start = 2025-06-01
        """)
    fails(["validate", str(path)], capsys, f"{path}:14: measures[1].name",
          "measure 'x' is defined twice in this file (also measures[0])")
    with pytest.raises(ScenarioError, match="defined twice"):
        tradesim.load_scenario(path)


BAD_DATES = ["04/05/2025", "25-04-14", "2025-4-5", "5 April 2025", "20250405"]


@pytest.mark.parametrize("value", BAD_DATES)
def test_dates_that_are_not_iso_are_refused_everywhere(value, capsys, tmp_path):
    # the command line
    fails(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", value], capsys,
          f"error: --date: {value!r} is not a date: expected YYYY-MM-DD")
    fails(["rates", "--from", value], capsys, f"error: --from: {value!r} is not a date: expected YYYY-MM-DD")
    fails(["rates", "--to", value], capsys, f"error: --to: {value!r} is not a date")
    # parse_date, Measure, simulate with (schedule, date), schedules, scenario files
    with pytest.raises(InputError, match="expected YYYY-MM-DD"):
        parse_date(value)
    with pytest.raises(InputError, match=r"start: .* is not a date: expected YYYY-MM-DD"):
        tradesim.Measure("x", "USA", 0.1, value)
    m = tradesim.Measure("x", "USA", 0.1, "2025-01-01")
    with pytest.raises(InputError, match="expected YYYY-MM-DD"):
        m.in_force(value)
    schedule = tradesim.TariffSchedule([m])
    base = tradesim.load_baseline("demo-2024")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="expected YYYY-MM-DD"):
            tradesim.simulate(base, (schedule, "2024-12-31"), (schedule, value), domestic=False)
        with pytest.raises(InputError, match="expected YYYY-MM-DD"):
            schedule.explain(value, "9503", "CHN", "USA")
    path = write(tmp_path, "d.toml", f'[scenario]\nextends = "us-china-2025"\nstart = "{value}"\n')
    fails(["validate", str(path)], capsys, f"{path}:3: scenario.start", "expected YYYY-MM-DD")


def test_iso_dates_are_read(capsys):
    assert main(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", "2025-04-14"]) == 0
    assert "on 2025-04-14" in capsys.readouterr().out


# --------------------------------------------------------------------------- as a user runs it


def test_bad_input_as_a_real_process(tmp_path):
    """The same cases through the installed console script: status 2, one `error:` line, no traceback."""
    latin = write(tmp_path, "latin.toml", b'[scenario]\nname = "caf\xe9"\nextends = "us-china-2025"\n')
    empty = write(tmp_path, "flows.csv", "exporter,importer,product,value\n")
    cases = [
        (["run", "nosuch", "--out", str(tmp_path / "o")], "no bundled scenario"),
        (["validate", str(latin)], "not UTF-8"),
        (["baseline", str(empty)], "no rows"),
        (["run", "april-peak", "--draws", "2", "--seed", "-1", "--out", str(tmp_path / "o")], "--seed"),
        (["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", "04/05/2025"],
         "expected YYYY-MM-DD"),
        (["run", "april-peak", "--out", "-"], "--out"),
    ]
    for argv, expected in cases:
        done = subprocess.run([str(EXE), *argv], capture_output=True, text=True, check=False, cwd=tmp_path)
        assert done.returncode == 2, (argv, done.stderr)
        assert done.stderr.startswith("error: ") and expected in done.stderr, (argv, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flows.csv", "latin.toml"]


def test_debug_shows_the_traceback_of_bad_input(tmp_path):
    with pytest.raises(InputError, match="--seed"):
        main(["--debug", "run", "april-peak", "--draws", "2", "--seed", "-1"])
    with pytest.raises(InputError, match="--date"):
        main(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", "1/2/2025", "--debug"])
