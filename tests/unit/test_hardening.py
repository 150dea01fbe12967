"""Each smaller thing that was wrong, checked against the real thing where it runs here: the
scope of fixed disks, fish's and bash's own reading of startup files, paths a drive names,
files that are not files, and an upgrade of a uv the distribution installed."""

from __future__ import annotations

import ntpath
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from tests import builders
from tests.realfs.drives import need_real

from uv_drive_guard.core import scope
from uv_drive_guard.core.model import (
    Change,
    ChangeKind,
    Fix,
    Os,
    Snapshot,
    UvInfo,
    UvUpgrade,
    Volume,
)
from uv_drive_guard.core.shellparse import parse_shell
from uv_drive_guard.edges import bounded, safeio, settings, untrusted, venvs
from uv_drive_guard.fixing import plan, uvinstall


def _volume(device: str, mountpoint: str = "/srv/data") -> Volume:
    return Volume(mountpoint, device, "ext4", removable=False)


def test_include_fixed_takes_local_disks_only() -> None:
    def external(volume: Volume, include_fixed: bool = True) -> bool:
        return scope.external(Os.LINUX, volume, include_fixed=include_fixed)

    assert external(_volume("/dev/sdb1"))
    assert external(_volume("E:\\", "E:\\"))
    assert not external(_volume("tmpfs"))  # was True: `startswith(...) is not None`
    assert not external(_volume("//nas/share"))
    assert not external(_volume("/dev/sdb1"), include_fixed=False)


def _fish(home: Path, command: str) -> str:
    fish = shutil.which("fish")
    if fish is None:
        need_real("fish is not installed")
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    done = subprocess.run([str(fish), "-c", command], env=env, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout.strip()


def test_fish_reads_conf_d_before_config_fish(tmp_path: Path) -> None:
    conf = tmp_path / ".config" / "fish"
    (conf / "conf.d").mkdir(parents=True)
    (conf / "conf.d" / "uv.fish").write_text("set -gx UV_CACHE_DIR /from/conf.d\n")
    (conf / "config.fish").write_text("set -gx UV_CACHE_DIR /from/config.fish\n")
    found = [d for d in settings.shell_definitions(str(tmp_path), {}) if d.name == "UV_CACHE_DIR"]
    assert [d.value for d in found] == ["/from/conf.d", "/from/config.fish"]  # the last one wins
    assert _fish(tmp_path, "echo $UV_CACHE_DIR") == found[-1].value


@pytest.mark.parametrize(
    "word",
    [r"\$HOME/c", r'"\$HOME/c"', '"${HOME}/a:b"', "${HOME}/a:b", r"My\ Drive/$HOME", r'"a\b$HOME"', "'$HOME'"],
)
def test_bash_words_read_as_bash_reads_them(tmp_path: Path, word: str) -> None:
    bash = shutil.which("bash")
    if bash is None:
        need_real("bash is not installed")
    line = f"export UV_CACHE_DIR={word}"
    env = {"HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    real = subprocess.run(
        [str(bash), "-c", f'{line}; printf %s "$UV_CACHE_DIR"'], env=env, capture_output=True, text=True, check=True
    ).stdout
    (definition,) = parse_shell(line, file="x", names={"UV_CACHE_DIR"}, known={"HOME": str(tmp_path)})
    assert definition.value == real


def test_dynamic_words_stay_unknown() -> None:
    for word in ('"${HOME:-/x}/c"', "${#HOME}", '"$1/c"', "$(pwd)/c", "`pwd`/c"):
        (definition,) = parse_shell(
            f"export UV_CACHE_DIR={word}", file="x", names={"UV_CACHE_DIR"}, known={"HOME": "/h"}
        )
        assert definition.value is None, word


# --- paths a drive names --------------------------------------------------------------------

LOCAL = [("/", "ext4"), ("/boot", "vfat"), ("/net", "autofs"), ("/mnt/nfs", "nfs4"), ("/media/u/S", "exfat")]


def test_untrusted_paths_are_never_statted_off_local_volumes() -> None:
    calls: list[str] = []

    def stat(path: str) -> os.stat_result:
        calls.append(path)
        return os.stat("/")

    for path in ("//host/share/python", "\\\\host\\share\\python", "/net/host/bin", "/mnt/nfs/py/bin", "bin/python"):
        assert untrusted.exists(path, directory=True, mounts=LOCAL, stat=stat) is None, path
    assert calls == []
    assert untrusted.exists("/usr/bin", directory=True, mounts=LOCAL, stat=stat) is True
    assert untrusted.exists("/media/u/S/venv", mounts=LOCAL, stat=stat) is True
    assert calls == ["/usr/bin", "/media/u/S/venv"]


def test_an_automount_under_an_already_mounted_local_disk_is_still_refused() -> None:
    mounts = [("/", "ext4"), ("/home", "autofs"), ("/home", "ext4"), ("/home/shared", "autofs")]
    assert untrusted.touchable("/home/u/.pyenv/bin", mounts)  # the autofs mount is covered by ext4
    assert not untrusted.touchable("/home/shared/python", mounts)


def test_windows_unc_paths_as_ntpath_reads_them() -> None:
    for path in (r"\\host\share\py", "//host/share/py", r"\\?\UNC\host\share\py", r"\\.\UNC\host\s", "\\/host/s"):
        assert untrusted.is_unc(path), path
        assert ntpath.splitdrive(path)[0] or path.startswith("\\\\?\\"), path
        assert not untrusted.windows_local_candidate(path), path
    for path in (r"C:\Python312", r"\\?\C:\Python312", "D:/py"):
        assert not untrusted.is_unc(path), path
        assert untrusted.windows_local_candidate(path), path
    for path in (r"Python312", r"C:Python312", r"\\.\pipe\x", r"\Python312"):
        assert not untrusted.windows_local_candidate(path), path


def test_a_venv_naming_a_share_is_not_looked_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = //evil-host/share/python\nuv = 0.13.9\n")
    (venv / "bin" / "pip").write_text("#!/net/evil/python3\n")
    monkeypatch.setattr(untrusted, "mount_table", lambda: [("/", "ext4"), ("/net", "autofs")])
    touched: list[str] = []
    real_stat = os.stat
    monkeypatch.setattr(untrusted.os, "stat", lambda p, *a, **k: touched.append(str(p)) or real_stat(p, *a, **k))
    artefact = venvs.venv_artefact(str(venv), str(tmp_path))
    assert artefact.home == "//evil-host/share/python" and artefact.home_exists is None
    assert artefact.script_interpreter == "/net/evil/python3" and artefact.script_interpreter_exists is None
    assert touched == []


# --- files that are not files -----------------------------------------------------------------


def test_safe_reader_skips_pipes_and_sockets_without_blocking(tmp_path: Path) -> None:
    fifo, sock_path, link = tmp_path / "pyproject.toml", tmp_path / "uv.toml", tmp_path / "pyvenv.cfg"
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    (tmp_path / "real.toml").write_text("x = 1\n")
    link.symlink_to(tmp_path / "real.toml")
    with safeio.collect() as notes:
        assert settings.read_text(fifo) is None
        assert settings.read_text(sock_path) is None
        assert settings.read_text(link) is None  # a drive's symlink is not followed
        assert settings.read_text(link, follow=True) == "x = 1\n"  # the user's dotfile link is
    assert notes == [
        f"{fifo} is a named pipe: skipped, not read",
        f"{sock_path} is a socket: skipped, not read",
        f"{link} is a symbolic link: skipped, not read",
    ]
    assert safeio.read_bytes(tmp_path / "real.toml", 3) == b"x = "  # bounded: limit + 1


def test_a_walk_given_up_is_never_started_twice() -> None:
    import threading
    import time

    release = threading.Event()
    started: list[int] = []
    workers: bounded.Workers[str] = bounded.Workers("walk")

    def stuck() -> str:
        started.append(1)
        release.wait(10)
        return "late"

    assert workers.run("/media/S", stuck, 0.05) == (False, None)
    assert workers.run("/media/S", stuck, 0.05) == (False, None)
    assert started == [1] and workers.stuck() == ("/media/S",)
    workers.reap(["/media/S"])  # the drive went; the next one there gets its own walk at once
    assert workers.run("/media/S", lambda: "fresh", 1) == (True, "fresh")
    assert workers.run("/media/S", stuck, 0.05) == (False, None)
    workers.reap(["/media/S"])
    assert workers.run("/media/S", stuck, 0.05) == (False, None) and len(started) == 2  # two stuck: no third
    release.set()
    deadline = time.monotonic() + 5
    while workers.stuck() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers.stuck() == ()
    assert workers.run("/media/S", lambda: "again", 1) == (True, "again")


# --- upgrading a uv the distribution installed --------------------------------------------------


def _upgrade_plan(uv: str) -> plan.Plan:
    snapshot = Snapshot(os=Os.LINUX, uv=UvInfo("uv 0.10.3", uv), volumes=(), locations=(), home="/home/u")
    change = Change(ChangeKind.RUN, target=UvUpgrade(), summary="upgrade uv to >= 0.10.4")
    fix = Fix("uvd009-upgrade-uv-x", "Upgrade uv", "d", (change,))
    finding = builders.finding("UVD009", fixes=(fix,))
    return plan.build(finding, fix, plan.Machine(snapshot, {}, None))


def test_upgrade_of_a_dpkg_uv_tells_the_apt_command() -> None:
    if shutil.which("dpkg-query") is None or not Path("/usr/bin/bash").exists():
        need_real("no dpkg here")
    owned = subprocess.run(["dpkg-query", "-S", "/bin/bash"], capture_output=True, text=True, check=False)
    if owned.returncode != 0:
        need_real("bash is not a dpkg package here")
    # stands in for a dpkg-installed uv; dpkg has /bin/bash on record, reached as /usr/bin/bash
    the_plan = _upgrade_plan("/usr/bin/bash")
    assert the_plan.commands == ()
    assert the_plan.manual == (
        "uv was installed by dpkg (package bash): upgrade it with `sudo apt install --only-upgrade bash`",
    )


def test_upgrade_never_pips_into_an_externally_managed_python(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib" / "python3.11").mkdir(parents=True)
    for name in ("uv", "python"):
        (tmp_path / "bin" / name).write_text("")
    assert _upgrade_plan(str(tmp_path / "bin" / "uv")).commands[0][1:] == ("-m", "pip", "install", "--upgrade", "uv")
    (tmp_path / "lib" / "python3.11" / "EXTERNALLY-MANAGED").write_text("[externally-managed]\n")
    the_plan = _upgrade_plan(str(tmp_path / "bin" / "uv"))
    assert the_plan.commands == ()
    assert "EXTERNALLY-MANAGED" in the_plan.manual[0] and "not pip" in the_plan.manual[0]


def test_owner_reads_each_manager() -> None:
    def fake(answer: str) -> uvinstall.Runner:
        return lambda argv: subprocess.CompletedProcess(argv, 0, answer, "")

    if shutil.which("dpkg-query"):
        assert uvinstall.owner("/usr/bin/uv", fake("uv: /usr/bin/uv\n")) == ("dpkg", "uv")


def test_a_fix_whose_file_became_a_pipe_is_refused_not_hung(tmp_path: Path) -> None:
    from uv_drive_guard.fixing import engine
    from uv_drive_guard.fixing.journal import Journal

    target = tmp_path / "pyproject.toml"
    os.mkfifo(target)
    finding = builders.finding()
    fix = Fix("uvd006-x", "t", "d", ())
    the_plan = plan.Plan(finding, fix, (plan.FileEdit(str(target), b"[tool.uv]\n", b"[tool.uv]\nx = 1\n", ()),))
    with pytest.raises(engine.FixError, match="is a named pipe, not a file; it was not changed"):
        engine.apply(the_plan, Journal(tmp_path / "journal"))
