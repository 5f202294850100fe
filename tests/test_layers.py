"""The data layer must import without Textual: scripts and the CLI stay light, and the TUI stays a thin view."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import oomreplay


def test_data_layer_imports_without_textual():
    code = ("import sys; import oomreplay, oomreplay.store, oomreplay.model, oomreplay.export.snapshot; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'typer')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _imports(package: Path) -> dict[str, set[str]]:
    """module file -> the modules it imports (relative imports resolved against the oomreplay package)."""
    out: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = (node.module or "") if node.level == 0 else \
                    ".".join(["oomreplay", package.name][: 3 - node.level] + [node.module or ""])
                names.add(base)
        out[path.name] = names
    return out


def test_layers_import_only_downwards():
    """model imports nothing of ours; store knows the model but no view or log format (DESIGN.md)."""
    root = Path(oomreplay.__file__).parent
    forbidden = {"model": ("oomreplay.store", "oomreplay.ingest", "oomreplay.tui", "oomreplay.export",
                           "oomreplay.analysis", "oomreplay.cli"),
                 "store": ("oomreplay.ingest", "oomreplay.tui", "oomreplay.export", "oomreplay.analysis",
                           "oomreplay.cli", "textual")}
    for layer, banned in forbidden.items():
        for module, names in _imports(root / layer).items():
            bad = [n for n in names if n.startswith(banned)]
            assert not bad, f"oomreplay/{layer}/{module} imports {bad}"
