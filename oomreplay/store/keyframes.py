"""A keyframe's state, built lazily from the file: its group's page map with every later keyframe's pieces laid
over it, its pages decoded only when a table first wants one, and its working set laid over those references.

The reader asks ``state(k)`` for keyframe ``k`` and replays from there (see ``reader``); the caches here are
bounded and hold mostly bytes, for the garbage collector's sake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import TABLES, State, Table
from .codec import apply_diff, decode_page, decode_workset
from .format import KEYFRAME, PAGE, WORKSET, TraceError, unpack
from .lru import LRU
from .pagemap import MapIndex, decode_full_map, decode_pieces


class Keyframes:
    """The keyframe states of one trace, read through ``read(offset, block type)``; the lists are the index's:
    each keyframe's block offset, working-set offset (-1: none) and first page block, and every page block's
    offset."""

    def __init__(self, name: str, read: Callable[[int, int], Any], tables: tuple[str, ...], kf_off: list[int],
                 kf_workset: list[int], kf_first_block: list[int], page_block_off: list[int],
                 pages_per_block: int) -> None:
        self.name = name
        self._read = read
        self._tables = tables
        self._kf_off, self._kf_workset, self._kf_first_block = kf_off, kf_workset, kf_first_block
        self._page_block_off, self._pages_per_block = page_block_off, pages_per_block
        # Bounded, and mostly bytes: decoded pages are few objects each but a cache of thousands of them makes
        # every full garbage collection walk them (p99 of state_at went from 22 to 55 ms at 10^6 events). The
        # states in use hold their own pages; the cache keeps the inflated blocks, which the collector skips.
        self._pages = LRU(64)
        self._pieces = LRU(64)
        self._page_blocks = LRU(256)
        # Keyframe groups and states are many objects each: few of them, for the same reason.
        self._kf_groups = LRU(8)
        self._states = LRU(32)  # mostly markers of keyframes asked for once

    def piece(self, k: int, slot: int) -> dict:
        """A whole page or a patch: piece ``slot`` of keyframe ``k``, in one of that keyframe's page blocks."""
        def load() -> dict:
            where = f"{self.name}: state page {slot} of keyframe {k}"
            b = self._kf_first_block[k] + slot // self._pages_per_block if 0 <= k < len(self._kf_first_block) else -1
            last = self._kf_first_block[k + 1] if k + 1 < len(self._kf_first_block) else len(self._page_block_off)
            if not 0 <= b < last:
                raise TraceError(f"{where}: no such page")
            offset, i = self._page_block_off[b], slot % self._pages_per_block
            blobs = self._page_blocks.get(offset, lambda: self._read(offset, PAGE))
            where = f"{self.name}: state page {i} of the block at offset {offset}"
            if not 0 <= i < len(blobs) or not isinstance(blobs[i], bytes):
                raise TraceError(f"{where}: no such page")
            return decode_page(unpack(blobs[i], where), where)[2]
        return self._pieces.get((k, slot), load)

    def page(self, ref: tuple[int, int, int | None, int | None]) -> dict:
        """One state page: its whole version with its patch laid over, built only when a state first uses it."""
        def load() -> dict:
            k, slot, patch_k, patch_slot = ref
            page = self.piece(k, slot)
            if patch_k is not None:
                page = dict(page)
                where = f"{self.name}: state page {patch_slot} of keyframe {patch_k}"
                for key, rec in self.piece(patch_k, patch_slot).items():
                    if rec is None:
                        page.pop(key, None)
                    elif type(rec) is dict:
                        if key not in page:
                            raise TraceError(f"{where}: patches a record its page does not have")
                        page[key] = apply_diff(page[key], rec)
                    else:
                        page[key] = rec
            return page
        return self._pages.get(ref, load)

    def group(self, k: int) -> tuple[int, dict[str, tuple[list[int], tuple]], list[tuple]]:
        """``(first keyframe, its full page map as decode_full_map gives it, [(seq, ts, {table: records}, its
        pieces, the pages gone) of each keyframe])`` of the block holding keyframe ``k``; the pieces and pages gone
        are decoded when laid."""
        offset = self._kf_off[k]

        def load() -> tuple[int, dict[str, tuple[list[int], tuple]], list[tuple]]:
            try:
                first, full, entries = self._read(offset, KEYFRAME)
                first = int(first)
                records = []
                for seq, ts, lengths, pieces, gone in entries:
                    if len(lengths) != len(self._tables):
                        raise ValueError(f"{len(lengths)} table lengths")
                    records.append((seq, ts, dict(zip(self._tables, map(int, lengths))), pieces, gone))
                return first, decode_full_map(full), records
            except (AttributeError, KeyError, TypeError, ValueError) as e:
                raise TraceError(f"{self.name}: keyframe at offset {offset}: bad keyframe ({type(e).__name__}: "
                                 f"{e})") from None
        first, full, records = group = self._kf_groups.get(offset, load)
        if not 0 <= k - first < len(records):
            raise TraceError(f"{self.name}: keyframe at offset {offset}: holds keyframes {first}.."
                             f"{first + len(records) - 1}, the index says it holds keyframe {k}")
        return group

    def page_map(self, k: int) -> dict[str, MapIndex]:
        """Where every page of keyframe ``k`` is: its group's full map, with the pieces and the pages gone of every
        keyframe since laid over it. Not cached: only the keyframe state built from it is (from its second ask)."""
        first, full, records = self.group(k)
        where = f"{self.name}: keyframe at offset {self._kf_off[k]}"
        maps = {table: MapIndex(first, full.get(table), f"{where}, table {table}") for table in TABLES}
        for j in range(first + 1, k + 1):
            record = records[j - first]
            try:
                pieces = decode_pieces(record[3])
                gone = {t: [int(p) for p in ps] for t, ps in record[4].items()}
            except (AttributeError, TypeError, ValueError) as e:
                raise TraceError(f"{where}: bad keyframe ({type(e).__name__}: {e})") from None
            slot = 0
            for table in self._tables:
                slot = maps[table].lay(j, slot, pieces.get(table, ()), gone.get(table, ()))
        return maps

    def state(self, k: int) -> State:
        """The keyframe's state with every page still a reference and its working set laid over them: nothing is
        decoded until it is used, and a replay into the keyframe's interval mostly uses only the working set.
        The first seek into an interval gets it to replay onto in place (its pages its own, none copied on write);
        from the second on (stepping back through an interval asks for one keyframe again and again) it is kept,
        and each seek gets a copy, which shares its pages."""
        first = object()
        kept = self._states.get(k, lambda: first)  # anything but a State: asked for before
        if kept is first:
            return self._build(k)
        if not isinstance(kept, State):
            kept = self._build(k)
            self._states.put(k, kept)
        return kept.copy()

    def _build(self, k: int) -> State:
        first, _, records = self.group(k)
        seq, ts, lengths = records[k - first][:3]
        s = State()
        s.seq, s.ts_ns = seq, ts
        for table, index in self.page_map(k).items():
            setattr(s, table, Table(TABLES[table][1], None, self.page, lengths.get(table, 0), index))
        at = self._kf_workset[k]
        if at >= 0:
            where = f"{self.name}: working set at offset {at}"
            for table, pages in decode_workset(self._read(at, WORKSET), where).items():
                for p, known in pages.items():
                    getattr(s, table).know(p, known)
        return s
