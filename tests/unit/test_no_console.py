"""No child process of the product opens a console window on Windows.

The daemon is windowed (pythonw, or the frozen GUI exe built with console=False) and uv.exe is a
console program: a child started without CREATE_NO_WINDOW gets a new console window (Microsoft,
"Process Creation Flags"). Every child goes through edges/proc.py, which always passes the flag;
this test reads the product's source and fails when a module starts one any other way.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.edges import proc

PACKAGE = Path(__file__).resolve().parents[2] / "daemon" / "uv_drive_guard"
GATEWAY = PACKAGE / "edges" / "proc.py"
STARTERS = {
    "subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"},
    "os": {"system", "popen", "startfile", "posix_spawn", "posix_spawnp", *(f"spawn{s}" for s in
           ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")), *(f"exec{s}" for s in
           ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe"))},
    "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
}  # fmt: skip


def starts_a_process(node: ast.AST) -> str | None:
    """A call of `subprocess.run`, `os.system`..., or one of those names imported bare."""
    func = node.func if isinstance(node, ast.Call) else None
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.attr in STARTERS.get(func.value.id, ())
    ):
        return f"{func.value.id}.{func.attr}(...)"
    if isinstance(node, ast.ImportFrom) and node.module in STARTERS:
        names = [a.name for a in node.names if a.name in STARTERS[node.module]]
        return f"from {node.module} import {', '.join(names)}" if names else None
    return None


def offenders(source: str, filename: str) -> list[str]:
    tree = ast.parse(source, filename)
    return [f"{filename}:{getattr(n, 'lineno', '?')}: {what}" for n in ast.walk(tree) if (what := starts_a_process(n))]


def test_every_child_process_goes_through_proc() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != GATEWAY
        for line in offenders(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert found == [], "start children through uv_drive_guard.edges.proc (CREATE_NO_WINDOW):\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\nsubprocess.run(['uv'])\n",
        "import subprocess\nsubprocess.Popen(['uv'])\n",
        "from subprocess import check_output\n",
        "import os\nos.system('uv')\n",
        "import asyncio\nasyncio.create_subprocess_exec('uv')\n",
    ],
)
def test_the_check_sees_a_bypass(source: str) -> None:
    assert offenders(source, "new.py")


def test_the_gateway_passes_the_flag_to_every_call() -> None:
    tree = ast.parse(GATEWAY.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and starts_a_process(n)]
    assert len(calls) == 2
    for call in calls:
        flags = next(k for k in call.keywords if k.arg == "creationflags")
        assert isinstance(flags.value, ast.Call) and ast.unparse(flags.value) == "creationflags()"


def test_windows_children_get_create_no_window(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []

    def record(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs)
        return subprocess.CompletedProcess(args[0], 0, "", "")

    monkeypatch.setattr(proc, "NO_WINDOW", 0x08000000)  # CREATE_NO_WINDOW on win32
    monkeypatch.setattr(subprocess, "run", record)
    monkeypatch.setattr(subprocess, "Popen", record)
    proc.run(["uv", "--version"], text=True, timeout=5)
    proc.popen(["notepad.exe", "settings.toml"])
    assert [k["creationflags"] for k in seen] == [0x08000000, 0x08000000]
    assert all(k["stdin"] is subprocess.DEVNULL for k in seen)


def test_children_really_run() -> None:
    done = proc.run([sys.executable, "-c", "print('child')"], text=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, "child\n")
