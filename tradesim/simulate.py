"""`simulate`: the one place where baselines, tariff law, elasticities and models meet."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping

import numpy as np

from .baseline import Baseline
from .elasticities import Elasticities
from .errors import InputError, TradesimWarning
from .models import get_model
from .results import SimulationResult
from .tariffs import TariffSchedule

__all__ = ["simulate"]


def simulate(
    baseline: Baseline,
    before,
    after,
    model: str = "pe",
    elasticities: Elasticities | Mapping | None = None,
    *,
    fine_values=None,
    **options,
) -> SimulationResult:
    """Simulate a change of tariffs from `before` to `after` on `baseline`.

    Parameters
    ----------
    baseline : Baseline
    before, after : array_like or (TariffSchedule, date)
        Tariffs ``[product, exporter, importer]`` as fractions, or a schedule and the date
        at which to read it.
    model : str
        A registered model (see `tradesim.models.MODELS`): ``"pe"`` (the default) or ``"ge"``
        (general equilibrium, which needs domestic sales on the baseline's diagonal).
    elasticities : Elasticities or mapping, optional
        `Elasticities.defaults()` when None; a mapping replaces some defaults
        (``{"sigma": 4.0}``).
    fine_values : optional
        Finer trade values for schedules whose lists are finer than the baseline's products
        (see `TariffSchedule.rates`).
    **options
        Passed to the model, for example ``domestic=False``, ``method="linear"`` or ``tol``.
        ``domestic``, for models that take it, defaults to whether the baseline has domestic
        sales (with a warning and a note in the result when it has none).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import tradesim
    >>> b = tradesim.load_baseline("demo-2024")
    >>> s = tradesim.TariffSchedule([tradesim.Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])])
    >>> r = tradesim.simulate(b, (s, "2024-12-31"), (s, "2025-01-01"), domestic=False)
    >>> round(r.effective_rate("USA", "CHN"), 3), round(r.effective_rate("USA", "CHN", weights="post"), 3)
    (0.5, 0.5)
    >>> bool(r.summary("country").loc["USA", "consumer_surplus_usd"] < 0)
    True
    """
    if not isinstance(baseline, Baseline):
        raise InputError(f"expected a Baseline, got {type(baseline).__name__}", key="baseline")
    spec = get_model(model)
    t0 = _tariffs("before", before, baseline, fine_values)
    t1 = _tariffs("after", after, baseline, fine_values)
    elasticities = _elasticities(elasticities)
    params = {name: elasticities.values_for(name, baseline.products) for name in spec.parameters}

    notes = []
    takes = inspect.signature(spec.solve).parameters
    if "countries" in takes:  # so errors name countries and a numeraire can be given by code
        options.setdefault("countries", baseline.countries)
    if "domestic" not in options and "domestic" in takes:
        options["domestic"] = baseline.domestic
        if not baseline.domestic:
            note = ("the baseline has no domestic sales, so the domestic substitute is not modelled: "
                    "composite demand is import demand and eta is an import demand elasticity")
            notes.append(note)
            warnings.warn(note + " (pass domestic=False to silence this)", TradesimWarning, stacklevel=2)
    solution = spec.solve(baseline.flows, t0, t1, **params, **options)
    return SimulationResult(baseline, model, solution, t0, t1, elasticities, tuple(notes))


def _tariffs(name: str, value, baseline: Baseline, fine_values) -> np.ndarray:
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], TariffSchedule):
        schedule, date = value
        return schedule.rates(date, baseline.products, baseline.countries, baseline.countries,
                              fine_values=fine_values)
    if isinstance(value, TariffSchedule):
        raise InputError("is a schedule without a date; pass (schedule, date)", key=name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"is a {type(value).__name__}; expected a tariff array or (schedule, date)",
                         key=name) from None
    if arr.shape != baseline.flows.shape:
        raise InputError(f"has shape {arr.shape}; expected [product, exporter, importer] = {baseline.flows.shape}",
                         key=name)
    return arr


def _elasticities(value) -> Elasticities:
    if value is None:
        return Elasticities.defaults()
    if isinstance(value, Elasticities):
        return value
    if isinstance(value, Mapping):
        return Elasticities.defaults().with_values(**value)
    raise InputError(f"is a {type(value).__name__}; expected Elasticities or a mapping", key="elasticities")
