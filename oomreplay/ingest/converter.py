"""What every input format is to ``convert``: a ``Converter`` the registry (``registry.CONVERTERS``) asks, once
per input and in priority order, whether it reads that input.

Most formats are read line by line (``LineConverter``: the bytes of ``chunks``, cut into lines and turned into
events by the native ``LineReader`` its ``reader`` gives) and their events are merged by time with the other
inputs'; a format that makes a whole trace of its one input (``WholeConverter``, ``alone``: a scenario) converts it
itself.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol

from .._native import NativeWriter
from ..model import Event
from .logrun import LogRun
from .report import ConvertReport
from .sources import Probe


class LineReader(Protocol):
    """The events of one input's lines, in time order (``_native.LogReader``, ``_native.FtraceReader``): the bytes
    given to ``read`` are cut into lines, each stored in the writer as source text and converted."""

    file_id: int
    #: a recording on the trace clock (its console lines are kept, to align it to a kernel log merged with it)
    recording: bool
    clock: str | None
    kernel: str | None
    counts: Counter[str]
    #: lines read so far
    lines: int

    def sniff(self, head: Iterable[str]) -> None:
        """Whatever the first lines decide (a kernel log's clock)."""

    def read(self, chunk: bytes, writer: NativeWriter | None = None, append: bool = False) -> list[Event | LogRun]:
        """The events of the lines ``chunk`` completes (runs of chatter as ``LogRun``s), their lines stored in
        ``writer``; with ``append`` the events go into the writer too and none come back."""

    def end(self, writer: NativeWriter | None = None, append: bool = False) -> list[Event | LogRun]:
        """The last line (if the input lacks its final newline) and what is still held, as ``read`` gives them."""

    def keep_lines(self) -> None:
        """Keep a copy of the lines an alignment needs (a log's, a recording's console lines), for ``kept``."""

    def count_runs(self) -> None:
        """From now on a run of chatter comes back as its number of lines (an ``int``), not as a ``LogRun``."""

    def kept(self) -> list[tuple[int, str]]:
        """``(line number, text)`` of the lines kept since the last call."""


class Converter(Protocol):
    """One input format. ``sniff`` sees the input's name (``probe.path``), its first bytes (``probe.raw``) and,
    for a text format, its first lines (``probe.head``), and the ``--format`` asked for."""

    #: what the format is called in messages
    name: str
    #: a whole trace of its one input (``WholeConverter``), never merged with other inputs
    alone: bool

    def sniff(self, probe: Probe, fmt: str) -> bool: ...


class LineConverter(Converter, Protocol):
    """A format read line by line, whose events ``convert`` merges by time with the other inputs' (kernel logs,
    ftrace text, trace.dat)."""

    def chunks(self, probe: Probe) -> Iterator[bytes]:
        """The input's text, a read at a time."""

    def reader(self, file_id: int, fmt: str) -> LineReader:
        """What turns them into events, for source ``file_id`` of the trace."""


class WholeConverter(Converter, Protocol):
    """A format that is a whole trace on its own (a scenario)."""

    def convert(self, probe: Probe, output: str | os.PathLike) -> ConvertReport:
        """Write the trace ``output`` from the input; raises ``ConvertError``."""
