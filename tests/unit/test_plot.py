"""Plot helpers: what they draw equals the result's numbers, and bad arguments are clear errors."""

import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import tradesim  # noqa: E402
from tradesim import InputError, plot  # noqa: E402
from tradesim.codes import SECTIONS, hs_section  # noqa: E402
from tradesim.law import effective_rate  # noqa: E402


@pytest.fixture(scope="module")
def path():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(None, "china-exemptions")


@pytest.fixture(scope="module")
def peak():
    base = tradesim.load_baseline("demo-2024")
    s = tradesim.load_schedule("us-china-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        return tradesim.simulate(base, (s, "2024-12-31"), (s, "2025-04-14"), domestic=False)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def ax():
    return plt.subplots()[1]


def step_values(line):
    """Values of a step line drawn by the helpers: one per period (the last point repeats)."""
    return np.asarray(line.get_ydata(), float)[:-1]


# --------------------------------------------------------------------------- over time


def test_trade_path_draws_the_pairs_imports_and_the_counterfactual(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        other = tradesim.simulate(None, path.scenario.counterfactual())
    a = plot.trade_path(path, "imports", [("USA", "CHN")], against=other, ax=ax())
    solid, dashed = a.get_lines()[:2]
    expected = path.flows[:, :, 0, 1].sum(axis=1) / 1e9
    np.testing.assert_allclose(step_values(solid), expected, rtol=1e-12)
    np.testing.assert_allclose(step_values(dashed), other.flows[:, :, 0, 1].sum(axis=1) / 1e9, rtol=1e-12)
    assert dashed.get_linestyle() == "--" and solid.get_label() == "China from United States"
    assert a.get_ylabel() == "imports, USD bn per year"


def test_trade_path_baseline_level_and_tariff(path):
    a = plot.trade_path(path, "tariff", [("CHN", "USA")], ax=ax())
    line, level = a.get_lines()[:2]
    base = path.baseline.flows[:, 1, 0]
    np.testing.assert_allclose(step_values(line), 100 * (path.tariff[:, :, 1, 0] * base).sum(axis=1) / base.sum())
    assert level.get_ydata()[0] == pytest.approx(100 * (path.tariff_reference[:, 1, 0] * base).sum() / base.sum())


def test_tariff_timeline_stacks_layers_to_the_trade_weighted_statutory_rate(path):
    a = plot.tariff_timeline(path, "USA", "CHN", ax=ax())
    polys = a.collections[:2]
    labels = [p.get_label() for p in polys]
    assert labels == ["MFN", "Retaliation"]  # China's layers of law on US goods (tariffs-2025/china.toml)
    # the top of the stack on 12 April 2025 (125% with the waivers removed): the schedule's trade-weighted rate,
    # the halted US LNG (since March 1) left out
    b, s = path.baseline, path.scenario.schedule
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        expected = 100 * effective_rate(s, b, "2025-04-12", "CHN", "USA")
    top = polys[-1].get_paths()[0].vertices
    x12 = matplotlib.dates.date2num(pd.Timestamp("2025-04-12"))
    assert top[np.isclose(top[:, 0], x12), 1].max() == pytest.approx(expected, rel=1e-9)
    effective = next(line for line in a.get_lines() if line.get_label().startswith("effective"))
    np.testing.assert_allclose(step_values(effective), 100 * path.effective_rate("CHN", "USA", weights="post"))
    announced = next(line for line in a.get_lines() if line.get_label() == "announced")
    assert pd.Timestamp("2025-04-11") in pd.to_datetime(announced.get_xdata())  # China's 125% announced


def test_fan_bands_are_the_quantiles_of_the_draws(path):
    # synthetic draws: the result scaled by 1 + a, a evenly spaced in [-0.5, 0.5], so every quantile is known
    a_d = np.linspace(-0.5, 0.5, 101)
    scale = (1 + a_d)[:, None, None, None, None]
    drawn = dataclasses.replace(path, flows=path.flows[None] * scale, revenue=path.revenue[None] * scale,
                                quantity=np.broadcast_to(path.quantity, scale.shape[:1] + path.quantity.shape),
                                buyer_price=np.broadcast_to(path.buyer_price, scale.shape[:1] + path.quantity.shape),
                                country_values={k: v[None] * (1 + a_d)[:, None, None] for k, v in path.country_values.items()})
    out = plot.fan(drawn, "imports", ("CHN", "USA"), quantiles=(0.1, 0.5, 0.9), ax=ax())
    level = path.flows[:, :, 1, 0].sum(axis=1) / 1e9
    median = next(line for line in out.get_lines() if line.get_label().startswith("median"))
    np.testing.assert_allclose(step_values(median), level, rtol=1e-12)
    (band,) = out.collections
    y = band.get_paths()[0].vertices[:, 1]
    for v in (0.6 * level, 1.4 * level):  # the 10th and 90th percentiles
        assert np.isclose(y[:, None], v[None, :], rtol=1e-9).any(axis=0).all()
    assert band.get_label() == "10-90th percentile"
    w = plot.fan(drawn, "welfare", "CHN", ax=ax())
    np.testing.assert_allclose(step_values(w.get_lines()[0]), path.country_values["welfare_usd"][:, 1] / 1e9, rtol=1e-9)


def test_fan_needs_draws_and_symmetric_quantiles(path):
    with pytest.raises(InputError, match="no draws"):
        plot.fan(path, "imports", ("CHN", "USA"))
    drawn = dataclasses.replace(path, flows=np.stack([path.flows] * 3))
    with pytest.raises(InputError, match="symmetric"):
        plot.fan(drawn, "imports", ("CHN", "USA"), quantiles=(0.1, 0.5, 0.8))
    with pytest.raises(InputError, match="expected \\(exporter, importer\\)"):
        plot.fan(drawn, "imports", "CHN")


# --------------------------------------------------------------------------- one time


def test_trade_change_by_partner_equals_the_pair_summary(peak):
    a = plot.trade_change(peak, importer="USA", ax=ax())
    table = peak.summary("pair").query("importer == 'USA'")
    by_name = {tradesim.codes.country_name(e): (after - before) / 1e9 for e, before, after in
               zip(table.exporter, table.imports_baseline_usd, table.imports_usd)}
    labels = [t.get_text() for t in a.get_yticklabels()]
    widths = [p.get_width() for p in a.patches]
    assert widths == pytest.approx([by_name[n] for n in labels], rel=1e-12)
    assert labels[0] == "Rest of the world" and labels[-1] == "China"  # bottom-up: largest rise first
    assert np.all(np.diff(widths) <= 0)


def test_trade_change_by_section_sums_chapters_into_named_sections(peak):
    a = plot.trade_change(peak, importer="USA", exporter="CHN", by="section", unit="usd", top=30, ax=ax())
    b = peak.baseline
    change = (peak.solution.flows_after - b.flows)[:, 1, 0] / 1e9
    names = [SECTIONS[hs_section(p)][0].split(";")[0] for p in b.products]
    expected = pd.Series(change, index=names).groupby(level=0).sum()
    traded = pd.Series(b.flows[:, 1, 0], index=names).groupby(level=0).sum() > 0
    bars = dict(zip([t.get_text() for t in a.get_yticklabels()], [p.get_width() for p in a.patches]))
    assert set(bars) == set(traded.index[traded])
    for section, width in bars.items():
        assert width == pytest.approx(expected[section], rel=1e-9)
    assert sum(bars.values()) == pytest.approx(change.sum(), rel=1e-9)  # every section shown: nothing lost


def test_diversion_draws_import_shares_whose_changes_sum_to_zero(peak):
    a = plot.diversion(peak, "USA", top=4, ax=ax())
    before, after = (line for line in a.get_lines() if line.get_label().startswith("share"))
    x0, x1 = np.asarray(before.get_xdata()), np.asarray(after.get_xdata())
    assert x0.sum() == pytest.approx(100) and x1.sum() == pytest.approx(100)
    labels = [t.get_text() for t in a.get_yticklabels()]  # top to bottom: largest loss first
    assert labels[0] == "China" and "others (11)" in labels and len(labels) == 5
    imports = peak.baseline.flows[:, :, 0].sum(axis=0)
    after = peak.solution.flows_after[:, :, 0].sum(axis=0)
    imports[0] = after[0] = 0  # shares of imports: the US's own (imputed) sales are not a partner
    assert x0[0] == pytest.approx(100 * imports[1] / imports.sum())  # points are drawn in label order
    assert x1[0] == pytest.approx(100 * after[1] / after.sum())


def test_heatmap_shows_percent_changes_centred_on_zero(peak):
    a = plot.heatmap(peak, "value_change", countries=["USA", "CHN", "MEX"], ax=ax())
    image = a.images[0]
    data = image.get_array()
    idx = [0, 1, 3]
    before = peak.baseline.flows.sum(axis=0)[np.ix_(idx, idx)]
    after = peak.solution.flows_after.sum(axis=0)[np.ix_(idx, idx)]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = 100 * (after / before - 1)
    assert data.mask.diagonal().all()
    np.testing.assert_allclose(data.filled(np.nan)[~data.mask], expected[~data.mask], rtol=1e-12)
    assert image.norm.vcenter == 0 and image.norm.vmin == -image.norm.vmax
    assert [t.get_text() for t in a.get_xticklabels()] == ["United States", "China", "Mexico"]


def test_welfare_parts_stack_to_the_net_for_pe_and_ge(peak):
    a = plot.welfare(peak, countries=["USA", "CHN"], ax=ax())
    table = peak.summary("country")
    net = next(line for line in a.get_lines() if line.get_label() == "net welfare")
    names = [t.get_text() for t in a.get_yticklabels()]
    codes = {"United States": "USA", "China": "CHN"}
    np.testing.assert_allclose(net.get_xdata(), [table.loc[codes[n], "welfare_usd"] / 1e9 for n in names])
    containers = a.containers
    assert [c.get_label() for c in containers] == ["consumer surplus", "producer surplus", "tariff revenue"]
    cs = [bar.get_width() for bar in containers[0]]
    np.testing.assert_allclose(cs, [table.loc[codes[n], "consumer_surplus_usd"] / 1e9 for n in names])
    totals = np.sum([[bar.get_width() for bar in c] for c in containers], axis=0)
    np.testing.assert_allclose(totals, net.get_xdata(), rtol=1e-9)


def test_a_scenario_result_is_read_at_a_date_or_as_a_mean(path):
    april = plot.heatmap(path, "tariff", date="2025-04-20", ax=ax()).images[0].get_array()
    t = path.dates.get_loc(pd.Timestamp("2025-04-01"))
    w = path.baseline.flows
    assert april[0, 1] == pytest.approx(100 * (path.tariff[t] * w)[:, 0, 1].sum() / w[:, 0, 1].sum())
    mean = plot.welfare(path, countries=["CHN"], date="mean", ax=ax())
    days = (path.period_ends - path.dates).days.to_numpy(float)
    expected = (path.country_values["welfare_usd"][:, 1] * days).sum() / days.sum() / 1e9
    assert next(line for line in mean.get_lines()).get_xdata()[0] == pytest.approx(expected)
    assert "mean Jan 2025 to Dec 2025" in mean.get_title()


# --------------------------------------------------------------------------- accessor and errors


def test_the_accessor_draws_what_the_function_draws(peak):
    a = peak.plot.heatmap("tariff_change", ax=ax())
    b = plot.heatmap(peak, "tariff_change", ax=ax())
    np.testing.assert_array_equal(a.images[0].get_array().filled(0), b.images[0].get_array().filled(0))
    assert "heatmap" in dir(peak.plot) and peak.plot.heatmap.__doc__ == plot.heatmap.__doc__
    with pytest.raises(AttributeError, match="no plot 'pie'"):
        peak.plot.pie()


@pytest.mark.parametrize("call, match", [
    (lambda r, p: plot.trade_path(p, "exports_pct"), "variable is 'exports_pct'"),
    (lambda r, p: plot.heatmap(r, "flows"), "variable is 'flows'"),
    (lambda r, p: plot.trade_change(r, importer="FRA"), r"\['FRA'\] not in the baseline"),
    (lambda r, p: plot.diversion(r, "XXX"), r"\['XXX'\] not in the baseline"),
    (lambda r, p: plot.tariff_timeline(p, "CHN", "FRA"), r"\['FRA'\] not in the baseline"),
    (lambda r, p: plot.welfare(r, ax=ax(), figsize=(4, 3)), "give ax or figsize, not both"),
    (lambda r, p: plot.trade_change(r, importer="USA", exporter="CHN"), "exactly one of importer and exporter"),
    (lambda r, p: plot.heatmap(r, date="2025-04-01"), "has no dates"),
    (lambda r, p: plot.heatmap(p, date="2031-01-01"), "outside the result"),
    (lambda r, p: plot.tariff_timeline(r, "CHN", "USA"), "expected a ScenarioResult"),
    (lambda r, p: plot.trade_change(r, importer="USA", top=0), "positive whole number"),
])
def test_bad_arguments_raise_input_error(peak, path, call, match):
    with pytest.raises(InputError, match=match):
        call(peak, path)


def test_helpers_never_show_and_return_the_axes_they_were_given(peak, monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() was called"))
    given = ax()
    assert plot.trade_change(peak, importer="USA", ax=given) is given
    made = plot.heatmap(peak, figsize=(5, 4))
    assert tuple(made.figure.get_size_inches()) == (5, 4)


def test_rate_series_draws_the_rate_table_as_steps():
    base = tradesim.load_baseline("demo-2024")
    s = tradesim.load_schedule("us-china-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        table = s.rate_table(base, "USA", "2025-01-01", "2025-12-31", by="partner")
    a = plot.rate_series(table, ["CHN", "all"], end="2026-01-01", ax=ax())
    lines = {line.get_label(): line for line in a.get_lines()}
    assert set(lines) == {"China", "all partners"}
    np.testing.assert_allclose(step_values(lines["China"]), table["CHN"].to_numpy())
    np.testing.assert_allclose(step_values(lines["all partners"]), table["all"].to_numpy())
    # the China rate peaks in the April weeks, above 100%
    assert table["CHN"].max() > 100 and table.loc[table["CHN"].idxmax()].name.month == 4
    with pytest.raises(InputError):
        plot.rate_series(table, ["XXX"])


@pytest.mark.parametrize("draw", ["trade_change", "diversion", "heatmap", "welfare"])
def test_a_result_on_a_sparse_baselines_cells_draws_what_the_dense_one_draws(peak, draw):
    base = peak.baseline.with_layout("sparse")
    s = tradesim.load_schedule("us-china-2025")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        sparse = tradesim.simulate(base, (s, "2024-12-31"), (s, "2025-04-14"), domestic=False)
    assert sparse.on_cells("cell") is not None and peak.on_cells("cell") is None
    args = {"trade_change": dict(importer="USA"), "diversion": dict(importer="USA", top=4),
            "heatmap": dict(variable="value_change", countries=["USA", "CHN", "MEX"]),
            "welfare": {}}[draw]
    a, b = getattr(plot, draw)(peak, **args, ax=ax()), getattr(plot, draw)(sparse, **args, ax=ax())
    assert [t.get_text() for t in a.get_yticklabels()] == [t.get_text() for t in b.get_yticklabels()]
    assert [p.get_width() for p in a.patches] == pytest.approx([p.get_width() for p in b.patches], rel=1e-9)
    assert [p.get_height() for p in a.patches] == pytest.approx([p.get_height() for p in b.patches], rel=1e-9)
    for x, y in zip(a.get_lines(), b.get_lines()):
        np.testing.assert_allclose(np.asarray(x.get_xdata(), float), np.asarray(y.get_xdata(), float), rtol=1e-9)
    for x, y in zip(a.images, b.images):
        np.testing.assert_allclose(np.asarray(x.get_array(), float), np.asarray(y.get_array(), float), rtol=1e-9)
