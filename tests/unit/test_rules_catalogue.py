"""The catalogue is the one source of a rule: codes, checks, fixes, the list `uv-drive-guard rules` prints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from uv_drive_guard import cli
from uv_drive_guard.core import rules
from uv_drive_guard.core.diagnose import diagnose
from uv_drive_guard.core.messages import Text
from uv_drive_guard.core.model import (
    Capabilities,
    Location,
    Os,
    Role,
    Severity,
    Snapshot,
    Source,
    SourceKind,
    UvInfo,
    Volume,
)
from uv_drive_guard.core.rules import CATALOGUE, RULES, Hit, Rule

LOC = Location(Role.CACHE, "/media/STICK/uv", Source(SourceKind.DEFAULT), volume="/media/STICK")
TEXT = Text("title", "detail", "error: ...")


def test_the_rules_command_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    """`uv-drive-guard rules` is the list of rules: every code in order, one or several by code,
    the whole list as a Markdown table; a code no rule has is a usage error."""
    assert cli.main(["rules"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.startswith("UVD")]
    assert listed == [rule.code for rule in CATALOGUE]
    assert cli.main(["rules", "--markdown"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert [row.split(" | ")[0] for row in table[2:]] == [f"| {rule.code}" for rule in CATALOGUE]
    assert cli.main(["rules", "uvd005", "UVD014"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("UVD005  error\n") and "\n\nUVD014  error\n" in shown
    assert "  not said where these are: UVD006, UVD007\n" in shown and "  rests on: R5, #2103" in shown
    assert cli.main(["rules", "UVD999"]) == 2
    assert "no rule UVD999" in capsys.readouterr().err


def test_codes_are_unique_and_in_order() -> None:
    codes = [rule.code for rule in CATALOGUE]
    assert codes == sorted(set(codes))
    assert codes == [f"UVD{n:03d}" for n in range(1, len(codes) + 1)], "codes are never skipped nor reused"
    assert list(RULES) == codes


def test_a_code_given_twice_or_misspelt_is_refused() -> None:
    first = CATALOGUE[0]
    with pytest.raises(ValueError, match="twice"):
        rules._collect((first,), (replace(first, summary="another"),))
    with pytest.raises(ValueError, match="UVDnnn"):
        rules._collect((replace(first, code="UVD1"),))


def test_a_rule_yields_only_to_other_rules() -> None:
    first, second = CATALOGUE[0], CATALOGUE[1]
    with pytest.raises(ValueError, match="UVD001 -> UVD999"):
        rules._collect((replace(first, yields_to=("UVD999",)),), (second,))
    with pytest.raises(ValueError, match="UVD001 -> UVD001"):
        rules._collect((replace(first, yields_to=("UVD001",)),), (second,))


def test_a_rule_gives_way_only_where_the_rule_it_names_speaks() -> None:
    """UVD014 (chmod refused) yields to UVD005 (no symlinks): an environment uv cannot create is
    UVD005's; a plain venv on the same drive, which UVD005 does not judge, is still UVD014's."""
    os = Os.LINUX
    drive = Volume(
        "/media/STICK",
        "/dev/sdb1",
        "vfat",
        label="STICK",
        removable=True,
        capabilities=Capabilities(
            results=(("symlink_file", False), ("exec_bit", False)),
            errors=(
                ("symlink_file", "Operation not permitted (os error 1)"),
                ("exec_bit", "Function not implemented (os error 38)"),
            ),
            errnos=(("symlink_file", 1), ("exec_bit", 38)),
            probed=True,
        ),
    )
    places = {
        role: Location(role, f"/media/STICK/{role.value}", Source(SourceKind.ENVIRONMENT), volume=drive.mountpoint)
        for role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
    }
    snap = Snapshot(
        os=os, uv=UvInfo("0.13.10", "uv"), volumes=(drive,), locations=tuple(places.values()), scope=(drive.mountpoint,)
    )
    said = {(f.code, f.location.role) for f in diagnose(snap) if f.location is not None}
    assert ("UVD005", Role.PROJECT_ENVIRONMENT) in said and ("UVD014", Role.PROJECT_ENVIRONMENT) not in said
    assert ("UVD014", Role.VENV) in said


@pytest.mark.parametrize("rule", CATALOGUE, ids=[rule.code for rule in CATALOGUE])
def test_every_rule_is_whole(rule: Rule) -> None:
    checks = [rule.setting, rule.place, rule.artefact, rule.whole]
    assert sum(check is not None for check in checks) == 1, "one check, looking at one kind of thing"
    assert rule.severities and len(set(rule.severities)) == len(rule.severities)
    assert set(rule.unfixed) <= set(rule.severities)
    assert rule.fact and rule.summary and rule.offers


def test_a_finding_carries_its_rule_and_no_fixes_until_planned() -> None:
    rule = RULES["UVD003"]
    found = rule.finding(Hit(LOC, TEXT))
    assert (found.code, found.severity, found.facts, found.fixes) == ("UVD003", Severity.WARNING, rule.fact, ())
    assert found.volume == "/media/STICK" and found.title == "title"
    quiet = rule.finding(Hit(LOC, TEXT, Severity.INFO))
    assert quiet.severity is Severity.INFO


def test_a_severity_the_rule_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="UVD013 is never error"):
        RULES["UVD013"].finding(Hit(LOC, TEXT, Severity.ERROR))


def test_only_the_fallback_is_undone_when_the_drive_is_back() -> None:
    assert [rule.code for rule in CATALOGUE if rule.temporary] == ["UVD011"]
    assert rules.temporary("UVD011") and not rules.temporary("UVD003") and not rules.temporary("UVD999")
