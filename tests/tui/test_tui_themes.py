"""Themes as data files, the `t` key, `oomreplay themes`/`--theme`, and the kmsg lexer colouring the log panel."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from pygments.lexers import find_lexer_class_by_name
from pygments.token import Comment, Generic, Name, Number
from textual.content import Content
from typer.testing import CliRunner

from oomreplay import Event, TraceWriter
from oomreplay._util.resources import bundled, demo_trace
from oomreplay.cli import app as cli_app, main as cli_main
from oomreplay.tui.app import ReplayApp
from oomreplay.tui.kmsg_lexer import KmsgLexer
from oomreplay.tui.themes import DEFAULT_THEME, ThemeError, bundled_themes, load_theme_file, resolve
from oomreplay.tui.widgets.log import LogPanel
from ..conftest import SEED_LOG

BUNDLED = [t.name for t in bundled_themes()]


def run(app: ReplayApp, script, size=(80, 24)) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            for _ in range(1000):
                await pilot.pause(0.01)
                if app.settled:
                    break
            else:
                raise AssertionError("the loader never answered")
            await pilot.pause()
            await script(pilot, app)
    asyncio.run(main())


# -- theme files ------------------------------------------------------------------------------------------------

def test_the_four_kinds_are_bundled():
    assert BUNDLED[0] == DEFAULT_THEME
    assert set(BUNDLED) >= {"oomreplay-dark", "oomreplay-light", "oomreplay-high-contrast", "oomreplay-colorblind"}
    light = resolve("oomreplay-light")
    assert light.theme.dark is False and light.pygments_style == "default"
    assert all(resolve(name).pygments_style for name in BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_app_runs_with_each_bundled_theme(name: str):
    async def script(pilot, app: ReplayApp) -> None:
        assert app.theme == name
        assert app.current_theme.primary == resolve(name).theme.primary
        log = app.query_one(LogPanel)
        shown = log.render()
        assert isinstance(shown, Content) and "a.out" in shown.plain
        assert shown.spans, "the log lines are coloured"
    run(ReplayApp(demo_trace(), seq=2, theme=name), script)


def test_theme_from_a_file(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\ndark = false\npygments_style = "vs"\n[colors]\nprimary = "#123456"\n')

    async def script(pilot, app: ReplayApp) -> None:
        assert app.theme == "mine" and app.current_theme.dark is False
        await pilot.press("t")
        assert app.theme != "mine"
    run(ReplayApp(demo_trace(), theme=str(path)), script)


def test_t_cycles_through_the_themes():
    async def script(pilot, app: ReplayApp) -> None:
        seen = [app.theme]
        for _ in BUNDLED:
            before = app.syntax_colours
            spans = [str(span.style) for span in app.query_one(LogPanel).render().spans]
            await pilot.press("t")
            await pilot.pause()
            assert app.syntax_colours is not before  # the log panel follows the theme
            assert [str(span.style) for span in app.query_one(LogPanel).render().spans] != spans
            seen.append(app.theme)
        assert seen[0] == DEFAULT_THEME and seen[-1] == DEFAULT_THEME
        assert set(seen) == set(BUNDLED)
    run(ReplayApp(demo_trace(), seq=2), script)


@pytest.mark.parametrize("text, message", [
    ("name = [", "not TOML"),
    ('name = ""\n[colors]\nprimary = "#fff"', "'name' must be a non-empty string"),
    ('name = "x"', "[colors] must set primary"),
    ('name = "x"\n[colors]\nprimary = "not-a-colour"', "is not a colour"),
    ('name = "x"\npygments_style = "nope"\n[colors]\nprimary = "#fff"', "unknown pygments style 'nope'"),
    ('name = "x"\n[colors]\nprimary = "#fff"\nbogus = "#fff"', "unknown colour 'bogus'"),
    ('name = "x"\n[colors]\nprimary = "#fff"\n[syntax]\n"Keyword" = "bold nope"', "syntax Keyword"),
])
def test_bad_theme_file_is_refused(tmp_path: Path, text: str, message: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ThemeError) as e:
        load_theme_file(path)
    assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ThemeError):
        ReplayApp(demo_trace(), theme=str(path))


def test_unknown_theme_name_lists_the_bundled_ones():
    with pytest.raises(ThemeError, match="oomreplay-light"):
        resolve("no-such-theme")


# -- the command line -------------------------------------------------------------------------------------------

def test_themes_command_lists_them():
    result = CliRunner().invoke(cli_app, ["themes"])
    assert result.exit_code == 0
    for name in BUNDLED:
        assert name in result.output
    assert "(default)" in result.output and "light" in result.output


@pytest.mark.parametrize("theme", ["no-such-theme", "BAD"])
def test_replay_with_bad_theme_exits_2(tmp_path: Path, monkeypatch, capsys, theme: str):
    if theme == "BAD":
        theme = str(tmp_path / "bad.toml")
        Path(theme).write_text("name = 3\n")
    monkeypatch.setattr("sys.argv", ["oomreplay", "replay", str(demo_trace()), "--theme", theme])
    with pytest.raises(SystemExit) as e:
        cli_main()
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("oomreplay: error: ") and err.count("\n") == 1 and "theme" in err


# -- the lexer --------------------------------------------------------------------------------------------------

def tokens(line: str) -> list[tuple[object, str]]:
    return [(t, v) for _, t, v in KmsgLexer().get_tokens_unprocessed(line) if v.strip()]


def test_lexer_on_the_seed_incident():
    lines = SEED_LOG.read_text().splitlines()
    killed = tokens(next(line for line in lines if "Killed process" in line))
    assert killed[0] == (Comment.Special, "[  493.791708]")
    assert (Generic.Error, "Killed process") in killed
    assert (Number.Integer, "3163") in killed and (Name.Function, "a.out") in killed
    assert (Name.Attribute, "total-vm") in killed

    reaper = tokens(next(line for line in lines if "unable to reap" in line))
    assert (Name.Builtin, "oom_reaper") in reaper and (Generic.Error, "unable to reap") in reaper
    assert (Name.Function, "a.out") in reaper

    held = tokens(next(line for line in lines if "lock held by oom_reaper/59" in line))
    assert (Name.Function, "oom_reaper") in held and (Number.Integer, "59") in held

    dep = tokens(next(line for line in lines if "#0:  (tasklist_lock)" in line))
    assert (Name.Label, "#0:") in dep and (Name.Variable, "(tasklist_lock)") in dep
    assert (Number.Hex, "ffffffff9f0c202d") in dep
    assert (Name.Function, "debug_show_all_locks") in dep and (Number.Hex, "0x3d") in dep

    nested = tokens(next(line for line in lines if "(&(&wb->dwork)->work)" in line))
    assert (Name.Variable, "((&(&wb->dwork)->work))") in nested
    module = tokens(next(line for line in lines if line.endswith("[xfs]")))
    assert (Name.Namespace, "xfs") in module


def test_lexer_never_raises_and_keeps_every_character():
    rng = random.Random(5)
    lexer = KmsgLexer()
    samples = ["", "\n", "[", "[  1.0", "#0:  (", "process 1 (", "\x1b[31m", "进程名", "0x", "a" * 5000]
    samples += ["".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 120))) for _ in range(300)]
    for s in samples:
        out = "".join(v for _, _, v in lexer.get_tokens_unprocessed(s))
        assert out == s
        assert all(t is not None for _, t, _ in lexer.get_tokens_unprocessed(s))


def test_lexer_is_a_pygments_plugin():
    assert find_lexer_class_by_name("oomreplay-kmsg") is KmsgLexer


# -- hostile text stays text ------------------------------------------------------------------------------------

@pytest.mark.parametrize("comm", ["[bold]x[/]", "[@click=app.quit]y", "a[/]", "e\x1b]0;pwned\x07\x1b[31mred",
                                  "进程名-worker"])
def test_log_panel_shows_hostile_text_literally(tmp_path: Path, comm: str):
    path = tmp_path / "hostile.oomtrace"
    with TraceWriter(path) as w:
        w.add_source_lines(w.add_source("dmesg"), [f"[    1.000000] Killed process 7 ({comm}) total-vm:1kB"])
        w.extend([Event(1, "task", 7, {"tgid": 7, "comm": comm}), Event(3, "oom_kill", 7, {"comm": comm}, src=(0, 1))])
    shown = comm.replace("\x1b", "\\x1b").replace("\x07", "\\x07")

    async def script(pilot, app: ReplayApp) -> None:
        for name in BUNDLED[:2]:
            app.theme = name
            await pilot.pause()
            content = app.query_one(LogPanel).render()
            assert isinstance(content, Content)
            assert shown in content.plain and "\x1b" not in content.plain
            assert content.spans  # coloured, yet the text is what the machine logged
        await pilot.click(LogPanel)
        assert app.is_running
    run(ReplayApp(path, seq=1), script, size=(120, 30))
