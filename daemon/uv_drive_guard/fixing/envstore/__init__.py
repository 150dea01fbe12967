"""Where a fix writes an environment variable so that new processes, and the next login, see it.

One Protocol over the per-OS stores (psutil's facade over private modules): the Windows user
registry key and macOS launchctl with a LaunchAgent. Linux uses shell files, handled elsewhere.
The shared parts live in `_common`, which the per-OS modules (`_macos`, `_windows`) import instead of
this one.
"""

from __future__ import annotations

from ...core.model import Os
from ...edges import platforms
from ._common import EnvStore, EnvStoreError, Saved, control_characters, quoted

__all__ = ["EnvStore", "EnvStoreError", "Saved", "control_characters", "native_store", "quoted"]


def native_store() -> EnvStore | None:
    """The store of this OS; None on Linux, where fixes edit shell files instead."""
    os_ = platforms.current()
    if os_ is Os.WINDOWS:
        from ._windows import RegistryEnvStore

        return RegistryEnvStore()
    if os_ is Os.MACOS:
        from ._macos import LaunchctlEnvStore

        return LaunchctlEnvStore()
    return None
