"""``story A --against B``: the differences with another incident as chapters (the verdict first), written by
``write_story`` with a screenshot function standing in for the TUI, and by the command with the real one."""

from __future__ import annotations

import os
from pathlib import Path

from oomreplay import open_trace
from oomreplay.analysis.diff import compare
from oomreplay.export.diff import chapters
from oomreplay.export.story import write_story

from ..analysis.difftraces import S, episode, written
from ..commands import cli

HOSTILE = "<img src=x>*web*"


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    a = written(tmp_path / "a.oomtrace", episode(S, (10, "java"), (20, HOSTILE), reaped=False))
    b = written(tmp_path / "b.oomtrace", episode(S, (10, "java"), (20, HOSTILE)) +
                episode(2 * S, (10, "java"), (30, "db")))
    return a, b


def test_differences_become_chapters(tmp_path: Path):
    a, b = _pair(tmp_path)
    with open_trace(a) as ta, open_trace(b) as tb:
        d = compare(ta, tb)
        told = chapters(d, ta)
        reported = d.differences()
    # A: web's reaper gives up; B: web is reaped, then a second OOM kills db. The differences: web's attempts
    # (10 lock_busy against 1 reaped) and its outcome, each at its step in A; B's second OOM (its invocation, the
    # kill of db, the reaper's wake, attempt and outcome) all where it would be in A: after A's last step, web's
    # reaper outcome, so merged into that chapter (a presenter's cursor stops at each place once).
    assert len(reported) == 7 and all(ch.origin == "difference" for ch in told)
    assert told[0].note.startswith("**Verdict.** A: the reaper gave up on \\<img src=x\\>\\*web\\*")
    titles = [ch.title for ch in told]
    assert titles == ["Differs: reaper attempts (<img src=x>*web*)",
                      "Differs: reaper done (<img src=x>*web*) (and 5 more differences)"]
    assert "- outcome: A unable, B reaped" in told[1].note
    assert "Only in B: kill (db):" in told[1].note
    assert len({ch.seq for ch in told}) == len(told) and [ch.seq for ch in told] == sorted(ch.seq for ch in told)

    shots: list[list[int]] = []

    def shoot(path, seqs, size, notes_for):
        shots.append(list(seqs))
        return ["<svg xmlns='http://www.w3.org/2000/svg'></svg>"] * len(seqs)

    with open_trace(b) as tb:
        result = write_story(a, tmp_path / "story", shoot, told=lambda t: chapters(compare(t, tb), t))
    assert shots == [[ch.seq for ch in told]] and len(result.chapters) == len(told)
    md = (tmp_path / "story" / "index.md").read_text(encoding="utf-8")
    assert "(and 5 more differences)" in md and "Only in B: kill (db):" in md
    assert "<img" not in md.replace("\\<img", "")


def test_story_against_command(tmp_path: Path):
    a, b = _pair(tmp_path)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    r = cli("story", str(a), "--against", str(b), "-o", str(tmp_path / "out"), "--size", "80x24", env=env)
    assert r.returncode == 0, r.stderr
    assert "chapters (from difference)" in r.stdout
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "Only in B: kill (db)" in html and "<img src=x>" not in html  # the note, rendered
    r = cli("story", str(a), "--against", str(tmp_path / "missing"), "-o", str(tmp_path / "o2"), env=env)
    assert r.returncode == 2 and "missing: no such file" in r.stderr
