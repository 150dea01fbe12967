"""`uv-drive-guard explain`: after uv failed, which drive (if any) is why.

Two ways in. With uv's output: its messages are recognised (core/explain.py), the paths they
name are scanned (exactly those places, and what uv uses there), and each message is tied to
the finding that predicts it. With no output, in the folder where uv failed: every place a uv
command run from here would use (the project and its environment, the cache, the tool and
Python directories, as the layered settings resolve them) is judged, and the findings that
would make uv fail or warn here are said; or, plainly, that no drive explains a failure here.
The same scan and fixes as `scan`: their ids work with `fix`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import scan
from .core import explain as signs
from .core.diagnose import diagnose
from .core.model import Finding, Location, Op, Role, Severity, Snapshot, Volume
from .core.paths import under
from .core.render import finding_json, volume_json, wrap
from .core.resolve import volume_of
from .edges import untrusted

MAX_OUTPUT = 4 << 20  # uv's output read at most (a log pasted whole stays far below)
PROJECT_FILES = ("pyproject.toml", "uv.toml")
ROLES_HERE = (Role.CACHE, Role.TOOL_DIR, Role.TOOL_BIN_DIR, Role.PYTHON_INSTALL_DIR, Role.PYTHON_BIN_DIR)


@dataclass(frozen=True)
class Explained:
    """One message uv printed, and what explains it here."""

    message: signs.Message
    finding: Finding | None = None  # the finding that predicts it, when the scan found one
    volume: Volume | None = None  # the drive holding the first path it names, mounted here
    note: str = ""  # why no finding: a Windows path read as text, a drive not plugged in


@dataclass(frozen=True)
class Report:
    snapshot: Snapshot
    explained: tuple[Explained, ...] = ()
    here: tuple[Finding, ...] = ()  # with no output: what would make uv fail or warn here
    places: tuple[Location, ...] = ()  # with no output: every place a uv command here would use
    folder: str = ""
    from_output: bool = True


def _existing_parent(path: str) -> str | None:
    """The nearest folder of `path` that exists, if the path may be looked at at all (a share
    or an automount point named by uv's output is never touched: edges/untrusted)."""
    if not os.path.isabs(path) or not untrusted.touchable(path):
        return None
    for candidate in (Path(path), *Path(path).parents):
        try:
            if candidate.is_dir():
                return str(candidate)
        except OSError:
            return None
    return None


def _places(named: list[str], options: scan.Options) -> list[str]:
    """What to scan for the paths uv named: the project holding each (uv's project discovery),
    else its nearest existing folder; never a place on the system disk (the base interpreter
    a venv links to, /usr/bin), which no rule judges and whose walk would only cost time."""
    from .core.resolve import volume_of
    from .edges import platforms
    from .edges.volumes import list_volumes

    volumes = list_volumes(options.mount_roots)
    mounts = tuple(v.mountpoint for v in volumes)
    system = {v.mountpoint for v in volumes if v.system}
    places = []
    for path in named:
        found = _existing_parent(path)
        place = (project_root(found) or found) if found else None
        if place is not None and volume_of(platforms.current(), place, mounts) not in system:
            places.append(place)
    return places


def _shallow(options: scan.Options) -> scan.Options:
    """A folder in no project: uv would make no environment below it, so nothing below is walked
    (the folder itself is looked at: a venv of its own)."""
    from .edges.walk import Budget

    return replace(options, walk=Budget(max_depth=0, max_entries=1000, seconds=options.walk.seconds))


def _options(options: scan.Options, places: list[str]) -> scan.Options:
    return replace(options, paths=tuple(dict.fromkeys(places)))


def from_output(output: str, env: Mapping[str, str], options: scan.Options, cwd: str) -> Report:
    """uv's output: each message recognised, the places it names scanned, tied to a finding."""
    messages = signs.read(output[:MAX_OUTPUT])
    named = [p for m in messages for p in m.paths if not signs.windows_path(p) or os.name == "nt"]
    places = _places(named, options)
    root = project_root(cwd)
    chosen = _options(options, places or [root or cwd])
    if not places and root is None:
        chosen = _shallow(chosen)
    snapshot = scan.gather(env, chosen, cwd=cwd)
    findings = diagnose(snapshot)
    explained = tuple(_explain(message, snapshot, findings) for message in messages)
    return Report(snapshot, explained, folder=cwd)


def _explain(message: signs.Message, snapshot: Snapshot, findings: tuple[Finding, ...]) -> Explained:
    mounts = tuple(v.mountpoint for v in snapshot.volumes)
    local = [p for p in message.paths if not signs.windows_path(p) or snapshot.os.value == "windows"]
    volume = next((snapshot.volume(volume_of(snapshot.os, p, mounts)) for p in local), None)
    if message.kind is not signs.Kind.DRIVE:
        return Explained(message, volume=volume)
    candidates = [f for f in findings if f.code in message.codes]
    related = [f for f in candidates if _names(message, f)] or ([] if message.paths else candidates)
    best = min(related, key=lambda f: message.codes.index(f.code), default=None)
    note = ""
    if best is None and any(signs.windows_path(p) for p in message.paths) and snapshot.os.value != "windows":
        note = "the paths it names are a Windows computer's: judged as text here, never looked at"
    elif best is None and local and volume is not None and volume.system:
        note = f"{local[0]} is on this computer's system disk, not on a drive"
    elif best is None and local and not any(_existing_parent(p) for p in local):
        note = f"{local[0]} is not there now: its drive is not plugged in here"
    return Explained(message, best, volume, note)


def _names(message: signs.Message, finding: Finding) -> bool:
    """The message names the finding's place: a path inside it, or it inside the path."""
    loc = finding.location
    if loc is None:
        return False
    windows = "\\" in loc.path
    return any(
        under(p, loc.path, windows=windows) or under(loc.path, p, windows=windows) for p in message.paths
    ) or any(loc.project and under(p, loc.project, windows=windows) for p in message.paths)


def project_root(cwd: str) -> str | None:
    """The folder uv would take as this project: the nearest with a pyproject.toml (or
    uv.toml), from here upward, as uv's project discovery walks; looked at, never run."""
    for candidate in (Path(cwd), *Path(cwd).parents):
        try:
            if any((candidate / name).is_file() for name in PROJECT_FILES):
                return str(candidate)
        except OSError:
            return None
    return None


def here(env: Mapping[str, str], options: scan.Options, cwd: str) -> Report:
    """No output: every place a uv command run from `cwd` would use, judged."""
    root = project_root(cwd)
    chosen_options = _options(options, [root or cwd])
    snapshot = scan.gather(env, chosen_options if root else _shallow(chosen_options), cwd=cwd)
    findings = diagnose(snapshot)
    chosen = {
        (loc.role, loc.path): loc
        for loc in snapshot.locations
        if (loc.project is None and loc.role in ROLES_HERE) or (root is not None and loc.project == root)
    }
    places = tuple(chosen.values())  # a project's cache is often uv's own: said once
    wanted = {(p.role, p.path) for p in places}
    mine = tuple(
        f
        for f in findings
        if f.severity is not Severity.INFO
        and f.location is not None
        and ((f.location.role, f.location.path) in wanted or (root and f.location.project == root))
    )
    return Report(snapshot, here=mine, places=places, folder=root or cwd, from_output=False)


# --- words --------------------------------------------------------------------------------


def to_text(report: Report) -> str:
    return "\n".join(_output_lines(report) if report.from_output else _here_lines(report))


def _drive_words(snapshot: Snapshot, volume: Volume | None) -> str:
    if volume is None:
        return ""
    from .core.messages import drive

    where = "this computer's system disk" if volume.system else drive(volume)
    return f"on {where}, at {volume.mountpoint}"


def _output_lines(report: Report) -> list[str]:
    if not report.explained:
        return [
            "uv-drive-guard: no error or warning from uv in that text (lines starting `error:` or `warning:`).",
            "Give it uv's whole output: `uv sync 2>&1 | uv-drive-guard explain`.",
        ]
    lines: list[str] = []
    for item in report.explained:
        lines += ["uv printed:", *(f"  {line}" for line in item.message.text.splitlines()), ""]
        lines += _message_lines(report.snapshot, item)
        lines.append("")
    drives = [i for i in report.explained if i.finding is not None]
    if drives:
        lines.append("Preview a fix with `uv-drive-guard fix ID --dry-run`; `uv-drive-guard undo` takes it back.")
    return lines


def _message_lines(snapshot: Snapshot, item: Explained) -> list[str]:
    message, sign = item.message, item.message.sign
    where = _drive_words(snapshot, item.volume)
    if message.kind is signs.Kind.NOT_DRIVE and sign is not None:
        return wrap(f"This is not a drive problem: {sign.what}.", "")
    if message.kind is signs.Kind.UNKNOWN:
        said = "uv-drive-guard does not know this message"
        limits = _limits(item.volume)
        return wrap(f"{said}{'; the path it names is ' + where if where else ''}{limits}.", "")
    assert sign is not None
    if item.finding is not None:
        return _finding_words(item.finding, f"That is {item.finding.code}")
    known = ", ".join(message.codes)
    text = (
        f"That is what uv prints when {sign.what} ({known}; `uv-drive-guard rules {' '.join(message.codes)}` says more)"
    )
    text += f"; {item.note}." if item.note else f"; the place it names is {where}." if where else "."
    if not item.note and item.volume is not None and not item.volume.system:
        text += " The scan finds nothing wrong there now: scan it again where uv failed (`uv-drive-guard explain`)."
    return wrap(text, "")


def _finding_words(item: Finding, head: str) -> list[str]:
    """A finding as explain says it: what, why, and the fixes by id (uv's words are above)."""
    lines = [f"{head}: {item.title}.", *wrap(item.detail, "  ")]
    for fix in item.fixes:
        star = " (recommended)" if fix.recommended else ""
        lines.append(f"  fix {fix.id}: {fix.title}{star}")
        lines += [f"      - {change.summary}" for change in fix.changes]
    return lines


def _limits(volume: Volume | None) -> str:
    """What the drive cannot do, from the probe, so an unknown message can still be weighed."""
    if volume is None or volume.system:
        return ""
    caps = volume.capabilities
    lacks = [name for op, name in _OPS if caps.get(op) is False]
    return f" ({volume.fstype}: no {', no '.join(lacks)})" if lacks else f" ({volume.fstype}: no known limits)"


_OPS = (
    (Op.SYMLINK_DIR, "symbolic links"),
    (Op.HARDLINK, "hard links"),
    (Op.RENAME_NOREPLACE, "no-replace rename"),
    (Op.FLOCK_EXCLUSIVE, "file locks"),
)


def _here_lines(report: Report) -> list[str]:
    snapshot = report.snapshot
    mounts = tuple(v.mountpoint for v in snapshot.volumes)
    lines = [f"uv run from {report.folder} would use:"]
    for loc in report.places:
        volume = snapshot.volume(volume_of(snapshot.os, loc.path, mounts))
        lines.append(f"  {loc.role.value}: {loc.path} ({_drive_words(snapshot, volume) or 'not mounted'})")
    lines.append("")
    if not report.here:
        lines += wrap(
            "Nothing about the drives explains a failure here. If uv failed, give uv-drive-guard its "
            "output: `uv sync 2>&1 | uv-drive-guard explain`.",
            "",
        )
        return lines
    for item in report.here:
        lines += _finding_words(item, f"{item.severity.value} {item.code}")
    lines += ["", "Preview a fix with `uv-drive-guard fix ID --dry-run`; `uv-drive-guard undo` takes it back."]
    return lines


def to_json(report: Report) -> dict[str, Any]:
    snapshot = report.snapshot
    return {
        "schema": 1,
        "mode": "output" if report.from_output else "here",
        "folder": report.folder,
        "messages": [_message_json(snapshot, item) for item in report.explained],
        "places": [{"role": p.role.value, "path": p.path, "volume": p.volume} for p in report.places],
        "findings": [finding_json(f) for f in report.here],
    }


def _message_json(snapshot: Snapshot, item: Explained) -> dict[str, Any]:
    sign = item.message.sign
    return {
        "text": item.message.text,
        "kind": item.message.kind.value,
        "sign": sign.key if sign else None,
        "what": sign.what if sign else None,
        "codes": list(item.message.codes),
        "paths": list(item.message.paths),
        "volume": volume_json(item.volume, snapshot.scope) if item.volume else None,
        "finding": finding_json(item.finding) if item.finding else None,
        "note": item.note,
    }


def exit_status(report: Report) -> int:
    """0: nothing about the drives explains a failure; 1: a finding does; 3: uv's output
    holds messages no rule knows (and none that a drive explains)."""
    if report.from_output:
        if any(i.finding is not None or i.message.kind is signs.Kind.DRIVE for i in report.explained):
            return 1
        return 3 if any(i.message.kind is signs.Kind.UNKNOWN for i in report.explained) else 0
    return 1 if report.here else 0
