"""What a rule is: one object per code with its checks, severities, facts and fixes (its texts sit beside it).

A rule's checks look at one thing (a configured location, a place on a drive in scope, an
artefact the walk found, or the whole snapshot) and yield `Hit`s: what is wrong, where, in
words. They never plan fixes. `diagnose()` turns hits into findings and then asks each
finding's rule for its fixes ("plan" here means choosing the fixes a finding offers, as
`Fix`/`Change` values; carrying them out is the fixing side's own plan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from .. import portable
from ..fixes import local_project_environment, move_off_drive
from ..messages import Text
from ..model import Artefact, Finding, Fix, Location, Os, Role, Severity, Snapshot, SourceKind, Volume
from ..versions import Version

# Directories in which uv creates environments (and so an interpreter symlink on Unix).
ENV_ROLES = (Role.PROJECT_ENVIRONMENT, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR)
BIN_ROLES = (Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR)
LOCKED_ROLES = (Role.CACHE, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR)


@dataclass(frozen=True)
class Scene:
    """What every check looks at: the snapshot, and the uv version parsed once."""

    snapshot: Snapshot
    uv: Version | None

    @property
    def os(self) -> Os:
        return self.snapshot.os

    def volume(self, location: Location) -> Volume | None:
        return self.snapshot.volume(location.volume)

    def cache_for(self, location: Location) -> Location | None:
        """The cache uv uses in the same context (global, or the same project)."""
        return next(
            (loc for loc in self.snapshot.locations if loc.role is Role.CACHE and loc.project == location.project),
            None,
        )


@dataclass(frozen=True)
class Hit:
    """One thing a check found; its rule makes the finding (severity: the rule's first if None)."""

    location: Location
    text: Text
    severity: Severity | None = None


SettingCheck = Callable[[Scene, Location], Iterator[Hit]]
PlaceCheck = Callable[[Scene, Location, Volume], Iterator[Hit]]
ArtefactCheck = Callable[[Scene, Artefact], Iterator[Hit]]
SnapshotCheck = Callable[[Scene], Iterator[Hit]]
# the fixes a rule offers for its finding at a location: (code, snapshot, location) -> fixes
FixesOf = Callable[[str, Snapshot, Location], tuple[Fix, ...]]


def no_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    return ()


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Everything about one code: what it checks, how severe, what uv fact it rests on, its fixes.
    Keyword-only: a rule reads as what each of its parts is."""

    code: str
    severities: tuple[Severity, ...]  # the usual one first; a hit may pick another of these
    fact: str  # the uv issue, PR or measurement it rests on (`uv-drive-guard rules`)
    summary: str  # when it is raised, for `uv-drive-guard rules` (markdown)
    offers: str  # the fixes it offers, in words, for `uv-drive-guard rules` (markdown)
    fixes: FixesOf = no_fixes
    setting: SettingCheck | None = None  # asked first of every configured location; a hit ends it
    place: PlaceCheck | None = None  # asked of locations on drives in scope
    alone_on: Callable[[Volume], bool] | None = None  # on such a drive only this rule is asked
    artefact: ArtefactCheck | None = None
    whole: SnapshotCheck | None = None
    unfixed: tuple[Severity, ...] = ()  # severities at which nothing is offered yet
    # what uv cannot do on the drive, in a few words, for the hint after uv fails there
    # ("uv cannot keep environments there"); None: the rule's errors are about no drive
    cannot: Callable[[Location, Volume], str] | None = None
    temporary: bool = False  # its fixes last while a drive is away: undone when it is back
    # codes that speak for the same place first: where one of their checks hits the same location,
    # this rule's finding there is not made (diagnose() applies it; precedence between places,
    # such as a cache uv cannot use at all, stays in the checks that look at both)
    yields_to: tuple[str, ...] = ()

    def finding(self, hit: Hit) -> Finding:
        severity = hit.severity or self.severities[0]
        if severity not in self.severities:
            raise ValueError(f"{self.code} is never {severity.value}: its rule says {self.severities}")
        return Finding(
            code=self.code,
            severity=severity,
            title=hit.text.title,
            detail=hit.text.detail,
            uv_message=hit.text.uv_message,
            location=hit.location,
            volume=hit.location.volume,
            facts=self.fact,
        )

    def with_fixes(self, snapshot: Snapshot, finding: Finding) -> Finding:
        """The finding with the fixes this rule offers for it."""
        if finding.location is None or finding.severity in self.unfixed:
            return finding
        return replace(finding, fixes=self.fixes(self.code, snapshot, finding.location))


# --- fixes several rules offer ---------------------------------------------------------


def present(*fixes: Fix | None) -> tuple[Fix, ...]:
    """The fixes that apply here (a building block returns None where it does not)."""
    return tuple(f for f in fixes if f is not None)


def off_drive(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """Keep the directory on the internal disk: a project's own .venv by a setting, else where it is set."""
    if loc.role is Role.PROJECT_ENVIRONMENT and loc.source.kind is SourceKind.DEFAULT:
        return (local_project_environment(code, snapshot, loc),)
    return present(move_off_drive(code, snapshot, loc))


def keep_on_computer(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """Per-computer environments; a cache setting on the same drive moves as part of it."""
    cache = next(
        (c for c in snapshot.locations if c.role is Role.CACHE and c.project is None and c.volume == loc.volume),
        None,
    )
    moved = move_off_drive(code, snapshot, cache) if cache is not None else None
    return portable.portable_fixes(code, snapshot, loc, moved.changes if moved else ())
