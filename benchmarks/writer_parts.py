"""Where the trace writer's time goes, per event: the parts the write rate is the sum of.

    python benchmarks/writer_parts.py [--events N] [--json]

On the same seeded synthetic events (benchmarks/synth.py), all in this process: the whole writer with its state
machine in-process, the state machine alone on the same blocks, the state machine's ``apply`` alone (no
keyframes), the replay loop with handlers that do nothing (the baseline every handler is measured against), and
making one ``Event``. The encoder is the whole writer less its state machine; the keyframes are the state machine
less ``apply``. With ``parallel=True`` the state machine runs beside the encoder, so the write rate is bound by
the slower of the two; 300,000 events/s on two cores leaves 6.7 µs of CPU an event between them.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import machine, print_figures  # noqa: E402
from synth import generate  # noqa: E402

from oomreplay.model import KIND_NAMES, Event, Src  # noqa: E402
from oomreplay.model.apply import handlers_for  # noqa: E402
from oomreplay.store import TraceWriter  # noqa: E402
from oomreplay.store.codec import EventBlock, block_payload, event_columns  # noqa: E402
from oomreplay.store.tracker import StateTracker  # noqa: E402
from oomreplay.store.writer import BLOCK_EVENTS  # noqa: E402


def per_event_us(seconds: float, n: int) -> float:
    return round(seconds / n * 1e6, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=300_000)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()
    events = list(generate(args.events))
    n = len(events)
    blocks = [EventBlock(block_payload(i, [event_columns(events[i:i + BLOCK_EVENTS])]), "benchmark")
              for i in range(0, n, BLOCK_EVENTS)]

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with TraceWriter(Path(tmp) / "parts.oomtrace") as w:
            for ev in events:
                w.append(ev)
        whole = time.perf_counter() - t0

    tracker = StateTracker(io.BytesIO())
    t0 = time.perf_counter()
    for block in blocks:
        tracker.feed(block)
    tracker.finish()
    state_machine = time.perf_counter() - t0

    def replay(handlers: list) -> float:
        state = StateTracker(io.BytesIO()).state  # the writer's own tables, empty
        t0 = time.perf_counter()
        for block in blocks:
            block.replay(state, 0, len(block), handlers)
        return time.perf_counter() - t0

    apply_only = replay(handlers_for(KIND_NAMES))
    loop_only = replay([lambda *args: None] * len(KIND_NAMES))
    src = Src(0, 1)
    make = min(timeit.repeat(lambda: Event(1, "rss", 42, {"anon_kb": 12}, src=src), number=100_000, repeat=5))

    result = {
        "events": n,
        "writer_us": per_event_us(whole, n),
        "encoder_us": per_event_us(whole - state_machine, n),
        "state_machine_us": per_event_us(state_machine, n),
        "apply_us": per_event_us(apply_only, n),
        "keyframes_us": per_event_us(state_machine - apply_only, n),
        "replay_loop_baseline_us": per_event_us(loop_only, n),
        "apply_over_baseline": round(apply_only / loop_only, 1),
        "event_init_us": round(make / 100_000 * 1e6, 2),
        "budget_at_300k_on_2_cores_us": round(2 / 300_000 * 1e6, 2),
        "machine": machine(),
    }
    print_figures(result, args.json)


if __name__ == "__main__":
    main()
