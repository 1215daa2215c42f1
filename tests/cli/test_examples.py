"""Every example script runs and prints what it promises."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip(), f"{script.name} printed nothing"


def test_quickstart_numbers(capsys):
    runpy.run_path(str(EXAMPLES[[p.name for p in EXAMPLES].index("quickstart.py")]), run_name="__main__")
    out = capsys.readouterr().out
    assert "US imports from China: 438.9 bn USD" in out and "section XVI" in out
