"""Read scenario files (TOML): check every key, follow ``extends``, build the schedule and the phases.

The format is documented in ``docs/scenarios.md``. In short::

    [scenario]
    name = "phased-cut"
    extends = "us-china-2025"          # start from another scenario (bundled name or path)
    baseline = "demo-2024"             # bundled name or path of a tidy CSV/Parquet file
    schedule = "us-china-2025"         # bundled schedule or path: its lists and measures come first
    start = 2025-01-01
    end = 2027-12-31
    frequency = "monthly"
    model = "pe"

    [elasticities]                     # long-run values; numbers or tables of HS prefix = value
    sigma = 2.0

    [dynamics]
    adjustment = "elasticity"

    [[measures]]                       # a measure of the same name as an inherited one updates its keys
    name = "us_ieepa_recip_pause_10"
    end = 2026-01-01

    [[phases]]
    measure = "us_ieepa_recip_pause_china_125"
    to_pct = 10
    steps = 3
    every = "90 days"
    start = 2025-05-14

    [remove]
    measures = ["cn_counter_125"]

Every problem in every file of the chain is reported at once, each with its file, line and key
path. Nothing in a file is executed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd

from ..data import MAX_RATE, list_baselines
from ..data import baseline_axes
from ..data.bundled import list_fine_values
from ..elasticities import Elasticities, parameter_names
from ..errors import InputError, ScenarioError
from ..files import collect, line_of, load_toml, parse_date, unknown_keys
from ..law import LIST_FIELDS, MEASURE_FIELDS, TariffSchedule
from ..law.bundled import schedule_file
from ..law.file import read_parts, schedule_from_tables, schedule_tables
from ..models import MODELS
from .bundled import list_scenarios, scenario_path
from .dynamics import FREQUENCIES, Dynamics
from .phases import Phase, apply_phases
from .scenario import Scenario

__all__ = ["load_scenario", "scenario_files", "FILE_KEYS", "SCENARIO_KEYS", "PHASE_KEYS", "TOP_KEYS",
           "DYNAMICS_KEYS"]

TOP_KEYS = {
    "scenario": "the scenario's settings",
    "elasticities": "long-run elasticities",
    "dynamics": "how trade adjusts over time",
    "product_lists": "product lists, as in schedule files",
    "measures": "measures, as in schedule files",
    "phases": "stepwise changes of a measure's rate",
    "remove": "inherited measures, product lists or phases to drop",
}
SCENARIO_KEYS = {
    "name": "scenario name (default: the file name)",
    "description": "what the scenario is",
    "extends": "bundled scenario name or path of the scenario this one starts from",
    "baseline": "bundled baseline name or path of a tidy CSV/Parquet file",
    "schedule": "bundled tariff schedule or path of a schedule file whose lists and measures come first",
    "start": "first day of the path (YYYY-MM-DD)",
    "end": "last day of the path (YYYY-MM-DD)",
    "frequency": f"one of {list(FREQUENCIES)} (default monthly)",
    "reference": "day whose tariffs the baseline's flows reflect (default Dec 31 of the baseline year)",
    "model": "a registered model: \"pe\" (default), \"ge\" or one of your own",
    "fine_values": "bundled fine values or baseline, or path of a file of trade values finer than the baseline's products",
    "world_baseline": "a baseline with every country on both axes, for models that need one (general equilibrium) when "
                      "`baseline` has not (US imports only): bundled name or path",
    "world_fine_values": "fine values for the products of `world_baseline`",
    "compare_to": "bundled scenario name or path this one is read against",
    "sources": "citations (added to those of the scenario it extends)",
    "notes": "caveats",
}
PHASE_KEYS = {
    "measure": "name of the measure whose rate changes",
    "from_pct": "rate before the first step, percent (default: the measure's rate)",
    "to_pct": "rate after the last step, percent",
    "steps": "number of equal steps (1 or more)",
    "every": 'time between steps: "90 days", "2 weeks" or "3 months"',
    "start": "day of the first step",
    "path": "explicit steps instead: [{ date = 2025-06-01, rate_pct = 100 }, ...]",
    "announced": "day the steps were made public",
    "source": "citation",
    "notes": "caveats",
}
DYNAMICS_KEYS = {f.name: "" for f in fields(Dynamics)}
REMOVE_KEYS = {"measures": "measure names", "product_lists": "product list names", "phases": "measures whose phases to drop"}
_REQUIRED = ("baseline", "start", "end")


@dataclass
class _Origin:
    """Where a table came from: its file, the file's text and its key path there."""

    source: str
    text: str
    key: str

    def problem(self, message: str, sub: str = "") -> ScenarioError:
        key = f"{self.key}.{sub}" if sub else self.key
        return ScenarioError(message, source=self.source, key=key, line=line_of(self.text, key))


@dataclass
class _Table:
    """A list or measure after merging: its keys and the origin of each key."""

    values: dict
    origin: _Origin
    key_origin: dict = field(default_factory=dict)

    def origin_of(self, key: str) -> _Origin:
        return self.key_origin.get(key, self.origin)


def load_scenario(name_or_path) -> Scenario:
    """Read, merge and check a scenario: a bundled name (see `list_scenarios`) or the path of a TOML file.

    See the module notes for the format. A path given here is relative to the current folder;
    paths inside the files are relative to the file that names them.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem found (``problems``), each naming the file, the line and the key
        path; a problem in a value a file inherits names the file that inherited it.

    Examples
    --------
    >>> s = load_scenario("phased-cut")
    >>> s.extends, s.model
    (('us-china-2025',), 'pe')
    """
    return _read(name_or_path, ())


def scenario_files(name_or_path) -> list[tuple[str, Path]]:
    """The files a scenario is read from, each with its role, for a record of what was run.

    Roles: ``"scenario"`` (the file itself), ``"extends"`` (the files it extends, nearest
    first), ``"schedule"`` (the schedule file it names, bundled or not), ``"baseline"``,
    ``"fine_values"``, ``"world_baseline"`` and ``"world_fine_values"`` (when they are files, not
    bundled names), ``"table"`` (CSV files named
    by its measures and product lists), and the same for the scenario it is read against,
    with roles prefixed ``"compare_to "``. Paths are resolved as `load_scenario` resolves
    them: beside the file that names them. Files that do not exist are left out (reading the
    scenario reports them).

    Examples
    --------
    >>> [(role, path.name) for role, path in scenario_files("phased-cut")]
    [('scenario', 'phased-cut.toml'), ('extends', 'us-china-2025.toml'), ('schedule', 'us-china-2025.toml')]
    """
    path = scenario_path(str(name_or_path))
    if path is None:
        raise ScenarioError(f"no bundled scenario or file {str(name_or_path)!r}",
                            source=str(name_or_path).replace("\x00", "\\x00"))
    return _files(path, "", ())


def _files(path: Path, prefix: str, seen: tuple) -> list[tuple[str, Path]]:
    chain = _chain(path, ())
    out = [(prefix + "scenario", chain[-1][0])] + [(prefix + "extends", p) for p, _, _ in reversed(chain[:-1])]
    settings: dict[str, tuple[object, Path]] = {}
    tables = []
    for file, _, data in chain:
        meta = data.get("scenario")
        if isinstance(meta, dict):
            settings.update({k: (v, file.parent) for k, v in meta.items() if isinstance(v, str)})
        for kind in ("product_lists", "measures"):
            rows = data.get(kind)
            for t in rows if isinstance(rows, list) else []:
                if isinstance(t, dict):
                    tables += [Path(v) for k, v in _absolute_files(t, file.parent).items() if k in FILE_KEYS]
    if "schedule" in settings:
        value, folder = settings["schedule"]
        found = schedule_file(value) if not value.endswith(".toml") else None
        out.append((prefix + "schedule", Path(found) if found is not None else folder / value))
    for key in ("baseline", "fine_values", "world_baseline", "world_fine_values"):
        if key in settings and "\x00" not in settings[key][0]:
            out.append((prefix + key, settings[key][1] / settings[key][0]))
    out += [(prefix + "table", t) for t in tables]
    if "compare_to" in settings:
        value, folder = settings["compare_to"]
        target = scenario_path(value, folder)
        if target is not None and target not in seen and target != path.resolve():
            out += _files(target, "compare_to ", (*seen, path.resolve()))
    unique: dict[Path, str] = {}
    for role, file in out:
        if file.is_file():
            unique.setdefault(file.resolve(), role)
    return [(role, file) for file, role in unique.items()]


def _read(name_or_path, seen: tuple) -> Scenario:
    ref = str(name_or_path)
    path = scenario_path(ref)
    if path is None:
        raise ScenarioError(f"no bundled scenario or file {ref!r}; bundled: {list(list_scenarios().index)}",
                            source=ref.replace("\x00", "\\x00"))
    chain = _chain(path, ())
    leaf_path, leaf_text, leaf_data = chain[-1]
    problems: list[ScenarioError] = []

    # -- settings, elasticities, dynamics: later files override earlier ones key by key
    meta: dict[str, tuple[object, _Origin]] = {}
    sections: dict[str, dict[str, tuple[object, _Origin]]] = {"elasticities": {}, "dynamics": {}}
    sources: list[str] = []
    for file, text, data in chain:
        src = str(file)
        problems += unknown_keys(data, TOP_KEYS, "", src, text)
        table = data.get("scenario")
        if not isinstance(table, dict):
            problems.append(_Origin(src, text, "scenario").problem("missing table [scenario]"))
            continue
        problems += unknown_keys(table, SCENARIO_KEYS, "scenario", src, text)
        for key, value in table.items():
            if key in ("name", "extends") or key not in SCENARIO_KEYS:
                continue
            if key == "sources":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    sources += [v for v in value if v not in sources]
                else:
                    problems.append(_Origin(src, text, "scenario.sources").problem(f"{value!r} is not a list of text"))
                continue
            meta[key] = (value, _Origin(src, text, f"scenario.{key}"), file.parent)
        for section, known in (("elasticities", {p: "" for p in parameter_names()}), ("dynamics", DYNAMICS_KEYS)):
            value = data.get(section, {})
            if not isinstance(value, dict):
                problems.append(_Origin(src, text, section).problem(f"expected a table [{section}]"))
                continue
            problems += unknown_keys(value, known, section, src, text)
            sections[section].update({k: (v, _Origin(src, text, f"{section}.{k}")) for k, v in value.items() if k in known})

    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        problems.append(_Origin(str(leaf_path), leaf_text, "scenario").problem(f"missing keys {missing}"))

    # -- product lists, measures and phases: the base schedule first, then each file in order
    tables: dict[str, dict[str, _Table]] = {"product_lists": {}, "measures": {}}
    unnamed: dict[str, list[_Table]] = {"product_lists": [], "measures": []}
    phases: list[tuple[dict, _Origin]] = []
    base_info: dict = {}
    views: list = []
    base_tables: dict = {}
    if "schedule" in meta:
        value, origin, folder = meta["schedule"]
        base_tables, base_meta, views = _schedule_file(value, origin, folder, problems)
        base_info = {k: base_meta[k] for k in ("as_of", "version", "licence") if k in base_meta}
        if "as_of" in base_info:
            base_info["as_of"] = str(base_info["as_of"])
        for kind, rows in base_tables.items():
            for values, src, text, key, where in rows:
                t = _absolute_files(values, Path(where))
                name = t.get("name")
                if isinstance(name, str) and name not in tables[kind]:
                    tables[kind][name] = _Table(dict(t), _Origin(src, text, key))
                else:  # duplicates are reported by the schedule's own checks
                    unnamed[kind].append(_Table(dict(t), _Origin(src, text, key)))
    for file, text, data in chain:
        src = str(file)
        _remove(data.get("remove", {}), _Origin(src, text, "remove"), tables, phases, problems)
        for kind in ("product_lists", "measures"):
            value = data.get(kind, [])
            if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
                problems.append(_Origin(src, text, kind).problem(f"expected an array of tables [[{kind}]]"))
                continue
            here: dict[str, int] = {}
            for i, t in enumerate(value):
                origin = _Origin(src, text, f"{kind}[{i}]")
                t = _absolute_files(t, file.parent)
                name = t.get("name")
                if isinstance(name, str) and name in here:
                    what = "measure" if kind == "measures" else "product list"
                    problems.append(origin.problem(f"{what} {name!r} is defined twice in this file (also "
                                                   f"{kind}[{here[name]}]); to change an inherited one, write it once",
                                                   "name"))
                    continue
                if isinstance(name, str):
                    here[name] = i
                if isinstance(name, str) and name in tables[kind]:
                    merged = tables[kind][name]
                    merged.values.update(t)
                    merged.key_origin.update({k: origin for k in t})
                elif isinstance(name, str):
                    tables[kind][name] = _Table(dict(t), origin)
                else:
                    unnamed[kind].append(_Table(dict(t), origin))
        value = data.get("phases", [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            problems.append(_Origin(src, text, "phases").problem("expected an array of tables [[phases]]"))
        else:
            phases += [(t, _Origin(src, text, f"phases[{i}]")) for i, t in enumerate(value)]

    entries = {kind: list(tables[kind].values()) + unnamed[kind] for kind in tables}
    schedule = None
    try:
        measures, lists, _ = schedule_from_tables(
            {k: [(e.values, str(leaf_path), None, f"{k}[{i}]", leaf_path.parent) for i, e in enumerate(v)]
             for k, v in entries.items()}, source=str(leaf_path))
        schedule = TariffSchedule(tuple(measures), tuple(lists), source=str(leaf_path))
        inherited = {t.get("name") for rows in base_tables.get("measures", []) for t in rows[:1]} if views else set()
        own = [m.name for m in measures if m.name not in inherited]  # a scenario's own measures are not narrowed
        for pairs in reversed(views):
            schedule = schedule.view(pairs, keep=own, name=schedule.name, source=str(leaf_path))
    except ScenarioError as err:
        problems += [_relocate(p, entries) for p in (err.problems or [err])]
    except InputError as err:  # a measure the scenario writes may leave a pair of the view unreached
        problems.append(meta["schedule"][1].problem(err.message))
        schedule = None

    parsed = [(_phase(t, origin, problems), origin) for t, origin in phases]
    parsed = [(p, o) for p, o in parsed if p is not None]
    applied: tuple = ()
    if schedule is not None and parsed:
        measures, applied, phase_problems = apply_phases(schedule.measures, tuple(p for p, _ in parsed))
        problems += [parsed[i][1].problem(message, key) for i, key, message in phase_problems]
        try:
            schedule = TariffSchedule(measures, tuple(schedule.product_lists.values()), name=schedule.name,
                                      source=str(leaf_path))
        except InputError as err:  # e.g. a step ending up after an inherited end: name the phase
            problems.append(parsed[0][1].problem(err.message))
            schedule = None

    settings = _settings(meta, problems)
    against = None
    if "compare_to" in settings:
        value, origin, _ = meta["compare_to"]
        target = Path(settings["compare_to"]) if Path(settings["compare_to"]).is_absolute() else \
            scenario_path(settings["compare_to"])
        if target in (*seen, path.resolve()):
            problems.append(origin.problem(f"compare_to leads back to {target.name}: scenarios read against each "
                                           "other form a loop"))
        else:
            try:
                against = _read(str(target), (*seen, path.resolve()))
            except ScenarioError as err:
                problems.append(origin.problem(f"the scenario it names has problems: {err}"))
    elasticities = _elasticities(sections["elasticities"], problems)
    dynamics = _dynamics(sections["dynamics"], problems)
    leaf_meta = leaf_data.get("scenario")
    name = leaf_meta.get("name", leaf_path.stem) if isinstance(leaf_meta, dict) else leaf_path.stem
    if schedule is not None and "baseline" in settings:
        own = {t.get("name") for _, _, data in chain for t in data.get("measures", []) if isinstance(t, dict)}
        problems += _country_problems(schedule, settings["baseline"], entries["measures"], meta["baseline"][1], own)
    if problems:
        inherited = {str(file): str(leaf_path) for file, _, _ in chain[:-1]}
        raise collect([_inherited(p, inherited) for p in problems], str(leaf_path))
    return Scenario(
        name=str(name), description=str(settings.get("description", "")), baseline=settings["baseline"],
        schedule=TariffSchedule(schedule.measures, tuple(schedule.product_lists.values()), name=str(name),
                                description=str(settings.get("description", "")), source=str(leaf_path),
                                **base_info),
        start=settings["start"], end=settings["end"], frequency=settings.get("frequency", "monthly"),
        reference=settings.get("reference"), model=settings.get("model", "pe"),
        fine_values=settings.get("fine_values"), world_baseline=settings.get("world_baseline"),
        world_fine_values=settings.get("world_fine_values"), elasticities=elasticities,
        dynamics=dynamics, phases=applied, compare_to=settings.get("compare_to"), against=against,
        extends=tuple(str(d["scenario"]["extends"]) for _, _, d in reversed(chain[1:])), sources=tuple(sources),
        notes=str(settings.get("notes", "")), source=str(leaf_path),
    )


def _inherited(problem: ScenarioError, inherited: dict[str, str]) -> ScenarioError:
    """A problem in a file that the scenario extends, saying which file inherits the value."""
    file = (problem.source or "").rsplit(":", 1)[0] if problem.line else problem.source
    if file not in inherited:
        return problem
    return ScenarioError(f"{problem.message} (a value that {inherited[file]} inherits from this file)",
                         source=file, key=problem.key, line=problem.line, problems=problem.problems)


# --------------------------------------------------------------------------- the chain of files


def _chain(path: Path, seen: tuple[Path, ...]) -> list[tuple[Path, str, dict]]:
    """The files from the root of the ``extends`` chain to `path`."""
    text, data = load_toml(path)
    meta = data.get("scenario", {})
    parent = meta.get("extends") if isinstance(meta, dict) else None
    if parent is None:
        return [(path, text, data)]
    origin = _Origin(str(path), text, "scenario.extends")
    if not isinstance(parent, str):
        raise origin.problem(f"{parent!r} is not a scenario name or path")
    parent_path = scenario_path(parent, relative_to=path.parent)
    if parent_path is None:
        raise origin.problem(f"no bundled scenario or file {parent!r}; bundled: {list(list_scenarios().index)}")
    if parent_path == path.resolve() or parent_path in seen:
        loop = " -> ".join(p.name for p in (*seen, path, parent_path))
        raise origin.problem(f"extends itself ({loop})")
    return _chain(parent_path, (*seen, path.resolve())) + [(path, text, data)]


def _schedule_file(value, origin: _Origin, folder: Path, problems: list) -> tuple[dict, dict, list]:
    """The tables and ``[schedule]`` table of a bundled schedule or of a file beside the scenario, and the
    pairs of the views it is (outermost first; see `TariffSchedule.view`): a view's tables are those of the
    schedule it views, so that a scenario changes that schedule's measures before the view narrows them."""
    if not isinstance(value, str):
        problems.append(origin.problem(f"{value!r} is not a schedule name or path"))
        return {}, {}, []
    path = schedule_file(value) if not value.endswith(".toml") else None
    if path is None:
        path = Path(value) if Path(value).is_absolute() else folder / value
        if not path.is_file():
            from ..law import list_schedules

            problems.append(origin.problem(f"no bundled schedule {value!r} and no file {path}; bundled: "
                                           f"{list(list_schedules().index)}"))
            return {}, {}, []
    views: list = []
    seen = [path.resolve()]
    try:
        tables, meta = schedule_tables(path, problems)
        while "view_of" in meta or "pairs" in meta:
            viewed, pairs = read_parts(path)[2]["view"]  # checks the view's keys
            if viewed in seen:
                problems.append(origin.problem(f"the views of schedule {value!r} form a circle: "
                                               f"{' -> '.join(p.name for p in (*seen, viewed))}"))
                return {}, {}, []
            seen.append(viewed)
            views.append(pairs)
            path = viewed
            tables, meta = schedule_tables(path, problems)
    except ScenarioError as err:
        problems.append(err)
        return {}, {}, []
    return tables, meta, views


#: Keys of measures and product lists that name a file (from the field tables: nothing to keep in step).
FILE_KEYS = tuple(sorted({k for f in (*MEASURE_FIELDS, *LIST_FIELDS) for k in f.file_keys
                          if k == "file" or k.endswith("_file")}))


def _absolute_files(table: dict, folder: Path) -> dict:
    """Paths to CSV files made absolute (beside the file that names them), so tables from several files can be
    merged."""
    out = dict(table)
    for key in FILE_KEYS:
        if isinstance(out.get(key), str):
            out[key] = str(folder / out[key])
    return out


def _remove(table, origin: _Origin, tables: dict, phases: list, problems: list) -> None:
    if not isinstance(table, dict):
        problems.append(origin.problem("expected a table [remove]"))
        return
    problems += unknown_keys(table, REMOVE_KEYS, "remove", origin.source, origin.text)
    for kind in ("measures", "product_lists", "phases"):
        names = table.get(kind, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(origin.problem(f"{names!r} is not a list of names", kind))
            continue
        for name in names:
            if kind == "phases":
                before = len(phases)
                phases[:] = [(t, o) for t, o in phases if t.get("measure") != name]
                found = len(phases) < before
            else:
                found = tables[kind].pop(name, None) is not None
            if not found:
                what = "phase of a measure" if kind == "phases" else kind.rstrip("s").replace("_", " ")
                known = sorted({t.get("measure") for t, _ in phases}) if kind == "phases" else sorted(tables[kind])
                problems.append(origin.problem(f"no inherited {what} {name!r} to remove; there are {known}", kind))


_PROBLEM_KEY = re.compile(r"(product_lists|measures)\[(\d+)\](?:\.(\w+))?(.*)")


def _relocate(problem: ScenarioError, entries: dict) -> ScenarioError:
    """A problem of the merged tables, renamed to the file and key where the bad value was written."""
    found = _PROBLEM_KEY.fullmatch(problem.key or "")
    if not found:
        return problem
    kind, index, key, rest = found[1], int(found[2]), found[3], found[4]
    table = entries[kind][index]
    origin = table.origin_of(key) if key else table.origin
    return origin.problem(problem.message, f"{key}{rest}" if key else "")


# --------------------------------------------------------------------------- values


def _settings(meta: dict, problems: list) -> dict:
    out: dict = {}
    for key, (value, origin, folder) in meta.items():
        try:
            if key in ("start", "end", "reference"):
                out[key] = _date(value)
            elif key == "frequency":
                if value not in FREQUENCIES:
                    raise ValueError(f"{value!r} is not a frequency: expected one of {list(FREQUENCIES)}")
                out[key] = value
            elif key == "model":
                if value not in MODELS:
                    raise ValueError(f"{value!r} is not a model: expected one of {sorted(MODELS)}")
                out[key] = value
            elif key in ("baseline", "fine_values", "world_baseline", "world_fine_values"):
                what, bundled = {"baseline": ("baseline", list_baselines),
                                 "fine_values": ("fine values", list_fine_values),
                                 "world_baseline": ("baseline", list_baselines),
                                 "world_fine_values": ("fine values", list_fine_values)}[key]
                out[key] = _bundled_or_beside(value, what, list(bundled().index), folder)
            elif key == "compare_to":
                found = scenario_path(value, folder) if isinstance(value, str) else None
                if found is None:
                    beside = f" ({folder / value})" if isinstance(value, str) and "\x00" not in value else ""
                    raise ValueError(f"no bundled scenario {value!r} and no such file beside this one{beside}; "
                                     f"bundled: {list(list_scenarios().index)}")
                path_like = value.endswith(".toml") or "/" in value or "\\" in value
                # a bundled name stays a name; a file is its absolute path (never relative to the current folder)
                out[key] = value if not path_like and value in list_scenarios().index else str(found)
            elif key in ("description", "notes", "schedule"):
                if not isinstance(value, str):
                    raise ValueError(f"{value!r} is not text")
                out[key] = value
        except ValueError as err:
            problems.append(origin.problem(str(err)))
    if "start" in out and "end" in out and out["end"] < out["start"]:
        problems.append(meta["end"][1].problem(f"end {out['end']} is before start {out['start']}"))
    if "reference" in out and "start" in out and out["reference"] > out["start"]:
        problems.append(meta["reference"][1].problem(f"reference {out['reference']} is after start {out['start']}"))
    return out


def _elasticities(values: dict, problems: list) -> Elasticities:
    given = {}
    for name, (value, origin) in values.items():
        if isinstance(value, str) and value.lower() in ("inf", "infinity"):
            value = math.inf
        try:
            Elasticities.defaults().with_values(**{name: value})
            given[name] = value
        except InputError as err:
            problems.append(origin.problem(err.message))
    return Elasticities.defaults().with_values(**given) if given else Elasticities.defaults()


def _dynamics(values: dict, problems: list) -> Dynamics:
    given = {k: v for k, (v, _) in values.items()}
    probe = object.__new__(Dynamics)  # unchecked, so that every problem is listed, not only the first
    for f in fields(Dynamics):
        object.__setattr__(probe, f.name, given.get(f.name, f.default))
    found = probe.problems()
    for key, message in found:
        origin = values[key][1] if key in values else next(iter(values.values()))[1]
        problems.append(origin.problem(message))
    return Dynamics() if found else Dynamics(**given)


_EVERY = re.compile(r"\s*(\d+)\s*(day|week|month)s?\s*")


def _phase(table: dict, origin: _Origin, problems: list):
    """A `Phase` from a ``[[phases]]`` table, or None with its problems added."""
    found = unknown_keys(table, PHASE_KEYS, origin.key, origin.source, origin.text)
    kw: dict = {}

    def take(key, convert):
        if key in table:
            try:
                return convert(table[key], key)
            except ValueError as err:
                found.append(origin.problem(str(err), key))
        return None

    measure = take("measure", lambda v, k: v if isinstance(v, str) else _fail(f"{v!r} is not a measure name"))
    if "measure" not in table:
        found.append(origin.problem("missing key 'measure'"))
    for key in ("source", "notes"):
        kw[key] = take(key, lambda v, k: v if isinstance(v, str) else _fail(f"{v!r} is not text")) or ""
    kw["announced"] = take("announced", _date)
    steps = None
    if "path" in table:
        clash = [k for k in ("from_pct", "to_pct", "steps", "every", "start") if k in table]
        if clash:
            found.append(origin.problem(f"give either path or {clash}, not both", "path"))
        steps = take("path", _path)
    else:
        missing = [k for k in ("to_pct", "steps", "start") if k not in table]
        if missing:
            found.append(origin.problem(f"missing keys {missing} (or an explicit path = [...])"))
        kw.update(to_rate=take("to_pct", _pct), from_rate=take("from_pct", _pct), count=take("steps", _count),
                  first=take("start", _date), every=take("every", _every))
        if kw["count"] is not None and kw["count"] > 1 and "every" not in table:
            found.append(origin.problem(f"missing key 'every' for {kw['count']} steps"))
        if not found and measure is not None:
            return Phase(measure, **kw)
    problems += found
    if found or steps is None or measure is None:
        return None
    return Phase(measure, steps, **kw)


def _date(value, key: str = "") -> dt.date:
    """A TOML date or an ISO ``YYYY-MM-DD`` string; `ValueError` otherwise."""
    try:
        return parse_date(value, key=key or "date")
    except InputError as err:
        raise ValueError(err.message) from None


def _fail(message: str):
    raise ValueError(message)


def _pct(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100 * MAX_RATE:
        raise ValueError(f"{value!r} is not a rate: expected a number of percent from 0 to {100 * MAX_RATE:,.0f}")
    return float(value) / 100


def _count(value, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a number of steps: expected a whole number of 1 or more")
    return value


def _every(value, key: str) -> pd.DateOffset:
    found = _EVERY.fullmatch(value) if isinstance(value, str) else None
    if not found or int(found[1]) == 0:
        raise ValueError(f'{value!r} is not a time between steps: expected e.g. "90 days", "2 weeks" or "3 months"')
    n, unit = int(found[1]), found[2]
    return pd.DateOffset(**{f"{unit}s": n})


def _path(value, key: str) -> tuple:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise ValueError("expected a non-empty list of { date = YYYY-MM-DD, rate_pct = N } tables")
    steps = []
    for i, step in enumerate(value):
        if set(step) != {"date", "rate_pct"}:
            raise ValueError(f"step {i} has keys {sorted(step)}: expected date and rate_pct")
        steps.append((_date(step["date"], "date"), _pct(step["rate_pct"], "rate_pct")))
    days = [d for d, _ in steps]
    if any(b <= a for a, b in zip(days, days[1:])):
        raise ValueError(f"dates out of order: {[str(d) for d in days]}; expected each after the one before")
    return tuple(steps)



def _country_problems(schedule: TariffSchedule, baseline: str, entries: list[_Table], origin: _Origin,
                      own: set) -> list:
    """Measures written in the scenario's files whose importer, or every listed exporter, is not on the
    baseline's axes (measures of a bundled schedule may cover other importers)."""
    try:
        exporters, importers = baseline_axes(baseline)
    except InputError as err:
        return [origin.problem(f"cannot read the baseline: {err}")]
    out = []
    tables = {e.values.get("name"): e for e in entries}
    for m in schedule.measures:
        table = tables.get(m.name)
        if table is None or m.name not in own:  # a phase step (its measure is checked), or from the schedule
            continue
        if m.importer not in importers:
            out.append(table.origin_of("importer").problem(
                f"importer {m.importer!r} is not on the importer axis of baseline {baseline!r}; it has "
                f"{sorted(importers)}", "importer"))
        if m.exporters is not None and not set(exporters) & set(m.exporters):
            out.append(table.origin_of("exporters").problem(
                f"none of the exporters {list(m.exporters)} is on the exporter axis of baseline {baseline!r}; it has "
                f"{sorted(exporters)}", "exporters"))
    return out


def _bundled_or_beside(value, what: str, bundled: list, folder: Path) -> str:
    """A bundled name as it is, or the path of a file beside the scenario file (never the current folder)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a {what} name or path")
    if value in bundled:
        return value
    if "\x00" not in value and (folder / value).is_file():
        return str((folder / value).resolve())
    raise ValueError(f"no bundled {what} {value!r} and no file {folder / value}; bundled: {bundled}")
