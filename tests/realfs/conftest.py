"""Helpers shared by the real-filesystem tests (beyond what drives.py offers)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from . import drives

# The fixtures of the scan-vs-uv tests (a find-links dir with tinypkg, a fresh dir under /mnt that
# the scan covers automatically, a throwaway HOME), for every test here.
from .test_scan_vs_uv import home, mnt_dir, wheels  # noqa: F401


@contextlib.contextmanager
def mount_at(kind: str, mountpoint: Path, work: Path, label: str | None = "UVDGTEST") -> Iterator[drives.Drive]:
    """Like :func:`drives.make_drive`, but mounted at exactly ``mountpoint`` (created here, any
    name, e.g. one with quotes, ``$(...)`` and spaces); the image and logs live in ``work``.

    Always unmounts, detaches the loop device and removes the (empty) mount point.
    """
    if kind not in drives.LOOP_KINDS:
        raise ValueError(f"mount_at supports image-backed kinds, not {kind!r}")
    tag = f"{kind}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True, exist_ok=True)
    mountpoint.mkdir(parents=True)
    image = work / f"{tag}.img"
    device = ""
    try:
        with image.open("wb") as fh:
            fh.truncate(drives.DEFAULT_SIZE_MB[kind] * 1024 * 1024)
        drives.mkfs(kind, str(image), label)
        losetup = drives.which("losetup") or "losetup"
        device = drives._run([losetup, "--find", "--show", str(image)]).stdout.strip()
        if not device.startswith("/dev/"):
            raise drives.DriveError(f"losetup returned {device!r}")
        cmd = drives._mount_cmd(kind, device, mountpoint, drives.DEFAULT_SIZE_MB[kind])
        if kind in drives.FUSE_KINDS:
            drives._run_daemon(cmd, work / f"{tag}.mount.log")
        else:
            drives._run(cmd)
        drives._wait_mounted(mountpoint)
        yield drives.Drive(mountpoint=mountpoint, device=device, image=image, kind=kind)
    finally:
        try:
            drives._unmount(mountpoint)
        finally:
            if device.startswith("/dev/"):
                drives._detach(device)
            with contextlib.suppress(OSError):
                mountpoint.rmdir()
