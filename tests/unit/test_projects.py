"""Projects found as uv finds them, and bad input on a drive giving a clear line, never a crash."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from uv_drive_guard.core import render, resolve
from uv_drive_guard.core.model import ArtefactKind, EnvironmentKind, Os, Snapshot, UvInfo, Volume
from uv_drive_guard.edges import mountinfo, projects, settings, walk

APP = '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = []\n'
LIB = APP + '\n[build-system]\nrequires = ["uv_build>=0.13.9,<0.14.0"]\nbuild-backend = "uv_build"\n'


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def found(root: Path, budget: walk.Budget | None = None) -> walk.WalkResult:
    return walk.walk(str(root), str(root), budget or walk.Budget())


def by_path(result: walk.WalkResult) -> dict[str, object]:
    return {a.path: a for a in result.artefacts if a.kind is ArtefactKind.PROJECT}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (APP, "project"),  # uv init --app
        (LIB, "project"),  # uv init --lib: [build-system] too
        ("[tool.uv]\ndev-dependencies = []\n", "project"),
        # no [project]: uv works in non-project mode there and makes .venv (seen, 0.13.10)
        ("[tool.black]\nline-length = 90\n", "folder"),
        ("", "folder"),
        ('[tool.poetry]\nname = "x"\nversion = "0.1.0"\n', "folder"),
        ("[dependency-groups]\ndev = []\n", "folder"),
        ('[build-system]\nrequires = ["setuptools"]\n', "folder"),
        # managed = false is read only beside [project] (ProjectWorkspace::from_project)
        ("[tool.uv]\nmanaged = false\n", "project"),
        (APP + "\n[tool.uv]\nmanaged = false\n", None),  # "The project is marked as unmanaged"
    ],
    ids=[
        "app",
        "lib",
        "tool-uv",
        "other-tool",
        "empty",
        "poetry",
        "groups",
        "build-system",
        "managed-alone",
        "unmanaged",
    ],
)
def test_what_uv_makes_an_environment_for(tmp_path: Path, text: str, found: str | None) -> None:
    write(tmp_path / "p" / "pyproject.toml", text)
    projects_ = by_path(walk.walk(str(tmp_path), str(tmp_path), walk.Budget()))
    assert (str(tmp_path / "p") in projects_) is (found is not None)
    if found is not None:
        project = projects_[str(tmp_path / "p")]
        assert project.environment == str(tmp_path / "p" / ".venv")  # type: ignore[attr-defined]
        assert project.workspace == str(tmp_path / "p")  # type: ignore[attr-defined]
        assert project.non_project is (found == "folder")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[project]\nversion = "1"\n', "without a `name`"),
        ('[tool.uv]\nmanaged = "no"\n', "managed to something other than true or false"),
    ],
    ids=["project-without-name", "managed-not-a-boolean"],
)
def test_what_uv_refuses_to_read_is_not_looked_at(tmp_path: Path, text: str, says: str) -> None:
    target = write(tmp_path / "p" / "pyproject.toml", text)
    result = found(tmp_path)
    assert not by_path(result)
    reasons = [u.reason for u in result.unseen if u.path == str(target)]
    assert len(reasons) == 1 and says in reasons[0], result.unseen


def test_a_folder_inside_a_workspace_is_its_own_root(tmp_path: Path) -> None:
    """uv stops at the first pyproject.toml: a tool-only one inside a workspace's tree is a
    non-project root of its own (VirtualProject::discover), its .venv beside it."""
    root = tmp_path / "ws"
    write(root / "pyproject.toml", APP + '\n[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write(root / "packages" / "a" / "pyproject.toml", APP.replace("demo", "a"))
    write(root / "docs" / "pyproject.toml", "[tool.ruff]\n")
    got = by_path(found(tmp_path))
    docs = got[str(root / "docs")]
    assert (docs.workspace, docs.environment, docs.non_project) == (  # type: ignore[attr-defined]
        str(root / "docs"),
        str(root / "docs" / ".venv"),
        True,
    )
    assert got[str(root / "packages" / "a")].environment == str(root / ".venv")  # type: ignore[attr-defined]


def test_a_lock_file_makes_a_bare_pyproject_a_project(tmp_path: Path) -> None:
    write(tmp_path / "p" / "pyproject.toml", "[tool.black]\n")
    write(tmp_path / "p" / "uv.lock", "version = 1\n")
    assert str(tmp_path / "p") in by_path(found(tmp_path))


def test_workspace_members_share_the_roots_environment(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(
        root / "pyproject.toml", APP + '\n[tool.uv.workspace]\nmembers = ["packages/*"]\nexclude = ["packages/old"]\n'
    )
    for name in ("a", "b", "old"):
        write(root / "packages" / name / "pyproject.toml", APP.replace("demo", name))
    write(root / "examples" / "ex" / "pyproject.toml", APP.replace("demo", "ex"))  # not a member
    got = by_path(found(tmp_path))
    env = str(root / ".venv")
    for name in ("a", "b"):
        member = got[str(root / "packages" / name)]
        assert (member.environment, member.workspace) == (env, str(root))  # type: ignore[attr-defined]
    old = got[str(root / "packages" / "old")]
    assert old.environment == str(root / "packages" / "old" / ".venv")  # type: ignore[attr-defined]
    example = got[str(root / "examples" / "ex")]
    assert example.workspace == str(root / "examples" / "ex")  # type: ignore[attr-defined]


def test_members_deeper_than_the_walk_are_found_by_their_glob(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root / "pyproject.toml", APP + '\n[tool.uv.workspace]\nmembers = ["a/b/c/d/e/*"]\n')
    write(root / "a" / "b" / "c" / "d" / "e" / "m" / "pyproject.toml", APP)
    result = walk.walk(str(tmp_path), str(tmp_path), walk.Budget(max_depth=2))
    assert by_path(result)[str(root / "a" / "b" / "c" / "d" / "e" / "m")].workspace == str(root)  # type: ignore[attr-defined]


def test_a_member_scanned_alone_still_finds_its_root_above(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')  # a virtual root
    write(root / "packages" / "a" / "pyproject.toml", APP)
    got = by_path(found(root / "packages" / "a"))
    assert got[str(root / "packages" / "a")].environment == str(root / ".venv")  # type: ignore[attr-defined]
    assert str(root) in got  # the root, which owns the environment, is a project too


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("[project\nname=", "not valid TOML"),
        (b'[project]\nname = "\xff\xfe"\n', "not UTF-8"),
        ("x" * (projects.MAX_MANIFEST + 10), "too large"),
        (None, "is a directory"),
    ],
    ids=["not-toml", "not-utf8", "huge", "directory"],
)
def test_bad_pyproject_gives_a_clear_line(tmp_path: Path, content: str | bytes | None, says: str) -> None:
    target = tmp_path / "p" / "pyproject.toml"
    if content is None:
        (target / "sub").mkdir(parents=True)
    else:
        write(target, content)
    result = found(tmp_path)
    assert not by_path(result)
    lines = [u for u in result.unseen if u.path == str(target)]
    assert len(lines) == 1 and says in lines[0].reason, result.unseen


def test_ten_thousand_members_stay_within_budget(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for i in range(10_000):
        (root / "packages" / f"m{i:05d}").mkdir(parents=True)
    budget = walk.Budget(seconds=1.0)
    start = time.monotonic()
    result = walk.walk(str(tmp_path), str(tmp_path), budget)
    took = time.monotonic() - start
    assert took < budget.seconds + walk.GRACE_S + 1.0, took
    reasons = " ".join(u.reason for u in result.unseen)
    assert "stopped after" in reasons, result.unseen
    assert len(result.unseen) <= projects.MAX_NOTES + 2  # a few lines for a person, then a count


def test_a_symlink_loop_in_members_is_named_and_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write(root / "pyproject.toml", '[tool.uv.workspace]\nmembers = ["packages/*", "packages/*/*/*"]\n')
    (root / "packages").mkdir()
    os.symlink("..", root / "packages" / "loop")
    write(root / "packages" / "real" / "pyproject.toml", APP)
    result = found(tmp_path)
    assert str(root / "packages" / "real") in by_path(result)
    loops = [u for u in result.unseen if u.path == str(root / "packages" / "loop")]
    assert len(loops) == 1 and "symbolic link" in loops[0].reason


def test_settings_come_from_the_workspace_root_upwards(tmp_path: Path) -> None:
    """uv's FilesystemOptions::find from the workspace root: a uv.toml above the drive counts."""
    write(tmp_path / "uv.toml", 'cache-dir = "/elsewhere/cache"\n')
    drive = tmp_path / "drive"
    root = drive / "ws"
    write(root / "pyproject.toml", APP + '\n[tool.uv.workspace]\nmembers = ["m"]\n')
    write(root / "m" / "pyproject.toml", APP + '\n[tool.uv]\ncache-dir = "/member/cache"\n')
    write(drive / "solo" / "pyproject.toml", APP)
    got = by_path(found(drive))
    member = got[str(root / "m")]
    # The root's [tool.uv] (it holds the workspace table) is the nearest: the member's is not read.
    assert member.config_file == str(root / "pyproject.toml")  # type: ignore[attr-defined]
    assert member.settings == ()  # type: ignore[attr-defined]
    solo = got[str(drive / "solo")]
    assert solo.config_file == str(tmp_path / "uv.toml")  # type: ignore[attr-defined]
    assert [d.value for d in solo.settings] == ["/elsewhere/cache"]  # type: ignore[attr-defined]


def test_an_unreadable_pyproject_above_is_passed_by_as_uv_does(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "not [ toml")
    write(tmp_path / "uv.toml", 'cache-dir = "/above"\n')
    write(tmp_path / "p" / "pyproject.toml", APP)
    project = by_path(found(tmp_path / "p"))[str(tmp_path / "p")]
    assert project.config_file == str(tmp_path / "uv.toml")  # type: ignore[attr-defined]


def test_a_venv_symlink_is_where_the_environment_is(tmp_path: Path) -> None:
    write(tmp_path / "p" / "pyproject.toml", APP)
    (tmp_path / "fast" / "env").mkdir(parents=True)
    os.symlink("../fast/env", tmp_path / "p" / ".venv")  # relative to the link's folder
    project = by_path(found(tmp_path / "p"))[str(tmp_path / "p")]
    assert project.environment == str(tmp_path / "fast" / "env")  # type: ignore[attr-defined]
    assert project.environment_kind is EnvironmentKind.LINK  # type: ignore[attr-defined]
    assert project.environment_link == str(tmp_path / "p" / ".venv")  # type: ignore[attr-defined]
    assert project.environment_target_exists is True  # type: ignore[attr-defined]


def test_a_venv_link_that_leads_nowhere_stays_where_uv_stops(tmp_path: Path) -> None:
    write(tmp_path / "p" / "pyproject.toml", APP)
    os.symlink("/media/nobody/FAST/envs/demo", tmp_path / "p" / ".venv")
    project = by_path(found(tmp_path))[str(tmp_path / "p")]
    assert project.environment == str(tmp_path / "p" / ".venv")  # type: ignore[attr-defined]
    assert project.environment_target == "/media/nobody/FAST/envs/demo"  # type: ignore[attr-defined]
    assert project.environment_target_exists is False  # type: ignore[attr-defined]


def test_a_chain_of_links_is_read_hop_by_hop_and_a_loop_is_given_up(tmp_path: Path) -> None:
    write(tmp_path / "p" / "pyproject.toml", APP)
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "hop2")
    os.symlink(tmp_path / "hop2", tmp_path / "p" / ".venv")
    assert by_path(found(tmp_path / "p"))[str(tmp_path / "p")].environment == str(tmp_path / "real")  # type: ignore[attr-defined]
    write(tmp_path / "q" / "pyproject.toml", APP)
    os.symlink(tmp_path / "q" / ".venv", tmp_path / "q" / ".venv2")
    os.symlink(tmp_path / "q" / ".venv2", tmp_path / "q" / ".venv")
    project = by_path(found(tmp_path / "q"))[str(tmp_path / "q")]
    assert project.environment_kind is EnvironmentKind.LINK and project.environment_target_exists is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "target", "there"),
    [("../envs/demo\n", "{p}/../envs/demo", True), ("", None, None), ("/nowhere/env", "/nowhere/env", False)],
    ids=["redirect", "empty", "nowhere"],
)
def test_a_venv_file_is_read_as_a_redirect(
    tmp_path: Path, content: str, target: str | None, there: bool | None
) -> None:
    """PEP 832, as uv 0.13.9 reads it: the first line, relative to the file's folder, as is."""
    write(tmp_path / "p" / "pyproject.toml", APP)
    write(tmp_path / "envs" / "demo" / "pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path / "p" / ".venv", content)
    project = by_path(found(tmp_path / "p"))[str(tmp_path / "p")]
    assert project.environment_kind is EnvironmentKind.FILE  # type: ignore[attr-defined]
    want = target.format(p=tmp_path / "p") if target else None
    assert (project.environment_target, project.environment_target_exists) == (want, there)  # type: ignore[attr-defined]
    assert project.environment == (want if there else str(tmp_path / "p" / ".venv"))  # type: ignore[attr-defined]


def _inputs(env: dict[str, str]) -> resolve.Inputs:
    return resolve.Inputs(os=Os.LINUX, home="/home/ana", cwd="/home/ana", env=env)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("/abs/env", "/abs/env"), ("envs/x", "/media/S/ws/envs/x"), ("~/x", "/media/S/ws/~/x"), ("", "/media/S/ws/.venv")],
)
def test_project_environment_is_resolved_against_the_workspace_root(value: str, expected: str) -> None:
    member = projects_artefact("/media/S/ws/packages/a", "/media/S/ws")
    _, env = resolve.project_locations(_inputs({"UV_PROJECT_ENVIRONMENT": value}), member)
    assert env.path == expected and env.project == "/media/S/ws/packages/a"


def projects_artefact(path: str, root: str) -> object:
    from uv_drive_guard.core.model import Artefact

    return Artefact(ArtefactKind.PROJECT, path, "/media/S", environment=f"{root}/.venv", workspace=root)


@pytest.mark.parametrize("word", ["1", "y", "YES", "t", "True", "on"])
def test_boolish_true(word: str) -> None:
    assert resolve.boolish(word) is True


@pytest.mark.parametrize("word", ["0", "n", "No", "f", "FALSE", "off"])
def test_boolish_false(word: str) -> None:
    assert resolve.boolish(word) is False


@pytest.mark.parametrize("word", ["", "maybe", "2", " 1"])
def test_boolish_unreadable(word: str) -> None:
    assert resolve.boolish(word) is None


@pytest.mark.parametrize(("value", "reads"), [("0", True), ("false", True), ("1", False), ("yes", False)])
def test_uv_no_config_is_a_boolean(tmp_path: Path, value: str, reads: bool) -> None:
    write(tmp_path / ".config" / "uv" / "uv.toml", 'cache-dir = "/x"\n')
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"), "UV_NO_CONFIG": value}
    assert bool(settings.user_and_system_config(Os.LINUX, str(tmp_path), env)) is reads


def test_no_cache_is_a_temporary_cache_in_tmpdir() -> None:
    inputs = _inputs({"UV_NO_CACHE": "1", "TMPDIR": "/media/S/tmp", "UV_CACHE_DIR": "/ignored"})
    assert resolve.cache_location(inputs).path == "/media/S/tmp"
    assert resolve.cache_location(_inputs({"UV_NO_CACHE": "0"})).path == "/home/ana/.cache/uv"


def test_a_walk_cut_short_is_said_in_text_json_and_tray(tmp_path: Path) -> None:
    from uv_drive_guard.app import actions

    for i in range(50):
        (tmp_path / f"d{i}").mkdir()
    result = walk.walk(str(tmp_path), str(tmp_path), walk.Budget(max_entries=10))
    assert result.unseen and "not looked at" in result.unseen[0].reason
    vol = Volume(str(tmp_path), "/dev/sdb1", "exfat", label="STICK")
    snapshot = Snapshot(
        os=Os.LINUX,
        uv=UvInfo(None, None),
        volumes=(vol,),
        locations=(),
        scope=(vol.mountpoint,),
        unseen=tuple(result.unseen),
    )
    text = render.to_text(snapshot, ())
    assert "not looked at" in text and "ok: no problems for uv here" not in text
    assert render.to_json(snapshot, ())["unseen"][0]["path"] == str(tmp_path)
    (report,) = actions.reports(snapshot, ())
    assert actions.unseen_lines(report) and "could not be looked at fully" in actions.summary((report,))


@pytest.mark.parametrize(
    ("fstype", "options", "os_", "symlinks"),
    [
        ("exfat", (), Os.LINUX, False),  # FUSE or kernel exFAT on Linux: no symlinks
        ("exfat", (), Os.MACOS, True),  # macOS's exFAT driver: venvs are made (#18790, PR #18835)
        ("cifs", (), Os.LINUX, False),
        ("cifs", ("rw", "mfsymlinks"), Os.LINUX, True),
        ("smbfs", (), Os.MACOS, True),
        ("vboxsf", (), Os.LINUX, False),
        ("nfs4", (), Os.LINUX, True),
        ("fuse.sshfs", (), Os.LINUX, None),  # links made, maybe not readable (#15528): probe it
        ("9p", (), Os.LINUX, None),
        ("virtiofs", (), Os.LINUX, None),
    ],
)
def test_unprobed_filesystems_by_name(fstype: str, options: tuple[str, ...], os_: Os, symlinks: bool | None) -> None:
    from uv_drive_guard.core import capability

    vol = Volume("/mnt/share", "server:/x", fstype, options=options)
    assert capability.symlinks(vol, os_) is symlinks


MOUNTINFO = """\
22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
40 22 7:0 / /media/ana/STICK rw,nosuid,nodev,noexec,relatime shared:2 - fuseblk /dev/loop0 rw,allow_other
41 22 7:0 /work /srv/my\\040work rw,relatime shared:2 - fuseblk /dev/loop0 rw,user_id=0
42 22 7:1 / /media/ana/CARD ro,relatime - ext4 /dev/loop1 ro,errors=remount-ro
"""


def test_mountinfo_gives_options_roots_and_bind_mounts() -> None:
    from uv_drive_guard.edges.volumes import _linux

    table = _linux.mount_table(mountinfo.parse(MOUNTINFO))
    assert table["/srv/my work"].root == "/work" and table["/srv/my work"].dev == "7:0"
    assert "noexec" in table["/media/ana/STICK"].options and "allow_other" in table["/media/ana/STICK"].options
    vols = [Volume(mp, "/dev/loop0", "exfat") for mp in ("/media/ana/STICK", "/srv/my work")]
    vols.append(Volume("/media/ana/CARD", "/dev/loop1", "ext4"))
    stick, bound, card = _linux._with_mountinfo(vols, table)
    assert (stick.bind_of, bound.bind_of, bound.root) == (None, "/media/ana/STICK", "/work")
    assert stick.option("noexec") and card.read_only
