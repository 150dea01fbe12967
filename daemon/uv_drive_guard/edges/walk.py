"""Find what uv made or will use on a drive, with a walk bounded by depth, count and time.

A drive's tree is untrusted: symlinks are never followed (loops), unreadable directories are
skipped, file reads are small and bounded, and nothing found is ever executed.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.model import Artefact, ArtefactKind, Definition, EnvironmentKind, Shebang, SourceKind, Unseen
from . import projects, safeio, settings, untrusted, venvs

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
            lambda path, ws, non_project: build_project(path, ws, volume, result.finder, non_project),
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
        result.artefacts.append(venv_artefact(path, volume, result.mounts))
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
    found = venvs.shebangs(path, mounts)
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


def build_project(
    path: str, workspace: str, volume: str, finder: projects.Finder, non_project: bool = False
) -> Artefact:
    """One project; members share the workspace root's environment and settings."""
    config_file, definitions = project_settings(Path(workspace), finder)
    return with_environment(
        Artefact(
            ArtefactKind.PROJECT,
            path,
            volume,
            settings=tuple(definitions),
            environment=os.path.join(workspace, ".venv"),
            config_file=str(config_file or Path(workspace, "pyproject.toml")),
            workspace=workspace,
            non_project=non_project,
        ),
        os.path.join(workspace, ".venv"),
    )


def with_environment(project: Artefact, at: str) -> Artefact:
    """The project as uv finds its environment path `at`: a directory (or nothing) is where uv
    writes; a link leads where it points, a redirect file (uv 0.13.9 and later) to the
    environment it names (whether that is there decides what uv does: see the rules)."""
    kind, target, there = venvs.environment_at(at)
    # judged where it leads (as text, when not ours to look at); a link or redirect that leads
    # nowhere stays where uv stops: at `at`
    leads = at if target is None or there is False else target
    if kind is EnvironmentKind.DIRECTORY:
        return plain_environment(project, at)
    return replace(
        project,
        environment=leads,
        environment_kind=kind,
        environment_link=at,
        environment_target=target,
        environment_target_exists=there,
    )


def plain_environment(project: Artefact, at: str) -> Artefact:
    """The project with its environment at `at`, a directory uv makes or uses as it is."""
    return replace(
        project,
        environment=at,
        environment_kind=EnvironmentKind.DIRECTORY,
        environment_link=None,
        environment_target=None,
        environment_target_exists=None,
    )


def project_settings(project: Path, finder: projects.Finder | None = None) -> tuple[Path | None, list[Definition]]:
    """uv's `FilesystemOptions::find` from the workspace root: the first ancestor, up to `/`,
    with a uv.toml, or a pyproject.toml with [tool.uv]; an unreadable pyproject.toml is passed by."""
    for directory in (project, *project.parents):
        uv_toml, pyproject = directory / "uv.toml", directory / "pyproject.toml"
        if safeio.is_regular(uv_toml):
            return uv_toml, settings.config_definitions(uv_toml, SourceKind.UV_TOML_PROJECT)
        if finder is not None:
            manifest = finder.manifest(str(directory))
            tool_uv = manifest is not None and manifest.tool_uv
        else:
            tool_uv = safeio.is_regular(pyproject) and settings.has_tool_uv(pyproject)
        if tool_uv:
            return pyproject, settings.config_definitions(pyproject, SourceKind.PYPROJECT, pyproject=True)
    return None, []
