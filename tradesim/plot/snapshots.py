"""Plots of a result at one time: changes by partner or product group, diversion, the bilateral matrix, welfare."""

from __future__ import annotations

import numpy as np

from ..codes import SECTIONS, hs_section
from ..models import get_model
from ..errors import InputError
from ._common import BN, DIVERGING, PALETTE, axes, check_choice, index, name, per_year, snapshot, source_note

__all__ = ["trade_change", "diversion", "heatmap", "welfare"]

# model -> welfare components (country_table column, legend label, colour); they sum to welfare_usd.
# Tariff revenue has the same colour in both.
def _when(snap) -> str:
    return f", {snap.label}" if snap.label else ""


def _section_labels(products) -> list[str]:
    """HS section names of HS codes; an `InputError` for products that are not HS codes."""
    odd = [p for p in products if not p.isdigit()]
    if odd:
        raise InputError(f"products {odd[:5]} are not HS codes, so they have no HS section", key="by")
    return [SECTIONS[hs_section(p)][0].split(";")[0] for p in products]


def trade_change(result, *, importer=None, exporter=None, by: str = "partner", unit: str = "usd", date=None,
                 top: int = 15, ax=None, figsize=None):
    """Horizontal bars of the change in trade by partner or by HS section, sorted.

    Parameters
    ----------
    result : SimulationResult or ScenarioResult
    importer, exporter : str, optional
        ``by="partner"``: exactly one of them, whose imports (or exports) are split by
        partner. ``by="section"``: one or both (the pair's trade), split by HS section.
    by : {"partner", "section"}
    unit : {"usd", "pct"}
        Change in USD bn (per year for a scenario) or in percent of baseline trade.
    date : date or str, optional
        For a ScenarioResult: the period containing it, ``"mean"`` for the mean over the
        path, the last period when None.
    top : int
        Show the `top` largest changes by size.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per group (``ax.patches``), top to bottom from the largest fall to the
        largest rise; tick labels are country or section names.
    """
    check_choice(by, ("partner", "section"), "by")
    check_choice(unit, ("usd", "pct"), "unit")
    if by == "partner" and (importer is None) == (exporter is None):
        raise InputError("by='partner' needs exactly one of importer and exporter", key="importer")
    if by == "section" and importer is None and exporter is None:
        raise InputError("by='section' needs an importer, an exporter or both", key="importer")
    if not isinstance(top, int) or top < 1:
        raise InputError(f"top is {top!r}; expected a positive whole number", key="top")
    snap = snapshot(result, date)
    off = ~result.baseline.domestic_mask
    before, after = snap.before * off, snap.after * off
    i = slice(None) if exporter is None else index(result, exporter, "exporter", "exporters")[0]
    j = slice(None) if importer is None else index(result, importer, "importer", "importers")[0]
    if by == "partner":
        b, a = before[:, i, j].sum(axis=0), after[:, i, j].sum(axis=0)  # over products: partners remain
        partners = result.baseline.exporters if importer is not None else result.baseline.importers
        labels = [name(c) for c in partners]
        keep = b > 0
        subject = f"{name(importer)}: imports" if importer else f"{name(exporter)}: exports"
    else:
        sections = np.asarray(_section_labels(result.baseline.products))
        flat_b, flat_a = before[:, i, j], after[:, i, j]
        if flat_b.ndim == 2:
            flat_b, flat_a = flat_b.sum(axis=1), flat_a.sum(axis=1)
        groups = list(dict.fromkeys(sections))
        member = sections[None, :] == np.asarray(groups)[:, None]
        b, a = member @ flat_b, member @ flat_a
        labels, keep = groups, b > 0
        subject = (f"{name(importer)}: imports" if importer else "Imports") + (
            f" from {name(exporter)}" if exporter else "")
    if not keep.any():
        raise InputError(f"no baseline trade for {subject}", key="importer" if importer else "exporter")
    labels = np.asarray(labels)[keep]
    change = (a - b)[keep] * BN if unit == "usd" else 100 * (a[keep] / b[keep] - 1)
    order = np.argsort(-np.abs(change), kind="stable")[:top]
    order = order[np.argsort(change[order], kind="stable")][::-1]  # barh draws bottom-up: largest rise at the bottom
    values, names = change[order], labels[order]
    ax = axes(ax, figsize, default=(8, 0.6 + 0.32 * len(values)))
    colours = [PALETTE[1] if v < 0 else PALETTE[0] for v in values]
    ax.barh(np.arange(len(values)), values, color=colours)
    ax.set_yticks(np.arange(len(values)), names, fontsize=8)
    ax.axvline(0, color="0.3", lw=0.8)
    unit_label = f"change, USD bn{per_year(result)}" if unit == "usd" else "change, % of baseline trade"
    ax.set_xlabel(unit_label)
    ax.set_title(f"{subject} by {'partner' if by == 'partner' else 'HS section'}{_when(snap)}")
    ax.grid(axis="x", alpha=0.3)
    for y, v in enumerate(values):
        ax.annotate(f"{v:+,.1f}", (v, y), xytext=(3 if v >= 0 else -3, 0), textcoords="offset points",
                    ha="left" if v >= 0 else "right", va="center", fontsize=7)
    ax.margins(x=0.15)
    source_note(ax, result, f"{len(values)} largest changes of {int(keep.sum())}" if keep.sum() > len(values) else "")
    return ax


def diversion(result, importer: str, *, date=None, top: int = 8, ax=None, figsize=None):
    """An importer's import shares by source before and after: who replaces the targeted supplier.

    Shares are of the importer's imports (domestic sales excluded), summed over products.

    Parameters
    ----------
    result : SimulationResult or ScenarioResult
    importer : str
    date : date or str, optional
        As in `trade_change`.
    top : int
        Sources shown, by the size of their share change; the rest are one ``"others"`` row,
        so the changes shown sum to zero.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        Per source, from the largest loss (top) to the largest gain (bottom), an open marker
        at the share before and a filled one at the share after (percent), joined by an arrow.
    """
    if not isinstance(top, int) or top < 1:
        raise InputError(f"top is {top!r}; expected a positive whole number", key="top")
    snap = snapshot(result, date)
    (j,) = index(result, importer, "importer", "importers")
    before, after = snap.before[:, :, j].sum(axis=0), snap.after[:, :, j].sum(axis=0)
    own = result.baseline.domestic_mask[:, j]
    before[own] = after[own] = 0.0
    if before.sum() <= 0:
        raise InputError(f"{importer} has no imports in the baseline", key="importer")
    s0, s1 = 100 * before / before.sum(), 100 * after / after.sum()
    sources = np.flatnonzero(before > 0)
    order = sources[np.argsort(-np.abs(s1 - s0)[sources], kind="stable")]
    shown, rest = order[:top], order[top:]
    names = [name(c) for c in np.asarray(result.baseline.exporters)[shown]]
    b, a = s0[shown], s1[shown]
    if rest.size:
        names.append(f"others ({rest.size})")
        b, a = np.append(b, s0[rest].sum()), np.append(a, s1[rest].sum())
    rank = np.argsort(a - b, kind="stable")  # largest loss first
    names, b, a = [names[r] for r in rank], b[rank], a[rank]
    ax = axes(ax, figsize, default=(8, 0.7 + 0.38 * len(names)))
    y = np.arange(len(names))[::-1]
    for yy, x0, x1 in zip(y, b, a):
        colour = PALETTE[1] if x1 < x0 else PALETTE[0]
        ax.annotate("", xy=(x1, yy), xytext=(x0, yy),
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.5, shrinkA=4, shrinkB=4))
        ax.annotate(f"{x1 - x0:+.1f} pp", (max(x0, x1), yy), xytext=(8, 0), textcoords="offset points",
                    va="center", fontsize=7.5, color=colour)
    ax.plot(b, y, "o", mfc="white", mec="0.3", ms=6, label="share before")
    ax.plot(a, y, "o", color="0.3", ms=6, label="share after")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(f"share of imports of {name(importer)}, %")
    ax.set_title(f"{name(importer)}: import shares by source{_when(snap)}")
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.18, y=0.08)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    source_note(ax, result, "pp: percentage points")
    return ax


HEATMAP_VARIABLES = {
    "value_change": ("imports, % change from baseline", DIVERGING["up_is_good"]),
    "tariff": ("tariff, % (weighted by baseline trade)", DIVERGING["up_is_bad"]),
    "tariff_change": ("tariff change, percentage points", DIVERGING["up_is_bad"]),
}


def heatmap(result, variable: str = "value_change", *, countries=None, date=None, annotate=None, ax=None,
            figsize=None):
    """The bilateral matrix of a variable, exporters in rows and importers in columns.

    Colours diverge from zero (white): red for a fall in trade or a rise in tariffs, blue
    for the opposite. The diagonal and pairs without baseline trade are grey and empty.

    Parameters
    ----------
    result : SimulationResult or ScenarioResult
    variable : {"value_change", "tariff", "tariff_change"}
        Percent change of the pair's imports (summed over products), its tariff after the
        change (percent, weighted by baseline trade), or that tariff's change
        (percentage points).
    countries : iterable of str, optional
        Rows and columns, in this order; all of the baseline's by default.
    date : date or str, optional
        As in `trade_change`.
    annotate : bool, optional
        Write each cell's value; by default when there are at most 16 countries.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        The matrix is ``ax.images[0]``; its array ``[exporter, importer]`` is masked where
        grey.
    """
    label, cmap = HEATMAP_VARIABLES[check_choice(variable, HEATMAP_VARIABLES, "variable")]
    snap = snapshot(result, date)
    b = result.baseline
    rows = list(b.exporters) if countries is None else [c for c in countries if c in b.exporters]
    cols = list(b.importers) if countries is None else [c for c in countries if c in b.importers]
    if countries is not None:
        index(result, [c for c in countries if c not in rows and c not in cols], "countries")  # names the unknown
    ri, ci = index(result, rows, "countries", "exporters"), index(result, cols, "countries", "importers")
    base = snap.before.sum(axis=0)[np.ix_(ri, ci)]
    with np.errstate(invalid="ignore", divide="ignore"):
        if variable == "value_change":
            values = 100 * (snap.after.sum(axis=0)[np.ix_(ri, ci)] / base - 1)
        else:
            t = {"tariff": snap.tariff_after, "tariff_change": snap.tariff_after - snap.tariff_before}[variable]
            values = 100 * (t * snap.before).sum(axis=0)[np.ix_(ri, ci)] / base
    matrix = np.ma.masked_where((base <= 0) | b.domestic_mask[np.ix_(ri, ci)], values)
    import matplotlib as mpl
    from matplotlib.colors import CenteredNorm

    ax = axes(ax, figsize, default=(1.6 + 0.5 * max(len(cols), 3), 1.2 + 0.45 * len(rows)))
    palette = mpl.colormaps[cmap].with_extremes(bad="0.88")
    span = float(np.abs(matrix).max()) if matrix.count() else 1.0
    image = ax.imshow(matrix, cmap=palette, norm=CenteredNorm(0, span or 1.0), aspect="auto")
    ax.set_xticks(np.arange(len(cols)), [name(c) for c in cols], rotation=45, ha="right", rotation_mode="anchor",
                  fontsize=8)
    ax.set_yticks(np.arange(len(rows)), [name(c) for c in rows], fontsize=8)
    ax.set_xlabel("importer")
    ax.set_ylabel("exporter")
    ax.figure.colorbar(image, ax=ax, label=label, shrink=0.85)
    if annotate if annotate is not None else max(len(rows), len(cols)) <= 16:
        for (r, c), v in np.ndenumerate(matrix.filled(np.nan)):
            if np.isfinite(v):
                v = 0.0 if abs(v) < 0.05 else v  # no "-0.0"
                ax.text(c, r, f"{v:.0f}" if abs(v) >= 9.5 else f"{v:.1f}", ha="center", va="center", fontsize=6.5,
                        color="white" if abs(v) > 0.6 * span else "0.15")
    ax.set_title(f"{label[0].upper() + label[1:]}, by pair{_when(snap)}")
    source_note(ax, result, "grey: own country or no baseline trade")
    return ax


def welfare(result, *, countries=None, date=None, ax=None, figsize=None):
    """Each country's welfare change split into its parts, stacked, with the total marked.

    PE: consumer surplus, producer surplus and tariff revenue. GE: real factor income
    (value added over the new price index, which carries the terms of trade) and real
    tariff revenue (see `tradesim.models.ge.GESolution.country_table`). The parts sum to
    the total.

    Parameters
    ----------
    result : SimulationResult or ScenarioResult
    countries : iterable of str, optional
        By default every country whose welfare or any part of it changes.
    date : date or str, optional
        As in `trade_change`.
    ax : matplotlib Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.axes.Axes
        One ``BarContainer`` per part (gains stacked right of zero, losses left) in USD bn,
        and the total as black diamonds labelled ``"net welfare"``, countries sorted from
        the largest loss (top) to the largest gain.
    """
    spec = get_model(result.model)
    labels = {o.name: o.label for o in spec.outputs}
    colours = (PALETTE[0], PALETTE[2], PALETTE[4], PALETTE[3], PALETTE[5], PALETTE[7])
    parts = [(col, labels[col], colour) for col, colour in zip(spec.welfare, colours)]
    if not parts or "welfare_usd" not in labels:
        raise InputError(f"model {result.model!r} declares no welfare parts to plot", key="result")
    snap = snapshot(result, date)
    if countries is None:
        moved = np.abs([np.asarray(snap.countries[col]) for col, *_ in parts]).max(axis=0) > 0
        codes = [c for c, m in zip(result.baseline.countries, moved) if m] or list(result.baseline.countries)
    else:
        codes = list(countries)
    idx = index(result, codes, "countries")  # country outputs are over baseline.countries
    values = np.array([np.asarray(snap.countries[col])[idx] for col, *_ in parts]) * BN  # [part, country]
    net = np.asarray(snap.countries["welfare_usd"])[idx] * BN
    order = np.argsort(net, kind="stable")
    values, net = values[:, order], net[order]
    names = [name(codes[o]) for o in order]
    ax = axes(ax, figsize, default=(8, 0.8 + 0.34 * len(names)))
    y = np.arange(len(names))[::-1]
    pos, neg = np.zeros(len(names)), np.zeros(len(names))
    for row, (_, label, colour) in zip(values, parts):
        left = np.where(row >= 0, pos, neg)
        ax.barh(y, row, left=left, color=colour, label=label, height=0.7)
        pos, neg = pos + np.maximum(row, 0), neg + np.minimum(row, 0)
    ax.plot(net, y, "D", color="black", ms=5, label="net welfare")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(f"change, USD bn{per_year(result)}")
    ax.set_title(f"Welfare by country ({result.model.upper()}){_when(snap)}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    source_note(ax, result)
    return ax
