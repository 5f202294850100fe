"""A comparison of two incidents (``oomreplay.analysis.diff``) as text, Markdown (to paste into a review) or JSON.

The order is the one a reader needs: the verdict, each side in one line (kernel, kills, how long the OOM lasted),
the aligned steps that differ with both values and both seqs, the steps only one side has, the kernels and
configurations when they differ. Every name from the traced machines goes through ``visible`` (text) or
``markdown_text`` (Markdown); JSON carries the values as they are (a JSON string cannot inject anything).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._util.plural import count
from .._util.safetext import markdown_text, visible
from ..analysis.diff import Diff, FieldDiff, Pair, Side
from ..analysis.outcome import delay
from ..analysis.story import StoryEvent
from ..review.chapters import Chapter
from ..store import Trace


def value(v: Any) -> str:
    """A field's value as the reports print it: ``-`` for unknown, tuples joined."""
    if v is None:
        return "-"
    if isinstance(v, tuple):
        return ", ".join(value(x) for x in v) or "none"
    return str(v)


def step(e: StoryEvent) -> str:
    """A story step in a few words: ``kill of oomr-mlock``; ``reaper attempts on oomr-dio``."""
    who = e.value("victim") if e.kind not in ("invoke", "victim_mark", "stalls", "alloc_fails") else e.value("task")
    if e.kind in ("stalls", "alloc_fails"):
        who = value(e.value("tasks"))
    extra = f" by {value(e.value('task'))}" if e.kind == "mm_lock" else ""
    return f"{e.title} ({who}){extra}" if who else e.title


def _side_line(label: str, s: Side) -> str:
    kills = sum(e.kind == "kill" for e in s.story)
    ooms = sum(e.kind == "invoke" for e in s.story)
    first = "the first invocation" if ooms else "the first kill"
    span = "" if s.span_ns is None else f"; {delay(s.span_ns)} from {first} to the last outcome"
    return (f"{label}: {s.name} (kernel {s.kernel}; {count(ooms, 'OOM invocation')}, {count(kills, 'kill')}{span})")


def _inferred(e: StoryEvent | None, d: FieldDiff) -> str:
    return " (inferred)" if e is not None and d.field in e.inferred else ""


def _pair_rows(p: Pair, all_: bool) -> list[tuple[str, str, str]]:
    return [(d.field, value(d.a) + _inferred(p.a, d), value(d.b) + _inferred(p.b, d))
            for d in p.diffs if d.major or all_]


def _seq(e: StoryEvent | None) -> str:
    if e is None:
        return "-"
    return f"{e.seq}" if e.last_seq == e.seq else f"{e.seq}..{e.last_seq}"


def lines(diff: Diff, markdown: bool = False, all_: bool = False) -> list[str]:
    """The report, one string per line."""
    safe: Callable[[object], str] = markdown_text if markdown else visible
    out = [f"# Differences between {safe(diff.a.name)} and {safe(diff.b.name)}" if markdown else
           f"oomreplay diff: {visible(diff.a.name)} and {visible(diff.b.name)}", ""]
    out.append(safe(diff.verdict))
    out.append("")
    for label, s in (("A", diff.a), ("B", diff.b)):
        out.append(("- " if markdown else "") + safe(_side_line(label, s)))
    both = [p for p in diff.pairs if p.a is not None and p.b is not None and p.differs(all_)]
    only = {"A": [p for p in diff.pairs if p.b is None and p.differs(all_)],
            "B": [p for p in diff.pairs if p.a is None and p.differs(all_)]}
    if both:
        out += ["", "## Steps that differ" if markdown else "Steps that differ:"]
        if markdown:
            out += ["", "| step | field | A | B | A seq | B seq |", "|---|---|---|---|---|---|"]
        for p in both:
            assert p.a is not None and p.b is not None
            rows = _pair_rows(p, all_) or [("order", "moved", "moved")]
            note = " (moved)" if p.note == "moved" else ""
            if markdown:
                for k, (f, va, vb) in enumerate(rows):
                    name = safe(step(p.a) + note) if k == 0 else ""
                    out.append(f"| {name} | {safe(f)} | {safe(va)} | {safe(vb)} | {_seq(p.a)} | {_seq(p.b)} |")
            else:
                out.append(f"  {visible(step(p.a))}{note}  A seq {_seq(p.a)}, B seq {_seq(p.b)}")
                width = max(len(f) for f, _, _ in rows)
                for f, va, vb in rows:
                    out.append(f"      {f.ljust(width)}  A: {visible(va)}  B: {visible(vb)}")
    for label, pairs in only.items():
        if not pairs:
            continue
        out += ["", f"## Only in {label}" if markdown else f"Only in {label}:"]
        for p in pairs:
            e = p.a if label == "A" else p.b
            assert e is not None
            other = "B" if label == "A" else "A"
            note = f" ({other}'s source cannot show this)" if p.note == "unrecorded" else ""
            at = p.b_at if label == "A" else p.a_at
            where = (f"seq {_seq(e)}, after {other} seq {at}" if at >= 0 else
                     f"seq {_seq(e)}, before {other}'s first step")
            out.append(f"- {safe(step(e))}{note}: {where}" if markdown else f"  {visible(step(e))}{note}  {where}")
    hidden = [p for p in diff.pairs if p.differs(True) and not p.differs(all_)]
    if hidden:
        out += ["", safe(f"{count(len(hidden), 'more step')} differ only in amounts, order or what a source can show "
                         "(stall counts, delays, rss, fields one side does not record); --all lists them.")]
    kernel = diff.kernel_differences(all_)
    if kernel:
        out += ["", "## Kernel and configuration" if markdown else "Kernel and configuration:"]
        for d in kernel:
            out.append(f"- {safe(d.field)}: A {safe(value(d.a))}, B {safe(value(d.b))}" if markdown else
                       f"  {visible(d.field)}  A: {visible(value(d.a))}  B: {visible(value(d.b))}")
    if diff.same(all_):
        out += ["", "No differences."]
    return out


def _event_json(e: StoryEvent | None) -> dict | None:
    if e is None:
        return None
    return {"kind": e.kind, "role": e.role, "seq": e.seq, "last_seq": e.last_seq, "ts_ns": e.ts_ns, "pid": e.pid,
            "name": e.name, "fields": {k: v for k, v in e.fields}, "minor": {k: v for k, v in e.minor},
            "inferred": sorted(e.inferred)}


def to_json(diff: Diff, all_: bool = False) -> dict:
    """The comparison as plain JSON values: the verdict, both sides, the reported pairs, the kernel differences."""
    def side(s: Side) -> dict:
        return {"name": s.name, "kernel": s.kernel, "summary": s.summary, "first_ns": s.first_ns,
                "last_ns": s.last_ns, "span_ns": s.span_ns,
                "outcomes": [o._asdict() | {"key": list(o.key)} for o in s.outcomes]}

    return {"same": diff.same(all_), "verdict": diff.verdict, "outcomes_same": diff.outcomes_same,
            "a": side(diff.a), "b": side(diff.b),
            "pairs": [{"a": _event_json(p.a), "b": _event_json(p.b), "note": p.note, "major": p.major,
                       "a_at": p.a_at, "b_at": p.b_at, "diffs": [d._asdict() for d in p.diffs if d.major or all_]}
                      for p in diff.pairs if p.differs(all_)],
            "kernel": [d._asdict() for d in diff.kernel_differences(all_)]}


def chapters(diff: Diff, trace: Trace) -> list[Chapter]:
    """The reported differences as chapters of A's story (``story`` / ``present --against``): each at A's step,
    or where B's extra step would be in A (those at the same place share one chapter). The verdict opens the first
    chapter's note; names in notes are Markdown-escaped, since a note is read as Markdown."""
    out: list[Chapter] = []
    firsts: dict[int, str] = {}  # the title of the first difference at each seq
    merged: dict[int, int] = {}  # how many more were merged into it
    for p in sorted(diff.differences(), key=lambda p: (p.a_at, p.b_at)):
        seq = max(0, min(p.a_at, len(trace) - 1))
        if not len(trace):
            break
        ev = trace.event(seq)
        if p.a is not None and p.b is not None:
            title = f"Differs: {step(p.a)}"
            rows = [f"- {markdown_text(f)}: A {markdown_text(va)}, B {markdown_text(vb)}"
                    for f, va, vb in _pair_rows(p, False)]
            note = "\n".join(rows + [f"- seqs: A {_seq(p.a)}, B {_seq(p.b)}"])
        else:
            one, label = (p.a, "A") if p.b is None else (p.b, "B")
            assert one is not None
            title = f"Only in {label}: {step(one)}"
            note = f"{label} seq {_seq(one)}" + ("" if label == "A" else f", after A seq {p.a_at}")
        if out and out[-1].seq == seq:  # one chapter per place in A: a presenter's cursor stops there once
            merged[seq] = merged.get(seq, 0) + 1
            last = out[-1]
            out[-1] = last._replace(title=f"{firsts[seq]} (and {count(merged[seq], 'more difference')})",
                                    note=f"{last.note}\n\n{markdown_text(title)}:\n\n{note}")
            continue
        if not out:
            note = f"**Verdict.** {markdown_text(diff.verdict)}\n\n{note}"
        firsts[seq] = title
        out.append(Chapter(title, note, seq, ev.ts_ns, ev.kind, ev.pid, dict(ev.fields), "difference"))
    return out
