"""The Windows registry as the product reads it: hive names, value types, one key's values.

Shared by the settings reader (the Environment keys), the environment store that writes them
and the autostart Run key. The value types are named here so that Linux can test the parsing.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Mapping

if sys.platform == "win32":  # a type guard (winreg is Windows's), see edges.platforms
    import winreg

HKCU = "HKCU"
HKLM = "HKLM"
USER_KEY = "Environment"
MACHINE_KEY = "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"

# Registry value types (winreg.REG_*).
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_BINARY = 3
REG_DWORD = 4
REG_MULTI_SZ = 7
REG_QWORD = 11
REG_TYPE_NAMES: Mapping[int, str] = {
    0: "REG_NONE",
    REG_SZ: "REG_SZ",
    REG_EXPAND_SZ: "REG_EXPAND_SZ",
    REG_BINARY: "REG_BINARY",
    REG_DWORD: "REG_DWORD",
    REG_MULTI_SZ: "REG_MULTI_SZ",
    REG_QWORD: "REG_QWORD",
}
MAX_VALUES = 4096  # an Environment key holds a few dozen; stop at a broken one

# Values of one key, by name as stored: name -> (data, registry type).
KeyValues = Mapping[str, tuple[object, int]]
KeyReader = Callable[[str, str], KeyValues | None]


def read_key(hive: str, path: str) -> KeyValues | None:
    """All values of one key; None when the key is missing or not readable."""
    if sys.platform == "win32":
        root = winreg.HKEY_CURRENT_USER if hive == HKCU else winreg.HKEY_LOCAL_MACHINE
        try:
            with winreg.OpenKey(root, path, 0, winreg.KEY_READ) as key:
                count = min(winreg.QueryInfoKey(key)[1], MAX_VALUES)
                values: dict[str, tuple[object, int]] = {}
                for index in range(count):
                    name, data, kind = winreg.EnumValue(key, index)
                    values[name] = (data, kind)
                return values
        except OSError:  # FileNotFoundError, PermissionError, ERROR_NO_MORE_ITEMS mid-change
            return None
    raise OSError(errno.ENOSYS, "the registry exists only on Windows")
