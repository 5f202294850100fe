"""Which machine a file is from: its place under the scanned directory (``--host-from path``), or the host name its
syslog or journal lines carry (``--host-from prefix``), kept to the characters a partition directory and every
engine reading one take without escaping."""

from __future__ import annotations

import os
import re

#: what the host partition's value may hold; anything else becomes ``_``
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
#: the rotation and compression suffixes of a log's name: ``web-7.log.2.gz`` is web-7's
_SUFFIX = re.compile(r"(\.(gz|xz|bz2|zst|log|txt|\d+)|[-_.]\d{8})$", re.IGNORECASE)
#: a syslog line's host: after its time (BSD ``Mon DD HH:MM:SS``, RFC 3339 / ``short-iso``), before its tag
_SYSLOG = re.compile(r"^(?:<\d+>)?(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d"
                     r"(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) (\S+) [^\s:\[]+(?:\[\d+\])?: ")
#: the journal's own field: ``journalctl -o export`` / ``-o verbose`` and ``-o json``
_JOURNAL = re.compile(r'(?:^\s*_HOSTNAME=|"_HOSTNAME"\s*:\s*")([^"\s]+)')
#: how far into a file's head a host name is looked for
HEAD_LINES = 200
UNKNOWN = "unknown"


def safe(name: str) -> str:
    """``name`` as a partition value: only letters, digits, ``.``, ``_`` and ``-``; never empty."""
    return _UNSAFE.sub("_", name).strip(".") or UNKNOWN


def from_path(path: str, root: str | None) -> str:
    """The first directory under ``root`` that holds ``path`` (``logs/web-7/kern.log`` scanned as ``logs``: web-7);
    a file at the top (or given itself) is its name without rotation and compression suffixes."""
    rel = os.path.relpath(path, root) if root is not None else os.path.basename(path)
    parts = rel.split(os.sep)
    if len(parts) > 1 and parts[0] not in (os.curdir, os.pardir):
        return safe(parts[0])
    name = parts[-1]
    while (stripped := _SUFFIX.sub("", name)) != name and stripped:
        name = stripped
    return safe(name)


def from_prefix(head: list[str]) -> str | None:
    """The host the first syslog-prefixed (or journal) line of ``head`` names, or None (a dmesg capture)."""
    for line in head[:HEAD_LINES]:
        m = _SYSLOG.match(line) or _JOURNAL.search(line)
        if m is not None:
            return safe(m.group(1))
    return None
