"""Cross-references among a schedule's measures and lists: names, groups, ``replaces``, ``follows``."""

from __future__ import annotations

import graphlib
from collections.abc import Sequence

from .lists import ProductList
from .measure import Measure

__all__ = ["is_code", "resolved_dates", "schedule_problems"]


def is_code(text: object) -> bool:
    """Whether a reference in ``products`` or ``exclude`` is an HS code rather than a list name."""
    return isinstance(text, str) and text[:1].isdigit()


def schedule_problems(measures: Sequence[Measure], lists: Sequence[ProductList]) -> list[tuple[str, int, str, str]]:
    """Cross-references among measures and lists: ``(table, position, field, message)`` for each problem."""
    out: list[tuple[str, int, str, str]] = []
    list_names: dict[str, int] = {}
    for i, pl in enumerate(lists):
        if pl.name in list_names:
            out.append(("product_lists", i, "name", f"list {pl.name!r} is defined twice (also product_lists[{list_names[pl.name]}])"))
        list_names.setdefault(pl.name, i)
    names: dict[str, int] = {}
    for i, m in enumerate(measures):
        if m.name in names:
            out.append(("measures", i, "name", f"measure {m.name!r} is defined twice (also measures[{names[m.name]}])"))
        names.setdefault(m.name, i)
    by_name = {m.name: m for m in measures}
    groups = {m.group for m in measures if m.group}
    for i, m in enumerate(measures):
        for fld in ("products", "exclude"):
            for ref in getattr(m, fld) or ():
                if not is_code(ref) and ref not in list_names:
                    out.append(("measures", i, fld, f"unknown product list {ref!r}; defined lists: {sorted(list_names) or 'none'}"))
        for ref in m.replaces:
            if ref not in names and ref not in groups:
                out.append(("measures", i, "replaces", f"unknown measure or group {ref!r}"))
            elif any(t.rule == "halt" for t in _members(ref, measures)):
                out.append(("measures", i, "replaces", f"{ref!r} is a halt (rule = 'halt'): a halt overrides every "
                                                       f"measure where it applies, so no measure replaces it"))
            elif m.rule == "floor" and any(t.kind == "mfn" for t in _members(ref, measures)):
                out.append(("measures", i, "replaces", f"a floor is measured against the MFN layers, so it cannot "
                                                       f"replace {ref!r}, which holds MFN layers"))
        if m.group and m.group in names:
            out.append(("measures", i, "group", f"group {m.group!r} has the name of a measure; names must differ"))
        if m.follows is not None:
            target = by_name.get(m.follows)
            if target is None:
                out.append(("measures", i, "follows", f"unknown measure {m.follows!r}"))
            elif m.start is not None and (m.start, m.end) != resolved_dates(target, by_name):
                out.append(("measures", i, "follows", f"follows {m.follows!r} but gives other dates ({m.start} to "
                                                      f"{m.end}); give either follows or start/end"))
    chain = graphlib.TopologicalSorter({m.name: [m.follows] for m in measures if m.follows in by_name})
    try:
        tuple(chain.static_order())
    except graphlib.CycleError as err:
        out.append(("measures", names.get(err.args[1][0], 0), "follows", "follows forms a cycle: "
                    + " -> ".join(err.args[1])))
    graph = graphlib.TopologicalSorter()
    for m in measures:
        targets = [t.name for ref in m.replaces for t in _members(ref, measures)]
        graph.add(m.name, *[t for t in targets if t != m.name])
    try:
        graph.prepare()
    except graphlib.CycleError as err:
        cycle = err.args[1]
        out.append(("measures", names.get(cycle[0], 0), "replaces", "replaces forms a cycle: " + " -> ".join(cycle)))
    return out


def _members(ref: str, measures: Sequence[Measure]) -> list[Measure]:
    """The measures a name in ``replaces`` stands for: a group's members, or the measure itself."""
    found = [m for m in measures if m.group == ref]
    return found or [m for m in measures if m.name == ref]


def resolved_dates(m: Measure, by_name: dict[str, Measure], seen: tuple = ()) -> tuple:
    """(start, end) of a measure, following ``follows`` (cycles are reported by `schedule_problems`)."""
    if m.follows is None or m.follows not in by_name or m.name in seen:
        return m.start, m.end
    return resolved_dates(by_name[m.follows], by_name, (*seen, m.name))
