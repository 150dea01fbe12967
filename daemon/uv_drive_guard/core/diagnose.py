"""diagnose(snapshot) -> findings: the one pure decision both the CLI and the tray render.

The rules' checks find what is wrong; then each finding's rule plans its fixes (here "plan"
means choosing the fixes a finding offers; carrying one out is the fixing side's plan).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from .messages import shadowed_text
from .model import Finding, Location, Severity, Snapshot
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
    return tuple(RULES[item.code].with_fixes(snapshot, _also_set(item)) for item in ordered)


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
    if vol is None:
        return False
    asked = next((alone for applies, alone in ALONE if applies(vol)), PLACES)
    return any(rule.finding(hit).severity is Severity.ERROR for rule, place in asked for hit in place(scene, loc, vol))


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
    if vol is None or vol.mountpoint not in scene.snapshot.scope:
        return
    # A read-only drive: nothing is written there, so no link, lock or copy question arises.
    asked = next((alone for applies, alone in ALONE if applies(vol)), PLACES)
    for rule, place in asked:
        for hit in place(scene, loc, vol):
            yield rule.finding(hit)


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
