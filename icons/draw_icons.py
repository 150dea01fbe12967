#!/usr/bin/env python3
"""Draw every icon of uv-drive-guard from one source design (Pillow only, no network).

The design is a USB drive seen from the front (metal plug on top, dark body) with a round
status badge in the lower right corner. Coordinates are given on a 64 x 64 unit grid; each
output is drawn at 4x its final size and downsampled with LANCZOS, so every size is rendered
from the vector description rather than resized from another bitmap.

Contrast on light *and* dark panels: the drive silhouette has a light halo around a dark body,
and the badge has a light ring around a saturated disk, so each part keeps an edge against
either background.

    python icons/draw_icons.py             # (re)write the icons next to this script
    python icons/draw_icons.py --out DIR   # write them into DIR
    python icons/draw_icons.py --check     # exit 1 if the committed icons are out of date

Outputs: tray-<state>.png (64 px) and tray-<state>@2x.png (128 px) for the states ok, warning,
error, paused, working; tray-<state>-template.png (64 px) for macOS's menu bar; app.png (256 px),
app-<size>.png, app.ico (16..256) and app.icns.

macOS draws a menu-bar icon as a template: from its alpha channel alone, in the menu bar's own
colour (pystray's darwin backend marks every icon so: `setTemplate_(AppKit.YES)`). The coloured
icons share one silhouette, so there every state would look the same. The templates are the same
design in one ink with the glyph cut out of the badge: the state is in the mask.
The output is deterministic; `--check` compares decoded pixels with a small tolerance because
PNG bytes (and antialiasing) may differ slightly between Pillow versions.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

GRID = 64.0  # design units per icon side
OVERSAMPLE = 4

STATES = ("ok", "warning", "error", "paused", "working")
TRAY_SIZE = 64
APP_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)

RGBA = tuple[int, int, int, int]


def _hex(code: str, alpha: int = 255) -> RGBA:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16), alpha)


# Palette -------------------------------------------------------------------------------------
HALO = _hex("#f4f6f8")  # light rim around the dark drive, visible on dark panels
BODY = _hex("#27303b")  # dark drive body, visible on light panels
BODY_SHINE = _hex("#3b4756")  # label area on the body
PLUG = _hex("#a7b1bc")  # metal plug
PLUG_HOLE = _hex("#27303b")
RING = _hex("#ffffff")  # ring around the badge
INK = _hex("#000000")  # a template's shapes: only their alpha counts
CLEAR = _hex("#000000", 0)  # cut out of a template (drawing replaces pixels, alpha included)
GLYPH_LIGHT = _hex("#ffffff")
GLYPH_DARK = _hex("#1f2328")

# state -> (badge colour, glyph colour)
BADGE: dict[str, tuple[RGBA, RGBA]] = {
    "ok": (_hex("#1f9d3a"), GLYPH_LIGHT),
    "warning": (_hex("#f2a900"), GLYPH_DARK),
    "error": (_hex("#d7263d"), GLYPH_LIGHT),
    "paused": (_hex("#6b7480"), GLYPH_LIGHT),
    "working": (_hex("#1a6fe0"), GLYPH_LIGHT),
    "app": (_hex("#7b3fe4"), GLYPH_LIGHT),  # the application: a violet shield with a check
}

# Geometry (design units) ---------------------------------------------------------------------
PLUG_BOX = (16.0, 3.0, 34.0, 21.0)
PLUG_RADIUS = 2.0
HOLES = ((19.5, 8.0, 23.5, 12.0), (26.5, 8.0, 30.5, 12.0))
BODY_BOX = (9.0, 18.0, 41.0, 61.0)
BODY_RADIUS = 6.0
LABEL_BOX = (14.0, 24.0, 36.0, 31.0)
HALO_WIDTH = 3.5

BADGE_CENTER = (45.0, 45.0)
BADGE_RADIUS = 16.0
RING_WIDTH = 3.0
# The menu bar shows a template at about 22 px: a larger badge and bolder cut-outs keep the glyphs
# apart there (tests/unit/test_tray_threads.py compares the masks at that size).
TEMPLATE_BADGE = (43.0, 43.0)
TEMPLATE_RADIUS = 20.0
QUIET = ("paused", "working")  # states that ask nothing of the person


class Pen:
    """Draws design-unit shapes onto an oversampled canvas."""

    def __init__(self, size: int) -> None:
        self.px = size * OVERSAMPLE
        self.k = self.px / GRID
        self.image = Image.new("RGBA", (self.px, self.px), (0, 0, 0, 0))
        self.draw = ImageDraw.Draw(self.image)

    def _box(self, box: Sequence[float], grow: float = 0.0) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        return ((x0 - grow) * self.k, (y0 - grow) * self.k, (x1 + grow) * self.k, (y1 + grow) * self.k)

    def rect(self, box: Sequence[float], radius: float, fill: RGBA, grow: float = 0.0) -> None:
        self.draw.rounded_rectangle(self._box(box, grow), radius=(radius + grow) * self.k, fill=fill)

    def circle(self, cx: float, cy: float, r: float, fill: RGBA) -> None:
        self.draw.ellipse(self._box((cx, cy, cx, cy), r), fill=fill)

    def stroke(self, points: Sequence[tuple[float, float]], width: float, fill: RGBA) -> None:
        """A polyline with round caps and joints."""
        pts = [(x * self.k, y * self.k) for x, y in points]
        self.draw.line(pts, fill=fill, width=round(width * self.k), joint="curve")
        for x, y in points:
            self.circle(x, y, width / 2, fill)

    def polygon(self, points: Sequence[tuple[float, float]], fill: RGBA) -> None:
        self.draw.polygon([(x * self.k, y * self.k) for x, y in points], fill=fill)

    def result(self) -> Image.Image:
        size = self.px // OVERSAMPLE
        return self.image.resize((size, size), Image.Resampling.LANCZOS)


# The one design ------------------------------------------------------------------------------


def draw_drive(pen: Pen) -> None:
    # halo: the whole silhouette, grown, in a light colour
    pen.rect(PLUG_BOX, PLUG_RADIUS, HALO, grow=HALO_WIDTH)
    pen.rect(BODY_BOX, BODY_RADIUS, HALO, grow=HALO_WIDTH)
    # plug, then the body over its lower edge
    pen.rect(PLUG_BOX, PLUG_RADIUS, PLUG)
    for hole in HOLES:
        pen.rect(hole, 0.6, PLUG_HOLE)
    pen.rect(BODY_BOX, BODY_RADIUS, BODY)
    pen.rect(LABEL_BOX, 1.5, BODY_SHINE)


# Each glyph is drawn for a badge of radius 16; `k` scales it for a larger badge.


def _glyph_check(pen: Pen, cx: float, cy: float, colour: RGBA, k: float = 1.0) -> None:
    pen.stroke(
        [(cx - 7.0 * k, cy + 0.5 * k), (cx - 2.2 * k, cy + 5.3 * k), (cx + 7.0 * k, cy - 4.8 * k)], 5.0 * k, colour
    )


def _glyph_exclamation(pen: Pen, cx: float, cy: float, colour: RGBA, k: float = 1.0) -> None:
    pen.stroke([(cx, cy - 8.0 * k), (cx, cy + 1.5 * k)], 5.2 * k, colour)
    pen.circle(cx, cy + 7.8 * k, 2.8 * k, colour)


def _glyph_cross(pen: Pen, cx: float, cy: float, colour: RGBA, k: float = 1.0) -> None:
    d = 5.8 * k
    pen.stroke([(cx - d, cy - d), (cx + d, cy + d)], 5.0 * k, colour)
    pen.stroke([(cx - d, cy + d), (cx + d, cy - d)], 5.0 * k, colour)


def _glyph_bars(pen: Pen, cx: float, cy: float, colour: RGBA, k: float = 1.0) -> None:
    for dx in (-4.2 * k, 4.2 * k):
        pen.rect((cx + dx - 2.6 * k, cy - 7.5 * k, cx + dx + 2.6 * k, cy + 7.5 * k), 1.0 * k, colour)


def _glyph_dots(pen: Pen, cx: float, cy: float, colour: RGBA, k: float = 1.0) -> None:
    for dx in (-8.2 * k, 0.0, 8.2 * k):
        pen.circle(cx + dx, cy, 2.9 * k, colour)


GLYPHS: dict[str, Callable[..., None]] = {
    "ok": _glyph_check,
    "warning": _glyph_exclamation,
    "error": _glyph_cross,
    "paused": _glyph_bars,
    "working": _glyph_dots,
    "app": _glyph_check,
}


def _shield(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    """A shield fitting a circle of radius r: a gently peaked top, straight sides, convex flanks to a point."""
    w = r * 0.9
    top, shoulder, bottom = cy - r * 0.9, cy - r * 0.05, cy + r * 1.08
    right: list[tuple[float, float]] = [(cx, top - r * 0.12), (cx + w, top + r * 0.05), (cx + w, shoulder)]
    steps = 10
    for i in range(1, steps + 1):  # quadratic Bezier (cx+w, shoulder) -> (cx, bottom), control (cx+w, bottom-0.25r)
        t = i / steps
        ctrl = (cx + w, bottom - r * 0.3)
        x = (1 - t) ** 2 * (cx + w) + 2 * (1 - t) * t * ctrl[0] + t**2 * cx
        y = (1 - t) ** 2 * shoulder + 2 * (1 - t) * t * ctrl[1] + t**2 * bottom
        right.append((x, y))
    left = [(2 * cx - x, y) for x, y in reversed(right[1:-1])]
    return right + left


def draw_badge(pen: Pen, kind: str) -> None:
    colour, glyph = BADGE[kind]
    cx, cy = BADGE_CENTER
    if kind == "app":
        cy -= 1.5  # room for the point
        shield = _shield(cx, cy, BADGE_RADIUS)
        pen.polygon(shield, RING)
        pen.stroke([*shield, shield[0]], 2 * RING_WIDTH, RING)  # the ring: a true offset of the outline
        pen.polygon(shield, colour)
        GLYPHS[kind](pen, cx, cy - 0.5, glyph)
        return
    pen.circle(cx, cy, BADGE_RADIUS + RING_WIDTH, RING)
    pen.circle(cx, cy, BADGE_RADIUS, colour)
    GLYPHS[kind](pen, cx, cy, glyph)


def draw_template(pen: Pen, state: str) -> None:
    """The drive as a cut-out shape, a gap around the badge, the glyph cut out of the badge."""
    pen.rect(PLUG_BOX, PLUG_RADIUS, INK)
    for hole in HOLES:
        pen.rect(hole, 0.6, CLEAR)
    pen.rect(BODY_BOX, BODY_RADIUS, INK)
    pen.rect(LABEL_BOX, 1.5, CLEAR)
    cx, cy = TEMPLATE_BADGE
    k = TEMPLATE_RADIUS / BADGE_RADIUS
    pen.circle(cx, cy, TEMPLATE_RADIUS + RING_WIDTH, CLEAR)
    if state in QUIET:  # no disc: the glyph alone, in ink, tells it from the states that need you
        GLYPHS[state](pen, cx, cy, INK, k)
        return
    pen.circle(cx, cy, TEMPLATE_RADIUS, INK)
    GLYPHS[state](pen, cx, cy, CLEAR, k)


def render_template(state: str, size: int) -> Image.Image:
    """One menu-bar template for a tray state."""
    if state not in STATES:
        raise ValueError(f"unknown tray state {state!r}")
    pen = Pen(size)
    draw_template(pen, state)
    return pen.result()


def render(kind: str, size: int) -> Image.Image:
    """One icon: kind is a tray state or "app"."""
    if kind not in BADGE:
        raise ValueError(f"unknown icon kind {kind!r}")
    pen = Pen(size)
    draw_drive(pen)
    draw_badge(pen, kind)
    return pen.result()


# Writing -------------------------------------------------------------------------------------


def _save_png(image: Image.Image, path: Path) -> None:
    image.save(path, format="PNG", optimize=True)


def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for state in STATES:
        for suffix, size in (("", TRAY_SIZE), ("@2x", TRAY_SIZE * 2)):
            path = out / f"tray-{state}{suffix}.png"
            _save_png(render(state, size), path)
            written.append(path)
        path = out / f"tray-{state}-template.png"
        _save_png(render_template(state, TRAY_SIZE), path)
        written.append(path)

    app = {size: render("app", size) for size in sorted({*APP_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    for size in APP_SIZES:
        path = out / f"app-{size}.png"
        _save_png(app[size], path)
        written.append(path)
    _save_png(app[256], out / "app.png")
    written.append(out / "app.png")

    ico = out / "app.ico"
    app[256].save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=[app[s] for s in ICO_SIZES])
    written.append(ico)

    icns = out / "app.icns"
    app[1024].save(icns, format="ICNS", append_images=[app[s] for s in ICNS_SIZES if s != 1024])
    written.append(icns)
    return written


# Checking ------------------------------------------------------------------------------------


def _frames(path: Path) -> dict[tuple[int, ...], Image.Image]:
    """Every decoded bitmap in a PNG, ICO or ICNS file, keyed by size (and scale, for ICNS)."""
    frames: dict[tuple[int, ...], Image.Image] = {}
    with Image.open(path) as im:
        if path.suffix == ".ico":
            for size in sorted(im.info.get("sizes", {im.size})):
                im.size = size
                im.load()
                frames[size] = im.convert("RGBA")
            return frames
        if path.suffix == ".icns":
            entries: list[tuple[int, int, int]] = sorted(im.info.get("sizes", []))
        else:
            return {im.size: im.convert("RGBA")}
    for w, h, scale in entries:
        with Image.open(path) as one:  # reopened: an IcnsImageFile loads one entry only once
            one.size = (w, h)
            one.load(scale=scale)  # type: ignore[call-arg]
            frames[(w, h, scale)] = one.convert("RGBA")
    return frames


def images_close(a: Image.Image, b: Image.Image, *, level: int = 24, fraction: float = 0.01) -> bool:
    """True when a and b have the same size and at most `fraction` of pixels differ by > level.

    Colours are compared premultiplied, so fully transparent pixels compare equal whatever
    their RGB.
    """
    if a.size != b.size:
        return False
    diff = ImageChops.difference(a.convert("RGBA").convert("RGBa"), b.convert("RGBA").convert("RGBa"))
    worst = ImageChops.lighter(
        ImageChops.lighter(diff.getchannel(0), diff.getchannel(1)),
        ImageChops.lighter(diff.getchannel(2), diff.getchannel(3)),
    )
    histogram = worst.histogram()
    over = sum(histogram[level + 1 :])
    return over <= fraction * a.size[0] * a.size[1]


def check(committed: Path) -> list[str]:
    """Problems of the icons in `committed` against a fresh rendering; empty when up to date."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="uvdg-icons-") as tmp:
        for fresh in write_all(Path(tmp)):
            old = committed / fresh.name
            if not old.is_file():
                problems.append(f"{old.name}: missing")
                continue
            try:
                old_frames = _frames(old)
            except Exception as exc:  # an unreadable file is simply out of date
                problems.append(f"{old.name}: unreadable ({exc})")
                continue
            new_frames = _frames(fresh)
            if set(old_frames) != set(new_frames):
                problems.append(f"{old.name}: sizes {sorted(old_frames)} != {sorted(new_frames)}")
                continue
            for size, image in new_frames.items():
                if not images_close(old_frames[size], image):
                    problems.append(f"{old.name}: pixels differ at {size}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=here, help="directory to write (default: next to this script)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the icons in --out are out of date")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out)
        for problem in problems:
            print(f"out of date: {problem}", file=sys.stderr)
        if problems:
            print("run: python icons/draw_icons.py", file=sys.stderr)
            return 1
        print(f"icons in {args.out} are up to date")
        return 0
    for path in write_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
