"""The bundled tariff schedules (``tradesim/law/schedules``)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .schedule import TariffSchedule

__all__ = ["list_schedules", "load_schedule", "schedule_file"]


def _files() -> dict[str, object]:
    folder = resources.files(__package__).joinpath("schedules")
    return {f.name[: -len(".toml")]: f for f in folder.iterdir() if f.name.endswith(".toml")}


def schedule_file(name: str) -> Path | None:
    """The file of a bundled schedule, or None when there is none of that name."""
    found = _files().get(name)
    if found is None:
        return None
    with resources.as_file(found) as p:
        return Path(p)


def list_schedules() -> pd.DataFrame:
    """Bundled tariff schedules: name, number of measures in the file, as-of date, version and description."""
    rows = []
    for name, file in sorted(_files().items()):
        with file.open("rb") as fh:
            data = tomllib.load(fh)
        meta = data.get("schedule", {})
        rows.append({"name": name, "measures": len(data.get("measures", [])), "includes": len(meta.get("include", [])),
                     "as_of": str(meta.get("as_of", "")), "version": meta.get("version", ""),
                     "description": meta.get("description", "")})
    columns = ["name", "measures", "includes", "as_of", "version", "description"]
    return pd.DataFrame(rows, columns=columns).set_index("name")


@lru_cache(maxsize=8)
def load_schedule(name: str) -> TariffSchedule:
    """Load a bundled tariff schedule by name (see `list_schedules`), e.g. ``"us-china-2025"``.

    Returns
    -------
    TariffSchedule

    Examples
    --------
    >>> s = load_schedule("us-china-2025")
    >>> round(100 * s.rate("2025-04-14", "950300", "CHN", "USA"))
    145
    """
    path = schedule_file(name)
    if path is None:
        raise InputError(f"no bundled schedule {name!r}; bundled: {sorted(_files())}", key="schedule")
    return TariffSchedule.from_file(path)
