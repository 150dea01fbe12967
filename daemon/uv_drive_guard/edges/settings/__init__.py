"""Read where the user set uv's variables and keys: shell files, environment.d, the registry,
launchctl, and uv.toml files. Files are read, never run; each read is bounded in size.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...core import resolve, shells
from ...core.model import Definition, Os, Source, SourceKind
from ...core.shellparse import parse_environment_d, parse_powershell, parse_shell
from .. import platforms, safeio, tomlfile
from .. import shells as shell_facts

MAX_BYTES = 8 << 20  # a user's own startup file; drive files are bounded by the walk
CONFIG_KEYS = ("cache-dir", "link-mode", "no-cache")


def read_text(path: Path, *, follow: bool = False) -> str | None:
    """A file's text, or None if absent, unreadable, not a regular file or larger than we will
    read. Never blocks: a named pipe or device where a file should be is skipped (safeio).
    `follow` is for the user's own startup files, which dotfile managers symlink."""
    return safeio.read_text(path, MAX_BYTES, follow=follow)


def _known(env: Mapping[str, str], home: str) -> dict[str, str]:
    known = {k: v for k, v in env.items() if k in resolve.WATCHED or k in ("USER", "LOGNAME")}
    known["HOME"] = home
    return known


def file_definitions(facts: shells.Facts, env: Mapping[str, str]) -> list[Definition]:
    """Every watched variable the startup files set, in the order a new terminal applies them
    (core.shells: the session's files, then each shell's, the login shell's last)."""
    known = _known(env, facts.home)
    found: list[Definition] = []
    for item in shells.read_order(facts):
        text = read_text(Path(item.path), follow=True)
        if text is None:
            continue
        if item.syntax == "environment.d":
            found += parse_environment_d(text, file=item.path, names=resolve.WATCHED, known=known)
        elif item.syntax == "powershell":
            found += parse_powershell(text, file=item.path, names=resolve.WATCHED, known=known)
        else:
            found += parse_shell(text, file=item.path, names=resolve.WATCHED, known=known, fish=item.syntax == "fish")
    return found


def shell_definitions(home: str, env: Mapping[str, str], os_: Os | None = None) -> list[Definition]:
    """The startup files' definitions on this machine (a test's home, or the person's)."""
    os_ = os_ or platforms.current()
    return file_definitions(shell_facts.facts(os_, home, env), env)


def persisted_definitions(os_: Os, home: str, env: Mapping[str, str]) -> list[Definition]:
    """Every place outside this process that sets a watched variable, in application order:
    the OS's stores (the registry, launchd) first, then the startup files."""
    found: list[Definition] = []
    if os_ is Os.WINDOWS:
        from . import _windows

        found += _windows.read_definitions(names=resolve.WATCHED, environ=dict(env))
    if os_ is Os.MACOS:
        from . import _macos

        found += _macos.launch_agent_definitions(Path(home), names=resolve.WATCHED)
        found += _macos.read_definitions(names=resolve.WATCHED)
    return found + file_definitions(shell_facts.facts(os_, home, env), env)


# --- uv.toml ------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def config_definitions(
    path: Path, kind: SourceKind, *, pyproject: bool = False, follow: bool = False
) -> list[Definition]:
    """cache-dir, link-mode, no-cache from a uv.toml (or [tool.uv] of a pyproject.toml);
    `follow` only for the user's and system's own files, never a drive's."""
    text = read_text(path, follow=follow)
    if text is None:
        return []
    table: Any = _parse_toml(text)
    if pyproject:
        tool = table.get("tool")
        table = tool.get("uv") if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            return []
    found = []
    for key in CONFIG_KEYS:
        value = table.get(key)
        if value is None:
            continue
        line = _line_of(text, key, in_tool_uv=pyproject)
        source = Source(kind, file=str(path), line=line, name=key)
        found.append(Definition(key, str(value) if isinstance(value, (str, bool)) else None, source))
    return found


def has_tool_uv(path: Path) -> bool:
    text = read_text(path)
    if text is None:
        return False
    tool = _parse_toml(text).get("tool")
    return isinstance(tool, dict) and isinstance(tool.get("uv"), dict)


def _parse_toml(text: str) -> dict[str, Any]:
    """A drive's TOML is untrusted: malformed means empty, never a crash."""
    try:
        return tomlfile.loads(text)
    except tomlfile.TomlError:
        return {}


def _line_of(text: str, key: str, *, in_tool_uv: bool) -> int | None:
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[] ")
            continue
        match = _KEY_LINE.match(line)
        wanted_section = "tool.uv" if in_tool_uv else ""
        if match and match.group(1) == key and section == wanted_section:
            return number
    return None


def user_config_path(os_: Os, home: str, env: Mapping[str, str]) -> Path:
    if os_ is Os.WINDOWS:
        appdata = env.get("APPDATA") or str(Path(home, "AppData", "Roaming"))
        return Path(appdata, "uv", "uv.toml")
    xdg = env.get("XDG_CONFIG_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else str(Path(home, ".config"))
    return Path(base, "uv", "uv.toml")


def system_config_path(os_: Os, env: Mapping[str, str]) -> Path | None:
    if os_ is Os.WINDOWS:
        drive = env.get("SYSTEMDRIVE", "C:")
        return Path(drive + "\\", "ProgramData", "uv", "uv.toml")
    for directory in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
        candidate = Path(directory, "uv", "uv.toml")
        if directory and candidate.is_file():
            return candidate
    return Path("/etc/uv/uv.toml")


def user_and_system_config(os_: Os, home: str, env: Mapping[str, str]) -> list[Definition]:
    """The files uv reads outside projects, most important first (crates/uv-settings)."""
    if resolve.boolish(env.get("UV_NO_CONFIG")) is True:  # `0`, `false` are off (uv-cli: clap)
        return []
    if env.get("UV_CONFIG_FILE"):
        return config_definitions(Path(env["UV_CONFIG_FILE"]), SourceKind.UV_CONFIG_FILE, follow=True)
    found = config_definitions(user_config_path(os_, home, env), SourceKind.UV_TOML_USER, follow=True)
    system = system_config_path(os_, env)
    if system is not None and resolve.boolish(env.get("UV_NO_SYSTEM_CONFIG")) is not True:
        found += config_definitions(system, SourceKind.UV_TOML_SYSTEM, follow=True)
    return found


def read_inputs(env: Mapping[str, str], *, os_: Os | None = None, cwd: str | None = None) -> resolve.Inputs:
    """Everything resolve needs, read from this machine."""
    os_ = os_ or platforms.current()
    home = env.get("USERPROFILE" if os_ is Os.WINDOWS else "HOME") or str(Path.home())
    legacy = [p for p in resolve.legacy_dirs(os_, home).values() if p]
    if os_ is Os.WINDOWS and env.get("APPDATA"):
        legacy.append(str(Path(env["APPDATA"], "uv", "data")))
    return resolve.Inputs(
        os=os_,
        home=home,
        cwd=cwd or os.getcwd(),
        env={k: v for k, v in env.items() if k in resolve.WATCHED or k in resolve.TEMP_VARIABLES},
        persisted=tuple(persisted_definitions(os_, home, env)),
        config=tuple(user_and_system_config(os_, home, env)),
        existing=frozenset(p for p in legacy if os.path.isdir(p)),
    )


def watched_paths(os_: Os, home: str, env: Mapping[str, str]) -> tuple[str, ...]:
    """Every file (and folder of files) whose change can change what a new terminal's uv does:
    each shell's startup files, environment.d, fish's conf.d, the user's and the system's
    uv.toml, macOS's LaunchAgents. The daemon watches them (it never polls)."""
    facts = shell_facts.facts(os_, home, env)
    config = shell_facts.config_home(home, env)
    paths = [*shells.candidates(facts), str(user_config_path(os_, home, env))]
    if os_ is not Os.WINDOWS:
        paths += [str(Path(config, "fish", "conf.d")), "/etc/uv/uv.toml"]
        dirs = (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":")
        paths += [str(Path(d, "uv", "uv.toml")) for d in dirs if os.path.isabs(d)]
    else:
        system = system_config_path(os_, env)
        paths += [str(system)] if system else []
    if os_ is Os.LINUX:
        paths.append(str(Path(config, "environment.d")))
    if os_ is Os.MACOS:
        paths.append(str(Path(home, "Library", "LaunchAgents")))
    return tuple(dict.fromkeys(paths))
