"""Benchmark harness: prints one table with each case's time and a reference measured in the same run.

    python -m benchmarks [--quick] [--only NAME]

Cases so far:
  load_demo       tradesim.load_baseline("demo-2024") from disk (target: under 1 s), against the
                  floor of reading the same CSV with pandas and nothing else.
  tariff_rates    TariffSchedule.rates on one date for 20,000 HS8 lines x 50 countries x 50 countries
                  with 15 measures, three exemption lists, replacement and groups (target: at most
                  0.5 s and under 1 GB), against the floor of writing the output tensor once.
  pe_hs6          tradesim.models.pe.solve for 5,000 products x 40 countries (8 million pairs,
                  domestic sales, finite supply elasticities; target: at most 2 s), against a plain
                  per-product loop calling scipy.optimize.root on the same equations (target: at
                  least 30 times slower than the batched solve; timed on a sample of products and
                  scaled to all of them).
  pe_draws        the same solve for 200 elasticity draws of the bundled demo-2024 baseline, against
                  a loop solving one draw at a time.
  ge_one_sector   tradesim.models.ge.solve, one sector, 200 countries, a border cut among 20 of
                  them (target: at most 20 ms), against scipy.optimize.root (hybr, numerical
                  Jacobian) on the same equations.
  ge_draws        the same model at 50 countries for 1,000 draws of theta, batched (target: at
                  most 2 s), against solving one draw at a time.
  ge_io           tradesim.models.ge.solve_sectors, 40 countries x 20 sectors with input-output
                  links and a tariff escalation (target: at most 2 s), against scipy.optimize.root
                  (hybr, numerical Jacobian) on the same equations.
  ensemble_numpy  tradesim.ensemble.run: 1,000 draws of sigma and eta for the bundled us-china-2025
                  scenario (PE, every solve of its monthly path; target: at most 30 s on 2 cores), against
                  one draw's path solved without batching; the table gives the time per draw against it.
                  With --quick, 200 draws.
  ensemble_dask   the same on a 2-worker dask.distributed LocalCluster (when installed).
  ge_gegravity    the USITC gegravity package (when installed) on a 100-country problem of the
                  same kind (baseline and counterfactual, omr_rescale=100), against tradesim on it;
                  the table also gives the largest gap in real GDP changes, which is gegravity's:
                  its counterfactual flows miss its outputs by about 1%.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
import tracemalloc
from importlib import resources


def _time(fn, repeats: int) -> tuple[float, float, float]:
    """Median and spread (min, max) of wall time in seconds over `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def _row(case: str, size: str, timing: tuple[float, float, float], peak_mb: float, reference: str, ref_s: float,
         target: str) -> dict:
    """One line of the table: the case's median time and spread, its memory, and the reference's time."""
    med, lo, hi = timing
    return {"case": case, "size": size, "median_s": med, "spread_s": f"{lo:.3f}-{hi:.3f}", "peak_mb": peak_mb,
            "reference": reference, "ref_s": ref_s, "ratio": med / ref_s, "target": target}


def _peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def case_load_demo(repeats: int) -> dict:
    import pandas as pd

    import tradesim
    from tradesim.data import load_baseline

    def load():
        return load_baseline.__wrapped__("demo-2024")  # bypass the cache: read from disk each time

    def floor():
        with resources.files("tradesim.data").joinpath("demo-2024.csv").open() as fh:
            return pd.read_csv(fh, dtype={"product": str})

    load()  # warm imports (pycountry tables) once, as a session would
    med, lo, hi = _time(load, repeats)
    ref, _, _ = _time(floor, repeats)
    b = tradesim.load_baseline("demo-2024")
    return _row("load_demo", f"{len(b.products)}x{len(b.countries)}x1", (med, lo, hi), _peak_mb(load),
                "pandas.read_csv of the file", ref, "< 1 s")


def _tariff_workload(n_lines: int = 20_000, n_countries: int = 50, seed: int = 0):
    """A synthetic schedule shaped like real tariff law, on HS8 lines drawn from the HS 2022 subheadings."""
    import numpy as np
    import pycountry

    from tradesim import Measure, ProductList, TariffSchedule
    from tradesim.codes import hs_subheadings

    rng = np.random.default_rng(seed)
    subs = hs_subheadings()
    lines = np.unique(np.char.add(subs[rng.integers(0, subs.size, 3 * n_lines)], rng.choice(["00", "10", "20", "50", "90"], 3 * n_lines)))
    lines = np.sort(rng.choice(lines, n_lines, replace=False))
    countries = ["USA", "CHN", "DEU"] + sorted({c.alpha_3 for c in pycountry.countries} - {"USA", "CHN", "DEU"})[: n_countries - 3]
    lists = [ProductList(f"exempt{k}", list(rng.choice(lines, 1000, replace=False)) + list(rng.choice(subs, 50))) for k in range(3)]
    chapters = sorted({c[:2] for c in subs})
    m = []
    for k, importer in enumerate(["USA"] * 8 + ["CHN"] * 4 + ["DEU"] * 3):
        exporters = None if k % 3 == 0 else list(rng.choice(countries[1:], 5, replace=False))
        products = None if k % 4 == 0 else list(rng.choice(chapters, 10, replace=False))
        m.append(Measure(f"m{k}", importer, float(rng.uniform(0.05, 1.25)), "2025-01-01", exporters=exporters,
                         products=products, exclude=[lists[k % 3].name] if k % 2 == 0 else [],
                         group="g" if k in (1, 2) else None, replaces=["g"] if k in (3, 9) and importer == "USA" else []))
    return TariffSchedule(m, lists), lines.tolist(), countries


def case_tariff_rates(repeats: int) -> dict:
    import numpy as np

    schedule, lines, countries = _tariff_workload()
    shape = (len(lines), len(countries), len(countries))

    def run():
        return schedule.rates("2025-06-01", lines, countries, countries)

    def floor():
        out = np.empty(shape)
        out.fill(0.1)
        return out

    run()
    med, lo, hi = _time(run, repeats)
    ref, _, _ = _time(floor, repeats)
    return _row("tariff_rates", f"{shape[0]}x{shape[1]}x1", (med, lo, hi), _peak_mb(run),
                "write the [k,i,j] output once", ref, "<= 0.5 s, < 1 GB")


def _pe_workload(n_products: int = 5000, n_countries: int = 40, seed: int = 0):
    """Sparse HS6-like flows with domestic sales, MFN-like tariffs and a US-China style escalation."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = n_countries
    off = ~np.eye(n, dtype=bool)
    flows = rng.lognormal(12, 2.5, (n_products, n, n)) * (rng.random((n_products, n, n)) < 0.6) * off
    flows[:, np.arange(n), np.arange(n)] = rng.lognormal(15, 1.5, (n_products, n))
    t0 = rng.uniform(0, 0.15, flows.shape) * off
    t1 = t0.copy()
    t1[:, 1, 0] += 1.45  # importer 0 on exporter 1
    t1[:, 0, 1] += 1.25  # and the reply
    sigma = rng.uniform(1.5, 8.0, (n_products, 1))
    eta = rng.uniform(0.3, 1.5, (n_products, 1))
    epsilon = rng.uniform(0.5, 5.0, (n_products, n))
    return flows, t0, t1, sigma, eta, epsilon


def _scipy_loop(flows, t0, t1, sigma, eta, epsilon):
    """The reference: one scipy.optimize.root call per product on log exporter prices."""
    import numpy as np
    from scipy.optimize import root

    out = np.ones(flows.shape[:2])
    for k in range(flows.shape[0]):  # the plain loop the batched solver replaces
        v, sg, et, ep = flows[k], sigma[k, 0], eta[k, 0], epsilon[k]
        share = v * (1 + t0[k])
        share = share / share.sum(axis=0)
        tau = (1 + t1[k]) / (1 + t0[k])
        sales = v.sum(axis=1)

        def residual(x):
            pb = np.exp(x)[:, None] * tau
            P = (share * pb ** (1 - sg)).sum(axis=0) ** (1 / (1 - sg))
            q = (pb / P) ** (-sg) * P ** (-et)
            return np.log((v * q).sum(axis=1) / sales) - ep * x

        sol = root(residual, np.zeros(len(sales)), method="hybr", tol=1e-12)
        out[k] = np.exp(sol.x)
    return out


def case_pe_hs6(repeats: int) -> dict:
    import numpy as np

    from tradesim.models.pe import solve

    data = _pe_workload()
    sample = 50 if repeats <= 3 else 200

    def run():
        return solve(*data)

    sol = run()
    med, lo, hi = _time(run, min(repeats, 5))
    sub = [a[:sample] for a in data]
    t = time.perf_counter()
    ref_prices = _scipy_loop(*sub)
    ref = (time.perf_counter() - t) * data[0].shape[0] / sample
    gap = float(np.abs(ref_prices - sol.exporter_price[:sample]).max())
    return _row("pe_hs6", f"{data[0].shape[0]}x{data[0].shape[1]}x1", (med, lo, hi), _peak_mb(run),
                f"scipy.optimize.root per product ({sample} timed, scaled; prices agree to {gap:.0e})", ref, "<= 2 s, ratio <= 1/30")


def case_pe_draws(repeats: int) -> dict:
    import numpy as np

    import tradesim
    from tradesim.models.pe import solve

    b = tradesim.load_baseline("demo-2024")
    schedule = tradesim.load_schedule("us-china-2025")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = schedule.rates("2025-01-01", b.products, b.countries, b.countries)
        t1 = schedule.rates("2025-04-15", b.products, b.countries, b.countries)
    rng = np.random.default_rng(0)
    draws = 200
    sigma = rng.lognormal(np.log(2.0), 0.3, (draws, 1, 1))
    eta = rng.lognormal(np.log(1.3), 0.3, (draws, 1, 1))
    epsilon = rng.lognormal(np.log(2.0), 0.5, (draws, 1, 1))

    def run():
        return solve(b.flows, t0, t1, sigma, eta, epsilon, domestic=False)

    def loop():
        return [solve(b.flows, t0, t1, sigma[d], eta[d], epsilon[d], domestic=False) for d in range(draws)]

    run()
    med, lo, hi = _time(run, min(repeats, 5))
    ref, _, _ = _time(loop, 1)
    return _row("pe_draws", f"{len(b.products)}x{len(b.countries)}x{draws}", (med, lo, hi), _peak_mb(run),
                "the same solve, one draw at a time", ref, "faster than the loop")


def _gravity_world(n: int, seed: int = 0):
    """Gravity flows among `n` countries (domestic sales included) and a border cut among the first tenth."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + 0.5
    border = 1 - np.eye(n)
    contig = (dist < 1.5) * border
    size = rng.lognormal(3, 1.5, n)
    flows = size[:, None] * (size * rng.uniform(0.9, 1.1, n))[None] * dist**-0.9 * np.exp(-2.0 * border + 0.5 * contig)
    union = np.zeros((n, n), dtype=bool)
    union[: n // 10, : n // 10] = True
    cut = union & (border > 0)  # the border effect vanishes inside a union of the first tenth
    return flows, dist, border, contig, cut


def _scipy_reference(system_type, economy, N):
    """scipy.optimize.root (hybr, numerical Jacobian) on the square system one Newton step uses."""
    import numpy as np
    from scipy.optimize import root

    system = system_type(economy)
    idx = np.array([0])
    keep = system.jacobian(np.zeros((1, N)), idx)[1][0]

    def residual(x):
        return system.residual(x[None], idx)[0][keep]

    return root(residual, np.zeros(N), method="hybr", tol=1e-12)


def case_ge_one_sector(repeats: int) -> dict:
    import numpy as np

    from tradesim.models import _hat, ge

    n = 200
    flows, _, _, _, cut = _gravity_world(n)
    d_hat = np.where(cut, np.exp(-2.0 / 4.0), 1.0)  # d_hat**-theta = exp(2.0) on the cut pairs

    def run():
        return ge.solve(flows, d_hat, theta=4.0)

    sol = run()
    med, lo, hi = _time(run, repeats)
    zeros = np.zeros((1, 1, n, n))
    economy = ge._economy(flows[None, None], zeros, zeros, d_hat[None, None], np.array([[4.0]]), np.ones((1, 1, n)),
                          None, "fixed", ge._Names(None, n))
    t = time.perf_counter()
    ref = _scipy_reference(_hat.Direct, economy, n)
    ref_s = time.perf_counter() - t
    gap = float(np.abs(np.exp(ref.x) - sol.wage).max())
    return _row("ge_one_sector", f"{n}x1", (med, lo, hi), _peak_mb(run),
                f"scipy.optimize.root hybr, numerical Jacobian (wages agree to {gap:.0e})", ref_s, "<= 0.02 s")


def case_ge_draws(repeats: int) -> dict:
    import numpy as np

    from tradesim.models import ge

    flows, _, _, _, cut = _gravity_world(50)
    theta = np.random.default_rng(1).lognormal(np.log(4.0), 0.3, 1000)
    d_hat = np.where(cut, 0.6, 1.0)

    def run():
        return ge.solve(flows, d_hat, theta=theta)

    run()
    med, lo, hi = _time(run, min(repeats, 5))
    ref, _, _ = _time(lambda: [ge.solve(flows, d_hat, theta=t) for t in theta], 1)
    return _row("ge_draws", "50x1x1000", (med, lo, hi), _peak_mb(run), "the same solve, one draw at a time", ref,
                "<= 2 s")


def _io_world(S: int = 20, n: int = 40, seed: int = 2):
    """Sector flows with domestic sales, input-output shares that keep final demand positive, and tariffs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    flows = rng.lognormal(0, 1.5, (S, n, n)) * (rng.random((S, n, n)) < 0.8)
    flows[:, np.arange(n), np.arange(n)] += 30 * rng.lognormal(0, 0.5, (S, n))
    spend, output = flows.sum(axis=1), flows.sum(axis=2)
    u = rng.uniform(0.3, 0.7, (S, n))
    phi = 0.9 * (spend.sum(axis=0) / (0.7 * output.sum(axis=0))).min()
    io = phi * (spend / spend.sum(axis=0))[:, None, :] * u[None]
    t0 = rng.uniform(0, 0.1, flows.shape) * (1 - np.eye(n))
    t1 = t0.copy()
    t1[:, 0, 1], t1[:, 1, 0] = 1.45, 1.25  # a US-China-style escalation between the first two
    theta = rng.uniform(2, 10, S)
    return flows, t0, t1, theta, 1 - io.sum(axis=0), io


def case_ge_io(repeats: int) -> dict:
    import numpy as np

    from tradesim.models import _hat, ge

    flows, t0, t1, theta, beta, io = _io_world()
    S, n = flows.shape[:2]

    def run():
        return ge.solve_sectors(flows, None, t0, t1, theta=theta, value_added=beta, io=io)

    sol = run()
    med, lo, hi = _time(run, min(repeats, 5))
    economy = ge._economy(flows[None], t0[None], t1[None], np.ones((1, S, n, n)), theta[None], beta[None],
                          io[None], "fixed", ge._Names(None, n))
    t = time.perf_counter()
    ref = _scipy_reference(_hat.Linked, economy, n * (1 + 2 * S))
    ref_s = time.perf_counter() - t
    gap = float(np.abs(np.exp(ref.x[:n]) - sol.wage).max())
    return _row("ge_io", f"{n}x{S}", (med, lo, hi), _peak_mb(run),
                f"scipy.optimize.root hybr, numerical Jacobian (wages agree to {gap:.0e})", ref_s, "<= 2 s")


def case_ge_gegravity(repeats: int) -> dict | None:
    import contextlib
    import io
    import warnings

    import numpy as np
    import pandas as pd

    try:
        import gegravity
    except ImportError:
        print("ge_gegravity: skipped, gegravity is not installed (pip install gegravity)", file=sys.stderr)
        return None
    from tradesim.models import ge

    n = 100
    flows, dist, border, contig, cut = _gravity_world(n)
    codes = [f"C{k:03d}" for k in range(n)]
    i, j = np.indices((n, n))
    data = pd.DataFrame({"exporter": np.array(codes)[i.ravel()], "importer": np.array(codes)[j.ravel()],
                         "year": "2006", "trade": flows.ravel(), "lndist": np.log(dist).ravel(),
                         "border": border.ravel(), "contig": contig.ravel()})
    data["Y"] = data.groupby("exporter")["trade"].transform("sum")
    data["E"] = data.groupby("importer")["trade"].transform("sum")
    coeffs = pd.DataFrame({"var": ["lndist", "border", "contig"], "coef": [-0.9, -2.0, 0.5]})

    def peer():
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            base = gegravity.BaselineData(data, trade_var_name="trade", expend_var_name="E", output_var_name="Y")
            model = gegravity.OneSectorGE(
                base, year="2006", reference_importer=codes[-1], expend_var_name="E", output_var_name="Y", sigma=5,
                cost_variables=["lndist", "border", "contig"],
                cost_coeff_values=gegravity.CostCoeffs(coeffs, identifier_col="var", coeff_col="coef"), quiet=True)
            model.build_baseline(omr_rescale=100)
            experiment = model.baseline_data.copy()
            experiment.loc[cut.ravel(), "border"] = 0
            model.define_experiment(experiment)
            model.simulate()
        return model

    d_hat = np.where(cut, np.exp(-2.0 / 4.0), 1.0)

    def run():
        return ge.solve(flows, d_hat, theta=4.0, deficits="share", numeraire=("price_index", n - 1))

    sol = run()
    med, lo, hi = _time(run, repeats)
    t = time.perf_counter()
    model = peer()
    ref_s = time.perf_counter() - t
    theirs = model.country_results.loc[codes]
    gap = float(np.abs(100 * (sol.welfare - 1) - theirs["GDP change (percent)"].to_numpy()).max())
    after = model.bilateral_trade_results["experiment trade"].unstack("importer").loc[codes, codes].to_numpy()
    output = flows.sum(axis=1) * (1 + theirs["output change (percent)"].to_numpy() / 100)
    miss = float(np.abs(after.sum(axis=1) / output - 1).max())
    return _row("ge_gegravity", f"{n}x1", (med, lo, hi), _peak_mb(run),
                f"gegravity OneSectorGE, omr_rescale=100 (real GDP changes differ by up to {gap:.2g} pp; its flows "
                f"miss its outputs by {100 * miss:.2g}%, ours by {100 * sol.max_residual:.0e}%)", ref_s,
                "faster than gegravity")


def _ensemble_case(name: str, repeats: int, quick: bool, dask: bool) -> dict | None:
    """1,000 draws of us-china-2025 (PE, bundled baseline), against one draw's path without batching."""
    import warnings

    import tradesim
    from tradesim import ensemble
    from tradesim.simulate import _plan, _run_plan

    draws = 200 if quick else 1000
    scenario = tradesim.load_scenario("us-china-2025")
    b = scenario.load_baseline()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = _plan(b, scenario, "pe", None, {"domestic": False})
        point = {k: scenario.elasticities.values_for(k, b.products) for k in plan.spec.parameters}

        def single():  # one draw through every solve of the path, on the point engine
            return _run_plan(plan, point, by_pair=True)

        def runner(client):
            def run():
                return ensemble.run(b, scenario, draws=draws, seed=0, engine="dask" if dask else "numpy",
                                    client=client, domestic=False)
            return run

        single()
        ref, _, _ = _time(single, 5)
        if not dask:
            run = runner(None)
            ensemble.run(b, scenario, draws=8, seed=0, domestic=False)  # imports and caches outside the timing
            timing = _time(run, 1 if quick else min(repeats, 3))
            peak = _peak_mb(run) if not quick else float("nan")
            where = "numpy engine"
        else:
            try:
                import distributed
            except ImportError:
                print(f"{name}: skipped (dask.distributed is not installed)", file=sys.stderr)
                return None
            from tradesim.ensemble import _local_cluster

            with _local_cluster(distributed, n_workers=2) as cluster, distributed.Client(cluster) as client:
                run = runner(client)
                ensemble.run(b, scenario, draws=8, seed=0, engine="dask", client=client, domestic=False)
                timing = _time(run, 1 if quick else min(repeats, 3))
            peak = float("nan")  # in the worker processes, not here
            where = "2-worker LocalCluster (started before timing)"
    per_draw = timing[0] / draws
    target = "<= 30 s" if not dask else "below the numpy engine"
    return _row(name, f"{len(b.products)}x{len(b.countries)}x{draws}", timing, peak,
                f"one draw's {len(plan.keys)} solves unbatched; {where}: {1000 * per_draw:.1f} ms per draw "
                f"= {per_draw / ref:.2g} x the unbatched draw", ref, target)


def case_ensemble_numpy(repeats: int, quick: bool = False) -> dict | None:
    return _ensemble_case("ensemble_numpy", repeats, quick, dask=False)


def case_ensemble_dask(repeats: int, quick: bool = False) -> dict | None:
    return _ensemble_case("ensemble_dask", repeats, quick, dask=True)


CASES = {"load_demo": case_load_demo, "tariff_rates": case_tariff_rates, "pe_hs6": case_pe_hs6,
         "pe_draws": case_pe_draws, "ge_one_sector": case_ge_one_sector, "ge_draws": case_ge_draws,
         "ge_io": case_ge_io, "ge_gegravity": case_ge_gegravity, "ensemble_numpy": case_ensemble_numpy,
         "ensemble_dask": case_ensemble_dask}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", choices=sorted(CASES), help="run one case")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    rows = []
    for name in [args.only] if args.only else CASES:
        case = CASES[name]
        row = case(repeats, quick=args.quick) if "quick" in inspect.signature(case).parameters else case(repeats)
        if row is not None:
            rows.append(row)
    header = f"{'case':<14} {'size':<12} {'median s':>9} {'spread s':>13} {'peak MB':>8} {'ref s':>8} {'ratio':>6}  target / reference"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['case']:<14} {r['size']:<12} {r['median_s']:>9.3f} {r['spread_s']:>13} {r['peak_mb']:>8.1f} "
            f"{r['ref_s']:>8.3f} {r['ratio']:>6.3g}  {r['target']} / {r['reference']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
