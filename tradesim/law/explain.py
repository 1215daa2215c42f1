"""Why a rate is what it is: every measure's outcome for one product, pair and day."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from . import stacking
from .atoms import aggregate, labels
from .compile import match_codes

__all__ = ["explain", "COLUMNS"]

COLUMNS = ["measure", "kind", "authority", "group", "status", "share", "rate_pct", "contribution_pct", "start", "end"]


def explain(schedule, day: _dt.date, product: str, exporter: str, importer: str, fine_values=None) -> pd.DataFrame:
    """See `tradesim.law.TariffSchedule.explain`."""
    exps = labels([exporter], "exporter")
    atoms = schedule.atoms([product], exps, [importer], fine_values)
    atoms.warn(stacklevel=3)
    a = atoms.atoms
    A = a.size
    w = np.ones(A) if atoms.weights is None else atoms.weights.reshape(A, -1)[:, 0]
    w = w / w.sum() if w.sum() > 0 else np.full(w.shape, 1 / w.size)
    law = schedule.compiled(importer, a, exps)
    if not len(law):
        return pd.DataFrame([_total(0.0)], columns=COLUMNS)
    active = law.active([day])
    s = stacking.stack(law, active)
    M = len(law)

    def dense(values, entries, fill=0.0):  # per entry -> [measure, atom]
        out = np.full((M, A), fill, dtype=np.asarray(values).dtype)
        out[law.m[entries], law.cell[entries]] = values  # one exporter: the cell is the atom
        return out

    every = np.arange(law.m.size)
    listed = dense(np.ones(every.size, bool), every, False)  # covered or exempt
    selected = np.zeros((M, A), bool)
    selected[law.selected_m, law.selected_atom] = True
    selected |= listed
    exempt = dense(law.exempt, every, False)
    qualifying = dense(law.qualifying, every)
    charge = dense(law.charge, every)
    value_share = dense(law.value_share, every, 1.0)
    share = dense(s.share, s.entry)
    applied = dense(s.applied, s.entry)
    contribution = dense(s.contribution, s.entry)
    floored = dense(s.floored, s.entry)
    outweighed = dense(s.outweighed, s.entry, False)
    rows = []
    for n, m in enumerate(law.measures):  # one product's measures: rows of text, not the hot path
        base = dict(measure=m.name, kind=m.kind, authority=m.authority, group=m.group or "", start=m.start, end=m.end)

        def row(status, part, rate=None, contribution_pct=0.0):
            part = np.asarray(part, float)
            share_ = float(w @ part)
            if rate is None:
                rate = float(w @ (part * charge[n]) / share_) if share_ > 0 else float(np.mean(charge[n]))
            rows.append(dict(base, status=status, share=share_, rate_pct=100 * rate, contribution_pct=contribution_pct))

        if not law.exporter[n, 0]:
            row("exporter not covered", np.ones(A))
            continue
        if not active[0, n]:
            row("not in force" if selected[n].any() else "product not covered",
                selected[n] if selected[n].any() else np.ones(A))
            continue
        lost = outweighed[n]
        won = np.where(lost, 0.0, applied[n])
        if won.any():
            total_won = float(w @ won)
            rate = float(w @ (won * charge[n] / np.where(value_share[n] > 0, value_share[n], 1))) / total_won
            vshare = float(w @ (won * value_share[n])) / total_won
            if m.rule == "floor":
                mfn = rate - float(w @ floored[n]) / total_won
                status = f"floored at {100 * rate:g}% over MFN {100 * mfn:.4g}%"
            elif vshare < 1:
                status = f"applied on {100 * vshare:.4g}% of value"
            else:
                status = "applied"
            row(status, won, rate=rate, contribution_pct=100 * float(w @ contribution[n]))
        if lost.any():
            row(f"outweighed in group {m.group}", np.where(lost, applied[n], 0.0))
        if (share[n] - applied[n] > 1e-15).any():
            rivals = [law.measures[r].name for r in np.flatnonzero(law.displaced_by[:, n])
                      if active[0, r] and (share[r] * share[n] > 0).any()]
            row("replaced by " + ", ".join(rivals), share[n] - applied[n])
        if exempt[n].any():
            hit = [r for r in m.exclude if (_covers(schedule, r, a, exps) & exempt[n]).any()]
            row("exempted by " + ", ".join(hit), exempt[n])
        q = qualifying[n] * listed[n] * ~exempt[n] * m.coverage
        if (q > 0).any():
            row("qualifies for an exemption (qualifying share)", q)
        uncovered = (~selected[n]).astype(float) + selected[n] * ~exempt[n] * (1 - m.coverage)
        if (uncovered > 0).any():
            row("product not covered", uncovered)
    total = 100 * float(aggregate(law.dense(s.total())[:1], atoms, 0)[0, 0, 0])
    rows.append(_total(total))
    return pd.DataFrame(rows, columns=COLUMNS)


def _covers(schedule, ref: str, atoms: np.ndarray, exporters: np.ndarray) -> np.ndarray:
    """``[atom]``: where a list (or HS prefix) covers the atoms for the exporter."""
    if ref[:1].isdigit():
        codes, owners = np.array([ref]), None
    else:
        pl = schedule.product_lists[ref]
        codes = np.asarray(pl.codes)
        owners = pl.code_exporters if pl.code_exporters is not None else None
        if pl.exporters is not None and exporters[0] not in pl.exporters:
            return np.zeros(atoms.size, bool)
    if owners is not None:
        codes = codes[np.asarray(owners) == exporters[0]]
    out = np.zeros(atoms.size, bool)
    _, ai = match_codes(codes, atoms)
    out[ai] = True
    return out


def _total(total: float) -> dict:
    return dict(measure="total", kind="", authority="", group="", status="", share=1.0, rate_pct=np.nan,
                contribution_pct=total, start=None, end=None)
