"""What the converter makes of every input of the corpus, reduced to digests a test can keep: for each input (each
log, recording and raw trace alone, and each recorded incident's log merged with its recording), the events as
``oomreplay events --format jsonl`` prints them, the source lines stored, and what the conversion reported.

The digests in ``tests/data/corpus-golden.json`` were taken before the converters' line work moved to the native
core (with the Python converters of that day) and must not change unless a rule is changed on purpose; then
rewrite them with ``python -m tests.ingest.golden`` and say in the commit which inputs changed and why.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from oomreplay.ingest import convert
from oomreplay.store import open_trace

from ..conftest import CORPUS, DATA

GOLDEN = DATA / "corpus-golden.json"


def inputs(corpus: Path) -> dict[str, list[Path]]:
    """Each conversion's name (its inputs relative to the corpus, joined by ``+``) and its inputs."""
    singles = [*sorted((corpus / "logs").glob("*.log")), *sorted((corpus / "traces-raw").glob("*.txt")),
               *sorted(p for p in (corpus / "recorded").glob("*/*.txt"))]
    out = {str(p.relative_to(corpus)): [p] for p in singles}
    for incident in sorted((corpus / "recorded").iterdir()) if (corpus / "recorded").is_dir() else []:
        pair = [incident / "dmesg.txt", incident / "ftrace.txt"]
        if all(p.is_file() for p in pair):
            out["+".join(str(p.relative_to(corpus)) for p in pair)] = pair
    return out


def digest(paths: list[Path], tmp: Path) -> dict[str, object]:
    """The events, source lines and report of converting ``paths`` together."""
    out = tmp / "golden.oomtrace"
    report = convert([str(p) for p in paths], out)
    events, sources = hashlib.sha256(), hashlib.sha256()
    kinds: Counter[str] = Counter()
    with open_trace(out) as t:
        for ev in t.events():
            events.update((json.dumps(ev.to_dict(), default=list) + "\n").encode())
            kinds[ev.kind] += 1
        for file_id, (name, lines) in enumerate(t.sources):
            sources.update(f"{Path(name).name} {lines}\n".encode())
            for line in t.source_lines(1, lines, file_id):
                sources.update((line + "\n").encode())
        meta = {k: t.meta.get(k) for k in ("kernel", "clock", "clock_offsets")}
    out.unlink()
    return {"events": events.hexdigest(), "sources": sources.hexdigest(), "kinds": dict(sorted(kinds.items())),
            "meta": json.loads(in_corpus(json.dumps(meta, default=list))),
            "warnings": [in_corpus(w) for w in report.warnings]}


def in_corpus(text: str) -> str:
    """``text`` with the corpus's own place left out, since a machine keeps the corpus where it likes."""
    return text.replace(str(CORPUS) + "/", "")


def main() -> None:
    import tempfile

    found = inputs(CORPUS)
    if not found:
        sys.exit(f"no corpus at {CORPUS}")
    with tempfile.TemporaryDirectory() as tmp:
        golden = {name: digest(paths, Path(tmp)) for name, paths in found.items()}
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"{GOLDEN}: {len(golden)} conversions")


if __name__ == "__main__":
    main()
