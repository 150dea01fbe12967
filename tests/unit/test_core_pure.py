"""The core decides and never touches the machine: its imports and calls say so."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "daemon" / "uv_drive_guard" / "core"
MODULES = sorted(CORE.rglob("*.py"))
ALLOWED = frozenset(
    {
        "__future__",
        "dataclasses",
        "enum",
        "typing",
        "collections.abc",
        "re",
        "textwrap",
        "hashlib",
        "zlib",
        "ntpath",
        "posixpath",
        "types",
        "functools",
        "itertools",
    }
)


def _dotted(path: Path) -> str:
    """`rules.cache` for core/rules/cache.py, `rules` for core/rules/__init__.py."""
    parts = path.relative_to(CORE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> tuple[str, ...]:
    """The package a module's relative imports start from, inside core."""
    return path.relative_to(CORE).parent.parts


CORE_MODULES = frozenset(_dotted(path) for path in MODULES) - {""}
IDS = [str(path.relative_to(CORE)) for path in MODULES]
FORBIDDEN_NAMES = frozenset({"open", "subprocess", "platform", "environ", "getenv"})
FORBIDDEN_ATTRIBUTES = {("os", "environ"), ("os", "getenv"), ("sys", "platform"), ("sys", "argv")}


def _imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, module) for every import; relative imports as `.name`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                names = [node.module] if node.module else [a.name for a in node.names]
                found += [(node.lineno, "." * node.level + name) for name in names]
            else:
                found.append((node.lineno, node.module or ""))
    return found


def _allowed(module: str, package: tuple[str, ...] = ()) -> bool:
    if module.startswith("."):
        # `from . import x`, `from .x import y`, `from ..x import y` from core/rules/: inside core only.
        up = len(module) - len(module.lstrip(".")) - 1
        if up > len(package):
            return False
        base = package[: len(package) - up]
        name = module.lstrip(".").split(".")[0]
        return ".".join((*base, name)) in CORE_MODULES
    if module.startswith("uv_drive_guard.core."):
        return module.split(".", 2)[2] in CORE_MODULES
    return module in ALLOWED


def test_core_modules_found() -> None:
    assert {"model", "diagnose", "rules", "rules.base", "resolve", "shellparse", "render"} <= CORE_MODULES


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_imports_are_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _package(path)
    bad = [f"{path.name}:{line}: import {name}" for line, name in _imports(tree) if not _allowed(name, package)]
    assert not bad, "the core may import only pure stdlib modules and itself:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", MODULES, ids=IDS)
def test_no_side_effects(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, filename=str(path))
    bad: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            bad.append(f"{path.name}:{node.lineno}: {node.id}")
        elif isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if (base, node.attr) in FORBIDDEN_ATTRIBUTES or node.attr in ("environ", "platform"):
                bad.append(f"{path.name}:{node.lineno}: {base}.{node.attr}")
            if node.attr == "open" and isinstance(node.ctx, ast.Load):
                bad.append(f"{path.name}:{node.lineno}: .open")
    # Belt and braces: the texts themselves, outside strings and comments being hard to tell
    # apart cheaply, are checked on code lines only.
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for needle in ("os.environ", "sys.platform", "subprocess", "open("):
            if needle in code and not _inside_string(tree, number):
                bad.append(f"{path.name}:{number}: {needle}")
    assert not bad, "the core must not read the machine:\n" + "\n".join(bad)


def _inside_string(tree: ast.Module, line: int) -> bool:
    """True when `line` is covered by a string constant (docstrings, messages)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end:
                return True
    return False


def test_the_checker_catches_impurity() -> None:
    """The allow-list rejects what it must (a checker that passes everything proves nothing)."""
    tree = ast.parse("import os\nimport subprocess\nfrom platform import system\nfrom ..edges import x\n")
    assert [name for _, name in _imports(tree) if not _allowed(name)] == [
        "os",
        "subprocess",
        "platform",
        "..edges",
    ]
    assert _allowed(".model") and _allowed("collections.abc") and not _allowed(".nonexistent")
    # A family module under core/rules/ reaches core by `..`, and no further.
    assert _allowed("..model", ("rules",)) and _allowed(".base", ("rules",))
    assert not _allowed("...edges", ("rules",)) and not _allowed(".model", ("rules",))
