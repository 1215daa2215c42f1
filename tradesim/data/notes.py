"""Telling the user what the data layer did: one `TradesimWarning` per call, at the user's own line."""

from __future__ import annotations

from ..errors import TradesimWarning
from ..files import warn_at_caller

__all__ = ["warn_user"]


def warn_user(message: str, category: type[Warning] = TradesimWarning) -> None:
    """Issue `message` as a warning at the line of the user's code that called into tradesim.

    The data layer's readers collect what they did (countries converted, rows set aside,
    economies folded into ``ROW``, an HS conversion) and say it once, through this function:
    `tradesim.files.warn_at_caller` walks the stack to the first frame outside the package, so
    a warning raised three calls deep (``open_baseline`` -> ``read_baci`` -> here) still points
    at the user's script or notebook cell, and inside `tradesim.files.once_per_call` a message is
    not repeated.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_user("rows set aside")
    >>> str(caught[0].message), caught[0].category.__name__
    ('rows set aside', 'TradesimWarning')
    """
    warn_at_caller(message, category)
