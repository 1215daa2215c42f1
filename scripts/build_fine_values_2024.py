"""Build ``tradesim/data/fine-values-2024.csv.gz``: trade values finer than HS chapters for the demo-2024 baseline.

The tariff-law layer applies product lists written at HTS8, HS6 or HS4 to trade
measured by chapter. It needs the value of each listed line inside its chapter;
without it, it falls back to equal weights on the chapter's subheadings. This
file gives those values for both directions of the US-China tariff war in the
``demo-2024`` baseline, such that every (exporter, importer, chapter) sums
exactly to the baseline's cell.

Usage::

    python scripts/build_fine_values_2024.py            # writes the file
    python scripts/build_fine_values_2024.py --check    # exits 1 if the committed file differs
    python scripts/build_fine_values_2024.py --reference PATH/TO/shared/reference

Columns ``exporter, importer, member, product, value, source``: USD, whole
dollars; ``source`` starts with ``measured:``, ``imputed:`` or ``remainder:``;
``member`` names the partner inside ROW a ROW row is for (empty on other rows).

Inputs
------
Bundled (``tradesim/data/``): ``us-imports-2024.csv.gz`` and
``facts_us_imports_2024.csv`` (scripts/build_us_imports_2024.py),
``demo-2024.csv`` (scripts/build_demo_2024.py) and
``facts_product_items_2024.csv``. From ``shared/reference``:
``us_law_2025/tradewartracker/china-{10,15}-percent-US-exports-030425.csv``, US
exports to China in 2024 by HS6 of the goods on China's lists of 4 March 2025
(Census data compiled by tradewartracker/trade-war-redux-2025, MIT).

US imports (importer ``USA``)
-----------------------------
- The 13 demo-2024 partners that the Census HTS8 file has (CHN, CAN, MEX, JPN,
  KOR, TWN, VNM, IND, GBR, BRA, AUS, THA, MYS): their measured HTS8 lines, as in
  ``us-imports-2024``.
- Germany has no HTS8 rows of its own (it is inside the EU aggregate only):
  the EU27's HTS8 mix, scaled in each chapter to Germany's measured chapter total
  (imputed).
- ROW (every partner outside demo-2024), by member: each non-demo partner
  measured at HTS8 (36 countries) with its measured lines; member EU27, the
  EU27 less Germany's share above (imputed); member ROW, the partners measured
  at HS2 only: ROW's measured chapter total less the members', spread over the
  lines by the members' HTS8 mix (imputed). A chapter with no member line keeps
  its measured value on the chapter code (member ROW).

China's imports from the US (exporter ``USA``, importer ``CHN``)
----------------------------------------------------------------
- The HS6 lines of China's March 2025 lists with their measured 2024 US exports.
- Products of ``facts_product_items_2024.csv`` that those lines do not cover,
  on their own codes: crude oil (2709), LNG (271111), coal (2701, with coke) and
  semiconductors (the reported 8541-8542 value, placed on 8542: imputed
  placement). Soybeans are covered by the Census lines; grains and meat have no
  code and are covered by them too.
- The rest of each chapter (demo-2024's chapter value less the items) on the
  chapter code itself. Where the items exceed the chapter value (chapter 12:
  Census soybean exports 12.76bn against the USDA 12.64bn that demo-2024 uses),
  they are scaled down to it and the row says so.

Rounding keeps every chapter's sum exact (largest remainder within the chapter).
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tradesim" / "data"
OUT = DATA / "fine-values-2024.csv.gz"
DEFAULT_REFERENCE = ROOT.parent / "shared" / "reference"
CHINA_LISTS = {
    "10": Path("us_law_2025") / "tradewartracker" / "china-10-percent-US-exports-030425.csv",
    "15": Path("us_law_2025") / "tradewartracker" / "china-15-percent-US-exports-030425.csv",
}

DEMO = ["USA", "CHN", "CAN", "MEX", "JPN", "KOR", "TWN", "VNM", "IND", "DEU", "GBR", "BRA", "AUS", "THA", "MYS", "ROW"]

#: Where each China-side product fact goes: (code, how the placement is made). None: leave it to the Census
#: lines (which cover soybeans, grains and meat in detail) and to the chapter remainder.
ITEM_CODES = {
    "1201": None,  # soybeans: the Census HS6 line 120190 is on China's list; USDA's value is not added
    "AG_GRAINS": None,  # no HS code; chapter 10 lines of China's lists carry the detail
    "AG_MEAT": None,  # no HS code; chapter 02 lines of China's lists carry the detail
    "2709": ("2709", "measured"),  # crude petroleum
    "2711 (LNG)": ("271111", "measured"),  # liquefied natural gas is HS subheading 2711.11
    "2701/2704 (inferred)": ("2701", "imputed placement"),  # coal, with any coke (2704): split not reported
    "8541-8542 (inferred)": ("8542", "imputed placement"),  # split between 8541 and 8542 not reported
}

MEASURED_HS8 = "measured: Census imports for consumption 2024, HTS8"
DEU_PROXY = ("imputed: EU27's HTS8 mix scaled to Germany's measured chapter total "
             "(Germany has no HTS8 rows of its own in the Census files)")
EU_REST = ("imputed: Census imports for consumption 2024 from the EU27 at HTS8, less Germany's share "
           "(the EU27's value times one minus Germany's share of it in the chapter)")
ROW_REST = ("imputed: ROW's measured chapter total less its members measured at HTS8 (the partners measured at HS2 "
            "only), spread over the lines by the HTS8 mix of the {n} members and the EU27 less Germany's share")
ROW_CHAPTER = "measured: Census imports for consumption 2024, HS2 (no HTS8 line of the mix in this chapter)"
CHINA_LINE = ("measured: US Census exports to China 2024, HS6, goods on China's {rate}% list of 4 Mar 2025 "
              "(tradewartracker china-{rate}-percent-US-exports-030425.csv)")
REMAINDER = "remainder: demo-2024 USA-to-CHN chapter value ({method}) less the items listed in the chapter"


class BuildError(Exception):
    """A problem with the inputs or a failed check; the message names the file, the row and the value."""


def round_to_totals(frame: pd.DataFrame, keys: list[str], target: pd.Series) -> pd.Series:
    """Whole dollars per row whose sum over each group of `keys` equals `target` exactly.

    Largest-remainder rounding within each group, ties broken by product code.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns `keys`, ``product`` and ``value`` (float USD, non-negative).
    keys : list of str
        Columns that define a group (for example exporter and chapter).
    target : pandas.Series
        Integer total per row's group, aligned with `frame`.

    Returns
    -------
    pandas.Series of int64, aligned with `frame`.
    """
    floor = np.floor(frame["value"])
    short = target - floor.groupby([frame[k] for k in keys]).transform("sum")
    if ((short < 0) | (short > frame.groupby(keys)["value"].transform("size"))).any():
        raise BuildError("rounding: a group's values do not add up to its target")
    order = frame.assign(_rem=floor - frame["value"]).sort_values(keys + ["_rem", "product"], kind="stable")
    rank = order.groupby(keys).cumcount()
    bump = (rank < short[order.index]).astype("int64").reindex(frame.index)
    return (floor + bump).astype("int64")


def read_bundled() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    us = pd.read_csv(DATA / "us-imports-2024.csv.gz", dtype={"product": str})
    facts = pd.read_csv(DATA / "facts_us_imports_2024.csv", dtype={"chapter": str})
    demo = pd.read_csv(DATA / "demo-2024.csv", dtype={"product": str})
    items = pd.read_csv(DATA / "facts_product_items_2024.csv", dtype={"chapter": str, "code": str})
    return us, facts, demo, items


def us_side(us: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """US imports from the demo-2024 partners and ROW by HTS8 line, summing to the measured chapters."""
    chapter_total = facts.set_index(["exporter", "chapter"])["value_usd"]
    fine = us[us["product"].str.len() == 8].assign(chapter=lambda f: f["product"].str[:2])
    own = fine[fine["exporter"].isin(DEMO)]
    missing = sorted(set(DEMO) - {"USA", "DEU", "ROW"} - set(own["exporter"]))
    if missing:
        raise BuildError(f"us-imports-2024.csv.gz: demo-2024 partners {missing} have no HTS8 rows")
    if "DEU" in set(fine["exporter"]):
        raise BuildError("us-imports-2024.csv.gz has HTS8 rows for DEU: use them instead of the EU27 proxy")
    parts = [own.assign(source=MEASURED_HS8, member="")[["exporter", "member", "product", "chapter", "value",
                                                         "source"]]]

    # Germany: the EU27 mix scaled to Germany's measured chapters.
    eu = fine[fine["exporter"] == "EU27"]
    eu_total = eu.groupby("chapter")["value"].sum()
    deu_total = chapter_total["DEU"]
    over = deu_total[deu_total > eu_total.reindex(deu_total.index, fill_value=0)]
    if len(over):
        raise BuildError(f"facts_us_imports_2024.csv: DEU chapter {over.index[0]} ({over.iloc[0]:,}) exceeds EU27's")
    share = (deu_total / eu_total).reindex(eu_total.index, fill_value=0.0)
    deu = eu.assign(exporter="DEU", value=eu["value"] * eu["chapter"].map(share), source=DEU_PROXY)
    deu = deu[deu["value"] > 0]
    parts.append(deu.assign(member="")[["exporter", "member", "product", "chapter", "value", "source"]])

    # ROW: its members. Each partner outside demo-2024 measured at HTS8 (and the EU27 less Germany's share) with
    # its own lines; the partners measured at HS2 only as the remainder member ROW, spread over the members' mix.
    others = fine[~fine["exporter"].isin(DEMO + ["EU27"])]
    eu_rest = eu.assign(exporter="EU27", value=eu["value"] * (1 - eu["chapter"].map(share)))
    members = pd.concat([others.assign(source=MEASURED_HS8), eu_rest.assign(source=EU_REST)])
    members = members[members["value"] > 0].rename(columns={"exporter": "member"})
    row_total = chapter_total["ROW"]
    members = members[members["chapter"].isin(row_total.index)]
    mix = members.groupby(["product", "chapter"], as_index=False)["value"].sum()
    mix_total = mix.groupby("chapter")["value"].sum()
    rest = row_total.reindex(mix_total.index) - mix_total
    if (rest < -0.5).any():
        ch = rest.index[rest < -0.5][0]
        raise BuildError(f"chapter {ch}: ROW's members measured at HTS8 ({mix_total[ch]:,.0f}) exceed ROW's measured "
                         f"chapter total ({row_total[ch]:,.0f}) in facts_us_imports_2024.csv")
    remainder = mix.assign(member="ROW", value=mix["value"] * mix["chapter"].map(rest.clip(lower=0) / mix_total),
                           source=ROW_REST.format(n=others["exporter"].nunique()))
    remainder = remainder[remainder["value"] > 0]
    bare = row_total[~row_total.index.isin(mix_total.index)]
    alone = pd.DataFrame({"member": "ROW", "product": bare.index, "chapter": bare.index,
                          "value": bare.to_numpy(float), "source": ROW_CHAPTER})
    columns = ["exporter", "member", "product", "chapter", "value", "source"]
    parts += [frame.assign(exporter="ROW")[columns] for frame in (members, remainder, alone)]

    out = pd.concat(parts, ignore_index=True)
    target = pd.Series(chapter_total.reindex(pd.MultiIndex.from_arrays([out["exporter"], out["chapter"]])).to_numpy(),
                       index=out.index)
    if target.isna().any():
        bad = out[target.isna()].iloc[0]
        raise BuildError(f"{bad['exporter']} has HTS8 rows in chapter {bad['chapter']}, which has no measured total")
    out["value"] = round_to_totals(out, ["exporter", "chapter"], target.astype("int64"))
    out["importer"] = "USA"
    return out[out["value"] > 0]


def read_china_list(path: Path, rate: str) -> pd.DataFrame:
    """US exports to China by HS6 of one of China's March 2025 lists; checks codes and values."""
    if not path.is_file():
        raise BuildError(f"{path}: file not found (pass --reference with the folder holding shared/reference)")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("exports", "hs-code"):
        if col not in raw.columns:
            raise BuildError(f"{path}: missing column {col!r}; found {list(raw.columns)}")
    code_ok = raw["hs-code"].str.fullmatch(r"\d{6}")
    value = pd.to_numeric(raw["exports"], errors="coerce")
    for bad, what, col in ((~code_ok, "a six-digit HS code", "hs-code"), (value.isna(), "a number", "exports"),
                           (value < 0, "a non-negative value", "exports"),
                           (value != value.round(), "whole US dollars", "exports")):
        if bad.any():
            k = raw.index[bad.to_numpy()][0]
            raise BuildError(f"{path}: line {k + 2}: column {col!r} = {raw.at[k, col]!r}, expected {what}")
    twice = raw["hs-code"].duplicated(keep=False)
    if twice.any():
        k = raw.index[twice.to_numpy()][0]
        raise BuildError(f"{path}: line {k + 2}: HS code {raw.at[k, 'hs-code']} appears twice")
    return pd.DataFrame({"product": raw["hs-code"], "value": value.astype("int64"),
                         "source": CHINA_LINE.format(rate=rate)})


def china_side(reference: Path, demo: pd.DataFrame, items: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """China's imports from the US: listed lines and product facts, with each chapter's remainder on its code."""
    lists = pd.concat([read_china_list(reference / p, r) for r, p in CHINA_LISTS.items()], ignore_index=True)
    twice = lists["product"].duplicated(keep=False)
    if twice.any():
        raise BuildError(f"HS6 code {lists.loc[twice, 'product'].iloc[0]} is on both of China's March 2025 lists")
    zero = int((lists["value"] == 0).sum())
    lists = lists[lists["value"] > 0]

    facts = items[(items["exporter"] == "USA") & (items["importer"] == "CHN")]
    unknown = sorted(set(facts["code"]) - set(ITEM_CODES))
    if unknown:
        raise BuildError(f"facts_product_items_2024.csv: USA-to-CHN item codes {unknown} have no entry in ITEM_CODES")
    where = facts["code"].map(ITEM_CODES)
    unplaced = facts.loc[where.isna(), "code"].tolist()
    placed = facts[where.notna()]
    where = where.dropna()
    placed = pd.DataFrame({
        "product": [w[0] for w in where],
        "value": placed["value_usd"].astype("int64").to_numpy(),
        "source": [f"{w[1]}: facts_product_items_2024.csv, {d} (code {c}; {v.split(';')[0]})"
                   for w, c, d, v in zip(where, placed["code"], placed["description"], placed["verification"])],
    })
    covered = [c for c in placed["product"] if lists["product"].str.startswith(c).any()]
    if covered:
        raise BuildError(f"product facts placed on {covered} overlap China's listed lines")
    listed = pd.concat([lists, placed], ignore_index=True)
    listed["chapter"] = listed["product"].str[:2]

    cells = demo[(demo["exporter"] == "USA") & (demo["importer"] == "CHN")].set_index("product")
    chapter = cells["value"]
    items_sum = listed.groupby("chapter")["value"].sum()
    missing = sorted(set(items_sum.index) - set(chapter.index))
    if missing:
        raise BuildError(f"China-side items in chapters {missing}, where demo-2024 has no USA-to-CHN trade")
    factor = (chapter.reindex(items_sum.index) / items_sum).clip(upper=1.0)
    scaled = factor[factor < 1]
    listed["value"] = listed["value"] * listed["chapter"].map(factor)
    rescaled = listed["chapter"].isin(scaled.index)
    listed.loc[rescaled, "source"] = (
        "imputed: scaled by " + listed.loc[rescaled, "chapter"].map(scaled).map("{:.4f}".format)
        + " to the demo-2024 chapter value, from " + listed.loc[rescaled, "source"]
    )
    rest = chapter - items_sum.reindex(chapter.index, fill_value=0) * factor.reindex(chapter.index, fill_value=1)
    rest = rest[rest > 0.5]
    remainder = pd.DataFrame({"product": rest.index, "chapter": rest.index, "value": rest.to_numpy(float),
                              "source": [REMAINDER.format(method=cells.at[ch, "method"]) for ch in rest.index]})
    out = pd.concat([listed, remainder], ignore_index=True)
    target = out["chapter"].map(chapter).astype("int64")
    out["value"] = round_to_totals(out, ["chapter"], target)
    out = out.assign(exporter="USA", importer="CHN")
    notes = {"zero_lines": zero, "scaled_chapters": {ch: round(float(f), 4) for ch, f in scaled.items()},
             "placed": placed["product"].tolist(), "unplaced": unplaced}
    return out[out["value"] > 0], notes


def build(reference: Path) -> tuple[pd.DataFrame, dict]:
    """The fine values, checked against demo-2024 chapter by chapter, and notes on what was done."""
    us, facts, demo, items = read_bundled()
    us_rows = us_side(us, facts)
    cn_rows, notes = china_side(reference, demo, items)
    frame = pd.concat([us_rows, cn_rows.assign(member="")], ignore_index=True)
    order = {c: k for k, c in enumerate(DEMO)}
    frame = frame.assign(_e=frame["exporter"].map(order), _i=frame["importer"].map(order))
    frame = frame.sort_values(["_i", "_e", "product", "member"], kind="stable")
    frame = frame[["exporter", "importer", "member", "product", "value", "source"]]
    frame = frame.reset_index(drop=True)

    # Every (exporter, importer, chapter) sums to demo-2024's cell, and every demo cell it touches is covered.
    sums = frame.assign(product=frame["product"].str[:2]).groupby(["exporter", "importer", "product"])["value"].sum()
    pairs = set(zip(frame["exporter"], frame["importer"]))
    cells = demo[[(e, i) in pairs for e, i in zip(demo["exporter"], demo["importer"])]]
    cells = cells.set_index(["exporter", "importer", "product"])["value"]
    both = pd.concat({"fine": sums, "demo": cells}, axis=1).fillna(0)
    off = both[both["fine"] != both["demo"]]
    if len(off):
        (e, i, ch), r = off.index[0], off.iloc[0]
        raise BuildError(
            f"{e} to {i}, chapter {ch}: fine values sum to {r['fine']:,.0f}, demo-2024 has {r['demo']:,.0f}"
        )
    if not frame["product"].str.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{8}").all():
        raise BuildError("a product code is not 2, 4, 6 or 8 digits")
    if frame.duplicated(["exporter", "importer", "member", "product"]).any():
        raise BuildError("an exporter, importer, member and product appear twice")
    return frame, notes


def gzip_bytes(text: str) -> bytes:
    """Gzip with no file name and mtime 0 in the header, so equal text gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                        help=f"the shared/reference folder (default {DEFAULT_REFERENCE})")
    args = parser.parse_args(argv)
    try:
        frame, notes = build(args.reference)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = gzip_bytes(frame.to_csv(index=False, lineterminator="\n"))
    kinds = frame["source"].str.extract(r"^(\w+)", expand=False)
    summary = frame.groupby([frame["importer"], kinds])["value"].agg(["size", "sum"])
    print(f"China's listed HS6 lines with no 2024 US exports, left out: {notes['zero_lines']}; "
          f"chapters where the items were scaled to demo-2024: {notes['scaled_chapters']}")
    print(summary.assign(sum=summary["sum"] / 1e9).rename(columns={"size": "rows", "sum": "USD bn"}).to_string())
    if args.check:
        if not OUT.is_file():
            print(f"{OUT} does not exist", file=sys.stderr)
            return 1
        old = OUT.read_bytes()
        if old != data:
            same = gzip.decompress(old) == gzip.decompress(data)
            print(f"{OUT} differs from a fresh build"
                  + (" in its gzip bytes only (another zlib?)" if same else "") + "; run the script to rebuild",
                  file=sys.stderr)
            return 1
        print(f"{OUT.name} is up to date")
        return 0
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(frame):,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
