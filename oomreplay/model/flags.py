"""Kernel constants the model needs: which flags live on a task and which on an mm.

The meaning of each flag, per kernel version, is in shared/research/kernel-formats.md §6; the glossary that shows
it to users lives with the views. Here only what changes how an event is applied.
"""

from __future__ import annotations

#: The reaper gives up after this many failed trylocks (mm/oom_kill.c, unchanged 4.6 -> 6.19).
MAX_OOM_REAP_RETRIES = 10


def flag_target(flag: str, target: str | None = None) -> str:
    """``"mm"`` or ``"task"``: explicit when the event says, otherwise by the kernel's naming (MMF_ = mm_struct)."""
    if target in ("mm", "task"):
        return target
    return "mm" if flag.startswith("MMF_") else "task"
