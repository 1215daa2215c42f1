"""What a run keeps for later runs: results read from a table, matched by the table's content (`table_kept`),
results matched by a key of their inputs' content (`kept`: a compiled law), and the helpers other caches share
(keys of masks and arrays, read-only results).

Runs of a scenario read the same tables and compile the same law again; what depends only on
their inputs is kept, bounded, read-only, and matched by content (never by identity alone), so a
changed input is never answered from a stale entry.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd

__all__ = ["table_kept", "kept", "kept_key", "keep_last", "last", "forget", "Key", "freeze", "mask_key", "array_key"]

#: Tables (fine values) whose preparation is kept, most recent first: ``[snapshot, {key: value}]`` each.
_KEPT_TABLES: list = []

_KEPT_LOCK = threading.Lock()

#: How many tables, results per table, bytes per result and bytes in all are kept (`table_kept`).
_KEEP_TABLES, _KEEP_RESULTS, _KEEP_BYTES, _KEEP_ALL = 2, 8, 2**26, 2**27

#: Results kept by the content of their inputs (`kept`): ``{kind: {key: (value, bytes)}}``, the most recent last.
_KEPT_BY_KEY: dict = {}

#: The last result of each kind kept for the next run on the same objects (`keep_last`):
#: ``{kind: (weak references to the objects, key, value)}``.
_LAST: dict = {}


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
    read = _read(frame) if isinstance(frame, pd.DataFrame) else None
    if read is None or read[1] > _KEEP_BYTES:
        return compute()  # a larger table is read afresh: its snapshot would double its memory
    with _KEPT_LOCK:  # the bookkeeping only: two threads may compute the same result, never mix the lists up
        at = next((k for k, (snapshot, _) in enumerate(_KEPT_TABLES) if _same_read(snapshot[1], read[0])), None)
        if at is None:  # a snapshot of the table, read as its columns once (later tables are compared with them)
            copy = frame.copy(deep=True)
            entry = [(copy, _read(copy)[0]), {}]
        else:
            entry = _KEPT_TABLES.pop(at)
        _KEPT_TABLES.insert(0, entry)
        del _KEPT_TABLES[_KEEP_TABLES:]
        results = entry[1]
        if key in results:
            results[key] = results.pop(key)  # the most recent last
            return results[key][0]
    # the oldest results (of the oldest tables first) make room within the bytes kept in all
    return _computed(results, key, compute, _KEEP_RESULTS, lambda: [kept for _, kept in _KEPT_TABLES],
                     lambda: next(kept for _, kept in reversed(_KEPT_TABLES) if kept))


def kept(kind: str, key, compute, keep: int = 4):
    """``compute()``, kept for later calls with an equal `key` (under `kind`: what is kept, e.g. ``"law"``).

    `key` must hold the content of everything `compute` reads (numbers bit for bit, arrays as their
    dtype, shape and bytes, never the identity of an object that could change), so that an equal key
    means an equal result; None, or a key that cannot be hashed, keeps nothing (a `Key` is hashed
    once). At most `keep` results of each kind are kept, each of at most `_KEEP_BYTES` and all of at
    most `_KEEP_ALL` (besides `table_kept`'s; the oldest of the fullest kind go first). A `compute`
    that raises keeps nothing. Results are shared: numpy arrays in them are made read-only; callers
    must not change them.
    """
    if key is None:
        return compute()
    if not isinstance(key, Key):
        try:
            key = Key(key)
        except TypeError:  # not a key of content (a mutable part): read afresh
            return compute()
    with _KEPT_LOCK:
        results = _KEPT_BY_KEY.setdefault(kind, {})
        found = results.pop(key, None)
        if found is not None:
            results[key] = found  # the most recent last
            return found[0]
    # the oldest of the fullest kind makes room within the bytes kept in all
    return _computed(results, key, compute, keep, lambda: list(_KEPT_BY_KEY.values()),
                     lambda: max((r for r in _KEPT_BY_KEY.values() if r), key=len))


def _computed(results: dict, key, compute, most: int, stores, fullest):
    """``compute()``, kept in `results` under `key` (read-only) where it fits: at most `most` results there,
    `_KEEP_BYTES` each and `_KEEP_ALL` in all of `stores()` (each a ``{key: (value, bytes)}``); the oldest
    result of `fullest()` goes first. A `compute` that raises keeps nothing."""
    value = compute()
    leaves = list(_leaves(value))  # walked once: a law holds tuples of thousands of codes
    size = sum(int(a.nbytes) for a in leaves)
    if size > _KEEP_BYTES:
        return value
    _read_only(leaves)
    with _KEPT_LOCK:
        results[key] = value, size
        while len(results) > most:
            del results[next(iter(results))]
        while sum(n for kept_ in stores() for _, n in kept_.values()) > _KEEP_ALL:
            oldest = fullest()
            del oldest[next(iter(oldest))]
    return value


def kept_key(kind: str, value) -> Key | None:
    """The key (a `Key`) under which `value` itself (this object, not an equal one) is kept by `kept`, or None.

    A kept result is held by the store, so its identity is its own while it is kept; a result that
    was let go (or never kept) has no key."""
    with _KEPT_LOCK:
        for key, (held, _) in _KEPT_BY_KEY.get(kind, {}).items():
            if held is value:
                return key
    return None


def keep_last(kind: str, objects: tuple, key, value) -> None:
    """Hold `value` for the next run on the very `objects` (immutable objects, matched by identity and held
    weakly: not kept alive by this) with an equal `key` (`last`), in place of the last value of `kind`."""
    with _KEPT_LOCK:
        _LAST[kind] = tuple(weakref.ref(o) for o in objects), key, value


def last(kind: str, objects: tuple, key):
    """The value `keep_last` holds for `kind`, where it was kept for these very `objects` and an equal `key`;
    else None."""
    with _KEPT_LOCK:
        held = _LAST.get(kind)
    if held is None or len(held[0]) != len(objects) or any(r() is not o for r, o in zip(held[0], objects)):
        return None
    try:
        same = bool(held[1] == key)
    except (TypeError, ValueError):  # a key that cannot be compared as a whole (arrays): not the same
        return None
    return held[2] if same else None


def forget(tables: bool = False) -> None:
    """Let go of every result `kept` and `keep_last` hold (with `tables`, also of `table_kept`'s): later calls
    compute afresh.

    To free their memory, or to time a first run (a law compiled, not found). Nothing else
    changes: what is computed again is what was kept.
    """
    with _KEPT_LOCK:
        _KEPT_BY_KEY.clear()
        _LAST.clear()
        if tables:
            _KEPT_TABLES.clear()


class Key:
    """A hashable key hashed once, equal to another `Key` of an equal key: keys of `kept` hold whole arrays' bytes
    and tables, and a dict (or a key holding this one) hashes a key at every lookup. Raises TypeError for a key
    that cannot be hashed."""

    __slots__ = ("key", "hash")

    def __init__(self, key):
        self.key, self.hash = key, hash(key)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, Key) and self.hash == other.hash and self.key == other.key)


def _read(frame: pd.DataFrame) -> tuple[tuple, int] | None:
    """A table as what `_same_read` compares, and its bytes (`_table_bytes`); None where it cannot be compared
    exactly and fast (columns not unique, a MultiIndex, Python objects). Each column is taken out of the table
    once (pandas makes a Series each time)."""
    if not frame.columns.is_unique:
        return None
    index = frame.index
    index_kind = _index_kind(index)
    if index_kind is None:
        return None
    columns = [column for _, column in frame.items()]
    kinds = [_kind(column) for column in columns]
    if None in kinds:
        return None
    if index_kind == "range":
        labels = ("range", index.dtype, (index.start, index.stop, index.step))
    else:  # the index's labels compared as a column's values
        labels = _values(index_kind, pd.Series(index, copy=False))
    head = (frame.shape, tuple(frame.columns), type(index), labels)
    return (head, *map(_values, kinds, columns)), _table_bytes(frame)


def _values(kind: str, column: pd.Series) -> tuple:
    """A column as ``(kind, dtype, values)``: its Arrow array (text) or its bytes as a numpy array (numbers)."""
    if kind == "arrow":
        return kind, column.dtype, column.array.__arrow_array__()
    return kind, column.dtype, np.ascontiguousarray(column.to_numpy()).reshape(-1).view(np.uint8)


def _same_read(a: tuple, b: tuple) -> bool:
    """Whether two tables read by `_read` have the same columns, index, dtypes and values (text as text, numbers
    bit for bit)."""
    if len(a) != len(b):
        return False
    (shape_a, names_a, type_a, labels_a), (shape_b, names_b, type_b, labels_b) = a[0], b[0]
    if shape_a != shape_b or names_a != names_b or type_a is not type_b:
        return False
    if labels_a[0] == "range" or labels_b[0] == "range":
        if labels_a[0] != labels_b[0] or labels_a[1] != labels_b[1] or labels_a[2] != labels_b[2]:
            return False
        pairs = zip(a[1:], b[1:])
    else:
        pairs = zip((labels_a, *a[1:]), (labels_b, *b[1:]))
    for (kind_a, dtype_a, x), (kind_b, dtype_b, y) in pairs:
        if kind_a != kind_b or dtype_a != dtype_b:
            return False
        if kind_a == "arrow":
            if x.type != y.type or not x.equals(y):
                return False
        elif x.shape != y.shape or not np.array_equal(x, y):
            return False
    return True


def _table_bytes(frame: pd.DataFrame) -> int:
    """The bytes of a table's columns (their arrays' own, without reading the values)."""
    return sum(int(column.array.nbytes) for _, column in frame.items())


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


#: Values that hold no arrays (`_leaves` does not look inside them).
_SCALARS = (str, bytes, int, float, bool, type(None))


def _leaves(value):
    """The numpy arrays and pandas Series inside a kept result (tuples, lists, dataclass fields, sparse matrices)."""
    if isinstance(value, (np.ndarray, pd.Series)):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            if not isinstance(v, _SCALARS):  # a tuple of codes: thousands of texts, no arrays
                yield from _leaves(v)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from _leaves(getattr(value, name))
    elif hasattr(value, "indptr") and hasattr(value, "data"):  # a scipy.sparse compressed matrix
        yield from (value.data, value.indices, value.indptr)


def nbytes(value) -> int:
    """Bytes of the numpy arrays inside `value` (as `freeze` finds them; also the values of a dict and the
    attributes of a plain object)."""
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if not isinstance(value, (np.ndarray, pd.Series, tuple, list)) and not hasattr(value, "__dataclass_fields__") \
            and not hasattr(value, "indptr") and hasattr(value, "__dict__"):
        return nbytes(vars(value))
    return sum(int(a.nbytes) for a in _leaves(value))


def freeze(value):
    """`value` with every numpy array in it (`_leaves`) made read-only, for results shared by later runs."""
    _read_only(_leaves(value))
    return value


def _read_only(leaves) -> None:
    for a in leaves:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False


def mask_key(mask) -> tuple:
    """A bool array (the cells or regimes asked for) as a hashable key: its shape and its bits."""
    mask = np.asarray(mask, bool)
    return mask.shape, np.packbits(mask).tobytes()


def array_key(a) -> tuple:
    """An array as a hashable key of its content: its dtype, shape and bytes."""
    a = np.ascontiguousarray(a)
    return a.dtype.str, a.shape, a.tobytes()
