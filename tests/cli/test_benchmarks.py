"""`python -m benchmarks --quick` runs every case and prints the table (timings are not checked: machines are noisy)."""

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from benchmarks.cases import CASES as _CASES  # noqa: E402  (the suite is a folder of the repository, not installed)

CASES = list(_CASES)


def test_quick_run_prints_every_case_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    # about a minute alone; the timeout only stops a hang (the suite's other worker shares the cores)
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("case "))
    assert lines[header].split() == ["case", "size", "median", "s", "spread", "s", "peak", "MB", "pairs/s", "ref", "s",
                                     "x", "ref", "floor", "s", "x", "floor"]
    body = lines[header + 2: lines.index("", header)]
    data = json.loads(out.read_text())
    rows = data["rows"]
    assert len(body) == len(rows) and [line.split()[0] for line in body] == [r["case"] for r in rows]
    assert [c for c in dict.fromkeys(r["case"] for r in rows)] == CASES  # every case ran, in order
    for r in rows:
        installed = "not installed" not in r["reference"]
        assert not installed or (r["median_s"] > 0 and r["low_s"] <= r["median_s"] <= r["high_s"]), r
        assert r["size"] == f"{r['products']}x{r['countries']}x{r['draws']}"
        assert r["floor_s"] > 0 and r["pairs"] > 0
        assert not installed or math.isclose(r["throughput"], r["pairs"] / r["median_s"])
    # several sizes per scaling case, each fitted
    assert {k: v["against"] for k, v in data["scaling"].items()} == {
        "pe_products": "products", "pe_countries": "countries", "ge_countries": "countries", "ge_sectors": "products"}
    assert all(len(v["sizes"]) >= 3 and math.isfinite(v["exponent"]) for v in data["scaling"].values())
    assert "time ~ products ^" in done.stdout and data["machine"]["cores"] >= 1 and data["quick"] is True
