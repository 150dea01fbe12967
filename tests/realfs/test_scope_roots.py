"""The user's `scope.mount_roots` on a real drive: an ext4 disk (a loop device: not removable,
not FUSE) mounted below a directory of the user's choosing is found, named and judged as a
drive there, by the listing, a scan and `env`; with the default roots it is not a drive."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from uv_drive_guard import cli, config, scan
from uv_drive_guard.core import portable as core
from uv_drive_guard.core import scope
from uv_drive_guard.core.model import Os, PortableDrive
from uv_drive_guard.edges.volumes import _linux, list_volumes
from uv_drive_guard.fixing import portable

from . import drives


def _settings(path: Path, root: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root) + '/')}]\n")  # a trailing slash too
    return path


def test_a_disk_below_the_users_mount_root_is_a_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = drives.requirement("ext4")
    if reason:
        drives.need_real(reason)
    root = tmp_path / "usb"
    home = tmp_path / "home"
    env = drives.uv_env(home)
    settings = _settings(home / ".config" / "uv-drive-guard" / "config.toml", root)
    options = replace(scan.Options.from_config(config.load(settings)), confirm_with_uv=False)
    assert options.mount_roots == (str(root) + "/",)
    with drives.make_drive("ext4", root, label="SCOPED") as drive:
        mount = str(drive.mountpoint)
        (drive.mountpoint / "demo").mkdir()
        (drive.mountpoint / "demo" / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "0"\n')

        theirs = next(v for v in list_volumes(options.mount_roots) if v.mountpoint == mount)
        assert (theirs.fstype, theirs.label, theirs.system, theirs.removable) == ("ext4", "SCOPED", False, False)
        assert theirs.uuid and core.drive_id(theirs)  # its identity, read by blkid if udev has none
        assert scope.external(Os.LINUX, theirs, mount_roots=options.mount_roots)

        default = next(v for v in list_volumes() if v.mountpoint == mount)
        assert not scope.external(Os.LINUX, default)
        assert mount not in scope.in_scope(Os.LINUX, list_volumes(), ())  # not found with the defaults
        if not _linux.udev_properties(drive.device):  # what the hard-coded roots cost: no closer look
            assert default.label is None and default.uuid is None

        snapshot, _ = scan.run(env, options)
        assert mount in snapshot.scope and snapshot.mount_roots == options.mount_roots
        found = snapshot.volume(mount)
        assert found is not None and found.label == "SCOPED" and found.capabilities.probed
        assert any(a.path == f"{mount}/demo" for a in snapshot.artefacts)

        # `env` finds the drive by the identity only the closer look gave (XDG dirs: platformdirs).
        data = home / ".local" / "share" / "uv-drive-guard"
        did = core.drive_id(theirs)
        assert did is not None
        portable.save(data, [PortableDrive(did, "SCOPED", whole=True, seen=("demo",), mount=mount)])
        for key in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "HOME"):
            monkeypatch.setenv(key, env[key])
        assert cli.main(["env", f"{mount}/demo/src", "--python"]) == 0, capsys.readouterr().err
        expected = core.interpreter(Os.LINUX, core.env_dir(Os.LINUX, str(data), did, "demo"))
        assert capsys.readouterr().out.strip() == expected
        settings.unlink()  # the defaults again: the drive is no place the user named
        if not _linux.udev_properties(drive.device):
            assert cli.main(["env", f"{mount}/demo", "--python"]) == 1
            assert "is not set up" in capsys.readouterr().err
