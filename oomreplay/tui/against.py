"""``replay A --against B``: the two incidents' replays side by side (one above the other below 120 columns), B's
cursor following A's along the alignment of their stories, the rows of each side's panels that differ from the
other side marked ``≠``.

Kept apart from ``ReplayApp`` so the single replay stays as it is, but made of the same parts: each side is the
replay's own panels (``widgets.side``) fed from the replay's own frames (``session.against`` builds them with the
single replay's ``FrameBuilder``), its keys are the replay's (``keys.BINDINGS``, those that mean something here)
plus ``d``/``D`` and ``x``. Every move runs in a worker thread, one at a time and in order; a move overtaken by a
newer one before it is built paints nothing, so a held key never queues frames.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from .._util.safetext import visible
from ..session.against import Against, View
from . import keys
from .screens.help import HelpScreen, help_rows
from .themes import resolve
from .widgets.panel import DIFFERS, DIFFERS_STYLE
from .widgets.side import SidePane, SideScrubbed
from .widgets.tasks import TasksPanel

#: Narrower than this, the sides are one above the other.
SIDE_BY_SIDE = 120
#: The replay's actions that mean the same here (on the leading side's cursor, or on both sides' tasks panels).
SHARED = frozenset({"step", "page", "edge", "find", "toggle_involved", "order", "help", "quit"})
#: The help's rows that are not bindings.
EXTRA: tuple[tuple[str, str, str], ...] = (
    ("Compare (replay --against)", DIFFERS.strip(),
     "marks a row that differs from the other incident at the aligned point: a victim's reaper outcome or "
     "attempts, a task's state or flags for the same role (victim, invoker, mm-lock holder: matched by role and "
     "name, not pid), who holds the victim's mm lock, a zone below min or a memcg at its limit on one side only"),
    ("Compare (replay --against)", "▶", "the story strip: the cursor's step (≠ on a step that differs)"),
    ("Jump and search", "click / drag the timeline", "on the leading side: go to that time"),
    ("Other", "ctrl+p", "command palette"),
)
#: The replay's words for its keys, where they mean something else here.
WORDS: dict[str, str] = {
    "step(-1)": "previous event of the leading side (the other follows)",
    "step(1)": "next event of the leading side (the other follows)",
    "page(-1)": "1 % of the trace back (at least 100 events)",
    "page(1)": "1 % of the trace forward (at least 100 events)",
    "app.focus_next": "focus the next panel (↑/↓ select a task in a tasks panel)",
    "toggle_involved": "both tasks panels: all tasks, or only those involved in the OOM (the default here)",
    "order": "both tasks panels: the next sort order",
}
#: A one-line reminder under the verdict.
LEGEND = (f"{DIFFERS}differs from the other side here · d/D next/previous difference · x swap · "
          "[ ] kills · ←/→ step · ? keys")


class AgainstApp(App[None]):
    """Replays ``a`` with ``b`` beside it. ``settled`` is True once the latest move is painted."""

    TITLE = "oomreplay --against"
    CSS_PATH: ClassVar = ["replay.tcss", "against.tcss"]
    HORIZONTAL_BREAKPOINTS: ClassVar = [(0, "-stacked"), (SIDE_BY_SIDE, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (36, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(b for b in keys.BINDINGS if isinstance(b, Binding) and parse_action(b.action)[1] in SHARED),
        Binding("d", "difference(True)", "difference", key_display="d/D", priority=True),
        Binding("D", "difference(False)", show=False, priority=True),
        Binding("x", "swap", "swap", priority=True),
    ]

    def __init__(self, a: str | Path, b: str | Path, a_name: str | None = None, b_name: str | None = None) -> None:
        super().__init__()
        chosen = resolve(None)  # the replay's default theme, registered before the stylesheet is parsed
        self.register_theme(chosen.theme)
        self.theme = chosen.name
        self.paths = (Path(a), Path(b), a_name, b_name)
        self.session: Against | None = None
        self.settled = False
        self.error: str | None = None
        #: the id of the latest move: only its answer is painted and settles the app
        self._latest = 0
        #: moves run one at a time, in the order asked (a worker may still run when the next starts)
        self._lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Static(id="verdict")
        with Container(id="sides"):
            yield SidePane(0, id="side-a", classes="side")
            yield SidePane(1, id="side-b", classes="side")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#side-a TasksPanel").focus()
        self._request(lambda s: None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Over the help the keys are the help's (the bindings here are priority bindings)."""
        return not isinstance(self.screen, ModalScreen)

    @work(thread=True, group="against")
    def _run(self, change: Callable[[Against], str | None], rid: int) -> None:
        """Apply ``change`` to the session and build both sides, in a worker thread (the first call opens the
        traces); ``change`` returns what to tell the user, if anything."""
        try:
            with self._lock:
                if self.session is None:
                    a, b, an, bn = self.paths
                    self.session = Against(a, b, an, bn)
                note = change(self.session)
                if rid != self._latest:
                    return  # a newer move is waiting: it paints
                views = self.session.views()
                verdict = self.session.diff.verdict
        except Exception as e:  # noqa: BLE001 - shown in the app, never a traceback over the terminal
            self.call_from_thread(self._show_error, visible(e))
            return
        self.call_from_thread(self._paint, verdict, views, note, rid)

    def _paint(self, verdict: str, views: tuple[View, View], note: str | None, rid: int) -> None:
        with self.batch_update():
            self.query_one("#verdict", Static).update(Content.assemble(
                (visible(verdict), "bold"), "\n", (LEGEND, "$text-muted")))
            self.query_one("#side-a", SidePane).show(views[0])
            self.query_one("#side-b", SidePane).show(views[1])
        if note:
            self.notify(note, timeout=2, markup=False)
        self.settled = rid == self._latest

    def _show_error(self, message: str) -> None:
        self.error = message
        self.query_one("#verdict", Static).update(Content.assemble(("error: ", DIFFERS_STYLE), message))
        self.settled = True

    def _request(self, change: Callable[[Against], str | None]) -> None:
        self.settled = False
        self._latest += 1
        self._run(change, self._latest)

    # -- the leading side's cursor (B's follows) ----------------------------------------------------------------

    def action_step(self, delta: int) -> None:
        self._request(lambda s: s.move(s.a_seq + delta))

    def action_page(self, direction: int) -> None:
        self._request(lambda s: s.move(s.a_seq + direction * max(100, len(s.traces[0]) // 100)))

    def action_edge(self, end: bool) -> None:
        self._request(lambda s: s.move(len(s.traces[0]) - 1 if end else 0))

    def action_find(self, kind: str, forward: bool, label: str) -> None:
        which = "next" if forward else "previous"
        self._request(lambda s: None if s.find(kind, forward) else f"no {which} {label}")

    def action_difference(self, forward: bool) -> None:
        which = "next" if forward else "previous"
        self._request(lambda s: None if s.next_difference(forward) is not None else f"no {which} difference")

    def action_swap(self) -> None:
        def swap(s: Against) -> str:
            s.swap()
            return f"{'B' if s.swapped else 'A'} leads"
        self._request(swap)

    @on(SideScrubbed)
    def _scrubbed(self, message: SideScrubbed) -> None:
        if message.side != 0:
            self.notify("the cursor follows the other side: scrub its timeline (x swaps)", timeout=2, markup=False)
            return
        self._request(lambda s: s.move_to_time(message.ts_ns))

    # -- both sides' panels ---------------------------------------------------------------------------------------

    def action_toggle_involved(self) -> None:
        for panel in self.query(TasksPanel):
            panel.toggle_involved()

    def action_order(self) -> None:
        orders = [panel.next_order() for panel in self.query(TasksPanel)]
        self.notify(f"tasks by {orders[0]}", timeout=1.5, markup=False)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen(help_rows(self, (TasksPanel,), EXTRA, WORDS)))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()
