"""The one platform selector, and the facades that pick their per-OS module by it."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

from uv_drive_guard.app import autostart, trayhost, watch
from uv_drive_guard.core.model import Os
from uv_drive_guard.edges import platforms, volumes
from uv_drive_guard.edges import probe as probing
from uv_drive_guard.edges.probe import _windows as windows_probe
from uv_drive_guard.edges.volumes import _linux, _macos, _windows


@pytest.mark.parametrize(
    ("platform", "known", "current"),
    [
        ("linux", Os.LINUX, Os.LINUX),
        ("linux2", Os.LINUX, Os.LINUX),  # Python 2's spelling, still seen in vendored code
        ("darwin", Os.MACOS, Os.MACOS),
        ("win32", Os.WINDOWS, Os.WINDOWS),
        ("freebsd14", None, Os.LINUX),  # another Unix: no modules of its own, POSIX paths
        ("cygwin", None, Os.LINUX),
    ],
)
def test_sys_platform_to_os(platform: str, known: Os | None, current: Os) -> None:
    assert platforms.known(platform) is known
    assert platforms.current(platform) is current


def test_read_at_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests set sys.platform after import; the selector must see it."""
    monkeypatch.setattr(sys, "platform", "win32")
    assert platforms.current() is Os.WINDOWS
    monkeypatch.setattr(sys, "platform", "darwin")
    assert platforms.known() is Os.MACOS


@pytest.mark.parametrize(
    ("platform", "chosen"),
    [("win32", _windows), ("darwin", _macos), ("linux", _linux), ("freebsd14", _linux)],  # another Unix: Linux's
)
def test_volumes_pick_by_the_selector(monkeypatch: pytest.MonkeyPatch, platform: str, chosen: ModuleType) -> None:
    called: list[ModuleType] = []
    for module in (_windows, _macos, _linux):
        monkeypatch.setattr(module, "list_volumes", lambda *roots, module=module: called.append(module) or [])
    monkeypatch.setattr(sys, "platform", platform)
    assert volumes.list_volumes() == []
    assert called == [chosen]


def test_another_unix_probes_as_posix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "freebsd14")
    assert probing._native_runner() is not windows_probe.run


def test_volume_serial_is_windows_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert volumes.volume_serial("/media/usb") == ""


def test_the_mount_watcher_by_the_selector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert isinstance(watch.native_watcher(), watch.PollingWatcher)
    monkeypatch.setattr(sys, "platform", "freebsd14")  # no mountinfo to poll there
    assert isinstance(watch.native_watcher(), watch.PollingWatcher)


def test_seams_take_a_platform_and_default_to_this_one() -> None:
    assert trayhost.choose(None, platform="win32", environ={}) == ("win32",)
    assert trayhost.choose(None, platform="darwin", environ={}) == ("darwin",)
    here = autostart.native()
    assert here is None if platforms.known() is None else here is not None
