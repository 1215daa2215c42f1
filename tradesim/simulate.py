"""`simulate`: the one place where baselines, tariff law, elasticities and models meet.

A single change (tariffs before and after) is one model solve. A scenario is compiled to a plan
(`tradesim.scenario.plan.compile_plan`: periods x tariff regimes x elasticity multipliers) and
`run_plan` solves it; `tradesim.ensemble` runs the same plan over elasticity draws. Where the
model's markets clear each by itself (PE with perfectly elastic export supply: `independent_markets`),
a partial-adjustment path solves each distinct market problem of the plan once, in batches
(`tradesim.scenario.plan.Markets`), and markets whose tariffs never move not at all. Its sums by
pair (what an ensemble keeps) then come in closed form, without per-cell solves: each moving
market's path is one value per piece and draw, shared by its cells whose tariff does not move
(`closed_form_bytes`).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import sparse

from .data import Baseline, load_fine_values
from .data.layout import Cells, SparseTensor
from .elasticities import Elasticities
from .errors import InputError, TradesimWarning
from .files import once_per_call, warn_at_caller
from .kept import freeze
from .law import TariffSchedule
from .models import charged, get_model, pe
from .results import ScenarioResult, SimulationResult
from .scenario import Scenario, load_scenario
from .scenario import budget, dynamics
from .scenario.cut import cut_note, on_world, path_baseline
from .scenario.plan import Plan, compile_plan, model_options, open_mean

__all__ = ["simulate", "run_plan", "parameters_for", "behaviour_notes", "closed_form_bytes", "path_estimate"]


@once_per_call()
def simulate(
    baseline: Baseline | None,
    before,
    after=None,
    model: str | None = None,
    elasticities: Elasticities | Mapping | None = None,
    *,
    fine_values=None,
    progress: bool = False,
    max_memory: float | None = None,
    **options,
):
    """Simulate a change of tariffs from `before` to `after`, or a scenario's time path, on `baseline`.

    Parameters
    ----------
    baseline : Baseline or None
        None with a scenario: the scenario's own baseline.
    before : array_like, SparseTensor, (TariffSchedule, date), Scenario or str
        Tariffs ``[product, exporter, importer]`` as fractions (a dense array or a
        `tradesim.data.layout.SparseTensor` of the baseline's shape), or a schedule and the
        date at which to read it. Or a `Scenario` (or the name or path of one, without
        `after`): then the model runs over the scenario's dates (see
        `tradesim.scenario.dynamics`) and the result is a `ScenarioResult`.
    after : array_like, SparseTensor or (TariffSchedule, date)
        Tariffs after the change, as `before`.
    model : str, optional
        A registered model (see `tradesim.models.MODELS`): ``"pe"`` or ``"ge"`` (general
        equilibrium, which needs domestic sales on the baseline's diagonal). The scenario's
        model, or ``"pe"``, when None.
    elasticities : Elasticities or mapping, optional
        `Elasticities.defaults()` when None; a mapping replaces some defaults
        (``{"sigma": 4.0}``).
    fine_values : optional
        Finer trade values for schedules whose lists are finer than the baseline's products
        (see `TariffSchedule.rates`), or the name of bundled ones or the path of a file
        (`tradesim.data.load_fine_values`). A scenario's own (its ``fine_values`` key) when None.
    **options
        Passed to the model, for example ``domestic=False``, ``method="linear"`` or ``tol``.
        ``domestic``, for models that take it, defaults to whether the baseline has domestic
        sales (with a warning and a note in the result when it has none).

    progress : bool
        Show a progress bar for scenario runs that take more than a second.
    max_memory : float, optional
        For a scenario: the most memory (bytes) its run may take by the size estimate made
        before any work (`tradesim.scenario.budget`, as ``tradesim run`` makes it); 60% of this
        machine's memory when None, ``math.inf`` for no check.

    Returns
    -------
    SimulationResult or ScenarioResult

    Notes
    -----
    On a baseline stored on its cells that trade (``baseline.layout == "sparse"``, a whole-world
    BACI year at HS6) a single change stays on those cells: a schedule is read at them only
    (`TariffSchedule.rates` with ``cells``), tariffs given as arrays are read there (their values
    elsewhere meet no trade and do not matter), the models solve on them (``"pe"``, and ``"ge"``
    without input-output links, which needs the domestic sales `Baseline.with_domestic` adds),
    and the result's tables sum them (`SimulationResult`). Memory and time grow with the cells,
    not with products x exporters x importers.

    A scenario's path on such a baseline stays on its cells where every market clears by itself
    (PE with perfectly elastic export supply): it runs on the importers whose law the scenario
    holds (`tradesim.scenario.cut`), every other importer keeping its baseline, and the
    `ScenarioResult` holds their cells (`ScenarioResult.cells`) and tables of the whole baseline.
    Any other path (general equilibrium, or PE with upward-sloping export supply) links every
    market, and its plan is dense (``[regime, part, exporter, importer]``): the size check
    refuses it before any work where that does not fit.

    Examples
    --------
    >>> import tradesim
    >>> b = tradesim.load_baseline("demo-2024")
    >>> s = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    >>> r = tradesim.simulate(b, (s, "2024-12-31"), (s, "2025-01-01"), domestic=False)
    >>> round(r.effective_rate("USA", "CHN"), 3), round(r.effective_rate("USA", "CHN", weights="post"), 3)
    (0.5, 0.5)
    >>> bool(r.summary("country").loc["USA", "consumer_surplus_usd"] < 0)
    True
    """
    if isinstance(before, str) and after is None:
        before = load_scenario(before)
    if isinstance(before, Scenario):
        if after is not None:
            raise InputError("a scenario carries its own tariff path; pass no `after`", key="after")
        note = None
        if baseline is None:  # the scenario's own: a model needing a square one runs on its world baseline
            before, baseline, note = before.for_model(model or before.model, before.load_baseline())
            if note:
                warn_at_caller(note, TradesimWarning)
        if not isinstance(baseline, Baseline):
            raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
        model = model or before.model
        elasticities = before.elasticities if elasticities is None else _elasticities(elasticities)
        run_on = path_baseline(baseline, before, model, parameters_for(get_model(model), elasticities, baseline))
        budget.check(_estimate_on(before, baseline, run_on, model, fine_values=fine_values),
                     limit_bytes=max_memory)  # refused before any work
        if run_on is baseline:
            result = _simulate_path(baseline, before, model, elasticities, fine_values, progress, options)
        else:  # on the cut's cells that trade, then on the baseline's
            cells, at = _cut_cells(baseline, run_on)
            result = _on_cells(_simulate_path(run_on, before, model, elasticities, fine_values, progress, options,
                                              on=at), baseline, cells)
        return result if note is None else dataclasses.replace(result, notes=(note, *result.notes))
    if after is None:
        raise InputError("missing the tariffs after the change (or pass a Scenario as `before`)", key="after")
    if not isinstance(baseline, Baseline):
        raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
    model = model or "pe"
    spec = get_model(model)
    if isinstance(fine_values, str):
        fine_values = load_fine_values(fine_values)
    law_notes: list[str] = []
    t0 = _noting(law_notes, _tariffs, "before", before, baseline, fine_values)
    t1 = _noting(law_notes, _tariffs, "after", after, baseline, fine_values)
    elasticities = _elasticities(elasticities)
    params = parameters_for(spec, elasticities, baseline)
    notes = law_notes + model_options(spec, baseline, options)
    # a sparse baseline's cells as they are (reading its `flows` would make the dense tensor and keep it)
    solution = spec.solve(baseline.sparse_flows if baseline.layout == "sparse" else baseline.flows, t0, t1,
                          **params, **options)
    if isinstance(t0, SparseTensor) and getattr(solution, "cells", None) is None:  # the model went dense
        t0, t1 = t0.toarray(), t1.toarray()
    return SimulationResult(baseline, model, solution, t0, t1, elasticities,
                            tuple(notes + behaviour_notes(spec, params)))


def _noting(notes: list, fn, *args):
    """``fn(*args)``, its `TradesimWarning` messages added to `notes` (once each) and every warning passed on
    as issued (at the user's line), so that a result's notes say what its warnings said."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args)
    for w in caught:
        if issubclass(w.category, TradesimWarning) and str(w.message) not in notes:
            notes.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def behaviour_notes(spec, params: dict) -> list[str]:
    """What the results take as given, for the reader: welfare that is zero by assumption, and what
    the price index measures."""
    notes = []
    if "epsilon" in params and np.all(np.isinf(np.asarray(params["epsilon"], dtype=float))):
        notes.append("export supply is perfectly elastic (epsilon = inf: the complete pass-through of the 2018 "
                     "tariffs, about 94% in 2025): exporters' prices do not move, so exporters' producer surplus, and "
                     "the welfare of a country through its exports, are zero by assumption; a finite epsilon (the "
                     "prior 'ny-fed-buyer-share' draws 17 to 43) shows exporters' losses")
    if any(o.name == "import_price_index_change_pct" for o in spec.outputs):
        notes.append("import_price_index_change_pct is the price buyers pay for imports, duty included, not a consumer "
                     "price index: imports are a small share of what consumers buy and retailers absorb part")
    return notes


def parameters_for(spec, elasticities: Elasticities, baseline: Baseline) -> dict:
    """The model's parameters resolved for the baseline's products (``{name: value or [product] array}``)."""
    return {name: elasticities.values_for(name, baseline.products) for name in spec.parameter_names}


def run_plan(plan: Plan, params: dict, *, keep=("flows", "quantity", "buyer_price"), progress: bool = False,
              label: str = "", by_pair: bool = False, draws: bool = False, products: bool = False,
              on: np.ndarray | None = None) -> dict:
    """Solve every piece of `plan` with elasticities `params`; arrays per piece.

    Parameters
    ----------
    products : bool
        Pair outputs on the baseline's products rather than the plan's parts (``k`` below):
        added up (flows, revenue) or averaged (quantity with baseline flows, buyer price with
        spending as weights) as `Plan.collapse` does. Under partial adjustment only the
        products the path moves are computed from their parts.
    on : numpy.ndarray of int, optional
        With `products`: positions in the flattened ``[product, exporter, importer]`` tensor
        (increasing), the only cells whose pair outputs are returned (``[time, draw?, cell]``).
        Under partial adjustment with independent markets no array of every cell is formed.
    draws : bool
        `params` have a leading draw axis, which every output keeps (even of length one).
    by_pair : bool
        Sum flows and revenue over products (and keep nothing else per pair). Under
        elasticity adjustment without anticipation the sums are taken after each solve, so
        memory does not grow with the number of pieces times the product axis. Under partial
        adjustment with independent markets (`independent_markets`) they come in closed form
        where it applies (`closed_form_bytes`), the same numbers to rounding.

    Returns
    -------
    dict
        Values per period of the scenario (the length-weighted means of its pieces): `keep`
        (``[time, draw?, k, i, j]``, ``k`` the plan's parts), ``"revenue"`` (same axes) and
        ``"country"``, a dict of ``[time, draw?, country]`` arrays. With `by_pair`, ``"flows"``
        and ``"revenue"`` only, ``[time, draw?, i, j]``, and ``"country"``.
    """
    from tqdm.auto import tqdm

    spec = plan.spec
    params = plan.expand_parameters(params)
    keep = ("flows",) if by_pair else tuple(dict.fromkeys(("flows", *keep)))  # revenue and front-loading need flows
    if plan.events and not (by_pair and plan.dyn.adjustment == "partial"):  # front-loading moves them
        keep = tuple(dict.fromkeys((*keep, "quantity")))
    early = by_pair and plan.dyn.adjustment != "partial" and not plan.events

    def solve(r: int, m: float):
        p = dict(params)
        if m != 1.0:
            p.update({name: np.asarray(p[name], float) * m for name in spec.short_run})
        return spec.solve(plan.flows, plan.t0, plan.regime_rates(r), **p, **plan.options)

    if plan.dyn.adjustment == "partial" and independent_markets(plan, params):
        # each distinct market problem once, in batched solves (see `tradesim.scenario.plan.Markets`)
        if by_pair and not products and (out := _elastic_pairs(plan, params, draws)) is not None:
            return out  # the same in closed form
        return _partial(plan, _market_targets(plan, params, keep, draws, share=not by_pair), by_pair, products, on)
    solved = {}
    for key in tqdm(plan.keys, desc=label, unit="solve", delay=1.0, disable=not progress,
                    leave=False):  # dates, not products: each solve is vectorised over the whole tensor
        solved[key] = _outputs(solve(*key), keep, draws)
        if early:
            solved[key] = _pair_sums(solved[key], plan.regime_rates(key[0]))
    if plan.dyn.adjustment == "partial":
        return _partial(plan, _cell_targets(plan, solved), by_pair, products, on)
    if "buyer_price" in keep and not early and np.isposinf(plan.split.rates).any():
        # a halted cell has no price: it keeps its last open one (`_shadow`)
        halted = np.stack([np.isposinf(plan.regime_rates(r)).reshape(-1) for r, _ in plan.keys])
        if halted.any():
            prices = np.stack([solved[k]["buyer_price"] for k in plan.keys])
            prices = _shadow(prices.reshape(*prices.shape[:-3], -1), halted).reshape(prices.shape)
            for key, price in zip(plan.keys, prices):
                solved[key]["buyer_price"] = price
    order = [solved[k] for k in plan.piece_keys]
    out = {name: np.stack([o[name] for o in order]) for name in (("flows", "revenue") if early else keep)}
    out["country"] = {name: np.stack([o["country"][name] for o in order]) for name in order[0]["country"]}
    if not early:
        if plan.events:
            _front_load(out, plan, plan.rates)
        tariff = plan.rates[plan.regime]  # [piece, k, i, j]
        out["revenue"] = charged(tariff[:, None] if out["flows"].ndim == 5 else tariff, out["flows"])
        if by_pair:
            out = {"flows": out["flows"].sum(axis=-3), "revenue": out["revenue"].sum(axis=-3),
                   "country": out["country"]}
    to_periods = functools.partial(_to_periods, plan.parts)
    country = {k: to_periods(v) for k, v in out.pop("country").items()}
    if products and not by_pair:  # one output at a time, so that parts and products of all are not held at once
        pick = (lambda a: a) if on is None else (lambda a: a.reshape(*a.shape[:-3], -1)[..., on])
        return {**{k: pick(plan.collapse(to_periods(out.pop(k)), _COLLAPSE[k])) for k in list(out)},
                "country": country}
    return {**{k: to_periods(v) for k, v in out.items()}, "country": country}


#: How pair outputs go from parts to products (`Plan.collapse`): sums (None) or means with these weights.
_COLLAPSE = {"flows": None, "revenue": None, "quantity": "flows", "buyer_price": "spending"}


def _pair_sums(outputs: dict, tariff: np.ndarray) -> dict:
    """One solve's flows and tariff revenue summed over products, ``[draw?, i, j]``, and its country table."""
    flows = outputs["flows"]
    return {"flows": flows.sum(axis=-3), "revenue": charged(tariff, flows).sum(axis=-3), "country": outputs["country"]}


def _simulate_path(baseline: Baseline, scenario, model: str, elasticities: Elasticities, fine_values, progress: bool,
                   options: dict, on: np.ndarray | None = None) -> ScenarioResult:
    """Run `model` over the periods of `scenario`; see `tradesim.scenario.dynamics` for the method.

    With `on` (positions in the flattened ``[product, exporter, importer]``, increasing), the
    result's arrays are on these cells only (``[draw?, time, cell]``), its `cells` still to be set."""
    plan = compile_plan(baseline, scenario, model, fine_values, options)
    params = parameters_for(plan.spec, elasticities, baseline)
    # the tariffs depend on the plan alone: formed once per plan where every cell is kept, and then shared
    # (read-only) by the results of its runs
    reference = plan.memo("reference_tariffs", lambda p: freeze(p.collapse(p.t0, "flows")))  # [product, i, j]
    if on is None:
        tariff, halted = plan.memo("period_tariffs", lambda p: freeze(_period_tariffs(p, reference)))
    else:
        tariff, halted = _period_tariffs(plan, reference, on)
    out = run_plan(plan, params, progress=progress, label=f"{scenario.name} ({model})", products=True, on=on)
    if on is not None:
        reference = reference.reshape(-1)[on]
    parts = plan.parts
    per = {name: a for name, a in out.items() if name != "country"}
    country = out["country"]
    if out["flows"].ndim == (5 if on is None else 3):  # [time, draw, ...] -> [draw, time, ...]
        per = {k: np.moveaxis(v, 1, 0) for k, v in per.items()}
        country = {k: np.moveaxis(v, 1, 0) for k, v in country.items()}
    starts, ends = scenario.periods()
    return ScenarioResult(
        scenario=scenario, baseline=baseline, model=model, dates=starts, period_ends=ends,
        tariff=tariff,
        tariff_reference=reference, flows=per["flows"],
        quantity=per["quantity"], buyer_price=per["buyer_price"], revenue=per["revenue"], country_values=country,
        elasticity_multiplier=parts.to_periods(plan.mult), elasticities=elasticities, shock_start=plan.shock,
        notes=plan.notes + tuple(behaviour_notes(plan.spec, params)), halted=halted)


def path_estimate(scenario, baseline: Baseline, *, model: str | None = None, elasticities=None,
                  **kwargs) -> budget.Estimate:
    """`tradesim.scenario.budget.estimate` of `simulate`'s path of `scenario` on `baseline`: on a sparse
    baseline whose path stays on its cells, of the path on them (see `simulate`).

    Parameters
    ----------
    scenario : Scenario
    baseline : Baseline
    model : str, optional
        The scenario's when None.
    elasticities : Elasticities or mapping, optional
        The scenario's when None.
    **kwargs
        Passed to `budget.estimate` (``fine_values``, ``cell_table``).

    Returns
    -------
    tradesim.scenario.budget.Estimate
    """
    model = model or scenario.model
    elasticities = scenario.elasticities if elasticities is None else _elasticities(elasticities)
    run_on = path_baseline(baseline, scenario, model, parameters_for(get_model(model), elasticities, baseline))
    return _estimate_on(scenario, baseline, run_on, model, **kwargs)


def _estimate_on(scenario, baseline: Baseline, run_on: Baseline, model: str, **kwargs) -> budget.Estimate:
    """`budget.estimate` of a path of `scenario` on `baseline` that runs on `run_on` (`path_baseline`)."""
    if run_on is not baseline:  # the path's arrays are on the cut's cells that trade
        kwargs["model_cells"] = run_on.sparse_flows.values.size
    return budget.estimate(scenario, run_on, model=model, **kwargs)


def _cut_cells(world: Baseline, cut: Baseline) -> tuple[Cells, np.ndarray]:
    """The cells that trade of `world`, a sparse baseline, whose importers are `cut`'s
    (`tradesim.scenario.cut.path_baseline`), and their positions in `cut`'s flattened ``[product,
    exporter, importer]`` (increasing)."""
    n, m = len(world.exporters), len(world.importers)
    j_cut = pd.Index(world.importers).get_indexer(list(cut.importers))
    of_cut = np.full(m, -1, np.int64)
    of_cut[j_cut] = np.arange(j_cut.size)
    cells = world.sparse_flows.cells
    cells = Cells(cells.shape, cells.index[of_cut[cells.importer] >= 0])
    # the cut has the world's products and exporters in the same order: only the importer axis is renumbered
    at = (cells.product * n + cells.exporter) * j_cut.size + of_cut[cells.importer]
    return cells, at


def _on_cells(result: ScenarioResult, world: Baseline, cells: Cells) -> ScenarioResult:
    """`result`, a path on a cut of the sparse baseline `world` to some importers
    (`tradesim.scenario.cut.path_baseline`) whose arrays are on `cells` (`_cut_cells`), on `world`."""
    return dataclasses.replace(result, baseline=world, cells=cells,
                               country_values=on_world(result.country_values, result.baseline, world),
                               notes=(*result.notes, cut_note(result.baseline, world)))


_PAIR_OUTPUTS = {"flows": "flows_after", "quantity": "quantity", "buyer_price": "buyer_price"}


def _outputs(solution, keep, draws: bool = False) -> dict:
    """The arrays a path keeps from one solution: pair arrays `keep` and the per-country table.

    With `draws`, every array has the leading draw axis, also when the model dropped it
    (a draw axis of length one looks like none to the model).
    """
    lift = (lambda a: a[None]) if draws and not solution.draws else (lambda a: a)
    out = {name: lift(np.asarray(getattr(solution, _PAIR_OUTPUTS[name]))) for name in keep}
    out["country"] = {k: lift(np.asarray(v)) for k, v in solution.country_table().items()}
    return out


_PATH_ELEMENTS = 2**21  # elements of one [piece, draw?, cell] array of a partial-adjustment path chunk (16 MiB)


@dataclasses.dataclass(frozen=True)
class _Solves:
    """Values ``[key, draw?, cell]`` read from each solve's own arrays at `at` only when a chunk of cells
    is asked for: a full solve's outputs on every cell it moves, without a copy of them all at once
    (whose first writes alone cost more than the path; `_cell_targets`).

    Attributes
    ----------
    arrays : list of numpy.ndarray
        ``[key]`` of ``[draw?, n]``: each solve's output on the flattened tensor.
    at : numpy.ndarray of int, ``[cell]``
        The positions the values are read at.
    """

    arrays: list
    at: np.ndarray

    @property
    def shape(self) -> tuple:
        return (len(self.arrays), *self.arrays[0].shape[:-1], self.at.size)

    def __getitem__(self, index) -> np.ndarray:
        """``values[..., cells]`` (`cells` a slice or positions among `at`): one gather per solve."""
        if not (isinstance(index, tuple) and len(index) == 2 and index[0] is Ellipsis):
            raise TypeError("_Solves takes values[..., cells] only")
        at = self.at[index[1]]
        out = np.empty((*self.shape[:-1], at.size))
        for q, a in enumerate(self.arrays):  # the solves (dates), each a vectorised gather of the cells
            np.take(a, at, axis=-1, out=out[q])
        return out

    def reordered(self, order: np.ndarray) -> _Solves:
        """The same values with the cells in `order` (positions among `at`)."""
        return _Solves(self.arrays, self.at[order])


@dataclasses.dataclass(frozen=True)
class _Targets:
    """Each solve's equilibrium on the cells a partial-adjustment path moves.

    Attributes
    ----------
    cells : numpy.ndarray of int, ``[cell]``
        Positions in the flattened ``[part, exporter, importer]`` tensor; every other cell keeps
        its `reference` values on the whole path.
    values : dict of numpy.ndarray or _Solves
        Pair outputs (``"flows"``, ``"quantity"``, ``"buyer_price"``), ``[key, draw?, cell]``,
        the keys in the order of `Plan.keys`; with `paths`, ``[key, draw?, path]``. `_Solves`
        where they are read from full solves chunk by chunk.
    country : dict of numpy.ndarray
        Per-country outputs, ``[key, draw?, country]``, in the order of the model's outputs.
    reference : dict of numpy.ndarray
        The reference solve's pair outputs, ``[draw?, part, exporter, importer]`` (possibly
        read-only broadcast views).
    paths, column : numpy.ndarray of int, optional
        ``[path]`` and ``[cell]``: where cells share a path, the positions among `cells` of the
        ones whose values `values` holds, and the path each cell follows. A cell on another's
        path has a tariff that never moves: its quantities and buyer prices are that cell's,
        its flows that cell's scaled by their baseline flows. None: each cell its own path.
    """

    cells: np.ndarray
    values: dict
    country: dict
    reference: dict
    paths: np.ndarray | None = None
    column: np.ndarray | None = None


def _cell_targets(plan: Plan, solved: dict) -> _Targets:
    """`_Targets` from full solves of every key: the cells with trade that some regime moves
    (their tariff or their equilibrium)."""
    targets = [solved[k] for k in plan.keys]
    first = targets[0]
    shape = plan.flows.shape
    n = int(np.prod(shape))
    lead = first["flows"].shape[:-3]  # (draw,) or ()
    names = [name for name in ("flows", "quantity", "buyer_price") if name in first]

    def flat(a):
        return a.reshape(*lead, n)

    moving = np.zeros(n, bool)  # the cells whose tariff changes, read on the law's cells (no dense copy of every regime)
    rates = plan.split.rates
    if plan.split.cells is None:
        rates = rates.reshape(len(rates), n)
        moving |= (rates != rates[0]).any(axis=0)
    else:
        moving[plan.split.cells[(rates != rates[0]).any(axis=0)]] = True
    for t in targets[1:]:
        for name in names:
            moving |= (flat(t[name]) != flat(first[name])).reshape(-1, n).any(axis=0)
    cells = np.flatnonzero(moving & (plan.flows.reshape(n) > 0))
    # read chunk by chunk by the path; the solves' arrays move here (the first, the reference, also stays there)
    values = {name: _Solves([flat(t[name] if q == 0 else t.pop(name)) for q, t in enumerate(targets)], cells)
              for name in names}
    return _Targets(cells, values, {name: np.stack([t["country"][name] for t in targets]) for name in first["country"]},
                    {name: first[name] for name in names})


#: The PE model's per-country outputs, in its order: the ones `_market_targets` adds up over markets.
_PE_COUNTRY = ("import_price_index_change_pct", "consumer_surplus_usd", "producer_surplus_usd", "revenue_change_usd",
               "welfare_usd")


def independent_markets(plan: Plan, params: dict) -> bool:
    """Whether a solve of `plan` is a solve of each of its markets alone (`Plan.markets`).

    True where the model says so for these parameters (`ModelSpec.independent_markets`: the PE
    model with perfectly elastic export supply, ``epsilon = inf``, whose exporters' prices do not
    move, so each (part, importer) market clears by itself) and its per-country outputs are the
    ones `_market_targets` adds up over markets. GE links every market through wages and incomes,
    and a finite epsilon links an exporter's markets. Also False where an importer's own sales, which the
    model holds fixed without ``domestic``, change tariff on the path (their revenue is not in
    any moving market), or where no market moves.

    Parameters
    ----------
    plan : Plan
    params : dict
        The model's parameters (``{name: value or [draw?, part, country] array}``).

    Returns
    -------
    bool

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> import tradesim
    >>> from tradesim.scenario.plan import compile_plan
    >>> s = tradesim.load_scenario("us-china-2025")
    >>> b = s.load_baseline()
    >>> plan = compile_plan(b, s, "pe", None, {"domestic": False})
    >>> params = parameters_for(plan.spec, s.elasticities, b)
    >>> independent_markets(plan, params), independent_markets(plan, {**params, "epsilon": 5.0})
    (True, False)
    """
    spec = plan.spec
    if spec.independent_markets is None or not spec.independent_markets(params):
        return False
    if tuple(o.name for o in spec.outputs) != _PE_COUNTRY:  # the per-country sums `_market_targets` knows
        return False
    if not plan.markets.own and plan.memo("own_sales_move", _own_sales_move):
        return False
    return plan.markets.size > 0


def _own_sales_move(plan: Plan) -> bool:
    """Whether some importer's own sales with trade change tariff between the plan's solves."""
    home = np.asarray(plan.home) if plan.home is not None else np.arange(plan.flows.shape[2])
    j = np.flatnonzero(home >= 0)
    regimes = np.unique([r for r, _ in plan.keys])
    K, n, m = plan.flows.shape
    cells = ((np.arange(K)[:, None] * n + home[j]) * m + j).ravel()  # own sales: [part x importer]
    cells = cells[plan.flows.reshape(-1)[cells] > 0]
    return bool(plan.rates_move(cells, regimes).any())


def _on_problems(value, part: np.ndarray, importer: np.ndarray):
    """An elasticity (``()``, ``[part]``, ``[part, importer]`` or ``[draw, part, importer]``, axes of
    length one broadcast) on the problems: ``[draw?, problem, 1]`` (a problem's market has one importer)."""
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        a = a[:, None]
    k = part if a.shape[-2] > 1 else np.zeros_like(part)
    j = importer if a.shape[-1] > 1 else np.zeros_like(importer)
    return a[..., k, j][..., None]


def _problem_params(plan: Plan, params: dict, part: np.ndarray, importer: np.ndarray) -> tuple[dict, int]:
    """The parameters on the market problems (`_on_problems`), the short-run ones times each problem's
    multiplier, and the number of draws."""
    p = {name: _on_problems(v, part, importer) for name, v in params.items()}
    mult = plan.markets.problem_mult
    if (mult != 1.0).any():
        p.update({name: p[name] * mult[:, None] for name in plan.spec.short_run})
    return p, max([np.shape(v)[0] for v in p.values() if np.ndim(v) == 3] or [1])


@dataclasses.dataclass(frozen=True)
class _ProblemCells:
    """The market problems' cells with trade (`Plan.markets`) and what `_market_targets` needs of them that no
    parameter changes, formed once per plan (`Plan.memo`).

    Attributes
    ----------
    part, importer : numpy.ndarray of int, ``[problem]``
    p_of, i_of, j_of : numpy.ndarray of int, ``[problem cell]``
        Each cell's problem, exporter and importer, grouped by problem.
    at : numpy.ndarray of int, ``[problem cell]``
        Positions in the plan's flattened ``[part, exporter, importer]``.
    flows, t0, t1 : numpy.ndarray, ``[problem cell]``
        The problems' flows (USD) and tariffs before and after (fractions); read-only.
    pick, pick_importer : scipy.sparse.csc_matrix, ``[key, problem]`` and ``[key x importer, problem]``
        A one for each market's problem in each solve (by column: a chunk of problems is a slice).
    weights : numpy.ndarray, ``[problem]``
        The price index's weights: its importer's spending on the market, USD.
    ends : numpy.ndarray of int, ``[problem]``
        Cells of the problems up to each (their running count).
    """

    part: np.ndarray
    importer: np.ndarray
    p_of: np.ndarray
    i_of: np.ndarray
    j_of: np.ndarray
    at: np.ndarray
    flows: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    pick: object
    pick_importer: object
    weights: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, plan: Plan) -> _ProblemCells:
        mk = plan.markets
        K, n, m = plan.flows.shape
        Q, M = len(plan.keys), mk.size
        part, importer = mk.part[mk.problem_market], mk.importer[mk.problem_market]
        P = part.size
        p_of, i_of = np.nonzero(plan.flows[part, :, importer] > 0)  # in the cells' order
        j_of = importer[p_of]
        at = (part[p_of] * n + i_of) * m + j_of
        flows, t0 = plan.flows.reshape(-1)[at], plan.t0.reshape(-1)[at]
        t1 = plan.rates_on(at, mk.problem_regime[p_of])
        # a solve's outputs are the sum of its markets' problems': [key, problem] has a one per market; a
        # problem's market has one importer, so its outputs by importer are that importer's, summed by [key x
        # importer]
        rows, of_key = np.repeat(np.arange(Q), M), mk.of_key.ravel()
        pick = sparse.csc_matrix((np.ones(Q * M), (rows, of_key)), shape=(Q, P))
        pick_importer = sparse.csc_matrix((np.ones(Q * M), (rows * m + importer[of_key], of_key)), shape=(Q * m, P))
        domestic = bool(plan.options.get("domestic", True))
        home = np.asarray(plan.home) if plan.home is not None else np.arange(m)
        spend = flows * (1 + t0) * (domestic | (i_of != home[j_of]))  # the price index's weights, USD
        return cls(part, importer, p_of, i_of, j_of, at, *freeze((flows, t0, t1)), pick, pick_importer,
                   freeze(np.bincount(p_of, weights=spend, minlength=P)),
                   freeze(np.cumsum(np.bincount(p_of, minlength=P))))


@dataclasses.dataclass(frozen=True)
class _TargetCells:
    """The moving cells whose paths `_market_targets` returns and where each reads its solves' values,
    formed once per plan and `share` (`Plan.memo`); see `_Targets`.

    Attributes
    ----------
    cells : numpy.ndarray of int, ``[cell]``
        Grouped by product cell, as `_on_products` adds them up (then without a gather).
    paths, column : numpy.ndarray of int or None
        With `share`, the cells that keep paths of their own and each cell's path.
    at : numpy.ndarray of int, ``[key, path]``
        Each path's place among the problems' cells, in every solve.
    """

    cells: np.ndarray
    paths: np.ndarray | None
    column: np.ndarray | None
    at: np.ndarray

    @classmethod
    def of(cls, plan: Plan, share: bool) -> _TargetCells:
        mk = plan.markets
        K, n, m = plan.flows.shape
        pc = plan.memo("problem_cells", _ProblemCells.of)
        P, M = pc.part.size, mk.size
        cells, cell_market, cell_exporter = mk.cells, mk.cell_market, mk.cell_exporter
        if plan.split is not None and not plan.split.trivial:
            order = np.argsort(plan.split.parent[cells // (n * m)] * (n * m) + cells % (n * m), kind="stable")
            cells, cell_market, cell_exporter = cells[order], cell_market[order], cell_exporter[order]
        paths = column = None
        if share:  # a market's cells whose tariff never moves follow one of them (any)
            still = ~plan.rates_move(cells) & np.isfinite(plan.t0.reshape(-1)[cells])  # not halted throughout
            source = np.arange(cells.size)
            follow = np.zeros(M, np.int64)
            follow[cell_market[still]] = source[still]
            source[still] = follow[cell_market[still]]
            on_path = np.zeros(cells.size, bool)
            on_path[source] = True
            if 2 * on_path.sum() <= cells.size:  # else few cells share a path: each keeps its own, with less memory
                paths = np.flatnonzero(on_path)
                column = (np.cumsum(on_path) - 1)[source]
                cell_market, cell_exporter = cell_market[paths], cell_exporter[paths]
        small = np.int32 if P * n < 2**31 else np.int64  # positions: half the memory traffic of int64 where they fit
        place = np.full(P * n, -1, dtype=small)
        place[pc.p_of * n + pc.i_of] = np.arange(pc.p_of.size, dtype=small)
        at = place[mk.of_key.astype(small)[:, cell_market] * small(n) + cell_exporter.astype(small)]
        return cls(*freeze((cells, paths, column, at)))


#: The PE model's outputs by importer (``[draw?, problem, importer]``) that `_market_targets` adds up, and the
#: price index's weighted change (``"price"``).
_BY_IMPORTER = ("consumer_surplus", "revenue_change", "price")

#: Bytes of what a path's runs form of a plan and keep with it for the next run where it is no larger
#: (`Plan.memo`): a large plan's runs form it again rather than hold it between their steps.
_MEMO_BYTES = 2**24

#: Cells with trade (times draws) of the market problems solved at once by `_market_targets`: bounds the model's memory.
_SOLVE_CELLS = 2**18


def _market_targets(plan: Plan, params: dict, keep, draws: bool, share: bool = False) -> _Targets:
    """`_Targets` from batched solves of the distinct market problems of `plan` (`Plan.markets`).

    Markets must be independent (`independent_markets`). The problems are the product axis of
    a sparse tensor, each on its market's cells with trade (its importer's column), so a market
    whose tariffs are the same in several solves is solved once, and a market that never moves
    not at all. A solve's per-country outputs are its markets' problems' outputs added up
    (import price index: spending-weighted over all the importer's parts, the unmoved at zero).
    Problems are solved in chunks of about `_SOLVE_CELLS` cells times draws, which bounds memory.
    With `share`, a market's cells whose tariff never moves share one path (`_Targets.paths`): their
    exporters' prices fixed, their quantities move alike, by the market's price index only. (Where
    that leaves more than half the cells with paths, each cell keeps its own.)
    """

    spec = plan.spec
    K, n, m = plan.flows.shape
    Q = len(plan.keys)
    pc = plan.memo("problem_cells", _ProblemCells.of)
    part, importer, P = pc.part, pc.importer, pc.part.size
    flows, t0, t1, weights = pc.flows, pc.t0, pc.t1, pc.weights
    n_cells = flows.size
    p, n_draws = _problem_params(plan, params, part, importer)
    lead = (n_draws,) if draws or n_draws > 1 else ()

    names = list(dict.fromkeys(("flows", *keep)))
    pairs = {name: np.empty((*lead, n_cells)) for name in names}  # [draw?, problem cell]
    sums = {}  # [key, draw?, x]: each solve's sums over its markets
    cuts = np.searchsorted(pc.ends, np.arange(1, -(-n_cells * n_draws // _SOLVE_CELLS)) * _SOLVE_CELLS // n_draws)
    edges = np.unique(np.concatenate([[0], cuts, [P]]))
    first = np.concatenate([[0], pc.ends])[edges]  # each chunk's first cell
    for a, b, ca, cb in zip(edges[:-1], edges[1:], first[:-1], first[1:]):  # chunks of problems bound memory
        # positions in the chunk's [problem, exporter, importer] tensor, increasing
        chunk = Cells((b - a, n, m), ((pc.p_of[ca:cb] - a) * n + pc.i_of[ca:cb]) * m + pc.j_of[ca:cb])
        sol = spec.solve(SparseTensor(chunk, flows[ca:cb]), t0[ca:cb], t1[ca:cb],
                         **{k: v[..., a:b, :] if np.ndim(v) else v for k, v in p.items()}, **plan.options)
        lift = (lambda x: np.asarray(x)[None]) if lead and not sol.draws else np.asarray
        for name in names:
            pairs[name][..., ca:cb] = lift(getattr(sol, _PAIR_OUTPUTS[name]))
        chunk_pick = pc.pick[:, a:b]  # columns of a CSC matrix: a slice
        chunk_importer = pc.pick_importer[:, a:b]
        for name in ("consumer_surplus", "producer_surplus", "revenue_change", "welfare", "price"):
            x = lift(sol.price_index if name == "price" else getattr(sol, name))
            if name in _BY_IMPORTER:  # [draw?, problem]: its importer's
                x = x[..., np.arange(b - a), importer[a:b]]
                x = weights[a:b] * (x - 1) if name == "price" else x
                add = np.asarray(chunk_importer @ np.moveaxis(x, -1, 0).reshape(b - a, -1))  # [key x importer, draw]
                add = np.moveaxis(add.reshape(Q, m, -1), 1, -1).reshape(Q, *lead, m)
            else:
                x = np.moveaxis(x, len(lead), 0)  # [problem, draw?, x]
                add = np.asarray(chunk_pick @ x.reshape(b - a, -1)).reshape(Q, *x.shape[1:])
            sums[name] = sums[name] + add if name in sums else add
        del sol

    # each moving cell's (or shared path's) place among the problems' cells, in every solve: [key, cell]
    tc = plan.memo(f"target_cells:{bool(share)}", lambda pl: _TargetCells.of(pl, bool(share)), _MEMO_BYTES)
    values = {name: np.moveaxis(pairs.pop(name)[..., tc.at], -2, 0) for name in names}

    country = _country_sums(plan, sums, lead)
    reference = {"flows": np.broadcast_to(plan.flows, (*lead, K, n, m)),
                 "quantity": np.broadcast_to(1.0, (*lead, K, n, m)),
                 "buyer_price": np.broadcast_to(1.0, (*lead, K, n, m))}  # the reference tariffs move nothing
    return _Targets(tc.cells, values, country, {name: reference[name] for name in values}, tc.paths, tc.column)


def _country_sums(plan: Plan, sums: dict, lead: tuple) -> dict:
    """The PE model's per-country outputs of each solve, ``{name: [key, draw?, country]}``, from its markets' sums
    ``[key, draw?, x]``: ``"consumer_surplus"``, ``"revenue_change"`` and ``"price"`` (spending times the price
    index less one) by importer, ``"producer_surplus"`` by exporter and ``"welfare"`` by country."""
    K, n, m = plan.flows.shape
    Q = len(plan.keys)
    domestic = bool(plan.options.get("domestic", True))
    home = np.asarray(plan.home) if plan.home is not None else np.arange(m)
    position = plan.importer_position
    c = n + int((home < 0).sum())

    def countries(by_importer, by_exporter):  # the model's country axis: exporters, then other importers
        out = np.zeros(by_importer.shape[:-1] + (c,))
        out[..., :n] += by_exporter
        out[..., position] += by_importer
        return out

    by_pair = plan.flows.sum(axis=0) + _reference_revenue(plan)  # [exporter, importer]: flows times one plus the tariff
    if not domestic:  # not the importers' own sales
        own = np.flatnonzero(home >= 0)
        by_pair[home[own], own] = 0.0
    total = by_pair.sum(axis=0)  # [importer]: every part's, moving or not
    with np.errstate(invalid="ignore", divide="ignore"):
        price = 100 * sums["price"] / total
    zero = np.zeros((Q, *lead, n))
    is_importer = np.zeros(c, bool)
    is_importer[position] = True
    return {
        "import_price_index_change_pct": np.where(is_importer, countries(price, zero), np.nan),
        "consumer_surplus_usd": countries(sums["consumer_surplus"], zero),
        "producer_surplus_usd": countries(np.zeros((Q, *lead, m)), sums["producer_surplus"]),
        "revenue_change_usd": countries(sums["revenue_change"], zero),
        "welfare_usd": sums["welfare"],
    }


def _partial(plan: Plan, targets: _Targets, by_pair: bool, products: bool = False, on: np.ndarray | None = None) -> dict:
    """Periods' values under partial adjustment towards each regime's long-run equilibrium.

    Quantities and flows move in logs with the half-life (a share `persistence` of every fall
    staying); buyer prices take the current regime's equilibrium at once. Per-country outputs
    follow their declared timing (`tradesim.models.registry.Output`): prices at once, tariff
    revenue from the path's flows, welfare towards each regime's with the quantities' weights,
    and the remaining welfare part (consumer surplus in PE) as welfare less the others, so the
    parts still add up. The first step after a rise is then a transfer from buyers to the
    treasury (and exporters), and the deadweight loss phases in with the quantities.

    The path is computed on the cells of `targets` (those with trade that some regime moves),
    in chunks of cells that bound memory; every other cell keeps its reference values, so the
    work grows with the trade the scenario touches, not with the baseline. With `products`,
    pair outputs are on products (see `run_plan`), built from the reference's the same way;
    where each cell has its own path, chunk by chunk (a chunk holds every part of its product
    cells), so that memory does not grow with periods times cells of parts.
    Where every solve's flows are the baseline's times its quantities (exporters' prices do not
    move: PE with ``epsilon = inf``), one path serves both: a period's quantities are its flows
    over the baseline's, the same numbers to rounding. With `on` (and `products`), pair outputs
    are on those product cells only (see `run_plan`).
    """
    keys, dyn, regime, parts = plan.keys, plan.dyn, plan.regime, plan.parts
    starts = [pd.Timestamp(plan.regime_days[r]) for r, _ in keys]
    times = parts.middle
    weight = dynamics.adjustment_weights(starts, times, dyn.half_life_months)  # [piece, key - 1], once
    shape = plan.flows.shape
    n = int(np.prod(shape))
    cells = targets.cells
    names = [name for name in ("flows", "quantity", "buyer_price") if name in targets.values]
    lead = targets.values["flows"].shape[1:-1]  # (draw,) or ()

    n_time = int(parts.period.max()) + 1

    def kernel(stacked, log):  # [regime, ..., cell] -> [piece, ..., cell]
        return dynamics.partial_adjustment(stacked, starts, times, dyn.half_life_months, log=log,
                                           persistence=dyn.persistence if log else 0.0, weights=weight)

    def to_periods(a):  # [piece, ...] -> [time, ...]
        return _to_periods(parts, a)

    # the moving cells' paths, a chunk of cells at a time; period values only are kept
    if by_pair:  # sums by pair only: neither quantities nor prices are needed; cells in pair order, so that
        names = ["flows"]  # a chunk's sums by pair are sums over runs of cells
        order = np.argsort(cells % (shape[1] * shape[2]), kind="stable")
        cells = cells[order]
        targets = dataclasses.replace(targets, cells=cells, values={"flows": _reorder(targets.values.pop("flows"), order)})
    step = max(1, _PATH_ELEMENTS // (len(regime) * int(np.prod(lead))))
    on_products = products and plan.split is not None and not plan.split.trivial
    # Pair outputs on products are formed chunk by chunk where each cell has its own path: a chunk then holds
    # every part of its product cells, and no [time, cell] array of every moving cell is made (under GE every
    # cell with trade moves). Elsewhere the chunks are runs of `step` cells.
    streamed = on_products and targets.paths is None and not by_pair
    order, chunks = _path_chunks(plan, cells if targets.paths is None else cells[targets.paths], step,
                                 by_product=streamed)  # of the cells whose paths are computed
    if order is not None:  # cells grouped by product cell, once: each chunk's arrays are then slices
        cells = cells[order]
        targets = dataclasses.replace(targets, cells=cells, values={name: _reorder(v, order)
                                                                    for name, v in targets.values.items()})
    n_pairs = shape[1] * shape[2]
    f0 = plan.flows.reshape(n)[cells]  # [cell]: the baseline's flows, USD
    held = cells if targets.paths is None else cells[targets.paths]  # the cells whose paths are computed
    f0_held = f0 if targets.paths is None else f0[targets.paths]
    # quantities from the flows' path (not under persistence, which acts on each series' own falls)
    one_path = (not by_pair and "quantity" in names and dyn.persistence == 0
                and _scaled(targets.values["flows"], targets.values["quantity"], f0_held))
    importer, pair = cells % shape[2], held % n_pairs
    rates = plan.rates_on(held)  # [regime, held cell]
    halts = bool(np.isposinf(rates).any())
    key_regime = np.array([r for r, _ in keys])
    rate0 = rates[0] if targets.paths is None else plan.t0.reshape(-1)[cells]  # [cell]: the reference tariffs
    # the reference's pair outputs, and where known without a gather or a collapse, on the moving cells and on
    # products (sums by pair need none of them, nor do products that `_followed` forms)
    formed_elsewhere = by_pair or (targets.paths is not None and on_products)
    reference = {} if formed_elsewhere else {**targets.reference, "revenue": plan.t0 * plan.flows}
    at_cells, base = {"revenue": rate0 * f0}, {}
    for name in reference:
        ref = reference[name]
        if ref.ndim and not any(ref.strides):  # one value everywhere (1: the reference tariffs move nothing)
            at_cells[name] = base[name] = ref.flat[0]  # a mean of one value is that value
        elif (ref.shape, ref.strides, ref.__array_interface__["data"][0]) == \
                (shape, plan.flows.strides, plan.flows.__array_interface__["data"][0]):  # the baseline's flows
            at_cells[name], base[name] = f0, plan.weights("flows", on_products=True)  # summed once per plan
    if by_pair:  # [piece, draw?, pair]: summing by pair and over pieces commute, so sum by pair first
        pair_sums = {name: np.zeros((len(regime), *lead, n_pairs)) for name in ("flows", "revenue")}
    elif streamed:
        found = {name: [] for name in (*names, "revenue")}  # [chunk] of (touched, changes)
        revenue = np.zeros((n_time, *lead, shape[2]))  # [time, draw?, importer]
    else:
        moved = {name: np.empty((n_time, *lead, held.size)) for name in (*names, "revenue")}
    for chunk in chunks:  # chunks bound memory; each is vectorised
        sub = {name: targets.values[name][..., chunk] for name in names}
        if halts:  # a halted cell's path runs through its last open target; it trades nothing while halted
            stopped = np.isposinf(rates[:, chunk])
            for name in names:
                sub[name] = _shadow(sub[name], stopped[key_regime])
        out = {"flows": kernel(sub["flows"], True)}
        if "quantity" in sub and not one_path:
            out["quantity"] = kernel(sub["quantity"], True)
        if halts:
            shut = stopped[regime][:, None] if lead else stopped[regime]  # [piece, draw?, cell]
            for name in ("flows", "quantity"):
                if name in out:
                    out[name][np.broadcast_to(shut, out[name].shape)] = 0.0
        if "buyer_price" in sub:  # prices move at once: a period's is its pieces' regimes' mean, no [piece, ...]
            out["buyer_price"] = _weighted_sum(parts.period, regime, parts.weight, n_time, sub["buyer_price"])
        if plan.events:
            _front_load(out, plan, rates[:, chunk])
        tariff = rates[:, chunk][regime]  # [piece, cell]
        if halts:
            tariff[np.isposinf(tariff)] = 0.0  # nothing passes a halt: no revenue
        out["revenue"] = (tariff[:, None] * out["flows"]) if lead else np.multiply(tariff, out["flows"], out=tariff)
        if by_pair:
            runs = np.flatnonzero(np.r_[True, np.diff(pair[chunk]) != 0])
            for name in pair_sums:
                pair_sums[name][..., pair[chunk][runs]] += np.add.reduceat(out[name], runs, axis=-1)
            continue
        period = {}  # the chunk's period values, flows before quantities
        for name in (*names, "revenue"):
            if name == "buyer_price":
                period[name] = out.pop(name)
            elif name == "quantity" and one_path:
                period[name] = period["flows"] / f0_held[chunk]
            else:
                period[name] = to_periods(out.pop(name))
        if not streamed:
            for name, values in period.items():
                moved[name][..., chunk] = values
            continue
        revenue += _by_index(period["revenue"], importer[chunk], shape[2])
        for name, values in period.items():
            at = at_cells[name][chunk] if np.ndim(at_cells.get(name)) else at_cells.get(name)
            if at is None:
                at = _reference_at(plan, reference[name], held[chunk], lead)
            found[name].append(_product_changes(plan, values, held[chunk], at, _COLLAPSE[name]))
    sub = out = period = None  # the last chunk's views would keep the targets' arrays alive
    targets.values.clear()  # consumed: their memory is free for the products' arrays
    followed = None  # pair outputs on products and revenue by importer, where cells follow paths
    if targets.paths is not None and not by_pair:
        if on_products:
            followed = _followed(plan, moved, cells, targets.paths, targets.column, f0, rate0, on)
        else:
            moved = _follow(moved, targets.paths, targets.column, f0 / f0_held[targets.column], rate0)
    # the change of tariff revenue by importer, [time, draw?, importer]: the moving cells' revenue less theirs before
    before = _by_index(rate0 * f0, importer, shape[2])
    if by_pair:
        revenue_change = to_periods(pair_sums["revenue"].reshape(*pair_sums["revenue"].shape[:-1], *shape[1:])
                                    .sum(axis=-2)) - before
    elif followed is not None:
        revenue_change = followed[1] - before
    elif streamed:
        revenue_change = revenue - before
    else:
        revenue_change = _by_index(moved["revenue"], importer, shape[2]) - before
    country = _country_path(plan, targets.country, revenue_change, kernel, to_periods)
    if by_pair:  # sums over products: the cells that stay add their baseline values to every period
        still = np.ones(n, bool)
        still[cells] = False
        base_flows = np.where(still.reshape(shape), plan.flows, 0.0).sum(axis=0)
        base_revenue = np.where(still.reshape(shape), plan.t0 * plan.flows, 0.0).sum(axis=0)
        return {"flows": base_flows + to_periods(pair_sums["flows"]).reshape(n_time, *lead, *shape[1:]),
                "revenue": base_revenue + to_periods(pair_sums["revenue"]).reshape(n_time, *lead, *shape[1:]),
                "country": country}
    if followed is not None:
        return {**followed[0], "country": country}
    groups = _product_groups(plan, cells) if on_products and not streamed else None
    full = {}
    for name in (*names, "revenue"):
        ref = reference[name]
        if streamed:  # the chunks' product cells are disjoint and in order
            touched = np.concatenate([t for t, _ in found[name]]) if found[name] else np.zeros(0, np.int64)
            changes = [c for _, c in found.pop(name) if c is not None]
            full[name] = _add_on_products(plan, base[name] if name in base else plan.collapse(ref, _COLLAPSE[name]),
                                          touched, np.concatenate(changes, axis=-1) if changes else None,
                                          (n_time, *lead), on)
            continue
        if on_products:
            full[name] = _on_products(plan, moved.pop(name), cells, ref, _COLLAPSE[name], groups, base=base.get(name),
                                      at_cells=at_cells.get(name), keep=on)
            continue
        if on is not None and products:  # parts are products: the cells of `on` only
            a = np.empty((n_time, *lead, on.size))
            a[...] = ref.flat[0] if ref.ndim and not any(ref.strides) else ref.reshape(*lead, n)[..., on]
            pos, hit = _positions(on, cells)
            a[..., pos[hit]] = moved.pop(name)[..., hit]
            full[name] = a
            continue
        a = np.empty((n_time, *lead, n))
        a[...] = ref.reshape(*lead, n)
        a[..., cells] = moved.pop(name)
        full[name] = a.reshape(n_time, *lead, *shape)
    full["country"] = country
    return full


def _path_chunks(plan: Plan, cells: np.ndarray, step: int, by_product: bool = False) -> tuple:
    """``(order, chunks)``: slices of `cells` (increasing positions in the flattened ``[part, exporter,
    importer]``) of about `step` cells each, in the order `order` of the cells (None: as they are).

    With `by_product`, the cells are grouped by product cell (`_product_groups`: in increasing order of
    their product cells, each one's parts in their order) and a chunk holds every cell of each product
    cell it touches: it is cut only between product cells, so it exceeds `step` by less than one product
    cell's parts.
    """
    if not (by_product and cells.size):
        return None, [slice(lo, lo + step) for lo in range(0, cells.size, step)]
    _, order, runs = _product_groups(plan, cells)
    # the first product cell starting at or after each multiple of `step`
    at = np.searchsorted(runs, np.arange(0, cells.size, step))
    edges = np.unique(np.append(runs[at[at < runs.size]], cells.size))
    return order, [slice(int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]


def _reorder(values, order: np.ndarray):
    """Values ``[key, draw?, cell]`` (an array or `_Solves`) with their cells in `order`."""
    return values.reordered(order) if isinstance(values, _Solves) else values[..., order]


def _scaled(values, by, scale: np.ndarray) -> bool:
    """Whether `values` equal `by` times `scale` ``[cell]`` exactly (each ``[key, draw?, cell]``, arrays or
    `_Solves`, the solves compared one at a time up to the first that differs)."""
    if not isinstance(values, _Solves):
        return np.array_equal(values, scale * by)
    return all(np.array_equal(a[..., values.at], scale * b[..., by.at]) for a, b in zip(values.arrays, by.arrays))


def _followed(plan: Plan, moved: dict, cells: np.ndarray, paths: np.ndarray, column: np.ndarray, f0: np.ndarray,
              rate: np.ndarray, keep: np.ndarray | None = None) -> tuple[dict, np.ndarray]:
    """`_on_products` of the period values ``[time, draw?, path]`` of the paths computed (`_Targets`),
    for every pair output, and the tariff revenue by importer ``[time, draw?, importer]``.

    A cell's change from the reference is a coefficient times its path's change (centred on the
    reference): on its own path one, or its share of its product cell's weight in means; on
    another's path (its tariff never moves: `rate` is its tariff, `f0` its baseline flows), its
    baseline flows times the path's change of quantities, times its tariff for revenue. So the
    changes of the product cells are one sparse product per output, without a ``[time, cell]``
    array; the order of the sums is `_on_products`'s.
    """
    lead = moved["flows"].shape[:-1]
    fs = plan.memo("followed", lambda p: _FollowSetup(p, cells, paths, column, f0, rate), _MEMO_BYTES)
    if fs.cells is not cells:  # not the cells it was formed for (one set per plan): formed again, not kept
        fs = _FollowSetup(plan, cells, paths, column, f0, rate)
    f0_held, rate_held = f0[paths], rate[paths]
    q = moved["quantity"] if "quantity" in moved else moved["flows"] / f0_held

    def sums(values, matrix):  # [time, draw?, x] -> [time, draw?, row]
        return (matrix @ values.reshape(int(np.prod(lead)), -1).T).T.reshape(*lead, matrix.shape[0])

    change = {"flows": lambda: np.concatenate([moved["flows"] - f0_held, q - 1], axis=-1),
              "revenue": lambda: np.concatenate([moved["revenue"] - rate_held * f0_held, q - 1], axis=-1),
              "quantity": lambda: q - 1, "buyer_price": lambda: moved["buyer_price"] - 1}
    base = {"flows": plan.weights("flows", on_products=True), "revenue": plan.collapse_law(plan.reference_charges),
            "quantity": 1.0, "buyer_price": 1.0}
    out = {name: _add_on_products(plan, base[name], fs.touched, sums(change[name](), fs.by_product(plan, name))
                                  if cells.size else None, lead, keep)
           for name in ("flows", "revenue", *(n for n in ("quantity", "buyer_price") if n in moved))}
    revenue = sums(np.concatenate([moved["revenue"], q], axis=-1), fs.revenue_by_importer)
    return {name: out[name] for name in moved}, revenue


class _FollowSetup:
    """What `_followed` needs of a plan's moving cells and their paths that no parameter changes: the
    sparse matrices that sum each output's changes on product cells and the revenue by importer,
    formed once per plan (`Plan.memo`; each product's matrix when first asked for)."""

    def __init__(self, plan: Plan, cells: np.ndarray, paths: np.ndarray, column: np.ndarray, f0: np.ndarray,
                 rate: np.ndarray):
        H, m = paths.size, plan.flows.shape[2]
        self.cells, self.f0, self.rate, self.column = cells, f0, rate, column
        follows = np.ones(cells.size, bool)
        follows[paths] = False
        self.touched, self.order, self.runs = _product_groups(plan, cells)
        self.group = np.empty(cells.size, np.int64)  # each cell's product cell among `touched`
        self.group[slice(None) if self.order is None else self.order] = np.repeat(
            np.arange(self.runs.size), np.diff(np.append(self.runs, cells.size)))
        # a cell on another's path reads its quantities (the second half of the values summed)
        self.stacked = np.where(follows, column + H, column)
        self.revenue_coef = np.where(follows, rate * f0, 1.0)
        self.flows_coef = np.where(follows, f0, 1.0)
        self.revenue_by_importer = sparse.csr_matrix((self.revenue_coef, (cells % m, self.stacked)),
                                                     shape=(m, 2 * H))
        self.width = 2 * H
        self._matrices = {}

    def by_product(self, plan: Plan, name: str):
        """``[touched, x]``: sums of a coefficient times the values of output `name` ``[..., x]`` over each
        product cell's cells: flows and revenue on their paths or, following another's, their baseline
        flows (times the tariff) times its quantities' change; means (quantity, buyer price) by each
        cell's share of its product cell's weight."""
        if name not in self._matrices:
            cells = self.cells
            if name in ("flows", "revenue"):
                at, coef, width = self.stacked, self.flows_coef if name == "flows" else self.revenue_coef, self.width
            else:
                total = plan.weights(_COLLAPSE[name], on_products=True).reshape(-1)[self.touched]
                share = self.f0 if name == "quantity" else self.f0 * (1 + self.rate)  # the parts' weights
                at, coef, width = self.column, share / total[self.group], self.width // 2
            grouped = (lambda a: a) if self.order is None else (lambda a: a[self.order])
            self._matrices[name] = sparse.csr_matrix((grouped(coef), grouped(at), np.append(self.runs, cells.size)),
                                                     shape=(self.touched.size, width))
        return self._matrices[name]


def _follow(moved: dict, paths: np.ndarray, column: np.ndarray, scale: np.ndarray, rate: np.ndarray) -> dict:
    """Period values ``[time, draw?, path]`` of the paths computed (`_Targets`) on every cell,
    ``[time, draw?, cell]``: each cell's `column`'s, flows times `scale` (the cell's baseline flows
    over its path's: 1 on its own path), and revenue its own `rate` (its tariff, which never moves
    where it follows another cell) times its flows."""
    follows = np.ones(column.size, bool)
    follows[paths] = False
    out = {name: a[..., column] for name, a in moved.items()}
    out["flows"] *= scale
    out["revenue"] = np.where(follows, rate * out["flows"], out["revenue"])
    return out


#: Options of the PE model that the closed form of `_elastic_pairs` honours; any other sends a run to the solver.
_CLOSED_FORM_OPTIONS = {"domestic", "home", "countries", "tol", "max_iter", "warn", "method"}


def closed_form_bytes(plan: Plan, params: dict) -> int | None:
    """Memory per draw (bytes) of a partial-adjustment path's sums by pair in closed form (`run_plan` with
    ``by_pair=True`` where export supply is perfectly elastic), or None where the closed form does not
    apply to `plan` and `params` (the general path then runs).

    Parameters
    ----------
    plan : Plan
    params : dict
        The model's parameters (``{name: value or [draw?, product or part, country] array}``).

    Returns
    -------
    int or None

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> import tradesim
    >>> from tradesim.scenario.plan import compile_plan
    >>> s = tradesim.load_scenario("us-china-2025")
    >>> b = s.load_baseline()
    >>> plan = compile_plan(b, s, "pe", None, {"domestic": False})
    >>> params = parameters_for(plan.spec, s.elasticities, b)
    >>> closed_form_bytes(plan, params) > 0, closed_form_bytes(plan, {**params, "epsilon": 5.0})
    (True, None)
    """
    if not (plan.dyn.adjustment == "partial" and independent_markets(plan, params) and _closed_form_plan(plan)):
        return None
    sigma = np.asarray(params.get("sigma", np.nan), float)
    if not np.isfinite(sigma).all() or (np.abs(1 - sigma) < pe.NEAR_ONE).any():
        return None
    st = plan.memo("elastic_pairs", _ElasticSetup)
    # the largest arrays: each solve's and each piece's values on the cells whose tariff moves and on the slots
    return 8 * (len(plan.keys) + len(plan.regime)) * (st.cell_flows.size + st.slot_problem.shape[1])


def _closed_form_plan(plan: Plan) -> bool:
    """Whether `_elastic_pairs` can run `plan` (before its parameters are seen)."""
    return not plan.dyn.persistence and plan.options.get("method", "exact") == "exact" and \
        set(plan.options) <= _CLOSED_FORM_OPTIONS


def _elastic_pairs(plan: Plan, params: dict, draws: bool) -> dict | None:
    """`run_plan` with `by_pair` under partial adjustment where export supply is perfectly elastic, in
    closed form; None where it does not apply (the general path then runs).

    It applies where the markets are independent (`independent_markets`), the model is PE solved
    exactly, no ``sigma`` is within ``1e-3`` of one and nothing persists (``persistence = 0``). Then
    a market's quantities in a solve are ``tau**-sigma G`` with one ``G`` per market problem
    (`tradesim.models.pe.fixed_price_markets`), and the path of a cell's log flows is its log
    baseline flow plus the path of ``log tau**-sigma + log G``, each linear in the solves' values
    (`tradesim.scenario.dynamics.partial_adjustment`, its weights telescoped into one
    ``[piece, key]`` matrix). A moving market's cells whose tariff stays the same on the whole path
    (third countries' sales to the market: most of them) share their market's path, so their sums
    by pair are the baseline's flows (and revenue) times the markets' paths on periods, one dense
    ``[2 x exporter, market] x [market, time x draw]`` product per importer (markets padded by
    importer, or one sparse product where padding would cost too much); only the cells whose tariff
    moves keep paths of their own, ``[piece, draw, cell]`` (and are bought ahead: `_front_load`).
    What does not depend on the draws is formed once per plan (`_ElasticSetup`). The numbers are the
    general path's to rounding (1e-14 relative on us-china-2025).
    """
    if not _closed_form_plan(plan):
        return None
    st = plan.memo("elastic_pairs", _ElasticSetup)
    p, n_draws = _problem_params(plan, params, st.part, st.importer)
    sigma, eta = (np.broadcast_to(np.asarray(p[name], float), (n_draws, st.part.size, 1))[..., 0]
                  for name in ("sigma", "eta"))
    solved = pe.fixed_price_markets(st.buys, st.fixed_spend, st.moved_problem, st.moved_spend, st.moved_log_tau,
                                    sigma, eta)
    if solved is None or (st.halted.size and not _halts_answered(st, sigma, solved)):
        return None  # the general path solves it, or says why it cannot
    K, n, m = plan.flows.shape
    D, Q, P = n_draws, len(plan.keys), st.part.size
    log_G = solved["log_shifter"]  # [draw, problem]
    G = np.exp(log_G)
    # each solve's per-country outputs: its markets' sums (`_market_targets` without the pair arrays)
    r = np.exp(-sigma[:, st.moved_problem] * st.moved_log_tau)  # tau**-sigma on the problems' moved cells
    revenue = _by_index(st.moved_t1v * r, st.moved_problem, P)
    revenue += st.fixed_revenue
    revenue *= G
    revenue -= st.revenue_before  # [draw, problem]: the change of tariff revenue
    cs = solved["consumer_surplus"]
    stacked = np.empty((P, 3, D))  # [problem, 3 x draw]: the C order the sparse product reads, written once
    stacked[:, 0], stacked[:, 1] = cs.T, revenue.T
    stacked[:, 2] = (st.buys * (np.exp(solved["log_price_index"]) - 1)).T
    by_key = st.pick @ stacked.reshape(P, 3 * D)
    by_key = np.moveaxis(by_key.reshape(Q, m, 3, D), 1, -1)  # [key, 3, draw, importer]
    sums = {"consumer_surplus": by_key[:, 0], "revenue_change": by_key[:, 1], "price": by_key[:, 2],
            "producer_surplus": np.zeros((Q, D, n))}
    sums["welfare"] = np.zeros((Q, D, n + int((st.home < 0).sum())))
    sums["welfare"][..., plan.importer_position] = by_key[:, 0] + by_key[:, 1]  # no producer surplus
    country = _country_sums(plan, sums, (D,))

    n_time, S = st.periods.shape[0], st.slot_problem.shape[1]
    # each market's path of log G, [piece, draw, slot]: one product for every draw (the padding's log G is 0)
    at = np.take(np.concatenate([log_G, np.zeros((D, 1))], axis=1), st.slot_problem, axis=1)  # [draw, key, slot]
    path = (st.to_pieces @ np.ascontiguousarray(at.transpose(1, 0, 2)).reshape(Q, -1)).reshape(-1, D, S)
    del at
    # the cells whose tariff moves: their market's path less their own tariff's, [piece, draw, cell]
    one_sigma = bool((sigma == sigma[:, :1]).all())  # one sigma per draw: the path of log tau is every draw's
    if one_sigma and st.slot_runs is not None:  # the cells' slots are a few runs of consecutive slots: the
        # tariff's path written in place, then the slices of the market's added (no [piece, draw, cell] temporary;
        # -b + a is a - b to the bit)
        flows = np.multiply(-sigma[:, 0, None], st.cell_shift[:, None, :])
        for at_cell, at_slot, size in st.slot_runs:
            flows[..., at_cell:at_cell + size] += path[..., at_slot:at_slot + size]
    else:
        flows = np.take(path, st.cell_slot, axis=2)
        if one_sigma:
            shift = np.multiply(sigma[:, 0, None], st.cell_shift[:, None, :])
        else:  # log tau**-sigma with each problem's sigma, then its path
            own = sigma[:, st.cell_problem] * np.where(np.isinf(st.cell_log_tau), 0.0, st.cell_log_tau)  # [draw, key, cell]
            shift = (st.to_pieces @ np.ascontiguousarray(own.transpose(1, 0, 2)).reshape(Q, -1)).reshape(flows.shape)
            del own
        flows -= shift
        del shift
    if st.halted.size:  # the halted cells' paths run through their last open targets (`_shadow`)
        h = st.halted
        problem = st.cell_problem[:, h]  # [key, halted cell]
        target = np.moveaxis(log_G[:, problem] - sigma[:, problem] * st.cell_log_tau[:, h], 1, 0)  # [key, draw, h]
        target = _shadow(target, np.isinf(st.cell_log_tau[:, h]))
        flows[..., h] = (st.to_pieces @ target.reshape(Q, -1)).reshape(-1, D, h.size)
    flows = np.exp(flows, out=flows)
    flows *= st.cell_flows  # USD
    if st.halted.size:
        flows[..., st.halted] *= ~st.piece_shut[:, None, :]
    if plan.events:
        _front_load({"flows": flows}, plan, st.cell_rates, st.load_events)
    moved = np.zeros((2, flows.shape[0], D, n * m))  # [flows/revenue, piece, draw, pair]
    moved[0][..., st.cell_pair] = np.add.reduceat(flows, st.runs, axis=-1)
    flows *= st.piece_rates[:, None]  # tariff revenue, in place
    moved[1][..., st.cell_pair] = np.add.reduceat(flows, st.runs, axis=-1)
    del flows
    # pieces to periods (each period's length-weighted mean): [piece, x] -> [time, x]
    on_periods = (st.periods @ moved.transpose(1, 0, 2, 3).reshape(moved.shape[1], -1)).reshape(n_time, 2, D, n, m)
    del moved
    # the other cells of moving markets move with their market: their baseline flows (and revenue) times its
    # path on periods, summed by pair in one product per importer
    path = st.periods @ np.exp(path, out=path).reshape(path.shape[0], -1)  # [time, draw x slot]
    path = np.ascontiguousarray(path.reshape(n_time, D, S).transpose(2, 0, 1))  # [slot, time, draw]
    if st.padded:  # [importer block, 2 x exporter, slot] x [importer block, slot, time x draw]
        J = st.importers.size
        steady = np.matmul(st.steady, path.reshape(J, -1, n_time * D))  # [block, 2 x exporter, time x draw]
        on_periods[..., st.importers] += steady.reshape(J, 2, n, n_time, D).transpose(3, 1, 4, 2, 0)
    else:  # [2 x pair, market] x [market, time x draw]
        steady = st.steady @ path.reshape(S, -1)
        on_periods += steady.reshape(2, n, m, n_time, D).transpose(3, 0, 4, 1, 2)
    on_periods = on_periods.reshape(n_time, 2, D, n * m)
    change = on_periods[:, 1].reshape(n_time, D, n, m).sum(axis=-2) - st.revenue_moving  # [time, draw, importer]
    starts = [pd.Timestamp(plan.regime_days[q]) for q, _ in plan.keys]

    def kernel(stacked, log):  # [key, ...] -> [piece, ...]
        return dynamics.partial_adjustment(stacked, starts, plan.parts.middle, plan.dyn.half_life_months, log=log,
                                           weights=st.weight)

    country = _country_path(plan, country, change, kernel, functools.partial(_to_periods, plan.parts))
    out = {"flows": st.base_flows + on_periods[:, 0].reshape(n_time, D, n, m),
           "revenue": st.base_revenue + on_periods[:, 1].reshape(n_time, D, n, m), "country": country}
    if not draws and D == 1:  # no draw axis asked for, none given
        out = {"flows": out["flows"][:, 0], "revenue": out["revenue"][:, 0],
               "country": {k: v[:, 0] for k, v in country.items()}}
    return out


def _halts_answered(st: _ElasticSetup, sigma: np.ndarray, solved: dict) -> bool:
    """Whether the closed form's markets with halted cells have an answer: ``sigma`` at least ``1 +
    pe.NEAR_ONE`` there and a finite price index (some source left), as `tradesim.models.pe.check_halts`
    requires of a solve."""
    stop = np.isinf(st.moved_log_tau)
    return bool((sigma[:, st.moved_problem[stop]] >= 1 + pe.NEAR_ONE).all()
                and np.isfinite(solved["log_price_index"]).all())


#: Slots per market at most (`_ElasticSetup`): beyond it, a sparse product replaces the padded dense ones.
_MOST_PADDING = 2.0
#: Runs of consecutive slots at most that `_elastic_pairs` copies as slices rather than gathers.
_FEW_RUNS = 16


class _ElasticSetup:
    """What `_elastic_pairs` needs of a plan that no draw changes, formed once per plan (`Plan.memo`).

    Attributes
    ----------
    part, importer : numpy.ndarray of int, ``[problem]``
        Each market problem's part and importer (`Plan.markets`).
    buys, fixed_spend : numpy.ndarray, ``[problem]``
        Baseline spending on the problem's cells (tariff-inclusive, USD), and on those whose tariff the
        problem does not change.
    moved_problem, moved_spend, moved_log_tau, moved_t1v : numpy.ndarray, ``[moved cell]``
        The problems' cells whose tariff changes: their problem, spending, ``log tau`` and new tariff
        times baseline flow (USD).
    fixed_revenue, revenue_before : numpy.ndarray, ``[problem]``
        Tariff revenue on the unchanged cells, and on all cells before, USD.
    pick : scipy.sparse.csr_matrix, ``[key x importer, problem]``
        Ones where a solve's market of that importer poses the problem.
    to_pieces : numpy.ndarray, ``[piece, key]``
        Partial adjustment's weights on each solve's log values (`dynamics.partial_adjustment`
        telescoped); `weight` ``[piece, key - 1]`` its weights on the steps.
    importers : numpy.ndarray of int
        The importers of the moving markets.
    padded : bool
        Whether the markets sit in slots grouped by importer (padded to the largest group).
    slot_problem : numpy.ndarray of int, ``[key, slot]``
        The problem of each slot's market in each solve (``P``, one past the problems, for padding).
    steady : numpy.ndarray ``[importer block, 2 x exporter, slot]`` or scipy.sparse.csr_matrix ``[2 x pair, market]``
        Baseline flows and tariff revenue (USD) of the moving markets' cells whose tariff never moves, by slot
        (`padded`) or by market.
    cell_problem, cell_log_tau : numpy.ndarray, ``[key, cell]``
        The other moving cells (ordered by pair): their problem and ``log tau`` in each solve.
    cell_slot : numpy.ndarray of int, ``[cell]``; cell_shift : numpy.ndarray, ``[piece, cell]``
        Their market's slot, and the path of their ``log tau`` (`to_pieces` of `cell_log_tau`).
    slot_runs : list of (int, int, int) or None
        ``(first cell, first slot, length)`` of the runs of consecutive slots in `cell_slot`, where
        they are few (`_FEW_RUNS`).
    cell_flows : numpy.ndarray, ``[cell]``; cell_rates : numpy.ndarray, ``[regime, cell]``
    piece_rates : numpy.ndarray, ``[piece, cell]``
        Their baseline flows (USD) and tariffs by regime and by piece.
    load_events : list of tuple
        What buying ahead does on them (`_load_events`).
    cell_pair, runs : numpy.ndarray of int
        The pairs those cells fall in and where each pair's run of cells starts.
    periods : scipy.sparse.csr_matrix, ``[time, piece]``
        Each period's pieces' weights.
    base_flows, base_revenue : numpy.ndarray, ``[exporter, importer]``
        Sums over the cells that never move, USD.
    revenue_moving : numpy.ndarray, ``[importer]``
        Tariff revenue on the moving cells before, USD.
    home : numpy.ndarray of int, ``[importer]``
    """

    def __init__(self, plan: Plan):
        mk = plan.markets
        K, n, m = plan.flows.shape
        Q, M = len(plan.keys), mk.size
        domestic = bool(plan.options.get("domestic", True))
        self.home = home = np.asarray(plan.home) if plan.home is not None else np.arange(m)
        pc = plan.memo("problem_cells", _ProblemCells.of)
        self.part, self.importer = pc.part, pc.importer
        P = pc.part.size
        p_of, at = pc.p_of, pc.at
        if not domestic:  # the importers' own sales are not a source: they stay as they are (and their tariff too)
            keep = pc.i_of != home[pc.j_of]
            p_of, at = p_of[keep], at[keep]
        v = plan.flows.reshape(-1)[at]
        t0 = plan.t0.reshape(-1)[at]
        t1 = plan.rates_on(at, mk.problem_regime[p_of])
        spend = v * (1 + t0)
        self.buys = np.bincount(p_of, weights=spend, minlength=P)
        moved = t1 != t0
        self.fixed_spend = np.bincount(p_of[~moved], weights=spend[~moved], minlength=P)
        self.moved_problem, self.moved_spend = p_of[moved], spend[moved]
        self.moved_log_tau = np.log1p(t1[moved]) - np.log1p(t0[moved])  # inf where halted
        self.moved_t1v = charged(t1[moved], v[moved])  # a halted cell collects nothing
        self.fixed_revenue = np.bincount(p_of[~moved], weights=t1[~moved] * v[~moved], minlength=P)
        self.revenue_before = np.bincount(p_of, weights=t0 * v, minlength=P)
        rows = np.repeat(np.arange(Q), M) * m + np.tile(mk.importer, Q)
        self.pick = sparse.csr_matrix((np.ones(Q * M), (rows, mk.of_key.ravel())), shape=(Q * m, P))

        starts = [pd.Timestamp(plan.regime_days[q]) for q, _ in plan.keys]
        self.weight = w = dynamics.adjustment_weights(starts, plan.parts.middle, plan.dyn.half_life_months)
        to_pieces = np.zeros((w.shape[0], Q))  # x(t) = x_0 + sum_q w_q (x_q - x_(q-1)) = sum_q a_q x_q
        to_pieces[:, 0] = 1.0
        to_pieces[:, :-1] -= w
        to_pieces[:, 1:] += w
        self.to_pieces = to_pieces

        cells = mk.cells
        rates = plan.rates_on(cells)  # [regime, cell]
        f0 = plan.flows.reshape(-1)[cells]
        pair = cells % (n * m)
        steady = (rates == rates[0]).all(axis=0)
        # the moving markets in slots, grouped by importer and padded to the largest group: the sums by pair of
        # the cells whose tariff never moves are then one dense product per importer; where padding would more
        # than double the slots, one sparse product over the markets instead
        self.importers, group = np.unique(mk.importer, return_inverse=True)
        sizes = np.bincount(group)
        width = int(sizes.max(initial=0))
        self.padded = self.importers.size * width <= _MOST_PADDING * M + 1024
        if self.padded:
            by_group = np.argsort(group, kind="stable")
            slot = np.empty(M, np.int64)
            slot[by_group] = group[by_group] * width + (np.arange(M) - np.repeat(np.cumsum(sizes) - sizes, sizes))
            slot_market = np.full(self.importers.size * width, -1)
            slot_market[slot] = np.arange(M)
            self.slot_problem = np.where(slot_market >= 0, mk.of_key[:, slot_market], P)  # [key, slot]; P: padding
            values = np.zeros((self.importers.size, 2 * n, width))  # [importer block, flows/revenue x exporter, slot]
            c_slot = slot[mk.cell_market[steady]]
            g, pos = np.divmod(c_slot, width)
            values[g, mk.cell_exporter[steady], pos] = f0[steady]
            values[g, n + mk.cell_exporter[steady], pos] = rates[0, steady] * f0[steady]
            self.steady = values
        else:
            self.slot_problem = mk.of_key
            values = np.concatenate([f0[steady], rates[0, steady] * f0[steady]])
            self.steady = sparse.csr_matrix((values, (np.concatenate([pair[steady], n * m + pair[steady]]),
                                                      np.tile(mk.cell_market[steady], 2))), shape=(2 * n * m, M))
        order = np.flatnonzero(~steady)
        order = order[np.argsort(pair[order], kind="stable")]
        self.cell_flows, self.cell_rates = f0[order], np.ascontiguousarray(rates[:, order])
        self.piece_rates = self.cell_rates[plan.regime]  # [piece, cell]
        self.halted = np.flatnonzero(np.isposinf(self.cell_rates).any(axis=0))  # cells some regime halts
        if self.halted.size:  # nothing passes a halt: its pieces collect nothing, and trade nothing
            self.piece_shut = np.isposinf(self.piece_rates[:, self.halted])  # [piece, halted cell]
            self.piece_rates = np.where(np.isposinf(self.piece_rates), 0.0, self.piece_rates)
        self.load_events = _load_events(plan, self.cell_rates, slices=True) if plan.events else []
        self.cell_problem = mk.of_key[:, mk.cell_market[order]]  # [key, cell]
        self.cell_slot = (slot if self.padded else np.arange(M))[mk.cell_market[order]]
        breaks = np.flatnonzero(np.diff(self.cell_slot) != 1) + 1
        first = np.concatenate([[0], breaks]).astype(int)
        sizes = np.diff(np.append(first, self.cell_slot.size))
        self.slot_runs = list(zip(first.tolist(), self.cell_slot[first].tolist(), sizes.tolist())) \
            if self.cell_slot.size and first.size <= _FEW_RUNS else None
        t0c = rates[0, order]
        self.cell_log_tau = np.log1p(plan.rates_on(np.broadcast_to(cells[order], self.cell_problem.shape),
                                                   mk.problem_regime[self.cell_problem])) - np.log1p(t0c)
        # [piece, cell]: the path of log tau (of the halted cells' elsewhere: `_elastic_pairs`)
        self.cell_shift = to_pieces @ np.where(np.isinf(self.cell_log_tau), 0.0, self.cell_log_tau)
        cell_pair = pair[order]
        self.runs = np.flatnonzero(np.r_[True, cell_pair[1:] != cell_pair[:-1]]) if order.size else np.zeros(0, int)
        self.cell_pair = cell_pair[self.runs]
        n_time = int(plan.parts.period.max()) + 1
        self.periods = sparse.csr_matrix((plan.parts.weight, (plan.parts.period, np.arange(plan.parts.period.size))),
                                         shape=(n_time, plan.parts.period.size))
        still = np.ones(plan.flows.size, bool)
        still[cells] = False
        self.base_flows = np.where(still.reshape(plan.flows.shape), plan.flows, 0.0).sum(axis=0)
        self.base_revenue = np.where(still.reshape(plan.flows.shape), plan.t0 * plan.flows, 0.0).sum(axis=0)
        self.revenue_moving = _by_index(rates[0] * f0, cells % m, m)


def _shadow(values: np.ndarray, halted: np.ndarray) -> np.ndarray:
    """`values` ``[key, ..., cell]`` with each halted ``(key, cell)`` (`halted` ``[key, cell]``) taking the
    value of the cell's last key before that is not halted: the target a halted cell's partial-adjustment
    path runs through while its trade is stopped, so that it resumes from there when the halt ends.

    The first key (the reference) is never halted. Returns a new array where some cell is halted.
    """
    cols = np.flatnonzero(halted.any(axis=0))
    if not cols.size:
        return values
    Q = halted.shape[0]
    last = np.where(halted[:, cols], 0, np.arange(Q)[:, None])
    np.maximum.accumulate(last, axis=0, out=last)  # [key, halted cell]: the last open key
    out = np.array(values, dtype=float)
    sub = out[..., cols]  # [key, ..., halted cell]
    index = last.reshape(Q, *(1,) * (sub.ndim - 2), cols.size)
    out[..., cols] = np.take_along_axis(sub, np.broadcast_to(index, sub.shape), axis=0)
    return out


def _on_products(plan: Plan, moved: np.ndarray, cells: np.ndarray, reference: np.ndarray, weights,
                 groups: tuple | None = None, *, base=None, at_cells=None, keep: np.ndarray | None = None) -> np.ndarray:
    """A path's pair output on products, ``[time, draw?, product, exporter, importer]``.

    `moved` ``[time, draw?, cell]`` are its values on the moving `cells` (positions in the
    flattened ``[part, exporter, importer]``), `reference` ``[draw?, part, exporter, importer]``
    those of every cell (the reference solve's). Each product cell takes the reference's
    `Plan.collapse` (sum, or mean with `weights`), plus its moving parts' changes (weighted by
    their share of the product cell's weight): the same numbers to rounding, without a
    ``[time, part, ...]`` array. `groups` is `_product_groups` of `cells`, when already known;
    `base` the reference's `Plan.collapse` (``[draw?, product, exporter, importer]`` or a
    scalar) and `at_cells` its values on `cells` (``[draw?, cell]`` or a scalar), when known.
    `moved` is used up: its memory holds the changes. With `keep` (increasing positions in the
    flattened ``[product, exporter, importer]``), the output is on those product cells only,
    ``[time, draw?, cell]``.
    """
    if base is None:
        base = plan.collapse(reference, weights)  # [draw?, product, exporter, importer]
    if at_cells is None:
        at_cells = _reference_at(plan, reference, cells, moved.shape[1:-1])
    touched, changes = _product_changes(plan, moved, cells, at_cells, weights, groups)
    return _add_on_products(plan, base, touched, changes, moved.shape[:-1], keep)


def _reference_at(plan: Plan, reference: np.ndarray, cells: np.ndarray, lead: tuple) -> np.ndarray:
    """The reference's values ``[draw?, part, exporter, importer]`` on `cells`, ``[draw?, cell]``."""
    K, n, m = plan.flows.shape
    return np.broadcast_to(reference, (*lead, K, n, m)).reshape(*lead, K * n * m)[..., cells]


def _product_changes(plan: Plan, moved: np.ndarray, cells: np.ndarray, at_cells, weights,
                     groups: tuple | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(touched, changes)``: the product cells that the moving `cells` fall in (`_product_groups`) and the
    change of each, ``[time, draw?, touched]`` (None where there are no cells), from the cells' values
    `moved` ``[time, draw?, cell]`` less the reference's `at_cells`: summed, or with `weights` each cell's
    change weighted by its share of its product cell's weight (see `_on_products`). `moved` is used up."""
    touched, order, runs = _product_groups(plan, cells) if groups is None else groups
    delta = np.subtract(moved, at_cells, out=moved)  # in place, and scaled in place below
    if order is not None:  # cells not already grouped by product cell
        delta = delta[..., order]
    if weights is not None:
        grouped = cells if order is None else cells[order]
        total = plan.weights(weights, on_products=True).reshape(-1)  # the product cells' weights
        delta *= plan.weights(weights).reshape(-1)[grouped] / np.repeat(total[touched],
                                                                         np.diff(np.append(runs, cells.size)))
        # moving cells trade: their product cells' weights are > 0
    return touched, (np.add.reduceat(delta, runs, axis=-1) if cells.size else None)


def _add_on_products(plan: Plan, base, touched: np.ndarray, changes: np.ndarray | None, lead: tuple,
                     keep: np.ndarray | None = None) -> np.ndarray:
    """`base` (``[draw?, product, exporter, importer]`` or a scalar) plus `changes` ``[time, draw?,
    touched]`` (`lead` ``(time, draw?)``; None: no change) on the product cells `touched` (flattened
    ``[product, exporter, importer]``, sorted): ``[time, draw?, product, exporter, importer]``, or with
    `keep` on those product cells only (``[time, draw?, cell]``)."""
    K, n, m = plan.flows.shape
    n_products = plan.split.products.size
    if keep is not None:
        out = np.empty((*lead, keep.size))
        out[...] = base.reshape(*base.shape[:-3], -1)[..., keep] if np.ndim(base) >= 3 else base
        if changes is not None:
            pos, hit = _positions(keep, touched)
            out[..., pos[hit]] += changes[..., hit]
        return out
    out = np.empty((*lead, n_products * n * m))
    out[...] = base.reshape(*base.shape[:-3], -1) if np.ndim(base) >= 3 else base
    if changes is not None:
        out[..., touched] += changes
    return out.reshape(*lead, n_products, n, m)


def _positions(sorted_: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each of `values`' position in `sorted_` (increasing) and whether it is there."""
    pos = np.searchsorted(sorted_, values)
    pos = np.minimum(pos, max(sorted_.size - 1, 0))
    return pos, (sorted_[pos] == values) if sorted_.size else np.zeros(values.size, bool)


def _product_groups(plan: Plan, cells: np.ndarray) -> tuple:
    """``(touched, order, runs)``: the product cells (flattened ``[product, exporter, importer]``) that
    `cells` (of parts) fall in, sorted; the order of `cells` that groups them (None where they are
    grouped already: no gather needed); where each group starts."""
    K, n, m = plan.flows.shape
    cell_product = plan.split.parent[cells // (n * m)] * (n * m) + cells % (n * m)
    if cells.size > 1 and (cell_product[1:] < cell_product[:-1]).any():
        order = np.argsort(cell_product, kind="stable")
        grouped = cell_product[order]
    else:
        order, grouped = None, cell_product
    runs = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]]) if cells.size else np.zeros(0, int)
    return grouped[runs], order, runs


def _period_tariffs(plan: Plan, reference: np.ndarray | None = None,
                    on: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Tariffs per period on products, ``[time, product, exporter, importer]``: `Plan.period_rates`
    averaged over each product's parts with baseline flows as weights (`Plan.collapse`), computed
    on the cells whose tariff changes on the path only. `reference` is ``plan.collapse(plan.t0,
    "flows")``, when already known.

    Halted trade (a rate of ``inf``) is left out of the means, over parts and over days: the second
    array is the share of a product cell's baseline flows and days that is halted, ``[time, product,
    exporter, importer]`` (None where nothing is halted), and the rate is ``inf`` where all of it is.
    With `on` (increasing positions in the flattened ``[product, exporter, importer]``), both are on
    those product cells only, ``[time, cell]``.
    """
    if plan.split is None or plan.split.trivial:
        if on is not None and plan.split is not None and plan.split.cells is not None:  # parts are products
            mean, share = open_mean(plan.period_weights(), plan.split.rates)  # [time, law cell]
            pos, hit = _positions(on, plan.split.cells)
            rates = np.zeros((mean.shape[0], on.size))  # zero off the law's cells
            rates[:, pos[hit]] = mean[:, hit]
            if share is not None:
                full = np.ones_like(rates)
                full[:, pos[hit]] = share[:, hit]
                share = full
            return rates, (None if share is None else 1.0 - share)
        rates, share = plan.period_rates(open_share=True)
        if on is not None:
            rates, share = (None if a is None else a.reshape(a.shape[0], -1)[:, on] for a in (rates, share))
        return rates, (None if share is None else 1.0 - share)
    rates = plan.split.rates  # [regime, cell]: other cells are 0 throughout
    changes = (rates != rates[0]).any(axis=0)
    cells = plan.split.cells[changes]
    mean, share = open_mean(plan.period_weights(), rates[:, changes])  # [time, cell]
    if share is None:
        return _on_products(plan, mean, cells, plan.t0, "flows", base=reference, at_cells=rates[0, changes],
                            keep=on), None
    groups = _product_groups(plan, cells)
    # flows-weighted sums over a product's parts of rate x open days, and of open days: their ratio is the mean
    paid = _on_products(plan, np.where(share > 0, mean, 0.0) * share, cells, plan.t0, "flows", groups, base=reference,
                        at_cells=rates[0, changes], keep=on)
    share = _on_products(plan, share, cells, None, "flows", groups, base=1.0, at_cells=1.0, keep=on)
    with np.errstate(invalid="ignore", divide="ignore"):
        tariff = np.where(share > 1e-15, paid / np.where(share > 1e-15, share, 1.0), np.inf)
    return tariff, 1.0 - share


def _to_periods(parts, values: np.ndarray) -> np.ndarray:
    """`Pieces.to_periods` of `values` ``[piece, ...]`` -> ``[time, ...]``: each period's length-weighted mean.

    One sparse ``[time, piece]`` product: single-threaded, it beats both ``np.add.reduceat`` (whose
    slices are many and short) and a dense matrix product (whose BLAS threads cost more than the
    sums here).
    """
    n_time = int(parts.period.max()) + 1
    return _weighted_sum(parts.period, np.arange(parts.period.size), parts.weight, n_time, values)


def _weighted_sum(row: np.ndarray, col: np.ndarray, weight: np.ndarray, n_rows: int, values: np.ndarray) -> np.ndarray:
    """``[n_rows, ...]``: ``out[row[e]] += weight[e] * values[col[e]]`` for every entry ``e`` (`values` is
    ``[x, ...]``), as one sparse ``[n_rows, x]`` matrix product."""

    values = np.asarray(values, dtype=float)
    matrix = sparse.csr_matrix((weight, (row, col)), shape=(n_rows, len(values)))
    return np.asarray(matrix @ values.reshape(len(values), -1)).reshape(n_rows, *values.shape[1:])


def _by_index(values: np.ndarray, index: np.ndarray, m: int) -> np.ndarray:
    """Cell values ``[..., cell]`` summed by `index` (each cell's group) into ``[..., m]``."""
    onehot = sparse.csr_matrix((np.ones(index.size), (np.arange(index.size), index)), shape=(index.size, m))
    lead = values.shape[:-1]
    rows = int(np.prod(lead))  # not -1: with no cells, a reshape cannot infer it
    return np.asarray(values.reshape(rows, index.size) @ onehot).reshape(*lead, m)


def _country_path(plan: Plan, targets: dict, revenue_change: np.ndarray, kernel, to_periods) -> dict:
    """Per-country outputs ``[time, draw?, country]`` on a partial-adjustment path, by their timing.

    `targets` are each solve's, ``{name: [key, draw?, country]}``; `revenue_change`
    ``[time, draw?, importer]`` is the change of tariff revenue on the path (each period's mean);
    `kernel` moves ``[key, ...]`` values over the pieces and `to_periods` takes ``[piece, ...]``
    values to the periods' means. Every output is linear in its pieces' values, so the tariff
    revenue's is taken on periods directly.
    """
    spec = plan.spec
    timing = {o.name: o.timing for o in spec.outputs}
    names = list(targets)
    change = revenue_change
    before = _reference_revenue(plan).sum(axis=0)  # [importer]
    out = {}
    for name in names:
        kind = timing.get(name, "quantity")
        series = targets[name]
        if kind == "price":
            out[name] = to_periods(series[plan.regime])
        elif kind in ("revenue_change", "revenue_level"):
            by_importer = change if kind == "revenue_change" else change + before
            out[name] = _on_countries(by_importer, plan.importer_position, series.shape[-1])
        elif kind == "quantity":
            out[name] = to_periods(kernel(series, False))
    for name in names:
        if timing.get(name) == "rest":
            out[name] = out["welfare_usd"] - sum(out[w] for w in spec.welfare if w != name)
    return {name: out[name] for name in names}


def _reference_revenue(plan: Plan) -> np.ndarray:
    """The reference's tariff revenue by pair, ``[exporter, importer]`` (USD), read on the law's cells only
    where the plan has them."""
    K, n, m = plan.flows.shape
    if plan.split is None or plan.split.cells is None:
        return (plan.t0 * plan.flows).sum(axis=0)
    return np.bincount(plan.split.cells % (n * m), plan.reference_charges, minlength=n * m).reshape(n, m)


def _on_countries(by_importer: np.ndarray, position: np.ndarray, n_countries: int) -> np.ndarray:
    """Values ``[..., importer]`` placed on the country axis ``[..., country]`` (zero elsewhere)."""
    out = np.zeros(by_importer.shape[:-1] + (n_countries,))
    out[..., position] = by_importer
    return out


def _front_load(out: dict, plan: Plan, rates: np.ndarray, events: list | None = None) -> None:
    """Move imports forward into each announcement window of `plan` and take them back after; in place.

    `out` holds ``"flows"`` (and ``"quantity"``, moved alike where present) as ``[piece, draw?, *cell]``
    and `rates` is ``[regime, *cell]``: cells of a tensor or a list of cells. Each event touches
    only the cells whose tariff rises and the pieces of its windows. `events` is `_load_events` of
    `plan` and `rates` (with ``slices`` where `out` has no quantities), where it is formed once for
    many calls.
    """
    years = plan.memo("front_load", _load_windows)[0]
    dyn = plan.dyn
    n_cells = int(np.prod(rates.shape[1:]))
    flows, qty = out["flows"], out.get("quantity")  # no quantities where only values are kept
    views = [a.reshape(a.shape[0], -1, n_cells) for a in (flows, qty) if a is not None]  # [piece, draw, cell]
    f3, q3 = views[0], (views[1] if qty is not None else None)
    if events is None:
        events = _load_events(plan, rates, slices=q3 is None)
    for e, window, later, span, cols, bump, still, shut in events:  # in order: an event's payback meets the
        # flows the ones before left
        block = (window, slice(None), cols)  # the window's pieces, the rising cells
        ahead = f3[block]
        extra = (ahead * years[window][:, None, None]).sum(axis=0) * bump  # USD bought ahead, [draw, cell]
        if still is not None:
            extra[..., still] = 0.0  # also where a flow is not finite
        f3[block] = ahead * (1 + bump)
        if q3 is not None:
            q3[block] = q3[block] * (1 + bump)
        if later is None:
            continue
        block = (later, slice(None), cols)
        was = f3[block]  # a view where `cols` is a slice, else a copy
        # USD per year taken back, in place unless the quantities need the flows before the take-back (fresh
        # memory is slow to write the first time); on a view that writes the flows themselves, which a failed
        # run discards
        new = was - extra / span if q3 is not None else np.subtract(was, extra / span, out=was)
        if shut is not None:  # a halted piece takes nothing back
            np.copyto(new, 0.0, where=shut[:, None, :])
        # each piece's largest flow, the scale of rounding: needed only where some flow falls below zero (one
        # reduction finds out; NaN stays NaN)
        if new.size and new.min() < 0:
            if (new < -1e-9 * np.abs(f3[later]).max(axis=(1, 2))[:, None, None]).any():
                raise InputError(
                    f"buying ahead of the measures starting {plan.regime_days[e]} takes back more than the imports "
                    f"after it; lower dynamics.front_loading ({dyn.front_loading}) or raise dynamics.payback_months "
                    f"({dyn.payback_months})", key="dynamics.front_loading")
            np.maximum(new, 0.0, out=new)  # in place: these arrays are pieces x draws x cells
        if q3 is not None:
            with np.errstate(invalid="ignore", divide="ignore"):  # where nothing is imported, nothing changes
                q3[block] = np.where(was > 0, q3[block] * new / was, q3[block])
        if not (new is was and isinstance(cols, slice)):  # else written in place already
            f3[block] = new
    for a, view in zip((flows, qty), views):  # where a reshape had to copy, write back
        if not np.shares_memory(a, view):
            a[...] = view.reshape(a.shape)


def _load_events(plan: Plan, rates: np.ndarray, slices: bool) -> list[tuple]:
    """What `_front_load` does for each announced rise of `plan` on cells with tariffs `rates` (``[regime,
    *cell]``), the same for every draw: ``(regime, window, later, span, cols, bump, still, shut)``.

    `window` and `later` are the pieces (slices) of the announcement and of the payback (None where the
    payback is empty), `span` its length in years; `cols` the cells whose tariff rises (not to a halt), or
    with `slices`, where they are most of their span, that span as a slice (views, not gathers), `still`
    then marking its other cells (bought ahead by nothing: x (1 + 0) and x - 0 are x); `bump` the
    front-loading share times their log tariff rise; `shut` ``[later piece, col]`` where the cell's trade
    is halted in that piece (rate inf: it imports nothing, and takes nothing back, the stock bought
    ahead standing in for the halted imports), None where the law halts nothing.
    """
    n_cells = int(np.prod(rates.shape[1:]))
    flat = rates.reshape(len(rates), n_cells)
    halts = plan.memo("halts", lambda p: bool(np.isposinf(p.split.rates).any()))  # halts come from the law only
    out = []
    for e, window, later, span in plan.memo("front_load", _load_windows)[1]:  # a few announcements
        rising = np.flatnonzero((flat[e] > flat[e - 1]) & np.isfinite(flat[e]))  # not halts
        if window.start >= window.stop or not rising.size:
            continue
        bump = rise = plan.dyn.front_loading * (np.log1p(flat[e, rising]) - np.log1p(flat[e - 1, rising]))
        cols, still = rising, None
        lo, hi = int(rising[0]), int(rising[-1]) + 1
        if slices and 2 * rising.size >= hi - lo:
            still = np.ones(hi - lo, bool)
            still[rising - lo] = False
            cols, bump = slice(lo, hi), np.zeros(hi - lo)
            bump[rising - lo] = rise
        shut = None
        if later.start >= later.stop or span <= 0:
            later = None
        elif halts:
            at = plan.regime[later]
            shut = np.isposinf(flat[at, cols] if isinstance(cols, slice) else flat[at[:, None], cols[None]])
            if still is not None:
                shut[:, still] = False  # nothing to take back: left as they are
        out.append((e, window, later, span, cols, bump, still, shut))
    return out


def _load_windows(plan: Plan) -> tuple:
    """``(years, windows)`` of `_front_load`: each piece's length in years ``[piece]``, and for each announced
    rise ``(regime, window, later, span)``: the regime it starts, the pieces (a slice, in time order) between
    announcement and effect and those of its payback, and the payback's length in years."""
    parts = plan.parts
    years = np.asarray((parts.end - parts.start) / pd.Timedelta(days=1), float) / 365.25
    starts = parts.start.values.astype("datetime64[D]")
    ends = parts.end.values.astype("datetime64[D]")
    windows = []
    for announced, effective in plan.events:  # a few announcements
        a64, e64 = np.datetime64(announced, "D"), np.datetime64(effective, "D")
        back64 = np.datetime64((pd.Timestamp(effective) + plan.payback).date(), "D")
        windows.append((plan.regime_days.index(effective),
                        slice(np.searchsorted(starts, a64), np.searchsorted(ends, e64, side="right")),
                        slice(np.searchsorted(starts, e64), np.searchsorted(ends, back64, side="right")),
                        (back64 - e64).astype(float) / 365.25))  # the whole payback, also where the run ends in it
    return years, windows

def _tariffs(name: str, value, baseline: Baseline, fine_values):
    """Tariffs `name` (``"before"`` or ``"after"``) as fractions on the baseline's layout.

    Returns
    -------
    numpy.ndarray, ``[product, exporter, importer]``, or SparseTensor
        Dense for a dense baseline; on a sparse one, a `SparseTensor` on the baseline's cells
        (``baseline.sparse_flows.cells``): a schedule is evaluated there only, and an array
        given (dense, or a `SparseTensor` on any cells) is read there.
    """
    cells = baseline.sparse_flows.cells if baseline.layout == "sparse" else None
    shape = (len(baseline.products), len(baseline.exporters), len(baseline.importers))
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], TariffSchedule):
        schedule, date = value
        rates = schedule.rates(date, baseline.products, baseline.exporters, baseline.importers,
                               fine_values=fine_values, cells=cells)
        return rates if cells is None else SparseTensor(cells, rates)
    if isinstance(value, TariffSchedule):
        raise InputError("is a schedule without a date; pass (schedule, date)", key=name)
    expected = f"expected [product, exporter, importer] = {shape}, the baseline's shape"
    if isinstance(value, SparseTensor):  # read at the baseline's cells: no dense tensor
        if value.shape != shape:
            raise InputError(f"has shape {value.shape}; {expected}", key=name)
        return value.toarray().astype(np.float64) if cells is None else \
            SparseTensor(cells, np.asarray(value.on(cells), dtype=np.float64))
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"is a {type(value).__name__}; expected a tariff array or (schedule, date)",
                         key=name) from None
    if arr.shape != shape:
        raise InputError(f"has shape {arr.shape}; {expected}", key=name)
    return arr if cells is None else SparseTensor(cells, cells.gather(arr))


def _elasticities(value) -> Elasticities:
    if value is None:
        return Elasticities.defaults()
    if isinstance(value, Elasticities):
        return value
    if isinstance(value, Mapping):
        return Elasticities.defaults().with_values(**value)
    raise InputError(f"is a {type(value).__name__}; expected Elasticities or a mapping", key="elasticities")
