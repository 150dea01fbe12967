"""Figures for the daemon: mount-to-notification latency, idle cost, resident memory.

Run as root with the Debian packages from .ci/run: .venv/bin/python benchmarks/bench_daemon.py
[--plugs 20] [--idle 60] [--tray]. Each plug is a different exFAT drive (its own UUID) at the
same mount point, with uv's cache configured on it, so each one earns a notice. Latency runs
from the moment the mount is visible in the mount table to the notice in the daemon's log.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from tests.realfs import drives  # noqa: E402

BIN = Path(sys.executable).parent


def log_times(log: Path, marker: str) -> list[float]:
    times = []
    for line in log.read_text().splitlines():
        if marker in line:
            stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            times.append(stamp.timestamp())
    return times


def proc_figures(pid: int) -> tuple[int, float, dict[str, int]]:
    """(VmRSS kB, CPU seconds, context switches per thread)."""
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    switches: dict[str, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for line in (task / "status").read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                switches[task.name] = switches.get(task.name, 0) + int(line.split()[1])
    return rss, cpu, switches


def wakeups(before: dict[str, int], after: dict[str, int], seconds: float) -> float:
    """Context switches per second of the threads alive throughout (short-lived workers aside)."""
    return sum(after[t] - before[t] for t in after if t in before) / seconds


def wait_for(log: Path, marker: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().count(marker) >= count:
            return
        time.sleep(0.01)
    raise TimeoutError(f"{marker!r} x{count} not seen")


def tray_memory() -> None:
    """Resident memory of `run` with its tray icon in trayer and dunst as notification server."""
    from tests.desktop import session

    with tempfile.TemporaryDirectory() as tmp, session.dunst_session(Path(tmp) / "desk") as desk:
        tray = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"]
        desk.procs.append(subprocess.Popen(tray, env=desk.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        home = Path(tmp) / "home"
        home.mkdir()
        env = {**drives.uv_env(home), "DISPLAY": desk.display, "DBUS_SESSION_BUS_ADDRESS": desk.bus_address}
        env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
        if "PYSTRAY_BACKEND" in os.environ:  # pystray's own switch: appindicator, gtk, xorg
            env["PYSTRAY_BACKEND"] = os.environ["PYSTRAY_BACKEND"]
        daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "run"], env=env)
        try:
            log = home / ".local/state/uv-drive-guard/log/uv-drive-guard.log"
            wait_for(log, "is running", 1)
            time.sleep(3)
            rss, cpu0, sw0 = proc_figures(daemon.pid)
            time.sleep(20)
            _, cpu1, sw1 = proc_figures(daemon.pid)
            backend = next(line for line in log.read_text().splitlines() if "tray backend" in line).split()[-1]
            print(f"resident memory with the tray ({backend}): {rss / 1024:.1f} MB (target <= 50 MB)")
            idle = f"CPU {100 * (cpu1 - cpu0) / 20:.3f} %, wakeups {wakeups(sw0, sw1, 20):.2f}/s"
            print(f"idle with the tray over 20 s: {idle}")
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plugs", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of idle measurement")
    parser.add_argument("--tray", action="store_true", help="also measure the daemon with its tray under Xvfb")
    args = parser.parse_args()
    if args.tray:
        tray_memory()
    reason = drives.requirement("exfat")
    if reason:
        sys.exit(f"needs real drives: {reason}")
    mnt = Path(tempfile.mkdtemp(prefix="uvdg-bench-", dir="/mnt"))
    home = Path(tempfile.mkdtemp(prefix="uvdg-bench-home-"))
    (home / ".bashrc").write_text(f'export UV_CACHE_DIR="{mnt}/STICK/uv-cache"\n')
    env = drives.uv_env(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    log = home / ".local/state/uv-drive-guard/log/uv-drive-guard.log"
    images = []
    for n in range(args.plugs):
        with drives.make_drive("exfat", mnt / "images", size_mb=16, label=f"STICK{n:02d}") as made:
            images.append(made.image)
    daemon = subprocess.Popen([str(BIN / "uv-drive-guard"), "run", "--headless"], env=env)
    try:
        wait_for(log, "is running", 1)
        time.sleep(1)
        rss0, _, _ = proc_figures(daemon.pid)
        visible = []
        for n, image in enumerate(images):
            with drives.make_drive("exfat", mnt, label=f"STICK{n:02d}", name="STICK", image=image):
                visible.append(time.time())
                wait_for(log, f"notice: uv on STICK{n:02d}", 1)
            wait_for(log, "scan (mount change)", 2 * n + 2)
        notices = [t for n in range(args.plugs) for t in log_times(log, f"notice: uv on STICK{n:02d}")[:1]]
        latency = sorted((b - a) * 1000 for a, b in zip(visible, notices, strict=True))
        rss1, cpu0, sw0 = proc_figures(daemon.pid)
        time.sleep(args.idle)
        rss2, cpu1, sw1 = proc_figures(daemon.pid)
        p95 = latency[max(0, round(0.95 * len(latency)) - 1)]
        print(f"mount-to-notice latency over {len(latency)} plugs: median {statistics.median(latency):.0f} ms, "
              f"p95 {p95:.0f} ms, max {latency[-1]:.0f} ms (target: median <= 300, p95 <= 1000)")
        print(f"idle over {args.idle:g} s: CPU {100 * (cpu1 - cpu0) / args.idle:.3f} %, "
              f"wakeups {wakeups(sw0, sw1, args.idle):.2f}/s (target: <= 0.1 %, <= 1/s)")
        print(f"resident memory, headless: {rss0 / 1024:.1f} MB after start, {rss1 / 1024:.1f} MB after "
              f"{args.plugs} plugs, {rss2 / 1024:.1f} MB after idling (target <= 30 MB)")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=20)
        shutil.rmtree(mnt, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
