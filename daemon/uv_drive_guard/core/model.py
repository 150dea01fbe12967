"""The values that flow from the edges through diagnosis to the renderers.

Everything here is frozen and typed, and nothing here touches the machine: the edges build
these values, `diagnose()` reads them, the CLI and the tray render them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NoReturn


class Os(str, Enum):
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"

    @property
    def unix(self) -> bool:
        return self is not Os.WINDOWS


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Op(str, Enum):
    """Operations the probe tries, named once so the probe, the rules and the JSON agree."""

    HARDLINK = "hardlink"
    SYMLINK_FILE = "symlink_file"
    SYMLINK_DIR = "symlink_dir"
    REFLINK = "reflink"
    RENAME_NOREPLACE = "rename_noreplace"
    FLOCK_SHARED = "flock_shared"
    FLOCK_EXCLUSIVE = "flock_exclusive"
    EXEC_BIT = "exec_bit"
    CASE_SENSITIVE = "case_sensitive"
    JUNCTION = "junction"
    APPLEDOUBLE = "appledouble"
    SYMLINK_FOLLOW = "symlink_follow"
    EXEC_FILE = "exec_file"
    CANONICALIZE = "canonicalize"


OPS = tuple(Op)


@dataclass(frozen=True)
class Capabilities:
    """What a filesystem did when asked, per operation: True, False, or None for not known."""

    results: tuple[tuple[str, bool | None], ...] = ()
    errors: tuple[tuple[str, str], ...] = ()  # op -> "Operation not permitted (os error 1)"
    errnos: tuple[tuple[str, int], ...] = ()
    max_file_size: int | None = None
    free: int | None = None  # bytes an unprivileged user may still write, measured by the probe
    probed: bool = False
    note: str | None = None  # why the probe did not run, or what cut it short
    # the pairs above as mappings, made once: the rules ask them thousands of times per scan
    _results: dict[str, bool | None] = field(init=False, repr=False, compare=False, hash=False)
    _errors: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)
    _errnos: dict[str, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_results", dict(self.results))
        object.__setattr__(self, "_errors", dict(self.errors))
        object.__setattr__(self, "_errnos", dict(self.errnos))

    def get(self, op: Op) -> bool | None:
        return self._results.get(op)

    def error(self, op: Op) -> str | None:
        return self._errors.get(op)

    def errno(self, op: Op) -> int | None:
        return self._errnos.get(op)


UNKNOWN = Capabilities()


@dataclass(frozen=True)
class Volume:
    mountpoint: str
    device: str
    fstype: str  # the real filesystem, lowercase: exfat, vfat, ntfs, ext4, apfs, ...
    mount_fstype: str = ""  # as the mount table says: fuseblk, fuse.fusefat, ...
    label: str | None = None
    uuid: str | None = None
    read_only: bool = False
    removable: bool | None = None
    system: bool = False
    size: int | None = None
    capabilities: Capabilities = UNKNOWN
    options: tuple[str, ...] = ()  # mount options (mountinfo's per-mount and superblock fields)
    free: int | None = None  # bytes free for an unprivileged user, when asked
    root: str = "/"  # the folder of the filesystem shown here: "/" unless a bind mount
    dev: str | None = None  # "major:minor" of the filesystem, shared by its bind mounts
    bind_of: str | None = None  # the mount point showing the whole filesystem, for a bind mount
    # this attachment of the drive since boot (Linux: the disk's diskseq, never reused): plugged
    # in again, a new one; None where the system has no such number
    instance: str | None = None

    def option(self, name: str) -> bool:
        return name in self.options

    @property
    def name(self) -> str:
        """How a person recognises the drive."""
        return self.label or self.mountpoint


class SourceKind(str, Enum):
    COMMAND_LINE = "command-line"
    ENVIRONMENT = "environment"
    SHELL_FILE = "shell-file"
    ENVIRONMENT_D = "environment.d"
    REGISTRY_USER = "registry-user"
    REGISTRY_MACHINE = "registry-machine"
    LAUNCHCTL = "launchctl"
    UV_TOML_PROJECT = "uv.toml-project"
    PYPROJECT = "pyproject.toml"
    UV_TOML_USER = "uv.toml-user"
    UV_TOML_SYSTEM = "uv.toml-system"
    UV_CONFIG_FILE = "uv.toml-UV_CONFIG_FILE"
    DEFAULT = "default"
    FOUND = "found-on-drive"
    PORTABLE = "portable"  # uv-drive-guard's shell integration sets it inside the project


@dataclass(frozen=True)
class Source:
    """Where a value was set, so a fix can change it there and a person can find it."""

    kind: SourceKind
    file: str | None = None
    line: int | None = None
    name: str | None = None  # the variable or key: UV_CACHE_DIR, cache-dir, HKCU\Environment

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        what = f"{self.name} " if self.name else ""
        return f"{what}in {where}" if where else f"{what}({self.kind.value})"


@dataclass(frozen=True)
class Definition:
    """One place that sets a uv variable or key; several may exist for one name."""

    name: str
    value: str | None  # None: set to something we cannot expand statically
    source: Source
    raw: str = ""


class Role(str, Enum):
    CACHE = "cache"
    TOOL_DIR = "tool-dir"
    TOOL_BIN_DIR = "tool-bin-dir"
    PYTHON_INSTALL_DIR = "python-install-dir"
    PYTHON_BIN_DIR = "python-bin-dir"
    PROJECT_ENVIRONMENT = "project-environment"
    VENV = "venv"
    TEMP_DIR = "temp-dir"  # the temporary directory uv works in (TMPDIR; TMP, TEMP on Windows)


@dataclass(frozen=True)
class Location:
    """A directory uv reads or writes, for one context (global, or one project)."""

    role: Role
    path: str
    source: Source
    volume: str | None = None  # mount point of the volume holding it, filled by the scan
    project: str | None = None  # the project this applies to; None for uv's global directories
    exists: bool | None = None
    # Every other definition uv would read for this setting, in uv's precedence: what would be
    # used once this one is gone first, uv's default last (a shadowed setting is still a setting).
    shadowed: tuple[Location, ...] = ()
    fails: bool | None = None  # of a shadowed place: uv would fail there too (diagnose judges it)


class ArtefactKind(str, Enum):
    PROJECT = "project"
    VENV = "venv"
    CACHE = "cache"
    TOOL_DIR = "tool-dir"
    PYTHON_DIR = "python-dir"


@dataclass(frozen=True)
class Shebang:
    """The scripts of an environment that start one interpreter (their first lines, never run)."""

    interpreter: str  # the absolute path after `#!`
    scripts: int  # how many of the scripts read name it
    example: str  # one of them, by name: the one a person would `uv run`
    exists: bool | None = None  # None: not ours to look at (another machine, an automount)


class EnvironmentKind(str, Enum):
    """What stands where uv keeps a project's environment, before uv runs there."""

    DIRECTORY = "directory"  # a directory, or nothing yet: uv makes one
    LINK = "link"  # a symbolic link or a junction: uv goes where it points
    FILE = "file"  # a file: uv refuses it, or (0.13.9 and later) reads it as a redirect


@dataclass(frozen=True)
class Artefact:
    """Something uv made or will use, found by walking a drive."""

    kind: ArtefactKind
    path: str
    volume: str
    uv_version: str | None = None  # from pyvenv.cfg `uv = ...`
    home: str | None = None  # pyvenv.cfg `home`: the base interpreter's directory
    home_exists: bool | None = None
    script_interpreter: str | None = None  # first script's shebang target, never run
    script_interpreter_exists: bool | None = None
    script: str | None = None  # the name of the script whose shebang was read
    # project settings read from uv.toml / [tool.uv]; values are the file's, unexpanded
    settings: tuple[Definition, ...] = ()
    environment: str | None = None  # for projects: where its .venv is or would be
    config_file: str | None = None  # for projects: uv.toml if present, else pyproject.toml
    workspace: str | None = None  # for projects: the workspace root whose environment it shares
    # for projects: a folder whose pyproject.toml has no [project] table, where uv works in its
    # non-project mode (uv-workspace `VirtualProject::NonProject`)
    non_project: bool = False
    # for venvs: every interpreter the scripts of bin/ (Scripts/) name, how many name each
    shebangs: tuple[Shebang, ...] = ()
    # for projects: the path uv would make its environment at, when a link or file stands there
    environment_kind: EnvironmentKind = EnvironmentKind.DIRECTORY
    environment_link: str | None = None  # that path (`<root>/.venv`, or UV_PROJECT_ENVIRONMENT)
    environment_target: str | None = None  # where it leads, read as text: readlink, or the file's line
    environment_target_exists: bool | None = None  # None: not ours to look at, or not asked


@dataclass(frozen=True)
class UvInfo:
    version: str | None
    executable: str | None
    # what `uv cache dir` / `uv tool dir` / `uv python dir` printed, when asked
    reported: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PortableDrive:
    """A drive whose projects keep their environments on this computer (the registry's record)."""

    drive_id: str  # Volume.uuid, normalised: never a mount point or drive letter
    label: str | None = None
    whole: bool = False  # every project on the drive, also ones added later
    projects: tuple[str, ...] = ()  # set up one by one: paths inside the drive, "/"-separated
    seen: tuple[str, ...] = ()  # projects last found on the drive (covered when `whole`)
    mount: str | None = None  # where it is mounted now; None while it is away
    last_mount: str = ""
    last_seen: float = 0.0


@dataclass(frozen=True)
class HintLine:
    """One line the shell integration prints after a uv command fails, and when it is true.

    A drive's line is said in a folder on the drive; the line about one of uv's own directories
    on a drive wherever uv fails, while `variable` still sends uv there (or, when the scan found
    it set elsewhere, is unset). Either only while `mount` is a directory and `witness` (what the
    scan saw on the drive) is there: a stale line says nothing."""

    text: str  # the whole line: "uv-drive-guard: STICK is exFAT; uv cannot keep environments there. ..."
    mount: str  # the drive's mount point when the scan saw it
    witness: str  # a folder the scan saw on the drive (the mount point when there is none)
    everywhere: bool = False  # about uv's own directory: said wherever uv fails
    variable: str = ""  # that directory's variable (UV_CACHE_DIR): where it points decides
    from_variable: bool = False  # the scan found the variable set; else a uv.toml or the default
    flags: tuple[str, ...] = ()  # options that send uv elsewhere for that command: nothing is said


@dataclass(frozen=True)
class Unseen:
    """A place the scan did not (fully) look at: a report must not say "ok" about it."""

    path: str
    reason: str  # "stopped after 2 s", "pyproject.toml is not valid TOML (line 3)"
    volume: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything diagnosis needs, gathered by the edges at one moment."""

    os: Os
    uv: UvInfo
    volumes: tuple[Volume, ...]
    locations: tuple[Location, ...]
    definitions: tuple[Definition, ...] = ()
    artefacts: tuple[Artefact, ...] = ()
    link_mode: Definition | None = None  # the global effective link mode setting, if any
    mount_roots: tuple[str, ...] | None = None  # the user's scope.mount_roots; None: scope's defaults
    home: str = ""
    scope: tuple[str, ...] = ()  # mount points in scope for findings
    defaults: tuple[tuple[Role, str], ...] = ()  # where each directory goes when nothing is set
    user_config: str = ""  # the user-level uv.toml uv reads (or would create)
    notes: tuple[tuple[str, str], ...] = ()  # (mount point, what the walk skipped or could not read)
    portable: tuple[PortableDrive, ...] = ()  # drives set up for per-computer environments
    data_dir: str = ""  # uv-drive-guard's user data directory on this computer
    unseen: tuple[Unseen, ...] = ()  # what the scan could not look at, and why
    switches: tuple[Definition, ...] = ()  # the UV_NO_* variables a uv command sees
    searched: tuple[str, ...] | None = None  # the folders walked for projects; None: not told (every drive)
    # whose environment the scan ran in: a terminal's (the CLI), or the desktop session's as a
    # new terminal would inherit it (the daemon): a value in no file is the terminal's, or the session's
    session: bool = False
    # uv's legacy directories found on disk that uv renames into place when it next runs
    # (`<state>/toolchains` -> `<state>/python`, uv-python `ManagedPythonInstallations::init`)
    leftovers: tuple[str, ...] = ()
    failure_hint: bool = False  # the shell integration already prints a hint after uv fails on a drive
    # lookups made once: every rule asks for a location's drive
    _volumes: dict[str, Volume] = field(init=False, repr=False, compare=False, hash=False)
    _defaults: dict[Role, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_volumes", {v.mountpoint: v for v in reversed(self.volumes)})
        object.__setattr__(self, "_defaults", dict(self.defaults))

    def default(self, role: Role) -> str | None:
        return self._defaults.get(role)

    def volume(self, mountpoint: str | None) -> Volume | None:
        return self._volumes.get(mountpoint) if mountpoint is not None else None


class ChangeKind(str, Enum):
    """What a change does; its target says where. `move-dir` is gone: no fix moves a directory,
    uv makes a new one where a setting points (nothing on a drive is moved or deleted)."""

    SET_ENV = "set-env"
    UNSET_ENV = "unset-env"
    SET_UV_SETTING = "set-uv-setting"
    REMOVE_UV_SETTING = "remove-uv-setting"
    RUN = "run"
    MANUAL = "manual"
    PORTABLE_ENVS = "portable-envs"  # record a drive or project in the portable registry
    SHELL_HOOK = "shell-hook"  # the startup-file line that reads the generated portable file
    FAILURE_HINT = "failure-hint"  # the generated file prints a hint after uv fails on a drive


# --- where a change goes: one small type per kind of place -----------------------------------


@dataclass(frozen=True)
class StartupFile:
    """A file on this computer that sets variables for new sessions: an rc file, environment.d."""

    path: str


@dataclass(frozen=True)
class UserEnvironment:
    """Wherever new sessions of this user read variables: the OS's store, else the startup files."""


@dataclass(frozen=True)
class VariableStore:
    """A store of variables the OS keeps, by name: HKCU\\Environment, launchctl, the HKLM key."""

    name: str


@dataclass(frozen=True)
class ThisTerminal:
    """The environment of the terminal the scan ran in: only the person can change it."""


@dataclass(frozen=True)
class UvConfig:
    """A uv.toml or pyproject.toml; `table` is where uv's keys live in it (("tool", "uv"))."""

    path: str
    table: tuple[str, ...] = ()


@dataclass(frozen=True)
class UvUpgrade:
    """uv itself, upgraded the way it was installed (the fix engine finds out which)."""


@dataclass(frozen=True)
class Command:
    """A program for the person to run: it changes a drive in a way no journal can put back."""

    argv: tuple[str, ...]


@dataclass(frozen=True)
class Manual:
    """A step only the person can take, at a place named in words: a drive, a project, a terminal."""

    where: str


@dataclass(frozen=True)
class PortableRegistry:
    """The portable registry's record of one drive, by its identity (never a mount point)."""

    drive_id: str


@dataclass(frozen=True)
class ShellHook:
    """The startup files of the person's shells, made to read the generated file in `directory`."""

    directory: str


@dataclass(frozen=True)
class FailureHint:
    """The shell integration's hint after uv fails, recorded beside its generated files in `directory`."""

    directory: str


def assert_never(value: NoReturn) -> NoReturn:
    """typing.assert_never (Python 3.11) for 3.10: mypy proves each `match` over a union complete."""
    raise AssertionError(f"unhandled: {value!r}")


EnvTarget = StartupFile | UserEnvironment | VariableStore | ThisTerminal
Target = EnvTarget | UvConfig | UvUpgrade | Command | Manual | PortableRegistry | ShellHook | FailureHint

TARGETS: dict[ChangeKind, tuple[type, ...]] = {
    ChangeKind.SET_ENV: (StartupFile, UserEnvironment, VariableStore, ThisTerminal),
    ChangeKind.UNSET_ENV: (StartupFile, UserEnvironment, VariableStore, ThisTerminal),
    ChangeKind.SET_UV_SETTING: (UvConfig,),
    ChangeKind.REMOVE_UV_SETTING: (UvConfig,),
    ChangeKind.RUN: (UvUpgrade, Command),
    ChangeKind.MANUAL: (Manual, ThisTerminal),
    ChangeKind.PORTABLE_ENVS: (PortableRegistry,),
    ChangeKind.SHELL_HOOK: (ShellHook,),
    ChangeKind.FAILURE_HINT: (FailureHint,),
}


@dataclass(frozen=True)
class Change:
    """One concrete edit a fix would make; applying it belongs to the fix engine."""

    kind: ChangeKind
    target: Target
    name: str | None = None  # variable or key; for portable-envs the project inside the drive
    value: str | None = None
    line: int | None = None
    summary: str = ""

    def __post_init__(self) -> None:
        """A kind meets only its own places: a mismatch is a bug, never a silent manual step."""
        if not isinstance(self.target, TARGETS[self.kind]):
            raise TypeError(f"a {self.kind.value} change cannot go to {self.target!r}")


@dataclass(frozen=True)
class Fix:
    id: str
    title: str
    detail: str
    changes: tuple[Change, ...]
    recommended: bool = False


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    title: str
    detail: str
    uv_message: str
    location: Location | None
    volume: str | None
    fixes: tuple[Fix, ...] = field(default=())
    facts: str = ""  # the uv issue or PR this rests on
    # the same finding for several folders with a pyproject.toml on one drive, said once: each folder
    folders: tuple[str, ...] = ()
