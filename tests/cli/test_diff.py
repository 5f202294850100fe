"""``oomreplay diff`` as a user runs it: exit status as diff(1), the report's parts in order, logs converted
through the cache, hostile names printed as text, Markdown escaped, JSON that parses."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from ..analysis.difftraces import S, episode, written
from ..commands import cli
from ..conftest import corpus_file

HOSTILE = "\x1b]0;pwned\x07[bold]x[/]<img src=x>|"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A private conversion cache, so a test neither reads nor fills the user's."""
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """A: the reaper gives up on a victim with a hostile name; B: the same victim is reaped, and a second OOM
    kills another task."""
    a = written(tmp_path / "a.oomtrace", episode(S, (10, "java"), (20, HOSTILE), reaped=False))
    b = written(tmp_path / "b.oomtrace", episode(S, (11, "java"), (21, HOSTILE)) +
                episode(3 * S, (11, "java"), (31, "db")), kernel="6.2-test")
    return a, b


def test_same_trace_exits_0_and_reports_nothing(pair: tuple[Path, Path], env: dict[str, str]):
    a, _ = pair
    r = cli("diff", str(a), str(a), "--all", env=env)
    assert r.returncode == 0, r.stderr
    assert "A and B tell the same story" in r.stdout and "No differences." in r.stdout
    assert "Steps that differ" not in r.stdout and "Only in" not in r.stdout


def test_different_exits_1_with_verdict_pairs_insertions_and_kernels(pair: tuple[Path, Path], env: dict[str, str]):
    a, b = pair
    r = cli("diff", str(a), str(b), env=env)
    assert r.returncode == 1, r.stderr
    out = r.stdout
    verdict = out.splitlines()[2]
    assert verdict.startswith("A: the reaper gave up on ") and "B: 2 kills: " in verdict
    order = [out.index(s) for s in ("Steps that differ:", "Only in B:", "Kernel and configuration:")]
    assert order == sorted(order)
    assert "outcome  A: unable  B: reaped" in out
    assert "kill (db)" in out and "kernel  A: 6.1-test  B: 6.2-test" in out
    assert "from the first invocation to the last outcome" in out
    assert "\x1b" not in out and "\\x1b]0;pwned\\x07[bold]x[/]" in out  # escaped, shown as written


def test_markdown_escapes_names(pair: tuple[Path, Path], env: dict[str, str]):
    a, b = pair
    r = cli("diff", str(a), str(b), "--format", "markdown", env=env)
    assert r.returncode == 1, r.stderr
    assert "| step | field | A | B | A seq | B seq |" in r.stdout
    assert not re.search(r"(?<!\\)<img", r.stdout) and "\\<img src=x\\>\\|" in r.stdout and "\x1b" not in r.stdout


def test_json(pair: tuple[Path, Path], env: dict[str, str]):
    a, b = pair
    r = cli("diff", str(a), str(b), "--format", "json", env=env)
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert doc["same"] is False and doc["outcomes_same"] is False
    assert [o["result"] for o in doc["a"]["outcomes"]] == ["unable"]
    assert [o["result"] for o in doc["b"]["outcomes"]] == ["reaped", "reaped"]
    only_b = [p["b"]["name"] for p in doc["pairs"] if p["a"] is None and p["b"]["kind"] == "kill"]
    assert only_b == ["db"]


def test_bad_input_is_one_line_and_exit_2(pair: tuple[Path, Path], tmp_path: Path, env: dict[str, str]):
    a, _ = pair
    r = cli("diff", str(a), str(tmp_path / "missing.log"), env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().splitlines() == [f"oomreplay: error: {tmp_path / 'missing.log'}: no such file"]
    broken = tmp_path / "broken.log.gz"  # gzip's magic, then no gzip: the converter refuses it
    broken.write_bytes(b"\x1f\x8bnot gzip at all")
    r = cli("diff", str(broken), str(a), env=env)
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    error = [line for line in r.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and error[0].startswith(f"oomreplay: error: {broken}: ")


def test_a_log_is_converted_through_the_cache(env: dict[str, str], tmp_path: Path):
    log = corpus_file("recorded/005_reaper_mmap_lock_unreapable/dmesg.txt")
    first = cli("diff", str(log), str(log), env=env)
    assert first.returncode == 0, first.stderr
    assert "converting" in first.stderr  # once for both sides: the second finds it in the cache
    assert first.stderr.count("converting") == 1
    assert "the reaper gave up on oomr-mlock" in first.stdout
    again = cli("diff", str(log), str(log), env=env)
    assert again.returncode == 0 and "converting" not in again.stderr


def test_log_against_its_recording_ends_the_same(env: dict[str, str], tmp_path: Path):
    """005's dmesg.txt against its ftrace.txt: a log and a recording of one incident (the recording has no OOM
    header, the log no numbered attempts): the same outcome, and nothing major differs."""
    log = corpus_file("recorded/005_reaper_mmap_lock_unreapable/dmesg.txt")
    recording = corpus_file("recorded/005_reaper_mmap_lock_unreapable/ftrace.txt")
    r = cli("diff", str(log), str(recording), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    # the recording numbers the attempts (10 skip_task_reaping), the log does not: the verdict uses the recording's
    assert "A and B tell the same story: the reaper gave up on oomr-mlock after 10 attempts" in r.stdout
    assert "0 OOM invocations, 1 kill; 3.0 s from the first kill to the last outcome" in r.stdout
    r_all = cli("diff", str(log), str(recording), "--all", env=env)
    assert r_all.returncode == 1 and "cannot show this" in r_all.stdout
