"""A real PyInstaller build (installers/linux/pyinstaller.spec, onedir) that is then run: the
frozen program must scan, print its version, and find its defaults and icons in the bundle.

The spec shares its lists (entry, data files, hidden imports) with the macOS and Windows specs
through installers/shared/freeze.py, so this build checks those lists too. About 15-30 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.realfs.drives import need_real

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "installers" / "linux" / "pyinstaller.spec"
NAME = "uv-drive-guard"
BUILD_TIMEOUT = 600.0
KEYS = {"schema", "uv", "volumes", "locations", "findings"}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dist/uv-drive-guard/ of a fresh build (one per test run)."""
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        need_real("PyInstaller is not installed")
    if not sys.platform.startswith("linux"):
        pytest.skip("the Linux spec builds on Linux; the macOS and Windows specs need their own systems")
    work = tmp_path_factory.mktemp("pyinstaller")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    command += ["--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC)]
    done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    yield work / "dist" / NAME


def _env(tmp_path: Path) -> dict[str, str]:
    """A home of its own: no user settings file can change what the frozen program does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_CONFIG", "XDG_STATE", "UV_"))}
    env["HOME"] = str(tmp_path / "home")
    return env


def _frozen(bundle: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle / NAME), *args], capture_output=True, text=True, env=_env(tmp_path), timeout=120, check=False
    )


def test_frozen_version(bundle: Path, tmp_path: Path) -> None:
    from uv_drive_guard import __version__

    done = _frozen(bundle, tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{NAME} {__version__}"


def test_frozen_scan_json(bundle: Path, tmp_path: Path) -> None:
    place = tmp_path / "somedir"
    place.mkdir()
    done = _frozen(bundle, tmp_path, "scan", "--json", str(place))
    # 2 would mean a usage or internal error, e.g. "default.toml is missing from the installation"
    assert done.returncode in (0, 1), done.stderr
    document = json.loads(done.stdout)
    assert document.keys() >= KEYS
    unfrozen = subprocess.run(
        [sys.executable, "-m", "uv_drive_guard", "scan", "--json", str(place)],
        capture_output=True, text=True, env={**_env(tmp_path), "PYTHONPATH": str(ROOT / "daemon")},
        timeout=120, check=False,
    )  # fmt: skip
    assert document.keys() == json.loads(unfrozen.stdout).keys()
    assert document["schema"] == json.loads(unfrozen.stdout)["schema"]


def test_bundle_holds_defaults_and_icons(bundle: Path) -> None:
    internal = bundle / "_internal"  # sys._MEIPASS of a onedir build
    assert (internal / "config" / "default.toml").read_bytes() == (ROOT / "config" / "default.toml").read_bytes()
    for icon in sorted((ROOT / "icons").iterdir()):
        if icon.suffix in {".png", ".ico", ".icns"}:
            assert (internal / "icons" / icon.name).read_bytes() == icon.read_bytes(), icon.name
    assert (internal / "desktop_notifier" / "resources" / "python.png").is_file()


def test_frozen_lookup_finds_them(bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """icon_dir() and _defaults_path() as they run frozen: __file__ inside _MEIPASS, no repository."""
    from uv_drive_guard import config
    from uv_drive_guard.app import icons

    internal = bundle / "_internal"
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(icons, "__file__", str(internal / "uv_drive_guard" / "app" / "icons.pyc"))
    monkeypatch.setattr(config, "__file__", str(internal / "uv_drive_guard" / "config.pyc"))
    assert icons.icon_dir.__wrapped__() == internal / "icons"
    assert config._defaults_path() == internal / "config" / "default.toml"


def test_bundle_has_the_daemon_modules(bundle: Path) -> None:
    """The modules `run` imports lazily or by name are frozen too, not only what `scan` needs."""
    from PyInstaller.archive.readers import CArchiveReader

    frozen = set(CArchiveReader(str(bundle / NAME)).open_embedded_archive("PYZ.pyz").toc)
    wanted = {
        "uv_drive_guard.app.main", "uv_drive_guard.app.tray", "uv_drive_guard.app.notify",
        "uv_drive_guard.app.watch", "uv_drive_guard.app.autostart", "uv_drive_guard.app.autostart._linux",
        "uv_drive_guard.fixing.engine", "pystray", "desktop_notifier.backends.dbus", "watchdog.observers",
        "platformdirs.unix", "uv_drive_guard.edges.proc", "filelock", "filelock._native._unix",
        "uv_drive_guard.app.trayhost", "uv_drive_guard.app.sni.icon", "pystray._dummy", "dbus_fast.aio",
    }  # fmt: skip
    assert wanted <= frozen, sorted(wanted - frozen)
    assert not {"tkinter", "pytest", "hypothesis", "mypy"} & {name.split(".")[0] for name in frozen}
