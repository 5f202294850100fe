"""Markers A and B (issue 24 item 10): the duration between them is the events' own times, the count is the events
between, and the state changes in between include the kill and the reaper's outcome."""

from __future__ import annotations

from oomreplay import open_trace
from oomreplay._util.resources import demo_trace
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.screens.between import BetweenScreen
from oomreplay.tui.widgets.header import ReplayHeader

from .test_tui_replay import header, press, run


def test_markers_a_and_b_give_the_time_events_and_changes_between():
    with open_trace(demo_trace()) as t:
        kill = t.next(-1, kind="oom_kill")
        done = t.next(-1, kind="reaper_done")
        assert kill is not None and done is not None
        duration_ns = t.event(done).ts_ns - t.event(kill).ts_ns
        before = kill - 1
        assert t.event(before).ts_ns < t.event(kill).ts_ns + duration_ns

    async def script(pilot, app: ReplayApp) -> None:
        await press(pilot, app, "a")
        assert f"A #{before} (b / a sets the other)" in header(app)
        app._seek(done)
        await press(pilot, app)
        await press(pilot, app, "b")
        # A is the event before the kill: its own time, not the kill's
        with open_trace(demo_trace()) as t:
            a_ts, b_ts = t.event(before).ts_ns, t.event(done).ts_ns
        assert app.marker_a == (before, a_ts) and app.marker_b == (done, b_ts)
        expected = f"A #{before} → B #{done}: {(b_ts - a_ts) / 1e9:+.6f} s, {done - before} events"
        assert expected in header(app)
        await press(pilot, app, "A")
        assert isinstance(app.screen, BetweenScreen)
        shown = app.screen.text()
        assert f"{(b_ts - a_ts) / 1e9:.6f} s, {done - before} events" in shown.splitlines()[0]
        assert f"{a_ts / 1e9:.6f} s" in shown and f"{b_ts / 1e9:.6f} s" in shown
        assert "victim 3163 (a.out): not a victim → unable, 1 reaper attempts" in shown
        assert "oom_kill 1" in shown and "reaper_done 1" in shown
        lines = shown.splitlines()
        kill_line = next(i for i, line in enumerate(lines) if f"#{kill} " in line and "oom_kill" in line)
        done_line = next(i for i, line in enumerate(lines) if f"#{done} " in line and "reaper_done" in line)
        assert kill_line < done_line
        await press(pilot, app, "escape")
        assert not isinstance(app.screen, BetweenScreen) and app.cursor == done
        await press(pilot, app, "A", "down", "enter")  # the second change listed: goes there
        assert app.cursor == kill + 1
        assert "A #" in str(app.query_one(ReplayHeader).render())
    run(ReplayApp(demo_trace(), seq=before), script, size=(160, 48))
