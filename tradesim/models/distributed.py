"""Partial equilibrium on a dask.distributed cluster: chunks of products as tasks.

Products are independent problems of `tradesim.models.pe`, so a chunk of products solved on a
worker gives the numbers that the whole solve gives for them. `solve` checks the inputs here
(bad input is refused before any work, naming positions in the whole tensor), cuts the products
into chunks with about the same number of cells that trade, sends each chunk's slice of the
inputs to the cluster, and puts the chunks' solutions back together in product order: the same
`PESolution` as `tradesim.models.pe.solve`, to the last bit (each problem is solved by the same
code on the same numbers).

A user reaches it through the registry: ``tradesim.simulate(baseline, before, after,
client=client)`` (the ``pe`` model with a ``client`` option), or directly on the cells of a
large baseline, ``solve(baseline.sparse_flows, t0, t1, sigma, eta, epsilon, client=client)``.

Examples
--------
>>> import numpy as np
>>> from tradesim.data.layout import SparseTensor
>>> flows = np.zeros((4, 3, 3)); flows[:, 0, 2] = 50; flows[:, 1, 2] = 50
>>> t1 = np.zeros_like(flows); t1[:, 0, 2] = 0.1
>>> local = pe.solve(SparseTensor.from_dense(flows), 0.0 * flows, t1, 4.0, 1.0, 2.0, domestic=False)
>>> on_dask = solve(SparseTensor.from_dense(flows), 0.0 * flows, t1, 4.0, 1.0, 2.0, domestic=False,
...                 chunk_cells=2)  # doctest: +SKIP
>>> bool(np.array_equal(local.quantity, on_dask.quantity))  # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np

from ..data.cluster import import_distributed, using_client, workers_of
from ..data.layout import SparseTensor
from ..errors import ConvergenceError, InputError, TradesimWarning
from ..files import warn_at_caller
from . import pe
from ._newton import check_options

__all__ = ["MIN_TASK_CELLS", "solve", "split_products"]

#: Fewest cells a task gets by default: smaller tasks cost more in scheduling than they save.
MIN_TASK_CELLS = 2**16

# The solved arrays a task sends back; the inputs stay where they are (the client has them).
_SOLVED = ("exporter_price", "price_index", "quantity", "consumer_surplus", "producer_surplus", "welfare")


def split_products(cells_per_product: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Consecutive ranges of products ``(lo, hi)``, about `parts` of them, with about equal numbers of cells.

    Parameters
    ----------
    cells_per_product : ndarray of int, ``[product]``
        Cells that trade in each product.
    parts : int
        How many ranges to aim for (fewer when products are too few or too uneven).

    Examples
    --------
    >>> split_products(np.array([5, 1, 1, 1, 5, 1]), 2)
    [(0, 3), (3, 6)]
    """
    K = cells_per_product.size
    if K == 0:
        return []
    total = max(int(cells_per_product.sum()), 1)
    edges = np.searchsorted(np.cumsum(cells_per_product), total * np.arange(1, parts) / parts, side="left") + 1
    bounds = np.unique(np.clip(np.concatenate([[0], edges, [K]]), 0, K))
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _solve_chunk(flows, t0, t1, sigma, eta, epsilon, options: dict) -> dict:
    """`pe.solve` on one chunk, without its warning: its solved arrays, and its error as values.

    The solve's one warning (negative values of a linear solution) is counted and given once by
    `solve` (a worker's warning would be printed in its own process). Errors travel back as
    values: `ConvergenceError` (keyword arguments) does not survive pickling.
    """
    try:
        sol = pe.solve(flows, t0, t1, sigma, eta, epsilon, warn=False, **options)
    except ConvergenceError as err:
        return {"error": ("convergence", err.detail, err.iterations, err.residual, err.tol, err.draws)}
    except InputError as err:
        return {"error": ("input", err.message, err.source, err.key)}
    return {"solved": {name: getattr(sol, name) for name in _SOLVED}, "iterations": sol.iterations,
            "max_residual": sol.max_residual, "draws": sol.draws, "negatives": sol.negatives}


def solve(flows, tariff_before, tariff_after, sigma, eta, epsilon, *, client=None, chunk_cells: int | None = None,
          domestic: bool = True, home=None, method: str = "exact", tol: float = 1e-10,
          max_iter: int = 100) -> pe.PESolution:
    """`tradesim.models.pe.solve` on a dask.distributed cluster, chunks of products as tasks.

    Parameters
    ----------
    flows : array_like ``[product, exporter, importer]`` or SparseTensor
        Baseline values, USD per year, tariff-exclusive; usually the cells that trade
        (`tradesim.data.Baseline.sparse_flows`), so that memory grows with them.
    tariff_before, tariff_after : array_like ``[product, exporter, importer]``, SparseTensor or ``[cell]``
        Ad valorem rates as fractions, as in `tradesim.models.pe.solve`.
    sigma, eta, epsilon : array_like
        Elasticities, shapes ``()``, ``[product]``, ``[product, country]`` or ``[draw,
        product, country]``, as in `tradesim.models.pe.solve`.
    client : distributed.Client, optional
        The cluster. None starts a LocalCluster (processes, one thread each) for this call and
        closes it after.
    chunk_cells : int, optional
        Cells that trade per task. By default a quarter of the cells per worker (so that no
        worker waits long on the last task), at least `MIN_TASK_CELLS`.
    domestic, home, method, tol, max_iter
        As in `tradesim.models.pe.solve`.

    Returns
    -------
    PESolution
        The same numbers as `tradesim.models.pe.solve` on the same inputs (on the cells of a
        sparse `flows`, its pair arrays are ``[draw?, cell]``).

    Raises
    ------
    InputError
        Without dask.distributed installed, or for bad input (both before any work).
    ConvergenceError
        When a chunk does not converge (naming the chunk's products).

    Warns
    -----
    TradesimWarning
        As `tradesim.models.pe.solve` (once, counting the negative values of every chunk).

    Examples
    --------
    >>> import distributed  # doctest: +SKIP
    >>> with distributed.Client(processes=False) as client:  # doctest: +SKIP
    ...     sol = solve(baseline.sparse_flows, t0, t1, 4.0, 1.0, np.inf, domestic=False, client=client)
    """
    import_distributed()  # fail before any work
    if method not in ("exact", "linear"):
        raise InputError(f"unknown method {method!r}; expected 'exact' or 'linear'", key="method")
    check_options(tol, max_iter)
    if chunk_cells is not None and not (isinstance(chunk_cells, (int, np.integer)) and chunk_cells >= 1):
        raise InputError(f"is {chunk_cells!r}; expected a whole number of cells >= 1", key="chunk_cells")
    values, t0, t1, sig, et, eps, home, cells = pe.check_inputs(flows, tariff_before, tariff_after, sigma, eta,
                                                                epsilon, domestic=domestic, home=home)
    K = cells.shape[0] if cells is not None else values.shape[0]
    if K == 0:  # nothing to send
        return pe.solve(flows, tariff_before, tariff_after, sigma, eta, epsilon, domestic=domestic, home=home,
                        method=method, tol=tol, max_iter=max_iter)
    per_product = np.diff(cells.bounds) if cells is not None else np.count_nonzero(values.reshape(K, -1), axis=1)
    options = {"domestic": domestic, "home": home, "method": method, "tol": tol, "max_iter": max_iter}

    def part(lo: int, hi: int) -> tuple:
        """Products ``lo:hi`` of every input (elasticities whose product axis broadcasts stay whole)."""
        el = [a[:, lo:hi] if a.shape[1] != 1 else a for a in (sig, et, eps)]
        if cells is None:
            return (values[lo:hi], t0[lo:hi], t1[lo:hi], *el)
        a, b = cells.bounds[lo], cells.bounds[hi]
        return (SparseTensor(cells.products(lo, hi), values[a:b]), t0[a:b], t1[a:b], *el)

    with using_client(client) as client:
        total = int(per_product.sum())
        target = chunk_cells or max(MIN_TASK_CELLS, -(-total // (4 * workers_of(client))))
        ranges = split_products(per_product, max(1, -(-total // int(target)))) or [(0, K)]
        # scatter each chunk's inputs first: large arrays in a task itself would pass through the scheduler
        futures = [client.submit(_solve_chunk, *client.scatter(part(lo, hi), hash=False), options, pure=False)
                   for lo, hi in ranges]
        results = client.gather(futures)
    _raise_first_error(results, ranges)
    solution = _combine(results, values, t0, t1, cells, home, method, domestic)
    if solution.negatives:  # the local solve's warning, with the count over every chunk
        warn_at_caller(pe.linear_warning(solution.negatives), TradesimWarning)
    return solution


def _raise_first_error(results: list, ranges: list) -> None:
    """The first chunk's error, raised here with the chunk's products named."""
    for r, (lo, hi) in zip(results, ranges):
        if "error" not in r:
            continue
        kind, message, *rest = r["error"]
        where = f"in the task of products {lo} to {hi - 1}; positions are counted from its first product"
        if kind == "convergence":
            iterations, residual, tol, draws = rest
            raise ConvergenceError(f"{message} ({where})", iterations=iterations, residual=residual, tol=tol,
                                   draws=draws)
        source, key = rest
        raise InputError(f"{message} ({where})", source=source, key=key)


def _combine(results: list, values, t0, t1, cells, home, method: str, domestic: bool) -> pe.PESolution:
    """The chunks' solutions as one, in product order.

    Product axes: third from the end of dense pair arrays (``[draw?, product, exporter,
    importer]``), second from the end of the others (``[draw?, product, country]``); pair arrays
    on cells (``[draw?, cell]``) join on their last axis.
    """
    solved = {}
    for name in _SOLVED:
        parts = [r["solved"][name] for r in results]
        axis = (-1 if cells is not None else -3) if name == "quantity" else -2
        solved[name] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=axis)
    return pe.PESolution(flows=values, tariff_before=t0, tariff_after=t1, **solved,
                         iterations=max(r["iterations"] for r in results),
                         max_residual=max(r["max_residual"] for r in results), method=method,
                         domestic=bool(domestic), draws=any(r["draws"] for r in results), home=home, cells=cells,
                         negatives=sum(r["negatives"] for r in results))
