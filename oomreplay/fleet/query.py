"""``fleet query``: SQL over the dataset in DuckDB, its tables by their names (incidents, kills, reaper, candidates,
zones, files), and ``replay(file, seq)`` giving the command that opens a row's event in the replay.

DuckDB reads a few thousand Parquet files a second, and a fleet's host and day partitions are as many; so the
dataset's rows are kept in a DuckDB database beside them (``DATASET/_cache/fleet.duckdb``), a copy of the Parquet
parts refreshed part by part whenever they change (a part is known by its path, size and modification time: a
part gone or rewritten loses its rows, a new one adds them), whoever wrote them. Queries run on it read-only, so
several can run at once and none can change it; where it cannot be written (a read-only dataset, another process
refreshing it) the parts are read into memory instead, which is slower and the same.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .._util.safetext import markdown_text, visible
from ._deps import duckdb
from .dataset import Dataset
from .schema import EVENT_TABLES, SCHEMA_VERSION, TABLES, sql_columns

CACHE = Path("_cache") / "fleet.duckdb"
#: parts added to the cache per statement
_BATCH = 2000
FORMATS = ("table", "csv", "json", "markdown")


class QueryError(Exception):
    """SQL DuckDB refused: its message, one line."""


def _listing(ds: Dataset) -> dict[str, dict[str, tuple[int, int]]]:
    return {table: ds.stamps(table) for table in TABLES}


def _known(con: Any) -> dict[str, dict[str, tuple[int, int]]] | None:
    """The parts the cache holds, by table; None when it is not a cache of this schema version."""
    try:
        version = con.execute("SELECT schema_version FROM _meta").fetchone()
        rows = con.execute("SELECT tbl, part, size, mtime_ns FROM _parts").fetchall()
    except duckdb().Error:
        return None
    if version is None or version[0] != SCHEMA_VERSION:
        return None
    out: dict[str, dict[str, tuple[int, int]]] = {t: {} for t in TABLES}
    for table, part, size, mtime in rows:
        out.setdefault(table, {})[part] = (size, mtime)
    return out


def _refresh(con: Any, listing: dict[str, dict[str, tuple[int, int]]]) -> None:
    """Bring the cache in ``con`` to the parts of ``listing``."""
    known = _known(con)
    con.execute("BEGIN")
    if known is None:
        for table in TABLES:
            con.execute(f'DROP TABLE IF EXISTS "c_{table}"')
        con.execute("DROP TABLE IF EXISTS _parts")
        con.execute("DROP TABLE IF EXISTS _meta")
        con.execute("CREATE TABLE _meta (schema_version INTEGER)")
        con.execute("INSERT INTO _meta VALUES (?)", [SCHEMA_VERSION])
        con.execute("CREATE TABLE _parts (tbl VARCHAR, part VARCHAR, size BIGINT, mtime_ns BIGINT)")
        for table in TABLES:
            con.execute(f'CREATE TABLE "c_{table}" ({sql_columns(table)}, _part VARCHAR)')
        known = {t: {} for t in TABLES}
    for table in TABLES:
        have, want = known.get(table, {}), listing[table]
        stale = [p for p, stamp in have.items() if want.get(p) != stamp]
        new = [p for p, stamp in want.items() if have.get(p) != stamp]
        for i in range(0, len(stale), _BATCH):
            chunk = stale[i:i + _BATCH]
            con.execute(f'DELETE FROM "c_{table}" WHERE _part IN (SELECT unnest(?))', [chunk])
            con.execute("DELETE FROM _parts WHERE tbl = ? AND part IN (SELECT unnest(?))", [table, chunk])
        hive = "true, hive_types = {'host': VARCHAR, 'day': VARCHAR}" if table in EVENT_TABLES else "false"
        for i in range(0, len(new), _BATCH):
            chunk = new[i:i + _BATCH]
            con.execute(f'INSERT INTO "c_{table}" BY NAME SELECT * EXCLUDE (filename), filename AS _part '
                        f"FROM read_parquet(?, hive_partitioning = {hive}, filename = true, union_by_name = true)",
                        [chunk])
            con.executemany("INSERT INTO _parts VALUES (?, ?, ?, ?)",
                            [(table, p, *want[p]) for p in chunk])
    con.execute("COMMIT")


def _views(con: Any) -> None:
    for table in TABLES:
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{table}" AS SELECT * EXCLUDE (_part) FROM "c_{table}"')
    # the command that replays a row's event: the file quoted for a POSIX shell
    con.execute("CREATE OR REPLACE TEMP MACRO replay(file, seq) AS 'oomreplay replay ''' || "
                "replace(file, '''', '''\\''''') || ''' --seq ' || seq")


def _cached(ds: Dataset, listing: dict[str, dict[str, tuple[int, int]]]) -> Any:
    """A read-only connection to the dataset's cache, refreshed to ``listing`` first if it needs to be; raises
    ``duckdb.Error`` or ``OSError`` when it cannot be (locked by another refresh, not writable)."""
    db = duckdb()
    path = ds.root / CACHE
    if path.exists():
        con = db.connect(str(path), read_only=True)
        if _known(con) == listing:
            return con
        con.close()
    path.parent.mkdir(exist_ok=True)
    try:
        con = db.connect(str(path))
    except db.Error as e:
        if "lock" in str(e).lower():
            raise
        path.unlink(missing_ok=True)  # a cache another DuckDB cannot read: made again
        con = db.connect(str(path))
    try:
        _refresh(con, listing)
    finally:
        con.close()
    return db.connect(str(path), read_only=True)


def refresh(dataset: str | os.PathLike) -> bool:
    """Bring the dataset's cache up to date now (what a scan does once it is committed, so that the next query
    finds it ready); False when it cannot be written."""
    ds = Dataset.open(dataset)
    try:
        _cached(ds, _listing(ds)).close()
        return True
    except (duckdb().Error, OSError):
        return False


def connect(dataset: str | os.PathLike, cache: bool = True) -> Any:
    """A read-only DuckDB connection with the dataset's tables as views (its cache refreshed first)."""
    db = duckdb()
    ds = Dataset.open(dataset)
    listing = _listing(ds)
    if cache:
        try:
            con = _cached(ds, listing)
            _views(con)
            return con
        except (db.Error, OSError):
            pass  # locked by another refresh, or not writable: read into memory
    con = db.connect(":memory:")
    _refresh(con, listing)
    _views(con)
    return con


def run(dataset: str | os.PathLike, sql: str) -> tuple[list[str], list[tuple]]:
    """The columns and rows ``sql`` gives over ``dataset``."""
    db = duckdb()
    con = connect(dataset)
    try:
        result = con.execute(sql)
        if result.description is None:
            return [], []
        return [d[0] for d in result.description], result.fetchall()
    except db.Error as e:
        raise QueryError(" ".join(str(e).split())) from None
    finally:
        con.close()


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v != v or abs(v) >= 1e15:
            return repr(v)
        text = f"{v:.6f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if isinstance(v, (datetime, date)):
        return v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat()
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_cell(x) for x in v) + "]"
    return str(v)


def _plain(v: Any) -> Any:
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "table") -> str:
    """Rows as an aligned text table, CSV, JSON (a list of objects) or a Markdown table; text from the logs made
    safe for a terminal (``visible``) or for Markdown (``markdown_text``)."""
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(columns, row)} for row in rows], indent=1,
                          ensure_ascii=False)
    if fmt == "csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        w.writerows([["" if v is None else visible(_cell(v)) for v in row] for row in rows])
        return out.getvalue().rstrip("\n")
    if fmt == "markdown":
        lines = ["| " + " | ".join(markdown_text(c) for c in columns) + " |",
                 "|" + "|".join("---:" if _numeric(rows, i) else "---" for i in range(len(columns))) + "|"]
        lines += ["| " + " | ".join(markdown_text(_cell(v)) for v in row) + " |" for row in rows]
        return "\n".join(lines)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: {', '.join(FORMATS)}")
    cells = [[visible(c) for c in columns]] + [[visible(_cell(v)) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    right = [_numeric(rows, i) for i in range(len(columns))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]])


def _numeric(rows: Sequence[Sequence[Any]], i: int) -> bool:
    values = [r[i] for r in rows if r[i] is not None]
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
