"""`oomreplay replay LOG`: a log is converted once, into a cache keyed by its content and the converter's code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.cli.common import UserError, trace_for
from oomreplay.ingest import convert
from oomreplay.ingest.cache import cached_trace, content_key
from oomreplay.store import is_trace
from ..conftest import SEED_LOG



@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "oomreplay"


def test_a_log_is_converted_once_then_found(tmp_path: Path, cache_home: Path):
    log = tmp_path / "dmesg.txt"
    log.write_bytes(SEED_LOG.read_bytes())
    calls = []

    def conv(source: Path, target: Path) -> None:
        calls.append(source)
        convert([str(source)], target)

    first, made = cached_trace(log, conv)
    again, made_again = cached_trace(log, conv)
    assert (made, made_again) == (True, False) and first == again and calls == [log]
    assert first.parent == cache_home and is_trace(first) and not is_trace(log)
    with open_trace(first) as t:
        assert t.next(-1, kind="oom_kill") is not None
    log.write_bytes(SEED_LOG.read_bytes() + b"[  500.000000] one more line\n")
    other, made = cached_trace(log, conv)
    assert made and other != first  # new content, new entry


def test_trace_for_passes_traces_through_and_reports_bad_logs(tmp_path: Path, cache_home: Path):
    trace = tmp_path / "t.oomtrace"
    convert([str(SEED_LOG)], trace)
    assert trace_for(trace) == trace and not cache_home.exists()
    assert open_trace(trace_for(SEED_LOG)).meta == open_trace(trace).meta
    empty = tmp_path / "empty.log"
    empty.write_text("")
    with pytest.raises(UserError, match="empty.log"):
        trace_for(empty)
    assert [p.suffix for p in cache_home.iterdir()] == [".oomtrace"]  # the seed's; nothing left of the empty one


def test_the_key_is_the_content_not_the_name(tmp_path: Path):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(SEED_LOG.read_bytes())
    b.write_bytes(SEED_LOG.read_bytes())
    assert content_key(a) == content_key(b)
    b.write_bytes(SEED_LOG.read_bytes()[:-2])
    assert content_key(a) != content_key(b)


def test_replay_refuses_seq_and_at_together(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "oomreplay", "replay", str(SEED_LOG), "--seq", "3", "--at", "1.5"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.strip() == "oomreplay: error: give --seq or --at, not both"
