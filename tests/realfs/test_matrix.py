"""The prediction matrix: `scan --json` against real uv, per filesystem, uv role and uv release.

For every filesystem kind (exFAT and FAT32 through FUSE, NTFS through ntfs-3g, ext4, btrfs,
tmpfs), every way a uv directory can sit on a drive (see ``SCENARIOS``) and several uv
releases installed side by side, one cell:

1. ``scan --json`` predicts, in a throwaway HOME whose ``~/.bashrc`` exports the setting (and
   with the same value in the process environment), the chosen uv first on PATH (the product
   asks ``uv --version`` from PATH) and the drive mounted under a unique directory below /mnt
   (automatic scope). The prediction is ``fails`` (an error finding for a location of the
   scenario), ``warns`` (a warning finding) or ``works``.
2. Real uv, the same release and environment, does the scenario's job: ``fails`` when a step
   exits non-zero, ``warns`` when it printed uv's link fallback warning, else ``works``.
3. predicted == actual.

The cells about where uv makes an environment (folders with a pyproject.toml, a drive moved
after one `uv run`, a `.venv` leading to another drive or nowhere) live in ``matrix_places.py``,
on exFAT and ext4.

uv releases: the venv's own uv, and those found in ``$UVDG_UV_VERSIONS`` (default
``<repo>/.uv-versions``), one per directory, as installed with
``pip install --no-deps uv==X --target .uv-versions/X``. Nothing here reaches the network.
One drive per filesystem kind for the whole module, wiped between cells; the table is printed
at the end of the session and written to ``<pytest basetemp>/matrix.md``;
``benchmarks/matrix.py`` prints the same table without pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.core import explain

from . import drives
from . import matrix_places as places
from .against_uv import CLI, VENV_BIN, copy_tree, run_scan
from .drives import base_python, build_wheel, make_drive, need_real, requirement, uv_env
from .uv_versions import VENV_UV, install_hint, uv_bin_dir

ROOT = Path(__file__).resolve().parents[2]

#: Filesystem kinds of the matrix, in table order.
KINDS: tuple[str, ...] = ("exfat", "vfat", "ntfs", "ext4", "btrfs", "tmpfs")
#: uv releases besides the venv's: before/after PR #17115 (persist fallback, 0.9.18) and
#: before/after the clone default on Linux (0.10.5).
OTHER_VERSIONS: tuple[str, ...] = ("0.9.17", "0.9.18", "0.10.4", "0.10.5")

#: scenario -> what it puts on the drive (the rest stays on the local disk).
SCENARIOS: dict[str, str] = {
    "cache": "UV_CACHE_DIR on the drive; `uv pip install` into a venv on the local disk",
    "project": "a project on the drive, cache local; `uv venv` at its .venv, then `uv pip install`",
    "tool-dir": "UV_TOOL_DIR on the drive; `uv tool install --no-index --find-links`",
    "tool-bin-dir": "UV_TOOL_BIN_DIR on the drive; `uv tool install --no-index --find-links`",
    "cross-volume": "cache local, an existing venv on the drive; `uv pip install` into it",
    "init-app": "`uv init --app` on the drive, never synced; `uv sync` (dependency: tinypkg)",
    "init-lib": "`uv init --lib` on the drive, never synced; `uv sync`",
    "init-workspace": "`uv init` root + `uv init --lib packages/lib` member, never synced; `uv sync` in the member",
    "synced-app": "`uv init --app` on the drive and synced once; `uv sync --reinstall` installs into it again",
}
#: The never-synced and synced projects: made by the venv's own `uv init` (the cells' older uv
#: releases cannot build a `uv_build` 0.13 project offline, so every `uv sync` here is
#: `--no-install-project`: the environment and its dependencies are what the drive decides).
INIT_SCENARIOS = ("init-app", "init-lib", "init-workspace", "synced-app")
#: Drive states, on the filesystems whose kernel drivers take `mount -o remount,OPTION`
#: (the drive is put back to rw,exec,symfollow before every cell).
STATES: dict[str, str] = {
    "ro-project": "ro",
    "noexec-synced": "noexec",
    "nosymfollow-synced": "nosymfollow",
}
SCENARIOS.update(
    {
        "ro-project": "`uv init --app` on the drive, then `mount -o remount,ro`; `uv sync`",
        "noexec-synced": "a synced `uv init --app` project, then `remount,noexec`; `uv run --no-sync tinypkg`",
        "nosymfollow-synced": "a synced project, then `remount,nosymfollow`; `uv run --no-sync tinypkg`",
    }
)
STATE_KINDS = frozenset({"ext4", "btrfs"})
SCENARIOS.update(places.SCENARIOS)  # where uv makes environments: on exFAT and ext4


def applies(kind: str, scenario: str) -> bool:
    if scenario in places.SCENARIOS:
        return kind in places.KINDS
    return scenario not in STATES or kind in STATE_KINDS


def remount(mountpoint: Path, options: str) -> None:
    proc = subprocess.run(["mount", "-o", f"remount,{options}", str(mountpoint)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


WARN_MARKERS = ("Failed to hardlink files", "Failed to clone files", "falling back to full copy")
SKIP_NO_VENV = "uv cannot create a venv here (UVD005)"

PYPROJECT = drives.PYPROJECT


# --- uv releases ------------------------------------------------------------------------


def reported_version(bin_dir: Path) -> str:
    proc = subprocess.run([str(bin_dir / "uv"), "--version"], capture_output=True, text=True, check=False, timeout=60)
    match = re.search(r"\d+\.\d+\.\d+\S*", proc.stdout)
    return match.group(0) if match else proc.stdout.strip() or "?"


# --- one cell -----------------------------------------------------------------------------


@dataclass
class Cell:
    scenario: str
    kind: str
    version: str  # what `uv --version` printed
    predicted: str = ""  # fails / warns / works
    actual: str = ""  # fails / warns / works, or "skip"
    codes: list[str] = field(default_factory=list)  # the findings behind the prediction
    others: list[str] = field(default_factory=list)  # loud findings elsewhere (not counted)
    messages: list[str] = field(default_factory=list)  # uv_message of the deciding findings
    unsaid: list[str] = field(default_factory=list)  # predicted lines uv did not print (shown, not asserted)
    note: str = ""  # skip reason, or uv's key stderr line
    stderr: str = ""  # all of uv's stderr, for a disagreement

    @property
    def agrees(self) -> bool:
        return self.actual == "skip" or self.predicted == self.actual


@dataclass
class Setup:
    """Everything a cell needs that is not the cell itself."""

    drive: drives.Drive
    mnt_root: Path  # the unique directory below /mnt holding the drive
    wheels: Path  # find-links directory with tinypkg (with a console script)
    work: Path  # a fresh local directory for this cell (HOME lives here)


def wipe(mountpoint: Path) -> None:
    """Empty the drive (not lost+found) so the next cell starts clean."""
    for child in mountpoint.iterdir():
        if child.name == "lost+found":
            continue
        if child.is_dir() and not child.is_symlink():
            for _ in range(10):  # FUSE drivers sometimes need more passes (fusefat: EPERM)
                shutil.rmtree(child, ignore_errors=True)
                if not child.exists():
                    break
                time.sleep(0.2)
            if child.exists():
                shutil.rmtree(child)
        else:
            child.unlink(missing_ok=True)  # a probe's scratch entry may vanish as it is listed (fusefat)


def cell_env(home: Path, bin_dir: Path, **overrides: str | None) -> dict[str, str]:
    env = uv_env(home, **overrides)
    env["PATH"] = os.pathsep.join(dict.fromkeys([str(bin_dir), str(VENV_BIN), env["PATH"]]))
    return env


def write_bashrc(home: Path, settings: dict[str, str]) -> None:
    lines = ["# ~/.bashrc", "alias ll='ls -l'"]
    lines += [f"export {name}='{value}'" for name, value in settings.items()]
    (home / ".bashrc").write_text("\n".join(lines) + "\n")


def run_uv(bin_dir: Path, args: list[str | Path], env: dict[str, str], cwd: Path | None = None) -> Any:
    return drives.run_uv([str(a) for a in args], env, cwd=cwd, uv=str(bin_dir / "uv"))


class ScanCrash(RuntimeError):
    """`scan --json` ended with an internal error (exit 2): the cell's prediction is "crash"."""


def scan(env: dict[str, str], cwd: Path, *paths: Path) -> dict[str, Any]:
    proc = run_scan(env, *paths, cwd=cwd)
    if proc.returncode not in (0, 1):
        raise ScanCrash(f"scan exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}")
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def classify_prediction(
    report: dict[str, Any], paths: set[str], drive_root: Path, home: Path
) -> tuple[str, list[str], list[str], list[str]]:
    """fails / warns / works from the findings about the scenario's locations: the directories
    it names, and anything located on the cell's drive. Also returns the loud findings about
    other places in this cell's HOME (shown in the table, not counted)."""
    prefix = f"{drive_root}/"
    codes: list[str] = []
    others: list[str] = []
    messages: dict[str, list[str]] = {"error": [], "warning": []}
    severities: set[str] = set()
    for item in report["findings"]:
        if item["severity"] not in ("error", "warning"):
            continue
        location = item.get("location") or {}
        path = location.get("path") or ""
        label = f"{item['code']}:{item['severity']}:{location.get('role')}"
        if path in paths or path == str(drive_root) or path.startswith(prefix):
            codes.append(label)
            severities.add(item["severity"])
            messages[item["severity"]].append(item.get("uv_message") or "")
        elif path.startswith(f"{home}/"):
            others.append(f"{label}@{os.path.relpath(path, home)}")
    if "error" in severities:
        return "fails", codes, others, messages["error"]
    if "warning" in severities:
        return "warns", codes, others, messages["warning"]
    return "works", codes, others, []


_PREFIX = re.compile(r"^\s*(?:error:|warning:|Caused by:|cause:)\s*")
# Placeholders in the product's uv messages: XXXXXX (a temp name), ... (anything), <name>, <tool dir>.
_SPLIT = re.compile(r"(XXXXXX|\.\.\.|<[a-z][a-z ]*>)")
_PLACEHOLDERS = {"XXXXXX": r"[^`'\s/]+", "...": ".*?"}


def unsaid_lines(messages: list[str], stderr: str) -> list[str]:
    """The predicted uv lines that uv did not print (modulo `error:`/`cause:` prefixes and the
    `XXXXXX` / `...` placeholders), as test_scan_vs_uv compares them."""
    real = "\n".join(_PREFIX.sub("", line).strip() for line in stderr.splitlines())
    missing = []
    for message in messages:
        for line in message.splitlines():
            want = _PREFIX.sub("", line).strip()
            if not want:
                continue
            pattern = "".join(
                _PLACEHOLDERS.get(p) or (".+?" if p.startswith("<") else re.escape(p)) for p in _SPLIT.split(want)
            )
            if not re.search(pattern, real):
                missing.append(line.strip())
    return missing


def classify_actual(procs: list[Any]) -> tuple[str, str, str]:
    """fails / warns / works from uv's runs, with the line that decided it and all stderr."""
    stderr = "\n".join(f"$ uv {' '.join(p.args[1:])}\n{p.stderr.rstrip()}" for p in procs)
    for proc in procs:
        if proc.returncode != 0:
            lines = [_PREFIX.sub("", line).strip() for line in proc.stderr.splitlines() if line.strip()]
            return "fails", " / ".join(lines[-2:]), stderr
    for proc in procs:
        for line in proc.stderr.splitlines():
            found = next((m for m in WARN_MARKERS if m in line), None)
            if found:
                return "warns", found, stderr
    return "works", "", stderr


def tool_install(wheels: Path) -> list[str | Path]:
    return ["tool", "install", "--no-index", "--find-links", wheels, "--python", base_python(), "tinypkg"]


def pip_install(venv: Path, wheels: Path) -> list[str | Path]:
    return ["pip", "install", "--no-index", "--find-links", wheels, "--python", venv, "tinypkg"]


def init_project(scenario: str, where: Path, scratch: Path) -> tuple[Path, Path]:
    """Real `uv init` (the venv's uv), locally, then copied onto the drive: (run uv in, env)."""
    env = uv_env(scratch / "init-home")
    local = scratch / "init"
    local.mkdir()
    uv = str(VENV_BIN / "uv")
    flags = ["--vcs", "none", "--python", base_python()]
    if scenario == "init-workspace":
        made = drives.run_uv(["init", "--lib", *flags, "ws"], env, cwd=local, uv=uv)
        assert made.returncode == 0, made.stderr
        made = drives.run_uv(["init", "--lib", *flags, "packages/lib"], env, cwd=local / "ws", uv=uv)
        assert made.returncode == 0, made.stderr
        assert "packages/lib" in (local / "ws" / "pyproject.toml").read_text(), "uv init did not add the member"
        name, run_in, venv_of = "ws", Path("ws/packages/lib"), Path("ws")
    else:
        kind = "--lib" if scenario == "init-lib" else "--app"
        made = drives.run_uv(["init", kind, *flags, "--no-workspace", "demo"], env, cwd=local, uv=uv)
        assert made.returncode == 0, made.stderr
        name, run_in, venv_of = "demo", Path("demo"), Path("demo")
    manifest = local / run_in / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace("dependencies = []", 'dependencies = ["tinypkg"]'))
    copy_tree(local / name, where / name)
    return where / run_in, where / venv_of / ".venv"


def sync(wheels: Path, *extra: str) -> list[str | Path]:
    return ["sync", "--no-install-project", "--no-index", "--find-links", wheels, "--python", base_python(), *extra]


def run_cell(scenario: str, version: str, setup: Setup) -> Cell:
    """Predict with scan, then run real uv. Asserts only on a broken setup; the caller compares."""
    if scenario in places.SCENARIOS:
        return run_place_cell(scenario, version, setup)
    bin_dir = uv_bin_dir(version)
    assert bin_dir is not None, install_hint(version)
    mp = setup.drive.mountpoint
    if setup.drive.kind in STATE_KINDS:
        remount(mp, "rw,exec,symfollow")  # whatever the last cell left
    wipe(mp)
    home = setup.work / "home"
    home.mkdir(parents=True)
    cell = Cell(scenario, setup.drive.kind, reported_version(bin_dir))
    settings: dict[str, str] = {}
    paths: set[str] = set()
    cwd = home
    base_env = cell_env(home, bin_dir)  # no setting: everything on the local disk

    if scenario == "cache":
        cache = mp / "uv-cache"
        settings["UV_CACHE_DIR"] = str(cache)
        venv = home / "venv"
        made = run_uv(bin_dir, ["venv", "--python", base_python(), venv], base_env)
        assert made.returncode == 0, f"local venv: {made.stderr}"
        paths |= {str(cache), str(venv)}
    elif scenario == "project":
        project = mp / "demo"
        project.mkdir()
        (project / "pyproject.toml").write_text(PYPROJECT)
        venv = project / ".venv"
        paths |= {str(project), str(venv)}
        cwd = project
    elif scenario == "tool-dir":
        tools = mp / "uv-tools"
        settings["UV_TOOL_DIR"] = str(tools)
        paths.add(str(tools))
    elif scenario == "tool-bin-dir":
        bins = mp / "uv-bin"
        settings["UV_TOOL_BIN_DIR"] = str(bins)
        paths.add(str(bins))
    elif scenario == "cross-volume":
        venv = mp / "venv"
        made = run_uv(bin_dir, ["venv", "--python", base_python(), venv], base_env)
        if made.returncode != 0:
            cell.actual = "skip"
            cell.note = SKIP_NO_VENV
            cell.stderr = made.stderr
        paths.add(str(venv))
    elif scenario in INIT_SCENARIOS or scenario in STATES:
        cwd, venv = init_project("init-app" if scenario in STATES else scenario, mp, setup.work)
        paths |= {str(cwd), str(venv)}
        if scenario in ("synced-app", "noexec-synced", "nosymfollow-synced"):
            made = run_uv(bin_dir, sync(setup.wheels), base_env, cwd=cwd)
            if made.returncode != 0:
                cell.actual = "skip"
                cell.note = SKIP_NO_VENV
                cell.stderr = made.stderr
        if scenario in STATES:
            remount(mp, STATES[scenario])
    else:
        raise ValueError(scenario)

    write_bashrc(home, settings)
    env = cell_env(home, bin_dir, **settings)
    # The cache cell names its local venv (the path being scanned): a cache on a drive warns
    # about copies only for an environment elsewhere that the scan knows of (UVD003).
    named = (home / "venv",) if scenario == "cache" else ()
    predict(cell, env, cwd, named, paths, mp, home)
    if cell.actual == "skip":
        return cell

    procs = []
    if scenario == "cache":
        procs.append(run_uv(bin_dir, pip_install(home / "venv", setup.wheels), env))
    elif scenario == "project":
        made = run_uv(bin_dir, ["venv", "--python", base_python()], env, cwd=cwd)
        procs.append(made)
        if made.returncode == 0:
            procs.append(run_uv(bin_dir, pip_install(cwd / ".venv", setup.wheels), env, cwd=cwd))
    elif scenario in ("tool-dir", "tool-bin-dir"):
        procs.append(run_uv(bin_dir, tool_install(setup.wheels), env))
    elif scenario == "synced-app":
        procs.append(run_uv(bin_dir, sync(setup.wheels, "--reinstall"), env, cwd=cwd))
    elif scenario in ("noexec-synced", "nosymfollow-synced"):
        procs.append(run_uv(bin_dir, ["run", "--no-sync", "tinypkg"], env, cwd=cwd))
    elif scenario in INIT_SCENARIOS or scenario == "ro-project":
        procs.append(run_uv(bin_dir, sync(setup.wheels), env, cwd=cwd))
    else:
        procs.append(run_uv(bin_dir, pip_install(mp / "venv", setup.wheels), env))
    return settle(cell, procs, mp, home)


def predict(
    cell: Cell, env: dict[str, str], cwd: Path, named: tuple[Path, ...], paths: set[str], mp: Path, home: Path
) -> None:
    """The scan's prediction for the cell, from its findings about `paths` and the drive at `mp`."""
    try:
        report = scan(env, cwd, *named)
    except ScanCrash as exc:
        # Not a prediction: shown as such (and a disagreement), with the traceback's last line.
        cell.predicted = "crash"
        cell.codes = [str(exc).strip().splitlines()[-1]]
        cell.stderr = str(exc) + "\n" + cell.stderr
    else:
        assert report["uv"]["version"] and cell.version in report["uv"]["version"], (
            f"scan asked the wrong uv: {report['uv']} (wanted {cell.version})"
        )
        cell.predicted, cell.codes, cell.others, cell.messages = classify_prediction(report, paths, mp, home)


def settle(cell: Cell, procs: list[Any], mp: Path, home: Path) -> Cell:
    """What uv did, against the prediction."""
    scan_error = cell.stderr
    cell.actual, cell.note, cell.stderr = classify_actual(procs)
    cell.stderr = scan_error + cell.stderr
    cell.note = cell.note.replace(str(mp), "<drive>").replace(str(home), "~")
    if cell.predicted == cell.actual:
        cell.unsaid = unsaid_lines(cell.messages, cell.stderr)
    return cell


def run_place_cell(scenario: str, version: str, setup: Setup) -> Cell:
    """A cell of tests/realfs/matrix_places.py: where uv makes an environment, what it says."""
    bin_dir = uv_bin_dir(version)
    assert bin_dir is not None, install_hint(version)
    mp = setup.drive.mountpoint
    if setup.drive.kind in STATE_KINDS:
        remount(mp, "rw,exec,symfollow")  # whatever a drive-state cell left
    wipe(mp)
    home = setup.work / "home"
    home.mkdir(parents=True)
    cell = Cell(scenario, setup.drive.kind, reported_version(bin_dir))
    write_bashrc(home, {})
    env = cell_env(home, bin_dir)

    def uv_in(args: list[str | Path], env: dict[str, str], cwd: Path | None) -> Any:
        return run_uv(bin_dir, args, env, cwd=cwd)

    def project() -> Path:
        return init_project("init-app", mp, setup.work)[0]

    with places.prepared(scenario, setup.drive, setup.mnt_root, setup.wheels, uv_in, env, project) as plan:
        if plan.skip:
            cell.actual, cell.note, cell.stderr = "skip", SKIP_NO_VENV, plan.skip
        predict(cell, env, plan.cwd, (), plan.paths, plan.drive_root, home)
        if cell.actual == "skip":
            return cell
        procs = [run_uv(bin_dir, args, env, cwd=plan.cwd) for args in plan.job]
        return settle(cell, procs, plan.drive_root, home)


# --- the table ----------------------------------------------------------------------------


def table(cells: list[Cell]) -> str:
    """A Markdown table, in scenario / filesystem / uv version order."""
    order = {name: i for i, name in enumerate(SCENARIOS)}
    kinds = {name: i for i, name in enumerate(KINDS)}

    def key(c: Cell) -> tuple[int, int, tuple[int, ...]]:
        nums = tuple(int(n) for n in re.findall(r"\d+", c.version)[:3])
        return order.get(c.scenario, 99), kinds.get(c.kind, 99), nums

    rows = [
        "| scenario | fs | uv | predicted | actual | findings | message | uv said |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in sorted(cells, key=key):
        actual = c.actual if c.agrees else f"**{c.actual}** (differs)"
        said = c.note.replace("|", "\\|").replace("`", "'")
        findings = ", ".join(c.codes + [f"(elsewhere: {o})" for o in c.others])
        message = "" if not c.messages or not c.agrees or c.actual == "skip" else "differs" if c.unsaid else "same"
        predicted = "-" if c.actual == "skip" else c.predicted  # nothing on the drive to predict about
        rows.append(
            f"| {c.scenario} | {c.kind} | {c.version} | {predicted} | {actual} | {findings} | {message} | {said} |"
        )
    return "\n".join(rows)


def details(cells: list[Cell]) -> str:
    """The disagreements in full, and the predicted lines uv did not print."""
    out = [disagreement(c) for c in cells if not c.agrees]
    for c in cells:
        if c.unsaid:
            out.append(f"{c.scenario} on {c.kind}, uv {c.version}: uv did not print " + " / ".join(c.unsaid))
    return "\n\n".join(out)


def disagreement(c: Cell) -> str:
    return (
        f"{c.scenario} on {c.kind}, uv {c.version}: predicted {c.predicted} ({', '.join(c.codes) or 'no finding'}),"
        f" uv {c.actual}\n{c.stderr}"
    )


@contextlib.contextmanager
def mount_root() -> Iterator[Path]:
    """A fresh directory under /mnt (automatic scan scope); checks nothing is left mounted."""
    root = Path("/mnt") / f"uvdg-matrix-{uuid.uuid4().hex[:10]}"
    root.mkdir(mode=0o755)
    try:
        yield root
    finally:
        still = [e.mountpoint for e in drives.mountinfo() if e.mountpoint.startswith(f"{root}/")]
        shutil.rmtree(root, ignore_errors=True)
        assert not still, f"mounts left behind under {root}: {still}"


class DrivePool:
    """One drive per kind, made on first use, all unmounted at close."""

    def __init__(self, root: Path, stack: contextlib.ExitStack) -> None:
        self.root = root
        self.stack = stack
        self.drives: dict[str, drives.Drive] = {}

    def get(self, kind: str) -> drives.Drive:
        if kind not in self.drives:
            self.drives[kind] = self.stack.enter_context(
                make_drive(kind, self.root, label="UVDGMATRIX"[:11] if kind != "tmpfs" else None, name=kind)
            )
        return self.drives[kind]


def make_wheels(where: Path) -> Path:
    build_wheel(where, entry_points={"tinypkg": "tinypkg:main"}, data_size=300_000)
    return where


# --- pytest -------------------------------------------------------------------------------

RESULTS: list[Cell] = []


class _Summary:
    """Prints the table at the end of the session (a plugin registered by the fixture)."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not RESULTS:
            return
        text = table(RESULTS)
        self.out.write_text(text + "\n")
        terminalreporter.write_sep("=", "uv-drive-guard prediction matrix")
        terminalreporter.write_line(text)
        bad = [c for c in RESULTS if not c.agrees]
        more = details(RESULTS)
        if more:
            (self.out.with_suffix(".details.txt")).write_text(more + "\n")
        terminalreporter.write_line(
            f"{len(RESULTS)} cells, {len(bad)} disagreements, {sum(bool(c.unsaid) for c in RESULTS)} message"
            f" differences; table in {self.out}"
            + (f", details in {self.out.with_suffix('.details.txt')}" if more else "")
        )


@pytest.fixture(scope="module")
def pool(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrivePool]:
    if os.geteuid() != 0:
        need_real("mounting under /mnt needs root")
    if not CLI.is_file():
        need_real(f"the uv-drive-guard CLI is not installed beside {sys.executable}")
    summary = _Summary(tmp_path_factory.getbasetemp() / "matrix.md")
    request.config.pluginmanager.register(summary, f"uvdg-matrix-{id(summary)}")
    with mount_root() as root, contextlib.ExitStack() as stack:
        yield DrivePool(root, stack)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_wheels(tmp_path_factory.mktemp("matrix-wheels"))


CELLS = [
    pytest.param(kind, scenario, version, id=f"{kind}-{scenario}-{version}")
    for kind in KINDS
    for scenario in SCENARIOS
    for version in (VENV_UV, *OTHER_VERSIONS)
    if applies(kind, scenario)
]


@pytest.mark.parametrize(("kind", "scenario", "version"), CELLS)
def test_prediction_matches_uv(
    kind: str, scenario: str, version: str, pool: DrivePool, wheels: Path, tmp_path: Path
) -> None:
    reason = requirement(kind)
    if reason:
        need_real(reason)
    if uv_bin_dir(version) is None:
        need_real(install_hint(version) if version != VENV_UV else f"no uv beside {sys.executable}")
    setup = Setup(drive=pool.get(kind), mnt_root=pool.root, wheels=wheels, work=tmp_path)
    cell = run_cell(scenario, version, setup)
    RESULTS.append(cell)
    _record(cell, kind, scenario)
    if cell.actual == "skip":
        # No venv can exist on this drive for uv to install into: what stands in for the cell
        # is uv refusing to create one, exactly as UVD005 says.
        assert "failed to symlink file" in cell.stderr, disagreement(cell)
        assert "UVD005" in explained(cell.stderr), cell.stderr
        return
    assert cell.predicted == cell.actual, disagreement(cell)
    if cell.actual in ("fails", "warns"):
        # `uv-drive-guard explain`, given what uv printed, names a rule the scan predicted.
        predicted = {code.split(":", 1)[0] for code in cell.codes}
        assert predicted & explained(cell.stderr), f"explain says {explained(cell.stderr)}:\n{cell.stderr}"


def explained(stderr: str) -> set[str]:
    """The rules core.explain ties uv's messages to (the codes of every message it recognises)."""
    return {code for message in explain.read(stderr) for code in message.codes}


def _record(cell: Cell, kind: str, scenario: str) -> None:
    """UVDG_RECORD_UV_OUTPUT=DIR keeps what uv printed in each cell (the explain corpus's source)."""
    where = os.environ.get("UVDG_RECORD_UV_OUTPUT")
    if where and cell.stderr.strip():
        name = f"{scenario}-{kind}-{cell.version}.txt".replace(" ", "_")
        header = f"# uv {cell.version}, {scenario} on {kind}: {cell.actual}; scan: {', '.join(cell.codes)}\n"
        Path(where).mkdir(parents=True, exist_ok=True)
        (Path(where) / name).write_text(header + cell.stderr + "\n")
