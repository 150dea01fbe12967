"""The Windows and macOS probes as the real calls behave, side effects included, end to end.

The seed case (uv #11233) on a Windows exFAT stick: `_winapi.CreateJunction` leaves the link
directory behind when the file system refuses the reparse point, the clean-up must remove it as
the directory it is, and the probe's results must survive to the diagnosis (UVD001, uv < 0.6.0).
"""

from __future__ import annotations

import errno
import functools
import os
from dataclasses import replace
from pathlib import Path

import pytest
from tests.unit.case_files import CASES, load, snapshot
from tests.unit.recorded import format_message, win_error, windows_rename

from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.model import Capabilities, Volume
from uv_drive_guard.edges import probe as probing
from uv_drive_guard.edges.probe import _macos as macos
from uv_drive_guard.edges.probe import _windows as probe

INCORRECT_FUNCTION = "Incorrect function. (os error 1)"


def create_junction_like_winapi(*, reparse_points: bool):
    """`_winapi.CreateJunction(src_path, dst_path)` as CPython implements it (Modules/_winapi.c,
    `_winapi_CreateJunction_impl`): GetFileAttributesW(src_path) must succeed, then
    CreateDirectoryW(dst_path) creates the link directory, then DeviceIoControl(
    FSCTL_SET_REPARSE_POINT) turns it into a junction. Every failure jumps to `cleanup:`, which
    closes the token and the handle and raises the last error: it never calls RemoveDirectoryW,
    so after a refused reparse point (exFAT, FAT: ERROR_INVALID_FUNCTION) the empty directory
    stays. On success the nearest thing to a junction here is a directory symlink."""

    def make(src_path: str, dst_path: str) -> None:
        if not os.path.exists(src_path):
            raise win_error(2, errno=2)  # GetFileAttributesW: ERROR_FILE_NOT_FOUND
        try:
            os.mkdir(dst_path)  # CreateDirectoryW
        except FileExistsError:
            raise win_error(183, errno=17) from None  # ERROR_ALREADY_EXISTS
        if not reparse_points:
            raise win_error(1)  # DeviceIoControl on exFAT/FAT; the directory is left in place
        os.rmdir(dst_path)
        os.symlink(src_path, dst_path, target_is_directory=True)

    return make


def test_fake_leaves_the_directory_like_winapi(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    with pytest.raises(OSError) as raised:
        create_junction_like_winapi(reparse_points=False)(str(tmp_path / "target"), str(tmp_path / "link"))
    assert raised.value.winerror == 1  # type: ignore[attr-defined]
    assert (tmp_path / "link").is_dir() and not (tmp_path / "link").is_symlink()


def test_junction_refused_on_exfat_cleans_the_leftover_directory(tmp_path: Path) -> None:
    fake = create_junction_like_winapi(reparse_points=False)
    assert probe.junction(tmp_path, make_junction=fake, strerror=format_message) == (False, 1, INCORRECT_FUNCTION)
    assert os.listdir(tmp_path) == []


def test_junction_made_on_ntfs_is_removed(tmp_path: Path) -> None:
    fake = create_junction_like_winapi(reparse_points=True)
    assert probe.junction(tmp_path, make_junction=fake, strerror=format_message) == (True, None, None)
    assert os.listdir(tmp_path) == []
    assert (tmp_path / "target").exists() is False


def test_a_failing_cleanup_never_replaces_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' os.rmdir on a directory something still holds open: ERROR_SHARING_VIOLATION."""

    def busy(path: object) -> None:
        raise win_error(32, errno=13)

    monkeypatch.setattr(probe.os, "rmdir", busy)
    fake = create_junction_like_winapi(reparse_points=False)
    assert probe.junction(tmp_path, make_junction=fake, strerror=format_message) == (False, 1, INCORRECT_FUNCTION)


def exfat_operations() -> dict[str, probe.Operation]:
    """Each Windows call as exFAT answers it: no hard links, no symlinks (ERROR_INVALID_FUNCTION),
    no reparse points; MoveFileExW and LockFileEx work (exFAT has byte-range locks)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise win_error(1)

    def granted(fd: int, exclusive: bool) -> int:
        return 0

    ops = {
        "hardlink": functools.partial(probe.hardlink, link=refuse, strerror=format_message),
        "symlink_file": functools.partial(probe.symlink_file, symlink=refuse, strerror=format_message),
        "symlink_dir": functools.partial(probe.symlink_dir, symlink=refuse, strerror=format_message),
        "junction": functools.partial(
            probe.junction, make_junction=create_junction_like_winapi(reparse_points=False), strerror=format_message
        ),
        "rename_noreplace": functools.partial(probe.rename_noreplace, rename=windows_rename),
        "flock_shared": functools.partial(probe.flock_shared, lock=granted),
        "flock_exclusive": functools.partial(probe.flock_exclusive, lock=granted),
        "case_sensitive": probe.case_sensitive,
        "canonicalize": probe.canonicalize,
    }
    assert set(ops) == set(probe.OPERATIONS)
    return ops


@pytest.fixture(autouse=True)
def _tmp_dir_is_the_stick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe checks that the drive is still mounted; here a temporary directory plays it."""
    monkeypatch.setattr(probing, "_mounted", lambda mountpoint: os.stat(mountpoint).st_dev)


def probe_stick(tmp_path: Path) -> Capabilities:
    stick = Volume(mountpoint=str(tmp_path), device="E:\\", fstype="exfat", removable=True)
    return probing.probe(stick, runner=lambda scratch: probe.run(scratch, exfat_operations()), timeout=10)


def test_the_seed_case_survives_the_probe(tmp_path: Path) -> None:
    caps = probe_stick(tmp_path)
    assert caps.probed and caps.note is None
    assert caps.get("junction") is False and caps.error("junction") == INCORRECT_FUNCTION
    assert caps.errno("junction") == 1
    for op in ("hardlink", "symlink_file", "symlink_dir"):
        assert (caps.get(op), caps.error(op)) == (False, INCORRECT_FUNCTION)
    assert caps.get("rename_noreplace") is True
    assert caps.get("flock_shared") is True and caps.get("flock_exclusive") is True
    assert isinstance(caps.get("case_sensitive"), bool)
    assert os.listdir(tmp_path) == []  # the scratch directory and the junction's leftover went

    case = load(CASES / "UVD001.toml")
    base = snapshot(case)
    stick = next(v for v in base.volumes if v.mountpoint == "E:\\")
    volumes = tuple(v if v is not stick else replace(stick, capabilities=caps) for v in base.volumes)
    found = diagnose(replace(base, volumes=volumes))
    uvd001 = [f for f in found if f.code == "UVD001"]
    assert len(uvd001) == 1 and uvd001[0].location and uvd001[0].location.path == "E:\\uv-cache"
    assert INCORRECT_FUNCTION in (uvd001[0].uv_message or "")

    upgraded = replace(base, volumes=volumes, uv=replace(base.uv, version="0.6.0"))
    assert not [f for f in diagnose(upgraded) if f.code == "UVD001"]  # PR #11269: pointer files


def test_one_raising_step_is_not_known_alone(tmp_path: Path) -> None:
    def broken(scratch: Path) -> probe.Result:
        raise AttributeError("function 'LockFileEx' not found")

    def gone(scratch: Path) -> probe.Result:
        raise win_error(21, errno=22)  # ERROR_NOT_READY: the card was pulled mid-probe

    ops = {**exfat_operations(), "flock_shared": broken, "hardlink": gone}
    results = probe.run(tmp_path, ops)
    assert results["flock_shared"] == (None, None, "AttributeError: function 'LockFileEx' not found")
    assert results["hardlink"][:2] == (None, 21)
    assert results["junction"] == (False, 1, INCORRECT_FUNCTION)
    assert results["flock_exclusive"] == (True, None, None)


def test_windows_native_runner_is_the_guarded_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probing.sys, "platform", "win32")
    assert probing._native_runner() is probe.run


# macOS ---------------------------------------------------------------------------------


def test_macos_steps_are_guarded_one_by_one(tmp_path: Path) -> None:
    """renameatx_np exists from macOS 10.12; on an older libSystem ctypes raises AttributeError
    for the symbol (ctypes' CDLL.__getattr__): that step alone becomes "not known"."""

    def no_symbol(src: str, dst: str) -> int:
        raise AttributeError("dlsym(RTLD_DEFAULT, renameatx_np): symbol not found")

    ops = {
        "reflink": functools.partial(macos.reflink, clone=lambda src, dst: errno.ENOTSUP),
        "rename_noreplace": functools.partial(macos.rename_noreplace, rename=no_symbol),
        "appledouble": functools.partial(macos.appledouble, setxattr=lambda path, name: 0),
    }
    results = macos.run(tmp_path, ops, portable=lambda scratch: {"hardlink": (True, None, None)})
    assert results["rename_noreplace"][0] is None
    assert "symbol not found" in str(results["rename_noreplace"][2])
    assert results["reflink"][:2] == (False, errno.ENOTSUP)
    assert results["appledouble"] == (False, None, None)
    assert results["hardlink"] == (True, None, None)


def test_macos_portable_setup_failure_keeps_the_macos_steps(tmp_path: Path) -> None:
    def full(scratch: Path) -> dict[str, probe.Result]:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    ops = {"reflink": functools.partial(macos.reflink, clone=lambda src, dst: 0)}
    results = macos.run(tmp_path, ops, portable=full)
    assert results["hardlink"] == (None, errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} (os error {errno.ENOSPC})")
    assert set(macos.PORTABLE) <= set(results)
    assert results["reflink"] == (True, None, None)


def test_macos_native_runner_is_the_guarded_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probing.sys, "platform", "darwin")
    assert probing._native_runner() is macos.run
