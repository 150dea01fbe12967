"""Start at login: Linux for real in a throwaway HOME, macOS and Windows through recording fakes."""

from __future__ import annotations

import ast
import os
import plistlib
import shutil
import stat
import struct
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.realfs.drives import need_real

from uv_drive_guard import cli
from uv_drive_guard.app import autostart
from uv_drive_guard.app.autostart import _linux as linux
from uv_drive_guard.app.autostart import _macos as macos
from uv_drive_guard.app.autostart import _windows as windows

AWKWARD = ['/opt/my dir/$HOME`x`/back\\slash/100%/py"q', "-m", "uv_drive_guard", "run", "it's", "a;b", ""]


# ---------------------------------------------------------------------------
# Linux: XDG autostart entry


def _validate(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        need_real("needs desktop-file-validate (apt-get install desktop-file-utils)")
        return
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def _no_systemctl(args: Sequence[str]) -> int | None:
    raise AssertionError(f"systemctl {args} without --systemd")


def _linux(
    tmp_path: Path,
    argv: Sequence[str] = ("/usr/bin/uv-drive-guard", "run"),
    systemctl: linux.Systemctl = _no_systemctl,
) -> linux.LinuxAutostart:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return linux.LinuxAutostart(env, argv=lambda: list(argv), systemctl=systemctl)


def test_linux_enable_status_disable(tmp_path: Path) -> None:
    store = _linux(tmp_path)
    assert (store.state(), store.status()) == ("disabled", False)
    assert store.enable() == "wrote ~/cfg/autostart/uv-drive-guard.desktop"
    assert store.path == tmp_path / "cfg" / "autostart" / "uv-drive-guard.desktop"
    _validate(store.path)
    assert "Exec=/usr/bin/uv-drive-guard run\n" in store.path.read_text()
    assert (store.state(), store.status(), store.describe()) == (
        "enabled",
        True,
        "~/cfg/autostart/uv-drive-guard.desktop",
    )
    assert store.disable() == "removed ~/cfg/autostart/uv-drive-guard.desktop"
    assert not store.path.exists() and store.state() == "disabled"
    assert store.disable().startswith("nothing to remove")


@pytest.mark.parametrize("switch", ["Hidden=true", "X-GNOME-Autostart-enabled=false", "Hidden = True"])
def test_linux_switched_off_by_the_desktop(tmp_path: Path, switch: str) -> None:
    store = _linux(tmp_path)
    store.enable()
    text = store.path.read_text().replace("X-GNOME-Autostart-enabled=true\n", "")
    store.path.write_text(text + switch + "\n")
    assert (store.state(), store.status()) == ("disabled-by-system", False)
    login, running = autostart.status_lines(store, None)
    assert login.startswith("start at login: written, but switched off in the system's own settings (~/cfg/autostart/")
    assert running == "running now: no"
    store.enable()  # the user asked again: the entry is written afresh
    assert store.state() == "enabled"


def test_linux_entry_parsing() -> None:
    action = "[Desktop Entry]\nExec=x\n\n[Desktop Action off]\nHidden=true\n"
    assert linux.entry_state(action) == "enabled"
    assert linux.entry_state("# comment\n[Desktop Entry]\n  Hidden  =  true \n") == "disabled-by-system"
    assert linux.entry_state("Hidden=true\n") == "unknown"


def test_linux_unreadable_entry_is_unknown(tmp_path: Path) -> None:
    store = _linux(tmp_path)
    store.path.mkdir(parents=True)  # reading a directory fails with an OSError that is not "missing"
    assert (store.state(), store.status()) == ("unknown", None)


def _unquote_exec(value: str) -> list[str]:
    """The Desktop Entry spec read back: string escapes, then %%, then the quoting rule."""
    text = value.replace("\\\\", "\0").replace("\0", "\\").replace("%%", "%")
    args: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        if text[i] != '"':
            end = text.find(" ", i)
            end = len(text) if end < 0 else end
            args.append(text[i:end])
            i = end
            continue
        i += 1
        arg = []
        while text[i] != '"':
            if text[i] == "\\":
                i += 1
            arg.append(text[i])
            i += 1
        args.append("".join(arg))
        i += 1
    return args


def test_linux_exec_quoting_round_trips_and_validates(tmp_path: Path) -> None:
    entry = linux.desktop_entry(AWKWARD)
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert _unquote_exec(exec_line.removeprefix("Exec=")) == AWKWARD
    path = tmp_path / "awkward.desktop"
    path.write_text(entry)
    _validate(path)
    with pytest.raises(ValueError, match="control characters"):
        linux.desktop_entry(["/bin/evil\nHidden=true"])


def test_linux_default_command_is_absolute() -> None:
    argv = autostart.command()
    assert os.path.isabs(argv[0]) and argv[-1] == "run"


# ---------------------------------------------------------------------------
# Linux: systemd user unit


def test_systemd_unit_text() -> None:
    assert linux.systemd_unit(["/home/me/.local/bin/uv-drive-guard", "run", "a b$c%d"]) == (
        "[Unit]\n"
        "Description=uv-drive-guard: warns when uv will break on a drive you plug in\n"
        "PartOf=graphical-session.target\n"
        "After=graphical-session.target\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        'ExecStart=/home/me/.local/bin/uv-drive-guard run "a b$$c%%d"\n'
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "\n"
        "[Install]\n"
        "WantedBy=graphical-session.target\n"
    )
    assert linux.systemd_quote('say "hi" \\o/') == '"say \\"hi\\" \\\\o/"'
    with pytest.raises(ValueError):
        linux.systemd_unit(['/opt/a"b/python', "run"])


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("no systemd-analyze")
    unit = tmp_path / "units" / linux.UNIT
    unit.parent.mkdir()
    unit.write_text(linux.systemd_unit([sys.executable, "-m", "uv_drive_guard", "run", "a b$c%d"]))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [tool, "--user", "verify", unit.name], cwd=unit.parent, env=env, capture_output=True, text=True, check=False
    )
    if "Failed to initialize manager" in done.stderr:
        pytest.skip(f"systemd-analyze cannot run here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr


class FakeSystemctl:
    def __init__(self, answer: int | None, wants: Path | None = None) -> None:
        self.answer, self.wants = answer, wants
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> int | None:
        self.calls.append(list(args))
        if self.answer == 0 and self.wants is not None and args[0] == "enable":
            self.wants.parent.mkdir(parents=True, exist_ok=True)
            self.wants.symlink_to(self.wants.parent.parent / linux.UNIT)
        return self.answer


def test_systemd_enable_and_disable(tmp_path: Path) -> None:
    wants = tmp_path / "cfg" / "systemd" / "user" / "graphical-session.target.wants" / linux.UNIT
    systemctl = FakeSystemctl(0, wants)
    store = _linux(tmp_path, systemctl=systemctl)
    store.enable()  # the XDG entry first: switching to systemd replaces it (never two starts)
    done = store.enable(systemd=True)
    assert done == (
        "wrote ~/cfg/systemd/user/uv-drive-guard.service; removed ~/cfg/autostart/uv-drive-guard.desktop;"
        " enabled uv-drive-guard.service for graphical-session.target"
    )
    assert systemctl.calls == [["daemon-reload"], ["enable", linux.UNIT]]
    assert store.unit_path.read_text() == linux.systemd_unit(["/usr/bin/uv-drive-guard", "run"])
    assert not store.path.exists() and store.state() == "enabled"
    assert store.describe() == "~/cfg/systemd/user/uv-drive-guard.service"
    assert store.disable() == "removed ~/cfg/systemd/user/uv-drive-guard.service"
    assert systemctl.calls[2:] == [["disable", linux.UNIT], ["daemon-reload"]]
    assert not store.unit_path.exists() and not os.path.lexists(wants) and store.state() == "disabled"


def test_systemd_without_systemctl_writes_the_unit_and_says_how(tmp_path: Path) -> None:
    store = _linux(tmp_path, systemctl=FakeSystemctl(None))
    done = store.enable(systemd=True)
    assert done.endswith(
        "to start it at login run: systemctl --user daemon-reload && systemctl --user enable uv-drive-guard.service"
    )
    assert store.unit_path.exists() and store.state() == "written"  # not yet enabled: not switched off either
    assert "systemctl --user enable uv-drive-guard.service" in store.describe()
    login, _ = autostart.status_lines(store, 4242)
    assert login.startswith("start at login: written, not enabled yet (~/cfg/systemd/user/uv-drive-guard.service;")
    assert "switched off" not in login
    assert autostart.status_lines(store, 4242)[1] == "running now: yes (process 4242)"
    store.enable()  # back to the XDG entry: the unit goes
    assert not store.unit_path.exists() and store.state() == "enabled"


# ---------------------------------------------------------------------------
# the facade and the CLI


def test_native_picks_the_system() -> None:
    assert isinstance(autostart.native("linux"), linux.LinuxAutostart)
    assert isinstance(autostart.native("darwin"), macos.MacAutostart)
    assert isinstance(autostart.native("win32"), windows.WindowsAutostart)
    assert autostart.native("sunos5") is None
    assert [autostart.as_status(s) for s in autostart.STATES] == [True, False, False, False, None]


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "uv_drive_guard", "autostart", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG entry is Linux's")
def test_cli_round_trip(tmp_path: Path) -> None:
    entry = tmp_path / ".config" / "autostart" / "uv-drive-guard.desktop"
    off = "start at login: disabled (nothing is written)\nrunning now: no"
    steps = [
        ("status", off),
        ("enable", "wrote ~/.config/autostart/uv-drive-guard.desktop"),
        ("status", "start at login: enabled (~/.config/autostart/uv-drive-guard.desktop)\nrunning now: no"),
        ("disable", "removed ~/.config/autostart/uv-drive-guard.desktop"),
        ("status", off),
        ("enable", "wrote ~/.config/autostart/uv-drive-guard.desktop"),
    ]
    for action, printed in steps:
        done = _cli(action, home=tmp_path)
        assert (done.returncode, done.stdout.strip(), done.stderr) == (0, printed, ""), action
    _validate(entry)
    entry.write_text(entry.read_text() + "Hidden=true\n")
    switched_off = (
        "start at login: written, but switched off in the system's own settings"
        " (~/.config/autostart/uv-drive-guard.desktop)"
    )
    assert _cli("status", home=tmp_path).stdout.splitlines()[0] == switched_off
    assert _cli("frobnicate", home=tmp_path).returncode == 2


def test_cli_unsupported_system(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(autostart, "native", lambda: None)
    assert cli.main(["autostart", "status"]) == 2
    assert "not supported" in capsys.readouterr().err


def test_cli_reports_a_failed_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _linux(tmp_path)
    store.path.parent.parent.mkdir(parents=True)
    store.path.parent.write_text("a file where the folder should be")
    monkeypatch.setattr(autostart, "native", lambda: store)
    assert cli.main(["autostart", "enable"]) == 1
    assert capsys.readouterr().err.startswith("uv-drive-guard: ")


# ---------------------------------------------------------------------------
# macOS: LaunchAgent through a recording launchctl

PRINT_DISABLED = """disabled services = {
\t"com.apple.ScreenReaderUIServer" => disabled
\t"io.github.uv-drive-guard" => {state}
}
login item associations = {{
}}
"""


class FakeLaunchctl:
    """launchctl(1) as macOS 13+ answers: `print-disabled gui/<uid>` lists "label" => enabled/disabled,
    `print` of an unknown service exits 113 ("Could not find service"), bootstrap/bootout load and unload."""

    def __init__(self, *, disabled: str = "enabled", loaded: bool = False) -> None:
        self.disabled, self.loaded = disabled, loaded
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> tuple[int, str]:
        self.calls.append(list(args))
        if args[0] == "print-disabled":
            return 0, PRINT_DISABLED.replace("{state}", self.disabled)
        if args[0] == "print":
            return (0, "state = running") if self.loaded else (113, "Could not find service")
        self.loaded = args[0] == "bootstrap"
        return 0, ""


def _mac(tmp_path: Path, launchctl: FakeLaunchctl, **environ: str) -> macos.MacAutostart:
    return macos.MacAutostart(
        str(tmp_path),
        uid=501,
        argv=lambda: ["/Users/me/.local/bin/uv-drive-guard", "run"],
        launchctl=launchctl,
        environ=environ,
    )


def test_macos_enable_writes_and_bootstraps(tmp_path: Path) -> None:
    launchctl = FakeLaunchctl()
    store = _mac(tmp_path, launchctl)
    assert store.state() == "disabled"
    done = store.enable()
    plist = tmp_path / "Library" / "LaunchAgents" / "io.github.uv-drive-guard.plist"
    assert done == "wrote ~/Library/LaunchAgents/io.github.uv-drive-guard.plist; loaded into gui/501"
    assert plistlib.loads(plist.read_bytes()) == {
        "Label": "io.github.uv-drive-guard",
        "ProgramArguments": ["/Users/me/.local/bin/uv-drive-guard", "run"],
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    assert stat.S_IMODE(plist.stat().st_mode) == 0o644
    assert launchctl.calls == [
        ["print-disabled", "gui/501"],
        ["print", "gui/501/io.github.uv-drive-guard"],
        ["bootstrap", "gui/501", str(plist)],
    ]
    assert (store.state(), store.status()) == ("enabled", True)
    assert store.describe() == "~/Library/LaunchAgents/io.github.uv-drive-guard.plist, loaded"


def test_macos_disable_boots_out_and_removes(tmp_path: Path) -> None:
    launchctl = FakeLaunchctl()
    store = _mac(tmp_path, launchctl)
    store.enable()
    launchctl.calls.clear()
    assert (
        store.disable()
        == "unloaded io.github.uv-drive-guard; removed ~/Library/LaunchAgents/io.github.uv-drive-guard.plist"
    )
    assert launchctl.calls == [
        ["print", "gui/501/io.github.uv-drive-guard"],
        ["bootout", "gui/501/io.github.uv-drive-guard"],
    ]
    assert not store.path.exists() and store.state() == "disabled"


def test_macos_inside_the_agent_never_boots_itself_out(tmp_path: Path) -> None:
    launchctl = FakeLaunchctl(loaded=True)
    store = _mac(tmp_path, launchctl, XPC_SERVICE_NAME="io.github.uv-drive-guard")
    assert store.enable().endswith("; already loaded in launchd")
    store.disable()
    assert [c[0] for c in launchctl.calls] == ["print-disabled"] and not store.path.exists()


@pytest.mark.parametrize("word", ["disabled", "true"])  # macOS 11+ and older
def test_macos_switched_off_in_login_items(tmp_path: Path, word: str) -> None:
    launchctl = FakeLaunchctl(disabled=word)
    store = _mac(tmp_path, launchctl)
    done = store.enable()
    assert "launchctl enable gui/501/io.github.uv-drive-guard" in done
    assert "bootstrap" not in [c[0] for c in launchctl.calls]
    assert (store.state(), store.status()) == ("disabled-by-system", False)


def test_macos_print_disabled_parsing() -> None:
    text = PRINT_DISABLED.replace("{state}", "enabled") + '\t"com.example.old" => true\n\t"com.example.on" => false\n'
    assert macos.disabled_labels(text) == {
        "com.apple.ScreenReaderUIServer": True,
        "io.github.uv-drive-guard": False,
        "com.example.old": True,
        "com.example.on": False,
    }


def test_macos_broken_plist_is_unknown(tmp_path: Path) -> None:
    store = _mac(tmp_path, FakeLaunchctl())
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b"<plist><dict><key>Label")
    assert store.state() == "unknown"
    store.path.write_bytes(plistlib.dumps({"Label": "someone.else"}))
    assert store.state() == "unknown"


# ---------------------------------------------------------------------------
# Windows: the Run key through a recording registry


class FakeRegistry:
    """HKCU in memory; value names ignore case as the registry's do (Microsoft's "Structure of the
    Registry"); every write and delete is recorded."""

    def __init__(self, values: dict[tuple[str, str], tuple[object, int]] | None = None) -> None:
        self.values = values or {}
        self.calls: list[tuple[str, ...]] = []

    def read(self, key: str, name: str) -> tuple[object, int] | None:
        return self.values.get((key, name.upper()))

    def write(self, key: str, name: str, value: str) -> None:
        self.calls.append(("write", key, name, value))
        self.values[(key, name.upper())] = (value, 1)

    def delete(self, key: str, name: str) -> None:
        self.calls.append(("delete", key, name))
        del self.values[(key, name.upper())]


PYTHONW = "C:\\Program Files\\Python312\\pythonw.exe"
RUN = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\uv-drive-guard"


def _approved(first: int) -> dict[tuple[str, str], tuple[object, int]]:
    return {(windows.APPROVED_KEY, "UV-DRIVE-GUARD"): (bytes([first]) + bytes(11), 3)}


def _windows(registry: FakeRegistry, start: windows.Start, launcher: Path | None = None) -> windows.WindowsAutostart:
    where = str(launcher) if launcher is not None else "/nonexistent/autostart.pyw"
    return windows.WindowsAutostart(registry=registry, start=lambda: start, launcher=lambda: where)


def test_windows_enable_and_disable() -> None:
    registry = FakeRegistry()
    store = _windows(registry, windows.Start((PYTHONW, "-m", "uv_drive_guard", "run")))
    assert store.state() == "disabled"
    line = f'"{PYTHONW}" -m uv_drive_guard run'
    assert store.enable() == f"set {RUN} = {line}"
    assert registry.calls == [("write", windows.RUN_KEY, "uv-drive-guard", line)]
    assert (store.state(), store.status(), store.describe()) == ("enabled", True, RUN)
    assert store.disable() == f"removed {RUN}"
    assert registry.calls[-1] == ("delete", windows.RUN_KEY, "uv-drive-guard")
    assert store.state() == "disabled" and store.disable().startswith("nothing to remove")


@pytest.mark.parametrize(
    ("first", "state"),
    [(0x02, "enabled"), (0x06, "enabled"), (0x03, "disabled-by-system"), (0x07, "disabled-by-system")],
)
def test_windows_startup_approved(first: int, state: str) -> None:
    registry = FakeRegistry({(windows.RUN_KEY, "UV-DRIVE-GUARD"): ('"x.exe" run', 1), **_approved(first)})
    assert windows.WindowsAutostart(registry=registry).state() == state
    registry.values.pop((windows.RUN_KEY, "UV-DRIVE-GUARD"))
    assert windows.WindowsAutostart(registry=registry).state() == "disabled"  # Task Manager's switch alone runs nothing


def test_windows_startup_approved_values() -> None:
    assert windows.approved_state(None) == "enabled"  # Task Manager never touched it
    assert windows.approved_state((b"", 3)) == "unknown"
    assert windows.approved_state(("02", 1)) == "unknown"


def test_windows_enable_keeps_task_managers_switch() -> None:
    registry = FakeRegistry(_approved(0x03))
    store = _windows(registry, windows.Start((PYTHONW, "run")))
    assert store.enable().endswith("switched off in Task Manager > Startup apps: turn it on there")
    assert [c[1] for c in registry.calls] == [windows.RUN_KEY]  # never the StartupApproved value
    assert (store.state(), store.status()) == ("disabled-by-system", False)


def test_windows_unreadable_registry_is_unknown() -> None:
    class Broken(FakeRegistry):
        def read(self, key: str, name: str) -> tuple[object, int] | None:
            raise PermissionError("access denied")

    assert windows.WindowsAutostart(registry=Broken()).status() is None


def pe_image(subsystem: int, *, pe32_plus: bool = True) -> bytes:
    """A minimal PE image as Microsoft's "PE Format" lays it out (constructed, not a real
    program): DOS header with e_lfanew at 0x3C, "PE\\0\\0", a 20-byte COFF header, then the
    optional header whose magic is 0x20B (PE32+) or 0x10B (PE32) and Subsystem at offset 68."""
    e_lfanew = 0x80
    image = bytearray(0x200)
    image[:2] = b"MZ"
    struct.pack_into("<I", image, 0x3C, e_lfanew)
    image[e_lfanew : e_lfanew + 4] = b"PE\0\0"
    optional = e_lfanew + 4 + 20
    struct.pack_into("<H", image, optional, 0x20B if pe32_plus else 0x10B)
    struct.pack_into("<H", image, optional + 68, subsystem)
    return bytes(image)


@pytest.mark.parametrize("pe32_plus", [True, False])
def test_pe_subsystem(tmp_path: Path, pe32_plus: bool) -> None:
    for subsystem in (2, 3):
        exe = tmp_path / f"{subsystem}.exe"
        exe.write_bytes(pe_image(subsystem, pe32_plus=pe32_plus))
        assert windows.pe_subsystem(str(exe)) == subsystem
    (tmp_path / "text.exe").write_bytes(b"#!/bin/sh\n")
    assert windows.pe_subsystem(str(tmp_path / "text.exe")) is None
    assert windows.pe_subsystem(str(tmp_path / "missing.exe")) is None


BASE = "C:\\Users\\ana\\AppData\\Roaming\\uv\\python\\cpython-3.12-windows-x86_64-none"
VENV = "C:\\Users\\ana\\AppData\\Roaming\\uv\\tools\\uv-drive-guard"


def machine(gui: set[str], console: set[str], files: dict[str, str] | None = None) -> dict[str, Any]:
    """Which programs exist and what subsystem each has; pyvenv.cfg files by path."""
    texts = files or {}

    def read_text(path: str) -> str:
        if path not in texts:
            raise FileNotFoundError(path)
        return texts[path]

    return {
        "exists": lambda p: p in gui | console,
        "subsystem": lambda p: 2 if p in gui else 3 if p in console else None,
        "read_text": read_text,
    }


def test_windows_command_plain_python() -> None:
    python = "C:\\Program Files\\Python312\\python.exe"
    found = windows.windows_command(python, **machine({PYTHONW}, {python}))
    assert found == windows.Start((PYTHONW, "-m", "uv_drive_guard", "run"))
    assert windows.windows_command(python, **machine(set(), {python})).argv[0] == python


LAUNCHER = "C:\\Users\\ana\\AppData\\Local\\uv-drive-guard\\autostart.pyw"


def test_windows_command_in_a_uv_venv_uses_the_base_pythonw() -> None:
    """uv #19226: up to 0.12.3 a uv venv's Scripts\\pythonw.exe is the same console trampoline as
    python.exe; the base pythonw.exe runs a launcher file that adds the venv's packages."""
    python, trampoline = f"{VENV}\\Scripts\\python.exe", f"{VENV}\\Scripts\\pythonw.exe"
    cfg = {f"{VENV}\\pyvenv.cfg": f"home = {BASE}\nimplementation = CPython\nuv = 0.11.8\n"}
    found = windows.windows_command(
        python, **machine({f"{BASE}\\pythonw.exe"}, {python, trampoline}, cfg), launcher=lambda: LAUNCHER
    )
    assert found.argv == (f"{BASE}\\pythonw.exe", LAUNCHER, "run")
    assert found.launcher is not None
    calls = [n for n in ast.walk(ast.parse(found.launcher)) if isinstance(n, ast.Call)]
    added = next(c for c in calls if ast.unparse(c.func) == "site.addsitedir")
    assert ast.literal_eval(added.args[0]) == f"{VENV}\\Lib\\site-packages"  # backslashes kept
    assert found.launcher.endswith("from uv_drive_guard.cli import main\n\nsys.exit(main(sys.argv[1:]))\n")
    executable = next(
        a
        for a in ast.walk(ast.parse(found.launcher))
        if isinstance(a, ast.Assign) and ast.unparse(a.targets[0]) == "sys.executable"
    )
    assert ast.literal_eval(executable.value) == python  # later runs (the tray's switch, uv --python) see the venv
    assert found.launcher.index("sys.executable") < found.launcher.index("from uv_drive_guard")
    line = windows.command_line(found.argv)
    assert _argv_w(line) == list(found.argv)  # survives CommandLineToArgvW


def test_windows_command_in_a_cpython_venv_keeps_its_windowed_launcher() -> None:
    python, launcher = f"{VENV}\\Scripts\\python.exe", f"{VENV}\\Scripts\\pythonw.exe"
    found = windows.windows_command(python, **machine({launcher}, {python}))
    assert found == windows.Start((launcher, "-m", "uv_drive_guard", "run"))


def test_windows_command_from_the_frozen_console_twin() -> None:
    folder = "C:\\Users\\ana\\AppData\\Local\\Programs\\uv-drive-guard"
    gui, cli = f"{folder}\\uv-drive-guard.exe", f"{folder}\\uv-drive-guard-cli.exe"
    assert windows.windows_command(cli, frozen=True, exists=lambda p: p in {gui, cli}).argv == (gui, "run")
    assert windows.windows_command(gui, frozen=True, exists=lambda p: p in {gui, cli}).argv == (gui, "run")


def _argv_w(line: str) -> list[str]:
    """CommandLineToArgvW for the arguments after the program: 2n backslashes and a quote toggle quoting."""
    args: list[str] = []
    current: list[str] | None = None
    quoted = False
    i = 0
    while i < len(line):
        slashes = len(line[i:]) - len(line[i:].lstrip("\\"))
        if slashes:
            if line[i + slashes : i + slashes + 1] == '"':
                current = (current or []) + ["\\" * (slashes // 2)] + (['"'] if slashes % 2 else [])
                quoted = quoted if slashes % 2 else not quoted
                i += slashes + 1
            else:
                current = (current or []) + ["\\" * slashes]
                i += slashes
        elif line[i] == '"':
            current, quoted = current or [], not quoted
            i += 1
        elif line[i] in " \t" and not quoted:
            if current is not None:
                args.append("".join(current))
            current = None
            i += 1
        else:
            current = (current or []) + [line[i]]
            i += 1
    if current is not None:
        args.append("".join(current))
    return args


ARGS = ["plain", "two words", 'say "hi"', "C:\\dir with space\\", "tail\\\\", "", 'a\\"b', 'x"', "\\\\server\\share"]


def test_windows_argument_quoting_round_trips() -> None:
    line = windows.command_line(["C:\\Program Files\\x\\pythonw.exe", *ARGS])
    assert line.startswith('"C:\\Program Files\\x\\pythonw.exe" ')
    assert _argv_w(line) == ["C:\\Program Files\\x\\pythonw.exe", *ARGS]
    assert [windows.quote_argument(a) for a in ARGS[:2]] == [subprocess.list2cmdline([a]) for a in ARGS[:2]]
    with pytest.raises(ValueError):
        windows.command_line(['C:\\x"\\pythonw.exe', "run"])


def test_the_base_pythonw_start_really_runs_the_cli(tmp_path: Path) -> None:
    """The launcher, run here by a Python without its site-packages (-S), finds the package only
    through the added site directory and its .pth file, as the venv's would give it."""
    python = f"{VENV}\\Scripts\\python.exe"
    cfg = {f"{VENV}\\pyvenv.cfg": f"home = {BASE}\n"}
    found = windows.windows_command(
        python, **machine({f"{BASE}\\pythonw.exe"}, {python}, cfg), launcher=lambda: LAUNCHER
    )
    site_dir = tmp_path / "site-packages"
    site_dir.mkdir()
    daemon = Path(windows.__file__).resolve().parents[3]
    (site_dir / "venv.pth").write_text(f"{daemon}\n{sysconfig.get_paths()['purelib']}\n")
    assert found.launcher is not None
    launcher = tmp_path / "autostart.pyw"
    launcher.write_text(found.launcher.replace(repr(f"{VENV}\\Lib\\site-packages"), repr(str(site_dir))))
    done = subprocess.run(
        [sys.executable, "-S", str(launcher), "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("uv-drive-guard ")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG entry is Linux's")
def test_cli_status_says_whether_the_daemon_runs(tmp_path: Path) -> None:
    """A process holding the daemon's single-instance lock is what `running now` reports; a stale
    pid file left by a daemon that died is not."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": str(runtime)}
    hold = (
        "import sys, time; from uv_drive_guard.app.desktop import SingleInstance; "
        "assert SingleInstance().acquire(); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        done = subprocess.run(
            [sys.executable, "-m", "uv_drive_guard", "autostart", "status"],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert done.stdout.splitlines() == [
            "start at login: disabled (nothing is written)",
            f"running now: yes (process {holder.pid})",
        ]
    finally:
        holder.kill()
        holder.wait()
    (runtime / "uv-drive-guard" / "uv-drive-guard.pid").write_text(f"{holder.pid}\n")  # it died holding it
    done = subprocess.run(
        [sys.executable, "-m", "uv_drive_guard", "autostart", "status"], capture_output=True, text=True, env=env
    )
    assert done.stdout.splitlines()[-1] == "running now: no"


# Profiles as long as Windows makes them: a 20-character account name (the limit for a local
# account) with its domain, as `C:\Users\<name>.<DOMAIN>` is made when a profile name is taken.
PROFILE = "C:\\Users\\jose.fernandez-lo.CONTOSO-EMEA"
INSTALLS = {
    # `uv tool install uv-drive-guard` with a uv-managed Python, a uv before 0.12.4 (console pythonw)
    "uv tool, uv <= 0.12.3": (
        f"{PROFILE}\\AppData\\Roaming\\uv\\tools\\uv-drive-guard",
        f"{PROFILE}\\AppData\\Roaming\\uv\\python\\cpython-3.12.11-windows-x86_64-none",
        False,
    ),
    "uv tool, uv >= 0.12.4": (
        f"{PROFILE}\\AppData\\Roaming\\uv\\tools\\uv-drive-guard",
        f"{PROFILE}\\AppData\\Roaming\\uv\\python\\cpython-3.12.11-windows-x86_64-none",
        True,
    ),
    "pipx, python.org Python": (
        f"{PROFILE}\\pipx\\venvs\\uv-drive-guard",
        f"{PROFILE}\\AppData\\Local\\Programs\\Python\\Python312",
        True,
    ),
}


@pytest.mark.parametrize("install", list(INSTALLS))
def test_the_run_value_fits_windows_limit_with_long_real_paths(install: str, tmp_path: Path) -> None:
    venv, home, windowed = INSTALLS[install]
    python, pythonw = f"{venv}\\Scripts\\python.exe", f"{venv}\\Scripts\\pythonw.exe"
    gui = {f"{home}\\pythonw.exe", *([pythonw] if windowed else [])}
    console = {python, *([] if windowed else [pythonw])}
    launcher = f"{PROFILE}\\AppData\\Local\\uv-drive-guard\\autostart.pyw"
    start = windows.windows_command(
        python, **machine(gui, console, {f"{venv}\\pyvenv.cfg": f"home = {home}\n"}), launcher=lambda: launcher
    )
    registry = FakeRegistry()
    store = windows.WindowsAutostart(registry=registry, start=lambda: start, launcher=lambda: str(tmp_path / "a.pyw"))
    store.enable()
    [(_, _, _, value)] = registry.calls
    assert len(value) <= windows.RUN_VALUE_LIMIT, f"{len(value)} characters: {value}"
    assert _argv_w(value) == list(start.argv)
    assert (tmp_path / "a.pyw").exists() == (not windowed)


def test_a_run_value_windows_would_cut_is_refused(tmp_path: Path) -> None:
    registry = FakeRegistry()
    deep = "C:\\" + "\\".join(["a-folder-with-a-long-name"] * 12) + "\\pythonw.exe"
    store = _windows(registry, windows.Start((deep, "-m", "uv_drive_guard", "run")), tmp_path / "a.pyw")
    with pytest.raises(ValueError, match="characters, and Windows runs at most 260"):
        store.enable()
    assert registry.calls == []


def test_the_launcher_is_written_before_the_value_and_goes_with_it(tmp_path: Path) -> None:
    registry, launcher = FakeRegistry(), tmp_path / "data" / "autostart.pyw"
    store = _windows(registry, windows.Start((PYTHONW, str(launcher), "run"), "print('hi')\n"), launcher)
    store.enable()
    assert launcher.read_text() == "print('hi')\n"
    store.disable()
    assert not launcher.exists() and registry.calls[-1][0] == "delete"
