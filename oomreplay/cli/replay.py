"""``replay``, ``present``, ``demo``, ``themes``, ``serve`` (and the hidden ``serve-app`` it starts): the TUI, in a
terminal or a browser. Textual is imported only inside the commands that run it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.resources import demo_trace
from .._util.safetext import visible
from ..tui.serve import DEFAULT_HOST, DEFAULT_PORT
from .common import THEME_HELP, UserError, check_theme, trace_for
from .trace import info


def _replay(trace_path: Path, seq: int | None = None, theme: str | None = None, at: float | None = None,
            present: bool = False, against: Path | None = None) -> None:
    """Run the TUI on a trace or on anything `convert` reads; Textual is imported here so the other commands never
    pay for it."""
    if not trace_path.is_file():
        raise UserError(f"{trace_path}: no such file")
    if seq is not None and at is not None:
        raise UserError("give --seq or --at, not both")
    check_theme(theme)  # a bad theme is refused before asking for a terminal
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("replay needs a terminal; `oomreplay state` prints one instant as text")
    trace = trace_for(trace_path)
    told = _difference_chapters(trace_path, against) if against is not None else None
    from ..tui.app import ReplayApp

    ReplayApp(trace, seq=seq, theme=theme, at_ns=None if at is None else round(at * 1e9), present=present,
              notes_for=trace_path, chapters=told).run()


def _difference_chapters(a: Path, b: Path) -> list:
    """``present --against``: A's differences with B as chapters, computed before the TUI starts."""
    from ..analysis.diff import compare
    from ..export.diff import chapters
    from .common import opened
    from .diff import traces_for

    ta, tb = traces_for(a, b)
    with opened(ta) as trace_a, opened(tb) as trace_b:
        return chapters(compare(trace_a, trace_b, str(a), str(b)), trace_a)


def replay(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or a log or recording to convert.")],
    seq: Annotated[Optional[int], typer.Option(help="Start after this event.", min=0)] = None,
    at: Annotated[Optional[float], typer.Option(help="Start at this time (seconds, the trace's clock).")] = None,
    theme: Annotated[Optional[str], typer.Option(help=THEME_HELP)] = None,
    against: Annotated[Optional[Path], typer.Option(help="Another incident to show beside it, its cursor following "
                                                         "along the aligned stories (see `oomreplay diff`).")] = None,
) -> None:
    """Step through an incident: tasks, memory, locks, the reaper and the log, following one cursor. A log or a
    recording is converted first (once: the result is cached by content)."""
    if against is not None:
        _replay_against(trace_path, against)
        return
    _replay(trace_path, seq, theme, at)


def _replay_against(a: Path, b: Path) -> None:
    """``replay A --against B``: both converted as ``diff`` does, then the side-by-side app."""
    from .diff import traces_for

    for p in (a, b):
        if not p.is_file():
            raise UserError(f"{visible(p)}: no such file")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("replay needs a terminal; `oomreplay diff` prints the comparison as text")
    ta, tb = traces_for(a, b)
    from ..tui.against import AgainstApp

    AgainstApp(ta, tb, str(a), str(b)).run()


def present(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or a log or recording to convert.")],
    theme: Annotated[Optional[str], typer.Option(help=THEME_HELP)] = None,
    against: Annotated[Optional[Path], typer.Option(help="Walk the differences with this incident instead, one "
                                                         "chapter each (see `oomreplay diff`).")] = None,
) -> None:
    """Walk an audience through an incident: the marks (or the key moments) as chapters, PgDn/PgUp between them."""
    _replay(trace_path, theme=theme, present=True, against=against)


def themes() -> None:
    """List the bundled colour themes for `replay --theme`."""
    from ..tui.themes import DEFAULT_THEME, bundled_themes

    found = bundled_themes()
    width = max((len(t.name) for t in found), default=0)
    for t in found:
        default = " (default)" if t.name == DEFAULT_THEME else ""
        kind = "dark" if t.theme.dark else "light"
        style = f"log: {t.pygments_style}"
        typer.echo(f"{t.name.ljust(width)}  {kind:<5}  {style:<15}  {visible(t.description)}{default}")


def demo(theme: Annotated[Optional[str], typer.Option(help=THEME_HELP)] = None) -> None:
    """Replay the bundled incident (without a terminal, print its summary)."""
    if sys.stdout.isatty():
        _replay(demo_trace(), theme=theme)
    else:
        info(demo_trace())


def serve(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    host: Annotated[str, typer.Option(help="Address to listen on; loopback unless --allow-remote.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = DEFAULT_PORT,
    allow_remote: Annotated[bool, typer.Option("--allow-remote", help="Allow a non-loopback --host.")] = False,
    public_url: Annotated[Optional[str], typer.Option(help="The URL browsers use, behind a proxy or a tunnel.")]
    = None,
    seq: Annotated[Optional[int], typer.Option(help="Start after this event.", min=0)] = None,
    theme: Annotated[Optional[str], typer.Option(help="A theme name or a theme file.")] = None,
) -> None:
    """Serve the replay to browsers (textual-serve): each tab gets its own replay. Stops on Ctrl+C."""
    from ..tui.serve import ServeError, check_host, serve as serve_trace

    if not trace_path.is_file():
        raise UserError(f"{visible(trace_path)}: no such file")
    try:
        warning = check_host(host, allow_remote)
    except ServeError as e:
        raise UserError(visible(e)) from None
    check_theme(theme)
    if warning:
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    serve_trace(trace_path, host, port, seq, theme, public_url)


def serve_app(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    seq: Annotated[Optional[int], typer.Option(min=0)] = None,
    theme: Annotated[Optional[str], typer.Option()] = None,
) -> None:
    """The replay for one browser tab, started by `oomreplay serve` under textual-serve's web driver."""
    from ..tui.serve import under_web_driver

    if not under_web_driver():
        raise UserError("serve-app is started by `oomreplay serve`; in a terminal, use `oomreplay replay`")
    from ..tui.app import ReplayApp

    ReplayApp(trace_path, seq=seq, theme=theme).run()
