"""The daemon's words after a fix or an undo, built from the outcome's fields (never its text).

Loaded with the first fix, as the fix engine is.
"""

from __future__ import annotations

from ..core import hint
from ..fixing.outcome import Outcome, Result, fix_ending

NOTICE_LINES = 4  # a notification shows the last few things worth saying


def fix_notice(outcome: Outcome) -> tuple[str, str]:
    """The notification after a fix, (title, body): what happened, then what to do next."""
    result = outcome.result
    done = "Done" if outcome.fix is not None and hint.is_hint(outcome.fix) else "Fixed"  # the hint cures nothing
    word = done if result.exit_code == 0 else "Could not fix"
    entry_id = outcome.entry.id if outcome.entry else ""
    if result is Result.NOT_VERIFIED:  # written and journaled, but the check after it broke
        return f"Applied, not verified: {outcome.title}", outcome.not_verified
    if result is Result.REFUSED:
        return f"{word}: uv-drive-guard: {outcome.error}", ""
    if result is Result.ALREADY_APPLIED:
        title = f"{word}: {outcome.title}: already applied ({entry_id}); nothing to change."
        return title, _last(outcome.follow_up)
    if result is Result.IN_PLACE:
        return f"{word}: {outcome.title}", "Already in place: nothing to change."
    said = [f"by hand: {step}" for step in outcome.manual] if result is Result.BY_HAND else []
    return f"{word}: {outcome.title}", _last([*said, *fix_ending(outcome)])


def undo_notice(outcome: Outcome) -> tuple[str, str]:
    """The notification after an undo, (title, body); a failure says why."""
    if outcome.result is not Result.UNDONE or outcome.entry is None:
        return "Could not undo", f"uv-drive-guard: {outcome.error}" if outcome.error else ""
    note = [outcome.entry.note] if outcome.entry.note else []
    return "Undo", _last([*note, *outcome.follow_up])


def _last(lines: list[str] | tuple[str, ...]) -> str:
    return "\n".join([line for line in lines if line][-NOTICE_LINES:])
