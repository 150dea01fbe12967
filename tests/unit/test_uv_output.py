"""uv's output is read as the UTF-8 it is, whatever the locale says.

uv prints UTF-8 (Rust strings; paths through `Path::display`, crates/uv/src/commands/cache_dir.rs).
Windows decodes a child's text in the ANSI code page (cp1252) unless told otherwise: a profile
`C:\\Users\\José` read back as `JosÃ©` gave a false "uv puts its cache at ..." on every scan, and a
byte cp1252 lacks (0x81, the second byte of "Ł") failed the reader thread, so communicate()
returned None and the whole scan failed. The fake uv here writes UTF-8 bytes; the parent runs
under a real locale that is not UTF-8 (C, with Python's UTF-8 mode and locale coercion off).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from uv_drive_guard.edges import proc, uvcli

PROFILE = "C:\\Users\\José Łukasiewicz"
FAKE_UV = """#!{python}
import sys
answers = {{
    "--version": "uv 0.13.9 (Łódź build)",
    "cache dir": {profile!r} + "\\\\AppData\\\\Local\\\\uv\\\\cache",
    "tool dir": {profile!r} + "\\\\AppData\\\\Roaming\\\\uv\\\\tools",
    "tool dir --bin": {profile!r} + "\\\\.local\\\\bin",
    "python dir": {profile!r} + "\\\\AppData\\\\Roaming\\\\uv\\\\python",
    "python dir --bin": {profile!r} + "\\\\.local\\\\bin",
}}
sys.stdout.buffer.write(answers[" ".join(sys.argv[1:])].encode("utf-8") + b"\\n")
"""
ASK = """
import json, sys
from uv_drive_guard.edges import uvcli
info = uvcli.ask(sys.argv[1], {"PATH": "/usr/bin:/bin"})
print(json.dumps({"version": info.version, "reported": dict(info.reported)}))
"""


def fake_uv(tmp_path: Path) -> Path:
    uv = tmp_path / "uv"
    uv.write_text(FAKE_UV.format(python=sys.executable, profile=PROFILE), encoding="utf-8")
    uv.chmod(0o755)
    return uv


def not_utf8_locale() -> dict[str, str]:
    """The C locale with Python's own escapes from it off: the locale encoding is ASCII."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
    return {**env, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}


def test_the_locale_really_is_not_utf8() -> None:
    """The premise: under this locale, plain text mode would not read UTF-8."""
    check = "import locale, sys; print(sys.flags.utf8_mode, locale.getencoding())"
    done = subprocess.run([sys.executable, "-c", check], env=not_utf8_locale(), capture_output=True, text=True)
    assert done.stdout.split() == ["0", "ANSI_X3.4-1968"]


def test_uv_answers_are_read_as_utf8_under_a_locale_that_is_not(tmp_path: Path) -> None:
    uv = fake_uv(tmp_path)
    done = subprocess.run([sys.executable, "-c", ASK, str(uv)], env=not_utf8_locale(), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    info = json.loads(done.stdout)
    assert info["version"] == "uv 0.13.9 (Łódź build)"
    assert info["reported"]["cache"] == PROFILE + "\\AppData\\Local\\uv\\cache"
    assert set(info["reported"]) == set(uvcli.QUERIES)


def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    """A child that writes its own code page: its text is kept, the odd byte marked, no error."""
    script = (
        "import sys; sys.stdout.buffer.write(b'Jos\\xc3\\xa9 \\xe9t\\xe9 \\x81'); sys.stderr.buffer.write(b'\\xff')"
    )
    done = proc.run([sys.executable, "-c", script], text=True, timeout=30)
    assert (done.stdout, done.stderr) == ("José \ufffdt\ufffd \ufffd", "\ufffd")
    child = proc.popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    out, _ = child.communicate(timeout=30)
    assert out == "José \ufffdt\ufffd \ufffd"


def test_an_answer_that_could_not_be_read_is_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' communicate() returns None for an output its reader thread failed on (CPython
    Lib/subprocess.py, `_readerthread` and `stdout = stdout[0] if stdout else None`)."""

    class Unreadable:
        returncode = 0

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            return None

        def communicate(self, timeout: float | None = None) -> tuple[None, None]:
            return None, None

    monkeypatch.setattr(proc, "popen", lambda *args, **kwargs: Unreadable())
    info = uvcli.ask("uv", {}, confirm=True)
    assert (info.version, info.reported) == (None, ())
