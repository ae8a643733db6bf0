"""``tools/gitops`` has no import cycle, counting every import: at module level, inside
functions, under ``if TYPE_CHECKING:``, and ``importlib.import_module`` of a module named in the
same file. An import inside a function that hides a cycle is a cycle here.

The CLI may import lazily for start-up time; those imports are edges like any other, and the
CLI sits on top, so they close no cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO_ROOT

SOURCE = REPO_ROOT / "tools" / "gitops"


def module_name(path: Path, source: Path = SOURCE) -> str:
    parts = list(path.relative_to(source.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(tree: ast.AST, modules: set[str], package: str) -> Iterator[str]:
    """Every gitops module ``tree`` imports, wherever the import statement is."""
    dynamic = any(
        isinstance(node, ast.Attribute) and node.attr == "import_module" for node in ast.walk(tree)
    )
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # ``from gitops.policy import scaling`` imports the submodule too.
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif dynamic and isinstance(node, ast.Constant) and node.value in modules:
            yield str(node.value)


def import_graph(source: Path = SOURCE) -> dict[str, set[str]]:
    paths = {module_name(p, source): p for p in sorted(source.rglob("*.py"))}
    modules = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for imported in _imported(tree, modules, package):
            # ``import gitops.a.b`` also runs gitops.a's __init__: the nearest known module.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One sorted cycle per strongly connected component of more than one module."""
    components = [sorted(c) for c in _components(graph) if len(c) > 1]
    return sorted(components)


def _components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            cut = stack.index(node)
            components.append(stack[cut:])
            del stack[cut:]

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_walker_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    package = tmp_path / "gitops"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from gitops.b import thing\n")
    (package / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from gitops.c import other\n"
        "def thing():\n    from gitops.a import x\n"
    )
    (package / "c.py").write_text(
        "import importlib\nPLUGINS = ('gitops.a',)\n"
        "def load():\n    for m in PLUGINS:\n        importlib.import_module(m)\n"
    )
    graph = import_graph(package)
    assert graph["gitops.b"] == {"gitops.a", "gitops.c"}
    assert graph["gitops.c"] == {"gitops.a"}
    # a -> b (module level), b -> a (in a function), b -> c (types only), c -> a (dynamic)
    assert find_cycles(graph) == [["gitops.a", "gitops.b", "gitops.c"]]


def test_tools_gitops_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles (every import counted, in functions too):\n  " + "\n  ".join(
        " <-> ".join(cycle) for cycle in cycles
    )
