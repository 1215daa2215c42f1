"""Damped Newton's method for a batch of independent systems.

The general-equilibrium solvers use it: each batch member is one elasticity draw (or one
data set), all members advance together, and a member leaves the loop when it converges.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_options", "newton", "solve_linear"]

_ARMIJO = 1e-4
_MAX_HALVINGS = 40
_ROUNDING = 8 * np.finfo(float).eps  # a step this small (relative to x) is rounding noise


def check_options(tol, max_iter) -> None:
    """`InputError` unless `tol` is positive and `max_iter` at least 1."""
    from ..errors import InputError

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
    tol: float,
    max_iter: int,
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
    tol : float
        A member has converged when ``max |F| <= tol``.
    max_iter : int
        Most Newton steps.

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
    whose step cannot decrease ``|F|^2`` at all stops, not done.
    """
    B = x.shape[0]
    everyone = np.arange(B)
    F = residual(x, everyone)
    merit = 0.5 * np.einsum("bi,bi->b", F, F)
    done = np.abs(F).max(axis=1, initial=0.0) <= tol
    stuck = np.zeros(B, dtype=bool)
    it = 0
    while it < max_iter and not (done | stuck).all():
        it += 1
        act = np.flatnonzero(~(done | stuck))
        J = jacobian(x[act], act)
        J, rows = J if isinstance(J, tuple) else (J, None)
        rhs = -F[act] if rows is None else -np.take_along_axis(F[act], rows, axis=1)
        step = solve_linear(J, rhs)
        step = np.where(np.isfinite(step), step, 0.0)
        alpha = np.ones(act.size)
        todo = np.arange(act.size)
        for _ in range(_MAX_HALVINGS):  # backtracking: a loop over step sizes, not over members
            idx = act[todo]
            trial = x[idx] + alpha[todo, None] * step[todo]
            with np.errstate(all="ignore"):
                Ft = residual(trial, idx)
                mt = 0.5 * np.einsum("bi,bi->b", Ft, Ft)
            ok = np.isfinite(mt) & (mt <= (1 - 2 * _ARMIJO * alpha[todo]) * merit[idx])
            acc, k = idx[ok], todo[ok]
            x[acc], F[acc], merit[acc] = trial[ok], Ft[ok], mt[ok]
            tiny = (np.abs(alpha[k, None] * step[k]) <= _ROUNDING * (1 + np.abs(x[acc]))).all(axis=1)
            done[acc] = (np.abs(F[acc]).max(axis=1, initial=0.0) <= tol) | tiny
            todo = todo[~ok]
            if not todo.size:
                break
            alpha[todo] /= 2
        stuck[act[todo]] = True
    return x, F, done, it
