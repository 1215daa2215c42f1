"""The bundled scenario files (``scenarios/`` in the repository, ``tradesim.scenarios`` when installed)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["list_scenarios", "scenario_path"]


def _bundled() -> dict[str, object]:
    try:
        folder = resources.files("tradesim.scenarios")  # installed: scenarios/ is mapped into the package
    except ModuleNotFoundError:
        # imported from a source checkout that is not installed (python -m benchmarks in the repository):
        # the files are in scenarios/ beside the package
        folder = Path(__file__).resolve().parents[2] / "scenarios"
    return {f.name[: -len(".toml")]: f for f in folder.iterdir() if f.name.endswith(".toml")}


def list_scenarios() -> pd.DataFrame:
    """Bundled scenarios: name, what they extend and their description."""
    rows = []
    for name, file in sorted(_bundled().items()):
        with file.open("rb") as fh:
            meta = tomllib.load(fh).get("scenario", {})
        rows.append({"name": name, "extends": meta.get("extends", ""), "description": meta.get("description", "")})
    return pd.DataFrame(rows, columns=["name", "extends", "description"]).set_index("name")


def scenario_path(ref: str, relative_to: Path | None = None) -> Path | None:
    """The file of a bundled scenario name or a path, or None if there is neither.

    A path named inside a file (`relative_to` its folder) is resolved beside that file only,
    never in the current folder, so a file means the same wherever it is run from. A path the
    user gives directly (`relative_to` None) is relative to the current folder.
    """
    if "\x00" in ref:
        return None
    bundled = _bundled()
    looks_like_path = ref.endswith(".toml") or "/" in ref or "\\" in ref
    if not looks_like_path and ref in bundled:
        with resources.as_file(bundled[ref]) as p:
            return Path(p)
    path = Path(ref)
    if not path.is_absolute() and relative_to is not None:
        path = Path(relative_to) / path
    return path.resolve() if path.is_file() else None
