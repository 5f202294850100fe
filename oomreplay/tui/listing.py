"""The event list (``E``) and the count behind "hit k of n" for ``/`` search.

A mixin of ``ReplayApp``. Both scan the whole trace, so both run in thread workers with trace handles of their
own (``session.eventfilter``), off the UI loop and off the loader's thread: a big trace is filtered or counted
while the replay keeps stepping. The count arrives when it arrives; until then a hit says "hit k of …".
"""

from __future__ import annotations

from bisect import bisect_left
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from .._util.safetext import visible
from ..session.eventfilter import EventFilter, filter_events
from ..session.search import Interrupted, pattern_of
from ..store import TraceError, open_trace
from .screens.events import EventListScreen


class Listing(App[None]):
    """``E``, and the hits of the last search; ``ReplayApp`` provides ``_seek`` and the cursor."""

    trace_path: Path
    cursor: int
    #: The last filter typed in the event list, offered again the next time.
    event_filter = ""
    #: (search text, the seqs of every hit), once counted.
    search_hits: tuple[str, list[int]] | None = None

    def action_events(self) -> None:
        screen = EventListScreen(self.trace_path, self.cursor, self.event_filter)
        self.push_screen(screen, partial(self._listed, screen))

    def _listed(self, screen: EventListScreen, seq: int | None) -> None:
        self.event_filter = screen.text
        if seq is not None and seq >= 0:
            self._seek(seq)

    @work(thread=True, exclusive=True, group="search-count")
    def count_hits(self, text: str) -> None:
        """Every hit of ``text``, as ``/`` matches it (a regular expression, or the literal text)."""
        worker = get_current_worker()
        try:
            with open_trace(self.trace_path) as trace:
                found = filter_events(trace, EventFilter(pattern=pattern_of(text)), 0, lambda: worker.is_cancelled,
                                      rows=0)
        except (Interrupted, TraceError, OSError):
            return
        self.call_from_thread(self._counted, text, found.seqs)

    def _counted(self, text: str, seqs: list[int]) -> None:
        self.search_hits = (text, seqs)

    def hit_text(self, text: str, seq: int) -> str:
        """``hit 3 of 17`` for the hit at ``seq`` (``of …`` while still counting)."""
        if self.search_hits is None or self.search_hits[0] != text:
            return "hit ? of … (counting)"
        seqs = self.search_hits[1]
        at = bisect_left(seqs, seq)
        k = at + 1 if at < len(seqs) and seqs[at] == seq else "?"
        return f"hit {k} of {len(seqs)}"

    def _show_hit(self, text: str, seq: int) -> None:
        self.notify(f"{self.hit_text(text, seq)}: {visible(text)}", timeout=3, markup=False)
