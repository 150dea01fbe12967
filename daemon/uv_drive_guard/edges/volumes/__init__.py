"""The mounted volumes, from the module for this OS (chosen here, once; tests may override)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ...core.model import Volume


def _native() -> Callable[[], list[Volume]]:
    if sys.platform == "win32":
        from . import _windows

        return _windows.list_volumes
    if sys.platform == "darwin":
        from . import _macos

        return _macos.list_volumes
    from . import _linux

    return _linux.list_volumes


def list_volumes() -> list[Volume]:
    return _native()()
