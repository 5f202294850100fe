"""Payload layouts: an event block as columns, a state page as rows.

Columns compress far better than rows (time deltas, kind bytes and pids each form their own runs), and a column
decodes with one C-level unpack, which is what keeps both writing and replaying cheap.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate, chain, repeat
from operator import itemgetter
from typing import Any

from ..model import KIND_IDS, KINDS, NESTED, TABLES, Event, Src
from .format import TraceError

_SCHEMA_SETS = {k: frozenset(v) for k, v in KINDS.items()}
_KEY = itemgetter(0)
_LOG_ID = bytes([KIND_IDS["log"]])


class Schema:
    """The kinds and their field order a file was written with: stored in every trace, so that a later version of
    the vocabulary (a kind or a field added) still reads an older file by name, never by a guessed position."""

    __slots__ = ("names", "fields")

    def __init__(self, kinds: Any) -> None:
        try:
            self.names: tuple[str, ...] = tuple(str(name) for name, _ in kinds)
            self.fields: tuple[tuple[str, ...], ...] = tuple(tuple(str(f) for f in fields) for _, fields in kinds)
        except (TypeError, ValueError) as e:
            raise TraceError(f"bad event schema ({e})") from None

    def payload(self) -> list:
        return [[name, list(fields)] for name, fields in zip(self.names, self.fields)]


#: The vocabulary this version writes.
CURRENT = Schema(KINDS.items())

#: The state tables of files written before the index named them (format 1 as first released). Tables are read by
#: name, and a record's fields only ever grow at the end, so a newer reader lays an older file's pages over its
#: own tables, a table the file lacks starting empty.
LEGACY_TABLES = ("tasks", "mms", "locks", "zones", "memcgs", "ooms", "victims", "anomalies")


def state_tables(names: Any) -> tuple[str, ...]:
    """The stored table order (which the pieces of a keyframe are numbered in); unknown tables are refused."""
    try:
        tables = tuple(str(name) for name in names)
    except TypeError as e:
        raise TraceError(f"bad state tables ({e})") from None
    unknown = [t for t in tables if t not in TABLES]
    if unknown or len(set(tables)) != len(tables):
        raise TraceError(f"state tables this version does not know: {', '.join(unknown) or 'a table twice'}")
    return tables


def event_columns(events: list[Event]) -> list:
    """The columns of a stretch of events (times, kind ids, pids, source files and lines, inferred, values),
    built with comprehensions over the whole stretch: a column at a time costs a fraction of appending field by
    field per event, and this is the writer's hot path."""
    ts = [e.ts_ns for e in events]
    srcs = [e.src for e in events]
    values = [[e.fields.get(n) for n in KINDS[e.kind]] for e in events]
    for vals, e in zip(values, events):
        schema = _SCHEMA_SETS[e.kind]
        if not e.fields.keys() <= schema:  # fields the schema lacks travel in a trailing map
            vals.append({k: v for k, v in e.fields.items() if k not in schema})
    return [ts, bytes([KIND_IDS[e.kind] for e in events]), [e.pid for e in events],
            [None if src is None else src[0] for src in srcs], [0 if src is None else src[1] for src in srcs],
            [tuple(sorted(e.inferred)) if e.inferred else None for e in events], values]


def log_columns(ts: list[int], texts: list[str], file_id: int, first_line: int) -> list:
    """The columns of ``log`` events for consecutive source lines, the same as ``event_columns`` of those events
    but made without them: most lines of a large log are such events, and here each column is one C-level
    operation."""
    n = len(ts)
    return [ts, _LOG_ID * n, [None] * n, [file_id] * n, list(range(first_line, first_line + n)), [None] * n,
            [[text] for text in texts]]


def block_payload(first_seq: int, parts: list[list]) -> list:
    """One events block from the columns of its stretches, in order (``event_columns``, ``log_columns``)."""
    if len(parts) == 1:
        ts, kinds, pids, files, lines, inferred, values = parts[0]
    else:
        ts, pids, files, lines, inferred, values = (list(chain.from_iterable(part[i] for part in parts))
                                                    for i in (0, 2, 3, 4, 5, 6))
        kinds = b"".join(part[1] for part in parts)
    return [first_seq, ts[0], kinds, [b - a for a, b in zip(ts[:1] + ts, ts)], pids, files, lines, inferred, values]


class EventBlock:
    """A decoded event block: columns, and rows rebuilt on demand."""

    __slots__ = ("first_seq", "ts", "kinds", "pids", "src_files", "src_lines", "inferred", "values", "schema")

    def __init__(self, payload: Any, where: str, schema: Schema = CURRENT) -> None:
        self.schema = schema
        try:
            first_seq, first_ts, kinds, dts, pids, files, lines, inferred, values = payload
            n = len(kinds)
            if not (len(dts) == len(pids) == len(files) == len(lines) == len(inferred) == len(values) == n):
                raise ValueError("columns of different lengths")
            if max(kinds, default=0) >= len(schema.names):
                raise ValueError("unknown event kind id")
            self.first_seq = int(first_seq)
            self.ts = list(accumulate(dts, initial=int(first_ts)))[1:]
        except (TypeError, ValueError) as e:
            raise TraceError(f"{where}: bad event block ({e})") from None
        self.kinds = kinds
        self.pids = pids
        self.src_files = files
        self.src_lines = lines
        self.inferred = inferred
        self.values = values

    def __len__(self) -> int:
        return len(self.kinds)

    def fields(self, i: int) -> dict[str, Any]:
        vals = self.values[i]
        schema = self.schema.fields[self.kinds[i]]
        if len(vals) > len(schema) and isinstance(vals[-1], dict):
            out = {n: v for n, v in zip(schema, vals) if v is not None}
            out.update(vals[-1])
            return out
        return {n: v for n, v in zip(schema, vals) if v is not None}

    def kind(self, i: int) -> str:
        return self.schema.names[self.kinds[i]]

    def event(self, i: int) -> Event:
        f = self.src_files[i]
        ev = Event.__new__(Event)
        ev.ts_ns = self.ts[i]
        ev.kind = self.schema.names[self.kinds[i]]
        ev.pid = self.pids[i]
        ev.fields = self.fields(i)
        ev.src = None if f is None else Src(f, self.src_lines[i])
        ev.inferred = frozenset(self.inferred[i] or ())
        ev.seq = self.first_seq + i
        return ev

    def replay(self, state: Any, start: int, stop: int, handlers: list) -> None:
        """Apply events ``start..stop-1`` to ``state`` in place, ``handlers`` being ``model.handlers_for`` of
        this block's kind names: ``apply_fields`` without its per-event lookup and without building an Event.
        The hot loop of every seek and of the writer's state machine; unsaid fields stay None here (handlers
        read them with ``.get``)."""
        stop = min(stop, len(self))
        if start >= stop:
            return
        no_inference: frozenset = frozenset()
        schemas, first = self.schema.fields, self.first_seq
        for j, ts, k, pid, vals, inf in zip(range(start, stop), self.ts[start:stop], self.kinds[start:stop],
                                             self.pids[start:stop], self.values[start:stop],
                                             self.inferred[start:stop]):
            handler = handlers[k]
            if handler is not None:
                names = schemas[k]
                handler(state, first + j, ts, pid,
                        dict(zip(names, vals)) if len(vals) <= len(names) else self.fields(j),
                        frozenset(inf) if inf else no_inference)
        state.seq = first + stop - 1  # no handler reads these: they are the state's position, set once
        state.ts_ns = self.ts[stop - 1]


def page_payload(table: str, page_no: int, page: dict) -> list:
    """A page, or a patch of one, as sorted rows."""
    return [table, page_no, sorted(page.items(), key=_KEY)]


def record_diff(old: tuple | None, new: tuple | None) -> Any:
    """A patch entry: None for a deleted record, the record for a new one, else ``{field index: value}`` of the
    fields that changed (a task's state change patches two small fields, not fourteen)."""
    if new is None or old is None:
        return new
    return {i: v for i, (was, v) in enumerate(zip(old, new)) if was != v}


def apply_diff(old: tuple, diff: dict) -> tuple:
    """The record ``old`` with a patch entry's changed fields."""
    values = list(old)
    for i, v in diff.items():
        values[i] = v
    return tuple.__new__(type(old), values)


def _deltas(values: list[int]) -> list[int]:
    return [b - a for a, b in zip([0] + values, values)]


def workset_payload(known: dict[str, dict[int, dict]]) -> list:
    """A keyframe interval's working set: per table, the pages (as differences), how many records of each, and
    the sorted rows of each record's value at the keyframe (None: absent then), page after page. By page, so a
    reader lays each page's records over it in one go."""
    out = []
    for table, pages in known.items():
        order = sorted(pages)
        rows = [row for p in order for row in sorted(pages[p].items(), key=_KEY)]
        if rows:
            out.append([table, _deltas(order), [len(pages[p]) for p in order], rows])
    return out


def _decode_rows(table: str, entries: Any, patches: bool) -> dict:
    """The records of a page's rows; with ``patches``, also a patch's None (deleted) and changed-field maps."""
    record, _ = TABLES[table]
    nested = NESTED.get(table)
    width = len(record._fields)
    make = tuple.__new__  # what NamedTuple._make does, without its per-call overhead
    page = {}
    for key, values in entries:
        if values is None:  # a patch's "deleted", a working set's "absent"
            page[key] = None
            continue
        if isinstance(values, dict) and patches:  # a patch's changed fields
            if not all(isinstance(i, int) and 0 <= i < width for i in values):
                raise ValueError("a field index outside the record")
            page[key] = {i: (tuple(nested[i]._make(x) for x in v) if nested and i in nested else v)
                         for i, v in values.items()}
            continue
        if isinstance(values, dict) or len(values) > width:
            raise ValueError(f"a {record.__name__} record with {len(values)} fields")
        if len(values) < width:  # written before the record gained its last fields: those take their defaults
            values = [*values, *(record._field_defaults[f] for f in record._fields[len(values):])]
        rec = make(record, values)
        if nested:
            rec = rec._replace(**{record._fields[i]: tuple(sub._make(x) for x in rec[i]) for i, sub in nested.items()})
        page[key] = rec
    return page


def decode_page(payload: Any, where: str) -> tuple[str, int, dict]:
    """Rebuild the records of one page, nested records included, so states read back compare equal."""
    try:
        table, page_no, entries = payload
        return table, page_no, _decode_rows(table, entries, patches=True)
    except (KeyError, TypeError, ValueError) as e:
        raise TraceError(f"{where}: bad state page ({type(e).__name__}: {e})") from None


def decode_workset(payload: Any, where: str) -> dict[str, dict[int, dict]]:
    """``{table: {page: {key: record or None}}}`` of a working set; never patches, which would need the page."""
    try:
        out: dict[str, dict[int, dict]] = {}
        for table, pages, counts, entries in payload:
            if len(pages) != len(counts) or sum(counts) != len(entries) or min(counts, default=1) < 1:
                raise ValueError("page counts that do not add up")
            rows = list(_decode_rows(table, entries, patches=False).items())
            if len(rows) != len(entries):
                raise ValueError("a record twice")
            ends = list(accumulate(counts))
            out[table] = {p: dict(rows[end - n:end]) for p, n, end in zip(accumulate(pages), counts, ends)}
        return out
    except (KeyError, TypeError, ValueError) as e:
        raise TraceError(f"{where}: bad working set ({type(e).__name__}: {e})") from None


#: A page of a keyframe's map: its whole version and its patch (None, None: none), each as (keyframe number, slot
#: among that keyframe's pieces). Exactly what a state's table holds as the page's reference.
PageRef = tuple[int, int, "int | None", "int | None"]


def pieces_payload(pieces: dict[str, list[tuple[int, bool]]]) -> dict[str, list]:
    """A keyframe's own pieces, per table in slot order: page numbers (as differences, mostly 1) and whether each
    is the whole page or a patch."""
    return {table: [_deltas([p for p, _ in rows]), [whole for _, whole in rows]] for table, rows in pieces.items()
            if rows}


def decode_pieces(payload: Any) -> dict[str, list[tuple[int, bool]]]:
    """``{table: [(page, whole?)]}``; the caller turns a TypeError or ValueError into a TraceError."""
    out = {}
    for table, (pages, wholes) in payload.items():
        if table not in TABLES or len(pages) != len(wholes):
            raise ValueError("a piece list of an unknown table or of columns of different lengths")
        out[table] = list(zip(accumulate(pages), map(bool, wholes)))
    return out


def full_map_payload(k: int, page_map: dict[str, dict[int, PageRef]]) -> dict[str, list]:
    """Every page of keyframe ``k`` as columns: page numbers as differences, and each piece as how many keyframes
    back it was written (small numbers that repeat from one full map to the next) and its slot there; a patch
    0 keyframes back is written as 1, so that 0 can say "no patch"."""
    out = {}
    for table, m in page_map.items():
        if not m:
            continue
        pages = sorted(m)
        refs = [m[p] for p in pages]
        out[table] = [_deltas(pages), [k - r[0] for r in refs], [r[1] for r in refs],
                      [0 if r[2] is None else k - r[2] + 1 for r in refs], [r[3] or 0 for r in refs]]
    return out


def decode_full_map(payload: Any) -> dict[str, tuple[list[int], tuple]]:
    """``{table: (page numbers, the other columns of full_map_payload)}``: checked for what a bisect needs (page
    numbers that increase), but not yet turned into references (``MapIndex`` does that page by page, checking
    each); the caller turns a TypeError or ValueError into a TraceError."""
    out = {}
    for table, (pages, backs, slots, patch_backs, patch_slots) in payload.items():
        if table not in TABLES or not len(pages) == len(backs) == len(slots) == len(patch_backs) == len(patch_slots):
            raise ValueError("a map of an unknown table or of columns of different lengths")
        if len(pages) > 1 and min(pages[1:]) <= 0:  # a TypeError for what is no number
            raise ValueError("page numbers that do not increase")
        out[table] = (list(accumulate(pages)), (backs, slots, patch_backs, patch_slots))
    return out


_NO_COLUMNS: tuple = ((), (), (), ())
_UNSET = object()


def _full_ref(k: int, back: int, slot: int, patch_back: int, patch_slot: int) -> PageRef:
    """One entry of a full map written at keyframe ``k`` as the reference it stands for (the inverse of
    ``full_map_payload``'s columns)."""
    return (k - back, slot, k + 1 - patch_back, patch_slot) if patch_back else (k - back, slot, None, None)


class MapIndex:
    """Where each page of one table is at one keyframe (its ``PageRef``), looked up page by page: the full map
    of the keyframe's group (``decode_full_map``; bisected), with what the keyframes since wrote laid over it. A
    seek looks up only the pages its replay touches; only a state read whole asks for ``all()``. A page gets one
    reference object however it is asked for, so states built from one keyframe share them (what lets the TUI
    find a step's changes by page identity)."""

    __slots__ = ("_first", "_pages", "_columns", "_over", "_all", "_where", "_given")

    def __init__(self, first: int, full: tuple[list[int], tuple] | None, where: str) -> None:
        self._first = first  # the keyframe the full map belongs to: its references count back from it
        self._pages, self._columns = full if full is not None else ([], _NO_COLUMNS)
        # laid by later keyframes: a reference, None for a page gone, or (None, None, k, slot) for a patch of the
        # page's whole version in the full map (looked up only if the page is)
        self._over: dict[int, Any] = {}
        self._all: dict[int, PageRef] | None = None
        self._where = where
        self._given: dict[int, PageRef | None] = {}  # what get() answered

    def lay(self, k: int, slot: int, pieces: list[tuple[int, bool]], gone: list[int]) -> int:
        """Lay what keyframe ``k`` wrote of this table (before any lookup): the pages gone, then its pieces, a
        whole page or a patch of the page as it stood, numbered from ``slot``; returns the next slot."""
        over = self._over
        for p in gone:
            over[p] = None
        for p, whole in pieces:
            base = None if whole else over.get(p, _UNSET)
            if base is None:
                if not whole:
                    raise TraceError(f"{self._where}: keyframe {k} patches page {p}, which is gone")
                over[p] = (k, slot, None, None)
            else:
                over[p] = (None, None, k, slot) if base is _UNSET else (base[0], base[1], k, slot)
            slot += 1
        return slot

    def _full(self, page: int) -> PageRef | None:
        pages = self._pages
        i = bisect_left(pages, page)
        if i == len(pages) or pages[i] != page:
            return None
        backs, slots, patch_backs, patch_slots = self._columns
        back, slot, patch_back, patch_slot = backs[i], slots[i], patch_backs[i], patch_slots[i]
        if not type(back) is type(slot) is type(patch_back) is type(patch_slot) is int:
            raise TraceError(f"{self._where}: page {page} is mapped to something that is no numbers")
        return _full_ref(self._first, back, slot, patch_back, patch_slot)

    def _patched(self, page: int, ref: tuple) -> PageRef:
        base = self._full(page)
        if base is None:
            raise TraceError(f"{self._where}: keyframe {ref[2]} patches page {page}, which no earlier keyframe "
                             f"wrote whole")
        return (base[0], base[1], ref[2], ref[3])

    def get(self, page: int) -> PageRef | None:
        ref = self._given.get(page, _UNSET)
        if ref is not _UNSET:
            return ref  # type: ignore[return-value]
        if self._all is not None:
            ref = self._all.get(page)
        else:
            ref = self._over.get(page, _UNSET)
            if ref is _UNSET:
                ref = self._full(page)
            elif ref is not None and ref[0] is None:
                ref = self._patched(page, ref)
        self._given[page] = ref
        return ref

    def all(self) -> dict[int, PageRef]:
        """Every page's reference, built once, with the very objects ``get`` gave."""
        if self._all is None:
            if not set(map(type, chain(self._pages, *self._columns))) <= {int}:
                raise TraceError(f"{self._where}: a page map with something that is no numbers")
            out = dict(zip(self._pages, map(_full_ref, repeat(self._first), *self._columns)))
            for page, ref in self._over.items():
                if ref is None:
                    out.pop(page, None)
                else:
                    out[page] = self._patched(page, ref) if ref[0] is None else ref
            out.update((page, ref) for page, ref in self._given.items() if ref is not None)
            self._all = out
        return self._all
