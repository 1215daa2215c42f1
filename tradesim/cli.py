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
    sub.add_parser("list", help="list the bundled baselines")
    b = sub.add_parser("baseline", help="load a baseline and print its summary")
    b.add_argument("name", nargs="?", default="demo-2024", help="bundled name or path to a tidy CSV/Parquet file")
    b.add_argument("--value", default="value", help="value column of a tidy file (USD)")
    return parser


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
            from .data import list_baselines

            with pd.option_context("display.width", 160, "display.max_colwidth", 110):
                print(list_baselines().to_string())
            return 0
        return _baseline(args)
    except TradesimError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
