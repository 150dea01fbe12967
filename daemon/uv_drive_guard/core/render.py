"""Findings as text for a terminal and as the pinned JSON document (docs/scan-json.md)."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from .capability import max_file_size
from .model import (
    OPS,
    Capabilities,
    Change,
    Command,
    FailureHint,
    Finding,
    Fix,
    Location,
    Manual,
    Op,
    PortableRegistry,
    Role,
    Severity,
    ShellHook,
    Snapshot,
    Source,
    SourceKind,
    StartupFile,
    Target,
    ThisTerminal,
    UserEnvironment,
    UvConfig,
    UvUpgrade,
    VariableStore,
    Volume,
    assert_never,
)
from .resolve import volume_of

SCHEMA_VERSION = 1
_MARK = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def source_json(source: Source) -> dict[str, Any]:
    return {
        "kind": source.kind.value,
        "file": source.file,
        "line": source.line,
        "name": source.name,
    }


def location_json(loc: Location) -> dict[str, Any]:
    return {
        "role": loc.role.value,
        "path": loc.path,
        "source": source_json(loc.source),
        "volume": loc.volume,
        "project": loc.project,
        "shadowed": [_shadowed_json(s) for s in loc.shadowed],
    }


def _shadowed_json(loc: Location) -> dict[str, Any]:
    return {"path": loc.path, "source": source_json(loc.source), "volume": loc.volume, "fails": loc.fails}


def capabilities_json(vol: Volume) -> dict[str, Any]:
    caps = vol.capabilities
    return {
        "probed": caps.probed,
        **{op.value: caps.get(op) for op in OPS},
        "max_file_size": max_file_size(vol),
        "free": caps.free,
        "errors": dict(caps.errors),
        "note": caps.note,
    }


def searched_on(snapshot: Snapshot, vol: Volume) -> tuple[str, ...] | None:
    """The folders of this drive the scan walked for projects and environments; None when
    the snapshot does not say (every drive in scope was walked)."""
    if snapshot.searched is None:
        return None
    mounts = tuple(v.mountpoint for v in snapshot.volumes)
    return tuple(root for root in snapshot.searched if volume_of(snapshot.os, root, mounts) == vol.mountpoint)


def volume_json(vol: Volume, scope: tuple[str, ...], searched: tuple[str, ...] | None = None) -> dict[str, Any]:
    return {
        "mountpoint": vol.mountpoint,
        "device": vol.device,
        "fstype": vol.fstype,
        "mount_fstype": vol.mount_fstype,
        "label": vol.label,
        "uuid": vol.uuid,
        "removable": vol.removable,
        "read_only": vol.read_only,
        "system": vol.system,
        "in_scope": vol.mountpoint in scope,
        "searched": list(searched) if searched is not None else ([vol.mountpoint] if vol.mountpoint in scope else []),
        "options": list(vol.options),
        "free": vol.free if vol.free is not None else vol.capabilities.free,
        "root": vol.root,
        "bind_of": vol.bind_of,
        "capabilities": capabilities_json(vol),
    }


def target_text(target: Target) -> str:
    """A change's `target` in the JSON document: a file, a store, a command, or a place in words."""
    match target:
        case StartupFile(path) | UvConfig(path):
            return path
        case UserEnvironment():
            return "user environment"
        case VariableStore(name):
            return name
        case ThisTerminal():
            return "this terminal's environment"
        case UvUpgrade():
            return "uv self update"
        case Command(argv):
            return " ".join(argv)
        case Manual(where):
            return where
        case PortableRegistry(drive_id):
            return drive_id
        case ShellHook():
            return "your shell's startup files"
        case FailureHint():
            return "your shell's hint after uv fails"
        case _:
            assert_never(target)


def _value(change: Change) -> str | None:
    """The JSON's `value`: for the shell hook, the directory of the file its line reads."""
    return change.target.directory if isinstance(change.target, ShellHook | FailureHint) else change.value


def change_json(change: Change) -> dict[str, Any]:
    return {
        "kind": change.kind.value,
        "target": target_text(change.target),
        "name": change.name,
        "value": _value(change),
        "line": change.line,
        "summary": change.summary,
    }


def fix_json(fix: Fix) -> dict[str, Any]:
    return {
        "id": fix.id,
        "title": fix.title,
        "detail": fix.detail,
        "recommended": fix.recommended,
        "changes": [change_json(c) for c in fix.changes],
    }


def finding_json(item: Finding) -> dict[str, Any]:
    return {
        "code": item.code,
        "severity": item.severity.value,
        "title": item.title,
        "detail": item.detail,
        "uv_message": item.uv_message,
        "location": location_json(item.location) if item.location else None,
        "volume": item.volume,
        "facts": item.facts,
        "fixes": [fix_json(f) for f in item.fixes],
        "folders": list(item.folders),
    }


_REPORTED_ROLE = {
    "cache": Role.CACHE,
    "tool": Role.TOOL_DIR,
    "tool-bin": Role.TOOL_BIN_DIR,
    "python": Role.PYTHON_INSTALL_DIR,
    "python-bin": Role.PYTHON_BIN_DIR,
}


def disagreements(snapshot: Snapshot) -> tuple[tuple[str, str, str], ...]:
    """Where uv itself (in this process's environment) puts a directory elsewhere than we
    resolved for it: (role, ours, uv's). Settings only a new terminal sees differ by design."""
    ours = {loc.role: loc for loc in snapshot.locations if loc.project is None}
    out = []
    for key, reported in snapshot.uv.reported:
        loc = ours.get(_REPORTED_ROLE[key]) if key in _REPORTED_ROLE else None
        if loc is None or loc.source.kind in _NEW_TERMINAL_ONLY:
            continue
        if loc.path.rstrip("/\\") != reported.rstrip("/\\"):
            out.append((loc.role.value, loc.path, reported))
    return tuple(out)


_NEW_TERMINAL_ONLY = (SourceKind.SHELL_FILE, SourceKind.ENVIRONMENT_D, SourceKind.LAUNCHCTL, SourceKind.REGISTRY_USER)


def to_json(snapshot: Snapshot, findings: tuple[Finding, ...]) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "os": snapshot.os.value,
        "uv": {
            "version": snapshot.uv.version,
            "executable": snapshot.uv.executable,
            "reported": dict(snapshot.uv.reported),
            "disagrees": [list(pair) for pair in disagreements(snapshot)],
        },
        "volumes": [volume_json(v, snapshot.scope, searched_on(snapshot, v)) for v in snapshot.volumes],
        "locations": [location_json(loc) for loc in snapshot.locations],
        "artefacts": [
            {
                "kind": a.kind.value,
                "path": a.path,
                "volume": a.volume,
                "uv_version": a.uv_version,
                "environment": a.environment,
                "workspace": a.workspace,
                "non_project": a.non_project,
                "environment_link": a.environment_link,
            }
            for a in snapshot.artefacts
        ],
        "findings": [finding_json(f) for f in findings],
        "notes": [{"volume": volume, "note": note} for volume, note in snapshot.notes],
        "unseen": [{"path": u.path, "reason": u.reason, "volume": u.volume} for u in snapshot.unseen],
    }


# --- text -------------------------------------------------------------------------------


_CONTROL = re.compile(r"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def visible(text: str) -> str:
    """Control characters in what files gave us (the CR of a CR LF line, which bash keeps in a
    value) shown escaped, as `\\r`: raw, a CR sends the terminal back to the line's start and
    the words after it hide the value. Line ends, CR LF ones too, and tabs stay."""
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


def wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(visible(text), width=96, initial_indent=indent, subsequent_indent=indent) or [indent]


def _abilities(caps: Capabilities) -> str:
    if not caps.probed:
        return f"not probed ({caps.note})" if caps.note else "not probed"
    names = {
        Op.HARDLINK: "hard links",
        Op.SYMLINK_FILE: "symlinks",
        Op.REFLINK: "clones",
        Op.RENAME_NOREPLACE: "no-replace rename",
        Op.FLOCK_EXCLUSIVE: "locks",
    }
    has = [label for op, label in names.items() if caps.get(op)]
    lacks = [label for op, label in names.items() if caps.get(op) is False]
    parts = []
    if has:
        parts.append("has " + ", ".join(has))
    if lacks:
        parts.append("no " + ", no ".join(lacks))
    return "; ".join(parts) or "probed"


def _volume_header(vol: Volume) -> list[str]:
    kind = "removable" if vol.removable else "fixed" if vol.removable is False else "drive"
    ro = ", read-only" if vol.read_only else ""
    return [
        f"{vol.name}: {vol.fstype} at {vol.mountpoint} ({kind}{ro}, {vol.device})",
        *wrap(_abilities(vol.capabilities), "  "),
    ]


def finding_lines(item: Finding) -> list[str]:
    lines = [f"  {_MARK[item.severity]} {item.code}: {visible(item.title)}"]
    lines += wrap(item.detail, "      ")
    lines.append("      uv would print:")
    lines += ["        " + line for line in visible(item.uv_message).splitlines()]
    for fix in item.fixes:
        star = " (recommended)" if fix.recommended else ""
        lines.append(f"      fix {fix.id}: {visible(fix.title)}{star}")
        lines += ["          - " + visible(c.summary) for c in fix.changes]
    return lines


def to_text(snapshot: Snapshot, findings: tuple[Finding, ...]) -> str:
    uv = snapshot.uv
    version = uv.version if (uv.version or "").startswith("uv ") else f"uv {uv.version}"
    if uv.version:
        head = f"{version}, at {uv.executable}"
    elif uv.executable:
        head = f"uv at {uv.executable}: its version could not be read"
    else:
        head = "uv: not found, on PATH or where uv's installers put it"
    lines = [head]
    lines += [f"  note: uv puts its {role} at {theirs}, not {path}" for role, path, theirs in disagreements(snapshot)]
    lines.append("")
    by_volume: dict[str | None, list[Finding]] = {}
    for item in findings:
        by_volume.setdefault(item.volume, []).append(item)
    for vol in snapshot.volumes:
        if vol.mountpoint not in snapshot.scope and vol.mountpoint not in by_volume:
            continue
        lines += _volume_header(vol)
        notes = [note for volume, note in snapshot.notes if volume == vol.mountpoint]
        lines += [line for note in notes for line in wrap(f"note: {note}", "  ")]
        items = by_volume.pop(vol.mountpoint, [])
        unseen = [u for u in snapshot.unseen if u.volume == vol.mountpoint]
        searched = searched_on(snapshot, vol)
        whole = searched is None or vol.mountpoint in searched
        if not whole:
            said = f"searched only {', '.join(searched)}" if searched else "not searched for projects"
            lines += wrap(f"{said}: elsewhere on it only uv's own directories were judged", "  ")
        lines += [line for item in items for line in finding_lines(item)]
        lines += [line for u in unseen for line in wrap(f"not looked at: {u.path}: {u.reason}", "  ")]
        if not items:
            partial = unseen or notes or not whole
            lines.append(
                "  ok: no problems for uv in what was looked at" if partial else "  ok: no problems for uv here"
            )
        lines.append("")
    for items in by_volume.values():  # drives that are configured but not plugged in
        lines.append("Not mounted:")
        lines += [line for item in items for line in finding_lines(item)]
        lines.append("")
    if not any(v.mountpoint in snapshot.scope for v in snapshot.volumes) and not findings:
        lines.append("No external drives found; pass a path to scan one.")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    lines.append(f"{errors} error(s), {warnings} warning(s).")
    return "\n".join(lines)
