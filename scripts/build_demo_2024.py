"""Build the bundled baseline ``demo-2024`` from the fact tables in tradesim/data/.

    python scripts/build_demo_2024.py          # rewrites tradesim/data/demo-2024.csv
    python scripts/build_demo_2024.py --check  # exits 1 if the committed file differs

The baseline covers 2024 goods trade among 15 economies and the rest of the
world (ROW), by HS chapter, in USD. What is measured is used as measured;
everything else is imputed by the stated steps below, and every cell says which
step made it (column ``method``; ``imputed`` is true unless the cell comes
from statistics for that very pair and chapter).

1. US imports (the column of importer USA) are measured, cell by cell: US Census
   imports for consumption in 2024 by HS chapter (facts_us_imports_2024.csv,
   written by scripts/build_us_imports_2024.py from the Census partner-by-chapter
   file). Germany is Germany's own rows, not the EU aggregate; ROW is the sum of
   every partner that is not one of the other 14 economies. Chapters 98 and 99
   (US special classification provisions, not HS chapters) are kept as they are
   in the data, so these cells add up to the measured totals (US imports from
   China USD 429.4bn on this basis, against 438.9bn of general imports in the
   first Census release). These cells are given: later steps fit around them and
   never change them.
2. Other pair totals. US exports are US Census figures for 2024 (the first
   release where the reference gives it, so that US exports to China are
   USD 143.5bn); US exports to ROW are the US world total less the listed
   partners. China's flows with other partners are China customs figures for
   2023, used for 2024 (the latest year in the reference).
3. Gravity fit. The missing pair totals (third-country pairs, China-Mexico and
   everything with ROW but the US) come from a gravity model fitted by Poisson
   pseudo-maximum likelihood (Santos Silva and Tenreyro 2006) to the known pairs
   (the measured US import totals among them): exporter and importer GDP (IMF,
   facts_gdp_2024.csv) with unit elasticities, log great-circle distance between
   capitals and a land-border dummy (facts_geography.csv), and exporter and
   importer effects for the US, China and ROW. The fit sees only US and China
   flows, so regional trade agreements among third countries (the EU, ASEAN) are
   not in it.
4. Chapters of US exports to China. Chapter shares come from the US Census air
   and containerised-vessel values (66.5% of the total). The balancing step
   scales them by one factor so the chapters add up to the published total,
   while no chapter falls below the published values of the products in it
   (soybeans, energy, semiconductors, grains and meat):
   chapter = max(f x share value, products), with f solved exactly. Chapter 98
   (US special provisions, not an HS chapter) is spread over the chapters by
   that scaling.
5. Chapters of every other pair: the pair total split in the exporter's product
   mix over chapters 01-97 (China, Vietnam and Taiwan: their measured exports to
   the US from step 1; the US: its exports to China from step 4), or the pooled
   mix of those four flows for exporters with no chapter data.
6. Values are rounded to whole dollars with largest-remainder rounding, so every
   pair's chapters add up to its total exactly (the measured cells of step 1 are
   whole dollars already).

Domestic sales are not published for these economies and are not imputed: the
diagonal is empty (``domestic=False``), and so is trade within ROW.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq

DATA = Path(__file__).resolve().parents[1] / "tradesim" / "data"
OUT = DATA / "demo-2024.csv"
COUNTRIES = ["USA", "CHN", "CAN", "MEX", "JPN", "KOR", "TWN", "VNM", "IND", "DEU", "GBR", "BRA", "AUS", "THA", "MYS", "ROW"]
CHAPTERS = [f"{c:02d}" for c in range(1, 98) if c != 77]
#: US special classification provisions (not HS chapters): in the measured US imports only, kept as their own
#: products so that US imports keep their measured totals. SPECIAL = [] would leave them out of the baseline
#: (US imports from China would then be USD 418.0bn, the HS chapters 01-97 of imports for consumption).
SPECIAL = ["98", "99"]
#: Flows whose chapter mix is measured; the first three are US imports (step 1), the last is balanced (step 4).
MEASURED_PAIRS = [("CHN", "USA"), ("VNM", "USA"), ("TWN", "USA"), ("USA", "CHN")]
MEASURED_IMPORTS = "measured: Census imports for consumption, HS2"


def us_imports(facts: pd.DataFrame) -> pd.DataFrame:
    """Measured US imports [chapter, exporter] in USD from facts_us_imports_2024.csv (chapters 01-97, 98, 99)."""
    expected = set(COUNTRIES) - {"USA"}
    found = set(facts["exporter"])
    if found != expected or set(facts["importer"]) != {"USA"}:
        raise ValueError(
            f"facts_us_imports_2024.csv: exporters {sorted(found ^ expected)} differ from the baseline's; "
            "rebuild it with scripts/build_us_imports_2024.py"
        )
    unknown = sorted(set(facts["chapter"]) - set(CHAPTERS + ["98", "99"]))
    if unknown:
        raise ValueError(f"facts_us_imports_2024.csv: chapters {unknown} are not HS chapters 01-97, 98 or 99")
    table = facts.pivot(index="chapter", columns="exporter", values="value_usd")
    return table.reindex(index=CHAPTERS + SPECIAL, columns=COUNTRIES, fill_value=0).fillna(0).astype("int64")


def pair_totals(facts: pd.DataFrame, imports: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Known pair totals [exporter, importer] in USD and a method label per pair ("" where unknown).

    `imports` holds the measured US imports [chapter, exporter]; the US import
    column is their sum per exporter.
    """
    n = len(COUNTRIES)
    idx = {c: k for k, c in enumerate(COUNTRIES)}
    total = np.zeros((n, n))
    method = np.full((n, n), "", dtype=object)
    us = facts[(facts.reporter == "USA") & (facts.year == 2024)]
    for r in us.itertuples():
        if r.exporter == "USA" and r.importer != "WORLD":
            total[idx[r.exporter], idx[r.importer]] = r.value_usd
            method[idx[r.exporter], idx[r.importer]] = "published_total"
    u, row = idx["USA"], idx["ROW"]
    world = us.set_index(["exporter", "importer"])["value_usd"]
    total[u, row] = world["USA", "WORLD"] - total[u].sum()
    method[u, row] = "residual_total"
    total[:, u] = imports.sum(axis=0).to_numpy(float)
    method[:, u] = MEASURED_IMPORTS
    method[u, u] = ""
    cn = facts[(facts.reporter == "CHN") & (facts.year == 2023)]
    for r in cn.itertuples():
        if "USA" not in (r.exporter, r.importer):
            total[idx[r.exporter], idx[r.importer]] = r.value_usd
            method[idx[r.exporter], idx[r.importer]] = "proxy_2023_total"
    return total, method


def gravity_design(gdp: pd.Series, geo: pd.DataFrame) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Regressors [exporter, importer, variable] of the gravity model, their names and the offset.

    ln mu[i, j] = ln GDP[i] + ln GDP[j] + c + g ln distance[i, j] + k border[i, j]
                  + exporter and importer effects of the US, China and ROW.
    Income elasticities are held at one, as in the theory-founded gravity equation
    (Anderson 1979): with 54 known pairs, all involving the US or China, free GDP
    elasticities are not identified well. The two log GDPs enter as an offset (the
    last returned array). The reporters' own effects absorb how their statistics
    and policies differ; ROW has no GDP or location, so its effects carry its size
    and it sits at the mean log distance of the sample.
    """
    n = len(COUNTRIES)
    geo = geo.set_index("country")
    lat, lon = np.radians(geo.loc[COUNTRIES[:-1], ["latitude", "longitude"]].to_numpy().T)
    # Great-circle distance between capitals (haversine), km.
    h = np.sin((lat[:, None] - lat[None]) / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None]) * np.sin((lon[:, None] - lon[None]) / 2) ** 2
    dist = 2 * 6371.0 * np.arcsin(np.sqrt(h))
    logd = np.full((n, n), 0.0)
    off = ~np.eye(n - 1, dtype=bool)
    logd[:-1, :-1] = np.where(off, np.log(np.where(off, dist, 1.0)), 0.0)
    logd[-1, :] = logd[:, -1] = logd[:-1, :-1][off].mean()
    border = np.zeros((n, n))
    for c, neighbours in geo["land_border_with"].fillna("").items():
        for m in neighbours.split():
            border[COUNTRIES.index(c), COUNTRIES.index(m)] = 1.0
    # GDP in USD trillions; ROW's is unknown and its fixed effects stand in for it.
    lny = np.append(np.log(gdp.reindex(COUNTRIES[:-1]).to_numpy(float) / 1e12), 0.0)
    offset = lny[:, None] + lny[None, :]
    columns = [np.ones((n, n)), logd, border]
    names = ["const", "ln_distance", "land_border"]
    for c in ("USA", "CHN", "ROW"):
        k = COUNTRIES.index(c)
        columns += [np.zeros((n, n)), np.zeros((n, n))]
        columns[-2][k, :] = 1.0
        columns[-1][:, k] = 1.0
        names += [f"exporter_{c}", f"importer_{c}"]
    return np.stack(columns, axis=-1), names, offset


def fit_gravity(
    total: np.ndarray, known: np.ndarray, X: np.ndarray, offset: np.ndarray, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson pseudo-maximum-likelihood fit on the known cells; returns fitted flows for all cells and the coefficients.

    Newton's method on the Poisson log-likelihood (gradient X'(y - mu), Hessian -X'diag(mu)X),
    with flows in USD billions for conditioning. Stops when the largest score is below `tol`.
    """
    y = total[known] / 1e9
    Z, off = X[known], offset[known]
    beta = np.zeros(Z.shape[1])
    beta[0] = np.log(y.mean()) - off.mean()
    loglik = lambda b: (y * (Z @ b + off) - np.exp(Z @ b + off)).sum()  # noqa: E731
    for it in range(200):
        mu = np.exp(Z @ beta + off)
        score = Z.T @ (y - mu)
        if np.abs(score).max() < tol * y.sum():
            return np.exp(X @ beta + offset) * 1e9, beta
        step = np.linalg.solve(Z.T @ (Z * mu[:, None]), score)
        # Halve the step until the likelihood improves (guards the first iterations).
        t = 1.0
        while loglik(beta + t * step) < loglik(beta) and t > 1e-8:
            t /= 2
        beta = beta + t * step
    raise RuntimeError(f"gravity fit did not converge: max score {np.abs(score).max():.3g} after {it + 1} iterations")


def balance_chapters(shares: np.ndarray, floors: np.ndarray, total: float) -> tuple[np.ndarray, np.ndarray]:
    """Chapter values max(f * shares, floors) adding up to `total`, with f found by root finding.

    Returns the values and a mask of chapters held at their floor.
    """
    if floors.sum() > total:
        raise ValueError(f"product facts ({floors.sum():,.0f}) exceed the pair total ({total:,.0f})")
    excess = lambda f: np.maximum(f * shares, floors).sum() - total  # noqa: E731  (increasing in f)
    f = brentq(excess, 0.0, total / shares.sum() * 2 + 1, xtol=1e-15, rtol=1e-15)
    values = np.maximum(f * shares, floors)
    return values * (total / values.sum()), floors > f * shares


def round_preserving_sum(values: np.ndarray, total: int) -> np.ndarray:
    """Whole dollars adding up to `total` exactly (largest remainder)."""
    floor = np.floor(values)
    short = int(total - floor.sum())
    order = np.argsort(-(values - floor), kind="stable")
    floor[order[:short]] += 1
    return floor


def build() -> pd.DataFrame:
    facts = pd.read_csv(DATA / "facts_trade_totals.csv")
    measured = us_imports(pd.read_csv(DATA / "facts_us_imports_2024.csv", dtype={"chapter": str}))
    chapters = pd.read_csv(DATA / "facts_us_chapters_2024.csv", dtype={"chapter": str})
    items = pd.read_csv(DATA / "facts_product_items_2024.csv", dtype={"chapter": str})
    idx = {c: k for k, c in enumerate(COUNTRIES)}

    gdp = pd.read_csv(DATA / "facts_gdp_2024.csv").set_index("country")["value_usd"]
    geo = pd.read_csv(DATA / "facts_geography.csv")

    total, method = pair_totals(facts, measured)
    known = method != ""
    X, names, offset = gravity_design(gdp, geo)
    fitted, beta = fit_gravity(total, known, X, offset)
    print("gravity fit:", ", ".join(f"{n} {b:.3f}" for n, b in zip(names, beta)), file=sys.stderr)
    offdiag = ~np.eye(len(COUNTRIES), dtype=bool)
    gravity = offdiag & ~known
    total = np.where(gravity, fitted, total)
    method = np.where(gravity, "gravity_total", method)

    # Step 1: US imports are measured by chapter; step 4: US exports to China balanced to the published total.
    values: dict[tuple[str, str], np.ndarray] = {}
    held: dict[tuple[str, str], np.ndarray] = {}
    for e, i in MEASURED_PAIRS:
        if i == "USA":
            values[e, i] = measured.loc[CHAPTERS, e].to_numpy(float)
            continue
        rows = chapters[(chapters.exporter == e) & (chapters.importer == i)].set_index("chapter")["value_usd"]
        shares = rows.reindex(CHAPTERS, fill_value=0).to_numpy(float)  # chapter 98 left out: spread by scaling
        floors = (
            items[(items.exporter == e) & (items.importer == i)].groupby("chapter")["value_usd"].sum()
            .reindex(CHAPTERS, fill_value=0).to_numpy(float)
        )
        values[e, i], held[e, i] = balance_chapters(shares, floors, total[idx[e], idx[i]])

    # Step 5: chapter mixes over chapters 01-97 (the US special provisions 98-99 are not traded elsewhere).
    profile = {e: values[e, i] / values[e, i].sum() for e, i in MEASURED_PAIRS}
    pooled = sum(values.values())
    pooled = pooled / pooled.sum()

    frames = []
    for e in COUNTRIES:
        for i in COUNTRIES:
            if e == i:
                continue
            if i == "USA":
                cells = measured[e].to_numpy()
                products = CHAPTERS + SPECIAL
                how = np.full(len(products), MEASURED_IMPORTS)
            else:
                t = total[idx[e], idx[i]]
                products = CHAPTERS
                if (e, i) in values:
                    cells = values[e, i]
                    how = np.where(held[e, i], "product_floor", "measured_shares")
                else:
                    cells = t * profile.get(e, pooled)
                    mix = "exporter_mix" if e in profile else "pooled_mix"
                    how = np.full(len(CHAPTERS), f"{method[idx[e], idx[i]]}+{mix}")
                cells = round_preserving_sum(cells, round(t))
            frames.append(pd.DataFrame({"exporter": e, "importer": i, "product": products,
                                        "value": cells.astype("int64"), "method": how}))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["value"] > 0].reset_index(drop=True)
    frame.insert(4, "imputed", ~frame["method"].isin(["measured_shares", "product_floor", MEASURED_IMPORTS]))
    return frame


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    frame = build()
    if args.check:
        committed = pd.read_csv(OUT, dtype={"product": str})
        same = committed.equals(frame)
        print("demo-2024.csv is up to date" if same else "demo-2024.csv differs from a fresh build")
        return 0 if same else 1
    frame.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(frame)} cells, {frame.value.sum() / 1e12:.3f} tn USD)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
