"""WITS/TRAINS tariff downloads: read into rates by importer and product, written as an MFN layer's rates file."""

import textwrap
import warnings
from pathlib import Path

import pytest

from tradesim import InputError, TariffSchedule
from tradesim.data import read_wits_tariffs, wits_mfn_rates_file
from tradesim.errors import TradesimWarning

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "wits_tariffs_usa_2025.csv"

QUERY = ("Selected Nomen,Native Nomen,Reporter,Reporter Name,Product,Product Name,Partner,Partner Name,Tariff Year,"
         "Trade Year,DutyType,Simple Average,Weighted Average,Minimum Rate,Maximum Rate,Nbr of Total Lines\n")
BULK = ("NomenCode,Reporter_ISO_N,Year,ProductCode,Sum_Of_Rates,Min_Rate,Max_Rate,SimpleAverage,Nbr_NA_Lines,"
        "Nbr_Free_Lines,Nbr_AVE_Lines,Nbr_Dutiable_Lines,TotalNoOfValidLines,TotalNoOfLines,EstCode\n")


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        return fn(*args, **kwargs)


def write(tmp_path, text, name="wits.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_sample_file_reads_into_mfn_rates():
    with pytest.warns(TradesimWarning) as caught:
        t = read_wits_tariffs(SAMPLE)
    assert len(caught) == 1
    assert "1 product groups" in str(caught[0].message) and "2 without an ad valorem rate" in str(caught[0].message)
    assert list(t.columns) == ["importer", "hs_code", "rate_pct", "duty_type", "year", "partner", "hs_revision"]
    assert set(t["importer"]) == {"USA"} and set(t["duty_type"]) == {"MFN"} and set(t["year"]) == {2025}
    assert set(t["hs_revision"]) == {"HS2022"} and set(t["partner"]) == {"WLD"}
    rates = dict(zip(t["hs_code"], t["rate_pct"]))
    assert rates["870323"] == 2.5 and rates["847130"] == 0.0 and rates["020230"] == pytest.approx(10.88)
    assert "100590" not in rates and "220421" not in rates  # specific duties only: no ad valorem rate
    weighted = quiet(read_wits_tariffs, SAMPLE, rate="weighted")
    assert dict(zip(weighted["hs_code"], weighted["rate_pct"]))["611020"] == pytest.approx(16.39)
    assert t.attrs["layout"] == "query" and t.attrs["rate"] == "Simple Average"


def test_rates_file_makes_an_mfn_layer(tmp_path):
    t = quiet(read_wits_tariffs, SAMPLE)
    path = wits_mfn_rates_file(t, "USA", tmp_path / "us_mfn.csv")
    lines = path.read_text().splitlines()
    assert lines[0] == "hs_code,rate_pct" and "870323,2.5" in lines and len(lines) == len(t) + 1
    schedule = tmp_path / "s.toml"
    schedule.write_text(textwrap.dedent("""
        [[measures]]
        name = "us_mfn"
        kind = "mfn"
        importer = "USA"
        rates_file = "us_mfn.csv"
        start = 2025-01-01
    """))
    s = TariffSchedule.from_file(schedule)
    assert s.rate("2025-06-01", "870323", "JPN", "USA") == pytest.approx(0.025)
    assert s.rate("2025-06-01", "611020", "VNM", "USA") == pytest.approx(0.1075)


def test_bulk_trains_layout_numeric_reporters_and_lost_zeros(tmp_path):
    path = write(tmp_path, BULK + "H5,840,2019,10121,0,0,0,0,0,1,0,0,1,1,\n"
                 "H5,840,2019,870323,2.5,2.5,2.5,2.5,0,0,0,1,1,1,\n"
                 "H5,918,2019,870323,10,10,10,10,0,0,0,1,1,1,\n"
                 "H5,840,2019,220421,,,,,2,0,0,0,0,2,\n")
    with pytest.warns(TradesimWarning) as caught:
        t = read_wits_tariffs(path)
    message = str(caught[0].message)
    assert len(caught) == 1 and "'840' -> USA (ISO numeric)" in message and "['918'] read as EU27" in message
    assert "1 without an ad valorem rate" in message
    assert t[["importer", "hs_code", "rate_pct"]].values.tolist() == [
        ["EU27", "870323", 10.0], ["USA", "010121", 0.0], ["USA", "870323", 2.5]]
    assert set(t["hs_revision"]) == {"HS2017"} and set(t["duty_type"]) == {"MFN"} and t.attrs["layout"] == "bulk"
    with pytest.warns(TradesimWarning, match="are in HS2017"):
        wits_mfn_rates_file(t, "EU27", tmp_path / "eu.csv")


def test_duty_types_years_and_importers(tmp_path):
    path = write(tmp_path, QUERY + "HS,H6,CHN,China,870323,Cars,WLD,World,2023,2022,MFN,15,15,15,15,1\n"
                 "HS,H6,CHN,China,870323,Cars,AUS,Australia,2023,2022,PRF,0,0,0,0,1\n"
                 "HS,H6,CHN,China,870323,Cars,WLD,World,2024,2023,MFN,15,15,15,15,1\n"
                 "HS,H6,Viet Nam,Viet Nam,870323,Cars,WLD,World,2024,2023,MFN,64,64,64,64,1\n")
    every = quiet(read_wits_tariffs, path, duty_type=None)
    assert len(every) == 4 and set(every["duty_type"]) == {"MFN", "PRF"}
    assert every.loc[every["duty_type"] == "PRF", "partner"].tolist() == ["AUS"]
    t = quiet(read_wits_tariffs, path)
    with pytest.raises(InputError, match=r"CHN has MFN rates for years \[2023, 2024\]; pass year="):
        wits_mfn_rates_file(t, "CHN", tmp_path / "cn.csv")
    assert wits_mfn_rates_file(t, "CHN", tmp_path / "cn.csv", year=2024).read_text() == "hs_code,rate_pct\n870323,15.0\n"
    with pytest.raises(InputError, match=r"no MFN rates for JPN; the table has them for \['CHN', 'VNM'\]"):
        wits_mfn_rates_file(t, "JPN", tmp_path / "jp.csv")
    only = quiet(read_wits_tariffs, path, year=2024, importers=["VNM"])
    assert only["importer"].tolist() == ["VNM"] and only["rate_pct"].tolist() == [64.0]


@pytest.mark.parametrize(
    "row, fragment",
    [("HS,H6,USA,United States,870323,Cars,WLD,World,2025,2024,MFN,abc,,,,1", r"rate 'abc' is not a percentage from 0 "
                                                                             r"to 2,000 \(line 3\)"),
     ("HS,H6,USA,United States,870323,Cars,WLD,World,2025,2024,MFN,-1,,,,1", r"rate '-1' .* \(line 3\)"),
     ("HS,H6,USA,United States,870323,Cars,WLD,World,2025,2024,MFN,2500,,,,1", r"rate '2500' .* \(line 3\)"),
     ("HS,H6,USA,United States,870323,Cars,WLD,World,2025,2024,MFN,2.5,,,,1", r"two rows for USA MFN 870323 from WLD in "
                                                                            r"2025 \(lines 2, 3\)"),
     ("HS,H6,USA,United States,870323,Cars,WLD,World,25,2024,MFN,2.5,,,,1", r"year '25' is not a year \(line 3\)"),
     ("HS,S3,USA,United States,7810,Cars,WLD,World,2025,2024,MFN,2.5,,,,1", r"nomenclature 'S3' is not an HS revision"),
     ("HS,H6,Korea,Korea,950300,Toys,WLD,World,2025,2024,MFN,2.5,,,,1", r"'Korea': line 3; it matches 2 countries")],
)
def test_bad_rows_name_file_line_and_value(tmp_path, row, fragment):
    path = write(tmp_path, QUERY + "HS,H6,USA,United States,870323,Cars,WLD,World,2025,2024,MFN,2.5,,,,1\n" + row + "\n")
    with pytest.raises(InputError, match=fragment) as err:
        read_wits_tariffs(path)
    assert str(err.value).startswith(str(path))


def test_not_a_wits_file(tmp_path):
    path = write(tmp_path, "a,b\n1,2\n")
    with pytest.raises(InputError, match=r"not a WITS/TRAINS tariff file: its columns are \['a', 'b'\]"):
        read_wits_tariffs(path)
    with pytest.raises(InputError, match="duty_type='XYZ'"):
        read_wits_tariffs(SAMPLE, duty_type="XYZ")
    with pytest.raises(InputError, match=r"no rows for year 2019; the file holds \[2025\]"):
        read_wits_tariffs(SAMPLE, year=2019)
