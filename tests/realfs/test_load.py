"""The headless daemon under load, on real drives: many plug cycles of one exFAT drive, and ten
drives of mixed kinds plugged (and pulled) at once.

The scenarios live here as plain functions returning figures, so benchmarks/bench_load.py runs
the same code with more cycles and prints instead of asserting.

Isolation from whatever else mounts on this machine at the same time: each scenario has its own
HOME and its own directory below /mnt, and its settings narrow `scope.mount_roots` to that
directory, so drives mounted by others never come into scope (their mount changes still wake
the daemon: waits count scans logged after each step, not absolute numbers).
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import drives

BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
LOG_REL = Path(".local/state/uv-drive-guard/log/uv-drive-guard.log")
PROBE_PREFIX = ".uv-drive-guard-probe-"
ABSENT = "a drive that is not plugged in"

STAMP = r"(?P<stamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
SCAN_RE = re.compile(
    STAMP + r" \w+ \S+: scan \((?P<reason>[^)]*)\): (?P<drives>\d+) drive\(s\) in scope, "
    r"(?P<findings>\d+) finding"
)
NOTICE_RE = re.compile(STAMP + r" \w+ \S+: notice: uv on (?P<name>.+?): (?P<severity>error|warning|info): ")
# A record starts with a time stamp; anything else is the continuation of the one before.
RECORD_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def stamp_time(stamp: str) -> float:
    return datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def exe() -> str:
    found = shutil.which("uv-drive-guard", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found:
        raise FileNotFoundError("uv-drive-guard is not installed in .venv")
    return found


def requirement(kinds: tuple[str, ...]) -> str | None:
    return next((reason for reason in map(drives.requirement, kinds) if reason), None)


# --- the daemon's log --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    when: float  # the log's wall-clock time stamp
    reason: str
    drives: int
    findings: int


@dataclass(frozen=True)
class Shown:
    when: float
    name: str  # "STICK (exFAT)", or ABSENT
    severity: str
    record: int  # its index in LogReader.records (the body follows on the next lines)


class LogReader:
    """Reads the daemon's log as it grows (only the new bytes each time), across rotations."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.records: list[str] = []
        self.scans: list[Scan] = []
        self.notices: list[Shown] = []
        self._inode: int | None = None

    def poll(self) -> None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return
        chunks = []
        if self._inode is not None and (stat.st_ino != self._inode or stat.st_size < self.offset):
            # Rotated: the rest of the old file is now the first backup.
            backup = self.path.with_name(self.path.name + ".1")
            with contextlib.suppress(OSError), backup.open("rb") as old:
                old.seek(self.offset)
                chunks.append(old.read())
            self.offset = 0
        self._inode = stat.st_ino
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        self.offset += len(data)
        chunks.append(data)
        text = self.partial + b"".join(chunks)
        complete, _, self.partial = text.rpartition(b"\n")
        if complete:
            self._add(complete.decode(errors="replace").split("\n"))

    def _add(self, lines: list[str]) -> None:
        for line in lines:
            if self.records and not RECORD_RE.match(line):
                self.records[-1] += "\n" + line  # a notice's body, a traceback
                continue
            self.records.append(line)
            scan = SCAN_RE.match(line)
            if scan:
                when = stamp_time(scan["stamp"])
                self.scans.append(Scan(when, scan["reason"], int(scan["drives"]), int(scan["findings"])))
            notice = NOTICE_RE.match(line)
            if notice:
                when = stamp_time(notice["stamp"])
                self.notices.append(Shown(when, notice["name"], notice["severity"], len(self.records) - 1))

    def mount_scans(self) -> list[Scan]:
        self.poll()
        return [s for s in self.scans if s.reason == "mount change"]

    def text(self, shown: Shown) -> str:
        """A notice as the user reads it: title and body, without the time stamp."""
        return self.records[shown.record].split("notice: ", 1)[1]

    def wait(self, done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if done():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not in the daemon's log within {timeout:g} s")
            time.sleep(0.01)

    def wait_scan_after(self, count: int, timeout: float = 30.0) -> Scan:
        """The first mount-change scan logged after the first `count` ones."""
        self.wait(lambda: len(self.mount_scans()) > count, f"a mount-change scan after #{count}", timeout)
        return self.mount_scans()[count]

    def settle(self, quiet: float = 1.5, timeout: float = 60.0) -> None:
        """Wait until no scan has been logged for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.scans), time.monotonic()
        while time.monotonic() < deadline:
            self.poll()
            if len(self.scans) != seen:
                seen, since = len(self.scans), time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            time.sleep(0.05)
        raise TimeoutError(f"the daemon kept scanning for {timeout:g} s")

    def warnings(self) -> list[str]:
        self.poll()
        return [r for r in self.records if " WARNING " in r.split("\n", 1)[0]]

    def problems(self) -> list[str]:
        """ERROR records and tracebacks."""
        self.poll()
        return [r for r in self.records if " ERROR " in r.split("\n", 1)[0] or "Traceback" in r]


# --- the daemon process ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    cycle: int
    rss_kb: int
    fds: int
    threads: int
    cpu_s: float


def proc_sample(pid: int, cycle: int = 0) -> Sample:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return Sample(
        cycle=cycle,
        rss_kb=int(status["VmRSS"].split()[0]),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(status["Threads"]),
        cpu_s=cpu,
    )


class Daemon:
    """`uv-drive-guard run --headless` in a throwaway HOME; its settings narrow the mount roots to
    `mnt` (drives that others mount meanwhile stay out of scope)."""

    def __init__(self, home: Path, mnt: Path, bashrc: str) -> None:
        self.home = home
        (home / ".bashrc").write_text(bashrc)
        self.env = drives.uv_env(home)
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env['PATH']}"
        for name in ("DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"):
            self.env.pop(name, None)
        settings = Path(self.env["XDG_CONFIG_HOME"]) / "uv-drive-guard" / "config.toml"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(f'[scope]\nmount_roots = ["{mnt}"]\n')
        self.log = LogReader(home / LOG_REL)
        self.out = (home / "daemon.out").open("wb")
        self.proc = subprocess.Popen(
            [exe(), "run", "--headless"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        self.log.wait(lambda: any(r.endswith("is running (headless)") for r in self.log.records), "is running")
        self.log.wait(lambda: any(s.reason == "start" for s in self.log.scans), "the first scan")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def sample(self, cycle: int = 0) -> Sample:
        return proc_sample(self.pid, cycle)

    def stop(self) -> int | None:
        """SIGTERM; the exit code (None: it had to be killed)."""
        code: int | None
        if self.proc.poll() is not None:
            code = self.proc.returncode
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                code = None
        self.out.close()
        self.log.poll()
        return code

    def stopped_cleanly(self) -> bool:
        return any(r.endswith("uv-drive-guard stopped") for r in self.log.records)


# --- leftovers ---------------------------------------------------------------------------------


def probe_dirs(mountpoint: Path) -> list[str]:
    try:
        return sorted(name for name in os.listdir(mountpoint) if name.startswith(PROBE_PREFIX))
    except OSError as exc:
        return [f"<cannot list {mountpoint}: {exc}>"]


def leftovers(mnt: Path, images: list[Path]) -> list[str]:
    """Mounts below `mnt`, loop devices on `images`, FUSE daemons serving a mount below `mnt`."""
    found = [f"mounted: {e.mountpoint}" for e in drives.mountinfo() if e.mountpoint.startswith(f"{mnt}/")]
    losetup = drives.which("losetup") or "losetup"
    for image in images:
        out = subprocess.run([losetup, "-j", str(image)], capture_output=True, text=True, check=False).stdout
        found += [f"loop device: {line}" for line in out.splitlines() if line.strip()]
    for proc_dir in Path("/proc").iterdir():
        if proc_dir.name.isdigit():
            with contextlib.suppress(OSError):
                argv = proc_dir.joinpath("cmdline").read_bytes().decode(errors="replace").split("\0")
                if any(a.startswith(f"{mnt}/") for a in argv):
                    found.append(f"process {proc_dir.name}: {' '.join(argv).strip()}")
    return found


def probe_leftovers(kind: str, work: Path, images: dict[str, Path]) -> dict[str, list[str]]:
    """Plug each image once more (the daemon stopped) and list probe directories at its root."""
    out = {}
    for label, image in images.items():
        with drives.make_drive(kind if kind != "*" else _kind_of(label), work, label=label, image=image) as drive:
            out[label] = probe_dirs(drive.mountpoint)
    return {label: names for label, names in out.items() if names}


def _kind_of(label: str) -> str:
    return next(spec.kind for spec in TEN_DRIVES if spec.label == label)


@contextlib.contextmanager
def workspace(prefix: str, parent: str = "/mnt") -> Iterator[tuple[Path, Path, Path]]:
    """(a fresh dir below `parent`, a throwaway HOME, a work dir for images), all removed after."""
    tag = f"{prefix}-{uuid.uuid4().hex[:6]}-"
    mnt = Path(tempfile.mkdtemp(prefix=tag, dir=parent))
    base = Path(tempfile.mkdtemp(prefix=tag))
    home, work = base / "home", base / "work"
    home.mkdir()
    work.mkdir()
    try:
        yield mnt, home, work
    finally:
        for entry in drives.mountinfo():  # a scenario that broke off half-way
            if entry.mountpoint.startswith(f"{mnt}/") or entry.mountpoint.startswith(f"{work}/"):
                subprocess.run(["umount", "-l", entry.mountpoint], capture_output=True, check=False)
        shutil.rmtree(mnt, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


# --- scenario (a): one drive, many plug cycles -------------------------------------------------


@dataclass
class CycleFigures:
    cycles_wanted: int
    cycles_done: int = 0
    alive: bool = False
    samples: list[Sample] = field(default_factory=list)
    wall_s: float = 0.0
    scans: int = 0  # mount-change scans logged
    notices: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repeated: dict[str, int] = field(default_factory=dict)  # the same notice, word for word, more than once
    probe_dirs_seen: list[str] = field(default_factory=list)  # while plugged, after the scan
    probe_dirs_after: dict[str, list[str]] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    exit_code: int | None = None
    stopped_cleanly: bool = False
    broke_off: str = ""  # why the cycles stopped early
    pid: int = 0
    log_copy: Path | None = None
    eject_failures: list[str] = field(default_factory=list)  # plain `umount` (no -l) right after the scan
    held: list[str] = field(default_factory=list)  # fds or cwd of the daemon on the drive after a scan
    busy_in_a_later_scan: list[str] = field(default_factory=list)  # see _eject_after_scan


def held_on(pid: int, mountpoint: Path) -> list[str]:
    """The process's open files and working directory that lie on `mountpoint`."""
    found = []
    try:
        fds = [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return found
    for link in [*fds, f"/proc/{pid}/cwd", f"/proc/{pid}/root"]:
        try:
            target = os.readlink(link)
        except OSError:
            continue
        if target == str(mountpoint) or target.startswith(f"{mountpoint}/"):
            found.append(f"{link} -> {target}")
    return found


def holders(mountpoint: Path) -> dict[int, str]:
    """Every process with a file or its cwd on `mountpoint` (what `fuser -m` would name)."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and entry != str(os.getpid()) and held_on(int(entry), mountpoint):
            try:
                out[int(entry)] = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            except OSError:
                continue
    return out


def eject(mountpoint: Path, daemon_pid: int) -> str | None:
    """`umount` as a person's file manager would, once, without -l: None when it worked, else
    the error and who held the drive at that moment (the daemon, or another process)."""
    done = subprocess.run([drives.which("umount") or "umount", str(mountpoint)], capture_output=True, text=True)
    if done.returncode == 0:
        return None
    held = holders(mountpoint)
    who = ", ".join(
        f"{'THE DAEMON' if pid == daemon_pid else 'pid'} {pid} ({cmd.strip()})" for pid, cmd in held.items()
    )
    return f"{done.stderr.strip() or done.returncode}; held by: {who or 'nobody by the time we looked'}"


def _eject_after_scan(daemon: Daemon, mountpoint: Path, cycle: int, figures: CycleFigures) -> None:
    """Eject right after the scan of the mount. Others' mounts wake the daemon too, so the scan
    waited for may have been one of theirs and the daemon may be walking this drive right now:
    a hold or a busy eject is tried again once that scan is over, and counted as a failure only
    if it is still there (kept apart as "busy in a later scan" otherwise)."""
    held, failed = held_on(daemon.pid, mountpoint), None
    if not held:
        failed = eject(mountpoint, daemon.pid)
    if not held and failed is None:
        return
    count = len(daemon.log.mount_scans())
    with contextlib.suppress(TimeoutError):
        daemon.log.wait_scan_after(count, timeout=3)
    still = held_on(daemon.pid, mountpoint)
    again = eject(mountpoint, daemon.pid) if not still else "still held"
    first = "; ".join(held) if held else failed
    if still:
        figures.held += [f"cycle {cycle}: {h}" for h in still]
    if again is not None:
        figures.eject_failures.append(f"cycle {cycle}: {first}; again: {again}")
    else:
        figures.busy_in_a_later_scan.append(f"cycle {cycle}: {first}")


def plug_cycles(
    cycles: int,
    every: int,
    first_sample: int,
    progress: Callable[[Sample], None] = lambda s: None,
    keep_log: Path | None = None,
    kind: str = "exfat",
    fill: Callable[[Path], object] | None = None,
    parent: str = "/mnt",
) -> CycleFigures:
    """Plug and unplug one image (exFAT by default; same UUID, same mount point) `cycles` times,
    with uv's cache configured on it and `fill` run on it once; after each step wait for the
    daemon's scan of it. Samples the daemon at `first_sample` and every `every` cycles and at the end.
    `parent` other than /mnt keeps the drive out of sight of other scanners on this machine."""
    figures = CycleFigures(cycles)
    with workspace("uvdg-load", parent) as (mnt, home, work):
        with drives.make_drive(kind, work, size_mb=16, label="STICK") as made:
            if fill is not None:
                fill(made.mountpoint)
            image = made.image
        assert image is not None
        daemon = Daemon(home, mnt, f'export UV_CACHE_DIR="{mnt}/STICK/uv-cache"\n')
        figures.pid = daemon.pid
        start = time.monotonic()
        try:
            for cycle in range(1, cycles + 1):
                try:
                    before = len(daemon.log.mount_scans())
                    with drives.make_drive(kind, mnt, label="STICK", name="STICK", image=image) as drive:
                        daemon.log.wait_scan_after(before)
                        figures.probe_dirs_seen += probe_dirs(drive.mountpoint)
                        before = len(daemon.log.mount_scans())  # before the eject: its scan may come at once
                        _eject_after_scan(daemon, drive.mountpoint, cycle, figures)
                    daemon.log.wait_scan_after(before)
                except (TimeoutError, drives.DriveError) as exc:
                    figures.broke_off = f"cycle {cycle}: {exc}"
                    break
                figures.cycles_done = cycle
                if cycle in (first_sample, cycles) or cycle % every == 0:
                    if not daemon.alive():
                        figures.broke_off = f"cycle {cycle}: the daemon is gone"
                        break
                    sample = daemon.sample(cycle)
                    figures.samples.append(sample)
                    progress(sample)
            figures.wall_s = time.monotonic() - start
            figures.alive = daemon.alive()
        finally:
            figures.exit_code = daemon.stop()
            figures.stopped_cleanly = daemon.stopped_cleanly()
            figures.scans = len(daemon.log.mount_scans())
            figures.notices = Counter(n.name for n in daemon.log.notices)
            figures.problems = daemon.log.problems()
            figures.warnings = _warnings(daemon.log)
            figures.repeated = _repeated(daemon.log)
            figures.log_copy = _keep(daemon.log.path, keep_log)
        figures.probe_dirs_after = probe_leftovers(kind, work, {"STICK": image})
        figures.leftovers = leftovers(mnt, [image])
    return figures


# --- scenario (b): ten drives at once ----------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    kind: str
    label: str
    holds: str  # "project", "project+cache" (its own cache on the drive), or a UV_* variable


TEN_DRIVES = (
    Spec("exfat", "TOOLS", "UV_TOOL_DIR"),
    Spec("exfat", "PYTHONS", "UV_PYTHON_INSTALL_DIR"),
    Spec("exfat", "PROJX", "project"),
    Spec("vfat", "TOOLBIN", "UV_TOOL_BIN_DIR"),
    Spec("vfat", "PYBIN", "UV_PYTHON_BIN_DIR"),
    Spec("vfat", "PROJF", "project"),
    Spec("ntfs", "PROJN", "project"),
    Spec("ntfs", "PROJN2", "project+cache"),
    Spec("ext4", "PROJE", "project"),
    Spec("ext4", "CLEAN", "project+cache"),
)
TEN_KINDS = tuple(sorted({spec.kind for spec in TEN_DRIVES}))
SIZES = {"exfat": 16, "vfat": 64, "ntfs": 16, "ext4": 16}


def _fill(spec: Spec, root: Path) -> None:
    """What makes the drive matter to uv."""
    if spec.holds.startswith("project"):
        project = root / "demo"
        project.mkdir()
        extra = '\ncache-dir = "../uv-cache"\n' if spec.holds == "project+cache" else "\n"
        (project / "pyproject.toml").write_text(
            '[project]\nname = "demo"\nversion = "0.1.0"\nrequires-python = ">=3.8"\ndependencies = []\n\n'
            f"[tool.uv]\npackage = false{extra}"
        )
    else:
        (root / spec.holds.lower()).mkdir()


def ten_bashrc(mnt: Path) -> str:
    return "".join(
        f'export {spec.holds}="{mnt}/{spec.label}/{spec.holds.lower()}"\n'
        for spec in TEN_DRIVES
        if spec.holds.startswith("UV_")
    )


@dataclass
class Phase:
    """Plugging (or pulling) all ten at once, as the daemon saw it."""

    first_event: float = 0.0  # wall clock: the first mount visible / the first unmount done
    last_event: float = 0.0
    first_complete_scan: float | None = None  # the first scan that saw the final state
    last_scan: float | None = None  # the last scan of the burst (the daemon settled after it)
    scans: int = 0
    scan_lines: list[Scan] = field(default_factory=list)
    notices: Counter[str] = field(default_factory=Counter)
    sample: Sample | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class TenFigures:
    plug: Phase = field(default_factory=Phase)
    pull: Phase = field(default_factory=Phase)
    start_notices: Counter[str] = field(default_factory=Counter)
    start_sample: Sample | None = None
    with_problems: list[str] = field(default_factory=list)  # drive names `scan --json` finds problems on
    names: dict[str, str] = field(default_factory=dict)  # label -> the name in notices ("TOOLS (exFAT)")
    probe_dirs_seen: dict[str, list[str]] = field(default_factory=dict)
    probe_dirs_after: dict[str, list[str]] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    repeated: dict[str, int] = field(default_factory=dict)  # the same notice, word for word, more than once
    alive: bool = False
    exit_code: int | None = None
    stopped_cleanly: bool = False
    pid: int = 0
    log_copy: Path | None = None


def _phase_result(phase: Phase, daemon: Daemon, scans_before: int, notices_before: int) -> None:
    scans = daemon.log.mount_scans()[scans_before:]
    phase.scans = len(scans)
    phase.scan_lines = scans
    phase.last_scan = scans[-1].when if scans else None
    phase.notices = Counter(n.name for n in daemon.log.notices[notices_before:])
    phase.sample = daemon.sample() if daemon.alive() else None


def ten_at_once(scan_json: bool = True, keep_log: Path | None = None) -> TenFigures:
    """Ten images of mixed kinds, each holding something of uv's, mounted at once from ten threads,
    then unmounted at once."""
    figures = TenFigures()
    with workspace("uvdg-ten") as (mnt, home, work):
        images: dict[str, Path] = {}

        def prepare(spec: Spec) -> None:
            size = SIZES[spec.kind]
            with drives.make_drive(spec.kind, work, size_mb=size, label=spec.label) as made:
                _fill(spec, made.mountpoint)
                assert made.image is not None
                images[spec.label] = made.image

        _threaded([lambda spec=spec: prepare(spec) for spec in TEN_DRIVES], [])
        missing = [spec.label for spec in TEN_DRIVES if spec.label not in images]
        if missing:
            raise drives.DriveError(f"could not prepare {missing}")
        daemon = Daemon(home, mnt, ten_bashrc(mnt))
        figures.pid = daemon.pid
        try:
            figures.start_notices = Counter(n.name for n in daemon.log.notices)
            figures.start_sample = daemon.sample()
            plugged = threading.Barrier(len(TEN_DRIVES) + 1)
            pull = threading.Event()
            visible: dict[str, float] = {}
            gone: dict[str, float] = {}
            mounted: dict[str, Path] = {}

            def hold(spec: Spec) -> None:
                try:
                    with drives.make_drive(
                        spec.kind, mnt, label=spec.label, name=spec.label, image=images[spec.label]
                    ) as drive:
                        visible[spec.label] = time.time()
                        mounted[spec.label] = drive.mountpoint
                        plugged.wait(timeout=60)
                        pull.wait(timeout=300)
                except BaseException:
                    plugged.abort()  # the others stop waiting, and unplug
                    raise
                finally:
                    gone[spec.label] = time.time()

            scans_before, notices_before = len(daemon.log.mount_scans()), len(daemon.log.notices)
            threads = _threaded([lambda spec=spec: hold(spec) for spec in TEN_DRIVES], figures.plug.errors, join=False)
            try:
                plugged.wait(timeout=120)
                figures.plug.first_event, figures.plug.last_event = min(visible.values()), max(visible.values())
                everything = len(TEN_DRIVES)
                daemon.log.wait(
                    lambda: any(s.drives == everything for s in daemon.log.mount_scans()[scans_before:]),
                    "a scan with all ten drives in scope",
                    timeout=60,
                )
                daemon.log.settle()
                complete = [s for s in daemon.log.mount_scans()[scans_before:] if s.drives == everything]
                figures.plug.first_complete_scan = complete[0].when
                _phase_result(figures.plug, daemon, scans_before, notices_before)
                figures.names = _names(daemon.log.notices, [spec.label for spec in TEN_DRIVES])
                figures.probe_dirs_seen = {
                    label: names for label, path in mounted.items() if (names := probe_dirs(path))
                }
                if scan_json:
                    figures.with_problems = _drives_with_problems(daemon.env, mounted, work)
                    daemon.log.settle(quiet=0.5)
            except threading.BrokenBarrierError:
                figures.plug.errors.append("not all ten drives could be mounted")
            except TimeoutError as exc:
                figures.plug.errors.append(str(exc))
            finally:
                scans_before, notices_before = len(daemon.log.mount_scans()), len(daemon.log.notices)
                pull.set()
                for thread in threads:
                    thread.join(timeout=120)
            try:
                figures.pull.first_event, figures.pull.last_event = min(gone.values()), max(gone.values())
                daemon.log.wait(lambda: len(daemon.log.mount_scans()) > scans_before, "a scan after the pull")
                daemon.log.settle()
                unplugged = [s for s in daemon.log.mount_scans()[scans_before:] if s.drives <= 1]
                figures.pull.first_complete_scan = unplugged[0].when if unplugged else None
                _phase_result(figures.pull, daemon, scans_before, notices_before)
            except TimeoutError as exc:
                figures.pull.errors.append(str(exc))
            figures.alive = daemon.alive()
        finally:
            figures.exit_code = daemon.stop()
            figures.stopped_cleanly = daemon.stopped_cleanly()
            figures.problems = daemon.log.problems()
            figures.warnings = _warnings(daemon.log)
            figures.repeated = _repeated(daemon.log)
            figures.log_copy = _keep(daemon.log.path, keep_log)
        for spec in TEN_DRIVES:
            found = probe_leftovers(spec.kind, work, {spec.label: images[spec.label]})
            figures.probe_dirs_after.update(found)
        figures.leftovers = leftovers(mnt, list(images.values()))
    return figures


def _keep(log: Path, to: Path | None) -> Path | None:
    if to is None or not log.exists():
        return None
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(log, to)
    return to


def own(names: list[str], pid: int) -> list[str]:
    """The probe directories of process `pid` (others scanning /mnt at the same time probe too)."""
    return [name for name in names if name.startswith(f"{PROBE_PREFIX}{pid}-")]


def _warnings(log: LogReader) -> list[str]:
    """WARNING records, less the expected one: no notification server in a headless session."""
    return [w for w in log.warnings() if "no desktop notification service" not in w]


def _repeated(log: LogReader) -> dict[str, int]:
    counts = Counter(log.text(shown) for shown in log.notices)
    return {text: count for text, count in counts.items() if count > 1}


def _threaded(jobs: list[Callable[[], None]], errors: list[str], join: bool = True) -> list[threading.Thread]:
    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    if join:
        for thread in threads:
            thread.join(timeout=300)
    return threads


def _names(notices: list[Shown], labels: list[str]) -> dict[str, str]:
    names = {}
    for label in labels:
        names[label] = next((n.name for n in notices if n.name.split(" (")[0] == label), label)
    return names


def _drives_with_problems(env: dict[str, str], mounted: dict[str, Path], work: Path) -> list[str]:
    """The drives `uv-drive-guard scan --json` (a separate process) finds problems on, by label.

    With a copy of the settings: the daemon rescans whenever its settings file is merely read."""
    import json

    settings = Path(env["XDG_CONFIG_HOME"]) / "uv-drive-guard" / "config.toml"
    copy = work / "config.toml"
    shutil.copyfile(settings, copy)
    command = [exe(), "scan", "--json", "--config", str(copy)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(done.stdout)
    volumes = {str(path): label for label, path in mounted.items()}
    return sorted({volumes[f["volume"]] for f in report["findings"] if f.get("volume") in volumes})


# --- the tests (shortened for CI; benchmarks/bench_load.py runs the long version) ---------------

CI_CYCLES = 60
MB_KB = 1024


@pytest.fixture(scope="module")
def cycles(tmp_path_factory: pytest.TempPathFactory) -> CycleFigures:
    reason = requirement(("exfat",))
    if reason:
        drives.need_real(reason)
    log = tmp_path_factory.mktemp("log") / "cycles.log"
    # Out of /mnt: another scanner on the machine walking the drive would fail an eject for us.
    return plug_cycles(CI_CYCLES, every=10, first_sample=10, keep_log=log, parent=tempfile.gettempdir())


@pytest.fixture(scope="module")
def ten(tmp_path_factory: pytest.TempPathFactory) -> TenFigures:
    reason = requirement(TEN_KINDS)
    if reason:
        drives.need_real(reason)
    return ten_at_once(keep_log=tmp_path_factory.mktemp("log") / "ten.log")


def test_plug_cycles_leave_the_daemon_flat(cycles: CycleFigures) -> None:
    assert not cycles.broke_off, cycles.broke_off
    assert cycles.cycles_done == CI_CYCLES
    assert cycles.alive, "the daemon died"
    at10, end = cycles.samples[0], cycles.samples[-1]
    assert (at10.cycle, end.cycle) == (10, CI_CYCLES)
    assert end.rss_kb - at10.rss_kb < 5 * MB_KB, cycles.samples
    assert end.fds <= at10.fds + 2, cycles.samples
    assert end.threads <= at10.threads, cycles.samples  # a given-up walk or probe never piles up
    assert cycles.eject_failures == [], cycles.eject_failures  # plain umount right after each scan
    assert cycles.held == [], cycles.held
    assert not cycles.problems, "\n".join(cycles.problems)
    assert cycles.exit_code == 0 and cycles.stopped_cleanly


def test_plug_cycles_tell_each_state_once(cycles: CycleFigures) -> None:
    # The drive's problem once, on the first plug-in; the drive being away once, at start.
    assert dict(cycles.notices) == {"STICK (exFAT)": 1, ABSENT: 1}, f"{cycles.notices}; log: {cycles.log_copy}"
    assert not cycles.repeated, f"{cycles.repeated}; log: {cycles.log_copy}"


def test_plug_cycles_leave_nothing_behind(cycles: CycleFigures) -> None:
    assert not own(cycles.probe_dirs_seen, cycles.pid), cycles.probe_dirs_seen
    assert not own(cycles.probe_dirs_after.get("STICK", []), cycles.pid), cycles.probe_dirs_after
    assert not cycles.leftovers, cycles.leftovers


def test_ten_drives_at_once_are_each_told_once(ten: TenFigures) -> None:
    assert not ten.plug.errors and not ten.pull.errors, ten.plug.errors + ten.pull.errors
    assert ten.alive, "the daemon died"
    assert ten.plug.first_complete_scan is not None, "no scan saw all ten drives"
    # Each kind of trouble is there (scan --json, a separate process, agrees on which drives).
    assert {"TOOLS", "PYTHONS", "PROJX", "TOOLBIN", "PYBIN", "PROJF"} <= set(ten.with_problems)
    assert "CLEAN" not in ten.with_problems
    for spec in TEN_DRIVES:
        name = ten.names[spec.label]
        expected = 1 if spec.label in ten.with_problems else 0
        assert ten.plug.notices.get(name, 0) == expected, (spec.label, ten.plug.notices, str(ten.log_copy))
        assert ten.pull.notices.get(name, 0) == 0, (spec.label, ten.pull.notices, str(ten.log_copy))
    assert dict(ten.start_notices) == {ABSENT: 1}
    assert not ten.problems, "\n".join(ten.problems)
    assert ten.exit_code == 0 and ten.stopped_cleanly


def test_ten_drives_at_once_stay_flat_and_leave_nothing(ten: TenFigures) -> None:
    assert ten.start_sample is not None and ten.pull.sample is not None
    assert ten.pull.sample.rss_kb - ten.start_sample.rss_kb < 5 * MB_KB
    assert ten.pull.sample.fds <= ten.start_sample.fds + 2
    assert not [own(names, ten.pid) for names in ten.probe_dirs_seen.values() if own(names, ten.pid)]
    assert not [own(names, ten.pid) for names in ten.probe_dirs_after.values() if own(names, ten.pid)], (
        f"{ten.probe_dirs_after}; log: {ten.log_copy}"
    )
    assert not ten.leftovers, ten.leftovers


def test_ten_drives_at_once_the_missing_drives_are_told_once(ten: TenFigures) -> None:
    """After the pull, the configured drives are away exactly as at start: that state was told."""
    assert not ten.repeated, f"{ten.repeated}; log: {ten.log_copy}"


def test_ten_drives_at_once_every_probe_completes(ten: TenFigures) -> None:
    """Each drive is probed once per mount: overlapping scans must not probe one drive twice
    at the same time (one probe's clean-up deletes the other's scratch directory)."""
    failed = [w for w in ten.warnings if "probe in" in w]
    assert not failed, f"{failed}; log: {ten.log_copy}"
