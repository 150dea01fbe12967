"""The tray tooltip fits pystray's win32 szTip, which is NOTIFYICONDATAW's WCHAR[128].

pystray/_util/win32.py declares `('szTip', wintypes.WCHAR * 128)` and _win32.py assigns the
icon's title to it; ctypes raises ValueError for a string that does not fit (Modules/_ctypes/
cfield.c, "string too long"). Windows' WCHAR is UTF-16, so a character beyond the BMP takes two.
"""

from __future__ import annotations

import ctypes
import importlib
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def tray(monkeypatch: pytest.MonkeyPatch) -> Any:
    """app.tray imports pystray, which picks its backend at import: no display is needed here."""
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    return importlib.import_module("uv_drive_guard.app.tray")


class NotifyIconTip(ctypes.Structure):
    _fields_ = [("szTip", ctypes.c_wchar * 128)]


LONG = "uv-drive-guard: " + "; ".join(f"STICK{i} (exFAT): uv cannot lock its cache" for i in range(6))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_the_real_field_refuses_a_long_title() -> None:
    with pytest.raises(ValueError):
        NotifyIconTip().szTip = LONG


@pytest.mark.parametrize("text", [LONG, "🔌" * 100 + " drive", "x" * 128])
def test_win32_tooltip_fits_with_its_terminator(tray: Any, text: str) -> None:
    tip = tray.tooltip_for("win32", text)
    assert utf16_units(tip) <= tray.WIN32_TIP_UNITS and tip.endswith("…")
    NotifyIconTip().szTip = tip  # what pystray does
    assert text.startswith(tip[:-1].rstrip())


def test_short_and_other_backends_are_untouched(tray: Any) -> None:
    tooltip_for: Callable[[str, str], str] = tray.tooltip_for
    assert tooltip_for("win32", "uv-drive-guard: all fine") == "uv-drive-guard: all fine"
    assert tooltip_for("win32", "x" * 127) == "x" * 127
    assert tooltip_for("appindicator", LONG) == LONG
