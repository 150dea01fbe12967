"""Where uv makes an environment, and what an environment says about where it was made:
`scan --json` predicts, real uv (the venv's 0.13.x; 0.10.5 where a release differs) confirms, on
really mounted filesystems.

- Folders with a pyproject.toml but no [project] (empty, other tools' settings only, poetry's,
  dependency groups only, `managed = false` alone): uv works there in non-project mode and makes
  .venv; only a [project] marked `managed = false` is left alone. Said once per drive.
- A packaged project synced on a drive, plugged in elsewhere, `uv run` once: its own script is
  rewritten, its dependency's is not. Every script is read.
- `.venv` as a link (to an unplugged drive, to nothing, to a mounted drive), as a file (a PEP 832
  redirect, empty, naming nothing; refused by older uv), and UV_PROJECT_ENVIRONMENT as a link.

Needs root, loop devices and FUSE; skips without them, or fails when ``UVDG_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from .against_uv import env_for, init, loud, only, require, said, scan, show, sync, under, uv
from .drives import base_python, make_drive, need_real, packaged_project, run_uv
from .uv_versions import install_hint, uv_bin_dir

FOLDERS: dict[str, str] = {
    "empty": "",
    "tool": "[tool.black]\nline-length = 90\n",
    "poetry": '[tool.poetry]\nname = "x"\nversion = "0.1.0"\n',
    "groups": '[dependency-groups]\ndev = ["tinypkg"]\n',
    "managed-alone": "[tool.uv]\nmanaged = false\n",  # no [project]: uv does not read `managed`
}
UNMANAGED = '[project]\nname = "x"\nversion = "0.1.0"\n\n[tool.uv]\nmanaged = false\n'


def folders(root: Path) -> list[Path]:
    made = []
    for name, text in FOLDERS.items():
        (root / name).mkdir()
        (root / name / "pyproject.toml").write_text(text)
        made.append(root / name)
    (root / "unmanaged").mkdir()
    (root / "unmanaged" / "pyproject.toml").write_text(UNMANAGED)
    return made


def pip_install(venv: Path, wheels: Path) -> list[str | Path]:
    return ["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, "tinypkg"]


# --- every folder uv works in -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["exfat", "ext4"])
def test_folders_with_a_pyproject_are_said_once(kind: str, tmp_path: Path, home: Path, wheels: Path) -> None:
    require(kind)
    with make_drive(kind, tmp_path / "d", label="STICK") as drive:
        made = folders(drive.mountpoint)
        env = env_for(home)
        _, report = scan(env, drive.mountpoint)
        mine = under(report, drive.mountpoint)
        fails = kind == "exfat"
        code, severity = ("UVD005", "error") if fails else ("UVD003", "warning")
        # `[tool.uv]` alone is uv's own setting: that folder keeps a finding of its own; the
        # folders of other tools (and the empty one) are said once, each path listed.
        alone, grouped = made[-1], sorted(made[:-1])
        expected = [(code, severity, str(alone / ".venv")), (code, severity, str(grouped[0] / ".venv"))]
        assert loud(mine) == expected, json.dumps(mine, indent=1)
        item = mine[1]
        assert item["folders"] == [str(f) for f in grouped], item["folders"]
        assert "also" in item["title"] and "4 more folders with a pyproject.toml" in item["title"]
        arts = {a["path"]: a for a in report["artefacts"] if a["kind"] == "project"}
        assert [arts[str(f)]["non_project"] for f in made] == [True, True, True, True, False]
        assert str(drive.mountpoint / "unmanaged") not in arts
        for folder, finding in [(f, item) for f in grouped] + [(alone, mine[0])]:
            done = uv(sync(wheels), env, cwd=folder)
            if fails:
                here = finding["uv_message"].replace(str(grouped[0]), str(folder))
                said(finding | {"uv_message": here}, done, fails=True)
                continue
            assert done.returncode == 0 and (folder / ".venv" / "pyvenv.cfg").is_file(), show(done)
            assert "No `requires-python` value found" in done.stderr, show(done)  # non-project mode
            installed = done if folder.name == "groups" else uv(pip_install(folder / ".venv", wheels), env)
            said(finding, installed, fails=False)
        refused = uv(sync(wheels), env, cwd=drive.mountpoint / "unmanaged")
        assert refused.returncode != 0 and "marked as unmanaged" in refused.stderr, show(refused)
        ran = uv(["run", "--python", base_python(), "python", "-c", "pass"], env, cwd=drive.mountpoint / "unmanaged")
        assert ran.returncode == 0 and not (drive.mountpoint / "unmanaged" / ".venv").exists(), show(ran)


def test_a_folder_inside_a_workspace_has_its_own_environment(tmp_path: Path, home: Path, wheels: Path) -> None:
    """uv stops at the first pyproject.toml: docs/ is a non-project root of its own."""
    require("ext4")
    with make_drive("ext4", tmp_path / "d", label="WORK") as drive:
        ws = drive.mountpoint / "ws"
        (ws / "docs").mkdir(parents=True)
        (ws / "pyproject.toml").write_text(
            '[project]\nname = "ws"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = []\n'
            "[tool.uv]\npackage = false\n[tool.uv.workspace]\nmembers = []\n"
        )
        (ws / "docs" / "pyproject.toml").write_text("[tool.ruff]\nline-length = 90\n")
        env = env_for(home)
        _, report = scan(env, drive.mountpoint)
        arts = {a["path"]: a for a in report["artefacts"] if a["kind"] == "project"}
        docs = arts[str(ws / "docs")]
        assert (docs["non_project"], docs["workspace"], docs["environment"]) == (
            True,
            str(ws / "docs"),
            str(ws / "docs" / ".venv"),
        )
        done = uv(sync(wheels), env, cwd=ws / "docs")
        assert done.returncode == 0, show(done)
        assert (ws / "docs" / ".venv" / "pyvenv.cfg").is_file() and not (ws / ".venv").exists()


# --- every script of an environment ----------------------------------------------------------


def test_plugged_in_elsewhere_after_one_uv_run(mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    env = env_for(home)
    run = ["run", "--no-index", "--find-links", wheels]
    with make_drive("ext4", mnt_dir, label="STICK", name="STICK1") as first:
        made = uv(sync(wheels), env, cwd=packaged_project(first.mountpoint))
        assert made.returncode == 0, show(made)
        image = first.image
    assert image is not None
    with make_drive("ext4", mnt_dir, label="STICK", name="WORK", image=image) as again:
        project = again.mountpoint / "app"
        _, before = scan(env, again.mountpoint)
        item = only(under(before, again.mountpoint), "UVD018")
        assert "its commands point there" in item["title"], item["title"]  # all of them, before
        ran = uv([*run, "app"], env, cwd=project)  # uv reinstalls the project: its script is rewritten
        assert ran.returncode == 0 and "app runs" in ran.stdout, show(ran)
        _, after = scan(env, again.mountpoint)
        item = only(under(after, again.mountpoint), "UVD018")
        assert "1 of its 2 commands still point there" in item["title"], item["title"]
        assert str(mnt_dir / "STICK1") in item["title"]
        assert "Failed to spawn: tinypkg" in item["uv_message"], item["uv_message"]
        said(item, uv(["run", "tinypkg"], env, cwd=project), fails=True)
        fixed = uv(sync(wheels, "--reinstall"), env, cwd=project)
        assert fixed.returncode == 0, show(fixed)
        _, clean = scan(env, again.mountpoint)
        assert not [f for f in under(clean, again.mountpoint) if f["code"] in ("UVD018", "UVD010")]


# --- environments that are links or files ------------------------------------------------------


def _linked_project(where: Path, scratch: Path, target: Path | str) -> Path:
    project = init("app", where, scratch)
    os.symlink(target, project / ".venv")
    return project


def test_venv_linked_to_a_mounted_drive_is_judged_there(
    mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path
) -> None:
    require("ext4", "btrfs")
    env = env_for(home)
    with (
        make_drive("btrfs", mnt_dir, label="WORK", name="WORK") as work,
        make_drive("ext4", mnt_dir, label="FAST", name="FAST") as fast,
    ):
        target = fast.mountpoint / "envs" / "demo"
        made = uv(["venv", "--python", base_python(), target], env)
        assert made.returncode == 0, show(made)
        project = _linked_project(work.mountpoint, tmp_path, target)
        _, report = scan(env, work.mountpoint)
        arts = {a["path"]: a for a in report["artefacts"] if a["kind"] == "project"}
        assert arts[str(project)]["environment"] == str(target)
        assert arts[str(project)]["environment_link"] == str(project / ".venv")
        mine = under(report, work.mountpoint, fast.mountpoint)
        assert loud(mine) == [("UVD003", "warning", str(target))], json.dumps(mine, indent=1)
        said(mine[0], uv(sync(wheels), env, cwd=project), fails=False)
        assert (target / "lib").is_dir() and (project / ".venv").is_symlink()


def test_venv_linked_to_an_unplugged_drive(mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    env = env_for(home)
    with make_drive("ext4", mnt_dir, label="WORK", name="WORK") as work:
        with make_drive("ext4", mnt_dir, label="FAST", name="FAST") as fast:
            target = fast.mountpoint / "envs" / "demo"
            made = uv(["venv", "--python", base_python(), target], env)
            assert made.returncode == 0, show(made)
            project = _linked_project(work.mountpoint, tmp_path, target)
            assert uv(sync(wheels), env, cwd=project).returncode == 0
        # FAST is unplugged: the link leads nowhere
        _, report = scan(env, work.mountpoint)
        item = only(under(report, work.mountpoint), "UVD021")
        assert (item["severity"], item["location"]["path"]) == ("error", str(project / ".venv"))
        assert "not plugged in" in item["title"] and not [f for f in report["findings"] if f["code"] == "UVD011"]
        assert [fix["id"].split("-")[1] for fix in item["fixes"]][:2] == ["plug", "remove"]
        said(item, uv(sync(wheels), env, cwd=project), fails=True)
        said(item, uv(["run", "python", "-c", "pass"], env, cwd=project), fails=True)


def test_venv_linked_to_nothing(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    env = env_for(home)
    with make_drive("ext4", tmp_path / "d", label="WORK") as work:
        project = _linked_project(work.mountpoint, tmp_path, "../envs/gone")
        _, report = scan(env, work.mountpoint)
        item = only(under(report, work.mountpoint), "UVD021")
        assert item["location"]["path"] == str(project / ".venv") and "which is not there" in item["title"]
        said(item, uv(sync(wheels), env, cwd=project), fails=True)


def test_venv_file_is_a_redirect_since_uv_0_13_9(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    old = uv_bin_dir("0.10.5")
    env = env_for(home)
    target = home / "envs" / "demo"
    made = uv(["venv", "--python", base_python(), target], env)
    assert made.returncode == 0, show(made)
    with make_drive("exfat", tmp_path / "d", label="STICK") as stick:
        project = init("app", stick.mountpoint, tmp_path)
        (project / ".venv").write_text(f"{target}\n")
        _, report = scan(env, stick.mountpoint)
        assert loud(under(report, stick.mountpoint)) == [], json.dumps(report["findings"], indent=1)
        arts = {a["path"]: a for a in report["artefacts"] if a["kind"] == "project"}
        assert arts[str(project)]["environment"] == str(target)
        done = uv(sync(wheels), env, cwd=project)  # exFAT cannot hold the environment; it is not there
        assert done.returncode == 0 and (target / "lib").is_dir(), show(done)
        if old is None:
            need_real(install_hint("0.10.5"))  # the refusal before 0.13.9 needs that release
            return
        older = {**env, "PATH": f"{old}{os.pathsep}{env['PATH']}"}
        _, report = scan(older, stick.mountpoint)
        item = only(under(report, stick.mountpoint), "UVD021")
        assert "upgrade" in " ".join(fix["id"] for fix in item["fixes"])
        refused = run_uv([str(a) for a in sync(wheels)], older, cwd=project, uv=str(old / "uv"))
        said(item, refused, fails=True)


@pytest.mark.parametrize("content", ["", "nothing-here"], ids=["empty", "no-environment"])
def test_venv_file_that_leads_nowhere(content: str, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    env = env_for(home)
    with make_drive("ext4", tmp_path / "d", label="WORK") as work:
        project = init("app", work.mountpoint, tmp_path)
        (project / ".venv").write_text(content)
        _, report = scan(env, work.mountpoint)
        item = only(under(report, work.mountpoint), "UVD021")
        assert item["location"]["path"] == str(project / ".venv")
        predicted: dict[str, Any] = dict(item)
        if not content:  # uv names the file as the person would see it, from the project: `.venv`
            predicted["uv_message"] = item["uv_message"].replace(str(project / ".venv"), ".venv")
        said(predicted, uv(sync(wheels), env, cwd=project), fails=True)


def test_project_environment_variable_that_is_a_dangling_link(
    mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path
) -> None:
    require("ext4")
    link = home / "envs" / "demo"
    link.parent.mkdir(parents=True)
    os.symlink(mnt_dir / "FAST" / "envs" / "demo", link)  # FAST: a drive that is not plugged in
    env = env_for(home, UV_PROJECT_ENVIRONMENT=str(link))
    with make_drive("ext4", mnt_dir, label="WORK", name="WORK") as work:
        project = init("app", work.mountpoint, tmp_path)
        _, report = scan(env, work.mountpoint)
        (item,) = [f for f in report["findings"] if f["code"] == "UVD021"]
        assert item["location"]["path"] == str(link) and item["location"]["source"]["kind"] == "environment"
        assert not [f for f in report["findings"] if f["code"] == "UVD011"]
        said(item, uv(sync(wheels), env, cwd=project), fails=True)


def test_an_empty_project_environment_variable_is_the_default(tmp_path: Path, home: Path, wheels: Path) -> None:
    """`UV_PROJECT_ENVIRONMENT=` (empty) is no setting: `<root>/.venv` (environment_selection)."""
    require("exfat")
    env = env_for(home, UV_PROJECT_ENVIRONMENT="")
    with make_drive("exfat", tmp_path / "d", label="STICK") as stick:
        project = init("app", stick.mountpoint, tmp_path)
        _, report = scan(env, stick.mountpoint)
        assert loud(under(report, stick.mountpoint)) == [("UVD005", "error", str(project / ".venv"))]
        said(under(report, stick.mountpoint)[0], uv(sync(wheels), env, cwd=project), fails=True)
