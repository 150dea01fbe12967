"""Portable projects on a real exFAT drive, two computers (two homes), three mount points.

On each computer `fix --yes` takes the offered "Keep the environments of STICK's projects on
this computer"; then a REAL interactive bash, zsh and fish on a pseudo-terminal `cd` into the
project on the drive, run `uv sync` and `uv run` a console script from a local wheel
(offline): both work, and nothing appears on the drive. Mounted at a third place, it still
works once the headless daemon saw the mount. `undo` gives each home back byte for byte.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from . import drives
from .against_uv import CLI, VENV_BIN, show, under
from .drives import make_drive
from .portable_shells import (
    PROJECT,
    SHELLS,
    cli,
    drive_files,
    make_home,
    offered,
    tree,
    use_project,
)


def _setup_drive(root: Path, env: dict[str, str]) -> Path:
    """The drive's first use: two projects, each locked by real uv offline where it can."""
    with make_drive("exfat", root / "first", label="STICK", name="STICK") as drive:
        for rel in ("demo", "work/other"):
            shadow = root / "shadow" / rel
            shadow.mkdir(parents=True)
            (shadow / "pyproject.toml").write_text(PROJECT.replace('"demo"', f'"{rel.split("/")[-1]}"'))
            locked = subprocess.run(
                [str(VENV_BIN / "uv"), "lock"], cwd=shadow, env=env, capture_output=True, text=True, check=False
            )
            assert locked.returncode == 0, locked.stderr
            target = drive.mountpoint / rel
            target.mkdir(parents=True)
            for name in ("pyproject.toml", "uv.lock"):
                shutil.copyfile(shadow / name, target / name)
        assert drive.image is not None
        return drive.image


def _computer(home: Path, env: dict[str, str], mount: Path) -> tuple[dict[str, bytes | None], str]:
    """Scan, take the fix, and work in the project from bash, zsh and fish."""
    before = tree(home)
    files = drive_files(mount)
    findings, fix = offered(env, mount)
    assert len(findings) == 2, findings
    applied = cli(["fix", fix, "--yes"], env)
    assert applied.returncode == 0, show(applied)
    assert "uv sync" in applied.stdout and "uv works now" in applied.stdout, applied.stdout
    for shell in SHELLS:
        out = use_project(shell, home, env, mount / "demo")
        assert f"UPE={home}/.local/share/uv-drive-guard/envs/" in out, out
    assert drive_files(mount) == files, "something appeared on the drive"
    assert not list(mount.rglob(".venv"))
    again = cli(["scan", "--json"], env)
    assert not [f for f in under(json.loads(again.stdout), mount) if f["code"] == "UVD005"], show(again)
    return before, fix


def _wait(predicate: object, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_two_computers_three_mount_points(world: tuple[Path, Path, Path]) -> None:
    tmp, root, wheels = world
    home1, env1 = make_home(tmp / "pc1", wheels)
    home2, env2 = make_home(tmp / "pc2", wheels)
    for home in (home1, home2):  # only this test's drives: others' under /mnt slow every scan
        settings = home / ".config" / "uv-drive-guard" / "config.toml"
        settings.parent.mkdir(parents=True)
        settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    image = _setup_drive(root, env1)

    with make_drive("exfat", root / "pc1", name="STICK", image=image) as drive:
        before1, _ = _computer(home1, env1, drive.mountpoint)
        env_dirs = list((home1 / ".local/share/uv-drive-guard/envs").glob("*/demo-*"))
        assert len(env_dirs) == 1 and (env_dirs[0] / "bin" / "python").exists()
        listed = cli(["envs"], env1)
        assert "STICK: demo" in listed.stdout, listed.stdout
        printed = cli(["env", str(drive.mountpoint / "demo"), "--python"], env1)
        assert printed.stdout.strip() == str(env_dirs[0] / "bin" / "python"), show(printed)

    with make_drive("exfat", root / "pc2", name="STICK", image=image) as drive:
        before2, _ = _computer(home2, env2, drive.mountpoint)

    # Back on the first computer, at a third mount point (a hostile name), with the daemon on.
    daemon = subprocess.Popen(
        [str(CLI), "run", "--headless"], env=env1, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    log = home1 / ".local" / "state" / "uv-drive-guard" / "log" / "uv-drive-guard.log"
    try:
        _wait(lambda: log.exists() and "is running" in log.read_text())
        third = root / "it's $(touch PWNED) `x` 3rd"
        third.mkdir()
        with make_drive("exfat", third, name="STICK", image=image) as drive:
            generated = home1 / ".local/share/uv-drive-guard/portable.sh"
            _wait(lambda: str(drive.mountpoint).replace("'", "'\\''") in generated.read_text())
            for shell in SHELLS:
                use_project(shell, home1, env1, drive.mountpoint / "demo")
            assert not list(Path("/").glob("PWNED")) and not list(home1.rglob("PWNED"))
    finally:
        drives.stop_daemon(daemon)

    for home, env, before in ((home1, env1, before1), (home2, env2, before2)):
        undone = cli(["undo"], env)
        assert undone.returncode == 0, show(undone)
        assert tree(home) == before, sorted(set(tree(home)) ^ set(before))
        # The environments stay (listed, never deleted silently).
        assert list((home / ".local/share/uv-drive-guard/envs").glob("*/demo-*"))
        assert "not set up" in cli(["envs"], env).stdout

    # Plugged in again after the undo: the drive is named by its label and where it is mounted.
    with make_drive("exfat", root / "pc1", name="STICK", image=image) as drive:
        listed = cli(["envs"], env1).stdout
        assert "STICK: project unknown" in listed and f"mounted at {drive.mountpoint}" in listed, listed
