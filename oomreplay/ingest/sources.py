"""Opening what the user gave: files or ``-`` (stdin), as a ``Probe`` the converter registry chooses a format by
(its name, its first bytes, its first lines), then as the chunks of bytes the chosen converter's reader cuts into
lines (in the native core: ``ingest::Lines``). gzip / xz / bzip2 are recognised by their magic bytes and
decompressed as they are read (never the whole file in memory); a damaged compressed stream is a ``SourceError``
naming the file and how far it was read.
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
from itertools import chain
from typing import BinaryIO

from .errors import SourceError

#: Bytes read at a time.
CHUNK = 1 << 20
#: How far the head of an input is read ahead: to tell its format, then its clock.
SNIFF_LINES = 2000
_MAGIC = ((b"\x1f\x8b", lambda raw: gzip.GzipFile(fileobj=raw), "gzip"), (b"\xfd7zXZ\x00", lzma.LZMAFile, "xz"),
          (b"BZh", bz2.BZ2File, "bzip2"))


class Probe:
    """One input, opened only when something needs its bytes: ``path`` as given (``-``: stdin), ``display`` its
    name in the trace, ``raw`` its first bytes as stored (peeked: nothing is consumed), ``head`` its first
    ``SNIFF_LINES`` lines of text, from chunks read ahead once and handed on again by ``chunks``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.display = "<stdin>" if path == "-" else path
        self._stream: BinaryIO | None = None
        self._chunks: Iterator[bytes] | None = None
        self._ahead: list[bytes] = []

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
        """The first ``SNIFF_LINES`` lines, decompressed; the chunks they came in are kept for ``chunks``."""
        if self._chunks is None:
            self._chunks = self._decompressed()
        newlines, ended = 0, True
        for chunk in self._chunks:
            self._ahead.append(chunk)
            newlines += chunk.count(b"\n")
            if newlines >= SNIFF_LINES:
                ended = False
                break
        *whole, last = b"".join(self._ahead).split(b"\n", SNIFF_LINES)
        lines = [line.removesuffix(b"\r").decode("utf-8", "replace") for line in whole]
        if ended and last and len(lines) < SNIFF_LINES:  # the input's last line, without a newline
            lines.append(last.decode("utf-8", "replace"))
        return lines

    def chunks(self) -> Iterator[bytes]:
        """The input's bytes, decompressed, a read at a time (those ``head`` read ahead first)."""
        if self._chunks is None:
            self._chunks = self._decompressed()
        return chain(self._ahead, self._chunks)

    @property
    def compression(self) -> str | None:
        """``gzip``, ``xz`` or ``bzip2`` when the input is stored so (by its magic bytes), else None."""
        return next((label for magic, _, label in _MAGIC if self.raw.startswith(magic)), None)

    def _decompressed(self) -> Iterator[bytes]:
        stream, kind = self.stream, "text"
        for magic, opener, label in _MAGIC:
            if self.raw.startswith(magic):
                stream, kind = opener(self.stream), label  # type: ignore[assignment]
                break
        return chunks(stream, self.display, kind)

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


#: How much of an input's head ``not_text`` looks at (git and grep look at the first 8000 bytes alike).
TEXT_SAMPLE = 8000
#: Control characters no log holds (tab, newline, CR, form feed, ESC and the like are fine).
_BINARY_CONTROLS = frozenset(chr(c) for c in (*range(1, 8), *range(0x0e, 0x1b), *range(0x1c, 0x20), 0x7f)) | {"\ufffd"}


def not_text(head: list[str]) -> str | None:
    """Why an input whose first lines are ``head`` is not text (an executable, an image, UTF-16), or None.

    A NUL byte is what tells: a log never writes one. But a syslog written across a crash holds runs of NULs where
    the filesystem lost the blocks it was writing, and such a log must still convert (the NULs are kept, and
    escaped by the views). So an input is refused when its first line holds a NUL (an ELF, a tar, UTF-16 text,
    junk), or when the head holds NULs among other bytes no text has (the rest of a binary: compressed or
    machine data, invalid UTF-8)."""
    sample, taken = [], 0
    for line in head:
        sample.append(line)
        taken += len(line) + 1
        if taken >= TEXT_SAMPLE:
            break
    if not sample:
        return None
    text = "\n".join(sample)[:TEXT_SAMPLE]
    if "\0" not in text:
        return None
    if "\0" in sample[0][:TEXT_SAMPLE]:
        return "a NUL byte in line 1"
    rest = text.replace("\0", "")
    odd = sum(1 for ch in rest if ch in _BINARY_CONTROLS)
    if odd * 100 > len(rest):
        return f"NUL and control bytes, {odd} in its first {len(text):,} characters"
    return None


def chunks(stream: BinaryIO, display: str, kind: str) -> Iterator[bytes]:
    """``stream``'s bytes, ``CHUNK`` at a time; a damaged compressed stream is a ``SourceError`` saying how much of
    it was read."""
    read = 0
    try:
        while chunk := stream.read(CHUNK):
            read += len(chunk)
            yield chunk
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError) as e:
        raise SourceError(f"{display}: damaged {kind} data after {read:,} bytes of text: {e}") from None
