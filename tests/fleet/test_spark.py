"""docs/fleet_spark.py, where pyspark (and Java) are installed: ``extract`` in Spark's ``mapInArrow`` over a list of
paths writes the dataset ``fleet scan`` writes, row for row, and ``fleet query`` reads it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from oomreplay.fleet import TABLES
from oomreplay.fleet.scan import scan

from ..conftest import REPO
from .conftest import rows

pytest.importorskip("pyspark", reason="pyspark is not installed (the Spark example is tested where it is)")
pytest.importorskip("pandas", reason="pyspark's mapInArrow needs pandas")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)


def _example():
    spec = importlib.util.spec_from_file_location("fleet_spark", REPO / "docs" / "fleet_spark.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spark_example_writes_the_scans_dataset(logs_dir: Path, tmp_path: Path, monkeypatch):
    from pyspark.sql import SparkSession

    # the executors' Python: this one, importing this checkout
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    logs = [str(logs_dir / "web-1"), str(next((logs_dir / "web-2").glob("006_*"), logs_dir / "web-1"))]
    spark = (SparkSession.builder.master("local[2]").appName("oomreplay-test")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate())
    try:
        n = _example().spark_scan(spark, logs, tmp_path / "spark", partitions=2)
    finally:
        spark.stop()
    report = scan(logs, tmp_path / "scan")
    assert n == report.files_read
    for table in TABLES:
        assert rows(tmp_path / "spark", table) == rows(tmp_path / "scan", table), table
