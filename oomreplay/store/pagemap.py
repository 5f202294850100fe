"""A keyframe's page map: where each page of each state table is (which keyframe wrote its whole version, which
its patch), as the writer stores it (a full map per keyframe group, then each keyframe's own pieces) and as the
reader looks it up again, page by page (``MapIndex``)."""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate, chain, repeat
from typing import Any

from ..model import TABLES
from .codec import deltas
from .format import TraceError

#: A page of a keyframe's map: its whole version and its patch (None, None: none), each as (keyframe number, slot
#: among that keyframe's pieces). Exactly what a state's table holds as the page's reference.
PageRef = tuple[int, int, "int | None", "int | None"]


def pieces_payload(pieces: dict[str, list[tuple[int, bool]]]) -> dict[str, list]:
    """A keyframe's own pieces, per table in slot order: page numbers (as differences, mostly 1) and whether each
    is the whole page or a patch."""
    return {table: [deltas([p for p, _ in rows]), [whole for _, whole in rows]] for table, rows in pieces.items()
            if rows}


def decode_pieces(payload: Any) -> dict[str, list[tuple[int, bool]]]:
    """``{table: [(page, whole?)]}``; the caller turns a TypeError or ValueError into a TraceError."""
    out = {}
    for table, (pages, wholes) in payload.items():
        if table not in TABLES or len(pages) != len(wholes):
            raise ValueError("a piece list of an unknown table or of columns of different lengths")
        out[table] = list(zip(accumulate(pages), map(bool, wholes)))
    return out


def full_map_payload(k: int, page_map: dict[str, dict[int, PageRef]]) -> dict[str, list]:
    """Every page of keyframe ``k`` as columns: page numbers as differences, and each piece as how many keyframes
    back it was written (small numbers that repeat from one full map to the next) and its slot there; a patch
    0 keyframes back is written as 1, so that 0 can say "no patch"."""
    out = {}
    for table, m in page_map.items():
        if not m:
            continue
        pages = sorted(m)
        refs = [m[p] for p in pages]
        out[table] = [deltas(pages), [k - r[0] for r in refs], [r[1] for r in refs],
                      [0 if r[2] is None else k - r[2] + 1 for r in refs], [r[3] or 0 for r in refs]]
    return out


def decode_full_map(payload: Any) -> dict[str, tuple[list[int], tuple]]:
    """``{table: (page numbers, the other columns of full_map_payload)}``: checked for what a bisect needs (page
    numbers that increase), but not yet turned into references (``MapIndex`` does that page by page, checking
    each); the caller turns a TypeError or ValueError into a TraceError."""
    out = {}
    for table, (pages, backs, slots, patch_backs, patch_slots) in payload.items():
        if table not in TABLES or not len(pages) == len(backs) == len(slots) == len(patch_backs) == len(patch_slots):
            raise ValueError("a map of an unknown table or of columns of different lengths")
        if len(pages) > 1 and min(pages[1:]) <= 0:  # a TypeError for what is no number
            raise ValueError("page numbers that do not increase")
        out[table] = (list(accumulate(pages)), (backs, slots, patch_backs, patch_slots))
    return out


_NO_COLUMNS: tuple = ((), (), (), ())
_UNSET = object()


def _full_ref(k: int, back: int, slot: int, patch_back: int, patch_slot: int) -> PageRef:
    """One entry of a full map written at keyframe ``k`` as the reference it stands for (the inverse of
    ``full_map_payload``'s columns)."""
    return (k - back, slot, k + 1 - patch_back, patch_slot) if patch_back else (k - back, slot, None, None)


class MapIndex:
    """Where each page of one table is at one keyframe (its ``PageRef``), looked up page by page: the full map
    of the keyframe's group (``decode_full_map``; bisected), with what the keyframes since wrote laid over it. A
    seek looks up only the pages its replay touches; only a state read whole asks for ``all()``. A page gets one
    reference object however it is asked for, so states built from one keyframe share them (what lets the TUI
    find a step's changes by page identity)."""

    __slots__ = ("_first", "_pages", "_columns", "_over", "_all", "_where", "_given")

    def __init__(self, first: int, full: tuple[list[int], tuple] | None, where: str) -> None:
        self._first = first  # the keyframe the full map belongs to: its references count back from it
        self._pages, self._columns = full if full is not None else ([], _NO_COLUMNS)
        # laid by later keyframes: a reference, None for a page gone, or (None, None, k, slot) for a patch of the
        # page's whole version in the full map (looked up only if the page is)
        self._over: dict[int, Any] = {}
        self._all: dict[int, PageRef] | None = None
        self._where = where
        self._given: dict[int, PageRef | None] = {}  # what get() answered

    def lay(self, k: int, slot: int, pieces: list[tuple[int, bool]], gone: list[int]) -> int:
        """Lay what keyframe ``k`` wrote of this table (before any lookup): the pages gone, then its pieces, a
        whole page or a patch of the page as it stood, numbered from ``slot``; returns the next slot."""
        over = self._over
        for p in gone:
            over[p] = None
        for p, whole in pieces:
            base = None if whole else over.get(p, _UNSET)
            if base is None:
                if not whole:
                    raise TraceError(f"{self._where}: keyframe {k} patches page {p}, which is gone")
                over[p] = (k, slot, None, None)
            else:
                over[p] = (None, None, k, slot) if base is _UNSET else (base[0], base[1], k, slot)
            slot += 1
        return slot

    def _full(self, page: int) -> PageRef | None:
        pages = self._pages
        i = bisect_left(pages, page)
        if i == len(pages) or pages[i] != page:
            return None
        backs, slots, patch_backs, patch_slots = self._columns
        back, slot, patch_back, patch_slot = backs[i], slots[i], patch_backs[i], patch_slots[i]
        if not type(back) is type(slot) is type(patch_back) is type(patch_slot) is int:
            raise TraceError(f"{self._where}: page {page} is mapped to something that is no numbers")
        return _full_ref(self._first, back, slot, patch_back, patch_slot)

    def _patched(self, page: int, ref: tuple) -> PageRef:
        base = self._full(page)
        if base is None:
            raise TraceError(f"{self._where}: keyframe {ref[2]} patches page {page}, which no earlier keyframe "
                             f"wrote whole")
        return (base[0], base[1], ref[2], ref[3])

    def get(self, page: int) -> PageRef | None:
        ref = self._given.get(page, _UNSET)
        if ref is not _UNSET:
            return ref  # type: ignore[return-value]
        if self._all is not None:
            ref = self._all.get(page)
        else:
            ref = self._over.get(page, _UNSET)
            if ref is _UNSET:
                ref = self._full(page)
            elif ref is not None and ref[0] is None:
                ref = self._patched(page, ref)
        self._given[page] = ref
        return ref

    def all(self) -> dict[int, PageRef]:
        """Every page's reference, built once, with the very objects ``get`` gave."""
        if self._all is None:
            if not set(map(type, chain(self._pages, *self._columns))) <= {int}:
                raise TraceError(f"{self._where}: a page map with something that is no numbers")
            out = dict(zip(self._pages, map(_full_ref, repeat(self._first), *self._columns)))
            for page, ref in self._over.items():
                if ref is None:
                    out.pop(page, None)
                else:
                    out[page] = self._patched(page, ref) if ref[0] is None else ref
            out.update((page, ref) for page, ref in self._given.items() if ref is not None)
            self._all = out
        return self._all
