"""Blocks moved whole (issue 23): every frame and CRC is intact, so only checking each index entry against the
block it points at finds them. ``verify`` names the offset; ``repair`` recovers every event and says what it
put right. And a ``convert`` killed with SIGKILL leaves temporaries the next conversion to the name removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.store import verify

from . import fileformat as fmt
from .test_store_integrity import Block, _blocks, _incident, _run_cli, _write_trace

#: small blocks and an early dictionary: several events blocks and a dictionary block in a small trace
TUNING = {"block_events": 64, "dictionary_at": 2}


@pytest.fixture(scope="module")
def intact(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[Block]]:
    path = tmp_path_factory.mktemp("swaps") / "t.oomtrace"
    _write_trace(path, _incident(800, seed=5), TUNING)
    assert verify(path).ok
    data = path.read_bytes()
    return data, _blocks(data)


def _swapped(data: bytes, a: Block, b: Block) -> bytes:
    """``a`` and ``b`` exchanged in place, what lies between them kept."""
    a, b = sorted((a, b), key=lambda x: x.offset)
    return (data[:a.offset] + data[b.offset:b.end] + data[a.end:b.offset] + data[a.offset:a.end] + data[b.end:])


def _pick(blocks: list[Block], which: str) -> tuple[Block, Block]:
    events = [b for b in blocks if b.kind == fmt.EVENTS]
    if which == "two events blocks":
        return events[1], events[2]
    if which == "an events block and the dictionary":
        dictionary = next(b for b in blocks if b.kind == fmt.DICTIONARY)
        return dictionary, next(b for b in events if b.offset > dictionary.offset)
    meta = next(b for b in blocks if b.kind == fmt.META)
    return meta, events[0]


@pytest.mark.parametrize("which", ["two events blocks", "an events block and the dictionary",
                                   "the meta block and an events block"])
def test_verify_finds_a_swap_and_repair_recovers_every_event(intact: tuple[bytes, list[Block]], which: str,
                                                              tmp_path: Path) -> None:
    data, blocks = intact
    a, b = _pick(blocks, which)
    path = tmp_path / "swapped.oomtrace"
    path.write_bytes(_swapped(data, a, b))
    report = verify(path)
    assert not report.ok, report.lines()
    # the first of the two places is named: the index (or the header) expected another block there
    first = min(a.offset, b.offset)
    assert any(p.offset == first for p in report.scan.problems), report.lines()
    result = _run_cli("verify", path)
    assert result.returncode == 1 and f"offset {first}:" in result.stdout, result.stdout
    out = tmp_path / "fixed.oomtrace"
    result = _run_cli("repair", path, "-o", out)
    assert result.returncode == 0, result.stderr
    assert verify(out).ok
    with open_trace(out) as t:
        assert len(t) == 800
    if which != "an events block and the dictionary":  # moving the dictionary changes no order to report
        assert "fixed:" in result.stdout, result.stdout


_BIG_LOG_LINES = 400_000


def _partials(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def test_a_killed_convert_leaves_temporaries_the_next_one_removes(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    with log.open("w") as f:
        for i in range(_BIG_LOG_LINES):
            f.write(f"[{1 + i / 1e4:12.6f}] chatter line {i} from a driver\n")
    target = tmp_path / "out.oomtrace"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([sys.executable, "-m", "oomreplay", "convert", str(log), "-o", str(target)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not an assert on speed
        while not _partials(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the conversion ended before it could be killed: make the input larger"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
    assert not target.exists()
    left = _partials(tmp_path)
    assert left and all(f".out.oomtrace.{proc.pid}." in name for name in left), left
    small = tmp_path / "small.log"
    small.write_text("[    1.000000] hello\n")
    result = _run_cli("convert", small, "-o", target)
    assert result.returncode == 0, result.stderr
    assert _partials(tmp_path) == []
    assert verify(target).ok
