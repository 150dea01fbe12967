"""The walk, the uv query and the settings readers against real files in a throwaway tree."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from uv_drive_guard.core.model import ArtefactKind, Os, SourceKind
from uv_drive_guard.edges import settings, uvcli, walk


def _venv(path: Path, home: str, shebang: str) -> None:
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = {home}\nuv = 0.13.9\nversion_info = 3.11.7\n")
    (path / "bin" / "tool").write_text(f"#!{shebang}\nimport sys\n")


def test_walk_finds_projects_venvs_and_caches(tmp_path: Path) -> None:
    project = tmp_path / "work" / "app"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.uv]\nlink-mode = "copy"\n')
    _venv(project / ".venv", sys.base_prefix + "/bin", sys.executable)
    cache = tmp_path / "uv-cache"
    (cache / "archive-v0").mkdir(parents=True)
    (cache / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55")
    result = walk.walk(str(tmp_path), str(tmp_path))
    kinds = {(a.kind, Path(a.path).name) for a in result.artefacts}
    assert kinds == {
        (ArtefactKind.PROJECT, "app"),
        (ArtefactKind.VENV, ".venv"),
        (ArtefactKind.CACHE, "uv-cache"),
    }
    app = next(a for a in result.artefacts if a.kind is ArtefactKind.PROJECT)
    assert app.config_file == str(project / "pyproject.toml")
    assert [(d.name, d.value, d.source.line) for d in app.settings] == [("link-mode", "copy", 5)]
    venv = next(a for a in result.artefacts if a.kind is ArtefactKind.VENV)
    assert venv.uv_version == "0.13.9" and venv.script_interpreter_exists is True


def test_walk_sees_a_venv_whose_python_moved(tmp_path: Path) -> None:
    _venv(tmp_path / "old", "/media/OLD/python/bin", "/media/OLD/proj/.venv/bin/python3")
    venv = walk.walk(str(tmp_path), str(tmp_path)).artefacts[0]
    assert venv.home_exists is False and venv.script_interpreter_exists is False


def test_drive_level_uv_toml_applies_to_projects_below(tmp_path: Path) -> None:
    (tmp_path / "uv.toml").write_text('cache-dir = "/media/STICK/.uv-cache"\n')
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\n')
    (project / "uv.lock").write_text("")
    found = walk.walk(str(tmp_path), str(tmp_path)).artefacts
    project_artefact = next(a for a in found if a.path == str(project))
    assert project_artefact.config_file == str(tmp_path / "uv.toml")
    assert project_artefact.settings[0].source.kind is SourceKind.UV_TOML_PROJECT


def test_walk_is_bounded_and_survives_loops_and_locked_dirs(tmp_path: Path) -> None:
    deep = tmp_path
    for level in range(30):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "uv.lock").write_text("")
    (deep / "pyproject.toml").write_text("[tool.uv]\n")
    os.symlink(tmp_path, tmp_path / "loop")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = walk.walk(str(tmp_path), str(tmp_path), walk.Budget(max_depth=6))
    finally:
        locked.chmod(stat.S_IRWXU)
    assert result.artefacts == []  # too deep to reach
    wide = tmp_path / "wide"
    wide.mkdir()
    for n in range(300):
        (wide / f"f{n}").touch()
    cut = walk.walk(str(tmp_path), str(tmp_path), walk.Budget(max_entries=100))
    assert cut.truncated and "entries" in cut.truncated


def test_malformed_toml_is_no_project_settings(tmp_path: Path) -> None:
    (tmp_path / "uv.toml").write_bytes(b"cache-dir = \xff\xfe [[[")
    assert settings.config_definitions(tmp_path / "uv.toml", SourceKind.UV_TOML_PROJECT) == []


def test_shell_files_and_environment_d_are_read_in_order(tmp_path: Path) -> None:
    (tmp_path / ".profile").write_text("export UV_CACHE_DIR=/first\n")
    (tmp_path / ".bashrc").write_text('export UV_CACHE_DIR="$HOME/second"\n')
    envd = tmp_path / ".config" / "environment.d"
    envd.mkdir(parents=True)
    (envd / "uv.conf").write_text("UV_LINK_MODE=copy\n")
    found = settings.persisted_definitions(Os.LINUX, str(tmp_path), {})
    assert [(d.name, d.value, Path(d.source.file or "").name) for d in found] == [
        ("UV_LINK_MODE", "copy", "uv.conf"),
        ("UV_CACHE_DIR", "/first", ".profile"),
        ("UV_CACHE_DIR", f"{tmp_path}/second", ".bashrc"),
    ]


def test_uv_config_file_and_no_config(tmp_path: Path) -> None:
    user = tmp_path / ".config" / "uv"
    user.mkdir(parents=True)
    (user / "uv.toml").write_text('link-mode = "copy"\n')
    other = tmp_path / "other.toml"
    other.write_text('cache-dir = "/x"\n')
    home = str(tmp_path)
    assert [d.name for d in settings.user_and_system_config(Os.LINUX, home, {})][:1] == ["link-mode"]
    only = settings.user_and_system_config(Os.LINUX, home, {"UV_CONFIG_FILE": str(other)})
    assert [(d.name, d.source.kind) for d in only] == [("cache-dir", SourceKind.UV_CONFIG_FILE)]
    assert settings.user_and_system_config(Os.LINUX, home, {"UV_NO_CONFIG": "1"}) == []


def test_a_uv_on_a_drive_is_never_run(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "uv"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\ntouch " + str(tmp_path / "ran") + "\n")
    fake.chmod(0o755)
    env = {"PATH": str(fake.parent)}
    assert uvcli.find_uv(env, forbidden=[str(tmp_path)]) is None
    assert not (tmp_path / "ran").exists()
    assert uvcli.find_uv(env, forbidden=["/media/elsewhere"]) == str(fake)


def test_the_installed_uv_reports_its_version() -> None:
    uv = uvcli.find_uv({"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")})
    if uv is None:
        pytest.skip("uv is not installed beside this Python")
    info = uvcli.ask(uv, dict(os.environ), confirm=True)
    assert info.version and info.version.startswith("uv ")
    assert dict(info.reported).keys() >= {"cache", "tool", "python"}


def test_walk_finds_tool_and_python_dirs(tmp_path: Path) -> None:
    tool = tmp_path / "tools" / "ruff"
    tool.mkdir(parents=True)
    (tool / "uv-receipt.toml").write_text("[tool]\n")
    (tool / "pyvenv.cfg").write_text("home = /usr/bin\n")
    pythons = tmp_path / "python"
    (pythons / "cpython-3.12.7-linux-x86_64-gnu").mkdir(parents=True)
    (pythons / ".lock").touch()
    kinds = {(a.kind, Path(a.path).name) for a in walk.walk(str(tmp_path), str(tmp_path)).artefacts}
    assert kinds == {(ArtefactKind.TOOL_DIR, "tools"), (ArtefactKind.PYTHON_DIR, "python")}


def test_uv_and_our_resolution_agree_in_a_clean_home(tmp_path: Path) -> None:
    """The oracle: real uv's own `cache dir`, `tool dir`, `python dir` match what we resolve."""
    from uv_drive_guard import scan
    from uv_drive_guard.core.render import disagreements

    uv_dir = str(Path(sys.executable).parent)
    if uvcli.find_uv({"PATH": uv_dir}) is None:
        pytest.skip("uv is not installed beside this Python")
    env = {"HOME": str(tmp_path), "PATH": uv_dir + ":/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "xc")}
    snapshot = scan.gather(
        env, scan.Options(paths=(str(tmp_path),), probe=False, confirm_with_uv=True), cwd=str(tmp_path)
    )
    reported = dict(snapshot.uv.reported)
    assert reported["cache"] == str(tmp_path / "xc" / "uv")
    assert disagreements(snapshot) == ()
