"""The ``tradesim`` command. ``main(argv)`` returns the exit status so tests can call it."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from . import __version__
from .errors import TradesimError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradesim", description="Trade-policy scenarios: tariffs, trade and welfare.")
    parser.add_argument("--version", action="version", version=f"tradesim {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the bundled baselines and tariff schedules")
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
    return parser


def _schedule(name: str):
    from pathlib import Path

    from .data import list_schedules, load_schedule
    from .tariffs import TariffSchedule

    if name in list_schedules().index or not Path(name).suffix:
        return load_schedule(name)  # raises with the bundled names when unknown
    return TariffSchedule.from_file(name)


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
    from .io import read_flows

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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns 0 on success and 2 on bad input."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            from .data import list_baselines, list_schedules

            with pd.option_context("display.width", 160, "display.max_colwidth", 110):
                print("baselines:")
                print(list_baselines().to_string())
                print("\ntariff schedules:")
                print(list_schedules().to_string())
            return 0
        if args.command == "rate":
            return _rate(args)
        return _baseline(args)
    except TradesimError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`tradesim ... | head`): stop quietly, as Unix tools do.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
