"""/proc/self/mountinfo, read once by one parser: the volume listing's options and bind-mount
roots, and the untrusted-path check's "which mount holds this path"."""

from __future__ import annotations

from dataclasses import dataclass

MOUNTINFO = "/proc/self/mountinfo"
MAX_BYTES = 4 << 20  # a mount table far beyond any real one still stops here


@dataclass(frozen=True)
class Mount:
    """The parts of one mountinfo line the product uses."""

    mountpoint: str
    dev: str  # "major:minor" of the filesystem
    root: str  # the folder of that filesystem shown at the mount point
    options: tuple[str, ...]  # per-mount options, then the superblock's
    fstype: str
    mount_id: str = ""  # unique among the mounts now; the kernel hands a freed id out again


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse(text: str) -> list[Mount]:
    """Every well-formed line, in mount order (a later mount on the same point hides the earlier)."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 3:
            continue
        options = tuple(fields[5].split(",")) + tuple(o for o in tail[2].split(",") if o)
        mounts.append(
            Mount(
                _unescape(fields[4]), fields[2], _unescape(fields[3]), tuple(dict.fromkeys(options)), tail[0], fields[0]
            )
        )
    return mounts


def read(path: str = MOUNTINFO) -> list[Mount] | None:
    """The mount table now; None where it cannot be read (no /proc, or not Linux)."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return parse(handle.read(MAX_BYTES))
    except OSError:
        return None
