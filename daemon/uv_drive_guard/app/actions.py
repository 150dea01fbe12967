"""One action model, rendered by both the notifications and the tray menu (udiskie's habit).

Pure: built from a scan's findings; nothing here touches the desktop.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import Enum

from ..core import portable
from ..core.messages import drive
from ..core.model import Change, ChangeKind, Command, Finding, Severity, Snapshot, Unseen, Volume


class State(str, Enum):
    """What the tray icon shows."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    PAUSED = "paused"
    WORKING = "working"


class Kind(str, Enum):
    FIX = "fix"
    DETAILS = "details"
    IGNORE = "ignore"  # this drive, from now on: not shown at all
    MUTE = "mute"  # this finding on this drive, from now on
    QUIET = "quiet"  # no more notices for this drive; the tray still shows its problems


@dataclass(frozen=True)
class Action:
    kind: Kind
    label: str
    volume: str  # the drive's key (see volume_key)
    fix_id: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class DriveReport:
    """What one drive needs from the user, as both the tray and a notification show it."""

    key: str
    mountpoint: str
    name: str  # "STICK (exFAT)"
    findings: tuple[Finding, ...]
    volume: Volume | None = None
    unseen: tuple[Unseen, ...] = ()  # what the scan could not look at on this drive

    @property
    def state(self) -> State:
        if any(f.severity is Severity.ERROR for f in self.findings):
            return State.ERROR
        if any(f.severity is Severity.WARNING for f in self.findings):
            return State.WARNING
        return State.OK

    @property
    def fingerprint(self) -> str:
        """Changes when what we would say changes: the same notice is not repeated."""
        text = "\n".join(sorted(f"{f.code} {f.location.path if f.location else ''}" for f in self.findings))
        return f"{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"

    def actions(self, finding: Finding) -> tuple[Action, ...]:
        """The recommended fix first, then Details and the two ways to be quiet."""
        fixes = sorted(finding.fixes, key=lambda fix: not fix.recommended)
        applicable = [fix for fix in fixes if any(_ours(c) for c in fix.changes)]
        out = [Action(Kind.FIX, fix.title, self.key, fix.id, finding.code) for fix in applicable[:2]]
        out.append(Action(Kind.DETAILS, "Details", self.key, code=finding.code))
        out.append(Action(Kind.MUTE, "Don't show this again", self.key, code=finding.code))
        out.append(Action(Kind.QUIET, QUIET_LABEL, self.key))
        out.append(Action(Kind.IGNORE, "Ignore this drive", self.key))
        return tuple(out)

    @property
    def problems(self) -> frozenset[str]:
        """What a notice would tell (information alone is the tray's), one line per finding."""
        return frozenset(
            f"{f.code} {f.location.path if f.location else ''}"
            for f in self.findings
            if f.severity is not Severity.INFO
        )

    def mount(self, boot: float) -> str:
        """This mount of the drive: plugged in again (or after a reboot), it is another one."""
        vol = self.volume
        if vol is None:
            return self.key
        return f"{boot:.0f}:{vol.instance or ''}:{vol.mountpoint}:{vol.device}"


QUIET_LABEL = "Don't tell me again"  # about this drive: the notice names it


def _ours(change: Change) -> bool:
    """uv-drive-guard can make this change itself: a button may offer it (a command such as
    dot_clean rewrites the drive beyond undo, so it stays the person's, like a manual step)."""
    return change.kind is not ChangeKind.MANUAL and not isinstance(change.target, Command)


ABSENT = "absent"  # the report about configured drives that are not plugged in


def volume_key(volume: Volume) -> str:
    """A drive is the same drive wherever it is mounted: UUID, else label and size."""
    if volume.uuid:
        return f"uuid:{volume.uuid}"
    if volume.label:
        return f"label:{volume.label}:{volume.size or 0}"
    return f"mount:{volume.mountpoint}"


def reports(snapshot: Snapshot, findings: tuple[Finding, ...]) -> tuple[DriveReport, ...]:
    """Findings grouped per drive in scope; a configured drive that is absent gets its own."""
    by_volume: dict[str | None, list[Finding]] = {}
    for item in findings:
        by_volume.setdefault(item.volume, []).append(item)
    out = []
    for vol in snapshot.volumes:
        if vol.mountpoint in snapshot.scope or vol.mountpoint in by_volume:
            items = tuple(by_volume.get(vol.mountpoint, ()))
            unseen = tuple(u for u in snapshot.unseen if u.volume == vol.mountpoint)
            out.append(DriveReport(volume_key(vol), vol.mountpoint, drive(vol), items, vol, unseen))
    missing = tuple(by_volume.get(None, ()))
    if missing:
        out.append(DriveReport(ABSENT, "", "a drive that is not plugged in", missing))
    return tuple(out)


@dataclass(frozen=True)
class Notice:
    """A notification's words: what is wrong, what uv would print, what the fix changes."""

    title: str
    body: str
    actions: tuple[Action, ...]
    urgent: bool
    state: State = State.WARNING  # its icon: the tray's error or warning picture


def notice(report: DriveReport) -> Notice | None:
    """One notification per drive, about its most severe finding, mentioning the rest.
    Information alone (a heads-up, nothing uv does wrong now) is for the tray, not a notice."""
    if not any(f.severity is not Severity.INFO for f in report.findings):
        return None
    first = report.findings[0]
    kept = _portable_notice(report)
    if kept is not None:
        return kept
    uv_line = next((line for line in first.uv_message.splitlines() if line.strip()), "")
    body = [first.title + ".", f"uv would print: {uv_line.strip()}"]
    fix = next((f for f in first.fixes if f.recommended), first.fixes[0] if first.fixes else None)
    if fix is not None:
        changes = "; ".join(c.summary for c in fix.changes[:2])
        body.append(f"Fix: {fix.title} ({changes}). New terminals will see the change.")
    if len(report.findings) > 1:
        body.append(f"{len(report.findings) - 1} more in the tray menu.")
    title = f"uv on {report.name}: {first.severity.value}"
    urgent = first.severity is Severity.ERROR
    return Notice(title, "\n".join(body), report.actions(first), urgent, State.ERROR if urgent else State.WARNING)


def _portable_notice(report: DriveReport) -> Notice | None:
    """In a person's words: "STICK holds 2 uv projects; ... Keep them on this computer?"."""
    pairs = ((f, x) for f in report.findings for x in f.fixes if x.recommended and portable.is_portable(x))
    first, fix = next(pairs, (None, None))
    if first is None or fix is None or report.volume is None:
        return None
    same = [f for f in report.findings if any(x.id == fix.id for x in f.fixes)]
    body = [portable.question(report.volume, len(same), first.code), portable.NOTICE_MORE]
    rest = len(report.findings) - len(same)
    if rest:
        body.append(f"{rest} more in the tray menu.")
    title = f"uv on {report.name}: {first.severity.value}"  # as every notice: the log is read by it
    urgent = first.severity is Severity.ERROR
    state = State.ERROR if urgent else State.WARNING
    return Notice(title, "\n".join(body), report.actions(first), urgent, state)


def overall(reports_: tuple[DriveReport, ...], *, paused: bool = False, working: bool = False) -> State:
    if working:
        return State.WORKING
    if paused:
        return State.PAUSED
    states = {r.state for r in reports_}
    for state in (State.ERROR, State.WARNING):
        if state in states:
            return state
    return State.OK


def unseen_lines(report: DriveReport) -> tuple[str, ...]:
    """What the tray says about parts of a drive the scan could not look at."""
    return tuple(f"Not looked at: {u.path} ({u.reason})" for u in report.unseen[:5])


def summary(reports_: tuple[DriveReport, ...]) -> str:
    """The tray's tooltip: one line."""
    troubled = [r for r in reports_ if r.state is not State.OK]  # information alone is no problem
    partial = [r for r in reports_ if r.unseen]
    if not troubled and partial:
        names = ", ".join(r.name for r in partial[:3])
        return f"uv-drive-guard: no problems found, but {names} could not be looked at fully"
    if not troubled:
        return "uv-drive-guard: no problems for uv on your drives"
    names = ", ".join(r.name for r in troubled[:3])
    count = sum(f.severity is not Severity.INFO for r in troubled for f in r.findings)
    return f"uv-drive-guard: {count} problem(s) for uv on {names}"
