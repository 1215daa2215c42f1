"""UN Comtrade reader, on files in the Comtrade Plus bulk layout and the legacy bulk layout."""

import pytest

from tradesim import InputError, read_comtrade
from tradesim.errors import TradesimWarning

PLUS_HEADER = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,flowCode,flowDesc,"
    "partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,classificationCode,"
    "classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,isLeaf,customsCode,customsDesc,"
    "mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,"
    "isAltQtyEstimated,netWgt,isNetWgtEstimated,grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,"
    "legacyEstimationFlag,isReported,isAggregate"
)


def plus_row(reporter, flow, partner, cmd, level, value, partner2="0", customs="C00", mot="0"):
    iso = {"USA": "842", "CHN": "156", "VNM": "704", "W00": "0", "S19": "490"}
    return (
        f"C,A,20230101,2023,52,2023,{iso[reporter]},{reporter},{reporter} name,{flow},{flow} desc,"
        f"{iso[partner]},{partner},{partner} name,{partner2},W00,World,H6,HS,False,"
        f"{cmd},desc,{level},True,{customs},TOTAL CPC,0,{mot},TOTAL MOT,8,kg,10,False,-1,N/A,0,False,"
        f"10,False,0,False,{value},,{value},0,True,False"
    )


@pytest.fixture
def plus(tmp_path):
    rows = [
        plus_row("USA", "M", "CHN", "854231", 6, 1000.5),
        plus_row("USA", "M", "CHN", "950300", 6, 300),
        plus_row("USA", "M", "VNM", "10121", 6, 7),  # leading zero lost in a spreadsheet
        plus_row("USA", "M", "W00", "854231", 6, 5000),  # partner World: an aggregate
        plus_row("USA", "X", "CHN", "120190", 6, 900),  # an export row
        plus_row("USA", "M", "CHN", "854231", 6, 400, mot="2100"),  # a breakdown by mode of transport
    ]
    path = tmp_path / "comtrade.csv"
    path.write_text(PLUS_HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def cell(b, product, exporter, importer):
    return b.flows[b.products.index(product), b.country_index(exporter), b.country_index(importer)]


def test_imports_are_flows_from_partner_to_reporter(plus):
    with pytest.warns(TradesimWarning, match="1 other flows than M, 1 partner World, 1 breakdowns by transport"):
        b = read_comtrade(plus)
    assert b.year == 2023
    assert cell(b, "854231", "CHN", "USA") == 1000.5
    assert cell(b, "010121", "VNM", "USA") == 7
    assert b.flows.sum() == 1307.5
    assert "3 rows" not in b.provenance["set aside"] and "1 rows: partner World" in b.provenance["set aside"]


def test_exports_are_flows_from_reporter_to_partner(plus):
    with pytest.warns(TradesimWarning):
        b = read_comtrade(plus, flow="X", product_level=2)
    assert cell(b, "12", "USA", "CHN") == 900


def test_mixed_levels_need_a_choice(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        PLUS_HEADER + "\n" + plus_row("USA", "M", "CHN", "85", 2, 1500) + "\n"
        + plus_row("USA", "M", "CHN", "854231", 6, 1000) + "\n"
    )
    with pytest.raises(InputError, match=r"mixes product levels \[2, 6\]; pass product_level="):
        read_comtrade(path)
    with pytest.warns(TradesimWarning, match="1 product levels other than HS2"):
        b = read_comtrade(path, product_level=2)
    assert b.flows.sum() == 1500  # the chapter row, not chapter plus its subheading


def test_non_iso_partner_is_reported(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text(PLUS_HEADER + "\n" + plus_row("USA", "M", "S19", "854231", 6, 80) + "\n")
    with pytest.raises(InputError, match=r"'S19': 80 USD in line 2"):
        read_comtrade(path)
    b = read_comtrade(path, country_map={"S19": "TWN"})
    assert cell(b, "854231", "TWN", "USA") == 80


def test_negative_value_and_duplicates(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text(PLUS_HEADER + "\n" + plus_row("USA", "M", "CHN", "854231", 6, -3) + "\n")
    with pytest.raises(InputError, match=r"value '-3' is not a number >= 0 \(line 2\)"):
        read_comtrade(path)
    row = plus_row("USA", "M", "CHN", "854231", 6, 3)
    path.write_text(PLUS_HEADER + "\n" + row + "\n" + row + "\n")
    with pytest.raises(InputError, match=r"duplicate reporter, partner and product \(lines 2, 3\)"):
        read_comtrade(path)


def test_unknown_layout(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a UN Comtrade bulk file"):
        read_comtrade(path)
    with pytest.raises(InputError, match="flow='Z'"):
        read_comtrade(path, flow="Z")


LEGACY = """Classification,Year,Period,Period Desc.,Aggregate Level,Is Leaf Code,Trade Flow Code,Trade Flow,Reporter Code,Reporter,Reporter ISO,Partner Code,Partner,Partner ISO,2nd Partner Code,2nd Partner,2nd Partner ISO,Customs Proc. Code,Customs,Mode of Transport Code,Mode of Transport,Commodity Code,Commodity,Qty Unit Code,Qty Unit,Qty,Alt Qty Unit Code,Alt Qty Unit,Alt Qty,Netweight (kg),Gross weight (kg),Trade Value (US$),CIF Trade Value (US$),FOB Trade Value (US$),Flag
H5,2019,2019,2019,2,0,1,Import,842,USA,USA,156,China,CHN,,,,,,,,85,Electrical machinery,1,No Quantity,,,,,,,150000000,,,0
H5,2019,2019,2019,2,0,1,Import,842,USA,USA,0,World,WLD,,,,,,,,85,Electrical machinery,1,No Quantity,,,,,,,400000000,,,0
H5,2019,2019,2019,2,0,2,Export,842,USA,USA,156,China,CHN,,,,,,,,12,Oil seeds,1,No Quantity,,,,,,,8000000,,,0
H5,2019,2019,2019,2,0,1,Import,842,USA,USA,704,Viet Nam,VNM,,,,,,,,1,Live animals,1,No Quantity,,,,,,,2000,,,0
"""


def test_legacy_layout(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text(LEGACY)
    with pytest.warns(TradesimWarning):
        b = read_comtrade(path)
    assert b.year == 2019
    assert cell(b, "85", "CHN", "USA") == 150_000_000
    assert cell(b, "01", "VNM", "USA") == 2000  # "1" at aggregate level 2 is chapter 01
    with pytest.warns(TradesimWarning):
        x = read_comtrade(path, flow="X")
    assert cell(x, "12", "USA", "CHN") == 8_000_000
