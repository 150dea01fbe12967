"""Windows edges on recorded Win32 answers and registry contents (they run anywhere)."""

from __future__ import annotations

import ctypes
import json
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import descriptors
import pytest
from tests.unit.recorded import Part, Recorded, format_message, win_error, windows_rename

from uv_drive_guard.core.model import OPS, Definition, Source, SourceKind
from uv_drive_guard.edges.probe import _windows as probe
from uv_drive_guard.edges.settings import _windows as settings
from uv_drive_guard.edges.volumes import _windows as volumes

DATA = Path(__file__).resolve().parent.parent / "data" / "windows"
MACHINE = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"
USER = "HKCU\\Environment"


# volumes -------------------------------------------------------------------------------


def test_list_volumes_on_a_recorded_laptop() -> None:
    recorded = Recorded()
    found = recorded.list()
    assert sorted(found) == ["C:\\", "E:\\", "F:\\", "G:\\", "Z:\\"]  # D: has no disc
    assert "Z:\\" not in recorded.bus_asked  # no device to open behind a share
    assert recorded.partitions_all == [False]  # all=True would wait on every mapped share in turn

    c = found["C:\\"]
    assert (c.fstype, c.system, c.removable, c.read_only) == ("ntfs", True, False, False)
    assert (c.label, c.uuid, c.size) == (None, "A8BF-FE62", 1022870155264)

    e = found["E:\\"]
    assert (e.fstype, e.mount_fstype, e.label, e.uuid) == ("exfat", "exFAT", "STICK", "5E7A-1C3B")
    assert e.removable and not e.system and not e.read_only

    f = found["F:\\"]  # USB hard disk: DRIVE_FIXED, but BusTypeUsb
    assert (f.fstype, f.removable) == ("ntfs", True)

    g = found["G:\\"]  # write-protected SD card
    assert (g.fstype, g.read_only, g.removable) == ("vfat", True, True)

    z = found["Z:\\"]
    assert (z.fstype, z.mount_fstype, z.removable, z.system) == ("smbfs", "NTFS", None, False)


def test_a_disconnected_share_does_not_stall_the_listing() -> None:
    """GetVolumeInformationW on a mapped drive whose server is gone waits for SMB's timeout
    (tens of seconds); here it waits until released. The listing goes on without Z:, and the
    next listing does not start a second wait on the same share."""
    recorded = Recorded()
    release = threading.Event()
    asked: list[str] = []

    def volume_info(root: str) -> volumes.VolumeInfo | None:
        if root == "Z:\\":
            asked.append(root)
            release.wait(30)
        return recorded.volume_info(root)

    def listing() -> list[str]:
        found = volumes.list_volumes(
            partitions=recorded.partitions,
            remote_roots=recorded.remote_roots,
            volume_info=volume_info,
            drive_type=lambda root: int(recorded.doc["drive_type"][root]),
            bus_type=recorded.bus_type,
            system_drive=lambda: "C:",
            size=lambda root: None,
            remote_timeout=0.2,
        )
        return sorted(v.mountpoint for v in found)

    started = time.monotonic()
    assert listing() == ["C:\\", "E:\\", "F:\\", "G:\\"]
    assert listing() == ["C:\\", "E:\\", "F:\\", "G:\\"]
    assert time.monotonic() - started < 5
    assert asked == ["Z:\\"]  # one waiting thread for the dead share, not one per scan
    release.set()
    deadline = time.monotonic() + 5
    while volumes._ASKING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "Z:\\" in listing()  # the server came back


@pytest.mark.parametrize(("root", "bus"), [("E:\\", 7), ("C:\\", 17), ("G:\\", 12)])
def test_bus_type_from_constructed_descriptors(root: str, bus: int) -> None:
    doc = json.loads((DATA / "volumes.json").read_text())
    raw = bytes.fromhex(doc["storage_descriptors"][root]["hex"])
    assert volumes.bus_type_from_descriptor(raw) == bus


def test_descriptor_structure_is_winioctls() -> None:
    """FIELD_OFFSET values of STORAGE_DEVICE_DESCRIPTOR in winioctl.h, and its sizeof."""
    layout = volumes.StorageDeviceDescriptor
    assert ctypes.sizeof(layout) == 40
    offsets = {name: getattr(layout, name).offset for name, *_ in layout._fields_}
    assert offsets == {
        "Version": 0, "Size": 4, "DeviceType": 8, "DeviceTypeModifier": 9, "RemovableMedia": 10,
        "CommandQueueing": 11, "VendorIdOffset": 12, "ProductIdOffset": 16, "ProductRevisionOffset": 20,
        "SerialNumberOffset": 24, "BusType": 28, "RawPropertiesLength": 32, "RawDeviceProperties": 36,
    }  # fmt: skip


@pytest.mark.parametrize("root", ["E:\\", "C:\\", "G:\\"])
def test_descriptor_fixtures_are_consistent_bytes(root: str) -> None:
    entry = json.loads((DATA / "volumes.json").read_text())["storage_descriptors"][root]
    raw = bytes.fromhex(entry["hex"])
    assert raw == descriptors.build(entry["fields"])
    head = volumes.StorageDeviceDescriptor.from_buffer_copy(raw[:40])
    assert (head.Version, head.Size) == (40, len(raw))
    for name in descriptors.STRINGS:
        offset = getattr(head, name)
        assert offset == 0 or 40 <= offset < len(raw)
    expected = {k: entry["fields"].get(k) for k in ("VendorId", "ProductId", "ProductRevision", "SerialNumber")}
    assert descriptors.strings(raw) == expected


def test_short_descriptor_has_no_bus() -> None:
    assert volumes.bus_type_from_descriptor(b"\x28\x00\x00\x00") is None


@pytest.mark.parametrize(
    ("fs_name", "drive_type", "expected"),
    [
        ("NTFS", volumes.DRIVE_FIXED, "ntfs"),
        ("exFAT", volumes.DRIVE_REMOVABLE, "exfat"),
        ("FAT32", volumes.DRIVE_REMOVABLE, "vfat"),
        ("FAT", volumes.DRIVE_REMOVABLE, "vfat"),
        ("ReFS", volumes.DRIVE_FIXED, "refs"),
        ("UDF", volumes.DRIVE_CDROM, "udf"),
        ("NTFS", volumes.DRIVE_REMOTE, "smbfs"),
        ("NFS", volumes.DRIVE_REMOTE, "nfs"),
    ],
)
def test_real_fstype(fs_name: str, drive_type: int, expected: str) -> None:
    assert volumes.real_fstype(fs_name, drive_type) == expected


@pytest.mark.parametrize(
    ("drive_type", "bus", "expected"),
    [
        (volumes.DRIVE_REMOVABLE, None, True),
        (volumes.DRIVE_FIXED, volumes.BUS_TYPE_USB, True),
        (volumes.DRIVE_FIXED, volumes.BUS_TYPE_MMC, True),
        (volumes.DRIVE_FIXED, 11, False),  # SATA
        (volumes.DRIVE_FIXED, None, False),
        (volumes.DRIVE_REMOTE, None, None),
    ],
)
def test_is_removable(drive_type: int, bus: int | None, expected: bool | None) -> None:
    assert volumes.is_removable(drive_type, bus) is expected


def test_serial_and_system_drive() -> None:
    assert volumes.serial_text(0x0000ABCD) == "0000-ABCD"
    assert volumes.same_drive("c:\\", "C:")
    assert not volumes.same_drive("D:\\", "C:")


def test_read_only_from_mount_options() -> None:
    info = volumes.VolumeInfo("X", 1, "NTFS", 255, 0)
    volume = volumes.volume_from_info(
        Part("X:\\", "X:\\", "NTFS", "ro,fixed"), info, volumes.DRIVE_FIXED, 11, system="C:"
    )
    assert volume.read_only and volume.removable is False


# settings ------------------------------------------------------------------------------


def recorded_registry() -> tuple[dict[str, dict[str, tuple[object, int]]], Mapping[str, str]]:
    doc = json.loads((DATA / "registry_environment.json").read_text())
    codes = {name: code for code, name in settings.REG_TYPE_NAMES.items()}
    keys = {
        key: {name: (data, codes[kind]) for name, (kind, data) in values.items()}
        for key, values in doc.items()
        if not key.startswith("_")
    }
    return keys, doc["_environ"]


def test_registry_definitions() -> None:
    keys, environ = recorded_registry()
    found = settings.read_definitions(open_key=lambda hive, path: keys.get(f"{hive}\\{path}"), environ=environ)

    def machine(name: str) -> Source:
        return Source(SourceKind.REGISTRY_MACHINE, file=MACHINE, name=name)

    def user(name: str) -> Source:
        return Source(SourceKind.REGISTRY_USER, file=USER, name=name)

    assert found == [
        Definition("UV_CACHE_DIR", "D:\\uv\\cache", machine("UV_CACHE_DIR"), "REG_SZ:D:\\uv\\cache"),
        Definition("UV_NO_CACHE", None, machine("UV_NO_CACHE"), "REG_DWORD:1"),
        Definition("UV_CACHE_DIR", "E:\\uv-cache", user("UV_CACHE_DIR"), "REG_SZ:E:\\uv-cache"),
        Definition("UV_LINK_MODE", "copy", user("UV_LINK_MODE"), "REG_SZ:copy"),
        Definition("UV_TOOL_DIR", "%UV_HOME%\\tools", user("UV_TOOL_DIR"), "REG_EXPAND_SZ:%UV_HOME%\\tools"),
        Definition(
            "UV_PYTHON_INSTALL_DIR",
            "C:\\Users\\alice\\OneDrive\\uv\\python",
            user("UV_PYTHON_INSTALL_DIR"),
            "REG_EXPAND_SZ:%OneDrive%\\uv\\python",
        ),
    ]


def test_registry_names_parameter_and_unreadable_machine_key() -> None:
    keys, environ = recorded_registry()

    def open_key(hive: str, path: str) -> Mapping[str, tuple[object, int]] | None:
        return None if hive == settings.HKLM else keys.get(f"{hive}\\{path}")

    found = settings.read_definitions(names=["UV_CACHE_DIR", "Path"], open_key=open_key, environ=environ)
    assert [(d.name, d.source.kind) for d in found] == [
        ("UV_CACHE_DIR", SourceKind.REGISTRY_USER),
        ("Path", SourceKind.REGISTRY_USER),
    ]
    assert found[1].value == ("C:\\Users\\alice\\AppData\\Local\\Microsoft\\WindowsApps;C:\\Users\\alice\\.local\\bin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%USERPROFILE%\\uvcache", "C:\\Users\\alice\\uvcache"),
        ("%userprofile%\\uvcache", "C:\\Users\\alice\\uvcache"),
        ("E:\\plain", "E:\\plain"),
        ("%NOPE%\\x", "%NOPE%\\x"),  # Windows leaves an unknown name as it is
        ("%USERPROFILE%\\%NOPE%", "C:\\Users\\alice\\%NOPE%"),
        ("100%", "100%"),
    ],
)
def test_expand(text: str, expected: str) -> None:
    assert settings.expand(text, {"USERPROFILE": "C:\\Users\\alice"}) == expected


# probe ---------------------------------------------------------------------------------


def test_operations_are_the_windows_ones() -> None:
    assert set(probe.OPERATIONS) == {
        "hardlink",
        "symlink_file",
        "symlink_dir",
        "junction",
        "rename_noreplace",
        "flock_shared",
        "flock_exclusive",
        "case_sensitive",
        "canonicalize",
    }
    assert set(probe.OPERATIONS) <= set(OPS)


def test_seed_issue_message() -> None:
    """Issue #11233 printed exactly this for the cache junction on exFAT."""
    assert probe.describe(win_error(1), format_message) == (1, "Incorrect function. (os error 1)")


def test_errno_only_errors_use_strerror() -> None:
    exc = OSError(2, "No such file or directory")
    assert probe.describe(exc) == (2, "No such file or directory (os error 2)")


def test_hardlink_refused(tmp_path: Path) -> None:
    def link(src: Path, dst: Path) -> None:
        raise win_error(1)

    result = probe.hardlink(tmp_path, link=link, strerror=format_message)
    assert result == (False, 1, "Incorrect function. (os error 1)")
    assert os.listdir(tmp_path) == []


def test_hardlink_here(tmp_path: Path) -> None:
    assert probe.hardlink(tmp_path) == (True, None, None)
    assert os.listdir(tmp_path) == []


def test_symlink_without_developer_mode(tmp_path: Path) -> None:
    """CreateSymbolicLinkW without SeCreateSymbolicLinkPrivilege and without Developer Mode
    fails with ERROR_PRIVILEGE_NOT_HELD (Microsoft's CreateSymbolicLinkW documentation)."""

    def symlink(*args: object, **kwargs: object) -> None:
        raise win_error(probe.ERROR_PRIVILEGE_NOT_HELD)

    for op in (probe.symlink_file, probe.symlink_dir):
        result = op(tmp_path, symlink=symlink, strerror=format_message)
        assert result == (False, 1314, "A required privilege is not held by the client. (os error 1314)")
        assert os.listdir(tmp_path) == []


def test_symlinks_here(tmp_path: Path) -> None:
    assert probe.symlink_file(tmp_path) == (True, None, None)
    assert probe.symlink_dir(tmp_path) == (True, None, None)
    assert os.listdir(tmp_path) == []


# Junctions: tests/unit/test_probe_guarded.py, with a fake that behaves like _winapi.CreateJunction.


def test_rename_noreplace(tmp_path: Path) -> None:
    assert probe.rename_noreplace(tmp_path, rename=windows_rename) == (True, None, None)
    assert os.listdir(tmp_path) == []


def test_rename_that_replaces_is_a_failure(tmp_path: Path) -> None:
    ok, code, message = probe.rename_noreplace(tmp_path, rename=os.replace)
    assert (ok, code) == (False, None) and message
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("op", [probe.flock_shared, probe.flock_exclusive])
def test_lock_refused(tmp_path: Path, op: Any) -> None:
    """LockFileEx answering ERROR_NOT_SUPPORTED (50), as a file system without byte-range locks does."""
    calls: list[bool] = []

    def lock(fd: int, exclusive: bool) -> int:
        calls.append(exclusive)
        return 50

    assert op(tmp_path, lock=lock, strerror=format_message) == (
        False,
        50,
        "The request is not supported. (os error 50)",
    )
    assert calls == [op is probe.flock_exclusive]
    assert os.listdir(tmp_path) == []


def test_lock_granted(tmp_path: Path) -> None:
    assert probe.flock_shared(tmp_path, lock=lambda fd, exclusive: 0) == (True, None, None)
    assert os.listdir(tmp_path) == []


def test_case_sensitive_answers_and_cleans(tmp_path: Path) -> None:
    ok, code, message = probe.case_sensitive(tmp_path)
    assert isinstance(ok, bool) and code is None and message is None
    assert os.listdir(tmp_path) == []


def test_setup_failure_is_unknown(tmp_path: Path) -> None:
    ok, code, _ = probe.hardlink(tmp_path / "missing")
    assert (ok, code) == (None, 2)


@pytest.mark.parametrize(
    ("root", "expected"),
    [("E:\\", "\\\\.\\E:"), ("e:", "\\\\.\\E:"), ("C:\\mnt\\usb\\", None), ("\\\\nas\\share", None)],
)
def test_drive_device_path(root: str, expected: str | None) -> None:
    assert volumes.drive_device_path(root) == expected


# OneDrive folders and RAM disks ---------------------------------------------------------

HOME = "C:\\Users\\ana"
DOCUMENTS, DESKTOP, PICTURES = volumes.KNOWN_FOLDERS


def test_cloud_reparse_tags() -> None:
    """IO_REPARSE_TAG_CLOUD (0x9000001A) and CLOUD_1..F (0x9000101A..0x9000F01A), winnt.h."""
    assert all(volumes.is_cloud_tag(0x9000001A | n << 12) for n in range(16))
    assert not volumes.is_cloud_tag(0xA000000C)  # a symbolic link
    assert not volumes.is_cloud_tag(0xA0000003)  # a junction (mount point)
    assert not volumes.is_cloud_tag(0)


def onedrive_machine(asked: list[str]) -> dict[str, Any]:
    """A machine with a personal and a work OneDrive: the client sets %OneDrive% and writes each
    account's UserFolder under HKCU\\Software\\Microsoft\\OneDrive\\Accounts; folder backup moved
    Documents into the personal one, the Desktop stayed in place but is kept by the work account
    (its entry carries a cloud tag); Pictures is an ordinary folder."""
    accounts = {"Personal": f"{HOME}\\OneDrive", "Business1": f"{HOME}\\OneDrive - Contoso"}
    known = {DOCUMENTS: f"{HOME}\\OneDrive\\Documents", DESKTOP: f"{HOME}\\Desktop", PICTURES: f"{HOME}\\Pictures"}
    tags = {f"{HOME}\\Desktop": 0x9000601A, f"{HOME}\\Pictures": 0}

    def read_value(path: str, name: str) -> str | None:
        assert path.startswith(volumes.ONEDRIVE_ACCOUNTS) and name == "UserFolder"
        return accounts.get(path.rsplit("\\", 1)[1])

    def reparse_tag(path: str) -> int | None:
        asked.append(path)
        return tags.get(path)

    return {
        "env": {"OneDrive": f"{HOME}\\OneDrive", "OneDriveConsumer": f"{HOME}\\OneDrive"},
        "read_value": read_value,
        "known_folder": known.get,
        "reparse_tag": reparse_tag,
    }


def test_onedrive_roots_from_the_client_and_the_known_folders() -> None:
    asked: list[str] = []
    roots = volumes.onedrive_roots(**onedrive_machine(asked))
    assert roots == [f"{HOME}\\OneDrive", f"{HOME}\\OneDrive - Contoso", f"{HOME}\\Desktop"]
    # Documents lies in a sync root already: its tag is never asked; only folders are asked, no file
    assert asked == [f"{HOME}\\Desktop", f"{HOME}\\Pictures"]


def test_onedrive_folders_are_volumes_of_their_own() -> None:
    recorded = Recorded()
    found = volumes.list_volumes(
        partitions=recorded.partitions,
        remote_roots=lambda: [],
        ram_roots=lambda: [],
        volume_info=recorded.volume_info,
        drive_type=lambda root: int(recorded.doc["drive_type"][root]),
        bus_type=recorded.bus_type,
        system_drive=lambda: "C:",
        size=lambda root: None,
        **onedrive_machine([]),
    )
    onedrive = [v for v in found if v.fstype == "onedrive"]
    assert [v.mountpoint for v in onedrive] == [f"{HOME}\\OneDrive", f"{HOME}\\OneDrive - Contoso", f"{HOME}\\Desktop"]
    system = next(v for v in found if v.mountpoint == "C:\\")
    assert all(v.device == system.device and v.uuid == system.uuid and not v.system for v in onedrive)
    from uv_drive_guard.core.model import Os
    from uv_drive_guard.core.resolve import volume_of

    mounts = tuple(v.mountpoint for v in found)
    assert volume_of(Os.WINDOWS, f"{HOME}\\OneDrive\\Documents\\app\\.venv", mounts) == f"{HOME}\\OneDrive"
    assert volume_of(Os.WINDOWS, f"{HOME}\\AppData\\Local\\uv\\cache", mounts) == "C:\\"


def test_no_registry_no_onedrive_and_the_drives_all_the_same() -> None:
    recorded = Recorded()

    def no_registry(path: str, name: str) -> str | None:
        raise OSError(2, "the registry is not here")

    found = volumes.list_volumes(
        partitions=recorded.partitions,
        remote_roots=lambda: [],
        ram_roots=lambda: [],
        volume_info=recorded.volume_info,
        drive_type=lambda root: int(recorded.doc["drive_type"][root]),
        bus_type=recorded.bus_type,
        system_drive=lambda: "C:",
        size=lambda root: None,
        env={},
        read_value=no_registry,
        known_folder=lambda guid: None,
        reparse_tag=lambda path: None,
    )
    assert sorted(v.mountpoint for v in found) == ["C:\\", "E:\\", "F:\\", "G:\\"]


def test_a_ram_disk_is_listed_though_psutil_skips_it() -> None:
    """psutil's all=False leaves DRIVE_RAMDISK out; the listing asks those roots itself."""
    recorded = Recorded()
    info = {**recorded.doc["volume_info"], "R:\\": ["RAMDISK", 0x1234ABCD, "NTFS", 255, 0]}
    kinds = {**recorded.doc["drive_type"], "R:\\": volumes.DRIVE_RAMDISK}
    found = volumes.list_volumes(
        partitions=recorded.partitions,
        remote_roots=lambda: [],
        ram_roots=lambda: ["R:\\"],
        volume_info=lambda root: volumes.VolumeInfo(*info[root]) if info[root] else None,
        drive_type=lambda root: int(kinds[root]),
        bus_type=lambda root: None,
        system_drive=lambda: "C:",
        size=lambda root: None,
        env={},
        read_value=lambda path, name: None,
        known_folder=lambda guid: None,
        reparse_tag=lambda path: None,
    )
    ram = next(v for v in found if v.mountpoint == "R:\\")
    assert (ram.fstype, ram.label, ram.removable) == ("ntfs", "RAMDISK", False)


def test_canonicalize_refused_on_a_ram_disk(tmp_path: Path) -> None:
    """GetFinalPathNameByHandleW on an ImDisk drive: ERROR_INVALID_FUNCTION (uv #5651)."""

    def refuse(path: str) -> str:
        raise win_error(1)

    assert probe.canonicalize(tmp_path, realpath=refuse, strerror=format_message) == (
        False,
        1,
        "Incorrect function. (os error 1)",
    )
    assert probe.canonicalize(tmp_path) == (True, None, None)
