"""A binary ``trace.dat``: recognised by its magic bytes, rendered through ``trace-cmd report`` and converted
exactly as its report text is; without trace-cmd, or from a damaged file, one line naming the file and exit 2,
and no output file. The trace-cmd tests skip, saying so, where trace-cmd is not installed (CI does not need it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import ConvertError, convert, tracedat

from ..conftest import CORPUS

RECORDING = CORPUS / "recorded" / "007_tracecmd_reaper_dio"
DAT, REPORT = RECORDING / "trace.dat", RECORDING / "trace-cmd-report.txt"
needs_trace_cmd = pytest.mark.skipif(shutil.which("trace-cmd") is None,
                                     reason="trace-cmd is not installed (apt-get install trace-cmd)")
needs_dat = pytest.mark.skipif(not DAT.is_file(), reason=f"the corpus's trace.dat is not at {DAT}")


def _events(path: Path) -> list[tuple]:
    with open_trace(path) as trace:
        return [(e.ts_ns, e.kind, e.pid, e.fields, e.src) for e in trace.events(0, len(trace))]


@needs_trace_cmd
@needs_dat
def test_trace_dat_converts_as_its_report(tmp_path: Path):
    report = convert([str(DAT)], tmp_path / "dat.oomtrace")
    convert([str(REPORT)], tmp_path / "txt.oomtrace")
    assert report.warnings == [] and report.sources[0].lines == len(REPORT.read_text().splitlines())
    dat, txt = _events(tmp_path / "dat.oomtrace"), _events(tmp_path / "txt.oomtrace")
    assert dat == txt
    assert [k for _, k, *_ in dat].count("oom_kill") == 1


@needs_trace_cmd
@needs_dat
def test_trace_dat_from_stdin(tmp_path: Path):
    out = tmp_path / "t.oomtrace"
    with open(DAT, "rb") as f:
        done = subprocess.run([sys.executable, "-m", "oomreplay", "convert", "-", "-o", str(out)], stdin=f,
                              capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open_trace(out) as trace:
        assert len(list(trace.events(kind="oom_kill"))) == 1


@needs_trace_cmd
def test_a_truncated_trace_dat_is_one_line(tmp_path: Path):
    bad = tmp_path / "cut.dat"
    bad.write_bytes(tracedat.MAGIC + b"6\x00" + b"\x00" * 64)
    out = tmp_path / "t.oomtrace"
    done = subprocess.run([sys.executable, "-m", "oomreplay", "convert", str(bad), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and str(bad) in done.stderr and "trace-cmd report failed" in done.stderr
    assert "Traceback" not in done.stderr and not out.exists()
    assert not list(tmp_path.glob(".*partial"))


def test_without_trace_cmd_the_user_is_told(tmp_path: Path, monkeypatch):
    dat = tmp_path / "trace.dat"
    dat.write_bytes(tracedat.MAGIC + b"7\x00" + b"\x00" * 64)
    monkeypatch.setattr(tracedat.shutil, "which", lambda name: None)
    with pytest.raises(ConvertError) as e:
        convert([str(dat)], tmp_path / "t.oomtrace")
    assert str(e.value).startswith(f"{dat}: a trace-cmd trace.dat; rendering it needs trace-cmd, which is not "
                                   "installed")
    assert "\n" not in str(e.value) and not (tmp_path / "t.oomtrace").exists()


def test_magic_bytes():
    assert tracedat.is_trace_dat(b"\x17\x08Dtracing6\x00")
    assert not tracedat.is_trace_dat(b"# tracer: nop\n")
    assert not tracedat.is_trace_dat(b"\x1f\x8b\x08\x00")
