"""The ``tradesim`` command. ``main(argv)`` returns the exit status so tests can call it."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from .version import __version__
from .errors import TradesimError
from .models import MODELS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradesim", description="Trade-policy scenarios: tariffs, trade and welfare.")
    parser.add_argument("--version", action="version", version=f"tradesim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the bundled baselines, tariff schedules and scenarios")
    b = sub.add_parser("baseline", help="load a baseline and print its summary")
    b.add_argument("name", nargs="?", default="demo-2024", help="bundled name or path to a tidy CSV/Parquet file")
    b.add_argument("--value", default="value", help="value column of a tidy file (USD)")
    r = sub.add_parser("rate", help="the tariff on one product from one country into another on a day, and why")
    r.add_argument("--importer", required=True, help="ISO alpha-3 code, e.g. USA")
    r.add_argument("--exporter", required=True, help="ISO alpha-3 code, e.g. CHN")
    r.add_argument("--product", required=True, help="HS code of 2 to 10 digits, e.g. 9503 or 8517.13")
    r.add_argument("--date", required=True, help="YYYY-MM-DD")
    r.add_argument("--schedule", default="us-china-2025", help="bundled schedule name or path to a TOML file")
    r.add_argument("--all", action="store_true", help="also list measures that do not cover the product or exporter")
    rs = sub.add_parser("rates", help="trade-weighted tariff rates at every date the law changes, by partner, "
                                      "HS section or legal authority (the trackers' table)")
    rs.add_argument("--schedule", default="tariffs-2025", help="bundled schedule name or path to a TOML file")
    rs.add_argument("--baseline", default="us-imports-2024", help="bundled baseline (its imports are the weights)")
    rs.add_argument("--importer", default="USA", help="ISO alpha-3 code of the country imposing the tariffs")
    rs.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day (default: Dec 31 of the baseline year)")
    rs.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: the last change of the law)")
    rs.add_argument("--by", choices=["partner", "section", "authority"], default="partner",
                    help="columns: exporters, HS sections, or layers of law (their contributions add up to 'all')")
    rs.add_argument("--fine-values", metavar="NAME|PATH",
                    help="finer trade values for the law's shares (default: the baseline itself)")
    rs.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table",
                    help="table (default), or csv/json on standard output or into --out, or parquet into --out")
    rs.add_argument("--out", metavar="FILE", help="write the table into FILE")
    sh = sub.add_parser("show", help="a scenario's timeline of measures and the headline rate per pair and date")
    sh.add_argument("scenario", help="bundled scenario name or path to a TOML file")
    v = sub.add_parser("validate", help="check a scenario file and report every problem")
    v.add_argument("file", help="path to a scenario TOML file (or a bundled name)")
    run = sub.add_parser("run", help="run a scenario over its dates and print the path of headline numbers")
    run.add_argument("scenario", help="bundled scenario name or path to a TOML file")
    run.add_argument("--model", choices=sorted(MODELS), help="a registered model (default: the scenario's)")
    run.add_argument("--fine-values", metavar="NAME|PATH",
                     help="trade values finer than the baseline's products for the law's shares: bundled fine values "
                          "or baseline, or a CSV/Parquet file (default: the scenario's)")
    run.add_argument("--out", metavar="DIR", help="write tidy results (and figures with --plot) into DIR")
    run.add_argument("--format", choices=["csv", "parquet"], default="csv", help="format of the tables in DIR")
    run.add_argument("--plot", action="store_true", help="also save figures of the path into DIR")
    run.add_argument("--draws", type=int, metavar="N",
                     help="run N draws of the elasticities from their priors and report quantiles")
    run.add_argument("--seed", type=int, default=0, help="seed of the draws (default 0)")
    run.add_argument("--engine", choices=["numpy", "dask"], help="engine for the draws (default numpy)")
    run.add_argument("--scheduler", metavar="ADDRESS",
                     help="address of a Dask scheduler (tcp://host:8786) for the draws; implies --engine dask")
    run.add_argument("--chunk", type=int, metavar="N", help="draws per chunk (default: sized to memory)")
    return parser


def _header(scenario, model: str | None = None) -> None:
    print(f"{scenario.name}: {scenario.description}")
    if scenario.extends:
        print(f"  extends {' <- '.join(scenario.extends)}")
    print(f"  baseline {scenario.baseline}; {scenario.start} to {scenario.end}, {scenario.frequency}; "
          f"model {model or scenario.model}; adjustment {scenario.dynamics.adjustment}")
    if scenario.compare_to:
        print(f"  read against {scenario.compare_to}")


def _show(args) -> int:
    from .scenario import load_scenario

    import warnings

    from .errors import TradesimWarning

    scenario = load_scenario(args.scenario)
    baseline = scenario.load_baseline()
    _header(scenario)
    table = scenario.timeline()
    table["exporters"] = table["exporters"].str.slice(0, 24)
    table["products"] = table["products"].str.slice(0, 24)
    table["end"] = table["end"].map(lambda d: "" if d is None else str(d))
    table["announced"] = table["announced"].map(lambda d: "" if d is None else str(d))
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:,.1f}".format):
        print(f"\nmeasures in force between {scenario.start} and {scenario.end}:")
        print(table.drop(columns="authority").to_string(index=False))
        for phase in scenario.phases:
            steps = ", ".join(f"{d}: {100 * r:.1f}%" for d, r in phase.steps)
            print(f"  phase of {phase.measure}: {steps}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TradesimWarning)
            rates = scenario.headline_rates(baseline)
        rates.index = rates.index.strftime("%Y-%m-%d")
        print("\ntrade-weighted tariff by pair (percent; baseline flows as weights; mean over each period):")
        print(rates.to_string())
    for w in caught:
        print(f"note: {w.message}")
    return 0


def _validate(args) -> int:
    from .scenario import load_scenario

    scenario = load_scenario(args.file)
    starts, _ = scenario.periods()
    print(f"ok: {scenario.source}: scenario {scenario.name!r}, {len(scenario.schedule.measures)} measures, "
          f"{len(scenario.phases)} phases, {len(starts)} {scenario.frequency} periods from {scenario.start}")
    return 0


def _notes(notes, caught) -> list[str]:
    """A result's notes, then the warnings caught during the run that do not repeat one."""
    more = [str(w.message) for w in caught if not any(n in str(w.message) for n in notes)]
    return list(dict.fromkeys([*notes, *more]))


def _pair_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Wide view of `ScenarioResult.summary`: one row per date, three columns per pair."""
    blocks = []
    for (exporter, importer), rows in summary.groupby(["exporter", "importer"], sort=False):
        rows = rows.set_index(rows["date"].dt.strftime("%Y-%m-%d"))
        blocks.append(pd.DataFrame({
            (f"{importer} from {exporter}", "tariff %"): rows["tariff_pct"],
            (f"{importer} from {exporter}", "imports bn/yr"): rows["imports_usd"] / 1e9,
            (f"{importer} from {exporter}", "change %"): rows["value_change_pct"],
        }))
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


def _run(args) -> int:
    import warnings

    from .errors import InputError, TradesimWarning
    from .results.write import check_folder, write_outputs
    from .scenario import load_scenario
    from .simulate import simulate

    if args.plot and not args.out:
        raise InputError("--plot writes figures into the output folder; give --out DIR", key="--plot")
    for flag in ("engine", "scheduler", "chunk"):
        if getattr(args, flag) is not None and args.draws is None:
            raise InputError(f"--{flag} is for runs with draws; give --draws N", key=f"--{flag}")
    if args.scheduler and args.engine == "numpy":
        raise InputError("--scheduler sends the draws to Dask; drop --engine numpy", key="--scheduler")
    if args.out:
        check_folder(args.out, args.format)  # fail before the run, not after
    scenario = load_scenario(args.scenario)
    if args.draws is not None:
        return _run_draws(args, scenario)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        result = simulate(None, scenario, model=args.model, progress=True, fine_values=args.fine_values)
        other = None
        if scenario.compare_to:
            other = simulate(result.baseline, scenario.counterfactual(), model=result.model, progress=True,
                             fine_values=args.fine_values)
    _header(scenario, result.model)
    for note in _notes(result.notes, caught):
        print(f"  note: {note}")
    pairs = result.summary("pair")
    countries = result.summary("country")
    fmt = {"display.width": 200, "display.max_rows": 500, "display.float_format": "{:,.1f}".format}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        if pairs[["exporter", "importer"]].drop_duplicates().shape[0] <= 6:
            print("\nimports (annual rate, USD bn; change from the 2024 baseline) and tariff (trade-weighted, %):")
            print(_pair_table(pairs).to_string())
        else:
            print("\nper partner, means over each year: tariff (trade-weighted, %), imports (USD bn per year) and their "
                  "change from the baseline (%):")
            print(_partner_table(pairs, result.baseline).to_string())
        mean = countries.drop(columns="date").groupby("country", sort=False).mean()
        usd = [c for c in mean.columns if c.endswith("_usd")]
        mean[usd] = mean[usd] / 1e9
        mean.columns = [c.replace("_usd", "_bn") for c in mean.columns]
        print(f"\nper country, mean over {len(result.dates)} periods (USD bn per year, or percent):")
        print(mean.to_string())
        compared = None
        if other is not None:
            compared = result.compare(other)
            view = compared.assign(date=compared["date"].dt.strftime("%Y-%m-%d"),
                                   imports_bn_diff=compared["imports_usd_diff"] / 1e9)
            if view[["exporter", "importer"]].drop_duplicates().shape[0] <= 6:
                print(f"\n{scenario.name} minus {other.scenario.name}: imports (USD bn per year) and tariff (points):")
                print(view.pivot(index="date", columns=["importer", "exporter"],
                                 values=["imports_bn_diff", "tariff_pct_diff"]).to_string())
            else:
                print(f"\n{scenario.name} minus {other.scenario.name}, per partner, means over each year: tariff "
                      "(points) and imports (USD bn per year); pairs that differ by 0.05 or more:")
                view = view.assign(year=compared["date"].dt.year, pair=view["importer"] + " from " + view["exporter"])
                wide = view.groupby(["pair", "year"], sort=False)[["tariff_pct_diff", "imports_bn_diff"]].mean()
                wide = wide.unstack("year")
                wide.columns = [f"{'tariff pts' if v == 'tariff_pct_diff' else 'imports bn'} {y}" for v, y in wide.columns]
                years = sorted({c.split()[-1] for c in wide.columns})
                wide = wide[[f"{label} {y}" for y in years for label in ("tariff pts", "imports bn")]]
                wide = wide[(wide.abs() >= 0.05).any(axis=1)]
                print(wide.reindex(wide.abs().max(axis=1).sort_values(ascending=False).index).to_string()
                      if len(wide) else "  (no pair differs by 0.05 or more)")
    if args.out:
        tables = {"results": result.to_frame(level="cell"), "summary_pairs": pairs, "summary_countries": countries}
        if compared is not None:
            tables[f"compare_{other.scenario.name}"] = compared
        figures = _figures(result) if args.plot else {}
        written = write_outputs(args.out, tables, args.format, figures)
        print(f"\nwrote {len(written)} files to {args.out}: {', '.join(p.name for p in written)}")
    return 0


def _run_draws(args, scenario) -> int:
    """`tradesim run --draws N`: the ensemble's quantiles, printed and written."""
    import warnings

    import numpy as np

    from . import ensemble
    from .errors import TradesimWarning
    from .results.write import write_outputs

    engine = "dask" if args.scheduler else (args.engine or "numpy")
    client = None
    if args.scheduler:
        distributed = ensemble.import_distributed()
        client = distributed.Client(args.scheduler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TradesimWarning)
            run = dict(draws=args.draws, seed=args.seed, engine=engine, client=client, chunk=args.chunk, progress=True,
                       fine_values=args.fine_values)
            result = ensemble.run(None, scenario, model=args.model, **run)
            other = None
            if scenario.compare_to:  # the same draws on the counterfactual: bands of the difference
                other = ensemble.run(result.baseline, scenario.counterfactual(), model=result.model, **run)
    finally:
        if client is not None:
            client.close()  # the cluster stays up: it is the user's
    _header(scenario, result.model)
    print(f"  {result.n_draws} of {result.requested} draws (seed {args.seed}, {engine} engine, chunks of "
          f"{result.chunk})")
    for note in _notes(result.notes, caught):
        print(f"  note: {note}")
    print("\ndrawn elasticities (long run):")
    drawn = result.priors.describe()
    drawn = drawn[drawn["parameter"].isin({c.split("[")[0] for c in result.parameters.columns})]
    print(drawn[["parameter", "group", "distribution", "p5", "median", "p95"]].to_string(index=False))
    pairs = _changed_pairs(result)
    levels = (0.05, 0.5, 0.95)
    table = result.quantiles(levels, pairs=pairs, variables=["value_change_pct"]) if pairs else None
    welfare = result.country_values[_welfare_key(result)].mean(axis=1)  # [draw, country]: mean over the path
    per_country = pd.DataFrame(np.quantile(welfare, levels, axis=0).T / 1e9, index=result.baseline.countries,
                               columns=[f"p{100 * q:g}" for q in levels])
    fmt = {"display.width": 200, "display.max_rows": 500, "display.float_format": "{:,.1f}".format}
    with pd.option_context(*[x for kv in fmt.items() for x in kv]):
        if table is not None:
            view = table.assign(date=table["date"].dt.strftime("%Y-%m-%d"),
                                pair=table["importer"] + " from " + table["exporter"])
            view = view.pivot(index="date", columns="pair", values=["p5", "p50", "p95"]).swaplevel(axis=1)
            print("\nimports, change from the 2024 baseline (percent), 5th / 50th / 95th percentile of the draws:")
            print(view.sort_index(axis=1, level=0, sort_remaining=False).to_string())
        print(f"\nwelfare per country, mean over {len(result.dates)} periods (USD bn per year), percentiles:")
        shown = per_country[(per_country.abs() >= 0.05).any(axis=1)]  # what rounds to 0.0 is not shown
        print(shown.to_string() if len(shown) else "  (no country's welfare moves by USD 0.05bn or more)")
        if other is not None:
            both = list(dict.fromkeys(pairs + _changed_pairs(other)))
            diff = result.compare(other, levels, pairs=both, variables=["imports_usd"])
            view = diff.assign(date=diff["date"].dt.strftime("%Y-%m-%d"),
                               pair=diff["importer"] + " from " + diff["exporter"])
            view[["p5", "p50", "p95"]] /= 1e9
            view = view.pivot(index="date", columns="pair", values=["p5", "p50", "p95"]).swaplevel(axis=1)
            print(f"\n{scenario.name} minus {other.scenario.name}, the same draws: imports (USD bn per year), "
                  "5th / 50th / 95th percentile of the differences:")
            print(view.sort_index(axis=1, level=0, sort_remaining=False).to_string())
    if args.out:
        tables = {"quantiles_pairs": result.quantiles(levels), "quantiles_countries": result.quantiles(levels, level="country"),
                  "draws_parameters": result.parameters.reset_index()}
        if other is not None:
            tables[f"compare_{other.scenario.name}_pairs"] = result.compare(other, levels)
            tables[f"compare_{other.scenario.name}_countries"] = result.compare(other, levels, level="country")
        if len(result.failures):
            tables["failures"] = result.failures
        figures = _fan_figures(result, pairs) if args.plot else {}
        written = write_outputs(args.out, tables, args.format, figures)
        print(f"\nwrote {len(written)} files to {args.out}: {', '.join(p.name for p in written)}")
    return 0


def _changed_pairs(result) -> list[tuple[str, str]]:
    """Pairs with trade whose tariff moves from the reference on some date (headline pairs)."""
    import numpy as np

    moved = (np.abs(result.tariff - result.tariff_reference).max(axis=0) > 0) & (result.baseline.flows.sum(axis=0) > 0)
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

    from .law import list_schedules, load_schedule
    from .law import TariffSchedule

    if name in list_schedules().index or not Path(name).suffix:
        return load_schedule(name)  # raises with the bundled names when unknown
    return TariffSchedule.from_file(name)


def _rates(args) -> int:
    import warnings

    from .data import load_baseline, load_fine_values
    from .errors import InputError, TradesimWarning

    if args.format == "parquet" and not args.out:
        raise InputError("parquet is written into a file: give --out FILE", key="--format")
    schedule = _schedule(args.schedule)
    baseline = load_baseline(args.baseline)
    fine = load_fine_values(args.fine_values) if args.fine_values else baseline
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        table = schedule.rate_table(baseline, args.importer, args.start, args.end, by=args.by, fine_values=fine)
    table.index = table.index.strftime("%Y-%m-%d")
    table = table.round(4)
    if args.format == "table":
        with pd.option_context("display.width", 200, "display.max_columns", 60, "display.float_format",
                               "{:,.2f}".format):
            print(f"{schedule.name}: {args.importer}'s trade-weighted tariff by {args.by}, percent "
                  f"(statutory rates in force, weights: {baseline.provenance.get('name', args.baseline)} imports)")
            print(table.to_string())
    elif args.out:
        from pathlib import Path

        out = Path(args.out)
        {"csv": lambda: table.to_csv(out), "json": lambda: table.to_json(out, orient="index", indent=1),
         "parquet": lambda: table.to_parquet(out)}[args.format]()
        print(f"wrote {out}")
    else:
        print(table.to_csv() if args.format == "csv" else table.to_json(orient="index", indent=1))
    for w in caught:
        print(f"note: {w.message}", file=sys.stderr)
    return 0


def _rate(args) -> int:
    import warnings

    from .errors import TradesimWarning

    schedule = _schedule(args.schedule)
    product = args.product.replace(".", "").strip()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TradesimWarning)
        table = schedule.explain(args.date, product, args.exporter, args.importer)
    total = table.iloc[-1]["contribution_pct"]
    shown = table.iloc[:-1]
    if not args.all:
        shown = shown[~shown["status"].isin(["product not covered", "exporter not covered"])]
    print(f"{schedule.name}: {args.importer} duty on {product} from {args.exporter} on {args.date}")
    if shown.empty:
        print("  no measure of this schedule covers the product and exporter")
    else:
        view = shown[["measure", "status", "share", "rate_pct", "contribution_pct", "start", "end"]].copy()
        view["share"] = (100 * view["share"]).map("{:.1f}%".format)
        view["end"] = view["end"].map(lambda d: "" if d is None or d != d else str(d))
        with pd.option_context("display.width", 160, "display.max_colwidth", 60, "display.float_format", "{:,.2f}".format):
            print(view.to_string(index=False))
    print(f"total additional duty: {total:.2f}%")
    for w in caught:
        print(f"note: {w.message}")
    return 0


def _baseline(args) -> int:
    from pathlib import Path

    from .data import list_baselines, load_baseline
    from .data import read_flows

    if args.name in list_baselines().index:
        base = load_baseline(args.name)
    elif Path(args.name).suffix:
        base = read_flows(args.name, value=args.value)
    else:
        base = load_baseline(args.name)  # raises with the list of bundled names
    print(repr(base))
    for key, text in base.provenance.items():
        print(f"  {key}: {text}")
    table = base.summary().sort_values("imports_bn", ascending=False)
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.float_format", "{:,.1f}".format):
        print()
        print(table.to_string())
    if base.imputed is not None:
        share = 100 * base.flows[base.imputed].sum() / base.flows.sum()
        print(f"\nimputed cells: {base.imputed.sum():,} of {base.imputed.size:,} ({share:.1f}% of value)")
    return 0


COMMANDS = {"rate": _rate, "rates": _rates, "show": _show, "validate": _validate, "run": _run}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns 0 on success and 2 on bad input."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            from .data import list_baselines
            from .law import list_schedules
            from .scenario import list_scenarios

            with pd.option_context("display.width", 160, "display.max_colwidth", 110):
                print("baselines:")
                print(list_baselines().to_string())
                print("\ntariff schedules:")
                print(list_schedules().to_string())
                print("\nscenarios:")
                print(list_scenarios().to_string())
            return 0
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        return _baseline(args)
    except TradesimError as err:
        if args.debug:
            raise
        for problem in getattr(err, "problems", None) or [err]:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`tradesim ... | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
