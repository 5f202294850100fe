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
from dataclasses import dataclass
from pathlib import Path

from .._util.safetext import visible
from ..analysis import RULES, Kernel, Violation, check_all, explain, kernel_of
from ..review.chapters import Chapter, chapters
from ..review.notes import Anchor, Mark, Notes, NotesError
from ..store import Trace, TraceError, open_trace
from .findings import Findings, findings
from .frame import Frame, FrameBuilder, TraceInfo, trace_info
from .search import Interrupted, find_text


#: Overview buckets fetched for a zoomed timeline (a terminal is rarely wider).
ZOOM_BUCKETS = 256


@dataclass(frozen=True)
class Seek:
    """Go to this seq."""

    seq: int


@dataclass(frozen=True)
class SeekTime:
    """Go to the last event at or before this time."""

    ts_ns: int


@dataclass(frozen=True)
class Find:
    """Go to the next (or previous) event of these kinds (any, if none) and of this task (any, if None) from
    ``origin``."""

    kinds: tuple[str, ...]
    forward: bool
    origin: int
    label: str
    pid: int | None = None


@dataclass(frozen=True)
class Search:
    """Go to the next (or previous) event whose text or source line contains ``text``."""

    text: str
    forward: bool
    origin: int


@dataclass(frozen=True)
class FindViolation:
    """Go to the next (or previous) invariant violation from ``origin``."""

    forward: bool
    origin: int


@dataclass(frozen=True)
class Explain:
    """Explain the incident at this seq (the cursor stays)."""

    seq: int


@dataclass(frozen=True)
class Zoom:
    """The timeline's overview of ``t0..t1`` (the cursor stays)."""

    t0: int
    t1: int


@dataclass(frozen=True)
class MarkEdit:
    """Mark the event ``seq`` (``old`` None), change the mark ``old``, or delete it (``title`` None)."""

    seq: int | None
    old: Mark | None
    title: str | None
    note: str = ""


Request = Seek | SeekTime | Find | Search | FindViolation | Explain | Zoom


@dataclass(frozen=True)
class Opened:
    info: TraceInfo


@dataclass(frozen=True)
class Loaded:
    request_id: int
    frame: Frame
    note: str | None = None  # what the request found, to tell the user (made visible)


@dataclass(frozen=True)
class Explained:
    request_id: int
    findings: Findings


@dataclass(frozen=True)
class Zoomed:
    request_id: int
    t0: int
    t1: int
    buckets: list


@dataclass(frozen=True)
class Missed:
    """A ``Find`` that found nothing: the cursor stays where it is."""

    request_id: int
    text: str


@dataclass(frozen=True)
class Failed:
    """The trace could not be opened (``request_id`` None: nothing more will come) or one request failed."""

    text: str
    request_id: int | None = None


@dataclass(frozen=True)
class Marks:
    """The marks (resolved to seqs, None for one whose event is gone) and the chapters they make; ``error``: the
    notes file could not be read or written (the marks then are what was known before)."""

    request_id: int | None
    marks: tuple[tuple[Mark, int | None], ...]
    chapters: tuple[Chapter, ...]
    error: str | None = None


Result = Opened | Loaded | Explained | Zoomed | Marks | Missed | Failed


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

    def request(self, request_id: int, request: Request) -> None:
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

    def _next(self) -> tuple[int, Request] | None:
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
                emit(Opened(trace_info(trace)))
            except TraceError as e:
                emit(Failed(visible(e)))
                return
            notes = self._load_notes(trace, emit)
            self._serve(trace, emit, notes)

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

    @staticmethod
    def _marks(trace: Trace, notes: Notes, request_id: int | None, error: str | None = None) -> Marks:
        found, _ = chapters(trace, notes)
        return Marks(request_id, tuple(notes.resolve(trace)), tuple(found), error)

    def _edit(self, trace: Trace, notes: Notes | None, request_id: int, edit: MarkEdit) -> Marks:
        """Apply one edit and save the sidecar; on failure the file and the marks stay as they were."""
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

    def _serve(self, trace: Trace, emit: Callable[[Result], None], notes: Notes | None) -> None:
        frames = FrameBuilder(trace)
        while (pending := self._next()) is not None:
            request_id, request = pending
            try:
                if isinstance(request, MarkEdit):
                    emit(self._edit(trace, notes, request_id, request))
                    continue
                if isinstance(request, Explain):
                    kernel, violations = self._checks(trace)
                    ex = explain(trace, request.seq, kernel=kernel, violations=violations)
                    emit(Explained(request_id, findings(trace, ex)))
                    continue
                if isinstance(request, Zoom):
                    emit(Zoomed(request_id, request.t0, request.t1, trace.overview(request.t0, request.t1,
                                                                                   ZOOM_BUCKETS)))
                    continue
                try:
                    seq, note = self._resolve(trace, request)
                except Interrupted:
                    continue  # a newer request is waiting and answers for this one
                if seq is None:
                    emit(Missed(request_id, note or "nothing there"))
                    continue
                frame = frames.build(seq)
            except (TraceError, IndexError) as e:
                emit(Failed(visible(e), request_id))
                continue
            emit(Loaded(request_id, frame, note))

    def _superseded(self) -> bool:
        with self._cond:
            return self._pending is not None or self._stopped

    def _checks(self, trace: Trace) -> tuple[Kernel, list[Violation]]:
        if self._checked is None:
            kernel = kernel_of(trace)
            self._checked = kernel, check_all(trace, kernel)
        return self._checked

    def _resolve(self, trace: Trace, request: Request) -> tuple[int | None, str | None]:
        """The seq a request goes to, and what to tell the user about it (why nothing was found, or what was)."""
        if isinstance(request, FindViolation):
            return self._violation(trace, request)
        if isinstance(request, Find):
            kinds = list(request.kinds) or None
            look = trace.next if request.forward else trace.prev
            found = look(request.origin, kind=kinds, pid=request.pid)
            which = "next" if request.forward else "previous"
            return found, None if found is not None else f"no {which} {request.label}"
        if isinstance(request, Search):
            found = find_text(trace, request.text, request.origin, request.forward, self._superseded)
            which = "next" if request.forward else "previous"
            return found, None if found is not None else visible(f"no {which} event or log line with {request.text!r}")
        return self._position(trace, request), None

    def _violation(self, trace: Trace, request: FindViolation) -> tuple[int | None, str | None]:
        _, violations = self._checks(trace)
        ahead = [v for v in violations if (v.seq > request.origin if request.forward else v.seq < request.origin)]
        if not ahead:
            which = "next" if request.forward else "previous"
            return None, f"no {which} invariant violation" + ("" if violations else " (all invariants hold)")
        v = ahead[0] if request.forward else ahead[-1]
        return v.seq, visible(f"{RULES[v.rule]}: {v.message}" + ("" if v.certain else " (unconfirmed)"))

    @staticmethod
    def _position(trace: Trace, request: Seek | SeekTime) -> int:
        last = len(trace) - 1
        if isinstance(request, Seek):
            return max(min(request.seq, last), 0 if last >= 0 else -1)
        if isinstance(request, SeekTime):
            found = trace.seq_at(request.ts_ns)
            return (0 if last >= 0 else -1) if found is None else found
