"""Projects on a drive, found as uv finds them: manifests, workspaces, members, environments.

Mirrors `Workspace::discover` and `find_workspace` in uv's `crates/uv-workspace/src/workspace.rs`:
the project is the directory of a `pyproject.toml`; its workspace root is the project itself when
it declares `[tool.uv.workspace]`, else the first ancestor holding a `pyproject.toml` if that one
declares a workspace whose `members` globs include the project and whose `exclude` globs do not,
else the project itself. `uv sync` puts the environment at `<workspace root>/.venv`, and reads
its settings from the first ancestor of the workspace root with a `uv.toml` or a `pyproject.toml`
with `[tool.uv]` (`project_settings`, uv's `FilesystemOptions::find`).

A `pyproject.toml` without `[project]` is no refusal: `VirtualProject::discover` makes it a
non-project workspace root of its own (`VirtualProject::NonProject`, with `Workspace::build`),
and `uv sync` / `uv run` make `.venv` beside it, whatever else the file holds, even nothing.
Only `[tool.uv] managed = false` beside a `[project]` table makes uv refuse
(`ProjectWorkspace::from_project`: "The project is marked as unmanaged"); without `[project]`
uv does not look at `managed` (read in uv 0.12.5, seen with 0.13.10).

Every read is bounded and never follows what a drive names: manifests are read as text through
`settings.read_text`, member globs are expanded without following symbolic links, within a count
and a clock. What could not be read becomes an `Unseen` line, never a crash.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core.model import Artefact, ArtefactKind, Definition, EnvironmentKind, SourceKind, Unseen
from . import safeio, settings, tomlfile, venvs

MAX_MANIFEST = 1 << 20  # a real pyproject.toml is a few kB; uv itself has no limit
MAX_MEMBERS = 2_000  # member directories expanded per workspace
MAX_ANCESTORS = 64
MAX_NOTES = 20  # "not looked at" lines per walk: a person reads a few, not thousands


@dataclass(frozen=True)
class Manifest:
    """What uv reads from one `pyproject.toml` to decide what the directory is."""

    directory: str
    project: bool = False  # a [project] table
    tool_uv: bool = False  # a [tool.uv] table
    managed: bool = True  # tool.uv.managed; false makes uv refuse a [project] (only that)
    members: tuple[str, ...] | None = None  # [tool.uv.workspace] members; None: no workspace
    exclude: tuple[str, ...] = ()
    problem: str | None = None  # why uv could not read it

    @property
    def workspace(self) -> bool:
        return self.members is not None

    @property
    def refused(self) -> bool:
        """uv stops here: unreadable, or a [project] marked `managed = false`."""
        return self.problem is not None or (self.project and not self.managed)


def _parse(text: str) -> dict[str, Any] | str:
    """The TOML table, or the parser's complaint (a drive's file is untrusted input)."""
    try:
        return tomlfile.loads(text)
    except tomlfile.TomlError as exc:
        return str(exc)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str))[:200] if isinstance(value, list) else ()


def read_manifest(directory: str) -> Manifest | None:
    """The directory's pyproject.toml as uv reads it; None when there is none."""
    path = os.path.join(directory, "pyproject.toml")
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode):
        return Manifest(directory, problem="pyproject.toml is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        safeio.is_regular(path)  # a pipe, socket, device or link: noted once, as every skipped file is
        return None
    if info.st_size > MAX_MANIFEST:
        return Manifest(directory, problem=f"pyproject.toml is {info.st_size >> 20} MiB: too large to read")
    text = settings.read_text(Path(path))
    if text is None:
        return Manifest(directory, problem="pyproject.toml could not be read")
    if "\ufffd" in text:
        return Manifest(directory, problem="pyproject.toml is not UTF-8 text: uv cannot read it")
    table = _parse(text)
    if isinstance(table, str):
        return Manifest(directory, problem=f"pyproject.toml is not valid TOML ({table.splitlines()[0]})")
    return _manifest(directory, table)


def _manifest(directory: str, table: dict[str, Any]) -> Manifest:
    tool = table.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    uv = uv if isinstance(uv, dict) else None
    project = table.get("project")
    managed = uv.get("managed", True) if uv is not None else True
    problem = _schema_problem(project, managed)
    if problem is not None:
        return Manifest(directory, problem=problem)
    workspace = uv.get("workspace") if uv is not None else None
    members = exclude = None
    if isinstance(workspace, dict):
        members, exclude = _strings(workspace.get("members")), _strings(workspace.get("exclude"))
    return Manifest(
        directory,
        project=isinstance(project, dict),
        tool_uv=uv is not None,
        managed=managed is not False,
        members=members,
        exclude=exclude or (),
    )


def _schema_problem(project: object, managed: object) -> str | None:
    """What uv's `PyProjectToml` refuses before it does anything there (seen, 0.13.10): the
    two mistakes that decide whether uv works in the folder at all."""
    if isinstance(project, dict) and not isinstance(project.get("name"), str):
        return "pyproject.toml has a [project] table without a `name`: uv stops with an error there"
    if not isinstance(managed, bool):
        return "pyproject.toml sets tool.uv.managed to something other than true or false: uv stops there"
    return None


def _pattern(root: str, glob: str) -> str:
    """uv joins the escaped root and the normalised glob (`./a/*` -> `a/*`)."""
    escaped = "".join(f"[{c}]" if c in "*?[" else c for c in root)
    return posixpath.join(escaped, posixpath.normpath(glob))


def _matches(path: str, root: str, globs: Iterable[str]) -> bool:
    """glob's `Pattern::matches_path` with default options: `*` also matches `/`."""
    return any(fnmatch.fnmatchcase(path, _pattern(root, glob)) for glob in globs)


def included(project: str, root: Manifest) -> bool:
    """`is_included_in_workspace` and not `is_excluded_from_workspace`."""
    if project == root.directory:
        return True
    return _matches(project, root.directory, root.members or ()) and not _matches(project, root.directory, root.exclude)


@dataclass
class Finder:
    """Reads manifests once each, walks up to workspace roots, expands members: bounded."""

    deadline: float
    known: dict[str, Manifest | None] = field(default_factory=dict)
    unseen: list[Unseen] = field(default_factory=list)
    volume: str = ""
    read: Callable[[str], Manifest | None] = read_manifest
    noted: set[str] = field(default_factory=set)
    more: int = 0

    def manifest(self, directory: str) -> Manifest | None:
        if directory not in self.known:
            self.known[directory] = self.read(directory)
        return self.known[directory]

    def workspace_root(self, project: Manifest) -> str:
        """Where uv puts this project's environment: its workspace root (uv's find_workspace)."""
        if project.workspace or not project.project:
            return project.directory
        parent = os.path.dirname(project.directory)
        for _ in range(MAX_ANCESTORS):
            if parent == os.path.dirname(parent):
                break
            above = self.manifest(parent)
            if above is not None:  # uv stops at the first pyproject.toml above
                ok = above.problem is None and above.workspace and included(project.directory, above)
                return above.directory if ok else project.directory
            parent = os.path.dirname(parent)
        return project.directory

    def members(self, root: Manifest) -> list[str]:
        """The directories the root's member globs name, expanded without following links."""
        found: list[str] = []
        for glob in root.members or ():
            parts = [p for p in posixpath.normpath(glob).split("/") if p not in ("", ".")]
            if ".." in parts:
                continue  # members outside the workspace: not on this walk's drive
            self._expand(root.directory, parts, found, glob)
            if len(found) >= MAX_MEMBERS or time.monotonic() > self.deadline:
                self.note(root.directory, f"workspace members `{glob}`: stopped after {len(found)} folders")
                break
        return [m for m in dict.fromkeys(found) if not _matches(m, root.directory, root.exclude)]

    def _expand(self, base: str, parts: list[str], out: list[str], glob: str) -> None:
        if not parts:
            out.append(base)
            return
        head, rest = parts[0], parts[1:]
        if not any(c in head for c in "*?["):
            self._descend(os.path.join(base, head), rest, out, glob)
            return
        try:
            with os.scandir(base) as entries:
                names = sorted(e.name for e, _ in zip(entries, range(MAX_MEMBERS * 5), strict=False))
        except OSError:
            return
        for name in names:
            if len(out) >= MAX_MEMBERS or time.monotonic() > self.deadline:
                return
            if fnmatch.fnmatchcase(name, head):
                self._descend(os.path.join(base, name), rest, out, glob)

    def _descend(self, path: str, rest: list[str], out: list[str], glob: str) -> None:
        try:
            info = os.lstat(path)
        except OSError:
            return
        if stat.S_ISLNK(info.st_mode):
            self.note(path, f"workspace member `{glob}` is a symbolic link: not followed (uv follows it)")
        elif stat.S_ISDIR(info.st_mode):
            self._expand(path, rest, out, glob)

    def note(self, path: str, reason: str) -> None:
        """One line per place, at most MAX_NOTES; the rest are counted in the last line."""
        if path in self.noted:
            return
        self.noted.add(path)
        if len(self.unseen) < MAX_NOTES:
            self.unseen.append(Unseen(path, reason, self.volume or None))
            return
        self.more += 1
        last = Unseen(self.volume or path, f"and {self.more} more places like the ones above", self.volume or None)
        if len(self.unseen) > MAX_NOTES:
            self.unseen[-1] = last
        else:
            self.unseen.append(last)


def is_project(manifest: Manifest, names: Iterable[str] = ()) -> bool:
    """A project proper: [project], [tool.uv], or a uv.lock or .venv beside it (uv was used
    there). Any other pyproject.toml uv works in is a non-project folder (`is_folder`)."""
    if manifest.refused:
        return False
    names = set(names)
    return manifest.project or manifest.tool_uv or "uv.lock" in names or ".venv" in names


def is_folder(manifest: Manifest, names: Iterable[str] = ()) -> bool:
    """A pyproject.toml of tool settings only, `[build-system]` only, `[dependency-groups]`
    only, or nothing at all: `uv sync` and `uv run` there make `.venv` in non-project mode."""
    return not manifest.refused and not is_project(manifest, names)


def resolve(
    finder: Finder,
    found: dict[str, set[str]],
    build: Callable[[str, str, bool], Artefact],
) -> list[Artefact]:
    """Project artefacts for the manifests a walk found (`found`: directory -> names in it);
    `build(project, workspace_root, non_project)` makes one. A non-project folder is its own
    root: uv stops at its pyproject.toml and never joins it to a workspace above."""
    chosen: dict[str, str] = {}  # project directory -> workspace root
    folders: list[str] = []
    for directory in sorted(found):
        manifest = finder.manifest(directory)
        if manifest is None:
            continue
        if manifest.problem is not None:
            finder.note(os.path.join(directory, "pyproject.toml"), manifest.problem)
        elif is_project(manifest, found[directory]):
            chosen[directory] = finder.workspace_root(manifest)
        elif is_folder(manifest, found[directory]):
            folders.append(directory)
    for root in sorted(set(chosen.values())):
        manifest = finder.manifest(root)
        if manifest is not None and manifest.workspace:
            for member in finder.members(manifest):
                if time.monotonic() > finder.deadline:
                    finder.note(root, "workspace members: stopped at the time budget")
                    break
                _add_member(finder, member, root, chosen)
    roots = sorted(set(chosen.values()) - set(chosen))  # a workspace root above the walk
    found_projects = [build(path, root, False) for path, root in sorted(chosen.items())]
    return found_projects + [build(r, r, False) for r in roots] + [build(f, f, True) for f in folders]


def _add_member(finder: Finder, member: str, root: str, chosen: dict[str, str]) -> None:
    if member in chosen:
        return
    manifest = finder.manifest(member)
    if manifest is None:
        if not os.path.basename(member).startswith("."):  # uv skips hidden folders quietly
            finder.note(member, "workspace member without a pyproject.toml: uv stops with an error there")
    elif manifest.problem is not None:
        finder.note(os.path.join(member, "pyproject.toml"), manifest.problem)
    elif manifest.project:
        chosen[member] = root


def build_project(path: str, workspace: str, volume: str, finder: Finder, non_project: bool = False) -> Artefact:
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


def project_settings(project: Path, finder: Finder | None = None) -> tuple[Path | None, list[Definition]]:
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
