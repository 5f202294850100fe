"""Hindsight (issue 24 §2): at the demo's reaper failure the lockdep dump naming the holders is still to come; the
locks panel, the reaper panel, presentation mode and explain show what it will say, as inferred. And the locks
panel lists the victim's mm lock first (§3)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from oomreplay import Event, TraceWriter, open_trace
from oomreplay._util.resources import demo_trace
from oomreplay.session.hindsight import Hindsight, dump_index
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.screens.explain import ExplainScreen
from oomreplay.tui.widgets.locks import LocksPanel
from oomreplay.tui.widgets.reaper import ReaperPanel

from .test_tui_replay import press, run, text


def _demo_moments() -> tuple[int, int, int]:
    """The reaper's failure (its attempt and its "unable"), and the first line of the dump after it."""
    with open_trace(demo_trace()) as t:
        attempt, done, dump = (t.next(-1, kind="reaper_attempt"), t.next(-1, kind="reaper_done"),
                               t.next(-1, kind="lock_held"))
    assert attempt is not None and done is not None and dump is not None and attempt < done < dump
    return attempt, done, dump


def test_the_failure_shows_the_holders_the_later_dump_names():
    attempt, done, dump = _demo_moments()

    async def script(pilot, app: ReplayApp) -> None:
        for seq in (attempt, done):
            app._seek(seq)
            await press(pilot, app)
            locks = text(app.query_one(LocksPanel)).splitlines()
            assert locks[0] == "no lock held or waited for, as far as this moment knows"
            assert locks[1].startswith(f"known from the dump at seq {dump} (+0.0")
            assert locks[1].endswith("s), inferred:")
            # the reaper's lock first, with every holder the dump lists
            assert locks[2] == ("&mm->mmap_sem? held by 63 khugepaged, 3163 a.out, 3164 a.out, 3165 a.out, "
                                "3166 a.out, 3167 a.out")
            assert "tasklist_lock? held by 59 oom_reaper" in locks
            reaper = text(app.query_one(ReaperPanel))
            assert f"needs &mm->mmap_sem? (known from the dump at seq {dump}" in reaper
            assert "63 (khugepaged)" in reaper
        app._seek(len(open_trace(demo_trace())) - 1)  # after the dump: what it says is the state, not hindsight
        await press(pilot, app)
        locks = text(app.query_one(LocksPanel))
        assert "known from the dump" not in locks and "held by 63 khugepaged" in locks
    run(ReplayApp(demo_trace(), seq=attempt), script, size=(160, 48))


def test_explain_at_the_failure_says_what_the_dump_will_say_and_enter_goes_there():
    _, done, dump = _demo_moments()

    async def script(pilot, app: ReplayApp) -> None:
        await press(pilot, app, "e")
        assert isinstance(app.screen, ExplainScreen)
        topics = dict(app.screen.found.topics)
        rows = topics["Known from a later lock dump"]
        assert rows[0].text.startswith("&mm->mmap_sem: held (or queued for) by 63 (khugepaged), 3163 (a.out)")
        assert f"known from the dump at seq {dump}" in rows[0].text and rows[0].inferred
        assert "khugepaged+0x99d/0x1af0" in rows[0].evidence[0]
        headings = [h for h, _ in app.screen.found.topics]
        assert headings.index("The OOM reaper") + 1 == headings.index("Known from a later lock dump")
        options = app.screen.query_one(OptionList)
        target = next(i for i in range(options.option_count)
                      if str(options.get_option_at_index(i).prompt).startswith("• &mm->mmap_sem"))
        options.highlighted = target
        await press(pilot, app, "enter")
        assert app.cursor == rows[0].seq > done  # the dump line naming khugepaged
    run(ReplayApp(demo_trace(), seq=done), script, size=(160, 48))


def test_presentation_of_the_failure_shows_the_later_holders():
    _, done, dump = _demo_moments()

    async def script(pilot, app: ReplayApp) -> None:
        while app.cursor < done:
            await press(pilot, app, "right")
        assert app.cursor == done
        panel = app.query_one(LocksPanel)
        assert panel.display
        assert f"known from the dump at seq {dump}" in text(panel) and "&mm->mmap_sem? held by 63" in text(panel)
    run(ReplayApp(demo_trace(), present=True), script, size=(160, 48))


def _trace(path: Path, events: list[Event]) -> Path:
    with TraceWriter(path) as w:
        w.extend(events)
    return path


def test_dumps_are_split_by_other_events_and_hindsight_stops_at_a_new_kill(tmp_path: Path):
    s = 1_000_000_000
    path = _trace(tmp_path / "two.oomtrace", [
        Event(s, "oom_kill", 5, {"comm": "a"}),                                       # 0
        Event(s + 1, "reaper_attempt", 5, {"n": 1, "outcome": "lock_busy"}),           # 1
        Event(s + 2, "task", 7, {"comm": "b"}),                                        # 2
        Event(s + 3, "lock_held", 7, {"lock": "&mm->mmap_lock", "comm": "b"}),         # 3
        Event(s + 4, "log", None, {"text": "x"}),                                      # 4
        Event(s + 5, "lock_held", 8, {"lock": "other", "comm": "c"}),                  # 5
        Event(s + 6, "oom_kill", 9, {"comm": "d"}),                                    # 6
        Event(s + 7, "lock_held", 9, {"lock": "late", "comm": "d"}),                   # 7
    ])
    with open_trace(path) as t:
        assert [(d.first, d.last, [h.pid for h in d.held]) for d in dump_index(t)] == [(3, 5, [7, 8]), (7, 7, [9])]
        h = Hindsight(t)
        later = h.later(1, t.state_at(1))
        assert later is not None and later.dump.first == 3 and [n for n, _ in later.locks] == ["&mm->mmap_lock",
                                                                                              "other"]
        inside = h.later(3, t.state_at(3))  # inside the dump: only what it has not printed yet
        assert inside is not None and [n for n, _ in inside.locks] == ["other"]
        assert h.later(5, t.state_at(5)) is None  # the next dump is after another kill
        assert h.later(7, t.state_at(7)) is None


def test_the_victims_mm_lock_comes_first(tmp_path: Path):
    s = 1_000_000_000
    path = _trace(tmp_path / "order.oomtrace", [
        Event(s, "task", 5, {"tgid": 5, "comm": "victim"}),
        Event(s + 1, "task", 6, {"tgid": 6, "comm": "holder"}),
        Event(s + 2, "lock_acquire", 6, {"lock": "aaa_first_by_name", "mode": "w"}),
        Event(s + 3, "lock_acquire", 6, {"lock": "bbb_lock", "mode": "w"}),
        Event(s + 4, "lock_acquire", 6, {"lock": "mmap_lock", "mode": "w", "mm": 5}),
        Event(s + 5, "oom_kill", 5, {"comm": "victim"}),
    ])

    async def script(pilot, app: ReplayApp) -> None:
        lines = text(app.query_one(LocksPanel)).splitlines()
        names = [line for line in lines if not line.startswith(" ")]
        assert names[0] == "mmap_lock", lines
        assert names.index("aaa_first_by_name") < names.index("bbb_lock")
    run(ReplayApp(path, seq=5), script)
