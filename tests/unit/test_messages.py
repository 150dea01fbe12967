"""uv's wording changed between versions; the predicted message follows the installed uv."""

from __future__ import annotations

from uv_drive_guard.core import messages
from uv_drive_guard.core.model import Capabilities, Location, Os, Role, Source, SourceKind, Volume
from uv_drive_guard.core.rules import cache, filesystem

EXFAT = Volume(
    "/media/STICK",
    "/dev/sdb1",
    "exfat",
    capabilities=Capabilities(
        results=(("symlink_file", False), ("rename_noreplace", False)),
        errors=(("symlink_file", "Function not implemented (os error 38)"),),
        probed=True,
    ),
)
VENV = Location(Role.PROJECT_ENVIRONMENT, "/media/STICK/p/.venv", Source(SourceKind.DEFAULT))


def test_cause_prefix_changed_in_0_12_14() -> None:
    # Bisected with real uv: `uv venv /proc/nope/venv` prints `Caused by:` up to 0.12.13.
    assert messages.cause_prefix((0, 12, 13)) == "  Caused by: "
    assert messages.cause_prefix((0, 12, 14)) == "  cause: "
    assert messages.cause_prefix(None) == "  cause: "


def test_symlink_paths_swapped_in_0_9_27() -> None:
    old = filesystem.no_symlinks_text(VENV, EXFAT, Os.LINUX, (0, 9, 18)).uv_message
    new = filesystem.no_symlinks_text(VENV, EXFAT, Os.LINUX, (0, 13, 9)).uv_message
    assert "from /usr/bin/python3 to /media/STICK/p/.venv/bin/python" in old
    assert "from /media/STICK/p/.venv/bin/python to /usr/bin/python3: Function not implemented" in new


def test_role_names_are_not_mangled() -> None:
    loc = Location(Role.CACHE, "/media/STICK/c", Source(SourceKind.DEFAULT))
    assert cache.cache_unusable_text(loc, EXFAT).detail.startswith("uv's cache is at")
