"""Edits to uv's TOML settings (uv.toml, pyproject.toml [tool.uv]) through tomlkit, keeping the
person's comments and layout, and made so that removing our key gives back the bytes."""

from __future__ import annotations

import re
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from .textlines import append, check_value, content, cut, newline, split


def _parse(text: str) -> tomlkit.TOMLDocument:
    """Parse or refuse: a file we cannot parse is never rewritten."""
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ValueError(f"not valid TOML: {exc}") from exc


def _value(text: str) -> Any:
    try:
        return tomlkit.parse(text).unwrap()
    except TOMLKitError:
        return None


def _container(doc: tomlkit.TOMLDocument, table: tuple[str, ...], create: bool) -> Any:
    """The table holding our key; None when absent and not created."""
    node: Any = doc
    for depth, part in enumerate(table):
        if part not in node:
            if not create:
                return None
            node[part] = tomlkit.table(is_super_table=depth < len(table) - 1)
        node = node[part]
        if not isinstance(node, dict):
            raise ValueError(f"{'.'.join(table[: depth + 1])} is not a table")
    return node


def _header(table: tuple[str, ...]) -> re.Pattern[str]:
    dotted = r"\s*\.\s*".join(re.escape(part) for part in table)
    return re.compile(rf"\s*\[\s*{dotted}\s*\]\s*(?:#.*)?$")


def _key_line(key: str) -> re.Pattern[str]:
    quoted = "|".join(re.escape(k) for k in (key, f'"{key}"', f"'{key}'"))
    return re.compile(rf"\s*(?:{quoted})\s*=")


def _insert(text: str, index: int, line: str, nl: str) -> str:
    """Insert one line before lines[index]; at the end of a file without final newline, keep it so."""
    lines = split(text)
    if index < len(lines) or not text or text.endswith("\n"):
        return "".join([*lines[:index], line + nl, *lines[index:]])
    return text + nl + line


def _drop(text: str, index: int) -> str:
    """Remove lines[index], the exact inverse of `_insert`."""
    lines = split(text)
    if index == len(lines) - 1 and index > 0 and not lines[index].endswith("\n"):
        before = "".join(lines[:index])
        return before[: len(before) - len(content(lines[index - 1])[1])]
    return "".join([*lines[:index], *lines[index + 1 :]])


def _with_newline(text: str, nl: str) -> str:
    """tomlkit writes LF; a CRLF file keeps CRLF."""
    return re.sub(r"(?<!\r)\n", "\r\n", text) if nl == "\r\n" else text


def _minimal_insert(old: str, new: str, nl: str) -> str:
    """Redo tomlkit's insertion as one added line, so removing it later restores the bytes."""
    ours, theirs = split(old), split(new)
    pairs = enumerate(zip(ours, theirs, strict=False))
    index = next((i for i, (a, b) in pairs if content(a)[0] != content(b)[0]), len(ours))
    if index >= len(theirs):
        return _with_newline(new, nl)
    candidate = _insert(old, index, content(theirs[index])[0], nl)
    return candidate if _value(candidate) == _value(new) else _with_newline(new, nl)


def set_toml_key(text: str, key: str, value: str, *, table: tuple[str, ...] = ()) -> str:
    """Set key = "value" at the top level or in [tool.uv], keeping the user's comments and layout."""
    check_value(value)
    doc, nl = _parse(text), newline(text)
    if table and _container(doc, table, create=False) is None:
        line = f"{tomlkit.key(key).as_string()} = {tomlkit.string(value).as_string()}"
        candidate = append(text, f"[{'.'.join(table)}]{nl}{line}{nl}", nl)
        _container(doc, table, create=True)[key] = value
        return candidate if _value(candidate) == doc.unwrap() else _with_newline(doc.as_string(), nl)
    container = _container(doc, table, create=False)
    existed = key in container
    container[key] = value
    return _with_newline(doc.as_string(), nl) if existed else _minimal_insert(text, doc.as_string(), nl)


def _prune(doc: tomlkit.TOMLDocument, table: tuple[str, ...]) -> None:
    """Drop tables left empty by the removal, innermost first, as if we had never added them."""
    for depth in range(len(table), 0, -1):
        parent = _container(doc, table[: depth - 1], create=False)
        if parent is None or parent.get(table[depth - 1]) != {}:
            return
        del parent[table[depth - 1]]


def _minimal_remove(text: str, key: str, table: tuple[str, ...], want: Any) -> str | None:
    """Remove the key's line (and our table header if it is left empty) by lines; None if that is wrong."""
    nl = newline(text)
    for index, line in enumerate(split(text)):
        if not _key_line(key).match(content(line)[0]):
            continue
        candidate = _drop(text, index)
        if _value(candidate) == want:
            return candidate
        lines = split(candidate)
        header = index - 1
        if table and 0 <= header < len(lines) and _header(table).match(content(lines[header])[0]):
            trimmed = cut(lines, header, header + 1, nl)
            if _value(trimmed) == want:
                return trimmed
    return None


def remove_toml_key(text: str, key: str, *, table: tuple[str, ...] = ()) -> str:
    """Remove key (and an emptied [tool.uv]), restoring what set_toml_key added byte for byte."""
    doc = _parse(text)
    container = _container(doc, table, create=False)
    if container is None or key not in container:
        return text
    del container[key]
    _prune(doc, table)
    exact = _minimal_remove(text, key, table, doc.unwrap())
    return exact if exact is not None else _with_newline(doc.as_string(), newline(text))
