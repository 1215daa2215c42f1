"""Reader for CEPII BACI: bilateral trade by HS6 product, reconciled from UN Comtrade.

A BACI year file (``BACI_HS17_Y2022_V202401.csv``) has columns ``t`` (year),
``i`` (exporter), ``j`` (importer), ``k`` (HS6 product), ``v`` (value in
thousands of USD, FOB) and ``q`` (quantity in metric tons, blank or ``NA`` when
unknown). Countries are BACI's own numeric codes, which mostly follow ISO 3166
numeric but not always (the United States is 842, France 251, India 699,
Switzerland 757, Norway 579), so they are resolved through the country-code file
that ships with each BACI release (``country_codes_V202401.csv``), never through
ISO numeric codes.

The HS revision of the products is in the file name (``BACI_HS17_...`` is HS 2017); the
reader records it in the baseline's provenance (``hs_revision``), and
`tradesim.data.to_hs2022` converts HS 2017 and HS 2012 baselines to the HS 2022 codes of the
law's product lists.

Reference: Gaulier, G. and Zignago, S. (2010), "BACI: International Trade
Database at the Product-Level. The 1994-2007 Version", CEPII Working Paper 2010-23.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..codes import hs_revision_label
from ..errors import InputError
from ..files import read_table, row_labels, require_columns
from .baseline import Baseline
from .layout import available_memory
from .notes import warn_user
from .readers import check_values, pad_codes, resolve_countries, restrict_countries

__all__ = ["read_baci", "read_baci_country_codes", "baci_hs_revision", "baci_rows", "check_baci_memory"]

#: BACI's columns: year, exporter, importer, HS6 product, value (thousands of USD), quantity (tonnes).
BACI_COLUMNS = ("t", "i", "j", "k", "v", "q")

#: Peak bytes per row of reading a BACI file (text columns, codes resolved, the baseline built), measured with
#: ``ru_maxrss`` on synthetic BACI files of 0.2 and 0.8 million rows (about 380 B), rounded up.
READ_BYTES_PER_ROW = 400
#: Peak bytes per cell that trades of a local PE solve on a sparse baseline (`tradesim.models.pe`, inputs, work
#: arrays and solution): about 120 B measured on 10 million cells (benchmark ``pe_baci_world``), rounded up for the
#: results built from it.
RUN_BYTES_PER_CELL = 200
#: Bytes read from the start of a file to count its rows per byte.
_SAMPLE_BYTES = 2**20
ENGINES = ("local", "dask")

# Column names of the country-code file: releases from 2024 on, and earlier ones.
_CODE_COLUMNS = (
    ("country_code", "country_iso3", "country_name"),
    ("country_code", "iso_3digit_alpha", "country_name_abbreviation"),
)


def read_baci_country_codes(path) -> pd.DataFrame:
    """Read a BACI country-code file into columns ``code`` (int), ``iso3`` and ``name``."""
    src = str(path)
    table = read_table(path, dtype=str)
    for code, iso3, name in _CODE_COLUMNS:
        if {code, iso3, name} <= set(table.columns):
            out = pd.DataFrame(
                {
                    "code": pd.to_numeric(table[code].str.strip(), errors="coerce"),
                    "iso3": table[iso3].fillna("").str.strip(),
                    "name": table[name].fillna("").str.strip(),
                }
            )
            if out["code"].isna().any():
                bad = out.index[out["code"].isna()]
                raise InputError(f"country code is not a number ({row_labels(bad, out.index)})", source=src, key=code)
            dup = out.index[out["code"].duplicated(keep=False)]
            if len(dup):
                raise InputError(f"country code listed twice ({row_labels(dup, out.index)})", source=src, key=code)
            out["code"] = out["code"].astype(int)
            return out
    raise InputError(
        "not a BACI country-code file: expected columns country_code, country_iso3, country_name "
        f"(or the pre-2024 iso_3digit_alpha, country_name_abbreviation); found {list(table.columns)}",
        source=src,
    )


def _find_code_file(path: Path) -> Path:
    candidates = sorted(path.parent.glob("country_codes_V*.csv"))
    version = re.search(r"V\d{6}", path.name)
    if version:
        same = [c for c in candidates if version.group(0) in c.name]
        candidates = same or candidates
    if len(candidates) == 1:
        return candidates[0]
    found = f"found {[c.name for c in candidates]}" if candidates else "found none"
    raise InputError(
        f"cannot tell which BACI country-code file belongs to this data ({found} beside it); "
        "pass country_codes='country_codes_VYYYYMM.csv'",
        source=str(path),
    )


def baci_hs_revision(path, hs_revision: str | None = None) -> str:
    """The HS revision of a BACI file: from its name (``BACI_HS17_...`` -> ``"HS2017"``) or `hs_revision`.

    Raises
    ------
    InputError
        When the name and `hs_revision` disagree, or when neither tells (a renamed file): pass
        ``hs_revision="HS2017"`` (or ``"unknown"`` to go on without one).

    Examples
    --------
    >>> baci_hs_revision("BACI_HS17_Y2023_V202501.csv")
    'HS2017'
    """
    found = re.search(r"BACI_HS(\d{2})_", Path(path).name, flags=re.IGNORECASE)
    named = hs_revision_label(f"HS{found[1]}") if found else None
    given = None if hs_revision is None else hs_revision_label(hs_revision)
    if named and given and given != named:
        raise InputError(f"hs_revision={hs_revision!r}, but the file name says {named} "
                         f"(BACI_HS{found[1]}_...); the name is BACI's own record of the revision",
                         source=str(path), key="hs_revision")
    if named or given:
        return named or given
    raise InputError("cannot tell the HS revision of this BACI file: its name does not start BACI_HSyy_ "
                     "(BACI_HS17_Y2023_V202501.csv is HS 2017); pass hs_revision='HS2017' (or the revision of "
                     "the release it came from), or hs_revision='unknown' to read it without one",
                     source=str(path), key="hs_revision")


def read_baci(
    path,
    country_codes=None,
    *,
    year: int | None = None,
    product_level: int = 6,
    countries: Sequence[str] | None = None,
    rest: str = "ROW",
    unknown: str = "error",
    country_map: Mapping[str, str] | None = None,
    hs_revision: str | None = None,
    country_format: str = "auto",
    engine: str = "local",
    memory_limit: int | None = None,
) -> Baseline:
    """Read a CEPII BACI file into a `Baseline` (values in USD, not thousands).

    Parameters
    ----------
    path : path-like
        A BACI CSV (``t,i,j,k,v,q``), plain or compressed, or Parquet with those columns.
    country_codes : path-like, optional
        BACI's country-code file. By default the ``country_codes_V*.csv`` beside
        `path` (of the same release, when several lie there).
    year : int, optional
        Year to keep when the file holds several.
    product_level : {2, 4, 6}
        HS digits to sum the HS6 flows to.
    countries : sequence of str, optional
        ISO3 codes to keep; every other economy is summed into `rest`.
    rest : str
        Group that collects the other economies (``ROW``).
    unknown : {"error", "ROW"}
        What to do with BACI codes that are not ISO 3166 countries (``S19``,
        "Other Asia, n.e.s."): raise, or fold into ``ROW`` with a warning that
        lists them and their trade.
    country_map : mapping, optional
        Renames applied to ISO3 codes first, e.g. ``{"S19": "TWN"}``.
    hs_revision : str, optional
        The HS revision of the products (``"HS2017"``, ``"H5"``, ``"HS17"``). Read from the
        file name by default; required when the name does not carry it (``"unknown"`` reads
        the file without one).
    country_format : {"auto", "iso3"}
        How the code file's ISO3 column is read: ``"auto"`` also converts names, ISO
        alpha-2 and numeric codes found there (see `tradesim.codes.convert_countries`),
        reporting each conversion.
    engine : {"local", "dask"}
        Where the model will run on this baseline. Before reading, the file's rows are
        estimated from its size and the memory of reading them (and, for ``"local"``, of a PE
        run on them here) is compared with `memory_limit` (`check_baci_memory`). ``"dask"``:
        the run's chunks go to a dask.distributed cluster (``tradesim.simulate(...,
        client=client)``, `tradesim.models.distributed.solve`), so only the reading counts.
    memory_limit : int, optional
        Bytes the reading (and a local run) may take; the memory free now by default
        (`tradesim.data.layout.available_memory`; no check where that is unknown).

    Returns
    -------
    Baseline
        ``flows[k, i, j]`` in USD; no domestic sales (BACI has none). The provenance
        records ``hs_revision``, and what was converted or folded into ``ROW``.

    Raises
    ------
    InputError
        Missing file or columns, codes missing from the code file, non-numeric,
        blank or negative values, product codes longer than six digits, duplicate
        rows, several years without `year`, an HS revision that the file name does
        not give and `hs_revision` does not state (or contradicts). A file too large for
        `memory_limit`, before any work (see `check_baci_memory`).

    Warns
    -----
    TradesimWarning
        Once, listing the country codes converted and the economies folded into ``ROW``.

    Examples
    --------
    >>> b = read_baci("examples/data/BACI_HS17_Y2023_V202501.csv", product_level=2)  # doctest: +SKIP
    >>> b.provenance["hs_revision"]  # doctest: +SKIP
    'HS2017'
    """
    path = Path(path)
    src = str(path)
    if product_level not in (2, 4, 6):
        raise InputError(f"product_level={product_level!r}: expected 2, 4 or 6", key="product_level")
    check_baci_memory(path, engine=engine, memory_limit=memory_limit)  # before any work: not a crash halfway
    frame = read_table(path, dtype=str)
    require_columns(frame, list(BACI_COLUMNS[:5]), src, "a CEPII BACI file (t, i, j, k, v, q)")
    frame = frame.apply(lambda col: col.str.strip() if pd.api.types.is_string_dtype(col) else col)

    years = sorted(frame["t"].dropna().unique())
    if year is None:
        if len(years) != 1:
            raise InputError(f"the file holds years {years}; pass year= to pick one", source=src, key="column 't'")
        year = int(years[0])
    else:
        frame = frame[frame["t"] == str(year)]
        if frame.empty:
            raise InputError(f"no rows for year {year}; the file holds {years}", source=src, key="column 't'")

    codes = read_baci_country_codes(country_codes if country_codes is not None else _find_code_file(path))
    iso = dict(zip(codes["code"], codes["iso3"]))
    names = dict(zip(codes["iso3"], codes["name"]))
    numeric = {}
    for col in ("i", "j"):
        num = pd.to_numeric(frame[col], errors="coerce")
        missing = frame.index[num.isna() | ~num.isin(list(iso))]
        if len(missing):
            raise InputError(
                f"country code {frame[col][missing[0]]!r} is not in the BACI country-code file "
                f"({row_labels(missing, frame.index)})",
                source=src,
                key=f"column {col!r}",
            )
        numeric[col] = num.astype(int).map(iso)

    revision = baci_hs_revision(path, hs_revision)
    dup = frame.index[frame.duplicated(["i", "j", "k"], keep=False)]
    if len(dup):
        raise InputError(f"duplicate exporter, importer and product ({row_labels(dup, frame.index)})", source=src)

    table = pd.DataFrame(
        {
            "exporter": numeric["i"],
            "importer": numeric["j"],
            "product": pad_codes(frame["k"], 6, src, "k").str[:product_level],
            # BACI values are in thousands of USD.
            "value": check_values(frame["v"], src, "v") * 1000.0,
        },
        index=frame.index,
    )
    table, notes, done = resolve_countries(
        table, ("exporter", "importer"), source=src, unknown=unknown, country_map=country_map, value="value",
        names=names, country_format=country_format,
    )
    table = restrict_countries(table, ("exporter", "importer"), countries, rest)
    table = table.groupby(["exporter", "importer", "product"], as_index=False, sort=False)["value"].sum()
    baseline = Baseline.from_frame(
        table,
        year=year,
        domestic=False,
        source=src,
        provenance={
            "source": "CEPII BACI",
            "file": src,
            "layout": "baci",
            "units": "USD (BACI thousands of USD x 1000), FOB",
            "products": f"HS{product_level}, summed from BACI HS6",
            "hs_revision": revision,
            **done,
        },
    )
    if notes:
        warn_user(f"{src}: " + "; ".join(notes))
    return baseline


def baci_rows(path) -> tuple[int, int]:
    """The size of a BACI file in bytes and an estimate of its rows, without reading it all.

    Parquet files state their rows. For CSV (plain, gzip, bzip2, xz or zip) the rows per byte of
    the first MiB are scaled to the whole file (per compressed byte for compressed files).

    Examples
    --------
    >>> baci_rows("examples/data/BACI_HS17_Y2023_V202501.csv")  # doctest: +SKIP
    (1375, 40)
    """
    path = Path(path)
    size = path.stat().st_size
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            return size, int(pq.ParquetFile(path).metadata.num_rows)
        except Exception:  # no pyarrow, or not Parquet: the reader says so
            return size, 0
    try:
        if suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                member = archive.infolist()[0]
                with archive.open(member) as fh:
                    sample = fh.read(_SAMPLE_BYTES)
                whole = member.file_size  # uncompressed: the sample's rows per byte apply to it
        else:
            opener = {".gz": gzip.GzipFile, ".bz2": bz2.BZ2File, ".xz": lzma.LZMAFile}.get(suffix)
            with open(path, "rb") as raw:
                if opener is None:
                    sample = raw.read(_SAMPLE_BYTES)
                    used = len(sample)
                else:
                    with opener(fileobj=raw) as fh:
                        sample = fh.read(_SAMPLE_BYTES)
                        used = raw.tell()  # compressed bytes behind the sample (read ahead a little)
            whole = size * len(sample) / max(used, 1)
    except (OSError, EOFError, IndexError, zipfile.BadZipFile, lzma.LZMAError):
        return size, 0  # not an archive it claims to be: the reader says so
    lines = sample.count(b"\n") + (0 if sample.endswith(b"\n") or not sample else 1)
    if len(sample) < _SAMPLE_BYTES:  # the whole file was read
        return size, max(lines - 1, 0)
    return size, int(lines / len(sample) * whole)


def check_baci_memory(path, *, engine: str = "local", memory_limit: int | None = None) -> int:
    """Refuse a BACI file too large for this machine before any work, saying what it needs and what to do.

    The estimate is ``rows x READ_BYTES_PER_ROW`` for reading and, with ``engine="local"``,
    ``rows x RUN_BYTES_PER_CELL`` for a PE run on its cells here (every row a cell that trades:
    an upper bound when rows are summed to coarser products or fewer countries).

    Parameters
    ----------
    path : path-like
        The BACI file.
    engine : {"local", "dask"}
        Where the model will run (``"dask"``: the run's memory is on the cluster's workers).
    memory_limit : int, optional
        Bytes available; the memory free now by default (no check when that is unknown).

    Returns
    -------
    int
        The estimate, bytes.

    Raises
    ------
    InputError
        When the estimate exceeds the limit: the message names the file's size, its estimated
        rows, the estimate and the limit, and the options (the Dask engine for the run).

    Examples
    --------
    >>> check_baci_memory("examples/data/BACI_HS17_Y2023_V202501.csv", memory_limit=2**30)  # doctest: +SKIP
    24000
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; expected one of {ENGINES}", key="engine")
    path = Path(path)
    if not path.is_file():
        return 0  # the reader says the file is missing
    size, rows = baci_rows(path)
    read = rows * READ_BYTES_PER_ROW
    run = rows * RUN_BYTES_PER_CELL if engine == "local" else 0
    limit = available_memory() if memory_limit is None else int(memory_limit)
    if not limit or read + run <= limit:
        return read + run
    free = "the memory limit given" if memory_limit is not None else "the memory free now"
    head = (f"this BACI file is {_gib(size)} (about {rows:,} rows); reading it needs about {_gib(read)}")
    if engine == "local":
        need = (f"{head} and a PE run on its cells here about {_gib(run)} more: {_gib(read + run)}, more than the "
                f"{_gib(limit)} of {free}")
        if read <= limit:
            todo = ("run the model on a Dask cluster instead, which leaves only the reading here: "
                    "read_baci(..., engine='dask'), then tradesim.simulate(..., client=distributed.Client(...)) or "
                    "tradesim.models.distributed.solve(baseline.sparse_flows, ..., client=...); or use a machine "
                    "with more memory")
        else:
            todo = ("even the reading does not fit, so the Dask engine for the run (engine='dask', "
                    "client=distributed.Client(...)) is not enough: split the file (fewer products or "
                    "countries per file) or use a machine with more memory")
    else:
        need = f"{head}, more than the {_gib(limit)} of {free}"
        todo = ("the Dask engine runs the model on the cluster, but the file is read here: split the file "
                "(fewer products or countries per file) or use a machine with more memory")
    raise InputError(f"{need}; {todo} (memory_limit= sets the limit)", source=str(path), key="memory")


def _gib(n: float) -> str:
    """Bytes in GiB (MiB below one GiB), for messages."""
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.1f} MiB"
