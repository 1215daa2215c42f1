"""Plotting helpers. Each takes ``ax=None``, returns the Axes and imports matplotlib inside."""

from __future__ import annotations

from .errors import InputError

__all__ = ["trade_path"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
_PATH_VARIABLES = {
    "imports": ("imports_usd", 1e-9, "imports, USD bn per year"),
    "tariff": ("tariff_pct", 1.0, "trade-weighted tariff, % (baseline weights)"),
    "revenue": ("revenue_usd", 1e-9, "tariff revenue, USD bn per year"),
    "value_change": ("value_change_pct", 1.0, "imports, % change from baseline"),
}


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is not None and figsize is not None:
        raise InputError("give ax or figsize, not both", key="figsize")
    if ax is None:
        _, ax = plt.subplots(figsize=figsize or (8, 4.5), layout="constrained")
    return ax


def trade_path(result, variable: str = "imports", pairs=None, *, ax=None, figsize=None):
    """A variable over the scenario's dates, one line per pair, with its baseline level dashed.

    Parameters
    ----------
    result : ScenarioResult
    variable : {"imports", "tariff", "revenue", "value_change"}
        Imports or tariff revenue in USD bn per year, the trade-weighted tariff (percent) or
        the change of imports from the baseline (percent).
    pairs : iterable of (exporter, importer), optional
        The pairs whose tariffs change when None.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional
        Size of a new figure (inches); not with `ax`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if variable not in _PATH_VARIABLES:
        raise InputError(f"unknown variable {variable!r}; expected one of {list(_PATH_VARIABLES)}", key="variable")
    column, scale, label = _PATH_VARIABLES[variable]
    table = result.summary("pair", pairs)
    ax = _axes(ax, figsize)
    for n, ((exporter, importer), rows) in enumerate(table.groupby(["exporter", "importer"], sort=False)):
        colour = PALETTE[n % len(PALETTE)]
        # repeat the last value at the end of the last period, so every period is drawn in full
        x = list(rows["date"]) + [result.period_ends[-1]]
        y = list(rows[column] * scale) + [rows[column].iloc[-1] * scale]
        ax.step(x, y, where="post", color=colour, lw=2, label=f"{importer} from {exporter}")
        if variable in ("imports", "revenue"):
            base = result.baseline.flows[:, result.baseline.country_index(exporter),
                                         result.baseline.country_index(importer)]
            level = base.sum() if variable == "imports" else (result.tariff_reference[:, result.baseline.country_index(
                exporter), result.baseline.country_index(importer)] * base).sum()
            ax.axhline(level * scale, color=colour, lw=1, ls="--")
    if variable == "value_change":
        ax.axhline(0, color="0.4", lw=0.8)
    ax.set_ylabel(label)
    ax.set_xlabel("period start")
    ax.set_title(f"{result.scenario.name}: {label} ({result.model.upper()})")
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.annotate(f"tradesim; baseline {result.baseline.provenance.get('name', '')}"
                + ("; dashed: baseline" if variable in ("imports", "revenue") else ""),
                xy=(0, -0.18), xycoords="axes fraction", fontsize=8, color="0.4")
    return ax
