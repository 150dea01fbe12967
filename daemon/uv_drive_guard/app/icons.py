"""Where the tray and application icons are, and loading them.

The icons are drawn by `icons/draw_icons.py` at the repository root. They are found, in order:

1. in the package, `uv_drive_guard/icons` (a wheel: hatch force-includes icons/ there);
2. in the repository, `icons/` next to `daemon/` (a source checkout or an editable install);
3. in `sys._MEIPASS/icons` (a PyInstaller-frozen build).

Pillow is imported only when an image is actually loaded, so `scan` never needs it.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

STATES = ("ok", "warning", "error", "paused", "working")
APP_EXTENSIONS = ("png", "ico", "icns")
APP_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

_MARKER = "tray-ok.png"  # a directory holding this is an icon directory


def _candidates() -> list[Path]:
    package = Path(__file__).resolve().parent.parent  # .../uv_drive_guard
    found = [package / "icons", package.parent.parent / "icons"]  # wheel; repo: <root>/daemon/uv_drive_guard
    meipass = getattr(sys, "_MEIPASS", None)
    if isinstance(meipass, str):
        found.append(Path(meipass) / "icons")
    return found


@lru_cache(maxsize=1)
def icon_dir() -> Path:
    """The directory holding the icons; FileNotFoundError if none of the known places has them."""
    candidates = _candidates()
    for candidate in candidates:
        if (candidate / _MARKER).is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(f"uv-drive-guard icons not found (looked in: {looked})")


def tray_path(state: str, *, hidpi: bool = False, template: bool = False) -> Path:
    """The PNG for a tray state ("ok", "warning", "error", "paused", "working"); with `template`,
    the 64 px mask macOS's menu bar draws in its own colour (icons/draw_icons.py says why)."""
    state = str(getattr(state, "value", state))  # accept the app.actions.State enum too
    if state not in STATES:
        raise ValueError(f"unknown tray state {state!r}; expected one of {', '.join(STATES)}")
    if template:
        return icon_dir() / f"tray-{state}-template.png"
    return icon_dir() / f"tray-{state}{'@2x' if hidpi else ''}.png"


def tray_image(state: str, *, hidpi: bool = False, template: bool = False) -> Image.Image:
    """The tray icon for `state` as an RGBA image: 64x64, or 128x128 with `hidpi`."""
    from PIL import Image

    with Image.open(tray_path(state, hidpi=hidpi, template=template)) as image:
        rgba: Image.Image = image.convert("RGBA")  # convert() loads the pixels, so the file can be closed
    return rgba


def app_icon_path(ext: str = "png", *, size: int | None = None) -> Path:
    """The application icon: app.png (256 px), app.ico (Windows) or app.icns (macOS).

    With `size` (png only), one of the drawn sizes, app-<size>.png.
    """
    ext = ext.lower().lstrip(".")
    if ext not in APP_EXTENSIONS:
        raise ValueError(f"no application icon of type {ext!r}; expected one of {', '.join(APP_EXTENSIONS)}")
    if size is None:
        return icon_dir() / f"app.{ext}"
    if ext != "png" or size not in APP_SIZES:
        raise ValueError(f"no app icon of {size} px as {ext}; png sizes are {', '.join(map(str, APP_SIZES))}")
    return icon_dir() / f"app-{size}.png"
