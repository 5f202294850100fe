"""Every real log of the corpus converts, and the trace agrees with the log's ground truth (``.facts.json``).

The facts are read back through the public API only (``open_trace``, ``events(kind=…)``), as a user's script
would. A fact that is ``null`` is unknown (the log does not show it) and is not compared.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from oomreplay.analysis.kernel import parse_version

from oomreplay import open_trace
from oomreplay.ingest import convert

from ..conftest import CORPUS
from ..corpus import facts_table

LOGS = sorted((CORPUS / "logs").glob("*.log")) if (CORPUS / "logs").is_dir() else []
RECORDED = sorted((CORPUS / "recorded").glob("*/dmesg.txt")) if (CORPUS / "recorded").is_dir() else []

needs_corpus = pytest.mark.skipif(not LOGS, reason=f"the shared corpus is not at {CORPUS}")


def _hex(gfp: str | None) -> str | None:
    return None if gfp is None else gfp.split("(", 1)[0]


def _lock_holders(events) -> list[dict]:
    """Consecutive lock_held events of one holder form one dump entry; index 0 starts a new one."""
    groups: list[dict] = []
    for ev in events:
        if not groups or ev.pid != groups[-1]["pid"] or ev.get("index") == 0:
            groups.append({"comm": ev.get("comm"), "pid": ev.pid, "count": 0})
        groups[-1]["count"] += 1
    return groups


@pytest.fixture(scope="module", params=[p.name for p in LOGS] or ["absent"])
def converted(request, tmp_path_factory):
    if not LOGS:
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    log = CORPUS / "logs" / request.param
    facts = json.loads(log.with_suffix(".facts.json").read_text())
    out = tmp_path_factory.mktemp("corpus") / "t.oomtrace"
    report = convert([str(log)], out)
    with open_trace(out) as trace:
        yield facts, trace, report, log


@needs_corpus
def test_every_line_is_kept(converted):
    facts, trace, report, log = converted
    lines = log.read_text(errors="replace").splitlines()
    assert trace.sources[0][1] == len(lines)
    assert list(trace.source_lines(1, len(lines))) == lines
    covered = {ev.src.line for ev in trace.events() if ev.src is not None}
    assert covered == set(range(1, len(lines) + 1)), "every line has an event pointing at it"


@needs_corpus
def test_kills(converted):
    facts, trace, _, log = converted
    kills = list(trace.events(kind="oom_kill"))
    assert [(k.pid, k.get("comm")) for k in kills] == [(f["pid"], f["comm"]) for f in facts["kills"]]
    for ev, fact in zip(kills, facts["kills"]):
        if fact["ts"] is not None:
            assert ev.ts_ns == round(fact["ts"] * 1e9)


@needs_corpus
def test_invokers(converted):
    facts, trace, _, _ = converted
    got = [{"comm": e.get("comm"), "pid": e.pid, "gfp_mask": _hex(e.get("gfp")), "order": e.get("order"),
            "oom_score_adj": e.get("oom_score_adj"), "ts": e.ts_ns} for e in trace.events(kind="oom_invoke")]
    want = [{**f, "ts": None if f["ts"] is None else round(f["ts"] * 1e9)} for f in facts["invokers"]]
    for g, w in zip(got, want):
        if w["ts"] is None:
            g["ts"] = None
    assert got == want


@needs_corpus
def test_reaper_outcomes(converted):
    facts, trace, _, _ = converted
    done = [(e.pid, e.get("comm"), e.get("outcome")) for e in trace.events(kind="reaper_done")]
    assert done == [(f["pid"], f["comm"], f["outcome"]) for f in facts["reaper"]]
    attempts = list(trace.events(kind="reaper_attempt"))
    # one event per round (the kernel prints one line per oom_reap_task run): "unable to reap" is the tenth
    # failed try (n = 10, inferred, its cause too); "reaped process" a try whose number (1-10) is unknown
    assert len(attempts) == len(done)
    for a, (_, _, outcome) in zip(attempts, done):
        if outcome == "unable":
            assert a.get("n") == 10 and {"n", "outcome"} <= a.inferred
        else:
            assert a.get("outcome") == "reaped" and a.get("n") is None and "n" in a.inferred


@needs_corpus
def test_lock_holders(converted):
    facts, trace, _, _ = converted
    assert _lock_holders(trace.events(kind="lock_held")) == facts["lock_holders"]


@needs_corpus
def test_inferred_victim_flags(converted):
    """TIF_MEMDIE at each kernel OOM kill and, where the log names a kernel of 4.9 or later, MMF_OOM_SKIP after
    each reaper outcome (oom_reap_task's done:), both marked inferred; a log naming no kernel gets no reaper flag,
    as 4.6-4.8 set another one or none (klog/reaper.rs)."""
    facts, trace, _, _ = converted
    flags = list(trace.events(kind="flag_set"))
    assert all("flag" in f.inferred for f in flags)
    skip = [f.pid for f in flags if f.get("flag") == "MMF_OOM_SKIP"]
    version = parse_version(str(trace.meta.get("kernel") or ""))
    nine_on = version is not None and version >= (4, 9, 0)
    assert skip == ([f["pid"] for f in facts["reaper"]] if nine_on else [])
    memdie = {f.pid for f in flags if f.get("flag") == "TIF_MEMDIE"}
    kernel_kills = {e.pid for e in trace.events(kind="oom_kill") if e.get("killer") is None}
    assert kernel_kills <= memdie


def _kills_from_facts_md(text: str) -> list[tuple[int, str]]:
    """The "Kills in order" table of a recording's facts.md: (victim pid, comm) per numbered row."""
    return [(int(r[1]), r[2]) for r in facts_table(text, "## Kills in order") if r[0].isdigit()]


@pytest.mark.skipif(not RECORDED, reason=f"no recordings under {CORPUS / 'recorded'}")
@pytest.mark.parametrize("dmesg", RECORDED, ids=lambda p: p.parent.name)
def test_recorded_dmesg(dmesg: Path, tmp_path: Path):
    out = tmp_path / "r.oomtrace"
    convert([str(dmesg)], out)
    with open_trace(out) as trace:
        kills = [(e.pid, e.get("comm")) for e in trace.events(kind="oom_kill")]
        outcomes = [e.get("outcome") for e in trace.events(kind="reaper_done")]
    facts = dmesg.parent / "facts.md"
    text = dmesg.read_text()
    assert len(kills) == text.count("Killed process")
    assert outcomes.count("unable") == text.count("unable to reap")
    assert outcomes.count("reaped") == text.count("reaped process")
    if facts.exists():
        assert kills == _kills_from_facts_md(facts.read_text())


@pytest.mark.skipif(not RECORDED, reason=f"the shared corpus is not at {CORPUS}")
def test_a_large_input_converts_to_the_same_trace_with_the_state_machine_beside_it(tmp_path, monkeypatch):
    """Inputs of PARALLEL_FROM_BYTES or more run the writer's state machine in a worker process: the trace must
    not change by a byte (the same recording, merged with its kernel log, converted both ways)."""
    convert_module = importlib.import_module("oomreplay.ingest.convert")  # the package exports its function

    recording = RECORDED[0].parent
    inputs = [str(recording / "dmesg.txt"), str(recording / "ftrace.txt")]
    spawned = []
    real = convert_module.TraceWriter

    def writer(*args, **kw):
        spawned.append(kw.get("parallel"))
        return real(*args, **kw)

    monkeypatch.setattr(convert_module, "TraceWriter", writer)
    convert(inputs, tmp_path / "local.oomtrace")
    monkeypatch.setattr(convert_module, "PARALLEL_FROM_BYTES", 1)
    convert(inputs, tmp_path / "parallel.oomtrace")
    assert spawned == [False, True]
    assert (tmp_path / "local.oomtrace").read_bytes() == (tmp_path / "parallel.oomtrace").read_bytes()
