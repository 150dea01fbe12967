"""launchctl as the product runs it: the tool's absolute path, its time bound, `getenv`'s answer.

Shared by the settings reader (what GUI apps get) and the environment store that writes it.
"""

from __future__ import annotations

import subprocess

from . import proc

LAUNCHCTL = "/bin/launchctl"  # absolute: never let PATH pick the tool
LAUNCHCTL_TIMEOUT = 5.0
MAX_AGENT_BYTES = 1 << 20  # a LaunchAgent plist is a few hundred bytes; a larger one is not read


def launchctl_getenv(name: str) -> str | None:
    """`launchctl getenv NAME` prints the value and a newline, or nothing when unset."""
    try:
        done = proc.run([LAUNCHCTL, "getenv", name], text=True, timeout=LAUNCHCTL_TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        return None
    return getenv_value(done.stdout, done.returncode)


def getenv_value(stdout: str, returncode: int) -> str | None:
    """An unset name and an empty value look the same to launchctl: both are "not set"."""
    value = stdout.removesuffix("\n")
    return value if returncode == 0 and value else None
