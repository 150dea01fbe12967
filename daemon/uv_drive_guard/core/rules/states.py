"""Drive states that break or slow uv whatever the filesystem: read-only, noexec, full, bound,
written synchronously (UVD015, UVD016, UVD017, UVD019, UVD030).

Each was seen with uv on a real drive: read-only gives `Read-only file system (os error 30)`,
noexec `Failed to spawn` / os error 13, nosymfollow os error 40, a full drive `No space left on
device (os error 28)`; a drive mounted `sync` or `dirsync` works, several times slower.
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import capability as cap
from ..fixes import fix_id, free_space, remount
from ..messages import HELD, ROLE_NAMES, Text, cause_prefix, drive, sentence, spawn, where
from ..model import (
    Artefact,
    ArtefactKind,
    Change,
    ChangeKind,
    Fix,
    Location,
    Manual,
    Os,
    Role,
    Severity,
    Snapshot,
    Volume,
)
from ..paths import tilde
from ..resolve import pathmod
from ..versions import Version
from .base import Hit, Rule, Scene, off_drive

WRITTEN = (
    Role.CACHE,
    Role.TOOL_DIR,
    Role.TOOL_BIN_DIR,
    Role.PYTHON_INSTALL_DIR,
    Role.PYTHON_BIN_DIR,
    Role.PROJECT_ENVIRONMENT,
    Role.VENV,
)


STARTED = (Role.PROJECT_ENVIRONMENT, Role.VENV, Role.TOOL_DIR, Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR)


FILLED = (Role.CACHE, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR, Role.PROJECT_ENVIRONMENT, Role.VENV)


def _found(scene: Scene, path: str, *kinds: ArtefactKind) -> Artefact | None:
    return next((a for a in scene.snapshot.artefacts if a.path == path and a.kind in kinds), None)


# --- the checks -------------------------------------------------------------------------


def check_read_only(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """A read-only drive: the one thing to say there (other rules would judge writes)."""
    if not cap.read_only(vol) or loc.role not in WRITTEN:
        return
    exists = loc.exists is True or _found(scene, loc.path, ArtefactKind.CACHE, ArtefactKind.VENV) is not None
    works = exists and loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
    yield Hit(loc, read_only_text(loc, vol, exists, scene.uv), Severity.WARNING if works else Severity.ERROR)


def temporary_cache(loc: Location) -> bool:
    """UV_NO_CACHE or `no-cache`: uv keeps a throwaway cache in the temp directory, and the
    environments of `uvx` and `uv run --with` live in it (uv-cache `Cache::temp`)."""
    return loc.role is Role.CACHE and loc.source.name in ("UV_NO_CACHE", "no-cache")


def check_exec(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if loc.role is Role.TEMP_DIR:
        yield from _temp_noexec(scene, loc, vol)
        return
    started = loc.role in STARTED or temporary_cache(loc)
    if not scene.os.unix or not started:
        return
    why = cap.no_exec(vol)
    if why is None:
        return
    venv = _found(scene, loc.path, ArtefactKind.VENV)
    script = venv.script if venv is not None else None
    yield Hit(loc, no_exec_text(loc, vol, why, script, scene.uv))


def check_space(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """Only a drive too full for even a small wheel: uv fails there (seen at 55 kB free). How
    much a future install needs is not known, so a drive with room left is not an alarm."""
    free = cap.free(vol)
    if loc.role not in FILLED or free is None or free >= cap.FULL:
        return
    yield Hit(loc, full_text(loc, vol, free, scene.uv))


def _temp_noexec(scene: Scene, temp: Location, vol: Volume) -> Iterator[Hit]:
    """TMPDIR on a `noexec` mount: `uv self update` runs the installer it downloads there
    (since 0.11.8, `execute_official_installer`), and build backends run what they compile
    there. A temporary cache there is this rule's error already, said for the cache."""
    if not scene.os.unix or cap.no_exec(vol) != "noexec":
        return
    if not any(temporary_cache(c) and c.volume == vol.mountpoint for c in scene.snapshot.locations):
        yield Hit(temp, temp_noexec_text(temp, vol), Severity.WARNING)


def check_bind(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if vol.bind_of and loc.role in WRITTEN:
        yield Hit(loc, bind_mount_text(loc, vol))


# --- what they say -------------------------------------------------------------------

_EROFS = "Read-only file system (os error 30)"


def check_sync(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """A drive mounted `sync` (every write) or `dirsync` (every file made, renamed, removed) waits
    for the drive at each step; uv makes thousands of files where it keeps a cache or installs."""
    option = next((o for o in SYNC_OPTIONS if vol.option(o)), None)
    if loc.role in FILLED and option is not None:
        yield Hit(loc, sync_text(loc, vol, option))


def _read_only_message(loc: Location, exists: bool, uv: Version | None) -> str:
    """What uv 0.13.9 prints when it must write to a read-only drive (seen)."""
    if loc.role is Role.CACHE and not exists:
        return (
            f"error: Failed to initialize cache at `...`\n{cause_prefix(uv)}failed to create directory `{loc.path}`: "
            f"{_EROFS}"
        )
    if loc.role is Role.CACHE:
        return (
            f"error: Could not acquire lock\n{cause_prefix(uv)}Could not create temporary file\n"
            f'{cause_prefix(uv)}{_EROFS} at path "{loc.path}/.tmpXXXXXX"'
        )
    if loc.role is Role.PROJECT_ENVIRONMENT and not exists:
        return f"error: failed to create directory `{loc.path}`: {_EROFS}"
    if loc.role is Role.VENV and not exists:
        venv = "error: Failed to create virtual environment\n"
        return f"{venv}{cause_prefix(uv)}failed to create directory `{loc.path}`: {_EROFS}"
    return f"error: ...\n{cause_prefix(uv)}...{_EROFS}..."


def read_only_text(loc: Location, vol: Volume, exists: bool, uv: Version | None = None) -> Text:
    works = exists and loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
    consequence = (
        "`uv run` works while nothing needs to change, but every install, upgrade or `uv sync` that changes it fails"
        if works
        else "every uv command that writes there fails"
    )
    return Text(
        title=f"{drive(vol)} is read-only: {ROLE_NAMES[loc.role]} there cannot be written",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). The drive is mounted "
            f"read-only (a locked SD card, or a remount after errors), so {consequence}. Unlock or "
            "remount the drive read-write, or keep this directory on your internal disk."
        ),
        uv_message=_read_only_message(loc, exists, uv),
    )


_NO_EXEC_ERROR = {
    "noexec": "Permission denied (os error 13)",
    "nosymfollow": "Too many levels of symbolic links (os error 40)",
}


def no_exec_text(loc: Location, vol: Volume, why: str, script: str | None, uv: Version | None = None) -> Text:
    mounted = "mounted with `noexec`" if why == "noexec" else "mounted with `nosymfollow`"
    because = (
        "the system refuses to start programs stored on it"
        if why == "noexec"
        else "the system does not follow symbolic links on it, and each script starts the "
        "environment's bin/python, which is one"
    )
    return Text(
        title=f"{drive(vol)} is {mounted}: commands in {ROLE_NAMES[loc.role]} cannot be started",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv creates it and "
            f"installs into it, but {because}, so `uv run <script>` and every console script fail. "
            f"Remount the drive without `{why}` (`sudo mount -o remount,{'exec' if why == 'noexec' else 'symfollow'} "
            f"{vol.mountpoint}`; desktop automounters add it for some drives), or keep the "
            "environment on your internal disk."
        ),
        # nosymfollow: uv fails at `Failed to query Python interpreter at .../bin/python` or at
        # `Failed to spawn`, as its interpreter cache decides (both seen, 0.13.9): the cause is this.
        uv_message=(
            f"error: {spawn(script, uv)}\n{cause_prefix(uv)}{_NO_EXEC_ERROR[why]}"
            if why == "noexec"
            else f"error: ...\n{cause_prefix(uv)}{_NO_EXEC_ERROR[why]}"
        ),
    )


def temp_noexec_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"The temporary directory {loc.path} is on a `noexec` mount: what uv runs from there fails",
        detail=(
            f"uv's temporary directory is {loc.path} ({where(loc)}), on {vol.mountpoint}, mounted "
            "`noexec`. `uv self update` downloads the installer there and runs it, build backends run "
            "the programs they compile there, and with UV_NO_CACHE uv's whole cache and the environments "
            "of `uvx` live there: each fails with `Permission denied (os error 13)`. Point TMPDIR at a "
            "directory on a mount that allows execution."
        ),
        uv_message="error: ...\n  cause: Permission denied (os error 13)",
    )


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count < 1 << 30 else f"{count / (1 << 30):.1f} GiB"


def full_text(loc: Location, vol: Volume, free: int, uv: Version | None = None) -> Text:
    state = "full"
    what = "unpacking wheels" if loc.role is Role.CACHE else "installing packages"
    return Text(
        title=f"{drive(vol)} is {state} ({_size(free)} free): {ROLE_NAMES[loc.role]} there has no room",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv needs room for "
            f"{what}, often tens or hundreds of MiB, and the drive has {_size(free)} left"
            ", so uv fails as soon as it writes there. "
            "Free some space on the drive, or keep this directory on your internal disk."
        ),
        # The first line depends on the step that runs out (`Failed to install: <wheel>`,
        # `Failed to initialize cache`, `failed to create directory`); the cause is always this.
        uv_message=f"error: ...\n{cause_prefix(uv)}...No space left on device (os error 28)",
    )


def bind_mount_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{vol.mountpoint} shows the folder {vol.root} of {vol.bind_of}: judged as {drive(vol)}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path}, inside a bind mount: the files live on "
            f"the {vol.fstype} filesystem mounted at {vol.bind_of}, and that filesystem decides what uv can "
            "do there. Links between the two mount points count as different drives: uv copies."
        ),
        uv_message="(nothing of its own: uv meets the filesystem underneath)",
    )


SYNC_OPTIONS = ("sync", "dirsync")


def sync_text(loc: Location, vol: Volume, option: str) -> Text:
    waits = "every write" if option == "sync" else "every file it creates, renames or removes"
    return Text(
        title=f"{drive(vol)} is mounted with `{option}`: uv works there, several times slower",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). The drive is mounted "
            f"`{option}`, so {waits} waits until it is on the drive, and uv writes thousands of small "
            "files: an install there took 4 to 7 times as long as on the same drive mounted normally "
            "(seen on ext4), and mount(8) warns that `sync` shortens a flash drive's life. "
            f"Mount it without `{option}` (some automounters and fstab lines add it), or keep "
            f"{HELD[loc.role]} on your internal disk."
        ),
        uv_message="(nothing: uv succeeds, slowly)",
    )


def _sync_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    vol = snapshot.volume(loc.volume)
    if vol is not None and vol.option("sync") and snapshot.os is Os.LINUX:
        return (remount(code, loc, "async", "Remount the drive without `sync`"), *off_drive(code, snapshot, loc))
    again = Fix(
        id=fix_id(code, "remount", loc),
        title="Mount the drive again without `sync` or `dirsync`",
        detail=(
            "Eject it, take the option out of where it is set (an /etc/fstab line, the automounter's "
            "settings), and plug it in again: a mounted drive keeps `dirsync` until it is mounted anew."
        ),
        changes=(
            Change(ChangeKind.MANUAL, target=Manual(loc.volume or loc.path), summary="mount it without sync/dirsync"),
        ),
        recommended=True,
    )
    return (again, *off_drive(code, snapshot, loc))


# --- the fixes and the rules ------------------------------------------------------------


def _exec_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    remounted = remount(code, loc, _exec_option(snapshot, loc), "Remount the drive so programs on it can start")
    if loc.role is Role.TEMP_DIR or temporary_cache(loc):
        return (remounted, _tmpdir(code, snapshot, loc))
    return (remounted, *off_drive(code, snapshot, loc))


def _tmpdir(code: str, snapshot: Snapshot, loc: Location) -> Fix:
    """A TMPDIR where programs may run: a folder of the home directory, made first."""
    folder = str(pathmod(snapshot.os).join(snapshot.home or "~", ".cache", "tmp"))
    return Fix(
        id=fix_id(code, "tmpdir", loc),
        title=f"Use a temporary directory that allows execution ({tilde(folder, snapshot.home)})",
        detail=(
            "Set TMPDIR for your shells to a folder on a mount without `noexec` (your home folder "
            "usually is); uv, its build backends and `uv self update` then run their programs there."
        ),
        changes=(
            Change(
                ChangeKind.MANUAL,
                target=Manual("your shell's startup file"),
                name="TMPDIR",
                value=folder,
                summary=f"mkdir -p '{folder}' and export TMPDIR='{folder}'",
            ),
        ),
    )


def _exec_option(snapshot: Snapshot, loc: Location) -> str:
    vol = snapshot.volume(loc.volume)
    return "symfollow" if vol is not None and cap.no_exec(vol) == "nosymfollow" else "exec"


RULES = (
    Rule(
        code="UVD015",
        severities=(Severity.ERROR, Severity.WARNING),
        fact="seen: os error 30",
        summary="a cache, tool, Python or environment directory on a read-only drive (a locked SD card, a remount "
        "after errors): `Read-only file system (os error 30)`. A synced environment there still runs "
        "(warning); anything uv must create fails (error). The only finding for such a place: no copy or "
        "link question is asked of a drive nothing can be written to",
        offers="make the drive writable (manual); keep the directory on the internal disk",
        fixes=lambda c, s, loc: (remount(c, loc, "rw", "Make the drive writable"), *off_drive(c, s, loc)),
        place=check_read_only,
        alone_on=cap.read_only,
        cannot=lambda loc, vol: f"it is read-only, so uv cannot write {HELD[loc.role]} there",
    ),
    Rule(
        code="UVD016",
        yields_to=("UVD005",),
        severities=(Severity.ERROR, Severity.WARNING),
        fact="seen: os error 13 (noexec), 40 (nosymfollow)",
        summary="an environment, tool or bin directory on a drive mounted `noexec` (`Failed to spawn: ...` / "
        "`Permission denied (os error 13)`) or `nosymfollow` (`Too many levels of symbolic links (os error "
        "40)`), from the mount options or the probe (a file that access(2) says cannot run; a link off the "
        "drive that is not followed). TMPDIR on a `noexec` mount: an error with UV_NO_CACHE (the "
        "environments of `uvx` live there), else a warning (`uv self update`, build backends)",
        offers="remount with `exec` / `symfollow` (manual); keep the environment on the internal disk; TMPDIR: "
        "a temporary directory that allows execution (manual)",
        fixes=_exec_fixes,
        place=check_exec,
        cannot=lambda loc, vol: (
            f"it is mounted nosymfollow, so {HELD[loc.role]} there cannot start their Python"
            if cap.no_exec(vol) == "nosymfollow"
            else f"it is mounted noexec, so programs in {HELD[loc.role]} there cannot start"
        ),
    ),
    Rule(
        code="UVD017",
        yields_to=("UVD005",),
        severities=(Severity.ERROR,),
        fact="seen: os error 28",
        summary="less than 1 MiB free where uv writes a cache or an environment (seen failing with 55 kB left): "
        "`No space left on device (os error 28)`. A drive with room left is no alarm: what a future install "
        "needs is not known. Not raised where the environment cannot exist at all (UVD005)",
        offers="free space; keep the directory on the internal disk",
        fixes=lambda c, s, loc: (free_space(c, loc), *off_drive(c, s, loc)),
        place=check_space,
        cannot=lambda loc, vol: f"it is full, so uv has no room for {HELD[loc.role]} there",
    ),
    Rule(
        code="UVD019",
        severities=(Severity.INFO,),
        fact="mountinfo root and major:minor",
        summary="a uv directory inside a bind mount (mountinfo's root is not `/`, and another mount shows the whole "
        "filesystem with the same major:minor): judged by the filesystem underneath, and named",
        offers="none",
        place=check_bind,
    ),
    Rule(
        code="UVD030",
        yields_to=("UVD005", "UVD006", "UVD014", "UVD017"),
        severities=(Severity.WARNING,),
        fact="R30, seen: 4 to 7 times slower",
        summary="a cache, tool, Python or environment directory on a drive mounted `sync` or `dirsync` (usbmount "
        "and some fstab lines do): every write, or every file made, waits for the drive. uv works there, "
        "several times slower, and mount(8) warns it shortens a flash drive's life. Not said where uv fails "
        "there anyway",
        offers="remount with `async` (manual; `dirsync`: mount it again without it); keep the directory on the "
        "internal disk",
        fixes=_sync_fixes,
        place=check_sync,
    ),
)
