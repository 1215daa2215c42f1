"""Country names, ISO alpha-2 and numeric codes in the files analysts have: converted, reported, never guessed."""

import warnings

import pandas as pd
import pytest

from tradesim import Baseline, InputError, read_baci, read_comtrade, read_flows
from tradesim.errors import TradesimWarning

TIDY = """exporter,importer,product,value
Viet Nam,United States,854231,100
VN,840,950300,50
"Korea, Republic of",USA,870323,70
CHN,USA,854231,30
"""


def test_tidy_file_with_names_alpha2_and_numeric_codes(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(TIDY)
    with pytest.warns(TradesimWarning) as caught:
        b = read_flows(path)
    assert len(caught) == 1  # one warning per call
    message = str(caught[0].message)
    for item in ("'Viet Nam' -> VNM (name)", "'VN' -> VNM (ISO alpha-2)", "'840' -> USA (ISO numeric)",
                 "'United States' -> USA (name)", "'Korea, Republic of' -> KOR (name)"):
        assert item in message and item in b.provenance["country_conversion"]
    assert "'CHN' ->" not in message  # codes that are already alpha-3 are not listed
    assert b.countries == ("CHN", "KOR", "USA", "VNM")
    assert b.trade("VNM", "USA") == 150 and b.trade("KOR", "USA") == 70


def test_the_warning_points_at_the_callers_line(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(TIDY)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_flows(path)  # this line
    assert len(caught) == 1 and caught[0].filename == __file__


def test_ambiguous_name_is_an_error_naming_file_lines_value_and_matches(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(TIDY + "Korea,USA,640399,5\nKorea,USA,940360,6\n")
    with pytest.raises(InputError) as err:
        read_flows(path)
    msg = str(err.value)
    assert msg.startswith(str(path)) and "'Korea': 11 USD in lines 6, 7" in msg
    assert "KOR (South Korea) or PRK (North Korea)" in msg and "country_map" in msg
    with pytest.warns(TradesimWarning, match="'Viet Nam' -> VNM"):
        b = read_flows(path, country_map={"Korea": "KOR"}, country_format="auto")  # the analyst says which
    assert b.trade("KOR", "USA") == 81


def test_unknown_label_is_an_error_with_close_matches(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(TIDY + "Vietnamm,USA,870323,5\n")
    with pytest.raises(InputError, match=r"'Vietnamm': 5 USD in line 6; did you mean VNM"):
        read_flows(path)


def test_strict_mode_rejects_names_with_a_hint(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text(TIDY)
    with pytest.raises(InputError, match=r"'Viet Nam': 100 USD in line 2; did you mean VNM"):
        read_flows(path, country_format="iso3")


def test_from_frame_converts_on_request_and_says_so():
    df = pd.DataFrame({"exporter": ["Viet Nam", "CN"], "importer": ["United States", "840"],
                       "product": ["8542", "8542"], "value": [2e9, 5e9]})
    with pytest.raises(InputError, match=r"unknown country code 'Viet Nam'.*did you mean VNM.*country_format='auto'"):
        Baseline.from_frame(df)
    with pytest.warns(TradesimWarning, match=r"frame: country labels converted .*'CN' -> CHN \(ISO alpha-2\)"):
        b = Baseline.from_frame(df, country_format="auto")
    assert b.trade("VNM", "USA") == 2e9 and b.trade("CHN", "USA") == 5e9
    assert "'Viet Nam' -> VNM (name)" in b.provenance["country_conversion"]
    df.loc[1, "exporter"] = "Korea"
    with pytest.raises(InputError, match=r"'Korea' is ambiguous; it matches 2 countries.*\(row 2\)"):
        Baseline.from_frame(df, country_format="auto")


def test_groups_stay_groups(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("exporter,importer,product,value\nROW,United States,85,10\nEU27,USA,85,20\n")
    with pytest.warns(TradesimWarning, match="'United States' -> USA"):
        b = read_flows(path)
    assert b.countries == ("USA", "EU27", "ROW")


# ---- BACI: the country-code file's ISO3 column, converted and folded as before ----

CODES = """country_code,country_name,country_iso2,country_iso3
156,China,CN,CHN
490,"Other Asia, nes",S19,S19
704,Viet Nam,VN,vnm
842,USA,US,USA
"""
DATA = """t,i,j,k,v,q
2022,156,842,854231,1500,1
2022,704,842,854231,40,1
2022,490,842,854231,70,1
"""


@pytest.fixture
def baci(tmp_path):
    (tmp_path / "country_codes_V202401.csv").write_text(CODES)
    path = tmp_path / "BACI_HS17_Y2022_V202401.csv"
    path.write_text(DATA)
    return path


def test_baci_conversions_and_folds_in_one_warning(baci):
    with pytest.raises(InputError, match=r"'S19' \(Other Asia, nes\): 70,000 USD in line 4.*unknown='ROW'"):
        read_baci(baci)
    with pytest.warns(TradesimWarning) as caught:
        b = read_baci(baci, unknown="ROW")
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "'vnm' -> VNM (letter case)" in message and "folded into ROW: 'S19' (Other Asia, nes): 70,000 USD" in message
    assert b.countries == ("CHN", "USA", "VNM", "ROW")
    assert "'S19'" in b.provenance["folded_into_ROW"] and "VNM" in b.provenance["country_conversion"]
    with pytest.warns(TradesimWarning, match="'vnm' -> VNM"):
        mapped = read_baci(baci, country_map={"S19": "TWN"})
    assert mapped.trade("TWN", "USA") == 70_000


# ---- Comtrade: reporter and partner columns ----

HEADER = "period,flowCode,reporterISO,partnerISO,cmdCode,aggrLevel,primaryValue,classificationCode"


def test_comtrade_partner_names_are_converted(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text(HEADER + "\n2023,M,USA,Viet Nam,85,2,100,H6\n2023,M,USA,CN,85,2,300,H6\n"
                    "2023,M,USA,W00,85,2,999,H6\n")
    with pytest.warns(TradesimWarning) as caught:
        b = read_comtrade(path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "1 partner World" in message and "'Viet Nam' -> VNM (name)" in message and "'CN' -> CHN" in message
    assert b.trade("VNM", "USA") == 100 and b.trade("CHN", "USA") == 300


def test_comtrade_ambiguous_partner_is_an_error_even_when_folding(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text(HEADER + "\n2023,M,USA,Korea,85,2,100,H6\n")
    with pytest.raises(InputError, match=r"ct.csv: country labels that match more than one country: 'Korea': "
                                         r"100 USD in line 2"):
        read_comtrade(path, unknown="ROW")
