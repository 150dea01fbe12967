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
from ..edges import mounts, platforms

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


class PollingWatcher:
    """macOS and Windows fallback: compare the mounted volumes every `interval` seconds."""

    def __init__(self, interval: float = 2.0, keys: Callable[[], frozenset[mounts.Key]] = mounts.keys) -> None:
        self._interval = interval
        self._keys = keys
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    def start(self, on_change: Callable[[], None]) -> None:
        self._thread = threading.Thread(target=self._loop, args=(on_change,), name="mount poller", daemon=True)
        self._thread.start()

    def _loop(self, on_change: Callable[[], None]) -> None:
        last = self._read()
        while not self._stop.wait(self._interval):
            now = self._read()
            if now is None or now == last:
                continue
            last = now  # after a list that could not be read, the next one counts as a change
            try:
                on_change()
            except Exception:
                log.exception("mount change handler failed")

    def _read(self) -> frozenset[mounts.Key] | None:
        """The mount list, or None when it cannot be read this time: one failure (psutil, a
        volume that does not answer) must not end drive detection for the session."""
        try:
            keys = self._keys()
        except Exception:
            if not self._failing:
                log.exception("could not read the mount list; trying again every %g s", self._interval)
            self._failing = True
            return None
        if self._failing:
            log.info("the mount list can be read again")
            self._failing = False
        return keys

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 1)


def native_watcher() -> Watcher:
    if platforms.known() is Os.LINUX and os.path.exists(MOUNTINFO):
        log.info("watching mounts with poll() on %s", MOUNTINFO)
        return MountinfoWatcher()
    log.info("watching mounts by polling the mount list every 2 s")
    return PollingWatcher()


FILE_EVENTS = frozenset({"modified", "created", "moved", "deleted", "closed"})  # "closed": after a write


class FileWatcher:
    """Watch files (and folders of files) that may not exist yet, with watchdog on the nearest
    folder that does: a first uv.toml, or a ~/.config/uv made later, is seen when it is made.
    No polling: inotify, FSEvents or ReadDirectoryChangesW wake it. Only the person's own
    folders are watched, never a drive's (a watch must never keep a drive busy)."""

    def __init__(self, targets: Callable[[], Iterable[str]], on_change: Callable[[str], None]) -> None:
        self._targets = targets
        self._on_change = on_change
        self._observer: Any = None
        self._watches: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._wanted: tuple[str, ...] = ()

    def start(self) -> bool:
        """False when watchdog is missing: then changes are seen at the next scan only."""
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer
        except ImportError:
            log.info("watchdog is not installed: your startup files are read again at the next scan")
            return False
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                watcher._event(event)

        self._handler = Handler()
        self._observer = Observer()
        self._observer.daemon = True
        self._reschedule()
        self._observer.start()
        return True

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)

    def _reschedule(self) -> None:
        """A watch on the nearest existing folder of each target (re-made as folders appear)."""
        with self._lock:
            self._wanted = tuple(os.path.normpath(p) for p in self._targets())
            folders = {nearest_folder(p) for p in self._wanted}
            for folder in set(self._watches) - folders:
                self._observer.unschedule(self._watches.pop(folder))
            for folder in folders - set(self._watches):
                try:
                    self._watches[folder] = self._observer.schedule(self._handler, folder, recursive=False)
                except OSError as exc:  # a folder that went away meanwhile, or a watch limit
                    log.info("cannot watch %s: %s", folder, exc)

    def _event(self, event: Any) -> None:
        if event.event_type not in FILE_EVENTS:
            return
        touched = {os.path.normpath(str(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
        hit = [t for t in self._wanted if t in touched or any(os.path.dirname(p) == t for p in touched)]
        above = [t for t in self._wanted if any(t.startswith(p + os.sep) for p in touched)]
        if above or event.is_directory:  # a folder on the way appeared or went: watch closer (or farther)
            self._reschedule()
        for target in dict.fromkeys(hit + above):
            try:
                self._on_change(target)
            except Exception:  # a failing handler must not stop the watching
                log.exception("file change handler failed")


def nearest_folder(path: str) -> str:
    """The folder to watch for `path`: itself when it is a folder, else its nearest existing parent."""
    if os.path.isdir(path):
        return path
    parent = os.path.dirname(path)
    while parent and not os.path.isdir(parent):
        above = os.path.dirname(parent)
        if above == parent:
            break
        parent = above
    return parent or os.sep


class RegistryWatcher:
    """Windows: HKCU\\Environment watched for changes (app/_registry_watch_windows.py); a
    no-op elsewhere, where the startup files are what FileWatcher watches."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._inner: Any = None

    def start(self) -> None:
        if platforms.known() is not Os.WINDOWS:
            return
        from ._registry_watch_windows import KeyWatcher

        self._inner = KeyWatcher(self._on_change)
        self._inner.start()

    def stop(self) -> None:
        if self._inner is not None:
            self._inner.stop()
