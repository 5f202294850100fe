"""Which kernel wrote a trace, as a range of versions, and the OOM rules that changed between versions.

The rules the invariants check are not the same on every kernel (kernel-formats.md §1.9, §1.10, §6): before 4.6
there is no reaper; 4.6 ends a victim only when it is reaped or exits; 4.7-4.8 also when the reaper gives up;
from 4.9 ``MMF_OOM_SKIP`` ends it; several mm flags exist only in some versions. A log usually names its kernel
(the ``CPU: … Comm: …`` line, kept in the trace's meta); a dmesg excerpt often does not, and then the words the
kernel printed bound the version instead: an ``oom_reaper`` line means ≥ 4.6, a lock called ``mmap_sem`` < 5.8,
``mmap_lock`` ≥ 5.8. A rule the range cannot decide is checked the lenient way and its findings marked uncertain.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import NamedTuple

from ..store import Trace

Version = tuple[int, int, int]
OLDEST: Version = (0, 0, 0)
NEWEST: Version = (1000, 0, 0)

_VERSION = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,3})(?:\.(\d{1,4}))?")
#: Lock events looked at to bound the version by the mmap lock's name: the name changed once, so a few suffice.
_LOCK_EVENTS_READ = 10_000

#: How a pending victim stops blocking the choice of another one (§1.9, §1.10), by the first version it applies to.
ENDINGS: tuple[tuple[Version, str], ...] = (
    (OLDEST, "exit"),  # no reaper: TIF_MEMDIE (≤4.4) / the victim's exit
    ((4, 6, 0), "reaped"),  # the 4.6 reaper clears TIF_MEMDIE when it reaps; after ten failures nothing changes
    # 4.7-4.8 oom_reap_task: exit_oom_victim() after the loop whether it reaped or gave up, and the scan waits on
    # signal->oom_victims only (kernel-audit F4)
    ((4, 7, 0), "reaper_done"),
    ((4, 9, 0), "oom_skip"),  # ≥4.9: the reaper always sets MMF_OOM_SKIP when it is done; so does exit
)

#: Versions (half-open ranges, backports included) that have each mm flag the OOM code sets (§6).
FLAG_VERSIONS: dict[str, tuple[tuple[Version, Version], ...]] = {
    "MMF_OOM_SKIP": (((4, 9, 0), NEWEST),),
    "MMF_UNSTABLE": (((4, 9, 0), NEWEST),),
    "MMF_OOM_REAPED": (((4, 7, 0), (4, 9, 0)),),  # defined in 4.7.4 include/linux/sched.h (kernel-audit F4)
    "MMF_OOM_NOT_REAPABLE": (((4, 8, 0), (4, 9, 0)),),
    "MMF_OOM_VICTIM": (((4, 14, 177), (4, 15, 0)), ((4, 15, 0), (6, 1, 0))),
    "MMF_OOM_REAP_QUEUED": (((4, 14, 177), (4, 15, 0)), ((4, 19, 78), (4, 20, 0)), ((5, 0, 0), NEWEST)),
}
#: The first version with an OOM reaper (§1.7).
REAPER_SINCE: Version = (4, 6, 0)


def parse_version(text: str | None) -> Version | None:
    """``5.0.0-rc8+`` → (5, 0, 0); None when ``text`` names no version (``unknown``, ``synthetic``)."""
    m = _VERSION.search(text or "")
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3] or 0)


def _show(v: Version) -> str:
    return ".".join(str(x) for x in v)


class Kernel(NamedTuple):
    """Versions ``lo`` (inclusive) to ``hi`` (exclusive) and why we believe it."""

    lo: Version
    hi: Version
    basis: str

    def within(self, ranges: tuple[tuple[Version, Version], ...]) -> bool | None:
        """True if every version in the range lies in ``ranges``, False if none does, None if some do."""
        overlap = [(max(a, self.lo), min(b, self.hi)) for a, b in ranges if max(a, self.lo) < min(b, self.hi)]
        if not overlap:
            return False
        covered, point = True, self.lo
        for a, b in sorted(overlap):
            covered = covered and a <= point
            point = max(point, b)
        return True if covered and point >= self.hi else None

    def ending(self) -> str | None:
        """How a victim stops being pending on this kernel (see ``ENDINGS``), or None if the range spans a change."""
        starts = [v for v, _ in ENDINGS] + [NEWEST]
        for (since, rule), until in zip(ENDINGS, starts[1:]):
            if self.within(((since, until),)):
                return rule
        return None

    def describe(self) -> str:
        if self.hi == (*self.lo[:2], self.lo[2] + 1):
            return f"{_show(self.lo)} ({self.basis})"
        if self.lo == OLDEST and self.hi == NEWEST:
            return f"any version ({self.basis})"
        if self.hi == NEWEST:
            return f"≥ {_show(self.lo)} ({self.basis})"
        if self.lo == OLDEST:
            return f"< {_show(self.hi)} ({self.basis})"
        return f"{_show(self.lo)} to before {_show(self.hi)} ({self.basis})"


def kernel_of(trace: Trace) -> Kernel:
    """The version range of the kernel that wrote ``trace``: named by its meta, else bounded by its wording."""
    named = parse_version(str(trace.meta.get("kernel") or ""))
    if named is not None:
        return Kernel(named, (named[0], named[1], named[2] + 1), "named by the log")
    lo, hi, why = OLDEST, NEWEST, []
    if trace.next(-1, kind=["reaper_attempt", "reaper_done"]) is not None:
        lo = REAPER_SINCE
        why.append("an oom_reaper line")
    names = {str(ev.get("lock") or "") for ev in islice(trace.events(kind=["lock_acquire", "lock_held"]),
                                                        _LOCK_EVENTS_READ)}
    if any("mmap_lock" in n for n in names):
        lo = max(lo, (5, 8, 0))
        why.append("a lock named mmap_lock")
    elif any("mmap_sem" in n for n in names):
        hi = (5, 8, 0)
        why.append("a lock named mmap_sem")
    return Kernel(lo, hi, ", ".join(why) or "the trace does not say")
