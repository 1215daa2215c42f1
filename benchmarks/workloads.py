"""Synthetic inputs shaped like real trade, each made from a seed.

Real bilateral trade by product is heavy-tailed (a few countries and products carry most of the
value) and sparse (most product-pair cells are zero, and more so between small economies).
`trade_flows` draws country sizes and product sizes from log-normals, makes a gravity-shaped mean
and keeps a cell with a probability that rises with the pair's size: 60-70% of the cells are
zero (most of them between small economies), and the top 1% of the cells that trade carry a
quarter to two fifths of the value.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gravity_world", "io_world", "pe_problem", "tariff_schedule", "trade_flows"]


def trade_flows(n_products: int, n_countries: int, seed: int = 0, *, domestic: bool = True) -> np.ndarray:
    """Flows ``[product, exporter, importer]`` in USD with heavy tails and many zeros.

    Domestic sales (the diagonal) are several times a country's imports of the product, as in
    input-output tables.
    """
    rng = np.random.default_rng(seed)
    n = n_countries
    size = rng.lognormal(0.0, 1.5, n)  # GDP-like: the largest economy is tens of times the median one
    share = rng.lognormal(0.0, 1.2, n_products)  # product sizes
    xy = rng.uniform(0, 10, (n, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + 0.5
    mean = share[:, None, None] * (size[:, None] * size[None, :] / dist)[None] * 1e9
    p_trade = 1 - np.exp(-0.25 * (size[:, None] * size[None, :])[None] * np.ones((n_products, 1, 1)))
    flows = mean * rng.lognormal(0.0, 1.0, mean.shape) * (rng.random(mean.shape) < p_trade)
    flows[:, np.arange(n), np.arange(n)] = 0.0
    if domestic:
        flows[:, np.arange(n), np.arange(n)] = 3 * np.maximum(flows.sum(axis=1), 1e6)
    return flows


def pe_problem(n_products: int, n_countries: int, seed: int = 0):
    """PE inputs: flows with domestic sales, MFN-like tariffs, a US-China style escalation between
    the two largest economies, and elasticities by product (sigma, eta) and exporter (epsilon)."""
    rng = np.random.default_rng(seed + 1)
    flows = trade_flows(n_products, n_countries, seed)
    n = n_countries
    off = ~np.eye(n, dtype=bool)
    t0 = rng.uniform(0, 0.15, flows.shape) * off
    t1 = t0.copy()
    a, b = np.argsort(flows.sum(axis=(0, 2)))[-2:]
    t1[:, b, a] += 1.45
    t1[:, a, b] += 1.25
    sigma = rng.uniform(1.5, 8.0, (n_products, 1))
    eta = rng.uniform(0.3, 1.5, (n_products, 1))
    epsilon = rng.uniform(0.5, 5.0, (n_products, n))
    return flows, t0, t1, sigma, eta, epsilon


def tariff_schedule(n_lines: int = 20_000, n_countries: int = 50, seed: int = 0):
    """A schedule shaped like real tariff law on HS8 lines drawn from the HS 2022 subheadings.

    Fifteen measures by three importers: some on every exporter, some on five; some on whole
    chapters; three exemption lists of 1,050 codes at mixed levels; a group that takes the
    maximum and measures that replace it.
    """
    import pycountry

    from tradesim import Measure, ProductList, TariffSchedule
    from tradesim.codes import hs_subheadings

    rng = np.random.default_rng(seed)
    subs = hs_subheadings()
    suffix = rng.choice(["00", "10", "20", "50", "90"], 3 * n_lines)
    lines = np.unique(np.char.add(subs[rng.integers(0, subs.size, 3 * n_lines)], suffix))
    lines = np.sort(rng.choice(lines, n_lines, replace=False))
    others = sorted({c.alpha_3 for c in pycountry.countries} - {"USA", "CHN", "DEU"})
    countries = ["USA", "CHN", "DEU"] + others[: n_countries - 3]
    lists = [ProductList(f"exempt{k}", list(rng.choice(lines, min(1000, n_lines // 2), replace=False))
                         + list(rng.choice(subs, 50))) for k in range(3)]
    chapters = sorted({c[:2] for c in subs})
    measures = []
    for k, importer in enumerate(["USA"] * 8 + ["CHN"] * 4 + ["DEU"] * 3):
        exporters = None if k % 3 == 0 else list(rng.choice(countries[1:], 5, replace=False))
        products = None if k % 4 == 0 else list(rng.choice(chapters, 10, replace=False))
        measures.append(Measure(f"m{k}", importer, float(rng.uniform(0.05, 1.25)), "2025-01-01", exporters=exporters,
                                products=products, exclude=[lists[k % 3].name] if k % 2 == 0 else [],
                                group="g" if k in (1, 2) else None,
                                replaces=["g"] if k in (3, 9) and importer == "USA" else []))
    return TariffSchedule(measures, lists), lines.tolist(), countries


def gravity_world(n: int, seed: int = 0):
    """One-sector flows among `n` countries (domestic sales included) and a border cut among the first tenth.

    Returns flows ``[exporter, importer]``, distance, border and contiguity ``[i, j]``, and the
    pairs where the border effect goes (a customs union of the first tenth).
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 10, (n, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + 0.5
    border = 1 - np.eye(n)
    contig = (dist < 1.5) * border
    size = rng.lognormal(3, 1.5, n)
    flows = size[:, None] * (size * rng.uniform(0.9, 1.1, n))[None] * dist**-0.9 * np.exp(-2.0 * border + 0.5 * contig)
    union = np.zeros((n, n), dtype=bool)
    union[: max(2, n // 10), : max(2, n // 10)] = True
    return flows, dist, border, contig, union & (border > 0)


def io_world(S: int = 20, n: int = 40, seed: int = 2):
    """Sector flows with domestic sales, input-output shares that keep final demand positive, tariffs.

    Returns flows ``[sector, i, j]``, tariffs before and after, theta ``[sector]``, value-added
    shares ``[sector, country]`` and input shares ``[input, sector, country]``.
    """
    rng = np.random.default_rng(seed)
    flows = rng.lognormal(0, 1.5, (S, n, n)) * (rng.random((S, n, n)) < 0.8)
    flows[:, np.arange(n), np.arange(n)] += 30 * rng.lognormal(0, 0.5, (S, n))
    spend, output = flows.sum(axis=1), flows.sum(axis=2)
    u = rng.uniform(0.3, 0.7, (S, n))
    phi = 0.9 * (spend.sum(axis=0) / (0.7 * output.sum(axis=0))).min()
    io = phi * (spend / spend.sum(axis=0))[:, None, :] * u[None]
    t0 = rng.uniform(0, 0.1, flows.shape) * (1 - np.eye(n))
    t1 = t0.copy()
    t1[:, 0, 1], t1[:, 1, 0] = 1.45, 1.25  # a US-China-style escalation between the first two
    theta = rng.uniform(2, 10, S)
    return flows, t0, t1, theta, 1 - io.sum(axis=0), io
