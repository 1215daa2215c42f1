"""Reading the files users give: tables (CSV, Parquet) and TOML, with errors that name the file and line.

Every layer that reads a file (trade data, schedule files, scenario files) goes through these
helpers, so that a bad file is reported the same way everywhere: the file, the line or key path,
the value and what was expected. Nothing here knows what the files mean.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import difflib
import hashlib
import os
import re
import sys
import tomllib
import warnings
import functools
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .errors import InputError, ScenarioError, TradesimWarning

__all__ = [
    "collect",
    "file_sha256",
    "key_problem",
    "line_of",
    "load_toml",
    "once_per_call",
    "parse_date",
    "read_table",
    "require_columns",
    "row_labels",
    "unknown_keys",
    "warn_at_caller",
]

#: Dates are written YYYY-MM-DD (ISO 8601) everywhere; nothing else is guessed at.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value, key: str = "date") -> dt.date:
    """A day from a `datetime.date`, a `datetime`, or an ISO ``YYYY-MM-DD`` string.

    Anything else (``04/05/2025``, ``25-04-14``, a number) raises `InputError`: such forms
    are ambiguous (day/month or month/day) and are never guessed.

    Examples
    --------
    >>> parse_date("2025-04-05")
    datetime.date(2025, 4, 5)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "dtype") and str(getattr(value, "dtype", "")).startswith("datetime64"):
        return pd.Timestamp(value).date()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{value!r} is not a date: expected YYYY-MM-DD", key=key)


def row_labels(labels, index: pd.Index, limit: int = 5) -> str:
    """Name offending rows: file lines when the index is named "line", else 1-based row numbers."""
    labels = list(labels)
    if index.name == "line":
        word, shown = "line", [str(x) for x in labels[:limit]]
    elif isinstance(index, pd.RangeIndex):
        word, shown = "row", [str(index.get_loc(x) + 1) for x in labels[:limit]]
    else:
        word, shown = "row", [str(x) for x in labels[:limit]]
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"{word}{'s' if len(labels) > 1 else ''} {', '.join(shown)}{more}"


#: CSV files up to this size are kept parsed (`_read_csv_cached`), keyed on their path, size and modification time
#: (at most 128 of them: the bundled schedules' 69 files take about 120 MB parsed).
_CACHE_BYTES = 4 * 2**20


def _read_csv(path: Path, dtype, usecols) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=dtype, usecols=usecols, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty: expected a header row and data rows", source=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:  # before ValueError: UnicodeDecodeError is one
        raise InputError(f"cannot parse the file as UTF-8 CSV: {err}", source=str(path)) from None
    except ValueError as err:  # usecols names a missing column, or a dtype does not parse
        raise InputError(str(err), source=str(path)) from None


@lru_cache(maxsize=128)
def _read_csv_cached(path: Path, mtime_ns: int, size: int) -> pd.DataFrame:
    """`_read_csv` of a small file as text, once per version of it: the bundled schedules' CSV files are read by
    every scenario built on them. The key holds the file's size and modification time, so an edited file is read
    again."""
    return _read_csv(path, str, None)


def read_table(path, *, dtype=None, usecols=None) -> pd.DataFrame:
    """Read a CSV or Parquet file; the index holds file line numbers for CSV (header = line 1).

    Small CSV files read as text (``dtype=str``, up to 4 MiB) are parsed once per version of the file
    (its size and modification time) and each caller gets its own copy.

    Raises
    ------
    InputError
        For a missing file, an unknown suffix, a file that does not parse (including a
        corrupt or empty Parquet file and text that is not UTF-8), a file with a header and
        no rows, or Parquet without pyarrow. The message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "t.csv"
    ...     _ = path.write_text("product,value\\n8542,1.5\\n")
    ...     frame = read_table(path, dtype={"product": str})
    >>> frame.index.name, frame.index.tolist(), frame["product"].tolist()
    ('line', [2], ['8542'])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".parquet", ".pq")):
        try:
            import pyarrow  # noqa: F401
        except ImportError as err:
            raise InputError("reading Parquet needs pyarrow: pip install pyarrow", source=str(path)) from err
        try:
            frame = pd.read_parquet(path, columns=usecols)
        except Exception as err:  # pyarrow raises its own types (ArrowInvalid...) for corrupt files
            raise InputError(f"cannot read the file as Parquet: {err}", source=str(path)) from None
        if frame.empty:
            raise InputError(f"no rows: the file has columns {list(frame.columns)} and no data rows", source=str(path))
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        return frame
    if not suffix.endswith((".csv", ".csv.gz", ".csv.zip", ".txt", ".gz", ".zip")):
        raise InputError(f"unknown file type {path.suffix!r}: expected .csv (optionally .gz/.zip) or .parquet",
                         source=str(path))
    stat = path.stat()
    if stat.st_size <= _CACHE_BYTES and dtype is str and usecols is None:  # how law files and lists are read
        frame = _read_csv_cached(path.resolve(), stat.st_mtime_ns, stat.st_size).copy()
    else:
        frame = _read_csv(path, dtype, usecols)
    if frame.empty:
        raise InputError(f"no rows: the file has a header ({', '.join(map(str, frame.columns))}) and no data rows",
                         source=str(path))
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    return frame


def require_columns(frame: pd.DataFrame, columns, source: str, what: str) -> None:
    """`InputError` naming the columns of `columns` that `frame` lacks, and the ones it has."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"missing columns {missing} for {what}; the file has {list(frame.columns)}", source=source)


# --------------------------------------------------------------------------- TOML files


def load_toml(path) -> tuple[str, dict]:
    """Text and parsed content of a TOML file.

    Raises
    ------
    ScenarioError
        For a missing file, text that is not UTF-8 (with the byte offset) or a TOML syntax
        error (with its line).
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("file not found", source=str(path))
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ScenarioError(f"the file is not UTF-8 text (byte {raw[err.start]:#04x} at offset {err.start}); "
                            "save it as UTF-8", source=str(path), line=line) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"line (\d+)", str(err))
        raise ScenarioError(f"TOML syntax error: {err}", source=str(path),
                            line=int(found[1]) if found else None) from None


def line_of(text: str | None, key: str) -> int | None:
    """Line of a key path such as ``measures[4].rate_pct`` in TOML text (the table's header if the key is absent)."""
    if not text or not key:
        return None
    found = re.fullmatch(r"(\w+)(?:\[(\d+)\])?(?:\.(\w+))?.*", key)
    if not found:
        return None
    table, index, field = found[1], found[2], found[3]
    lines = text.splitlines()
    header = re.compile(r"^\s*\[\[\s*" + re.escape(table) + r"\s*\]\]") if index is not None else re.compile(
        r"^\s*\[\s*" + re.escape(table) + r"\s*\]"
    )
    seen, start = -1, None
    for n, line in enumerate(lines):
        if header.match(line):
            seen += 1
            if index is None or seen == int(index):
                start = n
                break
    if start is None:
        if index is None and field is None:  # a top-level key
            for n, line in enumerate(lines):
                if re.match(r"^\s*" + re.escape(table) + r"\s*=", line):
                    return n + 1
        return None
    if field:
        for n in range(start + 1, len(lines)):
            if re.match(r"^\s*\[", lines[n]):
                break
            if re.match(r"^\s*" + re.escape(field) + r"\s*=", lines[n]):
                return n + 1
    return start + 1


def key_problem(message: str, source: str, key: str, text: str | None) -> ScenarioError:
    """A `ScenarioError` at a key path of a TOML file, with its line."""
    return ScenarioError(message, source=source, key=key, line=line_of(text, key))


def unknown_keys(table: dict, known, path: str, source: str, text: str | None) -> list[ScenarioError]:
    """One problem per key of `table` that is not in `known`, suggesting the closest known key."""
    out = []
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {sorted(known)}"
            full = f"{path}.{key}" if path else key
            out.append(key_problem(f"unknown key {key!r}{hint}", source, full, text))
    return out


def collect(problems: list[ScenarioError], source: str) -> ScenarioError:
    """One `ScenarioError` listing every problem (kept in ``problems``)."""
    lines = "\n  ".join(str(p) for p in problems)
    return ScenarioError(f"{len(problems)} problem(s):\n  {lines}", source=source, problems=problems)


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes, as 64 hexadecimal digits (read in blocks: any size).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "x.txt"
    ...     _ = path.write_bytes(b"abc")
    ...     digest = file_sha256(path)
    >>> digest[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- warnings at the user's line

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
_PACKAGE_REAL = os.path.realpath(_PACKAGE)
#: Messages already issued in the current `once_per_call` scope (None outside one).
_ISSUED: contextvars.ContextVar[set | None] = contextvars.ContextVar("tradesim_issued_warnings", default=None)


#: Standard-library files that only pass calls through (decorators, context managers): never the user's line.
_PASS_THROUGH = {os.path.realpath(contextlib.__file__), os.path.realpath(functools.__file__)}


@lru_cache(maxsize=1024)
def _inside_package(filename: str) -> bool:
    """True for the files of the tradesim package (not its tests or the user's scripts), and for the standard
    library's decorator and context-manager plumbing between them."""
    if not filename or filename.startswith("<"):  # "<frozen importlib._bootstrap>", "<string>": not ours
        return False
    if os.path.realpath(filename) in _PASS_THROUGH:
        return True
    for root, name in ((_PACKAGE, os.path.abspath(filename)), (_PACKAGE_REAL, os.path.realpath(filename))):
        if name == root or name.startswith(root + os.sep):
            return True
    return False


def caller_frame():
    """The innermost frame of the call stack that is not in the tradesim package (None if there is none)."""
    frame = sys._getframe(1)
    while frame is not None and _inside_package(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def warn_at_caller(message, category: type[Warning] = TradesimWarning) -> None:
    """Issue a warning at the line of the user's code that called into tradesim.

    The stack is walked outwards to the first frame outside the tradesim package, and the
    warning is issued there with `warnings.warn_explicit`, so its ``filename`` and ``lineno``
    are the caller's, whatever depth of tradesim the warning came from (no ``stacklevel`` to
    keep in step with the call chain). Inside `once_per_call`, a message already issued in the
    same call is not issued again.

    Parameters
    ----------
    message : str or Warning
    category : type of Warning
        `tradesim.TradesimWarning` by default.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("rows set aside")
    >>> caught[0].category.__name__, str(caught[0].message)
    ('TradesimWarning', 'rows set aside')
    """
    issued = _ISSUED.get()
    if issued is not None:
        key = (category, str(message))
        if key in issued:
            return
        issued.add(key)
    frame = caller_frame()
    if frame is None:  # called from tradesim itself with no user frame (an interpreter shutting down)
        warnings.warn(message, category, stacklevel=2)
        return
    module_globals = frame.f_globals
    registry = module_globals.setdefault("__warningregistry__", {})
    where = dict(filename=frame.f_code.co_filename, lineno=frame.f_lineno, module=module_globals.get("__name__"),
                 registry=registry)
    try:  # module_globals lets the warning show the caller's source line
        warnings.warn_explicit(message, category, module_globals=module_globals, **where)
    except ImportError:  # a script read from standard input: its loader has no source to show
        warnings.warn_explicit(message, category, **where)


class once_per_call:
    """Within this scope (a ``with`` block or a decorated function), `warn_at_caller` issues each message once.

    Scopes nest: the outermost one holds the messages, so a public function that calls
    another decorated one still says each thing once.

    Examples
    --------
    >>> import warnings
    >>> @once_per_call()
    ... def run():
    ...     for _ in range(3):
    ...         warn_at_caller("the baseline has no domestic sales")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     run()
    >>> len(caught)
    1
    """

    def __init__(self):
        self._token = None

    def __call__(self, func):
        @functools.wraps(func)
        def scoped(*args, **kwargs):  # a fresh scope per call (recursion, threads), from a frame of this package
            with type(self)():
                return func(*args, **kwargs)

        return scoped

    def __enter__(self):
        if _ISSUED.get() is None:
            self._token = _ISSUED.set(set())
        return self

    def __exit__(self, *exc):
        if self._token is not None:
            _ISSUED.reset(self._token)
            self._token = None
        return False
