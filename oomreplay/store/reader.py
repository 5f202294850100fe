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
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..model import KIND_NAMES, Event, State
from ..model.apply import handlers_for
from .blocks import PositionalFile, check_header, read_block
from .changelists import ChangeListIndex, Key, decode_chunk
from .codec import LEGACY_TABLES, EventBlock, Schema, state_tables
from .format import (DICTIONARY, DIRECTORY, EVENTS, HEADER, INDEX, OVERVIEW, POSTINGS, SOURCE, TRAILER, TRAILER_MAGIC,
                     TraceError, crc, decode_dictionary, ints_from_bytes)
from .keyframes import Keyframes
from .lru import LRU
from .overview import Bucket, Overview


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


class TraceTruncated(TraceError):
    """No valid trailer: the writer never finished (killed recorder, full disk, partial copy)."""


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
        self._kf_seq = k_seq
        self._keyframes = Keyframes(self.name, self._read, self._tables, k_off, k_ws, k_first, page_blocks, per_block)
        self._zdicts: dict[int, bytes] = {}
        self._blocks = LRU(16)
        self._chunks = LRU(256)
        self._source_cache = LRU(32)
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
            state, start = self._keyframes.state(k), kf_seq + 1
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

