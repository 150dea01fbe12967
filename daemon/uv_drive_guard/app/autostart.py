"""Start at login: an XDG autostart entry on Linux (the other systems come with installers)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..fixing import atomic

ENTRY = "uv-drive-guard.desktop"


def _autostart_dir(env: dict[str, str] | None = None) -> Path:
    env = env if env is not None else dict(os.environ)
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home(), ".config"))
    return Path(config, "autostart")


def command() -> list[str]:
    """The installed executable, or this interpreter running the package."""
    found = shutil.which("uv-drive-guard")
    return [found, "run"] if found else [sys.executable, "-m", "uv_drive_guard", "run"]


def desktop_entry(argv: list[str]) -> str:
    exec_line = " ".join(_desktop_quote(arg) for arg in argv)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=uv-drive-guard\n"
        "Comment=Warns when uv will break on a drive you plug in, and fixes it\n"
        f"Exec={exec_line}\n"
        "Icon=uv-drive-guard\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def _desktop_quote(arg: str) -> str:
    """The Desktop Entry spec's Exec quoting: double quotes, with \\ " ` $ escaped."""
    if arg and all(c.isalnum() or c in "/._-+=:," for c in arg):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


class XdgAutostart:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.path = _autostart_dir(env) / ENTRY

    def status(self) -> bool | None:
        if not self.path.exists():
            return False
        text = self.path.read_text(encoding="utf-8", errors="replace")
        return "Hidden=true" not in text and "X-GNOME-Autostart-enabled=false" not in text

    def enable(self) -> None:
        atomic.write_atomic(self.path, desktop_entry(command()).encode())

    def disable(self) -> None:
        atomic.remove(self.path)


def native() -> XdgAutostart | None:
    if sys.platform.startswith("linux"):
        return XdgAutostart()
    return None
