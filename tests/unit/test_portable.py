"""Portable projects: identity, placement, the planned fix, apply and undo byte for byte, the notice."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests import builders

from uv_drive_guard.app import actions
from uv_drive_guard.core import portable
from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import (
    Artefact,
    ArtefactKind,
    ChangeKind,
    Definition,
    Location,
    Os,
    PortableDrive,
    Role,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.fixing import engine, plan
from uv_drive_guard.fixing import portable as registry
from uv_drive_guard.fixing.portable import plan as portable_plan
from uv_drive_guard.fixing.portable import shell as portable_shell

NO_LINKS, MOUNT = builders.NO_LINKS, builders.STICK


def _volume(uuid: str | None = "1A2B-3C4D", fstype: str = "exfat") -> Volume:
    return builders.stick(capabilities=NO_LINKS, mount_fstype="fuseblk", uuid=uuid, fstype=fstype)


_snapshot = builders.projects_on


def test_drive_identity_is_normalised_and_refused_when_odd() -> None:
    assert portable.drive_id(_volume("1A2B-3C4D")) == "1a2b-3c4d"
    assert portable.drive_id(_volume("../../etc")) is None
    assert portable.drive_id(_volume(None)) is None


def test_paths_inside_the_drive_are_the_same_on_every_os() -> None:
    assert portable.relpath(Os.LINUX, "/media/a/STICK/work/x", "/media/a/STICK") == "work/x"
    assert portable.relpath(Os.WINDOWS, "E:\\work\\x", "E:\\") == "work/x"
    assert portable.relpath(Os.WINDOWS, "e:\\", "E:\\") == "."
    assert portable.relpath(Os.LINUX, "/elsewhere", "/media/a/STICK") is None
    assert portable.at_mount(Os.WINDOWS, "F:\\", "work/x") == "F:\\work\\x"
    assert portable.env_name("a/demo") != portable.env_name("b/demo")
    assert portable.env_name("a/demo").startswith("demo-")
    assert portable.env_name("it's $(x)").startswith("it-s-x-")


def test_the_fix_is_offered_for_the_drive_and_for_one_project(tmp_path: Path) -> None:
    found = [f for f in diagnose(_snapshot(tmp_path)) if f.code == "UVD005"]
    assert len(found) == 2
    drive_fix, one, *rest = found[0].fixes
    assert drive_fix.title == "Keep the environments of STICK's projects on this computer"
    assert drive_fix.recommended and drive_fix.id == found[1].fixes[0].id  # one id for the drive
    kinds = [ChangeKind.PORTABLE_ENVS, ChangeKind.SHELL_HOOK, ChangeKind.FAILURE_HINT]
    assert [c.kind for c in drive_fix.changes] == kinds  # the hint comes with the setup
    assert drive_fix.changes[0].name is None and one.changes[0].name == "demo"
    assert one.title.startswith("Keep this project's environment on this computer")
    assert "uv sync" in drive_fix.detail
    assert [f.id.split("-", 1)[1].rsplit("-", 1)[0] for f in rest] == ["reformat", "failure-hint"]
    on = replace(_snapshot(tmp_path), failure_hint=True)  # once on, neither offers it again
    (drive_fix, *rest) = next(f for f in diagnose(on) if f.code == "UVD005").fixes
    assert ChangeKind.FAILURE_HINT not in [c.kind for c in drive_fix.changes] and len(rest) == 2


def test_without_an_identity_the_manual_step_stays(tmp_path: Path) -> None:
    found = [f for f in diagnose(_snapshot(tmp_path, uuid=None)) if f.code == "UVD005"]
    assert "environment-off-drive" in found[0].fixes[0].id


def test_a_cache_setting_on_the_drive_moves_with_the_setup(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    bashrc = f"{snap.home}/.bashrc"
    source = Source(SourceKind.SHELL_FILE, file=bashrc, line=1, name="UV_CACHE_DIR")
    cache = Location(Role.CACHE, f"{MOUNT}/uv-cache", source, volume=MOUNT)
    definition = Definition("UV_CACHE_DIR", f"{MOUNT}/uv-cache", source, raw=f"export UV_CACHE_DIR={MOUNT}/uv-cache")
    snap = replace(snap, locations=(*snap.locations, cache), definitions=(definition,))
    fix = next(f for f in diagnose(snap) if f.code == "UVD005").fixes[0]
    kinds = [ChangeKind.PORTABLE_ENVS, ChangeKind.SHELL_HOOK, ChangeKind.FAILURE_HINT, ChangeKind.UNSET_ENV]
    assert [c.kind for c in fix.changes] == kinds


def test_covered_projects_get_their_environment_here(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    record = PortableDrive("1a2b-3c4d", "STICK", False, ("demo",), (), MOUNT, MOUNT)
    placed = portable.place(replace(snap, portable=(record,)))
    envs = {loc.project: loc for loc in placed.locations}
    demo = envs[f"{MOUNT}/demo"]
    assert demo.path == f"{tmp_path}/data/envs/1a2b-3c4d/{portable.env_name('demo')}"
    assert demo.source.kind is SourceKind.PORTABLE and demo.volume == "/"
    assert envs[f"{MOUNT}/work/other"].path.endswith("/.venv")  # not set up: still on the drive
    assert [f.location.project for f in diagnose(placed) if f.code == "UVD005" and f.location] == [
        f"{MOUNT}/work/other"
    ]
    whole = portable.place(replace(snap, portable=(replace(record, whole=True),)))
    assert not [f for f in diagnose(whole) if f.code == "UVD005"]


def test_the_notice_speaks_plainly(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    (report,) = [r for r in actions.reports(snap, diagnose(snap)) if r.mountpoint == MOUNT]
    notice = actions.notice(report)
    assert notice is not None
    first = notice.body.splitlines()[0]
    assert first == "STICK holds 2 uv projects; uv cannot make their environments on exFAT. Keep them on this computer?"
    assert notice.actions[0].label == "Keep the environments of STICK's projects on this computer"
    vol = _volume()
    assert portable.question(vol, 1, "UVD010") == (
        "STICK holds 1 uv project; its environments only work on the computer that made it. Keep it on this computer?"
    )


def test_apply_then_undo_gives_the_home_back_byte_for_byte(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    home = Path(snap.home)
    (home / ".config" / "fish").mkdir(parents=True)
    bashrc = home / ".bashrc"
    bashrc.write_bytes(
        b"# mine\r\n# >>> uv-drive-guard >>>\r\nexport UV_LINK_MODE='copy'\r\n# <<< uv-drive-guard <<<\r\n"
    )
    fish = home / ".config" / "fish" / "config.fish"
    fish.write_bytes(b"set -g x 1")
    before = {p: p.read_bytes() for p in (bashrc, fish)}
    built, journal, stores = builders.portable_fix(tmp_path, snap)
    assert "cd /media/ana/STICK/" in engine.preview(built) and "uv sync" in engine.preview(built)
    engine.apply(built, journal, stores)
    text = bashrc.read_text()
    assert "export UV_LINK_MODE='copy'" in text and "portable.sh" in text and text.count("# >>> uv-drive-guard") == 1
    ours = [line for line in bashrc.read_bytes().split(b"\n") if b"portable projects" in line]
    assert ours[0].endswith(b"\r")  # the file's own line ends
    assert "source" in fish.read_text() and not (home / ".zshrc").exists()
    data = Path(snap.data_dir)
    drives = json.loads((data / "portable.json").read_text())["drives"]
    assert drives[0]["whole"] and drives[0]["seen"] == ["demo", "work/other"]
    assert "/media/ana/STICK/demo/" in (data / "portable.sh").read_text()
    again, _, _ = builders.portable_fix(tmp_path, snap)
    with pytest.raises(engine.AlreadyApplied):
        engine.apply(again, journal, stores)
    engine.undo(journal, stores=stores)
    assert {p: p.read_bytes() for p in (bashrc, fish)} == before
    assert sorted(p.name for p in data.iterdir()) == []


def test_one_project_then_the_drive_merge_and_undo_in_turn(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    Path(snap.home).mkdir(parents=True)
    built, journal, stores = builders.portable_fix(tmp_path, snap, fix_index=1)
    engine.apply(built, journal, stores)
    data = Path(snap.data_dir)
    assert registry.load(data)[0].projects == ("demo",) and not registry.load(data)[0].whole
    built, _, _ = builders.portable_fix(tmp_path, snap, fix_index=0)
    assert not any(f.changes for f in built.files)  # the line is there already
    engine.apply(built, journal, stores)
    assert registry.load(data)[0].whole
    engine.undo(journal, stores=stores)
    assert registry.load(data)[0].projects == ("demo",) and not registry.load(data)[0].whole


def test_an_unquotable_project_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path, projects=("bad\nname",))
    Path(snap.home).mkdir(parents=True)
    finding = next(f for f in diagnose(snap) if f.code == "UVD005")
    with pytest.raises(plan.CannotPlan, match=r"cannot be written into a shell file safely.*rename the folder"):
        plan.build(finding, finding.fixes[1], plan.Machine(snap, {}, None))


def test_set_hook_round_trips(tmp_path: Path) -> None:
    line = "if [ -r '/x' ]; then . '/x'; fi  # uv-drive-guard: portable projects"
    for text in ("", "a\n", "no newline", "a\r\nb\r\n", "\ufeff# my profile\r\n", "\ufeff"):
        added = portable_plan.set_hook(text, line)
        assert portable_plan.set_hook(added, line) == added
        assert portable_plan.set_hook(added, None) == text


def test_windows_writes_the_powershell_profiles(tmp_path: Path) -> None:
    snap = replace(_snapshot(tmp_path), os=Os.WINDOWS, home=str(tmp_path / "home"))
    (tmp_path / "home" / "Documents" / "PowerShell").mkdir(parents=True)
    files = portable_plan.startup_files(plan.Machine(snap, {}, None))
    assert [Path(f).parent.name for f, _ in files] == ["WindowsPowerShell", "PowerShell"]
    assert {shell for _, shell in files} == {"powershell"}


def test_the_registry_follows_the_drive_and_what_its_walk_found(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path)
    old = PortableDrive("1a2b-3c4d", "STICK", True, (), ("demo", "moved-away"), "/media/ana/OLD", "/media/ana/OLD")
    (fresh,) = registry.current((old,), snap, 100.0)
    assert fresh.mount == MOUNT and fresh.seen == ("demo", "work/other") and fresh.last_seen == 100.0
    (kept,) = registry.current((old,), replace(snap, artefacts=()), 100.0)  # a walk that gave up
    assert kept.seen == ("demo", "moved-away")
    (away,) = registry.current((old,), replace(snap, volumes=snap.volumes[:1]), 100.0)
    assert away.mount is None and away.last_mount == "/media/ana/OLD"


def _recorded_windows_stick() -> Volume:
    from tests.unit.recorded import Recorded

    return replace(Recorded().list()["E:\\"], capabilities=NO_LINKS)


def _recorded_macos_stick() -> Volume:
    from tests.unit.recorded import plist

    from uv_drive_guard.edges.volumes import _macos

    found = _macos.volume_from_diskutil(
        "/Volumes/STICK", "/dev/disk4s1", "exfat", "rw,nosuid,local", plist("diskutil_exfat_usb.plist")
    )
    assert found is not None
    return replace(found, capabilities=NO_LINKS)


def test_recorded_windows_serial_and_macos_volume_uuid_are_identities() -> None:
    assert portable.drive_id(_recorded_windows_stick()) == "5e7a-1c3b"
    assert portable.drive_id(_recorded_macos_stick()) == "0e239bc6-f960-3107-89cf-1c97f78bb46b"


def test_windows_moved_environment_gets_the_fix_and_a_powershell_profile(tmp_path: Path) -> None:
    """On Windows an environment on the stick can be made, but breaks on the next computer (UVD010)."""
    vol = _recorded_windows_stick()
    data = "C:\\Users\\ana\\AppData\\Local\\uv-drive-guard"
    project = Artefact(ArtefactKind.PROJECT, "E:\\work\\demo", "E:\\", environment="E:\\work\\demo\\.venv")
    venv = Artefact(ArtefactKind.VENV, "E:\\work\\demo\\.venv", "E:\\", home="C:\\Python312", home_exists=False)
    snap = Snapshot(
        os=Os.WINDOWS,
        uv=UvInfo("0.13.9", "C:\\uv\\uv.exe"),
        volumes=(vol,),
        locations=(),
        artefacts=(project, venv),
        home=str(tmp_path / "home"),
        scope=("E:\\",),
        data_dir=data,
    )
    (finding,) = [f for f in diagnose(snap) if f.code == "UVD010"]
    drive_fix = finding.fixes[0]
    assert drive_fix.title == "Keep the environments of STICK's projects on this computer"
    assert "cmd.exe" in drive_fix.detail and "PowerShell" in drive_fix.detail
    assert [f.title for f in finding.fixes[-2:]] == [
        "Recreate the environment",
        "Say why in the terminal when uv fails on a drive",
    ]
    assert "PowerShell print one line" in finding.fixes[-1].detail
    record = PortableDrive("5e7a-1c3b", "STICK", True, (), ("work/demo",), "E:\\", "E:\\")
    found, _ = portable_shell.entries(Os.WINDOWS, data, (record,))
    (entry,) = found
    assert entry.root == "E:\\work\\demo"
    assert entry.environment == f"{data}\\envs\\5e7a-1c3b\\{portable.env_name('work/demo')}"
    text = portable_shell.render_powershell(f"{data}\\portable.ps1", found)
    assert "$here.StartsWith('E:\\work\\demo\\', [System.StringComparison]::OrdinalIgnoreCase)" in text
    assert portable.interpreter(Os.WINDOWS, entry.environment).endswith("\\Scripts\\python.exe")
    line = portable_shell.rc_line("powershell", f"{data}\\portable.ps1")
    assert line.startswith(f"if (Test-Path -LiteralPath '{data}\\portable.ps1') {{ . '{data}\\portable.ps1' }}")


def test_macos_exfat_stick_gets_zsh(tmp_path: Path) -> None:
    vol = _recorded_macos_stick()
    base = _snapshot(tmp_path)
    mount = vol.mountpoint
    project = Artefact(ArtefactKind.PROJECT, f"{mount}/demo", mount, environment=f"{mount}/demo/.venv")
    loc = Location(
        Role.PROJECT_ENVIRONMENT,
        f"{mount}/demo/.venv",
        Source(SourceKind.DEFAULT, file=f"{mount}/demo", name="UV_PROJECT_ENVIRONMENT"),
        volume=mount,
        project=f"{mount}/demo",
    )
    snap = replace(
        base, os=Os.MACOS, volumes=(base.volumes[0], vol), locations=(loc,), artefacts=(project,), scope=(mount,)
    )
    (finding,) = [f for f in diagnose(snap) if f.code == "UVD005"]
    assert finding.fixes[0].id.startswith("uvd005-portable-drive-")
    files = portable_plan.startup_files(plan.Machine(snap, {}, None))
    assert files == [(f"{snap.home}/.zshrc", "zsh")]  # macOS's login shell when none is found


def test_envs_lists_and_removes_only_after_asking(tmp_path: Path) -> None:
    from uv_drive_guard.fixing.portable import cmds as portable_cmds

    data = tmp_path / "data"
    record = PortableDrive("1a2b-3c4d", "STICK", True, (), ("demo", "later"), None, MOUNT, 1.0)
    registry.save(data, (record,))
    made = data / "envs" / "1a2b-3c4d" / portable.env_name("demo")
    (made / "bin").mkdir(parents=True)
    (made / "bin" / "python").write_bytes(b"x" * 2048)
    orphan = data / "envs" / "9999-0000" / "old-12345678"
    orphan.mkdir(parents=True)
    items = {i.id: i for i in portable_cmds.kept(data, now=1.0 + 200 * 86400)}
    assert items[f"1a2b-3c4d/{made.name}"].size == 2048
    assert items[f"1a2b-3c4d/{made.name}"].status == "drive not seen for 200 days"
    assert items[f"1a2b-3c4d/{portable.env_name('later')}"].status.startswith("not made yet")
    assert items["9999-0000/old-12345678"].status.startswith("not set up")
    text = "\n".join(portable_cmds.lines(list(items.values())))
    assert "STICK: demo  2.0 KiB" in text
    asked: list[str] = []
    status, _ = portable_cmds.remove("1a2b-3c4d", lambda q: asked.append(q) or False, data)
    assert status == 1 and made.exists() and str(made) in asked[0]
    status, _ = portable_cmds.remove("9999-0000/old-12345678", lambda q: True, data)
    assert status == 0 and not orphan.exists() and made.exists()
    assert portable_cmds.remove("nothing", lambda q: True, data)[0] == 2


def test_envs_names_a_mounted_drive_by_its_label_and_mount_point(tmp_path: Path) -> None:
    """After its setup was undone the registry no longer knows the drive: the drive itself, when
    it is plugged in, still says its name and where it is."""
    from uv_drive_guard.fixing.portable import cmds as portable_cmds

    data = tmp_path / "data"
    left = data / "envs" / "7b77-ed5c" / portable.env_name("demo")
    left.mkdir(parents=True)
    stick = _volume("7B77-ED5C")
    [item] = portable_cmds.kept(data, mounted={"7b77-ed5c": stick})
    assert (item.label, item.mount, item.drive) == ("STICK", "/media/ana/STICK", None)
    [line] = portable_cmds.lines([item])
    assert line.startswith(
        f"7b77-ed5c/{left.name}  STICK: project unknown  0 B  mounted at /media/ana/STICK  not set up"
    )
    assert json.loads(next(portable_cmds.lines([item], as_json=True)))[0]["mount"] == "/media/ana/STICK"
    [away] = portable_cmds.kept(data, mounted={})
    assert next(portable_cmds.lines([away])).startswith(
        f"7b77-ed5c/{left.name}  7b77-ed5c: project unknown  0 B  not mounted"
    )


def test_linux_reads_the_identity_from_by_uuid_links(tmp_path: Path) -> None:
    from uv_drive_guard.edges.volumes import _linux

    device = tmp_path / "sdb1"
    device.write_bytes(b"")
    links = tmp_path / "by-uuid"
    links.mkdir()
    (links / "6FEF-3701").symlink_to(device)
    (links / "other").symlink_to(tmp_path / "sdc1")
    assert _linux.by_uuid(str(device), links) == "6FEF-3701"
    assert _linux.by_uuid(str(tmp_path / "sdz"), links) is None
    assert _linux.by_uuid(str(device), tmp_path / "missing") is None
    resolver = _linux.Resolver(udev=lambda d: {"ID_FS_TYPE": "ext4"}, uuid_link=lambda d: "6FEF-3701")
    assert resolver.describe("/dev/sdb1", "ext4", look_closer=False)["uuid"] == "6FEF-3701"


def test_a_project_set_up_alone_that_moved_is_offered_again(tmp_path: Path) -> None:
    snap = _snapshot(tmp_path, projects=("renamed",))
    record = PortableDrive("1a2b-3c4d", "STICK", False, ("demo",), ("demo",), MOUNT, MOUNT)
    placed = portable.place(replace(snap, portable=(record,)))
    (finding,) = [f for f in diagnose(placed) if f.code == "UVD005"]
    assert finding.location is not None and finding.location.project == f"{MOUNT}/renamed"
    assert finding.fixes[1].changes[0].name == "renamed"


def test_cli_envs_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from uv_drive_guard import cli

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert cli.main(["envs"]) == 0
    assert "No environments are kept" in capsys.readouterr().out
    assert cli.main(["envs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli.main(["env", str(tmp_path)]) == 2
    assert "no pyproject.toml" in capsys.readouterr().err
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    assert cli.main(["env", str(tmp_path / "p" / "sub")]) == 1  # not on a set-up drive
    assert "is not set up" in capsys.readouterr().err
    assert cli.main(["envs", "--remove", "nothing", "--yes"]) == 2


def test_powershell_files_carry_a_byte_order_mark(tmp_path: Path) -> None:
    """Windows PowerShell 5.1 reads a .ps1 without one in the ANSI code page: C:\\Users\\José breaks."""
    data = tmp_path / "José"
    record = PortableDrive("5e7a-1c3b", "STICK", True, (), ("demo",), "E:\\", "E:\\")
    registry.regenerate(data, Os.WINDOWS, (record,))
    raw = (data / "portable.ps1").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf# uv-drive-guard portable ") and "José".encode() in raw
    snap = replace(_snapshot(tmp_path), os=Os.WINDOWS, home=str(tmp_path / "home"), data_dir=str(data))
    texts = plan._Texts()
    change = portable.hook_change(snap)
    portable_plan.add(change, change.target, plan.Machine(snap, {}, None), texts, [])
    (edit,) = [e for e in texts.edits() if e.path.endswith("Microsoft.PowerShell_profile.ps1")]
    assert edit.before is None and edit.after.startswith(b"\xef\xbb\xbf# >>> uv-drive-guard >>>")
    again = portable_plan.set_hook(edit.after.decode("utf-8"), portable_shell.rc_line("powershell", "x"))
    assert again.count("# >>> uv-drive-guard >>>") == 1
