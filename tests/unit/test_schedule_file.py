"""Reading tariff schedules from TOML: values, paths relative to the file, and every problem at once."""

import datetime as dt
import textwrap

import pytest

from tradesim import ScenarioError, TariffSchedule
from tradesim.law.file import schedule_from_tables

GOOD = """
[schedule]
name = "demo"
description = "a test regime"

[[product_lists]]
name = "el"
codes = ["8471"]
file = "lists/el.csv"

[[measures]]
name = "mfn"
kind = "mfn"
importer = "USA"
rates_pct = {"87" = 2.0, "8703" = 2.5}
rates_file = "mfn.csv"
start = 2000-01-01

[[measures]]
name = "recip"
authority = "IEEPA"
importer = "USA"
exporters = ["CHN"]
products = "all"
exclude = ["el"]
rate_pct = 125
start = "2025-04-10"
end = 2025-05-14
group = "recip_group"

[[measures]]
name = "steel"
importer = "USA"
exporters = "all"
except_exporters = ["GBR"]
products = ["72"]
rate_pct = 50
coverage_pct = 80
start = 2025-06-04
replaces = ["recip_group"]
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_reads_every_key(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "el.csv").write_text("hs_code\n8517.13.00\n")
    (tmp_path / "mfn.csv").write_text("hs_code,rate_pct\n9503,0\n8708,2.5\n")
    s = TariffSchedule.from_file(write(tmp_path, GOOD))
    assert s.name == "demo" and s.description == "a test regime"
    assert s.product_lists["el"].codes == ("8471", "85171300")
    recip = s.measure("recip")
    assert recip.rate == 1.25 and recip.start == dt.date(2025, 4, 10) and recip.end == dt.date(2025, 5, 14)
    assert recip.products is None and recip.exporters == ("CHN",) and recip.group == "recip_group"
    steel = s.measure("steel")
    assert steel.exporters is None and steel.except_exporters == ("GBR",) and steel.coverage == pytest.approx(0.8)
    mfn = s.measure("mfn")
    assert mfn.kind == "mfn" and dict(mfn.product_rates) == {"9503": 0.0, "8708": 0.025, "87": 0.02, "8703": 0.025}
    assert s.rate("2025-04-14", "870323", "CHN", "USA") == pytest.approx(0.025 + 1.25)
    assert s.rate("2025-04-14", "847130", "CHN", "USA") == pytest.approx(0.0)


BAD = """
[schedule]
name = "bad"
colour = "red"

[[product_lists]]
name = "el"
codes = ["8471", "85A1"]

[[measures]]
name = "a"
importer = "USA"
exporters = ["CHN", "XXX"]
rate_pct = 2500
start = 2025-04-10
end = 2025-04-01

[[measures]]
name = "a"
importer = "US"
rate_pct = -1
start = "2025-04-10"
exclude = ["nolist"]
replaces = ["b"]
rats_pct = 3

[[measures]]
name = "b"
importer = "USA"
rate_pct = 10
start = 2025-01-01
replaces = ["c"]

[[measures]]
name = "c"
importer = "USA"
rate_pct = 10
start = 2025-01-01
replaces = ["b"]
"""


def test_reports_every_problem_with_file_line_and_key(tmp_path):
    path = write(tmp_path, BAD)
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    found = {(p.key, p.line) for p in err.value.problems}
    expected = {
        ("schedule.colour", 4),
        ("product_lists[0].codes", 8),
        ("measures[0].rate_pct", 14),
        ("measures[0].end", 16),
        ("measures[0].exporters", 13),
        ("measures[1].rats_pct", 25),
        ("measures[1].rate_pct", 21),
        ("measures[1].importer", 20),
        ("measures[1].name", 19),
        ("measures[1].exclude", 23),
        ("measures[2].replaces", 32),
    }
    assert found == expected
    text = str(err.value)
    assert text.startswith(f"{path}: 11 problem(s)")
    assert "did you mean 'rates_pct'" in text and "did you mean USA" in text and "cycle: b -> c -> b" in text
    assert "2500% is outside 0% to 2,000%" in text and "'XXX'" in text and "'85A1'" in text


def test_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, '[[measures]]\nname = "a"\nrate_pct = = 3\n')
    with pytest.raises(ScenarioError, match="TOML syntax error") as err:
        TariffSchedule.from_file(path)
    assert err.value.line == 3 and f"{path}:3" in str(err.value)


def test_missing_keys_and_files(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        TariffSchedule.from_file(tmp_path / "none.toml")
    path = write(tmp_path, '[[product_lists]]\nname = "l"\nfile = "l.csv"\n\n[[measures]]\nimporter = "USA"\n')
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    text = str(err.value)
    assert "product_lists[0].file" in text and "file not found" in text
    assert "missing key 'name'" in text and "missing key 'start'" in text and "missing key 'rate_pct'" in text


def test_bad_rates_file_names_its_lines(tmp_path):
    (tmp_path / "mfn.csv").write_text("hs_code,rate_pct\n9503,abc\n87x,2\n9503,1\n")
    path = write(tmp_path, '[[measures]]\nname = "m"\nimporter = "USA"\nrates_file = "mfn.csv"\nstart = 2025-01-01\n')
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    text = str(err.value)
    assert "measures[0].rates_file" in text and "line 2" in text and "line 3" in text and "more than once" in text


def test_wrong_types(tmp_path):
    path = write(
        tmp_path,
        '[[measures]]\nname = 3\nimporter = "USA"\nexporters = "CHN, VNM"\nrate_pct = "25"\nstart = "soon"\n'
        'replaces = [1]\ncoverage_pct = 0\n',
    )
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    keys = {p.key for p in err.value.problems}
    assert {"measures[0].name", "measures[0].exporters", "measures[0].rate_pct", "measures[0].start",
            "measures[0].replaces", "measures[0].coverage_pct"} <= keys


def test_tables_can_sit_inside_another_file(tmp_path):
    table = {"name": "a", "importer": "USA", "exporters": ["CHN"], "rate_pct": 10, "start": dt.date(2025, 2, 4)}
    data = {"measures": [(table, "scenario.toml", None, "measures[0]", tmp_path)]}
    measures, lists, info = schedule_from_tables(data, source="scenario.toml")
    s = TariffSchedule(measures, lists, **info)
    assert s.rate("2025-03-01", "9503", "CHN", "USA") == pytest.approx(0.1)


def test_layer_labels_are_read_and_checked(tmp_path):
    ok = write(tmp_path, '[[measures]]\nname = "s301"\nimporter = "USA"\nrate_pct = 25\nstart = 2019-05-10\n'
                         'layer = "Section 301"\n')
    assert TariffSchedule.from_file(ok).measure("s301").layer_name == "Section 301"
    bad = write(tmp_path, '[[measures]]\nname = "s301"\nimporter = "USA"\nrate_pct = 25\nstart = 2019-05-10\n'
                          'layer = 301\n')
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(bad)
    assert {p.key for p in err.value.problems} == {"measures[0].layer"}
    import tradesim

    bundled = tradesim.load_schedule("us-china-2025")
    assert {m.layer for m in bundled.measures if m.importer == "USA"} == {
        "MFN", "Section 301", "Section 232", "IEEPA fentanyl", "IEEPA reciprocal", "Section 122"}
