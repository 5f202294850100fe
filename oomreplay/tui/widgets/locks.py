"""Locks held or waited for: first the wait-for chains (who waits behind whom, through which lock), then each
lock with who holds it (mode, since which event) and who waits, the victims' mm locks first (the frame orders
them); lockdep-dump holdings, whose start is unknown, are marked as inferred. Last, what the next lockdep dump
will print that this moment does not know yet, under "known from the dump at seq N" (``session.hindsight``).
Beside another incident (``replay --against``) each line has a gutter, ``≠`` on the locks (a victim's mm lock)
whose holders differ from the other side's."""

from __future__ import annotations

from textual.content import Content

from ..._util.safetext import visible
from ...analysis import holding_mark
from ...model import Holder
from ...session.frame import Frame
from ...session.hindsight import Later
from .panel import Panel, gutter

#: More locks than this are counted, not listed: a panel of a thousand lines helps no one.
MAX_LOCKS = 50


def _who(h: Holder, comms: dict[int, str], waiting: bool) -> Content:
    since = "" if waiting or h.since is None else f" since #{h.since}"
    inferred = " (inferred from a lock dump)" if h.inferred else ""
    mode = holding_mark(h.mode, False)
    return Content.assemble(f"{h.pid} ", (comms.get(h.pid, ""), "$accent"), f" {mode}{since}",
                            (inferred, "$text-muted italic"))


class LocksPanel(Panel, can_focus=True):
    """Per lock: its name, then a line per holder and per waiter."""

    def show(self, frame: Frame | None, differs: frozenset[str] | None = None) -> None:
        """``differs``: the names of the locks to mark, or None for no gutter (the single replay)."""
        if frame is None:
            self.paint(Content(""))
            return
        lines: list[tuple[Content, bool]] = [(Content.assemble(("wait-for ", "$warning bold"), chain), False)
                                             for chain in frame.chains]
        for lk in frame.locks[:MAX_LOCKS]:
            marked = differs is not None and lk.name in differs
            lines.append((Content.styled(visible(lk.name), "bold"), marked))
            lines += [(Content.assemble("  held by ", _who(h, frame.comms, False)), marked) for h in lk.holders]
            lines += [(Content.assemble(("  waiting ", "$warning"), _who(w, frame.comms, True)), marked)
                      for w in lk.waiters]
        if len(frame.locks) > MAX_LOCKS:
            lines.append((Content(f"… {len(frame.locks) - MAX_LOCKS} more locks"), False))
        if not lines:
            lines.append((Content("no lock held or waited for, as far as this moment knows"
                                  if frame.later else "no lock held or waited for"), False))
        if frame.later is not None:
            lines += [(line, False) for line in _later(frame.later)]
        shown = [line for line, _ in lines] if differs is None else [gutter(line, marked) for line, marked in lines]
        self.paint(Content("\n").join(shown))


def _later(later: Later) -> list[Content]:
    """The next dump's holdings, each lock with its holders on one line (they were printed with no order)."""
    lines = [Content.styled(f"{later.label()}:", "$warning italic")]
    for name, held in later.locks[:MAX_LOCKS]:
        who = [Content.assemble(f"{h.pid} ", (h.comm, "$accent")) for h in held]
        lines.append(Content.assemble((name, "bold"), "? held by ", Content(", ").join(who)))
    if len(later.locks) > MAX_LOCKS:
        lines.append(Content(f"… {len(later.locks) - MAX_LOCKS} more locks in that dump"))
    return lines
