"""`tradesim list | show | validate | run` on scenarios, through main(argv) and once as a real process."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tradesim.cli import main


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_list_shows_scenarios(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "scenarios:" in out and "phased-cut" in out and "truce-lapse" in out


def test_show_prints_the_timeline_and_headline_rates(capsys):
    assert main(["show", "phased-cut"]) == 0
    out = capsys.readouterr().out
    assert "extends us-china-2025" in out
    assert "us_ieepa_recip_pause_china_125@2025-08-12" in out
    assert "phase of us_ieepa_recip_pause_china_125: 2025-05-14: 86.7%, 2025-08-12: 48.3%, 2025-11-10: 10.0%" in out
    assert "CHN->USA" in out and "2025-09-01" in out


def test_validate_ok_and_every_problem(tmp_path, capsys):
    assert main(["validate", "geneva-truce"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    bad = write(tmp_path, "bad.toml", """
        [scenario]
        extends = "us-china-2025"
        end = 2024-06-01

        [[phases]]
        measure = "us_ieepa_recip_pause_china_125"
        to_pct = 10
        steps = 0
        start = 2025-05-14
        """)
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert f"error: {bad}:4: scenario.end: end 2024-06-01 is before start 2025-01-01" in err
    assert any(line.startswith(f"error: {bad}:9: phases[0].steps: 0 is not a number of steps") for line in err)
    assert all("Traceback" not in line for line in err)


def test_debug_shows_the_traceback(tmp_path):
    bad = write(tmp_path, "bad.toml", '[scenario]\nextends = "bad.toml"\n')
    with pytest.raises(Exception, match="extends itself"):
        main(["--debug", "validate", str(bad)])


def test_run_prints_the_path_and_writes_tidy_results(tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert main(["run", "china-exemptions", "--out", str(out_dir), "--plot", "--cells", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "USA from CHN" in out and "CHN from USA" in out
    assert "china-exemptions minus us-china-2025" in out
    files = sorted(p.name for p in out_dir.iterdir())
    assert files == ["cells.csv", "compare_us-china-2025.csv", "heatmap_mean.png", "imports_path.png", "run.json",
                     "summary_countries.csv", "summary_pairs.csv", "tariff_path.png", "tariff_timeline_CHN_USA.png",
                     "tariff_timeline_USA_CHN.png", "value_change_path.png", "welfare_mean.png"]
    tidy = pd.read_csv(out_dir / "cells.csv")
    assert list(tidy.columns) == ["date", "product", "exporter", "importer", "variable", "value", "unit"]
    pairs = pd.read_csv(out_dir / "summary_pairs.csv")
    april = pairs[(pairs["date"] == "2025-04-01") & (pairs["importer"] == "CHN")]
    assert float(april["tariff_pct"].iloc[0]) > 80  # without the waivers almost everything pays 84-125%


def test_run_writes_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    assert main(["run", "april-peak", "--out", str(tmp_path), "--format", "parquet", "--cells"]) == 0
    frame = pd.read_parquet(tmp_path / "cells.parquet")
    assert set(frame["variable"]) >= {"imports_usd", "tariff_pct", "revenue_usd", "quantity_ratio"}


def test_run_into_a_folder_that_cannot_be_written_writes_nothing(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert main(["run", "us-china-2025", "--out", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blocker / 'out'}: --out: cannot write here")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_run_errors_exit_2_without_results(tmp_path, capsys):
    assert main(["run", "no-such-scenario", "--out", str(tmp_path / "o")]) == 2
    assert "no bundled scenario or file 'no-such-scenario'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # checked before the run, created only when writing
    assert main(["run", "us-china-2025", "--plot"]) == 2
    assert "--plot" in capsys.readouterr().err
    # GE needs every country on both axes: the tariff-line baseline of US imports is a rectangle, and this
    # scenario names no world baseline for it
    rectangle = write(tmp_path, "us_imports.toml", """
        [scenario]
        baseline = "us-imports-2024"
        schedule = "tariffs-2025"
        start = 2025-01-01
        end = 2025-06-30
        """)
    assert main(["run", str(rectangle), "--model", "ge", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "same countries on both axes" in err and "--baseline" in err and "world_baseline" in err
    assert not (tmp_path / "o").exists()


def test_a_baseline_without_a_named_country_is_an_error(tmp_path, capsys):
    bad = write(tmp_path, "fr.toml", """
        [scenario]
        extends = "us-china-2025"

        [[measures]]
        name = "eu_on_us"
        importer = "FRA"
        exporters = ["USA"]
        rate_pct = 25
        start = 2025-06-01
        """)
    assert main(["run", str(bad)]) == 2
    assert f"error: {bad}:7: measures[0].importer: importer 'FRA' is not on the importer axis of baseline 'demo-2024'" in \
        capsys.readouterr().err


def test_run_as_a_real_process(tmp_path):
    exe = Path(sys.executable).parent / "tradesim"
    done = subprocess.run([str(exe), "run", "phased-cut", "--out", str(tmp_path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "phased-cut minus us-china-2025" in done.stdout
    assert "note:" not in done.stdout and "note:" in done.stderr
    assert (tmp_path / "summary_pairs.parquet").is_file() and (tmp_path / "run.json").is_file()
    bad = subprocess.run([str(exe), "validate", str(tmp_path / "missing.toml")], capture_output=True, text=True,
                         check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_run_with_draws_prints_and_writes_quantile_tables(tmp_path, capsys):
    import warnings

    from tradesim import TradesimWarning, ensemble

    out = tmp_path / "draws"
    assert main(["run", "us-china-2025", "--draws", "12", "--seed", "3", "--chunk", "5", "--out", str(out),
                 "--plot", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert "12 of 12 draws (seed 3, numpy engine, chunks of 5)" in text
    assert "5th / 50th / 95th percentile" in text and "USA from CHN" in text and "welfare per country" in text
    assert sorted(p.name for p in out.iterdir()) == [
        "draws_parameters.csv", "fan_value_change_CHN_USA.png", "fan_value_change_USA_CHN.png", "fan_welfare_CHN.png",
        "fan_welfare_USA.png", "quantiles_countries.csv", "quantiles_pairs.csv", "run.json"]
    pairs = pd.read_csv(out / "quantiles_pairs.csv", parse_dates=["date"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        want = ensemble.run(None, "us-china-2025", draws=12, seed=3).quantiles()
    pd.testing.assert_frame_equal(pairs, want, check_dtype=False, rtol=1e-9)  # CSV: 10 significant digits
    april = pairs[(pairs["date"] == "2025-04-01") & (pairs["exporter"] == "CHN") & (pairs["importer"] == "USA")
                  & (pairs["variable"] == "value_change_pct")].iloc[0]
    assert april["p5"] < april["p50"] < april["p95"] < 0
    assert len(pd.read_csv(out / "draws_parameters.csv")) == 12


def test_run_with_draws_on_a_dask_scheduler(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        assert main(["run", "geneva-truce", "--draws", "8", "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path), "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert "8 of 8 draws (seed 0, dask engine" in text
    assert "geneva-truce minus april-peak, the same draws: imports" in text
    assert main(["run", "geneva-truce", "--draws", "8", "--out", str(tmp_path / "np"), "--format", "csv"]) == 0
    for name in ("quantiles_pairs.csv", "compare_april-peak_pairs.csv", "compare_april-peak_countries.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(tmp_path / "np" / name))
    # the truce raised US imports from China in every draw from June 2025
    diff = pd.read_csv(tmp_path / "compare_april-peak_pairs.csv")
    june = diff[(diff["date"] == "2025-06-01") & (diff["exporter"] == "CHN") & (diff["importer"] == "USA")
                & (diff["variable"] == "imports_usd")].iloc[0]
    assert 0 < june["p5"] < june["p50"] < june["p95"]


def test_draw_options_without_draws_are_errors(capsys):
    assert main(["run", "us-china-2025", "--engine", "dask"]) == 2
    assert "--engine is for runs with draws; give --draws N" in capsys.readouterr().err
    assert main(["run", "us-china-2025", "--draws", "4", "--engine", "numpy", "--scheduler", "tcp://x:1"]) == 2
    assert "drop --engine numpy" in capsys.readouterr().err
    assert main(["run", "us-china-2025", "--draws", "0"]) == 2
    assert "whole number of draws" in capsys.readouterr().err


def test_run_on_another_baseline(tmp_path, capsys):
    # three economies and three chapters of demo-2024: the scenario and its counterfactual run on them, without the
    # scenario's fine values (they split demo-2024's 98 chapters)
    demo = pd.read_csv(Path(__file__).parents[2] / "tradesim" / "data" / "demo-2024.csv", dtype={"product": str})
    keep = ["USA", "CHN", "VNM"]
    small = demo[demo.exporter.isin(keep) & demo.importer.isin(keep) & demo["product"].isin(["12", "85", "95"])]
    small[["exporter", "importer", "product", "value"]].to_csv(tmp_path / "small.csv", index=False)
    out_dir = tmp_path / "out"
    assert main(["run", "geneva-truce", "--baseline", str(tmp_path / "small.csv"), "--out", str(out_dir),
                 "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "the scenario's fine values (fine-values-2024) split the products of its own baseline" in captured.err
    assert "geneva-truce minus april-peak" in captured.out
    pairs = pd.read_csv(out_dir / "summary_pairs.csv").set_index(["exporter", "importer"])
    assert set(pairs.index) == {("CHN", "USA"), ("USA", "CHN")}  # the pairs the law taxes
    assert pairs.loc[("CHN", "USA"), "imports_baseline_usd"].iloc[0] == pytest.approx(
        small.query("exporter == 'CHN' and importer == 'USA'")["value"].sum())
    countries = pd.read_csv(out_dir / "summary_countries.csv")
    assert set(countries.country) == set(keep)
    run = json.loads((out_dir / "run.json").read_text())
    assert run["baseline"]["file"] == str(tmp_path / "small.csv")


def test_a_baseline_or_world_baseline_that_does_not_exist_is_an_error_naming_it(tmp_path, capsys):
    assert main(["run", "geneva-truce", "--baseline", "nope", "--out", str(tmp_path / "o")]) == 2
    assert "error: baseline: no bundled baseline 'nope' and no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    bad = write(tmp_path, "bad.toml", """
        [scenario]
        extends = "tariffs-2025"
        world_baseline = "nope"
        """)
    assert main(["validate", str(bad)]) == 2
    assert f"error: {bad}:4: scenario.world_baseline: no bundled baseline 'nope' and no file {tmp_path / 'nope'}" in \
        capsys.readouterr().err
