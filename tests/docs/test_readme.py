"""Every code block of README.md runs, in order, as a reader would run it from the top of a clone.

The ```python blocks run one after another in one namespace, in a temporary folder that holds a copy
of ``examples/data`` (the README's sample files), with the Agg backend for matplotlib. A line that
is an expression followed by a comment starting with a number or a tuple (``x.shape  # (98, 16, 16)``,
``rate(...)  # 1.45: ...``) must print that value, to the decimals the comment gives. The ```bash
blocks' ``tradesim ...`` lines run through `tradesim.cli.main` (arguments split as a shell would)
and must exit with status 0; ``pip``, ``python``, ``.venv/...`` and ``pytest`` lines (the set-up
commands, which ``.ci/run`` runs in a fresh environment) are skipped. A failure names the block by
its number and first line.
"""

from __future__ import annotations

import ast
import math
import re
import shlex
import shutil
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
SKIPPED = ("pip", "python", "python3", "pytest")
# `expression  # 1.45: text` or `expression  # (98, 16, 16): text`
STATED = re.compile(r"^(?P<expr>[^#]+?)\s+#\s+(?P<value>-?[\d.]+|\([\d\s,.-]+\))(?=[:\s]|$)")


def blocks(language: str) -> list[tuple[int, str]]:
    """``(number, code)`` of the README's fenced blocks in `language`, numbered over all blocks from 1."""
    found = FENCE.findall(README.read_text(encoding="utf-8"))
    return [(k, code) for k, (lang, code) in enumerate(found, 1) if lang == language]


def label(number: int, code: str) -> str:
    first = next((line for line in code.splitlines() if line.strip()), "")
    return f"README block {number} ({first.strip()[:70]!r})"


def commands(code: str) -> list[list[str]]:
    """The ``tradesim`` command lines of a bash block, split as a shell would (comments dropped)."""
    out = []
    for line in code.splitlines():
        argv = shlex.split(line, comments=True)
        if not argv:
            continue
        if Path(argv[0]).name in SKIPPED or "&&" in argv:
            continue  # installation and the set-up commands
        assert argv[0] == "tradesim", f"a README command that is not tradesim's: {line!r}"
        out.append(argv)
    return out


def close(value, stated: str) -> bool:
    """Whether `value` prints as `stated` to the decimals the statement gives."""
    expected = ast.literal_eval(stated)
    if isinstance(expected, tuple):
        return tuple(value) == expected
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    return math.isclose(round(float(value), decimals), expected, abs_tol=10 ** -decimals / 2)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder to run in, with the sample files where the README says they are."""
    path = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "examples" / "data", path / "examples" / "data")
    return path


@pytest.fixture
def inside(folder, monkeypatch):
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    import matplotlib

    matplotlib.use("Agg")
    return folder


def test_the_readme_has_code_to_run():
    assert blocks("python") and commands("\n".join(code for _, code in blocks("bash")))
    assert "pip install tradesim-policy" in README.read_text(encoding="utf-8")


def test_the_two_set_up_commands_are_the_ones_ci_runs():
    first = blocks("bash")[0][1].strip().splitlines()
    assert first == ['python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/tradesim run us-china-2025',
                     '.venv/bin/pip install ".[test]" && .venv/bin/pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/tradesim run us-china-2025" in ci and '".[test]"' in ci


def test_python_blocks_run_in_order(inside):
    import matplotlib.pyplot as plt

    namespace: dict = {"__name__": "__main__"}
    try:
        for number, code in blocks("python"):
            where = label(number, code)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the library's notes are for readers, not failures
                try:
                    exec(compile(code, where, "exec"), namespace)
                except Exception as err:  # noqa: BLE001
                    pytest.fail(f"{where} failed: {type(err).__name__}: {err}")
                for line in code.splitlines():
                    m = STATED.match(line)
                    if not m or "=" in m["expr"].replace("==", ""):
                        continue
                    value = eval(m["expr"], namespace)  # noqa: S307 - our own README
                    assert close(value, m["value"]), (
                        f"{where}: {m['expr'].strip()} is {value!r}, the README says {m['value']}")
    finally:
        plt.close("all")


@pytest.mark.parametrize("number, code", blocks("bash"), ids=[f"block{n}" for n, _ in blocks("bash")])
def test_bash_blocks_run(number, code, inside, capsys):
    from tradesim.cli import main

    for argv in commands(code):
        try:
            status = main(argv[1:])
        except SystemExit as exit_:
            status = exit_.code
        out = capsys.readouterr()
        assert status == 0, (f"{label(number, code)}: {shlex.join(argv)} exited with {status}\n"
                             f"{out.err[-2000:]}")


def test_relative_links_point_at_files():
    text = README.read_text(encoding="utf-8")
    missing = [target for target in re.findall(r"\]\(([^)#:]+)\)", text) if not (ROOT / target).exists()]
    assert not missing, f"README links to missing files: {missing}"
