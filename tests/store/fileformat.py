"""The `.oomtrace` byte layout as DESIGN.md states it, for tests that read an intact file's layout or build a
hostile one: the oracle the native reader is held to, written from the spec and not from the reader.
::

    header   "OOMTRACE" u16 version u16 reserved u32 crc32(first 12 bytes)                      16 bytes
    block*   u8 type  u32 payload length  u32 crc32(type, length, payload)  payload             9 + n bytes
    trailer  "OOMTRAIL" u64 offset of the INDEX block  u32 version  u32 crc32(first 20 bytes)   24 bytes

Payloads are msgpack, zstd-compressed (format 1: zlib) except the meta and source-file blocks.
"""

from __future__ import annotations

import struct
import zlib

import msgpack
import zstandard

FORMAT_VERSION = 2
HEADER = struct.Struct("<8sHHI")
BLOCK = struct.Struct("<BII")
TRAILER = struct.Struct("<8sQII")
(META, EVENTS, PAGE, KEYFRAME, POSTINGS, SOURCE_FILE, SOURCE, DIRECTORY, OVERVIEW, INDEX, WORKSET,
 DICTIONARY) = range(1, 13)
BLOCK_NAMES = {META: "meta", EVENTS: "events", PAGE: "state page", KEYFRAME: "keyframe", POSTINGS: "change list",
               SOURCE_FILE: "source file", SOURCE: "source text", DIRECTORY: "change-list directory",
               OVERVIEW: "overview", INDEX: "index", WORKSET: "working set", DICTIONARY: "compression dictionary"}
#: the most a reader inflates one payload to, whatever the frame claims
MAX_INFLATED = 256 << 20
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def crc(*parts: bytes) -> int:
    value = 0
    for part in parts:
        value = zlib.crc32(part, value)
    return value


def pack(obj: object) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def compress(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_content_size=True).compress(data)


def frame(kind: int, payload: bytes) -> bytes:
    head = struct.pack("<BI", kind, len(payload))
    return head + struct.pack("<I", crc(head, payload)) + payload


def header_bytes(version: int = FORMAT_VERSION) -> bytes:
    head = struct.pack("<8sHH", b"OOMTRACE", version, 0)
    return head + struct.pack("<I", crc(head))


def trailer_bytes(index_offset: int, version: int = FORMAT_VERSION) -> bytes:
    head = struct.pack("<8sQI", b"OOMTRAIL", index_offset, version)
    return head + struct.pack("<I", crc(head))
