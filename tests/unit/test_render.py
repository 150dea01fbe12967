"""The pinned JSON document and the text report, from one diagnosis."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from tests.builders import caps

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    OPS,
    Artefact,
    ArtefactKind,
    Definition,
    Finding,
    Location,
    Os,
    Role,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.core.render import SCHEMA_VERSION, to_json, to_text, visible

EPERM, ENOSYS = "Operation not permitted (os error 1)", "Function not implemented (os error 38)"


ROOT = Volume(
    "/",
    "/dev/nvme0n1p2",
    "ext4",
    removable=False,
    system=True,
    capabilities=caps(hardlink=True, symlink_file=True, symlink_dir=True, rename_noreplace=True, flock_exclusive=True),
)
STICK = Volume(
    "/media/ana/STICK",
    "/dev/sdb1",
    "exfat",
    "fuseblk",
    label="STICK",
    removable=True,
    capabilities=caps(
        hardlink=1, symlink_file=38, symlink_dir=38, rename_noreplace=1, flock_exclusive=True, exec_bit=True
    ),
)
WINDATA = Volume(
    "/media/ana/WINDATA",
    "/dev/sdd1",
    "ntfs",
    "fuseblk",
    label="WINDATA",
    removable=True,
    capabilities=caps(
        hardlink=True,
        symlink_file=True,
        symlink_dir=True,
        rename_noreplace=True,
        flock_exclusive=True,
        exec_bit=True,
    ),
)
CLEAN = Volume("/media/ana/CLEAN", "/dev/sdf1", "ext4", label="CLEAN", removable=True)
BASHRC = Source(SourceKind.SHELL_FILE, file="/home/ana/.bashrc", line=20, name="UV_CACHE_DIR")


def snapshot() -> Snapshot:
    project = "/media/ana/WINDATA/proj"
    return Snapshot(
        os=Os.LINUX,
        uv=UvInfo("0.13.9", "/home/ana/.local/bin/uv"),
        volumes=(ROOT, STICK, WINDATA, CLEAN),
        locations=(
            Location(Role.CACHE, "/media/ana/STICK/uv-cache", BASHRC, volume="/media/ana/STICK"),
            Location(
                Role.TOOL_DIR,
                "/media/ana/GONE/tools",
                Source(SourceKind.SHELL_FILE, file="/home/ana/.profile", line=2, name="UV_TOOL_DIR"),
                volume="/",
            ),
            Location(
                Role.CACHE,
                "/home/ana/.cache/uv",
                Source(SourceKind.DEFAULT, name="UV_CACHE_DIR"),
                volume="/",
                project=project,
            ),
            Location(
                Role.PROJECT_ENVIRONMENT,
                f"{project}/.venv",
                Source(SourceKind.DEFAULT, file=project, name="UV_PROJECT_ENVIRONMENT"),
                volume="/media/ana/WINDATA",
                project=project,
            ),
        ),
        definitions=(
            Definition("UV_CACHE_DIR", "/media/ana/STICK/uv-cache", BASHRC),
            Definition(
                "UV_TOOL_DIR",
                "/media/ana/GONE/tools",
                Source(SourceKind.SHELL_FILE, file="/home/ana/.profile", line=2, name="UV_TOOL_DIR"),
            ),
        ),
        artefacts=(
            Artefact(
                ArtefactKind.PROJECT,
                project,
                "/media/ana/WINDATA",
                environment=f"{project}/.venv",
                config_file=f"{project}/pyproject.toml",
            ),
        ),
        home="/home/ana",
        scope=("/media/ana/STICK", "/media/ana/WINDATA", "/media/ana/CLEAN"),
        defaults=((Role.CACHE, "/home/ana/.cache/uv"), (Role.TOOL_DIR, "/home/ana/.local/share/uv/tools")),
        user_config="/home/ana/.config/uv/uv.toml",
    )


@pytest.fixture(scope="module")
def report() -> tuple[Snapshot, tuple[Finding, ...]]:
    snap = snapshot()
    return snap, diagnose(snap)


def test_the_snapshot_has_findings_on_each_drive(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    _, findings = report
    assert {(f.code, f.volume) for f in findings} == {
        ("UVD006", "/media/ana/STICK"),
        ("UVD003", "/media/ana/WINDATA"),
        ("UVD011", None),
    }


def test_json_top_level_keys(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    doc = to_json(*report)
    assert {"schema", "os", "uv", "volumes", "locations", "artefacts", "findings"} <= set(doc)
    assert doc["schema"] == SCHEMA_VERSION == 1
    assert doc["os"] == "linux"
    assert doc["uv"]["version"] == "0.13.9"
    json.loads(json.dumps(doc))  # plain JSON all the way down


def test_json_volumes(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    volumes = to_json(*report)["volumes"]
    assert [v["mountpoint"] for v in volumes] == [
        "/",
        "/media/ana/STICK",
        "/media/ana/WINDATA",
        "/media/ana/CLEAN",
    ]
    for vol in volumes:
        assert {"mountpoint", "device", "fstype", "label", "removable", "read_only", "capabilities"} <= set(vol)
        assert {"probed", *OPS} <= set(vol["capabilities"])
    stick = volumes[1]
    assert (stick["fstype"], stick["label"], stick["removable"], stick["read_only"]) == (
        "exfat",
        "STICK",
        True,
        False,
    )
    assert stick["capabilities"]["hardlink"] is False and stick["capabilities"]["probed"] is True
    assert stick["capabilities"]["errors"]["symlink_file"] == ENOSYS
    assert volumes[3]["capabilities"]["probed"] is False


def test_json_locations(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    locations = to_json(*report)["locations"]
    for loc in locations:
        assert {"role", "path", "source", "volume"} <= set(loc)
        assert {"kind", "file", "line", "name"} <= set(loc["source"])
    assert locations[0]["role"] == "cache"
    assert locations[0]["source"] == {
        "kind": "shell-file",
        "file": "/home/ana/.bashrc",
        "line": 20,
        "name": "UV_CACHE_DIR",
    }


def test_json_findings(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    findings = to_json(*report)["findings"]
    keys = {"code", "severity", "title", "detail", "uv_message", "location", "volume", "fixes"}
    for item in findings:
        assert keys <= set(item)
        for fix in item["fixes"]:
            assert {"id", "title", "changes"} <= set(fix)
            for change in fix["changes"]:
                assert {"kind", "target", "summary"} <= set(change)
    cache = next(f for f in findings if f["code"] == "UVD006")
    assert cache["severity"] == "error"
    assert cache["volume"] == "/media/ana/STICK"
    assert cache["location"]["path"] == "/media/ana/STICK/uv-cache"
    assert cache["fixes"][0]["changes"][0]["kind"] == "unset-env"
    assert cache["fixes"][0]["changes"][0]["target"] == "/home/ana/.bashrc"
    assert [f["severity"] for f in findings] == sorted(
        (f["severity"] for f in findings), key=["error", "warning", "info"].index
    )


def test_json_artefacts(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    (artefact,) = to_json(*report)["artefacts"]
    assert artefact["kind"] == "project" and artefact["path"] == "/media/ana/WINDATA/proj"


def _section(text: str, header_start: str) -> list[str]:
    """The lines under one drive header, up to the blank line that ends it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].strip())
    return lines[start:end]


def test_text_groups_findings_under_their_drive(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    text = to_text(*report)
    assert text.splitlines()[0].startswith("uv 0.13.9")
    stick = "\n".join(_section(text, "STICK: exfat at /media/ana/STICK"))
    windata = "\n".join(_section(text, "WINDATA: ntfs at /media/ana/WINDATA"))
    gone = "\n".join(_section(text, "Not mounted:"))
    clean = "\n".join(_section(text, "CLEAN: ext4 at /media/ana/CLEAN"))
    assert "UVD006" in stick and "UVD003" not in stick and "UVD011" not in stick
    assert "UVD003" in windata and "UVD006" not in windata
    assert "UVD011" in gone and "/media/ana/GONE/tools" in gone
    assert "ok: no problems for uv here" in clean and "UVD" not in clean
    assert "removable" in stick and "no hard links" in stick
    assert text.rstrip().endswith("1 error(s), 2 warning(s).")


def test_text_shows_fixes_and_uv_message(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    stick = "\n".join(_section(to_text(*report), "STICK: exfat"))
    assert "uv would print:" in stick
    assert "Could not persist temporary file" in stick
    assert "fix uvd006-move-off-drive-" in stick
    assert "(recommended)" in stick


def test_text_system_disk_out_of_scope_is_not_listed(report: tuple[Snapshot, tuple[Finding, ...]]) -> None:
    assert not any(line.startswith("/: ext4") for line in to_text(*report).splitlines())


def test_text_without_drives() -> None:
    snap = Snapshot(Os.LINUX, UvInfo(None, None), (ROOT,), ())
    text = to_text(snap, diagnose(snap))
    assert "uv: not found, on PATH or where uv's installers put it" in text
    assert "No external drives found" in text
    assert text.endswith("0 error(s), 0 warning(s).")


def test_text_shows_a_value_s_cr_escaped_and_keeps_it_in_json() -> None:
    """A CR LF ~/.bashrc gives bash a cache path ending in CR: the person sees it as `\\r`,
    never as a raw CR that sends the terminal back to the start of the line."""
    cr = "/media/ana/STICK/uv-cache\r"
    snap = replace(
        snapshot(),
        locations=(Location(Role.CACHE, cr, BASHRC, volume="/media/ana/STICK"),),
        definitions=(Definition("UV_CACHE_DIR", cr, BASHRC),),
    )
    findings = diagnose(snap)
    text = to_text(snap, findings)
    assert "\r" not in text and "uv-cache\\r" in text
    assert "turn off UV_CACHE_DIR=/media/ana/STICK/uv-cache\\r in ~/.bashrc (line 20)" in text
    assert any(f["location"]["path"] == cr for f in to_json(snap, findings)["findings"])
    assert visible("a\r\nb\tc\x1b") == "a\r\nb\tc\\x1b"  # line ends and tabs stay
