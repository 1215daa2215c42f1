"""Elasticities for the models, with literature defaults and the paper each one comes from.

``sigma`` (substitution between sources), ``eta`` (composite demand) and ``epsilon`` (export
supply) for the partial-equilibrium model, and ``theta`` (the trade elasticity) for general
equilibrium, are positive numbers. Each can be one number, a mapping from HS codes to numbers
(the longest matching prefix wins; the key ``"*"`` covers every other product), or an array
in the shapes `tradesim.models.pe.solve` takes, including a leading draw axis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from types import MappingProxyType

import numpy as np
import pandas as pd

from .codes import _prefix_mask
from .errors import InputError

__all__ = ["Elasticities", "PARAMETERS"]

PARAMETERS = ("sigma", "eta", "epsilon", "theta")
_HORIZONS = ("long", "short")


def _table() -> pd.DataFrame:
    with resources.files("tradesim.data").joinpath("elasticities.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"parameter": str, "horizon": str})


@dataclass(frozen=True)
class Elasticities:
    """Model elasticities and where they come from.

    Parameters
    ----------
    sigma, eta, epsilon, theta : float, mapping of str to float, or array_like
        See the module docstring. ``epsilon`` may be ``inf``.
    sources : mapping of str to str
        For each parameter, the reference (or ``"user"``).

    Examples
    --------
    >>> e = Elasticities.defaults()
    >>> e.sigma, e.eta, e.epsilon, e.theta
    (2.0, 1.3, inf, 4.0)
    >>> e.with_values(sigma={"*": 2.0, "87": 4.0}).values_for("sigma", ["85", "8703"])
    array([2., 4.])
    """

    sigma: object = 2.0
    eta: object = 1.3
    epsilon: object = math.inf
    theta: object = 4.0
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in PARAMETERS:
            value = getattr(self, name)
            if isinstance(value, Mapping):
                if not value:
                    raise InputError("is an empty mapping; expected HS codes to numbers", key=name)
                for code, v in value.items():
                    if not isinstance(code, str) or not (code == "*" or code.isdigit()):
                        raise InputError(f"has key {code!r}; expected HS digit strings or '*'", key=name)
                    _check_value(name, v, where=f"[{code!r}]")
                object.__setattr__(self, name, MappingProxyType(dict(value)))
            elif np.ndim(value) == 0:
                object.__setattr__(self, name, _check_value(name, value))
            else:
                arr = np.asarray(value, dtype=float)
                if np.isnan(arr).any():
                    raise InputError(f"contains NaN; expected numbers (shape {arr.shape})", key=name)
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    @classmethod
    def defaults(cls, horizon: str = "long") -> Elasticities:
        """The bundled defaults (``tradesim/data/elasticities.csv``).

        Parameters
        ----------
        horizon : {"long", "short"}
            ``sigma`` one year after a tariff change (0.76) or in the long run (2.0), both
            from Boehm, Levchenko and Pandalai-Nayar (2023).
        """
        if horizon not in _HORIZONS:
            raise InputError(f"unknown horizon {horizon!r}; expected one of {_HORIZONS}", key="horizon")
        table = cls.table()
        rows = table[table["horizon"].isin([horizon, "any"])].set_index("parameter")
        return cls(
            **{p: float(rows.loc[p, "value"]) for p in PARAMETERS},
            sources={p: f"{rows.loc[p, 'source']} ({rows.loc[p, 'verification']})" for p in PARAMETERS},
        )

    @staticmethod
    def table() -> pd.DataFrame:
        """Every bundled default with its horizon, source, verification grade and notes."""
        return _table()

    def with_values(self, **values) -> Elasticities:
        """A copy with some parameters replaced; their source becomes ``"user"``."""
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; expected some of {PARAMETERS}", key="elasticities")
        sources = dict(self.sources)
        sources.update({k: "user" for k in values})
        return replace(self, **values, sources=sources)

    def values_for(self, name: str, products) -> np.ndarray | object:
        """Parameter `name` resolved for `products`.

        Returns
        -------
        float, numpy.ndarray of shape ``[product]`` (from a mapping), or the array as given.

        Raises
        ------
        InputError
            When a mapping has no entry for some product and no ``"*"``.
        """
        if name not in PARAMETERS:
            raise InputError(f"unknown parameter {name!r}; expected one of {PARAMETERS}", key="elasticities")
        value = getattr(self, name)
        if not isinstance(value, Mapping):
            return value
        labels = np.asarray([str(p) for p in products])
        out = np.full(len(labels), value.get("*", np.nan), dtype=float)
        for code in sorted((c for c in value if c != "*"), key=len):  # longer prefixes override shorter ones
            out[_prefix_mask(labels, [code])] = value[code]
        missing = [str(m) for m in labels[np.isnan(out)]]
        if missing:
            raise InputError(
                f"has no value for products {missing[:10]}{' and more' if len(missing) > 10 else ''}; "
                "add them or a default under '*'",
                key=name,
            )
        return out

    def describe(self) -> pd.DataFrame:
        """One row per parameter: the value (or a summary of it) and its source."""
        rows = []
        for name in PARAMETERS:
            value = getattr(self, name)
            if isinstance(value, Mapping):
                shown = f"by product ({len(value)} entries)"
            elif np.ndim(value) == 0:
                shown = value
            else:
                shown = f"array {np.shape(value)}"
            rows.append({"parameter": name, "value": shown, "source": self.sources.get(name, "user")})
        return pd.DataFrame(rows).set_index("parameter")


def _check_value(name: str, value, where: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} is {value!r}; expected a number", key=name) from None
    ok = v >= 0 if name == "eta" else v > 0
    if math.isnan(v) or not ok or (math.isinf(v) and name != "epsilon"):
        bound = ">= 0" if name == "eta" else "> 0"
        raise InputError(f"{where} is {value!r}; expected a finite number {bound}"
                         + (" (inf allowed)" if name == "epsilon" else ""), key=name)
    return v
