"""Ask the installed uv what it is and where it puts things; never run a uv from a drive."""

from __future__ import annotations

import glob
import json
import logging
import ntpath
import os
import posixpath
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping

from ..core.model import Os, UvInfo
from ..core.paths import under
from . import platforms, proc

log = logging.getLogger(__name__)
QUERIES = {
    "cache": ["cache", "dir"],
    "tool": ["tool", "dir"],
    "tool-bin": ["tool", "dir", "--bin"],
    "python": ["python", "dir"],
    "python-bin": ["python", "dir", "--bin"],
}
RECEIPT_BYTES = 64 << 10  # the installer's receipt is a few hundred bytes
WINGET_PACKAGE = "astral-sh.uv"  # winget install --id=astral-sh.uv (uv's docs, "Installation")


def find_uv(env: Mapping[str, str], forbidden: Iterable[str] = (), *, os_: Os | None = None) -> str | None:
    """uv on PATH, else where uv's installers put it; None when its real path lies on one of the
    `forbidden` (drive) mount points. A daemon started at login has a short PATH (launchd gives
    agents /usr/bin:/bin:/usr/sbin:/sbin), without ~/.local/bin or Homebrew's bin."""
    os_ = os_ or platforms.current()
    found = shutil.which("uv", path=env.get("PATH")) or shutil.which(
        "uv", path=os.pathsep.join(install_places(env, os_)) or os.defpath
    )
    found = os.path.abspath(found) if found else None
    if found is None:
        return None
    real = os.path.realpath(found)
    for mount in forbidden:  # "/" itself is no drive (in scope only for a path named on it)
        if mount.rstrip("/\\") and under(real, mount, windows=os.name == "nt"):
            log.warning("not running %s: it is on a drive", real)
            return None
    return found


def install_places(env: Mapping[str, str], os_: Os, *, glob: Callable[[str], list[str]] = glob.glob) -> list[str]:
    """The folders uv's installers put `uv` in, most particular first (docs/uv-facts.md, "Where
    uv is installed, and what the daemon reads from it"): the standalone installer's receipt
    (UV_INSTALL_DIR included), uv's executable directory (that installer since 0.5.0, pipx,
    `uv tool install uv`), Cargo's bin (that installer before 0.5.0, `cargo install uv`), then
    Homebrew on macOS and Linux, and WinGet's links and package folder on Windows."""
    path = ntpath if os_ is Os.WINDOWS else posixpath
    if os_ is Os.WINDOWS:  # names ignore case there; os.environ keeps them upper-cased (Lib/os.py)
        env = {name.upper(): value for name, value in env.items()}
    home = env.get("USERPROFILE" if os_ is Os.WINDOWS else "HOME") or os.path.expanduser("~")
    places = _receipt_places(env, os_, home)
    if env.get("XDG_BIN_HOME"):
        places.append(env["XDG_BIN_HOME"])
    if env.get("XDG_DATA_HOME"):
        places.append(path.normpath(path.join(env["XDG_DATA_HOME"], "..", "bin")))
    places.append(path.join(home, ".local", "bin"))
    places.append(path.join(env.get("CARGO_HOME") or path.join(home, ".cargo"), "bin"))
    if os_ is Os.MACOS:
        places += ["/opt/homebrew/bin", "/usr/local/bin"]  # Apple silicon, Intel
    elif os_ is Os.LINUX:
        places.append("/home/linuxbrew/.linuxbrew/bin")
    else:
        places += _winget_places(env, glob)
    return list(dict.fromkeys(p for p in places if path.isabs(p)))


def _receipt_places(env: Mapping[str, str], os_: Os, home: str) -> list[str]:
    """Where the standalone installer's receipt (cargo-dist's uv-receipt.json) says it put uv:
    `install_prefix`, with `bin` below it unless the layout is flat."""
    path = ntpath if os_ is Os.WINDOWS else posixpath
    config = env.get("XDG_CONFIG_HOME") or (
        env.get("LOCALAPPDATA", "") if os_ is Os.WINDOWS else path.join(home, ".config")
    )
    if not config:
        return []
    try:
        with open(path.join(config, "uv", "uv-receipt.json"), encoding="utf-8") as handle:
            receipt = json.loads(handle.read(RECEIPT_BYTES))
    except (OSError, ValueError):
        return []
    prefix = receipt.get("install_prefix") if isinstance(receipt, dict) else None
    if not isinstance(prefix, str) or not prefix:
        return []
    if receipt.get("install_layout") == "flat":
        return [prefix]
    return [path.join(prefix, "bin"), prefix]  # cargo-home and hierarchical; older receipts say neither


def _winget_places(env: Mapping[str, str], glob: Callable[[str], list[str]]) -> list[str]:
    """WinGet's command links (user, then machine), or, where it could not make links, the
    package's own folder, which it puts on PATH instead (winget-cli #3498)."""
    places: list[str] = []
    roots = [ntpath.join(env["LOCALAPPDATA"], "Microsoft", "WinGet")] if env.get("LOCALAPPDATA") else []
    roots += [ntpath.join(env[name], "WinGet") for name in ("PROGRAMFILES", "PROGRAMFILES(X86)") if env.get(name)]
    for root in roots:
        places.append(ntpath.join(root, "Links"))
        places += sorted(glob(ntpath.join(root, "Packages", WINGET_PACKAGE + "_*")))[:4]
    return places


def ask(
    executable: str | None,
    env: Mapping[str, str],
    *,
    confirm: bool = True,
    cwd: str | None = None,
    timeout: float = 10.0,
) -> UvInfo:
    """`uv --version` and, with `confirm`, the dir queries: started together, so the wall time
    is about one uv start-up."""
    if executable is None:
        return UvInfo(version=None, executable=None)
    commands = {"version": ["--version"], **(QUERIES if confirm else {})}
    clean = {k: v for k, v in env.items() if k != "VIRTUAL_ENV"}
    started: dict[str, subprocess.Popen[str]] = {}
    for key, args in commands.items():
        try:
            started[key] = proc.popen([executable, *args], stdout=subprocess.PIPE, env=clean, cwd=cwd)
        except OSError as exc:
            log.warning("could not run %s: %s", executable, exc)
            return UvInfo(version=None, executable=executable)
    answers = {key: _answer(child, timeout) for key, child in started.items()}
    version = answers.pop("version", None)
    reported = tuple((k, v) for k, v in answers.items() if v)
    return UvInfo(version=version, executable=executable, reported=reported)


def _answer(child: subprocess.Popen[str], timeout: float) -> str | None:
    """The child's one line of output (read as UTF-8 by edges/proc); None when it failed or said nothing."""
    try:
        out, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        return None
    text = (out or "").strip()  # None: the output could not be read at all
    return text if child.returncode == 0 and text else None
