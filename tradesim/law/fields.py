"""The one table of a measure's fields (and a product list's): name, type, unit, default, meaning.

`Measure` and `ProductList` check their values with it, the schedule file reader reads files
with it (`Field.key` is the file key, `Field.scale` its unit: 100 for keys in percent),
`TariffSchedule.to_frame` shows measures with it and the documentation prints it
(`field_table`). A new kind of rule adds a row here and a rule in `tradesim.law.stacking`
(`Field.rule` names the rules that read the field; a new kind of an existing field, such as
``rule = "halt"``, adds its value to the field's ``allowed`` and its rule to the field's ``rule``).

Types (`Field.type`):

``name``         non-empty text
``text``         text
``country``      an ISO 3166 alpha-3 code or a group (``EU27``, ``ROW``)
``countries``    a list of those; None for "all"
``products``     HS codes (digit strings) and product-list names; None for "all"
``names``        names of measures or groups
``rate``         an ad valorem rate, a fraction from 0 to `MAX_RATE`
``share``        a fraction from 0 to 1
``date``         a day (files: YYYY-MM-DD)
``choice``       one of `Field.allowed`
``code_rates``   HS code -> rate
``exporter_rates``  exporter -> rate
``line_rates``   (exporter, HS code) -> rate
``code_shares``  HS code -> share
``exporter_shares`` exporter -> share
``line_shares``  (exporter, HS code) -> share
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, repeat
from operator import is_not, itemgetter
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..codes import COUNTRY_GROUPS, country_problem, hs_problem, hs_problem_mask
from ..data.baseline import MAX_RATE
from ..errors import InputError
from ..files import parse_date

__all__ = ["Field", "MAX_RATE", "MEASURE_FIELDS", "LIST_FIELDS", "FieldErrors", "check_fields", "field_table",
           "KINDS", "RULE_KINDS", "reuse_checks"]

#: Layer kinds: additional duties, and most-favoured-nation base rates.
KINDS = ("additional", "mfn")
#: How a measure's rate enters the total: added, an all-in floor over the MFN layers, or a halt of the trade
#: it covers (an import ban, halted purchases: an infinite tariff equivalent).
RULE_KINDS = ("add", "floor", "halt")


@dataclass(frozen=True)
class Field:
    """One field of a measure or product list.

    Attributes
    ----------
    name : str
        Attribute name.
    type : str
        One of the types in the module notes.
    default : object
        Value when not given (``REQUIRED`` for required fields).
    meaning : str
        What it holds, in a sentence.
    key : str
        Its key in schedule files; ``file_key`` a key naming a CSV file that holds the same values.
    scale : float
        Files write the value times `scale` (100: percent).
    unit : str
        Unit in Python.
    allowed : tuple
        Allowed values of a ``choice``.
    rule : str
        The stacking rules that read it, separated by spaces (see `tradesim.law.stacking.RULES`),
        or ``""`` for identification and citation fields.
    """

    name: str
    type: str
    default: object
    meaning: str
    key: str = ""
    file_key: str = ""
    scale: float = 1.0
    unit: str = ""
    allowed: tuple = ()
    rule: str = ""

    @property
    def file_keys(self) -> tuple[str, ...]:
        return tuple(k for k in (self.key or self.name, self.file_key) if k)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()

MEASURE_FIELDS: tuple[Field, ...] = (
    Field("name", "name", REQUIRED, "unique within a schedule"),
    Field("importer", "country", REQUIRED, "country imposing the measure", rule="cover"),
    Field("rate", "rate", 0.0, "ad valorem rate where no rate by product or exporter applies", key="rate_pct",
          scale=100, unit="fraction", rule="charge"),
    Field("start", "date", None, "first day in force (required unless `follows` is given)", rule="in_force"),
    Field("end", "date", None, "first day no longer in force; none for open-ended", rule="in_force"),
    Field("follows", "name", None, "a measure whose start and end this one takes", rule="in_force"),
    Field("authority", "text", "", "legal instrument (EO, proclamation, HTS heading)"),
    Field("kind", "choice", "additional", "layer kind: additional duties, or most-favoured-nation base rates",
          allowed=KINDS, rule="floor"),
    Field("exporters", "countries", None, "exporters covered; all but the importer when none", rule="cover"),
    Field("except_exporters", "countries", (), "exporters left out when `exporters` is none", rule="cover"),
    Field("products", "products", None, "HS prefixes and product-list names covered; all when none",
          rule="cover"),
    Field("exclude", "products", (), "product lists (or HS prefixes) exempted from this measure", rule="cover"),
    Field("coverage", "share", 1.0, "share of the covered products' trade reached, for lists not known line by line",
          key="coverage_pct", scale=100, unit="fraction", rule="cover"),
    Field("qualifying", "exporter_shares", None,
          "share of an exporter's trade that qualifies for an exemption (USMCA) and does not pay",
          key="qualifying_pct", scale=100, unit="fraction", rule="qualify"),
    Field("qualifying_lines", "line_shares", None,
          "the same by exporter and HS line, overriding `qualifying` (file columns exporter, hs_code, share_pct)",
          key="qualifying_file", scale=100, unit="fraction", rule="qualify"),
    Field("replaces", "names", (), "measures or groups that do not apply where this one applies", rule="replace"),
    Field("product_rates", "code_rates", None,
          "rates by HS prefix, the longest matching prefix winning (file columns hs_code, rate_pct)",
          key="rates_pct", file_key="rates_file", scale=100, unit="fraction", rule="charge"),
    Field("exporter_rates", "exporter_rates", None, "rates by exporter, overriding `rate`", key="exporter_rates_pct",
          scale=100, unit="fraction", rule="charge"),
    Field("line_rates", "line_rates", None,
          "rates by exporter and HS prefix, overriding the others (rows of `rates_file` with an exporter)",
          scale=100, unit="fraction", rule="charge"),
    Field("value_share", "share", 1.0, "share of the good's value the duty is charged on (metal content)",
          key="value_share_pct", scale=100, unit="fraction", rule="charge"),
    Field("value_shares", "code_shares", None,
          "the same by HS prefix, overriding `value_share` (file columns hs_code, share_pct)",
          key="value_shares_pct", file_key="value_shares_file", scale=100, unit="fraction", rule="charge"),
    Field("rule", "choice", "add",
          "add: the rate adds to the total; floor: the total with the MFN layers is brought up to the rate; "
          "halt: the covered trade stops (an import ban or halted purchases); its tariff equivalent is infinite",
          allowed=RULE_KINDS, rule="floor halt"),
    Field("group", "name", None, "group whose members take the maximum instead of the sum", rule="group"),
    Field("announced", "date", None, "day made public, when before start (importers may buy ahead)"),
    Field("layer", "text", None, 'layer of law for tables and plots, such as "Section 301" (default: group, else name)'),
    Field("source", "text", "", "citation"),
    Field("notes", "text", "", "caveats and approximations"),
)

LIST_FIELDS: tuple[Field, ...] = (
    Field("name", "name", REQUIRED, "name that measures use; may not start with a digit"),
    Field("codes", "products", REQUIRED, "HS codes of 2 to 10 digits (a code covers every finer one)",
          file_key="file"),
    Field("exporters", "countries", None, "exporters for which the list applies; all when none"),
    Field("code_exporters", "countries", None,
          "the exporter of each code, for lists whose codes apply to one exporter each (a file column exporter)"),
    Field("description", "text", "", "what the list is"),
    Field("source", "text", "", "citation"),
    Field("notes", "text", "", "caveats"),
)


class FieldErrors(InputError):
    """An `InputError` listing each problem with the field it concerns (``fields``: (field, message))."""

    def __init__(self, fields: list[tuple[str, str]], *, source: str | None = None, key: str | None = None):
        self.fields = fields
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in fields), source=source, key=key)


# --------------------------------------------------------------------------- checks by type


def _tuple(value) -> tuple:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return False
    return isinstance(value, int) or bool(np.isfinite(value))  # a Python int is finite at any size


def _g(value) -> str:
    """`value` in ``g`` format, also a Python int too large for a float."""
    try:
        return f"{value:g}"
    except OverflowError:
        return f"{str(value)[:6]}...({len(str(value).lstrip('-'))} digits)"


def _rate(value, where: str) -> tuple[float | None, list[str]]:
    if not _is_number(value):
        return None, [f"{where}{value!r} is not a number"]
    if value < 0:
        return None, [f"{where}rate {_g(value)} is negative: expected 0 to {MAX_RATE:g} (0% to 2,000%)"]
    if value > MAX_RATE:
        return None, [f"{where}rate {_g(value)} is above {MAX_RATE:g} (2,000%): rates are fractions, 0.25 is 25%"]
    return float(value), []


def _share(value, where: str, *, positive: bool = False) -> tuple[float | None, list[str]]:
    if not _is_number(value) or not (0 < value <= 1 if positive else 0 <= value <= 1):
        bound = "above 0 and at most 1" if positive else "from 0 to 1"
        return None, [f"{where}{value!r} is not a share: expected a number {bound}"]
    return float(value), []


def _codes(codes, where: str = "") -> list[str]:
    if not codes:
        return []
    distinct = list(dict.fromkeys(codes))
    bad = [hs_problem(c) for c in compress(distinct, hs_problem_mask(distinct))]
    if bad:
        return [where + "; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")]
    return []


def _product_codes(values) -> list[str]:
    """`_codes` of the entries that start with a digit (the others name product lists)."""
    distinct = list(dict.fromkeys(values))
    return _codes([c for c in compress(distinct, hs_problem_mask(distinct)) if c[:1].isdigit()])


@lru_cache(maxsize=1024, typed=True)
def _country_problem(code) -> str | None:
    return country_problem(code, COUNTRY_GROUPS)


def _countries(codes) -> list[str]:
    # the distinct codes only: a few hundred at most, however many entries name them
    bad = [p for c in dict.fromkeys(codes) if (p := _country_problem(c))]
    return ["; ".join(bad)] if bad else []


def _line_key(k) -> list[str]:
    if not (isinstance(k, tuple) and len(k) == 2):
        return [f"key {k!r} is not (exporter, HS code)"]
    return _countries([k[0]]) + _codes([k[1]])


# Checks of large tables (a rate or share by HS line and exporter, hundreds of thousands of
# entries) are vectorised: masks of the bad keys and values first, then the messages of the
# scalar checks above for the flagged entries only, so that they read exactly as before.

#: Value types checked with numpy; any other type goes through the scalar check.
_FAST_NUMBERS = frozenset({float, int, np.float64})


def _number_mask(values: list, upper: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(numbers, bad, slow)``: `values` as floats, True where a value is not a number from 0 to
    `upper`, and True where its type is one for the scalar check to judge (``bad`` is False there)."""
    n = len(values)
    if set(map(type, values)) <= {float}:
        numbers, slow = np.fromiter(values, dtype=float, count=n), np.zeros(n, dtype=bool)
    else:
        fast = np.fromiter(map(_FAST_NUMBERS.__contains__, map(type, values)), dtype=bool, count=n)
        numbers = np.full(n, np.nan)
        try:  # float() of each, as the scalar check does
            numbers[fast] = np.array(list(compress(values, fast)), dtype=object).astype(float)
        except OverflowError:  # an int too large for a float: left to the scalar check
            fast &= np.fromiter(map(is_not, map(type, values), repeat(int)), dtype=bool, count=n)
            numbers[fast] = np.array(list(compress(values, fast)), dtype=object).astype(float)
        slow = ~fast
    with np.errstate(invalid="ignore"):
        bad = ~((numbers >= 0) & (numbers <= upper))  # NaN fails too
    return numbers, bad & ~slow, slow


def _code_key_mask(keys: list) -> np.ndarray:
    return hs_problem_mask(keys)


def _country_key_mask(keys: list) -> np.ndarray:
    bad = {c for c in dict.fromkeys(keys) if _country_problem(c)}
    if not bad:
        return np.zeros(len(keys), dtype=bool)
    return np.fromiter(map(bad.__contains__, keys), dtype=bool, count=len(keys))


def _line_key_mask(keys: list) -> np.ndarray:
    n = len(keys)
    if set(map(type, keys)) <= {tuple} and set(map(len, keys)) <= {2}:
        pair = np.ones(n, dtype=bool)
        pairs = keys
    else:
        pair = np.fromiter(map(isinstance, keys, repeat(tuple)), dtype=bool, count=n)
        pair[pair] = np.fromiter(map(len, compress(keys, pair)), dtype=np.int64, count=int(pair.sum())) == 2
        pairs = list(compress(keys, pair))
    bad = ~pair
    bad[pair] = (_country_key_mask(list(map(itemgetter(0), pairs)))
                 | hs_problem_mask(list(map(itemgetter(1), pairs))))
    return bad


_CHECKED: ContextVar[dict | None] = ContextVar("tradesim_checked_tables", default=None)


@contextmanager
def reuse_checks():
    """Check each table (the same object) once while inside: for file readers that give one table to many measures.

    The tables must not change meanwhile. Nothing is remembered after the block.

    Examples
    --------
    >>> lines = next(f for f in MEASURE_FIELDS if f.name == "qualifying_lines")
    >>> table = {("CAN", "8703"): 0.5}
    >>> with reuse_checks():
    ...     first, again = check_value(lines, table), check_value(lines, table)
    >>> first[0] is again[0], again[1]
    (True, [])
    """
    token = _CHECKED.set({})
    try:
        yield
    finally:
        _CHECKED.reset(token)


def _mapping(value, name: str, key_mask, key_check, value_check, upper: float) -> tuple[Mapping | None, list[str]]:
    """A table's entries checked at once: `key_mask` and `upper` flag the bad keys and values,
    `key_check` and `value_check` (the scalar checks) word the problems of the flagged ones."""
    if not isinstance(value, Mapping):
        return None, [f"{value!r} is not a table of {name}"]
    checked_before = _CHECKED.get()
    if checked_before is not None:
        found = checked_before.get((id(value), name))
        if found is not None and found[0] is value:
            return found[1], list(found[2])
        out, problems = _check_mapping(value, key_mask, key_check, value_check, upper)
        checked_before[id(value), name] = (value, out, tuple(problems))  # holds `value`: its id stays its own
        return out, problems
    return _check_mapping(value, key_mask, key_check, value_check, upper)


def _check_mapping(value: Mapping, key_mask, key_check, value_check, upper: float) -> tuple[Mapping, list[str]]:
    keys, values = list(value.keys()), list(value.values())
    numbers, bad_value, slow = _number_mask(values, upper)
    flagged = np.flatnonzero(key_mask(keys) | bad_value | slow).tolist()
    problems: list[str] = []
    checked = {}
    for i in flagged:  # the flagged entries only, in the table's order
        k, v = keys[i], values[i]
        problems += key_check(k)
        checked[i], found = value_check(v, f"[{k!r}] ")
        problems += found
    if not flagged and set(map(type, values)) <= {float}:  # floats already
        out = dict(value) if isinstance(value, dict) else dict(zip(keys, values))
    else:
        out_values = numbers.tolist()
        for i, v in checked.items():
            out_values[i] = v
        out = dict(zip(keys, out_values))
    return MappingProxyType(out), problems


_CODE = (_code_key_mask, lambda k: _codes([k]))
_EXPORTER = (_country_key_mask, lambda k: _countries([k]))
_LINE = (_line_key_mask, _line_key)
_CHECKS = {
    "code_rates": lambda v: _mapping(v, "HS code = rate", *_CODE, _rate, MAX_RATE),
    "exporter_rates": lambda v: _mapping(v, "exporter = rate", *_EXPORTER, _rate, MAX_RATE),
    "line_rates": lambda v: _mapping(v, "(exporter, HS code) = rate", *_LINE, _rate, MAX_RATE),
    "code_shares": lambda v: _mapping(v, "HS code = share", *_CODE, _share, 1.0),
    "exporter_shares": lambda v: _mapping(v, "exporter = share", *_EXPORTER, _share, 1.0),
    "line_shares": lambda v: _mapping(v, "(exporter, HS code) = share", *_LINE, _share, 1.0),
}


def check_value(f: Field, value) -> tuple[object, list[str]]:
    """`value` converted to the field's type (tuples, dates, floats), and the problems found."""
    if value is None and not f.required and f.default is None:
        return None, []
    t = f.type
    if t == "name":
        ok = isinstance(value, str) and value.strip()
        return value, [] if ok else [f"{value!r} is not a name: expected non-empty text"]
    if t == "text":
        return value, [] if isinstance(value, str) else [f"{value!r} is not text"]
    if t == "country":
        return value, _countries([value])
    if t == "countries":
        value = _tuple(value)
        if not all(map(isinstance, value, repeat(str))):
            return value, [f"{value!r} is not a list of country codes"]
        return value, _countries(value)
    if t in ("products", "names"):
        value = _tuple(value)
        if not (all(map(isinstance, value, repeat(str))) and all(value)):
            return value, [f"{value!r} is not a list of codes or names"]
        return value, _product_codes(value) if t == "products" else []
    if t == "rate":
        checked, found = _rate(value, "")
        return (value if checked is None else checked), found
    if t == "share":
        checked, found = _share(value, "", positive=f.name == "coverage")
        return (value if checked is None else checked), found
    if t == "date":
        try:
            return parse_date(value, key=f.name), []
        except InputError as err:
            return value, [err.message]
    if t == "choice":
        return value, [] if value in f.allowed else [f"{value!r} is not one of {list(f.allowed)}"]
    if t in _CHECKS:
        return _CHECKS[t](value)
    raise AssertionError(f"unknown field type {t!r}")


def check_fields(obj, fields: tuple[Field, ...]) -> list[tuple[str, str]]:
    """Check and convert every field of a frozen dataclass in place; ``(field, message)`` for each problem."""
    problems: list[tuple[str, str]] = []
    for f in fields:
        value = getattr(obj, f.name)
        if value is REQUIRED:
            problems.append((f.name, "missing"))
            continue
        if value is None and f.default is None:
            continue
        checked, found = check_value(f, value)
        problems += [(f.name, m) for m in found]
        object.__setattr__(obj, f.name, checked)
    return problems


# --------------------------------------------------------------------------- documentation


def field_table(fields: tuple[Field, ...] = MEASURE_FIELDS) -> pd.DataFrame:
    """The fields as a table: Python name, file key(s), type, unit, default, allowed values, rule, meaning.

    Examples
    --------
    >>> field_table().set_index("field").loc["rate", "file key"]
    'rate_pct'
    """
    rows = []
    for f in fields:
        default = "" if f.default is None else ("required" if f.required else f.default)
        if isinstance(default, tuple):
            default = "none" if not default else list(default)
        elif isinstance(default, float) and f.scale != 1:
            default = f"{default * f.scale:g}"
        rows.append({
            "field": f.name,
            "file key": " or ".join(f.file_keys),
            "type": f.type,
            "unit": ("percent in files" if f.scale == 100 else "") if f.unit == "fraction" else f.unit,
            "default": str(default),
            "allowed": ", ".join(map(str, f.allowed)),
            "rule": f.rule,
            "meaning": f.meaning,
        })
    return pd.DataFrame(rows)


def to_text(f: Field, value) -> object:
    """A field's value as a plain value for a table row (``to_frame``): rates in percent, lists joined."""
    if value is None:
        if f.name in ("exporters", "products"):
            return "all"
        return None if f.type in ("date", "name") or f.name == "layer" else ""
    if f.type in ("countries", "products", "names"):
        return " ".join(value)
    if f.type in ("rate", "share"):
        return float(value) * f.scale
    if f.type in _CHECKS:
        return f"{len(value)} entries"
    if isinstance(value, dt.date):
        return value
    return value
