"""Invariants of the stacking rules, on random schedules."""

import datetime as dt
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradesim import Measure, ProductList, TariffSchedule
from tradesim.errors import TradesimWarning

PRODUCTS = ["01", "0101", "010121", "72", "7208", "8471", "847130", "85", "8542", "85423100", "9503"]
CODES = ["01", "0101", "72", "7208", "84", "8471", "847130", "85", "8542", "854231", "85423100", "9503"]
COUNTRIES = ["CHN", "USA", "VNM", "MEX"]
DAY0 = dt.date(2025, 1, 1)

codes = st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True)


@st.composite
def measures(draw, n_max=5):
    n = draw(st.integers(1, n_max))
    out = []
    for k in range(n):
        start = DAY0 + dt.timedelta(days=draw(st.integers(0, 300)))
        end = draw(st.one_of(st.none(), st.integers(1, 300).map(lambda d, s=start: s + dt.timedelta(days=d))))
        out.append(
            Measure(
                f"m{k}",
                draw(st.sampled_from(["USA", "CHN"])),
                draw(st.floats(0, 3, allow_nan=False)),
                start,
                end=end,
                exporters=draw(st.one_of(st.none(), st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3, unique=True))),
                products=draw(st.one_of(st.none(), codes)),
                group=draw(st.sampled_from([None, None, "g1", "g2"])),
                coverage=draw(st.sampled_from([1.0, 1.0, 0.5])),
            )
        )
    return out


def rates(schedule, date):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        return schedule.rates(date, PRODUCTS, COUNTRIES, COUNTRIES)


dates = st.integers(0, 500).map(lambda d: DAY0 + dt.timedelta(days=d))


@settings(max_examples=60, deadline=None)
@given(ms=measures(), date=dates, exempt=codes, which=st.integers(0, 4))
def test_an_exemption_never_raises_a_rate(ms, date, exempt, which):
    target = ms[which % len(ms)]
    lists = [ProductList("ex", exempt)]
    before = rates(TariffSchedule(ms, lists), date)
    ms2 = [Measure(**{**vars(m), "exclude": ("ex",)}) if m is target else m for m in ms]
    after = rates(TariffSchedule(ms2, lists), date)
    assert (after <= before + 1e-12).all()


@settings(max_examples=60, deadline=None)
@given(ms=measures(n_max=4), date=dates, extra=measures(n_max=1), replaces=st.booleans())
def test_a_measure_outside_its_dates_changes_nothing(ms, date, extra, replaces):
    m = extra[0]
    out = Measure(**{**vars(m), "name": "late", "start": date + dt.timedelta(days=1), "end": None,
                     "replaces": tuple(x.name for x in ms) if replaces else ()})
    # atol: a subnormal rate (5e-324) may round to 0 when other measures stack on it
    np.testing.assert_allclose(rates(TariffSchedule([*ms, out]), date), rates(TariffSchedule(ms), date), atol=1e-300)


@settings(max_examples=60, deadline=None)
@given(ms=measures(), date=dates, seed=st.integers(0, 2**16))
def test_the_order_of_measures_does_not_matter(ms, date, seed):
    ms = [Measure(**{**vars(m), "replaces": ("m0",) if m.name == "m1" else ()}) for m in ms]
    shuffled = [ms[i] for i in np.random.default_rng(seed).permutation(len(ms))]
    np.testing.assert_allclose(rates(TariffSchedule(ms), date), rates(TariffSchedule(shuffled), date))


@settings(max_examples=60, deadline=None)
@given(a_codes=codes, b_codes=codes, ra=st.floats(0.01, 3), rb=st.floats(0.01, 3), date=dates)
def test_a_replaced_measure_and_its_replacement_never_both_apply(a_codes, b_codes, ra, rb, date):
    a = Measure("a", "USA", ra, DAY0, products=a_codes, replaces=["b"])
    b = Measure("b", "USA", rb, DAY0, products=b_codes)
    s = TariffSchedule([a, b])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        for p in PRODUCTS:
            table = s.explain(date, p, "CHN", "USA").set_index("measure")
            applied = table[table.status == "applied"]
            shares = applied["share"].groupby(level=0).sum()
            # on every part of the product at most one of the two applies
            assert shares.get("a", 0) + shares.get("b", 0) <= 1 + 1e-12
            total = table.loc["total", "contribution_pct"]
            assert total <= 100 * max(ra, rb) + 1e-9


@settings(max_examples=60, deadline=None)
@given(ms=measures(n_max=6), days=st.lists(dates, min_size=1, max_size=8))
def test_the_law_for_all_dates_at_once_equals_each_date_alone(ms, days):
    """`rates_path` evaluates every regime in one pass; it must equal `rates` date by date, and the
    parts that `parts_path` cuts must add back (weighted by their shares of trade) to the same rates."""
    schedule = TariffSchedule(ms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        path = schedule.rates_path(days, PRODUCTS, COUNTRIES, COUNTRIES)
        parts = schedule.parts_path(days, PRODUCTS, COUNTRIES, COUNTRIES)
    one_by_one = np.stack([rates(schedule, d) for d in days])
    np.testing.assert_allclose(path, one_by_one, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(parts.collapse(parts.rates, parts.share), one_by_one, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(ms=measures(), date=dates, pairs=st.lists(st.sampled_from([(e, i) for e in COUNTRIES for i in ("USA", "CHN")
                                                                   if e != i]), min_size=1, max_size=4, unique=True),
       by_exporter=st.dictionaries(st.sampled_from(COUNTRIES), st.floats(0, 3, allow_nan=False), max_size=3),
       replaces=st.lists(st.sampled_from(["m0", "m1", "g1", "g2"]), max_size=2, unique=True))
def test_a_view_is_the_law_on_its_pairs_and_nothing_elsewhere(ms, date, pairs, by_exporter, replaces):
    import dataclasses

    known = {m.name for m in ms} | {m.group for m in ms if m.group}
    ms = [dataclasses.replace(ms[0], exporter_rates=by_exporter or None,
                              replaces=tuple(r for r in replaces if r in known and r != ms[0].name)), *ms[1:]]
    law = TariffSchedule(ms)
    reached = {(e, m.importer) for m in law.measures for e in COUNTRIES if m.exporter_mask(np.array([e]))[0]}
    pairs = [p for p in pairs if p in reached]
    if not pairs:
        return
    full, view = rates(law, date), rates(law.view(pairs), date)
    on = np.zeros((len(COUNTRIES), len(COUNTRIES)), bool)
    for e, i in pairs:
        on[COUNTRIES.index(e), COUNTRIES.index(i)] = True
    assert np.allclose(view[:, on], full[:, on], rtol=0, atol=1e-12)
    assert (view[:, ~on] == 0).all()
