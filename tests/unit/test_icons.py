"""The drawn icons: present, RGBA, up to date with icons/draw_icons.py, and legible on any panel."""

from __future__ import annotations

import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageFilter

from uv_drive_guard.app import icons
from uv_drive_guard.app.icons import (
    APP_SIZES,
    STATES,
    app_icon_path,
    icon_dir,
    tray_image,
    tray_path,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "icons" / "draw_icons.py"


def _luminance(image: Image.Image) -> Image.Image:
    return image.convert("RGB").convert("L")


def _on(background: tuple[int, int, int], icon: Image.Image) -> Image.Image:
    canvas = Image.new("RGBA", icon.size, (*background, 255))
    canvas.alpha_composite(icon)
    return canvas


def _count_over(diff: Image.Image, level: int) -> int:
    return sum(diff.histogram()[level + 1 :])


def test_icon_dir_is_the_repository_icons_in_a_checkout() -> None:
    assert (icon_dir() / "tray-ok.png").is_file()
    if Path(icons.__file__).resolve().is_relative_to(REPO):
        assert icon_dir() == REPO / "icons"


def test_icon_dir_prefers_the_package_then_the_checkout_then_a_frozen_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", "/frozen", raising=False)
    package = Path(icons.__file__).resolve().parent.parent
    assert icons._candidates() == [package / "icons", package.parent.parent / "icons", Path("/frozen") / "icons"]


def test_icon_dir_reports_where_it_looked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(icons, "_candidates", lambda: [tmp_path / "nowhere"])
    icons.icon_dir.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="nowhere"):
            icon_dir()
    finally:
        monkeypatch.undo()
        icons.icon_dir.cache_clear()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize(("hidpi", "size"), [(False, 64), (True, 128)])
def test_tray_icons_exist_as_rgba(state: str, hidpi: bool, size: int) -> None:
    path = tray_path(state, hidpi=hidpi)
    assert path.name == f"tray-{state}{'@2x' if hidpi else ''}.png"
    with Image.open(path) as raw:
        assert raw.format == "PNG"
        assert raw.mode == "RGBA"
        assert raw.size == (size, size)
    image = tray_image(state, hidpi=hidpi)
    assert image.mode == "RGBA"
    assert image.size == (size, size)
    lo, hi = image.getchannel("A").getextrema()
    assert lo == 0, "the corners should be transparent"
    assert hi == 255


def test_tray_image_accepts_the_state_enum() -> None:
    from uv_drive_guard.app.actions import State

    assert {s.value for s in State} == set(STATES)
    for state in State:
        assert tray_path(state) == tray_path(state.value)


def test_unknown_state_and_extension_are_refused() -> None:
    with pytest.raises(ValueError):
        tray_path("broken")
    with pytest.raises(ValueError):
        app_icon_path("svg")
    with pytest.raises(ValueError):
        app_icon_path("ico", size=16)


def test_app_icons_exist() -> None:
    with Image.open(app_icon_path()) as png:
        assert (png.format, png.mode, png.size) == ("PNG", "RGBA", (256, 256))
    for size in APP_SIZES:
        with Image.open(app_icon_path(size=size)) as png:
            assert (png.format, png.mode, png.size) == ("PNG", "RGBA", (size, size))

    with Image.open(app_icon_path("ico")) as ico:
        assert ico.format == "ICO"
        assert {(s, s) for s in (16, 24, 32, 48, 64, 128, 256)} <= set(ico.info["sizes"])

    with Image.open(app_icon_path("icns")) as icns:
        assert icns.format == "ICNS"
        pixels = {w * scale for w, _h, scale in icns.info["sizes"]}
        assert {32, 64, 128, 256, 512, 1024} <= pixels


def test_draw_icons_check_passes() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_draw_icons_check_notices_a_stale_icon(tmp_path: Path) -> None:
    for path in icon_dir().iterdir():
        if path.suffix in {".png", ".ico", ".icns"}:
            shutil.copy2(path, tmp_path / path.name)
    stale = tmp_path / "tray-error.png"
    with Image.open(tray_path("ok")) as other:
        other.save(stale)  # the wrong picture under the right name
    (tmp_path / "app-48.png").unlink()

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", "--out", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "tray-error.png" in result.stderr
    assert "app-48.png: missing" in result.stderr


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("hidpi", [False, True])
@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0)], ids=["light", "dark"])
def test_tray_icon_stands_out_on_light_and_dark_panels(
    state: str, hidpi: bool, background: tuple[int, int, int]
) -> None:
    icon = tray_image(state, hidpi=hidpi)
    plain = Image.new("RGB", icon.size, background)
    diff = ImageChops.difference(_luminance(_on(background, icon)), _luminance(plain))
    area = icon.size[0] * icon.size[1]
    # a good part of the icon (drive body or halo, badge) must differ clearly from the panel
    assert _count_over(diff, 60) >= 0.25 * area


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("hidpi", [False, True])
@pytest.mark.parametrize("background", [(255, 255, 255), (0, 0, 0)], ids=["light", "dark"])
def test_tray_icon_silhouette_is_visible_all_round(state: str, hidpi: bool, background: tuple[int, int, int]) -> None:
    """Every part of the outline is close to something that contrasts with the panel.

    A dark drive with no light rim passes the pixel count above on a black panel (its badge is
    bright) but fails here: its body's edge is invisible there.
    """
    icon = tray_image(state, hidpi=hidpi)
    luminance = _luminance(_on(background, icon))
    plain = Image.new("L", icon.size, _luminance(Image.new("RGB", (1, 1), background)).getpixel((0, 0)))
    visible = ImageChops.difference(luminance, plain).point(lambda v: 255 if v > 60 else 0)
    near_visible = visible.filter(ImageFilter.MaxFilter(icon.size[0] // 8 + 1))  # within 1/16 of the icon
    opaque = icon.getchannel("A").point(lambda a: 255 if a > 128 else 0)
    edge = ImageChops.subtract(opaque, opaque.filter(ImageFilter.MinFilter(3)))
    covered = ImageChops.multiply(edge, near_visible)
    assert covered.histogram()[255] >= 0.95 * edge.histogram()[255]


def test_the_five_states_look_different() -> None:
    images = {state: tray_image(state) for state in STATES}
    for a, b in combinations(STATES, 2):
        for background in ((255, 255, 255), (0, 0, 0)):
            diff = ImageChops.difference(
                _on(background, images[a]).convert("RGB"), _on(background, images[b]).convert("RGB")
            )
            worst = ImageChops.lighter(ImageChops.lighter(diff.getchannel(0), diff.getchannel(1)), diff.getchannel(2))
            assert _count_over(worst, 60) >= 0.05 * 64 * 64, f"{a} and {b} are too alike"


def test_states_differ_in_greyscale_too() -> None:
    """Not by colour alone: the badge glyphs differ even for a colour-blind eye (or a mono panel)."""
    luminance = {state: _luminance(_on((128, 128, 128), tray_image(state))) for state in STATES}
    for a, b in combinations(STATES, 2):
        diff = ImageChops.difference(luminance[a], luminance[b])
        assert _count_over(diff, 60) >= 0.02 * 64 * 64, f"{a} and {b} differ only in hue"
