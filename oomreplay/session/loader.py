"""The one thread that touches the trace: opens it, resolves navigation requests and builds frames.

Keeping every read of the file in one thread means the UI loop never blocks on I/O or decoding, and the trace
(whose caches are not meant for concurrent use) sees one caller. Requests are coalesced: only the latest one
pending is served, so a held arrow key never builds a backlog. Edits of the marks are the exception: each is
something the user wrote, so they queue and all run, in order, before the next request.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .._util.safetext import visible
from ..analysis import RULES, Kernel, Violation, check_all, explain, kernel_of
from ..review.chapters import chapters
from ..review.notes import Anchor, Mark, Notes, NotesError
from ..store import Trace, TraceError, open_trace
from .findings import findings
from .frame import FrameBuilder, trace_info
from .messages import (Between, Explain, Explained, Failed, Find, FindViolation, Loaded, MarkEdit, Marks, Missed,
                       Opened, Request, Result, Search, Seek, SeekTime, Spanned, Zoom, Zoomed)
from .search import Interrupted, find_text
from .span import span

#: Overview buckets fetched for a zoomed timeline (a terminal is rarely wider).
ZOOM_BUCKETS = 256


@dataclass
class _Open:
    """What the requests are served from: the open trace, its frames, and its notes (None: the sidecar could not
    be read, and edits are refused so nothing overwrites it)."""

    trace: Trace
    frames: FrameBuilder
    notes: Notes | None


class Loader:
    """Serves the latest request; ``run`` is the thread's body and ``emit`` must be thread-safe."""

    def __init__(self, path: Path, notes_for: Path | None = None) -> None:
        self.path = path
        #: Whose sidecar holds the marks: the trace's, or the log it was converted from (a cached conversion
        #: lives in a cache directory, where notes would be lost).
        self.notes_for = notes_for or path
        self._cond = threading.Condition()
        self._pending: tuple[int, Request] | None = None
        self._edits: deque[tuple[int, MarkEdit]] = deque()
        self._stopped = False
        #: The kernel and the invariant violations of the whole trace: computed on first use, then kept.
        self._checked: tuple[Kernel, list[Violation]] | None = None
        self._notes_error: str | None = None

    def request(self, request_id: int, request: Request | MarkEdit) -> None:
        with self._cond:
            if isinstance(request, MarkEdit):
                self._edits.append((request_id, request))
            else:
                self._pending = (request_id, request)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()

    def _next(self) -> tuple[int, Request | MarkEdit] | None:
        with self._cond:
            while self._pending is None and not self._edits and not self._stopped:
                self._cond.wait()
            if self._stopped:
                return None
            if self._edits:
                return self._edits.popleft()
            pending, self._pending = self._pending, None
            return pending

    def run(self, emit: Callable[[Result], None]) -> None:
        try:
            trace = open_trace(self.path)
        except (TraceError, OSError) as e:
            emit(Failed(visible(e)))
            return
        with trace:
            try:
                # the name the user gave: a log replayed through the cache is shown as the log, not as the
                # cache's content-hash file name
                emit(Opened(replace(trace_info(trace), name=visible(self.notes_for.name))))
            except TraceError as e:
                emit(Failed(visible(e)))
                return
            notes = self._load_notes(trace, emit)
            self._serve(_Open(trace, FrameBuilder(trace), notes), emit)

    def _load_notes(self, trace: Trace, emit: Callable[[Result], None]) -> Notes | None:
        """The sidecar's marks; None when it cannot be read (then edits are refused, so nothing overwrites it)."""
        try:
            notes = Notes.load(self.notes_for)
        except (NotesError, OSError) as e:
            self._notes_error = f"{visible(e)} (marks are read-only until it is fixed)"
            emit(Marks(None, (), tuple(chapters(trace, None)[0]), self._notes_error))
            return None
        emit(self._marks(trace, notes, None))
        return notes

    def _serve(self, opened: _Open, emit: Callable[[Result], None]) -> None:
        while (pending := self._next()) is not None:
            request_id, request = pending
            try:
                result = _HANDLERS[type(request)](self, opened, request_id, request)
            except (TraceError, IndexError) as e:
                result = Failed(visible(e), request_id)
            if result is not None:
                emit(result)

    def _superseded(self) -> bool:
        with self._cond:
            return self._pending is not None or self._stopped

    def _checks(self, trace: Trace) -> tuple[Kernel, list[Violation]]:
        if self._checked is None:
            kernel = kernel_of(trace)
            self._checked = kernel, check_all(trace, kernel)
        return self._checked

    # -- one handler per request: the result to send, or None when a newer request answers for this one ------

    @staticmethod
    def _go(opened: _Open, request_id: int, seq: int | None, note: str | None) -> Loaded | Missed:
        """The frame at ``seq`` with what to tell the user, or, when there is no such seq, why."""
        if seq is None:
            return Missed(request_id, note or "nothing there")
        return Loaded(request_id, opened.frames.build(seq), note)

    def _seek(self, opened: _Open, request_id: int, request: Seek) -> Result:
        last = len(opened.trace) - 1
        return self._go(opened, request_id, max(min(request.seq, last), 0 if last >= 0 else -1), None)

    def _seek_time(self, opened: _Open, request_id: int, request: SeekTime) -> Result:
        found = opened.trace.seq_at(request.ts_ns)
        seq = (0 if len(opened.trace) else -1) if found is None else found
        return self._go(opened, request_id, seq, None)

    def _find(self, opened: _Open, request_id: int, request: Find) -> Result:
        trace = opened.trace
        look = trace.next if request.forward else trace.prev
        found = look(request.origin, kind=list(request.kinds) or None, pid=request.pid)
        which = "next" if request.forward else "previous"
        return self._go(opened, request_id, found, None if found is not None else f"no {which} {request.label}")

    def _search(self, opened: _Open, request_id: int, request: Search) -> Result | None:
        try:
            found = find_text(opened.trace, request.text, request.origin, request.forward, self._superseded)
        except Interrupted:
            return None  # a newer request is waiting and answers for this one
        which = "next" if request.forward else "previous"
        note = None if found is not None else visible(f"no {which} event or log line with {request.text!r}")
        return self._go(opened, request_id, found, note)

    def _find_violation(self, opened: _Open, request_id: int, request: FindViolation) -> Result:
        _, violations = self._checks(opened.trace)
        ahead = [v for v in violations if (v.seq > request.origin if request.forward else v.seq < request.origin)]
        if not ahead:
            which = "next" if request.forward else "previous"
            return self._go(opened, request_id, None,
                            f"no {which} invariant violation" + ("" if violations else " (all invariants hold)"))
        v = ahead[0] if request.forward else ahead[-1]
        return self._go(opened, request_id, v.seq,
                        visible(f"{RULES[v.rule]}: {v.message}" + ("" if v.certain else " (unconfirmed)")))

    def _explain(self, opened: _Open, request_id: int, request: Explain) -> Result:
        kernel, violations = self._checks(opened.trace)
        ex = explain(opened.trace, request.seq, kernel=kernel, violations=violations)
        later = opened.frames.hindsight.later(request.seq, opened.trace.state_at(request.seq))
        return Explained(request_id, findings(opened.trace, ex, later))

    def _zoom(self, opened: _Open, request_id: int, request: Zoom) -> Result:
        return Zoomed(request_id, request.t0, request.t1, opened.trace.overview(request.t0, request.t1, ZOOM_BUCKETS))

    def _between(self, opened: _Open, request_id: int, request: Between) -> Result | None:
        try:
            return Spanned(request_id, span(opened.trace, request.a, request.b, self._superseded))
        except Interrupted:
            return None  # a newer request answers for this one

    def _edit(self, opened: _Open, request_id: int, edit: MarkEdit) -> Result:
        """Apply one edit and save the sidecar; on failure the file and the marks stay as they were."""
        trace, notes = opened.trace, opened.notes
        if notes is None:
            return Marks(request_id, (), tuple(chapters(trace, None)[0]), self._notes_error)
        before = list(notes.marks)
        try:
            if edit.old is None:
                assert edit.seq is not None and edit.title is not None
                notes.add(Mark(edit.title, edit.note, Anchor.of(trace, edit.seq)))
            elif edit.title is None:
                notes.delete(edit.old)
            else:
                notes.edit(edit.old, edit.title, edit.note)
            notes.save()
        except (ValueError, KeyError, OSError) as e:
            notes.marks[:] = before
            return self._marks(trace, notes, request_id, visible(e))
        return self._marks(trace, notes, request_id)

    @staticmethod
    def _marks(trace: Trace, notes: Notes, request_id: int | None, error: str | None = None) -> Marks:
        found, _ = chapters(trace, notes)
        return Marks(request_id, tuple(notes.resolve(trace)), tuple(found), error)


#: The handler of each request type (see ``messages``).
_HANDLERS: dict[type, Callable[[Loader, _Open, int, Any], Result | None]] = {
    Seek: Loader._seek, SeekTime: Loader._seek_time, Find: Loader._find, Search: Loader._search,
    FindViolation: Loader._find_violation, Explain: Loader._explain, Zoom: Loader._zoom, MarkEdit: Loader._edit,
    Between: Loader._between,
}
