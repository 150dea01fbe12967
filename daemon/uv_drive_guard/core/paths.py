"""Is this path under that root: the one answer every mount, drive and home check shares."""

from __future__ import annotations


def under(path: str, root: str, *, windows: bool = False, strict: bool = False) -> bool:
    """`path` is `root` or lies inside it, one whole name at a time (`/media/ana` holds
    `/media/ana/X`, never `/media/anaX`); `strict`: inside only, not the root itself.

    `/` and `C:\\` hold everything on their disk; trailing separators on either side do not
    count. With `windows`, `\\` and `/` both separate and case does not matter, as on
    Windows. Nothing else is normalised (no `..`, no links): callers pass the paths they
    compare. An empty root holds nothing.
    """
    if not root or not path:
        return False
    if windows:
        path, root = path.replace("/", "\\").lower(), root.replace("/", "\\").lower()
    sep = "\\" if windows else "/"
    top, inner = root.rstrip(sep), path.rstrip(sep)
    if inner == top:
        return not strict
    return inner.startswith(top + sep)


def tilde(path: str, home: str) -> str:
    """Paths in the home folder as people write them: ~/.cache/uv. Only for titles."""
    if under(path, home, windows="/" not in home):  # C:\\Users\\ana is a Windows home
        return "~" + path[len(home.rstrip("/\\")) :]
    return path
