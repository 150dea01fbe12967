"""Tests of the real-filesystem harness itself (tests/realfs/drives.py)."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from . import drives
from .drives import (
    BLKID_FSTYPE,
    KINDS,
    MOUNTINFO_FSTYPE,
    build_wheel,
    make_drive,
    mount_entry,
    need_real,
    requirement,
    run_uv,
    uv_env,
    yank,
)


def _require(kind: str) -> None:
    reason = requirement(kind)
    if reason:
        need_real(reason)


def _loop_devices() -> str:
    if drives.which("losetup") is None:
        return ""
    proc = subprocess.run(["losetup", "-a"], capture_output=True, text=True, check=False)
    return proc.stdout


@pytest.mark.parametrize("kind", KINDS)
def test_drive_mounts_writable_and_cleans_up(kind: str, tmp_path: Path) -> None:
    _require(kind)
    with make_drive(kind, tmp_path) as drive:
        entry = mount_entry(drive.mountpoint)
        assert entry is not None
        assert entry.fstype == MOUNTINFO_FSTYPE[kind]
        assert drive.kind == kind
        if kind == "tmpfs":
            assert drive.image is None
        else:
            assert drive.device.startswith("/dev/loop")
            assert drive.image is not None and drive.image.is_file()
            assert str(drive.image) in _loop_devices()
        scratch = drive.mountpoint / "scratch"
        scratch.mkdir()
        payload = os.urandom(70_000)
        (scratch / "f.bin").write_bytes(payload)
        os.sync()
        assert (scratch / "f.bin").read_bytes() == payload
        mountpoint, device, image = drive.mountpoint, drive.device, drive.image
    assert mount_entry(mountpoint) is None
    assert not mountpoint.exists()
    if image is not None:
        assert str(image) not in _loop_devices()
        assert device not in _loop_devices().split(":")[0::2]


@pytest.mark.parametrize("kind", sorted(BLKID_FSTYPE))
def test_blkid_names_real_filesystem(kind: str, tmp_path: Path) -> None:
    _require(kind)
    if drives.which("blkid") is None:
        need_real("blkid not found")
    with make_drive(kind, tmp_path, label="UVDGLBL") as drive:
        proc = subprocess.run(
            ["blkid", "-p", "-o", "export", drive.device],
            capture_output=True,
            text=True,
            check=False,
        )
        fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
        assert fields.get("TYPE") == BLKID_FSTYPE[kind], proc.stdout
        assert fields.get("LABEL") == "UVDGLBL", proc.stdout


def test_cleanup_runs_when_body_raises(tmp_path: Path) -> None:
    _require("ext4")
    seen: list[drives.Drive] = []
    with pytest.raises(RuntimeError, match="boom"), make_drive("ext4", tmp_path) as d:
        seen.append(d)
        raise RuntimeError("boom")
    assert mount_entry(seen[0].mountpoint) is None
    assert str(seen[0].image) not in _loop_devices()


def test_cleanup_when_mount_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mount that cannot happen still detaches its loop device."""
    _require("ext4")
    with (
        pytest.raises(ValueError, match="too long"),
        make_drive("ext4", tmp_path, label="x" * 40),
    ):
        pass  # label too long is refused before any work
    before = _loop_devices()

    def wrong_type(kind: str, device: str, mountpoint: Path, size_mb: int) -> list[str]:
        return ["mount", "-t", "xfs", device, str(mountpoint)]  # ext4 image as xfs

    monkeypatch.setattr(drives, "_mount_cmd", wrong_type)
    with pytest.raises(drives.DriveError), make_drive("ext4", tmp_path):
        pass
    assert _loop_devices() == before
    assert not list(tmp_path.glob("mnt-*"))


@pytest.mark.parametrize("kind", ["ext4", "exfat"])
def test_yank_lazy_then_cleanup(kind: str, tmp_path: Path) -> None:
    _require(kind)
    with make_drive(kind, tmp_path) as drive:
        (drive.mountpoint / "x").write_text("x")
        yank(drive)
        assert mount_entry(drive.mountpoint) is None
        image = drive.image
    assert str(image) not in _loop_devices()


def test_yank_kill_fuse(tmp_path: Path) -> None:
    _require("exfat")
    with make_drive("exfat", tmp_path) as drive:
        (drive.mountpoint / "x").write_text("x")
        yank(drive, how="kill")
        errno_seen = None
        for _ in range(100):
            try:
                os.stat(drive.mountpoint / "x")
            except OSError as exc:
                errno_seen = exc.errno
                break
            time.sleep(0.05)
        # ECONNABORTED right after the kill, ENOTCONN later; the mount stays.
        assert errno_seen in {errno.ECONNABORTED, errno.ENOTCONN}
        assert mount_entry(drive.mountpoint) is not None
    assert mount_entry(drive.mountpoint) is None


def test_requirement_reasons() -> None:
    assert "unknown" in (requirement("floppy") or "")
    for kind in KINDS:
        reason = requirement(kind)
        assert reason is None or reason.startswith(kind)


def test_need_real_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UVDG_REQUIRE_REAL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no toaster"):
        need_real("no toaster")


def test_need_real_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UVDG_REQUIRE_REAL", "1")
    with pytest.raises(pytest.fail.Exception, match="no toaster"):
        need_real("no toaster")


def test_build_wheel_is_valid(tmp_path: Path) -> None:
    whl = build_wheel(
        tmp_path,
        name="tiny-pkg",
        version="1.2.3",
        entry_points={"tiny": "tiny_pkg:main"},
        data_size=200_000,
    )
    assert whl.name == "tiny_pkg-1.2.3-py3-none-any.whl"
    with zipfile.ZipFile(whl) as zf:
        names = zf.namelist()
        record = zf.read("tiny_pkg-1.2.3.dist-info/RECORD").decode()
        for line in record.splitlines():
            path, digest, size = line.rsplit(",", 2)
            assert path in names
            if path.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = zf.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
            assert digest == "sha256=" + expected.rstrip(b"=").decode()
            assert int(size) == len(data)
        assert len(zf.read("tiny_pkg/data.bin")) == 200_000
        assert "tiny = tiny_pkg:main" in zf.read("tiny_pkg-1.2.3.dist-info/entry_points.txt").decode()


def test_uv_env_is_isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", "/somewhere/else")
    monkeypatch.setenv("UV_LINK_MODE", "symlink")
    env = uv_env(tmp_path / "home", UV_LINK_MODE="copy", NO_COLOR=None)
    assert env["HOME"] == str(tmp_path / "home")
    assert "UV_CACHE_DIR" not in env
    assert env["UV_LINK_MODE"] == "copy"
    assert env["UV_OFFLINE"] == "1"
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert "NO_COLOR" not in env
    for key in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_BIN_HOME"):
        assert env[key].startswith(env["HOME"])
        assert Path(env[key]).is_dir()


def test_uv_dirs_follow_isolated_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = uv_env(home)
    cache = run_uv(["cache", "dir"], env, cwd=tmp_path)
    assert cache.returncode == 0, cache.stderr
    assert cache.stdout.strip() == str(home / ".cache" / "uv")
    tool = run_uv(["tool", "dir"], env, cwd=tmp_path)
    assert tool.stdout.strip() == str(home / ".local" / "share" / "uv" / "tools")
    env2 = uv_env(home, UV_CACHE_DIR=tmp_path / "c", UV_TOOL_DIR=tmp_path / "t")
    assert run_uv(["cache", "dir"], env2).stdout.strip() == str(tmp_path / "c")
    assert run_uv(["tool", "dir"], env2).stdout.strip() == str(tmp_path / "t")


def test_wheel_installs_with_real_uv_on_local_disk(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    build_wheel(wheels, entry_points={"tinypkg": "tinypkg:main"}, data_size=100_000)
    env = uv_env(tmp_path / "home", UV_CACHE_DIR=tmp_path / "cache")
    venv = tmp_path / "venv"
    made = run_uv(["venv", "--python", drives.base_python(), venv], env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    inst = run_uv(
        [
            "pip",
            "install",
            "--python",
            venv / "bin" / "python",
            "--no-index",
            "--find-links",
            wheels,
            "tinypkg",
        ],
        env,
        cwd=tmp_path,
    )
    assert inst.returncode == 0, inst.stderr
    assert "+ tinypkg==0.1.0" in inst.stderr
    out = subprocess.run([venv / "bin" / "tinypkg"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "tinypkg 0.1.0"
    check = subprocess.run(
        [
            venv / "bin" / "python",
            "-c",
            "import tinypkg, pathlib; print(pathlib.Path(tinypkg.__file__).parent)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (Path(check.stdout.strip()) / "data.bin").stat().st_size == 100_000


def test_harness_runs_under_this_python() -> None:
    assert sys.version_info >= (3, 10)
