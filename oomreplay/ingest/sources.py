"""Opening what the user gave: files or ``-`` (stdin), gzip / xz / bzip2 recognised by their magic bytes, bytes
decoded as UTF-8 whatever they hold.

Lines are read in bounded pieces (``MAX_LINE`` bytes), so a file with no newline cannot exhaust memory; invalid
UTF-8 becomes U+FFFD, a CR before the newline goes, NULs stay (the views escape them). A damaged compressed
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
_MAGIC = ((b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw), "gzip"), (b"\xfd7zXZ\x00", lzma.LZMAFile, "xz"),
          (b"BZh", bz2.BZ2File, "bzip2"))


class SourceError(Exception):
    """An input that cannot be read to the end: one line naming the file and the place."""


@contextmanager
def open_source(name: str) -> Iterator[tuple[str, Iterator[str]]]:
    """``(display name, lines)`` of one input; the lines come without their line ends."""
    raw: BinaryIO = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115 - closed below
    display = "<stdin>" if name == "-" else name
    try:
        stream: BinaryIO = raw
        head = _peek(raw)
        kind = "text"
        for magic, opener, label in _MAGIC:
            if head.startswith(magic):
                stream, kind = opener(raw), label  # type: ignore[assignment]
                break
        yield display, _lines(stream, display, kind)
    finally:
        if raw is not sys.stdin.buffer:
            raw.close()


def _peek(raw: BinaryIO) -> bytes:
    peek = getattr(raw, "peek", None)
    return peek(8)[:8] if peek is not None else b""


def _lines(stream: BinaryIO, display: str, kind: str) -> Iterator[str]:
    n = 0
    try:
        while True:
            chunk = stream.readline(MAX_LINE)
            if not chunk:
                return
            n += 1
            if chunk.endswith(b"\n"):
                chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk[:-1]
            yield chunk.decode("utf-8", "replace")
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as e:
        raise SourceError(f"{display}: damaged {kind} data after line {n}: {e}") from None
