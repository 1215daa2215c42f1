"""Why a rate is what it is: every measure's outcome for one product, pair and day."""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

from . import stacking
from .atoms import aggregate, halt_mean, labels
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
    ex = None if atoms.members is None else atoms.members.expansion(0, exps, A, None)
    if ex is None:
        law = schedule.compiled(importer, a, exps)
        cell_atom, sources, cell_source = np.arange(A), exps, np.zeros(A, int)
    else:  # an aggregate with members: the cells are (atom, member), weighted by the members' values
        wanted = ex.wanted.copy()
        wanted[ex.atom, 0] = False  # an atom with members is its members (the remainder ROW of ROW included)
        wanted[ex.atom, ex.source] = True
        law = schedule.compiled(importer, a, ex.sources, wanted)
        cell_atom, sources, cell_source = law.cell_atom, ex.sources, law.cell_exporter
        total = np.bincount(ex.atom, weights=ex.value, minlength=A)
        within = np.ones(cell_atom.size)
        at = np.searchsorted(cell_atom * sources.size + cell_source, ex.atom * sources.size + ex.source)
        within[at] = 0.0
        np.add.at(within, at, ex.value / total[ex.atom])
        w = w[cell_atom] * within
    if not len(law):
        return pd.DataFrame([_total(0.0)], columns=COLUMNS)
    active = law.active([day])
    s = stacking.stack(law, active)
    M = len(law)
    A = law.n_cells  # one cell per atom, or per atom and member

    def dense(values, entries, fill=0.0):  # per entry -> [measure, atom]
        out = np.full((M, A), fill, dtype=np.asarray(values).dtype)
        out[law.m[entries], law.cell[entries]] = values  # one exporter: the cell is the atom
        return out

    every = np.arange(law.m.size)
    listed = dense(np.ones(every.size, bool), every, False)  # covered or exempt
    selected = np.zeros((M, a.size), bool)
    selected[law.selected_m, law.selected_atom] = True
    selected = selected[:, cell_atom] | listed
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
        scope = law.exporter[n, cell_source]  # the cells whose exporter (or member) the measure covers

        def row(status, part, rate=None, contribution_pct=0.0):
            part = np.asarray(part, float) * scope
            share_ = float(w @ part)
            if rate is None:
                rate = float(w @ (part * charge[n]) / share_) if share_ > 0 else float(np.mean(charge[n]))
            rows.append(dict(base, status=status, share=share_, rate_pct=100 * rate, contribution_pct=contribution_pct))

        if not scope.all():
            outside = scope
            scope = np.ones(A, bool)
            row("exporter not covered" if ex is None else "members not covered", ~outside)
            scope = outside
            if not scope.any():
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
            if m.rule == "halt":  # no rate: its tariff equivalent is infinite
                rate, status = np.inf, "halted: trade stops"
            elif m.rule == "floor":
                mfn = rate - float(w @ floored[n]) / total_won
                status = f"floored at {100 * rate:g}% over MFN {100 * mfn:.4g}%"
            elif vshare < 1:
                status = f"applied on {100 * vshare:.4g}% of value"
            else:
                status = "applied"
            row(status, won, rate=rate, contribution_pct=100 * float(halt_mean(lambda v: w @ v, contribution[n])))
        if lost.any():
            row(f"outweighed in group {m.group}", np.where(lost, applied[n], 0.0))
        if (share[n] - applied[n] > 1e-15).any():
            rivals = [law.measures[r].name for r in np.flatnonzero(law.displaced_by[:, n])
                      if active[0, r] and (share[r] * share[n] > 0).any()]
            row("replaced by " + ", ".join(rivals), share[n] - applied[n])
        if exempt[n].any():
            hit = [r for r in m.exclude if (_covers(schedule, r, a[cell_atom], sources, cell_source) & exempt[n]).any()]
            row("exempted by " + ", ".join(hit), exempt[n])
        q = qualifying[n] * listed[n] * ~exempt[n] * m.coverage
        if (q > 0).any():
            row("qualifies for an exemption (qualifying share)", q)
        uncovered = (~selected[n]).astype(float) + selected[n] * ~exempt[n] * (1 - m.coverage)
        if (uncovered > 0).any():
            row("product not covered", uncovered)
    if ex is None:
        total = 100 * float(aggregate(law.dense(s.total())[:1], atoms, 0)[0, 0, 0])
    else:  # the members' value-weighted mean on each atom, the atoms' weighted mean
        total = 100 * float(halt_mean(lambda v: w @ v, s.total()[0]))
    rows.append(_total(total))
    return pd.DataFrame(rows, columns=COLUMNS)


def _covers(schedule, ref: str, atoms: np.ndarray, exporters: np.ndarray, exporter_of: np.ndarray) -> np.ndarray:
    """``[cell]``: where a list (or HS prefix) covers the cells' atoms (`atoms`, ``[cell]``) for their
    exporters (``exporters[exporter_of]``)."""
    out = np.zeros(atoms.size, bool)
    for e in np.unique(exporter_of):  # the one exporter, or its few members: rows of text
        on = exporter_of == e
        if ref[:1].isdigit():
            codes, owners = np.array([ref]), None
        else:
            pl = schedule.product_lists[ref]
            codes = np.asarray(pl.codes)
            owners = pl.code_exporters if pl.code_exporters is not None else None
            if pl.exporters is not None and exporters[e] not in pl.exporters:
                continue
        if owners is not None:
            codes = codes[np.asarray(owners) == exporters[e]]
        _, ai = match_codes(codes, atoms[on])
        out[np.flatnonzero(on)[ai]] = True
    return out


def _total(total: float) -> dict:
    return dict(measure="total", kind="", authority="", group="", status="", share=1.0, rate_pct=np.nan,
                contribution_pct=total, start=None, end=None)
