"""The ``oomreplay`` command as a user runs it: real processes, real exit codes, stdout and stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oomreplay import Event, TraceWriter
from oomreplay.store.format import FORMAT_VERSION

from ..commands import cli

HOSTILE = "\x1b]0;pwned\x07[bold]x[/]"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small incident: a kill, ten failed reaper attempts, a lockdep holder, a zone below min."""
    path = tmp_path_factory.mktemp("cli") / "incident.oomtrace"
    evs = [Event(1_000_000_000, "task", 3163, {"tgid": 3163, "comm": "a.out"}, src=(0, 1)),
           Event(1_100_000_000, "zone", None, {"node": 0, "zone": "Normal", "free_kb": 10, "min_kb": 20}),
           Event(1_200_000_000, "oom_invoke", 3164, {"gfp": "GFP_KERNEL", "order": 0, "comm": "a.out"}),
           Event(1_300_000_000, "oom_kill", 3163, {"comm": "a.out", "anon_rss_kb": 2754236}, src=(0, 2)),
           Event(1_300_000_000, "flag_set", 3163, {"flag": "TIF_MEMDIE"}, inferred={"flag"}),
           Event(1_400_000_000, "lock_held", 63, {"lock": "&mm->mmap_sem", "mode": "r", "comm": HOSTILE})]
    evs += [Event(1_500_000_000 + n, "reaper_attempt", 3163, {"n": n, "outcome": "lock_busy"}) for n in range(1, 11)]
    evs.append(Event(1_600_000_000, "reaper_done", 3163, {"outcome": "unable", "comm": "a.out"}))
    with TraceWriter(path, meta={"kernel": "4.12-test"}) as w:
        w.add_source_lines(w.add_source("dmesg"), ["[1.0] first", "[1.3] Killed process 3163 (a.out)"])
        w.extend(evs)
    return path


def test_info(incident: Path):
    r = cli("info", str(incident))
    assert r.returncode == 0, r.stderr
    fields = dict(line.split(None, 1) if "  " not in line else [x.strip() for x in line.split("  ", 1)]
                  for line in r.stdout.splitlines())
    assert fields["kernel"] == "4.12-test" and fields["events"] == "17" and fields["kills"] == "1"
    assert fields["reaper outcomes"] == "unable 1" and fields["format version"] == str(FORMAT_VERSION)
    assert fields["source"] == "dmesg (2 lines)"


def test_events_jsonl_filters(incident: Path):
    r = cli("events", str(incident), "--kind", "oom_kill", "--kind", "reaper_done", "--format", "jsonl")
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(e["kind"], e["pid"], e["fields"]["comm"]) for e in rows] == [("oom_kill", 3163, "a.out"),
                                                                         ("reaper_done", 3163, "a.out")]
    assert rows[0]["seq"] == 3 and rows[0]["ts_ns"] == 1_300_000_000 and rows[0]["src"] == {"file": 0, "line": 2}
    r = cli("events", str(incident), "--pid", "3163", "--from", "1.25", "--to", "1.5000000015", "--format", "jsonl")
    kinds = [json.loads(line)["kind"] for line in r.stdout.splitlines()]
    assert kinds == ["oom_kill", "flag_set", "reaper_attempt", "reaper_attempt"]
    flag = json.loads(r.stdout.splitlines()[1])
    assert flag["inferred"] == ["flag"]


def test_events_text_shows_hostile_names_inert(incident: Path):
    r = cli("events", str(incident), "--kind", "lock_held")
    assert r.returncode == 0
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "\\x1b]0;pwned\\x07[bold]x[/]" in r.stdout


def test_state_formats(incident: Path):
    text = cli("state", str(incident), "--seq", "16").stdout
    assert "3163" in text and "a.out" in text and "10/10" in text and "unable" in text
    assert "TIF_MEMDIE?" in text and "below min" in text and "&mm->mmap_sem" in text
    md = cli("state", str(incident), "--at", "1.45", "--format", "markdown").stdout
    assert md.startswith("### State after seq 5") and "| 63 |" in md and "\x1b" not in md
    data = json.loads(cli("state", str(incident), "--seq", "16", "--format", "json").stdout)
    assert data["seq"] == 16
    assert data["victims"][0]["pid"] == 3163 and data["victims"][0]["outcome"] == "unable"
    assert data["locks"][0]["holders"][0] == {"pid": 63, "mode": "r", "since": 5, "site": None, "inferred": True}


@pytest.mark.parametrize("args, message", [
    (["state", "{}"], "exactly one of"),
    (["state", "{}", "--seq", "99"], "outside"),
    (["events", "{}", "--kind", "nope"], "unknown event kind"),
    (["info", "/nonexistent/x.oomtrace"], "No such file"),
])
def test_bad_input_is_one_line_and_exit_2(incident: Path, args: list[str], message: str):
    r = cli(*[a.format(incident) for a in args])
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr


def test_demo_shows_the_bundled_incident():
    r = cli("demo")
    assert r.returncode == 0, r.stderr
    assert "kills" in r.stdout and "format version" in r.stdout


def test_convert_report_lists_report_lines_not_understood(tmp_path: Path):
    log = tmp_path / "odd.log"
    log.write_text("[ 1.0] a.out invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0\n"
                   "[ 1.1] Killed process a.out (pid unknown), a variant nobody printed yet\n")
    r = cli("convert", str(log), "-o", str(tmp_path / "odd.oomtrace"), "--report")
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert "not understood inside OOM reports: 1 line(s):" in out
    assert "line 2: Killed process a.out (pid unknown), a variant nobody printed yet" in out


def test_record_is_a_command_and_refuses_a_limit_without_a_command(tmp_path: Path):
    r = cli("record", "-o", str(tmp_path / "r.oomtrace"), "--memory-limit", "64M")
    assert r.returncode == 2
    assert r.stderr.strip() == "oomreplay: error: --memory-limit needs a COMMAND to run inside the cgroup"
    assert not (tmp_path / "r.oomtrace").exists()
