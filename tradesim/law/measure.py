"""A measure: one layer of tariff law, its fields checked against the field table."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..files import parse_date
from .fields import MEASURE_FIELDS, REQUIRED, FieldErrors, check_fields

__all__ = ["Measure"]


@dataclass(frozen=True)
class Measure:
    """One layer of tariff law.

    Every field, with its type, unit, default and meaning, is a row of
    `tradesim.law.fields.MEASURE_FIELDS` (``tradesim.law.field_table()`` prints it); the
    stacking rules that read them are in `tradesim.law.stacking`. The most used:

    Parameters
    ----------
    name : str
        Unique within a schedule.
    importer : str
        ISO 3166 alpha-3 code (or a group such as ``EU27``) of the country imposing it.
    rate : float
        Ad valorem rate as a fraction (``1.25`` is 125%), from 0 to 20.
    start : date or str
        First day in force (``YYYY-MM-DD``); may be left out when `follows` names a measure.
    end : date or str, optional
        First day no longer in force; None for open-ended.
    exporters, except_exporters, products, exclude : optional
        Who and what it covers: exporters (all but the importer when None), or all but
        `except_exporters`; HS prefixes and list names (all products when None), minus the
        `exclude` lists.
    replaces : sequence of str
        Measures or groups that do not apply where this one applies.
    group : str, optional
        Members of a group take the maximum of their contributions instead of the sum.
    rule : {"add", "floor", "halt"}
        ``"floor"``: an all-in floor: the total with the MFN layers (``kind="mfn"``) is brought
        up to `rate`, adding nothing where MFN is higher. ``"halt"``: the covered trade stops
        (an import ban, halted purchases): the rate there is ``inf`` whatever the other
        measures. A halt has no rate, rates by product, exporter or line, value shares,
        qualifying shares, coverage below 1, group or ``replaces``, is of kind
        ``"additional"``, and no measure may replace it; what it spares is said with
        `exporters`, `except_exporters`, `products` and `exclude`.
    product_rates, exporter_rates, line_rates : mapping, optional
        Rates by HS prefix, by exporter, or by (exporter, HS prefix).
    value_share, value_shares : optional
        The share of a good's value the duty is charged on (metal content), overall or by HS
        prefix.
    qualifying, qualifying_lines : optional
        The share of an exporter's trade (or an exporter's trade in a line) that qualifies for
        an exemption (USMCA) and does not pay.
    coverage : float
        Share of the covered products' trade that the measure reaches, for lists whose lines
        are not known.
    follows : str, optional
        Take `start` and `end` from this measure (resolved by `TariffSchedule`).
    kind, authority, announced, layer, source, notes
        See `MEASURE_FIELDS`.

    Examples
    --------
    >>> m = Measure("fentanyl", "USA", 0.20, "2025-03-04", exporters=["CHN", "HKG"])
    >>> m.in_force("2025-04-14")
    True
    """

    name: str = REQUIRED
    importer: str = REQUIRED
    rate: float = 0.0
    start: _dt.date | None = None
    end: _dt.date | None = None
    authority: str = ""
    exporters: tuple[str, ...] | None = None
    except_exporters: tuple[str, ...] = ()
    products: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    replaces: tuple[str, ...] = ()
    group: str | None = None
    kind: str = "additional"
    rule: str = "add"
    product_rates: Mapping[str, float] | None = None
    exporter_rates: Mapping[str, float] | None = None
    line_rates: Mapping[tuple[str, str], float] | None = None
    value_share: float = 1.0
    value_shares: Mapping[str, float] | None = None
    qualifying: Mapping[str, float] | None = None
    qualifying_lines: Mapping[tuple[str, str], float] | None = None
    coverage: float = 1.0
    follows: str | None = None
    announced: _dt.date | None = None
    layer: str | None = None
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        problems = check_fields(self, MEASURE_FIELDS)
        if self.start is None and self.follows is None:
            problems.append(("start", "missing: give start (YYYY-MM-DD) or follows"))
        start, end, announced = self.start, self.end, self.announced
        if isinstance(start, _dt.date) and isinstance(end, _dt.date) and end <= start:
            problems.append(("end", f"end {end} is not after start {start}"))
        if isinstance(start, _dt.date) and isinstance(announced, _dt.date) and announced > start:
            problems.append(("announced", f"announced {announced} is after start {start}"))
        if self.exporters is not None and self.except_exporters:
            problems.append(("except_exporters", "give either exporters or except_exporters, not both"))
        if self.exporters is not None and not self.exporters:
            problems.append(("exporters", "empty list: leave it out to cover all exporters"))
        if self.products is not None and not self.products:
            problems.append(("products", "empty list: leave it out to cover all products"))
        if isinstance(self.replaces, tuple) and self.name in self.replaces:
            problems.append(("replaces", f"measure {self.name!r} cannot replace itself"))
        if self.rule == "floor" and self.kind == "mfn":
            problems.append(("rule", "an MFN layer cannot be a floor: floors are measured against the MFN layers"))
        if self.rule == "halt":
            problems += self._halt_problems()
        if problems:
            raise FieldErrors(problems, key=f"measure {self.name!r}")

    #: The fields a halt leaves at their defaults, and what each default means there.
    _HALT_DEFAULTS = (("rate", 0.0, "a halt has no rate (its tariff equivalent is infinite): leave rate "
                                    "(rate_pct) out"),
                      ("product_rates", None, "a halt has no rates by product: leave them out"),
                      ("exporter_rates", None, "a halt has no rates by exporter: leave them out"),
                      ("line_rates", None, "a halt has no rates by line: leave them out"),
                      ("coverage", 1.0, "a halt stops all the trade it covers: expected 1 (100%); name the lines "
                                        "halted in products instead"),
                      ("value_share", 1.0, "a halt stops the whole good, not a share of its value: expected 1 (100%)"),
                      ("value_shares", None, "a halt stops the whole good: leave value shares out"),
                      ("qualifying", None, "a halt has no qualifying share: use exclude or except_exporters"),
                      ("qualifying_lines", None, "a halt has no qualifying share: use exclude or except_exporters"),
                      ("group", None, "a halt cannot be in a group: it overrides every measure where it applies"),
                      ("kind", "additional", "a halt is an additional measure, not an MFN base rate: expected "
                                             "'additional'"),
                      ("replaces", (), "a halt overrides every measure where it applies, so it replaces none: "
                                       "leave replaces out"))

    def _halt_problems(self) -> list[tuple[str, str]]:
        """``(field, message)`` for each field of a halt (``rule = "halt"``) not at its default."""
        out = []
        for name, default, expected in self._HALT_DEFAULTS:  # a dozen fields of one measure
            value = getattr(self, name)
            if value is not default and value != default:
                if isinstance(value, Mapping):
                    shown = f"a table of {len(value)} entr{'y' if len(value) == 1 else 'ies'}"
                elif isinstance(default, float) and isinstance(value, float):  # files write percent
                    shown = f"{value:g} ({100 * value:g}%)"
                else:
                    shown = repr(value)
                out.append((name, f"is {shown} on halt {self.name!r}; {expected}"))
        return out

    @property
    def layer_name(self) -> str:
        """`layer` when given, else the group, else the name without a phase step's ``@day``."""
        return self.layer or self.group or self.name.split("@")[0]

    def in_force(self, date) -> bool:
        """True when ``start <= date < end``."""
        d = parse_date(date)
        return self.start is not None and self.start <= d and (self.end is None or d < self.end)

    def exporter_mask(self, exporters: np.ndarray) -> np.ndarray:
        """``[exporter]``: the exporters the measure covers (never the importer itself)."""
        if self.exporters is not None:
            mask = np.isin(exporters, self.exporters)
        else:
            mask = ~np.isin(exporters, self.except_exporters)
        return mask & (exporters != self.importer)
