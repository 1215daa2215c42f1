"""General equilibrium on the bundled scenarios: demo-2024's imputed domestic sales make it square and
complete, so every scenario on it runs in GE, from Python and from the command line."""

import warnings

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim.cli import main


def quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return f(*args, **kw)


@pytest.fixture(scope="module")
def runs():
    return {model: quiet(tradesim.simulate, None, "us-china-2025", model=model) for model in ("pe", "ge")}


def pair(r, exporter, importer):
    p = r.summary("pair")
    return p[(p.exporter == exporter) & (p.importer == importer)].set_index("date")["value_change_pct"]


def test_ge_and_pe_tell_the_same_story_on_the_us_china_pair(runs):
    # Both models take one elasticity (GE's theta = sigma - 1) and the same adjustment kernel; they
    # differ by GE's wage and income effects, by PE's fixed export prices (epsilon infinite) and by
    # the sources: PE on demo-2024 substitutes among imports only (domestic=False), GE also towards
    # the importer's own goods, so GE's falls are at least PE's.
    ge, pe = pair(runs["ge"], "CHN", "USA"), pair(runs["pe"], "CHN", "USA")
    assert ge.min() < -35 and pe.min() < -35  # the April peak cuts US imports from China by more than a third
    assert ge.min() <= pe.min()
    # US imports: China's goods compete with US goods mostly through other imports, so the two agree
    # within 4 points (a tenth) of a fall of about 40%
    np.testing.assert_allclose(ge.to_numpy(), pe.to_numpy(), atol=4.0)
    # US exports to China: China buys most of what it spends at home, and GE's substitution towards it
    # deepens the fall (by up to 9 points here)
    ge, pe = pair(runs["ge"], "USA", "CHN"), pair(runs["pe"], "USA", "CHN")
    assert pe.min() < -25 and ge.min() <= pe.min()  # the peak cuts US exports by more than a quarter


def test_ge_welfare_at_the_peak_falls_on_the_two_and_diverts_trade_to_third_countries(runs):
    s = runs["ge"].summary("country")
    may = s[s.date == pd.Timestamp("2025-05-01")].set_index("country")
    # equivalent variation splits exactly into real factor income and real tariff revenue
    np.testing.assert_allclose(may.welfare_usd, may.welfare_factor_income_usd + may.welfare_revenue_usd,
                               rtol=1e-9, atol=1.0)
    assert may.loc["USA", "real_income_change_pct"] < 0 and may.loc["CHN", "real_income_change_pct"] < 0
    # Viet Nam, the largest alternative supplier of US electronics imports, gains most
    assert may["real_income_change_pct"].idxmax() == "VNM"
    # only the two taxing countries collect more tariff revenue
    assert set(may.index[may.welfare_revenue_usd != 0]) == {"USA", "CHN"}


@pytest.mark.parametrize("name", ["phased-cut", "escalation"])
def test_other_scenarios_on_demo_2024_run_in_ge(name):
    r = quiet(tradesim.simulate, None, name, model="ge")
    assert r.model == "ge" and np.isfinite(r.flows).all() and (r.flows >= 0).all()
    income = r.summary("country").pivot(index="date", columns="country", values="real_income_change_pct")
    assert np.isfinite(income.to_numpy()).all()
    assert income["CHN"].min() < 0  # China loses in every variant of the tariff war


def test_ge_on_the_rectangle_of_us_imports_says_what_to_use(tmp_path, capsys):
    # a baseline given explicitly is used as it is: a rectangle is an error naming what to use
    us_imports = tradesim.load_baseline("us-imports-2024")
    with pytest.raises(tradesim.InputError, match="same countries on both axes.*demo-2024"):
        quiet(tradesim.simulate, us_imports, "tariffs-2025", model="ge")
    assert main(["run", "us-china-2025", "--model", "ge", "--out", str(tmp_path / "ge")]) == 0
    out = capsys.readouterr().out
    assert "model ge" in out and "real_income_change_pct" in out


def test_the_scenarios_on_us_imports_run_in_ge_on_their_world_baseline(tmp_path, capsys):
    # tariffs-2025 and its variants weigh the law with US imports only; GE runs them on the world baseline they
    # name (demo-2024, with fine-values-2024), and says so. One month keeps the test short.
    short = tmp_path / "short.toml"
    short.write_text('[scenario]\nextends = "tariffs-2025"\nname = "short"\nstart = 2025-04-01\nend = 2025-04-30\n')
    assert main(["run", str(short), "--model", "ge", "--out", str(tmp_path / "out"), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert ("model 'ge' needs every country on both axes: this run is on demo-2024 (16 economies, 98 products), "
            "the scenario's world baseline, not on us-imports-2024") in captured.err
    assert "baseline demo-2024" in captured.out and "model ge" in captured.out
    run = __import__("json").loads((tmp_path / "out" / "run.json").read_text())
    assert run["model"] == "ge" and run["baseline"]["name"] == "demo-2024"
    pairs = pd.read_csv(tmp_path / "out" / "summary_pairs.csv")
    april = pairs[(pairs.date == "2025-04-01")].set_index(["exporter", "importer"])
    assert april.loc[("CHN", "USA"), "tariff_pct"] > 60  # the April escalation reaches the world baseline's cells
    countries = pd.read_csv(tmp_path / "out" / "summary_countries.csv")
    assert np.isfinite(countries["real_income_change_pct"]).all() and len(set(countries.country)) == 16
