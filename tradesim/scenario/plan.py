"""The plan a scenario compiles to: periods x tariff regimes x elasticity multipliers.

`compile_plan` reads the scenario's law once (the tariffs of every regime, at once), cuts its
periods into pieces of constant tariffs (`tradesim.scenario.dynamics`) and lists the model
solves the pieces need. `tradesim.simulate.run_plan` then runs them: a scenario run reads the
data, evaluates the law, compiles the plan, solves the model and builds the result, each once
and in that order.
"""

from __future__ import annotations

import datetime as dt
import inspect
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import Baseline
from ..data.bundled import fine_values_problem, load_fine_values
from ..errors import InputError, TradesimWarning
from ..models import ModelSpec, get_model
from . import dynamics
from .scenario import Scenario, regime_of

__all__ = ["Plan", "compile_plan", "model_options"]


@dataclass(frozen=True)
class Plan:
    """What a scenario run needs that does not depend on the elasticities: pieces, regimes, solves.

    It holds arrays and plain values only, so it pickles and can be sent once to Dask workers.

    Attributes
    ----------
    spec : ModelSpec
    flows : numpy.ndarray, ``[product, exporter, importer]``
    rates : numpy.ndarray, ``[regime, product, exporter, importer]``
        Fractions; ``rates[0]`` are the reference tariffs the flows reflect.
    regime_days : list of date, ``[regime]``
    parts : dynamics.Pieces
        The periods cut where tariffs change.
    regime : numpy.ndarray of int, ``[piece]``
    mult : numpy.ndarray, ``[piece]``
        Factor on the short-run parameters (see `tradesim.scenario.dynamics`).
    keys : list of (int, float)
        The (regime, multiplier) of each solve.
    events : list of (date, date)
        ``(announced, effective)`` days of announced tariff rises.
    dyn : Dynamics
    payback : pandas.DateOffset
    options : dict
        Passed to the model.
    shock : date or None
        First day the tariffs differ from the reference tariffs.
    notes : tuple of str
    """

    spec: ModelSpec
    flows: np.ndarray
    rates: np.ndarray
    regime_days: list
    parts: dynamics.Pieces
    regime: np.ndarray
    mult: np.ndarray
    keys: list
    events: list
    dyn: dynamics.Dynamics
    payback: object
    options: dict
    shock: object
    notes: tuple

    @property
    def t0(self) -> np.ndarray:
        return self.rates[0]

    @property
    def piece_keys(self) -> list:
        """The solve (a key of `keys`) each piece takes its values from."""
        return piece_keys(self.regime, self.mult)


def piece_keys(regime: np.ndarray, mult: np.ndarray) -> list:
    """``(regime, multiplier)`` of each piece, the multiplier rounded so equal ones share a solve."""
    return list(zip(regime.tolist(), mult.round(12).tolist()))


def model_options(spec: ModelSpec, baseline: Baseline, options: dict, *, stacklevel: int = 2) -> list[str]:
    """Fill in the options a model takes from the baseline (in place); returns notes for the reader.

    ``countries`` (for messages and numeraires), ``home`` (each importer's position on the
    exporter axis) and ``domestic`` (whether the baseline has domestic sales) are passed to a
    model whose function takes them. A model that needs a square baseline gets an `InputError`
    on a rectangle.
    """
    notes = []
    if spec.square and not baseline.square:
        raise InputError(f"model {spec.name!r} needs the same countries on both axes (every country buys and sells); "
                         f"this baseline has {len(baseline.exporters)} exporters and {len(baseline.importers)} "
                         f"importers: use a square baseline or another model", key="model")
    takes = inspect.signature(spec.solve).parameters
    if "countries" in takes:  # so errors name countries and a numeraire can be given by code
        options.setdefault("countries", baseline.countries)
    if "home" in takes and not baseline.square:
        options.setdefault("home", baseline.home)
    if "domestic" not in options and "domestic" in takes:
        options["domestic"] = baseline.domestic
        if not baseline.domestic:
            note = ("the baseline has no domestic sales, so the domestic substitute is not modelled: "
                    "composite demand is import demand and eta is an import demand elasticity")
            notes.append(note)
            warnings.warn(note + " (pass domestic=False to silence this)", TradesimWarning, stacklevel=stacklevel + 1)
    return notes


def compile_plan(baseline: Baseline, scenario: Scenario, model: str, fine_values, options: dict) -> Plan:
    """Cut the scenario's periods into pieces of constant tariffs and list the solves they need.

    Parameters
    ----------
    baseline : Baseline
    scenario : Scenario
    model : str
        A registered model.
    fine_values : optional
        Finer trade values for the law (see `tradesim.law.TariffSchedule.rates`).
    options : dict
        Options for the model (completed in place by `model_options`).
    """
    spec = get_model(model)
    dyn = scenario.dynamics
    if fine_values is None:
        fine_values = scenario.load_fine_values()
    elif isinstance(fine_values, str):  # a bundled name or a path
        fine_values = load_fine_values(fine_values)
    if (problem := fine_values_problem(fine_values, baseline.products)) is not None:
        raise InputError(problem, source=scenario.fine_values or "fine_values", key="fine_values")
    notes = model_options(spec, baseline, options, stacklevel=4)
    notes += _missing_exporters(scenario.schedule, baseline)
    fallback = _fallback_notes(scenario.schedule, baseline, fine_values)
    for note in fallback[:-1] if fallback and "exact value shares" in fallback[-1] else fallback:
        warnings.warn(note, TradesimWarning, stacklevel=4)
    notes += fallback
    starts, ends = scenario.periods()
    regime_days, rates = scenario.regimes(baseline, fine_values=fine_values, warn=False)  # [regime, k, i, j]
    changes = regime_days[1:]
    moved = np.flatnonzero(np.abs(rates - rates[0]).reshape(len(rates), -1).max(axis=1) > 0)
    shock = regime_days[moved[0]] if moved.size else None
    events = _announcements(scenario.schedule, changes, regime_days[0]) if dyn.front_loading > 0 else []
    payback = pd.DateOffset(days=round(dyn.payback_months * 365.25 / 12))
    cuts = changes + [a for a, _ in events] + [(pd.Timestamp(e) + payback).date() for _, e in events]
    parts = dynamics.pieces(starts, ends, cuts)
    regime = regime_of(regime_days, parts.start)
    if dyn.adjustment == "elasticity" and shock is not None:
        mult = dynamics.elasticity_multiplier(dynamics.years_between(parts.middle, shock), dyn)
    else:
        mult = np.ones(len(parts.start))
    if dyn.adjustment == "partial":
        keys = [(r, 1.0) for r in range(int(regime.max()) + 1)]  # every regime up to the last, for the kernel
    else:
        keys = list(dict.fromkeys(piece_keys(regime, mult)))
    return Plan(spec, baseline.flows, rates, regime_days, parts, regime, mult, keys, events, dyn, payback,
                dict(options), shock, tuple(notes))


def _announcements(schedule, changes: list, ref: dt.date) -> list[tuple]:
    """``(announced, effective)`` for each change day on which announced measures start."""
    out = []
    for day in changes:
        early = [m.announced for m in schedule.measures if m.start == day and m.announced and ref < m.announced < day]
        if early:
            out.append((min(early), day))
    return out


def _fallback_notes(schedule, baseline: Baseline, fine_values) -> list[str]:
    """Where the law meets products in part and no finer trade values exist: per importer, the value
    whose shares come from the fallback (equal weights on HS subheadings), and the chapters."""
    atoms = schedule.atoms(baseline.products, baseline.exporters, baseline.importers, fine_values)
    exporters = np.asarray(baseline.exporters)
    reached = np.zeros((len(baseline.exporters), len(baseline.importers)), bool)  # pairs some measure covers
    for j, importer in enumerate(baseline.importers):
        for m in schedule.measures:  # the measures' exporter sets, once per importer
            if m.importer == importer:
                reached[:, j] |= m.exporter_mask(exporters)
    cells = atoms.fallback_cells(len(baseline.exporters), len(baseline.importers)) & (baseline.flows > 0) & \
        reached[None]
    notes = []
    for j in np.flatnonzero(cells.any(axis=(0, 1))):  # importers whose law is finer than the data
        value = float(baseline.flows[:, :, j][cells[:, :, j]].sum())
        total = float(baseline.flows[:, reached[:, j], j].sum())
        k = np.flatnonzero(cells[:, :, j].any(axis=1))
        chapters = ", ".join(dict.fromkeys(p[:2] for p in np.asarray(baseline.products)[k]))
        notes.append(f"{baseline.importers[j]}'s measures cover {k.size} product(s) only in part where no finer trade "
                     f"values are given: their shares come from equal weights on HS subheadings for USD "
                     f"{value / 1e9:,.1f}bn of its imports from the exporters they cover ({100 * value / total:.1f}%; "
                     f"chapters {chapters})")
    exact = int(atoms.n_exact)
    if exact:
        notes.append(f"{exact} product(s) that measures cover in part take exact value shares from the finer trade "
                     "values given")
    return notes


def _missing_exporters(schedule, baseline: Baseline) -> list[str]:
    named = sorted({c for m in schedule.measures for c in (m.exporters or ())} - set(baseline.exporters))
    if not named:
        return []
    return [f"measures name exporters that the baseline does not have: {', '.join(named)}; their trade is in "
            f"another row of the baseline (such as ROW) and those measures do not reach it"]
