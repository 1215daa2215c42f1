import numpy as np
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
