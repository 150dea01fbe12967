"""Notice mounts and unmounts without busy polling where the OS allows it.

Linux: the kernel flags /proc/self/mountinfo with POLLPRI when the mount table changes, so a
thread blocks in poll() and wakes only then (no timer). Elsewhere: a light psutil poll.
Callers get "something changed"; they diff the volume list themselves.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..core.model import Os
from ..edges import platforms

log = logging.getLogger(__name__)
MOUNTINFO = "/proc/self/mountinfo"


class Watcher(Protocol):
    def start(self, on_change: Callable[[], None]) -> None: ...

    def stop(self) -> None: ...


class MountinfoWatcher:
    """poll(2) on mountinfo: zero wakeups while nothing is mounted or unmounted."""

    def __init__(self, path: str = MOUNTINFO) -> None:
        self._path = path
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None

    def start(self, on_change: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._loop, args=(on_change,), name="mount watcher", daemon=True)
        self._thread.start()

    def _loop(self, on_change: Callable[[], None]) -> None:
        if not sys.platform.startswith("linux"):  # a type guard (select.poll), see edges.platforms
            return
        with open(self._path, "rb") as mountinfo:
            poller = select.poll()
            poller.register(mountinfo.fileno(), select.POLLPRI | select.POLLERR)
            poller.register(self._wake_r, select.POLLIN)
            mountinfo.read()
            while True:
                events = poller.poll()
                if any(fd == self._wake_r for fd, _ in events):
                    return
                mountinfo.seek(0)
                mountinfo.read()  # re-arms the notification
                try:
                    on_change()
                except Exception:  # a failing handler must not stop the watching
                    log.exception("mount change handler failed")

    def stop(self) -> None:
        os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)


MountKey = tuple[str, str, str]  # mount point, file system, volume serial


class PollingWatcher:
    """macOS and Windows fallback: compare the mounted volumes every `interval` seconds."""

    def __init__(self, interval: float = 2.0, mounts: Callable[[], frozenset[MountKey]] | None = None) -> None:
        self._interval = interval
        self._mounts = mounts or _psutil_mounts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_change: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._loop, args=(on_change,), name="mount poller", daemon=True)
        self._thread.start()

    def _loop(self, on_change: Callable[[], None]) -> None:
        last = self._mounts()
        while not self._stop.wait(self._interval):
            now = self._mounts()
            if now != last:
                last = now
                try:
                    on_change()
                except Exception:
                    log.exception("mount change handler failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 1)


def mount_keys(partitions: Iterable[Any], serial: Callable[[str], str]) -> frozenset[MountKey]:
    """Each volume by letter, file system and serial: Windows lists a card reader's letter with
    a card or without one (psutil's fstype is "" while empty), so a card inserted, or swapped for
    another of the same kind, changes only these, never the letter list."""
    return frozenset(
        (str(p.mountpoint), str(p.fstype), serial(str(p.mountpoint)) if p.fstype else "") for p in partitions
    )


def _psutil_mounts() -> frozenset[MountKey]:
    import psutil

    from ..edges.volumes import volume_serial

    return mount_keys(psutil.disk_partitions(all=False), volume_serial)  # all=False: never waits on a share


def native_watcher() -> Watcher:
    if platforms.known() is Os.LINUX and os.path.exists(MOUNTINFO):
        log.info("watching mounts with poll() on %s", MOUNTINFO)
        return MountinfoWatcher()
    log.info("watching mounts by polling the mount list every 2 s")
    return PollingWatcher()
