"""The suite's guard against tests writing into the checkout, on real git repositories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests import treeguard

HERE = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout with one tracked file, one ignored directory and a first commit."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q")
    (root / ".gitignore").write_text("ignored/\n")
    (root / "tracked.txt").write_text("one\n")
    (root / "docs").mkdir()
    (root / "docs" / "picture.png").write_bytes(b"old")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "first")
    return root


def test_a_clean_run_changes_nothing(repo: Path) -> None:
    assert treeguard.in_checkout(repo)
    before = treeguard.dirty_tree(repo)
    assert before == {}
    (repo / "ignored").mkdir()
    (repo / "ignored" / "cache.bin").write_bytes(b"x")  # ignored files are no one's business
    assert treeguard.changes(before, treeguard.dirty_tree(repo) or {}) == []


def test_tracked_and_new_files_are_named(repo: Path) -> None:
    before = treeguard.dirty_tree(repo) or {}
    (repo / "tracked.txt").write_text("two\n")
    (repo / "docs" / "new.png").write_bytes(b"new")
    found = treeguard.changes(before, treeguard.dirty_tree(repo) or {})
    assert found == [
        "docs/new.png: a new file appeared during the run",
        "tracked.txt: a tracked file changed during the run",
    ]


def test_a_file_dirty_before_is_compared_by_content(repo: Path) -> None:
    (repo / "tracked.txt").write_text("my own edit\n")  # the contributor's, before the run
    (repo / "notes.txt").write_text("mine\n")
    before = treeguard.dirty_tree(repo) or {}
    assert treeguard.changes(before, treeguard.dirty_tree(repo) or {}) == []
    (repo / "tracked.txt").write_text("a test wrote here\n")
    (repo / "notes.txt").unlink()
    assert treeguard.changes(before, treeguard.dirty_tree(repo) or {}) == [
        "notes.txt: was dirty before the run and was put back or removed during it",
        "tracked.txt: changed during the run (it was dirty already)",
    ]


def test_the_screenshots_opt_in_is_the_one_allowed_write(repo: Path) -> None:
    before = treeguard.dirty_tree(repo) or {}
    (repo / "docs" / "picture.png").write_bytes(b"refreshed")
    after = treeguard.dirty_tree(repo) or {}
    assert treeguard.changes(before, after, treeguard.under(str(repo / "docs"), repo)) == []
    assert treeguard.changes(before, after, treeguard.under(str(repo / "other"), repo)) != []
    assert treeguard.changes(before, after, treeguard.under(None, repo)) != []


def test_no_checkout_no_guard(tmp_path: Path) -> None:
    plain = tmp_path / "unpacked"
    plain.mkdir()
    assert not treeguard.in_checkout(plain)
    assert treeguard.dirty_tree(plain) is None


def _inner_suite(repo: Path, test_body: str) -> subprocess.CompletedProcess[str]:
    """The real conftest around a tiny suite in `repo`, run by pytest in a child process."""
    (repo / "tests").mkdir()
    for name in ("conftest.py", "treeguard.py"):
        shutil.copyfile(HERE / name, repo / "tests" / name)
    (repo / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    (repo / "tests" / "test_inner.py").write_text(test_body)
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "suite")
    env = {k: v for k, v in os.environ.items() if k not in ("UVDG_SCREENSHOTS", "PYTHONPATH")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_a_suite_that_writes_into_its_checkout_fails(repo: Path) -> None:
    body = (
        "from pathlib import Path\n\n"
        "def test_writes():\n"
        "    (Path(__file__).parents[1] / 'docs' / 'shot.png').write_bytes(b'x')\n"
    )
    done = _inner_suite(repo, body)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "tests wrote into the checkout" in done.stdout
    assert "docs/shot.png: a new file appeared during the run" in done.stdout


def test_a_suite_that_writes_under_tmp_passes(repo: Path) -> None:
    body = "def test_writes(tmp_path):\n    (tmp_path / 'shot.png').write_bytes(b'x')\n"
    done = _inner_suite(repo, body)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tests wrote into the checkout" not in done.stdout
