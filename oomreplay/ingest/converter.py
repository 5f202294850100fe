"""What every input format is to ``convert``: a ``Converter`` the registry (``registry.CONVERTERS``) asks, once
per input and in priority order, whether it reads that input.

Most formats are read line by line (``LineConverter``: ``lines``, turned into events by the ``LineReader`` its
``reader`` gives) and their events are merged by time with the other inputs'; a format that makes a whole trace
of its one input (``WholeConverter``, ``alone``: a scenario) converts it itself.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol

from ..model import Event
from .logrun import LogRun
from .report import ConvertReport
from .sources import Probe


class LineReader(Protocol):
    """The events of one input's lines, in time order (``LogConverter``, ``FtraceConverter``)."""

    file_id: int
    #: a recording on the trace clock (its console lines are kept, to align it to a kernel log merged with it)
    recording: bool
    clock: str | None
    kernel: str | None
    counts: Counter[str]

    def sniff(self, head: Iterable[str]) -> None:
        """Whatever the first lines decide (a kernel log's clock)."""

    def feed_block(self, first: int, lines: list[str]) -> list[Event | LogRun]:
        """The events of the lines numbered from ``first`` (runs of chatter as ``LogRun``s)."""

    def finish(self) -> list[Event]:
        """What is still held once the input ends."""


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

    def lines(self, probe: Probe) -> Iterator[list[str]]:
        """The input's lines, a block at a time."""

    def reader(self, file_id: int, fmt: str) -> LineReader:
        """What turns them into events, for source ``file_id`` of the trace."""


class WholeConverter(Converter, Protocol):
    """A format that is a whole trace on its own (a scenario)."""

    def convert(self, probe: Probe, output: str | os.PathLike) -> ConvertReport:
        """Write the trace ``output`` from the input; raises ``ConvertError``."""
