"""Settings that point uv where it cannot go: a directory on a drive that is not plugged in, a
UV_NO_* switch uv cannot read (UVD011, UVD020).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from .. import scope
from ..fixes import fix_switch, temporary_fallback
from ..messages import ROLE_NAMES, Text, sentence, where
from ..model import Location, Os, Role, Severity, Snapshot, SourceKind
from ..paths import under
from ..resolve import boolish, pathmod
from .base import Hit, Rule, Scene, present

# --- the checks -------------------------------------------------------------------------


def check_missing(scene: Scene, loc: Location) -> Iterator[Hit]:
    if _drive_missing(scene.snapshot, loc):
        # The path falls through to the system disk's mount ("/"); the drive is what is missing.
        gone = replace(loc, volume=None)
        yield Hit(gone, drive_missing_text(gone))


def _drive_missing(snapshot: Snapshot, loc: Location) -> bool:
    """A path the user chose, under a removable-media root or a drive letter, with no drive."""
    if loc.source.kind is SourceKind.DEFAULT:
        return False
    if snapshot.os is Os.WINDOWS:
        return loc.volume is None
    mod = pathmod(snapshot.os)
    vol = snapshot.volume(loc.volume)
    for root in scope.roots_of(snapshot):
        if under(loc.path, root, strict=True):
            # Mounted drives sit below the root; a path that falls through to "/" (or to the
            # root itself) has lost its drive. Mount points one level down (/media/USER/X).
            return vol is None or len(vol.mountpoint) <= len(str(mod.normpath(root)))
    return False


def check_bad_switches(scene: Scene) -> Iterator[Hit]:
    """A UV_NO_* value uv cannot read stops every command (clap / uv-static, seen with 0.13.9)."""
    cache = next((x for x in scene.snapshot.locations if x.role is Role.CACHE and x.project is None), None)
    for definition in scene.snapshot.switches:
        if definition.value is None or boolish(definition.value) is not None:
            continue
        path = cache.path if cache is not None else str(pathmod(scene.os).join(scene.snapshot.home, ""))
        loc = Location(Role.CACHE, path, definition.source, volume=cache.volume if cache else None)
        yield Hit(loc, bad_switch_text(definition.name, definition.value, definition.source.describe()))


# --- what they say -------------------------------------------------------------------


def drive_missing_text(loc: Location) -> Text:
    return Text(
        title=f"{sentence(ROLE_NAMES[loc.role])} is set to a drive that is not plugged in",
        detail=(
            f"{loc.path} ({where(loc)}) is on a drive that is not mounted now. uv will create a "
            "fresh directory on your internal disk under the empty mount point, or fail with "
            "a permission error. A temporary fallback to uv's default, reverted when the "
            "drive is back, avoids both."
        ),
        uv_message=f"error: failed to create directory `{loc.path}`: Permission denied (os error 13)",
    )


def bad_switch_text(name: str, value: str, where_: str) -> Text:
    if name == "UV_NO_SYSTEM_CONFIG":
        message = (
            f"error: Failed to parse environment variable `{name}` with invalid value `{value}`: "
            "expected a boolish value"
        )
    else:
        flag = {"UV_NO_CACHE": "--no-cache", "UV_NO_CONFIG": "--no-config"}.get(name, name)
        message = f"error: invalid value '{value}' for '{flag}': value was not a boolean"
    return Text(
        title=f"{name}={value!r} is not a value uv understands: every uv command stops",
        detail=(
            f"It is set as {where_}. uv reads {name} as a yes/no switch: 1, true, yes, on, y, t turn it "
            "on and 0, false, no, off, n, f turn it off (any case); anything else, the empty value too, "
            "makes every uv command stop before it starts."
        ),
        uv_message=message,
    )


# --- the rules --------------------------------------------------------------------------

RULES = (
    Rule(
        code="UVD011",
        severities=(Severity.WARNING,),
        fact="R11",
        summary="a directory you set lies on a drive that is not mounted",
        offers="a temporary fallback to uv's default, undone when the drive is back",
        fixes=lambda c, s, loc: present(temporary_fallback(c, s, loc)),
        setting=check_missing,
        temporary=True,
    ),
    Rule(
        code="UVD020",
        severities=(Severity.ERROR,),
        fact="uv-static parse_boolish, clap BoolishValueParser",
        summary="`UV_NO_CACHE`, `UV_NO_CONFIG` or `UV_NO_SYSTEM_CONFIG` set to a value uv does not read as a "
        "boolean (the empty value too): every uv command stops",
        offers="remove the value where it is set",
        fixes=fix_switch,
        whole=check_bad_switches,
    ),
)
