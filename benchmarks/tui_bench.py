"""TUI benchmark: key-to-frame latency of the replay, headless, on a synthetic incident of N events.

    python benchmarks/tui_bench.py --events 1000000 [--trace PATH] [--size 120x40] [--json]

Prints the first-frame time (app start to the first frame of the trace painted), key-to-frame p50/p95 for →
pressed at 100 random places (key sent → that seq's frame on screen → the next screen refresh composed); while →
is held at 30 Hz (keys on a fixed grid for 3 s): steps/s up to the last key's frame, the backlog (last key to its
frame) and the worst event-loop stall; and the same key-to-frame figure for a naive replay
measured in this run: one that folds every event from the start for each frame and rebuilds a DataTable of all
tasks, the approach the store and the Line-API table exist to avoid.

Keys are sent with ``App.simulate_key`` (``Pilot.press`` adds ~60 ms of idle-waiting of its own), and "painted" is
``Screen.wait_for_refresh()`` after the frame is shown (textual-exemplars.md §4).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import machine, percentile, print_figures  # noqa: E402
from synth import generate  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.binding import Binding  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from oomreplay import open_trace  # noqa: E402
from oomreplay.model import State, apply_fields  # noqa: E402
from oomreplay.store import TraceWriter  # noqa: E402
from oomreplay.tui.app import ReplayApp  # noqa: E402

PRESSES = 100
NAIVE_PRESSES = 5
HOLD_S = 3.0
RATE_HZ = 30


async def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app never got there")
        await asyncio.sleep(0)


async def measure(path: Path, size: tuple[int, int], seed: int = 7) -> dict:
    n = len(open_trace(path))
    rng = random.Random(seed)
    t_start = time.perf_counter()
    app = ReplayApp(path)
    async with app.run_test(size=size) as pilot:
        await _until(lambda: app.frame is not None)
        await app.screen.wait_for_refresh()
        first_frame = time.perf_counter() - t_start
        painted = []
        for seq in (rng.randrange(n - 1) for _ in range(PRESSES)):
            app._seek(seq)
            await _until(lambda: app.settled and app.frame is not None and app.frame.seq == seq)
            await pilot.pause()
            t0 = time.perf_counter()
            app.simulate_key("right")
            await _until(lambda: app.frame is not None and app.frame.seq == seq + 1)
            await app.screen.wait_for_refresh()
            painted.append(time.perf_counter() - t0)
        held = await _hold(app)
    return {"first_frame_ms": round(first_frame * 1e3, 1),
            "key_to_frame_p50_ms": round(percentile(painted, 0.5) * 1e3, 1),
            "key_to_frame_p95_ms": round(percentile(painted, 0.95) * 1e3, 1)} | held


async def _hold(app: ReplayApp) -> dict:
    """→ held at RATE_HZ: how many steps land per second and the worst stall of the event loop meanwhile."""
    stalls: list[float] = []
    holding = True

    async def lag_monitor() -> None:
        while holding:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - t - 0.005)

    monitor = asyncio.create_task(lag_monitor())
    start_seq, t0 = app.cursor, time.perf_counter()
    sent = 0
    while time.perf_counter() - t0 < HOLD_S:
        app.simulate_key("right")
        sent += 1
        last_key = time.perf_counter()
        # on a fixed grid, so the time the app takes does not slow the keys down
        await asyncio.sleep(max(0.0, t0 + sent / RATE_HZ - time.perf_counter()))
    await _until(lambda: app.settled and app.frame is not None and app.frame.seq == start_seq + sent)
    done = time.perf_counter()
    holding = False
    await monitor
    return {"held_steps_per_s": round(sent / (done - t0), 1), "held_keys_per_s": round(sent / (last_key - t0), 1),
            "backlog_ms": round((done - last_key) * 1e3, 1), "max_stall_ms": round(max(stalls) * 1e3, 1)}


class NaiveReplay(App[None]):
    """The baseline: each step folds ``apply`` over every event from the start and refills a DataTable."""

    BINDINGS = [Binding("right", "step", priority=True)]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.trace = open_trace(path)
        self.cursor = 0
        self.shown = -1

    def compose(self) -> ComposeResult:
        table: DataTable = DataTable()
        table.add_columns("pid", "comm", "state", "rss kB", "flags")
        yield table

    def action_step(self) -> None:
        self.cursor += 1
        state = State()
        for ev in self.trace.events(0, self.cursor + 1):
            apply_fields(state, ev.seq, ev.ts_ns, ev.kind, ev.pid, ev.fields, ev.inferred)
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows([(t.pid, t.comm or "", t.state or "", t.anon_kb or 0, " ".join(t.flags))
                        for t in state.tasks.values()])
        self.shown = self.cursor


async def measure_naive(path: Path, size: tuple[int, int], seed: int = 7) -> float:
    n = len(open_trace(path))
    rng = random.Random(seed)
    app = NaiveReplay(path)
    painted = []
    async with app.run_test(size=size) as pilot:
        for seq in (rng.randrange(n // 2, n - 1) for _ in range(NAIVE_PRESSES)):
            app.cursor = seq
            await pilot.pause()
            t0 = time.perf_counter()
            app.simulate_key("right")
            await _until(lambda: app.shown == seq + 1, timeout=3600)
            await app.screen.wait_for_refresh()
            painted.append(time.perf_counter() - t0)
    return median(painted)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--trace", type=Path, help="measure this trace instead of writing a synthetic one")
    ap.add_argument("--size", default="120x40", help="terminal size, COLSxROWS")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = ap.parse_args()
    cols, rows = (int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = args.trace or Path(tmp) / "tui_bench.oomtrace"
        if args.trace is None:
            with TraceWriter(path, meta={"kernel": "synthetic", "title": f"TUI benchmark, {args.events} events"},
                             parallel=True) as w:
                w.extend(generate(args.events))
        result: dict = {"events": len(open_trace(path)), "size": args.size}
        result |= asyncio.run(measure(path, (cols, rows)))
        naive = asyncio.run(measure_naive(path, (cols, rows)))
    result["naive_key_to_frame_p50_ms"] = round(naive * 1e3, 1)
    result["naive_over_ours_p50"] = round(naive * 1e3 / max(result["key_to_frame_p50_ms"], 0.001), 1)
    result["machine"] = machine()
    print_figures(result, args.json)


if __name__ == "__main__":
    main()
