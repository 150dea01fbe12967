"""The Windows end-session answer, decided by a pure function the hidden window calls."""

from __future__ import annotations

import ast
import threading
import time
from pathlib import Path

import pytest

from uv_drive_guard.app import _session_windows as session


def test_log_off_is_never_blocked_and_stops_the_daemon() -> None:
    ended: list[bool] = []
    assert session.handle(session.WM_QUERYENDSESSION, 0, lambda: ended.append(True)) == 1
    assert ended == []
    assert session.handle(session.WM_ENDSESSION, 1, lambda: ended.append(True)) == 0
    assert ended == [True]


def test_a_cancelled_log_off_keeps_running() -> None:
    ended: list[bool] = []
    assert session.handle(session.WM_ENDSESSION, 0, lambda: ended.append(True)) == 0
    assert ended == []
    assert session.handle(0x0001, 0, lambda: ended.append(True)) is None  # WM_CREATE: not ours


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_the_watcher_is_inert_off_windows(platform: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Elsewhere the quit signals end the daemon: no window, no thread, and nothing it does
    ends the daemon; stop() and finished() are harmless."""
    monkeypatch.setattr("sys.platform", platform)
    ended: list[bool] = []
    watcher = session.SessionWatcher(lambda: ended.append(True))
    watcher.start()
    assert watcher._thread.ident is None, "a thread was started"
    watcher.stop()
    watcher.finished()
    assert watcher.stopped.is_set() and ended == []


def test_end_of_session_waits_for_the_clean_up() -> None:
    """Microsoft's WM_ENDSESSION: the session can end any time after the window procedure
    returns, so it returns only once the daemon has stopped."""
    stopped = threading.Event()
    order: list[str] = []

    def on_end() -> None:
        order.append("stop asked")
        threading.Timer(0.2, lambda: (order.append("stopped"), stopped.set())).start()

    assert session.handle(session.WM_ENDSESSION, 1, on_end, stopped, wait=10) == 0
    order.append("answered")
    assert order == ["stop asked", "stopped", "answered"]


def test_the_wait_is_bounded() -> None:
    started = time.monotonic()
    assert session.handle(session.WM_ENDSESSION, 1, lambda: None, threading.Event(), wait=0.2) == 0
    assert time.monotonic() - started < 2


PACKAGE = Path(__file__).resolve().parents[2] / "daemon" / "uv_drive_guard"
LOADERS = {"WinDLL", "CDLL", "OleDLL", "PyDLL"}
SHARED = {"windll", "cdll", "oledll", "pydll"}


def _cached(function: ast.FunctionDef) -> bool:
    return any(ast.unparse(d) in ("functools.cache", "cache", "functools.lru_cache") for d in function.decorator_list)


def ctypes_problems(source: str, name: str) -> list[str]:
    """ctypes.windll's function objects are shared by the whole process: setting argtypes there
    changes them for every library too. Libraries are loaded once (module level or a cached
    function), and every function called on them has its prototype declared in the module."""
    tree = ast.parse(source)
    nodes = list(ast.walk(tree))
    shared = [n for n in nodes if isinstance(n, ast.Attribute) and n.attr in SHARED]
    problems = [f"{name}:{n.lineno}: ctypes.{n.attr}" for n in shared]
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and _cached(node):
            allowed |= {id(n) for n in ast.walk(node)}
    in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)}
    for node in ast.walk(tree):
        loads = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOADERS
        if loads and id(node) in in_functions and id(node) not in allowed:
            problems.append(f"{name}:{getattr(node, 'lineno', '?')}: ctypes library loaded per call")
    declared = {k.value for d in nodes if isinstance(d, ast.Dict) for k in d.keys if isinstance(k, ast.Constant)}
    declared |= {
        t.value.attr
        for a in ast.walk(tree)
        if isinstance(a, ast.Assign)
        for t in a.targets
        if isinstance(t, ast.Attribute) and t.attr in ("argtypes", "restype") and isinstance(t.value, ast.Attribute)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if owner in ("user32", "kernel32", "_user32()", "_kernel32()") and node.func.attr not in declared:
                problems.append(f"{name}:{node.lineno}: {owner}.{node.func.attr} called without a prototype")
    return problems


def test_ctypes_prototypes_are_declared_once_and_privately() -> None:
    found = [
        problem
        for path in sorted(PACKAGE.rglob("*.py"))
        for problem in ctypes_problems(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert found == []


def test_the_ctypes_check_sees_the_old_mistakes() -> None:
    old = (
        "import ctypes\n"
        "def run():\n"
        "    user32 = ctypes.windll.user32\n"
        "    kernel32 = ctypes.WinDLL('kernel32')\n"
        "    kernel32.GetModuleHandleW(None)\n"
    )
    assert len(ctypes_problems(old, "old.py")) == 3
