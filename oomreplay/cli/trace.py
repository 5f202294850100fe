"""``info``, ``events``, ``state``, ``verify``, ``repair``: reading a trace as it is."""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .._util.plural import count
from .._util.safetext import visible
from ..export import snapshot
from ..model import KINDS, reaper_status
from ..store import repair, verify
from .common import UserError, opened, seconds


class EventFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


class StateFormat(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


def info(trace_path: Annotated[Path, typer.Argument(metavar="TRACE")]) -> None:
    """What a trace holds: kernel, duration, events, tasks, kills, reaper outcomes, size, format."""
    with opened(trace_path) as t:
        s = t.summary
        duration = (t.last_ts - t.first_ts) / 1e9 if t.first_ts is not None and t.last_ts is not None else 0.0
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(_reaper_outcomes(t).items())) or "none"
        rows = [
            ("trace", visible(t.name)),
            ("kernel", visible(t.meta.get("kernel") or "unknown")),
            ("source", visible(", ".join(f"{name} ({count(n, 'line')})" for name, n in t.sources) or "none stored")),
            ("time", f"{seconds(t.first_ts)} .. {seconds(t.last_ts)} s ({duration:.3f} s)"),
            ("events", f"{len(t):,}"),
            ("tasks", f"{s.get('tasks', 0):,}"),
            ("locks held at end", f"{s.get('locks', 0):,}"),
            ("OOM invocations", _invocations(s)),
            ("kills", f"{s.get('kills', 0):,}"),
            ("reaper outcomes", outcomes),
            ("anomalies", f"{s.get('anomalies', 0):,}"),
            ("size", f"{t.size:,} bytes ({t.size / max(len(t), 1):.1f} per event)"),
            ("format version", str(t.version)),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            typer.echo(f"{key.ljust(width)}  {value}")


def _invocations(summary: dict) -> str:
    """The count of OOM invocations, and when kills were seen without any, what the input lacks: an excerpt that
    starts at the kill (the seed demo) has no report header, which "0" beside "kills 1" would read as a bug."""
    ooms, kills = summary.get("ooms", 0), summary.get("kills", 0)
    if ooms == 0 and kills:
        return "0 (no OOM report header in the input: the kills are known from their own lines)"
    return f"{ooms:,}"


def _reaper_outcomes(t) -> dict[str, int]:
    """Victims by ``reaper_status`` at the end of the trace. The stored summary counts an exited victim the reaper
    never finished as "pending" (and the native writer must write the same bytes), so the end state is asked."""
    if not len(t):
        return {}
    return dict(Counter(reaper_status(v) for v in t.state_at(len(t) - 1).victims.values()))


def _event_line(ev_dict: dict) -> str:
    fields = " ".join(f"{k}={visible(v)}" for k, v in ev_dict["fields"].items())
    inferred = f" (inferred: {', '.join(ev_dict['inferred'])})" if ev_dict.get("inferred") else ""
    pid = "-" if ev_dict["pid"] is None else ev_dict["pid"]
    return f"{ev_dict['seq']:>8} {seconds(ev_dict['ts_ns']):>16} {ev_dict['kind']:<15} {pid!s:>7} {fields}{inferred}"


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
    if start is not None and end is not None and end < start:
        raise UserError(f"--to {end:g} is before --from {start:g}: no event can be in between")
    with opened(trace_path) as t:
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
    with opened(trace_path) as t:
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


def verify_cmd(trace_path: Annotated[Path, typer.Argument(metavar="TRACE")]) -> None:
    """Check every block of a trace; exit 1 and say where when it is damaged."""
    report = verify(trace_path)
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(1)


def repair_cmd(
    trace_path: Annotated[Path, typer.Argument(metavar="TRACE")],
    out: Annotated[Path, typer.Option("-o", "--output", help="Where to write the repaired trace.")],
) -> None:
    """Rebuild a damaged or unfinished trace from its whole blocks."""
    if out.resolve() == trace_path.resolve():
        raise UserError("repair writes a new file: give -o a different path")
    scan = repair(trace_path, out)
    typer.echo(f"{out}: {count(scan.events, 'event')} recovered from {trace_path}")
    for p in scan.problems:
        typer.echo(f"  skipped at offset {p.offset}: {p.message}")
    for fixed in scan.fixed:
        typer.echo(f"  fixed: {fixed}")
