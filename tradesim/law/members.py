"""Members of aggregate exporters: the exporter axis expanded, as atoms expand the product axis.

An aggregate exporter of a baseline (``ROW``, a group) holds countries that the law treats
differently: a measure on the EU's goods reaches the EU's trade inside ``ROW``, not ``ROW`` as a
whole. Where finer trade values name the aggregate's *members* (a ``member`` column, one row per
member and line), the law is evaluated on each (atom, member) as it applies to the member (its
exporter mask, its rates and qualifying shares by exporter and line), and the aggregate's rate
on an atom is its members' rates weighted by their values on that atom. Atoms where no member
has value keep the aggregate's own rate. The rates are then averaged from atoms back to products
as usual (`tradesim.law.atoms`).

The members' cells are extra exporters of the compiled law (one per distinct member code; a
member whose code is already an exporter, such as the remainder ``ROW`` of ``ROW``, uses that
exporter's cells), and a sparse matrix averages them back: work grows with the member rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from ..kept import array_key, freeze, mask_key

__all__ = ["Members", "Expansion"]


def _atom_of(atoms: np.ndarray, row_code: np.ndarray) -> np.ndarray:
    """``[row]``: the longest atom that starts each code (-1 for none), one binary search per atom length."""
    atom = np.full(row_code.size, -1)
    if row_code.size and atoms.size:
        row_code = np.asarray(row_code, dtype=str)
        row_len = np.char.str_len(row_code)
        atom_len = np.char.str_len(atoms)
        for n in np.unique(atom_len):  # a few code lengths; longer atoms overwrite shorter ones
            of_len = np.flatnonzero(atom_len == n)
            order = of_len[np.argsort(atoms[of_len], kind="stable")]
            keys = atoms[order]
            cut = row_code.astype(f"<U{n}")
            pos = np.minimum(np.searchsorted(keys, cut), keys.size - 1)
            hit = (keys[pos] == cut) & (row_len >= n)
            atom[hit] = order[pos[hit]]
    return atom


@dataclass(frozen=True)
class Members:
    """Values of the members of aggregate exporters, by atom.

    Attributes
    ----------
    codes : numpy.ndarray of str, ``[member]``
        The members' country or group codes (the law evaluates each as an exporter).
    atom, exporter, importer, member : numpy.ndarray of int, ``[row]``
        Each row's atom, aggregate exporter (position on the exporter axis), importer and member
        (position in `codes`); one row per distinct (atom, exporter, importer, member).
    value : numpy.ndarray of float, ``[row]``
        USD, > 0.
    """

    codes: np.ndarray
    atom: np.ndarray
    exporter: np.ndarray
    importer: np.ndarray
    member: np.ndarray
    value: np.ndarray

    @classmethod
    def from_rows(cls, atoms: np.ndarray, row_code: np.ndarray, exporter: np.ndarray, importer: np.ndarray,
                  member: np.ndarray, value: np.ndarray) -> Members | None:
        """Members from fine-value rows: each row's HS code goes to the longest atom that starts it.

        Parameters
        ----------
        atoms : numpy.ndarray of str, ``[atom]``
        row_code : numpy.ndarray of str, ``[row]``
            The rows' HS codes.
        exporter, importer : numpy.ndarray of int, ``[row]``
            Positions on the exporter and importer axes (rows outside them are dropped: -1).
        member : numpy.ndarray of str, ``[row]``
        value : numpy.ndarray of float, ``[row]``
            USD.

        Returns
        -------
        Members or None
            None when no row with value lands on an atom.
        """
        ok = (exporter >= 0) & (importer >= 0) & (value > 0)
        row_code, exporter, importer, member, value = (x[ok] for x in (row_code, exporter, importer, member, value))
        atom = _atom_of(atoms, row_code)
        ok = atom >= 0
        if not ok.any():
            return None
        codes, which = np.unique(np.asarray(member, dtype=str)[ok], return_inverse=True)
        return cls._summed(codes, which.ravel(), atom, exporter, importer, value, ok)

    @classmethod
    def from_coded(cls, atoms: np.ndarray, hs_codes: np.ndarray, row_code: np.ndarray, exporter: np.ndarray,
                   importer: np.ndarray, names: np.ndarray, row_member: np.ndarray,
                   value: np.ndarray) -> Members | None:
        """`from_rows` on rows whose HS codes and members are given as positions in their distinct values.

        Each distinct code is matched to the atoms once (a table has a few distinct codes over many
        rows), and the members are never compared as text.

        Parameters
        ----------
        atoms : numpy.ndarray of str, ``[atom]``
        hs_codes : numpy.ndarray of str, ``[code]``
            The distinct HS codes.
        row_code : numpy.ndarray of int, ``[row]``
            Each row's position in `hs_codes`.
        exporter, importer : numpy.ndarray of int, ``[row]``
            As in `from_rows`.
        names : numpy.ndarray of str, ``[name]``
            The distinct member codes, sorted and each once.
        row_member : numpy.ndarray of int, ``[row]``
            Each row's position in `names`.
        value : numpy.ndarray of float, ``[row]``

        Returns
        -------
        Members or None
            The same as `from_rows` on the rows' codes and members as text.
        """
        ok = (exporter >= 0) & (importer >= 0) & (value > 0)
        row_code, exporter, importer, row_member, value = (x[ok] for x in (row_code, exporter, importer, row_member,
                                                                            value))
        atom = _atom_of(atoms, np.asarray(hs_codes, dtype=str))[row_code] if row_code.size else np.full(0, -1)
        ok = atom >= 0
        if not ok.any():
            return None
        # names are sorted: the members present, in their order, are np.unique of their text (a count per name)
        seen = np.bincount(row_member[ok], minlength=len(names)) > 0
        which = (np.cumsum(seen) - 1)[row_member[ok]]
        return cls._summed(np.asarray(names, dtype=str)[seen], which, atom, exporter, importer, value, ok)

    @classmethod
    def _summed(cls, codes: np.ndarray, which: np.ndarray, atom: np.ndarray, exporter: np.ndarray,
                importer: np.ndarray, value: np.ndarray, ok: np.ndarray) -> Members:
        """The rows `ok` (member `which` among `codes`) summed by distinct (atom, exporter, importer, member)."""
        n_e, n_i = int(exporter.max()) + 1, int(importer.max()) + 1
        key = ((atom[ok] * n_e + exporter[ok]) * n_i + importer[ok]) * codes.size + which
        distinct, inverse = np.unique(key, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=value[ok])
        rest, m = np.divmod(distinct, codes.size)
        rest, i = np.divmod(rest, n_i)
        a, e = np.divmod(rest, n_e)
        return cls(codes, a, e, i, m, summed)

    def expansion(self, importer: int, exporters: np.ndarray, n_atoms: int,
                  wanted: np.ndarray | None) -> Expansion | None:
        """The exporter axis of `importer`'s law expanded by the members (None when it has none).

        Parameters
        ----------
        importer : int
            Position on the importer axis.
        exporters : numpy.ndarray of str, ``[exporter]``
        n_atoms : int
        wanted : numpy.ndarray of bool, ``[atom, exporter]``, optional
            The cells asked for (all when None): members count only where their aggregate's
            cell is asked for.
        """
        # the last expansion of each importer, kept with these members (read-only) for runs on the same cells
        key = (importer, tuple(np.asarray(exporters, dtype=str).tolist()), n_atoms,
               None if wanted is None else mask_key(wanted))
        kept = self.__dict__.setdefault("_expansions", {})
        if importer in kept and kept[importer][0] == key:
            return kept[importer][1]
        out = freeze(self._expansion(importer, exporters, n_atoms, wanted))
        kept[importer] = key, out
        return out

    def _expansion(self, importer: int, exporters: np.ndarray, n_atoms: int,
                   wanted: np.ndarray | None) -> Expansion | None:
        """`expansion`, computed."""
        rows = self.importer == importer
        if wanted is not None:
            rows &= np.asarray(wanted, bool)[self.atom, self.exporter]
        if not rows.any():
            return None
        E = exporters.size
        new = self.codes[~np.isin(self.codes, exporters)]
        sources = np.concatenate([np.asarray(exporters, dtype=str), new.astype(str)])
        order = np.argsort(sources, kind="stable")
        source_of = order[np.searchsorted(sources, self.codes, sorter=order)]  # every code is among the sources
        a, e, s, v = self.atom[rows], self.exporter[rows], source_of[self.member[rows]], self.value[rows]
        want = np.zeros((n_atoms, sources.size), bool)
        want[:, :E] = True if wanted is None else wanted
        want[a, s] = True
        return Expansion(sources, want, E, a, e, s, v)


@dataclass(frozen=True)
class Expansion:
    """One importer's exporters and its members' codes as the axis of its law, and the way back.

    Attributes
    ----------
    sources : numpy.ndarray of str, ``[source]``
        The exporters, then the member codes that are not exporters.
    wanted : numpy.ndarray of bool, ``[atom, source]``
        The cells to compile: those asked for, and every member's where it has value.
    n_exporters : int
    atom, exporter, source, value : numpy.ndarray, ``[row]``
        The member rows: atom, aggregate exporter, the member's source, value (USD).
    """

    sources: np.ndarray
    wanted: np.ndarray
    n_exporters: int
    atom: np.ndarray
    exporter: np.ndarray
    source: np.ndarray
    value: np.ndarray

    @cached_property
    def _aggregates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(key, aggregates, inverse, total)``: each member row's aggregate cell ``atom x exporter`` as a key,
        the distinct keys, each row's among them, and each aggregate's value (USD). Read once (`fold`)."""
        key = self.atom * self.n_exporters + self.exporter
        agg, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
        return key, agg, inverse, np.bincount(inverse, weights=self.value)

    def fold(self, cell_atom: np.ndarray, cell_source: np.ndarray) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
        """The cells ``(atom, exporter)`` of the law's cells ``(atom, source)`` and the matrix between them.

        The last fold is kept with the expansion (read-only), for law cells of the same content: the
        expansion is kept with its members (`expansion`) across a scenario's runs, and so is the law.

        Parameters
        ----------
        cell_atom, cell_source : numpy.ndarray of int, ``[law cell]``
            The compiled law's cells, atom-major.

        Returns
        -------
        cell_atom, cell_exporter : numpy.ndarray of int, ``[cell]``
            The exporters' own cells of the law, and the aggregates' cells that have members,
            atom-major.
        average : scipy.sparse.csr_matrix, ``[cell, law cell]``
            Value weights of the members for an aggregate's cell where it has members, 1 on an
            exporter's own law cell otherwise: ``average @ totals[law cell]`` is ``[cell]``.
        """
        key = (array_key(cell_atom), array_key(cell_source))
        last = self.__dict__.get("_last_fold")
        if last is not None and last[0] == key:
            return last[1]
        out = freeze(self._fold(cell_atom, cell_source))
        self.__dict__["_last_fold"] = key, out  # a frozen dataclass: kept beside its fields, as cached_property
        return out

    def _fold(self, cell_atom: np.ndarray, cell_source: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                              sparse.csr_matrix]:
        """`fold`, computed."""
        E, S = self.n_exporters, self.sources.size
        n_atoms = self.wanted.shape[0]
        where = np.full(n_atoms * S, -1)
        where[cell_atom * S + cell_source] = np.arange(cell_atom.size)
        own = np.flatnonzero(cell_source < E)
        own_key = cell_atom[own] * E + cell_source[own]
        key, agg, inverse, total = self._aggregates
        has_members = np.zeros(n_atoms * E, bool)
        has_members[agg] = True
        alone = ~has_members[own_key]  # the exporters' own cells, where they have no members
        on = has_members.copy()
        on[own_key[alone]] = True
        out_key = np.flatnonzero(on)  # sorted: atom-major
        law_cell = where[self.atom * S + self.source]
        reached = law_cell >= 0  # a member cell the law does not keep is 0
        rows = np.concatenate([np.searchsorted(out_key, own_key[alone]), np.searchsorted(out_key, key[reached])])
        cols = np.concatenate([own[alone], law_cell[reached]])
        weights = np.concatenate([np.ones(int(alone.sum())), self.value[reached] / total[inverse[reached]]])
        average = sparse.csr_matrix((weights, (rows, cols)), shape=(out_key.size, cell_atom.size))
        a, e = np.divmod(out_key, E)
        return a, e, average
