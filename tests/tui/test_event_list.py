"""The event list (issue 24 item 8) on a corpus recording: filters by kind, pid, comm, CPU and a regex, counted
against the trace's own events, Enter moving the cursor; and ``/`` taking a regex with "hit k of n"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from oomreplay import open_trace
from oomreplay.ingest.convert import convert
from oomreplay.session.eventfilter import CPU_COLUMN, FilterError, parse_filter
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.screens.events import EventListScreen

from ..conftest import corpus_file
from ..pilots import settle
from .test_tui_replay import notes, press, run


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """005: the reaper's ten failed attempts on a victim whose thread holds mmap_lock (tracefs and its dmesg)."""
    ftrace = corpus_file("recorded/005_reaper_mmap_lock_unreapable/ftrace.txt")
    path = tmp_path_factory.mktemp("events") / "005.oomtrace"
    convert([str(ftrace), str(ftrace.with_name("dmesg.txt"))], path)
    return path


def _expected(path: Path, keep) -> list[int]:  # type: ignore[no-untyped-def]
    with open_trace(path) as t:
        return [ev.seq for ev in t.events() if keep(t, ev)]


async def _filter(pilot, app: ReplayApp, text: str) -> EventListScreen:  # type: ignore[no-untyped-def]
    screen = app.screen
    assert isinstance(screen, EventListScreen)
    before = screen.answered[0]
    screen.query_one(Input).value = text
    for _ in range(500):
        await pilot.pause(0.02)
        if screen.answered[0] > before and screen.answered[1] == text:
            return screen
    raise AssertionError(f"the filter {text!r} never answered")


def _line(t, ev) -> str:  # type: ignore[no-untyped-def]
    return t.source_lines(ev.src.line, ev.src.line, ev.src.file)[0] if ev.src else ""


def test_filters_by_kind_pid_comm_cpu_and_regex_and_enter_goes_there(recording: Path):
    attempts = _expected(recording, lambda t, ev: ev.kind == "reaper_attempt")
    assert len(attempts) == 10
    with open_trace(recording) as t:
        victim = t.event(attempts[0]).pid
    on_cpu1 = _expected(recording, lambda t, ev: (m := CPU_COLUMN.search(_line(t, ev))) and m.group(1) == "001"
                        and ev.kind == "task_state")
    skip = _expected(recording, lambda t, ev: ev.kind == "log" and re.search("unable to reap", _line(t, ev), re.I))
    assert on_cpu1 and skip

    async def script(pilot, app: ReplayApp) -> None:
        await press(pilot, app, "E")
        screen = await _filter(pilot, app, "kind:reaper_attempt")
        assert screen.shown[1].seqs == attempts
        assert "10 events match" in str(screen.query_one("#events-status").render())
        screen = await _filter(pilot, app, f"kind:reaper_attempt,oom_kill pid:{victim}")
        with open_trace(recording) as t:
            assert screen.shown[1].seqs == [ev.seq for ev in t.events(kind=["reaper_attempt", "oom_kill"],
                                                                       pid=victim)]
        screen = await _filter(pilot, app, "kind:task_state cpu:1")
        assert screen.shown[1].seqs == on_cpu1
        screen = await _filter(pilot, app, "unable\\s+to\\s+REAP")
        assert set(skip) <= set(screen.shown[1].seqs)
        screen = await _filter(pilot, app, "kind:reaper_attempt comm:oomr-mlock")
        assert screen.shown[1].seqs == attempts  # the victim's comm, learnt from its own events
        screen = await _filter(pilot, app, "kind:nonsense")
        assert "no event kind 'nonsense'" in str(screen.query_one("#events-status").render())
        screen = await _filter(pilot, app, "kind:reaper_attempt")
        listed = screen.query_one(OptionList)
        listed.focus()
        listed.highlighted = 3
        await press(pilot, app, "enter")
        assert not isinstance(app.screen, EventListScreen)
        assert app.cursor == attempts[3]
        await press(pilot, app, "E")  # the filter is offered again
        assert app.screen.query_one(Input).value == "kind:reaper_attempt"
        await press(pilot, app, "escape")
    run(ReplayApp(recording), script, size=(160, 48))


def test_parse_filter_refuses_what_it_cannot_read():
    f = parse_filter("kind:oom_kill pid:5 comm:a.out cpu:2 reap(ed|er)")
    assert (f.kinds, f.pid, f.comm, f.cpu) == (("oom_kill",), 5, "a.out", 2) and f.pattern.pattern == "reap(ed|er)"
    for bad in ("pid:x", "kind:nope", "unclosed("):
        with pytest.raises(FilterError):
            parse_filter(bad)


def test_search_takes_a_regex_and_says_hit_k_of_n(recording: Path):
    attempts = _expected(recording, lambda t, ev: ev.kind == "reaper_attempt")

    async def script(pilot, app: ReplayApp) -> None:
        await press(pilot, app, "slash")
        await pilot.press(*"reaper_att.mpt", "enter")
        await settle(pilot, app)
        for _ in range(500):  # the count runs in a worker of its own
            await pilot.pause(0.02)
            if app.search_hits is not None:
                break
        assert app.search_hits == ("reaper_att.mpt", attempts)
        assert app.cursor == attempts[0]
        await press(pilot, app, "n", "n")
        assert app.cursor == attempts[2]
        assert any(n.startswith("hit 3 of 10: reaper_att.mpt") for n in notes(app))
    run(ReplayApp(recording), script, size=(160, 48))
