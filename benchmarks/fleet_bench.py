"""Fleet benchmark: ``oomreplay fleet scan`` over an archive of kern.log files, beside ``cat`` of the same files;
``--jobs 1``, ``--jobs 2`` and ``--dask`` on a two-worker local cluster (processes); then ``fleet report`` over the
dataset of ``--small-files`` files (1,000 hosts' daily logs, an OOM in one in ten).

    python benchmarks/fleet_bench.py [--mb 400] [--files 16] [--small-files 10000] [--no-dask] [--json]

The large files are the convert benchmark's kern.log (``convert_bench.build``: the corpus's OOM reports between
30 lines of chatter each, as rsyslog writes it), copied to one directory per host. Every scan runs in a child
process (``python -m oomreplay fleet scan``) into a new dataset, its wall time measured from outside; the Dask
cluster is started before its scan is timed (``--dask ADDRESS`` is used so). The small files are syslog-prefixed
kern.logs of chatter, one in ten with one of the bundled incidents (``traces/*.log``) in it.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baselines import timed  # beside this script
from convert_bench import CHATTER, CORPUS, build
from figures import machine, print_figures

REPO = Path(__file__).resolve().parents[1]
#: the child processes (and the Dask workers) import this checkout
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def archive(root: Path, megabytes: int, files: int) -> list[Path]:
    """``files`` copies of one kern.log of ``megabytes / files`` MB, one per host directory."""
    one = root / "kern.log"
    build(one, max(1, megabytes // files), chatter=30, syslog=True)
    out = []
    for i in range(files):
        host = root / "logs" / f"web-{i:03d}"
        host.mkdir(parents=True)
        shutil.copy(one, host / "kern.log")
        out.append(host / "kern.log")
    one.unlink()
    return out


def small_archive(root: Path, files: int, hosts: int = 1000) -> int:
    """``files`` daily kern.logs of ``hosts`` hosts; returns the bytes written."""
    reports = [p.read_text().splitlines() for p in sorted((REPO / "traces").glob("*.log"))]
    rng = random.Random(7)
    days = max(1, files // hosts)
    written = 0
    stamp = time.mktime((2026, 11, 30, 0, 0, 0, 0, 0, -1))
    for n in range(files):
        host, day = n % hosts, n // hosts % days + 1
        folder = root / "small" / f"node-{host:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = []
        for i in range(20):
            lines.append(f"Nov {day:2d} 0{i % 10}:00:{i:02d} node-{host:04d} kernel: [{1000 + i}.000000] "
                         f"{CHATTER[i % len(CHATTER)].format(n=i)}")
        if rng.random() < 0.1:
            for line in rng.choice(reports):
                lines.append(f"Nov {day:2d} 12:00:00 node-{host:04d} kernel: {line}")
        path = folder / f"kern.log.{days - day + 1}"
        text = "\n".join(lines) + "\n"
        path.write_text(text)
        os.utime(path, (stamp, stamp))
        written += len(text)
    return written


def scan(paths: list[Path], out: Path, *args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "oomreplay", "fleet", "scan", *map(str, paths), "-o", str(out), *args],
                   check=True, capture_output=True, env=ENV, cwd=REPO)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=400, help="size of the large files' archive (default 400)")
    ap.add_argument("--files", type=int, default=16, help="how many large files (default 16)")
    ap.add_argument("--small-files", type=int, default=10_000, help="files of the report's dataset (default 10^4)")
    ap.add_argument("--no-dask", action="store_true", help="leave the Dask scan out")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"the corpus is not at {CORPUS}")
    result: dict = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        logs = archive(root, args.mb, args.files)
        size = sum(p.stat().st_size for p in logs)
        mb = size / (1 << 20)
        timed(["cat", *map(str, logs)])  # the files in the page cache for every reader alike
        cat_s = timed(["cat", *map(str, logs)])
        result.update(archive_mb=round(mb, 1), files=len(logs), cat_mb_per_s=round(mb / cat_s))
        for jobs in (1, 2):
            took = scan([root / "logs"], root / f"jobs{jobs}", "--jobs", str(jobs))
            result[f"jobs{jobs}_s"] = round(took, 2)
            result[f"jobs{jobs}_mb_per_s"] = round(mb / took, 1)
        if not args.no_dask:
            os.environ["PYTHONPATH"] = ENV["PYTHONPATH"]  # the workers' processes import this checkout,
            sys.path.insert(0, str(REPO))  # and so does the scheduler, in this one
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
                took = scan([root / "logs"], root / "dask", "--dask", c.scheduler_address)
            result.update(dask_s=round(took, 2), dask_mb_per_s=round(mb / took, 1),
                          dask_over_jobs2=round(took / result["jobs2_s"], 2))
        small = small_archive(root, args.small_files)
        took = scan([root / "small"], root / "small.ds", "--jobs", "2")
        result.update(small_files=args.small_files, small_mb=round(small / 1e6, 1), small_scan_s=round(took, 1),
                      small_files_per_s=round(args.small_files / took))
        parts = sum(1 for _ in (root / "small.ds").rglob("*.parquet"))
        report = [sys.executable, "-m", "oomreplay", "fleet", "report", str(root / "small.ds")]
        t0 = time.perf_counter()
        out = subprocess.run(report, check=True, capture_output=True, text=True, env=ENV, cwd=REPO).stdout
        result.update(parquet_parts=parts, report_s=round(time.perf_counter() - t0, 2))
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import oomreplay.cli, duckdb, pyarrow"], check=True, env=ENV, cwd=REPO)
        result["python_start_and_imports_s"] = round(time.perf_counter() - t0, 2)
        shutil.rmtree(root / "small.ds" / "_cache")
        t0 = time.perf_counter()
        subprocess.run(report, check=True, capture_output=True, env=ENV, cwd=REPO)
        result["report_without_cache_s"] = round(time.perf_counter() - t0, 2)
        result["incidents"] = next((line.split()[-1] for line in out.splitlines() if line.startswith("incidents")),
                                   None)
    print_figures(result, args.json)


if __name__ == "__main__":
    main()
