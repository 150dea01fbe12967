"""macOS edges on recorded diskutil, psutil and launchctl outputs (they run anywhere)."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
from pathlib import Path

import pytest
from tests.unit.recorded import Part, plist

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import OPS, Definition, Location, Os, Role, Snapshot, Source, SourceKind, UvInfo, Volume
from uv_drive_guard.edges import launchctl
from uv_drive_guard.edges.probe import _macos as probe
from uv_drive_guard.edges.settings import _macos as settings
from uv_drive_guard.edges.volumes import _macos as volumes

DATA = Path(__file__).resolve().parent.parent / "data" / "macos"
STRERROR: dict[str, str] = json.loads((DATA / "strerror.json").read_text())


def mac_strerror(code: int) -> str:
    return STRERROR[str(code)]


def recorded_mount_table() -> tuple[list[Part], dict[str, bytes | None]]:
    table = json.loads((DATA / "mount_table.json").read_text())
    parts = [Part(**row) for row in table["partitions"]]
    answers = {
        mountpoint: (DATA / name).read_bytes() if name else None for mountpoint, name in table["diskutil"].items()
    }
    return parts, answers


# volumes -------------------------------------------------------------------------------


def test_exfat_usb_stick() -> None:
    volume = volumes.volume_from_diskutil(
        "/Volumes/STICK",
        "/dev/disk4s1",
        "exfat",
        "rw,nosuid,local,ignore-ownership",
        plist("diskutil_exfat_usb.plist"),
    )
    assert volume == Volume(
        mountpoint="/Volumes/STICK",
        device="/dev/disk4s1",
        fstype="exfat",
        mount_fstype="exfat",
        label="STICK",
        uuid="0E239BC6-F960-3107-89CF-1C97F78BB46B",
        read_only=False,
        removable=True,
        system=False,
        size=32015679488,
        options=("rw", "nosuid", "local", "ignore-ownership"),
    )


def test_mount_flags_reach_the_rules_as_on_linux() -> None:
    """psutil names macOS's mount flags as Linux does (`noexec`, `sync`): a stick mounted noexec
    is judged by the same rule, from the same option, as on Linux."""
    volume = volumes.volume_from_diskutil(
        "/Volumes/STICK", "/dev/disk4s1", "exfat", "rw,sync,noexec,nosuid,local", plist("diskutil_exfat_usb.plist")
    )
    assert volume.option("noexec") and volume.option("sync") and not volume.option("ro")
    venv = Location(Role.VENV, "/Volumes/STICK/app/.venv", Source(SourceKind.ENVIRONMENT), volume=volume.mountpoint)
    snap = Snapshot(
        os=Os.MACOS, uv=UvInfo("0.13.10", "uv"), volumes=(volume,), locations=(venv,), scope=(volume.mountpoint,)
    )
    assert "UVD016" in {f.code for f in diagnose(snap)}


def test_locked_sd_card_in_the_internal_reader_is_removable_and_read_only() -> None:
    volume = volumes.volume_from_diskutil(
        "/Volumes/CAMERA",
        "/dev/disk5s1",
        "msdos",
        "rw,nosuid,local",
        plist("diskutil_fat32_sd_locked.plist"),
    )
    assert (volume.fstype, volume.mount_fstype) == ("vfat", "msdos")
    assert volume.read_only  # from WritableVolume, even though the mount says rw
    assert volume.removable  # Internal is true for the built-in reader, Removable wins
    assert volume.label == "CAMERA"


def test_sealed_system_snapshot() -> None:
    volume = volumes.volume_from_diskutil(
        "/",
        "/dev/disk3s1s1",
        "apfs",
        "ro,local,rootfs,dovolfs,journaled,multilabel",
        plist("diskutil_apfs_root.plist"),
    )
    assert volume.fstype == "apfs"
    assert volume.system and volume.read_only
    assert volume.removable is False
    assert volume.label == "Macintosh HD"
    assert volume.size == 494384795648


def test_data_volume_is_system_but_writable() -> None:
    volume = volumes.volume_from_diskutil(
        "/System/Volumes/Data",
        "/dev/disk3s5",
        "apfs",
        "rw,local,dovolfs,dontbrowse",
        plist("diskutil_apfs_data.plist"),
    )
    assert volume.system and not volume.read_only
    assert volume.removable is False


def test_user_space_driver_mount_type_does_not_hide_exfat() -> None:
    volume = volumes.volume_from_diskutil(
        "/Volumes/STICK", "/dev/disk4s1", "lifs", "rw,local", plist("diskutil_exfat_usb.plist")
    )
    assert (volume.fstype, volume.mount_fstype) == ("exfat", "lifs")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MS-DOS FAT32", "vfat"),
        ("MS-DOS FAT16", "vfat"),
        ("ExFAT", "exfat"),
        ("Mac OS Extended (Journaled)", "hfs"),
        ("APFS", "apfs"),
        ("Windows NT File System (NTFS)", "ntfs"),
    ],
)
def test_filesystem_name_when_type_is_missing(name: str, expected: str) -> None:
    assert volumes.real_fstype({"FilesystemName": name}, "lifs") == expected


def test_mount_table_name_when_diskutil_knows_nothing() -> None:
    assert volumes.real_fstype({}, "msdos") == "vfat"
    assert volumes.real_fstype({}, "smbfs") == "smbfs"


@pytest.mark.parametrize("data", [None, b"", b"Could not find disk: /Volumes/share\n", b"<plist><dict><key>"])
def test_unusable_diskutil_answers_are_empty(data: bytes | None) -> None:
    assert volumes.parse_plist(data) == {}


def test_diskutil_error_plist_is_empty() -> None:
    error = plistlib.dumps({"Error": True, "ErrorMessage": "Could not find disk"})
    assert volumes.parse_plist(error) == {}


def test_list_volumes_on_a_recorded_mount_table() -> None:
    parts, answers = recorded_mount_table()
    asked: list[str] = []

    def diskutil(mountpoint: str) -> bytes | None:
        asked.append(mountpoint)
        return answers.get(mountpoint)

    found = {
        v.mountpoint: v
        for v in volumes.list_volumes(partitions=lambda all=False: parts if all else [], diskutil=diskutil)
    }
    assert "/dev" not in found and "/System/Volumes/Data/home" not in found
    assert "/dev" not in asked
    assert found["/Volumes/STICK"].fstype == "exfat" and found["/Volumes/STICK"].removable
    assert found["/Volumes/CAMERA"].read_only
    assert all(v.system for m, v in found.items() if m == "/" or m.startswith("/System/"))
    assert not any(v.system for m, v in found.items() if m.startswith("/Volumes/"))
    share = found["/Volumes/share"]
    assert (share.fstype, share.device, share.removable) == ("smbfs", "//alice@nas.local/share", None)
    assert found["/System/Volumes/VM"].fstype == "apfs"  # no plist: the mount table's type


# settings ------------------------------------------------------------------------------


def recorded_getenv(name: str) -> str | None:
    recorded = json.loads((DATA / "launchctl_getenv.json").read_text())
    answer = recorded.get(name, {"stdout": "", "returncode": 0})
    return launchctl.getenv_value(answer["stdout"], answer["returncode"])


def test_launchctl_definitions() -> None:
    found = settings.read_definitions(getenv=recorded_getenv)
    assert found == [
        Definition(
            "UV_CACHE_DIR",
            "/Volumes/STICK/uv-cache",
            Source(SourceKind.LAUNCHCTL, name="UV_CACHE_DIR"),
            raw="/Volumes/STICK/uv-cache",
        ),
        Definition("UV_LINK_MODE", "copy", Source(SourceKind.LAUNCHCTL, name="UV_LINK_MODE"), raw="copy"),
        Definition(
            "XDG_CACHE_HOME",
            "/Volumes/STICK/.cache",
            Source(SourceKind.LAUNCHCTL, name="XDG_CACHE_HOME"),
            raw="/Volumes/STICK/.cache",
        ),
    ]


def test_launchctl_names_parameter() -> None:
    found = settings.read_definitions(names=["UV_LINK_MODE"], getenv=recorded_getenv)
    assert [d.name for d in found] == ["UV_LINK_MODE"]


@pytest.mark.parametrize(
    ("stdout", "code", "expected"),
    [("copy\n", 0, "copy"), ("\n", 0, None), ("", 0, None), ("x\n", 1, None), ("/a b/c\n", 0, "/a b/c")],
)
def test_getenv_value(stdout: str, code: int, expected: str | None) -> None:
    assert launchctl.getenv_value(stdout, code) == expected


def agents_home(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "LaunchAgents", tmp_path / "Library" / "LaunchAgents")
    return tmp_path


def test_launch_agents(tmp_path: Path) -> None:
    home = agents_home(tmp_path)
    agents = home / "Library" / "LaunchAgents"
    found = settings.launch_agent_definitions(home)
    assert [(d.name, d.value, d.raw, d.source.file) for d in found] == [
        (
            "UV_CACHE_DIR",
            "/Volumes/STICK/uv-cache",
            "/Volumes/STICK/uv-cache",
            str(agents / "com.alice.uv-environment.plist"),
        ),
        ("UV_LINK_MODE", "copy", "copy", str(agents / "com.alice.uv-environment.plist")),
        (
            "UV_TOOL_DIR",
            "/Volumes/STICK/uv-tools",
            "/Volumes/STICK/uv-tools",
            str(agents / "my.startup.plist"),
        ),
        ("UV_PYTHON_INSTALL_DIR", None, "$HOME/pythons", str(agents / "my.startup.plist")),
        (
            "XDG_DATA_HOME",
            "/Volumes/Work Drive/share",
            "/Volumes/Work Drive/share",
            str(agents / "my.startup.plist"),
        ),
    ]
    assert all(d.source.kind is SourceKind.LAUNCHCTL for d in found)
    assert all(d.source.name == d.name for d in found)


def test_launch_agents_binary_plist(tmp_path: Path) -> None:
    agents = tmp_path / "Library" / "LaunchAgents"
    agents.mkdir(parents=True)
    arguments = ["/bin/launchctl", "setenv", "UV_TOOL_BIN_DIR", "/Volumes/X/bin"]
    payload = {"Label": "x", "ProgramArguments": arguments}
    (agents / "x.plist").write_bytes(plistlib.dumps(payload, fmt=plistlib.FMT_BINARY))
    found = settings.launch_agent_definitions(tmp_path)
    assert [(d.name, d.value) for d in found] == [("UV_TOOL_BIN_DIR", "/Volumes/X/bin")]


def test_launch_agents_missing_directory(tmp_path: Path) -> None:
    assert settings.launch_agent_definitions(tmp_path) == []


def test_launch_agents_are_bounded(tmp_path: Path) -> None:
    agents = tmp_path / "Library" / "LaunchAgents"
    agents.mkdir(parents=True)
    for index in range(settings.MAX_AGENTS + 5):
        (agents / f"a{index:04d}.plist").write_bytes(b"")
    assert len(settings.agent_files(agents)) == settings.MAX_AGENTS
    big = tmp_path / "big.plist"
    big.write_bytes(b"x" * 11)
    assert settings.read_bounded(big, limit=10) is None
    assert settings.read_bounded(big, limit=11) == b"x" * 11


def test_setenv_pairs_stop_at_shell_operators() -> None:
    pairs = list(settings.setenv_pairs(["/bin/bash", "-c", "launchctl setenv UV_CACHE_DIR ~/c && echo UV_TOOL_DIR x"]))
    assert pairs == [("UV_CACHE_DIR", None, "~/c")]


def test_setenv_pairs_tolerate_unbalanced_quotes() -> None:
    assert list(settings.setenv_pairs(["sh", "-c", "launchctl setenv UV_CACHE_DIR '/x"])) == []


# probe ---------------------------------------------------------------------------------


def test_operations_are_the_macos_specific_ones() -> None:
    assert set(probe.OPERATIONS) == {"reflink", "rename_noreplace", "appledouble"}
    assert set(probe.OPERATIONS) <= set(OPS)


def test_reflink_refused_like_exfat(tmp_path: Path) -> None:
    """clonefile(2): ENOTSUP (45 on macOS) where the file system cannot clone (exFAT, FAT, HFS+)."""
    result = probe.reflink(tmp_path, clone=lambda src, dst: 45, strerror=mac_strerror)
    assert result == (False, 45, "Operation not supported (os error 45)")
    assert os.listdir(tmp_path) == []


def test_reflink_works(tmp_path: Path) -> None:
    def clone(src: str, dst: str) -> int:  # clonefile(2) on APFS: a new file with the same contents
        shutil.copyfile(src, dst)
        return 0

    assert probe.reflink(tmp_path, clone=clone) == (True, None, None)
    assert os.listdir(tmp_path) == []


def excl_rename(src: str, dst: str) -> int:
    """renameatx_np(RENAME_EXCL) as APFS does it: EEXIST (17) when the target exists (Apple's
    rename(2) man page, RENAME_EXCL)."""
    if os.path.lexists(dst):
        return 17
    os.rename(src, dst)
    return 0


def test_rename_excl(tmp_path: Path) -> None:
    assert probe.rename_noreplace(tmp_path, rename=excl_rename) == (True, None, None)
    assert os.listdir(tmp_path) == []


def test_rename_excl_refused_like_exfat_r7(tmp_path: Path) -> None:
    result = probe.rename_noreplace(tmp_path, rename=lambda s, d: 45, strerror=mac_strerror)
    assert result == (False, 45, "Operation not supported (os error 45)")
    assert os.listdir(tmp_path) == []


def test_rename_excl_that_clobbers_is_a_failure(tmp_path: Path) -> None:
    def clobber(src: str, dst: str) -> int:
        os.rename(src, dst)
        return 0

    ok, code, message = probe.rename_noreplace(tmp_path, rename=clobber)
    assert (ok, code) == (False, None) and message
    assert os.listdir(tmp_path) == []


def test_appledouble_sidecar_seen(tmp_path: Path) -> None:
    def setxattr(path: str, name: str) -> int:  # exFAT/FAT on macOS keep xattrs in a `._` AppleDouble file (uv #18790)
        Path(path).with_name("._" + Path(path).name).write_bytes(b"\0\5\26\7")
        return 0

    assert probe.appledouble(tmp_path, setxattr=setxattr) == (True, None, None)
    assert os.listdir(tmp_path) == []


def test_appledouble_native_xattrs(tmp_path: Path) -> None:
    assert probe.appledouble(tmp_path, setxattr=lambda p, n: 0) == (False, None, None)
    assert os.listdir(tmp_path) == []


def test_appledouble_without_xattrs_is_unknown(tmp_path: Path) -> None:
    result = probe.appledouble(tmp_path, setxattr=lambda p, n: 45, strerror=mac_strerror)
    assert result == (None, 45, "Operation not supported (os error 45)")


def test_setup_failure_is_unknown(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    ok, code, message = probe.reflink(missing, clone=lambda s, d: 0, strerror=mac_strerror)
    assert (ok, code, message) == (None, 2, "No such file or directory (os error 2)")


def test_rust_message() -> None:
    assert probe.rust_message(1, "Operation not permitted") == ("Operation not permitted (os error 1)")


def test_diskutil_is_not_asked_about_hidden_system_volumes() -> None:
    parts, answers = recorded_mount_table()
    asked: list[str] = []

    def diskutil(mountpoint: str) -> bytes | None:
        asked.append(mountpoint)
        return answers.get(mountpoint)

    volumes.list_volumes(partitions=lambda all=False: parts, diskutil=diskutil)
    assert asked == ["/", "/System/Volumes/Data", "/Volumes/STICK", "/Volumes/CAMERA", "/Volumes/share"]
