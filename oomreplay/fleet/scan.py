"""``fleet scan``: files and directories walked, the files new or changed since the dataset last saw them
extracted (in this process, in ``jobs`` local processes, or on a Dask cluster: the same pure function each time),
and their rows written as one commit of the dataset.

A file is known by its absolute path; it is read again when its size or modification time differs from the
``files`` row of the scan that read it, and then its old rows are taken out first. A file gone from disk keeps its
rows (log archives are pruned; what they said stays). The rows are written in batches of at most ``FLUSH_ROWS``,
each table one part per host and day partition.
"""

from __future__ import annotations

import fnmatch
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from ._deps import distributed, pyarrow
from .dataset import Dataset
from .extract import extract
from .schema import EVENT_TABLES, TABLES

#: rows held before they are written as a batch of parts
FLUSH_ROWS = 1_000_000
#: at most this many files are handed to the local workers ahead of the results read back
AHEAD_PER_JOB = 8
#: ``--jobs`` starts its processes (about a second: their server imports pyarrow) only for this many bytes or more
POOL_FROM_BYTES = 16 << 20
#: statuses that are a problem with the file (``--strict`` fails on them)
BAD = ("error", "damaged")

#: told (files done, bytes done, as stored) after each file
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    """One file to read: its path and the directory it was found under (for ``--host-from path``)."""

    path: str
    root: str | None
    size: int


@dataclass
class ScanReport:
    dataset: str
    scan: int | None = None
    found: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    size: int = 0  # bytes as stored of the files read
    read: int = 0  # bytes of text
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=lambda: {t: 0 for t in EVENT_TABLES})
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (file, status, error)

    @property
    def files_read(self) -> int:
        return self.new + self.changed


def walk(paths: Sequence[str | os.PathLike], include: Sequence[str] = (), skip: str | os.PathLike | None = None
         ) -> Iterator[tuple[str, str | None]]:
    """``(file, root)`` for each file given and each file under each directory given (hidden ones aside, and the
    dataset ``skip`` if it is among them), in name order; ``include``: only names matching one of these globs."""
    skipped = os.path.realpath(skip) if skip is not None else None
    seen: set[str] = set()

    def wanted(name: str) -> bool:
        return not include or any(fnmatch.fnmatch(name, g) for g in include)

    for given in paths:
        given = os.path.abspath(given)
        if os.path.isdir(given):
            for dirpath, dirnames, filenames in os.walk(given):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                     and os.path.realpath(os.path.join(dirpath, d)) != skipped)
                for name in sorted(filenames):
                    path = os.path.join(dirpath, name)
                    if not name.startswith(".") and wanted(name) and path not in seen and os.path.isfile(path):
                        seen.add(path)
                        yield path, given
        elif given not in seen:
            seen.add(given)
            yield given, None  # a file (or a path that is not there: its row says so)


def extract_task(path: str, root: str | None, host_from: str, fmt: str = "auto") -> dict[str, Any]:
    """What a worker runs: ``extract`` of one file (a module-level function, so every engine can ship it)."""
    return extract(path, host_from=host_from, root=root, fmt=fmt)


def local(tasks: list[Task], jobs: int, host_from: str, fmt: str) -> Iterator[dict[str, Any]]:
    """The tables of each task, in this process (``jobs`` 1) or in ``jobs`` processes, as they are done."""
    if jobs <= 1 or len(tasks) <= 1 or sum(t.size for t in tasks) < POOL_FROM_BYTES:
        for t in tasks:
            yield extract_task(t.path, t.root, host_from, fmt)
        return
    if "forkserver" in multiprocessing.get_all_start_methods():
        # the server imports the extraction and pyarrow once, and each worker is a fork of it
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, "pyarrow"])
    else:
        ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        todo = iter(tasks)
        running = set()
        try:
            while True:
                while len(running) < jobs * AHEAD_PER_JOB and (t := next(todo, None)) is not None:
                    running.add(pool.submit(extract_task, t.path, t.root, host_from, fmt))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def on_dask(tasks: list[Task], client: Any, host_from: str, fmt: str) -> Iterator[dict[str, Any]]:
    """The tables of each task computed on a Dask cluster (``client``: a ``distributed.Client`` or the scheduler's
    address), as they come back."""
    dd = distributed()
    own = not isinstance(client, dd.Client)
    if own:
        client = dd.Client(client)
    try:
        futures = client.map(extract_task, [t.path for t in tasks], [t.root for t in tasks],
                             [host_from] * len(tasks), [fmt] * len(tasks), pure=False)
        for future, result in dd.as_completed(futures, with_results=True):
            future.release()
            yield result
    finally:
        if own:
            client.close()


def scan(paths: Sequence[str | os.PathLike], dataset: str | os.PathLike, *, host_from: str = "path", jobs: int = 1,
         dask: Any = None, include: Sequence[str] = (), fmt: str = "auto", progress: Progress | None = None,
         planned: Callable[[int, int], None] | None = None, cache: bool = True) -> ScanReport:
    """Scan ``paths`` into ``dataset`` (made if absent). ``planned`` is told how many files and bytes will be read
    before the first is; ``progress`` after each. ``cache``: refresh the query cache at the end (``query``)."""
    if host_from not in ("path", "prefix"):
        raise ValueError(f"--host-from {host_from!r}: path or prefix")
    pa = pyarrow()
    t0 = time.perf_counter()
    ds = Dataset.open(dataset, create=True)
    ds.recover()
    report = ScanReport(str(dataset))
    known = ds.files()
    tasks: list[Task] = []
    changed: set[str] = set()
    for path, root in walk(paths, include, skip=dataset):
        report.found += 1
        try:
            st = os.stat(path)
            size, mtime = st.st_size, st.st_mtime_ns
        except OSError:
            size = mtime = None
        old = known.get(path)
        if old is not None and old["size"] == size and old["mtime_ns"] == mtime and size is not None:
            report.unchanged += 1
            continue
        if old is not None:
            changed.add(path)
        tasks.append(Task(path, root, size or 0))
    report.changed, report.new = len(changed), len(tasks) - len(changed)
    if planned is not None:
        planned(len(tasks), sum(t.size for t in tasks))
    if not tasks:
        report.seconds = time.perf_counter() - t0
        return report
    scan_id = report.scan = ds.next_scan()
    where = {(known[p]["host"], day) for p in changed for day in known[p]["days"] or ()}
    replaced = ds.without(changed, where, scan_id)
    tasks.sort(key=lambda t: (-t.size, t.path))  # the largest first: the workers finish together
    if dask is not None or jobs > 1:
        threading.Thread(target=_warm, name="fleet-imports", daemon=True).start()
    results = on_dask(tasks, dask, host_from, fmt) if dask is not None else local(tasks, jobs, host_from, fmt)
    pending: dict[str, list] = {t: [] for t in TABLES}
    held = batch = done = done_bytes = 0
    for tables in results:
        for name, table in tables.items():
            if table.num_rows:
                pending[name].append(table)
        f = tables["files"].to_pylist()[0]
        report.size += f["size"] or 0
        report.read += f["bytes"] or 0
        if f["status"] in BAD:
            report.problems.append((f["file"], f["status"], f["error"] or ""))
        for name in EVENT_TABLES:
            n = tables[name].num_rows
            report.rows[name] += n
            held += n
        done += 1
        done_bytes += f["size"] or 0
        if progress is not None:
            progress(done, done_bytes)
        if held >= FLUSH_ROWS:
            _flush(ds, pending, scan_id, batch)
            held, batch = 0, batch + 1
    _flush(ds, pending, scan_id, batch)
    read = pa.concat_tables(pending["files"])
    read = read.set_column(read.schema.get_field_index("scan"), "scan", pa.array([scan_id] * read.num_rows,
                                                                                pa.int64()))
    kept = [row for path, row in known.items() if path not in changed]
    files = pa.concat_tables([pa.Table.from_pylist(kept, schema=read.schema), read]) if kept else read
    files = files.sort_by([("file", "ascending")])
    report.seconds = time.perf_counter() - t0
    ds.commit(files, {"id": scan_id, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files_read": len(tasks),
                      "new": report.new, "changed": report.changed, "bytes": report.size,
                      "seconds": round(report.seconds, 3)}, replaced)
    if cache:
        from .query import refresh

        refresh(dataset)  # the next query finds the cache ready
    report.seconds = time.perf_counter() - t0
    return report


def _warm() -> None:
    """Import what writing and the query cache need (pyarrow's dataset writer, DuckDB: half a second) while the
    workers read, instead of after them; what is missing is said where it is needed."""
    try:
        import pyarrow.dataset  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import duckdb  # noqa: F401
    except ImportError:
        pass


def _flush(ds: Dataset, pending: dict[str, list], scan: int, batch: int) -> None:
    pa = pyarrow()
    tables = {name: pa.concat_tables(pending[name]) for name in EVENT_TABLES if pending[name]}
    ds.write(tables, scan, batch)
    for name in EVENT_TABLES:
        pending[name].clear()
