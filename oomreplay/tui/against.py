"""``replay A --against B``: the two incidents side by side (one above the other on a narrow terminal), B's
cursor following A's along the alignment of their stories, the steps that differ marked in both.

Kept apart from ``ReplayApp`` so the single replay stays as it is: each pane shows its side's story around the
cursor (the cursor's step marked ``▶``, a step that differs ``≠``), the victims and the reaper at the cursor,
and what differs at the cursor's step. All reading happens in a worker thread (``session.against``); names from
the traced machines are rendered as plain ``Text``, never markup.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import Footer, Static

from .._util.safetext import visible
from ..session.against import Against, Pane

#: Narrower than this, the panes are one above the other.
SIDE_BY_SIDE = 120


def pane_text(p: Pane) -> Text:
    """One side as plain text (nothing in it is read as markup)."""
    t = Text()
    at = "-" if p.ts_ns is None else f"{p.ts_ns / 1e9:.6f} s"
    t.append(f"{p.label}: {visible(p.name)}\n", style="bold")
    t.append(f"seq {p.seq}/{max(p.total - 1, 0)}  {at}  {p.kind or ''}\n")
    for s in p.steps:
        mark = "▶" if s.here else " "
        diff = "≠" if s.differs else " "
        line = f"{mark}{diff} {s.seq:>8}  {s.title}  {visible(s.name or '')}\n"
        t.append(line, style="reverse" if s.here else ("bold red" if s.differs else ""))
    t.append("victims: " if p.victims else "no OOM victim yet\n")
    if p.victims:
        t.append(", ".join(f"{pid} {visible(comm or '?')} {status} ({n}/10)" for pid, comm, status, n in p.victims))
        t.append("\n")
    if p.difference:
        t.append(f"differs here: {visible(p.difference)}\n", style="bold red")
    return t


class AgainstApp(App):
    """Replays ``a`` with ``b`` beside it. ``settled`` is True once the latest move is painted."""

    TITLE = "oomreplay --against"
    CSS = """
    #panes { layout: horizontal; height: 1fr; }
    #panes.-stacked { layout: vertical; }
    .pane { width: 1fr; height: 1fr; border: round $accent; padding: 0 1; }
    #verdict { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "-1", priority=True),
        Binding("right", "step(1)", "+1", priority=True),
        Binding("left_square_bracket", "find('oom_kill', False)", show=False, priority=True),
        Binding("right_square_bracket", "find('oom_kill', True)", "kill", key_display="[/]", priority=True),
        Binding("d", "difference(True)", "next difference", priority=True),
        Binding("D", "difference(False)", show=False, priority=True),
        Binding("x", "swap", "swap sides", priority=True),
        Binding("g", "edge(False)", show=False, priority=True),
        Binding("G", "edge(True)", show=False, priority=True),
        Binding("q", "quit", "quit", priority=True),
    ]

    def __init__(self, a: str | Path, b: str | Path, a_name: str | None = None, b_name: str | None = None) -> None:
        super().__init__()
        self.paths = (Path(a), Path(b), a_name, b_name)
        self.session: Against | None = None
        self.settled = False
        self.error: str | None = None
        #: the id of the latest move: only its answer settles the app
        self._latest = 0
        #: moves run one at a time, in the order asked (a worker may still run when the next starts)
        self._lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Static(id="verdict")
        with Container(id="panes"):
            yield Static(id="pane-a", classes="pane")
            yield Static(id="pane-b", classes="pane")
        yield Footer()

    def on_mount(self) -> None:
        self._layout()
        self._run(lambda s: None, 0)

    def on_resize(self) -> None:
        self._layout()

    def _layout(self) -> None:
        self.query_one("#panes").set_class(self.size.width < SIDE_BY_SIDE, "-stacked")

    @work(thread=True, group="against")
    def _run(self, change, rid: int) -> None:
        """Apply ``change`` to the session and repaint, in a worker thread (the first call opens the traces)."""
        try:
            with self._lock:
                if self.session is None:
                    a, b, an, bn = self.paths
                    self.session = Against(a, b, an, bn)
                change(self.session)
                panes = self.session.panes()
                verdict = self.session.diff.verdict
        except Exception as e:  # noqa: BLE001 - shown in the app, never a traceback over the terminal
            self.call_from_thread(self._show_error, visible(e))
            return
        self.call_from_thread(self._paint, verdict, panes, rid)

    def _paint(self, verdict: str, panes: tuple[Pane, Pane], rid: int) -> None:
        self.query_one("#verdict", Static).update(Text(visible(verdict)))
        self.query_one("#pane-a", Static).update(pane_text(panes[0]))
        self.query_one("#pane-b", Static).update(pane_text(panes[1]))
        self.settled = rid == self._latest

    def _show_error(self, message: str) -> None:
        self.error = message
        self.query_one("#verdict", Static).update(Text(f"error: {message}"))
        self.settled = True

    def _request(self, change) -> None:
        self.settled = False
        self._latest += 1
        self._run(change, self._latest)

    def action_step(self, n: int) -> None:
        self._request(lambda s: s.move(s.a_seq + n))

    def action_find(self, kind: str, forward: bool) -> None:
        self._request(lambda s: s.find(kind, forward))

    def action_difference(self, forward: bool) -> None:
        self._request(lambda s: s.next_difference(forward))

    def action_swap(self) -> None:
        self._request(lambda s: s.swap())

    def action_edge(self, end: bool) -> None:
        self._request(lambda s: s.move(len(s.traces[0]) - 1 if end else 0))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()
