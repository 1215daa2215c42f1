"""HS revisions of baselines: which edition of the Harmonized System a baseline's product codes follow,
a check against the edition of the law's product lists, and the conversion of HS 2017 and HS 2012
baselines to HS 2022.

The HS is revised every five years (HS 2012, HS 2017, HS 2022): subheadings are split, merged,
moved and renumbered. tradesim's product lists are written in HS 2022, so a baseline read from a
BACI ``HS17`` file holds codes some of which no longer exist (852580, cameras, became 852581-89)
or mean something else. Readers record the revision in ``provenance["hs_revision"]``;
`hs_revision` reads it back, `check_hs_revision` warns when it differs from the law's, and
`to_hs2022` converts with the correlation and conversion tables of the UN Statistics Division
(``hs-concordance.csv.gz``, see README.md in this folder).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from scipy import sparse

from ..codes import hs_revision_label
from ..errors import InputError
from .baseline import Baseline
from .notes import warn_user

__all__ = ["hs_revision", "hs_revision_note", "check_hs_revision", "hs_concordance", "to_hs2022",
           "CONCORDANCE_REVISIONS"]

#: Revisions that `to_hs2022` converts from (the bundled concordance's).
CONCORDANCE_REVISIONS = ("HS2017", "HS2012")
#: HS 2022 is the edition of tradesim's product lists.
LISTS_REVISION = "HS2022"
_NATIONAL = ("98", "99")  # chapters the HS leaves to national use: kept as they are


def hs_revision(baseline: Baseline) -> str:
    """The HS revision of a baseline's product codes (``"HS2017"``), or ``"unknown"``.

    Read from ``baseline.provenance["hs_revision"]``, which the readers fill in (BACI from the
    file name, Comtrade from its classification column, tidy files from ``hs_revision=``) and
    the bundled baselines carry.

    Examples
    --------
    >>> from tradesim.data import load_baseline
    >>> hs_revision(load_baseline("demo-2024"))
    'HS2022'
    """
    value = baseline.provenance.get("hs_revision")
    return "unknown" if value in (None, "") else hs_revision_label(value)


@lru_cache(maxsize=1)
def _concordance() -> pd.DataFrame:
    with resources.files(__package__).joinpath("hs-concordance.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip", dtype=str).astype({"weight_usd": "float64"})


def hs_concordance(revision: str = "HS2017") -> pd.DataFrame:
    """The bundled concordance from `revision` to HS 2022, one row per pair of subheadings.

    Parameters
    ----------
    revision : {"HS2017", "HS2012"}
        The older revision (``"H5"``, ``"HS17"``... are read as well).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (older HS6 subheading), ``hs2022`` (an HS 2022 subheading it goes to),
        ``relationship`` (``1:1``, ``n:1``, ``1:n``, ``n:n``, from the UNSD correlation table),
        ``basis`` (``conversion``: the UNSD conversion table read backwards; ``correlation``:
        a deleted code, paired through the correlation table) and ``weight_usd`` (US imports
        for consumption in 2024 of the HS 2022 subheading, the default split weights).

    Examples
    --------
    >>> c = hs_concordance("HS2017")
    >>> c[c["code"] == "852580"]["hs2022"].tolist()[:4]
    ['852581', '852582', '852583', '852589']
    """
    revision = hs_revision_label(revision, key="revision")
    if revision not in CONCORDANCE_REVISIONS:
        raise InputError(f"no concordance from {revision} to HS2022 is bundled; bundled: {list(CONCORDANCE_REVISIONS)}",
                         key="revision")
    table = _concordance()
    return table[table["revision"] == revision].drop(columns="revision").reset_index(drop=True)


def _weights(weights, table: pd.DataFrame) -> tuple[pd.Series, str]:
    """Split weights by HS 2022 subheading, and their description."""
    if weights is None:
        return table.groupby("hs2022")["weight_usd"].first(), "the shares of US imports in 2024"
    if isinstance(weights, str):
        if weights != "equal":
            raise InputError(f"weights={weights!r}: expected None (US imports 2024), 'equal', a mapping of HS 2022 "
                             "codes to values, a table with product and value columns, or a Baseline", key="weights")
        return pd.Series(1.0, index=pd.unique(table["hs2022"])), "equal shares"
    if isinstance(weights, Baseline):
        values = pd.Series(weights.flows.sum(axis=(1, 2)), index=list(weights.products))
        what = "the shares of the flows of the baseline given as weights"
    elif isinstance(weights, pd.DataFrame):
        if not {"product", "value"} <= set(weights.columns):
            raise InputError(f"weights table needs columns product and value; it has {list(weights.columns)}",
                             key="weights")
        values = weights.groupby(weights["product"].astype(str))["value"].sum()
        what = "the shares of the weights given"
    elif isinstance(weights, Mapping | pd.Series):
        values = pd.Series(dict(weights))
        what = "the shares of the weights given"
    else:
        raise InputError(f"weights of type {type(weights).__name__}: expected None, 'equal', a mapping, a table "
                         "or a Baseline", key="weights")
    values = pd.to_numeric(values, errors="coerce")
    bad = values.index[values.isna() | ~np.isfinite(values.fillna(0)) | (values < 0)]
    if len(bad):
        raise InputError(f"weights must be numbers >= 0; {bad[0]!r} has {values[bad[0]]!r}", key="weights")
    codes = values.index.astype(str)
    fine = codes.str.len() >= 6
    values = values[fine].groupby(codes[fine].str[:6]).sum()
    return values, what


def _shares(table: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Each pair's share of its older code's value: by weight, equal where all of a code's targets weigh 0."""
    pairs = table[["code", "hs2022"]].copy()
    pairs["w"] = pairs["hs2022"].map(weights).fillna(0.0).to_numpy()
    total = pairs.groupby("code")["w"].transform("sum")
    count = pairs.groupby("code")["hs2022"].transform("size")
    pairs["equal"] = total.to_numpy() <= 0
    pairs["share"] = np.where(pairs["equal"], 1.0 / count, pairs["w"] / np.where(total > 0, total, 1.0))
    return pairs


def _coarse(pairs: pd.DataFrame, level: int) -> pd.DataFrame:
    """Shares at HS2 or HS4: an older prefix goes to the newer prefixes in proportion to the weights of the
    HS6 pairs under it (equal shares over its pairs when they all weigh 0)."""
    p = pd.DataFrame({"code": pairs["code"].str[:level], "hs2022": pairs["hs2022"].str[:level],
                      "w": np.where(pairs["equal"], 0.0, pairs["w"]), "n": 1.0})
    grouped = p.groupby(["code", "hs2022"], as_index=False)[["w", "n"]].sum()
    total = grouped.groupby("code")["w"].transform("sum")
    count = grouped.groupby("code")["n"].transform("sum")
    grouped["equal"] = total.to_numpy() <= 0
    grouped["share"] = np.where(grouped["equal"], grouped["n"] / count, grouped["w"] / np.where(total > 0, total, 1.0))
    return grouped


def _conversion(products: tuple[str, ...], revision: str, weights) -> tuple[pd.DataFrame, str]:
    """Pairs (old product, new product, share, equal) for every product of a baseline."""
    codes = pd.Series(products)
    lengths = codes.str.len()
    bad = codes[~codes.str.fullmatch(r"\d+") | ~lengths.isin([2, 4, 6])]
    if len(bad):
        raise InputError(f"products {bad.tolist()[:10]} are not HS codes of 2, 4 or 6 digits: the HS concordance "
                         "converts HS subheadings (6 digits) and the headings and chapters made of them; national "
                         "tariff lines (8-10 digits) follow national nomenclatures", key="products")
    table = hs_concordance(revision)
    values, what = _weights(weights, table)
    pairs = _shares(table, values)
    found = []
    for level in (2, 4, 6):  # three levels at most, each one vectorised
        wanted = codes[lengths == level]
        if wanted.empty:
            continue
        level_pairs = pairs if level == 6 else _coarse(pairs, level)
        hit = level_pairs[level_pairs["code"].isin(wanted)]
        national = wanted[wanted.str[:2].isin(_NATIONAL) | (wanted == "999999")]
        missing = wanted[~wanted.isin(hit["code"]) & ~wanted.isin(national)]
        if len(missing):
            raise InputError(f"products {missing.tolist()[:10]} are not {revision} codes (none of its subheadings "
                             f"{'is' if level == 6 else 'starts with'} them): is the baseline in {revision}?",
                             key="products")
        keep = national[~national.isin(hit["code"])]
        found += [hit[["code", "hs2022", "share", "equal"]],
                  pd.DataFrame({"code": keep, "hs2022": keep, "share": 1.0, "equal": False})]
    out = pd.concat(found, ignore_index=True)
    return out[out["share"] > 0].reset_index(drop=True), what


def to_hs2022(baseline: Baseline, *, weights=None, from_revision: str | None = None) -> Baseline:
    """The baseline with its products in HS 2022, converted from HS 2017 or HS 2012.

    Each older subheading's value goes to the HS 2022 subheadings that the UN Statistics
    Division's conversion table traces back to it (``tradesim.data.hs_concordance``); where
    there are several, it is split in proportion to `weights`, by equal shares where all of
    them weigh nothing. Headings (4 digits) and chapters (2 digits) go to the HS 2022 headings
    and chapters in proportion to the weights of the subheading pairs under them. Products of
    the national chapters 98 and 99 stay as they are. Values are kept exactly: the flows of
    each exporter and importer sum to the same total.

    Parameters
    ----------
    baseline : Baseline
        Products of 2, 4 or 6 digits in HS 2017 or HS 2012, as its ``provenance["hs_revision"]``
        says (or `from_revision`).
    weights : None, "equal", mapping, pandas.DataFrame or Baseline, optional
        Split weights by HS 2022 subheading: by default the US imports for consumption in 2024
        (USD, Census, bundled); ``"equal"``; a mapping or Series of HS 2022 codes to values; a
        table with ``product`` and ``value`` columns; or an HS 2022 baseline (its flows summed
        by product). Codes finer than six digits are summed to their subheading.
    from_revision : str, optional
        The revision of the products when the provenance does not give it.

    Returns
    -------
    Baseline
        Products in HS 2022 (sorted); flows ``[product, exporter, importer]`` split and summed
        as above; tariffs averaged with the flows as weights; cells that received part of a
        split product marked ``imputed``. ``provenance["hs_revision"]`` is ``"HS2022"``;
        ``provenance["hs_conversion"]`` says what was done, and a `TradesimWarning` says it
        once. A baseline already in HS 2022 is returned as it is.

    Raises
    ------
    InputError
        When the revision is unknown, has no bundled concordance (older than HS 2012), or
        disagrees with `from_revision`; for products that are not codes of that revision
        (naming them) or are national lines of 8-10 digits; for negative or non-numeric weights.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> df = pd.DataFrame({"exporter": ["CHN", "JPN"], "importer": ["USA", "USA"],
    ...                    "product": ["852580", "847130"], "value": [10e9, 2e9]})
    >>> b17 = Baseline.from_frame(df, hs_revision="HS2017")
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     b22 = to_hs2022(b17)
    >>> b22.products[:5], b22.provenance["hs_revision"]
    (('847130', '852581', '852582', '852583', '852589'), 'HS2022')
    >>> round(b22.trade("CHN", "USA") / 1e9, 6), round(b22.trade("JPN", "USA") / 1e9, 6)
    (10.0, 2.0)
    """
    stated = hs_revision(baseline)
    if from_revision is not None:
        given = hs_revision_label(from_revision, key="from_revision")
        if stated not in ("unknown", given):
            raise InputError(f"from_revision={from_revision!r}, but the baseline's provenance says {stated}",
                             key="from_revision")
        stated = given
    if stated == LISTS_REVISION:
        return baseline
    if stated == "unknown":
        raise InputError("the baseline's HS revision is unknown: pass from_revision='HS2017' (or 'HS2012'), or read "
                         "the file with hs_revision=", key="from_revision")
    if stated not in CONCORDANCE_REVISIONS:
        raise InputError(f"the baseline is in {stated}; a concordance to HS2022 is bundled only from "
                         f"{' and '.join(CONCORDANCE_REVISIONS)}: convert the data to one of those first",
                         key="from_revision")
    pairs, what = _conversion(baseline.products, stated, weights)
    old = pd.Index(baseline.products)
    new = sorted(pd.unique(pairs["hs2022"]))
    rows = pd.Index(new).get_indexer(pairs["hs2022"])
    cols = old.get_indexer(pairs["code"])
    k_new, k_old = len(new), len(old)
    share = sparse.csr_matrix((pairs["share"].to_numpy(), (rows, cols)), shape=(k_new, k_old))
    flat = baseline.flows.reshape(k_old, -1)
    flows = (share @ flat).reshape(k_new, *baseline.flows.shape[1:])
    # A product is split when a share below 1 leaves it.
    split_old = np.zeros(k_old, bool)
    split_old[cols[pairs["share"].to_numpy() < 1 - 1e-12]] = True
    touched = sparse.csr_matrix(((share > 0) @ sparse.diags(split_old.astype(float))).astype(float))
    receives_split = (touched @ (flat > 0).astype(float)) > 0
    imputed = None
    if baseline.imputed is not None or receives_split.any():
        before = np.zeros(flat.shape) if baseline.imputed is None else baseline.imputed.reshape(k_old, -1).astype(float)
        imputed = (((share > 0).astype(float) @ before) > 0) | receives_split
        imputed = imputed.reshape(flows.shape)
    tariffs = None
    if baseline.tariffs is not None:
        rates = baseline.tariffs.reshape(k_old, -1)
        weighted = share @ (flat * rates)
        simple = (share @ rates) / np.asarray(share.sum(axis=1)).reshape(-1, 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(flows.reshape(k_new, -1) > 0, weighted / np.where(flows.reshape(k_new, -1) > 0,
                                                                              flows.reshape(k_new, -1), 1), simple)
        tariffs = np.clip(mean, rates.min(), rates.max()).reshape(flows.shape)
    note = _describe(pairs, baseline, stated, what)
    provenance = {**baseline.provenance, "hs_revision": LISTS_REVISION, "hs_revision_original": stated,
                  "hs_conversion": note}
    out = Baseline(None, tuple(new), flows, tariffs, baseline.year, provenance, imputed, baseline.domestic,
                   baseline.groups, exporters=baseline.exporters, importers=baseline.importers)
    warn_user(f"{_name(baseline)}: {note}")
    return out


def _name(baseline: Baseline) -> str:
    """The baseline's name or file, for messages."""
    p = baseline.provenance
    return str(p.get("name") or p.get("file") or p.get("source") or "the baseline")


def _describe(pairs: pd.DataFrame, baseline: Baseline, revision: str, what: str) -> str:
    """What `to_hs2022` did, in one sentence with counts and values."""
    per_old = pairs.groupby("code").agg(n=("hs2022", "size"), equal=("equal", "any"))
    stays = pairs[(pairs["code"] == pairs["hs2022"])].set_index("code")["share"]
    per_old["same"] = per_old.index.isin(stays[stays >= 1 - 1e-12].index)
    split = per_old[per_old["n"] > 1]
    renamed = per_old[(per_old["n"] == 1) & ~per_old["same"]]
    merged = int((pairs.groupby("hs2022")["code"].nunique() > 1).sum())
    value = pd.Series(baseline.flows.sum(axis=(1, 2)), index=list(baseline.products))
    kept = stays.reindex(value.index).fillna(0.0)
    moved = float((value * (1 - kept)).sum())
    total = float(value.sum())
    pct = 100 * moved / total if total > 0 else 0.0
    equal = int(split["equal"].sum())
    parts = [f"{int(per_old['same'].sum())} unchanged", f"{len(renamed)} renamed",
             f"{len(split)} split over {int(split['n'].sum())} HS2022 codes by {what}"
             + (f" ({equal} by equal shares, their targets having no weight)" if equal else "")]
    if merged:
        parts.append(f"{merged} HS2022 code{'s' if merged != 1 else ''} made of several")
    return (f"converted {len(per_old)} products from {revision} to HS2022 with the UN Statistics Division's "
            f"correlation and conversion tables: {', '.join(parts)}; USD {moved / 1e9:,.3f}bn ({pct:.2f}% of the "
            "flows) moved to other codes; cells that received part of a split product are marked imputed")


def hs_revision_note(baseline: Baseline, expected: str = LISTS_REVISION, *,
                     what: str = "the law's product lists") -> str | None:
    """Why a baseline's HS revision does not fit `expected` (with what to do), or None when it does.

    Parameters
    ----------
    baseline : Baseline
    expected : str
        The revision of the codes it will meet (the law's lists are ``"HS2022"``).
    what : str
        Those codes, in words, for the message.

    Examples
    --------
    >>> from tradesim.data import load_baseline
    >>> hs_revision_note(load_baseline("demo-2024")) is None
    True
    """
    expected = hs_revision_label(expected, key="expected")
    found = hs_revision(baseline)
    if found == expected:
        return None
    source = _name(baseline)
    if found == "unknown":
        return (f"{source}: the HS revision of the baseline's products is unknown and {what} are written in "
                f"{expected}: codes that changed between revisions may be missed or misread. Read the file with "
                "hs_revision='HS2017' (or its revision) and convert it with tradesim.data.to_hs2022")
    if expected == LISTS_REVISION and found in CONCORDANCE_REVISIONS:
        try:
            pairs, _ = _conversion(baseline.products, found, "equal")
        except InputError as err:
            return (f"{source}: the baseline's products are in {found} and {what} in {expected}; converting them "
                    f"fails: {err.message}")
        same = pairs["code"] == pairs["hs2022"]
        changed = ~pairs.assign(same=same).groupby("code")["same"].agg("all") | (pairs.groupby("code").size() > 1)
        value = pd.Series(baseline.flows.sum(axis=(1, 2)), index=list(baseline.products))
        moved = float(value[changed[changed].index.intersection(value.index)].sum())
        return (f"{source}: the baseline's products are in {found} and {what} in {expected}: {int(changed.sum())} of "
                f"its {len(baseline.products)} products (USD {moved / 1e9:,.2f}bn) changed between the two, and "
                "measures on them may miss or misplace trade. Convert it first: tradesim.data.to_hs2022(baseline)")
    return (f"{source}: the baseline's products are in {found} and {what} in {expected}, and no concordance between "
            f"the two is bundled (to_hs2022 converts from {' and '.join(CONCORDANCE_REVISIONS)}): convert the data "
            "before reading them")


def check_hs_revision(baseline: Baseline, expected: str = LISTS_REVISION, *,
                      what: str = "the law's product lists", unknown: str = "ignore") -> str | None:
    """Warn once, at the user's line, when a baseline's HS revision is not `expected`; return the note.

    The law layer calls it before evaluating product lists on a baseline:
    ``check_hs_revision(baseline, "HS2022", what="the product lists of schedule 'tariffs-2025'")``.

    Parameters
    ----------
    baseline : Baseline
    expected, what : str
        As in `hs_revision_note`.
    unknown : {"ignore", "warn"}
        Whether an unknown revision (a tidy file read without ``hs_revision=``) warns too;
        by default its note is returned without a warning.

    Returns
    -------
    str or None
        The note (`hs_revision_note`), warned or not.

    Examples
    --------
    >>> from tradesim.data import load_baseline
    >>> check_hs_revision(load_baseline("demo-2024")) is None
    True
    """
    if unknown not in ("ignore", "warn"):
        raise InputError(f"unknown={unknown!r}: expected 'ignore' or 'warn'", key="unknown")
    note = hs_revision_note(baseline, expected, what=what)
    if note and (hs_revision(baseline) != "unknown" or unknown == "warn"):
        warn_user(note)
    return note

