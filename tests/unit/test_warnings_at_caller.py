"""Issue 23 item 3: every TradesimWarning points at the caller's line (not a line of tradesim), once per call."""

import sys
import warnings
from pathlib import Path


import tradesim
from tradesim import TradesimWarning
from tradesim.cli import main
from tradesim.files import caller_frame, once_per_call, warn_at_caller

PACKAGE = Path(tradesim.__file__).parent
HERE = str(Path(__file__))


def inside_tradesim(source: str, name: str = "fake_module.py"):
    """Run `source` as if it were a module of the tradesim package (its frames count as tradesim's)."""
    namespace = {"__name__": "tradesim._fake", "warn_at_caller": warn_at_caller, "once_per_call": once_per_call}
    exec(compile(source, str(PACKAGE / name), "exec"), namespace)
    return namespace


def test_a_warning_from_deep_inside_points_at_the_callers_line():
    ns = inside_tradesim("def inner():\n    warn_at_caller('deep')\n\ndef outer():\n    inner()\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ns["outer"]()
        line = sys._getframe().f_lineno - 1
    (w,) = caught
    assert w.filename == HERE and w.lineno == line
    assert w.category is TradesimWarning and str(w.message) == "deep"


def test_warn_at_caller_called_directly_and_with_another_category():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_at_caller("plain", UserWarning)
    assert caught[0].filename == HERE and caught[0].category is UserWarning


def test_the_default_filter_shows_a_warning_once_per_line():
    ns = inside_tradesim("def f():\n    warn_at_caller('again')\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):
            ns["f"]()  # the same line of the caller
    assert len(caught) == 1


def test_once_per_call_says_a_message_once_per_call():
    ns = inside_tradesim(
        "@once_per_call()\n"
        "def call(n):\n"
        "    for _ in range(n):\n"
        "        warn_at_caller('the baseline has no domestic sales')\n"
        "    warn_at_caller('another')\n"
        "    helper()\n"
        "@once_per_call()\n"
        "def helper():\n"
        "    warn_at_caller('the baseline has no domestic sales')\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ns["call"](5)
        ns["call"](5)  # a second call says it again
    assert [str(w.message) for w in caught] == ["the baseline has no domestic sales", "another"] * 2
    assert all(w.filename == HERE for w in caught)


def test_caller_frame_is_outside_the_package():
    ns = inside_tradesim("def where():\n    return caller_frame()\n", "other.py")
    ns["caller_frame"] = caller_frame
    frame = ns["where"]()
    assert frame.f_code.co_filename == HERE


def test_a_warning_raised_by_simulate_points_at_this_file():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        tradesim.simulate(None, "april-peak")
        line = sys._getframe().f_lineno - 1
    ours = [w for w in caught if issubclass(w.category, TradesimWarning)]
    assert ours and all(w.filename == HERE and w.lineno == line for w in ours)
    messages = [str(w.message) for w in ours]
    assert len(messages) == len(set(messages))  # once per call


def test_a_warning_raised_by_an_ensemble_points_at_this_file():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        tradesim.ensemble.run(None, "april-peak", draws=2)
    ours = [w for w in caught if issubclass(w.category, TradesimWarning)]
    assert ours and all(w.filename == HERE for w in ours)


def test_a_warning_of_the_law_raised_by_simulate_points_at_this_file_once():
    base = tradesim.load_baseline("demo-2024")
    s = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.5, "2025-01-01", products=["8471"])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        tradesim.simulate(base, (s, "2024-12-31"), (s, "2025-01-01"), domestic=False)
    ours = [w for w in caught if issubclass(w.category, TradesimWarning)]
    assert ours and all(w.filename == HERE for w in ours)
    assert len({str(w.message) for w in ours}) == len(ours)


def test_the_command_line_says_each_note_once(capsys):
    assert main(["run", "geneva-truce"]) == 0  # two runs (the scenario and the one it is read against)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: ")]
    assert notes and len(notes) == len(set(notes))


def test_a_warning_reaches_a_script_read_from_standard_input():
    """`python - < script.py`: the caller's module has a loader without source; the warning still shows."""
    import subprocess
    import sys

    script = ("import tradesim\n"
              "from tradesim.files import warn_at_caller\n"
              "warn_at_caller('rows set aside')\n")
    done = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "<stdin>:3: TradesimWarning: rows set aside" in done.stderr


def test_a_results_notes_say_what_its_warnings_said():
    base = tradesim.load_baseline("demo-2024")
    s = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.5, "2025-01-01", products=["8471"])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        r = tradesim.simulate(base, (s, "2024-12-31"), (s, "2025-01-01"), domestic=False)
    said = {str(w.message) for w in caught if issubclass(w.category, TradesimWarning)}
    assert said and said <= set(r.notes)
