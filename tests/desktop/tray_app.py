"""Run the real Tray with a recording Controller, for tests/desktop/test_tray.py.

Usage: python tray_app.py RECORD_FILE [BACKEND] [--rescan-soon]

Every controller call is appended to RECORD_FILE as one JSON line, with whether it ran on the main
thread. `rescan` answers like the daemon would: a worker thread hands the tray a new view (no
problems, an undoable fix, autostart on); `quit` stops the tray. With --rescan-soon that worker
also runs half a second after setup, for backends without a menu.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from pathlib import Path

from uv_drive_guard.app.actions import DriveReport, State
from uv_drive_guard.app.control import TrayView
from uv_drive_guard.app.tray import Tray
from uv_drive_guard.core.model import Change, ChangeKind, Finding, Fix, Severity, UserEnvironment

KEY = "uuid:1234-ABCD"
FIX_ID = "move-cache-home"
FIX_TITLE = "Move uv's cache to your home"
AFTER_TOOLTIP = "uv-drive-guard: rescanned from a worker thread"


def first_view() -> TrayView:
    fix = Fix(
        FIX_ID,
        FIX_TITLE,
        "Set UV_CACHE_DIR to a directory on your home drive.",
        (Change(ChangeKind.SET_ENV, UserEnvironment(), "UV_CACHE_DIR", "~/.cache/uv", summary="set UV_CACHE_DIR"),),
        recommended=True,
    )
    finding = Finding(
        code="UVD101",
        severity=Severity.ERROR,
        title="uv's cache cannot hard-link on exFAT",
        detail="exFAT has no hard links.",
        uv_message="error: failed to hardlink file",
        location=None,
        volume="/media/STICK",
        fixes=(fix,),
    )
    report = DriveReport(KEY, "/media/STICK", "STICK (exFAT)", (finding,))
    return TrayView(State.ERROR, "uv-drive-guard: 1 problem(s) for uv on STICK (exFAT)", (report,), autostart=False)


def after_view() -> TrayView:
    return TrayView(State.OK, AFTER_TOOLTIP, (), paused_until=float("inf"), autostart=True, last_fix=FIX_TITLE)


class Recorder:
    """A Controller that writes down what the menu asked for."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tray: Tray | None = None

    def _record(self, call: str, *args: object) -> None:
        line = {"call": call, "args": list(args), "main": threading.current_thread() is threading.main_thread()}
        with self.path.open("a") as out:
            out.write(json.dumps(line) + "\n")

    def apply_fix(self, fix_id: str, volume_key: str) -> None:
        self._record("apply_fix", fix_id, volume_key)

    def show_details(self, volume_key: str, code: str | None) -> None:
        self._record("show_details", volume_key, code)

    def undo_last(self) -> None:
        self._record("undo_last")

    def rescan(self) -> None:
        self._record("rescan")
        threading.Thread(target=self._rescanned, name="worker").start()

    def _rescanned(self) -> None:
        assert self.tray is not None
        self.tray.update(after_view())
        self._record("updated-from-worker", threading.current_thread().name)

    def pause(self, seconds: float | None) -> None:
        self._record("pause", seconds)

    def ignore_drive(self, volume_key: str) -> None:
        self._record("ignore_drive", volume_key)

    def set_quiet(self, volume_key: str, quiet: bool) -> None:
        self._record("set_quiet", volume_key, quiet)

    def mute(self, volume_key: str, code: str) -> None:
        self._record("mute", volume_key, code)

    def set_autostart(self, enabled: bool) -> None:
        self._record("set_autostart", enabled)

    def open_log(self) -> None:
        self._record("open_log")
        raise RuntimeError("open_log fails on purpose: the tray must log it and live on")

    def open_settings(self) -> None:
        self._record("open_settings")

    def quit(self) -> None:
        self._record("quit")
        assert self.tray is not None
        self.tray.stop()


def main() -> None:
    logging.basicConfig(
        level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(threadName)s %(name)s: %(message)s"
    )
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    recorder = Recorder(Path(args[0]))
    tray = Tray(recorder, backend=args[1] if len(args) > 1 else None)
    recorder.tray = tray
    print(f"backend={tray.backend_name}", flush=True)
    tray.update(first_view())

    def setup() -> None:
        print("ready", flush=True)
        if "--rescan-soon" in sys.argv:
            threading.Timer(0.5, recorder._rescanned).start()

    tray.run(setup)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
