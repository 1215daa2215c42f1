"""Write ``tradesim/data/hs-concordance.csv.gz``: HS 2017 and HS 2012 subheadings to HS 2022, with split weights.

    python scripts/build_hs_concordance.py --source DIR          # writes the file
    python scripts/build_hs_concordance.py --source DIR --check  # exits 1 if the committed file differs

``DIR`` holds the two workbooks of the United Nations Statistics Division (UNSD),
"HS2022 to HS2017 Conversion and Correlation Tables" and "HS2022 to HS2012 Conversion and
Correlation Tables", under the names UNSD gives them:

- ``HS2022toHS2017ConversionAndCorrelationTables.xlsx``
- ``HS2022toHS2012ConversionAndCorrelationTables.xlsx``

They are published at https://unstats.un.org/unsd/trade/classifications/correspondence-tables.asp
and redistributed, unchanged, in the MIT-licensed repository insongkim/concordance (folder
``data-raw/``, commit 201c812e51f213d967d8701b6ed6398c79df4a04), whose copies are the ones used
here (their SHA-256 digests are checked below). The workbooks are read with the standard library
(an ``.xlsx`` file is a zip of XML), so the build needs no Excel reader.

Each workbook has two sheets:

- *Conversions*: every HS 2022 subheading with the one older subheading it mostly comes from
  (5,613 rows);
- *Correlations*: every pair of an HS 2022 and an older subheading whose scopes overlap, with the
  relationship (``1:1``, ``n:1``, ``1:n``, ``n:n``).

What the file holds, per revision (``HS2017``, ``HS2012``), is the conversion table read backwards:
each older subheading goes to the HS 2022 subheadings whose main source it is (``basis`` =
``conversion``). Older subheadings that are the main source of no HS 2022 subheading (codes that
were deleted and merged into others, 25 for HS 2017 and 40 for HS 2012) go to the HS 2022
subheadings the correlation table pairs them with (``basis`` = ``correlation``). Reading the
correlation table alone would send every older code to each HS 2022 code it touches at all: the
new heading 8549 (electrical and electronic waste) overlaps 1,019 older subheadings, among them
processors (854231) and laptops (847130), so equal shares over the correlation pairs would move
six sevenths of the trade in processors into waste. The conversion table keeps processors on
854231 and sends to 8549 only what the UNSD assigned to it.

Where an older subheading goes to several HS 2022 subheadings, its value is split by
``weight_usd``: the US imports for consumption in 2024 (customs value, USD) of each HS 2022
subheading, from the 49 countries and the EU27 measured at HTS8 in
``tradesim/data/us-imports-2024.csv.gz`` (the 2024 HTS follows HS 2022; its HTS8 lines are summed
to HS6; USD 3,208.8bn of the USD 3,251.2bn of US imports; ROW is measured at HS2 only and left
out). These are one importer's weights, not the world's: ``tradesim.data.to_hs2022`` takes other
weights, and falls back to equal shares where every target of a split has zero weight.

Checks the build asserts: every code is six digits; the conversion sheet's pairs are all in the
correlation sheet; every HS 2022 code is an HS 2022 subheading of `tradesim.codes.hs_subheadings`
(``999999``, UNSD's "commodities not specified", excepted); every older subheading of the
correlation table has at least one HS 2022 target.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import sys
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tradesim.codes import hs_subheadings  # noqa: E402

OUT = ROOT / "tradesim" / "data" / "hs-concordance.csv.gz"
US_IMPORTS = ROOT / "tradesim" / "data" / "us-imports-2024.csv.gz"

#: revision -> (workbook, SHA-256 of the copy in insongkim/concordance at commit 201c812e)
WORKBOOKS = {
    "HS2017": ("HS2022toHS2017ConversionAndCorrelationTables.xlsx",
               "51709278bc1df0a4aebff6a33339547f519679a9a59d230774f26cb7c56f9f74"),
    "HS2012": ("HS2022toHS2012ConversionAndCorrelationTables.xlsx",
               "a8bd784e704095b0bfebd645ca3b4b9b6b301f9b40d25711f78781755acdb32e"),
}
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def read_xlsx(path: Path) -> dict[str, list[list[str | None]]]:
    """Every sheet of an ``.xlsx`` workbook as rows of cell texts (columns A, B, C...)."""
    book = zipfile.ZipFile(path)
    names = [s.get("name") for s in ET.fromstring(book.read("xl/workbook.xml")).iter(_NS + "sheet")]
    shared = []
    if "xl/sharedStrings.xml" in book.namelist():
        for item in ET.fromstring(book.read("xl/sharedStrings.xml")).iter(_NS + "si"):
            shared.append("".join(t.text or "" for t in item.iter(_NS + "t")))
    sheets = {}
    for n, name in enumerate(names, 1):
        rows = []
        for row in ET.fromstring(book.read(f"xl/worksheets/sheet{n}.xml")).iter(_NS + "row"):
            cells = {}
            for cell in row.iter(_NS + "c"):
                column = re.match(r"[A-Z]+", cell.get("r")).group(0)
                value = cell.find(_NS + "v")
                if cell.get("t") == "s":
                    cells[column] = shared[int(value.text)]
                elif cell.get("t") == "inlineStr":
                    cells[column] = "".join(t.text or "" for t in cell.iter(_NS + "t"))
                else:
                    cells[column] = None if value is None else value.text
            rows.append([cells.get(c) for c in ("A", "B", "C")])
        sheets[name] = rows
    return sheets


def pairs(path: Path, revision: str) -> pd.DataFrame:
    """The conversion table read backwards, completed from the correlation table: code, hs2022, relationship, basis."""
    sheets = read_xlsx(path)
    conversion = next(rows for name, rows in sheets.items() if "Conversion" in name)
    correlation = next(rows for name, rows in sheets.items() if "Correlation" in name)
    # Conversions: a header row, then (HS 2022, older). Correlations: a title row, a header row, then triples.
    assert "2022" in str(conversion[0][0]) and revision[2:] in str(conversion[0][1]), conversion[0]
    assert "2022" in str(correlation[1][0]) and revision[2:] in str(correlation[1][1]), correlation[1]
    conv = pd.DataFrame([r[:2] for r in conversion[1:] if r[0]], columns=["hs2022", "code"]).apply(
        lambda c: c.str.strip())
    corr = pd.DataFrame([r for r in correlation[2:] if r[0]], columns=["hs2022", "code", "relationship"]).apply(
        lambda c: c.str.strip())
    for frame in (conv, corr):
        bad = frame[~frame["hs2022"].str.fullmatch(r"\d{6}") | ~frame["code"].str.fullmatch(r"\d{6}")]
        assert bad.empty, f"{path.name}: codes that are not six digits:\n{bad.head()}"
    assert not conv["hs2022"].duplicated().any(), f"{path.name}: an HS 2022 code converts twice"
    merged = conv.merge(corr, on=["hs2022", "code"], how="left")
    assert merged["relationship"].notna().all(), f"{path.name}: conversion pairs missing from the correlations"
    merged["basis"] = "conversion"
    orphans = corr[~corr["code"].isin(conv["code"])].assign(basis="correlation")
    out = pd.concat([merged, orphans], ignore_index=True)
    assert set(out["code"]) == set(corr["code"]), f"{path.name}: older codes without a target"
    known = set(hs_subheadings().tolist()) | {"999999"}
    unknown = sorted(set(out["hs2022"]) - known)
    assert not unknown, f"{path.name}: targets that are not HS 2022 subheadings: {unknown[:10]}"
    return out.assign(revision=revision)


def us_weights() -> pd.Series:
    """US imports for consumption 2024 by HS 2022 subheading (USD), from the HTS8 lines of us-imports-2024."""
    us = pd.read_csv(US_IMPORTS, dtype={"product": str}, usecols=["product", "value"])
    lines = us[us["product"].str.len() == 8]
    return lines.groupby(lines["product"].str[:6])["value"].sum()


def build(source: Path) -> bytes:
    frames = []
    for revision, (name, digest) in WORKBOOKS.items():
        path = source / name
        found = hashlib.sha256(path.read_bytes()).hexdigest()
        if found != digest:
            print(f"warning: {path} has SHA-256 {found}, not the {digest} of the copy this build was checked on",
                  file=sys.stderr)
        frames.append(pairs(path, revision))
    table = pd.concat(frames, ignore_index=True)
    weights = us_weights()
    table["weight_usd"] = table["hs2022"].map(weights).fillna(0).round(0).astype("int64")
    table = table[["revision", "code", "hs2022", "relationship", "basis", "weight_usd"]]
    table = table.sort_values(["revision", "code", "hs2022"], ascending=[False, True, True], ignore_index=True)
    text = table.to_csv(index=False, lineterminator="\n").encode()
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as fh:  # byte-stable output
        fh.write(text)
    return buffer.getvalue()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder with the two UNSD workbooks")
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    data = build(args.source)
    if args.check:
        same = OUT.is_file() and gzip.decompress(OUT.read_bytes()) == gzip.decompress(data)
        print(f"{OUT.relative_to(ROOT)}: {'up to date' if same else 'differs'}")
        return 0 if same else 1
    OUT.write_bytes(data)
    table = pd.read_csv(io.BytesIO(gzip.decompress(data)), dtype=str)
    for revision, part in table.groupby("revision"):
        n = part.groupby("code")["hs2022"].size()
        print(f"{revision}: {len(n)} subheadings, {int((n == 1).sum())} to one HS 2022 code, "
              f"{int((n > 1).sum())} split over {int(n[n > 1].sum())}")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
