"""One action model, rendered by both the notifications and the tray menu (udiskie's habit).

Pure: built from a scan's findings; nothing here touches the desktop. What an action asks of the
daemon is one `dispatch` to its `Controller`, whether a notice's button or a menu item chose it.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from ..core import hint, portable
from ..core.messages import drive
from ..core.model import (
    Change,
    ChangeKind,
    Command,
    Finding,
    Fix,
    Role,
    Severity,
    ShellHook,
    Snapshot,
    StartupFile,
    Unseen,
    UserEnvironment,
    VariableStore,
    Volume,
)

BUTTON_WIDTH = 25  # characters of a button label that notification servers show (GNOME Shell, KDE)


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
    label: str  # the tray menu's words
    volume: str  # the drive's key (see volume_key)
    fix_id: str | None = None
    code: str | None = None
    button: str = ""  # a notification button's words: BUTTON_WIDTH at most, apart from its neighbours
    checked: bool | None = None  # a switch in the tray menu (its state now; choosing it flips it)

    @property
    def short(self) -> str:
        return self.button or shorten(self.label)


class Controller(Protocol):
    """What the tray and the notices may ask of the daemon: each call posts the work to the
    daemon's worker and returns at once (docs/architecture.md, "Threads in the daemon")."""

    def apply_fix(self, fix_id: str, volume_key: str) -> None: ...

    def show_details(self, volume_key: str, code: str | None) -> None: ...

    def undo_last(self) -> None: ...

    def rescan(self) -> None: ...

    def pause(self, seconds: float | None) -> None:
        """None: until restart; 0: resume now."""

    def ignore_drive(self, volume_key: str) -> None: ...

    def mute(self, volume_key: str, code: str) -> None: ...

    def set_quiet(self, volume_key: str, quiet: bool) -> None: ...

    def set_autostart(self, enabled: bool) -> None: ...

    def open_log(self) -> None: ...

    def open_settings(self) -> None: ...

    def quit(self) -> None: ...


def dispatch(action: Action, controller: Controller) -> None:
    """The one way from an action to the daemon: a notice's button and a menu item alike."""
    match action.kind:
        case Kind.FIX if action.fix_id:
            controller.apply_fix(action.fix_id, action.volume)
        case Kind.DETAILS:
            controller.show_details(action.volume, action.code)
        case Kind.IGNORE:
            controller.ignore_drive(action.volume)
        case Kind.MUTE if action.code:
            controller.mute(action.volume, action.code)
        case Kind.QUIET:
            controller.set_quiet(action.volume, not action.checked)


QUIET_LABEL = "Don't tell me again"  # a notice's button about its drive: the notice names it
IGNORE_LABEL = "Ignore this drive"


def quiet_action(key: str, now: bool | None = None) -> Action:
    """ "Don't tell me again" about a drive: a notice's button, or the drive menu's check item
    (`now`: whether the drive is quiet already; choosing it then tells again)."""
    return Action(Kind.QUIET, f"{QUIET_LABEL} about this drive", key, button=QUIET_LABEL, checked=now)


def ignore_action(key: str) -> Action:
    """ "Ignore this drive": not shown at all from now on."""
    return Action(Kind.IGNORE, IGNORE_LABEL, key)


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
        text = "\n".join(sorted(_said(f) for f in self.findings))
        return f"{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"

    def actions(self, finding: Finding, *, notice: bool = False) -> tuple[Action, ...]:
        """The recommended fix first, then Details and the two ways to be quiet. The hint after
        uv fails comes after the fixes that cure something, in the tray's menu; a notice, about
        the drive as it is plugged in, keeps its buttons for those."""
        fixes = sorted(finding.fixes, key=lambda fix: (not fix.recommended, hint.is_hint(fix)))
        applicable = [fix for fix in fixes if any(_ours(c) for c in fix.changes)]
        if notice:
            applicable = [fix for fix in applicable if not hint.is_hint(fix)]
        out = [
            Action(Kind.FIX, fix.title, self.key, fix.id, finding.code, button(fix, finding)) for fix in applicable[:2]
        ]
        out.append(Action(Kind.DETAILS, "Details", self.key, code=finding.code))
        out.append(Action(Kind.MUTE, "Don't show this again", self.key, code=finding.code))
        out += (quiet_action(self.key), ignore_action(self.key))
        return tuple(out)

    @property
    def problems(self) -> frozenset[str]:
        """What a notice would tell (information alone is the tray's), one line per finding."""
        return frozenset(_said(f) for f in self.findings if f.severity is not Severity.INFO)

    def mount(self, boot: float) -> str:
        """This mount of the drive: plugged in again (or after a reboot), it is another one."""
        vol = self.volume
        if vol is None:
            return self.key
        return f"{boot:.0f}:{vol.instance or ''}:{vol.mountpoint}:{vol.device}"


def shorten(label: str, limit: int = BUTTON_WIDTH) -> str:
    """Servers cut long button labels at arbitrary places; cut at a word with an ellipsis instead."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[: limit - 1].rsplit(" ", 1)[0] if " " in label[: limit - 1] else label[: limit - 1]
    return cut.rstrip(" ,;:(") + "…"


_ROLE_WORDS = {
    Role.CACHE: "cache",
    Role.TOOL_DIR: "tools",
    Role.TOOL_BIN_DIR: "tool bin",
    Role.PYTHON_INSTALL_DIR: "Pythons",
    Role.PYTHON_BIN_DIR: "Python bin",
    Role.TEMP_DIR: "temp",
}
_SEPARATORS = re.compile(r"[\\/]")
_BUTTONS = {
    "copy-mode": "Use copy mode",
    "drive-cache": "Use a cache on the drive",
    "upgrade-uv": "Upgrade uv",
    "fallback": "Use default while away",
    "portable-drive": "Yes, for the whole drive",
    "failure-hint": "Say why when uv fails",
}


def button(fix: Fix, finding: Finding) -> str:
    """A fix's button: its title says it all in the menu, but a notification shows about
    BUTTON_WIDTH characters, where "Keep the environments of…" and "Keep this project's…" could
    not be told apart. Known kinds of fix (the slug in their id) get words of their own."""
    slug = fix.id.split("-", 1)[-1].rsplit("-", 1)[0]
    location = finding.location
    if slug in _BUTTONS:
        return _BUTTONS[slug]
    if slug == "move-off-drive" and location is not None and location.role in _ROLE_WORDS:
        words = f"Move {_ROLE_WORDS[location.role]} off the drive"
        return words if len(words) <= BUTTON_WIDTH else shorten(words.replace(" the ", " "))
    if slug == "portable" and location is not None and location.project:
        return shorten(f"Only for {_last_part(location.project)}")
    if slug == "unset" and fix.title.startswith("Remove ") and "=" in fix.title:
        return shorten(fix.title.split("=", 1)[0])
    return shorten(fix.title)


def _last_part(path: str) -> str:
    """The folder's own name, on every system's paths."""
    return _SEPARATORS.split(path.rstrip("/\\"))[-1] or path


def new_terminals(fix: Fix) -> bool:
    """A fix that changes variables reaches only terminals opened after it; uv reads its own
    settings files afresh on every run."""
    places = (StartupFile, UserEnvironment, VariableStore, ShellHook)
    return any(isinstance(change.target, places) for change in fix.changes)


def _said(finding: Finding) -> str:
    """What a finding is about: its code and place, and each folder it speaks for."""
    said = f"{finding.code} {finding.location.path if finding.location else ''}"
    return " ".join((said, *finding.folders))


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
    """A notification's words: what is wrong, what uv would print, what the fix changes. Where
    the rest is (`more` findings) and how to apply a fix without a button are said by the
    notifier, which knows whether there is a tray menu to point at."""

    title: str
    body: str
    actions: tuple[Action, ...]
    urgent: bool
    state: State = State.WARNING  # its icon: the tray's error or warning picture
    more: int = 0  # findings on the drive beyond those this notice is about


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
        after = " New terminals will see the change." if new_terminals(fix) else ""
        body.append(f"Fix: {fix.title} ({changes}).{after}")
    title = f"uv on {report.name}: {first.severity.value}"
    urgent = first.severity is Severity.ERROR
    state = State.ERROR if urgent else State.WARNING
    return Notice(title, "\n".join(body), report.actions(first, notice=True), urgent, state, len(report.findings) - 1)


def _portable_notice(report: DriveReport) -> Notice | None:
    """In a person's words: "STICK holds 2 uv projects; ... Keep them on this computer?"."""
    pairs = ((f, x) for f in report.findings for x in f.fixes if x.recommended and portable.is_portable(x))
    first, fix = next(pairs, (None, None))
    if first is None or fix is None or report.volume is None:
        return None
    same = [f for f in report.findings if any(x.id == fix.id for x in f.fixes)]
    places = sum(len(f.folders) or 1 for f in same)  # a finding for several folders counts each
    body = [portable.question(report.volume, places, first.code), portable.NOTICE_MORE]
    title = f"uv on {report.name}: {first.severity.value}"  # as every notice: the log is read by it
    urgent = first.severity is Severity.ERROR
    state = State.ERROR if urgent else State.WARNING
    actions_ = report.actions(first, notice=True)
    return Notice(title, "\n".join(body), actions_, urgent, state, len(report.findings) - len(same))


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
