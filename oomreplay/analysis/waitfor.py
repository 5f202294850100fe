"""Who waits for whom at one instant: task -> lock it waits for -> the lock's holders -> what they wait for.

Built from ``State.locks`` alone, so it answers for any seq the store can seek to. An edge is ``inferred`` when
either end was only seen in a lockdep dump: such a dump lists a task queued on an rwsem among the holders
(kernel-formats.md §4.1), so "holds" there means "holds or is queued for".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ..model import State


class WaitEdge(NamedTuple):
    """``waiter`` waits for ``lock``, which ``holder`` holds."""

    waiter: int
    lock: str
    holder: int
    wait_seq: int | None  # seq of the contention (or dump) that put the waiter there
    hold_seq: int | None  # seq of the acquisition (or dump) that made the holder
    inferred: bool


class WaitGraph(NamedTuple):
    seq: int | None
    edges: tuple[WaitEdge, ...]
    cycles: tuple[tuple[int, ...], ...]  # each a list of pids, the first repeated implicitly at the end

    def out_of(self, pid: int) -> list[WaitEdge]:
        """The edges leaving ``pid``: the holders it is waiting behind."""
        return [e for e in self.edges if e.waiter == pid]

    def chain(self, pid: int, limit: int = 32) -> Iterator[tuple[int, WaitEdge]]:
        """Breadth first from ``pid``: (depth, edge) for every task it transitively waits behind, each once."""
        seen = {pid}
        frontier = [pid]
        depth = 0
        while frontier and depth < limit:
            nxt: list[int] = []
            for p in frontier:
                for e in self.out_of(p):
                    yield depth, e
                    if e.holder not in seen:
                        seen.add(e.holder)
                        nxt.append(e.holder)
            frontier = nxt
            depth += 1


def wait_graph(state: State) -> WaitGraph:
    """The wait-for graph of ``state``, with its cycles (deadlocks, if every edge in them is real)."""
    edges: list[WaitEdge] = []
    for lk in state.locks.values():
        for w in lk.waiters:
            for h in lk.holders:
                if h.pid != w.pid or len(lk.holders) == 1:
                    edges.append(WaitEdge(w.pid, lk.name, h.pid, w.since, h.since, w.inferred or h.inferred))
    edges.sort(key=lambda e: (e.waiter, e.lock, e.holder))
    return WaitGraph(state.seq, tuple(edges), tuple(_cycles(edges)))


def holding_mark(mode: str | None, inferred: bool) -> str:
    """How every view writes a holding: ``(r)`` / ``(w)`` when the mode is known, ``?`` when the holding was only
    seen in a lock dump."""
    return (f"({mode})" if mode else "") + ("?" if inferred else "")


def _cycles(edges: list[WaitEdge]) -> list[tuple[int, ...]]:
    """Every elementary cycle reached by a depth-first walk, rotated to start at its smallest pid, once each."""
    succ: dict[int, list[int]] = {}
    for e in edges:
        succ.setdefault(e.waiter, []).append(e.holder)
    found: set[tuple[int, ...]] = set()
    done: set[int] = set()

    def walk(node: int, path: list[int], on_path: dict[int, int]) -> None:
        on_path[node] = len(path)
        path.append(node)
        for nxt in succ.get(node, ()):
            if nxt in on_path:
                cyc = path[on_path[nxt]:]
                i = cyc.index(min(cyc))
                found.add(tuple(cyc[i:] + cyc[:i]))
            elif nxt not in done:
                walk(nxt, path, on_path)
        path.pop()
        del on_path[node]
        done.add(node)

    for start in sorted(succ):
        if start not in done:
            walk(start, [], {})
    return sorted(found)
