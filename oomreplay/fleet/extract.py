"""One file's OOM incidents as table rows: ``extract(path) -> {table: pyarrow.Table}``, a pure function of the
file (and how its host is named), so that it runs in any process of any engine: ``--jobs``, a Dask worker, a Spark
executor.

The file is opened, sniffed and decompressed as ``convert`` does it (``ingest.sources``, ``ingest.registry``) and
its bytes go through the same native reader; no trace is written. The events go through the model's ``apply`` in
memory, in place, and the rows are read off the state as the events come: an invocation's record (``ooms``) when
the next one starts or the file ends, a victim's (``victims``) at its kill and at each reaper outcome, the lock
holders of a victim the reaper gave up on (``analysis.reaper.mm_locks``) from the state after the lockdep dump
that follows the outcome, before the next kill, as ``why_unreaped`` reads them. Lines of chatter are counted
(for the ``seq`` a trace would give each event) and never applied.

Incidents are what ``analysis.oom.oom_causes`` counts: each invocation the model holds (those it implies from an
ending whose header the log lost included), and each kill that is not the first after an invocation (a log that
starts mid-report, a kill list, a second kill of one report).
"""

from __future__ import annotations

import gc
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..analysis.reaper import mm_locks
from ..ingest.errors import ConvertError, SourceError
from ..ingest.registry import choose
from ..ingest.sources import probe
from ..model import State, apply_fields, reaper_status
from . import hosts
from .clock import WallClock
from .schema import EVENT_TABLES, TABLES, columns

#: events the model ignores: counted for the seq, never applied
_IDLE = frozenset(("log", "note", "mark"))
#: the kinds of an OOM report's lines after its header: they move an open incident's end
_REPORT = frozenset(("oom_candidate", "zone", "memcg", "meminfo", "oom_kill", "oom_end"))
#: lock events other than a dump's: after a dump, the state before one of them is the dump's
_LOCKS = frozenset(("lock_acquire", "lock_contended", "lock_release"))
#: the kinds that end the hindsight of a reaper outcome (the dump after it, as analysis.reaper reads it)
_NEXT_OOM = frozenset(("oom_kill", "oom_invoke"))
_SCOPES = {"CONSTRAINT_NONE": "global", "CONSTRAINT_MEMCG": "memcg", "CONSTRAINT_CPUSET": "cpuset",
           "CONSTRAINT_MEMORY_POLICY": "mempolicy"}
_SYSRQ = re.compile(r"moom_callback|sysrq")
_MEMCG_STACK = re.compile(r"mem_cgroup_(out_of_memory|oom)|memcg_oom|try_charge")


@dataclass
class _Incident:
    seq: int
    line: int | None
    ts: int
    header: bool
    model: int | None = None  # its index in the state's ``ooms``; None for a kill-only incident
    stack: tuple = ()
    end_ts: int | None = None
    end_line: int | None = None
    kill: dict | None = None  # its first kill's row
    zones: set = field(default_factory=set)
    memcg_at_limit: bool = False
    meminfo: bool = False  # the report printed the global Mem-Info summary (show_mem: not a memcg OOM)
    number: int = 0  # its ordinal in the file, once all are known


class _Fold:
    """The events of one file through ``apply``, and the rows they make."""

    def __init__(self) -> None:
        self.state = State()
        self.seq = 0
        self.incidents: list[_Incident] = []
        self.by_model: dict[int, _Incident] = {}
        self.current: _Incident | None = None  # the invocation whose report is being read
        self.rows: dict[str, list[dict]] = {t: [] for t in EVENT_TABLES}
        self.last_kill: dict[int, dict] = {}  # victim pid -> its latest kill row
        self.kill_lines: dict[int, int | None] = {}  # seq of a kill -> its line
        self.hindsight: list[tuple[dict, Any]] = []  # "unable" reaper rows a dump may still explain
        self.dumped = False  # a lockdep dump has been read since, not yet looked at for them

    def _explain(self) -> None:
        """The hindsight rows' lock holders from the state after the dump (read once, whatever its length)."""
        if self.dumped:
            for row, victim in self.hindsight:
                self._holders(row, victim)
            self.dumped = False

    def items(self, items: list) -> None:
        for item in items:
            if type(item) is int:  # a run of chatter, counted (``count_runs``)
                self.seq += item
                continue
            kind = item.kind
            if kind in _IDLE:
                self.seq += 1
                continue
            self.event(item, kind)
            self.seq += 1

    def event(self, ev: Any, kind: str) -> None:
        state, seq, pid = self.state, self.seq, ev.pid
        if self.dumped and kind in _LOCKS:
            self._explain()  # the state after the dump, before a lock moves
        if kind in _NEXT_OOM:
            self._explain()
            self.hindsight = []
            if kind == "oom_kill" and pid in self.last_kill:
                old = state.victims.get(pid)
                if old is not None:
                    self.last_kill[pid]["outcome"] = reaper_status(old)
        fields = ev.fields
        apply_fields(state, seq, ev.ts_ns, kind, pid, fields, ev.inferred)
        src = ev.src
        line = src.line if src is not None else None
        inc = self.current
        if inc is not None and kind in _REPORT:
            inc.end_ts, inc.end_line = ev.ts_ns, line
        if kind == "oom_invoke":
            self.current = self._incident(seq, line, ev.ts_ns, True, fields.get("stack") or ())
        elif kind == "oom_end":
            last = state.last_oom()
            if last is not None and last.index not in self.by_model:  # implied by its ending: no header
                inc = self._incident(seq, line, ev.ts_ns, False)
            if inc is not None:
                inc.end_ts, inc.end_line = ev.ts_ns, line
            self.current = None
        elif kind == "oom_kill":
            self._kill(ev, fields, seq, line)
        elif kind == "reaper_done":
            self._reaper(ev, fields, seq, line)
        elif kind == "oom_candidate":
            self.rows["candidates"].append({
                "line": line, "seq": seq, "ts_ns": ev.ts_ns, "incident": inc, "pid": pid,
                "tgid": fields.get("tgid"), "uid": fields.get("uid"), "total_vm_pages": fields.get("total_vm_pages"),
                "rss_pages": fields.get("rss_pages"), "pgtables_bytes": fields.get("pgtables_bytes"),
                "swapents": fields.get("swapents"), "oom_score_adj": fields.get("oom_score_adj"),
                "comm": fields.get("comm")})
        elif kind == "zone" and inc is not None:
            key = (fields.get("node"), fields.get("zone"))
            z = state.zones.get(key)
            if z is not None and key not in inc.zones:
                inc.zones.add(key)
                free, low, mn = z.free_kb, z.low_kb, z.min_kb
                self.rows["zones"].append({
                    "line": line, "seq": seq, "ts_ns": ev.ts_ns, "incident": inc, "node": z.node, "zone": z.zone,
                    "free_kb": free, "min_kb": mn, "low_kb": low, "high_kb": z.high_kb, "managed_kb": z.managed_kb,
                    "lowmem_reserve_kb": list(z.lowmem_reserve_kb),
                    "below_min": None if free is None or mn is None else free < mn,
                    "below_low": None if free is None or low is None else free < low})
        elif kind == "memcg" and inc is not None:
            m = state.memcgs.get(fields.get("path"))
            if m is not None and m.usage_kb is not None and m.limit_kb is not None and m.usage_kb >= m.limit_kb:
                inc.memcg_at_limit = True
        elif kind == "meminfo" and inc is not None:
            inc.meminfo = True
        elif kind == "lock_held" and self.hindsight:
            self.dumped = True

    def _incident(self, seq: int, line: int | None, ts: int, header: bool, stack: tuple = ()) -> _Incident:
        inc = _Incident(seq, line, ts, header, stack=tuple(stack), end_ts=ts, end_line=line)
        last = self.state.last_oom()
        if last is not None:
            inc.model = last.index
            self.by_model[last.index] = inc
        self.incidents.append(inc)
        return inc

    def _kill(self, ev: Any, fields: dict, seq: int, line: int | None) -> None:
        pid = ev.pid
        v = self.state.victims.get(pid) if pid is not None else None
        inc = self.current
        if inc is None or inc.kill is not None:  # a kill whose report the log does not show
            inc = _Incident(seq, line, ev.ts_ns, False, end_ts=ev.ts_ns, end_line=line)
            self.incidents.append(inc)
        parts = [fields.get(k) for k in ("anon_rss_kb", "file_rss_kb", "shmem_rss_kb")]
        row = {"line": line, "seq": seq, "ts_ns": ev.ts_ns, "incident": inc, "pid": pid,
               "comm": v.comm if v is not None else fields.get("comm"), "tgid": v.mm if v is not None else None,
               "points": v.points if v is not None else fields.get("points"),
               "rss_kb": None if all(p is None for p in parts) else sum(p or 0 for p in parts),
               "anon_rss_kb": parts[0], "file_rss_kb": parts[1], "shmem_rss_kb": parts[2],
               "total_vm_kb": fields.get("total_vm_kb"), "pgtables_kb": fields.get("pgtables_kb"),
               "oom_score_adj": fields.get("oom_score_adj"), "uid": fields.get("uid"),
               "oom_constraint": fields.get("constraint"), "memcg": fields.get("memcg"),
               "task_memcg": fields.get("task_memcg"), "killer": fields.get("killer"), "outcome": None}
        inc.kill = inc.kill or row
        self.current = None  # the kill ends its report
        self.rows["kills"].append(row)
        self.kill_lines[seq] = line
        if pid is not None:
            self.last_kill[pid] = row

    def _reaper(self, ev: Any, fields: dict, seq: int, line: int | None) -> None:
        pid = ev.pid
        v = self.state.victims.get(pid) if pid is not None else None
        if v is None:
            return
        kill = self.last_kill.get(pid)
        killed_here = kill is not None and kill["seq"] == v.killed_seq
        row = {"line": line, "seq": seq, "ts_ns": ev.ts_ns, "incident": kill["incident"] if killed_here else None,
               "pid": pid, "comm": v.comm, "outcome": v.outcome, "attempts": len(v.attempts), "implied": v.implied,
               "unseen": v.unseen, "rounds": v.rounds,
               "after_kill_ns": None if v.killed_ts is None or v.killed_seq is None else ev.ts_ns - v.killed_ts,
               "kill_line": self.kill_lines.get(v.killed_seq) if v.killed_seq is not None else None,
               "anon_rss_kb": fields.get("anon_rss_kb"), "file_rss_kb": fields.get("file_rss_kb"),
               "shmem_rss_kb": fields.get("shmem_rss_kb"), "lock": None, "lock_confidence": None, "holder": None,
               "holder_comm": None, "holder_mode": None, "holders": None}
        self.rows["reaper"].append(row)
        if v.outcome == "unable":
            self._holders(row, v)
            self.hindsight.append((row, v))

    def _holders(self, row: dict, victim: Any) -> None:
        """Who held (or waited for) the victim's mm lock, in the state now: the lock events' or the dump's."""
        locks, confidence = mm_locks(self.state, victim)
        if not locks:
            return
        people = [h for lk in locks for h in lk.holders if h.pid != victim.pid]
        people += [h for lk in locks for h in lk.waiters if h.pid != victim.pid]
        first = people[0] if people else None
        task = self.state.tasks.get(first.pid) if first is not None else None
        row.update(lock=locks[0].name, lock_confidence=confidence, holders=len({h.pid for h in people}),
                   holder=first.pid if first else None, holder_comm=task.comm if task else None,
                   holder_mode=first.mode if first else None)

    def finish(self) -> None:
        """The rows only the end of the file completes: invocations' records, victims' last outcomes."""
        state = self.state
        self._explain()
        for pid, row in self.last_kill.items():
            if row["outcome"] is None:
                v = state.victims.get(pid)
                row["outcome"] = reaper_status(v) if v is not None else None
        invocations = {o.index: o for o in state.ooms.values()}
        self.incidents.sort(key=lambda i: i.seq)
        for n, inc in enumerate(self.incidents):
            inc.number = n
        for rows in self.rows.values():
            for row in rows:
                if isinstance(row["incident"], _Incident):
                    row["incident"] = row["incident"].number
        rows = self.rows["incidents"] = []
        for inc in self.incidents:
            oom = invocations.get(inc.model) if inc.model is not None else None
            kill = inc.kill
            constraint = (oom.constraint if oom else None) or (kill["oom_constraint"] if kill else None)
            memcg = (oom.memcg if oom else None) or (kill["memcg"] if kill else None)
            outcome = (oom.outcome if oom else None) or ("killed" if kill else None)
            invoker = oom.invoker if oom else None
            task = state.tasks.get(invoker) if invoker is not None else None
            rows.append({
                "line": inc.line, "seq": inc.seq, "ts_ns": inc.ts, "incident": inc.number, "implied": not inc.header,
                "scope": _scope(constraint, memcg, kill, inc), "oom_constraint": constraint, "memcg": memcg,
                "invoker": invoker, "invoker_comm": task.comm if task else None,
                "gfp": oom.gfp if oom else None, "alloc_order": oom.order if oom else None,
                "end_ns": inc.end_ts, "end_line": inc.end_line, "candidates": oom.candidates if oom else 0,
                "victim": kill["pid"] if kill else None, "victim_comm": kill["comm"] if kill else None,
                "outcome": outcome, "reason": oom.reason if oom else None})
        for cand in self.rows["candidates"]:
            number = cand["incident"]
            kill = self.incidents[number].kill if number is not None else None
            cand["killed"] = kill is not None and (cand["pid"] == kill["pid"] or
                                                   (cand["tgid"] is not None and cand["tgid"] == kill["tgid"]))


def _scope(constraint: str | None, memcg: str | None, kill: dict | None, inc: _Incident) -> str | None:
    """What the OOM was about: the constraint line when printed, else what the report shows of it."""
    if constraint:
        return _SCOPES.get(constraint, constraint.lower().removeprefix("constraint_"))
    if kill is not None and kill["killer"]:
        return "lmk"
    if any(_SYSRQ.search(str(fn)) for fn in inc.stack):
        return "sysrq"
    if memcg or inc.memcg_at_limit or any(_MEMCG_STACK.search(str(fn)) for fn in inc.stack):
        return "memcg"
    if inc.zones or inc.meminfo:
        return "global"
    return None


@dataclass
class FileRows:
    """What one file gave: each event table's rows as columns, and its ``files`` row. Plain Python (it pickles
    into any worker's answer); ``tables()`` makes the Arrow tables."""

    columns: dict[str, dict[str, list]]
    file: dict[str, Any]

    def count(self, table: str) -> int:
        cols = self.columns[table]
        return len(cols["file"]) if cols else 0

    def tables(self) -> dict[str, Any]:
        from ._deps import pyarrow

        pa = pyarrow()
        from .schema import arrow_schema

        out = {name: pa.Table.from_pydict(cols, schema=arrow_schema(name)) if cols["file"]
               else arrow_schema(name).empty_table() for name, cols in self.columns.items()}
        out["files"] = pa.Table.from_pydict({k: [v] for k, v in self.file.items()}, schema=arrow_schema("files"))
        return out


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused: a file's events are many small acyclic objects, and its passes over them (a
    quarter of a file's time, measured) free nothing; reference counting frees them all the same."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read(path: str, *, host: str | None = None, host_from: str = "path", root: str | None = None,
         fmt: str = "auto") -> FileRows:
    """The rows of the file at ``path``; never raises for what is wrong with the file (it is said in
    ``files.status`` and ``files.error``). ``host`` names the machine outright; else ``host_from`` says how:
    ``path`` (the first directory under ``root``, the directory scanned) or ``prefix`` (the syslog prefix, else
    the path)."""
    path = os.path.abspath(path)
    t0 = time.perf_counter()
    fold = _Fold()
    info: dict[str, Any] = {"host": host, "file": path, "size": None, "mtime_ns": None, "bytes": 0, "lines": 0,
                            "format": None, "compression": None, "clock": None, "kernel": None, "status": "ok",
                            "error": None, "incidents": 0, "kills": 0, "reaper": 0, "days": [], "seconds": None,
                            "scan": None}
    head: list[str] = []
    reader = None
    with _no_cycle_collection():
        try:
            st = os.stat(path)
            info["size"], info["mtime_ns"] = st.st_size, st.st_mtime_ns
            with probe(path) as source:
                info["compression"] = source.compression
                converter = choose([source], fmt)[0]
                info["format"] = converter.name
                if converter.alone:  # a whole trace on its own (a scenario)
                    info["status"], info["error"] = "skipped", f"{path}: a {converter.name}, not a log"
                else:
                    head = source.head
                    reader = converter.reader(0, fmt)
                    reader.count_runs()  # the chatter's seqs, not its text
                    reader.sniff(head)
                    try:
                        for chunk in converter.chunks(source):
                            info["bytes"] += len(chunk)
                            fold.items(reader.read(chunk))
                    except SourceError as e:
                        info["status"], info["error"] = "damaged", str(e)
                    fold.items(reader.end())
                    info["lines"], info["clock"], info["kernel"] = reader.lines, reader.clock, reader.kernel
                    if not reader.lines:
                        info["status"], info["error"] = "error", f"{path}: empty, no line to read"
                    elif info["status"] == "damaged" and not info["bytes"]:
                        info["status"] = "error"
        except (ConvertError, SourceError) as e:
            info["status"], info["error"] = "error", str(e)
        except OSError as e:
            info["status"], info["error"] = "error", f"{path}: {e.strerror or e}"
        except Exception as e:  # noqa: BLE001 - one bad file never stops a scan: it is said in its row
            info["status"], info["error"] = "error", f"{path}: {type(e).__name__}: {e}"
    fold.finish()
    if host is None:
        host = (hosts.from_prefix(head) if host_from == "prefix" else None) or hosts.from_path(path, root)
    info["host"] = host
    clock = WallClock(info["clock"], head, info["mtime_ns"] or 0, fmt)
    tables: dict[str, dict[str, list]] = {}
    days: set[str] = set()
    for name in EVENT_TABLES:
        rows = fold.rows[name]
        times = clock.times([r["ts_ns"] for r in rows])
        day = clock.days(times)
        days.update(day)
        n = len(rows)
        cols: dict[str, list] = {"host": [host] * n, "day": day, "file": [path] * n, "time": times,
                                 "kernel": [info["kernel"]] * n}
        for c in columns(name):
            if c not in cols:
                cols[c] = [r.get(c) for r in rows]
        tables[name] = {c: cols[c] for c in columns(name)}
    info.update(incidents=len(fold.rows["incidents"]), kills=len(fold.rows["kills"]),
                reaper=len(fold.rows["reaper"]), days=sorted(days), seconds=round(time.perf_counter() - t0, 6))
    assert set(info) == set(columns("files")), set(info) ^ set(columns("files"))
    assert all(set(cols) == set(columns(t)) for t, cols in tables.items())
    return FileRows(tables, info)


def extract(path: str | os.PathLike, *, host: str | None = None, host_from: str = "path", root: str | None = None,
            fmt: str = "auto") -> dict[str, Any]:
    """The tables (``TABLES``: incidents, kills, reaper, candidates, zones, files) of one file as
    ``pyarrow.Table``s, the ``files`` table one row saying what was read and what went wrong."""
    return read(os.fspath(path), host=host, host_from=host_from, root=root, fmt=fmt).tables()


__all__ = ["TABLES", "FileRows", "extract", "read"]
