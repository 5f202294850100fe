"""What a conversion found, per input and in all: lines, clock, kernel, events per kind, warnings, and the lines
inside OOM reports that no parser understood (``oomreplay convert --report``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .._util.safetext import visible


@dataclass
class SourceReport:
    """What one input gave: its lines, its clock, the kernel it names and the events per kind."""

    name: str
    lines: int = 0
    clock: str | None = None
    kernel: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    unparsed: list[tuple[int, str]] = field(default_factory=list)  # (line, text) inside reports, not understood
    unparsed_count: int = 0


@dataclass
class ConvertReport:
    """The result of ``convert``: per-source figures and warnings worth a line on stderr."""

    output: str
    events: int = 0
    sources: list[SourceReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The ``--report`` text: per source, its lines, clock and events per kind."""
        out = [f"{self.output}: {self.events:,} events from {len(self.sources)} source(s)"]
        for s in self.sources:
            out.append(f"  {s.name}: {s.lines:,} lines, clock {s.clock or 'none'}, kernel {s.kernel or 'unknown'}")
            for kind, n in sorted(s.counts.items()):
                out.append(f"    {kind:<15} {n:>8,}")
            if s.unparsed_count:
                out.append(f"    not understood inside OOM reports: {s.unparsed_count:,} line(s)"
                           + (f", the first {len(s.unparsed)}:" if len(s.unparsed) < s.unparsed_count else ":"))
                out += [f"      line {line}: {visible(text)}" for line, text in s.unparsed]
        return out
