"""One vocabulary of result variables, with their units, for every result type.

Pair variables exist per product (level ``"cell"``: ``[product, exporter, importer]``) and summed
over products (level ``"pair"``: ``[exporter, importer]``); country variables (level
``"country"``) are the imports and exports below and the outputs each model declares in its
registry entry (`tradesim.models.registry.Output`). Names end in their unit: ``_usd`` (USD; per
year on a time path), ``_pct`` (percent), ``_ratio`` (ratio to the baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Variable", "VARIABLES", "LEVELS", "LEVEL_DIMS"]

#: Levels of detail and the axes of each, after the leading ``draw`` and ``date`` axes.
LEVEL_DIMS = {"cell": ("product", "exporter", "importer"), "pair": ("exporter", "importer"), "country": ("country",)}
LEVELS = tuple(LEVEL_DIMS)


@dataclass(frozen=True)
class Variable:
    """A result variable: its name, unit, meaning and the levels it exists at."""

    name: str
    unit: str
    meaning: str
    levels: tuple[str, ...]


_CP = ("cell", "pair")
_ALL = ("cell", "pair", "country")
VARIABLES: dict[str, Variable] = {v.name: v for v in (
    Variable("imports_usd", "USD",
             "imports after the change, tariff-exclusive, at the new exporter prices (a country's: from all others)",
             _ALL),
    Variable("imports_baseline_usd", "USD", "baseline imports, tariff-exclusive", _ALL),
    Variable("exports_usd", "USD", "a country's exports after the change, to all others", ("country",)),
    Variable("exports_baseline_usd", "USD", "a country's baseline exports", ("country",)),
    Variable("value_change_pct", "percent", "change of imports_usd from the baseline", ("pair",)),
    Variable("volume_change_pct", "percent", "change of imports at baseline prices (volume) from the baseline",
             ("pair",)),
    Variable("quantity_ratio", "ratio", "quantity relative to the baseline", ("cell",)),
    Variable("buyer_price_ratio", "ratio", "tariff-inclusive buyer price relative to the baseline", ("cell",)),
    Variable("tariff_pct", "percent",
             "tariff after the change; over products, trade-weighted with baseline flows (before substitution)", _CP),
    Variable("tariff_baseline_pct", "percent", "tariff the baseline flows reflect, weighted likewise", _CP),
    Variable("halted_pct", "percent",
             "share of baseline trade (and of a period's days) whose imports are halted (an import ban or halted "
             "purchases); tariff_pct is the mean over the rest. Present where some trade is halted", _CP),
    Variable("effective_tariff_pct", "percent", "tariff revenue over imports after the change (after substitution)",
             ("pair",)),
    Variable("revenue_usd", "USD", "tariff revenue after the change", _CP),
    Variable("revenue_baseline_usd", "USD", "baseline tariff revenue", _CP),
)}
