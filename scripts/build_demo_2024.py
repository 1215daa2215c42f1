"""Build the bundled baseline ``demo-2024`` from the fact tables in tradesim/data/.

    python scripts/build_demo_2024.py          # rewrites tradesim/data/demo-2024.csv
    python scripts/build_demo_2024.py --check  # exits 1 if the committed file differs

The baseline covers 2024 goods trade among 15 economies and the rest of the
world (ROW), by HS chapter, in USD. What is published is used as published;
everything else is imputed by the stated steps below, and every cell says which
step made it (column ``method``; ``imputed`` is true unless the cell comes
from statistics for that very pair and chapter).

1. Pair totals. Flows with the US are US Census figures for 2024 (the first
   release where the reference gives it, so that US imports from China are
   USD 438.9bn and exports USD 143.5bn). US trade with ROW is the US world total
   less the listed partners. China's flows with other partners are China customs
   figures for 2023, used for 2024 (the latest year in the reference).
2. Gravity fit. The missing pair totals (third-country pairs, China-Mexico and
   everything with ROW but the US) come from a gravity model fitted by Poisson
   pseudo-maximum likelihood (Santos Silva and Tenreyro 2006) to the known pairs:
   exporter and importer GDP (IMF, facts_gdp_2024.csv) with unit elasticities,
   log great-circle distance between capitals and a land-border dummy
   (facts_geography.csv), and exporter and importer effects for the US, China
   and ROW. The fit sees only US
   and China flows, so regional trade agreements among third countries (the EU,
   ASEAN) are not in it.
3. Chapters of US-China, US-Vietnam and US-Taiwan trade. Chapter shares come from
   the US Census air and containerised-vessel values (91-96% of the total for US
   imports, 66.5% for US exports to China). The balancing step scales them by one
   factor per pair so the chapters add up to the published total, while no chapter
   falls below the published values of the products in it (soybeans, energy,
   semiconductors, grains and meat exported to China; the ten largest US imports
   from China): chapter = max(f x share value, products), with f solved exactly.
   Chapter 98 (US special provisions, not an HS chapter) is spread over the
   chapters by that scaling.
4. Chapters of every other pair: the pair total split in the exporter's product
   mix from step 3 (China, Vietnam and Taiwan: their exports to the US; the US:
   its exports to China), or the pooled mix of those four flows for exporters
   with no chapter data.
5. Values are rounded to whole dollars with largest-remainder rounding, so every
   pair's chapters add up to its total exactly.

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
MEASURED_PAIRS = [("CHN", "USA"), ("VNM", "USA"), ("TWN", "USA"), ("USA", "CHN")]


def pair_totals(facts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Known pair totals [exporter, importer] in USD and a method label per pair ("" where unknown)."""
    n = len(COUNTRIES)
    idx = {c: k for k, c in enumerate(COUNTRIES)}
    total = np.zeros((n, n))
    method = np.full((n, n), "", dtype=object)
    us = facts[(facts.reporter == "USA") & (facts.year == 2024)]
    for r in us.itertuples():
        if "WORLD" not in (r.exporter, r.importer):
            total[idx[r.exporter], idx[r.importer]] = r.value_usd
            method[idx[r.exporter], idx[r.importer]] = "published_total"
    u, row = idx["USA"], idx["ROW"]
    world = us.set_index(["exporter", "importer"])["value_usd"]
    total[u, row] = world["USA", "WORLD"] - total[u].sum()
    total[row, u] = world["WORLD", "USA"] - total[:, u].sum()
    method[u, row] = method[row, u] = "residual_total"
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
    chapters = pd.read_csv(DATA / "facts_us_chapters_2024.csv", dtype={"chapter": str})
    items = pd.read_csv(DATA / "facts_product_items_2024.csv", dtype={"chapter": str})
    idx = {c: k for k, c in enumerate(COUNTRIES)}

    gdp = pd.read_csv(DATA / "facts_gdp_2024.csv").set_index("country")["value_usd"]
    geo = pd.read_csv(DATA / "facts_geography.csv")

    total, method = pair_totals(facts)
    known = method != ""
    X, names, offset = gravity_design(gdp, geo)
    fitted, beta = fit_gravity(total, known, X, offset)
    print("gravity fit:", ", ".join(f"{n} {b:.3f}" for n, b in zip(names, beta)), file=sys.stderr)
    offdiag = ~np.eye(len(COUNTRIES), dtype=bool)
    gravity = offdiag & ~known
    total = np.where(gravity, fitted, total)
    method = np.where(gravity, "gravity_total", method)

    # Step 3: measured chapter mixes, balanced to the published totals.
    values: dict[tuple[str, str], np.ndarray] = {}
    held: dict[tuple[str, str], np.ndarray] = {}
    for e, i in MEASURED_PAIRS:
        rows = chapters[(chapters.exporter == e) & (chapters.importer == i)].set_index("chapter")["value_usd"]
        shares = rows.reindex(CHAPTERS, fill_value=0).to_numpy(float)  # chapter 98 left out: spread by scaling
        floors = (
            items[(items.exporter == e) & (items.importer == i)].groupby("chapter")["value_usd"].sum()
            .reindex(CHAPTERS, fill_value=0).to_numpy(float)
        )
        values[e, i], held[e, i] = balance_chapters(shares, floors, total[idx[e], idx[i]])

    profile = {e: values[e, i] / values[e, i].sum() for e, i in MEASURED_PAIRS}
    pooled = sum(values.values())
    pooled = pooled / pooled.sum()

    records = []
    for e in COUNTRIES:
        for i in COUNTRIES:
            if e == i:
                continue
            t = total[idx[e], idx[i]]
            if (e, i) in values:
                cells = values[e, i]
                how = np.where(held[e, i], "product_floor", "measured_shares")
            else:
                cells = t * profile.get(e, pooled)
                mix = "exporter_mix" if e in profile else "pooled_mix"
                how = np.full(len(CHAPTERS), f"{method[idx[e], idx[i]]}+{mix}")
            cells = round_preserving_sum(cells, round(t))
            for ch, v, m in zip(CHAPTERS, cells, how):
                if v > 0:
                    records.append((e, i, ch, int(v), m not in ("measured_shares", "product_floor"), m))
    return pd.DataFrame(records, columns=["exporter", "importer", "product", "value", "imputed", "method"])


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
