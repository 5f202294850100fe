"""``notes`` and ``story``: the marks on a trace, as a list or as the incident told chapter by chapter."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .._util.safetext import visible
from .common import UserError, opened, seconds, trace_for

if TYPE_CHECKING:
    from ..review.chapters import Chapter
    from ..store import Trace


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
                      f"*seq {where}, {seconds(a.ts_ns)} s, `{a.kind}`{pid}{gone}*"]
            if mark.note.strip():
                lines += ["", visible(mark.note.rstrip("\n"))]
        else:
            lines.append(f"{where:>8} {seconds(a.ts_ns):>16} {a.kind:<15} {visible(mark.title)}")
            lines += [" " * 42 + visible(line) for line in mark.note.rstrip("\n").split("\n") if mark.note.strip()]
    return lines


def notes(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or the log or recording it came from.")],
    fmt: Annotated[NotesFormat, typer.Option("--format")] = NotesFormat.text,
) -> None:
    """The marks and notes on a trace or a replayed log (PATH.notes.toml beside it) in seq order; marks whose event
    is gone last."""
    from ..review.notes import NotesError, Notes, marks_json, sidecar

    with opened(trace_for(trace_path)) as t:
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


def story(
    trace_path: Annotated[Path, typer.Argument(metavar="PATH", help="A trace, or the log or recording it came from.")],
    out: Annotated[Path, typer.Option("-o", "--output", help="The directory to write index.md and index.html in.")],
    size: Annotated[str, typer.Option(help="Screenshot size, COLUMNSxROWS.")] = "160x48",
    against: Annotated[Optional[Path], typer.Option(help="Tell the differences with this incident instead, one "
                                                         "chapter each (see `oomreplay diff`).")] = None,
) -> None:
    """Each mark (or key moment) with its note, state tables and a TUI screenshot, as DIR/index.md and index.html."""
    from ..export.story import write_story
    from ..review.notes import NotesError
    from ..tui.screenshots import screenshots

    columns_rows = _size(size)
    if not trace_path.is_file():
        raise UserError(f"{visible(trace_path)}: no such file")
    told = None
    if against is not None:
        told = _differences(trace_path, against)
    try:
        result = write_story(trace_for(trace_path), out, screenshots, columns_rows, notes_for=trace_path, told=told)
    except NotesError as e:
        raise UserError(visible(e)) from None
    for mark in result.missing:
        typer.echo(f"oomreplay: warning: mark {visible(mark.title)!r}: its event ({mark.anchor.kind} at "
                   f"{seconds(mark.anchor.ts_ns)} s) is not in the trace", err=True)
    origins = sorted({ch.origin for ch in result.chapters}) or ["none"]
    typer.echo(f"{visible(out / 'index.html')}: {len(result.chapters)} chapters (from {', '.join(origins)})")


def _differences(a: Path, b: Path) -> Callable[[Trace], list[Chapter]]:
    """The chapters of ``story --against``: A's differences with B, compared once both are traces."""
    from ..analysis.diff import compare
    from ..export.diff import chapters as difference_chapters
    from .diff import traces_for

    _, tb = traces_for(a, b)

    def told(trace: Trace) -> list[Chapter]:
        with opened(tb) as other:
            return difference_chapters(compare(trace, other, str(a), str(b)), trace)
    return told
