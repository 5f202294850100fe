"""Panel room (issue 24 §3): the log larger at 160x48, L shows it full screen and it scrolls, x maximises the
focused panel."""

from __future__ import annotations

from oomreplay._util.resources import demo_trace
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.widgets.locks import LocksPanel
from oomreplay.tui.widgets.log import LogPanel

from .test_tui_replay import press, run, text


def test_log_full_screen_scrolls_and_x_maximises_the_focused_panel():
    async def script(pilot, app: ReplayApp) -> None:
        log = app.query_one(LogPanel)
        assert log.size.height >= 13  # was 7 lines of text at 160x48
        await press(pilot, app, "L")
        assert app.screen.maximized is log and log.size.height >= 40
        shown = text(log).splitlines()
        assert "▶ [  494.838382] oom_reaper: unable to reap pid:3163 (a.out)" in shown
        assert any("5 locks held by a.out/3163" in line for line in shown)  # 28 lines below the cursor's
        await press(pilot, app, "down", "down")
        assert log.shift == 2
        await press(pilot, app, "right")  # a step centres on the new cursor's line again
        assert log.shift == 0 and app.cursor == 4
        await press(pilot, app, "L")
        assert app.screen.maximized is None
        app.query_one(LocksPanel).focus()
        await press(pilot, app, "x")
        assert app.screen.maximized is app.query_one(LocksPanel)
        await press(pilot, app, "escape")
        assert app.screen.maximized is None
    run(ReplayApp(demo_trace(), seq=3), script, size=(160, 48))
