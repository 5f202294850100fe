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

from ..model import TABLES, State, apply_fields
from .codec import EventBlock, page_payload, record_diff
from .format import KEYFRAME, PAGE, deflate, frame, ints_to_bytes, pack, unpack

#: Events between periodic keyframes, chosen with benchmarks/store_bench.py (see the README's table).
KEYFRAME_EVERY = 512
#: A scene cut (an OOM invocation, a kill, a reaper attempt) gets its own keyframe unless one is this close.
SCENE_CUT_MIN_GAP = KEYFRAME_EVERY // 8
SCENE_CUTS = frozenset(("oom_invoke", "oom_kill", "reaper_attempt", "reaper_done"))
#: Pages (or patches) per page block: compressed together, inflated together.
PAGES_PER_BLOCK = 16
#: A keyframe lists its changed pages against a full page map; a new full map is written after this many.
FULL_MAP_EVERY = 8

_LENGTH = struct.Struct("<I")
_WORKER = "import sys; from oomreplay.store.tracker import worker_main; worker_main(sys.argv[1])"

PageRef = tuple[int, int, "int | None", "int | None", int]  # whole at, slot, patch at, slot, records


class StateTracker:
    """Applies event blocks in order and writes keyframes to ``sink``."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._offset = 0
        self.state = State()
        self._n = 0
        self._kf_at = 0
        self._kf_seqs = array("q")
        self._kf_offsets = array("q")  # relative to the side file
        self._page_map: dict[str, dict[int, PageRef]] = {t: {} for t in TABLES}
        self._since_whole: dict[str, dict[int, set]] = {t: {} for t in TABLES}
        self._whole: dict[str, dict[int, dict]] = {t: {} for t in TABLES}  # each page as last stored whole
        self._since_base: dict[str, set[int]] = {t: set() for t in TABLES}
        self._base_offset: int | None = None
        self._kf_since_base = 0

    def _emit(self, kind: int, obj: Any) -> int:
        at = self._offset
        data = frame(kind, deflate(pack(obj)))
        self._sink.write(data)
        self._offset += len(data)
        return at

    def feed(self, block: EventBlock) -> None:
        state = self.state
        for row in block.rows():
            apply_fields(state, *row)
            self._n += 1
            since = self._n - self._kf_at
            if since >= KEYFRAME_EVERY or (row[2] in SCENE_CUTS and since >= SCENE_CUT_MIN_GAP):
                self._keyframe()

    def _keyframe(self) -> None:
        """Write what changed since the last keyframe, in one block, and a record pointing at every page.

        A page is stored whole the first time, then as a patch holding every record changed since it was last
        stored whole, each as only the fields that differ from that whole version; once the patch would cover
        half the page, the page is stored whole again. A keyframe thus costs at most about twice what changed,
        and a reader needs at most two pieces per page.
        """
        s = self.state
        blobs: list[bytes] = []
        placed: list[tuple[str, int, bool, int, int]] = []  # table, page, whole?, slot, records
        for name, table in s.tables().items():
            if not table.dirty:
                continue
            by_page: dict[int, set] = {}
            for key in table.dirty:
                by_page.setdefault(table.page_of(key), set()).add(key)
            table.dirty.clear()
            pages = table.pages()
            since_whole = self._since_whole[name]
            for p in sorted(by_page):
                page = pages.get(p)
                self._since_base[name].add(p)
                if not page:
                    self._page_map[name].pop(p, None)
                    self._whole[name].pop(p, None)
                    since_whole.pop(p, None)
                    continue
                changed = since_whole.setdefault(p, set())
                changed |= by_page[p]
                whole = p not in self._page_map[name] or 2 * len(changed) > len(page)
                placed.append((name, p, whole, len(blobs), len(page)))
                if whole:
                    blobs.append(pack(page_payload(name, p, page)))
                    self._whole[name][p] = dict(page)  # records are immutable: this shares them
                    changed.clear()
                else:
                    base = self._whole[name][p]
                    blobs.append(pack(page_payload(name, p, {key: record_diff(base.get(key), page.get(key))
                                                              for key in changed})))
        # pages go out in small blocks, so reading one page never inflates a whole keyframe's worth
        block_at = [self._emit(PAGE, blobs[i:i + PAGES_PER_BLOCK]) for i in range(0, len(blobs), PAGES_PER_BLOCK)]
        for name, p, whole, slot, count in placed:
            at, slot = block_at[slot // PAGES_PER_BLOCK], slot % PAGES_PER_BLOCK
            old = self._page_map[name].get(p)
            if whole or old is None:
                self._page_map[name][p] = (at, slot, None, None, count)
            else:
                self._page_map[name][p] = (old[0], old[1], at, slot, count)
        full = self._base_offset is None or self._kf_since_base >= FULL_MAP_EVERY
        here = self._offset  # where this keyframe goes: its page references count back from here

        def row(p: int, ref: PageRef | None) -> tuple:
            if ref is None:
                return (p, None, None, None, None, 0)  # the page is gone
            at, slot, patch_at, patch_slot, count = ref
            return (p, here - at, slot, None if patch_at is None else here - patch_at, patch_slot, count)

        if full:
            entries = {name: [row(p, ref) for p, ref in sorted(m.items())] for name, m in self._page_map.items()}
        else:
            entries = {name: [row(p, self._page_map[name].get(p)) for p in sorted(changed_pages)]
                       for name, changed_pages in self._since_base.items() if changed_pages}
        offset = self._emit(KEYFRAME, [s.seq, s.ts_ns, None if full else here - self._base_offset, entries])
        if full:
            self._base_offset = offset
            self._kf_since_base = 0
            for changed_pages in self._since_base.values():
                changed_pages.clear()
        else:
            self._kf_since_base += 1
        self._kf_seqs.append(s.seq if s.seq is not None else -1)
        self._kf_offsets.append(offset)
        self._kf_at = self._n

    def finish(self) -> dict[str, Any]:
        """Take the last keyframe and say where the keyframes are and what the final state holds."""
        if self._n and self._kf_at != self._n:
            self._keyframe()
        self._sink.flush()
        s = self.state
        outcomes = Counter(v.outcome or "pending" for v in s.victims.values())
        return {"keyframe_seqs": ints_to_bytes(self._kf_seqs), "keyframe_offsets": ints_to_bytes(self._kf_offsets),
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
        self._proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(side)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def feed(self, payload: list, packed: bytes) -> None:
        try:
            self._proc.stdin.write(_LENGTH.pack(len(packed)) + packed)  # type: ignore[union-attr]
        except BrokenPipeError:
            raise RuntimeError("the trace writer's state worker died") from None

    def finish(self) -> dict[str, Any]:
        try:
            out, _ = self._proc.communicate(_LENGTH.pack(0))
        except BrokenPipeError:
            out = b""
        if self._proc.returncode != 0 or not out:
            raise RuntimeError(f"the trace writer's state worker failed (exit {self._proc.returncode})")
        return unpack(out, "state worker report")

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
