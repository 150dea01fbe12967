"""Which operating system this is: sys.platform mapped to the product's `Os`, once, here.

psutil's model (`_common.py` names the OS once, `__init__.py` picks `_pslinux`/`_pswindows` by
it): every facade (edges.volumes, edges.probe, edges.settings, fixing.envstore, app.autostart,
app.watch, the tray host, the text editor, the portable registry) asks `current()` or `known()`
and imports its per-OS module by the answer. sys.platform is read at each call, not at import,
so a test that sets it sees its value.

The `if sys.platform == "win32":` (or "darwin") lines left inside per-OS modules choose nothing:
they are type guards, the only form mypy's --platform narrows, so that winreg, ctypes.windll or
os.statvfs are checked on the systems that have them (.ci/typecheck-platforms). The few
`os.name` tests elsewhere (atomic replace, verify, the walk, uvcli, bounded, explain) ask how this
Python spells paths and what it can call, never which OS a rule or a fix is about.
"""

from __future__ import annotations

import sys

from ..core.model import Os


def known(platform: str | None = None) -> Os | None:
    """The OS for a sys.platform value, None for a system without its own modules here (FreeBSD...)."""
    name = sys.platform if platform is None else platform
    if name == "win32":
        return Os.WINDOWS
    if name == "darwin":
        return Os.MACOS
    if name.startswith("linux"):
        return Os.LINUX
    return None


def current(platform: str | None = None) -> Os:
    """The OS whose rules and paths apply: another Unix is taken as Linux (XDG paths, POSIX probes)."""
    return known(platform) or Os.LINUX
