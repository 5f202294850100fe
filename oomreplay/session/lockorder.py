"""The order the locks panel lists locks in: what the reaper needs first, then what someone waits for, then the rest.

Sorted by name, the victim's ``mmap_lock`` fell below a screen of unrelated locks (issue 24 §3); the question a
reader brings to an OOM is "what stops the reaper", so its lock leads.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Lock, Victim
from .hindsight import MM_LOCK


def ordered_locks(locks: Iterable[Lock], victims: Iterable[Victim]) -> list[Lock]:
    """The victims' mm locks (by mm, or by name when the trace does not say whose mm: a lockdep dump), then the
    locks someone waits for, then the rest by name. Runs in the loader's thread, only when the locks or the
    victims changed."""
    victims = list(victims)
    mms = {v.mm for v in victims if v.mm is not None}
    any_victim = bool(victims)

    def rank(lk: Lock) -> tuple[int, str]:
        if MM_LOCK.search(lk.name) and (lk.mm in mms or (lk.mm is None and any_victim)):
            return 0, lk.name
        if MM_LOCK.search(lk.name):
            return 1, lk.name
        return (2 if lk.waiters else 3), lk.name
    return sorted(locks, key=rank)
