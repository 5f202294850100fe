"""Memory lines of an OOM report or an allocation warning (kernel-formats.md §1.4, §2): the Mem-Info summary,
per-zone watermarks, ``lowmem_reserve[]``, memcg usage (v1 and v2) and ``warn_alloc`` stalls and failures.

Stateless like ``oom``: each function returns the fields of one line or None.
"""

from __future__ import annotations

import re
from typing import Any

Fields = dict[str, Any]

#: What every message a function here accepts starts with or contains (see ``oom.STARTS``).
STARTS = ("Mem-Info:", "Mem-info:", "lowmem_reserve[]:", "Task in ", "Memory limit reached of cgroup ",
          "Memory cgroup stats for ")
MARKS = (" free:", ": usage ", ": page allocation ")

#: A line of the Mem-Info summary holds only ``name:pages`` pairs (2.6.28-2.6.31 capitalise ``Active_anon``).
_COUNTERS = re.compile(r"[A-Za-z_]+:\d+(?:\s+[A-Za-z_]+:\d+)*")
_COUNTER = re.compile(r"([A-Za-z_]+):(\d+)")
_ZONE = re.compile(r"(?:Node (?P<node>\d+) )?(?P<zone>DMA32|DMA|Normal|HighMem|Movable|Device) free:(?P<free>\d+)kB")
_ZONE_KB = re.compile(r" (min|low|high|managed|present):(\d+)kB")
_LOWMEM = re.compile(r"lowmem_reserve\[\]:((?:\s+\d+)*)")
_USAGE = re.compile(r"(?P<what>memory|memory\+swap|swap|kmem): usage (?P<usage>\d+)kB(?:, limit (?P<limit>\d+)kB)?"
                    r"(?:, failcnt (?P<failcnt>\d+))?")
_TASK_IN = re.compile(r"Task in (?P<task>.*) killed as a result of limit of (?P<limit>.*)")
_LIMIT_OF = re.compile(r"Memory limit reached of cgroup (?P<limit>.*)")
_STATS_FOR = re.compile(r"Memory cgroup stats for (?P<path>[^:]*):")
_ALLOC = re.compile(r"(?P<comm>.*?): page allocation (?:(?P<fail>failure)|stalls for (?P<ms>\d+)ms)"
                    r"(?:[:,]? order:(?P<order>\d+))?(?:, mode:? ?(?P<gfp>0x[0-9a-fA-F]+(?:\([^)]*\)?)?))?")


def mem_info(msg: str) -> bool:
    """``Mem-Info:`` (``Mem-info:`` from some architectures' show_mem): the summary's counter lines follow."""
    return msg in ("Mem-Info:", "Mem-info:")


def per_cpu(msg: str) -> bool:
    """≤3.x lines between ``Mem-Info:`` and the summary: ``DMA32 per-cpu:`` then ``CPU    0: hi:  186, btch: …``."""
    return msg.endswith(" per-cpu:") or (msg.startswith("CPU ") and " hi:" in msg)


def counters(msg: str) -> dict[str, int] | None:
    """One line of the Mem-Info summary, ``active_anon:3104 inactive_anon:7316 isolated_anon:0``: each counter's
    name, lower-cased, and its value in pages; None for any other line (the per-node line, in kB, included)."""
    if _COUNTERS.fullmatch(msg) is None:
        return None
    return {name.lower(): int(value) for name, value in _COUNTER.findall(msg)}


def zone(msg: str) -> Fields | None:
    """``[Node N ]ZONE free:…kB [boost:…] min:…kB low:…kB high:…kB … managed:…kB …``.

    ``Node N`` is printed only by NUMA kernels."""
    if " free:" not in msg:
        return None
    m = _ZONE.match(msg)
    if m is None:
        return None
    f: Fields = {"node": int(m.group("node")) if m.group("node") else None, "zone": m.group("zone"),
                 "free_kb": int(m.group("free"))}
    for key, value in _ZONE_KB.findall(msg, m.end()):
        if key != "present":
            f[f"{key}_kb"] = int(value)
    return f


def lowmem_reserve(msg: str) -> list[int] | None:
    """``lowmem_reserve[]: 0 1935 1935 1935``: pages per zone index, for the zone line just before it."""
    if not msg.startswith("lowmem_reserve[]:"):
        return None
    m = _LOWMEM.match(msg)
    return [int(v) for v in m.group(1).split()] if m else None


def usage(msg: str) -> Fields | None:
    """memcg ``memory: usage …kB, limit …kB, failcnt …`` and its ``memory+swap:``/``swap:``/``kmem:`` mates."""
    if ": usage " not in msg:
        return None
    m = _USAGE.match(msg)
    if m is None:
        return None
    return {"what": m.group("what"), **{k: int(m.group(k)) for k in ("usage", "limit", "failcnt")
                                        if m.group(k) is not None}}


def limited_memcg(msg: str) -> str | None:
    """≤4.20 names the memcg whose limit was hit before its usage lines: ``Task in … limit of PATH``."""
    m = _TASK_IN.match(msg) if msg.startswith("Task in ") else _LIMIT_OF.match(msg)
    return m.group("limit") if m else None


def stats_for(msg: str) -> str | None:
    """``Memory cgroup stats for PATH:`` — ≥5.0 names the memcg only here, after its usage lines."""
    m = _STATS_FOR.match(msg) if msg.startswith("Memory cgroup stats for ") else None
    return m.group("path") if m else None


def alloc(msg: str) -> Fields | None:
    """warn_alloc: ``comm: page allocation failure: order:N, mode:…`` or ``… stalls for Nms, order:N, mode:…``."""
    if ": page allocation " not in msg:
        return None
    m = _ALLOC.match(msg)
    if m is None:
        return None
    f: Fields = {"comm": m.group("comm"), "outcome": "fail" if m.group("fail") else "stall",
                 "gfp": m.group("gfp"), "order": int(m.group("order")) if m.group("order") else None}
    if m.group("ms"):
        f["duration_ns"] = int(m.group("ms")) * 1_000_000
    return f
