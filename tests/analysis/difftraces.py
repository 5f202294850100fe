"""Traces the diff tests compare: a corpus recording rewritten with other pids and another clock, and small
incidents written by hand (an extra kill, a kworker invoker, a victim whose mm lock is taken)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oomreplay import Event, TraceWriter, open_trace
from oomreplay.ingest import convert

#: event fields that hold a pid (the event's own pid aside)
PID_FIELDS = ("tgid", "child", "child_tgid", "mm")


def converted(out: Path, *inputs: Path) -> Path:
    """``inputs`` converted (merged) into ``out``; a skip when the corpus lacks one."""
    for p in inputs:
        if not p.is_file():
            pytest.skip(f"corpus file {p} is absent")
    convert([str(p) for p in inputs], out, "auto")
    return out


def _renumber_text(text: str, offset: int) -> str:
    """Every number after a separator moved by ``offset``: ``/oomreplay-adj-4214`` → ``/oomreplay-adj-5214``,
    ``kworker/1:2`` → ``kworker/1001:1002``."""
    return re.sub(r"(?<=[/:\-])\d+", lambda m: str(int(m.group()) + offset), text)


def rewritten(source: Path, out: Path, pid_offset: int, shift_ns: int) -> Path:
    """``source`` with every pid moved by ``pid_offset`` (event pids, pid fields, numbers in comms and memcg
    paths) and every timestamp by ``shift_ns``: the same incident as another run would number and time it."""
    with open_trace(source) as t, TraceWriter(out, meta=dict(t.meta)) as w:
        for file, (name, n) in enumerate(t.sources):
            w.add_source_lines(w.add_source(name), t.source_lines(1, n, file) if n else [])
        for ev in t.events():
            fields = dict(ev.fields)
            for k in PID_FIELDS:
                if isinstance(fields.get(k), int):
                    fields[k] += pid_offset
            for k in ("comm", "memcg", "path"):
                if isinstance(fields.get(k), str):
                    fields[k] = _renumber_text(fields[k], pid_offset)
            pid = None if ev.pid is None else ev.pid + pid_offset
            w.append(Event(ev.ts_ns + shift_ns, ev.kind, pid, fields, src=ev.src, inferred=ev.inferred))
    return out


S = 1_000_000_000


def written(path: Path, events: list[Event], kernel: str = "6.1-test") -> Path:
    with TraceWriter(path, meta={"kernel": kernel}) as w:
        w.extend(events)
    return path


def episode(t: int, invoker: tuple[int, str], victim: tuple[int, str], reaped: bool = True) -> list[Event]:
    """One OOM: the invocation, the kill, the reaper's attempt and its outcome, at ``t`` ns."""
    ipid, icomm = invoker
    vpid, vcomm = victim
    out = [Event(t, "task", vpid, {"tgid": vpid, "comm": vcomm}),
           Event(t + 1, "oom_invoke", ipid, {"gfp": "GFP_KERNEL", "order": 0, "comm": icomm}),
           Event(t + 2, "oom_kill", vpid, {"comm": vcomm, "oom_score_adj": 0}),
           Event(t + 3, "reaper_wake", vpid, {"comm": vcomm})]
    if reaped:
        out += [Event(t + 4, "reaper_attempt", vpid, {"n": 1, "outcome": "reaped", "comm": vcomm}),
                Event(t + 5, "reaper_done", vpid, {"outcome": "reaped", "comm": vcomm})]
    else:
        out += [Event(t + 4 + n, "reaper_attempt", vpid, {"n": n, "outcome": "lock_busy", "comm": vcomm})
                for n in range(1, 11)]
        out.append(Event(t + 20, "reaper_done", vpid, {"outcome": "unable", "comm": vcomm}))
    return out
