"""Bare hex gfp masks (kernels before 4.6 print no names) decoded in the layout of their era, marked inferred."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert
from oomreplay.ingest.gfp import decode, names


@pytest.mark.parametrize("mask, expected", [
    (0xD0, "GFP_KERNEL"),  # 3.x
    (0x201DA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),  # the real 3.x log value (kernel-formats.md §2.9)
    (0x20, "GFP_ATOMIC"),
    (0x24201CA, "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),  # 4.x: what 4.9 prints next to the same value
    (0x24000C0, "GFP_KERNEL"),
    (0x2080020, "GFP_ATOMIC"),
    (0x24040C0, "GFP_KERNEL|__GFP_COMP"),
    (0x0, "0"),
    (0x80000000, "0x80000000"),  # a bit no flag of the era explains stays hex
])
def test_names_in_the_era_layout(mask: int, expected: str):
    assert names(mask) == expected


def test_decode_keeps_the_kernels_own_names_and_marks_deductions():
    assert decode("0x14200ca(GFP_HIGHUSER_MOVABLE)") == ("0x14200ca(GFP_HIGHUSER_MOVABLE)", False)
    assert decode("0xd0") == ("0xd0(GFP_KERNEL)", True)
    assert decode(None) == (None, False)


def test_a_3x_header_and_a_stall_get_names_marked_inferred(tmp_path: Path):
    log = tmp_path / "old.log"
    log.write_text("[  100.000000] java: page allocation stalls for 10036ms, order:0, mode:0x24201ca\n"
                   "[  101.000000] a.out invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0\n")
    out = tmp_path / "old.oomtrace"
    convert([str(log)], out)
    with open_trace(out) as t:
        alloc = t.event(t.next(-1, kind="alloc"))
        invoke = t.event(t.next(-1, kind="oom_invoke"))
    assert alloc.fields["gfp"] == "0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD)" and "gfp" in alloc.inferred
    assert invoke.fields["gfp"] == "0x201da(GFP_HIGHUSER_MOVABLE|__GFP_COLD)" and "gfp" in invoke.inferred
