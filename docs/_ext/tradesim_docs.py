"""Sphinx extension of the tradesim documentation: what the pages show of the code, written from the code.

At ``builder-inited`` (before Sphinx reads any page) it writes:

- ``_generated/*.rst``: tables that the pages include, each built from the object that defines
  it: the measure and product-list fields (`tradesim.law.field_table`, `tradesim.law.fields.LIST_FIELDS`),
  the stacking rules (`tradesim.law.RULES`), the scenario file keys (`tradesim.scenario.file`:
  ``TOP_KEYS``, ``SCENARIO_KEYS``, ``PHASE_KEYS``, ``DYNAMICS_KEYS`` with the defaults and
  meanings of `tradesim.scenario.Dynamics`, ``REMOVE_KEYS``), the model registry
  (`tradesim.models.MODELS`), the result variables (`tradesim.results.VARIABLES`), the default
  elasticities and priors, the bundled baselines, schedules and scenarios, and the ``--help`` of
  every ``tradesim`` subcommand;
- ``api/generated/*.rst``: one page per public module of the package (every module and package
  whose name does not start with ``_``), documenting the names in its ``__all__`` once: a name
  that a package re-exports from one of its modules is documented on the package's page.

A file is rewritten only when its text changes, so that Sphinx rebuilds only what changed.

At ``config-inited`` it copies ``examples/*.py`` into ``_gallery/``, the folder sphinx-gallery
runs them from (`copy_examples`); an example the gallery does not run (``tradesim_gallery_figures``
in ``conf.py``) shows its committed figure instead.

It adds three directives for code on the pages, run while the site is built: ``run-python``
(Python, one namespace per page, showing what it printed, the value of a last expression and
the figures it drew), ``run-shell`` (``tradesim ...`` lines through `tradesim.cli.main`) and
``write-file`` (shows a file and writes it where the page's code runs). A block that fails is a
warning, so the build with ``-W`` stops. A reference to a Python object that does not exist is
a warning on the pages written by hand (not in docstrings).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io
import math
import os
import pkgutil
import re
import warnings
from pathlib import Path

__all__ = ["setup", "copy_examples", "public_modules", "write_generated"]


# --------------------------------------------------------------------------- rst helpers


def esc(text) -> str:
    """Prose for a table cell: `name` becomes a literal; rst markup characters are escaped."""
    text = "" if text is None else str(text)
    text = " ".join(text.split())
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    parts = text.split("`")
    out = []
    for k, part in enumerate(parts):
        if k % 2 == 1 and k < len(parts) - 1:
            out.append(lit(part))
        else:
            out.append(re.sub(r"([\\*|_`<>\[\]])", r"\\\1", part))
    cell = "".join(out)
    if re.match(r"^([-+*]|\d+\.|#\.)\s", cell):
        cell = "\\" + cell
    return cell


def lit(text) -> str:
    """A literal (code) cell; empty for empty text."""
    text = "" if text is None else " ".join(str(text).split())
    if not text:
        return ""
    return "``" + text.replace("``", "` `") + "``" if not text.startswith("`") else "`` " + text + " ``"


def table(header: list[str], rows: list[list[str]], widths: list[int] | None = None, caption: str = "") -> str:
    """An rst list-table; cells are rst already (use `esc` and `lit`)."""
    lines = [f".. list-table:: {caption}".rstrip(), "   :header-rows: 1"]
    if widths:
        lines.append("   :widths: " + " ".join(map(str, widths)))
    lines.append("")
    for row in [header, *rows]:
        for k, cell in enumerate(row):
            cell = cell if cell.strip() else ""
            lines.append(("   * - " if k == 0 else "     - ") + cell)
    return "\n".join(lines) + "\n"


def _number(value) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:g}"
    return str(value)


# --------------------------------------------------------------------------- the tables


def _file_keys(fields_by_key: dict, field) -> str:
    """The keys the schedule reader accepts for `field` (some fields are columns of a file, not keys)."""
    keys = [k for k, f in fields_by_key.items() if f is field]
    return " or ".join(lit(k) for k in keys) if keys else "(a column of a file)"


def measure_fields() -> str:
    """``[[measures]]`` keys: the field table, with the keys as the schedule reader reads them."""
    from tradesim.law import field_table
    from tradesim.law.fields import MEASURE_FIELDS
    from tradesim.law.file import MEASURE_KEYS

    t = field_table(MEASURE_FIELDS).set_index("field")
    rows = []
    for f in MEASURE_FIELDS:
        row = t.loc[f.name]
        allowed = ", ".join(lit(a) for a in str(row["allowed"]).split(", ") if a)
        meaning = esc(row["meaning"]) + (f"; one of {allowed}" if allowed else "")
        rows.append([_file_keys(MEASURE_KEYS, f), lit(f.name), lit(row["type"]), esc(row["unit"]),
                     lit(row["default"]), lit(row["rule"]), meaning])
    return table(["file key", "Python field", "type", "unit", "default", "rule", "meaning"], rows,
                 [14, 12, 10, 10, 8, 8, 38])


def list_fields() -> str:
    """``[[product_lists]]`` keys, with the reader's extra keys (``column``) described from the code."""
    from tradesim.law import ProductList, field_table
    from tradesim.law.fields import LIST_FIELDS
    from tradesim.law.file import LIST_KEYS

    t = field_table(LIST_FIELDS).set_index("field")
    rows = [[_file_keys(LIST_KEYS, f), lit(f.name), lit(t.loc[f.name, "type"]), lit(t.loc[f.name, "default"]),
             esc(t.loc[f.name, "meaning"])] for f in LIST_FIELDS]
    extra = _parameter_meanings(ProductList.from_csv)
    for key, f in LIST_KEYS.items():
        if f is None:
            rows.append([lit(key), "", "", "", esc(extra.get(key, ""))])
    return table(["file key", "Python field", "type", "default", "meaning"], rows, [14, 14, 10, 10, 52])


def schedule_keys() -> str:
    from tradesim.law.file import SCHEDULE_KEYS

    return _keys_table(SCHEDULE_KEYS)


def field_types() -> str:
    """The field types, from the notes of `tradesim.law.fields` (lines ````name``  meaning``)."""
    import tradesim.law.fields as fields

    rows = []
    for line in (fields.__doc__ or "").splitlines():
        m = re.match(r"^``(\w+)``\s+(.+)$", line.strip())
        if m:
            rows.append([lit(m.group(1)), esc(m.group(2))])
    if not rows:
        return "The types are described in `tradesim.law.fields`.\n"
    return table(["type", "what it holds"], rows, [20, 80])


def rules() -> str:
    from tradesim.law import RULES

    rows = [[str(k), lit(r.name), esc(r.meaning), ", ".join(lit(f) for f in r.fields) or "(none)"]
            for k, r in enumerate(RULES, 1)]
    return table(["step", "rule", "what it does", "measure fields it reads"], rows, [6, 12, 52, 30])


def _keys_table(keys: dict, first: str = "key") -> str:
    return table([first, "meaning"], [[lit(k), esc(v)] for k, v in keys.items()], [25, 75])


def scenario_tables() -> dict[str, str]:
    from tradesim.scenario import Dynamics
    from tradesim.scenario import file as scenario_file

    out = {
        "scenario_top_keys.rst": table(["table", "what it holds"],
                                       [[lit(f"[{k}]" if k in ("scenario", "elasticities", "dynamics", "remove")
                                             else f"[[{k}]]"), esc(v)] for k, v in scenario_file.TOP_KEYS.items()],
                                       [25, 75]),
        "scenario_keys.rst": _keys_table(scenario_file.SCENARIO_KEYS),
        "phase_keys.rst": _keys_table(scenario_file.PHASE_KEYS),
    }
    remove = getattr(scenario_file, "REMOVE_KEYS", None)
    if remove:
        out["remove_keys.rst"] = _keys_table(remove)
    meaning = _parameter_meanings(Dynamics)
    defaults = {f.name: f.default for f in dataclasses.fields(Dynamics)}
    rows = []
    for key, text in scenario_file.DYNAMICS_KEYS.items():
        default = defaults.get(key, "")
        default = f"{default:.4g}" if isinstance(default, float) else str(default)
        rows.append([lit(key), lit(default), esc(text or meaning.get(key, ""))])
    out["dynamics_keys.rst"] = table(["key", "default", "meaning"], rows, [22, 12, 66])
    return out


def _parameter_meanings(obj) -> dict[str, str]:
    """Parameter name -> description, from a numpydoc Parameters section (``a, b : type`` lines too)."""
    from numpydoc.docscrape import NumpyDocString

    out = {}
    for p in NumpyDocString(inspect.getdoc(obj) or "")["Parameters"]:
        text = " ".join(p.desc).strip()
        if not text and p.type.startswith("{"):
            text = "one of " + p.type
        for name in p.name.split(","):
            out[name.strip()] = text
    return out


def elasticity_keys() -> str:
    """The ``[elasticities]`` keys: every parameter a registered model declares."""
    from tradesim.models import parameters

    e = _defaults()
    rows = []
    for name, p in parameters().items():
        models = ", ".join(lit(m) for m in _models_of(name))
        default = _number(e.get(name, "")) if name in e else ""
        rows.append([lit(name), lit(default), models, esc(p.meaning)])
    return table(["key", "default (long run)", "models", "meaning"], rows, [12, 14, 14, 60])


def _defaults() -> dict:
    from tradesim import Elasticities

    d = Elasticities.defaults()
    out = {}
    for name in _parameter_names():
        with contextlib.suppress(Exception):
            v = getattr(d, name)
            out[name] = float(v) if not isinstance(v, dict) else v
    return out


def _parameter_names() -> list[str]:
    from tradesim.models import parameters

    return list(parameters())


def _models_of(parameter: str) -> list[str]:
    from tradesim.models import MODELS

    return [name for name, spec in MODELS.items() if parameter in spec.parameter_names]


def models() -> str:
    """Every registered model: what it is, its parameters and its outputs per country."""
    from tradesim.models import MODELS

    e = _defaults()
    parts = []
    for name, spec in MODELS.items():
        module = getattr(spec.solve, "__module__", "")
        qual = getattr(spec.solve, "__qualname__", getattr(spec.solve, "__name__", ""))
        parts.append(f".. rubric:: The ``{name}`` model\n")
        where = f"{module}.{qual}"
        where = lit(where) if any(part.startswith("_") for part in where.split(".")) else f"`{where}`"
        parts.append(f"{esc(spec.description[:1].upper() + spec.description[1:])}. Solved by {where}; "
                     f"trade elasticity {lit(spec.trade_elasticity)}; "
                     + ("needs the same countries on both axes (a square baseline with domestic sales)."
                        if spec.square else "runs on any rectangle of exporters and importers.") + "\n")
        rows = [[lit(p.name), lit(_number(e[p.name]) if p.name in e else ""),
                 esc(("≥ " if p.low_inclusive else "> ") + _number(p.low) + (", inf allowed" if p.allow_inf else "")),
                 "yes" if p.short_run else "no", esc(p.meaning)] for p in spec.parameters]
        parts.append(table(["parameter", "default", "allowed", "scaled in the short run", "meaning"], rows,
                           [12, 10, 14, 12, 52], caption="Parameters"))
        welfare = set(spec.welfare)
        rows = [[lit(o.name), esc(o.unit), esc(o.meaning) + (" (a part of ``welfare_usd``)" if o.name in welfare else "")]
                for o in spec.outputs]
        parts.append(table(["output per country", "unit", "meaning"], rows, [28, 10, 62], caption="Outputs"))
    return "\n".join(parts)


def model_names() -> str:
    from tradesim.models import MODELS

    return table(["model", "what it is", "parameters"],
                 [[lit(n), esc(s.description), ", ".join(lit(p) for p in s.parameter_names)] for n, s in MODELS.items()],
                 [10, 60, 30])


def variables() -> str:
    from tradesim.results import VARIABLES

    rows = [[lit(v.name), esc(v.unit), ", ".join(lit(lv) for lv in v.levels), esc(v.meaning)] for v in VARIABLES.values()]
    return table(["variable", "unit", "levels", "meaning"], rows, [22, 8, 18, 52])


def plots() -> str:
    """The plot helpers, what each draws and the result types that offer it as ``result.plot.NAME``."""
    import tradesim.plot as plot

    kinds = getattr(plot, "PLOTS", {})
    rows = []
    for name in plot.__all__:
        f = getattr(plot, name)
        if not inspect.isfunction(f):
            continue
        types = [t.__name__ for t, fs in kinds.items() if f in fs]
        rows.append([f":py:obj:`{name} <tradesim.plot.{name}>`", esc(_first_line(f)),
                     ", ".join(lit(t) for t in types) or "(called as ``tradesim.plot.{}``)".format(name)])
    return table(["helper", "what it draws", "offered by"], rows, [18, 56, 26])


def elasticities() -> str:
    from tradesim import Elasticities

    t = Elasticities.table()
    cols = [c for c in ("parameter", "horizon", "value", "source", "verification") if c in t.columns]
    rows = [[lit(r["parameter"]) if c == "parameter" else (lit(_number(r[c])) if c == "value" else esc(r[c]))
             for c in cols] for _, r in t.iterrows()]
    return table(cols, rows)


def priors() -> str:
    import tradesim

    t = tradesim.priors().describe()
    cols = [c for c in ("parameter", "group", "products", "distribution", "p5", "median", "p95", "source")
            if c in t.columns]
    rows = []
    for _, r in t.iterrows():
        row = []
        for c in cols:
            v = r[c]
            if c in ("p5", "median", "p95"):
                row.append(esc(_number(round(float(v), 2))))
            elif c in ("parameter", "products", "distribution"):
                row.append(lit(v))
            else:
                row.append(esc(v))
        rows.append(row)
    return table(cols, rows)


def bundled() -> dict[str, str]:
    from tradesim import list_baselines, list_scenarios, list_schedules

    out = {}
    b = list_baselines()
    cols = [c for c in ("year", "exporters", "importers", "as_of", "version", "description") if c in b.columns]
    out["baselines.rst"] = table(["name", *cols], [[lit(n), *[esc(r[c]) for c in cols]] for n, r in b.iterrows()])
    s = list_schedules()
    cols = [c for c in ("as_of", "version", "description") if c in s.columns]
    out["schedules.rst"] = table(["name", *cols], [[lit(n), *[esc(r[c]) for c in cols]] for n, r in s.iterrows()])
    sc = list_scenarios()
    cols = [c for c in ("extends", "description") if c in sc.columns]
    out["scenarios.rst"] = table(["name", *cols], [[lit(n), *[(lit(r[c]) if c == "extends" else esc(r[c]))
                                                             for c in cols]] for n, r in sc.iterrows()],
                                 [18, 16, 66])
    out["n_scenarios.txt"] = str(len(sc))
    return out


#: What each extra of pyproject.toml is for (the packages come from the file itself).
EXTRAS = {
    "gravity": "PPML gravity estimation (`tradesim.models.gravity.ppml`)",
    "dask": "ensembles on a Dask cluster (`tradesim.ensemble.run` with ``engine=\"dask\"``)",
    "xarray": "results as labelled arrays (``result.to_xarray()``)",
    "parquet": "reading and writing Parquet files",
    "peers": "the USITC gegravity package, for the comparison tests and benchmarks",
    "test": "the test suite and everything it exercises",
    "docs": "building this site",
}


def extras(srcdir: Path) -> str:
    """The extras of pyproject.toml with their packages."""
    import tomllib

    project = tomllib.loads((Path(srcdir).parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    rows = [[lit(name), esc(EXTRAS.get(name, "")), ", ".join(lit(p) for p in packages)]
            for name, packages in project.get("optional-dependencies", {}).items()]
    return table(["extra", "for", "installs"], rows, [12, 48, 40])


def cli_help() -> str:
    """``tradesim --help`` and the help of every subcommand, as literal blocks."""
    from tradesim.cli import main

    def run(argv) -> str:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            main(argv)
        return buf.getvalue().rstrip()

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        top = run(["--help"])
        commands = _subcommands(top)
        parts = [".. code-block:: text\n", _indent(top), ""]
        for c in commands:
            parts += [f".. rubric:: ``tradesim {c}``", "", ".. code-block:: text", "", _indent(run([c, "--help"])), ""]
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(parts) + "\n"


def _subcommands(help_text: str) -> list[str]:
    """The subcommands an argparse ``--help`` lists: ``{a,b,c}``, or the names under the positional arguments."""
    m = re.search(r"\{([\w,-]+)\}", help_text)
    if m:
        return m.group(1).split(",")
    section = help_text.split("positional arguments:", 1)[-1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^ {4,}([a-z][\w-]*) {2,}\S", section, re.M)]


def _indent(text: str) -> str:
    return "\n".join(("   " + line) if line.strip() else "" for line in text.splitlines())


def public_names() -> str:
    """``tradesim.NAME`` for every name of ``tradesim.__all__``, linked to where it is documented."""
    import tradesim

    places = _documented_places()
    rows = []
    for name in tradesim.__all__:
        obj = getattr(tradesim, name)
        where = places.get((id(obj), name))
        if inspect.ismodule(obj):
            rows.append([lit(f"tradesim.{name}"), f":py:mod:`{obj.__name__}`", esc(_first_line(obj))])
        elif where:
            rows.append([lit(f"tradesim.{name}"), f":py:obj:`{where}.{name} <{where}.{name}>`", esc(_first_line(obj))])
        else:
            rows.append([lit(f"tradesim.{name}"), lit(repr(obj)) if not callable(obj) else "", esc(_first_line(obj))])
    return table(["name", "documented as", "what it is"], rows, [26, 34, 40])


def _first_line(obj) -> str:
    if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj)):
        return ""
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


# --------------------------------------------------------------------------- API pages


def public_modules(package: str = "tradesim") -> list[str]:
    """`package` and every module and package under it with no ``_`` at the start of a part of its name."""
    pkg = importlib.import_module(package)
    names = [info.name for info in pkgutil.walk_packages(pkg.__path__, prefix=package + ".")
             if not any(part.startswith("_") for part in info.name.split("."))]
    return [package, *sorted(names)]


def _all(module) -> list[str]:
    """A module's public names: its ``__all__``, or the classes and functions it defines."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and (inspect.isclass(v) or inspect.isfunction(v)) and getattr(v, "__module__", "") == module.__name__]
    return list(names)


def _homes(modules: list[str]) -> dict[tuple[int, str], str]:
    """Where each public name is documented: ``(id(object), name) -> module``.

    The shallowest module (below the top package) whose ``__all__`` has it: a name that a
    subpackage re-exports from one of its modules is documented on the subpackage's page, a
    module's other public names on its own page. The top package's names are a table of links
    (`public_names`).
    """
    homes: dict[tuple[int, str], str] = {}
    for name in sorted(modules, key=lambda n: (n.count("."), n)):
        if name == "tradesim":
            continue
        module = importlib.import_module(name)
        for attr in _all(module):
            obj = getattr(module, attr, None)
            if obj is not None and not inspect.ismodule(obj):
                homes.setdefault((id(obj), attr), name)
    return homes


_PLACES: dict[tuple[int, str], str] | None = None


def _documented_places() -> dict[tuple[int, str], str]:
    global _PLACES
    if _PLACES is None:
        _PLACES = _homes(public_modules())
    return _PLACES


def api_pages() -> dict[str, str]:
    """``api/generated/<module>.rst`` for every public module, and the list of them."""
    modules = public_modules()
    homes = _documented_places()
    pages = {}
    for name in modules:
        module = importlib.import_module(name)
        title = f"``{name}``"
        lines = [title, "=" * len(title), ""]
        if name == "tradesim":
            lines += [f".. automodule:: {name}", "   :no-members:", "", "Public names", "------------", "",
                      ".. include:: ../../_generated/public_names.rst", ""]
        else:
            own = [a for a in _all(module) if (obj := getattr(module, a, None)) is not None and not inspect.ismodule(obj)
                   and homes.get((id(obj), a)) == name]
            elsewhere = [a for a in _all(module) if (obj := getattr(module, a, None)) is not None
                         and not inspect.ismodule(obj) and homes.get((id(obj), a), name) != name]
            lines += [f".. automodule:: {name}", "   :no-members:", ""]
            for a in own:  # each public name once, in the order of __all__
                obj = getattr(module, a)
                if inspect.isclass(obj):
                    lines += [f".. autoclass:: {name}.{a}", "   :members:", "   :show-inheritance:", ""]
                elif callable(obj):
                    lines += [f".. autofunction:: {name}.{a}", ""]
                else:  # constants: documented by their ``#:`` comment; long values are not printed
                    lines += [f".. autodata:: {name}.{a}"] + (["   :no-value:"] if len(repr(obj)) > 70 else []) + [""]
            if elsewhere:
                refs = ", ".join(f":py:obj:`{a} <{homes[(id(getattr(module, a)), a)]}.{a}>`" for a in elsewhere)
                lines += [f"Also public here, documented with the package that re-exports them: {refs}.", ""]
            subs = [m for m in modules if m.rsplit(".", 1)[0] == name and m != name]
            if subs:
                lines += ["Modules", "-------", "", ".. toctree::", "   :maxdepth: 1", ""]
                lines += [f"   {m}" for m in subs] + [""]
        pages[f"{name}.rst"] = "\n".join(lines)
    return pages


def api_index() -> str:
    """The toctree of the top-level pages (``tradesim`` and its direct modules and packages)."""
    modules = public_modules()
    top = [m for m in modules if m.count(".") <= 1]
    return "\n".join([".. toctree::", "   :maxdepth: 1", "", *[f"   generated/{m}" for m in top], ""])


# --------------------------------------------------------------------------- writing


def _write(path: Path, text: str) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def write_generated(srcdir: Path) -> list[Path]:
    """Write every generated file under `srcdir` (the ``docs`` folder); the files that changed."""
    global _PLACES
    _PLACES = None
    srcdir = Path(srcdir)
    generated = {
        "measure_fields.rst": measure_fields(),
        "list_fields.rst": list_fields(),
        "schedule_keys.rst": schedule_keys(),
        "field_types.rst": field_types(),
        "rules.rst": rules(),
        "elasticity_keys.rst": elasticity_keys(),
        "models.rst": models(),
        "model_names.rst": model_names(),
        "variables.rst": variables(),
        "plots.rst": plots(),
        "elasticities.rst": elasticities(),
        "priors.rst": priors(),
        "cli.rst": cli_help(),
        "public_names.rst": public_names(),
        "api_index.rst": api_index(),
        "extras.rst": extras(srcdir),
        **scenario_tables(),
        **bundled(),
    }
    changed = []
    for name, text in generated.items():
        if _write(srcdir / "_generated" / name, text):
            changed.append(srcdir / "_generated" / name)
    pages = api_pages()
    folder = srcdir / "api" / "generated"
    for stale in folder.glob("*.rst") if folder.exists() else []:
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        if _write(folder / name, text):
            changed.append(folder / name)
    return changed


def _builder_inited(app) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tables call the library; its notes are not the build's
        write_generated(Path(app.srcdir))


# --------------------------------------------------------------------------- the gallery


def copy_examples(srcdir: Path) -> list[Path]:
    """Copy ``examples/*.py`` and the gallery header into ``_gallery/`` for sphinx-gallery to run.

    sphinx-gallery runs each script in the folder it finds it in, and the examples save their
    figure in the current folder: run from this copy, they write into the build folder, not
    into ``examples/``. Only the scripts are copied (``examples/data`` is not a gallery).
    """
    srcdir = Path(srcdir)
    examples, target = srcdir.parent / "examples", srcdir / "_gallery"
    target.mkdir(exist_ok=True)
    wanted = {p.name: p.read_text(encoding="utf-8") for p in sorted(examples.glob("*.py"))}
    wanted["GALLERY_HEADER.rst"] = (srcdir / "gallery_header.txt").read_text(encoding="utf-8")
    for stale in target.iterdir():
        if stale.is_file() and stale.suffix in (".py", ".rst") and stale.name not in wanted:
            stale.unlink()
    return [target / name for name, text in wanted.items() if _write(target / name, text)]


def _gallery_figures_source(app, docname, source) -> None:
    """The page of an example the gallery does not run shows its committed figure (after the code)."""
    figures = app.config.tradesim_gallery_figures
    stem = docname.rpartition("/")[2]
    if not docname.startswith("auto_examples/") or stem not in figures:
        return
    text = source[0]
    note = (f"\n.. figure:: /{figures[stem]}\n   :alt: the figure {stem}.py saves\n\n"
            f"   The figure this script saves, committed in ``docs/{figures[stem]}``: the site is built without "
            "running this script, which takes longer than the build allows.\n\n")
    anchor = f".. _sphx_glr_download_auto_examples_{stem}.py:"
    source[0] = text.replace(anchor, note + anchor, 1) if anchor in text else text + note


def _gallery_thumbnails(app) -> None:
    """The gallery's thumbnail of an example it does not run is its committed figure."""
    figures = app.config.tradesim_gallery_figures
    for stem, figure in figures.items():
        thumb = Path(app.srcdir) / "auto_examples" / "images" / "thumb" / f"sphx_glr_{stem}_thumb.png"
        source = Path(app.srcdir) / figure
        if not thumb.parent.is_dir() or not source.is_file():
            continue
        from PIL import Image

        with Image.open(source) as im:
            im.thumbnail((400, 280))
            canvas = Image.new("RGBA", (400, 280), (255, 255, 255, 0))
            canvas.paste(im, ((400 - im.width) // 2, (280 - im.height) // 2))
            buf = io.BytesIO()
            canvas.save(buf, format="PNG")
        if not thumb.exists() or thumb.read_bytes() != buf.getvalue():
            thumb.write_bytes(buf.getvalue())


def _config_inited(app, config) -> None:
    copy_examples(Path(app.srcdir))


# --------------------------------------------------------------------------- code that runs

# Pages show code with what it printed, run while the site is built: ``run-python`` runs Python
# (one namespace per page, in order, like a notebook; the value of a last expression is shown as
# IPython would) and ``run-shell`` runs ``tradesim ...`` lines through `tradesim.cli.main`. A
# block that fails is a build warning, so with ``-W`` the build stops: every example on the site
# runs, and every number it shows is the code's. Figures a block leaves open are saved and shown.

_NAMESPACES: dict[str, dict] = {}
_FIGURES: dict[str, int] = {}


def _workdir(app) -> Path:
    """A folder for the code to run in: a copy of ``examples/data`` under ``examples/data``."""
    folder = Path(app.outdir).parent / "run"
    data = folder / "examples" / "data"
    data.mkdir(parents=True, exist_ok=True)
    for f in (Path(app.srcdir).parent / "examples" / "data").iterdir():
        if f.is_file():
            target = data / f.name
            if not target.exists() or target.stat().st_size != f.stat().st_size:
                target.write_bytes(f.read_bytes())
    return folder


def _display(value) -> str:
    import pandas as pd

    if isinstance(value, pd.DataFrame | pd.Series):
        with pd.option_context("display.width", 110, "display.max_columns", 12, "display.max_rows", 30,
                               "display.max_colwidth", 48):
            return repr(value)
    return repr(value)


def _execute(code: str, namespace: dict, workdir: Path) -> tuple[str, list, BaseException | None]:
    """Run `code` in `namespace` inside `workdir`: what it printed (and its last value), figures, error."""
    import ast
    import sys

    out = io.StringIO()
    error = None
    figures = []
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                tree = ast.parse(code)
                last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
                exec(compile(tree, "<docs>", "exec"), namespace)
                if last is not None:
                    value = eval(compile(ast.Expression(last.value), "<docs>", "eval"), namespace)
                    if value is not None:
                        print(_display(value))
            except BaseException as exc:  # noqa: BLE001  (reported by the caller)
                error = exc
        seen = []
        for w in caught:
            if w.category.__name__ != "TradesimWarning" and not any(
                    c.__name__ == "TradesimWarning" for c in w.category.__mro__):
                continue  # the library's notes to its user are shown; other libraries' warnings are not
            text = f"{w.category.__name__}: {w.message}"
            if text not in seen:
                seen.append(text)
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            figures = [plt.figure(n) for n in plt.get_fignums()]
    finally:
        os.chdir(cwd)
    text = out.getvalue().rstrip("\n").replace(f"{workdir}{os.sep}", "").replace(str(workdir), ".")
    if seen:
        text = "\n".join([*seen, text]) if text else "\n".join(seen)
    return text, figures, error


def _cut(text: str, max_lines: int | None) -> str:
    lines = text.splitlines()
    if max_lines and len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
    return "\n".join(lines)


def _make_directives():
    from docutils import nodes
    from docutils.parsers.rst import directives
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective

    logger = logging.getLogger(__name__)

    class _Run(SphinxDirective):
        has_content = True
        option_spec = {"hide-code": directives.flag, "hide-output": directives.flag,
                       "max-lines": directives.nonnegative_int, "raises": directives.unchanged,
                       "returncode": directives.nonnegative_int, "caption": directives.unchanged}
        language = "python"

        def _blocks(self, code: str, output: str) -> list:
            out = []
            if "hide-code" not in self.options:
                block = nodes.literal_block(code, code, language=self.language)
                if "caption" in self.options:
                    block["caption"] = self.options["caption"]
                out.append(block)
            if output and "hide-output" not in self.options:
                out.append(nodes.literal_block(output, output, language="text", classes=["run-output"]))
            return out

        def _figures(self, figures) -> list:
            import matplotlib.pyplot as plt

            out = []
            folder = Path(self.env.srcdir) / "_generated" / "figures"
            folder.mkdir(parents=True, exist_ok=True)
            for fig in figures:
                k = _FIGURES.get(self.env.docname, 0) + 1
                _FIGURES[self.env.docname] = k
                name = f"{self.env.docname.replace('/', '-')}-{k}.png"
                fig.savefig(folder / name, dpi=100)
                out.append(nodes.image(uri=f"/_generated/figures/{name}", alt=f"figure {k} of this page",
                                       candidates={"*": f"_generated/figures/{name}"}))
            plt.close("all")
            return out

        def _failed(self, what: str) -> None:
            logger.warning(f"a code block of {self.env.docname} failed: {what}", location=self.get_location(),
                           type="tradesim", subtype="run")

    class RunPython(_Run):
        """Run the content as Python in the page's namespace; show it and what it printed."""

        def run(self):
            code = "\n".join(self.content)
            namespace = _NAMESPACES.setdefault(self.env.docname, {"__name__": "__main__"})
            workdir = _workdir(self.env.app)
            output, figures, error = _execute(code, namespace, workdir)
            expected = self.options.get("raises")
            if error is not None:
                message = f"{type(error).__name__}: {error}"
                if expected and type(error).__name__ == expected:
                    output = "\n".join(x for x in (output, "Traceback (most recent call last):\n  ...", message) if x)
                else:
                    self._failed(message)
                    output = "\n".join(x for x in (output, message) if x)
            elif expected:
                self._failed(f"expected {expected}, nothing was raised")
            result = self._blocks(code, _cut(output, self.options.get("max-lines")))
            return result + self._figures(figures)

    class RunShell(_Run):
        """Run each ``tradesim ...`` line through `tradesim.cli.main`; show it and what it printed."""

        language = "console"

        def run(self):
            import shlex

            from tradesim.cli import main

            workdir = _workdir(self.env.app)
            shown, outputs = [], []
            for line in self.content:
                if not line.strip():
                    continue
                argv = shlex.split(line, comments=True)
                if not argv or argv[0] != "tradesim":
                    self._failed(f"{line!r} is not a tradesim command")
                    continue
                status = {}

                def call(argv=argv, status=status):
                    status["code"] = main(argv[1:])

                output, figures, error = _execute("__call__()", {"__call__": call}, workdir)
                if error is not None:
                    if isinstance(error, SystemExit):
                        status["code"] = error.code
                    else:
                        self._failed(f"{line}: {type(error).__name__}: {error}")
                wanted = self.options.get("returncode", 0)
                if status.get("code", 0) != wanted:
                    self._failed(f"{line}: exit status {status.get('code')}, expected {wanted}")
                shown.append(f"$ {line}")
                outputs.append(f"$ {line}\n{_cut(output, self.options.get('max-lines'))}".rstrip())
            code = "\n".join(shown)
            if "hide-output" in self.options:
                return self._blocks(code, "")
            if "hide-code" in self.options:
                return self._blocks("", "\n\n".join(outputs))
            text = "\n\n".join(outputs)
            return [nodes.literal_block(text, text, language="console")]

    class WriteFile(SphinxDirective):
        """Show the content as a file and write it into the folder the page's code runs in."""

        required_arguments = 1
        has_content = True
        option_spec = {"language": directives.unchanged}

        def run(self):
            name = self.arguments[0]
            text = "\n".join(self.content) + "\n"
            path = _workdir(self.env.app) / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            language = self.options.get("language") or {".toml": "toml", ".csv": "text"}.get(Path(name).suffix, "text")
            container = nodes.container("", literal_block=True, classes=["literal-block-wrapper"])
            container += nodes.caption(name, "", nodes.Text(name))
            container += nodes.literal_block(text, text, language=language)
            return [container]

    return RunPython, RunShell, WriteFile


def _source_read(app, docname, source) -> None:
    _NAMESPACES.pop(docname, None)  # each page runs from a fresh namespace, top to bottom
    _FIGURES.pop(docname, None)


# --------------------------------------------------------------------------- references

UNRESOLVED: list[tuple[str, str]] = []


def _missing_reference(app, env, node, contnode):
    """A reference to a Python object that does not exist is an error on the pages written here.

    Docstrings use single backticks freely (numpydoc style) and may name things that are not
    documented objects; those are collected in `UNRESOLVED` (and listed at the end of the build
    with ``TRADESIM_DOCS_REFERENCES=1``), not reported as warnings.
    """
    if node.get("refdomain") != "py":
        return None
    source = str(node.source or "")
    target = node.get("reftarget", "")
    found = _resolve_elsewhere(app, env, node, contnode, target)
    if found is not None:
        return found
    if source.endswith((".md", ".rst")) and "docstring of" not in source and "/api/generated/" not in source:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(f"unresolved reference to {target!r}", location=node,
                                            type="tradesim", subtype="ref")
    else:
        UNRESOLVED.append((source.rsplit("docstring of ", 1)[-1], target))
    return None


def _resolve_elsewhere(app, env, node, contnode, target: str):
    """A reference to where a name is defined, resolved to where it is documented.

    Each public name is documented once, on the page of the package that exports it, so
    ``tradesim.law.fields.MEASURE_FIELDS`` (where it is defined) is documented as
    ``tradesim.law.MEASURE_FIELDS``, and ``tradesim.Elasticities`` as
    ``tradesim.elasticities.Elasticities``. A bare class name (``InputError``) resolves when
    exactly one documented object has it, and so does ``Class.method``.
    """
    domain = env.domains["py"] if hasattr(env.domains, "__getitem__") else env.get_domain("py")
    parts = target.lstrip(".~").split(".")
    candidates = []
    if len(parts) > 1 and parts[0] == "tradesim":
        name = parts[-1]
        candidates += [".".join(parts[:k] + [name]) for k in range(len(parts) - 2, 0, -1)]
        try:
            import tradesim

            obj = getattr(tradesim, name, None)
            home = _documented_places().get((id(obj), name)) if obj is not None else None
            if home:
                candidates.append(f"{home}.{name}")
        except Exception:  # noqa: BLE001  (a failed lookup is no reference, not a failed build)
            pass
    for candidate in candidates:
        if candidate in domain.objects:
            return domain.resolve_xref(env, node.get("refdoc"), app.builder, "obj", candidate, node, contnode)
    if parts[0] != "tradesim" and parts[0][:1].isupper():  # ``InputError``, ``TariffSchedule.rates``
        suffix = "." + ".".join(parts)
        matches = [full for full, entry in domain.objects.items()
                   if full.endswith(suffix) and not getattr(entry, "aliased", False)]
        if len(matches) == 1:
            return domain.resolve_xref(env, node.get("refdoc"), app.builder, "obj", matches[0], node, contnode)
    return None


def _build_finished(app, exception) -> None:
    if exception is None and os.environ.get("TRADESIM_DOCS_REFERENCES") == "1":
        for where, target in sorted(set(UNRESOLVED)):
            print(f"unresolved in docstring of {where}: {target}")


def setup(app):
    app.connect("config-inited", _config_inited, priority=100)
    app.connect("builder-inited", _builder_inited, priority=100)
    app.connect("source-read", _source_read)
    app.connect("source-read", _gallery_figures_source)
    app.connect("builder-inited", _gallery_thumbnails, priority=900)
    app.add_config_value("tradesim_gallery_figures", {}, "html")
    app.connect("missing-reference", _missing_reference)
    app.connect("build-finished", _build_finished)
    run_python, run_shell, write_file = _make_directives()
    app.add_directive("run-python", run_python)
    app.add_directive("run-shell", run_shell)
    app.add_directive("write-file", write_file)
    import tradesim

    return {"version": tradesim.__version__, "parallel_read_safe": True, "parallel_write_safe": True}
