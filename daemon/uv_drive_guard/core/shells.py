"""What a person's shells read at start: the one list the scan, every fix and the portable setup use.

A new terminal's environment is built in stages: the desktop session's (environment.d on
Linux, the registry on Windows, launchd on macOS, and `~/.profile` where display managers
read it), then the files the terminal's shell reads as a login shell and as an interactive
one. Each shell has its own files (bash(1) INVOCATION, zsh(1) STARTUP/SHUTDOWN FILES,
fish's `config.fish` and `conf.d`, PowerShell's about_Profiles); this module names them in
the order they run, from facts the edge gathered (which files exist, ZDOTDIR, the login
shell). It reads nothing itself.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import Enum

from . import shelllex
from .model import Os
from .resolve import pathmod
from .shelllex import Syntax


class Shell(str, Enum):
    SH = "sh"
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"
    POWERSHELL = "powershell"


SHELL_NAMES = {
    "sh": Shell.SH,
    "dash": Shell.SH,
    "ksh": Shell.SH,
    "mksh": Shell.SH,
    "bash": Shell.BASH,
    "zsh": Shell.ZSH,
    "fish": Shell.FISH,
    "pwsh": Shell.POWERSHELL,
    "powershell": Shell.POWERSHELL,
}


class Stage(str, Enum):
    """When a file is read: for the whole desktop session, by login shells, by every
    interactive shell, or by every shell of that kind (zsh's .zshenv, fish's config)."""

    SESSION = "session"
    LOGIN = "login"
    INTERACTIVE = "interactive"
    EVERY = "every"


@dataclass(frozen=True)
class ShellFile:
    """One file a new terminal's environment is built from."""

    path: str
    syntax: Syntax
    stage: Stage
    shell: Shell | None = None  # None: read for the session, whatever the shell


@dataclass(frozen=True)
class Facts:
    """What the edge found on this machine; `existing` lists the candidate files that exist."""

    os: Os
    home: str
    login_shell: Shell | None = None
    zdotdir: str = ""  # where zsh reads .zprofile, .zshrc, .zlogin: ZDOTDIR after .zshenv, else home
    zshenv_dir: str = ""  # where zsh reads .zshenv: ZDOTDIR from the environment, else home
    config_home: str = ""  # XDG_CONFIG_HOME (absolute) or ~/.config
    existing: frozenset[str] = frozenset()
    environment_d: tuple[str, ...] = ()  # ~/.config/environment.d/*.conf, in systemd's order
    fish_conf_d: tuple[str, ...] = ()  # conf.d/*.fish, in fish's order (by name)
    documents: str = ""  # Windows: the Documents folder (it may be redirected, e.g. to OneDrive)

    def exists(self, path: str) -> bool:
        return path in self.existing


ENVD_FILE = "60-uv-drive-guard.conf"  # ours, in environment.d: after the person's own files


def _join(facts: Facts, *parts: str) -> str:
    """Joined by the rules of the home's own style: a Windows home written with `/` only is a
    test's folder on another system, and its files are reached that way."""
    mod = posixpath if "\\" not in facts.home and facts.home.startswith("/") else pathmod(facts.os)
    return str(mod.join(*parts))


def config_home(facts: Facts) -> str:
    return facts.config_home or _join(facts, facts.home, ".config")


def zdotdir(facts: Facts) -> str:
    return facts.zdotdir or facts.home


def _zshenv(facts: Facts) -> str:
    return _join(facts, facts.zshenv_dir or facts.home, ".zshenv")


def candidates(facts: Facts) -> tuple[str, ...]:
    """Every fixed path whose existence the edge must check (conf.d and environment.d are listed)."""
    if facts.os is Os.WINDOWS:
        return (*(path for path, _ in _powershell_profiles(facts)), _powershell_7(facts))
    home, z = facts.home, zdotdir(facts)
    names = (".profile", ".bash_profile", ".bash_login", ".bashrc")
    zsh = tuple(_join(facts, z, name) for name in (".zprofile", ".zshrc", ".zlogin"))
    return (
        *(_join(facts, home, name) for name in names),
        _zshenv(facts),
        *zsh,
        _fish_config(facts),
    )


def _fish_config(facts: Facts) -> str:
    return _join(facts, config_home(facts), "fish", "config.fish")


def shells_in_use(facts: Facts) -> tuple[Shell, ...]:
    """The login shell, and every other shell whose own files exist; the login shell last."""
    found: list[Shell] = []
    if facts.os is Os.WINDOWS:
        return (Shell.POWERSHELL,)
    home, z = facts.home, zdotdir(facts)
    if any(facts.exists(_join(facts, home, n)) for n in (".bashrc", ".bash_profile", ".bash_login")):
        found.append(Shell.BASH)
    zsh_files = [_zshenv(facts)] + [_join(facts, z, n) for n in (".zprofile", ".zshrc", ".zlogin")]
    if any(facts.exists(p) for p in zsh_files):
        found.append(Shell.ZSH)
    if facts.exists(_fish_config(facts)) or facts.fish_conf_d:
        found.append(Shell.FISH)
    login = facts.login_shell or (Shell.ZSH if facts.os is Os.MACOS else Shell.BASH)
    return (*(s for s in found if s is not login), login)


def _bash_login(facts: Facts) -> str | None:
    """bash(1): a login shell reads the first of these that exists, and only that one."""
    for name in (".bash_profile", ".bash_login", ".profile"):
        path = _join(facts, facts.home, name)
        if facts.exists(path):
            return path
    return None


def _files_of(facts: Facts, shell: Shell) -> list[ShellFile]:
    home, z = facts.home, zdotdir(facts)
    if shell is Shell.BASH:
        login = _bash_login(facts)
        found = [ShellFile(login, "posix", Stage.LOGIN, shell)] if login else []
        return [*found, ShellFile(_join(facts, home, ".bashrc"), "posix", Stage.INTERACTIVE, shell)]
    if shell is Shell.ZSH:
        return [
            ShellFile(_zshenv(facts), "zsh", Stage.EVERY, shell),
            ShellFile(_join(facts, z, ".zprofile"), "zsh", Stage.LOGIN, shell),
            ShellFile(_join(facts, z, ".zshrc"), "zsh", Stage.INTERACTIVE, shell),
            ShellFile(_join(facts, z, ".zlogin"), "zsh", Stage.LOGIN, shell),
        ]
    if shell is Shell.FISH:  # conf.d before config.fish: a later `set` in config.fish wins
        conf_d = [ShellFile(p, "fish", Stage.EVERY, shell) for p in facts.fish_conf_d]
        return [*conf_d, ShellFile(_fish_config(facts), "fish", Stage.EVERY, shell)]
    if shell is Shell.POWERSHELL:
        return [ShellFile(p, "powershell", Stage.INTERACTIVE, shell) for p, _ in _powershell_profiles(facts)]
    return [ShellFile(_join(facts, home, ".profile"), "posix", Stage.LOGIN, shell)]


def _powershell_profiles(facts: Facts) -> list[tuple[str, bool]]:
    """about_Profiles: CurrentUserAllHosts, then CurrentUserCurrentHost, for Windows PowerShell
    5.1 and PowerShell 7; (path, the console host's own profile)."""
    documents = facts.documents or _join(facts, facts.home, "Documents")
    found = []
    for folder in ("WindowsPowerShell", "PowerShell"):
        for name, own in (("profile.ps1", False), ("Microsoft.PowerShell_profile.ps1", True)):
            found.append((_join(facts, documents, folder, name), own))
    return found


def _powershell_7(facts: Facts) -> str:
    """PowerShell 7's profile folder: it exists once PowerShell 7 has been installed and run."""
    return _join(facts, facts.documents or _join(facts, facts.home, "Documents"), "PowerShell")


def read_order(facts: Facts) -> tuple[ShellFile, ...]:
    """The files a new terminal's environment comes from, in the order they apply (a later
    assignment wins): the session's, then each shell in use, the login shell last. Files
    that do not exist are left out."""
    files: list[ShellFile] = []
    if facts.os is Os.LINUX:
        files += [ShellFile(p, "environment.d", Stage.SESSION) for p in facts.environment_d]
        profile = _join(facts, facts.home, ".profile")
        files.append(ShellFile(profile, "posix", Stage.SESSION))  # display managers read it (Xsession)
    for shell in shells_in_use(facts):
        files += _files_of(facts, shell)
    seen: set[str] = set()
    ordered = []
    for item in files:
        if item.path in seen or not facts.exists(item.path):
            continue
        seen.add(item.path)
        ordered.append(item)
    return tuple(ordered)


def rc_files(facts: Facts) -> tuple[ShellFile, ...]:
    """Where a line must go for every new terminal of each shell in use to read it: bash's
    .bashrc (.bash_profile on macOS, whose Terminal starts login shells that skip .bashrc),
    zsh's .zshrc in ZDOTDIR, fish's config.fish, the PowerShell profiles."""
    found: list[ShellFile] = []
    for shell in shells_in_use(facts):
        if shell is Shell.BASH:
            path = _join(facts, facts.home, ".bashrc")
            profile = _join(facts, facts.home, ".bash_profile")
            if facts.os is Os.MACOS and facts.exists(profile):
                path = profile
            found.append(ShellFile(path, "posix", Stage.INTERACTIVE, shell))
        elif shell is Shell.ZSH:
            found.append(ShellFile(_join(facts, zdotdir(facts), ".zshrc"), "zsh", Stage.INTERACTIVE, shell))
        elif shell is Shell.FISH:
            found.append(ShellFile(_fish_config(facts), "fish", Stage.EVERY, shell))
        elif shell is Shell.POWERSHELL:
            own = [p for p, host in _powershell_profiles(facts) if host]
            seven = facts.exists(_powershell_7(facts))
            present = [p for p in own if seven or not p.startswith(_powershell_7(facts))]
            found += [ShellFile(p, "powershell", Stage.INTERACTIVE, shell) for p in present]
        else:
            found.append(ShellFile(_join(facts, facts.home, ".profile"), "posix", Stage.LOGIN, shell))
    return tuple(found)


def session_file(facts: Facts) -> ShellFile | None:
    """Our own file for the desktop session's variables: environment.d on Linux."""
    if facts.os is not Os.LINUX:
        return None
    return ShellFile(_join(facts, config_home(facts), "environment.d", ENVD_FILE), "environment.d", Stage.SESSION)


def write_targets(facts: Facts) -> tuple[ShellFile, ...]:
    """Every file a variable is set in so that the session and every new terminal see it."""
    session = session_file(facts)
    return (*([session] if session else []), *(f for f in rc_files(facts) if f.syntax != "powershell"))


def syntax_of(facts: Facts, path: str) -> Syntax:
    """The syntax of a startup file by where it sits (the one lexer's answer)."""
    return shelllex.syntax_of(path)
