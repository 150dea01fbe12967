"""The typed fix pipeline: each change goes to a typed place, and fix and undo return data
that the command line and the daemon render (the texts are the ones the CLI printed before)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests import builders

from uv_drive_guard.app import actions, results
from uv_drive_guard.core import portable, render
from uv_drive_guard.core.model import (
    TARGETS,
    Change,
    ChangeKind,
    Command,
    Fix,
    Manual,
    Os,
    PortableRegistry,
    Severity,
    ShellHook,
    Snapshot,
    StartupFile,
    ThisTerminal,
    UserEnvironment,
    UvConfig,
    UvInfo,
    UvUpgrade,
    VariableStore,
    Volume,
)
from uv_drive_guard.fixing import plan, workflow
from uv_drive_guard.fixing.envstore import Saved
from uv_drive_guard.fixing.journal import Entry, FileRecord
from uv_drive_guard.fixing.outcome import FileChange, Outcome, Result, Verification
from uv_drive_guard.fixing.plan import StoreEdit

FIX = Fix("uvd006-move-off-drive-abc", "Move uv's cache back to ~/.cache/uv", "d", ())
FINDING = builders.finding(title="uv's cache is on a drive", fixes=(FIX,))
ENTRY = Entry("20261201T1-x", FIX.id, "UVD006", FIX.title, 0.0, "applied")


def test_every_kind_of_change_names_the_places_it_may_go() -> None:
    assert set(TARGETS) == set(ChangeKind)


@pytest.mark.parametrize(
    ("kind", "target"),
    [
        (ChangeKind.SET_UV_SETTING, StartupFile("/home/ana/.bashrc")),
        (ChangeKind.UNSET_ENV, UvConfig("/home/ana/.config/uv/uv.toml")),
        (ChangeKind.RUN, Manual("/media/ana/STICK")),
        (ChangeKind.MANUAL, UvUpgrade()),
        (ChangeKind.SHELL_HOOK, PortableRegistry("1a2b-3c4d")),
    ],
)
def test_a_change_refuses_a_place_its_kind_cannot_go_to(kind: ChangeKind, target: object) -> None:
    with pytest.raises(TypeError, match=f"a {kind.value} change cannot go to"):
        Change(kind, target)  # type: ignore[arg-type]


def test_targets_render_as_the_json_document_always_showed_them() -> None:
    texts = {
        StartupFile("/home/ana/.bashrc"): "/home/ana/.bashrc",
        UserEnvironment(): "user environment",
        VariableStore("HKCU\\Environment"): "HKCU\\Environment",
        ThisTerminal(): "this terminal's environment",
        UvConfig("E:\\proj\\pyproject.toml", ("tool", "uv")): "E:\\proj\\pyproject.toml",
        UvUpgrade(): "uv self update",
        Command(("dot_clean", "-m", "/Volumes/S T/p/.venv")): "dot_clean -m /Volumes/S T/p/.venv",
        Manual("/media/ana/STICK"): "/media/ana/STICK",
        PortableRegistry("1a2b-3c4d"): "1a2b-3c4d",
        ShellHook("/home/ana/.local/share/uv-drive-guard"): "your shell's startup files",
    }
    assert {target: render.target_text(target) for target in texts} == texts
    snapshot = Snapshot(Os.LINUX, UvInfo(None, None), (), (), home="/home/ana", data_dir="/home/ana/d")
    hook = render.change_json(portable.hook_change(snapshot))
    assert (hook["kind"], hook["target"], hook["value"]) == ("shell-hook", "your shell's startup files", "/home/ana/d")


def _planned(change: Change, tmp_path: Path) -> plan.Plan:
    uv = tmp_path / "bin" / "uv"  # a standalone uv: an upgrade change would become `uv self update`
    uv.parent.mkdir(exist_ok=True)
    uv.write_text("")
    snapshot = Snapshot(Os.MACOS, UvInfo("uv 0.10.3", str(uv)), (), (), home=str(tmp_path))
    fix = Fix("uvd008-dot-clean-x", "Remove the AppleDouble ._ files", "d", (change,))
    finding = builders.finding("UVD008", Severity.WARNING, fixes=(fix,))
    return plan.build(finding, fix, plan.Machine(snapshot, {}, None))


def test_dot_clean_is_a_step_for_the_person_not_an_upgrade_of_uv(tmp_path: Path) -> None:
    """It rewrites files on the drive, which no journal could put back; it used to plan `uv self update`."""
    command = Command(("dot_clean", "-m", "/Volumes/S T/p/.venv"))
    built = _planned(Change(ChangeKind.RUN, command, summary="run dot_clean"), tmp_path)
    assert built.commands == () and not built.automatic
    assert built.manual == ("run `dot_clean -m '/Volumes/S T/p/.venv'`",)
    upgrade = _planned(Change(ChangeKind.RUN, UvUpgrade(), summary="upgrade uv"), tmp_path)
    assert upgrade.commands == ((str(tmp_path / "bin" / "uv"), "self", "update"),)


def test_a_fix_only_the_person_can_make_gets_no_button() -> None:
    dot_clean = Change(ChangeKind.RUN, Command(("dot_clean", "-m", "/Volumes/S/.venv")), summary="run dot_clean")
    upgrade = Change(ChangeKind.RUN, UvUpgrade(), summary="upgrade uv")
    fixes = (Fix("a", "Remove the ._ files", "d", (dot_clean,), True), Fix("b", "Upgrade uv", "d", (upgrade,)))
    finding = builders.finding("UVD008", Severity.WARNING, volume="/Volumes/S", fixes=fixes)
    report = actions.DriveReport("uuid:1", "/Volumes/S", "S", (finding,), Volume("/Volumes/S", "/dev/disk4", "apfs"))
    assert [a.fix_id for a in report.actions(finding) if a.kind is actions.Kind.FIX] == ["b"]


def _applied(**fields: object) -> Outcome:
    edit = FileChange("/home/ana/.bashrc", "--- /home/ana/.bashrc\n+++ /home/ana/.bashrc\n@@ -1 +1 @@\n-a\n+b\n", False)
    store = StoreEdit("launchctl", "UV_CACHE_DIR", None, "launchctl unsetenv UV_CACHE_DIR")
    base = Outcome(
        Result.APPLIED, fix=FIX, finding=FINDING, entry=ENTRY, files=(edit,), stores=(store,),
        follow_up=(workflow.NEW_TERMINALS,),
    )  # fmt: skip
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_command_line_text_of_an_applied_fix() -> None:
    verified = Verification(True, "UVD006", ("uv now keeps its cache at /home/ana/.cache/uv",))
    outcome = _applied(verification=verified)
    assert outcome.status == 0
    assert outcome.lines == (
        FIX.title,
        "  for UVD006: uv's cache is on a drive",
        "",
        "--- /home/ana/.bashrc\n+++ /home/ana/.bashrc\n@@ -1 +1 @@\n-a\n+b\nlaunchctl unsetenv UV_CACHE_DIR",
        "",
        "Applied. To undo: uv-drive-guard undo 20261201T1-x",
        "Checked as a new terminal would run it: uv works now.",
        "  uv now keeps its cache at /home/ana/.cache/uv",
        "Open terminals keep the old value: start a new terminal to use it.",
    )
    still = _applied(result=Result.STILL_APPLIES, verification=Verification(False, "UVD006"))
    assert still.status == 1 and "Applied, but UVD006 still applies." in still.lines


def test_a_verdict_says_one_thing_never_success_and_an_error() -> None:
    """uv failed after the fix: its first error line, what the scan still finds, the next fix;
    nothing of what uv did right is said then."""
    fails = Verification(
        False,
        "UVD006",
        ("uv now keeps its cache at /media/ana/S2/c2",),
        failure="error: Could not acquire lock",
        still=(replace(FINDING, code="UVD006", title="uv cannot keep its cache on S2 (exFAT)", fixes=(FIX,)),),
    )
    lines = _applied(result=Result.STILL_APPLIES, verification=fails).lines
    assert "Applied, but uv still fails: error: Could not acquire lock" in lines
    assert "Still found: UVD006 uv cannot keep its cache on S2 (exFAT)" in lines
    assert f"  next: uv-drive-guard fix {FIX.id}  ({FIX.title})" in lines
    assert not any("works" in line or "keeps its cache" in line for line in lines)
    title, body = results.fix_notice(_applied(result=Result.STILL_APPLIES, verification=fails))
    assert "Could not acquire lock" in body and "works" not in body + title


def test_the_daemon_says_what_happened_from_fields_never_the_diff() -> None:
    verified = Verification(True, "UVD006", ("uv now keeps its cache at /home/ana/.cache/uv",))
    title, body = results.fix_notice(_applied(verification=verified))
    assert title == f"Fixed: {FIX.title}"
    assert body.splitlines() == [
        "Applied. To undo: uv-drive-guard undo 20261201T1-x",
        "Checked as a new terminal would run it: uv works now.",
        "  uv now keeps its cache at /home/ana/.cache/uv",
        workflow.NEW_TERMINALS,
    ]
    steps = _applied(result=Result.BY_HAND, files=(), stores=(), manual=("run `uv sync`",), entry=None)
    assert results.fix_notice(steps) == (
        f"Could not fix: {FIX.title}",
        "by hand: run `uv sync`\nThese steps are yours to take; uv-drive-guard changed nothing.",
    )
    assert results.fix_notice(Outcome(Result.REFUSED, error="no fix x in a scan of this machine now")) == (
        "Could not fix: uv-drive-guard: no fix x in a scan of this machine now",
        "",
    )
    journaled = Outcome(Result.ALREADY_APPLIED, entry=ENTRY, follow_up=(workflow.NEW_TERMINALS,))
    assert journaled.status == 0 and results.fix_notice(journaled) == (
        f"Fixed: {FIX.title}: already applied (20261201T1-x); nothing to change.",
        workflow.NEW_TERMINALS,
    )


def test_undo_results_for_the_command_line_and_the_daemon() -> None:
    record = FileRecord("/home/ana/.bashrc", True, "0.bak", "a", "b")
    entry = Entry(ENTRY.id, FIX.id, "UVD006", FIX.title, 0.0, "undone", files=(record,), note="")
    saved = (("launchctl", (Saved("UV_CACHE_DIR", None),)),)
    done = Outcome(Result.UNDONE, undo=True, entry=replace(entry, stores=saved), follow_up=(workflow.NEW_TERMINALS,))
    assert done.status == 0 and done.lines == (
        f"Undone: {FIX.title} (20261201T1-x).",
        "  restored /home/ana/.bashrc",
        workflow.NEW_TERMINALS,
    )
    assert results.undo_notice(done) == ("Undo", workflow.NEW_TERMINALS)
    failed = Outcome(Result.FAILED, undo=True, error="no applied fix to undo")
    assert failed.status == 1 and failed.lines == ("uv-drive-guard: no applied fix to undo",)
    assert results.undo_notice(failed) == ("Could not undo", "uv-drive-guard: no applied fix to undo")


def test_an_outcome_is_plain_data() -> None:
    """Everything the daemon reads is a field: a value, never text to take apart."""
    outcome = _applied(verification=Verification(True, "UVD006"))
    assert outcome.result is Result.APPLIED and outcome.entry is ENTRY
    assert [f.path for f in outcome.files] == ["/home/ana/.bashrc"] and outcome.stores[0].store == "launchctl"
    assert json.dumps(render.fix_json(FIX))  # the fix itself still renders to the pinned JSON
