"""The docs say what the code does: every JSON key is described, every cited fact has its row,
and every link between the docs lands on a file and a heading that exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.case_files import CASE_FILES, run, snapshot

from uv_drive_guard.core import render
from uv_drive_guard.core.model import OPS, ArtefactKind, ChangeKind, Os, Role, Severity, SourceKind
from uv_drive_guard.core.rules import CATALOGUE

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SCAN_JSON = (DOCS / "scan-json.md").read_text(encoding="utf-8")
FACTS = (DOCS / "uv-facts.md").read_text(encoding="utf-8")
# Objects whose keys are data (an operation, a role as uv names it), not fields of the document.
DATA_KEYED = {"errors", "reported"}


def _documents() -> Iterator[dict[str, Any]]:
    for path in CASE_FILES:
        case, findings = run(path)
        yield render.to_json(snapshot(case), findings)


def _keys(value: Any, parent: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if parent not in DATA_KEYED:
                yield key
            yield from _keys(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item, parent)


def _named(word: str) -> bool:
    return f"`{word}`" in SCAN_JSON


def test_scan_json_describes_every_key() -> None:
    keys = {key for doc in _documents() for key in _keys(doc)}
    assert {"schema", "findings", "changes", "capabilities"} <= keys  # the cases reach deep enough
    assert sorted(k for k in keys | set(OPS) if not _named(k)) == []


@pytest.mark.parametrize("values", [Os, Severity, Role, SourceKind, ArtefactKind, ChangeKind], ids=lambda e: e.__name__)
def test_scan_json_names_every_value(values: Any) -> None:
    assert sorted(v.value for v in values if not _named(v.value)) == []


def test_scan_json_states_the_schema_version() -> None:
    assert f"| `schema` | int | {render.SCHEMA_VERSION} |" in SCAN_JSON


def test_every_cited_fact_has_its_row() -> None:
    """`fact="R5, #2103"` names row R5 of docs/uv-facts.md: it must be there, and a row Rn for
    every code UVD00n of the catalogue is."""
    cited = {row for doc in _documents() for f in doc["findings"] for row in re.findall(r"\bR(\d+)\b", f["facts"])}
    assert cited, "no finding of the cases cites a row"
    rows = set(re.findall(r'<a id="r(\d+)"></a>R\1 \| UVD0*\1 \|', FACTS))
    assert {str(int(rule.code[3:])) for rule in CATALOGUE} <= rows
    assert sorted(cited - rows, key=int) == []


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    headings = {_slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    return headings | set(re.findall(r'<a id="([^"]+)"></a>', text))


LINKED = sorted([REPO / "README.md", *DOCS.glob("*.md")])


@pytest.mark.parametrize("page", LINKED, ids=lambda p: p.name)
def test_links_between_the_docs_land(page: Path) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        name, _, anchor = target.partition("#")
        file = (page.parent / name).resolve() if name else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            broken.append(f"{target}: no such heading in {file.name}")
    assert broken == []


def test_explain_json_describes_every_key() -> None:
    """Every key `explain --json` writes, in both modes, is named in docs/explain-json.md."""
    from uv_drive_guard import explain as explaining
    from uv_drive_guard.core import explain as signs

    text = (DOCS / "explain-json.md").read_text(encoding="utf-8")
    case, findings = run(next(p for p in CASE_FILES if p.stem == "UVD006"))
    snap = snapshot(case)
    (message,) = signs.read("error: Could not acquire lock\n  cause: Could not persist temporary file `/x/.tmp`\n")
    vol = snap.volumes[-1]
    told = explaining.Report(snap, (explaining.Explained(message, findings[0], vol, ""),))
    here = explaining.Report(snap, here=findings, places=snap.locations, folder="/w", from_output=False)
    keys = {k for report in (told, here) for k in _keys(explaining.to_json(report))}
    keys -= {k for k in keys if f"`{k}`" in SCAN_JSON and f"`{k}`" not in text and k not in ("messages", "places")}
    assert sorted(k for k in keys if f"`{k}`" not in text) == []
    assert sorted(k.value for k in signs.Kind if f"`{k.value}`" not in text) == []
