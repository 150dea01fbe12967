"""Resolve uv's directories the way uv does, and remember where each value came from.

Precedence (docs/uv-facts.md, "Settings, defaults, precedence"; crates/uv-settings and
crates/uv-dirs): command line > environment >
project config (uv.toml beats [tool.uv]) > user config > system config > uv's default.
`UV_CONFIG_FILE` replaces config discovery and `UV_NO_CONFIG` disables it; both are handled by
the edge that reads the files, so the definitions here are already the files uv would read.
"""

from __future__ import annotations

import ntpath
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import ModuleType

from .model import Artefact, Definition, Location, Os, Role, Source, SourceKind
from .paths import under

# Variables whose value decides a uv directory or how uv links files.
UV_VARIABLES = (
    "UV_CACHE_DIR",
    "UV_NO_CACHE",
    "UV_LINK_MODE",
    "UV_TOOL_DIR",
    "UV_TOOL_BIN_DIR",
    "UV_PYTHON_INSTALL_DIR",
    "UV_PYTHON_BIN_DIR",
    "UV_PROJECT_ENVIRONMENT",
    "UV_CONFIG_FILE",
    "UV_NO_CONFIG",
    "UV_NO_SYSTEM_CONFIG",
)
# The boolean UV_NO_* switches that decide where uv keeps things and which settings it reads;
# an unreadable value stops every uv command before it starts (checked with uv 0.13.9).
SWITCHES = ("UV_NO_CACHE", "UV_NO_CONFIG", "UV_NO_SYSTEM_CONFIG")
# uv-static `parse_boolish_environment_variable`, after clap's BoolishValueParser.
TRUE_WORDS = frozenset({"y", "yes", "t", "true", "on", "1"})
FALSE_WORDS = frozenset({"n", "no", "f", "false", "off", "0"})
# Variables uv's defaults are built from.
BASE_VARIABLES = (
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_BIN_HOME",
    "XDG_CONFIG_HOME",
    "LOCALAPPDATA",
    "APPDATA",
    "USERPROFILE",
)
# Where a temporary cache goes (read from this process only, never from files).
TEMP_VARIABLES = ("TMPDIR", "TMP", "TEMP")
WATCHED = UV_VARIABLES + BASE_VARIABLES


@dataclass(frozen=True)
class Inputs:
    """What the edges gathered about the user's uv settings."""

    os: Os
    home: str
    cwd: str
    env: Mapping[str, str]  # the process environment (only the names above matter)
    persisted: tuple[Definition, ...] = ()  # shell files, environment.d, registry, launchctl
    config: tuple[Definition, ...] = ()  # uv.toml keys, most important file first
    existing: frozenset[str] = frozenset()  # legacy directories the edge found on disk


def pathmod(os: Os) -> ModuleType:
    """Path rules of the machine being diagnosed, not of the one running the tests."""
    return ntpath if os is Os.WINDOWS else posixpath


def effective_variable(inputs: Inputs, name: str) -> Definition | None:
    """The value a new terminal sees, attributed to the file that sets it where we can tell."""
    persisted = [d for d in inputs.persisted if d.name == name]
    if name in inputs.env:
        value = inputs.env[name]
        same = [d for d in persisted if d.value == value]
        if same:
            return same[-1]
        return Definition(name, value, Source(SourceKind.ENVIRONMENT, name=name))
    return persisted[-1] if persisted else None


def without_persisted(env: Mapping[str, str], definitions: tuple[Definition, ...]) -> dict[str, str]:
    """An environment less what the startup files and stores gave it (the same name and value):
    what a new terminal inherits before it reads those files again."""
    persisted = {(d.name, d.value) for d in definitions}
    return {k: v for k, v in env.items() if (k, v) not in persisted}


def with_persisted(env: Mapping[str, str], definitions: tuple[Definition, ...]) -> dict[str, str]:
    """Add what the startup files and stores set now, in the order they apply (the last
    definition of each name wins): the environment a new terminal starts uv with."""
    fresh = dict(env)
    for definition in definitions:
        if definition.value is not None:
            fresh[definition.name] = definition.value
    return fresh


def boolish(value: str | None) -> bool | None:
    """uv's reading of a boolean variable: True, False, or None for unset or unreadable
    (`0`, `false`, `off` are off; the empty string is an error, as in uv)."""
    if value is None:
        return None
    word = value.lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def switch(inputs: Inputs, name: str) -> bool:
    """Whether a UV_NO_* switch is on for a new terminal; an unreadable value is not on."""
    found = effective_variable(inputs, name)
    return boolish(found.value if found else None) is True


def switches(inputs: Inputs) -> tuple[Definition, ...]:
    """The effective value of each switch, for the rule about values uv cannot read."""
    return tuple(d for d in (effective_variable(inputs, name) for name in SWITCHES) if d is not None)


def _config(definitions: tuple[Definition, ...], key: str) -> Definition | None:
    return next((d for d in definitions if d.name == key and d.value is not None), None)


def _base(inputs: Inputs, name: str) -> str | None:
    found = effective_variable(inputs, name)
    if not found or not found.value:
        return None
    if name.startswith("XDG_") and not pathmod(inputs.os).isabs(found.value):
        return None  # uv-dirs (the etcetera crate) ignores relative XDG variables
    return found.value


def _absolute(inputs: Inputs, path: str, base: str | None = None) -> str:
    mod = pathmod(inputs.os)
    if inputs.os.unix and path.startswith("~"):
        path = inputs.home + path[1:]
    if not mod.isabs(path):
        path = mod.join(base or inputs.cwd, path)
    return str(mod.normpath(path))


def _default(name: str) -> Source:
    return Source(SourceKind.DEFAULT, name=name)


def default_cache(inputs: Inputs) -> str:
    mod = pathmod(inputs.os)
    if inputs.os is Os.WINDOWS:
        local = _base(inputs, "LOCALAPPDATA") or mod.join(inputs.home, "AppData", "Local")
        return str(mod.join(local, "uv", "cache"))
    legacy = legacy_dirs(inputs.os, inputs.home)["cache"]
    if legacy and legacy in inputs.existing:
        return legacy
    xdg = _base(inputs, "XDG_CACHE_HOME")
    return str(mod.join(xdg or mod.join(inputs.home, ".cache"), "uv"))


def legacy_dirs(os: Os, home: str) -> dict[str, str | None]:
    """Older default places uv keeps using when they exist (uv-cache, uv-state)."""
    mod = pathmod(os)
    if os is Os.MACOS:
        return {
            "cache": str(mod.join(home, "Library", "Caches", "uv")),
            "state": str(mod.join(home, "Library", "Application Support", "uv")),
        }
    if os is Os.WINDOWS:
        return {"cache": None, "state": str(mod.join(home, "AppData", "Roaming", "uv", "data"))}
    return {"cache": None, "state": None}


def _state_dir(inputs: Inputs) -> str:
    mod = pathmod(inputs.os)
    legacy = legacy_dirs(inputs.os, inputs.home)["state"]
    if inputs.os is Os.WINDOWS:
        roaming = _base(inputs, "APPDATA") or mod.join(inputs.home, "AppData", "Roaming")
        data = str(mod.join(roaming, "uv", "data"))
        return data if data in inputs.existing else str(mod.join(roaming, "uv"))
    if legacy and legacy in inputs.existing:
        return legacy
    xdg = _base(inputs, "XDG_DATA_HOME")
    return str(mod.join(xdg or mod.join(inputs.home, ".local", "share"), "uv"))


def _bin_dir(inputs: Inputs) -> str:
    mod = pathmod(inputs.os)
    xdg_bin = _base(inputs, "XDG_BIN_HOME")
    if xdg_bin:
        return xdg_bin
    xdg_data = _base(inputs, "XDG_DATA_HOME")
    if xdg_data:
        return str(mod.normpath(mod.join(xdg_data, "..", "bin")))
    return str(mod.join(inputs.home, ".local", "bin"))


def variable_layers(inputs: Inputs, name: str) -> list[Definition]:
    """The definitions of a variable a new terminal could end up with: the one that wins now
    first, then each one it hides, the last applied first (removing a line exposes the one
    before it: the startup files run in order, a later assignment wins)."""
    winner = effective_variable(inputs, name)
    hidden = [d for d in reversed(inputs.persisted) if d.name == name and d != winner]
    return ([winner] if winner is not None else []) + hidden


def _chain(
    inputs: Inputs,
    role: Role,
    name: str,
    default: str,
    *,
    key: str | None = None,
    project_config: tuple[Definition, ...] = (),
    project: str | None = None,
) -> Location:
    """The setting as uv resolves it, with every definition it shadows: the variable's
    definitions, then `key` in the project's, the user's and the system's config, then the
    default. A definition whose value cannot be known statically is not a place."""
    layers = [
        Location(role, _absolute(inputs, d.value), d.source, project=project)
        for d in variable_layers(inputs, name)
        if d.value
    ]
    for definitions in (project_config, inputs.config) if key else ():
        for setting in definitions:
            if setting.name == key and setting.value:
                path = _absolute(inputs, setting.value, _config_base(inputs, setting))
                layers.append(Location(role, path, setting.source, project=project))
    layers.append(Location(role, default, _default(name), project=project))
    winner, *hidden = layers
    return replace(winner, shadowed=tuple(hidden))


def _from_env_or_default(inputs: Inputs, role: Role, name: str, default: str) -> Location:
    return _chain(inputs, role, name, default)


def temp_dir(inputs: Inputs) -> str:
    """Rust's std::env::temp_dir(): TMPDIR or /tmp on Unix; TMP, TEMP, USERPROFILE on Windows."""
    mod = pathmod(inputs.os)
    names = ("TMP", "TEMP", "USERPROFILE") if inputs.os is Os.WINDOWS else ("TMPDIR",)
    for name in names:
        value = inputs.env.get(name)
        if value:
            return str(mod.normpath(value if mod.isabs(value) else mod.join(inputs.cwd, value)))
    return "C:\\Windows" if inputs.os is Os.WINDOWS else "/tmp"


def temp_location(inputs: Inputs) -> Location:
    """The temporary directory uv works in (`uv self update` runs its installer from there; a
    temporary cache lives there), as the variable that sets it or the system's default."""
    names = ("TMP", "TEMP", "USERPROFILE") if inputs.os is Os.WINDOWS else ("TMPDIR",)
    name = next((n for n in names if inputs.env.get(n)), None)
    source = Source(SourceKind.ENVIRONMENT, name=name) if name else _default(names[0])
    return Location(Role.TEMP_DIR, temp_dir(inputs), source)


def _no_cache(inputs: Inputs, project_config: tuple[Definition, ...]) -> Definition | None:
    """UV_NO_CACHE or `no-cache = true` (project, user, system config): uv-cache `Cache::temp`."""
    found = effective_variable(inputs, "UV_NO_CACHE")
    if found is not None and boolish(found.value) is True:
        return found
    for definitions in (project_config, inputs.config):
        setting = _config(definitions, "no-cache")
        if setting is not None:
            return setting if boolish(setting.value) is True else None
    return None


def cache_location(inputs: Inputs, project_config: tuple[Definition, ...] = (), project: str | None = None) -> Location:
    """no-cache (a temporary cache in the temp dir) > UV_CACHE_DIR > cache-dir in project,
    user, system config > default."""
    chain = _chain(
        inputs,
        Role.CACHE,
        "UV_CACHE_DIR",
        default_cache(inputs),
        key="cache-dir",
        project_config=project_config,
        project=project,
    )
    off = _no_cache(inputs, project_config)
    if off is not None:
        return Location(Role.CACHE, temp_dir(inputs), off.source, project=project, shadowed=(chain, *chain.shadowed))
    return chain


def _config_base(inputs: Inputs, setting: Definition) -> str | None:
    """Relative paths in a config file are relative to that file's directory."""
    if setting.source.file is None:
        return None
    return str(pathmod(inputs.os).dirname(setting.source.file))


def link_mode(inputs: Inputs, project_config: tuple[Definition, ...] = ()) -> Definition | None:
    """UV_LINK_MODE > link-mode in project, user, system config; None means uv's default."""
    found = effective_variable(inputs, "UV_LINK_MODE")
    if found is not None and found.value:
        return found
    for definitions in (project_config, inputs.config):
        setting = _config(definitions, "link-mode")
        if setting is not None:
            return setting
    return None


def global_locations(inputs: Inputs) -> tuple[Location, ...]:
    """uv's directories outside any project: cache, tools, pythons and their bin dirs."""
    mod = pathmod(inputs.os)
    state = _state_dir(inputs)
    bin_dir = _bin_dir(inputs)
    return (
        cache_location(inputs),
        _from_env_or_default(inputs, Role.TOOL_DIR, "UV_TOOL_DIR", str(mod.join(state, "tools"))),
        _from_env_or_default(inputs, Role.TOOL_BIN_DIR, "UV_TOOL_BIN_DIR", bin_dir),
        _from_env_or_default(inputs, Role.PYTHON_INSTALL_DIR, "UV_PYTHON_INSTALL_DIR", str(mod.join(state, "python"))),
        _from_env_or_default(inputs, Role.PYTHON_BIN_DIR, "UV_PYTHON_BIN_DIR", bin_dir),
    )


def reads_project_config(inputs: Inputs) -> bool:
    """uv reads no uv.toml or [tool.uv] when UV_CONFIG_FILE names the one file, or UV_NO_CONFIG
    is on (crates/uv/src/lib.rs: config_file, then config_discovery)."""
    config_file = effective_variable(inputs, "UV_CONFIG_FILE")
    return not (config_file is not None and config_file.value) and not switch(inputs, "UV_NO_CONFIG")


def project_locations(inputs: Inputs, project: Artefact) -> tuple[Location, ...]:
    """The cache and environment uv uses for one project found on a drive."""
    mod = pathmod(inputs.os)
    cache = cache_location(inputs, project.settings, project=project.path)
    root = project.workspace or project.path
    layers = []
    for found in variable_layers(inputs, "UV_PROJECT_ENVIRONMENT"):
        if found.value:
            # uv-workspace `environment_selection`: absolute as given, else joined to the workspace
            # root (no `~` expansion: the shell does that, or nobody).
            value = found.value
            path = str(mod.normpath(value if mod.isabs(value) else mod.join(root, value)))
            layers.append(Location(Role.PROJECT_ENVIRONMENT, path, found.source, project=project.path))
    path = project.environment or str(mod.join(root, ".venv"))
    source = Source(SourceKind.DEFAULT, file=project.path, name="UV_PROJECT_ENVIRONMENT")
    layers.append(Location(Role.PROJECT_ENVIRONMENT, path, source, project=project.path))
    winner, *hidden = layers
    return cache, replace(winner, shadowed=tuple(hidden))


def volume_of(os: Os, path: str, mountpoints: tuple[str, ...]) -> str | None:
    """The mount point holding `path`: the longest mount point that is a prefix of it."""
    mod = pathmod(os)
    norm = str(mod.normcase(mod.normpath(path)))
    best: str | None = None
    for mount in mountpoints:
        root = str(mod.normcase(mod.normpath(mount)))
        inside = under(norm, root, windows=os is Os.WINDOWS)
        if inside and (best is None or len(root) > len(str(mod.normcase(best)))):
            best = mount
    return best
