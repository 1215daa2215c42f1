"""Gravity estimation: PPML with exporter and importer fixed effects, and what a counterfactual needs.

Santos Silva and Tenreyro (2006) estimate the gravity equation in levels by Poisson pseudo
maximum likelihood, which keeps zero flows and is consistent under heteroskedasticity; with
exporter and importer fixed effects its fitted flows add up to every country's observed
output and spending (Fally 2015), so they are a consistent baseline for general equilibrium
(Yotov et al. 2016, chapter 2). The estimator is statsmodels' GLM (install
``tradesim[gravity]``); this module prepares the design and reads the results.

References
----------
Fally, T. (2015). Structural gravity and fixed effects. Journal of International Economics
97(1), 76-85.
Santos Silva, J. M. C. and Tenreyro, S. (2006). The log of gravity. Review of Economics and
Statistics 88(4), 641-658.
Yotov, Y. V., Piermartini, R., Monteiro, J.-A. and Larch, M. (2016). An Advanced Guide to
Trade Policy Analysis: The Structural Gravity Model. WTO and UNCTAD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, InputError

__all__ = ["GravityFit", "ppml"]


@dataclass(frozen=True)
class GravityFit:
    """A PPML gravity fit.

    Attributes
    ----------
    coefficients : pandas.Series
        Coefficients of the cost variables (elasticities of trade to them; for a log
        variable such as log distance, the elasticity to the variable's level).
    std_errors : pandas.Series
        Their standard errors (of the covariance type asked for).
    fitted : pandas.Series
        Fitted flows, USD, on the rows of `data`.
    data : pandas.DataFrame
        The rows used: ``exporter``, ``importer``, the flow and the cost variables.
    countries : tuple of str
        Sorted exporters and importers: the axes of `flows` and `trade_cost_change`.
    flow : str
        Name of the flow column.
    cov_type : str
    iterations : int
        IRLS iterations of the estimator.
    """

    coefficients: pd.Series
    std_errors: pd.Series
    fitted: pd.Series
    data: pd.DataFrame
    countries: tuple[str, ...]
    flow: str
    cov_type: str
    iterations: int

    def table(self) -> pd.DataFrame:
        """Coefficients, standard errors and z statistics, one row per cost variable."""
        return pd.DataFrame({"coefficient": self.coefficients, "std_error": self.std_errors,
                             "z": self.coefficients / self.std_errors})

    def _matrix(self, values: pd.Series | np.ndarray, fill: float) -> np.ndarray:
        n = len(self.countries)
        out = np.full((n, n), fill)
        pos = {c: k for k, c in enumerate(self.countries)}
        i = self.data["exporter"].map(pos).to_numpy()
        j = self.data["importer"].map(pos).to_numpy()
        out[i, j] = np.asarray(values, dtype=float)
        return out

    def flows(self, *, fitted: bool = True) -> np.ndarray:
        """Fitted (or observed) flows as ``[exporter, importer]`` over `countries`, USD; 0 where no row."""
        return self._matrix(self.fitted if fitted else self.data[self.flow], 0.0)

    def trade_cost_change(self, changes: Mapping[str, object], theta: float) -> np.ndarray:
        """Iceberg trade-cost change ``d_hat [exporter, importer]`` for new values of cost variables.

        Trade falls with ``d**-theta`` and the fit gives ``log d**-theta = sum_k b_k x_k``, so
        ``d_hat = exp(-sum_k b_k (x_k' - x_k) / theta)``.

        Parameters
        ----------
        changes : mapping
            Cost variable -> new value: a number, or an array or Series on the rows of `data`.
        theta : float
            Trade elasticity of the general-equilibrium model that will use the change.

        Returns
        -------
        numpy.ndarray, ``[exporter, importer]``
            1 for pairs without a row.
        """
        if not theta > 0:
            raise InputError(f"is {theta!r}; expected a trade elasticity > 0", key="theta")
        unknown = [k for k in changes if k not in self.coefficients.index]
        if unknown:
            raise InputError(f"{unknown} are not cost variables of this fit; it has "
                             f"{list(self.coefficients.index)}", key="changes")
        shift = np.zeros(len(self.data))
        for name, new in changes.items():  # a loop over a handful of variables
            new = new.to_numpy() if isinstance(new, pd.Series) else new
            new = np.broadcast_to(np.asarray(new, dtype=float), shift.shape)
            shift += self.coefficients[name] * (new - self.data[name].to_numpy(dtype=float))
        return self._matrix(np.exp(-shift / theta), 1.0)


def ppml(
    frame: pd.DataFrame,
    costs: Sequence[str],
    *,
    flow: str = "trade",
    exporter: str = "exporter",
    importer: str = "importer",
    cov_type: str = "HC1",
    tol: float = 1e-10,
    max_iter: int = 200,
) -> GravityFit:
    """Estimate gravity by PPML with exporter and importer fixed effects.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per exporter and importer (domestic pairs included when available), with
        the flow and the cost variables.
    costs : sequence of str
        Cost variables, for example ``["ln_DIST", "CNTG", "INTL_BRDR"]``.
    flow, exporter, importer : str
        Column names.
    cov_type : str
        statsmodels covariance type of the standard errors (``"HC1"``: heteroskedasticity
        robust, as Stata's ``ppml``; ``"nonrobust"``).
    tol, max_iter : float, int
        Convergence of the IRLS iterations (relative change of the deviance).

    Returns
    -------
    GravityFit

    Raises
    ------
    InputError
        Missing columns, missing or non-finite values, negative flows or duplicate pairs,
        each naming the first offending row.
    ConvergenceError
        When the estimator does not converge.
    ImportError
        Without statsmodels (``pip install "tradesim[gravity]"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from tradesim.models.gravity import ppml
    >>> rows = [(e, i, 100.0 if e == i else 10.0 / (1 + (e != i)), float(e != i))
    ...         for e in "ABC" for i in "ABC"]
    >>> frame = pd.DataFrame(rows, columns=["exporter", "importer", "trade", "border"])
    >>> fit = ppml(frame, ["border"])
    >>> round(float(fit.coefficients["border"]), 4)  # log(5 / 100)
    -2.9957
    """
    try:
        import statsmodels.api as sm
    except ImportError as exc:
        raise ImportError('gravity estimation needs statsmodels: pip install "tradesim[gravity]"') from exc
    costs = list(costs)
    data = _prepare(frame, costs, flow, exporter, importer)
    countries = tuple(sorted(set(data["exporter"]) | set(data["importer"])))
    y = data[flow].to_numpy(dtype=float)
    scale = y.mean()  # IRLS behaves better on flows of order one; only the constant absorbs the scale
    exp_fe = pd.get_dummies(data["exporter"], prefix="exp", dtype=float)
    imp_fe = pd.get_dummies(data["importer"], prefix="imp", dtype=float).iloc[:, :-1]  # last is the reference
    X = pd.concat([data[costs].astype(float), exp_fe, imp_fe], axis=1)
    model = sm.GLM(y / scale, X, family=sm.families.Poisson())
    result = model.fit(tol=tol, maxiter=max_iter, cov_type=cov_type)
    if not result.converged:
        raise ConvergenceError("PPML did not converge", iterations=int(result.fit_history["iteration"]),
                               residual=float("nan"), tol=tol)
    return GravityFit(
        coefficients=result.params[costs].rename("coefficient"),
        std_errors=result.bse[costs].rename("std_error"),
        fitted=pd.Series(result.fittedvalues.to_numpy() * scale, index=data.index, name="fitted"),
        data=data,
        countries=countries,
        flow=flow,
        cov_type=cov_type,
        iterations=int(result.fit_history["iteration"]),
    )


def _prepare(frame, costs, flow, exporter, importer) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"is a {type(frame).__name__}; expected a pandas DataFrame", key="frame")
    if not costs:
        raise InputError("is empty; name at least one cost variable", key="costs")
    missing = [c for c in (exporter, importer, flow, *costs) if c not in frame.columns]
    if missing:
        raise InputError(f"columns {missing} are missing; the frame has {list(frame.columns)}", key="frame")
    data = frame[[exporter, importer, flow, *costs]].rename(columns={exporter: "exporter", importer: "importer"})
    data = data.assign(exporter=data["exporter"].astype(str), importer=data["importer"].astype(str))
    for col in (flow, *costs):
        values = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            row = data.index[bad.argmax()]
            raise InputError(f"is {_plain(frame.loc[row, col])!r} in row {_plain(row)!r}; expected a finite number",
                             key=col)
        data[col] = values
    negative = data[flow] < 0
    if negative.any():
        row = data.index[negative.argmax()]
        raise InputError(f"is {_plain(data.loc[row, flow])!r} in row {_plain(row)!r}; expected a flow >= 0", key=flow)
    dup = data.duplicated(["exporter", "importer"])
    if dup.any():
        row = data.index[dup.argmax()]
        raise InputError(f"pair {data.loc[row, 'exporter']}->{data.loc[row, 'importer']} appears twice "
                         f"(again in row {row!r}); expected one row per pair", key="frame")
    return data


def _plain(value):
    """A numpy scalar as the Python value it holds (``-1.0``, not ``np.float64(-1.0)``), for messages."""
    return value.item() if isinstance(value, np.generic) else value
