"""What `fix` and `undo` did, as data: the command line and the daemon each render it.

pipx's `result.py` habit: the work returns what changed, its status and the messages for the
person; `lines` is the command line's text, the daemon builds its notification from fields.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..core.fixes import NEW_TERMINALS
from ..core.model import Finding, Fix, assert_never
from .journal import Entry
from .plan import FileEdit, Plan, StoreEdit


class Result(str, Enum):
    """What a `fix` or an `undo` came to; the exit status follows from it."""

    APPLIED = "applied"  # written, journaled, and (unless asked not to) the problem is gone
    STILL_APPLIES = "still applies"  # written and journaled, but a new scan finds the problem again
    NOT_VERIFIED = "applied, not verified"  # written and journaled; the check after it broke
    ALREADY_APPLIED = "already applied"  # the journal holds this fix and a scan no longer offers it
    IN_PLACE = "in place"  # the plan finds nothing left to change
    PREVIEWED = "previewed"  # --dry-run
    BY_HAND = "by hand"  # every step is the person's: nothing for uv-drive-guard to write
    DECLINED = "declined"  # not confirmed
    REFUSED = "refused"  # no such fix, or it cannot be planned safely
    FAILED = "failed"  # applying or undoing failed; everything was put back
    UNDONE = "undone"

    @property
    def exit_code(self) -> int:
        """The command line's exit status: 0 done (or nothing to do), 1 not done, 2 refused."""
        if self is Result.REFUSED:
            return 2
        return 1 if self in (Result.STILL_APPLIES, Result.BY_HAND, Result.DECLINED, Result.FAILED) else 0


@dataclass(frozen=True)
class FileChange:
    """One file a fix changes: its unified diff, as `--dry-run` shows it."""

    path: str
    diff: str
    new: bool  # the fix creates the file


FIXED = "Checked as a new terminal would run it: uv works now."


@dataclass(frozen=True)
class Verification:
    """The scan after a fix and real uv, both as a new terminal would run them: fixed only
    when the scan finds nothing more about that setting and uv worked; never both words."""

    resolved: bool
    code: str
    uv: tuple[str, ...] = ()  # what uv was asked and answered (said only when it worked)
    failure: str = ""  # uv's first error line when it still failed
    still: tuple[Finding, ...] = ()  # what the scan still finds about the same setting

    @property
    def lines(self) -> tuple[str, ...]:
        if self.resolved:
            return (FIXED, *(f"  {line}" for line in self.uv))
        head = (
            f"Applied, but uv still fails: {self.failure}"
            if self.failure
            else f"Applied, but {self.code} still applies."
        )
        out = [head]
        for item in self.still[:3]:
            out.append(f"Still found: {item.code} {item.title}")
            fix = next((f for f in item.fixes if f.recommended), item.fixes[0] if item.fixes else None)
            if fix is not None:
                out.append(f"  next: uv-drive-guard fix {fix.id}  ({fix.title})")
        return tuple(out)

    @property
    def next_fix(self) -> Fix | None:
        """The fix to try next, for a notification's button."""
        for item in self.still:
            fix = next((f for f in item.fixes if f.recommended), item.fixes[0] if item.fixes else None)
            if fix is not None:
                return fix
        return None


@dataclass(frozen=True)
class Outcome:
    """The result of one `fix` or `undo`; `lines` renders it for the command line."""

    result: Result
    undo: bool = False  # the outcome of `undo` rather than `fix`
    fix: Fix | None = None
    finding: Finding | None = None
    entry: Entry | None = None  # the journal entry written, found, or undone
    files: tuple[FileChange, ...] = ()
    stores: tuple[StoreEdit, ...] = ()
    commands: tuple[tuple[str, ...], ...] = ()  # what uv-drive-guard runs (an upgrade)
    manual: tuple[str, ...] = ()  # steps left for the person
    verification: Verification | None = None
    error: str = ""  # why it was refused, failed, or not verified
    hint: str = ""  # said after "Nothing was changed" (no terminal to ask on)
    discarded: str = ""  # undo --force: a diff of what it throws away
    follow_up: tuple[str, ...] = ()  # what the person should know next: open terminals, commands not undone

    @property
    def status(self) -> int:
        """The command line's exit status (`result` says what happened)."""
        return self.result.exit_code

    @property
    def title(self) -> str:
        """The fix this is about, in a person's words (empty when no fix was found)."""
        return self.fix.title if self.fix else self.entry.title if self.entry else ""

    @property
    def undo_command(self) -> str:
        return f"uv-drive-guard undo {self.entry.id}" if self.entry else ""

    @property
    def not_verified(self) -> str:
        """The warning when the check after a fix broke: the files stay fixed and journaled."""
        return f"applied, not verified: {self.error}. To undo: {self.undo_command}"

    @property
    def lines(self) -> tuple[str, ...]:
        return undo_lines(self) if self.undo else fix_lines(self)


def file_changes(plan: Plan) -> tuple[FileChange, ...]:
    return tuple(FileChange(e.path, _diff(e), e.before is None) for e in plan.files if e.changes)


def _diff(edit: FileEdit) -> str:
    before = (edit.before or b"").decode("utf-8").splitlines(keepends=True)
    after = edit.after.decode("utf-8").splitlines(keepends=True)
    label = edit.path if edit.before is not None else f"{edit.path} (new file)"
    out = list(difflib.unified_diff(before, after, fromfile=label, tofile=label))
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"
    return "".join(out)


def preview(
    files: Iterable[FileChange],
    stores: Iterable[StoreEdit],
    commands: Iterable[tuple[str, ...]],
    manual: Iterable[str],
) -> str:
    """What `fix --dry-run` prints: a diff per file, a line per store write, command and step."""
    out = [f.diff for f in files]
    out += [f"{edit.summary}\n" for edit in stores]
    out += [f"run: {' '.join(argv)}\n" for argv in commands]
    out += [f"by hand: {line}\n" for line in manual]
    return "".join(out)


def fix_lines(outcome: Outcome) -> tuple[str, ...]:
    """The command line's text for `fix`."""
    result, fix, finding = outcome.result, outcome.fix, outcome.finding
    if result is Result.ALREADY_APPLIED and fix is None:  # known from the journal alone
        entry_id = outcome.entry.id if outcome.entry else ""
        return (f"{outcome.title}: already applied ({entry_id}); nothing to change.", *outcome.follow_up)
    if result is Result.REFUSED or fix is None or finding is None:
        return (f"uv-drive-guard: {outcome.error}",)
    head = [fix.title, f"  for {finding.code}: {finding.title}", ""]
    if result is Result.IN_PLACE:
        return (*head, "Already in place: nothing to change.")
    shown = preview(outcome.files, outcome.stores, outcome.commands, outcome.manual)
    lines = [*head, shown.rstrip("\n"), ""]
    return (*lines, *fix_ending(outcome))


def fix_ending(outcome: Outcome) -> list[str]:
    """What `fix` says after its preview: the steps are yours, dry run, applied and checked..."""
    result = outcome.result
    match result:
        case Result.BY_HAND:
            return ["These steps are yours to take; uv-drive-guard changed nothing."]
        case Result.PREVIEWED:
            return ["Dry run: nothing was changed."]
        case Result.DECLINED:
            return [f"Nothing was changed{outcome.hint}."]
        case Result.FAILED:
            return [f"uv-drive-guard: {outcome.error}"]
        case Result.APPLIED | Result.STILL_APPLIES | Result.NOT_VERIFIED:
            done = [f"Applied. To undo: {outcome.undo_command}"]
            if result is Result.NOT_VERIFIED:
                done.append(f"warning: {outcome.not_verified}")
            elif outcome.verification is not None:
                done += outcome.verification.lines
            return [*done, *outcome.follow_up]
        case Result.REFUSED | Result.ALREADY_APPLIED | Result.IN_PLACE | Result.UNDONE:
            raise ValueError(f"{result.value} has no ending after a preview")
        case _:
            assert_never(result)


def undo_lines(outcome: Outcome) -> tuple[str, ...]:
    """The command line's text for `undo`."""
    shown = []
    if outcome.discarded:
        shown = [
            "--force puts back the bytes from before the fix; this is what it discards:",
            outcome.discarded.rstrip("\n"),
            "",
        ]
    if outcome.result is Result.DECLINED:
        return (*shown, "Nothing was changed.")
    if outcome.result is not Result.UNDONE or outcome.entry is None:
        return (*shown, f"uv-drive-guard: {outcome.error}")
    entry = outcome.entry
    lines = [*shown, f"Undone: {entry.title} ({entry.id}).", *([entry.note] if entry.note else [])]
    lines += [f"  restored {record.path}" for record in entry.files]
    return (*lines, *outcome.follow_up)


__all__ = ["NEW_TERMINALS", "Outcome", "Result"]
