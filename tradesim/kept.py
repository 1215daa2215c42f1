"""What a run keeps for later runs: results read from a table, matched by the table's content, and the
helpers other caches share (keys of masks, read-only results).

Runs of a scenario read the same tables and compile the same law again; what depends only on
their inputs is kept, bounded, read-only, and matched by content (never by identity alone), so a
changed input is never answered from a stale entry.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

__all__ = ["table_kept", "freeze", "mask_key"]

#: Tables (fine values) whose preparation is kept, most recent first: ``[snapshot, {key: value}]`` each.
_KEPT_TABLES: list = []

_KEPT_LOCK = threading.Lock()

#: How many tables, results per table, bytes per result and bytes in all are kept (`table_kept`).
_KEEP_TABLES, _KEEP_RESULTS, _KEEP_BYTES, _KEEP_ALL = 2, 8, 2**26, 2**27


def table_kept(frame: pd.DataFrame, key, compute):
    """``compute()``, something read from the table `frame` alone (and the hashable `key`, which names it and
    what else it reads), kept for later calls on a table of the same content.

    A scenario's runs read the same fine-values table (the bundled one is a copy of one table read
    once per session) on the same baseline, so its codes, ids and checks are read once. A table
    matches a kept one only if it has the same columns, index, dtypes and values (text compared as
    text, numbers bit for bit); a table that differs in anything, or whose columns cannot be
    compared that way (Python objects), is read afresh. What is kept is a snapshot of the table
    (its own copy: a caller changing theirs never reaches it) and at most `_KEEP_RESULTS` results
    of at most `_KEEP_BYTES` each for each of the last `_KEEP_TABLES` tables of at most
    `_KEEP_BYTES` (a larger table is read afresh every time). A `compute` that
    raises keeps no result (bad tables raise on every call). Results are shared: numpy arrays in
    them are made read-only; callers must not change them.
    """
    if not isinstance(frame, pd.DataFrame) or not _comparable(frame) or _table_bytes(frame) > _KEEP_BYTES:
        return compute()  # a larger table is read afresh: its snapshot would double its memory
    with _KEPT_LOCK:  # the bookkeeping only: two threads may compute the same result, never mix the lists up
        at = next((k for k, (snapshot, _) in enumerate(_KEPT_TABLES) if _same_table(snapshot, frame)), None)
        entry = [frame.copy(deep=True), {}] if at is None else _KEPT_TABLES.pop(at)
        _KEPT_TABLES.insert(0, entry)
        del _KEPT_TABLES[_KEEP_TABLES:]
        results = entry[1]
        if key in results:
            results[key] = results.pop(key)  # the most recent last
            return results[key][0]
    value = compute()
    size = _nbytes(value)
    if size > _KEEP_BYTES:
        return value
    freeze(value)
    with _KEPT_LOCK:
        results[key] = value, size
        while len(results) > _KEEP_RESULTS:
            del results[next(iter(results))]
        # the oldest results (of the oldest tables first) make room within the bytes kept in all
        while sum(n for _, kept in _KEPT_TABLES for _, n in kept.values()) > _KEEP_ALL:
            oldest = next(kept for _, kept in reversed(_KEPT_TABLES) if kept)
            del oldest[next(iter(oldest))]
    return value


def _table_bytes(frame: pd.DataFrame) -> int:
    """The bytes of a table's columns (their arrays' own, without reading the values)."""
    return sum(int(column.array.nbytes) for _, column in frame.items())


def _comparable(frame: pd.DataFrame) -> bool:
    """Whether every column of `frame` can be compared exactly and fast: text held by Arrow, numbers in numpy."""
    return (frame.columns.is_unique and _index_kind(frame.index) is not None
            and all(_kind(column) is not None for _, column in frame.items()))


def _index_kind(index: pd.Index) -> str | None:
    """How an index is compared: ``"range"``, as a column (`_kind`: its labels name rows in messages), or None."""
    if isinstance(index, pd.RangeIndex):
        return "range"
    if isinstance(index, pd.MultiIndex):
        return None
    return _kind(pd.Series(index, copy=False))


def _kind(column: pd.Series) -> str | None:
    """How a column's values are compared: ``"arrow"`` (text in Arrow arrays), ``"bits"`` (numbers in numpy), or
    None (not comparable exactly: Python objects)."""
    if isinstance(column.dtype, np.dtype):
        return "bits" if column.dtype.kind in "biufcmM" else None
    if isinstance(column.dtype, pd.StringDtype) and hasattr(column.array, "__arrow_array__") \
            and getattr(column.dtype, "storage", "") == "pyarrow":
        return "arrow"
    return None


def _same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether two tables have the same columns, index, dtypes and values (text as text, numbers bit for bit)."""
    if a.shape != b.shape or list(a.columns) != list(b.columns) or type(a.index) is not type(b.index) \
            or a.index.dtype != b.index.dtype or _index_kind(a.index) != _index_kind(b.index):
        return False
    if isinstance(a.index, pd.RangeIndex):
        if (a.index.start, a.index.stop, a.index.step) != (b.index.start, b.index.stop, b.index.step):
            return False
        pairs = zip(a.items(), b.items())
    else:  # the index's labels compared as a column's values
        pairs = zip([(None, pd.Series(a.index, copy=False)), *a.items()], [(None, pd.Series(b.index, copy=False)),
                                                                            *b.items()])
    for (_, x), (_, y) in pairs:
        kind = _kind(x)
        if x.dtype != y.dtype or kind is None or _kind(y) != kind:
            return False
        if kind == "arrow":
            px, py = x.array.__arrow_array__(), y.array.__arrow_array__()
            if px.type != py.type or not px.equals(py):
                return False
        else:
            u, v = np.ascontiguousarray(x.to_numpy()), np.ascontiguousarray(y.to_numpy())
            if u.shape != v.shape or u.dtype != v.dtype or not np.array_equal(u.view(np.uint8), v.view(np.uint8)):
                return False
    return True


def _leaves(value):
    """The numpy arrays and pandas Series inside a kept result (tuples, lists, dataclass fields, sparse matrices)."""
    if isinstance(value, (np.ndarray, pd.Series)):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _leaves(getattr(value, name))
    elif hasattr(value, "indptr") and hasattr(value, "data"):  # a scipy.sparse compressed matrix
        yield from (value.data, value.indices, value.indptr)


def _nbytes(value) -> int:
    """The bytes of the arrays in `value` (`_leaves`)."""
    return sum(int(a.nbytes) for a in _leaves(value))


def freeze(value):
    """`value` with every numpy array in it (`_leaves`) made read-only, for results shared by later runs."""
    for a in _leaves(value):
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return value


def mask_key(mask) -> tuple:
    """A bool array (the cells or regimes asked for) as a hashable key: its shape and its bits."""
    mask = np.asarray(mask, bool)
    return mask.shape, np.packbits(mask).tobytes()
