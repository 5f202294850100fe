"""The event vocabulary: one record type, a fixed schema per kind, declared once in the native core.

Kinds and field names are public API (converters write them, scripts read them): ``KINDS`` is the core's table,
and everything else (the store's column layout, the CLI's JSON, the views) derives from it. Fields are positional
per kind so the store can write them without repeating names; a field the schema lacks travels in an ``extra``
map. ``Event`` is the core's: ``Event(ts_ns, kind, pid, fields, src, inferred, seq)``, compared by value, its
``fields`` a dict made when first read.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

from .. import _native
from .._native import Event


class Src(NamedTuple):
    """Where an event came from: a source file id (index into the trace's sources) and a 1-based line."""

    file: int
    line: int


#: ``Src.unchecked((file, line))``: a ``Src`` of two ints already right, made by ``tuple.__new__`` in C. A
#: NamedTuple's own constructor is a Python function, a call per line a converter reads that this skips.
Src.unchecked = partial(tuple.__new__, Src)  # type: ignore[attr-defined]

#: kind -> ordered field names. Order matters: it is the on-disk column order within a kind.
KINDS: dict[str, tuple[str, ...]] = {kind: tuple(fields) for kind, fields in _native.KINDS}

#: Values of enumerated fields; apply() records anything else as an anomaly rather than failing.
LOCK_MODES: tuple[str, ...] = tuple(_native.LOCK_MODES)
ALLOC_OUTCOMES: tuple[str, ...] = tuple(_native.ALLOC_OUTCOMES)
REAPER_ATTEMPT_OUTCOMES: tuple[str, ...] = tuple(_native.REAPER_ATTEMPT_OUTCOMES)
REAPER_DONE_OUTCOMES: tuple[str, ...] = tuple(_native.REAPER_DONE_OUTCOMES)
#: How an OOM invocation ends without a kill (no_killable, panic), and why (kernel-formats.md §2.5).
OOM_END_OUTCOMES: tuple[str, ...] = tuple(_native.OOM_END_OUTCOMES)
OOM_END_REASONS: tuple[str, ...] = tuple(_native.OOM_END_REASONS)

KIND_NAMES: tuple[str, ...] = tuple(KINDS)
KIND_IDS: dict[str, int] = {k: i for i, k in enumerate(KIND_NAMES)}

__all__ = ["ALLOC_OUTCOMES", "KINDS", "KIND_IDS", "KIND_NAMES", "LOCK_MODES", "OOM_END_OUTCOMES", "OOM_END_REASONS",
           "REAPER_ATTEMPT_OUTCOMES", "REAPER_DONE_OUTCOMES", "Event", "Src"]
