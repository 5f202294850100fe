"""Converted traces kept by the content of their input, so ``oomreplay replay dmesg.txt`` converts a log once.

The key is the input's bytes and the converter's own code: a new oomreplay (or an edited converter, during
development) converts again rather than showing a trace an older converter made. Entries are written by
``convert``, which writes to a temporary name and renames, so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

from ..store import FORMAT_VERSION

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/oomreplay`` (``~/.cache/oomreplay`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "oomreplay"


@cache
def converter_fingerprint() -> str:
    """A hash of the code that turns inputs into traces: the converters and the store's writer."""
    root = Path(__file__).parents[1]  # the package: ingest/ is one of the folders hashed
    h = hashlib.sha256(f"format {FORMAT_VERSION}".encode())
    for source in sorted([*root.glob("ingest/*.py"), *root.glob("model/*.py"), *root.glob("store/*.py")]):
        h.update(source.name.encode())
        h.update(source.read_bytes())
    return h.hexdigest()[:16]


def content_key(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return f"{h.hexdigest()[:32]}-{converter_fingerprint()}"


def cached_trace(path: Path, convert: Callable[[Path, Path], object]) -> tuple[Path, bool]:
    """The trace converted from ``path``, and whether it was converted now (False: found in the cache)."""
    directory = cache_dir()
    target = directory / f"{content_key(path)}.oomtrace"
    if target.is_file():
        return target, False
    directory.mkdir(parents=True, exist_ok=True)
    convert(path, target)
    return target, True
