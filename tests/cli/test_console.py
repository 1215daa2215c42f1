"""Issue 23 item 2: a command line that behaves. -q/-v, progress bars on stderr only on a terminal (and never with
TQDM_DISABLE), notes on stderr and tables on stdout, each note once, -V, examples in every --help."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tradesim
from tradesim import version
from tradesim.cli import _parser, main

EXE = Path(sys.executable).parent / "tradesim"
COMMANDS = ["list", "baseline", "rate", "rates", "show", "validate", "run"]


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self):
        return True


def test_version(capsys):
    for flag in ("-V", "--version"):
        assert main([flag]) == 0
        assert capsys.readouterr().out == f"tradesim {version.__version__}\n"
    assert tradesim.__version__ == version.__version__
    done = subprocess.run([str(EXE), "-V"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"tradesim {version.__version__}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_has_examples(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "\nexamples:\n" in out and f"tradesim {command}" in out.split("examples:")[1]
    assert "-q, --quiet" in out and "-v, --verbose" in out


def test_main_help_and_bad_flags(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "YYYY-MM-DD" in out
    assert main(["run"]) == 2  # a missing argument: argparse's message on stderr, status 2, no traceback
    err = capsys.readouterr().err
    assert "the following arguments are required: scenario" in err and "Traceback" not in err
    assert main(["-q", "-v", "list"]) == 2


def test_run_help_says_what_happens_to_the_output_folder():
    text = _parser()._subparsers._group_actions[0].choices["run"].format_help()
    assert "run.json" in text and "refused" in text and ".tradesim-*" in text and "replaced" in text


# --------------------------------------------------------------------------- where things go


def test_tables_on_stdout_notes_on_stderr_each_once(capsys):
    assert main(["run", "geneva-truce"]) == 0  # it runs geneva-truce and april-peak: the same notes twice
    captured = capsys.readouterr()
    assert "note:" not in captured.out and "imports (annual rate" in captured.out
    notes = [line for line in captured.err.splitlines() if line.startswith("note: ")]
    assert notes and len(notes) == len(set(notes))
    assert any("domestic sales" in n for n in notes)


def test_quiet_leaves_the_tables_and_the_errors(capsys, tmp_path):
    assert main(["-q", "run", "april-peak", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "imports (annual rate" in captured.out
    assert main(["run", "april-peak", "-q"]) == 0  # after the subcommand too
    assert capsys.readouterr().err == ""
    assert main(["-q", "run", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_verbose_adds_timings_and_the_estimate(capsys):
    assert main(["-v", "run", "april-peak"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^time: reading the scenario: \d+\.\d\d s$", err, flags=re.M)
    assert re.search(r"^time: running april-peak: \d+\.\d\d s$", err, flags=re.M)
    assert "estimate: 12 monthly periods" in err and "note: " in err
    assert main(["validate", "april-peak", "--verbose"]) == 0
    assert "time: reading the baseline" in capsys.readouterr().err


def test_show_and_rate_put_notes_on_stderr(capsys):
    assert main(["show", "phased-cut"]) == 0
    captured = capsys.readouterr()
    assert "note:" not in captured.out and "CHN->USA" in captured.out


# --------------------------------------------------------------------------- progress bars


def _run_with_stderr(monkeypatch, stderr, argv, env=None):
    for key in ("TQDM_DISABLE",):
        monkeypatch.delenv(key, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(argv)
    monkeypatch.setattr(sys, "stderr", sys.__stderr__)
    return code, stderr.getvalue()


def test_progress_only_on_a_terminal(monkeypatch, tmp_path, capsys):
    code, text = _run_with_stderr(monkeypatch, Terminal(), ["run", "april-peak", "--out", str(tmp_path / "a")])
    assert code == 0
    assert "\r" in text and "run:" in text and "step" in text  # the bar over the steps of the command
    assert "writing" in text  # writing the outputs is covered too
    code, text = _run_with_stderr(monkeypatch, io.StringIO(), ["run", "april-peak", "--out", str(tmp_path / "b")])
    assert code == 0 and "\r" not in text and "step" not in text  # not a terminal: no bar
    assert "note: " in text


@pytest.mark.parametrize("value", ["1", "True", "yes"])
def test_tqdm_disable_turns_bars_off(monkeypatch, capsys, value):
    code, text = _run_with_stderr(monkeypatch, Terminal(), ["run", "april-peak"], {"TQDM_DISABLE": value})
    assert code == 0 and "\r" not in text and "note: " in text


def test_quiet_turns_bars_off(monkeypatch, capsys):
    code, text = _run_with_stderr(monkeypatch, Terminal(), ["-q", "run", "april-peak"])
    assert code == 0 and text == ""


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("disable", [False, True])
def test_progress_as_a_real_process_on_a_terminal(tmp_path, disable):
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    if disable:
        env["TQDM_DISABLE"] = "1"
    proc = subprocess.Popen([str(EXE), "run", "april-peak", "--out", str(tmp_path / "o")], stdout=subprocess.PIPE,
                            stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the follower closed: the process ended
            break
        if not data:
            break
        chunks.append(data)
    out = proc.stdout.read().decode()
    proc.wait()
    os.close(leader)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, err
    assert "imports (annual rate" in out and "\r" not in out  # nothing of the bar on stdout
    if disable:
        assert "\r" not in err.replace("\r\n", "\n") and "note: " in err
    else:
        assert "\r" in err.replace("\r\n", "\n") and "run:" in err


def test_progress_is_off_when_stderr_is_a_pipe(tmp_path):
    done = subprocess.run([str(EXE), "run", "april-peak", "--out", str(tmp_path / "o")], capture_output=True,
                          text=True, check=False, env={k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"})
    assert done.returncode == 0 and "\r" not in done.stderr and "note: " in done.stderr
    assert "note:" not in done.stdout
