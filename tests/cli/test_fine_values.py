"""Finer trade values for the law's shares: given in Python, in a scenario file or on the command line,
the same numbers; bad files are errors naming the file, the row and the value."""

import warnings

import pandas as pd
import pytest

import tradesim
from tradesim.cli import main

FINE = """product,value,exporter,importer
851713,60000000000,CHN,USA
847130,40000000000,CHN,USA
85,41000000000,CHN,USA
95,30000000000,CHN,USA
"""


@pytest.fixture(scope="module")
def fine_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fine")
    (folder / "fv.csv").write_text(FINE)
    (folder / "s.toml").write_text('[scenario]\nname = "with-fine"\nextends = "april-peak"\nfine_values = "fv.csv"\n'
                                   'end = 2025-06-30\n')
    return folder


def pairs(result):
    return result.summary("pair").reset_index(drop=True)


def test_python_scenario_file_and_command_line_give_the_same_numbers(fine_file, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_file = tradesim.simulate(None, tradesim.load_scenario(fine_file / "s.toml"))
        scenario = tradesim.load_scenario(fine_file / "s.toml")
        plain = scenario.__class__(**{**scenario.__dict__, "fine_values": None})
        from_python = tradesim.simulate(None, plain, fine_values=str(fine_file / "fv.csv"))
        without = tradesim.simulate(None, plain, fine_values="fine-values-2024")
    pd.testing.assert_frame_equal(pairs(from_file), pairs(from_python))
    # the values matter: smartphones and laptops are exempt from the reciprocal duty
    assert not pairs(from_file)["tariff_pct"].equals(pairs(without)["tariff_pct"])
    out = tmp_path / "out"
    assert main(["run", str(fine_file / "s.toml"), "--out", str(out), "--format", "csv"]) == 0
    cli = pd.read_csv(out / "summary_pairs.csv", parse_dates=["date"])
    pd.testing.assert_frame_equal(cli, pairs(from_file), check_dtype=False, rtol=1e-9)  # 10 significant digits
    out2 = tmp_path / "out2"
    assert main(["run", "april-peak", "--fine-values", str(fine_file / "fv.csv"), "--out", str(out2),
                 "--format", "csv"]) == 0
    peak = pd.read_csv(out2 / "summary_pairs.csv", parse_dates=["date"])
    june = peak[peak["date"] <= "2025-06-01"].reset_index(drop=True)
    pd.testing.assert_frame_equal(june, pairs(from_file), check_dtype=False, rtol=1e-9)


def test_the_bundled_us_china_runs_take_exact_shares_for_every_us_measure():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", tradesim.TradesimWarning)
        r = tradesim.simulate(None, "us-china-2025")
    said = [str(w.message) for w in caught] + list(r.notes)
    assert not any("USA's measures cover" in s for s in said)
    china = [s for s in said if s.startswith("CHN's measures cover")]
    assert china and "USD" in china[0] and "chapters" in china[0]  # the value the fallback reaches is said
    assert r.provenance["baseline_as_of"] and r.provenance["baseline_licence"]


@pytest.mark.parametrize("text, match", [
    ("product,value\n851713,-5\n", r"fv.csv: column 'value': value '-5' is not a number >= 0 \(line 2\)"),
    ("product,value\n85171,5\n", r"fv.csv: column 'product': HS code '85171' has 5 digits.* \(line 2\)"),
    ("product,value,exporter\n851713,5,XXX\n", r"fv.csv: column 'exporter': unknown country code 'XXX'"),
    ("product,value\n851713,\n", r"fv.csv: column 'value': value blank is not a number >= 0 \(line 2\)"),
])
def test_bad_fine_values_files_name_the_file_row_and_value(tmp_path, text, match):
    (tmp_path / "fv.csv").write_text(text)
    with pytest.raises(tradesim.InputError, match=match):
        tradesim.data.load_fine_values(str(tmp_path / "fv.csv"))


def test_fine_values_that_nest_under_no_product_are_refused(tmp_path, capsys):
    (tmp_path / "fv.csv").write_text("product,value\n0101210000,5\n")  # fine, but the demo has chapters only:
    # (a ten-digit code nests under chapter 01, so use a baseline of HS6 lines to make one that does not)
    frame = pd.DataFrame({"exporter": ["CHN"], "importer": ["USA"], "product": ["850440"], "value": [1e9]})
    base = tradesim.Baseline.from_frame(frame, year=2024)
    s = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.1, "2025-01-01", products=["85044090"])])
    problem = tradesim.data.bundled.fine_values_problem(pd.read_csv(tmp_path / "fv.csv", dtype={"product": str}),
                                                        base.products)
    assert "1 product codes nest under none of the baseline's products (for example '0101210000')" in problem
    assert s.rates("2025-06-01", base.products, ["CHN"], ["USA"]).shape == (1, 1, 1)
