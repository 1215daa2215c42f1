"""tradesim: trade-policy scenarios with bilateral tariffs, exemption lists and trade elasticities.

The package is built in layers, each importing only the ones before it:

``codes``, ``files``, ``errors``   country and HS codes; reading files with clear errors
``data``                           the Baseline and the trade data it is read from
``law``                            tariff law: lists, measures, stacking rules, schedules
``models``                         pure models on arrays (PE, GE, gravity) and their registry
``elasticities``                   model parameters, their defaults and priors
``scenario``                       scenario files, phases, dynamics and the plan they compile to
``simulate``, ``ensemble``         running a change, a plan, or a plan over draws
``results``                        the results of runs, as tables and labelled arrays
``plot``, ``cli``                  figures and the command line, at the edges
"""

from .data import (Baseline, list_baselines, load_baseline, open_baseline, read_baci, read_comtrade, read_flows,
                   read_wits_tariffs, to_hs2022)
from .elasticities import Elasticities, priors
from .errors import ConvergenceError, InputError, ScenarioError, TradesimError, TradesimWarning
from .law import Measure, ProductList, TariffSchedule, effective_rate, list_schedules, load_schedule
from .results import EnsembleResult, ScenarioResult, SimulationResult
from .scenario import Scenario, list_scenarios, load_scenario
from .simulate import simulate
from .version import __version__

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
    "open_baseline",
    "plot",
    "priors",
    "read_baci",
    "read_comtrade",
    "read_flows",
    "read_wits_tariffs",
    "simulate",
    "to_hs2022",
    "__version__",
]
