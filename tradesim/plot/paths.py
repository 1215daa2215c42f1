"""Plots over time: the tariff timeline by layer, trade paths, and quantile fans of draws."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import InputError, TradesimWarning
from ..results import EnsembleResult, ScenarioResult
from ..results.base import baseline_pairs
from ._common import BN, PALETTE, axes, check_choice, date_axis, index, name, pair_flows, source_note

__all__ = ["tariff_timeline", "trade_path", "fan", "rate_series"]

# variable -> (label, unit label); values come from `_pair_values`
PATH_VARIABLES = {
    "imports": "imports, USD bn per year",
    "exports": "exports, USD bn per year",
    "revenue": "tariff revenue, USD bn per year",
    "tariff": "tariff, % (weighted by baseline trade)",
    "value_change": "imports, % change from baseline",
}
FAN_VARIABLES = {**PATH_VARIABLES, "welfare": "welfare, USD bn per year"}


# fan variables of an EnsembleResult: its pair variable and the factor to the plotted unit
_ENSEMBLE = {"imports": ("imports_usd", BN), "exports": ("imports_usd", BN), "revenue": ("revenue_usd", BN),
             "tariff": ("tariff_pct", 1.0), "value_change": ("value_change_pct", 1.0)}


def _scenario_result(result) -> ScenarioResult:
    if not isinstance(result, ScenarioResult):
        raise InputError(f"expected a ScenarioResult (a scenario run over time), got {type(result).__name__}",
                         key="result")
    return result


def _steps(ax, result, y, **kw):
    """Draw period values as steps over ``[dates[t], period_ends[t])``; returns the Line2D."""
    x = list(result.dates) + [result.period_ends[-1]]
    (line,) = ax.step(x, list(y) + [y[-1]], where="post", **kw)
    return line


def _dress(ax, ylabel: str, title: str) -> None:
    """Labels, date ticks, legend and grid of a plot over periods."""
    ax.set_ylabel(ylabel)
    ax.set_xlabel("period")
    date_axis(ax)
    ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _pair_values(result, variable: str, exporter: str, importer: str, flows: np.ndarray,
                 revenue: np.ndarray) -> np.ndarray:
    """A pair variable per period from flows/revenue ``[..., time, k, i, j]``; shape ``[..., time]``.

    On a sparse baseline's cells (`ScenarioResult.cells`), from the result's pair variables, with
    the draws when `flows` has them and their mean otherwise."""
    (i,), (j,) = index(result, exporter, "pairs", "exporters"), index(result, importer, "pairs", "importers")
    if getattr(result, "cells", None) is not None:
        if baseline_pairs(result.baseline)[i, j] <= 0:
            raise InputError(f"no baseline trade from {exporter} to {importer}", key="pairs")
        key, scale = _ENSEMBLE[variable]
        values = np.asarray(result.arrays("pair")[key], float)[..., i, j] * scale
        return values.mean(axis=0) if result.n_draws and flows.ndim < result.flows.ndim else values
    base = result.baseline.flows[:, i, j]
    if base.sum() <= 0:
        raise InputError(f"no baseline trade from {exporter} to {importer}", key="pairs")
    if variable in ("imports", "exports"):
        return flows[..., i, j].sum(axis=-1) * BN
    if variable == "revenue":
        return revenue[..., i, j].sum(axis=-1) * BN
    if variable == "value_change":
        return 100 * (flows[..., i, j].sum(axis=-1) / base.sum() - 1)
    tariff, weights = result.tariff[:, :, i, j], np.broadcast_to(base, result.tariff.shape[:2])
    if getattr(result, "halted", None) is not None:  # halted trade pays nothing: the mean over the rest
        weights = weights * (1 - result.halted[:, :, i, j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100 * (np.where(weights > 0, tariff, 0.0) * weights).sum(axis=-1) / weights.sum(axis=-1)


def _baseline_level(result, variable, exporter, importer) -> float | None:
    """The pair's value with the baseline's flows and reference tariffs (None for changes)."""
    (i,), (j,) = index(result, exporter, "pairs", "exporters"), index(result, importer, "pairs", "importers")
    if getattr(result, "cells", None) is not None:  # from the pair variables of the result on its cells
        pair = {k: np.asarray(v)[..., i, j] for k, v in result.arrays("pair").items()}
        return {"imports": pair["imports_baseline_usd"] * BN, "exports": pair["imports_baseline_usd"] * BN,
                "revenue": pair["revenue_baseline_usd"] * BN, "tariff": pair["tariff_baseline_pct"],
                "value_change": None}[variable]
    base = result.baseline.flows[:, i, j]
    return {
        "imports": base.sum() * BN,
        "exports": base.sum() * BN,
        "revenue": (result.tariff_reference[:, i, j] * base).sum() * BN,
        "tariff": 100 * (result.tariff_reference[:, i, j] * base).sum() / base.sum(),
        "value_change": None,
    }[variable]


def _pair_label(variable, exporter, importer) -> str:
    if variable == "exports":
        return f"{name(exporter)} to {name(importer)}"
    return f"{name(importer)} from {name(exporter)}"


def trade_path(result, variable: str = "imports", pairs=None, *, against=None, ax=None, figsize=None):
    """A variable over the scenario's dates, one line per pair, against the baseline or another run.

    Parameters
    ----------
    result : ScenarioResult
    variable : {"imports", "exports", "revenue", "tariff", "value_change"}
        Imports of the importer from the exporter (``"exports"``: the same flow, labelled
        from the exporter's side) or tariff revenue, in USD bn per year; the trade-weighted
        tariff in percent; or the change of imports from the baseline in percent.
    pairs : iterable of (exporter, importer), optional
        The pairs whose tariffs change (`ScenarioResult.changed_pairs`) when None.
    against : ScenarioResult, optional
        A counterfactual on the same dates, drawn dashed; without it the baseline level is
        the dashed line.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size of a new figure in inches; not with `ax`.

    Returns
    -------
    matplotlib.axes.Axes
        Solid step lines: the scenario (the mean over draws, if any); dashed: `against` or
        the baseline.
    """
    result = _scenario_result(result)
    check_choice(variable, PATH_VARIABLES, "variable")
    if against is not None:
        _scenario_result(against)
        if not result.dates.equals(against.dates):
            raise InputError("against has different dates; run it on this result's dates "
                             "(Scenario.counterfactual does)", key="against")
    pairs = result.changed_pairs() if pairs is None else [tuple(p) for p in pairs]
    if not pairs:
        raise InputError("no pairs to draw: the scenario changes no tariff with trade; name pairs", key="pairs")
    ax = axes(ax, figsize)
    mean = (lambda r, a: a.mean(axis=0) if r.n_draws else a)
    for n, (exporter, importer) in enumerate(pairs):
        colour = PALETTE[n % len(PALETTE)]
        y = _pair_values(result, variable, exporter, importer, mean(result, result.flows), mean(result, result.revenue))
        _steps(ax, result, y, color=colour, lw=2, label=_pair_label(variable, exporter, importer))
        if against is not None:
            other = _pair_values(against, variable, exporter, importer, mean(against, against.flows),
                                 mean(against, against.revenue))
            _steps(ax, against, other, color=colour, lw=1.2, ls="--")
        elif (level := _baseline_level(result, variable, exporter, importer)) is not None:
            ax.axhline(level, color=colour, lw=1.2, ls="--")
    if variable == "value_change" and against is None:
        ax.axhline(0, color="0.4", lw=0.8)
    _dress(ax, PATH_VARIABLES[variable], f"{result.scenario.name}: {PATH_VARIABLES[variable].split(',')[0]}")
    dashed = f"dashed: {against.scenario.name}" if against is not None else (
        "dashed: baseline" if variable != "value_change" else "")
    source_note(ax, result, "; ".join(filter(None, [dashed, f"mean of {result.n_draws} draws" if result.n_draws
                                                    else ""])))
    return ax


def tariff_timeline(result, exporter: str, importer: str, *, marks: bool = True, fine_values=None, ax=None,
                    figsize=None):
    """The tariff on one pair over time: layers of tariff law stacked, and the effective rate.

    The stacked areas are each layer's statutory rate averaged over the pair's products
    with baseline trade as weights (what a tariff tracker calls the pre-substitution
    rate), day by day; they sum to the total. Trade that a halt stops pays nothing and is
    left out of the weights on the days it is halted. The line is the effective rate of each
    period, weighted by the simulated trade of that period (post-substitution), which falls
    below the stack when trade moves away from the most taxed goods.

    Parameters
    ----------
    result : ScenarioResult
    exporter, importer : str
        Country codes.
    marks : bool
        Mark the days measures of the pair were announced (open triangles) and took effect
        (ticks) along the top.
    fine_values : optional
        As given to `tradesim.simulate`, for products that measures cover in part.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        The stack is a ``PolyCollection`` per layer, labelled with the layer; the line is
        labelled ``"effective rate (simulated trade)"``.
    """
    result = _scenario_result(result)
    (i,), (j,) = index(result, exporter, "exporter", "exporters"), index(result, importer, "importer", "importers")
    if exporter == importer:
        raise InputError(f"exporter and importer are both {exporter}", key="exporter")
    weights = pair_flows(result.baseline, i, j)
    if weights.sum() <= 0:
        raise InputError(f"no baseline trade from {exporter} to {importer}", key="exporter")
    schedule = result.scenario.schedule
    first, last = result.dates[0].date(), result.period_ends[-1].date()
    days = [first, *(d for d in schedule.change_dates() if first < d < last)]
    with warnings.catch_warnings():  # the split of partly covered products was reported by the run itself
        warnings.simplefilter("ignore", TradesimWarning)
        parts = schedule.layer_rates(days, result.baseline.products, exporter, importer, fine_values=fine_values)
    # halted trade pays nothing and is left out: each product weighs its trade not halted on the day
    parts["weight"] = parts["product"].map(dict(zip(result.baseline.products, weights))) * (1 - parts["halted"])
    parts["weighted"] = parts["rate"].where(parts["weight"] > 0, 0.0) * parts["weight"]
    table = parts.pivot_table(index="date", columns="layer", values="weighted", aggfunc="sum", sort=False)
    open_trade = parts.drop_duplicates(["date", "product"]).groupby("date", sort=False)["weight"].sum()
    table = 100 * table.reindex(days).div(open_trade.reindex(days).where(lambda x: x > 0), axis=0).fillna(0.0)
    halted = bool((parts["halted"] > 0).any())
    table = table.loc[:, table.max() > 0]
    # oldest layers at the bottom
    table = table[sorted(table.columns, key=lambda c: (table[c] > 0).to_numpy().argmax())]

    ax = axes(ax, figsize)
    x = pd.to_datetime(days + [last])
    values = table.to_numpy().T  # [layer, day]
    stack = np.hstack([values, values[:, -1:]])  # the last day's rates hold to the end
    colours = [PALETTE[n % len(PALETTE)] for n in range(len(table.columns))]
    ax.stackplot(x, stack, labels=list(table.columns), colors=colours, step="post", alpha=0.85, lw=0)
    effective = 100 * result.effective_rate(importer, exporter, weights="post").to_numpy()
    _steps(ax, result, effective, color="black", lw=1.6, label="effective rate (simulated trade)")
    if marks:
        import matplotlib.transforms as mtransforms

        top = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        touching = set(parts.loc[parts["rate"] > 0, "measure"])  # measures that tax some of the pair's goods
        ours = [m for m in schedule.measures if m.name in touching]
        effect = sorted({m.start for m in ours if first < m.start < last} | {m.end for m in ours if m.end
                                                                            and first < m.end < last})
        announced = sorted({m.announced for m in ours if m.announced and first <= m.announced < last})
        if effect:
            ax.plot(pd.to_datetime(effect), [1.0] * len(effect), ls="none", marker="|", ms=9, color="0.25",
                    transform=top, clip_on=False, label="change takes effect")
        if announced:
            ax.plot(pd.to_datetime(announced), [1.0] * len(announced), ls="none", marker="v", ms=6, mfc="none",
                    color="0.25", transform=top, clip_on=False, label="announced")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, max(stack.sum(axis=0).max(), np.nanmax(effective)) * 1.08 + 1e-9)
    mfn = any(m.kind == "mfn" for m in schedule.measures if m.importer == importer)
    ax.set_ylabel(("tariff" if mfn else "additional tariff (above MFN)") + ", % (trade-weighted)")
    ax.set_xlabel("date")
    date_axis(ax)
    ax.set_title(f"{name(importer)}: tariffs on goods from {name(exporter)}", pad=12)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)
    source_note(ax, result, "layers weighted by baseline trade, day by day; line: period means"
                + ("; halted trade left out" if halted else ""))
    return ax


def fan(result, variable: str = "imports", of=None, *, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95), ax=None,
        figsize=None):
    """Quantile bands of a result with draws over time: the spread from elasticity uncertainty.

    Parameters
    ----------
    result : EnsembleResult or ScenarioResult
        An ensemble (`tradesim.ensemble.run`), or a scenario run with a draw axis.
    variable : {"imports", "exports", "revenue", "tariff", "value_change", "welfare"}
        As in `trade_path`; ``"welfare"`` is a country's welfare change in USD bn per year.
    of : (exporter, importer) or str
        The pair, or for ``"welfare"`` the country.
    quantiles : sequence of float
        Odd number of levels in (0, 1), symmetric about the median, which is drawn as a
        line; each symmetric pair is a band, lighter outwards.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        One ``PolyCollection`` per band (outermost first) and the median line.
    """
    if not isinstance(result, EnsembleResult):
        result = _scenario_result(result)
    check_choice(variable, FAN_VARIABLES, "variable")
    if not result.n_draws:
        raise InputError("the result has no draws; simulate with elasticity draws for a fan", key="result")
    q = np.asarray(quantiles, dtype=float)
    if q.ndim != 1 or q.size % 2 == 0 or not np.all((q > 0) & (q < 1)) or not np.allclose(q + q[::-1], 1) \
            or np.any(np.diff(q) <= 0):
        raise InputError(f"quantiles {list(quantiles)} must be an odd number of increasing levels in (0, 1), "
                         "symmetric about 0.5", key="quantiles")
    if variable == "welfare":
        if not isinstance(of, str):
            raise InputError(f"of is {of!r}; welfare needs a country code", key="of")
        (c,) = index(result, of, "of")
        values = result.country_values["welfare_usd"][:, :, c] * BN
        label = name(of)
    else:
        if of is None or isinstance(of, str) or len(of) != 2:
            raise InputError(f"of is {of!r}; expected (exporter, importer)", key="of")
        exporter, importer = of
        if isinstance(result, EnsembleResult):  # sums over products by pair, [draw, time, i, j]
            (i,), (j,) = index(result, exporter, "of", "exporters"), index(result, importer, "of", "importers")
            if baseline_pairs(result.baseline)[i, j] <= 0:
                raise InputError(f"no baseline trade from {exporter} to {importer}", key="of")
            key, scale = _ENSEMBLE[variable]
            values = result.pair_values(key)[:, :, i, j] * scale
        else:
            values = _pair_values(result, variable, exporter, importer, result.flows, result.revenue)
        values = np.broadcast_to(values, (result.n_draws, len(result.dates)))
        label = _pair_label(variable, exporter, importer)
    bands = np.quantile(values, q, axis=0)  # [quantile, time]
    ax = axes(ax, figsize)
    x = list(result.dates) + [result.period_ends[-1]]
    n = q.size // 2
    for b in range(n):
        lo, hi = bands[b], bands[-1 - b]
        ax.fill_between(x, list(lo) + [lo[-1]], list(hi) + [hi[-1]], step="post", color=PALETTE[0],
                        alpha=0.18 + 0.5 * b / max(n, 1), lw=0,
                        label=f"{100 * q[b]:g}-{100 * q[-1 - b]:g}th percentile")
    _steps(ax, result, bands[n], color=PALETTE[0], lw=2, label=f"median, {label}")
    _dress(ax, FAN_VARIABLES[variable], f"{result.scenario.name}: {FAN_VARIABLES[variable].split(',')[0]}, {label}")
    source_note(ax, result, f"{result.n_draws} elasticity draws")
    return ax


def rate_series(table: pd.DataFrame, columns=None, *, top: int = 6, end=None, title: str = "", ax=None,
                figsize=None):
    """A table of trade-weighted rates over time (`tradesim.law.TariffSchedule.rate_table`) as step lines.

    Parameters
    ----------
    table : pandas.DataFrame
        Index: the days the law changes; columns: partners, sections or layers (percent), with
        ``"all"``.
    columns : iterable of str, optional
        The columns to draw; by default ``"all"`` and the `top` others with the highest mean rate.
    top : int
        How many columns to choose when `columns` is None.
    end : date or str, optional
        The right edge of the last step (default: a year after the last change).
    title : str
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        One step line per column (``"all"`` thick and black), its label the column's name
        (country names for partners).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"CHN": [10.0, 40.0], "all": [2.0, 8.0]}, index=pd.to_datetime(["2025-01-01", "2025-04-05"]))
    >>> [line.get_label() for line in rate_series(t).get_lines()]
    ['all partners', 'China']
    """
    if not isinstance(table, pd.DataFrame) or not isinstance(table.index, pd.DatetimeIndex) or table.empty:
        raise InputError("expected the DataFrame of rate_table: dates as the index, rates in percent",
                         key="table")
    if not isinstance(top, int) or top < 0:
        raise InputError(f"top is {top!r}; expected a whole number >= 0", key="top")
    if columns is None:
        others = table.drop(columns=[c for c in ("all",) if c in table]).mean().sort_values(ascending=False)
        columns = (["all"] if "all" in table else []) + list(others.index[:top])
    missing = [c for c in columns if c not in table]
    if missing:
        raise InputError(f"columns {missing} are not in the table; it has {list(table.columns)}", key="columns")
    last = pd.Timestamp(end) if end is not None else table.index[-1] + pd.DateOffset(months=3)
    x = list(table.index) + [last]
    ax = axes(ax, figsize)
    styles = iter([(colour, dash) for dash in ("-", "--", ":") for colour in PALETTE[:-1]])  # 21 distinct lines
    for c in columns:
        y = table[c].to_numpy(float)
        label = "all partners" if c == "all" else (name(c) if len(c) == 3 and c.isupper() else c)
        colour, dash = ("black", "-") if c == "all" else next(styles, ("0.5", "-"))
        ax.step(x, list(y) + [y[-1]], where="post", label=label, lw=2.4 if c == "all" else 1.4, color=colour,
                linestyle=dash)
    ax.set_ylabel("tariff, % (trade-weighted, before substitution)")
    ax.set_xlabel("date")
    date_axis(ax)
    ax.set_title(title or "Trade-weighted tariff rates")
    ax.legend(frameon=False, fontsize=8, ncol=2)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylim(bottom=0)
    return ax
