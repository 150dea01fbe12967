"""Hostile drives and hostile startup files: the scan survives them, runs nothing, and every fix
it plans writes only lines that a shell reads back as plain data.

Each case builds a tree (on a real tmpfs / ext4 / exFAT mount under /mnt, so the scan covers it
on its own, and also named as PATH) and the user's files in a throwaway HOME. Then:

- `scan --json` exits 0 or 1 (2 is an internal error) within TIME_LIMIT, with valid JSON;
- no `PWNED` marker appears in the scan's cwd, HOME, or on the drive;
- each fix the scan offers, run as `fix ID --dry-run`, exits 0/1/2 without a traceback, and the
  shell lines its preview adds pass `bash -n` and, sourced in a sandbox HOME, run nothing and
  give back exactly the value the fix meant to set.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import drives
from .against_uv import CLI, env_for

TIME_LIMIT = 20.0
MARK = "PWNED"
CMD = f"$(touch {MARK})"
TICKS = f"`touch {MARK}`"
SHELL_FILES = (".profile", ".bash_profile", ".bash_login", ".bashrc", ".zshenv", ".zprofile", ".zshrc")


@dataclass
class Ctx:
    """One case's world: /mnt root, HOME, a work dir for images, and the mounts to undo."""

    root: Path
    home: Path
    work: Path
    stack: contextlib.ExitStack
    paths: list[str | bytes] = field(default_factory=list)
    drives: list[Path] = field(default_factory=list)
    cache: str | None = None  # where the user's own setting puts uv's cache: the scan must read it so

    def mount(self, kind: str, name: str = "DRIVE", label: str | None = "UVDGTEST", size_mb: int | None = None) -> Path:
        reason = drives.requirement(kind)
        if reason:
            drives.need_real(reason)
        drive = self.stack.enter_context(drives.make_drive(kind, self.root, size_mb=size_mb, label=label, name=name))
        self.drives.append(drive.mountpoint)
        return drive.mountpoint

    def tmpfs(self, name: str = "DRIVE") -> Path:
        return self.mount("tmpfs", name, label=None, size_mb=128)

    def shell(self, name: str, data: str | bytes) -> None:
        path = self.home / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)


def _project(where: Path, uv_toml: str | bytes | None = None, pyproject: str | bytes | None = None) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "pyproject.toml").write_bytes(
        _bytes(pyproject if pyproject is not None else '[project]\nname = "p"\nversion = "0"\n\n[tool.uv]\n')
    )
    if uv_toml is not None:
        (where / "uv.toml").write_bytes(_bytes(uv_toml))
    (where / "uv.lock").write_text("version = 1\n")
    return where


def _venv(where: Path, cfg: str | bytes, script: str | None = None) -> Path:
    (where / "bin").mkdir(parents=True, exist_ok=True)
    (where / "pyvenv.cfg").write_bytes(_bytes(cfg))
    if script is not None:
        tool = where / "bin" / "tool"
        tool.write_text(script)
        tool.chmod(0o755)
    return where


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


# --- the cases ----------------------------------------------------------------------------------


def label_case(label: str) -> Callable[[Ctx], None]:
    def build(c: Ctx) -> None:
        drive = c.mount("ext4", label=label)
        _project(drive / "proj")
        c.paths.append(str(drive))

    return build


def mountpoint_case(name: str) -> Callable[[Ctx], None]:
    def build(c: Ctx) -> None:
        drive = c.tmpfs(name)
        _project(drive / "proj")
        c.shell(".bashrc", f"export UV_CACHE_DIR={_sq(str(drive / 'uv-cache'))}\n")
        c.paths.append(str(drive))

    return build


def cache_on_exfat(name: str, how: str = "bashrc") -> Callable[[Ctx], None]:
    """UV_CACHE_DIR on an exFAT drive whose mount point is hostile: every fix is about that path."""

    def build(c: Ctx) -> None:
        drive = c.mount("exfat", name=name, label="HOSTILE")
        cache = str(drive / "uv-cache")
        c.cache = cache
        _project(drive / f"proj {CMD}")
        if how == "bashrc":
            c.shell(".bashrc", f"# mine\nexport UV_CACHE_DIR={_sq(cache)}\n")
        elif how == "envd":
            escaped = cache.replace("\\", "\\\\").replace("$", "$$").replace(" ", "\\ ")
            c.shell(".config/environment.d/uv.conf", f"UV_CACHE_DIR={escaped}\n")
        elif how == "uvtoml":
            c.shell(".config/uv/uv.toml", f"cache-dir = {json.dumps(cache)}\n")
        elif how == "fish":
            c.shell(".config/fish/config.fish", f"set -gx UV_CACHE_DIR {_fishq(cache)}\n")
        elif how == "latin1":
            c.shell(".bashrc", b"# caf\xe9 \xff\nexport UV_CACHE_DIR=" + _sq(cache).encode() + b"\n")
        c.paths.append(str(drive))

    return build


def _sq(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fishq(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def newline_project(c: Ctx) -> None:
    drive = c.tmpfs()
    _project(drive / "a\nb")
    _venv(drive / "a\nb" / ".venv", "home = /usr/bin\n")
    c.paths.append(str(drive))


def non_utf8_names(c: Ctx) -> None:
    drive = c.tmpfs()
    base = os.fsencode(drive)
    os.makedirs(base + b"/proj-\xff\xfe", exist_ok=True)
    _project(Path(os.fsdecode(base + b"/proj-\xff\xfe")))
    with open(base + b"/file-\xc3\x28\x80", "wb") as handle:
        handle.write(b"x")
    os.makedirs(base + b"/dir-\xed\xa0\x80/.venv/bin")
    with open(base + b"/dir-\xed\xa0\x80/.venv/pyvenv.cfg", "wb") as handle:
        handle.write(b"home = /usr/\xff/bin\n")
    c.paths.append(base + b"/proj-\xff\xfe")
    c.paths.append(str(drive))


def long_names(c: Ctx) -> None:
    drive = c.tmpfs()
    name = "n" * 250
    _project(drive / name / ("p" * 250))
    (drive / ("f" * 250)).write_text("x")
    c.shell(".bashrc", f"export UV_CACHE_DIR={_sq(str(drive / name / 'c'))}\n")
    c.paths.append(str(drive / name))


def symlink_loops(c: Ctx) -> None:
    drive = c.tmpfs()
    (drive / "a").symlink_to("b")
    (drive / "b").symlink_to("a")
    (drive / "proj").mkdir()
    (drive / "proj" / "up").symlink_to("..")
    (drive / "proj" / "self").symlink_to(".")
    (drive / "proj" / "pyproject.toml").symlink_to("pyproject.toml")  # a self loop where a file should be
    (drive / "proj" / "uv.toml").symlink_to("../a")
    c.shell(".bashrc", f"export UV_CACHE_DIR={_sq(str(drive / 'a'))}\n")
    c.paths += [str(drive), str(drive / "proj" / "up")]


def deep_chain(c: Ctx) -> None:
    """10,000 nested directories, made with dir fds (relative), so PATH_MAX never applies."""
    drive = c.tmpfs()
    fd = os.open(drive, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(10_000):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("pyproject.toml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as handle:
            handle.write("[tool.uv]\ncache-dir = '/x'\n")
    finally:
        os.close(fd)
    c.paths.append(str(drive))


def wide_dir(c: Ctx) -> None:
    drive = c.tmpfs()
    wide = drive / "wide"
    wide.mkdir()
    fd = os.open(wide, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(50_000):
            if i % 10 == 0:
                os.mkdir(f"d{i}", dir_fd=fd)
            else:
                os.close(os.open(f"f{i}", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    _project(wide / "d49990")
    c.paths.append(str(drive))


def unreadable(c: Ctx) -> None:
    drive = c.tmpfs()
    _project(drive / "locked")
    _venv(drive / "venv", "home = /usr/bin\n")
    (drive / "venv" / "pyvenv.cfg").chmod(0o000)
    (drive / "locked" / "pyproject.toml").chmod(0o000)
    (drive / "locked").chmod(0o000)
    (drive / "secret").write_text("x")
    (drive / "secret").chmod(0o000)
    c.paths.append(str(drive))


BINARY = bytes(range(256)) * 64 + b"\0\0\0" + os.urandom(4096)
HUGE = b"# padding\n" + b"x = '" + b"A" * (20 << 20) + b"'\n"


def bad_file(which: str, data: bytes) -> Callable[[Ctx], None]:
    def build(c: Ctx) -> None:
        drive = c.tmpfs()
        proj = drive / "proj"
        if which == "uv.toml":
            _project(proj, uv_toml=data)
        elif which == "pyproject.toml":
            _project(proj, pyproject=data)
            _venv(proj / ".venv", "home = /usr/bin\n")
        else:
            _venv(drive / "env", data, script="#!/usr/bin/python3\n")
        c.paths.append(str(drive))

    return build


def venv_home_cmd(c: Ctx) -> None:
    drive = c.tmpfs()
    _venv(drive / "env", f"home = {CMD}\nuv = {TICKS}\nversion_info = $(id)\n", script="#!/usr/bin/python3\n")
    _venv(drive / "env2", f"home = {drive}/{CMD}\n")
    c.paths.append(str(drive))


def venv_shebang_sh(c: Ctx) -> None:
    drive = c.tmpfs()
    _venv(drive / "env", "home = /usr/bin\n", script=f"#!/bin/sh -c 'touch {MARK}' python\nexit 0\n")
    _venv(drive / "env2", "home = /usr/bin\n", script=f"#!{CMD} python\n")
    c.paths.append(str(drive))


def shell_file(name: str, body: Callable[[Path], bytes]) -> Callable[[Ctx], None]:
    """A startup file with odd syntax, its UV_CACHE_DIR on an exFAT drive (so fixes edit it)."""

    def build(c: Ctx) -> None:
        drive = c.mount("exfat", name="STICK", label="STICK")
        c.shell(name, body(drive / "uv-cache"))
        c.paths.append(str(drive))

    return build


def _heredoc(cache: Path) -> bytes:
    return (
        f"cat <<EOF >/dev/null\nexport UV_CACHE_DIR={CMD}\nEOF\n"
        f"cat <<'X'\n$(touch {MARK})\nX\nexport UV_CACHE_DIR='{cache}'\n"
    ).encode()


def _continuation(cache: Path) -> bytes:
    head = f"export UV_TOOL_DIR=/tmp/a\\\n{CMD}\nexport \\\n  UV_CACHE_DIR='{cache}'\n"
    return (head + f"export UV_CACHE_DIR='{cache}'\\\n\n").encode()


def _cmdsubst(cache: Path) -> bytes:
    return (
        f"export A=$(touch {MARK})\nexport UV_CACHE_DIR=\"$(echo {cache})\"\nexport UV_CACHE_DIR='{cache}'\n".encode()
    )


def _unterminated(cache: Path) -> bytes:
    return f"export UV_CACHE_DIR='{cache}'\nexport UV_TOOL_DIR=\"/tmp/{CMD}\nexport B='oops\n".encode()


def _megaline(cache: Path) -> bytes:
    return b"export JUNK='" + b"j" * (1 << 20) + b"'\n" + f"export UV_CACHE_DIR='{cache}'\n".encode()


def _crlf(cache: Path) -> bytes:
    return f"# windows editor\r\nexport UV_CACHE_DIR='{cache}'\r\nexport UV_LINK_MODE=copy\r\n".encode()


def _nul(cache: Path) -> bytes:
    return f"export UV_CACHE_DIR='{cache}'\n".encode() + b"\0\0binary\0tail\n"


def _fish_odd(cache: Path) -> bytes:
    return f"set -gx UV_CACHE_DIR (touch {MARK})\nset -gx UV_CACHE_DIR '{cache}' extra\nset -e UV_TOOL_DIR\n".encode()


def envd_odd(c: Ctx) -> None:
    drive = c.mount("exfat", name="STICK", label="STICK")
    text = (
        f"UV_TOOL_DIR=\\$(touch\\ {MARK})\n"
        "UV_PYTHON_INSTALL_DIR=${HOME:-/x}\\\\\\\n"
        'UV_LINK_MODE="copy\n'
        f"UV_CACHE_DIR={drive}/uv\\ cache\\\\$$\\x41\n"
        "=nothing\n\u2028BAD=\x85\n"
    )
    c.shell(".config/environment.d/10-uv.conf", text)
    c.shell(".config/environment.d/20-more.conf", f"UV_CACHE_DIR={drive}/uv-cache\n")
    c.paths.append(str(drive))


def project_cache_in_hostile_path(c: Ctx) -> None:
    drive = c.mount("exfat", name=f"it's {CMD}", label="STICK")
    target = f'{drive}/cache {TICKS} "q"\'s'
    _project(drive / "proj", uv_toml=f"cache-dir = {json.dumps(target)}\n")
    c.shell(".bashrc", f"export UV_PROJECT_ENVIRONMENT={_sq(str(drive / 'env'))}\n")
    c.paths.append(str(drive / "proj"))


CASES: dict[str, Callable[[Ctx], None]] = {
    "label-single-quote": label_case("it's"),
    "label-double-quote": label_case('say "hi"'),
    "label-cmdsubst": label_case(CMD),
    "label-backticks": label_case(TICKS),
    "label-newline": label_case("a\nb;touch P"),
    "mount-single-quote": mountpoint_case("Bob's drive"),
    "mount-double-quote": mountpoint_case('the "good" one'),
    "mount-cmdsubst": mountpoint_case(CMD),
    "mount-backticks": mountpoint_case(TICKS),
    "mount-newline": mountpoint_case(f"a\nexport X=1;{CMD}"),
    "mount-dollar-brace": mountpoint_case("${HOME:-x}$((1+1))\\n"),
    "project-dir-newline": newline_project,
    "non-utf8-names": non_utf8_names,
    "name-250-chars": long_names,
    "symlink-loops": symlink_loops,
    "deep-10000": deep_chain,
    "wide-50000": wide_dir,
    "unreadable": unreadable,
    "uv-toml-malformed": bad_file("uv.toml", b'cache-dir = "unterminated\n[[[\n= = =\n'),
    "uv-toml-huge": bad_file("uv.toml", HUGE),
    "uv-toml-binary": bad_file("uv.toml", BINARY),
    "pyproject-malformed": bad_file("pyproject.toml", b"[tool.uv\ncache-dir = '\n[tool]\nuv = 3\n"),
    "pyproject-huge": bad_file("pyproject.toml", b"[tool.uv]\n" + HUGE),
    "pyproject-binary": bad_file("pyproject.toml", b"[tool.uv]\n" + BINARY),
    "pyvenv-malformed": bad_file("pyvenv.cfg", b"home\n==\n= =home\nhome = = =\n\r\r\n"),
    "pyvenv-huge": bad_file("pyvenv.cfg", b"home = /usr/bin\n" + b"k = v\n" * (3 << 20)),
    "pyvenv-binary": bad_file("pyvenv.cfg", BINARY),
    "pyvenv-home-cmdsubst": venv_home_cmd,
    "venv-shebang-sh-c": venv_shebang_sh,
    "bashrc-heredoc": shell_file(".bashrc", _heredoc),
    "bashrc-continuation": shell_file(".bashrc", _continuation),
    "bashrc-export-cmdsubst": shell_file(".bashrc", _cmdsubst),
    "bashrc-unterminated-quote": shell_file(".bashrc", _unterminated),
    "bashrc-1mb-line": shell_file(".bashrc", _megaline),
    "bashrc-crlf": shell_file(".bashrc", _crlf),
    "bashrc-nul": shell_file(".bashrc", _nul),
    "fish-odd": shell_file(".config/fish/config.fish", _fish_odd),
    "environment-d-odd-escapes": envd_odd,
    "cache-in-hostile-mount-bashrc": cache_on_exfat(f'it\'s {CMD} {TICKS} "x"'),
    "cache-in-hostile-mount-envd": cache_on_exfat(f"it's {CMD} $HOME", how="envd"),
    "cache-in-hostile-mount-uvtoml": cache_on_exfat(f'it\'s {CMD} \\ "x"', how="uvtoml"),
    "cache-in-hostile-mount-fish": cache_on_exfat(f"it's {CMD} (touch {MARK})", how="fish"),
    "cache-in-hostile-mount-latin1-bashrc": cache_on_exfat(f"it's {CMD}", how="latin1"),
    "project-cache-in-hostile-path": project_cache_in_hostile_path,
}


# --- the checks -----------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Ctx]:
    if os.geteuid() != 0:
        drives.need_real("the hostile drives are mounted under /mnt: needs root")
    if not CLI.is_file():
        drives.need_real("the uv-drive-guard CLI is not installed")
    root = Path("/mnt") / f"uvdg-hostile-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    with contextlib.ExitStack() as stack:
        ctx = Ctx(root=root, home=home, work=tmp_path / "work", stack=stack)
        ctx.work.mkdir()
        try:
            yield ctx
        finally:
            stack.close()
            left = [e.mountpoint for e in drives.mountinfo() if e.mountpoint.startswith(f"{root}/")]
            shutil.rmtree(root, ignore_errors=True)
            assert not left, f"mounts left behind: {left}"


def _markers(ctx: Ctx, cwd: Path) -> list[str]:
    places = [cwd, ctx.home, ctx.root, *ctx.drives]
    found = []
    for place in places:
        out = subprocess.run(
            ["find", str(place), "-maxdepth", "12", "-name", f"{MARK}*"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        found += [line for line in out.stdout.decode(errors="replace").splitlines() if line]
    return found


def _run(argv: list[str | bytes], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIME_LIMIT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{argv[1]!r} did not finish within {TIME_LIMIT} s (hung on a hostile input): {exc}")


def _fixes(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [fix for finding in report["findings"] for fix in finding["fixes"]]


_HUNK = re.compile(r"^--- (.*?)(?: \(new file\))?$")


def _added_shell_lines(preview: str) -> dict[str, list[str]]:
    """The lines each diff in a preview adds, keyed by the file they go to."""
    added: dict[str, list[str]] = {}
    current = ""
    for line in preview.splitlines():
        head = _HUNK.match(line)
        if head:
            current = head.group(1).rstrip()
            continue
        if line.startswith("+") and not line.startswith("+++"):
            added.setdefault(current, []).append(line[1:])
    return added


def _check_posix_lines(lines: list[str], fix: dict[str, Any], sandbox: Path) -> None:
    """bash -n, then source them in a sandbox HOME: nothing runs, values come back literally."""
    script = sandbox / "preview.sh"
    script.write_text("\n".join(lines) + "\n")
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=10, check=False)
    assert syntax.returncode == 0, f"{fix['id']}: the added lines are not valid shell:\n{script.read_text()}"
    names = sorted({m.group(1) for line in lines if (m := re.match(r"\s*export\s+([A-Za-z_]\w*)=", line))})
    show = "".join(f'printf "%s\\0%s\\0" {n} "${{{n}-<unset>}}";' for n in names)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(sandbox), "LC_ALL": "C.UTF-8"}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", f". ./preview.sh >/dev/null 2>&1; {show}"],
        cwd=sandbox,
        env=env,
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert not list(sandbox.rglob(f"{MARK}*")), f"{fix['id']}: sourcing the preview ran a command"
    parts = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    got = dict(zip(parts[0::2], parts[1::2], strict=False))
    for change in fix["changes"]:
        name, value = change.get("name"), change.get("value")
        if name in got and value is not None and change["kind"].startswith("set"):
            assert got[name] == value, f"{fix['id']}: {name} sources as {got[name]!r}, the fix means {value!r}"


def _check_fish_lines(lines: list[str], fix: dict[str, Any], sandbox: Path) -> None:
    """The same with fish itself, for lines added to config.fish."""
    if shutil.which("fish") is None:
        return
    script = sandbox / "preview.fish"
    script.write_text("\n".join(lines) + "\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(sandbox), "LC_ALL": "C.UTF-8", "XDG_CONFIG_HOME": str(sandbox)}
    syntax = subprocess.run(["fish", "--no-config", "-n", str(script)], env=env, capture_output=True, timeout=10)
    assert syntax.returncode == 0, f"{fix['id']}: the added lines are not valid fish:\n{script.read_text()}"
    for change in fix["changes"]:
        name, value = change.get("name"), change.get("value")
        if not (name and value is not None and change["kind"].startswith("set")):
            continue
        show = f'source preview.fish 2>/dev/null; printf %s "${name}"'
        done = subprocess.run(
            ["fish", "--no-config", "-c", show], cwd=sandbox, env=env, capture_output=True, timeout=10, check=False
        )
        if any(re.match(rf"\s*set\s.*\b{name}\b", line) for line in lines):
            assert done.stdout.decode() == value, f"{fix['id']}: fish reads {name} as {done.stdout!r}, not {value!r}"
    assert not list(sandbox.rglob(f"{MARK}*")), f"{fix['id']}: sourcing the preview ran a command"


_BY_HAND = re.compile(r"^by hand: (export [A-Za-z_]\w*=.*?)(?: before running uv there)?$")


def _by_hand_lines(preview: str) -> list[str]:
    """`by hand: export X='...'` lines the user is told to type: they are shell too."""
    return [m.group(1) for line in preview.splitlines() if (m := _BY_HAND.match(line))]


def _is_posix_file(path: str) -> bool:
    return Path(path).name in SHELL_FILES


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_hostile(case: str, world: Ctx, tmp_path: Path) -> None:
    CASES[case](world)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = env_for(world.home)
    scanned = _run([str(CLI), "scan", *world.paths, "--json"], env, cwd)
    assert "Traceback" not in scanned.stderr, scanned.stderr[-3000:]
    assert scanned.returncode in (0, 1), f"scan exited {scanned.returncode}:\n{scanned.stderr[-3000:]}"
    report = json.loads(scanned.stdout)
    assert {"volumes", "findings"} <= set(report)
    if world.cache is not None:
        read = sorted({loc["path"] for loc in report["locations"] if loc["role"] == "cache"})
        assert world.cache in read, f"the user's cache is {world.cache!r}; the scan read {read}"
    assert not _markers(world, cwd), f"a command ran: {_markers(world, cwd)}"
    problems = []
    for fix in _fixes(report):
        done = _run([str(CLI), "fix", fix["id"], *world.paths, "--dry-run"], env, cwd)
        if done.returncode not in (0, 1, 2) or "Traceback" in done.stdout + done.stderr:
            problems.append(f"fix {fix['id']} --dry-run exited {done.returncode}:\n{done.stderr[-2500:]}")
            continue
        added = _added_shell_lines(done.stdout)
        by_hand = _by_hand_lines(done.stdout + done.stderr)
        if by_hand:
            added["by hand/.profile"] = by_hand
        for path, lines in added.items():
            sandbox = tmp_path / f"sandbox-{uuid.uuid4().hex[:6]}"
            sandbox.mkdir()
            if _is_posix_file(path):
                _check_posix_lines(lines, fix, sandbox)
            elif path.endswith(".fish"):
                _check_fish_lines(lines, fix, sandbox)
    assert not _markers(world, cwd), f"a command ran: {_markers(world, cwd)}"
    assert not problems, "\n\n".join(problems)


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
