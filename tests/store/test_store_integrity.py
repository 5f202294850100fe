"""Integrity of the `.oomtrace` store against the damage real files suffer.

A recorder killed mid-write, a disk that flips a byte, a file from a newer oomreplay, a hostile file built to make
the reader allocate or recurse without bound: each must end in a ``TraceError`` naming the place, or in the
original data, never in a crash, another exception type, a different answer or a runaway allocation.
"""

from __future__ import annotations

import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zstandard

from oomreplay import Event, State, TraceWriter, apply, open_trace
from oomreplay import _native
from oomreplay.store import TraceError, TraceVersionError, repair, verify

from . import fileformat as fmt

HEADER_SIZE = fmt.HEADER.size
TRAILER_SIZE = fmt.TRAILER.size
#: A damaged block's payload is sampled at this stride (plus its first, middle and last byte); frames, the file
#: header, the index and the trailer are flipped at every byte.
PAYLOAD_STRIDE = 61


# -- building traces -----------------------------------------------------------------------------------------


def _incident(n: int, seed: int) -> list[Event]:
    """A seeded, well-formed incident touching every table: tasks, locks, zones, memcgs, allocations, and an
    OOM episode (invoke, candidates, kill, inferred flags, reaper, exit) every few hundred events."""
    rng = random.Random(seed)
    pids = list(range(1000, 1016))
    events: list[Event] = []
    held: dict[str, int] = {}
    ts = 1_000_000_000

    def add(kind: str, pid: int | None, fields: dict, inferred: tuple[str, ...] = ()) -> None:
        nonlocal ts
        ts += rng.randrange(1, 20_000)
        events.append(Event(ts, kind, pid, fields, src=(0, len(events) + 1), inferred=inferred))

    for pid in pids:
        add("task", pid, {"tgid": pid - pid % 4, "comm": f"worker/{pid}"})
    while len(events) < n:
        pid = rng.choice(pids)
        r = rng.random()
        if r < 0.003:
            add("oom_invoke", pid, {"gfp": "GFP_HIGHUSER_MOVABLE", "order": 0, "constraint": "CONSTRAINT_NONE"})
            for cand in rng.sample(pids, 3):
                add("oom_candidate", cand, {"tgid": cand - cand % 4, "rss_pages": rng.randrange(1 << 16)})
            victim = rng.choice(pids)
            add("oom_kill", victim, {"comm": f"worker/{victim}", "points": rng.randrange(1000), "anon_rss_kb": 4096})
            add("flag_set", victim, {"flag": "TIF_MEMDIE"}, inferred=("flag",))
            add("flag_set", victim, {"flag": "MMF_OOM_VICTIM"})
            add("reaper_wake", victim, {"comm": f"worker/{victim}"})
            add("reaper_attempt", victim, {"n": 1, "outcome": "lock_busy"})
            add("reaper_done", victim, {"outcome": "reaped", "anon_rss_kb": 0})
            add("task_exit", victim, {"code": 9})
        elif r < 0.3:
            lock = f"&mm->mmap_lock#{pid - pid % 4}"
            if lock in held:
                add("lock_release", held.pop(lock), {"lock": lock})
            else:
                held[lock] = pid
                add("lock_acquire", pid, {"lock": lock, "mode": rng.choice("rw"), "site": "do_page_fault"})
        elif r < 0.5:
            add("zone", None, {"node": 0, "zone": rng.choice(("DMA32", "Normal")), "free_kb": rng.randrange(90_000),
                               "min_kb": 4000, "lowmem_reserve_kb": [0, 1024, 2048]})
        elif r < 0.7:
            add("rss", pid, {"anon_kb": rng.randrange(1 << 20), "file_kb": rng.randrange(4096)})
        elif r < 0.8:
            add("task_state", pid, {"state": rng.choice("RSD"), "site": "__alloc_pages_slowpath"})
        elif r < 0.88:
            add("alloc", pid, {"order": rng.randrange(4), "gfp": "GFP_KERNEL", "outcome": "stall"})
        elif r < 0.95:
            add("memcg", None, {"path": f"/user.slice/{pid % 3}", "usage_kb": rng.randrange(1 << 22)})
        else:
            add("note", pid, {"text": "caf\u00e9 \u2603 " * rng.randrange(3), "vendor_extra": len(events)})
    return events[:n]


def _write_trace(path: Path, events: list[Event], tuning: dict[str, int] | None = None) -> None:
    """A trace with a stored source file, one line per event, as a converter would write it."""
    with TraceWriter(path, meta={"kernel": "6.1.0-test"}, tuning=tuning) as w:
        source = w.add_source("dmesg.txt")
        w.add_source_lines(source, (f"[{ev.ts_ns / 1e9:.6f}] {ev.kind} {ev.pid}" for ev in events))
        for ev in events:
            w.append(ev)


@dataclass
class Block:
    offset: int
    kind: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + fmt.BLOCK.size + self.length


def _blocks(data: bytes) -> list[Block]:
    """Every framed block of an intact file, walked from just after the header to the trailer."""
    blocks = []
    offset = HEADER_SIZE
    while offset < len(data) - TRAILER_SIZE:
        kind, length, _ = fmt.BLOCK.unpack_from(data, offset)
        blocks.append(Block(offset, kind, length))
        offset = blocks[-1].end
    assert offset == len(data) - TRAILER_SIZE, "the walk must land exactly on the trailer"
    return blocks


@dataclass
class Sample:
    """A trace on disk with its bytes, its layout and what it reads back as when intact."""

    path: Path
    data: bytes
    blocks: list[Block]
    events: list[Event]  # as read back, so each carries its seq

    def block_events(self, block: Block) -> int:
        """How many events an events block holds, from the intact file's index (its blocks' first seqs, in the
        file's order)."""
        events_blocks = [b.offset for b in self.blocks if b.kind == fmt.EVENTS]
        t = _native.NativeTrace(self.path)
        firsts = [*t.block_seqs, len(t)]
        t.close()
        i = events_blocks.index(block.offset)
        return firsts[i + 1] - firsts[i]


def _sample(directory: Path, n: int, seed: int, tuning: dict[str, int] | None = None) -> Sample:
    path = directory / "trace.oomtrace"
    events = _incident(n, seed)
    _write_trace(path, events, tuning)
    data = path.read_bytes()
    with open_trace(path) as t:
        stored = list(t.events())
    assert stored == events, "the intact trace must read back what was written"
    return Sample(path, data, _blocks(data), stored)


def _fold(events: list[Event]) -> State:
    """The naive definition of a state: ``apply`` over every event from the empty state."""
    state = State()
    for ev in events:
        state = apply(state, ev)
    return state


# -- 1. truncation -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """A few thousand events: several events blocks, source text, change lists, keyframes."""
    sample = _sample(tmp_path_factory.mktemp("big"), 2200, seed=1)
    assert sum(b.kind == fmt.EVENTS for b in sample.blocks) >= 3
    return sample


def _truncation_points(sample: Sample) -> list[int]:
    """Every block boundary; a cut inside the frame and in the middle of the payload of every block up to the one
    after the last events block, and of every 7th block after that (those cuts all leave every event whole, so a
    sample does); cuts inside the trailer."""
    size = len(sample.data)
    last_events = max(i for i, b in enumerate(sample.blocks) if b.kind == fmt.EVENTS)
    points = {b.offset for b in sample.blocks} | {size - TRAILER_SIZE, size - TRAILER_SIZE + 8, size - 1}
    for i, b in enumerate(sample.blocks):
        if i <= last_events + 1 or i % 7 == 0:
            points |= {b.offset + 5, b.offset + fmt.BLOCK.size + b.length // 2}
    return sorted(points)


def _whole_events_before(sample: Sample, cut: int) -> int:
    """How many events the events blocks lying wholly before ``cut`` hold: what any recovery must give back."""
    return sum(sample.block_events(b) for b in sample.blocks if b.kind == fmt.EVENTS and b.end <= cut)


@pytest.fixture(scope="module")
def truncated(big: Sample, tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """cut offset -> a copy of the big trace's first ``cut`` bytes."""
    directory = tmp_path_factory.mktemp("truncated")
    out = {}
    for cut in _truncation_points(big):
        out[cut] = directory / f"cut-{cut}.oomtrace"
        out[cut].write_bytes(big.data[:cut])
    return out


def test_truncation_points_cover_every_boundary_and_mid_block(big: Sample, truncated: dict[int, Path]) -> None:
    """Guards the sampling itself: a change in the layout must not quietly shrink what the tests below cover."""
    boundaries = {b.offset for b in big.blocks} | {len(big.data) - TRAILER_SIZE}
    assert boundaries <= truncated.keys()
    events_blocks = [b for b in big.blocks if b.kind == fmt.EVENTS]
    assert all({b.offset + 5, b.offset + fmt.BLOCK.size + b.length // 2} <= truncated.keys() for b in events_blocks)


@pytest.mark.parametrize("cut", [0, 1, 8, HEADER_SIZE - 1])
def test_truncated_inside_header_is_an_error(big: Sample, tmp_path: Path, cut: int) -> None:
    """Without a whole header there is nothing to recover: every entry point says so with a TraceError."""
    path = tmp_path / "cut.oomtrace"
    path.write_bytes(big.data[:cut])
    with pytest.raises(TraceError):
        open_trace(path)
    with pytest.raises(TraceError):
        verify(path)
    with pytest.raises(TraceError):
        repair(path, tmp_path / "out.oomtrace")


def test_truncated_opens_with_whole_blocks(big: Sample, truncated: dict[int, Path]) -> None:
    """A killed recorder's file opens, says it was recovered, and holds exactly the events of its whole blocks."""
    for cut, path in truncated.items():
        with open_trace(path) as t:
            assert t.recovered, f"cut at {cut}: opened without saying it was recovered"
            expected = big.events[:_whole_events_before(big, cut)]
            assert list(t.events()) == expected, f"cut at {cut}"


def test_truncated_verify_reports_missing_trailer(truncated: dict[int, Path]) -> None:
    """verify names the truncation, at the offset where the file ends."""
    for cut, path in truncated.items():
        report = verify(path)
        assert not report.ok, f"cut at {cut}: verify says OK"
        assert any("no trailer" in line for line in report.lines()), (cut, report.lines())
        assert cut in {p.offset for p in report.scan.problems}, (cut, report.lines())


def test_truncated_repair_writes_a_sound_trace(big: Sample, truncated: dict[int, Path], tmp_path: Path) -> None:
    """Repair keeps every whole events block, the result verifies, and its states are the naive fold of its
    events (so the keyframes it rebuilt are right)."""
    folds: dict[int, State] = {}
    for cut, path in truncated.items():
        out = tmp_path / f"repaired-{cut}.oomtrace"
        repair(path, out)
        report = verify(out)
        assert report.ok, (cut, report.lines())
        n = _whole_events_before(big, cut)
        with open_trace(out) as t:
            assert t.recovered is None
            assert list(t.events()) == big.events[:n], f"cut at {cut}"
            # the events equal the reference prefix, so folding that prefix is folding the repaired file's events
            if n not in folds:
                folds[n] = _fold(big.events[:n])
            assert t.state_at(len(t) - 1) == folds[n], f"cut at {cut}"


# -- 2. a flipped byte anywhere ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """A few hundred events: 10-40 KB, so flipping a byte at (nearly) every offset stays cheap. Blocks of 128
    events, a keyframe every 128 events with its working set, and both compression dictionaries after the first
    block or keyframe, so the flips reach blocks compressed with and without one."""
    tuning = {"block_events": 128, "dictionary_at": 1, "state_dictionary_at": 1}
    sample = _sample(tmp_path_factory.mktemp("small"), 400, seed=2, tuning=tuning)
    assert 10_000 <= len(sample.data) <= 40_000, len(sample.data)
    kinds = [b.kind for b in sample.blocks]
    assert kinds.count(fmt.DICTIONARY) == 2 and fmt.WORKSET in kinds, kinds
    assert kinds.index(fmt.DICTIONARY) < len(kinds) - 1 - kinds[::-1].index(fmt.PAGE), "no page block uses it"
    return sample


@pytest.fixture(scope="module")
def small_states(small: Sample) -> Iterator[dict[int, State]]:
    """Reference states of the intact trace: before the first event, the first, every keyframe-ish point, last.
    The trace stays open while they are used: a state's pages are read from it when first compared."""
    n = len(small.events)
    seqs = sorted({-1, 0, 1, n // 3, n // 2, n - 2, n - 1} | set(range(127, n, 128)))
    with open_trace(small.path) as t:
        yield {seq: t.state_at(seq) for seq in seqs}


def _flip_offsets(sample: Sample) -> list[int]:
    """The file header, every block's frame (type, length, CRC), a stride through each payload, every byte of
    the index, and the trailer."""
    size = len(sample.data)
    offsets = set(range(HEADER_SIZE)) | set(range(size - TRAILER_SIZE, size))
    for b in sample.blocks:
        offsets |= set(range(b.offset, b.offset + fmt.BLOCK.size))
        payload = range(b.offset + fmt.BLOCK.size, b.end)
        if not payload:
            continue
        if b.kind == fmt.INDEX:
            offsets |= set(payload)
        else:
            offsets |= {payload[0], payload[len(payload) // 2], payload[-1], *payload[::PAYLOAD_STRIDE]}
    return sorted(offsets)


def _where(sample: Sample, offset: int) -> str:
    """Which part of the file an offset is in, for failure messages."""
    size = len(sample.data)
    if offset < HEADER_SIZE:
        return "file header"
    if offset >= size - TRAILER_SIZE:
        return "trailer"
    b = next(b for b in sample.blocks if b.offset <= offset < b.end)
    part = "frame" if offset < b.offset + fmt.BLOCK.size else "payload"
    return f"{fmt.BLOCK_NAMES[b.kind]} block at {b.offset}, {part}"


def _same_or_refused(read: Callable[[], object], expected: object) -> bool:
    """Whether ``read()`` equals ``expected`` or the reader refused with a TraceError; any other exception
    propagates. The comparison is inside the ``try``: a state decodes its pages only when they are looked at."""
    try:
        return read() == expected
    except TraceError:
        return True


def _check_flipped(sample: Sample, states: dict[int, State], offset: int, path: Path) -> list[str]:
    """Everything wrong with how the store treats the sample with the byte at ``offset`` flipped."""
    data = bytearray(sample.data)
    data[offset] ^= 0xFF
    path.write_bytes(data)
    size = len(data)
    index = next(b for b in sample.blocks if b.kind == fmt.INDEX)
    read_at_open = offset < HEADER_SIZE or offset >= size - TRAILER_SIZE or index.offset <= offset < index.end
    problems = []
    try:
        trace = open_trace(path)
    except TraceError:
        trace = None
    if trace is not None:
        with trace:
            if trace.recovered and not size - TRAILER_SIZE <= offset < size - TRAILER_SIZE + 8:
                problems.append(f"opened as recovered: {trace.recovered}")
            if not trace.recovered and read_at_open:
                problems.append("opened without complaint although a byte it reads at open was flipped")
            if not _same_or_refused(lambda: list(trace.events()), sample.events):
                problems.append("events() returned different events")
            for seq, expected in states.items():
                if not _same_or_refused(lambda: trace.state_at(seq), expected):
                    problems.append(f"state_at({seq}) returned a different state")
    try:
        report = verify(path)
    except TraceError as e:
        # a damaged file header makes the file unrecognisable as a trace, which verify reports as an error
        if offset >= HEADER_SIZE or "offset" not in str(e) and "OOMTRACE header" not in str(e):
            problems.append(f"verify raised {e}")
    else:
        if report.ok:
            problems.append("verify says OK")
        elif not any("offset" in line for line in report.lines()[1:]):
            problems.append(f"verify names no offset: {report.lines()}")
    return problems


def test_flipped_byte_is_detected_and_never_misread(small: Sample, small_states: dict[int, State],
                                                   tmp_path: Path) -> None:
    path = tmp_path / "flipped.oomtrace"
    failures = []
    for offset in _flip_offsets(small):
        try:
            problems = _check_flipped(small, small_states, offset, path)
        except Exception as e:  # noqa: BLE001 - any other exception type is itself the failure being tested
            problems = [f"{type(e).__name__}: {e}"]
        failures += [f"offset {offset} ({_where(small, offset)}): {p}" for p in problems]
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])


# -- 3. a newer format version -------------------------------------------------------------------------------


def _run_cli(*args: str | os.PathLike) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def _assert_one_line_error(result: subprocess.CompletedProcess) -> None:
    """The CLI's contract for expected failures: exit 2, one line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("oomreplay: error:"), result.stderr


@pytest.fixture
def newer(small: Sample, tmp_path: Path) -> Path:
    """The small trace claiming format FORMAT_VERSION + 1, with a header CRC that checks out."""
    data = bytearray(small.data)
    struct.pack_into("<H", data, 8, fmt.FORMAT_VERSION + 1)
    struct.pack_into("<I", data, 12, zlib.crc32(bytes(data[:12])))
    path = tmp_path / "newer.oomtrace"
    path.write_bytes(data)
    return path


def test_newer_version_says_upgrade(newer: Path) -> None:
    with pytest.raises(TraceVersionError) as caught:
        open_trace(newer)
    message = str(caught.value).lower()
    assert "newer" in message and "upgrade" in message, message


def test_newer_version_cli_info(newer: Path) -> None:
    result = _run_cli("info", newer)
    _assert_one_line_error(result)
    assert "newer" in result.stderr.lower()


FORMAT1 = Path(__file__).parents[1] / "data" / "format1-memcg-6.18-reaped.oomtrace"


def test_a_file_written_before_later_tables_and_fields_still_reads(tmp_path: Path) -> None:
    """tests/data/format1-*.oomtrace was written before the state gained a table (meminfo) and trailing record
    fields (an OOM's outcome): it must read by table name, the new table empty and the new fields at their
    defaults, with the same tasks and victims as the log converted today."""
    from oomreplay.ingest.convert import convert

    old = open_trace(FORMAT1)
    assert verify(FORMAT1).ok
    fresh_path = tmp_path / "fresh.oomtrace"
    convert([str(Path(__file__).parents[2] / "traces" / "memcg-6.18-reaped.log")], fresh_path)
    fresh = open_trace(fresh_path)
    before, now = old.state_at(len(old) - 1), fresh.state_at(len(fresh) - 1)
    assert len(before.meminfo) == 0
    assert dict(before.tasks.items()) == dict(now.tasks.items()) and len(before.tasks) > 0
    # the reaper's rounds were counted later (issue 18): the old file has them at their defaults, the rest agrees
    later = ("rounds", "unseen", "implied", "marked")
    assert all(getattr(v, f) == type(v)._field_defaults[f] for v in before.victims.values() for f in later)
    assert {p: v._replace(**{f: getattr(now.victims[p], f) for f in later}) for p, v in before.victims.items()} == \
        dict(now.victims.items()) and len(before.victims) == 1
    assert [o.victims for o in before.ooms.values()] == [o.victims for o in now.ooms.values()]
    assert all(o.outcome is None for o in before.ooms.values())
    for seq in range(-1, len(old)):  # every keyframe and replay in between decodes
        old.state_at(seq).tasks.items()


# -- 4. hostile msgpack --------------------------------------------------------------------------------------


def _index_only_file(path: Path, block: bytes) -> Path:
    """A file whose only block is ``block`` at offset 16, with the trailer pointing at it as the index."""
    path.write_bytes(fmt.header_bytes() + block + fmt.trailer_bytes(HEADER_SIZE))
    return path


def _lying_length_block(payload: bytes, length: int) -> bytes:
    """An index block declaring ``length`` bytes but holding ``payload``, its CRC computed over what it says."""
    head = struct.pack("<BI", fmt.INDEX, length)
    return head + struct.pack("<I", fmt.crc(head, payload)) + payload


def _zstd_frame_claiming(size: int, data: bytes) -> bytes:
    """A zstd frame whose header claims ``size`` bytes of content but which holds one raw block of ``data``."""
    header = fmt.ZSTD_MAGIC + bytes([0xE0]) + struct.pack("<Q", size)  # single segment, 8-byte content size
    block = struct.pack("<I", 1 | len(data) << 3)[:3]  # the last block, raw
    return header + block + data


HOSTILE_INDEXES = {
    "array of 2**32-1 elements": fmt.frame(fmt.INDEX, fmt.compress(b"\xdd\xff\xff\xff\xff")),
    "map of 2**32-1 entries": fmt.frame(fmt.INDEX, fmt.compress(b"\xdf\xff\xff\xff\xff")),
    "100000 nested arrays": fmt.frame(fmt.INDEX, fmt.compress(b"\x91" * 100_000 + b"\xc0")),
    "length past the file end": _lying_length_block(fmt.compress(fmt.pack({})), 1000),
    "length of 4 GiB": _lying_length_block(fmt.compress(fmt.pack({})), 2**32 - 1),
    "zstd frame claiming 4 GiB": fmt.frame(fmt.INDEX, _zstd_frame_claiming(2**32, fmt.pack({}))),
    "zstd frame claiming 100 MiB from 1 byte": fmt.frame(fmt.INDEX, _zstd_frame_claiming(100 << 20, fmt.pack({}))),
    "zstd frame with no content size": fmt.frame(fmt.INDEX, fmt.ZSTD_MAGIC + b"\x00\x00\x01\x00\x00"),
    "zstd frame cut short": fmt.frame(fmt.INDEX, fmt.compress(fmt.pack({"a": list(range(100))}))[:-4]),
}


@pytest.mark.parametrize("block", HOSTILE_INDEXES.values(), ids=HOSTILE_INDEXES.keys())
def test_hostile_index_is_refused_promptly(tmp_path: Path, block: bytes) -> None:
    path = _index_only_file(tmp_path / "hostile.oomtrace", block)
    start = time.monotonic()
    with pytest.raises(TraceError, match="offset 16"):
        open_trace(path)
    assert time.monotonic() - start < 2


_MEASURE_OPEN = """
import resource, sys, time
from oomreplay import open_trace
from oomreplay.store import TraceError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    open_trace(sys.argv[1])
    outcome = "opened"
except TraceError as e:
    outcome = "TraceError: " + str(e)
grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown_kb, time.monotonic() - start, outcome)
"""


def _compressed_zeros(n: int, codec: str) -> bytes:
    """``n`` zero bytes compressed with zlib (format 1) or zstd (its header saying ``n``), a MiB at a time so this
    process never holds the zeros."""
    z = zlib.compressobj(6) if codec == "zlib" else zstandard.ZstdCompressor().compressobj(size=n)
    chunk = bytes(1 << 20)
    return b"".join([z.compress(chunk) for _ in range(n >> 20)] + [z.flush()])


@pytest.mark.parametrize("codec", ["zlib", "zstd"])
@pytest.mark.parametrize("inflated_mib", [200, 300], ids=["under the inflate cap", "over the inflate cap"])
def test_compression_bomb_index_is_refused_without_exploding(tmp_path: Path, inflated_mib: int, codec: str) -> None:
    """Measured in a child interpreter so the peak is the reader's alone."""
    path = _index_only_file(tmp_path / "bomb.oomtrace",
                            fmt.frame(fmt.INDEX, _compressed_zeros(inflated_mib << 20, codec)))
    result = subprocess.run([sys.executable, "-c", _MEASURE_OPEN, str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    grown_kb, seconds, outcome = result.stdout.split(" ", 2)
    assert outcome.startswith("TraceError:") and "offset 16" in outcome, outcome
    if inflated_mib << 20 > fmt.MAX_INFLATED:
        assert f"{fmt.MAX_INFLATED >> 20} MiB" in outcome, "refused by the inflate cap, not after inflating it all"
    assert int(grown_kb) < 1 << 20, f"peak memory grew by {int(grown_kb) >> 10} MiB"
    assert float(seconds) < 20


# -- 5. a writer that never finishes -------------------------------------------------------------------------


_WRITE_FOREVER = """
import sys
from oomreplay import Event, TraceWriter
w = TraceWriter(sys.argv[1])
n = 0
while True:
    w.append(Event(n, "rss", 1000 + n % 50, {"anon_kb": n}))
    n += 1
    if n == 5000:
        print("ready", flush=True)
"""


def test_killed_writer_leaves_no_final_file(tmp_path: Path) -> None:
    target = tmp_path / "out.oomtrace"
    proc = subprocess.Popen([sys.executable, "-c", _WRITE_FOREVER, str(target)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()
    assert not target.exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert all(re.fullmatch(r"\.out\.oomtrace\.\d+\.(state\.)?partial", name) for name in leftovers), leftovers


def _tracker_threads() -> set[int]:
    """This process's threads running a parallel writer's state machine, from /proc (the core names them)."""
    found = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().strip().startswith("oomreplay-track"):
                found.add(int(task.name))
        except OSError:
            continue
    return found


class Boom(Exception):
    pass


def test_exception_in_writer_leaves_no_files(tmp_path: Path) -> None:
    events = _incident(3000, seed=3)
    with pytest.raises(Boom):
        with TraceWriter(tmp_path / "out.oomtrace") as w:
            w.extend(events)
            raise Boom
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the writer's threads through /proc")
def test_exception_in_parallel_writer_leaves_no_files_or_worker(tmp_path: Path) -> None:
    events = _incident(3000, seed=3)
    before = _tracker_threads()
    with pytest.raises(Boom):
        with TraceWriter(tmp_path / "out.oomtrace", parallel=True) as w:
            w.extend(events)
            workers = _tracker_threads() - before
            assert workers, "the parallel writer should be running its state machine on a thread"
            raise Boom
    assert list(tmp_path.iterdir()) == []
    assert not _tracker_threads() & workers


# -- 6. the command line -------------------------------------------------------------------------------------


@pytest.fixture
def damaged(small: Sample, tmp_path: Path) -> tuple[Path, Block]:
    """The small trace with a byte flipped in the middle of its first events block."""
    block = next(b for b in small.blocks if b.kind == fmt.EVENTS)
    data = bytearray(small.data)
    data[block.offset + fmt.BLOCK.size + block.length // 2] ^= 0xFF
    path = tmp_path / "damaged.oomtrace"
    path.write_bytes(data)
    return path, block


def test_cli_verify_damaged_names_offset(damaged: tuple[Path, Block]) -> None:
    path, block = damaged
    result = _run_cli("verify", path)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert f"offset {block.offset}" in result.stdout, result.stdout


def test_cli_verify_good_says_ok(small: Sample) -> None:
    result = _run_cli("verify", small.path)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "OK" in result.stdout


def test_cli_repair_writes_a_trace_that_verifies(damaged: tuple[Path, Block], tmp_path: Path) -> None:
    path, _ = damaged
    out = tmp_path / "fixed.oomtrace"
    result = _run_cli("repair", path, "-o", out)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert verify(out).ok, verify(out).lines()


def test_cli_info_on_text_file_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Out of memory: Killed process 3163 (java)\n" * 10)
    _assert_one_line_error(_run_cli("info", path))
