"""The original log lines around the cursor's event (or, for events with no source line, the events around it),
the cursor's line marked."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from .frame import Frame


class LogPanel(Static):
    """Plain text only: log lines come from the traced machine."""

    def show(self, frame: Frame | None) -> None:
        if frame is None:
            self.update("")
            return
        self.border_title = "log"
        self.border_subtitle = frame.log_title
        lines = [Content.styled(f"▶ {text}", "bold reverse") if current else Content(f"  {text}")
                 for current, text in frame.log_lines]
        self.update(Content("\n").join(lines) if lines else Content("no log line"))
