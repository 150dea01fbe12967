"""Per-command cost of the hint's `uv` function, in microseconds, in bash, zsh and fish.

Run: .venv/bin/python benchmarks/bench_hint.py [--calls N]
Each shell (interactive, as a person's) sources a generated file with the hint on (1 or 10
drives with a line, and uv's cache on one of them) and calls `uv sync` N times in a loop, in a
folder on a drive and outside every drive, where uv succeeds and where it fails. So that only the
function's own statements are timed, the file's one `command uv` is replaced by a shell function
that returns the wanted status; the same loop calling that function directly is subtracted. What
starting the real uv costs is printed beside it. Target: under 1 ms (1000 us) per command when uv
succeeds. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon")]

from uv_drive_guard.core.model import HintLine, Os, PortableDrive  # noqa: E402
from uv_drive_guard.fixing import portable  # noqa: E402

SHELLS = {
    "bash": ["bash", "--norc", "--noprofile", "-i", "-c"],
    "zsh": ["zsh", "-f", "-i", "-c"],
    "fish": ["fish", "--no-config", "-i", "-c"],
}
STAND_IN = {
    "posix": ('command uv "$@"', '__uvdg_bench_uv "$@"', '__uvdg_bench_uv() { return "$UVX"; }\n'),
    "fish": ("command uv $argv", "__uvdg_bench_uv $argv", "function __uvdg_bench_uv; return $UVX; end\n"),
}


def _stand_in(file: Path, kind: str) -> Path:
    """The generated file with its one spawn of uv replaced: the rest is timed as written."""
    old, new, define = STAND_IN[kind]
    text = file.read_text()
    assert text.count(old) == 1, f"{file}: expected one `{old}`"
    out = file.with_name(f"bench-{file.name}")
    out.write_text(define + text.replace(old, new))
    return out


def _loop(shell: str, file: Path, where: Path, calls: int, body: str, status: int) -> list[str]:
    if shell == "fish":
        script = f"set -g UVX {status}; source '{file}'; cd '{where}'; for i in (seq {calls}); {body}; end 2>/dev/null"
    else:
        script = (
            f"UVX={status}; . '{file}'; cd '{where}'; i=0; "
            f"while [ $i -lt {calls} ]; do {body}; i=$((i+1)); done 2>/dev/null"
        )
    return [*SHELLS[shell], script]


def _seconds(argv: list[str], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=False, capture_output=True, stdin=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def per_call(shell: str, file: Path, where: Path, calls: int, status: int) -> float:
    """Microseconds per `uv sync` through the function, the stand-in's own cost taken off."""
    wrapped = _seconds(_loop(shell, file, where, calls, "uv sync", status))
    direct = _seconds(_loop(shell, file, where, calls, "__uvdg_bench_uv sync", status))
    return max(0.0, (wrapped - direct) / calls * 1e6)


def real_uv(calls: int) -> float | None:
    """Milliseconds per `uv --version`: what starting uv itself costs, for scale."""
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        return None
    start = time.perf_counter()
    for _ in range(calls):
        subprocess.run([uv, "--version"], check=True, capture_output=True)
    return (time.perf_counter() - start) / calls * 1e3


def _world(base: Path, drives: int, portable_projects: int) -> tuple[Path, Path]:
    """`drives` drives with a line each (the first holding uv's cache); `portable_projects`
    projects set up on a drive too (bash's function then runs the prompt hook first)."""
    lines = []
    for i in range(drives):
        mount = base / "media" / f"STICK{i:02d}"
        (mount / "demo").mkdir(parents=True, exist_ok=True)
        text = (
            f"uv-drive-guard: STICK{i:02d} is exFAT; uv cannot keep environments there. Run `uv-drive-guard explain`."
        )
        lines.append(HintLine(text, str(mount), str(mount / "demo")))
    first = base / "media" / "STICK00"
    cache = HintLine(
        "uv-drive-guard: uv's cache is on STICK00 (exFAT); uv cannot keep its cache there.",
        str(first),
        str(first / "demo"),
        everywhere=True,
        variable="UV_CACHE_DIR",
        flags=("--cache-dir", "--no-cache", "-n"),
    )
    records = ()
    if portable_projects:
        rels = tuple(f"projects/p{i:02d}" for i in range(portable_projects))
        for rel in rels:
            (first / rel).mkdir(parents=True, exist_ok=True)
        records = (PortableDrive("1a2b-3c4d", "STICK00", True, (), rels, str(first), str(first)),)
    data = base / f"data-{drives}-{portable_projects}"
    portable.regenerate(data, Os.LINUX, records, (*sorted(lines, key=lambda x: -len(x.mount)), cache))
    return data, first / "demo"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    spawn = real_uv(50)
    if spawn is not None:
        print(f"starting uv itself (`uv --version`): {spawn:.2f} ms per command, for scale")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for drives, projects in ((1, 0), (10, 0), (10, 10)):
            data, on_drive = _world(base, drives, projects)
            extra = f", and {projects} portable projects" if projects else ""
            print(f"== the hint on: {drives} drive(s) with a line, uv's cache on one{extra} (target < 1000 us)")
            for shell in SHELLS:
                if shutil.which(shell) is None:
                    print(f"  {shell:5} not installed")
                    continue
                kind = "fish" if shell == "fish" else "posix"
                file = _stand_in(data / ("portable.fish" if kind == "fish" else "portable.sh"), kind)
                ok_in = per_call(shell, file, on_drive, args.calls, 0)
                ok_out = per_call(shell, file, base, args.calls, 0)
                bad_in = per_call(shell, file, on_drive, args.calls // 4, 2)
                bad_out = per_call(shell, file, base, args.calls // 4, 2)
                print(
                    f"  {shell:5} uv succeeds: on a drive {ok_in:6.1f} us, elsewhere {ok_out:6.1f} us"
                    f"   uv fails (a line said): on a drive {bad_in:6.1f} us, elsewhere {bad_out:6.1f} us"
                )


if __name__ == "__main__":
    main()
