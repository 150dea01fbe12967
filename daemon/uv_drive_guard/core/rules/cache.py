"""The cache, tool and Python directories: lock files, junctions, file locks (UVD001, UVD006,
UVD007, UVD009).

Each holds a `.lock` that uv persists without replacing (seen: `uv tool install` with
UV_TOOL_DIR on exFAT fails on it), and each is locked while uv works in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from .. import capability as cap
from ..fixes import move_off_drive, upgrade
from ..messages import HELD, ROLE_NAMES, Text, cause_prefix, drive, guess_note, os_error, sentence, unread, where
from ..model import Fix, Location, Op, Os, Role, Severity, Snapshot, Volume
from ..versions import Version, at_least, before, may_be_before, parse
from .base import LOCKED_ROLES, Hit, Rule, Scene, present

# --- the checks -------------------------------------------------------------------------


def check_junction_cache(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """uv before 0.6 links cache entries with junctions on Windows (#11233)."""
    old = may_be_before(scene.uv, (0, 6, 0))
    if scene.os is Os.WINDOWS and loc.role is Role.CACHE and old and cap.can(vol, Op.JUNCTION) is False:
        yield Hit(loc, cache_junction_text(loc, vol, scene.uv))


def check_unusable(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if lock_problem(scene, loc, vol) == "UVD006":
        yield Hit(loc, cache_unusable_text(loc, vol, scene.uv))


def check_old_uv(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if lock_problem(scene, loc, vol) == "UVD007":
        yield Hit(loc, cache_lock_old_uv_text(loc, vol, scene.uv))


# the rules about the lock files uv persists in a cache, tool or Python directory
LockRule = Literal["UVD006", "UVD007"]


def lock_problem(scene: Scene, loc: Location, vol: Volume) -> LockRule | None:
    """Which lock-file rule holds for a locked directory: UVD006, UVD007 or none."""
    if not scene.os.unix or loc.role not in LOCKED_ROLES:
        return None
    errno = _persist_errno(scene, vol)
    unsupported = cap.persist_unsupported(scene.os, errno)
    no_links = loc.role is Role.CACHE and cap.symlinks(vol, scene.os) is False
    if errno is not None and unsupported and may_be_before(scene.uv, (0, 9, 18)) and not no_links:
        return "UVD007"
    if (errno is not None and not unsupported) or no_links:
        return "UVD006"
    return None


def _persist_errno(scene: Scene, vol: Volume) -> int | None:
    """uv before 0.5.30 created lock files plainly (PR #11328 brought persist_noclobber)."""
    return None if before(scene.uv, (0, 5, 30)) else cap.persist_errno(vol)


def locks_refused(scene: Scene, loc: Location, vol: Volume) -> bool:
    """No lock, no cache (nor tool or Python directory): flock refused, or uv 0.10.3 on NFS."""
    if loc.role not in LOCKED_ROLES or not scene.os.unix:
        return False
    return cap.can(vol, Op.FLOCK_EXCLUSIVE) is False or nfs_lock_bug(vol, scene.uv)


def check_no_locks(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if locks_refused(scene, loc, vol):
        yield Hit(loc, no_locks_text(loc, vol, scene.uv))


def cache_broken(scene: Scene, vol: Volume) -> bool:
    """A cache uv cannot use at all: nothing is linked from it (its own finding says why)."""
    if scene.os is Os.WINDOWS:
        return may_be_before(scene.uv, (0, 6, 0)) and cap.can(vol, Op.JUNCTION) is False
    errno = _persist_errno(scene, vol)
    if errno is None:
        return cap.symlinks(vol, scene.os) is False
    plain_create = cap.persist_unsupported(scene.os, errno) and at_least(scene.uv, (0, 9, 18))
    return cap.symlinks(vol, scene.os) is False or not plain_create


# --- what they say -------------------------------------------------------------------


def _persist_message(loc: Location, vol: Volume, uv: Version | None) -> str:
    persist = os_error(vol, Op.RENAME_NOREPLACE, "Operation not permitted (os error 1)")
    if uv is not None and uv < (0, 9, 18):
        return f"error: {persist}"  # no context before PR #17115 (groundtruth: 0.8.24, 0.9.17)
    lines = [f"Could not persist temporary file `{loc.path}/.tmpXXXXXX`", persist]
    if loc.role is Role.CACHE:
        return "error: Could not acquire lock\n" + "\n".join(cause_prefix(uv) + line for line in lines)
    return f"error: {lines[0]}\n{cause_prefix(uv)}{lines[1]}"  # tool and Python dirs: no lock line


def _cache_uv_message(loc: Location, vol: Volume, uv: Version | None) -> str:
    if loc.role is Role.CACHE and cap.can(vol, Op.RENAME_NOREPLACE) is True:
        link = os_error(vol, Op.SYMLINK_DIR, "Operation not permitted (os error 1)")
        return (  # lock files work; the cache's links do not
            "error: Failed to write to the distribution cache\n"
            f"{cause_prefix(uv)}failed to symlink file from {loc.path}/wheels-v5/... to "
            f"{loc.path}/archive-v0/...: {link}"
        )
    return _persist_message(loc, vol, uv)


def cache_unusable_text(loc: Location, vol: Volume, uv: Version | None = None) -> Text:
    if loc.role is not Role.CACHE:
        return Text(
            title=f"uv cannot create its lock files on {drive(vol)}: {ROLE_NAMES[loc.role]} fails",
            detail=(
                f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv keeps a "
                f"lock file there, created by renaming without replacing, and {vol.fstype} "
                f"on this system refuses that{guess_note(vol)}. Every command that uses this "
                "directory fails; link mode does not help. Move it to your internal disk."
            ),
            uv_message=_persist_message(loc, vol, uv),
        )
    return Text(
        title=f"uv cannot keep its cache on {drive(vol)}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). "
            f"{vol.fstype} on this system refuses the file operations uv's cache is built on: "
            "creating lock files without replacing, and symbolic links"
            f"{guess_note(vol)}. Every uv command that touches the cache will fail. "
            "Changing the link mode does not help: the failing step is inside the cache. "
            "Move the cache to a drive with a native filesystem."
        ),
        uv_message=_cache_uv_message(loc, vol, uv),
    )


def cache_lock_old_uv_text(loc: Location, vol: Volume, uv: Version | None = None) -> Text:
    unsupported = 95 if vol.fstype in cap.OBJECT_STORAGE or vol.mount_fstype in cap.OBJECT_STORAGE else 45
    persist = os_error(vol, Op.RENAME_NOREPLACE, f"Operation not supported (os error {unsupported})")
    which = "This uv" if uv is not None else "uv before 0.9.18"
    return Text(
        title=f"{which} cannot create lock files on {drive(vol)}; uv 0.9.18 can",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). The drive "
            "does not support renaming a file without replacing, which uv uses for its lock "
            f"files. uv 0.9.18 and newer then create the lock file directly (uv PR #17115).{unread(uv)}"
        ),
        uv_message=f"error: {persist}",  # uv < 0.9.18: no context line (matrix, 0.9.17)
    )


def cache_junction_text(loc: Location, vol: Volume, uv: Version | None = None) -> Text:
    return Text(
        title=f"uv before 0.6 cannot keep its cache on {drive(vol)}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv up to "
            "0.5 links cache entries with NTFS junctions, which this drive cannot hold, so "
            "every install fails. UV_LINK_MODE=copy does not help: the failing step is inside "
            f"the cache (uv issue #11233). uv 0.6.0 replaced the junctions (PR #11269).{unread(uv)}"
        ),
        uv_message=("error: Failed to read from the distribution cache\n  Caused by: Incorrect function. (os error 1)"),
    )


NFS = ("nfs", "nfs4")


def nfs_lock_bug(vol: Volume, uv: Version | None) -> bool:
    """uv 0.10.3 opened lock files read-only; NFS emulates flock with fcntl locks, which need
    a file open for writing: every lock failed with EBADF (#18061, fixed in 0.10.4 by #18071).
    Our own probe locks a file opened for writing, so it cannot see this: the version can (and
    a uv whose version could not be read may be that one)."""
    return uv in ((0, 10, 3), None) and vol.fstype in NFS


def no_locks_text(loc: Location, vol: Volume, uv: Version | None) -> Text:
    title = f"{drive(vol)} refuses file locks, which uv needs"
    if nfs_lock_bug(vol, uv):
        error = f"failed to lock `{loc.path}`: Bad file descriptor (os error 9)"
        advice = f"uv 0.10.4 fixed this (#18071): upgrade uv, or keep the directory on a local disk.{unread(uv)}"
        if uv is None and cap.can(vol, Op.FLOCK_EXCLUSIVE) is not False:
            title = f"uv 0.10.3 cannot lock its files on {drive(vol)}"
    else:
        error = os_error(vol, Op.FLOCK_EXCLUSIVE, "Function not implemented (os error 38)")
        advice = "Keep the directory on a local disk."
    return Text(
        title=title,
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv locks "
            "its directories so that two uv processes never write the same files; this "
            f"filesystem refuses the lock. {advice}"
        ),
        uv_message=f"error: Could not acquire lock\n{cause_prefix(uv)}{error}",
    )


# --- the fixes and the rules ------------------------------------------------------------


def _nfs_upgrade(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """uv 0.10.3's EBADF on NFS is gone in 0.10.4 (#18071): upgrading is a fix there."""
    vol = snapshot.volume(loc.volume)
    return (upgrade(code, "0.10.4", loc),) if vol and nfs_lock_bug(vol, parse(snapshot.uv.version)) else ()


RULES = (
    Rule(
        code="UVD001",
        severities=(Severity.ERROR,),
        fact="R1, #11233, PR #11269",
        summary="Windows, uv < 0.6.0, cache on a drive without junctions (the case of uv issue #11233)",
        offers="upgrade uv; move the cache. Never copy mode: the failing step is inside the cache",
        fixes=lambda c, s, loc: present(upgrade(c, "0.6.0", loc), move_off_drive(c, s, loc)),
        place=check_junction_cache,
        cannot=lambda loc, vol: f"uv before 0.6 cannot keep {HELD[loc.role]} there",
    ),
    Rule(
        code="UVD006",
        severities=(Severity.ERROR,),
        fact="R6",
        summary="Linux/macOS, cache on a drive that refuses uv's no-replace lock persist or symlinks",
        offers="move the cache back to uv's default where it is set. Never copy mode",
        fixes=lambda c, s, loc: present(move_off_drive(c, s, loc)),
        place=check_unusable,
        cannot=lambda loc, vol: (
            "uv cannot keep its cache there" if loc.role is Role.CACHE else "uv cannot create its lock files there"
        ),
    ),
    Rule(
        code="UVD007",
        severities=(Severity.ERROR,),
        fact="R7, PR #17115",
        summary="persist refused with ENOTSUP/EINVAL and uv < 0.9.18 (PR #17115)",
        offers="upgrade uv; move the cache",
        fixes=lambda c, s, loc: present(upgrade(c, "0.9.18", loc), move_off_drive(c, s, loc)),
        place=check_old_uv,
        cannot=lambda loc, vol: "uv before 0.9.18 cannot create its lock files there",
    ),
    Rule(
        code="UVD009",
        severities=(Severity.ERROR,),
        fact="R9",
        summary="a locked uv directory on a drive that refuses flock",
        offers="move the directory",
        fixes=lambda c, s, loc: present(*_nfs_upgrade(c, s, loc), move_off_drive(c, s, loc)),
        place=check_no_locks,
        cannot=lambda loc, vol: (
            f"uv cannot lock {HELD[loc.role]} there"
            if cap.can(vol, Op.FLOCK_EXCLUSIVE) is False or vol.fstype not in NFS
            else "uv 0.10.3 cannot lock its files there"
        ),
    ),
)
