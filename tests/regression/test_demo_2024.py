"""The bundled baseline against the published figures it is built from."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tradesim

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo():
    return tradesim.load_baseline("demo-2024")


def test_us_china_totals_equal_the_measured_and_published_figures_exactly(demo):
    # US imports from China: Census imports for consumption 2024 (429.4bn; general imports, the
    # first-release headline, were 438.9bn); US exports to China: Census 2024, 143.5bn.
    assert demo.trade("CHN", "USA") == 429_425_828_419
    assert demo.trade("USA", "CHN") == 143_500_000_000


def test_us_imports_are_measured_and_the_rest_published(demo):
    # US imports: every chapter from every partner is the Census consumption-basis figure
    measured = pd.read_csv(ROOT / "tradesim" / "data" / "facts_us_imports_2024.csv", dtype={"chapter": str})
    for r in measured.itertuples():
        assert demo.trade(r.exporter, r.importer, products=r.chapter) == pytest.approx(r.value_usd, abs=0.5), \
            (r.exporter, r.chapter)
    us = demo.country_index("USA")
    imports = demo.flows[:, :, us].sum() - demo.flows[:, us, us].sum()  # the diagonal holds domestic sales
    assert imports == pytest.approx(measured["value_usd"].sum(), abs=1)
    from_abroad = demo.flows[:, :, us] > 0
    from_abroad[:, us] = False
    assert not demo.imputed[:, :, us][from_abroad].any()
    # US exports and China's trade: the published totals (Census 2024; China customs 2023)
    facts = pd.read_csv(ROOT / "tradesim" / "data" / "facts_trade_totals.csv")
    us_exports = facts[(facts.reporter == "USA") & (facts.year == 2024) & (facts.exporter == "USA")]
    for r in us_exports.itertuples():
        if r.importer == "WORLD":
            assert demo.flows[:, us, :].sum() - demo.flows[:, us, us].sum() == r.value_usd
        else:
            assert demo.trade("USA", r.importer) == r.value_usd, r.importer
    cn = facts[(facts.reporter == "CHN") & (facts.year == 2023) & (facts.exporter != "USA") & (facts.importer != "USA")]
    for r in cn.itertuples():
        assert demo.trade(r.exporter, r.importer) == r.value_usd


def test_published_product_values_are_floors_of_their_chapters(demo):
    items = pd.read_csv(ROOT / "tradesim" / "data" / "facts_product_items_2024.csv", dtype={"chapter": str})
    sums = items.groupby(["exporter", "importer", "chapter"])["value_usd"].sum()
    for (e, i, ch), value in sums.items():
        assert demo.trade(e, i, products=ch) >= value - 1, (e, i, ch)
    # Soybeans (USDA 12.64bn) are the whole of chapter 12 exports to China, which the
    # containerised share alone (0.9bn) would miss.
    assert demo.trade("USA", "CHN", products="12") == pytest.approx(12.64e9, abs=1)


def test_shape_labels_and_flags(demo):
    assert demo.year == 2024 and demo.domestic is False
    assert len(demo.countries) == 16 and demo.countries[-1] == "ROW"
    assert len(demo.products) == 98 and "77" not in demo.products and {"98", "99"} <= set(demo.products)
    domestic = np.einsum("kii->ki", demo.flows)
    assert demo.has_domestic_sales and (domestic.sum(axis=0) > 0).all()
    assert np.einsum("kii->ki", demo.imputed).all()  # every domestic cell is imputed
    k = demo.products.index("85")
    us, cn = demo.country_index("USA"), demo.country_index("CHN")
    assert not demo.imputed[k, cn, us]  # measured chapter share
    assert demo.imputed[k, demo.country_index("DEU"), demo.country_index("JPN")]  # gravity-imputed


def test_committed_file_matches_a_fresh_build():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_demo_2024 as build
    finally:
        sys.path.pop(0)
    fresh = build.build()
    committed = pd.read_csv(ROOT / "tradesim" / "data" / "demo-2024.csv", dtype={"product": str})
    pd.testing.assert_frame_equal(committed, fresh)


def test_list_baselines_and_unknown_name():
    table = tradesim.list_baselines()
    assert "demo-2024" in table.index and table.loc["demo-2024", "exporters"] == 16
    with pytest.raises(tradesim.InputError,
                       match=r"no bundled baseline 'demo-2025'; bundled: \['demo-2024', 'us-imports-2024'\]"):
        tradesim.load_baseline("demo-2025")


def test_bundled_files_are_installed_with_the_package():
    from importlib import resources

    data = resources.files("tradesim.data")
    for name in ("README.md", "baselines.toml", "demo-2024.csv", "facts_trade_totals.csv", "facts_gdp_2024.csv"):
        assert data.joinpath(name).is_file(), name
    assert resources.files("tradesim.scenarios").joinpath("README.md").is_file()


def test_domestic_sales_are_gdp_less_exports_split_by_the_import_mix(demo):
    """The diagonal's documented rule (scripts/build_demo_2024_domestic.py), checked from the facts."""
    gdp = pd.read_csv(ROOT / "tradesim" / "data" / "facts_gdp_2024.csv").set_index("country")["value_usd"]
    chapters = [k for k, p in enumerate(demo.products) if p not in ("98", "99")]
    for c in demo.countries:
        i = demo.country_index(c)
        own = demo.flows[:, i, i]
        exports = demo.flows[:, i, :].sum() - own.sum()
        if c in gdp.index:  # ROW's GDP is imputed (world less the 15): checked by the build's own test
            assert own.sum() == pytest.approx(gdp[c] - exports, abs=1), c
        imports = demo.flows[:, :, i].sum(axis=1) - own
        # the same import share of spending in every chapter with imports (whole-dollar rounding aside)
        share = imports[chapters] / (imports[chapters] + own[chapters])
        has = imports[chapters] > 1e6
        assert np.allclose(share[has], share[has][0], rtol=1e-5), c
        assert (own[[demo.products.index("98"), demo.products.index("99")]] == 0).all()


def test_domestic_file_matches_a_fresh_build():
    assert subprocess.run([sys.executable, str(ROOT / "scripts" / "build_demo_2024_domestic.py"), "--check"],
                          capture_output=True).returncode == 0
