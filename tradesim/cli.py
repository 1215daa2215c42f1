"""The ``tradesim`` command. ``main(argv)`` returns the exit status so tests can call it.

Where things go: the tables (the output asked for) on standard output; notes, warnings, progress
bars and timings on standard error; errors as ``error: <file>: <key>: <message>`` with exit
status 2 and no traceback (``--debug`` shows it). ``-q`` leaves only errors and the output asked
for; ``-v`` adds timings and the size estimate. Progress bars are drawn only when standard error
is a terminal, and never with ``TQDM_DISABLE=1``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
import time
import warnings

import pandas as pd

from .errors import InputError, TradesimError, TradesimWarning
from .models import MODELS
from .version import __version__

_MAIN_EXAMPLES = """\
examples:
  tradesim list                                   what is bundled: baselines, schedules, scenarios
  tradesim validate my-scenario.toml              check a scenario file and estimate its size
  tradesim run geneva-truce --out results         run a scenario; summaries and run.json into results/
  tradesim rate --importer USA --exporter CHN --product 9503 --date 2025-04-14
  tradesim -q run april-peak > table.txt          only the tables (errors still on stderr)

Dates are always YYYY-MM-DD. Exit status: 0 done, 2 bad input (with a message on stderr).
"""

_EXAMPLES = {
    "list": """\
examples:
  tradesim list
  tradesim list | grep us-china
""",
    "baseline": """\
examples:
  tradesim baseline                               the bundled demo-2024
  tradesim baseline us-imports-2024
  tradesim baseline flows.csv --value value_usd   a tidy file (exporter, importer, product, value)
  tradesim baseline BACI_HS22_Y2023_V202501.csv   a CEPII BACI or UN Comtrade file
""",
    "rate": """\
examples:
  tradesim rate --importer USA --exporter CHN --product 9503 --date 2025-04-14
  tradesim rate --importer USA --exporter CHN --product 8471.30 --date 2025-04-14 --all
  tradesim rate --importer USA --exporter VNM --product 6403 --date 2025-08-07 --schedule tariffs-2025
""",
    "rates": """\
examples:
  tradesim rates                                  US trade-weighted tariff by partner, tariffs-2025
  tradesim rates --by authority --from 2025-01-01 --to 2025-12-31
  tradesim rates --format csv > rates.csv
  tradesim rates --format parquet --out rates.parquet
""",
    "show": """\
examples:
  tradesim show phased-cut
  tradesim show my-scenario.toml
""",
    "validate": """\
examples:
  tradesim validate my-scenario.toml              every problem at once, with file, line and key
  tradesim validate geneva-truce                  a bundled scenario
  tradesim validate big.toml --max-memory 32G     the size estimate against another limit
""",
    "run": """\
examples:
  tradesim run geneva-truce                       print the path of headline numbers
  tradesim run geneva-truce --out results         and write the summaries (Parquet) and run.json
  tradesim run geneva-truce --out results --cells --format csv --plot
  tradesim run us-china-2025 --draws 200 --seed 1 --out bands
  tradesim run us-china-2025 --draws 1000 --scheduler tcp://10.0.0.5:8786

The output folder: tradesim writes into a new or empty folder, or one it wrote before. It
writes every file into a hidden staging folder inside it and moves them into place when all
succeeded, run.json (what was run, on what, with each file's size and SHA-256) last. Files of
the previous run (those its run.json lists) are replaced: removed when this run does not write
them. A folder with files that tradesim did not write is refused. Leftovers of a run that was
killed (.tradesim-* folders) are removed by the next run, with a note.
""",
}


def _parser() -> argparse.ArgumentParser:
    # -q, -v and --debug work before and after the subcommand (`tradesim -q run x`, `tradesim run x -q`)
    common = argparse.ArgumentParser(add_help=False)
    talk = common.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                      help="only errors and the output asked for: no notes, progress or timings")
    talk.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                      help="also the size estimate and how long each step took")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="tradesim", description="Trade-policy scenarios: tariffs, trade and welfare.",
                                     epilog=_MAIN_EXAMPLES, formatter_class=raw, parents=[common])
    parser.add_argument("-V", "--version", action="version", version=f"tradesim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str):
        return sub.add_parser(name, help=text, description=text[:1].upper() + text[1:] + ".",
                              epilog=_EXAMPLES[name], formatter_class=raw, parents=[common])

    command("list", "list the bundled baselines, tariff schedules and scenarios")
    b = command("baseline", "load a baseline and print its summary")
    b.add_argument("name", nargs="?", default="demo-2024",
                   help="bundled name, or a tidy CSV/Parquet, CEPII BACI or UN Comtrade file")
    b.add_argument("--value", help="value column of a tidy file (USD; default 'value')")
    r = command("rate", "the tariff on one product from one country into another on a day, and why")
    r.add_argument("--importer", required=True, help="ISO alpha-3 code, e.g. USA")
    r.add_argument("--exporter", required=True, help="ISO alpha-3 code, e.g. CHN")
    r.add_argument("--product", required=True, help="HS code of 2 to 10 digits, e.g. 9503 or 8517.13")
    r.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day (ISO 8601; nothing else is read)")
    r.add_argument("--schedule", default="us-china-2025", help="bundled schedule name or path to a TOML file")
    r.add_argument("--all", action="store_true", help="also list measures that do not cover the product or exporter")
    rs = command("rates", "trade-weighted tariff rates at every date the law changes, by partner, HS section or "
                          "legal authority (the trackers' table)")
    rs.add_argument("--schedule", default="tariffs-2025", help="bundled schedule name or path to a TOML file")
    rs.add_argument("--baseline", default="us-imports-2024",
                    help="bundled baseline or a file of flows (its imports are the weights)")
    rs.add_argument("--importer", default="USA", help="ISO alpha-3 code of the country imposing the tariffs")
    rs.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: Dec 31 of the baseline year)")
    rs.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: the last change of the law)")
    rs.add_argument("--by", choices=["partner", "section", "authority"], default="partner",
                    help="columns: exporters, HS sections, or layers of law (their contributions add up to 'all')")
    rs.add_argument("--fine-values", metavar="NAME|PATH",
                    help="finer trade values for the law's shares (default: the baseline itself)")
    rs.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table",
                    help="table (default), or csv/json on standard output or into --out, or parquet into --out")
    rs.add_argument("--out", metavar="FILE", help="write the table into FILE (replaced as a whole, or not at all)")
    sh = command("show", "a scenario's timeline of measures and the headline rate per pair and date")
    sh.add_argument("scenario", help="bundled scenario name or path to a TOML file")
    v = command("validate", "check a scenario file, report every problem and estimate the run's size")
    v.add_argument("file", help="path to a scenario TOML file (or a bundled name)")
    v.add_argument("--max-memory", metavar="SIZE", help="the most memory a run may take, e.g. 16G or 500M "
                                                        "(default: 60%% of this machine's memory)")
    run = command("run", "run a scenario over its dates and print the path of headline numbers")
    run.add_argument("scenario", help="bundled scenario name or path to a TOML file")
    run.add_argument("--model", choices=sorted(MODELS), help="a registered model (default: the scenario's)")
    run.add_argument("--baseline", metavar="NAME|PATH",
                     help="bundled baseline or a file of flows to run on instead of the scenario's (for example "
                          "demo-2024, whose countries are on both axes, for --model ge); the scenario's fine values "
                          "are then not used (give --fine-values)")
    run.add_argument("--fine-values", metavar="NAME|PATH",
                     help="trade values finer than the baseline's products for the law's shares: bundled fine values "
                          "or baseline, or a CSV/Parquet file (default: the scenario's)")
    run.add_argument("--out", metavar="DIR", help="write the summaries, run.json (and figures with --plot) into DIR: "
                                                  "a new or empty folder, or one tradesim wrote before (see below)")
    run.add_argument("--format", choices=["csv", "parquet"],
                     help="format of the tables in DIR (default: parquet when pyarrow is installed, else csv)")
    run.add_argument("--cells", action="store_true",
                     help="also write the full table of cells (date x product x exporter x importer x variable)")
    run.add_argument("--plot", action="store_true", help="also save figures of the path into DIR")
    run.add_argument("--draws", type=int, metavar="N",
                     help="run N draws of the elasticities from their priors and report quantiles")
    run.add_argument("--seed", type=int, default=0, help="seed of the draws, a whole number >= 0 (default 0)")
    run.add_argument("--engine", choices=["numpy", "dask"], help="engine for the draws (default numpy)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="address of a Dask scheduler (tcp://host:8786) for the draws; implies --engine dask")
    run.add_argument("--chunk", type=int, metavar="N", help="draws per chunk (default: sized to memory)")
    run.add_argument("--max-memory", metavar="SIZE", help="the most memory the run may take, e.g. 16G or 500M "
                                                          "(default: 60%% of this machine's memory)")
    return parser


# --------------------------------------------------------------------------- talking to the user


def _progress_wanted(quiet: bool) -> bool:
    """Progress bars only on a terminal, never with TQDM_DISABLE set (to anything but 0/false/no) or -q."""
    if quiet or os.environ.get("TQDM_DISABLE", "").strip().lower() not in ("", "0", "false", "no"):
        return False
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class _Console:
    """Standard output for the tables; standard error for notes, progress and timings."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.progress = _progress_wanted(quiet)
        self.said: set[str] = set()
        self.timings: list[tuple[str, float]] = []
        self._bar = None

    def out(self, text: str = "") -> None:
        if self._bar is not None and self.progress:  # above the bar, which is drawn again below
            self._bar.write(text, file=sys.stdout)
        else:
            print(text)

    def note(self, text: str) -> None:
        """A note (once per run, whatever repeats it), unless quiet."""
        if self.quiet or text in self.said:
            return
        self.said.add(text)
        self._write(f"note: {text}")

    def warning(self, text: str) -> None:
        """A warning from another library (once per run), unless quiet."""
        if self.quiet or text in self.said:
            return
        self.said.add(text)
        self._write(f"warning: {text}")

    def info(self, text: str) -> None:
        """Said only with -v."""
        if self.verbose:
            self._write(text)

    def _write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    @contextlib.contextmanager
    def steps(self, total: int, desc: str):
        """A bar over the steps of a command (when progress is wanted)."""
        from tqdm.auto import tqdm

        with tqdm(total=total, desc=desc, unit="step", disable=not self.progress, leave=False,
                  file=sys.stderr) as bar:
            self._bar = bar
            try:
                yield bar
            finally:
                self._bar = None

    @contextlib.contextmanager
    def step(self, name: str):
        """One step: named on the bar, timed for -v."""
        if self._bar is not None:
            self._bar.set_postfix_str(name, refresh=True)
        t0 = time.perf_counter()
        yield
        spent = time.perf_counter() - t0
        self.timings.append((name, spent))
        if self._bar is not None:
            self._bar.update(1)
        self.info(f"time: {name}: {spent:,.2f} s")


@contextlib.contextmanager
def _notes_of(console: _Console):
    """Collect the notes of a block: the list it yields takes results' notes; tradesim's warnings raised in the
    block are added. After the block the list holds each note once, and each is said once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        box: list = []
        yield box
    box[:] = _notes(box, caught)
    for note in box:
        console.note(note)
    for w in caught:
        if not issubclass(w.category, TradesimWarning):
            console.warning(f"{w.category.__name__}: {w.message}")


def _notes(notes, caught) -> list[str]:
    """A result's notes, then the warnings caught during the run that do not repeat one."""
    said = [str(w.message) for w in caught if issubclass(w.category, TradesimWarning)]
    more = [m for m in said if not any(n in m for n in notes)]
    return list(dict.fromkeys([*notes, *more]))


# --------------------------------------------------------------------------- checks of the arguments


def _check_date(value, key: str):
    """A date flag: ISO ``YYYY-MM-DD`` only (04/05/2025 is refused, never guessed)."""
    from .files import parse_date

    return None if value is None else parse_date(value, key=key)


def _parse_size(text, key: str = "--max-memory") -> int | None:
    """Bytes from ``16G``, ``500M``, ``2.5GiB``, ``1024`` (binary units)."""
    import re

    if text is None:
        return None
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", str(text), flags=re.I)
    if not found or float(found[1]) <= 0:
        raise InputError(f"{text!r} is not a size: expected a number with K, M, G or T, e.g. 16G", key=key)
    return int(float(found[1]) * 1024 ** " kmgt".index(found[2].lower() or " "))


def _check_run_args(args) -> None:
    """Every check of `tradesim run`'s flags that needs no file: fail before any work."""
    if args.plot and not args.out:
        raise InputError("--plot writes figures into the output folder; give --out DIR", key="--plot")
    if args.cells and not args.out:
        raise InputError("--cells writes the cell table into the output folder; give --out DIR", key="--cells")
    if args.format and not args.out:
        raise InputError("--format is the format of the files in the output folder; give --out DIR", key="--format")
    for flag in ("engine", "scheduler", "chunk"):
        if getattr(args, flag) is not None and args.draws is None:
            raise InputError(f"--{flag} is for runs with draws; give --draws N", key=f"--{flag}")
    if args.cells and args.draws is not None:
        raise InputError("--cells is for runs without draws (an ensemble keeps sums by pair and country)",
                         key="--cells")
    if args.scheduler and args.engine == "numpy":
        raise InputError("--scheduler sends the draws to Dask; drop --engine numpy", key="--scheduler")
    if args.seed < 0:
        raise InputError(f"{args.seed} is not a seed: expected a whole number 0 or more", key="--seed")
    if args.draws is not None and args.draws < 1:
        raise InputError(f"{args.draws} is not a number of draws: expected a whole number of draws >= 1",
                         key="--draws")
    if args.chunk is not None and args.chunk < 1:
        raise InputError(f"{args.chunk} is not a chunk size: expected a whole number of draws >= 1", key="--chunk")


def _open_baseline(ref: str, value: str | None = None):
    """The baseline a command names: a bundled name or a file (tidy, BACI, Comtrade).

    The one place where the command line opens baselines named on it.
    """
    from .data import open_baseline

    return open_baseline(ref, **({"value": value} if value else {}))


# --------------------------------------------------------------------------- commands


def _header(console: _Console, scenario, model: str | None = None) -> None:
    console.out(f"{scenario.name}: {scenario.description}")
    if scenario.extends:
        console.out(f"  extends {' <- '.join(scenario.extends)}")
    console.out(f"  baseline {scenario.baseline}; {scenario.start} to {scenario.end}, {scenario.frequency}; "
                f"model {model or scenario.model}; adjustment {scenario.dynamics.adjustment}")
    if scenario.compare_to:
        console.out(f"  read against {scenario.compare_to}")


def _sized(scenario, baseline, *, limit=None, **kw):
    """The size estimate of a run (and of its counterfactual), refused when it cannot fit."""
    from . import ensemble
    from .scenario import budget
    from .simulate import path_estimate

    # a run as simulate or ensemble.run makes it (on a sparse baseline's cells where it stays on them)
    size = ensemble.estimate if kw.get("draws") is not None else path_estimate
    e = size(scenario, baseline, **kw)
    other = scenario.counterfactual()
    total = e
    if other is not None:  # both results are held at the end: their memory adds up
        o = size(other, baseline, **kw)
        total = dataclasses.replace(e, bytes=e.bytes + o.path_bytes, seconds=e.seconds + o.seconds)
    budget.check(total, limit_bytes=limit)
    return total


def _show(args, console: _Console) -> int:
    from .scenario import load_scenario

    with console.steps(3, "show"):
        with console.step("reading the scenario"):
            scenario = load_scenario(args.scenario)
        with console.step("reading the baseline"):
            baseline = scenario.load_baseline()
            _sized(scenario, baseline)
        with console.step("evaluating the law"), _notes_of(console):
            rates = scenario.headline_rates(baseline)
    _header(console, scenario)
    table = scenario.timeline()
    table["exporters"] = table["exporters"].str.slice(0, 24)
    table["products"] = table["products"].str.slice(0, 24)
    table["end"] = table["end"].map(lambda d: "" if d is None else str(d))
    table["announced"] = table["announced"].map(lambda d: "" if d is None else str(d))
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", _number(1)):
        console.out(f"\nmeasures in force between {scenario.start} and {scenario.end}:")
        console.out(table.drop(columns="authority").to_string(index=False))
        for phase in scenario.phases:
            steps = ", ".join(f"{d}: {100 * r:.1f}%" for d, r in phase.steps)
            console.out(f"  phase of {phase.measure}: {steps}")
        rates.index = rates.index.strftime("%Y-%m-%d")
        console.out("\ntrade-weighted tariff by pair (percent; baseline flows as weights; mean over each period):")
        console.out(rates.to_string())
    return 0


def _validate(args, console: _Console) -> int:
    from .scenario import load_scenario

    limit = _parse_size(args.max_memory)
    with console.steps(2, "validate"):
        with console.step("reading the scenario"):
            scenario = load_scenario(args.file)
        with console.step("reading the baseline"):
            baseline = scenario.load_baseline()
    estimate = _sized(scenario, baseline, limit=limit)
    phases = sum(len(p.steps) for p in scenario.phases)
    console.out(f"ok: {scenario.source}: scenario {scenario.name!r}, {len(scenario.schedule.measures)} measures, "
                f"{len(scenario.phases)} phases ({phases} steps), {estimate.periods} {scenario.frequency} periods "
                f"from {scenario.start}")
    console.out(f"estimate: {estimate.describe()}")
    return 0


def _pair_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Wide view of `ScenarioResult.summary`: one row per date, three columns per pair."""
    blocks = []
    for (exporter, importer), rows in summary.groupby(["exporter", "importer"], sort=False):
        rows = rows.set_index(rows["date"].dt.strftime("%Y-%m-%d"))
        block = {
            (f"{importer} from {exporter}", "tariff %"): rows["tariff_pct"],
            (f"{importer} from {exporter}", "imports bn/yr"): rows["imports_usd"] / 1e9,
            (f"{importer} from {exporter}", "change %"): rows["value_change_pct"],
        }
        if "halted_pct" in rows and (rows["halted_pct"] > 0).any():  # the tariff is on the trade not halted
            block[(f"{importer} from {exporter}", "halted %")] = rows["halted_pct"]
        blocks.append(pd.DataFrame(block))
    return pd.concat(blocks, axis=1) if blocks else pd.DataFrame()


def _partner_table(summary: pd.DataFrame, baseline) -> pd.DataFrame:
    """Per pair (many pairs): baseline imports, then per calendar year the mean tariff, imports and change."""
    frame = summary.assign(year=summary["date"].dt.year, pair=summary["importer"] + " from " + summary["exporter"])
    means = frame.groupby(["pair", "year"], sort=False)[["tariff_pct", "imports_usd", "value_change_pct"]].mean()
    wide = means.unstack("year")
    wide.columns = [f"{'tariff %' if v == 'tariff_pct' else 'imports bn' if v == 'imports_usd' else 'change %'} {y}"
                    for v, y in wide.columns]
    for c in [c for c in wide.columns if c.startswith("imports bn")]:
        wide[c] = wide[c] / 1e9
    first = frame.drop_duplicates("pair").set_index("pair")
    wide.insert(0, "2024 bn", [baseline.trade(e, i) / 1e9 for e, i in zip(first["exporter"], first["importer"])])
    years = sorted({c.split()[-1] for c in wide.columns[1:]})
    order = [f"{label} {y}" for y in years for label in ("tariff %", "imports bn", "change %")]
    return wide[["2024 bn", *order]].sort_values("2024 bn", ascending=False)


def _run(args, console: _Console, argv: list[str]) -> int:
    from .results.write import check_folder, default_format
    from .scenario import load_scenario
    from .scenario.plan import square_problem

    started = _now()
    _check_run_args(args)
    limit = _parse_size(args.max_memory)
    fmt = args.format
    if args.out:
        if fmt is None:
            fmt = default_format()
            if fmt == "csv":
                console.note("writing CSV: pyarrow is not installed (pip install pyarrow to get Parquet)")
        check_folder(args.out, fmt)  # fail before the run, and create nothing yet
    steps = 4 + bool(args.out) + (args.draws is None)
    with console.steps(steps, "run"):
        with console.step("reading the scenario"):
            scenario = load_scenario(args.scenario)
            if args.baseline:  # the scenario's fine values describe its own baseline's products: not this one's
                if scenario.fine_values and not args.fine_values:
                    console.note(f"--baseline: the scenario's fine values ({scenario.fine_values}) split the products "
                                 "of its own baseline and are not used; give --fine-values for this baseline's")
                scenario = scenario.on_baseline(args.baseline, args.fine_values)
        with console.step("reading the baseline"):
            baseline = scenario.load_baseline()
            model = MODELS[args.model or scenario.model]
            if not args.baseline:  # GE on a scenario of US imports only: its world baseline, if it names one
                scenario, baseline, note = scenario.for_model(model.name, baseline)
                if note:
                    console.note(note)
        problem = square_problem(model, baseline)
        if problem:  # before any work, with the way out the command line offers
            raise InputError(f"{problem}: run on a square baseline with --baseline (the bundled demo-2024: 16 "
                             "economies at HS chapters with domestic sales; with fine-values-2024, measures on "
                             "partners inside its ROW reach it through ROW's members), name one as world_baseline in "
                             "the scenario file, or use another model",
                             key="--model")
        with console.step("estimating the size"):
            estimate = _sized(scenario, baseline, limit=limit, draws=args.draws, cell_table=args.cells,
                              model=model.name, fine_values=args.fine_values)
        console.info(f"estimate: {estimate.describe()}")
        context = dict(argv=argv, started=started, fmt=fmt, estimate=estimate)
        if args.draws is not None:
            return _run_draws(args, console, scenario, baseline, context)
        return _run_path(args, console, scenario, baseline, context)


def _run_path(args, console: _Console, scenario, baseline, context: dict) -> int:
    from .simulate import simulate

    with console.step(f"running {scenario.name}"), _notes_of(console) as notes:
        # the size was checked before any work, with --max-memory and the counterfactual (`_sized`)
        result = simulate(baseline, scenario, model=args.model, progress=console.progress,
                          fine_values=args.fine_values, max_memory=math.inf)
        notes += result.notes
        other = None
        if scenario.compare_to:
            other = simulate(result.baseline, scenario.counterfactual(), model=result.model,
                             progress=console.progress, fine_values=args.fine_values, max_memory=math.inf)
            notes += other.notes
    with console.step("building the tables"):
        pairs = result.summary("pair")
        countries = result.summary("country")
        compared = result.compare(other) if other is not None else None
        cells = result.to_frame(level="cell") if args.cells else None
    _header(console, scenario, result.model)
    fmt = {"display.width": 200, "display.max_rows": 500, "display.float_format": _number(1)}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        if pairs[["exporter", "importer"]].drop_duplicates().shape[0] <= 6:
            table = _pair_table(pairs)
            halted = any(c[1] == "halted %" for c in table.columns)
            console.out("\nimports (annual rate, USD bn; change from the 2024 baseline) and tariff (trade-weighted, %"
                        + ("; on the trade not halted, halted %: the share of baseline trade halted" if halted else "")
                        + "):")
            console.out(table.to_string())
        else:
            console.out("\nper partner, means over each year: tariff (trade-weighted, %), imports (USD bn per year) "
                        "and their change from the baseline (%):")
            console.out(_partner_table(pairs, result.baseline).to_string())
        mean = countries.drop(columns="date").groupby("country", sort=False).mean()
        usd = [c for c in mean.columns if c.endswith("_usd")]
        mean[usd] = mean[usd] / 1e9
        mean.columns = [c.replace("_usd", "_bn") for c in mean.columns]
        console.out(f"\nper country, mean over {len(result.dates)} periods (USD bn per year, or percent):")
        console.out(mean.to_string())
        if compared is not None:
            view = compared.assign(date=compared["date"].dt.strftime("%Y-%m-%d"),
                                   imports_bn_diff=compared["imports_usd_diff"] / 1e9)
            if view[["exporter", "importer"]].drop_duplicates().shape[0] <= 6:
                console.out(f"\n{scenario.name} minus {other.scenario.name}: imports (USD bn per year) and tariff "
                            "(points):")
                console.out(view.pivot(index="date", columns=["importer", "exporter"],
                                       values=["imports_bn_diff", "tariff_pct_diff"]).to_string())
            else:
                console.out(f"\n{scenario.name} minus {other.scenario.name}, per partner, means over each year: tariff "
                            "(points) and imports (USD bn per year); pairs that differ by 0.05 or more:")
                view = view.assign(year=compared["date"].dt.year, pair=view["importer"] + " from " + view["exporter"])
                wide = view.groupby(["pair", "year"], sort=False)[["tariff_pct_diff", "imports_bn_diff"]].mean()
                wide = wide.unstack("year")
                wide.columns = [f"{'tariff pts' if v == 'tariff_pct_diff' else 'imports bn'} {y}"
                                for v, y in wide.columns]
                years = sorted({c.split()[-1] for c in wide.columns})
                wide = wide[[f"{label} {y}" for y in years for label in ("tariff pts", "imports bn")]]
                wide = wide[(wide.abs() >= 0.05).any(axis=1)]
                console.out(wide.reindex(wide.abs().max(axis=1).sort_values(ascending=False).index).to_string()
                            if len(wide) else "  (no pair differs by 0.05 or more)")
    if args.out:
        tables = {"summary_pairs": pairs, "summary_countries": countries}
        if compared is not None:
            tables[f"compare_{other.scenario.name}"] = compared
        if cells is not None:
            tables["cells"] = cells
        figures = _figures(result) if args.plot else {}
        _write(args, console, tables, figures, scenario, result, list(notes), context)
    return 0


def _run_draws(args, console: _Console, scenario, baseline, context: dict) -> int:
    """`tradesim run --draws N`: the ensemble's quantiles, printed and written."""
    import numpy as np

    from . import ensemble
    from .data.cluster import import_distributed

    engine = "dask" if args.scheduler else (args.engine or "numpy")
    client = None
    if args.scheduler:
        distributed = import_distributed()
        client = distributed.Client(args.scheduler)
    try:
        with console.step(f"running {scenario.name} x {args.draws} draws"), _notes_of(console) as notes:
            run = dict(draws=args.draws, seed=args.seed, engine=engine, client=client, chunk=args.chunk,
                       progress=console.progress, fine_values=args.fine_values, max_memory=math.inf)  # checked
            result = ensemble.run(baseline, scenario, model=args.model, **run)
            notes += result.notes
            other = None
            if scenario.compare_to:  # the same draws on the counterfactual: bands of the difference
                other = ensemble.run(result.baseline, scenario.counterfactual(), model=result.model, **run)
                notes += other.notes
    finally:
        if client is not None:
            client.close()  # the cluster stays up: it is the user's
    _header(console, scenario, result.model)
    console.out(f"  {result.n_draws} of {result.requested} draws (seed {args.seed}, {engine} engine, chunks of "
                f"{result.chunk})")
    console.out("\ndrawn elasticities (long run):")
    drawn = result.priors.describe()
    drawn = drawn[drawn["parameter"].isin({c.split("[")[0] for c in result.parameters.columns})]
    console.out(drawn[["parameter", "group", "distribution", "p5", "median", "p95"]].to_string(index=False))
    pairs = _changed_pairs(result)
    levels = (0.05, 0.5, 0.95)
    table = result.quantiles(levels, pairs=pairs, variables=["value_change_pct"]) if pairs else None
    welfare = result.country_values[_welfare_key(result)].mean(axis=1)  # [draw, country]: mean over the path
    per_country = pd.DataFrame(np.quantile(welfare, levels, axis=0).T / 1e9, index=result.baseline.countries,
                               columns=[f"p{100 * q:g}" for q in levels])
    fmt = {"display.width": 200, "display.max_rows": 500, "display.float_format": _number(1)}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        if table is not None:
            view = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"),
                                pair=table["importer"] + " from " + table["exporter"])
            view = view.pivot(index="date", columns="pair", values=["p5", "p50", "p95"]).swaplevel(axis=1)
            console.out("\nimports, change from the 2024 baseline (percent), 5th / 50th / 95th percentile of the draws:")
            console.out(view.sort_index(axis=1, level=0, sort_remaining=False).to_string())
        console.out(f"\nwelfare per country, mean over {len(result.dates)} periods (USD bn per year), percentiles:")
        shown = per_country[(per_country.abs() >= 0.05).any(axis=1)]  # what rounds to 0.0 is not shown
        console.out(shown.to_string() if len(shown) else "  (no country's welfare moves by USD 0.05bn or more)")
        if other is not None:
            both = list(dict.fromkeys(pairs + _changed_pairs(other)))
            diff = result.compare(other, levels, pairs=both, variables=["imports_usd"])
            view = diff.assign(date=diff["date"].dt.strftime("%Y-%m-%d"),
                               pair=diff["importer"] + " from " + diff["exporter"])
            view[["p5", "p50", "p95"]] /= 1e9
            view = view.pivot(index="date", columns="pair", values=["p5", "p50", "p95"]).swaplevel(axis=1)
            console.out(f"\n{scenario.name} minus {other.scenario.name}, the same draws: imports (USD bn per year), "
                        "5th / 50th / 95th percentile of the differences:")
            console.out(view.sort_index(axis=1, level=0, sort_remaining=False).to_string())
    if args.out:
        tables = {"quantiles_pairs": result.quantiles(levels),
                  "quantiles_countries": result.quantiles(levels, level="country"),
                  "draws_parameters": result.parameters.reset_index()}
        if other is not None:
            tables[f"compare_{other.scenario.name}_pairs"] = result.compare(other, levels)
            tables[f"compare_{other.scenario.name}_countries"] = result.compare(other, levels, level="country")
        if len(result.failures):
            tables["failures"] = result.failures
        figures = _fan_figures(result, pairs) if args.plot else {}
        context["engine"] = engine
        context["chunk"] = result.chunk
        _write(args, console, tables, figures, scenario, result, list(notes), context)
    return 0


def _write(args, console: _Console, tables: dict, figures: dict, scenario, result, notes: list, context: dict) -> None:
    """Write the outputs with their record (run.json) and say what was written."""
    from .results.write import write_outputs

    with console.step(f"writing {args.out}"):
        record = _record(args, scenario, result, notes, context)
        done = write_outputs(args.out, tables, context["fmt"], figures, manifest=record, progress=console.progress)
    for note in done.notes:
        console.note(note)
    console.note(f"wrote {len(done.files)} files to {args.out}: {', '.join(p.name for p in done.files)}")


def _record(args, scenario, result, notes: list, context: dict) -> dict:
    """What run.json says about the run (the files written are added by `write_outputs`)."""
    import platform
    import shlex

    from .files import file_sha256
    from .scenario.file import scenario_files

    command = ["tradesim", *context["argv"]]
    inputs = []
    for role, path in scenario_files(scenario.source):
        inputs.append({"role": role, "file": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    provenance = result.provenance
    scenario_file = next((i for i in inputs if i["role"] == "scenario"), {})
    return {
        "tradesim_version": __version__,
        "command": command,
        "command_line": shlex.join(command),
        "working_directory": os.getcwd(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "started": context["started"],
        "finished": None,  # set by write_outputs, when the files are written
        "scenario": {"name": scenario.name, "file": scenario.source, "sha256": scenario_file.get("sha256"),
                     "extends": list(scenario.extends),
                     "extends_sha256": [i["sha256"] for i in inputs if i["role"] == "extends"],
                     "compare_to": scenario.compare_to},
        "inputs": inputs,
        "baseline": {k[len("baseline_"):]: v for k, v in provenance.items() if k.startswith("baseline_")},
        "schedule": {k[len("schedule_"):]: v for k, v in provenance.items() if k.startswith("schedule_")},
        "model": result.model,
        "fine_values": args.fine_values or scenario.fine_values,
        "seed": args.seed if args.draws is not None else None,
        "draws": args.draws,
        "engine": context.get("engine"),
        "chunk": context.get("chunk"),
        "estimate": context["estimate"].to_dict(),
        "notes": notes,
    }


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _changed_pairs(result) -> list[tuple[str, str]]:
    """Pairs with trade whose tariff moves from the reference on some date in an `EnsembleResult` (headline pairs)."""
    import numpy as np

    from .results.base import baseline_pairs

    moved = (np.abs(result.tariff - result.tariff_reference).max(axis=0) > 0) & (baseline_pairs(result.baseline) > 0)
    ex, im = result.baseline.exporters, result.baseline.importers
    return [(ex[i], im[j]) for i, j in zip(*np.nonzero(moved))]


def _welfare_key(result) -> str:
    return "welfare_usd" if "welfare_usd" in result.country_values else next(iter(result.country_values))


def _fan_figures(result, pairs) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    out = {}
    for exporter, importer in pairs[:4]:
        out[f"fan_value_change_{exporter}_{importer}"] = plot.fan(result, "value_change", (exporter, importer)).figure
    for country in dict.fromkeys(c for pair in pairs[:4] for c in pair):
        out[f"fan_welfare_{country}"] = plot.fan(result, "welfare", country).figure
    plt.close("all")
    return out


def _figures(result) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    out = {}
    for variable in ("imports", "tariff", "value_change"):
        out[f"{variable}_path"] = plot.trade_path(result, variable).figure
    for exporter, importer in result.changed_pairs()[:4]:  # the headline pairs, not every pair with a change
        out[f"tariff_timeline_{exporter}_{importer}"] = plot.tariff_timeline(result, exporter, importer).figure
    out["welfare_mean"] = plot.welfare(result, date="mean").figure
    out["heatmap_mean"] = plot.heatmap(result, "value_change", date="mean").figure
    plt.close("all")  # the figures stay valid for saving
    return out


def _schedule(name: str):
    from pathlib import Path

    from .law import TariffSchedule, list_schedules, load_schedule

    if name in list_schedules().index or not Path(name).suffix:
        return load_schedule(name)  # raises with the bundled names when unknown
    return TariffSchedule.from_file(name)


def _rates(args, console: _Console) -> int:
    from pathlib import Path

    from .data import load_fine_values
    from .results.write import write_table

    start, end = _check_date(args.start, "--from"), _check_date(args.end, "--to")
    fmt = args.format
    if args.out is not None:
        if fmt == "table":  # from the file's suffix
            fmt = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}.get(
                Path(args.out).suffix.lower())
            if fmt is None:
                raise InputError(f"cannot tell the format of {args.out!r} from its suffix: give --format csv, json or "
                                 "parquet (or a name ending in .csv, .json or .parquet)", key="--out")
        if str(args.out).strip() in ("", "-"):
            raise InputError(f"{args.out!r} is not a file name: leave out --out to print the table on standard output",
                             key="--out")
        if Path(args.out).is_dir():
            raise InputError("is a folder: give the name of a file to write", source=args.out, key="--out")
    elif fmt == "parquet":
        raise InputError("parquet is written into a file: give --out FILE", key="--format")
    with console.steps(3, "rates"):
        with console.step("reading the schedule"):
            schedule = _schedule(args.schedule)
        with console.step("reading the baseline"):
            baseline = _open_baseline(args.baseline)
            fine = load_fine_values(args.fine_values) if args.fine_values else baseline
        with console.step("evaluating the law"), _notes_of(console):
            table = schedule.rate_table(baseline, args.importer, start, end, by=args.by, fine_values=fine)
    table.index = table.index.strftime("%Y-%m-%d")
    table = table.round(4)
    if args.out is not None:
        options = {"orient": "index", "indent": 1} if fmt == "json" else {}
        write_table(table, args.out, fmt, **options)
        console.note(f"wrote {args.out}")
    elif fmt == "table":
        with pd.option_context("display.width", 200, "display.max_columns", 60, "display.float_format",
                               _number(2)):
            console.out(f"{schedule.name}: {args.importer}'s trade-weighted tariff by {args.by}, percent "
                        f"(statutory rates in force, weights: {baseline.provenance.get('name', args.baseline)} "
                        "imports)")
            console.out(table.to_string())
    else:
        console.out(table.to_csv(float_format="%.10g") if fmt == "csv" else table.to_json(orient="index", indent=1))
    return 0


def _number(decimals: int):
    """A float format for tables: thousands separators, and no "-0.0" for a value that rounds to zero."""

    def fmt(x: float) -> str:
        text = f"{x:,.{decimals}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text

    return fmt


def _rate(args, console: _Console) -> int:
    day = _check_date(args.date, "--date")
    schedule = _schedule(args.schedule)
    product = args.product.replace(".", "").strip()
    with _notes_of(console):
        table = schedule.explain(day, product, args.exporter, args.importer)
    total = table.iloc[-1]["contribution_pct"]
    shown = table.iloc[:-1]
    if not args.all:
        shown = shown[~shown["status"].isin(["product not covered", "exporter not covered"])]
    console.out(f"{schedule.name}: {args.importer} duty on {product} from {args.exporter} on {day}")
    if shown.empty:
        console.out("  no measure of this schedule covers the product and exporter")
    else:
        view = shown[["measure", "status", "share", "rate_pct", "contribution_pct", "start", "end"]].copy()
        view["share"] = (100 * view["share"]).map("{:.1f}%".format)
        view["end"] = view["end"].map(lambda d: "" if d is None or d != d else str(d))
        with pd.option_context("display.width", 160, "display.max_colwidth", 60, "display.float_format",
                               _number(2)):
            console.out(view.to_string(index=False))
    console.out(f"total duty under the schedule's measures: {total:.2f}%")
    return 0


def _baseline(args, console: _Console) -> int:
    with _notes_of(console):
        base = _open_baseline(args.name, args.value)
    console.out(repr(base))
    for key, text in base.provenance.items():
        console.out(f"  {key}: {text}")
    table = base.summary().sort_values("imports_bn", ascending=False)
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.float_format", _number(1)):
        console.out()
        console.out(table.to_string())
    if base.imputed is not None:
        share = 100 * base.flows[base.imputed].sum() / base.flows.sum()
        console.out(f"\nimputed cells: {base.imputed.sum():,} of {base.imputed.size:,} ({share:.1f}% of value)")
    return 0


def _list(args, console: _Console) -> int:
    from .data import list_baselines
    from .law import list_schedules
    from .scenario import list_scenarios

    with pd.option_context("display.width", 160, "display.max_colwidth", 110):
        console.out("baselines:")
        console.out(list_baselines().to_string())
        console.out("\ntariff schedules:")
        console.out(list_schedules().to_string())
        console.out("\nscenarios:")
        console.out(list_scenarios().to_string())
    return 0


COMMANDS = {"list": _list, "baseline": _baseline, "rate": _rate, "rates": _rates, "show": _show,
            "validate": _validate}


def _terminated(signum, frame):  # SIGTERM: unwind (staging folders are removed on the way), exit 128 + 15
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns 0 on success and 2 on bad input (also for bad flags).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``tradesim`` (``sys.argv[1:]`` when None).

    Examples
    --------
    >>> main(["validate", "april-peak", "-q"])  # doctest: +ELLIPSIS
    ok: ...april-peak.toml: scenario 'april-peak', 72 measures, 0 phases (0 steps), 12 monthly periods from 2025-01-01
    estimate: 12 monthly periods, ...
    0
    """
    import signal
    import threading

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) and bad flags (2, argparse's message on stderr)
        return int(stop.code or 0) if not isinstance(stop.code, str) else 2
    quiet, verbose, debug = (bool(getattr(args, k, False)) for k in ("quiet", "verbose", "debug"))
    console = _Console(quiet=quiet, verbose=verbose and not quiet)
    handler = None
    if threading.current_thread() is threading.main_thread():
        handler = signal.signal(signal.SIGTERM, _terminated)
    try:
        if args.command == "run":
            return _run(args, console, argv)
        return COMMANDS[args.command](args, console)
    except TradesimError as err:
        if debug:
            raise
        for problem in getattr(err, "problems", None) or [err]:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except MemoryError:
        if debug:
            raise
        print("error: out of memory: the run needs more memory than this machine has; see its size with "
              "`tradesim validate` and give a smaller range, a coarser frequency or --max-memory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tradesim ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":
    sys.exit(main())
