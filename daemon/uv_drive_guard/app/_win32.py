"""What the app's Windows modules share: declaring ctypes prototypes on a library of their own.

ctypes.windll's function objects are shared by the whole process, so every module loads its
own WinDLL and declares the prototypes of what it calls on it (tests/unit/test_session_windows.py
keeps it so).
"""

from __future__ import annotations

import sys

if sys.platform == "win32":
    import ctypes

    Prototypes = dict[str, tuple[tuple[type, ...], type | None]]

    def declare(dll: ctypes.WinDLL, prototypes: Prototypes) -> ctypes.WinDLL:
        """Each function's argument and result types, on this module's own library instance."""
        for name, (argtypes, restype) in prototypes.items():
            function = getattr(dll, name)
            function.argtypes = argtypes
            function.restype = restype
        return dll
