"""The bundled baseline of measured US imports at tariff-line detail, through the package."""

import numpy as np
import pytest

import tradesim


@pytest.fixture(scope="module")
def us():
    return tradesim.load_baseline("us-imports-2024")


def test_totals_equal_the_census_files(us):
    # shared/reference/us_trade_2024/README.md: 3,251.2bn in all; China 429.4, Mexico 503.4, Canada 411.7,
    # Vietnam 141.4, the EU 597.5 (imports for consumption, customs value)
    assert us.flows.sum() / 1e9 == pytest.approx(3251.2, abs=0.05)
    for partner, bn in {"CHN": 429.4, "MEX": 503.4, "CAN": 411.7, "VNM": 141.4, "EU27": 597.5}.items():
        assert us.trade(partner, "USA") / 1e9 == pytest.approx(bn, abs=0.05), partner


def test_axes_are_rectangular_and_nothing_is_imputed(us):
    assert us.importers == ("USA",) and len(us.exporters) == 51 and us.exporters[-2:] == ("EU27", "ROW")
    assert "SVK" not in us.exporters  # inside EU27 only
    assert us.flows.shape == (len(us.products), 51, 1) and not us.square and not us.domestic
    assert not us.imputed.any()
    assert all(len(p) == 8 for p in us.products if us.flows[us.products.index(p), :-1].sum() > 0)
    assert us.provenance["licence"] and us.provenance["as_of"] and us.provenance["version"] == "2024.1"


def test_the_baseline_tariff_is_the_measured_applied_rate(us):
    j = 0
    china = us.exporter_index("CHN")
    collected = (us.tariffs[:, china, j] * us.flows[:, china, j]).sum() / us.flows[:, china, j].sum()
    assert 100 * collected == pytest.approx(10.87, abs=0.01)  # China's 2024 collected rate (Census)
    mexico = us.exporter_index("MEX")
    assert (us.tariffs[:, mexico, j] * us.flows[:, mexico, j]).sum() / us.flows[:, mexico, j].sum() < 0.01  # USMCA
    assert np.isfinite(us.tariffs).all() and (us.tariffs >= 0).all()
