"""The daemon's desktop edges: one instance per user (filelock on Windows, flock elsewhere), and an
editor for its files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from uv_drive_guard.app import desktop

TRY_LOCK = """
import sys
from pathlib import Path
from uv_drive_guard.app.desktop import SingleInstance
print(SingleInstance(Path(sys.argv[1])).acquire())
"""


def other_process_gets(path: Path) -> bool:
    done = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(path)], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip() == "True"


@pytest.mark.parametrize("platform", ["linux", "win32"])
def test_two_processes_cannot_both_hold_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """Real locks. As "win32" the first lock goes through filelock's FileLock, whose Windows class
    locks byte 0 with LockFileEx (filelock/_native/_windows.py), so what the file holds or where
    its position is cannot move the locked range as msvcrt.locking's did; here its Unix class
    takes the same flock that the other processes ask for."""
    import filelock  # noqa: F401  (picks its lock class by the real platform, before the patch)

    monkeypatch.setattr(desktop.sys, "platform", platform)
    path = tmp_path / "run" / "uv-drive-guard.lock"
    first = desktop.SingleInstance(path)
    assert first.acquire()
    path.write_bytes(b"12345")  # the old lock wrote a pid: the file grew and the range moved
    assert not other_process_gets(path)
    assert not desktop.SingleInstance(path).acquire()  # a second daemon thread or start, same process
    first.release()
    assert other_process_gets(path)
    again = desktop.SingleInstance(path)
    assert again.acquire()
    again.release()


def test_filelock_chooses_the_native_lock() -> None:
    import filelock

    expected = filelock.WindowsFileLock if sys.platform == "win32" else filelock.UnixFileLock
    assert issubclass(filelock.FileLock, expected)


def test_the_daemon_loads_filelock_only_on_windows(tmp_path: Path) -> None:
    """filelock's imports cost 2 MB resident, for the flock that POSIX systems do in one call."""
    code = TRY_LOCK + "print('filelock' in sys.modules)\n"
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "x.lock")], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["True", "False"]


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("win32", ["D:\\Win\\System32\\notepad.exe", "settings.toml"]),
        ("darwin", ["/usr/bin/open", "-t", "settings.toml"]),
        ("linux", ["xdg-open", "settings.toml"]),
    ],
)
def test_settings_open_in_a_text_editor(platform: str, expected: list[str]) -> None:
    """No program may be associated with .toml on Windows (os.startfile then fails with
    WinError 1155) or macOS (`open` without -t asks for one)."""
    assert desktop.text_editor_command(Path("settings.toml"), platform, {"SystemRoot": "D:\\Win"}) == expected


def test_open_path_starts_no_console(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(desktop.proc, "popen", lambda argv: started.append(list(argv)))
    desktop.open_path(Path("x.log"))
    assert started == [desktop.text_editor_command(Path("x.log"))]


LOG_ONE_LINE = """
import logging
from uv_drive_guard.app.desktop import log_file, setup_logging
setup_logging(0)
logging.getLogger("uv_drive_guard.test").warning("drive %s at %s", "Cl\\u00e9 \\u2713", "/media/jos\\udce9")
logging.shutdown()
print(log_file())
"""


def test_the_log_is_utf8_under_a_locale_that_is_not(tmp_path: Path) -> None:
    """pythonw on Windows writes files in the ANSI code page; here the C locale (ASCII, Python's
    UTF-8 mode and locale coercion off) stands in for it: a label it cannot hold lost the line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
    env.update(LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", XDG_STATE_HOME=str(tmp_path / "state"))
    done = subprocess.run([sys.executable, "-c", LOG_ONE_LINE], env=env, capture_output=True, timeout=60)
    assert done.returncode == 0 and b"Logging error" not in done.stderr, done.stderr
    written = Path(done.stdout.decode().strip()).read_bytes()
    assert "drive Clé ✓ at /media/jos\\udce9".encode() in written
