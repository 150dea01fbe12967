"""`uv-drive-guard run` on a test desktop: the venv's program, its log, waiting for it, its
StatusNotifierItem in a real host, and the notifications it left with dunst."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import session
from .sni_client import Entry, SniClient

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
LOG = Path(".local/state/uv-drive-guard/log/uv-drive-guard.log")  # under the daemon's HOME
NO_GI = "PyGObject is not installed here (tests/desktop/daemons.py hides it)"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    """session.wait_for with the longer patience a whole daemon needs."""
    return session.wait_for(what, check, timeout)


def screenshot(desk: session.DunstSession, name: str) -> None:
    """Pictures for the README: taken under tmp, copied out only when UVDG_SCREENSHOTS=DIR is set."""
    if os.environ.get("UVDG_SCREENSHOTS"):
        session.keep_screenshot(desk.screenshot(desk.dir / "shots" / name), name)


def notices(desk: session.DunstSession) -> list[dict[str, Any]]:
    """Every notification so far: closing them moves them into dunst's history."""
    desk.dunstctl("close-all")
    return desk.history()


@dataclass
class Host:
    desk: session.DunstSession
    panel: session.Panel
    client: SniClient


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    bus_name: str = ""

    def text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


def without_gi(tmp: Path) -> str:
    """A directory to put first on PYTHONPATH: its `gi` cannot be imported, like a missing PyGObject."""
    hidden = tmp / "no-gi" / "gi"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text(f"raise ImportError({NO_GI!r})\n")
    return str(hidden.parent)


def registered(text: str) -> str | None:
    lines = [line for line in text.splitlines() if "registered with org.kde.StatusNotifierWatcher" in line]
    return lines[-1].split("tray icon ", 1)[1].split()[0] if lines else None


def stop(daemon: Daemon) -> None:
    if daemon.proc.poll() is None:
        daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=20) == 0


def status(host: Host, daemon: Daemon) -> str:
    return str(host.client.prop(daemon.bus_name, "Status"))


def menu(host: Host, daemon: Daemon) -> Entry:
    return host.client.menu(daemon.bus_name)[1]
