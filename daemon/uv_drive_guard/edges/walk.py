"""Find what uv made or will use on a drive, with a walk bounded by depth, count and time.

A drive's tree is untrusted: symlinks are never followed (loops), unreadable directories are
skipped, file reads are small and bounded, and nothing found is ever executed.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field

from ..core.model import Artefact, ArtefactKind, Unseen
from . import projects, safeio, untrusted, venvs

PRUNE = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        "site-packages",
        "dist-packages",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "System Volume Information",
        "$RECYCLE.BIN",
        ".Trashes",
        ".Spotlight-V100",
        ".fseventsd",
        ".TemporaryItems",
        "lost+found",
    }
)
PYTHON_PREFIXES = ("cpython-", "pypy-", "graalpy-")  # uv python install dir entries
CACHE_MARKERS = frozenset({"archive-v0", "wheels-v5", "wheels-v4", "wheels-v3", "sdists-v9", "interpreter-v4"})


@dataclass(frozen=True)
class Budget:
    max_depth: int = 6
    max_entries: int = 200_000
    seconds: float = 2.0


GRACE_S = 0.5  # after the walk's own budget: workspace roots above it and member globs


@dataclass
class WalkResult:
    artefacts: list[Artefact] = field(default_factory=list)
    entries: int = 0
    truncated: str | None = None  # why the walk stopped early
    notes: list[str] = field(default_factory=list)  # files skipped: named pipes, sockets, devices
    manifests: dict[str, set[str]] = field(default_factory=dict)  # pyproject.toml dirs: names there
    finder: projects.Finder = field(default_factory=lambda: projects.Finder(deadline=0.0))
    root: str = ""
    mounts: list[tuple[str, str]] | None = None  # the mount table, read once for the walk's venvs

    @property
    def unseen(self) -> list[Unseen]:
        """What the report must not call ok: a walk cut short, files uv could not read."""
        if not self.truncated:
            return list(self.finder.unseen)
        reason = f"the walk {self.truncated}: folders it did not reach were not looked at"
        return [Unseen(self.root, reason, self.finder.volume or None), *self.finder.unseen]


def walk(root: str, volume: str, budget: Budget = Budget()) -> WalkResult:
    deadline = time.monotonic() + budget.seconds
    result = WalkResult(finder=projects.Finder(deadline=deadline + GRACE_S, volume=volume), root=root)
    queue: deque[tuple[str, int]] = deque([(root, 0)])
    with safeio.collect() as notes:
        _walk(queue, volume, budget, deadline, result)
        result.artefacts += projects.resolve(
            result.finder,
            result.manifests,
            lambda path, ws, non_project: projects.build_project(path, ws, volume, result.finder, non_project),
        )
    result.notes = notes
    return result


def _walk(queue: deque[tuple[str, int]], volume: str, budget: Budget, deadline: float, result: WalkResult) -> None:
    while queue:
        path, depth = queue.popleft()
        names, subdirs = _list(path)
        result.entries += len(names)
        descend = _classify(path, names, subdirs, volume, result)
        if result.entries >= budget.max_entries:
            result.truncated = f"stopped after {result.entries} entries"
            break
        if time.monotonic() > deadline:
            result.truncated = f"stopped after {budget.seconds:g} s"
            break
        if descend and depth < budget.max_depth:
            queue.extend((os.path.join(path, d), depth + 1) for d in subdirs if d not in PRUNE)


def _list(path: str) -> tuple[set[str], list[str]]:
    names: set[str] = set()
    subdirs: list[str] = []
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                names.add(entry.name)
                try:
                    if entry.is_dir(follow_symlinks=False) and not _junction(entry):
                        subdirs.append(entry.name)
                except OSError:
                    continue
    except OSError:
        pass  # unreadable, vanished, or the drive went away: nothing more below here
    return names, subdirs


def _junction(entry: os.DirEntry[str]) -> bool:
    """An NTFS junction reads as a directory, not a link: the walk never goes through one."""
    if os.name != "nt":
        return False
    return getattr(entry.stat(follow_symlinks=False), "st_reparse_tag", 0) == venvs.JUNCTION


def _classify(path: str, names: set[str], subdirs: list[str], volume: str, result: WalkResult) -> bool:
    """Record an artefact found at `path`; return whether to look further down."""
    if "uv-receipt.toml" in names:  # one tool's environment: its parent is a uv tool dir
        _add_once(result, Artefact(ArtefactKind.TOOL_DIR, os.path.dirname(path), volume))
        return False
    if ".lock" in names and any(name.startswith(PYTHON_PREFIXES) for name in subdirs):
        result.artefacts.append(Artefact(ArtefactKind.PYTHON_DIR, path, volume))
        return False
    if "pyvenv.cfg" in names:
        if result.mounts is None:
            result.mounts = untrusted.mount_table()
        result.artefacts.append(venvs.venv_artefact(path, volume, result.mounts))
        return False
    if "CACHEDIR.TAG" in names and names & CACHE_MARKERS:
        result.artefacts.append(Artefact(ArtefactKind.CACHE, path, volume))
        return False
    if "pyproject.toml" in names:
        result.finder.manifest(path)  # read now, on the walk's clock
        result.manifests[path] = names
    return True


def has_tools(tool_dir: str, limit: int = 200) -> bool:
    """Whether `uv tool install` put anything in this tool directory (a receipt per tool)."""
    try:
        with os.scandir(tool_dir) as entries:
            dirs = [e.path for e, _ in zip(entries, range(limit), strict=False) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return False
    return any(os.path.isfile(os.path.join(d, "uv-receipt.toml")) for d in dirs)


def _add_once(result: WalkResult, artefact: Artefact) -> None:
    if artefact not in result.artefacts:
        result.artefacts.append(artefact)
