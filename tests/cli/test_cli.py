import pytest

from tradesim.cli import main


def test_baseline_summary(capsys):
    assert main(["baseline", "demo-2024"]) == 0
    out = capsys.readouterr().out
    assert "Baseline(year=2024, 96 products x 16 countries" in out
    assert "United States" in out and "3,267.4" in out  # US imports, USD bn
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
