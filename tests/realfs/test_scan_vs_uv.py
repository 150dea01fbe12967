"""`uv-drive-guard scan` predicts, real uv 0.13.x confirms, on really mounted filesystems.

Each scenario first runs the CLI (`scan --json`, as a subprocess, in an isolated HOME with the
project's venv first on PATH so the scan finds the real uv) and asserts the predicted findings:
codes, severities, location paths, the fixes. Then it runs real uv in the same environment,
with the same settings (shell files are sourced, as a login shell would), and asserts that uv
does exactly what was predicted: fails with the predicted message, warns, or works silently.

Nothing touches the network: wheels are built locally, uv runs with ``UV_OFFLINE=1`` and
``--no-index --find-links``. Needs root, loop devices and FUSE; skips without them, or fails
when ``UVDG_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from . import drives
from .against_uv import (
    UV,
    W_HARDLINK,
    assert_silent,
    assert_tinypkg_runs,
    env_for,
    fix_slugs,
    install,
    loud,
    make_venv,
    normal,
    require,
    scan,
    show,
    under,
    uv,
    write_bashrc,
)
from .drives import base_python, make_drive, need_real

E_PERSIST = "Could not persist temporary file"
E_SYMLINK = "failed to symlink file"
E_MKDIR = "failed to create directory"
# The line of a predicted uv message that must show up in uv's real output.
KEY_PHRASES = (E_PERSIST, E_SYMLINK, W_HARDLINK, E_MKDIR)


# --- fixtures ---------------------------------------------------------------------------


# --- helpers ----------------------------------------------------------------------------


def key_phrase(uv_message: str) -> str:
    found = [p for p in KEY_PHRASES if p in uv_message]
    assert found, f"no known key line in the predicted uv message:\n{uv_message}"
    return found[0]


def assert_predicted(item: dict[str, Any], proc: subprocess.CompletedProcess[str], *, fails: bool) -> list[str]:
    """uv did what the finding says: failed (or worked, for a warning) and printed its key line.

    Returns the predicted lines that uv did not print word for word (modulo the
    `error:`/`cause:`/`Caused by:` prefixes and the `XXXXXX` / `...` placeholders); a test
    asserts that list is empty at its very end, after everything else it checks.
    """
    predicted = item["uv_message"]
    if fails:
        assert proc.returncode != 0, f"{item['code']} predicted a failure; uv worked:\n{show(proc)}"
    else:
        assert proc.returncode == 0, f"{item['code']} predicted a warning; uv failed:\n{show(proc)}"
    phrase = key_phrase(predicted)
    assert phrase in proc.stderr, f"predicted {phrase!r}, uv printed:\n{show(proc)}"
    real = "\n".join(normal(line) for line in proc.stderr.splitlines())
    missing = []
    for line in predicted.splitlines():
        want = normal(line)
        if not want:
            continue
        pattern = re.escape(want).replace("XXXXXX", r"[^`\s/]+").replace(r"\.\.\.", ".*?")
        if not re.search(pattern, real):
            missing.append(
                f"{item['code']}: predicted line {line.strip()!r} is not in uv's output:\n{show(proc)}"
                f"predicted uv_message:\n{predicted}"
            )
    return missing


def assert_verbatim(missing: list[str]) -> None:
    assert not missing, "uv's real message differs from the predicted one:\n" + "\n\n".join(missing)


def apply_unset(change: dict[str, Any]) -> None:
    """Apply an unset-env change the way a person would: delete that line of the file."""
    assert change["kind"] == "unset-env", change
    target = Path(change["target"])
    lines = target.read_text().splitlines(keepends=True)
    assert change["name"] in lines[change["line"] - 1], (change, lines)
    del lines[change["line"] - 1]
    target.write_text("".join(lines))


# --- (1), (2): the seed case: the cache on exFAT / FAT32 ---------------------------------


@pytest.mark.parametrize("kind", ["exfat", "vfat"])
def test_cache_on_fat_drive_is_an_error_that_uv_confirms(kind: str, mnt_dir: Path, home: Path, wheels: Path) -> None:
    require(kind)
    with make_drive(kind, mnt_dir, label="STICK") as drive:
        cache = drive.mountpoint / "uv-cache"
        bashrc, line = write_bashrc(home, "UV_CACHE_DIR", cache)
        env = env_for(home)

        # Automatic scope: the drive sits under /mnt and holds a directory the user set.
        rc, report = scan(env)
        mine = under(report, mnt_dir)
        assert loud(mine) == [("UVD006", "error", str(cache))], json.dumps(mine, indent=1)
        assert rc == 1
        item = mine[0]
        missing: list[str] = []
        assert item["volume"] == str(drive.mountpoint)
        assert item["location"]["role"] == "cache"
        assert item["location"]["source"] == {
            "kind": "shell-file",
            "file": str(bashrc),
            "line": line,
            "name": "UV_CACHE_DIR",
        }
        assert fix_slugs(item) == ["move-off-drive", "failure-hint"], item["fixes"]  # the hint cures nothing
        assert not any("copy" in f["id"] or "link-mode" in json.dumps(f) for f in item["fixes"])
        (change,) = item["fixes"][0]["changes"]
        assert (change["kind"], change["target"], change["line"], change["name"]) == (
            "unset-env",
            str(bashrc),
            line,
            "UV_CACHE_DIR",
        )
        # The scan with the drive named on the command line says the same.
        _, named = scan(env, drive.mountpoint)
        assert loud(under(named, mnt_dir)) == [("UVD006", "error", str(cache))]

        # Real uv, with the .bashrc sourced: every command that touches the cache fails ...
        local = home / "venv"
        proc = uv(make_venv(local), env, shell_file=bashrc)
        missing += assert_predicted(item, proc, fails=True)
        # ... and copy mode does not help: the failing step is inside the cache.
        proc = uv(make_venv(local), env_for(home, UV_LINK_MODE="copy"), shell_file=bashrc)
        missing += assert_predicted(item, proc, fails=True)
        proc = uv(install(local, wheels, "--link-mode", "copy"), env, shell_file=bashrc)
        assert proc.returncode != 0 and E_PERSIST in proc.stderr, show(proc)

        # The fix, applied as planned, makes uv work and the scan clean.
        apply_unset(change)
        proc = uv(make_venv(local), env, shell_file=bashrc)
        assert_silent(proc, "uv venv after the fix")
        proc = uv(install(local, wheels), env, shell_file=bashrc)
        assert_silent(proc, "uv pip install after the fix")
        assert_tinypkg_runs(local)
        rc, after = scan(env)
        assert loud(under(after, mnt_dir)) == []
        assert_verbatim(missing)


# --- (3): cache on the local disk, a venv on NTFS -----------------------------------------


def test_venv_on_ntfs_with_local_cache_warns_and_copy_mode_silences(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ntfs")
    with make_drive("ntfs", tmp_path, label="BIGDISK") as drive:
        env = env_for(home)
        venv = drive.mountpoint / "work" / "venv"
        assert_silent(uv(make_venv(venv), env), "uv venv on NTFS")  # ntfs-3g has symlinks

        rc, report = scan(env, drive.mountpoint)
        assert rc == 0
        mine = under(report, drive.mountpoint)
        assert loud(mine) == [("UVD003", "warning", str(venv))], json.dumps(mine, indent=1)
        item = mine[0]
        missing: list[str] = []
        assert item["location"]["role"] == "venv"
        assert item["volume"] == str(drive.mountpoint)
        assert "copy-mode" in fix_slugs(item), item["fixes"]
        copy_fix = next(f for f in item["fixes"] if "copy-mode" in f["id"])
        (change,) = copy_fix["changes"]
        user_config = home / ".config" / "uv" / "uv.toml"
        assert (change["kind"], change["target"], change["name"], change["value"]) == (
            "set-uv-setting",
            str(user_config),
            "link-mode",
            "copy",
        )

        proc = uv(install(venv, wheels), env)
        missing += assert_predicted(item, proc, fails=False)
        assert_tinypkg_runs(venv)
        proc = uv(install(venv, wheels, "--reinstall"), env_for(home, UV_LINK_MODE="copy"))
        assert_silent(proc, "UV_LINK_MODE=copy")

        # The planned fix (link-mode in the user's uv.toml) silences uv and the scan.
        user_config.parent.mkdir(parents=True, exist_ok=True)
        user_config.write_text(f'{change["name"]} = "{change["value"]}"\n')
        proc = uv(install(venv, wheels, "--reinstall"), env)
        assert_silent(proc, "link-mode = copy in uv.toml")
        _, after = scan(env, drive.mountpoint)
        assert loud(under(after, drive.mountpoint)) == []
        assert_verbatim(missing)


# --- (4): a uv project on FAT32 -----------------------------------------------------------

PYPROJECT = drives.PYPROJECT


@pytest.mark.parametrize("with_lock", [False, True], ids=["tool-uv", "tool-uv+lock"])
def test_project_on_fat32_cannot_get_its_venv(tmp_path: Path, home: Path, with_lock: bool) -> None:
    require("vfat")
    with make_drive("vfat", tmp_path, label="STICK") as drive:
        env = env_for(home)
        project = drive.mountpoint / "demo"
        project.mkdir()
        (project / "pyproject.toml").write_text(PYPROJECT)
        if with_lock:
            # A real lock file, made by uv where it can make one.
            shadow = tmp_path / "shadow"
            shadow.mkdir()
            (shadow / "pyproject.toml").write_text(PYPROJECT)
            proc = uv(["lock"], env, cwd=shadow)
            assert proc.returncode == 0, show(proc)
            shutil.copyfile(shadow / "uv.lock", project / "uv.lock")

        rc, report = scan(env, drive.mountpoint)
        assert rc == 1
        mine = under(report, drive.mountpoint)
        dot_venv = project / ".venv"
        assert loud(mine) == [("UVD005", "error", str(dot_venv))], json.dumps(mine, indent=1)
        item = mine[0]
        missing: list[str] = []
        assert item["location"]["role"] == "project-environment"
        assert item["location"]["project"] == str(project)
        assert "portable-drive" in fix_slugs(item) and "portable" in fix_slugs(item)
        assert not any("copy" in slug for slug in fix_slugs(item))

        proc = uv(["venv", "--python", base_python()], env, cwd=project)
        missing += assert_predicted(item, proc, fails=True)

        # The planned fix: the environment lives on the internal disk, the project stays
        # (test_portable.py applies it and works in the project from real shells).
        fix = next(f for f in item["fixes"] if re.fullmatch(r"uvd005-portable-[0-9a-f]{6}", f["id"]))
        change = fix["changes"][0]
        assert change["kind"] == "portable-envs" and change["name"] == "demo"
        assert not Path(change["value"]).is_relative_to(drive.mountpoint)
        fixed = env_for(home, UV_PROJECT_ENVIRONMENT=change["value"])
        proc = uv(["sync", "--python", base_python()], fixed, cwd=project)
        assert proc.returncode == 0, show(proc)
        assert (Path(change["value"]) / "bin" / "python").exists()
        assert_verbatim(missing)


# --- (5): clean setups ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ntfs", "btrfs"])
def test_cache_and_venv_on_the_same_drive_warns_only_for_elsewhere(
    kind: str, tmp_path: Path, home: Path, wheels: Path
) -> None:
    """The venv on the drive installs silently. With nothing installed elsewhere the cache is
    an info line (real uv warns about nothing); a venv on the internal disk, once the scan
    knows of it, gets the copy warning, which real uv confirms."""
    require(kind)
    with make_drive(kind, tmp_path, label="SHARED") as drive:
        cache = drive.mountpoint / "uv-cache"
        bashrc, _ = write_bashrc(home, "UV_CACHE_DIR", cache)
        env = env_for(home)
        venv = drive.mountpoint / "venv"
        assert_silent(uv(make_venv(venv), env, shell_file=bashrc), f"uv venv on {kind}")

        rc, report = scan(env, drive.mountpoint)
        assert loud(report["findings"]) == [], json.dumps(report["findings"], indent=1)
        infos = [(f["code"], f["location"]["path"]) for f in report["findings"] if f["severity"] == "info"]
        assert ("UVD003", str(cache)) in infos
        assert rc == 0
        roles = {(loc["role"], loc["path"], loc["volume"]) for loc in report["locations"]}
        assert ("cache", str(cache), str(drive.mountpoint)) in roles
        assert ("venv", str(venv), str(drive.mountpoint)) in roles

        proc = uv(install(venv, wheels), env, shell_file=bashrc)
        assert_silent(proc, f"install with cache and venv on {kind}")
        local = home / "local-venv"
        assert_silent(uv(make_venv(local), env, shell_file=bashrc), "uv venv on the internal disk")
        _, named = scan(env, drive.mountpoint, local)
        assert loud(named["findings"]) == [("UVD003", "warning", str(local))], json.dumps(named["findings"], indent=1)
        proc = uv(install(local, wheels), env, shell_file=bashrc)
        assert proc.returncode == 0 and "Failed to hardlink files" in proc.stderr, show(proc)
        assert_tinypkg_runs(venv)
        assert (cache / "CACHEDIR.TAG").exists()


def test_project_with_its_own_cache_on_ext4_is_clean(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    with make_drive("ext4", tmp_path, label="PROJECTS") as drive:
        env = env_for(home)
        project = drive.mountpoint / "demo"
        project.mkdir()
        (project / "pyproject.toml").write_text(PYPROJECT)
        cache = drive.mountpoint / ".uv-cache"
        (project / "uv.toml").write_text(f'cache-dir = "{cache}"\n')

        rc, report = scan(env, drive.mountpoint)
        assert loud(report["findings"]) == [], json.dumps(report["findings"], indent=1)
        assert rc == 0
        project_caches = [
            loc for loc in report["locations"] if loc["role"] == "cache" and loc["project"] == str(project)
        ]
        assert [(loc["path"], loc["volume"]) for loc in project_caches] == [(str(cache), str(drive.mountpoint))], (
            report["locations"]
        )

        proc = uv(["cache", "dir"], env, cwd=project)
        assert proc.stdout.strip() == str(cache), show(proc)
        assert_silent(uv(["venv", "--python", base_python()], env, cwd=project), "uv venv on ext4")
        venv = project / ".venv"
        proc = uv(["pip", "install", "--no-index", "--find-links", wheels, "tinypkg"], env, cwd=project)
        assert_silent(proc, "install with the project's cache on the same ext4 drive")
        assert_tinypkg_runs(venv)
        assert (cache / "CACHEDIR.TAG").exists()


def test_drive_without_anything_uv_is_clean(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", tmp_path, label="PHOTOS") as drive:
        (drive.mountpoint / "DCIM").mkdir()
        (drive.mountpoint / "DCIM" / "IMG_0001.JPG").write_bytes(b"\xff\xd8\xff" + b"\0" * 1000)
        (drive.mountpoint / "notes.txt").write_text("nothing to see\n")
        env = env_for(home)

        rc, report = scan(env, drive.mountpoint)
        assert report["findings"] == [], json.dumps(report["findings"], indent=1)
        assert rc == 0
        vol = next(v for v in report["volumes"] if v["mountpoint"] == str(drive.mountpoint))
        assert vol["in_scope"] and vol["fstype"] == "exfat"
        assert not any(a["volume"] == str(drive.mountpoint) for a in report["artefacts"])

        # uv, whose directories are all on the internal disk, is unaffected by the drive.
        venv = home / "venv"
        assert_silent(uv(make_venv(venv), env), "uv venv locally")
        assert_silent(uv(install(venv, wheels), env), "install locally")


# --- (6): UV_TOOL_DIR on exFAT ------------------------------------------------------------


def test_tool_dir_on_exfat_is_an_error_that_uv_confirms(mnt_dir: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="TOOLS") as drive:
        tools = drive.mountpoint / "uv-tools"
        bashrc, line = write_bashrc(home, "UV_TOOL_DIR", tools)
        env = env_for(home)

        rc, report = scan(env)
        assert rc == 1
        mine = under(report, mnt_dir)
        errors = [f for f in mine if f["severity"] == "error"]
        assert [f["location"]["path"] for f in errors] == [str(tools)], json.dumps(mine, indent=1)
        assert not [f for f in mine if f["severity"] == "warning"], json.dumps(mine, indent=1)
        item = errors[0]
        missing: list[str] = []
        assert item["location"]["role"] == "tool-dir"
        assert item["location"]["source"]["file"] == str(bashrc)
        assert item["location"]["source"]["line"] == line
        assert "move-off-drive" in fix_slugs(item)
        assert not any("copy" in slug for slug in fix_slugs(item))

        args: list[str | Path] = [
            "tool",
            "install",
            "--no-index",
            "--find-links",
            wheels,
            "--python",
            base_python(),
            "tinypkg",
        ]
        proc = uv(args, env, shell_file=bashrc)
        assert proc.returncode != 0, show(proc)
        # What uv 0.13.9 really prints (groundtruth E-TOOLDIR): the tool dir's lock file.
        assert re.search(rf"{E_PERSIST} `{re.escape(str(tools))}/\.tmp", proc.stderr), show(proc)
        missing += assert_predicted(item, proc, fails=True)
        assert_verbatim(missing)


# --- (7): a configured directory on a drive that is not mounted ---------------------------


def test_cache_on_a_missing_drive_warns(mnt_dir: Path, home: Path) -> None:
    if os.geteuid() != 0 or drives.which("setpriv") is None:
        need_real("needs root and setpriv (util-linux) to run uv as another user")
    cache = mnt_dir / "STICK" / "uv-cache"
    bashrc, line = write_bashrc(home, "UV_CACHE_DIR", cache)
    env = env_for(home)

    _, report = scan(env)
    mine = under(report, mnt_dir)
    assert loud(mine) == [("UVD011", "warning", str(cache))], json.dumps(mine, indent=1)
    item = mine[0]
    assert item["volume"] is None
    assert item["location"]["source"]["file"] == str(bashrc)
    assert item["location"]["source"]["line"] == line
    assert fix_slugs(item) == ["fallback"], item["fixes"]
    missing: list[str] = []
    (change,) = item["fixes"][0]["changes"]
    assert (change["name"], change["value"]) == ("UV_CACHE_DIR", str(home / ".cache" / "uv"))

    # A user who cannot write under the mount root gets the predicted permission error.
    nobody_home = Path(os.environ.get("TMPDIR", "/tmp")) / f"uvdg-nobody-{uuid.uuid4().hex[:8]}"
    nobody_home.mkdir(mode=0o777)
    try:
        nobody_home.chmod(0o777)
        nobody_env = env_for(nobody_home)
        for sub in nobody_home.rglob("*"):
            sub.chmod(0o777)
        bashrc_copy = nobody_home / ".bashrc"
        shutil.copyfile(bashrc, bashrc_copy)
        bashrc_copy.chmod(0o644)
        argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        proc = subprocess.run(
            [
                *argv,
                "bash",
                "-c",
                f'. {shlex.quote(str(bashrc_copy))} && exec "$@"',
                "uv",
                str(UV),
                "venv",
                "--python",
                base_python(),
                str(nobody_home / "venv"),
            ],
            env=nobody_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            cwd=nobody_home,
            stdin=subprocess.DEVNULL,
        )
        missing += assert_predicted(item, proc, fails=True)
    finally:
        shutil.rmtree(nobody_home, ignore_errors=True)
    assert not cache.exists()

    # root gets the other predicted outcome: a fresh cache on the internal disk, under the
    # empty mount point, silently.
    venv = home / "venv"
    proc = uv(make_venv(venv), env, shell_file=bashrc)
    assert_silent(proc, "uv venv with the cache on a missing drive, as root")
    assert (cache / "CACHEDIR.TAG").exists()
    assert drives.mount_entry(cache.parent) is None
    assert os.stat(cache).st_dev == os.stat(mnt_dir).st_dev  # the disk under /mnt, no drive
    assert_verbatim(missing)
