"""Time to read a startup file (the scan) and to edit it (the set-a-variable fix), in ms.

Run: .venv/bin/python benchmarks/bench_shellfiles.py [--repeat N]
Files: a 5,000-line bashrc of aliases and PATH lines, one with a 1 MiB quoted line (hostile
drives and odd dotfiles make both), and a 1 MiB unquoted value. Both steps go through the one
shell lexer. Best of N runs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon")]

from uv_drive_guard.core.shellparse import parse_shell  # noqa: E402
from uv_drive_guard.fixing import shellfile  # noqa: E402

NAME = "UV_CACHE_DIR"
FILES = {
    "bashrc, 5000 lines": "".join(f"alias a{i}='ls -l'  # {i}\nexport PATH=$HOME/b{i}:$PATH\n" for i in range(2500))
    + f"export {NAME}=/media/x\n",
    "1 MiB quoted line": "export JUNK='" + "j" * (1 << 20) + f"'\nexport {NAME}=/media/x\n",
    "1 MiB value": f"export {NAME}=/" + "a" * (1 << 20) + "\n",
}


def _read(text: str) -> None:
    parse_shell(text, file="rc", names=[NAME], known={"HOME": "/home/u"})


def _edit(text: str) -> None:
    for line in shellfile.lines_setting(text, NAME, syntax="posix"):
        text = shellfile.disable_line(text, line, None, syntax="posix")
    shellfile.set_in_block(text, NAME, "/home/u/.cache/uv", syntax="posix")


def _best(step: Callable[[str], None], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        step(text)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    print(f"{'file':24} {'read ms':>9} {'edit ms':>9}")
    for label, text in FILES.items():
        print(f"{label:24} {_best(_read, text, repeat):9.1f} {_best(_edit, text, repeat):9.1f}")


if __name__ == "__main__":
    main()
