"""The facts `core.shells` needs from this machine: the login shell, ZDOTDIR, which startup
files exist. Files are looked at (and ~/.zshenv read as text), never run."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ..core import shells
from ..core.model import Os
from ..core.shellparse import parse_shell
from . import platforms, safeio

MAX_LISTED = 100  # conf.d and environment.d files read, at most
MAX_BYTES = 8 << 20


def login_shell(os_: Os, env: Mapping[str, str]) -> shells.Shell | None:
    """$SHELL, as terminals start it; else the account's shell (passwd); PowerShell on Windows."""
    if os_ is Os.WINDOWS:
        return shells.Shell.POWERSHELL
    name = Path(env.get("SHELL", "")).name or _passwd_shell(os_)
    return shells.SHELL_NAMES.get(name)


def _passwd_shell(os_: Os) -> str:
    """The account's shell, when the machine asked about is this one (and has passwd)."""
    if platforms.current() is not os_ or os_ is Os.WINDOWS:
        return ""
    import pwd

    try:
        return Path(pwd.getpwuid(os.getuid()).pw_shell).name
    except (KeyError, OSError):
        return ""


def config_home(home: str, env: Mapping[str, str]) -> str:
    """XDG_CONFIG_HOME when absolute (the XDG spec ignores a relative one), else ~/.config."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    return xdg if os.path.isabs(xdg) else str(Path(home, ".config"))


def zdotdir(home: str, env: Mapping[str, str]) -> str:
    """Where zsh reads .zprofile, .zshrc and .zlogin: ZDOTDIR as ~/.zshenv leaves it (zsh reads
    $ZDOTDIR/.zshenv first, ZDOTDIR defaulting to the home folder), read as text."""
    start = env.get("ZDOTDIR") or home
    text = safeio.read_text(Path(start, ".zshenv"), MAX_BYTES, follow=True)
    if text is None:
        return start
    known = {"HOME": home, **{k: v for k, v in env.items() if k in ("XDG_CONFIG_HOME", "ZDOTDIR")}}
    zshenv = str(Path(start, ".zshenv"))
    found = [d for d in parse_shell(text, file=zshenv, names=("ZDOTDIR",), known=known) if d.value]
    return str(found[-1].value) if found else start


def _listed(directory: Path, pattern: str) -> tuple[str, ...]:
    try:
        return tuple(str(p) for p in sorted(directory.glob(pattern))[:MAX_LISTED] if p.is_file())
    except OSError:
        return ()


def _documents(home: str) -> str:
    """Documents may be redirected (OneDrive): on Windows platformdirs asks the shell."""
    if platforms.current() is Os.WINDOWS:
        from platformdirs import user_documents_dir

        return user_documents_dir()
    return str(Path(home, "Documents"))


def facts(os_: Os, home: str, env: Mapping[str, str]) -> shells.Facts:
    """This machine's shells, as `core.shells` reasons about them."""
    zdot = zdotdir(home, env) if os_ is not Os.WINDOWS else ""
    zshenv_dir = env.get("ZDOTDIR") or home
    config = config_home(home, env)
    base = shells.Facts(
        os=os_,
        home=home,
        login_shell=login_shell(os_, env),
        zdotdir=zdot,
        zshenv_dir=zshenv_dir if os_ is not Os.WINDOWS else "",
        config_home=config,
        documents=_documents(home) if os_ is Os.WINDOWS else "",
    )
    existing = {p for p in shells.candidates(base) if os.path.exists(p)}
    envd = _listed(Path(config, "environment.d"), "*.conf") if os_ is Os.LINUX else ()
    conf_d = _listed(Path(config, "fish", "conf.d"), "*.fish") if os_ is not Os.WINDOWS else ()
    return replace(base, existing=frozenset(existing | set(envd) | set(conf_d)), environment_d=envd, fish_conf_d=conf_d)
