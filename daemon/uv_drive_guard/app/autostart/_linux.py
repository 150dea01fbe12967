"""Start at login on Linux: an XDG autostart entry, or (on request) a systemd user unit.

The entry is `$XDG_CONFIG_HOME/autostart/uv-drive-guard.desktop` (XDG Autostart spec). Desktop
settings switch it off in that same file (KDE writes Hidden=true, GNOME Tweaks
X-GNOME-Autostart-enabled=false): that is "disabled-by-system", and `enable` writes it afresh.
Never `systemctl start` or `stop`: the daemon calling this is the one that would start or stop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ...edges import proc
from ...fixing import atomic
from ._common import (
    DISABLED,
    DISABLED_BY_SYSTEM,
    ENABLED,
    UNKNOWN,
    WRITTEN,
    State,
    StatusFromState,
    command,
    home_relative,
)

ENTRY = "uv-drive-guard.desktop"
UNIT = "uv-drive-guard.service"
TARGET = "graphical-session.target"  # started by the desktop session, with DISPLAY and the bus known
SYSTEMCTL_TIMEOUT = 10.0
_DESKTOP_RESERVED = frozenset(" \t\"'\\><~|&;$*?#()`")  # Desktop Entry spec, "The Exec key"
_SAFE = frozenset("/._-+=:,@")

# `systemctl --user ARGS...` -> its exit status, or None when there is no systemctl to ask.
Systemctl = Callable[[Sequence[str]], int | None]


def config_home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME") or str(Path.home())
    return Path(env.get("XDG_CONFIG_HOME") or Path(home, ".config"))


def _refuse_control(arg: str) -> None:
    if any(ord(c) < 0x20 or c == "\x7f" for c in arg):
        raise ValueError(f"refusing a command argument with control characters: {arg!r}")


def desktop_quote(arg: str) -> str:
    """The Exec key's quoting, then the string escaping applied before it: \\ becomes \\\\\\\\."""
    _refuse_control(arg)
    quoted = arg
    if not arg or any(c in _DESKTOP_RESERVED for c in arg):
        quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'
    return quoted.replace("%", "%%").replace("\\", "\\\\")


def desktop_entry(argv: Sequence[str]) -> str:
    exec_line = " ".join(desktop_quote(arg) for arg in argv)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=uv-drive-guard\n"
        "Comment=Warns when uv will break on a drive you plug in, and fixes it\n"
        f"Exec={exec_line}\n"
        "Icon=uv-drive-guard\n"
        "Terminal=false\n"
        "StartupNotify=false\n"
        "X-GNOME-Autostart-enabled=true\n"
    )


def entry_keys(text: str) -> dict[str, str] | None:
    """The [Desktop Entry] group's keys; None when the file has no such group."""
    keys: dict[str, str] | None = None
    group = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            if group == "Desktop Entry" and keys is None:
                keys = {}
        elif group == "Desktop Entry" and keys is not None and "=" in line:
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), value.strip())
    return keys


def entry_state(text: str) -> State:
    keys = entry_keys(text)
    if keys is None:
        return UNKNOWN
    if keys.get("Hidden", "").lower() == "true" or keys.get("X-GNOME-Autostart-enabled", "").lower() == "false":
        return DISABLED_BY_SYSTEM
    return ENABLED


def systemd_quote(arg: str) -> str:
    """ExecStart's quoting; % starts a specifier and $ a variable, so both are doubled."""
    _refuse_control(arg)
    quoted = arg
    if not arg or not all(c.isalnum() or c in _SAFE for c in arg):
        quoted = '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return quoted.replace("%", "%%").replace("$", "$$")


def systemd_unit(argv: Sequence[str]) -> str:
    """A user unit that lives and dies with the graphical session, restarted if it crashes."""
    if any(c in argv[0] for c in '"\\$'):  # systemd refuses quotes and backslashes there (systemd-analyze verify)
        raise ValueError(f"a systemd unit cannot start an executable named {argv[0]!r}")
    exec_start = " ".join(systemd_quote(arg) for arg in argv)
    return (
        "[Unit]\n"
        "Description=uv-drive-guard: warns when uv will break on a drive you plug in\n"
        f"PartOf={TARGET}\n"
        f"After={TARGET}\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"ExecStart={exec_start}\n"
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "\n"
        "[Install]\n"
        f"WantedBy={TARGET}\n"
    )


def run_systemctl(args: Sequence[str]) -> int | None:
    tool = shutil.which("systemctl")
    if tool is None:
        return None
    try:
        done = proc.run([tool, "--user", *args], timeout=SYSTEMCTL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.returncode


class LinuxAutostart(StatusFromState):
    """The XDG entry by default; `enable(systemd=True)` swaps it for the unit (never both: two starts)."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        argv: Callable[[], list[str]] = command,
        systemctl: Systemctl = run_systemctl,
    ) -> None:
        env = env if env is not None else os.environ
        self.home = env.get("HOME") or str(Path.home())
        self.path = config_home(env) / "autostart" / ENTRY
        self.unit_path = config_home(env) / "systemd" / "user" / UNIT
        self.wants_link = self.unit_path.parent / f"{TARGET}.wants" / UNIT  # what `systemctl --user enable` makes
        self.argv = argv
        self.systemctl = systemctl

    def state(self) -> State:
        found = (self._entry_state(), self._unit_state())
        for state in (ENABLED, DISABLED_BY_SYSTEM, WRITTEN, UNKNOWN):
            if state in found:
                return state
        return DISABLED

    def _entry_state(self) -> State:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return DISABLED
        except OSError:
            return UNKNOWN
        return entry_state(text)

    def _unit_state(self) -> State:
        if not self.unit_path.exists():
            return DISABLED
        # Written but not enabled: systemctl was missing, or someone ran `systemctl --user disable`.
        return ENABLED if os.path.lexists(self.wants_link) else WRITTEN

    def describe(self) -> str:
        places = [p for p in (self.path, self.unit_path) if p.exists()] or [self.path]
        text = " and ".join(home_relative(str(p), self.home) for p in places)
        if self._unit_state() == WRITTEN:
            text += f"; to enable it run `systemctl --user daemon-reload && systemctl --user enable {UNIT}`"
        return text

    def enable(self, *, systemd: bool = False) -> str:
        if systemd:
            return self._enable_unit()
        atomic.write_atomic(self.path, desktop_entry(self.argv()).encode("utf-8"))
        done = f"wrote {home_relative(str(self.path), self.home)}"
        if self.unit_path.exists():
            done += "; " + self._remove_unit()
        return done

    def _enable_unit(self) -> str:
        atomic.write_atomic(self.unit_path, systemd_unit(self.argv()).encode("utf-8"))
        done = f"wrote {home_relative(str(self.unit_path), self.home)}"
        if self.path.exists():
            atomic.remove(self.path)
            done += f"; removed {home_relative(str(self.path), self.home)}"
        if self.systemctl(["daemon-reload"]) == 0 and self.systemctl(["enable", UNIT]) == 0:
            return done + f"; enabled {UNIT} for {TARGET}"
        return done + f"; to start it at login run: systemctl --user daemon-reload && systemctl --user enable {UNIT}"

    def disable(self) -> str:
        done: list[str] = []
        if self.path.exists():
            atomic.remove(self.path)
            done.append(f"removed {home_relative(str(self.path), self.home)}")
        if self.unit_path.exists() or os.path.lexists(self.wants_link):
            done.append(self._remove_unit())
        return "; ".join(done) or "nothing to remove: it was not set to start at login"

    def _remove_unit(self) -> str:
        self.systemctl(["disable", UNIT])  # best effort: the link is removed below either way
        if os.path.lexists(self.wants_link):
            self.wants_link.unlink()  # the symlink itself; atomic.remove would follow it to the unit
        atomic.remove(self.unit_path)
        self.systemctl(["daemon-reload"])
        return f"removed {home_relative(str(self.unit_path), self.home)}"
