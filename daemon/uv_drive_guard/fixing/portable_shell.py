"""The generated files the shell integration reads, and the one startup-file line that reads them.

Pure text. Per prompt (or per `cd`) the hook runs a few shell statements and no process: a
`case` on $PWD (bash, zsh, sh), a prefix test with fish's `string` builtin, .NET's
StartsWith in PowerShell. With the hint on, a `uv` function runs the real uv and, only when it
failed, matches $PWD and uv's own directories the same way and says one line on stderr. Paths
and labels come from drives, so every one is quoted for its shell by shellfile's quoting, and
one no quoting makes safe is left out and reported.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..core.model import HintLine, Os, PortableDrive
from ..core.portable import at_mount, env_dir
from . import shellfile, textlines

BEGIN_LINE = "# uv-drive-guard portable"
MARK = "# uv-drive-guard: portable projects"


Unquotable = textlines.UnsafeValue
check_path = textlines.check_value
quote_posix = shellfile.quote_posix
quote_fish = shellfile.quote_fish
quote_powershell = shellfile.quote_powershell


@dataclass(frozen=True)
class Entry:
    root: str  # the project's directory where the drive is mounted now
    environment: str
    mount: str = ""  # the drive's mount point: fish tests it first, once per drive


@dataclass(frozen=True)
class Skipped:
    root: str
    reason: str


def entries(os_: Os, data_dir: str, drives: Iterable[PortableDrive]) -> tuple[tuple[Entry, ...], tuple[Skipped, ...]]:
    """Mounted drives only: a path a drive had elsewhere may belong to another drive now.
    Longest root first, so a project inside another project gets its own environment."""
    found: list[Entry] = []
    skipped: list[Skipped] = []
    for drive in drives:
        if drive.mount is None:
            continue
        rels = dict.fromkeys((*drive.projects, *(drive.seen if drive.whole else ())))
        for rel in rels:
            root = at_mount(os_, drive.mount, rel)
            try:
                check_path(root)
            except Unquotable as exc:
                skipped.append(Skipped(root, str(exc)))
                continue
            found.append(Entry(root, env_dir(os_, data_dir, drive.drive_id, rel), drive.mount))
    found.sort(key=lambda e: (-len(e.root), e.root))
    return tuple(found), tuple(skipped)


def hint_entries(lines: Iterable[HintLine]) -> tuple[tuple[HintLine, ...], tuple[Skipped, ...]]:
    """The hint's lines that every shell can be given literally; a drive's label or mount point
    that no quoting makes safe (a newline, a control character) leaves its line out."""
    said: list[HintLine] = []
    unsaid: list[Skipped] = []
    for line in lines:
        try:
            for value in (line.text, line.mount, line.witness):
                check_path(value)
        except Unquotable as exc:
            unsaid.append(Skipped(line.mount, str(exc)))
            continue
        said.append(line)
    return tuple(said), tuple(unsaid)


def _with_sep(root: str, sep: str) -> str:
    return root.rstrip("/\\") + sep


def _header(body: str) -> str:
    return f"{BEGIN_LINE} {zlib.crc32(body.encode('utf-8')):08x}\n"


def _finish(body: str) -> str:
    """The first line names this version: an open shell re-reads the file when it changes."""
    head = _header(body)
    return head + body.replace("@LOADED@", "'" + head.rstrip("\n") + "'")


POSIX_HOOK = r"""__uvdg_portable_hook() {
  if [ -r "$__uvdg_portable_file" ]; then
    IFS= read -r __uvdg_line < "$__uvdg_portable_file" || :
    if [ "$__uvdg_line" != "$__uvdg_portable_loaded" ]; then . "$__uvdg_portable_file"; fi
    __uvdg_portable_match
  else
    __uvdg_want=
  fi
  if [ -n "${__uvdg_set+x}" ] && [ "${UV_PROJECT_ENVIRONMENT-}" != "$__uvdg_set" ]; then
    unset __uvdg_set
  fi
  if [ -z "${__uvdg_set+x}" ] && [ -n "${UV_PROJECT_ENVIRONMENT+x}" ]; then
    return 0
  fi
  if [ -n "$__uvdg_want" ]; then
    export UV_PROJECT_ENVIRONMENT="$__uvdg_want"
    __uvdg_set=$__uvdg_want
  elif [ -n "${__uvdg_set+x}" ]; then
    unset UV_PROJECT_ENVIRONMENT __uvdg_set
  fi
}
"""

POSIX_PROMPT = r"""if [ -n "${ZSH_VERSION-}" ]; then
  autoload -Uz add-zsh-hook
  add-zsh-hook precmd __uvdg_portable_hook
  add-zsh-hook chpwd __uvdg_portable_hook
elif [ -n "${BASH_VERSION-}" ]; then
  case ";${PROMPT_COMMAND-};" in
    *';__uvdg_portable_hook;'*) ;;
    *) PROMPT_COMMAND="__uvdg_portable_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;;
  esac
fi
__uvdg_portable_hook
"""

# The rest is read by bash and zsh only (plain sh stops here): a `uv` function, unless the person
# has one, that runs the real uv with `command uv`. In bash it runs the hook first: bash has no hook
# on cd, so `cd project && uv sync` on one line would reach uv before the prompt's hook. With the
# hint on, a failure re-reads this file if it changed and says the line that holds for $PWD.
# `function uv` (not `uv()`): a person's alias named uv would be expanded inside `uv() {`.
POSIX_WRAPPER_HEAD = r"""[ -n "${BASH_VERSION-}${ZSH_VERSION-}" ] || return 0
"""

POSIX_FAILED = r"""__uvdg_uv_failed() {
  if [ -r "$__uvdg_portable_file" ]; then
    IFS= read -r __uvdg_line < "$__uvdg_portable_file" || :
    if [ "$__uvdg_line" != "$__uvdg_portable_loaded" ]; then . "$__uvdg_portable_file"; fi
    __uvdg_hint_say "$@"
  fi
}
"""

POSIX_DEFINE_BASH = r"""if [ -n "${BASH_VERSION-}" ] && ! declare -F uv >/dev/null; then
  function uv { __uvdg_uv "$@"; }
fi
"""

POSIX_DEFINE_BOTH = r"""if [ -n "${ZSH_VERSION-}" ]; then
  if ! typeset -f uv >/dev/null 2>&1; then function uv { __uvdg_uv "$@"; }; fi
elif ! declare -F uv >/dev/null; then
  function uv { __uvdg_uv "$@"; }
fi
"""


NOTE = (
    "# Generated by uv-drive-guard for drives: projects that keep their environments on this computer,\n"
    "# and the hint after uv fails, when they are set up; rewritten after each scan (a drive mounted\n"
    "# somewhere new, fixed or gone). Do not edit: `uv-drive-guard envs` lists the projects it covers,\n"
    "# `uv-drive-guard undo` takes a setup back.\n"
)


def render_posix(path: str, found: Iterable[Entry], hint: Iterable[HintLine] | None = None, drives: bool = True) -> str:
    """For bash, zsh (and plain sh, which only runs the hook once): `case` patterns, quoted.
    `hint`: the lines said after uv fails (None: the hint is off); `drives`: drives are set up, so
    the prompt hook is registered (without them it only unsets a value it exported before)."""
    cases = "".join(
        f"    {quote_posix(_with_sep(e.root, '/'))}*) __uvdg_want={quote_posix(e.environment)} ;;\n" for e in found
    )
    body = (
        NOTE
        + "# shellcheck disable=SC1090,SC2016,SC2112,SC2113,SC3043,SC3044  # it reads itself again; quoted\n"
        + "# paths stay literal; from `|| return 0` on, only bash and zsh read it\n"
        + f"__uvdg_portable_file={quote_posix(path)}\n"
        + "__uvdg_portable_loaded=@LOADED@\n"
        + '__uvdg_portable_match() {\n  case "$PWD/" in\n'
        + cases
        + "    *) __uvdg_want= ;;\n  esac\n}\n"
        + POSIX_HOOK
        + (POSIX_PROMPT if drives else "")
        + _posix_hint_say(hint)
        + POSIX_WRAPPER_HEAD
        + _posix_uv(hint is not None, drives)
    )
    return _finish(body)


def _posix_uv(hint: bool, drives: bool) -> str:
    hook = '  if [ -n "${BASH_VERSION-}" ]; then __uvdg_portable_hook; fi\n' if drives else ""
    if not hint:
        return f'__uvdg_uv() {{\n{hook}  command uv "$@"\n}}\n' + POSIX_DEFINE_BASH
    run = (
        '  command uv "$@" && return 0\n'
        "  local __uvdg_status=$?\n"
        '  case $- in *i*) __uvdg_uv_failed "$@" ;; esac  # a person at a prompt, not a script\n'
        '  return "$__uvdg_status"\n'
    )
    return f"__uvdg_uv() {{\n{hook}{run}}}\n" + POSIX_FAILED + POSIX_DEFINE_BOTH


def _posix_hint_say(hint: Iterable[HintLine] | None) -> str:
    """The line for $PWD after uv failed: a drive's (longest mount point first), else one about
    a uv directory on a drive; each only while its drive is still there. Builtins only."""
    lines = list(hint or ())
    drives = "".join(
        f"    {quote_posix(_with_sep(line.mount, '/'))}*)\n"
        f"      if {_posix_there(line)}; then __uvdg_hint={quote_posix(line.text)}; fi ;;\n"
        for line in lines
        if not line.everywhere
    )
    body = f'  __uvdg_hint=\n  case "$PWD/" in\n{drives}  esac\n' if drives else "  __uvdg_hint=\n"
    body += "".join(_posix_everywhere(line) for line in lines if line.everywhere)
    body += '  if [ -n "$__uvdg_hint" ]; then printf \'%s\\n\' "$__uvdg_hint" >&2; fi\n'
    return "__uvdg_hint_say() {\n" + (body if lines else "  :\n") + "}\n"


def _posix_there(line: HintLine) -> str:
    return f"[ -d {quote_posix(line.mount)} ] && [ -d {quote_posix(line.witness)} ]"


def _posix_everywhere(line: HintLine) -> str:
    """uv's own directory on the drive: said while its variable still sends uv there (or, when the
    scan found it set in a uv.toml or by default, is unset), and no option sends this command elsewhere."""
    text, var = quote_posix(line.text), line.variable
    pattern = quote_posix(_with_sep(line.mount, "/"))
    points = f'case "${{{var}-}}/" in {pattern}*) __uvdg_hint={text} ;; esac'
    test = points if line.from_variable else f'if [ -z "${{{var}+x}}" ]; then __uvdg_hint={text}; else {points}; fi'
    out = f'  if [ -z "$__uvdg_hint" ] && {_posix_there(line)}; then\n    {test}\n'
    if line.flags:
        flags = "|".join(
            quote_posix(f) + ("|" + quote_posix(f + "=") + "*" if f.startswith("--") else "") for f in line.flags
        )
        out += f'    for __uvdg_arg in "$@"; do case $__uvdg_arg in {flags}) __uvdg_hint= ;; esac; done\n'
    return out + "  fi\n"


FISH_HOOK = r"""function __uvdg_portable_hook@EVENTS@
    if test -r "$__uvdg_portable_file"
        read -l line < "$__uvdg_portable_file"
        if test "$line" != "$__uvdg_portable_loaded"
            source "$__uvdg_portable_file"
        end
        __uvdg_portable_match
    else
        set -g __uvdg_want ''
    end
    if set -q __uvdg_set; and test "$UV_PROJECT_ENVIRONMENT" != "$__uvdg_set"
        set -e __uvdg_set
    end
    if not set -q __uvdg_set; and set -q UV_PROJECT_ENVIRONMENT
        return 0
    end
    if test -n "$__uvdg_want"
        set -gx UV_PROJECT_ENVIRONMENT $__uvdg_want
        set -g __uvdg_set $__uvdg_want
    else if set -q __uvdg_set
        set -e UV_PROJECT_ENVIRONMENT
        set -e __uvdg_set
    end
end
"""
FISH_EVENTS = " --on-variable PWD --on-event fish_prompt"

# With the hint on: a `uv` function (unless the person has one, also one fish would autoload)
# that runs the real uv and, in an interactive fish, says the line after a failure.
FISH_UV = r"""function __uvdg_uv
    command uv $argv
    set -l __uvdg_status $status
    if test $__uvdg_status -ne 0; and status is-interactive
        __uvdg_uv_failed $argv
    end
    return $__uvdg_status
end
function __uvdg_uv_failed
    if test -r "$__uvdg_portable_file"
        read -l line < "$__uvdg_portable_file"
        if test "$line" != "$__uvdg_portable_loaded"
            source "$__uvdg_portable_file"
        end
        __uvdg_hint_say $argv
    end
end
if not functions -q uv
    function uv --description 'uv, then a hint from uv-drive-guard when it fails on a drive'
        __uvdg_uv $argv
    end
end
"""


def pcre_literal(text: str) -> str:
    """A PCRE2 pattern matching `text` literally: a backslash before any ASCII punctuation is
    always a literal in PCRE2, and letters, digits and non-ASCII stand for themselves."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


def _fish_prefix(root: str) -> str:
    return f'string match -q -r -- {quote_fish("^" + pcre_literal(_with_sep(root, "/")))} "$PWD/"'


def render_fish(path: str, found: Iterable[Entry], hint: Iterable[HintLine] | None = None, drives: bool = True) -> str:
    """fish: `string match -r` (a builtin, no command substitution) on a literal pattern; its
    `case` would read `*` and `?` in a path as wildcards. `hint` and `drives` as for render_posix."""
    tests = ""
    by_drive: dict[str, list[Entry]] = {}
    for e in found:
        by_drive.setdefault(e.mount, []).append(e)
    for mount in sorted(by_drive, key=len, reverse=True):  # outside every drive: one test each
        tests += f"    if {_fish_prefix(mount)}\n"
        for e in by_drive[mount]:
            tests += f"        if {_fish_prefix(e.root)}\n"
            tests += f"            set -g __uvdg_want {quote_fish(e.environment)}\n            return 0\n        end\n"
        tests += "    end\n"
    body = (
        NOTE
        + f"set -g __uvdg_portable_file {quote_fish(path)}\n"
        + "set -g __uvdg_portable_loaded @LOADED@\n"
        + "function __uvdg_portable_match\n    set -g __uvdg_want ''\n"
        + tests
        + "end\n"
        + FISH_HOOK.replace("@EVENTS@", FISH_EVENTS if drives else "")
        + ("__uvdg_portable_hook\n" if drives else "")
        + _fish_hint_say(hint)
        + (FISH_UV if hint is not None else "")
    )
    return _finish(body)


def _fish_there(line: HintLine) -> str:
    return f"test -d {quote_fish(line.mount)}; and test -d {quote_fish(line.witness)}"


def _fish_hint_say(hint: Iterable[HintLine] | None) -> str:
    lines = list(hint or ())
    body = "    set -g __uvdg_hint ''\n"
    keyword = "if"
    for line in (x for x in lines if not x.everywhere):  # longest mount point first
        body += f"    {keyword} {_fish_prefix(line.mount)}\n"
        body += f"        if {_fish_there(line)}\n            set -g __uvdg_hint {quote_fish(line.text)}\n        end\n"
        keyword = "else if"
    body += "    end\n" if keyword != "if" else ""
    for line in (x for x in lines if x.everywhere):
        var, pattern = line.variable, quote_fish("^" + pcre_literal(_with_sep(line.mount, "/")))
        points = f'string match -q -r -- {pattern} "${var}/"'
        test = points if line.from_variable else f"not set -q {var}; or {points}"
        body += f'    if test -z "$__uvdg_hint"; and {_fish_there(line)}; and {test}\n'
        body += f"        set -g __uvdg_hint {quote_fish(line.text)}\n"
        if line.flags:
            cases = " ".join(
                quote_fish(f) + (" " + quote_fish(f + "=*") if f.startswith("--") else "") for f in line.flags
            )
            body += f"        for a in $argv\n            switch $a\n                case {cases}\n"
            body += "                    set -g __uvdg_hint ''\n            end\n        end\n"
        body += "    end\n"
    body += "    if test -n \"$__uvdg_hint\"\n        printf '%s\\n' $__uvdg_hint >&2\n    end\n"
    return "function __uvdg_hint_say\n" + (body if lines else "") + "end\n"


PS_HOOK = r"""function global:__uvdg_portable_hook {
    $want = ''
    if (Test-Path -LiteralPath $global:__uvdg_portable_file) {
        $reader = [System.IO.File]::OpenText($global:__uvdg_portable_file)
        try { $line = $reader.ReadLine() } finally { $reader.Dispose() }
        if ($line -ne $global:__uvdg_portable_loaded) { . $global:__uvdg_portable_file }
        $want = __uvdg_portable_match
    }
    if ($null -ne $global:__uvdg_set -and $env:UV_PROJECT_ENVIRONMENT -ne $global:__uvdg_set) {
        $global:__uvdg_set = $null
    }
    if ($null -eq $global:__uvdg_set -and $null -ne $env:UV_PROJECT_ENVIRONMENT) { return }
    if ($want) {
        $env:UV_PROJECT_ENVIRONMENT = $want
        $global:__uvdg_set = $want
    } elseif ($null -ne $global:__uvdg_set) {
        Remove-Item -LiteralPath Env:UV_PROJECT_ENVIRONMENT -ErrorAction SilentlyContinue
        $global:__uvdg_set = $null
    }
}
"""
PS_PROMPT = r"""if (-not $global:__uvdg_prompt) {
    $global:__uvdg_prompt = $function:prompt
    function global:prompt { __uvdg_portable_hook; & $global:__uvdg_prompt }
}
__uvdg_portable_hook
"""

# With the hint on: a `uv` function, unless the person has one (a function or an alias), that runs
# the application uv (never itself) and says the line after a failure. $LASTEXITCODE stays uv's;
# `finally` says it also when the failure is raised as an error ($PSNativeCommandUseErrorActionPreference).
PS_UV = r"""function global:__uvdg_uv {
    $uv = $ExecutionContext.InvokeCommand.GetCommand('uv', [System.Management.Automation.CommandTypes]::Application)
    if ($null -eq $uv) {
        Write-Error -Message 'uv is not installed where PowerShell looks for programs (PATH)' -Category ObjectNotFound
        return
    }
    try {
        & $uv @args
    } finally {
        if ($LASTEXITCODE -ne 0) { __uvdg_uv_failed @args }
    }
}
function global:__uvdg_uv_failed {
    if (Test-Path -LiteralPath $global:__uvdg_portable_file) {
        $reader = [System.IO.File]::OpenText($global:__uvdg_portable_file)
        try { $line = $reader.ReadLine() } finally { $reader.Dispose() }
        if ($line -ne $global:__uvdg_portable_loaded) { . $global:__uvdg_portable_file }
        __uvdg_hint_say @args
    }
}
if (-not (Test-Path -LiteralPath Function:\uv) -and -not (Test-Path -LiteralPath Alias:\uv)) {
    function global:uv { __uvdg_uv @args }
}
"""


def render_powershell(
    path: str, found: Iterable[Entry], hint: Iterable[HintLine] | None = None, drives: bool = True
) -> str:
    """PowerShell ($PROFILE): the prompt function wrapped; paths compared without case, as Windows
    does. `hint` and `drives` as for render_posix."""
    tests = "".join(
        f"    if ($here.StartsWith({quote_powershell(_with_sep(e.root, chr(92)))}, "
        f"[System.StringComparison]::OrdinalIgnoreCase)) {{ return {quote_powershell(e.environment)} }}\n"
        for e in found
    )
    body = (
        NOTE
        + f"$global:__uvdg_portable_file = {quote_powershell(path)}\n"
        + "$global:__uvdg_portable_loaded = @LOADED@\n"
        + "function global:__uvdg_portable_match {\n"
        + "    $here = $PWD.ProviderPath.TrimEnd('\\') + '\\'\n"
        + tests
        + "    return ''\n}\n"
        + PS_HOOK
        + (PS_PROMPT if drives else "")
        + _ps_hint_say(hint)
        + (PS_UV if hint is not None else "")
    )
    return _finish(body)


def _ps_under(path: str, subject: str) -> str:
    prefix = quote_powershell(_with_sep(path, chr(92)))
    return f"{subject}.StartsWith({prefix}, [System.StringComparison]::OrdinalIgnoreCase)"


def _ps_there(line: HintLine) -> str:
    exists = "[System.IO.Directory]::Exists"
    return f"{exists}({quote_powershell(line.mount)}) -and {exists}({quote_powershell(line.witness)})"


def _ps_hint_say(hint: Iterable[HintLine] | None) -> str:
    lines = list(hint or ())
    body = "    $line = ''\n    $here = $PWD.ProviderPath.TrimEnd('\\') + '\\'\n"
    keyword = "if"
    for line in (x for x in lines if not x.everywhere):
        body += f"    {keyword} ({_ps_under(line.mount, '$here')}) {{\n"
        body += f"        if ({_ps_there(line)}) {{ $line = {quote_powershell(line.text)} }}\n    }}"
        keyword = " elseif"
    body += "\n" if keyword != "if" else ""
    for line in (x for x in lines if x.everywhere):
        var = f"$env:{line.variable}"
        points = f"(({var}).TrimEnd('\\', '/') + '\\').Replace('/', '\\')"
        test = f"{var} -and {_ps_under(line.mount, '(' + points + ')')}"
        test = test if line.from_variable else f"-not {var} -or ({test})"
        body += f"    if (-not $line -and {_ps_there(line)} -and ({test})) {{\n"
        body += f"        $line = {quote_powershell(line.text)}\n"
        for flag in line.flags:
            same = f"$a -like {quote_powershell(flag + '=*')} -or " if flag.startswith("--") else ""
            body += f"        foreach ($a in $args) {{ if ({same}$a -eq {quote_powershell(flag)}) {{ $line = '' }} }}\n"
        body += "    }\n"
    body += "    if ($line) { [Console]::Error.WriteLine($line) }\n"
    return "function global:__uvdg_hint_say {\n" + (body if lines else "") + "}\n"


def rc_line(shell: str, generated: str) -> str:
    """The one line a startup file gets: read the generated file if it is there."""
    if shell == "fish":
        return f"test -r {quote_fish(generated)}; and source {quote_fish(generated)}  {MARK}"
    if shell == "powershell":
        quoted = quote_powershell(generated)
        return f"if (Test-Path -LiteralPath {quoted}) {{ . {quoted} }}  {MARK}"
    quoted = quote_posix(generated)
    return f"if [ -r {quoted} ]; then . {quoted}; fi  {MARK}"
