"""The hint after uv fails on a drive: which line the shell says where, and the fix that turns it on.

Pure. The lines come from the scan's error findings, in the words of each finding's rule
(`Rule.cannot`): one per drive, said after a uv command fails in a folder on it, and one per uv
directory (cache, tools, Pythons) on such a drive, said wherever uv fails. The shell integration
(fixing/portable_shell.py) writes them into its generated files, and each scan rewrites them, so a
drive that moved, was fixed or is gone changes what is said without touching a startup file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from .fixes import ENV_KINDS, VARIABLE
from .messages import ROLE_NAMES, filesystem
from .model import ChangeKind, Finding, Fix, HintLine, Location, Role, Severity, Snapshot, Volume
from .paths import under
from .portable import hint_change, hook_change
from .rules import RULES

EXPLAIN = "Run `uv-drive-guard explain`."
GLOBAL_ROLES = (Role.CACHE, Role.TOOL_DIR, Role.TOOL_BIN_DIR, Role.PYTHON_INSTALL_DIR, Role.PYTHON_BIN_DIR)
# Options that send one uv command elsewhere: the line about that directory would not be true then.
FLAGS = {
    Role.CACHE: ("--cache-dir", "--no-cache", "-n"),
    Role.PYTHON_INSTALL_DIR: ("--install-dir", "-i"),
}


def say(text: str) -> str:
    return f"uv-drive-guard: {text}. {EXPLAIN}"


@dataclass(frozen=True)
class _Error:
    """An error finding on a drive, and what its rule says uv cannot do there."""

    finding: Finding
    loc: Location
    vol: Volume
    cannot: str


def _cannot(snapshot: Snapshot, finding: Finding) -> _Error | None:
    """None when the finding names no drive in scope (or its rule says nothing about one)."""
    loc, vol = finding.location, snapshot.volume(finding.volume)
    rule = RULES.get(finding.code)
    if finding.severity is not Severity.ERROR or loc is None or vol is None or vol.system or rule is None:
        return None
    if vol.mountpoint not in snapshot.scope or rule.cannot is None:
        return None
    return _Error(finding, loc, vol, rule.cannot(loc, vol))


def _on_drive(snapshot: Snapshot, loc: Location, vol: Volume) -> bool:
    """The finding is about a folder of the drive (a project, an environment), not a uv directory set there."""
    windows = not snapshot.os.unix
    return loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV) or (
        loc.project is not None and under(loc.project, vol.mountpoint, windows=windows)
    )


def _witness(snapshot: Snapshot, loc: Location, vol: Volume) -> str:
    """A folder the scan saw on the drive: when it is gone (the drive unplugged, its mount point left
    behind), the line is not said. The finding's own folder first, else any the walk found there;
    an empty drive has only its mount point (and the next scan, the daemon's at the unmount)."""
    windows = not snapshot.os.unix
    seen = (a.path for a in snapshot.artefacts if a.volume == vol.mountpoint)
    for path in (loc.project, loc.path if loc.exists else None, *seen):
        if path and under(path, vol.mountpoint, windows=windows, strict=True):
            return path
    return vol.mountpoint


def lines(snapshot: Snapshot, findings: Iterable[Finding]) -> tuple[HintLine, ...]:
    """Each drive's line, longest mount point first, then each uv directory's, in uv's order of roles."""
    errors = [found for f in findings if (found := _cannot(snapshot, f)) is not None]
    return (*_drive_lines(snapshot, errors), *_directory_lines(snapshot, errors))


def _drive_lines(snapshot: Snapshot, errors: list[_Error]) -> Iterator[HintLine]:
    by_drive: dict[str, list[_Error]] = {}
    for error in errors:
        by_drive.setdefault(error.vol.mountpoint, []).append(error)
    for mount in sorted(by_drive, key=lambda m: (-len(m), m)):
        # what a folder of the drive meets first: its projects' own trouble, then the lowest code
        first = min(by_drive[mount], key=lambda e: (not _on_drive(snapshot, e.loc, e.vol), e.finding.code))
        text = say(f"{first.vol.name} is {filesystem(first.vol)}; {first.cannot}")
        yield HintLine(text, mount, _witness(snapshot, first.loc, first.vol))


def _directory_lines(snapshot: Snapshot, errors: list[_Error]) -> Iterator[HintLine]:
    said: set[Role] = set()
    mine = [e for e in errors if e.loc.project is None and e.loc.role in GLOBAL_ROLES]
    for error in sorted(mine, key=lambda e: (GLOBAL_ROLES.index(e.loc.role), e.finding.code)):
        loc, vol = error.loc, error.vol
        if loc.role in said:
            continue
        said.add(loc.role)
        yield HintLine(
            say(f"{ROLE_NAMES[loc.role]} is on {vol.name} ({filesystem(vol)}); {error.cannot}"),
            vol.mountpoint,
            _witness(snapshot, loc, vol),
            everywhere=True,
            variable=VARIABLE[loc.role],
            from_variable=loc.source.kind in ENV_KINDS,
            flags=FLAGS.get(loc.role, ()),
        )


# --- the fix ----------------------------------------------------------------------------------


def hint_fix(code: str, snapshot: Snapshot, said: tuple[HintLine, ...]) -> Fix:
    """Opt-in: the person sees the line that would be printed, and where."""
    first = said[0]
    where = f"in a folder on {first.mount}"
    if first.everywhere:
        where = f"anywhere while {first.variable} leads to {first.mount}" + (
            "" if first.from_variable else " or is unset"
        )
    key = zlib.crc32(snapshot.data_dir.encode("utf-8", "surrogateescape"))
    shells = "PowerShell" if not snapshot.os.unix else "bash, zsh and fish"
    return Fix(
        id=f"{code.lower()}-failure-hint-{key:08x}"[:-2],
        title="Say why in the terminal when uv fails on a drive",
        detail=(
            f"After a uv command fails {where}, {shells} print one line on stderr: {first.text} "
            "The line follows each scan: a drive fixed, moved or unplugged changes it, and a line that "
            "is no longer true is not said. uv's output and exit status are unchanged, and nothing "
            "runs when uv succeeds. This fixes nothing itself."
        ),
        changes=(
            hint_change(snapshot, f"after a uv command fails {where}, print on stderr: {first.text}"),
            hook_change(snapshot, "which says it (and nothing when uv succeeds)"),
        ),
    )


def is_hint(fix: Fix) -> bool:
    """The hint and its startup-file line, nothing else: a fix that cures nothing by itself."""
    kinds = {change.kind for change in fix.changes}
    return ChangeKind.FAILURE_HINT in kinds and kinds <= {ChangeKind.FAILURE_HINT, ChangeKind.SHELL_HOOK}


def offer(snapshot: Snapshot, findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Every error finding that a line speaks for gets the hint as one more fix, until it is on."""
    if snapshot.failure_hint or not snapshot.data_dir:
        return findings
    said = lines(snapshot, findings)
    mounts = {line.mount for line in said}
    if not said:
        return findings
    out = []
    for finding in findings:
        if finding.volume in mounts and _cannot(snapshot, finding) is not None:
            finding = _with(finding, hint_fix(finding.code, snapshot, _first_for(said, finding)))
        out.append(finding)
    return tuple(out)


def _first_for(said: tuple[HintLine, ...], finding: Finding) -> tuple[HintLine, ...]:
    """The line about this finding first (its drive's, or its uv directory's), so the fix shows
    what would be said about it."""
    loc = finding.location
    own = loc is not None and loc.project is None and loc.role in GLOBAL_ROLES
    variable = VARIABLE.get(loc.role) if own and loc is not None else None
    return tuple(sorted(said, key=lambda line: (line.mount != finding.volume, line.variable != (variable or ""))))


def _with(finding: Finding, fix: Fix) -> Finding:
    return replace(finding, fixes=(*finding.fixes, fix))
