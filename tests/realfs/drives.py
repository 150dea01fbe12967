"""Real filesystems from image files, tiny wheels and a clean real uv, for tests.

Everything here runs real tools: ``mkfs.*``, ``losetup``, the FUSE mounters
(``mount.exfat-fuse``, ``fusefat``, ``ntfs-3g``), ``mount`` and ``uv`` itself.
Nothing reaches the network.

Typical use::

    reason = requirement("exfat")
    if reason:
        need_real(reason)
    with make_drive("exfat", tmp_path) as drive:
        (drive.mountpoint / "x").write_text("hi")

``need_real`` skips, or fails when ``UVDG_REQUIRE_REAL=1`` (CI), so a machine
that cannot mount never passes silently there.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

KINDS: tuple[str, ...] = ("exfat", "vfat", "ntfs", "btrfs", "ext4", "xfs", "tmpfs")
FUSE_KINDS: frozenset[str] = frozenset({"exfat", "vfat", "ntfs"})
LOOP_KINDS: frozenset[str] = frozenset(KINDS) - {"tmpfs"}

#: What /proc/self/mountinfo names as the filesystem type of each kind.
MOUNTINFO_FSTYPE: dict[str, str] = {
    "exfat": "fuseblk",
    "vfat": "fuse.fusefat",
    "ntfs": "fuseblk",
    "btrfs": "btrfs",
    "ext4": "ext4",
    "xfs": "xfs",
    "tmpfs": "tmpfs",
}

#: What ``lsblk -no FSTYPE`` / ``blkid -p`` call the filesystem of each kind.
BLKID_FSTYPE: dict[str, str] = {
    "exfat": "exfat",
    "vfat": "vfat",
    "ntfs": "ntfs",
    "btrfs": "btrfs",
    "ext4": "ext4",
    "xfs": "xfs",
}

# Image sizes in MiB: xfsprogs >= 5.19 refuses filesystems under 300 MiB,
# btrfs wants more than ~110 MiB. Images are sparse, so size costs little.
DEFAULT_SIZE_MB: dict[str, int] = {
    "exfat": 256,
    "vfat": 256,
    "ntfs": 256,
    "btrfs": 256,
    "ext4": 256,
    "xfs": 320,
    "tmpfs": 256,
}

_MKFS: dict[str, str] = {
    "exfat": "mkfs.exfat",
    "vfat": "mkfs.vfat",
    "ntfs": "mkfs.ntfs",
    "btrfs": "mkfs.btrfs",
    "ext4": "mkfs.ext4",
    "xfs": "mkfs.xfs",
}

_MOUNTER: dict[str, str] = {
    "exfat": "mount.exfat-fuse",
    "vfat": "fusefat",
    "ntfs": "ntfs-3g",
    "btrfs": "mount",
    "ext4": "mount",
    "xfs": "mount",
    "tmpfs": "mount",
}

_SBIN_DIRS = (
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
)

MOUNT_TIMEOUT_S = 15.0
TOOL_TIMEOUT_S = 120.0
UV_TIMEOUT_S = 300.0


class DriveError(RuntimeError):
    """A tool needed to make, mount or unmount a drive failed."""


@dataclass(frozen=True)
class Drive:
    """A mounted test filesystem.

    ``device`` is the loop device (``/dev/loopN``) or ``"tmpfs"``; ``image`` is the
    backing image file, or ``None`` for tmpfs.
    """

    mountpoint: Path
    device: str
    image: Path | None
    kind: str


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/self/mountinfo, the parts tests look at."""

    mountpoint: str
    fstype: str
    source: str
    options: str
    super_options: str


# ---------------------------------------------------------------------------
# Environment checks


def which(tool: str) -> str | None:
    """Find ``tool`` on PATH or in the usual sbin directories."""
    found = shutil.which(tool)
    if found:
        return found
    for d in _SBIN_DIRS:
        candidate = Path(d) / tool
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def requirement(kind: str) -> str | None:
    """Why a drive of ``kind`` cannot be made here, or ``None`` if it can."""
    if kind not in KINDS:
        return f"unknown drive kind {kind!r} (known: {', '.join(KINDS)})"
    if os.geteuid() != 0:
        return f"{kind}: mounting needs root (euid {os.geteuid()})"
    if not sys.platform.startswith("linux"):
        return f"{kind}: real mounts are only set up on Linux, not {sys.platform}"
    if which("mount") is None or which("umount") is None:
        return f"{kind}: mount/umount not found"
    if kind in FUSE_KINDS:
        fuse = Path("/dev/fuse")
        if not fuse.exists():
            return f"{kind}: /dev/fuse is missing (FUSE unavailable)"
        try:
            fd = os.open(fuse, os.O_RDWR)
        except OSError as exc:
            return f"{kind}: /dev/fuse cannot be opened: {exc}"
        os.close(fd)
    mkfs = _MKFS.get(kind)
    if mkfs is not None and which(mkfs) is None:
        return f"{kind}: {mkfs} not found (install the package that provides it)"
    mounter = _MOUNTER[kind]
    if which(mounter) is None:
        return f"{kind}: {mounter} not found"
    if kind in LOOP_KINDS:
        if which("losetup") is None:
            return f"{kind}: losetup not found"
        if not Path("/dev/loop-control").exists():
            return f"{kind}: /dev/loop-control is missing (no loop devices)"
        probe = subprocess.run(
            [which("losetup") or "losetup", "-f"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            err = probe.stderr.strip()
            return f"{kind}: no free loop device (losetup -f: {err})"
    if kind in {"btrfs", "xfs", "ext4"} and not _kernel_has(kind):
        return f"{kind}: the kernel has no {kind} driver (not in /proc/filesystems)"
    fuse_type = "fuse" if kind == "vfat" else "fuseblk"
    if kind in FUSE_KINDS and not _kernel_has(fuse_type):
        return f"{kind}: the kernel has no {fuse_type} support"
    return None


def _kernel_has(fstype: str) -> bool:
    try:
        text = Path("/proc/filesystems").read_text()
    except OSError:
        return False
    names = {line.split()[-1] for line in text.splitlines() if line.strip()}
    if fstype in names:
        return True
    # Modules may load on demand; trust modprobe's module list when present.
    release = os.uname().release
    return any(Path(f"/lib/modules/{release}/kernel/fs/{fstype}").glob("*.ko*"))


def stop_daemon(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM, as a session's end sends it; killed only if it does not stop in time."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def need_real(reason: str) -> None:
    """Skip with ``reason``, or fail when ``UVDG_REQUIRE_REAL=1`` (CI)."""
    if os.environ.get("UVDG_REQUIRE_REAL") == "1":
        pytest.fail(f"UVDG_REQUIRE_REAL=1 but real test cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


# ---------------------------------------------------------------------------
# mountinfo


def _unescape(field: str) -> str:
    """Undo the octal escapes (``\\040`` for space) of /proc mount tables."""
    out: list[str] = []
    i = 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mountinfo() -> list[MountEntry]:
    """Parse /proc/self/mountinfo."""
    entries: list[MountEntry] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        lf = left.split()
        rf = right.split()
        if len(lf) < 6 or len(rf) < 2:
            continue
        entries.append(
            MountEntry(
                mountpoint=_unescape(lf[4]),
                fstype=rf[0],
                source=_unescape(rf[1]),
                options=lf[5],
                super_options=rf[2] if len(rf) > 2 else "",
            )
        )
    return entries


def mount_entry(mountpoint: Path | str) -> MountEntry | None:
    """The topmost mount at exactly ``mountpoint``, or ``None``."""
    target = str(mountpoint)
    found: MountEntry | None = None
    for entry in mountinfo():
        if entry.mountpoint == target:
            found = entry  # later lines are mounted on top
    return found


def is_mounted(mountpoint: Path | str) -> bool:
    return mount_entry(mountpoint) is not None


def _wait_mounted(mountpoint: Path, timeout: float = MOUNT_TIMEOUT_S) -> MountEntry:
    deadline = time.monotonic() + timeout
    while True:
        entry = mount_entry(mountpoint)
        if entry is not None:
            return entry
        if time.monotonic() > deadline:
            raise DriveError(f"{mountpoint} did not appear in /proc/self/mountinfo in {timeout}s")
        time.sleep(0.05)


# ---------------------------------------------------------------------------
# Making and mounting drives


def _run(cmd: Sequence[str], *, timeout: float = TOOL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(cmd),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise DriveError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _run_daemon(cmd: Sequence[str], log: Path, *, timeout: float = TOOL_TIMEOUT_S) -> None:
    """Run a FUSE mounter. It forks a daemon that keeps inherited pipes open,
    so its output goes to a file, never to a pipe we would wait on."""
    with log.open("wb") as out:
        proc = subprocess.run(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    if proc.returncode != 0:
        text = log.read_text(errors="replace").strip()
        raise DriveError(f"{' '.join(cmd)} exited {proc.returncode}: {text}")


def mkfs(kind: str, target: str, label: str | None) -> None:
    """Make the filesystem. mkntfs seeds the volume serial from the clock: two NTFS images made
    within the same second share one, and so look like one drive; each gets a random one here."""
    _run(_mkfs_cmd(kind, target, label))
    if kind == "ntfs":
        _run([which("ntfslabel") or "ntfslabel", f"--new-serial={secrets.token_hex(8)}", target])


def _mkfs_cmd(kind: str, target: str, label: str | None) -> list[str]:
    mkfs = which(_MKFS[kind]) or _MKFS[kind]
    if kind == "exfat":
        return [mkfs, *(["-L", label] if label else []), target]
    if kind == "vfat":
        return [mkfs, "-F", "32", *(["-n", label] if label else []), target]
    if kind == "ntfs":
        return [mkfs, "-F", "-Q", *(["-L", label] if label else []), target]
    if kind == "btrfs":
        return [mkfs, "-q", "-f", *(["-L", label] if label else []), target]
    if kind == "ext4":
        return [mkfs, "-q", "-F", *(["-L", label] if label else []), target]
    if kind == "xfs":
        return [mkfs, "-q", "-f", *(["-L", label] if label else []), target]
    raise ValueError(kind)


def _mount_cmd(kind: str, device: str, mountpoint: Path, size_mb: int) -> list[str]:
    mp = str(mountpoint)
    if kind == "exfat":
        return [which("mount.exfat-fuse") or "mount.exfat-fuse", device, mp]
    if kind == "vfat":
        return [which("fusefat") or "fusefat", "-o", "rw+", device, mp]
    if kind == "ntfs":
        return [which("ntfs-3g") or "ntfs-3g", device, mp]
    if kind == "tmpfs":
        return [
            which("mount") or "mount",
            "-t",
            "tmpfs",
            "-o",
            f"size={size_mb}m",
            "tmpfs",
            mp,
        ]
    return [which("mount") or "mount", "-t", kind, device, mp]


def _unmount(mountpoint: Path) -> None:
    """Unmount everything stacked on ``mountpoint``; lazily as a last resort."""
    umount = which("umount") or "umount"
    deadline = time.monotonic() + 10.0
    while is_mounted(mountpoint):
        proc = subprocess.run([umount, str(mountpoint)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            if time.monotonic() > deadline:
                subprocess.run([umount, "-l", str(mountpoint)], capture_output=True, check=False)
                if is_mounted(mountpoint):
                    raise DriveError(f"cannot unmount {mountpoint}: {proc.stderr.strip()}")
            else:
                time.sleep(0.2)


def _detach(device: str) -> None:
    """Detach the loop device, and wait until it is really free: `losetup -d` on a device a
    FUSE driver still holds (it exits just after the unmount) only marks it to be freed on the
    last close, and succeeds at once."""
    losetup = which("losetup") or "losetup"
    for _ in range(50):
        proc = subprocess.run([losetup, "-d", device], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            _wait_detached(losetup, device)
            return
        # Already gone (autoclear) is fine.
        if "No such device" in proc.stderr or "No such device or address" in proc.stderr:
            return
        time.sleep(0.1)


def _wait_detached(losetup: str, device: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = subprocess.run([losetup, "-n", "-O", "BACK-FILE", device], capture_output=True, text=True, check=False)
        if shown.returncode != 0 or not shown.stdout.strip():
            return
        time.sleep(0.1)


def _check_label(kind: str, label: str | None) -> None:
    if label is None:
        return
    limit = {
        "vfat": 11,
        "exfat": 11,
        "xfs": 12,
        "ext4": 16,
        "ntfs": 128,
        "btrfs": 255,
    }.get(kind)
    if limit is not None and len(label) > limit:
        raise ValueError(f"label {label!r} too long for {kind} (max {limit})")


@contextlib.contextmanager
def make_drive(
    kind: str,
    tmp_path: Path,
    size_mb: int | None = None,
    label: str | None = "UVDGTEST",
    *,
    name: str | None = None,
    image: Path | None = None,
    at: Path | None = None,
) -> Iterator[Drive]:
    """Make, mount and yield a drive of ``kind``; always unmount and detach after.

    The image (sparse) and a fresh, unique mount point live under ``tmp_path``. ``name``
    fixes the mount point's name (a drive that comes back to the same place); ``at`` puts it
    at exactly that path instead, made here (see :func:`mount_at`); ``image`` plugs an existing
    image again instead of making a new one (the same drive, same UUID).
    Raises :class:`DriveError` when a tool fails; call :func:`requirement` first
    to turn a missing capability into a skip.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown drive kind {kind!r}")
    if kind == "tmpfs":
        label = None
    _check_label(kind, label)
    size = size_mb if size_mb is not None else DEFAULT_SIZE_MB[kind]
    tag = f"{kind}-{uuid.uuid4().hex[:8]}"
    tmp_path.mkdir(parents=True, exist_ok=True)
    mountpoint = at if at is not None else tmp_path / (name or f"mnt-{tag}")
    mountpoint.mkdir(parents=at is not None, exist_ok=name is not None)
    reuse = image is not None
    device = "tmpfs"
    try:
        if kind in LOOP_KINDS:
            if image is None:
                image = tmp_path / f"{tag}.img"
                with image.open("wb") as fh:
                    fh.truncate(size * 1024 * 1024)
            if not reuse:
                mkfs(kind, str(image), label)
            losetup = which("losetup") or "losetup"
            device = _run([losetup, "--find", "--show", str(image)]).stdout.strip()
            if not device.startswith("/dev/"):
                raise DriveError(f"losetup returned {device!r}")
        cmd = _mount_cmd(kind, device, mountpoint, size)
        if kind in FUSE_KINDS:
            _run_daemon(cmd, tmp_path / f"{tag}.mount.log")
        else:
            _run(cmd)
        _wait_mounted(mountpoint)
        yield Drive(mountpoint=mountpoint, device=device, image=image, kind=kind)
    finally:
        try:
            _unmount(mountpoint)
        finally:
            if device.startswith("/dev/"):
                _detach(device)
            with contextlib.suppress(OSError):
                mountpoint.rmdir()


@contextlib.contextmanager
def mount_at(kind: str, mountpoint: Path, work: Path, label: str | None = "UVDGTEST") -> Iterator[Drive]:
    """Like :func:`make_drive`, but mounted at exactly ``mountpoint`` (created here, any
    name, e.g. one with quotes, ``$(...)`` and spaces); the image and logs live in ``work``.

    Always unmounts, detaches the loop device and removes the (empty) mount point.
    """
    if kind not in LOOP_KINDS:
        raise ValueError(f"mount_at supports image-backed kinds, not {kind!r}")
    with make_drive(kind, work, label=label, at=mountpoint) as drive:
        yield drive


def fuse_pids(drive: Drive) -> list[int]:
    """PIDs of the FUSE daemons serving ``drive`` (matched by their command line)."""
    pids: list[int] = []
    mp = str(drive.mountpoint)
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            argv = (proc_dir / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if mp in words and drive.device in words:
            pids.append(int(proc_dir.name))
    return pids


def yank(drive: Drive, how: str = "lazy") -> None:
    """Imitate pulling the drive out.

    ``how="lazy"``: ``umount -l`` (the mount vanishes, open files linger);
    ``how="kill"``: SIGKILL the FUSE daemon (FUSE kinds only; the mount stays
    but every access fails with ENOTCONN). :func:`make_drive` still cleans up.
    """
    if how == "lazy":
        _run([which("umount") or "umount", "-l", str(drive.mountpoint)])
    elif how == "kill":
        pids = fuse_pids(drive)
        if not pids:
            raise DriveError(f"no FUSE process found for {drive.mountpoint}")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    else:
        raise ValueError(f"unknown yank mode {how!r}")


# ---------------------------------------------------------------------------
# Wheels


def _normalize_dist(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def build_wheel(
    dest_dir: Path,
    name: str = "tinypkg",
    version: str = "0.1.0",
    files: Mapping[str, bytes | str] | None = None,
    entry_points: Mapping[str, str] | None = None,
    data_size: int = 0,
) -> Path:
    """Write a minimal valid pure-Python wheel into ``dest_dir`` and return its path.

    ``files`` maps archive paths to content (default: ``<pkg>/__init__.py`` with
    ``__version__`` and a ``main()``). ``entry_points`` maps console script names
    to ``module:function`` (``uv tool install`` needs at least one).
    ``data_size`` > 0 adds ``<pkg>/data.bin`` of that many bytes.
    """
    dist = _normalize_dist(name)
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel_path = dest_dir / f"{dist}-{version}-py3-none-any.whl"
    dist_info = f"{dist}-{version}.dist-info"

    contents: dict[str, bytes] = {}
    if files is None:
        contents[f"{dist}/__init__.py"] = (
            f'__version__ = "{version}"\n\n\ndef main() -> None:\n    print("{name} {version}")\n'
        ).encode()
    else:
        for path, content in files.items():
            contents[path] = content.encode() if isinstance(content, str) else content
    if data_size > 0:
        block = hashlib.sha256(name.encode()).digest() * 2048  # 64 KiB, not all zero
        reps, rest = divmod(data_size, len(block))
        contents[f"{dist}/data.bin"] = block * reps + block[:rest]

    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: tiny test package for uv-drive-guard\n"
    ).encode()
    contents[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: uvdg-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if entry_points:
        lines = ["[console_scripts]"] + [f"{k} = {v}" for k, v in entry_points.items()]
        contents[f"{dist_info}/entry_points.txt"] = ("\n".join(lines) + "\n").encode()

    record_name = f"{dist_info}/RECORD"
    record_lines = [f"{p},{_record_hash(c)},{len(c)}" for p, c in contents.items()]
    record_lines.append(f"{record_name},,")
    contents[record_name] = ("\n".join(record_lines) + "\n").encode()

    with zipfile.ZipFile(wheel_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, content in contents.items():
            zf.writestr(path, content)
    return wheel_path


# ---------------------------------------------------------------------------
# Real uv


_DROP_PREFIXES = ("UV_",)
_DROP_NAMES = frozenset(
    {
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
        "PYTHONPATH",
        "PYTHONHOME",
        "PIP_INDEX_URL",
        "PIP_FIND_LINKS",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "XDG_CONFIG_DIRS",
    }
)
_KEEP_NAMES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TERM")


def uv_env(tmp_home: Path, **overrides: str | os.PathLike[str] | None) -> dict[str, str]:
    """A clean environment for real uv with ``HOME`` and all XDG dirs under ``tmp_home``.

    No inherited ``UV_*`` variables; ``UV_OFFLINE=1``, ``UV_PYTHON_DOWNLOADS=never``,
    ``UV_NO_PROGRESS=1``, ``NO_COLOR=1``. Config discovery stays on (only HOME is
    isolated). ``overrides`` set variables; a value of ``None`` removes one.
    """
    env: dict[str, str] = {}
    for key in _KEEP_NAMES:
        value = os.environ.get(key)
        if value is not None and not key.startswith(_DROP_PREFIXES) and key not in _DROP_NAMES:
            env[key] = value
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin")
    env.setdefault("LANG", "C.UTF-8")
    home = Path(tmp_home)
    xdg = {
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_BIN_HOME": home / ".local" / "bin",
    }
    for d in (home, *xdg.values()):
        d.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env.update({k: str(v) for k, v in xdg.items()})
    env["UV_OFFLINE"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    env["NO_COLOR"] = "1"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = os.fspath(value)
    return env


def uv_binary() -> str:
    """The uv to test: ``$UVDG_UV``, else the one beside this interpreter, else PATH."""
    override = os.environ.get("UVDG_UV")
    if override:
        return override
    beside = Path(sys.executable).parent / "uv"
    if beside.is_file():
        return str(beside)
    found = shutil.which("uv")
    if found:
        return found
    raise FileNotFoundError("no uv binary (set UVDG_UV)")


def base_python() -> str:
    """A real (non-venv) Python 3 for ``uv venv --python``."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if Path(candidate).is_file():
            return candidate
    base = getattr(sys, "_base_executable", None) or sys.executable
    return str(Path(base).resolve())


def run_uv(
    args: Sequence[str | os.PathLike[str]],
    env: Mapping[str, str],
    cwd: Path | str | None = None,
    *,
    uv: str | None = None,
    timeout: float = UV_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run real uv with ``args`` in ``env``; never raises on a non-zero exit."""
    cmd = [uv or uv_binary(), *(os.fspath(a) for a in args)]
    return subprocess.run(
        cmd,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# A uv project with no dependencies, for the tests that put one on a drive.
PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.8"
dependencies = []

[tool.uv]
package = false
"""


# A PEP 517 backend that lives in the project (`backend-path`), so that uv can build and
# install a packaged project offline: `uv init --package` needs the uv_build wheel, which a
# machine without the network does not have. Editable builds point a .pth at `src/`.
_BACKEND = """\
import base64, hashlib, os, zipfile

NAME, VERSION = {name!r}, "0.1.0"
DEPENDENCIES = {dependencies!r}


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _wheel(directory, editable):
    info = f"{{NAME}}-{{VERSION}}.dist-info"
    files = {{}}
    src = os.path.join(os.getcwd(), "src")
    if editable:
        files[f"_{{NAME}}_editable.pth"] = (src + "\\n").encode()
    else:
        with open(os.path.join(src, NAME, "__init__.py"), "rb") as handle:
            files[f"{{NAME}}/__init__.py"] = handle.read()
    requires = "".join(f"Requires-Dist: {{d}}\\n" for d in DEPENDENCIES)
    metadata = f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n{{requires}}"
    files[f"{{info}}/METADATA"] = metadata.encode()
    wheel = "Wheel-Version: 1.0\\nGenerator: uvdg-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    files[f"{{info}}/WHEEL"] = wheel.encode()
    files[f"{{info}}/entry_points.txt"] = f"[console_scripts]\\n{{NAME}} = {{NAME}}:main\\n".encode()
    record = "".join(f"{{p}},{{_hash(c)}},{{len(c)}}\\n" for p, c in files.items()) + f"{{info}}/RECORD,,\\n"
    files[f"{{info}}/RECORD"] = record.encode()
    name = f"{{NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, name), "w") as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, True)


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []
"""


def packaged_project(where: Path, name: str = "app", dependencies: Sequence[str] = ("tinypkg",)) -> Path:
    """A packaged project with a console script of its own (`name`), built by an in-tree
    backend: `uv sync` installs it (editable), `uv run` reinstalls it when it moved."""
    project = where / name
    (project / "src" / name).mkdir(parents=True)
    (project / "_build").mkdir()
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = [{deps}]\n\n'
        f'[project.scripts]\n{name} = "{name}:main"\n\n'
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
    )
    (project / "src" / name / "__init__.py").write_text(f'def main() -> None:\n    print("{name} runs")\n')
    (project / "_build" / "backend.py").write_text(_BACKEND.format(name=name, dependencies=tuple(dependencies)))
    return project
