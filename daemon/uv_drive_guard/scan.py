"""Gather a Snapshot from this machine: volumes, settings, artefacts, probes, uv itself.

The one place that calls the edges in order; `diagnose()` then decides, purely.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

__all__ = ["Memo", "Options", "Session", "gather", "in_scope", "replace", "run"]
from typing import Any

from .core import resolve
from .core import scope as policy  # `scope` is the tuple of mount points judged, below
from .core.diagnose import diagnose
from .core.model import (
    Artefact,
    ArtefactKind,
    Capabilities,
    Finding,
    Location,
    Os,
    Role,
    Snapshot,
    Source,
    SourceKind,
    Unseen,
    UvInfo,
    Volume,
)
from .edges import bounded, portable_registry, projects, settings, untrusted, uvcli, walk
from .edges import probe as probing
from .edges.volumes import list_volumes

log = logging.getLogger(__name__)
DEFAULT_BUDGET = walk.Budget()
WALKS: bounded.Workers[walk.WalkResult] = bounded.Workers("walk")  # at most one per drive, ever
FANOUT = bounded.Pool(4, "scan")  # uv itself and the probes, at once; the same threads for every scan


@dataclass(frozen=True)
class Options:
    paths: tuple[str, ...] = ()
    mount_roots: tuple[str, ...] = policy.DEFAULT_MOUNT_ROOTS
    include_fixed: bool = False
    probe: bool = True
    probe_timeout: float = 3.0
    walk: walk.Budget = DEFAULT_BUDGET
    confirm_with_uv: bool = True

    @classmethod
    def from_config(cls, config: Mapping[str, Any], paths: Iterable[str] = ()) -> Options:
        return cls(
            paths=tuple(paths),
            mount_roots=tuple(config["scope"]["mount_roots"]),
            include_fixed=config["scope"]["include_fixed"],
            probe=config["probe"]["enabled"],
            probe_timeout=float(config["probe"]["timeout"]),
            walk=walk.Budget(
                max_depth=config["walk"]["max_depth"],
                max_entries=config["walk"]["max_entries"],
                seconds=float(config["walk"]["seconds"]),
            ),
            confirm_with_uv=config["uv"]["confirm"],
        )


def in_scope(volumes: Iterable[Volume], options: Options, locations: Iterable[Location], os_: Os) -> tuple[str, ...]:
    """External drives, plus any volume holding a path named or a uv directory the user set."""
    return policy.in_scope(
        os_,
        list(volumes),
        locations,
        paths=tuple(os.path.abspath(path) for path in options.paths),
        mount_roots=options.mount_roots,
        include_fixed=options.include_fixed,
    )


def _walk_roots(scope: tuple[str, ...], options: Options, mounts: tuple[str, ...], os_: Os) -> list[tuple[str, str]]:
    if options.paths:
        pairs = [(os.path.abspath(p), resolve.volume_of(os_, os.path.abspath(p), mounts)) for p in options.paths]
        return [(path, mount) for path, mount in pairs if mount]
    return [(mount, mount) for mount in scope]


@dataclass
class Memo:
    """What the daemon keeps between scans: each drive is probed and walked once per mount,
    uv asked once; `forget` drops a drive that went away (or everything, for "Rescan now")."""

    probes: dict[tuple[str, str], Capabilities] = field(default_factory=dict)
    walks: dict[str, list[Artefact]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # by walk root: what was skipped
    uv: UvInfo | None = None
    unseen: dict[str, list[Unseen]] = field(default_factory=dict)  # per walk root
    uv_env: tuple[tuple[str, str], ...] = ()  # the variables uv was asked with: others mean ask again

    def forget(self, mountpoints: Iterable[str] | None = None) -> None:
        if mountpoints is None:
            self.probes.clear()
            self.walks.clear()
            self.notes.clear()
            self.unseen.clear()
            self.uv = None
            return
        gone = set(mountpoints)
        self.probes = {k: v for k, v in self.probes.items() if k[0] not in gone}
        self.walks = {k: v for k, v in self.walks.items() if k not in gone}
        self.notes = {k: v for k, v in self.notes.items() if k not in gone}
        WALKS.reap(gone)
        probing.WORKERS.reap(gone)
        self.unseen = {k: v for k, v in self.unseen.items() if k not in gone}


def gather(
    env: Mapping[str, str],
    options: Options = Options(),
    *,
    cwd: str | None = None,
    memo: Memo | None = None,
    session: bool = False,
) -> Snapshot:
    """Everything diagnosis needs, read now. `session`: `env` is what a new terminal would get
    from the desktop session (the daemon's `Session.env()`), not the environment of a terminal."""
    inputs = settings.read_inputs(env, cwd=cwd)
    volumes = list_volumes(options.mount_roots)
    mounts = tuple(v.mountpoint for v in volumes)
    global_locs = resolve.global_locations(inputs)
    scope = in_scope(volumes, options, with_shadowed(global_locs), inputs.os)
    drives = [v.mountpoint for v in volumes if v.mountpoint in scope]
    memo = memo if memo is not None else Memo()
    asked_with = _uv_relevant(env)
    if memo.uv_env != asked_with:
        memo.uv, memo.uv_env = None, asked_with
    with FANOUT.batch() as pool:
        uv_future = None
        if memo.uv is None:
            uv_future = pool.submit(
                uvcli.ask, uvcli.find_uv(env, forbidden=drives), env, confirm=options.confirm_with_uv
            )
        roots = _walk_roots(scope, options, mounts, inputs.os)
        artefacts = _find_artefacts(roots, options, memo)
        if not resolve.reads_project_config(inputs):
            artefacts = [replace(a, settings=()) for a in artefacts]
        locations = _place(inputs.os, mounts, global_locs + _project_locations(inputs, artefacts))
        locations, artefacts = _set_environments(inputs.os, mounts, locations, artefacts)
        if options.paths:  # what uv uses for the places named (their cache, their environment) is theirs too
            scope = _with_places_used(scope, locations, volumes)
        artefacts = _with_environments(artefacts, locations)
        temp = resolve.temp_location(inputs)
        temp = replace(temp, volume=resolve.volume_of(inputs.os, temp.path, mounts))
        # a share, an overlay, a noexec mount holding a uv place (for the paths named: one they use)
        places = _used_by(locations) if options.paths else locations
        used = policy.where_uv_works(inputs.os, volumes, [*with_shadowed(places), temp])
        scope = tuple(m for m in mounts if m in scope or m in used)
        locations = (*locations, temp)
        volumes = _probe_all(volumes, scope, locations, options, pool, memo)
        if uv_future is not None:
            memo.uv = uv_future.result()
        uv = memo.uv or UvInfo(None, None)
    snapshot = Snapshot(
        os=inputs.os,
        uv=uv,
        volumes=tuple(volumes),
        locations=locations,
        definitions=inputs.persisted,
        artefacts=tuple(artefacts),
        link_mode=resolve.link_mode(inputs),
        mount_roots=options.mount_roots,
        home=inputs.home,
        scope=scope,
        defaults=_defaults(inputs),
        user_config=str(settings.user_config_path(inputs.os, inputs.home, env)),
        notes=tuple((volume, note) for root, volume in roots for note in memo.notes.get(root, ())),
        unseen=tuple(item for root, _ in roots for item in memo.unseen.get(root, ())),
        switches=resolve.switches(inputs),
        searched=tuple(root for root, _ in roots if root in memo.walks),
        session=session,
        leftovers=_leftovers(locations),
    )
    return portable_registry.attach(snapshot)


def _leftovers(locations: tuple[Location, ...]) -> tuple[str, ...]:
    """uv's old `toolchains` directory beside a Python install directory not made yet: uv moves
    it into place with a rename on its next Python command (uv-python `ManagedPythonInstallations::init`)."""
    found = []
    for loc in locations:
        if loc.role is Role.PYTHON_INSTALL_DIR and loc.project is None:
            old = os.path.join(os.path.dirname(loc.path.rstrip("/\\")), "toolchains")
            if untrusted.touchable(old) and os.path.isdir(old) and not os.path.exists(loc.path):
                found.append(old)
    return tuple(found)  # environments kept on this computer for drives' projects


def _uv_relevant(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """What uv's answers depend on: its variables, the bases of its defaults, where it is found."""
    names = (*resolve.WATCHED, *resolve.TEMP_VARIABLES, "PATH", "HOME")
    return tuple(sorted((k, v) for k, v in env.items() if k in names))


@dataclass
class Session:
    """The environment a new terminal of the person's own shell would have now. A daemon
    started at login keeps the environment it was given (environment.d, the registry,
    launchd, ~/.profile) for good; a new terminal reads those places again. So: the
    environment this process started with, less what its startup files and stores gave it
    then, plus what they give now (core.shells lists the files)."""

    base: dict[str, str]

    @classmethod
    def start(cls, env: Mapping[str, str], os_: Os | None = None) -> Session:
        inputs = settings.read_inputs(env, os_=os_)
        return cls(resolve.without_persisted(env, inputs.persisted))

    def env(self, os_: Os | None = None) -> dict[str, str]:
        inputs = settings.read_inputs(self.base, os_=os_)
        return resolve.with_persisted(self.base, inputs.persisted)


def _defaults(inputs: resolve.Inputs) -> tuple[tuple[Role, str], ...]:
    """Where each directory goes when the user's setting is turned off."""
    bare = replace(inputs, env={}, persisted=(), config=())
    return tuple((loc.role, loc.path) for loc in resolve.global_locations(bare))


def _find_artefacts(roots: list[tuple[str, str]], options: Options, memo: Memo) -> list[Artefact]:
    found: list[Artefact] = []
    for root, volume in roots:
        if root not in memo.walks:
            done = _walk_bounded(root, volume, options.walk)
            if done is None:
                waited = options.walk.seconds + 1
                memo.notes[root] = [f"{root} did not answer within {waited:g} s: its contents are not known"]
                continue  # asked again at the next scan
            memo.walks[root], memo.notes[root] = done.artefacts, done.notes
            memo.unseen[root] = done.unseen
        found += memo.walks[root]
    return found


def _walk_bounded(root: str, volume: str, budget: walk.Budget) -> walk.WalkResult | None:
    """The walk checks its own clock between directories, but one scandir on a frozen FUSE
    driver never returns: so it runs in a thread, given up after its budget. A walk given up
    is waited on again at the next scan, never started twice (bounded.Workers)."""

    def run() -> walk.WalkResult:
        try:
            return walk.walk(root, volume, budget)
        except OSError as exc:
            log.warning("walk of %s failed: %s", root, exc)
            return walk.WalkResult()

    finished, result = WALKS.run(root, run, budget.seconds + 1.0)
    if not finished:
        log.warning("%s did not answer within %.1f s: its contents are not known", root, budget.seconds + 1)
        return None
    for note in result.notes if result else ():
        log.warning("%s", note)
    return result or walk.WalkResult()


def _project_locations(inputs: resolve.Inputs, artefacts: list[Artefact]) -> tuple[Location, ...]:
    locations: list[Location] = []
    for artefact in artefacts:
        if artefact.kind is ArtefactKind.PROJECT:
            if artefact.workspace in (None, artefact.path):  # members share their root's
                locations += resolve.project_locations(inputs, artefact)
        elif artefact.kind is ArtefactKind.VENV and not any(
            a.kind is ArtefactKind.PROJECT and a.environment == artefact.path for a in artefacts
        ):
            source = Source(SourceKind.FOUND, file=artefact.path)
            locations.append(Location(Role.VENV, artefact.path, source))
    return tuple(locations)


def _set_environments(
    os_: Os, mounts: tuple[str, ...], locations: tuple[Location, ...], artefacts: list[Artefact]
) -> tuple[tuple[Location, ...], list[Artefact]]:
    """A UV_PROJECT_ENVIRONMENT may name a link or a redirect file, as `.venv` may: read it as
    the walk reads `.venv` (text only; only on a local volume that is mounted), and judge the
    environment where it leads."""
    roots = {a.path: a for a in artefacts if a.kind is ArtefactKind.PROJECT and a.workspace in (None, a.path)}
    followed: dict[str, Artefact] = {}
    out = []
    for loc in locations:
        root = roots.get(loc.project or "")
        if loc.role is not Role.PROJECT_ENVIRONMENT or root is None or loc.source.kind is SourceKind.DEFAULT:
            out.append(loc)
            continue
        if untrusted.touchable(loc.path):
            seen = projects.with_environment(root, loc.path)
        else:  # another machine's path, or an automount: judged as text, where it is set
            seen = projects.plain_environment(root, loc.path)
        followed[root.path] = seen
        where = seen.environment or loc.path
        out.append(replace(loc, path=where, volume=resolve.volume_of(os_, where, mounts)))
    fields = ("environment_kind", "environment_link", "environment_target", "environment_target_exists")
    return tuple(out), [
        replace(a, **{f: getattr(followed[a.workspace or a.path], f) for f in fields})
        if a.kind is ArtefactKind.PROJECT and (a.workspace or a.path) in followed
        else a
        for a in artefacts
    ]


def _with_environments(artefacts: list[Artefact], locations: tuple[Location, ...]) -> list[Artefact]:
    """Each project names the environment uv will use (UV_PROJECT_ENVIRONMENT included), the
    one its workspace root's location says: the walk alone only knows `<root>/.venv`."""
    where = {loc.project: loc.path for loc in locations if loc.role is Role.PROJECT_ENVIRONMENT}
    return [
        replace(a, environment=where.get(a.workspace or a.path, a.environment)) if a.kind is ArtefactKind.PROJECT else a
        for a in artefacts
    ]


def _place(os_: Os, mounts: tuple[str, ...], locations: tuple[Location, ...]) -> tuple[Location, ...]:
    """Each location, and each definition it shadows, on the volume that holds it."""
    return tuple(
        replace(
            loc,
            volume=resolve.volume_of(os_, loc.path, mounts),
            exists=walk.has_tools(loc.path) if loc.role is Role.TOOL_DIR and loc.project is None else loc.exists,
            shadowed=tuple(replace(s, volume=resolve.volume_of(os_, s.path, mounts)) for s in loc.shadowed),
        )
        for loc in locations
    )


USED_EVERYWHERE = (Role.CACHE, Role.PYTHON_INSTALL_DIR)  # every uv command in a folder may use these


def _with_places_used(
    scope: tuple[str, ...], locations: tuple[Location, ...], volumes: list[Volume]
) -> tuple[str, ...]:
    """The drives holding what uv would use for the places named: the projects' caches and
    environments found under them, and uv's cache and Python directory (a venv's install, a
    `uv run` there, use those wherever they are)."""
    wanted = {x.volume for x in with_shadowed(_used_by(locations))}
    return tuple(v.mountpoint for v in volumes if v.mountpoint in scope or (v.mountpoint in wanted and not v.system))


def _used_by(locations: tuple[Location, ...]) -> list[Location]:
    """What uv uses for the places named: their projects' caches and environments, uv's cache
    and Python directory."""
    return [loc for loc in locations if loc.project is not None or loc.role in USED_EVERYWHERE]


def with_shadowed(locations: Iterable[Location]) -> list[Location]:
    """The locations and every definition they shadow (a setting turned off exposes those)."""
    return [x for loc in locations for x in (loc, *loc.shadowed) if x.source.kind is not SourceKind.DEFAULT or x is loc]


def _probe_all(
    volumes: list[Volume],
    scope: tuple[str, ...],
    locations: tuple[Location, ...],
    options: Options,
    pool: bounded.Batch,
    memo: Memo,
) -> list[Volume]:
    if not options.probe:
        return volumes
    wanted = [v for v in volumes if v.mountpoint in scope and not v.system]
    places = {v.mountpoint: [loc.path for loc in locations if loc.volume == v.mountpoint] for v in wanted}
    known = {
        v.mountpoint: memo.probes[(v.mountpoint, v.device)] for v in wanted if (v.mountpoint, v.device) in memo.probes
    }
    futures = {
        v: pool.submit(probing.probe, v, places=places[v.mountpoint], timeout=options.probe_timeout)
        for v in wanted
        if v.mountpoint not in known
    }
    for v, future in futures.items():
        try:
            known[v.mountpoint] = future.result()
        except OSError as exc:  # a drive vanishing between listing and probing
            known[v.mountpoint] = Capabilities(note=f"the drive does not answer: {exc.strerror or exc}")
        if known[v.mountpoint].probed:  # a drive that did not answer is asked again next time
            memo.probes[(v.mountpoint, v.device)] = known[v.mountpoint]
        else:
            log.info("%s not probed: %s", v.mountpoint, known[v.mountpoint].note)
    return [replace(v, capabilities=known[v.mountpoint]) if v.mountpoint in known else v for v in volumes]


def run(env: Mapping[str, str], options: Options = Options()) -> tuple[Snapshot, tuple[Finding, ...]]:
    snapshot = gather(env, options)
    return snapshot, diagnose(snapshot)
