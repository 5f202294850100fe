"""A progress line on a terminal's stderr while a long conversion runs: how much was read, of how much, how fast.

Only on a terminal (a log file or a pipe gets nothing), redrawn at most ten times a second (a redraw per block
would cost more than the block), and erased at the end so the report that follows starts on a clean line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

REDRAW_S = 0.1


class ProgressLine:
    """Callable with the size of each block read; ``total`` (bytes) gives a percentage while it holds (input that
    decompresses to more than its file size shows bytes and rate only)."""

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None) -> None:
        self.label, self.total = label, total
        self.stream = stream or sys.stderr
        self.done = 0
        self._start = self._drawn = time.monotonic()

    def __call__(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._drawn >= REDRAW_S:
            self._drawn = now
            self.stream.write(f"\r{self.text(now)}\x1b[K")
            self.stream.flush()

    def text(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self._start, 1e-9)
        mb = self.done / 1e6
        part = f" {100 * self.done / self.total:3.0f} %" if self.total and self.done <= self.total else ""
        return f"{self.label}: {mb:,.1f} MB{part}, {mb / elapsed:,.1f} MB/s"

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class ProgressBar:
    """Callable with (items done, bytes done) after each item of a known number of items and bytes: a bar, the
    percentage of the bytes, the items, how much and how fast; the same redraw rule as ``ProgressLine``."""

    WIDTH = 24

    def __init__(self, label: str, items: int, total: int, noun: str = "files", stream: TextIO | None = None) -> None:
        self.label, self.items, self.total, self.noun = label, items, total, noun
        self.stream = stream or sys.stderr
        self.done = self.done_bytes = 0
        self._start = self._drawn = time.monotonic()

    def __call__(self, done: int, done_bytes: int) -> None:
        self.done, self.done_bytes = done, done_bytes
        now = time.monotonic()
        if now - self._drawn >= REDRAW_S or done == self.items:
            self._drawn = now
            self.stream.write(f"\r{self.text(now)}\x1b[K")
            self.stream.flush()

    def text(self, now: float | None = None) -> str:
        elapsed = max((now or time.monotonic()) - self._start, 1e-9)
        part = self.done_bytes / self.total if self.total else (self.done / self.items if self.items else 1.0)
        part = min(max(part, 0.0), 1.0)
        filled = round(part * self.WIDTH)
        mb = self.done_bytes / 1e6
        return (f"{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {100 * part:3.0f} % "
                f"{self.done:,}/{self.items:,} {self.noun}, {mb:,.1f} MB, {mb / elapsed:,.1f} MB/s")

    def close(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()
