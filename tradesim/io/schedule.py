"""Read tariff schedules from TOML files: ``[[product_lists]]`` and ``[[measures]]`` tables.

The format (rates in percent, keys ending in ``_pct``)::

    [schedule]                      # optional
    name = "my-regime"
    description = "..."

    [[product_lists]]
    name = "electronics"
    codes = ["8471", "85171300"]    # and/or file = "lists/electronics.csv" (column hs_code)
    source = "..."

    [[measures]]
    name = "reciprocal_125"
    authority = "IEEPA; EO 14266"
    importer = "USA"
    exporters = ["CHN", "HKG"]      # or "all" (default), with except_exporters = [...]
    products = "all"                # or HS prefixes and list names
    exclude = ["electronics"]
    rate_pct = 125                  # rates_pct = {"8703" = 2.5} or rates_file for rates by product
    start = 2025-04-10
    end = 2025-05-14                # first day no longer in force
    announced = 2025-04-09          # made public (optional; for anticipation)
    replaces = []                   # measures or groups displaced where this applies
    group = "ieepa_reciprocal"      # members take the maximum instead of the sum
    layer = "IEEPA reciprocal"      # label for stacked plots and tables (default: group, else name)
    kind = "additional"             # or "mfn"
    coverage_pct = 100              # share of the products covered, for lists not known line by line
    source = "..."

The tables are read by `schedule_from_tables`, so a scenario file can hold them
unchanged. Every problem in a file is reported at once, each with the file, the
line and the key path (``measures[4].rate_pct``). Files are data: nothing in them
is executed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from pathlib import Path

from ..errors import InputError, ScenarioError
from ..tariffs import MAX_RATE, Measure, ProductList, TariffSchedule, _FieldErrors, _schedule_problems

__all__ = ["read_schedule", "schedule_from_tables", "load_toml", "MEASURE_KEYS", "LIST_KEYS"]

#: TOML key -> what it holds, for ``[[measures]]``.
MEASURE_KEYS = {
    "name": "unique name",
    "authority": "legal instrument",
    "kind": '"additional" (default) or "mfn"',
    "importer": "ISO alpha-3 code of the country imposing the measure",
    "exporters": 'list of exporters, or "all" (default)',
    "except_exporters": 'exporters left out when exporters is "all"',
    "products": 'HS prefixes and product-list names, or "all" (default)',
    "exclude": "product lists (or HS prefixes) exempted",
    "rate_pct": "ad valorem rate in percent, 0 to 2000",
    "rates_pct": "table of HS prefix = rate in percent, overriding rate_pct",
    "rates_file": "CSV with columns hs_code and rate_pct, overriding rate_pct",
    "start": "first day in force (YYYY-MM-DD)",
    "end": "first day no longer in force (YYYY-MM-DD)",
    "announced": "day the measure was made public, if before start (YYYY-MM-DD)",
    "replaces": "measures or groups that do not apply where this one applies",
    "group": "group whose members take the maximum rate",
    "layer": 'layer of tariff law for tables and plots, such as "Section 301" (default: group, else name)',
    "coverage_pct": "share of the products covered, in percent (default 100)",
    "source": "citation",
    "notes": "caveats",
}
#: TOML key -> what it holds, for ``[[product_lists]]``.
LIST_KEYS = {
    "name": "unique name",
    "description": "what the list is",
    "codes": "HS codes",
    "file": "CSV file with one HS code per row, relative to this file",
    "column": "column of the CSV with the codes (default hs_code)",
    "source": "citation",
    "notes": "caveats",
}
SCHEDULE_KEYS = {"name": "schedule name", "description": "what it is", "sources": "citations", "notes": "caveats"}
_FIELD_KEY = {"rate": "rate_pct", "product_rates": "rates_pct", "coverage": "coverage_pct"}


def load_toml(path) -> tuple[str, dict]:
    """Text and parsed content of a TOML file; a syntax error is a `ScenarioError` with its line."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("file not found", source=str(path))
    text = path.read_text(encoding="utf-8")
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"line (\d+)", str(err))
        raise ScenarioError(f"TOML syntax error: {err}", source=str(path), line=int(found[1]) if found else None) from None


def read_schedule(path) -> TariffSchedule:
    """Read a tariff schedule from a TOML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    TariffSchedule

    Raises
    ------
    ScenarioError
        Listing every problem in the file (``problems``), each with line and key path.
    """
    path = Path(path)
    text, data = load_toml(path)
    problems = _unknown(data, {"schedule": "", "product_lists": "", "measures": ""}, "", str(path), text)
    meta = data.get("schedule", {})
    if not isinstance(meta, dict):
        problems.append(_problem("expected a table [schedule]", str(path), "schedule", text))
        meta = {}
    problems += _unknown(meta, SCHEDULE_KEYS, "schedule", str(path), text)
    try:
        schedule = schedule_from_tables(data, source=str(path), text=text, base_dir=path.parent, name=meta.get("name", path.stem),
                                        description=meta.get("description", ""))
    except ScenarioError as err:
        problems += err.problems or [err]
        schedule = None
    if problems:
        raise _collect(problems, str(path))
    return schedule


def schedule_from_tables(
    data: dict, *, source: str, text: str | None = None, base_dir=None, name: str = "", description: str = ""
) -> TariffSchedule:
    """Build a schedule from parsed ``product_lists`` and ``measures`` tables (other keys are ignored here).

    Used by `read_schedule` and by scenario files, which hold the same tables.
    """
    base_dir = Path(base_dir) if base_dir is not None else Path(".")
    problems: list[ScenarioError] = []
    # Tables with problems still take part in the cross-reference checks (with
    # stand-in values for their bad fields) so that one run reports everything.
    built: dict[str, list] = {"product_lists": [], "measures": []}
    rows: dict[str, list[int]] = {"product_lists": [], "measures": []}
    for kind, build in (("product_lists", _product_list), ("measures", _measure)):
        for i, table in enumerate(_array(data, kind, source, text, problems)):
            obj = build(table, i, source, text, base_dir, problems)
            if obj is not None:
                built[kind].append(obj)
                rows[kind].append(i)
    lists, measures = built["product_lists"], built["measures"]
    for table, pos, fld, message in _schedule_problems(measures, lists):
        key = f"{table}[{rows[table][pos]}].{fld}"
        problems.append(_problem(message, source, key, text))
    if problems:
        raise _collect(problems, source)
    return TariffSchedule(tuple(measures), tuple(lists), name=name, description=description, source=source)


# ---------------------------------------------------------------------------


def _problem(message: str, source: str, key: str, text: str | None) -> ScenarioError:
    return ScenarioError(message, source=source, key=key, line=_line_of(text, key))


def _collect(problems: list[ScenarioError], source: str) -> ScenarioError:
    lines = "\n  ".join(str(p) for p in problems)
    return ScenarioError(f"{len(problems)} problem(s):\n  {lines}", source=source, problems=problems)


def _line_of(text: str | None, key: str) -> int | None:
    """Line of a key path such as ``measures[4].rate_pct`` in the TOML text (the table's header if the key is absent)."""
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


def _unknown(table: dict, known: dict, path: str, source: str, text: str | None) -> list[ScenarioError]:
    out = []
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of {sorted(known)}"
            full = f"{path}.{key}" if path else key
            out.append(_problem(f"unknown key {key!r}{hint}", source, full, text))
    return out


def _array(data: dict, name: str, source: str, text: str | None, problems: list) -> list[dict]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        problems.append(_problem(f"expected an array of tables [[{name}]]", source, name, text))
        return []
    return value


def _strings(value, key: str, *, allow_all: bool = False):
    """A list of strings, or None for "all"; raises ValueError with the expectation."""
    if allow_all and value == "all":
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{value!r} is not a list of strings" + (' or "all"' if allow_all else ""))
    return value


def _text(value, key: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _number(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _pct_rate(value, key: str) -> float:
    pct = _number(value, key)
    if not 0 <= pct <= 100 * MAX_RATE:
        raise ValueError(f"{pct:g}% is outside 0% to {100 * MAX_RATE:,.0f}%")
    return pct / 100


def _date(value, key: str):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date: expected YYYY-MM-DD")


def _product_list(table: dict, i: int, source: str, text, base_dir: Path, problems: list) -> ProductList | None:
    """The list, a stand-in with its name when its codes are bad, or None; problems go to `problems`."""
    key = f"product_lists[{i}]"
    found = _unknown(table, LIST_KEYS, key, source, text)
    if "name" not in table:
        found.append(_problem("missing key 'name'", source, key, text))
    if "codes" not in table and "file" not in table:
        found.append(_problem("give the codes inline (codes = [...]) or in a CSV (file = ...)", source, key, text))
    codes: list[str] = []
    try:
        codes += _strings(table.get("codes", []), "codes")
    except ValueError as err:
        found.append(_problem(str(err), source, f"{key}.codes", text))
    if "file" in table:
        file = base_dir / str(table["file"])
        try:
            codes += ProductList.from_csv(file, column=table.get("column", "hs_code")).codes
        except InputError as err:
            found.append(_problem(str(err), source, f"{key}.file", text))
    text_fields = {f: table.get(f, "") for f in ("description", "source", "notes")}
    for f, v in text_fields.items():
        if not isinstance(v, str):
            found.append(_problem(f"{v!r} is not text", source, f"{key}.{f}", text))
    problems += found
    name = table.get("name")
    try:
        pl = ProductList(name, tuple(codes), **text_fields)
    except _FieldErrors as err:
        problems += [_problem(m, source, f"{key}.{f}", text) for f, m in err.fields if f != "codes" or not found]
        stand_in = isinstance(name, str) and name.strip() and not name[0].isdigit()
        return ProductList(name, ("01",)) if stand_in else None
    return pl


def _measure(table: dict, i: int, source: str, text, base_dir: Path, problems: list) -> Measure | None:
    """The measure, built with stand-ins for bad fields when possible, or None; problems go to `problems`."""
    key = f"measures[{i}]"
    found = _unknown(table, MEASURE_KEYS, key, source, text)
    for required in ("name", "importer", "start"):
        if required not in table:
            found.append(_problem(f"missing key {required!r}", source, key, text))
    if not any(k in table for k in ("rate_pct", "rates_pct", "rates_file")):
        found.append(_problem("missing key 'rate_pct' (or rates_pct / rates_file)", source, key, text))
    kw: dict = {}

    def take(name, convert, field=None):
        if name in table:
            try:
                kw[field or name] = convert(table[name], name)
            except (ValueError, InputError) as err:
                found.append(_problem(getattr(err, "message", str(err)), source, f"{key}.{name}", text))

    for name in ("name", "authority", "kind", "importer", "group", "layer", "source", "notes"):
        take(name, _text)
    take("exporters", lambda v, k: _strings(v, k, allow_all=True))
    take("products", lambda v, k: _strings(v, k, allow_all=True))
    for name in ("except_exporters", "exclude", "replaces"):
        take(name, _strings)
    take("rate_pct", _pct_rate, "rate")
    take("coverage_pct", lambda v, k: _number(v, k) / 100, "coverage")
    take("start", _date)
    take("end", _date)
    take("announced", _date)
    rates: dict[str, float] = {}
    if "rates_file" in table:
        rates.update(_rates_file(base_dir / str(table["rates_file"]), f"{key}.rates_file", source, text, found))
    if "rates_pct" in table:
        value = table["rates_pct"]
        if not isinstance(value, dict):
            found.append(_problem(f"{value!r} is not a table of HS code = rate in percent", source, f"{key}.rates_pct", text))
        else:
            for code, pct in value.items():
                try:
                    rates[code] = _pct_rate(pct, code)
                except ValueError as err:
                    found.append(_problem(str(err), source, f"{key}.rates_pct.{code}", text))
    if rates:
        kw["product_rates"] = rates
        kw.setdefault("rate", 0.0)
    problems += found
    stand_ins = {"name": f"measures[{i}]", "importer": "USA", "rate": 0.0, "start": dt.date(1900, 1, 1), "end": None,
                 "exporters": None, "except_exporters": (), "products": None, "exclude": (), "replaces": (),
                 "kind": "additional", "product_rates": None, "coverage": 1.0, "group": None,
                 "announced": None, "layer": None}
    try:
        return Measure(**{**stand_ins, **kw})
    except _FieldErrors as err:
        for f, msg in err.fields:
            head, _, rest = f.partition(".")
            problems.append(_problem(msg, source, f"{key}.{_FIELD_KEY.get(head, head)}" + (f".{rest}" if rest else ""), text))
            kw.pop(head, None)
            if head == "except_exporters":
                kw.pop("exporters", None)
    try:  # again with stand-ins for the bad fields, for the cross-reference checks only
        return Measure(**{**stand_ins, **kw})
    except _FieldErrors:
        return None


def _rates_file(path: Path, key: str, source: str, text, found: list) -> dict[str, float]:
    """Rates by product from a CSV (columns hs_code, rate_pct); problems name the CSV's lines."""
    import pandas as pd

    from ..codes import _hs_problem
    from ._common import read_table, require_columns

    try:
        frame = read_table(path, dtype={"hs_code": str})
        require_columns(frame, ["hs_code", "rate_pct"], str(path), "rates by product")
    except InputError as err:
        found.append(_problem(err.message if err.source == str(path) else str(err), source, key, text))
        return {}
    codes = frame["hs_code"].fillna("").str.replace(r"[.\s]", "", regex=True)
    pct = pd.to_numeric(frame["rate_pct"], errors="coerce")
    bad = []
    for line, code, raw, value in zip(frame.index, codes, frame["rate_pct"], pct):
        if p := _hs_problem(code):
            bad.append(f"{path}: line {line}: {p}")
        elif not 0 <= value <= 100 * MAX_RATE:  # NaN fails too
            bad.append(f"{path}: line {line}: rate_pct {raw!r} is not a number from 0 to {100 * MAX_RATE:,.0f}")
    if codes.duplicated().any():
        dup = codes[codes.duplicated()]
        bad.append(f"{path}: line {dup.index[0]}: code {dup.iloc[0]!r} appears more than once")
    if bad:
        more = f"; ... and {len(bad) - 5} more" if len(bad) > 5 else ""
        found.append(_problem("; ".join(bad[:5]) + more, source, key, text))
        return {}
    return dict(zip(codes, pct / 100))
