r"""General equilibrium: structural gravity by exact hat algebra, with tariff revenue.

The model
---------
Hats are ratios of new to baseline values. ``flows[s, i, j]`` is the value of sector ``s``
goods shipped from exporter ``i`` to importer ``j`` at baseline prices, tariff-exclusive,
with domestic sales on the diagonal. With ``kappa = d_hat (1 + t1) / (1 + t0)`` the change
of the trade-cost factor (iceberg cost times tariff)::

    pi[s,i,j]  = flows (1 + t0) / E[s,j]              baseline share of j's spending, E tariff-inclusive
    c_hat[s,i] = w_hat[i]**beta[s,i] * prod_k P_hat[k,i]**gamma[k,s,i]        unit cost
    P_hat[s,j] = (sum_i pi (kappa c_hat[s,i])**-theta[s])**(-1/theta[s])      sector price index
    pi'[s,i,j] = pi (kappa c_hat[s,i] / P_hat[s,j])**-theta[s]
    Y'[s,i]    = sum_j pi' E'[s,j] / (1 + t1)                                 gross output
    E'[s,j]    = sum_k gamma[s,k,j] Y'[k,j] + alpha[s,j] (VA'[j] + R'[j] + D'[j])
    R'[j]      = sum_{s,i} pi' E'[s,j] t1 / (1 + t1)                          tariff revenue
    VA'[i]     = w_hat[i] VA[i] = sum_s beta[s,i] Y'[s,i]                     market clearing

``VA`` is value added (GDP at factory-gate prices), ``alpha`` the Cobb-Douglas shares of
final demand and ``beta``, ``gamma`` the value-added and input shares of gross output. One
sector without input-output links (``beta = 1``, ``gamma = 0``) is the endowment economy of
Dekle, Eaton and Kortum (2008), where ``w_hat`` is the change of the factory-gate price; many
sectors with links are Caliendo and Parro (2015). ``theta`` is the trade elasticity (``sigma - 1``
in Armington terms).

Income and deficits. Tariff revenue is income of the importer. The deficit ``D`` (spending
minus income, in the data: imports minus exports, both including domestic sales) closes
the model in one of two ways:

- ``"fixed"``: ``D' = D`` in units of world GDP (Dekle, Eaton and Kortum 2008; Caliendo and
  Parro 2015);
- ``"share"``: ``D'[j] = VA'[j] (D[j] / VA[j] - m')``, a fixed share of own GDP, which is the
  closure ``E = phi Y`` of Yotov et al. (2016), less the common GDP-weighted mean share
  ``m'`` (zero at baseline) so that world deficits still sum to zero and every market clears.

Both are homogeneous of degree one in prices, so real outcomes do not depend on the numeraire.
Welfare is real national income, ``(VA' + R') / (VA + R) / P_hat`` with the consumer price
index ``P_hat[j] = prod_s P_hat[s,j]**alpha[s,j]``. Without tariffs and input-output links it
is ``prod_s lambda_hat[s,j]**(-alpha[s,j] / theta[s])`` with ``lambda`` the domestic share
(Arkolakis, Costinot and Rodriguez-Clare 2012).

Solution method
---------------
Newton's method with analytic Jacobians (`tradesim.models._hat`), batched over draws. Without
links the unknowns are the ``n`` log wages, everything else being explicit in them; with links
they are log wages, log sector price indices and sector spending (``n + 2 S n``). One sector
without links has its own system of the same equations in fewer operations (one symmetric
matrix product and one ``n x n`` solve per Newton step, the state at a point computed once). One
market-clearing condition is redundant (Walras' law), and the normalisation that world GDP is
unchanged is added as one more equation; each step solves the square system of the
normalisation and every market but that of the country with the largest baseline GDP (a Newton
step for all of them, since the left-out one follows from the others). The solution is then
rescaled to the numeraire asked for. The solver stops when every equation (all market-clearing
conditions included, as relative excess demand) is within ``tol``, and raises
`ConvergenceError` otherwise: it never returns an unconverged answer.

Globalisation. Three methods, each for the draws the one before left unsolved:

1. Damped Newton on the whole shock from the baseline (``w_hat = 1``), at most 30 steps, with
   a backtracking (Armijo) line search on the squared residuals of the square system. This
   solves nearly all cases in a few steps, and is all the work for them.
2. Pseudo-arclength continuation from the baseline to the shock, batched over the draws left
   (Keller 1977; Allgower and Georg 1990). The economy a fraction ``lam``
   of the way moves every trade-cost factor ``kappa = d_hat (1 + t1) / (1 + t0)``
   geometrically, as ``kappa**lam``; its equilibria ``(x, lam)`` form a curve through the
   baseline at ``lam = 0``. Each step predicts along the curve's tangent, corrects by Newton on
   the equations plus the arclength condition (the same analytic Jacobian, bordered by the
   derivative in ``lam``), and lengthens or halves the next step by how the correction went;
   when a step would pass ``lam = 1``, Newton solves the shock itself. Stepping by arclength
   rather than by ``lam`` goes round folds, where the curve turns back in ``lam``: with large
   tariffs and a high theta, equilibria can be multiple over a range of ``lam``, and the
   shock's can lie beyond a fold.
3. For the few draws still unsolved, one at a time: `scipy.optimize.root` (Powell's hybrid
   and Levenberg-Marquardt trust-region methods) on the same square system with the same
   Jacobian, from where the path stopped and from the baseline, polished by Newton.

On the cells that trade. `solve_sectors` given a `tradesim.data.layout.SparseTensor` solves the
system without links on its cells (`tradesim.models._hat_cells`): the same unknowns, equations,
Jacobian and globalisation, with sums over the cells in place of sums over dense ``[s, i, j]``
arrays, so that time and memory grow with the cells that trade.

``max_iter`` bounds each draw's Newton steps (and the fallback's function evaluations) over
all three. A path that stops where a country's trade surplus takes nearly all its income has
met the edge of the closure's domain: no equilibrium lies further along, and the error says so.

References
----------
Arkolakis, C., Costinot, A. and Rodriguez-Clare, A. (2012). New trade models, same old
gains? American Economic Review 102(1), 94-130.
Caliendo, L. and Parro, F. (2015). Estimates of the trade and welfare effects of NAFTA.
Review of Economic Studies 82(1), 1-44.
Allgower, E. L. and Georg, K. (1990). Numerical Continuation Methods: An Introduction.
Springer Series in Computational Mathematics 13. Berlin: Springer.
Dekle, R., Eaton, J. and Kortum, S. (2008). Global rebalancing with gravity: measuring the
burden of adjustment. IMF Staff Papers 55(3), 511-540.
Keller, H. B. (1977). Numerical solution of bifurcation and nonlinear eigenvalue problems.
In P. H. Rabinowitz (ed.), Applications of Bifurcation Theory, 359-384. New York: Academic Press.
Yotov, Y. V., Piermartini, R., Monteiro, J.-A. and Larch, M. (2016). An Advanced Guide to
Trade Policy Analysis: The Structural Gravity Model. WTO and UNCTAD, chapter 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.baseline import MAX_RATE
from ..data.layout import Cells, SparseTensor
from ..errors import ConvergenceError, InputError
from . import _hat, _hat_cells
from ._newton import check_options, newton, solve_linear
from ._pe_cells import segment_sum
from ._revenue import PairRevenue

__all__ = ["GESolution", "solve", "solve_products", "solve_sectors"]

_SHARE_TOL = 1e-8  # value-added and input shares must add to one within this
_CHUNK_CELLS = 2**22  # batch members per Newton run are bounded so arrays stay near 32 MB
_DIRECT_ITER = 30  # Newton on the whole shock from the baseline: most steps before the path takes over
_FIRST_STEP = 0.25  # the path's first step moves this fraction of the shock
_MAX_ARC = 1.0  # its longest step (Euclidean, in log prices, spending hats and the fraction of the shock)
_MIN_STEP = 2.0**-24  # its shortest step before a member is given up
_STEP_ITER = 6  # most Newton steps to correct a step of the path (the step is halved if they do not)
_QUICK = 3  # a step corrected in this many Newton steps or fewer is followed by one twice as long
_SHORTEST = 1 / 8  # a correction whose line search needs a shorter fraction of a Newton step fails
_PATH_TOL = 1e-6  # the tolerance at points of the path short of the shock
_DLAM = 1e-6  # the difference in lam for the derivative of the equations along the path
_MINPACK_OVER = 3  # scipy.optimize.root's hybr and lm can pass their limit on evaluations by this many
_OUTSIDE = 1e10  # the residual scipy sees outside the domain (negative spending)
_NEAR = 1e4  # a residual within this multiple of tol is reported as perhaps rounding error
_EDGE = 1e-3  # spending below this fraction of income is reported as why a path stopped


@dataclass(frozen=True)
class GESolution(PairRevenue):
    """A solved general equilibrium.

    Axes: ``[draw?, country]`` for country results and the shape of `flows` (with ``draw``
    first when there are draws) for pair results; ``draw`` is present when the flows or the
    trade elasticity had a draw axis. Nominal values are in numeraire units: baseline USD
    when the numeraire is world GDP. Solved on the cells that trade (`flows` given as a
    `tradesim.data.layout.SparseTensor`), every pair array is ``[draw?, cell]`` on `cells`.

    Attributes
    ----------
    flows, tariff_before, tariff_after, trade_cost_change : numpy.ndarray
        The inputs, broadcast to the shape of `flows`.
    welfare : numpy.ndarray, ``[draw?, country]``
        Real national income, new over baseline: ``(VA' + R') / (VA + R) / P_hat``.
    wage : numpy.ndarray, ``[draw?, country]``
        Change of the wage (factory-gate price in one sector), in the numeraire.
    price_index : numpy.ndarray, ``[draw?, country]``
        Change of the consumer price index, in the numeraire.
    sector_price_index : numpy.ndarray or None, ``[draw?, sector, country]``
        Change of each sector's price index (`solve_sectors` only).
    unit_cost : numpy.ndarray, ``[draw?, sector?, country]``
        Change of unit costs (the exporter price of each sector's goods), in the numeraire;
        the wage in one sector without input-output links. The sector axis is there for
        `solve_sectors`.
    flows_after : numpy.ndarray
        New flows, tariff-exclusive, like `flows`.
    income_before, income_after : numpy.ndarray, ``[draw?, country]``
        Value added plus tariff revenue.
    deficit_before, deficit_after : numpy.ndarray, ``[draw?, country]``
        Spending minus income.
    iterations : int
        Newton steps taken by the slowest draw (steps along the path from the baseline and
        the fallback's function evaluations included).
    max_residual : float
        Largest residual of any equation at the solution (market clearing as relative excess
        demand, for every country).
    deficits : str
        The closure, ``"fixed"`` or ``"share"``.
    numeraire : tuple
        ``("world",)``, ``("price_index", country)`` or ``("wage", country)``.
    cells : tradesim.data.layout.Cells or None
        The cells of the pair arrays when solved on the cells that trade; None on dense flows.
    """

    flows: np.ndarray
    tariff_before: np.ndarray
    tariff_after: np.ndarray
    trade_cost_change: np.ndarray
    welfare: np.ndarray
    wage: np.ndarray
    price_index: np.ndarray
    sector_price_index: np.ndarray | None
    unit_cost: np.ndarray
    flows_after: np.ndarray
    income_before: np.ndarray
    income_after: np.ndarray
    deficit_before: np.ndarray
    deficit_after: np.ndarray
    iterations: int
    max_residual: float
    deficits: str
    numeraire: tuple
    draws: bool
    cells: Cells | None = None

    @property
    def real_wage(self) -> np.ndarray:
        """``wage / price_index``, ``[draw?, country]``."""
        return self.wage / self.price_index

    @property
    def quantity(self) -> np.ndarray:
        """Volume relative to the baseline, ``flows_after / (flows * unit_cost[i])``, like `flows_after`; 1 without trade."""
        cost = self._at_exporter(self.unit_cost)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.flows > 0, self.flows_after / (self.flows * cost), 1.0)

    @property
    def buyer_price(self) -> np.ndarray:
        """Tariff-inclusive delivered price relative to the baseline, ``unit_cost[i] * d_hat * (1 + t1) / (1 + t0)``."""
        return (self._at_exporter(self.unit_cost) * self.trade_cost_change * (1 + self.tariff_after)
                / (1 + self.tariff_before))

    def country_table(self) -> dict[str, np.ndarray]:
        """Headline results per country, ``[draw?, country]`` each, names ending in their unit.

        ``welfare_usd`` is the real income change valued at baseline prices,
        ``I1 / P_hat - I0``. It splits exactly into ``welfare_factor_income_usd``, the change
        of real value added ``VA1 / P_hat - VA0`` (terms of trade and the real wage), and
        ``welfare_revenue_usd``, the change of real tariff revenue ``R1 / P_hat - R0``. Both
        are real, so neither depends on the numeraire.
        """
        rev0 = np.broadcast_to(self._by_importer(self.revenue_before), self.welfare.shape)
        rev1 = self._by_importer(self.revenue)
        value_added0, value_added1 = self.income_before - rev0, self.income_after - rev1
        return {
            "real_income_change_pct": 100 * (self.welfare - 1),
            # money metric: the real income change valued at baseline income (equivalent variation)
            "welfare_usd": (self.welfare - 1) * self.income_before,
            "welfare_factor_income_usd": value_added1 / self.price_index - value_added0,
            "welfare_revenue_usd": rev1 / self.price_index - rev0,
            "wage_change_pct": 100 * (self.wage - 1),
            "price_index_change_pct": 100 * (self.price_index - 1),
            "revenue_before_usd": rev0,
            "revenue_after_usd": self._by_importer(self.revenue),
        }

    def _at_exporter(self, a: np.ndarray) -> np.ndarray:
        """Exporter values ``[draw?, sector?, country]`` against the pair arrays."""
        if self.cells is None:
            return a[..., :, None]
        return a[..., self.cells.product, self.cells.exporter]  # on cells only from solve_sectors: sectors

    def _by_importer(self, pairs: np.ndarray) -> np.ndarray:
        """Pair values ``[draw?, sector?, exporter, importer]`` (or ``[draw?, cell]``) summed to ``[draw?, importer]``."""
        if self.cells is not None:
            return segment_sum(pairs, self.cells.importer, self.cells.shape[2])
        total = pairs.sum(axis=-2)
        return total.sum(axis=-2) if self.sector_price_index is not None else total


# --------------------------------------------------------------------------- public


def solve(
    flows,
    trade_cost_change=None,
    tariff_before=None,
    tariff_after=None,
    theta=4.0,
    *,
    deficits: str = "fixed",
    numeraire=None,
    countries: Sequence[str] | None = None,
    tol: float = 1e-12,
    max_iter: int = 200,
) -> GESolution:
    """One-sector general equilibrium by exact hat algebra (Dekle, Eaton and Kortum 2008).

    Parameters
    ----------
    flows : array_like, ``[exporter, importer]`` or ``[draw, exporter, importer]``
        Baseline trade, USD, tariff-exclusive, domestic sales on the diagonal.
    trade_cost_change : array_like, optional
        ``d_hat``, new over baseline iceberg trade costs, broadcastable to `flows`; ``inf``
        is prohibitive. 1 (no change) by default.
    tariff_before, tariff_after : array_like, optional
        Ad valorem tariffs as fractions, broadcastable to `flows`; zero on the diagonal.
        Zero by default. ``inf`` in `tariff_after` halts the pair's trade (an import ban or
        halted purchases): a prohibitive trade cost that collects no revenue.
    theta : float or array_like ``[draw]``
        Trade elasticity (> 0).
    deficits : {"fixed", "share"}
        Hold each deficit fixed in units of world GDP, or as a share of own GDP (the
        closure of Yotov et al. 2016); see the module notes.
    numeraire : None, ("price_index", country) or ("wage", country)
        What the nominal results are measured in: world GDP at factory-gate prices when None,
        else a country's consumer price index or wage; `country` is a code from `countries`
        or an index.
    countries : sequence of str, optional
        Country codes along the exporter and importer axes, for messages and `numeraire`.
    tol : float
        Largest residual accepted (relative excess demand, log price indices).
    max_iter : int
        Most Newton steps for each draw in all, steps along the path from the baseline and
        the fallback's function evaluations included (see the module notes).

    Returns
    -------
    GESolution
        Country results ``[draw?, country]``; flows like `flows`.

    Raises
    ------
    InputError
        For shapes that do not match, negative or NaN flows, a country without sales,
        purchases or domestic sales (named), tariffs off ``[0, 20]`` or on the diagonal.
    ConvergenceError
        When no method reaches `tol` (Newton from the baseline, continuation along the shock,
        `scipy.optimize.root`): as far as they can tell, no equilibrium exists, or `max_iter`
        ran out. It names the draws that failed (``draws``).

    Examples
    --------
    Arkolakis, Costinot and Rodriguez-Clare: without tariffs the welfare change is the
    domestic share's change to the power ``-1/theta``.

    >>> import numpy as np
    >>> flows = np.array([[60.0, 20.0], [10.0, 80.0]])
    >>> d_hat = np.array([[1.0, 0.9], [0.9, 1.0]])  # trade costs fall by 10%
    >>> sol = solve(flows, d_hat, theta=5.0)
    >>> lam = np.diag(flows) / flows.sum(axis=0)
    >>> lam_new = np.diag(sol.flows_after) / sol.flows_after.sum(axis=0)
    >>> bool(np.allclose(sol.welfare, (lam_new / lam) ** (-1 / 5)))
    True
    >>> np.round(sol.welfare, 4)
    array([1.0246, 1.0195])
    """
    a = _array("flows", flows)
    if a.ndim not in (2, 3):
        raise InputError(f"has shape {a.shape}; expected [exporter, importer] or [draw, exporter, importer]",
                         key="flows")
    drawn = a.ndim == 3
    th = _array("theta", theta)
    if th.ndim > 1:
        raise InputError(f"has shape {th.shape}; expected () or [draw]", key="theta")
    sol = _solve(a[:, None] if drawn else a[None, None], trade_cost_change, tariff_before, tariff_after,
                 th.reshape(-1, 1), None, None, deficits, numeraire, countries, tol, max_iter,
                 drawn, th.ndim == 1, user_shape=a.shape)
    return sol


def solve_sectors(
    flows,
    trade_cost_change=None,
    tariff_before=None,
    tariff_after=None,
    theta=4.0,
    *,
    value_added=None,
    io=None,
    deficits: str = "fixed",
    numeraire=None,
    countries: Sequence[str] | None = None,
    tol: float = 1e-12,
    max_iter: int = 200,
) -> GESolution:
    """Many sectors, with input-output links (Caliendo and Parro 2015) or without.

    Parameters
    ----------
    flows : array_like, ``[sector, exporter, importer]`` or ``[draw, sector, exporter, importer]``
        Baseline trade, USD, tariff-exclusive, domestic sales on the diagonal. A
        `tradesim.data.layout.SparseTensor` (the cells that trade, `Baseline.sparse_flows`) is
        solved on its cells when there are no input-output links: time and memory then grow
        with the cells, not with ``sector x country x country``, and the pair arrays of the
        solution are on them (`GESolution.cells`). With links (`io`) it is made dense: their
        system is dense in sectors and countries anyway.
    trade_cost_change, tariff_before, tariff_after : array_like, optional
        As in `solve`, broadcastable to `flows`. With a sparse `flows`, also a `SparseTensor`
        (read at its cells) or one value per cell of `flows`.
    theta : float or array_like
        Trade elasticity of each sector (> 0): ``()``, ``[sector]`` or ``[draw, sector]``.
    value_added : array_like ``[sector, country]``, optional
        Value-added share of gross output (0 to 1). All ones (no links) by default.
    io : array_like ``[input sector, sector, country]``, optional
        Share of inputs from each sector in a sector's gross output; with `value_added` it
        adds to one over the input sector. None for no links.
    deficits, numeraire, countries, tol, max_iter
        As in `solve`.

    Returns
    -------
    GESolution
        With `sector_price_index` ``[draw?, sector, country]``.

    Raises
    ------
    InputError
        As in `solve`; also when shares do not add to one, or intermediate use of a sector
        in a country exceeds its spending (negative final demand), naming both.
    ConvergenceError
        As in `solve`.

    Examples
    --------
    Without links, welfare is the product of the sectors' ACR terms weighted by final
    demand shares:

    >>> import numpy as np
    >>> flows = np.array([[[50.0, 10.0], [5.0, 40.0]], [[20.0, 30.0], [25.0, 60.0]]])
    >>> d_hat = np.array([[1.0, 1.2], [1.2, 1.0]])  # trade costs rise by 20% in both sectors
    >>> sol = solve_sectors(flows, d_hat, theta=[4.0, 8.0])
    >>> share = lambda f: np.einsum("sjj->sj", f) / f.sum(axis=1)
    >>> alpha = flows.sum(axis=1) / flows.sum(axis=(0, 1))
    >>> acr = np.prod((share(sol.flows_after) / share(flows)) ** (-alpha / np.array([[4.0], [8.0]])), axis=0)
    >>> bool(np.allclose(sol.welfare, acr))
    True
    """
    sparse = isinstance(flows, SparseTensor)
    if sparse and io is not None:  # the linked system is dense in sectors and countries: so are its flows
        flows, sparse = flows.toarray(), False
    a = flows if sparse else _array("flows", flows)
    if a.ndim not in (3, 4):
        raise InputError(f"has shape {a.shape}; expected [sector, exporter, importer] or "
                         "[draw, sector, exporter, importer]", key="flows")
    drawn = a.ndim == 4
    S = a.shape[1] if drawn else a.shape[0]
    th = _array("theta", theta)
    if th.ndim == 0 or (th.ndim == 1 and th.shape[0] in (1, S)):
        th2, theta_drawn = np.broadcast_to(th, (S,))[None], False
    elif th.ndim == 2 and th.shape[1] in (1, S):
        th2, theta_drawn = np.broadcast_to(th, (th.shape[0], S)), True
    else:
        raise InputError(f"has shape {th.shape}; expected (), [sector] or [draw, sector] with sector={S}",
                         key="theta")
    if sparse:
        return _solve_cells(a, trade_cost_change, tariff_before, tariff_after, th2, value_added, deficits, numeraire,
                            countries, tol, max_iter, theta_drawn)
    f4 = a if drawn else a[None]
    return _solve(f4, trade_cost_change, tariff_before, tariff_after, th2, value_added, io, deficits,
                  numeraire, countries, tol, max_iter, drawn, theta_drawn, user_shape=a.shape, sectors=True)


def solve_products(flows, tariff_before, tariff_after, theta=4.0, *, deficits: str = "fixed", numeraire=None,
                   countries: Sequence[str] | None = None, tol: float = 1e-12, max_iter: int = 200) -> GESolution:
    """Every product a sector, without input-output links: the ``"ge"`` entry of the model registry.

    `solve_sectors` with no trade-cost change, so `tradesim.simulate` can run general
    equilibrium on a `Baseline` of ``[product, exporter, importer]`` flows with domestic
    sales on the diagonal; on a sparse baseline (`Baseline.sparse_flows`), on its cells that
    trade. Parameters as in `solve_sectors`.
    """
    return solve_sectors(flows, None, tariff_before, tariff_after, theta, deficits=deficits, numeraire=numeraire,
                         countries=countries, tol=tol, max_iter=max_iter)


# --------------------------------------------------------------------------- checks


def _array(name: str, value) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers, got {type(value).__name__}: {exc}", key=name) from None
    if np.isnan(a).any():
        raise InputError(f"contains NaN at {_at(np.isnan(a))}; expected numbers", key=name)
    return a


def _at(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)
    return f"index {tuple(int(v) for v in idx[0])}" + (f" and {len(idx) - 1} more" if len(idx) > 1 else "")


class _Names:
    """Country names for messages: codes when given, else indices."""

    def __init__(self, countries, n):
        if countries is not None:
            countries = [str(c) for c in countries]
            if len(countries) != n:
                raise InputError(f"has {len(countries)} codes; flows have {n} countries", key="countries")
        self.codes = countries

    def __call__(self, i: int) -> str:
        return f"country {self.codes[i]!r}" if self.codes else f"country index {i}"

    def index(self, country, key: str) -> int:
        if isinstance(country, (int, np.integer)) and not isinstance(country, bool):
            return int(country)
        if self.codes is None or country not in self.codes:
            known = self.codes if self.codes else "pass countries=... to name them"
            raise InputError(f"country {country!r} is unknown; known: {known}", key=key)
        return self.codes.index(country)


def _along(name: str, value, default: float, user_shape: tuple, shape: tuple) -> np.ndarray:
    """`value`, broadcastable to the user's flows, as the internal ``[b, s, i, j]`` (b = 1 without draws).

    The default is one cell, ``[1, 1, 1, 1]``, which the models broadcast: no pass over ``n x n``
    zeros to check, take logarithms of or multiply by.
    """
    if value is None:
        return np.full((1,) * len(shape), default)
    a = _array(name, value)
    try:
        return np.broadcast_to(a, user_shape).reshape(shape)
    except ValueError:
        raise InputError(f"has shape {a.shape}; expected a shape that broadcasts to flows {user_shape}",
                         key=name) from None


def _check_flows(f: np.ndarray, names: _Names, at=_at) -> None:
    """Flows ``[b, s, i, j]`` (or ``[cell]``, placed by `at`) are USD values >= 0."""
    if (f < 0).any() or np.isinf(f).any():
        raise InputError(f"has negative or infinite values at {at((f < 0) | np.isinf(f))}; "
                         "expected USD values >= 0", key="flows")


def _check_countries(sells: np.ndarray, buys: np.ndarray, own: np.ndarray, names: _Names) -> None:
    """Every country ``[b, n]`` sells, buys and has domestic sales."""
    for what, total in (("sells nothing (its row of flows is zero)", sells),
                        ("buys nothing (its column of flows is zero)", buys),
                        ("has no domestic sales on the diagonal, which general equilibrium needs "
                         "(add gross output minus exports; Baseline.with_domestic puts them there)", own)):
        bad = ~(total > 0)
        if bad.any():
            d, i = np.argwhere(bad)[0]
            raise InputError(f"{names(i)} {what}" + (f" in draw {d}" if total.shape[0] > 1 else ""), key="flows")


def _check_tariff(name: str, t: np.ndarray, own: np.ndarray, at=_at) -> None:
    """Tariffs `t` are fractions in range (a halt only after) and zero on the domestic cells `own`
    (`t`'s values there); `at` places a mask of `t`, or of `own`, in messages."""
    after = name == "tariff_after"  # a halt (inf) may come after, not at the baseline
    bad = ~((t >= 0) & ((t <= MAX_RATE) | (after & np.isposinf(t))))
    if bad.any():
        raise InputError(f"has {float(t[bad][0])!r} at {at(bad)}; expected fractions from 0 to {MAX_RATE:g}"
                         + (" or inf (trade halted)" if after else ""), key=name)
    if (own != 0).any():
        raise InputError(f"is nonzero on the diagonal at {at(own != 0)}; "
                         "a country does not levy tariffs on its own sales", key=name)


def _production(value_added, io, S: int, n: int, names: _Names):
    """Validated ``beta [1, s, i]`` and ``gamma [1, k, s, i]`` (None without links)."""
    if io is None and value_added is None:
        return np.ones((1, S, n)), None
    beta = np.ones((S, n)) if value_added is None else _array("value_added", value_added)
    if beta.shape != (S, n):
        raise InputError(f"has shape {beta.shape}; expected [sector, country] = {(S, n)}", key="value_added")
    if not ((beta > 0) & (beta <= 1)).all():
        bad = ~((beta > 0) & (beta <= 1))
        s, i = np.argwhere(bad)[0]
        raise InputError(f"is {float(beta[s, i])!r} for sector {s}, {names(i)}; expected shares in (0, 1]",
                         key="value_added")
    gamma = np.zeros((S, S, n)) if io is None else _array("io", io)
    if gamma.shape != (S, S, n):
        raise InputError(f"has shape {gamma.shape}; expected [input sector, sector, country] = {(S, S, n)}",
                         key="io")
    if (gamma < 0).any() or np.isinf(gamma).any():
        raise InputError(f"has a negative or infinite share at {_at((gamma < 0) | np.isinf(gamma))}", key="io")
    total = beta + gamma.sum(axis=0)
    off = np.abs(total - 1) > _SHARE_TOL
    if off.any():
        s, i = np.argwhere(off)[0]
        raise InputError(f"value added plus inputs is {float(total[s, i])!r} of gross output for sector {s}, {names(i)}; "
                         "expected 1", key="io" if io is not None else "value_added")
    if not gamma.any():
        return beta[None], None
    return beta[None], gamma[None]


def _numeraire(numeraire, names: _Names) -> tuple:
    if numeraire is None or numeraire == "world" or numeraire == ("world",):
        return ("world",)
    if isinstance(numeraire, (tuple, list)) and len(numeraire) == 2 and numeraire[0] in ("price_index", "wage"):
        return (numeraire[0], numeraire[1], names.index(numeraire[1], "numeraire"))
    raise InputError(f"is {numeraire!r}; expected None, ('price_index', country) or ('wage', country)",
                     key="numeraire")


# --------------------------------------------------------------------------- solver


def _solve(f4, trade_cost_change, tariff_before, tariff_after, theta, value_added, io, deficits, numeraire,
           countries, tol, max_iter, flows_drawn, theta_drawn, *, user_shape, sectors=False) -> GESolution:
    Bf, S, n, _ = f4.shape
    names, num = _settings(deficits, tol, max_iter, theta, countries, numeraire, user_shape, f4.shape[1:])
    if flows_drawn and theta_drawn and theta.shape[0] != Bf:
        raise InputError(f"has {theta.shape[0]} draws; flows have {Bf}", key="theta")
    _check_flows(f4, names)
    _check_countries(f4.sum(axis=(1, 3)), f4.sum(axis=(1, 2)), np.einsum("bsii->bi", f4), names)
    t0 = _along("tariff_before", tariff_before, 0.0, user_shape, f4.shape)
    t1 = _along("tariff_after", tariff_after, 0.0, user_shape, f4.shape)
    for name, t in (("tariff_before", t0), ("tariff_after", t1)):
        _check_tariff(name, t, np.einsum("bsii->bsi", t))
    d_hat = _along("trade_cost_change", trade_cost_change, 1.0, user_shape, f4.shape)
    if not (d_hat > 0).all():
        raise InputError(f"has {float(d_hat[~(d_hat > 0)][0])!r} at {_at(~(d_hat > 0))}; expected values > 0 "
                         "(inf for prohibitive)", key="trade_cost_change")
    beta, gamma = _production(value_added, io, S, n, names)
    halt = np.isposinf(t1)
    if halt.any():  # a halt is a prohibitive trade cost that collects nothing: the economy sees the cost only
        economy = _economy(f4, t0, np.where(halt, t0, t1), np.where(halt, np.inf, d_hat), theta, beta, gamma,
                           deficits, names)
    else:
        economy = _economy(f4, t0, t1, d_hat, theta, beta, gamma, deficits, names)
    system = _hat.Linked if gamma is not None else _hat.OneSector if S == 1 else _hat.Direct
    B = max(Bf, theta.shape[0])
    st, iterations, residual = _run(system, economy, B, tol, max_iter, names)
    draws = flows_drawn or theta_drawn
    core = user_shape[1:] if flows_drawn else user_shape

    def pairs(a):  # [B, s, i, j] -> the user's flows shape, with the draw axis first when there are draws
        return np.broadcast_to(a, (a.shape[0], *f4.shape[1:])).reshape((-1, *core) if draws else core)

    inputs = {name: np.broadcast_to(a, f4.shape).reshape(user_shape) for name, a in
              (("flows", f4), ("tariff_before", t0), ("tariff_after", t1), ("trade_cost_change", d_hat))}
    return _solution(st, economy, num, inputs, pairs, (f4 * t0).sum(axis=(1, 2)), draws, deficits, iterations,
                     residual, sectors)


def _settings(deficits, tol, max_iter, theta, countries, numeraire, user_shape, shape) -> tuple[_Names, tuple]:
    """The options checked; country names for messages and the numeraire (`_numeraire`).

    `shape` is ``(sector, exporter, importer)`` of the flows, `user_shape` theirs as given.
    """
    if deficits not in ("fixed", "share"):
        raise InputError(f"is {deficits!r}; expected 'fixed' or 'share'", key="deficits")
    check_options(tol, max_iter)
    _, n, n2 = shape
    if n != n2:
        raise InputError(f"has shape {user_shape}; expected square exporter and importer axes", key="flows")
    names = _Names(countries, n)
    num = _numeraire(numeraire, names)
    if num[0] != "world" and not 0 <= num[2] < n:
        raise InputError(f"index {num[2]} is out of range for {n} countries", key="numeraire")
    if not (np.isfinite(theta) & (theta > 0)).all():
        raise InputError(f"has {float(theta[~(np.isfinite(theta) & (theta > 0))][0])!r}; expected finite values > 0",
                         key="theta")
    return names, num


def _solve_cells(flows: SparseTensor, trade_cost_change, tariff_before, tariff_after, theta, value_added, deficits,
                 numeraire, countries, tol, max_iter, theta_drawn) -> GESolution:
    """`_solve` on the cells of `flows` without input-output links (`tradesim.models._hat_cells`)."""
    cells = flows.cells
    S, n, _ = cells.shape
    names, num = _settings(deficits, tol, max_iter, theta, countries, numeraire, cells.shape, cells.shape)
    at = _cells_at(cells)
    f = _array("flows", flows.values)
    _check_flows(f, names, at)
    own = cells.exporter == cells.importer
    _check_countries(*(np.bincount(k, weights=w, minlength=n)[None] for k, w in
                       ((cells.exporter, f), (cells.importer, f), (cells.exporter[own], f[own]))), names)
    t0 = _on_cells("tariff_before", tariff_before, 0.0, cells)
    t1 = _on_cells("tariff_after", tariff_after, 0.0, cells)
    for name, t in (("tariff_before", t0), ("tariff_after", t1)):
        _check_tariff(name, t, np.where(own, t, 0.0) if t.size > 1 else t[:0], at)
    d_hat = _on_cells("trade_cost_change", trade_cost_change, 1.0, cells)
    if not (d_hat > 0).all():
        raise InputError(f"has {float(d_hat[~(d_hat > 0)][0])!r} at {at(~(d_hat > 0))}; expected values > 0 "
                         "(inf for prohibitive)", key="trade_cost_change")
    _production(value_added, None, S, n, names)  # checked only: without links value added is all of output
    halt = np.isposinf(t1)
    shock = (np.where(halt, t0, t1), np.where(halt, np.inf, d_hat)) if halt.any() else (t1, d_hat)
    economy = _cell_economy(f, t0, *shock, theta, cells, deficits)
    st, iterations, residual = _run(_hat_cells.CellDirect, economy, theta.shape[0], tol, max_iter, names)

    def pairs(a):  # [B, cell] -> [draw?, cell]
        return a if theta_drawn else a[0]

    inputs = {name: np.broadcast_to(a, f.shape) for name, a in
              (("flows", f), ("tariff_before", t0), ("tariff_after", t1), ("trade_cost_change", d_hat))}
    return _solution(st, economy, num, inputs, pairs, segment_sum(f * t0, cells.importer, n)[None], theta_drawn,
                     deficits, iterations, residual, sectors=True, cells=cells)


def _cells_at(cells: Cells):
    """`_at` for a mask over `cells`: the first cell's ``(sector, exporter, importer)``."""
    def at(mask: np.ndarray) -> str:
        hits = np.flatnonzero(mask)
        c = hits[0]
        where = (int(cells.product[c]), int(cells.exporter[c]), int(cells.importer[c]))
        return f"index {where}" + (f" and {hits.size - 1} more" if hits.size > 1 else "")
    return at


def _on_cells(name: str, value, default: float, cells: Cells) -> np.ndarray:
    """A ``[sector, exporter, importer]`` argument at `cells`, ``[cell]`` (``[1]``, broadcast, for the default).

    `value` may be a `SparseTensor` of the same shape (zero where it lists no cell), one value per cell,
    or anything that broadcasts to the dense shape (read at the cells, without making the dense tensor).
    """
    if value is None:
        return np.full(1, default)
    if isinstance(value, SparseTensor):
        if value.shape != cells.shape:
            raise InputError(f"has shape {value.shape}; expected {cells.shape} like flows", key=name)
        return _array(name, value.on(cells))
    a = _array(name, value)
    if a.shape == (cells.size,):
        return a
    try:
        dense = np.broadcast_to(a, cells.shape)
    except ValueError:
        raise InputError(f"has shape {a.shape}; expected a shape that broadcasts to flows {cells.shape}, or one value "
                         f"per cell of flows ({cells.size})", key=name) from None
    return dense[cells.product, cells.exporter, cells.importer]


def _cell_economy(f, t0, t1, d_hat, theta, cells: Cells, closure) -> _hat_cells.CellEconomy:
    """`_economy` on cells without links: pair arrays ``[1, cell]`` (``[1, 1]`` where one value serves all)."""
    grid = _hat_cells.Grid(cells)
    S, n = grid.S, grid.n
    tariffs = bool(t0.any() or t1.any())
    spend_cells = f * (1 + t0) if tariffs else f
    spend = segment_sum(spend_cells, grid.sector_importer, S * n).reshape(S, n)
    present = spend > 0
    with np.errstate(divide="ignore"):
        log_pi = np.log(spend_cells / np.where(present, spend, 1.0).reshape(-1)[grid.sector_importer])
        log_kappa = np.log(d_hat)
    if tariffs:
        log_kappa = log_kappa + (np.log1p(t1) - np.log1p(t0))
    va = np.bincount(grid.exporter, weights=f, minlength=n)
    deficit = np.bincount(grid.importer, weights=f, minlength=n) - va  # imports minus exports, domestic in both
    return _hat_cells.CellEconomy(
        log_pi=log_pi[None], log_kappa=log_kappa[None], g=1 / (1 + t1[None]), theta=theta, present=present[None],
        spend=spend[None], alpha=(spend / spend.sum(axis=0))[None], beta=np.ones((1, S, n)), gamma=None, va=va[None],
        deficit=deficit[None], t0=t0[None], closure=closure, grid=grid)


def _economy(f4, t0, t1, d_hat, theta, beta, gamma, closure, names) -> _hat.Economy:
    tariffs = bool(t0.any() or t1.any())
    spend_pairs = f4 * (1 + t0) if tariffs else f4
    spend = spend_pairs.sum(axis=2)  # [b, s, j]
    present = spend > 0
    with np.errstate(divide="ignore", invalid="ignore"):  # each n x n array made once: fresh memory is slow
        log_pi = np.divide(spend_pairs, np.where(present, spend, 1.0)[:, :, None, :])
        np.log(log_pi, out=log_pi)
        log_kappa = np.log(d_hat)
        if tariffs:
            log_kappa = log_kappa + (np.log1p(t1) - np.log1p(t0))
    output = f4.sum(axis=3)  # [b, s, i]
    va = (beta * output).sum(axis=1)
    inter = 0.0 if gamma is None else np.einsum("bskj,bkj->bsj", gamma, output)
    final = spend - inter
    low = final < -_SHARE_TOL * np.maximum(spend, 1.0)
    if low.any():
        d, s, j = np.argwhere(low)[0]
        raise InputError(
            f"intermediate use of sector {s} in {names(j)} (USD {float(np.broadcast_to(inter, spend.shape)[d, s, j]):.6g}) "
            f"exceeds its spending (USD {spend[d, s, j]:.6g}): final demand would be negative", key="io")
    final = np.maximum(final, 0.0)
    total_final = final.sum(axis=1, keepdims=True)
    if not (total_final > 0).all():
        d, _, j = np.argwhere(~(total_final > 0))[0]
        raise InputError(f"{names(j)} has no final demand: all its spending is intermediate use", key="io")
    deficit = f4.sum(axis=(1, 2)) - f4.sum(axis=(1, 3))  # imports minus exports, domestic sales in both
    return _hat.Economy(
        log_pi=log_pi, log_kappa=log_kappa, g=1 / (1 + t1), theta=theta, present=present[:, :, None, :],
        spend=spend, alpha=final / total_final, beta=beta, gamma=gamma, va=va, deficit=deficit, t0=t0,
        closure=closure,
    )


def _run(system_type, economy: _hat.Economy, B: int, tol: float, max_iter: int, names: _Names):
    """Solve every batch member; return the solved state, iterations and the largest residual."""
    S, n = economy.shape
    N = n * (1 + 2 * S) if system_type is _hat.Linked else n
    size = max(1, _CHUNK_CELLS // max(economy.log_pi[0].size, N * N))  # a member's pair arrays: S n n, or its cells
    if B <= size:  # one batched solve; its system may keep the state at the solution
        x, iterations, system = _path(system_type, economy, B, N, tol, max_iter, names, 0, B)
    else:
        x = np.zeros((B, N))
        iterations = 0
        for start in range(0, B, size):  # chunks of draws bound memory; each chunk is one batched solve
            idx = np.arange(start, min(B, start + size))
            x[idx], it, _ = _path(system_type, economy.take(idx), len(idx), N, tol, max_iter, names, start, B)
            iterations = max(iterations, it)
        system = system_type(economy)
    st = system.state(x, np.arange(B))
    residual = _max_residual(system, st, x)
    if residual > tol:
        raise ConvergenceError("the solution misses the tolerance once every market-clearing condition is "
                               "checked; rounding error dominates: check for extreme flows or elasticities",
                               iterations=iterations, residual=residual, tol=tol)
    return st, iterations, residual


def _path(system_type, economy: _hat.Economy, B: int, N: int, tol: float, max_iter: int, names: _Names,
          offset: int, total: int):
    """Solve the `B` members of one chunk; return the solutions ``[B, N]`` and the most iterations used.

    Returns also the system of the whole chunk, which may keep the state at the solution.

    Three methods, each for the members the one before left unsolved (see the module notes):
    Newton on the whole shock from the baseline, in at most `_DIRECT_ITER` steps; continuation
    from the baseline along the shock (`_continuation`), batched as well; `scipy.optimize.root`
    (`_fallback`, a loop over the few members left). Each member has `max_iter` Newton steps
    and function evaluations for all three. Raises `ConvergenceError` naming the members
    (`offset` onwards of `total`) that no method solved.
    """
    used = np.zeros(B, dtype=int)
    whole = system_type(economy)
    x, F, done, _ = newton(whole.residual, whole.jacobian, whole.baseline(B), tol=tol,
                           max_iter=min(max_iter, _DIRECT_ITER), counts=used)
    todo = np.flatnonzero(~(done & (np.abs(F).max(axis=1, initial=0.0) <= tol)))
    if not todo.size:  # the usual case
        return x, int(used.max(initial=0)), whole
    sub = economy.take(todo)
    spent = np.zeros(todo.size, dtype=int)
    with np.errstate(all="ignore"):  # the path may probe outside the domain; such points are rejected
        xs, reached, lost = _continuation(system_type, sub, N, tol, max_iter - used[todo], spent)
    used[todo] += spent
    x[todo[~lost]] = xs[~lost]
    failed = []
    for k in np.flatnonzero(lost):  # the few members the path did not bring to the shock
        member = sub.take(np.array([k]))
        starts = [xs[k]] if reached[k] > 0 else []
        xf, Ff, evaluations = _fallback(system_type, member, [*starts, whole.baseline(1)[0]], tol,
                                        max_iter - used[todo[k]])
        used[todo[k]] += evaluations
        if xf is not None:
            x[todo[k]] = xf
            continue
        if Ff is None or np.abs(Ff).max() >= np.abs(F[todo[k]]).max():  # report the best point found
            Ff = F[todo[k]]
        failed.append((k, Ff, spent[k] > 0, evaluations > 0))
    if failed:
        raise _unsolved(system_type, sub, failed, xs, reached, todo, used, tol, max_iter, names, offset, total)
    return x, int(used.max(initial=0)), whole


def _continuation(system_type, economy: _hat.Economy, N: int, tol: float, budget: np.ndarray,
                  used: np.ndarray):
    """Pseudo-arclength continuation from the baseline to the shock, for every member at once.

    Member ``m`` follows the curve of solutions ``y = (x, lam)`` of the economy a fraction
    ``lam`` of the way from the baseline to the shock (`_hat.Economy.along`), from the
    baseline (``lam = 0``, which solves itself) until it crosses ``lam = 1``. It steps along
    the curve's arclength rather than in ``lam``, so it goes round folds, where the curve
    turns back in ``lam`` (Keller 1977; Allgower and Georg 1990). Each step
    predicts along the unit tangent ``t`` (the null vector of the Jacobian in ``(x, lam)``)
    by the step length ``s`` and corrects with damped Newton on the equations and
    ``t . (y - y_pred) = 0`` (`_Arc`) to `_PATH_TOL`, within `_STEP_ITER` steps, each of which
    must be at least `_SHORTEST` of a full Newton step. A correction in `_QUICK` steps or
    fewer doubles ``s`` (up to `_MAX_ARC`); a failed one, or one that turns more than 60
    degrees from ``t``, halves it and starts again from the last point. A prediction past
    ``lam = 1`` is replaced by Newton on the shock itself, to `tol`, from where the tangent
    crosses ``lam = 1``. A member is lost when ``s`` falls below `_MIN_STEP`, when the curve
    turns back behind the baseline, or when it has used its `budget` of Newton steps (counted
    in `used`).

    Returns the last points ``[m, N]``, the fraction of the shock each reached, and which
    members are lost (the others solve the shock to `tol`).
    """
    m = budget.shape[0]
    y = np.concatenate([system_type(economy).baseline(m), np.zeros((m, 1))], axis=1)
    forward = np.zeros((m, N + 1))
    forward[:, N] = 1.0
    t = _Arc(system_type, economy, forward, y).tangent(y)  # (dx/dlam, 1), normalised
    s = np.minimum(_FIRST_STEP / t[:, N], _MAX_ARC)
    s = np.where(np.isfinite(s), s, _MIN_STEP / 2)  # a singular Jacobian at the baseline: lost at once
    done = np.zeros(m, dtype=bool)
    lost = (budget <= 0) | (s < _MIN_STEP)
    path_tol = max(tol, _PATH_TOL)
    while True:
        act = np.flatnonzero(~done & ~lost)
        if not act.size:
            return y[:, :N], np.minimum(y[:, N], 1.0), lost
        left = budget[act] - used[act]
        pred = y[act] + s[act, None] * t[act]
        end = pred[:, N] >= 1.0
        ok = np.zeros(act.size, dtype=bool)
        steps = np.zeros(act.size, dtype=int)
        if end.any():  # the shock itself, from where the tangent crosses lam = 1
            e = act[end]
            start = y[e, :N] + t[e, :N] * ((1.0 - y[e, N]) / t[e, N])[:, None]
            system = system_type(economy.take(e))
            count = np.zeros(e.size, dtype=int)
            xs, F, conv, _ = newton(system.residual, system.jacobian, start, tol=tol, shortest=_SHORTEST,
                                    max_iter=np.minimum(_STEP_ITER, left[end]), counts=count)
            hit = conv & (np.abs(F).max(axis=1, initial=0.0) <= tol)
            y[e[hit], :N], y[e[hit], N] = xs[hit], 1.0
            done[e[hit]] = True
            ok[end], steps[end] = hit, count
        if not end.all():  # a step along the curve
            c = act[~end]
            corrector = _Arc(system_type, economy.take(c), t[c], pred[~end])
            count = np.zeros(c.size, dtype=int)
            ys, F, conv, _ = newton(corrector.residual, corrector.jacobian, pred[~end].copy(), tol=path_tol,
                                    shortest=_SHORTEST, max_iter=np.minimum(_STEP_ITER, left[~end]), counts=count)
            chord = ys - y[c]
            length = np.sqrt(np.einsum("mi,mi->m", chord, chord))
            turn = np.einsum("mi,mi->m", chord, t[c]) / length
            good = conv & (np.abs(F).max(axis=1, initial=0.0) <= path_tol) & (turn > 0.5)
            g = c[good]
            if g.size:  # the tangent at the new points, pointing the way the path went
                y[g] = ys[good]
                tangent = _Arc(system_type, economy.take(g), t[g], y[g]).tangent(y[g])
                flip = np.einsum("mi,mi->m", tangent, chord[good]) < 0
                t[g] = np.where(flip[:, None], -tangent, tangent)
                good[good] = np.isfinite(t[g]).all(axis=1)  # a singular point: lost below
                lost[g] = y[g, N] < -_FIRST_STEP  # back behind the baseline: the curve misses the shock
            ok[~end], steps[~end] = good, count
        used[act] += steps
        s[act] = np.where(ok, np.where(steps <= _QUICK, np.minimum(2 * s[act], _MAX_ARC), s[act]), s[act] / 2)
        stop = (~ok & (s[act] < _MIN_STEP)) | (used[act] >= budget[act]) | ~np.isfinite(t[act]).all(axis=1)
        lost[act] |= stop & ~done[act]


class _Arc:
    """The corrector of pseudo-arclength continuation, for `newton`.

    The unknowns are ``y = (x, lam)``: the system's and the fraction of the shock. The
    residuals ``[m, M + 1]`` are the system's at ``x`` in the economy a fraction ``lam`` of
    the way to the shock, then ``t . (y - anchor)``. The Jacobian is the system's square
    one (analytic, on the rows its Newton step uses), bordered by the column of derivatives
    in ``lam`` (central differences) and the row ``t``.
    """

    def __init__(self, system_type, economy: _hat.Economy, tangent: np.ndarray, anchor: np.ndarray):
        self.system_type, self.economy, self.t, self.anchor = system_type, economy, tangent, anchor

    def _at(self, lam, idx):
        return self.system_type(self.economy.take(idx).along(lam)), np.arange(idx.size)

    def residual(self, y, idx):
        system, every = self._at(y[:, -1], idx)
        F = system.residual(y[:, :-1], every)
        return np.concatenate([F, np.einsum("mi,mi->m", self.t[idx], y - self.anchor[idx])[:, None]], axis=1)

    def jacobian(self, y, idx):
        x, lam = y[:, :-1], y[:, -1]
        system, every = self._at(lam, idx)
        J, rows = system.jacobian(x, every)
        up = self._at(lam + _DLAM, idx)[0].residual(x, every)
        down = self._at(lam - _DLAM, idx)[0].residual(x, every)
        d_lam = np.take_along_axis((up - down) / (2 * _DLAM), rows, axis=1)
        m, N = J.shape[0], J.shape[1]
        bordered = np.concatenate([np.concatenate([J, d_lam[:, :, None]], axis=2), self.t[idx][:, None, :]], axis=1)
        last = np.full((m, 1), N + 1)  # the arclength condition follows the system's N + 1 residuals
        return bordered, np.concatenate([rows, last], axis=1)

    def tangent(self, y):
        """Unit tangents ``[m, N + 1]`` of the curve at `y`: the null vector of the system's Jacobian
        in ``(x, lam)``, scaled so that ``t . tangent = 1`` before normalising."""
        m = y.shape[0]
        J = self.jacobian(y, np.arange(m))[0]
        unit = np.zeros((m, J.shape[1]))
        unit[:, -1] = 1.0
        t = solve_linear(J, unit)
        return t / np.sqrt(np.einsum("mi,mi->m", t, t))[:, None]


def _fallback(system_type, economy: _hat.Economy, starts, tol: float, budget: int):
    """`scipy.optimize.root` for one member: Powell's hybrid method, then Levenberg-Marquardt.

    Both are trust-region methods, a globalisation other than a line search. They solve the
    square system of the Newton steps (the normalisation and every market but one, Walras'
    law giving the last) with its analytic Jacobian, from each of `starts` in turn, while
    function evaluations of `budget` remain; what they find is polished by Newton to `tol`
    on every equation. Returns the solution (None if not found), the residuals of the best
    point found (None if none), and the evaluations used.
    """
    from scipy.optimize import root

    system = system_type(economy)
    one = np.array([0])
    drop = int(np.argmax(economy.va[0]))  # the same equations at every point
    rows = system.jacobian(system.baseline(1), one, drop)[1][0]
    best, used = None, 0

    def fun(z):
        F = system.residual(z[None], one)[0][rows]
        return np.where(np.isfinite(F), F, _OUTSIDE)

    def jac(z):
        J = system.jacobian(z[None], one, drop)[0][0]
        return np.where(np.isfinite(J), J, 0.0)

    for x0 in starts:
        for method, limit in (("hybr", "maxfev"), ("lm", "maxiter")):
            left = budget - used - _MINPACK_OVER  # MINPACK checks its limit once an iteration, so may pass it
            if left <= 0:
                return None, best, used
            with np.errstate(all="ignore"):
                out = root(fun, x0, jac=jac, method=method, options={limit: left, "xtol": 1e-14})
                used += int(out.nfev)
                steps = np.zeros(1, dtype=int)
                z, F, _, _ = newton(system.residual, system.jacobian, out.x[None].copy(), tol=tol,
                                    max_iter=max(0, min(_STEP_ITER, budget - used)), counts=steps)
            used += int(steps[0])
            worst = np.abs(F[0]).max() if np.isfinite(F).all() else np.inf
            if worst <= tol:
                return z[0], F[0], used
            if np.isfinite(worst) and (best is None or worst < np.abs(best).max()):
                best = F[0]
    return None, best, used


def _unsolved(system_type, economy, failed, xs, reached, todo, used, tol, max_iter, names, offset, total):
    """The `ConvergenceError` for the members no method solved: what was tried, where, and why it may fail."""
    S, n = economy.shape
    k, F, path, tried = failed[0]
    draws = offset + todo[[j for j, *_ in failed]]
    F = np.where(np.isfinite(F), F, np.inf)
    worst = int(np.abs(F).argmax())
    listed = ", ".join(str(d) for d in draws[:5]) + (f" and {len(draws) - 5} more" if len(draws) > 5 else "")
    which = ("no equilibrium found" if total == 1 else
             f"{len(failed)} of {total} equilibria not found (draw{'s' if len(failed) > 1 else ''} {listed}; "
             f"below, draw {draws[0]})")
    methods = ["Newton's method from the baseline"]
    if path:
        methods.append(f"continuation along the shock from the baseline, which got {reached[k]:.6g} of the way")
    if tried:
        methods.append(f"scipy.optimize.root (hybr, lm) from {'where the path stopped and ' if reached[k] > 0 else ''}"
                       "the baseline")
    text = (f"{which}. Tried: {'; '.join(methods)}. Largest residual at "
            f"{_equation(worst, S, n, system_type is _hat.Linked, names)}. ")
    member = economy.take(np.array([k]))
    edge = _edge(system_type, member, xs[k], reached[k], names)
    if edge:
        text += edge
    elif np.abs(F).max() <= _NEAR * tol:
        text += ("The best point found misses the tolerance by little: rounding error may dominate (check for "
                 "extreme flows or elasticities), or a larger tol may do")
    elif used[todo[k]] >= max_iter:
        text += f"All max_iter={max_iter} Newton steps and function evaluations were used: a larger max_iter may help"
    else:
        text += "The path from the baseline does not reach the shock, and no other method found an equilibrium"
    return ConvergenceError(text, iterations=int(used[todo[k]]), residual=float(np.abs(F).max()), tol=tol,
                            draws=draws)


def _edge(system_type, economy: _hat.Economy, x: np.ndarray, reached: float, names: _Names) -> str:
    """Why the path stopped, when it stopped because a surplus takes almost all of a country's income."""
    with np.errstate(all="ignore"):
        st = system_type(economy.along(np.array([reached]))).state(x[None], np.array([0]))
        income = st["va_new"] + st["revenue"]
        ratio = ((income + st["d_new"]) / income)[0]
    if not (ratio < _EDGE).any():
        return ""
    j = int(np.nanargmin(ratio))
    held = ("fixed in units of world GDP" if economy.closure == "fixed"
            else "a fixed share of its GDP less the world mean")
    text = (f"Where the path stopped, {names(j)} spends {max(ratio[j], 0):.2g} of its income: its trade surplus, "
            f"held {held}, takes the rest, and no equilibrium with this closure lies further along the path")
    if economy.closure == "fixed":
        text += "; deficits='share' lets surpluses shrink with GDP"
    return text


def _equation(k: int, S: int, n: int, linked: bool, names: _Names) -> str:
    """What residual `k` of the stacked system is (`_hat`: markets, price indices, spending, normalisation)."""
    if k < n:
        return f"market clearing for {names(k)}"
    block, cell = divmod(k - n, S * n)
    if not linked or block >= 2:
        return "the normalisation"
    s, j = divmod(cell, n)
    return f"{('price index', 'spending')[block]} of sector {s} in {names(j)}"


def _max_residual(system, st, x) -> float:
    worst = float(np.abs(system.market(st)).max())
    if isinstance(system, _hat.Linked):
        f1, f2 = system._equations(st)
        worst = max(worst, float(np.abs(f1).max()), float(np.abs(f2).max()))
    return worst


def _solution(st, c: _hat.Economy, num, inputs: dict, pairs, revenue0, draws, deficits, iterations, residual, sectors,
              cells=None) -> GESolution:
    """The solution from the solved state `st` of economy `c`.

    `inputs` are the flows, tariffs and trade-cost change as the solution shows them; `pairs` shapes
    a pair array of the state ``[B, ...]`` the same way; `revenue0` is the baseline tariff revenue by
    importer ``[b, n]``.
    """
    wage = np.exp(st["x"][:, :c.va.shape[1]])
    log_P = st["log_P"]  # [B, s, j]
    price = np.exp((c.alpha * log_P).sum(axis=1))
    if num[0] == "world":
        scale = np.ones(wage.shape[0])
    else:
        scale = (price if num[0] == "price_index" else wage)[:, num[2]]
    k = scale[:, None]
    income0 = c.va + revenue0
    income1 = st["va_new"] + st["revenue"]
    cost = np.exp(st["log_cost"]) / k[:, :, None]  # [B, s, i]
    welfare = income1 / income0 / price

    def country(a):  # [B, n] -> [draw?, n]
        return a if draws else a[0]

    flows_after = st["flows"] / k.reshape(-1, *(1,) * (st["flows"].ndim - 1))
    return GESolution(
        **inputs, welfare=country(welfare), wage=country(wage / k), price_index=country(price / k),
        sector_price_index=(country(np.exp(log_P) / k[:, :, None]) if sectors else None),
        unit_cost=(country(cost) if sectors else country(cost[:, 0])),
        flows_after=pairs(flows_after),
        income_before=country(np.broadcast_to(income0, wage.shape)), income_after=country(income1 / k),
        deficit_before=country(np.broadcast_to(c.deficit, wage.shape)), deficit_after=country(st["d_new"] / k),
        iterations=int(iterations), max_residual=residual, deficits=deficits,
        numeraire=num[:2], draws=draws, cells=cells,
    )
