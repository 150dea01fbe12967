"""Environments the walk found whose interpreter is gone: moved to another mount point, or
made elsewhere (UVD010, UVD018). Their scripts and pyvenv.cfg are read as text, never run.

A drive plugged in at another mount point gives `Failed to spawn` / os error 2 after `uv run`
reinstalls the project (seen with uv 0.13.9).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from .. import scope
from ..fixes import recreate, reinstall
from ..messages import Text, _cause, spawn
from ..model import Artefact, ArtefactKind, Fix, Location, Role, Severity, Snapshot, Source, SourceKind
from ..paths import under
from ..resolve import pathmod
from ..versions import Version
from .base import Hit, Rule, Scene, keep_on_computer

# --- the checks -------------------------------------------------------------------------


def _gone(scene: Scene, artefact: Artefact) -> tuple[str, str | None] | None:
    """The interpreter a venv on a drive in scope names and that is not there, and its project."""
    if artefact.kind is not ArtefactKind.VENV or artefact.volume not in scene.snapshot.scope:
        return None
    gone = _missing_interpreter(artefact)
    return None if gone is None else (gone, _owning_project(scene.snapshot, artefact))


def _old_mount(scene: Scene, artefact: Artefact) -> tuple[str, str] | None:
    """(old mount point, new one) when the venv's scripts name where the drive was before."""
    vol = scene.snapshot.volume(artefact.volume)
    old = moved_from(artefact, vol.mountpoint, scope.roots_of(scene.snapshot)) if vol is not None else None
    return None if vol is None or old is None else (old, vol.mountpoint)


def _interpreter_gone(scene: Scene, artefact: Artefact) -> Iterator[Hit]:
    gone = _gone(scene, artefact)
    if gone is None or _old_mount(scene, artefact) is not None:
        return  # UVD018 says what moved and from where: this would repeat it
    interpreter, project = gone
    loc = found_environment(artefact, project)
    yield Hit(loc, interpreter_gone(artefact.path, interpreter, project is not None))


def _moved(scene: Scene, artefact: Artefact) -> Iterator[Hit]:
    gone = _gone(scene, artefact)
    mounts = _old_mount(scene, artefact) if gone is not None else None
    if gone is None or mounts is None:
        return
    project = gone[1]
    loc = found_environment(artefact, project)
    yield Hit(loc, moved(artefact.path, *mounts, artefact.script, project is not None, scene.uv))


def _missing_interpreter(artefact: Artefact) -> str | None:
    if artefact.script_interpreter and artefact.script_interpreter_exists is False:
        return artefact.script_interpreter
    if artefact.home and artefact.home_exists is False:
        return artefact.home
    return None


def _owning_project(snapshot: Snapshot, venv: Artefact) -> str | None:
    """The project whose environment this is: the workspace root when members share it."""
    owners = [a for a in snapshot.artefacts if a.kind is ArtefactKind.PROJECT and a.environment == venv.path]
    root = next((a for a in owners if a.workspace in (None, a.path)), owners[0] if owners else None)
    return root.workspace or root.path if root is not None else None


def moved_from(artefact: Artefact, mountpoint: str, roots: tuple[str, ...]) -> str | None:
    """The mount point the drive had when this venv was made, read from a script's shebang:
    `/media/ana/STICK1/demo/.venv/bin/python` for a venv now at `/media/ana/STICK/demo/.venv`.
    Only a place where drives are mounted counts: a venv copied from /home/bob is not a move."""
    shebang = artefact.script_interpreter
    if not shebang or artefact.script_interpreter_exists is not False or not mountpoint:
        return None
    made_at = shebang.rsplit("/bin/", 1)[0]
    inside = artefact.path[len(mountpoint.rstrip("/")) :]
    if not under(artefact.path, mountpoint, strict=True) or made_at == artefact.path:
        return None
    if not made_at.endswith(inside) or len(made_at) <= len(inside):
        return None
    old = made_at[: -len(inside)]
    return old if any(under(old, root, strict=True) for root in roots) else None


def found_environment(artefact: Artefact, project: str | None) -> Location:
    """The Location of an environment the walk found: a project's, or a venv of its own."""
    return Location(
        Role.VENV if project is None else Role.PROJECT_ENVIRONMENT,
        artefact.path,
        Source(SourceKind.FOUND, file=artefact.path),
        volume=artefact.volume,
        project=project,
        exists=True,
    )


# --- what they say -------------------------------------------------------------------


def interpreter_gone(path: str, interpreter: str, project: bool) -> Text:
    again = "`uv sync`" if project else f"`uv venv --clear {path}`"
    return Text(
        title=f"The environment at {path} points at a Python that is not there",
        detail=(
            f"Its scripts or pyvenv.cfg name {interpreter}, which does not exist on this "
            "machine: the drive was probably mounted elsewhere (another drive letter or mount "
            f"point) or made on another computer. Recreate it with {again}."
        ),
        uv_message=f"error: Failed to inspect Python interpreter from active virtual environment at `{path}`",
    )


def moved(path: str, old: str, new: str, script: str | None, project: bool, uv: Version | None = None) -> Text:
    # `uv run` rewrites the project's own scripts when it reinstalls it; its dependencies'
    # scripts keep the old path (seen, 0.13.9): which one fails first is not known here.
    script = None if project else script
    again = "`uv sync --reinstall`" if project else f"`uv venv --clear {path}` and install again"
    return Text(
        title=f"The drive was at {old} when {path} was made: its commands point there",
        detail=(
            f"The drive is mounted at {new} now, and the environment's scripts start the Python "
            f"under {old}, which is gone. `uv run` first reinstalls the project, then its commands "
            f"still fail. {again} rewrites them for {new} (the scripts were read as text, not run)."
        ),
        uv_message=f"error: {spawn(script, uv)}\n{_cause(uv)}No such file or directory (os error 2)",
    )


# --- the fixes and the rules ------------------------------------------------------------


def _moved_environment(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """An environment made on another computer: keep one per computer instead, or rebuild it."""
    own = loc.project is not None and loc.path == str(pathmod(snapshot.os).join(loc.project, ".venv"))
    kept = keep_on_computer(code, snapshot, replace(loc, source=Source(SourceKind.DEFAULT))) if own else ()
    return (*kept, recreate(code, loc, loc.project is not None))


RULES = (
    Rule(
        "UVD010",
        (Severity.ERROR,),
        "R10",
        "an environment whose interpreter (pyvenv.cfg `home` or script shebang) is gone: the mount point "
        "or drive letter changed",
        "a project's `.venv`: keep the environments on this computer ([portable.md](portable.md)); "
        "recreate (`uv sync` / `uv venv --clear`)",
        fixes=_moved_environment,
        artefact=_interpreter_gone,
    ),
    Rule(
        "UVD018",
        (Severity.ERROR,),
        "R10, seen: os error 2 after a remount",
        "an environment whose scripts name the drive's old mount point (`/media/ana/STICK1/...` for a "
        "drive now at `/media/ana/STICK`): `uv run` reinstalls the project, then `Failed to spawn` / "
        "`No such file or directory (os error 2)`. Says what moved and from where; replaces UVD010 for "
        "that environment",
        "`uv sync --reinstall` (project) or `uv venv --clear` (manual: nothing on a drive is run)",
        fixes=lambda c, s, loc: (reinstall(c, loc, loc.project is not None),),
        artefact=_moved,
    ),
)
