"""What a finding says to a person who just plugged in a drive, and what uv would print."""

from __future__ import annotations

from dataclasses import dataclass

from . import capability as cap
from .model import Location, Os, Role, Volume
from .versions import Version

ROLE_NAMES = {
    Role.CACHE: "uv's cache",
    Role.TOOL_DIR: "uv's tool directory",
    Role.TOOL_BIN_DIR: "uv's tool executables directory",
    Role.PYTHON_INSTALL_DIR: "uv's Python installations",
    Role.PYTHON_BIN_DIR: "uv's Python executables directory",
    Role.PROJECT_ENVIRONMENT: "the project's environment",
    Role.VENV: "the virtual environment",
}

HARDLINK_WARNING = (
    "warning: Failed to hardlink files; falling back to full copy. This may lead to degraded"
    " performance.\n"
    "         If the cache and target directories are on different filesystems, hardlinking may"
    " not be supported.\n"
    "         If this is intentional, set `export UV_LINK_MODE=copy` or use `--link-mode=copy`"
    " to suppress this warning."
)


@dataclass(frozen=True)
class Text:
    title: str
    detail: str
    uv_message: str


def drive(vol: Volume) -> str:
    """'STICK (exFAT)' for a person; the mount point when there is no label."""
    names = {"exfat": "exFAT", "vfat": "FAT32", "ntfs": "NTFS", "msdos": "FAT", "apfs": "APFS"}
    return f"{vol.name} ({names.get(vol.fstype, vol.fstype)})"


def where(loc: Location) -> str:
    """Where the setting lives, so a person can find it."""
    if loc.source.kind.value == "default":
        return "uv's default location"
    return f"set by {loc.source.describe()}"


def _judged(vol: Volume) -> str:
    if cap.guessed(vol):
        return " (judged from the filesystem type; the drive was not probed)"
    return ""


def _sentence(text: str) -> str:
    """Capitalise a sentence's first letter, but never uv's name: it is always lowercase."""
    return text if text.startswith("uv") else text[:1].upper() + text[1:]


def _error(vol: Volume, op: str, fallback: str) -> str:
    return vol.capabilities.error(op) or fallback


def _cause(uv: Version | None) -> str:
    """uv prints `cause:` since 0.12.14 and `Caused by:` before (bisected with real uv)."""
    return "  Caused by: " if uv is not None and uv < (0, 12, 14) else "  cause: "


def _persist_message(loc: Location, vol: Volume, uv: Version | None) -> str:
    persist = _error(vol, "rename_noreplace", "Operation not permitted (os error 1)")
    if uv is not None and uv < (0, 9, 18):
        return f"error: {persist}"  # no context before PR #17115 (groundtruth: 0.8.24, 0.9.17)
    lines = [f"Could not persist temporary file `{loc.path}/.tmpXXXXXX`", persist]
    if loc.role is Role.CACHE:
        return "error: Could not acquire lock\n" + "\n".join(_cause(uv) + line for line in lines)
    return f"error: {lines[0]}\n{_cause(uv)}{lines[1]}"  # tool and Python dirs: no lock line


def _cache_uv_message(loc: Location, vol: Volume, uv: Version | None) -> str:
    if loc.role is Role.CACHE and cap.can(vol, "rename_noreplace") is True:
        link = _error(vol, "symlink_dir", "Operation not permitted (os error 1)")
        return (  # lock files work; the cache's links do not
            "error: Failed to write to the distribution cache\n"
            f"{_cause(uv)}failed to symlink file from {loc.path}/wheels-v5/... to "
            f"{loc.path}/archive-v0/...: {link}"
        )
    return _persist_message(loc, vol, uv)


def cache_unusable(loc: Location, vol: Volume, uv: Version | None = None) -> Text:
    if loc.role is not Role.CACHE:
        return Text(
            title=f"uv cannot create its lock files on {drive(vol)}: {ROLE_NAMES[loc.role]} fails",
            detail=(
                f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv keeps a "
                f"lock file there, created by renaming without replacing, and {vol.fstype} "
                f"on this system refuses that{_judged(vol)}. Every command that uses this "
                "directory fails; link mode does not help. Move it to your internal disk."
            ),
            uv_message=_persist_message(loc, vol, uv),
        )
    return Text(
        title=f"uv cannot keep its cache on {drive(vol)}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). "
            f"{vol.fstype} on this system refuses the file operations uv's cache is built on: "
            "creating lock files without replacing, and symbolic links"
            f"{_judged(vol)}. Every uv command that touches the cache will fail. "
            "Changing the link mode does not help: the failing step is inside the cache. "
            "Move the cache to a drive with a native filesystem."
        ),
        uv_message=_cache_uv_message(loc, vol, uv),
    )


def cache_lock_old_uv(loc: Location, vol: Volume) -> Text:
    persist = _error(vol, "rename_noreplace", "Operation not supported (os error 45)")
    return Text(
        title=f"This uv cannot create lock files on {drive(vol)}; uv 0.9.18 can",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). The drive "
            "does not support renaming a file without replacing, which uv uses for its lock "
            "files. uv 0.9.18 and newer then create the lock file directly (uv PR #17115)."
        ),
        uv_message=f"error: {persist}",  # uv < 0.9.18: no context line (matrix, 0.9.17)
    )


def cache_junction(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"uv before 0.6 cannot keep its cache on {drive(vol)}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv up to "
            "0.5 links cache entries with NTFS junctions, which this drive cannot hold, so "
            "every install fails. UV_LINK_MODE=copy does not help: the failing step is inside "
            "the cache (uv issue #11233). uv 0.6.0 replaced the junctions (PR #11269)."
        ),
        uv_message=("error: Failed to read from the distribution cache\n  Caused by: Incorrect function. (os error 1)"),
    )


def _link_pair(link: str, target: str, uv: Version | None) -> str:
    """uv names the link first since 0.9.27 (an fs-err update), the target first before."""
    if uv is not None and uv < (0, 9, 27):
        return f"from {target} to {link}"
    return f"from {link} to {target}"


def _symlink_message(loc: Location, error: str, uv: Version | None) -> str:
    if loc.role in (Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR):
        pair = _link_pair(f"{loc.path}/<name>", "<tool dir>/<name>/bin/<name>", uv)
        return f"error: Failed to install executable\n{_cause(uv)}failed to symlink file {pair}: {error}"
    venv = {Role.TOOL_DIR: f"{loc.path}/<tool>", Role.PYTHON_INSTALL_DIR: f"{loc.path}/<python>"}
    pair = _link_pair(f"{venv.get(loc.role, loc.path)}/bin/python", "/usr/bin/python3", uv)
    if loc.role is Role.PROJECT_ENVIRONMENT:  # `uv sync` / `uv run` print the cause alone (0.9.17-0.13.9)
        return f"error: failed to symlink file {pair}: {error}"
    return f"error: Failed to create virtual environment\n{_cause(uv)}failed to symlink file {pair}: {error}"


def no_symlinks(loc: Location, vol: Volume, os: Os, uv: Version | None = None) -> Text:
    link = _error(vol, "symlink_file", "Operation not permitted (os error 1)")
    what = {
        Role.PROJECT_ENVIRONMENT: "uv cannot create the project's virtual environment there",
        Role.TOOL_DIR: "`uv tool install` cannot create tool environments there",
        Role.PYTHON_INSTALL_DIR: "`uv python install` cannot unpack Python there",
        Role.TOOL_BIN_DIR: "`uv tool install` cannot link tool executables there",
        Role.PYTHON_BIN_DIR: "`uv python install` cannot link Python executables there",
    }.get(loc.role, "uv cannot create environments there")
    return Text(
        title=f"{drive(vol)} cannot hold symbolic links: {what}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). On "
            f"{'macOS' if os is Os.MACOS else 'Linux'} a uv environment's bin/python is always "
            f"a symbolic link, and {vol.fstype} has none{_judged(vol)}. There is no copy "
            "option for the interpreter (uv issue #2103), so UV_LINK_MODE does not help. "
            "Keep the environment on your internal disk, or use a drive formatted with a "
            "filesystem that has symbolic links."
        ),
        uv_message=_symlink_message(loc, link, uv),
    )


def python_junction(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"uv cannot install Python on {drive(vol)}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). Since uv "
            "0.7.14 each Python install gets a minor-version directory that is an NTFS "
            "junction, and this drive cannot hold junctions."
        ),
        uv_message="error: Failed to create Python minor version link directory",
    )


def appledouble(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"macOS adds hidden ._ files on {drive(vol)} that break uv installs",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). On "
            f"{vol.fstype} macOS stores extended attributes in AppleDouble `._*` files next to "
            "every file, and uv trips over them in environments (uv issue #18790). Keep the "
            "environment on APFS, or clean the files with `dot_clean`."
        ),
        uv_message="error: Failed to install: ... `._` ... (AppleDouble file in the environment)",
    )


NFS = ("nfs", "nfs4")


def nfs_lock_bug(vol: Volume, uv: Version | None) -> bool:
    """uv 0.10.3 opened lock files read-only; NFS emulates flock with fcntl locks, which need
    a file open for writing: every lock failed with EBADF (#18061, fixed in 0.10.4 by #18071).
    Our own probe locks a file opened for writing, so it cannot see this: the version can."""
    return uv == (0, 10, 3) and vol.fstype in NFS


def no_locks(loc: Location, vol: Volume, uv: Version | None) -> Text:
    if nfs_lock_bug(vol, uv):
        error = f"failed to lock `{loc.path}`: Bad file descriptor (os error 9)"
        advice = "uv 0.10.4 fixed this (#18071): upgrade uv, or keep the directory on a local disk."
    else:
        error = _error(vol, "flock_exclusive", "Function not implemented (os error 38)")
        advice = "Keep the directory on a local disk."
    return Text(
        title=f"{drive(vol)} refuses file locks, which uv needs",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv locks "
            "its directories so that two uv processes never write the same files; this "
            f"filesystem refuses the lock. {advice}"
        ),
        uv_message=f"error: Could not acquire lock\n{_cause(uv)}{error}",
    )


def cross_volume(loc: Location, vol: Volume, cache: Location, cache_vol: Volume) -> Text:
    return Text(
        title=f"uv will copy every file into {drive(vol)} and warn each time",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path}, but uv's cache is on "
            f"another drive ({cache.path}, {drive(cache_vol)}). Links do not cross drives, so "
            "uv falls back to copying, which works but prints a warning. Choose copy mode to "
            "say that this is intended, or keep a cache on the same drive."
        ),
        uv_message=HARDLINK_WARNING,
    )


def no_hardlinks(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{drive(vol)} cannot hard link: uv will copy every file and warn",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path}. uv links files from its "
            f"cache into environments, and {vol.fstype} has no hard links{_judged(vol)}, so uv "
            "falls back to copying with a warning. Copy mode says that this is intended."
        ),
        uv_message=HARDLINK_WARNING,
    )


def symlink_mode(loc: Location, vol: Volume) -> Text:
    return Text(
        title="uv is set to symlink mode, but Windows does not allow you to create symlinks",
        detail=(
            f"The link mode is `symlink`, and creating symbolic links on {drive(vol)} needs "
            "Developer Mode or administrator rights. Use hardlink or copy mode."
        ),
        uv_message="warning: Failed to symlink files; falling back to full copy.",
    )


def fat32_size(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{drive(vol)} cannot hold files of 4 GiB or more",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path}. FAT32 stores files of up to "
            "4 GiB - 1 byte; a larger wheel or archive (some GPU packages) cannot be written."
        ),
        uv_message="error: ... File too large (os error 27)",
    )


def interpreter_gone(path: str, interpreter: str, project: bool) -> Text:
    again = "`uv sync`" if project else f"`uv venv --clear {path}`"
    return Text(
        title=f"The environment at {path} points at a Python that is not there",
        detail=(
            f"Its scripts or pyvenv.cfg name {interpreter}, which does not exist on this "
            "machine: the drive was probably mounted elsewhere (another drive letter or mount "
            f"point) or made on another computer. Recreate it with {again}."
        ),
        uv_message=f"error: Failed to inspect Python interpreter from active virtual environment at `{path}`",
    )


def drive_missing(loc: Location) -> Text:
    return Text(
        title=f"{_sentence(ROLE_NAMES[loc.role])} is set to a drive that is not plugged in",
        detail=(
            f"{loc.path} ({where(loc)}) is on a drive that is not mounted now. uv will create a "
            "fresh directory on your internal disk under the empty mount point, or fail with "
            "a permission error. A temporary fallback to uv's default, reverted when the "
            "drive is back, avoids both."
        ),
        uv_message=f"error: failed to create directory `{loc.path}`: Permission denied (os error 13)",
    )


def no_chmod(loc: Location, vol: Volume) -> Text:
    error = _error(vol, "exec_bit", "Function not implemented (os error 38)")
    return Text(
        title=f"{drive(vol)} refuses file permissions: uv cannot install into {loc.path}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path}. After copying each file uv "
            f"sets its permissions, and this driver refuses that ({error}), so every install "
            "fails, in copy mode too. Keep the environment on your internal disk."
        ),
        uv_message=(
            "error: Failed to install: <package>.whl\n"
            f"  cause: Failed to copy to `{loc.path}/...`\n"
            f"  cause: failed to copy file from <cache>/archive-v0/... to {loc.path}/...: {error}"
        ),
    )


def cache_away(loc: Location, vol: Volume, causes: list[Location]) -> Text:
    names = ", ".join(f"{ROLE_NAMES[c.role].replace('the ', '', 1)} {c.path}" for c in causes[:3])
    more = f" and {len(causes) - 3} more" if len(causes) > 3 else ""
    return Text(
        title=f"uv's cache is on {drive(vol)}: installs elsewhere are copies, with a warning",
        detail=(
            f"uv's cache is at {loc.path} ({where(loc)}). uv links files from its cache into "
            f"environments, and links do not cross drives: environments outside {vol.name} "
            f"({names}{more}) get full copies and uv prints a warning each time. Choose copy "
            "mode to say that this is intended, or keep the cache on your internal disk."
        ),
        uv_message=HARDLINK_WARNING,
    )


def cache_away_quiet(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"uv's cache is on {drive(vol)}: environments on other drives would get copies",
        detail=(
            f"uv's cache is at {loc.path} ({where(loc)}). It works there, and no environment on "
            "another drive uses it now (no installed tools, no venv or project found elsewhere). "
            f"An environment made outside {vol.name} later gets full copies, with uv's "
            "hardlink warning."
        ),
        uv_message="(nothing yet: uv warns when it installs into an environment on another drive)",
    )


# The drive states' texts live beside (state_texts.py); they are part of this module's API.
from .state_texts import bad_switch, bind_mount, full, moved, no_exec, read_only  # noqa: E402

__all__ = ["Text", "bad_switch", "bind_mount", "drive", "full", "moved", "no_exec", "read_only", "where"]
