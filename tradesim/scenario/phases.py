"""Phased changes: a measure's rate in steps, each step a measure of its own.

A measure cut in three steps is split into four measures, one per rate, so
`tradesim.law.TariffSchedule.explain` shows which step applied on a day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd

from ..law import Measure

__all__ = ["Phase", "apply_phases", "step_name"]


@dataclass(frozen=True)
class Phase:
    """A stepwise change of one measure's rate: explicit dated steps, or equal steps.

    Parameters
    ----------
    measure : str
        Name of the measure whose rate changes.
    steps : tuple of (date, float)
        Explicit steps: the day of each and the rate (fraction) from that day, in date order.
    to_rate : float, optional
        Equal steps instead: the rate (fraction) after the last one,
    count : int
        in this many steps,
    first : date, optional
        the first on this day,
    every : pandas.DateOffset, optional
        and the others this far apart,
    from_rate : float, optional
        starting from this rate (the measure's own rate when None).
    announced : date, optional
        Day the steps were made public (None: not anticipated; the measure's own `announced` was of its first
        rate).
    source, notes : str

    Examples
    --------
    >>> p = Phase("x", to_rate=0.10, count=3, first=dt.date(2025, 6, 1), every=pd.DateOffset(days=90))
    >>> [(str(d), round(r, 2)) for d, r in p.steps_from(1.45)]
    [('2025-06-01', 1.0), ('2025-08-30', 0.55), ('2025-11-28', 0.1)]
    """

    measure: str
    steps: tuple[tuple[dt.date, float], ...] = ()
    to_rate: float | None = None
    count: int = 1
    first: dt.date | None = None
    every: pd.DateOffset | None = None
    from_rate: float | None = None
    announced: dt.date | None = None
    source: str = ""
    notes: str = ""

    def steps_from(self, rate: float) -> tuple[tuple[dt.date, float], ...]:
        """The dated steps, for a measure whose rate is `rate` (fraction) before them."""
        if self.steps:
            return self.steps
        start = rate if self.from_rate is None else self.from_rate
        every = self.every or pd.DateOffset(days=0)
        days = [(pd.Timestamp(self.first) + k * every).date() for k in range(self.count)]
        return tuple((d, start + (self.to_rate - start) * (k + 1) / self.count) for k, d in enumerate(days))


def step_name(measure: str, day: dt.date) -> str:
    """Name of the measure that holds a phase's step from `day`."""
    return f"{measure}@{day.isoformat()}"


def apply_phases(measures: tuple[Measure, ...], phases: tuple[Phase, ...]) -> tuple[tuple[Measure, ...], tuple, list]:
    """Split each phased measure into one measure per rate.

    The measure keeps its name and ends on the first step; step ``k`` is a copy named
    ``"<measure>@<day>"`` in force until the next step (the last until the measure's own end).
    Measures that replace a phased measure replace its steps too.

    Returns
    -------
    measures : tuple of Measure
    phases : tuple of Phase
        The phases that applied, with their dated steps.
    problems : list of (phase index, key, message)
        Phases on unknown measures, on measures with rates by product, or with steps outside
        the measure's dates; such phases are left out.

    Notes
    -----
    The work is linear in the number of steps: each step is one new measure, made once. A
    measure that replaces a phased one lists every step in its ``replaces``.

    Examples
    --------
    >>> from tradesim.law import Measure
    >>> m = Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])
    >>> p = Phase("x", to_rate=0.2, count=3, first=dt.date(2025, 6, 1), every=pd.DateOffset(months=1))
    >>> measures, applied, problems = apply_phases((m,), (p,))
    >>> [(x.name, round(x.rate, 2), str(x.start), str(x.end)) for x in measures]  # doctest: +NORMALIZE_WHITESPACE
    [('x', 0.5, '2025-01-01', '2025-06-01'), ('x@2025-06-01', 0.4, '2025-06-01', '2025-07-01'),
     ('x@2025-07-01', 0.3, '2025-07-01', '2025-08-01'), ('x@2025-08-01', 0.2, '2025-08-01', 'None')]
    """
    by_name = {m.name: m for m in measures}
    problems: list[tuple[int, str, str]] = []
    split: dict[str, list[Measure]] = {}
    done: list[Phase] = []
    for i, phase in enumerate(phases):
        m = by_name.get(phase.measure)
        if m is None:
            problems.append((i, "measure", f"no measure {phase.measure!r} to phase; measures: {sorted(by_name)}"))
            continue
        if phase.measure in split:
            problems.append((i, "measure", f"measure {phase.measure!r} is phased twice; give all steps in one phase"))
            continue
        if m.product_rates:
            problems.append((i, "measure", f"measure {m.name!r} has rates by product; a phase needs one rate_pct"))
            continue
        steps = phase.steps_from(m.rate)
        days = [d for d, _ in steps]
        key = "path" if phase.steps else "start"
        if days[0] <= m.start:
            problems.append((i, key, f"first step {days[0]} is not after the measure's start {m.start}"))
            continue
        if m.end is not None and days[-1] >= m.end:
            problems.append((i, key, f"last step {days[-1]} is not before the measure's end {m.end}"))
            continue
        announced = phase.announced  # the measure's own announcement was of its first rate, not of the steps
        pieces = [dataclasses.replace(m, end=days[0])]
        for k, (day, rate) in enumerate(steps):
            pieces.append(dataclasses.replace(
                m, name=step_name(m.name, day), rate=rate, start=day, end=days[k + 1] if k + 1 < len(days) else m.end,
                announced=announced if announced and announced <= day else None,
                notes=f"phase step {k + 1} of {len(days)}" + (f"; {phase.source}" if phase.source else "")))
        split[m.name] = pieces
        done.append(dataclasses.replace(phase, steps=steps))
    out = []
    for m in measures:  # each measure and step once: the work is linear in the steps
        extra = tuple(p.name for r in m.replaces if r in split for p in split[r][1:])
        pieces = split.get(m.name, [m])
        out += [dataclasses.replace(p, replaces=m.replaces + extra) for p in pieces] if extra else pieces
    return tuple(out), tuple(done), problems
