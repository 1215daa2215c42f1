"""Results of runs: one design for a single solve, a path over dates and an ensemble over draws.

Every result has the same coordinates (``draw``, ``date``, then ``product``, ``exporter``,
``importer`` or ``country``), one vocabulary of variables with units
(`tradesim.results.variables`), and the same methods: ``to_frame``, ``to_xarray``,
``variables``, ``summary``, ``effective_rate`` (single solves and paths) and ``compare``. Plots
are attached by `tradesim.plot` as ``result.plot``; results do not draw.
"""

from .base import Result
from .ensemble import EnsembleResult
from .path import ScenarioResult
from .single import SimulationResult
from .variables import LEVELS, VARIABLES, Variable

__all__ = ["EnsembleResult", "LEVELS", "Result", "ScenarioResult", "SimulationResult", "VARIABLES", "Variable"]
