"""``oomreplay fleet``: the corpus's logs as tables agree with their ground truth and lead back to their lines; the
same dataset whichever way the files are read (here, in local processes, on a Dask cluster); a rescan reads only
what is new; bad files are rows of ``files``, never the end of a scan."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.fleet import SCHEMA_VERSION, TABLES, extract, read
from oomreplay.fleet import scan as scan_module
from oomreplay.fleet.dataset import MANIFEST, Dataset, DatasetError
from oomreplay.fleet.query import render, run
from oomreplay.fleet.scan import scan
from oomreplay.ingest import convert

from ..commands import cli
from ..conftest import REPO, SEED_LOG
from .conftest import LOGS, needs_corpus, rows

#: what the line that printed a row says (a loose check beside the exact one against the converted trace)
LINE_SAYS = {"kills": ("kill",), "reaper": ("reap",), "candidates": ("",), "zones": ("",)}
#: the event kinds each table's rows stand for
KINDS = {"incidents": ("oom_invoke", "oom_end", "oom_kill"), "kills": ("oom_kill",), "reaper": ("reaper_done",),
         "candidates": ("oom_candidate",), "zones": ("zone",)}


@pytest.fixture(scope="module")
def corpus_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not LOGS:
        pytest.skip("the shared corpus is absent")
    out = tmp_path_factory.mktemp("fleet") / "ds"
    report = scan([str(p) for p in LOGS], out)
    assert report.files_read == len(LOGS) and not report.problems
    return out


@needs_corpus
def test_counts_equal_the_corpus_facts(corpus_dataset: Path):
    """Kills, reaper outcomes and invocations (incidents with a header line) in the dataset are the sums of the
    corpus's facts files, and so per file."""
    facts = {str(p): json.loads(p.with_suffix(".facts.json").read_text()) for p in LOGS}
    want = {"kills": sum(len(f["kills"]) for f in facts.values()),
            "reaper": sum(len(f["reaper"]) for f in facts.values()),
            "invocations": sum(len(f["invokers"]) for f in facts.values())}
    (got,) = run(corpus_dataset, "SELECT (SELECT count(*) FROM kills), (SELECT count(*) FROM reaper), "
                                 "(SELECT count(*) FROM incidents WHERE NOT implied)")[1]
    assert dict(zip(want, got)) == want
    _, per_file = run(corpus_dataset, "SELECT file, kills, reaper, (SELECT count(*) FROM incidents i WHERE "
                                      "i.file = f.file AND NOT implied) FROM files f")
    assert {file: (k, r, i) for file, k, r, i in per_file} == {
        file: (len(f["kills"]), len(f["reaper"]), len(f["invokers"])) for file, f in facts.items()}
    # the reaper outcomes themselves, in order
    _, outcomes = run(corpus_dataset, "SELECT file, pid, comm, outcome FROM reaper ORDER BY file, line")
    assert outcomes == [(file, r["pid"], r["comm"], r["outcome"]) for file, f in sorted(facts.items())
                        for r in f["reaper"]]


@needs_corpus
def test_every_row_points_at_the_line_that_printed_it(corpus_dataset: Path, tmp_path: Path):
    """Each row's file, line and seq are those of its event in the trace ``convert`` makes of the file (so
    ``replay FILE --seq SEQ`` opens on it), and that line says what the row is."""
    checked = 0
    for log in LOGS:
        convert([str(log)], tmp_path / "t.oomtrace")
        lines = log.read_text(errors="replace").splitlines()
        with open_trace(tmp_path / "t.oomtrace") as trace:
            for table, kinds in KINDS.items():
                _, found = run(corpus_dataset, f"SELECT line, seq, ts_ns FROM {table} WHERE file = '{log}'")
                for line, seq, ts in found:
                    ev = trace.event(seq)
                    assert ev.kind in kinds and ev.src.line == line and ev.ts_ns == ts, (log.name, table, line)
                    said = lines[line - 1].lower()
                    assert any(w in said for w in LINE_SAYS.get(table, ("",))), (log.name, table, said)
                    checked += 1
    assert checked > 300


@needs_corpus
def test_incidents_and_kills_read_the_model(corpus_dataset: Path):
    """The seed incident's row: the kill, the reaper giving up after ten tries (nine implied), and the holder the
    lockdep dump after it names (low confidence: a dump does not say whose mm)."""
    seed = LOGS[[p.name.startswith("006_") for p in LOGS].index(True)]
    _, (kill,) = run(corpus_dataset, f"SELECT pid, comm, points, rss_kb, outcome, incident FROM kills "
                                     f"WHERE file = '{seed}'")
    assert kill == (3163, "a.out", 739, 2754236, "unable", 0)
    _, (reaper,) = run(corpus_dataset, "SELECT outcome, attempts, implied, after_kill_ns, kill_line, lock, "
                                       f"lock_confidence, holder_comm FROM reaper WHERE file = '{seed}'")
    assert reaper == ("unable", 10, 9, 1_046_674_000, 2, "&mm->mmap_sem", "low", "khugepaged")
    _, (inc,) = run(corpus_dataset, f"SELECT implied, victim, outcome FROM incidents WHERE file = '{seed}'")
    assert inc == (True, 3163, "killed")  # the log starts at the kill: no header


def test_extract_is_arrow_tables_of_one_file():
    tables = extract(SEED_LOG, host="h1")
    assert set(tables) == set(TABLES)
    assert tables["files"].num_rows == 1 and tables["kills"].num_rows == 1
    assert tables["kills"].column("host").to_pylist() == ["h1"]
    assert tables["kills"].schema.metadata[b"oomreplay.fleet.schema_version"] == str(SCHEMA_VERSION).encode()
    for name, table in tables.items():
        assert table.column_names == [c.name for c in TABLES[name]]


def _scanned(logs_dir: Path, out: Path, **kw) -> list:
    report = scan([str(logs_dir)], out, **kw)
    assert report.found == report.files_read
    return [rows(out, t) for t in TABLES]


@needs_corpus
def test_jobs_and_dask_make_the_same_dataset(logs_dir: Path, tmp_path: Path, monkeypatch):
    """``--jobs 1``, ``--jobs 2`` (two processes, however small the input) and a Dask cluster (a real
    ``distributed.LocalCluster``, two workers) give the same rows."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(scan_module, "POOL_FROM_BYTES", 0)
    one = _scanned(logs_dir, tmp_path / "one", jobs=1)
    two = _scanned(logs_dir, tmp_path / "two", jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        on_dask = _scanned(logs_dir, tmp_path / "dask", dask=client)
        by_address = _scanned(logs_dir, tmp_path / "address", dask=c.scheduler_address)
    assert sum(len(t) for t in one) > 500
    for name, a, b, c_, d in zip(TABLES, one, two, on_dask, by_address):
        assert a == b == c_ == d, name


def test_a_rescan_reads_only_the_new_file(logs_dir: Path, tmp_path: Path, monkeypatch):
    logs = tmp_path / "logs"
    shutil.copytree(logs_dir, logs)
    out = tmp_path / "ds"
    first = scan([str(logs)], out)
    kills = rows(out, "kills")
    read_now: list[str] = []
    real = scan_module.extract_task

    def spy(path, *args):
        read_now.append(path)
        return real(path, *args)

    monkeypatch.setattr(scan_module, "extract_task", spy)
    assert scan([str(logs)], out).files_read == 0 and read_now == []
    (logs / "db-1").mkdir()
    shutil.copy(SEED_LOG, logs / "db-1" / "dmesg.txt")
    again = scan([str(logs)], out)
    assert read_now == [str(logs / "db-1" / "dmesg.txt")]
    assert (again.new, again.changed, again.unchanged) == (1, 0, first.found)
    added = rows(out, "kills")
    assert len(added) == len(kills) + 1 and {r[0] for r in added} - {r[0] for r in kills} == {"db-1"}
    # a changed file is read again and its old rows replaced, not doubled
    read_now.clear()
    seed = logs / "web-1" / "kern.log"
    with open(seed, "a") as f:
        f.write("[  600.000000] Out of memory: Killed process 4242 (late) total-vm:1kB, anon-rss:1kB, "
                "file-rss:0kB, shmem-rss:0kB\n")
    changed = scan([str(logs)], out)
    assert read_now == [str(seed)] and changed.changed == 1
    _, web1 = run(out, "SELECT comm FROM kills WHERE host = 'web-1' AND file LIKE '%kern.log' ORDER BY line")
    assert web1 == [("a.out",), ("late",)]
    assert len(rows(out, "files")) == first.found + 1
    # what the changed file's old rows were in is gone; nothing of an uncommitted scan is left
    ds = Dataset.open(out)
    assert not ds.manifest["pending_deletes"] and [s["id"] for s in ds.scans] == [1, 2, 3]


def test_bad_files_are_rows_of_files_and_the_scan_goes_on(tmp_path: Path):
    logs = tmp_path / "logs" / "h"
    logs.mkdir(parents=True)
    shutil.copy(SEED_LOG, logs / "good.log")
    (logs / "binary.log").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 40)
    (logs / "empty.log").write_bytes(b"")
    whole = gzip.compress(SEED_LOG.read_bytes() * 3000)
    (logs / "truncated.log.gz").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "ds"
    r = cli("fleet", "scan", str(tmp_path / "logs"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "3 files with errors" in r.stdout and r.stderr.count("warning") == 3
    _, files = run(out, "SELECT file, status, error, kills FROM files ORDER BY file")
    got = {Path(f).name: (status, error, kills) for f, status, error, kills in files}
    assert got["good.log"] == ("ok", None, 1)
    assert got["binary.log"][0] == "error" and "not a text log" in got["binary.log"][1]
    assert got["empty.log"][0] == "error" and "empty" in got["empty.log"][1]
    status, error, kills = got["truncated.log.gz"]
    assert status == "damaged" and "damaged gzip data" in error and kills > 1  # the rows before the damage
    # --strict: the same scan, exit 2; a path that is not there is refused before anything is read
    r = cli("fleet", "scan", str(tmp_path / "logs"), "-o", str(tmp_path / "strict"), "--strict")
    assert r.returncode == 2 and "3 files with errors" in r.stdout
    r = cli("fleet", "scan", str(tmp_path / "nowhere"), "-o", str(tmp_path / "none"))
    assert r.returncode == 2 and "nowhere: no such file or directory" in r.stderr
    assert not (tmp_path / "none").exists()


def test_query_formats_and_the_replay_command(tmp_path: Path):
    out = tmp_path / "ds"
    scan([str(SEED_LOG)], out, host_from="path")
    r = cli("fleet", "query", str(out), "SELECT host, comm, replay(file, seq) AS cmd FROM kills", "--format", "json")
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)
    assert row["host"] == "seed-006-unable-to-reap" and row["comm"] == "a.out"
    assert row["cmd"] == f"oomreplay replay '{SEED_LOG}' --seq 1"
    assert render(*run(out, "SELECT comm FROM kills"), "csv") == "comm\na.out"
    md = render(*run(out, "SELECT comm, points FROM kills"), "markdown")
    assert md.splitlines() == ["| comm | points |", "|---|---:|", "| a.out | 739 |"]
    table = render(*run(out, "SELECT outcome, attempts FROM reaper"))
    assert table.splitlines() == ["outcome  attempts", "-------  --------", "unable         10"]
    bad = cli("fleet", "query", str(out), "SELECT nope FROM kills")
    assert bad.returncode == 2 and bad.stderr.startswith("oomreplay: error: Binder Error")
    assert bad.stderr.count("\n") == 1
    with pytest.raises(DatasetError):
        run(tmp_path, "SELECT 1")  # no dataset there


def test_names_from_the_logs_are_shown_inert(tmp_path: Path):
    log = tmp_path / "evil.log"
    log.write_text(SEED_LOG.read_text().replace("(a.out)", "(\x1b]0;pwned\x07|x)"))
    out = tmp_path / "ds"
    scan([str(log)], out)
    text = render(*run(out, "SELECT comm FROM kills"))
    assert "\x1b" not in text and "\\x1b" in text
    md = render(*run(out, "SELECT comm FROM kills"), "markdown")
    assert "\\|x" in md


def test_the_cache_follows_the_parquet(tmp_path: Path):
    """``fleet query`` keeps a DuckDB copy of the parts: a part added, rewritten or removed (by a scan or by
    anyone) shows at the next query; a cache of another schema version is made again."""
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(SEED_LOG, logs / "a.log")
    out = tmp_path / "ds"
    scan([str(logs)], out)
    assert run(out, "SELECT count(*) FROM kills")[1] == [(1,)]
    shutil.copy(SEED_LOG, logs / "b.log")
    scan([str(logs)], out)
    assert run(out, "SELECT count(*) FROM kills")[1] == [(2,)]
    part = next((out / "kills").rglob("*.parquet"))
    part.unlink()
    assert run(out, "SELECT count(*) FROM kills")[1] == [(1,)]
    import duckdb

    con = duckdb.connect(str(out / "_cache" / "fleet.duckdb"))
    con.execute("UPDATE _meta SET schema_version = 0")
    con.close()
    assert run(out, "SELECT count(*) FROM kills")[1] == [(1,)]
    # a query cannot change the cache
    r = cli("fleet", "query", str(out), "DELETE FROM c_kills")
    assert r.returncode == 2 and "read-only" in r.stderr
    assert run(out, "SELECT count(*) FROM kills")[1] == [(1,)]


@needs_corpus
def test_report(corpus_dataset: Path):
    r = cli("fleet", "report", str(corpus_dataset))
    assert r.returncode == 0, r.stderr
    for title in ("Incidents per host", "Incidents and the reaper by kernel", "Most-killed processes",
                  "Time from kill to the reaper's outcome", "memcg against global OOMs",
                  "Files that could not be read"):
        assert f"\n{title}\n" in r.stdout
    data = json.loads(cli("fleet", "report", str(corpus_dataset), "--format", "json", "--top", "3").stdout)
    assert len(data["comms"]) == 3 and data["comms"][0]["comm"] == "diff" and len(data["kernels"]) == 3
    data = json.loads(cli("fleet", "report", str(corpus_dataset), "--format", "json", "--top", "100").stdout)
    assert data["overview"][0]["kills"] == run(corpus_dataset, "SELECT count(*) FROM kills")[1][0][0]
    kernels = {k["kernel"]: k for k in data["kernels"]}
    assert kernels["5.0.0-rc8+"]["gave up"] == 1 and kernels["5.0.0-rc8+"]["failure %"] == 100.0
    assert {s["scope"] for s in data["scope"]} >= {"global", "memcg", "lmk", "sysrq"}
    from oomreplay.fleet.report import report

    assert report(corpus_dataset, "markdown").startswith("# Fleet report")


def test_an_interrupted_scan_leaves_the_dataset_before_it(tmp_path: Path):
    """Parts of a scan the manifest does not list (killed before its commit) are removed by the next scan, and
    deletes it had left pending are finished."""
    out = tmp_path / "ds"
    scan([str(SEED_LOG)], out)
    folder = next((out / "kills").rglob("*.parquet")).parent
    orphan = folder / "oomr-7-0-0.parquet"
    shutil.copy(next(folder.glob("*.parquet")), orphan)
    assert run(out, "SELECT count(*) FROM kills")[1] == [(1,)]  # never read: not committed
    foreign = folder / "part-00000-c0ffee.c000.snappy.parquet"  # another engine's: read
    shutil.copy(next(folder.glob("oomr-1-*.parquet")), foreign)
    assert run(out, "SELECT count(*) FROM kills")[1] == [(2,)]
    foreign.unlink()
    manifest = json.loads((out / MANIFEST).read_text())
    doomed = out / "kills" / "stale.parquet"
    doomed.write_bytes(b"")
    manifest["pending_deletes"] = ["kills/stale.parquet"]
    (out / MANIFEST).write_text(json.dumps(manifest))
    scan([str(SEED_LOG)], out)
    assert not orphan.exists() and not doomed.exists()


def test_a_dataset_of_another_schema_version_is_refused(tmp_path: Path):
    out = tmp_path / "ds"
    scan([str(SEED_LOG)], out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["schema_version"] = SCHEMA_VERSION + 1
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="schema version"):
        Dataset.open(out)
    r = cli("fleet", "scan", str(SEED_LOG), "-o", str(out))
    assert r.returncode == 2 and "scan the logs into a new dataset" in r.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("mine")
    with pytest.raises(DatasetError, match="not a fleet dataset"):
        scan([str(SEED_LOG)], tmp_path / "other")


def test_hosts_from_path_and_prefix(tmp_path: Path):
    from oomreplay.fleet import hosts

    assert hosts.from_path("/logs/web-7/kern.log.2.gz", "/logs") == "web-7"
    assert hosts.from_path("/logs/db-3.log.1", "/logs") == "db-3"
    assert hosts.from_path("/x/y/kern.log-20261201.gz", None) == "kern"
    assert hosts.from_path("/x/we ird$host/f", "/x") == "we_ird_host"
    assert hosts.from_prefix(["Jun 18 07:44:52 jbarnes-g45 kernel: [64377.426677] apt-check invoked"]) == "jbarnes-g45"
    assert hosts.from_prefix(["2026-11-27T10:00:01.123456+01:00 node-9 kernel: hi"]) == "node-9"
    assert hosts.from_prefix(["_HOSTNAME=k3s06"]) == "k3s06"
    assert hosts.from_prefix(["[  493.787997] Out of memory: Kill process 3163"]) is None
    log = tmp_path / "x.log"
    log.write_text("Jun 18 07:44:52 jbarnes-g45 kernel: " + SEED_LOG.read_text().splitlines()[1] + "\n")
    assert read(str(log), host_from="prefix").file["host"] == "jbarnes-g45"
    assert read(str(log), host_from="path").file["host"] == "x"


def test_days_from_the_wall_clock(tmp_path: Path):
    """A yearless syslog stamp takes the year that puts it before the file's last write; a printk stamp with a
    syslog prefix takes the prefix's clock; a dmesg capture, the day the file was written."""
    log = tmp_path / "kern.log"
    line = SEED_LOG.read_text().splitlines()[1]  # [  493.791708] Killed process 3163 (a.out) …
    log.write_text(f"Dec 31 23:59:59 h kernel: {line}\n")
    stamp = 1_798_761_600  # 2027-01-01T00:00:00Z
    os.utime(log, (stamp, stamp))
    (kill,) = read(str(log)).columns["kills"]["time"]
    assert kill.isoformat() == "2026-12-31T23:59:59"
    plain = tmp_path / "dmesg.txt"
    plain.write_text(line + "\n")
    os.utime(plain, (stamp, stamp))
    r = read(str(plain))
    assert r.columns["kills"]["time"] == [None] and r.columns["kills"]["day"] == ["2027-01-01"]


def test_without_the_extra_fleet_says_what_to_install(tmp_path: Path):
    code = ("import sys; sys.modules['pyarrow'] = None; sys.modules['duckdb'] = None\n"
            "from oomreplay.cli import main\n"
            f"sys.argv = ['oomreplay', 'fleet', 'scan', {str(SEED_LOG)!r}, '-o', {str(tmp_path / 'ds')!r}]\n"
            "main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2
    assert r.stderr.startswith("oomreplay: error: oomreplay fleet needs pyarrow")
    assert "pip install 'oomreplay[fleet]'" in r.stderr and r.stderr.count("\n") == 1
    # the package itself imports without them (the CLI lists the command)
    code = "import sys; sys.modules['pyarrow'] = None; import oomreplay.fleet, oomreplay.cli.fleet"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def test_the_schema_is_documented():
    """docs/fleet.md has a table per table with each column, in order; the README names the version."""
    doc = (REPO / "docs" / "fleet.md").read_text()
    assert f"Schema version {SCHEMA_VERSION}" in doc
    for table, cols in TABLES.items():
        section = doc[doc.index(f"### `{table}`"):]
        names = [line.split("|")[1].strip().strip("`") for line in section.splitlines()[2:]
                 if line.startswith("| `")][:len(cols)]
        assert names == [c.name for c in cols], table
    assert f"schema version {SCHEMA_VERSION}" in (REPO / "README.md").read_text()


def test_engines_batches_round_trip():
    """What Spark's mapInArrow runs: paths in, blobs out, each table decoded back equal to ``extract``."""
    import pyarrow as pa

    from oomreplay.fleet.engines import blob_schema, decode_batches, extract_batches

    paths = pa.RecordBatch.from_pydict({"path": [str(SEED_LOG)], "root": [None]})
    blobs = list(extract_batches(iter([paths])))
    assert all(b.schema == blob_schema() for b in blobs)
    direct = extract(SEED_LOG)
    for name in TABLES:
        decoded = pa.Table.from_batches(list(decode_batches(name)(iter(blobs))), schema=direct[name].schema)
        keep = [c for c in direct[name].column_names if c != "seconds"]
        assert decoded.select(keep).equals(direct[name].select(keep)), name
