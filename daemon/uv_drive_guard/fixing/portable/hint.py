"""The `uv` function the shell integration defines, and the hint it says after uv fails on a drive.

Pure text, beside shell.py (which puts it into each generated file). The function runs the
real uv and passes its output and status through; only when uv failed does it re-read the file
(if it changed) and say the line that holds for $PWD, matched with builtins: `case` and `[` in
bash and zsh, `string` and `test` in fish, operators and .NET in PowerShell. No process starts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...core.model import HintLine
from ...core.shelllex import is_name
from .shellcode import (
    Skipped,
    Unquotable,
    check_path,
    fish_prefix,
    pcre_literal,
    quote_fish,
    quote_posix,
    quote_powershell,
    with_sep,
)


def hint_entries(lines: Iterable[HintLine]) -> tuple[tuple[HintLine, ...], tuple[Skipped, ...]]:
    """The hint's lines that every shell can be given literally; a drive's label or mount point
    that no quoting makes safe (a newline, a control character) leaves its line out."""
    said: list[HintLine] = []
    unsaid: list[Skipped] = []
    for line in lines:
        try:
            for value in (line.text, line.mount, line.witness):
                check_path(value)
            _check_words(line)
        except Unquotable as exc:
            unsaid.append(Skipped(line.mount, str(exc)))
            continue
        said.append(line)
    return tuple(said), tuple(unsaid)


_FLAG = re.compile(r"-{1,2}[a-z][a-z-]*")


def _check_words(line: HintLine) -> None:
    """The variable's name and the options are written unquoted (`${UV_CACHE_DIR-}`): they come
    from the product's own tables, but the registry is a file a person can edit."""
    if line.variable and not is_name(line.variable):
        raise Unquotable(f"{line.variable!r} is not a variable name")
    if not all(_FLAG.fullmatch(flag) for flag in line.flags):
        raise Unquotable(f"{line.flags!r} are not all options")


# --- bash and zsh ---------------------------------------------------------------------------

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


def posix_uv(hint: bool, drives: bool) -> str:
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


def posix_say(hint: Iterable[HintLine] | None) -> str:
    """The line for $PWD after uv failed: a drive's (longest mount point first), else one about
    a uv directory on a drive; each only while its drive is still there. Builtins only."""
    lines = list(hint or ())
    drives = "".join(
        f"    {quote_posix(with_sep(line.mount, '/'))}*)\n"
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
    pattern = quote_posix(with_sep(line.mount, "/"))
    points = f'case "${{{var}-}}/" in {pattern}*) __uvdg_hint={text} ;; esac'
    test = points if line.from_variable else f'if [ -z "${{{var}+x}}" ]; then __uvdg_hint={text}; else {points}; fi'
    out = f'  if [ -z "$__uvdg_hint" ] && {_posix_there(line)}; then\n    {test}\n'
    if line.flags:
        flags = "|".join(
            quote_posix(f) + ("|" + quote_posix(f + "=") + "*" if f.startswith("--") else "") for f in line.flags
        )
        out += f'    for __uvdg_arg in "$@"; do case $__uvdg_arg in {flags}) __uvdg_hint= ;; esac; done\n'
    return out + "  fi\n"


# --- fish ---------------------------------------------------------------------------------------

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


def _fish_there(line: HintLine) -> str:
    return f"test -d {quote_fish(line.mount)}; and test -d {quote_fish(line.witness)}"


def fish_say(hint: Iterable[HintLine] | None) -> str:
    lines = list(hint or ())
    body = "    set -g __uvdg_hint ''\n"
    keyword = "if"
    for line in (x for x in lines if not x.everywhere):  # longest mount point first
        body += f"    {keyword} {fish_prefix(line.mount)}\n"
        body += f"        if {_fish_there(line)}\n            set -g __uvdg_hint {quote_fish(line.text)}\n        end\n"
        keyword = "else if"
    body += "    end\n" if keyword != "if" else ""
    for line in (x for x in lines if x.everywhere):
        var, pattern = line.variable, quote_fish("^" + pcre_literal(with_sep(line.mount, "/")))
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


# --- PowerShell ---------------------------------------------------------------------------------

# With the hint on: a `uv` function, unless the person has one (a function or an alias), that runs
# the application uv (never itself) and says the line after a failure. $LASTEXITCODE stays uv's;
# `finally` says it also when the failure is raised as an error ($PSNativeCommandUseErrorActionPreference).
# What is piped into `uv` goes on to uv ($input), and only then: uv keeps the console otherwise.
PS_UV = r"""function global:__uvdg_uv {
    $uv = $ExecutionContext.InvokeCommand.GetCommand('uv', [System.Management.Automation.CommandTypes]::Application)
    if ($null -eq $uv) {
        Write-Error -Message 'uv is not installed where PowerShell looks for programs (PATH)' -Category ObjectNotFound
        return
    }
    try {
        if ($MyInvocation.ExpectingInput) { $input | & $uv @args } else { & $uv @args }
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
    function global:uv {
        if ($MyInvocation.ExpectingInput) { $input | __uvdg_uv @args } else { __uvdg_uv @args }
    }
}
"""


def ps_prefix(path: str, subject: str) -> str:
    prefix = quote_powershell(with_sep(path, chr(92)))
    return f"{subject}.StartsWith({prefix}, [System.StringComparison]::OrdinalIgnoreCase)"


def _ps_there(line: HintLine) -> str:
    exists = "[System.IO.Directory]::Exists"
    return f"{exists}({quote_powershell(line.mount)}) -and {exists}({quote_powershell(line.witness)})"


def ps_say(hint: Iterable[HintLine] | None) -> str:
    lines = list(hint or ())
    body = "    $line = ''\n    $here = $PWD.ProviderPath.TrimEnd('\\') + '\\'\n"
    keyword = "if"
    for line in (x for x in lines if not x.everywhere):
        body += f"    {keyword} ({ps_prefix(line.mount, '$here')}) {{\n"
        body += f"        if ({_ps_there(line)}) {{ $line = {quote_powershell(line.text)} }}\n    }}"
        keyword = " elseif"
    body += "\n" if keyword != "if" else ""
    for line in (x for x in lines if x.everywhere):
        var = f"$env:{line.variable}"
        points = f"(({var}).TrimEnd('\\', '/') + '\\').Replace('/', '\\')"
        test = f"{var} -and {ps_prefix(line.mount, '(' + points + ')')}"
        test = test if line.from_variable else f"-not {var} -or ({test})"
        body += f"    if (-not $line -and {_ps_there(line)} -and ({test})) {{\n"
        body += f"        $line = {quote_powershell(line.text)}\n"
        for flag in line.flags:
            same = f"$a -like {quote_powershell(flag + '=*')} -or " if flag.startswith("--") else ""
            body += f"        foreach ($a in $args) {{ if ({same}$a -eq {quote_powershell(flag)}) {{ $line = '' }} }}\n"
        body += "    }\n"
    body += "    if ($line) { [Console]::Error.WriteLine($line) }\n"
    return "function global:__uvdg_hint_say {\n" + (body if lines else "") + "}\n"
