"""Schedule files (TOML): ``[[product_lists]]`` and ``[[measures]]`` tables, read with the field table.

The format (rates and shares in percent, keys ending in ``_pct``)::

    [schedule]                      # optional
    name = "my-regime"
    description = "..."
    include = ["parts/us_base.toml"]  # other schedule files whose lists and measures come first
    as_of = 2026-11-26              # when the facts were compiled
    version = "2026.1"

    [[product_lists]]
    name = "electronics"
    codes = ["8471", "85171300"]    # and/or file = "lists/electronics.csv" (column hs_code[, exporter])
    exporters = ["CHN"]             # a list for some exporters only (optional)

    [[measures]]
    name = "reciprocal_125"
    authority = "IEEPA; EO 14266"
    importer = "USA"
    exporters = ["CHN", "HKG"]      # or "all" (default), with except_exporters = [...]
    products = "all"                # or HS prefixes and list names
    exclude = ["electronics"]
    rate_pct = 125                  # rates_pct = {"8703" = 2.5}, rates_file, exporter_rates_pct = {VNM = 20}
    start = 2025-04-10              # or follows = "another_measure"
    end = 2025-05-14                # first day no longer in force
    group = "ieepa_reciprocal"      # members take the maximum instead of the sum
    replaces = []                   # measures or groups displaced where this applies
    rule = "add"                    # or "floor": an all-in floor over the MFN layers; or "halt": the trade
                                    # stops (an import ban, halted purchases), with no rate_pct, rates,
                                    # value or qualifying shares, coverage, group or replaces
    value_share_pct = 100           # or value_shares_file: the duty is charged on this share of value
    qualifying_pct = {MEX = 50}     # or qualifying_file: trade that qualifies for an exemption

Every key of ``[[measures]]`` is a row of `tradesim.law.fields.MEASURE_FIELDS` (its ``key``
and ``file_key``); ``field_table()`` lists them. Every problem in a file (and in the files it
includes) is reported at once, each with the file, the line and the key path
(``measures[4].rate_pct``). Files are data: nothing in them is executed, and paths are
resolved beside the file that names them.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from itertools import compress
from pathlib import Path

import numpy as np
import pandas as pd

from ..codes import COUNTRY_GROUPS, country_problem, hs_problem, hs_problem_mask
from ..errors import InputError, ScenarioError
from ..files import collect, key_problem, load_toml, read_table, require_columns, unknown_keys
from .fields import LIST_FIELDS, MAX_RATE, MEASURE_FIELDS, FieldErrors, reuse_checks
from .checks import schedule_problems
from .lists import ProductList
from .measure import Measure

__all__ = ["read_parts", "schedule_from_tables", "schedule_tables", "MEASURE_KEYS", "LIST_KEYS", "SCHEDULE_KEYS"]

#: File key -> the field it fills, for ``[[measures]]`` and ``[[product_lists]]``.
MEASURE_KEYS = {k: f for f in MEASURE_FIELDS for k in f.file_keys if f.name != "line_rates"}
LIST_KEYS = {**{k: f for f in LIST_FIELDS for k in f.file_keys if f.name != "code_exporters"},
             "column": None}
SCHEDULE_KEYS = {"name": "schedule name", "description": "what it is", "sources": "citations", "notes": "caveats",
                 "include": "schedule files whose lists and measures come first", "as_of": "when the facts were compiled",
                 "version": "version of the facts", "licence": "licence of the facts and the notices to keep",
                 "view_of": "a schedule file (path beside this one) whose law on `pairs` this file is",
                 "pairs": "the [exporter, importer] pairs of the view (with view_of)"}
_TOP = {"schedule": "", "product_lists": "", "measures": ""}


def read_parts(path) -> tuple[list[Measure], list[ProductList], dict]:
    """The measures, product lists and schedule information of a TOML file (and the files it includes).

    `tradesim.law.TariffSchedule.from_file` builds the schedule from them.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    measures : list of Measure
    lists : list of ProductList
    info : dict
        Keyword arguments of `TariffSchedule`: name, description, source, as_of, version,
        licence, sources, notes.

    Raises
    ------
    ScenarioError
        Listing every problem (``problems``), each with its file, line and key path.
    """
    path = Path(path)
    problems: list[ScenarioError] = []
    tables, meta = schedule_tables(path, problems)
    if "view_of" in meta or "pairs" in meta:
        return _view_parts(path, meta, tables, problems)
    parts = None
    try:
        parts = schedule_from_tables(tables, source=str(path), name=meta.get("name", path.stem),
                                     description=meta.get("description", ""), meta=meta)
    except ScenarioError as err:
        problems += err.problems or [err]
    if problems:
        raise collect(problems, str(path))
    return parts


def _view_parts(path: Path, meta: dict, tables: dict, problems: list) -> tuple[list, list, dict]:
    """`read_parts` of a view file: no measures of its own, and ``info["view"]`` = (the file viewed,
    its pairs) for `TariffSchedule.from_file`."""
    src = str(path)
    view_of, pairs = meta.get("view_of"), meta.get("pairs")
    base = None
    if not isinstance(view_of, str) or not view_of:
        problems.append(key_problem(f"{view_of!r}: expected the path of a schedule file beside this one", src,
                                    "schedule.view_of", None))
    else:
        base = (path.parent / view_of).resolve()
        if base == path.resolve():
            problems.append(key_problem("a schedule cannot be a view of itself", src, "schedule.view_of", None))
        elif not base.is_file():
            problems.append(key_problem(f"no file {view_of!r} beside this one ({base})", src, "schedule.view_of", None))
    ok = isinstance(pairs, list) and pairs and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(c, str) for c in p) for p in pairs)
    if not ok:
        problems.append(key_problem(f"{pairs!r}: expected a list of [exporter, importer] pairs, e.g. "
                                    f"[[\"CHN\", \"USA\"]]", src, "schedule.pairs", None))
    if meta.get("include") or any(tables.values()):
        problems.append(key_problem("a view holds no measures, lists or includes of its own (put changes in a "
                                    "scenario file, or measures in the schedule viewed)", src, "schedule", None))
    if problems:
        raise collect(problems, src)
    _, _, info = schedule_from_tables({}, source=src, name=meta.get("name", path.stem),
                                      description=meta.get("description", ""), meta=meta)
    return [], [], {**info, "view": (base, [tuple(p) for p in pairs])}


def schedule_tables(path: Path, problems: list, seen: tuple = ()) -> tuple[dict, dict]:
    """Tables of `path` after those of the files it includes, each table remembering its file.

    Problems found are appended to `problems`; `seen` holds the including files (for cycles).

    Returns ``({"product_lists": [...], "measures": [...]}, meta)``; each table is ``(values,
    source, text, key, folder)``.
    """
    text, data = load_toml(path)
    src = str(path)
    problems += unknown_keys(data, _TOP, "", src, text)
    meta = data.get("schedule", {})
    if not isinstance(meta, dict):
        problems.append(key_problem("expected a table [schedule]", src, "schedule", text))
        meta = {}
    problems += unknown_keys(meta, SCHEDULE_KEYS, "schedule", src, text)
    out: dict[str, list] = {"product_lists": [], "measures": []}
    includes = meta.get("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        problems.append(key_problem(f"{includes!r} is not a list of file paths", src, "schedule.include", text))
        includes = []
    for name in includes:
        child = (path.parent / name).resolve()
        if child in seen or child == path.resolve():
            problems.append(key_problem(f"includes itself ({' -> '.join(p.name for p in (*seen, path, child))})",
                                        src, "schedule.include", text))
            continue
        if not child.is_file():
            problems.append(key_problem(f"no file {name!r} beside this one ({child})", src, "schedule.include", text))
            continue
        try:
            sub, _ = schedule_tables(child, problems, (*seen, path.resolve()))
        except ScenarioError as err:
            problems.append(err)
            continue
        for kind in out:
            out[kind] += sub[kind]
    for kind in out:
        value = data.get(kind, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            problems.append(key_problem(f"expected an array of tables [[{kind}]]", src, kind, text))
            continue
        out[kind] += [(t, src, text, f"{kind}[{i}]", path.parent) for i, t in enumerate(value)]
    return out, meta


def schedule_from_tables(tables: dict, *, source: str, name: str = "", description: str = "",
                         meta: dict | None = None) -> tuple[list[Measure], list[ProductList], dict]:
    """The measures, lists and schedule information of ``product_lists`` and ``measures`` tables.

    Parameters
    ----------
    tables : dict
        ``{"product_lists": [...], "measures": [...]}``, each entry ``(values, source, text,
        key, folder)``: the table, the file and text it came from, its key path there and the
        folder its relative paths are resolved in. Scenario files hold the same tables.
    source : str
        The file the schedule is read from.
    meta : dict, optional
        The ``[schedule]`` table (as_of, version, licence, sources, notes).

    Returns
    -------
    measures, lists, info
        As `read_parts`; every cross-reference is checked, so ``TariffSchedule(measures,
        lists, **info)`` succeeds.
    """
    problems: list[ScenarioError] = []
    # Tables with problems still take part in the cross-reference checks (with stand-in values
    # for their bad fields) so that one run reports everything.
    built: dict[str, list] = {"product_lists": [], "measures": []}
    where: dict[str, list] = {"product_lists": [], "measures": []}
    csv_cache: dict = {}  # a CSV file is read and checked once, however many measures name it
    with reuse_checks():
        for kind, build in (("product_lists", _product_list), ("measures", partial(_measure, csv_cache=csv_cache))):
            for values, src, text, key, folder in tables.get(kind, []):
                obj = build(values, src, text, key, Path(folder), problems)
                if obj is not None:
                    built[kind].append(obj)
                    where[kind].append((src, text, key))
    lists, measures = built["product_lists"], built["measures"]
    for table, pos, fld, message in schedule_problems(measures, lists):
        src, text, key = where[table][pos]
        file_key = _file_key(MEASURE_FIELDS if table == "measures" else LIST_FIELDS, fld)
        problems.append(key_problem(message, src, f"{key}.{file_key}", text))
    meta = dict(meta or {})
    info = {}
    for k in ("as_of",):
        if k in meta:
            try:
                info[k] = _date(meta[k], k)
            except ValueError as err:
                problems.append(key_problem(str(err), source, f"schedule.{k}", None))
    for k in ("version", "licence", "notes"):
        if k in meta:
            info[k] = str(meta[k])
    if "sources" in meta:
        info["sources"] = tuple(meta["sources"]) if isinstance(meta["sources"], list) else (str(meta["sources"]),)
    if problems:
        raise collect(problems, source)
    return measures, lists, {"name": name, "description": description, "source": source, **info}


# --------------------------------------------------------------------------- values of each type


def _file_key(fields, name: str) -> str:
    head, _, rest = name.partition(".")
    f = next((f for f in fields if f.name == head), None)
    key = (f.key or f.name) if f is not None else head
    return key + (f".{rest}" if rest else "")


def _strings(value, *, allow_all: bool = False):
    if allow_all and value == "all":
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{value!r} is not a list of strings" + (' or "all"' if allow_all else ""))
    return value


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _pct(value, upper: float) -> float:
    pct = _number(value)
    if not 0 <= pct <= upper:
        raise ValueError(f"{pct:g}% is outside 0% to {upper:,.0f}%")
    return pct / 100


def _date(value, key: str = "") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date(value)
        except ValueError:
            pass
    return _bad_date(value)


def _bad_date(value):
    raise ValueError(f"{value!r} is not a date: expected YYYY-MM-DD")


def _table_pct(value, upper: float, what: str) -> tuple[dict, list[str]]:
    """The entries of an inline table as fractions, and a problem for each bad entry (left out of the table)."""
    if not isinstance(value, dict):
        raise ValueError(f"{value!r} is not a table of {what} = percent")
    out, bad = {}, []
    for k, v in value.items():  # an inline table of a TOML file: written by hand, short
        try:
            out[k] = _pct(v, upper)
        except ValueError as err:
            bad.append(f"[{k!r}] {err}")
    return out, bad


def _csv(path: Path, columns: list[str], value_col: str, upper: float, what: str, *,
         by_exporter: bool = True) -> pd.DataFrame:
    """A CSV of codes (and exporters) with a percent column, checked at once: `ValueError` naming the bad lines.

    The checks are vectorised; messages are written for the lines they flag only. Exporters are checked when
    the values are by exporter (`by_exporter`); blank ones only where ``exporter`` is a required column.
    """
    try:
        frame = read_table(path, dtype=str)
        require_columns(frame, columns, str(path), what)
    except InputError as err:
        raise ValueError(str(err)) from None
    codes = frame["hs_code"].fillna("")
    bad_code = hs_problem_mask(codes)
    if bad_code.any():  # dots and spaces inside codes are dropped (a well-formed code has neither)
        codes = codes.mask(bad_code, codes[bad_code].str.replace(r"[.\s]", "", regex=True))
        bad_code[bad_code] = hs_problem_mask(codes[bad_code])
    pct = pd.to_numeric(frame[value_col], errors="coerce")
    bad_value = ~((pct >= 0) & (pct <= upper)).to_numpy(dtype=bool)  # NaN fails too
    exporters = frame.get("exporter", pd.Series("", index=frame.index)).fillna("")
    # the few distinct exporters checked; blank ones are allowed where rows without one mean all (a rates file)
    unknown = [e for e in exporters.unique().tolist()
               if by_exporter and (e or "exporter" in columns) and _country_problem(e)]
    bad_exporter = exporters.isin(unknown).to_numpy(dtype=bool)
    flagged = np.flatnonzero(bad_exporter | bad_code | bad_value)
    keys = [c for c in ("exporter", "hs_code") if c in frame.columns]
    dup = frame[keys].assign(hs_code=codes).duplicated()
    if len(flagged) or dup.any():
        bad = []  # every problem of the first lines flagged, then the count of the others
        for i in flagged[:5].tolist():
            line = frame.index[i]
            if bad_exporter[i]:
                bad.append(f"line {line}: {_country_problem(exporters.iloc[i])}")
            if bad_code[i]:
                bad.append(f"line {line}: {hs_problem(codes.iloc[i])}")
            elif bad_value[i]:
                raw = frame[value_col].iloc[i]
                bad.append(f"line {line}: {value_col} {raw!r} is not a number from 0 to {upper:,.0f}")
        total = len(bad) + int(bad_exporter[flagged[5:]].sum() + (bad_code | bad_value)[flagged[5:]].sum())
        if dup.any():
            bad.append(f"line {dup.index[dup][0]}: {' and '.join(keys)} appear more than once")
            total += 1
        more = f"; ... and {total - 5} more" if total > 5 else ""
        raise ValueError(f"{path}: " + "; ".join(bad[:5]) + more)
    return pd.DataFrame({"exporter": exporters, "hs_code": codes, "value": pct / 100})


def _country_problem(code) -> str | None:
    return country_problem(code, COUNTRY_GROUPS)


def _csv_table(cache: dict, how: str, path: Path, columns: list[str], value_col: str, upper: float, what: str):
    """`_csv` as a table of values: by HS code (`how` ``"codes"``), by (exporter, HS code) (``"lines"``), or
    both for the rows without and with an exporter (``"split"``).

    A file is read and checked once for all the measures that name it, and each table built once (`cache`):
    callers must not change the tables.
    """
    key = (path.resolve(), tuple(columns), value_col, upper, how == "codes")
    if key not in cache:
        try:
            frame = _csv(path, columns, value_col, upper, what, by_exporter=how != "codes")
            cache[key] = tuple(frame[c].tolist() for c in ("exporter", "hs_code", "value"))
        except ValueError as err:
            cache[key] = err
    if isinstance(cache[key], ValueError):
        raise ValueError(str(cache[key]))
    if (key, how) not in cache:
        exporters, codes, values = cache[key]
        if how == "codes":
            cache[key, how] = dict(zip(codes, values))
        elif how == "lines":
            cache[key, how] = dict(zip(zip(exporters, codes), values))
        else:
            own = np.array(exporters, dtype=object) != ""
            cache[key, how] = (dict(zip(compress(codes, ~own), compress(values, ~own))),
                               dict(zip(zip(compress(exporters, own), compress(codes, own)), compress(values, own))))
    return cache[key, how]


# --------------------------------------------------------------------------- tables


def _product_list(table: dict, src: str, text, key: str, folder: Path, problems: list) -> ProductList | None:
    """The list, a stand-in with its name when its codes are bad, or None; problems go to `problems`."""
    found = unknown_keys(table, LIST_KEYS, key, src, text)
    if "name" not in table:
        found.append(key_problem("missing key 'name'", src, key, text))
    if "codes" not in table and "file" not in table:
        found.append(key_problem("give the codes inline (codes = [...]) or in a CSV (file = ...)", src, key, text))
    codes: list[str] = []
    owners: list[str] | None = None
    try:
        codes += _strings(table.get("codes", []))
    except ValueError as err:
        found.append(key_problem(str(err), src, f"{key}.codes", text))
    if "file" in table:
        try:
            pl = ProductList.from_csv(folder / str(table["file"]), column=str(table.get("column", "hs_code")))
            if pl.code_exporters is not None:
                if codes:
                    raise InputError("a list file with an exporter column cannot be mixed with inline codes")
                owners = list(pl.code_exporters)
            codes += list(pl.codes)
        except InputError as err:
            found.append(key_problem(str(err), src, f"{key}.file", text))
    kw = {f: table[f] for f in ("description", "source", "notes", "exporters") if f in table}
    problems += found
    name = table.get("name")
    try:
        return ProductList(name, tuple(codes), code_exporters=None if owners is None else tuple(owners), **kw)
    except FieldErrors as err:
        problems += [key_problem(m, src, f"{key}.{_file_key(LIST_FIELDS, f)}", text) for f, m in err.fields
                     if f != "codes" or not found]
        stand_in = isinstance(name, str) and name.strip() and not name[0].isdigit()
        return ProductList(name, ("01",)) if stand_in else None


def _measure(table: dict, src: str, text, key: str, folder: Path, problems: list,
             csv_cache: dict | None = None) -> Measure | None:
    """The measure, built with stand-ins for bad fields when possible, or None; problems go to `problems`.

    `csv_cache` holds the CSV files already read (by `_csv_columns`) for the other measures.
    """
    csv_cache = {} if csv_cache is None else csv_cache
    found = unknown_keys(table, MEASURE_KEYS, key, src, text)
    for required in ("name", "importer"):
        if required not in table:
            found.append(key_problem(f"missing key {required!r}", src, key, text))
    if "start" not in table and "follows" not in table:
        found.append(key_problem("missing key 'start' (or follows)", src, key, text))
    if "follows" in table and ("start" in table or "end" in table):
        found.append(key_problem("give either follows or start/end, not both", src, f"{key}.follows", text))
    if table.get("rule") != "halt" and not any(k in table for k in ("rate_pct", "rates_pct", "rates_file",
                                                                      "exporter_rates_pct")):  # a halt has none
        found.append(key_problem("missing key 'rate_pct' (or rates_pct / rates_file / exporter_rates_pct)",
                                 src, key, text))
    kw: dict = {}
    upper = 100 * MAX_RATE
    for file_key, f in MEASURE_KEYS.items():
        if file_key not in table:
            continue
        value = table[file_key]
        try:
            if f.type in ("name", "text", "country", "choice"):
                if not isinstance(value, str):
                    raise ValueError(f"{value!r} is not text")
                kw[f.name] = value
            elif f.type in ("countries", "products", "names"):
                kw[f.name] = _strings(value, allow_all=f.name in ("exporters", "products"))
            elif f.type == "rate":
                kw[f.name] = _pct(value, upper)
            elif f.type == "share":
                kw[f.name] = _number(value) / 100
            elif f.type == "date":
                kw[f.name] = _date(value)
            elif file_key == f.file_key:  # a CSV file of values by line (and exporter)
                share = f.type.endswith("shares")
                args = (folder / str(value), ["hs_code", "share_pct" if share else "rate_pct"]
                        + (["exporter"] if f.type == "line_shares" else []),
                        "share_pct" if share else "rate_pct", 100 if share else upper, f.meaning)
                if f.name == "product_rates":
                    by_code, by_line = _csv_table(csv_cache, "split", *args)
                    kw.setdefault(f.name, {}).update(by_code)
                    if by_line:
                        kw["line_rates"] = by_line
                else:
                    kw[f.name] = _csv_table(csv_cache, "codes", *args)
            elif f.type == "line_shares":
                kw[f.name] = _csv_table(csv_cache, "lines", folder / str(value), ["exporter", "hs_code", "share_pct"],
                                        "share_pct", 100, f.meaning)
            else:  # an inline table of percent by code or exporter
                share = f.type.endswith("shares")
                what = "exporter" if f.type.startswith("exporter") else "HS code"
                entries, bad = _table_pct(value, 100 if share else upper, what)
                kw.setdefault(f.name, {}).update(entries)
                if bad:  # every bad entry; the keys of the others are checked with the measure
                    found.append(key_problem("; ".join(bad), src, f"{key}.{file_key}", text))
        except ValueError as err:
            found.append(key_problem(str(err), src, f"{key}.{file_key}", text))
    problems += found
    stand_ins = {"name": key, "importer": "USA", "start": None if "follows" in kw else dt.date(1900, 1, 1)}
    try:
        return Measure(**{**stand_ins, **kw})
    except FieldErrors as err:
        for fld, msg in err.fields:
            problems.append(key_problem(msg, src, f"{key}.{_file_key(MEASURE_FIELDS, fld)}", text))
            kw.pop(fld.partition(".")[0], None)
            if fld == "except_exporters":
                kw.pop("exporters", None)
    try:  # again with stand-ins for the bad fields, for the cross-reference checks only
        return Measure(**{**stand_ins, **kw})
    except FieldErrors:
        return None
