"""Places that are no disk of this computer, or split across several, against real uv: predict
with `scan --json`, then let uv run (the matrix's shape, one module).

- overlayfs (`mount -t overlay`): a cache and a venv made in the lower layer work; uv 0.2's
  `toolchains` directory in the lower layer stops `uv python install` (UVD024);
- sshfs over 127.0.0.1 (an sshd started here, with throwaway keys): a project's environment there
  cannot be used (UVD025); uv's cache there works;
- NFS through the kernel's server and client on 127.0.0.1, where the kernel has them (UVD023);
- TMPDIR on a `noexec` tmpfs: with UV_NO_CACHE `uvx` fails (UVD016, error), without it uv works
  and only the warning about what runs from TMPDIR is said;
- a Python install split across volumes: `<install dir>/.temp` a mount of its own fails (UVD028),
  `~/.cache` and `~/.local` on two loop devices works. `uv python install` runs offline from a
  download list naming a local archive (`UV_PYTHON_DOWNLOADS_JSON_URL`, a `file://` URL).

Every failure uv prints is also read by `explain`, which must name the rule the scan predicted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.core import explain

from . import against_uv, drives
from .against_uv import VENV_BIN
from .drives import base_python, build_wheel, make_drive, need_real, requirement, run_uv, uv_env
from .uv_versions import uv_bin_dir

PYPROJECT = drives.PYPROJECT
OLD_UV = "0.9.17"


def scan(env: dict[str, str], cwd: Path, *paths: Path) -> dict[str, Any]:
    """`scan --json` run from `cwd` (the exit status checked against the errors found)."""
    return against_uv.scan(env, *paths, cwd=cwd)[1]


def _root() -> None:
    if os.geteuid() != 0:
        need_real("mounting needs root")
    if not (VENV_BIN / "uv-drive-guard").is_file():
        need_real(f"the uv-drive-guard CLI is not installed beside {VENV_BIN}")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {done.stderr or done.stdout}")
    return done


@contextlib.contextmanager
def mounted(*argv: str, at: Path) -> Iterator[Path]:
    """Mount with `argv` (ending in the mount point `at`), always unmounted after."""
    at.mkdir(parents=True, exist_ok=True)
    _run(*argv)
    try:
        yield at
    finally:
        for _ in range(20):
            if _run("umount", str(at), check=False).returncode == 0 or not drives.is_mounted(at):
                break
            time.sleep(0.2)
        if drives.is_mounted(at):
            _run("umount", "-l", str(at), check=False)


def env_for(home: Path, uv_dir: Path = VENV_BIN, **overrides: str | None) -> dict[str, str]:
    env = uv_env(home, **overrides)
    env["PATH"] = os.pathsep.join(dict.fromkeys([str(uv_dir), str(VENV_BIN), env["PATH"]]))
    return env


def findings(report: dict[str, Any], under: Path, *codes: str) -> list[tuple[str, str, str]]:
    """(code, severity, location path) of the findings about places below `under`."""
    out = []
    for item in report["findings"]:
        path = (item.get("location") or {}).get("path") or ""
        inside = path == str(under) or path.startswith(f"{under}/")
        if inside and (not codes or item["code"] in codes):
            out.append((item["code"], item["severity"], path))
    return out


def errors(report: dict[str, Any], under: Path) -> list[tuple[str, str, str]]:
    return [f for f in findings(report, under) if f[1] == "error"]


def explained(stderr: str) -> set[str]:
    return {code for message in explain.read(stderr) for code in message.codes}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("nfs-wheels")
    build_wheel(where, entry_points={"tinypkg": "tinypkg:main"})
    return where


# --- overlayfs ------------------------------------------------------------------------------


@contextlib.contextmanager
def overlay(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(lower, merged): fill `lower` before entering the `with` body's mount."""
    lower, upper, work, merged = (tmp_path / n for n in ("lower", "upper", "work", "merged"))
    for d in (lower, upper, work):
        d.mkdir(exist_ok=True)
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    with mounted("mount", "-t", "overlay", "overlay", "-o", options, str(merged), at=merged):
        yield lower, merged


def _overlay_ready() -> None:
    _root()
    if "overlay" not in Path("/proc/filesystems").read_text():
        need_real("the kernel has no overlayfs")


def test_overlay_cache_and_venv_from_the_lower_layer_work(tmp_path: Path, wheels: Path) -> None:
    """An image's cache and venv, used in a container: nothing is predicted, and uv works."""
    _overlay_ready()
    home = tmp_path / "home"
    lower = tmp_path / "lower"
    made = run_uv(["venv", "--python", base_python(), lower / "venv"], env_for(home, UV_CACHE_DIR=str(lower / "c")))
    assert made.returncode == 0, made.stderr
    installed = run_uv(
        ["pip", "install", "--no-index", "--find-links", wheels, "--python", lower / "venv", "tinypkg"],
        env_for(home, UV_CACHE_DIR=str(lower / "c")),
    )
    assert installed.returncode == 0, installed.stderr
    with overlay(tmp_path) as (_, merged):
        env = env_for(home, UV_CACHE_DIR=str(merged / "c"))
        report = scan(env, home, merged / "venv")
        assert "overlay" in {v["fstype"] for v in report["volumes"] if v["mountpoint"] == str(merged)}
        assert errors(report, merged) == [], report["findings"]
        args = ["pip", "install", "--reinstall", "--no-index", "--find-links", wheels, "--python", merged / "venv"]
        again = run_uv([*args, "tinypkg"], env)
        assert again.returncode == 0, again.stderr
        cleared = run_uv(["venv", "--clear", "--python", base_python(), merged / "venv"], env)
        assert cleared.returncode == 0, cleared.stderr


def test_overlay_refuses_to_rename_uvs_old_toolchains_directory(tmp_path: Path) -> None:
    """uv renames `toolchains` to `python` (ManagedPythonInstallations::init): EXDEV on a lower dir."""
    _overlay_ready()
    home = tmp_path / "home"
    (tmp_path / "lower" / "data" / "uv" / "toolchains" / "cpython-3.12.0-linux-x86_64-gnu").mkdir(parents=True)
    with overlay(tmp_path) as (_, merged):
        env = env_for(home, XDG_DATA_HOME=str(merged / "data"))
        report = scan(env, home)
        python = merged / "data" / "uv" / "python"
        assert ("UVD024", "error", str(python)) in findings(report, merged), report["findings"]
        done = run_uv(["python", "install", "3.12"], env)
        assert done.returncode != 0
        assert "Invalid cross-device link (os error 18)" in done.stderr, done.stderr
        assert "UVD024" in explained(done.stderr), done.stderr


# --- sshfs over the loopback address --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sshd(where: Path) -> Iterator[tuple[int, Path]]:
    """An sshd on 127.0.0.1 only, its host key and the one user key made here; stopped after."""
    where.mkdir(parents=True)
    for name in ("host", "user"):
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(where / name))
    shutil.copyfile(where / "user.pub", where / "authorized_keys")
    port = _free_port()
    (where / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {where / 'host'}\n"
        f"AuthorizedKeysFile {where / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        f"PidFile {where / 'sshd.pid'}\nSubsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    daemon = subprocess.Popen(
        [drives.which("sshd") or "/usr/sbin/sshd", "-D", "-e", "-f", str(where / "sshd_config")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(where / "sshd.log").open("wb"),
    )
    try:
        for _ in range(50):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield port, where / "user"
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


@pytest.fixture(scope="module")
def share(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder served over sftp by an sshd of our own, mounted with sshfs's defaults."""
    _root()
    for tool in ("sshd", "sshfs", "ssh-keygen", "fusermount"):
        if drives.which(tool) is None:
            need_real(f"{tool} not found (packages openssh-server, sshfs)")
    base = tmp_path_factory.mktemp("sshfs")
    remote, mountpoint = base / "remote", base / "lab"
    remote.mkdir()
    with sshd(base / "ssh") as (port, key):
        options = f"IdentityFile={key},StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes"
        argv = ("sshfs", "-p", str(port), "-o", options, f"root@127.0.0.1:{remote}", str(mountpoint))
        mountpoint.mkdir()
        _run(*argv)
        try:
            yield mountpoint
        finally:
            _run("fusermount", "-u", str(mountpoint), check=False)
            if drives.is_mounted(mountpoint):
                _run("umount", "-l", str(mountpoint), check=False)


@pytest.mark.parametrize("version", ["venv", OLD_UV])
def test_sshfs_environment_links_cannot_be_read_back(share: Path, tmp_path: Path, version: str) -> None:
    uv_dir = uv_bin_dir(version)
    if uv_dir is None:
        need_real(f"uv {version} is not installed in .uv-versions")
    home = tmp_path / "home"
    project = share / f"demo-{version}"
    project.mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT)
    env = env_for(home, uv_dir)
    report = scan(env, home, project)
    mount = next(v for v in report["volumes"] if v["mountpoint"] == str(share))
    assert mount["fstype"] == "fuse.sshfs" and mount["capabilities"]["symlink_follow"] is False
    assert ("UVD025", "error", str(project / ".venv")) in findings(report, share), report["findings"]
    assert not findings(report, share, "UVD016"), "sshfs is no nosymfollow mount"
    synced = run_uv(["sync", "--python", base_python()], env, cwd=project, uv=str(uv_dir / "uv"))
    ran = run_uv(["run", "python", "-c", "print(1)"], env, cwd=project, uv=str(uv_dir / "uv"))
    stderr = synced.stderr + ran.stderr
    assert ran.returncode != 0, stderr
    assert "canonicalize" in stderr and "Operation not permitted (os error 1)" in stderr, stderr
    assert "UVD025" in explained(stderr), stderr


def test_sshfs_cache_works(share: Path, tmp_path: Path, wheels: Path) -> None:
    home = tmp_path / "home"
    cache = share / "uv-cache"
    venv = home / "venv"
    env = env_for(home, UV_CACHE_DIR=str(cache))
    assert run_uv(["venv", "--python", base_python(), venv], env).returncode == 0
    report = scan(env, home, venv)
    assert errors(report, share) == [], report["findings"]
    done = run_uv(["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, "tinypkg"], env)
    assert done.returncode == 0, done.stderr


# --- NFS over the loopback address ----------------------------------------------------------


def nfs_unavailable() -> str | None:
    """Why no NFS can be mounted here: the kernel's client and server are what is needed."""
    names = Path("/proc/filesystems").read_text().split()
    modules = Path("/lib/modules") / os.uname().release / "kernel" / "fs" / "nfs"
    if "nfs4" not in names and "nfs" not in names and not modules.is_dir():
        return f"the kernel ({os.uname().release}) has no NFS client: no nfs in /proc/filesystems, no module to load"
    if "nfsd" not in names and not (modules.parent / "nfsd").is_dir():
        return f"the kernel ({os.uname().release}) has no NFS server (nfsd)"
    return None


@contextlib.contextmanager
def nfs_export(base: Path) -> Iterator[Path]:
    """/export served by the kernel's nfsd to 127.0.0.1 only, mounted with NFSv4."""
    export, mountpoint = base / "export", base / "nfs"
    export.mkdir()
    _run("mount", "-t", "nfsd", "nfsd", "/proc/fs/nfsd", check=False)
    _run("exportfs", "-o", "rw,no_root_squash,insecure,fsid=0,no_subtree_check", f"127.0.0.1:{export}")
    _run("rpc.nfsd", "-N", "3", "1")
    mountd = subprocess.Popen(["rpc.mountd", "-F", "-N", "3"], stdin=subprocess.DEVNULL)
    try:
        with mounted("mount", "-t", "nfs4", "-o", "vers=4.2", "127.0.0.1:/", str(mountpoint), at=mountpoint):
            yield mountpoint
    finally:
        mountd.terminate()
        mountd.wait(timeout=10)
        _run("exportfs", "-u", f"127.0.0.1:{export}", check=False)
        _run("rpc.nfsd", "0", check=False)


def test_nfs_cache_is_warned_about_and_uv_works(tmp_path: Path, wheels: Path) -> None:
    _root()
    reason = nfs_unavailable()
    if reason:  # the kernel's doing, not a missing package: said as a skip, in CI too
        pytest.skip(reason)
    home = tmp_path / "home"
    with nfs_export(tmp_path) as mountpoint:
        env = env_for(home, UV_CACHE_DIR=str(mountpoint / "uv-cache"))
        venv = home / "venv"
        assert run_uv(["venv", "--python", base_python(), venv], env).returncode == 0
        report = scan(env, home, venv)
        assert ("UVD023", "warning", str(mountpoint / "uv-cache")) in findings(report, mountpoint)
        assert errors(report, mountpoint) == [], report["findings"]
        done = run_uv(["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, "tinypkg"], env)
        assert done.returncode == 0, done.stderr


# --- TMPDIR on a noexec mount ---------------------------------------------------------------


@pytest.mark.parametrize("no_cache", [True, False], ids=["UV_NO_CACHE", "cache"])
def test_tmpdir_on_a_noexec_mount(tmp_path: Path, wheels: Path, no_cache: bool) -> None:
    _root()
    home = tmp_path / "home"
    with mounted(
        "mount", "-t", "tmpfs", "-o", "noexec,size=64m", "tmpfs", str(tmp_path / "tmp"), at=tmp_path / "tmp"
    ) as tmp:
        env = env_for(home, TMPDIR=str(tmp), UV_NO_CACHE="1" if no_cache else None)
        report = scan(env, home)
        said = findings(report, tmp, "UVD016")
        # `scan PATH` judges what uv uses for that place: the temporary directory too
        assert findings(scan(env, home, home), tmp, "UVD016") == said
        if no_cache:
            assert said == [("UVD016", "error", str(tmp))], report["findings"]
        else:
            assert said == [("UVD016", "warning", str(tmp))], report["findings"]
            assert errors(report, tmp) == [], report["findings"]
        args = ["tool", "run", "--no-index", "--find-links", wheels, "--python", base_python(), "tinypkg"]
        done = run_uv(args, env, cwd=home)
        if no_cache:
            assert done.returncode != 0 and "Permission denied (os error 13)" in done.stderr, done.stderr
            assert "UVD016" in explained(done.stderr), done.stderr
        else:  # uv itself works; what the warning names (`uv self update`, a backend's programs) is not run here
            assert done.returncode == 0, done.stderr


# --- a Python install split across volumes --------------------------------------------------


def python_download(where: Path) -> Path:
    """A download list with one Python build, a local archive uv unpacks as it would a real one
    (a `python/` tree with bin/, the stdlib folder uv writes EXTERNALLY-MANAGED into, and the
    `_sysconfigdata_` uv reads): `uv python install 3.12.99` works offline."""
    tree = where / "build" / "python"
    (tree / "bin").mkdir(parents=True)
    (tree / "lib" / "python3.12").mkdir(parents=True)
    shutil.copyfile(os.path.realpath(base_python()), tree / "bin" / "python3.12")
    (tree / "bin" / "python3.12").chmod(0o755)
    (tree / "bin" / "python3").symlink_to("python3.12")
    (tree / "lib" / "python3.12" / "_sysconfigdata__linux_x86_64-linux-gnu.py").write_text(
        "# system configuration generated and used by the sysconfig module\nbuild_time_vars = {}\n"
    )
    archive = where / "cpython-3.12.99-x86_64-unknown-linux-gnu-install_only.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tree, arcname="python")
    key = "cpython-3.12.99-linux-x86_64-gnu"
    entry = {
        "name": "cpython",
        "arch": {"family": "x86_64", "variant": None},
        "os": "linux",
        "libc": "gnu",
        "major": 3,
        "minor": 12,
        "patch": 99,
        "prerelease": "",
        "url": archive.as_uri(),
        "sha256": None,
        "variant": None,
        "build": "20990101",
    }
    listing = where / "downloads.json"
    listing.write_text(json.dumps({key: entry}))
    return listing


def _x86_64() -> None:
    if os.uname().machine != "x86_64":
        need_real(f"the local Python build is an x86_64 one, not {os.uname().machine}")


@pytest.mark.parametrize("version", ["venv", OLD_UV])
def test_python_install_with_its_temporary_directory_on_another_volume(tmp_path: Path, version: str) -> None:
    _root()
    _x86_64()
    uv_dir = uv_bin_dir(version)
    if uv_dir is None:
        need_real(f"uv {version} is not installed in .uv-versions")
    home = tmp_path / "home"
    listing = python_download(tmp_path)
    python = home / ".local" / "share" / "uv" / "python"
    with mounted("mount", "-t", "tmpfs", "tmpfs", str(python / ".temp"), at=python / ".temp"):
        env = env_for(home, uv_dir, UV_PYTHON_DOWNLOADS_JSON_URL=str(listing), UV_PYTHON_DOWNLOADS="manual")
        report = scan(env, home)
        assert ("UVD028", "error", str(python)) in findings(report, python), report["findings"]
        done = run_uv(["python", "install", "3.12.99"], env, uv=str(uv_dir / "uv"))
        assert done.returncode != 0 and "Invalid cross-device link (os error 18)" in done.stderr, done.stderr
        assert "UVD028" in explained(done.stderr), done.stderr


def test_cache_and_local_on_two_volumes_install_python(tmp_path: Path) -> None:
    """uv #6036's setup: fixed in 0.2.36 (PR #6043); every release here unpacks in `.temp`."""
    _root()
    _x86_64()
    reason = requirement("ext4")
    if reason:
        need_real(reason)
    home = tmp_path / "home"
    home.mkdir()
    listing = python_download(tmp_path)
    with (
        make_drive("ext4", tmp_path / "a", size_mb=64, label=None, name="cache-volume") as cache,
        make_drive("ext4", tmp_path / "b", size_mb=64, label=None, name="local-volume") as local,
    ):
        env = env_for(home, UV_PYTHON_DOWNLOADS_JSON_URL=str(listing), UV_PYTHON_DOWNLOADS="manual")
        env.update(XDG_CACHE_HOME=str(cache.mountpoint), XDG_DATA_HOME=str(local.mountpoint / "share"))
        report = scan(env, home)
        assert not [f for f in report["findings"] if f["code"] == "UVD028"], report["findings"]
        done = run_uv(["python", "install", "3.12.99"], env)
        assert done.returncode == 0, done.stderr
        assert (local.mountpoint / "share" / "uv" / "python" / "cpython-3.12.99-linux-x86_64-gnu").is_dir()
