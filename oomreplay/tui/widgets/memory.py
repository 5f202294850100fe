"""Zones against their watermarks, memory cgroups against their limits, as gauges; and a sparkline of free memory
over the whole incident with the cursor's place on it, drawn from the overview the loader fetched once. Beside
another incident (``replay --against``) each line has a gutter, ``≠`` on the zones and memcgs that are in their
reserves (below min, at the limit) on one side only."""

from __future__ import annotations

from functools import lru_cache

from textual.content import Content

from ..._util.safetext import visible
from ...model import MemInfo, Memcg, Zone
from ...session.contrast import memcg_key, zone_key
from ...session.frame import Frame, TraceInfo
from .panel import Panel, gutter

GAUGE = 24
SPARK = 40
_SPARKS = "▁▂▃▄▅▆▇█"


def lowest_free(info: TraceInfo, width: int = SPARK) -> list[int | None]:
    """The lowest total free memory seen in each of ``width`` slices of the incident (None: none reported)."""
    buckets = info.buckets
    lows = []
    for c in range(width):
        part = buckets[c * len(buckets) // width:max((c + 1) * len(buckets) // width, c * len(buckets) // width + 1)]
        seen = [b.free_min_kb for b in part if b.free_min_kb is not None]
        lows.append(min(seen) if seen else None)
    return lows


def cursor_slice(info: TraceInfo, cursor_ts: int | None, width: int = SPARK) -> int | None:
    if cursor_ts is None or info.first_ts is None or info.last_ts is None:
        return None
    span = max(info.last_ts + 1 - info.first_ts, 1)
    return min(width - 1, max(0, (cursor_ts - info.first_ts) * width // span))


def free_sparkline(lows: list[int | None], at: int | None) -> Content:
    """The lows as a sparkline, the cursor's slice ``at`` highlighted; empty when no event reported free memory."""
    known = [v for v in lows if v is not None]
    if not known:
        return Content("")
    bottom, top = min(known), max(known)
    cells = [(" " if v is None else _SPARKS[(v - bottom) * (len(_SPARKS) - 1) // max(top - bottom, 1)],
              "$accent reverse" if c == at else "$primary") for c, v in enumerate(lows)]
    return Content.assemble("free ", *cells, f" {bottom:,}..{top:,} kB")


def zone_gauge(z: Zone, width: int = GAUGE) -> Content:
    """``[████·m··l·h····]``: free pages filled from the left, min/low/high as letters on the scale.

    The scale runs to 1.5 × high (or free, if larger) so the marks sit in the same place step after step."""
    marks = [(v, c) for v, c in ((z.min_kb, "m"), (z.low_kb, "l"), (z.high_kb, "h")) if v is not None]
    free = z.free_kb or 0
    top = max(free, int(1.5 * (z.high_kb or 0)), 1)
    filled = min(width, round(free * width / top))
    cells = ["█"] * filled + ["·"] * (width - filled)
    for value, letter in marks:
        cells[min(width - 1, value * width // top)] = letter
    if z.min_kb is not None and free < z.min_kb:
        colour = "$error"
    elif z.low_kb is not None and free < z.low_kb:
        colour = "$warning"
    else:
        colour = "$success"
    return Content.assemble("[", ("".join(cells), colour), "]")


@lru_cache(maxsize=1024)  # records are values: a zone or memcg no step touched is drawn as it was
def _zone_line(z: Zone) -> Content:
    free = "?" if z.free_kb is None else f"{z.free_kb:,}"
    verdict = ""
    if z.free_kb is not None and z.min_kb is not None and z.free_kb < z.min_kb:
        verdict = f"  {z.min_kb - z.free_kb:,} kB into the reserves"
    return Content.assemble(f"N{z.node} ", visible(z.zone).ljust(8), zone_gauge(z), f" free {free} kB",
                            (verdict, "$error bold"))


@lru_cache(maxsize=1024)
def _memcg_line(m: Memcg) -> Content:
    usage = m.usage_kb or 0
    if m.limit_kb:
        filled = min(GAUGE, usage * GAUGE // m.limit_kb)
        pct = f"{100 * usage / m.limit_kb:.0f}%"
        colour = "$error" if usage >= m.limit_kb else "$success"
        bar = Content.assemble("[", ("█" * filled + "·" * (GAUGE - filled), colour), "]")
    else:
        pct, bar = "no limit", Content("")
    return Content.assemble(visible(m.path), " ", bar, f" {usage:,}/{m.limit_kb or 0:,} kB {pct}")


#: The Mem-Info counters worth a line in a side panel, in the order an OOM review reads them: where the memory
#: went (anon, file, slab, shmem, page tables) against what was free.
MEMINFO_SHOWN = ("free_kb", "active_anon_kb", "inactive_anon_kb", "active_file_kb", "inactive_file_kb",
                 "unevictable_kb", "slab_reclaimable_kb", "slab_unreclaimable_kb", "slab_kb", "shmem_kb",
                 "pagetables_kb", "dirty_kb", "writeback_kb")


@lru_cache(maxsize=64)
def meminfo_line(m: MemInfo) -> Content:
    """The last Mem-Info summary, kB: the counters this kernel printed, among those of ``MEMINFO_SHOWN``."""
    counters = dict(m.counters)
    # name:value as the kernel prints them, so a narrow panel wraps between counters, never inside one
    parts = [f"{name.removesuffix('_kb')}:{counters[name]:,}" for name in MEMINFO_SHOWN if name in counters]
    return Content.assemble(("Mem-Info kB ", "$text-muted"), " ".join(parts))


class MemoryPanel(Panel, can_focus=True):
    """One line per zone, then one per memcg, the last Mem-Info summary, then the sparkline."""

    _lows: tuple[TraceInfo, list[int | None]] | None = None  # the sparkline's values, for the trace shown

    def show(self, frame: Frame | None, info: TraceInfo | None = None,
             differs: frozenset[tuple] | None = None) -> None:
        """``differs``: the zones (``zone_key``) and memcgs (``memcg_key``) to mark, or None for no gutter (the
        single replay)."""
        if frame is None:
            self.paint(Content(""))
            return
        lines: list[tuple[Content, tuple | None]] = (
            [(_zone_line(z), zone_key(z)) for z in frame.zones] + [(_memcg_line(m), memcg_key(m)) for m in frame.memcgs]
            + [(meminfo_line(m), None) for m in frame.meminfo])
        if not lines:
            lines = [(Content("no zone or memcg reported yet"), None)]
        spark = Content("")
        if info is not None and info.buckets:
            if self._lows is None or self._lows[0] is not info:
                self._lows = (info, lowest_free(info))
            spark = free_sparkline(self._lows[1], cursor_slice(info, frame.ts_ns))
        if spark:
            lines.append((spark, None))
        shown = ([line for line, _ in lines] if differs is None
                 else [gutter(line, key is not None and key in differs) for line, key in lines])
        self.paint(Content("\n").join(shown))

