"""How this uv was installed, and so how it is upgraded: by pipx, `uv tool`, Homebrew, winget,
pip into its own Python, or its own `uv self update`.

Was it installed by the distribution's package manager? Then only that manager upgrades it.

`pip install --upgrade uv` into a distribution's Python would overwrite files dpkg, rpm or
pacman own (PEP 668's EXTERNALLY-MANAGED marker says so); the person is told the package
manager's command instead, and nothing is run.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from ..core.model import Os, Snapshot
from ..edges import platforms, proc

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]

# How each manager is asked who owns a file, and how its owner is upgraded.
_OWNER = (
    ("dpkg", ["dpkg-query", "-S"], "sudo apt install --only-upgrade {package}"),
    ("rpm", ["rpm", "-qf", "--qf", "%{NAME}\\n"], "sudo dnf upgrade {package}"),
    ("pacman", ["pacman", "-Qoq"], "sudo pacman -Syu"),
)


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return proc.run(argv, timeout=10, text=True)


def _names(path: str) -> list[str]:
    """The path as given, its real path, and its other name on a merged-/usr system
    (dpkg may have /bin/x on record where the file is reached as /usr/bin/x)."""
    names = list(dict.fromkeys([path, os.path.realpath(path)]))
    for name in list(names):
        for short, long in (("/bin/", "/usr/bin/"), ("/sbin/", "/usr/sbin/")):
            if name.startswith(long):
                names.append(short + name[len(long) :])
            elif name.startswith(short):
                names.append(long + name[len(short) :])
    return list(dict.fromkeys(names))


def owner(path: str, run: Runner = _run) -> tuple[str, str] | None:
    """(manager, package) owning `path`, asked of whichever manager is installed."""
    for manager, query, _ in _OWNER:
        if shutil.which(query[0]) is None:
            continue
        for name in _names(path):
            found = _ask(manager, [*query, name], run)
            if found is not None:
                return manager, found
    return None


def _ask(manager: str, argv: list[str], run: Runner) -> str | None:
    try:
        done = run(argv)
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip()
    if done.returncode != 0 or not text:
        return None
    first = text.splitlines()[0]
    package = first.split(":", 1)[0].strip() if manager == "dpkg" else first.strip()
    return package if package and " " not in package else None


def externally_managed(python: Path) -> bool:
    """PEP 668: the interpreter's stdlib holds EXTERNALLY-MANAGED (its prefix is bin/..)."""
    prefix = python.parent.parent
    patterns = (str(prefix / "lib" / "python3*" / "EXTERNALLY-MANAGED"), str(prefix / "Lib" / "EXTERNALLY-MANAGED"))
    return any(glob.glob(pattern) for pattern in patterns)


def upgrade_hint(executable: str, python: Path | None, run: Runner = _run) -> str | None:
    """What to tell the person when uv is the distribution's; None when it is not."""
    found = owner(executable, run)
    if found is not None:
        manager, package = found
        command = next(c for m, _, c in _OWNER if m == manager).format(package=package)
        return f"uv was installed by {manager} (package {package}): upgrade it with `{command}`"
    if python is not None and externally_managed(python):
        return (
            f"uv belongs to {python}, which your distribution manages (EXTERNALLY-MANAGED): "
            "upgrade uv with the distribution's package manager, not pip"
        )
    return None


def distribution_hint(snapshot: Snapshot) -> str | None:
    """The package manager's command when dpkg, rpm or pacman installed this uv (or its Python
    is marked EXTERNALLY-MANAGED); None otherwise."""
    exe = snapshot.uv.executable
    if not exe or platforms.current() is Os.WINDOWS:
        return None
    python = Path(os.path.realpath(exe)).with_name("python")
    return upgrade_hint(exe, python if python.exists() else None)


def upgrade_command(snapshot: Snapshot) -> tuple[str, ...] | None:
    """Upgrade uv the way it was installed; None when we cannot tell."""
    exe = snapshot.uv.executable
    if not exe:
        return None
    real = os.path.realpath(exe)
    parts = Path(real).parts
    if "pipx" in parts and "venvs" in parts:
        return ("pipx", "upgrade", "uv")
    if "tools" in parts and "uv" in parts[parts.index("tools") + 1 : parts.index("tools") + 2]:
        return (exe, "tool", "upgrade", "uv")
    if "Cellar" in parts or "homebrew" in parts or "linuxbrew" in parts:
        return ("brew", "upgrade", "uv")
    if "WinGet" in real:
        return ("winget", "upgrade", "--id", "astral-sh.uv")
    python = Path(real).with_name("python.exe" if platforms.current() is Os.WINDOWS else "python")
    if python.exists():
        return (str(python), "-m", "pip", "install", "--upgrade", "uv")
    return (exe, "self", "update")
