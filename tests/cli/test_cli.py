import pytest

from tradesim.cli import main


def test_baseline_summary(capsys):
    assert main(["baseline", "demo-2024"]) == 0
    out = capsys.readouterr().out
    assert "Baseline(year=2024, 98 products x 16 countries" in out
    assert "United States" in out and "3,251.2" in out  # US imports for consumption, USD bn
    assert "imputed cells:" in out


def test_list(capsys):
    assert main(["list"]) == 0
    assert "demo-2024" in capsys.readouterr().out


def test_unknown_baseline_is_a_clean_error(capsys):
    assert main(["baseline", "demo-1999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "demo-1999" in err and "Traceback" not in err


def test_bad_file_names_the_line(tmp_path, capsys):
    path = tmp_path / "f.csv"
    path.write_text("exporter,importer,product,value\nCHN,USA,8542,-1\n")
    assert main(["baseline", str(path)]) == 2
    assert "line 2" in capsys.readouterr().err


def test_debug_shows_the_exception(tmp_path):
    from tradesim import InputError

    with pytest.raises(InputError):
        main(["--debug", "baseline", str(tmp_path / "missing.csv")])


def test_console_script_is_installed():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "tradesim"
    assert exe.exists(), f"the tradesim console script is not installed beside {sys.executable}"
    done = subprocess.run([str(exe), "list"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "demo-2024" in done.stdout


def test_list_shows_schedules(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "tariff schedules:" in out and "us-china-2025" in out


def test_rate_explains_the_toy_at_145(capsys):
    assert main(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "9503", "--date", "2025-04-14"]) == 0
    out = capsys.readouterr().out
    assert "total duty under the schedule's measures: 145.00%" in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith("us_")}
    recip = lines["us_ieepa_recip_pause_china_125"]
    assert "applied" in recip and "125.00" in recip
    assert "applied" in lines["us_ieepa_fentanyl_chn_20"]
    assert "applied" in lines["us_mfn"]  # toys are free of MFN duty
    assert "not in force" in lines["us_ieepa_recip_annex_i_2025_04_09"]
    assert "us_s232_autos_25" not in lines  # does not cover toys: shown only with --all


def test_rate_with_dotted_code_and_all_rows(capsys):
    assert main(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "8471.30", "--date", "2025-04-14", "--all"]) == 0
    out = capsys.readouterr().out
    assert "total duty under the schedule's measures: 20.00%" in out and "us_s232_autos_25" in out and "product not covered" in out


def test_rate_from_a_schedule_file_and_partial_coverage_note(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(
        '[[product_lists]]\nname = "el"\ncodes = ["847130"]\n\n'
        '[[measures]]\nname = "r"\nimporter = "USA"\nexporters = ["CHN"]\nexclude = ["el"]\nrate_pct = 50\nstart = 2025-01-01\n'
    )
    assert main(["rate", "--importer", "USA", "--exporter", "CHN", "--product", "8471", "--date", "2025-02-01",
                 "--schedule", str(path)]) == 0
    captured = capsys.readouterr()
    # 8471 has 8 HS 2022 subheadings, one exempted: 50% * 7/8
    assert "total duty under the schedule's measures: 43.75%" in captured.out
    assert "note: measures cover 1 product(s) only in part" in captured.err  # notes on stderr, tables on stdout
    assert "note:" not in captured.out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--importer", "US"], "did you mean USA"),
        (["--date", "2025-13-01"], "not a date"),
        (["--product", "95x3"], "characters other than digits"),
        (["--schedule", "nope"], "no bundled schedule 'nope'"),
    ],
)
def test_rate_bad_input_is_a_clean_error(capsys, args, expected):
    base = {"--importer": "USA", "--exporter": "CHN", "--product": "9503", "--date": "2025-04-14"}
    base.update(dict(zip(args[::2], args[1::2])))
    assert main(["rate", *[x for kv in base.items() for x in kv]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and "Traceback" not in err


def test_output_piped_into_head_stops_quietly(tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        f'"{sys.executable}" -m tradesim.cli baseline demo-2024 | head -1',
        shell=True, capture_output=True, text=True,
    )
    assert run.stdout.startswith("Baseline(year=2024")
    assert "Traceback" not in run.stderr and "BrokenPipeError" not in run.stderr
