"""Start at login, one small interface over each system's own switch (psutil-style facade).

Linux: an XDG autostart entry (or a systemd user unit), macOS: a LaunchAgent, Windows: the
HKCU Run key. The per-OS code lives in `_linux`, `_macos` and `_windows` beside this module;
what they share lives in `_common`, which they import instead of this module.
"""

from __future__ import annotations

from typing import Protocol

from ...core.model import Os
from ...edges import platforms
from ._common import (
    DISABLED,
    DISABLED_BY_SYSTEM,
    ENABLED,
    STATES,
    UNKNOWN,
    WRITTEN,
    State,
    StatusFromState,
    as_status,
    command,
    home_relative,
)

__all__ = [
    "DISABLED",
    "DISABLED_BY_SYSTEM",
    "ENABLED",
    "STATES",
    "UNKNOWN",
    "WRITTEN",
    "Autostart",
    "State",
    "StatusFromState",
    "as_status",
    "command",
    "enable_systemd",
    "home_relative",
    "native",
    "status_lines",
]


class Autostart(Protocol):
    """What the tray and `uv-drive-guard autostart` need; enable/disable say what they did."""

    def state(self) -> State: ...

    def status(self) -> bool | None: ...

    def enable(self) -> str: ...

    def disable(self) -> str: ...

    def describe(self) -> str: ...


def native(platform: str | None = None) -> Autostart | None:
    """This system's implementation; None where there is none (the tray greys the item out)."""
    os_ = platforms.known(platform)
    if os_ is Os.LINUX:
        from ._linux import LinuxAutostart

        return LinuxAutostart()
    if os_ is Os.MACOS:
        from ._macos import MacAutostart

        return MacAutostart()
    if os_ is Os.WINDOWS:
        from ._windows import WindowsAutostart

        return WindowsAutostart()
    return None


def enable_systemd(autostart: Autostart) -> str | None:
    """`autostart enable --systemd`: a systemd user unit instead of the XDG entry; None off Linux."""
    from ._linux import LinuxAutostart

    return autostart.enable(systemd=True) if isinstance(autostart, LinuxAutostart) else None


def status_lines(autostart: Autostart, running: int | None) -> tuple[str, str]:
    """`uv-drive-guard autostart status`: what is written and whether it starts at login, then
    whether the daemon runs now (`running`: its process id)."""
    state = autostart.state()
    where = autostart.describe()
    login = {
        ENABLED: f"enabled ({where})",
        DISABLED_BY_SYSTEM: f"written, but switched off in the system's own settings ({where})",
        WRITTEN: f"written, not enabled yet ({where})",
        DISABLED: "disabled (nothing is written)",
    }.get(state, f"unknown ({where})")
    now = f"yes (process {running})" if running else "no"
    return f"start at login: {login}", f"running now: {now}"
