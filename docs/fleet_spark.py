"""A fleet dataset written by Spark: ``oomreplay.fleet.extract`` run in ``mapInArrow`` over a list of paths, for
when the logs are more than one machine should read (docs/fleet.md, "Spark").

    python docs/fleet_spark.py LOGS... -o DATASET [--master local[2]] [--partitions N]

Needs pyspark (and Java) besides ``oomreplay[fleet]``, and oomreplay on every executor. The paths are listed on the
driver (the same walk as ``fleet scan``), spread over ``--partitions`` tasks, and each file is read once: its
tables come back as Arrow IPC blobs (``engines.extract_batches``), kept while each table is decoded
(``engines.decode_batches``) and written by Spark, partitioned by host and day, where ``fleet scan`` writes it.
The files table (one row per file) is gathered on the driver and written with the manifest, so ``oomreplay fleet
query`` and ``fleet report`` read the result as they read a scan's. Unlike a scan it always writes a new dataset
(no rescan).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def spark_scan(spark, paths: list[str], dataset: str | Path, partitions: int | None = None,  # noqa: ANN001
               host_from: str = "path") -> int:
    """Scan ``paths`` into the new dataset ``dataset`` with the SparkSession ``spark``; returns the files read."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    from oomreplay.fleet.dataset import Dataset
    from oomreplay.fleet.engines import BLOB_DDL, decode_batches, extract_batches
    from oomreplay.fleet.scan import walk
    from oomreplay.fleet.schema import EVENT_TABLES, PARTITIONS, arrow_schema, spark_ddl

    t0 = time.perf_counter()
    ds = Dataset.open(dataset, create=True)
    if ds.scans:
        raise SystemExit(f"{dataset}: already holds scans; the Spark example writes a new dataset")
    found = list(walk(paths, skip=dataset))
    frame = spark.createDataFrame(found, "path string, root string")
    frame = frame.repartition(partitions or max(1, spark.sparkContext.defaultParallelism))
    blobs = frame.mapInArrow(lambda batches: extract_batches(batches, host_from), BLOB_DDL).persist()
    for name in EVENT_TABLES:
        rows = blobs.filter(F.col("table") == name).mapInArrow(decode_batches(name), spark_ddl(name))
        rows.write.mode("append").partitionBy(*PARTITIONS).parquet(str(Path(dataset) / name))
    # the files table: one small row per file, gathered here and written as a scan writes it
    files = blobs.filter(F.col("table") == "files").select("ipc").collect()
    tables = [pa.ipc.open_stream(row.ipc).read_all() for row in files]
    blobs.unpersist()
    read = pa.concat_tables(tables) if tables else arrow_schema("files").empty_table()
    read = read.set_column(read.schema.get_field_index("scan"), "scan", pa.array([1] * read.num_rows, pa.int64()))
    ds.commit(read.sort_by([("file", "ascending")]), {"id": 1, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                                      "engine": "spark", "files_read": read.num_rows,
                                                      "new": read.num_rows, "changed": 0,
                                                      "seconds": round(time.perf_counter() - t0, 3)}, [])
    return read.num_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int)
    ap.add_argument("--host-from", default="path", choices=("path", "prefix"))
    args = ap.parse_args()
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # a local master's executors: this Python
    spark = (SparkSession.builder.master(args.master).appName("oomreplay-fleet")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    try:
        n = spark_scan(spark, args.paths, args.output, args.partitions, args.host_from)
    finally:
        spark.stop()
    print(f"{args.output}: {n} files read with Spark")


if __name__ == "__main__":
    main()
