"""A project's environment path that is a link or a file uv cannot use (UVD021).

uv makes a project's environment at `<workspace root>/.venv`, or at UV_PROJECT_ENVIRONMENT
(uv-workspace `Workspace::environment_selection`). What already stands there decides:
- a symbolic link (a junction on Windows) is followed: uv uses or makes the environment where it
  leads, on that drive. A link that leads nowhere (its drive unplugged, its folder gone) stops
  `uv sync` and `uv run`: `PythonEnvironment::from_root` finds nothing, and
  `uv_virtualenv::create` calls `create_dir_all` on the link, which the OS refuses with
  `File exists (os error 17)` (seen with 0.9.17 to 0.13.10; on Windows the same call gives
  ERROR_ALREADY_EXISTS, os error 183, read in Rust's `create_dir_all`, not run here);
- a file: uv up to 0.13.8 refuses it (`InvalidEnvironmentKind::NotDirectory`, "expected directory
  but found a file"); from 0.13.9 uv reads it as a redirect to the environment it names (PEP 832)
  and uses that one if a pyvenv.cfg is there; else it stops (seen, bisected with the releases).
The link and the file are read as text by the walk; nothing they name on another machine is asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from .. import scope
from ..fixes import fix_id, upgrade
from ..messages import Text
from ..model import (
    Artefact,
    ArtefactKind,
    Change,
    ChangeKind,
    EnvironmentKind,
    Fix,
    Location,
    Manual,
    Os,
    Role,
    Severity,
    Snapshot,
    SourceKind,
)
from ..paths import under
from ..resolve import pathmod, volume_of
from ..versions import Version, before, parse
from .base import Hit, Rule, Scene, keep_on_computer

REDIRECTS = (0, 13, 9)  # uv reads a `.venv` file as a redirect since (bisected: 0.13.8 refuses it)


@dataclass(frozen=True)
class Stop:
    """Why uv stops at a project's environment path, in a word, and what stands there."""

    why: str  # "away" (the link's drive is not plugged in), "gone", "file", "empty", "no-venv"
    link: str  # the path uv stops at: `.venv` or UV_PROJECT_ENVIRONMENT
    target: str | None  # where the link or redirect leads, as read
    away: str | None = None  # the mount root under which the target's drive is missing


# --- the check --------------------------------------------------------------------------


def owner(snapshot: Snapshot, loc: Location) -> Artefact | None:
    """The workspace root (or project) whose environment this location is."""
    return next(
        (a for a in snapshot.artefacts if a.kind is ArtefactKind.PROJECT and a.path == loc.project),
        None,
    )


def stop(snapshot: Snapshot, uv: Version | None, project: Artefact) -> Stop | None:
    """Why this uv stops at the project's environment path, or None where it goes on."""
    link, target, there = project.environment_link, project.environment_target, project.environment_target_exists
    if link is None:
        return None
    if project.environment_kind is EnvironmentKind.LINK and target is not None:
        away = _away(snapshot, target)
        if there is False or (there is None and away is not None):
            return Stop("away" if away is not None else "gone", link, target, away)
        return None
    if project.environment_kind is not EnvironmentKind.FILE:
        return None
    if before(uv, REDIRECTS):
        return Stop("file", link, target)
    if target is None:
        return Stop("empty", link, None)
    return Stop("no-venv", link, target) if there is False else None


def _away(snapshot: Snapshot, path: str) -> str | None:
    """The mount root (or drive letter) under which `path` names a drive that is not mounted."""
    mounts = tuple(v.mountpoint for v in snapshot.volumes)
    holder = volume_of(snapshot.os, path, mounts)
    if snapshot.os is Os.WINDOWS:
        return pathmod(snapshot.os).splitdrive(path)[0] or None if holder is None else None
    vol = snapshot.volume(holder)
    for root in scope.roots_of(snapshot):
        if under(path, root, strict=True):
            # a mounted drive sits below the root; falling through to "/" or the root: no drive
            return root if vol is None or len(vol.mountpoint) <= len(root.rstrip("/")) else None
    return None


def check_unusable(scene: Scene, loc: Location) -> Iterator[Hit]:
    if loc.role is not Role.PROJECT_ENVIRONMENT or loc.project is None:
        return
    project = owner(scene.snapshot, loc)
    found = stop(scene.snapshot, scene.uv, project) if project is not None else None
    if found is None:
        return
    mounts = tuple(v.mountpoint for v in scene.snapshot.volumes)
    at = replace(loc, path=found.link, volume=volume_of(scene.os, found.link, mounts), exists=True)
    yield Hit(at, unusable_text(found, scene.os, loc.source.kind is SourceKind.DEFAULT))


# --- what it says ---------------------------------------------------------------------


def _message(found: Stop, os_: Os) -> str:
    if found.why in ("away", "gone"):
        refused = (
            "Cannot create a file when that file already exists. (os error 183)"
            if os_ is Os.WINDOWS
            else "File exists (os error 17)"
        )
        return f"error: failed to create directory `{found.link}`: {refused}"
    if found.why == "file":
        return (
            f"error: Project virtual environment directory `{found.link}` cannot be used because "
            "expected directory but found a file"
        )
    if found.why == "empty":
        return f"error: Virtual environment redirect file at `{found.link}` is empty"
    return (
        f"error: Project virtual environment directory `{found.target}` cannot be used because no "
        "`pyvenv.cfg` file was found"
    )


def unusable_text(found: Stop, os_: Os, default: bool) -> Text:
    name = "The project's .venv" if default else f"UV_PROJECT_ENVIRONMENT ({found.link})"
    link = "a junction" if os_ is Os.WINDOWS else "a symbolic link"
    if found.why in ("away", "gone"):
        where = f"on a drive that is not plugged in (nothing is mounted for it under {found.away})"
        title = f"{name} links to {found.target}, " + (
            "on a drive that is not plugged in" if found.why == "away" else "which is not there"
        )
        detail = (
            f"{found.link} is {link} to {found.target}, "
            f"{where if found.why == 'away' else 'which does not exist'}. uv follows the link to use "
            f"the environment there; with nothing there, `uv sync` and `uv run` try to make a directory "
            f"at {found.link}, find the link in the way and stop. Plug the drive in again, or remove the "
            "link (uv then makes a new environment in its place). The link was read as text, not followed."
        )
        return Text(title, detail, _message(found, os_))
    if found.why == "file":
        title = f"{name} is a file: this uv needs a directory there"
        detail = (
            f"{found.link} is a file{f' naming {found.target}' if found.target else ''}. uv before "
            "0.13.9 uses it only as the environment's directory and stops; from 0.13.9 uv reads such a "
            "file as a redirect to the environment it names (PEP 832). Upgrade uv, or remove the file."
        )
        return Text(title, detail, _message(found, os_))
    what = "is empty" if found.why == "empty" else f"names {found.target}, where there is no environment"
    detail = (
        f"{found.link} is a file, which uv 0.13.9 and later read as a redirect to the environment it "
        f"names (PEP 832); this one {what}, so `uv sync` and `uv run` stop. Point it at an environment "
        "(a folder with a pyvenv.cfg), or remove it and let uv make the environment there."
    )
    return Text(f"{name} is a redirect file that {what}", detail, _message(found, os_))


# --- the fixes and the rule -------------------------------------------------------------


def _manual(code: str, slug: str, loc: Location, title: str, where: str, summary: str, first: bool) -> Fix:
    return Fix(
        id=fix_id(code, slug, loc),
        title=title,
        detail="Only you can do this: nothing on a drive is changed or removed by uv-drive-guard.",
        changes=(Change(ChangeKind.MANUAL, target=Manual(where), summary=summary),),
        recommended=first,
    )


def _fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    project = owner(snapshot, loc)
    found = stop(snapshot, parse(snapshot.uv.version), project) if project is not None else None
    if found is None:
        return ()
    fixes: list[Fix] = []
    if found.why == "away":
        where = found.target or loc.path
        plug = f"plug in the drive that holds {found.target}"
        fixes.append(_manual(code, "plug-in", loc, "Plug in the drive the environment is on", where, plug, True))
    if found.why == "file" and project is not None and project.environment_target_exists:
        fixes.append(upgrade(code, "0.13.9", loc))
    what = "link" if found.why in ("away", "gone") else "file"
    remove = f"remove the {what} {found.link}; uv makes a new environment in its place"
    fixes.append(_manual(code, "remove", loc, f"Remove the {what}", loc.path, remove, not fixes))
    if loc.source.kind is SourceKind.DEFAULT:  # UV_PROJECT_ENVIRONMENT, set per computer, passes `.venv` by
        fixes += [replace(fix, recommended=False) for fix in keep_on_computer(code, snapshot, loc)]
    return tuple(fixes)


RULES = (
    Rule(
        code="UVD021",
        severities=(Severity.ERROR,),
        fact="R21",
        summary="a project's `.venv` (or UV_PROJECT_ENVIRONMENT) that is a symbolic link or junction leading "
        "nowhere (its drive unplugged, its folder gone): `failed to create directory .venv: File exists "
        "(os error 17)`; or a file: refused before uv 0.13.9, a redirect (PEP 832) since, which must name "
        "an environment. A link that leads somewhere is judged where it leads, on that drive",
        offers="plug the drive in (manual); remove the link or file (manual); a project's `.venv`: keep the "
        "environments on this computer ([portable.md](portable.md)); upgrade uv for a redirect file",
        fixes=_fixes,
        setting=check_unusable,
        cannot=lambda loc, vol: "uv cannot use what stands where a project's environment goes there",
    ),
)
