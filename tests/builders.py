"""The model's objects as tests build them: one way to make a drive, a snapshot, a finding, a fix.

Capabilities follow the case files' convention (tests/cases/*.toml): `op=True` worked, `op=False`
refused with no errno known, `op=<errno>` refused with that errno and uv's words for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    Artefact,
    ArtefactKind,
    Capabilities,
    Change,
    Finding,
    Fix,
    Location,
    Os,
    Role,
    Severity,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.fixing import plan
from uv_drive_guard.fixing import portable as registry
from uv_drive_guard.fixing.journal import Journal

# Rust's io::Error texts for the errnos tests use (Linux), as uv prints them.
ERRNO_TEXT = {
    1: "Operation not permitted",
    5: "Input/output error",
    18: "Invalid cross-device link",
    38: "Function not implemented",
    95: "Operation not supported",
}
STICK = "/media/ana/STICK"  # where the tests' stick is mounted, unless they say otherwise


def caps(**ops: bool | int) -> Capabilities:
    """A probed volume's answers: `hardlink=True`, `symlink_file=38` (ENOSYS), `exec_bit=False`."""
    errnos = tuple((op, v) for op, v in ops.items() if not isinstance(v, bool))
    return Capabilities(
        results=tuple((op, v is True) for op, v in ops.items()),
        errors=tuple((op, f"{ERRNO_TEXT[v]} (os error {v})") for op, v in errnos),
        errnos=errnos,
        probed=True,
    )


EXFAT = caps(symlink_file=False, symlink_dir=False, rename_noreplace=1)  # exfat-fuse: no links, no RENAME_NOREPLACE
NO_LINKS = Capabilities(  # a stick that runs programs but makes no symlinks (errno only, as a recorded probe)
    results=(("symlink_file", False), ("symlink_dir", False), ("flock_exclusive", True), ("exec_bit", True)),
    errnos=(("symlink_file", 38),),
    probed=True,
)


def system_disk(device: str = "/dev/nvme0n1p2", capabilities: Capabilities | None = None) -> Volume:
    return Volume("/", device, "ext4", system=True, capabilities=capabilities or Capabilities(probed=True))


def stick(mountpoint: str = STICK, *, capabilities: Capabilities = EXFAT, **fields: Any) -> Volume:
    """A removable exFAT drive labelled STICK, unless `fields` say otherwise."""
    fields = {"device": "/dev/sdb1", "fstype": "exfat", "label": "STICK", "removable": True, **fields}
    return Volume(mountpoint, capabilities=capabilities, **fields)


def snapshot(
    volumes: tuple[Volume, ...], locations: tuple[Location, ...] = (), *, os: Os = Os.LINUX, **fields: Any
) -> Snapshot:
    """A Linux snapshot with uv 0.13.9 on PATH, unless `fields` say otherwise."""
    fields = {"uv": UvInfo("uv 0.13.9", "/usr/bin/uv"), **fields}
    return Snapshot(os=os, volumes=volumes, locations=locations, **fields)


def projects_on(
    tmp: Path, *, uuid: str | None = "1A2B-3C4D", projects: tuple[str, ...] = ("demo", "work/other")
) -> Snapshot:
    """A stick holding uv projects whose environments are on it (the portable projects' case);
    the home folder and uv-drive-guard's data directory under `tmp`."""
    drive = stick(STICK, capabilities=NO_LINKS, mount_fstype="fuseblk", uuid=uuid)
    home = tmp / "home"
    artefacts = tuple(
        Artefact(ArtefactKind.PROJECT, f"{STICK}/{p}", STICK, environment=f"{STICK}/{p}/.venv") for p in projects
    )
    locations = tuple(
        Location(
            Role.PROJECT_ENVIRONMENT,
            f"{STICK}/{p}/.venv",
            Source(SourceKind.DEFAULT, file=f"{STICK}/{p}", name="UV_PROJECT_ENVIRONMENT"),
            volume=STICK,
            project=f"{STICK}/{p}",
        )
        for p in projects
    )
    return snapshot(
        (system_disk(), drive),
        locations,
        uv=UvInfo("0.13.9", "/usr/bin/uv"),
        artefacts=artefacts,
        home=str(home),
        scope=(STICK,),
        defaults=((Role.CACHE, f"{home}/.cache/uv"),),
        data_dir=str(tmp / "data"),
    )


def fix(fix_id: str = "uvd006-move-off-drive-abc123", title: str = "Move uv's cache back", *changes: Change) -> Fix:
    return Fix(fix_id, title, "d", changes)


def finding(
    code: str = "UVD006",
    severity: Severity = Severity.ERROR,
    *,
    title: str = "t",
    location: Location | None = None,
    volume: str | None = None,
    fixes: tuple[Fix, ...] = (),
) -> Finding:
    """A finding whose words do not matter to the test (detail "d", uv's message "m")."""
    return Finding(code, severity, title, "d", "m", location, volume, fixes)


def portable_fix(
    tmp_path: Path, snap: Snapshot, fix_index: int = 0
) -> tuple[plan.Plan, Journal, dict[str, registry.Store]]:
    """The plan of the drive's portable-projects fix (UVD005's first fix, or another), with a
    journal and the registry's store under `tmp_path`."""
    finding = next(f for f in diagnose(snap) if f.code == "UVD005")
    ctx = plan.Machine(snap, {"SHELL": "/bin/bash"}, None)
    built = plan.build(finding, finding.fixes[fix_index], ctx)
    stores = {registry.STORE: registry.Store(Path(snap.data_dir), Os.LINUX)}
    return built, Journal(tmp_path / "journal"), stores
