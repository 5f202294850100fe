"""The bundled races (traces/scenarios/races): the outcomes traces/scenarios/README.md claims for each, every
witness compiled and replayed ends in the outcome it was reported for (read from the trace, not from the
explorer), ``--check`` fails where a forbidden outcome is reachable, ``convert`` refuses the actor form, and a
fixed scenario explores to its one interleaving."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import oomreplay
from oomreplay.explore import explore_file
from oomreplay.explore.witness import write_witness

SCENARIOS = Path(__file__).resolve().parents[2] / "traces" / "scenarios"
RACES = SCENARIOS / "races"
BEFORE, AFTER = RACES / "oom-skip-vs-last-alloc.toml", RACES / "oom-skip-vs-last-alloc-patched.toml"
SEED = RACES / "reaper-vs-khugepaged.toml"

#: the outcome classes the README's table gives for each race
CLAIMS = {
    SEED: {"1 kill: aout reaped", "1 kill: aout unable"},
    BEFORE: {"1 kill: hog reaped", "2 kills: hog reaped, bystander reaped; a kill while memory was above high"},
    AFTER: {"1 kill: hog reaped"},
}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomreplay", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", sorted(CLAIMS), ids=lambda p: p.name)
def test_the_races_end_as_the_readme_says(path):
    e = explore_file(str(path))
    assert e.exhaustive
    assert {c.label() for c in e.classes} == CLAIMS[path]
    naive = explore_file(str(path), reduce=False)
    assert {c.label() for c in naive.classes} == CLAIMS[path]
    assert e.states <= naive.states and e.paths < naive.paths


#: (states, moves, interleavings) of each race reduced and naive, and of the benchmark's race of 3 workers, as the
#: search on whole model states counted them (commit df86d17, before the packed states and the memo of moves):
#: the search must still count the very same states
COUNTS = {
    SEED: ((309, 575, 82_756), (369, 716, 371_974)),
    BEFORE: ((160, 222, 1_250), (181, 320, 32_068)),
    AFTER: ((154, 216, 1_250), (169, 302, 22_516)),
    "3 workers": ((23_927, 43_353, 796_236_079_692), (32_652, 86_763, 22_956_479_701_458_828)),
}


@pytest.mark.parametrize("path", sorted(COUNTS, key=str), ids=lambda p: getattr(p, "name", p))
def test_the_search_counts_what_the_search_on_whole_states_counted(path, tmp_path):
    if path == "3 workers":
        from benchmarks.explore_bench import big_race

        path = tmp_path / "big.toml"
        path.write_text(big_race(3), encoding="utf-8")
        expected = COUNTS["3 workers"]
    else:
        expected = COUNTS[path]
    for reduce, (states, moves, paths) in zip((True, False), expected):
        e = explore_file(str(path), reduce=reduce)
        assert (e.states, e.transitions, e.paths) == (states, moves, paths)


def _ended(trace) -> tuple[set[tuple[str, str]], int, bool, bool]:
    """What the trace itself says: each victim's end, the kills, whether one came while a zone was at or above
    high, whether anyone still waits for a lock at the end."""
    end = trace.state_at(len(trace) - 1)
    names = {ev.pid: ev.get("comm") for ev in trace.events(0, len(trace), kind="task")}
    ends = set()
    for v in end.victims.values():
        mm = end.mms.get(v.mm)
        status = v.outcome or ("skipped" if mm is not None and "MMF_OOM_SKIP" in mm.flags else "pending")
        ends.add((names[v.pid], status))
    kills = list(trace.events(0, len(trace), kind="oom_kill"))
    needless = any(z.free_kb is not None and z.high_kb is not None and z.free_kb >= z.high_kb
                   for k in kills for z in trace.state_at(k.seq - 1).zones.values())
    waiting = any(lk.waiters for lk in end.locks.values())
    return ends, len(kills), needless, waiting


@pytest.mark.parametrize("path", sorted(CLAIMS), ids=lambda p: p.name)
def test_every_witness_replays_to_its_outcome(path, tmp_path):
    e = explore_file(str(path))
    comm = {name: t["comm"] for name, t in e.scenario.tasks.items()}
    for c in e.classes:
        toml, trace_path = write_witness(e.scenario, c, tmp_path)
        with oomreplay.open_trace(trace_path) as trace:
            ends, kills, needless, waiting = _ended(trace)
            assert len(trace.state_at(len(trace) - 1).anomalies) == 0
        assert ends == {(comm[name], status) for name, status in c.victims}
        assert (kills, needless, waiting) == (c.kills, c.needless, bool(c.blocked))
        # the witness is a fixed scenario: explored, it is one interleaving ending the same way
        again = explore_file(str(toml))
        assert again.paths == 1 and [x.label() for x in again.classes] == [c.label()]


def test_check_fails_where_the_needless_kill_is_reachable_and_names_the_witness(tmp_path):
    r = _cli("explore", str(BEFORE), "--check", "-o", str(tmp_path))
    assert r.returncode == 1
    assert "check failed: forbid { needless_kill = true }" in r.stderr
    assert f"{tmp_path}/outcome-2.toml" in r.stderr
    assert (tmp_path / "outcome-2.oomtrace").is_file()
    r = _cli("explore", str(AFTER), "--check")
    assert r.returncode == 0, r.stderr
    assert "unreachable" in r.stdout


def test_formats_and_the_bound(tmp_path):
    import json

    j = json.loads(_cli("explore", str(BEFORE), "--format", "json").stdout)
    assert j["exhaustive"] and len(j["outcomes"]) == 2 and j["outcomes"][1]["needless_kill"]
    md = _cli("explore", str(BEFORE), "--format", "markdown").stdout
    assert md.startswith("### Exploring") and "| 2 |" in md
    r = _cli("explore", str(AFTER), "--max-states", "20", "--check")
    assert r.returncode == 1 and "NOT exhaustive" in r.stdout and "not proven" in r.stderr


def test_replay_refuses_an_unknown_outcome():
    r = _cli("explore", str(BEFORE), "--replay", "9")
    assert r.returncode == 2 and "no outcome 9" in r.stderr


def test_convert_refuses_the_actor_form(tmp_path):
    r = _cli("convert", str(BEFORE), "-o", str(tmp_path / "x.oomtrace"))
    assert r.returncode == 2 and "explored, not converted" in r.stderr


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.name)
def test_a_fixed_scenario_is_one_interleaving(path):
    e = explore_file(str(path))
    assert e.paths == 1 and len(e.classes) == 1
    assert len(e.classes[0].witness) == len(e.scenario.actors[0].steps)


def test_the_hand_written_interleavings_are_among_the_explored_outcomes():
    for fixed, race in [("oom-skip-vs-last-alloc.toml", BEFORE), ("oom-skip-vs-last-alloc-patched.toml", AFTER)]:
        by_hand = explore_file(str(SCENARIOS / fixed)).classes[0]
        assert (by_hand.kills, by_hand.needless) in {(c.kills, c.needless) for c in explore_file(str(race)).classes}
    assert explore_file(str(SCENARIOS / "oom-skip-vs-last-alloc.toml")).classes[0].needless
