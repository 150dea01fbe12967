"""Places that are no disk of this computer, or are split across several: OneDrive folders,
NFS, overlays, FUSE views of remote places, object storage, cluster filesystems, split Python
installs, RAM disks (UVD022 to UVD029). Each rests on a uv issue or a run here (docs/uv-facts.md,
R22 to R29); none of these places has to be removable to be judged (core/scope.py).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from .. import capability as cap
from ..fixes import copy_mode, fix_id, upgrade
from ..messages import HELD, ROLE_NAMES, Text, cause_prefix, drive, guess_note, sentence, unread, where
from ..model import Change, ChangeKind, Fix, Location, Manual, Op, Os, Role, Severity, Snapshot, SourceKind, Volume
from ..resolve import pathmod, volume_of
from ..versions import Version, may_be_before, parse
from .base import Hit, Rule, Scene, keep_on_computer, off_drive, present
from .links import effective_link_mode

ENVIRONMENTS = (Role.PROJECT_ENVIRONMENT, Role.VENV, Role.TOOL_DIR)
FILLED = (Role.CACHE, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR, Role.PROJECT_ENVIRONMENT, Role.VENV)
PYTHON_SCRATCH = (0, 2, 36)  # PR #6043: Python downloads unpack in `<install dir>/.temp`, not the cache

# --- the checks -------------------------------------------------------------------------


def check_onedrive(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """Hard links into (or out of) cloud files: os error 396, fatal once a wheel's first file
    was linked (uv-fs `link.rs`: a strategy that worked once is never abandoned)."""
    if scene.os is not Os.WINDOWS or vol.fstype != cap.ONEDRIVE or loc.role not in (*ENVIRONMENTS, Role.CACHE):
        return
    if loc.role is Role.CACHE or effective_link_mode(scene, loc) in ("hardlink", "clone"):
        yield Hit(loc, onedrive_text(loc, vol))


def check_nfs(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if not scene.os.unix or vol.fstype not in cap.NFS or loc.role not in FILLED:
        return
    yield Hit(loc, silly_rename_text(loc, vol, scene.uv))


def check_overlay_rename(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """uv renames an old `toolchains` directory to `python`; overlayfs refuses to rename a
    directory of a lower layer (EXDEV: the kernel's overlayfs.rst, "Renaming directories")."""
    if loc.role is not Role.PYTHON_INSTALL_DIR or vol.fstype not in cap.OVERLAY:
        return
    old = posixpath.join(posixpath.dirname(loc.path.rstrip("/")), "toolchains")
    if old in scene.snapshot.leftovers:
        yield Hit(loc, overlay_rename_text(loc, vol, old, scene.uv))


def check_unreadable_links(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if not scene.os.unix or loc.role not in (*ENVIRONMENTS, Role.PYTHON_INSTALL_DIR):
        return
    error = cap.links_unreadable(vol)
    if error is not None:
        yield Hit(loc, unreadable_links_text(loc, vol, error, scene.uv))


def check_object_storage(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if loc.role not in FILLED or not (vol.fstype in cap.OBJECT_STORAGE or vol.mount_fstype in cap.OBJECT_STORAGE):
        return
    yield Hit(loc, object_storage_text(loc, vol))


def check_cluster(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if scene.os.unix and vol.fstype in cap.CLUSTER and loc.role in (Role.CACHE, *ENVIRONMENTS):
        yield Hit(loc, cluster_text(loc, vol, scene.uv))


def check_split_python(scene: Scene, loc: Location) -> Iterator[Hit]:
    """`uv python install` unpacks into a temporary directory, then renames it into place: no
    copy follows a refused rename (uv-python `downloads.rs`, `rename_with_retry`). Two volumes
    decide, neither need be a drive: asked of every Python install directory."""
    vol = scene.volume(loc)
    if loc.role is not Role.PYTHON_INSTALL_DIR or vol is None:
        return
    mounts = tuple(v.mountpoint for v in scene.snapshot.volumes)
    if may_be_before(scene.uv, PYTHON_SCRATCH):
        cache = scene.cache_for(loc)
        scratch = cache.path if cache is not None else None
    else:
        scratch = str(pathmod(scene.os).join(loc.path, ".temp"))
    there = volume_of(scene.os, scratch, mounts) if scratch else None
    if there is not None and there != vol.mountpoint:
        yield Hit(loc, split_python_text(loc, vol, scratch or "", there, scene.uv))


def check_canonicalize(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if scene.os is Os.WINDOWS and vol.capabilities.get(Op.CANONICALIZE) is False:
        yield Hit(loc, no_final_path_text(loc, vol))


# --- what they say -------------------------------------------------------------------


def onedrive_text(loc: Location, vol: Volume) -> Text:
    inside = loc.role is not Role.CACHE
    return Text(
        title=f"{sentence(ROLE_NAMES[loc.role])} is in a OneDrive folder: uv's hard links fail there",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}), inside {vol.mountpoint}, "
            "which OneDrive keeps as cloud files. Windows refuses hard links "
            f"{'into' if inside else 'out of'} such files (`The cloud operation cannot be performed on a file "
            "with incompatible hardlinks`, uv issues #17945 and #9500), and uv stops at the first file that "
            "fails once another was linked (a link mode that worked is not given up). Copy mode avoids the "
            f"links; keeping the {'environment' if inside else 'cache'} outside OneDrive avoids the sync too."
        ),
        uv_message=(
            "error: Failed to install: <package>.whl\n  Caused by: failed to hardlink file from "
            f"{loc.path}\\... to ...: The cloud operation cannot be performed on a file with incompatible "
            "hardlinks. (os error 396)"
        ),
    )


def silly_rename_text(loc: Location, vol: Volume, uv: Version | None) -> Text:
    return Text(
        title=f"{sentence(ROLE_NAMES[loc.role])} is on a network share ({drive(vol)}): removals can fail",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}), on {vol.mountpoint}, an "
            f"{vol.fstype} share. When a file that is still open is deleted, the NFS client renames it to "
            "`.nfsXXXX` until it is closed, so a directory uv or a build backend empties is not empty yet: "
            "builds and reinstalls there fail now and then (uv issue #12036). Keep this directory on a "
            "local disk."
        ),
        uv_message=f"error: ...\n{cause_prefix(uv)}...Directory not empty (os error 39)",
    )


def overlay_rename_text(loc: Location, vol: Volume, old: str, uv: Version | None) -> Text:
    return Text(
        title=f"uv cannot move its old {old} into place on an overlay",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}), on an overlay "
            f"({vol.mountpoint}, a container's or a live system's filesystem), and the old directory "
            f"{old} of uv 0.2 is there. uv's next Python command renames it to {loc.path}, and an overlay "
            "refuses to rename a directory of its lower layers (the image): `uv python install` fails. "
            "Move its contents yourself (copy, then delete), or keep Python installs on a volume of their own."
        ),
        uv_message=(f"error: failed to rename file from {old} to {loc.path}: Invalid cross-device link (os error 18)"),
    )


def unreadable_links_text(loc: Location, vol: Volume, error: str, uv: Version | None) -> Text:
    python = (
        f"{loc.path}/bin/python"
        if loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
        else f"{loc.path}/<environment>/bin/python"
    )
    return Text(
        title=f"{drive(vol)} makes links it cannot read back: environments there cannot start",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv makes an "
            "environment's bin/python a symbolic link to the Python on this computer; this filesystem "
            f"({vol.mountpoint}, {vol.mount_fstype or vol.fstype}) creates the link but refuses to read it "
            f"back ({error}{guess_note(vol)}; sshfs does so for links that leave the share, uv issue #15528). "
            "uv creates the environment, then every command that uses it fails. Keep the environment "
            "on this computer; uv's cache works there."
        ),
        uv_message=(
            "error: Failed to query Python interpreter\n"
            f"{cause_prefix(uv)}failed to canonicalize path `{python}`: {error}"
        ),
    )


def object_storage_text(loc: Location, vol: Volume) -> Text:
    kind = (vol.mount_fstype or vol.fstype).removeprefix("fuse.")
    return Text(
        title=f"{sentence(ROLE_NAMES[loc.role])} is on object storage ({kind}): no hard links, no atomic renames",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}), on {vol.mountpoint}, a {kind} "
            "mount of a bucket. Every file there is an object: hard links are refused (`Operation not "
            "supported (os error 95)`), so uv copies every file and warns, and a rename is a copy and a "
            "delete, so what uv moves into place atomically elsewhere is half-written here while it works "
            "(two uv runs at once can break it). Keep uv's directories on a local disk; uv before 0.9.18 "
            "stops outright at its lock files there."
        ),
        uv_message="warning: Failed to hardlink files; falling back to full copy. ...",
    )


def cluster_text(loc: Location, vol: Volume, uv: Version | None) -> Text:
    return Text(
        title=f"{sentence(ROLE_NAMES[loc.role])} is on a cluster filesystem ({vol.fstype}): copies can fail",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}), on {vol.mountpoint} "
            f"({vol.fstype}). Copying files out of uv's cache there fails now and then with `No data "
            "available (os error 61)`, an extended attribute the filesystem lists but cannot read (uv "
            "issue #15304, open; `uv cache clean` helps for a while). Copy mode does not help: the copy "
            "is what fails. Keep uv's cache and environments on a local disk (node-local scratch)."
        ),
        uv_message=(
            "error: Failed to install: <package>.whl\n"
            f"{cause_prefix(uv)}failed to copy file from <cache>/archive-v0/... to ...: No data available (os error 61)"
        ),
    )


def split_python_text(loc: Location, vol: Volume, scratch: str, there: str, uv: Version | None) -> Text:
    old = uv is None or uv < PYTHON_SCRATCH
    first = "uv's cache" if old else f"its temporary directory {scratch}"
    return Text(
        title="uv cannot move a downloaded Python into its install directory: they are on different volumes",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}, on {vol.mountpoint}), and "
            f"{first} is on {there}. `uv python install` unpacks a Python there and renames it into place; "
            "a rename cannot cross volumes, and uv does not copy instead."
            + (
                " uv 0.2.36 unpacks into the install directory itself (PR #6043)." + unread(uv)
                if old
                else f" Keep {scratch} on the same volume as {loc.path} (it is a separate mount now)."
            )
        ),
        uv_message=(
            "error: Failed to install cpython-<version>-<platform>\n"
            f"{cause_prefix(uv)}Failed to copy to: {loc.path}/cpython-<version>-<platform>\n"
            f"{cause_prefix(uv)}failed to rename file from {scratch}/.tmpXXXXXX/python to "
            f"{loc.path}/cpython-<version>-<platform>: Invalid cross-device link (os error 18)"
        ),
    )


def no_final_path_text(loc: Location, vol: Volume) -> Text:
    error = vol.capabilities.error(Op.CANONICALIZE) or "Incorrect function. (os error 1)"
    return Text(
        title=f"{drive(vol)} cannot tell Windows the full path of its folders: uv stops there",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv resolves the full "
            f"path of environments and interpreters (Rust's `fs::canonicalize`), and this drive refuses "
            f"the question ({error}): RAM disks and virtual drives whose driver the mount manager does not "
            "know do that (ImDisk: uv issue #5651). Keep uv's directories and projects on a regular drive, "
            "or use a RAM disk driver that registers with the mount manager."
        ),
        uv_message=f"error: ...\n  Caused by: {error}",
    )


# --- the fixes and the rules ------------------------------------------------------------


def _manual(code: str, slug: str, loc: Location, title: str, detail: str, summary: str) -> Fix:
    return Fix(
        id=fix_id(code, slug, loc),
        title=title,
        detail=detail,
        changes=(Change(ChangeKind.MANUAL, target=Manual(loc.volume or loc.path), summary=summary),),
        recommended=True,
    )


def _local_disk(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """Where the setting is uv's default (a home on NFS or Lustre): a directory on a local disk,
    set by the person (which one is local on a cluster's node, only they know)."""
    moved = _local(code, snapshot, loc)
    if moved or loc.role not in VARIABLES:
        return moved
    name = pathmod(snapshot.os).basename(snapshot.home.rstrip("/")) or "me"
    folder = f"/var/tmp/{name}/uv/{loc.role.value}"
    return (
        Fix(
            id=fix_id(code, "local-disk", loc),
            title=f"Set {VARIABLES[loc.role]} to a directory on a local disk",
            detail=(
                f"uv uses its default place, {loc.path}, which is on {loc.volume}. Set {VARIABLES[loc.role]} "
                f"to a directory on this computer's own disk (node-local scratch on a cluster), such as {folder}."
            ),
            changes=(
                Change(
                    ChangeKind.MANUAL,
                    target=Manual("your shell's startup file"),
                    name=VARIABLES[loc.role],
                    value=folder,
                    summary=f"export {VARIABLES[loc.role]}='{folder}'",
                ),
            ),
            recommended=True,
        ),
    )


VARIABLES = {Role.CACHE: "UV_CACHE_DIR", Role.TOOL_DIR: "UV_TOOL_DIR", Role.PYTHON_INSTALL_DIR: "UV_PYTHON_INSTALL_DIR"}


def _onedrive_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """The failure is a hard link: copy mode cures it; outside OneDrive, the sync goes too."""
    if loc.role is Role.CACHE:
        return (*off_drive(code, snapshot, loc), copy_mode(code, snapshot, loc))
    return (copy_mode(code, snapshot, loc), *_local(code, snapshot, loc))


def _local(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """The environment (or directory) on this computer's own disk, never recommended over the first fix."""
    if loc.role is Role.PROJECT_ENVIRONMENT and loc.source.kind is SourceKind.DEFAULT:
        kept = keep_on_computer(code, snapshot, loc)
        if kept:
            return kept
    return off_drive(code, snapshot, loc)


def _overlay_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    old = posixpath.join(posixpath.dirname(loc.path.rstrip("/")), "toolchains")
    move = _manual(
        code,
        "move-toolchains",
        loc,
        f"Move {old} into place yourself",
        "A copy is no rename: it works on an overlay. uv then finds its Pythons where it expects them.",
        f"cp -a {old} {loc.path} && rm -rf {old}",
    )
    return (move, *off_drive(code, snapshot, loc))


def _split_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    uv = parse(snapshot.uv.version)
    if may_be_before(uv, PYTHON_SCRATCH):
        return present(upgrade(code, "0.2.36", loc), *off_drive(code, snapshot, loc))
    temp = str(pathmod(snapshot.os).join(loc.path, ".temp"))
    one = _manual(
        code,
        "one-volume",
        loc,
        f"Keep {temp} on the same volume as {loc.path}",
        "uv's Python install directory and its temporary directory must be one volume: unmount what is "
        "mounted at the temporary directory (or set UV_PYTHON_INSTALL_DIR to a directory on one volume).",
        f"umount {temp}",
    )
    return (one, *off_drive(code, snapshot, loc))


def _ramdisk_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    return off_drive(code, snapshot, loc)


RULES = (
    Rule(
        code="UVD022",
        severities=(Severity.ERROR,),
        fact="R22, #17945",
        summary="Windows, an environment or uv's cache in a OneDrive folder (found by the client's folders, the "
        "known folders and their cloud reparse tag, never by opening a file), link mode hardlink: "
        "`The cloud operation cannot be performed on a file with incompatible hardlinks. (os error 396)`, "
        "fatal once a first file was linked",
        offers="copy mode (the failure is a link); the environment or cache outside OneDrive",
        fixes=_onedrive_fixes,
        place=check_onedrive,
        cannot=lambda loc, vol: f"uv cannot link files into {HELD[loc.role]} there (os error 396)",
    ),
    Rule(
        code="UVD023",
        severities=(Severity.WARNING,),
        fact="R23, #12036",
        summary="Linux/macOS, uv's cache, tool or Python directory or an environment on NFS: files deleted while "
        "open become `.nfsXXXX`, so emptied directories are not empty (`Directory not empty (os error 39)`, "
        "`Device or resource busy (os error 16)`) and builds fail now and then. NFS locking: UVD009",
        offers="keep the directory on a local disk (where nothing is set: a directory the person chooses)",
        fixes=_local_disk,
        place=check_nfs,
    ),
    Rule(
        code="UVD024",
        severities=(Severity.ERROR,),
        fact="R24, seen: os error 18",
        summary="uv's Python install directory on an overlay (a container's root) with uv 0.2's `toolchains` "
        "directory beside it: uv renames it into place and overlayfs refuses to rename a lower-layer "
        "directory: `Invalid cross-device link (os error 18)`",
        offers="move the old directory yourself (copy, then delete); Python installs off the overlay",
        fixes=_overlay_fixes,
        place=check_overlay_rename,
        cannot=lambda loc, vol: "uv cannot move its old Python installations into place there (os error 18)",
    ),
    Rule(
        code="UVD025",
        severities=(Severity.ERROR,),
        fact="R25, #15528",
        summary="Linux/macOS, an environment, tool or Python directory on a FUSE mount that makes symbolic links "
        "it cannot read back (sshfs, for links that leave the share): `failed to canonicalize path "
        "`.../bin/python`: Operation not permitted (os error 1)`; from the probe (a link off the drive, "
        "read back), or by name for sshfs",
        offers="keep the environment on this computer (a project's: [portable.md](portable.md)); turn off the setting",
        fixes=_local,
        place=check_unreadable_links,
        cannot=lambda loc, vol: f"uv cannot read back the links {HELD[loc.role]} there are made of",
    ),
    Rule(
        code="UVD026",
        yields_to=("UVD007",),
        severities=(Severity.WARNING,),
        fact="R26, s3fs PR #943, gcsfuse #178",
        summary="a uv directory or environment on object storage (s3fs, gcsfuse, ossfs, blobfuse2, goofys, "
        "mountpoint-s3): no hard links (`Operation not supported (os error 95)`: uv copies and warns), "
        "renames are copies (not atomic). Never probed (each file is an object); uv < 0.9.18 stops at the "
        "lock files: UVD007",
        offers="keep the directory on a local disk",
        fixes=_local_disk,
        place=check_object_storage,
    ),
    Rule(
        code="UVD027",
        severities=(Severity.WARNING,),
        fact="R27, #15304",
        summary="Linux, uv's cache or an environment on a cluster filesystem (Lustre, GPFS): copies from the cache "
        "fail now and then with `No data available (os error 61)` on extended attributes",
        offers="keep the cache and environments on a local disk; copy mode does not help",
        fixes=_local_disk,
        place=check_cluster,
    ),
    Rule(
        code="UVD028",
        severities=(Severity.ERROR,),
        fact="R28, #6036, PR #6043",
        summary="uv's Python install directory on another volume than where `uv python install` unpacks (its "
        "`.temp` directory, a mount of its own; uv < 0.2.36: the cache): the final rename fails with "
        "`Invalid cross-device link (os error 18)`",
        offers="the install directory and its temporary directory on one volume; upgrade uv (before 0.2.36)",
        fixes=_split_fixes,
        setting=check_split_python,
        cannot=lambda loc, vol: "uv cannot move the Pythons it unpacks elsewhere into place there (os error 18)",
    ),
    Rule(
        code="UVD029",
        severities=(Severity.ERROR,),
        fact="R29, #5651",
        summary="Windows, a uv directory or project on a RAM disk or virtual drive that cannot give a folder's "
        "final path (probed: GetFinalPathNameByHandleW): `Incorrect function. (os error 1)`",
        offers="keep uv's directories and projects on a regular drive",
        fixes=_ramdisk_fixes,
        place=check_canonicalize,
        cannot=lambda loc, vol: "uv cannot resolve the paths of its folders there (Incorrect function)",
    ),
)
