"""Damped Newton's method for a batch of independent systems.

The partial- and general-equilibrium solvers use it: each batch member is one problem or
elasticity draw (or one data set), all members advance together, and a member leaves the
loop when it converges. The step is globalised by a backtracking (Armijo) line search on the
squared residuals; members can have their own tolerance and budget of steps.

A line search does not take Newton to every solution from every start. Both models continue
from an easier problem when it fails: the partial-equilibrium model in the size of the tariff
change, the general-equilibrium model along the arclength of its curve of equilibria from
the baseline, with `scipy.optimize.root` for the few problems left (`tradesim.models.ge`,
module notes). There `newton` is the corrector of each step along the curve; `shortest` makes
it give up early on a step that needs heavy damping, so that the continuation shortens its
step instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError

__all__ = ["check_options", "newton", "solve_linear"]

_ARMIJO = 1e-4
_MAX_HALVINGS = 40
_ROUNDING = 8 * np.finfo(float).eps  # a step this small (relative to x) is rounding noise


def check_options(tol, max_iter) -> None:
    """`InputError` unless `tol` is positive and `max_iter` at least 1."""
    if not tol > 0:
        raise InputError(f"is {tol!r}; expected a positive number", key="tol")
    if int(max_iter) < 1:
        raise InputError(f"is {max_iter!r}; expected at least 1", key="max_iter")


def solve_linear(J: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Batched ``J @ out = rhs``; the pseudo-inverse for members whose matrix is singular."""
    try:
        return np.linalg.solve(J, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.einsum("bil,bl->bi", np.linalg.pinv(J), rhs)


def newton(
    residual: Callable[[np.ndarray, np.ndarray], np.ndarray],
    jacobian: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x: np.ndarray,
    *,
    tol: float | np.ndarray,
    max_iter: int | np.ndarray,
    counts: np.ndarray | None = None,
    shortest: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Solve ``F_b(x_b) = 0`` for every batch member ``b`` by damped Newton; never raises.

    Parameters
    ----------
    residual : callable
        ``residual(x, idx) -> F``: residuals ``[m, M]`` of batch members `idx` (``[m]``) at
        ``x`` (``[m, N]``), ``M >= N``. Non-finite values mark points outside the domain.
    jacobian : callable
        ``jacobian(x, idx) -> J`` with ``J = dF/dx`` ``[m, N, N]`` when ``M = N``, or
        ``-> (J, rows)``: a square ``J`` ``[m, N, N]`` whose rows are the derivatives of the
        residuals ``rows`` ``[m, N]`` (for systems with redundant equations: those left out
        must follow from the others, so that a Newton step on the rest solves them too).
    x : numpy.ndarray, ``[batch, N]``
        Starting points; overwritten with the iterates.
    tol : float or numpy.ndarray ``[batch]``
        A member has converged when ``max |F| <= tol`` (its own `tol` when an array).
    max_iter : int or numpy.ndarray of int ``[batch]``
        Most Newton steps (for each member when an array).
    counts : numpy.ndarray of int ``[batch]``, optional
        When given, each member's entry is increased by the steps it took.
    shortest : float, optional
        The shortest fraction of a Newton step the line search tries (halving from 1); a
        member that needs a shorter one stops, not done. By default ``2**-39``. A
        continuation corrector sets it high, to fail fast and shorten its step instead.

    Returns
    -------
    x : numpy.ndarray, ``[batch, N]``
        Last iterates.
    F : numpy.ndarray, ``[batch, M]``
        Their residuals.
    done : numpy.ndarray of bool, ``[batch]``
        Members that reached `tol`, or whose step shrank to rounding error (the caller
        checks ``F`` for those).
    iterations : int
        Steps taken by the slowest member.

    Notes
    -----
    Each step backtracks (halving) until ``|F|^2`` falls by the Armijo fraction. A member
    whose step cannot decrease ``|F|^2`` at all stops, not done. With redundant equations
    (`rows`) the step need not descend on ``|F|^2`` over every residual, and the line search
    can stall short of a solution: a caller that must reach every solution continues from
    an easier problem when this happens (`tradesim.models.ge`).
    """
    B = x.shape[0]
    everyone = np.arange(B)
    tol = np.broadcast_to(np.asarray(tol, dtype=float), (B,))
    F = residual(x, everyone)
    merit = 0.5 * np.einsum("bi,bi->b", F, F)
    done = np.abs(F).max(axis=1, initial=0.0) <= tol
    halvings = _MAX_HALVINGS if shortest is None else 1 + max(0, int(np.floor(-np.log2(shortest))))
    limit = np.broadcast_to(np.asarray(max_iter), (B,))
    taken = np.zeros(B, dtype=int)
    stuck = np.zeros(B, dtype=bool)
    while True:
        act = np.flatnonzero(~(done | stuck) & (taken < limit))
        if not act.size:
            break
        taken[act] += 1
        if counts is not None:
            counts[act] += 1
        J = jacobian(x[act], act)
        J, rows = J if isinstance(J, tuple) else (J, None)
        rhs = -F[act] if rows is None else -np.take_along_axis(F[act], rows, axis=1)
        step = solve_linear(J, rhs)
        step = np.where(np.isfinite(step), step, 0.0)
        alpha = np.ones(act.size)
        todo = np.arange(act.size)
        for _ in range(halvings):  # backtracking: a loop over step sizes, not over members
            idx = act[todo]
            trial = x[idx] + alpha[todo, None] * step[todo]
            with np.errstate(all="ignore"):
                Ft = residual(trial, idx)
                mt = 0.5 * np.einsum("bi,bi->b", Ft, Ft)
            ok = np.isfinite(mt) & (mt <= (1 - 2 * _ARMIJO * alpha[todo]) * merit[idx])
            acc, k = idx[ok], todo[ok]
            x[acc], F[acc], merit[acc] = trial[ok], Ft[ok], mt[ok]
            tiny = (np.abs(alpha[k, None] * step[k]) <= _ROUNDING * (1 + np.abs(x[acc]))).all(axis=1)
            done[acc] = (np.abs(F[acc]).max(axis=1, initial=0.0) <= tol[acc]) | tiny
            todo = todo[~ok]
            if not todo.size:
                break
            alpha[todo] /= 2
        stuck[act[todo]] = True
    return x, F, done, int(taken.max(initial=0))
