"""launchctl as a persistent variable store: `launchctl setenv` now, and a LaunchAgent that repeats it at login.

launchd forgets setenv at logout, so the agent (ours, by its label) runs
`/bin/sh -c "/bin/launchctl setenv NAME 'value' ..."` at load, the form the settings reader parses.
A person's own agent in the same folder may set the same name at every login; a change made only
in ours would be undone there at the next one (launchd loads a folder's agents together at login,
and launchd.plist(5) has no key that orders them).
So the store changes the value where those agents set it, takes it out of them on unset
(fixing/agentfile.py), and keeps their bytes for undo.
"""

from __future__ import annotations

import base64
import plistlib
import re
import subprocess
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from xml.parsers.expat import ExpatError

from ...edges import proc
from ...edges.launchctl import LAUNCHCTL, LAUNCHCTL_TIMEOUT, MAX_AGENT_BYTES, agent_files, getenv_value, read_bounded
from .. import agentfile
from ..agentfile import shell_quote
from ..atomic import write_atomic
from ._common import EnvStoreError, Saved, control_characters, quoted

LABEL = "io.github.uv-drive-guard.environment"
DEFAULT_AGENT = Path("~/Library/LaunchAgents") / f"{LABEL}.plist"
SHELL = "/bin/sh"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
THEIRS = "agent:"  # Saved.extra keys for a person's agents: "agent:<path>" -> its bytes at save()
# One line of our script, exactly as setenv_line writes it.
_LINE = re.compile(re.escape(LAUNCHCTL) + r" setenv ([A-Za-z_][A-Za-z0-9_]*) '((?:[^']|'\\'')*)'\Z")

Runner = Callable[[Sequence[str]], tuple[int, str]]


def run_launchctl(argv: Sequence[str]) -> tuple[int, str]:
    """(returncode, stdout) of /bin/launchctl; a tool that cannot start is a failure, not a crash."""
    try:
        done = proc.run(argv, text=True, timeout=LAUNCHCTL_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        return 127, str(error)
    return done.returncode, done.stdout


def setenv_line(name: str, value: str) -> str:
    return f"{LAUNCHCTL} setenv {name} {shell_quote(value)}"


def agent_script(variables: dict[str, str]) -> str:
    return "\n".join(setenv_line(name, value) for name, value in variables.items())


def agent_plist(variables: dict[str, str]) -> bytes:
    """The LaunchAgent that sets the variables again at every login."""
    agent = {"Label": LABEL, "ProgramArguments": [SHELL, "-c", agent_script(variables)], "RunAtLoad": True}
    return plistlib.dumps(agent)


def parse_agent(data: bytes) -> dict[str, str]:
    """The variables of an agent this module wrote; EnvStoreError for anything else, left as is."""
    try:
        loaded = plistlib.loads(data)
    except (ValueError, ExpatError) as error:
        raise EnvStoreError(f"not a plist: {error}") from error
    arguments = loaded.get("ProgramArguments") if isinstance(loaded, dict) else None
    if not (isinstance(arguments, list) and len(arguments) == 3 and arguments[:2] == [SHELL, "-c"]):
        raise EnvStoreError("ProgramArguments are not the ones uv-drive-guard writes")
    script = arguments[2]
    if not isinstance(script, str):
        raise EnvStoreError("the agent's script is not a string")
    variables: dict[str, str] = {}
    for line in script.split("\n") if script else []:
        match = _LINE.match(line)
        if match is None:
            raise EnvStoreError(f"unexpected line in the agent's script: {line!r}")
        variables[match.group(1)] = match.group(2).replace("'\\''", "'")
    return variables


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(f"not a variable name launchctl and sh both accept: {name!r}")


def check_value(name: str, value: str) -> None:
    if control_characters(value):
        raise ValueError(f"refusing a value with control characters for {name}")


class LaunchctlEnvStore:
    """Variables for GUI apps: launchd's environment now, the LaunchAgent after a reboot."""

    def __init__(self, *, run: Runner = run_launchctl, agent_path: str | Path | None = None) -> None:
        self.name = "launchctl"
        self.run = run
        self.agent_path = Path(agent_path if agent_path is not None else DEFAULT_AGENT).expanduser()

    # launchd's live environment

    def getenv(self, name: str) -> str | None:
        returncode, stdout = self.run([LAUNCHCTL, "getenv", name])
        return getenv_value(stdout, returncode)

    def _launchctl(self, *arguments: str) -> None:
        returncode, _ = self.run([LAUNCHCTL, *arguments])
        if returncode != 0:
            raise EnvStoreError(f"launchctl {arguments[0]} {arguments[1]} failed with status {returncode}")

    # the LaunchAgent file

    def read_agent(self) -> bytes | None:
        """The agent's bytes, None when absent; EnvStoreError when it exists but cannot be read whole."""
        try:
            with open(self.agent_path, "rb") as handle:
                data = handle.read(MAX_AGENT_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise EnvStoreError(f"cannot read {self.agent_path}: {error}") from error
        if len(data) > MAX_AGENT_BYTES:
            raise EnvStoreError(f"{self.agent_path} is larger than {MAX_AGENT_BYTES} bytes")
        return data

    def agent_variables(self) -> dict[str, str]:
        data = self.read_agent()
        if data is None:
            return {}
        try:
            return parse_agent(data)
        except EnvStoreError as error:
            raise EnvStoreError(f"{self.agent_path}: {error}") from error

    def write_agent(self, data: bytes | None) -> None:
        """Replace the agent atomically (temp file in the same directory, fsync, rename); None removes it."""
        try:
            if data is None:
                self.agent_path.unlink(missing_ok=True)
            else:
                self.agent_path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(self.agent_path, data)
        except OSError as error:
            raise EnvStoreError(f"cannot write {self.agent_path}: {error}") from error

    def _update_agent(self, name: str, value: str | None) -> None:
        variables = self.agent_variables()
        if value is None:
            if name not in variables:
                return
            del variables[name]
        else:
            variables[name] = value
        self.write_agent(agent_plist(variables) if variables else None)

    # a person's own agents beside ours

    def theirs(self, names: Collection[str]) -> dict[Path, bytes]:
        """The agents in our agent's folder, other than ours, that set any of `names` (read as the
        settings reader reads them: at most 200 plain files of 1 MiB)."""
        found: dict[Path, bytes] = {}
        for path in agent_files(self.agent_path.parent):
            data = read_bounded(path) if path != self.agent_path else None
            if data is not None and agentfile.sets(data) & set(names):
                found[path] = data
        return found

    def _their_edits(self, name: str, value: str | None) -> dict[Path, bytes]:
        """Each of their agents with `name` set to `value` (taken out for None); all computed before
        anything is written, so an agent that cannot be edited changes nothing."""
        edits: dict[Path, bytes] = {}
        for path, data in self.theirs([name]).items():
            try:
                edits[path] = agentfile.edited(data, name, value)
            except agentfile.CannotEdit as error:
                why = f"{path} sets {name} and cannot be changed safely ({error}); change it there by hand"
                raise EnvStoreError(why) from error
        return edits

    def _write_theirs(self, edits: dict[Path, bytes]) -> None:
        for path, data in edits.items():
            try:
                write_atomic(path, data)  # keeps the file's own mode and owner
            except OSError as error:
                raise EnvStoreError(f"cannot write {path}: {error}") from error

    # EnvStore

    def save(self, names: Iterable[str]) -> list[Saved]:
        wanted = list(names)
        data = self.read_agent()
        extra: tuple[tuple[str, str], ...] = (("agent_path", str(self.agent_path)), ("agent_plist", _encoded(data)))
        extra += tuple((THEIRS + str(path), _encoded(found)) for path, found in sorted(self.theirs(wanted).items()))
        return [Saved(name, self.getenv(name), None, extra) for name in wanted]

    def set(self, name: str, value: str) -> None:
        """Where a person's agent sets the name, the value changes there and ours leaves it out."""
        check_name(name)
        check_value(name, value)
        edits = self._their_edits(name, value)
        self._write_theirs(edits)
        self._update_agent(name, None if edits else value)
        self._launchctl("setenv", name, value)

    def unset(self, name: str) -> None:
        """Out of launchd, our agent and the person's agents that set it at login."""
        check_name(name)
        edits = self._their_edits(name, None)
        self._write_theirs(edits)
        self._update_agent(name, None)
        self._launchctl("unsetenv", name)

    def restore(self, saved: Iterable[Saved]) -> None:
        items = list(saved)
        states = {item.extra for item in items if item.extra}
        if len(states) > 1:
            raise EnvStoreError("saved states disagree about the LaunchAgent; restore one save() at a time")
        names = [item.name for item in items]
        agents = [self._saved_agent(dict(extra)) for extra in states]  # checked before anything changes
        theirs = {path: data for extra in states for path, data in _their_restores(extra, names).items()}
        for item in items:
            if item.value is None:
                self._launchctl("unsetenv", item.name)
            else:
                self._launchctl("setenv", item.name, item.value)
        for data in agents:
            self.write_agent(data)
        self._write_theirs(theirs)

    def _saved_agent(self, extra: dict[str, str]) -> bytes | None:
        """The agent's bytes at save(), None when it did not exist then."""
        if extra.get("agent_path") != str(self.agent_path):
            raise EnvStoreError(f"saved for {extra.get('agent_path')}, not {self.agent_path}")
        agent = extra.get("agent_plist", "")
        if agent == "absent":
            return None
        if agent.startswith("base64:"):
            return base64.b64decode(agent.removeprefix("base64:"), validate=True)
        raise EnvStoreError(f"no saved LaunchAgent state in {sorted(extra)}")

    def describe_set(self, name: str, value: str) -> str:
        check_name(name)
        check_value(name, value)
        agents = list(self._their_edits(name, value)) or [self.agent_path]
        line = f"{self.name}: set {name} = {quoted(value)} (now, and at login by {_listed(agents)})"
        current = self.getenv(name)
        return line if current is None else f"{line}, replacing {quoted(current)}"

    def describe_unset(self, name: str) -> str:
        check_name(name)
        current = self.getenv(name)
        where = _listed(["launchd", self.agent_path, *self._their_edits(name, None)])
        if current is None:
            return f"{self.name}: remove {name} from {where} (not set now)"
        return f"{self.name}: remove {name} from {where} (was {quoted(current)})"


def _encoded(data: bytes | None) -> str:
    return "absent" if data is None else "base64:" + base64.b64encode(data).decode("ascii")


def _listed(items: Sequence[object]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    words = [str(item) for item in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _their_restores(extra: tuple[tuple[str, str], ...], names: Collection[str]) -> dict[Path, bytes]:
    """A person's agents to put back as they were at save(). One whose bytes differ from ours
    beyond these names' pairs was changed by the person since: left as is, and undo refuses."""
    restores: dict[Path, bytes] = {}
    for key, encoded in extra:
        if not key.startswith(THEIRS) or not encoded.startswith("base64:"):
            continue
        path = Path(key.removeprefix(THEIRS))
        before = base64.b64decode(encoded.removeprefix("base64:"), validate=True)
        current = read_bounded(path)
        if current == before:
            continue
        if current is None or not _same_but_for(before, current, names):
            raise EnvStoreError(f"{path} changed since the fix; put back what it set by hand, it was left as it is")
        restores[path] = before
    return restores


def _same_but_for(before: bytes, current: bytes, names: Collection[str]) -> bool:
    try:
        return agentfile.without(before, names) == agentfile.without(current, names)
    except agentfile.CannotEdit:
        return False


def atomic_write(path: Path, data: bytes) -> None:
    """Readers see the old agent or the new one; launchd refuses agents others can write."""
    write_atomic(path, data, mode=0o644)
