"""The model registry: each model declares, once, what it takes and what it gives.

A model is a pure function on arrays. Its registry entry (`ModelSpec`) declares its parameters
(`Parameter`: meaning, bounds, whether the time path scales it, its prior), its outputs per
country (`Output`: name, unit, meaning) and which of them add up to welfare. Elasticities,
priors, time paths, results, plots, scenario files and the command line read these
declarations, so a new model is one module that calls `register`, plus its tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["MODELS", "ModelSpec", "Output", "Parameter", "get_model", "parameters", "register"]

#: How an output moves on a path under partial adjustment (see `Output`).
TIMINGS = ("price", "quantity", "revenue_change", "revenue_level", "rest")


@dataclass(frozen=True)
class Parameter:
    """An elasticity a model takes.

    Attributes
    ----------
    name : str
        Its glossary name (``sigma``, ``eta``, ``epsilon``, ``theta``).
    meaning : str
    low : float
        Lower bound; ``low_inclusive`` says whether it is allowed.
    allow_inf : bool
        Whether ``inf`` is allowed (perfectly elastic export supply).
    short_run : bool
        Whether time paths scale it between the short and the long run
        (`tradesim.scenario.dynamics`).
    prior : str
        Name of its bundled prior (``tradesim/data/priors.csv``). Its default value is the
        long-run row of ``tradesim/data/elasticities.csv`` with its name.
    """

    name: str
    meaning: str
    low: float = 0.0
    low_inclusive: bool = False
    allow_inf: bool = False
    short_run: bool = False
    prior: str = "default"

    def problem(self, value: float) -> str | None:
        """What is wrong with a value of this parameter (its allowed range), or None."""
        ok = value >= self.low if self.low_inclusive else value > self.low
        if math.isnan(value) or not ok or (math.isinf(value) and not self.allow_inf):
            bound = f"{'>=' if self.low_inclusive else '>'} {self.low:g}"
            return f"is {value!r}; expected a finite number {bound}" + (" (inf allowed)" if self.allow_inf else "")
        return None


@dataclass(frozen=True)
class Output:
    """A result a model gives per country, ``[draw?, country]``.

    Attributes
    ----------
    name : str
        Ending in its unit (``welfare_usd``, ``price_index_change_pct``).
    unit : str
    meaning : str
    label : str
        A short label for legends and table headers (default: the name without its unit).
    timing : {"price", "quantity", "revenue_change", "revenue_level", "rest"}
        How it moves on a time path under partial adjustment (`tradesim.scenario.dynamics`):
        ``"price"`` takes the current tariffs' equilibrium value at once; ``"quantity"`` moves
        towards it with the quantities' half-life; ``"revenue_change"`` and ``"revenue_level"``
        are the importer's tariff revenue on the path's flows (its change from the baseline, or
        its level); ``"rest"`` (one welfare part at most) is ``welfare_usd`` less the other parts.
    """

    name: str
    unit: str
    meaning: str
    label: str = ""
    timing: str = "quantity"

    def __post_init__(self) -> None:
        if self.timing not in TIMINGS:
            raise ValueError(f"output {self.name!r} has timing {self.timing!r}; expected one of {TIMINGS}")
        if not self.label:
            object.__setattr__(self, "label", re.sub(r"_(usd|pct|ratio)$", "", self.name).replace("_", " "))


@dataclass(frozen=True)
class ModelSpec:
    """A registered model.

    Attributes
    ----------
    name : str
    solve : callable
        ``solve(flows, tariff_before, tariff_after, **parameters, **options)`` returning a
        solution whose pair arrays have axes ``[draw?, product, exporter, importer]``
        (``flows_after``, ``quantity``, ``buyer_price``, ``revenue``, ``revenue_before``),
        with ``draws`` (bool) and ``country_table()``: the `outputs` per country.
        `tradesim.simulate` passes ``domestic``, ``countries`` and ``home`` from the baseline
        when the function takes them.
    parameters : tuple of Parameter
    outputs : tuple of Output
        Per-country results, in the order of ``country_table()``.
    welfare : tuple of str
        The outputs that add up to ``welfare_usd``, for tables and plots.
    description : str
    trade_elasticity : str
        The parameter that governs how much trade responds to tariffs.
    parameter_ndim : int
        Axes of an elasticity array without draws, the product first: 2 for PE
        (``[product, country]``), 1 for GE (``[sector]``).
    square : bool
        Whether the model needs the same countries on both axes (GE: every country both
        buys and sells).
    price_index : str
        What its ``price_index_change_pct`` measures, for labels.
    independent_markets : callable or None
        ``independent_markets(parameters) -> bool``: whether, with these parameters, each market
        (a product and an importer) clears by itself, so that a path may solve each distinct
        market problem once (`tradesim.simulate`). None: never (markets are linked).
    """

    name: str
    solve: Callable
    parameters: tuple[Parameter, ...]
    outputs: tuple[Output, ...]
    welfare: tuple[str, ...]
    description: str
    trade_elasticity: str
    parameter_ndim: int = 1
    square: bool = False
    price_index: str = "price index"
    independent_markets: Callable[[dict], bool] | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def short_run(self) -> tuple[str, ...]:
        """The parameters that time paths scale from the short to the long run."""
        return tuple(p.name for p in self.parameters if p.short_run)

    @property
    def units(self) -> dict[str, str]:
        """Output name -> unit."""
        return {o.name: o.unit for o in self.outputs}


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> ModelSpec:
    """Add a model to the registry (replacing one of the same name) and return it.

    Raises
    ------
    ValueError
        When the trade elasticity or a welfare part is not among its declarations, or a
        parameter is declared differently by another registered model.
    """
    names = spec.parameter_names
    if spec.trade_elasticity not in names:
        raise ValueError(f"trade elasticity {spec.trade_elasticity!r} is not among the parameters {names}")
    missing = [w for w in spec.welfare if w not in spec.units]
    if missing:
        raise ValueError(f"welfare parts {missing} are not among the outputs {list(spec.units)}")
    rest = [o.name for o in spec.outputs if o.timing == "rest"]
    if rest and (len(rest) > 1 or rest[0] not in spec.welfare or "welfare_usd" not in spec.units):
        raise ValueError(f"outputs {rest} have timing 'rest': expected at most one, a welfare part, with welfare_usd "
                         "among the outputs")
    for other in MODELS.values():
        if other.name == spec.name:
            continue
        for p in spec.parameters:
            q = next((q for q in other.parameters if q.name == p.name), None)
            if q is not None and (q.low, q.low_inclusive, q.allow_inf) != (p.low, p.low_inclusive, p.allow_inf):
                raise ValueError(f"parameter {p.name!r} has other bounds in model {other.name!r}")
    MODELS[spec.name] = spec
    return spec


def get_model(name: str) -> ModelSpec:
    """The registered model called `name`; `InputError` naming the known ones otherwise."""
    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; registered: {sorted(MODELS)}", key="model")
    return MODELS[name]


def parameters() -> dict[str, Parameter]:
    """Every parameter any registered model takes, by name (in registration order)."""
    out: dict[str, Parameter] = {}
    for spec in MODELS.values():
        for p in spec.parameters:
            out.setdefault(p.name, p)
    return out
