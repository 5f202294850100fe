"""The extraction for engines that move Arrow record batches between their workers (Spark's ``mapInArrow``, or
anything of the kind): a batch of paths in, the extracted tables out.

An engine's map gives one schema out, and a file gives six tables; so ``extract_batches`` yields each table of
each file as an Arrow IPC stream in a row ``(file, table, ipc)`` (``BLOB_SCHEMA``), and ``decode_batches(name)``
turns the rows of one table back into its record batches (``schema.arrow_schema(name)``). Each file is read once;
the engine keeps the blobs (``persist``) while each table is decoded and written. docs/fleet_spark.py is the
example with Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ._deps import pyarrow
from .extract import extract
from .schema import arrow_schema


def blob_schema() -> Any:
    pa = pyarrow()
    return pa.schema([("file", pa.string()), ("table", pa.string()), ("ipc", pa.binary())])


#: ``blob_schema()`` as Spark's DDL
BLOB_DDL = "file string, table string, ipc binary"


def _ipc(table: Any) -> bytes:
    pa = pyarrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def extract_batches(batches: Iterator[Any], host_from: str = "path", fmt: str = "auto") -> Iterator[Any]:
    """``mapInArrow`` over batches with a ``path`` column (and optionally ``root``, the directory it was found
    under, for ``host_from="path"``; and ``host``, to name the host outright): the tables of each file, as rows of
    ``blob_schema()``."""
    pa = pyarrow()
    schema = blob_schema()
    for batch in batches:
        data = batch.to_pydict()
        n = len(data["path"])
        roots, given = data.get("root", [None] * n), data.get("host", [None] * n)
        for path, root, host in zip(data["path"], roots, given):
            tables = extract(path, host=host, host_from=host_from, root=root, fmt=fmt)
            names = [name for name, t in tables.items() if t.num_rows]
            yield pa.RecordBatch.from_pydict({"file": [path] * len(names), "table": names,
                                              "ipc": [_ipc(tables[name]) for name in names]}, schema=schema)


def decode_batches(table: str) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The ``mapInArrow`` function that turns rows of ``blob_schema()`` for ``table`` into its record batches."""
    schema = arrow_schema(table)

    def decode(batches: Iterator[Any]) -> Iterator[Any]:
        pa = pyarrow()
        for batch in batches:
            for name, blob in zip(batch.column("table").to_pylist(), batch.column("ipc").to_pylist()):
                if name != table:
                    continue
                for part in pa.ipc.open_stream(blob).read_all().cast(schema).to_batches():
                    yield part

    return decode
