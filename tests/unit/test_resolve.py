"""Resolving uv's directories as uv does: precedence, defaults per OS, and which drive holds them."""

from __future__ import annotations

import pytest

from uv_drive_guard.core.model import Artefact, ArtefactKind, Definition, Os, Role, Source, SourceKind
from uv_drive_guard.core.resolve import (
    Inputs,
    cache_location,
    effective_variable,
    global_locations,
    link_mode,
    project_locations,
    volume_of,
)

LINUX_HOME = "/home/ana"
WIN_HOME = "C:\\Users\\ana"
WIN_ENV = {"LOCALAPPDATA": WIN_HOME + "\\AppData\\Local", "APPDATA": WIN_HOME + "\\AppData\\Roaming"}


def linux(env: dict[str, str] | None = None, **kwargs: object) -> Inputs:
    return Inputs(Os.LINUX, LINUX_HOME, "/home/ana/work", env or {}, **kwargs)  # type: ignore[arg-type]


def shell(name: str, value: str | None, line: int = 7, file: str = "/home/ana/.bashrc") -> Definition:
    return Definition(name, value, Source(SourceKind.SHELL_FILE, file=file, line=line, name=name))


def config(key: str, value: str, kind: SourceKind, file: str) -> Definition:
    return Definition(key, value, Source(kind, file=file, line=1, name=key))


def roles(inputs: Inputs) -> dict[Role, str]:
    return {loc.role: loc.path for loc in global_locations(inputs)}


USER_CFG = config("cache-dir", "/srv/user-cache", SourceKind.UV_TOML_USER, "/home/ana/.config/uv/uv.toml")
PROJECT_CFG = config(
    "cache-dir", "/media/ana/STICK/.uv-cache", SourceKind.UV_TOML_PROJECT, "/media/ana/STICK/p/uv.toml"
)


# --- precedence --------------------------------------------------------------------------


def test_environment_beats_project_and_user_config() -> None:
    inputs = linux({"UV_CACHE_DIR": "/media/ana/ENV/cache"}, config=(USER_CFG,))
    loc = cache_location(inputs, (PROJECT_CFG,), project="/media/ana/STICK/p")
    assert loc.path == "/media/ana/ENV/cache"
    assert loc.source.kind is SourceKind.ENVIRONMENT
    assert loc.project == "/media/ana/STICK/p"


def test_project_config_beats_user_config() -> None:
    loc = cache_location(linux(config=(USER_CFG,)), (PROJECT_CFG,))
    assert loc.path == "/media/ana/STICK/.uv-cache"
    assert loc.source.kind is SourceKind.UV_TOML_PROJECT


def test_user_config_beats_default() -> None:
    loc = cache_location(linux(config=(USER_CFG,)))
    assert (loc.path, loc.source.kind) == ("/srv/user-cache", SourceKind.UV_TOML_USER)


def test_default_when_nothing_is_set() -> None:
    loc = cache_location(linux())
    assert (loc.path, loc.source.kind) == ("/home/ana/.cache/uv", SourceKind.DEFAULT)


def test_empty_environment_value_is_ignored() -> None:
    assert cache_location(linux({"UV_CACHE_DIR": ""})).path == "/home/ana/.cache/uv"


def test_process_env_is_attributed_to_the_shell_file_that_sets_it() -> None:
    persisted = (
        shell("UV_CACHE_DIR", "/media/ana/OLD", line=3),
        shell("UV_CACHE_DIR", "/media/ana/STICK/c", line=9),
    )
    found = effective_variable(linux({"UV_CACHE_DIR": "/media/ana/STICK/c"}, persisted=persisted), "UV_CACHE_DIR")
    assert found is not None
    assert (found.source.kind, found.source.file, found.source.line) == (
        SourceKind.SHELL_FILE,
        "/home/ana/.bashrc",
        9,
    )
    loc = cache_location(linux({"UV_CACHE_DIR": "/media/ana/STICK/c"}, persisted=persisted))
    assert loc.source.line == 9


def test_process_env_with_another_value_is_the_terminal_own() -> None:
    persisted = (shell("UV_CACHE_DIR", "/media/ana/STICK/c"),)
    found = effective_variable(linux({"UV_CACHE_DIR": "/tmp/other"}, persisted=persisted), "UV_CACHE_DIR")
    assert found is not None
    assert (found.value, found.source.kind) == ("/tmp/other", SourceKind.ENVIRONMENT)


def test_persisted_value_counts_for_new_terminals() -> None:
    """The daemon's own environment may predate the edit: a new terminal sees the file's value."""
    persisted = (shell("UV_CACHE_DIR", "/a", line=1), shell("UV_CACHE_DIR", "/media/ana/STICK/c", line=2))
    found = effective_variable(linux(persisted=persisted), "UV_CACHE_DIR")
    assert found is not None and found.value == "/media/ana/STICK/c"


def test_link_mode_precedence() -> None:
    user = config("link-mode", "hardlink", SourceKind.UV_TOML_USER, "/home/ana/.config/uv/uv.toml")
    project = config("link-mode", "symlink", SourceKind.UV_TOML_PROJECT, "/p/uv.toml")
    assert link_mode(linux()) is None
    assert link_mode(linux(config=(user,))) == user
    assert link_mode(linux(config=(user,)), (project,)) == project
    env = link_mode(linux({"UV_LINK_MODE": "copy"}, config=(user,)), (project,))
    assert env is not None and (env.value, env.source.kind) == ("copy", SourceKind.ENVIRONMENT)


def _project(path: str = "/media/ana/STICK/proj", settings: tuple[Definition, ...] = ()) -> Artefact:
    return Artefact(ArtefactKind.PROJECT, path, "/media/ana/STICK", settings=settings)


def test_relative_project_environment_is_taken_from_the_project() -> None:
    """uv joins a relative UV_PROJECT_ENVIRONMENT to the workspace root, not the cwd."""
    _, env = project_locations(linux({"UV_PROJECT_ENVIRONMENT": "envs/py312"}), _project())
    assert env.path == "/media/ana/STICK/proj/envs/py312"
    assert env.role is Role.PROJECT_ENVIRONMENT and env.project == "/media/ana/STICK/proj"


def test_absolute_project_environment_is_used_as_is() -> None:
    _, env = project_locations(linux({"UV_PROJECT_ENVIRONMENT": "/home/ana/envs/p"}), _project())
    assert env.path == "/home/ana/envs/p"


def test_default_project_environment_is_dot_venv() -> None:
    cache, env = project_locations(linux(), _project(settings=(PROJECT_CFG,)))
    assert env.path == "/media/ana/STICK/proj/.venv" and env.source.kind is SourceKind.DEFAULT
    assert cache.path == "/media/ana/STICK/.uv-cache" and cache.project == "/media/ana/STICK/proj"


def test_relative_environment_variables_are_made_absolute() -> None:
    assert roles(linux({"UV_TOOL_DIR": "tools"}))[Role.TOOL_DIR] == "/home/ana/work/tools"


# --- defaults per OS ---------------------------------------------------------------------


def test_linux_defaults() -> None:
    assert roles(linux()) == {
        Role.CACHE: "/home/ana/.cache/uv",
        Role.TOOL_DIR: "/home/ana/.local/share/uv/tools",
        Role.TOOL_BIN_DIR: "/home/ana/.local/bin",
        Role.PYTHON_INSTALL_DIR: "/home/ana/.local/share/uv/python",
        Role.PYTHON_BIN_DIR: "/home/ana/.local/bin",
    }
    assert all(loc.source.kind is SourceKind.DEFAULT for loc in global_locations(linux()))


def test_xdg_variables_are_honoured() -> None:
    env = {"XDG_CACHE_HOME": "/xdg/cache", "XDG_DATA_HOME": "/xdg/data"}
    assert roles(linux(env)) == {
        Role.CACHE: "/xdg/cache/uv",
        Role.TOOL_DIR: "/xdg/data/uv/tools",
        Role.TOOL_BIN_DIR: "/xdg/bin",  # $XDG_DATA_HOME/../bin
        Role.PYTHON_INSTALL_DIR: "/xdg/data/uv/python",
        Role.PYTHON_BIN_DIR: "/xdg/bin",
    }


def test_xdg_bin_home_beats_xdg_data_home() -> None:
    env = {"XDG_DATA_HOME": "/xdg/data", "XDG_BIN_HOME": "/xdg/mybin"}
    assert roles(linux(env))[Role.TOOL_BIN_DIR] == "/xdg/mybin"


def test_xdg_from_a_shell_file_counts() -> None:
    persisted = (shell("XDG_CACHE_HOME", "/media/ana/STICK/xdg"),)
    assert roles(linux(persisted=persisted))[Role.CACHE] == "/media/ana/STICK/xdg/uv"


def test_relative_xdg_variables_are_ignored() -> None:
    """etcetera (uv-dirs) accepts only absolute XDG paths."""
    env = {"XDG_CACHE_HOME": "rel/cache", "XDG_DATA_HOME": "rel/data", "XDG_BIN_HOME": "rel/bin"}
    assert roles(linux(env)) == roles(linux())


def test_macos_defaults_are_xdg_style() -> None:
    inputs = Inputs(Os.MACOS, "/Users/ana", "/Users/ana", {})
    assert roles(inputs)[Role.CACHE] == "/Users/ana/.cache/uv"
    assert roles(inputs)[Role.TOOL_DIR] == "/Users/ana/.local/share/uv/tools"
    assert roles(inputs)[Role.TOOL_BIN_DIR] == "/Users/ana/.local/bin"


def test_macos_legacy_directories_win_when_they_exist() -> None:
    legacy = frozenset({"/Users/ana/Library/Caches/uv", "/Users/ana/Library/Application Support/uv"})
    inputs = Inputs(Os.MACOS, "/Users/ana", "/Users/ana", {"XDG_CACHE_HOME": "/x"}, existing=legacy)
    assert roles(inputs)[Role.CACHE] == "/Users/ana/Library/Caches/uv"
    assert roles(inputs)[Role.TOOL_DIR] == "/Users/ana/Library/Application Support/uv/tools"


def test_windows_defaults() -> None:
    inputs = Inputs(Os.WINDOWS, WIN_HOME, WIN_HOME, WIN_ENV)
    assert roles(inputs) == {
        Role.CACHE: "C:\\Users\\ana\\AppData\\Local\\uv\\cache",
        Role.TOOL_DIR: "C:\\Users\\ana\\AppData\\Roaming\\uv\\tools",
        Role.TOOL_BIN_DIR: "C:\\Users\\ana\\.local\\bin",
        Role.PYTHON_INSTALL_DIR: "C:\\Users\\ana\\AppData\\Roaming\\uv\\python",
        Role.PYTHON_BIN_DIR: "C:\\Users\\ana\\.local\\bin",
    }


def test_windows_follows_localappdata_and_appdata() -> None:
    env = {"LOCALAPPDATA": "D:\\Local", "APPDATA": "D:\\Roaming"}
    found = roles(Inputs(Os.WINDOWS, WIN_HOME, WIN_HOME, env))
    assert found[Role.CACHE] == "D:\\Local\\uv\\cache"
    assert found[Role.TOOL_DIR] == "D:\\Roaming\\uv\\tools"


def test_windows_legacy_state_dir() -> None:
    existing = frozenset({"C:\\Users\\ana\\AppData\\Roaming\\uv\\data"})
    found = roles(Inputs(Os.WINDOWS, WIN_HOME, WIN_HOME, WIN_ENV, existing=existing))
    assert found[Role.TOOL_DIR] == "C:\\Users\\ana\\AppData\\Roaming\\uv\\data\\tools"


def test_windows_environment_value() -> None:
    inputs = Inputs(Os.WINDOWS, WIN_HOME, WIN_HOME, {**WIN_ENV, "UV_CACHE_DIR": "E:\\uv-cache"})
    loc = cache_location(inputs)
    assert (loc.path, loc.source.kind) == ("E:\\uv-cache", SourceKind.ENVIRONMENT)


# --- volume_of ---------------------------------------------------------------------------

POSIX_MOUNTS = ("/", "/media/ana/STICK", "/media/ana/STICK/inner", "/home")


@pytest.mark.parametrize(
    ("path", "mount"),
    [
        ("/media/ana/STICK", "/media/ana/STICK"),
        ("/media/ana/STICK/", "/media/ana/STICK"),
        ("/media/ana/STICK/proj/.venv", "/media/ana/STICK"),
        ("/media/ana/STICK/inner/x", "/media/ana/STICK/inner"),
        ("/media/ana/STICKY/x", "/"),  # a prefix of the name is not a parent
        ("/media/ana/stick/x", "/"),  # POSIX paths are case-sensitive
        ("/home/ana/.cache/uv", "/home"),
        ("/media/ana/STICK/../../x", "/"),
        ("/tmp", "/"),
    ],
)
def test_volume_of_posix(path: str, mount: str) -> None:
    assert volume_of(Os.LINUX, path, POSIX_MOUNTS) == mount


def test_volume_of_order_does_not_matter() -> None:
    reversed_mounts = tuple(reversed(POSIX_MOUNTS))
    assert volume_of(Os.LINUX, "/media/ana/STICK/inner/x", reversed_mounts) == "/media/ana/STICK/inner"


def test_volume_of_without_root_mount() -> None:
    assert volume_of(Os.LINUX, "/srv/x", ("/media/ana/STICK",)) is None


WIN_MOUNTS = ("C:\\", "E:\\", "C:\\mnt\\stick\\")


@pytest.mark.parametrize(
    ("path", "mount"),
    [
        ("E:\\uv-cache", "E:\\"),
        ("e:\\uv-cache", "E:\\"),
        ("E:/uv-cache", "E:\\"),
        ("E:\\", "E:\\"),
        ("C:\\Users\\ana", "C:\\"),
        ("c:\\MNT\\Stick\\proj", "C:\\mnt\\stick\\"),
        ("F:\\uv-cache", None),  # drive F: is not plugged in
    ],
)
def test_volume_of_windows(path: str, mount: str | None) -> None:
    assert volume_of(Os.WINDOWS, path, WIN_MOUNTS) == mount


def test_volume_of_windows_lowercase_mount() -> None:
    assert volume_of(Os.WINDOWS, "E:\\x", ("c:\\", "e:\\")) == "e:\\"
