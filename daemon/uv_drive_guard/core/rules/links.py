"""How files get from the cache into an environment, the only step link mode changes (UVD002,
UVD003, UVD012): links do not cross drives, and some drives have none (seen with real uv:
clone falls back to hard link silently, to copy with a three-line warning).
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import capability as cap
from ..fixes import copy_mode, move_off_drive, per_drive_cache
from ..messages import ROLE_NAMES, Text, drive, guess_note, sentence, where
from ..model import Location, Op, Os, Role, Severity, SourceKind, Volume
from ..versions import Version, at_least
from .base import Hit, Rule, Scene, present
from .cache import cache_broken

HARDLINK_WARNING = (
    "warning: Failed to hardlink files; falling back to full copy. This may lead to degraded"
    " performance.\n"
    "         If the cache and target directories are on different filesystems, hardlinking may"
    " not be supported.\n"
    "         If this is intentional, set `export UV_LINK_MODE=copy` or use `--link-mode=copy`"
    " to suppress this warning."
)

# --- the checks -------------------------------------------------------------------------


def _cache_away(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """A working cache on a drive makes uv copy, with a warning, into every environment on
    another volume (seen with real uv). Warn only for such environments that exist: installed
    tools, or venvs and projects found elsewhere that no finding of their own speaks for;
    otherwise say it once, as information (real uv warns about nothing yet)."""
    if loc.role is not Role.CACHE or loc.project is not None or cache_broken(scene, vol):
        return
    mode = scene.snapshot.link_mode.value if scene.snapshot.link_mode and scene.snapshot.link_mode.value else None
    if (mode or default_link_mode(scene.os, scene.uv)) not in ("clone", "hardlink"):
        return
    elsewhere = [
        x
        for x in scene.snapshot.locations
        if x.role in (Role.TOOL_DIR, Role.VENV, Role.PROJECT_ENVIRONMENT)
        and x.volume not in (None, vol.mountpoint)
        and _cache_path(scene, x) == loc.path
    ]
    unjudged = [x for x in elsewhere if x.volume not in scene.snapshot.scope]
    causes = [x for x in unjudged if x.role is not Role.TOOL_DIR or x.exists]
    if causes:
        yield Hit(loc, cache_away_text(loc, vol, causes))
    elif len(unjudged) == len(elsewhere) and not vol.system and not cap.not_a_disk(vol):
        # no environment elsewhere has a finding of its own; a system mount or a share judged
        # for its own trouble (core/scope.py `where_uv_works`) gets no word about a future copy
        yield Hit(loc, cache_away_quiet_text(loc, vol), Severity.INFO)  # nothing to fix yet


def _cache_path(scene: Scene, loc: Location) -> str | None:
    cache = scene.cache_for(loc)
    return cache.path if cache is not None else None


def _installed_from(scene: Scene, loc: Location, vol: Volume) -> tuple[str, Location, Volume] | None:
    """The link mode, the cache and its drive for an install into this environment; None where
    no install happens or another rule says why it cannot."""
    if loc.role not in (Role.PROJECT_ENVIRONMENT, Role.VENV, Role.TOOL_DIR):
        return None
    if loc.role is Role.TOOL_DIR and loc.source.kind is SourceKind.DEFAULT and loc.exists is False:
        return None  # uv's own tool directory with no tool installed: no copy happens (no cause)
    cache = scene.cache_for(loc)
    cache_vol = scene.volume(cache) if cache else None
    if cache is None or cache_vol is None or cache_broken(scene, cache_vol):
        return None
    if cap.ONEDRIVE in (vol.fstype, cache_vol.fstype):
        return None  # hard links into or out of cloud files fail outright, either side (UVD022)
    return effective_link_mode(scene, loc), cache, cache_vol


def check_symlink_mode(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    install = _installed_from(scene, loc, vol)
    symlinks = install is not None and install[0] == "symlink"
    if symlinks and scene.os is Os.WINDOWS and cap.can(vol, Op.SYMLINK_FILE) is False:
        yield Hit(loc, symlink_mode_text(loc, vol))


def _cross_volume(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """An environment on another drive than its cache; the cache's own side is _cache_away."""
    install = _installed_from(scene, loc, vol)
    if install is None or install[0] not in ("clone", "hardlink"):
        return
    _, cache, cache_vol = install
    if cache_vol.mountpoint != vol.mountpoint:
        yield Hit(loc, cross_volume_text(loc, vol, cache, cache_vol))


def check_no_hardlinks(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    install = _installed_from(scene, loc, vol)
    if install is None or install[0] not in ("clone", "hardlink") or install[2].mountpoint != vol.mountpoint:
        return
    if cap.can(vol, Op.HARDLINK) is False and cap.can(vol, Op.REFLINK) is not True:
        yield Hit(loc, no_hardlinks_text(loc, vol))


def check_copies(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """UVD003 is said once per cause: by the environment, or by the cache when nothing else does."""
    yield from _cross_volume(scene, loc, vol)
    yield from _cache_away(scene, loc, vol)


def chmod_refused(vol: Volume) -> bool:
    """chmod failed with an error (fusefat: ENOSYS), not merely ignored (exfat-fuse, ntfs-3g)."""
    return vol.capabilities.get(Op.EXEC_BIT) is False and bool(vol.capabilities.errno(Op.EXEC_BIT))


def default_link_mode(os: Os, uv: Version | None) -> str:
    """clone on macOS and (since 0.10.5) Linux, hardlink on Windows. Every check here treats
    the two alike (both link, then copy), so a uv whose version is unknown needs no guess."""
    if os is Os.MACOS or (os is Os.LINUX and at_least(uv, (0, 10, 5))):
        return "clone"
    return "hardlink"


def effective_link_mode(scene: Scene, loc: Location) -> str:
    project = loc.project
    for artefact in scene.snapshot.artefacts:
        if artefact.path == project:
            mode = next((d for d in artefact.settings if d.name == "link-mode" and d.value), None)
            env = scene.snapshot.link_mode
            if env is not None and env.source.kind not in _CONFIG_KINDS and env.value:
                return env.value
            if mode is not None and mode.value:
                return mode.value
    if scene.snapshot.link_mode is not None and scene.snapshot.link_mode.value:
        return scene.snapshot.link_mode.value
    return default_link_mode(scene.os, scene.uv)


_CONFIG_KINDS = (SourceKind.UV_TOML_USER, SourceKind.UV_TOML_SYSTEM, SourceKind.UV_CONFIG_FILE)


# --- what they say -------------------------------------------------------------------


def cross_volume_text(loc: Location, vol: Volume, cache: Location, cache_vol: Volume) -> Text:
    return Text(
        title=f"uv will copy every file into {drive(vol)} and warn each time",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path}, but uv's cache is on "
            f"another drive ({cache.path}, {drive(cache_vol)}). Links do not cross drives, so "
            "uv falls back to copying, which works but prints a warning. Choose copy mode to "
            "say that this is intended, or keep a cache on the same drive."
        ),
        uv_message=HARDLINK_WARNING,
    )


def no_hardlinks_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{drive(vol)} cannot hard link: uv will copy every file and warn",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path}. uv links files from its "
            f"cache into environments, and {vol.fstype} has no hard links{guess_note(vol)}, so uv "
            "falls back to copying with a warning. Copy mode says that this is intended."
        ),
        uv_message=HARDLINK_WARNING,
    )


def symlink_mode_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title="uv is set to symlink mode, but Windows does not allow you to create symlinks",
        detail=(
            f"The link mode is `symlink`, and creating symbolic links on {drive(vol)} needs "
            "Developer Mode or administrator rights. Use hardlink or copy mode."
        ),
        uv_message="warning: Failed to symlink files; falling back to full copy.",
    )


def cache_away_text(loc: Location, vol: Volume, causes: list[Location]) -> Text:
    names = ", ".join(f"{ROLE_NAMES[c.role].replace('the ', '', 1)} {c.path}" for c in causes[:3])
    more = f" and {len(causes) - 3} more" if len(causes) > 3 else ""
    return Text(
        title=f"uv's cache is on {drive(vol)}: installs elsewhere are copies, with a warning",
        detail=(
            f"uv's cache is at {loc.path} ({where(loc)}). uv links files from its cache into "
            f"environments, and links do not cross drives: environments outside {vol.name} "
            f"({names}{more}) get full copies and uv prints a warning each time. Choose copy "
            "mode to say that this is intended, or keep the cache on your internal disk."
        ),
        uv_message=HARDLINK_WARNING,
    )


def cache_away_quiet_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"uv's cache is on {drive(vol)}: environments on other drives would get copies",
        detail=(
            f"uv's cache is at {loc.path} ({where(loc)}). It works there, and no environment on "
            "another drive uses it now (no installed tools, no venv or project found elsewhere). "
            f"An environment made outside {vol.name} later gets full copies, with uv's "
            "hardlink warning."
        ),
        uv_message="(nothing yet: uv warns when it installs into an environment on another drive)",
    )


# --- the rules --------------------------------------------------------------------------

RULES = (
    Rule(
        code="UVD002",
        yields_to=("UVD005", "UVD014", "UVD025", "UVD026", "UVD029"),
        severities=(Severity.WARNING,),
        fact="R2",
        summary="environment on a drive that can neither hard link nor clone, cache on the same drive",
        offers="copy mode",
        fixes=lambda c, s, loc: (copy_mode(c, s, loc),),
        place=check_no_hardlinks,
    ),
    Rule(
        code="UVD003",
        yields_to=("UVD005", "UVD009", "UVD014", "UVD022", "UVD025", "UVD029"),
        severities=(Severity.WARNING, Severity.INFO),
        fact="R3",
        summary="environment and cache on different drives, link mode clone or hardlink; said once per cause (below)",
        offers="copy mode (project, user or where UV_LINK_MODE is set); a cache for the project on its own drive; "
        "for the cache's own warning: move it back to uv's default (none for its `info` line)",
        fixes=lambda c, s, loc: present(
            copy_mode(c, s, loc),
            per_drive_cache(c, s, loc) if loc.role is not Role.CACHE else move_off_drive(c, s, loc),
        ),
        place=check_copies,
        unfixed=(Severity.INFO,),
    ),
    Rule(
        code="UVD012",
        yields_to=("UVD005", "UVD014", "UVD025", "UVD029"),
        severities=(Severity.WARNING,),
        fact="R12",
        summary="Windows, link mode symlink, no symlink permission",
        offers="copy mode",
        fixes=lambda c, s, loc: (copy_mode(c, s, loc),),
        place=check_symlink_mode,
    ),
)
