"""Write the product lists of the bundled us-china-2025 schedule from shared/reference/exemptions.csv.

Run by a developer who has the project's shared/ folder beside the checkout:

    python scripts/build_schedule_lists.py ../shared/reference [--check]

Each output CSV keeps, for every code, the description, the source and the
verification grade of the reference row it came from. With ``--check`` the
script writes nothing and exits with 1 if a committed list differs from what it
would write.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tradesim" / "law" / "schedules" / "lists"


def _rows(ref: pd.DataFrame, name: str) -> pd.DataFrame:
    rows = ref[ref["list"] == name]
    if rows.empty:
        raise SystemExit(f"list {name!r} not found in exemptions.csv")
    return rows


def build(reference: Path) -> dict[str, pd.DataFrame]:
    ref = pd.read_csv(reference / "exemptions.csv", dtype=str)
    cols = ["hs_code", "description", "verification", "source"]
    out: dict[str, pd.DataFrame] = {}

    annex = _rows(ref, "US_reciprocal_annexII_2025-04-02")
    out["us_annex_ii_2025_04_02"] = annex[cols]
    # The lines still in the HTS 2026 Rev.6 exemption note (graded two_sources), plus the
    # Sep 8 2025 additions and the two later additions, form the list in force from Sep 8.
    kept = annex[annex["verification"].str.startswith("two_sources")]
    added = pd.concat([_rows(ref, "US_reciprocal_annexII_added_2025-09-08"), _rows(ref, "US_reciprocal_annexII_later_addition")])
    out["us_annex_ii_2025_09_08"] = pd.concat([kept, added])[cols]
    out["us_electronics_2025_04_11"] = _rows(ref, "US_reciprocal_electronics_memo_2025-04-11")[cols]
    out["us_ag_eo14360_2025_11_13"] = _rows(ref, "US_reciprocal_ag_EO14360_2025-11-13")[cols]

    cn = _rows(ref, "CN_retaliation_exemptions_2025-04")
    rows = []
    for r in cn.itertuples():
        if "NOT exempt" in r.description or r.hs_code.startswith("SUMMARY"):
            continue  # memory chips stayed at 125%; the summary row is a total, not a code
        for code in re.findall(r"\d{2,10}", r.hs_code):  # "8411 / 8803 (inferred; ...)" -> 8411, 8803
            rows.append({"hs_code": code, "description": r.description, "verification": r.verification, "source": r.source})
    out["cn_exemptions_2025_04"] = pd.DataFrame(rows)[cols]
    for frame in out.values():
        if frame["hs_code"].duplicated().any():
            raise SystemExit(f"duplicate codes: {frame['hs_code'][frame['hs_code'].duplicated()].tolist()}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    differ = []
    for name, frame in build(args.reference).items():
        text = io.StringIO()
        frame.to_csv(text, index=False, lineterminator="\n")
        path = OUT / f"{name}.csv"
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text.getvalue():
                differ.append(path.name)
        else:
            OUT.mkdir(parents=True, exist_ok=True)
            path.write_text(text.getvalue(), encoding="utf-8")
            print(f"{path.name}: {len(frame)} codes")
    if differ:
        print("differ from the reference: " + ", ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
