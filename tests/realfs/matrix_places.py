"""The prediction matrix's cells about where uv makes an environment and what an environment
says about where it was made (tests/realfs/test_matrix.py runs them like its other cells).

Each scenario prepares the drive (and, for the linked environments, a second ext4 drive under
the matrix's mount root, plugged in or not), names the paths the prediction is about, and the
job real uv does afterwards. On exFAT, which holds no symbolic links, the linked environment is
a `.venv` redirect file (uv 0.13.9 and later read it; older releases refuse it).
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import drives
from .drives import base_python, make_drive, packaged_project

SCENARIOS: dict[str, str] = {
    "folder-empty": "an empty pyproject.toml; `uv sync` there (non-project mode), then `uv pip install` into its .venv",
    "folder-tool": "a pyproject.toml with [tool.black] only; the same",
    "folder-poetry": "a pyproject.toml with [tool.poetry] only; the same",
    "folder-groups": "a pyproject.toml with [dependency-groups] only (dev: tinypkg); `uv sync`",
    "folder-managed": "[tool.uv] managed = false without [project] (uv does not read it); as folder-empty",
    "unmanaged": "[project] and [tool.uv] managed = false: `uv run python` runs outside any project, makes nothing",
    "moved-after-run": "a packaged project synced, mounted elsewhere, `uv run <project>` once; `uv run tinypkg`",
    "venv-mounted": "`.venv` a link (exFAT: a redirect file) to an environment on a mounted ext4 drive; `uv sync`",
    "venv-unplugged": "`.venv` a link (exFAT: a redirect file) to an environment on an unplugged drive; `uv sync`",
    "venv-gone": "`.venv` a link (exFAT: a redirect file) to a folder that does not exist; `uv sync`",
}
KINDS = frozenset({"exfat", "ext4"})
FOLDERS = {
    "folder-empty": "",
    "folder-tool": "[tool.black]\nline-length = 90\n",
    "folder-poetry": '[tool.poetry]\nname = "x"\nversion = "0.1.0"\n',
    "folder-groups": '[dependency-groups]\ndev = ["tinypkg"]\n',
    "folder-managed": "[tool.uv]\nmanaged = false\n",
}
UNMANAGED = '[project]\nname = "x"\nversion = "0.1.0"\n\n[tool.uv]\nmanaged = false\n'

Run = Callable[[list[str | Path], dict[str, str], Path | None], Any]


@dataclass
class Plan:
    """What a cell scans, what the prediction is about, and what uv does then."""

    cwd: Path
    drive_root: Path
    paths: set[str] = field(default_factory=set)
    job: list[list[str | Path]] = field(default_factory=list)  # uv commands, run in `cwd`
    skip: str = ""  # uv could not set the cell up: why (its stderr)


def _sync(wheels: Path, *extra: str) -> list[str | Path]:
    return ["sync", "--no-index", "--find-links", wheels, "--python", base_python(), *extra]


def _pip(venv: Path, wheels: Path) -> list[str | Path]:
    return ["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, "tinypkg"]


@contextlib.contextmanager
def prepared(
    scenario: str,
    drive: drives.Drive,
    mnt_root: Path,
    wheels: Path,
    run: Run,
    env: dict[str, str],
    init: Callable[[], Path],
) -> Iterator[Plan]:
    """Set the cell up; undo what it did to the drives after (the drive back where it was)."""
    mp = drive.mountpoint
    if scenario in FOLDERS:
        folder = mp / "work"
        folder.mkdir()
        (folder / "pyproject.toml").write_text(FOLDERS[scenario])
        job = [_sync(wheels)] + ([] if scenario == "folder-groups" else [_pip(folder / ".venv", wheels)])
        yield Plan(folder, mp, {str(folder), str(folder / ".venv")}, job)
    elif scenario == "unmanaged":
        folder = mp / "work"
        folder.mkdir()
        (folder / "pyproject.toml").write_text(UNMANAGED)
        yield Plan(
            folder,
            mp,
            {str(folder), str(folder / ".venv")},
            [["run", "--python", base_python(), "python", "-c", "pass"]],
        )
    elif scenario == "moved-after-run":
        with _moved_after_run(drive, wheels, run, env) as plan:
            yield plan
    else:
        with _linked(scenario, drive, mnt_root, wheels, run, env, init()) as plan:
            yield plan


@contextlib.contextmanager
def _moved_after_run(drive: drives.Drive, wheels: Path, run: Run, env: dict[str, str]) -> Iterator[Plan]:
    project = packaged_project(drive.mountpoint)
    made = run(_sync(wheels), env, project)
    if made.returncode != 0:
        yield Plan(project, drive.mountpoint, {str(project), str(project / ".venv")}, skip=made.stderr)
        return
    moved = drive.mountpoint.with_name(f"{drive.mountpoint.name}-moved")
    moved.mkdir()
    # unplugged and plugged in elsewhere: the same device at another mount point. A scan run by
    # anything else on this machine may hold a drive under /mnt for a moment: unmounting retries.
    drives._unmount(drive.mountpoint)
    try:
        _mount(["mount", "-t", drive.kind, drive.device, str(moved)])
        here = moved / project.name
        ran = run(["run", "--no-index", "--find-links", wheels, project.name], env, here)
        assert ran.returncode == 0, f"uv run {project.name} after the move:\n{ran.stderr}"
        yield Plan(here, moved, {str(here), str(here / ".venv")}, [["run", "tinypkg"]])
    finally:
        drives._unmount(moved)
        moved.rmdir()
        _mount(["mount", "-t", drive.kind, drive.device, str(drive.mountpoint)])


def _mount(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"


@contextlib.contextmanager
def _linked(
    scenario: str, drive: drives.Drive, mnt_root: Path, wheels: Path, run: Run, env: dict[str, str], project: Path
) -> Iterator[Plan]:
    """`.venv` leading to another drive's environment, or nowhere: a link, or on exFAT a file."""
    venv = project / ".venv"
    paths = {str(project), str(venv)}
    name = f"FAST-{uuid.uuid4().hex[:6]}"
    with contextlib.ExitStack() as stack:
        if scenario == "venv-gone":
            target = Path(tempfile.gettempdir()) / f"gone-{name}" / "env"  # outside any mount root
        else:
            fast = stack.enter_context(make_drive("ext4", mnt_root, label="FAST", name=name))
            target = fast.mountpoint / "envs" / "demo"
            made = run(["venv", "--python", base_python(), target], env, None)
            assert made.returncode == 0, f"uv venv on the target drive:\n{made.stderr}"
            if scenario == "venv-unplugged":
                stack.close()  # unplugged: its mount point is gone with it
        if drive.kind in drives.FUSE_KINDS:
            venv.write_text(f"{target}\n")  # exFAT holds no links: a PEP 832 redirect file
        else:
            venv.symlink_to(target)
        yield Plan(project, drive.mountpoint, paths | {str(target)}, [_sync(wheels, "--no-install-project")])
