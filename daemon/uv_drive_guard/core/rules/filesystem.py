"""What a drive's filesystem cannot hold that an environment needs: symbolic links, junctions,
file modes, big files, and what macOS adds to it (UVD004, UVD005, UVD008, UVD013, UVD014).
"""

from __future__ import annotations

from collections.abc import Iterator

from .. import capability as cap
from ..fixes import dot_clean, local_project_environment, move_off_drive, reformat
from ..messages import HELD, ROLE_NAMES, Text, cause_prefix, drive, guess_note, os_error, sentence, where
from ..model import Fix, Location, Op, Os, Role, Severity, Snapshot, SourceKind, Volume
from ..versions import Version, may_be_at_least
from .base import BIN_ROLES, ENV_ROLES, Hit, Rule, Scene, keep_on_computer, present
from .links import chmod_refused

# --- the checks -------------------------------------------------------------------------


def check_no_symlinks(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if not scene.os.unix or loc.role not in ENV_ROLES + BIN_ROLES:
        return
    if cap.symlinks(vol, scene.os) is False:
        yield Hit(loc, no_symlinks_text(loc, vol, scene.os, scene.uv))


def check_no_junctions(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if scene.os is not Os.WINDOWS or loc.role is not Role.PYTHON_INSTALL_DIR:
        return
    if may_be_at_least(scene.uv, (0, 7, 14)) and cap.can(vol, Op.JUNCTION) is False:
        yield Hit(loc, python_junction_text(loc, vol))


def check_appledouble(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    if scene.os is not Os.MACOS or loc.role not in (
        Role.PROJECT_ENVIRONMENT,
        Role.VENV,
        Role.TOOL_DIR,
    ):
        return
    writes = vol.capabilities.get(Op.APPLEDOUBLE)
    if writes is None and not vol.capabilities.probed:
        writes = vol.fstype in cap.FAT_FAMILY | cap.NETWORK or None
    if writes:
        yield Hit(loc, appledouble_text(loc, vol))


def check_no_chmod(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    """uv sets file modes after copying; a driver that refuses chmod fails every install."""
    if not scene.os.unix or loc.role not in (Role.VENV, Role.PROJECT_ENVIRONMENT, Role.TOOL_DIR):
        return
    if chmod_refused(vol):
        yield Hit(loc, no_chmod_text(loc, vol))


def check_fat32(scene: Scene, loc: Location, vol: Volume) -> Iterator[Hit]:
    limit = cap.max_file_size(vol)
    if limit is not None and limit < 2**32 and loc.role in (Role.CACHE, *ENV_ROLES):
        yield Hit(loc, fat32_size_text(loc, vol))


# --- what they say -------------------------------------------------------------------


def _link_pair(link: str, target: str, uv: Version | None) -> str:
    """uv names the link first since 0.9.27 (an fs-err update), the target first before."""
    if uv is not None and uv < (0, 9, 27):
        return f"from {target} to {link}"
    return f"from {link} to {target}"


def _symlink_message(loc: Location, error: str, uv: Version | None) -> str:
    if loc.role in (Role.TOOL_BIN_DIR, Role.PYTHON_BIN_DIR):
        pair = _link_pair(f"{loc.path}/<name>", "<tool dir>/<name>/bin/<name>", uv)
        return f"error: Failed to install executable\n{cause_prefix(uv)}failed to symlink file {pair}: {error}"
    venv = {Role.TOOL_DIR: f"{loc.path}/<tool>", Role.PYTHON_INSTALL_DIR: f"{loc.path}/<python>"}
    pair = _link_pair(f"{venv.get(loc.role, loc.path)}/bin/python", "/usr/bin/python3", uv)
    if loc.role is Role.PROJECT_ENVIRONMENT:  # `uv sync` / `uv run` print the cause alone (0.9.17-0.13.9)
        return f"error: failed to symlink file {pair}: {error}"
    return f"error: Failed to create virtual environment\n{cause_prefix(uv)}failed to symlink file {pair}: {error}"


def no_symlinks_text(loc: Location, vol: Volume, os: Os, uv: Version | None = None) -> Text:
    link = os_error(vol, Op.SYMLINK_FILE, "Operation not permitted (os error 1)")
    what = {
        Role.PROJECT_ENVIRONMENT: "uv cannot create the project's virtual environment there",
        Role.TOOL_DIR: "`uv tool install` cannot create tool environments there",
        Role.PYTHON_INSTALL_DIR: "`uv python install` cannot unpack Python there",
        Role.TOOL_BIN_DIR: "`uv tool install` cannot link tool executables there",
        Role.PYTHON_BIN_DIR: "`uv python install` cannot link Python executables there",
    }.get(loc.role, "uv cannot create environments there")
    return Text(
        title=f"{drive(vol)} cannot hold symbolic links: {what}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). On "
            f"{'macOS' if os is Os.MACOS else 'Linux'} a uv environment's bin/python is always "
            f"a symbolic link, and {vol.fstype} has none{guess_note(vol)}. There is no copy "
            "option for the interpreter (uv issue #2103), so UV_LINK_MODE does not help. "
            "Keep the environment on your internal disk, or use a drive formatted with a "
            "filesystem that has symbolic links."
        ),
        uv_message=_symlink_message(loc, link, uv),
    )


def python_junction_text(loc: Location, vol: Volume) -> Text:
    onedrive = vol.fstype == cap.ONEDRIVE
    return Text(
        title=f"uv cannot install Python on {drive(vol)}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). Since uv "
            "0.7.14 each Python install gets a minor-version directory that is an NTFS "
            "junction, and "
            + (
                "Windows refuses junctions among OneDrive's cloud files (uv issue #19616)."
                if onedrive
                else "this drive cannot hold junctions."
            )
        ),
        uv_message="error: Failed to create Python minor version link directory"
        + (
            "\n  Caused by: The path cannot be traversed because it contains an untrusted mount point. (os error 448)"
            if onedrive
            else ""
        ),
    )


def appledouble_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"macOS adds hidden ._ files on {drive(vol)} that break uv installs",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). On "
            f"{vol.fstype} macOS stores extended attributes in AppleDouble `._*` files next to "
            "every file, and uv trips over them in environments (uv issue #18790). Keep the "
            "environment on APFS, or clean the files with `dot_clean`."
        ),
        uv_message="error: Failed to install: ... `._` ... (AppleDouble file in the environment)",
    )


def fat32_size_text(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{drive(vol)} cannot hold files of 4 GiB or more",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path}. FAT32 stores files of up to "
            "4 GiB - 1 byte; a larger wheel or archive (some GPU packages) cannot be written."
        ),
        uv_message="error: ... File too large (os error 27)",
    )


def no_chmod_text(loc: Location, vol: Volume) -> Text:
    error = os_error(vol, Op.EXEC_BIT, "Function not implemented (os error 38)")
    return Text(
        title=f"{drive(vol)} refuses file permissions: uv cannot install into {loc.path}",
        detail=(
            f"{sentence(ROLE_NAMES[loc.role])} is at {loc.path}. After copying each file uv "
            f"sets its permissions, and this driver refuses that ({error}), so every install "
            "fails, in copy mode too. Keep the environment on your internal disk."
        ),
        uv_message=(
            "error: Failed to install: <package>.whl\n"
            f"  cause: Failed to copy to `{loc.path}/...`\n"
            f"  cause: failed to copy file from <cache>/archive-v0/... to {loc.path}/...: {error}"
        ),
    )


# --- the fixes and the rules ------------------------------------------------------------


def _environment_fixes(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """A project's own .venv: per-computer environments first; a setting: turn it off."""
    if loc.role is Role.PROJECT_ENVIRONMENT and loc.source.kind is SourceKind.DEFAULT:
        kept = keep_on_computer(code, snapshot, loc) or (local_project_environment(code, snapshot, loc),)
        return (*kept, reformat(code, loc, "symbolic links"))
    return present(move_off_drive(code, snapshot, loc), reformat(code, loc, "symbolic links"))


RULES = (
    Rule(
        code="UVD004",
        severities=(Severity.ERROR,),
        fact="R4, #19616",
        summary="Windows, uv >= 0.7.14, Python installs on a drive without junctions",
        offers="move UV_PYTHON_INSTALL_DIR",
        fixes=lambda c, s, loc: present(move_off_drive(c, s, loc)),
        place=check_no_junctions,
        cannot=lambda loc, vol: "uv cannot install Python there",
    ),
    Rule(
        code="UVD005",
        yields_to=("UVD006", "UVD007"),
        severities=(Severity.ERROR,),
        fact="R5, #2103",
        summary="Linux/macOS, environment, tool, Python or bin directory on a drive without symlinks (uv #2103)",
        offers="a project's: keep the environments of the drive's projects (or this one's) on this computer "
        "([portable.md](portable.md)); turn off the setting; reformat",
        fixes=_environment_fixes,
        place=check_no_symlinks,
        cannot=lambda loc, vol: f"uv cannot keep {HELD[loc.role]} there",
    ),
    Rule(
        code="UVD008",
        severities=(Severity.WARNING,),
        fact="R8, #18790",
        summary="macOS, environment on a drive where macOS writes AppleDouble `._` files (uv #18790)",
        offers="dot_clean",
        fixes=lambda c, s, loc: (dot_clean(c, loc),),
        place=check_appledouble,
    ),
    Rule(
        code="UVD013",
        severities=(Severity.INFO,),
        fact="R13",
        summary="FAT32: files of 4 GiB and more cannot be stored",
        offers="another filesystem",
        fixes=lambda c, s, loc: (reformat(c, loc, "no 4 GiB file limit"),),
        place=check_fat32,
    ),
    Rule(
        code="UVD014",
        yields_to=("UVD005",),
        severities=(Severity.ERROR,),
        fact="seen: fusefat chmod gives ENOSYS",
        summary="the drive refuses chmod (fusefat): every install fails, copy mode too",
        offers="another filesystem",
        fixes=lambda c, s, loc: (reformat(c, loc, "file permissions"),),
        place=check_no_chmod,
        cannot=lambda loc, vol: "it refuses file permissions, so uv cannot install there",
    ),
)
