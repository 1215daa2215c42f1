"""Every subpackage in the source tree is listed for installation, so `pip install .` ships it."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_subpackage_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "tradesim").rglob("__init__.py")}
    missing = found - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert "tradesim.models" in listed


def test_every_data_file_in_git_is_installed():
    """A file the package reads (data, schedules, licence notices) matches a package-data pattern:
    CI's earlier failure was a LICENSES folder that the checkout had and the installed package did not."""
    import subprocess

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = {name: ROOT / config.get("package-dir", {}).get(name, name.replace(".", "/")) for name in config["packages"]}
    tracked = subprocess.run(["git", "ls-files", "tradesim", "scenarios"], cwd=ROOT, capture_output=True, text=True)
    if tracked.returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    shipped = set()
    for name, folder in dirs.items():
        for pattern in config["package-data"].get(name, []):
            shipped |= {p.resolve() for p in folder.glob(pattern)}
    missing = [f for f in tracked.stdout.split() if not f.endswith(".py") and (ROOT / f).resolve() not in shipped]
    assert not missing, f"add patterns for {missing} to [tool.setuptools.package-data] in pyproject.toml"
