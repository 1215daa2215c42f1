"""CEPII BACI reader, on files written in BACI's published layout."""


import numpy as np
import pytest

from tradesim import InputError, read_baci
from tradesim.errors import TradesimWarning

# Country-code file as BACI ships it from the 2024 release on. BACI's own codes differ from ISO
# numeric for the US (842, ISO 840), France (251, ISO 250) and India (699, ISO 356).
CODES = """country_code,country_name,country_iso2,country_iso3
156,China,CN,CHN
251,France,FR,FRA
490,"Other Asia, nes",S19,S19
699,India,IN,IND
704,Viet Nam,VN,VNM
842,USA,US,USA
"""
CODES_OLD = """country_code,country_name_abbreviation,country_name_full,iso_2digit_alpha,iso_3digit_alpha
156,China,China,CN,CHN
251,France,France,FR,FRA
699,India,India,IN,IND
704,Viet Nam,Viet Nam,VN,VNM
842,USA,United States of America,US,USA
"""
# Values in thousands of USD; the quantity column q is padded and "NA" when unknown;
# codes of chapters 01-09 lost their leading zero when the file was written.
DATA = """t,i,j,k,v,q
2022,156,842,854231,1500.5,12.3
2022, 156, 842,950300,300,           NA
2022,842,156,120190,10000.25,50000
2022,842,156,10121,2.5,
2022,251,842,220421,800,90
2022,699,704,854231,40,1
"""


@pytest.fixture
def baci(tmp_path):
    (tmp_path / "country_codes_V202401.csv").write_text(CODES)
    path = tmp_path / "BACI_HS17_Y2022_V202401.csv"
    path.write_text(DATA)
    return path


def cell(b, product, exporter, importer):
    return b.flows[b.products.index(product), b.country_index(exporter), b.country_index(importer)]


def test_reads_values_in_usd_and_resolves_baci_codes(baci):
    b = read_baci(baci)
    assert b.year == 2022
    assert b.countries == ("CHN", "FRA", "IND", "USA", "VNM")
    assert cell(b, "854231", "CHN", "USA") == pytest.approx(1_500_500.0)
    assert cell(b, "220421", "FRA", "USA") == pytest.approx(800_000.0)  # 251 is France in BACI
    assert cell(b, "010121", "USA", "CHN") == pytest.approx(2_500.0)  # leading zero restored
    assert b.flows.sum() == pytest.approx(1000 * (1500.5 + 300 + 10000.25 + 2.5 + 800 + 40))
    assert b.domestic is False
    assert "BACI" in b.provenance["source"]


def test_product_level_sums_hs6(baci):
    b = read_baci(baci, product_level=2)
    assert b.products == ("01", "12", "22", "85", "95")
    assert cell(b, "85", "CHN", "USA") == pytest.approx(1_500_500.0)


def test_old_country_code_layout(tmp_path):
    (tmp_path / "codes.csv").write_text(CODES_OLD)
    path = tmp_path / "baci.csv"
    path.write_text(DATA.replace("2022,699,704,854231,40,1\n", ""))
    b = read_baci(path, tmp_path / "codes.csv", hs_revision="HS2017")  # a renamed file: its revision is stated
    assert cell(b, "220421", "FRA", "USA") == pytest.approx(800_000.0)


def test_countries_outside_the_list_go_to_row(baci):
    b = read_baci(baci, countries=["USA", "CHN"])
    assert b.countries == ("CHN", "USA", "ROW")
    assert cell(b, "220421", "ROW", "USA") == pytest.approx(800_000.0)
    assert cell(b, "854231", "ROW", "ROW") == pytest.approx(40_000.0)


def test_non_iso_code_is_an_error_unless_mapped(baci):
    data = baci.read_text() + "2022,490,842,854231,70,1\n"
    baci.write_text(data)
    with pytest.raises(InputError) as err:
        read_baci(baci)
    msg = str(err.value)
    assert "'S19' (Other Asia, nes): 70,000 USD in line 8" in msg and "country_map" in msg
    b = read_baci(baci, country_map={"S19": "TWN"})
    assert cell(b, "854231", "TWN", "USA") == pytest.approx(70_000.0)
    with pytest.warns(TradesimWarning, match="folded into ROW: 'S19'"):
        b = read_baci(baci, unknown="ROW")
    assert cell(b, "854231", "ROW", "USA") == pytest.approx(70_000.0)


def test_code_missing_from_code_file(baci):
    baci.write_text(DATA + "2022,999,842,854231,70,1\n")
    with pytest.raises(InputError, match=r"country code '999' is not in the BACI country-code file \(line 8\)"):
        read_baci(baci)


@pytest.mark.parametrize(
    "row, fragment",
    [("2022,156,842,854232,-5,1", r"value '-5' is not a number >= 0 \(line 8\)"),
     ("2022,156,842,854232,,1", r"value nan is not a number >= 0 \(line 8\)"),
     ("2022,156,842,8542311,5,1", r"'8542311' has more than 6 digits \(line 8\)"),
     ("2022,156,842,854231,5,1", r"duplicate exporter, importer and product \(lines 2, 8\)")],
)
def test_bad_rows_name_the_line(baci, row, fragment):
    baci.write_text(DATA + row + "\n")
    with pytest.raises(InputError, match=fragment):
        read_baci(baci)


def test_several_years_need_a_choice(baci):
    baci.write_text(DATA + "2023,156,842,854231,5,1\n")
    with pytest.raises(InputError, match=r"holds years \['2022', '2023'\]; pass year="):
        read_baci(baci)
    assert read_baci(baci, year=2023).flows.sum() == pytest.approx(5000.0)


def test_missing_file_column_and_code_file(tmp_path, baci):
    with pytest.raises(InputError, match="nope.csv: file not found"):
        read_baci(tmp_path / "nope.csv")
    bad = tmp_path / "other.csv"
    bad.write_text("year,exporter,importer,hs6,value\n2022,156,842,854231,1\n")
    with pytest.raises(InputError, match=r"missing columns \['t', 'i', 'j', 'k', 'v'\]"):
        read_baci(bad, tmp_path / "country_codes_V202401.csv")
    lonely = tmp_path / "sub"
    lonely.mkdir()
    (lonely / "BACI.csv").write_text(DATA)
    with pytest.raises(InputError, match="pass country_codes="):
        read_baci(lonely / "BACI.csv")


def test_reads_parquet(tmp_path, baci):
    import pandas as pd

    frame = pd.read_csv(baci, dtype={"k": str})
    frame["k"] = frame["k"].str.zfill(6)
    pq = tmp_path / "baci.parquet"
    frame.to_parquet(pq)
    b = read_baci(pq, tmp_path / "country_codes_V202401.csv", hs_revision="H5")
    assert np.isclose(b.flows.sum(), read_baci(baci).flows.sum())
