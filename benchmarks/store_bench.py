"""Store benchmark: write a synthetic incident of N events, then measure the reader.

    python benchmarks/store_bench.py --events 1000000 [--out PATH] [--json] [--local]

Prints events, bytes per event (whole file), write events/s, open ms, ``state_at`` p50/p99 over 1,000 random
seqs, ``seq_at`` and ``next`` p50, the reader's peak RSS, and the ratio of a naive fold of ``apply`` from the
start to a random ``state_at`` (both measured in this run). Events are generated before the clock starts, so
the write rate is the writer's alone; the reader runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import machine, percentile, print_figures  # noqa: E402
from synth import generate  # noqa: E402

from oomreplay import open_trace  # noqa: E402
from oomreplay.model import KIND_NAMES, State, apply_fields  # noqa: E402
from oomreplay.store import TraceWriter  # noqa: E402

QUERIES = 1000


def write(path: Path, n: int, parallel: bool) -> dict:
    t0 = time.perf_counter()
    events = list(generate(n))
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    with TraceWriter(path, meta={"kernel": "synthetic", "title": f"store benchmark, {n} events"},
                     parallel=parallel) as w:
        for ev in events:
            w.append(ev)
    took = time.perf_counter() - t0
    return {"events": n, "generate_s": round(generated, 2), "write_s": round(took, 2),
            "write_events_per_s": round(n / took), "bytes": path.stat().st_size,
            "bytes_per_event": round(path.stat().st_size / n, 2), "writer": "parallel" if parallel else "local"}


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM): unlike ru_maxrss it is not inherited from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1e3


def naive_fold(trace, seq: int) -> State:
    """The baseline: every event from the first, applied in place (no copies, so the baseline is not slowed)."""
    s = State()
    for ev in trace.events(0, seq + 1):
        apply_fields(s, ev.seq, ev.ts_ns, ev.kind, ev.pid, ev.fields, ev.inferred)
    return s


def read(path: Path, naive_samples: int) -> dict:
    rng = random.Random(7)
    opens = []
    for _ in range(5):
        t0 = time.perf_counter()
        trace = open_trace(path)
        opens.append((time.perf_counter() - t0) * 1e3)
        trace.close()
    trace = open_trace(path)
    n = len(trace)
    seqs = [rng.randrange(n) for _ in range(QUERIES)]
    state_ms = []
    for seq in seqs:
        state_ms.append(timed(trace.state_at, seq))
    full_ms = []  # a state used in full: every task record read, as a sorted task table would
    for seq in seqs[:100]:
        t0 = time.perf_counter()
        st = trace.state_at(seq)
        sum(1 for _ in st.tasks.values())
        full_ms.append((time.perf_counter() - t0) * 1e3)
    step_ms = []  # one step forward from a state just shown: what a held arrow key costs
    for seq in seqs[:200]:
        trace.state_at(seq)
        step_ms.append(timed(trace.state_at, min(seq + 1, n - 1)))
    ts0, ts1 = trace.first_ts, trace.last_ts
    seq_at_ms = [timed(trace.seq_at, rng.randrange(ts0, ts1 + 1)) for _ in range(QUERIES)]
    rare = ["oom_kill", "reaper_attempt", "oom_invoke"]
    next_ms = [timed(trace.next, rng.randrange(n), rng.choice(rare)) for _ in range(QUERIES // 2)]
    next_ms += [timed(lambda a, p: trace.next(a, pid=p), rng.randrange(n), rng.randrange(1000, 1100))
                for _ in range(QUERIES // 2)]
    rss_mb = peak_rss_mb()
    naive = []
    for seq in rng.sample(range(n // 4, n), naive_samples):
        t0 = time.perf_counter()
        expected = naive_fold(trace, seq)
        naive.append((time.perf_counter() - t0) * 1e3)
        assert trace.state_at(seq) == expected, f"state_at({seq}) differs from the naive fold"
    mean_state = sum(state_ms) / len(state_ms)
    return {"open_ms": round(median(opens), 2), "state_at_p50_ms": round(percentile(state_ms, 0.5), 3),
            "state_at_p99_ms": round(percentile(state_ms, 0.99), 3),
            "state_at_full_p50_ms": round(percentile(full_ms, 0.5), 2),
            "step_p50_ms": round(percentile(step_ms, 0.5), 3),
            "seq_at_p50_ms": round(percentile(seq_at_ms, 0.5), 4), "next_p50_ms": round(percentile(next_ms, 0.5), 4),
            "reader_peak_rss_mb": round(rss_mb, 1), "naive_fold_ms": round(sum(naive) / len(naive), 1),
            "naive_over_state_at": round(sum(naive) / len(naive) / mean_state)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--out", type=Path, help="keep the trace here (default: a temporary file)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    ap.add_argument("--local", action="store_true", help="run the writer's state machine in-process")
    ap.add_argument("--naive-samples", type=int, default=3)
    ap.add_argument("--read-only", type=Path, help=argparse.SUPPRESS)  # the reader half, in its own process
    args = ap.parse_args()
    if args.read_only:
        print(json.dumps(read(args.read_only, args.naive_samples)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.out or Path(tmp) / "bench.oomtrace"
        result = write(path, args.events, not args.local)
        reader = subprocess.run([sys.executable, __file__, "--read-only", str(path), "--naive-samples",
                                 str(args.naive_samples)], capture_output=True, text=True, check=True)
        result |= json.loads(reader.stdout)
    result["machine"] = machine()
    result["kinds"] = len(KIND_NAMES)
    print_figures(result, args.json)


if __name__ == "__main__":
    main()
