"""The timeline's mipmap: event counts per kind and free-memory min/max per time bucket, at every zoom level.

The writer keeps at most ``BUCKETS`` base buckets, doubling their width (and merging neighbours) whenever the
trace outgrows them, so its memory does not depend on the trace's length. Level ``L`` of the pyramid merges
``2**L`` base buckets; a query picks the finest level that answers it in a bounded number of buckets, so drawing
any zoom costs the same and never touches an event.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ..model import KIND_NAMES
from .format import TraceError, ints_from_bytes, ints_to_bytes

BUCKETS = 4096
_FIRST_WIDTH = 1 << 20  # ~1 ms
_NONE_MIN = (1 << 62)
_NONE_MAX = -(1 << 62)
_NK = len(KIND_NAMES)


@dataclass(frozen=True)
class Bucket:
    t0_ns: int
    t1_ns: int
    counts: dict[str, int]  # kind -> events in the bucket (kinds with none left out)
    free_min_kb: int | None  # total free memory over all zones, lowest and highest seen in the bucket
    free_max_kb: int | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class OverviewWriter:
    def __init__(self) -> None:
        self.t0: int | None = None
        self.width = _FIRST_WIDTH
        self.counts = array("q", bytes(8 * BUCKETS * _NK))
        self.fmin = array("q", [_NONE_MIN]) * BUCKETS
        self.fmax = array("q", [_NONE_MAX]) * BUCKETS

    def _bucket(self, ts: int) -> int:
        if self.t0 is None:
            self.t0 = ts
        b = (ts - self.t0) // self.width
        while b >= BUCKETS:
            self._coarsen()
            b = (ts - self.t0) // self.width
        return b

    def _coarsen(self) -> None:
        """Halve the resolution: bucket i becomes buckets 2i and 2i+1 merged."""
        half = BUCKETS // 2
        c = self.counts
        for i in range(half):
            a, b, o = 2 * i * _NK, (2 * i + 1) * _NK, i * _NK
            for k in range(_NK):
                c[o + k] = c[a + k] + c[b + k]
        c[half * _NK:] = array("q", bytes(8 * half * _NK))
        for i in range(half):
            self.fmin[i] = min(self.fmin[2 * i], self.fmin[2 * i + 1])
            self.fmax[i] = max(self.fmax[2 * i], self.fmax[2 * i + 1])
        self.fmin[half:] = array("q", [_NONE_MIN]) * half
        self.fmax[half:] = array("q", [_NONE_MAX]) * half
        self.width *= 2

    def fit(self, ts: int) -> None:
        """Coarsen until ``ts`` (no earlier than any time added so far) falls in a bucket: coarsening merges whole
        buckets, so doing it before adding the earlier times gives the same counts as doing it between them."""
        if self.t0 is None:
            self.t0 = ts
        while (ts - self.t0) // self.width >= BUCKETS:
            self._coarsen()

    def add_block(self, ts: list[int], kinds: bytes) -> None:
        """``add`` for a whole block of ascending times, after ``fit(ts[-1])``: one count per bucket it spans."""
        t0, width, counts, n = self.t0, self.width, self.counts, len(ts)
        b = (ts[0] - t0) // width
        last = (ts[-1] - t0) // width
        lo = 0
        while True:
            hi = n if b == last else bisect_left(ts, t0 + (b + 1) * width, lo)
            base = b * _NK
            for kid, c in Counter(kinds[lo:hi]).items():
                counts[base + kid] += c
            if hi >= n:
                return
            lo = hi
            b = (ts[hi] - t0) // width

    def add(self, ts: int, kind_id: int) -> None:
        self.counts[self._bucket(ts) * _NK + kind_id] += 1

    def free(self, ts: int, free_kb: int) -> None:
        b = self._bucket(ts)
        if free_kb < self.fmin[b]:
            self.fmin[b] = free_kb
        if free_kb > self.fmax[b]:
            self.fmax[b] = free_kb

    def payload(self) -> dict:
        return {"t0": self.t0 or 0, "width": self.width, "kinds": list(KIND_NAMES),
                "counts": ints_to_bytes(self.counts), "fmin": ints_to_bytes(self.fmin),
                "fmax": ints_to_bytes(self.fmax)}


class Overview:
    """The reader's pyramid, built once from the base level when first asked."""

    def __init__(self, payload: Any, where: str) -> None:
        try:
            self.t0 = int(payload["t0"])
            self.width = int(payload["width"])
            kinds = list(payload["kinds"])
            base = ints_from_bytes(payload["counts"])
            fmin = ints_from_bytes(payload["fmin"])
            fmax = ints_from_bytes(payload["fmax"])
        except (KeyError, TypeError, ValueError) as e:
            raise TraceError(f"{where}: bad overview ({e})") from None
        nk = len(kinds)
        if nk == 0 or len(base) != nk * BUCKETS or len(fmin) != BUCKETS or len(fmax) != BUCKETS:
            raise TraceError(f"{where}: overview has the wrong size")
        self.kinds = kinds
        self.levels: list[tuple[array, array, array]] = [(base, fmin, fmax)]
        n = BUCKETS
        while n > 1:
            c, lo, hi = self.levels[-1]
            n //= 2
            merged = array("q", bytes(8 * n * nk))
            for i in range(n):
                for k in range(nk):
                    merged[i * nk + k] = c[2 * i * nk + k] + c[(2 * i + 1) * nk + k]
            self.levels.append((merged, array("q", (min(lo[2 * i], lo[2 * i + 1]) for i in range(n))),
                                array("q", (max(hi[2 * i], hi[2 * i + 1]) for i in range(n)))))

    def query(self, t0: int, t1: int, buckets: int) -> list[Bucket]:
        """``buckets`` equal slices of [t0, t1). Each pyramid cell goes whole to the slice holding its middle, so
        counts stay whole numbers and add up: a single kill never vanishes into fractions of neighbours."""
        if buckets <= 0 or t1 <= t0:
            return []
        step = (t1 - t0) / buckets
        level = 0
        while level + 1 < len(self.levels) and (self.width << (level + 1)) <= step:
            level += 1
        counts, lo, hi = self.levels[level]
        width = self.width << level
        nk = len(self.kinds)
        totals = [[0] * nk for _ in range(buckets)]
        fmin = [_NONE_MIN] * buckets
        fmax = [_NONE_MAX] * buckets
        first = max(0, (t0 - self.t0) // width)
        last = min(len(lo), -(-(t1 - self.t0) // width))
        for cell in range(first, last):
            middle = self.t0 + cell * width + width // 2
            b = min(buckets - 1, max(0, int((middle - t0) // step)))
            acc = totals[b]
            for k, n in enumerate(counts[cell * nk:(cell + 1) * nk]):
                if n:
                    acc[k] += n
            fmin[b] = min(fmin[b], lo[cell])
            fmax[b] = max(fmax[b], hi[cell])
        return [Bucket(t0 + int(b * step), t0 + int((b + 1) * step),
                       {self.kinds[k]: v for k, v in enumerate(totals[b]) if v},
                       None if fmin[b] == _NONE_MIN else fmin[b], None if fmax[b] == _NONE_MAX else fmax[b])
                for b in range(buckets)]
