"""`uv-drive-guard fix` / `undo` / `history` end to end, on really mounted filesystems.

Every test runs the CLI as a subprocess in a throwaway HOME (its journal under that HOME's
XDG state dir), applies a fix that `scan --json` offered, and then checks the result the way
the user would meet it: a NEW `bash -i` (which reads ~/.bashrc again, without the variables the
old terminal had) runs real uv offline against a locally built wheel. `undo` must put back
the exact bytes. Nothing touches the network. Needs root, loop devices and FUSE; skips without
them, or fails when ``UVDG_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import tomllib

from . import drives
from .against_uv import (
    CLI,
    UV,
    W_HARDLINK,
    assert_silent,
    assert_tinypkg_runs,
    env_for,
    fix_slugs,
    install,
    make_venv,
    require,
    scan,
    show,
    under,
    uv,
    write_bashrc,
)
from .drives import PYPROJECT, base_python, make_drive, mount_at

VERIFIED = "Checked as a new terminal would run it: uv works now."
UV_CONFIRMED = "without errors or warnings"
# Quotes, command substitution in both spellings, and spaces: a shell that evaluated the path
# instead of taking it literally would create a file named PWNED.
HOSTILE = 'it\'s "my" $(touch PWNED) `touch PWNED` stick'
MARKER = "PWNED"


# --- helpers ----------------------------------------------------------------------------


def cli(args: list[str | Path], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *(str(a) for a in args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def new_shell(home: Path, argv: list[str], cwd: Path, **overrides: str | None) -> subprocess.CompletedProcess[bytes]:
    """A new terminal: HOME is the throwaway one, none of the old terminal's UV_* variables."""
    return subprocess.run(
        argv,
        env=env_for(home, **overrides),
        cwd=cwd,
        capture_output=True,
        timeout=drives.UV_TIMEOUT_S,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def new_bash(home: Path, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`bash -i -c script` in a new terminal (interactive: it reads ~/.bashrc)."""
    done = new_shell(home, ["bash", "-i", "-c", script], cwd)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    )


def terminal_value(home: Path, name: str, cwd: Path) -> str | None:
    """What a terminal opened now gets for ``name``, byte for byte (None: unset)."""
    done = new_shell(home, ["bash", "-i", "-c", f'printf "%s" "${{{name}+set}}:${{{name}-}}"'], cwd)
    assert done.returncode == 0, done.stderr
    flag, _, value = done.stdout.decode("utf-8", errors="surrogateescape").partition(":")
    return value if flag == "set" else None


def the_finding(report: dict[str, Any], root: Path, code: str) -> dict[str, Any]:
    mine = [f for f in under(report, root) if f["code"] == code]
    assert len(mine) == 1, json.dumps(under(report, root), indent=1)
    return mine[0]


def the_fix(item: dict[str, Any], slug: str) -> dict[str, Any]:
    assert slug in fix_slugs(item), item["fixes"]
    return next(f for f in item["fixes"] if f"-{slug}-" in f["id"])


def assert_verified(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 0, f"fix did not verify:\n{show(proc)}"
    assert VERIFIED in proc.stdout, show(proc)
    assert UV_CONFIRMED in proc.stdout, show(proc)


def history(env: dict[str, str]) -> list[dict[str, Any]]:
    proc = cli(["history", "--json"], env)
    assert proc.returncode == 0, show(proc)
    return json.loads(proc.stdout)


def uv_script(*argv: str | Path) -> str:
    return shlex.join([str(UV), *(str(a) for a in argv)])


def install_script(venv: Path, wheels: Path, *extra: str) -> str:
    return uv_script(*install(venv, wheels, *extra))


def markers(*roots: Path) -> list[Path]:
    """Every file named PWNED below ``roots`` (the hostile names only contain the word)."""
    found = []
    for root in roots:
        if root.is_dir():
            found += [p for p in root.rglob("*") if p.name == MARKER]
        if (root / MARKER).exists():
            found.append(root / MARKER)
    return sorted(set(found))


BASHRC_HEAD = ("# ~/.bashrc: executed by bash(1) for non-login shells.", "alias ll='ls -l'")


def seed_bashrc(home: Path, cache: Path, variant: str) -> bytes:
    """The seed case's ~/.bashrc, exporting UV_CACHE_DIR, in one of several line-break styles."""
    export = f"export UV_CACHE_DIR={shlex.quote(str(cache))}"
    if variant == "lf":
        data = "\n".join([*BASHRC_HEAD, export, "export EDITOR=vi"]) + "\n"
    elif variant == "crlf":
        data = "\r\n".join([*BASHRC_HEAD, export, "export EDITOR=vi"]) + "\r\n"
    elif variant == "no-final-newline":
        data = "\n".join([*BASHRC_HEAD, "export EDITOR=vi", export])
    elif variant == "form-feed":  # an Emacs page break (^L) in a comment: only a comment to bash
        data = "\n".join([*BASHRC_HEAD, "#\f", "# --- uv ---", export, "export EDITOR=vi"]) + "\n"
    else:
        raise ValueError(variant)
    (home / ".bashrc").write_bytes(data.encode())
    return data.encode()


def seed_env(home: Path, cwd: Path) -> dict[str, str]:
    """The CLI's environment: the terminal it runs in got UV_CACHE_DIR from ~/.bashrc."""
    value = terminal_value(home, "UV_CACHE_DIR", cwd)
    assert value is not None
    env = env_for(home, UV_CACHE_DIR=value)
    env["TMPDIR"] = str(cwd)  # a killed verification leaves its scratch venv here, not in /tmp
    return env


# --- (1) the seed case: UV_CACHE_DIR on exFAT, fixed, verified, undone ------------------


@pytest.mark.parametrize("variant", ["lf", "crlf", "no-final-newline", "form-feed"])
def test_seed_case_cache_on_exfat_fix_then_new_terminal_then_undo(
    variant: str, mnt_dir: Path, home: Path, wheels: Path, tmp_path: Path
) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        cache = drive.mountpoint / "uv-cache"
        original = seed_bashrc(home, cache, variant)
        bashrc = home / ".bashrc"
        env = seed_env(home, tmp_path)

        _, report = scan(env)
        item = the_finding(report, mnt_dir, "UVD006")
        assert item["severity"] == "error"
        # Where uv really puts it: bash keeps the CR of a CRLF line in the value.
        assert item["location"]["path"] == env["UV_CACHE_DIR"], item["location"]
        fix = the_fix(item, "move-off-drive")
        assert ("unset-env", str(bashrc), "UV_CACHE_DIR") in [
            (c["kind"], c["target"], c["name"]) for c in fix["changes"]
        ], fix["changes"]

        proc = cli(["fix", fix["id"], "--yes"], env, cwd=tmp_path)
        assert_verified(proc)
        # The terminal got the value from ~/.bashrc, and the scan says so.
        assert item["location"]["source"]["kind"] == "shell-file", item["location"]
        assert item["location"]["source"]["file"] == str(bashrc), item["location"]
        assert [c["kind"] for c in fix["changes"]] == ["unset-env"], fix["changes"]
        changed = bashrc.read_bytes()
        assert changed != original
        if variant == "crlf":
            assert changed.count(b"\r\n") == changed.count(b"\n"), changed  # no line end flipped
        if variant == "no-final-newline":
            assert not changed.endswith(b"\n"), changed

        # A new terminal: the default cache, and a real offline install that works.
        venv = tmp_path / "venv"
        script = " && ".join([uv_script("cache", "dir"), uv_script(*make_venv(venv)), install_script(venv, wheels)])
        proc = new_bash(home, script, tmp_path)
        assert proc.returncode == 0, show(proc)
        assert proc.stdout.splitlines()[0] == str(home / ".cache" / "uv"), show(proc)
        assert "Failed to" not in proc.stderr and "error:" not in proc.stderr, show(proc)
        assert_tinypkg_runs(venv)

        proc = cli(["undo"], env)
        assert proc.returncode == 0, show(proc)
        assert bashrc.read_bytes() == original
        assert terminal_value(home, "UV_CACHE_DIR", tmp_path) == env["UV_CACHE_DIR"]


# --- (2) copy mode for a venv on NTFS -----------------------------------------------------


def test_copy_mode_for_venv_on_ntfs_silences_uv_in_a_new_terminal(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ntfs")
    with make_drive("ntfs", tmp_path, label="BIGDISK") as drive:
        env = env_for(home)
        venv = drive.mountpoint / "work" / "venv"
        assert_silent(uv(make_venv(venv), env), "uv venv on NTFS")
        user_config = home / ".config" / "uv" / "uv.toml"
        assert not user_config.exists()

        _, report = scan(env, drive.mountpoint)
        item = the_finding(report, drive.mountpoint, "UVD003")
        assert item["location"]["path"] == str(venv)
        fix = the_fix(item, "copy-mode")

        proc = uv(install(venv, wheels), env)
        assert proc.returncode == 0 and W_HARDLINK in proc.stderr, show(proc)

        proc = cli(["fix", fix["id"], str(drive.mountpoint), "--yes"], env, cwd=tmp_path)
        assert_verified(proc)
        assert tomllib.loads(user_config.read_text())["link-mode"] == "copy"

        proc = new_bash(home, install_script(venv, wheels, "--reinstall"), tmp_path)
        assert proc.returncode == 0, show(proc)
        assert W_HARDLINK not in proc.stderr, show(proc)
        assert_tinypkg_runs(venv)

        proc = cli(["undo"], env)
        assert proc.returncode == 0, show(proc)
        assert not user_config.exists(), "undo left the uv.toml the fix created"


# --- (3) precedence: UV_LINK_MODE in ~/.bashrc wins over uv.toml --------------------------


def test_copy_mode_goes_where_uv_link_mode_is_exported(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ntfs")
    with make_drive("ntfs", tmp_path, label="BIGDISK") as drive:
        bashrc, _ = write_bashrc(home, "UV_LINK_MODE", Path("hardlink"))
        original = bashrc.read_bytes()
        assert terminal_value(home, "UV_LINK_MODE", tmp_path) == "hardlink"
        env = env_for(home, UV_LINK_MODE="hardlink")
        venv = drive.mountpoint / "venv"
        assert_silent(uv(make_venv(venv), env), "uv venv on NTFS")
        user_config = home / ".config" / "uv" / "uv.toml"

        _, report = scan(env, drive.mountpoint)
        item = the_finding(report, drive.mountpoint, "UVD003")
        fix = the_fix(item, "copy-mode")
        (change,) = fix["changes"]
        assert (change["kind"], change["target"], change["name"], change["value"]) == (
            "set-env",
            str(bashrc),
            "UV_LINK_MODE",
            "copy",
        ), change
        proc = uv(install(venv, wheels), env)
        assert proc.returncode == 0 and W_HARDLINK in proc.stderr, show(proc)

        proc = cli(["fix", fix["id"], str(drive.mountpoint), "--dry-run"], env, cwd=tmp_path)
        assert proc.returncode == 0, show(proc)
        assert f"--- {bashrc}" in proc.stdout, show(proc)
        assert "uv.toml" not in proc.stdout, show(proc)
        assert bashrc.read_bytes() == original

        proc = cli(["fix", fix["id"], str(drive.mountpoint), "--yes"], env, cwd=tmp_path)
        assert_verified(proc)
        assert not user_config.exists(), "the fix wrote uv.toml, which UV_LINK_MODE shadows"
        assert terminal_value(home, "UV_LINK_MODE", tmp_path) == "copy"
        proc = new_bash(home, install_script(venv, wheels, "--reinstall"), tmp_path)
        assert proc.returncode == 0, show(proc)
        assert W_HARDLINK not in proc.stderr, show(proc)

        proc = cli(["undo"], env)
        assert proc.returncode == 0, show(proc)
        assert bashrc.read_bytes() == original


# --- (4) hostile mount paths --------------------------------------------------------------


def test_hostile_mount_path_cache_fix_runs_no_code(mnt_dir: Path, home: Path, tmp_path: Path) -> None:
    require("exfat")
    work = tmp_path / "work"
    work.mkdir()
    mountpoint = mnt_dir / HOSTILE
    with mount_at("exfat", mountpoint, tmp_path / "images", label="EVIL") as drive:
        assert drives.mount_entry(drive.mountpoint) is not None
        cache = mountpoint / "uv-cache"
        bashrc, _ = write_bashrc(home, "UV_CACHE_DIR", cache)
        original = bashrc.read_bytes()
        (home / ".profile").write_text('if [ -r "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi\n')
        assert terminal_value(home, "UV_CACHE_DIR", work) == str(cache)  # the test's own quoting is right
        env = env_for(home, UV_CACHE_DIR=str(cache))

        _, report = scan(env)
        item = the_finding(report, mnt_dir, "UVD006")
        assert item["location"]["path"] == str(cache)
        assert item["volume"] == str(mountpoint)
        assert item["location"]["source"]["file"] == str(bashrc)
        fix = the_fix(item, "move-off-drive")

        proc = cli(["fix", fix["id"], "--yes"], env, cwd=work)
        assert_verified(proc)
        for argv in (
            ["bash", "-i", "-c", "true"],
            ["bash", "-l", "-c", "true"],
            ["sh", "-c", ". ~/.profile"],
            ["bash", "-c", ". ~/.profile"],
        ):
            done = new_shell(home, argv, work)
            assert done.returncode == 0, (argv, done.stderr)
        assert terminal_value(home, "UV_CACHE_DIR", work) is None
        assert markers(home, work, tmp_path, mnt_dir, Path.cwd()) == []

        proc = cli(["undo"], env, cwd=work)
        assert proc.returncode == 0, show(proc)
        assert bashrc.read_bytes() == original
        assert markers(home, work, tmp_path, mnt_dir, Path.cwd()) == []


def test_hostile_mount_path_drive_cache_lands_in_pyproject_verbatim(mnt_dir: Path, home: Path, tmp_path: Path) -> None:
    require("ntfs")
    work = tmp_path / "work"
    work.mkdir()
    mountpoint = mnt_dir / f"{HOSTILE} ntfs"
    with mount_at("ntfs", mountpoint, tmp_path / "images", label="EVIL NTFS"):
        project = mountpoint / "demo"
        project.mkdir()
        pyproject = project / "pyproject.toml"
        pyproject.write_text(PYPROJECT)
        original = pyproject.read_bytes()
        env = env_for(home)
        assert_silent(uv(["venv", "--python", base_python()], env, cwd=project), "uv venv in the project")

        _, report = scan(env, mountpoint)
        item = the_finding(report, mountpoint, "UVD003")
        assert item["location"]["path"] == str(project / ".venv")
        fix = the_fix(item, "drive-cache")
        wanted = str(mountpoint / ".uv-cache")

        proc = cli(["fix", fix["id"], str(mountpoint), "--yes"], env, cwd=work)
        assert_verified(proc)
        assert tomllib.loads(pyproject.read_text())["tool"]["uv"]["cache-dir"] == wanted
        proc = uv(["cache", "dir"], env, cwd=project)
        assert proc.returncode == 0 and proc.stdout.strip() == wanted, show(proc)
        assert markers(home, work, tmp_path, mnt_dir, Path.cwd()) == []

        proc = cli(["undo"], env, cwd=work)
        assert proc.returncode == 0, show(proc)
        assert pyproject.read_bytes() == original


# --- (5) a read-only ~/.bashrc ------------------------------------------------------------


def test_read_only_bashrc_is_refused_and_left_alone(mnt_dir: Path, home: Path, tmp_path: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        original = seed_bashrc(home, drive.mountpoint / "uv-cache", "lf")
        bashrc = home / ".bashrc"
        env = seed_env(home, tmp_path)
        _, report = scan(env)
        fix = the_fix(the_finding(report, mnt_dir, "UVD006"), "move-off-drive")
        bashrc.chmod(0o444)

        proc = cli(["fix", fix["id"], "--yes"], env, cwd=tmp_path)
        assert proc.returncode == 1, show(proc)
        said = proc.stdout + proc.stderr
        assert str(bashrc) in said and "read-only" in said, show(proc)
        assert "Traceback" not in said and "internal error" not in said, show(proc)
        assert bashrc.read_bytes() == original
        assert bashrc.stat().st_mode & 0o777 == 0o444
        assert [e["state"] for e in history(env) if e["state"] in ("applied", "pending")] == []


# --- (6) a second apply is a no-op --------------------------------------------------------


def test_second_fix_is_a_no_op_and_history_lists_one_entry(mnt_dir: Path, home: Path, tmp_path: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        seed_bashrc(home, drive.mountpoint / "uv-cache", "lf")
        bashrc = home / ".bashrc"
        env = seed_env(home, tmp_path)
        _, report = scan(env)
        fix = the_fix(the_finding(report, mnt_dir, "UVD006"), "move-off-drive")

        assert_verified(cli(["fix", fix["id"], "--yes"], env, cwd=tmp_path))
        after_first = bashrc.read_bytes()
        proc = cli(["fix", fix["id"], "--yes"], env, cwd=tmp_path)
        assert proc.returncode == 0, show(proc)
        assert "nothing to change" in proc.stdout or "already applied" in proc.stdout, show(proc)
        assert bashrc.read_bytes() == after_first

        entries = history(env)
        assert [(e["fix_id"], e["state"]) for e in entries] == [(fix["id"], "applied")], entries
        assert [f["path"] for f in entries[0]["files"]] == [str(bashrc)]


# --- (6b) a ~/.bashrc over the scan's 1 MiB read limit -------------------------------------


def test_fix_with_a_bashrc_over_1_mib_does_not_claim_it_is_in_place(mnt_dir: Path, home: Path, tmp_path: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        cache = drive.mountpoint / "uv-cache"
        line = "# " + "padding " * 10 + "\n"
        half = line * (3_000_000 // len(line) // 2)  # a few MB of comments
        original = (half + f"export UV_CACHE_DIR={shlex.quote(str(cache))}\n" + half).encode()
        bashrc = home / ".bashrc"
        bashrc.write_bytes(original)
        env = seed_env(home, tmp_path)
        _, report = scan(env)
        fix = the_fix(the_finding(report, mnt_dir, "UVD006"), "move-off-drive")

        proc = cli(["fix", fix["id"], "--yes"], env, cwd=tmp_path)
        # Either it turns the line off and verifies, or it says it could not: never "in place"
        # while UV_CACHE_DIR still points at the exFAT drive in every new terminal.
        assert "Already in place" not in proc.stdout + proc.stderr, show(proc)
        if proc.returncode == 0:
            assert_verified(proc)
            assert terminal_value(home, "UV_CACHE_DIR", tmp_path) is None
        else:
            assert bashrc.read_bytes() == original


# --- (7) kill -9 in the middle of `fix --yes` ---------------------------------------------

KILLS_TIMED = 10
KILLS_ON_RENAME = 5
# "A few MB" of comments would be past the scan's 1 MiB read limit (see the test above), so the
# file is as large as a fixable one can be.
PADDING_BYTES = 1_000_000


def big_bashrc(home: Path, cache: Path) -> bytes:
    line = "# " + "padding " * 10 + "\n"
    half = line * (PADDING_BYTES // len(line) // 2)
    data = (half + f"export UV_CACHE_DIR={shlex.quote(str(cache))}\n" + half).encode()
    assert len(data) < 1 << 20
    (home / ".bashrc").write_bytes(data)
    return data


def fix_id_for(env: dict[str, str], root: Path) -> str:
    _, report = scan(env)
    return the_fix(the_finding(report, root, "UVD006"), "move-off-drive")["id"]


def kill_during(
    argv: list[str], env: dict[str, str], cwd: Path, *, delay: float | None, watch: Path | None = None
) -> bool:
    """Run ``argv`` and SIGKILL its process group (uv children too) after ``delay`` s, or as soon as ``watch`` is
    replaced (a new inode: the atomic rename happened). True if it was killed while running."""
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if watch is not None:
            inode = watch.stat().st_ino
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    if watch.stat().st_ino != inode:
                        break
                except FileNotFoundError:
                    continue
        else:
            assert delay is not None
            time.sleep(delay)
        running = proc.poll() is None
        if running:
            os.killpg(proc.pid, signal.SIGKILL)
        return running
    finally:
        proc.wait(timeout=60)


def test_kill_9_during_fix_leaves_old_or_new_bytes_and_undo_restores(mnt_dir: Path, tmp_path: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        cache = drive.mountpoint / "uv-cache"
        # The expected new bytes: the same fix, run to completion in a copy of the HOME.
        shadow = tmp_path / "shadow-home"
        shadow.mkdir()
        (tmp_path / "shadow-tmp").mkdir()
        old = big_bashrc(shadow, cache)
        shadow_env = seed_env(shadow, tmp_path / "shadow-tmp")
        started = time.monotonic()
        assert_verified(cli(["fix", fix_id_for(shadow_env, mnt_dir), "--yes"], shadow_env, cwd=tmp_path))
        full_run = time.monotonic() - started
        new = (shadow / ".bashrc").read_bytes()
        assert new != old

        home = tmp_path / "home"
        home.mkdir()
        work = tmp_path / "work"
        work.mkdir()
        bashrc = home / ".bashrc"
        assert big_bashrc(home, cache) == old
        env = seed_env(home, work)
        fix_id = fix_id_for(env, mnt_dir)
        argv = [str(CLI), "fix", fix_id, "--yes"]

        seen: list[tuple[str, bool, str]] = []
        plans = [("timed", full_run * (i + 0.5) / KILLS_TIMED) for i in range(KILLS_TIMED)]
        plans += [("on-rename", 0.0)] * KILLS_ON_RENAME
        for number, (how, delay) in enumerate(plans):
            killed = kill_during(argv, env, work, delay=delay, watch=bashrc if how == "on-rename" else None)
            now = bashrc.read_bytes()
            state = "old" if now == old else "new" if now == new else f"OTHER ({len(now)} bytes)"
            seen.append((how, killed, state))
            assert state in ("old", "new"), f"kill {number} ({how}, {delay:.3f}s) left {state}: {seen}"
            proc = cli(["undo"], env, cwd=work)
            if state == "new":
                assert proc.returncode == 0, f"kill {number} ({how}): undo failed: {seen}\n{show(proc)}"
            assert bashrc.read_bytes() == old, f"kill {number} ({how}): undo did not restore: {seen}\n{show(proc)}"
        assert any(state == "new" and killed for _, killed, state in seen), seen
        left = [(e["id"], e["state"]) for e in history(env) if e["state"] in ("applied", "pending")]
        assert left == [], left
