"""Chrome trace JSON: valid, every phase's required fields, balanced async slices, sane counters and clocks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from oomreplay import Event, open_trace
from oomreplay.export.chrome import MEMORY_PID, chrome_trace
from oomreplay.ingest import convert
from oomreplay.store import TraceWriter

from ..conftest import CORPUS

SEED = CORPUS / "logs" / "006_aout-xfs_unable-to-reap-lockdep_dmesg.log"
REQUIRED = {"X": {"name", "ts", "dur", "pid", "tid"}, "B": {"name", "ts", "pid", "tid"},
            "E": {"ts", "pid", "tid"}, "b": {"name", "cat", "id", "ts", "pid"}, "e": {"cat", "id", "ts", "pid"},
            "i": {"name", "ts", "pid", "s"}, "C": {"name", "ts", "pid", "args"}, "s": {"id", "ts", "pid", "name"},
            "f": {"id", "ts", "pid", "name"}, "M": {"name", "pid", "args"}}


def read_chrome(path: Path) -> list[dict]:
    """The small reader: parse the file and check everything a viewer relies on; return the events."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    events = doc["traceEvents"]
    last: dict[tuple, float] = {}
    open_async: dict[tuple, int] = defaultdict(int)
    slices: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for e in events:
        assert REQUIRED[e["ph"]] <= e.keys(), e
        if e["ph"] == "M":
            continue
        assert isinstance(e["ts"], (int, float))
        track = (e["pid"], e.get("tid"))
        assert e["ts"] >= last.get(track, float("-inf")), ("time goes back", e)
        last[track] = e["ts"]
        if e["ph"] == "C":
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values())
        elif e["ph"] in "be":
            key = (e["cat"], e["id"])
            open_async[key] += 1 if e["ph"] == "b" else -1
            assert open_async[key] >= 0, ("end before begin", e)
        elif e["ph"] == "X":
            assert e["dur"] >= 0
            slices[track].append((e["ts"], e["ts"] + e["dur"]))
    assert all(n == 0 for n in open_async.values()), "unbalanced async slices"
    for spans in slices.values():  # X slices on a thread never overlap partially
        spans.sort()
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert b0 >= a1 or b1 <= a1
    return events


@pytest.fixture()
def locked(tmp_path: Path) -> Path:
    path = tmp_path / "t.oomtrace"
    s = 1_000_000
    with TraceWriter(path) as w:
        w.extend([Event(0, "task", 1, {"tgid": 1, "comm": "a"}), Event(0, "task", 2, {"tgid": 1, "comm": "b"}),
                  Event(s, "task_state", 1, {"state": "R"}), Event(s, "lock_acquire", 1, {"lock": "L", "mode": "r"}),
                  Event(2 * s, "lock_acquire", 2, {"lock": "L", "mode": "r"}),
                  Event(3 * s, "task_state", 1, {"state": "D"}),
                  Event(4 * s, "lock_contended", 3, {"lock": "L", "mode": "w"}),
                  Event(5 * s, "lock_release", 1, {"lock": "L"}),
                  Event(6 * s, "zone", None, {"node": 0, "zone": "Normal", "free_kb": 10, "min_kb": 20}),
                  Event(7 * s, "oom_kill", 2, {"comm": "b"}), Event(8 * s, "mark", None, {"title": "here"})])
    return path


def test_slices_flows_instants_counters(locked: Path, tmp_path: Path):
    out = tmp_path / "out.json"
    with open_trace(locked) as t:
        out.write_text(json.dumps(chrome_trace(t)))
    events = read_chrome(out)
    holds = [e for e in events if e["ph"] == "b" and e["cat"] == "lock"]
    assert sorted(e["tid"] for e in holds) == [1, 2] and all(e["pid"] == 1 for e in holds)
    ends = {e["id"]: e["ts"] for e in events if e["ph"] == "e"}
    assert ends[holds[0]["id"]] == 5000.0  # task 1 released at 5 ms: microseconds
    flows = [(e["ph"], e["tid"]) for e in events if e["ph"] in "sf"]
    assert sorted(flows) == [("f", 1), ("f", 2), ("s", 3), ("s", 3)]
    states = [(e["name"], e["ts"], e["dur"]) for e in events if e["ph"] == "X" and e["tid"] == 1]
    assert states == [("R", 1000.0, 2000.0), ("D", 3000.0, 5000.0)]
    (zone,) = [e for e in events if e["ph"] == "C"]
    assert zone["pid"] == MEMORY_PID and zone["args"] == {"free_kb": 10, "min_kb": 20}
    kinds = {e["cat"] for e in events if e["ph"] == "i"}
    assert {"oom_kill", "mark"} <= kinds


def test_seed_exports_and_reimports(tmp_path: Path):
    if not SEED.is_file():
        pytest.skip(f"corpus file {SEED} is absent")
    trace = tmp_path / "seed.oomtrace"
    convert([str(SEED)], trace, "auto")
    out = tmp_path / "seed.json"
    r = subprocess.run([sys.executable, "-m", "oomreplay", "export", str(trace), "--format", "chrome-json",
                        "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    events = read_chrome(out)
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[63] == "khugepaged/63" and names[3163] == "a.out/3163"
    mmap = [e for e in events if e["ph"] == "b" and e["name"] == "&mm->mmap_sem"]
    assert {e["tid"] for e in mmap} == {63, 3163, 3164, 3165, 3166, 3167}
    assert all(e["args"]["inferred"] for e in mmap)
    kills = [e for e in events if e["ph"] == "i" and e["cat"] == "oom_kill"]
    assert [(k["tid"], k["ts"]) for k in kills] == [(3163, 493791708.0)]


def test_jsonl_export(locked: Path, tmp_path: Path):
    out = tmp_path / "out.jsonl"
    r = subprocess.run([sys.executable, "-m", "oomreplay", "export", str(locked), "--format", "jsonl", "-o",
                        str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["seq"] for row in rows] == list(range(11)) and rows[9]["kind"] == "oom_kill"
