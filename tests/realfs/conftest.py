"""The fixtures every real-filesystem test may ask for: a find-links directory with tinypkg, a
fresh directory under /mnt that the scan covers automatically, a throwaway HOME."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import drives, portable_shells
from .drives import build_wheel, need_real


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A find-links directory with tinypkg 0.1.0: a console script and 300 kB of data."""
    where = tmp_path_factory.mktemp("wheels")
    build_wheel(where, entry_points={"tinypkg": "tinypkg:main"}, data_size=300_000)
    return where


@pytest.fixture
def mnt_dir() -> Iterator[Path]:
    """A fresh directory under /mnt, so drives mounted there are in the scan's automatic scope."""
    if os.geteuid() != 0:
        need_real("mounting under /mnt needs root")
    root = Path("/mnt") / f"uvdg-tests-{uuid.uuid4().hex[:10]}"
    root.mkdir(mode=0o755)
    try:
        yield root
    finally:
        still = [e.mountpoint for e in drives.mountinfo() if e.mountpoint.startswith(f"{root}/")]
        assert not still, f"mounts left behind under {root}: {still}"
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def world(tmp_path: Path, mnt_dir: Path, wheels: Path) -> tuple[Path, Path, Path]:
    """For the tests that run a person's real shells on an exFAT drive: bash, zsh and fish."""
    reason = drives.requirement("exfat")
    if reason:
        drives.need_real(reason)
    for shell in portable_shells.SHELLS:
        if shutil.which(shell) is None:
            drives.need_real(f"{shell} is not installed")
    return tmp_path, mnt_dir, wheels
