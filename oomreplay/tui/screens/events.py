"""``E``: the event list, filtered as one types (``kind:… pid:… comm:… cpu:…`` and a regular expression), Enter
on an event moves the cursor there.

The filtering is ``session.eventfilter``, run in a thread worker with a trace handle of this screen's own (a
``Trace`` may be read from several threads): the UI loop only paints the rows it sends back, and the replay's
loader thread stays free, so the panels behind keep answering. A newer filter cancels the older scan.
"""

from __future__ import annotations

import time
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ..._util.safetext import visible
from ...session.eventfilter import FilterError, Matches, filter_events, parse_filter
from ...session.search import Interrupted
from ...store import TraceError, open_trace

#: Typing pauses this long before a scan starts, so each key does not start one.
DEBOUNCE_S = 0.15
HINT = "kind:oom_kill,reaper_attempt  pid:N  comm:NAME  cpu:N  and a regular expression · Enter: the list · Esc"


class EventListScreen(ModalScreen[int | None]):
    """Dismissed with the seq chosen, or None."""

    BINDINGS = [Binding("escape", "close", "close")]

    def __init__(self, trace_path: Path, cursor: int, text: str = "") -> None:
        super().__init__()
        self.trace_path, self.cursor, self.text = trace_path, cursor, text
        #: What the list shows: the filter it answers and its matches (None until the first scan is back).
        self.shown: tuple[str, Matches] | None = None
        #: Scans answered (a list or an error), and the filter text of the last one: what a test waits on.
        self.answered: tuple[int, str] = (0, "")

    def compose(self) -> ComposeResult:
        with Vertical(id="events"):
            yield Input(self.text, placeholder="filter", id="events-filter")
            yield Static(Content.styled(HINT, "$text-muted"))
            yield Static("", id="events-status")
            yield OptionList(id="events-list")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._scan(self.text)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "event-filter")

    @on(Input.Changed)
    def _changed(self, message: Input.Changed) -> None:
        self.text = message.value  # the app offers it again next time
        self._scan(message.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.query_one(OptionList).focus()

    @work(thread=True, exclusive=True, group="event-filter")
    def _scan(self, text: str) -> None:
        worker = get_current_worker()
        time.sleep(DEBOUNCE_S)
        if worker.is_cancelled:
            return
        try:
            wanted = parse_filter(text)
            with open_trace(self.trace_path) as trace:  # its own handle: opening reads the index only
                found = filter_events(trace, wanted, self.cursor, lambda: worker.is_cancelled)
        except (FilterError, TraceError, OSError) as e:
            self.app.call_from_thread(self._failed, text, visible(e))
            return
        except Interrupted:
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, text, found)

    def _failed(self, text: str, why: str) -> None:
        self._status(why, True)
        self.answered = (self.answered[0] + 1, text)

    def _status(self, text: str, error: bool = False) -> None:
        self.query_one("#events-status", Static).update(Content.styled(text, "$error" if error else "bold"))

    def _show(self, text: str, found: Matches) -> None:
        self.shown = (text, found)
        listed = self.query_one(OptionList)
        listed.clear_options()
        listed.add_options([Option(Content(row), id=f"seq-{seq}") for seq, row in found.rows])
        total = len(found.seqs)
        window = "" if len(found.rows) == total else \
            f" (showing {found.first + 1}–{found.first + len(found.rows)} around the cursor)"
        self._status(f"{total} event{'s' if total != 1 else ''} match{'' if total != 1 else 'es'}{window}")
        at = next((i for i, (seq, _) in enumerate(found.rows) if seq >= self.cursor), None)
        if found.rows:
            listed.highlighted = at if at is not None else len(found.rows) - 1
        self.answered = (self.answered[0] + 1, text)

    @on(OptionList.OptionSelected)
    def _chosen(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(int((message.option.id or "seq--1")[4:]))

    def action_close(self) -> None:
        self.dismiss(None)
