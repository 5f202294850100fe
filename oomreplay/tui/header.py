"""The top line: which trace, which kernel, when, and where the cursor is."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from .frame import Frame, TraceInfo, describe


class ReplayHeader(Static):
    """Trace name, kernel, time and seq / total; the cursor's event on the second line."""

    def show_opening(self, path_name: str) -> None:
        self.update(Content.assemble(("oomreplay ", "bold"), f"opening {path_name}…"))

    def show_failure(self, text: str) -> None:
        self.update(Content.assemble(("oomreplay ", "bold"), ("cannot show this trace: ", "$error bold"), text))

    def show(self, info: TraceInfo, frame: Frame) -> None:
        when = "-" if frame.ts_ns is None else f"{frame.ts_ns / 1e9:.6f} s"
        if info.count == 0:
            where = "empty trace: no events"
        else:
            where = f"seq {frame.seq}/{info.count - 1}"
        event = describe(frame.event) if frame.event is not None else ""
        self.update(Content.assemble(("oomreplay ", "bold"), (info.name, "$accent"), "  kernel ", info.kernel,
                                     "  t ", when, "  ", (where, "bold"), "\n", (event, "$text-muted")))
