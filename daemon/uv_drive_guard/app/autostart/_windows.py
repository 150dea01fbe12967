"""Start at login on Windows: a value in HKCU\\...\\CurrentVersion\\Run, the per-user Run key.

Task Manager's Startup tab (and Settings > Apps > Startup) keeps its own switch in
Explorer\\StartupApproved\\Run: a binary value whose first byte is even when the entry may run
(02, 06) and odd when the user switched it off (03, 07). We read that switch, never flip it.

"The data value for a key is a command line no longer than 260 characters" (Microsoft, "Run and
RunOnce Registry Keys"): the value names one program and a few words, never a script.
"""

from __future__ import annotations

import errno
import ntpath
import os
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ...edges.registry import HKCU, REG_SZ, read_key
from ...fixing import atomic
from ._common import DISABLED, DISABLED_BY_SYSTEM, ENABLED, UNKNOWN, State, StatusFromState

if sys.platform == "win32":
    import winreg

RUN_KEY = "Software\\Microsoft\\Windows\\CurrentVersion\\Run"
APPROVED_KEY = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\StartupApproved\\Run"
VALUE_NAME = "uv-drive-guard"
RUN_VALUE_LIMIT = 260  # characters (Microsoft, "Run and RunOnce Registry Keys")
LAUNCHER = "autostart.pyw"  # in the product's local data folder


class Registry(Protocol):
    """Values of HKCU keys by name; names ignore case as Windows does."""

    def read(self, key: str, name: str) -> tuple[object, int] | None: ...

    def write(self, key: str, name: str, value: str) -> None: ...

    def delete(self, key: str, name: str) -> None: ...


class UserRegistry:
    """HKCU through winreg (reads through the settings reader, which turns OSError into None)."""

    def read(self, key: str, name: str) -> tuple[object, int] | None:
        values = read_key(HKCU, key)
        for stored, found in (values or {}).items():
            if stored.upper() == name.upper():
                return found
        return None

    def write(self, key: str, name: str, value: str) -> None:
        if sys.platform == "win32":
            with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.SetValueEx(handle, name, 0, REG_SZ, value)
            return
        raise OSError(errno.ENOSYS, "the registry exists only on Windows")

    def delete(self, key: str, name: str) -> None:
        if sys.platform == "win32":
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, key, 0, winreg.KEY_SET_VALUE) as handle:
                    winreg.DeleteValue(handle, name)
            except FileNotFoundError:  # already gone: the wanted state
                pass
            return
        raise OSError(errno.ENOSYS, "the registry exists only on Windows")


IMAGE_SUBSYSTEM_WINDOWS_GUI = 2
GUI_EXE = "uv-drive-guard.exe"  # the windowed twin of uv-drive-guard-cli.exe (installers/windows)


def pe_subsystem(path: str) -> int | None:
    """The Subsystem field of a PE image (Microsoft's "PE Format": e_lfanew at 0x3C, the
    "PE\\0\\0" signature, a 20-byte COFF header, then Subsystem at offset 68 of the optional
    header, the same for PE32 and PE32+): 2 is a windowed program, 3 a console one."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    if len(head) < 0x40 or head[:2] != b"MZ":
        return None
    (pe,) = struct.unpack_from("<I", head, 0x3C)
    field = pe + 4 + 20 + 68
    if len(head) < field + 2 or head[pe : pe + 4] != b"PE\0\0":
        return None
    return int(struct.unpack_from("<H", head, field)[0])


def venv_home(executable: str, read_text: Callable[[str], str]) -> str | None:
    """`home` of the pyvenv.cfg above Scripts\\python.exe: the base interpreter's folder."""
    try:
        text = read_text(ntpath.join(ntpath.dirname(ntpath.dirname(executable)), "pyvenv.cfg"))
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "home":
            return value.strip()
    return None


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read(1 << 16)


@dataclass(frozen=True)
class Start:
    """What the Run value starts, and the launcher file it runs when there is one to write."""

    argv: tuple[str, ...]
    launcher: str | None = None  # the launcher's text, written to `launcher_path` before the value


def launcher_path() -> str:
    """%LOCALAPPDATA%\\uv-drive-guard\\autostart.pyw: the product's own local data folder."""
    from platformdirs import user_data_dir

    return ntpath.join(user_data_dir("uv-drive-guard", appauthor=False, roaming=False), LAUNCHER)


def launcher_text(executable: str, site_packages: str) -> str:
    """A start for the base interpreter with a venv's packages, as its own python.exe would have
    them: sys.executable first (uv's --python, this very module from the tray's "Start at login"
    must see the venv's python), then the venv's site-packages through site.addsitedir (its .pth
    files)."""
    return (
        "# Written by `uv-drive-guard autostart enable`: started at sign-in by the Run value\n"
        "# uv-drive-guard, it runs the daemon windowless with the packages of its venv.\n"
        "import site\nimport sys\n\n"
        f"sys.executable = {executable!r}\n"
        f"site.addsitedir({site_packages!r})\n"
        "from uv_drive_guard.cli import main\n\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )


def windows_command(
    executable: str = sys.executable,
    *,
    frozen: bool = bool(getattr(sys, "frozen", False)),
    exists: Callable[[str], bool] = os.path.exists,
    subsystem: Callable[[str], int | None] = pe_subsystem,
    read_text: Callable[[str], str] = _read_text,
    launcher: Callable[[], str] = launcher_path,
) -> Start:
    """A windowed program, whichever twin asks: a console one in the Run key opens a console
    window at every login, and closing it ends the daemon.

    Frozen: the GUI exe beside uv-drive-guard-cli.exe. Otherwise pythonw.exe beside python.exe
    when it really is windowed (a CPython venv's venvwlauncher; uv 0.12.4 and later make it a
    windowed trampoline too). Up to uv 0.12.3 a uv venv's pythonw.exe was the console trampoline
    (uv #19226), so the base interpreter's pythonw.exe runs a launcher file that adds the venv's
    site-packages: two paths on the command line, where a `-c` script with both inside it went
    past the Run value's 260 characters."""
    folder = ntpath.dirname(executable)
    if frozen:
        gui = ntpath.join(folder, GUI_EXE)
        return Start((gui if exists(gui) else executable, "run"))
    beside = ntpath.join(folder, "pythonw.exe")
    if exists(beside) and subsystem(beside) == IMAGE_SUBSYSTEM_WINDOWS_GUI:
        return Start((beside, "-m", "uv_drive_guard", "run"))
    home = venv_home(executable, read_text)
    base = ntpath.join(home, "pythonw.exe") if home else None
    if base and exists(base) and subsystem(base) == IMAGE_SUBSYSTEM_WINDOWS_GUI:
        site = ntpath.join(ntpath.dirname(folder), "Lib", "site-packages")
        return Start((base, launcher(), "run"), launcher_text(executable, site))
    return Start((beside if exists(beside) else executable, "-m", "uv_drive_guard", "run"))


def quote_argument(arg: str) -> str:
    """CommandLineToArgvW's rules: backslashes count only before a double quote."""
    if arg and not any(c in arg for c in ' \t\n\v"'):
        return arg
    out: list[str] = ['"']
    slashes = 0
    for c in arg:
        if c == "\\":
            slashes += 1
            continue
        out.append("\\" * (slashes * 2 + 1) + '"' if c == '"' else "\\" * slashes + c)
        slashes = 0
    out.append("\\" * (slashes * 2) + '"')
    return "".join(out)


def command_line(argv: Sequence[str]) -> str:
    """The program always quoted: an unquoted path with spaces is a known hijack (C:\\Program.exe)."""
    program, *rest = argv
    if '"' in program or any(ord(c) < 0x20 for c in "".join(argv)):
        raise ValueError(f"refusing a command with quotes or control characters: {argv!r}")
    return " ".join([f'"{program}"', *(quote_argument(arg) for arg in rest)])


def approved_state(found: tuple[object, int] | None) -> State:
    """Task Manager's switch: no value means never touched, so the Run entry runs."""
    if found is None:
        return ENABLED
    data = found[0]
    if not isinstance(data, bytes) or not data:
        return UNKNOWN
    return DISABLED_BY_SYSTEM if data[0] & 1 else ENABLED


class WindowsAutostart(StatusFromState):
    def __init__(
        self,
        *,
        registry: Registry | None = None,
        start: Callable[[], Start] = windows_command,
        launcher: Callable[[], str] = launcher_path,
    ) -> None:
        self.registry: Registry = registry if registry is not None else UserRegistry()
        self.start = start
        self.launcher = launcher

    def state(self) -> State:
        try:
            if self.registry.read(RUN_KEY, VALUE_NAME) is None:
                return DISABLED
            return approved_state(self.registry.read(APPROVED_KEY, VALUE_NAME))
        except OSError:
            return UNKNOWN

    def describe(self) -> str:
        return f"{HKCU}\\{RUN_KEY}\\{VALUE_NAME}"

    def enable(self) -> str:
        start = self.start()
        line = command_line(start.argv)
        if len(line) > RUN_VALUE_LIMIT:
            raise ValueError(
                f"the command that starts uv-drive-guard is {len(line)} characters, and Windows runs at most "
                f"{RUN_VALUE_LIMIT} from a Run value; install it in a folder with a shorter path: {line}"
            )
        launcher = Path(self.launcher())
        launcher.unlink(missing_ok=True)  # ours, from an earlier install: never followed if a link
        if start.launcher is not None:
            atomic.write_atomic(launcher, start.launcher.encode("utf-8"))
        self.registry.write(RUN_KEY, VALUE_NAME, line)
        done = f"set {self.describe()} = {line}"
        if self.state() == DISABLED_BY_SYSTEM:
            done += "; it is switched off in Task Manager > Startup apps: turn it on there"
        return done

    def disable(self) -> str:
        Path(self.launcher()).unlink(missing_ok=True)
        if self.registry.read(RUN_KEY, VALUE_NAME) is None:
            return "nothing to remove: it was not set to start at login"
        self.registry.delete(RUN_KEY, VALUE_NAME)
        return f"removed {self.describe()}"
