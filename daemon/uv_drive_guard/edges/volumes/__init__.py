"""The mounted volumes, from the module for this OS (chosen here, once; tests may override)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from ...core.model import Volume
from ...core.scope import DEFAULT_MOUNT_ROOTS


def _native() -> Callable[[tuple[str, ...]], list[Volume]]:
    """The listing for this OS; only Linux's reads the mount roots (macOS asks diskutil about
    every mount, Windows every drive letter, whatever their place)."""
    if sys.platform == "win32":
        from . import _windows

        return lambda _roots: _windows.list_volumes()
    if sys.platform == "darwin":
        from . import _macos

        return lambda _roots: _macos.list_volumes()
    from . import _linux

    return lambda roots: _linux.list_volumes(roots)


def list_volumes(mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS) -> list[Volume]:
    """`mount_roots`: the user's scope.mount_roots, where a device is taken for a drive."""
    return _native()(tuple(mount_roots))
