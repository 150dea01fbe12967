"""What every PyInstaller spec of uv-drive-guard shares: the entry script, the data files and
the modules PyInstaller cannot see by itself.

The specs in linux/, macos/ and windows/ import this (they put installers/shared/ on sys.path),
so the one build that CI runs for real (linux/pyinstaller.spec, tests/installers/
test_pyinstaller.py) checks the same lists the macOS and Windows bundles are made from.

At run time the frozen app finds its files through `sys._MEIPASS`: icons in `icons/`
(app/icons.py `icon_dir()`) and the documented defaults in `config/default.toml`
(config.py `_defaults_path()`); both directories are placed there under exactly those names.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

NAME = "uv-drive-guard"
BUNDLE_ID = "io.github.uv-drive-guard"  # macOS: the bundle identifier and the LaunchAgent's label
# Windows: toasts go out under desktop-notifier's app name (desktop_notifier/backends/winrt.py uses
# it as the AppUserModelID when the app is not packaged), which app/notify.py sets to NAME; the
# Start-menu shortcut of installers/windows/uv-drive-guard.iss carries that same id.
APP_USER_MODEL_ID = NAME

ROOT = Path(__file__).resolve().parents[2]  # installers/shared/freeze.py -> repository root
SOURCE = ROOT / "daemon"  # the source root holding the import package uv_drive_guard
ENTRY = Path(__file__).resolve().parent / "launch.py"

# Modules the app never uses that a developer's environment tends to drag in; leaving them out
# keeps the bundle small and the build quick.
EXCLUDES = [
    "tkinter", "_tkinter", "turtle", "turtledemo", "idlelib", "pydoc_data", "lib2to3",
    "unittest", "doctest", "test", "distutils", "setuptools", "pip",
    "pytest", "_pytest", "hypothesis", "mypy", "ruff", "uv",
    "numpy", "IPython", "matplotlib",
    "PIL.ImageTk", "PIL.ImageQt", "PIL.ImageShow", "PIL.ImageGrab", "PIL.SpiderImagePlugin",
    "PyQt5", "PyQt6", "PySide2", "PySide6",
]  # fmt: skip


# Linux: for XEmbed-only trays the menu is GTK 3 through PyGObject (pystray's appindicator/gtk
# backends, when the building Python has it; the SNI tray needs no toolkit). Keep
# the Adwaita icons (menu arrows, check marks) but not GTK's translations of its own stock
# strings: every word in the menu is ours, in English.
HOOKSCONFIG: dict[str, dict[str, Any]] = {
    "linux": {"gi": {"module-versions": {"Gtk": "3.0"}, "icons": ["Adwaita", "hicolor"], "languages": ["en_US"]}},
}


def _uv_drive_guard_version() -> str:
    """`__version__` of the package, read as text (the spec must not import the app)."""
    init = (SOURCE / "uv_drive_guard" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", init, re.MULTILINE)
    return found.group(1) if found else "0"


VERSION = _uv_drive_guard_version()


def datas() -> list[tuple[str, str]]:
    """(source, destination folder inside the bundle) pairs: the icons, the defaults, and
    desktop-notifier's own fallback icon (it reads it through importlib.resources)."""
    from PyInstaller.utils.hooks import collect_data_files

    icons = [(str(p), "icons") for p in sorted((ROOT / "icons").iterdir()) if p.suffix in {".png", ".ico", ".icns"}]
    return [*icons, (str(ROOT / "config" / "default.toml"), "config"), *collect_data_files("desktop_notifier")]


def hiddenimports(target: str) -> list[str]:
    """Imports made by name at run time (importlib), per target system."""
    from PyInstaller.utils.hooks import collect_submodules

    names = [
        *collect_submodules("uv_drive_guard"),  # the per-OS edges are chosen at run time
        *collect_submodules("desktop_notifier.backends"),
        *collect_submodules("filelock"),  # imports its per-OS lock lazily
        "platformdirs",
        # app/trayhost.py imports pystray by name (with its inert dummy backend, then the chosen one)
        "pystray",
        "pystray._dummy",
    ]
    if target == "linux":
        names += ["gi.repository.GLib"]  # app/tray.py: importlib.import_module("gi.repository.GLib")
    elif target == "macos":
        names += ["PyObjCTools.AppHelper", *collect_submodules("rubicon.objc")]
    elif target == "windows":
        names += collect_submodules("winrt")  # desktop-notifier's toast backend; namespace packages
    return names


def analysis(target: str) -> dict[str, Any]:
    """Keyword arguments for PyInstaller's Analysis for `target` ("linux", "macos", "windows")."""
    if target not in ("linux", "macos", "windows"):
        raise ValueError(f"unknown target {target!r}")
    sys.path.insert(0, str(SOURCE))  # so collect_submodules finds uv_drive_guard without an install
    return {
        "scripts": [str(ENTRY)],
        "pathex": [str(SOURCE)],
        "datas": datas(),
        "hiddenimports": hiddenimports(target),
        "excludes": EXCLUDES,
        "hooksconfig": HOOKSCONFIG.get(target, {}),
        "noarchive": False,
    }
