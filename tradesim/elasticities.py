"""Elasticities for the models, with literature defaults and the paper each one comes from.

``sigma`` (substitution between sources), ``eta`` (composite demand) and ``epsilon`` (export
supply) are positive numbers. ``sigma`` is the one trade elasticity of both models: the
partial-equilibrium model uses it as the elasticity of tariff-exclusive flows, general equilibrium
as ``theta = sigma - 1``, the elasticity of tariff-inclusive spending. ``theta`` may be given
instead of ``sigma`` everywhere (``Elasticities(theta=4)`` is ``sigma = 5``) and read back as
``e.theta``. Each can be one number, a mapping from HS codes to numbers
(the longest matching prefix wins; the key ``"*"`` covers every other product), or an array
in the shapes `tradesim.models.pe.solve` takes, including a leading draw axis.

For uncertainty, each parameter has a `Prior`: a distribution per product group, from the
literature (`priors` and the bundled table ``tradesim/data/priors.csv``) or the user's own
(any ``scipy.stats`` frozen distribution, or an array of draws). `Priors.sample` draws them
within their bounds for `tradesim.ensemble`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

import numpy as np
import pandas as pd

from .codes import prefix_mask
from .errors import InputError
from .models.registry import parameters as registered_parameters

__all__ = ["Elasticities", "Prior", "Priors", "list_priors", "parameter_bounds", "parameter_names", "priors"]

_HORIZONS = ("long", "short")
#: Other names of a parameter: name -> (parameter, shift), the parameter being the name's value + shift.
ALIASES = {"theta": ("sigma", 1.0)}


def _shifted(value, shift: float):
    """A number, mapping or array with `shift` added to every value."""
    if isinstance(value, Mapping):
        return {k: float(v) + shift for k, v in value.items()}
    if np.ndim(value) == 0:
        return float(value) + shift
    return np.asarray(value, dtype=float) + shift


def _resolve_aliases(values: dict) -> dict:
    """`values` with aliases (``theta``) turned into their parameter (``sigma = theta + 1``)."""
    out = dict(values)
    for alias, (name, shift) in ALIASES.items():
        if alias in out:
            if name in out:
                raise InputError(f"both {name} and {alias} are given; {alias} is {name} - {shift:g}: give one",
                                 key=alias)
            try:
                given = out.pop(alias)
                out[name] = _shifted(given, shift)
            except (TypeError, ValueError):
                raise InputError(f"is {values[alias]!r}; expected a number, a mapping or an array", key=alias) from None
            flat = np.asarray(list(given.values()) if isinstance(given, Mapping) else given, dtype=float).ravel()
            bad = flat[~(flat > 0)]
            if bad.size:
                raise InputError(f"is {float(bad[0])!r}; expected a number > 0 ({alias} = {name} - {shift:g}, the trade "
                                 "elasticity of general equilibrium)", key=alias)
    return out


def _registered() -> dict:
    """The parameters the registered models declare (`tradesim.models.registry.parameters`)."""
    return registered_parameters()


def parameter_names() -> tuple[str, ...]:
    """Names of the parameters of the registered models, in registration order (sigma, eta, epsilon, theta)."""
    return tuple(_registered())


def parameter_bounds(name: str) -> tuple[float, float, bool]:
    """``(low, high, low_inclusive)`` of a parameter's values and draws, from its declaration."""
    p = _registered()[name]
    return p.low, math.inf, p.low_inclusive


def _table() -> pd.DataFrame:
    with resources.files("tradesim.data").joinpath("elasticities.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"parameter": str, "horizon": str})


class Elasticities:
    """Model elasticities and where they come from.

    Holds a value for every parameter that a registered model declares
    (`tradesim.models.registry`); read them as attributes (``e.sigma``).

    Parameters
    ----------
    sources : mapping of str to str
        For each parameter, the reference (or ``"user"``).
    **values : float, mapping of str to float, or array_like
        See the module docstring. ``epsilon`` may be ``inf``.

    Examples
    --------
    >>> e = Elasticities.defaults()
    >>> e.sigma, e.eta, e.epsilon, e.theta  # theta = sigma - 1, general equilibrium's trade elasticity
    (2.75, 1.0, inf, 1.75)
    >>> Elasticities(theta=4.0).sigma
    5.0
    >>> e.with_values(sigma={"*": 2.0, "87": 4.0}).values_for("sigma", ["85", "8703"])
    array([2., 4.])
    """

    __slots__ = ("_values", "sources")

    def __init__(self, sources: Mapping[str, str] | None = None, **values) -> None:
        values = _resolve_aliases(values)
        sources = {ALIASES[k][0] if k in ALIASES else k: v for k, v in (sources or {}).items()}
        known = _registered()
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; expected some of {tuple(known)}", key="elasticities")
        if set(values) != set(known):
            base = Elasticities.defaults()
            values = {**{n: base.values_of(n) for n in known if n not in values}, **values}
            sources = {**{n: base.sources.get(n, "") for n in known}, **(sources or {})}
        checked = {}
        for name in known:
            value = values[name]
            if isinstance(value, Mapping):
                if not value:
                    raise InputError("is an empty mapping; expected HS codes to numbers", key=name)
                for code, v in value.items():
                    if not isinstance(code, str) or not (code == "*" or code.isdigit()):
                        raise InputError(f"has key {code!r}; expected HS digit strings or '*'", key=name)
                    _check_value(name, v, where=f"[{code!r}]")
                checked[name] = MappingProxyType(dict(value))
            elif np.ndim(value) == 0:
                checked[name] = _check_value(name, value)
            else:
                arr = np.asarray(value, dtype=float)
                if np.isnan(arr).any():
                    raise InputError(f"contains NaN; expected numbers (shape {arr.shape})", key=name)
                bad = arr[~np.vectorize(lambda v: known[name].problem(float(v)) is None)(arr)] if arr.size else arr
                if bad.size:
                    raise InputError(f"has {float(bad.flat[0])!r}: {known[name].problem(float(bad.flat[0]))}", key=name)
                checked[name] = value
        object.__setattr__(self, "_values", MappingProxyType(checked))
        object.__setattr__(self, "sources", MappingProxyType(dict(sources or {})))

    def __getattr__(self, name: str):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name in ALIASES and ALIASES[name][0] in values:
            target, shift = ALIASES[name]
            return _shifted(values[target], -shift)
        raise AttributeError(f"Elasticities has no parameter {name!r}; it has {list(values)}")

    def __setattr__(self, name, value):
        raise AttributeError("Elasticities are immutable: use with_values")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" if np.ndim(v) == 0 and not isinstance(v, Mapping) else f"{k}=..."
                          for k, v in self._values.items())
        return f"Elasticities({shown})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Elasticities) and self._values.keys() == other._values.keys() and all(
            _same(self._values[k], other._values[k]) for k in self._values) and self.sources == other.sources

    __hash__ = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._values)

    def values_of(self, name: str):
        """The value of parameter `name` as given (a number, mapping or array); ``theta`` is ``sigma - 1``."""
        if name in ALIASES and name not in self._values:
            return getattr(self, name)
        if name not in self._values:
            raise InputError(f"unknown parameter {name!r}; expected one of {tuple(self._values)}", key="elasticities")
        return self._values[name]

    @classmethod
    def defaults(cls, horizon: str = "long") -> Elasticities:
        """The bundled defaults (``tradesim/data/elasticities.csv``) of every registered parameter.

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
        names = tuple(_registered())
        missing = [p for p in names if p not in rows.index]
        if missing:
            raise InputError(f"no default for {missing} in elasticities.csv: a registered model's parameter needs a "
                             "row there", key="elasticities")
        out = object.__new__(cls)
        values = {p: _check_value(p, float(rows.loc[p, "value"])) for p in names}
        object.__setattr__(out, "_values", MappingProxyType(values))
        object.__setattr__(out, "sources", MappingProxyType(
            {p: f"{rows.loc[p, 'source']} ({rows.loc[p, 'verification']})" for p in names}))
        return out

    @staticmethod
    def table() -> pd.DataFrame:
        """Every bundled default with its horizon, source, verification grade and notes."""
        return _table()

    def with_values(self, **values) -> Elasticities:
        """A copy with some parameters replaced (``theta`` replaces ``sigma``); their source becomes ``"user"``."""
        values = _resolve_aliases(values)
        unknown = sorted(set(values) - set(self._values))
        if unknown:
            raise InputError(f"unknown parameters {unknown}; expected some of {tuple(self._values)}",
                             key="elasticities")
        sources = dict(self.sources)
        sources.update({k: "user" for k in values})
        return Elasticities(sources=sources, **{**dict(self._values), **values})

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
        if name in ALIASES and name not in self._values:
            target, shift = ALIASES[name]
            return _shifted(self.values_for(target, products), -shift)
        value = self.values_of(name)
        if not isinstance(value, Mapping):
            return value
        labels = np.asarray([str(p) for p in products])
        out = np.full(len(labels), value.get("*", np.nan), dtype=float)
        for code in sorted((c for c in value if c != "*"), key=len):  # longer prefixes override shorter ones
            out[prefix_mask(labels, [code])] = value[code]
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
        for name, value in self._values.items():
            if isinstance(value, Mapping):
                shown = f"by product ({len(value)} entries)"
            elif np.ndim(value) == 0:
                shown = value
            else:
                shown = f"array {np.shape(value)}"
            rows.append({"parameter": name, "value": shown, "source": self.sources.get(name, "user")})
        return pd.DataFrame(rows).set_index("parameter")


def _same(a, b) -> bool:
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        return dict(a) == dict(b) if isinstance(a, Mapping) and isinstance(b, Mapping) else False
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))


def _check_value(name: str, value, where: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} is {value!r}; expected a number", key=name) from None
    known = _registered()
    if name in known and (problem := known[name].problem(v)):
        raise InputError(f"{where} {problem}".strip(), key=name)
    return v


# --------------------------------------------------------------------------- priors for draws

def _priors_table() -> pd.DataFrame:
    with resources.files("tradesim.data").joinpath("priors.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"products": str, "b": float})


def list_priors() -> pd.DataFrame:
    """The bundled priors (``tradesim/data/priors.csv``): one row per parameter and product group.

    Columns: ``prior`` (its name), ``parameter``, ``group``, ``products`` (HS prefixes, ``*``
    for every other product), ``distribution`` (``lognormal``: ``a`` the median and ``b`` the
    standard deviation of the log; ``loguniform``: between ``a`` and ``b``; ``point``: ``a``),
    ``source``, ``verification`` and ``notes``.
    """
    return _priors_table()


def _frozen(distribution: str, a: float, b: float):
    from scipy import stats

    if distribution == "lognormal":
        return stats.lognorm(s=b, scale=a)
    if distribution == "loguniform":
        return stats.loguniform(a, b)
    if distribution == "point":
        return float(a)
    raise InputError(f"unknown distribution {distribution!r}; expected lognormal, loguniform or point",
                     key="priors.csv")


@dataclass(frozen=True)
class Prior:
    """The distribution of one elasticity, by product group.

    Parameters
    ----------
    parameter : {"sigma", "eta", "epsilon", "theta"}
    groups : tuple of (codes, label, distribution)
        `codes` is a tuple of HS prefixes (``("*",)`` for every product no other group
        covers; the longest matching prefix wins). `distribution` is a ``scipy.stats`` frozen
        distribution, a number (a point mass: not drawn), or an array of draws ``[draw]``.
        Groups are drawn independently of each other.
    bounds : (float, float)
        Draws lie in ``[low, high]`` (``low`` excluded for parameters that must be positive):
        distributions are truncated there, by inverse-CDF sampling; arrays outside raise.
        Defaults from the parameter's declaration (`parameter_bounds`).
    source : str
        The reference (or ``"user"``).
    name : str
        The bundled prior's name, or ``"user"``.
    shift : float
        Added to every draw: the distributions are of ``parameter - shift`` (a prior on
        ``theta = sigma - 1`` is a prior on ``sigma`` with shift 1). Bounds apply after the shift.
    """

    parameter: str
    groups: tuple
    bounds: tuple = None
    source: str = "user"
    name: str = "user"
    shift: float = 0.0

    def __post_init__(self) -> None:
        if self.parameter not in parameter_names():
            raise InputError(f"unknown parameter {self.parameter!r}; expected one of {parameter_names()}",
                             key="prior")
        low, high, _ = parameter_bounds(self.parameter)
        bounds = (low, high) if self.bounds is None else tuple(float(b) for b in self.bounds)
        if len(bounds) != 2 or not bounds[0] < bounds[1] or bounds[0] < low:
            raise InputError(f"bounds {self.bounds!r}: expected (low, high) with {low} <= low < high",
                             key=self.parameter)
        object.__setattr__(self, "bounds", bounds)
        groups = []
        for codes, label, dist in self.groups:
            codes = tuple(str(c) for c in codes)
            for code in codes:
                if not (code == "*" or code.isdigit()):
                    raise InputError(f"group {label!r} has code {code!r}; expected HS digit strings or '*'",
                                     key=self.parameter)
            if np.ndim(dist) == 0 and not hasattr(dist, "ppf"):
                point = _check_value(self.parameter, float(dist) + self.shift, where=f"[{label!r}]")
                if not (bounds[0] <= point <= bounds[1]):
                    raise InputError(f"[{label!r}] is {point}; outside the bounds {bounds}", key=self.parameter)
                dist = point
            elif not hasattr(dist, "ppf"):
                dist = self._checked_draws(np.asarray(dist, dtype=float) + self.shift, label)
            groups.append((codes, str(label), dist))
        if not groups:
            raise InputError("has no groups; expected at least one (codes, label, distribution)", key=self.parameter)
        object.__setattr__(self, "groups", tuple(groups))

    def _checked_draws(self, a: np.ndarray, label: str) -> np.ndarray:
        if a.ndim != 1:
            raise InputError(f"[{label!r}] has draws of shape {a.shape}; expected [draw]", key=self.parameter)
        low, high = self.bounds
        strict = not parameter_bounds(self.parameter)[2]
        bad = np.isnan(a) | (a < low) | (a > high) | ((a == low) if strict else False) | np.isinf(a)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InputError(f"[{label!r}] draw {first} is {float(a[first])!r} ({int(bad.sum())} of {a.size} draws "
                             f"outside); expected finite numbers in {'(' if strict else '['}{low:g}, {high:g}"
                             f"{')' if math.isinf(high) else ']'}", key=self.parameter)
        return a

    @property
    def drawn(self) -> bool:
        """Whether any group varies across draws (False for point masses only)."""
        return any(not isinstance(d, float) for _, _, d in self.groups)

    def group_of(self, products) -> np.ndarray:
        """Index into `groups` for each of `products` ``[product]`` (the longest matching prefix wins).

        Raises
        ------
        InputError
            When a product matches no group and there is no ``"*"`` group.
        """
        labels = np.asarray([str(p) for p in products])
        out = np.full(len(labels), -1)
        length = np.full(len(labels), -1)
        for g, (codes, _, _) in enumerate(self.groups):
            for code in codes:
                hit = np.full(len(labels), True) if code == "*" else prefix_mask(labels, [code])
                n = 0 if code == "*" else len(code)
                take = hit & (n > length)
                out[take], length[take] = g, n
        if (out < 0).any():
            missing = [str(m) for m in labels[out < 0][:10]]
            raise InputError(f"has no group for products {missing}; add them or a group under '*'",
                             key=self.parameter)
        return out

    def sample(self, products, draws: int, rng: np.random.Generator) -> np.ndarray:
        """Draws for `products`, ``[draw, product]``; one independent draw per group.

        A distribution is truncated to `bounds` by drawing ``u`` uniformly between the CDF at
        the bounds and returning ``ppf(u)``.
        """
        groups = self.group_of(products)
        u = rng.random((draws, len(self.groups)))  # every group takes its column, used or not
        values = np.empty((draws, len(self.groups)))
        low, high = self.bounds
        for g, (_, label, dist) in enumerate(self.groups):  # a few groups, each vectorised over draws
            if isinstance(dist, float):
                values[:, g] = dist
            elif isinstance(dist, np.ndarray):
                if dist.size != draws:
                    raise InputError(f"[{label!r}] has {dist.size} draws; the run asks for {draws}",
                                     key=self.parameter)
                values[:, g] = dist
            else:
                c_low, c_high = float(dist.cdf(low - self.shift)), float(dist.cdf(high - self.shift))
                if not c_high > c_low:
                    raise InputError(f"[{label!r}] has no probability inside the bounds ({low:g}, {high:g})",
                                     key=self.parameter)
                values[:, g] = self._checked_draws(np.asarray(dist.ppf(c_low + u[:, g] * (c_high - c_low)),
                                                              dtype=float) + self.shift, label)
        return values[:, groups]

    def describe(self) -> pd.DataFrame:
        """One row per group: codes, distribution, its median and 5th/95th percentiles within the bounds."""
        rows = []
        low, high = self.bounds
        for codes, label, dist in self.groups:
            if isinstance(dist, float):
                q = (dist, dist, dist)
                shown = "point"
            elif isinstance(dist, np.ndarray):
                q = tuple(np.quantile(dist, [0.05, 0.5, 0.95]))
                shown = f"{dist.size} draws"
            else:
                c0, c1 = dist.cdf(low - self.shift), dist.cdf(high - self.shift)
                q = tuple(float(dist.ppf(c0 + p * (c1 - c0))) + self.shift for p in (0.05, 0.5, 0.95))
                args = [f"{v:.3g}" for v in dist.args] + [f"{k}={v:.3g}" for k, v in dist.kwds.items()]
                shown = f"{dist.dist.name}({', '.join(args)})" + (f" + {self.shift:g}" if self.shift else "")
            rows.append({"parameter": self.parameter, "group": label, "products": " ".join(codes),
                         "distribution": shown, "p5": q[0], "median": q[1], "p95": q[2], "prior": self.name,
                         "source": self.source})
        return pd.DataFrame(rows)


def _bundled_prior(name: str, parameter: str) -> Prior:
    """A bundled prior by name; its rows may be given for the parameter or for an alias (``theta``)."""
    table = _priors_table()
    spellings = [parameter] + [a for a, (target, _) in ALIASES.items() if target == parameter]
    for spelling in spellings:
        rows = table[(table["prior"] == name) & (table["parameter"] == spelling)]
        if not rows.empty:
            break
    else:
        known = sorted(table.loc[table["parameter"].isin(spellings), "prior"].unique())
        raise InputError(f"no bundled prior {name!r} for {parameter}; known: {known}", key=parameter)
    shift = ALIASES[spelling][1] if spelling in ALIASES else 0.0
    groups = tuple((tuple(r.products.split()), r.group, _frozen(r.distribution, r.a, r.b)) for r in rows.itertuples())
    sources = "; ".join(dict.fromkeys(f"{r.source} ({r.verification})" for r in rows.itertuples()))
    return Prior(parameter, groups, source=sources, name=name, shift=shift)


def _as_prior(parameter: str, value, shift: float = 0.0) -> Prior:
    """A `Prior` for `parameter` from any accepted value; `shift` when it was given for an alias."""
    if isinstance(value, Prior):
        if value.parameter != parameter:
            raise InputError(f"is a prior for {value.parameter}", key=parameter)
        return value
    if isinstance(value, str):
        return _bundled_prior(value, parameter)
    if isinstance(value, Mapping):
        if not value:
            raise InputError("is an empty mapping; expected HS codes to distributions", key=parameter)
        return Prior(parameter, tuple(((code,), code, dist) for code, dist in value.items()), shift=shift)
    return Prior(parameter, ((("*",), "all products", value),), shift=shift)


class Priors(Mapping):
    """A `Prior` for every parameter of the registered models (a mapping by name); see `priors`."""

    def __init__(self, **priors: Prior) -> None:
        names = parameter_names()
        missing, unknown = sorted(set(names) - set(priors)), sorted(set(priors) - set(names))
        if missing or unknown:
            raise InputError(f"expected a prior for each of {names}: missing {missing}, unknown {unknown}",
                             key="priors")
        self._priors = {n: priors[n] for n in names}

    def __getitem__(self, name: str) -> Prior:
        if name not in self._priors:
            raise InputError(f"unknown parameter {name!r}; expected one of {tuple(self._priors)}", key="priors")
        return self._priors[name]

    def __getattr__(self, name: str) -> Prior:
        priors = self.__dict__.get("_priors", {})
        if name in priors:
            return priors[name]
        raise AttributeError(name)

    def __iter__(self):
        return iter(self._priors)

    def __len__(self) -> int:
        return len(self._priors)

    def __repr__(self) -> str:
        return "Priors(" + ", ".join(f"{n}={p.name!r}" for n, p in self._priors.items()) + ")"

    def sample(self, products, draws: int, seed=0, parameters=None) -> dict[str, np.ndarray]:
        """Draw `parameters` (all by default) for `products`: ``{name: [draw, product]}``.

        `seed` is an int, a `numpy.random.SeedSequence` or None (fresh entropy).

        Each parameter has its own random stream (spawned from `seed` in the order of
        `parameter_names`), so a parameter's draws do not depend on which others are drawn.
        """
        if int(draws) != draws or draws < 1:
            raise InputError(f"is {draws!r}; expected a whole number of draws >= 1", key="draws")
        names = list(self._priors)
        root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        streams = root.spawn(len(names))
        return {name: self[name].sample(products, int(draws), np.random.default_rng(streams[names.index(name)]))
                for name in (names if parameters is None else parameters)}

    def describe(self) -> pd.DataFrame:
        """Every parameter's groups, distributions, percentiles and sources."""
        return pd.concat([p.describe() for p in self._priors.values()], ignore_index=True)


def priors(**values) -> Priors:
    """Priors for the elasticities: the bundled defaults, with any of them replaced.

    Parameters
    ----------
    **values
        For ``sigma``, ``eta`` or ``epsilon``, or ``theta`` instead of ``sigma`` (a prior on
        ``theta`` is one on ``sigma = theta + 1``): the name of a bundled prior (`list_priors`;
        ``theta="caliendo-parro-2015"`` gives sector estimates by HS group,
        ``epsilon="ny-fed-buyer-share"`` a finite supply elasticity), a `Prior`, a
        ``scipy.stats`` frozen distribution, a number (not drawn), an array of draws
        ``[draw]``, or a mapping from HS codes (and ``"*"``) to any of the last three.

    Returns
    -------
    Priors
        Defaults (``"default"`` in `list_priors`): sigma lognormal with median 2.75 (the
        calibration of `tradesim.Elasticities`), eta lognormal with median 1 (Cobb-Douglas
        across products), epsilon infinite (complete pass-through, not drawn).

    Examples
    --------
    >>> from scipy import stats
    >>> s = priors(eta=stats.norm(1.5, 0.2)).sample(["87", "85"], draws=1000, seed=1)
    >>> s["sigma"].shape, bool((s["eta"] > 0).all())
    ((1000, 2), True)
    >>> d = priors(theta="caliendo-parro-2015")["sigma"].describe().set_index("group")
    >>> d.loc[["Auto", "Electrical machinery"], "median"].round(2).tolist()  # theta 1.01 and 10.6, plus one
    [2.01, 11.6]
    """
    known = _registered()
    unknown = sorted(set(values) - set(known) - set(ALIASES))
    if unknown:
        raise InputError(f"unknown parameters {unknown}; expected some of {tuple(known) + tuple(ALIASES)}",
                         key="priors")
    shifts = {}
    for alias, (name, shift) in ALIASES.items():  # a prior on theta is one on sigma = theta + 1
        if alias in values:
            if name in values:
                raise InputError(f"both {name} and {alias} are given; {alias} is {name} - {shift:g}: give one",
                                 key=alias)
            values = {**values, name: values[alias]}
            shifts[name] = shift
    return Priors(**{name: _as_prior(name, values.get(name, p.prior), shifts.get(name, 0.0))
                     for name, p in known.items()})
