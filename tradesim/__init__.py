"""tradesim: trade-policy scenarios with bilateral tariffs, exemption lists and trade elasticities."""

from .baseline import Baseline
from .data import list_baselines, load_baseline
from .errors import ConvergenceError, InputError, ScenarioError, TradesimError
from .io import read_baci, read_comtrade, read_flows

__all__ = [
    "Baseline",
    "ConvergenceError",
    "InputError",
    "ScenarioError",
    "TradesimError",
    "list_baselines",
    "load_baseline",
    "read_baci",
    "read_comtrade",
    "read_flows",
]
__version__ = "0.1.0"
