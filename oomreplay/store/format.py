"""The `.oomtrace` byte layout: header, framed blocks, trailer, and bounded decoding.

::

    header   "OOMTRACE" u16 version u16 reserved u32 crc32(first 12 bytes)              16 bytes
    block*   u8 type  u32 payload length  u32 crc32(type, length, payload)  payload     9 + n bytes
    trailer  "OOMTRAIL" u64 offset of the INDEX block  u32 version  u32 crc32(first 20 bytes)   24 bytes

Every payload is msgpack, zlib-compressed except where noted. A reader trusts nothing it has not checked: lengths
against the file size, every block against its CRC, every unpack against explicit size limits, every inflate
against an output cap, so a damaged or hostile file fails with a ``TraceError`` naming the place, never with a
crash or an allocation the size of a lying length field.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from functools import lru_cache
from typing import Any

import msgpack

FORMAT_VERSION = 1
MAGIC = b"OOMTRACE"
TRAILER_MAGIC = b"OOMTRAIL"

HEADER = struct.Struct("<8sHHI")
BLOCK = struct.Struct("<BII")
TRAILER = struct.Struct("<8sQII")

# Block types.
(META, EVENTS, PAGE, KEYFRAME, POSTINGS, SOURCE_FILE, SOURCE, DIRECTORY, OVERVIEW, INDEX, WORKSET,
 DICTIONARY) = range(1, 13)
BLOCK_NAMES = {META: "meta", EVENTS: "events", PAGE: "state page", KEYFRAME: "keyframe", POSTINGS: "change list",
               SOURCE_FILE: "source file", SOURCE: "source text", DIRECTORY: "change-list directory",
               OVERVIEW: "overview", INDEX: "index", WORKSET: "working set",
               DICTIONARY: "compression dictionary"}
#: A compression dictionary: the latest raw payloads of the kinds of block it serves. Every block of those kinds
#: after it is compressed with it: many small blocks of the same records, which plain zlib, starting each block
#: from nothing, compresses poorly.
DICTIONARY_BYTES = 32 << 10

#: No block this writer makes comes near these; a reader refuses anything larger before allocating it.
MAX_PAYLOAD = 64 << 20
MAX_INFLATED = 256 << 20
ZLIB_LEVEL = 6


class TraceError(Exception):
    """A trace file that cannot be read as asked; the message names the file and the place."""


class TraceVersionError(TraceError):
    """The file was written by a newer oomreplay."""


def crc(*parts: bytes) -> int:
    value = 0
    for part in parts:
        value = zlib.crc32(part, value)
    return value


def pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def packer() -> Any:
    """``pack`` as a method of one packer, for a writer's own use (not shared between threads): it saves making
    a packer per call, which is most of packing a small page."""
    return msgpack.Packer(use_bin_type=True).pack


def unpack(data: bytes, where: str) -> Any:
    """msgpack with every length capped by the input size: a 5-byte array header cannot claim 4 G elements."""
    n = len(data)
    try:
        return msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=False,
                               max_str_len=n, max_bin_len=n, max_array_len=n, max_map_len=n // 2 or 1,
                               max_ext_len=0)
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.UnpackException, RecursionError) as e:
        raise TraceError(f"{where}: malformed payload ({type(e).__name__}: {e})") from None


@lru_cache(maxsize=4)
def _primed(zdict: bytes, level: int) -> Any:
    """A compressor that has taken in ``zdict``: copying it is cheaper than feeding the dictionary to a new one."""
    return zlib.compressobj(level, zdict=zdict)


def deflate(data: bytes, zdict: bytes | None = None, level: int = ZLIB_LEVEL) -> bytes:
    if zdict is None:
        return zlib.compress(data, level)
    c = _primed(zdict, level).copy()
    return c.compress(data) + c.flush()


def inflate(data: bytes, where: str, zdict: bytes | None = None) -> bytes:
    d = zlib.decompressobj() if zdict is None else zlib.decompressobj(zdict=zdict)
    try:
        out = d.decompress(data, MAX_INFLATED)
    except zlib.error as e:
        raise TraceError(f"{where}: cannot decompress ({e})") from None
    if d.unconsumed_tail:
        raise TraceError(f"{where}: decompresses to more than {MAX_INFLATED >> 20} MiB")
    return out


def dictionary_payload(kinds: list[int], zdict: bytes) -> list:
    return [kinds, zdict]


def decode_dictionary(payload: Any, where: str) -> tuple[frozenset[int], bytes]:
    """The kinds of block a dictionary serves, and its bytes."""
    try:
        kinds, zdict = payload
        kinds = frozenset(int(k) for k in kinds)
    except (TypeError, ValueError) as e:
        raise TraceError(f"{where}: bad compression dictionary ({e})") from None
    if not isinstance(zdict, bytes) or not zdict:
        raise TraceError(f"{where}: bad compression dictionary (no bytes)")
    return kinds, zdict


def frame(kind: int, payload: bytes) -> bytes:
    head = struct.pack("<BI", kind, len(payload))
    return head + struct.pack("<I", crc(head, payload)) + payload


def header_bytes(version: int = FORMAT_VERSION) -> bytes:
    head = struct.pack("<8sHH", MAGIC, version, 0)
    return head + struct.pack("<I", crc(head))


def trailer_bytes(index_offset: int, version: int = FORMAT_VERSION) -> bytes:
    head = struct.pack("<8sQI", TRAILER_MAGIC, index_offset, version)
    return head + struct.pack("<I", crc(head))


def ints_to_bytes(values: array) -> bytes:
    """Fixed little-endian on every machine, so a trace moves between them."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def ints_from_bytes(data: bytes, typecode: str = "q") -> array:
    values = array(typecode)
    if len(data) % values.itemsize:
        raise TraceError(f"integer column of {len(data)} bytes is not a multiple of {values.itemsize}")
    values.frombytes(data)
    if sys.byteorder == "big":
        values.byteswap()
    return values
