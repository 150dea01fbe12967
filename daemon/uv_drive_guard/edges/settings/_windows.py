"""uv variables set persistently on Windows: the user and machine Environment registry keys.

New processes get the machine values, then the user values on top, so a user value wins.
REG_EXPAND_SZ values are expanded the way Windows does when it builds that environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from uv_drive_guard.core.model import Definition, Source, SourceKind
from uv_drive_guard.core.resolve import WATCHED
from uv_drive_guard.edges.registry import (
    HKCU,
    HKLM,
    MACHINE_KEY,
    REG_EXPAND_SZ,
    REG_SZ,
    REG_TYPE_NAMES,
    USER_KEY,
    KeyReader,
    KeyValues,
    read_key,
)

UV_VARIABLES: tuple[str, ...] = WATCHED  # one list, kept in core.resolve

_REFERENCE = re.compile(r"%([^%]+)%")


def expand(text: str, environ: Mapping[str, str]) -> str:
    """ExpandEnvironmentStrings against a given environment: "Case is ignored when looking up the
    environment-variable name. If the name is not found, the %variableName% portion is left
    unexpanded" (Microsoft, ExpandEnvironmentStringsW), and uv then gets that text as it is."""
    upper = {name.upper(): value for name, value in environ.items()}

    def substitute(match: re.Match[str]) -> str:
        return upper.get(match.group(1).upper(), match.group(0))

    return _REFERENCE.sub(substitute, text)


def definition(name: str, data: object, kind: int, source: Source, environ: Mapping[str, str]) -> Definition:
    """One registry value as a Definition; only string types become environment values."""
    type_name = REG_TYPE_NAMES.get(kind, f"REG_{kind}")
    raw = f"{type_name}:{data}"
    if kind == REG_SZ and isinstance(data, str):
        return Definition(name, data, source, raw)
    if kind == REG_EXPAND_SZ and isinstance(data, str):
        return Definition(name, expand(data, environ), source, raw)
    return Definition(name, None, source, raw)


def definitions_from_key(
    values: KeyValues,
    names: Iterable[str],
    source_kind: SourceKind,
    file: str,
    environ: Mapping[str, str],
) -> list[Definition]:
    """Windows variable names ignore case: `uv_cache_dir` sets UV_CACHE_DIR."""
    by_upper = {stored.upper(): stored for stored in values}
    found: list[Definition] = []
    for name in names:
        stored = by_upper.get(name.upper())
        if stored is None:
            continue
        data, kind = values[stored]
        source = Source(source_kind, file=file, name=name)
        found.append(definition(name, data, kind, source, environ))
    return found


def read_definitions(
    *,
    names: Iterable[str] = UV_VARIABLES,
    open_key: KeyReader = read_key,
    environ: Mapping[str, str] = os.environ,
) -> list[Definition]:
    """Machine definitions first, then user ones, in the order Windows applies them."""
    wanted = tuple(names)
    found: list[Definition] = []
    for hive, path, kind in (
        (HKLM, MACHINE_KEY, SourceKind.REGISTRY_MACHINE),
        (HKCU, USER_KEY, SourceKind.REGISTRY_USER),
    ):
        values = open_key(hive, path)
        if values is not None:
            found += definitions_from_key(values, wanted, kind, f"{hive}\\{path}", environ)
    return found
