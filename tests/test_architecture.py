"""The shape of the house, held by reading the package's source (ast), not by running it: small
files and functions, imports that run one way, and the pure core free of I/O."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bot"
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# Which parts may not import which (prefixes of module names).
FORBIDDEN = {
    "bot.core": ("bot.store", "bot.slack", "bot.feed", "bot.api", "bot.commands", "bot.runtime"),
    "bot.store": ("bot.slack", "bot.commands", "bot.api", "bot.feed", "bot.runtime"),
    "bot.commands": ("bot.slack", "bot.runtime", "bot.api", "bot.feed"),
    "bot.api": ("bot.runtime", "bot.feed", "bot.slack", "bot.commands"),
    "bot.feed": ("bot.store", "bot.slack", "bot.commands", "bot.api", "bot.runtime"),
    "bot.slack": ("bot.runtime", "bot.api", "bot.feed"),
}
# The core decides; it does no I/O and waits on nothing.
CORE_MAY_NOT_USE = ("asyncio", "aiosqlite", "sqlite3", "aiohttp", "slack_sdk", "slack_bolt")


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_name(path): path for path in PACKAGE.rglob("*.py")}


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(_modules()[name].read_text(encoding="utf-8"))


def _imports(name: str) -> set[str]:
    """Every module `name` imports, anywhere in the file (type-checking imports included):
    `from bot.x import y` names bot.x.y when y is a module, else bot.x."""
    modules, found = _modules(), set()
    package = name if _modules()[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(name) if m in modules} for name in modules}


def _part(name: str) -> str:
    """The folder a module belongs to (bot.core.alerting.stock is in bot.core); a module at
    the top of the package is a part of its own."""
    return ".".join(name.split(".")[:2])


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, if it has any."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_file_is_over_400_lines():
    long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert long == {}


def test_no_function_is_over_80_lines():
    long = {
        f"{name}.{node.name}": node.end_lineno - node.lineno + 1
        for name in _modules()
        for node in ast.walk(_tree(name))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    }
    assert long == {}


def test_no_two_files_import_each_other_even_through_others():
    assert _cycle(_graph()) is None


def test_no_two_folders_import_each_other_even_through_others():
    parts: dict[str, set[str]] = {}
    for name, imported in _graph().items():
        parts.setdefault(_part(name), set()).update(
            _part(m) for m in imported if _part(m) != _part(name)
        )
    assert _cycle(parts) is None


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_imports_run_one_way(part):
    wrong = {
        name: sorted(m for m in imported if m.startswith(FORBIDDEN[part]))
        for name, imported in _graph().items()
        if name == part or name.startswith(part + ".")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_core_does_no_io():
    used = {
        name: sorted(m for m in _imports(name) if m.split(".")[0] in CORE_MAY_NOT_USE)
        for name in _modules()
        if name.startswith("bot.core")
    }
    assert {name: found for name, found in used.items() if found} == {}


def test_the_checks_can_fail():
    # Each check finds what it looks for, on a graph or a file made to have it.
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    assert "bot.store.codec" in _imports("bot.store.processor")
    assert "bot.core.alerting.engine" in _imports("bot.store.processor")
