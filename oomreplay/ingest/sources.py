"""Opening what the user gave: files or ``-`` (stdin), gzip / xz / bzip2 recognised by their magic bytes, bytes
decoded as UTF-8 whatever they hold; a trace-cmd ``trace.dat``, also known by its magic bytes, is read as the text
``trace-cmd report`` renders from it (``tracedat``).

Input is read ``CHUNK`` bytes at a time and handed on as blocks of lines, split and decoded in C: reading and
decoding line by line cost as much as the rest of a chatter line's conversion. A line is cut into pieces of
``MAX_LINE`` bytes, so a file with no newline cannot exhaust memory; invalid UTF-8 becomes U+FFFD, a CR before the
newline goes, NULs stay (the views escape them). A damaged compressed
stream is a ``SourceError`` naming the file and the line where the damage starts.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

#: A longer line is cut into pieces of this size; each piece is a line of its own in the trace.
MAX_LINE = 16 << 20
#: Bytes read at a time; at most ``MAX_LINE``, so only the first line of a read can need cutting.
CHUNK = 1 << 20
_MAGIC = ((b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw), "gzip"), (b"\xfd7zXZ\x00", lzma.LZMAFile, "xz"),
          (b"BZh", bz2.BZ2File, "bzip2"))


class SourceError(Exception):
    """An input that cannot be read to the end: one line naming the file and the place."""


@contextmanager
def open_source(name: str) -> Iterator[tuple[str, Iterator[list[str]]]]:
    """``(display name, blocks of lines)`` of one input; the lines come without their line ends."""
    raw: BinaryIO = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115 - closed below
    display = "<stdin>" if name == "-" else name
    try:
        stream: BinaryIO = raw
        head = _peek(raw)
        from . import tracedat  # it needs SourceError from here

        if tracedat.is_trace_dat(head):
            yield display, tracedat.rendered(raw, name, display, _blocks)
            return
        kind = "text"
        for magic, opener, label in _MAGIC:
            if head.startswith(magic):
                stream, kind = opener(raw), label  # type: ignore[assignment]
                break
        yield display, _blocks(stream, display, kind)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _peek(raw: BinaryIO) -> bytes:
    peek = getattr(raw, "peek", None)
    return peek(16)[:16] if peek is not None else b""


def _blocks(stream: BinaryIO, display: str, kind: str) -> Iterator[list[str]]:
    """The lines of ``stream``, a block per read: whole lines split and decoded together, and the pieces of a line
    longer than ``MAX_LINE`` one by one."""
    n = 0
    rest = b""
    try:
        while chunk := stream.read(CHUNK):
            data = rest + chunk
            newline = data.find(b"\n")
            while newline >= MAX_LINE or (newline < 0 and len(data) >= MAX_LINE):
                n += 1
                yield [data[:MAX_LINE].decode("utf-8", "replace")]
                data = data[MAX_LINE:]
                newline = data.find(b"\n")
            end = data.rfind(b"\n") + 1
            if end:
                block = _whole_lines(data[:end])
                n += len(block)
                yield block
            rest = data[end:]
        if rest:
            yield [rest.decode("utf-8", "replace")]  # the last line, without a newline
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as e:
        raise SourceError(f"{display}: damaged {kind} data after line {n}: {e}") from None


def _whole_lines(data: bytes) -> list[str]:
    """``data``'s lines, each of which ends with a newline, without their line ends."""
    lines = data.decode("utf-8", "replace").split("\n")
    del lines[-1]  # what follows the last newline: nothing
    if b"\r" in data:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines
