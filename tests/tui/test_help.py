"""``?``: the key list, generated from the bindings, at the two sizes the replay is tested at."""

from __future__ import annotations

import re

import pytest
from textual.binding import Binding
from textual.containers import VerticalScroll

from oomreplay._util.resources import demo_trace
from oomreplay.tui import keys
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.keyhelp import describe
from oomreplay.tui.screens.help import HelpScreen

from .test_tui_replay import run


@pytest.mark.parametrize("size", [(160, 48), (80, 24)])
def test_help_lists_every_key_by_group_and_scrolls(size: tuple[int, int]):
    async def script(pilot, app: ReplayApp) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.text()
        lines = shown.splitlines()
        for group in ("Move the cursor", "Jump and search", "Play, explain, present", "Marks and markers", "Panels",
                      "Other"):
            assert group in lines, group
        rows = [tuple(re.split(r"\s{2,}", line, maxsplit=1)) for line in lines]
        for expected in (("]", "next OOM kill: go to the next oom_kill event"), ("→", "next event"),
                         ("shift+→", "10 events forward"), ("/", "search events and log lines: a regular expression"),
                         ("a", "set marker A"), ("E", "event list"), ("x", "maximise the panel"),
                         ("L", "the log full screen"), ("↑", "tasks panel: select the task above"),
                         ("q / ^q", "quit oomreplay")):
            assert any(len(r) == 2 and r[0] == expected[0] and r[1].startswith(expected[1]) for r in rows), expected
        # every key the app binds is there, with words (not its action's name)
        for binding in Binding.make_bindings(keys.BINDINGS):
            assert describe(binding.action) != binding.action, binding.action
            assert any(describe(binding.action) in line for line in lines), binding.action
        assert lines.index("Move the cursor") < lines.index("Panels") < lines.index("Other")
        box = app.screen.query_one("#help")
        assert box.size.width >= 60 and box.size.height >= 18  # not the empty 6x4 box of issue 24
        scroll = app.screen.query_one("#help-scroll", VerticalScroll)
        if size == (80, 24):
            assert scroll.max_scroll_y > 0
            await pilot.press("end")
            await pilot.pause()
            assert scroll.scroll_y == scroll.max_scroll_y > 0
            await pilot.press("home")
            await pilot.pause()
            assert scroll.scroll_y == 0
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark", "question_mark")
        assert not isinstance(app.screen, HelpScreen)
    run(ReplayApp(demo_trace()), script, size=size)

