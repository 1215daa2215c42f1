"""PPML gravity: exact recovery on noiseless data, adding-up of fitted flows, cost changes, bad input."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("statsmodels", reason="gravity estimation needs the optional statsmodels (tradesim[gravity])")

from tradesim.errors import InputError  # noqa: E402
from tradesim.models.gravity import ppml  # noqa: E402


def gravity_frame(rng, n=12, noise=0.0):
    """Flows drawn from a gravity model with known coefficients (and optional Poisson-like noise)."""
    codes = [f"C{k:02d}" for k in range(n)]
    out = rng.lognormal(3, 1, n)
    inn = rng.lognormal(3, 1, n)
    xy = rng.uniform(0, 10, (n, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + 1.0
    border = 1.0 - np.eye(n)
    contig = (dist < 3.0) * border
    mean = out[:, None] * inn[None] * dist**-0.9 * np.exp(-1.7 * border + 0.5 * contig)
    trade = mean * (rng.gamma(1 / noise**2, noise**2, mean.shape) if noise else 1.0)
    i, j = np.indices((n, n))
    return pd.DataFrame({"exporter": np.array(codes)[i.ravel()], "importer": np.array(codes)[j.ravel()],
                         "trade": trade.ravel(), "ln_dist": np.log(dist).ravel(), "border": border.ravel(),
                         "contig": contig.ravel()})


noiseless = pytest.mark.filterwarnings(  # a perfect fit is "perfect prediction" to statsmodels
    "ignore::statsmodels.tools.sm_exceptions.PerfectSeparationWarning")


@noiseless
def test_noiseless_gravity_is_recovered_exactly():
    frame = gravity_frame(np.random.default_rng(1))
    fit = ppml(frame, ["ln_dist", "border", "contig"])
    np.testing.assert_allclose(fit.coefficients[["ln_dist", "border", "contig"]], [-0.9, -1.7, 0.5], atol=1e-7)
    np.testing.assert_allclose(fit.fitted, frame["trade"], rtol=1e-7)


def test_fitted_flows_add_up_to_output_and_spending():
    frame = gravity_frame(np.random.default_rng(2), noise=0.5)
    fit = ppml(frame, ["ln_dist", "border"])
    observed, fitted = fit.flows(fitted=False), fit.flows()
    assert not np.allclose(observed, fitted)  # the noise is not fitted away
    np.testing.assert_allclose(fitted.sum(axis=1), observed.sum(axis=1), rtol=1e-8)
    np.testing.assert_allclose(fitted.sum(axis=0), observed.sum(axis=0), rtol=1e-8)
    table = fit.table()
    assert list(table.index) == ["ln_dist", "border"] and (table["std_error"] > 0).all()
    np.testing.assert_allclose(table["z"], table["coefficient"] / table["std_error"])


@noiseless
def test_trade_cost_change_removes_a_variable():
    frame = gravity_frame(np.random.default_rng(3))
    fit = ppml(frame, ["ln_dist", "border", "contig"])
    d_hat = fit.trade_cost_change({"border": 0.0}, theta=5.0)
    expected = np.where(np.eye(12, dtype=bool), 1.0, np.exp(-1.7 / 5.0))
    np.testing.assert_allclose(d_hat, expected, rtol=1e-6)
    d_dist = fit.trade_cost_change({"ln_dist": frame["ln_dist"] + np.log(2)}, theta=4.0)  # distances double
    np.testing.assert_allclose(d_dist, 2 ** (0.9 / 4.0), rtol=1e-6)
    with pytest.raises(InputError, match="not cost variables"):
        fit.trade_cost_change({"tariff": 0.0}, theta=4.0)
    with pytest.raises(InputError, match="theta"):
        fit.trade_cost_change({"border": 0.0}, theta=0.0)


@noiseless
def test_missing_pairs_are_absent_not_zero_cost():
    frame = gravity_frame(np.random.default_rng(4)).iloc[1:]  # C00 -> C00 missing
    fit = ppml(frame, ["ln_dist", "border"])
    assert fit.flows()[0, 0] == 0 and fit.trade_cost_change({"border": 0.0}, theta=4.0)[0, 0] == 1


def test_bad_input_names_row_and_column():
    frame = gravity_frame(np.random.default_rng(5), n=4)
    with pytest.raises(InputError, match=r"columns \['distance'\] are missing"):
        ppml(frame, ["distance"])
    bad = frame.copy()
    bad.loc[5, "trade"] = -1.0
    with pytest.raises(InputError, match="row 5; expected a flow >= 0"):
        ppml(bad, ["ln_dist"])
    bad = frame.copy()
    bad.loc[7, "ln_dist"] = np.nan
    with pytest.raises(InputError, match="row 7; expected a finite number") as err:
        ppml(bad, ["ln_dist"])
    assert err.value.key == "ln_dist"
    with pytest.raises(InputError, match="appears twice"):
        ppml(pd.concat([frame, frame.iloc[[2]]]), ["ln_dist"])
    with pytest.raises(InputError, match="at least one"):
        ppml(frame, [])
