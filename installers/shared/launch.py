"""The frozen builds' entry script (PyInstaller runs it as __main__).

A bundle opened from Finder, the Start menu or a login item may get no arguments at all (or
macOS's old `-psn_...` process-serial-number argument): that means "start the daemon", not
"print the help". From a terminal, every command works as with the installed package.
"""

from __future__ import annotations

import sys

from uv_drive_guard.cli import main


def _argv() -> list[str]:
    args = [a for a in sys.argv[1:] if not a.startswith("-psn_")]
    if not args and getattr(sys, "frozen", False) and sys.platform in ("darwin", "win32"):
        return ["run"]
    return args


if __name__ == "__main__":
    raise SystemExit(main(_argv()))
