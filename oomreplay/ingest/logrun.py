"""``log`` events, the kind most lines of a log become: one at a time (``log_event``), or a run of consecutive
lines in bulk (``LogRun``, which the writer's ``append_logs`` takes whole)."""

from __future__ import annotations

from typing import NamedTuple

from ..model import Event, Src


def log_event(ts: int, text: str, src: Src) -> Event:
    """A ``log`` event: one per line that means nothing else (most lines)."""
    return Event.unchecked(ts, "log", None, {"text": text}, src)


class LogRun(NamedTuple):
    """``log`` events of consecutive source lines, in bulk (see ``TraceWriter.append_logs``)."""

    ts: list[int]
    texts: list[str]
    file_id: int
    first_line: int  # ``append_logs`` takes these four in this order

    def events(self) -> list[Event]:
        """The same events one by one, for where each must stand on its own (a merge by time)."""
        return [log_event(ts, text, Src(self.file_id, line))
                for line, ts, text in zip(range(self.first_line, self.first_line + len(self.ts)), self.ts, self.texts)]
