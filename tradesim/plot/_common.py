"""What every plot helper shares: axes, palette, labels, the source note and a result at one date."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..codes import country_name
from ..data.layout import check_fits, dense_bytes
from ..errors import InputError
from ..results import EnsembleResult, ScenarioResult, SimulationResult
from ..results.base import positions

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# ColorBrewer's red-blue is safe for the common colour-vision deficiencies; red is the rise in a tariff
# and the fall in trade or welfare.
DIVERGING = {"up_is_bad": "RdBu_r", "up_is_good": "RdBu"}
BN = 1e-9  # USD -> USD bn


def axes(ax, figsize, default=(8, 4.5)):
    """`ax`, or the Axes of a new figure of `figsize` inches; both at once is an error."""
    import matplotlib.pyplot as plt

    if ax is not None and figsize is not None:
        raise InputError("give ax or figsize, not both", key="figsize")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize or default, layout="constrained")
    return ax


def name(code: str) -> str:
    """Country name for labels; the code itself when it is not a known country or group."""
    try:
        return country_name(code)
    except InputError:
        return code


def check_choice(value, choices, key: str):
    if value not in choices:
        raise InputError(f"{key} is {value!r}; expected one of {list(choices)}", key=key)
    return value


def index(result, codes, key: str, axis: str = "countries") -> list[int]:
    """Positions of country codes on an axis of the result's baseline (``countries``, ``exporters``
    or ``importers``); `InputError` naming any it lacks."""
    return positions(getattr(result.baseline, axis), codes, key)


def source_note(ax, result, extra: str = "") -> None:
    """A grey note under the x-axis label: model, baseline, scenario and anything the reader must know."""
    b = result.baseline
    parts = [f"tradesim, {result.model.upper()} model", f"baseline {b.provenance.get('name', 'user data')}"
             + (f" ({b.year})" if b.year else "")]
    if isinstance(result, (ScenarioResult, EnsembleResult)):
        parts.append(f"scenario {result.scenario.name}")
    if extra:
        parts.append(extra)
    # Alone in its figure, the note starts at the figure's left edge, so wide tick labels cannot push
    # it out of view; in a grid, at the Axes' left, wrapped to its column's width. About 15
    # characters of 7.5-point text fit in an inch.
    spec = ax.get_subplotspec()
    columns = 1 if spec is None else spec.get_gridspec().ncols
    share = 1.0 if columns == 1 else 0.8 * (spec.colspan.stop - spec.colspan.start) / columns
    x = ("figure fraction", 0.01) if columns == 1 else ("axes fraction", 0.0)
    ax.annotate(textwrap.fill("Source: " + "; ".join(parts), max(30, int(ax.figure.get_figwidth() * share * 15))),
                xy=(x[1], 0), xycoords=(x[0], ax.xaxis.label), xytext=(0, -6), textcoords="offset points",
                va="top", ha="left", fontsize=7.5, color="0.35", annotation_clip=False)


def date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


@dataclass(frozen=True)
class Snapshot:
    """A result at one time: pair arrays ``[product, exporter, importer]`` and country values ``[country]``.

    Flows are USD (per year for a scenario); with draws, means over draws.
    """

    label: str
    before: np.ndarray
    after: np.ndarray
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    countries: dict


def pair_flows(baseline, i: int, j: int) -> np.ndarray:
    """The baseline's flows from exporter `i` to importer `j` by product, ``[product]`` USD, from its cells when
    it is sparse."""
    return baseline.imports_of(j, [i])[:, 0]


def snapshot(result, date=None) -> Snapshot:
    """`result` at `date`: the period containing it, the last period when None, or the day-weighted
    mean over all periods for ``"mean"``; a `SimulationResult` has one state and takes no date."""
    if isinstance(result, SimulationResult):
        if date is not None:
            raise InputError("a SimulationResult has no dates; leave date out", key="date")
        sol = result.solution
        mean = (lambda a: a.mean(axis=0)) if result.n_draws else (lambda a: a)
        cells = result.on_cells("cell")
        if cells is None:
            return Snapshot("", result.baseline.flows, mean(sol.flows_after), result.tariff_before,
                            result.tariff_after, {k: mean(v) for k, v in result.country_values.items()})
        # a run on a sparse baseline's cells: figures draw [product, exporter, importer] tensors
        check_fits(6 * dense_bytes(cells.shape), f"the figures of this result (stored on its {cells.size:,} cells "
                   "that trade) draw [product, exporter, importer] tensors, which",
                   "plot a baseline summed to fewer products or countries, or use the result's tables", key="result")
        _, base, t0, t1 = result.inputs()
        return Snapshot("", cells.scatter(base), mean(sol.dense().flows_after), cells.scatter(t0), cells.scatter(t1),
                        {k: mean(v) for k, v in result.country_values.items()})
    if not isinstance(result, ScenarioResult):
        raise InputError(f"expected a SimulationResult or ScenarioResult, got {type(result).__name__}", key="result")
    mean = (lambda a: a.mean(axis=0)) if result.n_draws else (lambda a: a)
    flows, countries = mean(result.flows), {k: mean(v) for k, v in result.country_values.items()}
    cells = result.cells
    if cells is None:
        base = result.baseline.flows
    else:  # a path on a sparse baseline's cells: figures draw [product, exporter, importer]
        check_fits(6 * dense_bytes(cells.shape), f"the figures of this result (stored on its {cells.size:,} cells "
                   "that trade) draw [product, exporter, importer] tensors, which",
                   "plot a baseline summed to fewer products or countries, or use the result's tables", key="result")
        base = result.baseline.sparse_flows.toarray()

    def grid(a, fill):  # the cells' values on the grid; elsewhere `fill` (a dense tensor or a number)
        if cells is None:
            return a
        out = np.array(np.broadcast_to(fill, cells.shape), dtype=float)
        out.reshape(-1)[cells.index] = a
        return out
    if isinstance(date, str) and date == "mean":
        days = (result.period_ends - result.dates).days.to_numpy(float)
        w = days / days.sum()
        avg = lambda a: np.tensordot(w, a, axes=(0, 0))  # noqa: E731
        label = f"mean {result.dates[0]:%b %Y} to {result.period_ends[-1] - pd.Timedelta(days=1):%b %Y}"
        return Snapshot(label, base, grid(avg(flows), base), grid(result.tariff_reference, 0.0),
                        grid(avg(result.tariff), 0.0), {k: avg(v) for k, v in countries.items()})
    if date is None:
        t = len(result.dates) - 1
    else:
        try:
            when = pd.Timestamp(date)
        except (ValueError, TypeError) as err:
            raise InputError(f"date {date!r} is not a date (YYYY-MM-DD) or 'mean'", key="date") from err
        if not result.dates[0] <= when < result.period_ends[-1]:
            raise InputError(f"date {when.date()} is outside the result, {result.dates[0].date()} to "
                             f"{(result.period_ends[-1] - pd.Timedelta(days=1)).date()}", key="date")
        t = int(np.searchsorted(result.dates, when, side="right") - 1)
    start, end = result.dates[t], result.period_ends[t] - pd.Timedelta(days=1)
    label = f"{start:%b %Y}" if result.scenario.frequency == "monthly" else f"{start.date()} to {end.date()}"
    return Snapshot(label, base, grid(flows[t], base), grid(result.tariff_reference, 0.0), grid(result.tariff[t], 0.0),
                    {k: v[t] for k, v in countries.items()})


def per_year(result) -> str:
    """Unit suffix of flows: scenario results are annual rates."""
    return " per year" if isinstance(result, ScenarioResult) else ""
