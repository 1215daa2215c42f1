"""tradesim: trade-policy scenarios with bilateral tariffs, exemption lists and trade elasticities."""

from .baseline import Baseline
from .data import list_baselines, list_schedules, load_baseline, load_schedule
from .elasticities import Elasticities
from .errors import ConvergenceError, InputError, ScenarioError, TradesimError, TradesimWarning
from .io import read_baci, read_comtrade, read_flows
from .results import SimulationResult
from .simulate import simulate
from .tariffs import Measure, ProductList, TariffSchedule, effective_rate

__all__ = [
    "Baseline",
    "ConvergenceError",
    "Elasticities",
    "InputError",
    "ScenarioError",
    "SimulationResult",
    "TradesimError",
    "TradesimWarning",
    "Measure",
    "ProductList",
    "TariffSchedule",
    "effective_rate",
    "list_baselines",
    "list_schedules",
    "load_baseline",
    "load_schedule",
    "read_baci",
    "read_comtrade",
    "read_flows",
    "simulate",
]
__version__ = "0.1.0"
