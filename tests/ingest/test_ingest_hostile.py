"""``oomreplay convert`` as a user runs it, on good and on hostile input: exit codes, one-line errors, no hang."""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace

from ..conftest import REPO

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
    REPORT[:200] + b"\x00" * 4096 + b"\n" + REPORT[200:],   # a syslog written across a crash: NULs kept
    b"\xff\xfe\xc3\x28 invalid utf-8 \xed\xa0\x80\n" + REPORT,
    REPORT.replace(b"\n", b"\r\n"),                          # CRLF
    b"x" * (10 << 20) + b"\n" + REPORT,                       # a 10 MB line
    b"[    1.000000] eth0: link up\n[    2.000000] usb 1-1: new device\n",  # no OOM in it
], ids=["crash-nuls", "utf8", "crlf", "10mb-line", "no-oom"])
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


_CONVERT_UNDER_A_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]), int(sys.argv[3])))
from oomreplay.cli import main
sys.argv = ["oomreplay", "convert", sys.argv[1], "-o", sys.argv[2]]
main()
"""


@pytest.mark.parametrize("limit", [4096, 64 << 10])
def test_a_write_that_fails_midway_is_one_line_and_leaves_nothing(tmp_path: Path, limit: int):
    """The disk fills up while the trace is written (here a file-size limit: the write fails with EFBIG): the
    conversion fails with one line naming the output, exit 2, and leaves no file behind, partial or final."""
    log = tmp_path / "big.log"
    log.write_bytes(REPORT + b"".join(b"[  495.%06d] usb 1-1: chatter number %d\n" % (i, i) for i in range(20000)))
    out = tmp_path / "out.oomtrace"
    r = subprocess.run([sys.executable, "-c", _CONVERT_UNDER_A_SIZE_LIMIT, str(log), str(out), str(limit)],
                       capture_output=True)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and b"Traceback" not in r.stderr, r.stderr
    assert str(out).encode() in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.log"]


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + bytes(range(256)) * 16


@pytest.mark.parametrize("data", [
    ELF,                                                     # convert /bin/ls
    gzip.compress(ELF),                                      # compressed, the content still tells
    bytes(range(256)) * 64,                                  # binary junk
    b"\x00\x00\x00abc\x00\n\x00\n",                          # NUL bytes from the start
    "[    1.000000] Killed process 5 (a)\n".encode("utf-16-le"),  # UTF-16: not a kernel log's encoding
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(1, 32)) * 40 + b"\x00" * 8,  # text-like first line
], ids=["elf", "gzip-elf", "junk", "nul", "utf16", "png"])
def test_input_that_is_not_text_is_refused(tmp_path: Path, data: bytes):
    """A log never holds NUL bytes where it starts: ``convert /bin/ls`` made a trace of junk "log" lines."""
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    out = tmp_path / "t.oomtrace"
    r = convert(str(src), "-o", str(out))
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert r.stderr.count(b"\n") == 1 and str(src).encode() in r.stderr and b"not a text log" in r.stderr
    assert not out.exists()


def test_stdout_is_no_place_for_a_trace(tmp_path: Path):
    """``convert - -o -`` wrote a file named ``-``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "oomreplay", "convert", "-", "-o", "-"], input=REPORT,
                       capture_output=True, timeout=120, cwd=tmp_path, env=env)  # the checkout, run elsewhere
    assert r.returncode == 2 and r.stderr.count(b"\n") == 1 and b"-o -" in r.stderr
    assert not (tmp_path / "-").exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("kind,text", [
    ("log", b"[    1.000000] a\n[99999999999.900000] Out of memory: Killed process 3163 (a.out)\n[    2.000000] b\n"),
    ("ftrace", b"# tracer: nop\n#\n           a.out-3163    [001] .....   493.791708: mark_victim: pid=3163\n"
               b"           a.out-3163    [001] .....   99999999999999.791708: mark_victim: pid=3163\n"),
])
def test_a_time_past_the_trace_is_kept_as_text_and_named(tmp_path: Path, kind: str, text: bytes):
    src = tmp_path / "in.txt"
    src.write_bytes(text)
    r = convert(str(src), "-o", str(tmp_path / "t.oomtrace"))
    assert r.returncode == 0, r.stderr
    line = 2 if kind == "log" else 4
    assert f"{src}: 1 line(s) hold a number too large to keep (first at line {line}); kept as text".encode() \
        in r.stderr
    with open_trace(tmp_path / "t.oomtrace") as t:
        kept = [e.get("text") for e in t.events(kind="log")]
    assert text.decode().splitlines()[line - 1] in kept
