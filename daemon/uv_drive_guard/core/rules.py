"""The rule catalogue: stable codes, each true to what uv does (see uv-facts.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from . import capability as cap
from . import fixes, messages
from .model import Finding, Location, Os, Role, Severity, Snapshot, SourceKind, Volume
from .versions import Version, at_least, before


@dataclass(frozen=True)
class Rule:
    code: str
    fact: str  # the row of uv-facts.md and the uv issues it rests on
    summary: str


CATALOGUE = (
    Rule("UVD001", "R1, #11233, PR #11269", "Windows cache on a drive without junctions, uv < 0.6"),
    Rule("UVD002", "R2", "environment on a drive that cannot hard link: uv copies, with a warning"),
    Rule("UVD003", "R3", "cache and environment on different drives: uv copies, with a warning"),
    Rule("UVD004", "R4, #19616", "Windows Python installs on a drive without junctions"),
    Rule("UVD005", "R5, #2103", "environment on a drive without symlinks: uv cannot create it"),
    Rule("UVD006", "R6", "cache on a drive where uv cannot create its lock files or links"),
    Rule("UVD007", "R7, PR #17115", "lock files need uv >= 0.9.18 on this drive"),
    Rule("UVD008", "R8, #18790", "macOS writes AppleDouble ._ files on this drive"),
    Rule("UVD009", "R9", "file locking refused on this drive"),
    Rule("UVD010", "R10", "environment points at an interpreter that is gone"),
    Rule("UVD011", "R11", "a uv directory is configured on a drive that is not mounted"),
    Rule("UVD012", "R12", "symlink link mode without symlink permission on Windows"),
    Rule("UVD013", "R13", "FAT32 cannot hold files of 4 GiB or more"),
    Rule("UVD014", "seen: fusefat chmod gives ENOSYS", "file modes refused: even copy mode fails"),
    Rule("UVD015", "seen: os error 30", "read-only drive: a cache or environment there cannot be written"),
    Rule("UVD016", "seen: os error 13 (noexec), 40 (nosymfollow)", "environment's commands cannot be started"),
    Rule("UVD017", "seen: os error 28", "drive too full for even a small wheel where uv writes"),
    Rule("UVD018", "R10, seen: os error 2 after a remount", "drive plugged in at another mount point"),
    Rule("UVD019", "mountinfo root and major:minor", "a bind mount shows a drive's folder elsewhere"),
    Rule("UVD020", "uv-static parse_boolish, clap BoolishValueParser", "a UV_NO_* value uv cannot read"),
)
RULES = {rule.code: rule for rule in CATALOGUE}

# Directories in which uv creates environments (and so an interpreter symlink on Unix).
ENV_ROLES = (Role.PROJECT_ENVIRONMENT, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR)
BIN_ROLES = (Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR)
LOCKED_ROLES = (Role.CACHE, Role.TOOL_DIR, Role.PYTHON_INSTALL_DIR)


@dataclass(frozen=True)
class Context:
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


def finding(ctx: Context, code: str, severity: Severity, location: Location, text: messages.Text) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        title=text.title,
        detail=text.detail,
        uv_message=text.uv_message,
        location=location,
        volume=location.volume,
        fixes=fixes.plan(code, ctx.snapshot, location),
        facts=RULES[code].fact,
    )


# --- the cache ------------------------------------------------------------------------


def cache_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """The cache, tool and Python directories each hold a `.lock` that uv persists without
    replacing (groundtruth: `uv tool install` with UV_TOOL_DIR on exFAT fails on it)."""
    if loc.role not in LOCKED_ROLES:
        return
    if ctx.os is Os.WINDOWS:
        if loc.role is Role.CACHE and before(ctx.uv, (0, 6, 0)) and cap.can(vol, "junction") is False:
            yield finding(ctx, "UVD001", Severity.ERROR, loc, messages.cache_junction(loc, vol))
        return
    problem = lock_problem(ctx, loc, vol)
    if problem == "UVD007":
        yield finding(ctx, "UVD007", Severity.ERROR, loc, messages.cache_lock_old_uv(loc, vol))
    elif problem == "UVD006":
        text = messages.cache_unusable(loc, vol, ctx.uv)
        yield finding(ctx, "UVD006", Severity.ERROR, loc, text)


def cache_away_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """A working cache on a drive makes uv copy, with a warning, into every environment on
    another volume (seen with real uv). Warn only for such environments that exist: installed
    tools, or venvs and projects found elsewhere that no finding of their own speaks for;
    otherwise say it once, as information (real uv warns about nothing yet)."""
    if loc.role is not Role.CACHE or loc.project is not None or _cache_broken(ctx, vol):
        return
    if any(lock_rules(ctx, loc, vol)):
        return  # no lock, no cache: UVD009 says so
    mode = ctx.snapshot.link_mode.value if ctx.snapshot.link_mode and ctx.snapshot.link_mode.value else None
    if (mode or default_link_mode(ctx.os, ctx.uv)) not in ("clone", "hardlink"):
        return
    elsewhere = [
        x
        for x in ctx.snapshot.locations
        if x.role in (Role.TOOL_DIR, Role.VENV, Role.PROJECT_ENVIRONMENT)
        and x.volume not in (None, vol.mountpoint)
        and _cache_path(ctx, x) == loc.path
    ]
    unjudged = [x for x in elsewhere if x.volume not in ctx.snapshot.scope]
    causes = [x for x in unjudged if x.role is not Role.TOOL_DIR or x.exists]
    if causes:
        yield finding(ctx, "UVD003", Severity.WARNING, loc, messages.cache_away(loc, vol, causes))
    elif len(unjudged) == len(elsewhere):  # no environment elsewhere has a finding of its own
        quiet = finding(ctx, "UVD003", Severity.INFO, loc, messages.cache_away_quiet(loc, vol))
        yield replace(quiet, fixes=())  # nothing to fix yet


def _cache_path(ctx: Context, loc: Location) -> str | None:
    cache = ctx.cache_for(loc)
    return cache.path if cache is not None else None


def lock_problem(ctx: Context, loc: Location, vol: Volume) -> str | None:
    """Which lock-file rule holds for a locked directory: UVD006, UVD007 or none."""
    if not ctx.os.unix or loc.role not in LOCKED_ROLES:
        return None
    errno = _persist_errno(ctx, vol)
    unsupported = cap.persist_unsupported(ctx.os, errno)
    no_links = loc.role is Role.CACHE and cap.symlinks(vol, ctx.os) is False
    if errno is not None and unsupported and not at_least(ctx.uv, (0, 9, 18)) and not no_links:
        return "UVD007"
    if (errno is not None and not unsupported) or no_links:
        return "UVD006"
    return None


def _persist_errno(ctx: Context, vol: Volume) -> int | None:
    """uv before 0.5.30 created lock files plainly (PR #11328 brought persist_noclobber)."""
    return None if before(ctx.uv, (0, 5, 30)) else cap.persist_errno(vol)


def lock_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if loc.role not in LOCKED_ROLES or not ctx.os.unix:
        return
    if cap.can(vol, "flock_exclusive") is False or messages.nfs_lock_bug(vol, ctx.uv):
        yield finding(ctx, "UVD009", Severity.ERROR, loc, messages.no_locks(loc, vol, ctx.uv))


def size_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    limit = cap.max_file_size(vol)
    if limit is not None and limit < 2**32 and loc.role in (Role.CACHE, *ENV_ROLES):
        yield finding(ctx, "UVD013", Severity.INFO, loc, messages.fat32_size(loc, vol))


# --- environments -----------------------------------------------------------------------


def symlink_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if not ctx.os.unix or loc.role not in ENV_ROLES + BIN_ROLES:
        return
    if lock_problem(ctx, loc, vol) is not None:
        return  # uv stops at the lock file first; moving the directory cures both
    if cap.symlinks(vol, ctx.os) is False:
        text = messages.no_symlinks(loc, vol, ctx.os, ctx.uv)
        yield finding(ctx, "UVD005", Severity.ERROR, loc, text)


def junction_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if ctx.os is not Os.WINDOWS or loc.role is not Role.PYTHON_INSTALL_DIR:
        return
    if at_least(ctx.uv, (0, 7, 14)) and cap.can(vol, "junction") is False:
        yield finding(ctx, "UVD004", Severity.ERROR, loc, messages.python_junction(loc, vol))


def appledouble_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    if ctx.os is not Os.MACOS or loc.role not in (
        Role.PROJECT_ENVIRONMENT,
        Role.VENV,
        Role.TOOL_DIR,
    ):
        return
    writes = vol.capabilities.get("appledouble")
    if writes is None and not vol.capabilities.probed:
        writes = vol.fstype in cap.FAT_FAMILY | cap.NETWORK or None
    if writes:
        yield finding(ctx, "UVD008", Severity.WARNING, loc, messages.appledouble(loc, vol))


def mode_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """uv sets file modes after copying; a driver that refuses chmod fails every install."""
    if not ctx.os.unix or loc.role not in (Role.VENV, Role.PROJECT_ENVIRONMENT, Role.TOOL_DIR):
        return
    if ctx.os.unix and cap.symlinks(vol, ctx.os) is False and loc.role is not Role.VENV:
        return  # the environment cannot even be created: UVD005 says so
    if _chmod_refused(vol):
        yield finding(ctx, "UVD014", Severity.ERROR, loc, messages.no_chmod(loc, vol))


def _chmod_refused(vol: Volume) -> bool:
    """chmod failed with an error (fusefat: ENOSYS), not merely ignored (exfat-fuse, ntfs-3g)."""
    return vol.capabilities.get("exec_bit") is False and bool(vol.capabilities.errno("exec_bit"))


def default_link_mode(os: Os, uv: Version | None) -> str:
    """clone on macOS and (since 0.10.5) Linux, hardlink on Windows."""
    if os is Os.MACOS or (os is Os.LINUX and at_least(uv, (0, 10, 5))):
        return "clone"
    return "hardlink"


def effective_link_mode(ctx: Context, loc: Location) -> str:
    project = loc.project
    for artefact in ctx.snapshot.artefacts:
        if artefact.path == project:
            mode = next((d for d in artefact.settings if d.name == "link-mode" and d.value), None)
            env = ctx.snapshot.link_mode
            if env is not None and env.source.kind not in _CONFIG_KINDS and env.value:
                return env.value
            if mode is not None and mode.value:
                return mode.value
    if ctx.snapshot.link_mode is not None and ctx.snapshot.link_mode.value:
        return ctx.snapshot.link_mode.value
    return default_link_mode(ctx.os, ctx.uv)


_CONFIG_KINDS = (SourceKind.UV_TOML_USER, SourceKind.UV_TOML_SYSTEM, SourceKind.UV_CONFIG_FILE)


def install_rules(ctx: Context, loc: Location, vol: Volume) -> Iterator[Finding]:
    """How files get from the cache into an environment: the only step link mode changes."""
    if loc.role not in (Role.PROJECT_ENVIRONMENT, Role.VENV, Role.TOOL_DIR):
        return
    if loc.role is Role.TOOL_DIR and loc.source.kind is SourceKind.DEFAULT and loc.exists is False:
        return  # uv's own tool directory with no tool installed: no copy happens (no cause)
    if ctx.os.unix and cap.symlinks(vol, ctx.os) is False and loc.role is not Role.VENV:
        return  # the environment cannot even be created: UVD005 says so
    if ctx.os.unix and _chmod_refused(vol):
        return  # every copy fails too (seen: fusefat), UVD014 says so; copy mode would not help
    cache = ctx.cache_for(loc)
    cache_vol = ctx.volume(cache) if cache else None
    if cache is None or cache_vol is None or _cache_broken(ctx, cache_vol):
        return
    mode = effective_link_mode(ctx, loc)
    if mode == "symlink":
        if ctx.os is Os.WINDOWS and cap.can(vol, "symlink_file") is False:
            yield finding(ctx, "UVD012", Severity.WARNING, loc, messages.symlink_mode(loc, vol))
        return
    if mode not in ("clone", "hardlink"):
        return
    if cache_vol.mountpoint != vol.mountpoint:
        text = messages.cross_volume(loc, vol, cache, cache_vol)
        yield finding(ctx, "UVD003", Severity.WARNING, loc, text)
    elif cap.can(vol, "hardlink") is False and cap.can(vol, "reflink") is not True:
        yield finding(ctx, "UVD002", Severity.WARNING, loc, messages.no_hardlinks(loc, vol))


def _cache_broken(ctx: Context, vol: Volume) -> bool:
    if ctx.os is Os.WINDOWS:
        return before(ctx.uv, (0, 6, 0)) and cap.can(vol, "junction") is False
    errno = _persist_errno(ctx, vol)
    if errno is None:
        return cap.symlinks(vol, ctx.os) is False
    plain_create = cap.persist_unsupported(ctx.os, errno) and at_least(ctx.uv, (0, 9, 18))
    return cap.symlinks(vol, ctx.os) is False or not plain_create


LOCATION_RULES: tuple[Callable[[Context, Location, Volume], Iterator[Finding]], ...] = (
    cache_rules,
    cache_away_rules,
    lock_rules,
    symlink_rules,
    junction_rules,
    appledouble_rules,
    install_rules,
    mode_rules,
    size_rules,
)
