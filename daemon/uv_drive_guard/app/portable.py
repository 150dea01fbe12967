"""The daemon's part in the shell integration: a known drive at a new place is followed, silently.

After each scan the registry learns where each known drive is mounted now, and what the hint
after uv fails says (from the scan's findings); the files the shell integration reads are
rewritten when that changed (new terminals, and open ones at their next prompt or next failure,
see it). Nothing is shown: there is nothing for the person to do.
"""

from __future__ import annotations

import logging

from ..core.model import Finding, Snapshot
from ..fixing import portable

log = logging.getLogger(__name__)


def follow(snapshot: Snapshot, findings: tuple[Finding, ...]) -> bool:
    """True when the shell integration was rewritten; a failure is logged, never raised."""
    try:
        changed = portable.refresh(snapshot, findings)
    except (OSError, ValueError) as exc:
        log.warning("portable projects: could not update the shell integration: %s", exc)
        return False
    if changed:
        mounted = [d.label or d.drive_id for d in portable.load(portable.data_dir()) if d.mount]
        log.info("portable projects: shell integration updated (mounted now: %s)", ", ".join(mounted) or "none")
    return changed
