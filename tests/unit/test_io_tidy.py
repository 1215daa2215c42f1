import pytest

from tradesim import InputError, read_flows
from tradesim.errors import TradesimWarning

CSV = """exporter,importer,hs,value_usd,imputed
CHN,USA,010121,100,false
CHN,USA,854231,2500.5,true
USA,CHN,1201,900,false
"""


def test_reads_tidy_csv_with_text_codes(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV)
    b = read_flows(path, product="hs", value="value_usd", imputed="imputed", year=2024)
    assert b.products == ("010121", "1201", "854231")
    assert b.trade("CHN", "USA") == 2600.5
    assert b.imputed.sum() == 1 and b.year == 2024


def test_bad_line_is_named_with_file_and_line(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV + "CHN,USA,9503,-1,false\n")
    with pytest.raises(InputError) as err:
        read_flows(path, product="hs", value="value_usd")
    assert str(err.value).startswith(str(path)) and "line 5" in str(err.value) and "'value_usd'" in str(err.value)


def test_unknown_country_in_file(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV + "CHINX,USA,9503,1,false\n")
    with pytest.raises(InputError, match=r"'CHINX': 1 USD in line 5; did you mean CHN"):
        read_flows(path, product="hs", value="value_usd")


def test_country_name_is_converted_unless_iso3_is_asked_for(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV + "CHINA,USA,9503,1,false\n")
    with pytest.warns(TradesimWarning, match=r"'CHINA' -> CHN \(name\)"):
        b = read_flows(path, product="hs", value="value_usd")
    assert b.trade("CHN", "USA") == 2601.5
    with pytest.raises(InputError, match=r"'CHINA': 1 USD in line 5; did you mean CHN .*country_format='auto'"):
        read_flows(path, product="hs", value="value_usd", country_format="iso3")


def test_bad_imputed_flag(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(CSV + "CHN,USA,9503,1,maybe\n")
    with pytest.raises(InputError, match=r"imputed flags must be true/false, line 5"):
        read_flows(path, product="hs", value="value_usd", imputed="imputed")


def test_parquet_round_trip(tmp_path, random_baseline):
    path = tmp_path / "flows.parquet"
    random_baseline.to_frame().to_parquet(path)
    b = read_flows(path, tariff="tariff", imputed="imputed",
                   countries=random_baseline.countries, products=random_baseline.products)
    assert b.flows.sum() == pytest.approx(random_baseline.flows.sum(), rel=1e-15)


def test_missing_file_and_suffix(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_flows(tmp_path / "none.csv")
    odd = tmp_path / "flows.xlsx"
    odd.write_text("x")
    with pytest.raises(InputError, match="unknown file type '.xlsx'"):
        read_flows(odd)
