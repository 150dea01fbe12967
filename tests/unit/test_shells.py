"""The one list of what a person's shells read (core.shells), and the edge that gathers its facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from uv_drive_guard.core import shells
from uv_drive_guard.core.model import Os
from uv_drive_guard.core.shellparse import parse_powershell, powershell_value
from uv_drive_guard.core.shells import Facts, Shell, Stage
from uv_drive_guard.edges import settings
from uv_drive_guard.edges import shells as shell_facts

HOME = "/home/ana"


def _facts(*names: str, os_: Os = Os.LINUX, login: Shell | None = Shell.BASH, **kwargs: object) -> Facts:
    existing = frozenset(name if name.startswith("/") else f"{HOME}/{name}" for name in names)
    return Facts(os_, HOME, login_shell=login, existing=existing, **kwargs)  # type: ignore[arg-type]


def _paths(files: tuple[shells.ShellFile, ...]) -> list[str]:
    return [f.path.removeprefix(HOME + "/") for f in files]


def test_bash_reads_the_first_login_file_then_bashrc() -> None:
    facts = _facts(".bash_login", ".profile", ".bashrc")
    order = shells.read_order(facts)
    # .profile for the session (display managers read it), then bash: .bash_login wins over .profile
    assert _paths(order) == [".profile", ".bash_login", ".bashrc"]
    assert [f.stage for f in order] == [Stage.SESSION, Stage.LOGIN, Stage.INTERACTIVE]


def test_bash_profile_hides_bash_login() -> None:
    assert _paths(shells.read_order(_facts(".bash_profile", ".bash_login", ".bashrc"))) == [".bash_profile", ".bashrc"]


def test_zsh_follows_zdotdir_and_reads_in_zsh_order() -> None:
    zdot = f"{HOME}/.config/zsh"
    facts = _facts(".zshenv", f"{zdot}/.zshrc", f"{zdot}/.zprofile", f"{zdot}/.zlogin", login=Shell.ZSH, zdotdir=zdot)
    assert _paths(shells.read_order(facts)) == [
        ".zshenv",
        ".config/zsh/.zprofile",
        ".config/zsh/.zshrc",
        ".config/zsh/.zlogin",
    ]
    assert _paths(shells.rc_files(facts)) == [".config/zsh/.zshrc"]


def test_fish_conf_d_before_config_fish_under_xdg_config_home() -> None:
    config = "/srv/cfg"
    conf_d = (f"{config}/fish/conf.d/a.fish", f"{config}/fish/conf.d/b.fish")
    facts = _facts(*conf_d, f"{config}/fish/config.fish", login=Shell.FISH, config_home=config, fish_conf_d=conf_d)
    assert [f.path for f in shells.read_order(facts)] == [*conf_d, f"{config}/fish/config.fish"]
    assert [f.path for f in shells.rc_files(facts)] == [f"{config}/fish/config.fish"]


def test_the_login_shell_comes_last_so_its_value_wins() -> None:
    facts = _facts(".bashrc", ".zshrc", login=Shell.ZSH)
    assert shells.shells_in_use(facts) == (Shell.BASH, Shell.ZSH)
    assert _paths(shells.read_order(facts)) == [".bashrc", ".zshrc"]


def test_environment_d_is_the_session_and_comes_first() -> None:
    envd = (f"{HOME}/.config/environment.d/50-uv.conf",)
    order = shells.read_order(_facts(*envd, ".bashrc", environment_d=envd))
    assert [f.syntax for f in order] == ["environment.d", "posix"]
    assert shells.write_targets(_facts(".bashrc"))[0].path == f"{HOME}/.config/environment.d/{shells.ENVD_FILE}"


def test_macos_bash_writes_bash_profile_and_defaults_to_zsh() -> None:
    assert _paths(shells.rc_files(_facts(".bash_profile", os_=Os.MACOS))) == [".bash_profile"]
    assert _paths(shells.rc_files(_facts(os_=Os.MACOS, login=None))) == [".zshrc"]
    assert shells.session_file(_facts(os_=Os.MACOS)) is None


def test_windows_powershell_profiles_per_version() -> None:
    home = "C:\\Users\\ana"
    documents = "D:\\OneDrive\\Documents"
    facts = Facts(Os.WINDOWS, home, login_shell=Shell.POWERSHELL, documents=documents)
    assert [f.path for f in shells.rc_files(facts)] == [
        "D:\\OneDrive\\Documents\\WindowsPowerShell\\Microsoft.PowerShell_profile.ps1"
    ]
    seven = Facts(Os.WINDOWS, home, login_shell=Shell.POWERSHELL, documents=documents,
                  existing=frozenset({"D:\\OneDrive\\Documents\\PowerShell"}))  # fmt: skip
    assert len(shells.rc_files(seven)) == 2
    assert shells.syntax_of(facts, "D:\\x\\profile.ps1") == "powershell"


def test_the_edge_reads_zdotdir_from_zshenv(tmp_path: Path) -> None:
    home = tmp_path
    (home / ".zshenv").write_text('export ZDOTDIR="$HOME/.config/zsh"\n')
    zdot = home / ".config" / "zsh"
    zdot.mkdir(parents=True)
    (zdot / ".zshrc").write_text("export UV_CACHE_DIR=/media/ana/STICK/uv-cache\n")
    facts = shell_facts.facts(Os.LINUX, str(home), {"SHELL": "/usr/bin/zsh"})
    assert facts.zdotdir == str(zdot)
    found = settings.shell_definitions(str(home), {"SHELL": "/usr/bin/zsh"}, Os.LINUX)
    assert [(d.name, d.value, d.source.file) for d in found] == [
        ("UV_CACHE_DIR", "/media/ana/STICK/uv-cache", str(zdot / ".zshrc"))
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("'E:\\uv-cache'", "E:\\uv-cache"),
        ("'it''s'", "it's"),
        ('"$env:LOCALAPPDATA\\uv"', "C:\\Users\\ana\\AppData\\Local\\uv"),
        ('"${env:localappdata}\\uv"  # the cache', "C:\\Users\\ana\\AppData\\Local\\uv"),
        ('"a`"b"', 'a"b'),
        ('"$HOME\\c"', "C:\\Users\\ana\\c"),
        ('"$(Get-Date)"', None),
        ('"$unknown\\c"', None),
        ("Join-Path $HOME 'c'", None),
        ("'unterminated", None),
    ],
)
def test_powershell_values(raw: str, value: str | None) -> None:
    known = {"LOCALAPPDATA": "C:\\Users\\ana\\AppData\\Local", "HOME": "C:\\Users\\ana"}
    assert powershell_value(raw, known) == value


def test_powershell_profile_skips_here_strings_and_block_comments() -> None:
    text = (
        "\ufeff$env:UV_CACHE_DIR = 'E:\\c'\n"
        "$x = @'\n$env:UV_TOOL_DIR = 'E:\\t'\n'@\n"
        "<# $env:UV_LINK_MODE = 'copy'\n#>\n"
        "$Env:uv_link_mode='copy'; Write-Host hi\n"
    )
    found = parse_powershell(text, file="p.ps1", names=("UV_CACHE_DIR", "UV_TOOL_DIR", "UV_LINK_MODE"), known={})
    assert [(d.name, d.value, d.source.line) for d in found] == [
        ("UV_CACHE_DIR", "E:\\c", 1),
        ("UV_LINK_MODE", "copy", 7),
    ]


def test_a_powershell_profile_is_edited_as_powershell() -> None:
    from uv_drive_guard.fixing import shellfile

    text = "Import-Module posh-git\r\n$env:UV_CACHE_DIR = 'E:\\c'\r\n"
    off = shellfile.disable_line(text, 2, "$env:UV_CACHE_DIR = 'E:\\c'", syntax="powershell")
    assert off.splitlines(keepends=True)[1] == "# uv-drive-guard disabled: $env:UV_CACHE_DIR = 'E:\\c'\r\n"
    assert parse_powershell(off, file="p", names=("UV_CACHE_DIR",), known={}) == []
    block = shellfile.set_in_block(off, "UV_CACHE_DIR", "C:\\it's", syntax="powershell")
    found = parse_powershell(block, file="p", names=("UV_CACHE_DIR",), known={})
    assert [d.value for d in found] == ["C:\\it's"]
    assert shellfile.lines_setting(block, "UV_CACHE_DIR", syntax="powershell") == []
