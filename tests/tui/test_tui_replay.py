"""The replay TUI driven as a user drives it (Pilot), asserting what each panel shows after each key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Markdown, OptionList

from oomreplay import Event, TraceWriter, open_trace
from oomreplay._util.resources import demo_trace
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.screens.explain import ExplainScreen
from oomreplay.tui.screens.help import HelpScreen
from oomreplay.tui.screens.marks import MarkScreen, MarksScreen
from oomreplay.tui.widgets.header import ReplayHeader
from oomreplay.tui.widgets.locks import LocksPanel
from oomreplay.tui.widgets.log import LogPanel
from oomreplay.tui.widgets.memory import MemoryPanel
from oomreplay.tui.widgets.reaper import ReaperPanel
from oomreplay.tui.widgets.tasks import TasksPanel
from oomreplay.tui.widgets.timeline import Timeline

from ..pilots import settle

HOSTILE = {"markup": "[bold]x[/]", "click": "[@click=app.quit]y", "escape": "e\x1b]0;pwned\x07\x1b[31mred",
           "cjk": "进程名-worker"}


def run(app: ReplayApp, script: Callable[[Pilot, ReplayApp], Awaitable[None]], size=(120, 40)) -> None:
    """pytest-asyncio is not a dependency: each test drives its app in its own event loop."""
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            await script(pilot, app)
    asyncio.run(main())


async def press(pilot: Pilot, app: ReplayApp, *keys: str) -> None:
    await pilot.press(*keys)
    await settle(pilot, app)


def text(widget) -> str:
    """What a Static panel shows (its content, as plain text)."""
    return str(widget.render())


def header(app: ReplayApp) -> str:
    return text(app.query_one(ReplayHeader))


def task_lines(app: ReplayApp) -> list[str]:
    panel = app.query_one(TasksPanel)
    return [panel.render_line(y).text for y in range(panel.size.height)]


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two kills, reaper attempts failing on a lock held (per a lock dump) by a task with a hostile comm, a zone
    below min, a memcg at its limit; every event but the lock dump has a log line."""
    path = tmp_path_factory.mktemp("tui") / "incident.oomtrace"
    s = 1_000_000_000
    evs = [Event(s, "task", 100, {"tgid": 100, "comm": "a.out"}, src=(0, 1)),
           Event(s + 1, "task", 200, {"tgid": 200, "comm": "java"}, src=(0, 2)),
           Event(s + 2, "task", 63, {"tgid": 63, "comm": HOSTILE["markup"]}, src=(0, 3)),
           Event(s + 3, "zone", None, {"node": 0, "zone": "Normal", "free_kb": 10_000, "min_kb": 20_000,
                                       "low_kb": 25_000, "high_kb": 30_000}, src=(0, 4)),
           Event(s + 4, "memcg", None, {"path": "/job", "usage_kb": 512, "limit_kb": 512}, src=(0, 5)),
           Event(s + 5, "oom_invoke", 200, {"gfp": "GFP_KERNEL", "order": 0, "comm": "java"}, src=(0, 6)),
           Event(s + 6, "oom_kill", 100, {"comm": "a.out"}, src=(0, 7)),
           Event(s + 6, "flag_set", 100, {"flag": "TIF_MEMDIE"}, inferred={"flag"}, src=(0, 7)),
           Event(s + 7, "lock_held", 63, {"lock": "&mm->mmap_lock", "mode": "r"}),
           Event(s + 8, "reaper_attempt", 100, {"n": 1, "outcome": "lock_busy"}, src=(0, 8)),
           Event(s + 9, "reaper_attempt", 100, {"n": 2, "outcome": "lock_busy"}, src=(0, 9)),
           Event(s + 10, "oom_kill", 200, {"comm": "java"}, src=(0, 10))]
    evs += [Event(s + 11 + i, "rss", 200, {"anon_kb": i}, src=(0, 11)) for i in range(300)]
    evs.append(Event(s + 400, "task", 300, {"tgid": 300, "comm": "idle"}, src=(0, 11)))
    with TraceWriter(path, meta={"kernel": "6.1-test"}) as w:
        w.add_source_lines(w.add_source("dmesg"), [f"[{i}.0] line {i}" for i in range(1, 12)])
        w.extend(evs)
    return path


def test_opens_at_the_first_event_and_shows_every_panel(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert "incident.oomtrace" in header(app) and "kernel 6.1-test" in header(app)
        assert "seq 0/312" in header(app)
        assert "▶ [1.0] line 1" in text(app.query_one(LogPanel))
        assert "100     a.out" in task_lines(app)[1]
        assert "no OOM victim yet" in text(app.query_one(ReaperPanel))
    run(ReplayApp(incident), script)


def test_each_key_moves_the_cursor(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        expected = [("right", 1), ("right", 2), ("left", 1), ("shift+right", 11), ("shift+left", 1),
                    ("pagedown", 101), ("pageup", 1), ("G", 312), ("g", 0),
                    ("right_square_bracket", 6), ("right_square_bracket", 11), ("left_square_bracket", 6),
                    ("right_curly_bracket", 9), ("right_curly_bracket", 10), ("left_curly_bracket", 9),
                    ("left", 8)]
        for key, seq in expected:
            await press(pilot, app, key)
            assert app.cursor == seq, key
            assert f"seq {seq}/312" in header(app), key
    run(ReplayApp(incident), script)


def test_kill_key_shows_victim_flags_log_and_timeline(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "]", "right")  # the kill, then the inferred TIF_MEMDIE
        assert "oom_kill" in header(app) or "flag_set" in header(app)
        row = next(line for line in task_lines(app) if line.startswith("100 "))
        assert "TIF_MEMDIE?" in row
        assert "1 a.out" not in text(app.query_one(ReaperPanel))
        assert "100 a.out killed #6 +0.000 s  attempts 0/10" in text(app.query_one(ReaperPanel))
        assert "▶ [7.0] line 7" in text(app.query_one(LogPanel))
        timeline = app.query_one(Timeline)
        assert "K" in timeline.render_line(1).text and "▲" in timeline.render_line(2).text
    run(ReplayApp(incident), script)


def test_reaper_locks_and_memory_panels(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert "seq 9/312" in header(app)
        reaper = text(app.query_one(ReaperPanel))
        assert "attempts 1/10 [lock_busy]" in reaper and "pending" in reaper
        # only a lockdep dump names the lock: "?" says it may be another mm's
        assert f"needs &mm->mmap_lock?: 63 ({HOSTILE['markup']}) r" in reaper
        locks = text(app.query_one(LocksPanel))
        assert "&mm->mmap_lock" in locks and "held by 63 [bold]x[/] (r)" in locks
        assert "inferred from a lock dump" in locks
        memory = text(app.query_one(MemoryPanel))
        assert "N0 Normal" in memory and "10,000 kB into the reserves" in memory
        assert "/job" in memory and "512/512 kB 100%" in memory
    run(ReplayApp(incident, seq=9), script)


def test_changed_rows_are_the_ones_the_step_touched(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "right")
        assert app.frame is not None and app.frame.changed == {200}
        await press(pilot, app, "g")
        assert app.frame.changed == {100}  # a.out lost its flag; the tasks that went away are not rows
    run(ReplayApp(incident, seq=20), script)


def test_f_toggles_only_involved_tasks(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        panel = app.query_one(TasksPanel)
        assert [r.pid for r in panel.rows] == [63, 100, 200, 300]
        await press(pilot, app, "f")
        assert [r.pid for r in panel.rows] == [63, 100, 200]  # lock holder, victim, invoker and victim; not idle
        assert "only involved" in str(panel.border_title)
        await press(pilot, app, "f")
        assert len(panel.rows) == 4
    run(ReplayApp(incident, seq=312), script)


def test_timeline_click_scrubs(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        timeline = app.query_one(Timeline)
        await pilot.click(Timeline, offset=(timeline.content_region.width - 1 + 1, 2))
        await settle(pilot, app)
        assert app.cursor > 300
        await pilot.click(Timeline, offset=(1, 2))
        await settle(pilot, app)
        assert app.cursor < 20
    run(ReplayApp(incident, seq=100), script)


def test_help_and_quit(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert "next OOM kill" in app.screen.text()
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        assert not app.is_running
    run(ReplayApp(incident), script)


def test_demo_trace_steps_to_its_first_kill():
    """The seed incident at 80x24: a.out (3163) is killed, then the reaper's single logged attempt fails."""
    demo = open_trace(demo_trace())
    first_kill, last = demo.next(-1, kind="oom_kill"), len(demo) - 1

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "]")
        assert app.cursor == first_kill and f"seq {first_kill}/{last}" in header(app)
        assert "a.out" in text(app.query_one(ReaperPanel))
        assert "oom_kill" in header(app)
        await press(pilot, app, "}")
        assert "reaper_attempt" in header(app)
        assert "attempts 1/10" in text(app.query_one(ReaperPanel))
    run(ReplayApp(demo_trace()), script, size=(80, 24))


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_comm_shows_literally(tmp_path: Path, name: str):
    comm = HOSTILE[name]
    path = tmp_path / "hostile.oomtrace"
    with TraceWriter(path) as w:
        w.add_source_lines(w.add_source("dmesg"), [f"Killed process 7 ({comm})"])
        w.extend([Event(1, "task", 7, {"tgid": 7, "comm": comm}),
                  Event(2, "lock_acquire", 7, {"lock": comm, "mode": "w"}),
                  Event(3, "oom_kill", 7, {"comm": comm}, src=(0, 1))])
    shown = comm.replace("\x1b", "\\x1b").replace("\x07", "\\x07")

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        row = task_lines(app)[1]
        assert shown[:10] in row  # the comm column is 15 cells wide
        assert "\x1b" not in "".join(task_lines(app))
        for panel in (LocksPanel, ReaperPanel, LogPanel):
            content = text(app.query_one(panel))
            assert shown in content and "\x1b" not in content, panel
        await pilot.click(LocksPanel)  # a live [@click=app.quit] would quit here
        assert app.is_running
    run(ReplayApp(path, seq=2), script)


def test_empty_trace(tmp_path: Path):
    path = tmp_path / "empty.oomtrace"
    with TraceWriter(path):
        pass

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert "empty trace: no events" in header(app)
        await press(pilot, app, "right", "]", "G")
        assert app.cursor == -1 and "empty trace" in header(app)
    run(ReplayApp(path), script)


@pytest.mark.parametrize("damage", ["garbage", "trailer"])
def test_damaged_trace_gives_a_message(tmp_path: Path, incident: Path, damage: str):
    path = tmp_path / "bad.oomtrace"
    data = bytearray(incident.read_bytes())
    if damage == "garbage":
        data = bytearray(b"not a trace at all" * 4)
    else:
        data[-3] ^= 0xFF  # the trailer's CRC: the store refuses the file rather than guess
    path.write_bytes(bytes(data))

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert app.error is not None
        assert "cannot show this trace" in header(app) and "bad.oomtrace" in header(app)
        await pilot.press("right")
        assert app.is_running
    run(ReplayApp(path), script)


def test_unfinished_trace_is_recovered_with_a_warning(tmp_path: Path, incident: Path):
    path = tmp_path / "unfinished.oomtrace"
    path.write_bytes(incident.read_bytes()[:-40] + b"\0" * 40)

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert app.error is None and app.info is not None and app.info.recovered
        assert "seq 0/" in header(app)
    run(ReplayApp(path), script)


def test_ten_thousand_tasks_open_and_step(tmp_path: Path):
    path = tmp_path / "big.oomtrace"
    with TraceWriter(path) as w:
        w.extend(Event(pid, "task", pid, {"tgid": pid, "comm": f"w{pid}"}) for pid in range(1, 10_001))
        w.extend(Event(20_000 + i, "rss", 5_000, {"anon_kb": i}) for i in range(50))

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "G")
        panel = app.query_one(TasksPanel)
        assert len(panel.rows) == 10_000 and "tasks 10000/10000" in str(panel.border_title)
        await press(pilot, app, "left")
        assert app.cursor == 10_048 and app.frame is not None and app.frame.changed == {5_000}
        panel.scroll_to(y=4_990, animate=False)
        await pilot.pause()
        assert any(line.startswith("5000 ") for line in task_lines(app))
    run(ReplayApp(path), script)


def notes(app: ReplayApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_v_walks_the_invariant_violations(incident: Path):
    """The incident breaks two rules: a.out (killed at seq 6) never stops being pending, and java is killed at
    seq 11 while it still is."""
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "v")
        assert app.cursor == 6 and any("still pending when the trace ends" in n for n in notes(app))
        await press(pilot, app, "v")
        assert app.cursor == 11 and any("killed while 100 (a.out)" in n for n in notes(app))
        await press(pilot, app, "v")
        assert app.cursor == 11 and any("no next invariant violation" in n for n in notes(app))
        await press(pilot, app, "V")
        assert app.cursor == 6
    run(ReplayApp(incident), script)


def test_e_explains_the_moment_and_enter_goes_to_the_evidence(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "e")
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        options = screen.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        shown = "\n".join(prompts)
        for expected in ("Why the OOM happened", "The OOM reaper", "Invariants", "The kernel killed 100 (a.out)",
                         "2 attempts failed", HOSTILE["markup"], "Kernel 6.1.0 (named by the log)"):
            assert expected in shown, expected
        await press(pilot, app, "left", "G")  # the replay's keys do nothing under the overlay
        assert app.cursor == 10 and app.screen is screen
        options.highlighted = next(i for i, p in enumerate(prompts) if "The kernel killed 100 (a.out)" in p)
        await press(pilot, app, "enter")
        assert not isinstance(app.screen, ExplainScreen) and app.cursor == 6
        await press(pilot, app, "e")
        assert isinstance(app.screen, ExplainScreen)
        await press(pilot, app, "e")
        assert not isinstance(app.screen, ExplainScreen) and app.cursor == 6 and app.is_running
    run(ReplayApp(incident, seq=10), script)


def test_comma_and_full_stop_follow_the_selected_task(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert app.query_one(TasksPanel).selected == 100  # the first row
        await press(pilot, app, "full_stop")
        assert app.cursor == 6  # its kill
        await press(pilot, app, "full_stop")
        assert app.cursor == 7  # its TIF_MEMDIE
        await press(pilot, app, "comma")
        assert app.cursor == 6
        await press(pilot, app, "down")  # rows 63, 100, 200: select 200
        assert app.query_one(TasksPanel).selected == 200
        await press(pilot, app, "full_stop")
        assert app.cursor == 11 and "oom_kill 200" in header(app)
    run(ReplayApp(incident), script)


def test_colon_goes_to_a_seq_or_a_time(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "colon")
        await pilot.press(*"#9", "enter")
        await settle(pilot, app)
        assert app.cursor == 9
        await press(pilot, app, "colon")
        await pilot.press(*"1.000000006s", "enter")
        await settle(pilot, app)
        assert app.cursor == 7  # the last event at or before that time
        await press(pilot, app, "colon")
        await pilot.press(*"soon", "enter")
        await settle(pilot, app)
        assert app.cursor == 7 and any("not a seq or a time" in n for n in notes(app))
    run(ReplayApp(incident), script)


def test_slash_searches_events_and_log_lines_and_n_repeats(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "slash")
        await pilot.press(*"JAVA", "enter")
        await settle(pilot, app)
        assert app.cursor == 1  # task 200 comm=java, case ignored
        await press(pilot, app, "n")
        assert app.cursor == 5  # the invocation by java
        await press(pilot, app, "N")
        assert app.cursor == 1
        await press(pilot, app, "slash", "ctrl+u")
        await pilot.press(*"line 9", "enter")  # only in the source text of the second reaper attempt
        await settle(pilot, app)
        assert app.cursor == 10
        await press(pilot, app, "n")
        assert app.cursor == 10 and any("no next event or log line with 'line 9'" in n for n in notes(app))
    run(ReplayApp(incident), script)


def test_space_plays_and_pauses_and_plus_speeds_up(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "plus", "plus")  # 10 -> 50 events/s
        t0 = time.perf_counter()
        await pilot.press("space")
        await pilot.pause(0.6)  # not settle(): while playing, a newer step is nearly always on its way
        rate = app.cursor / (time.perf_counter() - t0)
        assert app.playing and "▶ 50 ev/s" in header(app)
        assert 5 <= rate <= 60, rate  # at most the speed asked for, however late the pause wakes
        await press(pilot, app, "space")
        stopped = app.cursor
        await pilot.pause(0.3)
        await settle(pilot, app)
        assert app.cursor == stopped and not app.playing and "⏸" in header(app)
    run(ReplayApp(incident), script)


def test_o_sorts_the_tasks(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert [ln.split()[0] for ln in task_lines(app)[1:4]] == ["63", "100", "200"]
        await press(pilot, app, "o")  # by rss: java has 299 kB, the others none
        assert task_lines(app)[1].split()[0] == "200" and "by rss" in app.query_one(TasksPanel).border_title
        await press(pilot, app, "o", "o", "o", "o")
        assert [ln.split()[0] for ln in task_lines(app)[1:4]] == ["63", "100", "200"]
    run(ReplayApp(incident, seq=310), script)


def test_command_palette_lists_every_action_and_runs_it(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in ("Next OOM kill", "Explain this moment", "Search", "Play / pause", "Next invariant violation"):
            assert title in commands
        commands["Next OOM kill"].callback()
        await settle(pilot, app)
        assert app.cursor == 6
    run(ReplayApp(incident), script)


def test_opens_at_a_time(incident: Path):
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert app.cursor == 7
    run(ReplayApp(incident, at_ns=1_000_000_006), script)


def test_locks_panel_shows_wait_for_chains_and_cycles(tmp_path: Path):
    path = tmp_path / "chains.oomtrace"
    s = 1_000_000_000
    with TraceWriter(path) as w:
        w.extend([Event(s, "task", 1, {"comm": "one"}), Event(s, "task", 2, {"comm": "two"}),
                  Event(s, "task", 3, {"comm": HOSTILE["markup"]}),
                  Event(s + 1, "lock_acquire", 1, {"lock": "A", "mode": "w"}),
                  Event(s + 2, "lock_acquire", 2, {"lock": "B", "mode": "w"}),
                  Event(s + 3, "lock_contended", 3, {"lock": "A", "mode": "r"}),
                  Event(s + 4, "lock_contended", 1, {"lock": "B", "mode": "w"}),
                  Event(s + 5, "lock_held", 4, {"lock": "C"}), Event(s + 5, "lock_contended", 5, {"lock": "C"}),
                  Event(s + 6, "lock_contended", 2, {"lock": "A", "mode": "w"})])

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        locks = text(app.query_one(LocksPanel)).splitlines()
        assert f"wait-for 3 ({HOSTILE['markup']}) → A → 1 (one) → B → 2 (two)" in locks
        assert "wait-for 5 → C? → 4" in locks  # 4 holds C only per a lock dump
        await press(pilot, app, "right")
        locks = text(app.query_one(LocksPanel)).splitlines()
        assert "wait-for cycle: 1 (one) → 2 (two) → 1 (one)" in locks
    run(ReplayApp(path, seq=8), script)


def test_memory_sparkline_of_free_memory(tmp_path: Path):
    path = tmp_path / "free.oomtrace"
    s = 1_000_000_000
    with TraceWriter(path) as w:
        w.extend([Event(s + i * s, "zone", None, {"node": 0, "zone": "Normal", "free_kb": free, "min_kb": 200})
                  for i, free in enumerate((1000, 800, 500, 100, 900))])

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        (spark,) = [ln for ln in text(app.query_one(MemoryPanel)).splitlines() if ln.startswith("free ")]
        assert spark.endswith(" 100..1,000 kB")
        cells = spark[len("free "):-len(" 100..1,000 kB")]
        assert len(cells) == 40 and cells.strip()[0] == "█" and "▁" in cells
        assert cells.index("▁") > cells.index("▄")  # the low comes after the middle value, as in time
    run(ReplayApp(path, seq=2), script)


def test_memory_panel_shows_the_last_mem_info_summary(tmp_path: Path):
    """The Mem-Info counters the kernel printed, in kB, replaced whole by the next summary."""
    path = tmp_path / "meminfo.oomtrace"
    with TraceWriter(path) as w:
        w.extend([Event(1_000, "meminfo", None, {"free_kb": 8204, "active_anon_kb": 1234567, "slab_kb": 40}),
                  Event(2_000, "meminfo", None, {"free_kb": 4100, "shmem_kb": 512})])

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        def summary() -> str:
            (line,) = [ln for ln in text(app.query_one(MemoryPanel)).splitlines() if ln.startswith("Mem-Info kB")]
            return line

        assert "free:8,204" in summary() and "active_anon:1,234,567" in summary() and "slab:40" in summary()
        await press(pilot, app, "right")
        assert "free:4,100" in summary() and "shmem:512" in summary() and "active_anon" not in summary()
    run(ReplayApp(path, seq=0), script)


def test_z_zooms_the_timeline_around_the_cursor(tmp_path: Path):
    path = tmp_path / "long.oomtrace"
    ms = 1_000_000
    with TraceWriter(path) as w:
        w.extend([Event(1000 * ms + i * ms, "rss", 1, {"anon_kb": i}) for i in range(1001)])

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        timeline = app.query_one(Timeline)
        await press(pilot, app, "z")
        assert timeline.span == (1375 * ms, 1625 * ms) and "zoomed" in timeline.border_title
        await pilot.click(Timeline, offset=(1, 2))  # the left edge is now 375 ms in, not the start
        await settle(pilot, app)
        assert 375 <= app.cursor <= 380
        await press(pilot, app, "Z")
        assert timeline.span == (1000 * ms, 2000 * ms) and timeline.border_title == "timeline"
        await pilot.click(Timeline, offset=(1, 2))
        await settle(pilot, app)
        assert app.cursor <= 20  # one column of the whole second is ~8.5 ms
    run(ReplayApp(path, seq=500), script)


# -- marks and presentation mode ----------------------------------------------------------------------------

@pytest.fixture
def own_incident(incident: Path, tmp_path: Path) -> Path:
    """A copy of the incident, so the notes written beside it are this test's alone."""
    path = tmp_path / "incident.oomtrace"
    path.write_bytes(incident.read_bytes())
    return path


def test_m_marks_an_event_and_quote_lists_edits_and_deletes(own_incident: Path):
    sidecar = own_incident.with_name(own_incident.name + ".notes.toml")

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "m")
        assert isinstance(app.screen, MarkScreen)
        await pilot.press(*"the kill", "enter", *"why [b]this[/b]", "ctrl+s")
        await settle(pilot, app)
        assert [(m.title, m.note, seq) for m, seq in app.marks] == [("the kill", "why [b]this[/b]", 6)]
        saved = sidecar.read_text()
        assert 'title = "the kill"' in saved and "oom_kill" in saved
        assert "M" in app.query_one(Timeline).render_line(1).text
        await press(pilot, app, "g", "apostrophe")
        assert isinstance(app.screen, MarksScreen)
        await press(pilot, app, "enter")
        assert app.cursor == 6
        await press(pilot, app, "apostrophe", "e")
        assert isinstance(app.screen, MarkScreen) and app.screen.query_one("#mark-title").value == "the kill"
        await pilot.press("ctrl+u", *"killed", "ctrl+s")
        await settle(pilot, app)
        assert [m.title for m, _ in app.marks] == ["killed"] and 'title = "killed"' in sidecar.read_text()
        await press(pilot, app, "m")  # on a marked event, m edits its mark
        assert app.screen.query_one("#mark-title").value == "killed"
        await press(pilot, app, "escape")
        await press(pilot, app, "apostrophe", "d")
        assert app.marks == () and "the kill" not in sidecar.read_text() and "killed" not in sidecar.read_text()
    run(ReplayApp(own_incident, seq=6), script)


def test_a_broken_notes_file_is_reported_and_never_overwritten(own_incident: Path):
    sidecar = own_incident.with_name(own_incident.name + ".notes.toml")
    sidecar.write_text('[[mark]]\ntitle = "unclosed\n')

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert any("notes.toml" in n and "read-only" in n for n in notes(app))
        await press(pilot, app, "m")
        await pilot.press(*"x", "ctrl+s")
        await settle(pilot, app)
        assert sidecar.read_text() == '[[mark]]\ntitle = "unclosed\n' and app.marks == ()
    run(ReplayApp(own_incident), script)


def _card(app: ReplayApp) -> str:
    return text(app.query_one("#chapter-title")) + "\n" + text(app.query_one("#chapter-context"))


def test_presentation_walks_the_chapters_and_playback_stops_at_each(own_incident: Path):
    """Without marks, the chapters are the key moments: the invocation (seq 5), the two kills (6, 11)."""
    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert [c.seq for c in app.chapters] == [5, 6, 11]
        assert app.cursor == 5 and "1/3" in _card(app) and "invokes the OOM killer" in _card(app)
        assert "mm/oom_kill.c" in _card(app)  # the kernel context line
        assert not app.query_one(Timeline).display
        await press(pilot, app, "right")
        assert app.cursor == 6 and "2/3" in _card(app) and "kills a.out (100)" in _card(app)
        assert app.query_one(ReaperPanel).display and not app.query_one(LocksPanel).display
        assert app.query_one(TasksPanel).only_involved
        await press(pilot, app, "pagedown")
        assert app.cursor == 11 and "3/3" in _card(app)
        await press(pilot, app, "pageup", "left")
        assert app.cursor == 5
        await press(pilot, app, "shift+right")  # ten events on: past the kill at 6, inside chapter 2
        assert app.cursor == 15 and "2/3" not in _card(app) and "3/3" in _card(app)
        await press(pilot, app, "left", "left")
        assert app.cursor == 6
        await pilot.press("space")  # plays towards the next chapter and stops there
        for _ in range(300):
            await pilot.pause(0.02)
            if not app.playing:
                break
        await settle(pilot, app)
        assert app.cursor == 11 and not app.playing
        await press(pilot, app, "p")
        assert app.query_one(Timeline).display and app.query_one(LocksPanel).display
        await press(pilot, app, "right")
        assert app.cursor == 12  # one event again, not a chapter
    run(ReplayApp(own_incident, present=True), script)


def test_presentation_chapters_are_the_marks_when_there_are_some(own_incident: Path):
    from oomreplay.review.notes import Anchor, Mark, Notes

    with open_trace(own_incident) as t:
        notes = Notes.load(own_incident)
        notes.add(Mark("the reaper tries", "**first** try", Anchor.of(t, 9)))
        notes.add(Mark("java goes", "", Anchor.of(t, 11)))
        notes.save()

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        assert [c.seq for c in app.chapters] == [9, 11] and app.cursor == 9
        assert "the reaper tries" in _card(app)
        note = app.query_one("#chapter-note", Markdown)
        assert "first" in str(note.source)
        updates = []
        original = note.update
        note.update = lambda markdown: updates.append(markdown) or original(markdown)  # type: ignore[method-assign]
        app._seek(10)  # a step inside the chapter: its note is not parsed and mounted again
        await settle(pilot, app)
        assert "(+1 event)" in _card(app) and updates == []
        await press(pilot, app, "right")
        assert app.cursor == 11 and "java goes" in _card(app) and updates == [""]
    run(ReplayApp(own_incident, present=True), script)


def test_marks_of_a_converted_log_are_kept_beside_the_log(own_incident: Path, tmp_path: Path):
    log = tmp_path / "dmesg.txt"
    log.write_text("the log the trace was converted from\n")

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "m")
        await pilot.press(*"here", "ctrl+s")
        await settle(pilot, app)
    run(ReplayApp(own_incident, seq=6, notes_for=log), script)
    assert 'title = "here"' in (tmp_path / "dmesg.txt.notes.toml").read_text()
    assert not own_incident.with_name(own_incident.name + ".notes.toml").exists()


def test_s_saves_an_svg_screenshot(incident: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import xml.etree.ElementTree as ET

    monkeypatch.chdir(tmp_path)

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        await press(pilot, app, "s")
    run(ReplayApp(incident, seq=6), script)
    shot = tmp_path / "incident-seq6.svg"
    svg = shot.read_text()
    ET.fromstring(svg)  # well-formed
    assert "a.out" in svg and "seq&#160;6/312" in svg


def test_timeline_marks_allocation_stalls(tmp_path: Path):
    path = tmp_path / "stalls.oomtrace"
    s = 1_000_000_000
    with TraceWriter(path) as w:
        w.extend([Event(s, "alloc", 5, {"order": 0, "outcome": "ok"}),
                  Event(2 * s, "alloc", 5, {"order": 0, "outcome": "stall", "duration_ns": 10**10}),
                  Event(3 * s, "alloc", 5, {"order": 0, "outcome": "ok"}),
                  Event(4 * s, "oom_kill", 5, {"comm": "x"})])

    async def script(pilot: Pilot, app: ReplayApp) -> None:
        marks = app.query_one(Timeline).render_line(1).text
        assert marks.count("s") == 1 and marks.count("K") == 1 and marks.index("s") < marks.index("K")
        assert marks.index("s") > 0  # the ok allocation at the start is not marked
    run(ReplayApp(path), script)
