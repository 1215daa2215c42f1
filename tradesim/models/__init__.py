"""Models: pure functions on arrays, found by name in a registry (`tradesim.models.registry`).

Bundled: ``"pe"`` (`tradesim.models.pe`: multi-market Armington partial equilibrium, with GSIM
and WITS-SMART as special cases) and ``"ge"`` (`tradesim.models.ge`: exact hat algebra in one or
many sectors); `tradesim.models.gravity` estimates structural gravity. Each declares its
parameters, outputs and welfare parts once, below; a model of your own is one module that calls
`register` with a `ModelSpec`.
"""

from __future__ import annotations

from . import ge, pe
from .registry import MODELS, ModelSpec, Output, Parameter, get_model, parameters, register

__all__ = ["MODELS", "ModelSpec", "Output", "Parameter", "get_model", "parameters", "register"]

_SIGMA = Parameter("sigma", "elasticity of substitution between sources of a product (Armington)",
                   short_run=True)
# eta moves with sigma in the short run, keeping sigma / eta and so whether other sources gain
# from a tariff on one (see tradesim.scenario.dynamics)
_ETA = Parameter("eta", "elasticity of a product's composite demand", low_inclusive=True, short_run=True)
_EPSILON = Parameter("epsilon", "elasticity of export supply (inf: exporters' prices do not move)", allow_inf=True)
_THETA = Parameter("theta", "trade elasticity of general equilibrium", short_run=True)

register(ModelSpec(
    "pe", pe.solve, (_SIGMA, _ETA, _EPSILON),
    outputs=(
        Output("price_index_change_pct", "percent",
               "change of the importer's CES price index of the modelled goods, weighted by baseline spending"),
        Output("consumer_surplus_usd", "USD", "change of consumer surplus, as importer"),
        Output("producer_surplus_usd", "USD", "change of producer surplus, as exporter"),
        Output("revenue_change_usd", "USD", "change of tariff revenue, as importer", "tariff revenue"),
        Output("welfare_usd", "USD", "consumer surplus + producer surplus + revenue change"),
    ),
    welfare=("consumer_surplus_usd", "producer_surplus_usd", "revenue_change_usd"),
    description="multi-market Armington partial equilibrium, every product at once",
    trade_elasticity="sigma", parameter_ndim=2, square=False, price_index="import price index",
))
register(ModelSpec(
    "ge", ge.solve_products, (_THETA,),
    outputs=(
        Output("real_income_change_pct", "percent", "change of real income"),
        Output("welfare_usd", "USD", "real income change valued at baseline income (equivalent variation)"),
        Output("welfare_factor_income_usd", "USD", "change of real value added (terms of trade, real wage)",
               "real factor income"),
        Output("welfare_revenue_usd", "USD", "change of real tariff revenue", "real tariff revenue"),
        Output("wage_change_pct", "percent", "change of the wage (factory-gate price)"),
        Output("price_index_change_pct", "percent", "change of the consumer price index"),
        Output("revenue_before_usd", "USD", "tariff revenue before the change"),
        Output("revenue_after_usd", "USD", "tariff revenue after the change"),
    ),
    welfare=("welfare_factor_income_usd", "welfare_revenue_usd"),
    description="general equilibrium by exact hat algebra, products as sectors without input-output links",
    trade_elasticity="theta", parameter_ndim=1, square=True, price_index="consumer price index",
))
