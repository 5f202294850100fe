"""What the memory events do: zones against their watermarks, memcgs against their limits, the Mem-Info summary."""

from __future__ import annotations

from .apply_records import anomaly, updated
from .events import KINDS
from .state import Memcg, MemInfo, Zone, zone_key

def on_zone(s, seq, ts, pid, f, inferred):
    key = zone_key(f)
    old = s.zones.get(key) or Zone(*key)
    reserve = f.get("lowmem_reserve_kb")
    new = updated(old, seq, {"free_kb": f.get("free_kb"), "min_kb": f.get("min_kb"), "low_kb": f.get("low_kb"),
                              "high_kb": f.get("high_kb"), "managed_kb": f.get("managed_kb"),
                              "lowmem_reserve_kb": None if reserve is None else tuple(reserve)})
    if new.free_kb is not None and new.free_kb < 0:
        anomaly(s, seq, "zone", f"zone {key[0]}:{key[1]} free memory below zero ({new.free_kb} kB)")
    s.zones.set(key, new)


def on_memcg(s, seq, ts, pid, f, inferred):
    path = f.get("path") or "/"
    old = s.memcgs.get(path) or Memcg(path)
    s.memcgs.set(path, updated(old, seq, {"usage_kb": f.get("usage_kb"), "limit_kb": f.get("limit_kb"),
                                           "failcnt": f.get("failcnt")}))


_MEMINFO_COUNTERS = KINDS["meminfo"]


def on_meminfo(s, seq, ts, pid, f, inferred):
    """A new summary replaces the last one whole: a counter this one lacks is unknown now, not unchanged."""
    counters = tuple((name, f[name]) for name in _MEMINFO_COUNTERS if f.get(name) is not None)
    s.meminfo.set("global", MemInfo("global", counters, seq))
