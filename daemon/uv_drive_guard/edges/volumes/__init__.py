"""The mounted volumes, from the module for this OS (chosen by edges.platforms; tests may override)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ...core.model import Os, Volume
from ...core.scope import DEFAULT_MOUNT_ROOTS
from .. import platforms


def _native() -> Callable[[tuple[str, ...]], list[Volume]]:
    """The listing for this OS; only Linux's reads the mount roots (macOS asks diskutil about
    every mount, Windows every drive letter, whatever their place)."""
    os_ = platforms.current()
    if os_ is Os.WINDOWS:
        from . import _windows

        return lambda _roots: _windows.list_volumes()
    if os_ is Os.MACOS:
        from . import _macos

        return lambda _roots: _macos.list_volumes()
    from . import _linux

    return lambda roots: _linux.list_volumes(roots)


def list_volumes(mount_roots: Iterable[str] = DEFAULT_MOUNT_ROOTS) -> list[Volume]:
    """`mount_roots`: the user's scope.mount_roots, where a device is taken for a drive."""
    return _native()(tuple(mount_roots))


def get_remote_roots() -> list[str]:
    """Windows: the mapped network drives' roots, from the drive letters alone (no server is asked)."""
    from . import _windows

    return _windows.get_remote_roots()


def volume_serial(root: str) -> str:
    """A volume's serial as eight hex digits on Windows; "" elsewhere, or when it cannot be read."""
    if platforms.current() is not Os.WINDOWS:
        return ""
    from . import _windows

    info = _windows.get_volume_information(root)
    return f"{info.serial:08X}" if info is not None else ""
