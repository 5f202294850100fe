"""The regression corpus (tests/data/fuzz/): each minimal crasher a fuzzing campaign found (issue 23), written
as one small file, through ``oomreplay convert`` and the reader. Each ends in a trace whose every line is kept
(as structured events or as a ``log`` event) or in one line naming the file and exit 2; never a traceback.
Add a file here for every new crasher."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace

CORPUS = Path(__file__).parents[1] / "data" / "fuzz"
#: crashers still open (none: the ftrace sniffing is the core's, and the scenario compiler checks its numbers)
OPEN: set[str] = set()
REPO = Path(__file__).parents[2]


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


@pytest.mark.parametrize("case", [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason="issue 23: open in Python ingest"))
                                  if p.name in OPEN else p for p in sorted(CORPUS.iterdir())], ids=lambda p: p.name)
def test_a_crasher_converts_or_is_one_line(case: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.oomtrace"
    result = _cli("convert", case, "-o", out)
    assert "Traceback" not in result.stderr, result.stderr
    if result.returncode == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and str(case) in lines[0], result.stderr
        assert not out.exists()
        return
    assert result.returncode == 0, result.stderr
    lines = case.read_text(encoding="utf-8", errors="replace").splitlines()
    with open_trace(out) as t:
        events = list(t.events())
        covered = {ev.src.line for ev in events if ev.src is not None}
        assert covered == set(range(1, len(lines) + 1)), "every line is an event or a log event"
        if len(t):
            t.state_at(len(t) - 1)
    for command in (["events", out], ["state", out, "--seq", "0"], ["info", out]):
        result = _cli(*command)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (command, result.stderr)
