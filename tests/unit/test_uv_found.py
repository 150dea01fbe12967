"""The daemon finds uv where its installers put it, and never takes an unknown uv for a current one.

A daemon started at login has a short PATH: launchd gives agents /usr/bin:/bin:/usr/sbin:/sbin.
uv's standalone installer puts uv in ~/.local/bin since 0.5.0 (uv changelog, #8420; before that
~/.cargo/bin), Homebrew in /opt/homebrew/bin or /usr/local/bin, WinGet in its Links folder. Not
found, uv's version was unknown, and an unknown version counted as current: version-gated rules
(R7: uv before 0.9.18 on macOS exFAT) were never reported.
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.case_files import load, snapshot

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import Os, UvInfo
from uv_drive_guard.edges import uvcli

CASES = Path(__file__).resolve().parents[1] / "cases"
LAUNCHD_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"


def fake_uv(folder: Path, version: str = "0.9.17") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    uv = folder / "uv"
    uv.write_text(f"#!{sys.executable}\nprint('uv {version} (fake)')\n")
    uv.chmod(0o755)
    return uv


def test_a_login_daemon_finds_the_standalone_installers_uv(tmp_path: Path) -> None:
    home = tmp_path / "home"
    uv = fake_uv(home / ".local" / "bin")
    env = {"PATH": LAUNCHD_PATH, "HOME": str(home)}
    assert uvcli.find_uv(env) == str(uv)
    assert uvcli.ask(uvcli.find_uv(env), env, confirm=False).version == "uv 0.9.17 (fake)"


def test_path_comes_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fake_uv(home / ".local" / "bin")
    first = fake_uv(tmp_path / "on-path", "0.13.9")
    assert uvcli.find_uv({"PATH": f"{first.parent}:{LAUNCHD_PATH}", "HOME": str(home)}) == str(first)


def test_the_installers_receipt_names_a_custom_place(tmp_path: Path) -> None:
    """UV_INSTALL_DIR: the receipt the installer writes (cargo-dist's uv-receipt.json) says where."""
    home = tmp_path / "home"
    custom = fake_uv(tmp_path / "tools" / "uv-bin")
    receipt = home / ".config" / "uv" / "uv-receipt.json"
    receipt.parent.mkdir(parents=True)
    receipt.write_text(
        json.dumps({"install_prefix": str(custom.parent), "install_layout": "flat", "version": "0.9.17"})
    )
    assert uvcli.find_uv({"PATH": LAUNCHD_PATH, "HOME": str(home)}) == str(custom)


def test_cargos_bin_and_a_uv_on_a_drive(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = fake_uv(home / ".cargo" / "bin")
    env = {"PATH": LAUNCHD_PATH, "HOME": str(home)}
    assert uvcli.find_uv(env) == str(old)
    assert uvcli.find_uv(env, forbidden=[str(home)]) is None  # found, but never run from a drive


def test_macos_places() -> None:
    env = {"HOME": "/Users/ana", "XDG_DATA_HOME": "/Users/ana/data"}
    assert uvcli.install_places(env, Os.MACOS) == [
        "/Users/ana/bin",
        "/Users/ana/.local/bin",
        "/Users/ana/.cargo/bin",
        "/opt/homebrew/bin",
        "/usr/local/bin",
    ]


def test_windows_places() -> None:
    env = {  # as os.environ has them on Windows: upper-cased names (CPython Lib/os.py, encodekey)
        "USERPROFILE": "C:\\Users\\José",
        "LOCALAPPDATA": "C:\\Users\\José\\AppData\\Local",
        "PROGRAMFILES": "C:\\Program Files",
        "CARGO_HOME": "D:\\cargo",
    }
    winget = "C:\\Users\\José\\AppData\\Local\\Microsoft\\WinGet"
    package = f"{winget}\\Packages\\astral-sh.uv_Microsoft.Winget.Source_8wekyb3d8bbwe"
    globbed: list[str] = []

    def glob(pattern: str) -> list[str]:
        globbed.append(pattern)
        return [package] if pattern.startswith(winget) else []

    assert uvcli.install_places(env, Os.WINDOWS, glob=glob) == [
        "C:\\Users\\José\\.local\\bin",
        "D:\\cargo\\bin",
        f"{winget}\\Links",
        package,
        "C:\\Program Files\\WinGet\\Links",
    ]
    assert globbed == [f"{winget}\\Packages\\astral-sh.uv_*", "C:\\Program Files\\WinGet\\Packages\\astral-sh.uv_*"]


@pytest.mark.parametrize(
    ("case", "code", "title"),
    [
        ("UVD007.toml", "UVD007", "uv before 0.9.18 cannot create lock files on STICK (exFAT); uv 0.9.18 can"),
        ("UVD001.toml", "UVD001", "uv before 0.6 cannot keep its cache on"),
    ],
)
def test_an_unknown_uv_is_not_taken_for_a_current_one(case: str, code: str, title: str) -> None:
    snap = snapshot(load(CASES / case))
    unknown = replace(snap, uv=UvInfo(None, None))
    found = [f for f in diagnose(unknown) if f.code == code]
    assert found and found[0].title.startswith(title)
    assert "version could not be read" in found[0].detail
    assert any(fix.id.startswith(f"{code.lower()}-upgrade-uv") for fix in found[0].fixes)
