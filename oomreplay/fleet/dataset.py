"""The dataset on disk: a directory any Parquet reader takes as it is.

```
DATASET/_fleet.json                                    what it is: format, schema version, scans, the files table
DATASET/incidents/host=H/day=D/oomr-SCAN-BATCH-N.parquet   (kills, reaper, candidates, zones alike)
DATASET/files/files-SCAN.parquet                      one row per file read, rewritten by every scan
```

``_fleet.json`` is the commit: a scan writes its parts under its own number, then the new files table, then the
manifest naming both (renamed into place), and only then deletes what it replaced (parts rewritten without a
changed file's rows, the previous files table), listed in the manifest as ``pending_deletes`` until they are gone.
So a scan killed at any point leaves either the dataset before it or the one after it: the next scan removes
parts of scans the manifest does not list and finishes the deletes. Parts written by another engine (Spark's
``part-….parquet``) are left alone and read like ours.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._deps import parquet, pyarrow
from .schema import EVENT_TABLES, FORMAT, PARTITIONS, SCHEMA_VERSION, TABLES, arrow_schema

MANIFEST = "_fleet.json"
#: our parts' names: the scan that wrote them first
_PART = re.compile(r"^oomr-(\d+)-")
_FILES = re.compile(r"^files-(\d+)\.parquet$")


def _created_by() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"oomreplay {version('oomreplay')}"
    except PackageNotFoundError:
        return "oomreplay"


class DatasetError(Exception):
    """A directory that is not a fleet dataset of this schema version: one line saying what it is."""


def _found(base: str) -> Iterator[os.DirEntry]:
    """Every Parquet file under ``base`` (hidden and temporary names aside), ours or another engine's, unsorted: by
    ``scandir``, whose entries know whether they are directories, so many partitions cost no stat but the parts'."""
    try:
        entries = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        if e.name.startswith((".", "_")):
            continue
        if e.is_dir(follow_symlinks=False):
            yield from _found(e.path)
        elif e.name.endswith(".parquet"):
            yield e


def parts(root: Path, table: str) -> list[Path]:
    """Every Parquet file of ``table``, in path order."""
    return sorted(Path(e.path) for e in _found(str(root / table)))


def scan_of(name: str) -> int | None:
    """The scan that wrote the part named ``name``, one of ours; None for another engine's."""
    m = _PART.match(name)
    return int(m.group(1)) if m else None


class Dataset:
    """A fleet dataset at ``root``: ``open`` reads (or, with ``create``, makes) its manifest."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest

    @classmethod
    def open(cls, root: str | os.PathLike, create: bool = False) -> Dataset:
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            if not create:
                raise DatasetError(f"{root}: not a fleet dataset (no {MANIFEST}); `oomreplay fleet scan` makes one")
            if root.exists() and (not root.is_dir() or any(root.iterdir())):
                raise DatasetError(f"{root}: exists and is not a fleet dataset (no {MANIFEST}); give a new or "
                                   "empty directory")
            root.mkdir(parents=True, exist_ok=True)
            ds = cls(root, {"format": FORMAT, "schema_version": SCHEMA_VERSION, "partitioning": list(PARTITIONS),
                            "tables": list(TABLES), "created_by": _created_by(), "scans": [],
                            "files": None, "pending_deletes": []})
            ds._write_manifest()
            return ds
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DatasetError(f"{path}: unreadable manifest: {e}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DatasetError(f"{path}: not an oomreplay fleet manifest")
        version = manifest.get("schema_version")
        if version != SCHEMA_VERSION:
            raise DatasetError(f"{root}: a fleet dataset of schema version {version}, this oomreplay writes and "
                               f"reads version {SCHEMA_VERSION}; scan the logs into a new dataset")
        return cls(root, manifest)

    # -- what is committed

    @property
    def scans(self) -> list[dict[str, Any]]:
        return self.manifest["scans"]

    def committed(self, part: Path | str) -> bool:
        """Whether a part (its path or name) belongs to the dataset: another engine's, or one of a scan the manifest
        lists."""
        scan = scan_of(os.path.basename(part))
        return scan is None or scan in {s["id"] for s in self.scans}

    def stamps(self, table: str) -> dict[str, tuple[int, int]]:
        """The committed parts of ``table`` by their resolved paths, each with its size and modification time (what
        tells a query's cache that a part changed)."""
        root = self.root.resolve()
        if table == "files":
            name = self.manifest.get("files")
            if not name:
                return {}
            st = (root / name).stat()
            return {str(root / name): (st.st_size, st.st_mtime_ns)}
        out = {}
        for e in _found(str(root / table)):
            if self.committed(e.name):
                st = e.stat()
                out[e.path] = (st.st_size, st.st_mtime_ns)
        return out

    def parts(self, table: str) -> list[Path]:
        """The committed Parquet files of ``table`` (the files table: the one the manifest names)."""
        if table == "files":
            name = self.manifest.get("files")
            return [self.root / name] if name else []
        return [p for p in parts(self.root, table) if self.committed(p)]

    def files(self) -> dict[str, dict[str, Any]]:
        """The files table, by path."""
        found = self.parts("files")
        if not found:
            return {}
        table = parquet().read_table(found[0])
        return {row["file"]: row for row in table.to_pylist()}

    # -- writing

    def recover(self) -> None:
        """Finish what a scan killed after its commit left (its deletes), and remove what one killed before its
        commit wrote (parts of a scan the manifest does not list, a files table it does not name)."""
        for rel in list(self.manifest.get("pending_deletes", [])):
            (self.root / rel).unlink(missing_ok=True)
        if self.manifest.get("pending_deletes"):
            self.manifest["pending_deletes"] = []
            self._write_manifest()
        for table in EVENT_TABLES:
            for part in parts(self.root, table):
                if not self.committed(part):
                    part.unlink()
        named = self.manifest.get("files")
        for part in (self.root / "files").glob("files-*.parquet") if (self.root / "files").is_dir() else ():
            if _FILES.match(part.name) and f"files/{part.name}" != named:
                part.unlink()

    def next_scan(self) -> int:
        return max((s["id"] for s in self.scans), default=0) + 1

    def write(self, tables: dict[str, Any], scan: int, batch: int) -> None:
        """The event tables' rows as new parts of scan ``scan``, one per host and day partition."""
        import pyarrow.dataset as pads

        pa = pyarrow()
        partitioning = pads.partitioning(pa.schema([(p, pa.string()) for p in PARTITIONS]), flavor="hive")
        for name in EVENT_TABLES:
            table = tables.get(name)
            if table is None or not table.num_rows:
                continue
            table = table.sort_by([("host", "ascending"), ("day", "ascending"), ("file", "ascending"),
                                   ("line", "ascending")])
            pads.write_dataset(table.replace_schema_metadata(arrow_schema(name).metadata), self.root / name,
                               format="parquet", partitioning=partitioning,
                               basename_template=f"oomr-{scan}-{batch}-{{i}}.parquet",
                               existing_data_behavior="overwrite_or_ignore", max_rows_per_group=1 << 20)

    def without(self, files: set[str], where: Iterable[tuple[str, str]], scan: int) -> list[str]:
        """Rows of ``files`` (changed since they were read) taken out of the partitions ``where`` (host, day)
        they are in: each part holding any is written again without them under scan ``scan``. Returns the parts
        replaced, to delete once the scan is committed."""
        if not files:
            return []
        pa, pq = pyarrow(), parquet()
        import pyarrow.compute as pc

        gone = pa.array(sorted(files))
        replaced = []
        for table in EVENT_TABLES:
            for host, day in sorted(set(where)):
                folder = self.root / table / f"host={host}" / f"day={day}"
                if not folder.is_dir():
                    continue
                for n, part in enumerate(sorted(folder.glob("*.parquet"))):
                    if not self.committed(part):
                        continue
                    data = pq.read_table(part)
                    keep = data.filter(pc.invert(pc.is_in(data["file"], value_set=gone)))
                    if keep.num_rows == data.num_rows:
                        continue
                    if keep.num_rows:
                        pq.write_table(keep, folder / f"oomr-{scan}-r-{n}.parquet")
                    replaced.append(str(part.relative_to(self.root)))
        return replaced

    def commit(self, files: Any, scan: dict[str, Any], replaced: list[str]) -> None:
        """Make the scan's parts the dataset's: its files table written, the manifest naming it renamed into
        place, then what they replace deleted."""
        pq = parquet()
        folder = self.root / "files"
        folder.mkdir(exist_ok=True)
        name = f"files/files-{scan['id']}.parquet"
        pq.write_table(files.replace_schema_metadata(arrow_schema("files").metadata), self.root / name)
        old = self.manifest.get("files")
        pending = replaced + ([old] if old and old != name else [])
        self.manifest.update(files=name, pending_deletes=pending)
        self.scans.append(scan)
        self._write_manifest()
        self.recover()

    def _write_manifest(self) -> None:
        path = self.root / MANIFEST
        tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.partial")
        self.manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        tmp.write_text(json.dumps(self.manifest, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def empty(table: str) -> Any:
    """A table of no rows with ``table``'s schema."""
    return arrow_schema(table).empty_table()
