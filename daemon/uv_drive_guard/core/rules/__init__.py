"""The rule catalogue: one `Rule` per code, collected from the family modules beside this one.

This is the only list of rules: `diagnose()` runs their checks in it, `uv-drive-guard rules`
prints it (`listing()`, `markdown()`), the tests walk it. A new rule goes into the family module
it belongs to (its check, its text, its fixes, its `Rule`), with its case file in tests/cases/,
its fact row in docs/uv-facts.md and, where uv can show it, a real-uv test.
"""

from __future__ import annotations

import re

from . import cache, environments, envlinks, filesystem, links, remote, settings, states
from .base import ArtefactCheck, Hit, PlaceCheck, Rule, Scene, SettingCheck, SnapshotCheck

_CODE = re.compile(r"UVD\d{3}")


def _collect(*families: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """Every family's rules in code order; a code given twice or misspelt, or a rule yielding to
    no other rule, stops the import."""
    rules = tuple(sorted((rule for family in families for rule in family), key=lambda rule: rule.code))
    codes = [rule.code for rule in rules]
    doubles = sorted({code for code in codes if codes.count(code) > 1})
    wrong = [code for code in codes if not _CODE.fullmatch(code)]
    if doubles or wrong:
        raise ValueError(f"rule codes given twice {doubles} or not UVDnnn {wrong}")
    unknown = sorted({f"{r.code} -> {c}" for r in rules for c in r.yields_to if c not in codes or c == r.code})
    if unknown:
        raise ValueError(f"rules yield to codes that are not other rules: {unknown}")
    return rules


CATALOGUE = _collect(
    cache.RULES,
    links.RULES,
    filesystem.RULES,
    environments.RULES,
    envlinks.RULES,
    states.RULES,
    settings.RULES,
    remote.RULES,
)
RULES = {rule.code: rule for rule in CATALOGUE}

# The catalogue by what each rule looks at, in code order: what diagnose() walks.
SETTINGS: tuple[tuple[Rule, SettingCheck], ...] = tuple((r, r.setting) for r in CATALOGUE if r.setting)
PLACES: tuple[tuple[Rule, PlaceCheck], ...] = tuple((r, r.place) for r in CATALOGUE if r.place)
ALONE = tuple((r.alone_on, ((r, r.place),)) for r in CATALOGUE if r.alone_on and r.place)
ARTEFACTS: tuple[tuple[Rule, ArtefactCheck], ...] = tuple((r, r.artefact) for r in CATALOGUE if r.artefact)
WHOLE: tuple[tuple[Rule, SnapshotCheck], ...] = tuple((r, r.whole) for r in CATALOGUE if r.whole)


def temporary(code: str) -> bool:
    """Whether a fix of this finding lasts only while its drive is away (the daemon undoes it)."""
    rule = RULES.get(code)
    return rule is not None and rule.temporary


def markdown() -> str:
    """The rules as a Markdown table (`uv-drive-guard rules --markdown`)."""
    rows = [
        "| code | when | severity | not said where these are | rests on | fixes offered |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.code} | {r.summary} | {', '.join(s.value for s in r.severities)} "
            f"| {', '.join(r.yields_to) or '-'} | {r.fact} | {r.offers} |"
            for r in CATALOGUE
        ),
    ]
    return "\n".join(rows) + "\n"


def listing(rules: tuple[Rule, ...] = CATALOGUE) -> str:
    """The rules as plain text, one paragraph each (`uv-drive-guard rules [CODE]`)."""
    blocks = []
    for r in rules:
        lines = [f"{r.code}  {', '.join(s.value for s in r.severities)}", f"  when: {r.summary}"]
        if r.yields_to:
            lines.append(f"  not said where these are: {', '.join(r.yields_to)}")
        lines += [f"  rests on: {r.fact} (docs/uv-facts.md)", f"  fixes offered: {r.offers}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


__all__ = ["CATALOGUE", "RULES", "Hit", "Rule", "Scene", "listing", "markdown", "temporary"]
