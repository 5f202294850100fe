"""What the fleet's tests share: its libraries (the ``fleet`` extra; the tests skip without them), the corpus's
logs, and datasets read back row for row."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from ..conftest import CORPUS, SEED_LOG

pytest.importorskip("pyarrow", reason="the fleet extra is not installed: pip install '.[fleet]'")
pytest.importorskip("duckdb", reason="the fleet extra is not installed: pip install '.[fleet]'")

LOGS = sorted((CORPUS / "logs").glob("*.log")) if (CORPUS / "logs").is_dir() else []
needs_corpus = pytest.mark.skipif(not LOGS, reason=f"the shared corpus is not at {CORPUS}")
#: columns that say how a scan went rather than what the files hold
VOLATILE = {"files": ("seconds", "scan")}


def rows(dataset: Path, table: str) -> list[tuple]:
    """Every row of ``table``, sorted, the columns that differ between two scans of the same files left out."""
    from oomreplay.fleet.query import run
    from oomreplay.fleet.schema import columns

    cols = [c for c in columns(table) if c not in VOLATILE.get(table, ())]
    _, found = run(dataset, f"SELECT {', '.join(cols)} FROM {table}")
    return sorted(found, key=repr)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two hosts' worth of logs: web-1 holds the seed incident and a gzip of a corpus log, web-2 the corpus's
    own (when there) as they are."""
    root = tmp_path_factory.mktemp("fleet-logs")
    (root / "web-1").mkdir()
    shutil.copy(SEED_LOG, root / "web-1" / "kern.log")
    (root / "web-2").mkdir()
    for log in LOGS:
        shutil.copy(log, root / "web-2" / log.name)
    if LOGS:
        with open(LOGS[2], "rb") as f, gzip.open(root / "web-1" / "kern.log.1.gz", "wb") as g:
            g.write(f.read())
    return root
