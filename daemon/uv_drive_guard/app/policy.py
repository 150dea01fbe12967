"""When the daemon speaks up about a drive: a notice on every plug-in, never twice for one mount.

Pure: what the daemon remembers of a drive and what a scan finds in, a decision out. A new
mount of a drive that still has problems is announced each time (a stick plugged in again
tomorrow is told again), unless the person muted every finding shown or chose "Don't tell me
again for this drive". Rescans within one mount repeat nothing; only a problem not yet told
is news. A drive that comes back within a few seconds (a hub reset, a loose cable) is the same
plug-in. The tray shows the current problems whatever this decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

BLIP = 5.0  # seconds: a drive gone and back within this is the same plug-in


@dataclass(frozen=True)
class Switches:
    """The person's `[notify]` settings (config/default.toml)."""

    always: bool = False  # also say "uv works on STICK" when a drive without problems is plugged in
    unmount: bool = True  # say what uv will do when a drive that holds a uv directory is unplugged

    @classmethod
    def from_config(cls, section: Mapping[str, object]) -> Switches:
        return cls(always=bool(section["always"]), unmount=bool(section["unmount"]))


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
    all_clear: bool = False  # say "uv works on STICK" (the `always` switch)


def decide(known: Known, found: Found, *, paused: bool = False, switches: Switches = Switches()) -> Decision:
    """A new plug-in tells every problem; the same plug-in (a rescan, a blip) only new ones.
    Silence (quiet, ignored, paused) tells nothing but still counts what was found as seen.
    A new plug-in without problems is told only when the person asked for that too."""
    same = not found.returned and (found.stayed or found.mount == known.announced or found.blip)
    before = known.said if same else frozenset()
    news = found.problems - before
    silent = known.quiet or known.ignored or paused
    remember = Known(found.mount, before | found.problems, known.quiet, known.ignored)
    plugged_in = not same
    all_clear = plugged_in and not found.problems and switches.always and not silent
    return Decision(bool(news) and not silent, remember, all_clear)


@dataclass(frozen=True)
class Seen:
    """What the scans so far saw come and go: each drive present (its key) at its mount, when each
    one that went was first seen gone, and when the last scan was."""

    present: Mapping[str, str] = field(default_factory=dict)
    gone: Mapping[str, float] = field(default_factory=dict)
    scanned: float = float("-inf")


@dataclass(frozen=True)
class Arrivals:
    blips: frozenset[str]  # back (or mounted anew) within moments of going: the same plug-in
    returns: frozenset[str]  # seen gone for longer: plugged in anew, whatever their mount looks like
    seen: Seen  # for the next scan
    stayed: frozenset[str] = frozenset()  # the scan before saw them too: the same plug-in, whatever the mount says


def arrivals(before: Seen, present: Mapping[str, str], now: float) -> Arrivals:
    """Drives back within BLIP seconds of going (a hub reset) are blips, as is a drive mounted
    anew within BLIP of the last scan; drives seen gone for longer are plugged in anew, even at
    the same mount (a system without disk sequence numbers hands the same one out again)."""
    gone = dict(before.gone)
    for key in before.present.keys() - present.keys():
        gone.setdefault(key, now)
    came = {key for key in present if key in gone}
    blips = {key for key in came if now - gone[key] < BLIP}
    blips |= {
        key for key, mount in present.items() if before.present.get(key, mount) != mount and now - before.scanned < BLIP
    }
    for key in present:
        gone.pop(key, None)
    stayed = frozenset(present.keys() & before.present.keys())
    return Arrivals(frozenset(blips), frozenset(came - blips), Seen(dict(present), gone, now), stayed)
