"""The case files (tests/cases/*.toml) read into snapshots: one rule's setups, as data.

A case file holds a compact snapshot (os, uv version, volumes with probed capabilities, the
locations uv would use and where they are set) and the findings diagnosis must produce.
Capabilities are written `op = true` (worked), `op = <errno>` (refused with that errno), or
`op = false` (refused, errno unknown); the uv-style error text is derived from the errno.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    Artefact,
    ArtefactKind,
    Capabilities,
    Definition,
    EnvironmentKind,
    Finding,
    Location,
    Os,
    Role,
    Shebang,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.core.resolve import volume_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - python 3.10 only
    import tomli as tomllib


CASES = Path(__file__).resolve().parents[1] / "cases"
CASE_FILES = sorted(CASES.glob("*.toml"))


# Texts as Rust's io::Error prints them, so the finding's uv_message reads like uv's.
_POSIX_TEXT = {
    1: "Operation not permitted",
    5: "Input/output error",
    9: "Bad file descriptor",
    18: "Invalid cross-device link",
    22: "Invalid argument",
    37: "No locks available",
    38: "Function not implemented",
    95: "Operation not supported",
}


_MACOS_TEXT = {**_POSIX_TEXT, 45: "Operation not supported", 78: "Function not implemented"}
_WINDOWS_TEXT = {
    1: "Incorrect function.",
    5: "Access is denied.",
    1314: "A required privilege is not held by the client.",
}


def error_text(os: Os, errno: int) -> str:
    table = {Os.LINUX: _POSIX_TEXT, Os.MACOS: _MACOS_TEXT, Os.WINDOWS: _WINDOWS_TEXT}[os]
    return f"{table.get(errno, 'Unknown error')} (os error {errno})"


def load(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def capabilities(os: Os, raw: dict[str, Any] | None, extra: dict[str, Any]) -> Capabilities:
    if raw is None:
        return Capabilities(note=extra.get("note"), max_file_size=extra.get("max_file_size"))
    results: list[tuple[str, bool | None]] = []
    errors: list[tuple[str, str]] = []
    errnos: list[tuple[str, int]] = []
    for op, value in raw.items():
        if isinstance(value, bool):
            results.append((op, value))
        elif isinstance(value, int):
            results.append((op, False))
            errnos.append((op, value))
            errors.append((op, error_text(os, value)))
        else:
            raise ValueError(f"capability {op} = {value!r}: use true, false or an errno")
    return Capabilities(
        results=tuple(results),
        errors=tuple(errors),
        errnos=tuple(errnos),
        max_file_size=extra.get("max_file_size"),
        probed=True,
        note=extra.get("note"),
    )


def volume(os: Os, raw: dict[str, Any]) -> Volume:
    return Volume(
        mountpoint=raw["mountpoint"],
        device=raw.get("device", ""),
        fstype=raw["fstype"],
        mount_fstype=raw.get("mount_fstype", raw["fstype"]),
        label=raw.get("label"),
        uuid=raw.get("uuid"),
        read_only=raw.get("read_only", False),
        removable=raw.get("removable"),
        system=raw.get("system", False),
        capabilities=capabilities(os, raw.get("caps"), raw),
        options=tuple(raw.get("options", ())),
        free=raw.get("free"),
        root=raw.get("root", "/"),
        bind_of=raw.get("bind_of"),
    )


def source(raw: dict[str, Any]) -> Source:
    return Source(
        SourceKind(raw.get("source", "default")),
        file=raw.get("file"),
        line=raw.get("line"),
        name=raw.get("name"),
    )


def definition(raw: dict[str, Any]) -> Definition:
    return Definition(raw["name"], raw.get("value"), source(raw), raw=raw.get("raw", ""))


def snapshot(case: dict[str, Any]) -> Snapshot:
    os = Os(case["os"])
    volumes = tuple(volume(os, v) for v in case.get("volumes", ()))
    mounts = tuple(v.mountpoint for v in volumes)
    locations = tuple(
        Location(
            Role(raw["role"]),
            raw["path"],
            source(raw),
            volume=raw["volume"] if "volume" in raw else volume_of(os, raw["path"], mounts),
            project=raw.get("project"),
            exists=raw.get("exists"),
            shadowed=tuple(
                Location(Role(raw["role"]), s["path"], source(s), volume=volume_of(os, s["path"], mounts))
                for s in raw.get("shadowed", ())
            ),
        )
        for raw in case.get("locations", ())
    )
    artefacts = tuple(
        Artefact(
            kind=ArtefactKind(raw["kind"]),
            path=raw["path"],
            volume=raw.get("volume") or volume_of(os, raw["path"], mounts) or "",
            uv_version=raw.get("uv_version"),
            home=raw.get("home"),
            home_exists=raw.get("home_exists"),
            script_interpreter=raw.get("script_interpreter"),
            script_interpreter_exists=raw.get("script_interpreter_exists"),
            settings=tuple(definition(d) for d in raw.get("settings", ())),
            environment=raw.get("environment"),
            config_file=raw.get("config_file"),
            workspace=raw.get("workspace"),
            script=raw.get("script"),
            non_project=raw.get("non_project", False),
            shebangs=tuple(
                Shebang(s["interpreter"], s.get("scripts", 1), s.get("example", "..."), s.get("exists"))
                for s in raw.get("shebangs", ())
            ),
            environment_kind=EnvironmentKind(raw.get("environment_kind", "directory")),
            environment_link=raw.get("environment_link"),
            environment_target=raw.get("environment_target"),
            environment_target_exists=raw.get("environment_target_exists"),
        )
        for raw in case.get("artefacts", ())
    )
    extra: dict[str, Any] = {}
    if "mount_roots" in case:
        extra["mount_roots"] = tuple(case["mount_roots"])
    if "data_dir" in case:  # uv-drive-guard's data directory: portable projects are offered
        extra["data_dir"] = case["data_dir"]
    link = case.get("link_mode")
    if "temp" in case:  # the temporary directory, as `temp = { path = ..., source = ..., name = ... }`
        raw = case["temp"]
        locations += (Location(Role.TEMP_DIR, raw["path"], source(raw), volume=volume_of(os, raw["path"], mounts)),)
    if "leftovers" in case:  # uv's old directories found on disk (`toolchains`)
        extra["leftovers"] = tuple(case["leftovers"])
    return Snapshot(
        os=os,
        uv=UvInfo(case.get("uv"), case.get("uv_executable", "uv")),
        volumes=volumes,
        locations=locations,
        definitions=tuple(definition(d) for d in case.get("definitions", ())),
        artefacts=artefacts,
        link_mode=definition({"name": "UV_LINK_MODE", **link}) if link else None,
        home=case.get("home", ""),
        scope=tuple(case.get("scope", ())),
        defaults=tuple((Role(role), path) for role, path in case.get("defaults", {}).items()),
        user_config=case.get("user_config", ""),
        switches=tuple(definition(d) for d in case.get("switches", ())),
        **extra,
    )


def run(path: Path) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    case = load(path)
    return case, diagnose(snapshot(case))
