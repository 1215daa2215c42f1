"""The plan a scenario compiles to: periods x tariff regimes x elasticity multipliers.

`compile_plan` reads the scenario's law once (the tariffs of every regime, at once), cuts its
periods into pieces of constant tariffs (`tradesim.scenario.dynamics`) and lists the model
solves the pieces need. `tradesim.simulate.run_plan` then runs them: a scenario run reads the
data, evaluates the law, compiles the plan, solves the model and builds the result, each once
and in that order.
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .. import kept
from ..codes import GROUP_MEMBERS
from ..data import Baseline
from ..data.bundled import fine_values_problem, is_bundled_fine_values, load_fine_values
from ..errors import InputError, TradesimWarning
from ..files import warn_at_caller
from ..kept import freeze
from ..law.atoms import FineRows, Parts, fine_rows, row_ids
from ..models import ModelSpec, get_model
from . import dynamics
from .scenario import Scenario, regime_of

__all__ = ["Markets", "Plan", "compile_plan", "model_options", "moving_markets", "open_mean"]


def open_mean(weights: np.ndarray, rates: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Means of `rates` ``[regime, cell]`` weighted by `weights` ``[time, regime]``, leaving out halts.

    A halted cell (rate ``inf``: an import ban or halted purchases) trades nothing, so its rate
    over a period is the mean over the regimes in which it is open, ``inf`` where it is open in none.

    Returns
    -------
    mean : numpy.ndarray, ``[time, cell]``
        Fractions.
    open_share : numpy.ndarray ``[time, cell]`` or None
        The weight of the open regimes (of a period's days: the share open); None where no rate
        is a halt.
    """
    stop = np.isposinf(rates)
    if not stop.any():
        return weights @ rates, None
    share = weights @ ~stop
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (weights @ np.where(stop, 0.0, rates)) / np.where(share > 0, share, np.nan)
    return np.where(share > 0, mean, np.inf), share


@dataclass(frozen=True)
class Plan:
    """What a scenario run needs that does not depend on the elasticities: pieces, regimes, solves.

    It holds arrays and plain values only, so it pickles and can be sent once to Dask workers.

    Attributes
    ----------
    spec : ModelSpec
    flows : numpy.ndarray, ``[part, exporter, importer]``
        The baseline's flows on the parts of products that the law treats alike
        (`tradesim.law.atoms.Parts`): the cells the model solves; products the law treats as a
        whole are one part.
    split : tradesim.law.atoms.Parts
        The products' parts: how they add back to products (`collapse`), and the tariffs of
        every regime on the cells the law reaches (``split.rates`` ``[regime, cell]`` on
        ``split.cells``; fractions; regime 0 holds the reference tariffs the flows reflect).
        `rates` is the same on the whole tensor, formed only when asked for.
    regime_days : list of date, ``[regime]``
    parts : dynamics.Pieces
        The periods cut where tariffs change.
    regime : numpy.ndarray of int, ``[piece]``
    mult : numpy.ndarray, ``[piece]``
        Factor on the short-run parameters (see `tradesim.scenario.dynamics`).
    keys : list of (int, float)
        The (regime, multiplier) of each solve.
    events : list of (date, date)
        ``(announced, effective)`` days of announced tariff rises.
    dyn : Dynamics
    payback : pandas.DateOffset
    options : dict
        Passed to the model.
    shock : date or None
        First day the tariffs differ from the reference tariffs.
    notes : tuple of str
    home : numpy.ndarray of int, ``[importer]``
        Each importer's position on the exporter axis, or -1 (`Baseline.home`).
    """

    spec: ModelSpec
    flows: np.ndarray
    split: Parts
    regime_days: list
    parts: dynamics.Pieces
    regime: np.ndarray
    mult: np.ndarray
    keys: list
    events: list
    dyn: dynamics.Dynamics
    payback: object
    options: dict
    shock: object
    notes: tuple
    home: np.ndarray = None

    def __getstate__(self) -> dict:
        # the dense copies are formed again where asked for, not sent to workers with the plan
        return {k: v for k, v in self.__dict__.items()
                if k not in ("rates", "_rate_position", "_law_moves", "_law_products", "reference_charges", "_weights",
                             "_memo")}

    @cached_property
    def rates(self) -> np.ndarray:
        """Tariffs ``[regime, part, exporter, importer]``, fractions (a dense copy of ``split.rates``)."""
        return self.split.dense_rates()

    def regime_rates(self, r: int) -> np.ndarray:
        """Tariffs of regime `r` ``[part, exporter, importer]``, fractions: one regime's dense copy of
        ``split.rates``, without the tensor of every regime (`rates`) unless that is formed already."""
        if "rates" in self.__dict__ or self.split.cells is None:
            return self.rates[r]
        out = np.zeros(self.flows.size)
        out[self.split.cells] = self.split.rates[r]
        return out.reshape(self.flows.shape)

    @cached_property
    def t0(self) -> np.ndarray:
        """The reference tariffs ``[part, exporter, importer]``, fractions."""
        return self.regime_rates(0)

    @property
    def n_regimes(self) -> int:
        return self.split.rates.shape[0]

    def rates_on(self, cells: np.ndarray, regime=slice(None)) -> np.ndarray:
        """Tariffs on `cells` (positions in the flattened ``[part, exporter, importer]`` tensor, any
        shape): ``[regime, *cells.shape]``, or, with `regime` (ints broadcasting against `cells`),
        each cell's in its regime. Fractions; 0 off the cells the law reaches."""
        at = self._rate_position[cells]
        if not self.split.cells.size:  # no law reaches a cell with trade
            return np.zeros((self.n_regimes, *at.shape) if isinstance(regime, slice) else np.broadcast(regime, at).shape)
        rates = self.split.rates
        if isinstance(regime, slice):
            out = np.take(rates[regime], at, axis=1)
        else:  # one gather of the flattened rates: faster than indexing two axes
            out = rates.reshape(-1)[np.asarray(regime) * rates.shape[1] + at]
        off = at < 0  # cells no law reaches (their gathered value is another cell's)
        if off.any():
            out[..., off] = 0.0
        return out

    def rates_move(self, cells: np.ndarray, regimes: np.ndarray | None = None) -> np.ndarray:
        """Whether the tariff on each of `cells` (positions in the flattened ``[part, exporter, importer]``
        tensor) differs between regimes (those of `regimes` only, ints, where given): bool, the shape of `cells`."""
        if not self.split.cells.size:
            return np.zeros(np.shape(cells), bool)
        at = self._rate_position[cells]
        if regimes is None:
            moves = self._law_moves
        else:
            rates = self.split.rates[regimes]
            moves = (rates != rates[0]).any(axis=0)
        return moves[at] & (at >= 0)  # cells no law reaches keep 0

    @cached_property
    def _law_moves(self) -> np.ndarray:
        """``[law cell]``: `rates_move` on ``split.cells``, over every regime."""
        rates = self.split.rates
        return (rates != rates[0]).any(axis=0)

    @cached_property
    def _rate_position(self) -> np.ndarray:
        """``[part x exporter x importer]``: each cell's position among ``split.cells``, -1 for none
        (a lookup as large as `flows`, against a binary search per cell)."""
        small = np.int32 if self.split.cells.size < 2**31 else np.int64  # half the memory traffic where it fits
        out = np.full(self.flows.size, -1, small)
        out[self.split.cells] = np.arange(self.split.cells.size, dtype=small)
        return out

    def weights(self, kind: str, on_products: bool = False) -> np.ndarray:
        """The weights of means over parts, ``[part, exporter, importer]`` (USD): baseline flows
        (``"flows"``) or spending at the reference tariffs (``"spending"``, flows times one plus the
        tariff). With `on_products`, their sums on products (``[product, exporter, importer]``).
        Each is formed once per plan."""
        key = (kind, on_products)
        if key not in self._weights:
            if on_products and kind == "spending" and self.split.cells is not None:  # tariffs on the law's cells only
                self._weights[key] = self.weights("flows", True) + self.collapse_law(self.reference_charges)
            elif on_products:
                self._weights[key] = self.collapse(self.weights(kind))
            else:
                self._weights[key] = self.flows if kind == "flows" else self.flows * (1 + self.t0)
        return self._weights[key]

    @cached_property
    def _weights(self) -> dict:
        return {}

    def memo(self, name: str, build, most_bytes: int | None = None):
        """``build(self)``, computed once per plan and kept under `name`: what every run of the plan needs
        and no parameter changes (positions, gathers, sums over the baseline). Not pickled with the plan:
        a Dask worker forms it again, once. With `most_bytes`, a value whose arrays take more is returned
        but not kept (formed again by each run): a large plan's runs then hold it only while they need it."""
        if name in self._memo:
            return self._memo[name]
        value = build(self)
        if most_bytes is None or kept.nbytes(value) <= most_bytes:
            self._memo[name] = value
        return value

    @cached_property
    def _memo(self) -> dict:
        return {}

    def expand_parameters(self, params: dict) -> dict:
        """Parameters given by product (``[..., product, ...]``) repeated for each of its parts."""
        if self.split is None or self.split.trivial:
            return params
        n = self.split.products.size
        out = {}
        for name, value in params.items():
            a = np.asarray(value)
            axis = max(a.ndim - self.spec.parameter_ndim, 0)
            out[name] = np.take(a, self.split.parent, axis=axis) if a.ndim and a.shape[axis] == n else value
        return out

    def collapse(self, values: np.ndarray, weights: str | None = None) -> np.ndarray:
        """Part values ``[..., part, exporter, importer]`` on products: sums (USD amounts), or
        means weighted by the parts' baseline flows (``"flows"``: quantities, tariffs) or spending
        (``"spending"``: buyer prices)."""
        if self.split is None or self.split.trivial:
            return values
        # A product of one part is that part (a gather); only the parts of products cut in parts are
        # added up, each product's parts being consecutive (`Parts.parent`): `Parts.collapse` with
        # less memory traffic, the same numbers to rounding.
        values = np.asarray(values, dtype=float)
        first, cut, members, starts = self._part_groups
        out = np.take(values, first, axis=-3)
        if not cut.size:
            return out
        sub = np.take(values, members, axis=-3)  # [..., part of a cut product, exporter, importer]
        if weights is None:
            out[..., cut, :, :] = np.add.reduceat(sub, starts, axis=-3)
            return out
        num = np.add.reduceat(sub * self.weights(weights)[members], starts, axis=-3)
        den = self.weights(weights, on_products=True)[cut]  # the parts' weights summed once per plan
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = num / np.where(den > 0, den, 1.0)
        if (den <= 0).any():  # a pair without weight takes the plain mean
            plain = np.add.reduceat(sub, starts, axis=-3) / np.diff(np.append(starts, members.size))[:, None, None]
            mean = np.where(den > 0, mean, plain)
        out[..., cut, :, :] = mean
        return out

    @cached_property
    def reference_charges(self) -> np.ndarray:
        """``[law cell]``: the reference tariffs times the flows on ``split.cells`` (USD), the tariff revenue
        of the reference."""
        return self.split.rates[0] * self.flows.reshape(-1)[self.split.cells]

    def collapse_law(self, values: np.ndarray) -> np.ndarray:
        """`collapse` (sums) of part values that are zero off the law's cells, given on them (``[law cell]``,
        as ``split.rates[r]``): ``[product, exporter, importer]``, with work on the law's cells only."""
        P, (_, n, m) = self.split.products.size, self.flows.shape
        return np.bincount(self._law_products, values, minlength=P * n * m).reshape(P, n, m)

    @cached_property
    def _law_products(self) -> np.ndarray:
        """``[law cell]``: each law cell's product cell (flattened ``[product, exporter, importer]``)."""
        K, n, m = self.flows.shape
        return self.split.parent[self.split.cells // (n * m)] * (n * m) + self.split.cells % (n * m)

    @cached_property
    def _part_groups(self) -> tuple:
        """``(first, cut, members, starts)``: each product's first part ``[product]``; the products cut in
        several parts ``[cut]``; their parts ``[member]``; and where each one's parts start among them."""
        parent = self.split.parent
        first = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
        counts = np.diff(np.append(first, parent.size))
        cut = np.flatnonzero(counts > 1)
        members = np.flatnonzero(counts[parent] > 1)
        starts = np.flatnonzero(np.r_[True, parent[members][1:] != parent[members][:-1]]) if members.size else members
        return first, cut, members, starts

    def period_rates(self, *, open_share: bool = False):
        """Tariffs per period ``[time, part, exporter, importer]``: each period's regimes weighted by
        their days (without a ``[piece, ...]`` array).

        Days on which a cell's trade is halted (its rate ``inf``) are left out: the rate is the mean
        over the open days, ``inf`` where there are none. With `open_share`, also the share of each
        period's days on which the cell is open, ``[time, part, exporter, importer]`` (None where
        nothing is halted)."""
        weights = self.period_weights()
        mean, share = open_mean(weights, self.split.rates)
        out = np.zeros((weights.shape[0], self.flows.size))
        out[:, self.split.cells] = mean  # zero off the law's cells
        out = out.reshape(weights.shape[0], *self.flows.shape)
        if not open_share:
            return out
        if share is not None:
            full = np.ones((weights.shape[0], self.flows.size))
            full[:, self.split.cells] = share
            share = full.reshape(out.shape)
        return out, share

    def period_weights(self) -> np.ndarray:
        """``[time, regime]``: each regime's share of each period's days."""
        weights = np.zeros((int(self.parts.period.max()) + 1, self.n_regimes))
        np.add.at(weights, (self.parts.period, self.regime), self.parts.weight)
        return weights

    @property
    def importer_position(self) -> np.ndarray:
        """``[importer]``: each importer's position on the models' country axis (exporters, then
        the importers that are not exporters)."""
        n = self.flows.shape[1]
        home = np.asarray(self.home)
        extra = np.cumsum(home < 0) - 1
        return np.where(home >= 0, home, n + extra)

    @property
    def piece_keys(self) -> list:
        """The solve (a key of `keys`) each piece takes its values from."""
        return piece_keys(self.regime, self.mult)

    @cached_property
    def markets(self) -> Markets:
        """The markets whose tariffs move and the distinct problems they pose (`Markets`), computed once."""
        return moving_markets(self)


@dataclass(frozen=True)
class Markets:
    """The markets (a part of a product and an importer) whose tariffs move, and the problems they pose.

    Where a model's markets are independent problems (`tradesim.simulate`), a solve of the plan is
    the same as a solve of every market that moves, and a market with the same tariffs (on its
    cells with trade) and elasticity multiplier in two solves poses one problem, solved once.

    Attributes
    ----------
    part, importer : numpy.ndarray of int, ``[market]``
    own : bool
        Whether an importer's own sales are a source in its markets (the model's ``domestic``).
    problem_market, problem_regime : numpy.ndarray of int, ``[problem]``
        Each problem's market and a regime with its tariffs.
    problem_mult : numpy.ndarray, ``[problem]``
        Its factor on the short-run parameters.
    of_key : numpy.ndarray of int, ``[key, market]``
        The problem of each market in each solve (`Plan.keys`).
    cells : numpy.ndarray of int, ``[cell]``
        Positions in the flattened ``[part, exporter, importer]`` tensor of the moving markets'
        cells with trade (the importer's own sales only when they are a source).
    cell_market, cell_exporter : numpy.ndarray of int, ``[cell]``
    """

    part: np.ndarray
    importer: np.ndarray
    own: bool
    problem_market: np.ndarray
    problem_regime: np.ndarray
    problem_mult: np.ndarray
    of_key: np.ndarray
    cells: np.ndarray
    cell_market: np.ndarray
    cell_exporter: np.ndarray

    @property
    def size(self) -> int:
        return self.part.size


#: Elements of the ``[regime, part, exporter, importer]`` arrays compared or gathered at once by `moving_markets`.
_MARKET_ELEMENTS = 2**23


def moving_markets(plan: Plan) -> Markets:
    """The markets whose tariffs on cells with trade differ from the reference in some solve, and
    the distinct (tariffs, multiplier) problems of each across the solves (see `Markets`).

    A market's tariffs get a new version where a solve's regime changes them from the regime
    before; versions are then merged where their tariffs are the same again (a rise and its
    reversal) by a seeded random projection of the tariffs, so a chance merge of different
    tariffs is negligible. Work grows with the regimes times the law's cells with trade, in chunks
    of regimes.
    """
    flows, split = plan.flows, plan.split
    K, n, m = flows.shape
    own = bool(plan.options.get("domestic", True))
    home = np.asarray(plan.home) if plan.home is not None else np.arange(m)
    traded = flows > 0
    if not own:  # the model leaves an importer's own sales as they are: they never move
        j = np.flatnonzero(home >= 0)
        traded[:, home[j], j] = False
    key_regime = np.array([r for r, _ in plan.keys], dtype=int)
    key_mult = np.array([x for _, x in plan.keys], dtype=float)
    regs = np.unique(np.concatenate([[0], key_regime]))  # the reference tariffs first
    # only the law's cells with trade can change: a market's version rises where one of them does
    live = traded.reshape(-1)[split.cells]
    on, values = split.cells[live], split.rates[:, live]  # [cell], [regime, cell]
    rise = np.zeros((regs.size, K * m), bool)  # [regime, part x importer]: a new version from this regime
    step = max(1, _MARKET_ELEMENTS // max(1, on.size))
    for lo in range(1, regs.size, step):  # chunks of regimes bound memory
        hi = min(regs.size, lo + step)
        r, c = np.divmod(np.flatnonzero(values[regs[lo:hi]] != values[regs[lo - 1:hi - 1]]), on.size)  # np.nonzero
        rise[lo + r, on[c] // (n * m) * m + on[c] % m] = True
    movers = np.flatnonzero(rise.any(axis=0))  # the markets that move, part-major
    moving = np.zeros(K * m, bool)
    moving[movers] = True
    moving = moving.reshape(K, m)  # [part, importer]
    part, importer = np.divmod(movers, m)
    M, Q = part.size, len(plan.keys)
    at = np.searchsorted(regs, key_regime)
    ver = np.cumsum(rise[:, movers], axis=0, dtype=np.int64)[at]  # [key, market]: versions of the moving only
    # the distinct versions of each market and a regime with each, then their tariffs' projections
    market = np.broadcast_to(np.arange(M), (Q, M)).ravel()
    cand_of, first = row_ids(market, ver.ravel())
    cand_market, cand_regime = market[first], np.broadcast_to(key_regime[:, None], (Q, M)).ravel()[first]
    weights = np.random.default_rng(20250402).random((n, 2))
    proj = np.empty((first.size, 2))
    chunk = max(1, _MARKET_ELEMENTS // max(1, n))
    # each market's law cells (the others are 0): a version's [exporter] row is filled from them, rather than
    # gathered cell by cell over every exporter
    law_market = split.cells // (n * m) * m + split.cells % m
    by_market = np.argsort(law_market, kind="stable")
    bounds = np.searchsorted(law_market[by_market], np.arange(K * m + 1))
    law_exporter, law_traded = split.cells // m % n, traded.reshape(-1)[split.cells]
    for lo in range(0, first.size, chunk):  # chunks of versions bound memory
        sl = slice(lo, lo + chunk)
        at = part[cand_market[sl]] * m + importer[cand_market[sl]]
        start, count = bounds[at], bounds[at + 1] - bounds[at]
        row = np.repeat(np.arange(count.size), count)
        cell = by_market[np.repeat(start - (np.cumsum(count) - count), count) + np.arange(count.sum())]
        tariffs = np.zeros((count.size, n))  # [version, exporter]: the market's tariffs on its cells with trade
        rates = split.rates[cand_regime[sl][row], cell]
        # a halt (inf) as a rate no measure gives (rates are >= 0): inf would project every version with the
        # halt alike, whatever its other tariffs (and inf x 0 off trade is NaN)
        tariffs[row, law_exporter[cell]] = np.where(np.isposinf(rates), -1.0, rates) * law_traded[cell]
        proj[sl] = tariffs @ weights
    tariffs_of, _ = row_ids(cand_market, proj[:, 0], proj[:, 1])
    tariffs = tariffs_of[cand_of]  # [key x market]: the tariffs' identity
    mult = np.broadcast_to(key_mult[:, None], (Q, M)).ravel()
    _, mult_rank = np.unique(key_mult, return_inverse=True)  # ranks order as the multipliers: ids as theirs
    problem, first = row_ids(tariffs, np.broadcast_to(mult_rank.reshape(-1, 1), (Q, M)).ravel())
    cells = np.flatnonzero(traded & moving[:, None, :])
    k, i, j = np.unravel_index(cells, (K, n, m))
    index = np.full((K, m), -1)
    index[part, importer] = np.arange(M)
    return Markets(part=part, importer=importer, own=own, problem_market=market[first],
                   problem_regime=np.broadcast_to(key_regime[:, None], (Q, M)).ravel()[first],
                   problem_mult=mult[first], of_key=problem.reshape(Q, M), cells=cells, cell_market=index[k, j],
                   cell_exporter=i)


def piece_keys(regime: np.ndarray, mult: np.ndarray) -> list:
    """``(regime, multiplier)`` of each piece, the multiplier rounded so equal ones share a solve."""
    return list(zip(regime.tolist(), mult.round(12).tolist()))


def square_problem(spec: ModelSpec, baseline: Baseline) -> str | None:
    """Why `spec` cannot run on `baseline`: a model that needs every country on both axes on a rectangle; or None."""
    if spec.square and not baseline.square:
        return (f"model {spec.name!r} needs the same countries on both axes (every country buys and sells); "
                f"this baseline has {len(baseline.exporters)} exporters and {len(baseline.importers)} importers")
    return None


def model_options(spec: ModelSpec, baseline: Baseline, options: dict) -> list[str]:
    """Fill in the options a model takes from the baseline (in place); returns notes for the reader.

    ``countries`` (for messages and numeraires), ``home`` (each importer's position on the
    exporter axis) and ``domestic`` (whether the baseline has domestic sales) are passed to a
    model whose function takes them. A model that needs a square baseline gets an `InputError`
    on a rectangle.
    """
    notes = []
    problem = square_problem(spec, baseline)
    if problem:
        raise InputError(f"{problem}: use a square baseline (the bundled demo-2024 carries the domestic sales general "
                         "equilibrium needs), name one as world_baseline in the scenario file, or use another model",
                         key="model")
    takes = inspect.signature(spec.solve).parameters
    if "countries" in takes:  # so errors name countries and a numeraire can be given by code
        options.setdefault("countries", baseline.countries)
    if "home" in takes and not baseline.square:
        options.setdefault("home", baseline.home)
    if "domestic" not in options and "domestic" in takes:
        options["domestic"] = baseline.domestic
        if not baseline.domestic:
            why = ("its domestic sales are imputed for general equilibrium and off by default (domestic=False)"
                   if baseline.has_domestic_sales else "the baseline has no domestic sales")
            note = (f"the domestic substitute is not modelled ({why}): composite demand is import demand and eta is "
                    "an import demand elasticity")
            notes.append(note)
            warn_at_caller(note + " (pass domestic=False to silence this)", TradesimWarning)
    return notes


def compile_plan(baseline: Baseline, scenario: Scenario, model: str, fine_values, options: dict) -> Plan:
    """Cut the scenario's periods into pieces of constant tariffs and list the solves they need.

    Parameters
    ----------
    baseline : Baseline
    scenario : Scenario
    model : str
        A registered model.
    fine_values : optional
        Finer trade values for the law (see `tradesim.law.TariffSchedule.rates`).
    options : dict
        Options for the model (completed in place by `model_options`).
    """
    spec = get_model(model)
    dyn = scenario.dynamics
    own = fine_values is None and (scenario.fine_values is None or is_bundled_fine_values(scenario.fine_values))
    law = _last_law(baseline, scenario) if own else None
    if law is None:
        if fine_values is None:
            fine_values = scenario.load_fine_values()
        elif isinstance(fine_values, str):  # a bundled name or a path
            fine_values = load_fine_values(fine_values)
        if (problem := fine_values_problem(fine_values, baseline.products)) is not None:
            raise InputError(problem, source=scenario.fine_values or "fine_values", key="fine_values")
    notes = model_options(spec, baseline, options)
    missing, fallback, regime_days, split = law or _scenario_law(baseline, scenario, fine_values, keep=own)
    notes += missing
    for note in fallback[:-1] if fallback and "exact value shares" in fallback[-1] else fallback:
        warn_at_caller(note, TradesimWarning)
    notes += fallback
    starts, ends = scenario.periods()
    rates = split.rates  # [regime, cell]
    if split.n_split:
        n_parts = split.parent.size - len(baseline.products) + split.n_split
        notes.append(f"{split.n_split} product(s) that measures cover in part are solved as {n_parts} parts that the "
                     "law treats alike (covered and uncovered lines apart) and added back to products in the results")
    # a repeat of the last run (its law kept, the same model and options) takes its plan, with what its runs
    # formed of it (markets, positions, tariffs, sums over the baseline): none of it depends on the elasticities
    plan_key = (model, dict(options), tuple(notes))
    if own and (plan := kept.last("plan", (baseline, scenario), plan_key)) is not None and plan.split is split:
        return plan
    changes = regime_days[1:]
    moved = np.flatnonzero((rates != rates[0]).any(axis=1))
    shock = regime_days[moved[0]] if moved.size else None
    events = _announcements(scenario.schedule, changes, regime_days[0]) if dyn.front_loading > 0 else []
    payback = pd.DateOffset(days=round(dyn.payback_months * 365.25 / 12))
    cuts = changes + [a for a, _ in events] + [(pd.Timestamp(e) + payback).date() for _, e in events]
    pieces = dynamics.pieces(starts, ends, cuts)
    regime = regime_of(regime_days, pieces.start)
    if dyn.adjustment == "elasticity" and shock is not None:
        mult = dynamics.elasticity_multiplier(dynamics.years_between(pieces.middle, shock), dyn)
    else:
        mult = np.ones(len(pieces.start))
    if dyn.adjustment == "partial":
        keys = [(r, 1.0) for r in range(int(regime.max()) + 1)]  # every regime up to the last, for the kernel
    else:
        keys = list(dict.fromkeys(piece_keys(regime, mult)))
    plan = Plan(spec, split.expand(baseline.flows), split, regime_days, pieces, regime, mult, keys, events, dyn,
                payback, dict(options), shock, tuple(notes), baseline.home)
    if (problem := _halts_problem(plan, baseline)) is not None:
        raise InputError(problem, source=scenario.source or None, key="schedule")
    if own and plan.flows.nbytes + split.rates.nbytes + split.share.nbytes <= _KEEP_BYTES:
        freeze(plan.flows)  # shared by the runs
        kept.keep_last("plan", (baseline, scenario), plan_key, plan)
    return plan


#: Bytes of a scenario's law (tariffs and shares of the parts) that `_scenario_law` keeps for the next run of the
#: same scenario on the same baseline with its own fine values (`tradesim.kept.keep_last`), and of the law and
#: flows of the plan `compile_plan` keeps.
_KEEP_BYTES = 2**26


def _last_law(baseline: Baseline, scenario: Scenario) -> tuple | None:
    """`_scenario_law` of the last run, where it was of this scenario on this baseline (both immutable) with
    the scenario's own fine values, and kept; else None."""
    last = kept.last("scenario law", (baseline, scenario), None)
    if last is None:
        return None
    missing, fallback, regime_days, split = last
    return list(missing), list(fallback), list(regime_days), split


def _scenario_law(baseline: Baseline, scenario: Scenario, fine_values, keep: bool = False) -> tuple:
    """The scenario's law on the baseline, with fine values already checked: notes on exporters the fine values
    miss and on the fallback shares (`_fallback_notes`), the regimes' days, and the tariffs of every regime on
    the parts (`TariffSchedule.parts_path` on the cells the law reaches; read-only). With `keep`, kept for the
    next run of the same scenario on the same baseline (`_last_law`): a scenario's repeats read the law once."""
    # a table is read once, for the note on exporters and the atoms
    table = fine_rows(fine_values, np.asarray(baseline.exporters, dtype=str), np.asarray(baseline.importers, dtype=str))
    missing = _missing_exporters(scenario.schedule, baseline, fine_values, table)
    schedule = scenario.schedule
    # once, for both; `compile_plan` checked the member column (`fine_values_problem`)
    atoms = schedule.atoms(baseline.products, baseline.exporters, baseline.importers, fine_values,
                           members_checked=True, fine_rows=table)
    fallback = _fallback_notes(schedule, baseline, atoms)
    regime_days = scenario.regime_days(baseline)
    # the tariffs on the cells the law reaches only: no [regime, part, exporter, importer] tensor
    split = schedule.parts_path(regime_days, baseline.products, baseline.exporters, baseline.importers,
                                fine_values=fine_values, cells=baseline.flows > 0, warn=False, atoms=atoms,
                                on_cells=True)
    freeze((split.parent, split.share, split.rates, split.cells))  # shared by the plans of later runs
    if keep and split.rates.nbytes + split.share.nbytes <= _KEEP_BYTES:
        kept.keep_last("scenario law", (baseline, scenario), None, (missing, fallback, regime_days, split))
    return missing, fallback, list(regime_days), split


def _halts_problem(plan: Plan, baseline: Baseline) -> str | None:
    """What is wrong where the law halts every source of a market in some regime of `plan` (a product's
    part and an importer: every exporter that trades, and the importer's own sales where the model
    takes them): a buyer cannot do without all of them (its price index is infinite); None where every
    halted market keeps a source. Checked on the law's halted cells, before any solve, so that every
    way of running the path refuses alike and names the product, importer and day."""
    rates, cells = plan.split.rates, plan.split.cells
    stop = np.isposinf(rates)
    if not stop.any():
        return None
    K, n, m = plan.flows.shape
    source = plan.flows > 0
    if not plan.options.get("domestic", True):  # the importer's own sales are no source
        j = np.flatnonzero(np.asarray(plan.home) >= 0)
        source[:, np.asarray(plan.home)[j], j] = False
    sources = source.sum(axis=1).reshape(-1)  # [part x importer]
    r, at = np.nonzero(stop & source.reshape(-1)[cells])  # halted sources, [regime] and [law cell]
    market = cells[at] // (n * m) * m + cells[at] % m
    halted = np.bincount(r * (K * m) + market, minlength=len(rates) * K * m).reshape(len(rates), K * m)
    bad = np.argwhere((halted > 0) & (halted >= sources))
    if not bad.size:
        return None
    regime, market = (int(x) for x in bad[0])
    part, j = divmod(market, m)
    product = baseline.products[int(plan.split.parent[part])]
    whole = np.count_nonzero(plan.split.parent == plan.split.parent[part]) == 1
    exporters = [baseline.exporters[i] for i in np.flatnonzero(source[part, :, j])]
    return (f"on {plan.regime_days[regime]} the law halts every source of {baseline.importers[j]}'s imports of "
            f"{product}{'' if whole else ' (the part of its lines those halts reach)'} ({', '.join(exporters)}); a "
            "halt needs another source that trades in its market (the price index is infinite when every source is "
            "halted): end a halt sooner or spare an exporter")


def _announcements(schedule, changes: list, ref: dt.date) -> list[tuple]:
    """``(announced, effective)`` for each change day on which announced measures start."""
    out = []
    for day in changes:
        early = [m.announced for m in schedule.measures if m.start == day and m.announced and ref < m.announced < day]
        if early:
            out.append((min(early), day))
    return out


def _fallback_notes(schedule, baseline: Baseline, atoms) -> list[str]:
    """Where the law meets products in part and no finer trade values exist: per importer, the value
    whose shares come from the fallback (equal weights on HS subheadings), and the chapters. `atoms`
    is `TariffSchedule.atoms` of the baseline."""
    exporters = np.asarray(baseline.exporters)
    reached = np.zeros((len(baseline.exporters), len(baseline.importers)), bool)  # pairs some measure covers
    position = {c: j for j, c in enumerate(baseline.importers)}
    for m in schedule.measures:  # each measure's exporter set once, on its importer's column
        if m.importer in position:
            reached[:, position[m.importer]] |= m.exporter_mask(exporters)
    cells = atoms.fallback_cells(len(baseline.exporters), len(baseline.importers)) & (baseline.flows > 0) & \
        reached[None]
    notes = []
    for j in np.flatnonzero(cells.any(axis=(0, 1))):  # importers whose law is finer than the data
        value = float(baseline.flows[:, :, j][cells[:, :, j]].sum())
        total = float(baseline.flows[:, reached[:, j], j].sum())
        k = np.flatnonzero(cells[:, :, j].any(axis=1))
        chapters = ", ".join(dict.fromkeys(p[:2] for p in np.asarray(baseline.products)[k]))
        notes.append(f"{baseline.importers[j]}'s measures cover {k.size} product(s) only in part where no finer trade "
                     f"values are given: their shares come from equal weights on HS subheadings for USD "
                     f"{value / 1e9:,.1f}bn of its imports from the exporters they cover ({100 * value / total:.1f}%; "
                     f"chapters {chapters})")
    exact = int(atoms.n_exact)
    if exact:
        notes.append(f"{exact} product(s) that measures cover in part take exact value shares from the finer trade "
                     "values given")
    return notes


def _missing_exporters(schedule, baseline: Baseline, fine_values=None, table: FineRows | None = None) -> list[str]:
    """A note on the exporters that measures name and that neither the baseline nor any member of its
    aggregate exporters has (fine values with a ``member`` column; a group member such as ``EU27``
    has its member states): the measures do not reach their trade. `table` is `fine_values` read
    for the baseline's axes (`tradesim.law.atoms.fine_rows`), when it is at hand."""
    reached = set(baseline.exporters)
    members: set[str] = set()
    if isinstance(fine_values, pd.DataFrame) and {"member", "exporter", "importer"} <= set(fine_values.columns):
        if table is None:
            table = fine_rows(fine_values, np.asarray(baseline.exporters, dtype=str),
                              np.asarray(baseline.importers, dtype=str))
        if table is not None:
            # the member column through its distinct values (`member_column`'s text), not its rows' text
            names, row_member = table.member_names, table.row_member
            on = ((names[row_member] != "") & (table.exporter >= 0) & (table.importer >= 0)
                  & (table.value > 0).to_numpy())
            members = set(names[np.unique(row_member[on])].tolist())
    reached |= members
    reached |= {c for group in reached & set(GROUP_MEMBERS) for c in GROUP_MEMBERS[group]}
    named = sorted({c for m in schedule.measures for c in (m.exporters or ())} - reached)
    if not named:
        return []
    where = ("neither the baseline nor the members of its aggregate exporters (fine values) have"
             if members else "the baseline does not have")
    return [f"measures name exporters that {where}: {', '.join(named)}; their trade is in another row of the "
            f"baseline (such as ROW) and those measures do not reach it"]
