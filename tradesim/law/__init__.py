"""Tariff law as data: product lists, measures, the stacking rules and schedules.

Real tariff regimes are layers: MFN, Section 301 lists, Section 232 duties, IEEPA duties, deals,
retaliation. Each layer is a `Measure` (who imposes it, on whom, on what, at what rate, from and
until when, and how it combines with the others); a `TariffSchedule` holds measures and the
`ProductList` objects they name and evaluates them into rates ``[product, exporter, importer]``
on any date (`TariffSchedule.rates`), explaining every layer (`TariffSchedule.explain`).

Modules, bottom up: `fields` (the one table of a measure's fields), `lists`, `measure`, `checks`
(cross-references), `file` (the TOML format), `stacking` (the rules), `atoms` (products split
where the law is finer), `schedule`, `explain` and `bundled` (the bundled schedules).
"""

from .bundled import list_schedules, load_schedule
from .fields import LIST_FIELDS, MAX_RATE, MEASURE_FIELDS, field_table
from .lists import ProductList
from .measure import Measure
from .schedule import TariffSchedule, effective_rate, read_schedule
from .stacking import RULES

__all__ = ["LIST_FIELDS", "MAX_RATE", "MEASURE_FIELDS", "Measure", "ProductList", "RULES", "TariffSchedule",
           "effective_rate", "field_table", "list_schedules", "load_schedule", "read_schedule"]
