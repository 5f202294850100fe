"""A seeded synthetic OOM incident of any length, for benchmarks and the store's scale tests.

It imitates the shape of a real recording rather than uniform noise: processes with many threads on consecutive
pids, activity concentrated on a few hot processes (a power law, as in the recorded incidents where one hog and a
few kthreads make most events), locks taken and released in balanced pairs with contention, zone free memory that
sinks towards the watermarks, and periodic OOM episodes (invocation, task table, kill, victim flags, reaper
attempts that sometimes fail ten times, the victim's exit).
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator
from heapq import heappop, heappush
from itertools import accumulate

from oomreplay.model import Event

KTHREADS = {59: "oom_reaper", 63: "khugepaged", 75: "kswapd0", 387: "kworker/u128:31"}
KERNEL_LOCKS = ("shrinker_rwsem", "tasklist_lock", "&type->s_umount_key#30", "&pag->pag_ici_reclaim_lock",
                "&xfs_nondir_ilock_class", "oom_lock", "&zone->lock", "rcu_read_lock")


class Incident:
    """The world the events describe; ``events(n)`` yields a well-formed stream of exactly ``n`` events."""

    def __init__(self, seed: int = 1, tasks: int = 10_000, locks: int = 1_000) -> None:
        self.rng = random.Random(seed)
        rng = self.rng
        self.procs: list[tuple[int, list[int], str]] = []  # (tgid, thread pids, comm)
        pid = 1000
        made = 0
        while made < tasks:
            n = min(rng.choice((1, 1, 1, 2, 4, 8, 32)), tasks - made)
            made += n
            self.procs.append((pid, list(range(pid, pid + n)), rng.choice(("postgres", "java", "a.out", "nginx",
                                                                         "python3", "chrome", "stress-ng"))))
            pid += n + rng.randrange(0, 4)
        self.tgid_of = {p: tgid for tgid, threads, _ in self.procs for p in threads}
        self.comm_of = {p: comm for tgid, threads, comm in self.procs for p in threads} | dict(KTHREADS)
        # Hot processes first: the i-th process makes events in proportion to 1 / (i + 1) ** 1.5, and 2 % of
        # events land on any task at all. The recordings in shared/corpus/recorded are more skewed still (two
        # tasks make 97 % of the events of 004 and 005), so this errs towards a wider spread.
        self.cum_weights = list(accumulate(1.0 / (i + 1) ** 1.5 for i in range(len(self.procs))))
        self.all_pids = list(self.tgid_of)
        names = [f"&mm->mmap_lock#{tgid}" for tgid, _, _ in self.procs[:max(0, locks - len(KERNEL_LOCKS))]]
        self.locks = list(KERNEL_LOCKS) + names
        self.lock_set = set(self.locks)
        self.held: dict[int, list[tuple[str, str]]] = {}  # pid -> [(lock, mode)]
        self.holders: dict[str, list[tuple[int, str]]] = {}
        self.due: list[tuple[int, int, str, str, bool]] = []  # (event number, pid, lock, mode, waiting)
        self.busy: set[int] = set()  # tasks queued on a lock
        self.made = 0
        self.zones = {("DMA32", 0): [400_000, 8_000], ("Normal", 0): [2_000_000, 40_000]}  # free, min
        self.victims: list[int] = []
        self.ts = 1_000_000_000
        self.kthreads = list(KTHREADS)

    def _pick_proc(self) -> tuple[int, list[int], str]:
        return self.procs[bisect(self.cum_weights, self.rng.random() * self.cum_weights[-1])]

    def _pick_task(self) -> int:
        rng = self.rng
        r = rng.random()
        if r < 0.05:
            return rng.choice(self.kthreads)
        if r < 0.07:
            return rng.choice(self.all_pids)
        return rng.choice(self._pick_proc()[1])

    def _tick(self) -> int:
        self.ts += 1 + int(self.rng.expovariate(1 / 10_000))
        return self.ts

    def _lock_event(self, pid: int) -> Event:
        """Take a lock, queue on it, or end a hold or a wait that is due: holds last tens of events, as a page
        fault's mmap_lock does, so a few dozen locks are held at any instant, not every lock ever taken."""
        rng = self.rng
        if self.due and (self.due[0][0] <= self.made or rng.random() < 0.5):
            _, pid, name, mode, waiting = heappop(self.due)
            if waiting:
                if self._conflicts(name, mode, pid):
                    return Event(self._tick(), "lock_release", pid, {"lock": name})  # gave up (a failed try)
                return self._acquire(pid, name, mode)
            self.held[pid].remove((name, mode))
            self.holders[name].remove((pid, mode))
            return Event(self._tick(), "lock_release", pid, {"lock": name})
        proc_lock = f"&mm->mmap_lock#{self.tgid_of.get(pid, 0)}"
        name = proc_lock if proc_lock in self.lock_set and rng.random() < 0.6 else rng.choice(self.locks)
        mode = "r" if rng.random() < 0.8 else "w"
        if pid in self.busy or any(n == name for n, _ in self.held.get(pid, ())):
            return Event(self._tick(), "task_state", pid, {"state": "R"})
        if self._conflicts(name, mode, pid):
            self.busy.add(pid)
            heappush(self.due, (self.made + rng.randrange(5, 60), pid, name, mode, True))
            return Event(self._tick(), "lock_contended", pid, {"lock": name, "mode": mode, "site": "down_read"})
        return self._acquire(pid, name, mode)

    def _conflicts(self, name: str, mode: str, pid: int) -> bool:
        others = [m for p, m in self.holders.get(name, ()) if p != pid]
        return bool(others) and (mode == "w" or "w" in others)

    def _acquire(self, pid: int, name: str, mode: str) -> Event:
        self.busy.discard(pid)
        self.held.setdefault(pid, []).append((name, mode))
        self.holders.setdefault(name, []).append((pid, mode))
        heappush(self.due, (self.made + self.rng.randrange(2, 40), pid, name, mode, False))
        return Event(self._tick(), "lock_acquire", pid, {"lock": name, "mode": mode, "site": "do_page_fault"})

    def _oom_episode(self) -> Iterator[Event]:
        rng = self.rng
        invoker = self._pick_task()
        yield Event(self._tick(), "oom_invoke", invoker, {"gfp": "GFP_HIGHUSER_MOVABLE|__GFP_COMP", "order": 0,
                                                           "oom_score_adj": 0, "constraint": "CONSTRAINT_NONE",
                                                           "comm": self.comm_of.get(invoker)})
        for _ in range(20):
            tgid, threads, comm = self._pick_proc()
            yield Event(self._tick(), "oom_candidate", tgid, {"tgid": tgid, "uid": 1000, "rss_pages":
                        rng.randrange(1, 1 << 20), "oom_score_adj": 0, "comm": comm})
        tgid, threads, comm = self.procs[rng.randrange(min(8, len(self.procs)))]
        yield Event(self._tick(), "oom_kill", tgid, {"comm": comm, "anon_rss_kb": rng.randrange(1 << 20)})
        yield Event(self.ts, "flag_set", tgid, {"flag": "TIF_MEMDIE"}, inferred={"flag"})
        yield Event(self._tick(), "reaper_wake", tgid, {"comm": comm})
        busy = rng.random() < 0.3
        for n in range(1, 11 if busy else 2):
            yield Event(self._tick(), "reaper_attempt", tgid, {"n": n, "outcome": "lock_busy" if busy else "reaped"})
        yield Event(self._tick(), "reaper_done", tgid, {"outcome": "unable" if busy else "reaped"})
        yield Event(self.ts, "flag_set", tgid, {"flag": "MMF_OOM_SKIP"}, inferred={"flag"})
        if not busy:
            yield Event(self._tick(), "task_exit", tgid, {"comm": comm})
            yield Event(self.ts, "flag_clear", tgid, {"flag": "TIF_MEMDIE"}, inferred={"flag"})

    def events(self, n: int, oom_every: int = 5_000) -> Iterator[Event]:
        """Exactly ``n`` events."""
        rng = self.rng
        made = self.made = 0
        for pid, comm in list(self.comm_of.items())[:2000]:  # the tasks a real log names early on
            if made >= n:
                return
            yield Event(self._tick(), "task", pid, {"tgid": self.tgid_of.get(pid, pid), "comm": comm})
            made += 1
        next_oom = oom_every
        while made < n:
            self.made = made
            if made >= next_oom:
                next_oom += oom_every
                for ev in self._oom_episode():
                    if made >= n:
                        return
                    yield ev
                    made += 1
                continue
            r = rng.random()
            pid = self._pick_task()
            if r < 0.40:
                ev = self._lock_event(pid)
            elif r < 0.60:
                ev = Event(self._tick(), "task_state", pid, {"state": rng.choice("RRRSSDD")})
            elif r < 0.72:
                ev = Event(self._tick(), "rss", pid, {"anon_kb": rng.randrange(1 << 22), "file_kb":
                           rng.randrange(1 << 16)})
            elif r < 0.80:
                ev = Event(self._tick(), "alloc", pid, {"order": rng.choice((0, 0, 0, 1, 3, 9)), "gfp": "GFP_KERNEL",
                           "outcome": rng.choice(("ok", "ok", "ok", "stall")), "duration_ns": rng.randrange(10**7)})
            elif r < 0.88:
                name, node = rng.choice(list(self.zones))
                z = self.zones[(name, node)]
                z[0] = max(0, z[0] + rng.randrange(-4000, 3900))
                ev = Event(self._tick(), "zone", None, {"node": node, "zone": name, "free_kb": z[0],
                           "min_kb": z[1], "low_kb": z[1] * 5 // 4, "high_kb": z[1] * 3 // 2})
            elif r < 0.92:
                ev = Event(self._tick(), "memcg", None, {"path": f"/workload/{rng.randrange(16)}",
                           "usage_kb": rng.randrange(1 << 20), "limit_kb": 1 << 20})
            else:
                ev = Event(self._tick(), "log", None, {"text": f"ordinary kernel chatter {made}"})
            yield ev
            made += 1


def generate(n: int, seed: int = 1, tasks: int = 10_000, locks: int = 1_000) -> Iterator[Event]:
    """``n`` events of a seeded incident with ``tasks`` tasks and ``locks`` locks."""
    return Incident(seed, tasks, locks).events(n)


def main() -> None:
    """``python benchmarks/synth.py -o OUT --events N``: write a synthetic incident (the bundled demo is one)."""
    import argparse

    from oomreplay.store import TraceWriter

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--tasks", type=int, default=300)
    ap.add_argument("--locks", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    meta = {"kernel": "synthetic", "title": f"synthetic OOM incident (seed {args.seed})",
            "generator": f"benchmarks/synth.py --events {args.events} --tasks {args.tasks} --locks {args.locks} "
                         f"--seed {args.seed}"}
    with TraceWriter(args.out, meta=meta) as w:
        w.extend(generate(args.events, args.seed, args.tasks, args.locks))


if __name__ == "__main__":
    main()
