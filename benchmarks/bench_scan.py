"""Figures for `scan`: cold start, probe cost per filesystem, and the drive walk against find.

Run: .venv/bin/python benchmarks/bench_scan.py [--quick]
Probing real filesystems needs root, /dev/fuse and the mkfs tools (.ci/run installs them);
without them that part says why and is left out. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from tests.realfs import drives  # noqa: E402

from uv_drive_guard.edges import probe as probing  # noqa: E402
from uv_drive_guard.edges import venvs, walk  # noqa: E402
from uv_drive_guard.edges.volumes import list_volumes  # noqa: E402

BIN = Path(sys.executable).parent


def timed(run: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return times


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms  (min {min(values) * 1000:.1f})"


def quiet(*argv: str, env: dict[str, str] | None = None) -> Callable[[], object]:
    return lambda: subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)


def bench_start(repeat: int) -> None:
    print("== scan cold start (no drives in scope beyond this machine's)")
    env = {**os.environ, "PATH": f"{BIN}:{os.environ.get('PATH', '')}"}
    uv = shutil.which("uv", path=env["PATH"]) or "uv"
    base = timed(quiet(sys.executable, "-c", "import psutil"), repeat)
    uv_time = timed(quiet(uv, "--version"), repeat)
    scan = timed(quiet(str(BIN / "uv-drive-guard"), "scan", "--json", env=env), repeat)
    target = statistics.median(base) * 1.5 + statistics.median(uv_time)
    print(f"  python -c 'import psutil'   {ms(base)}")
    print(f"  uv --version                {ms(uv_time)}")
    print(f"  uv-drive-guard scan --json  {ms(scan)}")
    verdict = "within" if statistics.median(scan) <= target else "OVER"
    print(f"  target 1.5 x psutil + uv = {target * 1000:.1f} ms: {verdict}")
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, uv_drive_guard.cli as c, uv_drive_guard.scan;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('PIL','pystray','desktop_notifier','watchdog','gi','dbus_fast')))",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(f"  GUI modules imported by scan: {heavy}")


class OpCounter:
    """Counts file operations through Python's audit events (open, link, flock, ioctl, ...)."""

    EVENTS = (
        "open",
        "os.link",
        "os.symlink",
        "os.rename",
        "os.mkdir",
        "os.remove",
        "os.rmdir",
        "os.scandir",
        "os.listdir",
        "os.chmod",
        "fcntl.flock",
        "fcntl.ioctl",
        "ctypes.call_function",
        "shutil.rmtree",
        "os.truncate",
    )

    def __init__(self) -> None:
        self.count = 0
        self.active = False
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if self.active and event in self.EVENTS:
            self.count += 1


def bench_probe(repeat: int) -> None:
    print("== probe per filesystem")
    counter = OpCounter()
    for kind in drives.KINDS:
        reason = drives.requirement(kind)
        if reason:
            print(f"  {kind:6} left out: {reason}")
            continue
        with tempfile.TemporaryDirectory() as tmp, drives.make_drive(kind, Path(tmp)) as drive:
            volume = next(v for v in list_volumes() if v.mountpoint == str(drive.mountpoint))
            times = []
            for _ in range(repeat):
                counter.count, counter.active = 0, True
                start = time.perf_counter()
                probing.probe(volume)
                times.append(time.perf_counter() - start)
                counter.active = False
            print(f"  {kind:6} {ms(times)}  file operations: {counter.count}")


def make_tree(root: Path, entries: int) -> None:
    """Directories of 20 files, 5 levels of fan-out, a few projects sprinkled in."""
    made, serial = 0, 0
    queue = [root]
    while made < entries:
        parent = queue.pop(0)
        for d in range(5):
            sub = parent / f"d{serial}_{d}"
            sub.mkdir()
            queue.append(sub)
            for f in range(20):
                (sub / f"f{f}.txt").touch()
            made += 21
        serial += 1
        if serial % 500 == 0:
            (parent / "pyproject.toml").write_text("[tool.uv]\n")


def bench_walk(entries: int, repeat: int) -> None:
    print(f"== walk against find, {entries} entries")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        root.mkdir()
        make_tree(root, entries)
        big = walk.Budget(max_depth=64, max_entries=10_000_000, seconds=600)
        find = timed(quiet("find", str(root)), repeat)
        ours = timed(lambda: walk.walk(str(root), str(root), big), repeat)
        result = walk.walk(str(root), str(root), big)
        print(f"  find        {ms(find)}")
        print(f"  walk        {ms(ours)}  ({result.entries} entries, {len(result.artefacts)} projects)")
        ratio = statistics.median(ours) / statistics.median(find)
        print(f"  ratio {ratio:.2f} (target <= 1.2)")
        small = walk.Budget(max_depth=64, max_entries=20_000, seconds=600)
        stop = timed(lambda: walk.walk(str(root), str(root), small), repeat)
        print(f"  budget of 20000 entries: {ms(stop)}, {walk.walk(str(root), str(root), small).truncated}")
        quick = walk.Budget(max_depth=64, max_entries=10_000_000, seconds=0.02)
        start = time.perf_counter()
        cut = walk.walk(str(root), str(root), quick)
        print(f"  budget of 20 ms: stopped after {(time.perf_counter() - start) * 1000:.1f} ms ({cut.truncated})")


def make_environments(root: Path, count: int, scripts: int) -> None:
    """`count` projects with a synced environment each: pyvenv.cfg and `scripts` console scripts
    naming the interpreter by absolute path, as uv writes them (never run here)."""
    for n in range(count):
        venv = root / f"p{n}" / ".venv"
        (venv / "bin").mkdir(parents=True)
        (root / f"p{n}" / "pyproject.toml").write_text(f'[project]\nname = "p{n}"\nversion = "0"\n')
        (venv / "pyvenv.cfg").write_text("home = /usr/bin\nuv = 0.13.10\n")
        for s in range(scripts):
            (venv / "bin" / f"tool{s:03d}").write_text(f"#!{venv}/bin/python\nimport sys\n")


def bench_environments(repeat: int) -> None:
    """What reading every script costs the walk: 20 environments of 20 scripts (a small
    project's) and of 200 (the bound), every script's first line read, against one per environment."""
    counter = OpCounter()
    kinds = [k for k in ("ext4", "exfat") if not drives.requirement(k)] or ["local"]
    for kind, scripts in ((k, n) for n in (20, 200) for k in kinds):
        print(f"== walk with 20 environments of {scripts} scripts on {kind} (every first line read vs one)")
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
            root = Path(tmp) if kind == "local" else stack.enter_context(drives.make_drive(kind, Path(tmp))).mountpoint
            make_environments(root, 20, scripts)
            budget = walk.Budget(max_depth=64, max_entries=10_000_000, seconds=600)
            figures = {}
            for label, limit in (("all", venvs.MAX_SCRIPTS), ("one", 1)):
                venvs.MAX_SCRIPTS = limit
                counter.count, counter.active = 0, True
                times = timed(functools.partial(walk.walk, str(root), str(root), budget), repeat)
                counter.active = False
                figures[label] = (times, counter.count // repeat)
            venvs.MAX_SCRIPTS = 200
            for label, (times, ops) in figures.items():
                print(f"  {label:4} {ms(times)}  file operations per walk: {ops}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller tree")
    args = parser.parse_args()
    repeat = 5 if args.quick else 20
    bench_start(repeat)
    bench_probe(repeat)
    bench_walk(20_000 if args.quick else 100_000, 3 if args.quick else 7)
    bench_environments(3 if args.quick else 7)


if __name__ == "__main__":
    main()
