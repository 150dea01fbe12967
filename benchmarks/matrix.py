"""The prediction matrix for docs/reliability.md: `scan --json` against real uv, per filesystem,
uv role and uv release (the same cells and table as tests/realfs/test_matrix.py).

Run (as root, with the mkfs/FUSE tools .ci/run installs, and the uv releases installed in
$UVDG_UV_VERSIONS, default .uv-versions/):

    .venv/bin/python benchmarks/matrix.py [--kinds exfat,ntfs] [--scenarios cache,tool-dir] [--versions venv,0.9.17]

Prints the Markdown table, then the disagreements in full. Exit status 1 when a prediction
differs from what uv did, 2 when nothing could run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "daemon"), str(ROOT)]

from tests.realfs import drives, uv_versions  # noqa: E402
from tests.realfs import test_matrix as matrix  # noqa: E402


def _list(value: str, known: list[str]) -> list[str]:
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in chosen if v not in known]
    if unknown:
        raise SystemExit(f"unknown: {', '.join(unknown)} (known: {', '.join(known)})")
    return chosen


def main(argv: list[str] | None = None) -> int:
    versions = [uv_versions.VENV_UV, *matrix.OTHER_VERSIONS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(matrix.KINDS))
    parser.add_argument("--scenarios", default=",".join(matrix.SCENARIOS))
    parser.add_argument("--versions", default=",".join(versions))
    args = parser.parse_args(argv)
    kinds = _list(args.kinds, list(matrix.KINDS))
    scenarios = _list(args.scenarios, list(matrix.SCENARIOS))
    wanted = _list(args.versions, versions)

    notes: list[str] = []
    if not matrix.CLI.is_file():
        print(f"the uv-drive-guard CLI is not installed beside {sys.executable}", file=sys.stderr)
        return 2
    usable = []
    for version in wanted:
        if uv_versions.uv_bin_dir(version) is None:
            notes.append(f"left out: {uv_versions.install_hint(version)}")
        else:
            usable.append(version)
    ready = []
    for kind in kinds:
        reason = drives.requirement(kind)
        if reason:
            notes.append(f"left out: {reason}")
        else:
            ready.append(kind)
    if not usable or not ready:
        print("\n".join(notes) or "nothing to run", file=sys.stderr)
        return 2

    cells: list[matrix.Cell] = []
    start = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="uvdg-matrix-") as tmp,
        matrix.mount_root() as root,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        wheels = matrix.make_wheels(work / "wheels")
        pool = matrix.DrivePool(root, stack)
        n = 0
        for kind in ready:
            for scenario in (s for s in scenarios if matrix.applies(kind, s)):
                for version in usable:
                    n += 1
                    setup = matrix.Setup(pool.get(kind), root, wheels, work / f"cell-{n}")
                    cell = matrix.run_cell(scenario, version, setup)
                    cells.append(cell)
                    print(f"{scenario} {kind} {cell.version}: {cell.predicted} / {cell.actual}", file=sys.stderr)
    elapsed = time.monotonic() - start

    print(matrix.table(cells))
    bad = [c for c in cells if not c.agrees]
    print()
    print(
        f"{len(cells)} cells in {elapsed:.0f} s; {len(bad)} predictions differ from uv;"
        f" {sum(bool(c.unsaid) for c in cells)} predicted messages differ from uv's."
    )
    for note in notes:
        print(note)
    more = matrix.details(cells)
    if more:
        print()
        print(more)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
