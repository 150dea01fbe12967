"""No import cycles anywhere in the package, lazy imports inside functions counted.

lint-imports' acyclic_siblings contract (pyproject.toml) sees cycles between siblings; this
also sees a package's __init__ (a facade such as edges.settings) and the modules under it
importing each other. The one allowed edge is the contract's own ignore list, read from
pyproject.toml so that there is one list (lint-imports fails when a listed import is gone).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict[str, Any]:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit

    return dict(tomlkit.parse(text).unwrap())


def allowed_edges() -> set[tuple[str, str]]:
    """The acyclic contract's ignore_imports, as (importer, imported)."""
    contracts = _pyproject()["tool"]["importlinter"]["contracts"]
    (acyclic,) = [c for c in contracts if c["type"] == "acyclic_siblings"]
    pairs = (line.split("->") for line in acyclic.get("ignore_imports", ()))
    return {(a.strip(), b.strip()) for a, b in pairs}


def import_edges(graph: grimp.ImportGraph, skip: Iterable[tuple[str, str]] = ()) -> dict[str, set[str]]:
    skipped = set(skip)
    return {
        module: {t for t in graph.find_modules_directly_imported_by(module) if (module, t) not in skipped}
        for module in graph.modules
    }


def cycles(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
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


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("uv_drive_guard", cache_dir=None)


def test_the_package_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    assert cycles(import_edges(graph, allowed_edges())) == []


def test_a_facade_and_its_module_importing_each_other_lazily_is_a_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cyclepkg"
    (package / "facade").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "facade" / "__init__.py").write_text("def pick():\n    from . import _linux\n")
    (package / "facade" / "_linux.py").write_text("def back():\n    from cyclepkg.facade import pick\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclepkg", cache_dir=None)
    assert cycles(import_edges(graph)) == [["cyclepkg.facade", "cyclepkg.facade._linux"]]
