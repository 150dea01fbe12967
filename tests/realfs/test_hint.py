"""The hint after uv fails, on a real exFAT stick, with real uv offline, in a person's shells.

A real interactive bash, zsh and fish on a pseudo-terminal (a clean `env -i` start, one command
per prompt) after `fix` turned the hint on: the line comes after a failing `uv sync` in a project
on the stick, and anywhere once uv's cache is on the stick; nothing after a uv that works, nor
outside the drive; uv's exit status is the one `command uv` gives. Unplugged (its mount point
left behind), then fixed: silent, with no startup file touched. An open shell is silent after
`undo`, and the homes come back byte for byte. A person's own `uv` function stays theirs.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

from .against_uv import show, under
from .drives import make_drive
from .portable_shells import PROJECT, SHELLS, cli, in_shell, make_home, tree

STICK_LINE = "uv-drive-guard: STICK is exFAT; uv cannot keep environments there. Run `uv-drive-guard explain`."
CACHE_LINE = (
    "uv-drive-guard: uv's cache is on STICK (exFAT); uv cannot keep its cache there. Run `uv-drive-guard explain`."
)


def _status(shell: str) -> str:
    return "$status" if shell == "fish" else "$?"


def _fixes(env: dict[str, str], mount: Path, code: str) -> dict[str, str]:
    """The fixes `scan` offers for `code` on the stick, by kind (the slug of their ids)."""
    scanned = cli(["scan", "--json"], env)
    found = [f for f in under(json.loads(scanned.stdout), mount) if f["code"] == code]
    assert found, show(scanned)
    return {x["id"].split("-", 1)[1].rsplit("-", 1)[0]: x["id"] for f in found for x in f["fixes"]}


def _statuses(out: str) -> list[str]:
    return re.findall(r"^(c?rc=\d+)", out, flags=re.M)


def _project(root: Path, env: dict[str, str], where: Path) -> None:
    """A project uv can lock offline (tinypkg from the local wheels), copied to `where`."""
    import subprocess

    shadow = root / "shadow"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "pyproject.toml").write_text(PROJECT)
    locked = subprocess.run(["uv", "lock"], cwd=shadow, env=env, capture_output=True, text=True, check=False)
    assert locked.returncode == 0, locked.stderr
    where.mkdir(parents=True)
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copyfile(shadow / name, where / name)


def _fails_then_works(
    shell: str, home: Path, env: dict[str, str], project: Path, line: str, *, everywhere: bool = False
) -> None:
    """In `project`: uv fails (the line, after uv's own error, with uv's own status); `uv
    --version` works (nothing); in the home, outside every drive, uv fails: nothing, or the line
    again when it is about uv's own directory (`everywhere`)."""
    rc = _status(shell)
    out = in_shell(
        shell,
        home,
        env,
        [
            f"cd {shlex.quote(str(project))}",
            f"command uv sync; echo crc={rc}",  # the real uv, without the wrapper: its status
            f"uv sync; echo rc={rc}",
            f"uv --version; echo rc={rc}",
            f"cd {shlex.quote(str(home))}",
            f"uv sync; echo rc={rc}",
        ],
    )
    statuses = _statuses(out)
    assert len(statuses) == 4 and statuses[0] == "c" + statuses[1] and statuses[1] != "rc=0", f"{shell}:\n{out}"
    assert statuses[2] == "rc=0" and statuses[3] not in ("rc=0", "crc=0"), f"{shell}:\n{out}"
    assert out.count(line) == (2 if everywhere else 1) and out.count("uv-drive-guard:") == out.count(line), out
    after = re.search(r"^crc=\d+", out, flags=re.M)
    assert after is not None, out
    wrapped = re.search(r"^rc=\d+", out[after.end() :], flags=re.M)  # the status of `uv sync` through the wrapper
    assert wrapped is not None, out
    said = out.index(line)
    assert out.index("error:", after.end()) < said < after.end() + wrapped.start(), f"{shell}:\n{out}"


def _silent_failure(shell: str, home: Path, env: dict[str, str], where: Path, command: str = "uv sync") -> str:
    rc = _status(shell)
    out = in_shell(shell, home, env, [f"cd {shlex.quote(str(where))}", f"{command}; echo rc={rc}"])
    assert "uv-drive-guard:" not in out and "rc=0" not in _statuses(out), f"{shell}:\n{out}"
    return out


def test_the_hint_in_bash_zsh_and_fish(world: tuple[Path, Path, Path]) -> None:
    tmp, root, wheels = world
    home, env = make_home(tmp / "pc", wheels)
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    before = tree(home)
    with make_drive("exfat", root / "first", label="STICK", name="STICK") as drive:
        _project(tmp, env, drive.mountpoint / "demo")
        image = drive.image
    assert image is not None

    with make_drive("exfat", root / "pc", name="STICK", image=image) as drive:
        mount, demo = drive.mountpoint, drive.mountpoint / "demo"
        offered = _fixes(env, mount, "UVD005")
        preview = cli(["fix", offered["failure-hint"], "--dry-run"], env)
        assert preview.returncode == 0 and f"in a folder on {mount}: {STICK_LINE}" in preview.stdout, show(preview)
        applied = cli(["fix", offered["failure-hint"], "--yes"], env)
        assert applied.returncode == 0 and "Applied." in applied.stdout, show(applied)
        assert "uv works now" not in applied.stdout  # it cures nothing, and says nothing of the kind
        for shell in SHELLS:
            _fails_then_works(shell, home, env, demo, STICK_LINE)

        # An open shell: the line, then `undo` in that same shell, then silence.
        out = in_shell(
            "bash",
            home,
            env,
            [f"cd {shlex.quote(str(demo))}", "uv sync", "uv-drive-guard undo", "uv sync; echo rc=$?"],
        )
        assert out.count(STICK_LINE) == 1 and "Undone" in out and out.index("Undone") > out.index(STICK_LINE), out
        assert tree(home) == before
        applied = cli(["fix", _fixes(env, mount, "UVD005")["failure-hint"], "--yes"], env)
        assert applied.returncode == 0, show(applied)

        # uv's cache on the stick, set by the person in each startup file: the line wherever uv fails.
        cache = mount / "uv-cache"
        rc_lines = {".bashrc": "export", ".zshrc": "export", ".config/fish/config.fish": "set -gx"}
        for name, verb in rc_lines.items():
            with (home / name).open("a") as handle:
                sep = " " if verb == "set -gx" else "="
                handle.write(f"{verb} UV_CACHE_DIR{sep}{shlex.quote(str(cache))}\n")
        assert "failure-hint" not in _fixes(env, mount, "UVD006")  # on already: `scan` rewrote its lines
        local = tmp / "local"  # a project on this computer's disk, outside every drive
        _project(tmp / "again", env, local)
        for shell in SHELLS:
            _fails_then_works(shell, home, env, local, CACHE_LINE, everywhere=True)

    # Unplugged, its mount point left behind (as a manual mount leaves it), and no scan since:
    # the line does not claim anything about the empty folder.
    mount.mkdir()
    for shell in SHELLS:
        _silent_failure(shell, home, env, mount)
    shutil.rmtree(mount)  # uv made its cache folder in it meanwhile

    with make_drive("exfat", root / "pc", name="STICK", image=image) as drive:
        # Fixed: the cache moved back to uv's default, the stick's projects kept on this computer.
        moved = cli(["fix", _fixes(env, mount, "UVD006")["move-off-drive"], "--yes"], env)
        assert moved.returncode == 0, show(moved)
        kept = cli(["fix", _fixes(env, mount, "UVD005")["portable-drive"], "--yes"], env)
        assert kept.returncode == 0, show(kept)
        for shell in SHELLS:
            out = _silent_failure(shell, home, env, demo, "uv sync; uv run false")
            assert "rc=1" in _statuses(out), out  # `uv run` passes on its program's status, untouched

    undone = [cli(["undo"], env) for _ in range(3)]  # the drive's setup, the cache, the hint: newest first
    assert all(u.returncode == 0 for u in undone), [show(u) for u in undone]
    assert cli(["undo"], env).returncode != 0  # nothing left
    for name in rc_lines:  # the person's own lines go as they came
        text = (home / name).read_text()
        (home / name).write_text("".join(line for line in text.splitlines(True) if "uv-cache" not in line))
    assert tree(home) == before, sorted(set(tree(home)) ^ set(before))


def test_a_persons_own_uv_function_is_kept(world: tuple[Path, Path, Path]) -> None:
    tmp, root, wheels = world
    home, env = make_home(tmp / "pc", wheels)
    with (home / ".bashrc").open("a") as handle:
        handle.write('uv() { echo "my own uv"; command uv "$@"; }\n')
    settings = home / ".config" / "uv-drive-guard" / "config.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[scope]\nmount_roots = [{json.dumps(str(root))}]\n")
    with make_drive("exfat", root / "pc", label="STICK", name="STICK") as drive:
        _project(tmp, env, drive.mountpoint / "demo")
        applied = cli(["fix", _fixes(env, drive.mountpoint, "UVD005")["failure-hint"], "--yes"], env)
        assert applied.returncode == 0, show(applied)
        out = in_shell(
            "bash",
            home,
            env,
            [
                f"cd {shlex.quote(str(drive.mountpoint / 'demo'))}",
                "command uv sync; echo crc=$?",
                "uv sync; echo rc=$?",
            ],
        )
        statuses = _statuses(out)
        assert "my own uv" in out and "uv-drive-guard:" not in out and statuses[0] == "c" + statuses[1], out
