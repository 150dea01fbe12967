"""`uv-drive-guard run` as a process in a throwaway home: where it is, where it logs, waiting on the log."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def exe() -> str:
    found = shutil.which("uv-drive-guard", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert found, "uv-drive-guard is not installed"
    return found


def log_file(home: Path) -> Path:
    return home / ".local" / "state" / "uv-drive-guard" / "log" / "uv-drive-guard.log"


def wait_for(path: Path, text: str, count: int = 1, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    content = ""
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if content.count(text) >= count:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} x{count} not in the log within {timeout} s:\n{content[-3000:]}")
