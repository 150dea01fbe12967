"""Start at login on macOS: a LaunchAgent in ~/Library/LaunchAgents, loaded into the GUI domain.

launchd reads the agents folder at every login; `launchctl bootstrap` loads it now as well.
System Settings > General > Login Items (or `launchctl disable`) can switch a label off: then
`launchctl print-disabled gui/<uid>` lists it as disabled and bootstrap would refuse it.
No Dock icon is the app bundle's business (LSUIElement), not the agent's.
"""

from __future__ import annotations

import errno
import os
import plistlib
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from xml.parsers.expat import ExpatError

from ...edges import proc
from ...edges.launchctl import LAUNCHCTL
from ...fixing import atomic
from ._common import (
    DISABLED,
    DISABLED_BY_SYSTEM,
    ENABLED,
    UNKNOWN,
    State,
    StatusFromState,
    command,
    home_relative,
)

LABEL = "io.github.uv-drive-guard"
LAUNCHCTL_TIMEOUT = 10.0  # bootstrap and bootout take longer than getenv
PLIST_MODE = 0o644  # launchd ignores agents that others may write
# `"label" => disabled` (macOS 11+) or `"label" => true` (older: true meant disabled).
_DISABLED_LINE = re.compile(r'^\s*"([^"]+)"\s*=>\s*([A-Za-z]+)\s*$')

# `launchctl ARGS...` -> (exit status, stdout and stderr).
Launchctl = Callable[[Sequence[str]], tuple[int, str]]


def run_launchctl(args: Sequence[str]) -> tuple[int, str]:
    try:
        done = proc.run([LAUNCHCTL, *args], text=True, timeout=LAUNCHCTL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        return -1, str(error)
    return done.returncode, (done.stdout + done.stderr).strip()


def current_uid() -> int:
    if sys.platform == "win32":
        raise OSError(errno.ENOSYS, "launchd exists only on macOS")
    return os.getuid()


def agent_plist(argv: Sequence[str]) -> bytes:
    return plistlib.dumps(
        {
            "Label": LABEL,
            "ProgramArguments": list(argv),
            "RunAtLoad": True,
            "ProcessType": "Interactive",  # a UI app: no background throttling
            "LimitLoadToSessionType": "Aqua",  # only in a logged-in GUI session, not over ssh
        },
        fmt=plistlib.FMT_XML,
    )


def disabled_labels(text: str) -> dict[str, bool]:
    """`launchctl print-disabled` output: label -> True when switched off."""
    found: dict[str, bool] = {}
    for line in text.splitlines():
        match = _DISABLED_LINE.match(line)
        if match:
            found[match.group(1)] = match.group(2).lower() in ("disabled", "true")
    return found


class MacAutostart(StatusFromState):
    def __init__(
        self,
        home: str | None = None,
        *,
        uid: int | None = None,
        argv: Callable[[], list[str]] = command,
        launchctl: Launchctl = run_launchctl,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.home = home or str(Path.home())
        self.path = Path(self.home, "Library", "LaunchAgents", f"{LABEL}.plist")
        self.uid = uid if uid is not None else current_uid()
        self.domain = f"gui/{self.uid}"
        self.service = f"{self.domain}/{LABEL}"
        self.argv = argv
        self.launchctl = launchctl
        # launchd names its jobs in XPC_SERVICE_NAME: then we are the agent, and bootout would end us.
        self.inside_agent = environ.get("XPC_SERVICE_NAME") == LABEL

    def state(self) -> State:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return DISABLED
        except OSError:
            return UNKNOWN
        try:
            agent = plistlib.loads(data)
        except (plistlib.InvalidFileException, ExpatError, ValueError):
            return UNKNOWN
        if not isinstance(agent, dict) or agent.get("Label") != LABEL:
            return UNKNOWN
        return DISABLED_BY_SYSTEM if self.switched_off() else ENABLED

    def switched_off(self) -> bool | None:
        status, out = self.launchctl(["print-disabled", self.domain])
        return disabled_labels(out).get(LABEL, False) if status == 0 else None

    def loaded(self) -> bool:
        return self.inside_agent or self.launchctl(["print", self.service])[0] == 0

    def describe(self) -> str:
        where = home_relative(str(self.path), self.home)
        if not self.path.exists():
            return where
        return f"{where}, {'loaded' if self.loaded() else 'loads at next login'}"

    def enable(self) -> str:
        atomic.write_atomic(self.path, agent_plist(self.argv()), mode=PLIST_MODE)
        done = f"wrote {home_relative(str(self.path), self.home)}"
        if self.switched_off():
            return done + (
                "; it is switched off in System Settings > General > Login Items: turn it on there,"
                f" or run `launchctl enable {self.service}`"
            )
        if self.loaded():
            return done + "; already loaded in launchd"
        status, out = self.launchctl(["bootstrap", self.domain, str(self.path)])
        if status == 0:
            return done + f"; loaded into {self.domain}"
        return done + f"; launchctl bootstrap failed ({out or status}); it loads at next login"

    def disable(self) -> str:
        done: list[str] = []
        if not self.inside_agent and self.launchctl(["print", self.service])[0] == 0:
            status, out = self.launchctl(["bootout", self.service])
            done.append(f"unloaded {LABEL}" if status == 0 else f"launchctl bootout failed ({out or status})")
        if self.path.exists():
            atomic.remove(self.path)
            done.append(f"removed {home_relative(str(self.path), self.home)}")
        return "; ".join(done) or "nothing to remove: it was not set to start at login"
