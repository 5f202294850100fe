"""Where the bundled incidents and themes are, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # oomreplay/, above this _util/


def bundled(kind: str) -> Path:
    """``traces`` or ``themes``: inside the wheel they sit in ``oomreplay/_bundled``; in a checkout (or an
    editable install) at the top of the repo."""
    installed = _PACKAGE / "_bundled" / kind
    return installed if installed.is_dir() else _PACKAGE.parent / kind


def demo_trace() -> Path:
    """The seed incident: the oom_reaper unable to reap an a.out victim (see traces/README.md)."""
    return bundled("traces") / "seed-006-unable-to-reap.oomtrace"
