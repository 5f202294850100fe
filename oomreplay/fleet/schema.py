"""The fleet dataset's tables, column by column: one declaration that the extraction, the Parquet writer, the
DuckDB cache, the Spark example's DDL and docs/fleet.md all follow (a test holds the docs to it).

Types are named here as plain strings so that this module loads without pyarrow; ``arrow_schema`` turns them into
Arrow types when pyarrow is there. ``SCHEMA_VERSION`` is stored in the dataset (``_fleet.json`` and every Parquet
file's metadata): a change to any table (a column added, renamed, retyped) bumps it, and a scan refuses to add to a
dataset of another version.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

#: bumped on any change to the tables below
SCHEMA_VERSION = 1
#: what ``_fleet.json`` says it is
FORMAT = "oomreplay-fleet"
#: the columns that are directories (``host=H/day=D``) rather than stored in the files, in path order
PARTITIONS = ("host", "day")


class Column(NamedTuple):
    name: str
    type: str  # string, int64, int32, float64, bool, timestamp, list<int64>, list<string>
    doc: str


_WHERE = (
    Column("host", "string", "the machine (partition): from the path or the log's syslog prefix (`--host-from`)"),
    Column("day", "string", "`YYYY-MM-DD` of `time` (partition); of the file's modification time when the log has "
                            "no wall clock"),
    Column("file", "string", "the absolute path of the file the row came from"),
    Column("line", "int64", "the 1-based line of that file that printed it"),
    Column("seq", "int64", "the event's seq in the trace `oomreplay convert FILE` writes: "
                           "`oomreplay replay FILE --seq SEQ` opens on it"),
    Column("ts_ns", "int64", "the event's time on the log's clock (printk stamp, or wall clock as ns since the "
                             "epoch): `oomreplay replay FILE --at ts_ns/1e9`"),
    Column("time", "timestamp", "the wall clock of the event when the log tells it (syslog, journal, `dmesg -T`, or "
                                "a printk stamp offset by the syslog prefix), in the log's own time zone"),
    Column("kernel", "string", "the kernel version the file names, if any"),
    Column("incident", "int32", "the incident (OOM invocation) of this file the row belongs to: `incidents.incident`"),
)


def _where(*skip: str) -> tuple[Column, ...]:
    return tuple(c for c in _WHERE if c.name not in skip)


TABLES: dict[str, tuple[Column, ...]] = {
    "incidents": _where() + (
        Column("implied", "bool", "no `invoked oom-killer` header in the log: the incident is known from its kill "
                                  "or its ending only (a log cut short, a kill list, a tracepoint-only kill)"),
        Column("scope", "string", "global, memcg, cpuset, mempolicy, sysrq or lmk (Android's low memory killer); "
                                  "null when the log does not show it"),
        Column("oom_constraint", "string", "the kernel's CONSTRAINT_* as printed"),
        Column("memcg", "string", "the memory cgroup whose limit was hit (memcg scope)"),
        Column("invoker", "int64", "pid of the task whose allocation invoked the OOM killer"),
        Column("invoker_comm", "string", "its comm"),
        Column("gfp", "string", "the allocation's gfp_mask as printed"),
        Column("alloc_order", "int32", "the allocation's order"),
        Column("end_ns", "int64", "time of the report's last line (the kill, or how it ended without one)"),
        Column("end_line", "int64", "that line"),
        Column("candidates", "int32", "rows of the task table the report printed"),
        Column("victim", "int64", "pid of the task killed (the first kill after the header)"),
        Column("victim_comm", "string", "its comm"),
        Column("outcome", "string", "killed, no_killable, panic; null when the log ends before either"),
        Column("reason", "string", "why it ended without a kill (no_killable, deadlocked, panic_on_oom, …)"),
    ),
    "kills": _where() + (
        Column("pid", "int64", "the victim"),
        Column("comm", "string", "its comm"),
        Column("tgid", "int64", "its process (whose mm the reaper frees)"),
        Column("points", "int64", "the badness score printed (`score N`), when printed"),
        Column("rss_kb", "int64", "anon + file + shmem rss at the kill, kB (the parts printed)"),
        Column("anon_rss_kb", "int64", "anon-rss, kB"),
        Column("file_rss_kb", "int64", "file-rss, kB"),
        Column("shmem_rss_kb", "int64", "shmem-rss, kB"),
        Column("total_vm_kb", "int64", "total-vm, kB"),
        Column("pgtables_kb", "int64", "page tables, kB"),
        Column("oom_score_adj", "int32", "the victim's oom_score_adj"),
        Column("uid", "int64", "the victim's uid"),
        Column("oom_constraint", "string", "CONSTRAINT_* of the kill line (`oom-kill:constraint=…`)"),
        Column("memcg", "string", "the OOM's memory cgroup as the kill line names it"),
        Column("task_memcg", "string", "the victim's own memory cgroup"),
        Column("killer", "string", "null for the kernel's OOM killer, else who killed (lowmemorykiller)"),
        Column("outcome", "string", "how the victim ended, at the end of the file or when killed again: reaped, "
                                    "unable (the reaper gave up), exited, pending"),
    ),
    "reaper": _where() + (
        Column("pid", "int64", "the victim"),
        Column("comm", "string", "its comm"),
        Column("outcome", "string", "reaped or unable (`oom_reaper: reaped process` / `unable to reap`)"),
        Column("attempts", "int32", "the reaper's tries in this round, those implied by the line included (a log "
                                    "prints one line per round: `unable to reap` is the tenth failure)"),
        Column("implied", "int32", "how many of those tries only the line's meaning tells"),
        Column("unseen", "int32", "tries that may have failed silently before a `reaped` line"),
        Column("rounds", "int32", "reaper rounds on this victim so far (more than one only on 4.6-4.8)"),
        Column("after_kill_ns", "int64", "time from the kill to this outcome; null when the kill is not in the file"),
        Column("kill_line", "int64", "the line of the kill, when in the file"),
        Column("anon_rss_kb", "int64", "anon-rss left after reaping, kB"),
        Column("file_rss_kb", "int64", "file-rss left, kB"),
        Column("shmem_rss_kb", "int64", "shmem-rss left, kB"),
        Column("lock", "string", "the victim's mm lock as the log names it (mmap_sem / mmap_lock), when a lock "
                                 "event or a lockdep dump after the outcome shows it"),
        Column("lock_confidence", "string", "high: lock events name the victim's mm; low: a lockdep dump's lock of "
                                            "that name (whose mm it does not say, and queued tasks look like "
                                            "holders)"),
        Column("holder", "int64", "pid of a task holding (or, in a dump, holding or queued on) that lock, "
                                  "the victim itself aside; a holder first, else a waiter"),
        Column("holder_comm", "string", "its comm"),
        Column("holder_mode", "string", "r or w"),
        Column("holders", "int32", "how many other tasks held or waited for it"),
    ),
    "candidates": _where() + (
        Column("pid", "int64", "a row of the report's task table"),
        Column("tgid", "int64", "its tgid"),
        Column("uid", "int64", "its uid"),
        Column("total_vm_pages", "int64", "total_vm, pages"),
        Column("rss_pages", "int64", "rss, pages"),
        Column("pgtables_bytes", "int64", "page tables, bytes"),
        Column("swapents", "int64", "swap entries"),
        Column("oom_score_adj", "int32", "oom_score_adj"),
        Column("comm", "string", "its name"),
        Column("killed", "bool", "this row's process was the incident's victim"),
    ),
    "zones": _where() + (
        Column("node", "int32", "NUMA node"),
        Column("zone", "string", "DMA, DMA32, Normal, Movable, HighMem…"),
        Column("free_kb", "int64", "free at the invocation, kB"),
        Column("min_kb", "int64", "min watermark, kB"),
        Column("low_kb", "int64", "low watermark, kB"),
        Column("high_kb", "int64", "high watermark, kB"),
        Column("managed_kb", "int64", "managed, kB"),
        Column("lowmem_reserve_kb", "list<int64>", "lowmem_reserve[] as printed"),
        Column("below_min", "bool", "free < min: into the reserves"),
        Column("below_low", "bool", "free < low"),
    ),
    "files": (
        Column("host", "string", "the machine"),
        Column("file", "string", "the absolute path read"),
        Column("size", "int64", "bytes as stored (compressed)"),
        Column("mtime_ns", "int64", "modification time when read (with size, what a rescan compares)"),
        Column("bytes", "int64", "bytes of text read (decompressed)"),
        Column("lines", "int64", "lines read"),
        Column("format", "string", "kernel log, ftrace text, trace.dat"),
        Column("compression", "string", "gzip, xz, bzip2; null for plain text"),
        Column("clock", "string", "printk or wall: the clock of `ts_ns`"),
        Column("kernel", "string", "the kernel version it names"),
        Column("status", "string", "ok, error (nothing usable: binary, empty, unreadable), damaged (read up to "
                                   "the damage, its rows kept), skipped (a scenario)"),
        Column("error", "string", "what was wrong, one line naming the place"),
        Column("incidents", "int32", "rows it gave to incidents"),
        Column("kills", "int32", "rows it gave to kills"),
        Column("reaper", "int32", "rows it gave to reaper"),
        Column("days", "list<string>", "the day partitions its rows are in"),
        Column("seconds", "float64", "time taken to read it"),
        Column("scan", "int64", "the scan that read it (`_fleet.json` lists them)"),
    ),
}

#: the tables whose rows come from events (partitioned by host and day)
EVENT_TABLES = ("incidents", "kills", "reaper", "candidates", "zones")


def columns(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def _arrow_type(pa: Any, name: str) -> Any:
    if name.startswith("list<"):
        return pa.list_(_arrow_type(pa, name[5:-1]))
    return {"string": pa.string(), "int64": pa.int64(), "int32": pa.int32(), "float64": pa.float64(),
            "bool": pa.bool_(), "timestamp": pa.timestamp("us")}[name]


@lru_cache(maxsize=None)
def arrow_schema(table: str, stored: bool = False) -> Any:
    """The Arrow schema of ``table``; ``stored``: without the partition columns (what a Parquet file holds)."""
    from ._deps import pyarrow

    pa = pyarrow()
    skip = PARTITIONS if stored and table in EVENT_TABLES else ()
    return pa.schema([pa.field(c.name, _arrow_type(pa, c.type)) for c in TABLES[table] if c.name not in skip],
                     metadata={b"oomreplay.fleet.schema_version": str(SCHEMA_VERSION).encode(),
                               b"oomreplay.fleet.table": table.encode()})


_SQL = {"string": "VARCHAR", "int64": "BIGINT", "int32": "INTEGER", "float64": "DOUBLE", "bool": "BOOLEAN",
        "timestamp": "TIMESTAMP"}
_SPARK = {"string": "string", "int64": "bigint", "int32": "int", "float64": "double", "bool": "boolean",
          "timestamp": "timestamp_ntz"}


def _typed(name: str, types: dict[str, str], list_of: str) -> str:
    if name.startswith("list<"):
        return list_of.format(_typed(name[5:-1], types, list_of))
    return types[name]


def sql_columns(table: str) -> str:
    """``name TYPE, …`` in DuckDB's SQL (the query cache's tables)."""
    return ", ".join(f'"{c.name}" {_typed(c.type, _SQL, "{}[]")}' for c in TABLES[table])


def spark_ddl(table: str) -> str:
    """The table's schema as Spark's DDL string (``mapInArrow``'s output schema)."""
    return ", ".join(f"`{c.name}` {_typed(c.type, _SPARK, 'array<{}>')}" for c in TABLES[table])
