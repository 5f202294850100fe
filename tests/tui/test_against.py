"""``replay A --against B`` driven headless: B's cursor follows A's along the alignment, the next-difference key
lands on the first divergence, the sides swap, both layouts (160×48 side by side, 80×24 stacked) draw."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from oomreplay import open_trace
from oomreplay.analysis.diff import compare
from oomreplay.tui.against import AgainstApp

from ..analysis.difftraces import S, episode, written

HOSTILE = "[bold]x[/]\x1b[31m"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A: web killed and reaped, then db killed and the reaper gives up on it. B: the same, with an extra OOM
    (cache killed) in between and other pids and times."""
    d = tmp_path_factory.mktemp("against")
    a = written(d / "a.oomtrace", episode(S, (10, "java"), (20, "web")) +
                episode(2 * S, (10, "java"), (30, HOSTILE), reaped=False))
    b = written(d / "b.oomtrace", episode(5 * S, (11, "java"), (21, "web")) +
                episode(6 * S, (11, "java"), (41, "cache")) + episode(7 * S, (11, "java"), (31, HOSTILE), reaped=False))
    return a, b


async def settle(pilot: Pilot, app: AgainstApp) -> None:
    for _ in range(1000):
        await pilot.pause(0.01)
        if app.settled:
            await pilot.pause()
            return
    raise AssertionError("the worker never answered")


def run(app: AgainstApp, script: Callable[[Pilot, AgainstApp], Awaitable[None]], size=(160, 48)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot, app)
            assert app.error is None, app.error
            await script(pilot, app)
    asyncio.run(main())


async def press(pilot: Pilot, app: AgainstApp, *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot, app)


def kills(path: Path) -> list[int]:
    with open_trace(path) as t:
        return [ev.seq for ev in t.events(kind="oom_kill")]


def shown(app: AgainstApp, pane: str) -> str:
    return str(app.query_one(f"#pane-{pane}").render())


def test_a_kill_moves_b_to_the_matched_kill(pair: tuple[Path, Path]):
    a, b = pair
    ka, kb = kills(a), kills(b)  # A: web, db; B: web, cache, db

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "]")
        assert (app.session.a_seq, app.session.b_seq) == (ka[0], kb[0])
        await press(pilot, app, "]")  # db, A's second kill: B's third (its second is the extra OOM)
        assert (app.session.a_seq, app.session.b_seq) == (ka[1], kb[2])
        assert f"seq {kb[2]}/" in shown(app, "b")
        await press(pilot, app, "right")  # one event on: B at the same offset, not past its next step
        assert app.session.b_seq == kb[2] + 1
    run(AgainstApp(a, b), script)


def test_next_difference_lands_on_the_first_divergence(pair: tuple[Path, Path]):
    a, b = pair
    with open_trace(a) as ta, open_trace(b) as tb:
        first = sorted(compare(ta, tb).differences(), key=lambda p: (p.a_at, p.b_at))[0]
    assert first.a is None and first.b is not None  # the extra OOM of B

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "d")
        assert (app.session.a_seq, app.session.b_seq) == (first.a_at, first.b_at)
        assert "≠" in shown(app, "b") and "differs here: only in this incident" in shown(app, "b")
        await press(pilot, app, "x")  # swap: B leads, and keeps its letter
        assert app.session.a_seq == first.b_at and shown(app, "a").startswith("B: ")
    run(AgainstApp(a, b), script)


@pytest.mark.parametrize("size,stacked", [((160, 48), False), ((80, 24), True)])
def test_both_layouts_draw_names_as_text(pair: tuple[Path, Path], size: tuple[int, int], stacked: bool):
    a, b = pair

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        assert app.query_one("#panes").has_class("-stacked") is stacked
        pa, pb = app.query_one("#pane-a").region, app.query_one("#pane-b").region
        assert (pa.y < pb.y and pa.x == pb.x) if stacked else (pa.x < pb.x and pa.y == pb.y)
        await press(pilot, app, "G")
        assert "[bold]x[/]\\x1b[31m" in shown(app, "a")  # markup shown as written, the escape escaped
    run(AgainstApp(a, b), script, size=size)


def test_present_against_walks_the_differences(pair: tuple[Path, Path]):
    """``present A --against B``: the chapters are the differences, in A's order, the first one opened."""
    from oomreplay.export.diff import chapters
    from oomreplay.tui.app import ReplayApp

    from ..pilots import settle as settle_replay

    a, b = pair
    with open_trace(a) as ta, open_trace(b) as tb:
        told = chapters(compare(ta, tb), ta)
    assert told and told[0].title.startswith("Only in B: ")

    async def main() -> None:
        app = ReplayApp(a, present=True, chapters=told)
        async with app.run_test(size=(160, 48)) as pilot:
            await settle_replay(pilot, app)
            assert [c.seq for c in app.chapters] == [c.seq for c in told]
            assert app.cursor == told[0].seq
            card = str(app.query_one("#chapter-title").render())
            assert f"1/{len(told)}" in card and "Only in B: " in card
    asyncio.run(main())
