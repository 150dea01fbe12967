"""`uv-drive-guard run`: the daemon people start at login."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import config, scan
from .desktop import SingleInstance, setup_logging
from .policy import Switches

if TYPE_CHECKING:
    from .actions import Controller

log = logging.getLogger(__name__)


class Settings:
    """The product's settings, re-read when the user's file changes (checked on each scan)."""

    def __init__(self, path: Path | None) -> None:
        self.named = path is not None  # `run --config FILE`: that file must be there
        self.path = path or config.user_config_path()
        self.error: str | None = None  # why the last read of the file was not applied
        self._stamp: float | None = None
        self._options = scan.Options()
        self._notify = Switches()
        self.reload()

    def _mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def reload(self) -> None:
        try:
            settings = config.load(self.path, required=self.named)
            self._options = scan.Options.from_config(settings)
            self._notify = Switches.from_config(settings["notify"])
            self.error = None
        except config.ConfigError as exc:
            self.error = f"settings not applied: {exc}"
            log.error("%s", self.error)  # keep the last good settings
        self._stamp = self._mtime()

    def notify(self) -> Switches:
        self.options()  # reloads the file if it changed
        return self._notify

    def options(self) -> scan.Options:
        if self._mtime() != self._stamp:
            log.info("settings file changed: reloading %s", self.path)
            self.reload()
        return self._options


def keep_openssl_out() -> None:
    """The daemon talks to D-Bus and runs uv as a subprocess; it never opens a TLS
    connection. asyncio imports ssl only to offer TLS, and OpenSSL costs about 4 MB resident
    for the whole session, so the daemon declines it (asyncio handles a missing ssl). hashlib
    would load OpenSSL too (dbus-fast imports it for the cookie handshake's SHA-1); without
    `_hashlib` it uses CPython's own SHA and MD5 code, which is all the daemon needs."""
    for name in ("ssl", "_hashlib"):
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]


def leave_cwd() -> None:
    """A daemon started from a terminal in a drive's folder would hold that drive busy (no
    eject) for the whole session: it works from the home folder (or /) instead."""
    for place in (str(Path.home()), os.path.abspath(os.sep)):
        try:
            os.chdir(place)
            return
        except OSError:
            continue


EXIT_INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT), as a shell reports it

# The signals that ask the daemon to stop (SIGHUP where the system has it).
QUIT_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", signal.SIGTERM)})


def hold_quit_signals(held: bool) -> None:
    """The kernel may hand a process's signal to any of its threads, and CPython then runs the
    handler only when the main thread next runs Python code: a main thread asleep in a wait
    would ignore SIGTERM for an hour (seen under load). So every thread the daemon starts is
    made with the quit signals blocked, and only the main thread takes them."""
    if sys.platform != "win32":  # Windows runs Python's handlers on the main thread anyway
        signal.pthread_sigmask(signal.SIG_BLOCK if held else signal.SIG_UNBLOCK, QUIT_SIGNALS)


def run(*, headless: bool, verbose: int, settings_path: Path | None = None) -> int:
    keep_openssl_out()
    hold_quit_signals(True)  # until the daemon's threads are started: they inherit the mask
    setup_logging(verbose)
    settings_path = settings_path.absolute() if settings_path is not None else None
    leave_cwd()
    instance = SingleInstance()
    if not instance.acquire():
        _tell("uv-drive-guard is already running for this user.")
        return 0
    try:
        settings = Settings(settings_path)
        if settings.error and not verbose:  # with -v the log line is on the console already
            _tell(f"uv-drive-guard: {settings.error}; running with the defaults", sys.stderr)
        return _run(headless=headless, settings=settings)
    finally:
        instance.release()


def _run(*, headless: bool, settings: Settings) -> int:
    from .autostart import native as native_autostart
    from .control import TrayView
    from .icons import app_icon_path
    from .notify import Notifier
    from .service import Service
    from .watch import native_watcher

    done = threading.Event()
    tray: Any = None
    interrupted: list[bool] = []

    def publish(view: TrayView) -> None:
        if tray is not None:
            tray.update(view)

    def quit_all() -> None:
        done.set()
        if tray is not None:
            tray.stop()

    def on_signal(signum: int, _frame: object) -> None:
        if signum == signal.SIGINT:
            interrupted.append(True)
        quit_all()

    notifier = Notifier(icon=_existing(app_icon_path))
    service = Service(
        env=dict(os.environ),
        options=settings.options,
        notifier=notifier,
        watcher=native_watcher(),
        publish=publish,
        autostart=native_autostart(),
        on_quit=quit_all,
        switches=settings.notify,
    )
    tray = None if headless else _make_tray(service.controller)
    notifier.menu = tray is not None and tray.has_menu  # else each notice names the command for its fix
    for signum in QUIT_SIGNALS:
        signal.signal(signum, on_signal)
    if tray is not None and tray.backend_name == "darwin":
        from ._macos_app import integrate

        integrate(quit_all)  # no Dock icon; SIGTERM through AppKit's run loop
    service.start()
    observer = watch_files(settings.path, service)
    from ._session_windows import SessionWatcher

    session = SessionWatcher(quit_all)  # Windows log-off; signals cover the other systems
    session.start()
    hold_quit_signals(False)  # the main thread alone takes them; one that came meanwhile is handled now
    shown = f"tray: {tray.backend_name}" if tray is not None else "headless" if headless else "no tray"
    log.info("uv-drive-guard is running (%s)", shown)
    try:
        if tray is not None:
            tray.run()
        else:
            while not done.wait(3600):
                pass
    finally:
        session.stop()
        observer.stop()
        service.stop()
        session.finished()  # a log-off waits for this before it is answered
    log.info("uv-drive-guard stopped%s", " (interrupted)" if interrupted else "")
    return EXIT_INTERRUPTED if interrupted else 0


def watch_files(settings_path: Path, service: Any) -> Any:
    """Re-read the product's settings as soon as their file changes, and scan again as soon as a
    startup file, a uv.toml or a store a new terminal reads changes (editors replace files:
    moves count). Watched, never polled; on Windows the registry key is watched too."""
    from .watch import FileWatcher, RegistryWatcher

    def changed(path: str) -> None:
        if os.path.normpath(path) == os.path.normpath(str(settings_path)):
            log.info("settings file changed")
            service.controller.rescan()
        else:
            log.info("%s changed: scanning again as a new terminal would", path)
            service.settings_changed()

    files = FileWatcher(lambda: (str(settings_path), *service.watched()), changed)
    files.start()
    registry = RegistryWatcher(service.settings_changed)
    registry.start()
    return _Both(files, registry)


class _Both:
    def __init__(self, *watchers: Any) -> None:
        self._watchers = watchers

    def stop(self) -> None:
        for watcher in self._watchers:
            watcher.stop()


def _tell(text: str, stream: Any = None) -> None:
    """A line for the terminal `run` was started from; one that cannot be written (a closed pipe, a
    full disk) must not stop the daemon: the command line says so when it flushes at the end."""
    with contextlib.suppress(OSError):
        print(text, file=stream or sys.stdout)


def _existing(finder: Callable[[], Path]) -> Path | None:
    try:
        path = finder()
    except (OSError, LookupError):
        return None
    return path if path.exists() else None


def _make_tray(controller: Controller) -> Any:
    """The tray, or None (headless) when this desktop cannot show one."""
    # A tray icon never draws with OpenGL, but GTK would set it up anyway: on Mesa that maps
    # LLVM (about 45 MB resident) into the daemon for its whole session.
    os.environ.setdefault("GDK_GL", "disable")
    from .trayhost import NoTray

    try:
        from .tray import Tray

        return Tray(controller)
    except NoTray as why:  # no display, no tray host: said in one line
        log.warning("no tray icon: nothing here to show it (%s); notifications carry the fixes", why)
    except Exception:  # a tray that should have worked and did not: a bug, with its traceback
        log.exception("no tray icon: the tray failed to start; notifications carry the fixes")
    return None
