"""Frames built step by step from the previous one equal frames built from the whole state."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.session.frame import FrameBuilder
from oomreplay.store import TraceWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synth import generate  # noqa: E402


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frames") / "synth.oomtrace"
    with TraceWriter(path) as w:
        w.extend(generate(6000, seed=3, tasks=400, locks=40))
    return path


@pytest.mark.parametrize("walk_seed", [1, 2, 3])
def test_incremental_frames_equal_whole_ones(synthetic: Path, walk_seed: int):
    rng = random.Random(walk_seed)
    with open_trace(synthetic) as t, open_trace(synthetic) as fresh_trace:
        n = len(t)
        builder = FrameBuilder(t)
        used = []
        patch = builder._patched
        builder._patched = lambda *a: used.append(patch(*a)) or used[-1]  # count the frames built by patching
        seq = rng.randrange(n)
        for _ in range(150):
            r = rng.random()
            seq = min(n - 1, max(0, seq + 1 if r < 0.6 else seq - 1 if r < 0.8 else seq + rng.randrange(-600, 600)))
            frame = builder.build(seq)
            whole = FrameBuilder(fresh_trace).build(seq)
            assert frame.tasks == whole.tasks and frame.involved == whole.involved, seq
            assert (frame.comms, frame.chains, frame.blockers) == (whole.comms, whole.chains, whole.blockers)
            assert (frame.victims, frame.locks, frame.zones, frame.meminfo, frame.memcgs, frame.oom_skip) == \
                (whole.victims, whole.locks, whole.zones, whole.meminfo, whole.memcgs, whole.oom_skip), seq
            # what the cursor's event changed, wherever the cursor came from
            before = {row.pid: row for row in FrameBuilder(fresh_trace).build(seq - 1).tasks}
            assert frame.changed == frozenset(row.pid for row in frame.tasks if before.get(row.pid) != row), seq
        assert sum(p is not None for p in used) > 50  # the walk did exercise the patched path


@pytest.mark.parametrize("kills", [10, 1000])
def test_timeline_marks_are_exact_when_few_and_from_the_overview_when_many(tmp_path: Path, kills: int):
    from oomreplay import Event
    from oomreplay.session.frame import MARKS_READ, trace_info

    path = tmp_path / "kills.oomtrace"
    times = [1_000_000_000 + i * 1_000_003 for i in range(kills)]
    with TraceWriter(path) as w:
        w.extend(Event(ts, "oom_kill", 100 + i, {"comm": "x"}) for i, ts in enumerate(times))
    with open_trace(path) as t:
        info = trace_info(t)
    marked = info.marks["oom_kill"]
    if kills <= MARKS_READ:
        assert marked == times
    else:
        assert len(marked) == len(info.buckets) - sum(not b.counts.get("oom_kill") for b in info.buckets)
        assert all(any(b.t0_ns <= ts <= b.t1_ns for b in info.buckets if b.counts.get("oom_kill")) for ts in marked)


def test_sorted_tasks_follow_steps_and_skipped_frames(synthetic: Path):
    """The tasks panel re-places only the changed rows of a step; whatever frames it is shown (one after the
    other, or with frames skipped in between), its order equals a full sort."""
    from oomreplay.tui.widgets.tasks import ORDERS, TasksPanel

    rng = random.Random(5)
    with open_trace(synthetic) as t:
        builder = FrameBuilder(t)
        panel = TasksPanel()
        seq = 2000
        for order in (1, 2, 3, 4):
            panel.order = order
            key = ORDERS[order][1]
            for _ in range(60):
                seq = min(len(t) - 1, seq + rng.choice((1, 1, 1, 2, 5)))
                frame = builder.build(seq)
                if rng.random() < 0.3:
                    continue  # this frame never reaches the panel (the UI skips frames it falls behind on)
                assert panel._ordered(frame) == sorted(frame.tasks, key=key), (order, seq)


def test_panels_repainted_line_by_line_show_what_a_full_repaint_shows(synthetic: Path):
    """The tasks and log panels repaint only the lines a step changed: after every step of a walk (steps both
    ways, jumps, sort orders, the involved filter, selection moves), the screen equals the screen after repainting
    both panels whole. A line left out of a partial repaint would show its old text here."""
    import asyncio

    from oomreplay.tui.app import ReplayApp
    from oomreplay.tui.widgets.log import LogPanel
    from oomreplay.tui.widgets.tasks import TasksPanel

    from ..pilots import settle

    rng = random.Random(11)
    app = ReplayApp(synthetic, seq=3000)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            partial = 0
            for _ in range(40):
                r = rng.random()
                if r < 0.1:
                    app._seek(rng.randrange(len(open_trace(synthetic))))
                else:
                    await pilot.press(rng.choice(("right", "right", "right", "left", "o", "f", "down", "up", ".")))
                await settle(pilot, app)
                await app.screen.wait_for_refresh()
                tasks, log = app.query_one(TasksPanel), app.query_one(LogPanel)
                partial += tasks._view is not None  # the step compared lines instead of repainting all
                stepped = app.export_screenshot()
                tasks.refresh()
                log.refresh()
                await pilot.pause()
                await app.screen.wait_for_refresh()
                assert app.export_screenshot() == stepped, app.cursor
            assert partial > 20

    asyncio.run(main())
