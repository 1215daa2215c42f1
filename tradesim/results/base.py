"""What every result shares: coordinates, the variables at each level, tidy frames and labelled arrays.

A result has leading axes (``draw`` for elasticity draws, ``date`` for a time path) and, per
level of detail (`tradesim.results.variables.LEVEL_DIMS`), the axes ``product, exporter,
importer``, ``exporter, importer`` or ``country``. Each result type says which arrays it holds
(`Result.arrays`); `to_frame`, `to_xarray`, the card shown in notebooks and the checks of
variable names are written once, here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..data.layout import check_fits, dense_bytes
from ..errors import InputError
from ..models import get_model
from .variables import LEVEL_DIMS, LEVELS, VARIABLES

__all__ = ["Result", "baseline_pairs", "positions", "pair_positions"]

#: Changes smaller than this share of the baseline value are rounding, not results: shown as zero.
NOISE = 1e-9
#: USD amounts below this share of the baseline's trade are rounding error of sums over the baseline.
USD_NOISE = 1e-12


def positions(axis, codes, key: str) -> list[int]:
    """Positions of country codes on an axis; `InputError` naming those it lacks."""
    codes = [codes] if isinstance(codes, str) else list(codes)
    axis = list(axis)
    missing = [c for c in codes if c not in axis]
    if missing:
        raise InputError(f"{missing} not in the baseline; it has {axis}", key=key)
    return [axis.index(c) for c in codes]


def baseline_pairs(baseline) -> np.ndarray:
    """The baseline's flows summed over products, ``[exporter, importer]`` USD, from its cells when it is sparse."""
    if baseline.layout == "sparse":
        flows = baseline.sparse_flows
        return flows.cells.by_pair(flows.values)
    return baseline.flows.sum(axis=0)


def pair_positions(baseline, pairs, key: str = "pairs") -> tuple[np.ndarray, np.ndarray]:
    """Exporter and importer positions of ``(exporter, importer)`` pairs."""
    pairs = list(pairs)
    bad = [p for p in pairs if isinstance(p, str) or len(p) != 2]
    if bad:
        raise InputError(f"{bad[:3]} are not (exporter, importer) pairs", key=key)
    i = np.asarray(positions(baseline.exporters, [p[0] for p in pairs], key), dtype=int)
    j = np.asarray(positions(baseline.importers, [p[1] for p in pairs], key), dtype=int)
    return i, j


class Result:
    """The shared design of `SimulationResult`, `ScenarioResult` and `EnsembleResult`.

    Subclasses define `LEVELS` (the levels they hold), `leading` (the labels of their leading
    axes) and `arrays` (their variables at a level).
    """

    LEVELS: tuple[str, ...] = LEVELS
    KIND = "result"

    # -- what subclasses provide -------------------------------------------------------------

    @property
    def leading(self) -> dict[str, np.ndarray]:
        """Labels of the leading axes, in order (``draw``, then ``date``), each present only when used."""
        raise NotImplementedError

    def arrays(self, level: str) -> dict[str, np.ndarray]:
        """Every variable at `level`, each broadcastable to the leading axes plus the level's axes.

        Where `on_cells` gives the cells of `level`, the level's axes are one ``cell`` axis instead.
        """
        raise NotImplementedError

    def on_cells(self, level: str):
        """The cells (`tradesim.data.layout.Cells`) that the arrays of `level` are on, or None when they
        have the level's axes: the ``"cell"`` level of a run on a sparse baseline's cells."""
        return None

    # -- shared ------------------------------------------------------------------------------

    def _below_rounding(self, values: dict) -> dict:
        """Model outputs with rounding error shown as zero: USD amounts below a millionth of a
        millionth of the baseline's trade, percentages below a ten-millionth of a percent."""
        b = self.baseline
        scale = USD_NOISE * (b.sparse_flows.sum() if b.layout == "sparse" else float(np.asarray(b.flows).sum()))
        units = self.units
        out = {}
        for name, a in values.items():
            a = np.asarray(a, dtype=float)
            floor = scale if units.get(name) == "USD" else 100 * NOISE if units.get(name) == "percent" else 0.0
            out[name] = np.where(np.abs(a) < floor, 0.0, a) if floor else a
        return out

    @property
    def units(self) -> dict[str, str]:
        """Variable name -> unit, for the shared variables and the model's outputs."""
        out = {name: v.unit for name, v in VARIABLES.items()}
        out.update(get_model(self.model).units)
        return out

    def variables(self, level: str = "pair") -> pd.DataFrame:
        """The variables this result holds at `level`, with their units and meaning."""
        self._check_level(level)
        spec = get_model(self.model)
        meaning = {**{n: v.meaning for n, v in VARIABLES.items()}, **{o.name: o.meaning for o in spec.outputs}}
        names = list(self.arrays(level))
        return pd.DataFrame({"variable": names, "unit": [self.units[n] for n in names],
                             "meaning": [meaning.get(n, "") for n in names]}).set_index("variable")

    def coords(self, level: str) -> dict[str, np.ndarray]:
        """Labels of every axis of `level`, the leading ones first."""
        b = self.baseline
        labels = {"product": np.asarray(b.products), "exporter": np.asarray(b.exporters),
                  "importer": np.asarray(b.importers), "country": np.asarray(b.countries)}
        return {**self.leading, **{d: labels[d] for d in LEVEL_DIMS[level]}}

    def _check_level(self, level: str) -> None:
        if level not in self.LEVELS:
            raise InputError(f"level {level!r} is not one of {list(self.LEVELS)} for a {type(self).__name__}",
                             key="level")

    def _selected(self, variables, level: str) -> dict[str, np.ndarray]:
        self._check_level(level)
        arrays = self.arrays(level)
        names = list(arrays) if variables is None else ([variables] if isinstance(variables, str) else list(variables))
        unknown = [v for v in names if v not in arrays]
        if unknown:
            raise InputError(f"unknown variables {unknown} at level {level!r}; expected some of {list(arrays)}",
                             key="variables")
        shape = tuple(len(v) for v in self.coords(level).values())
        cells = self.on_cells(level)
        if cells is not None:  # [*leading, cell]
            shape = (*shape[:len(self.leading)], cells.size)
        return {n: np.broadcast_to(arrays[n], shape) for n in names}

    def _keep(self, level: str, nonzero: bool, pairs) -> np.ndarray | None:
        """Mask over the level's axes (over `on_cells` where the level has them): cells or pairs with
        baseline trade, and the chosen pairs."""
        b = self.baseline
        if level == "country":
            return None
        cells = self.on_cells(level)
        if cells is not None:
            base = b.sparse_flows.on(cells)
        else:
            base = b.flows if level == "cell" else baseline_pairs(b)
        keep = base > 0 if nonzero else np.ones(base.shape, bool)
        if pairs is not None:
            i, j = pair_positions(b, pairs)
            chosen = np.zeros((len(b.exporters), len(b.importers)), bool)
            chosen[i, j] = True
            keep = keep & (chosen if cells is None else chosen[cells.exporter, cells.importer])
        return keep

    def to_frame(self, variables: Iterable[str] | None = None, *, level: str = "pair", pairs=None,
                 nonzero: bool = True) -> pd.DataFrame:
        """Long and tidy: one row per coordinate and variable, with its unit.

        Parameters
        ----------
        variables : iterable of str, optional
            Names from `variables(level)`; all by default.
        level : {"cell", "pair", "country"}
            Per product and pair, per pair (summed over products), or per country.
        pairs : iterable of (exporter, importer), optional
            Keep only these pairs (levels ``"cell"`` and ``"pair"``).
        nonzero : bool
            Keep only products and pairs with baseline trade. On a sparse baseline's cells (see
            `on_cells`), False at level ``"cell"`` keeps every cell the baseline lists, not every
            cell of the product x exporter x importer grid.

        Returns
        -------
        pandas.DataFrame
            Columns: the leading axes (``draw``, ``date``) when present, the level's axes,
            ``variable``, ``value`` and ``unit``. Coordinate, variable and unit columns are
            categorical.
        """
        arrays = self._selected(variables, level)
        coords = self.coords(level)
        lead = list(self.leading)
        dims = list(coords)
        keep = self._keep(level, nonzero, pairs)
        on = self.on_cells(level)
        n_lead = int(np.prod([len(coords[d]) for d in lead])) if lead else 1
        if keep is None:
            cells = np.indices(tuple(len(coords[d]) for d in dims[len(lead):])).reshape(len(dims) - len(lead), -1)
        elif on is not None:  # positions among the listed cells, and their product, exporter and importer
            kept = np.flatnonzero(keep)
            cells = np.array([on.product[kept], on.exporter[kept], on.importer[kept]])
        else:
            cells = np.array(np.nonzero(keep))
        lead_idx = np.indices(tuple(len(coords[d]) for d in lead)).reshape(len(lead), -1) if lead else np.zeros((0, 1), int)
        n_cells = cells.shape[1]
        frames = []
        for name, a in arrays.items():
            flat = a.reshape(n_lead, *a.shape[len(lead):])
            if not n_cells:
                values = np.zeros((n_lead, 0))
            else:  # [lead, cell]
                values = flat[:, kept] if on is not None else flat[(slice(None), *cells)]
            frame = {}
            for n, d in enumerate(lead):
                frame[d] = np.repeat(coords[d][lead_idx[n]], n_cells)
            for n, d in enumerate(dims[len(lead):]):
                frame[d] = np.tile(coords[d][cells[n]], n_lead)
            frame["variable"] = name
            frame["value"] = values.ravel()
            frame["unit"] = self.units[name]
            frames.append(pd.DataFrame(frame))
        out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*dims, "variable", "value",
                                                                                       "unit"])
        for col in [d for d in dims if d not in ("date", "draw")] + ["variable", "unit"]:
            out[col] = pd.Categorical(out[col])
        return out

    def to_xarray(self, variables: Iterable[str] | None = None, *, level: str = "pair"):
        """The variables at `level` as an `xarray.Dataset` (needs the optional xarray).

        Dimensions are the leading axes (``draw``, ``date``) and the level's axes; every
        variable carries its ``unit`` and ``meaning`` as attributes, and the dataset the
        result's provenance, so it can be written to netCDF as it is.

        At level ``"cell"`` of a result on a sparse baseline's cells (`on_cells`), the arrays
        are those cells scattered on the whole grid (ratios 1 and the rest 0 where nothing
        trades; a path's imports are the baseline's where it left an importer out, see
        `ScenarioResult.cells`): for baselines whose dense tensors fit in memory.

        Raises
        ------
        InputError
            Without xarray installed (``pip install xarray``); for a grid of cells that would
            take more than half the free memory.
        """
        try:
            import xarray as xr
        except ImportError:
            raise InputError("to_xarray needs xarray: pip install xarray (or the 'xarray' extra of tradesim)",
                             key="to_xarray") from None
        arrays = self._selected(variables, level)
        coords = self.coords(level)
        on = self.on_cells(level)
        if on is not None:  # labelled arrays have every cell of the grid: ratios are 1 where nothing trades
            need = len(arrays) * dense_bytes((int(np.prod([len(coords[d]) for d in self.leading])), *on.shape))
            check_fits(need, f"the result is on the baseline's {on.size:,} cells that trade; its {len(arrays)} "
                             f"variables on the whole {on.shape} grid",
                       "use to_frame(level='cell'), or to_xarray at level 'pair' or 'country'", key="level")
            arrays = {n: self._scatter(on, n, np.asarray(a, dtype=float)) for n, a in arrays.items()}
        meaning = self.variables(level)["meaning"]
        data = {n: xr.Variable(tuple(coords), np.asarray(a), attrs={"unit": self.units[n], "meaning": meaning[n]})
                for n, a in arrays.items()}
        attrs = {k: str(v) for k, v in self.provenance.items() if v not in (None, "")}
        return xr.Dataset(data, coords={d: np.asarray(v) for d, v in coords.items()}, attrs=attrs)

    def _scatter(self, cells, name: str, values: np.ndarray) -> np.ndarray:
        """`values` ``[..., cell]`` of variable `name` on the whole grid of `cells`: ratios 1 and the rest 0 where
        nothing trades (a run on every cell that trades)."""
        return cells.scatter(values, fill=1.0 if self.units[name] == "ratio" else 0.0)

    @property
    def provenance(self) -> dict[str, str]:
        """Where the inputs came from: the baseline's provenance, the schedule's and the model."""
        out = {f"baseline_{k}": v for k, v in self.baseline.provenance.items()}
        schedule = getattr(getattr(self, "scenario", None), "schedule", None)
        if schedule is not None:
            out.update({f"schedule_{k}": v for k, v in schedule.provenance.items() if v})
        out["model"] = self.model
        out["notes"] = " | ".join(getattr(self, "notes", ()))
        return out

    # -- notebooks ---------------------------------------------------------------------------

    def _headline(self) -> pd.DataFrame:
        """Up to five pairs with the largest change of imports: imports before and after and the change."""
        after = np.asarray(self.arrays("pair")["imports_usd"], float)
        if "draw" in self.leading and after.ndim == 2 + len(self.leading):
            after = after.mean(axis=0)  # the mean over draws
        if "date" in self.leading:
            after = after[-1]  # the last period
        base = baseline_pairs(self.baseline)
        with np.errstate(invalid="ignore", divide="ignore"):
            change = np.where(base > 0, 100 * (after / base - 1), 0.0)
        change[np.abs(change) < 100 * NOISE] = 0.0
        i, j = np.unravel_index(np.argsort(-np.abs(change), axis=None)[:5], change.shape)
        keep = change[i, j] != 0
        return pd.DataFrame({"exporter": np.asarray(self.baseline.exporters)[i[keep]],
                             "importer": np.asarray(self.baseline.importers)[j[keep]],
                             "imports before (USD bn)": base[i[keep], j[keep]] / 1e9,
                             "after (USD bn)": after[i[keep], j[keep]] / 1e9,
                             "change (%)": change[i[keep], j[keep]]})

    def _card(self) -> list[tuple[str, str]]:
        """(label, text) lines of the card: what was run and on what."""
        b = self.baseline
        shape = (f"{len(b.products)} products x {len(b.exporters)} exporters x {len(b.importers)} importers")
        lines = [("model", f"{self.model} ({get_model(self.model).description})"),
                 ("baseline", f"{b.provenance.get('name', 'user data')} ({b.year or 'no year'}): {shape}")]
        if "draw" in self.leading:
            lines.append(("draws", str(len(self.leading["draw"]))))
        return lines

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in self._card())
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in getattr(self, "notes", ()))
        head = self._headline()
        table = head.to_html(index=False, float_format=lambda v: f"{v:,.1f}", border=0) if len(head) else ""
        return (f"<div><strong>{html.escape(type(self).__name__)}</strong><table>{rows}</table>"
                + (f"<p>Largest changes of imports:</p>{table}" if table else "")
                + (f"<p>Notes:</p><ul>{notes}</ul>" if notes else "") + "</div>")
