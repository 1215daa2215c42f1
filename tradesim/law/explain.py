"""Why a rate is what it is: every measure's outcome for one product, pair and day."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from . import stacking
from .atoms import aggregate, labels

__all__ = ["explain", "COLUMNS"]

COLUMNS = ["measure", "kind", "authority", "group", "status", "share", "rate_pct", "contribution_pct", "start", "end"]


def explain(schedule, day: _dt.date, product: str, exporter: str, importer: str, fine_values=None) -> pd.DataFrame:
    """See `tradesim.law.TariffSchedule.explain`."""
    exps = labels([exporter], "exporter")
    atoms = schedule.atoms([product], exps, [importer], fine_values)
    atoms.warn(stacklevel=3)
    a = atoms.atoms
    w = np.ones(a.size) if atoms.weights is None else atoms.weights.reshape(a.size, -1)[:, 0]
    w = w / w.sum() if w.sum() > 0 else np.full(w.shape, 1 / w.size)
    measures = [m for m in schedule.measures if m.importer == importer]
    if not measures:
        return pd.DataFrame([_total(0.0)], columns=COLUMNS)
    L = schedule.stack_layers(importer, a, exps)
    active = np.array([[m.in_force(day) for m in L.measures]], bool)
    s = stacking.stack(L, active)
    rows = []
    for n in np.argsort(L.order):  # schedule order; one measure's rows are text, not the hot path
        m = L.measures[n]
        base = dict(measure=m.name, kind=m.kind, authority=m.authority, group=m.group or "", start=m.start, end=m.end)
        charge = L.charge[n, :, 0]

        def row(status, part, rate=None, contribution=0.0):
            share = float(w @ part)
            if rate is None:
                rate = float(w @ (part * charge) / share) if share > 0 else float(np.mean(charge))
            rows.append(dict(base, status=status, share=share, rate_pct=100 * rate, contribution_pct=100 * contribution))

        if not L.exporter[n, 0]:
            row("exporter not covered", np.ones(a.size))
            continue
        if not active[0, n]:
            row("not in force" if L.selected[n].any() else "product not covered",
                L.selected[n].astype(float) if L.selected[n].any() else np.ones(a.size))
            continue
        share, applied = s.share[0, n, :, 0], s.applied[0, n, :, 0]
        lost = s.outweighed[0, n, :, 0]
        won = np.where(lost, 0.0, applied)
        contribution = float(w @ s.contribution[0, n, :, 0])
        if won.any():
            vshare = float(w @ (won * L.value_share[n]) / (w @ won))
            if m.rule == "floor":
                mfn = float(w @ (won * (charge - s.floored[0, n, :, 0] / np.where(won > 0, won, 1))) / (w @ won))
                status = f"floored at {100 * float(w @ (won * charge) / (w @ won)):g}% over MFN {100 * mfn:.4g}%"
            elif vshare < 1:
                status = f"applied on {100 * vshare:.4g}% of value"
            else:
                status = "applied"
            row(status, won, rate=float(w @ (won * m.rates_for(a, exps)[:, 0]) / (w @ won)), contribution=contribution)
        if lost.any():
            row(f"outweighed in group {m.group}", np.where(lost, applied, 0.0))
        if (share - applied > 1e-15).any():
            rivals = [L.measures[r].name for r in np.flatnonzero(L.displaced_by[:, n])
                      if active[0, r] and (s.share[0, r, :, 0] * share > 0).any()]
            row("replaced by " + ", ".join(rivals), share - applied)
        exempt = L.exempt[n, :, 0]
        if exempt.any():
            hit = [r for r in m.exclude if (_covers(schedule, r, a, exps) & exempt).any()]
            row("exempted by " + ", ".join(hit), exempt.astype(float))
        qualifying = L.qualifying[n, :, 0] * L.selected[n] * ~exempt * m.coverage
        if (qualifying > 0).any():
            row("qualifies for an exemption (qualifying share)", qualifying)
        uncovered = (~L.selected[n]).astype(float) + L.selected[n] * ~exempt * (1 - m.coverage)
        if (uncovered > 0).any():
            row("product not covered", uncovered)
    total_atoms = s.total[0][:, :, None]  # [atom, exporter=1, importer=1]
    total = 100 * float(aggregate(total_atoms, atoms)[0, 0, 0])
    rows.append(_total(total))
    return pd.DataFrame(rows, columns=COLUMNS)


def _covers(schedule, ref: str, atoms: np.ndarray, exporters: np.ndarray) -> np.ndarray:
    from ..codes import prefix_mask

    if ref[:1].isdigit():
        return prefix_mask(atoms, [ref], finer=True)
    return schedule.product_lists[ref].mask(atoms, exporters)[:, 0]


def _total(total: float) -> dict:
    return dict(measure="total", kind="", authority="", group="", status="", share=1.0, rate_pct=np.nan,
                contribution_pct=total, start=None, end=None)
