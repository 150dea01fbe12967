"""The one platform selector, and the facades that pick their per-OS module by it."""

from __future__ import annotations

import sys

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
    ("platform", "expected"),
    [("win32", _windows.list_volumes), ("darwin", _macos.list_volumes), ("linux", _linux.list_volumes)],
)
def test_volumes_pick_by_the_selector(monkeypatch: pytest.MonkeyPatch, platform: str, expected: object) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert volumes._native() is expected


def test_another_unix_lists_volumes_as_linux_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "freebsd14")
    assert volumes._native() is _linux.list_volumes
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
