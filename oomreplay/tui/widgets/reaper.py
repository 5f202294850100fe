"""OOM victims and the reaper: time since the kill, attempts out of the kernel's ten, their outcomes,
MMF_OOM_SKIP, and who holds the mm lock the reaper's trylock needs. Beside another incident (``replay --against``)
each line has a gutter, ``≠`` on the victims whose reaping differs from their counterpart's."""

from __future__ import annotations

from textual.content import Content

from ..._util.safetext import visible
from ...model import MAX_OOM_REAP_RETRIES, Victim, attempts_text, reaper_status
from ...session.frame import Frame
from .panel import Panel, gutter


def _victim_line(v: Victim, frame: Frame) -> Content:
    attempts = attempts_text(v, MAX_OOM_REAP_RETRIES)
    last = f" [{', '.join(v.attempts[-3:])}]" if v.attempts else ""
    outcome = reaper_status(v)
    skip = v.mm is not None and v.mm in frame.oom_skip
    comm = frame.comms.get(v.pid) or visible(v.comm or "")
    if v.killed_seq is None or v.killed_ts is None:  # a reaper line without its kill: before the log, time unknown
        killed = "killed before the log"
    else:
        since = f" +{(frame.ts_ns - v.killed_ts) / 1e9:.3f} s" if frame.ts_ns is not None else ""
        killed = f"{'marked' if v.marked else 'killed'} #{v.killed_seq}{since}"
    line = Content.assemble(f"{v.pid} ", (comm, "$accent"), f" {killed}  {attempts}{last}  ",
                            (outcome, "$error bold" if outcome == "unable" else "bold"),
                            ("  MMF_OOM_SKIP" if skip else "", "$warning"))
    blocker = frame.blockers.get(v.pid)
    return Content.assemble(line, "\n  needs ", (blocker, "$warning")) if blocker else line


class ReaperPanel(Panel, can_focus=True):
    """One line per victim."""

    def show(self, frame: Frame | None, differs: frozenset[int] | None = None) -> None:
        """``differs``: the pids of the victims to mark, or None for no gutter (the single replay)."""
        if frame is None:
            self.paint(Content(""))
            return
        lines = [_victim_line(v, frame) for v in frame.victims]
        if differs is not None:
            lines = [gutter(line, v.pid in differs) for line, v in zip(lines, frame.victims)]
        self.paint(Content("\n").join(lines) if lines else Content("no OOM victim yet"))
