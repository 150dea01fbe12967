"""One data file per rule (tests/cases/*.toml): snapshot in, exact findings and fixes out.

Every expected finding, and nothing else, so a false alarm fails as loudly as a missed one; how
a case file is written and read is in tests/unit/case_files.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.case_files import CASE_FILES, load, run

from uv_drive_guard.core.model import Finding
from uv_drive_guard.core.render import target_text
from uv_drive_guard.core.rules import CATALOGUE

COPY_MODE_CODES = {"UVD002", "UVD003", "UVD012", "UVD022"}  # UVD022: a hard link into OneDrive


def slug(finding: Finding, fix_id: str) -> str:
    """`uvd001-upgrade-uv-1a2b3c` -> `upgrade-uv`."""
    prefix = finding.code.lower() + "-"
    assert fix_id.startswith(prefix), fix_id
    body, _, digest = fix_id[len(prefix) :].rpartition("-")
    assert len(digest) == 6, fix_id
    return body


def key(finding: Finding) -> tuple[str, str, str | None]:
    return finding.code, finding.severity.value, finding.location.path if finding.location else None


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.name for p in CASE_FILES])
def test_case(path: Path) -> None:
    case, findings = run(path)
    expected = case.get("expect", [])
    want = {(e["code"], e["severity"], e["location"]) for e in expected}
    got = {key(f) for f in findings}
    assert got == want, f"{path.name}: {case.get('description', '')}"
    assert len(findings) == len(got), "the same finding was reported twice"
    by_key = {key(f): f for f in findings}
    for item in expected:
        found = by_key[(item["code"], item["severity"], item["location"])]
        fixes = {slug(found, fix.id): fix for fix in found.fixes}
        assert list(fixes) == item.get("fixes", []), f"{item['code']} fixes"
        for fix_slug, kinds in item.get("changes", {}).items():
            assert [c.kind.value for c in fixes[fix_slug].changes] == kinds, fix_slug
        for fix_slug, target in item.get("targets", {}).items():
            assert target in [target_text(c.target) for c in fixes[fix_slug].changes], fix_slug
        for fix_slug, title in item.get("titles", {}).items():
            assert fixes[fix_slug].title == title, fix_slug
        for text in item.get("detail_contains", []):
            assert text in found.detail
        for fix_slug, value in item.get("values", {}).items():
            assert value in [c.value for c in fixes[fix_slug].changes], fix_slug
        for text in item.get("uv_message_contains", []):
            assert text in found.uv_message
        for text in item.get("title_contains", []):
            assert text in found.title
        if "folders" in item:
            assert list(found.folders) == item["folders"]


def test_every_catalogue_code_has_a_case_file() -> None:
    names = {p.stem for p in CASE_FILES}
    missing = [rule.code for rule in CATALOGUE if rule.code not in names]
    assert not missing, f"no tests/cases/<code>.toml for {missing}"


def test_every_catalogue_code_is_expected_somewhere() -> None:
    expected = {e["code"] for p in CASE_FILES for e in load(p).get("expect", [])}
    assert {rule.code for rule in CATALOGUE} <= expected


def test_clean_setups_exist() -> None:
    clean = [p for p in CASE_FILES if all(e["severity"] == "info" for e in load(p).get("expect", []))]
    assert len(clean) >= 4, "clean setups (information at most) guard against false alarms"


def test_copy_mode_only_where_it_cures() -> None:
    """UV_LINK_MODE=copy cures R2, R3, R12 only; offering it elsewhere is wrong (#11233)."""
    offered: set[str] = set()
    for path in CASE_FILES:
        _, findings = run(path)
        for found in findings:
            if any(slug(found, fix.id) == "copy-mode" for fix in found.fixes):
                offered.add(found.code)
    assert offered, "no case exercises copy mode"
    assert offered <= COPY_MODE_CODES


def test_fix_ids_are_stable() -> None:
    for path in CASE_FILES:
        first = [[fix.id for fix in f.fixes] for f in run(path)[1]]
        again = [[fix.id for fix in f.fixes] for f in run(path)[1]]
        assert first == again, path.name
