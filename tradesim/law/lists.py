"""Product lists: named sets of HS codes, for all exporters or for some."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..codes import hs_problem, hs_problem_mask, prefix_mask
from ..errors import InputError
from ..files import read_table, require_columns, row_labels
from .fields import LIST_FIELDS, REQUIRED, FieldErrors, check_fields

__all__ = ["ProductList"]


@dataclass(frozen=True)
class ProductList:
    """A named set of HS codes; a code covers every finer code that starts with it.

    Parameters
    ----------
    name : str
        Name that measures use to refer to the list; it may not start with a digit.
    codes : sequence of str
        HS codes of 2 to 10 digits (``"8471"``, ``"85171300"``).
    exporters : sequence of str, optional
        The list applies only to goods from these exporters (a country-specific exemption
        list); to all exporters when None.
    code_exporters : sequence of str, optional
        The exporter each code applies to, aligned with `codes` (a list file with an
        ``exporter`` column); overrides `exporters` code by code.
    description, source, notes : str
        What the list is, where it comes from, and caveats.

    The fields are those of `tradesim.law.fields.LIST_FIELDS`.

    Examples
    --------
    >>> ProductList("electronics", ["8471", "85171300"]).covers(["847130", "8517", "9503"]).tolist()
    [True, False, False]
    """

    name: str = REQUIRED
    codes: tuple[str, ...] = REQUIRED
    exporters: tuple[str, ...] | None = None
    code_exporters: tuple[str, ...] | None = None
    description: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        problems = check_fields(self, LIST_FIELDS)
        if isinstance(self.name, str) and self.name[:1].isdigit():
            # measures tell list names from HS codes by the first character
            problems.append(("name", f"{self.name!r} is not a list name: expected text that does not start with a digit"))
        if not problems and not self.codes:
            problems.append(("codes", "the list is empty: expected at least one HS code"))
        if self.code_exporters is not None and len(self.code_exporters) != len(self.codes or ()):
            problems.append(("code_exporters", f"has {len(self.code_exporters)} entries for {len(self.codes)} codes"))
        if self.code_exporters is not None and self.exporters is not None:
            problems.append(("code_exporters", "give either exporters or an exporter per code, not both"))
        if problems:
            raise FieldErrors(problems, key=f"product list {self.name!r}")
        if self.code_exporters is None:  # duplicates carry no meaning without exporters
            object.__setattr__(self, "codes", tuple(dict.fromkeys(self.codes)))

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def by_exporter(self) -> bool:
        """Whether the list applies to some exporters only."""
        return self.exporters is not None or self.code_exporters is not None

    def covers(self, products: Iterable[str]) -> np.ndarray:
        """Boolean mask ``[product]`` of the products that the list covers in full (for some exporter)."""
        return prefix_mask(np.asarray(list(products), dtype=str), self.codes)

    def mask(self, atoms: np.ndarray, exporters: np.ndarray, *, finer: bool = True) -> np.ndarray:
        """``[atom, exporter]``: where the list covers an atom for an exporter.

        With ``finer=True`` an atom also counts as covered when a code is finer than it (the
        whole-line rule of `TariffSchedule`; atoms are split so that this does not arise
        where finer trade values are known).
        """
        exporters = np.asarray(exporters, dtype=str)
        if self.code_exporters is None:
            hit = prefix_mask(atoms, self.codes, finer=finer)[:, None]
            who = np.ones(exporters.size, bool) if self.exporters is None else np.isin(exporters, self.exporters)
            return hit & who[None, :]
        out = np.zeros((atoms.size, exporters.size), bool)
        codes, owners = np.asarray(self.codes), np.asarray(self.code_exporters)
        for e in np.unique(owners):  # the list's few exporters, not products
            col = exporters == e
            if col.any():
                out[:, col] = prefix_mask(atoms, codes[owners == e].tolist(), finer=finer)[:, None]
        return out

    @classmethod
    def from_csv(cls, path, name: str | None = None, *, column: str = "hs_code", description: str = "",
                 source: str | None = None, exporters=None) -> ProductList:
        """Read a list from a CSV file with one HS code per row (and optionally an ``exporter`` column).

        Dots and spaces inside codes are removed (``8517.13.00`` is ``85171300``); anything
        else that is not a code is an error naming its line.

        Parameters
        ----------
        path : str or Path
            The CSV file.
        name : str, optional
            Defaults to the file name without suffix.
        column : str
            Column with the codes.
        exporters : sequence of str, optional
            As in `ProductList`; not with an ``exporter`` column.
        """
        path = Path(path)
        frame = read_table(path, dtype=str)
        require_columns(frame, [column], str(path), "a product list")
        if frame.empty:
            raise InputError("the list has no rows: expected one HS code per row", source=str(path))
        codes = frame[column].fillna("").str.replace(r"[.\s]", "", regex=True)
        flagged = hs_problem_mask(codes)  # vectorised; messages only for the lines it flags
        bad = [(line, hs_problem(code)) for line, code in zip(codes.index[flagged], codes[flagged])]
        if bad:
            shown = "; ".join(f"line {line}: {p}" for line, p in bad[:5])
            more = f"; ... and {len(bad) - 5} more" if len(bad) > 5 else ""
            raise InputError(shown + more, source=str(path), key=f"column {column!r}")
        owners = None
        if "exporter" in frame.columns:
            blank = frame.index[frame["exporter"].fillna("").str.strip() == ""]
            if len(blank):
                raise InputError(f"blank exporter in {row_labels(blank, frame.index)}: each row needs one",
                                 source=str(path), key="column 'exporter'")
            owners = tuple(frame["exporter"].str.strip())
        try:
            return cls(name or path.stem, tuple(codes), exporters=exporters, code_exporters=owners,
                       description=description, source=source or str(path))
        except FieldErrors as err:
            raise InputError(err.message, source=str(path)) from None
