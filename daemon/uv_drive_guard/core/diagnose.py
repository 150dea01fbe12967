"""diagnose(snapshot) -> findings: the one pure decision both the CLI and the tray render.

The rules' checks find what is wrong; then each finding's rule plans its fixes (here "plan"
means choosing the fixes a finding offers; carrying one out is the fixing side's plan).
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import Finding, Location, Severity, Snapshot
from .rules import ALONE, ARTEFACTS, PLACES, RULES, SETTINGS, WHOLE, Scene
from .versions import parse

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def diagnose(snapshot: Snapshot) -> tuple[Finding, ...]:
    scene = Scene(snapshot, parse(snapshot.uv.version))
    found: list[Finding] = []
    for loc in snapshot.locations:
        found.extend(_location_findings(scene, loc))
    for artefact in snapshot.artefacts:
        found.extend(rule.finding(hit) for rule, check in ARTEFACTS for hit in check(scene, artefact))
    found.extend(rule.finding(hit) for rule, whole in WHOLE for hit in whole(scene))
    ordered = _unique(sorted(found, key=lambda f: (_ORDER[f.severity], f.volume or "", f.code)))
    return tuple(RULES[item.code].with_fixes(snapshot, item) for item in ordered)


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
