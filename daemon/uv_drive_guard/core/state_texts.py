"""What the drive-state findings (UVD015-UVD020) say, and what uv 0.13.9 prints for each (seen)."""

from __future__ import annotations

from .messages import ROLE_NAMES, Text, _cause, _sentence, drive, where
from .model import Location, Role, Volume
from .versions import Version

_EROFS = "Read-only file system (os error 30)"


def _read_only_message(loc: Location, exists: bool, uv: Version | None) -> str:
    """What uv 0.13.9 prints when it must write to a read-only drive (seen)."""
    if loc.role is Role.CACHE and not exists:
        return (
            f"error: Failed to initialize cache at `...`\n{_cause(uv)}failed to create directory `{loc.path}`: {_EROFS}"
        )
    if loc.role is Role.CACHE:
        return (
            f"error: Could not acquire lock\n{_cause(uv)}Could not create temporary file\n"
            f'{_cause(uv)}{_EROFS} at path "{loc.path}/.tmpXXXXXX"'
        )
    if loc.role is Role.PROJECT_ENVIRONMENT and not exists:
        return f"error: failed to create directory `{loc.path}`: {_EROFS}"
    if loc.role is Role.VENV and not exists:
        venv = "error: Failed to create virtual environment\n"
        return f"{venv}{_cause(uv)}failed to create directory `{loc.path}`: {_EROFS}"
    return f"error: ...\n{_cause(uv)}...{_EROFS}..."


def read_only(loc: Location, vol: Volume, exists: bool, uv: Version | None = None) -> Text:
    works = exists and loc.role in (Role.PROJECT_ENVIRONMENT, Role.VENV)
    consequence = (
        "`uv run` works while nothing needs to change, but every install, upgrade or `uv sync` that changes it fails"
        if works
        else "every uv command that writes there fails"
    )
    return Text(
        title=f"{drive(vol)} is read-only: {ROLE_NAMES[loc.role]} there cannot be written",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). The drive is mounted "
            f"read-only (a locked SD card, or a remount after errors), so {consequence}. Unlock or "
            "remount the drive read-write, or keep this directory on your internal disk."
        ),
        uv_message=_read_only_message(loc, exists, uv),
    )


_NO_EXEC_ERROR = {
    "noexec": "Permission denied (os error 13)",
    "nosymfollow": "Too many levels of symbolic links (os error 40)",
}


def no_exec(loc: Location, vol: Volume, why: str, script: str | None, uv: Version | None = None) -> Text:
    mounted = "mounted with `noexec`" if why == "noexec" else "mounted with `nosymfollow`"
    because = (
        "the system refuses to start programs stored on it"
        if why == "noexec"
        else "the system does not follow symbolic links on it, and each script starts the "
        "environment's bin/python, which is one"
    )
    return Text(
        title=f"{drive(vol)} is {mounted}: commands in {ROLE_NAMES[loc.role]} cannot be started",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv creates it and "
            f"installs into it, but {because}, so `uv run <script>` and every console script fail. "
            f"Remount the drive without `{why}` (`sudo mount -o remount,{'exec' if why == 'noexec' else 'symfollow'} "
            f"{vol.mountpoint}`; desktop automounters add it for some drives), or keep the "
            "environment on your internal disk."
        ),
        # nosymfollow: uv fails at `Failed to query Python interpreter at .../bin/python` or at
        # `Failed to spawn`, as its interpreter cache decides (both seen, 0.13.9): the cause is this.
        uv_message=(
            f"error: {_spawn(script, uv)}\n{_cause(uv)}{_NO_EXEC_ERROR[why]}"
            if why == "noexec"
            else f"error: ...\n{_cause(uv)}{_NO_EXEC_ERROR[why]}"
        ),
    )


def _spawn(script: str | None, uv: Version | None) -> str:
    """`Failed to spawn: `x`` up to 0.10.5 (seen), `Failed to spawn: x` in 0.13.9 (seen); the
    switch is taken to be the error-chain rework of 0.12.14, like the `cause:` prefix (not bisected)."""
    name = script or "..."
    return (
        f"Failed to spawn: `{name}`" if uv is not None and uv < (0, 12, 14) and script else f"Failed to spawn: {name}"
    )


def _size(count: int) -> str:
    return f"{count / (1 << 20):.1f} MiB" if count < 1 << 30 else f"{count / (1 << 30):.1f} GiB"


def full(loc: Location, vol: Volume, free: int, uv: Version | None = None) -> Text:
    state = "full"
    what = "unpacking wheels" if loc.role is Role.CACHE else "installing packages"
    return Text(
        title=f"{drive(vol)} is {state} ({_size(free)} free): {ROLE_NAMES[loc.role]} there has no room",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path} ({where(loc)}). uv needs room for "
            f"{what}, often tens or hundreds of MiB, and the drive has {_size(free)} left"
            ", so uv fails as soon as it writes there. "
            "Free some space on the drive, or keep this directory on your internal disk."
        ),
        # The first line depends on the step that runs out (`Failed to install: <wheel>`,
        # `Failed to initialize cache`, `failed to create directory`); the cause is always this.
        uv_message=f"error: ...\n{_cause(uv)}...No space left on device (os error 28)",
    )


def moved(path: str, old: str, new: str, script: str | None, project: bool, uv: Version | None = None) -> Text:
    # `uv run` rewrites the project's own scripts when it reinstalls it; its dependencies'
    # scripts keep the old path (seen, 0.13.9): which one fails first is not known here.
    script = None if project else script
    again = "`uv sync --reinstall`" if project else f"`uv venv --clear {path}` and install again"
    return Text(
        title=f"The drive was at {old} when {path} was made: its commands point there",
        detail=(
            f"The drive is mounted at {new} now, and the environment's scripts start the Python "
            f"under {old}, which is gone. `uv run` first reinstalls the project, then its commands "
            f"still fail. {again} rewrites them for {new} (the scripts were read as text, not run)."
        ),
        uv_message=f"error: {_spawn(script, uv)}\n{_cause(uv)}No such file or directory (os error 2)",
    )


def bind_mount(loc: Location, vol: Volume) -> Text:
    return Text(
        title=f"{vol.mountpoint} shows the folder {vol.root} of {vol.bind_of}: judged as {drive(vol)}",
        detail=(
            f"{_sentence(ROLE_NAMES[loc.role])} is at {loc.path}, inside a bind mount: the files live on "
            f"the {vol.fstype} filesystem mounted at {vol.bind_of}, and that filesystem decides what uv can "
            "do there. Links between the two mount points count as different drives: uv copies."
        ),
        uv_message="(nothing of its own: uv meets the filesystem underneath)",
    )


def bad_switch(name: str, value: str, where_: str) -> Text:
    if name == "UV_NO_SYSTEM_CONFIG":
        message = (
            f"error: Failed to parse environment variable `{name}` with invalid value `{value}`: "
            "expected a boolish value"
        )
    else:
        flag = {"UV_NO_CACHE": "--no-cache", "UV_NO_CONFIG": "--no-config"}.get(name, name)
        message = f"error: invalid value '{value}' for '{flag}': value was not a boolean"
    return Text(
        title=f"{name}={value!r} is not a value uv understands: every uv command stops",
        detail=(
            f"It is set as {where_}. uv reads {name} as a yes/no switch: 1, true, yes, on, y, t turn it "
            "on and 0, false, no, off, n, f turn it off (any case); anything else, the empty value too, "
            "makes every uv command stop before it starts."
        ),
        uv_message=message,
    )
