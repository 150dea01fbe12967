"""diagnose(snapshot) -> findings: the one pure decision both the CLI and the tray render."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from . import capability as cap
from . import messages, scope, states
from .model import (
    Artefact,
    ArtefactKind,
    Finding,
    Location,
    Os,
    Severity,
    Snapshot,
    SourceKind,
)
from .paths import under
from .resolve import pathmod
from .rules import LOCATION_RULES, Context, finding
from .versions import parse

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def diagnose(snapshot: Snapshot) -> tuple[Finding, ...]:
    ctx = Context(snapshot, parse(snapshot.uv.version))
    found: list[Finding] = []
    for loc in snapshot.locations:
        found.extend(_location_findings(ctx, loc))
    for artefact in snapshot.artefacts:
        found.extend(_artefact_findings(ctx, artefact))
    found.extend(states.switch_findings(ctx))
    return _unique(sorted(found, key=lambda f: (_ORDER[f.severity], f.volume or "", f.code)))


def _location_findings(ctx: Context, loc: Location) -> Iterator[Finding]:
    if _drive_missing(ctx.snapshot, loc):
        # The path falls through to the system disk's mount ("/"); the drive is what is missing.
        gone = replace(loc, volume=None)
        yield finding(ctx, "UVD011", Severity.WARNING, gone, messages.drive_missing(gone))
        return
    vol = ctx.volume(loc)
    if vol is None or vol.mountpoint not in ctx.snapshot.scope:
        return
    if cap.read_only(vol):
        yield from states.read_only_rules(ctx, loc, vol)
        return  # nothing else is written there: no link, lock or copy question arises
    for rule in (*LOCATION_RULES, *states.STATE_RULES):
        yield from rule(ctx, loc, vol)


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


def _artefact_findings(ctx: Context, artefact: Artefact) -> Iterator[Finding]:
    if artefact.kind is not ArtefactKind.VENV or artefact.volume not in ctx.snapshot.scope:
        return
    gone = _missing_interpreter(artefact)
    if gone is None:
        return
    project = _owning_project(ctx.snapshot, artefact)
    moved = states.moved_finding(ctx, artefact, project)
    if moved is not None:
        yield moved  # says what moved and from where: the general UVD010 would repeat it
        return
    loc = states.found_environment(artefact, project)
    text = messages.interpreter_gone(artefact.path, gone, project is not None)
    yield finding(ctx, "UVD010", Severity.ERROR, loc, text)


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


def _unique(findings: list[Finding]) -> tuple[Finding, ...]:
    """A global cache and a project's cache are often the same place: say it once."""
    seen: set[tuple[str, str, str | None]] = set()
    out: list[Finding] = []
    for item in findings:
        loc = item.location
        key = (item.code, loc.path if loc else "", loc.source.file if loc else None)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return tuple(out)
