"""What an environment on a drive says about where it was made: its scripts of `bin/`
(`Scripts/` on Windows), up to `MAX_SCRIPTS` entries, first line only, read as text, never run.

Each console script names its interpreter by absolute path (`#!/media/ana/STICK/app/.venv/
bin/python`). After the drive moved, `uv run` reinstalls the project and rewrites its own
scripts, while its dependencies' scripts keep the old path (seen, uv 0.13.9 and 0.13.10): one
script alone can look fine while the next fails, so all of them are read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..core.model import Shebang
from . import safeio, untrusted

MAX_SCRIPTS = 200  # entries of bin/ looked at per environment: a big one has a few hundred
FIRST_LINE = 512  # bytes read of each: a shebang is one line, at most 255 bytes on Linux
_INTERPRETERS = ("python", "pypy", "graalpy")


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


def shebangs(venv: str) -> tuple[Shebang, ...]:
    """Each interpreter the environment's scripts name, with how many name it, most first."""
    counts: dict[str, list[str]] = {}
    for name, line in _first_lines(sorted(_entries(venv), key=_activation_last)):
        interpreter = interpreter_of(line.rstrip("\r"))
        if interpreter is not None:
            counts.setdefault(interpreter, []).append(name)
    found = [
        # lstat: on a nosymfollow mount bin/python is there but cannot be followed (UVD016)
        Shebang(path, len(names), names[0], untrusted.exists(path, stat=os.lstat))
        for path, names in counts.items()
    ]
    return tuple(sorted(found, key=lambda s: -s.scripts))


__all__ = ["FIRST_LINE", "MAX_SCRIPTS", "interpreter_of", "shebangs"]
