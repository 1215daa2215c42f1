"""tradesim: trade-policy scenarios with bilateral tariffs, exemption lists and trade elasticities."""

from .baseline import Baseline
from .data import list_baselines, list_schedules, load_baseline, load_schedule
from .elasticities import Elasticities, priors
from .errors import ConvergenceError, InputError, ScenarioError, TradesimError, TradesimWarning
from .io import read_baci, read_comtrade, read_flows
from .results import EnsembleResult, ScenarioResult, SimulationResult
from .scenario import Scenario, list_scenarios, load_scenario
from .simulate import simulate
from .tariffs import Measure, ProductList, TariffSchedule, effective_rate

from . import ensemble, plot  # noqa: E402  (modules: tradesim.ensemble.run, tradesim.plot.trade_path)

__all__ = [
    "Baseline",
    "ConvergenceError",
    "Elasticities",
    "EnsembleResult",
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
    "ensemble",
    "list_baselines",
    "list_scenarios",
    "list_schedules",
    "load_baseline",
    "load_scenario",
    "load_schedule",
    "plot",
    "priors",
    "read_baci",
    "read_comtrade",
    "read_flows",
    "simulate",
]
__version__ = "0.1.0"
