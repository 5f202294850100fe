"""One side of ``replay A --against B``: that incident's replay at its cursor, made of the single replay's own
panels (header, timeline, tasks, reaper, memory, locks), each told which of its rows differ from the other side,
and above them a compact strip of the story around the cursor (``▶`` the cursor's step, ``≠`` a step that
differs) ending with what differs here, in words.

Everything painted comes from a ``session.against.View`` computed in a worker thread; names from the traced
machine arrive made visible and are put on screen as plain ``Content``, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.content import Content
from textual.message import Message

from ..._util.safetext import visible
from ...session.against import StepLine, View
from ..messages import Scrubbed
from .header import ReplayHeader
from .locks import LocksPanel
from .memory import MemoryPanel
from .panel import DIFFERS, DIFFERS_STYLE, Panel
from .reaper import ReaperPanel
from .tasks import TasksPanel
from .timeline import Timeline


@dataclass
class SideScrubbed(Message):
    """The timeline of side ``side`` (0: the leading one) was clicked or dragged at this time."""

    side: int
    ts_ns: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SideScrubbed) and message.side == self.side


def step_line(s: StepLine) -> Content:
    mark = ("▶" if s.here else " ") + ("≠" if s.differs else " ")
    line = f"{mark} {s.seq:>8}  {s.title}  {visible(s.name or '')}"
    return Content.styled(line, "reverse" if s.here else ("$text-error bold" if s.differs else ""))


def story_text(view: View, rows: int) -> Content:
    """The story strip in ``rows`` lines: the steps around the cursor's (as many as fit above the last line), then
    what differs here, the step's difference first, then the panels'."""
    steps = list(view.steps)
    here = next((k for k, s in enumerate(steps) if s.here), 0)
    room = max(rows - 1, 1)
    lo = max(0, min(here - room // 2, len(steps) - room))
    lines = [step_line(s) for s in steps[lo:lo + room]] or [Content.styled("no story step", "$text-muted")]
    said = ([view.difference] if view.difference else []) + list(view.marks.said)
    if said:
        lines.append(Content.assemble((DIFFERS + "here: ", "$text-error bold"), ("; ".join(said), DIFFERS_STYLE)))
    else:
        lines.append(Content.styled("  no difference here", "$text-muted"))
    return Content("\n").join(lines)


class StoryStrip(Panel):
    """As many story lines as its height allows, redrawn when its height changes."""

    _view: View | None = None

    def show(self, view: View) -> None:
        self._view = view
        self.paint(story_text(view, self.size.height))

    def on_resize(self) -> None:
        if self._view is not None:
            self.show(self._view)


class SidePane(Vertical):
    """``side`` 0 is the leading one (left, or on top): its cursor moves, the other's follows."""

    def __init__(self, side: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.side = side

    def compose(self) -> ComposeResult:
        yield ReplayHeader(classes="header")
        yield StoryStrip(classes="story")
        yield Timeline(classes="timeline")
        with Container(classes="middle"):
            yield TasksPanel(classes="tasks")
            with Vertical(classes="panels"):
                yield ReaperPanel(classes="reaper")
                yield MemoryPanel(classes="memory")
                yield LocksPanel(classes="locks")

    def on_mount(self) -> None:
        for kind in ("story", "timeline", "reaper", "memory", "locks"):
            self.query_one(f".{kind}").border_title = kind
        self.query_one(TasksPanel).only_involved = True  # the tasks the comparison is about; f shows all

    def show(self, view: View) -> None:
        frame, marks = view.frame, view.marks
        self.query_one(ReplayHeader).show(view.info, frame)
        self.query_one(StoryStrip).show(view)
        self.query_one(Timeline).show(view.info, frame.ts_ns)
        self.query_one(TasksPanel).show(frame, frozenset(marks.tasks))
        self.query_one(ReaperPanel).show(frame, frozenset(marks.victims))
        self.query_one(MemoryPanel).show(frame, view.info, frozenset(marks.memory))
        self.query_one(LocksPanel).show(frame, frozenset(marks.locks))

    @on(Scrubbed)
    def _scrubbed(self, message: Scrubbed) -> None:
        message.stop()
        self.post_message(SideScrubbed(self.side, message.ts_ns))
