"""Every OOM of a fleet's logs as tables: ``oomreplay fleet scan`` reads archives of kernel logs (any format
``convert`` reads, compressed or not) into a Parquet dataset partitioned by host and day, ``fleet query`` and
``fleet report`` ask it questions through DuckDB, and the extraction, a pure function of one file
(``extract(path) -> {table: pyarrow.Table}``), runs in local processes, on a Dask cluster or in Spark's
``mapInArrow``. The tables' columns are ``schema.TABLES`` (docs/fleet.md), versioned by ``SCHEMA_VERSION``.

Between ingest (which reads the files) and analysis (which reads the reaper's locks) on one side and the CLI on
the other. Its libraries (pyarrow, duckdb, dask[distributed]) are the ``fleet`` extra, imported only when used
(``_deps``): this package imports without them.
"""

from ._deps import INSTALL, MissingExtra
from .extract import FileRows, extract, read
from .schema import SCHEMA_VERSION, TABLES

__all__ = ["INSTALL", "SCHEMA_VERSION", "TABLES", "FileRows", "MissingExtra", "extract", "read"]
