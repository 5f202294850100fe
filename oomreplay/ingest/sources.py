"""Opening what the user gave: files or ``-`` (stdin), as a ``Probe`` the converter registry chooses a format by
(its name, its first bytes, its first lines), then as the blocks of lines the chosen converter reads. gzip / xz /
bzip2 are recognised by their magic bytes and bytes are decoded as UTF-8 whatever they hold.

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
from functools import cached_property
from itertools import chain, islice
from typing import BinaryIO

from .errors import SourceError

#: A longer line is cut into pieces of this size; each piece is a line of its own in the trace.
MAX_LINE = 16 << 20
#: Bytes read at a time; at most ``MAX_LINE``, so only the first line of a read can need cutting.
CHUNK = 1 << 20
#: How far the head of an input is read ahead: to tell its format, then its clock.
SNIFF_LINES = 2000
_MAGIC = ((b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw), "gzip"), (b"\xfd7zXZ\x00", lzma.LZMAFile, "xz"),
          (b"BZh", bz2.BZ2File, "bzip2"))


class Probe:
    """One input, opened only when something needs its bytes: ``path`` as given (``-``: stdin), ``display`` its
    name in the trace, ``raw`` its first bytes as stored (peeked: nothing is consumed), ``head`` its first
    ``SNIFF_LINES`` lines of text, read ahead once and handed on again by ``text``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.display = "<stdin>" if path == "-" else path
        self._stream: BinaryIO | None = None
        self._text: Iterator[list[str]] | None = None
        self._ahead: list[list[str]] = []

    @property
    def stream(self) -> BinaryIO:
        """The input's bytes as stored, opened on first use."""
        if self._stream is None:
            self._stream = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")  # noqa: SIM115
        return self._stream

    @cached_property
    def raw(self) -> bytes:
        """The first bytes (16 at most: enough for any magic) as stored, without consuming them."""
        peek = getattr(self.stream, "peek", None)
        return peek(16)[:16] if peek is not None else b""

    @cached_property
    def head(self) -> list[str]:
        """The first ``SNIFF_LINES`` lines, decompressed; the blocks they came in are kept for ``text``."""
        if self._text is None:
            self._text = self._decompressed()
        self._ahead = read_ahead(self._text, SNIFF_LINES)
        return list(islice(chain.from_iterable(self._ahead), SNIFF_LINES))

    def text(self) -> Iterator[list[str]]:
        """The input's lines, a block per read, decompressed (the blocks ``head`` read ahead first)."""
        if self._text is None:
            self._text = self._decompressed()
        return chain(self._ahead, self._text)

    def _decompressed(self) -> Iterator[list[str]]:
        stream, kind = self.stream, "text"
        for magic, opener, label in _MAGIC:
            if self.raw.startswith(magic):
                stream, kind = opener(self.stream), label  # type: ignore[assignment]
                break
        return blocks(stream, self.display, kind)

    def close(self) -> None:
        if self._stream is not None and self._stream is not sys.stdin.buffer:
            self._stream.close()


@contextmanager
def probe(path: str) -> Iterator[Probe]:
    """The input ``path`` (``-``: stdin) as a ``Probe``, closed at the end."""
    p = Probe(path)
    try:
        yield p
    finally:
        p.close()


def read_ahead(blocks: Iterator[list[str]], lines: int) -> list[list[str]]:
    """The first blocks, up to the one that completes ``lines`` lines (or all of them)."""
    ahead = []
    for block in blocks:
        ahead.append(block)
        lines -= len(block)
        if lines <= 0:
            break
    return ahead


def blocks(stream: BinaryIO, display: str, kind: str) -> Iterator[list[str]]:
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
