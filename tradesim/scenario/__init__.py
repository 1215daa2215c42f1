"""Scenarios: tariff paths over a date grid, and the plan they compile to.

A scenario file (TOML, `tradesim.scenario.file`) names a baseline, a schedule of tariff law, a
date range, a model, elasticities and how trade adjusts over time (`tradesim.scenario.dynamics`),
with phased changes (`tradesim.scenario.phases`). `load_scenario` reads and checks it into a
`Scenario`; `tradesim.scenario.plan.compile_plan` turns it into periods x tariff regimes x
elasticity multipliers for `tradesim.simulate`.
"""

from .bundled import list_scenarios, scenario_path
from .dynamics import Dynamics
from .file import load_scenario
from .phases import Phase, apply_phases
from .scenario import Scenario

__all__ = ["Dynamics", "Phase", "Scenario", "apply_phases", "list_scenarios", "load_scenario", "scenario_path"]
