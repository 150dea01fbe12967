"""What findings say, in a person's words: the pieces every rule's text is made of.

Each rule's own text lives with its rule (core/rules/*.py); what they share is here: the names
of uv's directories and of drives, where a setting is set, and how uv words its error chains.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import capability as cap
from .model import Location, Op, Role, Volume
from .versions import Version

ROLE_NAMES = {
    Role.CACHE: "uv's cache",
    Role.TOOL_DIR: "uv's tool directory",
    Role.TOOL_BIN_DIR: "uv's tool executables directory",
    Role.PYTHON_INSTALL_DIR: "uv's Python installations",
    Role.PYTHON_BIN_DIR: "uv's Python executables directory",
    Role.PROJECT_ENVIRONMENT: "the project's environment",
    Role.VENV: "the virtual environment",
    Role.TEMP_DIR: "the temporary directory",
}


@dataclass(frozen=True)
class Text:
    title: str
    detail: str
    uv_message: str


# What uv keeps in each of its directories, for a sentence such as "uv cannot keep environments there".
HELD = {
    Role.CACHE: "its cache",
    Role.TOOL_DIR: "tools",
    Role.TOOL_BIN_DIR: "tool executables",
    Role.PYTHON_INSTALL_DIR: "Python installations",
    Role.PYTHON_BIN_DIR: "Python executables",
    Role.PROJECT_ENVIRONMENT: "environments",
    Role.VENV: "environments",
    Role.TEMP_DIR: "temporary files",
}
FS_NAMES = {
    "exfat": "exFAT",
    "vfat": "FAT32",
    "ntfs": "NTFS",
    "msdos": "FAT",
    "apfs": "APFS",
    "onedrive": "OneDrive",
    "nfs": "NFS",
    "nfs4": "NFS",
    "overlay": "overlayfs",
}


def filesystem(vol: Volume) -> str:
    """'exFAT', 'FAT32', 'ext4': the filesystem as people name it."""
    return FS_NAMES.get(vol.fstype, vol.fstype)


def drive(vol: Volume) -> str:
    """'STICK (exFAT)' for a person; the mount point when there is no label."""
    return f"{vol.name} ({filesystem(vol)})"


def unread(uv: Version | None) -> str:
    """A sentence for a finding that depends on uv's version when that version is unknown: an
    unknown uv is never taken for a current one (core/versions.py)."""
    if uv is not None:
        return ""
    unknown = "uv's version could not be read here (uv was not found, or did not answer)"
    return f" {unknown}: this is what the versions that fail do."


def where(loc: Location) -> str:
    """Where the setting lives, so a person can find it."""
    if loc.source.kind.value == "default":
        return "uv's default location"
    return f"set by {loc.source.describe()}"


def guess_note(vol: Volume) -> str:
    """Said after a drive's limits where they come from its filesystem type, not from a probe."""
    if cap.guessed(vol):
        return " (judged from the filesystem type; the drive was not probed)"
    return ""


def sentence(text: str) -> str:
    """Capitalise a sentence's first letter, but never uv's name: it is always lowercase."""
    return text if text.startswith("uv") else text[:1].upper() + text[1:]


def os_error(vol: Volume, op: Op, fallback: str) -> str:
    """The error the drive gave for an operation, as uv prints it; the usual one where not probed."""
    return vol.capabilities.error(op) or fallback


def cause_prefix(uv: Version | None) -> str:
    """uv prints `cause:` since 0.12.14 and `Caused by:` before (bisected with real uv)."""
    return "  Caused by: " if uv is not None and uv < (0, 12, 14) else "  cause: "


def spawn(script: str | None, uv: Version | None) -> str:
    """`Failed to spawn: `x`` up to 0.10.5 (seen), `Failed to spawn: x` in 0.13.9 (seen); the
    switch is taken to be the error-chain rework of 0.12.14, like the `cause:` prefix (not bisected)."""
    name = script or "..."
    return (
        f"Failed to spawn: `{name}`" if uv is not None and uv < (0, 12, 14) and script else f"Failed to spawn: {name}"
    )


def shadowed_text(loc: Location) -> str:
    """The other definitions of the setting: those where uv would fail too, and the one uv
    would use once they are gone ("also set in ~/.config/uv/uv.toml, line 1")."""
    sentences = []
    for layer in loc.shadowed:
        if layer.source.kind.value == "default":
            break
        if layer.fails or (layer.volume is not None and layer.volume == loc.volume):
            sentences.append(f"It is also set {set_in(layer)}, to {layer.path}, where uv would fail too.")
            continue
        sentences.append(f"Without these, uv would use {layer.path} (set {set_in(layer)}).")
        break
    return " ".join(sentences)


def set_in(loc: Location) -> str:
    """`in ~/.config/uv/uv.toml, line 1 (cache-dir)`: where a person finds the definition."""
    source = loc.source
    line = f", line {source.line}" if source.file and source.line else ""
    what = f" ({source.name})" if source.name else ""
    where_ = source.file or {"environment": "this terminal's environment"}.get(source.kind.value, source.kind.value)
    return f"in {where_}{line}{what}"
