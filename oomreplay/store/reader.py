"""``Trace``: a lazily read `.oomtrace`. Opening reads the header, the trailer and the index; nothing else.

Seeking is a bisect to the keyframe at or before the target, the pages of that keyframe (shared and cached, so
neighbouring keyframes cost only the pages they changed) and a replay within one event block (format 2 puts a
keyframe at every block's end; in format 1 files a replay may cross into a second block). The last state handed
out is kept, so stepping forward one event costs one ``apply``.
"""

from __future__ import annotations

import gc
import os
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..model import KIND_NAMES, TABLES, Event, State, Table
from ..model.apply import handlers_for
from .changelists import ChangeListIndex, Key, decode_chunk
from .codec import (LEGACY_TABLES, EventBlock, MapIndex, Schema, apply_diff, decode_full_map, decode_page,
                    decode_pieces, decode_workset, state_tables)
from .format import (BLOCK, BLOCK_NAMES, DICTIONARY, DIRECTORY, EVENTS, FORMAT_VERSION, HEADER,
                     INDEX, KEYFRAME, MAGIC, MAX_PAYLOAD, META, OVERVIEW, PAGE, POSTINGS, SOURCE, SOURCE_FILE, TRAILER,
                     TRAILER_MAGIC, WORKSET, TraceError, TraceVersionError, crc, decode_dictionary, decompress,
                     ints_from_bytes, unpack)
from .overview import Bucket, Overview

UNCOMPRESSED = frozenset({META, SOURCE_FILE})


@contextmanager
def _no_gc() -> Iterator[None]:
    """Replaying allocates thousands of short-lived containers; a full collection in the middle, walking every
    cached page, would cost more than the replay (the msgpack docs give the same advice for large unpacks).
    ``state_at`` then collects the young objects the seek kept (decoded blocks and pages, about 1,500 containers):
    0.2 ms. Left to the collector, whose count the caches' evictions keep low, a hundred seeks' worth was walked
    at once inside whichever seek came next: 4 ms every hundredth seek, which was the p99; every sixteenth, 3 ms."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PositionalFile:
    """A file read by ``pread`` at given offsets: thread-safe, and unlike an mmap it adds nothing to the reader's
    resident memory however much of a large trace a session visits (the kernel's page cache still serves it)."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, span: slice) -> bytes:
        start, stop, _ = span.indices(self._size)
        return os.pread(self._fd, max(0, stop - start), start)


class TraceTruncated(TraceError):
    """No valid trailer: the writer never finished (killed recorder, full disk, partial copy)."""


class _LRU:
    """A small thread-safe LRU: the TUI reads from worker threads while the CLI reads from one."""

    def __init__(self, capacity: int) -> None:
        self._d: OrderedDict = OrderedDict()
        self._cap = capacity
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = load()
        self.put(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            if len(self._d) > self._cap:
                self._d.popitem(last=False)


def check_header(data: bytes, name: str) -> int:
    """The format version, after checking the magic and the header's CRC."""
    if len(data) < HEADER.size or data[:8] != MAGIC:
        raise TraceError(f"{name}: not an oomtrace file (no OOMTRACE header)")
    magic, version, _, stored = HEADER.unpack_from(data, 0)
    if crc(data[:12]) != stored:
        raise TraceError(f"{name}: header at offset 0 is damaged (CRC mismatch)")
    if version > FORMAT_VERSION:
        raise TraceVersionError(f"{name}: written in trace format {version} by a newer oomreplay; this version "
                                f"reads formats up to {FORMAT_VERSION}. Upgrade oomreplay to open it")
    return version


def read_block(data: Any, offset: int, end: int, name: str, expect: int | None = None,
               zdict: bytes | None = None) -> tuple[int, Any, int]:
    """``(type, decoded payload, next offset)`` of the block at ``offset``, or a TraceError saying what is wrong.
    ``zdict``: the compression dictionary the block was written with, if any."""
    if offset < HEADER.size or offset + BLOCK.size > end:
        raise TraceError(f"{name}: block offset {offset} lies outside the file's {end} bytes")
    kind, length, stored = BLOCK.unpack(data[offset:offset + BLOCK.size])
    label = BLOCK_NAMES.get(kind, f"type-{kind}")
    where = f"{name}: {label} block at offset {offset}"
    if kind not in BLOCK_NAMES:
        raise TraceError(f"{where}: unknown block type {kind}")
    if expect is not None and kind != expect:
        raise TraceError(f"{where}: expected a {BLOCK_NAMES[expect]} block")
    stop = offset + BLOCK.size + length
    if length > MAX_PAYLOAD or stop > end:
        raise TraceError(f"{where}: declared length {length} runs past the end of the file")
    payload = bytes(data[offset + BLOCK.size:stop])
    if crc(bytes(data[offset:offset + 5]), payload) != stored:
        raise TraceError(f"{where}: CRC mismatch (the block is damaged)")
    if kind not in UNCOMPRESSED:
        payload = decompress(payload, where, zdict)
    return kind, unpack(payload, where), stop


def _index_consistent(n: int, b_off: Any, b_seq: Any, b_ts: Any, k_seq: Any, k_off: Any, k_ws: Any, k_first: Any,
                      pages: Any, per_block: int) -> bool:
    """Cheap checks (O(blocks)) that keep a self-contradicting index from turning into IndexErrors later."""
    if n < 0 or not (len(b_off) == len(b_seq) == len(b_ts)) or not (len(k_seq) == len(k_off) == len(k_ws) ==
                                                                       len(k_first)):
        return False
    if per_block < 1 or not all(0 <= a <= b <= len(pages) for a, b in zip(k_first, [*k_first[1:], len(pages)])):
        return False
    if (n == 0) != (len(b_seq) == 0) or (len(b_seq) and (b_seq[0] != 0 or b_seq[-1] >= n)):
        return False
    increasing = all(a < b for a, b in zip(b_seq, b_seq[1:])) and all(a < b for a, b in zip(k_seq, k_seq[1:]))
    return increasing and all(a <= b for a, b in zip(b_ts, b_ts[1:])) and all(-1 <= k < n for k in k_seq[-1:])


class Trace:
    """A recorded incident: ``len()``, ``meta``, ``state_at``, ``seq_at``, ``events``, ``next``/``prev``, …

    States read pages from the file as they are used, so use them while the trace is open.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.name = str(path)
        #: Set when the file was damaged and this Trace was rebuilt from its whole blocks (what was lost).
        self.recovered: str | None = None
        try:
            self._file = open(self.path, "rb")
        except OSError as e:
            raise TraceError(f"{self.name}: cannot open ({e.strerror or e})") from None
        try:
            self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> None:
        size = os.fstat(self._file.fileno()).st_size
        if size < HEADER.size:
            raise TraceError(f"{self.name}: not an oomtrace file ({size} bytes)")
        self._data = PositionalFile(self._file.fileno(), size)
        self.version = check_header(self._data[:HEADER.size], self.name)
        trailer = self._data[size - TRAILER.size:size] if size >= HEADER.size + TRAILER.size else b""
        if trailer[:8] != TRAILER_MAGIC:
            raise TraceTruncated(f"{self.name}: no trailer; the file was not finished (truncated at {size} bytes)")
        magic, index_at, _, stored = TRAILER.unpack(trailer)
        if crc(trailer[:-4]) != stored:
            raise TraceError(f"{self.name}: trailer at offset {size - TRAILER.size} is damaged (CRC mismatch)")
        self._end = size - TRAILER.size
        _, index, _ = read_block(self._data, index_at, self._end, self.name, INDEX)
        where = f"{self.name}: index block at offset {index_at}"
        try:
            self.meta: dict[str, Any] = dict(index["meta"])
            self._schema = Schema(index["schema"])
            self._tables = state_tables(index.get("tables", LEGACY_TABLES))
            self._handlers = handlers_for(self._schema.names)
            self.summary: dict[str, Any] = dict(index["summary"])
            self._n = int(index["count"])
            self.first_ts: int | None = index["first_ts"]
            self.last_ts: int | None = index["last_ts"]
            b_off, b_seq, b_ts = (ints_from_bytes(x) for x in index["blocks"])
            k_seq, k_off, k_ws, k_first = (ints_from_bytes(x) for x in index["keyframes"])
            page_blocks, per_block = ints_from_bytes(index["pages"][0]), int(index["pages"][1])
            self._dictionaries = [(int(at), frozenset(map(int, kinds))) for at, kinds in index["dictionaries"]]
            self._sources = [(str(nm), int(n), ints_from_bytes(firsts), ints_from_bytes(offs))
                             for nm, n, firsts, offs in index["sources"]]
            self._dir_at = int(index["directory"])
            self._overview_at = int(index["overview"])
        except (KeyError, TypeError, ValueError, TraceError) as e:
            raise TraceError(f"{where}: bad index ({e})") from None
        if not _index_consistent(self._n, b_off, b_seq, b_ts, k_seq, k_off, k_ws, k_first, page_blocks, per_block):
            raise TraceError(f"{where}: the index contradicts itself (event count, block or keyframe order)")
        self._block_off, self._block_seq, self._block_ts = b_off, b_seq, b_ts
        self._kf_seq, self._kf_off, self._kf_workset, self._kf_first_block = k_seq, k_off, k_ws, k_first
        self._page_block_off, self._pages_per_block = page_blocks, per_block
        self._zdicts: dict[int, bytes] = {}
        self._blocks = _LRU(16)
        # Bounded, and mostly bytes: decoded pages are few objects each but a cache of thousands of them makes
        # every full garbage collection walk them (p99 of state_at went from 22 to 55 ms at 10^6 events). The
        # states in use hold their own pages; the cache keeps the inflated blocks, which the collector skips.
        self._pages = _LRU(64)
        self._pieces = _LRU(64)
        self._page_blocks = _LRU(256)
        # Keyframe groups and states are many objects each: few of them, for the same reason.
        self._kf_groups = _LRU(8)
        self._keyframes = _LRU(32)  # mostly markers of keyframes asked for once
        self._chunks = _LRU(256)
        self._source_cache = _LRU(32)
        self._changes: ChangeListIndex | None = None
        self._overview: Overview | None = None
        self._last: State | None = None
        self._lock = threading.Lock()

    # -- basics ----------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Trace({self.name!r}, {self._n} events)"

    @property
    def size(self) -> int:
        return self._end + TRAILER.size

    @property
    def sources(self) -> list[tuple[str, int]]:
        """``(name, line count)`` of each source file stored in the trace, by file id."""
        return [(nm, n) for nm, n, _, _ in self._sources]

    def _read(self, offset: int, expect: int) -> Any:
        return read_block(self._data, offset, self._end, self.name, expect, self._dictionary_for(expect, offset))[1]

    def _dictionary_for(self, kind: int, offset: int) -> bytes | None:
        """The compression dictionary of a block: the last one before it that serves its kind, read once."""
        at = max((at for at, kinds in self._dictionaries if at < offset and kind in kinds), default=None)
        if at is None:
            return None
        if at not in self._zdicts:
            where = f"{self.name}: compression dictionary at offset {at}"
            self._zdicts[at] = decode_dictionary(self._read(at, DICTIONARY), where)[1]
        return self._zdicts[at]

    def _check_seq(self, seq: int) -> int:
        seq = int(seq)
        if not -1 <= seq < self._n:
            raise IndexError(f"seq {seq} is outside 0..{self._n - 1}")
        return seq

    # -- events ----------------------------------------------------------------------------------------------

    def _event_block(self, b: int) -> EventBlock:
        off = self._block_off[b]

        def load() -> EventBlock:
            block = EventBlock(self._read(off, EVENTS), f"{self.name}: events block at offset {off}", self._schema)
            end = self._block_seq[b + 1] if b + 1 < len(self._block_seq) else self._n
            if block.first_seq != self._block_seq[b] or block.first_seq + len(block) != end:
                raise TraceError(f"{self.name}: events block at offset {off} holds seqs {block.first_seq}.."
                                 f"{block.first_seq + len(block) - 1}, the index says {self._block_seq[b]}..{end - 1}")
            return block
        return self._blocks.get(off, load)

    def _locate(self, seq: int) -> tuple[EventBlock, int]:
        b = bisect_right(self._block_seq, seq) - 1
        block = self._event_block(b)
        return block, seq - block.first_seq

    def event(self, seq: int) -> Event:
        """The event at ``seq``."""
        seq = self._check_seq(seq)
        if seq < 0:
            raise IndexError("seq -1 is the empty state before the first event, not an event")
        block, i = self._locate(seq)
        return block.event(i)

    def events(self, start: int = 0, stop: int | None = None, kind: str | Iterable[str] | None = None,
               pid: int | None = None, entity: str | None = None) -> Iterator[Event]:
        """Events with ``start <= seq < stop``, optionally only of some kinds, of one pid or of one entity."""
        stop = self._n if stop is None else min(stop, self._n)
        seq = max(0, start)
        if kind is None and pid is None and entity is None:
            while seq < stop:
                block, i = self._locate(seq)
                for j in range(i, min(len(block), stop - block.first_seq)):
                    yield block.event(j)
                seq = block.first_seq + len(block)
            return
        found = self.next(seq - 1, kind=kind, pid=pid, entity=entity)
        while found is not None and found < stop:
            yield self.event(found)
            found = self.next(found, kind=kind, pid=pid, entity=entity)

    def seq_at(self, ts_ns: int) -> int | None:
        """The last event at or before ``ts_ns``; None when the trace starts later."""
        b = bisect_right(self._block_ts, ts_ns) - 1
        if b < 0:
            return None
        block = self._event_block(b)
        return block.first_seq + bisect_right(block.ts, ts_ns) - 1

    # -- change lists ----------------------------------------------------------------------------------------

    def _change_index(self) -> ChangeListIndex:
        if self._changes is None:
            where = f"{self.name}: change-list directory at offset {self._dir_at}"
            self._changes = ChangeListIndex(self._read(self._dir_at, DIRECTORY), self._chunk, where)
        return self._changes

    def _chunk(self, offset: int) -> Any:
        return self._chunks.get(offset, lambda: decode_chunk(
            self._read(offset, POSTINGS), f"{self.name}: change list at offset {offset}"))

    def _filters(self, kind: str | Iterable[str] | None, pid: int | None, entity: str | None) -> list[list[Key]]:
        """Each inner list is a union of keys; the outer list is their intersection."""
        groups: list[list[Key]] = []
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            unknown = [k for k in kinds if k not in KIND_NAMES]
            if unknown:
                raise ValueError(f"unknown event kind {unknown[0]!r}")
            groups.append([("k", k) for k in kinds])
        if pid is not None:
            groups.append([("p", int(pid))])
        if entity is not None:
            groups.append([("e", entity)])
        return groups

    def next(self, after_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None:
        """The first seq after ``after_seq`` matching every filter given; None when there is none."""
        return self._seek(after_seq, self._filters(kind, pid, entity), forward=True)

    def prev(self, before_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None:
        """The last seq before ``before_seq`` matching every filter given; None when there is none."""
        return self._seek(before_seq, self._filters(kind, pid, entity), forward=False)

    def _seek(self, edge: int, groups: list[list[Key]], forward: bool) -> int | None:
        if not groups:
            cand = edge + 1 if forward else edge - 1
            if forward:
                return max(cand, 0) if max(cand, 0) < self._n else None
            cand = min(cand, self._n - 1)
            return cand if cand >= 0 else None
        idx = self._change_index()
        step = idx.next if forward else idx.prev

        def first_of(group: list[Key], bound: int) -> int | None:
            hits = [h for h in (step(key, bound) for key in group) if h is not None]
            if not hits:
                return None
            return min(hits) if forward else max(hits)

        # leapfrog: move the candidate to each group's first hit at or beyond it until all groups agree
        cand = first_of(groups[0], edge)
        while cand is not None:
            for group in groups:
                hit = first_of(group, cand - 1 if forward else cand + 1)
                if hit is None:
                    return None
                if hit != cand:
                    cand = hit
                    break
            else:
                return cand
        return None

    # -- states ----------------------------------------------------------------------------------------------

    def _piece(self, k: int, slot: int) -> dict:
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

    def _page(self, ref: tuple[int, int, int | None, int | None]) -> dict:
        """One state page: its whole version with its patch laid over, built only when a state first uses it."""
        def load() -> dict:
            k, slot, patch_k, patch_slot = ref
            page = self._piece(k, slot)
            if patch_k is not None:
                page = dict(page)
                where = f"{self.name}: state page {patch_slot} of keyframe {patch_k}"
                for key, rec in self._piece(patch_k, patch_slot).items():
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

    def _keyframe_group(self, k: int) -> tuple[int, dict[str, tuple[list[int], tuple]], list[tuple]]:
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

    def _page_map(self, k: int) -> dict[str, MapIndex]:
        """Where every page of keyframe ``k`` is: its group's full map, with the pieces and the pages gone of every
        keyframe since laid over it. Not cached: only the keyframe state built from it is (from its second ask)."""
        first, full, records = self._keyframe_group(k)
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

    def _keyframe_state(self, k: int) -> State:
        """The keyframe's state with every page still a reference and its working set laid over them: nothing is
        decoded until it is used, and a replay into the keyframe's interval mostly uses only the working set.
        The first seek into an interval gets it to replay onto in place (its pages its own, none copied on write);
        from the second on (stepping back through an interval asks for one keyframe again and again) it is kept,
        and each seek gets a copy, which shares its pages."""
        first = object()
        kept = self._keyframes.get(k, lambda: first)  # anything but a State: asked for before
        if kept is first:
            return self._build_keyframe_state(k)
        if not isinstance(kept, State):
            kept = self._build_keyframe_state(k)
            self._keyframes.put(k, kept)
        return kept.copy()

    def _build_keyframe_state(self, k: int) -> State:
        first, _, records = self._keyframe_group(k)
        seq, ts, lengths = records[k - first][:3]
        s = State()
        s.seq, s.ts_ns = seq, ts
        for table, index in self._page_map(k).items():
            setattr(s, table, Table(TABLES[table][1], None, self._page, lengths.get(table, 0), index))
        at = self._kf_workset[k]
        if at >= 0:
            where = f"{self.name}: working set at offset {at}"
            for table, pages in decode_workset(self._read(at, WORKSET), where).items():
                for p, known in pages.items():
                    getattr(s, table).know(p, known)
        return s

    def state_at(self, seq: int) -> State:
        """The state after the event ``seq`` (``-1``: before the first event)."""
        seq = self._check_seq(seq)
        with _no_gc():
            state = self._state_at(seq)
        if gc.isenabled():
            gc.collect(0)  # see _no_gc
        return state

    def _state_at(self, seq: int) -> State:
        k = bisect_right(self._kf_seq, seq) - 1
        kf_seq = self._kf_seq[k] if k >= 0 else -1
        with self._lock:
            last = self._last
        if last is not None and last.seq is not None and kf_seq <= last.seq <= seq:
            state, start = last.copy(), last.seq + 1
        elif k >= 0:
            state, start = self._keyframe_state(k), kf_seq + 1
        else:
            state, start = State(), 0
        self._replay(state, start, seq)
        with self._lock:
            # Kept, not copied: the next step copies it before replaying onto it (so the caller's state never
            # changes), and the pages the caller decoded while reading it stay decoded for that next step.
            self._last = state
        return state

    def _replay(self, state: State, start: int, last: int) -> None:
        seq = start
        while seq <= last:
            block, i = self._locate(seq)
            block.replay(state, i, last + 1 - block.first_seq, self._handlers)
            seq = block.first_seq + len(block)

    # -- source text and overview ----------------------------------------------------------------------------

    def source_lines(self, first: int, last: int, file: int = 0) -> list[str]:
        """Lines ``first..last`` (1-based, inclusive) of source ``file``, clipped to what exists."""
        if not 0 <= file < len(self._sources):
            return []
        name, count, firsts, offsets = self._sources[file]
        first, last = max(1, first), min(last, count)
        out: list[str] = []
        line = first
        while line <= last:
            c = bisect_right(firsts, line) - 1
            chunk_first = firsts[c]
            lines = self._source_chunk(offsets[c])
            take = lines[line - chunk_first:last - chunk_first + 1]
            if not take:
                break
            out.extend(take)
            line += len(take)
        return out

    def _source_chunk(self, offset: int) -> list[str]:
        def load() -> list[str]:
            payload = self._read(offset, SOURCE)
            try:
                return str(payload[2]).split("\n")
            except (TypeError, IndexError) as e:
                raise TraceError(f"{self.name}: source text block at offset {offset}: bad payload ({e})") from None
        return self._source_cache.get(offset, load)

    def overview(self, t0_ns: int | None = None, t1_ns: int | None = None, buckets: int = 100) -> list[Bucket]:
        """Event counts per kind and free-memory range for ``buckets`` equal slices of [t0, t1)."""
        if self._overview is None:
            self._overview = Overview(self._read(self._overview_at, OVERVIEW),
                                      f"{self.name}: overview at offset {self._overview_at}")
        t0 = self.first_ts if t0_ns is None else t0_ns
        t1 = (self.last_ts + 1 if self.last_ts is not None else None) if t1_ns is None else t1_ns
        if t0 is None or t1 is None:
            return []
        return self._overview.query(t0, t1, buckets)

