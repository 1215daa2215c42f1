"""Write results: tidy tables (CSV or Parquet) and figures into a folder, all or nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import InputError

__all__ = ["FORMATS", "check_folder", "write_outputs"]

FORMATS = ("csv", "parquet")


def check_folder(folder, fmt: str = "csv") -> Path:
    """The output folder, created if needed; `InputError` if it cannot be written or the format is unusable.

    Called before a run, so that a bad folder fails fast and nothing is computed for nothing.
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {list(FORMATS)}", key="--format")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("writing Parquet needs pyarrow: pip install 'tradesim[parquet]'", key="--format") from None
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".tradesim-probe-", delete=True)
        probe.close()
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", source=str(path), key="--out") from None
    return path


def write_outputs(folder, tables: dict, fmt: str = "csv", figures: dict | None = None) -> list[Path]:
    """Write tables (name -> DataFrame) and figures (name -> matplotlib Figure) into `folder`.

    Everything is written into a temporary folder inside `folder` first and moved into place
    only when all of it succeeded, so a failure leaves no partial results.

    Returns
    -------
    list of Path
        The files written.
    """
    path = check_folder(folder, fmt)
    staging = Path(tempfile.mkdtemp(dir=path, prefix=".tradesim-"))
    try:
        names = []
        for name, frame in tables.items():
            file = staging / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(file, index=False)
            else:
                frame.to_parquet(file, index=False)
            names.append(file.name)
        for name, fig in (figures or {}).items():
            file = staging / f"{name}.png"
            fig.savefig(file, dpi=150, bbox_inches="tight")
            names.append(file.name)
        for name in names:
            os.replace(staging / name, path / name)
    except OSError as err:
        raise InputError(f"cannot write results: {err.strerror or err}", source=str(path), key="--out") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [path / n for n in names]
