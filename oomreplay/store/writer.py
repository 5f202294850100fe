"""``TraceWriter``: append events (and source text), get a complete, indexed `.oomtrace` on close.

The writer keeps only what the next blocks need: one block of events, the pending change lists and the
fixed-size overview here, the current state in the tracker, so memory does not grow with the input. It writes to a
hidden temporary name beside the target and renames it into place only once the trailer is on disk: a crash, a
kill or an exception never leaves a file under the final name.
"""

from __future__ import annotations

import os
import shutil
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import accumulate
from operator import gt
from pathlib import Path
from types import TracebackType
from typing import Any

from ..model import KIND_NAMES, TABLES, Event
from .changelists import ChangeListWriter
from .codec import CURRENT, block_payload, event_columns, log_columns
from .format import (DICTIONARY, DIRECTORY, EVENTS, FORMAT_VERSION, INDEX, META, OVERVIEW, POSTINGS, SOURCE,
                     SOURCE_FILE, BlockCompressor, compress, frame, header_bytes, ints_from_bytes, ints_to_bytes,
                     packer, trailer_bytes)
from .overview import OverviewWriter
from .tracker import LocalTracker, ParallelTracker

#: Events per block, and so the keyframe spacing (every block ends with one): one block read serves a step, and a
#: seek's replay from its keyframe stays within one block.
BLOCK_EVENTS = 512
#: The compression dictionary of the events and change-list blocks is written after this many events blocks, of
#: the latest raw payloads of both (their shares: what compressed them best, with benchmarks/store_bench.py).
DICTIONARY_AT = 16
DICTIONARY_SHARES = {EVENTS: 128 << 10, POSTINGS: 32 << 10}
SOURCE_CHUNK_LINES = 1024
#: zstd's fastest level, for the source text: on the corpus's logs and recordings it compresses as well as level 5
#: (17.9× against 15.6×) at four times the speed, and a large log's text is most of what the writer compresses.
SOURCE_LEVEL = 1
#: kind id -> 1 for the lock kinds, 2 for zone, 3 for memcg (the kinds whose events name an entity), else 0; as a
#: bytes.translate table over the kind column. The names are those of ``changelists.entity_of``.
_ENTITY_TABLE = bytes(1 if kind.startswith("lock_") else 2 if kind == "zone" else 3 if kind == "memcg" else 0
                      for kind in KIND_NAMES).ljust(256, b"\0")


def _groups(column: Any, first: int) -> dict[Any, list[int]]:
    """``{value: [first + i for each i where column[i] == value]}``, keys in order of first appearance."""
    if column.count(column[0]) == len(column):  # one value throughout (a block of log lines): no loop
        return {column[0]: list(range(first, first + len(column)))}
    out: dict[Any, list[int]] = {}
    get = out.get
    for seq, value in zip(range(first, first + len(column)), column):
        found = get(value)
        if found is None:
            out[value] = [seq]
        else:
            found.append(seq)
    return out


def _moved(offsets: bytes, base: int) -> bytes:
    """Offsets in the tracker's side file as offsets in the trace (-1, for none, stays)."""
    return ints_to_bytes(array("q", (o if o < 0 else base + o for o in ints_from_bytes(offsets))))


class TraceWriter:
    """Streaming writer; use as a context manager, or call ``close()`` (and ``abort()`` on failure).

    ``parallel=True`` runs the state machine in a worker process: worth it from about a million events on
    (see the README's benchmarks), a waste of a process start for a small log.
    """

    def __init__(self, path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                 parallel: bool = False) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = dict(meta or {})
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        self._side = self.path.with_name(f".{self.path.name}.{os.getpid()}.state.partial")
        self._f = open(self._tmp, "wb")
        self._pack = packer()
        self._closed = False
        self._tracker: LocalTracker | ParallelTracker | None = None
        try:
            self._tracker = ParallelTracker(self._side) if parallel else LocalTracker(self._side)
        except BaseException:
            self.abort()
            raise
        self._offset = 0
        self._write(header_bytes())
        self._emit(META, {"meta": self.meta, "schema": CURRENT.payload()}, compressed=False)
        self._n = 0
        self._last_ts: int | None = None
        self._pending: list[Event] = []  # the events of the block being filled, after its ``_parts``
        self._parts: list[list] = []  # columns of the block's earlier stretches (event_columns, log_columns)
        self._parted = 0  # the events in ``_parts``
        self._blocks = (array("q"), array("q"), array("q"))  # offset, first seq, first ts
        self._kinds: Counter[str] = Counter()
        self._changes = ChangeListWriter(lambda payload: self._emit(POSTINGS, payload))
        self._overview = OverviewWriter()
        self._free_by_zone: dict[tuple, int] = {}
        self._free_total = 0
        self._sources: list[dict[str, Any]] = []
        self._compressor = BlockCompressor(DICTIONARY_SHARES)
        self._zdict_offset = -1

    # -- low level -------------------------------------------------------------------------------------------

    def _write(self, data: bytes) -> int:
        at = self._offset
        self._f.write(data)
        self._offset += len(data)
        return at

    def _emit(self, kind: int, obj: Any, compressed: bool = True) -> int:
        payload = self._pack(obj)
        return self._write(frame(kind, self._compressor.compress(kind, payload) if compressed else payload))

    # -- events ----------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n + self._parted + len(self._pending)

    def append(self, ev: Event) -> int:
        """Store ``ev`` as the next event and return its seq. Times must not go backwards."""
        ts = ev.ts_ns
        last = self._last_ts
        if last is not None and ts < last:
            raise ValueError(f"event {len(self)} ({ev.kind}) at {ts} ns is earlier than the previous one "
                             f"({last} ns); sort or clamp before writing")
        pending = self._pending
        pending.append(ev)
        self._last_ts = ts
        if len(pending) + self._parted >= BLOCK_EVENTS:
            self._flush_events()
            return self._n - 1
        return self._n + self._parted + len(pending) - 1

    def extend(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.append(ev)

    def append_logs(self, ts: list[int], texts: list[str], file_id: int, first_line: int) -> None:
        """Store a ``log`` event (fields ``{"text": text}``, no pid) for each of the consecutive lines of source
        ``file_id`` from ``first_line``: the same trace as appending those events one by one, at a fraction of the
        cost, for the lines of a large log that mean nothing else. Times (ns, made ints as ``Event`` makes them)
        must not go backwards. Returns nothing: the seqs are ``len(self)`` before the call onwards."""
        if len(ts) != len(texts):
            raise ValueError(f"{len(ts)} times for {len(texts)} lines")
        if not ts:
            return
        ts = list(map(int, ts))
        last = self._last_ts
        if (last is not None and ts[0] < last) or any(map(gt, ts, ts[1:])):
            raise ValueError(f"log lines from {first_line} go back in time; sort or clamp before writing")
        self._last_ts = ts[-1]
        at = 0
        while at < len(ts):
            self._part_pending()
            take = min(len(ts) - at, BLOCK_EVENTS - self._parted)
            self._parts.append(log_columns(ts[at:at + take], texts[at:at + take], file_id, first_line + at))
            self._parted += take
            at += take
            if self._parted >= BLOCK_EVENTS:
                self._flush_events()

    def _part_pending(self) -> None:
        """The pending events become the block's next part."""
        if self._pending:
            self._parts.append(event_columns(self._pending))
            self._parted += len(self._pending)
            self._pending = []

    def _flush_events(self) -> None:
        self._part_pending()
        if not self._parts:
            return
        first = self._n
        payload = block_payload(first, self._parts)
        packed = self._pack(payload)
        offset = self._write(frame(EVENTS, self._compressor.compress(EVENTS, packed)))
        offsets, seqs, tss = self._blocks
        offsets.append(offset)
        seqs.append(first)
        tss.append(payload[1])
        self._n = first + self._parted
        self._parts, self._parted = [], 0
        self._index_block(payload)
        self._tracker.feed(payload, packed)  # type: ignore[union-attr]
        if len(offsets) == DICTIONARY_AT:
            payload = self._compressor.dictionary()
            if payload is not None:
                self._zdict_offset = self._emit(DICTIONARY, payload)

    def _index_block(self, payload: list) -> None:
        """Change lists, overview and counts for a whole block at once: one grouping loop per column, the entity
        names only for the events that have one, and the overview a count per bucket the block spans."""
        first, ts0, kinds, dts, pids, _, _, _, values = payload
        ts = list(accumulate(dts, initial=ts0))
        del ts[0]
        changes = self._changes
        overview = self._overview
        if overview.t0 is None:
            overview.t0 = ts[0]  # what add() of the first event would have made it
        overview.fit(ts[-1])  # the overview's resolution for the whole block, before any of it goes in
        by_kind = _groups(kinds, first)
        kind_counts = self._kinds
        for kid, found in by_kind.items():
            kind_counts[KIND_NAMES[kid]] += len(found)
        changes.extend_many([(("k", KIND_NAMES[kid]), found) for kid, found in by_kind.items()])
        changes.extend_many([(("p", pid), found) for pid, found in _groups(pids, first).items() if pid is not None])
        marked = kinds.translate(_ENTITY_TABLE)
        if marked.count(0) != len(marked):
            at = [i for i, m in enumerate(marked) if m]
            names = []
            for i in at:
                vals = values[i]
                m = marked[i]
                if m == 1:
                    v = vals[0]
                    names.append(f"lock:{v}" if v else None)
                elif m == 2:
                    names.append(f"zone:{vals[0] or 0}:{vals[1] or '?'}")
                    if vals[2] is not None:
                        self._track_free(ts[i], (vals[0] or 0, vals[1] or "?"), vals[2])
                else:
                    names.append(f"memcg:{vals[0] or '/'}")
            changes.extend_many([(("e", name), [first + at[j] for j in found])
                                 for name, found in _groups(names, 0).items() if name is not None])
        overview.add_block(ts, kinds)

    def _track_free(self, ts: int, key: tuple, free: int) -> None:
        """Keep the total free memory over all zones current, for the overview's min/max."""
        self._free_total += free - self._free_by_zone.get(key, 0)
        self._free_by_zone[key] = free
        self._overview.free(ts, self._free_total)

    # -- source text -----------------------------------------------------------------------------------------

    def add_source(self, name: str) -> int:
        """Declare a source file (a log, a recording); returns the id events use in ``src``."""
        file_id = len(self._sources)
        self._sources.append({"name": name, "lines": 0, "pending": [], "firsts": array("q"),
                              "offsets": array("q")})
        self._emit(SOURCE_FILE, [file_id, name], compressed=False)
        return file_id

    def add_source_lines(self, file_id: int, lines: Iterable[str]) -> None:
        """Append lines (without their newlines) to a source; they are numbered from 1 in order."""
        pending = self._sources[file_id]["pending"]
        lines = lines if isinstance(lines, list) else list(lines)
        at = 0
        while at < len(lines):
            take = SOURCE_CHUNK_LINES - len(pending)
            pending.extend(lines[at:at + take])
            at += take
            if len(pending) >= SOURCE_CHUNK_LINES:
                self._flush_source(file_id)

    def _flush_source(self, file_id: int) -> None:
        src = self._sources[file_id]
        pending = src["pending"]
        if not pending:
            return
        first = src["lines"] + 1
        payload = self._pack([file_id, first, "\n".join(pending)])
        src["offsets"].append(self._write(frame(SOURCE, compress(payload, None, SOURCE_LEVEL))))
        src["firsts"].append(first)
        src["lines"] += len(pending)
        pending.clear()

    # -- closing ---------------------------------------------------------------------------------------------

    def close(self) -> Path:
        """Finish the file and move it to its final name."""
        if self._closed:
            return self.path
        try:
            self._flush_events()
            for file_id in range(len(self._sources)):
                self._flush_source(file_id)
            self._changes.flush_all()
            directory = self._emit(DIRECTORY, self._changes.directory_payload())
            overview = self._emit(OVERVIEW, self._overview.payload())
            tracked = self._tracker.finish()  # type: ignore[union-attr]
            state_base = self._offset
            with open(self._side, "rb") as side:
                shutil.copyfileobj(side, self._f, 1 << 20)
            self._offset += tracked["size"]
            dictionaries = [[self._zdict_offset, self._compressor.kinds]] if self._zdict_offset >= 0 else []
            if tracked["dictionary"] is not None:
                at, kinds = tracked["dictionary"]
                dictionaries.append([state_base + at, kinds])
            offsets, seqs, tss = self._blocks
            index = {
                "version": FORMAT_VERSION, "meta": self.meta, "schema": CURRENT.payload(), "tables": list(TABLES),
                "count": self._n,
                "first_ts": tss[0] if tss else None, "last_ts": self._last_ts,
                "blocks": [ints_to_bytes(offsets), ints_to_bytes(seqs), ints_to_bytes(tss)],
                "keyframes": [tracked["keyframe_seqs"], _moved(tracked["keyframe_offsets"], state_base),
                              _moved(tracked["keyframe_worksets"], state_base), tracked["keyframe_first_blocks"]],
                "pages": [_moved(tracked["page_blocks"], state_base), tracked["pages_per_block"]],
                "dictionaries": dictionaries,
                "sources": [[s["name"], s["lines"], ints_to_bytes(s["firsts"]), ints_to_bytes(s["offsets"])]
                            for s in self._sources],
                "directory": directory, "overview": overview,
                "summary": {"events": self._n, "kinds": dict(self._kinds), "kills": self._kinds.get("oom_kill", 0),
                            **tracked["summary"]},
            }
            at = self._emit(INDEX, index)
            self._write(trailer_bytes(at))
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()
            self._side.unlink(missing_ok=True)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Drop the partial files; the final name is never touched."""
        self._closed = True
        if self._tracker is not None:
            self._tracker.abort()
        if not self._f.closed:
            self._f.close()
        self._tmp.unlink(missing_ok=True)
        self._side.unlink(missing_ok=True)

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
