"""GFP masks printed as bare hex, named the way newer kernels print them (kernel-formats.md §2.9).

From 4.6 the kernel prints ``gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE)`` and that text is kept as it is. Older
kernels print only the hex, and its bits moved between versions, so a bare mask is decoded with the layout of the
only two eras that print one: 3.x (``__GFP_WAIT`` is 0x10) and 4.0-4.5 (``__GFP_DIRECT_RECLAIM`` 0x400000 and
``__GFP_KSWAPD_RECLAIM`` 0x2000000, which every reclaiming or atomic mask of that era carries). The names are a
deduction, so the converter marks the field inferred.
"""

from __future__ import annotations

import re

# (name, value) in gfp.h order; the composite masks first, largest first, as %pGg prints them.
_V3_FLAGS = (("__GFP_DMA", 0x01), ("__GFP_HIGHMEM", 0x02), ("__GFP_DMA32", 0x04), ("__GFP_MOVABLE", 0x08),
             ("__GFP_WAIT", 0x10), ("__GFP_HIGH", 0x20), ("__GFP_IO", 0x40), ("__GFP_FS", 0x80),
             ("__GFP_COLD", 0x100), ("__GFP_NOWARN", 0x200), ("__GFP_REPEAT", 0x400), ("__GFP_NOFAIL", 0x800),
             ("__GFP_NORETRY", 0x1000), ("__GFP_MEMALLOC", 0x2000), ("__GFP_COMP", 0x4000), ("__GFP_ZERO", 0x8000),
             ("__GFP_NOMEMALLOC", 0x10000), ("__GFP_HARDWALL", 0x20000), ("__GFP_THISNODE", 0x40000),
             ("__GFP_RECLAIMABLE", 0x80000), ("__GFP_KMEMCG", 0x100000), ("__GFP_NOTRACK", 0x200000),
             ("__GFP_NO_KSWAPD", 0x400000), ("__GFP_OTHER_NODE", 0x800000), ("__GFP_WRITE", 0x1000000))
_V3_MASKS = (("GFP_TRANSHUGE", 0x4352DA), ("GFP_HIGHUSER_MOVABLE", 0x200DA), ("GFP_HIGHUSER", 0x200D2),
             ("GFP_USER", 0x200D0), ("GFP_KERNEL", 0xD0), ("GFP_NOFS", 0x50), ("GFP_ATOMIC", 0x20),
             ("GFP_NOIO", 0x10))
_V4_FLAGS = (("__GFP_DMA", 0x01), ("__GFP_HIGHMEM", 0x02), ("__GFP_DMA32", 0x04), ("__GFP_MOVABLE", 0x08),
             ("__GFP_RECLAIMABLE", 0x10), ("__GFP_HIGH", 0x20), ("__GFP_IO", 0x40), ("__GFP_FS", 0x80),
             ("__GFP_COLD", 0x100), ("__GFP_NOWARN", 0x200), ("__GFP_REPEAT", 0x400), ("__GFP_NOFAIL", 0x800),
             ("__GFP_NORETRY", 0x1000), ("__GFP_MEMALLOC", 0x2000), ("__GFP_COMP", 0x4000), ("__GFP_ZERO", 0x8000),
             ("__GFP_NOMEMALLOC", 0x10000), ("__GFP_HARDWALL", 0x20000), ("__GFP_THISNODE", 0x40000),
             ("__GFP_ATOMIC", 0x80000), ("__GFP_ACCOUNT", 0x100000), ("__GFP_NOTRACK", 0x200000),
             ("__GFP_DIRECT_RECLAIM", 0x400000), ("__GFP_OTHER_NODE", 0x800000), ("__GFP_WRITE", 0x1000000),
             ("__GFP_KSWAPD_RECLAIM", 0x2000000))
_V4_MASKS = (("GFP_TRANSHUGE", 0x4352CA), ("GFP_HIGHUSER_MOVABLE", 0x24200CA), ("GFP_HIGHUSER", 0x24200C2),
             ("GFP_USER", 0x24200C0), ("GFP_KERNEL", 0x24000C0), ("GFP_NOFS", 0x2400040), ("GFP_NOIO", 0x2400000),
             ("GFP_ATOMIC", 0x2080020), ("GFP_NOWAIT", 0x2000000))
_KSWAPD_V4 = 0x2000000

_BARE = re.compile(r"0x[0-9a-fA-F]+")


def names(mask: int) -> str:
    """``0x201da`` → ``GFP_HIGHUSER_MOVABLE|__GFP_COLD`` in the layout of the era that prints bare masks; bits no
    flag explains stay as hex, as the kernel's own ``%pGg`` does."""
    flags, masks = (_V4_FLAGS, _V4_MASKS) if mask & _KSWAPD_V4 else (_V3_FLAGS, _V3_MASKS)
    parts, left = [], mask
    for name, value in (*masks, *flags):  # format_flags' order: composite masks first, then single flags
        if left & value == value:
            parts.append(name)
            left &= ~value
    if left:
        parts.append(hex(left))
    return "|".join(parts) or "0"


def decode(text: str | None) -> tuple[str | None, bool]:
    """The gfp text to store, and whether its names were deduced: ``0xd0`` → ``("0xd0(GFP_KERNEL)", True)``;
    text that carries the kernel's own names, or that is not a mask, is returned as it is."""
    if text is None or not _BARE.fullmatch(text):
        return text, False
    return f"{text}({names(int(text, 16))})", True
