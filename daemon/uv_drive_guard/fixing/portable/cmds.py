"""`uv-drive-guard envs` and `uv-drive-guard env PATH`: what is kept on this computer, for whom.

Listing reads the data directory and the registry; sizes come from a bounded walk of our own
directory. Removal asks first, always: an environment is never deleted silently.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ...core import portable as core
from ...core.model import PortableDrive, Volume
from ...core.resolve import volume_of
from ...core.scope import DEFAULT_MOUNT_ROOTS
from ...edges import platforms
from ...edges.volumes import list_volumes
from .. import portable

MAX_ENTRIES = 200_000
GONE_AFTER = 90 * 24 * 3600.0  # a drive not seen for three months is worth a second look


@dataclass(frozen=True)
class KeptEnv:
    id: str  # "<drive-id>/<name>", what `envs --remove` takes
    path: Path
    drive: PortableDrive | None
    project: str | None  # the path inside the drive; None when no record names it
    size: int
    status: str  # "ok", "project gone", "drive not seen for N days", "not set up"
    label: str | None = None  # the drive's label, as the registry or the drive itself has it
    mount: str | None = None  # where the drive is mounted now; None when it is not


def _mounted(mount_roots: Iterable[str]) -> dict[str, Volume]:
    """Drives mounted now, by identity: a drive whose setup was undone is still named by them."""
    found: dict[str, Volume] = {}
    for volume in list_volumes(mount_roots):
        ident = core.drive_id(volume)
        if ident is not None:
            found.setdefault(ident, volume)
    return found


def _size(path: Path) -> int:
    total, count = 0, 0
    for root, dirs, files in os.walk(path):  # never follows symlinks into other places
        for name in files:
            count += 1
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
        if count > MAX_ENTRIES:
            break
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return total


def _projects(drive: PortableDrive | None) -> dict[str, str]:
    if drive is None:
        return {}
    return {core.env_name(rel): rel for rel in (*drive.projects, *drive.seen)}


def kept(
    root: Path | None = None,
    now: float | None = None,
    *,
    mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS,
    mounted: dict[str, Volume] | None = None,
) -> list[KeptEnv]:
    """Every environment directory under envs/, and every set-up project whose one uv has not made
    yet; each named by its drive's label and where the drive is mounted now (`mounted`: by
    identity, read from the system when not given)."""
    root = root or portable.data_dir()
    now = now or time.time()
    drives = {d.drive_id: d for d in portable.load(root)}
    live = _mounted(mount_roots) if mounted is None else mounted
    envs = root / "envs"
    found: list[KeptEnv] = []
    for drive_dir in sorted(envs.iterdir()) if envs.is_dir() else ():
        drive = drives.get(drive_dir.name)
        names = _projects(drive)
        for env in sorted(drive_dir.iterdir()) if drive_dir.is_dir() and not drive_dir.is_symlink() else ():
            rel = names.get(env.name)
            item = KeptEnv(f"{drive_dir.name}/{env.name}", env, drive, rel, _size(env), _status(drive, rel, now))
            found.append(_named(item, drive_dir.name, live))
    made = {item.id for item in found}
    for drive in drives.values():
        for name, rel in _projects(drive).items():
            if f"{drive.drive_id}/{name}" not in made and (drive.whole or rel in drive.projects):
                path = envs / drive.drive_id / name
                item = KeptEnv(f"{drive.drive_id}/{name}", path, drive, rel, 0, "not made yet: `uv sync` there")
                found.append(_named(item, drive.drive_id, live))
    return found


def _named(item: KeptEnv, ident: str, live: dict[str, Volume]) -> KeptEnv:
    volume = live.get(ident)
    label = (volume.label if volume else None) or (item.drive.label if item.drive else None)
    return replace(item, label=label, mount=volume.mountpoint if volume else None)


def _status(drive: PortableDrive | None, rel: str | None, now: float) -> str:
    if drive is None:
        return "not set up (the drive's setup was undone)"
    if rel is None:
        return "project gone (moved or renamed on the drive?)"
    if drive.mount is not None and rel not in drive.seen and rel not in drive.projects:
        return "project gone"
    if drive.mount is None and now - drive.last_seen > GONE_AFTER:
        return f"drive not seen for {int((now - drive.last_seen) // 86400)} days"
    return "ok"


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _when(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "never"


def lines(items: list[KeptEnv], *, as_json: bool = False) -> Iterator[str]:
    if as_json:
        yield json.dumps([_as_dict(i) for i in items], indent=2)
        return
    if not items:
        yield "No environments are kept on this computer for projects on drives."
        return
    for item in items:
        drive = item.drive
        name = item.label or item.id.split("/")[0]
        if item.mount:
            where = f"mounted at {item.mount}"
        elif drive:
            where = f"last seen {_when(drive.last_seen)}, not mounted"
        else:
            where = "not mounted"
        project = item.project or "project unknown"
        yield f"{item.id}  {name}: {project}  {_human(item.size)}  {where}  {item.status}"


def _as_dict(item: KeptEnv) -> dict[str, object]:
    drive = item.drive
    return {
        "id": item.id,
        "path": str(item.path),
        "drive": drive.drive_id if drive else item.id.split("/")[0],
        "label": item.label,
        "project": item.project,
        "size": item.size,
        "last_seen": drive.last_seen if drive else None,
        "mount": item.mount,
        "status": item.status,
    }


def remove(ident: str, confirm: Callable[[str], bool], root: Path | None = None) -> tuple[int, list[str]]:
    """Delete one kept environment (or all of a drive's), after saying what and asking."""
    root = root or portable.data_dir()
    chosen = [i for i in kept(root, mounted={}) if (i.id == ident or i.id.split("/")[0] == ident) and i.path.exists()]
    if not chosen:
        return 2, [f"uv-drive-guard: no environment {ident!r}; `uv-drive-guard envs` lists them"]
    envs = (root / "envs").resolve()
    out = [f"{i.path} ({_human(i.size)}, {i.project or 'unknown project'})" for i in chosen]
    if not confirm(f"Delete {len(chosen)} environment(s)?\n  " + "\n  ".join(out) + "\n"):
        return 1, ["Nothing was deleted."]
    for item in chosen:
        real = item.path.resolve()
        if real.parent.parent != envs or item.path.is_symlink():
            return 2, [f"uv-drive-guard: {item.path} is not one of ours; it was left alone"]
        shutil.rmtree(real)
    return 0, [f"Deleted {p}" for p in out] + ["`uv sync` in the project makes a new one."]


def environment(
    path: str, *, python: bool = False, root: Path | None = None, mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS
) -> tuple[int, str]:
    """The environment this computer keeps for the project holding `path` (for editors);
    `mount_roots`, the user's, say where a drive's identity is worth a closer look."""
    root = root or portable.data_dir()
    os_ = platforms.current()
    project = _project_root(Path(path).absolute())
    if project is None:
        return 2, f"uv-drive-guard: no pyproject.toml at or above {path}"
    mounts = {v.mountpoint: v for v in list_volumes(mount_roots)}
    mount = volume_of(os_, str(project), tuple(mounts))
    vol = mounts.get(mount or "")
    did = core.drive_id(vol)
    rel = core.relpath(os_, str(project), vol.mountpoint) if vol and did else None
    drive = next((d for d in portable.load(root) if d.drive_id == did), None)
    if did is None or rel is None or not core.covers(drive, rel):
        return 1, f"uv-drive-guard: {project} is not set up to keep its environment on this computer"
    env = core.env_dir(os_, str(root), did, rel)
    return 0, core.interpreter(os_, env) if python else env


def _project_root(start: Path) -> Path | None:
    """The nearest directory with a pyproject.toml (a regular file, never read), up to 32 levels."""
    for candidate in [start, *start.parents][:32]:
        try:
            if (candidate / "pyproject.toml").is_file():
                return candidate
        except OSError:
            return None
    return None
