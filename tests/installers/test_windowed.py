"""Windowed builds never open a console: the Windows spec, the Inno Setup script and autostart agree.

The spec is executed with stand-ins for the names PyInstaller gives a spec file (Analysis, PYZ,
EXE, COLLECT and SPECPATH, PyInstaller's "Using Spec Files"), so what is checked is what the
spec really asks EXE for: `console=False` builds a GUI-subsystem program (no console window),
`console=True` a console one.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.app.autostart import _windows as _autostart_windows

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = ROOT / "installers" / "windows"


class Recorder:
    def __init__(self) -> None:
        self.exes: list[dict[str, Any]] = []

    def names(self) -> dict[str, Any]:
        class Analysis:
            def __init__(self, **kwargs: Any) -> None:
                self.scripts, self.pure, self.binaries, self.datas = kwargs["scripts"], [], [], kwargs["datas"]

        def exe(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self.exes.append(kwargs)
            return kwargs

        return {
            "Analysis": Analysis,
            "PYZ": lambda *args, **kwargs: object(),
            "EXE": exe,
            "COLLECT": lambda *args, **kwargs: kwargs,
            "SPECPATH": str(WINDOWS),
        }


@pytest.fixture(scope="module")
def windows_exes() -> list[dict[str, Any]]:
    pytest.importorskip("PyInstaller")
    recorder = Recorder()
    saved = list(sys.path)
    try:
        exec(compile((WINDOWS / "uv-drive-guard.spec").read_text(encoding="utf-8"), "spec", "exec"), recorder.names())
    finally:
        sys.path[:] = saved
    return recorder.exes


def test_the_daemon_is_windowed_and_only_the_cli_has_a_console(windows_exes: list[dict[str, Any]]) -> None:
    consoles = {exe["name"]: exe["console"] for exe in windows_exes}
    assert consoles == {"uv-drive-guard": False, "uv-drive-guard-cli": True}
    assert _autostart_windows.GUI_EXE == "uv-drive-guard.exe"  # what `autostart enable` names


def sections(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for raw in re.sub(r"\\\n\s*", " ", text).splitlines():  # Inno's line continuations
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            found.setdefault(current, [])
        elif current:
            found[current].append(line)
    return found


def test_the_installer_starts_only_the_windowed_program() -> None:
    iss = (WINDOWS / "uv-drive-guard.iss").read_text(encoding="utf-8")
    assert '#define AppExe "uv-drive-guard.exe"' in iss
    parts = sections(iss)
    for entry in parts["Run"] + parts["UninstallRun"] + parts["Icons"]:
        filename = re.search(r'Filename: "([^"]+)"', entry)
        assert filename, entry
        windowed = filename.group(1) == "{app}\\{#AppExe}"
        assert windowed or "runhidden" in entry, f"a console program started visibly: {entry}"
    run_values = [e for e in parts["Registry"] if "CurrentVersion\\Run" in e and "ValueData" in e]
    assert run_values and all("{#AppExe}" in e and "-cli" not in e for e in run_values)


def test_the_installer_needs_the_inno_setup_that_knows_x64compatible() -> None:
    iss = (WINDOWS / "uv-drive-guard.iss").read_text(encoding="utf-8")
    assert "ArchitecturesAllowed=x64compatible" in iss
    guard = re.search(r"#if VER < EncodeVer\((\d+),(\d+),(\d+)\)\s*\n\s*#error", iss)
    assert guard and tuple(map(int, guard.groups())) >= (6, 3, 0)
    assert iss.index("#if VER") < iss.index("[Setup]")
