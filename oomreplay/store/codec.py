"""Payload layouts: an event block as columns, a state page as rows.

Columns compress far better than rows (time deltas, kind bytes and pids each form their own runs), and a column
decodes with one C-level unpack, which is what keeps both writing and replaying cheap.
"""

from __future__ import annotations

from itertools import accumulate, chain
from operator import itemgetter
from typing import Any

from ..model import KIND_IDS, KINDS, NESTED, TABLES, Event, Src, unchecked_record
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
        return Event.unchecked(self.ts[i], self.schema.names[self.kinds[i]], self.pids[i], self.fields(i),
                               None if f is None else Src(f, self.src_lines[i]), frozenset(self.inferred[i] or ()),
                               self.first_seq + i)

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
    return unchecked_record(type(old), values)


def deltas(values: list[int]) -> list[int]:
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
            out.append([table, deltas(order), [len(pages[p]) for p in order], rows])
    return out


def _decode_rows(table: str, entries: Any, patches: bool) -> dict:
    """The records of a page's rows; with ``patches``, also a patch's None (deleted) and changed-field maps."""
    record, _ = TABLES[table]
    nested = NESTED.get(table)
    width = len(record._fields)
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
        rec = unchecked_record(record, values)
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
