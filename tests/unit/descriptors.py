"""Build STORAGE_DEVICE_DESCRIPTOR bytes from the real structure layout (constructed data).

The descriptors in tests/data/windows/volumes.json were not captured from hardware; they are
made here from the fields of each drive, the way storage drivers lay them out: the structure
(ctypes.sizeof: 40 bytes, RawDeviceProperties[1] padded), then each string NUL-terminated at the
offset its field names (0 when the device has none, as NVMe has no vendor id), Size the total.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping

from uv_drive_guard.edges.volumes._windows import StorageDeviceDescriptor

STRINGS = ("VendorIdOffset", "ProductIdOffset", "ProductRevisionOffset", "SerialNumberOffset")


def build(fields: Mapping[str, object]) -> bytes:
    head = StorageDeviceDescriptor()
    base = ctypes.sizeof(StorageDeviceDescriptor)
    tail = bytearray()
    for name in STRINGS:
        text = fields.get(name.removesuffix("Offset"))
        if text is None:
            continue
        setattr(head, name, base + len(tail))
        tail += str(text).encode("ascii") + b"\0"
    head.Version = base  # sizeof(STORAGE_DEVICE_DESCRIPTOR), as drivers fill it in
    head.Size = base + len(tail)
    head.DeviceType = int(fields.get("DeviceType", 0))  # type: ignore[call-overload]
    head.RemovableMedia = int(bool(fields.get("RemovableMedia")))
    head.BusType = int(fields["BusType"])  # type: ignore[call-overload]
    return bytes(head) + bytes(tail)


def strings(raw: bytes) -> dict[str, str | None]:
    """Each string read back at its offset, as a caller of the IOCTL would."""
    head = StorageDeviceDescriptor.from_buffer_copy(raw[: ctypes.sizeof(StorageDeviceDescriptor)])
    found: dict[str, str | None] = {}
    for name in STRINGS:
        offset = getattr(head, name)
        found[name.removesuffix("Offset")] = raw[offset : raw.index(b"\0", offset)].decode() if offset else None
    return found
