"""tradesim: trade-policy scenarios with bilateral tariffs, exemption lists and trade elasticities."""

from .baseline import Baseline
from .data import list_baselines, list_schedules, load_baseline, load_schedule
from .elasticities import Elasticities
from .errors import ConvergenceError, InputError, ScenarioError, TradesimError, TradesimWarning
from .io import read_baci, read_comtrade, read_flows
from .results import ScenarioResult, SimulationResult
from .scenario import Scenario, list_scenarios, load_scenario
from .simulate import simulate
from .tariffs import Measure, ProductList, TariffSchedule, effective_rate

from . import plot  # noqa: E402  (a module of helpers: tradesim.plot.trade_path)

__all__ = [
    "Baseline",
    "ConvergenceError",
    "Elasticities",
    "InputError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "SimulationResult",
    "TradesimError",
    "TradesimWarning",
    "Measure",
    "ProductList",
    "TariffSchedule",
    "effective_rate",
    "list_baselines",
    "list_scenarios",
    "list_schedules",
    "load_baseline",
    "load_scenario",
    "load_schedule",
    "plot",
    "read_baci",
    "read_comtrade",
    "read_flows",
    "simulate",
]
__version__ = "0.1.0"
