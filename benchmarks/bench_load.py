"""Figures for the headless daemon under load: many plug cycles of one drive, ten drives at once.

Run as root with the Debian packages from .ci/run: .venv/bin/python benchmarks/bench_load.py
[--cycles 500] [--every 50] [--only cycles|ten]

(a) One real exFAT image (same UUID, same mount point below a fresh /mnt dir, uv's cache set on it
in ~/.bashrc) plugged and unplugged N times under `uv-drive-guard run --headless`; after each
mount the benchmark waits for the daemon's scan, checks that no fd or cwd of the daemon is on the
drive, and ejects it at once with a plain `umount` (no -l, as a file manager does; a failure is
counted); then it waits for the scan of the unmount. RSS, open fds and threads are sampled every
--every cycles.
(c) The same with an ext4 image holding named pipes, sockets and device nodes where uv's files
would be (tests/realfs/test_never_held.py): nothing may hang, hold the drive or pile up threads.
(b) Ten small exFAT/FAT32/NTFS/ext4 images, each holding a uv project or a uv directory set in
~/.bashrc, mounted at once from ten threads, then unmounted at once.

The scenarios are the ones tests/realfs/test_load.py asserts on, with more cycles. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from tests.realfs import test_load as load  # noqa: E402
from tests.realfs import test_never_held as never_held  # noqa: E402

MB = 1024


def show_problems(lines: list[str], warnings: list[str]) -> None:
    print(f"  ERROR/Traceback records in the log: {len(lines)}")
    for record in lines[:10]:
        print("    " + record.replace("\n", "\n    ")[:2000])
    print(f"  WARNING records (the headless 'no notification service' aside): {len(warnings)}")
    for record in warnings[:10]:
        print("    " + record[:300])


def cycles(count: int, every: int, keep: Path, *, hostile: bool = False) -> None:
    if hostile:
        print(
            f"(c) {count} plug/unplug cycles of one ext4 drive with named pipes, sockets and device nodes "
            "where pyproject.toml, uv.toml, pyvenv.cfg and a venv's scripts would be (uv's cache on it)"
        )
    else:
        print(f"(a) {count} plug/unplug cycles of one exFAT drive (uv's cache on it)")

    def progress(sample: load.Sample) -> None:
        print(
            f"  cycle {sample.cycle:4d}: RSS {sample.rss_kb / MB:6.1f} MB, {sample.fds} fds, "
            f"{sample.threads} threads, CPU {sample.cpu_s:.1f} s",
            flush=True,
        )

    kind, fill = ("ext4", never_held.fill_hostile) if hostile else ("exfat", None)
    name = "hostile.log" if hostile else "cycles.log"
    # Mounted where no other scanner of this machine looks (/mnt is shared): another process
    # walking or probing the drive would make an eject fail that is not the daemon's doing, and a
    # scanner without a safe reader would block on the hostile drive's pipes and hold it busy.
    parent = tempfile.gettempdir()
    f = load.plug_cycles(
        count, every, first_sample=every, progress=progress, keep_log=keep / name, kind=kind, fill=fill, parent=parent
    )
    broke = f" (broke off: {f.broke_off})" if f.broke_off else ""
    print(f"  cycles done: {f.cycles_done} of {f.cycles_wanted}{broke}")
    print(f"  daemon alive at the end: {'yes' if f.alive else 'NO'}")
    if f.samples:
        first = next((s for s in f.samples if s.cycle == every), f.samples[0])
        last = f.samples[-1]
        growth = (last.rss_kb - first.rss_kb) / MB
        print(
            f"  RSS: {first.rss_kb / MB:.1f} MB at cycle {first.cycle}, {last.rss_kb / MB:.1f} MB at cycle "
            f"{last.cycle}: growth {growth:+.2f} MB (target: under 5 MB)"
        )
        print(f"  open fds: {first.fds} at cycle {first.cycle}, {last.fds} at cycle {last.cycle} (target: flat)")
        print(
            f"  threads: {first.threads} at cycle {first.cycle}, {last.threads} at cycle {last.cycle}: "
            f"growth {last.threads - first.threads:+d} (target: 0)"
        )
        cpu = last.cpu_s - first.cpu_s
        span = last.cycle - first.cycle
        if span:
            each = 1000 * cpu / span
            print(f"  daemon CPU: {cpu:.1f} s over cycles {first.cycle}..{last.cycle} ({each:.0f} ms a cycle)")
    print(
        f"  ejects with plain umount (no -l) right after each scan: {f.cycles_done - len(f.eject_failures)} of "
        f"{f.cycles_done} succeeded; failures: {len(f.eject_failures)} (target: 0)"
    )
    for failure in f.eject_failures[:5]:
        print(f"    {failure}")
    print(
        f"  ejects busy because a scan woken by another mount was walking the drive, fine on the retry "
        f"after that scan: {len(f.busy_in_a_later_scan)}"
    )
    for busy in f.busy_in_a_later_scan[:5]:
        print(f"    {busy}")
    print(f"  daemon fds or cwd on the drive after a scan: {len(f.held)} (target: 0)")
    for held in f.held[:5]:
        print(f"    {held}")
    rate = f.cycles_done / f.wall_s if f.wall_s else 0.0
    print(f"  wall time: {f.wall_s:.1f} s, {rate:.2f} cycles/s")
    expected = 2 * f.cycles_done
    print(f"  mount-change scans: {f.scans} (2 a cycle: {expected}; more: mounts by others woke it)")
    print(f"  notices: {dict(f.notices) or 'none'} (expected: the drive's once, {load.ABSENT!r} once)")
    print(f"  notices repeated word for word: {f.repeated or 'none'}")
    show_problems(f.problems, f.warnings)
    seen, left = f.probe_dirs_seen, f.probe_dirs_after.get("STICK", [])
    print(
        f"  probe dirs of the daemon seen while plugged: {load.own(seen, f.pid) or 'none'}; left on the drive "
        f"after: {load.own(left, f.pid) or 'none'}"
    )
    if len(load.own(seen, f.pid)) != len(seen) or len(load.own(left, f.pid)) != len(left):
        print(
            f"  probe dirs of other processes (others scanning /mnt meanwhile): {len(seen)} seen while plugged, "
            f"{len(left)} left: {sorted({n.split('-')[-2] for n in seen + left})} (pids)"
        )
    print(f"  SIGTERM: exit code {f.exit_code}, 'stopped' logged: {f.stopped_cleanly}")
    print(f"  leftovers (mounts, loop devices, FUSE daemons): {f.leftovers or 'none'}")
    print(f"  daemon pid {f.pid}")


def phase(name: str, p: load.Phase, names: dict[str, str]) -> None:
    print(f"  {name}:")
    for error in p.errors:
        print(f"    ERROR: {error}")
    if p.last_scan is not None and p.first_event:
        spread = 1000 * (p.last_event - p.first_event)
        print(f"    the ten {name.split()[0]} events spread over {spread:.0f} ms")
        if p.first_complete_scan is not None:
            first = 1000 * (p.first_complete_scan - p.first_event)
            print(f"    first event to the first scan that saw the final state: {first:.0f} ms")
        print(f"    first event to the daemon's last scan (then quiet): {1000 * (p.last_scan - p.first_event):.0f} ms")
    print(f"    scans: {p.scans}: " + ", ".join(f"{s.drives}d/{s.findings}f" for s in p.scan_lines))
    shown = {label: p.notices.get(full, 0) for label, full in names.items()}
    print(f"    notices per drive: {shown}")
    print(f"    notices {load.ABSENT!r}: {p.notices.get(load.ABSENT, 0)}")
    others = {k: v for k, v in p.notices.items() if k not in names.values() and k != load.ABSENT}
    if others:
        print(f"    other notices: {others}")
    if p.sample is not None:
        print(f"    after: RSS {p.sample.rss_kb / MB:.1f} MB, {p.sample.fds} fds, {p.sample.threads} threads")


def ten(keep: Path) -> None:
    kinds = ", ".join(f"{s.label} {s.kind} ({s.holds})" for s in load.TEN_DRIVES)
    print(f"(b) ten drives plugged at once: {kinds}")
    started = time.monotonic()
    f = load.ten_at_once(keep_log=keep / "ten.log")
    if f.start_sample is not None:
        s = f.start_sample
        print(
            f"  before: RSS {s.rss_kb / MB:.1f} MB, {s.fds} fds, {s.threads} threads; notices at start: "
            f"{dict(f.start_notices)}"
        )
    phase("plug (all ten mounted at once)", f.plug, f.names)
    print(f"    drives with problems per `uv-drive-guard scan --json`: {f.with_problems}")
    phase("pull (all ten unmounted at once)", f.pull, f.names)
    print(f"  daemon alive at the end: {'yes' if f.alive else 'NO'}")
    show_problems(f.problems, f.warnings)
    print(
        f"  daemon pid {f.pid}; probe dirs while plugged: {f.probe_dirs_seen or 'none'}; left on drives "
        f"after: {f.probe_dirs_after or 'none'}"
    )
    print(f"  notices repeated word for word: {f.repeated or 'none'}")
    print(f"  SIGTERM: exit code {f.exit_code}, 'stopped' logged: {f.stopped_cleanly}")
    print(f"  leftovers (mounts, loop devices, FUSE daemons): {f.leftovers or 'none'}")
    print(f"  scenario wall time (with making the images): {time.monotonic() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--every", type=int, default=50, help="sample the daemon every N cycles")
    parser.add_argument("--only", choices=("cycles", "ten", "hostile"))
    args = parser.parse_args()
    reason = load.requirement(load.TEN_KINDS)
    if reason:
        sys.exit(f"needs real drives: {reason}")
    keep = Path(tempfile.mkdtemp(prefix="uvdg-bench-load-logs-"))
    if args.only in (None, "cycles"):
        cycles(args.cycles, min(args.every, args.cycles), keep)
    if args.only in (None, "hostile"):
        cycles(args.cycles, min(args.every, args.cycles), keep, hostile=True)
    if args.only in (None, "ten"):
        ten(keep)
    print(f"the daemons' logs: {keep}")


if __name__ == "__main__":
    main()
