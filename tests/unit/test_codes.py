import numpy as np
import pandas as pd
import pytest

from tradesim import InputError
from tradesim.codes import (
    CHAPTER_SECTION,
    SECTIONS,
    country_name,
    hs_chapter,
    hs_section,
    select_products,
    validate_countries,
    validate_country,
    validate_hs,
)


def test_every_chapter_has_exactly_one_section():
    # chapters 01-97 of the HS, and 98-99 that the HS leaves for national use (section XXII here)
    assert sorted(CHAPTER_SECTION) == [f"{c:02d}" for c in range(1, 100)]
    assert CHAPTER_SECTION["98"] == CHAPTER_SECTION["99"] == "XXII"
    assert len(SECTIONS) == 22  # the HS's 21 and the national chapters 98-99
    # Sections tile the chapters without gaps or overlaps.
    spans = sorted((lo, hi) for _, lo, hi in SECTIONS.values())
    assert spans[0][0] == 1 and spans[-1][1] == 99
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize(
    "code, section",
    [("0101", "I"), ("1201", "II"), ("1507", "III"), ("2709", "V"), ("3004", "VI"), ("7208", "XV"),
     ("8542", "XVI"), ("854231", "XVI"), ("8703", "XVII"), ("9018", "XVIII"), ("9503", "XX"), ("9701", "XXI")],
)
def test_known_sections(code, section):
    assert hs_section(code) == section


def test_chapter():
    assert hs_chapter("85423100") == "85"


@pytest.mark.parametrize(
    "code, fragment",
    [("85A1", "characters other than digits"), ("854", "3 digits"), ("0001", "chapter 00"),
     ("7701", "chapter 77"), ("0001", "chapter 00"), (8542, "is a int"), ("", "is empty")],
)
def test_bad_hs_codes(code, fragment):
    with pytest.raises(InputError, match=fragment):
        validate_hs(code)


def test_valid_hs_codes_pass_through():
    for code in ("01", "0101", "010121", "01012100", "0101210010"):
        assert validate_hs(code) == code


def test_country_validation_and_suggestions():
    assert validate_country("USA") == "USA"
    assert validate_country("ROW") == "ROW"
    assert validate_country("TWN") == "TWN"
    with pytest.raises(InputError, match="did you mean USA"):
        validate_country("US")
    with pytest.raises(InputError, match="did you mean CHN"):
        validate_country("chn")
    with pytest.raises(InputError, match="did you mean DEU"):
        validate_country("Germany")
    with pytest.raises(InputError, match="'XXY'"):
        validate_country("XXY")


def test_validate_countries_reports_all_problems_at_once():
    with pytest.raises(InputError) as err:
        validate_countries(["USA", "US", "CHINA", "MEX"], source="f.csv")
    msg = str(err.value)
    assert msg.startswith("f.csv: ")
    assert "'US'" in msg and "'CHINA'" in msg and "'MEX'" not in msg


def test_dataset_groups_extend_the_codes():
    assert validate_country("ASEAN", groups={"ASEAN": "members of ASEAN"}) == "ASEAN"
    with pytest.raises(InputError):
        validate_country("ASEAN")


def test_country_name():
    assert country_name("CHN") == "China"
    assert country_name("ROW") == "Rest of the world"


def test_select_products_prefix_semantics():
    products = ["0101", "8471", "8542", "854231", "85", "9503"]
    mask = select_products(products, ["85", "9503"])
    assert mask.tolist() == [False, False, True, True, True, True]
    # A prefix finer than a product does not select it (partial coverage is the tariff layer's job).
    assert select_products(["85"], ["854231"]).tolist() == [False]
    assert select_products([], ["85"]).tolist() == []
    with pytest.raises(InputError, match="characters other than digits"):
        select_products(products, ["85x"])


def test_select_products_matches_startswith_on_random_codes():
    rng = np.random.default_rng(0)
    products = [f"{rng.integers(1, 98):02d}{rng.integers(0, 10000):04d}" for _ in range(500)]
    products = [p for p in products if p[:2] != "77"]
    prefixes = ["01", "8542", "950300", "30"]
    expected = [any(p.startswith(q) for q in prefixes) for p in products]
    assert select_products(products, prefixes).tolist() == expected


# ---- converting country names, ISO alpha-2 and numeric codes (issue 23) ----

from tradesim.codes import COUNTRY_ALIASES, convert_countries, describe_conversions, hs_revision_label  # noqa: E402


@pytest.mark.parametrize(
    "label, code, how",
    [("Viet Nam", "VNM", "name"), ("Vietnam", "VNM", "name"), ("Korea, Republic of", "KOR", "name"),
     ("Rep. of Korea", "KOR", "name"), ("Korea, Rep.", "KOR", "name"), ("United States", "USA", "name"),
     ("United States of America", "USA", "name"), ("VN", "VNM", "ISO alpha-2"), ("vn", "VNM", "ISO alpha-2"),
     ("704", "VNM", "ISO numeric"), (704, "VNM", "ISO numeric"), ("4", "AFG", "ISO numeric"),
     ("704.0", "VNM", "ISO numeric"), ("usa", "USA", "letter case"), ("USA", "USA", ""), ("ROW", "ROW", ""),
     ("Rest of the world", "ROW", "name"), ("Côte d'Ivoire", "CIV", "name"), ("Cote d'Ivoire", "CIV", "name"),
     ("Türkiye", "TUR", "name"), ("Turkey", "TUR", "name"), ("China, Hong Kong SAR", "HKG", "name"),
     ("Lao PDR", "LAO", "name"), ("St. Lucia", "LCA", "name"), ("Bosnia Herzegovina", "BIH", "name"),
     ("Solomon Isds", "SLB", "name"), ("Congo, Dem. Rep.", "COD", "name"), ("Congo, Rep.", "COG", "name")],
)
def test_convert_countries_reads_names_and_codes(label, code, how):
    row = convert_countries([label]).iloc[0]
    assert row["code"] == code and row["how"] == how and row["problem"] is None


def test_convert_countries_never_guesses():
    table = convert_countries(["Korea", "Virgin Islands", "XXY", "842", "Yugoslavia"])
    assert table["code"].isna().all()
    assert table.loc["Korea", "candidates"] == ("KOR", "PRK")
    assert "ambiguous" in table.loc["Korea", "problem"] and "KOR" in table.loc["Korea", "problem"]
    assert table.loc["Virgin Islands", "candidates"] == ("VGB", "VIR")
    assert table.loc["XXY", "candidates"] == () and "unknown country code 'XXY'" in table.loc["XXY", "problem"]
    assert "ISO numeric 840" in table.loc["842", "problem"]  # UN Comtrade's code for the US is a hint, not a guess
    assert "former country" in table.loc["Yugoslavia", "problem"]


def test_convert_countries_strict_mode_and_groups():
    table = convert_countries(["VN", "Viet Nam", "USA", "ASEAN"], groups={"ASEAN": "members"}, country_format="iso3")
    assert table["code"].tolist() == [None, None, "USA", "ASEAN"]
    assert "did you mean VNM" in table.loc["VN", "problem"] and "country_format='auto'" in table.loc["VN", "problem"]
    with pytest.raises(InputError, match="country_format='names'"):
        convert_countries(["USA"], country_format="names")


def test_aliases_map_to_iso_codes_without_clashing():
    table = convert_countries(list(COUNTRY_ALIASES))
    assert table["code"].tolist() == list(COUNTRY_ALIASES.values())


def test_describe_conversions_lists_each_distinct_input():
    text = describe_conversions(convert_countries(["Viet Nam", "VN", "704", "USA"]))
    assert text == "'704' -> VNM (ISO numeric), 'VN' -> VNM (ISO alpha-2), 'Viet Nam' -> VNM (name)"


@pytest.mark.parametrize("value, label", [("HS2017", "HS2017"), ("HS 2017", "HS2017"), ("hs17", "HS2017"),
                                          ("H5", "HS2017"), (2022, "HS2022"), ("H6", "HS2022"), ("HS92", "HS1992"),
                                          ("H0", "HS1992"), ("unknown", "unknown")])
def test_hs_revision_labels(value, label):
    assert hs_revision_label(value) == label


def test_bad_hs_revision():
    with pytest.raises(InputError, match=r"'HS2019' is not an HS revision"):
        hs_revision_label("HS2019")


def test_labels_that_are_all_codes_read_as_they_do_among_names():
    """Labels that are all alpha-3 codes or groups (a bundled baseline's) skip the name tables: the same table
    as when a name among them makes the name matching run."""
    codes = ["USA", "CHN", "ROW", "DEU"]
    alone = convert_countries(codes)
    among = convert_countries([*codes, "Viet Nam"])
    pd.testing.assert_frame_equal(alone, among.loc[codes])
    assert among.loc["Viet Nam", "code"] == "VNM"
