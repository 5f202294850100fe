"""The top line: which trace, which kernel, when, and where the cursor is."""

from __future__ import annotations

from textual.content import Content

from ...session.frame import Frame, TraceInfo, describe
from .panel import Panel


class ReplayHeader(Panel):
    """Trace name, kernel, time, seq / total and playback; the cursor's event on the second line."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.play = ""
        self.markers = ""  # markers A and B and the time between them
        self._last: tuple[TraceInfo, Frame] | None = None

    def show_play(self, play: str) -> None:
        self.play = play
        if self._last is not None:
            self.show(*self._last)

    def show_markers(self, markers: str) -> None:
        self.markers = markers
        if self._last is not None:
            self.show(*self._last)

    def show_opening(self, path_name: str) -> None:
        self.paint(Content.assemble(("oomreplay ", "bold"), f"opening {path_name}…"))

    def show_failure(self, text: str) -> None:
        self.paint(Content.assemble(("oomreplay ", "bold"), ("cannot show this trace: ", "$error bold"), text))

    def show(self, info: TraceInfo, frame: Frame) -> None:
        self._last = (info, frame)
        when = "-" if frame.ts_ns is None else f"{frame.ts_ns / 1e9:.6f} s"
        if info.count == 0:
            where = "empty trace: no events"
        else:
            where = f"seq {frame.seq}/{info.count - 1}"
        event = describe(frame.event) if frame.event is not None else ""
        # what changes with every step first, so a narrow terminal cuts the trace's name, not the cursor
        self.paint(Content.assemble((where, "bold"), "  t ", when, f"  {self.play}".rstrip(),
                                     (f"  {self.markers}".rstrip(), "$warning"), "  ",
                                     (info.name, "$accent"), "  kernel ", info.kernel, "\n",
                                     (event, "$text-muted")))
