"""The scope policy, case by case: which volumes a scan judges, on each OS, with the default
mount roots and with the user's `scope.mount_roots` (which replace them), and the one
"path under root" answer everything shares."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import pytest

from uv_drive_guard import config, scan
from uv_drive_guard.core import scope
from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    Artefact,
    ArtefactKind,
    Location,
    Os,
    Role,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.core.paths import under
from uv_drive_guard.core.resolve import volume_of
from uv_drive_guard.core.rules import environments

SYSTEM_DISK = {Os.LINUX: ("/", "/dev/nvme0n1p2"), Os.MACOS: ("/", "/dev/disk3s1s1"), Os.WINDOWS: ("C:\\", "C:\\")}


def vol(os_: Os, mountpoint: str, device: str = "/dev/sdb1", removable: bool | None = False, **extra: str) -> Volume:
    """A volume as the edge for `os_` lists it: the system flag is the policy's own answer."""
    system = {
        Os.LINUX: scope.linux_system,
        Os.MACOS: scope.macos_system,
        Os.WINDOWS: lambda m: scope.windows_system(m, "C:"),
    }[os_](mountpoint)
    return Volume(mountpoint, device, "ext4", removable=removable, system=system, **extra)


@dataclass(frozen=True)
class Case:
    name: str
    os: Os
    volume: Volume
    judged: bool  # in scope
    roots: tuple[str, ...] = scope.DEFAULT_MOUNT_ROOTS
    include_fixed: bool = False
    set_by_user: tuple[str, ...] = ()  # uv directories the user set (UV_CACHE_DIR=...)
    defaults: tuple[str, ...] = ()  # uv directories nobody set
    paths: tuple[str, ...] = ()  # named on the command line


L, M, W = Os.LINUX, Os.MACOS, Os.WINDOWS
USER = ("/srv/usb",)
SHARE = vol(L, "/srv/nas", "//nas/share", None)
FOLDER = vol(W, "D:\\Mounts\\Stick", "\\\\?\\Volume{1}")  # a volume mounted in a folder, no letter
MAC_BACKUP = vol(M, "/Volumes/Backup", "/dev/disk3s7")
CASES = [
    # Linux: removable, or below a mount root.
    Case("USB stick that udisks mounted", L, vol(L, "/media/ana/STICK", removable=True), True),
    Case("USB stick mounted anywhere: its bus decides", L, vol(L, "/home/ana/stick", removable=True), True),
    Case("internal disk under /mnt", L, vol(L, "/mnt/data"), True),
    Case("internal disk under /run/media", L, vol(L, "/run/media/ana/Backup"), True),
    Case("disk under a user root, default roots", L, vol(L, "/srv/usb/BACKUP"), False),
    Case("disk under a user root, that root set", L, vol(L, "/srv/usb/BACKUP"), True, roots=USER),
    Case("user root with a trailing slash", L, vol(L, "/srv/usb/BACKUP"), True, roots=("/srv/usb/",)),
    Case("user root with two trailing slashes", L, vol(L, "/srv/usb/BACKUP"), True, roots=("/srv/usb//",)),
    Case("a disk mounted at the root itself", L, vol(L, "/srv/usb"), False, roots=USER),
    Case("a sibling name is not below the root", L, vol(L, "/srv/usbkey"), False, roots=USER),
    Case("the user's roots replace the defaults", L, vol(L, "/media/ana/DISK"), False, roots=USER),
    Case("...but a removable drive stays a drive", L, vol(L, "/media/ana/STICK", removable=True), True, roots=USER),
    Case("no roots at all", L, vol(L, "/mnt/data"), False, roots=()),
    # Linux: the system's own mounts, whatever their bus says.
    Case("the root filesystem of a live USB system", L, vol(L, "/", removable=True), False),
    Case("the EFI partition", L, vol(L, "/boot/efi", removable=True), False, include_fixed=True),
    Case("a mount in /var's tree", L, vol(L, "/var/lib/docker/btrfs"), False, include_fixed=True),
    Case("a snap", L, vol(L, "/snap/core22/1564"), False, include_fixed=True),
    Case("the /home partition", L, vol(L, "/home"), False, include_fixed=True),
    Case("a system mount point set as a root", L, vol(L, "/srv"), False, roots=("/",)),
    Case("below /srv, which is the system's", L, vol(L, "/srv/usb/X"), True, roots=("/srv",)),
    # Linux: bind and network mounts are judged by where they are mounted.
    Case("a bind mount of a drive's folder", L, vol(L, "/home/ana/photos", removable=True, bind_of="/media/a/S"), True),
    Case("a bind of the system disk under /mnt", L, vol(L, "/mnt/chroot", "/dev/nvme0n1p2", bind_of="/"), True),
    Case("an NFS share under /mnt", L, vol(L, "/mnt/nas", "nas:/export", None), True),
    Case("an SMB share elsewhere, fixed disks on", L, SHARE, False, include_fixed=True),
    Case("an internal disk elsewhere, fixed disks on", L, vol(L, "/data"), True, include_fixed=True),
    Case("an internal disk elsewhere, fixed disks off", L, vol(L, "/data"), False),
    Case("tmpfs, fixed disks on", L, vol(L, "/run/user/1000", "tmpfs"), False, include_fixed=True),
    # Linux: a volume in scope only because uv is told to use it, or a path is named.
    Case("a uv setting points at it", L, vol(L, "/data"), True, set_by_user=("/data/uv-cache",)),
    Case("a default uv directory does not count", L, vol(L, "/data"), False, defaults=("/data/cache/uv",)),
    Case("a uv setting on a system volume", L, vol(L, "/", "/dev/nvme0n1p2"), False, set_by_user=("/opt/uv",)),
    Case("...unless a path is named", L, vol(L, "/", "/dev/nvme0n1p2"), True, set_by_user=("/opt/uv",), paths=("/x",)),
    Case("a path named on it", L, vol(L, "/data"), True, paths=("/data/project",)),
    # `scan PATH` is about those places: other drives are not judged then.
    Case("a stick, a path named elsewhere", L, vol(L, "/media/a/S", removable=True), False, paths=("/x",)),
    Case(
        "a uv setting on it, a path named elsewhere", L, vol(L, "/data"), False, set_by_user=("/data/c",), paths=("/x",)
    ),
    # Windows: drive letters.
    Case("C: is the system drive", W, vol(W, "C:\\", "C:\\"), False, include_fixed=True),
    Case("E: on USB", W, vol(W, "E:\\", "E:\\", True), True),
    Case("D: internal", W, vol(W, "D:\\", "D:\\"), False),
    Case("D: internal, fixed disks on", W, vol(W, "D:\\", "D:\\"), True, include_fixed=True),
    Case("a uv setting on D:", W, vol(W, "D:\\", "D:\\"), True, set_by_user=("d:\\uv\\cache",)),
    Case("a uv setting on C:", W, vol(W, "C:\\", "C:\\"), False, set_by_user=("C:\\uv",)),
    Case("a folder mount under a user root", W, FOLDER, True, roots=("D:\\Mounts",)),
    Case("...the root written another way", W, FOLDER, True, roots=("d:/mounts/",)),
    Case("...with the default roots", W, FOLDER, False),
    # macOS: the sealed system and its siblings, and /Volumes.
    Case("macOS /", M, vol(M, "/", "/dev/disk3s1s1", False), False, include_fixed=True),
    Case("the Data volume", M, vol(M, "/System/Volumes/Data", "/dev/disk3s5"), False, include_fixed=True),
    Case("a stick diskutil knows nothing about", M, vol(M, "/Volumes/STICK", "/dev/disk4s1", None), True),
    Case("an internal volume under /Volumes", M, MAC_BACKUP, True),
    Case("...with the user's roots instead", M, MAC_BACKUP, False, roots=("/Users/a/m",)),
]


def _scope(case: Case) -> tuple[str, ...]:
    mountpoint, device = SYSTEM_DISK[case.os]
    system = vol(case.os, mountpoint, device)
    volumes = [system] if case.volume.mountpoint == mountpoint else [system, case.volume]
    user = Source(SourceKind.ENVIRONMENT, name="UV_CACHE_DIR")
    nobody = Source(SourceKind.DEFAULT, name="UV_CACHE_DIR")
    locations = [Location(Role.CACHE, p, user) for p in case.set_by_user]
    locations += [Location(Role.CACHE, p, nobody) for p in case.defaults]
    return scope.in_scope(
        case.os,
        volumes,
        locations,
        paths=case.paths,
        mount_roots=case.roots,
        include_fixed=case.include_fixed,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_which_volumes_are_judged(case: Case) -> None:
    assert (case.volume.mountpoint in _scope(case)) is case.judged


def test_the_system_volume_is_never_judged_unless_asked() -> None:
    for case in CASES:
        system = SYSTEM_DISK[case.os][0]
        if not case.paths:
            assert system not in _scope(case), case.name


@pytest.mark.parametrize(
    ("path", "root", "windows", "inside", "below"),
    [
        ("/media/ana/X", "/media/ana", False, True, True),
        ("/media/anaX", "/media/ana", False, False, False),
        ("/media/ana", "/media/ana", False, True, False),
        ("/media/ana/", "/media/ana", False, True, False),
        ("/media/ana/X", "/media/ana/", False, True, True),
        ("/media/a\\b", "/media/a", False, False, False),  # a backslash is part of a POSIX name
        ("/x", "/", False, True, True),
        ("/", "/", False, True, False),
        ("x", "/", False, False, False),
        ("", "/", False, False, False),
        ("/x", "", False, False, False),
        ("C:\\Users\\ana", "C:\\", True, True, True),
        ("c:/users/ana", "C:\\Users", True, True, True),
        ("C:\\Users", "c:", True, True, True),
        ("C:\\", "C:", True, True, False),
        ("C:\\Usersx", "C:\\Users", True, False, False),
        ("D:\\x", "C:\\", True, False, False),
        ("\\\\nas\\share\\x", "\\\\NAS\\Share", True, True, True),
    ],
)
def test_path_under_root(path: str, root: str, windows: bool, inside: bool, below: bool) -> None:
    assert under(path, root, windows=windows) is inside
    assert under(path, root, windows=windows, strict=True) is below


@pytest.mark.parametrize(
    ("mountpoint", "system"),
    [
        *[("/", True), ("/boot/efi", True), ("/usr/local", True), ("/usr/", True), ("/snap/x/1", True)],
        *[("/snap", False), ("/srv", True), ("/srv/usb/X", False), ("/tmp", True), ("/tmp/x", False)],
        ("/media/a/S", False),
    ],
)
def test_linux_system_mounts(mountpoint: str, system: bool) -> None:
    assert scope.linux_system(mountpoint) is system


def test_volume_of_and_under_agree() -> None:
    mounts = ("/", "/media/ana/S", "/media/ana/STICK")
    for path in ("/media/ana/STICK/x", "/media/ana/S", "/media/ana/STICKY/x", "/media/ana/S/"):
        mount = volume_of(Os.LINUX, path, mounts)
        assert mount is not None and under(path, mount)
        assert not any(under(path, m) and len(m) > len(mount) for m in mounts)
    assert volume_of(Os.WINDOWS, "e:/proj", ("C:\\", "E:\\")) == "E:\\"


# --- the roots diagnose reads: the user's, not a copy of the defaults -----------------------------


def _missing(roots: tuple[str, ...] | None) -> list[str]:
    system = vol(L, "/", "/dev/nvme0n1p2")
    source = Source(SourceKind.SHELL_FILE, file="/home/ana/.bashrc", line=3, name="UV_CACHE_DIR")
    snap = Snapshot(
        os=L,
        uv=UvInfo("uv 0.13.9", "uv"),
        volumes=(system,),
        locations=(Location(Role.CACHE, "/srv/usb/STICK/uv-cache", source, volume="/"),),
        home="/home/ana",
        mount_roots=roots,
    )
    return [f.code for f in diagnose(snap)]


def test_a_drive_missing_below_the_users_root_is_said() -> None:
    assert _missing(USER) == ["UVD011"]
    assert _missing(("/srv/usb/",)) == ["UVD011"]
    assert _missing(None) == []  # /srv/usb is no place for drives by default
    assert _missing(("/media",)) == []


def test_a_drive_that_moved_between_the_users_mount_points() -> None:
    venv = Artefact(
        ArtefactKind.VENV,
        "/srv/usb/STICK/demo/.venv",
        "/srv/usb/STICK",
        script_interpreter="/srv/usb/STICK1/demo/.venv/bin/python",
        script_interpreter_exists=False,
    )
    shebang = environments.shebangs_of(venv)[0]
    assert environments.made_at_mount(shebang, venv.path, "/srv/usb/STICK", USER) == "/srv/usb/STICK1"
    assert environments.made_at_mount(shebang, venv.path, "/srv/usb/STICK", scope.DEFAULT_MOUNT_ROOTS) is None
    copied = environments.shebangs_of(replace(venv, script_interpreter="/home/bob/demo/.venv/bin/python"))[0]
    assert environments.made_at_mount(copied, venv.path, "/srv/usb/STICK", USER) is None  # copied from a home


# --- the listing: a device below one of the user's roots is worth a closer look -----------------


class _Part(NamedTuple):
    device: str
    mountpoint: str
    fstype: str
    opts: str


def _listed(roots: tuple[str, ...] | None) -> tuple[dict[str, Volume], list[str]]:
    from uv_drive_guard.edges.volumes import _linux

    asked: list[str] = []

    def blkid(device: str) -> dict[str, str]:
        asked.append(device)
        return {"TYPE": "ext4", "LABEL": device.rsplit("/", 1)[-1].upper(), "UUID": "0e1f-" + device[-4:]}

    resolver = _linux.Resolver(udev=lambda d: {}, blkid=blkid, removable=lambda d: False, uuid_link=lambda d: None)
    parts = [_Part("/dev/sdb1", "/srv/usb/BACKUP", "ext4", "rw"), _Part("/dev/sdc1", "/media/ana/DISK", "ext4", "rw")]
    fakes = {"partitions": lambda _all: parts, "resolver": resolver, "mounted": lambda _m: True, "mount_table": dict}
    found = _linux.list_volumes(**fakes) if roots is None else _linux.list_volumes(roots, **fakes)
    return {v.mountpoint: v for v in found}, asked


def test_the_linux_listing_looks_closer_below_the_users_roots() -> None:
    found, asked = _listed(USER)
    assert asked == ["/dev/sdb1"]
    assert (found["/srv/usb/BACKUP"].label, found["/srv/usb/BACKUP"].uuid) == ("SDB1", "0e1f-sdb1")
    assert found["/media/ana/DISK"].label is None  # the user's roots replace the defaults here too
    found, asked = _listed(None)
    assert asked == ["/dev/sdc1"] and found["/srv/usb/BACKUP"].uuid is None


def test_the_settings_file_shows_the_policys_defaults(tmp_path: Path) -> None:
    """config/default.toml documents the roots for people; the policy's are the ones in force."""
    settings = config.load(tmp_path / "none.toml")
    assert tuple(settings["scope"]["mount_roots"]) == scope.DEFAULT_MOUNT_ROOTS
    assert scan.Options.from_config(settings).mount_roots == scan.Options().mount_roots == scope.DEFAULT_MOUNT_ROOTS
