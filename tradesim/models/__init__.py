"""Models: pure functions on arrays, found by name in a registry.

A model is registered with the elasticities it takes and whether it needs domestic sales
on the diagonal, so `tradesim.simulate` can run any registered model without knowing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MODELS", "ModelSpec", "get_model", "register"]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model.

    Attributes
    ----------
    name : str
    solve : callable
        ``solve(flows, tariff_before, tariff_after, **parameters, **options)`` returning a
        solution object whose pair arrays have axes ``[draw?, product, exporter, importer]``
        (``flows_after``, ``quantity``, ``buyer_price``, ``revenue``, ``revenue_before``),
        with ``draws`` (bool) and ``country_table()``: headline results per country.
        `tradesim.simulate` passes ``domestic`` and ``countries`` from the baseline when
        the function takes them.
    parameters : tuple of str
        Elasticities it takes, by their glossary names.
    description : str
    trade_elasticity : str, optional
        The parameter that governs how much trade responds to tariffs (``"sigma"`` in PE,
        ``"theta"`` in GE).
    short_run : tuple of str
        The parameters `tradesim.dynamics` scales from short to long run: the trade
        elasticity and any that must move with it (PE scales ``eta`` too, keeping
        ``sigma / eta`` and so whether other sources gain from a tariff on one).
    parameter_ndim : int
        Axes of an elasticity array without draws, the product first: 2 for PE
        (``[product, country]``), 1 for GE (``[sector]``). `tradesim.ensemble` gives its
        ``[draw, product]`` draws length-1 axes up to this.
    """

    name: str
    solve: Callable
    parameters: tuple[str, ...]
    description: str
    trade_elasticity: str | None = None
    short_run: tuple[str, ...] = ()
    parameter_ndim: int = 1


MODELS: dict[str, ModelSpec] = {}


def register(name: str, solve: Callable, parameters: tuple[str, ...], description: str, *,
             trade_elasticity: str | None = None, short_run: tuple[str, ...] | None = None,
             parameter_ndim: int = 1) -> ModelSpec:
    """Add a model to the registry (replacing one of the same name) and return its spec.

    `short_run` defaults to the trade elasticity alone. See `ModelSpec` for the rest.
    """
    if short_run is None:
        short_run = () if trade_elasticity is None else (trade_elasticity,)
    unknown = [p for p in (trade_elasticity, *short_run) if p is not None and p not in parameters]
    if unknown:
        raise ValueError(f"{unknown} are not among the parameters {parameters}")
    spec = ModelSpec(name, solve, tuple(parameters), description, trade_elasticity, tuple(short_run),
                     int(parameter_ndim))
    MODELS[name] = spec
    return spec


def get_model(name: str) -> ModelSpec:
    """The registered model called `name`; `InputError` naming the known ones otherwise."""
    from ..errors import InputError

    if name not in MODELS:
        raise InputError(f"unknown model {name!r}; registered: {sorted(MODELS)}", key="model")
    return MODELS[name]


def _register_bundled() -> None:
    from . import ge, pe

    register("pe", pe.solve, ("sigma", "eta", "epsilon"),
             "multi-market Armington partial equilibrium, every product at once", trade_elasticity="sigma",
             short_run=("sigma", "eta"), parameter_ndim=2)
    register("ge", ge.solve_products, ("theta",),
             "general equilibrium by exact hat algebra, products as sectors without input-output links",
             trade_elasticity="theta")


_register_bundled()
