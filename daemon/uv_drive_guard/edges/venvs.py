"""What an environment on a drive says about where it was made, and what stands where uv would
make one: read as text, bounded, never run, never followed onto another machine.

- `pyvenv.cfg`: the `home` the interpreter came from and the uv version that made it
  (`venv_artefact`, what the walk records for each environment it finds).

- The scripts of `bin/` (`Scripts/` on Windows), up to `MAX_SCRIPTS` entries, first line only:
  each console script names its interpreter by absolute path (`#!/media/ana/STICK/app/.venv/
  bin/python`). After the drive moved, `uv run` reinstalls the project and rewrites its own
  scripts, while its dependencies' scripts keep the old path (seen, uv 0.13.9 and 0.13.10): one
  script alone can look fine while the next fails, so all of them are read.
- The path uv makes a project's environment at: nothing, a directory, a symbolic link or
  junction (read with readlink, one hop at a time, looked at only on a local volume that is
  mounted: `untrusted.touchable`), or a file (uv 0.13.9 and later read it as a redirect to the
  environment, PEP 832; before, uv refuses it).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from ..core.model import Artefact, ArtefactKind, EnvironmentKind, Shebang
from . import safeio, untrusted

MAX_SCRIPTS = 200  # entries of bin/ looked at per environment: a big one has a few hundred
FIRST_LINE = 512  # bytes read of each: a shebang is one line, at most 255 bytes on Linux
MAX_HOPS = 8  # links followed, as text, from `.venv` to the directory it leads to
REDIRECT_LIMIT = 4096  # a redirect file holds one path
_INTERPRETERS = ("python", "pypy", "graalpy")
JUNCTION = getattr(stat, "IO_REPARSE_TAG_MOUNT_POINT", 0xA0000003)


def _entries(venv: str) -> list[str]:
    """Regular files among the first MAX_SCRIPTS entries of `bin` (Linux, macOS) or `Scripts`
    (a venv made on Windows); links, like bin/python, are not scripts."""
    for name in ("bin", "Scripts"):
        try:
            with os.scandir(os.path.join(venv, name)) as entries:
                first = [e for e, _ in zip(entries, range(MAX_SCRIPTS), strict=False)]
        except OSError:
            continue
        return [e.path for e in first if e.is_file(follow_symlinks=False)]
    return []


def _activation_last(path: str) -> tuple[bool, str]:
    """Console scripts first: `activate_this.py` and `pydoc` are no script a person runs."""
    return os.path.basename(path).startswith(("activate", "pydoc")), path


def interpreter_of(first_line: str) -> str | None:
    """The absolute interpreter a `#!` line starts, or None: no shebang, not Python, or uv's
    `#!/bin/sh` trampoline (long paths, relocatable environments), which names none on line one."""
    if not first_line.startswith("#!"):
        return None
    words = first_line[2:].strip().split()
    if not words or words[0].startswith("/bin/sh"):
        return None
    name = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    return words[0] if name.startswith(_INTERPRETERS) else None


def _first_lines(paths: list[str]) -> Iterator[tuple[str, str]]:
    for path in paths:
        data = safeio.read_bytes(path, FIRST_LINE)  # regular files only, never a pipe or device
        if data:
            yield os.path.basename(path), data[:FIRST_LINE].split(b"\n", 1)[0].decode("utf-8", errors="replace")


def shebangs(venv: str, mounts: untrusted.Mounts | None = None) -> tuple[Shebang, ...]:
    """Each interpreter the environment's scripts name, with how many name it, most first
    (`mounts`: the mount table, when the caller read it already)."""
    counts: dict[str, list[str]] = {}
    for name, line in _first_lines(sorted(_entries(venv), key=_activation_last)):
        interpreter = interpreter_of(line.rstrip("\r"))
        if interpreter is not None:
            counts.setdefault(interpreter, []).append(name)
    found = [
        # lstat: on a nosymfollow mount bin/python is there but cannot be followed (UVD016)
        Shebang(path, len(names), names[0], untrusted.exists(path, stat=os.lstat, mounts=mounts))
        for path, names in counts.items()
    ]
    return tuple(sorted(found, key=lambda s: -s.scripts))


def _is_link(info: os.stat_result) -> bool:
    """A symbolic link, or an NTFS junction (which Python's lstat shows as a directory)."""
    return stat.S_ISLNK(info.st_mode) or getattr(info, "st_reparse_tag", 0) == JUNCTION


def _readlink(path: str) -> str | None:
    try:
        target = os.readlink(path)
    except (OSError, ValueError):
        return None
    if target.startswith("\\\\?\\") and not untrusted.is_unc(target):
        target = target[4:]  # a junction's target, `\\?\E:\envs\demo`
    return target


def _join(base: str, target: str) -> str:
    """A link's target, relative to the directory holding the link (as the OS reads it)."""
    return os.path.normpath(os.path.join(os.path.dirname(base), target))


def _follow(path: str) -> tuple[str, bool | None]:
    """The directory a chain of links leads to, read hop by hop, and whether it is there
    (None: a hop leaves the local volumes that are mounted, and is not asked)."""
    here = path
    for _ in range(MAX_HOPS):
        target = _readlink(here)
        if target is None:
            return here, None
        here = _join(here, target)
        if not untrusted.touchable(here):
            return here, None
        try:
            info = os.lstat(here)
        except OSError:
            return here, False
        if not _is_link(info):
            return here, stat.S_ISDIR(info.st_mode)
    return here, None  # a loop, or a very long chain: uv would stop on it too


def _redirect(path: str) -> tuple[str | None, bool | None]:
    """A `.venv` file's first line, the path it redirects to, and whether an environment
    (pyvenv.cfg) is there; (None, None) for an empty or unreadable file."""
    data = safeio.read_bytes(path, REDIRECT_LIMIT)
    line = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip() if data else ""
    if not line:
        return None, None
    target = os.path.join(os.path.dirname(path), line)  # uv: `path.parent().join(target)`, as is
    return target, untrusted.exists(os.path.join(target, "pyvenv.cfg"))


def environment_at(path: str) -> tuple[EnvironmentKind, str | None, bool | None]:
    """What stands at the path uv makes a project's environment at: (kind, target, target there)."""
    try:
        info = os.lstat(path)
    except OSError:
        return EnvironmentKind.DIRECTORY, None, None  # nothing yet: uv makes it
    if _is_link(info):
        return (EnvironmentKind.LINK, *_follow(path))
    if stat.S_ISREG(info.st_mode):
        return (EnvironmentKind.FILE, *_redirect(path))
    return EnvironmentKind.DIRECTORY, None, None


__all__ = ["JUNCTION", "MAX_SCRIPTS", "environment_at", "interpreter_of", "shebangs"]


def read_head(path: str, limit: int = 64 * 1024) -> str | None:
    """The first `limit` bytes of a regular file on the drive; never blocks (safeio)."""
    data = safeio.read_bytes(path, limit)
    return None if data is None else data[:limit].decode("utf-8", errors="replace")


def parse_pyvenv_cfg(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines()[:200]:
        if "=" in line:
            key, value = line.split("=", 1)
            values[key.strip().lower()] = value.strip()
    return values


def venv_artefact(path: str, volume: str, mounts: untrusted.Mounts | None = None) -> Artefact:
    cfg = parse_pyvenv_cfg(read_head(os.path.join(path, "pyvenv.cfg")) or "")
    home = cfg.get("home")
    mounts = untrusted.mount_table() if mounts is None else mounts
    found = shebangs(path, mounts)
    first = _telling(found)
    return Artefact(
        ArtefactKind.VENV,
        path,
        volume,
        uv_version=cfg.get("uv"),
        home=home,
        home_exists=untrusted.exists(home, directory=True, mounts=mounts),  # never a UNC or automount path
        script_interpreter=first.interpreter if first else None,
        script_interpreter_exists=first.exists if first else None,
        script=first.example if first else None,
        shebangs=found,
    )


def _telling(found: tuple[Shebang, ...]) -> Shebang | None:
    """The interpreter that decides: one that is gone (a script that will fail), else the most named."""
    return next((s for s in found if s.exists is False), found[0] if found else None)
