"""Priors of the elasticities: bundled literature values, user distributions, bounds and seeds."""

import numpy as np
import pytest
from scipy import stats

from tradesim import InputError
from tradesim.elasticities import Prior, list_priors, parameter_bounds, parameter_names, priors


def test_default_priors_are_centred_on_the_point_defaults_and_cite_their_papers():
    table = priors().describe().set_index("parameter")
    assert set(table.index) == {"sigma", "eta", "epsilon"}  # theta is sigma - 1: no prior of its own
    assert table.loc["sigma", "median"] == pytest.approx(2.75)  # the calibration of elasticities.csv
    assert table.loc["eta", "median"] == pytest.approx(1.0)  # Cobb-Douglas across products
    assert table.loc["epsilon", "median"] == np.inf and table.loc["epsilon", "distribution"] == "point"
    assert "calibration" in table.loc["sigma", "source"] and "Cobb-Douglas" in table.loc["eta", "source"]
    # 5th and 95th percentiles of a log-normal: median * exp(-+1.645 * log sd), as the data notes say
    z = stats.norm.ppf(0.95)
    for name, median, sd, shown in (("sigma", 2.75, 0.12, (2.25, 3.36)), ("eta", 1.0, 0.35, (0.56, 1.78))):
        band = (table.loc[name, "p5"], table.loc[name, "p95"])
        assert band == pytest.approx((median * np.exp(-z * sd), median * np.exp(z * sd)), rel=1e-9)
        assert band == pytest.approx(shown, abs=0.01)
    rows = list_priors()
    assert rows["source"].str.len().gt(10).all() and rows["verification"].notna().all()


def test_caliendo_parro_groups_map_hs_codes_to_sector_estimates():
    p = priors(theta="caliendo-parro-2015")["sigma"]  # a prior on theta is one on sigma = theta + 1
    assert p.shift == 1.0
    groups = p.group_of(["87", "870323", "8471", "84", "27", "2710", "01", "02", "7113", "71", "99"])
    labels = [p.groups[g][1] for g in groups]
    assert labels == ["Auto", "Auto", "Office machinery", "Machinery n.e.c.", "Mining", "Petroleum", "Agriculture",
                      "Food", "Other manufacturing", "Basic metals", "other products"]
    medians = p.describe().set_index("group")["median"]
    assert medians["Auto"] == pytest.approx(2.01) and medians["Petroleum"] == pytest.approx(52.08)
    # every HS chapter has a sector of its own, except the reserved and special ones
    chapters = [f"{c:02d}" for c in range(1, 98) if c != 77]
    own = [p.groups[g][1] for g in p.group_of(chapters)]
    assert [c for c, label in zip(chapters, own) if label == "other products"] == []


def test_groups_are_drawn_independently_and_products_of_a_group_share_a_draw():
    p = priors(theta="caliendo-parro-2015")
    s = p.sample(["87", "8703", "85"], draws=4000, seed=3)["sigma"] - 1  # theta
    assert (s[:, 0] == s[:, 1]).all()
    assert abs(np.corrcoef(np.log(s[:, 0]), np.log(s[:, 2]))[0, 1]) < 0.05
    # each group's draws of theta follow its log-normal: log sd 0.35 around the sector's estimate
    assert stats.kstest(s[:, 2], stats.lognorm(s=0.35, scale=10.6).cdf).pvalue > 0.01


def test_a_user_distribution_is_truncated_at_the_bounds_not_clipped():
    normal = stats.norm(1.0, 2.0)
    draws = priors(sigma=normal).sample(["01"], draws=20000, seed=0)["sigma"][:, 0]
    assert draws.min() > 0
    truncated = stats.truncnorm(-0.5, np.inf, loc=1.0, scale=2.0)  # the normal above 0
    assert stats.kstest(draws, truncated.cdf).pvalue > 0.01
    assert (draws == draws.min()).sum() == 1  # no mass piled at a bound, as clipping would
    bounded = Prior("sigma", ((("*",), "all", normal),), bounds=(1.5, 2.5)).sample(["01"], 5000,
                                                                                   np.random.default_rng(1))
    assert bounded.min() >= 1.5 and bounded.max() <= 2.5
    with pytest.raises(InputError, match="no probability inside the bounds"):
        Prior("sigma", ((("*",), "all", stats.uniform(-3, 1)),)).sample(["01"], 10, np.random.default_rng(0))


def test_arrays_of_draws_are_used_as_given_and_checked():
    values = np.array([1.5, 2.5, 3.5])
    s = priors(sigma=values).sample(["01", "02"], draws=3, seed=0)["sigma"]
    assert s.tolist() == [[1.5, 1.5], [2.5, 2.5], [3.5, 3.5]]
    with pytest.raises(InputError, match=r"draw 1 is -2.0 \(1 of 3 draws outside\); expected finite numbers in \(0, inf\)"):
        priors(sigma=[1.0, -2.0, 3.0])
    with pytest.raises(InputError, match="has 3 draws; the run asks for 5"):
        priors(sigma=values).sample(["01"], draws=5, seed=0)
    with pytest.raises(InputError, match=r"draws of shape \(2, 2\)"):
        priors(sigma=np.ones((2, 2)))
    assert priors(eta=[0.0, 1.0]).eta.groups[0][2].tolist() == [0.0, 1.0]  # eta may be zero


def test_mapping_by_hs_code_mixes_points_and_distributions():
    p = priors(sigma={"*": 2.0, "87": stats.uniform(3, 1)})
    s = p.sample(["01", "87", "8703"], draws=200, seed=5)["sigma"]
    assert (s[:, 0] == 2.0).all() and (s[:, 1] >= 3).all() and (s[:, 1] <= 4).all()
    assert (s[:, 1] == s[:, 2]).all() and s[:, 1].std() > 0.2
    with pytest.raises(InputError, match="no group for products"):
        priors(sigma={"87": 2.0}).sample(["01"], draws=2, seed=0)


def test_each_parameter_has_its_own_stream_so_adding_one_changes_no_other():
    p = priors()
    alone = p.sample(["01"], 100, seed=9, parameters=("sigma",))["sigma"]
    together = p.sample(["01"], 100, seed=9, parameters=parameter_names())
    assert np.array_equal(alone, together["sigma"])
    assert not np.array_equal(alone, p.sample(["01"], 100, seed=10, parameters=("sigma",))["sigma"])
    assert np.isinf(together["epsilon"]).all()


def test_bad_priors_are_reported():
    with pytest.raises(InputError, match="no bundled prior 'nope' for sigma; known"):
        priors(theta="nope")
    with pytest.raises(InputError, match="both sigma and theta are given"):
        priors(theta=4.0, sigma=5.0)
    with pytest.raises(InputError, match="unknown parameters"):
        priors(kappa=2.0)
    with pytest.raises(InputError, match="expected a finite number > 0"):
        priors(sigma=0.0)
    with pytest.raises(InputError, match="bounds"):
        Prior("sigma", ((("*",), "all", 4.0),), bounds=(-1, 5))
    with pytest.raises(InputError, match="outside the bounds"):
        Prior("sigma", ((("*",), "all", 9.0),), bounds=(1, 5))
    assert parameter_bounds("eta")[2] and not parameter_bounds("sigma")[2]
