"""``Trace``: a recorded incident opened for reading, over the native reader.

The core answers from the file's index, keyframes and change lists (reading by ``pread``, its caches bounded), so
nothing here costs in proportion to the trace: ``state_at`` replays at most a keyframe interval, ``next``/``prev``
walk the change lists, ``events`` decodes the blocks it passes through.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from .._native import NativeTrace, TraceError
from ..model import Event, State
from .overview import Bucket

#: events decoded per call into the core while iterating (a block's worth: each call decodes what it returns)
_BATCH = 4096


class Trace:
    """A recorded incident: ``len()``, ``meta``, ``state_at``, ``seq_at``, ``events``, ``next``/``prev``, …

    States read pages from the file as they are used, so use them while the trace is open.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.name = str(path)
        #: Set when the file was damaged and this Trace was rebuilt from its whole blocks (what was lost).
        self.recovered: str | None = None
        self._t = NativeTrace(path)
        self.version: int = self._t.version
        self.meta: dict[str, Any] = self._t.meta
        self.summary: dict[str, Any] = self._t.summary
        self.first_ts: int | None = self._t.first_ts
        self.last_ts: int | None = self._t.last_ts

    def __len__(self) -> int:
        return len(self._t)

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Trace({self.name!r}, {len(self)} events)"

    @property
    def size(self) -> int:
        return self._t.size

    @property
    def sources(self) -> list[tuple[str, int]]:
        """``(name, line count)`` of each source file stored in the trace, by file id."""
        return self._t.sources

    def event(self, seq: int) -> Event:
        """The event at ``seq``."""
        return self._t.event(seq)

    def events(self, start: int = 0, stop: int | None = None, kind: str | Iterable[str] | None = None,
               pid: int | None = None, entity: str | None = None) -> Iterator[Event]:
        """Events with ``start <= seq < stop``, optionally only of some kinds, of one pid or of one entity."""
        n = len(self)
        stop = n if stop is None else min(stop, n)
        seq = max(0, start)
        if kind is None and pid is None and entity is None:
            while seq < stop:
                batch = self._t.events_range(seq, min(stop, seq + _BATCH))
                yield from batch
                seq += len(batch)
            return
        found = self._t.next(seq - 1, kind, pid, entity)
        while found is not None and found < stop:
            yield self._t.event(found)
            found = self._t.next(found, kind, pid, entity)

    def seq_at(self, ts_ns: int) -> int | None:
        """The last event at or before ``ts_ns``; None when the trace starts later."""
        return self._t.seq_at(ts_ns)

    def next(self, after_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None:
        """The first seq after ``after_seq`` matching every filter given; None when there is none."""
        return self._t.next(after_seq, kind, pid, entity)

    def prev(self, before_seq: int, kind: str | Iterable[str] | None = None, pid: int | None = None,
             entity: str | None = None) -> int | None:
        """The last seq before ``before_seq`` matching every filter given; None when there is none."""
        return self._t.prev(before_seq, kind, pid, entity)

    def state_at(self, seq: int) -> State:
        """The state after the event ``seq`` (``-1``: before the first event)."""
        return self._t.state_at(seq)

    def source_lines(self, first: int, last: int, file: int = 0) -> list[str]:
        """Lines ``first..last`` (1-based, inclusive) of source ``file``, clipped to what exists."""
        return self._t.source_lines(first, last, file)

    def overview(self, t0_ns: int | None = None, t1_ns: int | None = None, buckets: int = 100) -> list[Bucket]:
        """Event counts per kind and free-memory range for ``buckets`` equal slices of [t0, t1)."""
        t0 = self.first_ts if t0_ns is None else t0_ns
        t1 = (self.last_ts + 1 if self.last_ts is not None else None) if t1_ns is None else t1_ns
        if t0 is None or t1 is None:
            return []
        return [Bucket(*b) for b in self._t.overview(t0, t1, buckets)]


__all__ = ["Trace", "TraceError"]
