"""Ask a volume what it can do, in one hidden scratch directory that never outlives the probe.

Rules: never probe a read-only volume; bound the probe in time (a wedged FUSE driver must not
hang the scan); remove the scratch directory always, and any a crash left behind next time.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from ...core import capability as cap
from ...core.model import OPS, Capabilities, Os, Volume
from .. import bounded, platforms
from ._common import Result

log = logging.getLogger(__name__)
PREFIX = ".uv-drive-guard-probe-"
Runner = Callable[[Path], Mapping[str, Result]]


def _native_runner() -> Runner:
    os_ = platforms.current()
    if os_ is Os.WINDOWS:
        from . import _windows

        return _windows.run  # each operation behind its own guard
    if os_ is Os.MACOS:
        from . import _macos

        return _macos.run  # each operation behind its own guard
    from . import _linux, _posix

    return lambda scratch: _posix.run_ops(scratch, clone=_linux.ficlone, rename_noreplace=_linux.renameat2_noreplace)


def clean_leftovers(parent: Path) -> int:
    """Scratch directories a crash or a yanked drive left behind; returns how many went."""
    removed = 0
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(PREFIX)]
    except OSError:
        return 0
    for entry in entries[:20]:
        if _owner_alive(entry.path):
            continue  # another probe (another scan, another uv-drive-guard) is working there
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed


WORKERS: bounded.Workers[Capabilities] = bounded.Workers("probe")
_ACTIVE: set[str] = set()  # this process's scratch directories in use right now
STALE_AFTER = 60.0  # seconds: a probe takes milliseconds, so an older directory is left over


def _owner_alive(path: str) -> bool:
    """Scratch names carry the prober's pid. Ours are leftovers unless in use now; another
    live process's are left alone while young (its probe may be running)."""
    name = os.path.basename(path)
    try:
        pid = int(name[len(PREFIX) :].split("-", 1)[0])
    except ValueError:
        return False
    if pid == os.getpid():
        return path in _ACTIVE
    try:
        if time.time() - os.stat(path).st_mtime > STALE_AFTER:
            return False
    except OSError:
        return False
    if platforms.current() is Os.WINDOWS:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def free_bytes(path: Path) -> int | None:
    """What an unprivileged user may still write there (statvfs f_bavail; Windows: the free
    space for this user)."""
    if sys.platform == "win32":  # a type guard (os.statvfs is POSIX's), see edges.platforms
        try:
            return shutil.disk_usage(path).free
        except OSError:
            return None
    try:
        info = os.statvfs(path)
    except OSError:
        return None
    if info.f_blocks == 0:
        return None  # fusefat reports no blocks at all: the size is not known, not zero
    return int(info.f_bavail * info.f_frsize)


def _to_capabilities(results: Mapping[str, Result], free: int | None = None) -> Capabilities:
    return Capabilities(
        free=free,
        results=tuple((op, results[op][0]) for op in OPS if op in results),
        errors=tuple((op, r[2]) for op, r in results.items() if r[2] and r[0] is not True),
        errnos=tuple((op, r[1]) for op, r in results.items() if r[1] is not None and r[0] is not True),
        probed=True,
    )


def _writable_parent(candidates: Iterable[str]) -> Path | None:
    """Runs in the probe's worker: even a stat of a dead FUSE mount can hang or fail."""
    for candidate in candidates:
        path = Path(candidate)
        try:
            if path.is_dir() and os.access(path, os.W_OK | os.X_OK):
                return path
        except OSError:
            continue
    return None


def probe(
    volume: Volume,
    *,
    places: Iterable[str] = (),
    timeout: float = 3.0,
    runner: Runner | None = None,
) -> Capabilities:
    """Probe `volume` in its root, or else in the first writable directory of `places` on it."""
    if volume.read_only:
        return Capabilities(note="read-only volume: not probed")
    refused = never_probed(volume)
    if refused:
        return Capabilities(note=refused)
    candidates = (volume.mountpoint, *places)
    # A syscall stuck in a dead FUSE driver cannot be interrupted: at most one thread per drive.
    try:
        finished, caps = WORKERS.run(
            f"{volume.mountpoint}\0{volume.device}",  # another drive at the same place gets its own
            lambda: _probe_somewhere(candidates, runner or _native_runner()),
            timeout,
        )
    except Exception:  # a bug in one probe must not stop the scan of the others
        log.exception("probe of %s failed", volume.mountpoint)
        return Capabilities(note="probe failed")
    if not finished:
        log.warning("probe of %s did not finish in %.1f s", volume.mountpoint, timeout)
        return Capabilities(note=f"the drive did not answer within {timeout:g} s")
    return caps or Capabilities(note="probe failed")


def never_probed(volume: Volume) -> str | None:
    """Places where writing a scratch directory costs more than it tells: a OneDrive folder (its
    files are uploaded, and reading a placeholder downloads it), object storage (each file is an
    object in a bucket: requests, billing, versions). They are judged by their kind."""
    if volume.fstype == cap.ONEDRIVE:
        return "a OneDrive folder: never probed (files there are synced to the cloud)"
    if cap.not_a_disk(volume) and (volume.fstype in cap.OBJECT_STORAGE or volume.mount_fstype in cap.OBJECT_STORAGE):
        return "object storage: never probed (every file is an object in a bucket)"
    return None


def _remove(scratch: Path) -> None:
    if platforms.current() is Os.WINDOWS:
        shutil.rmtree(scratch, ignore_errors=True)
        return
    from . import _posix

    _posix.remove_scratch(scratch)


GONE = Capabilities(note="the drive went away during the probe")


def _probe_somewhere(candidates: tuple[str, ...], runner: Runner) -> Capabilities:
    try:
        device = _mounted(candidates[0])
        if device is None:  # unmounted since it was listed: the directory is the disk beneath
            return GONE
        parent = _writable_parent(candidates)
        if parent is None:
            return Capabilities(note="no writable directory on this volume: not probed")
        if os.stat(parent).st_dev != device:
            return GONE
        caps = _probe_in(parent, runner)
        return caps if _mounted(candidates[0]) == device else GONE  # what we probed was the drive
    except OSError as exc:  # the drive went away under us
        return Capabilities(note=f"the drive does not answer: {exc.strerror or exc}")


def _mounted(mountpoint: str) -> int | None:
    """The device number of the filesystem mounted at `mountpoint`, or None when nothing is
    mounted there any more (a drive ejected between the listing and the probe: probing then
    would measure, and write into, the system disk under the empty mount point)."""
    if platforms.current() is Os.WINDOWS:
        return os.stat(mountpoint).st_dev if os.path.exists(mountpoint) else None
    return os.stat(mountpoint).st_dev if os.path.ismount(mountpoint) else None


def _probe_in(parent: Path, runner: Runner) -> Capabilities:
    clean_leftovers(parent)
    scratch = parent / f"{PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    _ACTIVE.add(str(scratch))
    try:
        scratch.mkdir()
    except OSError as exc:
        _ACTIVE.discard(str(scratch))
        return Capabilities(note=f"could not create a scratch directory: {exc.strerror}", free=free_bytes(parent))
    try:
        return _to_capabilities(runner(scratch), free_bytes(parent))
    except OSError as exc:
        log.warning("probe in %s failed: %s", parent, exc)
        return Capabilities(note=f"probe failed: {exc.strerror or exc}")
    finally:
        _remove(scratch)
        _ACTIVE.discard(str(scratch))
        if os.path.lexists(scratch):
            log.warning("could not remove probe directory %s; removed at the next probe", scratch)
