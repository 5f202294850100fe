"""Reading a trace file's blocks: by ``pread`` at an offset, each checked (frame, CRC, payload) before it is
decoded, and the header's magic and version. The reader, ``verify`` and ``repair`` all read through here."""

from __future__ import annotations

import os
from typing import Any

from .format import (BLOCK, BLOCK_NAMES, FORMAT_VERSION, HEADER, MAGIC, MAX_PAYLOAD, META, SOURCE_FILE, TraceError,
                     TraceVersionError, crc, decompress, unpack)

#: Block types stored without compression.
UNCOMPRESSED = frozenset({META, SOURCE_FILE})


class PositionalFile:
    """A file read by ``pread`` at given offsets: thread-safe, and unlike an mmap it adds nothing to the reader's
    resident memory however much of a large trace a session visits (the kernel's page cache still serves it)."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, span: slice) -> bytes:
        start, stop, _ = span.indices(self._size)
        return os.pread(self._fd, max(0, stop - start), start)


def is_trace(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an .oomtrace file (by its magic, whatever its name); ``OSError`` when it cannot be read."""
    with open(path, "rb") as f:
        return f.read(len(MAGIC)) == MAGIC


def check_header(data: bytes, name: str) -> int:
    """The format version, after checking the magic and the header's CRC."""
    if len(data) < HEADER.size or data[:8] != MAGIC:
        raise TraceError(f"{name}: not an oomtrace file (no OOMTRACE header)")
    magic, version, _, stored = HEADER.unpack_from(data, 0)
    if crc(data[:12]) != stored:
        raise TraceError(f"{name}: header at offset 0 is damaged (CRC mismatch)")
    if version > FORMAT_VERSION:
        raise TraceVersionError(f"{name}: written in trace format {version} by a newer oomreplay; this version "
                                f"reads formats up to {FORMAT_VERSION}. Upgrade oomreplay to open it")
    return version


def read_block(data: Any, offset: int, end: int, name: str, expect: int | None = None,
               zdict: bytes | None = None) -> tuple[int, Any, int]:
    """``(type, decoded payload, next offset)`` of the block at ``offset``, or a TraceError saying what is wrong.
    ``zdict``: the compression dictionary the block was written with, if any."""
    if offset < HEADER.size or offset + BLOCK.size > end:
        raise TraceError(f"{name}: block offset {offset} lies outside the file's {end} bytes")
    kind, length, stored = BLOCK.unpack(data[offset:offset + BLOCK.size])
    label = BLOCK_NAMES.get(kind, f"type-{kind}")
    where = f"{name}: {label} block at offset {offset}"
    if kind not in BLOCK_NAMES:
        raise TraceError(f"{where}: unknown block type {kind}")
    if expect is not None and kind != expect:
        raise TraceError(f"{where}: expected a {BLOCK_NAMES[expect]} block")
    stop = offset + BLOCK.size + length
    if length > MAX_PAYLOAD or stop > end:
        raise TraceError(f"{where}: declared length {length} runs past the end of the file")
    payload = bytes(data[offset + BLOCK.size:stop])
    if crc(bytes(data[offset:offset + 5]), payload) != stored:
        raise TraceError(f"{where}: CRC mismatch (the block is damaged)")
    if kind not in UNCOMPRESSED:
        payload = decompress(payload, where, zdict)
    return kind, unpack(payload, where), stop
