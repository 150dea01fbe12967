"""The uv releases the matrix runs: the venv's own, and those installed side by side in
``$UVDG_UV_VERSIONS`` (default ``<repo>/.uv-versions``), one per directory."""

from __future__ import annotations

import os
from pathlib import Path

from .against_uv import VENV_BIN

ROOT = Path(__file__).resolve().parents[2]
VENV_UV = "venv"  # the label of the venv's own uv (0.13.9 at the time of writing)


def versions_dir() -> Path:
    return Path(os.environ.get("UVDG_UV_VERSIONS") or ROOT / ".uv-versions")


def uv_bin_dir(version: str) -> Path | None:
    """The directory holding the uv of ``version`` (first on PATH for scan and uv), or None."""
    if version == VENV_UV:
        return VENV_BIN if (VENV_BIN / "uv").is_file() else None
    candidate = versions_dir() / version / "bin"
    return candidate if (candidate / "uv").is_file() else None


def install_hint(version: str) -> str:
    target = versions_dir() / version
    return (
        f"uv {version} is not installed in {versions_dir()}; "
        f"run: {VENV_BIN / 'python'} -m pip install --no-deps uv=={version} --target {target}"
    )
