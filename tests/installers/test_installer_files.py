"""The installers' static files are valid for the tools that read them, agree with the names the
autostart code uses, and the Linux scripts work, run against a stand-in `uv` (no network)."""

from __future__ import annotations

import os
import plistlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.realfs.drives import need_real

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installers" / "linux"
MACOS = ROOT / "installers" / "macos"
WINDOWS = ROOT / "installers" / "windows"
DESKTOP = LINUX / "uv-drive-guard.desktop"
SERVICE = LINUX / "uv-drive-guard.service"
AGENT = MACOS / "io.github.uv-drive-guard.plist"
SCRIPTS = [LINUX / "install.sh", LINUX / "uninstall.sh", MACOS / "build.sh"]
LABEL = "io.github.uv-drive-guard"


def _keys(text: str, group: str) -> dict[str, str]:
    """Key=value lines of one [group] (desktop entries and systemd units share the syntax)."""
    keys: dict[str, str] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = line.strip("[]")
        elif current == group:
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), value.strip())
    return keys


# --- desktop entry -------------------------------------------------------------


def test_desktop_entry_passes_desktop_file_validate() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        need_real("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    done = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "error" not in done.stdout, done.stdout + done.stderr


def test_desktop_entry_has_the_lines_install_sh_rewrites() -> None:
    keys = _keys(DESKTOP.read_text(encoding="utf-8"), "Desktop Entry")
    assert keys["Type"] == "Application"
    assert keys["Exec"] == "uv-drive-guard run"
    assert keys["TryExec"] == "uv-drive-guard"
    assert keys["Icon"] == "uv-drive-guard"  # the name install.sh gives the hicolor icons
    assert keys["Terminal"] == "false"


# --- systemd user unit -------------------------------------------------------


def test_systemd_unit_is_bound_to_the_graphical_session() -> None:
    text = SERVICE.read_text(encoding="utf-8")
    unit, service, install = (_keys(text, group) for group in ("Unit", "Service", "Install"))
    assert unit["PartOf"] == unit["After"] == "graphical-session.target"
    assert install["WantedBy"] == "graphical-session.target"
    assert service["ExecStart"].endswith("/uv-drive-guard run")
    assert service["Restart"] == "on-failure"
    assert "systemctl --user import-environment" in text
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        assert name in text


def test_systemd_unit_agrees_with_the_one_autostart_writes() -> None:
    from uv_drive_guard.app.autostart import _linux as _autostart_linux

    assert SERVICE.name == _autostart_linux.UNIT
    ours = SERVICE.read_text(encoding="utf-8")
    theirs = _autostart_linux.systemd_unit(["/x/uv-drive-guard", "run"])
    for group in ("Unit", "Service", "Install"):
        wanted = {k: v for k, v in _keys(theirs, group).items() if k not in {"ExecStart", "Description"}}
        assert wanted.items() <= _keys(ours, group).items(), group


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed; the text checks above stand in")
    home, runtime = tmp_path / "home", tmp_path / "run"
    program = home / ".local" / "bin" / "uv-drive-guard"  # %h/.local/bin/uv-drive-guard must exist
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    runtime.mkdir(mode=0o700)
    unit = tmp_path / SERVICE.name
    shutil.copy(SERVICE, unit)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    done = subprocess.run(
        [tool, "--user", "verify", str(unit)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 and "Failed to initialize manager" in output:
        pytest.skip(f"systemd-analyze cannot run a user manager here: {output.strip()}")
    assert done.returncode == 0, output
    assert "Unknown" not in output and "bad" not in output.lower(), output


# --- macOS LaunchAgent and bundle -------------------------------------------


def test_launch_agent_template_parses_and_matches_what_autostart_writes() -> None:
    from uv_drive_guard.app.autostart import _macos as _autostart_macos

    agent = plistlib.loads(AGENT.read_bytes())
    program = "/Applications/uv-drive-guard.app/Contents/MacOS/uv-drive-guard"
    assert agent["Label"] == LABEL == _autostart_macos.LABEL
    assert AGENT.name == f"{LABEL}.plist"
    assert agent["ProgramArguments"] == [program, "run"]
    assert agent["RunAtLoad"] is True
    assert agent == plistlib.loads(_autostart_macos.agent_plist([program, "run"]))


def test_macos_spec_makes_a_menu_bar_bundle() -> None:
    text = (MACOS / "uv-drive-guard.spec").read_text(encoding="utf-8")
    compile(text, "uv-drive-guard.spec", "exec")
    for needle in ('"LSUIElement": True', "freeze.BUNDLE_ID", 'f"{freeze.NAME}.app"', '"app.icns"', "console=False"):
        assert needle in text
    sys.path.insert(0, str(ROOT / "installers" / "shared"))
    try:
        import freeze
    finally:
        sys.path.pop(0)
    assert freeze.BUNDLE_ID == LABEL


def test_an_unsigned_bundle_gets_notifications_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """What build.sh says of signing, checked against desktop-notifier's own choice of backend:
    in a bundle whose signature does not verify it still picks UserNotifications, and warns."""
    import platform
    import types

    import desktop_notifier.main
    from packaging.version import Version

    support = types.ModuleType("desktop_notifier.backends.macos_support")
    support.is_bundle = lambda: True  # type: ignore[attr-defined]
    support.is_signed_bundle = lambda: False  # type: ignore[attr-defined]
    support.macos_version = Version("14.5")  # type: ignore[attr-defined]
    cocoa = types.ModuleType("desktop_notifier.backends.macos")
    cocoa.CocoaNotificationCenter = type("CocoaNotificationCenter", (), {})  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, support.__name__, support)
    monkeypatch.setitem(sys.modules, cocoa.__name__, cocoa)
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    assert desktop_notifier.main.get_backend_class() is cocoa.CocoaNotificationCenter  # type: ignore[attr-defined]
    assert "notifications may fail" in caplog.text
    build = (MACOS / "build.sh").read_text(encoding="utf-8")
    assert '"notifications may fail"' in build and "only uses the UserNotifications framework when" not in build


# --- Windows -----------------------------------------------------------------


def test_windows_installer_names_agree_with_autostart() -> None:
    iss = (WINDOWS / "uv-drive-guard.iss").read_text(encoding="utf-8")
    compile((WINDOWS / "uv-drive-guard.spec").read_text(encoding="utf-8"), "uv-drive-guard.spec", "exec")
    assert "PrivilegesRequired=lowest" in iss
    assert r"DefaultDirName={localappdata}\Programs" in iss
    # desktop-notifier's winrt backend sends toasts under the app name given in app/notify.py.
    sys.path.insert(0, str(ROOT / "installers" / "shared"))
    try:
        import freeze
    finally:
        sys.path.pop(0)
    from uv_drive_guard.app.notify import Notifier

    assert freeze.APP_USER_MODEL_ID == Notifier().app_name == "uv-drive-guard" != freeze.BUNDLE_ID
    assert f'#define AppUserModelID "{freeze.APP_USER_MODEL_ID}"' in iss
    assert 'AppUserModelID: "{#AppUserModelID}"' in iss
    assert r'Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"' in iss
    assert 'ValueName: "{#AppName}"; ValueData: """{app}\\{#AppExe}"" run"; Flags: uninsdeletevalue' in iss
    source = (ROOT / "daemon" / "uv_drive_guard" / "app" / "autostart" / "_windows.py").read_text(encoding="utf-8")
    assert 'VALUE_NAME = "uv-drive-guard"' in source
    assert 'RUN_KEY = "Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run"' in source


# --- shell scripts -------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_parses_with_sh_n(script: Path) -> None:
    done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert script.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert "set -eu" in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_script_is_shellcheck_clean(script: Path) -> None:
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.skip("shellcheck is not installed")
    done = subprocess.run([tool, "-s", "sh", str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


FAKE_UV = """#!/bin/sh
# A stand-in for uv: records its arguments, "installs" a recording uv-drive-guard.
set -eu
printf '%s\\n' "uv $*" >>"$FAKE_LOG"
tools="$HOME/.local/share/uv/tools"
case "$1 $2" in
    "tool install")
        mkdir -p "$HOME/.local/bin" "$tools/uv-drive-guard/bin"
        printf '#!/bin/sh\\nprintf "%%s\\\\n" "uv-drive-guard $*" >>"$FAKE_LOG"\\n' >"$HOME/.local/bin/uv-drive-guard"
        printf '#!/bin/sh\\nPYTHONPATH="$FAKE_SOURCE" exec "$FAKE_PYTHON" "$@"\\n' >"$tools/uv-drive-guard/bin/python"
        chmod +x "$HOME/.local/bin/uv-drive-guard" "$tools/uv-drive-guard/bin/python" ;;
    "tool dir") if [ "${3:-}" = --bin ]; then echo "$HOME/.local/bin"; else echo "$tools"; fi ;;
    "tool list") echo "uv-drive-guard v0.1.0"; echo "- uv-drive-guard" ;;
    "tool uninstall") rm -rf "$HOME/.local/bin/uv-drive-guard" "$tools/uv-drive-guard" ;;
esac
"""


def _run(script: str, home: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    uv = fake_bin / "uv"
    uv.write_text(FAKE_UV)
    uv.chmod(uv.stat().st_mode | stat.S_IXUSR)
    env = {
        "HOME": str(home),
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_SOURCE": str(ROOT / "daemon"),
        "FAKE_PYTHON": sys.executable,
    }
    return subprocess.run(
        ["sh", str(LINUX / script), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_install_and_uninstall_with_uv(tmp_path: Path) -> None:
    from uv_drive_guard.app.autostart._linux import desktop_quote

    home = tmp_path / "home of $ana"  # quoting: a space and a dollar in every path
    home.mkdir()
    done = _run("install.sh", home, tmp_path, "--from", str(ROOT))
    assert done.returncode == 0, done.stdout + done.stderr
    exe = home / ".local" / "bin" / "uv-drive-guard"
    calls = (tmp_path / "calls.log").read_text().splitlines()
    # No gtk extra unasked: PyGObject builds from source, and SNI trays show the menu without it.
    assert f"uv tool install --reinstall-package uv-drive-guard uv-drive-guard @ file://{ROOT}" in calls
    assert not any("[gtk]" in call for call in calls)
    assert calls[-1] == "uv-drive-guard autostart enable"

    entry = home / ".local" / "share" / "applications" / "uv-drive-guard.desktop"
    keys = _keys(entry.read_text(encoding="utf-8"), "Desktop Entry")
    assert keys["Exec"] == f"{desktop_quote(str(exe))} run"
    assert keys["TryExec"] == str(exe)
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout
    hicolor = home / ".local" / "share" / "icons" / "hicolor"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        icon = hicolor / f"{size}x{size}" / "apps" / "uv-drive-guard.png"
        assert icon.read_bytes() == (ROOT / "icons" / f"app-{size}.png").read_bytes()

    done = _run("uninstall.sh", home, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "uv-drive-guard autostart disable" in calls
    assert calls[-1] == "uv tool uninstall uv-drive-guard"
    assert not entry.exists() and not list(hicolor.rglob("uv-drive-guard.png")) and not exe.exists()
    assert f"{home}/.config/uv-drive-guard/config.toml" in done.stdout
    assert f"{home}/.local/state/uv-drive-guard/journal" in done.stdout
    assert f"{home}/.local/state/uv-drive-guard/log/uv-drive-guard.log" in done.stdout


def test_install_refuses_a_missing_or_foreign_from(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = _run("install.sh", home, tmp_path, "--from", str(tmp_path / "missing.whl"))
    assert done.returncode != 0 and "no such file" in done.stderr
    done = _run("install.sh", home, tmp_path, "--from", str(tmp_path))
    assert done.returncode != 0 and "no pyproject.toml" in done.stderr
    assert not (tmp_path / "calls.log").exists()  # nothing was installed


def test_install_with_gtk_on_request(tmp_path: Path) -> None:
    """--gtk adds the extra for XEmbed-only trays, to the checkout or to the one --from names."""
    home = tmp_path / "home"
    home.mkdir()
    done = _run("install.sh", home, tmp_path, "--gtk", "--no-autostart")
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run("install.sh", home, tmp_path, "--from", str(ROOT), "--gtk", "--no-autostart")
    assert done.returncode == 0, done.stdout + done.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    installs = [call for call in calls if call.startswith("uv tool install")]
    assert installs == [f"uv tool install --reinstall-package uv-drive-guard uv-drive-guard[gtk] @ file://{ROOT}"] * 2
    assert "autostart enable" not in "\n".join(calls)
    assert "--gtk" in _run("install.sh", home, tmp_path, "--help").stdout


def test_install_defaults_to_the_checkout_it_sits_in(tmp_path: Path) -> None:
    """uv-drive-guard is not on PyPI yet: the script installs the checkout around it, no extras."""
    home = tmp_path / "home"
    home.mkdir()
    done = _run("install.sh", home, tmp_path, "--no-autostart")
    assert done.returncode == 0, done.stdout + done.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert [c for c in calls if c.startswith("uv tool install")] == [
        f"uv tool install --reinstall-package uv-drive-guard uv-drive-guard @ file://{ROOT}"
    ]


def test_install_outside_a_checkout_asks_for_from(tmp_path: Path) -> None:
    alone = tmp_path / "somewhere" / "installers" / "linux"
    alone.mkdir(parents=True)
    for name in ("install.sh", "uv-drive-guard.desktop"):
        shutil.copy(LINUX / name, alone / name)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        ["sh", str(alone / "install.sh")], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert done.returncode != 0
    said = f"{tmp_path / 'somewhere'} is not a checkout of uv-drive-guard: pass --from PATH (a checkout or a wheel)"
    assert done.stderr.strip() == f"install.sh: {said}"
