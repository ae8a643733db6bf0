"""House habits of tools/gitops that ruff cannot check: no function over 60 lines unless its
docstring says why.

The marker is the phrase ``Long because`` (or ``Long for``, as in "Long for the same reason as
build_parser") anywhere in the docstring; a long function without it is listed by file, line,
name and length. Complexity (C901, max 10) and parameter count (PLR0913, max 6) are ruff's job
(pyproject.toml)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tools" / "gitops"
MAX_LINES = 60
REASON = re.compile(r"\bLong (because|for)\b")

Function = ast.FunctionDef | ast.AsyncFunctionDef


def functions(source: str) -> list[Function]:
    """Every function and method of a module, nested ones included."""
    tree = ast.parse(source)
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def length(function: Function) -> int:
    """Lines from ``def`` to the last line of the body (decorators not counted)."""
    return (function.end_lineno or function.lineno) - function.lineno + 1


def unjustified(source: str, where: str) -> list[str]:
    """``<where>:<line> <name> (<n> lines)`` for each long function without a reason."""
    found = []
    for function in functions(source):
        if length(function) > MAX_LINES and not REASON.search(ast.get_docstring(function) or ""):
            found.append(f"{where}:{function.lineno} {function.name} ({length(function)} lines)")
    return found


def _body(lines: int, docstring: str = "") -> str:
    statements = "".join(f"    x{i} = {i}\n" for i in range(lines - 1))
    doc = f'    """{docstring}"""\n' if docstring else ""
    return f"def f():\n{doc}{statements}"


def test_the_check_counts_lines_and_reads_the_reason() -> None:
    assert length(functions(_body(60))[0]) == 60
    assert unjustified(_body(60), "m.py") == []
    assert unjustified(_body(61), "m.py") == ["m.py:1 f (61 lines)"]
    assert unjustified(_body(61, "Parse.\n\n    Long because it is a table."), "m.py") == []
    assert unjustified(_body(61, "Long for the same reason as g."), "m.py") == []
    assert unjustified(_body(61, "It is long, sorry."), "m.py") == ["m.py:1 f (62 lines)"]


def test_methods_and_nested_functions_count_too() -> None:
    nested = "class C:\n    def m(self):\n" + "".join(
        f"        y{i} = {i}\n" for i in range(MAX_LINES)
    )
    assert unjustified(nested, "c.py") == [f"c.py:2 m ({MAX_LINES + 1} lines)"]


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(PACKAGE).as_posix() for p in MODULES])
def test_no_long_function_without_a_reason(path: Path) -> None:
    where = path.relative_to(PACKAGE.parent).as_posix()
    assert unjustified(path.read_text(encoding="utf-8"), where) == []
