r"""Equilibrium conditions of the hat-algebra models, their residuals and analytic Jacobians.

`tradesim.models.ge` checks inputs and builds `Economy`; this module only does arithmetic.
Axes: ``m`` batch members (draws), ``s, k`` sectors, ``i, l`` exporters, ``j`` importers.

Three systems share one economy:

- `Direct` (no input-output links): the unknowns are log wages ``u[i]`` only; sector price
  indices, spending and tariff revenue follow in closed form.
- `OneSector`: `Direct` for one sector, in fewer operations: a residual costs a few passes
  over the ``n x n`` shares and no logarithm or exponential of them, and a Jacobian one
  symmetric matrix product.
- `Linked` (Caliendo and Parro 2015): the unknowns are ``u[i]``, log sector price indices
  ``q[s, j]`` and spending hats ``e[s, j]``, all solved together.

In both, the market-clearing equations determine wages only up to scale (one of them is
redundant by Walras' law), so the normalisation ``log(sum_i w_hat[i] VA[i] / sum_i VA[i]) = 0``
is appended as a last equation: world GDP at factory-gate prices is the numeraire while
solving. Residuals cover every equation; each Newton step leaves out the redundant one.

`Economy.along` gives the economy part of the way from the baseline to the shock, for the
continuation in `tradesim.models.ge`; each system's ``baseline`` gives its unknowns at the
baseline, which solve the economy ``along(0)``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from ._lse import softmax

__all__ = ["Direct", "Economy", "Linked", "OneSector", "TINY", "new_deficit", "normalised_rows", "pick"]

_PROHIBITIVE = 60.0  # on the path to the shock, a prohibitive cost cuts a pair's share by exp(-60)
TINY = 1e-250  # a sum of scaled share terms below this has lost digits: OneSector shifts by column instead


@dataclass
class Economy:
    """Baseline shares and the shock, with a leading batch axis of 1 (shared) or ``B``.

    `log_kappa`, `g` and `t0` may have axes of length 1 where they do not vary (broadcast).

    Attributes
    ----------
    log_pi : ``[b, s, i, j]``
        Log baseline expenditure shares (tariff-inclusive), ``-inf`` where no trade.
    log_kappa : ``[b, s, i, j]``
        Log change of the trade-cost factor ``d_hat (1 + t1) / (1 + t0)``; ``inf`` prohibitive.
    g : ``[b, s, i, j]``
        ``1 / (1 + t1)``: the factory-gate part of a unit of spending.
    theta : ``[b, s]``
        Trade elasticities.
    present : ``[b, s, 1, j]``
        Sector-importer cells with baseline spending.
    spend : ``[b, s, j]``
        Baseline spending ``E[s, j]``, tariff-inclusive, USD.
    alpha : ``[b, s, j]``
        Final-demand shares (Cobb-Douglas); sum to one over sectors.
    beta : ``[b, s, i]``
        Value-added shares of gross output.
    gamma : ``[b, k, s, i]``
        Share of inputs from sector ``k`` in sector ``s``'s gross output; None without links.
    va : ``[b, i]``
        Baseline value added (GDP at factory-gate prices), USD.
    deficit : ``[b, i]``
        Baseline deficit ``D``: spending minus income (value added plus tariff revenue).
    t0 : ``[b, s, i, j]``
        Baseline tariffs (for the path from the baseline to the shock).
    closure : {"fixed", "share"}
    """

    log_pi: np.ndarray
    log_kappa: np.ndarray
    g: np.ndarray
    theta: np.ndarray
    present: np.ndarray
    spend: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray | None
    va: np.ndarray
    deficit: np.ndarray
    t0: np.ndarray
    closure: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(sectors, countries)``."""
        return self.log_pi.shape[1], self.log_pi.shape[2]

    def on_pairs(self, a: np.ndarray) -> np.ndarray:
        """Sector values ``[b, s]`` broadcast against the pair arrays ``[b, s, i, j]``."""
        return a[:, :, None, None]

    def take(self, idx: np.ndarray) -> Economy:
        """The members `idx`; shared arrays (batch axis 1) stay shared."""
        values = {}
        for f in fields(self):
            a = getattr(self, f.name)
            values[f.name] = a[idx] if isinstance(a, np.ndarray) and a.shape[0] > 1 else a
        return type(self)(**values)

    def along(self, lam: np.ndarray) -> Economy:
        """The economy a fraction `lam` ``[b]`` of the way from the baseline to the shock.

        Both parts of the trade-cost factor move geometrically, ``d_hat**lam`` and
        ``(1 + t) = (1 + t0)**(1 - lam) (1 + t1)**lam``, so that ``log kappa`` moves in proportion
        to `lam`: a tariff of 2,000% takes its effect evenly along the path, not mostly in
        its first percent as when the rate moves linearly. A prohibitive cost (``inf``) moves
        to a finite one that cuts the pair's share by ``exp(-60)`` at ``lam = 1``, so
        that the path is smooth; the shock itself is the economy, not ``along(1)``.
        """
        lam = lam.reshape(-1, *(1,) * (self.log_pi.ndim - 1))
        wall = _PROHIBITIVE / self.on_pairs(self.theta)
        log_kappa = lam * np.where(np.isinf(self.log_kappa), wall, self.log_kappa)
        log_tariff = (1 - lam) * np.log1p(self.t0) - lam * np.log(self.g)
        return replace(self, log_kappa=log_kappa, g=np.exp(-log_tariff))


def new_deficit(va: np.ndarray, deficit: np.ndarray, closure: str, va_new: np.ndarray, jac: bool):
    """New deficits ``[m, j]`` (and ``d/du [m, j, l]``) under the closure, at new value added.

    `va` and `deficit` are the baseline's ``[m or 1, j]`` (`Economy`).
    """
    world0 = va.sum(axis=1, keepdims=True)
    world = va_new.sum(axis=1, keepdims=True)
    if closure == "fixed":  # fixed in units of world GDP
        d = deficit * (world / world0)
        dd = deficit[:, :, None] * (va_new / world0)[:, None, :] if jac else None
        return d, dd
    # a fixed share of own GDP, less the GDP-weighted mean share so deficits still sum to zero
    share = deficit / va
    dev = share - (share * va_new).sum(axis=1, keepdims=True) / world
    d = va_new * dev
    if not jac:
        return d, None
    dd = -va_new[:, :, None] * (va_new * dev)[:, None, :] / world[:, :, None]
    dd[:, np.arange(d.shape[1]), np.arange(d.shape[1])] += d
    return d, dd


def _shares(c: Economy, log_cost: np.ndarray):
    """New expenditure shares ``[m, s, i, j]`` and log sector price indices ``[m, s, j]``.

    `log_cost` is the log unit-cost change ``[m, s, i]``.
    """
    th = c.theta[:, :, None, None]
    z = c.log_pi - th * (c.log_kappa + log_cost[:, :, :, None])
    lse, pi = softmax(z, axis=2, present=c.present)
    log_P = np.where(c.present[:, :, 0, :], -lse[:, :, 0, :] / c.theta[:, :, None], 0.0)
    return pi, log_P


def _normalised(F: np.ndarray, va_new: np.ndarray, va: np.ndarray) -> np.ndarray:
    """`F` with ``log(world GDP hat)`` appended as a last equation."""
    return np.concatenate([F, np.log(va_new.sum(axis=1) / va.sum(axis=1))[:, None]], axis=1)


def normalised_rows(J: np.ndarray, va_new: np.ndarray, drop=None) -> tuple[np.ndarray, np.ndarray]:
    """The square Jacobian for a Newton step, and which residuals its rows are.

    The normalisation's gradient is appended, and the market-clearing row of the country
    with the largest value added (or of country `drop`) is left out: Walras' law makes it
    follow from the others, so the step is Newton's for all of them.
    """
    m, M, N = J.shape[0], J.shape[1] + 1, J.shape[2]
    row = np.zeros((m, 1, N))
    row[:, 0, :va_new.shape[1]] = va_new / va_new.sum(axis=1, keepdims=True)
    rows = np.broadcast_to(np.arange(M), (m, M))
    drop = np.argmax(va_new, axis=1) if drop is None else np.broadcast_to(drop, (m,))
    keep = rows[rows != drop[:, None]].reshape(m, M - 1)
    return np.take_along_axis(np.concatenate([J, row], axis=1), keep[:, :, None], axis=1), keep


class _Remembered:
    """Keeps the state of the last point evaluated, so that the Jacobian at a point the line search
    has just accepted (Newton's next step) does not compute the state again."""

    _last = None

    def _state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        raise NotImplementedError

    def state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        last = self._last
        if last is not None and np.array_equal(last[0], idx) and np.array_equal(last[1], x):
            return last[2]
        st = self._state(x, idx)
        self._last = (idx.copy(), x.copy(), st)
        return st


class Direct(_Remembered):
    """No input-output links: unknowns ``x = log w_hat [m, i]``.

    With ``Phi[s, j] = sum_i g pi'`` (the factory-gate share of sector spending) and
    ``Psi[j] = sum_s alpha Phi``, spending is ``X'[j] = (VA'[j] + D'[j]) / Psi[j]`` (income
    includes the tariff revenue ``(1 - Psi) X'``), and the residual is relative excess
    demand ``sum_{s,j} g pi' alpha X' / VA'[i] - 1``.

    The new shares factor as in `OneSector`, sector by sector: ``pi'[s, i, j] = a[s, i, j]
    e[s, i] / col[s, j]`` with ``a = pi kappa**-theta`` scaled by its column's largest term
    (computed once), ``e = w_hat**-theta[s]`` and ``col`` the column sums, so that a state takes
    an exponential of ``[s, i]`` only, not of ``[s, i, j]``; columns whose sum would underflow
    (extreme wages) go through the log-sum-exp of `_shares`.
    """

    def __init__(self, economy: Economy):
        self.c = economy
        self._scaled = None

    def baseline(self, m: int) -> np.ndarray:
        """The unknowns at the baseline, ``[m, n]``: all wages unchanged."""
        return np.zeros((m, self.c.shape[1]))

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a, log_top)``: the share terms ``pi kappa**-theta`` ``[b, s, i, j]``, each column
        scaled by its largest, and the log of that largest ``[b, s, j]``; made on first use."""
        if self._scaled is None:
            c = self.c
            z = c.log_pi - c.theta[:, :, None, None] * c.log_kappa if c.log_kappa.any() else c.log_pi.copy()
            top = z.max(axis=2, keepdims=True)
            top[~np.isfinite(top)] = 0.0
            np.exp(np.subtract(z, top, out=z), out=z)  # at most 1
            self._scaled = (z, top[:, :, 0, :])
        return self._scaled

    def _shares(self, c: Economy, x: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`_shares` of members `idx` (economy `c`) at wages `x` ``[m, i]``, by the factored form."""
        a, top = self._factors()
        th = c.theta[:, :, None]  # [m, s, 1]
        low = x.min(axis=1, keepdims=True)[:, :, None]  # [m, 1, 1]: e <= 1, as theta > 0
        pi = pick(a, idx) * np.exp(-th * (x[:, None, :] - low))[:, :, :, None]
        col = pi.sum(axis=2)  # [m, s, j]
        present = c.present[:, :, 0, :]
        if not ((col > TINY) | ~present).all():  # a column's terms underflow: shift by column
            return _shares(c, np.broadcast_to(x[:, None, :], (x.shape[0], c.shape[0], x.shape[1])))
        col = np.where(present, col, 1.0)  # absent columns have no terms: their shares stay 0
        pi /= col[:, :, None, :]
        log_P = np.where(present, -(np.log(col) + pick(top, idx) - th * low) / th, 0.0)
        return pi, log_P

    def _state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        c = self.c.take(idx)
        va_new = np.exp(x) * c.va
        log_cost = np.broadcast_to(x[:, None, :], (x.shape[0], c.shape[0], x.shape[1]))
        pi, log_P = self._shares(c, x, idx)
        gpi = c.g * pi
        phi = gpi.sum(axis=2)  # [m, s, j]
        psi = (c.alpha * phi).sum(axis=1)  # [m, j]
        d_new, _ = new_deficit(c.va, c.deficit, c.closure, va_new, jac=False)
        # total spending X'[j]; NaN (outside the domain) where deficits would make it negative
        with np.errstate(invalid="ignore", divide="ignore"):
            spend = np.where(va_new + d_new > 0, (va_new + d_new) / psi, np.nan)
        flows = gpi * (c.alpha * spend[:, None, :])[:, :, None, :]
        return dict(c=c, x=x, log_cost=log_cost, va_new=va_new, pi=pi, gpi=gpi, phi=phi, psi=psi, d_new=d_new, spend=spend,
                    flows=flows, log_P=log_P, sector_spend=c.alpha * spend[:, None, :],
                    revenue=(1 - psi) * spend)

    def market(self, st: dict) -> np.ndarray:
        """Relative excess demand ``[m, i]`` of every country."""
        return st["flows"].sum(axis=(1, 3)) / st["va_new"] - 1

    def residual(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        st = self.state(x, idx)
        return _normalised(self.market(st), st["va_new"], st["c"].va)

    def jacobian(self, x: np.ndarray, idx: np.ndarray, drop=None) -> np.ndarray:
        """The square Jacobian and its rows (`normalised_rows`); `drop` picks the market left out."""
        st = self.state(x, idx)
        c, pi, flows, va_new = st["c"], st["pi"], st["flows"], st["va_new"]
        th = c.theta
        n = x.shape[1]
        diag = (np.arange(n), np.arange(n))
        _, d_dd = new_deficit(c.va, c.deficit, c.closure, va_new, jac=True)
        terms = pi * (c.g - st["phi"][:, :, None, :])  # [m, s, l, j]
        terms *= (c.alpha * th[:, :, None])[:, :, None, :]
        d_psi = -np.swapaxes(terms.sum(axis=1), 1, 2)  # [m, j, l]
        del terms
        d_n = d_dd
        d_n[:, diag[0], diag[1]] += va_new
        d_spend = (d_n - st["spend"][:, :, None] * d_psi) / st["psi"][:, :, None]
        by_sector = flows.sum(axis=3)  # [m, s, i]: once, for sales and their theta-weighted sum
        J = np.matmul(th[:, :, None, None] * flows, np.swapaxes(pi, 2, 3)).sum(axis=1)
        J += np.matmul((st["gpi"] * c.alpha[:, :, None, :]).sum(axis=1), d_spend)
        J[:, diag[0], diag[1]] -= ((th[:, :, None] + 1) * by_sector).sum(axis=1)
        J /= va_new[:, :, None]
        return normalised_rows(J, va_new, drop)


def pick(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Members `idx` of `a`, or `a` itself when it is shared (batch axis 1)."""
    return a if a.shape[0] == 1 else a[idx]


def _matvec(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``sum_j M[m, i, j] v[m, j]``, ``[m, i]``."""
    return np.matmul(M, v[:, :, None])[:, :, 0]


def _replace_row(J: np.ndarray, va_new: np.ndarray, drop=None) -> tuple[np.ndarray, np.ndarray]:
    """`normalised_rows` for a Jacobian ``[m, n, n]`` of the ``n`` markets, without a copy.

    The market row of the country with the largest value added (or of `drop`) is overwritten
    with the normalisation's gradient, so the rows are those of `normalised_rows` in another
    order: the same Newton step.
    """
    m, n = va_new.shape
    drop = np.argmax(va_new, axis=1) if drop is None else np.broadcast_to(drop, (m,))
    members = np.arange(m)
    J[members, drop] = va_new / va_new.sum(axis=1, keepdims=True)
    rows = np.tile(np.arange(n), (m, 1))
    rows[members, drop] = n  # the normalisation is the last residual
    return J, rows


class OneSector(Direct):
    """`Direct` for one sector: the same unknowns, residuals and Jacobian, in fewer operations.

    With one sector ``alpha = 1`` and ``Psi = Phi``. The new shares factor as
    ``pi'[i, j] = a[i, j] e[i] / col[j]`` with ``a = pi kappa**-theta`` (computed once, each
    column scaled by its largest term), ``e = w_hat**-theta`` (scaled by its largest) and
    ``col`` the column sums, so a residual takes no logarithm or exponential of an ``n x n``
    array; columns whose sum would underflow (extreme wages) go through the log-sum-exp of
    `Direct` instead. In the Jacobian, the response of spending to tariff revenue merges with
    the direct response of shares into ``theta (flows / Phi) (g pi')^T = K K^T`` with
    ``K = g pi' sqrt(theta X' / Phi)``: one symmetric product (BLAS ``syrk``) per Newton step
    instead of two general ones; the rest is diagonal or of rank one.

    The state of the last point evaluated is kept, so the Jacobian at a point the line
    search has just accepted, and the solution at the last iterate, do not compute it again.
    """

    def __init__(self, economy: Economy):
        super().__init__(economy)
        c = economy
        z = c.log_pi[:, 0]
        if c.log_kappa.any():
            z = z - c.theta[:, :, None] * c.log_kappa[:, 0]
        top = z.max(axis=1, keepdims=True)
        top[~np.isfinite(top)] = 0.0
        self.a = np.subtract(z, top)  # [b, i, j]: made once, exponentiated in place (fresh memory is slow)
        np.exp(self.a, out=self.a)  # at most 1
        self.log_top = top[:, 0]  # [b, j]
        self.g = c.g[:, 0] if (c.g != 1).any() else None  # None: no tariffs after, g pi' = pi'
        self._memo = None

    def _recall(self, x: np.ndarray, idx: np.ndarray) -> dict | None:
        """The kept state of members `idx` at `x`, when it is that of the last point evaluated."""
        if self._memo is None:
            return None
        last, x0, core = self._memo
        pos = np.minimum(np.searchsorted(last, idx), last.size - 1)
        if not (np.array_equal(last[pos], idx) and np.array_equal(x0[pos], x)):
            return None
        return core if pos.size == last.size else {k: v[pos] for k, v in core.items()}

    def _core(self, x: np.ndarray, idx: np.ndarray) -> dict:
        """Shares, spending and excess demand of members `idx` at `x`, each ``[m, ...]``."""
        core = self._recall(x, idx)
        if core is not None:
            return core
        c = self.c
        th, va, deficit = pick(c.theta, idx), pick(c.va, idx), pick(c.deficit, idx)
        low = x.min(axis=1, keepdims=True)
        pi = pick(self.a, idx) * np.exp(-th * (x - low))[:, :, None]
        col = pi.sum(axis=1)
        if (col > TINY).all():
            pi /= col[:, None, :]
            log_P = -(np.log(col) + pick(self.log_top, idx) - th * low) / th
        else:  # wages so far apart that a column's terms underflow: the shift by column of `Direct`
            pi, log_P = _shares(c.take(idx), x[:, None, :])
            pi, log_P = pi[:, 0], log_P[:, 0]
        gpi = pi if self.g is None else np.multiply(pick(self.g, idx), pi, out=pi)
        phi = gpi.sum(axis=1)
        va_new = np.exp(x) * va
        d_new, _ = new_deficit(va, deficit, c.closure, va_new, jac=False)
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN outside the domain, as in `Direct`
            spend = np.where(va_new + d_new > 0, (va_new + d_new) / phi, np.nan)
        sales = _matvec(gpi, spend)
        x = x.copy()
        core = dict(x=x, gpi=gpi, phi=phi, log_P=log_P, va_new=va_new, d_new=d_new, spend=spend, sales=sales,
                    market=sales / va_new - 1)
        self._memo = (idx.copy(), x, core)
        return core

    def state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        k = self._core(x, idx)
        spend = k["spend"]
        return dict(k, log_cost=k["x"][:, None, :], log_P=k["log_P"][:, None, :],
                    flows=(k["gpi"] * spend[:, None, :])[:, None], psi=k["phi"], sector_spend=spend[:, None, :],
                    revenue=(1 - k["phi"]) * spend)

    def market(self, st: dict) -> np.ndarray:
        return st["market"]

    def residual(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        k = self._core(x, idx)
        return _normalised(k["market"], k["va_new"], pick(self.c.va, idx))

    def jacobian(self, x: np.ndarray, idx: np.ndarray, drop=None) -> np.ndarray:
        """The square Jacobian and its rows (`_replace_row`); `drop` picks the market left out."""
        k = self._core(x, idx)
        gpi, phi, spend, va_new, d_new = k["gpi"], k["phi"], k["spend"], k["va_new"], k["d_new"]
        th = pick(self.c.theta, idx)
        K = gpi * np.sqrt(th * spend / phi)[:, None, :]
        # K[0] @ K[0].T is BLAS syrk; a batch takes a general product per member
        J = (K[0] @ K[0].T)[None] if K.shape[0] == 1 else np.matmul(K, np.swapaxes(K, 1, 2))
        va, deficit = pick(self.c.va, idx), pick(self.c.deficit, idx)
        # d spend / d u: own value added (and own deficit, under "share") and a rank-one deficit term
        if self.c.closure == "fixed":
            own = va_new / phi
            left, right = _matvec(gpi, deficit / phi), va_new / va.sum(axis=1, keepdims=True)
        else:
            own = (va_new + d_new) / phi
            left, right = -_matvec(gpi, va_new / phi), d_new / va_new.sum(axis=1, keepdims=True)
        J += np.multiply(gpi, own[:, None, :], out=K)  # K is spent: its memory takes the terms
        J += np.multiply(left[:, :, None], right[:, None, :], out=K)
        n = x.shape[1]
        J[:, np.arange(n), np.arange(n)] -= (th + 1) * k["sales"]
        J /= va_new[:, :, None]
        return _replace_row(J, va_new, drop)


class Linked(_Remembered):
    """Input-output links (Caliendo and Parro 2015): ``x = [u (n), q (s*n), e (s*n)]``.

    ``u = log w_hat``, ``q = log P_hat[s, j]``, ``e = E'[s, j] / E[s, j]``. Equations, in order:
    labour markets ``sum_s beta Y'[s, i] / VA'[i] - 1``;
    price indices ``q + log(sum_i pi (kappa c_hat)^-theta) / theta``; and spending
    ``(sum_k gamma[s, k, j] Y'[k, j] + alpha (VA' + R' + D')[j] - E'[s, j]) / E[s, j]``, with unit
    costs ``log c_hat = beta u + sum_k gamma[k, s, i] q[k, i]`` and gross output
    ``Y'[s, i] = sum_j pi' E' / (1 + t1)``.
    """

    def __init__(self, economy: Economy):
        self.c = economy

    def baseline(self, m: int) -> np.ndarray:
        """The unknowns at the baseline, ``[m, n + 2 S n]``: wages and prices unchanged, spending hats 1."""
        S, n = self.c.shape
        return np.concatenate([np.zeros((m, n + S * n)), np.ones((m, S * n))], axis=1)

    def _split(self, x):
        S, n = self.c.shape
        m = x.shape[0]
        return x[:, :n], x[:, n:n + S * n].reshape(m, S, n), x[:, n + S * n:].reshape(m, S, n)

    def _state(self, x: np.ndarray, idx: np.ndarray) -> dict:
        c = self.c.take(idx)
        u, q, e = self._split(x)
        va_new = np.exp(u) * c.va
        log_cost = c.beta * u[:, None, :] + np.einsum("mksi,mki->msi", c.gamma, q)
        pi, log_P = _shares(c, log_cost)
        spend = c.spend * e
        flows = c.g * pi * spend[:, :, None, :]
        tariff = pi * spend[:, :, None, :] - flows
        output = flows.sum(axis=3)
        revenue = tariff.sum(axis=(1, 2))
        d_new, _ = new_deficit(c.va, c.deficit, c.closure, va_new, jac=False)
        return dict(c=c, x=x, log_cost=log_cost, u=u, q=q, e=e, va_new=va_new, pi=pi, log_P=log_P, sector_spend=spend, flows=flows,
                    tariff=tariff, output=output, revenue=revenue, d_new=d_new)

    def market(self, st: dict) -> np.ndarray:
        c = st["c"]
        return (c.beta * st["output"]).sum(axis=1) / st["va_new"] - 1

    def _equations(self, st):
        c = st["c"]
        present = c.present[:, :, 0, :]
        f1 = np.where(present, st["q"] - st["log_P"], st["q"])
        scale = np.where(present, c.spend, 1.0)
        inter = np.einsum("mskj,mkj->msj", c.gamma, st["output"])
        income = st["va_new"] + st["revenue"] + st["d_new"]  # NaN below: negative final spending is outside the domain
        final = c.alpha * np.where(income > 0, income, np.nan)[:, None, :]
        f2 = np.where(present, (inter + final - st["sector_spend"]) / scale, st["e"] - 1)
        return f1, f2

    def residual(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        st = self.state(x, idx)
        f1, f2 = self._equations(st)
        m = x.shape[0]
        F = np.concatenate([self.market(st), f1.reshape(m, -1), f2.reshape(m, -1)], axis=1)
        return _normalised(F, st["va_new"], st["c"].va)

    def jacobian(self, x: np.ndarray, idx: np.ndarray, drop=None) -> np.ndarray:
        """The square Jacobian and its rows (`normalised_rows`); `drop` picks the market left out."""
        st = self.state(x, idx)
        c = st["c"]
        S, n = c.shape
        m = x.shape[0]
        pi, flows, tariff, output, va_new = st["pi"], st["flows"], st["tariff"], st["output"], st["va_new"]
        th, beta, gamma, alpha = c.theta, c.beta, c.gamma, c.alpha
        eye_n = np.eye(n)
        present = c.present[:, :, 0, :]  # [m, s, j]
        scale = np.where(present, c.spend, 1.0)

        # gross output Y'[s, i]: d/du[l], d/dq[k, l], and dY/de via G = g pi E
        K = output[:, :, :, None] * eye_n - np.matmul(flows, np.swapaxes(pi, 2, 3))  # [m, s, i, l]
        dY_u = -th[:, :, None, None] * beta[:, :, None, :] * K
        dY_q = -np.einsum("ms,mksl,msil->msikl", th, gamma, K)
        G = c.g * pi * c.spend[:, :, None, :]  # [m, s, i, j]
        # tariff revenue R'[j]
        V = tariff - tariff.sum(axis=2, keepdims=True) * pi  # [m, s, l, j]
        dR_u = -np.einsum("ms,msl,mslj->mjl", th, beta, V)
        dR_q = -np.einsum("ms,mksl,mslj->mjkl", th, gamma, V)
        rate = (pi - c.g * pi) * c.spend[:, :, None, :]  # d revenue / d e, summed over i below
        _, dD = new_deficit(c.va, c.deficit, c.closure, va_new, jac=True)
        d_income_u = dR_u + dD + va_new[:, :, None] * eye_n

        N = n + 2 * S * n
        J = np.zeros((m, N, N))
        U, Q, E = slice(0, n), slice(n, n + S * n), slice(n + S * n, N)
        # labour markets
        J[:, U, U] = np.einsum("msi,msil->mil", beta, dY_u) / va_new[:, :, None]
        J[:, U, U] -= (self.market(st) + 1)[:, :, None] * eye_n
        J[:, U, Q] = (np.einsum("msi,msikl->mikl", beta, dY_q) / va_new[:, :, None, None]).reshape(m, n, S * n)
        J[:, U, E] = (beta[:, :, :, None] * G / va_new[:, None, :, None]).transpose(0, 2, 1, 3).reshape(m, n, S * n)
        # price indices (rows for absent cells pin q = 0)
        p = present[:, :, :, None]
        J1u = -np.swapaxes(pi * beta[:, :, :, None], 2, 3)  # [m, s, j, l]
        J[:, Q, U] = np.where(p, J1u, 0.0).reshape(m, S * n, n)
        J1q = -np.einsum("mslj,mksl->msjkl", pi, gamma) * present[:, :, :, None, None]
        J[:, Q, Q] = J1q.reshape(m, S * n, S * n) + np.eye(S * n)
        # spending (rows for absent cells pin e = 1)
        J2u = (np.einsum("mskj,mkjl->msjl", gamma, dY_u) + alpha[:, :, :, None] * d_income_u[:, None]) / scale[..., None]
        J[:, E, U] = np.where(p, J2u, 0.0).reshape(m, S * n, n)
        J2q = (np.einsum("mskj,mkjpl->msjpl", gamma, dY_q) + alpha[:, :, :, None, None] * dR_q[:, None])
        J[:, E, Q] = (J2q * (present / scale)[:, :, :, None, None]).reshape(m, S * n, S * n)
        # d/de[s', j']: gamma[s, s', j] G[s', j, j'] + alpha[s, j] delta(j, j') revenue rate[s', j]
        J2e = np.einsum("mskj,mkjl->msjkl", gamma, G)
        J2e += np.einsum("msj,mkj,jl->msjkl", alpha, rate.sum(axis=2), eye_n)
        J2e *= (present / scale)[:, :, :, None, None]
        own = np.broadcast_to(np.where(present, c.spend / scale, -1.0), (m, S, n)).reshape(m, S * n)
        J[:, E, E] = J2e.reshape(m, S * n, S * n) - own[:, :, None] * np.eye(S * n)
        return normalised_rows(J, va_new, drop)
