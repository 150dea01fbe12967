"""`uv-drive-guard explain` after real uv failed on a real drive: it names what `scan` names.

uv's own output, captured as a person would pipe it, is explained: the rule, the drive and the
same fixes (by id) as `scan` offers for that place. With no output, in the folder where uv
failed, explain names the same finding as `scan` of that place. Needs root, loop devices, FUSE.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from . import drives
from .against_uv import CLI, env_for, install, make_venv, require, scan, uv, write_bashrc
from .drives import make_drive

SEED = Path(__file__).resolve().parents[1] / "data" / "uv-output" / "windows" / "seed-cache-exfat-uv-0.5.26.txt"


def explain(env: dict[str, str], cwd: Path, output: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "explain", *args],
        input=output if output is not None else "",
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fix_ids(finding: dict[str, Any]) -> list[str]:
    return [f["id"] for f in finding["fixes"]]


def test_a_cache_on_exfat_uvs_own_words_explained(mnt_dir: Path, home: Path, wheels: Path, tmp_path: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        cache = drive.mountpoint / "uv-cache"
        write_bashrc(home, "UV_CACHE_DIR", cache)
        env = env_for(home, UV_CACHE_DIR=str(cache))
        venv = tmp_path / "venv"
        failed = uv(make_venv(venv), env)
        failed = failed if failed.returncode else uv(install(venv, wheels), env)
        assert failed.returncode != 0, failed.stderr
        _, report = scan(env)
        predicted = next(f for f in report["findings"] if f["code"] == "UVD006")

        said = explain(env, tmp_path, failed.stderr, "--json")
        assert said.returncode == 1, said.stderr
        document = json.loads(said.stdout)
        (message,) = [m for m in document["messages"] if m["kind"] == "drive"]
        assert message["finding"]["code"] == "UVD006", message
        assert _fix_ids(message["finding"]) == _fix_ids(predicted)
        assert message["volume"]["fstype"] == "exfat" and message["volume"]["mountpoint"] == str(drive.mountpoint)

        text = explain(env, tmp_path, failed.stderr).stdout
        assert "That is UVD006: uv cannot keep its cache on STICK (exFAT)." in text, text
        assert f"fix {predicted['fixes'][0]['id']}" in text


def test_a_project_on_exfat_explained_with_and_without_uvs_output(mnt_dir: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", mnt_dir, label="STICK") as drive:
        project = drive.mountpoint / "demo"
        project.mkdir()
        (project / "pyproject.toml").write_text(drives.PYPROJECT)
        env = env_for(home)
        failed = uv(["sync", "--offline", "--no-index", "--find-links", str(wheels)], env, cwd=project)
        assert failed.returncode != 0 and "symlink" in failed.stderr, failed.stderr
        _, report = scan(env, project)
        predicted = next(f for f in report["findings"] if f["code"] == "UVD005")

        told = json.loads(explain(env, project, failed.stderr, "--json").stdout)
        finding = next(m["finding"] for m in told["messages"] if m["finding"])
        assert (finding["code"], _fix_ids(finding)) == ("UVD005", _fix_ids(predicted))

        here = explain(env, project, None, "--json")
        assert here.returncode == 1, here.stderr
        document = json.loads(here.stdout)
        assert document["mode"] == "here" and document["folder"] == str(project)
        codes = {(f["code"], tuple(_fix_ids(f))) for f in document["findings"]}
        assert ("UVD005", tuple(_fix_ids(predicted))) in codes
        assert str(project / ".venv") in [p["path"] for p in document["places"]]


def test_not_a_drive_problem_and_a_windows_path_read_as_text(home: Path, tmp_path: Path) -> None:
    require()
    env = env_for(home)
    made = uv(make_venv(tmp_path / "venv"), env)
    assert made.returncode == 0, made.stderr
    resolution = uv(["pip", "install", "--offline", "--python", str(tmp_path / "venv"), "no-such-package"], env)
    assert resolution.returncode != 0
    said = explain(env, tmp_path, resolution.stderr)
    assert said.returncode == 0 and "This is not a drive problem" in said.stdout, said.stdout
    seed = explain(env, tmp_path, None, str(SEED))
    assert "That is what uv prints when uv could not follow a link inside its cache" in seed.stdout, seed.stdout
    assert "UVD001" in seed.stdout and seed.returncode == 1
