"""Views of a schedule (`TariffSchedule.view`, ``view_of`` files) and scenarios on them."""

import textwrap

import pytest

import tradesim
from tradesim import Measure, TariffSchedule
from tradesim.errors import InputError, ScenarioError

LAW = """
[schedule]
name = "law"
as_of = 2025-09-01
version = "7"

[[measures]]
name = "mfn"
kind = "mfn"
importer = "USA"
rates_pct = { "87" = 2.5 }
start = 2024-01-01

[[measures]]
name = "recip"
importer = "USA"
rate_pct = 10
exporter_rates_pct = { CHN = 125, VNM = 46 }
start = 2025-04-10
end = 2025-05-14
group = "reciprocal"

[[measures]]
name = "cars"
importer = "USA"
exporters = ["MEX", "CHN"]
products = ["8703"]
rate_pct = 25
start = 2025-04-03
replaces = ["reciprocal", "steel"]

[[measures]]
name = "steel"
importer = "USA"
exporters = ["MEX"]
products = ["72"]
rate_pct = 50
start = 2025-06-04

[[measures]]
name = "counter"
importer = "CHN"
rate_pct = 84
start = 2025-04-10
end = 2025-05-14
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def law(tmp_path):
    return write(tmp_path, "law.toml", LAW)


def test_a_view_keeps_the_measures_that_reach_its_pairs_narrowed_to_them(law):
    whole = TariffSchedule.from_file(law)
    view = whole.view([("CHN", "USA")], name="china")
    assert [m.name for m in view.measures] == ["mfn", "recip", "cars"]  # not steel (Mexico), not counter (China's)
    recip = view.measure("recip")
    assert recip.exporters == ("CHN",) and recip.rate == pytest.approx(1.25) and recip.exporter_rates is None
    assert view.measure("cars").replaces == ("reciprocal",)  # "steel" reaches no pair of the view
    assert (view.name, view.as_of, view.version) == ("china", whole.as_of, whole.version)
    for date in ("2025-04-14", "2025-07-01"):
        for product in ("870323", "9503", "7208"):
            assert view.rate(date, product, "CHN", "USA") == whole.rate(date, product, "CHN", "USA")
            assert view.rate(date, product, "VNM", "USA") == 0
    assert view.rate("2025-04-14", "870323", "CHN", "USA") == pytest.approx(0.025 + 0.25)


def test_two_exporters_of_one_importer_keep_their_own_rates(law):
    view = TariffSchedule.from_file(law).view([("CHN", "USA"), ("VNM", "USA")])
    assert dict(view.measure("recip").exporter_rates) == {"CHN": 1.25, "VNM": 0.46}
    assert view.rate("2025-04-14", "9503", "VNM", "USA") == pytest.approx(0.46)


def test_bad_pairs_are_named():
    law = TariffSchedule([Measure("a", "USA", 0.1, "2025-01-01", exporters=["CHN"])], name="x")
    with pytest.raises(InputError, match=r"no measure of schedule 'x' reaches the pairs \[\('VNM', 'USA'\)\]"):
        law.view([("CHN", "USA"), ("VNM", "USA")])
    for bad in ([], [("CHN",)], [("USA", "USA")], [("CHN", 3)]):
        with pytest.raises(InputError, match="expected a non-empty list of \\(exporter, importer\\) pairs"):
            law.view(bad)


def test_a_view_file_reads_as_the_view(law, tmp_path):
    path = write(tmp_path, "china.toml", """
        [schedule]
        name = "china"
        description = "law on the US-China pair"
        view_of = "law.toml"
        pairs = [["CHN", "USA"], ["USA", "CHN"]]
        """)
    view = TariffSchedule.from_file(path)
    assert view == TariffSchedule.from_file(law).view([("CHN", "USA"), ("USA", "CHN")], name="china",
                                                     description="law on the US-China pair", source=str(path))
    assert view.source == str(path) and view.rate("2025-04-14", "9503", "USA", "CHN") == pytest.approx(0.84)


def test_bad_view_files_report_every_problem(law, tmp_path):
    path = write(tmp_path, "bad.toml", """
        [schedule]
        view_of = "nowhere.toml"
        pairs = [["CHN"]]

        [[measures]]
        name = "extra"
        importer = "USA"
        rate_pct = 1
        start = 2025-01-01
        """)
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    text = str(err.value)
    assert "schedule.view_of" in text and "no file 'nowhere.toml'" in text
    assert "schedule.pairs" in text and "[['CHN']]" in text
    assert "a view holds no measures" in text
    assert len(err.value.problems) == 3
    itself = write(tmp_path, "self.toml", '[schedule]\nview_of = "self.toml"\npairs = [["CHN", "USA"]]\n')
    with pytest.raises(ScenarioError, match="cannot be a view of itself"):
        TariffSchedule.from_file(itself)
    write(tmp_path, "a.toml", '[schedule]\nview_of = "b.toml"\npairs = [["CHN", "USA"]]\n')
    b = write(tmp_path, "b.toml", '[schedule]\nview_of = "a.toml"\npairs = [["CHN", "USA"]]\n')
    with pytest.raises(InputError, match="views form a circle: b.toml -> a.toml -> b.toml"):
        TariffSchedule.from_file(b)


def test_a_scenario_changes_the_schedule_viewed_before_the_view_narrows_it(law, tmp_path):
    write(tmp_path, "china.toml", '[schedule]\nview_of = "law.toml"\npairs = [["CHN", "USA"], ["USA", "CHN"]]\n')
    path = write(tmp_path, "s.toml", """
        [scenario]
        name = "held"
        baseline = "demo-2024"
        schedule = "china.toml"
        start = 2025-01-01
        end = 2025-12-31

        [[measures]]
        name = "recip"
        end = 2026-01-01

        [[phases]]
        measure = "recip"
        path = [{ date = 2025-09-01, rate_pct = 60 }]
        """)
    scenario = tradesim.load_scenario(path)
    law = scenario.schedule
    assert {m.name.split("@")[0] for m in law.measures} == {"mfn", "recip", "cars", "counter"}
    # the phase acts on China's own rate (125%), not on the 10% written for everyone else
    assert law.rate("2025-08-01", "9503", "CHN", "USA") == pytest.approx(1.25)
    assert law.rate("2025-10-01", "9503", "CHN", "USA") == pytest.approx(0.60)
    assert law.rate("2025-10-01", "9503", "VNM", "USA") == 0


def test_a_scenario_on_views_that_form_a_circle_is_an_error(tmp_path):
    write(tmp_path, "a.toml", '[schedule]\nview_of = "b.toml"\npairs = [["CHN", "USA"]]\n')
    write(tmp_path, "b.toml", '[schedule]\nview_of = "a.toml"\npairs = [["CHN", "USA"]]\n')
    path = write(tmp_path, "s.toml", '[scenario]\nbaseline = "demo-2024"\nschedule = "a.toml"\n'
                                     'start = 2025-01-01\nend = 2025-12-31\n')
    with pytest.raises(ScenarioError, match="form a circle: a.toml -> b.toml -> a.toml"):
        tradesim.load_scenario(path)
