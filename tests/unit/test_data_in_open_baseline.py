"""`open_baseline`: a bundled name, a tidy table, a BACI file or a Comtrade file, wherever a baseline is named."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from tradesim import InputError, load_baseline, read_baci, read_comtrade, read_flows
from tradesim.data import BASELINE_LAYOUTS, baseline_axes, baseline_layout, open_baseline
from tradesim.errors import TradesimWarning

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "examples" / "data"
BACI = SAMPLES / "BACI_HS17_Y2023_V202501.csv"
COMTRADE = SAMPLES / "comtrade_2023.csv"
FLOWS = SAMPLES / "flows.csv"


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        return fn(*args, **kwargs)


def test_bundled_name():
    b = open_baseline("demo-2024")
    assert b is load_baseline("demo-2024") and b.provenance["layout"] == "bundled"
    with pytest.raises(InputError, match=r"bundled baseline 'demo-2024' takes no reader options; got \['value'\]"):
        open_baseline("demo-2024", value="v")


def test_each_layout_is_told_from_its_columns():
    assert baseline_layout(BACI) == "baci" and baseline_layout(COMTRADE) == "comtrade"
    assert baseline_layout(FLOWS) == "tidy"
    baci = open_baseline(BACI, product_level=2, countries=["USA", "CHN"])
    assert baci.equals(read_baci(BACI, product_level=2, countries=["USA", "CHN"]))
    assert baci.provenance["layout"] == "baci" and baci.provenance["hs_revision"] == "HS2017"
    with pytest.warns(TradesimWarning, match="partner World"):  # the reader's own warning, passed on
        comtrade = open_baseline(COMTRADE)
    assert comtrade.equals(quiet(read_comtrade, COMTRADE)) and comtrade.provenance["layout"] == "comtrade"
    tidy = open_baseline(FLOWS, value="value_usd")
    assert tidy.equals(read_flows(FLOWS, value="value_usd")) and tidy.provenance["layout"] == "tidy"


def test_relative_paths_and_the_country_code_file(tmp_path):
    assert open_baseline("data/flows.csv", relative_to=ROOT / "examples", value="value_usd").trade("CHN", "USA") > 0
    shutil.copy(BACI, tmp_path / "BACI_HS17_Y2023_V202501.csv")
    (tmp_path / "codes").mkdir()
    shutil.copy(SAMPLES / "country_codes_V202501.csv", tmp_path / "codes" / "cc.csv")
    b = open_baseline("BACI_HS17_Y2023_V202501.csv", relative_to=tmp_path, country_codes="codes/cc.csv")
    assert np.isclose(b.flows.sum(), read_baci(BACI).flows.sum())


def test_parquet_baci_is_recognised(tmp_path):
    import pandas as pd

    frame = pd.read_csv(BACI, dtype={"k": str})
    path = tmp_path / "BACI_HS17_Y2023_V202501.parquet"
    frame.to_parquet(path)
    shutil.copy(SAMPLES / "country_codes_V202501.csv", tmp_path)
    assert baseline_layout(path) == "baci"
    assert np.isclose(open_baseline(path).flows.sum(), read_baci(BACI).flows.sum())


def test_unknown_layout_lists_the_columns_seen_and_the_layouts_expected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("year,origin,destination,hs6,usd\n2023,CHN,USA,854231,5\n")
    with pytest.raises(InputError) as err:
        open_baseline(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: cannot tell what kind of baseline this is")
    assert "['year', 'origin', 'destination', 'hs6', 'usd']" in msg
    assert all(text in msg for text in BASELINE_LAYOUTS.values())
    # the tidy reader takes other column names
    b = open_baseline(path, exporter="origin", importer="destination", product="hs6", value="usd")
    assert b.trade("CHN", "USA") == 5


def test_bad_references_and_options(tmp_path):
    with pytest.raises(InputError, match=r"no bundled baseline 'demo-2023' and no such file; bundled: \['demo-2024'"):
        open_baseline("demo-2023")
    with pytest.raises(InputError, match=r"nope.csv: file not found"):
        open_baseline(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"option \['flow'\] does not apply to a tidy table of flows; it takes \["):
        open_baseline(FLOWS, value="value_usd", flow="X")
    with pytest.raises(InputError, match=r"missing columns \['value'\]"):  # a tidy table without its value column
        open_baseline(FLOWS)
    with pytest.raises(InputError, match="layout='stata'"):
        open_baseline(FLOWS, layout="stata")
    odd = tmp_path / "flows.xlsx"
    odd.write_text("x")
    with pytest.raises(InputError, match="unknown file type '.xlsx'"):
        open_baseline(odd)


def test_reader_errors_pass_through_with_file_and_line(tmp_path):
    path = tmp_path / "BACI_HS17_Y2023_V202501.csv"
    path.write_text(BACI.read_text() + "2023,156,842,847150,-5,NA\n")
    shutil.copy(SAMPLES / "country_codes_V202501.csv", tmp_path)
    with pytest.raises(InputError, match=r"value '-5' is not a number >= 0 \(line 42\)"):
        open_baseline(path)
    names = tmp_path / "names.csv"
    names.write_text("exporter,importer,product,value\nKorea,USA,8542,5\n")
    with pytest.raises(InputError, match=r"names.csv: country labels that match more than one country: 'Korea'"):
        open_baseline(names)


def test_baseline_axes_without_building_flows(tmp_path):
    assert baseline_axes("us-imports-2024")[1] == ["USA"]
    names = tmp_path / "names.csv"
    names.write_text("exporter,importer,product,value\nViet Nam,United States,8542,5\nROW,USA,8542,1\n")
    assert baseline_axes(names) == (["VNM", "ROW"], ["USA"])
    ex, im = baseline_axes(BACI, countries=["USA", "CHN"])
    assert ex == im == ["CHN", "USA", "ROW"]


def test_to_hs2022_on_opening():
    with pytest.warns(TradesimWarning, match="from HS2017 to HS2022"):
        b = open_baseline(BACI, to_hs2022=True)
    assert b.provenance["hs_revision"] == "HS2022" and "854921" in b.products
    assert open_baseline("demo-2024", to_hs2022=True) is load_baseline("demo-2024")
    assert baseline_axes(BACI, to_hs2022=True)[1] == baseline_axes(BACI)[1]
