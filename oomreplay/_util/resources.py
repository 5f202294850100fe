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


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME/oomreplay`` (``~/.local/share/oomreplay`` by default): what the user makes of the bundled
    incidents (their marks) lives here, not inside the installed package."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "oomreplay"


def is_bundled(path: Path) -> bool:
    """Whether ``path`` is one of the bundled incidents (in the wheel, or at the top of a checkout)."""
    try:
        return path.resolve().parent == bundled("traces").resolve()
    except OSError:
        return False
