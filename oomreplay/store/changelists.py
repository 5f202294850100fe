"""Per-kind and per-entity change lists: the sorted seqs of every event of a kind, of a pid, of a lock.

"Next kill", "next change of task 3163", "next time mmap_lock changes hands" become a bisect in one of these
lists. They are written in chunks of at most ``CHUNK`` seqs, each its own block, as the writer goes, so the writer's
memory stays bounded; a directory block at the end says which chunk holds which range, and the reader loads the
directory and the chunks only when a query needs them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from ..model import zone_key
from .format import TraceError

#: Seqs per chunk: one chunk covers any "next" query on a busy key with a single small block read.
CHUNK = 4096
#: Seqs held in the writer across all keys before every pending list is written out.
PENDING_BUDGET = 1 << 20

Key = tuple[str, Any]  # ("k", kind name) | ("p", pid) | ("e", "lock:NAME" / "zone:0:Normal" / "memcg:/path")


def entity_of(kind: str, fields: dict) -> str | None:
    """The non-task entity an event is about, if any."""
    if kind.startswith("lock_"):
        name = fields.get("lock")
        return f"lock:{name}" if name else None
    if kind == "zone":
        node, zone = zone_key(fields)
        return f"zone:{node}:{zone}"
    if kind == "memcg":
        return f"memcg:{fields.get('path') or '/'}"
    return None


class ChangeListWriter:
    """Gathers seqs per key and writes full chunks through ``emit(payload) -> offset``."""

    def __init__(self, emit: Callable[[list], int]) -> None:
        self._emit = emit
        self._pending: dict[Key, array] = {}
        self._held = 0
        self.directory: dict[Key, list[tuple[int, int, int]]] = {}  # key -> [(first, last, offset)]

    def extend_many(self, items: list[tuple[Key, list[int]]]) -> None:
        """Add each key's ascending seqs, all after the ones that key already has (a block's worth at a time: one
        call per block, not per key, is what keeps the writer's indexing cheap)."""
        pending_of = self._pending
        for key, seqs in items:
            pending = pending_of.get(key)
            if pending is None:
                pending = pending_of[key] = array("q", seqs)
            else:
                pending.extend(seqs)
            self._held += len(seqs)
            if len(pending) >= CHUNK:
                self._flush(key)
            if self._held >= PENDING_BUDGET:
                self.flush_all()

    def _flush(self, key: Key) -> None:
        seqs = self._pending.pop(key)
        self._held -= len(seqs)
        for start in range(0, len(seqs), CHUNK):
            chunk = seqs[start:start + CHUNK]
            first = chunk[0]
            deltas = [b - a for a, b in zip(chunk, chunk[1:])]
            offset = self._emit([first, deltas])
            self.directory.setdefault(key, []).append((first, chunk[-1], offset))

    def flush_all(self) -> None:
        for key in list(self._pending):
            self._flush(key)

    def directory_payload(self) -> list:
        return [[kind, value, [c[0] for c in chunks], [c[1] for c in chunks], [c[2] for c in chunks]]
                for (kind, value), chunks in self.directory.items()]


class ChangeListIndex:
    """The reader's side: finds the next / previous seq of a key with two bisects and at most one chunk read."""

    def __init__(self, payload: Any, load_chunk: Callable[[int], array], where: str) -> None:
        self._load = load_chunk
        self._dir: dict[Key, tuple[tuple, tuple, tuple]] = {}
        try:
            for kind, value, firsts, lasts, offsets in payload:
                self._dir[(kind, value)] = (firsts, lasts, offsets)
        except (TypeError, ValueError) as e:
            raise TraceError(f"{where}: bad change-list directory ({e})") from None

    def next(self, key: Key, after: int) -> int | None:
        """The first seq of ``key`` greater than ``after``."""
        entry = self._dir.get(key)
        if entry is None:
            return None
        firsts, lasts, offsets = entry
        c = bisect_right(lasts, after)
        if c == len(lasts):
            return None
        seqs = self._load(offsets[c])
        return seqs[bisect_right(seqs, after)]

    def prev(self, key: Key, before: int) -> int | None:
        """The last seq of ``key`` smaller than ``before``."""
        entry = self._dir.get(key)
        if entry is None:
            return None
        firsts, lasts, offsets = entry
        c = bisect_left(firsts, before) - 1
        if c < 0:
            return None
        seqs = self._load(offsets[c])
        return seqs[bisect_left(seqs, before) - 1]


def decode_chunk(payload: Any, where: str) -> array:
    try:
        first, deltas = payload
        return array("q", accumulate(deltas, initial=first))
    except (TypeError, ValueError, OverflowError) as e:
        raise TraceError(f"{where}: bad change-list chunk ({e})") from None
