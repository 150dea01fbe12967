"""The daemon scans with what a new terminal would have (scan.Session), on every system.

A process keeps the environment it was started with: a daemon started at login holds the
values of HKCU\\Environment (Windows), launchd (macOS) or environment.d (Linux) as they were.
The fakes below behave as the real stores do there: changing a store changes what a new
process gets, never the environment of a running one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from uv_drive_guard import scan
from uv_drive_guard.core.model import Os
from uv_drive_guard.edges.registry import HKCU, REG_SZ, USER_KEY
from uv_drive_guard.edges.settings import _macos, _windows

STICK_CACHE = "E:\\uv-cache"


class FakeRegistry:
    """HKCU\\Environment and the machine key, as read_key returns them."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], dict[str, tuple[object, int]]] = {(HKCU, USER_KEY): {}}

    def read_key(self, hive: str, path: str) -> dict[str, tuple[object, int]] | None:
        return dict(self.keys[(hive, path)]) if (hive, path) in self.keys else None


def test_windows_a_value_removed_from_hkcu_is_gone_for_the_next_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = FakeRegistry()
    registry.keys[(HKCU, USER_KEY)]["UV_CACHE_DIR"] = (STICK_CACHE, REG_SZ)
    real: Callable[..., object] = _windows.read_definitions
    monkeypatch.setattr(_windows, "read_definitions", partial(real, open_key=registry.read_key))
    # The daemon was started at logon: Windows gave it HKCU's value.
    started_with = {"USERPROFILE": str(tmp_path), "UV_CACHE_DIR": STICK_CACHE, "PATH": "C:\\Windows"}
    session = scan.Session.start(started_with, Os.WINDOWS)
    assert session.env(Os.WINDOWS)["UV_CACHE_DIR"] == STICK_CACHE
    del registry.keys[(HKCU, USER_KEY)]["UV_CACHE_DIR"]  # the fix: RegDeleteValue, WM_SETTINGCHANGE
    assert "UV_CACHE_DIR" not in session.env(Os.WINDOWS)
    assert started_with["UV_CACHE_DIR"] == STICK_CACHE  # the daemon's own environment is unchanged


def test_macos_launchctl_unsetenv_is_seen_by_the_next_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    launchd = {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache"}
    real: Callable[..., object] = _macos.read_definitions
    monkeypatch.setattr(_macos, "read_definitions", partial(real, getenv=launchd.get))
    started_with = {"HOME": str(tmp_path), "UV_CACHE_DIR": launchd["UV_CACHE_DIR"], "SHELL": "/bin/zsh"}
    session = scan.Session.start(started_with, Os.MACOS)
    assert session.env(Os.MACOS)["UV_CACHE_DIR"] == "/Volumes/STICK/uv-cache"
    del launchd["UV_CACHE_DIR"]  # the fix: launchctl unsetenv
    assert "UV_CACHE_DIR" not in session.env(Os.MACOS)


def test_linux_environment_d_and_a_value_set_by_hand_stay_apart(tmp_path: Path) -> None:
    """A value the startup files gave the session goes with them; one from a place the scan does
    not read (/etc/environment) stays, as a new terminal would inherit it too."""
    envd = tmp_path / ".config" / "environment.d"
    envd.mkdir(parents=True)
    conf = envd / "50-uv.conf"
    conf.write_text("UV_CACHE_DIR=/media/ana/STICK/uv-cache\n")
    started_with = {
        "HOME": str(tmp_path),
        "UV_CACHE_DIR": "/media/ana/STICK/uv-cache",
        "UV_TOOL_DIR": "/srv/tools",  # from /etc/environment: no file of the person's sets it
        "SHELL": "/bin/bash",
    }
    session = scan.Session.start(started_with, Os.LINUX)
    conf.write_text("")
    now = session.env(Os.LINUX)
    assert "UV_CACHE_DIR" not in now and now["UV_TOOL_DIR"] == "/srv/tools"
