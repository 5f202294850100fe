"""The layers of DESIGN.md ("Package layout"), read from the source: every module of the package, every import in
it (lazy ones inside functions too), no cycle, nothing imported upwards, and the data layers free of Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import oomreplay

ROOT = Path(oomreplay.__file__).parent

#: what each layer may import besides itself: the layers below it, never one above
ALLOWED: dict[str, set[str]] = {
    "_util": set(),
    "_native": set(),
    "model": {"_native", "_util"},
    "store": {"_native", "_util", "model"},
    "ingest": {"_native", "_util", "model", "store"},
    "record": {"_util", "model", "store", "ingest"},
    "analysis": {"_util", "model", "store"},
    "review": {"_util", "model", "store"},
    "explore": {"_util", "model", "store", "ingest", "analysis"},
    "session": {"_util", "model", "store", "analysis", "review"},
    "export": {"_util", "model", "store", "analysis", "review"},
    # a fleet's logs as tables: files read as ingest reads them, folded through the model, the reaper's locks as
    # the analysis reads them
    "fleet": {"_util", "model", "ingest", "analysis"},
    "tui": {"_util", "model", "store", "analysis", "review", "session", "export"},
    "cli": {"_util", "model", "store", "ingest", "record", "analysis", "explore", "review", "session", "export",
            "fleet", "tui"},
    # the package's face: the public API of the layers it re-exports
    "": {"model", "store"},
    "__main__": {"cli"},
}
#: the layers a script or the CLI loads without the TUI's libraries
TEXTUAL_FREE = ("model", "store", "ingest", "analysis", "explore", "review", "session", "export", "fleet")
UI_LIBRARIES = ("textual", "rich", "typer")


def module_name(path: Path) -> str:
    parts = ("oomreplay",) + path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module ``path`` imports, relative imports resolved; ``from pkg import name`` is an import of the
    submodule ``pkg.name`` when ``known`` has one by that name, else of ``pkg`` itself."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            out.update(submodules)
            if len(submodules) < len(node.names):  # a name defined in the module itself
                out.add(module)
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the package's modules it imports."""
    # the native core is a compiled module: its stubs stand for it
    modules = {module_name(p): p for p in [*root.rglob("*.py"), *root.rglob("*.pyi")]}
    known = set(modules)
    return {name: {m for m in imports_of(path, known) if m in known and m != name} for name, path in modules.items()}


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {n}" for m, names in graph.items() for n in names
                  if layer_of(n) != layer_of(m) and layer_of(n) not in ALLOWED.get(layer_of(m), set()))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively).

    A package's ``__init__`` importing its own submodules is not a cycle worth reporting when the submodules
    do not import it back, which is the only way an edge into ``__init__`` arises; those edges are kept."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_layer_is_known():
    assert {layer_of(m) for m in import_graph()} <= set(ALLOWED)


def test_relative_imports_resolve():
    """``from ..model import Event`` in ingest is an edge to the model: the graph is not empty by mistake."""
    graph = import_graph()
    assert "oomreplay.model" in graph["oomreplay.ingest.convert"]
    assert "oomreplay.store" in graph["oomreplay.ingest.convert"]


def test_no_import_runs_upwards():
    assert upward_imports(import_graph()) == []


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_checks_see_an_upward_import_and_a_cycle():
    """The test above would fail on the mistakes it is there for: ``import oomreplay.tui`` added to analysis,
    and two modules importing each other."""
    graph = import_graph()
    victim = next(m for m in graph if layer_of(m) == "analysis")
    graph[victim] = graph[victim] | {"oomreplay.tui"}
    assert upward_imports(graph) == [f"{victim} imports oomreplay.tui"]
    graph["oomreplay.tui"] = graph.get("oomreplay.tui", set()) | {victim}
    assert any(victim in c and "oomreplay.tui" in c for c in cycles(graph))


@pytest.mark.parametrize("layer", TEXTUAL_FREE)
def test_data_layers_import_without_textual(layer):
    modules = sorted(m for m in import_graph() if layer_of(m) == layer)
    code = (f"import sys, importlib; [importlib.import_module(m) for m in {modules!r}]; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(UI_LIBRARIES)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
