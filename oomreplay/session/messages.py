"""What the app asks the loader (requests) and what the loader answers (results): one frozen class per message.

The loader serves each request type with its own handler and the app applies each result type with its own,
both through a table keyed by the message's class, so adding a message means adding a class and a handler.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..review.chapters import Chapter
from ..review.notes import Mark, Placed
from .findings import Findings
from .frame import Frame, TraceInfo
from .span import Span

# -- requests: the app to the loader ---------------------------------------------------------------------------


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
class Between:
    """What happened between markers A and B (the cursor stays)."""

    a: int
    b: int


@dataclass(frozen=True)
class MarkEdit:
    """Mark the event ``seq`` (``old`` None), change the mark ``old``, or delete it (``title`` None)."""

    seq: int | None
    old: Mark | None
    title: str | None
    note: str = ""


#: Requests of which only the latest pending one is served (a ``MarkEdit`` is never dropped: see ``Loader``).
Request = Seek | SeekTime | Find | Search | FindViolation | Explain | Zoom | Between

# -- results: the loader to the app ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """The trace is open: what stays true for the whole session."""

    info: TraceInfo


@dataclass(frozen=True)
class Loaded:
    """The frame a request went to."""

    request_id: int
    frame: Frame
    note: str | None = None  # what the request found, to tell the user (made visible)


@dataclass(frozen=True)
class Explained:
    """The findings at the seq an ``Explain`` asked about."""

    request_id: int
    findings: Findings


@dataclass(frozen=True)
class Zoomed:
    """The overview buckets of the range a ``Zoom`` asked for."""

    request_id: int
    t0: int
    t1: int
    buckets: list


@dataclass(frozen=True)
class Spanned:
    """The answer to a ``Between``."""

    request_id: int
    span: Span


@dataclass(frozen=True)
class Missed:
    """A request that found nothing to go to: the cursor stays where it is."""

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
    marks: tuple[Placed, ...]
    chapters: tuple[Chapter, ...]
    error: str | None = None


Result = Opened | Loaded | Explained | Zoomed | Marks | Missed | Failed | Spanned
