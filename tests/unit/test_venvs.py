"""An environment's scripts, read as uv wrote them: every one (bounded), first line only, never
run; what stands where uv makes a project's environment; folders said once per drive."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from uv_drive_guard.core.diagnose import grouped
from uv_drive_guard.core.model import (
    Artefact,
    ArtefactKind,
    Change,
    ChangeKind,
    Finding,
    Fix,
    Location,
    Manual,
    Os,
    Role,
    Severity,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
)
from uv_drive_guard.edges import safeio, venvs


def script(venv: Path, name: str, first_line: str) -> None:
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / name).write_text(f"{first_line}\n# -*- coding: utf-8 -*-\nimport sys\n")


def test_every_script_counts_and_the_one_that_fails_is_named(tmp_path: Path) -> None:
    venv = tmp_path / "STICK" / "app" / ".venv"
    here = f"#!{venv}/bin/python"
    script(venv, "app", here)  # uv run rewrote the project's own script
    for name in ("pip", "tinypkg", "ruff"):
        script(venv, name, "#!/media/ana/STICK1/app/.venv/bin/python")
    script(venv, "activate", "# This file must be used with source")
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")  # a link, never opened
    found = venvs.venv_artefact(str(venv), str(tmp_path))
    stale, fine = found.shebangs
    assert (stale.interpreter, stale.scripts, stale.example, stale.exists) == (
        "/media/ana/STICK1/app/.venv/bin/python",
        3,
        "pip",
        False,
    )
    assert (fine.interpreter, fine.scripts, fine.exists) == (f"{venv}/bin/python", 1, True)
    # the telling one, for what reads a single script: a stale one, never the rewritten
    assert (found.script, found.script_interpreter_exists) == ("pip", False)


def test_scripts_are_bounded_and_only_their_first_line_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "venv"
    for i in range(venvs.MAX_SCRIPTS + 50):
        script(venv, f"s{i:03d}", "#!/usr/bin/python3")
    reads: list[tuple[str, int]] = []
    real = safeio.read_bytes
    monkeypatch.setattr(safeio, "read_bytes", lambda p, n, **k: reads.append((str(p), n)) or real(p, n, **k))
    (found,) = venvs.shebangs(str(venv))
    assert found.scripts == venvs.MAX_SCRIPTS and len(reads) == venvs.MAX_SCRIPTS
    assert {n for _, n in reads} == {venvs.FIRST_LINE}


@pytest.mark.parametrize(
    ("line", "interpreter"),
    [
        ("#!/media/S/app/.venv/bin/python", "/media/S/app/.venv/bin/python"),
        ("#!/media/S/app/.venv/bin/python3.11 -E", "/media/S/app/.venv/bin/python3.11"),
        ("#!/opt/pypy/bin/pypy3", "/opt/pypy/bin/pypy3"),
        ("#!/bin/sh", None),  # uv's trampoline for long paths and relocatable venvs
        ("#!/usr/bin/env bash", None),
        ("MZ\x90\x00", None),  # a Windows launcher: not text
        ("# no shebang", None),
    ],
)
def test_which_first_lines_name_an_interpreter(line: str, interpreter: str | None) -> None:
    assert venvs.interpreter_of(line) == interpreter


def test_pipes_among_the_scripts_are_skipped_without_blocking(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    script(venv, "ok", "#!/usr/bin/python3")
    os.mkfifo(venv / "bin" / "pipe")
    assert [s.scripts for s in venvs.shebangs(str(venv))] == [1]


def test_a_venv_made_on_windows_has_its_scripts_in_scripts(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "Scripts").mkdir(parents=True)
    (venv / "Scripts" / "tool-script.py").write_text("#!E:/app/.venv/Scripts/python.exe\n")
    (venv / "Scripts" / "tool.exe").write_bytes(b"MZ\x90\x00" + b"\x00" * 100)
    (found,) = venvs.shebangs(str(venv))
    assert found.interpreter == "E:/app/.venv/Scripts/python.exe"


# --- folders with a pyproject.toml, said once per drive ------------------------------------

MOUNT = "/media/ana/STICK"


def _finding(
    folder: str, code: str = "UVD005", severity: Severity = Severity.ERROR, fixes: tuple[Fix, ...] = ()
) -> Finding:
    loc = Location(Role.PROJECT_ENVIRONMENT, f"{folder}/.venv", Source(SourceKind.DEFAULT), MOUNT, folder)
    return Finding(code, severity, f"title {folder}", "detail", "error: x", loc, MOUNT, fixes)


def _fix(name: str, where: str) -> Fix:
    return Fix(f"uvd005-{name}-000000", name, "", (Change(ChangeKind.MANUAL, Manual(where), summary=name),))


def _snapshot(*folders: str) -> Snapshot:
    arts = tuple(Artefact(ArtefactKind.PROJECT, f, MOUNT, non_project=True) for f in folders)
    arts += (Artefact(ArtefactKind.PROJECT, f"{MOUNT}/app", MOUNT),)
    return Snapshot(Os.LINUX, UvInfo("0.13.10", "uv"), (), (), artefacts=arts)


def test_one_folder_reads_in_the_singular_and_keeps_its_fixes() -> None:
    drive_fix = _fix("reformat", MOUNT)
    (item,) = grouped(_snapshot(f"{MOUNT}/docs"), (_finding(f"{MOUNT}/docs", fixes=(drive_fix,)),))
    assert item.title == "uv would fail in 1 folder with a pyproject.toml"
    assert item.folders == (f"{MOUNT}/docs",) and item.fixes == (drive_fix,)


def test_only_the_fixes_every_folder_shares_are_offered() -> None:
    shared = _fix("reformat", MOUNT)
    findings = tuple(_finding(f"{MOUNT}/{n}", fixes=(_fix("recreate", f"{MOUNT}/{n}"), shared)) for n in ("a", "b"))
    project = _finding(f"{MOUNT}/app")
    out = grouped(_snapshot(f"{MOUNT}/a", f"{MOUNT}/b"), (project, *findings))
    assert [f.title for f in out] == [project.title, "uv would also fail in 2 more folders with a pyproject.toml"]
    assert [f.title for f in out[1].fixes] == ["reformat"]


def test_each_code_and_severity_is_its_own_group_and_order_is_kept() -> None:
    a, b = f"{MOUNT}/a", f"{MOUNT}/b"
    findings = (
        _finding(a),
        _finding(f"{MOUNT}/app", "UVD003", Severity.WARNING),
        _finding(b),
        _finding(a, "UVD003", Severity.WARNING),
        _finding(b, "UVD019", Severity.INFO),
    )
    out = grouped(_snapshot(a, b), findings)
    assert [(f.code, f.folders) for f in out] == [
        ("UVD005", (a, b)),
        ("UVD003", ()),
        ("UVD003", (a,)),
        ("UVD019", (b,)),
    ]
    assert out[2].title == "uv would also warn in 1 more folder with a pyproject.toml"
    assert out[3].title == "uv would meet the same in 1 folder with a pyproject.toml"


def test_nothing_changes_without_folders() -> None:
    findings = (_finding(f"{MOUNT}/app"),)
    assert grouped(_snapshot(), findings) == findings
    assert grouped(replace(_snapshot(), artefacts=()), findings) == findings
