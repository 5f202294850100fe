"""``oomreplay convert`` as a user runs it, on good and on hostile input: exit codes, one-line errors, no hang."""

from __future__ import annotations

import bz2
import gzip
import lzma
import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace

REPORT = b"""[  493.787997] Out of memory: Kill process 3163 (a.out) score 739 or sacrifice child
[  493.791708] Killed process 3163 (a.out) total-vm:4268108kB, anon-rss:2754236kB, file-rss:0kB, shmem-rss:0kB
[  494.838382] oom_reaper: unable to reap pid:3163 (a.out)
"""


def convert(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", "convert", *args], input=stdin,
                          capture_output=True, timeout=120)


def kills(path: Path) -> list[tuple[int, str]]:
    with open_trace(path) as t:
        return [(e.pid, e.get("comm")) for e in t.events(kind="oom_kill")]


@pytest.mark.parametrize("pack", [lambda b: b, gzip.compress, lzma.compress, bz2.compress],
                         ids=["plain", "gzip", "xz", "bzip2"])
def test_compressed_inputs_by_content(tmp_path: Path, pack):
    src = tmp_path / "dmesg.log"  # no telling suffix: the content decides
    src.write_bytes(pack(REPORT))
    r = convert(str(src), "-o", str(tmp_path / "t.oomtrace"))
    assert r.returncode == 0, r.stderr
    assert kills(tmp_path / "t.oomtrace") == [(3163, "a.out")]


def test_stdin_and_report(tmp_path: Path):
    r = convert("-", "-o", str(tmp_path / "t.oomtrace"), "--report", stdin=REPORT)
    assert r.returncode == 0, r.stderr
    assert b"<stdin>: 3 lines, clock printk" in r.stdout and b"oom_kill" in r.stdout


def test_several_inputs_merge_by_time(tmp_path: Path):
    (tmp_path / "a").write_bytes(b"[    1.000000] one\n[    3.000000] three\n")
    (tmp_path / "b").write_bytes(b"[    2.000000] two\n")
    r = convert(str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "t.oomtrace"))
    assert r.returncode == 0, r.stderr
    with open_trace(tmp_path / "t.oomtrace") as t:
        assert [e.get("text") for e in t.events()] == ["one", "two", "three"]
        assert [name for name, _ in t.sources] == [str(tmp_path / "a"), str(tmp_path / "b")]


@pytest.mark.parametrize("data", [
    bytes(range(256)) * 64,                                  # binary junk
    b"\x00\x00\x00abc\x00\n\x00\n",                          # NUL bytes
    b"\xff\xfe\xc3\x28 invalid utf-8 \xed\xa0\x80\n" + REPORT,
    REPORT.replace(b"\n", b"\r\n"),                          # CRLF
    b"x" * (10 << 20) + b"\n" + REPORT,                       # a 10 MB line
    b"[    1.000000] eth0: link up\n[    2.000000] usb 1-1: new device\n",  # no OOM in it
], ids=["binary", "nul", "utf8", "crlf", "10mb-line", "no-oom"])
def test_hostile_input_converts_without_traceback(tmp_path: Path, data: bytes):
    src = tmp_path / "in.log"
    src.write_bytes(data)
    r = convert(str(src), "-o", str(tmp_path / "t.oomtrace"))
    assert r.returncode == 0, r.stderr
    assert b"Traceback" not in r.stderr
    with open_trace(tmp_path / "t.oomtrace") as t:
        assert t.sources[0][1] == data.count(b"\n") + (not data.endswith(b"\n"))
    if b"Killed process" in data:
        assert kills(tmp_path / "t.oomtrace") == [(3163, "a.out")]
    else:
        assert b"warning" in r.stderr and b"no OOM report found" in r.stderr


def test_crlf_is_not_kept_in_the_text(tmp_path: Path):
    src = tmp_path / "in.log"
    src.write_bytes(REPORT.replace(b"\n", b"\r\n"))
    assert convert(str(src), "-o", str(tmp_path / "t.oomtrace")).returncode == 0
    with open_trace(tmp_path / "t.oomtrace") as t:
        assert not any("\r" in line for line in t.source_lines(1, 3))


@pytest.mark.parametrize("setup, needle", [
    (lambda d: d / "missing.log", b"missing.log"),
    (lambda d: (d / "empty.log").write_bytes(b"") and d / "empty.log" or d / "empty.log", b"empty input"),
    (lambda d: (d / "bad.gz").write_bytes(gzip.compress(REPORT * 50)[:120]) and d / "bad.gz" or d / "bad.gz",
     b"damaged gzip data"),
], ids=["missing", "empty", "truncated-gzip"])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, setup, needle: bytes):
    src = setup(tmp_path)
    out = tmp_path / "t.oomtrace"
    r = convert(str(src), "-o", str(out))
    assert r.returncode == 2
    assert r.stderr.count(b"\n") == 1 and needle in r.stderr and b"Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".*partial")), "no half-written trace is left"


def test_unknown_format_is_refused(tmp_path: Path):
    r = convert("-", "-o", str(tmp_path / "t.oomtrace"), "--format", "nope", stdin=REPORT)
    assert r.returncode == 2 and b"Traceback" not in r.stderr


def test_a_state_worker_that_dies_is_one_line_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A large input's state machine runs in a worker process; if that dies (the OOM killer, a full disk), the
    conversion fails with one line naming the output and how the worker ended, and leaves no file behind."""
    import importlib

    from oomreplay.ingest import ConvertError
    from oomreplay.ingest import convert as convert_api
    from oomreplay.store import tracker

    monkeypatch.setattr(importlib.import_module("oomreplay.ingest.convert"), "PARALLEL_FROM_BYTES", 1)
    real_feed = tracker.ParallelTracker.feed

    def feed_after_a_kill(self, payload, packed):
        self._proc.kill()
        self._proc.wait()
        real_feed(self, payload, packed)

    monkeypatch.setattr(tracker.ParallelTracker, "feed", feed_after_a_kill)
    log = tmp_path / "big.log"
    log.write_bytes(REPORT + b"".join(b"[  495.%06d] usb 1-1: chatter\n" % i for i in range(2000)))
    out = tmp_path / "out.oomtrace"
    with pytest.raises(ConvertError) as failure:
        convert_api([str(log)], out)
    assert str(failure.value) == f"{out}: the trace writer's state worker failed: killed by signal 9"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.log"]
