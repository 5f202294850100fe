"""``TraceWriter``: the streaming writer, over the native one.

The core encodes each block of events into columns, compresses it (zstd, with dictionaries trained on the first
blocks), runs the state machine over it for the keyframes (on a thread of its own with ``parallel``), and
keeps the change lists and the overview as it goes. The file is written as ``.NAME.PID.partial`` beside the
target and renamed on ``close``: a crash midway never leaves a half-written trace under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from .._native import NativeWriter
from ..model import Event


class TraceWriter:
    """Streaming writer; use as a context manager, or call ``close()`` (and ``abort()`` on failure).

    ``meta`` may be changed until ``close``, which writes it into the index. ``parallel=True`` runs the state
    machine on a second core: worth it from about a million events on (see the README's benchmarks). ``tuning``
    changes the sizes every trace is written with (``block_events``, ``dictionary_at``, ``scene_cut_min_gap``,
    ``pages_per_block``, ``full_map_every``, ``state_dictionary_at``, ``chunk``; see native/core's ``Tuning``):
    tests shrink them so a few events cross every boundary.
    """

    def __init__(self, path: str | os.PathLike, meta: Mapping[str, Any] | None = None, *,
                 parallel: bool = False, tuning: Mapping[str, int] | None = None) -> None:
        self.path = Path(path)
        self.meta: dict[str, Any] = dict(meta or {})
        self._w = NativeWriter(self.path, self.meta, parallel, dict(tuning) if tuning else None)
        self._closed = False

    @property
    def native(self) -> NativeWriter:
        """The core's writer, which the native converters append to themselves."""
        return self._w

    def __len__(self) -> int:
        return len(self._w)

    def append(self, ev: Event) -> int:
        """Store ``ev`` as the next event and return its seq. Times must not go backwards (``ValueError``)."""
        return self._w.append(ev)

    def extend(self, events: Iterable[Event]) -> None:
        self._w.extend(events)

    def append_logs(self, ts: list[int], texts: list[str], file_id: int, first_line: int) -> None:
        """``log`` events of consecutive lines of source ``file_id`` from ``first_line``, in one call."""
        self._w.append_logs(ts, texts, file_id, first_line)

    def add_source(self, name: str) -> int:
        """Register a source file; returns its id (what events' ``src.file`` name)."""
        return self._w.add_source(name)

    def add_source_lines(self, file_id: int, lines: Iterable[str]) -> None:
        """Store the next lines of source ``file_id`` (every line, so views can show the original text)."""
        self._w.add_source_lines(file_id, lines if isinstance(lines, list) else list(lines))

    def close(self) -> Path:
        """Finish the file and move it to its final name."""
        if not self._closed:
            self._closed = True
            self._w.close(self.meta)
        return self.path

    def abort(self) -> None:
        """Drop the partial file; the final name is never touched."""
        self._closed = True
        self._w.abort()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
