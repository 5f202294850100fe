"""The timeline's overview, as the views read it: one ``Bucket`` per slice of time.

The core keeps a mipmap of event counts per kind and free-memory min/max at every zoom level, so a query costs
the same at any zoom and never touches an event; this is its Python shape."""

from __future__ import annotations

from dataclasses import dataclass


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
