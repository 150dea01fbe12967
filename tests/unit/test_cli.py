"""The command line's contract: exit statuses, --version, --help, usage errors, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from uv_drive_guard import __version__, cli, config


def _run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "uv_drive_guard", *args], capture_output=True, text=True, env=env, check=False
    )


def test_version_and_help(tmp_path: Path) -> None:
    assert _run("--version", home=tmp_path).stdout.strip() == f"uv-drive-guard {__version__}"
    helped = _run("scan", "--help", home=tmp_path)
    assert helped.returncode == 0 and "--json" in helped.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert _run("frobnicate", home=tmp_path).returncode == 2
    assert _run(home=tmp_path).returncode == 2
    missing = _run("scan", str(tmp_path / "nope"), home=tmp_path)
    assert missing.returncode == 2 and "no such path" in missing.stderr


def test_scan_json_of_a_clean_directory(tmp_path: Path) -> None:
    done = _run("scan", "--json", str(tmp_path), home=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert {"schema", "uv", "volumes", "locations", "findings"} <= document.keys()
    assert [f for f in document["findings"] if f["severity"] != "info"] == []


def test_scan_never_imports_the_desktop_stack() -> None:
    code = (
        "import sys, uv_drive_guard.cli, uv_drive_guard.scan;"
        "print([m for m in sys.modules if m.split('.')[0] in ('PIL','pystray','desktop_notifier','watchdog')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_user_settings_are_validated(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[walk]\nmax_depth = 'deep'\n")
    try:
        config.load(bad)
    except config.ConfigError as exc:
        assert "walk.max_depth" in str(exc) and str(bad) in str(exc)
    else:
        raise AssertionError("a wrong type was accepted")
    bad.write_text("[walk]\nmax_deepth = 3\n")
    assert cli.main(["scan", "--config", str(bad), str(tmp_path)]) == 2
    good = tmp_path / "good.toml"
    good.write_text("[walk]\nmax_depth = 3\n")
    assert config.load(good)["walk"]["max_depth"] == 3


def test_settings_errors_name_file_line_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("# mine\n[notify]\nalways = true\nloud = 1\n")
    try:
        config.load(bad)
    except config.ConfigError as exc:
        assert str(exc).startswith(f"{bad}:4: unknown setting `notify.loud`")
    else:
        raise AssertionError("an unknown key was accepted")
