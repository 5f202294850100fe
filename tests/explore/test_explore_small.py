"""The explorer on scenarios small enough to count by hand: interleavings and outcome classes, with and without
the partial-order reduction (the same classes, fewer states with it), guards, the bound, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay.explore import explore_file
from oomreplay.explore.program import reserve
from oomreplay.ingest.errors import ScenarioError

HEAD = """
[scenario]
kernel = "4.19"

[[mm]]
name = "v"
id = 30

[[task]]
name = "A"
pid = 10

[[task]]
name = "B"
pid = 20

[[task]]
name = "V"
pid = 30
mm = "v"
points = 100

[[lock]]
name = "L"

[[zone]]
name = "Normal"
free_kb = 500
min_kb = 1000
low_kb = 2000
high_kb = 3000
"""


def actor(task: str, *steps: str) -> str:
    return f'\n[[actor]]\ntask = "{task}"\n' + "".join(f"\n[[actor.step]]\n{s}\n" for s in steps)


def run(tmp_path: Path, body: str, reduce: bool = True, max_states: int = 100_000):
    p = tmp_path / "s.toml"
    p.write_text(HEAD + body, encoding="utf-8")
    return explore_file(str(p), max_states, reduce)


def labels(e) -> set[str]:
    return {c.label() for c in e.classes}


STATE_R, STATE_D = 'do = "state"\nstate = "R"', 'do = "state"\nstate = "D"'
TAKE, RELEASE = 'do = "take"\nlock = "L"', 'do = "release"\nlock = "L"'


def test_two_actors_of_two_steps_interleave_six_ways(tmp_path):
    body = actor("A", STATE_R, STATE_D) + actor("B", STATE_R, STATE_D)
    naive, reduced = run(tmp_path, body, reduce=False), run(tmp_path, body)
    assert naive.paths == 6 and naive.states == 9
    assert reduced.paths == 1 and reduced.states == 5
    assert labels(naive) == labels(reduced) == {"0 kills"}
    assert naive.exhaustive and reduced.exhaustive


def test_a_lock_between_them_leaves_fewer(tmp_path):
    body = actor("A", TAKE, RELEASE) + actor("B", TAKE, RELEASE)
    naive, reduced = run(tmp_path, body, reduce=False), run(tmp_path, body)
    assert naive.paths == 4  # who takes first, and whether the other queues before the release: 2 × 2
    assert labels(naive) == labels(reduced)
    assert reduced.states <= naive.states


def test_memory_back_before_or_after_the_kill_makes_two_classes(tmp_path):
    body = (actor("A", 'do = "zone"\nzone = "Normal"\nfree_kb = 900000', STATE_R)
            + actor("B", STATE_D, 'do = "kill"\ntask = "V"'))
    naive, reduced = run(tmp_path, body, reduce=False), run(tmp_path, body)
    assert naive.paths > 6  # the built-in reaper's wake, try and done interleave too
    assert labels(naive) == labels(reduced) == {"1 kill: V reaped", "1 kill: V reaped; a kill while memory was above high"}
    assert reduced.states < naive.states


def test_guards_decide_by_the_state(tmp_path):
    # B kills only if A has not set the flag yet: both classes appear, and the flag's order decides
    body = (actor("A", 'do = "set_flag"\nflag = "MMF_OOM_SKIP"\nmm = "v"')
            + actor("B", 'do = "kill"\ntask = "V"\nif = { flag = "MMF_OOM_SKIP", mm = "v", set = false }'))
    e = run(tmp_path, body)
    assert {c.kills for c in e.classes} == {0, 1}
    # an automatic allocation fails below min; a guard on it ends the actor
    body = actor("A", 'do = "alloc"\noutcome = "auto"', 'do = "done"\nif = { alloc = "fail" }', 'do = "kill"')
    e = run(tmp_path, body)
    assert [c.kills for c in e.classes] == [0]


def test_opposite_lock_orders_are_found_blocked_forever(tmp_path):
    head = HEAD + '\n[[lock]]\nname = "M"\n'
    p = tmp_path / "d.toml"
    p.write_text(head + actor("A", TAKE, 'do = "take"\nlock = "M"', 'do = "release"\nlock = "M"', RELEASE)
                 + actor("B", 'do = "take"\nlock = "M"', TAKE, RELEASE, 'do = "release"\nlock = "M"'))
    e = explore_file(str(p))
    assert "0 kills; blocked forever: A, B" in labels(e)
    assert "0 kills" in labels(e)


def test_the_bound_says_not_exhaustive(tmp_path):
    e = run(tmp_path, actor("A", STATE_R, STATE_D) + actor("B", STATE_R, STATE_D)
            + '\n[[expect]]\nforbid = { kills = 3 }\n', reduce=False, max_states=3)
    assert not e.exhaustive
    assert [v.ok for v in e.verdicts] == [False]  # not proven


@pytest.mark.parametrize("step, message", [
    ('do = "reaper_try"', "built-in reaper"),
    ('do = "state"\nstate = "R"\nif = { nonsense = 1 }', "a guard names one of"),
    ('do = "take"\nlock = "nope"', "unknown lock 'nope'"),
    ('do = "alloc"\noutcome = "auto"\nwatermark = "medium"', "unknown watermark"),
    ('do = "state"\nat = 3.0', "has no time"),
])
def test_bad_steps_are_refused_with_their_line(tmp_path, step, message):
    p = tmp_path / "bad.toml"
    text = HEAD + actor("A", STATE_R, step)
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        explore_file(str(p))
    line = text.splitlines().index("[[actor.step]]", text.splitlines().index("[[actor.step]]") + 1) + 1
    assert str(e.value).startswith(f"{p}:{line}: ") and message in str(e.value)
    r = subprocess.run([sys.executable, "-m", "oomreplay", "explore", str(p)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_reserves_follow_the_gfp():
    assert reserve("GFP_KERNEL", (4, 19, 0)) == (8, 8)
    assert reserve("GFP_KERNEL|__GFP_HIGH", (4, 19, 0)) == (4, 8)
    assert reserve("GFP_ATOMIC", (4, 19, 0)) == (3, 8)
    assert reserve("__GFP_ATOMIC", (4, 19, 0)) == (6, 8)
    assert reserve("__GFP_ATOMIC", (6, 6, 0)) == (8, 8)
    assert reserve("GFP_KERNEL|__GFP_MEMALLOC", (5, 4, 0)) is None
