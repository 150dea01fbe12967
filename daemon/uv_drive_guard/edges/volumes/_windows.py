"""Windows volumes: drive letters, their file system, and whether they sit on USB or SD.

GetDriveTypeW alone says "fixed" for USB hard disks and SSDs, so the storage bus type
from IOCTL_STORAGE_QUERY_PROPERTY decides removability as well.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import logging
import os
import re
import shutil
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from typing import NamedTuple

import psutil

from uv_drive_guard.core import scope
from uv_drive_guard.core.model import Os, Volume
from uv_drive_guard.edges import registry
from uv_drive_guard.edges.volumes._common import Partition, PartitionLister

if sys.platform == "win32":
    from ctypes import wintypes

log = logging.getLogger(__name__)
# GetDriveTypeW results.
DRIVE_UNKNOWN = 0
DRIVE_NO_ROOT_DIR = 1
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
DRIVE_RAMDISK = 6

# STORAGE_BUS_TYPE values that mean "can be unplugged".
BUS_TYPE_USB = 7
BUS_TYPE_SD = 12
BUS_TYPE_MMC = 13
REMOVABLE_BUSES = frozenset({BUS_TYPE_USB, BUS_TYPE_SD, BUS_TYPE_MMC})

FILE_READ_ONLY_VOLUME = 0x00080000
SEM_FAILCRITICALERRORS = 0x0001

IOCTL_STORAGE_QUERY_PROPERTY = 0x002D1400
_DESCRIPTOR_SIZE = 1024


class StorageDeviceDescriptor(ctypes.Structure):
    """STORAGE_DEVICE_DESCRIPTOR (winioctl.h), the head of what IOCTL_STORAGE_QUERY_PROPERTY
    returns: DWORDs and BYTEs with natural alignment, 40 bytes with RawDeviceProperties[1] and
    its padding; the vendor, product, revision and serial strings follow, at their offsets."""

    _fields_ = [
        ("Version", ctypes.c_uint32),
        ("Size", ctypes.c_uint32),
        ("DeviceType", ctypes.c_uint8),
        ("DeviceTypeModifier", ctypes.c_uint8),
        ("RemovableMedia", ctypes.c_uint8),
        ("CommandQueueing", ctypes.c_uint8),
        ("VendorIdOffset", ctypes.c_uint32),
        ("ProductIdOffset", ctypes.c_uint32),
        ("ProductRevisionOffset", ctypes.c_uint32),
        ("SerialNumberOffset", ctypes.c_uint32),
        ("BusType", ctypes.c_uint32),  # STORAGE_BUS_TYPE, a 32-bit enum
        ("RawPropertiesLength", ctypes.c_uint32),
        ("RawDeviceProperties", ctypes.c_uint8 * 1),
    ]


_DESCRIPTOR_BUS_OFFSET: int = StorageDeviceDescriptor.BusType.offset  # 28
_DRIVE_ROOT = re.compile(r"[A-Za-z]:\\?")

# GetVolumeInformationW file system names -> the lowercase name the core knows.
FSTYPE_ALIASES: Mapping[str, str] = {
    "fat": "vfat",
    "fat12": "vfat",
    "fat16": "vfat",
    "fat32": "vfat",
    "cdfs": "iso9660",
}


class VolumeInfo(NamedTuple):
    """What GetVolumeInformationW returns for a root like "E:\\"."""

    label: str
    serial: int
    fs_name: str
    max_component: int
    flags: int


if sys.platform == "win32":

    @functools.cache
    def _kernel32() -> ctypes.WinDLL:
        """This module's own kernel32, every prototype declared once (never ctypes.windll's)."""
        dll = ctypes.WinDLL("kernel32", use_last_error=True)
        dword_p = ctypes.POINTER(wintypes.DWORD)
        prototypes: dict[str, tuple[tuple[type, ...], type]] = {
            "SetThreadErrorMode": ((wintypes.DWORD, dword_p), wintypes.BOOL),
            "GetVolumeInformationW": (
                (wintypes.LPCWSTR, wintypes.LPWSTR, wintypes.DWORD, dword_p, dword_p, dword_p, wintypes.LPWSTR,
                 wintypes.DWORD),
                wintypes.BOOL,
            ),
            "GetDriveTypeW": ((wintypes.LPCWSTR,), wintypes.UINT),
            "GetLogicalDrives": ((), wintypes.DWORD),
            "GetVolumeNameForVolumeMountPointW": ((wintypes.LPCWSTR, wintypes.LPWSTR, wintypes.DWORD), wintypes.BOOL),
            "CreateFileW": (
                (wintypes.LPCWSTR, wintypes.DWORD, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD, wintypes.DWORD,
                 wintypes.HANDLE),
                wintypes.HANDLE,
            ),
            "DeviceIoControl": (
                (wintypes.HANDLE, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD, wintypes.LPVOID, wintypes.DWORD,
                 dword_p, wintypes.LPVOID),
                wintypes.BOOL,
            ),
            "CloseHandle": ((wintypes.HANDLE,), wintypes.BOOL),
            "FindFirstFileW": ((wintypes.LPCWSTR, wintypes.LPVOID), wintypes.HANDLE),
            "FindClose": ((wintypes.HANDLE,), wintypes.BOOL),
        }  # fmt: skip
        for name, (argtypes, restype) in prototypes.items():
            function = getattr(dll, name)
            function.argtypes = argtypes
            function.restype = restype
        return dll


def get_volume_information(root: str) -> VolumeInfo | None:
    """GetVolumeInformationW; None for an empty card reader or an unreachable share."""
    if sys.platform == "win32":
        label = ctypes.create_unicode_buffer(261)
        fs_name = ctypes.create_unicode_buffer(261)
        serial, max_len, flags = wintypes.DWORD(), wintypes.DWORD(), wintypes.DWORD()
        kernel32 = _kernel32()
        old_mode = wintypes.DWORD()
        kernel32.SetThreadErrorMode(SEM_FAILCRITICALERRORS, ctypes.byref(old_mode))
        try:  # an empty card reader must not pop up "There is no disk in the drive"
            ok = kernel32.GetVolumeInformationW(
                root, label, 261, ctypes.byref(serial), ctypes.byref(max_len), ctypes.byref(flags), fs_name, 261
            )
        finally:
            kernel32.SetThreadErrorMode(old_mode.value, None)
        if not ok:
            return None
        return VolumeInfo(label.value, serial.value, fs_name.value, max_len.value, flags.value)
    raise OSError(errno.ENOSYS, "GetVolumeInformationW exists only on Windows")


def get_drive_type(root: str) -> int:
    """GetDriveTypeW: removable, fixed, remote, cdrom, ramdisk."""
    if sys.platform == "win32":
        return int(_kernel32().GetDriveTypeW(root))
    raise OSError(errno.ENOSYS, "GetDriveTypeW exists only on Windows")


def get_remote_roots(kind: int = DRIVE_REMOTE) -> list[str]:
    """Mapped network drive letters (GetLogicalDrives, then GetDriveTypeW, which reads the
    mapping and does not ask the server): listed without touching the share. With
    `kind=DRIVE_RAMDISK`, the RAM disks, which psutil's listing leaves out as well."""
    if sys.platform == "win32":
        mask = int(_kernel32().GetLogicalDrives())
        roots = [f"{chr(ord('A') + i)}:\\" for i in range(26) if mask >> i & 1]
        return [root for root in roots if get_drive_type(root) == kind]
    raise OSError(errno.ENOSYS, "GetLogicalDrives exists only on Windows")


def _ram_roots() -> list[str]:
    try:
        return get_remote_roots(DRIVE_RAMDISK)
    except OSError as exc:  # not on Windows: there are none to ask about
        log.debug("RAM disks not looked for: %s", exc)
        return []


def get_bus_type(root: str) -> int | None:
    """The storage bus under a drive letter; None for shares or when access is refused."""
    if sys.platform == "win32":
        device = drive_device_path(root) or _volume_device_path(root)
        raw = _query_storage_descriptor(device) if device else None
        return bus_type_from_descriptor(raw) if raw is not None else None
    raise OSError(errno.ENOSYS, "DeviceIoControl exists only on Windows")


def drive_device_path(root: str) -> str | None:
    r"""E:\ becomes \\.\E:, the device CreateFileW opens; None for a mounted folder."""
    return "\\\\.\\" + root[:2].upper() if _DRIVE_ROOT.fullmatch(root) else None


def bus_type_from_descriptor(raw: bytes) -> int | None:
    """Read BusType out of a STORAGE_DEVICE_DESCRIPTOR (offset 28, a 32-bit enum)."""
    if len(raw) < _DESCRIPTOR_BUS_OFFSET + 4:
        return None
    (bus,) = struct.unpack_from("<I", raw, _DESCRIPTOR_BUS_OFFSET)
    return int(bus)


def get_system_drive() -> str:
    """The volume Windows boots from: never offered as a removable drive."""
    return os.environ.get("SYSTEMDRIVE", "C:")


def disk_size(root: str) -> int | None:
    try:
        return shutil.disk_usage(root).total
    except OSError:
        return None


def real_fstype(fs_name: str, drive_type: int) -> str:
    """Lowercase file system; a mapped share is SMB whatever the server claims (often NTFS)."""
    lowered = fs_name.lower()
    if drive_type == DRIVE_REMOTE:
        return "nfs" if lowered == "nfs" else "smbfs"
    return FSTYPE_ALIASES.get(lowered, lowered)


def is_removable(drive_type: int, bus_type: int | None) -> bool | None:
    """USB disks report DRIVE_FIXED, so the bus decides too; shares are unknown."""
    if drive_type == DRIVE_REMOVABLE or bus_type in REMOVABLE_BUSES:
        return True
    if drive_type == DRIVE_REMOTE:
        return None
    return False


def serial_text(serial: int) -> str:
    """The volume serial as `vol` and `dir` print it: "A8C0-1E62"."""
    return f"{(serial >> 16) & 0xFFFF:04X}-{serial & 0xFFFF:04X}"


def same_drive(root: str, drive: str) -> bool:
    return scope.windows_system(root, drive)


def volume_from_info(
    part: Partition,
    info: VolumeInfo,
    drive_type: int,
    bus_type: int | None,
    *,
    system: str,
    size: int | None = None,
) -> Volume:
    """One drive letter (or mounted folder) as the core sees it."""
    return Volume(
        mountpoint=part.mountpoint,
        device=part.device,
        fstype=real_fstype(info.fs_name, drive_type),
        mount_fstype=part.fstype or info.fs_name,
        label=info.label or None,
        uuid=serial_text(info.serial) if info.serial else None,
        read_only=bool(info.flags & FILE_READ_ONLY_VOLUME) or "ro" in part.opts.split(","),
        removable=is_removable(drive_type, bus_type),
        system=same_drive(part.mountpoint, system),
        size=size,
    )


class _RemotePartition(NamedTuple):
    """A mapped drive psutil was not asked about, shaped like its sdiskpart."""

    device: str
    mountpoint: str
    fstype: str
    opts: str


REMOTE_TIMEOUT = 2.0  # seconds; a disconnected share makes GetVolumeInformationW wait for SMB's timeout
_ASKING: set[str] = set()  # shares whose GetVolumeInformationW has not returned yet
_ASKING_LOCK = threading.Lock()


def bounded_volume_info(
    root: str, volume_info: Callable[[str], VolumeInfo | None], timeout: float = REMOTE_TIMEOUT
) -> VolumeInfo | None:
    """Ask a share in a worker and wait at most `timeout`: a share still being asked from an
    earlier scan is not asked again, so a dead server costs one waiting thread, not one per scan."""
    key = root.upper()
    with _ASKING_LOCK:
        if key in _ASKING:
            return None
        _ASKING.add(key)
    answer: list[VolumeInfo | None] = []

    def ask() -> None:
        try:
            answer.append(volume_info(root))
        except OSError as exc:
            log.debug("share %s did not answer: %s", root, exc)
        finally:
            with _ASKING_LOCK:
                _ASKING.discard(key)

    worker = threading.Thread(target=ask, name=f"share {root}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        log.info("network drive %s did not answer within %.0f s: left out of this scan", root, timeout)
        return None
    return answer[0] if answer else None


def list_volumes(
    *,
    partitions: PartitionLister = psutil.disk_partitions,
    remote_roots: Callable[[], list[str]] = get_remote_roots,
    ram_roots: Callable[[], list[str]] | None = None,
    volume_info: Callable[[str], VolumeInfo | None] = get_volume_information,
    drive_type: Callable[[str], int] = get_drive_type,
    bus_type: Callable[[str], int | None] = get_bus_type,
    system_drive: Callable[[], str] = get_system_drive,
    size: Callable[[str], int | None] = disk_size,
    remote_timeout: float = REMOTE_TIMEOUT,
    env: Mapping[str, str] | None = None,
    read_value: Callable[[str, str], str | None] | None = None,
    known_folder: Callable[[str], str | None] | None = None,
    reparse_tag: Callable[[str], int | None] | None = None,
) -> list[Volume]:
    """Every drive with a readable file system, mapped network drives included.

    psutil.disk_partitions(all=True) calls GetVolumeInformation on every mapped drive in turn
    (psutil/arch/windows/disk.c), and a disconnected one stalls the whole listing for SMB's
    timeout; all=False skips DRIVE_REMOTE before that call. So the local drives come from
    all=False, and each mapped drive is asked on its own, bounded in time."""
    system = system_drive()
    parts: list[Partition] = list(partitions(all=False))
    listed = {str(part.mountpoint).upper() for part in parts}
    parts += [_RemotePartition(r, r, "", "remote") for r in remote_roots() if r.upper() not in listed]
    # psutil's all=False also skips DRIVE_RAMDISK: RAM disks are local, asked like any drive
    parts += [_RemotePartition(r, r, "", "rw") for r in (ram_roots or _ram_roots)() if r.upper() not in listed]
    volumes: list[Volume] = []
    for part in parts:
        kind = drive_type(part.mountpoint)
        remote = kind == DRIVE_REMOTE
        info = (
            bounded_volume_info(part.mountpoint, volume_info, remote_timeout)
            if remote
            else volume_info(part.mountpoint)
        )
        if info is None:  # no medium in the reader, or a disconnected share
            continue
        bus = None if remote else bus_type(part.mountpoint)
        volumes.append(volume_from_info(part, info, kind, bus, system=system, size=size(part.mountpoint)))
    try:
        roots = onedrive_roots(
            os.environ if env is None else env,
            read_value or read_user_value,
            known_folder or known_folder_path,
            reparse_tag or find_reparse_tag,
        )
    except OSError as exc:  # no registry or shell here: the drives are listed all the same
        log.info("OneDrive folders not looked for: %s", exc)
        roots = []
    return volumes + onedrive_volumes(roots, volumes)


def _volume_device_path(root: str) -> str | None:
    r"""A mounted folder's volume, \\?\Volume{guid}: without its final backslash it opens the device."""
    if sys.platform == "win32":
        name = ctypes.create_unicode_buffer(50)
        mount = root if root.endswith("\\") else root + "\\"
        if not _kernel32().GetVolumeNameForVolumeMountPointW(mount, name, 50):
            return None
        return str(name.value).rstrip("\\")
    raise OSError(errno.ENOSYS, "GetVolumeNameForVolumeMountPointW exists only on Windows")


INVALID_HANDLE_VALUE = (1 << 64) - 1 if struct.calcsize("P") == 8 else (1 << 32) - 1


def _query_storage_descriptor(device_path: str) -> bytes | None:
    """IOCTL_STORAGE_QUERY_PROPERTY(StorageDeviceProperty) with no access rights needed."""
    if sys.platform == "win32":
        kernel32 = _kernel32()
        handle = kernel32.CreateFileW(
            device_path, 0, 0x1 | 0x2, None, 3, 0, None
        )  # 0 access, FILE_SHARE_READ | FILE_SHARE_WRITE, OPEN_EXISTING
        if handle is None or handle == INVALID_HANDLE_VALUE:
            return None
        try:
            query = struct.pack("<III", 0, 0, 0)  # StorageDeviceProperty, PropertyStandardQuery
            out = ctypes.create_string_buffer(_DESCRIPTOR_SIZE)
            returned = wintypes.DWORD()
            ok = kernel32.DeviceIoControl(
                handle, IOCTL_STORAGE_QUERY_PROPERTY, query, len(query), out, _DESCRIPTOR_SIZE,
                ctypes.byref(returned), None,
            )  # fmt: skip
            return out.raw[: returned.value] if ok else None
        finally:
            kernel32.CloseHandle(handle)
    raise OSError(errno.ENOSYS, "DeviceIoControl exists only on Windows")


# --- OneDrive folders -------------------------------------------------------------------
# A OneDrive folder is no volume of its own: it is a folder of the NTFS system drive whose files
# are cloud files (the Cloud Files API's placeholders, reparse tag IO_REPARSE_TAG_CLOUD_*). Hard
# links into it fail with os error 396 and junctions with 448 (uv #17945, #9500, #19616). The
# listing shows each sync root as a volume of kind "onedrive" mounted at that folder, so that
# every path below it is judged as OneDrive's. Found without opening a file (opening a
# placeholder downloads it): the client's variables and registry values, the user's known
# folders (Documents, Desktop, Pictures: OneDrive's folder backup moves them), and for those
# the reparse tag FindFirstFileW reports for the folder itself.

ONEDRIVE_VARIABLES = ("OneDrive", "OneDriveConsumer", "OneDriveCommercial")
ONEDRIVE_ACCOUNTS = "Software\\Microsoft\\OneDrive\\Accounts"
ONEDRIVE_ACCOUNT_KEYS = ("Personal", *(f"Business{n}" for n in range(1, 10)))
IO_REPARSE_TAG_CLOUD = 0x9000001A  # IO_REPARSE_TAG_CLOUD_1..F set bits 12-15 (winnt.h)
IO_REPARSE_TAG_CLOUD_MASK = 0x0000F000
FILE_ATTRIBUTE_REPARSE_POINT = 0x400
# FOLDERID_Documents, FOLDERID_Desktop, FOLDERID_Pictures (KnownFolders.h)
KNOWN_FOLDERS = (
    "{FDD39AD0-238F-46AF-ADB4-6C85480369C7}",
    "{B4BFCC3A-DB2C-424C-B029-7FE99A87C641}",
    "{33E28130-4E1E-4676-835A-98395C3BC3BB}",
)


def is_cloud_tag(tag: int) -> bool:
    """IO_REPARSE_TAG_CLOUD and its sixteen variants (bits 12 to 15 free)."""
    return tag & ~IO_REPARSE_TAG_CLOUD_MASK & 0xFFFFFFFF == IO_REPARSE_TAG_CLOUD


def onedrive_roots(
    env: Mapping[str, str],
    read_value: Callable[[str, str], str | None],
    known_folder: Callable[[str], str | None],
    reparse_tag: Callable[[str], int | None],
) -> list[str]:
    """Every OneDrive folder of this user, most particular last: the sync roots the client
    names, then known folders OneDrive keeps that lie outside them (a cloud reparse tag)."""
    roots = [env[name] for name in ONEDRIVE_VARIABLES if env.get(name)]
    for account in ONEDRIVE_ACCOUNT_KEYS:
        folder = read_value(f"{ONEDRIVE_ACCOUNTS}\\{account}", "UserFolder")
        if folder:
            roots.append(folder)
    for guid in KNOWN_FOLDERS:
        folder = known_folder(guid)
        if not folder or any(scope.under_mount_root(Os.WINDOWS, folder, (r,)) or _same(folder, r) for r in roots):
            continue
        tag = reparse_tag(folder)
        if tag is not None and is_cloud_tag(tag):
            roots.append(folder)
    return list(dict.fromkeys(r.rstrip("\\/") for r in roots if _DRIVE_ROOT.match(r[:3])))


def _same(a: str, b: str) -> bool:
    return a.rstrip("\\/").lower() == b.rstrip("\\/").lower()


def onedrive_volumes(roots: list[str], volumes: list[Volume]) -> list[Volume]:
    """A volume per OneDrive folder, on the drive that holds it (its identity, its label)."""
    out = []
    for root in roots:
        drive = next((v for v in volumes if _same(v.mountpoint[:2], root[:2])), None)
        if drive is None:
            continue
        out.append(
            Volume(
                mountpoint=root,
                device=drive.device,
                fstype="onedrive",
                mount_fstype=drive.mount_fstype,
                label="OneDrive",
                uuid=drive.uuid,
                removable=False,
                system=False,
                root=root[len(drive.mountpoint.rstrip("\\")) :] or "\\",
                bind_of=None,
            )
        )
    return out


def read_user_value(path: str, name: str) -> str | None:
    """One string value under HKCU; None when missing."""
    values = registry.read_key(registry.HKCU, path)
    found = values.get(name) if values else None
    return found[0] if found and isinstance(found[0], str) else None


def find_reparse_tag(path: str) -> int | None:
    """The reparse tag FindFirstFileW reports for `path` (WIN32_FIND_DATAW.dwReserved0): the
    directory entry is read, the file is never opened (opening a placeholder downloads it)."""
    if sys.platform == "win32":
        data = _Win32FindData()
        handle = _kernel32().FindFirstFileW(path.rstrip("\\/"), ctypes.byref(data))
        if handle is None or handle == INVALID_HANDLE_VALUE:
            return None
        _kernel32().FindClose(handle)
        return int(data.dwReserved0) if data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT else 0
    raise OSError(errno.ENOSYS, "FindFirstFileW exists only on Windows")


def known_folder_path(guid: str) -> str | None:
    """SHGetKnownFolderPath: where Windows keeps one of the user's folders now."""
    if sys.platform == "win32":
        shell32, ole32 = _shell()
        folder = ctypes.create_string_buffer(16)
        if ole32.CLSIDFromString(guid, folder) != 0:
            return None
        path = ctypes.c_wchar_p()
        if shell32.SHGetKnownFolderPath(folder, 0, None, ctypes.byref(path)) != 0:
            return None
        try:
            return path.value
        finally:
            ole32.CoTaskMemFree(path)
    raise OSError(errno.ENOSYS, "SHGetKnownFolderPath exists only on Windows")


if sys.platform == "win32":

    @functools.cache
    def _shell() -> tuple[ctypes.WinDLL, ctypes.WinDLL]:
        """shell32 and ole32 for the known folders, their prototypes declared once."""
        shell32 = ctypes.WinDLL("shell32", use_last_error=True)
        ole32 = ctypes.WinDLL("ole32", use_last_error=True)
        prototypes: dict[str, tuple[ctypes.WinDLL, tuple[type, ...], type | None]] = {
            "SHGetKnownFolderPath": (
                shell32, (wintypes.LPVOID, wintypes.DWORD, wintypes.HANDLE, wintypes.LPVOID), ctypes.c_long
            ),
            "CLSIDFromString": (ole32, (wintypes.LPCWSTR, wintypes.LPVOID), ctypes.c_long),
            "CoTaskMemFree": (ole32, (wintypes.LPVOID,), None),
        }  # fmt: skip
        for name, (dll, argtypes, restype) in prototypes.items():
            function = getattr(dll, name)
            function.argtypes = argtypes
            function.restype = restype
        return shell32, ole32

    class _Win32FindData(ctypes.Structure):
        """WIN32_FIND_DATAW (minwinbase.h): dwReserved0 holds the reparse tag."""

        _fields_ = [
            ("dwFileAttributes", wintypes.DWORD),
            ("ftCreationTime", wintypes.FILETIME),
            ("ftLastAccessTime", wintypes.FILETIME),
            ("ftLastWriteTime", wintypes.FILETIME),
            ("nFileSizeHigh", wintypes.DWORD),
            ("nFileSizeLow", wintypes.DWORD),
            ("dwReserved0", wintypes.DWORD),
            ("dwReserved1", wintypes.DWORD),
            ("cFileName", wintypes.WCHAR * 260),
            ("cAlternateFileName", wintypes.WCHAR * 14),
        ]
