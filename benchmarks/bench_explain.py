"""Figures for `explain`: from the end of uv's output to the answer.

A real exFAT image holds uv's cache (root, /dev/fuse, exfatprogs and exfat-fuse; .ci/run installs
them), real uv fails on it, and its output is piped into `uv-drive-guard explain` as a person
would (`uv pip install ... 2>&1 | uv-drive-guard explain`): the time from the last byte of the
output to explain's exit, over several runs. Then the same with no output, in a project on the
stick. Prints figures; asserts nothing.

Run: .venv/bin/python benchmarks/bench_explain.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from tests.realfs import drives  # noqa: E402

BIN = Path(sys.executable).parent


def answer_time(argv: list[str], output: str, env: dict[str, str], cwd: Path, *, uv_runs: float = 1.0) -> float:
    """Seconds from the end of uv's output (stdin closed) to explain's exit. In a pipe both run
    at once: explain starts while uv works (here: `uv_runs` seconds), and waits for the end."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    assert proc.stdin is not None
    time.sleep(uv_runs)
    proc.stdin.write(output.encode())
    start = time.perf_counter()
    proc.stdin.close()
    proc.wait()
    return time.perf_counter() - start


def report(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    print(f"{name:62} median {statistics.median(ms):6.0f} ms   min {ms[0]:5.0f}   max {ms[-1]:5.0f}  (n={len(ms)})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    reason = drives.requirement("exfat")
    if reason:
        print(f"not measured: {reason}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with drives.make_drive("exfat", work / "mnt", label="STICK") as stick:
            home = work / "home"
            cache = stick.mountpoint / "uv-cache"
            (home).mkdir()
            (home / ".bashrc").write_text(f"export UV_CACHE_DIR={cache}\n")
            env = drives.uv_env(home, UV_CACHE_DIR=str(cache))
            env["PATH"] = f"{BIN}:{env['PATH']}"
            failed = drives.run_uv(["venv", str(work / "venv"), "--python", drives.base_python()], env)
            output = failed.stderr
            assert failed.returncode != 0, "uv did not fail: nothing to explain"
            explain = [str(BIN / "uv-drive-guard"), "explain"]
            piped = [answer_time(explain, output, env, work) for _ in range(args.runs)]
            report("uv's output piped in, cache on exFAT: its end to the answer", piped)
            project = stick.mountpoint / "demo"
            project.mkdir()
            (project / "pyproject.toml").write_text(drives.PYPROJECT)
            cold = [answer_time(explain, "", env, project, uv_runs=0.0) for _ in range(args.runs)]
            report("no output, in a project on exFAT: start to answer", cold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
