"""Bare hex gfp masks (kernels before 4.6 print no names) decoded in the layout of their era, marked inferred (the
table itself is tested in native/core/src/klog/gfp.rs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from oomreplay import open_trace
from oomreplay.ingest import convert


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
