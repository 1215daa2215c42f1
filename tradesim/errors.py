"""Exceptions raised by tradesim.

Every error says what was wrong, where (file, key path or row, column) and
what was expected, so that an analyst can fix the input without reading code.
"""

from __future__ import annotations

__all__ = ["TradesimError", "InputError", "ScenarioError", "ConvergenceError", "TradesimWarning"]


class TradesimError(Exception):
    """Base class of every error tradesim raises on purpose."""


class InputError(TradesimError, ValueError):
    """Bad data or arguments: unknown codes, negative or NaN values, wrong shapes.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    source : str, optional
        The file, frame or argument the bad value came from.
    key : str, optional
        The row, column or key path of the bad value (``row 12``, ``column 'v'``).
    """

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.message = message
        self.source = None if source is None else str(source)
        self.key = key
        super().__init__(self._format())

    def _format(self) -> str:
        parts = [p for p in (self.source, self.key) if p]
        return ": ".join([*parts, self.message])


class ScenarioError(InputError):
    """A problem in a scenario or schedule file.

    Carries the file, the line when known and the key path (``measures[3].rate_pct``).
    Several problems found in one file are collected in ``problems`` and reported together.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key: str | None = None,
        line: int | None = None,
        problems: list[ScenarioError] | None = None,
    ):
        self.line = line
        self.problems = list(problems or [])
        where = None if source is None else (f"{source}:{line}" if line else str(source))
        super().__init__(message, source=where, key=key)


class ConvergenceError(TradesimError, ArithmeticError):
    """A solver stopped before reaching its tolerance.

    Parameters
    ----------
    message : str
        What failed.
    iterations : int
        Iterations done before stopping.
    residual : float
        Largest absolute residual at the last iterate.
    tol : float
        The tolerance that was asked for.
    draws : sequence of int, optional
        Positions on the leading draw axis of the problems that failed, when the solver
        knows them (so an ensemble can set those draws aside and keep the others).
    """

    def __init__(self, message: str, *, iterations: int, residual: float, tol: float, draws=()):
        self.iterations = iterations
        self.residual = residual
        self.tol = tol
        self.draws = tuple(sorted({int(d) for d in draws}))
        self.detail = message  # without the numbers appended below
        super().__init__(
            f"{message} (max residual {residual:.3g} > tol {tol:.3g} after {iterations} iterations)"
        )


class TradesimWarning(UserWarning):
    """Something was done that the user should know about: a fallback, a remapping, rows set aside."""
