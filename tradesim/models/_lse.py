"""Log-sum-exp with the shares it implies, shared by the models."""

from __future__ import annotations

import numpy as np

__all__ = ["softmax"]

_SAFE_SUM = 1e250  # sums of exponentials inside (1 / this, this) need no shift to stay exact


def softmax(z: np.ndarray, axis: int, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-sum-exp of `z` along `axis` (kept) and the shares ``exp(z - lse)``; `z` may be overwritten.

    `present` marks the sums that have a finite term (the others are -inf with zero shares).
    One ``exp`` over the array, which the shares reuse; the shift by the maximum (two more
    passes) only when some sum would overflow or underflow without it.
    """
    with np.errstate(over="ignore"):
        e = np.exp(z)
    total = np.sum(e, axis=axis, keepdims=True)
    m = 0.0
    if not ((total < _SAFE_SUM) & ((total > 1 / _SAFE_SUM) | ~present)).all():
        m = np.max(z, axis=axis, keepdims=True)
        m[~np.isfinite(m)] = 0.0
        np.exp(np.subtract(z, m, out=z), out=e)
        total = np.sum(e, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        lse = np.log(total) + m
    total[total == 0] = 1.0
    e /= total
    return lse, e
