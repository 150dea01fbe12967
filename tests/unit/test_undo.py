"""Undo takes back only the fix's own lines and keeps what the person wrote since; all or
nothing across files and stores; the journal's order and ids; a fix that cannot be verified."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests import builders

from uv_drive_guard.core.model import Fix
from uv_drive_guard.fixing import atomic, engine, shellfile, textlines, tomledit, workflow
from uv_drive_guard.fixing.envstore import Saved
from uv_drive_guard.fixing.journal import UNDONE, Journal
from uv_drive_guard.fixing.plan import FileEdit, Plan, StoreEdit

FINDING, FIX = builders.finding(), builders.fix()
RC = {
    "bash": (
        "posix",
        "# my bashrc\nexport PATH=/opt/bin:$PATH\nexport UV_CACHE_DIR=/media/u/STICK/c\nalias ll='ls -l'\n",
    ),
    "zsh": ("posix", 'setopt autocd\nexport UV_CACHE_DIR="/media/u/STICK/c"\nbindkey -e\n'),
    "fish": ("fish", "set -gx EDITOR vim\nset -gx UV_CACHE_DIR /media/u/STICK/c\nabbr -a g git\n"),
}


def _fixed(text: str, syntax: shellfile.Syntax) -> str:
    """What the product writes: the user's line turned off, our block with the new value."""
    line = next(n for n, x in enumerate(text.split("\n"), 1) if "UV_CACHE_DIR" in x)
    off = shellfile.disable_line(text, line, None, syntax=syntax)
    return shellfile.set_in_block(off, "UV_CACHE_DIR", "/home/u/.cache/uv", syntax=syntax)


def _apply(tmp_path: Path, name: str, before: bytes, after: bytes) -> tuple[Path, Journal]:
    path = tmp_path / name
    path.write_bytes(before)
    journal = Journal(tmp_path / "journal")
    engine.apply(Plan(FINDING, FIX, (FileEdit(str(path), before, after, ("edit",)),)), journal)
    return path, journal


def _crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("shell", sorted(RC))
@pytest.mark.parametrize("where", ["above", "below", "inside", "everywhere"])
def test_undo_after_edits_keeps_them(tmp_path: Path, shell: str, newline: str, where: str) -> None:
    syntax, text = RC[shell]
    before = text if newline == "\n" else _crlf(text)
    after = _fixed(before, syntax)  # type: ignore[arg-type]
    path, journal = _apply(tmp_path, f"rc.{shell}", before.encode(), after.encode())
    lines = [textlines.content(x)[0] for x in textlines.split(after)]
    top, mine, end = f"# added on top{newline}", f"export MINE=1{newline}", f"alias gs='git status'{newline}"
    begin = lines.index(textlines.BEGIN)
    edited = after
    if where in ("above", "everywhere"):
        edited = top + edited
    if where in ("inside", "everywhere"):
        edited = edited.replace(textlines.NOTE + newline, textlines.NOTE + newline + mine)
    if where in ("below", "everywhere"):
        edited = edited + end
    assert begin > 0
    path.write_bytes(edited.encode())
    entry = engine.undo(journal)
    assert entry.state == UNDONE
    result = path.read_bytes().decode()
    expected = before
    if where in ("above", "everywhere"):
        expected = top + expected
    if where in ("inside", "everywhere"):
        expected = expected + mine
    if where in ("below", "everywhere"):
        expected = expected + end
    assert result == expected
    assert textlines.BEGIN not in result and textlines.DISABLED not in result


def test_undo_refuses_naming_the_line_when_our_lines_changed(tmp_path: Path) -> None:
    _syntax, before = RC["bash"]
    after = _fixed(before, "posix")
    path, journal = _apply(tmp_path, ".bashrc", before.encode(), after.encode())
    changed = "# on top\n" + after.replace("export UV_CACHE_DIR='/home/u/.cache/uv'", "export UV_CACHE_DIR='/srv/c'")
    path.write_text(changed)
    with pytest.raises(engine.FixError) as caught:
        engine.undo(journal)
    message = str(caught.value)
    number = changed.split("\n").index("export UV_CACHE_DIR='/srv/c'") + 1
    assert f".bashrc:{number}: line {number} reads `export UV_CACHE_DIR='/srv/c'`" in message
    assert "wrote `export UV_CACHE_DIR='/home/u/.cache/uv'`" in message and "undo --force" in message
    assert path.read_text() == changed  # refused: nothing was written


def test_undo_refuses_when_the_turned_off_line_was_edited(tmp_path: Path) -> None:
    _syntax, before = RC["bash"]
    after = _fixed(before, "posix")
    path, journal = _apply(tmp_path, ".bashrc", before.encode(), after.encode())
    path.write_text(after.replace("disabled: export UV_CACHE_DIR=/media/u/STICK/c", "disabled: export UV_CACHE_DIR=/x"))
    with pytest.raises(engine.FixError, match=r"\.bashrc:3: line 3 reads `# uv-drive-guard disabled: export UV_C"):
        engine.undo(journal)


def test_force_says_what_it_discards_before_it_does(tmp_path: Path) -> None:
    _syntax, before = RC["bash"]
    after = _fixed(before, "posix")
    path, journal = _apply(tmp_path, ".bashrc", before.encode(), after.encode())
    path.write_text(after + "export LATER=1\n")
    asked: list[str] = []
    refused = workflow.run_undo(None, force=True, journal=journal, confirm=lambda q: asked.append(q) or False)
    assert refused.status == 1 and asked == ["Discard these changes?"]
    text = "\n".join(refused.lines)
    assert "-export LATER=1" in text and "(before the fix)" in text
    assert path.read_text() == after + "export LATER=1\n"
    done = workflow.run_undo(None, force=True, journal=journal, confirm=lambda q: True)
    assert done.status == 0 and path.read_text() == before


def test_toml_key_undo_keeps_other_edits(tmp_path: Path) -> None:
    before = '[project]\nname = "demo"\n\n[tool.uv]\npackage = false\n'
    after = tomledit.set_toml_key(before, "cache-dir", "/home/u/.cache/uv", table=("tool", "uv"))
    path, journal = _apply(tmp_path, "pyproject.toml", before.encode(), after.encode())
    edited = after.replace('name = "demo"\n', 'name = "demo"\nversion = "2.0"\n') + 'dev-dependencies = ["x"]\n'
    path.write_text(edited)
    engine.undo(journal)
    import tomllib

    data = tomllib.loads(path.read_text())
    assert "cache-dir" not in data["tool"]["uv"]
    assert data["project"]["version"] == "2.0" and data["tool"]["uv"]["dev-dependencies"] == ["x"]


def test_environment_d_file_we_created(tmp_path: Path) -> None:
    after = shellfile.set_in_block("", "UV_LINK_MODE", "copy", syntax="environment.d")
    path = tmp_path / "environment.d" / "60-uv-drive-guard.conf"
    journal = Journal(tmp_path / "journal")
    engine.apply(Plan(FINDING, FIX, (FileEdit(str(path), None, after.encode(), ("edit",)),)), journal)
    path.write_text(after + "PAGER=less\n")
    engine.undo(journal)
    assert path.read_text() == "PAGER=less\n"
    other = Journal(tmp_path / "journal2")
    engine.apply(
        Plan(FINDING, FIX, (FileEdit(str(path), b"PAGER=less\n", b"PAGER=less\n" + after.encode(), ()),)), other
    )
    engine.undo(other)
    assert path.read_text() == "PAGER=less\n"
    path.unlink()
    third = Journal(tmp_path / "journal3")
    engine.apply(Plan(FINDING, FIX, (FileEdit(str(path), None, after.encode(), ()),)), third)
    engine.undo(third)
    assert not path.exists()  # ours alone: removed, as if never made


_LINE = st.text(alphabet=st.sampled_from("abcxyz =$'\"#/_-{}"), max_size=20).filter(
    lambda x: "uv-drive-guard" not in x and "UV_CACHE_DIR" not in x and x.strip() != ""
)
_EDIT = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 40), _LINE),
    st.tuples(st.just("delete"), st.integers(0, 40), st.just("")),
    st.tuples(st.just("replace"), st.integers(0, 40), _LINE),
)
OURS = ("# >>> uv", "# Managed", "export UV_CACHE_DIR='/home", "set -gx UV_CACHE_DIR '/home", "# <<< uv")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shell=st.sampled_from(sorted(RC)), crlf=st.booleans(), edits=st.lists(_EDIT, max_size=8))
def test_property_undo_restores_the_setting_and_keeps_edits(
    tmp_path_factory: pytest.TempPathFactory, shell: str, crlf: bool, edits: list[tuple[str, int, str]]
) -> None:
    """Random later edits anywhere outside the fix's own lines (lines added, the person's lines
    deleted or rewritten, also inside our block): undo gives back the person's setting line,
    takes out every line of ours, and keeps every one of those edits."""
    syntax, text = RC[shell]
    nl = "\r\n" if crlf else "\n"
    before = _crlf(text) if crlf else text
    after = _fixed(before, syntax)  # type: ignore[arg-type]
    lines = [textlines.content(x)[0] for x in textlines.split(after)]  # the person's editor: one line end
    ours = [x.startswith((*OURS, textlines.DISABLED)) for x in lines]
    for number, (kind, position, line) in enumerate(edits):
        theirs = [i for i, mine in enumerate(ours) if not mine and lines[i]]
        if kind == "insert":
            at = min(position, len(lines))
            lines.insert(at, f"{line} #e{number}")
            ours.insert(at, False)
        elif theirs:
            at = theirs[position % len(theirs)]
            if kind == "delete":
                del lines[at], ours[at]
            else:
                lines[at] = f"{line} #e{number}"
    setting = next(x for x in before.split(nl) if "UV_CACHE_DIR" in x)
    expected = [
        setting if x.startswith(textlines.DISABLED) else x
        for x, mine in zip(lines, ours, strict=True)
        if x and (not mine or x.startswith(textlines.DISABLED))
    ]
    path, journal = _apply(tmp_path_factory.mktemp("prop"), f"rc.{shell}", before.encode(), after.encode())
    path.write_bytes((nl.join(lines) + nl).encode())
    engine.undo(journal)
    kept = [x for x in path.read_bytes().decode().split(nl) if x]
    assert kept == expected


class FlakyStore:
    name = "launchctl"

    def __init__(self, *, fail_restore: bool = False, fail_save: bool = False) -> None:
        self.values: dict[str, str | None] = {"UV_CACHE_DIR": "/media/u/STICK/c"}
        self.fail_restore, self.fail_save = fail_restore, fail_save

    def save(self, names: Iterable[str]) -> list[Saved]:
        if self.fail_save:
            raise OSError("launchd does not answer")
        return [Saved(n, self.values.get(n)) for n in names]

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def unset(self, name: str) -> None:
        self.values.pop(name, None)

    def restore(self, saved: Iterable[Saved]) -> None:
        if self.fail_restore:
            raise OSError("launchctl failed")
        for s in saved:
            self.values[s.name] = s.value

    def describe_set(self, name: str, value: str) -> str:
        return f"launchctl setenv {name} {value}"

    def describe_unset(self, name: str) -> str:
        return f"launchctl unsetenv {name}"


def _store_fix(tmp_path: Path, store: FlakyStore) -> tuple[Path, Journal, bytes]:
    rc = tmp_path / ".zshrc"
    rc.write_bytes(b"export A=1\n")
    after = shellfile.set_in_block("export A=1\n", "UV_CACHE_DIR", "/home/u/c", syntax="posix").encode()
    journal = Journal(tmp_path / "journal")
    edit = StoreEdit("launchctl", "UV_CACHE_DIR", "/home/u/c", "set")
    engine.apply(
        Plan(FINDING, FIX, (FileEdit(str(rc), b"export A=1\n", after, ()),), (edit,)), journal, {"launchctl": store}
    )
    return rc, journal, after


def test_undo_is_all_or_nothing_across_files_and_stores(tmp_path: Path) -> None:
    store = FlakyStore()
    rc, journal, after = _store_fix(tmp_path, store)
    assert store.values["UV_CACHE_DIR"] == "/home/u/c"
    with pytest.raises(engine.FixError, match="cannot reach launchctl"):
        engine.undo(journal, stores={})
    assert rc.read_bytes() == after  # the store was checked before any file was touched
    store.fail_save = True
    with pytest.raises(engine.FixError, match="launchd does not answer"):
        engine.undo(journal, stores={"launchctl": store})
    assert rc.read_bytes() == after
    store.fail_save, store.fail_restore = False, True
    with pytest.raises(engine.FixError, match="everything was left as it was"):
        engine.undo(journal, stores={"launchctl": store})
    assert rc.read_bytes() == after and journal.find(None) is not None  # the file was rolled back
    store.fail_restore = False
    assert engine.undo(journal, stores={"launchctl": store}).state == UNDONE
    assert rc.read_bytes() == b"export A=1\n" and store.values["UV_CACHE_DIR"] == "/media/u/STICK/c"


def test_apply_refuses_before_writing_when_a_store_is_unreachable(tmp_path: Path) -> None:
    rc = tmp_path / ".zshrc"
    rc.write_bytes(b"x\n")
    edit = StoreEdit("launchctl", "UV_CACHE_DIR", "/home/u/c", "set")
    plan = Plan(FINDING, FIX, (FileEdit(str(rc), b"x\n", b"y\n", ()),), (edit,))
    journal = Journal(tmp_path / "journal")
    with pytest.raises(engine.FixError, match="cannot reach launchctl"):
        engine.apply(plan, journal, {})
    with pytest.raises(engine.FixError, match="launchd does not answer"):
        engine.apply(plan, journal, {"launchctl": FlakyStore(fail_save=True)})
    assert rc.read_bytes() == b"x\n" and journal.entries() == []


def test_same_second_fixes_undo_in_applied_order_and_prefixes_must_be_unique(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    ids = []
    stamp = time.time()
    for name, fix_id in (("a", "uvd006-zzz"), ("b", "uvd003-aaa")):  # ids sort the other way round
        rc = tmp_path / name
        rc.write_bytes(b"1\n")
        fix = Fix(fix_id, f"fix {name}", "d", ())
        ids.append(engine.apply(Plan(FINDING, fix, (FileEdit(str(rc), b"1\n", b"2\n", ()),)), journal).id)
    assert time.time() - stamp < 1.5
    assert [e.id for e in journal.entries()] == ids[::-1]
    assert journal.find(None).id == ids[1]  # "last" is the last applied, whatever its name
    assert engine.undo(journal).id == ids[1]
    common = ids[0][:9]
    assert ids[1].startswith(common)
    with pytest.raises(engine.FixError, match=f"'{common}' names 2 fixes .*{ids[0]}"):
        engine.undo(journal, common)


def test_a_failed_verification_says_applied_not_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc = tmp_path / ".bashrc"
    rc.write_bytes(b"x\n")
    plan = Plan(FINDING, FIX, (FileEdit(str(rc), b"x\n", b"y\n", ("edit",)),))
    monkeypatch.setattr(workflow, "prepare", lambda *a: plan)

    def broken(*a: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workflow, "after_fix", broken)
    journal = Journal(tmp_path / "journal")
    outcome = workflow.run_fix("x", {}, None, dry_run=False, confirm=lambda q: True, journal=journal)  # type: ignore[arg-type]
    assert outcome.status == 0
    entry = journal.entries()[0]
    warning = next(line for line in outcome.lines if line.startswith("warning: applied, not verified: "))
    assert "No space left on device" in warning and f"uv-drive-guard undo {entry.id}" in warning
    assert atomic.read_bytes(rc) == b"y\n"


def test_removing_our_blank_separator_is_not_a_change_of_ours(tmp_path: Path) -> None:
    _syntax, before = RC["bash"]
    after = _fixed(before, "posix")
    path, journal = _apply(tmp_path, ".bashrc", before.encode(), after.encode())
    path.write_text(after.replace("\n\n" + textlines.BEGIN, "\n" + textlines.BEGIN) + "export LATER=1\n")
    engine.undo(journal)
    assert path.read_text() == before + "export LATER=1\n"
