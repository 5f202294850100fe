"""The progress line of a long conversion: drawn on a terminal only, with the share of the input read."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay._util import progress as progress_module
from oomreplay.ingest import convert
from oomreplay._util.progress import ProgressLine
from ..conftest import SEED_LOG



def test_the_line_is_redrawn_at_most_ten_times_a_second_and_erased(monkeypatch: pytest.MonkeyPatch):
    now = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    out = io.StringIO()
    p = ProgressLine("converting", 4_000_000, out)
    p(1_000_000)
    assert out.getvalue() == ""  # too soon
    now[0] += 0.5
    p(1_000_000)
    assert out.getvalue() == "\rconverting: 2.0 MB  50 %, 4.0 MB/s\x1b[K"
    now[0] += 0.5
    p(3_000_000)  # more than the file: a compressed input; no percentage then
    assert out.getvalue().endswith("\rconverting: 5.0 MB, 5.0 MB/s\x1b[K")
    p.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_convert_reports_every_character_it_reads(tmp_path: Path):
    seen: list[int] = []
    convert([str(SEED_LOG)], tmp_path / "t.oomtrace", progress=seen.append)
    text = SEED_LOG.read_text()
    assert sum(seen) == len(text) and len(seen) >= 1


def test_the_cli_draws_it_on_a_terminal_only(tmp_path: Path):
    big = tmp_path / "big.log"
    big.write_text(SEED_LOG.read_text() * 6000)  # 21 MB: long enough to be redrawn at least once (0.1 s apart)
    master, slave = os.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "oomreplay", "convert", str(big), "-o", str(tmp_path / "a.oomtrace")],
                           stdout=subprocess.PIPE, stderr=slave, timeout=120)
        os.close(slave)
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
    assert r.returncode == 0 and b"converting:" in shown and b" %" in shown
    piped = subprocess.run([sys.executable, "-m", "oomreplay", "convert", str(big), "-o", str(tmp_path / "b.oomtrace")],
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and "converting" not in piped.stderr
