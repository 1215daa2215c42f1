"""The numerical steps of the demo-2024 build, against closed forms and synthetic truths."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import build_demo_2024 as build  # noqa: E402

sys.path.pop(0)


def test_balance_chapters_closed_form():
    shares = np.array([10.0, 30.0, 60.0])
    # No binding floor: a plain proportional scaling.
    values, held = build.balance_chapters(shares, np.zeros(3), 200.0)
    np.testing.assert_allclose(values, [20, 60, 120])
    assert not held.any()
    # A floor of 100 on the first chapter: f solves 100 + 90 f = 200, so f = 10/9.
    values, held = build.balance_chapters(shares, np.array([100.0, 0, 0]), 200.0)
    np.testing.assert_allclose(values, [100, 30 * 10 / 9, 60 * 10 / 9], rtol=1e-12)
    assert held.tolist() == [True, False, False]
    with pytest.raises(ValueError, match="exceed the pair total"):
        build.balance_chapters(shares, np.array([300.0, 0, 0]), 200.0)


def test_round_preserving_sum():
    values = np.array([0.4, 0.4, 0.4, 1.8])
    out = build.round_preserving_sum(values, 3)
    assert out.sum() == 3 and np.all(np.abs(out - values) < 1)


def test_gravity_fit_recovers_known_coefficients():
    rng = np.random.default_rng(7)
    n, p = 12, 3
    X = np.concatenate([np.ones((n, n, 1)), rng.normal(size=(n, n, p - 1))], axis=-1)
    offset = rng.normal(size=(n, n))
    beta = np.array([1.0, -0.8, 0.5])
    truth = np.exp(X @ beta + offset) * 1e9
    known = ~np.eye(n, dtype=bool) & (rng.random((n, n)) < 0.6)
    fitted, est = build.fit_gravity(truth, known, X, offset)
    np.testing.assert_allclose(est, beta, atol=1e-8)  # exact data: PPML returns the truth
    np.testing.assert_allclose(fitted, truth, rtol=1e-7)
