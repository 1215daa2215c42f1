"""Opening a baseline from wherever it is named: a bundled name, a tidy table, a CEPII BACI file or a
UN Comtrade file, told apart by their columns.

This is the one entry point that the command line (``--baseline``) and scenario files
(``baseline = "..."``) use, so that everything a reader takes is accepted everywhere a baseline
is named.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import pandas as pd

from ..codes import COUNTRY_GROUPS, convert_countries
from ..errors import InputError
from ..files import read_table
from .baci import BACI_COLUMNS, read_baci
from . import revisions
from .baseline import Baseline
from .bundled import baseline_axes as bundled_axes
from .bundled import list_baselines, load_baseline
from .comtrade import COMTRADE_LAYOUTS, comtrade_layout, read_comtrade
from .tidy import TIDY_COLUMNS, read_flows

__all__ = ["open_baseline", "baseline_layout", "baseline_axes", "BASELINE_LAYOUTS"]

#: The layouts `open_baseline` recognises, with the columns that identify them.
BASELINE_LAYOUTS: dict[str, str] = {
    "tidy": "a tidy table of flows: exporter, importer, product, value (other names with exporter=, importer=, "
            "product=, value=)",
    "baci": "a CEPII BACI file: t, i, j, k, v, q (with the release's country_codes_V*.csv beside it)",
    "comtrade": "a UN Comtrade file: Comtrade Plus ({}) or legacy ({})".format(
        ", ".join(COMTRADE_LAYOUTS["plus"][c] for c in ("period", "flow", "reporter", "partner", "product", "value")),
        ", ".join(COMTRADE_LAYOUTS["legacy"][c] for c in ("period", "flow", "reporter", "partner", "product",
                                                            "value"))),
}
_READERS = {"tidy": read_flows, "baci": read_baci, "comtrade": read_comtrade}
_CSV = (".csv", ".csv.gz", ".csv.zip", ".txt", ".gz", ".zip")


def _path(ref, relative_to) -> Path:
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = Path(relative_to) / path
    return path


def _columns(path: Path) -> list[str]:
    """The column names of a table file, reading no more than its header (Parquet: its schema)."""
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            return list(read_table(path).columns)  # raises with what to install
        try:
            return list(pq.read_schema(path).names)
        except Exception:  # pyarrow's own errors for a corrupt file: read_table words them
            return list(read_table(path).columns)
    if not suffix.endswith(_CSV):
        return list(read_table(path).columns)  # raises: unknown file type
    try:
        return list(pd.read_csv(path, nrows=0, encoding="utf-8-sig", skipinitialspace=True).columns)
    except Exception:  # empty, not UTF-8, not CSV: read_table words it with the file's name
        return list(read_table(path).columns)


def baseline_layout(path, *, relative_to=None, **options) -> str:
    """The layout of a file of flows: ``"tidy"``, ``"baci"`` or ``"comtrade"``, from its column names.

    A tidy table is recognised by the country and product columns its reader will use
    (``exporter``, ``importer``, ``product``, or the names given in `options`); a BACI file by
    ``t, i, j, k, v``; a Comtrade file by the required columns of either Comtrade layout.

    Raises
    ------
    InputError
        For a missing or unreadable file, or columns of no known layout (listing the columns
        seen and the layouts expected).

    Examples
    --------
    >>> baseline_layout("examples/data/BACI_HS17_Y2023_V202501.csv")  # doctest: +SKIP
    'baci'
    """
    path = _path(path, relative_to)
    columns = _columns(path)
    names = [options.get(c, c) for c in TIDY_COLUMNS[:3]]  # the value column's absence is read_flows' to report
    if set(names) <= set(columns):
        return "tidy"
    if set(BACI_COLUMNS[:5]) <= set(columns):
        return "baci"
    if comtrade_layout(columns):
        return "comtrade"
    expected = "; ".join(BASELINE_LAYOUTS.values())
    raise InputError(f"cannot tell what kind of baseline this is: its columns are {columns}; expected one of: "
                     f"{expected}", source=str(path))


def open_baseline(ref, *, relative_to=None, layout: str | None = None, to_hs2022: bool = False,
                  **options) -> Baseline:
    """Open a baseline named anywhere a baseline is named: a bundled name or a file of flows.

    Parameters
    ----------
    ref : str or path-like
        A bundled baseline (``"demo-2024"``, see `list_baselines`), or a file: a tidy CSV or
        Parquet table (`read_flows`), a CEPII BACI year file (`read_baci`, columns ``t, i, j,
        k, v, q``, with the release's ``country_codes_V*.csv`` beside it) or a UN Comtrade bulk
        or API file (`read_comtrade`, Comtrade Plus or legacy columns). The kind of file is
        told from its columns.
    relative_to : path-like, optional
        The folder a relative path is resolved in (that of the scenario file naming it);
        a relative ``country_codes=`` option is resolved there too.
    layout : {"tidy", "baci", "comtrade"}, optional
        Skip the detection and use this reader.
    to_hs2022 : bool
        Convert the products to HS 2022 after reading (`tradesim.data.to_hs2022`, default
        weights), when they are in HS 2017 or HS 2012; a baseline in HS 2022 is unchanged, and
        one whose revision is unknown is an `InputError` (state it with ``hs_revision=``).
    **options
        Passed to the reader: for example ``value="value_usd"`` (tidy), ``product_level=2``,
        ``countries=[...]``, ``unknown="ROW"``, ``country_map={...}``, ``hs_revision="HS2017"``,
        ``country_format="iso3"`` (all three), ``flow="X"`` (Comtrade). A bundled name takes none.

    Returns
    -------
    Baseline
        With ``provenance["layout"]`` naming the reader used (``"bundled"``, ``"tidy"``,
        ``"baci"``, ``"comtrade"``) and ``provenance["hs_revision"]``.

    Warns
    -----
    TradesimWarning
        The reader's one warning (countries converted, rows set aside), and `to_hs2022`'s.

    Raises
    ------
    InputError
        An unknown bundled name (listing them), a missing file, a file whose columns fit no
        layout (listing the columns seen and the layouts expected), an option the reader does
        not take (listing those it takes), and everything the reader raises, with the file,
        the line and the value.

    Examples
    --------
    >>> b = open_baseline("demo-2024")
    >>> b.provenance["layout"], b.provenance["hs_revision"]
    ('bundled', 'HS2022')
    >>> b = open_baseline("data/BACI_HS17_Y2023_V202501.csv", relative_to="examples",
    ...                   product_level=2, countries=["USA", "CHN"])  # doctest: +SKIP
    """
    catalogue = list(list_baselines().index)
    path = _path(ref, relative_to)
    if str(ref) in catalogue and not path.is_file():
        if options or layout not in (None, "bundled"):  # to_hs2022 is harmless: bundled baselines are HS 2022
            given = sorted(options) + ([f"layout={layout!r}"] if layout not in (None, "bundled") else [])
            raise InputError(f"bundled baseline {str(ref)!r} takes no reader options; got {given}", key="baseline")
        return load_baseline(str(ref))  # bundled baselines are in HS 2022
    if not path.is_file():
        if not path.suffix:
            raise InputError(f"no bundled baseline {str(ref)!r} and no such file; bundled: {catalogue}; a file "
                             "needs its suffix (.csv, .csv.gz, .parquet)", key="baseline")
        raise InputError("file not found", source=str(path))
    if layout is None:
        layout = baseline_layout(path, **{k: v for k, v in options.items() if k in TIDY_COLUMNS})
    if layout not in _READERS:
        raise InputError(f"layout={layout!r}: expected one of {sorted(_READERS)} (or None to tell from the columns)",
                         key="layout")
    reader = _READERS[layout]
    accepted = [p.name for p in list(inspect.signature(reader).parameters.values())[1:]]
    extra = sorted(set(options) - set(accepted))
    if extra:
        raise InputError(f"{'option' if len(extra) == 1 else 'options'} {extra} do{'es' if len(extra) == 1 else ''} "
                         f"not apply to {BASELINE_LAYOUTS[layout].split(':')[0]}; it takes {accepted}",
                         source=str(path))
    if layout == "baci" and options.get("country_codes") is not None:
        options["country_codes"] = _path(options["country_codes"], relative_to)
    baseline = reader(path, **options)
    return revisions.to_hs2022(baseline) if to_hs2022 else baseline


def baseline_axes(ref, *, relative_to=None, **options) -> tuple[list[str], list[str]]:
    """Exporters and importers of a baseline named as in `open_baseline`, as it would open.

    A bundled name is read from the catalogue and a tidy file from its two country columns
    (converted as the reader converts them), without building the flows; BACI and Comtrade
    files are opened (with their warnings held back).

    Examples
    --------
    >>> ex, im = baseline_axes("us-imports-2024")
    >>> im
    ['USA']
    """
    options.pop("to_hs2022", None)  # products only: the axes are the same
    path = _path(ref, relative_to)
    if str(ref) in list(list_baselines().index) and not path.is_file():
        return bundled_axes(str(ref))
    layout = options.pop("layout", None) or baseline_layout(
        path, **{k: v for k, v in options.items() if k in TIDY_COLUMNS})
    if layout == "tidy" and not set(options) - {"exporter", "importer", "country_format", "groups"}:
        exporter, importer = options.get("exporter", "exporter"), options.get("importer", "importer")
        frame = read_table(path, dtype=str, usecols=[exporter, importer])
        groups = options.get("groups") or COUNTRY_GROUPS
        table = convert_countries(pd.unique(pd.concat([frame[exporter], frame[importer]]).dropna()), groups=groups,
                                  country_format=options.get("country_format", "auto"))
        code = table["code"].where(table["code"].notna(), table.index.to_series())
        pick = (lambda col: sorted(pd.unique(frame[col].dropna().map(code)), key=lambda c: (c in groups, c)))
        return pick(exporter), pick(importer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        baseline = open_baseline(ref, relative_to=relative_to, layout=layout, **options)
    return list(baseline.exporters), list(baseline.importers)
