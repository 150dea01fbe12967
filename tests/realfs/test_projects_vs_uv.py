"""Projects made by real `uv init`, drives in unusual states: `scan --json` predicts, uv 0.13.9
confirms (it fails with the predicted lines, warns, or works), on really mounted filesystems.

Projects are made locally by the venv's `uv init` and copied onto the drive (fusefat refuses
the chmod a copy would do); `uv sync` then runs offline against a local find-links directory.
Needs root, loop devices and FUSE; skips without them, or fails when ``UVDG_REQUIRE_REAL=1``.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from . import drives
from .against_uv import copy_tree, env_for, init, loud, only, require, said, scan, show, sync, under, uv
from .drives import base_python, make_drive

EXFAT_CAPS = "exfat"


def workspace(where: Path, scratch: Path) -> tuple[Path, Path]:
    local = scratch / "init-ws"
    local.mkdir()
    env = env_for(scratch / "ih")
    for args, cwd in ((["ws"], local), (["packages/lib"], local / "ws")):
        made = uv(["init", "--lib", "--vcs", "none", "--python", base_python(), *args], env, cwd=cwd)
        assert made.returncode == 0, show(made)
    copy_tree(local / "ws", where / "ws")
    return where / "ws", where / "ws" / "packages" / "lib"


def mount(*args: str) -> None:
    proc = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@contextmanager
def bound(source: Path, target: Path) -> Iterator[Path]:
    target.mkdir(parents=True)
    mount("--bind", str(source), str(target))
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False)


# --- never synced, on each filesystem -------------------------------------------------------


@pytest.mark.parametrize("kind", ["exfat", "vfat", "ntfs", "btrfs"])
@pytest.mark.parametrize("flavour", ["app", "lib"])
def test_never_synced_project(kind: str, flavour: str, tmp_path: Path, home: Path, wheels: Path) -> None:
    require(kind)
    with make_drive(kind, tmp_path / "d", label="STICK") as drive:
        project = init(flavour, drive.mountpoint, tmp_path)
        env = env_for(home)
        rc, report = scan(env, drive.mountpoint)
        mine = under(report, drive.mountpoint)
        venv = project / ".venv"
        fails = kind in ("exfat", "vfat")
        code = "UVD005" if fails else "UVD003"
        assert loud(mine) == [(code, "error" if fails else "warning", str(venv))], json.dumps(mine, indent=1)
        item = mine[0]
        assert (item["location"]["role"], item["location"]["project"]) == ("project-environment", str(project))
        assert rc == (1 if fails else 0)
        said(item, uv(sync(wheels), env, cwd=project), fails=fails)


def test_workspace_member_shares_the_roots_environment(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", tmp_path / "d", label="STICK") as drive:
        root, member = workspace(drive.mountpoint, tmp_path)
        env = env_for(home)
        _, report = scan(env, drive.mountpoint)
        mine = under(report, drive.mountpoint)
        assert loud(mine) == [("UVD005", "error", str(root / ".venv"))], json.dumps(mine, indent=1)
        assert mine[0]["location"]["project"] == str(root)
        arts = {a["path"]: a for a in report["artefacts"] if a["kind"] == "project"}
        assert arts[str(member)]["environment"] == str(root / ".venv") == arts[str(root)]["environment"]
        said(mine[0], uv(sync(wheels), env, cwd=member), fails=True)


def test_relative_project_environment_is_taken_from_the_workspace_root(
    tmp_path: Path, home: Path, wheels: Path
) -> None:
    require("btrfs")
    with make_drive("btrfs", tmp_path / "d", label="WORK") as drive:
        root, member = workspace(drive.mountpoint, tmp_path)
        env = env_for(home, UV_PROJECT_ENVIRONMENT="envs/shared")
        _, report = scan(env, drive.mountpoint)
        envs = {loc["path"] for loc in report["locations"] if loc["role"] == "project-environment"}
        assert envs == {str(root / "envs" / "shared")}, report["locations"]
        arts = {a["path"]: a["environment"] for a in report["artefacts"] if a["kind"] == "project"}
        assert arts == {str(root): str(root / "envs" / "shared"), str(member): str(root / "envs" / "shared")}
        proc = uv(sync(wheels), env, cwd=member)
        assert proc.returncode == 0, show(proc)
        assert (root / "envs" / "shared" / "pyvenv.cfg").is_file()
        assert not (member / "envs").exists()


def test_project_environment_off_an_exfat_drive_is_clean(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", tmp_path / "d", label="STICK") as drive:
        project = init("app", drive.mountpoint, tmp_path)
        env = env_for(home, UV_PROJECT_ENVIRONMENT=str(home / "envs" / "demo"))
        _, report = scan(env, drive.mountpoint)
        assert loud(under(report, drive.mountpoint)) == []
        proc = uv(sync(wheels), env, cwd=project)
        assert proc.returncode == 0 and "Failed to hardlink" not in proc.stderr, show(proc)


# --- drive states ---------------------------------------------------------------------------


def test_read_only_drive(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    with make_drive("ext4", tmp_path / "d", label="LOCKED") as drive:
        project = init("app", drive.mountpoint, tmp_path)
        mount("-o", "remount,ro", str(drive.mountpoint))
        env = env_for(home)
        _, report = scan(env, drive.mountpoint)
        mine = under(report, drive.mountpoint)
        assert loud(mine) == [("UVD015", "error", str(project / ".venv"))], json.dumps(mine, indent=1)
        said(mine[0], uv(sync(wheels), env, cwd=project), fails=True)
        # A cache there: never a copy warning, an error with uv's words.
        cache = drive.mountpoint / "uv-cache"
        env = env_for(home, UV_CACHE_DIR=str(cache))
        _, report = scan(env, drive.mountpoint)
        (item,) = [f for f in under(report, drive.mountpoint) if f["location"]["path"] == str(cache)]
        assert (item["code"], item["severity"]) == ("UVD015", "error")
        assert not [f for f in under(report, drive.mountpoint) if f["code"] == "UVD003"]
        said(item, uv(["venv", "--python", base_python(), home / "v"], env), fails=True)


@pytest.mark.parametrize("option", ["noexec", "nosymfollow"])
def test_scripts_cannot_start(option: str, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    with make_drive("ext4", tmp_path / "d", label="NOEXEC") as drive:
        project = init("app", drive.mountpoint, tmp_path)
        env = env_for(home)
        made = uv(sync(wheels), env, cwd=project)
        assert made.returncode == 0, show(made)
        _, before = scan(env, drive.mountpoint)
        caps = next(v for v in before["volumes"] if v["mountpoint"] == str(drive.mountpoint))["capabilities"]
        assert (caps["exec_file"], caps["symlink_follow"]) == (True, True) and caps["free"] > 0, caps
        mount("-o", f"remount,{option}", str(drive.mountpoint))
        _, report = scan(env, drive.mountpoint)
        item = only(under(report, drive.mountpoint), "UVD016")
        assert (item["severity"], item["location"]["path"]) == ("error", str(project / ".venv"))
        assert option in item["title"]
        assert any("remount" in fix["id"] for fix in item["fixes"])
        vol = next(v for v in report["volumes"] if v["mountpoint"] == str(drive.mountpoint))
        assert option in vol["options"]
        # The probe asks too (it would tell without the option): nothing there is executed.
        op = "exec_file" if option == "noexec" else "symlink_follow"
        assert vol["capabilities"][op] is False, vol["capabilities"]
        assert not [p for p in drive.mountpoint.iterdir() if p.name.startswith(".uv-drive-guard-probe")]
        script = re.search(r"Failed to spawn: (\S+)", item["uv_message"])
        said(item, uv(["run", "--no-sync", script.group(1) if script else "tinypkg"], env, cwd=project), fails=True)


@pytest.mark.parametrize("option", ["sync", "dirsync"])
def test_a_drive_written_synchronously(option: str, tmp_path: Path, home: Path, wheels: Path) -> None:
    """UVD030 is a warning, not an error: real uv syncs there. Its fix, run as written (`sync`),
    or the drive mounted anew (`dirsync`, which a remount keeps), ends it."""
    require("ext4")
    with make_drive("ext4", tmp_path / "d", label="SYNC") as drive:
        project = init("app", drive.mountpoint, tmp_path)
        cache = drive.mountpoint / "uv-cache"
        env = env_for(home, UV_CACHE_DIR=str(cache))
        if option == "sync":
            mount("-o", "remount,sync", str(drive.mountpoint))
        else:  # a remount neither sets nor clears dirsync: the drive is mounted anew with it
            subprocess.run(["umount", str(drive.mountpoint)], check=True)
            mount("-o", "dirsync", drive.device, str(drive.mountpoint))
        _, report = scan(env, drive.mountpoint)
        vol = next(v for v in report["volumes"] if v["mountpoint"] == str(drive.mountpoint))
        assert option in vol["options"], vol["options"]
        mine = under(report, drive.mountpoint)
        assert sorted(loud(mine)) == [
            ("UVD030", "warning", str(project / ".venv")),
            ("UVD030", "warning", str(cache)),
        ], json.dumps(mine, indent=1)
        proc = uv(sync(wheels), env, cwd=project)
        assert proc.returncode == 0, show(proc)  # uv works there: a warning, as said
        item = next(f for f in mine if f["location"]["path"] == str(cache))
        assert option in item["title"] and item["fixes"][0]["id"].startswith("uvd030-remount-")
        if option == "sync":
            (step,) = item["fixes"][0]["changes"]
            assert step["summary"] == f"sudo mount -o remount,async {drive.mountpoint}"
            mount(*step["summary"].split()[2:])  # as root here: the fix's command without sudo
        else:
            subprocess.run(["umount", str(drive.mountpoint)], check=True)
            mount(drive.device, str(drive.mountpoint))
        _, after = scan(env, drive.mountpoint)
        assert loud(under(after, drive.mountpoint)) == []
        proc = uv(sync(wheels, "--reinstall"), env, cwd=project)
        assert proc.returncode == 0, show(proc)


def test_full_drive(tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    with make_drive("ext4", tmp_path / "d", size_mb=24, label="FULL") as drive:
        subprocess.run(["tune2fs", "-m", "0", drive.device], capture_output=True, check=True)
        project = init("app", drive.mountpoint, tmp_path)
        env = env_for(home)
        locked = uv(["lock", "--no-index", "--find-links", wheels, "--python", base_python()], env, cwd=project)
        assert locked.returncode == 0, show(locked)
        subprocess.run(
            ["dd", "if=/dev/zero", f"of={drive.mountpoint / 'filler'}", "bs=64k"], capture_output=True, check=False
        )
        _, report = scan(env, drive.mountpoint)
        item = only(under(report, drive.mountpoint), "UVD017")
        assert (item["severity"], item["location"]["path"]) == ("error", str(project / ".venv"))
        said(item, uv(sync(wheels), env, cwd=project), fails=True)


def test_drive_plugged_in_at_another_mount_point(mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("ext4")
    env = env_for(home)
    with make_drive("ext4", mnt_dir, label="STICK", name="STICK1") as first:
        init("app", first.mountpoint, tmp_path)
        made = uv(sync(wheels), env, cwd=first.mountpoint / "demo")
        assert made.returncode == 0, show(made)
        image = first.image
    assert image is not None
    with make_drive("ext4", mnt_dir, label="STICK", name="WORK", image=image) as again:
        project = again.mountpoint / "demo"
        _, report = scan(env, again.mountpoint)
        item = only(under(report, again.mountpoint), "UVD018")
        assert item["location"]["path"] == str(project / ".venv")
        assert str(mnt_dir / "STICK1") in item["title"] and str(again.mountpoint) in item["detail"]
        said(item, uv(["run", "tinypkg"], env, cwd=project), fails=True)
        # The planned fix, run by a person: the scripts are rewritten and uv works.
        # (and the hint after uv fails, which fixes nothing itself)
        assert [fix["id"].split("-", 1)[1].rsplit("-", 1)[0] for fix in item["fixes"]] == ["reinstall", "failure-hint"]
        fixed = uv(sync(wheels, "--reinstall"), env, cwd=project)
        assert fixed.returncode == 0, show(fixed)
        assert uv(["run", "tinypkg"], env, cwd=project).returncode == 0
        _, after = scan(env, again.mountpoint)
        assert not [f for f in under(after, again.mountpoint) if f["code"] in ("UVD018", "UVD010")]


def test_bind_mount_is_judged_by_the_drive_underneath(mnt_dir: Path, tmp_path: Path, home: Path, wheels: Path) -> None:
    require("exfat")
    with make_drive("exfat", tmp_path / "d", label="STICK") as drive:
        (drive.mountpoint / "work").mkdir()
        init("app", drive.mountpoint / "work", tmp_path)
        with bound(drive.mountpoint / "work", mnt_dir / "bound") as shown:
            env = env_for(home)
            _, report = scan(env, shown)
            vol = next(v for v in report["volumes"] if v["mountpoint"] == str(shown))
            assert vol["fstype"] == "exfat"
            mine = under(report, shown)
            venv = shown / "demo" / ".venv"
            assert loud(mine) == [("UVD005", "error", str(venv))], json.dumps(mine, indent=1)
            info = only(mine, "UVD019")
            assert str(drive.mountpoint) in info["title"] and "/work" in info["title"]
            said(mine[0], uv(sync(wheels), env, cwd=shown / "demo"), fails=True)


# --- settings discovery, each rule checked against `uv cache dir` ------------------------------

APP = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = []\n'


def _tree(base: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = base / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("BASE", str(base)))


DISCOVERY: dict[str, tuple[dict[str, str], str, dict[str, str]]] = {
    # name: (files, the project dir, environment)
    "uv.toml-above": ({"uv.toml": 'cache-dir = "BASE/c-above"\n', "a/demo/pyproject.toml": APP}, "a/demo", {}),
    "uv.toml-beats-tool-uv": (
        {
            "demo/uv.toml": 'cache-dir = "BASE/c-uvtoml"\n',
            "demo/pyproject.toml": APP + '[tool.uv]\ncache-dir = "BASE/c-tool"\n',
        },
        "demo",
        {},
    ),
    "tool-uv": ({"demo/pyproject.toml": APP + '[tool.uv]\ncache-dir = "BASE/c-tool"\n'}, "demo", {}),
    "nearest-wins": (
        {
            "uv.toml": 'cache-dir = "BASE/c-far"\n',
            "demo/pyproject.toml": APP + '[tool.uv]\ncache-dir = "BASE/c-near"\n',
        },
        "demo",
        {},
    ),
    "config-file-replaces": (
        {
            "demo/uv.toml": 'cache-dir = "BASE/c-project"\n',
            "other.toml": 'cache-dir = "BASE/c-file"\n',
            "demo/pyproject.toml": APP,
        },
        "demo",
        {"UV_CONFIG_FILE": "BASE/other.toml"},
    ),
    "no-config-1": (
        {"demo/uv.toml": 'cache-dir = "BASE/c-project"\n', "demo/pyproject.toml": APP},
        "demo",
        {"UV_NO_CONFIG": "1"},
    ),
    "no-config-0": (
        {"demo/uv.toml": 'cache-dir = "BASE/c-project"\n', "demo/pyproject.toml": APP},
        "demo",
        {"UV_NO_CONFIG": "0"},
    ),
    "no-config-false": (
        {"demo/uv.toml": 'cache-dir = "BASE/c-project"\n', "demo/pyproject.toml": APP},
        "demo",
        {"UV_NO_CONFIG": "false"},
    ),
    "member-reads-root": (
        {
            "ws/pyproject.toml": APP + '[tool.uv]\ncache-dir = "BASE/c-root"\n[tool.uv.workspace]\nmembers = ["m"]\n',
            "ws/m/pyproject.toml": APP.replace("demo", "m") + '[tool.uv]\ncache-dir = "BASE/c-member"\n',
        },
        "ws/m",
        {},
    ),
    "bad-toml-above-passed": (
        {"uv.toml": 'cache-dir = "BASE/c-above"\n', "a/pyproject.toml": "not [ toml", "a/b/demo/pyproject.toml": APP},
        "a/b/demo",
        {},
    ),
    "project-beats-user": (
        {
            "home/.config/uv/uv.toml": 'cache-dir = "BASE/c-user"\n',
            "demo/pyproject.toml": APP + '[tool.uv]\ncache-dir = "BASE/c-tool"\n',
        },
        "demo",
        {},
    ),
}


@pytest.mark.parametrize("name", list(DISCOVERY))
def test_settings_discovery_matches_uv(name: str, tmp_path: Path) -> None:
    require()
    files, project_dir, extra = DISCOVERY[name]
    base = tmp_path / "t"
    _tree(base, files)
    home = base / "home"
    env = env_for(home, **{k: v.replace("BASE", str(base)) for k, v in extra.items()})
    project = base / project_dir
    _, report = scan(env, project)
    (art,) = [a for a in report["artefacts"] if a["kind"] == "project" and a["path"] == str(project)]
    owner = art["workspace"]  # members use their workspace root's settings and environment
    ours = [loc["path"] for loc in report["locations"] if loc["role"] == "cache" and loc["project"] == owner]
    proc = uv(["cache", "dir"], env, cwd=project)
    assert proc.returncode == 0, show(proc)
    assert ours == [proc.stdout.strip()], (name, ours, proc.stdout, report["locations"])


def test_no_cache_is_a_temporary_directory_in_tmpdir(tmp_path: Path, home: Path) -> None:
    require()
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "pyproject.toml").write_text(APP)
    env = env_for(home, UV_NO_CACHE="1", TMPDIR=str(tmpdir))
    _, report = scan(env, tmp_path / "demo")
    ours = {loc["path"] for loc in report["locations"] if loc["role"] == "cache"}
    proc = uv(["cache", "dir"], env, cwd=tmp_path / "demo")
    assert ours == {str(Path(proc.stdout.strip()).parent)} == {str(tmpdir)}, (ours, proc.stdout)


@pytest.mark.parametrize("name", ["UV_NO_CONFIG", "UV_NO_CACHE", "UV_NO_SYSTEM_CONFIG"])
def test_a_switch_uv_cannot_read_stops_uv(name: str, tmp_path: Path, home: Path) -> None:
    require()
    env = env_for(home, **{name: "maybe"})
    _, report = scan(env, tmp_path)
    item = only(report["findings"], "UVD020")
    proc = uv(["cache", "dir"], env, cwd=tmp_path)
    assert proc.returncode != 0, show(proc)
    assert item["uv_message"].removeprefix("error: ") in proc.stderr, (item["uv_message"], show(proc))
    assert drives  # the harness module, for need_real


def test_uv_tool_ignores_project_settings(tmp_path: Path, home: Path, wheels: Path) -> None:
    """`uv tool` reads only user and system config (crates/uv/src/lib.rs): a project's
    cache-dir is not the cache of tools installed from inside it."""
    require()
    project = tmp_path / "demo"
    _tree(project, {"pyproject.toml": APP, "uv.toml": f'cache-dir = "{tmp_path}/c-project"\n'})
    env = env_for(home)
    _, report = scan(env, project)
    caches = {loc["project"]: loc["path"] for loc in report["locations"] if loc["role"] == "cache"}
    assert caches[str(project)] == str(tmp_path / "c-project")
    assert caches[None] == str(home / ".cache" / "uv")  # the context of uv's tool directory
    proc = uv(
        ["tool", "install", "--no-index", "--find-links", wheels, "--python", base_python(), "tinypkg"],
        env,
        cwd=project,
    )
    assert proc.returncode == 0, show(proc)
    assert not (tmp_path / "c-project").exists()
    assert (home / ".cache" / "uv" / "CACHEDIR.TAG").is_file()
    assert uv(["cache", "dir"], env, cwd=project).stdout.strip() == str(tmp_path / "c-project")
