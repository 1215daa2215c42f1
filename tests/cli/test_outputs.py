"""Issue 24 item 2 and issue 23 item 2: outputs land as a set (staging folder, run.json last), stale files are
never mixed in silently, leftovers of killed runs are cleaned by the next run, the record of the run, and the
Dask engine's temporary files stay in a folder the run owns."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

import tradesim
from tradesim import InputError
from tradesim.cli import main
from tradesim.results import write as writing
from tradesim.results.write import MANIFEST, check_folder, folder_manifest, write_outputs

EXE = Path(sys.executable).parent / "tradesim"


def names(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def table(n=3, scale=1.0):
    return pd.DataFrame({"date": pd.date_range("2025-01-01", periods=n, freq="MS"), "pair": ["CHN->USA"] * n,
                         "value": [scale * (0.1 + 0.2) * (k + 1) for k in range(n)]})


# --------------------------------------------------------------------------- the folder given with --out


def test_out_refuses_dash_and_paths_that_are_not_folders(tmp_path, capsys):
    assert main(["run", "april-peak", "--out", "-"]) == 2
    assert capsys.readouterr().err.startswith("error: --out: '-' is not a folder name")
    blocker = tmp_path / "file.txt"
    blocker.write_text("mine")
    assert main(["run", "april-peak", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {blocker}: --out: exists and is not a folder")
    assert main(["rates", "--format", "csv", "--out", "-"]) == 2
    assert "leave out --out to print" in capsys.readouterr().err
    assert main(["rates", "--format", "csv", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert names(tmp_path) == ["file.txt"] and blocker.read_text() == "mine"


def test_a_folder_with_files_tradesim_did_not_write_is_refused(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    assert main(["run", "april-peak", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: --out: the folder has files that tradesim did not write (notes.txt; "
                          "it has no run.json)")
    assert names(out) == ["notes.txt"]
    (out / MANIFEST).write_text('{"something": "else"}')
    with pytest.raises(InputError, match="its run.json is not one tradesim wrote"):
        check_folder(out)
    # an empty folder and a new one are fine, and check_folder creates nothing
    (tmp_path / "empty").mkdir()
    assert check_folder(tmp_path / "empty") == tmp_path / "empty"
    assert check_folder(tmp_path / "new" / "deeper").name == "deeper" and not (tmp_path / "new").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write anywhere")
def test_a_folder_that_cannot_be_written(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["run", "april-peak", "--out", str(locked / "out")]) == 2
        assert "cannot write here: permission denied" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


# --------------------------------------------------------------------------- a set of files and its record


def test_a_run_writes_summaries_in_parquet_and_its_record(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    out = tmp_path / "results"
    assert main(["run", "phased-cut", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert names(out) == ["compare_us-china-2025.parquet", "run.json", "summary_countries.parquet",
                          "summary_pairs.parquet"]  # no cell table without --cells
    assert f"note: wrote 4 files to {out}" in captured.err and "note:" not in captured.out
    record = json.loads((out / MANIFEST).read_text())
    assert record["written_by"] == "tradesim" and record["tradesim_version"] == tradesim.__version__
    assert record["command"] == ["tradesim", "run", "phased-cut", "--out", str(out)]
    assert record["seed"] is None and record["draws"] is None and record["format"] == "parquet"
    scenario = tradesim.load_scenario("phased-cut")
    assert record["scenario"]["name"] == "phased-cut" and record["scenario"]["file"] == scenario.source
    assert record["scenario"]["sha256"] == sha256(scenario.source)
    parent = next(i for i in record["inputs"] if i["role"] == "extends")
    assert Path(parent["file"]).name == "us-china-2025.toml" and record["scenario"]["extends_sha256"] == [
        sha256(parent["file"])]
    assert record["baseline"]["name"] == "demo-2024" and record["baseline"]["as_of"] and record["baseline"]["version"]
    assert record["schedule"]["schedule"] == "phased-cut"
    assert any("domestic sales" in n for n in record["notes"])
    assert record["estimate"]["periods"] == 24
    assert record["started"] <= record["finished"] and re.match(r"\d{4}-\d\d-\d\dT", record["started"])
    listed = {f["name"]: f for f in record["files"]}
    assert set(listed) == set(names(out)) - {MANIFEST}
    for name, entry in listed.items():
        assert entry["bytes"] == (out / name).stat().st_size and entry["sha256"] == sha256(out / name)
    assert folder_manifest(out)["run_id"] == record["run_id"]


def test_draws_record_their_seed(tmp_path, capsys):
    out = tmp_path / "bands"
    assert main(["run", "april-peak", "--draws", "3", "--seed", "7", "--out", str(out), "--format", "csv"]) == 0
    record = json.loads((out / MANIFEST).read_text())
    assert record["seed"] == 7 and record["draws"] == 3 and record["engine"] == "numpy" and record["chunk"] >= 1
    assert "draws_parameters.csv" in {f["name"] for f in record["files"]}


def test_csv_is_written_without_float_noise(tmp_path, capsys):
    out = tmp_path / "csv"
    assert main(["run", "april-peak", "--out", str(out), "--format", "csv", "--cells"]) == 0
    text = (out / "cells.csv").read_text()
    numbers = re.findall(r"(?<![\w.\"-])-?\d+\.\d+(?:e[-+]?\d+)?", text[:2_000_000])
    digits = [len(re.sub(r"e.*|[-.]", "", n).strip("0")) for n in numbers]
    assert numbers and max(digits) <= 10  # 10 significant digits at most: no 73213218.99999999
    # (a run of zeros or nines inside 10 digits can be a true value, e.g. a quantity ratio of 1.000000018)
    frame = pd.read_csv(out / "summary_pairs.csv", parse_dates=["date"])
    assert frame["date"].dt.strftime("%Y-%m-%d").iloc[0] == "2025-01-01"
    assert writing.significant([73213218.99999999]).tolist() == [73213219.0]


def test_csv_when_pyarrow_is_missing_with_a_note(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(writing, "pyarrow_installed", lambda: False)  # as without pyarrow (pandas needs it here)
    out = tmp_path / "plain"
    assert main(["run", "april-peak", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: writing CSV: pyarrow is not installed" in err
    assert "summary_pairs.csv" in names(out)
    assert "99999999" not in (out / "summary_pairs.csv").read_text()
    assert main(["run", "april-peak", "--out", str(tmp_path / "pq"), "--format", "parquet"]) == 2
    assert "writing Parquet needs pyarrow" in capsys.readouterr().err and not (tmp_path / "pq").exists()


# --------------------------------------------------------------------------- a second run into the same folder


def test_a_rerun_replaces_the_previous_runs_files_and_keeps_others_with_a_note(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "april-peak", "--out", str(out), "--plot", "--format", "csv"]) == 0
    first = names(out)
    assert "imports_path.png" in first
    (out / "my-notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["run", "april-peak", "--out", str(out), "--format", "csv"]) == 0  # no figures this time
    err = capsys.readouterr().err
    assert names(out) == ["my-notes.txt", "run.json", "summary_countries.csv", "summary_pairs.csv"]
    pngs = sorted(n for n in first if n.endswith(".png"))
    assert f"removed {len(pngs)} file(s) of the previous run in {out} that this run does not write: " \
        f"{', '.join(pngs)}" in err
    assert f"kept 1 file(s) in {out} that no tradesim run wrote: my-notes.txt" in err
    assert (out / "my-notes.txt").read_text() == "mine"
    # a file of ours that a run would write over, but that no run wrote, is never replaced
    (out / "summary_pairs.csv").rename(out / "x.csv")
    record = json.loads((out / MANIFEST).read_text())
    record["files"] = [f for f in record["files"] if f["name"] != "summary_pairs.csv"]
    (out / MANIFEST).write_text(json.dumps(record))
    (out / "x.csv").rename(out / "summary_pairs.csv")
    assert main(["run", "april-peak", "--out", str(out), "--format", "csv"]) == 2
    assert "would replace summary_pairs.csv, which no tradesim run wrote" in capsys.readouterr().err


def test_a_failure_while_moving_files_in_restores_the_previous_run(tmp_path, monkeypatch):
    out = tmp_path / "results"
    write_outputs(out, {"a": table(), "b": table()}, "csv")
    before = {n: (out / n).read_bytes() for n in names(out)}
    real = os.replace
    calls = []

    def failing(src, dst):
        calls.append(dst)
        if len(calls) == 5:  # run.json, a, b moved aside; a moved in; then b fails
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(writing.os, "replace", failing)
    with pytest.raises(InputError, match="cannot write results: No space left on device.*holds what it held before"):
        write_outputs(out, {"a": table(5, 2.0), "b": table(5, 2.0), "c": table()}, "csv")
    monkeypatch.setattr(writing.os, "replace", real)
    assert {n: (out / n).read_bytes() for n in names(out)} == before  # the previous set, whole; no staging


def test_a_failure_while_writing_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "results"

    class Broken:
        def __len__(self):
            return 1

        def to_parquet(self, *args, **kwargs):
            raise OSError(5, "Input/output error")

    with pytest.raises(InputError, match="Input/output error"):
        write_outputs(out / "deeper", {"a": Broken()}, "parquet")
    assert not out.exists()  # the folders it made are taken away again
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="Input/output error"):
        write_outputs(out / "deeper", {"a": Broken()}, "parquet")
    assert names(out) == ["keep.txt"]


# --------------------------------------------------------------------------- leftovers of killed runs


def test_leftovers_of_a_killed_run_are_removed_by_the_next_run_with_a_note(tmp_path):
    out = tmp_path / "results"
    write_outputs(out, {"a": table()}, "csv")
    dead = out / ".tradesim-999999999-abcd"  # no such process
    dead.mkdir()
    (dead / "cells.csv").write_text("date,value\n2025-01-01,1")  # a partial file
    assert check_folder(out) == out  # still tradesim's folder
    done = write_outputs(out, {"a": table(4)}, "csv")
    assert any(n.startswith(f"removed .tradesim-999999999-abcd from {out}: the unfinished output of an earlier run "
                            "that was stopped") for n in done.notes)
    assert names(out) == ["a.csv", "run.json"]


def test_a_staging_folder_of_a_live_process_is_left_alone(tmp_path):
    out = tmp_path / "results"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        busy = out / f".tradesim-{live.pid}-wxyz"
        busy.mkdir(parents=True)
        done = write_outputs(out, {"a": table()}, "csv")
        assert busy.is_dir() and any(f"process {live.pid}, which is writing it, still runs" in n for n in done.notes)
    finally:
        live.kill()
        live.wait()


KILL_WHILE_MOVING = """
import os, sys
import pandas as pd
from tradesim.results import write
real = os.replace
moves = []
def replace(src, dst):
    moves.append(dst)
    if len(moves) == int(sys.argv[2]):
        os._exit(9)  # killed between two moves: no cleanup runs
    return real(src, dst)
write.os.replace = replace
frame = pd.DataFrame({"x": [2.0, 3.0]})
write.write_outputs(sys.argv[1], {"a": frame, "b": frame, "c": frame}, "csv")
"""


@pytest.mark.parametrize("moves", [2, 4, 6, 7], ids=["moving-aside", "all-aside", "moving-in", "before-the-manifest"])
def test_a_run_killed_while_moving_files_is_rolled_back_by_the_next(tmp_path, moves):
    out = tmp_path / "results"
    write_outputs(out, {"a": table(), "b": table()}, "csv")
    before = {n: (out / n).read_bytes() for n in names(out)}
    script = tmp_path / "kill.py"
    script.write_text(KILL_WHILE_MOVING)
    done = subprocess.run([sys.executable, str(script), str(out), str(moves)], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    assert any(n.startswith(".tradesim-") for n in names(out))
    assert check_folder(out) == out  # recognised as tradesim's, though its run.json may be aside
    cleaned = writing._clean_leftovers(out)
    assert len(cleaned) == 1 and "the previous run's files were put back" in cleaned[0]
    assert {n: (out / n).read_bytes() for n in names(out)} == before  # the previous set, whole
    later = write_outputs(out, {"a": table(6)}, "csv")
    assert names(out) == ["a.csv", "run.json"] and not later.notes[:-1]


def test_a_real_run_killed_while_writing_leaves_no_results_and_the_next_run_cleans_up(tmp_path):
    """SIGKILL a `tradesim run --out` during its write: only a hidden staging folder is left, and the next run
    removes it with a note."""
    out = tmp_path / "results"
    proc = subprocess.Popen([str(EXE), "run", "us-china-2025", "--out", str(out), "--cells", "--format", "csv"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        staging = []
        while time.monotonic() < deadline and proc.poll() is None:
            staging = [p for p in out.glob(".tradesim-*")] if out.is_dir() else []
            if staging and any(staging[0].iterdir()):  # writing has begun
                break
            time.sleep(0.005)
        assert staging and proc.poll() is None, "the run ended before it could be killed during its write"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    left = names(out)
    assert left and all(n.startswith(".tradesim-") for n in left)  # no visible, partial results
    again = subprocess.run([str(EXE), "run", "april-peak", "--out", str(out), "--format", "csv"], capture_output=True,
                           text=True, check=False)
    assert again.returncode == 0, again.stderr
    assert f"note: removed {left[0]} from {out}: the unfinished output of an earlier run that was stopped" in \
        again.stderr
    assert names(out) == ["run.json", "summary_countries.csv", "summary_pairs.csv"]


def test_a_real_run_stopped_with_sigterm_removes_its_staging_folder(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.Popen([str(EXE), "run", "us-china-2025", "--out", str(out), "--cells", "--format", "csv"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            staging = [p for p in out.glob(".tradesim-*")] if out.is_dir() else []
            if staging and any(staging[0].iterdir()):
                break
            time.sleep(0.005)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM
    assert not out.exists()  # the staging folder, and the folder the run made, removed on the way out


# --------------------------------------------------------------------------- the Dask engine's temporary files


def test_the_dask_engine_leaves_nothing_in_the_system_temporary_folder(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    import tempfile

    systmp = tmp_path / "systmp"
    systmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(systmp))
    monkeypatch.setattr(tempfile, "tempdir", str(systmp))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = tradesim.ensemble.run(None, "april-peak", draws=4, engine="dask", seed=1)
    assert r.n_draws == 4
    assert names(systmp) == []  # no dask-scratch-space, lock files or worker spill left behind


# --------------------------------------------------------------------------- one table into a file


def test_rates_into_a_file_is_replaced_whole(tmp_path, capsys):
    schedule = tmp_path / "small.toml"
    schedule.write_text('[[measures]]\nname = "x"\nimporter = "USA"\nexporters = ["CHN"]\nrate_pct = 10\n'
                        'start = 2025-03-01\n')
    out = tmp_path / "rates.csv"
    out.write_text("old")
    assert main(["rates", "--schedule", str(schedule), "--baseline", "demo-2024", "--out", str(out)]) == 0
    assert "note: wrote" in capsys.readouterr().err
    frame = pd.read_csv(out, index_col=0)
    assert frame.loc["2025-03-01", "CHN"] == 10 and frame.loc["2024-12-31", "CHN"] == 0
    assert names(tmp_path) == ["rates.csv", "small.toml"]  # no temporary file left
    assert main(["rates", "--schedule", str(schedule), "--baseline", "demo-2024", "--out",
                 str(tmp_path / "r.txt")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err


def test_write_outputs_refuses_names_that_are_not_plain(tmp_path):
    for bad in ({"../escape": table()}, {".hidden": table()}, {"a/b": table()}):
        with pytest.raises(InputError, match="cannot write files named"):
            write_outputs(tmp_path / "o", bad, "csv")
    assert not (tmp_path / "o").exists()


def test_a_manifest_never_leads_out_of_its_folder(tmp_path):
    out = tmp_path / "results"
    write_outputs(out, {"a": table()}, "csv")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    record = json.loads((out / MANIFEST).read_text())
    record["files"].append({"name": "../victim.txt", "bytes": 7, "sha256": "0"})
    (out / MANIFEST).write_text(json.dumps(record))
    write_outputs(out, {"a": table()}, "csv")
    assert victim.read_text() == "keep me"


def test_every_file_written_is_read_back_as_written(tmp_path):
    out = tmp_path / "results"
    frames = {"a": table(), "b": table(7, 1e12)}
    done = write_outputs(out, frames, "csv", manifest={"notes": ["n"]})
    assert [p.name for p in done.files] == ["a.csv", "b.csv", "run.json"]
    for name, frame in frames.items():
        back = pd.read_csv(out / f"{name}.csv", parse_dates=["date"])
        pd.testing.assert_frame_equal(back, frame, check_dtype=False, rtol=1e-9)
    assert done.manifest["notes"] == ["n"] and folder_manifest(out) == done.manifest


def test_check_folder_names_the_flag(tmp_path):
    with pytest.raises(InputError, match="^--target: '-' is not a folder name"):
        check_folder("-", key="--target")
