"""After a fix: scan again as a new terminal would, and let uv itself confirm.

uv is run only from where it is installed (never from a drive), offline, on a wheel built
here, into a scratch environment that is removed afterwards. Nothing from the drive runs.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core import resolve
from ..core.model import Finding, Location, Role, Snapshot, SourceKind
from ..core.paths import under
from ..edges import proc, untrusted

WHEEL_NAME = "uv_drive_guard_check"
HARDLINK_WARNING = "Failed to hardlink files"


new_terminal_env = resolve.without_persisted  # before the startup files are read again
with_startup_files = resolve.with_persisted  # ...and after


def same_finding(a: Finding, b: Finding) -> bool:
    return a.code == b.code and (a.location.path if a.location else None) == (b.location.path if b.location else None)


def same_setting(a: Finding, b: Finding) -> bool:
    """The finding after a fix is about the same setting: the same finding, or any other
    finding about the same directory of uv (the same role, for the same project)."""
    if same_finding(a, b):
        return True
    if a.location is None or b.location is None:
        return False
    return a.location.role is b.location.role and a.location.project == b.location.project


def tiny_wheel(directory: Path) -> Path:
    """A valid pure-Python wheel written by hand: no build backend, no network."""
    dist = f"{WHEEL_NAME}-1.0"
    files = {
        f"{WHEEL_NAME}/__init__.py": b"def main() -> None:\n    print('ok')\n",
        f"{dist}.dist-info/entry_points.txt": tool_entry_points(),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {WHEEL_NAME}\nVersion: 1.0\n".encode(),
        f"{dist}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: uv-drive-guard\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = io.StringIO()
    for name, data in files.items():
        sha = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={sha},{len(data)}\n")
    record.write(f"{dist}.dist-info/RECORD,,\n")
    path = directory / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{dist}.dist-info/RECORD", record.getvalue())
    return path


def tool_entry_points() -> bytes:
    return f"[console_scripts]\n{WHEEL_NAME} = {WHEEL_NAME}:main\n".encode()


@dataclass(frozen=True)
class UvCheck:
    """What real uv did in a new terminal's environment: ok, or its first error line."""

    ok: bool
    said: tuple[str, ...] = ()  # what was asked and answered, for the person
    failure: str = ""  # uv's first error line (or the warning) when it did not work


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(("error:", "warning:"))), lines[0] if lines else "")


def _run_steps(steps: list[list[str]], env: Mapping[str, str], cwd: str | None) -> tuple[bool, str]:
    output = ""
    for argv in steps:
        done = proc.run(argv, text=True, env=env, cwd=cwd, timeout=120)
        output += done.stderr
        if done.returncode != 0:
            return False, done.stderr.strip()
    return HARDLINK_WARNING not in output, output.strip()


def _check_env(env: Mapping[str, str]) -> dict[str, str]:
    run_env = {**env, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    run_env.pop("VIRTUAL_ENV", None)
    return run_env


@contextlib.contextmanager
def _scratch(where: Path) -> Iterator[tuple[Path, Path]]:
    """A scratch directory under `where` (for what uv makes there) and the tiny wheel in this
    computer's temporary directory (the wheel is ours, not part of what is checked); both removed."""
    wheels = Path(tempfile.mkdtemp(prefix="uv-drive-guard-wheel-"))
    scratch: Path | None = None
    try:
        tiny_wheel(wheels)
        scratch = Path(tempfile.mkdtemp(prefix=".uv-drive-guard-verify-", dir=where))
        yield scratch, wheels
    finally:
        shutil.rmtree(wheels, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def uv_install_check(uv: str, env: Mapping[str, str], where: Path, cwd: str | None) -> tuple[bool, str]:
    """Create a scratch venv under `where` and install the tiny wheel offline, as the user would."""
    with _scratch(where) as (scratch, wheels):
        venv = str(scratch / "venv")
        find = ["--no-index", "--find-links", str(wheels)]
        steps = [[uv, "venv", venv, *_python()], [uv, "pip", "install", *find, "--python", venv, WHEEL_NAME]]
        return _run_steps(steps, _check_env(env), cwd)


def uv_tool_check(uv: str, env: Mapping[str, str], where: Path, cwd: str | None) -> tuple[bool, str]:
    """`uv tool install` of the tiny wheel into a scratch tool and bin directory under `where`:
    the lock file, the tool's environment and the executable's link, on that filesystem."""
    with _scratch(where) as (scratch, wheels):
        run_env = {**_check_env(env), "UV_TOOL_DIR": str(scratch / "tools"), "UV_TOOL_BIN_DIR": str(scratch / "bin")}
        argv = [uv, "tool", "install", "--no-index", "--find-links", str(wheels), *_python(), WHEEL_NAME]
        return _run_steps([argv], run_env, cwd)


def _python() -> list[str]:
    """This interpreter for the scratch venv; a frozen app is no interpreter, so uv finds one."""
    return [] if getattr(sys, "frozen", False) else ["--python", sys.executable]


def location_now(before: Location, after: Snapshot) -> Location | None:
    """The same setting in the scan after the fix: the same role, for the same project."""
    same = [x for x in after.locations if x.role is before.role and x.project == before.project]
    moved = [x for x in same if x.source.kind is SourceKind.PORTABLE]  # a project's environment kept here now
    return next(iter(moved or same), None)


_ASK = {
    Role.CACHE: ("cache", "its cache"),
    Role.TOOL_DIR: ("tool", "its tools"),
    Role.PYTHON_INSTALL_DIR: ("python", "its Pythons"),
}


def check_with_uv(before: Finding, after: Snapshot, env: Mapping[str, str]) -> UvCheck:
    """Run real uv as a new terminal would: where it now keeps the directory the finding was
    about, then an offline install (a tool install for the tool directory) in a scratch
    directory on the filesystem that directory is on now, never inside the place left behind."""
    uv = after.uv.executable
    if not uv:
        return UvCheck(False, failure="uv is not installed here, so uv could not confirm the fix")
    old = before.location
    now = location_now(old, after) if old else None
    said: list[str] = []
    if old is not None and old.role in _ASK:
        verb, what = _ASK[old.role]
        done = proc.run([uv, verb, "dir"], text=True, env=_check_env(env), timeout=30)
        if done.returncode == 0 and done.stdout.strip():
            place = done.stdout.strip().splitlines()[0]
            said.append(f"uv now keeps {what} at {place}")
            if _within(place, old.path):
                return UvCheck(False, tuple(said), f"uv still keeps {what} at {place}")
    moved = old is not None and (now is None or not _within(now.path, old.path))
    where = scratch_parent(now.path if now else None, avoid=old.path if old and moved else None)
    check = uv_tool_check if old is not None and old.role is Role.TOOL_DIR else uv_install_check
    try:
        ok, output = check(uv, env, where, cwd=old.project if old else None)
    except OSError as exc:  # the place itself refuses a scratch directory: uv would fail there too
        return UvCheck(False, tuple(said), f"cannot make a scratch directory in {where}: {exc.strerror or exc}")
    if not ok:
        return UvCheck(False, tuple(said), _first_error(output) or "uv failed without a message")
    what = "installed a test tool" if check is uv_tool_check else "installed a test package"
    said.append(f"uv {what} without errors or warnings (scratch directory in {where}, removed)")
    return UvCheck(True, tuple(said))


def _within(path: str, place: str) -> bool:
    """`path` is `place` or inside it, as this system compares paths."""
    windows = os.name == "nt"
    return under(os.path.normpath(path), os.path.normpath(place), windows=windows)


def scratch_parent(path: str | None, *, avoid: str | None) -> Path:
    """The nearest existing writable directory at or above `path`, on the filesystem uv now
    uses; never inside `avoid` (the place the fix moved away from); the temp directory when
    there is no such place (a drive's project can name a share or an automount path)."""
    temp = Path(tempfile.gettempdir())
    candidate = _existing_parent(Path(path)) if path else None
    for choice in (candidate, temp, Path.home()):
        if choice is not None and not (avoid and _within(str(choice), avoid)):
            return choice
    return temp


def _existing_parent(path: Path) -> Path | None:
    """The nearest existing writable directory, if the path may be touched at all: a drive's
    project can name a share or an automount path as its cache (edges/untrusted)."""
    if not untrusted.touchable(str(path)):
        return None
    for candidate in (path, *path.parents):
        if candidate.is_dir() and os.access(candidate, os.W_OK):
            return candidate
    return None
