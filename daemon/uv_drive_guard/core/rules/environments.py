"""Environments the walk found whose interpreter is gone: moved to another mount point, or
made elsewhere (UVD010, UVD018). Their scripts (every one, first line only) and pyvenv.cfg are
read as text, never run.

A drive plugged in at another mount point gives `Failed to spawn` / os error 2 after `uv run`
reinstalls the project (seen with uv 0.13.9).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from .. import scope
from ..fixes import recreate, reinstall
from ..messages import Text, cause_prefix, spawn
from ..model import Artefact, ArtefactKind, Fix, Location, Role, Severity, Shebang, Snapshot, Source, SourceKind
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


@dataclass(frozen=True)
class Move:
    """Where the drive was when the environment was made, and how many scripts still say so."""

    old: str  # the old mount point
    new: str  # where the drive is now
    stale: int  # scripts still naming the old place
    read: int  # scripts read (first lines, never run)
    example: str  # one that still names it: it fails
    rewritten: bool  # some already name the new place: `uv run` reinstalled the project


def shebangs_of(artefact: Artefact) -> tuple[Shebang, ...]:
    """Every interpreter the scripts name; a venv described by its first script alone (older
    snapshots, the case files) counts as one script."""
    if artefact.shebangs or not artefact.script_interpreter:
        return artefact.shebangs
    return (Shebang(artefact.script_interpreter, 1, artefact.script or "...", artefact.script_interpreter_exists),)


def _old_mount(scene: Scene, artefact: Artefact) -> Move | None:
    """Where the drive was, when any of the venv's scripts name its old mount point."""
    vol = scene.snapshot.volume(artefact.volume)
    if vol is None:
        return None
    roots = scope.roots_of(scene.snapshot)
    found = shebangs_of(artefact)
    olds = [(made_at_mount(s, artefact.path, vol.mountpoint, roots), s) for s in found]
    moved = [(old, s) for old, s in olds if old is not None]
    if not moved:
        return None
    old = max({o for o, _ in moved}, key=lambda o: sum(s.scripts for x, s in moved if x == o))
    stale = [s for o, s in moved if o == old]
    rewritten = any(s.exists and s.interpreter.rsplit("/bin/", 1)[0] == artefact.path for s in found)
    total = sum(s.scripts for s in found)
    return Move(old, vol.mountpoint, sum(s.scripts for s in stale), total, stale[0].example, rewritten)


def check_interpreter_gone(scene: Scene, artefact: Artefact) -> Iterator[Hit]:
    gone = _gone(scene, artefact)
    if gone is None or _old_mount(scene, artefact) is not None:
        return  # UVD018 says what moved and from where: this would repeat it
    interpreter, project = gone
    loc = found_environment(artefact, project)
    yield Hit(loc, interpreter_gone_text(artefact.path, interpreter, project is not None))


def check_moved(scene: Scene, artefact: Artefact) -> Iterator[Hit]:
    gone = _gone(scene, artefact)
    move = _old_mount(scene, artefact) if gone is not None else None
    if gone is None or move is None:
        return
    project = gone[1]
    loc = found_environment(artefact, project)
    yield Hit(loc, moved_text(artefact.path, move, project is not None, scene.uv))


def _missing_interpreter(artefact: Artefact) -> str | None:
    stale = next((s for s in shebangs_of(artefact) if s.exists is False), None)
    if stale is not None:
        return stale.interpreter
    if artefact.home and artefact.home_exists is False:
        return artefact.home
    return None


def _owning_project(snapshot: Snapshot, venv: Artefact) -> str | None:
    """The project whose environment this is: the workspace root when members share it."""
    owners = [a for a in snapshot.artefacts if a.kind is ArtefactKind.PROJECT and a.environment == venv.path]
    root = next((a for a in owners if a.workspace in (None, a.path)), owners[0] if owners else None)
    return root.workspace or root.path if root is not None else None


def made_at_mount(shebang: Shebang, path: str, mountpoint: str, roots: tuple[str, ...]) -> str | None:
    """The old mount point one interpreter names, when it is gone and sits where drives are mounted."""
    if shebang.exists is not False or not mountpoint:
        return None
    made_at = shebang.interpreter.rsplit("/bin/", 1)[0]
    inside = path[len(mountpoint.rstrip("/")) :]
    if not under(path, mountpoint, strict=True) or made_at == path:
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


def interpreter_gone_text(path: str, interpreter: str, project: bool) -> Text:
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


def moved_text(path: str, move: Move, project: bool, uv: Version | None = None) -> Text:
    # `uv run` rewrites the project's own scripts when it reinstalls it; its dependencies'
    # scripts keep the old path (seen, 0.13.9 and 0.13.10). Once some were rewritten, every
    # script still naming the old place is a dependency's, and fails; before, the one that
    # fails first is not known (the project's own is rewritten before it runs).
    script = move.example if move.rewritten or not project else None
    again = "`uv sync --reinstall`" if project else f"`uv venv --clear {path}` and install again"
    every = move.stale == move.read
    count = "its scripts" if every else f"{move.stale} of the {move.read} scripts in its bin folder"
    point = "its commands point there" if every else f"{move.stale} of its {move.read} commands still point there"
    after = " (`uv run` already rewrote the project's own; its dependencies' still point there)"
    return Text(
        title=f"The drive was at {move.old} when {path} was made: {point}",
        detail=(
            f"The drive is mounted at {move.new} now, and {count} start the Python under {move.old}, "
            f"which is gone{after if move.rewritten else ''}. `uv run` first reinstalls the project, then "
            f"these commands still fail. {again} rewrites them for {move.new} (the scripts' first lines "
            "were read as text, not run)."
        ),
        uv_message=f"error: {spawn(script, uv)}\n{cause_prefix(uv)}No such file or directory (os error 2)",
    )


# --- the fixes and the rules ------------------------------------------------------------


def _moved_environment(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """An environment made on another computer: keep one per computer instead, or rebuild it."""
    own = loc.project is not None and loc.path == str(pathmod(snapshot.os).join(loc.project, ".venv"))
    kept = keep_on_computer(code, snapshot, replace(loc, source=Source(SourceKind.DEFAULT))) if own else ()
    return (*kept, recreate(code, loc, loc.project is not None))


RULES = (
    Rule(
        code="UVD010",
        severities=(Severity.ERROR,),
        fact="R10",
        summary="an environment whose interpreter (pyvenv.cfg `home` or any script's shebang) is gone: the mount "
        "point or drive letter changed",
        offers="a project's `.venv`: keep the environments on this computer ([portable.md](portable.md)); "
        "recreate (`uv sync` / `uv venv --clear`)",
        fixes=_moved_environment,
        artefact=check_interpreter_gone,
        cannot=lambda loc, vol: "an environment on it points at a Python that is not there",
    ),
    Rule(
        code="UVD018",
        severities=(Severity.ERROR,),
        fact="R10, seen: os error 2 after a remount",
        summary="an environment whose scripts name the drive's old mount point (`/media/ana/STICK1/...` for a "
        "drive now at `/media/ana/STICK`): `uv run` reinstalls the project, then `Failed to spawn` / "
        "`No such file or directory (os error 2)`. Every script is read (up to 200, first line only): "
        "after one `uv run` the project's own are rewritten and its dependencies' are not. Says what "
        "moved, from where, and how many scripts still point there; replaces UVD010 for that environment",
        offers="`uv sync --reinstall` (project) or `uv venv --clear` (manual: nothing on a drive is run)",
        fixes=lambda c, s, loc: (reinstall(c, loc, loc.project is not None),),
        artefact=check_moved,
        cannot=lambda loc, vol: "an environment on it names the drive's old mount point",
    ),
)
