"""Ensembles: a scenario's path under many draws of the elasticities, on one machine or on Dask.

`run` draws the elasticities once, from their priors (`tradesim.elasticities.priors`) and a
seed, then solves the scenario for the draws in chunks. The numpy engine puts a chunk's draws
on the leading axis of the model (one batched solve per tariff regime and elasticity clock,
no loop over draws; under partial adjustment with perfectly elastic export supply, the path by
pair in closed form: `tradesim.simulate.closed_form_bytes`). The Dask engine sends the same
chunks to the workers of a ``dask.distributed`` client. A draw's numbers do not depend on the chunk it is solved in, so
both engines and every chunk size give the same numbers for the same seed.

A draw whose equilibrium the solver cannot find (`ConvergenceError` naming it) is set aside
and reported with its parameters in `EnsembleResult.failures`; the run fails when more than
`max_failed` of the draws do.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from .data import Baseline
from .data.cluster import import_distributed, local_cluster, scratch_folder
from .elasticities import Priors, parameter_names, priors as default_priors
from .errors import ConvergenceError, InputError, TradesimWarning
from .files import once_per_call, warn_at_caller
from .results import EnsembleResult
from .scenario import Scenario, budget, load_scenario
from .scenario.plan import compile_plan, open_mean
from .models import get_model
from .results.base import baseline_pairs
from .scenario.cut import cut_note, on_world, path_baseline
from .simulate import behaviour_notes, closed_form_bytes, independent_markets, run_plan

__all__ = ["ENGINES", "run"]

ENGINES = ("numpy", "dask")


@once_per_call()
def run(
    baseline: Baseline | None,
    scenario,
    draws: int = 1000,
    seed=0,
    engine: str = "numpy",
    client=None,
    chunk: int | None = None,
    *,
    priors: Priors | Mapping | None = None,
    model: str | None = None,
    max_failed: float = 0.05,
    progress: bool = False,
    fine_values=None,
    max_memory: float | None = None,
    **options,
) -> EnsembleResult:
    """Run `scenario` under `draws` draws of the elasticities.

    Parameters
    ----------
    baseline : Baseline or None
        None: the scenario's own baseline.
    scenario : Scenario or str
        A scenario, or the name or path of one.
    draws : int
        Number of draws.
    seed : int, numpy.random.SeedSequence or None
        Seeds the draws (see `Priors.sample`); the same seed gives the same numbers on every
        engine and chunk size. None draws fresh entropy and records it as the result's `seed`.
    engine : {"numpy", "dask"}
        Chunks one after another in this process, or in parallel on a Dask cluster.
    client : distributed.Client, optional
        For ``engine="dask"``: the cluster to use. None starts a `LocalCluster` (processes,
        one thread each) for this run and closes it after. Workers started by a Dask nanny
        with its default ``MALLOC_TRIM_THRESHOLD_=65536`` run the chunks about four times
        slower; start them without it (``distributed.nanny.pre-spawn-environ``), as the
        LocalCluster here is.
    chunk : int, optional
        Draws per chunk. By default as many as keep a chunk's per-pair arrays near
        `tradesim.scenario.budget.CHUNK_BYTES` (64 MiB) on the numpy engine, and at most a
        quarter of the draws per worker on Dask, so that every worker gets several chunks.
    priors : Priors or mapping, optional
        The distributions. A mapping replaces some of the defaults (see
        `tradesim.elasticities.priors`). Parameters the scenario file sets and the mapping
        does not name keep the scenario's value in every draw.
    model : str, optional
        The scenario's model when None.
    max_failed : float
        Largest share of draws allowed to fail (0.05). Failed draws are left out of the
        result and listed in `EnsembleResult.failures`; above the share, `ConvergenceError`.
    progress : bool
        Show a progress bar over chunks.
    fine_values, max_memory, **options
        As in `tradesim.simulate` (options go to the model, for example ``domestic=False``; the
        size estimate counts the draws).

    Returns
    -------
    EnsembleResult
        Flows and revenue by pair (summed over products) and per-country results, each
        ``[draw, time, ...]``, for the draws that converged.

    Raises
    ------
    InputError
        Bad arguments, or the Dask engine without dask.distributed installed.
    ConvergenceError
        More than `max_failed` of the draws fail, or a failure the solver cannot pin on draws.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from tradesim import ensemble
    >>> r = ensemble.run(None, "us-china-2025", draws=50, seed=1)
    >>> q = r.quantiles([0.05, 0.5, 0.95], pairs=[("CHN", "USA")], variables=["value_change_pct"])
    >>> april = q[q["date"] == "2025-04-01"].iloc[0]
    >>> bool(april["p5"] < april["p50"] < april["p95"] < 0)
    True
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; expected one of {ENGINES}", key="engine")
    if client is not None and engine != "dask":
        raise InputError("a client is for the Dask engine; pass engine='dask'", key="client")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise InputError(f"is {draws!r}; expected a whole number of draws >= 1", key="draws")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1):
        raise InputError(f"is {chunk!r}; expected a whole number of draws >= 1", key="chunk")
    if not 0 <= max_failed < 1:
        raise InputError(f"is {max_failed!r}; expected a share in [0, 1)", key="max_failed")
    if engine == "dask":
        import_distributed()  # fail before any work
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise InputError(f"expected a Scenario or its name, got {type(scenario).__name__}", key="scenario")
    model = model or scenario.model
    world = None
    if baseline is None:  # the scenario's own: a model needing a square one runs on its world baseline
        scenario, baseline, world = scenario.for_model(model, scenario.load_baseline())
        if world:
            warn_at_caller(world, TradesimWarning)
    if not isinstance(baseline, Baseline):
        raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
    spec = get_model(model)
    chosen, notes = _priors(priors, scenario)
    notes = [world, *notes] if world else notes
    if seed is None:  # fresh entropy, kept in the result so that the run can be repeated
        seed = np.random.SeedSequence().entropy
    params, drawn = _draw(chosen, spec, baseline.products, draws, seed)
    table = _parameter_table(chosen, drawn, baseline.products, spec.parameter_names)
    whole, baseline = baseline, path_baseline(baseline, scenario, model, params)  # a sparse world: the movers only
    budget.check(_estimate(scenario, whole, baseline, draws, model=model, fine_values=fine_values),
                 limit_bytes=max_memory)  # before any work
    plan = compile_plan(baseline, scenario, model, fine_values, options)

    n, cells, pieces = len(baseline.countries), plan.flows.size, len(plan.parts.start)
    if (closed := closed_form_bytes(plan, params)) is not None:  # the path by pair in closed form
        per_draw = closed
    elif plan.dyn.adjustment == "partial" and independent_markets(plan, params):
        # the problems' flows, each solve's flows on the moving cells and the sums by pair of every piece
        # (the solves and the path itself go in chunks of their own: `simulate._SOLVE_CELLS`, `_PATH_ELEMENTS`)
        per_draw = 8 * (problem_cells(plan) + len(plan.keys) * plan.markets.cells.size
                        + 2 * pieces * plan.flows[0].size)
    elif plan.dyn.adjustment == "partial":  # every regime's equilibrium per cell, then the moving cells by period
        per_draw = 8 * (2 * len(plan.keys) * cells + 4 * len(scenario.periods()[0]) * moving_cells(plan))
    elif plan.events:  # these keep every solve's product axis to the end
        per_draw = 8 * (len(plan.keys) + 3 * pieces) * cells
    else:  # one solve's arrays at a time, and the sums by pair and country of every piece
        per_draw = 8 * (6 * cells + pieces * (2 * n * n + 8 * n))
    largest = max(1, min(draws, budget.CHUNK_BYTES // per_draw))
    label = f"{scenario.name}: {draws} draws"
    if engine == "numpy":
        from tqdm.auto import tqdm

        chunk = int(chunk or largest)
        parts = [_run_chunk(plan, {k: v[a:b] for k, v in params.items()}, a)
                 for a, b in tqdm(_bounds(draws, chunk), desc=label, unit="chunk", disable=not progress,
                                  leave=False)]  # chunks bound memory; each is batched
    else:
        parts, chunk = _on_dask(plan, params, draws, chunk, largest, client, progress=progress, label=label)

    failures = pd.DataFrame([f for p in parts for f in p["failed"]],
                            columns=["draw", "error", "iterations", "residual", "tol"])
    failures = failures.merge(table, left_on="draw", right_index=True, how="left")
    if len(failures) > max_failed * draws:
        first = failures.iloc[0]
        shown = ", ".join(str(d) for d in failures["draw"][:10])
        raise ConvergenceError(
            f"{len(failures)} of {draws} draws failed, more than max_failed={max_failed:g} of them "
            f"(draws {shown}{' and more' if len(failures) > 10 else ''}; first: draw {first['draw']} with "
            f"{_describe(table.loc[first['draw']])}: {first['error']})",
            iterations=int(failures["iterations"].max()), residual=float(failures["residual"].max()),
            tol=float(failures["tol"].min()), draws=failures["draw"])
    if len(failures):
        warn_at_caller(f"{len(failures)} of {draws} draws did not converge and are left out (draws "
                      f"{', '.join(str(d) for d in failures['draw'][:10])}{' and more' if len(failures) > 10 else ''}); "
                      "see EnsembleResult.failures", TradesimWarning)
    parts = [p for p in parts if p["draws"].size]
    kept = np.concatenate([p["draws"] for p in parts])
    stack = {name: np.concatenate([p[name] for p in parts], axis=1) for name in ("flows", "revenue")}
    country = {name: np.concatenate([p["country"][name] for p in parts], axis=1) for name in parts[0]["country"]}
    starts, ends = scenario.periods()
    tariff, reference = _pair_rates(plan)
    result = EnsembleResult(
        scenario=scenario, baseline=baseline, model=model, dates=starts, period_ends=ends,
        draws=kept, flows=np.moveaxis(stack["flows"], 1, 0), revenue=np.moveaxis(stack["revenue"], 1, 0),
        country_values={k: np.moveaxis(v, 1, 0) for k, v in country.items()}, tariff=tariff,
        tariff_reference=reference, parameters=table,
        failures=failures.reset_index(drop=True), requested=int(draws), seed=seed, engine=engine, chunk=int(chunk),
        priors=chosen, notes=plan.notes + tuple(notes) + tuple(behaviour_notes(spec, params)))
    return result if baseline is whole else _on_whole(result, whole)


def estimate(scenario, baseline: Baseline, *, draws: int, model: str | None = None, priors=None,
             **kwargs) -> budget.Estimate:
    """The size estimate (`tradesim.scenario.budget.estimate`) of `run` with `draws` draws: on a sparse
    baseline where every draw's markets clear each by itself, of the run on the importers whose law the
    scenario holds (`tradesim.scenario.cut.path_baseline`) and of its results on the whole baseline.

    Parameters
    ----------
    scenario : Scenario
    baseline : Baseline
    draws : int
    model : str, optional
        The scenario's when None.
    priors : Priors or mapping, optional
        As `run` takes them.
    **kwargs
        Passed to `budget.estimate` (``fine_values``, ``cell_table``).

    Returns
    -------
    tradesim.scenario.budget.Estimate
    """
    model = model or scenario.model
    spec = get_model(model)
    chosen, _ = _priors(priors, scenario)
    # whether markets are independent depends on the priors' kind (a fixed infinite epsilon), not on the draw
    params, _ = _draw(chosen, spec, baseline.products, 1, 0)
    return _estimate(scenario, baseline, path_baseline(baseline, scenario, model, params), draws, model=model,
                     **kwargs)


def _estimate(scenario, whole: Baseline, baseline: Baseline, draws: int, **kwargs) -> budget.Estimate:
    """`budget.estimate` of a run on `baseline`, a part of `whole` (its axes and cells are the part's), with
    its sums by pair placed on `whole`."""
    e = budget.estimate(scenario, baseline, draws=draws, **kwargs)
    if baseline is whole:
        return e
    # flows and revenue [draw, time, exporter, importer] on the whole, beside the part's
    extra = 2 * 8 * draws * e.periods * len(whole.exporters) * len(whole.importers)
    return dataclasses.replace(e, path_bytes=e.path_bytes + extra, bytes=e.bytes + extra)


def _draw(chosen: Priors, spec, products, draws: int, seed) -> tuple[dict, dict]:
    """The model's parameters drawn from `chosen`: ``{name: [draw, product, 1...]}`` and ``{name: [draw, product]}``."""
    drawn = chosen.sample(products, draws, seed, parameters=spec.parameter_names)
    tail = (1,) * (spec.parameter_ndim - 1)
    return {name: a.reshape(a.shape + tail) for name, a in drawn.items()}, drawn


def _on_whole(result: EnsembleResult, whole: Baseline) -> EnsembleResult:
    """`result`, a run on a part of the sparse baseline `whole` (`tradesim.scenario.cut.path_baseline`), on `whole`:
    the importers it left out keep their baseline flows, untaxed, in every draw and period."""
    cut = result.baseline
    j = pd.Index(whole.importers).get_indexer(list(cut.importers))
    D, T = result.flows.shape[:2]
    n, m = len(whole.exporters), len(whole.importers)
    flows = np.empty((D, T, n, m))
    flows[...] = baseline_pairs(whole)
    flows[..., j] = result.flows
    revenue = np.zeros((D, T, n, m))
    revenue[..., j] = result.revenue
    tariff = np.zeros((T, n, m))
    tariff[..., j] = result.tariff
    reference = np.zeros((n, m))
    reference[:, j] = result.tariff_reference
    return dataclasses.replace(result, baseline=whole, flows=flows, revenue=revenue, tariff=tariff,
                               tariff_reference=reference,
                               country_values=on_world(result.country_values, cut, whole),
                               notes=(*result.notes, cut_note(cut, whole)))


def problem_cells(plan) -> int:
    """Cells with trade of the distinct market problems of `plan` (`tradesim.scenario.plan.Markets`): the
    size of its batched solves, for one draw.

    Parameters
    ----------
    plan : tradesim.scenario.plan.Plan

    Returns
    -------
    int
    """
    mk = plan.markets
    per_market = np.count_nonzero(plan.flows[mk.part, :, mk.importer] > 0, axis=1)  # [market]
    return int(per_market[mk.problem_market].sum())


def moving_cells(plan) -> int:
    """Cells with trade whose tariff changes on the scenario's path (a lower bound of those it moves).

    Read on the cells the law reaches (``plan.split.cells``, every other cell is 0 throughout), without
    the dense ``[regime, part, exporter, importer]`` tariffs.
    """
    rates, cells = plan.split.rates, plan.split.cells
    if cells is None:  # rates on the whole tensor
        rates = rates.reshape(len(rates), -1)
        return int(((rates != rates[0]).any(axis=0) & (plan.flows.reshape(-1) > 0)).sum())
    changing = cells[(rates != rates[0]).any(axis=0)]  # rates are [regime, cell]: the cells whose tariff changes
    return int((plan.flows.reshape(-1)[changing] > 0).sum())


def _bounds(draws: int, chunk: int) -> list[tuple[int, int]]:
    return [(a, min(draws, a + chunk)) for a in range(0, draws, chunk)]


def _pair_rates(plan) -> tuple[np.ndarray, np.ndarray]:
    """Trade-weighted tariffs by pair per period ``[time, i, j]`` and of the reference ``[i, j]``
    (`_pair_rate` of `Plan.period_rates` and `Plan.t0`), read on the cells the law reaches only."""
    cells = None if plan.split is None else plan.split.cells
    if cells is None:
        rates, share = plan.period_rates(open_share=True)
        if share is None:
            return _pair_rate(rates, plan.flows), _pair_rate(plan.t0, plan.flows)
        open_flows = (plan.flows * share).sum(axis=-3)  # halted trade pays nothing: the mean over the rest
        with np.errstate(invalid="ignore", divide="ignore"):
            paid = (np.where(share > 0, rates, 0.0) * share * plan.flows).sum(axis=-3) / open_flows
        paid = np.where(open_flows > 0, paid, np.inf)  # all of a pair halted: inf
        return np.where(plan.flows.sum(axis=0) > 0, paid, 0.0), _pair_rate(plan.t0, plan.flows)
    K, n, m = plan.flows.shape
    weights = plan.period_weights()  # [time, regime]
    n_time = weights.shape[0]
    flows = plan.flows.reshape(-1)[cells]
    rates = plan.split.rates  # [regime, cell]: 0 off these cells
    onehot = sparse.csr_matrix((flows, (np.arange(cells.size), cells % (n * m))), shape=(cells.size, n * m))
    mean, share = open_mean(weights, rates)
    base = plan.flows.sum(axis=0).reshape(-1)
    open_base = np.broadcast_to(base, (n_time + 1, base.size))
    if share is not None:  # halted trade pays nothing: the mean over the rest (inf where all of a pair is halted)
        mean = np.nan_to_num(mean) * share
        open_base = open_base - np.asarray(np.concatenate([1 - share, np.zeros((1, cells.size))]) @ onehot)
    paid = np.asarray(np.concatenate([mean, rates[:1]]) @ onehot)  # [time + 1, pair]: tariff times flows
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(open_base > 1e-9 * base, paid / np.where(open_base > 1e-9 * base, open_base, 1.0), np.inf)
        out = np.where(base > 0, out, 0.0).reshape(n_time + 1, n, m)
    return out[:-1], out[-1]


def _pair_rate(tariff: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """Trade-weighted rate by pair ``[..., i, j]`` of tariffs ``[..., k, i, j]`` with baseline flows as weights."""
    base = flows.sum(axis=0)
    return np.where(base > 0, (tariff * flows).sum(axis=-3) / np.where(base > 0, base, 1.0), 0.0)


def _priors(value, scenario) -> tuple[Priors, list[str]]:
    """The priors of a run and notes on what the scenario fixed."""
    if isinstance(value, Priors):
        return value, []
    if value is not None and not isinstance(value, Mapping):
        raise InputError(f"is a {type(value).__name__}; expected Priors or a mapping", key="priors")
    given = dict(value or {})
    fixed = [name for name in parameter_names() if name not in given and scenario.elasticities.sources.get(name) == "user"]
    for name in fixed:
        given[name] = getattr(scenario.elasticities, name)
    notes = [f"the scenario sets {', '.join(fixed)}; those are not drawn"] if fixed else []
    return default_priors(**given), notes


def _parameter_table(chosen: Priors, drawn: dict, products, parameters) -> pd.DataFrame:
    """Each draw's values, one column per drawn parameter and product group (``theta[Auto]``)."""
    columns = {}
    for name in parameters:
        prior = chosen[name]
        if not prior.drawn:
            continue
        groups = prior.group_of(products)
        present = list(dict.fromkeys(groups.tolist()))
        for g in present:
            label = name if len(present) == 1 else f"{name}[{prior.groups[g][1]}]"
            columns[label] = drawn[name][:, int(np.flatnonzero(groups == g)[0])]
    return pd.DataFrame(columns, index=pd.RangeIndex(len(next(iter(drawn.values()))), name="draw"))


def _describe(row: pd.Series) -> str:
    return ", ".join(f"{k} = {v:.4g}" for k, v in row.items()) or "no drawn parameters"


def _run_chunk(plan, params: dict, offset: int) -> dict:
    """Draws ``offset ...`` of one chunk through the whole path, summed over products by pair.

    A draw the solver names in a `ConvergenceError` is set aside and the rest solved again:
    each draw is an independent problem, so the others' numbers do not change.
    """
    alive = np.arange(len(next(iter(params.values()))))
    failed = []
    while alive.size:
        try:
            out = run_plan(plan, {k: v[alive] for k, v in params.items()}, by_pair=True, draws=True)
            break
        except ConvergenceError as err:
            if not err.draws:
                raise
            bad = alive[list(err.draws)]
            failed += [(offset + int(d), err.detail, err.iterations, err.residual, err.tol) for d in bad]
            alive = np.setdiff1d(alive, bad)
    else:
        return {"draws": np.zeros(0, int), "failed": failed, "flows": None, "revenue": None, "country": None}
    return {"draws": offset + alive, "failed": failed, "flows": out["flows"], "revenue": out["revenue"],
            "country": out["country"]}  # [time, draw, ...]


def _on_dask(plan, params: dict, draws: int, chunk, largest: int, client, *, progress: bool,
             label: str) -> tuple[list[dict], int]:
    """The chunks on a Dask cluster (a LocalCluster for this call when `client` is None), in order."""
    distributed = import_distributed()
    from tqdm.auto import tqdm

    own = client is None
    if own:
        scratch = scratch_folder()  # lock files and worker spill stay in a folder this run owns
        cluster = local_cluster(distributed, local_directory=scratch.name)
        client = distributed.Client(cluster)
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        # by default several chunks per worker, so that none waits long on the last
        chunk = int(chunk or min(largest, math.ceil(draws / (4 * workers))))
        bounds = _bounds(draws, chunk)
        shared = client.scatter(plan, broadcast=True)  # once per worker, not once per chunk
        futures = [client.submit(_run_chunk, shared, {k: v[a:b] for k, v in params.items()}, a, pure=False)
                   for a, b in bounds]
        order = {future.key: i for i, future in enumerate(futures)}
        results = {}
        for future in tqdm(distributed.as_completed(futures), total=len(futures), desc=label, unit="chunk",
                           disable=not progress, leave=False):
            results[order[future.key]] = future.result()
        return [results[i] for i in range(len(futures))], chunk
    finally:
        if own:
            client.close()
            cluster.close()
            scratch.cleanup()
