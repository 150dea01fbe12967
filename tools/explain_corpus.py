"""Make the explain corpus (tests/data/uv-output/linux) from real uv's own words.

1. What real uv printed in the prediction matrix, kept per cell with
   `UVDG_RECORD_UV_OUTPUT=DIR pytest tests/realfs/test_matrix.py` (root, loop devices, FUSE);
2. errors that are no drive's doing, made here with real uv and nothing from the network:
   a package that does not exist (offline), an index on a closed local port, a Python
   version that is not installed, a build backend that fails.

    python tools/explain_corpus.py RECORDED_DIR [OUT_DIR]

For each filesystem, scenario and uv release that failed or warned, one file: a header with
the source and the rules the scan predicted (`# expect: UVD006`), then uv's output with this
machine's temporary paths replaced by a person's (`/home/ana`, `/media/ana/STICK`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "uv-output" / "linux"
KEEP_VERSIONS = ("0.9.17", "0.10.5", "0.13.10")  # before and after the context lines, and now
UV = Path(sys.executable).parent / "uv"

_TEMP = re.compile(r"/tmp/pytest-of-[^/\s`']+/pytest-\d+/[^/\s`']+")
_MOUNT = re.compile(r"/mnt/uvdg-matrix-[0-9a-f]+/[A-Za-z0-9-]+")
_GONE = re.compile(r"/tmp/gone-[A-Za-z0-9-]+")  # a drive the test never mounted
_RANDOM = re.compile(r"\.tmp[A-Za-z0-9]{6}")


def person(text: str) -> str:
    """This machine's throwaway places as a person's: the words around them are uv's own."""
    text = _MOUNT.sub("/media/ana/STICK", text)
    text = _TEMP.sub("/home/ana/work", text)
    text = _GONE.sub("/media/ana/FAST", text)
    return _RANDOM.sub(".tmpXXXXXX", text)


def from_matrix(recorded: Path, out: Path) -> int:
    written = 0
    for path in sorted(recorded.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0]
        match = re.match(r"# uv (\S+), (\S+) on (\S+): (\w+); scan: (.*)", header)
        if match is None or match.group(4) not in ("fails", "warns", "skip"):
            continue
        version, scenario, kind, actual, codes = match.groups()
        if version not in KEEP_VERSIONS:
            continue
        expect = sorted({c.split(":", 1)[0] for c in codes.split(", ") if c.startswith("UVD")})
        if actual == "skip":  # no venv could be made on the drive: uv's own refusal, as UVD005 says
            expect = ["UVD005"]
        if not expect:
            continue
        body = person("\n".join(line for line in lines[1:] if not line.startswith("$ ")))
        source = f"real uv {version}, {scenario} on {kind} ({actual}), tests/realfs/test_matrix.py"
        text = f"# source: {source}\n# expect: {' '.join(expect)}\n{body.strip()}\n"
        (out / f"{scenario}-{kind}-uv-{version}.txt").write_text(text, encoding="utf-8")
        written += 1
    return written


def not_drives(out: Path) -> int:
    """uv's errors that are about something else than drives, made here with real uv."""
    work = Path(tempfile.mkdtemp(prefix="uvdg-corpus-"))
    env = {"HOME": str(work), "PATH": "/usr/bin:/bin", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}
    try:
        venv = work / "venv"
        subprocess.run(
            [str(UV), "venv", str(venv), "--python", sys.executable], env=env, check=True, capture_output=True
        )
        backend = work / "broken"
        backend.mkdir()
        (backend / "pyproject.toml").write_text(
            '[project]\nname = "broken"\nversion = "0.1"\n[build-system]\nrequires = []\n'
            'build-backend = "backend"\nbackend-path = ["."]\n'
        )
        (backend / "backend.py").write_text("def build_wheel(*args, **kwargs):\n    raise RuntimeError('no')\n")
        cases = {
            "resolution-offline": [str(UV), "pip", "install", "--offline", "--python", str(venv), "no-such-package"],
            "network-closed-port": [
                str(UV), "pip", "install", "--python", str(venv), "--index-url", "http://127.0.0.1:9/simple", "tinypkg",
            ],
            "interpreter-missing": [str(UV), "venv", str(work / "v2"), "--python", "3.99"],
            "build-backend-fails": [str(UV), "build", "--wheel", str(backend), "--no-build-isolation"],
            "externally-managed": [str(UV), "pip", "install", "--offline", "--python", "/usr/bin/python3", "x"],
        }  # fmt: skip
        version = subprocess.run([str(UV), "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
        written = 0
        for name, argv in cases.items():
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
            text = done.stderr.replace(str(work), "/home/ana/work").replace(sys.executable, "/usr/bin/python3")
            header = f"# source: real uv {version}, uv {argv[1]} ({name}): not about drives\n# expect: not-drive\n"
            (out / f"{name}-uv-{version}.txt").write_text(header + text.strip() + "\n", encoding="utf-8")
            written += 1
        return written
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    recorded = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    out.mkdir(parents=True, exist_ok=True)
    count = from_matrix(recorded, out) + not_drives(out)
    print(f"{count} files in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
