"""An explanation (oomreplay.analysis) as text or Markdown: one heading per topic, each finding followed by the
seqs and source lines of its evidence."""

from __future__ import annotations

from .._util.safetext import markdown_text, visible
from ..analysis import TOPICS, Explanation, source_of
from ..store import Trace


def lines(t: Trace, ex: Explanation, markdown: bool) -> list[str]:
    """The findings under one heading per topic, each followed by its evidence (seq, source line)."""
    names = [name for name, _ in t.sources]
    safe = markdown_text if markdown else visible  # the text comes from the traced machine
    at = "-" if ex.ts_ns is None else f"{ex.ts_ns / 1e9:.6f}"
    head = f"Explanation of {safe(t.name)} at seq {ex.seq} ({at} s)"
    out = [f"# {head}" if markdown else head]
    for topic, title in TOPICS.items():
        found = [f for f in ex.findings if f.topic == topic]
        if not found:
            continue
        out += ["", f"## {title}" if markdown else title]
        for f in found:
            out.append(f"- {safe(f.text)}" + (" (inferred)" if f.inferred else ""))
            for e in f.evidence[:4]:
                where = safe(source_of(e, names))
                text = f"  {safe(e.text)}" if e.text else ""
                out.append(f"    - seq {e.seq} {where}{text}" if markdown else f"    seq {e.seq:>8} {where}{text}")
            if len(f.evidence) > 4:
                out.append(f"    - and {len(f.evidence) - 4} more" if markdown else
                             f"    and {len(f.evidence) - 4} more")
    return out
