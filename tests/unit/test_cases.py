"""One data file per rule (tests/cases/*.toml): snapshot in, exact findings and fixes out.

A case file holds a compact snapshot (os, uv version, volumes with probed capabilities, the
locations uv would use and where they are set) and the findings diagnosis must produce: every
expected finding, and nothing else, so a false alarm fails as loudly as a missed one.

Capabilities are written `op = true` (worked), `op = <errno>` (refused with that errno), or
`op = false` (refused, errno unknown); the uv-style error text is derived from the errno.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

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
from uv_drive_guard.core.render import target_text
from uv_drive_guard.core.resolve import volume_of
from uv_drive_guard.core.rules import CATALOGUE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - python 3.10 only
    import tomli as tomllib

CASES = Path(__file__).resolve().parents[1] / "cases"
CASE_FILES = sorted(CASES.glob("*.toml"))
COPY_MODE_CODES = {"UVD002", "UVD003", "UVD012", "UVD022"}  # UVD022: a hard link into OneDrive

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


def slug(finding: Finding, fix_id: str) -> str:
    """`uvd001-upgrade-uv-1a2b3c` -> `upgrade-uv`."""
    prefix = finding.code.lower() + "-"
    assert fix_id.startswith(prefix), fix_id
    body, _, digest = fix_id[len(prefix) :].rpartition("-")
    assert len(digest) == 6, fix_id
    return body


def key(finding: Finding) -> tuple[str, str, str | None]:
    return finding.code, finding.severity.value, finding.location.path if finding.location else None


def run(path: Path) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    case = load(path)
    return case, diagnose(snapshot(case))


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.name for p in CASE_FILES])
def test_case(path: Path) -> None:
    case, findings = run(path)
    expected = case.get("expect", [])
    want = {(e["code"], e["severity"], e["location"]) for e in expected}
    got = {key(f) for f in findings}
    assert got == want, f"{path.name}: {case.get('description', '')}"
    assert len(findings) == len(got), "the same finding was reported twice"
    by_key = {key(f): f for f in findings}
    for item in expected:
        found = by_key[(item["code"], item["severity"], item["location"])]
        fixes = {slug(found, fix.id): fix for fix in found.fixes}
        assert list(fixes) == item.get("fixes", []), f"{item['code']} fixes"
        for fix_slug, kinds in item.get("changes", {}).items():
            assert [c.kind.value for c in fixes[fix_slug].changes] == kinds, fix_slug
        for fix_slug, target in item.get("targets", {}).items():
            assert target in [target_text(c.target) for c in fixes[fix_slug].changes], fix_slug
        for fix_slug, title in item.get("titles", {}).items():
            assert fixes[fix_slug].title == title, fix_slug
        for text in item.get("detail_contains", []):
            assert text in found.detail
        for fix_slug, value in item.get("values", {}).items():
            assert value in [c.value for c in fixes[fix_slug].changes], fix_slug
        for text in item.get("uv_message_contains", []):
            assert text in found.uv_message
        for text in item.get("title_contains", []):
            assert text in found.title
        if "folders" in item:
            assert list(found.folders) == item["folders"]


def test_every_catalogue_code_has_a_case_file() -> None:
    names = {p.stem for p in CASE_FILES}
    missing = [rule.code for rule in CATALOGUE if rule.code not in names]
    assert not missing, f"no tests/cases/<code>.toml for {missing}"


def test_every_catalogue_code_is_expected_somewhere() -> None:
    expected = {e["code"] for p in CASE_FILES for e in load(p).get("expect", [])}
    assert {rule.code for rule in CATALOGUE} <= expected


def test_clean_setups_exist() -> None:
    clean = [p for p in CASE_FILES if all(e["severity"] == "info" for e in load(p).get("expect", []))]
    assert len(clean) >= 4, "clean setups (information at most) guard against false alarms"


def test_copy_mode_only_where_it_cures() -> None:
    """UV_LINK_MODE=copy cures R2, R3, R12 only; offering it elsewhere is wrong (#11233)."""
    offered: set[str] = set()
    for path in CASE_FILES:
        _, findings = run(path)
        for found in findings:
            if any(slug(found, fix.id) == "copy-mode" for fix in found.fixes):
                offered.add(found.code)
    assert offered, "no case exercises copy mode"
    assert offered <= COPY_MODE_CODES


def test_fix_ids_are_stable() -> None:
    for path in CASE_FILES:
        first = [[fix.id for fix in f.fixes] for f in run(path)[1]]
        again = [[fix.id for fix in f.fixes] for f in run(path)[1]]
        assert first == again, path.name
