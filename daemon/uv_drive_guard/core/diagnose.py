"""diagnose(snapshot) -> findings: the one pure decision both the CLI and the tray render.

The rules' checks find what is wrong; then each finding's rule plans its fixes (here "plan"
means choosing the fixes a finding offers; carrying one out is the fixing side's plan).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from . import hint
from .messages import shadowed_text
from .model import ArtefactKind, Finding, Fix, Location, Severity, Snapshot, Volume
from .rules import ALONE, ARTEFACTS, PLACES, RULES, SETTINGS, WHOLE, Scene
from .versions import parse

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def diagnose(snapshot: Snapshot) -> tuple[Finding, ...]:
    scene = Scene(snapshot, parse(snapshot.uv.version))
    snapshot = replace(snapshot, locations=tuple(_judged(scene, loc) for loc in snapshot.locations))
    scene = Scene(snapshot, scene.uv)
    found: list[Finding] = []
    for loc in snapshot.locations:
        found.extend(_location_findings(scene, loc))
    for artefact in snapshot.artefacts:
        found.extend(rule.finding(hit) for rule, check in ARTEFACTS for hit in check(scene, artefact))
    found.extend(rule.finding(hit) for rule, whole in WHOLE for hit in whole(scene))
    ordered = _unique(sorted(found, key=lambda f: (_ORDER[f.severity], f.volume or "", f.code)))
    findings = grouped(snapshot, tuple(RULES[item.code].with_fixes(snapshot, _also_set(item)) for item in ordered))
    return hint.offer(snapshot, findings)  # the hint after uv fails there: one more fix, never a cure


def _judged(scene: Scene, loc: Location) -> Location:
    """Each definition the setting shadows, judged as if it were the one in effect: a fix that
    turns the winner off must not hand uv to another place where it fails."""
    if not loc.shadowed:
        return loc
    return replace(loc, shadowed=tuple(replace(s, fails=_fails(scene, s)) for s in loc.shadowed))


def _fails(scene: Scene, loc: Location) -> bool:
    """An error for this place, in scope or not: a drive is judged on its merits here."""
    for rule, setting in SETTINGS:
        hits = list(setting(scene, loc))
        if hits:
            return any(rule.finding(hit).severity is Severity.ERROR for hit in hits)
    vol = scene.volume(loc)
    return vol is not None and any(f.severity is Severity.ERROR for f in _place_findings(scene, loc, vol))


def _also_set(item: Finding) -> Finding:
    """A finding names every other definition of its setting that a fix must know about."""
    if item.location is None or item.severity is Severity.INFO:
        return item
    extra = shadowed_text(item.location)
    return replace(item, detail=f"{item.detail} {extra}") if extra else item


def _location_findings(scene: Scene, loc: Location) -> Iterator[Finding]:
    """A setting's own problem first (it ends there); then the place, on a drive in scope."""
    for rule, setting in SETTINGS:
        hits = list(setting(scene, loc))
        if hits:
            yield from map(rule.finding, hits)
            return
    vol = scene.volume(loc)
    if vol is not None and vol.mountpoint in scene.snapshot.scope:
        yield from _place_findings(scene, loc, vol)


def _place_findings(scene: Scene, loc: Location, vol: Volume) -> list[Finding]:
    """What the rules find at a place on a drive, each rule yielding to those it names in
    `yields_to` that hit the same place (uv stops at their error first)."""
    # A read-only drive: nothing is written there, so no link, lock or copy question arises.
    asked = next((alone for applies, alone in ALONE if applies(vol)), PLACES)
    hits = [(rule, hit) for rule, place in asked for hit in place(scene, loc, vol)]
    said = {rule.code for rule, _ in hits}
    return [rule.finding(hit) for rule, hit in hits if said.isdisjoint(rule.yields_to)]


def _unique(findings: list[Finding]) -> tuple[Finding, ...]:
    """A global cache and a project's cache are often the same place: say it once, as the one
    that knows more of the setting's layers (a project's own cache-dir lies beneath the
    variable both share: its fix must turn that off too)."""
    kept: dict[tuple[str, str, str | None], int] = {}
    out: list[Finding] = []
    for item in findings:
        loc = item.location
        key = (item.code, loc.path if loc else "", loc.source.file if loc else None)
        if key not in kept:
            kept[key] = len(out)
            out.append(item)
        elif _layers(item) > _layers(out[kept[key]]):
            out[kept[key]] = item
    return tuple(out)


def _layers(item: Finding) -> int:
    loc = item.location
    return 0 if loc is None else sum(s.source.kind.value != "default" for s in loc.shadowed)


# --- folders with a pyproject.toml uv works in, said once per drive -----------------------

_VERB = {Severity.ERROR: "fail", Severity.WARNING: "warn", Severity.INFO: "meet the same"}


def grouped(snapshot: Snapshot, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """One finding per drive, code and severity for the folders whose pyproject.toml has no
    [project] (uv's non-project mode makes .venv there too): a drive full of tool-only
    pyproject.tomls reads as one line, projects proper keep theirs."""
    folders = {a.path for a in snapshot.artefacts if a.kind is ArtefactKind.PROJECT and a.non_project}
    groups: dict[tuple[str, Severity, str | None], list[Finding]] = {}
    order: list[Finding | tuple[str, Severity, str | None]] = []
    for item in findings:
        key = (item.code, item.severity, item.volume)
        if item.location is None or item.location.project not in folders:
            order.append(item)
        elif key not in groups:
            groups[key] = [item]
            order.append(key)
        else:
            groups[key].append(item)
    proper = {(f.code, f.volume) for f in order if isinstance(f, Finding)}
    return tuple(f if isinstance(f, Finding) else _merged(groups[f], also=(f[0], f[2]) in proper) for f in order)


def _merged(members: list[Finding], also: bool) -> Finding:
    first = members[0]
    folders = tuple(dict.fromkeys(m.location.project for m in members if m.location and m.location.project))
    count = len(folders)
    noun = "folder" if count == 1 else "folders"
    where = f"{'also ' if also else ''}{_VERB[first.severity]} in {count}{' more' if also else ''} {noun}"
    named = ", ".join(folders[:5]) + (f" and {count - 5} more" if count > 5 else "")
    return replace(
        first,
        title=f"uv would {where} with a pyproject.toml",
        detail=(
            "In a folder whose pyproject.toml has no [project] table (only other tools' settings, "
            "or nothing), `uv sync` and `uv run` work in uv's non-project mode and make a .venv "
            f"there, as in a project: {named}. For the first of them: {first.title}. {first.detail}"
        ),
        fixes=_common(members),
        folders=folders,
    )


def _common(members: list[Finding]) -> tuple[Fix, ...]:
    """The first folder's fixes that make the same changes for every folder (a drive's, not one
    folder's): offered once for all of them."""
    others = [{fix.changes for fix in m.fixes} for m in members[1:]]
    return tuple(fix for fix in members[0].fixes if all(fix.changes in changes for changes in others))
