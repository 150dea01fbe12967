"""Drive states that break uv whatever the filesystem: read-only, noexec, full, moved, bound.

Each was seen with uv 0.13.9 on a real drive (uv-facts.md, "More, read in uv's source"):
read-only gives `Read-only file system (os error 30)`, noexec `Failed to spawn` / os error 13,
nosymfollow os error 40, a full drive `No space left on device (os error 28)`, a drive plugged in
at another mount point `Failed to spawn` / os error 2 after `uv run` reinstalls the project.
"""

from __future__ import annotations

from collections.abc import Iterator

from . import capability as cap
from . import messages, scope
from .model import Artefact, ArtefactKind, Finding, Location, Role, Severity, Source, SourceKind, Volume
from .paths import under
from .resolve import boolish, pathmod
from .rules import Context, finding

WRITTEN = (
    Role.CACHE,
    Role.TOOL_DIR,
    Role.TOOL_BIN_DIR,
    Role.PYTHON_INSTALL_DIR,
    Role.PYTHON_BIN_DIR,
    Role.PROJECT_ENVIRONMENT,
    Role.VENV,
)
STARTED = (Role.PROJECT_ENVIRONMENT, Role.VENV, Role.TOOL_DIR, Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR)
FILLED = (Role.CACHE, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR, Role.PROJECT_ENVIRONMENT, Role.VENV)


def _found(ctx: Context, path: str, *kinds: ArtefactKind) -> Artefact | None:
    return next((a for a in ctx.snapshot.artefacts if a.path == path and a.kind in kinds), None)


def read_only_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """A read-only drive: the one thing to say there (other rules would judge writes)."""
    if loc.role not in WRITTEN:
        return
    exists = loc.exists is True or _found(ctx, loc.path, ArtefactKind.CACHE, ArtefactKind.VENV) is not None
    works = exists and loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
    severity = Severity.WARNING if works else Severity.ERROR
    yield finding(ctx, "UVD015", severity, loc, messages.read_only(loc, vol, exists, ctx.uv))


def exec_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if not ctx.os.unix or loc.role not in STARTED or cap.symlinks(vol, ctx.os) is False:
        return  # no environment at all there: UVD005 says so
    why = cap.no_exec(vol)
    if why is None:
        return
    venv = _found(ctx, loc.path, ArtefactKind.VENV)
    script = venv.script if venv is not None else None
    yield finding(ctx, "UVD016", Severity.ERROR, loc, messages.no_exec(loc, vol, why, script, ctx.uv))


def space_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """Only a drive too full for even a small wheel: uv fails there (seen at 55 kB free). How
    much a future install needs is not known, so a drive with room left is not an alarm."""
    free = cap.free(vol)
    if loc.role not in FILLED or free is None or free >= cap.FULL:
        return
    if ctx.os.unix and loc.role is not Role.CACHE and cap.symlinks(vol, ctx.os) is False:
        return  # the environment cannot be created at all: UVD005 says so
    yield finding(ctx, "UVD017", Severity.ERROR, loc, messages.full(loc, vol, free, ctx.uv))


def bind_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if vol.bind_of and loc.role in WRITTEN:
        yield finding(ctx, "UVD019", Severity.INFO, loc, messages.bind_mount(loc, vol))


STATE_RULES = (exec_rules, space_rules, bind_rules)


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


def moved_finding(ctx: Context, artefact: Artefact, project: str | None) -> Finding | None:
    vol = ctx.snapshot.volume(artefact.volume)
    old = moved_from(artefact, vol.mountpoint, scope.roots_of(ctx.snapshot)) if vol is not None else None
    if vol is None or old is None:
        return None
    loc = found_environment(artefact, project)
    text = messages.moved(artefact.path, old, vol.mountpoint, artefact.script, project is not None, ctx.uv)
    return finding(ctx, "UVD018", Severity.ERROR, loc, text)


def switch_findings(ctx: Context) -> Iterator[Finding]:
    """A UV_NO_* value uv cannot read stops every command (clap / uv-static, seen with 0.13.9)."""
    cache = next((x for x in ctx.snapshot.locations if x.role is Role.CACHE and x.project is None), None)
    for definition in ctx.snapshot.switches:
        if definition.value is None or boolish(definition.value) is not None:
            continue
        path = cache.path if cache is not None else str(pathmod(ctx.os).join(ctx.snapshot.home, ""))
        loc = Location(Role.CACHE, path, definition.source, volume=cache.volume if cache else None)
        text = messages.bad_switch(definition.name, definition.value, definition.source.describe())
        yield finding(ctx, "UVD020", Severity.ERROR, loc, text)
