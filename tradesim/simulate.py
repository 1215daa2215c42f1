"""`simulate`: the one place where baselines, tariff law, elasticities and models meet.

A single change (tariffs before and after) is one model solve. A scenario is compiled to a plan
(`tradesim.scenario.plan.compile_plan`: periods x tariff regimes x elasticity multipliers) and
`run_plan` solves it; `tradesim.ensemble` runs the same plan over elasticity draws.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .data import Baseline, load_fine_values
from .elasticities import Elasticities
from .errors import InputError
from .law import TariffSchedule
from .models import get_model
from .results import ScenarioResult, SimulationResult
from .scenario import Scenario, load_scenario
from .scenario import dynamics
from .scenario.plan import Plan, compile_plan, model_options, piece_keys

__all__ = ["simulate", "run_plan", "parameters_for", "behaviour_notes"]


def simulate(
    baseline: Baseline | None,
    before,
    after=None,
    model: str | None = None,
    elasticities: Elasticities | Mapping | None = None,
    *,
    fine_values=None,
    progress: bool = False,
    **options,
):
    """Simulate a change of tariffs from `before` to `after`, or a scenario's time path, on `baseline`.

    Parameters
    ----------
    baseline : Baseline or None
        None with a scenario: the scenario's own baseline.
    before : array_like, (TariffSchedule, date), Scenario or str
        Tariffs ``[product, exporter, importer]`` as fractions, or a schedule and the date
        at which to read it. Or a `Scenario` (or the name or path of one, without `after`):
        then the model runs over the scenario's dates (see `tradesim.scenario.dynamics`) and the
        result is a `ScenarioResult`.
    after : array_like or (TariffSchedule, date)
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

    Returns
    -------
    SimulationResult or ScenarioResult

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
        baseline = before.load_baseline() if baseline is None else baseline
        if not isinstance(baseline, Baseline):
            raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
        return _simulate_path(baseline, before, model or before.model,
                              before.elasticities if elasticities is None else _elasticities(elasticities),
                              fine_values, progress, options)
    if after is None:
        raise InputError("missing the tariffs after the change (or pass a Scenario as `before`)", key="after")
    if not isinstance(baseline, Baseline):
        raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
    model = model or "pe"
    spec = get_model(model)
    if isinstance(fine_values, str):
        fine_values = load_fine_values(fine_values)
    t0 = _tariffs("before", before, baseline, fine_values)
    t1 = _tariffs("after", after, baseline, fine_values)
    elasticities = _elasticities(elasticities)
    params = parameters_for(spec, elasticities, baseline)
    notes = model_options(spec, baseline, options)
    solution = spec.solve(baseline.flows, t0, t1, **params, **options)
    return SimulationResult(baseline, model, solution, t0, t1, elasticities,
                            tuple(notes + behaviour_notes(spec, params)))


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
              label: str = "", by_pair: bool = False, draws: bool = False) -> dict:
    """Solve every piece of `plan` with elasticities `params`; arrays per piece.

    Parameters
    ----------
    draws : bool
        `params` have a leading draw axis, which every output keeps (even of length one).
    by_pair : bool
        Sum flows and revenue over products (and keep nothing else per pair). Under
        elasticity adjustment without anticipation the sums are taken after each solve, so
        memory does not grow with the number of pieces times the product axis.

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
    if plan.events:
        keep = tuple(dict.fromkeys((*keep, "quantity")))
    early = by_pair and plan.dyn.adjustment != "partial" and not plan.events

    def solve(r: int, m: float):
        p = dict(params)
        if m != 1.0:
            p.update({name: np.asarray(p[name], float) * m for name in spec.short_run})
        return spec.solve(plan.flows, plan.t0, plan.rates[r], **p, **plan.options)

    solved = {}
    for key in tqdm(plan.keys, desc=label, unit="solve", delay=1.0, disable=not progress,
                    leave=False):  # dates, not products: each solve is vectorised over the whole tensor
        solved[key] = _outputs(solve(*key), keep, draws)
        if early:
            solved[key] = _pair_sums(solved[key], plan.rates[key[0]])
    if plan.dyn.adjustment == "partial":
        return _partial(plan, solved, by_pair)
    order = [solved[k] for k in plan.piece_keys]
    out = {name: np.stack([o[name] for o in order]) for name in (("flows", "revenue") if early else keep)}
    out["country"] = {name: np.stack([o["country"][name] for o in order]) for name in order[0]["country"]}
    if not early:
        if plan.events:
            _front_load(out, plan.events, plan.parts, plan.rates, plan.regime_days, plan.dyn, plan.payback)
        tariff = plan.rates[plan.regime]  # [piece, k, i, j]
        out["revenue"] = (tariff[:, None] if out["flows"].ndim == 5 else tariff) * out["flows"]
        if by_pair:
            out = {"flows": out["flows"].sum(axis=-3), "revenue": out["revenue"].sum(axis=-3),
                   "country": out["country"]}
    to_periods = plan.parts.to_periods
    return {**{k: to_periods(v) for k, v in out.items() if k != "country"},
            "country": {k: to_periods(v) for k, v in out["country"].items()}}


def _pair_sums(outputs: dict, tariff: np.ndarray) -> dict:
    """One solve's flows and tariff revenue summed over products, ``[draw?, i, j]``, and its country table."""
    flows = outputs["flows"]
    return {"flows": flows.sum(axis=-3), "revenue": (tariff * flows).sum(axis=-3), "country": outputs["country"]}


def _simulate_path(baseline: Baseline, scenario, model: str, elasticities: Elasticities, fine_values, progress: bool,
                   options: dict) -> ScenarioResult:
    """Run `model` over the periods of `scenario`; see `tradesim.scenario.dynamics` for the method."""
    plan = compile_plan(baseline, scenario, model, fine_values, options)
    params = parameters_for(plan.spec, elasticities, baseline)
    out = run_plan(plan, params, progress=progress, label=f"{scenario.name} ({model})")
    parts = plan.parts
    weights = {"flows": None, "revenue": None, "quantity": "flows", "buyer_price": "spending"}
    per = {name: plan.collapse(a, weights[name]) for name, a in out.items() if name != "country"}
    country = out["country"]
    if out["flows"].ndim == 5:  # [time, draw, ...] -> [draw, time, ...]
        per = {k: np.moveaxis(v, 1, 0) for k, v in per.items()}
        country = {k: np.moveaxis(v, 1, 0) for k, v in country.items()}
    starts, ends = scenario.periods()
    return ScenarioResult(
        scenario=scenario, baseline=baseline, model=model, dates=starts, period_ends=ends,
        tariff=plan.collapse(plan.period_rates(), "flows"),
        tariff_reference=plan.collapse(plan.t0, "flows"), flows=per["flows"],
        quantity=per["quantity"], buyer_price=per["buyer_price"], revenue=per["revenue"], country_values=country,
        elasticity_multiplier=parts.to_periods(plan.mult), elasticities=elasticities, shock_start=plan.shock,
        notes=plan.notes + tuple(behaviour_notes(plan.spec, params)))


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


_PATH_ELEMENTS = 2**23  # elements of one [piece, draw?, cell] array of a partial-adjustment path chunk (64 MiB)


def _partial(plan: Plan, solved: dict, by_pair: bool) -> dict:
    """Periods' values under partial adjustment towards each regime's long-run equilibrium.

    Quantities and flows move in logs with the half-life (a share `persistence` of every fall
    staying); buyer prices take the current regime's equilibrium at once. Per-country outputs
    follow their declared timing (`tradesim.models.registry.Output`): prices at once, tariff
    revenue from the path's flows, welfare towards each regime's with the quantities' weights,
    and the remaining welfare part (consumer surplus in PE) as welfare less the others, so the
    parts still add up. The first step after a rise is then a transfer from buyers to the
    treasury (and exporters), and the deadweight loss phases in with the quantities.

    The path is computed on the cells with trade that some regime moves (their tariff or their
    equilibrium), in chunks of cells that bound memory; every other cell keeps its baseline
    values, so the work grows with the trade the scenario touches, not with the baseline.
    """
    keys, dyn, regime, parts = plan.keys, plan.dyn, plan.regime, plan.parts
    targets = [solved[k] for k in keys]
    starts = [pd.Timestamp(plan.regime_days[r]) for r, _ in keys]
    times = parts.middle
    first = targets[0]
    shape = plan.flows.shape
    n = int(np.prod(shape))
    lead = first["flows"].shape[:-3]  # (draw,) or ()
    names = [name for name in ("flows", "quantity", "buyer_price") if name in first]

    def flat(a):
        return a.reshape(*lead, n)

    rates = plan.rates.reshape(len(plan.rates), n)
    moving = (rates != rates[0]).any(axis=0)
    for t in targets[1:]:
        for name in names:
            moving |= (flat(t[name]) != flat(first[name])).reshape(-1, n).any(axis=0)
    cells = np.flatnonzero(moving & (plan.flows.reshape(n) > 0))
    n_time = int(parts.period.max()) + 1
    weights = _piece_weights(parts.period, parts.weight, n_time)  # [time, piece]

    def kernel(stacked, log):  # [regime, ..., cell] -> [piece, ..., cell]
        return dynamics.partial_adjustment(stacked, starts, times, dyn.half_life_months, log=log,
                                           persistence=dyn.persistence if log else 0.0)

    def to_periods(a):  # [piece, ...] -> [time, ...], as one matrix product
        return np.tensordot(weights, a, axes=1)

    # the moving cells' paths, a chunk of cells at a time; period values only are kept
    step = max(1, _PATH_ELEMENTS // (len(regime) * int(np.prod(lead))))
    moved = {name: np.empty((n_time, *lead, cells.size)) for name in (*names, "revenue")}
    revenue_change = np.zeros((len(regime), *lead, shape[2]))
    importer = cells % shape[2]
    for lo in range(0, cells.size, step):  # chunks of cells bound memory; each is vectorised
        c = cells[lo:lo + step]
        sub = {name: np.stack([flat(t[name])[..., c] for t in targets]) for name in names}
        out = {"flows": kernel(sub["flows"], True)}
        if "quantity" in sub:
            out["quantity"] = kernel(sub["quantity"], True)
        if "buyer_price" in sub:
            out["buyer_price"] = sub["buyer_price"][regime]  # prices move at once: the current regime's
        if plan.events:
            _front_load(out, plan.events, parts, rates[:, c], plan.regime_days, dyn, plan.payback)
        tariff = rates[:, c][regime]  # [piece, cell]
        out["revenue"] = (tariff[:, None] if lead else tariff) * out["flows"]
        change = out["revenue"] - rates[0, c] * plan.flows.reshape(n)[c]
        revenue_change += _by_index(change, importer[lo:lo + step], shape[2])
        for name in moved:
            moved[name][..., lo:lo + step] = to_periods(out[name])
    country = {k: to_periods(v) for k, v in _country_path(plan, targets, revenue_change, kernel).items()}
    if by_pair:  # sums over products: the cells that stay add their baseline values to every period
        pair = cells % (shape[1] * shape[2])
        still = np.ones(n, bool)
        still[cells] = False
        base_flows = np.where(still.reshape(shape), plan.flows, 0.0).sum(axis=0)
        base_revenue = np.where(still.reshape(shape), plan.t0 * plan.flows, 0.0).sum(axis=0)
        pairs = (shape[1], shape[2])
        return {"flows": base_flows + _by_index(moved["flows"], pair, pairs[0] * pairs[1]).reshape(
                    *moved["flows"].shape[:-1], *pairs),
                "revenue": base_revenue + _by_index(moved["revenue"], pair, pairs[0] * pairs[1]).reshape(
                    *moved["revenue"].shape[:-1], *pairs),
                "country": country}
    full = {}
    for name in names:
        a = np.broadcast_to(flat(first[name]), (n_time, *lead, n)).copy()
        a[..., cells] = moved[name]
        full[name] = a.reshape(n_time, *lead, *shape)
    rev = np.broadcast_to(rates[0] * plan.flows.reshape(n), (n_time, *lead, n)).copy()
    rev[..., cells] = moved["revenue"]
    full["revenue"] = rev.reshape(n_time, *lead, *shape)
    full["country"] = country
    return full


def _piece_weights(period: np.ndarray, weight: np.ndarray, n_time: int) -> np.ndarray:
    """``[time, piece]``: each piece's share of its period (the matrix of `Pieces.to_periods`)."""
    out = np.zeros((n_time, period.size))
    out[period, np.arange(period.size)] = weight
    return out


def _by_index(values: np.ndarray, index: np.ndarray, m: int) -> np.ndarray:
    """Cell values ``[..., cell]`` summed by `index` (each cell's group) into ``[..., m]``."""
    from scipy import sparse

    onehot = sparse.csr_matrix((np.ones(index.size), (np.arange(index.size), index)), shape=(index.size, m))
    lead = values.shape[:-1]
    return np.asarray(values.reshape(-1, index.size) @ onehot).reshape(*lead, m)


def _country_path(plan: Plan, targets: list, revenue_change: np.ndarray, kernel) -> dict:
    """Per-country outputs ``[piece, draw?, country]`` on a partial-adjustment path, by their timing.

    `revenue_change` ``[piece, draw?, importer]`` is the change of tariff revenue on the path.
    """
    spec = plan.spec
    timing = {o.name: o.timing for o in spec.outputs}
    names = list(targets[0]["country"])
    change = revenue_change
    before = (plan.t0 * plan.flows).sum(axis=(0, 1))  # [importer]
    out = {}
    for name in names:
        kind = timing.get(name, "quantity")
        series = np.stack([t["country"][name] for t in targets])
        if kind == "price":
            out[name] = series[plan.regime]
        elif kind in ("revenue_change", "revenue_level"):
            by_importer = change if kind == "revenue_change" else change + before
            out[name] = _on_countries(by_importer, plan.importer_position, series.shape[-1])
        elif kind == "quantity":
            out[name] = kernel(series, False)
    for name in names:
        if timing.get(name) == "rest":
            out[name] = out["welfare_usd"] - sum(out[w] for w in spec.welfare if w != name)
    return {name: out[name] for name in names}


def _on_countries(by_importer: np.ndarray, position: np.ndarray, n_countries: int) -> np.ndarray:
    """Values ``[..., importer]`` placed on the country axis ``[..., country]`` (zero elsewhere)."""
    out = np.zeros(by_importer.shape[:-1] + (n_countries,))
    out[..., position] = by_importer
    return out


def _front_load(out: dict, events: list, parts, rates: np.ndarray, regime_days: list, dyn, payback) -> None:
    """Move imports forward into each announcement window and take them back after; in place."""
    years = np.asarray((parts.end - parts.start) / pd.Timedelta(days=1), float) / 365.25
    starts = parts.start.values.astype("datetime64[D]")
    ends = parts.end.values.astype("datetime64[D]")
    flows, qty = out["flows"], out["quantity"]
    for announced, effective in events:
        e = regime_days.index(effective)
        rise = np.clip(np.log1p(rates[e]) - np.log1p(rates[e - 1]), 0, None)  # [k, i, j]
        a64, e64 = np.datetime64(announced, "D"), np.datetime64(effective, "D")
        back64 = np.datetime64((pd.Timestamp(effective) + payback).date(), "D")
        window = np.flatnonzero((starts >= a64) & (ends <= e64))
        later = np.flatnonzero((starts >= e64) & (ends <= back64))
        if not window.size or not rise.any():
            continue
        bump = dyn.front_loading * rise
        extra = sum(flows[p] * bump * years[p] for p in window)  # USD bought ahead
        for p in window:
            flows[p] = flows[p] * (1 + bump)
            qty[p] = qty[p] * (1 + bump)
        span = (back64 - e64).astype(float) / 365.25  # the whole payback window, also where the run ends inside it
        if not later.size or span <= 0:
            continue
        cut = extra / span  # USD per year taken back
        for p in later:
            new = flows[p] - cut
            if (new < -1e-9 * np.abs(flows[p]).max()).any():
                raise InputError(
                    f"buying ahead of the measures starting {effective} takes back more than the imports after it; "
                    f"lower dynamics.front_loading ({dyn.front_loading}) or raise dynamics.payback_months "
                    f"({dyn.payback_months})", key="dynamics.front_loading")
            with np.errstate(invalid="ignore", divide="ignore"):
                qty[p] = np.where(flows[p] > 0, qty[p] * np.clip(new, 0, None) / flows[p], qty[p])
            flows[p] = np.clip(new, 0, None)


def _tariffs(name: str, value, baseline: Baseline, fine_values) -> np.ndarray:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], TariffSchedule):
        schedule, date = value
        return schedule.rates(date, baseline.products, baseline.exporters, baseline.importers,
                              fine_values=fine_values)
    if isinstance(value, TariffSchedule):
        raise InputError("is a schedule without a date; pass (schedule, date)", key=name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"is a {type(value).__name__}; expected a tariff array or (schedule, date)",
                         key=name) from None
    if arr.shape != baseline.flows.shape:
        raise InputError(f"has shape {arr.shape}; expected [product, exporter, importer] = {baseline.flows.shape}",
                         key=name)
    return arr


def _elasticities(value) -> Elasticities:
    if value is None:
        return Elasticities.defaults()
    if isinstance(value, Elasticities):
        return value
    if isinstance(value, Mapping):
        return Elasticities.defaults().with_values(**value)
    raise InputError(f"is a {type(value).__name__}; expected Elasticities or a mapping", key="elasticities")
