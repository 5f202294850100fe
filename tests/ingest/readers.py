"""The native readers driven as ``convert`` drives them, on lines a test writes: the head sniffed, the lines read
as the bytes of a file, then what is still held."""

from __future__ import annotations

from collections.abc import Sequence

from oomreplay.ingest import FtraceReader, LogReader
from oomreplay.model import Event


def as_bytes(lines: Sequence[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def read_log(lines: Sequence[str], fmt: str = "auto") -> tuple[list[Event], LogReader]:
    """The events of a kernel log made of ``lines`` (runs of chatter as their events), and its reader."""
    reader = LogReader(0, fmt)
    reader.sniff(lines)
    return reader.read(as_bytes(lines)) + reader.end(), reader


def read_ftrace(lines: Sequence[str]) -> tuple[list[Event], FtraceReader]:
    """The events of an ftrace text made of ``lines``, and its reader."""
    reader = FtraceReader(0)
    return reader.read(as_bytes(lines)) + reader.end(), reader
