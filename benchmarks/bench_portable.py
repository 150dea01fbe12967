"""Per-prompt cost of the portable-projects shell hook, in microseconds, for each shell.

Run: .venv/bin/python benchmarks/bench_portable.py [--calls N]
Each shell sources a generated file covering 1, 10 or 50 projects, stands in a project (and
outside every project: all patterns tried), and calls the hook N times in a loop; the same
loop with a no-op is subtracted. Target: under 1 ms (1000 us) per prompt. Prints figures;
asserts nothing.
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

from uv_drive_guard.core.model import Os, PortableDrive  # noqa: E402
from uv_drive_guard.fixing import portable  # noqa: E402

SHELLS = ("bash", "zsh", "dash", "fish")


def _loop(shell: str, file: Path, where: Path, calls: int, body: str) -> list[str]:
    if shell == "fish":
        script = f"source '{file}'; cd '{where}'; for i in (seq {calls}); {body}; end"
        return ["fish", "--no-config", "-c", script]
    script = f". '{file}'; cd '{where}'; i=0; while [ $i -lt {calls} ]; do {body}; i=$((i+1)); done"
    return [shell, "-f", "-c", script] if shell == "zsh" else [shell, "-c", script]


def _seconds(argv: list[str]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def per_call(shell: str, file: Path, where: Path, calls: int) -> float:
    """Microseconds per hook call, the loop's own cost taken off."""
    noop = "true" if shell == "fish" else ":"
    hook = _seconds(_loop(shell, file, where, calls, "__uvdg_portable_hook"))
    base = _seconds(_loop(shell, file, where, calls, noop))
    return max(0.0, (hook - base) / calls * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        mount = base / "media" / "STICK"
        for count in (1, 10, 50):
            rels = tuple(f"projects/p{i:02d}" for i in range(count))
            for rel in rels:
                (mount / rel).mkdir(parents=True, exist_ok=True)
            drive = PortableDrive("1a2b-3c4d", "STICK", True, (), rels, str(mount), str(mount))
            data = base / f"data{count}"
            portable.regenerate(data, Os.LINUX, (drive,))
            print(f"== {count} project(s) covered")
            for shell in SHELLS:
                if shutil.which(shell) is None:
                    print(f"  {shell:5} not installed")
                    continue
                file = data / ("portable.fish" if shell == "fish" else "portable.sh")
                inside = per_call(shell, file, mount / rels[0], args.calls)
                outside = per_call(shell, file, base, args.calls)
                print(f"  {shell:5} inside a project {inside:7.1f} us   outside {outside:7.1f} us   (target < 1000 us)")


if __name__ == "__main__":
    main()
