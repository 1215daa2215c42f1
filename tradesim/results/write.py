"""Write a run's outputs into a folder as one set: tables, figures and a manifest (``run.json``), or nothing.

How a folder is written
-----------------------
1. `check_folder` looks before any work and creates nothing: ``-`` and a path that is not a
   folder are refused, and so is a folder that holds files tradesim did not write (a folder
   is tradesim's when it is new, empty, or has the ``run.json`` of an earlier run).
2. `write_outputs` creates the folder only then, and writes every file into a staging folder
   inside it (``.tradesim-<pid>-<random>/``), the manifest ``run.json`` last.
3. The previous run's files (those its ``run.json`` lists) are moved aside, the new ones moved
   in, ``run.json`` last; each move is an atomic rename on the same file system. If a move
   fails, the new files are taken out again and the previous ones put back. Files of the
   folder that no run wrote are kept, and a note says so.
4. A staging folder left by a run that was killed (its process is gone) is cleaned up by the
   next run that writes to the folder, with a note; if the kill came while files were being
   moved, the previous run's files are put back first. Readers can tell a complete set: it is
   the files ``run.json`` lists, with their sizes and SHA-256.

Tables are written as CSV (floats rounded to 10 significant digits: no ``73213218.99999999``;
dates as YYYY-MM-DD) or Parquet (full double precision).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..files import file_sha256

__all__ = ["FORMATS", "MANIFEST", "FLOAT_FORMAT", "Written", "check_folder", "default_format", "folder_manifest",
           "pyarrow_installed", "significant", "write_csv", "write_outputs", "write_table"]

FORMATS = ("csv", "parquet")
#: The manifest of a folder of outputs, written last.
MANIFEST = "run.json"
#: How floats are written to CSV: 10 significant digits, which drops the noise of binary fractions.
FLOAT_FORMAT = "%.10g"
#: Staging folders (and the leftovers of killed runs) start with this.
STAGING = ".tradesim-"
#: Files a desktop puts into folders; neither tradesim's nor the user's work.
_IGNORED = {".DS_Store", "Thumbs.db", "desktop.ini"}
#: Rows written per block of a CSV file (for the progress bar; the output is the same).
_BLOCK = 200_000
_STAGING_NAME = re.compile(re.escape(STAGING) + r"(\d+)-")


@dataclass
class Written:
    """What `write_outputs` did.

    Attributes
    ----------
    folder : Path
    files : list of Path
        The files written (tables, figures, then ``run.json``).
    notes : list of str
        What the reader should know: leftovers of killed runs cleaned up, files of the folder
        that no run wrote and were kept, files of the previous run that were replaced.
    manifest : dict
        The content of ``run.json``.
    """

    folder: Path
    files: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    manifest: dict = field(default_factory=dict)


def pyarrow_installed() -> bool:
    """Whether pyarrow can be imported (Parquet files and the fast CSV writer need it)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def default_format() -> str:
    """``"parquet"`` when pyarrow is installed, else ``"csv"``."""
    return "parquet" if pyarrow_installed() else "csv"


def check_folder(folder, fmt: str = "csv", *, key: str = "--out") -> Path:
    """Check that `folder` can take a run's outputs, before the run; creates nothing.

    Parameters
    ----------
    folder : path-like
        A new folder (its parents are created when the outputs are written), an empty one,
        or one that tradesim wrote before (its ``run.json`` lists the files to replace).
    fmt : {"csv", "parquet"}
    key : str
        Named in errors (the command line's flag).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        ``-`` or an empty name; a path that exists and is not a folder; a folder with files
        that tradesim did not write; a place that cannot be written; Parquet without pyarrow.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = check_folder(pathlib.Path(tmp) / "results", "csv")
    ...     created = out.exists()
    >>> out.name, created
    ('results', False)
    """
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not one of {list(FORMATS)}", key="--format")
    if fmt == "parquet" and not pyarrow_installed():
        raise InputError("writing Parquet needs pyarrow: pip install pyarrow (or use --format csv)", key="--format")
    text = str(folder)
    if text.strip() in ("", "-"):
        raise InputError(f"{text!r} is not a folder name: outputs are files written into a folder (give --out DIR; "
                         "the tables are printed on standard output anyway)", key=key)
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise InputError("exists and is not a folder: give a new or empty folder, or one tradesim wrote before",
                         source=str(path), key=key)
    if path.is_dir():
        state = _inspect(path)
        if state.manifest is None and state.foreign:
            shown = ", ".join(state.foreign[:5]) + (f" and {len(state.foreign) - 5} more" if len(state.foreign) > 5
                                                    else "")
            why = "its run.json is not one tradesim wrote" if (path / MANIFEST).exists() else f"it has no {MANIFEST}"
            raise InputError(f"the folder has files that tradesim did not write ({shown}; {why}): give a new or empty "
                             "folder, so that results are never mixed with other files", source=str(path), key=key)
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError("cannot write here: permission denied", source=str(path), key=key)
        return path
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write here: {parent} is not a folder", source=str(path), key=key)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write here: permission denied in {parent}", source=str(path), key=key)
    return path


def folder_manifest(folder) -> dict | None:
    """The ``run.json`` of a folder of outputs, or None when there is none (or it is not tradesim's).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(folder_manifest(tmp))
    None
    """
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != "tradesim" or not isinstance(data.get("files"), list):
        return None
    return data


def write_outputs(folder, tables: dict, fmt: str = "csv", figures: dict | None = None, *,
                  manifest: dict | None = None, progress: bool = False, key: str = "--out") -> Written:
    """Write tables and figures into `folder` as one set, with the manifest ``run.json`` (see the module notes).

    Parameters
    ----------
    folder : path-like
    tables : dict of str to pandas.DataFrame
        Written as ``<name>.csv`` or ``<name>.parquet``, without the index.
    fmt : {"csv", "parquet"}
    figures : dict of str to matplotlib Figure, optional
        Saved as ``<name>.png``.
    manifest : dict, optional
        What to record of the run (command, version, inputs, notes...); the files written, with
        their sizes and SHA-256, the format, the time they were written (``finished``) and an id
        (``run_id``) are added.
    progress : bool
        Show a progress bar on standard error.
    key : str
        Named in errors.

    Returns
    -------
    Written

    Raises
    ------
    InputError
        When the folder cannot take the outputs (see `check_folder`) or a file cannot be
        written; then the folder holds what it held before.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = pathlib.Path(tmp) / "results"
    ...     done = write_outputs(out, {"summary": pd.DataFrame({"x": [0.1 + 0.2]})}, "csv")
    ...     text = (out / "summary.csv").read_text()
    ...     names = sorted(p.name for p in out.iterdir())
    >>> names, text.splitlines()[1]
    (['run.json', 'summary.csv'], '0.3')
    """
    path = check_folder(folder, fmt, key=key)
    figures = figures or {}
    names = [f"{name}.{fmt}" for name in tables] + [f"{name}.png" for name in figures]
    bad = [n for n in names if n == MANIFEST or n.startswith(".") or "/" in n or "\\" in n or n in _IGNORED]
    if bad or len(set(names)) < len(names):
        raise InputError(f"cannot write files named {bad or names}: names must be unique, plain and not {MANIFEST!r}",
                         source=str(path), key=key)
    made = [p for p in (path, *path.parents) if not p.exists()]  # the folders this call creates
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", source=str(path), key=key) from None
    try:
        return _write_into(path, names, tables, figures, fmt, manifest, progress, key)
    except BaseException:
        for folder in made:  # a failed write leaves no folder behind that it created (if still empty)
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def _write_into(path: Path, names: list, tables: dict, figures: dict, fmt: str, manifest, progress: bool,
                key: str) -> Written:
    written = Written(path)
    written.notes += _clean_leftovers(path)
    state = _inspect(path)
    if state.manifest is None and state.foreign:  # a file appeared since the check
        check_folder(path, fmt, key=key)
    clash = sorted(set(names) & set(state.foreign))
    if clash:
        raise InputError(f"would replace {', '.join(clash)}, which no tradesim run wrote: move them away or give "
                         "another folder", source=str(path), key=key)
    try:
        staging = Path(tempfile.mkdtemp(dir=path, prefix=f"{STAGING}{os.getpid()}-"))
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", source=str(path), key=key) from None
    try:
        _write_files(staging, tables, figures, fmt, progress)
        record = dict(manifest or {})
        record.update(written_by="tradesim", run_id=uuid.uuid4().hex, format=fmt,
                      files=[{"name": n, "bytes": (staging / n).stat().st_size, "sha256": file_sha256(staging / n)}
                             for n in names])
        record["finished"] = _now()
        (staging / MANIFEST).write_text(json.dumps(record, indent=1, default=str) + "\n", encoding="utf-8")
        old = _swap(path, staging, names, state.manifest)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        raise InputError(f"cannot write results: {err.strerror or err}{where}; the folder holds what it held before",
                         source=str(path), key=key) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    replaced = sorted(set(old) - set(names))
    if replaced:
        written.notes.append(f"removed {len(replaced)} file(s) of the previous run in {path} that this run does not "
                             f"write: {', '.join(replaced)}")
    if state.foreign:
        written.notes.append(f"kept {len(state.foreign)} file(s) in {path} that no tradesim run wrote: "
                             f"{', '.join(state.foreign)}")
    written.files = [path / n for n in [*names, MANIFEST]]
    written.manifest = record
    return written


def write_table(frame, path, fmt: str, *, key: str = "--out", **options) -> Path:
    """Write one table into the file `path` (CSV, JSON or Parquet) through a temporary file renamed into place.

    A failed write leaves the previous file (if any) as it was. Floats in CSV have 10
    significant digits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_table(pd.DataFrame({"x": [73213218.99999999]}), pathlib.Path(tmp) / "t.csv", "csv", index=False)
    ...     text = out.read_text()
    >>> text
    'x\\n73213219\\n'
    """
    path = Path(path)
    text = str(path)
    if text.strip() in ("", "-"):
        raise InputError(f"{text!r} is not a file name (leave out --out to print on standard output)", key=key)
    if path.is_dir():
        raise InputError("is a folder: give the name of a file to write", source=text, key=key)
    if not path.parent.is_dir():
        raise InputError(f"cannot write here: no folder {path.parent}", source=text, key=key)
    if fmt == "parquet":
        _need_pyarrow()
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{STAGING}{os.getpid()}-", suffix=path.suffix)
        os.close(fd)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", source=text, key=key) from None
    try:
        if fmt == "csv":
            frame.to_csv(tmp, float_format=FLOAT_FORMAT, **options)  # a small table, with its index
        elif fmt == "json":
            frame.to_json(tmp, **options)
        elif fmt == "parquet":
            frame.to_parquet(tmp, **options)
        else:
            raise InputError(f"format {fmt!r} is not one of ['csv', 'json', 'parquet']", key="--format")
        os.replace(tmp, path)
    except OSError as err:
        raise InputError(f"cannot write the file: {err.strerror or err}", source=text, key=key) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# --------------------------------------------------------------------------- the steps


def _need_pyarrow() -> None:
    if not pyarrow_installed():
        raise InputError("writing Parquet needs pyarrow: pip install pyarrow", key="--format")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _write_files(staging: Path, tables: dict, figures: dict, fmt: str, progress: bool) -> None:
    """Every table and figure into `staging`, with a bar over rows and figures."""
    from tqdm.auto import tqdm

    total = sum(max(len(frame), 1) for frame in tables.values()) + len(figures)
    with tqdm(total=total, desc="writing", unit="row", unit_scale=True, disable=not progress, leave=False) as bar:
        for name, frame in tables.items():
            file = staging / f"{name}.{fmt}"
            if fmt == "csv":
                write_csv(frame, file, progress=bar.update)
            else:
                frame.to_parquet(file, index=False)
                bar.update(max(len(frame), 1))
        for name, fig in figures.items():
            fig.savefig(staging / f"{name}.png", dpi=150, bbox_inches="tight")
            bar.update(1)


def significant(values, digits: int = 10):
    """Floats rounded to `digits` significant digits, so that they print without binary noise.

    ``73213218.99999999`` becomes ``73213219.0`` and ``0.1 + 0.2`` becomes ``0.3``; zeros,
    infinities and NaN are kept. Vectorised (no loop over values).

    Examples
    --------
    >>> significant([73213218.99999999, 0.1 + 0.2, -1234567890123.0, 0.0]).tolist()
    [73213219.0, 0.3, -1234567890000.0, 0.0]
    """
    import numpy as np

    x = np.array(values, dtype=float)
    ok = np.isfinite(x) & (x != 0)
    v = x[ok]
    k = digits - 1 - np.floor(np.log10(np.abs(v))).astype(int)  # decimals to keep (negative: tens, hundreds...)
    up = k >= 0  # divide by an exact power of ten either way, so the result is the nearest double to the decimal
    v[up] = np.round(v[up] * 10.0 ** k[up]) / 10.0 ** k[up]
    v[~up] = np.round(v[~up] / 10.0 ** -k[~up]) * 10.0 ** -k[~up]
    x[ok] = v
    return x


def write_csv(frame, file, *, progress=None) -> None:
    """Write a table as CSV without its index, floats with 10 significant digits, dates as YYYY-MM-DD.

    With pyarrow installed its CSV writer is used (several times faster than pandas'); the
    numbers written are the same either way. `progress`, if given, is called with the rows
    written after each block.

    Examples
    --------
    >>> import io
    >>> import pandas as pd
    >>> buffer = io.BytesIO()
    >>> write_csv(pd.DataFrame({"x": [0.1 + 0.2, 73213218.99999999]}), buffer)
    >>> pd.read_csv(io.BytesIO(buffer.getvalue()))["x"].tolist()
    [0.3, 73213219.0]
    """
    import pandas as pd

    frame = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_float_dtype(column.dtype):
            frame[name] = significant(column.to_numpy())
    step = progress or (lambda n: None)
    if not pyarrow_installed():
        for a in range(0, max(len(frame), 1), _BLOCK):
            frame.iloc[a:a + _BLOCK].to_csv(file, index=False, mode="w" if a == 0 else "a", header=a == 0,
                                            date_format="%Y-%m-%d" if _all_days(frame) else None)
            step(min(_BLOCK, len(frame) - a) if len(frame) else 1)
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_dictionary(column.type):  # categorical coordinates: their labels
            column = column.cast(column.type.value_type)
        elif pa.types.is_timestamp(column.type) and _all_days(frame[[name]]):
            column = column.cast(pa.date32())
        columns.append(column)
    table = pa.table(columns, names=table.column_names)
    with pacsv.CSVWriter(file, table.schema, write_options=pacsv.WriteOptions(quoting_style="needed")) as writer:
        for a in range(0, max(table.num_rows, 1), _BLOCK):
            writer.write_table(table.slice(a, _BLOCK))
            step(min(_BLOCK, table.num_rows - a) if table.num_rows else 1)


def _all_days(frame) -> bool:
    """Whether every datetime column of `frame` holds whole days (written as YYYY-MM-DD)."""
    import pandas as pd

    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column.dtype) and column.dt.tz is None:
            if not (column.dropna() == column.dropna().dt.normalize()).all():
                return False
    return True


def _swap(path: Path, staging: Path, names: list[str], previous: dict | None) -> list[str]:
    """Move the previous run's files into ``staging/.previous``, then the new ones into `path` (``run.json`` last).

    On an error, the new files are taken out and the previous ones put back before the error
    is raised. Returns the names of the previous run's files.
    """
    aside = staging / ".previous"
    aside.mkdir()
    old = _listed(previous) if previous else []
    moved_out, moved_in = [], []
    try:
        for name in [MANIFEST, *old]:  # the manifest first: the folder never lists files it lacks
            if (path / name).is_file():
                os.replace(path / name, aside / name)
                moved_out.append(name)
        for name in [*names, MANIFEST]:  # the manifest last: once it is there, the set is complete
            os.replace(staging / name, path / name)
            moved_in.append(name)
    except OSError:
        for name in reversed(moved_in):
            _quietly(os.replace, path / name, staging / name)
        for name in reversed(moved_out):
            _quietly(os.replace, aside / name, path / name)
        raise
    return [n for n in old if n != MANIFEST]


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except OSError:
        pass


def _listed(manifest: dict) -> list[str]:
    """Plain file names a manifest lists (never a path that leads out of the folder)."""
    out = []
    for entry in manifest.get("files", []):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name and name == Path(name).name and name not in (".", "..", MANIFEST):
            out.append(name)
    return out


@dataclass
class _State:
    manifest: dict | None
    leftovers: list
    foreign: list


def _inspect(path: Path) -> _State:
    """The folder's manifest, leftover staging folders, and the files no run wrote."""
    manifest = folder_manifest(path)
    leftovers = sorted(p for p in path.iterdir() if p.name.startswith(STAGING) and p.is_dir())
    known = set(_listed(manifest)) if manifest else set()
    for left in leftovers:  # a run killed while moving files in: its files, and the ones it moved aside
        known |= set(_listed(folder_manifest(left) or {}))
        if (left / ".previous").is_dir():  # and the previous run's, moved aside or not yet
            known |= {p.name for p in (left / ".previous").iterdir()}
            known |= set(_listed(folder_manifest(left / ".previous") or {}))
    foreign = sorted(p.name for p in path.iterdir()
                     if p.name not in known and p.name != MANIFEST and p.name not in _IGNORED
                     and not p.name.startswith(STAGING))
    if manifest is None and (path / MANIFEST).exists():  # a run.json that is not tradesim's
        foreign = sorted({*foreign, MANIFEST})
    return _State(manifest, leftovers, foreign)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (on POSIX; elsewhere a staging folder of another process counts as left over)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _clean_leftovers(path: Path) -> list[str]:
    """Remove staging folders of runs that were killed, restoring the previous run's files when one was killed
    while moving files in; a note for each."""
    notes = []
    for left in sorted(p for p in path.iterdir() if p.name.startswith(STAGING) and p.is_dir()):
        found = _STAGING_NAME.match(left.name)
        pid = int(found[1]) if found else None
        if pid is not None and _alive(pid):
            notes.append(f"left {left.name} in {path}: process {pid}, which is writing it, still runs")
            continue
        theirs = folder_manifest(left)
        current = folder_manifest(path)
        aside = left / ".previous"
        restored = []
        if theirs and not (current and current.get("run_id") == theirs.get("run_id")) and aside.is_dir():
            # killed while moving files in: take its files out and put the previous run's back
            for name in _listed(theirs):
                if not (left / name).exists() and (path / name).is_file():
                    _quietly(os.remove, path / name)
            for item in aside.iterdir():
                if not (path / item.name).exists():
                    _quietly(os.replace, item, path / item.name)
                    restored.append(item.name)
        shutil.rmtree(left, ignore_errors=True)
        what = f"; the previous run's files were put back ({', '.join(sorted(restored))})" if restored else ""
        notes.append(f"removed {left.name} from {path}: the unfinished output of an earlier run that was stopped "
                     f"(process {pid if pid is not None else 'unknown'}){what}")
    return notes
