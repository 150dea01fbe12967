"""Read what uv printed and say which rule it is, or that it is no drive's doing.

Pure: uv's output in, its messages out, each with the rules that predict it, the paths it
names (Windows ones too, kept as text) and whether a drive's limits can explain it at all. The
signs are uv's own words, per release and system, as the rules' `uv_message` texts and
docs/uv-facts.md record them; the command line then scans exactly the paths named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    DRIVE = "drive"  # a drive's limits explain it: a rule predicts this message
    NOT_DRIVE = "not-drive"  # resolution, network, interpreter, build: not about drives at all
    UNKNOWN = "unknown"  # an error or warning no rule here predicts


@dataclass(frozen=True)
class Sign:
    """One thing uv prints that a rule predicts (or that is plainly not a drive's doing)."""

    key: str
    all_of: tuple[str, ...]  # regular expressions that must all match the message
    codes: tuple[str, ...]  # the rules that predict it, the likeliest first
    what: str  # what happened, in a person's words
    kind: Kind = Kind.DRIVE


def _sign(key: str, codes: tuple[str, ...], what: str, *all_of: str, kind: Kind = Kind.DRIVE) -> Sign:
    return Sign(key, all_of, codes, what, kind)


# Each message is matched against these in order: the first whose patterns all match names it.
SIGNS = (
    # Windows, uv < 0.6: the cache's junctions (#11233, the seed case)
    _sign(
        "cache-junction",
        ("UVD001",),
        "uv could not follow a link inside its cache: uv before 0.6 links cache entries with NTFS "
        "junctions, which this drive cannot hold",
        r"(?i)distribution cache",
        r"Incorrect function\. \(os error 1\)",
    ),
    _sign(
        "python-minor-link",
        ("UVD004",),
        "uv could not make the link from a Python minor version to its installation (a junction on "
        "Windows), which this drive cannot hold",
        r"Failed to create Python minor version link directory",
    ),
    _sign(
        "onedrive-hardlink",
        ("UVD022",),
        "Windows refused a hard link into (or out of) OneDrive's cloud files, and uv stops there once "
        "another file was linked",
        r"cloud operation cannot be performed on a file with incompatible hardlinks|\(os error 396\)",
    ),
    _sign(
        "python-split",
        ("UVD028",),
        "uv unpacked a Python in a temporary directory on another volume than its install directory, and "
        "a rename cannot cross volumes",
        r"Failed to copy to",
        r"Invalid cross-device link \(os error 18\)",
    ),
    _sign(
        "overlay-rename",
        ("UVD024",),
        "uv renamed its old `toolchains` directory, and the overlay (a container's filesystem) refuses to "
        "rename a directory of its lower layers",
        r"toolchains",
        r"Invalid cross-device link \(os error 18\)",
    ),
    _sign(
        "links-unreadable",
        ("UVD025",),
        "the filesystem made the environment's link to Python but refuses to read it back (sshfs does so "
        "for links that leave the share)",
        r"failed to canonicalize path|cannot read symbolic link",
        r"Operation not permitted \(os error 1\)|Permission denied",
    ),
    _sign(
        "cluster-xattr",
        ("UVD027",),
        "a copy out of uv's cache failed on an extended attribute the filesystem lists but cannot read (Lustre, GPFS)",
        r"No data available \(os error 61\)",
    ),
    _sign(
        "nfs-silly-rename",
        ("UVD023",),
        "a directory could not be removed: on NFS, a file deleted while still open lingers as `.nfsXXXX`",
        r"Directory not empty \(os error 39\)|Device or resource busy \(os error 16\)|"
        r"\[Errno 39\] Directory not empty|\[Errno 16\] Device or resource busy|\.nfs[0-9a-f]{8}",
    ),
    _sign(
        "final-path",
        ("UVD029",),
        "Windows could not give the full path of a folder on this drive: RAM disks and virtual drives "
        "the mount manager does not know answer `Incorrect function`",
        r"(?i)canonicaliz",
        r"Incorrect function\. \(os error 1\)",
    ),
    _sign(
        "lock-ebadf",
        ("UVD009",),
        "uv could not lock a directory: uv 0.10.3 on NFS (fixed in 0.10.4)",
        r"(?i)failed to lock",
        r"Bad file descriptor \(os error 9\)",
    ),
    _sign(
        "lock-refused",
        ("UVD009",),
        "the drive refuses the file locks uv takes on its directories",
        r"Could not acquire lock|failed to lock",
        r"Function not implemented \(os error 38\)|Operation not supported \(os error 95\)|os error 37",
    ),
    _sign(
        "read-only",
        ("UVD015",),
        "uv had to write on a drive that is read-only",
        r"Read-only file system \(os error 30\)",
    ),
    _sign(
        "full",
        ("UVD017",),
        "the drive uv was writing to is full",
        r"No space left on device \(os error 28\)|There is not enough space on the disk\. \(os error 112\)",
    ),
    _sign(
        "too-large",
        ("UVD013",),
        "a file larger than the drive's filesystem can hold (FAT32: 4 GiB)",
        r"File too large \(os error 27\)",
    ),
    _sign(
        "persist",
        ("UVD006", "UVD007"),
        "uv could not create a lock file: the drive refuses a rename that must not replace, and "
        "the hard link uv tries next",
        r"Could not persist temporary file|persist temporary file",
    ),
    _sign(
        "persist-old",
        ("UVD007", "UVD026"),
        "uv could not create a lock file: before 0.9.18 uv needs a rename that must not replace, "
        "which this drive does not support (the message has no context before 0.9.18)",
        r"(?m)^\s*error: Operation not supported \(os error (?:45|95)\)\s*$",
    ),
    _sign(
        "persist-bare",
        ("UVD006", "UVD007"),
        "uv could not create a lock file in its cache or tool directory (before 0.9.18 uv printed "
        "only the system's error: the drive refused a rename that must not replace, then a hard link)",
        r"(?m)^\s*error: Operation not permitted \(os error 1\)\s*$",
    ),
    _sign(
        "cache-symlink",
        ("UVD006",),
        "uv could not link a package into its cache: the drive holds no symbolic links",
        r"Failed to write to the distribution cache",
        r"(?i)symlink",
    ),
    _sign(
        "venv-symlink",
        ("UVD005",),
        "uv could not link the environment's Python to the interpreter: the drive holds no "
        "symbolic links (uv #2103), and uv has no other way to make an environment there",
        r"(?i)failed to (?:symlink|create symlink)",
    ),
    _sign(
        "environment-link",
        ("UVD021",),
        "the environment is a link (or a file) that leads nowhere: its drive is not plugged in, or "
        "the folder it named is gone",
        r"failed to create directory",
        r"File exists \(os error 17\)|Cannot create a file when that file already exists\. \(os error 183\)",
    ),
    _sign(
        "environment-not-usable",
        ("UVD021",),
        "the project's environment is a link or a redirect file that does not lead to an environment "
        "(a file where uv wants a folder before 0.13.9; a folder without pyvenv.cfg; an empty redirect)",
        r"virtual environment directory .* cannot be used because|Virtual environment redirect file .* is empty",
    ),
    _sign(
        "chmod",
        ("UVD014",),
        "the drive refuses file permissions, which uv sets on every file it installs",
        r"(?i)failed to (?:copy|set permissions|install)",
        r"Function not implemented \(os error 38\)",
    ),
    _sign(
        "noexec",
        ("UVD016",),
        "the drive is mounted so that nothing on it may run (noexec)",
        r"Failed to spawn|Failed to query Python interpreter|Failed to inspect Python",
        r"Permission denied \(os error 13\)",
    ),
    _sign(
        "nosymfollow",
        ("UVD016",),
        "the drive is mounted so that links on it are not followed (nosymfollow)",
        r"Too many levels of symbolic links \(os error 40\)",
    ),
    _sign(
        "moved",
        ("UVD018", "UVD010"),
        "the environment's scripts name the place the drive was mounted before (or its drive "
        "letter changed): they point at a path that no longer exists",
        r"Failed to spawn",
        r"No such file or directory \(os error 2\)|"
        r"The system cannot find the (?:file|path) specified\. \(os error [23]\)",
    ),
    _sign(
        "interpreter-gone",
        ("UVD010", "UVD018"),
        "the environment's interpreter is gone: the mount point or drive letter changed since it was made",
        r"No Python at|Failed to inspect Python interpreter from active virtual environment|"
        r"Failed to query Python interpreter at",
    ),
    _sign(
        "appledouble",
        ("UVD008",),
        "macOS wrote AppleDouble `._` files beside the environment's files on this drive",
        r"\._",
        r"(?i)failed to (?:install|read|parse)|RECORD",
    ),
    _sign(
        "hardlink-fallback",
        ("UVD003", "UVD002"),
        "uv could not hard-link files from its cache into the environment (they are on different "
        "drives, or this one has no hard links) and copied them instead",
        r"Failed to hardlink files; falling back to full copy",
    ),
    _sign(
        "clone-fallback",
        ("UVD003", "UVD002"),
        "uv could not clone files from its cache into the environment and copied them instead",
        r"Failed to clone files; falling back to full copy",
    ),
    _sign(
        "symlink-fallback",
        ("UVD012",),
        "uv could not make symbolic links (Windows without Developer Mode) and copied instead",
        r"Failed to symlink files; falling back to full copy",
    ),
    # Not a drive's doing.
    _sign(
        "resolution",
        (),
        "uv could not find versions of the packages that fit together",
        r"No solution found when resolving|Because .* (?:depends on|you require)|"
        r"was not found in the (?:package registry|cache)|not found in the provided package locations",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "network",
        (),
        "uv could not reach a package index over the network",
        r"(?i)error sending request|dns error|failed to lookup address|connection refused|"
        r"network is unreachable|operation timed out|request failed after|HTTP status (?:client|server) error|"
        r"tcp connect error|invalid peer certificate|Network connectivity is disabled",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "no-requires-python",
        (),
        "uv notes that the folder's pyproject.toml names no Python version, and picks one",
        r"No `requires-python` value found",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "interpreter",
        (),
        "uv could not find a Python interpreter that fits the request",
        r"No interpreter found|No Python installation found|No download found for request|"
        r"No (?:matching )?Python (?:version|interpreter)s? (?:found|available)|"
        r"does not satisfy the project's Python requirement|requires-python",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "externally-managed",
        (),
        "uv will not install into a Python the system's package manager owns (EXTERNALLY-MANAGED)",
        r"(?i)externally managed",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "build",
        (),
        "a package failed to build (its build backend reported the error)",
        r"Failed to build|Build backend failed|build backend returned an error|Failed to download and build",
        kind=Kind.NOT_DRIVE,
    ),
    _sign(
        "project-file",
        (),
        "uv could not read the project's own files",
        r"Failed to parse|TOML parse error|No `project` table found|No `pyproject\.toml` found|"
        r"is marked as unmanaged",
        kind=Kind.NOT_DRIVE,
    ),
)

_COMPILED = {s.key: tuple(re.compile(p) for p in s.all_of) for s in SIGNS}
_START = re.compile(r"^\s*(?:error|warning):|^\s*×")
_CONTINUED = re.compile(r"^\s+\S|^\s*(?:Caused by|cause|help|hint|╰─▶|├─▶)")
# Paths as uv prints them: in backticks or quotes; after "at"; Windows drive paths and UNC.
_QUOTED = re.compile(r"`([^`\n]+)`|'([^'\n]+)'|\"([^\"\n]+)\"")
_BARE = re.compile(r"(?:(?<=\s)|^)((?:[A-Za-z]:\\|\\\\|/)[^\s`'\",;:]*(?:\\[^\s`'\",;:]*)*)")


@dataclass(frozen=True)
class Message:
    """One error or warning uv printed, with the lines of context that follow it."""

    text: str
    kind: Kind
    sign: Sign | None
    paths: tuple[str, ...]

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0].strip() if self.text else ""

    @property
    def codes(self) -> tuple[str, ...]:
        return self.sign.codes if self.sign else ()


def blocks(output: str) -> list[str]:
    """uv's messages: a line starting `error:`, `warning:` (or miette's `×`) and the indented or
    `Caused by:` / `cause:` lines after it. Colour codes are taken out first."""
    found: list[list[str]] = []
    for line in _strip_ansi(output).splitlines():
        if _START.match(line):
            found.append([line.rstrip()])
        elif found and line.strip() and _CONTINUED.match(line):
            found[-1].append(line.rstrip())
    return ["\n".join(lines) for lines in found]


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def recognise(text: str) -> Sign | None:
    for sign in SIGNS:
        if all(pattern.search(text) for pattern in _COMPILED[sign.key]):
            return sign
    return None


def paths_in(text: str) -> tuple[str, ...]:
    """Every path a message names, as written (a Windows path stays a Windows path)."""
    found: list[str] = []
    for match in _QUOTED.finditer(text):
        candidate = next(g for g in match.groups() if g is not None)
        if _looks_like_path(candidate):
            found.append(candidate)
    for match in _BARE.finditer(_QUOTED.sub(" ", text)):
        candidate = match.group(1).rstrip(".")
        if _looks_like_path(candidate) and len(candidate) > 1:
            found.append(candidate)
    return tuple(dict.fromkeys(found))


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "\\\\", "~/")) or re.match(r"[A-Za-z]:[\\/]", text) is not None


def read(output: str) -> tuple[Message, ...]:
    """Every message in uv's output, recognised where a rule (or a non-drive cause) fits."""
    out = []
    for text in blocks(output):
        sign = recognise(text)
        kind = sign.kind if sign else Kind.UNKNOWN
        out.append(Message(text, kind, sign, paths_in(text)))
    return tuple(out)


def windows_path(path: str) -> bool:
    """A path of a Windows machine, judged as text on any other (never touched)."""
    return re.match(r"[A-Za-z]:[\\/]", path) is not None or path.startswith("\\\\")
