"""A scenario's path on a part of a sparse baseline: the importers whose law the scenario holds.

Where every market clears by itself (PE with perfectly elastic export supply: exporters' prices
do not move), an importer whose tariffs never change keeps its baseline on the whole path, so a
path on a sparse whole-world baseline needs to solve only the importers the scenario's law
reaches (`path_baseline`); its per-country outputs are then placed among the world's countries
(`on_world`). `tradesim.simulate` and `tradesim.ensemble.run` use this.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import kept
from ..data import Baseline
from ..models import get_model

__all__ = ["path_baseline", "on_world", "cut_note"]


def path_baseline(baseline: Baseline, scenario, model: str, params: dict) -> Baseline:
    """What a scenario's path runs on: on a sparse baseline whose markets clear each by itself with
    parameters `params` (possibly with a draw axis; PE with perfectly elastic export supply:
    `ModelSpec.independent_markets`), its cut to the importers whose law the scenario holds, still
    on its cells (every other importer's markets keep their baseline values on the whole path, so
    solving them would change nothing); otherwise `baseline`."""
    if baseline.layout != "sparse":
        return baseline
    spec = get_model(model)
    if spec.independent_markets is None or not spec.independent_markets(params):
        return baseline
    imposing = set(scenario.schedule.importers())
    movers = [c for c in baseline.importers if c in imposing] or list(baseline.importers[:1])  # the shape needs one
    # the last cut is kept for the next run on the very same baseline: a repeat then finds the law and plan
    # it kept for that cut (they are matched by identity), as on a dense baseline
    cut = kept.last("cut", (baseline,), tuple(movers))
    if cut is None:
        cut = baseline.restrict(importers=movers)
        kept.keep_last("cut", (baseline,), tuple(movers), cut)
    return cut


def on_world(values: dict, cut: Baseline, world: Baseline) -> dict:
    """Per-country outputs ``{name: [..., country]}`` of a run on `cut` (`path_baseline`) on `world`'s
    countries: an importer the cut left out has no market that moved, so its outputs are zero (also
    those the cut, where it is only an exporter, does not define, such as an import price index)."""
    countries = pd.Index(world.countries)
    place = countries.get_indexer(list(cut.countries))
    left_out = np.flatnonzero(countries.isin(world.importers) & ~countries.isin(cut.importers))
    out = {}
    for name, a in values.items():  # a handful of outputs
        a = np.asarray(a)
        full = np.zeros((*a.shape[:-1], countries.size))
        full[..., place] = a
        full[..., left_out] = np.nan_to_num(full[..., left_out], nan=0.0)
        out[name] = full
    return out


def cut_note(cut: Baseline, world: Baseline) -> str:
    """The note of a run on `cut`, a part of `world` (`path_baseline`)."""
    m = len(world.importers)
    return (f"the path ran on the {len(cut.importers)} importer(s) whose law the scenario holds "
            f"({', '.join(cut.importers)}): with perfectly elastic export supply every market clears by itself, and "
            f"the other {m - len(cut.importers)} importers' markets keep their baseline values on the whole path")
