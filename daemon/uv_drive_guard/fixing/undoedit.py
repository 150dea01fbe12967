"""Take back only our own edit from a file the person has edited since: pure text, no I/O.

The fix's edit is the line diff from the bytes before it to the bytes it wrote: our fenced
block, the line we commented out with our marker, the TOML key we set. Each changed run of
lines is found again in today's text by its own content (in order, nearest its old place) and
put back as it was; every other line is the person's and stays. When our lines themselves were
changed, undo refuses and names the line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from .textlines import content, newline, split


class Changed(ValueError):
    """The person changed a line of our edit: taking it back would guess."""

    def __init__(self, line: int, found: str | None, expected: str) -> None:
        self.line, self.found, self.expected = line, found, expected
        now = f"reads `{found}`" if found is not None else "is gone"
        super().__init__(f"line {line} {now}, but uv-drive-guard wrote `{expected}` there")


@dataclass(frozen=True)
class _Hunk:
    before: list[str]  # the lines the fix replaced (its "before" side)
    ours: list[str]  # the lines the fix wrote in their place
    at: int  # where `ours` starts in the fixed text
    context: tuple[str | None, str | None]  # the fixed text's lines around a pure removal


def _key(line: str) -> str:
    return content(line)[0]


def hunks(before: str, after: str) -> list[_Hunk]:
    """The fix's edit as runs of changed lines."""
    old, new = split(before), split(after)
    found = []
    matcher = difflib.SequenceMatcher(None, [_key(x) for x in old], [_key(x) for x in new], autojunk=False)
    for tag, b1, b2, a1, a2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        above = _key(new[a1 - 1]) if a1 > 0 else None
        below = _key(new[a2]) if a2 < len(new) else None
        found.append(_Hunk(old[b1:b2], new[a1:a2], a1, (above, below)))
    return found


GAP = 200  # lines the person may have added among ours (inside our block) and still be recognised


def _fit(lines: list[str], start: int, ours: list[str]) -> tuple[list[int], int]:
    """Our lines found in order from `start` (the first exactly there, the rest allowing the
    person's lines in between; a blank line of ours the person removed is let go): their
    positions, and how many of ours were accounted for."""
    positions: list[int] = []
    i = start
    for k, our in enumerate(ours):
        if not _key(our).strip():
            if i < len(lines) and not _key(lines[i]).strip():
                positions.append(i)
                i += 1
            continue
        limit = min(len(lines), i + (1 if not positions else GAP + 1))
        j = next((j for j in range(i, limit) if _key(lines[j]) == _key(our)), None)
        if j is None:
            return positions, k
        positions.append(j)
        i = j + 1
    return positions, len(ours)


def _place(lines: list[str], hunk: _Hunk, lo: int, expected: int) -> list[int]:
    """Where our lines are in today's text (at or after `lo`); for a pure removal, the one
    position to put the removed lines back at."""
    if not hunk.ours:
        return [_anchor(lines, hunk, lo, expected)]
    fits = [(_fit(lines, i, hunk.ours), i) for i in range(lo, len(lines))]
    whole = [pos for (pos, count), _ in fits if count == len(hunk.ours) and pos]
    if whole:
        return min(whole, key=lambda pos: (-len(pos), pos[-1] - pos[0], abs(pos[0] - expected)))
    raise _closest(lines, hunk, fits, expected)


def _anchor(lines: list[str], hunk: _Hunk, lo: int, expected: int) -> int:
    """Where to put back lines the fix removed: after the line that was above them (the file's
    start if none), with the line that was below them still close after."""
    above, below = hunk.context
    spots = []
    for i in range(lo, len(lines) + 1):
        at_top = above is None and i == 0
        after_above = above is not None and i > 0 and _key(lines[i - 1]) == above
        if (at_top or after_above) and (below is None or any(_key(x) == below for x in lines[i : i + GAP + 1])):
            spots.append(i)
    if not spots:
        line = min(expected, len(lines))
        raise Changed(line + 1, _key(lines[line]) if line < len(lines) else None, above or below or "")
    return min(spots, key=lambda i: abs(i - expected))


def _closest(lines: list[str], hunk: _Hunk, fits: list[tuple[tuple[list[int], int], int]], expected: int) -> Changed:
    """The exact line that differs: after the longest run of ours still in place, or the most
    similar line to ours near where it was."""
    (positions, count), _ = max(fits, key=lambda f: (f[0][1], -abs(f[1] - expected)), default=(([], 0), 0))
    if count and positions:
        line = positions[-1] + 1
        return Changed(line + 1, _key(lines[line]) if line < len(lines) else None, _key(hunk.ours[count]))
    wanted = _key(hunk.ours[0])
    near = range(max(0, expected - GAP), min(len(lines), expected + GAP))
    scored = [(difflib.SequenceMatcher(None, _key(lines[i]), wanted).ratio(), -abs(i - expected), i) for i in near]
    ratio, _, index = max(scored, default=(0.0, 0, min(expected, len(lines))))
    if ratio >= 0.5:
        return Changed(index + 1, _key(lines[index]), wanted)
    return Changed(min(expected, len(lines)) + 1, None, wanted)


def take_back(before: str, after: str, now: str) -> str:
    """`now` without the edit that turned `before` into `after`, keeping every other change."""
    if now == after:
        return before
    lines, nl = split(now), newline(now or after)
    placed: list[tuple[list[int], _Hunk]] = []
    lo, shift = 0, 0
    for hunk in hunks(before, after):
        positions = _place(lines, hunk, lo, hunk.at + shift)
        placed.append((positions, hunk))
        lo = positions[-1] + (1 if hunk.ours else 0)
        shift = positions[0] - hunk.at
    for positions, hunk in reversed(placed):
        for index in reversed(positions if hunk.ours else []):
            del lines[index]
        lines[positions[0] : positions[0]] = hunk.before
    for index, line in enumerate(lines[:-1]):  # a last line put back mid-file gets its end
        if not line.endswith("\n"):
            lines[index] = line + nl
    return "".join(lines)
