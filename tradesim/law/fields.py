"""The one table of a measure's fields (and a product list's): name, type, unit, default, meaning.

`Measure` and `ProductList` check their values with it, the schedule file reader reads files
with it (`Field.key` is the file key, `Field.scale` its unit: 100 for keys in percent),
`TariffSchedule.to_frame` shows measures with it and the documentation prints it
(`field_table`). A new kind of rule adds a row here and a rule in `tradesim.law.stacking`
(`Field.rule` names the rule that reads the field).

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
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..codes import COUNTRY_GROUPS, country_problem, hs_problem
from ..data.baseline import MAX_RATE
from ..errors import InputError
from ..files import parse_date

__all__ = ["Field", "MAX_RATE", "MEASURE_FIELDS", "LIST_FIELDS", "FieldErrors", "check_fields", "field_table",
           "KINDS", "RULE_KINDS"]

#: Layer kinds: additional duties, and most-favoured-nation base rates.
KINDS = ("additional", "mfn")
#: How a measure's rate enters the total: added, or an all-in floor over the MFN layers.
RULE_KINDS = ("add", "floor")


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
        The stacking rule that reads it (see `tradesim.law.stacking.RULES`), or ``""`` for
        identification and citation fields.
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
          "add: the rate adds to the total; floor: the total with the MFN layers is brought up to the rate",
          allowed=RULE_KINDS, rule="floor"),
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
    return isinstance(value, int | float | np.number) and not isinstance(value, bool) and bool(np.isfinite(value))


def _rate(value, where: str) -> tuple[float | None, list[str]]:
    if not _is_number(value):
        return None, [f"{where}{value!r} is not a number"]
    if value < 0:
        return None, [f"{where}rate {value:g} is negative: expected 0 to {MAX_RATE:g} (0% to 2,000%)"]
    if value > MAX_RATE:
        return None, [f"{where}rate {value:g} is above {MAX_RATE:g} (2,000%): rates are fractions, 0.25 is 25%"]
    return float(value), []


def _share(value, where: str, *, positive: bool = False) -> tuple[float | None, list[str]]:
    if not _is_number(value) or not (0 < value <= 1 if positive else 0 <= value <= 1):
        bound = "above 0 and at most 1" if positive else "from 0 to 1"
        return None, [f"{where}{value!r} is not a share: expected a number {bound}"]
    return float(value), []


def _codes(codes, where: str = "") -> list[str]:
    bad = [p for c in dict.fromkeys(codes) if (p := hs_problem(c))]
    if bad:
        return [where + "; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")]
    return []


def _countries(codes) -> list[str]:
    bad = [p for c in dict.fromkeys(codes) if (p := country_problem(c, COUNTRY_GROUPS))]
    return ["; ".join(bad)] if bad else []


def _mapping(value, name: str, key_check, value_check) -> tuple[Mapping | None, list[str]]:
    if not isinstance(value, Mapping):
        return None, [f"{value!r} is not a table of {name}"]
    out, problems = {}, []
    for k, v in value.items():
        problems += key_check(k)
        checked, found = value_check(v, f"[{k!r}] ")
        problems += found
        out[k] = checked
    return MappingProxyType(out), problems


def _line_key(k) -> list[str]:
    if not (isinstance(k, tuple) and len(k) == 2):
        return [f"key {k!r} is not (exporter, HS code)"]
    return _countries([k[0]]) + _codes([k[1]])


_CHECKS = {
    "code_rates": lambda v: _mapping(v, "HS code = rate", lambda k: _codes([k]), _rate),
    "exporter_rates": lambda v: _mapping(v, "exporter = rate", lambda k: _countries([k]), _rate),
    "line_rates": lambda v: _mapping(v, "(exporter, HS code) = rate", _line_key, _rate),
    "code_shares": lambda v: _mapping(v, "HS code = share", lambda k: _codes([k]), _share),
    "exporter_shares": lambda v: _mapping(v, "exporter = share", lambda k: _countries([k]), _share),
    "line_shares": lambda v: _mapping(v, "(exporter, HS code) = share", _line_key, _share),
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
        if not all(isinstance(v, str) for v in value):
            return value, [f"{value!r} is not a list of country codes"]
        return value, _countries(value)
    if t in ("products", "names"):
        value = _tuple(value)
        if not all(isinstance(v, str) and v for v in value):
            return value, [f"{value!r} is not a list of codes or names"]
        return value, _codes([c for c in value if c[:1].isdigit()]) if t == "products" else []
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
