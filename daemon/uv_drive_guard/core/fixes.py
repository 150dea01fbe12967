"""The building blocks of fixes, as concrete changes, aware of uv's precedence.

A fix changes a value where it is set: a higher-precedence setting would shadow a change made
lower down (command line > environment > project > user > system > default). Which fixes a
finding offers is its rule's choice (core/rules/: "planning" a finding's fixes); copy mode is
offered only for the findings it cures (UVD002, UVD003, UVD012). Carrying a fix out is the
fixing side's plan.
"""

from __future__ import annotations

import zlib

from .model import (
    Artefact,
    Change,
    ChangeKind,
    Command,
    Definition,
    EnvTarget,
    Fix,
    Location,
    Manual,
    Os,
    Role,
    Snapshot,
    Source,
    SourceKind,
    StartupFile,
    ThisTerminal,
    UserEnvironment,
    UvConfig,
    UvUpgrade,
    VariableStore,
)
from .paths import tilde
from .resolve import pathmod, volume_of

ENV_KINDS = (
    SourceKind.ENVIRONMENT,
    SourceKind.SHELL_FILE,
    SourceKind.ENVIRONMENT_D,
    SourceKind.REGISTRY_USER,
    SourceKind.REGISTRY_MACHINE,
    SourceKind.LAUNCHCTL,
)
CONFIG_KINDS = (
    SourceKind.UV_TOML_PROJECT,
    SourceKind.PYPROJECT,
    SourceKind.UV_TOML_USER,
    SourceKind.UV_TOML_SYSTEM,
    SourceKind.UV_CONFIG_FILE,
)
VARIABLE = {
    Role.CACHE: "UV_CACHE_DIR",
    Role.TOOL_DIR: "UV_TOOL_DIR",
    Role.TOOL_BIN_DIR: "UV_TOOL_BIN_DIR",
    Role.PYTHON_INSTALL_DIR: "UV_PYTHON_INSTALL_DIR",
    Role.PYTHON_BIN_DIR: "UV_PYTHON_BIN_DIR",
    Role.PROJECT_ENVIRONMENT: "UV_PROJECT_ENVIRONMENT",
}
NEW_TERMINALS = "Open terminals keep the old value: start a new terminal to use it."


def fix_id(code: str, slug: str, loc: Location) -> str:
    """Stable across scans of the same setup, short enough to type."""
    key = "\0".join((loc.path, loc.source.file or "", loc.project or "", slug))
    return f"{code.lower()}-{slug}-{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}"[
        :-2
    ]  # zlib: no OpenSSL at start-up


def _turn_off_definition(definition: Definition, destination: str, home: str = "") -> Change:
    """Turn a definition off where it is made. One in the machine's registry (HKLM) needs an
    administrator: it is outvoted instead, by the person's own value set to `destination`."""
    source = definition.source
    if source.kind is SourceKind.REGISTRY_MACHINE:  # HKLM needs an administrator: override it
        return Change(
            ChangeKind.SET_ENV,
            target=VariableStore(_store_name(SourceKind.REGISTRY_USER)),
            name=definition.name,
            value=destination,
            summary=f"set {definition.name}={tilde(destination, home)} for you, which overrides the machine-wide "
            "value (changing that needs administrator rights)",
        )
    target = source.file or _store_name(source.kind)
    return Change(
        ChangeKind.UNSET_ENV,
        target=_env_target(source),
        name=definition.name,
        value=definition.value,
        line=source.line,
        summary=f"turn off {definition.name}={definition.value} in {tilde(target, home)}"
        + (f" (line {source.line})" if source.line else ""),
    )


def _env_target(source: Source) -> EnvTarget:
    """The place that set a variable, as the fix engine edits it: a file, the OS's store, the terminal.
    A LaunchAgent is no startup file to edit by lines: launchctl's store changes it with launchd."""
    if source.kind is SourceKind.LAUNCHCTL:
        return VariableStore(_store_name(source.kind))
    if source.file:
        registry = source.kind in (SourceKind.REGISTRY_USER, SourceKind.REGISTRY_MACHINE)
        return VariableStore(source.file) if registry else StartupFile(source.file)
    if source.kind in (SourceKind.REGISTRY_USER, SourceKind.REGISTRY_MACHINE):
        return VariableStore(_store_name(source.kind))
    return ThisTerminal() if source.kind is SourceKind.ENVIRONMENT else UserEnvironment()


def _store_name(kind: SourceKind) -> str:
    return {
        SourceKind.REGISTRY_USER: "HKCU\\Environment",
        SourceKind.REGISTRY_MACHINE: "HKLM\\...\\Session Manager\\Environment",
        SourceKind.LAUNCHCTL: "launchctl",
        SourceKind.ENVIRONMENT: "this terminal's environment",
    }.get(kind, "user environment")


def destination(snapshot: Snapshot, loc: Location) -> tuple[Location | None, tuple[Location, ...]]:
    """Where uv goes once the setting is off, and every definition that must go for that:
    the winner, and each shadowed one that would put uv on the same drive or another place
    where it fails too (diagnose judged them), down to the first good one or uv's default."""
    default = snapshot.default(loc.role)
    if loc.source.kind is SourceKind.DEFAULT:
        return None, ()
    removed = [loc]
    for layer in loc.shadowed:
        if layer.source.kind is SourceKind.DEFAULT:
            break
        if layer.fails or (layer.volume is not None and layer.volume == loc.volume):
            removed.append(layer)
            continue
        return layer, tuple(removed)
    if default is None:
        return None, ()
    there = volume_of(snapshot.os, default, tuple(v.mountpoint for v in snapshot.volumes))
    return Location(loc.role, default, Source(SourceKind.DEFAULT), volume=there, project=loc.project), tuple(removed)


def move_off_drive(code: str, snapshot: Snapshot, loc: Location) -> Fix | None:
    """Turn the setting off in every layer that puts uv on a drive where it fails, so the
    value uv then reads (the next good definition, or uv's default) is the effective one."""
    variable = VARIABLE.get(loc.role)
    target, removed = destination(snapshot, loc)
    if variable is None or target is None or (target.volume is not None and target.volume == loc.volume):
        return None
    changes = _turn_off_layers(snapshot, removed, variable, target.path)
    if not changes:
        return None
    what = {Role.CACHE: "uv's cache"}.get(loc.role, variable)
    if target.source.kind is SourceKind.DEFAULT:
        title = f"Move {what} back to {tilde(target.path, snapshot.home)}"
        there = f"uv uses {target.path} on your internal disk"
    else:
        title = f"Use {what} at {tilde(target.path, snapshot.home)} (your setting in {_place_name(target, snapshot)})"
        there = f"uv uses {target.path}, as you set it in {_place_name(target, snapshot)}"
    also = f" It is set in {len(removed)} places; each is turned off." if len(removed) > 1 else ""
    return Fix(
        id=fix_id(code, "move-off-drive", loc),
        title=title,
        detail=(
            f"Turns off the setting that puts it on the drive, so {there}.{also} Nothing on the "
            f"drive is deleted; the old directory there can be removed by hand.{_terminals(changes)}"
        ),
        changes=changes,
        recommended=True,
    )


def _place_name(loc: Location, snapshot: Snapshot) -> str:
    source = loc.source
    return tilde(source.file, snapshot.home) if source.file else _store_name(source.kind)


def _terminals(changes: tuple[Change, ...]) -> str:
    """New terminals matter only when a variable changes; uv reads its uv.toml on every run."""
    return f" {NEW_TERMINALS}" if any(c.kind in (ChangeKind.SET_ENV, ChangeKind.UNSET_ENV) for c in changes) else ""


def _turn_off_layers(snapshot: Snapshot, removed: tuple[Location, ...], variable: str, to: str) -> tuple[Change, ...]:
    """One change per definition that goes: a line turned off, a store value unset, a key
    removed from a uv.toml; the terminal's own value is the person's step. Definitions of the
    variable whose value cannot be known statically go too: nobody can tell where they point."""
    changes: list[Change] = []
    for layer in removed:
        if layer.source.kind in CONFIG_KINDS:
            changes.append(_remove_setting(layer))
        elif layer.source.kind is SourceKind.ENVIRONMENT:
            changes.append(_this_terminal(variable, snapshot))
        else:
            found = next((d for d in snapshot.definitions if d.source == layer.source), None)
            if found is not None:
                changes.append(_turn_off_definition(found, to, snapshot.home))
    unknown = [d for d in snapshot.definitions if d.name == variable and d.value is None]
    changes += [_turn_off_definition(d, to, snapshot.home) for d in unknown]
    return tuple(dict.fromkeys(changes))


def _this_terminal(variable: str, snapshot: Snapshot) -> Change:
    """The terminal's own value: only the person can change it, in that terminal's words. For
    the daemon the value came with the desktop session, from a place no scan reads."""
    if snapshot.session:
        places = {
            Os.LINUX: "/etc/environment, /etc/profile.d or a login script",
            Os.MACOS: "a launchd agent of the system, or a login script",
            Os.WINDOWS: "the machine's environment variables (System Properties), or a logon script",
        }[snapshot.os]
        return Change(
            ChangeKind.MANUAL,
            target=Manual("your login environment"),
            name=variable,
            summary=f"{variable} comes with your login session from a place uv-drive-guard does not read "
            f"({places}): remove it there",
        )
    clear = f"Remove-Item Env:{variable}" if snapshot.os is Os.WINDOWS else f"unset {variable}"
    return Change(
        ChangeKind.MANUAL,
        target=ThisTerminal(),
        name=variable,
        summary=f"{variable} is set in this terminal but in no file uv-drive-guard reads; "
        f"run `{clear}` there (or close it) and remove it where you set it",
    )


def _remove_setting(loc: Location) -> Change:
    key = loc.source.name or "cache-dir"
    target = loc.source.file or "uv.toml"
    admin = " (needs administrator rights)" if loc.source.kind is SourceKind.UV_TOML_SYSTEM else ""
    return Change(
        ChangeKind.REMOVE_UV_SETTING,
        target=_uv_config(target),
        name=key,
        line=loc.source.line,
        summary=f"remove `{key}` from {target}{admin}",
    )


def _uv_config(path: str) -> UvConfig:
    """uv reads its keys from [tool.uv] in a pyproject.toml, from the top of a uv.toml."""
    is_pyproject = path.replace("\\", "/").rsplit("/", 1)[-1] == "pyproject.toml"
    return UvConfig(path, ("tool", "uv") if is_pyproject else ())


def _project(snapshot: Snapshot, loc: Location) -> Artefact | None:
    return next((a for a in snapshot.artefacts if a.path == loc.project), None)


def copy_mode(code: str, snapshot: Snapshot, loc: Location) -> Fix:
    """link-mode = copy where uv reads it for this environment, unless something shadows it."""
    link = snapshot.link_mode
    project = _project(snapshot, loc)
    if link is not None and link.source.kind in ENV_KINDS:
        change = Change(
            ChangeKind.SET_ENV,
            target=_env_target(link.source),
            name="UV_LINK_MODE",
            value="copy",
            line=link.source.line,
            summary=f"change UV_LINK_MODE from {link.value} to copy where it is set",
        )
        scope = "every uv command (UV_LINK_MODE is set in your environment and wins over files)"
    elif project is not None and project.config_file:
        change = Change(
            ChangeKind.SET_UV_SETTING,
            target=_uv_config(project.config_file),
            name="link-mode",
            value="copy",
            summary=f'set link-mode = "copy" in {project.config_file}',
        )
        scope = "this project, on any computer (the setting travels with the drive)"
    else:
        change = Change(
            ChangeKind.SET_UV_SETTING,
            target=_uv_config(snapshot.user_config),
            name="link-mode",
            value="copy",
            summary=f'set link-mode = "copy" in {snapshot.user_config}',
        )
        scope = "every uv command of yours"
    return Fix(
        id=fix_id(code, "copy-mode", loc),
        title="Use copy mode",
        detail=(
            f"uv copies files instead of trying links first, for {scope}. Installs work as "
            f"before, without the warning. {NEW_TERMINALS}"
        ),
        changes=(change,),
        recommended=True,
    )


def per_drive_cache(code: str, snapshot: Snapshot, loc: Location) -> Fix | None:
    """A cache on the environment's own drive lets uv link instead of copy."""
    project = _project(snapshot, loc)
    shadowed = any(d.name == "UV_CACHE_DIR" for d in snapshot.definitions) or any(
        loc.source.kind is SourceKind.ENVIRONMENT and loc.source.name == "UV_CACHE_DIR"
        for loc in snapshot.locations
        if loc.role is Role.CACHE
    )
    if project is None or not project.config_file or shadowed or loc.volume is None:
        return None
    cache = str(pathmod(snapshot.os).join(loc.volume, ".uv-cache"))
    return Fix(
        id=fix_id(code, "drive-cache", loc),
        title=f"Keep a cache for this project on the same drive ({cache})",
        detail=(
            "uv can then link files within the drive instead of copying them; the drive holds "
            "a second cache, which costs space."
        ),
        changes=(
            Change(
                ChangeKind.SET_UV_SETTING,
                target=_uv_config(project.config_file),
                name="cache-dir",
                value=cache,
                summary=f'set cache-dir = "{cache}" in {project.config_file}',
            ),
        ),
    )


def upgrade(code: str, version: str, loc: Location) -> Fix:
    return Fix(
        id=fix_id(code, "upgrade-uv", loc),
        title=f"Upgrade uv to {version} or newer",
        detail=f"uv {version} handles this drive. The upgrade uses the way uv was installed.",
        changes=(Change(ChangeKind.RUN, target=UvUpgrade(), summary=f"upgrade uv to >= {version}"),),
        recommended=True,
    )


def local_project_environment(code: str, snapshot: Snapshot, loc: Location) -> Fix:
    mod = pathmod(snapshot.os)
    name = mod.basename(loc.project or loc.path) or "project"
    env_dir = mod.join(snapshot.home, ".local", "share", "uv-drive-guard", "envs", name)
    return Fix(
        id=fix_id(code, "environment-off-drive", loc),
        title=f"Keep this project's environment on your internal disk ({tilde(env_dir, snapshot.home)})",
        detail=(
            "The project stays on the drive; only its virtual environment lives on this "
            "computer. uv reads the place from UV_PROJECT_ENVIRONMENT, which is a setting for "
            "the terminal you work in (uv has no per-project file setting for it)."
        ),
        changes=(
            Change(
                ChangeKind.MANUAL,
                target=Manual("the terminal you work on this project in"),
                name="UV_PROJECT_ENVIRONMENT",
                value=env_dir,
                summary=f"export UV_PROJECT_ENVIRONMENT='{env_dir}' before running uv there",
            ),
        ),
    )


def reformat(code: str, loc: Location, what: str) -> Fix:
    return Fix(
        id=fix_id(code, "reformat", loc),
        title=f"Reformat the drive with a filesystem that has {what}",
        detail="Erases the drive. For Linux and macOS: ext4 or APFS; to share with Windows: NTFS.",
        changes=(Change(ChangeKind.MANUAL, target=Manual(loc.volume or loc.path), summary="back up, then reformat"),),
    )


def temporary_fallback(code: str, snapshot: Snapshot, loc: Location) -> Fix | None:
    variable = VARIABLE.get(loc.role)
    destination = snapshot.default(loc.role)
    if variable is None or destination is None:
        return None
    return Fix(
        id=fix_id(code, "fallback", loc),
        title=f"While the drive is away, use {tilde(destination, snapshot.home)}",
        detail=(
            f"Sets {variable} to {destination} until the drive is plugged in again, then puts "
            f"your setting back. {NEW_TERMINALS}"
        ),
        changes=(
            Change(
                ChangeKind.SET_ENV,
                target=UserEnvironment(),
                name=variable,
                value=destination,
                summary=f"set {variable}={tilde(destination, snapshot.home)} until the drive returns",
            ),
        ),
        recommended=True,
    )


def recreate(code: str, loc: Location, project: bool) -> Fix:
    command = "uv sync" if project else f"uv venv --clear {loc.path}"
    return _run_yourself(
        code, "recreate", loc, "Recreate the environment", command, "rebuilds the environment for this machine"
    )


def reinstall(code: str, loc: Location, project: bool) -> Fix:
    """Scripts name the interpreter by absolute path; a reinstall writes them anew (seen, 0.13.9)."""
    command = "uv sync --reinstall" if project else f"uv venv --clear {loc.path}"
    title = "Rewrite the environment for where the drive is now"
    return _run_yourself(code, "reinstall", loc, title, command, "writes the scripts for this mount point")


def _run_yourself(code: str, slug: str, loc: Location, title: str, command: str, does: str) -> Fix:
    """A uv command the person runs: the product never runs anything in a drive's project."""
    return Fix(
        id=fix_id(code, slug, loc),
        title=title,
        detail=f"Run `{command}` yourself in a new terminal: it {does}.",
        changes=(Change(ChangeKind.MANUAL, target=Manual(loc.path), summary=f"run `{command}`"),),
        recommended=True,
    )


def remount(code: str, loc: Location, option: str, summary: str) -> Fix:
    """Drive states are the mount's: changing them needs the person (and often root)."""
    mount = loc.volume or loc.path
    return Fix(
        id=fix_id(code, "remount", loc),
        title=summary,
        detail=f"Remount {mount} with `{option}` (or unplug it, fix the cause, plug it in again).",
        changes=(Change(ChangeKind.MANUAL, target=Manual(mount), summary=f"sudo mount -o remount,{option} {mount}"),),
        recommended=True,
    )


def free_space(code: str, loc: Location) -> Fix:
    return Fix(
        id=fix_id(code, "free-space", loc),
        title="Free some space on the drive",
        detail="Delete or move files you do not need from the drive; uv needs room while it installs.",
        changes=(Change(ChangeKind.MANUAL, target=Manual(loc.volume or loc.path), summary="free space on the drive"),),
        recommended=True,
    )


def fix_switch(code: str, snapshot: Snapshot, loc: Location) -> tuple[Fix, ...]:
    """Turn off the unreadable UV_NO_* value where it is set (as uv will not start with it)."""
    definition = next((d for d in snapshot.switches if d.source == loc.source), None)
    if definition is None or definition.source.kind is SourceKind.DEFAULT:
        return ()
    change = _turn_off_definition(definition, "", snapshot.home)
    return (
        Fix(
            id=fix_id(code, "unset", loc),
            title=f"Remove {definition.name}={definition.value!r}",
            detail=f"uv starts again; set it to 1 or 0 if you meant to turn it on or off. {NEW_TERMINALS}",
            changes=(change,),
            recommended=True,
        ),
    )


def dot_clean(code: str, loc: Location) -> Fix:
    return Fix(
        id=fix_id(code, "dot-clean", loc),
        title="Remove the AppleDouble ._ files",
        detail="macOS's dot_clean merges the ._ files back; they return as files change.",
        changes=(Change(ChangeKind.RUN, target=Command(("dot_clean", "-m", loc.path)), summary="run dot_clean"),),
    )
