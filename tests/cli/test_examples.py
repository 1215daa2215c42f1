"""Every example script runs, prints what it promises and writes its figure."""

import runpy
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.py"))


def run(script, monkeypatch, tmp_path, capsys) -> str:
    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")
    return capsys.readouterr().out


def test_there_are_the_six_promised_examples():
    assert {p.stem for p in EXAMPLES} >= {"quickstart", "us_china_2025", "phased_cut", "trade_diversion", "ge_welfare",
                                          "uncertainty"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_and_writes_its_png(script, capsys, monkeypatch, tmp_path):
    out = run(script, monkeypatch, tmp_path, capsys)
    png = tmp_path / f"{script.stem}.png"
    assert f"wrote {png.name}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = matplotlib.image.imread(png).shape[:2]
    assert width >= 800 and height >= 500, f"{png.name} is {width}x{height} pixels"


def test_quickstart_numbers(capsys, monkeypatch, tmp_path):
    out = run(EXAMPLES[[p.name for p in EXAMPLES].index("quickstart.py")], monkeypatch, tmp_path, capsys)
    assert "US imports from China: 429.4 bn USD" in out and "section XVI" in out
    assert "(tariff 114%)" in out  # the trade-weighted US tariff, all layers, on 14 April 2025 (data README: 114.0%)


def test_ge_welfare_prints_losses_for_both_sides_at_the_peak(capsys, monkeypatch, tmp_path):
    out = run(EXAMPLES[[p.name for p in EXAMPLES].index("ge_welfare.py")], monkeypatch, tmp_path, capsys)
    peak = next(line for line in out.splitlines() if line.startswith("April 2025 peak"))
    usa = float(peak.split("USA ")[1].split("%")[0])
    chn = float(peak.split("CHN ")[1].split("%")[0])
    assert -2 < usa < 0 and -2 < chn < 0  # one-sector GE with theta 4: losses of a fraction of a percent
