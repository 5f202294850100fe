"""``replay A --against B`` driven headless: B's cursor follows A's along the alignment, the next-difference key
lands on the first divergence, the sides swap, each side's replay panels mark (``≠``, and a style) the rows that
differ from the other side, and both layouts (160×48 side by side, 80×24 stacked) draw."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.content import Content
from textual.pilot import Pilot

from oomreplay import open_trace
from oomreplay.analysis.diff import anchors, compare
from oomreplay.tui.against import AgainstApp
from oomreplay.tui.screens.help import HelpScreen
from oomreplay.tui.widgets.panel import DIFFERS_STYLE
from oomreplay.tui.widgets.tasks import TasksPanel

from ..analysis.difftraces import S, episode, written
from ..conftest import TRACES
from ..pilots import settle as settle_replay
from ..pilots import settle_against as settle

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


def panel(app: AgainstApp, side: str, kind: str) -> Content:
    """What a side's panel (``.header``, ``.story``, ``.reaper``, ``.memory``, ``.locks``) shows."""
    shown = app.query_one(f"#side-{side} .{kind}").render()
    assert isinstance(shown, Content)
    return shown


def line_of(content: Content, text: str) -> tuple[str, bool]:
    """The line of ``content`` holding ``text``, and whether it is drawn in the differing style."""
    start = content.plain.index(text)
    begin = content.plain.rfind("\n", 0, start) + 1
    end = content.plain.find("\n", start)
    end = len(content.plain) if end < 0 else end
    styled = any(str(span.style) == DIFFERS_STYLE and span.start <= start < span.end for span in content.spans)
    return content.plain[begin:end], styled


def task_lines(app: AgainstApp, side: str) -> dict[int, str]:
    """The tasks panel's rows as drawn, by pid."""
    tasks = app.query_one(f"#side-{side} .tasks", TasksPanel)
    return {row.pid: tasks.render_line(y).text for y, row in enumerate(tasks.rows, 1)}


def test_a_kill_moves_b_to_the_matched_kill(pair: tuple[Path, Path]):
    a, b = pair
    ka, kb = kills(a), kills(b)
    # by hand: an episode is task, invoke, kill, wake, attempts, done: A's kills are web at 2 and db at 8 (after
    # web's 6 events); B's web at 2, cache at 8, db at 14 (after two reaped episodes)
    assert (ka, kb) == ([2, 8], [2, 8, 14])
    with open_trace(a) as ta, open_trace(b) as tb:
        paired = {p.a.seq: p.b.seq for p in compare(ta, tb).pairs if p.a and p.b and p.a.kind == "kill"}
    assert paired == {ka[0]: kb[0], ka[1]: kb[2]}  # db's kill is paired with B's third: cache's has no partner

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "]")
        assert (app.session.a_seq, app.session.b_seq) == (ka[0], paired[ka[0]])
        await press(pilot, app, "]")
        assert (app.session.a_seq, app.session.b_seq) == (ka[1], paired[ka[1]])
        assert panel(app, "b", "header").plain.startswith(f"seq {paired[ka[1]]}/")
        assert "▶" in line_of(panel(app, "b", "story"), "kill")[0]
        await press(pilot, app, "right")  # one event on: B at the same offset, not past its next step
        assert app.session.b_seq == paired[ka[1]] + 1
    run(AgainstApp(a, b), script)


def test_next_difference_lands_on_the_first_divergence(pair: tuple[Path, Path]):
    a, b = pair
    with open_trace(a) as ta, open_trace(b) as tb:
        ordered = sorted(compare(ta, tb).differences(), key=lambda p: (p.a_at, p.b_at))
    first = ordered[0]
    # by hand: the second invocations pair (A 7, B 7); B's cache kill at 8 is the first step only one side has,
    # standing at A's invocation
    assert first.a is None and first.b is not None and (first.a_at, first.b_at) == (7, 8)

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "d")
        assert (app.session.a_seq, app.session.b_seq) == (first.a_at, first.b_at)
        story = panel(app, "b", "story").plain
        assert "▶≠" in story and "only in this incident" in story
        # the extra victim is marked in B's reaper panel and tasks, the victim both have (web, reaped) is not
        line, styled = line_of(panel(app, "b", "reaper"), "41 cache")
        assert line.startswith("≠ 41 cache") and styled
        assert not line_of(panel(app, "b", "reaper"), "21 web")[1]
        rows = task_lines(app, "b")
        assert rows[41].startswith("≠ 41") and rows[21].startswith("  21")
        await press(pilot, app, "d")  # B's next extra step, still at the same point of A
        assert (app.session.a_seq, app.session.b_seq) == (ordered[1].a_at, ordered[1].b_at)
        await press(pilot, app, "D")
        assert (app.session.a_seq, app.session.b_seq) == (first.a_at, first.b_at)
    run(AgainstApp(a, b), script)


def test_swap_makes_b_lead(pair: tuple[Path, Path]):
    a, b = pair

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "]", "]")
        before = (app.session.a_seq, app.session.b_seq)
        await press(pilot, app, "x")
        assert (app.session.a_seq, app.session.b_seq) == before[::-1]
        assert "B: " in panel(app, "a", "header").plain and "A: " in panel(app, "b", "header").plain
        await press(pilot, app, "right")  # B's cursor leads now
        assert app.session.a_seq == before[1] + 1
        await press(pilot, app, "x")
        assert "A: " in panel(app, "a", "header").plain
    run(AgainstApp(a, b), script)


def test_a_reaped_victim_against_one_the_reaper_gave_up_on_is_marked():
    """Bundled traces: memcg-6.18 (oomr-dio reaped) against seed-006 (the reaper gave up on a.out)."""
    a, b = TRACES / "memcg-6.18-reaped.oomtrace", TRACES / "seed-006-unable-to-reap.oomtrace"
    with open_trace(a) as ta, open_trace(b) as tb:
        last = anchors(compare(ta, tb))[-1]
        a_last = len(ta) - 1
    # by hand: both stories end on the victim's MMF_OOM_SKIP, paired: A's at its last event, B's at seq 5
    assert (last.a_seq, last.b_seq) == (a_last, 5)

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await press(pilot, app, "G")
        assert (app.session.a_seq, app.session.b_seq) == (last.a_seq, last.b_seq)
        mine, styled = line_of(panel(app, "a", "reaper"), "oomr-dio")
        assert mine.startswith("≠ 4252 oomr-dio") and "reaped" in mine and styled
        theirs, styled = line_of(panel(app, "b", "reaper"), "a.out")
        assert theirs.startswith("≠ 3163 a.out") and "unable" in theirs and styled
        said = panel(app, "b", "story").plain
        assert "victim a.out: unable, " in said and "(other: reaped, " in said
        # what agrees is not marked: the victims' task rows (both TIF_MEMDIE), A's memcg (B reports none)
        assert task_lines(app, "a")[4252].startswith("  4252") and task_lines(app, "b")[3163].startswith("  3163")
        assert not line_of(panel(app, "a", "memory"), "/oomreplay-reaper-dio")[1]
        # the invoker only A's log names is marked as such
        assert task_lines(app, "a")[4257].startswith("≠ 4257")
    run(AgainstApp(a, b, a.stem, b.stem), script)


@pytest.mark.parametrize("size,stacked", [((160, 48), False), ((80, 24), True)])
def test_both_layouts_draw_names_as_text(pair: tuple[Path, Path], size: tuple[int, int], stacked: bool):
    a, b = pair

    async def script(pilot: Pilot, app: AgainstApp) -> None:
        assert app.screen.has_class("-stacked") is stacked
        pa, pb = app.query_one("#side-a").region, app.query_one("#side-b").region
        assert (pa.y < pb.y and pa.x == pb.x) if stacked else (pa.x < pb.x and pa.y == pb.y)
        for side in ("a", "b"):
            for kind in ("tasks", "reaper", "memory", "locks"):
                assert app.query_one(f"#side-{side} .{kind}").region.height > 0, (side, kind)
        await press(pilot, app, "G")
        assert "[bold]x[/]\\x1b[31m" in panel(app, "a", "reaper").plain  # markup shown as written, the escape escaped
    run(AgainstApp(a, b), script, size=size)


def test_help_explains_the_marks_and_the_keys(pair: tuple[Path, Path]):
    async def script(pilot: Pilot, app: AgainstApp) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.text()
        for expected in ("Compare (replay --against)", "next difference", "swap the sides",
                         "marks a row that differs from the other incident", "next OOM kill"):
            assert expected in shown, expected
        for absent in ("maximise", "search events", "presenting", "x, <"):  # the replay's, not this view's
            assert absent not in shown, absent
    run(AgainstApp(*pair), script)


def test_present_against_walks_the_differences(pair: tuple[Path, Path]):
    """``present A --against B``: the chapters are the differences, in A's order, the first one opened."""
    from oomreplay.export.diff import chapters
    from oomreplay.tui.app import ReplayApp

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
