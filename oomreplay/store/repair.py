"""``verify`` and ``repair``: walk a trace block by block, trusting only what checks out.

Repair keeps every whole event block and every whole piece of source text and writes them through a fresh
``TraceWriter``, so the keyframes, change lists, overview and index of the result come from the one code path that
writes every trace; there is no second, repair-only way of building an index.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .blocks import PositionalFile, check_header, read_block
from .codec import CURRENT, EventBlock, Schema, decode_page, decode_workset
from .format import (BLOCK, BLOCK_NAMES, DICTIONARY, EVENTS, HEADER, INDEX, META, PAGE, SOURCE, SOURCE_FILE, TRAILER,
                     TRAILER_MAGIC, WORKSET, TraceError, TraceVersionError, crc, decode_dictionary, unpack)
from .reader import Trace, TraceTruncated
from .writer import TraceWriter


@dataclass
class Problem:
    offset: int
    message: str


@dataclass
class ScanResult:
    """What a walk over the blocks found: the good parts, and every problem with its offset."""

    size: int
    blocks: int = 0
    events: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    truncated_at: int | None = None  # where the walk had to stop, if before the trailer


@dataclass
class VerifyReport:
    path: str
    scan: ScanResult

    @property
    def ok(self) -> bool:
        return not self.scan.problems

    def lines(self) -> list[str]:
        s = self.scan
        if self.ok:
            return [f"{self.path}: OK ({s.blocks} blocks, {s.events} events, {s.size} bytes)"]
        out = [f"{self.path}: DAMAGED ({len(s.problems)} problem{'s' * (len(s.problems) != 1)})"]
        out += [f"  offset {p.offset}: {p.message}" for p in s.problems]
        whole = f"{s.events} events in whole blocks"
        out.append(f"  {whole}; run `oomreplay repair {self.path} -o FIXED.oomtrace` to rebuild the index")
        return out


def _walk(data: PositionalFile, name: str, scan: ScanResult) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(offset, type, payload)`` for every block that checks out, noting the rest in ``scan``. A block is
    inflated with the last compression dictionary before it that serves its kind (a damaged dictionary makes the
    blocks that need it fail)."""
    size = len(data)
    end = size
    if size >= HEADER.size + TRAILER.size and data[size - TRAILER.size:size - TRAILER.size + 8] == TRAILER_MAGIC:
        end = size - TRAILER.size
        trailer = bytes(data[end:size])
        if crc(trailer[:20]) != int.from_bytes(trailer[20:], "little"):
            scan.problems.append(Problem(end, "trailer: CRC mismatch (the trailer is damaged)"))
    else:
        scan.problems.append(Problem(size, "no trailer: the file was not finished or was cut short"))
    offset = HEADER.size
    zdicts: dict[int, bytes] = {}  # block kind -> its dictionary
    while offset < end:
        if offset + BLOCK.size > end:
            scan.truncated_at = offset
            scan.problems.append(Problem(offset, f"{end - offset} stray bytes: a block header cut short"))
            return
        kind, length, _ = BLOCK.unpack(data[offset:offset + BLOCK.size])
        if kind not in BLOCK_NAMES or offset + BLOCK.size + length > end:
            scan.truncated_at = offset
            what = "cut short" if kind in BLOCK_NAMES else f"unknown block type {kind}"
            scan.problems.append(Problem(offset, f"{BLOCK_NAMES.get(kind, 'block')} block: {what}; nothing after "
                                                 f"this offset can be read"))
            return
        try:
            _, payload, nxt = read_block(data, offset, end, name, zdict=zdicts.get(kind))
            if kind == DICTIONARY:
                kinds, zdict = decode_dictionary(payload, f"{name}: compression dictionary at offset {offset}")
                zdicts.update(dict.fromkeys(kinds, zdict))
            scan.blocks += 1
            yield offset, kind, payload
        except TraceError as e:
            scan.problems.append(Problem(offset, str(e).removeprefix(f"{name}: ")))
            nxt = offset + BLOCK.size + length
        offset = nxt


def _meta_and_schema(payload: Any, where: str) -> tuple[dict[str, Any], Schema]:
    try:
        return dict(payload["meta"]), Schema(payload["schema"])
    except (KeyError, TypeError, ValueError, TraceError) as e:
        raise TraceError(f"{where}: bad metadata ({e})") from None


def _check_payload(kind: int, payload: Any, where: str, schema: Schema) -> None:
    if kind == EVENTS:
        EventBlock(payload, where, schema)
    elif kind == META:
        _meta_and_schema(payload, where)
    elif kind == PAGE:
        for slot, blob in enumerate(payload):
            decode_page(unpack(blob, f"{where}, page {slot}"), f"{where}, page {slot}")
    elif kind == WORKSET:
        decode_workset(payload, where)


def _check_header(data: PositionalFile, name: str, scan: ScanResult) -> None:
    """A damaged header is one more problem (the blocks behind it may be whole); a newer version is a refusal."""
    try:
        check_header(data[:HEADER.size], name)
    except TraceVersionError:
        raise
    except TraceError as e:
        if len(data) < HEADER.size:
            raise
        scan.problems.append(Problem(0, f"damaged header: {str(e).removeprefix(f'{name}: ')}"))


def _require_blocks(scan: ScanResult, name: str) -> None:
    if scan.blocks == 0 and any(p.offset == 0 for p in scan.problems):
        raise TraceError(f"{name}: not an oomtrace file (no header and no readable block)")


def verify(path: str | os.PathLike) -> VerifyReport:
    """Check every block's frame, CRC and payload, then that the index opens and agrees with the blocks."""
    name = str(path)
    with open(path, "rb") as f:
        data = PositionalFile(f.fileno(), os.fstat(f.fileno()).st_size)
        return _verify(data, path, name)


def _verify(data: PositionalFile, path: str | os.PathLike, name: str) -> VerifyReport:
    scan = ScanResult(len(data))
    _check_header(data, name, scan)
    event_blocks = 0
    schema = CURRENT
    for offset, kind, payload in _walk(data, name, scan):
        where = f"{BLOCK_NAMES[kind]} block at offset {offset}"
        try:
            _check_payload(kind, payload, where, schema)
            if kind == META:
                schema = _meta_and_schema(payload, where)[1]
        except TraceError as e:
            scan.problems.append(Problem(offset, str(e)))
            continue
        if kind == EVENTS:
            event_blocks += 1
            scan.events += len(payload[2])
    _require_blocks(scan, name)
    if not scan.problems:
        try:
            with Trace(path) as t:
                if len(t) != scan.events or len(t._block_off) != event_blocks:
                    scan.problems.append(Problem(t._end, f"index lists {len(t)} events in {len(t._block_off)} "
                                                         f"blocks; the file holds {scan.events} in {event_blocks}"))
        except TraceError as e:
            scan.problems.append(Problem(scan.size, str(e).removeprefix(f"{name}: ")))
    return VerifyReport(name, scan)


def repair(path: str | os.PathLike, out: str | os.PathLike) -> ScanResult:
    """Write to ``out`` a trace holding every whole event block and source chunk of ``path``."""
    with open(path, "rb") as f:
        return _repair(PositionalFile(f.fileno(), os.fstat(f.fileno()).st_size), str(path), out)


def _repair(data: PositionalFile, name: str, out: str | os.PathLike) -> ScanResult:
    scan = ScanResult(len(data))
    _check_header(data, name, scan)
    meta: dict[str, Any] | None = None
    schema = CURRENT  # until the file's own says otherwise
    sources: dict[int, str] = {}
    chunks: dict[int, list[tuple[int, list[str]]]] = {}
    blocks: list[EventBlock] = []
    for offset, kind, payload in _walk(data, name, scan):
        try:
            if kind == META and meta is None:
                meta, schema = _meta_and_schema(payload, f"metadata block at offset {offset}")
            elif kind == INDEX:
                meta = dict(payload["meta"])  # the final metadata, when the index survived
            elif kind == SOURCE_FILE:
                sources[int(payload[0])] = str(payload[1])
            elif kind == SOURCE:
                chunks.setdefault(int(payload[0]), []).append((int(payload[1]), str(payload[2]).split("\n")))
            elif kind == EVENTS:
                blocks.append(EventBlock(payload, f"events block at offset {offset}", schema))
        except (TraceError, TypeError, ValueError, KeyError, IndexError) as e:
            scan.problems.append(Problem(offset, f"{BLOCK_NAMES[kind]} block: unusable ({e})"))
    _require_blocks(scan, name)
    scan.meta = meta or {}
    blocks.sort(key=lambda b: b.first_seq)
    with TraceWriter(out, meta=scan.meta) as w:
        for file_id in range(max(sources, default=-1) + 1):
            w.add_source(sources.get(file_id, f"(lost source {file_id})"))
            expected = 1
            for first, lines in sorted(chunks.get(file_id, [])):
                if first > expected:
                    w.add_source_lines(file_id, [""] * (first - expected))  # keep later line numbers right
                w.add_source_lines(file_id, lines)
                expected = first + len(lines)
        last_ts = None
        for block in blocks:
            for i in range(len(block)):
                ev = block.event(i)
                if last_ts is not None and ev.ts_ns < last_ts:
                    continue  # a stray block from before a damaged region; keep time monotonic
                last_ts = ev.ts_ns
                w.append(ev)
                scan.events += 1
    return scan


def recover(path: str | os.PathLike, tmpdir: str | os.PathLike) -> Trace:
    """Open an unfinished trace by repairing it into ``tmpdir``; the Trace says what was recovered."""
    out = Path(tmpdir) / (Path(path).name + ".recovered")
    scan = repair(path, out)
    trace = Trace(out)
    where = scan.truncated_at if scan.truncated_at is not None else scan.size
    trace.recovered = (f"{path}: the file is damaged or unfinished (at offset {where}); opened the "
                       f"{scan.events} events of its whole blocks. `oomreplay repair` writes them to a new file")
    trace.name = str(path)
    return trace


__all__ = ["Problem", "ScanResult", "TraceTruncated", "VerifyReport", "recover", "repair", "verify"]
