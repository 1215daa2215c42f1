"""The benchmark cases. Each returns rows of `benchmarks.harness.Row`, timed against a reference run here.

Every case takes ``quick`` (smaller sizes, for a run of about a minute) and ``budget`` (seconds a case
may spend on repeats of its timed call).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import time
import warnings

import numpy as np

from .harness import Row, peak_mb, stream_floor, timed
from . import workloads
from .references import scipy_pe

__all__ = ["CASES"]

REPEATS = 7  # most repeats of a timed call; fewer when a call is slow (see `_timing`)


def _timing(fn, budget: float) -> tuple[tuple[float, float, float], int]:
    """Time `fn` with as many repeats as fit in `budget` seconds after a warm call.

    At most `REPEATS`; at least three in a full run (so the spread means something) and one
    in a quick run (a budget under 5 s).
    """
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    least = 1 if budget < 5 else 3
    repeats = int(max(least, min(REPEATS, budget // max(first, 1e-9))))
    return timed(fn, repeats, warm=False), repeats


def _quiet():
    """Silence tradesim's notes about data (they are not what is measured)."""
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


# --------------------------------------------------------------------------- data and tariffs


def load_demo(quick: bool, budget: float) -> list[Row]:
    """tradesim.load_baseline("demo-2024") from disk, against pandas reading the same CSV."""
    from importlib import resources

    import pandas as pd

    from tradesim.data import load_baseline

    def load():
        return load_baseline.__wrapped__("demo-2024")  # bypass the cache: read from disk each time

    def floor():
        with resources.files("tradesim.data").joinpath("demo-2024.csv").open() as fh:
            return pd.read_csv(fh, dtype={"product": str})

    def read_bytes():
        return resources.files("tradesim.data").joinpath("demo-2024.csv").read_bytes()

    b = load()
    timing, repeats = _timing(load, budget)
    ref = timed(floor, repeats)[0]
    raw = timed(read_bytes, 5)[1]  # the floor here is reading the file's bytes
    K, n = len(b.products), len(b.countries)
    return [Row("load_demo", K, n, 1, *timing, repeats, peak_mb(load), K * n * n,
                "pandas.read_csv of the same file (floor: reading its bytes)", ref, raw, "< 1 s")]


def load_us_imports(quick: bool, budget: float) -> list[Row]:
    """tradesim.load_baseline("us-imports-2024") (HTS8 lines x 51 exporters) from disk, against pandas reading the
    same gzip CSV (issue 19: under 1 s and 200 MB)."""
    from importlib import resources

    import pandas as pd

    from tradesim.data import load_baseline

    def load():
        return load_baseline.__wrapped__("us-imports-2024")  # bypass the cache: read from disk each time

    def floor():
        with resources.files("tradesim.data").joinpath("us-imports-2024.csv.gz").open("rb") as fh:
            return pd.read_csv(fh, dtype={"product": str}, compression="gzip")

    def read_bytes():
        return resources.files("tradesim.data").joinpath("us-imports-2024.csv.gz").read_bytes()

    b = load()
    timing, repeats = _timing(load, budget)
    ref = timed(floor, repeats)[0]
    raw = timed(read_bytes, 5)[1]
    K, n = len(b.products), len(b.exporters)
    return [Row("load_us_imports", K, n, 1, *timing, repeats, peak_mb(load), int((b.flows > 0).sum()),
                "pandas.read_csv of the same file (floor: reading its bytes)", ref, raw, "< 1 s, < 200 MB")]


def load_schedule(quick: bool, budget: float) -> list[Row]:
    """TariffSchedule.from_file on the bundled tariffs-2025 (5 TOML files naming 82 CSV files; ~350k rates and
    shares by exporter and HS line, every entry checked), against reading the same inputs: tomllib on the TOML files
    and pandas.read_csv of each CSV file once (the floor: reading their bytes). Target: <= 0.5 s."""
    import tomllib
    from pathlib import Path

    import pandas as pd

    from tradesim.law.bundled import schedule_file
    from tradesim.law.schedule import TariffSchedule

    path = schedule_file("tariffs-2025")

    def inputs(toml: Path, tomls: list, csvs: list) -> tuple[list, list]:
        data = tomllib.loads(toml.read_text(encoding="utf-8"))
        tomls.append(toml)
        for name in data.get("schedule", {}).get("include", []):
            inputs(toml.parent / name, tomls, csvs)
        for table in data.get("product_lists", []) + data.get("measures", []):
            csvs += [toml.parent / v for k, v in table.items() if k == "file" or k.endswith("_file")]
        return tomls, list(dict.fromkeys(csvs))

    tomls, csvs = inputs(path, [], [])

    def load():
        return TariffSchedule.from_file(path)

    def read():
        return ([tomllib.loads(p.read_text(encoding="utf-8")) for p in tomls],
                [pd.read_csv(p, dtype=str, skipinitialspace=True, encoding="utf-8-sig") for p in csvs])

    def read_bytes():
        return [p.read_bytes() for p in tomls + csvs]

    s = load()
    timing, repeats = _timing(load, budget)
    ref = timed(read, repeats)[0]
    raw = timed(read_bytes, 5)[1]
    lines = sum(len(getattr(m, f) or ()) for m in s.measures
                for f in ("product_rates", "line_rates", "value_shares", "exporter_rates", "qualifying",
                          "qualifying_lines"))
    lines += sum(len(p.codes) for p in s.product_lists.values())
    return [Row("load_schedule", lines, len(s.measures), 1, *timing, repeats, peak_mb(load), lines,
                f"tomllib + pandas.read_csv of its {len(tomls)} TOML and {len(csvs)} CSV files (floor: reading "
                "their bytes); size: table entries and list codes x measures", ref, raw, "<= 0.5 s")]


def rates_by_partner(quick: bool, budget: float) -> list[Row]:
    """TariffSchedule.rate_table: tariffs-2025's trade-weighted US rate by partner at every date its law changes in
    2025-26, on us-imports-2024's lines (`tradesim rates`), against the same table at one date (issue 20: <= 2 s)."""
    import tradesim

    base = tradesim.load_baseline("us-imports-2024")
    law = tradesim.load_schedule("tariffs-2025")
    with _quiet():
        law.rate_table(base, "USA", "2025-01-01", "2025-01-01")  # compile the law once, outside the timings

        end = "2025-03-31" if quick else "2026-12-31"  # quick: the first quarter's changes only

        def series():
            return law.rate_table(base, "USA", "2025-01-01", end)

        def one_date():
            return law.rate_table(base, "USA", "2025-04-20", "2025-04-20")

        table = series()
        timing, repeats = _timing(series, budget)
        ref = timed(one_date, repeats)[0]
        mb = peak_mb(series)
    K, n = len(base.products), len(base.exporters)
    return [Row("rates_by_partner", K, n, len(table), *timing, repeats, mb, K * n * len(table),
                f"the same table at one date ({len(table)} dates in the series)", ref,
                stream_floor(base.flows), "<= 2 s, <= 1 GB")]


def tariff_rates(quick: bool, budget: float) -> list[Row]:
    """TariffSchedule.rates on one date: HS8 lines x countries x countries with 15 measures."""
    lines_n, countries_n = (2_000, 20) if quick else (20_000, 50)
    schedule, lines, countries = workloads.tariff_schedule(lines_n, countries_n)
    shape = (len(lines), len(countries), len(countries))

    def run():
        return schedule.rates("2025-06-01", lines, countries, countries)

    def write_once():
        out = np.empty(shape)
        out.fill(0.1)
        return out

    with _quiet():
        timing, repeats = _timing(run, budget)
        peak = peak_mb(run)
    ref = timed(write_once, repeats)[0]
    return [Row("tariff_rates", shape[0], shape[1], 1, *timing, repeats, peak, int(np.prod(shape)),
                "write the [k, i, j] output once (nothing to read: the floor is the write)", ref, ref,
                "" if quick else "<= 0.5 s, < 1 GB")]


# --------------------------------------------------------------------------- partial equilibrium


def _pe_rows(case: str, sizes, quick: bool, budget: float, target=lambda K, n: "") -> list[Row]:
    from tradesim.models.pe import solve

    rows = []
    scipy_pe(*[a[:1] for a in workloads.pe_problem(2, 5)])  # scipy's first call, outside the timing
    for K, n in sizes:
        data = workloads.pe_problem(K, n)

        def run():
            return solve(*data)

        sol = run()
        timing, repeats = _timing(run, budget)
        sample = min(K, 20 if quick else 100)
        t0 = time.perf_counter()
        prices = scipy_pe(*[a[:sample] for a in data])[0]
        ref = (time.perf_counter() - t0) * K / sample
        gap = float(np.abs(prices - sol.exporter_price[:sample]).max())
        rows.append(Row(case, K, n, 1, *timing, repeats, peak_mb(run), K * n * (n - 1),
                        f"scipy.optimize.root per product ({sample} timed, scaled to {K}; prices agree to {gap:.0e})",
                        ref, stream_floor(*data), target(K, n)))
    return rows


def pe_products(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.pe.solve as products grow, at a fixed number of countries (up to 5,000 x 40)."""
    sizes = [(250, 20), (500, 20), (1000, 20)] if quick else [(625, 40), (1250, 40), (2500, 40), (5000, 40)]
    return _pe_rows("pe_products", sizes, quick, budget,
                    lambda K, n: ">= 30x scipy, <= 10x floor" if (K, n) == (5000, 40) else "")


def pe_countries(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.pe.solve as countries grow, at a fixed number of products."""
    sizes = [(100, 10), (100, 20), (100, 40)] if quick else [(500, 10), (500, 20), (500, 40), (500, 80)]
    return _pe_rows("pe_countries", sizes, quick, budget)


def _us_china_rates():
    import tradesim

    b = tradesim.load_baseline("demo-2024")
    schedule = tradesim.load_schedule("us-china-2025")
    with _quiet():
        t0 = schedule.rates("2025-01-01", b.products, b.countries, b.countries)
        t1 = schedule.rates("2025-04-15", b.products, b.countries, b.countries)
    return b, t0, t1


def pe_draws(quick: bool, budget: float) -> list[Row]:
    """The PE solve of the April 2025 peak on the bundled baseline for many elasticity draws at once."""
    from tradesim.models.pe import solve

    b, t0, t1 = _us_china_rates()
    draws = 50 if quick else 200
    rng = np.random.default_rng(0)
    sigma = rng.lognormal(np.log(2.75), 0.12, (draws, 1, 1))  # the default prior's (China's halts need sigma > 1)
    eta = rng.lognormal(np.log(1.3), 0.3, (draws, 1, 1))
    epsilon = rng.lognormal(np.log(2.0), 0.5, (draws, 1, 1))

    def run():
        return solve(b.flows, t0, t1, sigma, eta, epsilon, domestic=False)

    def loop():
        return [solve(b.flows, t0, t1, sigma[d], eta[d], epsilon[d], domestic=False) for d in range(draws)]

    timing, repeats = _timing(run, budget)
    K, n = len(b.products), len(b.countries)
    return [Row("pe_draws", K, n, draws, *timing, repeats, peak_mb(run), K * n * (n - 1) * draws,
                "the same solve, one draw at a time", timed(loop, 1, warm=False)[0],
                stream_floor(b.flows, t0, t1, sigma, eta, epsilon), "faster than the loop")]


# --------------------------------------------------------------------------- general equilibrium


def _scipy_ge(system_type, economy, N):
    """scipy.optimize.root (hybr, numerical Jacobian) on the square system one Newton step uses."""
    from scipy.optimize import root

    system = system_type(economy)
    idx = np.array([0])
    keep = system.jacobian(np.zeros((1, N)), idx)[1][0]

    def residual(x):
        return system.residual(x[None], idx)[0][keep]

    return root(residual, np.zeros(N), method="hybr", tol=1e-12)


GEGRAVITY_TARGET = 5_000  # issue 22: one sector at 200 countries this many times faster than gegravity at 100


def ge_countries(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.ge.solve, one sector, a border cut inside a union, from 10 to 500 countries.

    Each size against scipy.optimize.root on the same equations (the same residual code, a
    numerical Jacobian). The 200-country row (100 in a quick run) has gegravity at 100 countries
    (30) as its reference where gegravity is installed, so that ``x ref`` is the ratio the target
    names; scipy's time at that size is then in its text.
    """
    import scipy.optimize  # noqa: F401  (imported before the reference is timed)

    from tradesim.models import _hat, ge

    rows = []
    head, peer_n = (100, 30) if quick else (200, 100)
    for n in [10, 50, 100] if quick else [10, 50, 100, 200, 500]:
        flows, _, _, _, cut = workloads.gravity_world(n)
        d_hat = np.where(cut, np.exp(-2.0 / 4.0), 1.0)  # d_hat ** -theta = exp(2) on the cut pairs

        def run():
            return ge.solve(flows, d_hat, theta=4.0)

        sol = run()
        timing, repeats = _timing(run, budget)
        zeros = np.zeros((1, 1, 1, 1))
        economy = ge._economy(flows[None, None], zeros, zeros, d_hat[None, None], np.array([[4.0]]),
                              np.ones((1, 1, n)), None, "fixed", ge._Names(None, n))
        t0 = time.perf_counter()
        ref = _scipy_ge(_hat.OneSector, economy, n)
        ref_s = time.perf_counter() - t0
        gap = float(np.abs(np.exp(ref.x) - sol.wage).max())
        text = (f"scipy.optimize.root hybr on the same equations, numerical Jacobian (wages agree to {gap:.0e}; "
                f"speed-up {ref_s / timing[0]:.3g}x)")
        target = ""
        if n == head:
            peer = _gegravity(peer_n)
            if peer is None:
                text += f'; gegravity at {peer_n} countries: not installed (pip install ".[peers]")'
            else:
                text = (f"gegravity OneSectorGE at {peer_n} countries on the same kind of world and border cut "
                        f"(omr_rescale=100), timed once in this run: speed-up {peer[0] / timing[0]:,.0f}x; "
                        f"{text[:-1]}, {ref_s:.3g} s at {n} countries)")
                ref_s = peer[0]
            if not quick:
                target = (f"<= 5 ms, >= {GEGRAVITY_TARGET:,}x gegravity at {peer_n} "
                          f"(x ref <= {1 / GEGRAVITY_TARGET:.1g})")
        rows.append(Row("ge_countries", 1, n, 1, *timing, repeats, peak_mb(run), n * n, text, ref_s,
                        stream_floor(flows, d_hat), target))
    return rows


def ge_io(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.ge.solve_sectors with input-output links and a tariff escalation."""
    from tradesim.models import _hat, ge

    S, n = (10, 20) if quick else (20, 40)
    flows, t0, t1, theta, beta, io_shares = workloads.io_world(S, n)

    def run():
        return ge.solve_sectors(flows, None, t0, t1, theta=theta, value_added=beta, io=io_shares)

    sol = run()
    timing, repeats = _timing(run, budget)
    economy = ge._economy(flows[None], t0[None], t1[None], np.ones((1, S, n, n)), theta[None], beta[None],
                          io_shares[None], "fixed", ge._Names(None, n))
    start = time.perf_counter()
    ref = _scipy_ge(_hat.Linked, economy, n * (1 + 2 * S))
    ref_s = time.perf_counter() - start
    gap = float(np.abs(np.exp(ref.x[:n]) - sol.wage).max())
    return [Row("ge_io", S, n, 1, *timing, repeats, peak_mb(run), S * n * n,
                f"scipy.optimize.root hybr, numerical Jacobian (wages agree to {gap:.0e})", ref_s,
                stream_floor(flows, t0, t1, io_shares), "" if quick else "<= 2 s")]


def ge_draws(quick: bool, budget: float) -> list[Row]:
    """One-sector GE at 50 countries for many draws of theta at once."""
    from tradesim.models import ge

    draws = 200 if quick else 1000
    flows, _, _, _, cut = workloads.gravity_world(50)
    theta = np.random.default_rng(1).lognormal(np.log(4.0), 0.3, draws)
    d_hat = np.where(cut, 0.6, 1.0)

    def run():
        return ge.solve(flows, d_hat, theta=theta)

    timing, repeats = _timing(run, budget)
    sample = 50 if quick else 200
    t0 = time.perf_counter()
    for t in theta[:sample]:  # the loop the batch replaces, timed on a sample and scaled
        ge.solve(flows, d_hat, theta=t)
    ref = (time.perf_counter() - t0) * draws / sample
    return [Row("ge_draws", 1, 50, draws, *timing, repeats, peak_mb(run), 50 * 50 * draws,
                f"the same solve one draw at a time ({sample} timed, scaled)", ref, stream_floor(flows, d_hat, theta),
                "" if quick else "<= 2 s")]


@functools.lru_cache(maxsize=None)
def _gegravity(n: int):
    """gegravity's OneSectorGE on `workloads.gravity_world(n)` with the union's border removed.

    Returns ``(seconds, model)``, timed once per run and shared by the cases that compare with it,
    or None when gegravity is not installed.
    """
    try:
        import gegravity
    except ImportError:
        return None
    import pandas as pd

    flows, dist, border, contig, cut = workloads.gravity_world(n)
    codes = [f"C{k:03d}" for k in range(n)]
    i, j = np.indices((n, n))
    data = pd.DataFrame({"exporter": np.array(codes)[i.ravel()], "importer": np.array(codes)[j.ravel()],
                         "year": "2006", "trade": flows.ravel(), "lndist": np.log(dist).ravel(),
                         "border": border.ravel(), "contig": contig.ravel()})
    data["Y"] = data.groupby("exporter")["trade"].transform("sum")
    data["E"] = data.groupby("importer")["trade"].transform("sum")
    coeffs = pd.DataFrame({"var": ["lndist", "border", "contig"], "coef": [-0.9, -2.0, 0.5]})
    t0 = time.perf_counter()
    with _quiet(), contextlib.redirect_stdout(io.StringIO()):
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
    return time.perf_counter() - t0, model


def ge_gegravity(quick: bool, budget: float) -> list[Row]:
    """The USITC gegravity package on the same problem as tradesim (omr_rescale=100), when installed."""
    from tradesim.models import ge

    n = 30 if quick else 100
    flows, _, _, _, cut = workloads.gravity_world(n)
    d_hat = np.where(cut, np.exp(-2.0 / 4.0), 1.0)

    def run():
        return ge.solve(flows, d_hat, theta=4.0, deficits="share", numeraire=("price_index", n - 1))

    sol = run()
    timing, repeats = _timing(run, budget)
    peak, floor = peak_mb(run), stream_floor(flows, d_hat)
    peer = _gegravity(n)
    if peer is None:
        return [Row("ge_gegravity", 1, n, 1, *timing, repeats, peak, n * n,
                    'gegravity is not installed (pip install ".[peers]")', None, floor)]
    ref_s, model = peer
    codes = [f"C{k:03d}" for k in range(n)]
    theirs = model.country_results.loc[codes]
    gap = float(np.abs(100 * (sol.welfare - 1) - theirs["GDP change (percent)"].to_numpy()).max())
    after = model.bilateral_trade_results["experiment trade"].unstack("importer").loc[codes, codes].to_numpy()
    output = flows.sum(axis=1) * (1 + theirs["output change (percent)"].to_numpy() / 100)
    miss = float(np.abs(after.sum(axis=1) / output - 1).max())
    return [Row("ge_gegravity", 1, n, 1, *timing, repeats, peak, n * n,
                f"gegravity OneSectorGE, omr_rescale=100 (real GDP changes differ by up to {gap:.2g} pp; its flows "
                f"miss its outputs by {100 * miss:.2g}%, ours by {100 * sol.max_residual:.0e}%)", ref_s, floor,
                "faster than gegravity")]


# --------------------------------------------------------------------------- scenarios and ensembles


def _straightforward(run):
    """`run` with every regime of a path solved in full (no market problems): the way before issue 22."""
    import importlib
    from unittest import mock

    simulate = importlib.import_module("tradesim.simulate")
    with mock.patch.object(simulate, "independent_markets", lambda plan, params: False):
        return run()


def _first_months(scenario, quick: bool, part: int = 8):
    """`scenario` as it is, or in a quick run its first `part`-th (an eighth: the first quarter of a two-year path)."""
    if not quick:
        return scenario
    return dataclasses.replace(scenario, end=scenario.start + (scenario.end - scenario.start) / part)


def _first_run(load, run_on, repeats: int) -> float:
    """Median seconds of a first run, ``run_on(load())``: nothing kept (`tradesim.kept.forget`), the scenario read
    from its file again before the timing (its law compiled afresh), the data already read."""
    from tradesim import kept

    loaded = [load() for _ in range(repeats + 1)]  # and one for the untimed call

    def first():
        kept.forget()
        return run_on(loaded.pop())

    return timed(first, repeats)[0]


def scenario_path(quick: bool, budget: float) -> list[Row]:
    """tradesim.simulate on the bundled us-china-2025 scenario: its tariff path and every solve of its months
    (issue 22: <= 0.2 s; its first quarter in a quick run), against one PE solve of its peak; the straightforward
    path (every regime solved in full) is timed too."""
    import tradesim
    from tradesim.models.pe import solve

    def load():
        return _first_months(tradesim.load_scenario("us-china-2025"), quick)

    scenario = load()
    b = scenario.load_baseline()

    def run(on=scenario):
        with _quiet():
            return tradesim.simulate(b, on, domestic=False)

    loaded = []  # the scenario read from its file again, before the timings: new measures of the same content

    def again():  # a scenario loaded again: its law found by its content (the content read from its new objects)
        return run(loaded.pop())

    result = run()
    timing, repeats = _timing(run, budget)
    _, t0, t1 = _us_china_rates()
    e = tradesim.Elasticities.defaults()
    ref = timed(lambda: solve(b.flows, t0, t1, e.sigma, e.eta, e.epsilon, domestic=False), max(repeats, 3))[0]
    full = timed(lambda: _straightforward(run), 1 if quick else 3, warm=False)[0]
    again_repeats = 1 if quick else max(repeats, 3)
    cold = _first_run(load, run, again_repeats)
    loaded += [load() for _ in range(again_repeats + 1)]
    reloaded = timed(again, again_repeats)[0]
    K, n, T = len(b.products), len(b.countries), len(result.dates)
    return [Row("scenario_path", K, n, 1, *timing, repeats, peak_mb(run), K * n * (n - 1) * T,
                f"one PE solve of the April 2025 peak (the path has {T} months); timed: repeats of the run, whose "
                f"plan is kept from the last run; a first run, compiling its law: {cold:.3g} s; the scenario loaded "
                f"again from its file (its law kept by content): {reloaded:.3g} s; every regime solved in "
                f"full: {full:.3g} s (speed-up {full / timing[0]:.3g}x)", ref,
                stream_floor(b.flows, t0, t1), "" if quick else "<= 0.2 s")]


def scenario_tariffs(quick: bool, budget: float) -> list[Row]:
    """tradesim.simulate on the bundled tariffs-2025 scenario over us-imports-2024 (every HTS line, 24 months, or
    the first quarter in a quick run; issue 22: <= 3 s and <= 1 GB), against the same path with every regime solved
    in full, timed once."""
    import tradesim

    def load():
        return _first_months(tradesim.load_scenario("tariffs-2025"), quick)

    scenario = load()
    b = scenario.load_baseline()

    def run(on=scenario):
        with _quiet():
            return tradesim.simulate(b, on)

    result = run()
    timing, repeats = _timing(run, min(budget, 10.0))
    peak = peak_mb(run)
    cold = _first_run(load, run, 1 if quick else 2)
    ref = timed(lambda: _straightforward(run), 1, warm=False)[0]
    K, n, T = len(b.products), len(b.exporters), len(result.dates)
    return [Row("scenario_tariffs", K, n, 1, *timing, repeats, peak, int((b.flows > 0).sum()) * T,
                f"the same path with every regime solved in full ({T} months; speed-up {ref / timing[0]:.3g}x); "
                f"timed: repeats of the run, whose plan is kept from the last run; a first run, "
                f"compiling its law: {cold:.3g} s", ref, stream_floor(b.flows), "" if quick else "<= 3 s, <= 1 GB")]


def scenario_ge_path(quick: bool, budget: float) -> list[Row]:
    """tradesim.simulate on us-china-2025 with general equilibrium (demo-2024 with its fine values, which cut 98
    chapters into about 3,800 parts; 24 months, or the first month in a quick run), against its solves alone:
    every regime's GE solve of the plan, the work no path can skip. The rest is the path's (partial adjustment,
    front-loading, parts back to products); its peak memory is the solves' outputs plus chunks."""
    import tradesim
    from tradesim.scenario.plan import compile_plan
    from tradesim.simulate import parameters_for

    scenario = _first_months(tradesim.load_scenario("us-china-2025"), quick, part=24)
    b = scenario.load_baseline()

    def run():
        with _quiet():
            return tradesim.simulate(b, scenario, model="ge")

    with _quiet():
        plan = compile_plan(b, scenario, "ge", None, {})
    params = plan.expand_parameters(parameters_for(plan.spec, scenario.elasticities, b))  # by part, as run_plan

    def solves():
        return [plan.spec.solve(plan.flows, plan.t0, plan.regime_rates(r), **params) for r, _ in plan.keys]

    result = run()
    timing, repeats = _timing(run, min(budget, 20.0))
    peak = peak_mb(run)
    ref = timed(solves, 1 if quick else 2, warm=False)[0]
    K, n, T = len(b.products), len(b.countries), len(result.dates)
    return [Row("scenario_ge_path", K, n, 1, *timing, repeats, peak, K * n * n * T,
                f"its {len(plan.keys)} GE solves alone ({plan.flows.shape[0]:,} parts x {n} x {n}; {T} months; "
                f"the path {timing[0] / ref:.2g}x its solves)", ref, stream_floor(plan.flows), "")]


def _ensemble_rows(case: str, quick: bool, budget: float, dask: bool) -> list[Row]:
    """Draws of us-china-2025 (PE, bundled baseline), against one draw's path alone."""
    import tradesim
    from tradesim import ensemble
    from tradesim.scenario.plan import compile_plan as _plan
    from tradesim.simulate import run_plan as _run_plan

    draws = 20 if quick else 1000
    scenario = tradesim.load_scenario("us-china-2025")
    b = scenario.load_baseline()
    with _quiet():
        plan = _plan(b, scenario, "pe", None, {"domestic": False})
        point = {k: scenario.elasticities.values_for(k, b.products) for k in plan.spec.parameter_names}
        ref = timed(lambda: _run_plan(plan, point, by_pair=True), 3)[0]
        K, n = len(b.products), len(b.countries)
        floor = stream_floor(b.flows, plan.split.rates)  # tariffs on the cells the law reaches, as the path reads
        pairs = K * n * (n - 1) * draws

        def runner(client=None):
            return lambda: ensemble.run(b, scenario, draws=draws, seed=0, engine="dask" if dask else "numpy",
                                        client=client, domestic=False)

        if not dask:
            run = runner()
            timing, repeats = _timing(run, budget)
            peak, where = peak_mb(run), "numpy engine"
        else:
            try:
                import distributed
            except ImportError:
                return [Row(case, K, n, draws, np.nan, np.nan, np.nan, 0, np.nan, pairs,
                            'dask.distributed is not installed (pip install ".[dask]")', ref, floor)]
            from tradesim.data.cluster import local_cluster

            with local_cluster(distributed, n_workers=2) as cluster, distributed.Client(cluster) as client:
                timing, repeats = _timing(runner(client), budget)
            peak, where = np.nan, "2-worker LocalCluster, started before the timing"
    per_draw = timing[0] / draws
    return [Row(case, K, n, draws, *timing, repeats, peak, pairs,
                f"one draw's path alone (its {len(plan.keys)} regimes' markets in closed form); {where}: "
                f"{1000 * per_draw:.3g} ms per draw, {per_draw / ref:.2g} of the lone draw", ref, floor,
                "" if quick else ("<= 8 s" if not dask else "below the numpy engine"))]


def ensemble_numpy(quick: bool, budget: float) -> list[Row]:
    """tradesim.ensemble.run, numpy engine: draws of sigma and eta over the us-china-2025 path."""
    return _ensemble_rows("ensemble_numpy", quick, budget, dask=False)


def ensemble_dask(quick: bool, budget: float) -> list[Row]:
    """The same on a 2-worker dask.distributed LocalCluster."""
    return _ensemble_rows("ensemble_dask", quick, budget, dask=True)


# --------------------------------------------------------------------------- the world at HS6 (issue 22)


@functools.lru_cache(maxsize=1)  # both rows solve the same world: make it once (about 7 s at full size)
def _baci_world(n_products: int, n_countries: int, n_flows: int, seed: int = 0):
    """A BACI-shaped world on the cells that trade: flows (a SparseTensor, USD), MFN-like tariffs on the cells,
    one tariff change (+25 points by the second-largest exporter, as importer, on the largest one's goods) and
    elasticities by product (sigma, eta) and by product and exporter (epsilon). No domestic sales, as in BACI."""
    from tradesim.data.layout import Cells, SparseTensor

    rng = np.random.default_rng(seed)
    n = n_countries
    size, share = rng.lognormal(0.0, 1.0, n), rng.lognormal(0.0, 1.0, n_products)
    pk, pi = np.cumsum(np.sqrt(share)), np.cumsum(np.sqrt(size))  # gravity-like odds of a cell trading
    flat = np.empty(0, np.int64)
    while flat.size < n_flows:
        m = int(1.5 * (n_flows - flat.size)) + 1000
        k, i, j = (np.searchsorted(c, rng.random(m) * c[-1]) for c in (pk, pi, pi))
        flat = np.sort(np.concatenate([flat, ((k * n + i) * n + j)[i != j]]))
        flat = flat[np.concatenate([[True], np.diff(flat) != 0])]  # distinct cells (np.unique is slower here)
    cells = Cells((n_products, n, n), np.sort(rng.permutation(flat)[:n_flows]))
    value = 1e6 * share[cells.product] * size[cells.exporter] * size[cells.importer] * rng.lognormal(0, 1.5, n_flows)
    t0 = np.where(rng.random(n_flows) < 0.8, rng.uniform(0, 0.15, n_flows), 0.0)
    big = np.argsort(np.bincount(cells.exporter, value, n))[-2:]
    t1 = t0 + 0.25 * ((cells.exporter == big[1]) & (cells.importer == big[0]))
    for a in (t0, t1):
        a.setflags(write=False)
    return (SparseTensor(cells, value), t0, t1, rng.uniform(1.5, 8.0, n_products), rng.uniform(0.3, 1.5, n_products),
            rng.uniform(0.5, 5.0, (n_products, n)))


def _baci_size(quick: bool) -> tuple[int, int, int]:
    """Products, economies and cells that trade: a BACI year (5,000 HS6 x 200, 10 million flows), or small."""
    return (500, 60, 200_000) if quick else (5000, 200, 10_000_000)


def _scipy_pe_cells(flows, t0, t1, sigma, eta, epsilon, products) -> tuple[np.ndarray, float]:
    """The plain reference on cells: scipy.optimize.root per product on the log prices of its exporters.

    Returns the exporter prices ``[product, exporter]`` of `products` and the seconds it took.
    """
    from scipy.optimize import root

    K, n, _ = flows.shape
    out = np.ones((len(products), n))
    start = time.perf_counter()
    for row, k in enumerate(products):  # the per-product loop the solver replaces
        part = flows.products(k, k + 1)
        a, b = flows.cells.bounds[k], flows.cells.bounds[k + 1]
        v, b0, b1 = (part.cells.scatter(x)[0] for x in (part.values, t0[a:b], t1[a:b]))
        sell, buy = v.sum(axis=1) > 0, v.sum(axis=0) > 0
        v, b0, b1 = v[sell][:, buy], b0[sell][:, buy], b1[sell][:, buy]
        share = v * (1 + b0) / (v * (1 + b0)).sum(axis=0)
        tau, sales, sg, et, ep = (1 + b1) / (1 + b0), v.sum(axis=1), sigma[k], eta[k], epsilon[k][sell]

        def residual(x):
            pb = np.exp(x)[:, None] * tau
            P = (share * pb ** (1 - sg)).sum(axis=0) ** (1 / (1 - sg))
            q = (pb / P) ** (-sg) * P ** (-et)
            return np.log((v * q).sum(axis=1) / sales) - ep * x

        out[row, sell] = np.exp(root(residual, np.zeros(sell.sum()), method="hybr", tol=1e-12).x)
    return out, time.perf_counter() - start


def pe_baci_world(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.pe.solve of one tariff change on a BACI-sized world at HS6 (5,000 products x 200
    economies, 10 million flows), on the cells that trade, against scipy.optimize.root per product (issue 22)."""
    from tradesim.models.pe import solve

    K, n, cells = _baci_size(quick)
    data = _baci_world(K, n, cells)

    def run():
        return solve(*data, domestic=False)

    sol = run()
    timing, repeats = _timing(run, budget)
    changed = np.unique(data[0].cells.product[data[2] != data[1]])  # products where the tariff changed
    sample = changed[np.linspace(0, changed.size - 1, 5 if quick else 10).astype(int)]
    prices, seconds = _scipy_pe_cells(*data, sample)
    gap = float(np.nanmax(np.abs(prices - sol.exporter_price[sample])))
    return [Row("pe_baci_world", K, n, 1, *timing, repeats, peak_mb(run), cells,
                f"scipy.optimize.root per product ({sample.size} timed, scaled to {K}; prices agree to {gap:.0e})",
                seconds * K / sample.size, stream_floor(data[0].values, *data[1:]),
                "" if quick else "<= 10 s, <= 4 GB on 2 cores")]


def pe_baci_dask(quick: bool, budget: float) -> list[Row]:
    """The same solve on a 2-worker dask.distributed LocalCluster (tradesim.models.distributed: chunks of products as
    tasks), against the local solve in the same run; the numbers are checked to be the same bit for bit."""
    from tradesim.models import distributed as on_dask
    from tradesim.models.pe import solve

    K, n, cells = _baci_size(quick)
    data = _baci_world(K, n, cells)
    floor = stream_floor(data[0].values, *data[1:])
    try:
        import distributed
    except ImportError:
        return [Row("pe_baci_dask", K, n, 1, np.nan, np.nan, np.nan, 0, np.nan, cells,
                    'dask.distributed is not installed (pip install ".[dask]")', None, floor)]
    from tradesim.data.cluster import local_cluster, scratch_folder

    local = solve(*data, domestic=False)
    ref = timed(lambda: solve(*data, domestic=False), 1 if quick else 3, warm=False)[0]
    scratch = scratch_folder()
    try:
        with local_cluster(distributed, n_workers=2, local_directory=scratch.name) as cluster, \
                distributed.Client(cluster) as client:
            def run():
                return on_dask.solve(*data, domestic=False, client=client)

            same = all(np.array_equal(getattr(local, f), getattr(run(), f)) for f in ("exporter_price", "quantity",
                                                                                       "welfare"))
            timing, repeats = _timing(run, budget)
    finally:
        scratch.cleanup()
    return [Row("pe_baci_dask", K, n, 1, *timing, repeats, np.nan, cells,
                f"the local solve (pe_baci_world) in the same run; 2-worker LocalCluster started before the timing; "
                f"{'the same numbers bit for bit' if same else 'NUMBERS DIFFER'}", ref, floor,
                "" if quick else "the local numbers, <= 10 s")]


def _world_labels(n_products: int, n_countries: int) -> tuple[list[str], list[str]]:
    """HS 2022 subheadings and ISO alpha-3 codes for the BACI-sized world: every partner the bundled schedule
    names first (so that its measures reach cells), then others in code order."""
    import pycountry

    from tradesim.codes import country_problem, hs_subheadings
    from tradesim.law import load_schedule

    named = sorted({c for m in load_schedule("tariffs-2025").measures for c in (m.importer, *(m.exporters or ()))
                    if country_problem(c, {}) is None})  # ISO codes, not groups such as EU27
    others = sorted(c.alpha_3 for c in pycountry.countries if c.alpha_3 not in named)
    subheadings = hs_subheadings()
    pick = np.linspace(0, len(subheadings) - 1, n_products).astype(int)
    return [str(c) for c in np.asarray(subheadings)[pick]], (named + others)[:n_countries]


def simulate_baci_world(quick: bool, budget: float) -> list[Row]:
    """tradesim.simulate of the bundled tariffs-2025 schedule from 31 Dec 2024 to 14 Apr 2025 on the BACI-sized
    world stored on its cells (a sparse Baseline, as read_baci returns): the law evaluated on the cells, the PE
    solve and the pair and country tables, against the model's solve alone on the same cells (issue 22)."""
    import tradesim
    from tradesim.models.pe import solve

    K, n, cells = _baci_size(quick)
    flows, t0, t1, sigma, eta, epsilon = _baci_world(K, n, cells)
    products, countries = _world_labels(K, n)
    b = tradesim.Baseline(None, products, flows, None, 2023, {"name": "synthetic BACI-sized world"},
                          exporters=countries, importers=countries)
    law = tradesim.load_schedule("tariffs-2025")

    def run():
        with _quiet():
            r = tradesim.simulate(b, (law, "2024-12-31"), (law, "2025-04-14"))
            return r.summary("pair"), r.summary("country")

    pairs, _ = run()
    timing, repeats = _timing(run, budget)
    ref = timed(lambda: solve(flows, t0, t1, sigma, eta, epsilon, domestic=False), 1 if quick else 3)[0]
    reached = int((pairs["tariff_pct"] != pairs["tariff_baseline_pct"]).sum())
    return [Row("simulate_baci_world", K, n, 1, *timing, repeats, peak_mb(run), cells,
                f"the PE solve alone of a tariff change on the same cells (pe_baci_world); the law reaches "
                f"{reached:,} pairs", ref, stream_floor(flows.values), "" if quick else "<= 10 s, <= 4 GB")]


def scenario_baci_world(quick: bool, budget: float) -> list[Row]:
    """tradesim.simulate of the bundled tariffs-2025 scenario (24 months, partial adjustment) on the BACI-sized
    world stored on its cells: the path runs on the importers whose law moves (US, China, Canada), on their cells
    that trade, against one change of tariffs (31 Dec 2024 to 14 Apr 2025) simulated on the same world (issue 22)."""
    import tradesim

    K, n, cells = _baci_size(quick)
    flows, *_ = _baci_world(K, n, cells)
    products, countries = _world_labels(K, n)
    b = tradesim.Baseline(None, products, flows, None, 2023, {"name": "synthetic BACI-sized world"},
                          exporters=countries, importers=countries)
    scenario = tradesim.load_scenario("tariffs-2025")
    law = scenario.schedule

    def run():
        with _quiet():
            r = tradesim.simulate(b, scenario)
            return r, r.summary("pair"), r.summary("country")

    def once():
        with _quiet():
            r = tradesim.simulate(b, (law, "2024-12-31"), (law, "2025-04-14"))
            return r.summary("pair"), r.summary("country")

    r, _, _ = run()
    moving = r.cells.size
    del r
    timing, repeats = _timing(run, budget)
    ref = timed(once, 1 if quick else 2)[0]
    return [Row("scenario_baci_world", K, n, 1, *timing, repeats, peak_mb(run), cells,
                f"one change of tariffs simulated on the same world (simulate_baci_world); the path's "
                f"{len(scenario.periods()[0])} periods on the {moving:,} cells of the importers whose law moves",
                ref, stream_floor(flows.values), "" if quick else "<= 30 s, <= 4 GB")]


def _with_home_sales(flows, t0, t1):
    """`flows` (a SparseTensor without domestic sales, as in BACI) with each sector and country's domestic
    sales on the diagonal: twice its exports plus USD 1m (synthetic: general equilibrium needs them), and
    the tariffs, zero there, on the new cells."""
    from tradesim.data.layout import Cells, SparseTensor

    cells = flows.cells
    K, n, _ = cells.shape
    home = 2 * np.bincount(cells.product * n + cells.exporter, flows.values, K * n) + 1e6
    index = np.concatenate([cells.index, np.arange(K * n) * n + np.tile(np.arange(n), K)])
    order = np.argsort(index, kind="stable")
    grown = Cells(cells.shape, index[order])
    zeros = np.zeros(K * n)
    return (SparseTensor(grown, np.concatenate([flows.values, home])[order]),
            np.concatenate([t0, zeros])[order], np.concatenate([t1, zeros])[order])


def ge_sectors(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.ge.solve_sectors on the cells that trade (a SparseTensor), as sectors grow at 60 countries
    (a tenth of foreign cells trade, domestic sales on the diagonal, a 25-point tariff by the largest exporter on
    the second), against the same solve on the dense tensor in the same run (issue 22)."""
    from tradesim.data.layout import SparseTensor
    from tradesim.models import ge

    n = 60
    rows = []
    for S in ((30, 60, 100) if quick else (100, 300, 1000)):
        rng = np.random.default_rng(S)
        f = rng.lognormal(0, 1.5, (S, n, n)) * (rng.random((S, n, n)) < 0.1)
        f[:, np.arange(n), np.arange(n)] = 2 * f.sum(axis=2) + 1.0
        t1 = np.zeros_like(f)
        t1[:, 1, 0] = 0.25
        theta = rng.uniform(2.0, 8.0, S)
        flows = SparseTensor.from_dense(f)
        on_cells = flows.cells.gather(t1)

        def run():
            return ge.solve_sectors(flows, None, None, on_cells, theta)

        sol = run()
        timing, repeats = _timing(run, budget)
        start = time.perf_counter()
        dense = ge.solve_sectors(f, None, None, t1, theta)
        ref_s = time.perf_counter() - start
        gap = float(np.abs(dense.wage - sol.wage).max())
        rows.append(Row("ge_sectors", S, n, 1, *timing, repeats, peak_mb(run), flows.cells.size,
                        f"the same solve on the dense [sector, exporter, importer] tensor (wages agree to {gap:.0e})",
                        ref_s, stream_floor(flows.values, on_cells)))
    return rows


def ge_baci_world(quick: bool, budget: float) -> list[Row]:
    """tradesim.models.ge.solve_sectors of one tariff change on the BACI-sized world with domestic sales added
    (5,000 HS6 sectors x 200 economies, 10 million foreign flows and 1 million domestic cells), on the cells that
    trade, against the PE solve of the same change on the same cells (pe_baci_world) in the same run (issue 22)."""
    from tradesim.models import ge
    from tradesim.models.pe import solve

    K, n, cells = _baci_size(quick)
    flows, t0, t1, sigma, eta, epsilon = _baci_world(K, n, cells)
    world, b0, b1 = _with_home_sales(flows, t0, t1)

    def run():
        return ge.solve_sectors(world, None, b0, b1, sigma - 1)

    sol = run()
    timing, repeats = _timing(run, budget)
    ref = timed(lambda: solve(flows, t0, t1, sigma, eta, epsilon, domestic=False), 1 if quick else 2)[0]
    return [Row("ge_baci_world", K, n, 1, *timing, repeats, peak_mb(run), world.cells.size,
                f"the PE solve of the change on the same world (pe_baci_world); {sol.iterations} Newton steps, "
                f"markets clear to {sol.max_residual:.0e}", ref, stream_floor(world.values, b0, b1))]


CASES = {f.__name__: f for f in (load_demo, load_us_imports, load_schedule, tariff_rates, rates_by_partner,
                                 pe_products, pe_countries, pe_draws, ge_countries, ge_io, ge_draws, ge_gegravity,
                                 scenario_path, scenario_tariffs, scenario_ge_path, ensemble_numpy, ensemble_dask, pe_baci_world,
                                 pe_baci_dask, simulate_baci_world, scenario_baci_world, ge_sectors, ge_baci_world)}

#: Cases whose rows vary one dimension, and which: the scaling fits.
SCALING = {"pe_products": ("products", "countries"), "pe_countries": ("countries", "products"),
           "ge_countries": ("countries", "sector"), "ge_sectors": ("products", "countries")}
