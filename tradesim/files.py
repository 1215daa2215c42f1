"""Reading the files users give: tables (CSV, Parquet) and TOML, with errors that name the file and line.

Every layer that reads a file (trade data, schedule files, scenario files) goes through these
helpers, so that a bad file is reported the same way everywhere: the file, the line or key path,
the value and what was expected. Nothing here knows what the files mean.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from pathlib import Path

import pandas as pd

from .errors import InputError, ScenarioError

__all__ = [
    "collect",
    "key_problem",
    "line_of",
    "load_toml",
    "parse_date",
    "read_table",
    "require_columns",
    "row_labels",
    "unknown_keys",
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


def read_table(path, *, dtype=None, usecols=None) -> pd.DataFrame:
    """Read a CSV or Parquet file; the index holds file line numbers for CSV (header = line 1).

    Raises
    ------
    InputError
        For a missing file, an unknown suffix, a file that does not parse (including a
        corrupt or empty Parquet file and text that is not UTF-8), or Parquet without pyarrow.
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
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        return frame
    if not suffix.endswith((".csv", ".csv.gz", ".csv.zip", ".txt", ".gz", ".zip")):
        raise InputError(f"unknown file type {path.suffix!r}: expected .csv (optionally .gz/.zip) or .parquet",
                         source=str(path))
    try:
        frame = pd.read_csv(path, dtype=dtype, usecols=usecols, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty: expected a header row and data rows", source=str(path)) from None
    except ValueError as err:  # usecols names a missing column, or a dtype does not parse
        raise InputError(str(err), source=str(path)) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(f"cannot parse the file as UTF-8 CSV: {err}", source=str(path)) from None
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
