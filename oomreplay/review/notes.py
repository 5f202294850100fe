"""Marks and notes on a trace, kept in a TOML sidecar beside it (``NAME.oomtrace.notes.toml``).

Why a sidecar and not the trace: a trace is written once and never edited, while notes change during a review; a
small text file diffs well in that review and can be edited by hand. Why anchors and not seqs: re-converting the
log (a newer converter, more lines around the incident) moves every seq, so each mark is anchored to its event's
identity, ``kind``, ``pid`` and ``ts_ns`` (plus which of several identical events it was), and the seq is only a
hint for finding it fast. A mark whose event is no longer in the trace is reported by ``resolve``, never dropped.

Reading uses ``tomllib``; writing uses ``_util.tomlwrite`` (the standard library has no TOML writer), which
escapes every string so that a note round-trips exactly: quotes, backslashes, control characters, any Unicode.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from bisect import insort
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from .._util.resources import is_bundled, user_data_dir
from .._util.tomllines import TomlLines
from .._util.tomlwrite import basic, multiline
from ..model import KINDS, Event
from ..store import Trace

SUFFIX = ".notes.toml"
#: Events with the same time scanned at most, looking for a mark's event (a burst of log lines shares a stamp).
SCAN_LIMIT = 100_000
_FIELDS = {"title": str, "note": str, "kind": str, "pid": int, "ts_ns": int, "seq": int, "occurrence": int}
_REQUIRED = ("title", "kind", "ts_ns")


class NotesError(ValueError):
    """A notes file that cannot be read: one line naming the file and the line (``FILE:LINE: what``)."""


@dataclass(frozen=True)
class Anchor:
    """An event's identity: what survives re-conversion. ``occurrence`` tells apart events with the same kind, pid
    and time (two log lines with one stamp): 0 for the first of them. ``seq`` is a hint, checked first."""

    kind: str
    pid: int | None
    ts_ns: int
    occurrence: int = 0
    seq: int | None = None

    def matches(self, ev: Event) -> bool:
        """Same kind, pid and time (the hint and the occurrence are not part of the identity of one event)."""
        return ev.kind == self.kind and ev.pid == self.pid and ev.ts_ns == self.ts_ns

    @classmethod
    def of(cls, trace: Trace, seq: int) -> Anchor:
        """The anchor of the event at ``seq`` of ``trace``."""
        ev = trace.event(seq)
        anchor = cls(ev.kind, ev.pid, ev.ts_ns, 0, seq)
        before = sum(1 for s in _same_time_before(trace, seq) if anchor.matches(trace.event(s)))
        return replace(anchor, occurrence=before)


@dataclass(frozen=True)
class Mark:
    """A titled note (Markdown) on one event."""

    title: str
    note: str
    anchor: Anchor


def _same_time_before(trace: Trace, seq: int) -> Iterator[int]:
    """Seqs before ``seq`` with the same time, nearest first (events are ordered by time)."""
    ts = trace.event(seq).ts_ns
    s = seq - 1
    while s >= 0 and seq - s <= SCAN_LIMIT and trace.event(s).ts_ns == ts:
        yield s
        s -= 1


def find(trace: Trace, anchor: Anchor) -> int | None:
    """The seq of the anchored event in ``trace``, or None if it is not there.

    The seq hint first (one event read, plus the events of the same time before it to check the occurrence); then
    ``seq_at(ts)`` and a scan back over the events of that time."""
    hint = anchor.seq
    if hint is not None and 0 <= hint < len(trace) and anchor.matches(trace.event(hint)):
        before = sum(1 for s in _same_time_before(trace, hint) if anchor.matches(trace.event(s)))
        if before == anchor.occurrence:
            return hint
    last = trace.seq_at(anchor.ts_ns)
    if last is None or trace.event(last).ts_ns != anchor.ts_ns:
        return None
    found = [s for s in (last, *_same_time_before(trace, last)) if anchor.matches(trace.event(s))]
    if not found:
        return None
    found.reverse()
    return found[min(anchor.occurrence, len(found) - 1)]


def sidecar(trace_path: str | os.PathLike) -> Path:
    """``NAME.oomtrace`` -> ``NAME.oomtrace.notes.toml``, in the same directory; for a bundled incident (the demo),
    in the user's data directory instead (``$XDG_DATA_HOME/oomreplay/notes``): inside the installed package a
    mark is lost on reinstall and cannot be written at all on a read-only install."""
    p = Path(trace_path)
    if is_bundled(p):
        return user_data_dir() / "notes" / (p.name + SUFFIX)
    return p.with_name(p.name + SUFFIX)


class Placed(NamedTuple):
    """A mark and the seq of its event in one trace (None: the event is not in it)."""

    mark: Mark
    seq: int | None


class Notes:
    """The marks of one trace. ``load`` it, change it with ``add`` / ``edit`` / ``delete``, ``save`` it.

    ``marks`` is kept in time order (then by the seq hint), the order the file is written in, so that two people's
    marks on the same trace merge as a plain text diff."""

    def __init__(self, path: str | os.PathLike, marks: list[Mark] | None = None) -> None:
        self.path = Path(path)
        self.marks: list[Mark] = []
        for m in marks or []:
            self.add(m)

    @classmethod
    def load(cls, trace_path: str | os.PathLike) -> Notes:
        """The notes beside ``trace_path``; empty when there is no sidecar yet. Raises ``NotesError``."""
        path = sidecar(trace_path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path)
        except UnicodeDecodeError as e:
            raise NotesError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
        return cls(path, parse(text, str(path)))

    def add(self, mark: Mark) -> Mark:
        """Insert ``mark`` in time order and return it."""
        _check(mark)
        insort(self.marks, mark, key=_order)
        return mark

    def edit(self, mark: Mark, title: str | None = None, note: str | None = None) -> Mark:
        """Replace ``mark`` by one with a new title and/or note."""
        i = self._index(mark)
        new = replace(mark, title=mark.title if title is None else title, note=mark.note if note is None else note)
        _check(new)
        self.marks[i] = new
        return new

    def delete(self, mark: Mark) -> None:
        """Remove ``mark``."""
        del self.marks[self._index(mark)]

    def _index(self, mark: Mark) -> int:
        try:  # equal marks are interchangeable: changing either leaves the same list
            return self.marks.index(mark)
        except ValueError:
            raise KeyError(f"no such mark: {mark.title!r}") from None

    def resolve(self, trace: Trace) -> list[Placed]:
        """Each mark with its event's seq in ``trace`` (None: the event is gone), in seq order, the gone ones last."""
        found = [Placed(m, find(trace, m.anchor)) for m in self.marks]
        return sorted(found, key=lambda p: (p[1] is None, -1 if p[1] is None else p[1]))

    def dumps(self) -> str:
        """The file's text: a comment saying what it is, then one ``[[mark]]`` table per mark."""
        out = ["# oomreplay notes: one [[mark]] per marked event, found again by kind, pid and ts_ns",
               "# (seq is only a hint; occurrence tells apart events with the same kind, pid and time).", ""]
        for m in self.marks:
            a = m.anchor
            out += ["[[mark]]", f"title = {basic(m.title)}", f"kind = {basic(a.kind)}"]
            if a.pid is not None:
                out.append(f"pid = {a.pid}")
            out.append(f"ts_ns = {a.ts_ns}")
            if a.occurrence:
                out.append(f"occurrence = {a.occurrence}")
            if a.seq is not None:
                out.append(f"seq = {a.seq}")
            note = multiline(m.note) if "\n" in m.note else basic(m.note)
            out += [f"note = {note}", ""]
        return "\n".join(out)

    def save(self) -> None:
        """Write the sidecar atomically: a temporary file in the same directory, renamed over the old one, so a
        crash or a full disk leaves the previous notes whole."""
        data = self.dumps().encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)  # the data directory, the first time
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fp:
                fp.write(data)
                fp.flush()
                os.fsync(fp.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _order(m: Mark) -> tuple:
    a = m.anchor
    return (a.ts_ns, -1 if a.seq is None else a.seq, a.occurrence)


def _check(mark: Mark) -> None:
    """Refuse what could not be written or read back: a kind the model does not know, text that is not Unicode
    scalar values (a lone surrogate cannot be stored in UTF-8)."""
    if mark.anchor.kind not in KINDS:
        raise ValueError(f"unknown event kind {mark.anchor.kind!r}")
    for name in ("title", "note"):
        try:
            getattr(mark, name).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"the mark's {name} holds a lone surrogate, which UTF-8 cannot store") from None


# -- reading -------------------------------------------------------------------------------------------------------

_LINE_COL = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse(text: str, name: str = "<notes>") -> list[Mark]:
    """The marks in a notes file's text; ``NotesError`` (``NAME:LINE: what``) for a syntax error, an unknown or
    missing field, a value of the wrong type or an unknown event kind."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _LINE_COL.search(msg)
        if m:
            where = f"{name}:{m[1]}:{m[2]}"
        elif "(at end of document)" in msg:
            where = f"{name}:{len(text.splitlines()) or 1}"
        else:
            where = name
        what = _LINE_COL.sub("", msg).replace("(at end of document)", "(at the end)").strip()
        raise NotesError(f"{where}: {what}") from None
    lines = TomlLines(text)
    unknown = [k for k in doc if k != "mark"]
    if unknown:
        raise NotesError(f"{name}:{lines.top_key(unknown[0])}: unknown key {unknown[0]!r} (expected [[mark]] tables)")
    tables = doc.get("mark", [])
    if not isinstance(tables, list):
        raise NotesError(f"{name}:{lines.top_key('mark')}: 'mark' must be an array of tables, written [[mark]]")
    marks = []
    for i, t in enumerate(tables):
        line = lines.table("mark", i)
        for key, value in t.items():
            want = _FIELDS.get(key)
            if want is None:
                raise NotesError(f"{name}:{lines.key('mark', i, key)}: unknown field {key!r} in a mark "
                                 f"(fields: {', '.join(_FIELDS)})")
            if not isinstance(value, want) or isinstance(value, bool):
                raise NotesError(f"{name}:{lines.key('mark', i, key)}: {key} must be {_TYPE_NAMES[want]}, "
                                 f"not {type(value).__name__}")
        missing = [k for k in _REQUIRED if k not in t]
        if missing:
            raise NotesError(f"{name}:{line}: this mark has no {missing[0]}")
        if t["kind"] not in KINDS:
            raise NotesError(f"{name}:{lines.key('mark', i, 'kind')}: unknown event kind {t['kind']!r}")
        if t.get("occurrence", 0) < 0 or t.get("seq", 0) < 0:
            bad = "occurrence" if t.get("occurrence", 0) < 0 else "seq"
            raise NotesError(f"{name}:{lines.key('mark', i, bad)}: {bad} cannot be negative")
        anchor = Anchor(t["kind"], t.get("pid"), t["ts_ns"], t.get("occurrence", 0), t.get("seq"))
        marks.append(Mark(t["title"], t.get("note", ""), anchor))
    return marks


_TYPE_NAMES = {str: "a string", int: "an integer"}
def marks_json(resolved: list[Placed], trace: Trace) -> list[dict[str, Any]]:
    """The shape of ``oomreplay notes --format json``: one object per mark, ``seq`` null when its event is gone."""
    return [{"title": m.title, "note": m.note, "kind": m.anchor.kind, "pid": m.anchor.pid, "ts_ns": m.anchor.ts_ns,
             "occurrence": m.anchor.occurrence, "seq": seq, "found": seq is not None} for m, seq in resolved]
