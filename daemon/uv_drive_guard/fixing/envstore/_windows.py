"""HKCU\\Environment as a persistent variable store, the way userpath edits it.

Keep the value's registry type (REG_EXPAND_SZ stays expandable), never write HKLM, and
broadcast WM_SETTINGCHANGE "Environment" so Explorer hands new processes the new value.
"""

from __future__ import annotations

import base64
import errno
import functools
import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast

from ...edges.registry import (
    HKCU,
    HKLM,
    MACHINE_KEY,
    REG_EXPAND_SZ,
    REG_SZ,
    REG_TYPE_NAMES,
    USER_KEY,
    read_key,
)
from ._common import EnvStoreError, Saved, control_characters, quoted

if sys.platform == "win32":
    import ctypes
    import winreg
    from ctypes import wintypes

log = logging.getLogger(__name__)

HWND_BROADCAST = 0xFFFF
WM_SETTINGCHANGE = 0x1A
SMTO_ABORTIFHUNG = 0x0002
BROADCAST_TIMEOUT_MS = 5000
STRING_TYPES = (REG_SZ, REG_EXPAND_SZ)
_REFERENCE = re.compile(r"%[^%]+%")  # what ExpandEnvironmentStrings replaces
_TYPE_BY_NAME = {type_name: kind for kind, type_name in REG_TYPE_NAMES.items()}


class Registry(Protocol):
    """One registry key's values by name; names ignore case as Windows does."""

    def read(self, name: str) -> tuple[object, int] | None: ...

    def write(self, name: str, value: object, kind: int) -> None: ...

    def delete(self, name: str) -> None: ...


MachineReader = Callable[[str], tuple[object, int] | None]


def lookup(hive: str, path: str, name: str) -> tuple[object, int] | None:
    """One value of a key through the settings reader, matched without regard to case."""
    values = read_key(hive, path)
    if values is None:
        return None
    for stored, found in values.items():
        if stored.upper() == name.upper():
            return found
    return None


def machine_value(name: str) -> tuple[object, int] | None:
    """The machine-wide value, read only: this store never writes HKLM."""
    return lookup(HKLM, MACHINE_KEY, name)


class UserEnvironment:
    """HKCU\\Environment through winreg; OSError becomes EnvStoreError."""

    def read(self, name: str) -> tuple[object, int] | None:
        return lookup(HKCU, USER_KEY, name)

    def write(self, name: str, value: object, kind: int) -> None:
        if sys.platform == "win32":
            try:
                with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, USER_KEY, 0, winreg.KEY_SET_VALUE) as key:
                    winreg.SetValueEx(key, name, 0, kind, cast(Any, value))  # str, or data saved from the key
            except OSError as error:
                raise EnvStoreError(f"cannot write {name} in HKCU\\{USER_KEY}: {error}") from error
            return
        raise OSError(errno.ENOSYS, "the registry exists only on Windows")

    def delete(self, name: str) -> None:
        if sys.platform == "win32":
            try:
                with winreg.OpenKey(winreg.HKEY_CURRENT_USER, USER_KEY, 0, winreg.KEY_SET_VALUE) as key:
                    winreg.DeleteValue(key, name)
            except FileNotFoundError:  # already gone: the wanted state
                return
            except OSError as error:
                raise EnvStoreError(f"cannot remove {name} from HKCU\\{USER_KEY}: {error}") from error
            return
        raise OSError(errno.ENOSYS, "the registry exists only on Windows")


if sys.platform == "win32":

    @functools.cache
    def _send_message_timeout() -> Any:
        """SendMessageTimeoutW on this module's own user32, declared once: windll's is everyone's."""
        send = ctypes.WinDLL("user32", use_last_error=True).SendMessageTimeoutW
        send.argtypes = [
            wintypes.HWND,
            wintypes.UINT,
            wintypes.WPARAM,
            wintypes.LPCWSTR,
            wintypes.UINT,
            wintypes.UINT,
            ctypes.POINTER(wintypes.WPARAM),  # PDWORD_PTR: pointer-sized
        ]
        send.restype = wintypes.LPARAM
        return send


def broadcast_environment() -> bool:
    """Tell Explorer and others to reload the environment; False if a window did not answer in time."""
    if sys.platform == "win32":
        send = _send_message_timeout()
        result = wintypes.WPARAM(0)
        sent = send(
            HWND_BROADCAST,
            WM_SETTINGCHANGE,
            0,
            "Environment",
            SMTO_ABORTIFHUNG,
            BROADCAST_TIMEOUT_MS,
            ctypes.byref(result),
        )
        if not sent:
            log.warning("WM_SETTINGCHANGE broadcast failed or timed out (error %d)", ctypes.get_last_error())
        return bool(sent)
    raise OSError(errno.ENOSYS, "WM_SETTINGCHANGE exists only on Windows")


def new_kind(value: str) -> int:
    """A value with %VAR% references must stay expandable; anything else is a plain string."""
    return REG_EXPAND_SZ if _REFERENCE.search(value) else REG_SZ


def type_name(kind: int) -> str:
    return REG_TYPE_NAMES.get(kind, f"REG_{kind}")


def type_number(name: str) -> int:
    """Inverse of type_name, including the REG_<n> form used for unnamed types."""
    if name in _TYPE_BY_NAME:
        return _TYPE_BY_NAME[name]
    number = name.removeprefix("REG_")
    if number.isdigit():
        return int(number)
    raise ValueError(f"unknown registry type {name!r}")


def check_name(name: str) -> None:
    if not name or "=" in name or control_characters(name):
        raise ValueError(f"not a variable name: {name!r}")


def check_value(name: str, value: str) -> None:
    if control_characters(value):
        raise ValueError(f"refusing a value with NUL, newline or other control characters for {name}")


def encode_data(data: object) -> tuple[tuple[str, str], ...]:
    """Non-string registry data (REG_DWORD, REG_BINARY, REG_MULTI_SZ) kept exactly for undo."""
    if isinstance(data, bytes):
        return (("data_base64", base64.b64encode(data).decode("ascii")),)
    return (("data_json", json.dumps(data)),)


def decode_data(saved: Saved) -> object:
    extra = dict(saved.extra)
    if "data_base64" in extra:
        return base64.b64decode(extra["data_base64"])
    if "data_json" in extra:
        return json.loads(extra["data_json"])
    return saved.value


class RegistryEnvStore:
    """Variables in HKCU\\Environment; the user value wins over the machine one, except for Path."""

    def __init__(
        self,
        *,
        registry: Registry | None = None,
        broadcast: Callable[[], object] = broadcast_environment,
        machine: MachineReader = machine_value,
    ) -> None:
        self.name = f"{HKCU}\\{USER_KEY}"
        self.registry: Registry = registry if registry is not None else UserEnvironment()
        self.broadcast = broadcast
        self.machine = machine

    def save(self, names: Iterable[str]) -> list[Saved]:
        return [self._save_one(name) for name in names]

    def _save_one(self, name: str) -> Saved:
        found = self.registry.read(name)
        if found is None:
            return Saved(name, None)
        data, kind = found
        if isinstance(data, str) and kind in STRING_TYPES:
            return Saved(name, data, type_name(kind))
        return Saved(name, str(data), type_name(kind), encode_data(data))

    def set(self, name: str, value: str) -> None:
        check_name(name)
        check_value(name, value)
        self.registry.write(name, value, self._kind_for(name, value))
        self.broadcast()

    def unset(self, name: str) -> None:
        check_name(name)
        if self.registry.read(name) is not None:
            self.registry.delete(name)
        self.broadcast()

    def restore(self, saved: Iterable[Saved]) -> None:
        for item in saved:
            if item.value is None:
                if self.registry.read(item.name) is not None:
                    self.registry.delete(item.name)
            else:
                kind = type_number(item.kind) if item.kind is not None else new_kind(item.value)
                self.registry.write(item.name, decode_data(item), kind)
        self.broadcast()

    def _kind_for(self, name: str, value: str) -> int:
        """Keep REG_SZ or REG_EXPAND_SZ as found (userpath's rule); choose for new or non-string values."""
        found = self.registry.read(name)
        if found is not None and found[1] in STRING_TYPES:
            return found[1]
        return new_kind(value)

    def describe_set(self, name: str, value: str) -> str:
        check_name(name)
        check_value(name, value)
        line = f"{self.name}: set {name} = {quoted(value)} ({type_name(self._kind_for(name, value))})"
        found = self.registry.read(name)
        if found is not None:
            line += f", replacing {quoted(str(found[0]))} ({type_name(found[1])})"
        return line + self._machine_note(name, unset=False)

    def describe_unset(self, name: str) -> str:
        check_name(name)
        found = self.registry.read(name)
        if found is None:
            return f"{self.name}: {name} is not set; nothing to remove"
        line = f"{self.name}: remove {name} (was {quoted(str(found[0]))}, {type_name(found[1])})"
        return line + self._machine_note(name, unset=True)

    def _machine_note(self, name: str, *, unset: bool) -> str:
        machine = self.machine(name)
        if machine is None:
            return ""
        where = f"{HKLM}\\{MACHINE_KEY}"
        shown = quoted(str(machine[0]))
        if name.upper() == "PATH":  # Path is the one variable Windows joins: machine;user
            return f"; appended to the machine-wide Path in {where}, which is left as is"
        if unset:
            return f"; the machine-wide value {shown} in {where} then applies; the machine value is left as is"
        return f"; overrides the machine-wide value {shown} in {where}; the machine value is left as is"
