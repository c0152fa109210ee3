"""The ui package's shape: no import cycle inside ui/ (every import counts, also TYPE_CHECKING and
function-level ones), no ui file over 400 lines, no Qt in the core, no None-refcount patch."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parent.parent / "dlrs_desktop" / "ui"
CORE = UI.parent


def ui_imports(path: Path) -> set[str]:
    """Names of the ui modules `path` imports (anywhere in the file)."""
    out: set[str] = set()
    modules = {p.stem for p in UI.glob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["dlrs_desktop", "ui"] and len(parts) >= 3 and parts[2] in modules:
                out.add(parts[2])
    out.discard(path.stem)
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_inside_ui():
    graph = {p.stem: ui_imports(p) for p in UI.glob("*.py")}
    assert graph["mainwindow"], "the parser found the composition root's imports"
    assert find_cycle(graph) is None, f"import cycle: {' -> '.join(find_cycle(graph) or [])}"


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_ui_file_over_400_lines_and_nothing_imports_the_main_window():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in UI.glob("*.py")}
    assert max(sizes.values()) <= 400, {k: v for k, v in sizes.items() if v > 400}
    importers = [p.stem for p in UI.glob("*.py") if "mainwindow" in ui_imports(p)]
    assert importers == ["app"], importers  # components get explicit dependencies, never the window


def test_no_mixins_and_no_refcount_patch():
    for p in UI.glob("*.py"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                assert "Mixin" not in node.name, (p.name, node.name)
                assert not any("Mixin" in ast.unparse(b) for b in node.bases), (p.name, node.name)
    assert "ctypes" not in (UI / "__init__.py").read_text(encoding="utf-8")
    assert "PySide6" not in (UI / "document.py").read_text(encoding="utf-8")  # the Qt-free single truth


def test_core_never_imports_qt():
    for p in CORE.rglob("*.py"):
        if UI in p.parents:
            continue
        text = p.read_text(encoding="utf-8")
        assert "PySide6" not in text and "from dlrs_desktop.ui" not in text, p
