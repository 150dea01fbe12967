"""A uv variable a person's own LaunchAgent sets at login: fixed through launchctl's store, with undo.

The agent is a plist whose ProgramArguments run `launchctl setenv NAME VALUE`, directly or in an
`sh -c` script (tests/data/macos/LaunchAgents). It has no lines to turn off: the fix used to plan
`disable_line(plist, 0)` and stop with "changed since the scan; scan again". Now its definition
goes to the launchctl store, which changes the pair where the agent writes it (and launchd's
value now), and undo puts the agent's bytes back.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.recorded import FakeLaunchctl

from uv_drive_guard.core import fixes
from uv_drive_guard.core.model import (
    Capabilities,
    Definition,
    Finding,
    Location,
    Os,
    Role,
    Severity,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    VariableStore,
    Volume,
)
from uv_drive_guard.edges import launchctl
from uv_drive_guard.edges.settings._macos import launch_agent_definitions
from uv_drive_guard.fixing import agentfile, engine, plan
from uv_drive_guard.fixing.envstore import EnvStoreError
from uv_drive_guard.fixing.envstore._macos import LABEL, LaunchctlEnvStore
from uv_drive_guard.fixing.journal import APPLIED, UNDONE, Journal

DATA = Path(__file__).resolve().parents[1] / "data" / "macos" / "LaunchAgents"
ALICE = "com.alice.uv-environment.plist"  # /bin/launchctl setenv UV_CACHE_DIR /Volumes/STICK/uv-cache UV_LINK_MODE copy
STARTUP = "my.startup.plist"  # sh -c "launchctl setenv UV_TOOL_DIR /Volumes/STICK/uv-tools; ..."


def home_with(tmp_path: Path, *agents: str) -> Path:
    folder = tmp_path / "Library" / "LaunchAgents"
    folder.mkdir(parents=True, exist_ok=True)
    for name in agents:
        shutil.copy(DATA / name, folder / name)
    return folder


def store_in(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[LaunchctlEnvStore, FakeLaunchctl]:
    fake = FakeLaunchctl(env)
    return LaunchctlEnvStore(run=fake, agent_path=tmp_path / "Library" / "LaunchAgents" / f"{LABEL}.plist"), fake


def arguments(path: Path) -> list[str]:
    loaded = plistlib.loads(path.read_bytes())
    assert isinstance(loaded["ProgramArguments"], list)
    return list(loaded["ProgramArguments"])


def found(tmp_path: Path) -> dict[str, tuple[str | None, str]]:
    return {d.name: (d.value, Path(d.source.file or "").name) for d in launch_agent_definitions(tmp_path)}


# --- the plan: a LaunchAgent's definition goes to launchctl's store -------------------------------


def mac_snapshot(tmp_path: Path) -> tuple[Snapshot, Location]:
    definitions = tuple(launch_agent_definitions(tmp_path, names=["UV_CACHE_DIR"]))
    source = Source(SourceKind.LAUNCHCTL, name="UV_CACHE_DIR")  # `launchctl getenv` answers it too
    live = Definition("UV_CACHE_DIR", "/Volumes/STICK/uv-cache", source)
    loc = Location(Role.CACHE, "/Volumes/STICK/uv-cache", definitions[0].source, volume="/Volumes/STICK")
    volumes = (
        Volume("/", "/dev/disk3s1s1", "apfs", system=True, capabilities=Capabilities()),
        Volume("/Volumes/STICK", "/dev/disk4s1", "exfat", label="STICK", removable=True),
    )
    snapshot = Snapshot(
        Os.MACOS,
        UvInfo("uv 0.13.9", None),
        volumes,
        (loc,),
        definitions=(*definitions, live),
        home=str(tmp_path),
        defaults=((Role.CACHE, f"{tmp_path}/.cache/uv"),),
    )
    return snapshot, loc


def test_an_agents_variable_is_planned_for_launchctls_store_and_undone(tmp_path: Path) -> None:
    agent = home_with(tmp_path, ALICE, STARTUP) / ALICE
    before = agent.read_bytes()
    snapshot, loc = mac_snapshot(tmp_path)
    fix = fixes.move_off_drive("UVD006", snapshot, loc)
    assert fix is not None
    assert {change.target for change in fix.changes} == {VariableStore("launchctl")}
    assert fix.changes[0].summary.endswith(f"in ~/Library/LaunchAgents/{ALICE}")  # the words name the agent

    store, fake = store_in(tmp_path, {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache", "UV_LINK_MODE": "copy"})
    finding = Finding("UVD006", Severity.ERROR, "t", "d", "m", loc, None, (fix,))
    planned = plan.build(finding, fix, plan.Machine(snapshot, {}, store))
    assert [(s.store, s.name, s.value) for s in planned.stores] == [("launchctl", "UV_CACHE_DIR", None)]
    assert planned.files == () and planned.manual == ()
    assert str(agent) in planned.stores[0].summary

    journal = Journal(tmp_path / "journal")
    entry = engine.apply(planned, journal, {"launchctl": store})
    assert entry.state == APPLIED
    assert arguments(agent) == ["/bin/launchctl", "setenv", "UV_LINK_MODE", "copy"]
    assert "UV_CACHE_DIR" not in found(tmp_path)
    assert found(tmp_path)["UV_LINK_MODE"] == ("copy", ALICE)
    assert found(tmp_path)["UV_TOOL_DIR"] == ("/Volumes/STICK/uv-tools", STARTUP)
    assert fake.env == {"UV_LINK_MODE": "copy"}
    assert not store.agent_path.exists()  # nothing of ours is needed to keep it unset

    assert engine.undo(journal, stores={"launchctl": store}).state == UNDONE
    assert agent.read_bytes() == before
    assert fake.env == {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache", "UV_LINK_MODE": "copy"}


def test_a_plan_names_an_agent_it_cannot_change(tmp_path: Path) -> None:
    folder = home_with(tmp_path, ALICE)
    snapshot, loc = mac_snapshot(tmp_path)
    fix = fixes.move_off_drive("UVD006", snapshot, loc)
    assert fix is not None
    (folder / ALICE).write_bytes(plistlib.dumps({"Label": "x", "ProgramArguments": ["/bin/launchctl", 7]}))
    broken = folder / "broken.plist"  # sets it, but its ProgramArguments hold a number
    broken.write_bytes(
        plistlib.dumps({"Label": "b", "ProgramArguments": ["/bin/launchctl", "setenv", "UV_CACHE_DIR", "/V", 1]})
    )
    store, _ = store_in(tmp_path)
    finding = Finding("UVD006", Severity.ERROR, "t", "d", "m", loc, None, (fix,))
    with pytest.raises(plan.CannotPlan, match=r"broken\.plist sets UV_CACHE_DIR and cannot be changed safely"):
        plan.build(finding, fix, plan.Machine(snapshot, {}, store))


# --- the store: a person's agents beside ours ------------------------------------------------------


def test_unset_takes_the_pair_out_of_a_persons_agent(tmp_path: Path) -> None:
    agent = home_with(tmp_path, ALICE) / ALICE
    store, fake = store_in(tmp_path, {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache"})
    store.unset("UV_CACHE_DIR")
    assert arguments(agent) == ["/bin/launchctl", "setenv", "UV_LINK_MODE", "copy"]
    assert fake.calls[-1] == ["/bin/launchctl", "unsetenv", "UV_CACHE_DIR"]
    assert agent.read_bytes().startswith(b"<?xml") and plistlib.loads(agent.read_bytes())["Label"] == (
        "com.alice.uv-environment"
    )


def test_an_agents_only_pair_becomes_a_command_that_still_stands(tmp_path: Path) -> None:
    folder = home_with(tmp_path)
    agent = folder / "one.plist"
    words = ["/bin/launchctl", "setenv", "UV_CACHE_DIR", "/V/c"]
    payload = {"Label": "one", "ProgramArguments": words, "RunAtLoad": True}
    agent.write_bytes(plistlib.dumps(payload, fmt=plistlib.FMT_BINARY))
    store, _ = store_in(tmp_path)
    store.unset("UV_CACHE_DIR")
    assert agent.read_bytes().startswith(b"bplist00")  # written back in its own format
    assert arguments(agent) == ["/bin/launchctl", "unsetenv", "UV_CACHE_DIR"]
    assert list(plistlib.loads(agent.read_bytes())) == ["Label", "ProgramArguments", "RunAtLoad"]
    assert found(tmp_path) == {}


def recorded_calls(script: str, tmp_path: Path) -> list[list[str]]:
    """The script run by a real sh, with a `launchctl` on PATH that records its arguments."""
    log = tmp_path / "calls.log"
    recorder = tmp_path / "bin" / "launchctl"
    recorder.parent.mkdir(exist_ok=True)
    recorder.write_text(f"#!/bin/sh\n{{ printf '%s\\037' \"$@\"; printf '\\036'; }} >> '{log}'\n")
    recorder.chmod(0o755)
    env = {"PATH": f"{recorder.parent}:/usr/bin:/bin", "HOME": "/Users/alice"}
    subprocess.run(["/bin/sh", "-c", script], check=True, env=env, cwd=tmp_path)
    return [record.split("\x1f")[:-1] for record in log.read_text().split("\x1e")[:-1]]


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="needs a POSIX shell")
def test_the_script_of_an_agent_loses_only_that_pair(tmp_path: Path) -> None:
    agent = home_with(tmp_path, STARTUP) / STARTUP
    store, _ = store_in(tmp_path)
    store.unset("UV_TOOL_DIR")
    script = arguments(agent)[2]
    assert script == (
        'launchctl unsetenv UV_TOOL_DIR; launchctl setenv UV_PYTHON_INSTALL_DIR "$HOME/pythons" && '
        "launchctl setenv JAVA_HOME /Library/Java/Home; launchctl setenv XDG_DATA_HOME '/Volumes/Work Drive/share'"
    )
    assert recorded_calls(script, tmp_path) == [
        ["unsetenv", "UV_TOOL_DIR"],
        ["setenv", "UV_PYTHON_INSTALL_DIR", "/Users/alice/pythons"],
        ["setenv", "JAVA_HOME", "/Library/Java/Home"],
        ["setenv", "XDG_DATA_HOME", "/Volumes/Work Drive/share"],
    ]


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="needs a POSIX shell")
def test_set_changes_the_value_where_the_agent_writes_it_and_ours_stays_out(tmp_path: Path) -> None:
    agent = home_with(tmp_path, STARTUP) / STARTUP
    store, fake = store_in(tmp_path)
    store.set("UV_LINK_MODE", "clone")  # ours, while no agent of the person sets it
    value = "/Users/alice/it's tools"
    store.set("UV_TOOL_DIR", value)
    assert found(tmp_path)["UV_TOOL_DIR"] == (value, STARTUP)
    assert recorded_calls(arguments(agent)[2], tmp_path)[0] == ["setenv", "UV_TOOL_DIR", value]
    assert store.agent_variables() == {"UV_LINK_MODE": "clone"}
    assert fake.env == {"UV_LINK_MODE": "clone", "UV_TOOL_DIR": value}
    assert store.describe_set("UV_TOOL_DIR", "/x") == (
        f'launchctl: set UV_TOOL_DIR = "/x" (now, and at login by {agent}), replacing "{value}"'
    )


def test_set_moves_a_name_out_of_ours_when_a_persons_agent_sets_it(tmp_path: Path) -> None:
    folder = home_with(tmp_path)
    store, _ = store_in(tmp_path)
    store.set("UV_CACHE_DIR", "/ours")
    shutil.copy(DATA / ALICE, folder / ALICE)  # the person's agent arrives later
    store.set("UV_CACHE_DIR", "/Users/alice/.cache/uv")
    assert not store.agent_path.exists()
    assert found(tmp_path)["UV_CACHE_DIR"] == ("/Users/alice/.cache/uv", ALICE)


def test_save_and_restore_put_a_persons_agent_back_byte_for_byte(tmp_path: Path) -> None:
    agent = home_with(tmp_path, ALICE, "com.google.keystone.agent.plist") / ALICE
    before = agent.read_bytes()
    store, fake = store_in(tmp_path, {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache"})
    saved = store.save(["UV_CACHE_DIR"])
    assert [key for key, _ in saved[0].extra] == ["agent_path", "agent_plist", f"agent:{agent}"]
    store.unset("UV_CACHE_DIR")
    store.restore(saved)
    assert agent.read_bytes() == before and fake.env == {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache"}
    saved = store.save(["UV_LINK_MODE"])
    store.set("UV_LINK_MODE", "symlink")
    store.restore(saved)
    assert agent.read_bytes() == before


def test_restore_leaves_an_agent_the_person_changed_since(tmp_path: Path) -> None:
    agent = home_with(tmp_path, ALICE) / ALICE
    store, fake = store_in(tmp_path, {"UV_CACHE_DIR": "/Volumes/STICK/uv-cache"})
    saved = store.save(["UV_CACHE_DIR"])
    store.unset("UV_CACHE_DIR")
    loaded = plistlib.loads(agent.read_bytes())
    loaded["ProgramArguments"] += ["UV_PYTHON_DIR", "/p"]
    agent.write_bytes(plistlib.dumps(loaded))
    changed = agent.read_bytes()
    calls = len(fake.calls)
    with pytest.raises(EnvStoreError, match="changed since the fix"):
        store.restore(saved)
    assert agent.read_bytes() == changed and len(fake.calls) == calls  # nothing done


def test_an_agent_the_reader_cannot_read_is_never_touched(tmp_path: Path) -> None:
    folder = home_with(tmp_path, "broken.plist")
    odd = folder / "odd.plist"
    unbalanced = ["sh", "-c", "launchctl setenv UV_CACHE_DIR '/x"]
    odd.write_bytes(plistlib.dumps({"Label": "o", "ProgramArguments": unbalanced}))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    store, _ = store_in(tmp_path)
    store.unset("UV_CACHE_DIR")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


# --- one grammar for the reader and the store ------------------------------------------------------

SCRIPT = st.lists(
    st.sampled_from([*"abc=$~ \t\n;&|()<>#'\"\\", "launchctl", " setenv ", "UV_CACHE_DIR", " /V/x "]), max_size=40
).map("".join)


def shlex_words(script: str) -> list[str] | None:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return None


@settings(max_examples=400, deadline=None)
@given(SCRIPT)
def test_shell_words_split_as_shlex_does_and_say_where(script: str) -> None:
    words = launchctl.shell_words(script)
    assert (None if words is None else [w.text for w in words]) == shlex_words(script)
    for word in words or []:
        assert shlex_words(script[word.start : word.end]) in ([word.text], [] if word.text == "" else [word.text])


@settings(max_examples=300, deadline=None)
@given(SCRIPT, st.sampled_from(["/n", "it's", "a b", "$HOME"]))
def test_edits_change_only_that_pair(script: str, value: str) -> None:
    data = plistlib.dumps({"Label": "x", "ProgramArguments": ["/bin/sh", "-c", script]})
    pairs = list(launchctl.setenv_pairs(["/bin/sh", "-c", script]))
    others = [(n, raw) for n, _, raw in pairs if n != "UV_CACHE_DIR"]
    out = launchctl.setenv_pairs(plistlib.loads(agentfile.without(data, ["UV_CACHE_DIR"]))["ProgramArguments"])
    assert [(n, raw) for n, _, raw in out] == others
    changed = agentfile.with_value(data, "UV_CACHE_DIR", value)
    after = [(n, raw) for n, _, raw in launchctl.setenv_pairs(plistlib.loads(changed)["ProgramArguments"])]
    assert after == [(n, value if n == "UV_CACHE_DIR" else raw) for n, _, raw in pairs]


def test_setting_the_value_an_agent_already_sets_leaves_it_byte_for_byte(tmp_path: Path) -> None:
    folder = home_with(tmp_path, ALICE, STARTUP)
    before = {name: (folder / name).read_bytes() for name in (ALICE, STARTUP)}
    store, fake = store_in(tmp_path)
    store.set("UV_LINK_MODE", "copy")
    store.set("UV_TOOL_DIR", "/Volumes/STICK/uv-tools")
    assert {name: (folder / name).read_bytes() for name in (ALICE, STARTUP)} == before
    assert not store.agent_path.exists() and fake.env == {
        "UV_LINK_MODE": "copy",
        "UV_TOOL_DIR": "/Volumes/STICK/uv-tools",
    }
