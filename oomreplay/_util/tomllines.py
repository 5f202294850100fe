"""Line numbers in a TOML text, for the errors ``tomllib`` cannot report: it parses, it does not check a schema,
so a notes sidecar or a scenario that is valid TOML but wrong in meaning is located here, by the headers of its
``[[table]]`` arrays and the keys written under them. Lines inside multi-line strings are skipped, so a note that
quotes ``[[mark]]`` or ``key = value`` moves no line number."""

from __future__ import annotations

import re

_HEADER = re.compile(r"\s*\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]\s*(#.*)?$")
_KEY = re.compile(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")


class TomlLines:
    """Where the i-th ``[[name]]`` table (``[[actor.step]]``: its dotted name) starts and where each key of it (or of the top level) is written."""

    def __init__(self, text: str) -> None:
        self.headers: dict[str, list[int]] = {}
        self._keys: dict[tuple[str, int] | None, dict[str, int]] = {None: {}}  # None: the top level
        table: tuple[str, int] | None = None
        inside: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if inside is not None:
                if _closes(line, inside):
                    inside = None
                continue
            m = _HEADER.match(line)
            if m:
                starts = self.headers.setdefault(m[1], [])
                table = (m[1], len(starts))
                starts.append(number)
                self._keys[table] = {}
                continue
            m = _KEY.match(line)
            if m:
                self._keys[table].setdefault(m[1].strip('"'), number)
                rest = line[m.end():].lstrip()
                for delim in ('"""', "'''"):
                    if rest.startswith(delim) and not _closes(rest[3:], delim):
                        inside = delim

    def table(self, name: str, i: int) -> int:
        """The line of the i-th ``[[name]]`` header (1 if there is none)."""
        starts = self.headers.get(name, [])
        return starts[i] if i < len(starts) else 1

    def key(self, name: str, i: int, key: str) -> int:
        """The line of ``key`` in the i-th ``[[name]]`` table (its header's line if the key is not written)."""
        return self._keys.get((name, i), {}).get(key, self.table(name, i))

    def top_key(self, key: str) -> int:
        return self._keys[None].get(key, 1)


def _closes(line: str, delim: str) -> bool:
    """Whether ``line`` (inside a multi-line string opened with ``delim``) holds the closing delimiter."""
    if delim == "'''":
        return delim in line
    return re.search(r'(?<!\\)(?:\\\\)*"""', line) is not None
