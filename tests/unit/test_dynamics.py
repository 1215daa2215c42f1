"""Time paths: periods and pieces, the elasticity path, partial adjustment and front-loading, against closed forms."""

import dataclasses
import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import InputError, Measure, TariffSchedule
from tradesim.scenario.dynamics import (
    BLP_HALF_LIFE_MONTHS,
    BLP_SHORT_RUN_SHARE,
    Dynamics,
    adjustment_weight,
    elasticity_multiplier,
    partial_adjustment,
    periods,
    pieces,
)
from tradesim.scenario import Scenario


def test_periods_start_on_the_first_day_and_each_anchor():
    s, e = periods("2025-01-01", "2025-12-31", "monthly")
    assert len(s) == 12 and (s[1:] == e[:-1]).all()
    assert str(e[-1].date()) == "2026-01-01"
    s, e = periods("2025-02-10", "2025-06-30", "quarterly")
    assert [str(d.date()) for d in s] == ["2025-02-10", "2025-04-01"] and str(e[-1].date()) == "2025-07-01"
    with pytest.raises(InputError, match="not a frequency"):
        periods("2025-01-01", "2025-02-01", "fortnightly")
    with pytest.raises(InputError, match="before start"):
        periods("2025-02-01", "2025-01-01")


def test_pieces_cut_at_changes_and_weights_are_day_shares():
    s, e = periods("2025-04-01", "2025-05-31")
    p = pieces(s, e, ["2025-04-10", "2025-05-14", "2024-01-01", "2030-01-01"])  # the last two are outside
    assert [str(d.date()) for d in p.start] == ["2025-04-01", "2025-04-10", "2025-05-01", "2025-05-14"]
    assert p.weight.tolist() == pytest.approx([9 / 30, 21 / 30, 13 / 31, 18 / 31])
    assert np.bincount(p.period, weights=p.weight).tolist() == pytest.approx([1, 1])
    assert p.to_periods(np.array([1.0, 2.0, 3.0, 4.0])).tolist() == pytest.approx(
        [(9 + 42) / 30, (39 + 72) / 31])


def test_blp_defaults_reproduce_both_published_elasticities():
    # Boehm, Levchenko and Pandalai-Nayar: 0.76 after one year, 2.0 in the long run
    assert 2.0 * BLP_SHORT_RUN_SHARE == pytest.approx(0.76)
    d = Dynamics(adjustment="elasticity")
    m = elasticity_multiplier([0.2, 1.0, 4.0, 7.0, 30.0], d)
    assert (2.0 * m).tolist() == pytest.approx([0.76, 0.76, 0.76 + 1.24 / 2, 2.0, 2.0])
    # the partial-adjustment half-life is the one that reaches the same share after a year
    assert adjustment_weight([1.0], BLP_HALF_LIFE_MONTHS)[0] == pytest.approx(BLP_SHORT_RUN_SHARE)
    assert 2.0 * adjustment_weight([7.0], BLP_HALF_LIFE_MONTHS)[0] == pytest.approx(1.93, abs=0.005)
    assert elasticity_multiplier([0.5], Dynamics(adjustment="none")).tolist() == [1.0]


def test_partial_adjustment_of_two_moves_is_the_sum_of_their_kernels():
    half = 6.0
    targets = np.array([1.0, 0.5, 0.8])  # baseline, then two regimes
    days = ["2025-01-01", "2025-01-01", "2025-07-01"]
    times = pd.DatetimeIndex(["2025-01-01", "2025-04-01", "2025-10-01", "2030-01-01"])
    got = partial_adjustment(targets, days, times, half, log=True)
    h1 = (times - pd.Timestamp("2025-01-01")).days / 365.25
    h2 = np.clip((times - pd.Timestamp("2025-07-01")).days / 365.25, 0, None)
    w = lambda h: 1 - 2 ** (-12 * h / half)  # noqa: E731
    want = np.exp(w(h1) * math.log(0.5) + w(h2) * math.log(0.8 / 0.5))
    assert got.tolist() == pytest.approx(list(want))
    assert got[-1] == pytest.approx(0.8, rel=1e-3)  # nearly there after five years


def test_dynamics_values_are_checked():
    with pytest.raises(InputError, match="dynamics.adjustment"):
        Dynamics(adjustment="fast")
    with pytest.raises(InputError, match="dynamics.short_run_share"):
        Dynamics(short_run_share=1.5)
    with pytest.raises(InputError, match="dynamics.front_loading"):
        Dynamics(front_loading=-1)
    # ill-posed adjustment: the parameter, the value and the allowed range
    with pytest.raises(InputError, match=r"dynamics.half_life_months: is 0; expected a number of months > 0"):
        Dynamics(half_life_months=0)
    with pytest.raises(InputError, match=r"dynamics.half_life_months: is -2; expected a number of months > 0"):
        Dynamics(half_life_months=-2)
    with pytest.raises(InputError, match=r"dynamics.persistence: is 1.5; expected a share in \[0, 1\]"):
        Dynamics(persistence=1.5)
    with pytest.raises(InputError, match=r"dynamics.persistence: is -0.1; expected a share in \[0, 1\]"):
        Dynamics(persistence=-0.1)
    with pytest.raises(InputError, match="persistence needs adjustment = 'partial'"):
        Dynamics(adjustment="elasticity", persistence=0.2)


# --------------------------------------------------------------------------- on a small economy


def small_baseline():
    rng = np.random.default_rng(7)
    flows = rng.uniform(1, 10, size=(3, 3, 3)) * 1e9
    frame = pd.DataFrame([(p, e, i, flows[k, a, b]) for k, p in enumerate(["01", "02", "03"])
                          for a, e in enumerate(["USA", "CHN", "MEX"]) for b, i in enumerate(["USA", "CHN", "MEX"])
                          if a != b], columns=["product", "exporter", "importer", "value"])
    return tradesim.Baseline.from_frame(frame, year=2024, domestic=False, countries=["USA", "CHN", "MEX"])


def scenario(measures, **kw):
    base = dict(name="t", description="", baseline="unused", schedule=TariffSchedule(measures),
                start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), reference=dt.date(2024, 12, 31))
    return Scenario(**{**base, **kw})


def run(measures, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(small_baseline(), scenario(measures, **kw))


def static(baseline, tariff, share):
    """The PE equilibrium with sigma and eta at `share` of their long-run defaults."""
    e = tradesim.Elasticities.defaults()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(baseline, np.zeros_like(tariff), tariff,
                                 elasticities={"sigma": e.sigma * share, "eta": e.eta * share}).solution


def test_a_month_is_the_day_weighted_mean_and_a_year_is_the_mean_of_its_months():
    m = Measure("x", "USA", 0.5, "2025-04-10", exporters=["CHN"])
    r = run((m,), dynamics=Dynamics(adjustment="none"))
    b = r.baseline
    tariff = np.zeros(b.flows.shape)
    tariff[:, 1, 0] = 0.5
    after = static(b, tariff, 1.0).flows_after
    april = r.dates.get_loc(pd.Timestamp("2025-04-01"))
    assert r.flows[april] == pytest.approx((9 * b.flows + 21 * after) / 30, rel=1e-12)
    assert r.tariff[april][:, 1, 0] == pytest.approx(np.full(3, 0.5 * 21 / 30))
    days_before = (dt.date(2025, 4, 10) - dt.date(2025, 1, 1)).days
    year = (days_before * b.flows + (365 - days_before) * after) / 365
    # months have unequal lengths, so the plain mean of the 12 months is the year up to that
    month_days = np.diff(r.dates.append(r.period_ends[-1:]).values).astype("timedelta64[D]").astype(float)
    weighted = np.tensordot(month_days / month_days.sum(), r.flows, axes=1)
    assert weighted == pytest.approx(year, rel=1e-12)
    assert r.flows.mean(axis=0) == pytest.approx(year, rel=0.01)


def test_the_elasticity_path_uses_the_short_run_elasticity_in_the_first_year():
    m = Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])
    r = run((m,), end=dt.date(2032, 12, 1), frequency="annual", dynamics=Dynamics(adjustment="elasticity"))
    b = r.baseline
    tariff = np.zeros(b.flows.shape)
    tariff[:, 1, 0] = 0.5
    assert r.elasticity_multiplier[0] == pytest.approx(BLP_SHORT_RUN_SHARE)
    assert r.flows[0] == pytest.approx(static(b, tariff, BLP_SHORT_RUN_SHARE).flows_after, rel=1e-9)
    assert r.flows[-1] == pytest.approx(static(b, tariff, 1.0).flows_after, rel=1e-9)  # year 8: long run
    us_from_china = r.flows[:, :, 1, 0].sum(axis=1)
    assert (np.diff(us_from_china) <= 1e-6).all()  # falls as the elasticity rises


def test_partial_adjustment_moves_flows_with_the_half_life():
    m = Measure("x", "USA", 0.5, "2025-01-01", exporters=["CHN"])
    r = run((m,), dynamics=Dynamics(adjustment="partial", half_life_months=12), frequency="daily",
            end=dt.date(2025, 1, 3))
    b = r.baseline
    tariff = np.zeros(b.flows.shape)
    tariff[:, 1, 0] = 0.5
    target = static(b, tariff, 1.0)
    h = 1.5 / 365.25  # the middle of the second day
    w = 1 - 2 ** (-h)
    cell = (0, 1, 0)
    want = b.flows[cell] * (target.flows_after[cell] / b.flows[cell]) ** w
    assert r.flows[1][cell] == pytest.approx(want, rel=1e-9)
    assert r.buyer_price[1][cell] == pytest.approx(target.buyer_price[cell])  # prices move at once


def test_front_loading_moves_trade_in_time_and_keeps_its_total():
    m = Measure("x", "USA", 0.5, "2025-03-01", exporters=["CHN"], announced="2025-02-01")
    plain = run((m,), frequency="daily", end=dt.date(2025, 8, 31), dynamics=Dynamics(front_loading=0))
    dyn = Dynamics(front_loading=0.8, payback_months=2)
    ahead = run((m,), frequency="daily", end=dt.date(2025, 8, 31), dynamics=dyn)
    cell = (0, 1, 0)
    feb = plain.dates.get_loc(pd.Timestamp("2025-02-10"))
    assert ahead.flows[feb][cell] / plain.flows[feb][cell] == pytest.approx(1 + 0.8 * math.log(1.5))
    jan = plain.dates.get_loc(pd.Timestamp("2025-01-20"))
    assert ahead.flows[jan][cell] == pytest.approx(plain.flows[jan][cell])
    assert ahead.flows[:, 1, 0].sum() == pytest.approx(plain.flows[:, 1, 0].sum(), rel=1e-12)  # same total
    april = plain.dates.get_loc(pd.Timestamp("2025-04-15"))
    assert ahead.flows[april][cell] < plain.flows[april][cell]  # taken back in the two months after the rise
    aug = plain.dates.get_loc(pd.Timestamp("2025-08-01"))
    assert ahead.flows[aug][cell] == pytest.approx(plain.flows[aug][cell])
    # revenue: the goods bought ahead pay the old (zero) rate
    assert ahead.revenue.sum() < plain.revenue.sum()
    too_much = dataclasses.replace(dyn, front_loading=50, payback_months=0.5)
    with pytest.raises(InputError,
                       match=r"measures starting 2025-03-01 takes back more .*dynamics\.front_loading \(50"):
        run((m,), frequency="daily", end=dt.date(2025, 8, 31), dynamics=too_much)


def test_a_halt_in_the_payback_takes_nothing_back_on_its_days():
    """Goods bought ahead of a rise are taken back evenly over the payback, except on days the cell's trade is
    halted (it imports nothing, the stock standing in for it): the path keeps that share of the stock."""
    rise = Measure("x", "USA", 0.5, "2025-03-01", exporters=["CHN"], announced="2025-02-01")
    halt = Measure("h", "USA", start="2025-04-01", end="2025-05-01", rule="halt", exporters=["CHN"], products=["01"])
    kw = dict(frequency="daily", end=dt.date(2025, 8, 31))
    plain = run((rise, halt), dynamics=Dynamics(front_loading=0), **kw)
    ahead = run((rise, halt), dynamics=Dynamics(front_loading=0.8, payback_months=3), **kw)
    days = plain.dates
    halted = (days >= "2025-04-01") & (days < "2025-05-01")
    window = (days >= "2025-02-01") & (days < "2025-03-01")
    payback = (days >= "2025-03-01") & (days < pd.Timestamp("2025-03-01") + pd.Timedelta(days=round(3 * 365.25 / 12)))
    cell, other = (slice(None), 0, 1, 0), (slice(None), 1, 1, 0)
    assert (ahead.flows[cell][halted] == 0).all() and (plain.flows[cell][halted] == 0).all()
    bought = (ahead.flows[cell] - plain.flows[cell])[window].sum()
    assert bought > 0
    # open payback days give back their share of the stock; the halted 30 of its 91 days keep theirs
    kept = ahead.flows[cell].sum() - plain.flows[cell].sum()
    assert kept == pytest.approx(bought * halted.sum() / payback.sum(), rel=1e-9)
    assert ahead.flows[other].sum() == pytest.approx(plain.flows[other].sum(), rel=1e-12)  # no halt: all back
