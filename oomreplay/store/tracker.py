"""The writer's state machine: replays each finished event block and takes the keyframes.

It writes its pages and keyframes to a side file of its own, with offsets relative to that file's start; on close
the writer appends the side file to the trace and records where it begins. That separation is what lets the
tracker run either in the writer's process or in a worker process beside it (``ParallelTracker``), with
byte-identical output: the encoder and the state machine then each use one core.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from array import array
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

from ..model import TABLES, State
from ..model.apply import handlers_for
from ..model.table import WriterTable
from .codec import EventBlock, page_payload, record_diff, workset_payload
from .format import (DICTIONARY, KEYFRAME, PAGE, STATE_LEVEL, WORKSET, BlockCompressor, frame, ints_to_bytes,
                     pack, packer, unpack)
from .pagemap import PageRef, full_map_payload, pieces_payload

#: Every event block ends with a keyframe (the writer's ``BLOCK_EVENTS``, chosen with benchmarks/store_bench.py, is
#: thus the keyframe spacing); a scene cut (an OOM invocation, a kill, a reaper attempt) gets its own keyframe too,
#: unless the last keyframe or the block's end is this close.
SCENE_CUT_MIN_GAP = 64
SCENE_CUTS = frozenset(("oom_invoke", "oom_kill", "reaper_attempt", "reaper_done"))
#: Pages (or patches) per page block: compressed together, inflated together.
PAGES_PER_BLOCK = 32
#: Keyframes are written in groups of this many, the first with the full page map, the others with only their own
#: pieces: the reader builds any keyframe's map from one block.
FULL_MAP_EVERY = 16
#: The compression dictionary of the page and working-set blocks is written at this keyframe, of the latest raw
#: payloads of both.
DICTIONARY_AT = 16
DICTIONARY_SHARES = {PAGE: 64 << 10, WORKSET: 64 << 10}

_LENGTH = struct.Struct("<I")
#: The worker imports the very package its parent runs (argv[2]), never one the current directory holds (``-P``).
_WORKER = ("import sys; sys.path.insert(0, sys.argv[2]); from oomreplay.store.tracker import worker_main; "
           "worker_main(sys.argv[1])")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class WorkerError(RuntimeError):
    """The state machine's worker process failed (killed, out of disk space…); the message says how."""


class StateTracker:
    """Applies event blocks in order and writes keyframes to ``sink``."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._pack = packer()
        self._offset = 0
        self.state = State()
        for name, (_, page_of) in TABLES.items():
            setattr(self.state, name, WriterTable(page_of))
        self._n = 0
        self._kf_at = 0
        self._kf_seqs = array("q")
        self._kf_offsets = array("q")  # relative to the side file, as are all offsets here
        self._kf_worksets = array("q")  # each keyframe's working set; -1: none
        self._kf_first_block = array("q")  # each keyframe's first page block, in _page_blocks
        self._page_blocks = array("q")
        self._kf_pages: dict[str, set] | None = None  # the pages each table had at the last keyframe
        self._schema: Any = None  # the schema of the blocks fed, and what feed derives from it
        self._handlers: list = []
        self._cut_table = b""
        self._page_map: dict[str, dict[int, PageRef]] = {t: {} for t in TABLES}
        self._group: list[list] = []  # the keyframes not written yet, the first holding a full map
        self._group_full: dict[str, list] = {}
        self._since_whole: dict[str, dict[int, set]] = {t: {} for t in TABLES}
        self._whole: dict[str, dict[int, dict]] = {t: {} for t in TABLES}  # each page as last stored whole
        self._compressor = BlockCompressor(DICTIONARY_SHARES, STATE_LEVEL)
        self._zdict_offset = -1

    def _emit(self, kind: int, obj: Any) -> int:
        at = self._offset
        data = frame(kind, self._compressor.compress(kind, self._pack(obj)))
        self._sink.write(data)
        self._offset += len(data)
        return at

    def feed(self, block: EventBlock) -> None:
        """Apply the block's events in place (``EventBlock.replay``), taking a keyframe at the block's end and
        after each scene cut at least ``SCENE_CUT_MIN_GAP`` away from the last keyframe and from the block's end.
        Keyframes on block boundaries mean a seek replays from its keyframe within one event block: it never reads
        and decodes a second one."""
        schema = block.schema
        if schema is not self._schema:
            self._schema = schema
            self._handlers = handlers_for(schema.names)
            self._cut_table = bytes(int(name in SCENE_CUTS) for name in schema.names).ljust(256, b"\0")
        kinds = bytes(block.kinds)
        cuts = kinds.translate(self._cut_table)
        n = len(kinds)
        base = self._n  # events applied before this block
        i = 0
        while i < n:
            cut_from, cut_to = max(i, self._kf_at + SCENE_CUT_MIN_GAP - 1 - base), n - SCENE_CUT_MIN_GAP
            c = cuts.find(1, cut_from, cut_to) if cut_from < cut_to else -1
            end = c + 1 if c >= 0 else n
            block.replay(self.state, i, end, self._handlers)
            self._n = base + end
            i = end
            self._keyframe()

    def _keyframe(self) -> None:
        """Write the working set of the interval that ends here and the pages changed in it, and note which pieces
        this keyframe wrote and how many records each table holds; every ``FULL_MAP_EVERY`` keyframes, the full
        page map, and the notes of the keyframes since the last one, go out as one block."""
        s = self.state
        k = len(self._kf_seqs)
        self._working_set()
        blobs, pieces, gone = self._changed_pages(k)
        self._kf_first_block.append(len(self._page_blocks))
        # pages go out in small blocks, so reading one page never inflates a whole keyframe's worth
        for i in range(0, len(blobs), PAGES_PER_BLOCK):
            self._page_blocks.append(self._emit(PAGE, blobs[i:i + PAGES_PER_BLOCK]))
        if k % FULL_MAP_EVERY == 0:
            self._flush_group()
            self._group_full = full_map_payload(k, self._page_map)
            pieces, gone = {}, {}  # the full map already holds them
        lengths = [len(table) for table in s.tables().values()]
        self._group.append([s.seq, s.ts_ns, lengths, pieces_payload(pieces), gone])
        self._kf_seqs.append(s.seq if s.seq is not None else -1)
        self._kf_worksets.append(-1)
        self._kf_pages = {name: set(table.pages()) for name, table in s.tables().items()}
        self._kf_at = self._n
        if k + 1 == DICTIONARY_AT:
            self._dictionary()

    def _dictionary(self) -> None:
        payload = self._compressor.dictionary()
        if payload is not None:
            self._zdict_offset = self._emit(DICTIONARY, payload)

    def _flush_group(self) -> None:
        """Write the pending keyframes as one block: the full page map of the first, then each one's seq, time,
        table lengths, pieces and pages gone. A reader gets everything a keyframe's map needs in one read."""
        if self._group:
            first = len(self._kf_seqs) - len(self._group)
            at = self._emit(KEYFRAME, [first, self._group_full, self._group])
            self._kf_offsets.extend([at] * len(self._group))
            self._group = []

    def _changed_pages(self, k: int) -> tuple[list[bytes], dict[str, list[tuple[int, bool]]], dict[str, list]]:
        """The pieces of keyframe ``k`` (packed, in slot order), what each is, and the pages gone since the last
        keyframe; the page map is updated to match.

        A page is stored whole the first time, then as a patch holding every record changed since it was last
        stored whole, each as only the fields that differ from that whole version; once the patch would cover
        half the page, the page is stored whole again. A keyframe thus costs at most about twice what changed,
        and a reader needs at most two pieces per page.
        """
        blobs: list[bytes] = []
        pieces: dict[str, list[tuple[int, bool]]] = {}
        gone: dict[str, list[int]] = {}
        for name, table in self.state.tables().items():
            if not table.dirty:
                continue
            by_page: dict[int, set] = {}
            page_of = table.page_of
            for key in table.dirty:
                p = page_of(key)
                keys = by_page.get(p)
                if keys is None:
                    by_page[p] = {key}
                else:
                    keys.add(key)
            table.dirty.clear()
            pages, page_map, since_whole = table.pages(), self._page_map[name], self._since_whole[name]
            for p in sorted(by_page):
                page = pages.get(p)
                if not page:
                    if page_map.pop(p, None) is not None:
                        gone.setdefault(name, []).append(p)
                    self._whole[name].pop(p, None)
                    since_whole.pop(p, None)
                    continue
                changed = since_whole.setdefault(p, set())
                changed |= by_page[p]
                whole = p not in page_map or 2 * len(changed) > len(page)
                pieces.setdefault(name, []).append((p, whole))
                if whole:
                    blobs.append(self._pack(page_payload(name, p, page)))
                    self._whole[name][p] = dict(page)  # records are immutable: this shares them
                    changed.clear()
                    page_map[p] = (k, len(blobs) - 1, None, None)
                else:
                    base = self._whole[name][p]
                    blobs.append(self._pack(page_payload(name, p, {key: record_diff(base.get(key), page.get(key))
                                                              for key in changed})))
                    page_map[p] = (*page_map[p][:2], k, len(blobs) - 1)
        return blobs, pieces, gone

    def _working_set(self) -> None:
        """Write the working set of the interval ending now: the value at its keyframe of every record written
        since (None: absent then), so a reader replaying into the interval needs no page for them. Records on
        pages the keyframe did not have are left out: the reader knows those are absent. The tables keep those
        values as they go (``WriterTable.dirty``)."""
        before = self._kf_pages
        if before is None:
            return
        known: dict[str, dict[int, dict]] = {}
        for name, table in self.state.tables().items():
            pages = before[name]
            page_of = table.page_of
            by_page = known[name] = {}
            for key, old in table.dirty.items():
                p = page_of(key)
                if p in pages:
                    by_page.setdefault(p, {})[key] = old
        payload = workset_payload(known)
        if payload:
            self._kf_worksets[-1] = self._emit(WORKSET, payload)

    def finish(self) -> dict[str, Any]:
        """Take the last keyframe and say where the keyframes are and what the final state holds."""
        if self._n and self._kf_at != self._n:
            self._keyframe()
        self._flush_group()
        self._sink.flush()
        s = self.state
        outcomes = Counter(v.outcome or "pending" for v in s.victims.values())
        return {"keyframe_seqs": ints_to_bytes(self._kf_seqs), "keyframe_offsets": ints_to_bytes(self._kf_offsets),
                "keyframe_worksets": ints_to_bytes(self._kf_worksets),
                "keyframe_first_blocks": ints_to_bytes(self._kf_first_block),
                "page_blocks": ints_to_bytes(self._page_blocks), "pages_per_block": PAGES_PER_BLOCK,
                "dictionary": [self._zdict_offset, self._compressor.kinds] if self._zdict_offset >= 0 else None,
                "size": self._offset,
                "summary": {"tasks": len(s.tasks), "locks": len(s.locks), "ooms": len(s.ooms),
                            "victims": len(s.victims), "reaper_outcomes": dict(outcomes),
                            "anomalies": len(s.anomalies)}}


class LocalTracker:
    """The tracker in the writer's own process: the default, and what small traces want."""

    def __init__(self, side: Path) -> None:
        self._file = open(side, "wb")
        self._tracker = StateTracker(self._file)

    def feed(self, payload: list, packed: bytes) -> None:
        self._tracker.feed(EventBlock(payload, "events being written"))

    def finish(self) -> dict[str, Any]:
        result = self._tracker.finish()
        self._file.close()
        return result

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the trace writer went away")
    return data


def worker_main(side: str) -> None:
    """The worker process: length-prefixed packed event blocks on stdin (an empty one ends them), then the
    finish report, packed, on stdout."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    with open(side, "wb") as f:
        tracker = StateTracker(f)
        while True:
            (size,) = _LENGTH.unpack(_read_exact(stdin, _LENGTH.size))
            if not size:
                break
            data = _read_exact(stdin, size)
            tracker.feed(EventBlock(unpack(data, "events being written"), "events being written"))
        stdout.write(pack(tracker.finish()))
        stdout.flush()


class ParallelTracker:
    """The tracker in a worker process, fed the packed blocks the writer writes anyway.

    A plain child interpreter on a pipe (not multiprocessing, which would re-run the caller's ``__main__``); the
    pipe's bounded buffer makes a slow tracker slow the writer down instead of filling memory.
    """

    def __init__(self, side: Path) -> None:
        # a session of its own: Ctrl+C reaches the writer, whose abort() stops the worker, not the worker too
        self._proc = subprocess.Popen([sys.executable, "-P", "-c", _WORKER, str(side), _PACKAGE_ROOT],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      start_new_session=True)

    def feed(self, payload: list, packed: bytes) -> None:
        try:
            self._proc.stdin.write(_LENGTH.pack(len(packed)) + packed)  # type: ignore[union-attr]
        except BrokenPipeError:
            raise self._failed(b"") from None

    def finish(self) -> dict[str, Any]:
        try:
            out, err = self._proc.communicate(_LENGTH.pack(0))
        except BrokenPipeError:
            out, err = b"", b""
        if self._proc.returncode != 0 or not out:
            raise self._failed(err)
        return unpack(out, "state worker report")

    def _failed(self, err: bytes) -> WorkerError:
        """The worker's failure, told by the last line it wrote (its exception) or how it ended."""
        if not err:
            try:
                _, err = self._proc.communicate(timeout=10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self._proc.kill()
                err = b""
        code = self._proc.poll()
        lines = (err or b"").decode("utf-8", "replace").strip().splitlines()
        how = lines[-1] if lines else f"killed by signal {-code}" if code and code < 0 else f"exit {code}"
        return WorkerError(f"the trace writer's state worker failed: {how}")

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
