"""``verify`` and ``repair``: the core walks a trace block by block, trusting only what checks out.

Repair keeps every whole event block and every whole piece of source text and writes them through the one
writer, so the keyframes, change lists, overview and index of the result come from the code path that writes
every trace."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _native
from .._util.plural import count
from .reader import Trace


@dataclass
class Problem:
    offset: int
    message: str


@dataclass
class ScanResult:
    """What a walk over the blocks found: the good parts, and every problem with its offset."""

    size: int
    blocks: int = 0
    events: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    truncated_at: int | None = None  # where the walk had to stop, if before the trailer
    #: what repair had to change to keep the result readable (events out of time order dropped, …)
    fixed: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, scan: dict[str, Any]) -> ScanResult:
        return cls(scan["size"], scan["blocks"], scan["events"], scan["meta"],
                   [Problem(at, message) for at, message in scan["problems"]], scan["truncated_at"],
                   list(scan["fixed"]))


@dataclass
class VerifyReport:
    path: str
    scan: ScanResult

    @property
    def ok(self) -> bool:
        return not self.scan.problems

    def lines(self) -> list[str]:
        s = self.scan
        if self.ok:
            return [f"{self.path}: OK ({count(s.blocks, 'block')}, {count(s.events, 'event')}, {count(s.size, 'byte')})"]
        out = [f"{self.path}: DAMAGED ({len(s.problems)} problem{'s' * (len(s.problems) != 1)})"]
        out += [f"  offset {p.offset}: {p.message}" for p in s.problems]
        whole = f"{count(s.events, 'event')} in whole blocks"
        out.append(f"  {whole}; run `oomreplay repair {self.path} -o FIXED.oomtrace` to rebuild the index")
        return out


def verify(path: str | os.PathLike) -> VerifyReport:
    """Check every block's frame, CRC and payload, then that the index opens and agrees with the blocks."""
    return VerifyReport(str(path), ScanResult.of(_native.verify(path)))


def repair(path: str | os.PathLike, out: str | os.PathLike) -> ScanResult:
    """Write to ``out`` a trace holding every whole event block and source chunk of ``path``."""
    return ScanResult.of(_native.repair(path, out))


def recover(path: str | os.PathLike, tmpdir: str | os.PathLike) -> Trace:
    """Open an unfinished trace by repairing it into ``tmpdir``; the Trace says what was recovered."""
    out = Path(tmpdir) / (Path(path).name + ".recovered")
    scan = repair(path, out)
    trace = Trace(out)
    where = scan.truncated_at if scan.truncated_at is not None else scan.size
    trace.recovered = (f"{path}: the file is damaged or unfinished (at offset {where}); opened the "
                       f"{scan.events} events of its whole blocks. `oomreplay repair` writes them to a new file")
    trace.name = str(path)
    return trace


__all__ = ["Problem", "ScanResult", "VerifyReport", "recover", "repair", "verify"]
