"""Whether a test run wrote into the checkout: `git status` before and after, compared.

A tracked file that changed, or an untracked file that is not ignored and appeared, is named.
Files that were dirty already (a contributor's own edits) are compared by content, so a test
writing into one is caught too. Outside a git checkout, or without git, there is nothing to
compare. tests/conftest.py runs this around the whole session.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

Tree = dict[str, str]  # path inside the checkout -> its status code and what it holds


def _git(checkout: Path, *args: str) -> bytes | None:
    """git's output in the checkout, or None when there is no git or no checkout there."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run([git, "-C", str(checkout), *args], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def in_checkout(checkout: Path) -> bool:
    """`checkout` is the top of a git work tree (not, say, an unpacked sdist inside another one)."""
    top = _git(checkout, "rev-parse", "--show-toplevel")
    return top is not None and Path(os.fsdecode(top.strip())).resolve() == checkout.resolve()


def _holds(path: Path) -> str:
    """What a dirty entry holds now: a file's digest, a link's target, or what else it is."""
    try:
        if path.is_symlink():
            return "link:" + os.readlink(path)
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return "directory" if path.is_dir() else "absent"


def dirty_tree(checkout: Path) -> Tree | None:
    """Every changed tracked file and every untracked, not ignored file, with what it holds."""
    out = _git(checkout, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
    if out is None:
        return None
    tree: Tree = {}
    for entry in os.fsdecode(out).split("\0"):
        if len(entry) > 3:
            code, name = entry[:2], entry[3:]
            tree[name] = f"{code} {_holds(checkout / name)}"
    return tree


def under(folder: str | None, checkout: Path) -> Callable[[str], bool]:
    """A test for "this path lies under `folder`" (the UVDG_SCREENSHOTS opt-in), never true without one."""
    if not folder:
        return lambda name: False
    root = Path(folder).resolve()
    return lambda name: (checkout / name).resolve().is_relative_to(root)


def changes(before: Tree, after: Tree, allowed: Callable[[str], bool] = lambda name: False) -> list[str]:
    """What the run did to the checkout, one line per path."""
    lines = []
    for name in sorted(before.keys() | after.keys()):
        if before.get(name) == after.get(name) or allowed(name):
            continue
        if name not in before:
            new = after[name].startswith("??")
            lines.append(f"{name}: {'a new file appeared' if new else 'a tracked file changed'} during the run")
        elif name not in after:
            lines.append(f"{name}: was dirty before the run and was put back or removed during it")
        else:
            lines.append(f"{name}: changed during the run (it was dirty already)")
    return lines
