"""Models: pure functions on arrays, found by name in a registry (`tradesim.models.registry`).

Bundled: ``"pe"`` (`tradesim.models.pe`: multi-market Armington partial equilibrium, with GSIM
and WITS-SMART as special cases) and ``"ge"`` (`tradesim.models.ge`: exact hat algebra in one or
many sectors); `tradesim.models.gravity` estimates structural gravity. Each declares its
parameters, outputs and welfare parts once, below; a model of your own is one module that calls
`register` with a `ModelSpec`.

``"pe"`` also runs on a dask.distributed cluster, chunks of products as tasks
(`tradesim.models.distributed`): pass ``client=distributed.Client(...)`` to `tradesim.simulate`.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from . import distributed, ge, pe  # distributed imports dask only when it runs
from ._revenue import charged
from .registry import MODELS, ModelSpec, Output, Parameter, get_model, parameters, register

__all__ = ["MODELS", "ModelSpec", "Output", "Parameter", "charged", "get_model", "parameters", "register"]

# One trade elasticity for both models: PE's sigma is the elasticity of tariff-exclusive flows to
# (1 + t); GE's theta, the elasticity of tariff-inclusive spending, is sigma - 1 (Armington), so the
# two models give the same trade response to a small shock on the same data.
_SIGMA = Parameter("sigma", "elasticity of substitution between sources of a product (Armington); "
                   "general equilibrium's trade elasticity theta is sigma - 1", short_run=True)
# eta moves with sigma in the short run, keeping sigma / eta and so whether other sources gain
# from a tariff on one (see tradesim.scenario.dynamics)
_ETA = Parameter("eta", "elasticity of a product's composite demand", low_inclusive=True, short_run=True)
_EPSILON = Parameter("epsilon", "elasticity of export supply (inf: exporters' prices do not move)", allow_inf=True)


def _ge_solve(flows, tariff_before, tariff_after, sigma, *, deficits: str = "fixed", numeraire=None,
              countries=None, tol: float = 1e-12, max_iter: int = 200) -> ge.GESolution:
    """`tradesim.models.ge.solve_products` with the trade elasticity ``theta = sigma - 1``.

    Parameters
    ----------
    sigma : float or array_like, ``()``, ``[product]`` or ``[draw, product]``
        Elasticity of substitution between sources, > 1 (theta = sigma - 1 must be positive).
    Other parameters as in `tradesim.models.ge.solve_sectors`.
    """
    s = np.asarray(sigma, dtype=float)
    if s.size and not (s > 1).all():
        bad = float(s.flat[int(np.argmax(~(s > 1)))])
        raise InputError(f"is {bad!r}; general equilibrium needs sigma > 1 (its trade elasticity theta = sigma - 1 "
                         "must be positive)", key="sigma")
    return ge.solve_products(flows, tariff_before, tariff_after, s - 1, deficits=deficits, numeraire=numeraire,
                             countries=countries, tol=tol, max_iter=max_iter)


def _pe_solve(flows, tariff_before, tariff_after, sigma, eta, epsilon, *, domestic: bool = True, home=None,
              method: str = "exact", tol: float = 1e-10, max_iter: int = 100, client=None,
              chunk_cells: int | None = None) -> pe.PESolution:
    """`tradesim.models.pe.solve` here, or on a Dask cluster with `client`.

    Parameters
    ----------
    client : distributed.Client, optional
        Solve chunks of products as tasks on this cluster (`tradesim.models.distributed`): the
        same numbers, to the last bit. None solves in this process.
    chunk_cells : int, optional
        With `client`: cells that trade per task (see `tradesim.models.distributed.solve`).
    Other parameters as in `tradesim.models.pe.solve`.
    """
    options = {"domestic": domestic, "home": home, "method": method, "tol": tol, "max_iter": max_iter}
    if client is None:
        if chunk_cells is not None:
            raise InputError(f"is {chunk_cells!r} without a client; it sizes the tasks of a Dask run (pass "
                             "client=distributed.Client(...)) and means nothing to a local one", key="chunk_cells")
        return pe.solve(flows, tariff_before, tariff_after, sigma, eta, epsilon, **options)
    return distributed.solve(flows, tariff_before, tariff_after, sigma, eta, epsilon, client=client,
                             chunk_cells=chunk_cells, **options)


register(ModelSpec(
    "pe", _pe_solve, (_SIGMA, _ETA, _EPSILON),
    outputs=(
        Output("import_price_index_change_pct", "percent",
               "change of the price buyers pay for imports, duty included: the importer's CES price index of the "
               "modelled sources, weighted by baseline spending (with domestic sales in the baseline, of imports "
               "and domestic goods together); not a consumer price index", "import price index", timing="price"),
        Output("consumer_surplus_usd", "USD", "change of consumer surplus, as importer", timing="rest"),
        Output("producer_surplus_usd", "USD", "change of producer surplus, as exporter", timing="price"),
        Output("revenue_change_usd", "USD", "change of tariff revenue, as importer", "tariff revenue",
               timing="revenue_change"),
        Output("welfare_usd", "USD", "consumer surplus + producer surplus + revenue change"),
    ),
    welfare=("consumer_surplus_usd", "producer_surplus_usd", "revenue_change_usd"),
    description="multi-market Armington partial equilibrium, every product at once",
    trade_elasticity="sigma", parameter_ndim=2, square=False, price_index="import price index",
    # with perfectly elastic export supply exporters' prices are fixed: each product's market in each
    # importer clears by itself (a finite epsilon links an exporter's markets through its price)
    independent_markets=lambda params: bool(np.isinf(np.asarray(params.get("epsilon", 0.0), dtype=float)).all()),
))
register(ModelSpec(
    "ge", _ge_solve, (_SIGMA,),
    outputs=(
        Output("real_income_change_pct", "percent", "change of real income"),
        Output("welfare_usd", "USD", "real income change valued at baseline income (equivalent variation)"),
        Output("welfare_factor_income_usd", "USD", "change of real value added (terms of trade, real wage)",
               "real factor income", timing="rest"),
        Output("welfare_revenue_usd", "USD", "change of real tariff revenue", "real tariff revenue"),
        Output("wage_change_pct", "percent", "change of the wage (factory-gate price)", timing="price"),
        Output("price_index_change_pct", "percent", "change of the consumer price index", timing="price"),
        Output("revenue_before_usd", "USD", "tariff revenue before the change", timing="price"),
        Output("revenue_after_usd", "USD", "tariff revenue after the change", timing="revenue_level"),
    ),
    welfare=("welfare_factor_income_usd", "welfare_revenue_usd"),
    description="general equilibrium by exact hat algebra, products as sectors without input-output links",
    trade_elasticity="sigma", parameter_ndim=1, square=True, price_index="consumer price index",
))
