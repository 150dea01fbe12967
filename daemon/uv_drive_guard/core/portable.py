"""Portable projects: the project stays on the drive, its environment lives on this computer.

Pure: a drive is known by its identity (filesystem UUID, VolumeUUID, volume serial), a
project by its path inside the drive, never by a mount point or letter. uv itself offers
only UV_PROJECT_ENVIRONMENT for this (uv has no per-project file setting for it, and on
Linux and macOS an environment cannot live on exFAT/FAT32 at all: uv #2103).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

from .messages import filesystem
from .model import (
    Artefact,
    ArtefactKind,
    Change,
    ChangeKind,
    FailureHint,
    Fix,
    Location,
    Os,
    PortableDrive,
    PortableRegistry,
    Role,
    ShellHook,
    Snapshot,
    Source,
    SourceKind,
    Volume,
)
from .paths import tilde, under
from .resolve import pathmod, volume_of

_ID = re.compile(r"[0-9a-z][0-9a-z-]{0,63}")
_READABLE = re.compile(r"[^A-Za-z0-9._-]+")
NEXT_STEP = "uv sync"
NOTICE_MORE = (
    "Nothing on the drive changes. New terminals set UV_PROJECT_ENVIRONMENT inside these projects; "
    f"then run `{NEXT_STEP}` there."
)


def valid_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def drive_id(volume: Volume | None) -> str | None:
    """The drive's identity as a directory name; None when the drive has none we can trust
    (a UUID comes from the drive itself, so anything but letters, digits and '-' is refused)."""
    if volume is None or not volume.uuid:
        return None
    normal = volume.uuid.strip().lower()
    return normal if _ID.fullmatch(normal) else None


def relpath(os_: Os, path: str, mountpoint: str) -> str | None:
    """`path` inside the drive, '/'-separated on every OS ('.' for the drive's top)."""
    mod = pathmod(os_)
    norm, root = str(mod.normpath(path)), str(mod.normpath(mountpoint)).rstrip("/\\")
    if str(mod.normcase(norm)).rstrip("/\\") == str(mod.normcase(root)):
        return "."
    if not under(norm, str(mod.normpath(mountpoint)), windows=os_ is Os.WINDOWS, strict=True):
        return None
    return norm[len(root) + 1 :].replace("\\", "/")


def at_mount(os_: Os, mountpoint: str, rel: str) -> str:
    """The project's directory with the drive mounted at `mountpoint`."""
    mod = pathmod(os_)
    if rel == ".":
        return mountpoint
    return str(mod.join(mountpoint, *rel.split("/")))


def env_name(rel: str) -> str:
    """A readable, unique directory name: `demo-1a2b3c4d` (the hash tells apart two `demo`s)."""
    base = rel.rstrip("/").rsplit("/", 1)[-1] if rel != "." else "drive"
    readable = _READABLE.sub("-", base).strip("-.")[:40] or "project"
    return f"{readable}-{zlib.crc32(rel.encode('utf-8', 'surrogateescape')):08x}"


def envs_root(os_: Os, data_dir: str, did: str) -> str:
    return str(pathmod(os_).join(data_dir, "envs", did))


def env_dir(os_: Os, data_dir: str, did: str, rel: str) -> str:
    return str(pathmod(os_).join(envs_root(os_, data_dir, did), env_name(rel)))


def interpreter(os_: Os, environment: str) -> str:
    """Where uv puts the environment's Python: for editors."""
    mod = pathmod(os_)
    if os_ is Os.WINDOWS:
        return str(mod.join(environment, "Scripts", "python.exe"))
    return str(mod.join(environment, "bin", "python"))


def record(snapshot: Snapshot, did: str | None) -> PortableDrive | None:
    return next((r for r in snapshot.portable if r.drive_id == did), None) if did else None


def covers(entry: PortableDrive | None, rel: str) -> bool:
    return entry is not None and (entry.whole or rel in entry.projects)


def projects_on(snapshot: Snapshot, mountpoint: str) -> tuple[Artefact, ...]:
    return tuple(a for a in snapshot.artefacts if a.kind is ArtefactKind.PROJECT and a.volume == mountpoint)


def place(snapshot: Snapshot) -> Snapshot:
    """Project environments the shell integration sends to this computer: uv, started in a
    terminal inside the project, uses them (a person's own UV_PROJECT_ENVIRONMENT still wins)."""
    if not snapshot.portable or not snapshot.data_dir:
        return snapshot
    return replace(snapshot, locations=tuple(_placed(snapshot, loc) for loc in snapshot.locations))


def _placed(snapshot: Snapshot, loc: Location) -> Location:
    if loc.role is not Role.PROJECT_ENVIRONMENT or loc.project is None or loc.source.kind is not SourceKind.DEFAULT:
        return loc
    vol = snapshot.volume(loc.volume)
    did = drive_id(vol)
    rel = relpath(snapshot.os, loc.project, vol.mountpoint) if vol else None
    if vol is None or did is None or rel is None or not covers(record(snapshot, did), rel):
        return loc
    path = env_dir(snapshot.os, snapshot.data_dir, did, rel)
    source = Source(SourceKind.PORTABLE, file=loc.project, name="UV_PROJECT_ENVIRONMENT")
    mounts = tuple(v.mountpoint for v in snapshot.volumes)
    return replace(loc, path=path, source=source, volume=volume_of(snapshot.os, path, mounts), exists=None)


# --- the fixes --------------------------------------------------------------------------


def _short(code: str, key: str, slug: str) -> str:
    return f"{code.lower()}-{slug}-{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}"[:-2]


PROJECTS_HOOK = "which sets UV_PROJECT_ENVIRONMENT inside these projects only"


def hook_change(snapshot: Snapshot, does: str = PROJECTS_HOOK) -> Change:
    """The one line per startup file; `does`: what the generated file it reads does, in words."""
    shells = "PowerShell" if snapshot.os is Os.WINDOWS else "bash, zsh and fish"
    generated = generated_name(snapshot.os)
    where = tilde(str(pathmod(snapshot.os).join(snapshot.data_dir, generated)), snapshot.home)
    return Change(
        ChangeKind.SHELL_HOOK,
        target=ShellHook(snapshot.data_dir),
        summary=f"add one line to the startup file of {shells} that reads {where}, {does}",
    )


def hint_change(snapshot: Snapshot, summary: str = "") -> Change:
    """The hint after uv fails, written into the same generated files the one startup-file line reads."""
    return Change(
        ChangeKind.FAILURE_HINT,
        target=FailureHint(snapshot.data_dir),
        summary=summary
        or "after a uv command fails on a drive uv has trouble with, print one line on stderr that names the "
        "drive (nothing runs when uv succeeds)",
    )


def generated_name(os_: Os) -> str:
    return "portable.ps1" if os_ is Os.WINDOWS else "portable.sh"


def portable_fixes(code: str, snapshot: Snapshot, loc: Location, extra: tuple[Change, ...] = ()) -> tuple[Fix, ...]:
    """'Keep the environments of STICK's projects on this computer', and the same for one project.
    `extra`: moving a cache setting that points at the drive, as part of the same setup."""
    if loc.role is not Role.PROJECT_ENVIRONMENT or loc.project is None or not snapshot.data_dir:
        return ()
    vol = snapshot.volume(loc.volume)
    did = drive_id(vol)
    rel = relpath(snapshot.os, loc.project, vol.mountpoint) if vol else None
    if vol is None or did is None or rel is None:
        return ()
    name = vol.label or vol.mountpoint
    root = envs_root(snapshot.os, snapshot.data_dir, did)
    one = env_dir(snapshot.os, snapshot.data_dir, did, rel)
    drive_change = Change(
        ChangeKind.PORTABLE_ENVS,
        target=PortableRegistry(did),
        value=root,
        summary=f"keep the environments of {name}'s projects in {tilde(root, snapshot.home)}, "
        "also of projects added to the drive later",
    )
    project_change = Change(
        ChangeKind.PORTABLE_ENVS,
        target=PortableRegistry(did),
        name=rel,
        value=one,
        summary=f"keep the environment of {rel if rel != '.' else name} in {tilde(one, snapshot.home)}",
    )
    hook = hook_change(snapshot)
    hint = () if snapshot.failure_hint else (hint_change(snapshot),)
    detail = (
        f"The projects stay on {name}; uv makes their environments on this computer, keyed by the "
        "drive's identity, so they keep working wherever the drive is mounted. "
        + _how(snapshot.os)
        + f" Nothing on the drive is changed or run. Then, in a new terminal, run `{NEXT_STEP}` in the project."
    )
    return (
        Fix(
            id=_short(code, did, "portable-drive"),
            title=f"Keep the environments of {name}'s projects on this computer",
            detail=detail,
            changes=(drive_change, hook, *hint, *extra),
            recommended=True,
        ),
        Fix(
            id=_short(code, f"{did}\0{rel}", "portable"),
            title=f"Keep this project's environment on this computer ({tilde(one, snapshot.home)})",
            detail=detail,
            changes=(project_change, hook, *hint, *extra),
        ),
    )


def _how(os_: Os) -> str:
    if os_ is Os.WINDOWS:
        return (
            "PowerShell sets UV_PROJECT_ENVIRONMENT inside the project and unsets it outside; in "
            "cmd.exe, run `set UV_PROJECT_ENVIRONMENT=` with the path `uv-drive-guard env .` prints."
        )
    return "Your shell (bash, zsh, fish) sets UV_PROJECT_ENVIRONMENT inside the project and unsets it outside."


def question(volume: Volume, projects: int, code: str) -> str:
    """The notification, in a person's words."""
    name = volume.label or volume.mountpoint
    what = "1 uv project" if projects == 1 else f"{projects} uv projects"
    their = "its" if projects == 1 else "their"
    it = "it" if projects == 1 else "them"
    if code == "UVD005":
        fs = filesystem(volume)
        return f"{name} holds {what}; uv cannot make {their} environments on {fs}. Keep {it} on this computer?"
    return (
        f"{name} holds {what}; {their} environments only work on the computer that made {it}. "
        f"Keep {it} on this computer?"
    )


def is_portable(fix: Fix) -> bool:
    return any(c.kind is ChangeKind.PORTABLE_ENVS for c in fix.changes)
