"""The portable projects registry, read: which drives keep their projects' environments here.

The scan reads it (`attach`) to see which environments live on this computer; writing it, and
the shell files generated from it, is the fix engine's (fixing.portable). Nothing here touches
a drive: the records are matched to the scan's volumes by identity.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from ..core import portable as core
from ..core.model import HintLine, PortableDrive, Snapshot

log = logging.getLogger("uv_drive_guard.fixing.portable")  # the name its warnings always had
REGISTRY = "portable.json"
SEEN_EVERY = 3600.0  # last-seen is rewritten at most hourly: a scan does not rewrite the file


def data_dir() -> Path:
    """Local, not roaming (Windows): an environment belongs to one computer."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("uv-drive-guard", appauthor=False, roaming=False))


def to_json(drive: PortableDrive) -> dict[str, Any]:
    data = asdict(drive)
    data["projects"], data["seen"] = list(drive.projects), list(drive.seen)
    return data


def from_json(data: dict[str, Any]) -> PortableDrive | None:
    """One record; None for anything malformed (the file may have been edited by hand)."""
    try:
        drive = PortableDrive(
            drive_id=str(data["drive_id"]),
            label=None if data.get("label") is None else str(data["label"]),
            whole=bool(data.get("whole", False)),
            projects=tuple(str(p) for p in data.get("projects", ())),
            seen=tuple(str(p) for p in data.get("seen", ())),
            mount=None if data.get("mount") is None else str(data["mount"]),
            last_mount=str(data.get("last_mount", "")),
            last_seen=float(data.get("last_seen", 0.0)),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return drive if core.valid_id(drive.drive_id) else None


def line_to_json(line: HintLine) -> dict[str, Any]:
    data = asdict(line)
    data["flags"] = list(line.flags)
    return data


def line_from_json(data: dict[str, Any]) -> HintLine | None:
    """One line of the hint; None for anything malformed (a hand edit never becomes shell code)."""
    try:
        texts = [data["text"], data["mount"], data["witness"], data.get("variable", "")]
        flags = data.get("flags", [])
        if not all(isinstance(t, str) for t in (*texts, *flags)) or not isinstance(flags, list):
            return None
        return HintLine(
            data["text"],
            data["mount"],
            data["witness"],
            everywhere=bool(data.get("everywhere", False)),
            variable=data.get("variable", ""),
            from_variable=bool(data.get("from_variable", False)),
            flags=tuple(flags),
        )
    except (KeyError, TypeError):
        return None


def _read(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / REGISTRY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s cannot be read (%s): portable projects are off until it is fixed", root / REGISTRY, exc)
        return {}
    return data if isinstance(data, dict) else {}


def load(root: Path) -> tuple[PortableDrive, ...]:
    items = _read(root).get("drives", [])
    items = items if isinstance(items, list) else []
    return tuple(d for d in (from_json(x) for x in items if isinstance(x, dict)) if d is not None)


def load_hint(root: Path) -> tuple[HintLine, ...] | None:
    """The hint after uv fails, with the lines the last scan gave it; None while it is off."""
    hint = _read(root).get("hint")
    if not isinstance(hint, dict):
        return None
    items = hint.get("lines", [])
    items = items if isinstance(items, list) else []
    return tuple(x for x in (line_from_json(i) for i in items if isinstance(i, dict)) if x is not None)


def current(drives: tuple[PortableDrive, ...], snapshot: Snapshot, now: float) -> tuple[PortableDrive, ...]:
    """Each record with where its drive is now and which projects the scan's walk found on it.
    Nothing here touches the drive (a frozen driver would hang a stat): a walk that found no
    project there (given up, or none yet) keeps what was seen before."""
    out = []
    for drive in drives:
        vol = next((v for v in snapshot.volumes if core.drive_id(v) == drive.drive_id), None)
        if vol is None:
            out.append(replace(drive, mount=None))
            continue
        found = [core.relpath(snapshot.os, a.path, vol.mountpoint) for a in core.projects_on(snapshot, vol.mountpoint)]
        seen = tuple(sorted({r for r in found if r is not None})) or drive.seen
        stamp = drive.last_seen if now - drive.last_seen < SEEN_EVERY and drive.mount == vol.mountpoint else now
        moved = replace(drive, mount=vol.mountpoint, last_mount=vol.mountpoint, seen=seen, last_seen=stamp)
        out.append(replace(moved, label=vol.label or drive.label))
    return tuple(out)


def attach(snapshot: Snapshot, root: Path | None = None) -> Snapshot:
    """Read-only: the scan sees which project environments live on this computer."""
    root = root or data_dir()
    drives = load(root)
    placed = replace(snapshot, data_dir=str(root), failure_hint=load_hint(root) is not None)
    if not drives:
        return placed
    return core.place(replace(placed, portable=current(drives, snapshot, time.time())))
