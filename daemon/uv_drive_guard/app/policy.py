"""When the daemon speaks up about a drive: a notice on every plug-in, never twice for one mount.

Pure: what the daemon remembers of a drive and what a scan finds in, a decision out. A new
mount of a drive that still has problems is announced each time (a stick plugged in again
tomorrow is told again), unless the person muted every finding shown or chose "Don't tell me
again for this drive". Rescans within one mount repeat nothing; only a problem not yet told
is news. A drive that comes back within a few seconds (a hub reset, a loose cable) is the same
plug-in. The tray shows the current problems whatever this decides.
"""

from __future__ import annotations

from dataclasses import dataclass

BLIP = 5.0  # seconds: a drive gone and back within this is the same plug-in


@dataclass(frozen=True)
class Known:
    """What the daemon remembers of a drive (drives.json)."""

    announced: str = ""  # the mount the last notice was about
    said: frozenset[str] = frozenset()  # the problems told for that mount
    quiet: bool = False  # "Don't tell me again for this drive"
    ignored: bool = False  # "Ignore this drive": not shown at all


@dataclass(frozen=True)
class Found:
    """What a scan finds of a drive now."""

    mount: str  # this mount of it (a new one each time it is plugged in)
    problems: frozenset[str]  # its findings worth a notice, muted ones left out
    blip: bool = False  # it was gone, or mounted anew, only moments ago
    returned: bool = False  # the daemon saw it gone for longer than a blip: a new plug-in, whatever the mount says
    stayed: bool = False  # the daemon's previous scan saw it too: the same plug-in, whatever the mount says


@dataclass(frozen=True)
class Decision:
    notify: bool
    remember: Known  # what to keep for the next scan


def decide(known: Known, found: Found, *, paused: bool = False) -> Decision:
    """A new plug-in tells every problem; the same plug-in (a rescan, a blip) only new ones.
    Silence (quiet, ignored, paused) tells nothing but still counts what was found as seen."""
    same = not found.returned and (found.stayed or found.mount == known.announced or found.blip)
    before = known.said if same else frozenset()
    news = found.problems - before
    silent = known.quiet or known.ignored or paused
    remember = Known(found.mount, before | found.problems, known.quiet, known.ignored)
    return Decision(bool(news) and not silent, remember)
