"""The measured 2024 US import data and their build scripts, against the Census figures they come from.

Uses only pandas, the standard library and the scripts run as processes: no ``import tradesim``.
Tests that read ``shared/reference`` (the Census files) skip when it is not beside the checkout.
"""

import gzip
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tradesim" / "data"
SCRIPTS = ROOT / "scripts"
REFERENCE = ROOT.parent / "shared" / "reference"
HS2 = REFERENCE / "us_trade_2024" / "us_imports_2024_by_partner_hs2.csv"
HS8 = REFERENCE / "us_trade_2024" / "us_imports_2024_by_partner_hs8.csv.gz"
needs_reference = pytest.mark.skipif(not HS2.is_file(), reason="shared/reference is not beside this checkout")


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, check=False)


@pytest.fixture(scope="module")
def imports() -> pd.DataFrame:
    return pd.read_csv(DATA / "us-imports-2024.csv.gz", dtype={"product": str})


@pytest.fixture(scope="module")
def catalogue() -> dict:
    with (DATA / "baselines.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def hs2() -> pd.DataFrame:
    return pd.read_csv(HS2, dtype={"CTY_CODE": str, "HS2": str})


def eu27_codes() -> list[str]:
    """Census codes of the EU members, read from policy_params.yaml's eu27_codes block (no YAML library)."""
    text = (REFERENCE / "us_law_2025" / "yale" / "policy_params.yaml").read_text(encoding="utf-8")
    block = text.split("eu27_codes:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"'(\d{4})':", block)


# --- the bundled table ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "exporter, bn",
    [(None, 3251.2), ("CHN", 429.4), ("MEX", 503.4), ("CAN", 411.7), ("VNM", 141.4), ("EU27", 597.5)],
)
def test_totals_are_the_published_census_figures(imports, exporter, bn):
    rows = imports if exporter is None else imports[imports["exporter"] == exporter]
    assert rows["value"].sum() / 1e9 == pytest.approx(bn, abs=0.05)


def test_china_collected_duty_rate(imports):
    china = imports[imports["exporter"] == "CHN"]
    assert 100 * china["duty"].sum() / china["value"].sum() == pytest.approx(10.87, abs=0.01)


def test_every_cell_is_measured_and_whole_dollars(imports):
    assert list(imports.columns) == ["exporter", "importer", "product", "value", "duty", "imputed", "method"]
    assert not imports["imputed"].any()
    assert set(imports["method"]) == {"Census imports for consumption"}
    assert set(imports["importer"]) == {"USA"}
    assert imports["value"].dtype == "int64" and imports["duty"].dtype == "int64"
    assert (imports["value"] > 0).all() and (imports["duty"] >= 0).all()
    assert not imports.duplicated(["exporter", "product"]).any()


def test_products_are_hts8_lines_except_row_chapters(imports):
    row = imports["exporter"] == "ROW"
    assert imports.loc[~row, "product"].str.fullmatch(r"\d{8}").all()
    assert imports.loc[row, "product"].str.fullmatch(r"\d{2}").all()
    # chapters 98 and 99 (US special provisions) are kept as in the data
    assert {"98", "99"} <= set(imports["product"].str[:2])


def test_exporters_and_their_order_match_the_catalogue(imports, catalogue):
    entry = catalogue["us-imports-2024"]
    order = list(dict.fromkeys(imports["exporter"]))
    assert order == entry["exporters"] and entry["importers"] == ["USA"]
    assert len(order) == 51 and order[-2:] == ["EU27", "ROW"]
    totals = imports.groupby("exporter", sort=False)["value"].sum()[order[:-2]]
    assert totals.is_monotonic_decreasing  # the countries by 2024 imports, largest first
    for key in ("file", "year", "description", "domestic", "built_by", "sources", "licence", "as_of", "version",
                "set_aside"):
        assert key in entry, key
    assert entry["version"] == "2024.1" and entry["domestic"] is False
    for key in ("as_of", "version", "licence"):
        assert key in catalogue["demo-2024"], key


def test_slovakia_is_counted_once_inside_eu27(imports):
    assert "SVK" not in set(imports["exporter"])


def test_reading_the_file_is_fast():
    start = time.perf_counter()
    pd.read_csv(DATA / "us-imports-2024.csv.gz", dtype={"product": str})
    assert time.perf_counter() - start < 1.0


# --- against the Census files -----------------------------------------------------------------------------------


@needs_reference
def test_total_is_every_partner_once(imports, hs2):
    # all 225 partners without the EU aggregate: Slovakia (alone in the HTS8 file) is not counted twice
    partners = hs2[hs2["CTY_CODE"] != "0003"]
    assert partners["CTY_CODE"].nunique() == 225
    assert imports["value"].sum() == partners["imports_2024_usd"].sum()
    assert imports["duty"].sum() == partners["calc_duty_2024_usd"].sum()


@needs_reference
def test_eu_aggregate_is_the_sum_of_its_27_members(imports, hs2):
    eu = eu27_codes()
    assert len(eu) == 27 and "4359" in eu and "4280" in eu
    members = hs2[hs2["CTY_CODE"].isin(eu)].groupby("HS2")[["imports_2024_usd", "calc_duty_2024_usd"]].sum()
    aggregate = hs2[hs2["CTY_CODE"] == "0003"].set_index("HS2")[["imports_2024_usd", "calc_duty_2024_usd"]]
    pd.testing.assert_frame_equal(aggregate.sort_index(), members.sort_index(), check_names=False, atol=1)
    ours = imports[imports["exporter"] == "EU27"].groupby(imports["product"].str[:2])["value"].sum()
    assert (ours == aggregate["imports_2024_usd"][ours.index]).all()


@needs_reference
def test_every_exporter_hs8_rows_equal_its_hs2_rows(imports, hs2):
    iso = pd.read_csv(REFERENCE / "us_law_2025" / "tradewartracker" / "CensusCountryMapping_FRBAtl_short.csv",
                      dtype=str).dropna(subset=["CTY_CODE"]).set_index("CTY_CODE")["ISO3"]  # two rows lack a code
    hs2 = hs2.assign(exporter=hs2["CTY_CODE"].map(iso).fillna(hs2["CTY_CODE"].map({"0003": "EU27"})))
    named = imports[~imports["exporter"].isin(["ROW"])]
    ours = named.groupby(["exporter", named["product"].str[:2]])["value"].sum()
    census = hs2[hs2["exporter"].isin(set(named["exporter"]))].set_index(["exporter", "HS2"])["imports_2024_usd"]
    census = census[census > 0]
    ours.index.names = census.index.names
    pd.testing.assert_series_equal(ours.sort_index(), census.sort_index().astype("int64"), check_names=False)


@needs_reference
def test_set_aside_counts():
    hs8 = pd.read_csv(HS8, dtype={"CTY_CODE": str, "HS8": str})
    zero = hs8["imports"] == 0
    assert zero.sum() == 330 and (hs8.loc[zero, "duty"] > 0).sum() == 0  # no duty-only record after all
    out = run("build_us_imports_2024.py", "--check")
    assert "set aside: 0 records with zero imports and positive duty (USD 0 of duty)" in out.stdout
    assert "321 HTS8 and 12 HS2 records" in out.stdout


def test_catalogue_records_the_set_aside_counts(catalogue):
    note = catalogue["us-imports-2024"]["set_aside"]
    assert note.startswith("0 records with zero imports and positive duty (USD 0 of duty) set aside.")
    assert "330 records with zero imports" in note and "321 of them" in note and "12 HS2 records" in note


# --- the build scripts ------------------------------------------------------------------------------------------


@needs_reference
def test_us_imports_check_passes():
    out = run("build_us_imports_2024.py", "--check")
    assert out.returncode == 0, out.stderr
    assert "are up to date" in out.stdout


@needs_reference
def test_fine_values_check_passes():
    out = run("build_fine_values_2024.py", "--check")
    assert out.returncode == 0, out.stderr


def test_demo_check_passes():
    out = run("build_demo_2024.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_example_data_check_passes():
    out = run("build_example_data.py", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_gzip_files_are_reproducible():
    for name in ("us-imports-2024.csv.gz", "fine-values-2024.csv.gz"):
        head = (DATA / name).read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08" and head[3] == 0 and head[4:8] == b"\0\0\0\0", name  # no name, mtime 0


@needs_reference
@pytest.mark.parametrize(
    "column, line, bad, message",
    [
        ("imports_2024_usd", 5, "-1.0", r"line 5: column 'imports_2024_usd' = '-1.0', expected a non-negative value"),
        ("imports_2024_usd", 7, "", r"line 7: column 'imports_2024_usd' = '', expected a number"),
        ("CTY_NAME", 2, "NARNIA", r"has several names|no ISO 3166 code"),
    ],
)
def test_bad_input_fails_naming_file_line_and_value(tmp_path, column, line, bad, message):
    for sub in ("us_trade_2024", "us_law_2025/yale", "us_law_2025/tradewartracker"):
        shutil.copytree(REFERENCE / sub, tmp_path / sub, dirs_exist_ok=True)
    path = tmp_path / "us_trade_2024" / "us_imports_2024_by_partner_hs2.csv"
    path.chmod(0o644)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[line - 2, column] = bad
    frame.to_csv(path, index=False)
    out = run("build_us_imports_2024.py", "--check", "--reference", str(tmp_path))
    assert out.returncode == 2
    assert "us_imports_2024_by_partner_hs2.csv" in out.stderr and re.search(message, out.stderr), out.stderr


# --- fine values --------------------------------------------------------------------------------------------------


def test_fine_values_sum_to_the_demo_cells():
    fine = pd.read_csv(DATA / "fine-values-2024.csv.gz", dtype={"product": str})
    demo = pd.read_csv(DATA / "demo-2024.csv", dtype={"product": str})
    assert list(fine.columns) == ["exporter", "importer", "member", "product", "value", "source"]
    assert fine["source"].str.match(r"(measured|imputed|remainder)\b").all()
    # ROW's rows by member (the partners inside it, EU27 less Germany, the remainder ROW); no other row has one
    assert fine["member"].notna().eq(fine["exporter"] == "ROW").all()
    assert fine.loc[fine["member"] == "ROW", "source"].str.match(r"(imputed|measured: .*HS2)").all()
    assert fine.loc[fine["exporter"] == "DEU", "source"].str.startswith("imputed:").all()
    sums = fine.groupby(["exporter", "importer", fine["product"].str[:2]])["value"].sum()
    pairs = set(zip(fine["exporter"], fine["importer"]))
    assert pairs == {(e, "USA") for e in set(demo["exporter"]) - {"USA"}} | {("USA", "CHN")}
    cells = demo[[p in pairs for p in zip(demo["exporter"], demo["importer"])]]
    cells = cells.set_index(["exporter", "importer", "product"])["value"]
    sums.index.names = cells.index.names
    pd.testing.assert_series_equal(sums.sort_index(), cells.sort_index(), check_names=False)


def test_demo_us_imports_are_the_measured_chapters():
    demo = pd.read_csv(DATA / "demo-2024.csv", dtype={"product": str})
    facts = pd.read_csv(DATA / "facts_us_imports_2024.csv", dtype={"chapter": str})
    us = demo[demo["importer"] == "USA"]
    assert not us["imputed"].any()
    assert set(us["method"]) == {"measured: Census imports for consumption, HS2"}
    merged = us.merge(facts, left_on=["exporter", "product"], right_on=["exporter", "chapter"], how="outer")
    assert (merged["value"] == merged["value_usd"]).all()
    assert us.loc[us["exporter"] == "CHN", "value"].sum() == 429_425_828_419
    assert us["value"].sum() / 1e9 == pytest.approx(3251.2, abs=0.05)


def test_gzip_text_is_plain_csv():
    text = gzip.decompress((DATA / "us-imports-2024.csv.gz").read_bytes()).decode("utf-8")
    assert text.startswith("exporter,importer,product,value,duty,imputed,method\nMEX,USA,")
    assert "\r" not in text[:10000]
