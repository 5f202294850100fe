"""The ``oomreplay`` command: parse arguments, call the layers, print. Logic worth testing lives elsewhere."""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._util.resources import demo_trace
from ._util.safetext import visible
from .analysis import explain as explain_at, to_json
from .export import explanation, snapshot
from .export.chrome import write_chrome
from .ingest import FORMATS, ConvertError, ConvertReport, convert as convert_logs
from .model import KINDS
from .store import Trace, TraceError, open_trace, repair, verify
from .tui.serve import DEFAULT_HOST, DEFAULT_PORT

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Replay Linux OOM incidents step by step.")


class UserError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


class EventFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


class StateFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


class ExportFormat(str, Enum):
    chrome_json = "chrome-json"
    jsonl = "jsonl"


def _open(path: Path) -> Trace:
    trace = open_trace(path)
    if trace.recovered:
        typer.echo(f"oomreplay: warning: {trace.recovered}", err=True)
    return trace


def _seconds(ns: int | None) -> str:
    return "-" if ns is None else f"{ns / 1e9:.6f}"


@app.command()
def info(trace_path: Annotated[Path, typer.Argument(metavar="TRACE")]) -> None:
    """What a trace holds: kernel, duration, events, tasks, kills, reaper outcomes, size, format."""
    with _open(trace_path) as t:
        s = t.summary
        duration = (t.last_ts - t.first_ts) / 1e9 if t.first_ts is not None and t.last_ts is not None else 0.0
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(s.get("reaper_outcomes", {}).items())) or "none"
        rows = [
            ("trace", visible(t.name)),
            ("kernel", visible(t.meta.get("kernel") or "unknown")),
            ("source", visible(", ".join(f"{name} ({n} lines)" for name, n in t.sources) or "none stored")),
            ("time", f"{_seconds(t.first_ts)} .. {_seconds(t.last_ts)} s ({duration:.3f} s)"),
            ("events", f"{len(t):,}"),
            ("tasks", f"{s.get('tasks', 0):,}"),
            ("locks held at end", f"{s.get('locks', 0):,}"),
            ("OOM invocations", f"{s.get('ooms', 0):,}"),
            ("kills", f"{s.get('kills', 0):,}"),
            ("reaper outcomes", outcomes),
            ("anomalies", f"{s.get('anomalies', 0):,}"),
            ("size", f"{t.size:,} bytes ({t.size / max(len(t), 1):.1f} per event)"),
            ("format version", str(t.version)),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            typer.echo(f"{key.ljust(width)}  {value}")


def _event_line(ev_dict: dict) -> str:
    fields = " ".join(f"{k}={visible(v)}" for k, v in ev_dict["fields"].items())
    inferred = f" (inferred: {', '.join(ev_dict['inferred'])})" if ev_dict.get("inferred") else ""
    pid = "-" if ev_dict["pid"] is None else ev_dict["pid"]
    return f"{ev_dict['seq']:>8} {_seconds(ev_dict['ts_ns']):>16} {ev_dict['kind']:<15} {pid!s:>7} {fields}{inferred}"


@app.command()
def events(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    kind: Annotated[Optional[list[str]], typer.Option("--kind", help="Only this kind (repeatable).")] = None,
    pid: Annotated[Optional[int], typer.Option(help="Only events of this pid (the victim, for kills).")] = None,
    start: Annotated[Optional[float], typer.Option("--from", help="From this time, in seconds.")] = None,
    end: Annotated[Optional[float], typer.Option("--to", help="Up to this time, in seconds.")] = None,
    fmt: Annotated[EventFormat, typer.Option("--format")] = EventFormat.text,
) -> None:
    """List events, optionally filtered by kind, pid and time."""
    unknown = [k for k in kind or [] if k not in KINDS]
    if unknown:
        raise UserError(f"unknown event kind {unknown[0]!r}; kinds are: {', '.join(KINDS)}")
    with _open(trace_path) as t:
        first = 0
        if start is not None:
            before = t.seq_at(round(start * 1e9) - 1)
            first = 0 if before is None else before + 1
        stop = None
        if end is not None:
            last = t.seq_at(round(end * 1e9))
            stop = 0 if last is None else last + 1
        out = sys.stdout
        for ev in t.events(first, stop, kind=kind or None, pid=pid):
            d = ev.to_dict()
            out.write((json.dumps(d, default=list) if fmt is EventFormat.jsonl else _event_line(d)) + "\n")


@app.command()
def state(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    seq: Annotated[Optional[int], typer.Option(help="After this event.")] = None,
    at: Annotated[Optional[float], typer.Option(help="At this time, in seconds.")] = None,
    fmt: Annotated[StateFormat, typer.Option("--format")] = StateFormat.text,
    all_tasks: Annotated[bool, typer.Option("--all-tasks", help="List every task, not only those involved.")] = False,
) -> None:
    """The machine's state at one instant: tasks, locks, zones, memcgs, victims and the reaper."""
    if (seq is None) == (at is None):
        raise UserError("give exactly one of --seq N or --at SECONDS")
    with _open(trace_path) as t:
        if at is not None:
            found = t.seq_at(round(at * 1e9))
            target = -1 if found is None else found
        else:
            target = seq  # type: ignore[assignment]
            if not -1 <= target < len(t):
                raise UserError(f"{trace_path}: --seq {target} is outside 0..{len(t) - 1}")
        st = t.state_at(target)
        if fmt is StateFormat.json:
            typer.echo(json.dumps(snapshot.to_json(st), indent=1))
        elif fmt is StateFormat.markdown:
            typer.echo(snapshot.to_markdown(st, all_tasks))
        else:
            typer.echo(snapshot.to_text(st, all_tasks))


@app.command()
def explain(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    at: Annotated[Optional[float], typer.Option(help="At this time, in seconds (default: the end).")] = None,
    fmt: Annotated[StateFormat, typer.Option("--format")] = StateFormat.text,
) -> None:
    """Why the OOM happened, why the reaper failed, who waits for whom, which invariants break; with evidence."""
    with _open(trace_path) as t:
        seq = None
        if at is not None:
            found = t.seq_at(round(at * 1e9))
            seq = -1 if found is None else found
        ex = explain_at(t, seq)
        if fmt is StateFormat.json:
            typer.echo(json.dumps(to_json(ex), indent=1))
        else:
            typer.echo("\n".join(explanation.lines(t, ex, fmt is StateFormat.markdown)))


@app.command()
def export(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The file to write.")],
    fmt: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.chrome_json,
) -> None:
    """Write a trace as Chrome trace JSON (Perfetto, chrome://tracing) or as JSON lines of raw events."""
    with _open(trace_path) as t, open(out, "w", encoding="utf-8") as fp:
        if fmt is ExportFormat.chrome_json:
            write_chrome(t, fp)
        else:
            for ev in t.events():
                fp.write(json.dumps(ev.to_dict(), default=list) + "\n")
    typer.echo(f"{visible(out)}: written")


@app.command("verify")
def verify_cmd(trace_path: Annotated[Path, typer.Argument(metavar="TRACE")]) -> None:
    """Check every block of a trace; exit 1 and say where when it is damaged."""
    report = verify(trace_path)
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


@app.command("repair")
def repair_cmd(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Where to write the repaired trace.")],
) -> None:
    """Rebuild a damaged or unfinished trace from its whole blocks."""
    if out.resolve() == trace_path.resolve():
        raise UserError("repair writes a new file: give -o a different path")
    scan = repair(trace_path, out)
    typer.echo(f"{out}: {scan.events:,} events recovered from {trace_path}")
    for p in scan.problems:
        typer.echo(f"  skipped at offset {p.offset}: {p.message}")


LogFormat = Enum("LogFormat", {name: name for name in FORMATS}, type=str)  # type: ignore[misc]


@app.command()
def convert(
    inputs: Annotated[list[str], typer.Argument(metavar="INPUT...", help="Log files, or - for stdin.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The trace to write.")],
    fmt: Annotated[LogFormat, typer.Option("--format", help="Line prefix style; auto tries them all.")] =
    LogFormat.auto,  # type: ignore[attr-defined]
    report: Annotated[bool, typer.Option("--report", help="Print events per kind for each input.")] = False,
) -> None:
    """Convert kernel logs (dmesg, syslog, journalctl, consoles; .gz/.xz/.bz2 too) into a trace."""
    result = _converted(inputs, out, fmt.value)
    for warning in result.warnings:
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    if report:
        for line in result.lines():
            typer.echo(visible(line))
    else:
        typer.echo(f"{visible(out)}: {result.events:,} events")


def _check_theme(theme: str | None) -> None:
    """A theme that does not resolve, as one line, before anything starts."""
    from .tui.themes import ThemeError, resolve

    try:
        resolve(theme)
    except ThemeError as e:
        raise UserError(visible(e)) from None


def _trace_for(path: Path) -> Path:
    """``path`` itself if it is a trace, else its conversion, made now (saying so) or found in the cache."""
    from .cache import cached_trace, is_trace

    if is_trace(path):
        return path

    def convert_now(source: Path, target: Path) -> None:
        size = source.stat().st_size
        typer.echo(f"oomreplay: converting {visible(source)} ({size / 1e6:.1f} MB) into the cache…", err=True)
        t0 = time.perf_counter()
        report = _converted([str(source)], target)
        typer.echo(f"oomreplay: {report.events:,} events in {time.perf_counter() - t0:.1f} s", err=True)

    trace, _ = cached_trace(path, convert_now)
    return trace


def _converted(inputs: list[str], out: Path, fmt: str = "auto") -> ConvertReport:
    """``convert`` with a progress line on stderr when it is a terminal; its errors as one line."""
    from ._util.progress import ProgressLine

    progress = None
    if sys.stderr.isatty():
        sizes = [Path(name).stat().st_size for name in inputs if name != "-" and Path(name).is_file()]
        progress = ProgressLine("converting", sum(sizes) if len(sizes) == len(inputs) else None)
    try:
        return convert_logs(inputs, out, fmt, progress)
    except ConvertError as e:
        raise UserError(visible(e)) from None
    finally:
        if progress is not None:
            progress.close()


def _replay(trace_path: Path, seq: int | None = None, theme: str | None = None, at: float | None = None,
            present: bool = False) -> None:
    """Run the TUI on a trace or on anything `convert` reads; Textual is imported here so the other commands never
    pay for it."""
    if not trace_path.is_file():
        raise UserError(f"{trace_path}: no such file")
    if seq is not None and at is not None:
        raise UserError("give --seq or --at, not both")
    _check_theme(theme)  # a bad theme is refused before asking for a terminal
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("replay needs a terminal; `oomreplay state` prints one instant as text")
    trace = _trace_for(trace_path)
    from .tui.app import ReplayApp

    ReplayApp(trace, seq=seq, theme=theme, at_ns=None if at is None else round(at * 1e9), present=present,
              notes_for=trace_path).run()


_THEME_HELP = "A theme name (see `oomreplay themes`) or a theme file."


@app.command()
def replay(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or a log or recording to convert.")],
    seq: Annotated[Optional[int], typer.Option(help="Start after this event.", min=0)] = None,
    at: Annotated[Optional[float], typer.Option(help="Start at this time (seconds, the trace's clock).")] = None,
    theme: Annotated[Optional[str], typer.Option(help=_THEME_HELP)] = None,
) -> None:
    """Step through an incident: tasks, memory, locks, the reaper and the log, following one cursor. A log or a
    recording is converted first (once: the result is cached by content)."""
    _replay(trace_path, seq, theme, at)


@app.command()
def present(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or a log or recording to convert.")],
    theme: Annotated[Optional[str], typer.Option(help=_THEME_HELP)] = None,
) -> None:
    """Walk an audience through an incident: the marks (or the key moments) as chapters, PgDn/PgUp between them."""
    _replay(trace_path, theme=theme, present=True)


class Profile(str, Enum):
    minimal = "minimal"
    full = "full"
    lockdep = "lockdep"


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def record(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("-o", "--output", help="The trace to write.")],
    profile: Annotated[Profile, typer.Option(help="minimal: oom, exits, SIGKILLs; full: + mmap_lock, sched_switch, "
                                             "rss, reclaim, printk; lockdep: + lock:*.")] = Profile.minimal,
    memory_limit: Annotated[Optional[str], typer.Option(help="Run COMMAND in a fresh memory cgroup of this size "
                                                        "(64M, 1G, bytes).")] = None,
    duration: Annotated[Optional[float], typer.Option(help="Record this long (seconds); with COMMAND, at most.")]
    = None,
    settle: Annotated[float, typer.Option(
        help="Seconds to go on recording after COMMAND ends (or --duration), for the reaper.")] = 3.0,
    keep: Annotated[Optional[Path], typer.Option(help="Keep the raw dmesg.txt and ftrace.txt in this directory.")]
    = None,
) -> None:
    """Record an OOM as root: tracepoints into a private tracefs instance (flight-recorder mode) and the kernel
    log, COMMAND (after --) in a memory cgroup when --memory-limit is given; everything it changed is put back,
    even on Ctrl-C; the recording is converted into the trace."""
    from .record import RecordError, record as record_incident

    try:
        result = record_incident(out, list(ctx.args), profile=profile.value, memory_limit=memory_limit,
                                 duration=duration, settle=settle, keep=keep,
                                 say=lambda line: typer.echo(f"oomreplay: {visible(line)}", err=True))
    except RecordError as e:
        raise UserError(visible(e)) from None
    for warning in result.warnings + (result.convert.warnings if result.convert else []):
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    events = f"{result.convert.events:,} events" if result.convert else "nothing recorded"
    typer.echo(f"{visible(out)}: {events}" + (" (interrupted)" if result.interrupted else ""))


@app.command()
def themes() -> None:
    """List the bundled colour themes for `replay --theme`."""
    from .tui.themes import DEFAULT_THEME, bundled_themes

    found = bundled_themes()
    width = max((len(t.name) for t in found), default=0)
    for t in found:
        default = " (default)" if t.name == DEFAULT_THEME else ""
        kind = "dark" if t.theme.dark else "light"
        style = f"log: {t.pygments_style}"
        typer.echo(f"{t.name.ljust(width)}  {kind:<5}  {style:<15}  {visible(t.description)}{default}")


@app.command()
def demo(theme: Annotated[Optional[str], typer.Option(help=_THEME_HELP)] = None) -> None:
    """Replay the bundled incident (without a terminal, print its summary)."""
    if sys.stdout.isatty():
        _replay(demo_trace(), theme=theme)
    else:
        info(demo_trace())


class NotesFormat(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


def _notes_lines(resolved: list, fmt: NotesFormat, trace_name: str) -> list[str]:
    """The marks as text (columns like `events`, the note indented below) or Markdown (a section per mark)."""
    lines = [f"# Notes on {visible(trace_name)}"] if fmt is NotesFormat.markdown else \
        [f"{'seq':>8} {'time (s)':>16} {'kind':<15} title"]
    for mark, seq in resolved:
        a = mark.anchor
        where = "gone" if seq is None else str(seq)
        if fmt is NotesFormat.markdown:
            pid = "" if a.pid is None else f", pid {a.pid}"
            gone = " — its event is not in this trace" if seq is None else ""
            lines += ["", f"## {visible(' '.join(mark.title.split()))}", "",
                      f"*seq {where}, {_seconds(a.ts_ns)} s, `{a.kind}`{pid}{gone}*"]
            if mark.note.strip():
                lines += ["", visible(mark.note.rstrip("\n"))]
        else:
            lines.append(f"{where:>8} {_seconds(a.ts_ns):>16} {a.kind:<15} {visible(mark.title)}")
            lines += [" " * 42 + visible(line) for line in mark.note.rstrip("\n").split("\n") if mark.note.strip()]
    return lines


@app.command()
def notes(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or the log or recording it came from.")],
    fmt: Annotated[NotesFormat, typer.Option("--format")] = NotesFormat.text,
) -> None:
    """The marks and notes on a trace or a replayed log (PATH.notes.toml beside it) in seq order; marks whose event
    is gone last."""
    from .review.notes import NotesError, Notes, marks_json, sidecar

    with _open(_trace_for(trace_path)) as t:
        try:
            marks = Notes.load(trace_path)
        except NotesError as e:
            raise UserError(visible(e)) from None
        resolved = marks.resolve(t)
        if fmt is NotesFormat.json:
            typer.echo(json.dumps(marks_json(resolved, t), indent=1))
        elif not resolved:
            typer.echo(f"{visible(trace_path)}: no marks (they would be in {visible(sidecar(trace_path))})")
        else:
            typer.echo("\n".join(_notes_lines(resolved, fmt, trace_path.name)))
    gone = sum(1 for _, seq in resolved if seq is None)
    if gone:
        typer.echo(f"oomreplay: warning: {gone} mark(s) anchored to events that are not in {visible(trace_path)}",
                   err=True)


def _size(text: str) -> tuple[int, int]:
    """``160x48`` -> (160, 48), within what a screenshot can sensibly be."""
    width, sep, height = text.lower().partition("x")
    if not (sep and width.isdigit() and height.isdigit()):
        raise UserError(f"--size {visible(text)}: expected COLUMNSxROWS, such as 160x48")
    size = int(width), int(height)
    if not (40 <= size[0] <= 500 and 12 <= size[1] <= 200):
        raise UserError(f"--size {visible(text)}: columns must be 40..500 and rows 12..200")
    return size


@app.command()
def story(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or the log or recording it came from.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The directory to write index.md and index.html in.")],
    size: Annotated[str, typer.Option(help="Screenshot size, COLUMNSxROWS.")] = "160x48",
) -> None:
    """Each mark (or key moment) with its note, state tables and a TUI screenshot, as DIR/index.md and index.html."""
    from .export.story import write_story
    from .review.notes import NotesError
    from .tui.screenshots import screenshots

    columns_rows = _size(size)
    if not trace_path.is_file():
        raise UserError(f"{visible(trace_path)}: no such file")
    try:
        result = write_story(_trace_for(trace_path), out, screenshots, columns_rows, notes_for=trace_path)
    except NotesError as e:
        raise UserError(visible(e)) from None
    for mark in result.missing:
        typer.echo(f"oomreplay: warning: mark {visible(mark.title)!r}: its event ({mark.anchor.kind} at "
                   f"{_seconds(mark.anchor.ts_ns)} s) is not in the trace", err=True)
    origins = sorted({ch.origin for ch in result.chapters}) or ["none"]
    typer.echo(f"{visible(out / 'index.html')}: {len(result.chapters)} chapters (from {', '.join(origins)})")


@app.command()
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
    from .tui.serve import ServeError, check_host, serve as serve_trace

    if not trace_path.is_file():
        raise UserError(f"{visible(trace_path)}: no such file")
    try:
        warning = check_host(host, allow_remote)
    except ServeError as e:
        raise UserError(visible(e)) from None
    _check_theme(theme)
    if warning:
        typer.echo(f"oomreplay: warning: {visible(warning)}", err=True)
    serve_trace(trace_path, host, port, seq, theme, public_url)


@app.command("serve-app", hidden=True)
def serve_app(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    seq: Annotated[Optional[int], typer.Option(min=0)] = None,
    theme: Annotated[Optional[str], typer.Option()] = None,
) -> None:
    """The replay for one browser tab, started by `oomreplay serve` under textual-serve's web driver."""
    from .tui.serve import under_web_driver

    if not under_web_driver():
        raise UserError("serve-app is started by `oomreplay serve`; in a terminal, use `oomreplay replay`")
    from .tui.app import ReplayApp

    ReplayApp(trace_path, seq=seq, theme=theme).run()


def main() -> None:
    """Entry point: every expected failure is one line on stderr and exit status 2, never a traceback."""
    try:
        app()
    except (UserError, TraceError) as e:
        typer.echo(f"oomreplay: error: {e}", err=True)
        sys.exit(2)
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        typer.echo(f"oomreplay: error: {where}{e.strerror or e}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
