"""The `.oomtrace` byte layout: header, framed blocks, trailer, and bounded decoding.

::

    header   "OOMTRACE" u16 version u16 reserved u32 crc32(first 12 bytes)              16 bytes
    block*   u8 type  u32 payload length  u32 crc32(type, length, payload)  payload     9 + n bytes
    trailer  "OOMTRAIL" u64 offset of the INDEX block  u32 version  u32 crc32(first 20 bytes)   24 bytes

Every payload is msgpack, zstd-compressed except where noted (format 1 used zlib; its files are still read). A
reader trusts nothing it has not checked: lengths against the file size, every block against its CRC, every unpack
against explicit size limits, every inflate against an output cap, so a damaged or hostile file fails with a
``TraceError`` naming the place, never with a crash or an allocation the size of a lying length field.
"""

from __future__ import annotations

import struct
import sys
import threading
import zlib
from array import array
from typing import Any

import msgpack
import zstandard

#: 2: blocks compressed with zstd (1: zlib).
FORMAT_VERSION = 2
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
#: No block this writer makes comes near these; a reader refuses anything larger before allocating it.
MAX_PAYLOAD = 64 << 20
MAX_INFLATED = 256 << 20
#: zstd levels: the events writer's default; the state machine's (its page and working-set blocks come out 4 %
#: smaller at 7 than at 5, for 0.2 µs per event).
ZSTD_LEVEL = 5
STATE_LEVEL = 7
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: The most a zstd frame can expand (a 128 KiB block from a 4-byte RLE block): a frame claiming more lies.
ZSTD_MAX_EXPANSION = 32 << 10


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


_contexts = threading.local()  # zstd contexts are not for concurrent use: each thread keeps its own


def _context(kind: type, zdict: bytes | None, level: int = 0) -> Any:
    """This thread's compressor (level > 0) or decompressor for ``zdict``: made once, since loading a dictionary
    costs more than compressing a small block with it."""
    cache = getattr(_contexts, "cache", None)
    if cache is None:
        cache = _contexts.cache = {}
    key = (kind, zdict, level)
    ctx = cache.get(key)
    if ctx is None:
        if len(cache) >= 16:
            cache.clear()
        d = zstandard.ZstdCompressionDict(zdict, dict_type=zstandard.DICT_TYPE_RAWCONTENT) if zdict else None
        ctx = cache[key] = (zstandard.ZstdCompressor(level=level, dict_data=d, write_checksum=False,
                                                      write_content_size=True, write_dict_id=False)
                            if kind is zstandard.ZstdCompressor else zstandard.ZstdDecompressor(dict_data=d))
    return ctx


def compress(data: bytes, zdict: bytes | None = None, level: int = ZSTD_LEVEL) -> bytes:
    return _context(zstandard.ZstdCompressor, zdict, level).compress(data)


def decompress(data: bytes, where: str, zdict: bytes | None = None) -> bytes:
    """A zstd frame, or a zlib stream of format 1; never more than ``MAX_INFLATED`` bytes, and never an
    allocation a frame's header asks for beyond what its bytes can expand to."""
    if data[:4] != ZSTD_MAGIC:
        return _inflate(data, where, zdict)
    try:
        size = zstandard.frame_content_size(data)
    except zstandard.ZstdError as e:
        raise TraceError(f"{where}: cannot decompress ({e})") from None
    if size < 0:
        raise TraceError(f"{where}: cannot decompress (no content size in the zstd frame)")
    if size > MAX_INFLATED:
        raise TraceError(f"{where}: decompresses to more than {MAX_INFLATED >> 20} MiB")
    if size > len(data) * ZSTD_MAX_EXPANSION:
        raise TraceError(f"{where}: cannot decompress (a frame of {len(data)} bytes claims {size})")
    try:
        out = _context(zstandard.ZstdDecompressor, zdict).decompress(data, allow_extra_data=False)
    except zstandard.ZstdError as e:
        raise TraceError(f"{where}: cannot decompress ({e})") from None
    if len(out) != size:
        raise TraceError(f"{where}: cannot decompress (the frame holds {len(out)} bytes, not {size})")
    return out


def _inflate(data: bytes, where: str, zdict: bytes | None) -> bytes:
    d = zlib.decompressobj() if zdict is None else zlib.decompressobj(zdict=zdict)
    try:
        out = d.decompress(data, MAX_INFLATED)
    except zlib.error as e:
        raise TraceError(f"{where}: cannot decompress ({e})") from None
    if d.unconsumed_tail:
        raise TraceError(f"{where}: decompresses to more than {MAX_INFLATED >> 20} MiB")
    return out


class BlockCompressor:
    """Compresses one writer's blocks. Those of the kinds a dictionary will serve go out plain at first while
    their latest raw payloads are kept, up to ``shares[kind]`` bytes each; ``dictionary()`` then joins those
    samples into the dictionary (a block of its own) every later block of those kinds is compressed with: many
    small blocks of the same records, which a compressor starting each block from nothing compresses poorly."""

    def __init__(self, shares: dict[int, int], level: int = ZSTD_LEVEL) -> None:
        self._shares = shares
        self._level = level
        self._samples = {kind: b"" for kind in shares}
        self.zdict: bytes | None = None

    @property
    def kinds(self) -> list[int]:
        return sorted(self._shares)

    def compress(self, kind: int, raw: bytes) -> bytes:
        if kind not in self._shares:
            return compress(raw, None, self._level)
        if self.zdict is not None:
            return compress(raw, self.zdict, self._level)
        self._samples[kind] = (self._samples[kind] + raw)[-self._shares[kind]:]
        return compress(raw, None, self._level)

    def dictionary(self) -> list | None:
        """The dictionary's block payload; from now on, the blocks of its kinds are compressed with it. None when
        no block of its kinds came yet (a long log of chatter changes no state): those then stay plain."""
        zdict = b"".join(self._samples[kind] for kind in self.kinds)
        if not zdict:
            return None
        self.zdict = zdict
        return [self.kinds, zdict]


def decode_dictionary(payload: Any, where: str) -> tuple[frozenset[int], bytes]:
    """The kinds of block a dictionary serves, and its bytes."""
    try:
        kinds, zdict = payload
        kinds = frozenset(int(k) for k in kinds)
    except (TypeError, ValueError) as e:
        raise TraceError(f"{where}: bad compression dictionary ({e})") from None
    if not isinstance(zdict, bytes):
        raise TraceError(f"{where}: bad compression dictionary (no bytes)")
    return kinds, zdict  # empty in files of format 1 whose state blocks all came after it: those used none


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
