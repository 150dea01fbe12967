"""Property-based fuzzing of the parsers that read untrusted input: the mount table, shell files,
environment.d, TOML and pyvenv.cfg from drives, and the text edits that write values back.

Each property is "never raises, never lets a newline or an unwanted name through, round-trips".
Bounded (max_examples ~200) so the whole file runs in seconds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from uv_drive_guard.core import shelllex
from uv_drive_guard.core.model import SourceKind, Volume
from uv_drive_guard.core.shellparse import parse_environment_d, parse_shell
from uv_drive_guard.edges import venvs
from uv_drive_guard.edges.settings import _parse_toml, config_definitions, has_tool_uv
from uv_drive_guard.edges.volumes import _linux
from uv_drive_guard.edges.volumes._common import PSEUDO
from uv_drive_guard.fixing import envdfile, shellfile, textlines

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = ("UV_CACHE_DIR", "UV_TOOL_DIR", "UV_LINK_MODE", "UV_PROJECT_ENVIRONMENT")
KNOWN = {"HOME": "/home/ana", "USER": "ana"}

# Text that looks like shell: the interesting characters far more often than chance would give.
SHELL_ALPHABET = st.sampled_from(
    [*list("UV_CACHE_DIRTOLNKMabc=$'\"`\\(){}[];&|#~ \t\r\n\x00/:-!*?<>"), "export ", "set -gx ", "\u2028", "\x85", "é"]
)
shell_text = st.one_of(
    st.text(max_size=300),
    st.lists(SHELL_ALPHABET, max_size=120).map("".join),
    st.lists(
        st.tuples(
            st.sampled_from(["", "export ", "declare -x ", "set -gx ", "set -e ", "  "]),
            st.sampled_from((*NAMES, "OTHER", "HOME")),
            st.sampled_from(["=", " ", "= "]),
            st.lists(SHELL_ALPHABET, max_size=30).map("".join),
        ).map("".join),
        max_size=8,
    ).map("\n".join),
)


# --- the mount table -----------------------------------------------------------------------


def _fake_resolver(label: str | None, uuid: str | None, fstype: str | None) -> _linux.Resolver:
    props = {k: v for k, v in {"ID_FS_LABEL": label, "ID_FS_UUID": uuid, "ID_FS_TYPE": fstype}.items() if v}
    return _linux.Resolver(
        udev=lambda device: dict(props),
        blkid=lambda device: {"TYPE": fstype or "", "LABEL": label or ""},
        sector=lambda device: fstype,
        removable=lambda device: None,
        fuse_source=lambda mountpoint: None,
        uuid_link=lambda device: None,
    )


partition = st.builds(
    SimpleNamespace,
    device=st.one_of(st.text(max_size=40), st.sampled_from(["/dev/loop0", "fusefat", "tmpfs", "/dev/sdb1", ""])),
    mountpoint=st.one_of(st.text(max_size=60), st.text(max_size=40).map(lambda s: "/mnt/" + s)),
    fstype=st.one_of(st.text(max_size=20), st.sampled_from(["fuseblk", "fuse.fusefat", "ext4", "proc", "vfat", ""])),
    opts=st.one_of(st.text(max_size=40), st.sampled_from(["ro", "rw,nosuid", "ro,relatime", ""])),
)


@FUZZ
@given(
    parts=st.lists(partition, max_size=8),
    label=st.one_of(st.none(), st.text(max_size=20)),
    uuid=st.one_of(st.none(), st.text(max_size=20)),
    fstype=st.one_of(st.none(), st.text(max_size=12)),
)
def test_list_volumes_takes_any_mount_table(
    parts: list[SimpleNamespace], label: str | None, uuid: str | None, fstype: str | None
) -> None:
    volumes = _linux.list_volumes(
        partitions=lambda _all: list(parts), resolver=_fake_resolver(label, uuid, fstype), mounted=lambda _mp: True
    )
    assert all(isinstance(v, Volume) for v in volumes)
    mountpoints = [v.mountpoint for v in volumes]
    assert len(mountpoints) == len(set(mountpoints)), "one volume per mount point"
    for volume in volumes:
        assert volume.mountpoint, "an empty mount point is skipped"
        assert volume.fstype == volume.fstype.lower()
        shown = [p for p in parts if p.mountpoint == volume.mountpoint and p.fstype not in PSEUDO]
        source = shown[-1]  # a later mount on the same point hides the earlier
        assert volume.read_only == ("ro" in source.opts.split(","))


# --- shell files and environment.d ---------------------------------------------------------


@FUZZ
@given(text=shell_text, fish=st.booleans())
def test_parse_shell_never_raises_and_only_returns_wanted_names(text: str, fish: bool) -> None:
    found = parse_shell(text, file="/home/ana/.bashrc", names=NAMES, known=KNOWN, fish=fish)
    for definition in found:
        assert definition.name in NAMES
        assert definition.value is None or "\n" not in definition.value
        assert definition.source.kind is SourceKind.SHELL_FILE
        assert definition.source.line is not None and definition.source.line >= 1


@FUZZ
@given(text=shell_text)
def test_parse_environment_d_never_raises_and_only_returns_wanted_names(text: str) -> None:
    found = parse_environment_d(text, file="/home/ana/.config/environment.d/uv.conf", names=NAMES, known=KNOWN)
    for definition in found:
        assert definition.name in NAMES
        assert definition.value is None or "\n" not in definition.value
        assert definition.source.kind is SourceKind.ENVIRONMENT_D


# --- TOML and pyvenv.cfg from drives --------------------------------------------------------

TOML_ALPHABET = st.sampled_from(
    [*list("[]{}=\"'.,#\n\r\t \\0123456789abcxyzé"), "tool", "uv", "cache-dir", '"""', "'''"]
)
toml_text = st.one_of(
    st.text(max_size=300),
    st.lists(TOML_ALPHABET, max_size=100).map("".join),
    st.sampled_from(["[tool.uv]\ncache-dir = ", "cache-dir = ", "[tool]\nuv = ", "link-mode = "]).flatmap(
        lambda head: st.lists(TOML_ALPHABET, max_size=40).map(lambda tail: head + "".join(tail))
    ),
)


@FUZZ
@given(text=toml_text)
def test_parse_toml_never_raises(text: str) -> None:
    assert isinstance(_parse_toml(text), dict)


@FUZZ
@given(data=st.one_of(st.binary(max_size=400), toml_text.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_config_definitions_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    for name, kind, pyproject in (
        ("uv.toml", SourceKind.UV_TOML_PROJECT, False),
        ("pyproject.toml", SourceKind.PYPROJECT, True),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        found = config_definitions(path, kind, pyproject=pyproject)
        for definition in found:
            assert definition.name in ("cache-dir", "link-mode", "no-cache")
        assert isinstance(has_tool_uv(path), bool)


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=400), st.lists(st.sampled_from(list("home=uv\n \r\t=\0é")), max_size=80).map("".join)
    )
)
def test_parse_pyvenv_cfg_never_raises(text: str) -> None:
    values = venvs.parse_pyvenv_cfg(text)
    for key, value in values.items():
        assert key == key.strip().lower()
        assert "\n" not in value and "\n" not in key


# --- text edits: the fenced block and quoting ------------------------------------------------

safe_value = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    max_size=60,
)
user_file = st.one_of(
    st.text(max_size=200),
    shell_text,
    st.lists(st.sampled_from(["export A=1", "# comment", "", "if true; then", "fi", "x\r"]), max_size=10).map(
        "\n".join
    ),
)
SYNTAXES: tuple[Any, ...] = ("posix", "fish", "environment.d")


@FUZZ
@given(text=user_file, value=safe_value, syntax=st.sampled_from(SYNTAXES))
def test_set_in_block_then_unset_restores_the_file(text: str, value: str, syntax: Any) -> None:
    assume(textlines.BEGIN not in text and textlines.END not in text)
    lines = shelllex.physical_lines(text)
    # bash never reaches the end, or would read a line added there inside an open quote
    if shelllex.stops_at(lines, syntax) is not None or shelllex.starts(lines, syntax)[-1] not in ("", "\\"):
        with pytest.raises(shellfile.NeverRead):
            shellfile.set_in_block(text, "UV_CACHE_DIR", value, syntax=syntax)
        return
    added = shellfile.set_in_block(text, "UV_CACHE_DIR", value, syntax=syntax)
    assert shellfile.assignment("UV_CACHE_DIR", value, syntax) in added
    assert shellfile.set_in_block(added, "UV_CACHE_DIR", value, syntax=syntax) == added, "a second set is a no-op"
    assert shellfile.set_in_block(added, "UV_CACHE_DIR", None, syntax=syntax) == text


@FUZZ
@given(value=st.text(max_size=80))
def test_quoting_refuses_or_keeps_one_line(value: str) -> None:
    for quote in (shellfile.quote_posix, shellfile.quote_fish, envdfile.envd_value):
        try:
            quoted = quote(value)
        except textlines.UnsafeValue:
            continue
        assert "\n" not in quoted and "\r" not in quoted and "\0" not in quoted


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@settings(max_examples=50, deadline=None)
@given(value=safe_value.filter(lambda v: "\0" not in v))
def test_quote_posix_gives_the_value_back_in_bash(value: str) -> None:
    quoted = shellfile.quote_posix(value)
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", f"printf %s {quoted}"],
        capture_output=True,
        timeout=10,
        check=False,
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == value


@FUZZ
@given(value=safe_value, syntax=st.sampled_from(SYNTAXES))
def test_what_we_write_our_own_scanner_reads_back(value: str, syntax: Any) -> None:
    """A line set_in_block writes must be read back as the same value, or the next scan misjudges it."""
    text = shellfile.set_in_block("", "UV_CACHE_DIR", value, syntax=syntax)
    if syntax == "environment.d":
        found = parse_environment_d(text, file="uv.conf", names=NAMES, known=KNOWN)
    else:
        found = parse_shell(text, file="rc", names=NAMES, known=KNOWN, fish=syntax == "fish")
    assert [d.value for d in found] == [value]
