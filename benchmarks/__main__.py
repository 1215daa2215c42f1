"""The benchmark suite: how fast each part of tradesim is on this machine, how it scales, and against what.

    python -m benchmarks [--quick] [--only NAME] [--json FILE]

It prints one table: per case and size (products x countries x draws), the median wall time and its
spread over repeats, peak memory, throughput (product-pair cells solved per second), and the ratios
to a reference measured in the same run and to the floor of reading the inputs once through
memory; then the exponents of time against products and countries. The references are a plain
per-product loop calling scipy.optimize.root (PE), scipy.optimize.root on the GE equations and the
USITC gegravity package (GE; optional), and loops over draws. Synthetic inputs come from seeds and
look like real trade (`benchmarks.workloads`). `--quick` runs small sizes in about a minute.

Cases (see `benchmarks.cases`): load_demo, load_us_imports (the tariff-line baseline), tariff_rates,
rates_by_partner (tariffs-2025's series by partner on us-imports-2024), pe_products (up to 5,000
products x 40 countries), pe_countries, pe_draws, ge_countries (10 to 500 countries), ge_io
(sectors with input-output links), ge_draws, ge_gegravity, scenario_path (the bundled us-china-2025
over its months), scenario_tariffs (tariffs-2025 on us-imports-2024), scenario_ge_path (us-china-2025
with general equilibrium, against its solves alone), ensemble_numpy and
ensemble_dask (1,000 draws of us-china-2025), pe_baci_world and pe_baci_dask (a BACI-sized world:
5,000 HS6 x 200 economies, 10 million flows, locally and on a 2-worker Dask cluster) and
simulate_baci_world (tradesim.simulate of the tariffs-2025 schedule on that world stored on its cells:
the law, the solve and the tables) and scenario_baci_world (the tariffs-2025 scenario's 24 months on
that world, on the cells of the importers whose law moves), ge_sectors (GE on the cells that trade against
the dense tensor) and ge_baci_world (GE of one change on that world with domestic sales added).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time

from .cases import CASES, SCALING
from .harness import fit_exponent, table


def machine() -> dict:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    import numpy

    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "system": platform.platform()}


def scaling(rows) -> dict:
    """Exponent of time against the dimension each scaling case varies."""
    out = {}
    for case, (dim, fixed) in SCALING.items():
        mine = [r for r in rows if r.case == case]
        if len(mine) >= 2:
            held = mine[0].products if dim == "countries" else mine[0].countries
            out[case] = {"against": dim, "at": f"{held} {fixed}",
                         "exponent": fit_exponent([getattr(r, dim) for r in mine], [r.median_s for r in mine]),
                         "sizes": [getattr(r, dim) for r in mine]}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats: about a minute")
    parser.add_argument("--only", choices=sorted(CASES), action="append", help="run this case (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows, scaling fits and machine to FILE")
    args = parser.parse_args(argv)
    budget = 2.0 if args.quick else 15.0  # seconds of repeats per timed call
    started = time.perf_counter()
    rows = []
    for name in args.only or CASES:
        t0 = time.perf_counter()
        new = CASES[name](args.quick, budget)
        rows += new
        print(f"{name}: {len(new)} row(s) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    info = machine()
    fits = scaling(rows)
    print(f"tradesim benchmarks, {dt.date.today()}, {info['cpu']} ({info['cores']} cores), Python {info['python']}, "
          f"numpy {info['numpy']}{', quick' if args.quick else ''}\n")
    print(table(rows))
    if fits:
        print("\nscaling (least squares of log time on log size):")
        for case, fit in fits.items():
            print(f"  {case}: time ~ {fit['against']} ^ {fit['exponent']:.2f} at {fit['at']} "
                  f"({fit['against']} {min(fit['sizes'])} to {max(fit['sizes'])})")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"date": str(dt.date.today()), "machine": info, "quick": args.quick,
                       "rows": [r.to_dict() for r in rows], "scaling": fits}, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
